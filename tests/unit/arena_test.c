/* arena_test.c — the bump allocator: limits, alignment, zeroing, and reuse
 * of memory across resets (the analyser's hot path must not malloc). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static void test_alloc_aligned_zeroed(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    assert_non_null(a);
    for (size_t sz = 1; sz < 5000; sz += 37) {
        unsigned char *p = td_arena_alloc(a, sz);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < sz; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xAB, sz);
    }
    assert_string_equal(td_arena_printf(a, "%d-%s", 42, "x"), "42-x");
    assert_string_equal(td_arena_strndup(a, "abcdef", 3), "abc");
    assert_null(td_arena_strdup(a, NULL));
    td_arena_destroy(&a);
    assert_null(a);
    td_arena_destroy(&a);   /* NULL-safe */
}

static void test_limit(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(64 * 1024);
    assert_non_null(td_arena_alloc(a, 60 * 1024));
    assert_null(td_arena_alloc(a, 8 * 1024));           /* over the limit */
    assert_null(td_arena_alloc(a, SIZE_MAX - 4));       /* overflow of rounding */
    td_arena_reset(a);
    assert_int_equal(td_arena_used(a), 0);
    assert_non_null(td_arena_alloc(a, 60 * 1024));      /* the limit applies per use */
    td_arena_destroy(&a);
}

/* After one record needed several chunks, a reset leaves one chunk that
 * holds a record of the same shape: the same allocations land in it
 * contiguously (one chunk, so addresses only grow). */
static void test_reset_keeps_capacity(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    for (int i = 0; i < 200; i++)
        assert_non_null(td_arena_alloc(a, 1000));
    td_arena_reset(a);
    unsigned char *prev = NULL;
    for (int i = 0; i < 200; i++) {
        unsigned char *p = td_arena_alloc(a, 1000);
        assert_non_null(p);
        if (prev)
            assert_true(p == prev + 1008);
        prev = p;
    }
    assert_int_equal(td_arena_used(a), 200 * 1008);
    td_arena_destroy(&a);
}

/* A one-off huge use must not be kept for ever. */
static void test_reset_drops_huge(void **state)
{
    (void)state;
    td_arena *a = td_arena_new((size_t)64 << 20);
    assert_non_null(td_arena_alloc(a, (size_t)20 << 20));
    assert_non_null(td_arena_alloc(a, 100));
    td_arena_reset(a);
    assert_int_equal(td_arena_used(a), 0);
    assert_non_null(td_arena_alloc(a, 100));
    td_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_aligned_zeroed),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_reset_keeps_capacity),
        cmocka_unit_test(test_reset_drops_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
