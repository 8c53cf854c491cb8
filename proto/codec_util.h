/* codec_util.h — private helpers of the codec (proto/codec_*.c only). */
#ifndef TD_CODEC_UTIL_H
#define TD_CODEC_UTIL_H

#include "codec.h"

/* Decoding context: where strings go and where errors are reported. */
typedef struct {
    td_arena *arena;
    td_error *err;
    msgpack_zone zone;
    msgpack_object root;
} td_dec;

/* Check the bytes (td_mp_check), unpack into the context's zone, require a
 * map with string keys at the root. Call td_dec_done afterwards in all cases. */
int td_dec_begin(td_dec *d, const void *buf, size_t len, td_arena *arena, td_error *err);
void td_dec_done(td_dec *d);

int td_dec_fail(td_dec *d, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Field lookup in a map with string keys (first match); NULL when absent or nil. */
const msgpack_object *td_dec_field(const msgpack_object *map, const char *name);

/* Read a field of `map` into *out. `max` bounds the byte length (0 = none).
 * Absent or nil leaves *out untouched and returns 0 unless `required`. */
int td_dec_str(td_dec *d, const msgpack_object *map, const char *name, size_t max,
               bool required, char **out);
int td_dec_int(td_dec *d, const msgpack_object *map, const char *name, bool required,
               int64_t *out);
int td_dec_uint(td_dec *d, const msgpack_object *map, const char *name, uint64_t *out);
int td_dec_bool(td_dec *d, const msgpack_object *map, const char *name, bool *out);
int td_dec_double(td_dec *d, const msgpack_object *map, const char *name, double *out);
/* An array of strings. */
int td_dec_strv(td_dec *d, const msgpack_object *map, const char *name, size_t max,
                char ***out, size_t *n);
/* An array of maps: returns the array object (NULL when absent) after type
 * checks; the caller walks its elements with td_dec_map_at. */
int td_dec_maps(td_dec *d, const msgpack_object *map, const char *name,
                const msgpack_object **arr);
/* Convert one msgpack string object. */
int td_dec_strobj(td_dec *d, const msgpack_object *o, const char *what, size_t max, char **out);

/* The end of the msgpack object starting at p (bounded walk), NULL if invalid. */
const unsigned char *td_mp_next(const unsigned char *p, const unsigned char *end);

/* Whole records from an already unpacked object (used for nesting). */
int td_dec_article_obj(td_dec *d, const msgpack_object *o, td_article *out);
int td_dec_reject_obj(td_dec *d, const msgpack_object *o, td_reject *out);
int td_dec_event_obj(td_dec *d, const msgpack_object *o, td_event *out);
int td_dec_terms_obj(td_dec *d, const msgpack_object *o, td_terms_wire *out);
int td_pk_terms(msgpack_packer *pk, const td_terms_wire *w);

/* Packing helpers: a string (NULL packs nil), a key, key+string, key+int. */
int td_pk_str(msgpack_packer *pk, const char *s);
int td_pk_key(msgpack_packer *pk, const char *k);
int td_pk_kstr(msgpack_packer *pk, const char *k, const char *v);
int td_pk_kint(msgpack_packer *pk, const char *k, int64_t v);
int td_pk_kuint(msgpack_packer *pk, const char *k, uint64_t v);
int td_pk_kbool(msgpack_packer *pk, const char *k, bool v);
int td_pk_kstrv(msgpack_packer *pk, const char *k, char *const *v, size_t n);

#endif
