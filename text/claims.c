/* claims.c — claimed figures; see claims.h. */
#include "claims.h"

#include <stdlib.h>
#include <string.h>

#include "lexicon.h"

static uint32_t s_cls(const td_doc *d, uint32_t i, int32_t *v)
{
    if (i >= d->nw) {
        if (v)
            *v = 0;
        return 0;
    }
    if (v)
        *v = d->w[i].val;
    return d->w[i].cls;
}

#define s_is(d, i, w) td_word_is(d, i, w)

/* ---- numbers ------------------------------------------------------------ */

/* Skip a qualifier before a count: "at least", "more than", "about" ... */
static uint32_t s_skip_qual(const td_doc *d, uint32_t i, uint32_t w1)
{
    for (int guard = 0; guard < 3 && i < w1; guard++) {
        if ((s_is(d, i, "at") && (s_is(d, i + 1, "least") || s_is(d, i + 1, "most"))) ||
            ((s_is(d, i, "more") || s_is(d, i, "fewer") || s_is(d, i, "less")) && s_is(d, i + 1, "than")) ||
            (s_is(d, i, "up") && s_is(d, i + 1, "to")) ||
            (s_is(d, i, "as") && s_is(d, i + 1, "many") && s_is(d, i + 2, "as"))) {
            i += s_is(d, i, "as") ? 3 : 2;
            continue;
        }
        if (s_is(d, i, "about") || s_is(d, i, "around") || s_is(d, i, "nearly") ||
            s_is(d, i, "almost") || s_is(d, i, "some") || s_is(d, i, "over") ||
            s_is(d, i, "approximately") || s_is(d, i, "roughly") || s_is(d, i, "estimated") ||
            (s_is(d, i, "an") && s_is(d, i + 1, "estimated"))) {
            i += (s_is(d, i, "an") ? 2 : 1);
            continue;
        }
        break;
    }
    return i;
}

/* Digits with separators: "6,500" -> 6500, "1.2" (with a scale word) */
static bool s_digits(const td_doc *d, uint32_t i, double *v)
{
    if (i >= d->nw || !(d->w[i].flags & W_NUM))
        return false;
    const char *p = d->text + d->w[i].s;
    uint32_t n = td_wlen(d, i);
    double x = 0, frac = 0;
    bool dot = false;
    for (uint32_t k = 0; k < n; k++) {
        char c = p[k];
        if (c >= '0' && c <= '9') {
            if (dot) {
                frac /= 10;
                x += (c - '0') * frac;
            } else {
                x = x * 10 + (c - '0');
            }
        } else if (c == '.') {
            dot = true;
            frac = 1;
        }
    }
    *v = x;
    return true;
}

/* A count starting at word i: value, first word after it, whether it is
 * vague ("dozens", "thousands"). */
