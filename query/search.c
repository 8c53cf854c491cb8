/* search.c — query evaluation with block-max pruning; see search.h. */
#include "search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index_read.h"
#include "log.h"
#include "search_par.h"

#define K1 1.2
#define B 0.75
#define POS_CAP 1024
#define CURSOR_FORMAT 1
#ifndef EXACT_DF
#define EXACT_DF 4096      /* a lead clause this short is evaluated whole: exact totals */
#endif
#define SAFE (1 + 1e-9)   /* bounds are computed apart from scores: keep rounding on the safe side */

enum { N_TERM, N_PHRASE, N_OR };

typedef struct s_node {
    int kind;
    td_plist *pl;             /* N_TERM */
    double idf, w;
    struct s_node **kids;     /* N_PHRASE members, N_OR alternatives */
    uint32_t *offs;
    size_t nk;
    uint32_t doc;             /* last answer of s_next */
    bool started;
    uint64_t df;
} s_node;

#define MAX_LISTS 256

typedef struct {
    td_txn *txn;
    td_arena *arena;
    td_search_stats *st;
    td_plist *lists[MAX_LISTS];   /* closed before returning: cursors */
    size_t n_lists;
    uint32_t pos[2][POS_CAP];
} s_ctx;

static double s_bm25(const s_ctx *c, double idf, float tf, uint32_t dl)
{
    double norm = K1 * (1 - B + B * (double)dl / c->st->avgdl);
    return idf * tf * (K1 + 1) / (tf + norm);
}

/* A leaf on list `pl` (NULL: out of memory), closed with the query. */
static s_node *s_leaf(s_ctx *c, td_plist *pl)
{
    s_node *n = pl && c->n_lists < MAX_LISTS ? td_arena_alloc(c->arena, sizeof *n) : NULL;
    if (!n) {
        td_plist_close(pl);   /* NULL-safe */
        return NULL;
    }
    c->lists[c->n_lists++] = n->pl = pl;
    n->kind = N_TERM;
    n->df = td_plist_df(pl);
    return n;
}

static s_node *s_term(s_ctx *c, const char *term, double w, size_t *idf_i)
{
    s_node *n = s_leaf(c, td_plist_open(c->txn, c->arena, term, strlen(term)));
    if (!n)
        return NULL;
    td_plist_set_bm25(n->pl, K1, B, c->st->avgdl);
    n->w = w;
    if (idf_i) {
        size_t i = (*idf_i)++;
        if (i < TD_QP_MAX_TERMS) {
            if (i >= c->st->n_idf) {   /* not pinned: compute and remember */
                /* df counts replaced versions too (never decremented):
                 * capped at N so that idf stays positive — block bounds
                 * are upper bounds only for non-negative weights */
                double N = (double)c->st->n, df = fmin((double)n->df, N);
                c->st->idf[i] = (float)log(1 + (N - df + 0.5) / (df + 0.5));
                c->st->n_idf = i + 1;
            }
            n->idf = c->st->idf[i];
        }
    }
    return n;
}

/* The docnos of replaced versions, a NOT clause of every query. */
static s_node *s_retired(s_ctx *c)
{
    return s_leaf(c, td_plist_open_retired(c->txn, c->arena));
}

static s_node *s_phrase(s_ctx *c, const td_qphrase *ph, double w, size_t *idf_i)
{
    if (ph->n == 1)
        return s_term(c, ph->stems[0], w, idf_i);
    s_node *n = td_arena_alloc(c->arena, sizeof *n);
    if (!n || !(n->kids = td_arena_alloc(c->arena, ph->n * sizeof *n->kids)))
        return NULL;
    n->kind = N_PHRASE;
    n->offs = ph->offs;
    n->nk = ph->n;
    n->df = UINT64_MAX;
    for (size_t i = 0; i < ph->n; i++) {
        if (!(n->kids[i] = s_term(c, ph->stems[i], w, idf_i)))
            return NULL;
        if (n->kids[i]->df < n->df)
            n->df = n->kids[i]->df;
    }
    return n;
}

