/* stories.c — story records and related events; see stories.h. */
#include "stories.h"

#include <string.h>

#include "codec.h"
#include "log.h"

td_db_rc td_stories_create(td_txn *txn, td_arena *arena, const char *event_id, int64_t first,
                           char **id)
{
    uint64_t sn = td_txn_counter_add(txn, TD_CTR_STORY_NEXT, 1);
    char *sid = td_arena_printf(arena, "s%llu", (unsigned long long)sn);
    char **ev = td_arena_alloc(arena, sizeof *ev);
    if (!sid || !ev)
        return TD_DB_ERROR;
    ev[0] = (char *)event_id;
    td_story s = {.id = sid, .first_seen = first, .last_seen = first, .event_ids = ev,
                  .n_event_ids = 1};
    td_db_rc rc = td_db_story_put(txn, &s);
    if (rc)
        return rc;
    td_txn_counter_add(txn, TD_CTR_STORIES, 1);
    *id = sid;
    return TD_DB_OK;
}

/* First publication time of a stored event (TD_TIME_NONE when unknown). */
static int64_t s_event_first(td_txn *txn, td_arena *arena, const char *id)
{
    td_val raw;
    td_event e;
    td_error err;
    if (td_db_event_get(txn, id, &raw) != TD_DB_OK ||
        td_event_decode(raw.data, raw.len, arena, &e, &err) != 0)
        return TD_TIME_NONE;
    return e.first_seen;
}

td_db_rc td_stories_add(td_txn *txn, td_arena *arena, const char *story_id,
                        const char *event_id, int64_t first)
{
    td_val raw;
    td_story s;
    td_error err;
    td_db_rc rc = td_db_story_get(txn, story_id, &raw);
    if (rc == TD_DB_NOTFOUND || (rc == TD_DB_OK &&
                                 td_story_decode(raw.data, raw.len, arena, &s, &err) != 0)) {
        td_warn("story %s missing or unreadable: making it anew", story_id);
        memset(&s, 0, sizeof s);
        s.id = (char *)story_id;
        s.first_seen = s.last_seen = first;
        if (rc == TD_DB_NOTFOUND)
            td_txn_counter_add(txn, TD_CTR_STORIES, 1);
    } else if (rc) {
        return rc;
    }
    for (size_t i = 0; i < s.n_event_ids; i++)
        if (strcmp(s.event_ids[i], event_id) == 0)
            return TD_DB_OK;
    char **ev = td_arena_alloc(arena, (s.n_event_ids + 1) * sizeof *ev);
    if (!ev)
        return TD_DB_ERROR;
    /* time order: usually the new event is the latest; a late one is placed
     * by reading back the events after it */
    size_t at = s.n_event_ids;
    if (s.n_event_ids && first < s.last_seen)
        while (at > 0) {
            int64_t t = s_event_first(txn, arena, s.event_ids[at - 1]);
            if (t == TD_TIME_NONE || t <= first)
                break;
            at--;
        }
    memcpy(ev, s.event_ids, at * sizeof *ev);
    ev[at] = (char *)event_id;
    memcpy(ev + at + 1, s.event_ids + at, (s.n_event_ids - at) * sizeof *ev);
    s.event_ids = ev;
    s.n_event_ids++;
    if (first != TD_TIME_NONE) {
        if (s.first_seen == TD_TIME_NONE || first < s.first_seen)
            s.first_seen = first;
        if (s.last_seen == TD_TIME_NONE || first > s.last_seen)
            s.last_seen = first;
    }
    return td_db_story_put(txn, &s);
}

/* Event `id` to relink: one that is gone or does not decode has no links
 * to change (*found = false), which is not an error. */
static td_db_rc s_event_load(td_txn *txn, td_arena *arena, const char *id, td_event *e,
                             bool *found)
{
    td_val raw;
    td_error err;
    *found = false;
    td_db_rc rc = td_db_event_get(txn, id, &raw);
    if (rc)
        return rc == TD_DB_NOTFOUND ? TD_DB_OK : rc;
    if (td_event_decode(raw.data, raw.len, arena, e, &err) != 0)
        return TD_DB_OK;
    *found = true;
    return TD_DB_OK;
}

td_db_rc td_stories_relate(td_txn *txn, td_arena *arena, const char *event_id,
                           const char *other)
{
    td_event e;
    bool found;
    td_db_rc rc = s_event_load(txn, arena, event_id, &e, &found);
    if (rc != TD_DB_OK || !found)
        return rc;
    if (e.n_related >= TD_STORIES_RELATED)
        return TD_DB_OK;
    for (size_t i = 0; i < e.n_related; i++)
        if (strcmp(e.related[i], other) == 0)
            return TD_DB_OK;
    char **r = td_arena_alloc(arena, (e.n_related + 1) * sizeof *r);
    if (!r)
        return TD_DB_ERROR;
    memcpy(r, e.related, e.n_related * sizeof *r);
    r[e.n_related++] = (char *)other;
    e.related = r;
    return td_db_event_put(txn, &e, e.last_seen);
}

td_db_rc td_stories_rerelate(td_txn *txn, td_arena *arena, const char *event_id,
                             const char *from, const char *to)
{
    td_event e;
    bool found;
    td_db_rc rc = s_event_load(txn, arena, event_id, &e, &found);
    if (rc != TD_DB_OK || !found)
        return rc;
    size_t w = 0;
    bool changed = false, have_to = false;
    for (size_t i = 0; i < e.n_related; i++)
        have_to = have_to || strcmp(e.related[i], to) == 0;
    for (size_t i = 0; i < e.n_related; i++) {
        if (strcmp(e.related[i], from) == 0) {
            changed = true;
            if (have_to || strcmp(event_id, to) == 0)
                continue;
            e.related[w++] = (char *)to;
            have_to = true;
        } else {
            e.related[w++] = e.related[i];
        }
    }
    if (!changed)
        return TD_DB_OK;
    e.n_related = w;
    return td_db_event_put(txn, &e, e.last_seen);
}
