/* entity_tally_test.c — the writer's entity records (store/entity_tally.c)
 * against a real LMDB store: counts held until the flush and written once,
 * a stored record keeping its first name, one fewer of an entity never
 * stored changing nothing, links made once and made again after an unlink,
 * an abandoned transaction leaving nothing, a table growing past its first
 * size; commits that only log their changes, read back by a restarted
 * tally and after an abandoned or replayed attempt, the tables written
 * every TD_ETALLY_LOG_COMMITS-th commit, malformed log records refused;
 * and through the real writer, two articles of one batch mentioning the
 * same entity count two, and a store that is behind logs until it is not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "entity_tally.h"
#include "store_fixture.h"

#define MANY 5000

typedef struct {
    char dir[64];
    td_db *db;
    td_etally *t;
    td_arena *arena;
} s_fx;

static int s_setup(void **state)
{
    s_fx *fx = calloc(1, sizeof *fx);
    td_fx_mkdir(fx->dir, "td-et");
    td_db_opts o = {.dir = fx->dir, .sync = TD_SYNC_NOSYNC, .map_size = 64 << 20};
    fx->db = td_db_open(&o, NULL);
    fx->t = td_etally_new();
    fx->arena = td_arena_new(0);
    assert_non_null(fx->db);
    assert_non_null(fx->t);
    assert_non_null(fx->arena);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx *fx = *state;
    td_etally_destroy(&fx->t);
    td_db_destroy(&fx->db);
    td_arena_destroy(&fx->arena);
    td_fx_rmdir(fx->dir);
    free(fx);
    return 0;
}

/* The committed record of `key`: its article count, -1 when absent; its
 * name into *name (fx->arena) when given. */
static long s_count(s_fx *fx, const char *key, const char **name)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_entity_rec rec;
    td_db_rc rc = td_db_entity_get(txn, key, fx->arena, &rec);
    td_txn_end(&txn);
    if (rc == TD_DB_NOTFOUND)
        return -1;
    assert_int_equal(rc, TD_DB_OK);
    if (name)
        *name = rec.name;
    return (long)rec.articles;
}

/* The committed events of `key`. */
static size_t s_events(s_fx *fx, const char *key, char ***ids)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    size_t n;
    bool more;
    assert_int_equal(td_db_entity_events(txn, key, fx->arena, 16, ids, &n, &more), TD_DB_OK);
    td_txn_end(&txn);
    return n;
}

static td_db_rc s_three_then_flush(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_etally_begin(fx->t);
    for (int i = 0; i < 3; i++)
        assert_int_equal(td_etally_add(fx->t, txn, "kyiv", "Kyiv", TD_ENT_PLACE, 1), TD_DB_OK);
    /* held: the database has nothing yet */
    td_entity_rec rec;
    assert_int_equal(td_db_entity_get(txn, "kyiv", fx->arena, &rec), TD_DB_NOTFOUND);
    assert_int_equal(td_etally_held(fx->t), 1);
    td_db_rc rc = td_etally_flush(fx->t, txn, true);
    assert_int_equal(td_db_entity_get(txn, "kyiv", fx->arena, &rec), TD_DB_OK);
    assert_int_equal(rec.articles, 3);
    return rc;
}

static void test_counts_written_at_flush(void **state)
{
    s_fx *fx = *state;
    assert_int_equal(td_db_write(fx->db, s_three_then_flush, fx), TD_DB_OK);
    td_etally_committed(fx->t);
    const char *name;
    assert_int_equal(s_count(fx, "kyiv", &name), 3);
    assert_string_equal(name, "Kyiv");
    assert_int_equal(td_etally_held(fx->t), 0);
}