static uint32_t s_next(s_ctx *c, s_node *n, uint32_t d);

/* Do all members of a phrase (positioned on one doc) line up? */
static bool s_phrase_at(s_ctx *c, s_node *n)
{
    int n0 = td_plist_positions(n->kids[0]->pl, c->pos[0], POS_CAP);
    for (int a = 0; a < n0; a++) {
        uint32_t p0 = c->pos[0][a];
        bool all = true;
        for (size_t i = 1; i < n->nk && all; i++) {
            int ni = td_plist_positions(n->kids[i]->pl, c->pos[1], POS_CAP);
            uint32_t want = p0 + n->offs[i];
            all = false;
            for (int j = 0; j < ni && c->pos[1][j] <= want; j++)
                if (c->pos[1][j] == want)
                    all = true;
        }
        if (all)
            return true;
    }
    return false;
}

static uint32_t s_next(s_ctx *c, s_node *n, uint32_t d)
{
    if (n->started && n->doc >= d)
        return n->doc;
    n->started = true;
    switch (n->kind) {
    case N_TERM:
        return n->doc = td_plist_next_geq(n->pl, d);
    case N_PHRASE:
        for (;;) {
            uint32_t x = d;
            bool moved = true;
            while (moved) {
                moved = false;
                for (size_t i = 0; i < n->nk; i++) {
                    uint32_t y = s_next(c, n->kids[i], x);
                    if (y == TD_IX_NONE)
                        return n->doc = TD_IX_NONE;
                    if (y > x) {
                        x = y;
                        moved = true;
                    }
                }
            }
            if (s_phrase_at(c, n))
                return n->doc = x;
            if (x == TD_IX_NONE - 1)
                return n->doc = TD_IX_NONE;
            d = x + 1;
        }
    default: {
        uint32_t best = TD_IX_NONE;
        for (size_t i = 0; i < n->nk; i++) {
            uint32_t y = s_next(c, n->kids[i], d);
            if (y < best)
                best = y;
        }
        return n->doc = best;
    }
    }
}

static double s_score(s_ctx *c, s_node *n, uint32_t doc)
{
    if (n->doc != doc)
        return 0;
    if (n->kind == N_TERM) {
        if (n->w == 0)
            return 0;
        uint32_t tt, tb, dl;
        td_plist_freq(n->pl, &tt, &tb, &dl);
        return n->w * s_bm25(c, n->idf, td_ix_tf(tt, tb), dl);
    }
    double s = 0;
    for (size_t i = 0; i < n->nk; i++)
        s += s_score(c, n->kids[i], doc);
    return s;
}

/* Upper bound of the node's score over docs >= d up to *end (shallow: reads
 * block headers only). Returns -1 when the node has no doc >= d left. */
static double s_ub(s_ctx *c, s_node *n, uint32_t d, uint32_t *end)
{
    if (n->kind == N_TERM) {
        if (n->w == 0) {   /* a filter: scores nothing, bounds nothing */
            *end = TD_IX_NONE;
            return 0;
        }
        td_ix_header h;
        if (!td_plist_block(n->pl, d, &h))
            return -1;
        *end = h.last;
        (void)c;
        return n->w * n->idf * (K1 + 1) * td_plist_bound(n->pl);
    }
    double sum = 0;
    bool any = false;
    *end = TD_IX_NONE;
    for (size_t i = 0; i < n->nk; i++) {
        uint32_t e = TD_IX_NONE;
        double u = s_ub(c, n->kids[i], d, &e);
        if (u < 0) {
            if (n->kind == N_PHRASE)
                return -1;
            continue;
        }
        any = true;
        sum += u;
        if (e < *end)
            *end = e;
    }
    return any ? sum : -1;
}

/* ---- top-k heap: min at [0]; better = higher score, then higher docno --- */

