/* assign.h — links each stored article to an event and a story, and keeps
 * the event aggregates and the entity records in step.
 *
 * Streaming clustering (cluster.h), provenance (provenance.h), the claims
 * ledger (ledger.h) and stories (stories.h) are driven from here. The
 * assigner keeps an in-memory candidate index of recently active events,
 * which is why it hears about transaction outcomes (a batch can be redone
 * after a map growth or aborted, and the index must match what is
 * committed). See docs/events.md.
 */
#ifndef TD_ASSIGN_H
#define TD_ASSIGN_H

#include "arena.h"
#include "db.h"
#include "notices.h"
#include "record.h"
#include "terms.h"

typedef struct td_assign td_assign;

/* New assigner; NULL when out of memory. */
td_assign *td_assign_new(void);
void td_assign_destroy(td_assign **self_p);

/* Assign a new article `a` (a->id set, times set) to an event and story
 * (`terms`: its tokens, td_terms_build of its title, body and language):
 * writes the event, story and entity records in `txn`, sets a->event and
 * a->story (strings in `arena`) and appends event.created/event.updated to
 * `notices`. Returns TD_DB_OK or the database error (the caller then drops
 * the transaction). */
td_db_rc td_assign_article(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                           const td_terms *terms, td_notices *notices);

/* A new version `a` replaces the stored `old` (same id): `a` keeps old's
 * event and story, whose aggregates and entity counts are refreshed. */
td_db_rc td_assign_update(td_assign *self, td_txn *txn, td_arena *arena,
                          const td_article *old, td_article *a, const td_terms *terms,
                          td_notices *notices);

/* A write transaction's attempt starts: what an unfinished one left in
 * memory is dropped. */
void td_assign_begin(td_assign *self);
/* The transaction with the assignments since the last call committed /
 * was abandoned (keep or roll back in-memory state). */
void td_assign_committed(td_assign *self);
void td_assign_aborted(td_assign *self);
/* Write what the assigner keeps in memory during a transaction (clustering
 * state, entity records); call at the end of every write transaction
 * body. `settle`: nothing else is waiting, so the entity tables are
 * brought up to date now rather than logged (entity_tally.h). */
td_db_rc td_assign_flush(td_assign *self, td_txn *txn, bool settle);
/* Entity changes may wait in their log (td_etally_waiting): an idle
 * writer commits a transaction of td_assign_begin and td_assign_flush
 * with `settle`. td_assign_entities_load reads the log back at start
 * (td_etally_load). */
bool td_assign_entities_waiting(const td_assign *self);
td_db_rc td_assign_entities_load(td_assign *self, td_txn *txn);

/* Events held in the in-memory candidate window (benchmarks, tests). */
size_t td_assign_window_events(const td_assign *self);

/* All article ids of a stored event, in arrival order (arena). The event
 * record embeds only its first ones (bounded record); the full list is in
 * event_articles (an event of an older store: the embedded list). */
td_db_rc td_assign_event_articles(td_txn *txn, const td_event *e, td_arena *arena,
                                  char ***ids, size_t *n);

/* Summary of a body: its first sentences, at most `max` bytes, in `arena`. */
char *td_assign_summary(const char *body, size_t max, td_arena *arena);

#endif
