/* codec_event.c — events (with the claims ledger), stories and reject
 * records: their field names live here and nowhere else. */
#include <string.h>

#include "codec_util.h"

int td_event_pack(msgpack_packer *pk, const td_event *e)
{
    size_t n = 16 + !!e->event_date;
    int rc = msgpack_pack_map(pk, n);
    rc |= td_pk_kint(pk, "rv", TD_RECORD_VERSION);
    rc |= td_pk_kstr(pk, "id", e->id);
    rc |= td_pk_kstr(pk, "title", e->title ? e->title : "");
    rc |= td_pk_kstr(pk, "summary", e->summary ? e->summary : "");
    rc |= td_pk_kstr(pk, "story", e->story);
    if (e->event_date) rc |= td_pk_kstr(pk, "event_date", e->event_date);
    rc |= td_pk_kint(pk, "first_seen", e->first_seen);
    rc |= td_pk_kint(pk, "last_seen", e->last_seen);
    rc |= td_pk_kuint(pk, "articles", e->articles);
    rc |= td_pk_kuint(pk, "sources", e->sources);
    rc |= td_pk_kuint(pk, "independent_sources", e->independent_sources);
    rc |= td_pk_kstrv(pk, "article_ids", e->article_ids, e->n_article_ids);
    rc |= td_pk_key(pk, "entities") | msgpack_pack_array(pk, e->n_entities);
    for (size_t i = 0; i < e->n_entities; i++) {
        rc |= msgpack_pack_map(pk, 3);
        rc |= td_pk_kstr(pk, "name", e->entities[i].name);
        rc |= td_pk_kstr(pk, "kind", td_entity_kind_name(e->entities[i].kind));
        rc |= td_pk_kuint(pk, "count", e->entities[i].count);
    }
    rc |= td_pk_kstrv(pk, "places", e->places, e->n_places);
    rc |= td_pk_kstrv(pk, "keywords", e->keywords, e->n_keywords);
    rc |= td_pk_key(pk, "claims") | msgpack_pack_array(pk, e->n_claims);
    for (size_t i = 0; i < e->n_claims; i++) {
        const td_ledger_entry *c = &e->claims[i];
        rc |= msgpack_pack_map(pk, 6);
        rc |= td_pk_kstr(pk, "kind", c->kind);
        rc |= td_pk_kint(pk, "count", c->count);
        rc |= td_pk_kstr(pk, "subject", c->subject);
        rc |= td_pk_kstrv(pk, "claimants", c->claimants, c->n_claimants);
        rc |= td_pk_kstrv(pk, "article_ids", c->article_ids, c->n_article_ids);
        rc |= td_pk_kbool(pk, "disputed", c->disputed);
    }
    rc |= td_pk_kstrv(pk, "related", e->related, e->n_related);
    return rc ? -1 : 0;
}

static int s_u32(td_dec *d, const msgpack_object *m, const char *name, uint32_t *out)
{
    uint64_t v = 0;
    if (td_dec_uint(d, m, name, &v) < 0)
        return -1;
    *out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return 0;
}

int td_dec_event_obj(td_dec *d, const msgpack_object *m, td_event *e)
{
    memset(e, 0, sizeof *e);
    if (m->type != MSGPACK_OBJECT_MAP)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "an event must be a map");
    if (td_dec_str(d, m, "id", TD_MAX_ID, true, &e->id) < 0 ||
        td_dec_str(d, m, "title", 0, false, &e->title) < 0 ||
        td_dec_str(d, m, "summary", 0, false, &e->summary) < 0 ||
        td_dec_str(d, m, "story", TD_MAX_ID, false, &e->story) < 0 ||
        td_dec_str(d, m, "event_date", 32, false, &e->event_date) < 0 ||
        td_dec_int(d, m, "first_seen", false, &e->first_seen) < 0 ||
        td_dec_int(d, m, "last_seen", false, &e->last_seen) < 0 ||
        s_u32(d, m, "articles", &e->articles) < 0 || s_u32(d, m, "sources", &e->sources) < 0 ||
        s_u32(d, m, "independent_sources", &e->independent_sources) < 0 ||
        td_dec_strv(d, m, "article_ids", TD_MAX_ID, &e->article_ids, &e->n_article_ids) < 0 ||
        td_dec_strv(d, m, "places", TD_MAX_SHORT, &e->places, &e->n_places) < 0 ||
        td_dec_strv(d, m, "keywords", TD_MAX_SHORT, &e->keywords, &e->n_keywords) < 0 ||
        td_dec_strv(d, m, "related", TD_MAX_ID, &e->related, &e->n_related) < 0)
        return -1;

    const msgpack_object *arr;
    if (td_dec_maps(d, m, "entities", &arr) < 0)
        return -1;
    e->n_entities = arr ? arr->via.array.size : 0;
    if (e->n_entities &&
        !(e->entities = td_arena_alloc(d->arena, sizeof(td_entity) * e->n_entities)))
        return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    for (size_t i = 0; i < e->n_entities; i++) {
        const msgpack_object *o = &arr->via.array.ptr[i];
        char *kind = NULL;
        if (td_dec_str(d, o, "name", TD_MAX_SHORT, true, &e->entities[i].name) < 0 ||
            td_dec_str(d, o, "kind", 32, false, &kind) < 0 ||
            s_u32(d, o, "count", &e->entities[i].count) < 0)
            return -1;
        e->entities[i].kind = td_entity_kind_parse(kind);
    }

    if (td_dec_maps(d, m, "claims", &arr) < 0)
        return -1;
    e->n_claims = arr ? arr->via.array.size : 0;
    if (e->n_claims &&
        !(e->claims = td_arena_alloc(d->arena, sizeof(td_ledger_entry) * e->n_claims)))
        return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    for (size_t i = 0; i < e->n_claims; i++) {
        const msgpack_object *o = &arr->via.array.ptr[i];
        td_ledger_entry *c = &e->claims[i];
        if (td_dec_str(d, o, "kind", 64, true, &c->kind) < 0 ||
            td_dec_int(d, o, "count", false, &c->count) < 0 ||
            td_dec_str(d, o, "subject", TD_MAX_SHORT, false, &c->subject) < 0 ||
            td_dec_strv(d, o, "claimants", TD_MAX_SHORT, &c->claimants, &c->n_claimants) < 0 ||
            td_dec_strv(d, o, "article_ids", TD_MAX_ID, &c->article_ids, &c->n_article_ids) < 0 ||
            td_dec_bool(d, o, "disputed", &c->disputed) < 0)
            return -1;
    }
    return 0;
}

