/* ops_list.c — event.list and rejects.list; see ops.h.
 *
 * Both page newest first. A cursor is the hex of the last key a page
 * returned, and the next page starts strictly below it, so pages never
 * overlap, even while the store writes (an event whose activity moves up
 * while a client pages is not shown twice).
 */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static int s_keycmp(const void *a, size_t al, const void *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* Pack { "events": [...], "next_cursor"? } from the selected events. */
static int s_pack_events(td_qctx *ctx, const td_q_event *ev, size_t n, bool more)
{
    char *next = NULL;
    if (more && n > 0 && !(next = td_q_cursor_encode(ctx->arena, ev[n - 1].key, ev[n - 1].klen)))
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    if (td_reply_ok_begin(ctx->pk) || td_event_list_begin(ctx->pk, n, next != NULL))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (size_t i = 0; i < n; i++)
        if (td_pack_raw(ctx->pk, ev[i].raw.data, ev[i].raw.len))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    if (td_list_end(ctx->pk, next))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

/* No entity/story filter: walk event_time backwards from the upper bound. */
static int s_scan(td_qctx *ctx, const td_query *q, const unsigned char *cur, size_t curlen)
{
    unsigned char ub[8 + TD_DB_MAX_KEY];
    size_t ublen = 0;
    if (q->until != TD_TIME_NONE && q->until < INT64_MAX)
        ublen = td_db_timekey(q->until + 1, NULL, ub, sizeof ub);
    if (curlen && (!ublen || s_keycmp(cur, curlen, ub, ublen) < 0)) {
        memcpy(ub, cur, curlen);
        ublen = curlen;
    }
    td_q_event *ev = td_arena_alloc(ctx->arena, q->limit * sizeof *ev);
    if (!ev)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    td_cur *c;
    td_db_rc rc = td_cur_open(ctx->txn, TD_DBI_EVENT_TIME, &c);
    if (rc)
        return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
    td_val k;
    size_t n = 0;
    bool more = false;
    rc = ublen ? td_cur_before(c, ub, ublen, &k, NULL) : td_cur_last(c, &k, NULL);
    while (rc == TD_DB_OK) {
        int64_t t;
        const char *id;
        size_t idlen;
        if (td_db_timekey_split(k.data, k.len, &t, &id, &idlen) == 0) {
            if (q->since != TD_TIME_NONE && t < q->since)
                break;
            if (n == q->limit) {
                more = true;
                break;
            }
            td_val raw;
            td_db_rc grc = td_txn_get(ctx->txn, TD_DBI_EVENTS, id, idlen, &raw);
            if (grc == TD_DB_OK) {
                ev[n].key = (unsigned char *)k.data;   /* valid with the snapshot */
                ev[n].klen = k.len;
                ev[n].raw = raw;
                n++;
            } else if (grc == TD_DB_NOTFOUND) {
                td_warn("event_time names a missing event %.*s", (int)idlen, id);
            } else {
                td_cur_close(&c);
                return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(grc));
            }
        }
        rc = td_cur_prev(c, &k, NULL);
    }
    td_cur_close(&c);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
    return s_pack_events(ctx, ev, n, more);
}

static bool s_has(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

/* Entity and/or story filter: their event lists are bounded, so load them,
 * order them like event_time and page the same way. */
static int s_filtered(td_qctx *ctx, const td_query *q, const unsigned char *cur, size_t curlen)
{
    char **ids = NULL;
    size_t n_ids = 0;
    td_error err;
    if (q->entity) {
        td_entity_rec rec;
        int found = td_q_entity(ctx, q->entity, &rec, &ids, &n_ids);
        if (found < 0)
            return -1;
        if (found > 0)
            n_ids = 0;
    }
    if (q->story && (!q->entity || n_ids)) {
        td_val raw;
        td_story s;
        td_db_rc rc = td_db_story_get(ctx->txn, q->story, &raw);
        if (rc && rc != TD_DB_NOTFOUND && rc != TD_DB_BADVAL)
            return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
        if (rc != TD_DB_OK) {
            n_ids = 0;
        } else if (td_story_decode(raw.data, raw.len, ctx->arena, &s, &err) != 0) {
            return td_q_fail(ctx, TD_E_INTERNAL, "story does not decode: %s", err.message);
        } else if (!q->entity) {
            ids = s.event_ids;
            n_ids = s.n_event_ids;
        } else {
            size_t w = 0;   /* both filters: events in the entity and the story */
            for (size_t i = 0; i < n_ids; i++)
                if (s_has(s.event_ids, s.n_event_ids, ids[i]))
                    ids[w++] = ids[i];
            n_ids = w;
        }
    }
    td_q_event *ev;
    long n = td_q_events_load(ctx, ids, n_ids, &ev);
    if (n < 0)
        return -1;
    qsort(ev, (size_t)n, sizeof *ev, td_q_event_newest_first);
    size_t w = 0;
    bool more = false;
    for (long i = 0; i < n; i++) {
        if (q->since != TD_TIME_NONE && ev[i].last_seen < q->since)
            continue;
        if (q->until != TD_TIME_NONE && ev[i].last_seen > q->until)
            continue;
        if (curlen && s_keycmp(ev[i].key, ev[i].klen, cur, curlen) >= 0)
            continue;
        if (w == q->limit) {
            more = true;
            break;
        }
        ev[w++] = ev[i];
    }
    return s_pack_events(ctx, ev, w, more);
}

int td_op_event_list(td_qctx *ctx, const td_query *q)
{
    if (q->q && *q->q)
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "event.list: 'q' is not implemented yet");
    unsigned char cur[8 + TD_DB_MAX_KEY];
    size_t curlen = 0;
    if (q->cursor && !((curlen = td_q_cursor_decode(q->cursor, cur, sizeof cur)) > 8))
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "malformed cursor");
    td_query f = *q;   /* an empty filter string means no filter */
    if (f.entity && !*f.entity)
        f.entity = NULL;
    if (f.story && !*f.story)
        f.story = NULL;
    if (f.entity || f.story)
        return s_filtered(ctx, &f, cur, curlen);
    return s_scan(ctx, &f, cur, curlen);
}

int td_op_rejects_list(td_qctx *ctx, const td_query *q)
{
    unsigned char cur[8];
    size_t curlen = 0;
    if (q->cursor && (curlen = td_q_cursor_decode(q->cursor, cur, sizeof cur)) != 8)
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "malformed cursor");
    td_val *raws = td_arena_alloc(ctx->arena, q->limit * sizeof *raws);
    td_val last = {0};
    if (!raws)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    td_cur *c;
    td_db_rc rc = td_cur_open(ctx->txn, TD_DBI_REJECTS, &c);
    if (rc)
        return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
    td_val k, v;
    size_t n = 0;
    bool more = false;
    rc = curlen ? td_cur_before(c, cur, curlen, &k, &v) : td_cur_last(c, &k, &v);
    for (; rc == TD_DB_OK; rc = td_cur_prev(c, &k, &v)) {
        if (n == q->limit) {
            more = true;
            break;
        }
        raws[n++] = v;
        last = k;
    }
    td_cur_close(&c);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
    char *next = NULL;
    if (more && !(next = td_q_cursor_encode(ctx->arena, last.data, last.len)))
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    if (td_reply_ok_begin(ctx->pk) || td_reject_list_begin(ctx->pk, n, next != NULL))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (size_t i = 0; i < n; i++)
        if (td_pack_raw(ctx->pk, raws[i].data, raws[i].len))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    if (td_list_end(ctx->pk, next))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}
