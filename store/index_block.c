/* index_block.c — byte layout of the search index; see index_block.h. */
#include "index_block.h"

#include <stdlib.h>
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

bool td_ix_term_ok(const char *term, size_t tlen)
{
    return tlen && tlen <= TD_IX_TERM_MAX && !memchr(term, 0, tlen);
}

size_t td_ix_key(uint32_t no, uint32_t first, unsigned char *out)
{
    td_ix_put_u32(out, no);
    td_ix_put_u32(out + TD_IX_KEY_TERM, first);
    return TD_IX_KEY;
}

size_t td_ix_block_bound(const td_ix_posting *p, size_t n)
{
    (void)p;
    return TD_IX_HEADER + 4 * TD_IX_PTS + 16 * n;
}

size_t td_ix_pos_bound(const td_ix_posting *p, size_t n)
{
    size_t b = 0;
    for (size_t i = 0; i < n; i++)
        b += 5 + 5 * (p[i].npos < TD_IX_MAX_POS ? p[i].npos : TD_IX_MAX_POS);
    return b;
}

/* The Pareto frontier of (tf high, dl low) of the postings, at most
 * TD_IX_PTS points, tf descending; returns how many. Built by insertion
 * (the frontier of a block has a few dozen points at most): the writer
 * encodes a term's last block at every commit, and sorting its postings
 * was a visible part of that. */
static size_t s_frontier(const td_ix_posting *p, size_t n, td_ix_point *out)
{
    td_ix_point f[TD_IX_BLOCK + 1];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        float tf = td_ix_tf(p[i].tt, p[i].tb);
        uint32_t up = tf >= 65535.0f ? 65535u : (uint32_t)tf;
        if ((float)up < tf)
            up++;   /* round up: a bound never falls below a score */
        td_ix_point q = {(uint16_t)up, (uint16_t)(p[i].dl > 65535 ? 65535 : p[i].dl)};
        /* f: tf strictly descending, dl strictly descending */
        size_t j = 0;
        while (j < k && f[j].tf > q.tf)
            j++;
        /* f[0..j) have a higher tf: one of them with dl <= q.dl dominates q,
         * and the lowest dl among them is f[j - 1]'s */
        if (j > 0 && f[j - 1].dl <= q.dl)
            continue;
        if (j < k && f[j].tf == q.tf && f[j].dl <= q.dl)
            continue;
        /* q dominates the points from j on with dl >= q.dl (tf <= q.tf) */
        size_t e = j;
        while (e < k && f[e].dl >= q.dl)
            e++;
        memmove(f + j + 1, f + e, (k - e) * sizeof *f);
        f[j] = q;
        k = k - (e - j) + 1;
    }
    while (k > TD_IX_PTS) {
        /* merge neighbours into their corner (higher tf, lower dl): it
         * dominates both, so the bound stays safe, only less tight */
        size_t m = 0;
        for (size_t i = 0; i < k; i += 2) {
            if (i + 1 < k)
                f[m++] = (td_ix_point){f[i].tf, f[i + 1].dl};
            else
                f[m++] = f[i];
        }
        k = m;
    }
    memcpy(out, f, k * sizeof *out);
    return k;
}

static unsigned s_width(uint32_t max)
{
    return max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
}

static unsigned char *s_put_arr(unsigned char *w, unsigned width, uint32_t v)
{
    w[0] = (unsigned char)v;
    if (width > 1)
        w[1] = (unsigned char)(v >> 8);
    if (width > 2) {
        w[2] = (unsigned char)(v >> 16);
        w[3] = (unsigned char)(v >> 24);
    }
    return w + width;
}

size_t td_ix_block_encode(const td_ix_posting *p, size_t n, unsigned char *out)
{
    td_ix_point pts[TD_IX_PTS];
    size_t npts = s_frontier(p, n, pts);
    uint32_t md = 0, mt = 0, ml = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t d = i ? p[i].doc - p[i - 1].doc : 0;
        md = d > md ? d : md;
        mt = p[i].tt > mt ? p[i].tt : mt;
        mt = p[i].tb > mt ? p[i].tb : mt;
        ml = p[i].dl > ml ? p[i].dl : ml;
    }
    unsigned wd = s_width(md), wt = s_width(mt), wl = s_width(ml);
    size_t hl = TD_IX_HEADER + 4 * npts;
    unsigned char *w = out + hl;
    /* the width is chosen once per array: a branch per value cost ~4% of
     * the writer's flush (every commit re-encodes the touched last blocks) */
