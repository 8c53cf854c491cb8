/* entities.c — named entities; see entities.h. */
#define _GNU_SOURCE
#include "entities.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lexicon.h"

#define SPAN_MAX 10          /* words in one candidate name */
#define MAX_MENTIONS 4096    /* mentions examined per text */
#define CAPSET_SLOTS 4096u   /* words seen capitalised inside sentences */

/* Evidence strengths: the strongest cue seen for a name decides its kind. */
enum { EV_NONE = 0, EV_WEAK = 2, EV_SAY = 4, EV_GAZ_PLACE = 5, EV_CUE = 6, EV_TITLE = 7,
       EV_COUNTRY = 9 };

typedef struct {
    uint64_t key;
    char *name;
    uint32_t name_len;
    uint32_t count;
    uint32_t first;     /* first word of the first mention: output order on ties */
    uint8_t kind;
    uint8_t ev;
    uint8_t nwords;
    bool dropped;
} s_ent;

typedef struct {
    const td_doc *d;
    const td_gazetteer *gz;
    td_lang lang;
    td_arena *arena;
    s_ent *ents;
    uint32_t n;
    uint32_t mentions;
    uint64_t *capset;   /* hashes of words capitalised inside a sentence */
    uint32_t capmask;   /* its slots - 1 (a power of two, <= CAPSET_SLOTS) */
    bool oom;
} s_ctx;

static uint32_t s_cls(const td_doc *d, uint32_t i)
{
    return i < d->nw ? d->w[i].cls : 0;
}

static bool s_capset_has(const s_ctx *c, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & c->capmask, k = 0; k <= c->capmask;
         i = (i + 1) & c->capmask, k++) {
        if (c->capset[i] == h)
            return true;
        if (c->capset[i] == 0)
            return false;
    }
    return false;
}

static void s_capset_add(s_ctx *c, uint64_t h, uint32_t *n)
{
    if (*n >= CAPSET_SLOTS / 2 || !h)
        return;
    for (uint32_t i = (uint32_t)h & c->capmask;; i = (i + 1) & c->capmask) {
        if (c->capset[i] == h)
            return;
        if (c->capset[i] == 0) {
            c->capset[i] = h;
            (*n)++;
            return;
        }
    }
}

/* End of word i's name part: "Russian-brokered" names only "Russian". */
static uint32_t s_name_end(const td_doc *d, uint32_t i, bool *cut)
{
    const td_word *w = &d->w[i];
    *cut = false;
    if (w->flags & W_HYPH) {
        for (uint32_t p = w->s + 1; p + 1 < w->e; p++)
            if (d->text[p] == '-' && d->text[p + 1] >= 'a' && d->text[p + 1] <= 'z') {
                *cut = true;
                return p;
            }
    }
    return w->e;
}

/* Classes of word i's name part (the part before "-led", "-brokered"). */
static uint32_t s_cls_name(const td_doc *d, uint32_t i)
{
    bool cut;
    uint32_t e = s_name_end(d, i, &cut);
    if (!cut)
        return s_cls(d, i);
    return td_lex_lookup(td_lex_hash(d->text + d->w[i].s, e - d->w[i].s), NULL);
}

/* Word i's name part is in capitals: "EU" of "EU-brokered". */
static bool s_upper_name(const td_doc *d, uint32_t i)
{
    bool cut;
    uint32_t e = s_name_end(d, i, &cut);
    if (!cut)
        return (d->w[i].flags & W_UPPER) != 0;
    if (e - d->w[i].s < 2)
        return false;
    for (uint32_t p = d->w[i].s; p < e; p++)
        if (!(d->text[p] >= 'A' && d->text[p] <= 'Z'))
            return false;
    return true;
}

/* First word of its sentence, opening quotes and brackets aside, or the
 * first word after a dateline ("OSLO (Agency) - Floodwater ..."). */
