/* lang.c — language identification and stop words; see lang.h.
 *
 * Stop-word lists are written here (no Debian package ships lists for all the
 * Snowball languages in a form we can read at run time). They serve two
 * purposes: the stop flag of tokens, and identification (a text's language is
 * the one whose stop words it uses most), so they favour the words that are
 * both frequent and distinctive.
 */
#include "lang.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <xxhash.h>

#include "normalize.h"

typedef struct {
    const char *code;
    const char *stemmer;
    const char *stops; /* space-separated, case-folded */
} s_lang_info;

static const s_lang_info s_langs[TD_LANG_COUNT] = {
    [TD_LANG_EN] = {"en", "english",
        "a about above after again against all also am an and any are aren't as at be because been "
        "before being below between both but by can can't cannot could couldn't did didn't do does "
        "doesn't doing don't down during each few for from further had hadn't has hasn't have "
        "haven't having he he'd he'll he's her here here's hers herself him himself his how how's i "
        "i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my "
        "myself no nor not of off on once only or other ought our ours ourselves out over own same "
        "shan't she she'd she'll she's should shouldn't so some such than that that's the their "
        "theirs them themselves then there there's these they they'd they'll they're they've this "
        "those through to too under until up very was wasn't we we'd we'll we're we've were weren't "
        "what what's when when's where where's which while who who's whom why why's with won't "
        "would wouldn't you you'd you'll you're you've your yours yourself yourselves will said "
        "says just may might must shall since upon yet within without whether however although "
        "though also still even"},
    [TD_LANG_FR] = {"fr", "french",
        "au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me "
        "même mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te "
        "tes toi ton tu un une vos votre vous c d j l à m n s t y été étée étaient était étant "
        "est sont ont avait avaient cette cet aussi comme plus selon après depuis entre sans sous "
        "très été être avoir fait peut où lors dont ainsi"},
    [TD_LANG_DE] = {"de", "german",
        "aber alle allem allen aller alles als also am an ander andere anderem anderen anderer "
        "auch auf aus bei bin bis bist da damit dann das dass daß dein dem den der des dessen "
        "dich die dies diese diesem diesen dieser dieses doch dort du durch ein eine einem einen "
        "einer eines er es etwas euer für gegen gewesen hab habe haben hat hatte hatten hier "
        "hin hinter ich ihm ihn ihr ihre ihrem ihren ihrer im in indem ins ist jede jedem jeden "
        "jeder jedes jetzt kann kein keine können machen man mein mich mit muss nach nicht nichts "
        "noch nun nur ob oder ohne sehr sein seine seinem seinen seiner sich sie sind so soll "
        "sollte sondern über um und uns unser unter viel vom von vor war waren was weil welche "
        "wenn werden wie wieder will wir wird wo wollen würde zu zum zur zwar zwischen wurde "
        "wurden sei seit laut bereits mehr"},
    [TD_LANG_ES] = {"es", "spanish",
        "a al algo algunas algunos ante antes como con contra cual cuando de del desde donde "
        "durante e el ella ellas ellos en entre era es esa esas ese eso esos esta estaba están "
        "este esto estos fue fueron ha han hasta hay la las le les lo los más me mi muy nada ni "
        "no nos o otra otro para pero poco por porque que quien se sea ser si sido sin sobre "
        "son su sus también tanto te tiene tienen todo todos tras tu un una uno unos y ya según "
        "además dijo este esta así cuando"},
    [TD_LANG_IT] = {"it", "italian",
        "a ad al alla alle allo agli ai anche che chi ci come con da dal dalla dalle dei del "
        "della delle dello degli di e è ed era erano gli ha hanno i il in la le lo loro ma mi "
        "nei nel nella nelle nello negli non o per più quale quando questa questo quello quella "
        "se si sia sono su sua sue suo suoi sul sulla tra un una uno anche stato stata essere "
        "dopo ancora come secondo perché già dove"},
    [TD_LANG_PT] = {"pt", "portuguese",
        "a ao aos as às com como da das de do dos e é ela ele eles em entre era está foi foram "
        "há isso isto já mais mas me muito na nas não no nos o os ou para pela pelas pelo pelos "
        "por qual quando que se sem ser seu seus sua suas também tem um uma umas uns você são "
        "após segundo ainda estão"},
    [TD_LANG_NL] = {"nl", "dutch",
        "aan al alles als bij dan dat de der deze die dit doch door dus een en er ge geen haar "
        "had heb hebben heeft hem het hier hij hoe hun ik in is je kan kon maar me men met mij "
        "mijn na naar niet niets nog nu of om omdat ons ook op over reeds te tegen toch toen "
        "tot u uit uw van veel voor want waren was wat werd wezen wie wij wil worden zal ze zei "
        "zelf zich zij zijn zo zonder zou"},
    [TD_LANG_SV] = {"sv", "swedish",
        "och det att i en jag hon som han på den med var sig för så till är men ett om hade de "
        "av icke mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid "
        "kunde något från ut när efter upp vi dem vara vad över än dig kan sina här ha mot alla "
        "under någon eller allt mycket sedan ju denna själv detta åt utan varit hur ingen mitt"},
    [TD_LANG_DA] = {"da", "danish",
        "og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har "
        "om vi min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal "
        "selv her alle vil blev kunne ind når være dog noget ville jo deres efter ned skulle "
        "denne end dette mit også under have dig anden hende mine alt meget sit sine vor mod"},
    [TD_LANG_NO] = {"no", "norwegian",
        "og i jeg det at en et den til er som på de med han av ikke ikkje der så var meg seg men "
        "ett har om vi min mitt ha hadde hun nå over da ved fra du ut sin dem oss opp man kan "
        "hans hvor eller hva skal selv sjøl her alle vil bli ble blei blitt kunne inn når være "
        "kom noen noe ville dere deres kun ja etter ned skulle denne for deg si sine sitt mot å"},
    [TD_LANG_FI] = {"fi", "finnish",
        "olla olen olet on olemme olette ovat ole oli olisi olisit ollut olleet en et ei emme "
        "ette eivät minä sinä hän me te he tämä tuo se nämä nuo ne kuka mikä joka jotka mitä "
        "että ja jos koska kuin mutta niin sekä sillä tai vaan vai vaikka kanssa mukaan noin "
        "poikki yli kun niin nyt itse myös vielä sitten"},
    [TD_LANG_HU] = {"hu", "hungarian",
        "a az egy be ki le fel meg el át rá ide oda szét és hogy is nem de ha mert vagy mint "
        "már csak még most pedig volt van lesz lett lehet kell azt ezt ez az aki ami amely "
        "amelyek akik ahol amikor után alatt között szerint miatt nagyon sem mind minden"},
    [TD_LANG_RO] = {"ro", "romanian",
        "a acea aceasta această aceea acei aceia acel acela acele acelea acest acesta aceste "
        "acestea acestei acestor al ale am ar are au avea aveau cu ca care ce cel cea cei cele "
        "de din dintre după este era fi fie fost în la le lor mai nu o pe pentru prin sa să se "
        "si și sunt sau un una unei unui iar ori până spre fără despre"},
    [TD_LANG_RU] = {"ru", "russian",
        "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только "
        "ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже "
        "или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может "
        "они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже "
        "себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один "
        "почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об "
        "другой хоть после над больше тот через эти нас про всего них какая много разве три "
        "эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более "
        "всегда конечно всю между также которые который которая это"},
    [TD_LANG_TR] = {"tr", "turkish",
        "acaba ama aslında az bazı belki biri birkaç birşey biz bu çok çünkü da daha de defa "
        "diye eğer en gibi hem hep hepsi her hiç için ile ise kez ki kim mı mu mü nasıl ne neden "
        "nerde nerede nereye niçin niye o sanki şey siz şu tüm ve veya ya yani olan olarak "
        "olduğu bir ancak sonra kadar göre ayrıca"},
    [TD_LANG_AR] = {"ar", "arabic",
        "في من على إلى عن مع هذا هذه ذلك التي الذي الذين كان كانت أن إن لا ما لم لن قد و أو ثم "
        "بين عند كل بعد قبل حتى هو هي هم نحن أنا أنت كما أيضا وقد وفي ومن وأن الى"},
    [TD_LANG_EL] = {"el", "greek",
        "ο η το οι τα του της των τον την και κι κ ει είναι να θα με σε σε από για προς στο στη "
        "στον στην στα στους στις αλλά ή δεν μη μην που ότι πως ως επί όπως αυτό αυτή αυτός"},
    [TD_LANG_CA] = {"ca", "catalan",
        "a al als amb aquest aquesta aquests aquestes com de del dels el els en ens entre és "
        "era eren fins ha han hi i la les li lo no o per perquè però que qui se ser seu seus "
        "seva seves si sobre són també un una uns unes va van ja"},
    [TD_LANG_EU] = {"eu", "basque",
        "eta da ez du dira bat baina ere edo baino bere beste beren dute zen ziren hau hori "
        "hura honek horiek zuen dago daude izan egin behar arte gabe"},
    [TD_LANG_GA] = {"ga", "irish",
        "agus an ar ba bhí is go i le na ní ó sa seo sin atá don faoi chun mar aon nó ach gur"},
    [TD_LANG_ID] = {"id", "indonesian",
        "yang dan di ke dari ini itu dengan untuk pada adalah dalam tidak akan juga oleh atau "
        "karena sudah telah bisa ada kami kita mereka saat bahwa seperti lebih sebagai"},
    [TD_LANG_LT] = {"lt", "lithuanian",
        "ir bei kad o bet ar su iš į į ant per po prie nuo apie už yra buvo bus tai jis ji jie "
        "jos kaip kuris kuri kurie taip dar jau tik"},
    [TD_LANG_SR] = {"sr", "serbian",
        "и у је да се на за са од не то као из али по шта који која које су био била још или "
        "i u je da se na za sa od ne to kao iz ali po šta koji koja koje su bio bila još ili"},
    [TD_LANG_HI] = {"hi", "hindi",
        "का की के है हैं में से को और पर यह वह था थी थे ने भी तो कि जो एक लिए किया गया कर"},
    [TD_LANG_NE] = {"ne", "nepali",
        "र छ छन को का की मा ले लाई पनि यो त्यो थियो भएको गरेको हुन्छ तथा भने गर्न"},
    [TD_LANG_TA] = {"ta", "tamil",
        "ஒரு மற்றும் இந்த அந்த என்று உள்ள இது அது என் நான் அவர் அவன் போது மேலும்"},
    [TD_LANG_HY] = {"hy", "armenian",
        "և է են որ այս այդ այն մի էր էին ու չի համար հետ մասին նաև բայց թե"},
    [TD_LANG_YI] = {"yi", "yiddish",
        "און איז דער די דאָס אַ אין אויף מיט פֿון צו נישט ניט ער זי מיר"},
    [TD_LANG_PL] = {"pl", NULL,
        "i w na z że się nie do to jest o jak ale co po za od przez przy jego jej ich był była "
        "było są być oraz także lub czy dla tym tego tak już który która które może tylko "
        "jeszcze bardzo gdy ze we pod nad według"},
    [TD_LANG_ZH] = {"zh", NULL, ""},
    [TD_LANG_JA] = {"ja", NULL, ""},
    [TD_LANG_KO] = {"ko", NULL, ""},
};