#define S_PUT_ARR(width, expr)                                  \
    do {                                                        \
        if ((width) == 1)                                       \
            for (size_t i = 0; i < n; i++)                      \
                *w++ = (unsigned char)(expr);                   \
        else if ((width) == 2)                                  \
            for (size_t i = 0; i < n; i++, w += 2) {            \
                uint32_t v_ = (expr);                           \
                w[0] = (unsigned char)v_;                       \
                w[1] = (unsigned char)(v_ >> 8);                \
            }                                                   \
        else                                                    \
            for (size_t i = 0; i < n; i++)                      \
                w = s_put_arr(w, (width), (expr));              \
    } while (0)
    S_PUT_ARR(wd, i ? p[i].doc - p[i - 1].doc : 0);
    S_PUT_ARR(wt, p[i].tt);
    S_PUT_ARR(wt, p[i].tb);
    S_PUT_ARR(wl, p[i].dl);
#undef S_PUT_ARR
    out[0] = TD_IX_F_SPLIT;
    out[1] = (unsigned char)npts;
    out[2] = (unsigned char)(n >> 8);
    out[3] = (unsigned char)n;
    td_ix_put_u32(out + 4, p[0].doc);
    td_ix_put_u32(out + 8, p[n - 1].doc);
    out[12] = (unsigned char)wd;
    out[13] = (unsigned char)wt;
    out[14] = (unsigned char)wl;
    out[15] = 0;
    for (size_t i = 0; i < npts; i++) {
        unsigned char *q = out + TD_IX_HEADER + 4 * i;
        q[0] = (unsigned char)(pts[i].tf >> 8);
        q[1] = (unsigned char)pts[i].tf;
        q[2] = (unsigned char)(pts[i].dl >> 8);
        q[3] = (unsigned char)pts[i].dl;
    }
    return (size_t)(w - out);
}

size_t td_ix_block_inline(unsigned char *out, size_t len, const void *pos, size_t plen)
{
    out[0] = TD_IX_F_INLINE;
    if (plen)
        memcpy(out + len, pos, plen);
    return len + plen;
}

size_t td_ix_pos_encode(const td_ix_posting *p, size_t n, unsigned char *out)
{
    unsigned char *w = out;
    for (size_t i = 0; i < n; i++) {
        uint32_t np = p[i].npos < TD_IX_MAX_POS ? p[i].npos : TD_IX_MAX_POS, last = 0;
        const uint32_t *pos = td_ix_posting_pos(&p[i]);
        w += td_ix_put_varint(w, np);
        for (uint32_t k = 0; k < np; k++) {
            w += td_ix_put_varint(w, pos[k] - last);
            last = pos[k];
        }
    }
    return (size_t)(w - out);
}

int td_ix_header_read(const void *buf, size_t len, td_ix_header *h)
{
    const unsigned char *p = buf;
    if (len < TD_IX_HEADER || p[0] < 1 || p[0] > TD_IX_FORMAT)
        return -1;
    h->format = p[0];
    h->n = (uint16_t)(p[2] << 8 | p[3]);
    h->first = td_ix_get_u32(p + 4);
    h->last = td_ix_get_u32(p + 8);
    if (p[0] == 1) {
        /* format 1: one corner (max tf, min length) bounds the block */
        if (len < TD_IX_HEADER_V1)
            return -1;
        uint32_t fb = td_ix_get_u32(p + 12);
        float tf;
        memcpy(&tf, &fb, 4);
        uint32_t dl = td_ix_get_u32(p + 16);
        h->npts = 1;
        h->pts[0].tf = !(tf < 65535.0f) ? 65535 : (uint16_t)(tf + 0.999f);
        h->pts[0].dl = (uint16_t)(dl > 65535 ? 65535 : dl);
        h->hdr_len = TD_IX_HEADER_V1;
        h->docs_len = td_ix_get_u32(p + 20);
    } else {
        h->npts = p[1];
        h->hdr_len = TD_IX_HEADER + 4u * h->npts;
        if (p[0] >= TD_IX_F_SPLIT) {
            h->wd = p[12];
            h->wt = p[13];
            h->wl = p[14];
            for (int i = 0; i < 3; i++)
                if (p[12 + i] != 1 && p[12 + i] != 2 && p[12 + i] != 4)
                    return -1;
            h->docs_len = (uint32_t)h->n * (h->wd + 2u * h->wt + h->wl);
        } else {
            h->docs_len = td_ix_get_u32(p + 12);
        }
        if (h->npts == 0 || h->npts > TD_IX_PTS || len < h->hdr_len)
            return -1;
        for (size_t i = 0; i < h->npts; i++) {
            const unsigned char *q = p + TD_IX_HEADER + 4 * i;
            h->pts[i].tf = (uint16_t)(q[0] << 8 | q[1]);
            h->pts[i].dl = (uint16_t)(q[2] << 8 | q[3]);
        }
    }
    if (h->n == 0 || h->n > TD_IX_BLOCK || h->last < h->first ||
        h->docs_len > len - h->hdr_len)
        return -1;
    return 0;
}

