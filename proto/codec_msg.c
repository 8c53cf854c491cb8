/* codec_msg.c — messages around the records: acknowledgements, the
 * ingest->store link, queries, reply envelopes and results, notifications. */
#include <stdio.h>
#include <string.h>

#include "codec_util.h"

/* ---- acknowledgements ---------------------------------------------------- */

int td_ack_pack(msgpack_packer *pk, const td_ack *a)
{
    int rc;
    if (!a->ok) {
        rc = msgpack_pack_map(pk, 2 + (a->token != 0) + (a->id != NULL));
        if (a->token) rc |= td_pk_kuint(pk, "token", a->token);
        rc |= td_pk_kbool(pk, "ok", false);
        if (a->id) rc |= td_pk_kstr(pk, "id", a->id);
        rc |= td_pk_key(pk, "error") | msgpack_pack_map(pk, 2);
        rc |= td_pk_kstr(pk, "code", a->code ? a->code : TD_E_INTERNAL);
        rc |= td_pk_kstr(pk, "message", a->message ? a->message : "");
        return rc ? -1 : 0;
    }
    rc = msgpack_pack_map(pk, 4 + (a->token != 0) + (a->duplicate_of != NULL));
    if (a->token) rc |= td_pk_kuint(pk, "token", a->token);
    rc |= td_pk_kbool(pk, "ok", true);
    rc |= td_pk_kstr(pk, "id", a->id);
    rc |= td_pk_kstr(pk, "status", a->status);
    rc |= td_pk_kstr(pk, "event", a->event);
    if (a->duplicate_of) rc |= td_pk_kstr(pk, "duplicate_of", a->duplicate_of);
    return rc ? -1 : 0;
}

/* Reads {"code","message"} of an error map into code/message. The code is
 * mapped onto the static TD_E_* strings so callers can compare pointers. */
static int s_dec_error(td_dec *d, const msgpack_object *m, const char **code, char **message)
{
    const msgpack_object *e = td_dec_field(m, "error");
    char *c = NULL;
    *code = TD_E_INTERNAL;
    if (!e)
        return 0;
    if (e->type != MSGPACK_OBJECT_MAP)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'error' must be a map");
    if (td_dec_str(d, e, "code", 64, false, &c) < 0 ||
        td_dec_str(d, e, "message", TD_MAX_SHORT, false, message) < 0)
        return -1;
    static const char *const known[] = {TD_E_BAD_REQUEST, TD_E_TOO_LARGE, TD_E_UNAVAILABLE,
                                        TD_E_INTERNAL, TD_E_NOT_FOUND};
    for (size_t i = 0; c && i < sizeof known / sizeof *known; i++)
        if (strcmp(c, known[i]) == 0)
            *code = known[i];
    return 0;
}

int td_ack_decode(const void *buf, size_t len, td_arena *arena, td_ack *out, td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = (td_dec_uint(&d, &d.root, "token", &out->token) < 0 ||
              td_dec_bool(&d, &d.root, "ok", &out->ok) < 0 ||
              td_dec_str(&d, &d.root, "id", TD_MAX_ID, false, &out->id) < 0 ||
              td_dec_str(&d, &d.root, "status", 32, false, &out->status) < 0 ||
              td_dec_str(&d, &d.root, "event", TD_MAX_ID, false, &out->event) < 0 ||
              td_dec_str(&d, &d.root, "duplicate_of", TD_MAX_ID, false, &out->duplicate_of) < 0 ||
              (!out->ok && s_dec_error(&d, &d.root, &out->code, &out->message) < 0))
                 ? -1
                 : 0;
    td_dec_done(&d);
    return rc;
}

/* ---- ingest -> store ------------------------------------------------------ */

int td_store_msg_pack(msgpack_packer *pk, const td_store_msg *m)
{
    bool terms = m->article && m->terms;
    int rc = msgpack_pack_map(pk, 2 + (m->token != 0) + terms);
    rc |= td_pk_kstr(pk, "type", m->article ? "article" : "reject");
    if (m->token) rc |= td_pk_kuint(pk, "token", m->token);
    if (terms) rc |= td_pk_key(pk, "terms") | td_pk_terms(pk, m->terms);
    if (m->article)
        rc |= td_pk_key(pk, "article") | td_article_pack(pk, m->article);
    else
        rc |= td_pk_key(pk, "reject") | td_reject_pack(pk, m->reject);
    return rc ? -1 : 0;
}

