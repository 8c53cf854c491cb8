/* provenance_copy_test.c — copies and rewrites (store/provenance.c), as a
 * user sees them: a verbatim copy is a `copy`, a shortened one `trimmed`, a
 * paraphrase crediting the earlier outlet a `rewrite`, an independent report
 * of the same facts nothing; a source cannot derive from a later article.
 * A table built once for one side gives the same verdicts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "provenance.h"
#include "store_fixture.h"

#define T0 1700000000000LL

static const char *s_trimmed =
    "Rescue teams searched on Monday for survivors after a strong earthquake struck the "
    "mountain province of Daravan, officials said.\n"
    "The quake destroyed hundreds of homes in villages near the town of Kestrel.\n"
    "Rescue workers pulled survivors from collapsed buildings through the night.";

static const char *s_independent =
    "A strong earthquake in Daravan left thousands homeless, the Red Crescent said on "
    "Tuesday.\n"
    "Its volunteers distributed tents and blankets in the worst hit districts.\n"
    "Schools will stay closed for a week while engineers inspect them, the education "
    "ministry announced.\n"
    "Donors pledged emergency funds at a meeting in the capital.";

static void s_fp(td_terms *p, td_arena *arena, const char *body, const char *source, int64_t t,
                 td_fprint *out)
{
    td_article a = {.id = "x", .body = (char *)body, .source = (char *)source,
                    .published_at = t, .lang = "en"};
    assert_int_equal(td_terms_build(p, NULL, a.body, a.lang), 0);
    assert_int_equal(td_prov_fingerprint(&a, p, arena, out), 0);
}

/* The original report and four later ones: a copy, a trimmed copy, a
 * rewrite crediting it and an independent report. */
static void s_five(td_terms *p, td_arena *arena, td_fprint *orig, td_fprint *copy,
                   td_fprint *trim, td_fprint *rew, td_fprint *ind)
{
    s_fp(p, arena, td_fx_quake, "Reuters", T0, orig);
    s_fp(p, arena, td_fx_quake, "Other", T0 + 1000, copy);
    s_fp(p, arena, s_trimmed, "Other", T0 + 2000, trim);
    s_fp(p, arena, td_fx_quake_rewrite, "Other", T0 + 3000, rew);
    s_fp(p, arena, s_independent, "Other", T0 + 4000, ind);
}

/* Compared without the body (td_prov_compare's NULL body), the verdict is
 * the one with it, or none with need_body when only the credit cue in the
 * body could make it a rewrite. Returns need_body. */
static bool s_same_without_body(const td_fprint *nw, const char *body, const td_fprint *old)
{
    td_prov_match with, without;
    td_prov_compare(nw, body, old, &with);
    td_prov_compare(nw, NULL, old, &without);
    assert_false(with.need_body);
    assert_false(without.credit);
    if (without.need_body) {
        assert_null(without.kind);
        assert_true(with.overlap >= 0.3 && with.overlap < 0.5);
    } else if (with.kind) {
        assert_non_null(without.kind);
        assert_string_equal(with.kind, without.kind);
    } else {
        assert_null(without.kind);
    }
    return without.need_body;
}

static void test_kinds(void **state)
{
    (void)state;
    td_terms *p = td_terms_new();
    td_arena *arena = td_arena_new(0);
    td_fprint orig, copy, trim, rew, ind;
    s_five(p, arena, &orig, &copy, &trim, &rew, &ind);
    td_prov_match m;
    td_prov_compare(&copy, td_fx_quake, &orig, &m);
    assert_non_null(m.kind);
    assert_string_equal(m.kind, "copy");
    assert_int_equal(m.hamming, 0);
    td_prov_compare(&trim, s_trimmed, &orig, &m);
    assert_non_null(m.kind);
    assert_string_equal(m.kind, "trimmed");
    td_prov_compare(&rew, td_fx_quake_rewrite, &orig, &m);
    assert_non_null(m.kind);
    assert_string_equal(m.kind, "rewrite");
    assert_true(m.credit);
    td_prov_compare(&ind, s_independent, &orig, &m);
    assert_null(m.kind);
    /* publication order: the original does not derive from its rewrite */
    td_prov_compare(&orig, td_fx_quake, &rew, &m);
    assert_null(m.kind);

    /* without the body: the same verdicts, but for a rewrite the credit
     * cue decides (its overlap below what a rewrite needs without one) */
    assert_false(s_same_without_body(&copy, td_fx_quake, &orig));
    assert_false(s_same_without_body(&trim, s_trimmed, &orig));
    assert_false(s_same_without_body(&ind, s_independent, &orig));
    assert_false(s_same_without_body(&orig, td_fx_quake, &rew));
    td_prov_compare(&rew, td_fx_quake_rewrite, &orig, &m);
    assert_int_equal(s_same_without_body(&rew, td_fx_quake_rewrite, &orig), m.overlap < 0.5);
    td_arena_destroy(&arena);
    td_terms_destroy(&p);
}