static bool s_initial(const td_doc *d, uint32_t i)
{
    const td_sent *s = &d->s[d->w[i].sent];
    bool all_punct = i < s->w0 + 4;
    for (uint32_t k = s->w0; k < i && all_punct; k++)
        if (!(d->w[k].flags & W_PUNCT))
            all_punct = false;
    if (all_punct)
        return true;
    return i >= 2 && i < s->w0 + 10 && td_word_punct(d, i - 1, '-') &&
           td_word_punct(d, i - 2, ')') && s->w0 == 0;
}

/* Could word i be part of a name? */
static bool s_namey(const td_doc *d, uint32_t i)
{
    if (i >= d->nw)
        return false;
    const td_word *w = &d->w[i];
    if (!(w->flags & (W_CAP | W_UPPER)) || (w->flags & (W_PUNCT | W_NUM)))
        return false;
    uint32_t cls = s_cls(d, i);
    if (cls & (K_MONTH | K_WDAY))
        return false;
    if (w->e - w->s == 1)
        return false; /* "I", initials are handled as part of a longer name */
    if (d->text[w->s] == 'I' && d->text[w->s + 1] == '\'')
        return false; /* I'm, I'd, I've */
    if ((w->flags & W_ALNUM) && w->e - w->s > 5)
        return false; /* identifiers: MENAFN3112201900670000 */
    return true;
}

/* Lower-case particles inside names: "Ministry of Defence", "Osama bin Laden". */
static bool s_connector(const td_doc *d, uint32_t i)
{
    if (i >= d->nw || td_wlen(d, i) > 3)
        return false;
    static const char *const p[] = {"of", "de", "da", "del", "van", "von", "bin", "al", "el",
                                    "la", "le", "der", "den", "dos", "du", "di", "ibn", NULL};
    if (i >= d->nw || !(d->w[i].flags & W_LOWER))
        return false;
    for (const char *const *q = p; *q; q++)
        if (td_word_isn(d, i, *q, strlen(*q)))
            return true;
    return false;
}

/* Add one mention of a name with a kind and its evidence. */
static void s_mention(s_ctx *c, const char *s, size_t n, td_entity_kind kind, int ev,
                      uint32_t nwords, uint32_t at)
{
    if (n == 0 || n > 120 || c->mentions >= MAX_MENTIONS)
        return;
    c->mentions++;
    char key[128];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof key; i++) {
        char ch = s[i];
        key[k++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    uint64_t h = XXH3_64bits(key, k);
    for (uint32_t i = 0; i < c->n; i++) {
        s_ent *e = &c->ents[i];
        if (e->key == h) {
            e->count++;
            if (ev > e->ev) {
                e->ev = (uint8_t)ev;
                e->kind = (uint8_t)kind;
            }
            return;
        }
    }
    if (c->n >= TD_MAX_ENTITIES)
        return;
    s_ent *e = &c->ents[c->n];
    e->name = td_arena_strndup(c->arena, s, n);
    if (!e->name) {
        c->oom = true;
        return;
    }
    e->key = h;
    e->name_len = (uint32_t)n;
    e->count = 1;
    e->first = at;
    e->kind = (uint8_t)kind;
    e->ev = (uint8_t)ev;
    e->nwords = (uint8_t)(nwords > 255 ? 255 : nwords);
    c->n++;
}

/* An all-capitals place ("TBILISI" in a dateline) is shown as "Tbilisi". */
static void s_mention_recased(s_ctx *c, const char *s, size_t n, td_entity_kind kind, int ev,
                              uint32_t nwords, uint32_t at)
{
    char buf[128];
    if (n >= sizeof buf) {
        s_mention(c, s, n, kind, ev, nwords, at);
        return;
    }
    bool start = true;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!start && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        start = !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'));
        buf[i] = ch;
    }
    s_mention(c, buf, n, kind, ev, nwords, at);
}