static td_db_rc s_more_and_fewer(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_etally_begin(fx->t);
    /* a stored record keeps its name; counts never go below 0 */
    assert_int_equal(td_etally_add(fx->t, txn, "kyiv", "KYIV", TD_ENT_ORG, 1), TD_DB_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(td_etally_add(fx->t, txn, "kyiv", "KYIV", TD_ENT_ORG, -1), TD_DB_OK);
    /* one fewer of an entity never stored: nothing, and a later one more
     * makes it with that mention's name */
    assert_int_equal(td_etally_add(fx->t, txn, "odesa", "Odesa", TD_ENT_PLACE, -1), TD_DB_OK);
    assert_int_equal(td_etally_add(fx->t, txn, "lviv", "Lviv", TD_ENT_PLACE, -1), TD_DB_OK);
    assert_int_equal(td_etally_add(fx->t, txn, "lviv", "Lviv", TD_ENT_PLACE, 1), TD_DB_OK);
    return td_etally_flush(fx->t, txn, true);
}

static void test_stored_records_and_fewer(void **state)
{
    s_fx *fx = *state;
    assert_int_equal(td_db_write(fx->db, s_three_then_flush, fx), TD_DB_OK);
    td_etally_committed(fx->t);
    assert_int_equal(td_db_write(fx->db, s_more_and_fewer, fx), TD_DB_OK);
    td_etally_committed(fx->t);
    const char *name;
    assert_int_equal(s_count(fx, "kyiv", &name), 0);
    assert_string_equal(name, "Kyiv");
    assert_int_equal(s_count(fx, "odesa", NULL), -1);
    assert_int_equal(s_count(fx, "lviv", &name), 1);
    assert_string_equal(name, "Lviv");
}

static td_db_rc s_links(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_etally_begin(fx->t);
    assert_int_equal(td_etally_link(fx->t, txn, "kyiv", "ev-1"), TD_DB_OK);
    assert_int_equal(td_etally_link(fx->t, txn, "kyiv", "ev-1"), TD_DB_OK);
    assert_int_equal(td_etally_link(fx->t, txn, "kyiv", "ev-2"), TD_DB_OK);
    assert_int_equal(td_etally_link(fx->t, txn, "lviv", "ev-2"), TD_DB_OK);
    /* unlinked, then made again in the same transaction */
    assert_int_equal(td_etally_unlink(fx->t, txn, "lviv", "ev-2"), TD_DB_OK);
    assert_int_equal(td_etally_unlink(fx->t, txn, "kyiv", "ev-2"), TD_DB_OK);
    assert_int_equal(td_etally_link(fx->t, txn, "kyiv", "ev-2"), TD_DB_OK);
    return td_etally_flush(fx->t, txn, true);
}

static void test_links(void **state)
{
    s_fx *fx = *state;
    assert_int_equal(td_db_write(fx->db, s_links, fx), TD_DB_OK);
    td_etally_committed(fx->t);
    char **ids;
    assert_int_equal(s_events(fx, "kyiv", &ids), 2);
    assert_string_equal(ids[0], "ev-1");
    assert_string_equal(ids[1], "ev-2");
    assert_int_equal(s_events(fx, "lviv", &ids), 0);
}

static td_db_rc s_abandoned(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_etally_begin(fx->t);
    assert_int_equal(td_etally_add(fx->t, txn, "gone", "Gone", TD_ENT_PLACE, 1), TD_DB_OK);
    assert_int_equal(td_etally_flush(fx->t, txn, true), TD_DB_OK);
    return TD_DB_ERROR;   /* the body fails: nothing commits */
}

static td_db_rc s_flush_only(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_etally_begin(fx->t);
    return td_etally_flush(fx->t, txn, true);
}

static void test_abandoned_leaves_nothing(void **state)
{
    s_fx *fx = *state;
    assert_int_not_equal(td_db_write(fx->db, s_abandoned, fx), TD_DB_OK);
    td_etally_aborted(fx->t);   /* what the writer does when an attempt fails */
    assert_int_equal(td_db_write(fx->db, s_flush_only, fx), TD_DB_OK);
    td_etally_committed(fx->t);
    assert_int_equal(s_count(fx, "gone", NULL), -1);
}

static td_db_rc s_many(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_etally_begin(fx->t);
    char key[32], ev[32];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < MANY; i++) {
            snprintf(key, sizeof key, "entity %d", i);
            snprintf(ev, sizeof ev, "ev-%d", i % 7);
            assert_int_equal(td_etally_add(fx->t, txn, key, key, TD_ENT_PERSON, 1), TD_DB_OK);
            assert_int_equal(td_etally_link(fx->t, txn, key, ev), TD_DB_OK);
        }
    assert_int_equal(td_etally_held(fx->t), MANY);
    return td_etally_flush(fx->t, txn, true);
}