/* The same match whether neither side, the new side or the earlier side
 * has a table built (td_prov_tab_build), in either order of comparison. */
static void s_same_with_tables(const td_fprint *nw, const char *body, const td_fprint *old)
{
    td_prov_tab *tab = td_prov_tab_new();
    assert_non_null(tab);
    td_fprint n = *nw, o = *old;
    n.tab = o.tab = NULL;
    td_prov_match plain, with_new, with_old;
    td_prov_compare(&n, body, &o, &plain);
    td_prov_tab_build(tab, &n);
    td_prov_compare(&n, body, &o, &with_new);
    n.tab = NULL;
    td_prov_tab_build(tab, &o);
    td_prov_compare(&n, body, &o, &with_old);
    td_prov_match *both[] = {&with_new, &with_old};
    for (int i = 0; i < 2; i++) {
        assert_true(plain.overlap == both[i]->overlap);
        assert_true(plain.same == both[i]->same);
        assert_int_equal(plain.hamming, both[i]->hamming);
        assert_int_equal(plain.credit, both[i]->credit);
        assert_int_equal(plain.need_body, both[i]->need_body);
        assert_true(plain.kind == both[i]->kind ||
                    (plain.kind && both[i]->kind && strcmp(plain.kind, both[i]->kind) == 0));
    }
    td_prov_tab_destroy(&tab);
    assert_null(tab);
}

static void test_tables(void **state)
{
    (void)state;
    td_terms *p = td_terms_new();
    td_arena *arena = td_arena_new(0);
    td_fprint orig, copy, trim, rew, ind;
    s_five(p, arena, &orig, &copy, &trim, &rew, &ind);
    const td_fprint *later[] = {&copy, &trim, &rew, &ind};
    const char *bodies[] = {td_fx_quake, s_trimmed, td_fx_quake_rewrite, s_independent};
    for (int i = 0; i < 4; i++) {
        s_same_with_tables(later[i], bodies[i], &orig);
        s_same_with_tables(later[i], NULL, &orig);
        s_same_with_tables(&orig, td_fx_quake, later[i]);   /* the order check */
        for (int j = 0; j < 4; j++)
            s_same_with_tables(later[i], bodies[i], later[j]);
    }
    td_prov_match m;
    td_prov_tab *tab = td_prov_tab_new();
    td_prov_tab_build(tab, &rew);
    td_prov_compare(&rew, td_fx_quake_rewrite, &orig, &m);
    assert_non_null(m.kind);
    assert_string_equal(m.kind, "rewrite");
    td_prov_tab_destroy(&tab);
    td_arena_destroy(&arena);
    td_terms_destroy(&p);
}

/* A moderate overlap (4 of each sentence's 10 terms): a rewrite only with
 * the credit cue, which is in the body, so compared without the body it
 * asks for the body instead of a verdict. */
static void test_credit_needs_body(void **state)
{
    (void)state;
    uint8_t n_old[4], n_new[4];
    uint32_t s_old[4][TD_PROV_TERMS], s_new[4][TD_PROV_TERMS];
    for (uint32_t j = 0; j < 4; j++) {
        n_old[j] = n_new[j] = 10;
        for (uint32_t k = 0; k < 10; k++) {
            s_old[j][k] = 1000 * (j + 1) + k;
            s_new[j][k] = k < 4 ? s_old[j][k] : 1000 * (j + 1) + 500 + k;
        }
    }
    td_fprint old = {.simhash = 0, .ntok = 60, .t = T0, .source = "reuters", .n_sent = 4,
                     .sent_n = n_old, .sent = s_old};
    td_fprint nw = {.simhash = ~0ULL, .ntok = 60, .t = T0 + 1000, .source = "other",
                    .n_sent = 4, .sent_n = n_new, .sent = s_new};
    td_prov_match m;
    td_prov_compare(&nw, NULL, &old, &m);
    assert_null(m.kind);
    assert_true(m.need_body);
    assert_true(m.overlap > 0.39 && m.overlap < 0.41);
    td_prov_compare(&nw, "Officials met on Monday, Reuters reported.", &old, &m);
    assert_non_null(m.kind);
    assert_string_equal(m.kind, "rewrite");
    assert_false(m.need_body);
    assert_true(s_same_without_body(&nw, "Officials met on Monday, Reuters reported.", &old));
    /* no cue in the body: no verdict either way */
    td_prov_compare(&nw, "Officials met on Monday.", &old, &m);
    assert_null(m.kind);
    assert_true(s_same_without_body(&nw, "Officials met on Monday.", &old));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kinds), cmocka_unit_test(test_tables),
                                       cmocka_unit_test(test_credit_needs_body)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
