/* provenance_copy_test.c — copies and rewrites (store/provenance.c), as a
 * user sees them: a verbatim copy is a `copy`, a shortened one `trimmed`, a
 * paraphrase crediting the earlier outlet a `rewrite`, an independent report
 * of the same facts nothing; a source cannot derive from a later article. */
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

static void test_kinds(void **state)
{
    (void)state;
    td_terms *p = td_terms_new();
    td_arena *arena = td_arena_new(0);
    td_fprint orig, copy, trim, rew, ind;
    s_fp(p, arena, td_fx_quake, "Reuters", T0, &orig);
    s_fp(p, arena, td_fx_quake, "Other", T0 + 1000, &copy);
    s_fp(p, arena, s_trimmed, "Other", T0 + 2000, &trim);
    s_fp(p, arena, td_fx_quake_rewrite, "Other", T0 + 3000, &rew);
    s_fp(p, arena, s_independent, "Other", T0 + 4000, &ind);
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
    td_arena_destroy(&arena);
    td_terms_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kinds)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