static bool s_better(double s1, uint32_t d1, double s2, uint32_t d2)
{
    return s1 > s2 || (s1 == s2 && d1 > d2);
}

static void s_sift_down(td_search_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && s_better(h[m].score, h[m].doc, h[l].score, h[l].doc))
            m = l;
        if (r < n && s_better(h[m].score, h[m].doc, h[r].score, h[r].doc))
            m = r;
        if (m == i)
            return;
        td_search_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void s_push(td_search_hit *h, size_t *n, size_t cap, double s, uint32_t d)
{
    if (*n < cap) {
        size_t i = (*n)++;
        h[i] = (td_search_hit){d, s};
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!s_better(h[p].score, h[p].doc, h[i].score, h[i].doc))
                break;
            td_search_hit t = h[i];
            h[i] = h[p];
            h[p] = t;
            i = p;
        }
    } else if (s_better(s, d, h[0].score, h[0].doc)) {
        h[0] = (td_search_hit){d, s};
        s_sift_down(h, *n, 0);
    }
}

static int s_hit_cmp(const void *a, const void *b)
{
    const td_search_hit *x = a, *y = b;
    return s_better(x->score, x->doc, y->score, y->doc) ? -1
           : s_better(y->score, y->doc, x->score, x->doc) ? 1 : 0;
}

static int s_df_cmp(const void *a, const void *b)
{
    uint64_t x = (*(s_node *const *)a)->df, y = (*(s_node *const *)b)->df;
    return (x > y) - (x < y);
}

static bool s_in(const uint32_t *v, size_t n, uint32_t d)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (v[m] < d)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < n && v[lo] == d;
}

/* Can the lead's current posting still enter the top k? Its own score is
 * exact; each other plain term is bounded for a document of this length
 * (td_plist_bound_len, its block covering the window), the other clauses
 * by their window bounds. With words spread evenly every block bound is
 * near the term's maximum, but a given document's length caps what the
 * other terms can add: at 1M this cut the other list's decoded blocks of
 * a two-common-term query by more than half. */
static bool s_len_bound_ok(s_ctx *c, s_node **must, size_t nm, const double *wub, double theta)
{
    uint32_t tt, tb, dl;
    td_plist_freq(must[0]->pl, &tt, &tb, &dl);
    double ub = must[0]->w * s_bm25(c, must[0]->idf, td_ix_tf(tt, tb), dl);
    for (size_t i = 1; i < nm; i++) {
        const s_node *n = must[i];
        if (n->kind == N_TERM && n->w > 0)
            ub += n->w * n->idf * (K1 + 1) * td_plist_bound_len(n->pl, dl);
        else
            ub += wub[i];
    }
    return ub * SAFE >= theta;
}

