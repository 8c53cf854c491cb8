/* client_input_test.c — what `tidings feed` makes of its input: headline
 * detection in plain text, JSON Lines submissions (bad lines refused with a
 * reason, not a crash), and ISO-8601 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "input.h"
#include "isotime.h"

#define L(s) s, strlen(s)

static void test_headlines(void **state)
{
    (void)state;
    /* a Title Case wire headline with commas */
    assert_true(td_input_is_headline(
        L("Two Guards Hurt, Several Others Missing in Clashes Between Estavia, Norland")));
    assert_true(td_input_is_headline(L("Floods Close the Riverside Bridge for a Week\n")));
    assert_true(td_input_is_headline(L("Is the Harbour Strike Over?")));
    assert_true(td_input_is_headline(L("U.S. Talks Resume in Geneva")));
    assert_true(td_input_is_headline(L("  Ärzte Warnen vor Hitze  ")));
    /* sentences: a final full stop, or lower case words */
    assert_false(td_input_is_headline(L("Floods Close the Riverside Bridge for a Week.")));
    assert_false(td_input_is_headline(
        L("Estavia and Norland blamed each other for an exchange of fire on the border")));
    assert_false(td_input_is_headline(
        L("VELMORA (Northwind) -Estavia and Norland traded accusations after shelling in a "
          "border district on Tuesday in which Norland said two of its guards "
          "were hurt.")));
    /* too long, even in Title Case */
    assert_false(td_input_is_headline(
        L("One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen Fourteen "
          "Fifteen Sixteen Seventeen Eighteen Nineteen Twenty Twentyone Twentytwo Twentythree "
          "Twentyfour Twentyfive Twentysix")));
    assert_false(td_input_is_headline(L("")));
    assert_false(td_input_is_headline(L("   ")));
    assert_false(td_input_is_headline(L("2023 1 2 3")));
}

static void test_plain_with_headline(void **state)
{
    (void)state;
    td_arena *arena = td_arena_new(0);
    td_client_article a;
    char err[128];
    const char *text = "\xEF\xBB\xBF\n\nHarbour Workers Walk Out Over Pay\n\nDock workers in "
                       "Port Elan stopped work on Monday.\nThe union said so.\n\n";
    assert_int_equal(td_input_plain(arena, L(text), "Coast Herald", 1683822600000, &a, err,
                                    sizeof err),
                     0);
    assert_string_equal(a.title, "Harbour Workers Walk Out Over Pay");
    assert_string_equal(a.body,
                        "Dock workers in Port Elan stopped work on Monday.\nThe union said so.");
    assert_string_equal(a.source, "Coast Herald");
    assert_true(a.published_at == 1683822600000);
    td_arena_destroy(&arena);
}

static void test_plain_without_headline(void **state)
{
    (void)state;
    td_arena *arena = td_arena_new(0);
    td_client_article a;
    char err[128];
    const char *text = "Two weeks after the talks, a soldier has died in a shootout, officials "
                       "said Thursday.\nThe neighbours fought a war last year.\n";
    assert_int_equal(td_input_plain(arena, L(text), NULL, 1, &a, err, sizeof err), 0);
    assert_null(a.title);
    assert_non_null(strstr(a.body, "Two weeks after"));
    assert_non_null(strstr(a.body, "war last year."));
    /* a single headline-like line is the text itself, not a title */
    assert_int_equal(td_input_plain(arena, L("Storm Warning Issued\n"), NULL, 1, &a, err,
                                    sizeof err),
                     0);
    assert_null(a.title);
    assert_string_equal(a.body, "Storm Warning Issued");
    /* nothing but blank lines, and bytes that are not UTF-8 */
    assert_int_equal(td_input_plain(arena, L(" \n\n \n"), NULL, 1, &a, err, sizeof err), -1);
    assert_int_equal(td_input_plain(arena, L("caf\xE9 au lait\n"), NULL, 1, &a, err,
                                    sizeof err),
                     -1);
    assert_non_null(strstr(err, "UTF-8"));
    td_arena_destroy(&arena);
}

static void test_jsonl_good(void **state)
{
    (void)state;
    td_arena *arena = td_arena_new(0);
    td_client_article a;
    char err[256];
    const char *line =
        "{\"type\":\"article\",\"id\":\"s-1\",\"url\":\"https://x.example/a\",\"source\":\"Wire\","
        "\"title\":\"T\",\"body\":\"B \\u00e9\",\"published_at\":\"2023-05-11T16:30:00Z\","
        "\"lang\":\"en\",\"meta\":{\"desk\":\"world\",\"n\":\"1\"},\"extra\":[1,2]}\n";
    assert_int_equal(td_input_jsonl(arena, L(line), &a, err, sizeof err), 1);
    assert_string_equal(a.id, "s-1");
    assert_string_equal(a.url, "https://x.example/a");
    assert_string_equal(a.source, "Wire");
    assert_string_equal(a.title, "T");
    assert_string_equal(a.body, "B \xC3\xA9");
    assert_string_equal(a.lang, "en");
    assert_true(a.published_at == 1683822600000);
    assert_int_equal(a.n_meta, 2);
    assert_string_equal(a.meta[0].key, "desk");
    assert_string_equal(a.meta[0].value, "world");

    /* ms, and absent published_at */
    assert_int_equal(td_input_jsonl(arena, L("{\"body\":\"x\",\"published_at\":1683822600123}"),
                                    &a, err, sizeof err),
                     1);
    assert_true(a.published_at == 1683822600123);
    assert_null(a.id);
    assert_int_equal(td_input_jsonl(arena, L("{\"body\":\"x\",\"title\":null}"), &a, err,
                                    sizeof err),
                     1);
    assert_true(a.published_at == TD_CLIENT_TIME_NONE);
    assert_null(a.title);
    /* blank lines are nothing to send, not errors */
    assert_int_equal(td_input_jsonl(arena, L("   \r\n"), &a, err, sizeof err), 0);
    td_arena_destroy(&arena);
}

