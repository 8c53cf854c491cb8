/* entity_tally.h — the entity records and links of the writer, held in
 * memory across commits and written to their tables in bulk.
 *
 * Each stored article counts one more article for each entity it mentions
 * (`entities`, keyed by the entity) and links the entity to its event
 * (`entity_events`, keyed by entity then event). Both tables are keyed at
 * random: once they have many more leaf pages than a commit has entities,
 * every changed record dirties a page of its own. Written at each commit,
 * they were what made a commit of 1,000 articles write more pages as the
 * archive grew (an A/B run to 500k stored, 2026-11-22: store and ingest
 * CPU around 500k 687 µs per article with the entity writes, 532 without;
 * docs/performance.md, "Results of stop 18").
 *
 * So the tally keeps the records it read, changed, and the links made or
 * removed, across commits. Each commit appends what it changed to
 * `entity_log` (one record, keyed by a u64 BE number, in the order the
 * changes were made); the tables themselves are brought up to date — every
 * held record and link written in key order, the log emptied, in the same
 * transaction — when the writer has nothing else waiting (`settle`), every
 * TD_ETALLY_LOG_COMMITS-th commit, or once more than TD_ETALLY_HELD_MAX
 * records and links are held. An idle store therefore writes the tables
 * at every commit, as before; a store working through a backlog writes
 * them every 32 commits, and a reader (entity.get) sees an entity's count
 * and events as of the last of those until the backlog clears (the store
 * settles the log once it has been idle for a batch window).
 *
 * A tally that starts (a restarted store, or after an attempt that did not
 * commit) first replays the log onto the records it reads, so nothing
 * committed is lost. A write transaction may be replayed or abandoned
 * (td_db_write): td_etally_begin at the start of each attempt forgets
 * what an unfinished one held, td_etally_committed keeps it.
 *
 *     td_etally *t = td_etally_new();
 *     td_etally_begin(t);                   (each attempt)
 *     td_etally_add(t, txn, key, name, kind, +1);
 *     td_etally_link(t, txn, key, event_id);
 *     td_etally_flush(t, txn, settle);      (before commit)
 *     td_etally_committed(t);               (or td_etally_aborted)
 */
#ifndef TD_ENTITY_TALLY_H
#define TD_ENTITY_TALLY_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

#define TD_ETALLY_LOG_COMMITS 32
#define TD_ETALLY_HELD_MAX ((size_t)1 << 18)

typedef struct td_etally td_etally;

/* New empty tally; NULL when out of memory. */
td_etally *td_etally_new(void);
void td_etally_destroy(td_etally **self_p);

/* One more (delta +1) or one fewer (-1, never below 0) article for the
 * entity of normalised `key` (td_db_entity_norm). A new entity takes
 * `name` and `kind`; one fewer of an entity never stored changes nothing. */
td_db_rc td_etally_add(td_etally *self, td_txn *txn, const char *key, const char *name,
                       td_entity_kind kind, int delta);

/* Link the entity to an event (as td_db_entity_link). */
td_db_rc td_etally_link(td_etally *self, td_txn *txn, const char *key, const char *event_id);

/* Remove a link (as td_db_entity_unlink); a later td_etally_link makes it
 * again. */
td_db_rc td_etally_unlink(td_etally *self, td_txn *txn, const char *key, const char *event_id);

/* The transaction's changes: appended to `entity_log`, or, with `settle`
 * (or when the log or the held set is long), every held record and link
 * written into the tables and the log emptied. */
td_db_rc td_etally_flush(td_etally *self, td_txn *txn, bool settle);

/* An attempt starts; what an attempt that neither committed nor aborted
 * held is forgotten (read back from the log at the next use). */
void td_etally_begin(td_etally *self);

/* The attempt committed: what it changed is kept (or, when it wrote the
 * tables, nothing is held any more). */
void td_etally_committed(td_etally *self);

/* The attempt was abandoned: everything held is forgotten and read back
 * from the log at the next use. */
void td_etally_aborted(td_etally *self);

/* Records held (for tests). */
size_t td_etally_held(const td_etally *self);

/* Commits whose changes wait in `entity_log` (0 right after the tables
 * were written). */
unsigned td_etally_logged(const td_etally *self);

/* Read the log back now rather than at the first change (a starting
 * store, so that td_etally_waiting is exact); `txn` may be a read
 * snapshot of the latest commit. */
td_db_rc td_etally_load(td_etally *self, td_txn *txn);

/* Changes may wait in the log: some are logged, or the log has not been
 * read back since an attempt failed. A writer with nothing else to do
 * then commits td_etally_flush with `settle`. */
bool td_etally_waiting(const td_etally *self);

/* ---- the log ---------------------------------------------------------------
 * A record: a format byte (1), then changes back to back, each an op byte
 * and its fields (numbers unsigned LEB128, store/varint.h):
 *   '+' or '-'  kind byte, key length, key, name length, name
 *   'L' or 'U'  key length, key, event id length, event id
 * Keys, names and ids hold no NUL byte. */

/* One change: op as above; `s` is the name ('+', '-') or the event id
 * ('L', 'U'); `kind` for '+' and '-'. Nonzero stops the walk. */
typedef int (*td_etally_log_fn)(int op, const char *key, size_t klen, const char *s,
                                size_t slen, int kind, void *arg);

/* Walk a record's changes in order: 0 when all were handed to `fn`, -1
 * when the record is malformed (the changes before the damage were
 * handed) or `fn` stopped. */
int td_etally_log_parse(const void *rec, size_t len, td_etally_log_fn fn, void *arg);

#endif
