/* provenance_order_test.c — a copy or rewrite that arrives before its
 * source (store/assign.c): when the original comes, the earlier-stored copy
 * is relinked to it (derived_from, duplicate_of), the original is no copy of
 * its own copy, later copies of the same body point to the original, the
 * event's independent_sources counts the original once, and the copy's
 * figures stop confirming the original's in the claims ledger. Through the
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

/* Store `id` (the quake body) with the figures `claims`, and commit. */
static void s_add_claims(td_fx *fx, const char *id, int64_t t, const char *source,
                         td_claim *claims, size_t n)
{
    td_article a = {.id = (char *)id, .title = "Quake in Daravan", .body = (char *)td_fx_quake,
                    .published_at = t, .lang = "en", .source = (char *)source,
                    .claims = claims, .n_claims = n};
    td_fx_put(fx, &a, t);
    assert_int_equal(td_writer_commit(fx->w, NULL, false), TD_DB_OK);
}

/* The ledger entry of `kind` and `count` in event `eid`; it must be there. */
static td_ledger_entry s_claim(td_fx *fx, const char *eid, const char *kind, int64_t count)
{
    td_event e = td_fx_event(fx, eid);
    for (size_t i = 0; i < e.n_claims; i++)
        if (strcmp(e.claims[i].kind, kind) == 0 && e.claims[i].count == count)
            return e.claims[i];
    fail_msg("no %s %lld in the ledger of %s", kind, (long long)count, eid);
    return (td_ledger_entry){0};
}

static void test_relinked_copy_confirms_nothing(void **state)
{
    td_fx *fx = *state;
    td_claim dead = {.kind = "killed", .count = 12, .subject = "villagers",
                     .claimant = "the provincial governor"};
    td_claim hurt = {.kind = "injured", .count = 40, .subject = "villagers"};
    /* the copy comes first, with the source's figure and one of its own */
    td_claim copy_claims[] = {dead, hurt};
    s_add_claims(fx, "copy", T0 + HOUR, "Other Daily", copy_claims, 2);
    td_article c = td_fx_get(fx, "copy");
    td_ledger_entry k = s_claim(fx, c.event, "killed", 12);
    assert_int_equal(k.n_article_ids, 1);
    assert_string_equal(k.article_ids[0], "copy");

    s_add_claims(fx, "orig", T0, "Reuters", &dead, 1);
    c = td_fx_get(fx, "copy");
    assert_non_null(c.derived_id);
    assert_string_equal(c.derived_id, "orig");
    /* the figure both state is the source's alone, as in arrival order */
    k = s_claim(fx, c.event, "killed", 12);
    assert_int_equal(k.n_article_ids, 1);
    assert_string_equal(k.article_ids[0], "orig");
    assert_int_equal(k.n_claimants, 1);
    assert_string_equal(k.claimants[0], "the provincial governor");
    /* the figure only the copy states stays the copy's */
    td_ledger_entry h = s_claim(fx, c.event, "injured", 40);
    assert_int_equal(h.n_article_ids, 1);
    assert_string_equal(h.article_ids[0], "copy");
    assert_false(k.disputed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_before_source, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_before_source, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_in_order_unchanged, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_relinked_copy_confirms_nothing, td_fx_setup,
                                        td_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
