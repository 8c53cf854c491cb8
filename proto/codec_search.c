/* codec_search.c — search hits, view results and the changes log; see codec.h. */
#include <stdio.h>
#include <string.h>

#include "codec_util.h"

int td_search_result_begin(msgpack_packer *pk, size_t n, uint64_t total, bool exact,
                           bool has_cursor)
{
    int rc = msgpack_pack_map(pk, 3 + has_cursor);
    rc |= td_pk_kuint(pk, "total", total);
    rc |= td_pk_kbool(pk, "total_exact", exact);
    rc |= td_pk_key(pk, "hits") | msgpack_pack_array(pk, n);
    return rc ? -1 : 0;
}

int td_hit_pack(msgpack_packer *pk, const td_hit *h)
{
    int rc = msgpack_pack_map(pk, 7);
    rc |= td_pk_kstr(pk, "id", h->id);
    rc |= td_pk_key(pk, "score") | msgpack_pack_double(pk, h->score);
    rc |= td_pk_kstr(pk, "title", h->title);
    rc |= td_pk_kstr(pk, "source", h->source);
    rc |= td_pk_kint(pk, "published_at", h->published_at);
    rc |= td_pk_kstr(pk, "event", h->event);
    rc |= td_pk_kstr(pk, "snippet", h->snippet ? h->snippet : "");
    return rc ? -1 : 0;
}

int td_event_rank_begin(msgpack_packer *pk, size_t n, bool has_cursor)
{
    int rc = msgpack_pack_map(pk, 2 + has_cursor) | td_pk_key(pk, "events") |
             msgpack_pack_array(pk, n);
    return rc ? -1 : 0;
}

int td_event_scores_end(msgpack_packer *pk, const double *scores, size_t n,
                        const char *next_cursor)
{
    int rc = td_pk_key(pk, "scores") | msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        rc |= msgpack_pack_double(pk, scores[i]);
    if (next_cursor)
        rc |= td_pk_kstr(pk, "next_cursor", next_cursor);
    return rc ? -1 : 0;
}

int td_entity_view_begin(msgpack_packer *pk, const char *name, const char *kind,
                         uint64_t articles, const td_day_count *days, size_t n_days,
                         bool days_exact, size_t n_events)
{
    int rc = msgpack_pack_map(pk, 6) | td_pk_kstr(pk, "name", name) |
             td_pk_kstr(pk, "kind", kind) | td_pk_kuint(pk, "articles", articles);
    rc |= td_pk_key(pk, "per_day") | msgpack_pack_array(pk, n_days);
    for (size_t i = 0; i < n_days; i++) {
        rc |= msgpack_pack_map(pk, 2) | td_pk_kstr(pk, "day", days[i].day) |
              td_pk_kuint(pk, "count", days[i].count);
    }
    rc |= td_pk_kbool(pk, "per_day_exact", days_exact);
    rc |= td_pk_key(pk, "events") | msgpack_pack_array(pk, n_events);
    return rc ? -1 : 0;
}

int td_similar_begin(msgpack_packer *pk, size_t n_articles)
{
    int rc = msgpack_pack_map(pk, 2) | td_pk_key(pk, "articles") |
             msgpack_pack_array(pk, n_articles);
    return rc ? -1 : 0;
}

int td_similar_events(msgpack_packer *pk, size_t n_events)
{
    int rc = td_pk_key(pk, "events") | msgpack_pack_array(pk, n_events);
    return rc ? -1 : 0;
}

int td_change_pack(msgpack_packer *pk, const td_notice *n)
{
    int rc = msgpack_pack_map(pk, 4 + (n->event != NULL) + (n->story != NULL) +
                                      (n->title != NULL) + (n->at != TD_TIME_NONE));
    rc |= td_pk_kuint(pk, "seq", n->seq);
    rc |= td_pk_kstr(pk, "topic", n->topic ? n->topic : n->type);
    rc |= td_pk_kstr(pk, "type", n->type);
    rc |= td_pk_kstr(pk, "id", n->id ? n->id : "");
    if (n->event) rc |= td_pk_kstr(pk, "event", n->event);
    if (n->story) rc |= td_pk_kstr(pk, "story", n->story);
    if (n->title) rc |= td_pk_kstr(pk, "title", n->title);
    if (n->at != TD_TIME_NONE) rc |= td_pk_kint(pk, "at", n->at);
    return rc ? -1 : 0;
}

int td_changes_begin(msgpack_packer *pk, size_t n, uint64_t last_seq, bool truncated,
                     bool has_next, uint64_t next_seq)
{
    int rc = msgpack_pack_map(pk, 3 + has_next);
    rc |= td_pk_kuint(pk, "last_seq", last_seq);
    rc |= td_pk_kbool(pk, "truncated", truncated);
    if (has_next) rc |= td_pk_kuint(pk, "next_seq", next_seq);
    rc |= td_pk_key(pk, "changes") | msgpack_pack_array(pk, n);
    return rc ? -1 : 0;
}