static void test_jsonl_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *why;
    } bad[] = {
        {"{\"body\": \"x\"", "not JSON"},
        {"not json at all", "not JSON"},
        {"[1,2,3]", "not a JSON object"},
        {"{\"title\":\"no body\"}", "body"},
        {"{\"body\":\"\"}", "body"},
        {"{\"body\":42}", "\"body\" must be a string"},
        {"{\"body\":\"x\",\"title\":[\"a\"]}", "\"title\" must be a string"},
        {"{\"body\":\"x\",\"published_at\":\"yesterday\"}", "published_at"},
        {"{\"body\":\"x\",\"published_at\":true}", "published_at"},
        {"{\"body\":\"x\",\"meta\":{\"k\":1}}", "meta"},
        {"{\"body\":\"x\",\"meta\":\"k=v\"}", "meta"},
        {"{\"type\":\"query\",\"body\":\"x\"}", "type"},
        {"{\"body\":\"a\\u0000b\"}", "not JSON"},
        {"{\"body\":\"x\",\"body\":\"y\"}", "not JSON"},
        {"{\"body\":\"\xff\xfe\"}", "not JSON"},
    };
    td_arena *arena = td_arena_new(0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        td_client_article a;
        char err[256] = "";
        int rc = td_input_jsonl(arena, L(bad[i].line), &a, err, sizeof err);
        if (rc != -1 || !strstr(err, bad[i].why))
            fail_msg("line %zu '%s': rc %d, reason '%s', wanted '%s'", i, bad[i].line, rc, err,
                     bad[i].why);
    }
    td_arena_destroy(&arena);
}

static void test_iso_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        {"2023-05-11", 1683763200000},
        {"2023-05-11T16:30:00Z", 1683822600000},
        {"2023-05-11T16:30Z", 1683822600000},
        {"2023-05-11T16:30", 1683822600000},
        {"2023-05-11 16:30:00", 1683822600000},
        {"2023-05-11T18:30:00+02:00", 1683822600000},
        {"2023-05-11T12:00:00-0430", 1683822600000},
        {"2023-05-11T16:30:00.250Z", 1683822600250},
        {"2023-05-11T16:30:00.2Z", 1683822600200},
        {"2023-05-11T16:30:00.123456Z", 1683822600123},
        {"1970-01-01", 0},
        {"1969-12-31T23:59:59Z", -1000},
        {"2024-02-29", 1709164800000},
        {"1683822600000", 1683822600000},
        {"0", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = 12345;
        if (td_isotime_parse(good[i].s, &ms) != 0 || ms != good[i].ms)
            fail_msg("'%s': got %lld, wanted %lld", good[i].s, (long long)ms,
                     (long long)good[i].ms);
    }
    static const char *const bad[] = {
        "", "yesterday", "2023-5-11", "2023-13-01", "2023-02-29", "2023-04-31",
        "2023-05-11T25:00", "2023-05-11T16:30:00X", "2023-05-11T16", "2023/05/11",
        "12ab", "2023-05-11T16:30:00.Z", "2023-05-11T16:30+2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        if (td_isotime_parse(bad[i], &ms) == 0)
            fail_msg("'%s' should be refused, got %lld", bad[i], (long long)ms);
    }
}

static void test_iso_format(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(td_isotime_format(1683822600000, buf, sizeof buf),
                        "2023-05-11T16:30:00Z");
    assert_string_equal(td_isotime_format(1683822600250, buf, sizeof buf),
                        "2023-05-11T16:30:00.250Z");
    assert_string_equal(td_isotime_format(-1, buf, sizeof buf), "1969-12-31T23:59:59.999Z");
    assert_string_equal(td_isotime_format(TD_CLIENT_TIME_NONE, buf, sizeof buf), "-");
    /* round trip */
    int64_t ms;
    assert_int_equal(td_isotime_parse(td_isotime_format(1234567890123, buf, sizeof buf), &ms), 0);
    assert_true(ms == 1234567890123);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headlines),
        cmocka_unit_test(test_plain_with_headline),
        cmocka_unit_test(test_plain_without_headline),
        cmocka_unit_test(test_jsonl_good),
        cmocka_unit_test(test_jsonl_bad_lines),
        cmocka_unit_test(test_iso_parse),
        cmocka_unit_test(test_iso_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