int td_search_exec(td_txn *txn, td_arena *arena, const td_qparsed *q,
                   const td_search_opts *o, td_search_stats *st, td_search_res *res)
{
    memset(res, 0, sizeof *res);
    res->exact = true;
    if (!o->pinned) {
        memset(st, 0, sizeof *st);
        st->ceiling = (uint32_t)td_txn_counter(txn, TD_CTR_DOC_NEXT);
        st->n = td_txn_counter(txn, TD_CTR_DOC_LIVE);
        uint64_t tokens = td_txn_counter(txn, TD_CTR_DOC_TOKENS);
        st->avgdl = st->n ? (double)tokens / (double)st->n : 1;
    }
    if (st->avgdl <= 0)
        st->avgdl = 1;
    if (st->n == 0)
        st->n = 1;
    s_ctx *c = td_arena_alloc(arena, sizeof *c);
    size_t cap = (o->k ? o->k : 1) + 1;
    if (cap > TD_SEARCH_MAX_K + 1)
        cap = TD_SEARCH_MAX_K + 1;
    res->hits = td_arena_alloc(arena, cap * sizeof *res->hits);
    size_t nmax = q->n_must + q->n_sources + q->n_entities + 2;
    s_node **must = td_arena_alloc(arena, nmax * sizeof *must);
    s_node **nots = td_arena_alloc(arena, (q->n_nots + 1) * sizeof *nots);
    if (!c || !res->hits || !must || !nots)
        return -1;
    c->txn = txn;
    c->arena = arena;
    c->st = st;

    size_t idf_i = 0, nm = 0, nn = 0;
    int rc = -1;
    for (size_t i = 0; i < q->n_must; i++) {
        const td_qclause *cl = &q->must[i];
        s_node *n;
        if (cl->n_alts == 1) {
            n = s_phrase(c, &cl->alts[0], 1, &idf_i);
        } else {
            n = td_arena_alloc(arena, sizeof *n);
            if (n && (n->kids = td_arena_alloc(arena, cl->n_alts * sizeof *n->kids))) {
                n->kind = N_OR;
                n->nk = cl->n_alts;
                for (size_t j = 0; j < cl->n_alts && n; j++) {
                    if (!(n->kids[j] = s_phrase(c, &cl->alts[j], 1, &idf_i)))
                        n = NULL;
                    else
                        n->df += n->kids[j]->df;
                }
            } else {
                n = NULL;
            }
        }
        if (!n)
            goto done;
        must[nm++] = n;
    }
    /* filters: any of the named sources, any of the named entities */
    for (int f = 0; f < 2; f++) {
        char **names = f ? q->entities : q->sources;
        size_t count = f ? q->n_entities : q->n_sources;
        if (!count)
            continue;
        s_node *n = td_arena_alloc(arena, sizeof *n);
        if (!n || !(n->kids = td_arena_alloc(arena, count * sizeof *n->kids)))
            goto done;
        n->kind = N_OR;
        for (size_t j = 0; j < count; j++) {
            char key[TD_DB_ENTITY_KEY + 8];
            const char *pre = f ? TD_IX_P_ENTITY : TD_IX_P_SOURCE;
            size_t pl = strlen(pre);
            memcpy(key, pre, pl);
            if (!td_db_entity_norm(names[j], key + pl, sizeof key - pl))
                continue;
            s_node *t = s_term(c, key, 0, NULL);
            if (!t)
                goto done;
            n->kids[n->nk++] = t;
            n->df += t->df;
        }
        must[nm++] = n;
    }
    for (size_t i = 0; i < q->n_nots; i++)
        if (!(nots[nn++] = s_phrase(c, &q->nots[i], 0, NULL)))
            goto done;
    if (!(nots[nn++] = s_retired(c)))
        goto done;
    if (nm == 0 || q->n_must == 0) {
        rc = 0;   /* filters alone rank nothing: a query needs a term */
        goto done;
    }
    /* the rarest clause leads: fewest candidates to check */
    qsort(must, nm, sizeof *must, s_df_cmp);

    size_t nh = 0;
    uint64_t count = 0;
    bool pruned = false, prune = !o->count && must[0]->df > EXACT_DF;
    uint32_t d = o->lo ? o->lo : 1;
    uint32_t hi = o->hi && o->hi < st->ceiling ? o->hi : st->ceiling;
    /* a long lead list: the helper takes the upper half of the docnos,
     * the two parts sharing their k-th score */
    _Atomic uint64_t theta_shared = 0;
    td_search_opts up;
    bool split = o->par && !o->hi && hi >= 2 && must[0]->df >= td_search_par_min_df(o->par);
    if (split) {
        up = *o;
        up.par = NULL;
        up.pinned = true;
        up.lo = hi / 2 + 1;
        up.hi = hi;
        up.theta = &theta_shared;
        if (td_search_par_start(o->par, txn, q, &up, st))
            hi = up.lo - 1;
        else
            split = false;
    }
    _Atomic uint64_t *shared = split ? &theta_shared : o->theta;
    /* block-max window: every clause's current block covers [d, wend];
     * wub[i] bounds clause i there, wsum all of them */
    double *wub = td_arena_alloc(arena, nm * sizeof *wub), wsum = 0;
    uint32_t wend = 0;
    bool wvalid = false;
    if (!wub)
        goto wait;
    while (d != TD_IX_NONE && d <= hi) {
        /* the k-th score: of this heap once full, or a better one that
         * another part has (its k docs all score at least that much) */
        double mine = nh == cap ? res->hits[0].score : 0;
        double other = shared ? td_search_theta_get(shared) : 0;
        bool full = prune && (nh == cap || other > 0);
        double theta = full ? fmax(mine, other) : 0;
        if (full) {
            if (!wvalid || d > wend) {
                bool gone = false;
                wsum = 0;
                wend = TD_IX_NONE;
                for (size_t i = 0; i < nm && !gone; i++) {
                    uint32_t e;
                    wub[i] = s_ub(c, must[i], d, &e);
                    if (wub[i] < 0)
                        gone = true;
                    wsum += wub[i];
                    if (e < wend)
                        wend = e;
                }
                if (gone)
                    break;
                wvalid = true;
            }
            if (wsum * SAFE < theta) {
                /* no document of the window can enter the top k */
                pruned = true;
                d = wend == TD_IX_NONE ? wend : wend + 1;
                wvalid = false;
                continue;
            }
        }
        uint32_t x;
        if (full && must[0]->kind == N_TERM && must[0]->w > 0) {
            /* a plain lead term: scan its decoded block for the first
             * posting that could still enter the top k with the other
             * clauses at their bounds, without touching the other lists */
            double wl = must[0]->w * must[0]->idf * (K1 + 1);
            double need = (theta / SAFE - (wsum - wub[0])) / wl * (1 - 1e-9);
            bool skipped;
            uint32_t y = td_plist_scan(must[0]->pl, d, wend, need, &skipped);
            must[0]->started = false;   /* the cursor moved: ask it again */
            pruned |= skipped;
            if (y == TD_IX_NONE)
                break;
            if (y > wend) {
                d = y;
                wvalid = false;
                continue;
            }
            d = y;
            if (nm > 1 && !s_len_bound_ok(c, must, nm, wub, theta)) {
                pruned = true;   /* cannot reach the k-th score at its length */
                d = y + 1;
                continue;
            }
        }
        x = s_next(c, must[0], d);
        if (x == TD_IX_NONE || x > hi)
            break;
        if (full && x > wend) {
            d = x;   /* left the window: bound the next one first */
            wvalid = false;
            continue;
        }
        /* all clauses must match; once the heap is full, each clause's
         * score is added as soon as it matched and the document is dropped
         * when even the other clauses' bounds cannot lift it above the
         * k-th score (MaxScore within the window) */
        bool ok = true;
        double sc = 0, rest = wsum;
        for (size_t i = 0; i < nm; i++) {
            if (i > 0) {
                uint32_t y = s_next(c, must[i], x);
                if (y != x) {
                    d = y;
                    ok = false;
                    break;
                }
            }
            sc += s_score(c, must[i], x);
            if (full) {
                rest -= wub[i];
                if ((sc + rest) * SAFE < theta) {
                    pruned = true;
                    d = x + 1;
                    ok = false;
                    break;
                }
            }
        }
        if (!ok)
            continue;
        d = x + 1;
        for (size_t i = 0; i < nn && ok; i++)
            if (s_next(c, nots[i], x) == x)
                ok = false;
        if (!ok || (o->only && !s_in(o->only, o->n_only, x)))
            continue;
        if (o->since != TD_TIME_NONE || o->until != TD_TIME_NONE) {
            td_ix_doc doc;
            if (td_ix_doc_get(txn, x, &doc) != TD_DB_OK ||
                (o->since != TD_TIME_NONE && doc.published_at < o->since) ||
                (o->until != TD_TIME_NONE && doc.published_at > o->until))
                continue;
        }
        count++;   /* every page reports the same total */
        if (o->after && !s_better(o->after_score, o->after_doc, sc, x))
            continue;   /* on an earlier page */
        s_push(res->hits, &nh, cap, sc, x);
        if (shared && nh == cap)
            td_search_theta_raise(shared, res->hits[0].score);
    }
wait:
    if (split) {
        /* the helper's part, its hits merged into this heap */
        td_search_res r2;
        int rc2 = td_search_par_wait(o->par, &r2);
        if (rc2 == TD_SEARCH_PAR_NOT_RUN)
            rc2 = td_search_exec(txn, arena, q, &up, st, &r2);
        if (rc2 != 0 || !wub)
            goto done;
        /* its (k+1)-th hit too, when it has one: it tells whether a next page exists */
        for (size_t i = 0; i < r2.n + (r2.more ? 1 : 0); i++)
            s_push(res->hits, &nh, cap, r2.hits[i].score, r2.hits[i].doc);
        count += r2.count;
        pruned |= !r2.exact;
    }
    qsort(res->hits, nh, sizeof *res->hits, s_hit_cmp);
    res->more = nh > o->k;
    res->n = res->more ? o->k : nh;
    res->total = res->count = count;
    res->exact = !pruned;
    if (pruned) {
        /* independence estimate over the clauses, never below what was seen */
        double est = (double)st->n;
        for (size_t i = 0; i < nm; i++)
            est *= fmin(1.0, (double)must[i]->df / (double)st->n);
        if (est > (double)count)
            res->total = (uint64_t)est;
    }
    rc = 0;
done:
    for (size_t i = 0; i < c->n_lists; i++)
        td_plist_close(c->lists[i]);
    return rc;
}

