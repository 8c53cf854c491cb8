/* query_ops_test.c — tidings-query's ops over a database written by the
 * store's writer, without sockets (td_query_server_handle): every op of
 * PROTOCOL.md except search, paging without overlap, filters, and the error
 * codes for bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "db.h"
#include "log.h"
#include "query_server.h"
#include "writer.h"

static char s_dir[64];
static td_query_server *s_srv;
static msgpack_sbuffer s_out;
static td_arena *s_arena;

/* Send a request map built by the caller's packing function; returns the
 * decoded envelope (result raw bytes valid until the next call). */
static td_reply s_ask_raw(const void *buf, size_t len)
{
    assert_int_equal(td_query_server_handle(s_srv, buf, len, &s_out), 0);
    td_reply r;
    td_error err;
    td_arena_reset(s_arena);
    assert_int_equal(td_reply_decode(s_out.data, s_out.size, s_arena, &r, &err), 0);
    return r;
}

static td_reply s_ask(const td_query *q)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(td_query_pack(&pk, q), 0);
    /* keep the request bytes alive for the reply's lifetime */
    static char keep[4096];
    assert_true(sb.size <= sizeof keep);
    memcpy(keep, sb.data, sb.size);
    size_t n = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return s_ask_raw(keep, n);
}

static td_query s_q(const char *op)
{
    return (td_query){.op = (char *)op, .since = TD_TIME_NONE, .until = TD_TIME_NONE,
                      .limit = 20};
}

