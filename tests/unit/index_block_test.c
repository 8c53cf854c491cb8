/* index_block_test.c — posting block encoding (store/index_block.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "index_block.h"

static void test_roundtrip(void **state)
{
    (void)state;
    td_ix_posting p[TD_IX_BLOCK];
    uint32_t pos[TD_IX_BLOCK][3];
    for (uint32_t i = 0; i < TD_IX_BLOCK; i++) {
        pos[i][0] = i;
        pos[i][1] = TD_IX_BODY_POS + i;
        pos[i][2] = TD_IX_BODY_POS + 300 * i;
        p[i] = (td_ix_posting){.doc = 1000 + 7 * i, .tt = i % 2, .tb = 2, .dl = 50 + i,
                               .npos = 3, .pos = pos[i]};
    }
    static unsigned char buf[65536];
    assert_true(td_ix_block_bound(p, TD_IX_BLOCK) <= sizeof buf);
    size_t len = td_ix_block_encode(p, TD_IX_BLOCK, buf);
    td_ix_header h;
    assert_int_equal(td_ix_header_read(buf, len, &h), 0);
    assert_int_equal(h.n, TD_IX_BLOCK);
    assert_int_equal(h.first, 1000);
    assert_int_equal(h.last, 1000 + 7 * (TD_IX_BLOCK - 1));
    assert_int_equal(h.format, TD_IX_F_SPLIT);
    /* tf 5 (title) and 2 alternate, lengths grow: the frontier is the
     * shortest of each tf */
    assert_int_equal(h.npts, 2);
    assert_int_equal(h.pts[0].tf, 5);
    assert_int_equal(h.pts[0].dl, 51);
    assert_int_equal(h.pts[1].tf, 2);
    assert_int_equal(h.pts[1].dl, 50);
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    assert_int_equal(td_ix_block_docs(buf, len, doc, tt, tb, dl), TD_IX_BLOCK);
    for (uint32_t i = 0; i < TD_IX_BLOCK; i++) {
        assert_int_equal(doc[i], p[i].doc);
        assert_int_equal(dl[i], p[i].dl);
    }
    /* positions: a value of their own, appendable (two halves encoded
     * apart read the same as one) */
    static unsigned char pbuf[65536];
    assert_true(td_ix_pos_bound(p, TD_IX_BLOCK) <= sizeof pbuf);
    size_t plen = td_ix_pos_encode(p, 100, pbuf);
    plen += td_ix_pos_encode(p + 100, TD_IX_BLOCK - 100, pbuf + plen);
    assert_int_equal(td_ix_pos_start(&h), 0);
    uint32_t got[8];
    assert_int_equal(td_ix_block_positions(buf, len, pbuf, plen, 77, got, 8), 3);
    assert_int_equal(got[2], TD_IX_BODY_POS + 300 * 77);
    assert_int_equal(td_ix_block_positions(buf, len, NULL, 0, 77, got, 8), -1);
    /* a resumed walk reads the same positions */
    size_t off = 0, at = 0;
    for (uint32_t i = 0; i < TD_IX_BLOCK; i += 5) {
        assert_int_equal(td_ix_block_positions_at(pbuf, plen, 0, h.n, i, &off, &at, got, 8), 3);
        assert_int_equal(got[0], i);
        assert_int_equal(got[2], TD_IX_BODY_POS + 300 * i);
    }
    /* docnos first, frequencies later */
    size_t foff;
    memset(tt, 0xff, sizeof tt);
    assert_int_equal(td_ix_block_docnos(buf, len, &h, doc, tt, tb, dl, &foff), TD_IX_BLOCK);
    assert_int_equal(doc[5], p[5].doc);
    assert_int_equal(td_ix_block_freqs(buf, len, &h, foff, tt, tb, dl), TD_IX_BLOCK);
    assert_int_equal(tt[3], 1);
    assert_int_equal(tb[3], 2);
    assert_int_equal(dl[3], 53);
    /* damaged or truncated values are refused, never read past */
    for (size_t cut = 0; cut < len; cut += 37)
        assert_int_equal(td_ix_block_docs(buf, cut, doc, tt, tb, dl), -1);
    for (size_t cut = 0; cut < plen; cut += 37) {
        off = at = 0;
        (void)td_ix_block_positions_at(pbuf, cut, 0, h.n, TD_IX_BLOCK - 1, &off, &at, got, 8);
    }
    assert_int_equal(td_ix_header_read(buf, 10, &h), -1);
    buf[12] = 3;   /* not a width */
    assert_int_equal(td_ix_header_read(buf, len, &h), -1);
}

