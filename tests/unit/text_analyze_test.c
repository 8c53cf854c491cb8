/* text_analyze_test.c — golden tests of the article analysis (text/analyze.h)
 * on the invented articles of tests/corpus/text/: what a reader would see
 * in the stored Article (title, cleaned body, boilerplate, entities, dates,
 * event date, claims with claimants and background, quotes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze.h"
#include "arena.h"
#include "record.h"

#ifndef TD_SOURCE_DIR
#define TD_SOURCE_DIR "."
#endif

typedef struct {
    td_analyzer *an;
    td_arena *arena;
} s_fix;

static char *s_read(const char *name)
{
    const char *root = getenv("TD_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/text/%s", root ? root : TD_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* Analyse a fixture with the metadata a feed would send. */
static td_article s_analyze(s_fix *fx, const char *file, const char *source, int64_t published,
                            const char *title, const char *lang)
{
    td_article a;
    memset(&a, 0, sizeof a);
    td_arena_reset(fx->arena);
    char *body = s_read(file);
    a.body = td_arena_strdup(fx->arena, body);
    free(body);
    a.source = (char *)source;
    a.title = (char *)title;
    a.lang = (char *)lang;
    a.published_at = published;
    td_error err = {0};
    int rc = td_analyzer_run(fx->an, &a, fx->arena, &err);
    if (rc != 0)
        fail_msg("analysis of %s failed: %s", file, err.message);
    return a;
}

static const td_entity *s_entity(const td_article *a, const char *name)
{
    for (size_t i = 0; i < a->n_entities; i++)
        if (strcmp(a->entities[i].name, name) == 0)
            return &a->entities[i];
    return NULL;
}

static void s_assert_entity(const td_article *a, const char *name, td_entity_kind kind)
{
    const td_entity *e = s_entity(a, name);
    if (!e)
        fail_msg("entity %s missing", name);
    if (e->kind != kind)
        fail_msg("entity %s has kind %d, want %d", name, e->kind, kind);
}

static const td_claim *s_claim(const td_article *a, const char *kind, int64_t count)
{
    for (size_t i = 0; i < a->n_claims; i++)
        if (strcmp(a->claims[i].kind, kind) == 0 && a->claims[i].count == count)
            return &a->claims[i];
    fail_msg("claim %s %lld missing", kind, (long long)count);
    return NULL;
}

static const char *s_date_of(const td_article *a, const char *text)
{
    for (size_t i = 0; i < a->n_dates; i++)
        if (strcmp(a->dates[i].text, text) == 0)
            return a->dates[i].date;
    fail_msg("date %s missing", text);
    return NULL;
}

/* 2024-03-14T09:30:00Z and friends, in ms */
#define T_FLOOD 1710408600000LL
#define T_RIDGE 1707501600000LL
#define T_PROTEST 1717502400000LL
#define T_QUAKE 1716274800000LL

static void test_flood_headline_boilerplate_numbers(void **state)
{
    td_article a = s_analyze(*state, "flood.txt", "Northern Wire", T_FLOOD, NULL, NULL);
    /* the headline line became the title and left the body */
    assert_string_equal(a.title, "Floods Sweep Through Valley Towns as Rivers Burst Their Banks");
    assert_null(strstr(a.body, "Floods Sweep"));
    assert_string_equal(a.lang, "en");
    /* three shapes of boilerplate: credit, promotion, copyright */
    assert_int_equal(a.n_boilerplate, 3);
    assert_non_null(strstr(a.boilerplate[0], "Reporting by"));
    assert_null(strstr(a.body, "Reporting by"));
    assert_null(strstr(a.body, "Follow us"));
    assert_null(strstr(a.body, "rights reserved"));
    /* "on Wednesday" before a Thursday publication */
    assert_string_equal(a.event_date, "2024-03-13");
    assert_string_equal(s_date_of(&a, "on Wednesday"), "2024-03-13");
    /* people, with surname-only mentions merged, and places */
    s_assert_entity(&a, "Maria Feldt", TD_ENT_PERSON);
    assert_true(s_entity(&a, "Maria Feldt")->count >= 2);
    assert_null(s_entity(&a, "Feldt"));
    s_assert_entity(&a, "Erik Sand", TD_ENT_PERSON);   /* after "Dr." */
    s_assert_entity(&a, "Norway", TD_ENT_COUNTRY);
    s_assert_entity(&a, "United States", TD_ENT_COUNTRY); /* "U.S." */
    s_assert_entity(&a, "Lunnvik", TD_ENT_PLACE);       /* near the village of */
    s_assert_entity(&a, "Dalsmo", TD_ENT_PLACE);        /* the Dalsmo district */
    assert_null(s_entity(&a, "Floodwater"));            /* a capital after the dateline */
    /* number words: "an elderly man", "two dozen", "Eleven" */
    const td_claim *c = s_claim(&a, "killed", 1);
    assert_non_null(strstr(c->subject, "man"));
    assert_string_equal(c->claimant, "the regional governor");
    assert_false(c->background);
    c = s_claim(&a, "missing", 24);
    assert_string_equal(c->claimant, "the regional governor");
    c = s_claim(&a, "injured", 11);
    assert_non_null(strstr(c->claimant, "hospital"));
    c = s_claim(&a, "evacuated", 340);
    assert_string_equal(c->claimant, "Maria Feldt");    /* "Feldt said" */
    /* the 2014 flood is background, with its date */
    c = s_claim(&a, "killed", 112);
    assert_true(c->background);
    assert_string_equal(c->date, "2014");
    /* a quote attributed after the quote */
    assert_true(a.n_quotes >= 1);
    assert_non_null(strstr(a.quotes[0].text, "never seen the water"));
    assert_non_null(strstr(a.quotes[0].speaker, "Maria Feldt"));
}

