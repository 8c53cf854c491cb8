/* index.h — the search index writer of tidings-store (docs/search.md).
 *
 * Articles are tokenised with text/tokens.h (the tokenizer the query daemon
 * uses on query strings), and their postings are gathered in memory for the
 * whole batch. td_index_flush then writes, per term, one or two compressed
 * blocks (index_block.h) and one document-frequency update: the cost of a
 * batch grows with its distinct terms, not with its articles x terms.
 *
 * Everything goes through the batch's write transaction, so an aborted or
 * redone transaction (map growth) leaves no trace: call td_index_reset at
 * the start of each attempt.
 */
#ifndef TD_INDEX_H
#define TD_INDEX_H

#include "db.h"
#include "record.h"
#include "terms.h"

typedef struct td_index td_index;

/* New writer; NULL when out of memory. */
td_index *td_index_new(void);
void td_index_destroy(td_index **self_p);

/* Forget what was gathered (start of a transaction attempt). */
void td_index_reset(td_index *self);

/* Index a stored article (a->id set). When the article already has a live
 * version in the index, that version is retired (its docno joins the
 * deleted list) and replaced. Writes the doc record and id mapping now;
 * postings wait for td_index_flush. Returns TD_DB_OK or the database error
 * (TD_DB_ERROR when out of memory). */
td_db_rc td_index_add(td_index *self, td_txn *txn, const td_article *a);

/* The same with the article's tokens already computed (`terms`: td_terms_build
 * of a's title, body and language; the writer shares them with clustering). */
td_db_rc td_index_add_terms(td_index *self, td_txn *txn, const td_article *a,
                            const td_terms *terms);

/* Write the gathered postings and document frequencies (end of a batch,
 * before commit), then forget them. */
td_db_rc td_index_flush(td_index *self, td_txn *txn);

#endif
