/* qparse_test.c — the search query language (query/qparse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "qparse.h"

static td_tokenizer *s_tk;
static td_arena *s_arena;

static td_qparsed s_parse(const char *q)
{
    td_qparsed out;
    assert_int_equal(td_qparse(q, strlen(q), s_tk, "en", s_arena, &out), 0);
    return out;
}

static void test_terms_and_or(void **state)
{
    (void)state;
    td_qparsed p = s_parse("Soldiers killed OR wounded");
    assert_int_equal(p.n_must, 2);
    assert_string_equal(p.must[0].alts[0].stems[0], "soldier");
    assert_int_equal(p.must[1].n_alts, 2);
    assert_string_equal(p.must[1].alts[1].stems[0], "wound");
}

static void test_not_phrase_fields(void **state)
{
    (void)state;
    td_qparsed p = s_parse("Sotk -Kalbajar \"gross violation of\" source:Reuters "
                           "entity:\"Antony Blinken\"");
    assert_int_equal(p.n_must, 2);
    assert_int_equal(p.n_nots, 1);
    assert_string_equal(p.nots[0].stems[0], "kalbajar");
    assert_int_equal(p.must[1].alts[0].n, 2);
    assert_int_equal(p.must[1].alts[0].offs[1], 1);
    assert_int_equal(p.n_sources, 1);
    assert_string_equal(p.sources[0], "Reuters");
    assert_string_equal(p.entities[0], "Antony Blinken");
    /* stop words keep their gap inside a phrase */
    p = s_parse("\"state of emergency\"");
    assert_int_equal(p.must[0].alts[0].n, 2);
    assert_int_equal(p.must[0].alts[0].offs[1], 2);
}

static void test_hostile(void **state)
{
    (void)state;
    const char *qs[] = {"", "\"", "-", "OR", "OR OR", "source:", "entity:\"", "the of and",
                        "\xff\xfe\x80", "-\"\""};
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        td_qparsed p = s_parse(qs[i]);
        assert_true(p.n_must <= TD_QP_MAX_CLAUSES);
    }
    char big[8192];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = i % 3 == 2 ? ' ' : 'a' + (char)(i % 26);
    big[sizeof big - 1] = 0;
    td_qparsed p = s_parse(big);
    assert_true(p.n_stems <= TD_QP_MAX_TERMS);
    assert_true(p.truncated);
}

static int s_setup(void **state)
{
    (void)state;
    s_tk = td_tokenizer_new();
    s_arena = td_arena_new(0);
    return s_tk && s_arena ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    td_tokenizer_destroy(&s_tk);
    td_arena_destroy(&s_arena);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terms_and_or),
        cmocka_unit_test(test_not_phrase_fields),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