/* Wide values take wider arrays and read back the same. */
static void test_widths(void **state)
{
    (void)state;
    td_ix_posting p[3] = {{.doc = 5, .tt = 1, .tb = 70000, .dl = 3},
                          {.doc = 5 + 300, .tt = 0, .tb = 2, .dl = 100000},
                          {.doc = 5 + 300 + 90000, .tt = 300, .tb = 1, .dl = 7}};
    unsigned char buf[512];
    size_t len = td_ix_block_encode(p, 3, buf);
    td_ix_header h;
    assert_int_equal(td_ix_header_read(buf, len, &h), 0);
    assert_int_equal(h.wd, 4);
    assert_int_equal(h.wt, 4);
    assert_int_equal(h.wl, 4);
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    assert_int_equal(td_ix_block_docs(buf, len, doc, tt, tb, dl), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(doc[i], p[i].doc);
        assert_int_equal(tt[i], p[i].tt);
        assert_int_equal(tb[i], p[i].tb);
        assert_int_equal(dl[i], p[i].dl);
    }
    p[1].dl = 300, p[0].tb = 200, p[2].tt = 3, p[2].doc = 400;
    len = td_ix_block_encode(p, 3, buf);
    assert_int_equal(td_ix_header_read(buf, len, &h), 0);
    assert_int_equal(h.wd, 2);
    assert_int_equal(h.wt, 1);
    assert_int_equal(h.wl, 2);
    assert_int_equal(td_ix_block_docs(buf, len, doc, tt, tb, dl), 3);
    assert_int_equal(doc[2], 400);
    assert_int_equal(dl[1], 300);
    assert_int_equal(tb[0], 200);
}

/* A format 2 block of an older store (varint streams, positions inside)
 * still reads: built here byte by byte. */
static void test_format2(void **state)
{
    (void)state;
    /* postings: doc 10 (tt 0, tb 1, dl 9, positions 4096) and doc 13
     * (tt 1, tb 2, dl 20, positions 1, 4100) */
    const unsigned char b[] = {
        2, 1, 0, 2, 0, 0, 0, 10, 0, 0, 0, 13, 0, 0, 0, 8,   /* header, docs 8 bytes */
        0, 5, 0, 9,                                         /* point tf 5, dl 9 */
        0, 3, 0, 1, 1, 2, 9, 20,                            /* deltas, tt/tb, lengths */
        1, 0x80, 0x20,                                      /* 1 position: 4096 */
        2, 1, 0x83, 0x20,                                   /* 2: 1, +4099 */
    };
    td_ix_header h;
    assert_int_equal(td_ix_header_read(b, sizeof b, &h), 0);
    assert_int_equal(h.format, 2);
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    assert_int_equal(td_ix_block_docs(b, sizeof b, doc, tt, tb, dl), 2);
    assert_int_equal(doc[1], 13);
    assert_int_equal(tb[1], 2);
    assert_int_equal(dl[1], 20);
    uint32_t got[4];
    assert_int_equal(td_ix_block_positions(b, sizeof b, NULL, 0, 1, got, 4), 2);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 4100);
    assert_int_equal(td_ix_pos_start(&h), 28);
}

static uint32_t s_rng = 12345;
static uint32_t s_rand(void)
{
    s_rng = s_rng * 1103515245u + 12345u;
    return s_rng >> 8;
}

/* The header bound is never below any posting's BM25 saturation, for any
 * average length, also when the frontier had to be merged. */
