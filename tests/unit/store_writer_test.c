/* store_writer_test.c — the store's group commit (store/writer.c) driven
 * without sockets: idempotent keys (stored / unchanged / updated), canonical
 * URLs, acknowledgements only after commit, notifications with a gapless
 * persistent seq, undecodable frames kept as rejects, the event/story/entity
 * records each new article gets, and a batch redone after map growth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assign.h"
#include "codec.h"
#include "db.h"
#include "index_read.h"
#include "keys.h"
#include "log.h"
#include "verify.h"
#include "writer.h"

/* ---- fixtures ------------------------------------------------------------------ */

typedef struct {
    td_arena *arena;
    td_ack acks[512];
    char env[512][8];
    size_t n_acks;
    td_notice notices[2048];
    size_t n_notices;
} s_sink_state;

static void s_on_ack(void *ctx, const void *env, size_t env_len, const td_ack *ack)
{
    s_sink_state *s = ctx;
    assert_true(s->n_acks < 512);
    td_ack *a = &s->acks[s->n_acks];
    *a = *ack;
    a->id = td_arena_strdup(s->arena, ack->id);
    a->status = td_arena_strdup(s->arena, ack->status);
    a->event = td_arena_strdup(s->arena, ack->event);
    a->message = td_arena_strdup(s->arena, ack->message);
    snprintf(s->env[s->n_acks], 8, "%.*s", (int)env_len, (const char *)env);
    s->n_acks++;
}

static void s_on_notice(void *ctx, const td_notice *n)
{
    s_sink_state *s = ctx;
    assert_true(s->n_notices < 2048);
    td_notice *c = &s->notices[s->n_notices++];
    *c = *n;
    c->type = td_arena_strdup(s->arena, n->type);
    c->id = td_arena_strdup(s->arena, n->id);
    c->event = td_arena_strdup(s->arena, n->event);
}

typedef struct {
    char *dir;
    td_db *db;
    td_writer *w;
    s_sink_state sink;
    td_writer_sink ws;
    msgpack_sbuffer sb;
} s_fx;

static void s_fx_open(s_fx *fx, uint64_t map)
{
    td_db_opts o = {.dir = fx->dir, .sync = TD_SYNC_NOSYNC, .map_size = map};
    fx->db = td_db_open(&o, NULL);
    assert_non_null(fx->db);
    fx->w = td_writer_new(fx->db);
    assert_non_null(fx->w);
}

static void s_fx_close(s_fx *fx)
{
    td_writer_destroy(&fx->w);
    td_db_destroy(&fx->db);
}

static s_fx *s_fx_new(uint64_t map)
{
    s_fx *fx = calloc(1, sizeof *fx);
    char tmpl[] = "/tmp/td-writer-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    fx->dir = strdup(tmpl);
    fx->sink.arena = td_arena_new(0);
    fx->ws = (td_writer_sink){.ack = s_on_ack, .notice = s_on_notice, .ctx = &fx->sink};
    msgpack_sbuffer_init(&fx->sb);
    s_fx_open(fx, map);
    return fx;
}

static void s_fx_free(s_fx *fx)
{
    s_fx_close(fx);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    td_arena_destroy(&fx->sink.arena);
    msgpack_sbuffer_destroy(&fx->sb);
    free(fx->dir);
    free(fx);
}

static void s_add(s_fx *fx, uint64_t token, const td_article *a)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(&fx->sb);
    msgpack_packer_init(&pk, &fx->sb, msgpack_sbuffer_write);
    td_store_msg m = {.token = token, .article = (td_article *)a};
    assert_int_equal(td_store_msg_pack(&pk, &m), 0);
    char env[8];
    snprintf(env, sizeof env, "w%llu", (unsigned long long)token);
    assert_int_equal(td_writer_add(fx->w, env, strlen(env), fx->sb.data, fx->sb.size, 1000), 0);
}

static td_article s_art(const char *id, const char *url, const char *title, int64_t published)
{
    return (td_article){.id = (char *)id, .url = (char *)url, .title = (char *)title,
                        .source = "Reuters",
                        .body = "Armenian and Azerbaijani forces exchanged fire near Sotk. "
                                "One soldier was killed, the ministry said. More follows.",
                        .published_at = published};
}

