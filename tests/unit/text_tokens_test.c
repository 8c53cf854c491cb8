/* text_tokens_test.c — the tokeniser shared by index and queries
 * (text/tokens.h) and language identification (text/lang.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "lang.h"
#include "normalize.h"
#include "tokens.h"

typedef struct {
    char norm[8][TD_TOKEN_MAX + 1];
    char stem[8][TD_TOKEN_MAX + 1];
    bool stop[8];
    uint32_t start[8], end[8];
    int n;
} s_toks;

static void s_tokenize(td_tokenizer *tk, const char *text, const char *lang, s_toks *out)
{
    memset(out, 0, sizeof *out);
    td_tokenizer_begin(tk, text, strlen(text), lang);
    td_token t;
    while (td_tokenizer_next(tk, &t) && out->n < 8) {
        snprintf(out->norm[out->n], sizeof out->norm[0], "%s", t.norm);
        snprintf(out->stem[out->n], sizeof out->stem[0], "%s", t.stem);
        out->stop[out->n] = t.stop;
        out->start[out->n] = t.start;
        out->end[out->n] = t.end;
        out->n++;
    }
}

static void test_english(void **state)
{
    td_tokenizer *tk = *state;
    s_toks t;
    s_tokenize(tk, "The soldiers were WOUNDED near Armenia's border.", "en", &t);
    assert_int_equal(t.n, 7);
    assert_string_equal(t.norm[0], "the");
    assert_true(t.stop[0]);
    assert_string_equal(t.stem[1], "soldier");
    assert_false(t.stop[1]);
    assert_string_equal(t.norm[3], "wounded");
    assert_string_equal(t.stem[3], "wound");
    assert_string_equal(t.norm[5], "armenia's");
    assert_string_equal(t.stem[5], "armenia");
    /* offsets point at the word in the input */
    assert_int_equal(t.start[5], 31);
    assert_int_equal(t.end[5], 40);
}

static void test_numbers_and_hyphens(void **state)
{
    td_tokenizer *tk = *state;
    s_toks t;
    s_tokenize(tk, "6,500 lives; Nagorno-Karabakh 3.5", "en", &t);
    assert_int_equal(t.n, 5);
    assert_string_equal(t.norm[0], "6500");
    assert_string_equal(t.stem[0], "6500");
    assert_string_equal(t.norm[2], "nagorno");
    assert_string_equal(t.norm[3], "karabakh");
    assert_string_equal(t.norm[4], "35");
}

static void test_french_elision_and_german_fold(void **state)
{
    td_tokenizer *tk = *state;
    s_toks t;
    s_tokenize(tk, "l'arm\xC3\xA9" "e a tir\xC3\xA9", "fr", &t);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.norm[0], "arm\xC3\xA9" "e");
    s_tokenize(tk, "STRASSE Stra\xC3\x9F" "e", "de", &t);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.norm[0], t.norm[1]);
    assert_string_equal(t.stem[0], t.stem[1]);
}

static void test_cjk_and_garbage(void **state)
{
    td_tokenizer *tk = *state;
    s_toks t;
    s_tokenize(tk, "\xE4\xB8\xAD\xE5\x9B\xBD news", NULL, &t);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.norm[0], "\xE4\xB8\xAD");
    assert_string_equal(t.norm[2], "news");
    /* invalid bytes are skipped, never read past the end */
    const char bad[] = {(char)0xC3, 'a', (char)0xFF, 'b', (char)0xE2};
    td_tokenizer_begin(tk, bad, sizeof bad, "en");
    td_token tok;
    int n = 0;
    while (td_tokenizer_next(tk, &tok))
        n++;
    assert_int_equal(n, 2);
}

