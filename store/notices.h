/* notices.h — notifications produced by one write transaction, published on
 * the store's PUB socket (7405) only after that transaction commits.
 *
 * Each notice takes the next `seq` from the transaction's TD_CTR_SEQ counter,
 * so seq is persisted with the data it announces and keeps increasing by
 * exactly one across restarts. If the transaction is redone (map growth) or
 * aborted, td_notices_reset drops the list and the counter rolls back with
 * the transaction.
 */
#ifndef TD_NOTICES_H
#define TD_NOTICES_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "db.h"

#define TD_TOPIC_ARTICLE_STORED "article.stored"
#define TD_TOPIC_ARTICLE_REJECTED "article.rejected"
#define TD_TOPIC_EVENT_CREATED "event.created"
#define TD_TOPIC_EVENT_UPDATED "event.updated"

typedef struct td_notices td_notices;

/* New empty list; NULL when out of memory. */
td_notices *td_notices_new(void);
void td_notices_destroy(td_notices **self_p);

/* Forget every notice (start of a transaction attempt). */
void td_notices_reset(td_notices *self);

/* Append a notice of `type` (also its topic) about `id`; strings are copied.
 * Takes the next seq from `txn` and logs it in `changes` (changes.since).
 * Returns 0, or -1 when out of memory or the log write failed. */
int td_notices_add(td_notices *self, td_txn *txn, const char *type, const char *id,
                   const char *event, const char *story, const char *title, int64_t at);

/* Per-entity and per-event copies (docs/search.md, "Topics"): each is a
 * notification of its own with the next seq, also kept in `changes`:
 *   event.<id>              copies of event.updated
 *   article.entity.<name>   copies of article.stored, per entity of the
 *                           article (normalised name, at most
 *                           TD_NOTICES_ENTITY_TOPICS of them)
 * td_notices_add makes the event.<id> copies itself; call this after the
 * article.stored notice of `a`. Returns 0 or -1 (out of memory). */
#define TD_NOTICES_ENTITY_TOPICS 8
int td_notices_article_topics(td_notices *self, td_txn *txn, const td_article *a);

size_t td_notices_count(const td_notices *self);
/* The i-th notice (borrowed until the next reset). */
const td_notice *td_notices_at(const td_notices *self, size_t i);

/* Publish one notice on a PUB socket: topic frame, then td_notice_pack.
 * Never blocks (PUB drops under load by design). Returns 0 or -1. */
int td_notice_publish(void *pub, const td_notice *n);

#endif