static bool s_count(const td_doc *d, uint32_t i, uint32_t w1, int64_t *val, uint32_t *next,
                    bool *vague)
{
    *vague = false;
    if (i >= w1)
        return false;
    int32_t v;
    uint32_t cls = s_cls(d, i, &v);
    double x;
    if (s_digits(d, i, &x)) {
        /* a year is not a count: "in 2020" */
        if (td_wlen(d, i) == 4 && x >= 1900 && x <= 2100 && !(s_cls(d, i + 1, NULL) & (K_HUMAN | K_DEATHNOUN)))
            return false;
        uint32_t j = i + 1;
        int32_t sv;
        if (j < w1 && (s_cls(d, j, &sv) & K_SCALE) && sv >= 100) {
            x *= sv;
            j++;
        }
        /* range check before the conversion: a run of 60 digits is a
         * double far beyond int64 */
        if (!(x >= 0.5 && x < 1e8))
            return false;
        *val = (int64_t)(x + 0.5);
        *next = j;
        return true;
    }
    if ((d->w[i].flags & W_HYPH) && (d->w[i].flags & W_LOWER)) {
        /* twenty-five */
        const char *p = d->text + d->w[i].s;
        const char *h = memchr(p, '-', td_wlen(d, i));
        if (h) {
            int32_t a, b;
            uint32_t ca = td_lex_lookup(td_lex_hash(p, (size_t)(h - p)), &a);
            uint32_t cb = td_lex_lookup(td_lex_hash(h + 1, (size_t)(p + td_wlen(d, i) - h - 1)), &b);
            if ((ca & K_NUMW) && (cb & K_NUMW) && a >= 20 && b < 10) {
                *val = a + b;
                *next = i + 1;
                return true;
            }
        }
        return false;
    }
    if (s_is(d, i, "another")) {
        *val = 1;
        *next = s_is(d, i + 1, "one") ? i + 2 : i + 1;
        return true;
    }
    if (cls & K_NUMW) {
        int64_t x2 = v;
        uint32_t j = i + 1;
        int32_t sv;
        bool article = s_is(d, i, "a") || s_is(d, i, "an");
        if (j < w1 && (s_cls(d, j, &sv) & K_SCALE)) {
            /* two dozen, a hundred, five thousand */
            bool plural = d->text[d->w[j].e - 1] == 's';
            if (plural && !article) {
                *vague = true; /* "two dozens" is rare; treat as vague */
            }
            x2 *= sv;
            j++;
            if (j < w1 && (s_cls(d, j, &sv) & K_SCALE) && sv > 12) {
                x2 *= sv;
                j++;
            }
        } else if (article) {
            /* "an Azerbaijani soldier": "a"/"an" count only before the
             * counted noun itself */
            uint32_t k = j;
            for (int g = 0; g < 3 && k < w1 && !(s_cls(d, k, NULL) & K_HUMAN); g++)
                k++;
            if (k >= w1 || !(s_cls(d, k, NULL) & K_HUMAN))
                return false;
        } else if ((cls & K_NUMW) && v >= 20 && j < w1 && (s_cls(d, j, &sv) & K_NUMW) && sv < 10 &&
                   !s_is(d, j, "a") && !s_is(d, j, "an")) {
            x2 += sv; /* twenty five */
            j++;
        }
        if (x2 <= 0)
            return false;
        *val = x2;
        *next = j;
        return true;
    }
    if (cls & K_SCALE) {
        /* dozens, hundreds, thousands: order of magnitude only */
        int32_t sv = v;
        if (d->text[d->w[i].e - 1] != 's')
            return false;
        *val = sv;
        *vague = true;
        *next = i + 1;
        return true;
    }
    return false;
}

/* Counted noun phrase from word j: modifiers then a human noun, or "of
 * its/the soldiers". Returns the end (exclusive) of the phrase and its start
 * in *np0, or 0 when there is none. */
static uint32_t s_np(const td_doc *d, uint32_t j, uint32_t w1, uint32_t *np0)
{
    uint32_t k = j;
    if (s_is(d, k, "of") && (s_is(d, k + 1, "its") || s_is(d, k + 1, "their") ||
                             s_is(d, k + 1, "the") || s_is(d, k + 1, "our") ||
                             s_is(d, k + 1, "his") || s_is(d, k + 1, "her")))
        k++;
    *np0 = k;
    for (int g = 0; g < 5 && k < w1; g++, k++) {
        uint32_t cls = s_cls(d, k, NULL);
        if (d->w[k].flags & (W_PUNCT | W_NUM))
            return 0;
        if (cls & K_HUMAN)
            return k + 1;
        if (cls & (K_CASUALTY | K_SAY))
            return 0;
        if ((cls & K_STOP) && !(s_is(d, k, "its") || s_is(d, k, "their") || s_is(d, k, "the") ||
                                s_is(d, k, "our") || s_is(d, k, "other") || s_is(d, k, "more")))
            return 0;
    }
    return 0;
}

/* ---- attribution -------------------------------------------------------- */

/* Words that can be part of a speaker's noun phrase, read backwards from the
 * attribution verb. */
static bool s_np_word(const td_doc *d, uint32_t i)
{
    const td_word *w = &d->w[i];
    if (w->flags & (W_PUNCT | W_NUM))
        return false;
    if (w->flags & (W_CAP | W_UPPER | W_ABBR))
        return !(s_cls(d, i, NULL) & (K_MONTH | K_WDAY)) || !(w->flags & W_CAP);
    uint32_t cls = s_cls(d, i, NULL);
    if (cls & (K_ORGSUF | K_ORGWORD | K_ROLE | K_TITLE))
        return true;
    return (cls & K_NPHEAD) != 0;
}

