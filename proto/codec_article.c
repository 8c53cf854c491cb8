/* codec_article.c — submissions and articles: the field names of PROTOCOL.md's
 * submission and Article records. */
#include <string.h>

#include "codec_util.h"

#define MAX_URL 8192
#define MAX_LANG 16
#define MAX_META_VALUE 65536

static const char *const s_kinds[] = {"person", "org", "place", "country", "other"};

const char *td_entity_kind_name(td_entity_kind kind)
{
    return (unsigned)kind <= TD_ENT_OTHER ? s_kinds[kind] : "other";
}

td_entity_kind td_entity_kind_parse(const char *name)
{
    for (int i = 0; i <= TD_ENT_OTHER; i++)
        if (name && strcmp(name, s_kinds[i]) == 0)
            return (td_entity_kind)i;
    return TD_ENT_OTHER;
}

/* ---- pieces shared by submission and article -------------------------- */

static int s_dec_meta(td_dec *d, const msgpack_object *map, td_article *a)
{
    const msgpack_object *o = td_dec_field(map, "meta");
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_MAP)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'meta' must be a map of strings");
    uint32_t n = o->via.map.size;
    a->meta = td_arena_alloc(d->arena, sizeof(td_kv) * (n ? n : 1));
    if (!a->meta)
        return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (td_dec_strobj(d, &kv->key, "meta key", TD_MAX_SHORT, &a->meta[i].key) < 0 ||
            td_dec_strobj(d, &kv->val, "meta value", MAX_META_VALUE, &a->meta[i].value) < 0)
            return -1;
    }
    a->n_meta = n;
    return 0;
}

static int s_dec_submission_fields(td_dec *d, const msgpack_object *m, td_article *a)
{
    if (td_dec_str(d, m, "id", TD_MAX_ID, false, &a->id) < 0 ||
        td_dec_str(d, m, "url", MAX_URL, false, &a->url) < 0 ||
        td_dec_str(d, m, "source", TD_MAX_SHORT, false, &a->source) < 0 ||
        td_dec_str(d, m, "title", TD_MAX_SHORT, false, &a->title) < 0 ||
        td_dec_str(d, m, "body", 0, true, &a->body) < 0 ||
        td_dec_int(d, m, "published_at", false, &a->published_at) < 0 ||
        td_dec_str(d, m, "lang", MAX_LANG, false, &a->lang) < 0 ||
        s_dec_meta(d, m, a) < 0)
        return -1;
    return 0;
}

static bool s_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f' && *s != '\v')
            return false;
    return true;
}

static void s_article_init(td_article *a)
{
    memset(a, 0, sizeof *a);
    a->published_at = TD_TIME_NONE;
    a->ingested_at = TD_TIME_NONE;
}

int td_submission_decode(const void *buf, size_t len, size_t max_frame, td_arena *arena,
                         td_article *out, td_error *err)
{
    s_article_init(out);
    td_dec d;
    if (len > max_frame) {
        d.err = err;
        return td_dec_fail(&d, TD_E_TOO_LARGE, "frame of %zu bytes exceeds the limit of %zu", len,
                           max_frame);
    }
    int rc = -1;
    if (td_dec_begin(&d, buf, len, arena, err) < 0)
        goto done;
    char *type = NULL;
    if (td_dec_str(&d, &d.root, "type", 64, false, &type) < 0)
        goto done;
    if (type && strcmp(type, "article") != 0) {
        td_dec_fail(&d, TD_E_BAD_REQUEST, "unknown type '%.64s' (expected \"article\")", type);
        goto done;
    }
    if (s_dec_submission_fields(&d, &d.root, out) < 0)
        goto done;
    if (s_blank(out->body)) {
        td_dec_fail(&d, TD_E_BAD_REQUEST, "'body' is empty");
        goto done;
    }
    if ((out->id && !*out->id) || (out->url && !*out->url)) {
        td_dec_fail(&d, TD_E_BAD_REQUEST, "'id' and 'url' must not be empty strings");
        goto done;
    }
    rc = 0;
done:
    td_dec_done(&d);
    return rc;
}