int td_store_msg_decode(const void *buf, size_t len, td_arena *arena, td_store_msg *out,
                        td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    int rc = -1;
    char *type = NULL;
    if (td_dec_begin(&d, buf, len, arena, err) < 0 ||
        td_dec_str(&d, &d.root, "type", 32, true, &type) < 0 ||
        td_dec_uint(&d, &d.root, "token", &out->token) < 0)
        goto done;
    const char *field = strcmp(type, "article") == 0  ? "article"
                        : strcmp(type, "reject") == 0 ? "reject"
                                                      : NULL;
    const msgpack_object *o = field ? td_dec_field(&d.root, field) : NULL;
    if (!o) {
        td_dec_fail(&d, TD_E_BAD_REQUEST, "store message of type '%.32s' without its record", type);
        goto done;
    }
    if (field[0] == 'a') {
        out->article = td_arena_alloc(arena, sizeof(td_article));
        rc = out->article ? td_dec_article_obj(&d, o, out->article)
                          : td_dec_fail(&d, TD_E_TOO_LARGE, "record too large");
        const msgpack_object *t = rc == 0 ? td_dec_field(&d.root, "terms") : NULL;
        if (t) {
            out->terms = td_arena_alloc(arena, sizeof(td_terms_wire));
            rc = out->terms ? td_dec_terms_obj(&d, t, out->terms)
                            : td_dec_fail(&d, TD_E_TOO_LARGE, "record too large");
        }
    } else {
        out->reject = td_arena_alloc(arena, sizeof(td_reject));
        rc = out->reject ? td_dec_reject_obj(&d, o, out->reject)
                         : td_dec_fail(&d, TD_E_TOO_LARGE, "record too large");
    }
done:
    td_dec_done(&d);
    return rc;
}

/* ---- queries ---------------------------------------------------------------- */

int td_query_pack(msgpack_packer *pk, const td_query *q)
{
    size_t n = 1 + !!q->id + !!q->name + !!q->q + !!q->source + !!q->entity + !!q->event +
               !!q->story + !!q->cursor + !!q->lang + (q->since != TD_TIME_NONE) +
               (q->until != TD_TIME_NONE) + (q->after_seq != 0) + (q->limit != 0);
    int rc = msgpack_pack_map(pk, n);
    rc |= td_pk_kstr(pk, "op", q->op);
    if (q->id) rc |= td_pk_kstr(pk, "id", q->id);
    if (q->name) rc |= td_pk_kstr(pk, "name", q->name);
    if (q->q) rc |= td_pk_kstr(pk, "q", q->q);
    if (q->source) rc |= td_pk_kstr(pk, "source", q->source);
    if (q->entity) rc |= td_pk_kstr(pk, "entity", q->entity);
    if (q->event) rc |= td_pk_kstr(pk, "event", q->event);
    if (q->story) rc |= td_pk_kstr(pk, "story", q->story);
    if (q->cursor) rc |= td_pk_kstr(pk, "cursor", q->cursor);
    if (q->lang) rc |= td_pk_kstr(pk, "lang", q->lang);
    if (q->since != TD_TIME_NONE) rc |= td_pk_kint(pk, "since", q->since);
    if (q->until != TD_TIME_NONE) rc |= td_pk_kint(pk, "until", q->until);
    if (q->after_seq) rc |= td_pk_kuint(pk, "seq", q->after_seq);
    if (q->limit) rc |= td_pk_kuint(pk, "limit", q->limit);
    return rc ? -1 : 0;
}

