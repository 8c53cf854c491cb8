/* lexicon.c — the English keyword table; see lexicon.h.
 *
 * Written by hand: these are the cue words of news syntax (titles, roles,
 * casualty verbs, attribution verbs, time words), not data any package has.
 */
#include "lexicon.h"

#include <pthread.h>
#include <string.h>

#include "lexer.h"

typedef struct {
    const char *words; /* space-separated */
    uint32_t cls;
    int32_t value;     /* -1: the position in the list, from 1 */
} s_group;

static const s_group s_groups[] = {
    {"january february march april may june july august september october november december", K_MONTH, -1},
    {"jan feb mar apr jun jul aug sep sept oct nov dec", K_MONTH | K_ABBREV, 0},
    {"monday tuesday wednesday thursday friday saturday sunday", K_WDAY, -1},
    {"zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
     "fifteen sixteen seventeen eighteen nineteen twenty", K_NUMW, -2},
    {"thirty", K_NUMW, 30}, {"forty", K_NUMW, 40}, {"fifty", K_NUMW, 50}, {"sixty", K_NUMW, 60},
    {"seventy", K_NUMW, 70}, {"eighty", K_NUMW, 80}, {"ninety", K_NUMW, 90},
    {"a an", K_NUMW | K_STOP, 1}, {"single lone", K_NUMW, 1},
    {"dozen dozens", K_SCALE, 12}, {"hundred hundreds", K_SCALE, 100},
    {"thousand thousands", K_SCALE, 1000}, {"million millions", K_SCALE, 1000000},
    {"score scores", K_SCALE, 20},
    {"president pres prime premier chancellor king queen prince princess sheikh emir "
     "general gen lieutenant lt colonel col major maj captain capt sergeant sgt admiral adm "
     "commander cmdr governor gov senator sen representative rep congressman congresswoman "
     "judge justice mayor ayatollah pope cardinal bishop archbishop rev reverend dr doctor "
     "professor prof secretary minister deputy vice chief ambassador envoy speaker "
     "spokesman spokeswoman spokesperson chairman chairwoman chair director officer lord "
     "lady sir dame imam rabbi father sister brother marshal inspector superintendent "
     "coach striker midfielder defender goalkeeper ceo founder candidate leader mr mrs ms "
     "foreign defence defense interior finance state", K_TITLE, 0},
    {"mr mrs ms mme dr sen rep gen col lt maj capt sgt adm gov prof rev st jr sr no vs "
     "etc inc corp ltd co mt ft supt cmdr pres approx dept est fig gov't u.s a.m p.m",
     K_ABBREV, 0},
    {"mr mrs ms mme miss", K_BEFORE_NAME, 0},
    {"spokesman spokeswoman spokesperson minister secretary president chairman chairwoman "
     "official officials envoy ambassador commander chief leader premier governor mayor "
     "director adviser advisor aide lawyer attorney correspondent analyst expert "
     "prosecutor judge head lawmaker legislator activist politician businessman "
     "businesswoman actor actress singer player coach author writer journalist reporter "
     "founder executive chairperson candidate campaigner economist scientist researcher "
     "professor lecturer owner manager captain striker quarterback colleague wife husband "
     "son daughter mother father brother sister teammate rival", K_ROLE, 0},
    {"ministry ministries council union agency agencies committee commission department "
     "office party parliament assembly congress senate court bank corporation corp company "
     "inc ltd group association organisation organization institute university college "
     "foundation fund forces army navy police guard service services federation league "
     "alliance coalition front movement authority authorities government administration "
     "board bureau network news times post press television tv radio airlines airways "
     "club team church hospital school cabinet kremlin pentagon secretariat tribunal "
     "command brigade battalion regiment division corps society centre center trust "
     "reuters afp nato embassy consulate mission", K_ORGSUF, 0},
    {"ministry council union agency committee commission department office party parliament "
     "assembly court bank forces army navy police guard service federation league alliance "
     "front movement authority government board bureau nations republic cabinet", K_ORGWORD, 0},
    {"village town city province district region county state capital settlement area "
     "suburb neighbourhood neighborhood valley river mountain mountains lake sea island "
     "islands border frontier corridor enclave territory oblast governorate prefecture "
     "municipality commune canton department peninsula desert port airport camp", K_PLACECUE, 0},
    {"corridor region province district valley river gorge pass enclave oblast governorate "
     "prefecture county peninsula", K_GEONOUN, 0},
    {"said says say told tells stated reported announced announces claimed "
     "added adds confirmed confirms insisted insists alleged alleges noted "
     "wrote writes tweeted declared declares warned warns explained explains according "
     "estimated estimates accused denied denies", K_SAY, 0},
    {"killed killing slain", K_CASUALTY, CK_KILLED},
    {"wounded", K_CASUALTY, CK_WOUNDED},
    {"injured injuries hurt", K_CASUALTY, CK_INJURED},
    {"dead died die dies deaths death lives lost", K_CASUALTY, CK_DEAD},
    {"missing", K_CASUALTY, CK_MISSING},
    {"detained detention", K_CASUALTY, CK_DETAINED},
    {"arrested arrests", K_CASUALTY, CK_ARRESTED},
    {"captured abducted kidnapped", K_CASUALTY, CK_CAPTURED},
    {"freed", K_CASUALTY, CK_FREED},
    {"released", K_CASUALTY, CK_RELEASED},
    {"displaced", K_CASUALTY, CK_DISPLACED},
    {"evacuated", K_CASUALTY, CK_EVACUATED},
    {"lives deaths casualties toll fatalities victims", K_DEATHNOUN, 0},
    {"soldier soldiers troops troop servicemen serviceman servicemembers civilians civilian "
     "people persons person men women children child kids residents villagers workers "
     "police policemen officers officer fighters militants rebels protesters demonstrators "
     "migrants refugees journalists prisoners hostages passengers students members "
     "citizens nationals others guards personnel staff employees miners crew sailors "
     "pilots patients victims individuals suspects those inhabitants family families "
     "farmers tourists pilgrims doctors nurses boys girls adults infants babies man woman "
     "boy girl baby teenager teenagers youths youth hikers climbers fishermen sailor "
     "soldier's marines marine peacekeepers peacekeeper contractors volunteers",
     K_HUMAN, 0},
    {"officials official sources military army side government ministry spokesman defence "
     "defense foreign state media police authorities witnesses residents activists medics "
     "rescuers doctors monitor group observers the its his her their in of for local senior "
     "top", K_NPHEAD, 0},
    {"will scheduled planning plans planned next upcoming due expected intention intends "
     "ahead would shall", K_FUTURE, 0},
    {"yesterday today tonight tomorrow last next ago earlier later prior previous "
     "before after this overnight", K_REL, 0},
    {"the a an and or but if in on at of to for by with from as is was are were be been "
     "it its this that these those he she they we i you his her their our my your him "
     "them us me who which what when where why how there here then than so not no nor "
     "also all any both each few more most other some such only own same too very can "
     "will just should now do does did has have had having into over under after before "
     "about against between through during without within while until up down out off "
     "again further once because however meanwhile although though yet still even "
     "according despite amid since following while whereas", K_STOP, 0},
    {"but and meanwhile however although though despite after before during since "
     "according while when where as if in on at for with from by to of the a an this "
     "these those that there here it its his her their our we they he she i you "
     "both all some many several other others one two three four five six seven eight "
     "nine ten last next first new latest earlier later previous yesterday today "
     "thursday's friday's also more most such no not only just even still yet so then "
     "thus hence instead indeed moreover furthermore besides overall elsewhere "
     "separately addressing asked speaking writing citing quoting following amid "
     "under over among between through without within against toward towards "
     "what which who whom whose why how where ethnic tensions hostilities fighting "
     "clashes talks officials sources witnesses residents police troops soldiers "
     "authorities experts analysts critics supporters opponents protesters reports "
     "earlier", K_COMMON, 0},
};