static const td_ack *s_ack(s_fx *fx, uint64_t token)
{
    for (size_t i = 0; i < fx->sink.n_acks; i++)
        if (fx->sink.acks[i].token == token)
            return &fx->sink.acks[i];
    fail_msg("no ack for token %llu", (unsigned long long)token);
    return NULL;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_idempotent_keys(void **state)
{
    (void)state;
    s_fx *fx = s_fx_new(0);
    td_article a = s_art("seed-1", NULL, "Clash near Sotk", 1683800000000);
    s_add(fx, 1, &a);
    assert_int_equal(fx->sink.n_acks, 0);   /* nothing before the commit */
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    assert_int_equal(fx->sink.n_acks, 1);
    const td_ack *k = s_ack(fx, 1);
    assert_true(k->ok);
    assert_string_equal(k->status, "stored");
    assert_string_equal(k->id, "seed-1");
    assert_string_equal(k->event, "e1");
    assert_string_equal(fx->sink.env[0], "w1");   /* the envelope comes back */

    /* same key, same content: unchanged; different content: updated with
     * the same id and event; both in one batch, in order */
    s_add(fx, 2, &a);
    td_article b = a;
    b.title = "Clash near Sotk, two dead";
    s_add(fx, 3, &b);
    s_add(fx, 4, &b);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    assert_string_equal(s_ack(fx, 2)->status, "unchanged");
    assert_string_equal(s_ack(fx, 3)->status, "updated");
    assert_string_equal(s_ack(fx, 3)->id, "seed-1");
    assert_string_equal(s_ack(fx, 3)->event, "e1");
    assert_string_equal(s_ack(fx, 4)->status, "unchanged");

    /* url keys are canonical */
    td_article u1 = s_art(NULL, "HTTPS://News.Example.COM/a/b/?utm_source=x&k=1#top", "U", 5);
    td_article u2 = s_art(NULL, " https://news.example.com/a/b?k=1&utm_medium=y ", "U", 5);
    s_add(fx, 5, &u1);
    s_add(fx, 6, &u2);
    /* no id, no url: source+title+body; published_at is content */
    td_article h1 = s_art(NULL, NULL, "H", 7);
    td_article h2 = s_art(NULL, NULL, "H", 8);
    s_add(fx, 7, &h1);
    s_add(fx, 8, &h1);
    s_add(fx, 9, &h2);
    /* absent published_at: filled with the arrival time, and a resubmission
     * without it is still unchanged */
    td_article t1 = s_art("no-time", NULL, "T", TD_TIME_NONE);
    s_add(fx, 10, &t1);
    s_add(fx, 11, &t1);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    assert_string_equal(s_ack(fx, 5)->status, "stored");
    assert_string_equal(s_ack(fx, 6)->status, "unchanged");
    assert_string_equal(s_ack(fx, 6)->id, s_ack(fx, 5)->id);
    assert_int_equal(s_ack(fx, 5)->id[0], 'a');
    assert_int_equal(strlen(s_ack(fx, 5)->id), 17);
    assert_string_equal(s_ack(fx, 7)->status, "stored");
    assert_string_equal(s_ack(fx, 8)->status, "unchanged");
    assert_string_equal(s_ack(fx, 9)->status, "updated");
    assert_string_equal(s_ack(fx, 9)->id, s_ack(fx, 7)->id);
    assert_string_equal(s_ack(fx, 10)->status, "stored");
    assert_string_equal(s_ack(fx, 11)->status, "unchanged");

    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_counter(txn, TD_CTR_ARTICLES), 4);
    assert_int_equal(td_txn_entries(txn, TD_DBI_ARTICLES), 4);
    /* four articles with the same body within a day report one happening */
    assert_int_equal(td_txn_counter(txn, TD_CTR_EVENTS), 1);
    td_val raw;
    td_article got;
    td_error err;
    td_arena *arena = td_arena_new(0);
    assert_int_equal(td_db_article_get(txn, "seed-1", &raw), TD_DB_OK);
    assert_int_equal(td_article_decode(raw.data, raw.len, arena, &got, &err), 0);
    assert_string_equal(got.title, "Clash near Sotk, two dead");
    assert_string_equal(got.event, "e1");
    assert_string_equal(got.story, "s1");
    assert_true(got.ingested_at == 1000);
    assert_int_equal(td_db_article_get(txn, "no-time", &raw), TD_DB_OK);
    assert_int_equal(td_article_decode(raw.data, raw.len, arena, &got, &err), 0);
    assert_true(got.published_at == 1000);
    td_arena_destroy(&arena);
    td_txn_end(&txn);
    s_fx_free(fx);
}

