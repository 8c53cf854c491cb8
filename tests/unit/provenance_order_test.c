/* provenance_order_test.c — a copy or rewrite that arrives before its
 * source (store/assign.c): when the original comes, the earlier-stored copy
 * is relinked to it (derived_from, duplicate_of), the original is no copy of
 * its own copy, later copies of the same body point to the original, and
 * the event's independent_sources counts the original once. Through the
 * real writer, as article.get / event.get show it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_fixture.h"

#define HOUR 3600000LL
#define T0 1700000000000LL

static void test_copy_before_source(void **state)
{
    td_fx *fx = *state;
    /* the copy (published an hour later) is stored first */
    td_fx_add(fx, "copy", "Quake in Daravan", td_fx_quake, T0 + HOUR, "Other Daily");
    td_article c = td_fx_get(fx, "copy");
    assert_null(c.derived_id);
    td_fx_add(fx, "orig", "Quake in Daravan", td_fx_quake, T0, "Reuters");
    td_article o = td_fx_get(fx, "orig");
    c = td_fx_get(fx, "copy");
    assert_null(o.derived_id);
    assert_null(o.duplicate_of);
    assert_string_equal(o.event, c.event);
    assert_non_null(c.derived_id);
    assert_string_equal(c.derived_id, "orig");
    assert_string_equal(c.derived_kind, "copy");
    assert_non_null(c.duplicate_of);
    assert_string_equal(c.duplicate_of, "orig");
    td_event e = td_fx_event(fx, o.event);
    assert_int_equal(e.articles, 2);
    assert_int_equal(e.independent_sources, 1);
    /* a third copy, published later still, points to the original */
    td_fx_add(fx, "copy2", "Quake in Daravan", td_fx_quake, T0 + 2 * HOUR, "Third Post");
    td_article c2 = td_fx_get(fx, "copy2");
    assert_non_null(c2.duplicate_of);
    assert_string_equal(c2.duplicate_of, "orig");
    e = td_fx_event(fx, o.event);
    assert_int_equal(e.articles, 3);
    assert_int_equal(e.independent_sources, 1);
}

static void test_rewrite_before_source(void **state)
{
    td_fx *fx = *state;
    td_fx_add(fx, "rew", "Rescuers search for quake survivors", td_fx_quake_rewrite, T0 + 2 * HOUR,
              "Other Daily");
    td_fx_add(fx, "orig", "Quake in Daravan", td_fx_quake, T0, "Reuters");
    td_article o = td_fx_get(fx, "orig"), r = td_fx_get(fx, "rew");
    assert_string_equal(o.event, r.event);
    assert_null(o.derived_id);
    assert_non_null(r.derived_id);
    assert_string_equal(r.derived_id, "orig");
    assert_string_equal(r.derived_kind, "rewrite");
    assert_null(r.duplicate_of);
    td_event e = td_fx_event(fx, o.event);
    assert_int_equal(e.articles, 2);
    assert_int_equal(e.independent_sources, 1);
}

static void test_in_order_unchanged(void **state)
{
    td_fx *fx = *state;
    td_fx_add(fx, "orig", "Quake in Daravan", td_fx_quake, T0, "Reuters");
    td_fx_add(fx, "copy", "Quake in Daravan", td_fx_quake, T0 + HOUR, "Other Daily");
    td_article o = td_fx_get(fx, "orig"), c = td_fx_get(fx, "copy");
    assert_null(o.derived_id);
    assert_non_null(c.duplicate_of);
    assert_string_equal(c.duplicate_of, "orig");
    td_event e = td_fx_event(fx, o.event);
    assert_int_equal(e.independent_sources, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_before_source, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_before_source, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_in_order_unchanged, td_fx_setup, td_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