/* One table for all languages: folded word -> bit set of languages. Open
 * addressing over xxh3 hashes; the word bytes are kept to compare. */
#define STOP_SLOTS 8192u
#define STOP_WORD_MAX 40

typedef struct {
    uint64_t hash;
    uint64_t langs;
    char word[STOP_WORD_MAX];
} s_stop_slot;

static s_stop_slot s_stops[STOP_SLOTS];
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_add(const char *w, size_t n, td_lang lang)
{
    if (n == 0 || n >= STOP_WORD_MAX)
        return;
    uint64_t h = XXH3_64bits(w, n);
    for (uint32_t i = (uint32_t)h & (STOP_SLOTS - 1), k = 0; k < STOP_SLOTS;
         i = (i + 1) & (STOP_SLOTS - 1), k++) {
        s_stop_slot *s = &s_stops[i];
        if (s->langs == 0) {
            s->hash = h;
            memcpy(s->word, w, n);
            s->word[n] = '\0';
            s->langs = 1ull << lang;
            return;
        }
        if (s->hash == h && strncmp(s->word, w, n) == 0 && s->word[n] == '\0') {
            s->langs |= 1ull << lang;
            return;
        }
    }
}

static void s_build(void)
{
    for (int l = 0; l < TD_LANG_COUNT; l++) {
        const char *p = s_langs[l].stops;
        while (p && *p) {
            while (*p == ' ')
                p++;
            const char *e = p;
            while (*e && *e != ' ')
                e++;
            s_add(p, (size_t)(e - p), (td_lang)l);
            p = e;
        }
    }
}