static void test_events_entities_claims(void **state)
{
    (void)state;
    s_fx *fx = s_fx_new(0);
    td_entity ents[] = {{"Sotk", TD_ENT_PLACE, 2}, {"Armenia", TD_ENT_COUNTRY, 1},
                        {"SOTK", TD_ENT_PLACE, 1}, {"Nikol Pashinyan", TD_ENT_PERSON, 1}};
    td_claim claims[] = {
        {"killed", 1, "Azerbaijani soldier", "Azerbaijan", "x", false, NULL},
        {"killed", 2, "Azerbaijani soldier", "Armenia", "y", false, NULL},
        {"wounded", 4, "Armenian soldiers", "Armenia", "z", false, NULL},
        {"killed", 9, "civilians", NULL, "old", true, "2021-11-16"},
    };
    td_article a = s_art("a1", NULL, "Clash near Sotk", 1683800000000);
    a.entities = ents;
    a.n_entities = 4;
    a.claims = claims;
    a.n_claims = 4;
    a.event_date = "2023-05-11";
    td_article b = s_art("a2", NULL, "Pashinyan speaks", 1683900000000);
    b.body = "The prime minister presented the budget to parliament and promised lower "
             "taxes for farmers. Deputies will vote next month.";
    b.entities = ents + 3;
    b.n_entities = 1;
    s_add(fx, 1, &a);
    s_add(fx, 2, &b);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);

    td_txn *txn;
    td_arena *arena = td_arena_new(0);
    td_error err;
    td_val raw;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_db_event_get(txn, "e1", &raw), TD_DB_OK);
    td_event e;
    assert_int_equal(td_event_decode(raw.data, raw.len, arena, &e, &err), 0);
    assert_string_equal(e.title, "Clash near Sotk");
    assert_string_equal(e.summary, "Armenian and Azerbaijani forces exchanged fire near Sotk. "
                                   "One soldier was killed, the ministry said.");
    assert_string_equal(e.story, "s1");
    assert_string_equal(e.event_date, "2023-05-11");
    assert_true(e.first_seen == 1683800000000 && e.last_seen == 1683800000000);
    assert_int_equal(e.articles, 1);
    assert_int_equal(e.independent_sources, 1);
    assert_int_equal(e.n_article_ids, 1);
    assert_string_equal(e.article_ids[0], "a1");
    assert_int_equal(e.n_places, 2);   /* Sotk and Armenia: SOTK is the same place */
    /* ledger: foreground figures only, each count kept apart; differing
     * counts for the same kind and subject are disputed, and so is the
     * Armenian figure, since each side blames the other in this event */
    assert_int_equal(e.n_claims, 3);
    assert_true(e.claims[0].disputed && e.claims[1].disputed);
    assert_true(e.claims[0].count != e.claims[1].count);
    assert_string_equal(e.claims[0].claimants[0], "Azerbaijan");
    assert_string_equal(e.claims[0].article_ids[0], "a1");

    assert_int_equal(td_db_story_get(txn, "s2", &raw), TD_DB_OK);
    td_story s;
    assert_int_equal(td_story_decode(raw.data, raw.len, arena, &s, &err), 0);
    assert_int_equal(s.n_event_ids, 1);
    assert_string_equal(s.event_ids[0], "e2");

    /* "Sotk" twice in one article counts once */
    td_entity_rec r;
    assert_int_equal(td_db_entity_get(txn, "sotk", arena, &r), TD_DB_OK);
    assert_int_equal(r.articles, 1);
    assert_string_equal(r.name, "Sotk");
    assert_int_equal(td_db_entity_get(txn, "nikol pashinyan", arena, &r), TD_DB_OK);
    assert_int_equal(r.articles, 2);
    char **ids;
    size_t n;
    bool more;
    assert_int_equal(td_db_entity_events(txn, "nikol pashinyan", arena, 10, &ids, &n, &more),
                     TD_DB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ids[1], "e2");
    td_txn_end(&txn);
    td_arena_destroy(&arena);

    /* an update that drops an entity lowers its count */
    td_article a2 = a;
    a2.title = "Clash near Sotk (updated)";
    a2.n_entities = 1;
    s_add(fx, 3, &a2);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    arena = td_arena_new(0);
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_db_entity_get(txn, "armenia", arena, &r), TD_DB_OK);
    assert_int_equal(r.articles, 0);
    assert_int_equal(td_db_entity_get(txn, "sotk", arena, &r), TD_DB_OK);
    assert_int_equal(r.articles, 1);
    assert_int_equal(td_db_event_get(txn, "e1", &raw), TD_DB_OK);
    assert_int_equal(td_event_decode(raw.data, raw.len, arena, &e, &err), 0);
    assert_string_equal(e.title, "Clash near Sotk (updated)");
    td_txn_end(&txn);
    td_arena_destroy(&arena);
    s_fx_free(fx);
}

