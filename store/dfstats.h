/* dfstats.h — document frequencies of terms and entities, maintained as the
 * stream grows and persisted in the `df` database (one small record per
 * term), so IDF weights survive restarts and cost one LMDB read per term:
 * nothing of the vocabulary is held in memory.
 */
#ifndef TD_DFSTATS_H
#define TD_DFSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Documents counted so far. */
uint64_t td_df_docs(td_txn *txn);

/* Documents that contained `key` (0 when never seen). */
uint32_t td_df_get(td_txn *txn, const void *key, size_t len);

/* Count one more document holding each of the `n` distinct keys. */
td_db_rc td_df_add(td_txn *txn, const void *const *keys, const size_t *lens, size_t n);

/* Smoothed inverse document frequency: log((docs + 1) / (df + 1)) + 1. */
double td_df_idf(uint64_t docs, uint32_t df);

#endif