static uint64_t s_lookup(const char *w, size_t n)
{
    if (n == 0 || n >= STOP_WORD_MAX)
        return 0;
    pthread_once(&s_once, s_build);
    uint64_t h = XXH3_64bits(w, n);
    for (uint32_t i = (uint32_t)h & (STOP_SLOTS - 1), k = 0; k < STOP_SLOTS;
         i = (i + 1) & (STOP_SLOTS - 1), k++) {
        const s_stop_slot *s = &s_stops[i];
        if (s->langs == 0)
            return 0;
        if (s->hash == h && strncmp(s->word, w, n) == 0 && s->word[n] == '\0')
            return s->langs;
    }
    return 0;
}

const char *td_lang_code(td_lang lang)
{
    if (lang < 0 || lang >= TD_LANG_COUNT)
        return "en";
    return s_langs[lang].code;
}

td_lang td_lang_parse(const char *code)
{
    if (!code || !code[0] || !code[1])
        return TD_LANG_NONE;
    char c[3] = {(char)(code[0] | 0x20), (char)(code[1] | 0x20), 0};
    if (code[2] && code[2] != '-' && code[2] != '_')
        return TD_LANG_NONE;
    if (strcmp(c, "nb") == 0 || strcmp(c, "nn") == 0)
        return TD_LANG_NO;
    for (int l = 0; l < TD_LANG_COUNT; l++)
        if (strcmp(s_langs[l].code, c) == 0)
            return (td_lang)l;
    return TD_LANG_NONE;
}