#define LEX_SLOTS 4096u

typedef struct {
    uint64_t h;
    uint32_t cls;
    int32_t value;
} s_slot;

static s_slot s_table[LEX_SLOTS];
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_put(uint64_t h, uint32_t cls, int32_t value)
{
    for (uint32_t i = (uint32_t)h & (LEX_SLOTS - 1), k = 0; k < LEX_SLOTS;
         i = (i + 1) & (LEX_SLOTS - 1), k++) {
        s_slot *s = &s_table[i];
        if (s->cls == 0 || s->h == h) {
            /* a word in several groups: classes add up; the first value set
             * (other than 0) stays */
            if (s->cls == 0 || s->value == 0)
                s->value = value;
            s->h = h;
            s->cls |= cls;
            return;
        }
    }
}

static void s_build(void)
{
    for (size_t g = 0; g < sizeof s_groups / sizeof s_groups[0]; g++) {
        const char *p = s_groups[g].words;
        int32_t pos = 0;
        while (*p) {
            while (*p == ' ')
                p++;
            const char *e = p;
            while (*e && *e != ' ')
                e++;
            if (e == p)
                break;
            pos++;
            int32_t v = s_groups[g].value;
            if (v == -1)
                v = pos;
            else if (v == -2)
                v = pos - 1;
            if (s_groups[g].cls == (K_MONTH | K_ABBREV)) {
                static const int32_t m[] = {1, 2, 3, 4, 6, 7, 8, 9, 9, 10, 11, 12};
                v = m[pos - 1];
            }
            s_put(td_lex_hash(p, (size_t)(e - p)), s_groups[g].cls, v);
            p = e;
        }
    }
}

uint32_t td_lex_lookup(uint64_t h, int32_t *value)
{
    pthread_once(&s_once, s_build);
    for (uint32_t i = (uint32_t)h & (LEX_SLOTS - 1), k = 0; k < LEX_SLOTS;
         i = (i + 1) & (LEX_SLOTS - 1), k++) {
        const s_slot *s = &s_table[i];
        if (s->cls == 0)
            break;
        if (s->h == h) {
            if (value)
                *value = s->value;
            return s->cls;
        }
    }
    if (value)
        *value = 0;
    return 0;
}

const char *td_lex_kind_name(int kind)
{
    static const char *const names[CK_COUNT] = {
        "other", "killed", "wounded", "injured", "dead", "missing", "detained",
        "arrested", "captured", "freed", "released", "displaced", "evacuated"};
    return kind > 0 && kind < CK_COUNT ? names[kind] : "other";
}