int td_event_decode(const void *buf, size_t len, td_arena *arena, td_event *out, td_error *err)
{
    td_dec d;
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = td_dec_event_obj(&d, &d.root, out);
    td_dec_done(&d);
    return rc;
}

int td_story_pack(msgpack_packer *pk, const td_story *s)
{
    int rc = msgpack_pack_map(pk, 5);
    rc |= td_pk_kint(pk, "rv", TD_RECORD_VERSION);
    rc |= td_pk_kstr(pk, "id", s->id);
    rc |= td_pk_kint(pk, "first_seen", s->first_seen);
    rc |= td_pk_kint(pk, "last_seen", s->last_seen);
    rc |= td_pk_kstrv(pk, "event_ids", s->event_ids, s->n_event_ids);
    return rc ? -1 : 0;
}

int td_story_decode(const void *buf, size_t len, td_arena *arena, td_story *out, td_error *err)
{
    td_dec d;
    memset(out, 0, sizeof *out);
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = td_dec_str(&d, &d.root, "id", TD_MAX_ID, true, &out->id) < 0 ||
                     td_dec_int(&d, &d.root, "first_seen", false, &out->first_seen) < 0 ||
                     td_dec_int(&d, &d.root, "last_seen", false, &out->last_seen) < 0 ||
                     td_dec_strv(&d, &d.root, "event_ids", TD_MAX_ID, &out->event_ids,
                                 &out->n_event_ids) < 0
                 ? -1
                 : 0;
    td_dec_done(&d);
    return rc;
}

int td_reject_pack(msgpack_packer *pk, const td_reject *r)
{
    int rc = msgpack_pack_map(pk, 4);
    rc |= td_pk_kint(pk, "at", r->at);
    rc |= td_pk_kstr(pk, "code", r->code);
    rc |= td_pk_kstr(pk, "message", r->message);
    rc |= td_pk_key(pk, "bytes") | msgpack_pack_bin(pk, r->n_bytes) |
          msgpack_pack_bin_body(pk, r->bytes, r->n_bytes);
    return rc ? -1 : 0;
}

int td_dec_reject_obj(td_dec *d, const msgpack_object *m, td_reject *r)
{
    memset(r, 0, sizeof *r);
    if (m->type != MSGPACK_OBJECT_MAP)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "a reject must be a map");
    if (td_dec_int(d, m, "at", false, &r->at) < 0 ||
        td_dec_str(d, m, "code", 64, true, &r->code) < 0 ||
        td_dec_str(d, m, "message", TD_MAX_SHORT, false, &r->message) < 0)
        return -1;
    const msgpack_object *b = td_dec_field(m, "bytes");
    if (b) {
        if (b->type != MSGPACK_OBJECT_BIN)
            return td_dec_fail(d, TD_E_BAD_REQUEST, "'bytes' must be binary");
        size_t n = b->via.bin.size > TD_REJECT_BYTES ? TD_REJECT_BYTES : b->via.bin.size;
        unsigned char *p = td_arena_alloc(d->arena, n + 1);
        if (!p)
            return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
        memcpy(p, b->via.bin.ptr, n);
        r->bytes = p;
        r->n_bytes = n;
    }
    return 0;
}

int td_reject_decode(const void *buf, size_t len, td_arena *arena, td_reject *out, td_error *err)
{
    td_dec d;
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = td_dec_reject_obj(&d, &d.root, out);
    td_dec_done(&d);
    return rc;
}