static void test_notices_and_rejects(void **state)
{
    (void)state;
    s_fx *fx = s_fx_new(0);
    td_article a = s_art("n1", NULL, "One", 1);
    s_add(fx, 1, &a);
    const char junk[] = "\xc1 not msgpack";
    assert_int_equal(td_writer_add(fx->w, "wx", 2, junk, sizeof junk - 1, 2000), 0);
    assert_int_equal(td_writer_add(fx->w, "wy", 2, "", 0, 2000), 0);
    td_article empty = s_art("e", NULL, "Empty", 3);
    empty.body = "";
    s_add(fx, 8, &empty);   /* a worker bug: kept as a reject, answered */
    td_reject rj = {.at = 5, .code = TD_E_TOO_LARGE, .message = "frame of 9 MiB"};
    msgpack_packer pk;
    msgpack_sbuffer_clear(&fx->sb);
    msgpack_packer_init(&pk, &fx->sb, msgpack_sbuffer_write);
    td_store_msg m = {.token = 9, .reject = &rj};
    assert_int_equal(td_store_msg_pack(&pk, &m), 0);
    assert_int_equal(td_writer_add(fx->w, "w9", 2, fx->sb.data, fx->sb.size, 2000), 0);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);

    /* undecodable frames have no token: only messages with a token answer */
    assert_int_equal(fx->sink.n_acks, 3);
    assert_false(s_ack(fx, 9)->ok);
    assert_string_equal(s_ack(fx, 9)->code, TD_E_TOO_LARGE);
    assert_false(s_ack(fx, 8)->ok);
    assert_string_equal(s_ack(fx, 8)->code, TD_E_BAD_REQUEST);
    /* event.created, article.stored, 4 x article.rejected; seq 1..6 */
    assert_int_equal(fx->sink.n_notices, 6);
    for (size_t i = 0; i < fx->sink.n_notices; i++)
        assert_int_equal(fx->sink.notices[i].seq, i + 1);
    assert_string_equal(fx->sink.notices[5].type, "article.rejected");

    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_counter(txn, TD_CTR_REJECTS), 4);
    td_cur *c;
    td_val k, v;
    assert_int_equal(td_cur_open(txn, TD_DBI_REJECTS, &c), TD_DB_OK);
    assert_int_equal(td_cur_first(c, &k, &v), TD_DB_OK);
    td_arena *arena = td_arena_new(0);
    td_reject r;
    td_error err;
    assert_int_equal(td_reject_decode(v.data, v.len, arena, &r, &err), 0);
    assert_string_equal(r.code, TD_E_BAD_REQUEST);
    assert_true(r.at == 2000);
    assert_int_equal(r.n_bytes, sizeof junk - 1);
    assert_memory_equal(r.bytes, junk, r.n_bytes);
    td_arena_destroy(&arena);
    td_cur_close(&c);
    td_txn_end(&txn);

    /* seq continues across a restart */
    s_fx_close(fx);
    s_fx_open(fx, 0);
    fx->sink.n_notices = 0;
    td_article b = s_art("n2", NULL, "Two", 2);
    s_add(fx, 2, &b);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    /* article.stored plus the event's notifications, numbered on from 7 */
    assert_true(fx->sink.n_notices >= 2);
    for (size_t i = 0; i < fx->sink.n_notices; i++)
        assert_int_equal(fx->sink.notices[i].seq, 7 + i);
    s_fx_free(fx);
}

