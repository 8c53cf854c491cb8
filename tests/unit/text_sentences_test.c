/* text_sentences_test.c — words and sentences (text/lexer.h): abbreviations,
 * initials, numbers and quotes must not end a sentence early. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "lexer.h"

static void s_expect(const char *text, const char *const *want, uint32_t n_want)
{
    td_arena *a = td_arena_new(0);
    td_doc d;
    assert_int_equal(td_doc_lex(&d, a, text, strlen(text)), 0);
    for (uint32_t i = 0; i < d.ns && i < n_want; i++) {
        char got[256];
        snprintf(got, sizeof got, "%.*s", (int)(d.s[i].e - d.s[i].s), text + d.s[i].s);
        assert_string_equal(got, want[i]);
    }
    assert_int_equal(d.ns, n_want);
    td_arena_destroy(&a);
}

static void test_abbreviations(void **state)
{
    (void)state;
    const char *want[] = {
        "Gen. Luis Ortega arrived in the U.S. on Feb. 9.",
        "He met J. R. Smith and Dr. Erik Sand at 3.5 km from the border.",
        "\"We will win.\"",
        "Then he left for the U.S.",
        "The talks ended.",
    };
    s_expect("Gen. Luis Ortega arrived in the U.S. on Feb. 9. He met J. R. Smith and "
             "Dr. Erik Sand at 3.5 km from the border. \"We will win.\" Then he left for "
             "the U.S. The talks ended.",
             want, 5);
}

static void test_lines_and_headings(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    const char *text = "Peace talks in the capital\nThe ministers met on Friday. They agreed.";
    td_doc d;
    assert_int_equal(td_doc_lex(&d, a, text, strlen(text)), 0);
    assert_int_equal(d.ns, 3);
    assert_true(d.s[0].heading);   /* a line without final punctuation */
    assert_false(d.s[1].heading);
    assert_int_equal(d.s[2].line, 1);
    td_arena_destroy(&a);
}

static void test_words(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    const char *text = "Armenia's 6,500 Nagorno-Karabakh U.S. EU-brokered";
    td_doc d;
    assert_int_equal(td_doc_lex(&d, a, text, strlen(text)), 0);
    assert_int_equal(d.nw, 5);
    assert_true(d.w[0].flags & W_POSS);
    assert_int_equal(td_wlen(&d, 0), 7);          /* "Armenia", 's aside */
    assert_true(d.w[1].flags & W_NUM);
    assert_int_equal(td_wlen(&d, 1), 5);
    assert_true(d.w[2].flags & W_HYPH);
    assert_true(d.w[3].flags & W_ABBR);
    assert_true(td_word_is(&d, 0, "armenia"));
    td_arena_destroy(&a);
}

static void test_hostile(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    /* only punctuation, only spaces, lone bytes: no crash, sane counts */
    const char *texts[] = {"", "....!!!???", "     ", "\xFF\xFE\xFD", "a", "\"\"\"\"", "U.S.A.B.C.D."};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        td_doc d;
        assert_int_equal(td_doc_lex(&d, a, texts[i], strlen(texts[i])), 0);
        assert_true(d.ns <= d.nw);
    }
    td_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abbreviations),
        cmocka_unit_test(test_lines_and_headings),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
