/* codec_terms.c — the `terms` of a store message (ingest -> store link):
 * an article's tokens and body fingerprint (record.h td_terms_wire).
 *
 *   {"v": u, "words": bin, "stop": bin, "title": bin, "body": bin,
 *    "simhash": u, "ntok": u, "sent_n": bin, "sent": bin}
 *
 * words: the distinct words as "norm\0stem\0" pairs; stop: one byte per
 * word; title, body: word numbers, u32 little-endian; sent_n: the number of
 * hashes of each fingerprinted sentence; sent: those hashes, u32
 * little-endian, concatenated. Binary arrays rather than msgpack arrays: a
 * body has hundreds of tokens, and one bin is one object to unpack and
 * check instead of hundreds. The decoder checks every count, length and
 * word number, so a consumer can index with them directly. */
#include <stdlib.h>
#include <string.h>

#include "codec_util.h"

#define MAX_SENT 255u /* sentences (td_terms keeps 80) */

static int s_pk_bin(msgpack_packer *pk, const char *k, const void *p, size_t n)
{
    return td_pk_key(pk, k) | msgpack_pack_bin(pk, n) | msgpack_pack_bin_body(pk, p, n);
}

/* u32 array as little-endian bytes, in one write (a body has hundreds) */
static int s_pk_u32s(msgpack_packer *pk, const char *k, const uint32_t *v, size_t n)
{
    unsigned char small[1024];
    unsigned char *b = n * 4 <= sizeof small ? small : malloc(n * 4);
    if (!b)
        return -1;
    for (size_t i = 0; i < n; i++) {
        b[4 * i] = (unsigned char)v[i];
        b[4 * i + 1] = (unsigned char)(v[i] >> 8);
        b[4 * i + 2] = (unsigned char)(v[i] >> 16);
        b[4 * i + 3] = (unsigned char)(v[i] >> 24);
    }
    int rc = td_pk_key(pk, k) | msgpack_pack_bin(pk, n * 4) | msgpack_pack_bin_body(pk, b, n * 4);
    if (b != small)
        free(b);
    return rc;
}

int td_pk_terms(msgpack_packer *pk, const td_terms_wire *w)
{
    size_t nh = 0;
    for (uint32_t i = 0; i < w->n_sent; i++)
        nh += w->sent_n[i];
    int rc = msgpack_pack_map(pk, 9);
    rc |= td_pk_kuint(pk, "v", w->version);
    rc |= s_pk_bin(pk, "words", w->words, w->words_len);
    rc |= s_pk_bin(pk, "stop", w->stop, w->nwords);
    rc |= s_pk_u32s(pk, "title", w->title, w->ntitle);
    rc |= s_pk_u32s(pk, "body", w->body, w->nbody);
    rc |= td_pk_kuint(pk, "simhash", w->simhash);
    rc |= td_pk_kuint(pk, "ntok", w->ntok);
    rc |= s_pk_bin(pk, "sent_n", w->sent_n, w->n_sent);
    rc |= s_pk_u32s(pk, "sent", w->sent, nh);
    return rc ? -1 : 0;
}

/* A required bin field, copied into the arena (the frame is not kept). */
static int s_bin(td_dec *d, const msgpack_object *m, const char *name, const char **p,
                 size_t *n)
{
    const msgpack_object *o = td_dec_field(m, name);
    if (!o || o->type != MSGPACK_OBJECT_BIN)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: '%s' must be binary", name);
    char *c = td_arena_alloc(d->arena, o->via.bin.size ? o->via.bin.size : 1);
    if (!c)
        return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    memcpy(c, o->via.bin.ptr, o->via.bin.size);
    *p = c;
    *n = o->via.bin.size;
    return 0;
}

/* A bin of little-endian u32 into a host array, each value < `below`. */
static int s_u32s(td_dec *d, const msgpack_object *m, const char *name, uint64_t below,
                  const uint32_t **out, uint32_t *n)
{
    const msgpack_object *o = td_dec_field(m, name);
    if (!o || o->type != MSGPACK_OBJECT_BIN)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: '%s' must be binary", name);
    const char *p = o->via.bin.ptr;
    size_t len = o->via.bin.size;
    if (len % 4 || len / 4 > UINT32_MAX)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: '%s' is not a u32 array", name);
    uint32_t *v = td_arena_alloc(d->arena, len ? len : 4);
    if (!v)
        return td_dec_fail(d, TD_E_TOO_LARGE, "record too large");
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < len / 4; i++, b += 4) {
        v[i] = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
               (uint32_t)b[3] << 24;
        if (v[i] >= below)
            return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: '%s' value out of range", name);
    }
    *out = v;
    *n = (uint32_t)(len / 4);
    return 0;
}

int td_dec_terms_obj(td_dec *d, const msgpack_object *o, td_terms_wire *w)
{
    memset(w, 0, sizeof *w);
    if (o->type != MSGPACK_OBJECT_MAP)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "'terms' must be a map");
    uint64_t v = 0, simhash = 0, ntok = 0;
    if (td_dec_uint(d, o, "v", &v) < 0 || td_dec_uint(d, o, "simhash", &simhash) < 0 ||
        td_dec_uint(d, o, "ntok", &ntok) < 0)
        return -1;
    if (v > UINT32_MAX || ntok > UINT32_MAX)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: version or count out of range");
    w->version = (uint32_t)v;
    w->simhash = simhash;
    w->ntok = (uint32_t)ntok;

    /* words: pairs of NUL-terminated strings, nothing after the last NUL */
    const char *words, *stop, *sent_n;
    size_t wlen, slen, nsent;
    if (s_bin(d, o, "words", &words, &wlen) < 0 || s_bin(d, o, "stop", &stop, &slen) < 0 ||
        s_bin(d, o, "sent_n", &sent_n, &nsent) < 0)
        return -1;
    size_t nul = 0;
    for (size_t i = 0; i < wlen; i++)
        nul += words[i] == '\0';
    if ((wlen && words[wlen - 1] != '\0') || nul % 2 || nul / 2 != slen || slen > UINT32_MAX)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: words and stop flags disagree");
    w->nwords = (uint32_t)slen;
    w->words = words;
    w->words_len = wlen;
    w->stop = (const uint8_t *)stop;
    if (s_u32s(d, o, "title", w->nwords, &w->title, &w->ntitle) < 0 ||
        s_u32s(d, o, "body", w->nwords, &w->body, &w->nbody) < 0)
        return -1;

    if (nsent > MAX_SENT)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: too many sentences");
    size_t nh = 0;
    for (size_t i = 0; i < nsent; i++)
        nh += (uint8_t)sent_n[i];
    uint32_t got = 0;
    if (s_u32s(d, o, "sent", (uint64_t)UINT32_MAX + 1, &w->sent, &got) < 0)
        return -1;
    if (got != nh)
        return td_dec_fail(d, TD_E_BAD_REQUEST, "terms: sentence hashes and counts disagree");
    w->n_sent = (uint32_t)nsent;
    w->sent_n = (const uint8_t *)sent_n;
    return 0;
}
