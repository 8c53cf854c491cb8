/* store_verify_test.c — tidings' own consistency check (store/verify.c):
 * a database written by the writer is consistent, and each kind of damage
 * (a dropped article, a dangling key, a counter off by one, a dropped
 * event, a stray index doc, a merged-away id leading nowhere, a link the
 * entity log makes to no event, a malformed entity log record) is found,
 * and a table link the entity log removes is not taken for damage. Damage is done through the generic
 * td_txn_* calls, as a bug in a writer module would do it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "db.h"
#include "index_block.h"
#include "log.h"
#include "store_fixture.h"
#include "verify.h"

static const char *const s_bodies[] = {
    "Armenian and Azerbaijani forces exchanged fire near Sotk. One soldier was killed.",
    "The harbour authority of Port Alvar reopened the northern quay after repairs on Monday.",
    "Farmers near Tarn Vale reported the driest spring in forty years, the ministry said.",
};

/* Six articles in one batch: what the damage below has to be found in. */
static int s_setup(void **state)
{
    td_fx *fx = td_fx_new();
    for (int i = 0; i < 6; i++) {
        char id[16], title[32];
        snprintf(id, sizeof id, "v-%d", i);
        snprintf(title, sizeof title, "Report %d", i);
        td_article a = {.id = id, .title = title, .source = i % 2 ? "Wire A" : "Wire B",
                        .body = (char *)s_bodies[i % 3],
                        .published_at = 1767225600000 + i * 3600000};
        td_fx_put(fx, &a, 1000);
    }
    assert_int_equal(td_writer_commit(fx->w, NULL, false), TD_DB_OK);
    *state = fx;
    return 0;
}

/* ---- damage, each in its own write transaction ---------------------------- */

static td_db_rc s_del_article(td_txn *txn, void *arg)
{
    (void)arg;
    return td_txn_del(txn, TD_DBI_ARTICLES, "v-3", 3);
}

static td_db_rc s_dangling_key(td_txn *txn, void *arg)
{
    (void)arg;
    return td_db_key_put(txn, "i:ghost", 42, "ghost-article");
}

static td_db_rc s_bump_counter(td_txn *txn, void *arg)
{
    (void)arg;
    td_txn_counter_add(txn, TD_CTR_ARTICLES, 1);
    return TD_DB_OK;
}

static td_db_rc s_stray_doc(td_txn *txn, void *arg)
{
    (void)arg;
    unsigned char k[4], rec[64];
    td_ix_put_u32(k, 4000);
    td_ix_doc d = {.published_at = 0, .dl = 3, .id = "v-1", .idlen = 3};
    size_t n = td_ix_doc_encode(&d, rec, sizeof rec);
    return td_txn_put(txn, TD_DBI_DOCS, k, 4, rec, n);
}

static td_db_rc s_del_first_event(td_txn *txn, void *arg)
{
    (void)arg;
    td_cur *c;
    td_val k;
    char id[64];
    td_db_rc rc = td_cur_open(txn, TD_DBI_EVENTS, &c);
    if (rc)
        return rc;
    rc = td_cur_first(c, &k, NULL);
    if (rc == TD_DB_OK)
        snprintf(id, sizeof id, "%.*s", (int)k.len, (const char *)k.data);
    td_cur_close(&c);
    return rc ? rc : td_txn_del(txn, TD_DBI_EVENTS, id, strlen(id));
}

/* a merged-away id that leads nowhere */
static td_db_rc s_dangling_move(td_txn *txn, void *arg)
{
    (void)arg;
    return td_db_event_moved_put(txn, "e-gone", "e-nowhere");
}

/* the positions of the first posting block (format 3 keeps them apart) */
static td_db_rc s_del_positions(td_txn *txn, void *arg)
{
    (void)arg;
    td_cur *c;
    td_val k;
    unsigned char key[TD_DB_MAX_KEY];
    size_t kl = 0;
    td_db_rc rc = td_cur_open(txn, TD_DBI_POSITIONS, &c);
    if (rc)
        return rc;
    rc = td_cur_first(c, &k, NULL);
    if (rc == TD_DB_OK && k.len <= sizeof key) {
        memcpy(key, k.data, k.len);
        kl = k.len;
    }
    td_cur_close(&c);
    if (rc == TD_DB_NOTFOUND) {
        /* small lists are format 4 (positions inline): cut them off */
        td_val v;
        td_ix_header h;
        static unsigned char blk[4096];
        if ((rc = td_cur_open(txn, TD_DBI_POSTINGS, &c)) != TD_DB_OK)
            return rc;
        rc = td_cur_first(c, &k, &v);
        if (rc == TD_DB_OK && (k.len > sizeof key || v.len > sizeof blk ||
                               td_ix_header_read(v.data, v.len, &h) != 0))
            rc = TD_DB_ERROR;
        if (rc == TD_DB_OK) {
            memcpy(key, k.data, k.len);
            kl = k.len;
            memcpy(blk, v.data, v.len);
        }
        td_cur_close(&c);
        return rc ? rc : td_txn_put(txn, TD_DBI_POSTINGS, key, kl, blk, h.hdr_len + h.docs_len);
    }
    return rc ? rc : td_txn_del(txn, TD_DBI_POSITIONS, key, kl);
}

