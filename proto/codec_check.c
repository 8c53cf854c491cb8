/* codec_check.c — checks run on raw bytes before msgpack-c sees them.
 *
 * msgpack-c's unpacker allocates an array of objects as soon as it reads a
 * container header, so a 5-byte frame claiming 2^32 elements would ask for
 * ~100 GiB. This walker reads only headers, never allocates, and refuses any
 * length that the remaining bytes cannot hold, so the unpacker that runs
 * afterwards uses at most ~24 bytes per byte of input. Hand-written because
 * msgpack-c offers no bounded pre-validation. */
#include <stdio.h>
#include <string.h>

#include "codec_util.h"

typedef struct {
    const unsigned char *p, *end;
    size_t objects;
    td_error *err;
} walker;

static int s_fail(walker *w, const char *code, const char *msg)
{
    w->err->code = code;
    snprintf(w->err->message, sizeof w->err->message, "%s", msg);
    return -1;
}

static int s_need(walker *w, size_t n)
{
    if ((size_t)(w->end - w->p) < n)
        return s_fail(w, TD_E_BAD_REQUEST, "truncated msgpack: a length claims more bytes than the frame holds");
    return 0;
}

static uint64_t s_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static int s_walk(walker *w, int depth);

static int s_items(walker *w, uint64_t n, int depth)
{
    if (n > TD_MAX_ITEMS)
        return s_fail(w, TD_E_TOO_LARGE, "an array or map holds more than 65536 elements");
    if (n > (uint64_t)(w->end - w->p))
        return s_fail(w, TD_E_BAD_REQUEST, "a container claims more elements than the frame holds");
    if (depth >= TD_MAX_DEPTH)
        return s_fail(w, TD_E_BAD_REQUEST, "msgpack nested too deeply");
    for (uint64_t i = 0; i < n; i++)
        if (s_walk(w, depth + 1) < 0)
            return -1;
    return 0;
}

static int s_skip(walker *w, uint64_t n)
{
    if (n > (uint64_t)(w->end - w->p))
        return s_need(w, (size_t)-1);
    w->p += n;
    return 0;
}

static int s_walk(walker *w, int depth)
{
    if (++w->objects > TD_MAX_OBJECTS)
        return s_fail(w, TD_E_TOO_LARGE, "too many msgpack objects in one frame");
    if (s_need(w, 1) < 0)
        return -1;
    unsigned c = *w->p++;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0;                                   /* fixint, nil, bool */
    if ((c & 0xe0) == 0xa0)
        return s_skip(w, c & 0x1f);                 /* fixstr */
    if ((c & 0xf0) == 0x90)
        return s_items(w, c & 0x0f, depth);         /* fixarray */
    if ((c & 0xf0) == 0x80)
        return s_items(w, (uint64_t)(c & 0x0f) * 2, depth); /* fixmap */
    int lw;
    switch (c) {
    case 0xcc: case 0xd0: return s_skip(w, 1);
    case 0xcd: case 0xd1: return s_skip(w, 2);
    case 0xca: case 0xce: case 0xd2: return s_skip(w, 4);
    case 0xcb: case 0xcf: case 0xd3: return s_skip(w, 8);
    case 0xd4: return s_skip(w, 2);                 /* fixext */
    case 0xd5: return s_skip(w, 3);
    case 0xd6: return s_skip(w, 5);
    case 0xd7: return s_skip(w, 9);
    case 0xd8: return s_skip(w, 17);
    case 0xc4: case 0xd9: lw = 1; goto blob;
    case 0xc5: case 0xda: lw = 2; goto blob;
    case 0xc6: case 0xdb: lw = 4; goto blob;
    case 0xc7: lw = 1; goto ext;
    case 0xc8: lw = 2; goto ext;
    case 0xc9: lw = 4; goto ext;
    case 0xdc: lw = 2; goto array;
    case 0xdd: lw = 4; goto array;
    case 0xde: lw = 2; goto map;
    case 0xdf: lw = 4; goto map;
    default:
        return s_fail(w, TD_E_BAD_REQUEST, "invalid msgpack type byte");
    }
blob:
    if (s_need(w, (size_t)lw) < 0)
        return -1;
    w->p += lw;
    return s_skip(w, s_be(w->p - lw, lw));
ext:
    if (s_need(w, (size_t)lw + 1) < 0)
        return -1;
    w->p += lw + 1;
    return s_skip(w, s_be(w->p - lw - 1, lw));
array:
    if (s_need(w, (size_t)lw) < 0)
        return -1;
    w->p += lw;
    return s_items(w, s_be(w->p - lw, lw), depth);
map:
    if (s_need(w, (size_t)lw) < 0)
        return -1;
    w->p += lw;
    return s_items(w, s_be(w->p - lw, lw) * 2, depth);
}

int td_mp_check(const void *buf, size_t len, td_error *err)
{
    walker w = {.p = buf, .end = (const unsigned char *)buf + len, .objects = 0, .err = err};
    if (len == 0)
        return s_fail(&w, TD_E_BAD_REQUEST, "empty frame");
    if (s_walk(&w, 0) < 0)
        return -1;
    if (w.p != w.end)
        return s_fail(&w, TD_E_BAD_REQUEST, "trailing bytes after the msgpack object");
    return 0;
}

/* UTF-8 validation (RFC 3629): hand-written because it runs over every body
 * and an ASCII fast path matters; utf8proc's iterator decodes per code point.
 * Rejects overlongs, surrogates, code points above U+10FFFF, and NUL (our
 * strings are C strings). */
bool td_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        /* ASCII run, 8 bytes at a time */
        while (end - s >= 8) {
            uint64_t v;
            memcpy(&v, s, 8);
            if (v & 0x8080808080808080ull)
                break;
            /* any zero byte? */
            if ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull)
                return false;
            s += 8;
        }
        if (s >= end)
            break;
        unsigned c = *s;
        if (c == 0)
            return false;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c < 0xc2 || c > 0xf4)
            return false;                       /* continuation, overlong lead, >U+10FFFF */
        if (c < 0xe0) {
            if (end - s < 2 || (s[1] & 0xc0) != 0x80)
                return false;
            s += 2;
        } else if (c < 0xf0) {
            if (end - s < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                return false;
            if (c == 0xe0 && s[1] < 0xa0)
                return false;                   /* overlong */
            if (c == 0xed && s[1] >= 0xa0)
                return false;                   /* surrogate */
            s += 3;
        } else {
            if (end - s < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
                (s[3] & 0xc0) != 0x80)
                return false;
            if (c == 0xf0 && s[1] < 0x90)
                return false;                   /* overlong */
            if (c == 0xf4 && s[1] >= 0x90)
                return false;                   /* > U+10FFFF */
            s += 4;
        }
    }
    return true;
}

const unsigned char *td_mp_next(const unsigned char *p, const unsigned char *end)
{
    td_error err;
    walker w = {.p = p, .end = end, .objects = 0, .err = &err};
    if (s_walk(&w, 0) < 0)
        return NULL;
    return w.p;
}