static void test_long_token_is_cut(void **state)
{
    td_tokenizer *tk = *state;
    char buf[300];
    memset(buf, 'x', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    td_tokenizer_begin(tk, buf, strlen(buf), "en");
    td_token tok;
    assert_true(td_tokenizer_next(tk, &tok));
    assert_true(tok.norm_len <= TD_TOKEN_MAX);
    assert_int_equal(tok.end, 299);
    assert_false(td_tokenizer_next(tk, &tok));
}

static void test_lang_detect(void **state)
{
    (void)state;
    const char *en = "The minister said on Thursday that the talks would continue next week.";
    const char *fr = "Le ministre a d\xC3\xA9" "clar\xC3\xA9 que les n\xC3\xA9gociations se poursuivront la semaine prochaine.";
    const char *de = "Der Minister sagte am Donnerstag, dass die Gespr\xC3\xA4" "che in der n\xC3\xA4" "chsten Woche weitergehen.";
    const char *es = "El ministro dijo el jueves que las conversaciones continuar\xC3\xA1n la pr\xC3\xB3xima semana.";
    const char *ru = "\xD0\x9C\xD0\xB8\xD0\xBD\xD0\xB8\xD1\x81\xD1\x82\xD1\x80 \xD1\x81\xD0\xBA\xD0\xB0\xD0\xB7\xD0\xB0\xD0\xBB, \xD1\x87\xD1\x82\xD0\xBE \xD0\xBF\xD0\xB5\xD1\x80\xD0\xB5\xD0\xB3\xD0\xBE\xD0\xB2\xD0\xBE\xD1\x80\xD1\x8B \xD0\xB1\xD1\x83\xD0\xB4\xD1\x83\xD1\x82 \xD0\xBF\xD1\x80\xD0\xBE\xD0\xB4\xD0\xBE\xD0\xBB\xD0\xB6\xD0\xB5\xD0\xBD\xD1\x8B.";
    const char *zh = "\xE5\xA4\x96\xE4\xBA\xA4\xE9\x83\xA8\xE9\x95\xBF\xE8\xA1\xA8\xE7\xA4\xBA";
    assert_int_equal(td_lang_detect(en, strlen(en)), TD_LANG_EN);
    assert_int_equal(td_lang_detect(fr, strlen(fr)), TD_LANG_FR);
    assert_int_equal(td_lang_detect(de, strlen(de)), TD_LANG_DE);
    assert_int_equal(td_lang_detect(es, strlen(es)), TD_LANG_ES);
    assert_int_equal(td_lang_detect(ru, strlen(ru)), TD_LANG_RU);
    assert_int_equal(td_lang_detect(zh, strlen(zh)), TD_LANG_ZH);
    assert_int_equal(td_lang_detect("", 0), TD_LANG_EN);
    assert_int_equal(td_lang_parse("en-GB"), TD_LANG_EN);
    assert_int_equal(td_lang_parse("xx"), TD_LANG_NONE);
    assert_string_equal(td_lang_code(TD_LANG_DE), "de");
    assert_true(td_lang_is_stop(TD_LANG_EN, "the", 3));
    assert_false(td_lang_is_stop(TD_LANG_EN, "soldier", 7));
}

static int s_setup(void **state)
{
    *state = td_tokenizer_new();
    return *state ? 0 : -1;
}

static int s_teardown(void **state)
{
    td_tokenizer *tk = *state;
    td_tokenizer_destroy(&tk);
    assert_null(tk);
    td_tokenizer_destroy(&tk); /* NULL-safe */
    return 0;
}

/* The tokenizer finds words ahead of the one it returns: a new text must
 * start afresh however much of the previous one was read, the hashes must
 * be those of norm and stem, and a memo hit (second pass) must give the
 * same tokens as a miss (first pass). */
static void test_restart_hashes_and_memo(void **state)
{
    td_tokenizer *tk = *state;
    const char *a = "One two three four five six seven eight nine ten eleven twelve";
    td_tokenizer_begin(tk, a, strlen(a), "en");
    td_token t;
    assert_true(td_tokenizer_next(tk, &t));
    assert_true(td_tokenizer_next(tk, &t));
    assert_string_equal(t.norm, "two");
    s_toks b1, b2;
    s_tokenize(tk, "Zebras grazing quietly", "en", &b1);
    assert_int_equal(b1.n, 3);
    assert_string_equal(b1.norm[0], "zebras");
    assert_string_equal(b1.stem[0], "zebra");
    assert_string_equal(b1.norm[2], "quietly");
    s_tokenize(tk, "Zebras grazing quietly", "en", &b2);
    assert_memory_equal(&b1, &b2, sizeof b1);

    const char *c = "Councils voted; the councils' votes counted.";
    td_tokenizer_begin(tk, c, strlen(c), "en");
    int n = 0;
    while (td_tokenizer_next(tk, &t)) {
        assert_true(t.norm_hash == XXH3_64bits(t.norm, t.norm_len));
        assert_true(t.stem_hash == (uint32_t)XXH3_64bits(t.stem, t.stem_len));
        n++;
    }
    assert_int_equal(n, 6);   /* councils, voted, the, councils, votes, counted */
    assert_false(td_tokenizer_next(tk, &t));   /* stays at the end */
}

/* Many more distinct words than the memo holds, drawn with repeats (a
 * few frequent, most rare), in two languages and in both cases: every
 * token, hit or miss, after evictions and reorderings of its set, must be
 * what folding, the stop list and the stemmer give for the word itself. */
static void test_memo_under_pressure(void **state)
{
    td_tokenizer *tk = *state;
    static const char *syl[] = {"ka", "lo", "mi", "ra", "ten", "dor", "vel", "sa",
                                "nu", "pri", "ost", "gal", "ber", "ith", "mar", "zen"};
    enum { WORDS = 120000, DRAWS = 300000 };
    td_tokenizer *ref = td_tokenizer_new();   /* its stems: tk's point into tk */
    assert_non_null(ref);
    char *text = malloc((size_t)DRAWS * 16 + 1);
    assert_non_null(text);
    uint64_t r = 88172645463325252ull;
    size_t len = 0;
    for (int i = 0; i < DRAWS; i++) {
        /* words 0..WORDS: a quarter of the draws among the first 64 */
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        uint32_t w = (uint32_t)(r % 4 == 0 ? (r >> 8) % 64 : (r >> 8) % WORDS);
        for (int k = 0; k < 5 && (k == 0 || w >> (4 * k)); k++)
            len += (size_t)sprintf(text + len, "%s", syl[(w >> (4 * k)) & 15]);
        if (r & 0x10000)
            text[len - 1] = (char)(text[len - 1] - 'a' + 'A');
        text[len++] = ' ';
    }
    text[len] = '\0';
    size_t seen = 0;
    for (int pass = 0; pass < 4; pass++) {
        td_lang lang = pass % 2 ? TD_LANG_DE : TD_LANG_EN;
        td_tokenizer_begin_lang(tk, text, len, lang);
        td_token t;
        while (td_tokenizer_next(tk, &t)) {
            char norm[TD_TOKEN_MAX + 8];
            size_t n = td_normalize_fold(text + t.start, t.end - t.start, norm, TD_TOKEN_MAX + 1);
            assert_int_equal(t.norm_len, n);
            assert_memory_equal(t.norm, norm, n);
            assert_int_equal(t.stop, td_lang_is_stop(lang, norm, n));
            size_t sl;
            const char *st = td_tokenizer_stem(ref, lang, norm, n, &sl);
            assert_int_equal(t.stem_len, sl);
            assert_memory_equal(t.stem, st, sl);
            assert_true(t.norm_hash == XXH3_64bits(norm, n));
            assert_true(t.stem_hash == (uint32_t)XXH3_64bits(st, sl));
            seen++;
        }
    }
    assert_int_equal(seen, 4 * DRAWS);
    td_tokenizer_destroy(&ref);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_english),
        cmocka_unit_test(test_numbers_and_hyphens),
        cmocka_unit_test(test_french_elision_and_german_fold),
        cmocka_unit_test(test_cjk_and_garbage),
        cmocka_unit_test(test_long_token_is_cut),
        cmocka_unit_test(test_lang_detect),
        cmocka_unit_test(test_restart_hashes_and_memo),
        cmocka_unit_test(test_memo_under_pressure),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