size_t td_search_cursor_pack(const td_search_stats *st, double score, uint32_t doc,
                             unsigned char *out, size_t cap)
{
    size_t need = 1 + 4 + 8 + 8 + 8 + 4 + 1 + 4 * st->n_idf;
    if (cap < need)
        return 0;
    unsigned char *p = out;
    *p++ = CURSOR_FORMAT;
    memcpy(p, &st->ceiling, 4), p += 4;
    memcpy(p, &st->n, 8), p += 8;
    memcpy(p, &st->avgdl, 8), p += 8;
    memcpy(p, &score, 8), p += 8;
    memcpy(p, &doc, 4), p += 4;
    *p++ = (unsigned char)st->n_idf;
    memcpy(p, st->idf, 4 * st->n_idf);
    return need;
}

int td_search_cursor_unpack(const unsigned char *buf, size_t len, td_search_stats *st,
                            double *score, uint32_t *doc)
{
    if (len < 34 || buf[0] != CURSOR_FORMAT)
        return -1;
    const unsigned char *p = buf + 1;
    memset(st, 0, sizeof *st);
    memcpy(&st->ceiling, p, 4), p += 4;
    memcpy(&st->n, p, 8), p += 8;
    memcpy(&st->avgdl, p, 8), p += 8;
    memcpy(score, p, 8), p += 8;
    memcpy(doc, p, 4), p += 4;
    st->n_idf = *p++;
    if (st->n_idf > TD_QP_MAX_TERMS || len != 34 + 4 * st->n_idf || !(st->avgdl > 0) ||
        !isfinite(*score))
        return -1;
    memcpy(st->idf, p, 4 * st->n_idf);
    for (size_t i = 0; i < st->n_idf; i++)
        if (!isfinite(st->idf[i]) || st->idf[i] < 0)   /* bounds need weights >= 0 */
            return -1;
    return 0;
}