/* Speaker phrase ending just before word v (the attribution verb). */
static bool s_np_before(const td_doc *d, uint32_t v, uint32_t w0, uint32_t *a, uint32_t *b)
{
    if (v == 0 || v <= w0)
        return false;
    uint32_t k = v;
    /* "the ministry said in a statement": nothing between; adverbs allowed:
     * "also", "later" */
    while (k > w0 && (s_is(d, k - 1, "also") || s_is(d, k - 1, "later") ||
                      s_is(d, k - 1, "earlier") || s_is(d, k - 1, "had") ||
                      s_is(d, k - 1, "has") || s_is(d, k - 1, "have")))
        k--;
    if (k > w0 + 1 && td_word_punct(d, k - 1, ',')) {
        /* "Armenia, on Friday (May 12), said": skip the aside */
        uint32_t q = k - 1;
        while (q > w0 && q + 12 > k && !td_word_punct(d, q - 1, ','))
            q--;
        if (q > w0 + 1 && td_word_punct(d, q - 1, ',') && q + 12 > k) {
            /* "a ministry spokesman, Piet Dorran, said": the name itself */
            bool name = q < k - 1;
            for (uint32_t r = q; r < k - 1; r++)
                if (!(d->w[r].flags & W_CAP) || (d->w[r].flags & W_PUNCT))
                    name = false;
            if (name) {
                *a = q;
                *b = k - 1;
                return true;
            }
            k = q - 1;
        } else {
            return false;
        }
    }
    uint32_t end = k;
    while (k > w0 && s_np_word(d, k - 1) && end - k < 8)
        k--;
    /* "the regional governor", "a senior military official": up to two
     * plain adjectives before a role or organisation head */
    if (k < end && (s_cls(d, end - 1, NULL) & (K_ROLE | K_ORGSUF))) {
        for (int g = 0; g < 2 && k > w0; g++) {
            uint32_t p = k - 1;
            uint32_t cl = s_cls(d, p, NULL);
            if (!(d->w[p].flags & W_LOWER) || (cl & (K_STOP | K_SAY | K_CASUALTY | K_NUMW)))
                break;
            k = p;
        }
        while (k > w0 && s_np_word(d, k - 1) && end - k < 8)
            k--;
    }
    /* a phrase cannot start with a preposition or end with one */
    while (k < end && (s_is(d, k, "in") || s_is(d, k, "of") || s_is(d, k, "for")))
        k++;
    if (k >= end)
        return false;
    if (end - k == 1 && (s_is(d, k, "the") || s_is(d, k, "its") || s_is(d, k, "his")))
        return false;
    *a = k;
    *b = end;
    return true;
}

/* Speaker phrase right after word v: "said the ministry", "said Peskov". */
static bool s_np_after(const td_doc *d, uint32_t v, uint32_t w1, uint32_t *a, uint32_t *b)
{
    uint32_t k = v + 1;
    uint32_t start = k;
    while (k < w1 && s_np_word(d, k) && k - start < 8)
        k++;
    while (k > start && (s_is(d, k - 1, "in") || s_is(d, k - 1, "of") || s_is(d, k - 1, "the")))
        k--;
    if (k == start)
        return false;
    if (k - start == 1 && (s_is(d, start, "the") || s_is(d, start, "in")))
        return false;
    /* "said the ministry." but not "said Azerbaijani troops killed ..." */
    if (k < w1 && !(d->w[k].flags & W_PUNCT) && !s_is(d, k, "in") && !s_is(d, k, "on") &&
        !s_is(d, k, "adding") && !s_is(d, k, "who") && !s_is(d, k, "after") &&
        !s_is(d, k, "when") && !s_is(d, k, "at") && !s_is(d, k, "during"))
        return false;
    *a = start;
    *b = k;
    return true;
}