const char *td_lang_stemmer(td_lang lang)
{
    if (lang < 0 || lang >= TD_LANG_COUNT)
        return NULL;
    return s_langs[lang].stemmer;
}

bool td_lang_is_stop(td_lang lang, const char *word, size_t len)
{
    if (lang < 0 || lang >= TD_LANG_COUNT)
        return false;
    return (s_lookup(word, len) >> lang) & 1u;
}

/* Scripts that decide the language (or narrow it) on their own. */
enum { SC_LATIN, SC_CYR, SC_ARAB, SC_GREEK, SC_DEVA, SC_TAMIL, SC_ARMEN, SC_HEBR,
       SC_HAN, SC_KANA, SC_HANGUL, SC_COUNT };

static int s_script(int32_t cp)
{
    if (cp < 0x250)
        return SC_LATIN;
    if (cp >= 0x370 && cp < 0x400)
        return SC_GREEK;
    if (cp >= 0x400 && cp < 0x530)
        return SC_CYR;
    if (cp >= 0x530 && cp < 0x590)
        return SC_ARMEN;
    if (cp >= 0x590 && cp < 0x600)
        return SC_HEBR;
    if ((cp >= 0x600 && cp < 0x780) || (cp >= 0xFB50 && cp < 0xFF00))
        return SC_ARAB;
    if (cp >= 0x900 && cp < 0x980)
        return SC_DEVA;
    if (cp >= 0xB80 && cp < 0xC00)
        return SC_TAMIL;
    if ((cp >= 0x3040 && cp < 0x3100) || (cp >= 0x31F0 && cp < 0x3200))
        return SC_KANA;
    if ((cp >= 0x4E00 && cp < 0xA000) || (cp >= 0x3400 && cp < 0x4DC0))
        return SC_HAN;
    if (cp >= 0xAC00 && cp < 0xD7B0)
        return SC_HANGUL;
    return -1;
}

#define DETECT_BYTES 1536

/* Letters that only some Latin-script languages use: a little evidence per
 * occurrence, which settles short texts whose stop words are shared
 * ("que", "la", "se" in French and Spanish). */
