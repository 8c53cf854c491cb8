/* search_par.h — a helper thread that evaluates part of a long query.
 *
 * tidings-query answers one request at a time, and a query over two or
 * three words that occur in most articles walks hundreds of thousands of
 * postings per word (at 1M articles, 2-6 ms of one core). On a two-core
 * machine the other core is idle meanwhile: td_search_exec hands the upper
 * half of the docno range to this helper, which opens its own read
 * snapshot (LMDB snapshots are per thread), evaluates that half with the
 * pinned statistics of the first (same idf, same average length, docnos
 * above the same ceiling ignored), and the two halves share their k-th
 * score so that each prunes with the better of the two. The halves are
 * merged by score: the hits are those of the serial evaluation.
 */
#ifndef TD_SEARCH_PAR_H
#define TD_SEARCH_PAR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "db.h"
#include "search.h"

#define TD_SEARCH_PAR_MIN_DF 50000   /* shorter lead lists are not worth a hand-off */
#define TD_SEARCH_PAR_NOT_RUN (-2)   /* td_search_par_wait: run the part yourself */

/* The helper thread (started here); min_df: the shortest lead list split.
 * NULL when the thread cannot be started. */
td_search_par *td_search_par_new(uint64_t min_df);
void td_search_par_destroy(td_search_par **self_p);
uint64_t td_search_par_min_df(const td_search_par *self);
/* Parts the helper has evaluated so far. */
uint64_t td_search_par_parts(const td_search_par *self);

/* Start evaluating q with opts o (a part: o->lo..o->hi, pinned) over a new
 * snapshot of txn's database, with a copy of *st. q must stay unchanged
 * until td_search_par_wait. false when the helper is busy. */
bool td_search_par_start(td_search_par *self, td_txn *txn, const td_qparsed *q,
                         const td_search_opts *o, const td_search_stats *st);

/* Wait for the part; *res gets its hits (k + 1 at most, valid until the
 * next start). 0, -1 on failure, or TD_SEARCH_PAR_NOT_RUN when no
 * snapshot could be opened (a map grown meanwhile). */
int td_search_par_wait(td_search_par *self, td_search_res *res);

/* The shared k-th score (a double kept in its bits; scores are >= 0). */
static inline double td_search_theta_get(_Atomic uint64_t *t)
{
    uint64_t b = atomic_load_explicit(t, memory_order_relaxed);
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static inline void td_search_theta_raise(_Atomic uint64_t *t, double score)
{
    uint64_t b, cur = atomic_load_explicit(t, memory_order_relaxed);
    memcpy(&b, &score, sizeof b);
    /* non-negative doubles order like their bit patterns */
    while (b > cur && !atomic_compare_exchange_weak_explicit(t, &cur, b, memory_order_relaxed,
                                                             memory_order_relaxed))
        ;
}

#endif