bool td_claims_sayer(const td_doc *d, uint32_t s, uint32_t from, uint32_t to, uint32_t *a,
                     uint32_t *b)
{
    const td_sent *st = &d->s[s];
    uint32_t w0 = from > st->w0 ? from : st->w0, w1 = to < st->w1 ? to : st->w1;
    /* according to X: up to the next punctuation */
    for (uint32_t i = w0; i + 2 < w1; i++)
        if ((d->w[i].cls & K_SAY) && s_is(d, i, "according") && s_is(d, i + 1, "to")) {
            uint32_t k = i + 2;
            while (k < w1 && !(d->w[k].flags & W_PUNCT) && k < i + 10)
                k++;
            if (k > i + 2 && (k == w1 || (d->w[k].flags & W_PUNCT))) {
                *a = i + 2;
                *b = k;
                return true;
            }
        }
    for (uint32_t i = w0; i < w1; i++) {
        const td_word *w = &d->w[i];
        if (!(w->flags & W_LOWER) || !(s_cls(d, i, NULL) & K_SAY) || s_is(d, i, "according"))
            continue;
        /* "X said": a noun phrase before; '"...," said X': after */
        bool after_quote = i > w0 && (td_word_punct(d, i - 1, '"') || td_word_punct(d, i - 1, ','));
        if (!after_quote && s_np_before(d, i, w0, a, b))
            return true;
        if (s_np_after(d, i, w1, a, b))
            return true;
        if (s_np_before(d, i, w0, a, b))
            return true;
    }
    return false;
}

/* ---- extraction ---------------------------------------------------------- */

typedef struct {
    const td_doc *d;
    const td_dates *dates;
    const td_gazetteer *gz;
    td_arena *arena;
    td_claim *out;
    int n;
    int ey, em, ed;
    /* the last speaker named by a full phrase: resolves "the ministry", "it" */
    uint32_t last_a, last_b;
    bool has_last;
    bool oom;
} s_ctx;

static char *s_text(s_ctx *c, uint32_t a, uint32_t b)
{
    const td_doc *d = c->d;
    if (a >= b)
        return NULL;
    uint32_t s = d->w[a].s, e = d->w[b - 1].e;
    if (d->w[b - 1].flags & W_POSS) {
        /* keep the possessive of a phrase's last word: "Armenia's" */
        uint32_t k = e;
        while (k < d->len && (d->text[k] == '\'' || d->text[k] == 's') && k < e + 2)
            k++;
        e = k;
    }
    char *t = td_arena_strndup(c->arena, d->text + s, e - s);
    if (!t)
        c->oom = true;
    return t;
}

/* The country a phrase speaks for: the first word the gazetteer maps to a
 * country (Armenia, Armenian, Yerevan). */
static const td_gz_hit *s_side(s_ctx *c, uint32_t a, uint32_t b, td_gz_hit *hit)
{
    const td_doc *d = c->d;
    for (uint32_t i = a; i < b; i++) {
        if (!(d->w[i].flags & (W_CAP | W_UPPER)))
            continue;
        if (td_gazetteer_lookup(c->gz, d->text + d->w[i].s, td_wlen(d, i), hit) && hit->country)
            return hit;
    }
    return NULL;
}

/* A pronoun or bare common noun that needs the last named speaker. */
static bool s_vague_sayer(const td_doc *d, uint32_t a, uint32_t b)
{
    if (b - a == 1 && (s_is(d, a, "it") || s_is(d, a, "they")))
        return true;
    if (b - a == 2 && s_is(d, a, "the") && !(d->w[a + 1].flags & W_CAP))
        return true;
    return false;
}

static char *s_claimant(s_ctx *c, uint32_t si, uint32_t *ca, uint32_t *cb, bool *found)
{
    const td_doc *d = c->d;
    uint32_t a, b;
    *found = false;
    if (!td_claims_sayer(d, si, d->s[si].w0, d->s[si].w1, &a, &b))
        return NULL;
    if (s_vague_sayer(d, a, b) && c->has_last) {
        /* "said the ministry": the ministry named last, if it is one */
        const char *head = d->text + d->w[b - 1].s;
        uint32_t hl = td_wlen(d, b - 1);
        bool match = s_is(d, a, "it") || s_is(d, a, "they");
        for (uint32_t k = c->last_a; k < c->last_b && !match; k++)
            if (td_wlen(d, k) == hl && strncasecmp(d->text + d->w[k].s, head, hl) == 0)
                match = true;
        if (match) {
            a = c->last_a;
            b = c->last_b;
        }
    }
    *ca = a;
    *cb = b;
    *found = true;
    return s_text(c, a, b);
}

/* Background: the sentence is dated well before the event, or speaks of a
 * war outside the lead. Sets *date (arena) when a date is known. */
