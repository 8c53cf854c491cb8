/* codec_util.c — decoding and packing helpers shared by the codec files. */
#include "codec_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int td_dec_fail(td_dec *d, const char *code, const char *fmt, ...)
{
    d->err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err->message, sizeof d->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

int td_dec_begin(td_dec *d, const void *buf, size_t len, td_arena *arena, td_error *err)
{
    d->arena = arena;
    d->err = err;
    msgpack_zone_init(&d->zone, 4096);
    if (td_mp_check(buf, len, err) < 0)
        return -1;
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack(buf, len, &off, &d->zone, &d->root);
    if (rc != MSGPACK_UNPACK_SUCCESS)
        return td_dec_fail(d, rc == MSGPACK_UNPACK_NOMEM_ERROR ? TD_E_TOO_LARGE : TD_E_BAD_REQUEST,
                           "not a valid msgpack object");
    if (d->root.type != MSGPACK_OBJECT_MAP)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "a message must be a msgpack map");
    const msgpack_object_map *m = &d->root.via.map;
    for (uint32_t i = 0; i < m->size; i++)
        if (m->ptr[i].key.type != MSGPACK_OBJECT_STR)
            return td_dec_fail(d, TD_E_BAD_REQUEST, "map keys must be strings");
    return 0;
}

void td_dec_done(td_dec *d)
{
    msgpack_zone_destroy(&d->zone);
}

const msgpack_object *td_dec_field(const msgpack_object *map, const char *name)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(name);
    const msgpack_object_map *m = &map->via.map;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, name, n) == 0)
            return m->ptr[i].val.type == MSGPACK_OBJECT_NIL ? NULL : &m->ptr[i].val;
    }
    return NULL;
}

int td_dec_strobj(td_dec *d, const msgpack_object *o, const char *what, size_t max, char **out)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be a string", what);
    if (max && o->via.str.size > max)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' is longer than %zu bytes", what, max);
    if (!td_utf8_valid(o->via.str.ptr, o->via.str.size))
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' is not valid UTF-8 (or holds NUL)", what);
    *out = td_arena_strndup(d->arena, o->via.str.ptr, o->via.str.size);
    if (!*out)
        return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    return 0;
}

int td_dec_str(td_dec *d, const msgpack_object *map, const char *name, size_t max,
               bool required, char **out)
{
    const msgpack_object *o = td_dec_field(map, name);
    if (!o)
        return required ? td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' is required", name) : 0;
    return td_dec_strobj(d, o, name, max, out);
}

int td_dec_int(td_dec *d, const msgpack_object *map, const char *name, bool required,
               int64_t *out)
{
    const msgpack_object *o = td_dec_field(map, name);
    if (!o)
        return required ? td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' is required", name) : 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' is out of range", name);
        *out = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
    } else {
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be an integer", name);
    }
    return 0;
}

int td_dec_uint(td_dec *d, const msgpack_object *map, const char *name, uint64_t *out)
{
    const msgpack_object *o = td_dec_field(map, name);
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be a non-negative integer", name);
    *out = o->via.u64;
    return 0;
}

int td_dec_bool(td_dec *d, const msgpack_object *map, const char *name, bool *out)
{
    const msgpack_object *o = td_dec_field(map, name);
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be a boolean", name);
    *out = o->via.boolean;
    return 0;
}

int td_dec_double(td_dec *d, const msgpack_object *map, const char *name, double *out)
{
    const msgpack_object *o = td_dec_field(map, name);
    if (!o)
        return 0;
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = o->via.f64; return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)o->via.u64; return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)o->via.i64; return 0;
    default: return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be a number", name);
    }
}

int td_dec_strv(td_dec *d, const msgpack_object *map, const char *name, size_t max,
                char ***out, size_t *n)
{
    const msgpack_object *o = td_dec_field(map, name);
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be an array of strings", name);
    uint32_t cnt = o->via.array.size;
    char **v = td_arena_alloc(d->arena, sizeof(char *) * (cnt ? cnt : 1));
    if (!v)
        return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    for (uint32_t i = 0; i < cnt; i++)
        if (td_dec_strobj(d, &o->via.array.ptr[i], name, max, &v[i]) < 0)
            return -1;
    *out = v;
    *n = cnt;
    return 0;
}

int td_dec_maps(td_dec *d, const msgpack_object *map, const char *name,
                const msgpack_object **arr)
{
    const msgpack_object *o = td_dec_field(map, name);
    *arr = NULL;
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be an array of maps", name);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_MAP)
            return td_dec_fail(d, TD_E_BAD_REQUEST, "'%s' must be an array of maps", name);
        for (uint32_t j = 0; j < e->via.map.size; j++)
            if (e->via.map.ptr[j].key.type != MSGPACK_OBJECT_STR)
                return td_dec_fail(d, TD_E_BAD_REQUEST, "map keys must be strings");
    }
    *arr = o;
    return 0;
}

int td_pk_str(msgpack_packer *pk, const char *s)
{
    if (!s)
        return msgpack_pack_nil(pk);
    size_t n = strlen(s);
    if (msgpack_pack_str(pk, n) < 0)
        return -1;
    return msgpack_pack_str_body(pk, s, n);
}

int td_pk_key(msgpack_packer *pk, const char *k)
{
    return td_pk_str(pk, k);
}

int td_pk_kstr(msgpack_packer *pk, const char *k, const char *v)
{
    return td_pk_key(pk, k) | td_pk_str(pk, v);
}

int td_pk_kint(msgpack_packer *pk, const char *k, int64_t v)
{
    return td_pk_key(pk, k) | msgpack_pack_int64(pk, v);
}

int td_pk_kuint(msgpack_packer *pk, const char *k, uint64_t v)
{
    return td_pk_key(pk, k) | msgpack_pack_uint64(pk, v);
}

int td_pk_kbool(msgpack_packer *pk, const char *k, bool v)
{
    return td_pk_key(pk, k) | (v ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
}

int td_pk_kstrv(msgpack_packer *pk, const char *k, char *const *v, size_t n)
{
    int rc = td_pk_key(pk, k) | msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        rc |= td_pk_str(pk, v[i]);
    return rc;
}
