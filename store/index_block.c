/* index_block.c — byte layout of the search index; see index_block.h. */
#include "index_block.h"

#include <string.h>

void td_ix_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

uint32_t td_ix_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t td_ix_put_varint(unsigned char *p, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

size_t td_ix_get_varint(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
    uint32_t r = 0;
    for (size_t i = 0; i < 5 && p + i < end; i++) {
        r |= (uint32_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

size_t td_ix_key(const char *term, size_t tlen, uint32_t first, unsigned char *out)
{
    if (!tlen || tlen > TD_IX_TERM_MAX || memchr(term, 0, tlen))
        return 0;
    memcpy(out, term, tlen);
    out[tlen] = 0;   /* NUL sorts first: "ab" blocks never mix with "abc" */
    td_ix_put_u32(out + tlen + 1, first);
    return tlen + 5;
}

size_t td_ix_block_bound(const td_ix_posting *p, size_t n)
{
    size_t b = TD_IX_HEADER;
    for (size_t i = 0; i < n; i++)
        b += 4 * 5 + 5 + 5 * (p[i].npos < TD_IX_MAX_POS ? p[i].npos : TD_IX_MAX_POS);
    return b;
}

size_t td_ix_block_encode(const td_ix_posting *p, size_t n, unsigned char *out)
{
    unsigned char *w = out + TD_IX_HEADER;
    float max_tf = 0;
    uint32_t min_dl = UINT32_MAX, prev = p[0].doc;
    for (size_t i = 0; i < n; i++) {
        w += td_ix_put_varint(w, p[i].doc - prev);
        w += td_ix_put_varint(w, p[i].tt);
        w += td_ix_put_varint(w, p[i].tb);
        w += td_ix_put_varint(w, p[i].dl);
        prev = p[i].doc;
        float tf = td_ix_tf(p[i].tt, p[i].tb);
        if (tf > max_tf)
            max_tf = tf;
        if (p[i].dl < min_dl)
            min_dl = p[i].dl;
    }
    uint32_t docs_len = (uint32_t)(w - out - TD_IX_HEADER);
    for (size_t i = 0; i < n; i++) {
        uint32_t np = p[i].npos < TD_IX_MAX_POS ? p[i].npos : TD_IX_MAX_POS, last = 0;
        w += td_ix_put_varint(w, np);
        for (uint32_t k = 0; k < np; k++) {
            w += td_ix_put_varint(w, p[i].pos[k] - last);
            last = p[i].pos[k];
        }
    }
    out[0] = TD_IX_FORMAT;
    out[1] = 0;
    out[2] = (unsigned char)(n >> 8);
    out[3] = (unsigned char)n;
    td_ix_put_u32(out + 4, p[0].doc);
    td_ix_put_u32(out + 8, p[n - 1].doc);
    uint32_t fb;
    memcpy(&fb, &max_tf, 4);
    td_ix_put_u32(out + 12, fb);
    td_ix_put_u32(out + 16, min_dl);
    td_ix_put_u32(out + 20, docs_len);
    return (size_t)(w - out);
}

int td_ix_header_read(const void *buf, size_t len, td_ix_header *h)
{
    const unsigned char *p = buf;
    if (len < TD_IX_HEADER || p[0] != TD_IX_FORMAT)
        return -1;
    h->n = (uint16_t)(p[2] << 8 | p[3]);
    h->first = td_ix_get_u32(p + 4);
    h->last = td_ix_get_u32(p + 8);
    uint32_t fb = td_ix_get_u32(p + 12);
    memcpy(&h->max_tf, &fb, 4);
    h->min_dl = td_ix_get_u32(p + 16);
    h->docs_len = td_ix_get_u32(p + 20);
    if (h->n == 0 || h->n > TD_IX_BLOCK || h->last < h->first ||
        h->docs_len > len - TD_IX_HEADER)
        return -1;
    return 0;
}

int td_ix_block_docs(const void *buf, size_t len, uint32_t *doc, uint32_t *tt, uint32_t *tb,
                     uint32_t *dl)
{
    td_ix_header h;
    if (td_ix_header_read(buf, len, &h) != 0)
        return -1;
    const unsigned char *p = (const unsigned char *)buf + TD_IX_HEADER, *end = p + h.docs_len;
    uint32_t d = h.first;
    for (int i = 0; i < h.n; i++) {
        uint32_t delta, a, b, c;
        size_t k;
        if (!(k = td_ix_get_varint(p, end, &delta)))
            return -1;
        p += k;
        if (!(k = td_ix_get_varint(p, end, &a)))
            return -1;
        p += k;
        if (!(k = td_ix_get_varint(p, end, &b)))
            return -1;
        p += k;
        if (!(k = td_ix_get_varint(p, end, &c)))
            return -1;
        p += k;
        d += delta;
        doc[i] = d;
        tt[i] = a;
        tb[i] = b;
        dl[i] = c;
    }
    return h.n;
}

int td_ix_block_positions(const void *buf, size_t len, size_t idx, uint32_t *pos, size_t cap)
{
    td_ix_header h;
    if (td_ix_header_read(buf, len, &h) != 0 || idx >= h.n)
        return -1;
    const unsigned char *p = (const unsigned char *)buf + TD_IX_HEADER + h.docs_len;
    const unsigned char *end = (const unsigned char *)buf + len;
    for (size_t i = 0;; i++) {
        uint32_t np, v;
        size_t k = td_ix_get_varint(p, end, &np);
        if (!k)
            return -1;
        p += k;
        if (i == idx) {
            uint32_t last = 0;
            size_t got = 0;
            for (uint32_t j = 0; j < np; j++) {
                if (!(k = td_ix_get_varint(p, end, &v)))
                    return -1;
                p += k;
                last += v;
                if (got < cap)
                    pos[got++] = last;
            }
            return (int)got;
        }
        for (uint32_t j = 0; j < np; j++) {
            if (!(k = td_ix_get_varint(p, end, &v)))
                return -1;
            p += k;
        }
    }
}

size_t td_ix_doc_encode(const td_ix_doc *d, unsigned char *out, size_t cap)
{
    if (cap < 13 + d->idlen)
        return 0;
    out[0] = TD_IX_FORMAT;
    uint64_t t = (uint64_t)d->published_at;
    td_ix_put_u32(out + 1, (uint32_t)(t >> 32));
    td_ix_put_u32(out + 5, (uint32_t)t);
    td_ix_put_u32(out + 9, d->dl);
    memcpy(out + 13, d->id, d->idlen);
    return 13 + d->idlen;
}

int td_ix_doc_decode(const void *buf, size_t len, td_ix_doc *d)
{
    const unsigned char *p = buf;
    if (len < 14 || p[0] != TD_IX_FORMAT)
        return -1;
    d->published_at = (int64_t)((uint64_t)td_ix_get_u32(p + 1) << 32 | td_ix_get_u32(p + 5));
    d->dl = td_ix_get_u32(p + 9);
    d->id = (const char *)p + 13;
    d->idlen = len - 13;
    return 0;
}