static bool s_background(s_ctx *c, uint32_t si, char **date)
{
    const td_doc *d = c->d;
    *date = NULL;
    if (!c->ey)
        return false;
    int64_t ev = td_days_from_civil(c->ey, c->em, c->ed);
    const td_datem *first = NULL;
    for (uint32_t k = 0; k < c->dates->n; k++) {
        const td_datem *m = &c->dates->m[k];
        if (m->sent != si || m->future)
            continue;
        if (m->prec == TD_PREC_DAY) {
            int64_t days = td_days_from_civil(m->y, m->m, m->d);
            if (days >= ev - 1 && days <= ev + 1)
                return false; /* the sentence is dated on the event */
        }
        if (!first)
            first = m;
    }
    if (first) {
        /* the sentence's own time is its first date */
        bool before;
        if (first->prec == TD_PREC_YEAR)
            before = first->y < c->ey;
        else if (first->prec == TD_PREC_MONTH)
            before = first->y * 12 + first->m < c->ey * 12 + c->em;
        else
            before = td_days_from_civil(first->y, first->m, first->d) < ev - 1;
        if (before)
            *date = td_date_format(c->arena, first->y, first->m, first->d, first->prec);
        return before;
    }
    if (si < 2)
        return false;
    for (uint32_t i = d->s[si].w0; i < d->s[si].w1; i++)
        if ((d->w[i].flags & W_LOWER) && (s_is(d, i, "war") || s_is(d, i, "wars")))
            return true;
    return false;
}

static void s_add(s_ctx *c, int kind, int64_t count, char *subject, char *claimant,
                  uint32_t si, bool bg, char *bgdate)
{
    for (int i = 0; i < c->n; i++) {
        td_claim *o = &c->out[i];
        if (strcmp(o->kind, td_lex_kind_name(kind)) == 0 && o->count == count &&
            ((!o->subject && !subject) || (o->subject && subject && !strcmp(o->subject, subject))) &&
            ((!o->claimant && !claimant) ||
             (o->claimant && claimant && !strcmp(o->claimant, claimant))))
            return;
    }
    if (c->n >= TD_MAX_CLAIMS)
        return;
    const td_sent *s = &c->d->s[si];
    td_claim *cl = &c->out[c->n++];
    cl->kind = (char *)td_lex_kind_name(kind);
    cl->kind = td_arena_strdup(c->arena, cl->kind);
    cl->count = count;
    cl->subject = subject;
    cl->claimant = claimant;
    cl->text = td_arena_strndup(c->arena, c->d->text + s->s, s->e - s->s);
    cl->background = bg;
    cl->date = bgdate;
    if (!cl->kind || !cl->text)
        c->oom = true;
}

/* Subject text: the phrase with "its"/"their" replaced by the claimant's
 * demonym, singular when the count is one. */
static char *s_subject(s_ctx *c, uint32_t a, uint32_t b, int64_t count, const char *demonym)
{
    const td_doc *d = c->d;
    char buf[256];
    size_t o = 0;
    for (uint32_t i = a; i < b && o < sizeof buf - 64; i++) {
        if (s_is(d, i, "of") || s_is(d, i, "the"))
            continue;
        const char *w = d->text + d->w[i].s;
        size_t n = td_wlen(d, i);
        if (s_is(d, i, "its") || s_is(d, i, "their") || s_is(d, i, "our")) {
            if (!demonym)
                continue;
            w = demonym;
            n = strlen(demonym);
        }
        if (n > 60)
            n = 60;
        if (o)
            buf[o++] = ' ';
        memcpy(buf + o, w, n);
        o += n;
        if (i == b - 1 && count == 1 && n > 3 && buf[o - 1] == 's' && buf[o - 2] != 's' &&
            (s_cls(d, i, NULL) & K_HUMAN) && !s_is(d, i, "troops") && !s_is(d, i, "others"))
            o--; /* "one of its soldiers": soldier */
    }
    if (o == 0)
        return NULL;
    char *t = td_arena_strndup(c->arena, buf, o);
    if (!t)
        c->oom = true;
    return t;
}

/* The nearest phrase before word k that names a side: "the Armenian side",
 * "Azerbaijani forces"; used for "one killed and one wounded". */