double td_ix_bound(const td_ix_header *h, double c, double e)
{
    double best = 0;
    for (size_t i = 0; i < h->npts; i++) {
        if (h->pts[i].tf == 65535)
            return 1.0;
        double tf = h->pts[i].tf, f = tf / (tf + c + e * h->pts[i].dl);
        if (f > best)
            best = f;
    }
    return best;
}

/* Varint with the bounds checked once for the common case. */
static inline size_t s_varint(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
    if (p < end && p[0] < 0x80) {
        *v = p[0];
        return 1;
    }
    if (end - p >= 2 && p[1] < 0x80) {
        *v = (uint32_t)(p[0] & 0x7F) | (uint32_t)p[1] << 7;
        return 2;
    }
    return td_ix_get_varint(p, end, v);
}

static inline uint32_t s_u16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline uint32_t s_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A fixed-width array into out: a widening copy the compiler vectorises. */
static void s_get_arr(const unsigned char *p, unsigned w, size_t n, uint32_t *out)
{
    switch (w) {
    case 1:
        for (size_t i = 0; i < n; i++)
            out[i] = p[i];
        break;
    case 2:
        for (size_t i = 0; i < n; i++)
            out[i] = s_u16(p + 2 * i);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            out[i] = s_u32le(p + 4 * i);
    }
}

/* Format 1: interleaved docno delta, title tf, body tf, length. */
static int s_docs_v1(const unsigned char *p, const unsigned char *end, const td_ix_header *h,
                     uint32_t *doc, uint32_t *tt, uint32_t *tb, uint32_t *dl)
{
    uint32_t d = h->first;
    for (int i = 0; i < h->n; i++) {
        uint32_t delta, a, b, c;
        size_t k;
        if (!(k = s_varint(p, end, &delta)))
            return -1;
        p += k;
        if (!(k = s_varint(p, end, &a)))
            return -1;
        p += k;
        if (!(k = s_varint(p, end, &b)))
            return -1;
        p += k;
        if (!(k = s_varint(p, end, &c)))
            return -1;
        p += k;
        d += delta;
        doc[i] = d;
        tt[i] = a;
        tb[i] = b;
        dl[i] = c;
    }
    return h->n;
}

int td_ix_block_docnos(const void *buf, size_t len, const td_ix_header *h, uint32_t *doc,
                       uint32_t *tt, uint32_t *tb, uint32_t *dl, size_t *freq_off)
{
    const unsigned char *base = buf, *p = base + h->hdr_len, *end = p + h->docs_len;
    (void)len;
    if (h->format == 1) {
        *freq_off = 0;
        return s_docs_v1(p, end, h, doc, tt, tb, dl);
    }
    if (h->format >= TD_IX_F_SPLIT) {
        uint32_t d = h->first;
        int n = h->n;
        switch (h->wd) {
        case 1:
            for (int i = 0; i < n; i++)
                doc[i] = d += p[i];
            break;
        case 2:
            for (int i = 0; i < n; i++)
                doc[i] = d += s_u16(p + 2 * i);
            break;
        default:
            for (int i = 0; i < n; i++)
                doc[i] = d += s_u32le(p + 4 * i);
        }
        *freq_off = h->hdr_len + (size_t)n * h->wd;
        return n;
    }
    uint32_t d = h->first;
    for (int i = 0; i < h->n; i++) {
        uint32_t delta;
        size_t k = s_varint(p, end, &delta);
        if (!k)
            return -1;
        p += k;
        d += delta;
        doc[i] = d;
    }
    *freq_off = (size_t)(p - base);
    return h->n;
}

