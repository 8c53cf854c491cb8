/* codec_test.c — round trips of every record and the decoders' answers to
 * malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    td_arena *arena;
} fixture;

static int s_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    msgpack_sbuffer_init(&f->sb);
    msgpack_packer_init(&f->pk, &f->sb, msgpack_sbuffer_write);
    f->arena = td_arena_new(0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture *f = *state;
    msgpack_sbuffer_destroy(&f->sb);
    td_arena_destroy(&f->arena);
    free(f);
    return 0;
}

/* Pack a submission given as key/value C strings plus a body. */
static void s_pack_sub(fixture *f, const char *id, const char *body)
{
    td_article a;
    memset(&a, 0, sizeof a);
    a.id = (char *)id;
    a.body = (char *)body;
    a.title = "Headline";
    a.source = "Wire";
    a.published_at = 1683822600000;
    a.ingested_at = TD_TIME_NONE;
    assert_int_equal(td_submission_pack(&f->pk, &a), 0);
}

static void test_submission_round_trip(void **state)
{
    fixture *f = *state;
    s_pack_sub(f, "x-1", "Two ships collided near Port Vell.");
    td_article a;
    td_error err;
    assert_int_equal(td_submission_decode(f->sb.data, f->sb.size, TD_MAX_FRAME_DEFAULT, f->arena,
                                          &a, &err), 0);
    assert_string_equal(a.id, "x-1");
    assert_string_equal(a.title, "Headline");
    assert_string_equal(a.source, "Wire");
    assert_string_equal(a.body, "Two ships collided near Port Vell.");
    assert_true(a.published_at == 1683822600000);
    assert_null(a.url);
    assert_null(a.lang);
}

static void test_article_round_trip(void **state)
{
    fixture *f = *state;
    td_entity ents[2] = {{"Mara Voss", TD_ENT_PERSON, 3}, {"Estavia", TD_ENT_COUNTRY, 5}};
    td_claim cl = {"killed", 2, "soldiers", "Estavia's defence ministry", "Two soldiers were killed.",
                   true, "2020"};
    td_quote q = {"Mara Voss", "We will rebuild"};
    char *bp[] = {"(Reporting by A. Writer)"};
    td_date dt = {"on Thursday", "2023-05-11"};
    td_feature feat[2] = {{"score", 0.75}, {"text", 0.5}};
    td_kv meta = {"desk", "world"};
    td_article a = {.id = "a1", .url = "https://x.example/a", .source = "Wire", .title = "T",
                    .body = "Body text.", .published_at = 1000, .lang = "en", .meta = &meta,
                    .n_meta = 1, .boilerplate = bp, .n_boilerplate = 1, .entities = ents,
                    .n_entities = 2, .dates = &dt, .n_dates = 1, .event_date = "2023-05-11",
                    .claims = &cl, .n_claims = 1, .quotes = &q, .n_quotes = 1,
                    .ingested_at = 2000, .event = "e1", .story = "s1", .derived_id = "a0",
                    .derived_kind = "rewrite", .assignment = feat, .n_assignment = 2,
                    .content_hash = 0xdeadbeefcafeULL};
    assert_int_equal(td_article_pack(&f->pk, &a), 0);
    td_article b;
    td_error err;
    assert_int_equal(td_article_decode(f->sb.data, f->sb.size, f->arena, &b, &err), 0);
    assert_string_equal(b.id, "a1");
    assert_string_equal(b.url, a.url);
    assert_string_equal(b.lang, "en");
    assert_true(b.ingested_at == 2000);
    assert_string_equal(b.event, "e1");
    assert_string_equal(b.derived_id, "a0");
    assert_string_equal(b.derived_kind, "rewrite");
    assert_int_equal(b.n_entities, 2);
    assert_string_equal(b.entities[1].name, "Estavia");
    assert_int_equal(b.entities[1].kind, TD_ENT_COUNTRY);
    assert_int_equal(b.entities[1].count, 5);
    assert_int_equal(b.n_claims, 1);
    assert_true(b.claims[0].background);
    assert_string_equal(b.claims[0].date, "2020");
    assert_string_equal(b.claims[0].claimant, "Estavia's defence ministry");
    assert_int_equal(b.n_quotes, 1);
    assert_string_equal(b.quotes[0].speaker, "Mara Voss");
    assert_int_equal(b.n_boilerplate, 1);
    assert_string_equal(b.dates[0].date, "2023-05-11");
    assert_int_equal(b.n_assignment, 2);
    assert_true(b.assignment[0].value == 0.75);
    assert_string_equal(b.meta[0].value, "world");
    assert_true(b.content_hash == 0xdeadbeefcafeULL);
}