static void test_ridge_lead_title_bio_past_war(void **state)
{
    td_article a = s_analyze(*state, "ridge.txt", "Harbour Daily", T_RIDGE, NULL, NULL);
    /* no headline line: the lead sentence stands in and stays in the body */
    assert_non_null(strstr(a.title, "Chile's defence ministry said on Friday"));
    assert_non_null(strstr(a.body, "Chile's defence ministry said on Friday"));
    /* "Source:" line and a third-person author bio at the end */
    assert_int_equal(a.n_boilerplate, 2);
    assert_null(strstr(a.body, "freelance journalist"));
    assert_null(strstr(a.body, "Wire services"));
    assert_string_equal(a.event_date, "2024-02-09");
    assert_string_equal(s_date_of(&a, "Feb. 9"), "2024-02-09");
    /* "its soldiers" reads as the claimant's: Chilean soldiers */
    const td_claim *c = s_claim(&a, "wounded", 3);
    assert_string_equal(c->subject, "Chilean soldiers");
    assert_string_equal(c->claimant, "Chile's defence ministry");
    assert_false(c->background);
    /* a figure from a past war */
    c = s_claim(&a, "killed", 4000);
    assert_true(c->background);
    assert_string_equal(c->date, "1978");
    assert_string_equal(c->claimant, "historians");
    s_assert_entity(&a, "Tomas Rask", TD_ENT_PERSON);
    s_assert_entity(&a, "Luis Ortega", TD_ENT_PERSON);  /* "Gen." did not end a sentence */
    s_assert_entity(&a, "Quelmar", TD_ENT_PLACE);       /* near the town of */
    s_assert_entity(&a, "Arvena", TD_ENT_PLACE);        /* the Arvena province */
    s_assert_entity(&a, "Chile", TD_ENT_COUNTRY);
    s_assert_entity(&a, "Argentina", TD_ENT_COUNTRY);   /* "Argentine border" */
    assert_true(a.n_quotes >= 1);
    assert_string_equal(a.quotes[0].speaker, "Tomas Rask"); /* "Rask said" */
}

static void test_protest_given_title_and_agencies(void **state)
{
    const char *title = "Dozens detained after night of protests in Valmora";
    td_article a = s_analyze(*state, "protest.txt", "Capital Tribune", T_PROTEST, title, NULL);
    assert_string_equal(a.title, title);
    /* the title repeated as the first line leaves the body */
    assert_int_equal(strncmp(a.body, "Police in Valmora", 17), 0);
    assert_int_equal(a.n_boilerplate, 2);
    assert_null(strstr(a.body, "Read more"));
    assert_null(strstr(a.body, "inputs from agencies"));
    const td_claim *c = s_claim(&a, "arrested", 14);
    assert_string_equal(c->claimant, "the interior ministry");
    c = s_claim(&a, "injured", 4);
    assert_string_equal(c->claimant, "Piet Dorran");
    c = s_claim(&a, "detained", 24);
    assert_string_equal(c->subject, "demonstrators");
    assert_string_equal(c->claimant, "lawyers for the group");
    s_assert_entity(&a, "Valmora", TD_ENT_PLACE);
    assert_null(s_entity(&a, "Organisers"));
}

static void test_german_does_not_break(void **state)
{
    td_article a = s_analyze(*state, "erdbeben.txt", "Nordkurier", T_QUAKE, NULL, "de");
    assert_string_equal(a.lang, "de");
    assert_non_null(a.title);
    assert_true(strlen(a.body) > 100);
    assert_int_equal(a.n_boilerplate, 0);
    s_assert_entity(&a, "Berlin", TD_ENT_PLACE);
    /* German nouns are capitalised: they must not flood the entities */
    assert_true(a.n_entities <= 3);
    /* detected when not given */
    a = s_analyze(*state, "erdbeben.txt", "Nordkurier", T_QUAKE, NULL, NULL);
    assert_string_equal(a.lang, "de");
}