static void test_many(void **state)
{
    s_fx *fx = *state;
    assert_int_equal(td_db_write(fx->db, s_many, fx), TD_DB_OK);
    td_etally_committed(fx->t);
    char key[32];
    for (int i = 0; i < MANY; i += 97) {
        snprintf(key, sizeof key, "entity %d", i);
        assert_int_equal(s_count(fx, key, NULL), 2);
        char **ids;
        assert_int_equal(s_events(fx, key, &ids), 1);
    }
}

/* ---- commits that log ---------------------------------------------------- */

typedef struct {
    s_fx *fx;
    td_etally *t;
    int step;
    bool settle;
} s_step;

/* One commit's changes of entity "kyiv" by step: 1 two more and a link to
 * ev-1, 2 one fewer and a link to ev-2, 3 ev-2 unlinked, 4 one more. */
static td_db_rc s_kyiv_step(td_txn *txn, void *arg)
{
    s_step *st = arg;
    td_etally_begin(st->t);
    td_db_rc rc = TD_DB_OK;
    switch (st->step) {
    case 1:
        for (int i = 0; i < 2 && rc == TD_DB_OK; i++)
            rc = td_etally_add(st->t, txn, "kyiv", "Kyiv", TD_ENT_PLACE, 1);
        if (rc == TD_DB_OK)
            rc = td_etally_link(st->t, txn, "kyiv", "ev-1");
        break;
    case 2:
        rc = td_etally_add(st->t, txn, "kyiv", "Kyiv", TD_ENT_PLACE, -1);
        if (rc == TD_DB_OK)
            rc = td_etally_link(st->t, txn, "kyiv", "ev-2");
        break;
    case 3:
        rc = td_etally_unlink(st->t, txn, "kyiv", "ev-2");
        break;
    default:
        rc = td_etally_add(st->t, txn, "kyiv", "Kyiv", TD_ENT_PLACE, 1);
        break;
    }
    return rc != TD_DB_OK ? rc : td_etally_flush(st->t, txn, st->settle);
}

static void s_commit_step(s_fx *fx, td_etally *t, int step, bool settle)
{
    s_step st = {.fx = fx, .t = t, .step = step, .settle = settle};
    assert_int_equal(td_db_write(fx->db, s_kyiv_step, &st), TD_DB_OK);
    td_etally_committed(t);
}

static uint64_t s_logged_records(s_fx *fx)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    uint64_t n = td_txn_entries(txn, TD_DBI_ENTITY_LOG);
    td_txn_end(&txn);
    return n;
}

/* Commits without `settle` leave the tables as they were and log; a
 * restarted tally reads the log back, and its settling commit writes the
 * sum of every logged change and empties the log. */
static void test_logged_then_settled(void **state)
{
    s_fx *fx = *state;
    s_commit_step(fx, fx->t, 1, false);
    s_commit_step(fx, fx->t, 2, false);
    s_commit_step(fx, fx->t, 3, false);
    assert_int_equal(td_etally_logged(fx->t), 3);
    assert_int_equal(s_logged_records(fx), 3);
    assert_int_equal(s_count(fx, "kyiv", NULL), -1);
    char **ids;
    assert_int_equal(s_events(fx, "kyiv", &ids), 0);

    td_etally *restarted = td_etally_new();
    assert_non_null(restarted);
    s_commit_step(fx, restarted, 4, true);
    const char *name;
    assert_int_equal(s_count(fx, "kyiv", &name), 2);   /* 2 - 1 + 1 */
    assert_string_equal(name, "Kyiv");
    assert_int_equal(s_events(fx, "kyiv", &ids), 1);
    assert_string_equal(ids[0], "ev-1");
    assert_int_equal(s_logged_records(fx), 0);
    assert_int_equal(td_etally_logged(restarted), 0);
    assert_int_equal(td_etally_held(restarted), 0);
    td_etally_destroy(&restarted);
}

static td_db_rc s_fails_after_step(td_txn *txn, void *arg)
{
    td_db_rc rc = s_kyiv_step(txn, arg);
    return rc != TD_DB_OK ? rc : TD_DB_ERROR;
}

/* An attempt that fails, and one begun again without ending (what
 * td_db_write does when it replays the body), leave only what committed. */