static void test_event_story_reject_round_trip(void **state)
{
    fixture *f = *state;
    char *ids[] = {"a1", "a2"};
    char *claimants[] = {"Estavia", "Norland"};
    td_ledger_entry le = {"killed", 1, "Estavian soldier", claimants, 2, ids, 2, true};
    td_event e = {.id = "e7", .title = "Clash", .summary = "S.", .story = "s3",
                  .event_date = "2023-05-11", .first_seen = 10, .last_seen = 20, .articles = 2,
                  .sources = 2, .independent_sources = 1, .article_ids = ids, .n_article_ids = 2,
                  .claims = &le, .n_claims = 1};
    assert_int_equal(td_event_pack(&f->pk, &e), 0);
    td_event g;
    td_error err;
    assert_int_equal(td_event_decode(f->sb.data, f->sb.size, f->arena, &g, &err), 0);
    assert_string_equal(g.id, "e7");
    assert_int_equal(g.independent_sources, 1);
    assert_int_equal(g.n_claims, 1);
    assert_true(g.claims[0].disputed);
    assert_string_equal(g.claims[0].claimants[1], "Norland");

    msgpack_sbuffer_clear(&f->sb);
    td_story s = {"s3", 10, 20, ids, 2};
    assert_int_equal(td_story_pack(&f->pk, &s), 0);
    td_story t;
    assert_int_equal(td_story_decode(f->sb.data, f->sb.size, f->arena, &t, &err), 0);
    assert_int_equal(t.n_event_ids, 2);

    msgpack_sbuffer_clear(&f->sb);
    td_reject r = {123, TD_E_BAD_REQUEST, "bad", (const unsigned char *)"\xff\x00\x01", 3};
    assert_int_equal(td_reject_pack(&f->pk, &r), 0);
    td_reject r2;
    assert_int_equal(td_reject_decode(f->sb.data, f->sb.size, f->arena, &r2, &err), 0);
    assert_int_equal(r2.n_bytes, 3);
    assert_memory_equal(r2.bytes, "\xff\x00\x01", 3);
}

static void test_store_msg_and_ack(void **state)
{
    fixture *f = *state;
    td_article a = {.id = "k", .body = "b", .published_at = TD_TIME_NONE,
                    .ingested_at = TD_TIME_NONE};
    td_store_msg m = {.token = 42, .article = &a};
    assert_int_equal(td_store_msg_pack(&f->pk, &m), 0);
    td_store_msg m2;
    td_error err;
    assert_int_equal(td_store_msg_decode(f->sb.data, f->sb.size, f->arena, &m2, &err), 0);
    assert_true(m2.token == 42);
    assert_non_null(m2.article);
    assert_string_equal(m2.article->id, "k");

    msgpack_sbuffer_clear(&f->sb);
    td_ack ack = {.token = 42, .ok = true, .id = "k", .status = "stored", .event = "e1"};
    assert_int_equal(td_ack_pack(&f->pk, &ack), 0);
    td_ack ack2;
    assert_int_equal(td_ack_decode(f->sb.data, f->sb.size, f->arena, &ack2, &err), 0);
    assert_true(ack2.ok);
    assert_string_equal(ack2.status, "stored");

    msgpack_sbuffer_clear(&f->sb);
    td_ack bad = {.ok = false, .code = TD_E_TOO_LARGE, .message = "big"};
    assert_int_equal(td_ack_pack(&f->pk, &bad), 0);
    assert_int_equal(td_ack_decode(f->sb.data, f->sb.size, f->arena, &ack2, &err), 0);
    assert_false(ack2.ok);
    assert_string_equal(ack2.code, TD_E_TOO_LARGE);
}

static void test_query_and_reply(void **state)
{
    fixture *f = *state;
    td_query q = {.op = "event.list", .entity = "Estavia", .since = 5, .until = TD_TIME_NONE,
                  .limit = 5000, .lang = "fr"};
    assert_int_equal(td_query_pack(&f->pk, &q), 0);
    td_query q2;
    td_error err;
    assert_int_equal(td_query_decode(f->sb.data, f->sb.size, f->arena, &q2, &err), 0);
    assert_string_equal(q2.op, "event.list");
    assert_string_equal(q2.lang, "fr");
    assert_true(q2.since == 5);
    assert_true(q2.until == TD_TIME_NONE);
    assert_int_equal(q2.limit, TD_MAX_LIST);

    msgpack_sbuffer_clear(&f->sb);
    td_stats st = {.articles = 5, .events = 2, .version = TD_VERSION};
    assert_int_equal(td_reply_ok_begin(&f->pk), 0);
    assert_int_equal(td_stats_pack(&f->pk, &st), 0);
    td_reply r;
    assert_int_equal(td_reply_decode(f->sb.data, f->sb.size, f->arena, &r, &err), 0);
    assert_true(r.ok);
    td_stats st2;
    assert_int_equal(td_stats_decode(r.result, r.result_len, &st2, &err), 0);
    assert_int_equal(st2.articles, 5);
    assert_int_equal(st2.events, 2);

    msgpack_sbuffer_clear(&f->sb);
    assert_int_equal(td_reply_error_pack(&f->pk, TD_E_NOT_FOUND, "no such article"), 0);
    assert_int_equal(td_reply_decode(f->sb.data, f->sb.size, f->arena, &r, &err), 0);
    assert_false(r.ok);
    assert_string_equal(r.code, TD_E_NOT_FOUND);
    assert_string_equal(r.message, "no such article");
}

