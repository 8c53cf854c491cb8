/* ingest_pending_test.c — the table of acked submissions waiting for the
 * store: tokens, bounded capacity, expiry in arrival order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pending.h"

static td_envelope s_env(const char *id)
{
    td_envelope e;
    memset(&e, 0, sizeof e);
    e.n = 2;
    e.len[0] = strlen(id);
    memcpy(e.data[0], id, e.len[0]);
    e.len[1] = 0;   /* REQ delimiter */
    return e;
}

static void test_add_take(void **state)
{
    (void)state;
    td_pending *p = td_pending_new(4);
    td_envelope a = s_env("client-a"), b = s_env("client-b"), out;
    uint64_t ta = td_pending_add(p, &a, 100), tb = td_pending_add(p, &b, 100);
    assert_true(ta != 0 && tb != 0 && ta != tb);
    assert_int_equal(td_pending_count(p), 2);
    assert_int_equal(td_pending_take(p, tb, &out), 0);
    assert_memory_equal(out.data[0], "client-b", 8);
    assert_int_equal(out.n, 2);
    /* a token answers once: a second ack for it is ignored */
    assert_int_equal(td_pending_take(p, tb, &out), -1);
    assert_int_equal(td_pending_take(p, 0, &out), -1);
    assert_int_equal(td_pending_take(p, ta, &out), 0);
    assert_int_equal(td_pending_count(p), 0);
    td_pending_destroy(&p);
    assert_null(p);
}

static void test_capacity(void **state)
{
    (void)state;
    td_pending *p = td_pending_new(3);
    td_envelope e = s_env("c"), out;
    uint64_t t[3];
    for (int i = 0; i < 3; i++)
        assert_true((t[i] = td_pending_add(p, &e, 1000)) != 0);
    assert_true(td_pending_add(p, &e, 1000) == 0);        /* full: refused */
    assert_int_equal(td_pending_take(p, t[1], &out), 0);
    assert_true(td_pending_add(p, &e, 1000) != 0);        /* room again */
    /* many rounds keep working (the arrival ring wraps) */
    for (int round = 0; round < 1000; round++) {
        uint64_t x = td_pending_add(p, &e, 1000);
        if (!x) {
            uint64_t old = td_pending_expire(p, 5000, &out);
            assert_true(old != 0);
            x = td_pending_add(p, &e, 1000);
        }
        assert_true(x != 0);
        assert_int_equal(td_pending_take(p, x, &out), 0);
    }
    td_pending_destroy(&p);
}

static void test_expire_in_order(void **state)
{
    (void)state;
    td_pending *p = td_pending_new(8);
    td_envelope a = s_env("a"), b = s_env("b"), c = s_env("c"), out;
    uint64_t ta = td_pending_add(p, &a, 10);
    uint64_t tb = td_pending_add(p, &b, 20);
    uint64_t tc = td_pending_add(p, &c, 30);
    assert_int_equal(td_pending_take(p, tb, &out), 0);     /* answered in time */
    assert_true(td_pending_expire(p, 5, &out) == 0);        /* nothing due yet */
    assert_true(td_pending_expire(p, 25, &out) == ta);
    assert_memory_equal(out.data[0], "a", 1);
    assert_true(td_pending_expire(p, 25, &out) == 0);       /* b was answered, c not due */
    assert_true(td_pending_expire(p, 30, &out) == tc);
    assert_int_equal(td_pending_count(p), 0);
    td_pending_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_take),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_expire_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