int td_query_decode(const void *buf, size_t len, td_arena *arena, td_query *out, td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    out->since = out->until = TD_TIME_NONE;
    uint64_t limit = 20;
    int rc = -1;
    if (td_dec_begin(&d, buf, len, arena, err) < 0)
        goto done;
    const msgpack_object *m = &d.root;
    if (td_dec_str(&d, m, "op", 64, true, &out->op) < 0 ||
        td_dec_str(&d, m, "id", TD_MAX_ID, false, &out->id) < 0 ||
        td_dec_str(&d, m, "name", TD_MAX_SHORT, false, &out->name) < 0 ||
        td_dec_str(&d, m, "q", TD_MAX_SHORT, false, &out->q) < 0 ||
        td_dec_str(&d, m, "source", TD_MAX_SHORT, false, &out->source) < 0 ||
        td_dec_str(&d, m, "entity", TD_MAX_SHORT, false, &out->entity) < 0 ||
        td_dec_str(&d, m, "event", TD_MAX_ID, false, &out->event) < 0 ||
        td_dec_str(&d, m, "story", TD_MAX_ID, false, &out->story) < 0 ||
        td_dec_str(&d, m, "cursor", 1024, false, &out->cursor) < 0 ||
        td_dec_str(&d, m, "lang", 64, false, &out->lang) < 0 ||
        td_dec_int(&d, m, "since", false, &out->since) < 0 ||
        td_dec_int(&d, m, "until", false, &out->until) < 0 ||
        td_dec_uint(&d, m, "seq", &out->after_seq) < 0 ||
        td_dec_uint(&d, m, "limit", &limit) < 0)
        goto done;
    if (limit == 0) {
        td_dec_fail(&d, TD_E_BAD_REQUEST, "'limit' must be at least 1");
        goto done;
    }
    out->limit = limit > TD_MAX_LIST ? TD_MAX_LIST : (uint32_t)limit;
    rc = 0;
done:
    td_dec_done(&d);
    return rc;
}

/* ---- replies ------------------------------------------------------------------ */

int td_reply_error_pack(msgpack_packer *pk, const char *code, const char *message)
{
    int rc = msgpack_pack_map(pk, 2);
    rc |= td_pk_kbool(pk, "ok", false);
    rc |= td_pk_key(pk, "error") | msgpack_pack_map(pk, 2);
    rc |= td_pk_kstr(pk, "code", code);
    rc |= td_pk_kstr(pk, "message", message ? message : "");
    return rc ? -1 : 0;
}

int td_reply_ok_begin(msgpack_packer *pk)
{
    int rc = msgpack_pack_map(pk, 2) | td_pk_kbool(pk, "ok", true) | td_pk_key(pk, "result");
    return rc ? -1 : 0;
}

int td_pack_raw(msgpack_packer *pk, const void *buf, size_t len)
{
    return pk->callback(pk->data, buf, len) ? -1 : 0;
}

int td_ping_pack(msgpack_packer *pk)
{
    int rc = msgpack_pack_map(pk, 2) | td_pk_kstr(pk, "version", TD_WIRE_VERSION) |
             td_pk_kstr(pk, "software", TD_VERSION);
    return rc ? -1 : 0;
}

int td_stats_pack(msgpack_packer *pk, const td_stats *s)
{
    int rc = msgpack_pack_map(pk, 9 + (s->n_counters > 0));
    rc |= td_pk_kuint(pk, "articles", s->articles);
    rc |= td_pk_kuint(pk, "events", s->events);
    rc |= td_pk_kuint(pk, "stories", s->stories);
    rc |= td_pk_kuint(pk, "rejects", s->rejects);
    rc |= td_pk_kuint(pk, "db_bytes", s->db_bytes);
    rc |= td_pk_kuint(pk, "uptime_s", s->uptime_s);
    rc |= td_pk_kstr(pk, "version", s->version ? s->version : TD_VERSION);
    rc |= td_pk_kuint(pk, "seq", s->seq);
    rc |= td_pk_kuint(pk, "map_bytes", s->map_bytes);
    if (s->n_counters) {
        rc |= td_pk_key(pk, "counters") | msgpack_pack_map(pk, s->n_counters);
        for (size_t i = 0; i < s->n_counters; i++)
            rc |= td_pk_kuint(pk, s->counters[i].name, s->counters[i].value);
    }
    return rc ? -1 : 0;
}

