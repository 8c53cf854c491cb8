/* dfstats.h — document frequencies of terms and entities, maintained as the
 * stream grows and persisted in the `df` database (one small record per
 * term), so IDF weights survive restarts.
 *
 * The single writer reads and bumps a few hundred frequencies per article;
 * doing that through LMDB cost ~16 % of the store's CPU. So a td_df keeps
 * an in-memory table: a term's committed count is read from LMDB the first
 * time it is used, the running transaction's increments are kept beside it
 * and written once per transaction (td_df_flush, in key order). Because a
 * write transaction may be replayed or abandoned (td_db_write), increments
 * only join the committed counts in td_df_committed; td_df_aborted drops
 * them. The table is bounded: past TD_DF_MAX_ENTRIES, a commit keeps the
 * entries the latest commits used (at most half the bound) and drops the
 * rest, which are read from LMDB again when next used.
 *
 * Writing the counts is the other cost: a commit of 1,000 articles
 * changes ~33,000 counts, spread over the whole `df` database, so each
 * commit rewrote ~1,800 of its pages at 100k stored articles, more as it
 * grows. So most commits write only a log record instead (`df_log`: the
 * commit's increments, key and delta, back to back, appended in one
 * piece); every TD_DF_LOG_COMMITS-th commit, or once the counts waiting
 * for it pass TD_DF_HELD_MAX, writes all the waiting counts into `df` in
 * key order and empties the log, in the same transaction. Counts waiting
 * for that write stay in the table (a sweep keeps them). A table that
 * starts (a restarted store) adds the log's increments to the counts it
 * reads from `df`, so nothing committed is lost. Memory: at most
 * TD_DF_MAX_ENTRIES + TD_DF_HELD_MAX entries of 24 bytes at half load
 * (~72 MiB) and their keys in one slab.
 *
 * A key is known by its XXH3-64 hash and its length (as the centroids of
 * cluster.h know terms): callers that hashed the key already pass the hash.
 */
#ifndef TD_DFSTATS_H
#define TD_DFSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define TD_DF_MAX_ENTRIES ((size_t)1 << 19)
#define TD_DF_HELD_MAX (TD_DF_MAX_ENTRIES / 2)
#define TD_DF_LOG_COMMITS 32

typedef struct td_df td_df;

/* New empty table; NULL when out of memory. */
td_df *td_df_new(void);
void td_df_destroy(td_df **self_p);

/* Documents counted so far, this transaction's included. */
uint64_t td_df_docs(td_df *self, td_txn *txn);

/* Documents that contained `key` (0 when never seen), this transaction's
 * included. */
uint32_t td_df_get(td_df *self, td_txn *txn, const void *key, size_t len);

/* td_df_get with the key's hash `h` (XXH3_64bits of the key, 1 when that
 * is 0) computed by the caller. */
uint32_t td_df_get_h(td_df *self, td_txn *txn, uint64_t h, const void *key, size_t len);

/* Start loading the table entry of hash `h` into the cache: a caller about
 * to look up a few hundred keys prefetches them all first, so the lookups
 * wait for memory once, not once per key. */
void td_df_prefetch(const td_df *self, uint64_t h);

/* Count one more document holding each of the `n` distinct keys (in
 * memory until td_df_flush). TD_DB_ERROR when out of memory. */
td_db_rc td_df_add(td_df *self, td_txn *txn, const void *const *keys, const size_t *lens,
                   size_t n);

/* td_df_add with the keys' hashes (as td_df_get_h; NULL: computed here). */
td_db_rc td_df_add_h(td_df *self, td_txn *txn, const uint64_t *hs, const void *const *keys,
                     const size_t *lens, size_t n);

/* Make this transaction's increments durable in `txn`: a `df_log`
 * record, or every waiting count written into `df` (sorted by key) and
 * the log emptied (see above). */
td_db_rc td_df_flush(td_df *self, td_txn *txn);

/* One `df_log` record: calls fn for each key with its increment (a
 * non-zero return stops); *docs: the documents counted. -1 when the
 * record is malformed (entries before the fault were given to fn). */
typedef int (*td_df_log_fn)(const void *key, size_t len, uint32_t delta, void *arg);
int td_df_log_parse(const void *rec, size_t len, uint64_t *docs, td_df_log_fn fn, void *arg);

/* The transaction committed (increments become the committed counts) /
 * was abandoned or is about to be replayed (increments dropped). */
void td_df_committed(td_df *self);
void td_df_aborted(td_df *self);

/* Smoothed inverse document frequency: log((docs + 1) / (df + 1)) + 1. */
double td_df_idf(uint64_t docs, uint32_t df);

#endif
