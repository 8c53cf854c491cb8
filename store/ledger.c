/* ledger.c — the claims ledger of an event; see ledger.h. */
#include "ledger.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gazetteer.h"

#define WORD_MAX 64

struct td_ledger {
    td_gazetteer *gz;
};

td_ledger *td_ledger_new(void)
{
    td_ledger *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (!(self->gz = td_gazetteer_new(NULL)))
        td_ledger_destroy(&self);
    return self;
}

void td_ledger_destroy(td_ledger **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_gazetteer_destroy(&(*self_p)->gz);
    free(*self_p);
    *self_p = NULL;
}

static const char *s_lookup(const td_ledger *self, const char *w, size_t n)
{
    td_gz_hit hit;
    if (!td_gazetteer_lookup(self->gz, w, n, &hit) || !hit.country)
        return NULL;
    if (hit.kind == TD_GZ_COUNTRY || hit.kind == TD_GZ_DEMONYM || hit.kind == TD_GZ_CITY)
        return hit.country;
    return NULL;
}

const char *td_ledger_side(const td_ledger *self, const char *phrase)
{
    if (!self || !phrase)
        return NULL;
    /* words: runs of letters, hyphens and apostrophes; "Armenia's" -> "Armenia" */
    const char *w[16];
    size_t n[16], k = 0;
    for (const char *p = phrase; *p && k < 16;) {
        while (*p && !(isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80))
            p++;
        const char *s = p;
        while (*p && (isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80 || *p == '-' ||
                      *p == '\''))
            p++;
        size_t len = (size_t)(p - s);
        if (len >= 2 && (s[len - 2] == '\'' && (s[len - 1] == 's' || s[len - 1] == 'S')))
            len -= 2;
        if (len && len < WORD_MAX) {
            w[k] = s;
            n[k++] = len;
        }
    }
    /* two-word names first ("South Korea", "New Delhi") */
    for (size_t i = 0; i + 1 < k; i++) {
        size_t len = (size_t)(w[i + 1] + n[i + 1] - w[i]);
        const char *c = s_lookup(self, w[i], len);
        if (c)
            return c;
    }
    for (size_t i = 0; i < k; i++) {
        /* only capitalised words name a side: "turkey" the bird is not Turkey */
        if (!isupper((unsigned char)w[i][0]) && (unsigned char)w[i][0] < 0x80)
            continue;
        const char *c = s_lookup(self, w[i], n[i]);
        if (c)
            return c;
    }
    return NULL;
}

/* The side of a claim's subject: named in it, else (a bare "soldiers") the
 * claimant's own: a ministry counting unqualified soldiers counts its own. */
static const char *s_subject_side(const td_ledger *self, const char *subject,
                                  char *const *claimants, size_t n)
{
    const char *side = td_ledger_side(self, subject);
    for (size_t i = 0; !side && i < n; i++)
        side = td_ledger_side(self, claimants[i]);
    return side;
}

/* The merge key of a subject: its side, else its words lower-cased without
 * a plural s. */
static void s_subject_key(const td_ledger *self, const char *subject, char *const *claimants,
                          size_t n, char *out, size_t cap)
{
    const char *side = s_subject_side(self, subject, claimants, n);
    if (side) {
        snprintf(out, cap, "side:%s", side);
        return;
    }
    size_t w = 0;
    for (const char *p = subject ? subject : ""; *p && w + 1 < cap; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (c == 's' && (p[1] == ' ' || !p[1]))
            continue;
        out[w++] = c;
    }
    out[w] = '\0';
}

static bool s_has(char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(list[i], s) == 0)
            return true;
    return false;
}

static int s_push(char ***list, size_t *n, const char *s, td_arena *arena)
{
    char **l = td_arena_alloc(arena, (*n + 1) * sizeof *l);
    if (!l)
        return -1;
    if (*n)
        memcpy(l, *list, *n * sizeof *l);
    l[(*n)++] = (char *)s;
    *list = l;
    return 0;
}

/* The entry of (kind, count, subject side) in e->claims (room for one more
 * is there), made when missing unless `confirm_only`; NULL when none. */
static td_ledger_entry *s_entry(const td_ledger *self, td_event *e, const char *kind,
                                int64_t count, const char *subject, char *const *claimants,
                                size_t n_claimants, bool *fresh)
{
    char key[256], k2[256];
    s_subject_key(self, subject, claimants, n_claimants, key, sizeof key);
    *fresh = false;
    for (size_t j = 0; j < e->n_claims; j++) {
        td_ledger_entry *x = &e->claims[j];
        if (strcmp(x->kind, kind) != 0 || x->count != count)
            continue;
        s_subject_key(self, x->subject, x->claimants, x->n_claimants, k2, sizeof k2);
        if (strcmp(key, k2) == 0)
            return x;
    }
    if (e->n_claims >= TD_LEDGER_ENTRIES)
        return NULL;
    td_ledger_entry *le = &e->claims[e->n_claims++];
    memset(le, 0, sizeof *le);
    le->kind = (char *)kind;
    le->count = count;
    le->subject = (char *)subject;
    *fresh = true;
    return le;
}

