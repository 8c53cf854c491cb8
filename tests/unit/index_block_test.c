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
    assert_int_equal(h.min_dl, 50);
    assert_true(h.max_tf == td_ix_tf(1, 2));
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    assert_int_equal(td_ix_block_docs(buf, len, doc, tt, tb, dl), TD_IX_BLOCK);
    for (uint32_t i = 0; i < TD_IX_BLOCK; i++) {
        assert_int_equal(doc[i], p[i].doc);
        assert_int_equal(dl[i], p[i].dl);
    }
    uint32_t got[8];
    assert_int_equal(td_ix_block_positions(buf, len, 77, got, 8), 3);
    assert_int_equal(got[2], TD_IX_BODY_POS + 300 * 77);
    /* damaged or truncated values are refused, never read past */
    for (size_t cut = 0; cut < len; cut += 37)
        (void)td_ix_block_docs(buf, cut, doc, tt, tb, dl);
    assert_int_equal(td_ix_header_read(buf, 10, &h), -1);
}

static void test_keys(void **state)
{
    (void)state;
    unsigned char a[TD_IX_TERM_MAX + 5], b[TD_IX_TERM_MAX + 5];
    size_t la = td_ix_key("ab", 2, 5, a), lb = td_ix_key("abc", 3, 0, b);
    assert_int_equal(la, 7);
    assert_int_equal(lb, 8);
    assert_true(memcmp(a, b, 3) < 0);   /* every "ab" block sorts before "abc" */
    assert_int_equal(td_ix_key("", 0, 1, a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