static void s_letter_hint(int32_t cp, double *score)
{
    switch (cp) {
    case 0xE9: case 0xE8: case 0xEA: case 0xE0: case 0xE7: case 0xEE: case 0x153:
        score[TD_LANG_FR] += 0.3;
        break;
    case 0xF1: case 0xE1: case 0xED: case 0xF3: case 0xFA: case 0xBF: case 0xA1:
        score[TD_LANG_ES] += 0.3;
        break;
    case 0xE4: case 0xF6: case 0xFC: case 0xDF:
        score[TD_LANG_DE] += 0.3;
        break;
    case 0xE3: case 0xF5:
        score[TD_LANG_PT] += 0.4;
        break;
    case 0x105: case 0x119: case 0x142: case 0x17C: case 0x15B: case 0x107: case 0x144: case 0x17A:
        score[TD_LANG_PL] += 0.4;
        break;
    case 0x131: case 0x15F: case 0x11F:
        score[TD_LANG_TR] += 0.4;
        break;
    case 0x103: case 0x21B: case 0x219:
        score[TD_LANG_RO] += 0.4;
        break;
    case 0xE5: case 0xF8: case 0xE6:
        score[TD_LANG_SV] += 0.15;
        score[TD_LANG_DA] += 0.15;
        score[TD_LANG_NO] += 0.15;
        break;
    default:
        break;
    }
}

td_lang td_lang_detect(const char *text, size_t len)
{
    if (len > DETECT_BYTES)
        len = DETECT_BYTES;
    double score[TD_LANG_COUNT] = {0};
    unsigned scripts[SC_COUNT] = {0};
    char word[64];
    size_t i = 0;
    while (i < len) {
        /* one word: letters (and apostrophes inside) */
        size_t start = i, end = i;
        while (end < len) {
            int32_t cp;
            size_t k = td_utf8_next(text + end, len - end, &cp);
            int letter = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
                         (cp >= 0x80 && cp != 0xFFFD && !(cp >= 0x2000 && cp < 0x2070));
            if (cp == '\'' && end > start)
                letter = 1;
            if (!letter)
                break;
            int sc = cp >= 0x80 ? s_script(cp) : SC_LATIN;
            if (sc >= 0)
                scripts[sc]++;
            if (cp >= 0x80 && cp < 0x250)
                s_letter_hint(cp, score);
            end += k;
        }
        if (end == start) {
            int32_t cp;
            i += td_utf8_next(text + i, len - i, &cp);
            continue;
        }
        i = end;
        size_t n = td_normalize_fold(text + start, end - start, word, sizeof word);
        uint64_t langs = s_lookup(word, n);
        if (langs) {
            int pop = __builtin_popcountll(langs);
            for (int l = 0; l < TD_LANG_COUNT; l++)
                if ((langs >> l) & 1u)
                    score[l] += 1.0 / pop;
        }
    }
    unsigned total = 0;
    int top = SC_LATIN;
    for (int s = 0; s < SC_COUNT; s++) {
        total += scripts[s];
        if (scripts[s] > scripts[top])
            top = s;
    }
    if (total == 0)
        return TD_LANG_EN;
    if (scripts[SC_KANA] * 10 > total)
        return TD_LANG_JA;
    switch (top) {
    case SC_HAN: return TD_LANG_ZH;
    case SC_HANGUL: return TD_LANG_KO;
    case SC_ARAB: return TD_LANG_AR;
    case SC_GREEK: return TD_LANG_EL;
    case SC_TAMIL: return TD_LANG_TA;
    case SC_ARMEN: return TD_LANG_HY;
    case SC_HEBR: return TD_LANG_YI;
    case SC_DEVA: return score[TD_LANG_NE] > score[TD_LANG_HI] ? TD_LANG_NE : TD_LANG_HI;
    case SC_CYR: return score[TD_LANG_SR] > score[TD_LANG_RU] ? TD_LANG_SR : TD_LANG_RU;
    default: break;
    }
    /* Latin script: the best stop-word score among the Latin languages */
    static const td_lang latin[] = {
        TD_LANG_EN, TD_LANG_FR, TD_LANG_DE, TD_LANG_ES, TD_LANG_IT, TD_LANG_PT, TD_LANG_NL,
        TD_LANG_SV, TD_LANG_DA, TD_LANG_NO, TD_LANG_FI, TD_LANG_HU, TD_LANG_RO, TD_LANG_TR,
        TD_LANG_CA, TD_LANG_EU, TD_LANG_GA, TD_LANG_ID, TD_LANG_LT, TD_LANG_PL, TD_LANG_SR};
    td_lang best = TD_LANG_EN;
    double bs = score[TD_LANG_EN] * 1.05; /* ties go to English */
    for (size_t k = 1; k < sizeof latin / sizeof latin[0]; k++)
        if (score[latin[k]] > bs) {
            bs = score[latin[k]];
            best = latin[k];
        }
    return best;
}
