/* ops_get.c — article.get, event.get, story.get, entity.get; see ops.h. */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "log.h"

static int s_need(td_qctx *ctx, const char *value, const char *field)
{
    if (!value || !*value)
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "'%s' is required", field);
    return 0;
}

static int s_reply_raw(td_qctx *ctx, const td_val *raw)
{
    if (td_reply_ok_begin(ctx->pk) || td_pack_raw(ctx->pk, raw->data, raw->len))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

static int s_lookup_fail(td_qctx *ctx, td_db_rc rc, const char *what, const char *id)
{
    if (rc == TD_DB_NOTFOUND || rc == TD_DB_BADVAL)
        return td_q_fail(ctx, TD_E_NOT_FOUND, "no %s '%.200s'", what, id);
    return td_q_fail(ctx, TD_E_INTERNAL, "reading %s: %s", what, td_db_strerror(rc));
}

int td_op_article_get(td_qctx *ctx, const td_query *q)
{
    if (s_need(ctx, q->id, "id"))
        return -1;
    td_val raw;
    td_db_rc rc = td_db_article_get(ctx->txn, q->id, &raw);
    return rc ? s_lookup_fail(ctx, rc, "article", q->id) : s_reply_raw(ctx, &raw);
}

int td_op_event_get(td_qctx *ctx, const td_query *q)
{
    if (s_need(ctx, q->id, "id"))
        return -1;
    td_val raw;
    /* an event merged into another answers the one it went into (its id
     * differs from the one asked) */
    td_db_rc rc = td_db_event_get_moved(ctx->txn, q->id, &raw);
    if (rc)
        return s_lookup_fail(ctx, rc, "event", q->id);
    /* a large event's record embeds only its first article ids; all of
     * them are in event_articles (docs/events.md) */
    td_event e;
    td_error err;
    char **ids;
    size_t n;
    if (td_event_decode(raw.data, raw.len, ctx->arena, &e, &err) != 0 ||
        e.articles <= e.n_article_ids ||
        td_assign_event_articles(ctx->txn, &e, ctx->arena, &ids, &n) != TD_DB_OK ||
        n <= e.n_article_ids)
        return s_reply_raw(ctx, &raw);
    e.article_ids = ids;
    e.n_article_ids = n;
    if (td_reply_ok_begin(ctx->pk) || td_event_pack(ctx->pk, &e))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

int td_q_event_newest_first(const void *a, const void *b)
{
    const td_q_event *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    if (c == 0)
        c = (x->klen > y->klen) - (x->klen < y->klen);
    return -c;
}

static int s_oldest_first(const void *a, const void *b)
{
    const td_q_event *x = a, *y = b;
    if (x->first_seen != y->first_seen)
        return x->first_seen < y->first_seen ? -1 : 1;
    return -td_q_event_newest_first(a, b);
}

long td_q_events_load(td_qctx *ctx, char *const *ids, size_t n, td_q_event **out)
{
    td_q_event *ev = td_arena_alloc(ctx->arena, (n ? n : 1) * sizeof *ev);
    if (!ev)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    long k = 0;
    for (size_t i = 0; i < n; i++) {
        td_val raw;
        td_db_rc rc = td_db_event_get(ctx->txn, ids[i], &raw);
        if (rc == TD_DB_NOTFOUND) {
            td_warn("event %s is linked but missing", ids[i]);
            continue;
        }
        if (rc)
            return td_q_fail(ctx, TD_E_INTERNAL, "reading event: %s", td_db_strerror(rc));
        td_event e;
        td_error err;
        if (td_event_decode(raw.data, raw.len, ctx->arena, &e, &err) != 0) {
            td_warn("event %s does not decode: %s", ids[i], err.message);
            continue;
        }
        size_t cap = 8 + strlen(ids[i]);
        ev[k].key = td_arena_alloc(ctx->arena, cap);
        if (!ev[k].key)
            return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
        ev[k].klen = td_db_timekey(e.last_seen, ids[i], ev[k].key, cap);
        if (!ev[k].klen)
            continue;
        ev[k].raw = raw;
        ev[k].first_seen = e.first_seen;
        ev[k].last_seen = e.last_seen;
        k++;
    }
    *out = ev;
    return k;
}

int td_op_story_get(td_qctx *ctx, const td_query *q)
{
    if (s_need(ctx, q->id, "id"))
        return -1;
    td_val raw;
    td_db_rc rc = td_db_story_get(ctx->txn, q->id, &raw);
    if (rc)
        return s_lookup_fail(ctx, rc, "story", q->id);
    td_story s;
    td_error err;
    if (td_story_decode(raw.data, raw.len, ctx->arena, &s, &err) != 0)
        return td_q_fail(ctx, TD_E_INTERNAL, "story %.200s does not decode: %s", q->id,
                         err.message);
    td_q_event *ev;
    long n = td_q_events_load(ctx, s.event_ids, s.n_event_ids, &ev);
    if (n < 0)
        return -1;
    qsort(ev, (size_t)n, sizeof *ev, s_oldest_first);   /* a story reads in time order */
    if (td_reply_ok_begin(ctx->pk) || td_story_result_begin(ctx->pk, s.id, (size_t)n))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (long i = 0; i < n; i++)
        if (td_pack_raw(ctx->pk, ev[i].raw.data, ev[i].raw.len))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

int td_q_entity(td_qctx *ctx, const char *name, td_entity_rec *rec, char ***ids, size_t *n)
{
    char key[TD_DB_ENTITY_KEY];
    if (!td_db_entity_norm(name, key, sizeof key))
        return 1;
    td_db_rc rc = td_db_entity_get(ctx->txn, key, ctx->arena, rec);
    if (rc == TD_DB_NOTFOUND)
        return 1;
    bool more = false;
    if (rc == TD_DB_OK)
        rc = td_db_entity_events(ctx->txn, key, ctx->arena, TD_Q_ENTITY_SCAN, ids, n, &more);
    if (rc)
        return td_q_fail(ctx, TD_E_INTERNAL, "reading entity: %s", td_db_strerror(rc));
    if (more)
        td_warn("entity '%s' has more than %d events: only the first are considered", key,
                TD_Q_ENTITY_SCAN);
    return 0;
}
