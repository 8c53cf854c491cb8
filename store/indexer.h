/* indexer.h — the store's second thread: it gathers the search index's
 * postings while the writer goes on with the next batch.
 *
 * Gathering an article's postings (its terms and positions, appended to
 * the held per-term lists of a td_index) needs nothing from the database,
 * yet it was an eighth of the writer thread's time (docs/performance.md),
 * and the writer is the store's limit on two cores. So the articles'
 * transaction writes only the doc record (td_index_add_doc) and hands the
 * docno, with a copy of the article's tokens (their wire form), entities
 * and source, to this thread once the transaction commits. The thread
 * gathers them into a td_index of its own (td_index_post).
 *
 * The writer still writes the postings, in its own transactions: when a
 * flush is due it takes the thread's td_index (td_indexer_take waits until
 * everything handed over is gathered) and the thread goes on with an empty
 * one; flushed, the taken index comes back (td_indexer_give). Documents
 * are handed over in docno order and each taken index holds the docnos
 * after the previous one, so per term postings still reach the disk in
 * docno order.
 *
 * Nothing here is durable: the doc records and TD_CTR_DOC_UNINDEXED are,
 * and what the process loses is re-indexed at the next start
 * (td_index_recover). If memory runs out while gathering, the documents
 * from that one on are no longer gathered (an error is logged) and every
 * later flush leaves them counted as unindexed, for the next start.
 */
#ifndef TD_INDEXER_H
#define TD_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "record.h"

typedef struct td_indexer td_indexer;

/* New indexer with its thread started; NULL when out of memory or the
 * thread cannot start. */
td_indexer *td_indexer_new(void);

/* Stop the thread and free everything (what is not taken is dropped). */
void td_indexer_destroy(td_indexer **self_p);

/* Start of a transaction attempt: forget what a failed attempt added. */
void td_indexer_begin(td_indexer *self);

/* A document of the current attempt: its docno (from td_index_add_doc),
 * entities and source (from `a`) and tokens (`w`, td_terms_export form)
 * are copied. Returns 0, or -1 when out of memory. */
int td_indexer_add(td_indexer *self, uint32_t doc, const td_article *a,
                   const td_terms_wire *w);

/* The attempt committed: its documents go to the thread. */
void td_indexer_commit(td_indexer *self);

/* Documents handed over and not taken yet, and the memory they take
 * (copies waiting and postings gathered). */
size_t td_indexer_held(td_indexer *self);
size_t td_indexer_bytes(td_indexer *self);

/* Wait until the thread has gathered everything handed over; take the
 * index holding it (NULL when nothing is held) and leave the thread an
 * empty one. Give it back with td_indexer_give before the next take. */
td_index *td_indexer_take(td_indexer *self);

/* A taken index, flushed or not: it is reset and becomes the thread's
 * next empty one. */
void td_indexer_give(td_indexer *self, td_index *ix);

#endif