int td_ix_block_freqs(const void *buf, size_t len, const td_ix_header *h, size_t freq_off,
                      uint32_t *tt, uint32_t *tb, uint32_t *dl)
{
    (void)len;
    const unsigned char *base = buf, *p = base + freq_off, *end = base + h->hdr_len + h->docs_len;
    if (freq_off < h->hdr_len || p > end)
        return -1;
    if (h->format >= TD_IX_F_SPLIT) {
        size_t n = h->n;
        s_get_arr(p, h->wt, n, tt);
        s_get_arr(p + n * h->wt, h->wt, n, tb);
        s_get_arr(p + 2 * n * h->wt, h->wl, n, dl);
        return h->n;
    }
    for (int i = 0; i < h->n; i++) {
        size_t k = s_varint(p, end, &tt[i]);
        if (!k)
            return -1;
        p += k;
        if (!(k = s_varint(p, end, &tb[i])))
            return -1;
        p += k;
    }
    for (int i = 0; i < h->n; i++) {
        size_t k = s_varint(p, end, &dl[i]);
        if (!k)
            return -1;
        p += k;
    }
    return h->n;
}

int td_ix_block_docs(const void *buf, size_t len, uint32_t *doc, uint32_t *tt, uint32_t *tb,
                     uint32_t *dl)
{
    td_ix_header h;
    size_t off;
    if (td_ix_header_read(buf, len, &h) != 0)
        return -1;
    int n = td_ix_block_docnos(buf, len, &h, doc, tt, tb, dl, &off);
    if (n < 0 || h.format == 1)
        return n;
    return td_ix_block_freqs(buf, len, &h, off, tt, tb, dl);
}

size_t td_ix_pos_start(const td_ix_header *h)
{
    return h->format == TD_IX_F_SPLIT ? 0 : h->hdr_len + h->docs_len;
}

int td_ix_block_positions_at(const void *pbuf, size_t plen, size_t start, size_t n, size_t idx,
                             size_t *off, size_t *at, uint32_t *pos, size_t cap)
{
    if (idx >= n || start > plen)
        return -1;
    const unsigned char *base = pbuf, *end = base + plen;
    if (*off < start || *at > idx) {
        *off = start;
        *at = 0;
    }
    const unsigned char *p = base + *off;
    for (;;) {
        uint32_t np, v;
        size_t k = s_varint(p, end, &np);
        if (!k)
            return -1;
        if (*at == idx) {
            const unsigned char *q = p + k;
            uint32_t last = 0;
            size_t got = 0;
            for (uint32_t j = 0; j < np; j++) {
                if (!(k = s_varint(q, end, &v)))
                    return -1;
                q += k;
                last += v;
                if (got < cap)
                    pos[got++] = last;
            }
            return (int)got;
        }
        p += k;
        for (uint32_t j = 0; j < np; j++) {
            if (!(k = s_varint(p, end, &v)))
                return -1;
            p += k;
        }
        (*at)++;
        *off = (size_t)(p - base);
    }
}

int td_ix_block_positions(const void *buf, size_t len, const void *pbuf, size_t plen, size_t idx,
                          uint32_t *pos, size_t cap)
{
    td_ix_header h;
    size_t off = 0, at = 0;
    if (td_ix_header_read(buf, len, &h) != 0)
        return -1;
    if (h.format != TD_IX_F_SPLIT) {
        pbuf = buf;
        plen = len;
    } else if (!pbuf) {
        return -1;
    }
    return td_ix_block_positions_at(pbuf, plen, td_ix_pos_start(&h), h.n, idx, &off, &at, pos,
                                    cap);
}

size_t td_ix_doc_encode(const td_ix_doc *d, unsigned char *out, size_t cap)
{
    if (cap < 13 + d->idlen)
        return 0;
    out[0] = TD_IX_DOC_FORMAT;
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
    if (len < 14 || p[0] != TD_IX_DOC_FORMAT)
        return -1;
    d->published_at = (int64_t)((uint64_t)td_ix_get_u32(p + 1) << 32 | td_ix_get_u32(p + 5));
    d->dl = td_ix_get_u32(p + 9);
    d->id = (const char *)p + 13;
    d->idlen = len - 13;
    return 0;
}