/* Find a string value of key `k` in a msgpack map (top level only). */
static msgpack_object *s_field(msgpack_object *m, const char *k)
{
    if (m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        msgpack_object *key = &m->via.map.ptr[i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(k) &&
            memcmp(key->via.str.ptr, k, key->via.str.size) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

typedef struct {
    msgpack_unpacked u;
    msgpack_object *root;
} s_obj;

static void s_parse(const td_reply *r, s_obj *o)
{
    msgpack_unpacked_init(&o->u);
    assert_int_equal(msgpack_unpack_next(&o->u, r->result, r->result_len, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    o->root = &o->u.data;
}

static void s_str(msgpack_object *m, const char *k, char *out, size_t cap)
{
    msgpack_object *v = s_field(m, k);
    assert_non_null(v);
    assert_int_equal(v->type, MSGPACK_OBJECT_STR);
    snprintf(out, cap, "%.*s", (int)v->via.str.size, v->via.str.ptr);
}

/* event.list: ids of the page into ids, the cursor into cursor ("" when none). */
static size_t s_event_page(td_query *q, char ids[][16], char *cursor, size_t cap)
{
    td_reply r = s_ask(q);
    assert_true(r.ok);
    s_obj o;
    s_parse(&r, &o);
    msgpack_object *evs = s_field(o.root, "events");
    assert_non_null(evs);
    size_t n = evs->via.array.size;
    for (size_t i = 0; i < n; i++)
        s_str(&evs->via.array.ptr[i], "id", ids[i], 16);
    cursor[0] = '\0';
    if (s_field(o.root, "next_cursor"))
        s_str(o.root, "next_cursor", cursor, cap);
    msgpack_unpacked_destroy(&o.u);
    return n;
}

static void s_expect_error(const td_query *q, const char *code)
{
    td_reply r = s_ask(q);
    assert_false(r.ok);
    assert_string_equal(r.code, code);
}

/* ---- setup: the store writes, then the query server reads ------------------------ */

/* Publication time of fixture article i: 90 days apart. */
#define S_TIME(i) (1000 + (int64_t)(i) * 90 * 86400000)

static void s_store(void)
{
    td_db_opts o = {.dir = s_dir, .sync = TD_SYNC_NOSYNC};
    td_db *db = td_db_open(&o, NULL);
    assert_non_null(db);
    td_writer *w = td_writer_new(db);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    td_entity sotk[] = {{"Sotk", TD_ENT_PLACE, 1}};
    /* seven unrelated happenings, months apart: seven events */
    static const char *const topics[7][2] = {
        {"Harbour cranes restored", "Engineers restored the harbour cranes after a power fault."},
        {"Orchard frost losses", "Growers counted apple losses after a late spring frost."},
        {"Library reopens", "The city library reopened with a new reading room for children."},
        {"Ferry strike called", "Ferry crews called a strike over rosters and overtime pay."},
        {"Telescope mirror cast", "Glassmakers cast the mirror of a new mountain telescope."},
        {"Marathon record", "A runner set a course record at the autumn marathon."},
        {"Bridge tolls cut", "Regional councillors voted to cut tolls on the river bridge."},
    };
    for (int i = 0; i < 7; i++) {
        char id[16];
        snprintf(id, sizeof id, "art-%d", i);
        td_article a = {.id = id, .title = (char *)topics[i][0], .source = "Src",
                        .body = (char *)topics[i][1],
                        .published_at = S_TIME(i)};
        if (i % 2 == 0) {   /* art-0, 2, 4, 6 mention Sotk */
            a.entities = sotk;
            a.n_entities = 1;
        }
        td_store_msg m = {.token = (uint64_t)i + 1, .article = &a};
        msgpack_packer pk;
        msgpack_sbuffer_clear(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        assert_int_equal(td_store_msg_pack(&pk, &m), 0);
        assert_int_equal(td_writer_add(w, "x", 1, sb.data, sb.size, 50), 0);
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(td_writer_add(w, "x", 1, "\xc1", 1, 60 + i), 0);
    assert_int_equal(td_writer_commit(w, NULL, false), TD_DB_OK);
    msgpack_sbuffer_destroy(&sb);
    td_writer_destroy(&w);
    td_db_destroy(&db);
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/td-query-test-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    msgpack_sbuffer_init(&s_out);
    s_arena = td_arena_new(0);
    td_query_server_opts o = {.data = s_dir, .query = NULL};
    s_srv = td_query_server_new(&o);
    assert_non_null(s_srv);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    td_query_server_destroy(&s_srv);
    msgpack_sbuffer_destroy(&s_out);
    td_arena_destroy(&s_arena);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_before_the_store(void **state)
{
    (void)state;
    /* no database yet: ping answers, data ops say unavailable (not a crash) */
    td_query q = s_q("ping");
    td_reply r = s_ask(&q);
    assert_true(r.ok);
    q = s_q("stats");
    s_expect_error(&q, TD_E_UNAVAILABLE);
    s_store();
}

static void test_gets_and_stats(void **state)
{
    (void)state;
    td_query q = s_q("stats");
    td_reply r = s_ask(&q);
    assert_true(r.ok);
    td_stats st;
    td_error err;
    assert_int_equal(td_stats_decode(r.result, r.result_len, &st, &err), 0);
    assert_int_equal(st.articles, 7);
    assert_int_equal(st.events, 7);
    assert_int_equal(st.stories, 7);
    assert_int_equal(st.rejects, 5);
    assert_true(st.db_bytes > 0);

    q = s_q("article.get");
    q.id = "art-3";
    r = s_ask(&q);
    assert_true(r.ok);
    td_article a;
    td_arena *arena = td_arena_new(0);
    assert_int_equal(td_article_decode(r.result, r.result_len, arena, &a, &err), 0);
    assert_string_equal(a.title, "Ferry strike called");
    assert_true(a.published_at == S_TIME(3));
    assert_non_null(a.event);

    q = s_q("event.get");
    q.id = a.event;
    r = s_ask(&q);
    assert_true(r.ok);
    td_event e;
    assert_int_equal(td_event_decode(r.result, r.result_len, arena, &e, &err), 0);
    assert_string_equal(e.article_ids[0], "art-3");

    q = s_q("story.get");
    q.id = a.story;
    r = s_ask(&q);
    assert_true(r.ok);
    s_obj o;
    s_parse(&r, &o);
    msgpack_object *evs = s_field(o.root, "events");
    assert_int_equal(evs->via.array.size, 1);
    msgpack_unpacked_destroy(&o.u);

    q = s_q("entity.get");
    q.name = "SOTK";
    r = s_ask(&q);
    assert_true(r.ok);
    s_parse(&r, &o);
    char buf[32];
    s_str(o.root, "name", buf, sizeof buf);
    assert_string_equal(buf, "Sotk");
    s_str(o.root, "kind", buf, sizeof buf);
    assert_string_equal(buf, "place");
    assert_int_equal(s_field(o.root, "articles")->via.u64, 4);
    assert_int_equal(s_field(o.root, "events")->via.array.size, 4);
    msgpack_unpacked_destroy(&o.u);
    td_arena_destroy(&arena);
}

static void test_event_list_paging(void **state)
{
    (void)state;
    char ids[32][16], all[32][16], cursor[256] = "";
    size_t total = 0;
    td_query q = s_q("event.list");
    q.limit = 3;
    /* pages of 3: 3 + 3 + 1, newest first, never overlapping */
    for (int page = 0; page < 5; page++) {
        size_t n = s_event_page(&q, ids, cursor, sizeof cursor);
        for (size_t i = 0; i < n; i++)
            memcpy(all[total++], ids[i], 16);
        if (!cursor[0])
            break;
        q.cursor = cursor;
    }
    assert_int_equal(total, 7);
    for (size_t i = 0; i < total; i++)
        for (size_t j = i + 1; j < total; j++)
            assert_string_not_equal(all[i], all[j]);
    assert_string_equal(all[0], "e7");   /* art-6, published last */
    assert_string_equal(all[6], "e1");

    /* a time window on activity (inclusive) */
    q = s_q("event.list");
    q.since = S_TIME(1);
    q.until = S_TIME(3);
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 3);
    assert_string_equal(ids[0], "e4");
    assert_string_equal(ids[2], "e2");
    q.limit = 2;
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 2);
    q.cursor = cursor;
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 1);
    assert_string_equal(ids[0], "e2");
    assert_string_equal(cursor, "");

    /* entity filter, paged the same way */
    q = s_q("event.list");
    q.entity = "sotk";
    q.limit = 3;
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 3);
    assert_string_equal(ids[0], "e7");
    assert_string_equal(ids[2], "e3");
    q.cursor = cursor;
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 1);
    assert_string_equal(ids[0], "e1");
    q = s_q("event.list");
    q.entity = "Nobody";
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 0);
    q = s_q("event.list");
    q.story = "s2";
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 1);
    assert_string_equal(ids[0], "e2");
    q.entity = "Sotk";   /* e2 (art-1) does not mention Sotk */
    assert_int_equal(s_event_page(&q, ids, cursor, sizeof cursor), 0);
}

static void test_rejects_list(void **state)
{
    (void)state;
    td_query q = s_q("rejects.list");
    q.limit = 3;
    td_reply r = s_ask(&q);
    assert_true(r.ok);
    s_obj o;
    s_parse(&r, &o);
    assert_int_equal(s_field(o.root, "rejects")->via.array.size, 3);
    msgpack_object *at = s_field(&s_field(o.root, "rejects")->via.array.ptr[0], "at");
    assert_int_equal(at->via.u64, 64);   /* newest first */
    char cursor[64];
    s_str(o.root, "next_cursor", cursor, sizeof cursor);
    msgpack_unpacked_destroy(&o.u);
    q.cursor = cursor;
    r = s_ask(&q);
    assert_true(r.ok);
    s_parse(&r, &o);
    assert_int_equal(s_field(o.root, "rejects")->via.array.size, 2);
    assert_null(s_field(o.root, "next_cursor"));
    at = s_field(&s_field(o.root, "rejects")->via.array.ptr[1], "at");
    assert_int_equal(at->via.u64, 60);
    msgpack_unpacked_destroy(&o.u);
}

static void test_errors(void **state)
{
    (void)state;
    td_query q = s_q("article.get");
    s_expect_error(&q, TD_E_BAD_REQUEST);   /* no id */
    q.id = "missing";
    s_expect_error(&q, TD_E_NOT_FOUND);
    q = s_q("event.get");
    q.id = "e999";
    s_expect_error(&q, TD_E_NOT_FOUND);
    q = s_q("story.get");
    q.id = "s999";
    s_expect_error(&q, TD_E_NOT_FOUND);
    q = s_q("entity.get");
    s_expect_error(&q, TD_E_BAD_REQUEST);
    q.name = "Nobody";
    s_expect_error(&q, TD_E_NOT_FOUND);
    q = s_q("frobnicate");
    s_expect_error(&q, TD_E_BAD_REQUEST);
    q = s_q("search");           /* search without a query */
    s_expect_error(&q, TD_E_BAD_REQUEST);
    q = s_q("event.list");
    q.cursor = "xyz";
    s_expect_error(&q, TD_E_BAD_REQUEST);
    q.cursor = "00";
    s_expect_error(&q, TD_E_BAD_REQUEST);
    q = s_q("rejects.list");
    q.cursor = "0011";
    s_expect_error(&q, TD_E_BAD_REQUEST);

    td_reply r = s_ask_raw("\xc1\x00", 2);   /* not msgpack */
    assert_false(r.ok);
    assert_string_equal(r.code, TD_E_BAD_REQUEST);
    r = s_ask_raw("", 0);
    assert_false(r.ok);
    /* {"op": 5} wrong type */
    r = s_ask_raw("\x81\xa2op\x05", 5);
    assert_false(r.ok);
    assert_string_equal(r.code, TD_E_BAD_REQUEST);
}

int main(void)
{
    td_log_init("query_ops_test", TD_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_the_store),
        cmocka_unit_test(test_gets_and_stats),
        cmocka_unit_test(test_event_list_paging),
        cmocka_unit_test(test_rejects_list),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