/* Classify and record the name made of words idx[a..b) (their text runs from
 * the first word's start to the last word's name end). `ev_person` and
 * `ev_place` carry the cues found around the span. */
static void s_segment(s_ctx *c, const uint32_t *idx, uint32_t a, uint32_t b, uint32_t end_byte,
                      int ev_person, int ev_place, bool titlecase_line)
{
    const td_doc *d = c->d;
    if (a >= b)
        return;
    uint32_t s = d->w[idx[a]].s;
    uint32_t e = end_byte;
    if (e <= s)
        return;
    const char *txt = d->text + s;
    size_t n = e - s;
    uint32_t nwords = b - a;
    td_gz_hit hit;
    bool gz = td_gazetteer_lookup(c->gz, txt, n, &hit);
    bool upper = s_upper_name(d, idx[a]);
    if (gz && (hit.kind == TD_GZ_COUNTRY || hit.kind == TD_GZ_DEMONYM) && hit.country) {
        s_mention(c, hit.country, strlen(hit.country), TD_ENT_COUNTRY, EV_COUNTRY, 1, idx[a]);
        return;
    }
    if (titlecase_line || (c->lang != TD_LANG_EN && ev_person < EV_TITLE)) {
        /* a title-case heading, or a language whose capitals we cannot
         * read (German capitalises every noun): only names the gazetteer
         * knows */
        if (gz)
            s_mention(c, txt, n, TD_ENT_PLACE, EV_GAZ_PLACE, nwords, idx[a]);
        return;
    }
    uint32_t last_cls = s_cls_name(d, idx[b - 1]);
    bool of_org = false; /* Ministry of Defence, Church of Christ */
    if (nwords >= 2 && memmem(txt, n, " of ", 4))
        for (uint32_t k = a; k < b && d->text + d->w[idx[k]].s < txt + n; k++) {
            if (td_word_is(d, idx[k] + 1, "of") && (s_cls(d, idx[k]) & K_ORGSUF))
                of_org = true;
        }
    if ((nwords >= 2 && (last_cls & K_ORGSUF)) || of_org) {
        s_mention(c, txt, n, TD_ENT_ORG, EV_CUE, nwords, idx[a]);
        return;
    }
    if (nwords >= 2 && (last_cls & K_PLACECUE) && !td_word_is(d, idx[b - 1], "state")) {
        s_mention(c, txt, n, TD_ENT_PLACE, EV_CUE, nwords, idx[a]);
        return;
    }
    /* a team: "Pittsburgh Penguins", "Detroit Lions" */
    if (nwords >= 2 && d->text[e - 1] == 's' && (d->w[idx[b - 1]].flags & W_CAP) &&
        !(last_cls & (K_PLACECUE | K_HUMAN))) {
        td_gz_hit fh;
        uint32_t fs = d->w[idx[a]].s, fe = d->w[idx[b - 2]].e;
        if (td_gazetteer_lookup(c->gz, d->text + fs, fe - fs, &fh) &&
            (fh.kind == TD_GZ_CITY || fh.kind == TD_GZ_SUBDIV)) {
            s_mention(c, txt, n, TD_ENT_ORG, EV_CUE, nwords, idx[a]);
            return;
        }
    }
    if (ev_person >= EV_TITLE && nwords <= 4) {
        s_mention(c, txt, n, TD_ENT_PERSON, EV_TITLE, nwords, idx[a]);
        return;
    }
    if (ev_place >= EV_CUE) {
        s_mention(c, txt, n, TD_ENT_PLACE, EV_CUE, nwords, idx[a]);
        return;
    }
    if (gz && (hit.kind == TD_GZ_CITY || hit.kind == TD_GZ_SUBDIV)) {
        if (upper)
            s_mention_recased(c, txt, n, TD_ENT_PLACE, EV_GAZ_PLACE, nwords, idx[a]);
        else
            s_mention(c, txt, n, TD_ENT_PLACE, EV_GAZ_PLACE, nwords, idx[a]);
        return;
    }
    if (nwords == 1 && (last_cls & K_ORGSUF)) {
        s_mention(c, txt, n, TD_ENT_ORG, EV_CUE, nwords, idx[a]);
        return;
    }
    /* acronyms: EU, NATO, CSTO */
    if (nwords == 1 && upper && n <= 6) {
        s_mention(c, txt, n, TD_ENT_ORG, EV_WEAK, nwords, idx[a]);
        return;
    }
    if (ev_person >= EV_SAY && nwords >= 2 && nwords <= 4) {
        s_mention(c, txt, n, TD_ENT_PERSON, EV_SAY, nwords, idx[a]);
        return;
    }
    if (nwords >= 2 && nwords <= 3) {
        bool plain = true;
        for (uint32_t k = a; k < b; k++) {
            uint32_t cl = s_cls(d, idx[k]);
            if ((cl & (K_ORGWORD | K_PLACECUE | K_COMMON | K_TITLE)) ||
                (d->w[idx[k]].flags & (W_UPPER | W_ABBR)) ||
                td_gazetteer_is_word(c->gz, d->text + d->w[idx[k]].s, td_wlen(d, idx[k])))
                plain = false;
        }
        if (plain && c->lang != TD_LANG_DE) {
            s_mention(c, txt, n, TD_ENT_PERSON, EV_WEAK, nwords, idx[a]);
            return;
        }
    }
    if (ev_place >= EV_WEAK && nwords == 1) {
        s_mention(c, txt, n, TD_ENT_PLACE, EV_WEAK, nwords, idx[a]);
        return;
    }
    if (ev_person >= EV_SAY) {
        s_mention(c, txt, n, TD_ENT_PERSON, EV_WEAK, nwords, idx[a]);
        return;
    }
    if (c->lang == TD_LANG_DE && nwords == 1)
        return; /* every German noun is capitalised */
    s_mention(c, txt, n, TD_ENT_OTHER, EV_NONE, nwords, idx[a]);
}

