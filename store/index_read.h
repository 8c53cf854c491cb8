/* index_read.h — reading one term's posting list (tidings-query).
 *
 * A td_plist walks the blocks of a term in docno order inside a read
 * snapshot. It moves forward only. td_plist_block positions on the block
 * that may hold a docno without decoding it (its header bounds the scores:
 * block-max pruning); td_plist_next_geq decodes the block and finds the
 * posting. Everything it returns stays valid with the snapshot. In
 * blocks of format 3 the frequencies and lengths are read in place (fixed
 * widths: no decoding); positions come from the `positions` database when
 * a phrase asks. A walk through blocks that live in overflow pages runs a
 * look-ahead cursor that prefetches the blocks in front.
 */
#ifndef TD_INDEX_READ_H
#define TD_INDEX_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "db.h"
#include "index_block.h"

typedef struct td_plist td_plist;

/* Open the list of `term` (arena-allocated, closed with td_plist_close
 * before the snapshot ends). A term with no postings gives an empty list
 * (df 0). NULL when out of memory. */
td_plist *td_plist_open(td_txn *txn, td_arena *arena, const char *term, size_t tlen);
void td_plist_close(td_plist *self);

/* The docnos of replaced versions (`retired`), walked like a list with
 * td_plist_next_geq only (no blocks, no frequencies); its df is their
 * number. Queries skip them. */
td_plist *td_plist_open_retired(td_txn *txn, td_arena *arena);

/* Document frequency as counted by the writer. */
uint64_t td_plist_df(const td_plist *self);

/* Move to the block whose range may hold the first docno >= d; fills *h.
 * false when no such block remains. */
bool td_plist_block(td_plist *self, uint32_t d, td_ix_header *h);

/* First docno >= d (TD_IX_NONE at the end); becomes the current posting. */
uint32_t td_plist_next_geq(td_plist *self, uint32_t d);

/* Frequencies and length of the current posting (decoded on the first call
 * in a block: postings that are never scored are never decoded). */
void td_plist_freq(td_plist *self, uint32_t *tt, uint32_t *tb, uint32_t *dl);

/* Positions of the current posting into pos (cap); count or -1. Reading a
 * block's postings in docno order walks its positions section once. */
int td_plist_positions(td_plist *self, uint32_t *pos, size_t cap);

/* First docno in [d, end] whose BM25 saturation reaches `need`, the cursor
 * left on it; when none, end + 1 (or TD_IX_NONE when the list is over).
 * *skipped tells whether postings were passed over.
 * `end` must not pass the current block (a block-max window): the loop
 * reads the decoded block's arrays directly, a few ns per posting. */
uint32_t td_plist_scan(td_plist *self, uint32_t d, uint32_t end, double need, bool *skipped);

/* BM25 parameters for td_plist_bound (k1, b, average document length). */
void td_plist_set_bm25(td_plist *self, double k1, double b, double avgdl);

/* Largest tf saturation tf / (tf + k1 (1 - b + b dl / avgdl)) of any
 * posting of the block td_plist_block last returned (computed once per
 * block from its header): times idf (k1 + 1) it bounds the block's scores. */
double td_plist_bound(td_plist *self);

/* Largest tf saturation, in the block td_plist_block last returned, of a
 * posting of a document of length dl (every posting is dominated by a bound
 * point of no greater length; 0 when none is: no posting of that length).
 * The lead list knows each candidate's length, so the other clauses are
 * bounded for that document rather than for their block's best length. */
double td_plist_bound_len(td_plist *self, uint32_t dl);

/* Reading the `terms`, `termdf` and `docs` databases: a term's number
 * (false when the index has no such term), its document frequency by
 * number or by term (0 when none). */
bool td_ix_term_no(td_txn *txn, const char *term, size_t tlen, uint32_t *no);
/* The same, telling a missing term (TD_DB_NOTFOUND) from a damaged or
 * old-layout entry (TD_DB_ERROR) and from a failed read. */
td_db_rc td_ix_term_lookup(td_txn *txn, const char *term, size_t tlen, uint32_t *no);
uint64_t td_ix_df_of(td_txn *txn, uint32_t no);
uint64_t td_ix_df(td_txn *txn, const char *term, size_t tlen);
/* The doc record of docno; TD_DB_NOTFOUND for a retired version. */
td_db_rc td_ix_doc_get(td_txn *txn, uint32_t doc, td_ix_doc *out);
/* The live docno of an article id. */
td_db_rc td_ix_docno(td_txn *txn, const char *id, uint32_t *doc);

#endif