/* entity_log records (entity_tally.h), keyed 0, 1, ... */
static td_db_rc s_log_put(td_txn *txn, uint64_t n, const void *rec, size_t len)
{
    unsigned char k[8];
    td_db_u64_put(k, n);
    return td_txn_put(txn, TD_DBI_ENTITY_LOG, k, 8, rec, len);
}

/* a link to a merged-away event in the table, removed by the log (a store
 * stopped before it wrote the entity tables): consistent */
static td_db_rc s_link_logged_away(td_txn *txn, void *arg)
{
    (void)arg;
    /* linked, then removed: the last change counts */
    static const unsigned char rec[] = {1,   'L', 1,   'x', 6,   'e', '-', 'g', 'o', 'n',
                                        'e', 'U', 1,   'x', 6,   'e', '-', 'g', 'o', 'n', 'e'};
    td_db_rc rc = td_db_entity_link(txn, "x", "e-gone");
    return rc ? rc : s_log_put(txn, 0, rec, sizeof rec);
}

/* the log links an event that does not exist */
static td_db_rc s_logged_link_dangling(td_txn *txn, void *arg)
{
    (void)arg;
    static const unsigned char rec[] = {1, 'L', 1, 'x', 9, 'e', '-', 'n', 'o', 'w', 'h', 'e', 'r', 'e'};
    return s_log_put(txn, 0, rec, sizeof rec);
}

static td_db_rc s_log_malformed(td_txn *txn, void *arg)
{
    (void)arg;
    static const unsigned char rec[] = {1, 'L', 200, 'x'};
    return s_log_put(txn, 3, rec, sizeof rec);
}

static void s_expect(td_fx *fx, int want, uint64_t min_problems)
{
    td_verify_report r;
    assert_int_equal(td_verify(fx->db, want ? stdout : NULL, &r), want);
    assert_int_equal(r.articles >= 5, 1);
    if (want)
        assert_true(r.problems >= min_problems);
    else
        assert_int_equal(r.problems, 0);
}

static void test_consistent(void **state)
{
    td_fx *fx = *state;
    td_verify_report r;
    assert_int_equal(td_verify(fx->db, stdout, &r), 0);
    assert_int_equal(r.articles, 6);
    assert_int_equal(r.keys, 6);
    assert_int_equal(r.docs, 6);
    assert_true(r.events >= 1 && r.stories >= 1 && r.postings >= 1);
}

static void test_damage(void **state, td_db_write_fn damage)
{
    td_fx *fx = *state;
    s_expect(fx, 0, 0);
    assert_int_equal(td_db_write(fx->db, damage, NULL), TD_DB_OK);
    s_expect(fx, 1, 1);
}

static void test_missing_article(void **state)
{
    test_damage(state, s_del_article);
}

static void test_dangling_key(void **state)
{
    test_damage(state, s_dangling_key);
}

static void test_counter_off(void **state)
{
    test_damage(state, s_bump_counter);
}

static void test_stray_index_doc(void **state)
{
    test_damage(state, s_stray_doc);
}

static void test_missing_event(void **state)
{
    test_damage(state, s_del_first_event);
}

static void test_dangling_move(void **state)
{
    test_damage(state, s_dangling_move);
}

static void test_logged_link_dangling(void **state)
{
    test_damage(state, s_logged_link_dangling);
}

static void test_log_malformed(void **state)
{
    test_damage(state, s_log_malformed);
}

/* A table link the log removes is not a problem. */
static void test_link_logged_away(void **state)
{
    td_fx *fx = *state;
    assert_int_equal(td_db_write(fx->db, s_link_logged_away, NULL), TD_DB_OK);
    s_expect(fx, 0, 0);
}

static void test_missing_positions(void **state)
{
    test_damage(state, s_del_positions);
}

int main(void)
{
    td_log_init("verify-test", TD_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_consistent, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_article, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_dangling_key, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_counter_off, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_stray_index_doc, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_event, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_positions, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_dangling_move, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_logged_link_dangling, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_log_malformed, s_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_link_logged_away, s_setup, td_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