/* Cues before word i (the first word of a span). */
static void s_cues_before(const td_doc *d, uint32_t i, uint32_t w0, int *ev_person, int *ev_place)
{
    if (i == w0)
        return;
    uint32_t p = i - 1;
    uint32_t cp = s_cls(d, p);
    if (d->w[p].flags & W_LOWER) {
        if (cp & K_ROLE)
            *ev_person = EV_TITLE;          /* spokesman Dmitry Peskov */
        if (cp & K_SAY)
            *ev_person = *ev_person > EV_SAY ? *ev_person : EV_SAY; /* said John Doe */
        if (td_word_is(d, p, "of") && p > w0) {
            uint32_t q = p - 1;
            if ((s_cls(d, q) & K_PLACECUE) || td_word_is(d, q, "part") ||
                td_word_is(d, q, "outskirts") || td_word_is(d, q, "north") ||
                td_word_is(d, q, "south") || td_word_is(d, q, "east") ||
                td_word_is(d, q, "west") || td_word_is(d, q, "parts"))
                *ev_place = EV_CUE;         /* near the village of Sotk */
        }
        if (td_word_is(d, p, "in") || td_word_is(d, p, "near") || td_word_is(d, p, "outside"))
            *ev_place = *ev_place > EV_WEAK ? *ev_place : EV_WEAK;
    }
    if (cp & K_BEFORE_NAME)
        *ev_person = EV_TITLE;              /* Mr Smith */
}