/* Malformed frames: each must fail with the documented code, never crash. */
static void s_expect(fixture *f, const void *buf, size_t len, const char *code)
{
    td_article a;
    td_error err = {0};
    td_arena_reset(f->arena);
    int rc = td_submission_decode(buf, len, TD_MAX_FRAME_DEFAULT, f->arena, &a, &err);
    if (rc != -1)
        print_error("accepted a malformed frame of %zu bytes\n", len);
    assert_int_equal(rc, -1);
    assert_string_equal(err.code, code);
    assert_true(strlen(err.message) > 0);
}

static void test_malformed(void **state)
{
    fixture *f = *state;
    s_expect(f, "", sizeof("") - 1, TD_E_BAD_REQUEST);                              /* empty */
    s_expect(f, "hello world", sizeof("hello world") - 1, TD_E_BAD_REQUEST);                  /* not msgpack */
    s_expect(f, "\x93\x01\x02\x03", sizeof("\x93\x01\x02\x03") - 1, TD_E_BAD_REQUEST);              /* not a map */
    s_expect(f, "\x81\x01\x02", sizeof("\x81\x01\x02") - 1, TD_E_BAD_REQUEST);                  /* int key */
    s_expect(f, "\x81\xa4" "body" "\x05", sizeof("\x81\xa4" "body" "\x05") - 1, TD_E_BAD_REQUEST);        /* body not a string */
    s_expect(f, "\x81\xa2" "id" "\xa1x", sizeof("\x81\xa2" "id" "\xa1x") - 1, TD_E_BAD_REQUEST);          /* body missing */
    s_expect(f, "\x81\xa4" "body" "\xa2  ", sizeof("\x81\xa4" "body" "\xa2  ") - 1, TD_E_BAD_REQUEST);      /* blank body */
    s_expect(f, "\x81\xa4" "body" "\xa2\xc0\xaf", sizeof("\x81\xa4" "body" "\xa2\xc0\xaf") - 1, TD_E_BAD_REQUEST);/* overlong */
    s_expect(f, "\x81\xa4" "body" "\xa3\xed\xa0\x80", sizeof("\x81\xa4" "body" "\xa3\xed\xa0\x80") - 1, TD_E_BAD_REQUEST); /* surrogate */
    s_expect(f, "\x82\xa4" "type" "\xa4" "nope" "\xa4" "body" "\xa1x", sizeof("\x82\xa4" "type" "\xa4" "nope" "\xa4" "body" "\xa1x") - 1, TD_E_BAD_REQUEST);
    s_expect(f, "\xdd\xff\xff\xff\xff", sizeof("\xdd\xff\xff\xff\xff") - 1, TD_E_TOO_LARGE);            /* huge array header */
    s_expect(f, "\xdf\x00\x00\x10\x00", sizeof("\xdf\x00\x00\x10\x00") - 1, TD_E_BAD_REQUEST);          /* map claims 4096 pairs */
    s_expect(f, "\x81\xa4" "body" "\xdb\xff\xff\xff\xf0", sizeof("\x81\xa4" "body" "\xdb\xff\xff\xff\xf0") - 1, TD_E_BAD_REQUEST); /* str claims 4 GiB */
    s_expect(f, "\x81\xa4" "body" "\xa1x" "\x00", sizeof("\x81\xa4" "body" "\xa1x" "\x00") - 1, TD_E_BAD_REQUEST); /* trailing bytes */

    unsigned char deep[64];
    memset(deep, 0x91, sizeof deep);                                   /* [[[[...]]]] */
    deep[sizeof deep - 1] = 0x01;
    s_expect(f, deep, sizeof deep, TD_E_BAD_REQUEST);

    /* an id over the 512-byte limit */
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    msgpack_sbuffer_clear(&f->sb);
    s_pack_sub(f, big, "x");
    s_expect(f, f->sb.data, f->sb.size, TD_E_BAD_REQUEST);

    /* a frame over the configured limit */
    td_article a;
    td_error err;
    assert_int_equal(td_submission_decode(f->sb.data, f->sb.size, 16, f->arena, &a, &err), -1);
    assert_string_equal(err.code, TD_E_TOO_LARGE);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(td_utf8_valid("plain ascii text that is long enough", 36));
    assert_true(td_utf8_valid("caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d \xf0\x9f\x98\x80", 18));
    assert_false(td_utf8_valid("a\0b", 3));
    assert_false(td_utf8_valid("\xc0\x80", 2));         /* overlong NUL */
    assert_false(td_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(td_utf8_valid("\xed\xbf\xbf", 3));     /* surrogate */
    assert_false(td_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(td_utf8_valid("\xe2\x80", 2));         /* truncated */
    assert_false(td_utf8_valid("\x80", 1));             /* lone continuation */
}

static void test_arena_limit(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(1024);
    assert_non_null(td_arena_alloc(a, 512));
    assert_null(td_arena_alloc(a, 1024));
    td_arena_reset(a);
    assert_int_equal(td_arena_used(a), 0);
    assert_non_null(td_arena_alloc(a, 1000));
    td_arena_destroy(&a);
    assert_null(a);
    td_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submission_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_article_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_event_story_reject_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_msg_and_ack, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_query_and_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, s_setup, s_teardown),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_arena_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