/* Add an article id and a claimant to an entry (each list bounded). */
static int s_note(td_ledger_entry *le, const char *article_id, const char *claimant,
                  td_arena *arena)
{
    if (article_id && le->n_article_ids < TD_LEDGER_IDS &&
        !s_has(le->article_ids, le->n_article_ids, article_id) &&
        s_push(&le->article_ids, &le->n_article_ids, article_id, arena) != 0)
        return -1;
    if (claimant && le->n_claimants < TD_LEDGER_IDS &&
        !s_has(le->claimants, le->n_claimants, claimant) &&
        s_push(&le->claimants, &le->n_claimants, claimant, arena) != 0)
        return -1;
    return 0;
}

static int s_disputes(const td_ledger *self, td_event *e, td_arena *arena);

int td_ledger_add(const td_ledger *self, td_event *e, const td_article *a, bool derived,
                  td_arena *arena)
{
    td_ledger_entry *l = td_arena_alloc(arena, (e->n_claims + a->n_claims + 1) * sizeof *l);
    if (!l)
        return -1;
    if (e->n_claims)
        memcpy(l, e->claims, e->n_claims * sizeof *l);
    e->claims = l;
    for (size_t i = 0; i < a->n_claims; i++) {
        const td_claim *c = &a->claims[i];
        if (c->background || !c->kind)
            continue;
        char *cl[1] = {c->claimant};
        bool fresh;
        td_ledger_entry *le = s_entry(self, e, c->kind, c->count, c->subject, cl,
                                      c->claimant ? 1 : 0, &fresh);
        if (!le)
            continue;
        if (!fresh && derived)
            continue; /* a copy or rewrite confirms nothing */
        if (s_note(le, a->id, c->claimant, arena) != 0)
            return -1;
    }
    return s_disputes(self, e, arena);
}

void td_ledger_unconfirm(td_event *e, const char *const *ids, size_t n)
{
    for (size_t j = 0; j < e->n_claims; j++) {
        td_ledger_entry *x = &e->claims[j];
        for (size_t k = 0; k < n && x->n_article_ids > 1; k++) {
            size_t w = 0;
            for (size_t i = 0; i < x->n_article_ids; i++)
                if (strcmp(x->article_ids[i], ids[k]) != 0)
                    x->article_ids[w++] = x->article_ids[i];
            x->n_article_ids = w;   /* >= 1: a list never holds an id twice */
        }
    }
}

int td_ledger_merge(const td_ledger *self, td_event *e, const td_event *other, td_arena *arena)
{
    td_ledger_entry *l = td_arena_alloc(arena, (e->n_claims + other->n_claims + 1) * sizeof *l);
    if (!l)
        return -1;
    if (e->n_claims)
        memcpy(l, e->claims, e->n_claims * sizeof *l);
    e->claims = l;
    for (size_t i = 0; i < other->n_claims; i++) {
        const td_ledger_entry *x = &other->claims[i];
        bool fresh;
        td_ledger_entry *le = s_entry(self, e, x->kind, x->count, x->subject, x->claimants,
                                      x->n_claimants, &fresh);
        if (!le)
            continue;
        for (size_t k = 0; k < x->n_article_ids; k++)
            if (s_note(le, x->article_ids[k], NULL, arena) != 0)
                return -1;
        for (size_t k = 0; k < x->n_claimants; k++)
            if (s_note(le, NULL, x->claimants[k], arena) != 0)
                return -1;
    }
    return s_disputes(self, e, arena);
}

/* Recompute `disputed` over the whole ledger. */
static int s_disputes(const td_ledger *self, td_event *e, td_arena *arena)
{
    size_t n = e->n_claims;
    const char **subj_side = td_arena_alloc(arena, (n + 1) * sizeof *subj_side);
    const char **claim_side = td_arena_alloc(arena, (n + 1) * sizeof *claim_side);
    char (*keys)[256] = td_arena_alloc(arena, (n + 1) * sizeof *keys);
    if (!subj_side || !claim_side || !keys)
        return -1;
    /* each entry's sides and subject key once (gazetteer lookups), then
     * the pairs */
    for (size_t i = 0; i < n; i++) {
        td_ledger_entry *x = &e->claims[i];
        x->disputed = false;
        subj_side[i] = s_subject_side(self, x->subject, x->claimants, x->n_claimants);
        claim_side[i] = NULL;
        for (size_t j = 0; j < x->n_claimants && !claim_side[i]; j++)
            claim_side[i] = td_ledger_side(self, x->claimants[j]);
        s_subject_key(self, x->subject, x->claimants, x->n_claimants, keys[i], sizeof keys[i]);
    }
    for (size_t i = 0; i < n; i++) {
        td_ledger_entry *x = &e->claims[i];
        for (size_t j = i + 1; j < n; j++) {
            td_ledger_entry *y = &e->claims[j];
            bool clash = strcmp(x->kind, y->kind) == 0 && x->count != y->count &&
                         strcmp(keys[i], keys[j]) == 0;
            /* two sides, each claiming figures about the two of them */
            const char *p = claim_side[i], *q = claim_side[j];
            if (!clash && p && q && strcmp(p, q) != 0 && subj_side[i] && subj_side[j]) {
                bool si = strcmp(subj_side[i], p) == 0 || strcmp(subj_side[i], q) == 0;
                bool sj = strcmp(subj_side[j], p) == 0 || strcmp(subj_side[j], q) == 0;
                clash = si && sj;
            }
            if (clash)
                x->disputed = y->disputed = true;
        }
    }
    return 0;
}