static int s_pack_meta(msgpack_packer *pk, const td_article *a)
{
    int rc = td_pk_key(pk, "meta") | msgpack_pack_map(pk, a->n_meta);
    for (size_t i = 0; i < a->n_meta; i++)
        rc |= td_pk_kstr(pk, a->meta[i].key, a->meta[i].value);
    return rc;
}

int td_submission_pack(msgpack_packer *pk, const td_article *a)
{
    size_t n = 2 + !!a->id + !!a->url + !!a->source + !!a->title +
               (a->published_at != TD_TIME_NONE) + !!a->lang + (a->n_meta > 0);
    int rc = msgpack_pack_map(pk, n);
    rc |= td_pk_kstr(pk, "type", "article");
    if (a->id) rc |= td_pk_kstr(pk, "id", a->id);
    if (a->url) rc |= td_pk_kstr(pk, "url", a->url);
    if (a->source) rc |= td_pk_kstr(pk, "source", a->source);
    if (a->title) rc |= td_pk_kstr(pk, "title", a->title);
    rc |= td_pk_kstr(pk, "body", a->body ? a->body : "");
    if (a->published_at != TD_TIME_NONE) rc |= td_pk_kint(pk, "published_at", a->published_at);
    if (a->lang) rc |= td_pk_kstr(pk, "lang", a->lang);
    if (a->n_meta) rc |= s_pack_meta(pk, a);
    return rc ? -1 : 0;
}

/* ---- the full Article ------------------------------------------------- */

int td_article_pack(msgpack_packer *pk, const td_article *a)
{
    size_t n = 12 + !!a->url + !!a->source + (a->published_at != TD_TIME_NONE) +
               (a->ingested_at != TD_TIME_NONE) + !!a->event + !!a->story + !!a->duplicate_of +
               !!a->derived_id + !!a->event_date + (a->n_meta > 0) + (a->n_assignment > 0);
    int rc = msgpack_pack_map(pk, n);
    rc |= td_pk_kstr(pk, "type", "article");
    rc |= td_pk_kint(pk, "rv", TD_RECORD_VERSION);
    rc |= td_pk_kstr(pk, "id", a->id);
    if (a->url) rc |= td_pk_kstr(pk, "url", a->url);
    if (a->source) rc |= td_pk_kstr(pk, "source", a->source);
    rc |= td_pk_kstr(pk, "title", a->title ? a->title : "");
    rc |= td_pk_kstr(pk, "body", a->body ? a->body : "");
    if (a->published_at != TD_TIME_NONE) rc |= td_pk_kint(pk, "published_at", a->published_at);
    if (a->ingested_at != TD_TIME_NONE) rc |= td_pk_kint(pk, "ingested_at", a->ingested_at);
    rc |= td_pk_kstr(pk, "lang", a->lang ? a->lang : "und");
    if (a->event) rc |= td_pk_kstr(pk, "event", a->event);
    if (a->story) rc |= td_pk_kstr(pk, "story", a->story);
    if (a->duplicate_of) rc |= td_pk_kstr(pk, "duplicate_of", a->duplicate_of);
    if (a->derived_id) {
        rc |= td_pk_key(pk, "derived_from") | msgpack_pack_map(pk, 2);
        rc |= td_pk_kstr(pk, "id", a->derived_id);
        rc |= td_pk_kstr(pk, "kind", a->derived_kind ? a->derived_kind : "copy");
    }
    rc |= td_pk_key(pk, "entities") | msgpack_pack_array(pk, a->n_entities);
    for (size_t i = 0; i < a->n_entities; i++) {
        const td_entity *e = &a->entities[i];
        rc |= msgpack_pack_map(pk, 3);
        rc |= td_pk_kstr(pk, "name", e->name);
        rc |= td_pk_kstr(pk, "kind", td_entity_kind_name(e->kind));
        rc |= td_pk_kuint(pk, "count", e->count);
    }
    if (a->event_date) rc |= td_pk_kstr(pk, "event_date", a->event_date);
    rc |= td_pk_key(pk, "dates") | msgpack_pack_array(pk, a->n_dates);
    for (size_t i = 0; i < a->n_dates; i++) {
        rc |= msgpack_pack_map(pk, 2);
        rc |= td_pk_kstr(pk, "text", a->dates[i].text);
        rc |= td_pk_kstr(pk, "date", a->dates[i].date);
    }
    rc |= td_pk_key(pk, "claims") | msgpack_pack_array(pk, a->n_claims);
    for (size_t i = 0; i < a->n_claims; i++) {
        const td_claim *c = &a->claims[i];
        rc |= msgpack_pack_map(pk, 6 + !!c->date);
        rc |= td_pk_kstr(pk, "kind", c->kind);
        rc |= td_pk_kint(pk, "count", c->count);
        rc |= td_pk_kstr(pk, "subject", c->subject);
        rc |= td_pk_kstr(pk, "claimant", c->claimant);
        rc |= td_pk_kstr(pk, "text", c->text);
        rc |= td_pk_kbool(pk, "background", c->background);
        if (c->date) rc |= td_pk_kstr(pk, "date", c->date);
    }
    rc |= td_pk_key(pk, "quotes") | msgpack_pack_array(pk, a->n_quotes);
    for (size_t i = 0; i < a->n_quotes; i++) {
        rc |= msgpack_pack_map(pk, 2);
        rc |= td_pk_kstr(pk, "speaker", a->quotes[i].speaker);
        rc |= td_pk_kstr(pk, "text", a->quotes[i].text);
    }
    rc |= td_pk_kstrv(pk, "boilerplate", a->boilerplate, a->n_boilerplate);
    if (a->n_meta) rc |= s_pack_meta(pk, a);
    if (a->n_assignment) {
        rc |= td_pk_key(pk, "assignment") | msgpack_pack_map(pk, a->n_assignment);
        for (size_t i = 0; i < a->n_assignment; i++)
            rc |= td_pk_key(pk, a->assignment[i].name) |
                  msgpack_pack_double(pk, a->assignment[i].value);
    }
    rc |= td_pk_kuint(pk, "content_hash", a->content_hash);
    return rc ? -1 : 0;
}

