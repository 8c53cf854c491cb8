/* stories.h — stories link events over a longer window than events do.
 *
 * A new event joins the story of the most similar event active in the story
 * window (shared entities and topic terms: td_cluster_related); the two
 * events list each other as `related`. A story keeps its events in time
 * order of their first article.
 */
#ifndef TD_STORIES_H
#define TD_STORIES_H

#include <stdint.h>

#include "arena.h"
#include "db.h"

#define TD_STORIES_RELATED 8   /* related events listed per event */

/* A new story holding the one event `event_id`; its id goes to *id (arena). */
td_db_rc td_stories_create(td_txn *txn, td_arena *arena, const char *event_id, int64_t first,
                           char **id);

/* Add `event_id` (first article at `first`) to story `story_id`, in time
 * order. A missing story is created under that id. */
td_db_rc td_stories_add(td_txn *txn, td_arena *arena, const char *story_id,
                        const char *event_id, int64_t first);

/* List `other` among the related events of stored event `event_id` (at most
 * TD_STORIES_RELATED; idempotent). */
td_db_rc td_stories_relate(td_txn *txn, td_arena *arena, const char *event_id,
                           const char *other);

/* In the `related` list of `event_id`, event `from` (merged away) becomes
 * `to`. */
td_db_rc td_stories_rerelate(td_txn *txn, td_arena *arena, const char *event_id,
                             const char *from, const char *to);

#endif
