/* index.h — the search index writer of tidings-store (docs/search.md).
 *
 * Articles are tokenised with text/tokens.h (the tokenizer the query daemon
 * uses on query strings), and their postings are gathered in memory for the
 * whole batch. td_index_flush then writes, per term, one or two compressed
 * blocks (index_block.h) and one document-frequency update: the cost of a
 * batch grows with its distinct terms, not with its articles x terms.
 *
 * Postings may be held across commits and flushed for several batches at
 * once (the indexer thread decides when, indexer.h): a term's postings
 * then cost one block rewrite per flush instead of one per batch. The
 * documents' records (docno, id, length) and the list of retired docnos
 * are written at once, with the article, in the main environment; the
 * postings go to the index's environment (db.h), whose counter
 * TD_CTR_INDEXED_UPTO says up to which docno they are all on disk, so
 * postings lost with the process are rebuilt from the stored articles at
 * the next start (td_index_recover).
 *
 * A flush goes in parts, each a transaction of its own
 * (td_index_flush_part): no transaction grows with the held postings. A
 * part is redone safely (a term's postings already on disk are skipped),
 * so a flush cut short by a failure or a crash is finished by the next
 * one or by td_index_recover.
 *
 * Each transaction attempt that adds articles starts with td_index_begin,
 * which drops what a failed attempt gathered, and every committed
 * transaction (articles or a part) ends with td_index_committed.
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

/* Forget everything gathered, held postings included. */
void td_index_reset(td_index *self);

/* Start of a transaction attempt: drop the postings of a previous attempt
 * that did not commit (postings of committed transactions stay held). */
void td_index_begin(td_index *self);

/* The attempt committed: postings it wrote are forgotten (all of them
 * after the last part), those it added are held for a later flush. */
void td_index_committed(td_index *self);

/* Documents whose postings are held (committed or in this attempt), and
 * the memory the held postings take. */
size_t td_index_held(const td_index *self);
size_t td_index_bytes(const td_index *self);

/* Index a stored article (a->id set). When the article already has a live
 * version in the index, that version is retired (its docno is put in
 * `retired`, its doc record deleted) and replaced. Writes the doc record and id mapping now;
 * postings wait for td_index_flush. Returns TD_DB_OK or the database error
 * (TD_DB_ERROR when out of memory). */
td_db_rc td_index_add(td_index *self, td_txn *txn, const td_article *a);

/* The same with the article's tokens already computed (`terms`: td_terms_build
 * of a's title, body and language; the writer shares them with clustering). */
td_db_rc td_index_add_terms(td_index *self, td_txn *txn, const td_article *a,
                            const td_terms *terms);

/* td_index_add_terms in two halves, for a writer that gathers postings on
 * another thread (indexer.h). td_index_add_doc is the part in the
 * articles' transaction: it retires an older version, hands out the
 * docno (*doc; 0 when the article has no id to index) and writes the doc
 * record with its length in indexed tokens. td_index_post, on any thread
 * and outside any transaction, gathers the postings of that committed
 * docno into `self` (which then holds docnos up to `doc` only: a flush of
 * it leaves later docnos counted as unindexed). Docnos must come in
 * increasing order; td_index_committed then holds them. td_index_post
 * returns 0, or -1 when out of memory. */
td_db_rc td_index_add_doc(td_index *self, td_txn *txn, const td_article *a,
                          const td_terms *terms, uint32_t *doc);
int td_index_post(td_index *self, uint32_t doc, const td_article *a, const td_terms *terms);

/* Write the next `max_terms` held terms (term number order) and their
 * document frequencies in this transaction; the last part also records
 * the last docno gathered as TD_CTR_INDEXED_UPTO. Once it commits
 * (td_index_committed) those postings are forgotten; td_index_held is 0
 * after the last part. */
td_db_rc td_index_flush_part(td_index *self, td_txn *txn, size_t max_terms);

/* All of it in one transaction (tests and tools). */
td_db_rc td_index_flush(td_index *self, td_txn *txn);

/* All of it into db's index environment, in transactions of
 * TD_INDEX_FLUSH_PART terms (td_db_index_write): a failed flush costs no
 * article, and the transactions stay the same size however many postings
 * are held (one transaction of every held term had grown to more than
 * LMDB's 131,071 dirty pages at ~850k stored articles,
 * docs/performance.md). What a failed transaction leaves stays held for
 * the next call. */
#define TD_INDEX_FLUSH_PART 16384
td_db_rc td_index_flush_db(td_index *self, td_db *db);

/* Gather the postings of the documents TD_CTR_DOC_UNINDEXED counts (the
 * docnos after TD_CTR_INDEXED_UPTO) from their stored articles, after a
 * crash lost them, in a transaction that reaches both environments (a
 * read snapshot will do); then td_index_committed holds them and the
 * caller flushes. In slices: gathering stops once `max_docs` documents or
 * `max_bytes` of postings are held (0: no bound), and the flush then
 * leaves the counter at the documents after the slice, for the next call.
 * *n: documents re-indexed. The arena holds the decoded articles. */
td_db_rc td_index_recover(td_index *self, td_txn *txn, td_arena *arena, size_t max_docs,
                          size_t max_bytes, size_t *n);

/* An index of the layout before term numbers (postings keyed by the
 * term, `terms` holding document frequencies), or one ahead of the
 * articles (TD_CTR_INDEXED_UPTO past the last docno): emptied, with every
 * docno counted as unindexed, so that td_index_recover rebuilds it from
 * the stored articles. *upgraded: whether it was. In a transaction that
 * reaches both environments. */
bool td_index_old_layout(td_txn *txn);
td_db_rc td_index_upgrade(td_txn *txn, bool *upgraded);

#endif
