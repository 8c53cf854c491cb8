/* entity_tally.h — the entity records of one write transaction, read once
 * and written once.
 *
 * Each stored article counts one more article for each entity it mentions
 * and links the entity to its event. Done per article, that was a read and
 * a write of the entity's record and a read of its link for every mention
 * (~3.8 % of the store's samples at 40k stored). Within one transaction
 * the same entities and the same (entity, event) pairs come back often,
 * so the tally keeps the records it read, changed in memory, and writes
 * each changed one once, in key order, when the transaction is about to
 * commit (td_etally_flush); a link already made in this transaction is not
 * looked up again.
 *
 * Nothing else reads `entities` inside the writer's transaction: readers
 * (the query daemon) see only committed data, which the flush wrote. The
 * tally must be reset when an attempt starts or ends (committed or not),
 * since what it holds is the attempt's.
 *
 *     td_etally *t = td_etally_new();
 *     td_etally_add(t, txn, key, name, kind, +1);
 *     td_etally_link(t, txn, key, event_id);
 *     td_etally_flush(t, txn);     (before commit)
 *     td_etally_reset(t);          (after commit or abort)
 */
#ifndef TD_ENTITY_TALLY_H
#define TD_ENTITY_TALLY_H

#include "db.h"

typedef struct td_etally td_etally;

/* New empty tally; NULL when out of memory. */
td_etally *td_etally_new(void);
void td_etally_destroy(td_etally **self_p);

/* One more (delta +1) or one fewer (-1, never below 0) article for the
 * entity of normalised `key` (td_db_entity_norm). A new entity takes
 * `name` and `kind`; one fewer of an entity never stored changes nothing. */
td_db_rc td_etally_add(td_etally *self, td_txn *txn, const char *key, const char *name,
                       td_entity_kind kind, int delta);

/* Link the entity to an event (td_db_entity_link), once per transaction. */
td_db_rc td_etally_link(td_etally *self, td_txn *txn, const char *key, const char *event_id);

/* Remove a link (td_db_entity_unlink); a later td_etally_link makes it again. */
td_db_rc td_etally_unlink(td_etally *self, td_txn *txn, const char *key, const char *event_id);

/* Write every record changed since the reset, in key order. */
td_db_rc td_etally_flush(td_etally *self, td_txn *txn);

/* Forget everything held (the transaction committed or was abandoned). */
void td_etally_reset(td_etally *self);

/* Records held (for tests). */
size_t td_etally_held(const td_etally *self);

#endif