static void test_batch_redone_after_growth(void **state)
{
    (void)state;
    s_fx *fx = s_fx_new(256 << 10);
    static char body[8000];
    memset(body, 'w', sizeof body - 1);
    char ids[300][16];
    for (int i = 0; i < 300; i++) {
        snprintf(ids[i], sizeof ids[i], "g%d", i);
        td_article a = s_art(ids[i], NULL, "Growth", i);
        a.body = body;
        s_add(fx, (uint64_t)i + 1, &a);
    }
    uint64_t before = td_db_map_size(fx->db);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    assert_true(td_db_map_size(fx->db) > before);
    /* every message acknowledged once, notices gapless, nothing doubled */
    assert_int_equal(fx->sink.n_acks, 300);
    for (int i = 0; i < 300; i++)
        assert_string_equal(s_ack(fx, (uint64_t)i + 1)->status, "stored");
    size_t stored = 0;
    for (size_t i = 0; i < fx->sink.n_notices; i++) {
        assert_int_equal(fx->sink.notices[i].seq, i + 1);
        stored += strcmp(fx->sink.notices[i].type, "article.stored") == 0;
    }
    assert_int_equal(stored, 300);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_counter(txn, TD_CTR_ARTICLES), 300);
    assert_true(td_txn_counter(txn, TD_CTR_EVENTS) >= 1);
    assert_int_equal(td_txn_entries(txn, TD_DBI_EVENTS), td_txn_counter(txn, TD_CTR_EVENTS));
    assert_int_equal(td_txn_counter(txn, TD_CTR_SEQ), fx->sink.n_notices);
    td_txn_end(&txn);
    s_fx_free(fx);
}

static void test_canonical_url_and_summary(void **state)
{
    (void)state;
    td_arena *a = td_arena_new(0);
    static const char *cases[][2] = {
        {"HTTPS://Example.COM/Path/", "https://example.com/Path"},
        {"https://example.com/", "https://example.com"},
        {"https://example.com", "https://example.com"},
        {"http://x.org/a?utm_source=rss&id=7&UTM_campaign=z#c", "http://x.org/a?id=7"},
        {"http://x.org/a/?utm_source=rss", "http://x.org/a"},
        {"  http://x.org/a  ", "http://x.org/a"},
        {"not a url/", "not a url"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(td_key_canonical_url(cases[i][0], a), cases[i][1]);
    assert_null(td_key_canonical_url("#only", a));
    assert_null(td_key_canonical_url("", a));

    /* keys: id first, then url, then content */
    td_article x = {.id = "p1", .url = "http://x.org/a", .body = "b"};
    assert_string_equal(td_key_of(&x, a), "i:p1");
    x.id = NULL;
    assert_string_equal(td_key_of(&x, a), "u:http://x.org/a");
    x.url = NULL;
    assert_int_equal(strncmp(td_key_of(&x, a), "h:", 2), 0);
    char longid[600];
    memset(longid, 'z', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    x.id = longid;
    char *key = td_key_of(&x, a);
    assert_true(strlen(key) <= TD_DB_MAX_KEY);
    assert_int_equal(key[0], 'H');
    assert_int_equal(td_key_article_id(&x, key, 0, a)[0], 'a');   /* too long to be an id */

    assert_string_equal(td_assign_summary("  First one.\n\nSecond J. Smith said! Third.", 400, a),
                        "First one. Second J. Smith said!");
    assert_string_equal(td_assign_summary("word word word word", 9, a), "word word");
    assert_string_equal(td_assign_summary("", 10, a), "");
    /* a cut never splits a UTF-8 character (é is 2 bytes) */
    assert_string_equal(td_assign_summary("ééééé", 5, a), "éé");
    assert_string_equal(td_assign_summary("ééééé", 4, a), "éé");
    td_arena_destroy(&a);
}

/* The documents with postings for "soldier" (every test article has it)
 * and the articles without postings on disk, as a query process sees them. */
static void s_expect_index(s_fx *fx, uint64_t df, uint64_t unindexed)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_ix_df(txn, "soldier", 7), df);
    assert_int_equal(td_txn_counter(txn, TD_CTR_DOC_UNINDEXED), unindexed);
    td_txn_end(&txn);
}

static void s_add_n(s_fx *fx, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char id[32], url[64];
        snprintf(id, sizeof id, "hold-%d", i);
        snprintf(url, sizeof url, "https://example.test/hold/%d", i);
        td_article a = s_art(id, url, "Exchange of fire near Sotk", 1700000000000 + i * 60000);
        s_add(fx, (uint64_t)i + 1, &a);
    }
}