int td_stats_decode(const void *buf, size_t len, td_stats *out, td_error *err)
{
    td_arena *arena = td_arena_new(1 << 16);
    if (!arena) {
        err->code = TD_E_INTERNAL;
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    td_dec d;
    memset(out, 0, sizeof *out);
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = (td_dec_uint(&d, &d.root, "articles", &out->articles) < 0 ||
              td_dec_uint(&d, &d.root, "events", &out->events) < 0 ||
              td_dec_uint(&d, &d.root, "stories", &out->stories) < 0 ||
              td_dec_uint(&d, &d.root, "rejects", &out->rejects) < 0 ||
              td_dec_uint(&d, &d.root, "db_bytes", &out->db_bytes) < 0 ||
              td_dec_uint(&d, &d.root, "uptime_s", &out->uptime_s) < 0 ||
              td_dec_uint(&d, &d.root, "seq", &out->seq) < 0 ||
              td_dec_uint(&d, &d.root, "map_bytes", &out->map_bytes) < 0)
                 ? -1
                 : 0;
    out->version = TD_VERSION;
    td_dec_done(&d);
    td_arena_destroy(&arena);
    return rc;
}

static int s_list_begin(msgpack_packer *pk, const char *key, size_t n, bool has_cursor)
{
    int rc = msgpack_pack_map(pk, 1 + has_cursor) | td_pk_key(pk, key) |
             msgpack_pack_array(pk, n);
    return rc ? -1 : 0;
}

int td_event_list_begin(msgpack_packer *pk, size_t n, bool has_cursor)
{
    return s_list_begin(pk, "events", n, has_cursor);
}

int td_reject_list_begin(msgpack_packer *pk, size_t n, bool has_cursor)
{
    return s_list_begin(pk, "rejects", n, has_cursor);
}

int td_story_result_begin(msgpack_packer *pk, const char *id, size_t n_events)
{
    int rc = msgpack_pack_map(pk, 2) | td_pk_kstr(pk, "id", id) | td_pk_key(pk, "events") |
             msgpack_pack_array(pk, n_events);
    return rc ? -1 : 0;
}

int td_list_end(msgpack_packer *pk, const char *next_cursor)
{
    if (!next_cursor)
        return 0;
    return td_pk_kstr(pk, "next_cursor", next_cursor) ? -1 : 0;
}

int td_reply_decode(const void *buf, size_t len, td_arena *arena, td_reply *out, td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (td_dec_begin(&d, buf, len, arena, err) < 0 ||
        td_dec_bool(&d, &d.root, "ok", &out->ok) < 0)
        goto done;
    if (!out->ok) {
        rc = s_dec_error(&d, &d.root, &out->code, &out->message);
        goto done;
    }
    /* find the raw bytes of "result": walk the top-level map by hand */
    const unsigned char *p = buf, *end = p + len;
    uint32_t n = d.root.via.map.size;
    unsigned c = *p;
    p += (c & 0xf0) == 0x80 ? 1 : c == 0xde ? 3 : 5;
    for (uint32_t i = 0; i < n && p; i++) {
        const unsigned char *k = p, *v = td_mp_next(k, end);
        const unsigned char *next = v ? td_mp_next(v, end) : NULL;
        /* key "result" is a fixstr of 6 bytes */
        if (v && v - k == 7 && k[0] == 0xa6 && memcmp(k + 1, "result", 6) == 0) {
            out->result = v;
            out->result_len = (size_t)(next - v);
        }
        p = next;
    }
    if (!out->result) {
        td_dec_fail(&d, TD_E_BAD_REQUEST, "reply without 'result'");
        goto done;
    }
    rc = 0;
done:
    td_dec_done(&d);
    return rc;
}

/* ---- notifications ------------------------------------------------------------ */

int td_notice_pack(msgpack_packer *pk, const td_notice *n)
{
    size_t cnt = 3 + !!n->event + !!n->story + !!n->title + (n->at != TD_TIME_NONE && n->at);
    int rc = msgpack_pack_map(pk, cnt);
    rc |= td_pk_kuint(pk, "seq", n->seq);
    rc |= td_pk_kstr(pk, "type", n->type);
    rc |= td_pk_kstr(pk, "id", n->id ? n->id : "");
    if (n->event) rc |= td_pk_kstr(pk, "event", n->event);
    if (n->story) rc |= td_pk_kstr(pk, "story", n->story);
    if (n->title) rc |= td_pk_kstr(pk, "title", n->title);
    if (n->at != TD_TIME_NONE && n->at) rc |= td_pk_kint(pk, "at", n->at);
    return rc ? -1 : 0;
}

int td_notice_decode(const void *buf, size_t len, td_arena *arena, td_notice *out, td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    out->at = TD_TIME_NONE;
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = (td_dec_uint(&d, &d.root, "seq", &out->seq) < 0 ||
              td_dec_str(&d, &d.root, "type", 64, true, &out->type) < 0 ||
              td_dec_str(&d, &d.root, "id", TD_MAX_ID, false, &out->id) < 0 ||
              td_dec_str(&d, &d.root, "event", TD_MAX_ID, false, &out->event) < 0 ||
              td_dec_str(&d, &d.root, "story", TD_MAX_ID, false, &out->story) < 0 ||
              td_dec_str(&d, &d.root, "title", 0, false, &out->title) < 0 ||
              td_dec_int(&d, &d.root, "at", false, &out->at) < 0)
                 ? -1
                 : 0;
    td_dec_done(&d);
    return rc;
}
