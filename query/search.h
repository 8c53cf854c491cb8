/* search.h — ranked retrieval over the index of store/index*.c.
 *
 * Document-at-a-time evaluation of a parsed query (qparse.h): every clause
 * must match, NOT items and retired versions must not, filters are
 * zero-weight clauses over the reserved entity/source terms. Scores are
 * BM25 (k1 1.2, b 0.75) on a title-boosted term frequency. Top-k with
 * block-max pruning: once the heap is full, a docno window whose block
 * bounds (headers only) cannot beat the k-th score is skipped undecoded,
 * and inside a window a candidate is dropped as soon as its partial score
 * plus the other clauses' bounds cannot (MaxScore). The hits are the same
 * as without pruning; `total` is then an estimate (exact == false). A
 * query whose rarest clause has at most 4096 postings is evaluated whole
 * (exact total).
 *
 * Paging: td_search_stats are pinned by the first page and carried in the
 * cursor with the last hit's (score, docno), so later pages rank with the
 * same numbers, skip documents added since, and never overlap.
 */
#ifndef TD_SEARCH_H
#define TD_SEARCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "db.h"
#include "qparse.h"

#define TD_SEARCH_MAX_K 5000

typedef struct {
    uint32_t ceiling;         /* highest docno considered */
    uint64_t n;               /* live documents */
    double avgdl;
    size_t n_idf;
    float idf[TD_QP_MAX_TERMS];   /* per stem, in query order */
} td_search_stats;

typedef struct td_search_par td_search_par;

typedef struct {
    int64_t since, until;     /* TD_TIME_NONE when absent (published_at) */
    const uint32_t *only;     /* sorted docnos allowed (event filter); NULL: all */
    size_t n_only;
    uint32_t k;               /* hits wanted */
    bool after;               /* page below (after_score, after_doc) */
    double after_score;
    uint32_t after_doc;
    bool pinned;              /* use *stats as given (from a cursor) */
    bool count;               /* no pruning: every match is scored, total exact */
    /* evaluation split (search_par.h): a helper that may take half of the
     * docnos of a long query (NULL: all here); a part's range [lo, hi]
     * (hi 0: all) and the k-th score shared between the parts (NULL: none) */
    td_search_par *par;
    uint32_t lo, hi;
    _Atomic uint64_t *theta;
} td_search_opts;

typedef struct {
    uint32_t doc;
    double score;
} td_search_hit;

typedef struct {
    td_search_hit *hits;      /* best first (arena) */
    size_t n;
    uint64_t total;
    uint64_t count;           /* matches scored (total before any estimate) */
    bool exact;
    bool more;                /* a (k+1)-th hit exists */
} td_search_res;

/* Run `q` in the snapshot `txn`. `stats` is filled (or used, when
 * opts->pinned). With opts->par, a query whose rarest clause is long has
 * the upper half of its docnos evaluated by the helper thread in a
 * snapshot of its own (the same documents: docnos above stats->ceiling are
 * never considered), the two top-k merged. Returns 0, or -1 when out of
 * memory / database error. */
int td_search_exec(td_txn *txn, td_arena *arena, const td_qparsed *q,
                   const td_search_opts *opts, td_search_stats *stats, td_search_res *res);

/* Cursor blob of a page's last hit: encode to hex via td_q_cursor_*. */
size_t td_search_cursor_pack(const td_search_stats *st, double score, uint32_t doc,
                             unsigned char *out, size_t cap);
int td_search_cursor_unpack(const unsigned char *buf, size_t len, td_search_stats *st,
                            double *score, uint32_t *doc);

/* Snippet of `body`: the window of about `words` tokens with most query
 * stems, matched tokens wrapped in ** (arena). */
char *td_search_snippet(td_tokenizer *tk, const char *body, const char *lang,
                        const td_qparsed *q, size_t words, td_arena *arena);

#endif