static char *s_context_subject(s_ctx *c, uint32_t w0, uint32_t k)
{
    const td_doc *d = c->d;
    for (uint32_t i = k; i > w0; i--) {
        uint32_t j = i - 1;
        td_gz_hit hit;
        if ((d->w[j].flags & W_CAP) &&
            td_gazetteer_lookup(c->gz, d->text + d->w[j].s, td_wlen(d, j), &hit) &&
            hit.kind == TD_GZ_DEMONYM && j + 1 < k && (d->w[j + 1].flags & W_LOWER) &&
            !(s_cls(d, j + 1, NULL) & (K_STOP | K_SAY | K_CASUALTY))) {
            return s_text(c, j, j + 2);
        }
    }
    return NULL;
}

static void s_sentence(s_ctx *c, uint32_t si)
{
    const td_doc *d = c->d;
    const td_sent *s = &d->s[si];
    uint32_t ca = 0, cb = 0;
    bool has_sayer = false;
    char *claimant = NULL;
    bool claimant_done = false;
    char *prev_subject = NULL;
    for (uint32_t k = s->w0; k < s->w1; k++) {
        int32_t kind;
        uint32_t cls = s_cls(d, k, &kind);
        bool deathnoun = (cls & K_DEATHNOUN) && (d->w[k].flags & W_LOWER);
        if (!(cls & K_CASUALTY) || !(d->w[k].flags & W_LOWER))
            continue;
        if (s_is(d, k, "death") || s_is(d, k, "die") || s_is(d, k, "lost"))
            continue;
        int64_t count = 0;
        bool vague = false, got = false;
        uint32_t np0 = 0, np1 = 0;
        char *subject = NULL;
        /* backwards: count [of its] [modifiers] noun [was/were/...] WORD */
        uint32_t j = k;
        while (j > s->w0 && (td_word_punct(d, j - 1, '"') || s_is(d, j - 1, "was") ||
                             s_is(d, j - 1, "were") || s_is(d, j - 1, "been") ||
                             s_is(d, j - 1, "have") || s_is(d, j - 1, "has") ||
                             s_is(d, j - 1, "had") || s_is(d, j - 1, "being") ||
                             s_is(d, j - 1, "reportedly") || s_is(d, j - 1, "allegedly") ||
                             s_is(d, j - 1, "also") || s_is(d, j - 1, "all") ||
                             s_is(d, j - 1, "are") || s_is(d, j - 1, "is") ||
                             s_is(d, j - 1, "later") || s_is(d, j - 1, "now")))
            j--;
        if (deathnoun) {
            /* claimed 6,500 lives: the count right before */
            for (uint32_t q = (k > s->w0 + 3 ? k - 3 : s->w0); q < k && !got; q++) {
                uint32_t st = s_skip_qual(d, q, k);
                uint32_t nx;
                if (s_count(d, st, k, &count, &nx, &vague) && nx == k)
                    got = true;
            }
            if (got)
                kind = s_is(d, k, "casualties") ? CK_KILLED : CK_DEAD;
        }
        if (!got && !deathnoun) {
            /* find the counted noun ending at j */
            for (uint32_t q = (j > s->w0 + 8 ? j - 8 : s->w0); q < j && !got; q++) {
                uint32_t nx, e;
                int64_t v;
                bool vg;
                if (!s_count(d, q, j, &v, &nx, &vg))
                    continue;
                e = s_np(d, nx, j, &np0);
                if (e == j) {
                    count = v;
                    vague = vg;
                    np1 = e;
                    got = true;
                } else if (nx == j) {
                    /* "one killed in action and one wounded" */
                    count = v;
                    vague = vg;
                    got = true;
                    if (s_is(d, q, "another") && prev_subject)
                        subject = prev_subject;
                    else
                        subject = s_context_subject(c, s->w0, q);
                }
            }
        }
        bool passive = false;
        for (uint32_t q = j; q < k; q++)
            if (s_is(d, q, "was") || s_is(d, q, "were") || s_is(d, q, "been") || s_is(d, q, "being"))
                passive = true;
        if (!got && !deathnoun && !passive) {
            /* forwards: WORD count [modifiers] noun */
            uint32_t q = s_skip_qual(d, k + 1, s->w1);
            uint32_t nx;
            if (s_count(d, q, s->w1, &count, &nx, &vague)) {
                uint32_t e = s_np(d, nx, s->w1, &np0);
                if (!e) {
                    /* "injured more than a dozen Jews": any plural noun
                     * right after the count */
                    uint32_t q2 = nx;
                    if (s_is(d, q2, "of") && (s_is(d, q2 + 1, "the") || s_is(d, q2 + 1, "its")))
                        q2 += 2;
                    for (int g = 0; g < 3 && q2 < s->w1 && !(d->w[q2].flags & (W_PUNCT | W_NUM)) &&
                                    !(s_cls(d, q2, NULL) & (K_STOP | K_SAY | K_CASUALTY));
                         g++, q2++) {
                        const char *lw = d->text + d->w[q2].e - 1;
                        if (*lw == 's' && td_wlen(d, q2) > 3) {
                            np0 = nx;
                            e = q2 + 1;
                            break;
                        }
                    }
                }
                if (e) {
                    np1 = e;
                    got = true;
                } else if (vague || (nx < s->w1 && (s_cls(d, nx, NULL) & K_DEATHNOUN))) {
                    got = true; /* killed thousands */
                }
                if (got && kind == CK_KILLED && nx < s->w1 && (s_cls(d, nx, NULL) & K_DEATHNOUN))
                    kind = CK_DEAD;
            }
        }
        if (!got || count <= 0)
            continue;
        if (!claimant_done) {
            claimant = s_claimant(c, si, &ca, &cb, &has_sayer);
            claimant_done = true;
        }
        td_gz_hit hit;
        const char *dem = NULL;
        if (has_sayer && s_side(c, ca, cb, &hit))
            dem = hit.demonym;
        if (np1)
            subject = s_subject(c, np0, np1, count, dem);
        prev_subject = subject;
        char *bgdate;
        bool bg = s_background(c, si, &bgdate);
        if (!bg && si > 0) {
            /* inherit the previous sentence's past date when this one has
             * none of its own: "In September ... As a result, 50 were killed" */
            bool own = false;
            for (uint32_t m = 0; m < c->dates->n; m++)
                if (c->dates->m[m].sent == si)
                    own = true;
            /* only when the sentence goes on from there: "As a result", "Then" */
            const td_sent *st = &d->s[si];
            bool cont = (s_is(d, st->w0, "as") && s_is(d, st->w0 + 1, "a") &&
                         s_is(d, st->w0 + 2, "result")) ||
                        s_is(d, st->w0, "then") || s_is(d, st->w0, "during") ||
                        s_is(d, st->w0, "that") || s_is(d, st->w0, "those") ||
                        (s_is(d, st->w0, "at") && s_is(d, st->w0 + 1, "the") &&
                         s_is(d, st->w0 + 2, "time"));
            if (!own && si >= 2 && cont)
                bg = s_background(c, si - 1, &bgdate) && bgdate;
        }
        s_add(c, kind, count, subject, claimant, si, bg, bg ? bgdate : NULL);
        if (c->oom)
            return;
        /* "... six Armenian troops and seven Azerbaijani soldiers" */
        if (np1 && s_is(d, np1, "and")) {
            uint32_t nx, e2, q0;
            int64_t v2;
            bool vg2;
            if (s_count(d, np1 + 1, s->w1, &v2, &nx, &vg2) && (e2 = s_np(d, nx, s->w1, &q0))) {
                char *sub2 = s_subject(c, q0, e2, v2, dem);
                s_add(c, kind, v2, sub2, claimant, si, bg, bg ? bgdate : NULL);
            }
        }
    }
}

int td_claims_extract(const td_doc *d, const td_dates *dates, const td_gazetteer *gz, int ey,
                      int em, int ed, td_arena *arena, td_claim **out)
{
    s_ctx c = {.d = d, .dates = dates, .gz = gz, .arena = arena, .ey = ey, .em = em, .ed = ed};
    c.out = td_arena_alloc(arena, TD_MAX_CLAIMS * sizeof *c.out);
    if (!c.out)
        return -1;
    for (uint32_t si = 0; si < d->ns && c.n < TD_MAX_CLAIMS; si++) {
        s_sentence(&c, si);
        if (c.oom)
            return -1;
        /* remember the last full speaker phrase for "the ministry", "it" */
        uint32_t a, b;
        if (td_claims_sayer(d, si, d->s[si].w0, d->s[si].w1, &a, &b) && !s_vague_sayer(d, a, b)) {
            c.last_a = a;
            c.last_b = b;
            c.has_last = true;
        }
    }
    *out = c.out;
    return c.n;
}