static void *s_array(td_dec *d, const msgpack_object *arr, size_t elem, size_t *n)
{
    *n = arr ? arr->via.array.size : 0;
    if (!*n)
        return NULL;
    void *p = td_arena_alloc(d->arena, elem * *n);
    if (!p)
        td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    return p;
}

int td_dec_article_obj(td_dec *d, const msgpack_object *m, td_article *a)
{
    s_article_init(a);
    if (m->type != MSGPACK_OBJECT_MAP)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "an article must be a map");
    int64_t rv = TD_RECORD_VERSION;
    if (td_dec_int(d, m, "rv", false, &rv) < 0)
        return -1;
    if (rv > TD_RECORD_VERSION)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "article record version %lld is newer than %d",
                           (long long)rv, TD_RECORD_VERSION);
    if (s_dec_submission_fields(d, m, a) < 0 ||
        td_dec_int(d, m, "ingested_at", false, &a->ingested_at) < 0 ||
        td_dec_str(d, m, "event", TD_MAX_ID, false, &a->event) < 0 ||
        td_dec_str(d, m, "story", TD_MAX_ID, false, &a->story) < 0 ||
        td_dec_str(d, m, "duplicate_of", TD_MAX_ID, false, &a->duplicate_of) < 0 ||
        td_dec_str(d, m, "event_date", 32, false, &a->event_date) < 0 ||
        td_dec_strv(d, m, "boilerplate", 0, &a->boilerplate, &a->n_boilerplate) < 0 ||
        td_dec_uint(d, m, "content_hash", &a->content_hash) < 0)
        return -1;

    const msgpack_object *df = td_dec_field(m, "derived_from");
    if (df) {
        if (df->type != MSGPACK_OBJECT_MAP)
            return td_dec_fail(d, TD_E_BAD_REQUEST, "'derived_from' must be a map");
        if (td_dec_str(d, df, "id", TD_MAX_ID, true, &a->derived_id) < 0 ||
            td_dec_str(d, df, "kind", 32, false, &a->derived_kind) < 0)
            return -1;
    }

    const msgpack_object *arr;
    if (td_dec_maps(d, m, "entities", &arr) < 0)
        return -1;
    if (!(a->entities = s_array(d, arr, sizeof(td_entity), &a->n_entities)) && a->n_entities)
        return -1;
    for (size_t i = 0; i < a->n_entities; i++) {
        const msgpack_object *e = &arr->via.array.ptr[i];
        char *kind = NULL;
        int64_t count = 1;
        if (td_dec_str(d, e, "name", TD_MAX_SHORT, true, &a->entities[i].name) < 0 ||
            td_dec_str(d, e, "kind", 32, false, &kind) < 0 ||
            td_dec_int(d, e, "count", false, &count) < 0)
            return -1;
        a->entities[i].kind = td_entity_kind_parse(kind);
        a->entities[i].count = count < 0 ? 0 : count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    }

    if (td_dec_maps(d, m, "dates", &arr) < 0)
        return -1;
    if (!(a->dates = s_array(d, arr, sizeof(td_date), &a->n_dates)) && a->n_dates)
        return -1;
    for (size_t i = 0; i < a->n_dates; i++) {
        const msgpack_object *e = &arr->via.array.ptr[i];
        if (td_dec_str(d, e, "text", TD_MAX_SHORT, false, &a->dates[i].text) < 0 ||
            td_dec_str(d, e, "date", 32, false, &a->dates[i].date) < 0)
            return -1;
    }

    if (td_dec_maps(d, m, "claims", &arr) < 0)
        return -1;
    if (!(a->claims = s_array(d, arr, sizeof(td_claim), &a->n_claims)) && a->n_claims)
        return -1;
    for (size_t i = 0; i < a->n_claims; i++) {
        const msgpack_object *e = &arr->via.array.ptr[i];
        td_claim *c = &a->claims[i];
        if (td_dec_str(d, e, "kind", 64, true, &c->kind) < 0 ||
            td_dec_int(d, e, "count", false, &c->count) < 0 ||
            td_dec_str(d, e, "subject", TD_MAX_SHORT, false, &c->subject) < 0 ||
            td_dec_str(d, e, "claimant", TD_MAX_SHORT, false, &c->claimant) < 0 ||
            td_dec_str(d, e, "text", 0, false, &c->text) < 0 ||
            td_dec_bool(d, e, "background", &c->background) < 0 ||
            td_dec_str(d, e, "date", 32, false, &c->date) < 0)
            return -1;
    }

    if (td_dec_maps(d, m, "quotes", &arr) < 0)
        return -1;
    if (!(a->quotes = s_array(d, arr, sizeof(td_quote), &a->n_quotes)) && a->n_quotes)
        return -1;
    for (size_t i = 0; i < a->n_quotes; i++) {
        const msgpack_object *e = &arr->via.array.ptr[i];
        if (td_dec_str(d, e, "speaker", TD_MAX_SHORT, false, &a->quotes[i].speaker) < 0 ||
            td_dec_str(d, e, "text", 0, false, &a->quotes[i].text) < 0)
            return -1;
    }

    const msgpack_object *as = td_dec_field(m, "assignment");
    if (as) {
        if (as->type != MSGPACK_OBJECT_MAP)
            return td_dec_fail(d, TD_E_BAD_REQUEST, "'assignment' must be a map");
        a->n_assignment = as->via.map.size;
        a->assignment = td_arena_alloc(d->arena, sizeof(td_feature) * (a->n_assignment + 1));
        if (!a->assignment)
            return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
        for (size_t i = 0; i < a->n_assignment; i++) {
            const msgpack_object_kv *kv = &as->via.map.ptr[i];
            if (td_dec_strobj(d, &kv->key, "assignment key", 64, &a->assignment[i].name) < 0)
                return -1;
            const msgpack_object *v = &kv->val;
            if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
                a->assignment[i].value = v->via.f64;
            else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                a->assignment[i].value = (double)v->via.u64;
            else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                a->assignment[i].value = (double)v->via.i64;
            else
                return td_dec_fail(d, TD_E_BAD_REQUEST, "'assignment' values must be numbers");
        }
    }
    return 0;
}

int td_article_decode(const void *buf, size_t len, td_arena *arena, td_article *out,
                      td_error *err)
{
    td_dec d;
    int rc = td_dec_begin(&d, buf, len, arena, err);
    if (rc == 0)
        rc = td_dec_article_obj(&d, &d.root, out);
    td_dec_done(&d);
    return rc;
}