static void test_bound_safe(void **state)
{
    (void)state;
    static unsigned char buf[1 << 16];
    td_ix_posting p[TD_IX_BLOCK];
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + s_rand() % TD_IX_BLOCK;
        for (size_t i = 0; i < n; i++)
            p[i] = (td_ix_posting){.doc = 10 + (uint32_t)i * 3, .tt = s_rand() % 3,
                                   .tb = s_rand() % (round % 2 ? 400 : 40),
                                   .dl = 20 + s_rand() % (round % 3 ? 500 : 70000)};
        size_t len = td_ix_block_encode(p, n, buf);
        td_ix_header h;
        assert_int_equal(td_ix_header_read(buf, len, &h), 0);
        assert_true(h.npts >= 1 && h.npts <= TD_IX_PTS);
        /* the frontier, brute force: when it fits, the header holds exactly it */
        td_ix_point fr[TD_IX_BLOCK];
        size_t nf = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t ti = (uint32_t)td_ix_tf(p[i].tt, p[i].tb);
            uint32_t di = p[i].dl > 65535 ? 65535 : p[i].dl;
            bool dominated = false, dup = false;
            for (size_t j = 0; j < n && !dominated; j++) {
                uint32_t tj = (uint32_t)td_ix_tf(p[j].tt, p[j].tb);
                uint32_t dj = p[j].dl > 65535 ? 65535 : p[j].dl;
                dominated = tj >= ti && dj <= di && (tj > ti || dj < di);
            }
            for (size_t j = 0; j < nf; j++)
                dup |= fr[j].tf == ti && fr[j].dl == di;
            if (!dominated && !dup)
                fr[nf++] = (td_ix_point){(uint16_t)ti, (uint16_t)di};
        }
        if (nf <= TD_IX_PTS) {
            assert_int_equal(h.npts, nf);
            for (size_t i = 0; i < nf; i++) {
                bool found = false;
                for (size_t j = 0; j < h.npts; j++)
                    found |= h.pts[j].tf == fr[i].tf && h.pts[j].dl == fr[i].dl;
                assert_true(found);
            }
        }
        for (double avgdl = 50; avgdl < 5000; avgdl *= 1.7) {
            double c = 1.2 * 0.25, e = 1.2 * 0.75 / avgdl, best = 0;
            for (size_t i = 0; i < n; i++) {
                double tf = td_ix_tf(p[i].tt, p[i].tb), f = tf / (tf + c + e * p[i].dl);
                if (f > best)
                    best = f;
            }
            assert_true(td_ix_bound(&h, c, e) >= best);
        }
    }
}

/* format 4: the docs part of format 3 with the positions inline */
static void test_inline(void **state)
{
    (void)state;
    td_ix_posting p[40];
    uint32_t pos[40][2];
    for (uint32_t i = 0; i < 40; i++) {
        pos[i][0] = i % 3;
        pos[i][1] = TD_IX_BODY_POS + 10 * i;
        p[i] = (td_ix_posting){.doc = 5 + 3 * i, .tt = i % 3 ? 0 : 1, .tb = 1 + i % 4,
                               .dl = 300 + i, .npos = 2, .pos = pos[i]};
    }
    static unsigned char buf[8192], pbuf[4096];
    size_t len = td_ix_block_encode(p, 40, buf);
    /* appended in two parts, as the writer extends a block */
    size_t plen = td_ix_pos_encode(p, 25, pbuf);
    plen += td_ix_pos_encode(p + 25, 15, pbuf + plen);
    uint32_t got[4];
    td_ix_header h3;
    assert_int_equal(td_ix_header_read(buf, len, &h3), 0);
    assert_int_equal(h3.format, TD_IX_F_SPLIT);
    assert_int_equal(td_ix_block_positions(buf, len, pbuf, plen, 31, got, 4), 2);
    size_t ilen = td_ix_block_inline(buf, len, pbuf, plen);
    assert_int_equal(ilen, len + plen);
    td_ix_header h;
    assert_int_equal(td_ix_header_read(buf, ilen, &h), 0);
    assert_int_equal(h.format, TD_IX_F_INLINE);
    assert_int_equal(h.n, 40);
    assert_int_equal(h.npts, h3.npts);
    assert_int_equal(h.docs_len, h3.docs_len);
    assert_int_equal(td_ix_pos_start(&h), h.hdr_len + h.docs_len);
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    assert_int_equal(td_ix_block_docs(buf, ilen, doc, tt, tb, dl), 40);
    size_t off;
    assert_int_equal(td_ix_block_docnos(buf, ilen, &h, doc, tt, tb, dl, &off), 40);
    assert_int_equal(td_ix_block_freqs(buf, ilen, &h, off, tt, tb, dl), 40);
    for (uint32_t i = 0; i < 40; i++) {
        assert_int_equal(doc[i], p[i].doc);
        assert_int_equal(tt[i], p[i].tt);
        assert_int_equal(tb[i], p[i].tb);
        assert_int_equal(dl[i], p[i].dl);
        /* the block carries its positions: a positions value is ignored */
        assert_int_equal(td_ix_block_positions(buf, ilen, NULL, 0, i, got, 4), 2);
        assert_int_equal(got[0], i % 3);
        assert_int_equal(got[1], TD_IX_BODY_POS + 10 * i);
    }
    size_t o = 0, at = 0;
    assert_int_equal(td_ix_block_positions_at(buf, ilen, td_ix_pos_start(&h), h.n, 39, &o, &at,
                                              got, 4), 2);
    assert_int_equal(got[1], TD_IX_BODY_POS + 390);
    /* truncated positions are damage, not a crash */
    assert_int_equal(td_ix_block_positions(buf, ilen - 1, NULL, 0, 39, got, 4), -1);
}

