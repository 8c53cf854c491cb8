/* ledger_sides_test.c — the claims ledger (store/ledger.c): figures merge by
 * subject side, each claimant is kept, a rewrite confirms nothing, two sides
 * telling their own stories or different counts for the same subject are
 * disputed, and agreeing sources are not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ledger.h"

static td_ledger *s_l;

static int s_setup(void **state)
{
    (void)state;
    s_l = td_ledger_new();
    return s_l ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    td_ledger_destroy(&s_l);
    return 0;
}

static const td_ledger_entry *s_find(const td_event *e, const char *kind, int64_t count)
{
    for (size_t i = 0; i < e->n_claims; i++)
        if (strcmp(e->claims[i].kind, kind) == 0 && e->claims[i].count == count)
            return &e->claims[i];
    return NULL;
}

static void test_sides_and_disputes(void **state)
{
    (void)state;
    td_arena *arena = td_arena_new(0);
    td_event e = {0};
    td_claim c1[] = {
        {.kind = "killed", .count = 1, .subject = "Ruritanian soldier", .claimant = "Ruritania"},
    };
    td_claim c2[] = {
        {.kind = "killed", .count = 1, .subject = "Ruritanian soldiers",
         .claimant = "Ruritania's defence ministry"},
    };
    /* made-up countries have no side: use real ones for the side rules */
    td_claim a1[] = {
        {.kind = "killed", .count = 2, .subject = "Peruvian soldiers", .claimant = "Peru"},
        {.kind = "wounded", .count = 3, .subject = "Chilean soldiers",
         .claimant = "Chile's defence ministry"},
        {.kind = "killed", .count = 100, .subject = "people", .background = true},
    };
    td_claim a2[] = {
        {.kind = "killed", .count = 2, .subject = "soldiers", .claimant = "the army in Peru"},
    };
    td_article x1 = {.id = "x1", .claims = c1, .n_claims = 1};
    td_article x2 = {.id = "x2", .claims = c2, .n_claims = 1};
    assert_int_equal(td_ledger_add(s_l, &e, &x1, false, arena), 0);
    assert_int_equal(td_ledger_add(s_l, &e, &x2, false, arena), 0);
    /* same words but plural: one figure, two claimants, two articles */
    assert_int_equal(e.n_claims, 1);
    assert_int_equal(e.claims[0].n_claimants, 2);
    assert_int_equal(e.claims[0].n_article_ids, 2);
    assert_false(e.claims[0].disputed);

    td_event f = {0};
    td_article y1 = {.id = "y1", .claims = a1, .n_claims = 3};
    td_article y2 = {.id = "y2", .claims = a2, .n_claims = 1};
    assert_int_equal(td_ledger_add(s_l, &f, &y1, false, arena), 0);
    /* background figures stay out of the ledger */
    assert_null(s_find(&f, "killed", 100));
    /* two sides each claiming: disputed */
    assert_true(s_find(&f, "killed", 2)->disputed);
    assert_true(s_find(&f, "wounded", 3)->disputed);
    /* a rewrite's bare "soldiers" (claimed by the army in Peru) is the Peruvian figure:
     * merged, and as a derived article it adds no confirmation */
    assert_int_equal(td_ledger_add(s_l, &f, &y2, true, arena), 0);
    assert_int_equal(f.n_claims, 2);
    assert_int_equal(s_find(&f, "killed", 2)->n_article_ids, 1);
    /* a different count for the same subject and kind is disputed */
    td_claim a3[] = {{.kind = "wounded", .count = 5, .subject = "Chilean soldiers",
                      .claimant = "a hospital"}};
    td_event g = {0};
    td_article z1 = {.id = "z1", .claims = &a1[1], .n_claims = 1};
    td_article z2 = {.id = "z2", .claims = a3, .n_claims = 1};
    assert_int_equal(td_ledger_add(s_l, &g, &z1, false, arena), 0);
    assert_false(g.claims[0].disputed);
    assert_int_equal(td_ledger_add(s_l, &g, &z2, false, arena), 0);
    assert_true(s_find(&g, "wounded", 3)->disputed);
    assert_true(s_find(&g, "wounded", 5)->disputed);
    td_arena_destroy(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sides_and_disputes, s_setup, s_teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