/* Postings held while the store is behind: committed articles are not in
 * the index until a flush, the counter says how many; a writer that goes
 * away without flushing (a killed store) leaves them to td_writer_recover
 * at the next start; a commit without `more` flushes at once. */
static void test_index_hold_and_recover(void **state)
{
    (void)state;
    s_fx *fx = s_fx_new(0);
    td_writer_hold_index(fx->w, 1000, 3600000, 0);
    s_add_n(fx, 0, 3);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, true), TD_DB_OK);
    assert_int_equal(td_writer_index_held(fx->w), 3);
    s_expect_index(fx, 0, 3);

    s_add_n(fx, 3, 2);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, true), TD_DB_OK);
    assert_int_equal(td_writer_flush_index(fx->w), TD_DB_OK);
    assert_int_equal(td_writer_index_held(fx->w), 0);
    s_expect_index(fx, 5, 0);

    /* held, then the process is gone */
    s_add_n(fx, 5, 4);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, true), TD_DB_OK);
    s_fx_close(fx);
    s_fx_open(fx, 0);
    s_expect_index(fx, 5, 4);
    assert_int_equal(td_writer_recover(fx->w), TD_DB_OK);
    s_expect_index(fx, 9, 0);

    /* not behind: written with the batch */
    td_writer_hold_index(fx->w, 1000, 3600000, 0);
    s_add_n(fx, 9, 1);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    s_expect_index(fx, 10, 0);
    s_fx_free(fx);
}

/* What an index of the layout before term numbers looks like to the
 * upgrade check: `terms` values are document frequencies. */
static td_db_rc s_fake_old_index(td_txn *txn, void *arg)
{
    (void)arg;
    unsigned char df[8] = {0, 0, 0, 0, 0, 0, 0, 10};
    td_db_rc rc = td_txn_drop(txn, TD_DBI_TERMS);
    if (rc == TD_DB_OK)
        rc = td_txn_drop(txn, TD_DBI_TERMDF);
    return rc ? rc : td_txn_put(txn, TD_DBI_TERMS, "soldier", 7, df, 8);
}

/* A store whose index has the older layout rebuilds it at the next start,
 * in slices (here one article each: a hold of 1 byte), and is consistent
 * afterwards. */
static void test_old_index_rebuilt(void **state)
{
    (void)state;
    s_fx *fx = s_fx_new(0);
    s_add_n(fx, 0, 10);
    assert_int_equal(td_writer_commit(fx->w, &fx->ws, false), TD_DB_OK);
    s_expect_index(fx, 10, 0);
    assert_int_equal(td_db_write(fx->db, s_fake_old_index, NULL), TD_DB_OK);
    s_fx_close(fx);
    s_fx_open(fx, 0);
    s_expect_index(fx, 0, 0);
    td_writer_hold_index(fx->w, 1000, 3600000, 1);
    assert_int_equal(td_writer_recover(fx->w), TD_DB_OK);
    s_expect_index(fx, 10, 0);
    td_verify_report r;
    assert_int_equal(td_verify(fx->db, NULL, &r), 0);
    assert_int_equal(r.problems, 0);
    assert_true(r.postings > 0);
    s_fx_free(fx);
}

int main(void)
{
    td_log_init("store_writer_test", TD_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent_keys),
        cmocka_unit_test(test_events_entities_claims),
        cmocka_unit_test(test_notices_and_rejects),
        cmocka_unit_test(test_batch_redone_after_growth),
        cmocka_unit_test(test_canonical_url_and_summary),
        cmocka_unit_test(test_index_hold_and_recover),
        cmocka_unit_test(test_old_index_rebuilt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