static bool s_matches(const td_qparsed *q, const char *stem)
{
    for (size_t i = 0; i < q->n_must; i++)
        for (size_t j = 0; j < q->must[i].n_alts; j++)
            for (size_t k = 0; k < q->must[i].alts[j].n; k++)
                if (strcmp(q->must[i].alts[j].stems[k], stem) == 0)
                    return true;
    return false;
}

/* First bytes of the query's stems (a token whose norm starts otherwise
 * cannot stem to one of them in English: Porter2 strips suffixes only). */
static void s_first_bytes(const td_qparsed *q, bool set[256])
{
    memset(set, 0, 256 * sizeof *set);
    for (size_t i = 0; i < q->n_must; i++)
        for (size_t j = 0; j < q->must[i].n_alts; j++)
            for (size_t k = 0; k < q->must[i].alts[j].n; k++)
                set[(unsigned char)q->must[i].alts[j].stems[k][0]] = true;
}

char *td_search_snippet(td_tokenizer *tk, const char *body, const char *lang,
                        const td_qparsed *q, size_t words, td_arena *arena)
{
    if (!body)
        return td_arena_strdup(arena, "");
    size_t len = strlen(body);
    enum { MAXT = 4096 };
    uint32_t *st = td_arena_alloc(arena, MAXT * sizeof *st);
    uint32_t *en = td_arena_alloc(arena, MAXT * sizeof *en);
    bool *hit = td_arena_alloc(arena, MAXT * sizeof *hit);
    if (!st || !en || !hit)
        return NULL;
    /* English (most articles): tokenise without stemming — boundaries and
     * norms do not depend on the language outside the eliding ones — and
     * stem only the tokens that start like a query stem. Stemming every
     * token was most of the cost of a search with few matches. */
    bool fast = lang && strcmp(lang, "en") == 0;
    bool first[256];
    if (fast) {
        s_first_bytes(q, first);
        td_tokenizer_begin_lang(tk, body, len, TD_LANG_ZH);   /* ZH: no stemmer, no stop words */
    } else {
        td_tokenizer_begin(tk, body, len, lang);
    }
    td_token t;
    size_t n = 0;
    while (n < MAXT && td_tokenizer_next(tk, &t)) {
        st[n] = t.start;
        en[n] = t.end;
        if (!fast) {
            hit[n] = !t.stop && s_matches(q, t.stem);
        } else if (!first[(unsigned char)t.norm[0]]) {
            hit[n] = false;
        } else if (t.kind != TD_TOK_WORD) {
            hit[n] = s_matches(q, t.norm);   /* numbers and CJK: the stem is the norm */
        } else {
            size_t sl;
            hit[n] = !td_lang_is_stop(TD_LANG_EN, t.norm, t.norm_len) &&
                     s_matches(q, td_tokenizer_stem(tk, TD_LANG_EN, t.norm, t.norm_len, &sl));
        }
        n++;
    }
    if (!n)
        return td_arena_strndup(arena, body, len < 200 ? len : 200);
    size_t best = 0, bestc = 0, cnt = 0;
    for (size_t i = 0; i < n; i++) {
        cnt += hit[i];
        if (i >= words)
            cnt -= hit[i - words];
        if (cnt > bestc) {
            bestc = cnt;
            best = i >= words ? i - words + 1 : 0;
        }
    }
    /* start a little before the first hit so it reads in context */
    size_t from = best, to = best + words < n ? best + words : n;
    size_t cap = (en[to - 1] - st[from]) + 4 * bestc + 16;
    char *out = td_arena_alloc(arena, cap + 8);
    if (!out)
        return NULL;
    size_t w = 0;
    if (from > 0)
        w += (size_t)sprintf(out + w, "… ");
    uint32_t at = st[from];
    for (size_t i = from; i < to; i++) {
        memcpy(out + w, body + at, st[i] - at);
        w += st[i] - at;
        if (hit[i])
            out[w++] = '*', out[w++] = '*';
        memcpy(out + w, body + st[i], en[i] - st[i]);
        w += en[i] - st[i];
        if (hit[i])
            out[w++] = '*', out[w++] = '*';
        at = en[i];
    }
    if (to < n)
        w += (size_t)sprintf(out + w, " …");
    out[w] = 0;
    return out;
}