static void test_abandoned_and_replayed_attempts(void **state)
{
    s_fx *fx = *state;
    s_commit_step(fx, fx->t, 1, false);
    s_step st = {.fx = fx, .t = fx->t, .step = 4, .settle = false};
    assert_int_not_equal(td_db_write(fx->db, s_fails_after_step, &st), TD_DB_OK);
    td_etally_aborted(fx->t);
    assert_int_not_equal(td_db_write(fx->db, s_fails_after_step, &st), TD_DB_OK);
    /* not told: the next attempt's begin drops it */
    s_commit_step(fx, fx->t, 2, true);
    assert_int_equal(s_count(fx, "kyiv", NULL), 1);   /* 2 - 1 */
    char **ids;
    assert_int_equal(s_events(fx, "kyiv", &ids), 2);
    assert_int_equal(s_logged_records(fx), 0);
}

/* Without `settle`, every TD_ETALLY_LOG_COMMITS-th commit writes the
 * tables all the same. */
static void test_log_is_bounded(void **state)
{
    s_fx *fx = *state;
    for (int i = 1; i < TD_ETALLY_LOG_COMMITS; i++) {
        s_commit_step(fx, fx->t, 4, false);
        assert_int_equal(td_etally_logged(fx->t), i);
    }
    assert_int_equal(s_count(fx, "kyiv", NULL), -1);
    s_commit_step(fx, fx->t, 4, false);
    assert_int_equal(td_etally_logged(fx->t), 0);
    assert_int_equal(s_logged_records(fx), 0);
    assert_int_equal(s_count(fx, "kyiv", NULL), TD_ETALLY_LOG_COMMITS);
}

typedef struct {
    char seen[256];
    size_t n;
} s_walk;

static int s_collect(int op, const char *key, size_t klen, const char *s, size_t slen, int kind,
                     void *arg)
{
    s_walk *w = arg;
    int k = snprintf(w->seen + w->n, sizeof w->seen - w->n, "%c%d:%.*s/%.*s;", op, kind,
                     (int)klen, key, (int)slen, s);
    w->n += (size_t)k;
    return 0;
}

/* A record's changes in order; malformed records refused without
 * reading past their end. */
static void test_log_parse(void **state)
{
    (void)state;
    static const unsigned char good[] = {1, '+', 2, 2, 'a', 'b', 1, 'A', 'L', 1, 'x', 2, 'e', '1'};
    s_walk w = {{0}, 0};
    assert_int_equal(td_etally_log_parse(good, sizeof good, s_collect, &w), 0);
    assert_string_equal(w.seen, "+2:ab/A;L0:x/e1;");
    static const unsigned char format[] = {2, 'L', 1, 'x', 1, 'e'};
    static const unsigned char op[] = {1, '?', 1, 'x', 1, 'e'};
    static const unsigned char cut[] = {1, 'L', 1, 'x', 3, 'e'};
    static const unsigned char nokey[] = {1, 'U', 0, 1, 'e'};
    static const unsigned char nul[] = {1, 'L', 2, 'x', 0, 1, 'e'};
    static const unsigned char nokind[] = {1, '-'};
    const unsigned char *bad[] = {format, op, cut, nokey, nul, nokind};
    size_t lens[] = {sizeof format, sizeof op, sizeof cut, sizeof nokey, sizeof nul,
                     sizeof nokind};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(td_etally_log_parse(bad[i], lens[i], s_collect, &w), -1);
    assert_int_equal(td_etally_log_parse(NULL, 0, s_collect, &w), -1);
}