/* Cues after the span ending at word j (last word of the span). */
static void s_cues_after(const td_doc *d, uint32_t j, uint32_t w1, int *ev_person, int *ev_place)
{
    uint32_t k = j + 1;
    if (k >= w1 || (d->w[j].flags & W_POSS))
        return;
    uint32_t ck = s_cls(d, k);
    if ((d->w[k].flags & W_LOWER) && (ck & (K_GEONOUN | K_PLACECUE)) &&
        !td_word_is(d, k, "border") && !td_word_is(d, k, "state") && !td_word_is(d, k, "capital"))
        *ev_place = EV_CUE;                 /* Gegharkunik province */
    if ((d->w[k].flags & W_LOWER) && (ck & K_SAY) && !td_word_is(d, k, "according"))
        *ev_person = *ev_person > EV_SAY ? *ev_person : EV_SAY;
    if (td_word_punct(d, k, ',') && k + 1 < w1) {
        uint32_t m = k + 1;
        if (td_word_is(d, m, "the") || td_word_is(d, m, "a") || td_word_is(d, m, "an"))
            m++;
        while (m < w1 && m < k + 5 && !(s_cls(d, m) & K_ROLE) && (d->w[m].flags & (W_LOWER | W_CAP)))
            m++;
        if (m < w1 && (s_cls(d, m) & K_ROLE) && (d->w[m].flags & W_LOWER))
            *ev_person = EV_TITLE;          /* John Doe, a senior official */
    }
}

/* Process one candidate span: words idx[0..m). */
static void s_span(s_ctx *c, uint32_t *idx, uint32_t m, uint32_t end_byte, uint32_t w0,
                   uint32_t w1, bool titlecase_line)
{
    const td_doc *d = c->d;
    uint32_t a = 0;
    /* leading stop words ("The Armenian Defense Ministry") and a capitalised
     * common word that only starts the sentence ("Ethnic", "Hostilities") */
    while (a < m) {
        uint32_t i = idx[a];
        uint32_t cl = s_cls(d, i);
        if (d->w[i].flags & W_UPPER)
            break;
        if (((cl & K_STOP) || (cl & K_NUMW)) && !(cl & (K_TITLE | K_ORGSUF)))
            a++;
        else if (s_initial(d, i) && !(cl & (K_TITLE | K_ORGSUF | K_ORGWORD)) &&
                 ((cl & K_COMMON) ||
                  (td_gazetteer_is_word(c->gz, d->text + d->w[i].s, td_wlen(d, i)) &&
                   !s_capset_has(c, d->w[i].h) &&
                   !td_gazetteer_lookup(c->gz, d->text + d->w[i].s, td_wlen(d, i),
                                        &(td_gz_hit){0}))))
            a++;
        else
            break;
    }
    if (a >= m)
        return;
    if (m - a == 1 && s_initial(d, idx[a]) && !s_capset_has(c, d->w[idx[a]].h) &&
        !(d->w[idx[a]].flags & W_UPPER) &&
        !td_gazetteer_lookup(c->gz, d->text + d->w[idx[a]].s, td_wlen(d, idx[a]), &(td_gz_hit){0}))
        return; /* "Organisers said": a capital that only starts the sentence */
    int ev_person = 0, ev_place = 0;
    s_cues_before(d, idx[a], w0, &ev_person, &ev_place);
    s_cues_after(d, idx[m - 1], w1, &ev_person, &ev_place);

    bool org_end = (s_cls_name(d, idx[m - 1]) & K_ORGSUF) != 0;
    /* leading demonyms and countries: "Armenian Prime Minister ...",
     * "Azerbaijani President ..." */
    while (a + 1 < m && !titlecase_line) {
        uint32_t i = idx[a];
        /* longest gazetteer country match at the start, up to 3 words */
        uint32_t best = 0;
        const char *country = NULL;
        for (uint32_t k = (m - a < 3 ? m - a : 3); k >= 1; k--) {
            td_gz_hit hit;
            uint32_t s = d->w[i].s, e = d->w[idx[a + k - 1]].e;
            if (td_gazetteer_lookup(c->gz, d->text + s, e - s, &hit) &&
                (hit.kind == TD_GZ_COUNTRY || hit.kind == TD_GZ_DEMONYM) && hit.country) {
                best = k;
                country = hit.country;
                break;
            }
        }
        if (!best || a + best >= m)
            break;
        /* a country noun before a plain name is part of the name ("Jordan
         * Morris"); only a demonym, or a country before a title or an
         * organisation ("US Secretary of State"), stands apart */
        td_gz_hit first;
        uint32_t nx = s_cls(d, idx[a + best]);
        if (td_gazetteer_lookup(c->gz, d->text + d->w[i].s, d->w[idx[a + best - 1]].e - d->w[i].s,
                                &first) &&
            first.kind == TD_GZ_COUNTRY && !(nx & (K_TITLE | K_ORGSUF | K_ORGWORD | K_ROLE)))
            break;
        s_mention(c, country, strlen(country), TD_ENT_COUNTRY, EV_COUNTRY, 1, i);
        if (org_end) {
            /* "Armenian Defense Ministry": the country counts, the organisation
             * keeps its full name */
            s_segment(c, idx, a, m, end_byte, 0, 0, false);
            return;
        }
        a += best;
    }
    /* a title run inside the span: what follows it is a person */
    if (!org_end && !titlecase_line) {
        uint32_t t = a;
        while (t < m && !(s_cls(d, idx[t]) & K_TITLE))
            t++;
        if (t < m) {
            uint32_t r = t;
            while (r < m && (s_cls(d, idx[r]) & K_TITLE))
                r++;
            if (r < m) {
                if (t > a) {
                    int pe = 0, pp = 0;
                    s_cues_before(d, idx[a], w0, &pe, &pp);
                    s_segment(c, idx, a, t, d->w[idx[t - 1]].e, 0, pp, false);
                }
                s_segment(c, idx, r, m, end_byte, EV_TITLE, 0, false);
                return;
            }
            if (t == a)
                return; /* only a title: "Prime Minister" */
        }
    }
    s_segment(c, idx, a, m, end_byte, ev_person, ev_place, titlecase_line);
}