/* A posting with one position may keep it in the posting itself (pos1,
 * no array): it encodes exactly as with an array, mixed with others. */
static void test_one_position_inline(void **state)
{
    (void)state;
    uint32_t three[3] = {4, TD_IX_BODY_POS + 9, TD_IX_BODY_POS + 700};
    uint32_t one = TD_IX_BODY_POS + 42;
    td_ix_posting inl[3] = {
        {.doc = 10, .tb = 1, .dl = 90, .npos = 1, .pos1 = one},
        {.doc = 11, .tt = 1, .tb = 2, .dl = 80, .npos = 3, .pos = three},
        {.doc = 12, .tb = 1, .dl = 70, .npos = 1, .pos1 = 7},
    };
    uint32_t seven = 7;
    td_ix_posting arr[3] = {inl[0], inl[1], inl[2]};
    arr[0].pos = &one;
    arr[0].pos1 = 0;
    arr[2].pos = &seven;
    arr[2].pos1 = 0;
    unsigned char a[256], b[256];
    assert_true(td_ix_pos_bound(inl, 3) <= sizeof a);
    size_t la = td_ix_pos_encode(inl, 3, a), lb = td_ix_pos_encode(arr, 3, b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    unsigned char buf[1024];
    size_t len = td_ix_block_encode(inl, 3, buf);
    uint32_t got[4];
    assert_int_equal(td_ix_block_positions(buf, len, a, la, 0, got, 4), 1);
    assert_int_equal(got[0], one);
    assert_int_equal(td_ix_block_positions(buf, len, a, la, 2, got, 4), 1);
    assert_int_equal(got[0], 7);
    assert_int_equal(td_ix_block_positions(buf, len, a, la, 1, got, 4), 3);
    assert_int_equal(got[2], TD_IX_BODY_POS + 700);
}

static void test_keys(void **state)
{
    (void)state;
    unsigned char a[TD_IX_KEY], b[TD_IX_KEY], c[TD_IX_KEY];
    assert_int_equal(td_ix_key(2, 0xFFFFFFFF, a), TD_IX_KEY);
    td_ix_key(3, 0, b);
    td_ix_key(2, 7, c);
    assert_true(memcmp(a, b, TD_IX_KEY) < 0);   /* every block of term 2 before term 3's */
    assert_true(memcmp(c, a, TD_IX_KEY) < 0);   /* a term's blocks in docno order */
    assert_true(memcmp(a, b, TD_IX_KEY_TERM) != 0 && memcmp(a, c, TD_IX_KEY_TERM) == 0);
    assert_true(td_ix_term_ok("ab", 2));
    assert_false(td_ix_term_ok("", 0));
    assert_false(td_ix_term_ok("a\0b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_one_position_inline),
        cmocka_unit_test(test_bound_safe),
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_format2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