int td_change_decode(const void *buf, size_t len, td_arena *arena, td_notice *out,
                     td_error *err)
{
    if (td_notice_decode(buf, len, arena, out, err) != 0)
        return -1;
    td_dec d;
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = td_dec_str(&d, &d.root, "topic", TD_MAX_SHORT, false, &out->topic) < 0 ? -1 : 0;
    td_dec_done(&d);
    return rc;
}

int td_search_result_decode(const void *buf, size_t len, td_arena *arena,
                            td_search_result *out, td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    int rc = -1;
    const msgpack_object *arr;
    if (td_dec_begin(&d, buf, len, arena, err) < 0 ||
        td_dec_uint(&d, &d.root, "total", &out->total) < 0 ||
        td_dec_bool(&d, &d.root, "total_exact", &out->total_exact) < 0 ||
        td_dec_str(&d, &d.root, "next_cursor", 1024, false, &out->next_cursor) < 0 ||
        td_dec_maps(&d, &d.root, "hits", &arr) < 0)
        goto done;
    out->n_hits = arr ? arr->via.array.size : 0;
    if (out->n_hits && !(out->hits = td_arena_alloc(arena, sizeof(td_hit) * out->n_hits))) {
        td_dec_fail(&d, TD_E_TOO_LARGE, "result too large");
        goto done;
    }
    for (size_t i = 0; i < out->n_hits; i++) {
        const msgpack_object *h = &arr->via.array.ptr[i];
        td_hit *t = &out->hits[i];
        char *id = NULL, *title = NULL, *source = NULL, *event = NULL, *snippet = NULL;
        t->published_at = TD_TIME_NONE;
        if (td_dec_str(&d, h, "id", TD_MAX_ID, true, &id) < 0 ||
            td_dec_double(&d, h, "score", &t->score) < 0 ||
            td_dec_str(&d, h, "title", 0, false, &title) < 0 ||
            td_dec_str(&d, h, "source", 0, false, &source) < 0 ||
            td_dec_int(&d, h, "published_at", false, &t->published_at) < 0 ||
            td_dec_str(&d, h, "event", TD_MAX_ID, false, &event) < 0 ||
            td_dec_str(&d, h, "snippet", 0, false, &snippet) < 0)
            goto done;
        t->id = id;
        t->title = title;
        t->source = source;
        t->event = event;
        t->snippet = snippet;
    }
    rc = 0;
done:
    td_dec_done(&d);
    return rc;
}

int td_view_result_decode(const void *buf, size_t len, td_arena *arena, td_view_result *out,
                          td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    int rc = -1;
    const msgpack_object *arr;
    if (td_dec_begin(&d, buf, len, arena, err) < 0 ||
        td_dec_str(&d, &d.root, "id", TD_MAX_ID, false, &out->id) < 0 ||
        td_dec_str(&d, &d.root, "name", TD_MAX_SHORT, false, &out->name) < 0 ||
        td_dec_str(&d, &d.root, "kind", 32, false, &out->kind) < 0 ||
        td_dec_uint(&d, &d.root, "articles", &out->articles) < 0 ||
        td_dec_maps(&d, &d.root, "per_day", &arr) < 0)
        goto done;
    out->n_days = arr ? arr->via.array.size : 0;
    if (out->n_days && !(out->days = td_arena_alloc(arena, sizeof(td_day_count) * out->n_days))) {
        td_dec_fail(&d, TD_E_TOO_LARGE, "result too large");
        goto done;
    }
    for (size_t i = 0; i < out->n_days; i++) {
        const msgpack_object *o = &arr->via.array.ptr[i];
        char *day = NULL;
        uint64_t count = 0;
        if (td_dec_str(&d, o, "day", 10, true, &day) < 0 ||
            td_dec_uint(&d, o, "count", &count) < 0)
            goto done;
        snprintf(out->days[i].day, sizeof out->days[i].day, "%s", day);
        out->days[i].count = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    }
    if (td_dec_maps(&d, &d.root, "events", &arr) < 0)
        goto done;
    out->n_events = arr ? arr->via.array.size : 0;
    if (out->n_events &&
        !(out->events = td_arena_alloc(arena, sizeof(td_event) * out->n_events))) {
        td_dec_fail(&d, TD_E_TOO_LARGE, "result too large");
        goto done;
    }
    for (size_t i = 0; i < out->n_events; i++)
        if (td_dec_event_obj(&d, &arr->via.array.ptr[i], &out->events[i]) < 0)
            goto done;
    rc = 0;
done:
    td_dec_done(&d);
    return rc;
}
