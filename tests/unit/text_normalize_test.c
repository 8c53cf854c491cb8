/* text_normalize_test.c — cleaning and folding of text (text/normalize.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "normalize.h"

static char *s_clean(td_arena *a, const char *in)
{
    size_t n;
    return td_normalize_text(a, in, strlen(in), &n);
}

static void test_punctuation_and_spaces(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    /* curly quotes, en dash, non-breaking space, ellipsis, tabs, CRLF */
    char *s = s_clean(a, "\xE2\x80\x9CYes,\xE2\x80\x9D she said \xE2\x80\x93 it\xE2\x80\x99s"
                         "\xC2\xA0" "done\xE2\x80\xA6\r\n\r\n\r\n\tNext  line  ");
    assert_string_equal(s, "\"Yes,\" she said - it's done...\n\nNext line");
    td_arena_destroy(&a);
}

static void test_invalid_utf8_and_controls(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    const char in[] = {'a', (char)0xFF, 'b', 0x01, 'c', (char)0xE2, (char)0x82, 0};
    size_t n;
    char *s = td_normalize_text(a, in, sizeof in - 1, &n);
    assert_non_null(s);
    /* the bad byte becomes U+FFFD, the control byte is dropped, the
     * truncated sequence at the end becomes U+FFFD per byte */
    assert_string_equal(s, "a\xEF\xBF\xBD" "bc\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_int_equal(n, strlen(s));
    td_arena_destroy(&a);
}

static void test_nfc(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    /* e + combining acute becomes the single code point U+00E9 */
    assert_string_equal(s_clean(a, "Caf" "e\xCC\x81"), "Caf\xC3\xA9");
    td_arena_destroy(&a);
}

static void test_fold(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(td_normalize_fold("Armenia", 7, out, sizeof out), 7);
    assert_string_equal(out, "armenia");
    td_normalize_fold("Stra\xC3\x9F" "e", 7, out, sizeof out);
    assert_string_equal(out, "strasse");
    td_normalize_fold("\xEF\xBC\xA1\xEF\xBC\xA2", 6, out, sizeof out); /* full-width AB */
    assert_string_equal(out, "ab");
    td_normalize_fold("\xC3\x89TAT", 5, out, sizeof out);
    assert_string_equal(out, "\xC3\xA9tat");
    /* truncation never splits a character */
    size_t n = td_normalize_fold("\xC3\xA9\xC3\xA9\xC3\xA9", 6, out, 4);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_punctuation_and_spaces),
        cmocka_unit_test(test_invalid_utf8_and_controls),
        cmocka_unit_test(test_nfc),
        cmocka_unit_test(test_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