static void test_rejects_empty(void **state)
{
    s_fix *fx = *state;
    td_article a;
    memset(&a, 0, sizeof a);
    td_error err = {0};
    a.body = "";
    assert_int_equal(td_analyzer_run(fx->an, &a, fx->arena, &err), -1);
    assert_string_equal(err.code, TD_E_BAD_REQUEST);
    a.body = " \n\t\xC2\xA0 \n";
    assert_int_equal(td_analyzer_run(fx->an, &a, fx->arena, &err), -1);
    assert_string_equal(err.code, TD_E_BAD_REQUEST);
}

static void test_learns_source_boilerplate(void **state)
{
    s_fix *fx = *state;
    const char *promo = "Morning briefings from the Lakeside Courier arrive at seven every day";
    char body[512];
    td_article a;
    for (int i = 0; i < 8; i++) {
        snprintf(body, sizeof body,
                 "The council of Lakeside met on day %d to discuss the budget for item %c.\n%s",
                 i, 'a' + i, promo);
        memset(&a, 0, sizeof a);
        td_arena_reset(fx->arena);
        a.body = body;
        a.source = "Lakeside Courier";
        a.published_at = T_FLOOD;
        td_error err = {0};
        assert_int_equal(td_analyzer_run(fx->an, &a, fx->arena, &err), 0);
    }
    /* after enough articles the recurring line is boilerplate */
    assert_null(strstr(a.body, "Morning briefings"));
    assert_int_equal(a.n_boilerplate, 1);
    assert_string_equal(a.boilerplate[0], promo);
    /* another source keeps it */
    memset(&a, 0, sizeof a);
    td_arena_reset(fx->arena);
    snprintf(body, sizeof body, "The council met.\n%s", promo);
    a.body = body;
    a.source = "Other Paper";
    td_error err = {0};
    assert_int_equal(td_analyzer_run(fx->an, &a, fx->arena, &err), 0);
    assert_non_null(strstr(a.body, "Morning briefings"));
}

static void test_huge_numbers(void **state)
{
    s_fix *fx = *state;
    /* found by the fuzzer: a count too large for int64 */
    const char *body = "Officials said 202000000000000000000000000000000000000000000000000000000000 "
                       "million soldiers were killed on Thursday, and 1e400 more were wounded.";
    td_article a;
    memset(&a, 0, sizeof a);
    td_arena_reset(fx->arena);
    a.body = (char *)body;
    a.published_at = T_FLOOD;
    td_error err = {0};
    assert_int_equal(td_analyzer_run(fx->an, &a, fx->arena, &err), 0);
    for (size_t i = 0; i < a.n_claims; i++)
        assert_true(a.claims[i].count > 0 && a.claims[i].count < 100000000);
}

static void test_random_bytes_never_crash(void **state)
{
    s_fix *fx = *state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char buf[4096];
    static const char *const frags[] = {"\"", " said ", "killed ", "two dozen ", " Mr. ",
                                        "U.S.", "\n", "(Reporting by", " on Friday (May 12) ",
                                        "Armenia's ", "\xE2\x80\x9C", "\xFF", "1990s", ", "};
    for (int round = 0; round < 300; round++) {
        size_t n = 0, len = (size_t)(x % 3000) + 1;
        while (n < len) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (x % 3 == 0) {
                const char *f = frags[(x >> 8) % (sizeof frags / sizeof frags[0])];
                size_t k = strlen(f);
                if (n + k >= sizeof buf)
                    break;
                memcpy(buf + n, f, k);
                n += k;
            } else {
                buf[n++] = (char)(x >> 24);
            }
        }
        buf[n] = '\0';
        td_article a;
        memset(&a, 0, sizeof a);
        td_arena_reset(fx->arena);
        a.body = buf;
        a.published_at = (round % 2) ? T_FLOOD : TD_TIME_NONE;
        td_error err = {0};
        int rc = td_analyzer_run(fx->an, &a, fx->arena, &err);
        assert_true(rc == 0 || rc == -1);
        if (rc == 0) {
            assert_non_null(a.title);
            assert_non_null(a.body);
        }
    }
}

static int s_setup(void **state)
{
    s_fix *fx = calloc(1, sizeof *fx);
    fx->an = td_analyzer_new(NULL);
    fx->arena = td_arena_new(0);
    *state = fx;
    return fx->an && fx->arena ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_fix *fx = *state;
    td_analyzer_destroy(&fx->an);
    assert_null(fx->an);
    td_arena_destroy(&fx->arena);
    free(fx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_headline_boilerplate_numbers),
        cmocka_unit_test(test_ridge_lead_title_bio_past_war),
        cmocka_unit_test(test_protest_given_title_and_agencies),
        cmocka_unit_test(test_german_does_not_break),
        cmocka_unit_test(test_rejects_empty),
        cmocka_unit_test(test_learns_source_boilerplate),
        cmocka_unit_test(test_huge_numbers),
        cmocka_unit_test(test_random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
