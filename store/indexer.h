/* indexer.h — the store's second thread: it gathers the search index's
 * postings and writes them to the index's environment while the writer
 * goes on with the next batch.
 *
 * Gathering an article's postings and writing them need nothing from the
 * articles' transaction, yet they were a third of the writer thread's
 * time (docs/performance.md), and the writer is the store's limit on two
 * cores. So the articles' transaction writes only the doc record
 * (td_index_add_doc) and hands the docno, with a copy of the article's
 * tokens (their wire form), entities and source, to this thread once the
 * transaction commits. The thread gathers them into a td_index of its
 * own (td_index_post) and flushes it into the index environment
 * (td_index_flush_db, db.h: its own write lock, so beside the writer's
 * transactions) when it holds `docs` documents, `bytes` of postings, or
 * postings older than `ms` (td_indexer_hold), or when the writer asks
 * (td_indexer_sync). Documents are handed over in docno order, so per
 * term postings reach the disk in docno order.
 *
 * Nothing here is durable: the doc records are, and TD_CTR_INDEXED_UPTO
 * tells which docnos the index lacks after a crash (td_index_recover).
 * If memory runs out while gathering, the documents from that one on are
 * no longer gathered (an error is logged) and every later flush leaves
 * them counted as unindexed, for the next start.
 */
#ifndef TD_INDEXER_H
#define TD_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "record.h"

typedef struct td_indexer td_indexer;

/* New indexer with its thread started, writing into db's index
 * environment; NULL when out of memory or the thread cannot start. Until
 * td_indexer_hold, every batch is written once gathered. */
td_indexer *td_indexer_new(td_db *db);

/* Stop the thread and free everything (what is not written is dropped:
 * td_index_recover writes it at the next start). */
void td_indexer_destroy(td_indexer **self_p);

/* When the gathered postings are written: once they hold `docs` documents
 * (0: after every batch), `bytes` of memory (0: TD_INDEXER_HOLD_BYTES) or
 * are `ms` old. */
#define TD_INDEXER_HOLD_BYTES ((size_t)160 << 20)
void td_indexer_hold(td_indexer *self, size_t docs, int64_t ms, size_t bytes);

/* Start of a transaction attempt: forget what a failed attempt added. */
void td_indexer_begin(td_indexer *self);

/* A document of the current attempt: its docno (from td_index_add_doc),
 * entities and source (from `a`) and tokens (`w`, td_terms_export form)
 * are copied. Returns 0, or -1 when out of memory. */
int td_indexer_add(td_indexer *self, uint32_t doc, const td_article *a,
                   const td_terms_wire *w);

/* The attempt committed: its documents go to the thread. */
void td_indexer_commit(td_indexer *self);

/* Documents handed over and not written yet, and the memory they take
 * (copies waiting and postings gathered). */
size_t td_indexer_held(td_indexer *self);
size_t td_indexer_bytes(td_indexer *self);

/* Wait until the postings of every document handed over are written;
 * TD_DB_OK, or the error of a flush that failed meanwhile (what it left
 * stays held, and is written by a later flush). */
td_db_rc td_indexer_sync(td_indexer *self);

#endif