/* Whether sentence s is a title-case heading ("Clashes Between Two Rivals"). */
static bool s_titlecase(const td_doc *d, const td_sent *s)
{
    if (!s->heading)
        return false;
    uint32_t words = 0, caps = 0;
    for (uint32_t i = s->w0; i < s->w1; i++) {
        const td_word *w = &d->w[i];
        if (w->flags & W_PUNCT)
            continue;
        if (s_cls(d, i) & K_STOP)
            continue;
        words++;
        if (w->flags & (W_CAP | W_UPPER | W_NUM))
            caps++;
    }
    return words >= 3 && caps * 10 >= words * 8;
}

static int s_cmp(const void *x, const void *y)
{
    const s_ent *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first;
}

int td_entities_extract(const td_doc *d, const td_gazetteer *gz, td_lang lang,
                        td_arena *arena, td_entity **out)
{
    *out = NULL;
    s_ctx c = {.d = d, .gz = gz, .lang = lang, .arena = arena};
    /* the set of capitalised words is sized by how many there are (at
     * least twice as many slots, as the full-size table had at its
     * CAPSET_SLOTS / 2 limit): an article has dozens, and zeroing the
     * full table cost more than the lookups */
    uint32_t ncand = 0;
    for (uint32_t i = 0; i < d->nw; i++)
        ncand += (d->w[i].flags & W_CAP) && !d->s[d->w[i].sent].heading && !s_initial(d, i);
    uint32_t slots = 64;
    while (slots < CAPSET_SLOTS && slots < 2 * ncand)
        slots *= 2;
    c.capmask = slots - 1;
    c.ents = td_arena_alloc(arena, TD_MAX_ENTITIES * sizeof *c.ents);
    c.capset = td_arena_alloc(arena, slots * sizeof *c.capset);
    if (!c.ents || !c.capset)
        return -1;
    uint32_t ncap = 0;
    for (uint32_t i = 0; i < d->nw; i++)
        if ((d->w[i].flags & W_CAP) && !d->s[d->w[i].sent].heading && !s_initial(d, i))
            s_capset_add(&c, d->w[i].h, &ncap);

    uint32_t idx[SPAN_MAX];
    for (uint32_t si = 0; si < d->ns; si++) {
        const td_sent *s = &d->s[si];
        bool tc = s_titlecase(d, s);
        uint32_t i = s->w0;
        while (i < s->w1) {
            if (!s_namey(d, i)) {
                i++;
                continue;
            }
            uint32_t m = 0, j = i, end_byte;
            bool cut = false;
            for (;;) {
                idx[m++] = j;
                end_byte = s_name_end(d, j, &cut);
                if (cut || (d->w[j].flags & W_POSS) || m >= SPAN_MAX)
                    break;
                uint32_t k = j + 1;
                if (k < s->w1 && s_namey(d, k) && !(d->w[k].flags & W_NL)) {
                    j = k;
                    continue;
                }
                /* "Ministry of Defence", "Secretary of State", "Osama bin Laden" */
                if (s_connector(d, k) && s_namey(d, k + 1) && k + 1 < s->w1 &&
                    ((s_cls(d, j) & (K_ORGWORD | K_ORGSUF | K_TITLE | K_PLACECUE)) ||
                     !td_word_is(d, k, "of"))) {
                    if (td_word_is(d, k, "of") && td_word_is(d, k + 1, "the"))
                        break;
                    j = k + 1;
                    continue;
                }
                break;
            }
            s_span(&c, idx, m, end_byte, s->w0, s->w1, tc);
            if (c.oom)
                return -1;
            i = j + 1;
        }
    }

    /* surname-only mentions join the full name ("Pashinyan" -> "Nikol
     * Pashinyan") when exactly one multi-word person ends with that word */
    for (uint32_t i = 0; i < c.n; i++) {
        s_ent *e = &c.ents[i];
        if (e->nwords != 1 || e->kind == TD_ENT_COUNTRY ||
            ((e->kind == TD_ENT_PLACE || e->kind == TD_ENT_ORG) && e->ev >= EV_GAZ_PLACE))
            continue;
        s_ent *target = NULL;
        int found = 0;
        for (uint32_t k = 0; k < c.n; k++) {
            s_ent *p = &c.ents[k];
            /* a person, or an unclassified two- or three-word name that the
             * article goes on to call by its last word ("Pat Sullivan" ...
             * "Sullivan said") */
            bool plain_other = p->kind == TD_ENT_OTHER && p->nwords >= 2 && p->nwords <= 3 &&
                               e->count >= 2 && !memchr(p->name, '\'', p->name_len);
            if (p == e || p->nwords < 2 || (p->kind != TD_ENT_PERSON && !plain_other) || p->dropped)
                continue;
            if (p->name_len > e->name_len + 1 &&
                p->name[p->name_len - e->name_len - 1] == ' ' &&
                strncasecmp(p->name + p->name_len - e->name_len, e->name, e->name_len) == 0) {
                target = p;
                found++;
            }
        }
        if (found == 1) {
            if (target->kind == TD_ENT_OTHER) {
                target->kind = TD_ENT_PERSON;
                target->ev = EV_SAY;
            }
            target->count += e->count;
            if (e->first < target->first)
                target->first = e->first;
            e->dropped = true;
        }
    }

    uint32_t n = 0;
    for (uint32_t i = 0; i < c.n; i++)
        if (!c.ents[i].dropped)
            c.ents[n++] = c.ents[i];
    qsort(c.ents, n, sizeof *c.ents, s_cmp);
    td_entity *res = td_arena_alloc(arena, (n ? n : 1) * sizeof *res);
    if (!res)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        res[i] = (td_entity){c.ents[i].name, (td_entity_kind)c.ents[i].kind, c.ents[i].count};
    *out = res;
    return (int)n;
}