/* Through the writer: one batch, two articles naming the same person. */
static void test_writer_batch(void **state)
{
    (void)state;
    td_fx *fx = td_fx_new();
    td_entity e1[] = {{.name = "Ada Lovelace", .kind = TD_ENT_PERSON, .count = 2}};
    td_entity e2[] = {{.name = "ADA  LOVELACE", .kind = TD_ENT_PERSON, .count = 1},
                      {.name = "London", .kind = TD_ENT_PLACE, .count = 1}};
    td_article a = {.id = "a1", .title = "Engine notes published",
                    .body = "Ada Lovelace published notes on the analytical engine.",
                    .lang = "en", .published_at = 1700000000000, .entities = e1,
                    .n_entities = 1};
    td_article b = {.id = "a2", .title = "Notes on the engine",
                    .body = "In London, Ada Lovelace wrote notes on the engine.", .lang = "en",
                    .published_at = 1700000060000, .entities = e2, .n_entities = 2};
    td_fx_put(fx, &a, 1700000000000);
    td_fx_put(fx, &b, 1700000060000);
    assert_int_equal(td_writer_commit(fx->w, NULL, false), TD_DB_OK);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_entity_rec rec;
    char key[TD_DB_ENTITY_KEY];
    assert_true(td_db_entity_norm("Ada Lovelace", key, sizeof key) > 0);
    assert_int_equal(td_db_entity_get(txn, key, fx->arena, &rec), TD_DB_OK);
    assert_int_equal(rec.articles, 2);
    assert_string_equal(rec.name, "Ada Lovelace");
    assert_true(td_db_entity_norm("London", key, sizeof key) > 0);
    assert_int_equal(td_db_entity_get(txn, key, fx->arena, &rec), TD_DB_OK);
    assert_int_equal(rec.articles, 1);
    td_txn_end(&txn);
    td_fx_destroy(&fx);
}

/* The committed article count of `name` in the writer's store; -1 when
 * the entity has no record. */
static long s_fx_count(td_fx *fx, const char *name)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_entity_rec rec;
    char key[TD_DB_ENTITY_KEY];
    assert_true(td_db_entity_norm(name, key, sizeof key) > 0);
    td_db_rc rc = td_db_entity_get(txn, key, fx->arena, &rec);
    td_txn_end(&txn);
    if (rc == TD_DB_NOTFOUND)
        return -1;
    assert_int_equal(rc, TD_DB_OK);
    return (long)rec.articles;
}

/* Through the writer: a commit made while more input waits logs the
 * entity changes; td_writer_settle, or the next commit of an idle store,
 * writes them. */
static void test_writer_behind(void **state)
{
    (void)state;
    td_fx *fx = td_fx_new();
    td_entity e[] = {{.name = "Grace Hopper", .kind = TD_ENT_PERSON, .count = 1}};
    td_article a = {.id = "h1", .title = "Compiler notes", .lang = "en",
                    .body = "Grace Hopper wrote the first compiler notes.",
                    .published_at = 1700000000000, .entities = e, .n_entities = 1};
    td_article b = {.id = "h2", .title = "More compiler notes", .lang = "en",
                    .body = "Notes on the compiler by Grace Hopper, again.",
                    .published_at = 1700000060000, .entities = e, .n_entities = 1};
    td_fx_put(fx, &a, 1700000000000);
    assert_int_equal(td_writer_commit(fx->w, NULL, true), TD_DB_OK);
    assert_int_equal(s_fx_count(fx, "Grace Hopper"), -1);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_entries(txn, TD_DBI_ENTITY_LOG), 1);
    td_txn_end(&txn);
    /* what an idle store does next: the log into the tables */
    assert_true(td_writer_entities_waiting(fx->w));
    assert_int_equal(td_writer_settle(fx->w), TD_DB_OK);
    assert_false(td_writer_entities_waiting(fx->w));
    assert_int_equal(s_fx_count(fx, "Grace Hopper"), 1);
    td_fx_put(fx, &b, 1700000060000);
    assert_int_equal(td_writer_commit(fx->w, NULL, true), TD_DB_OK);
    assert_int_equal(s_fx_count(fx, "Grace Hopper"), 1);
    assert_int_equal(td_writer_commit(fx->w, NULL, false), TD_DB_OK);   /* empty batch */
    td_fx_put(fx, &a, 1700000000000);   /* unchanged: counts nothing */
    assert_int_equal(td_writer_commit(fx->w, NULL, false), TD_DB_OK);
    assert_int_equal(s_fx_count(fx, "Grace Hopper"), 2);
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_entries(txn, TD_DBI_ENTITY_LOG), 0);
    td_txn_end(&txn);
    td_fx_destroy(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_written_at_flush, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stored_records_and_fewer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_links, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_leaves_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_many, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_logged_then_settled, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_and_replayed_attempts, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_log_is_bounded, s_setup, s_teardown),
        cmocka_unit_test(test_log_parse),
        cmocka_unit_test(test_writer_batch),
        cmocka_unit_test(test_writer_behind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
