/* dfstats_test.c — the in-memory document frequencies (store/dfstats.c)
 * against a real LMDB store: counts visible inside the transaction, written
 * at flush, kept after commit, dropped when a transaction is abandoned or
 * replayed (td_db_write redoes a body after a map-full), re-read from
 * LMDB by a fresh table (a restarted store), and right after the full table
 * dropped the keys not used lately. Most commits only log their increments
 * (`df_log`); every TD_DF_LOG_COMMITS-th writes the counts and empties the
 * log, and a table started after a crash reads the log back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "dfstats.h"
#include "store_fixture.h"

typedef struct {
    char dir[64];
    td_db *db;
    td_df *df;
    int calls;       /* bodies run */
    int fail_first;  /* first body returns this (0 = none) */
    const char *keys[4];
    size_t n_keys;
} s_fx;

/* The database in fx->dir (created or reopened) and a new table on it. */
static void s_open(s_fx *fx)
{
    td_db_opts o = {.dir = fx->dir, .sync = TD_SYNC_NOSYNC, .map_size = 64 << 20};
    fx->db = td_db_open(&o, NULL);
    assert_non_null(fx->db);
    fx->df = td_df_new();
    assert_non_null(fx->df);
}

static int s_setup(void **state)
{
    s_fx *fx = calloc(1, sizeof *fx);
    td_fx_mkdir(fx->dir, "td-df");
    s_open(fx);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx *fx = *state;
    td_df_destroy(&fx->df);
    td_db_destroy(&fx->db);
    td_fx_rmdir(fx->dir);
    free(fx);
    return 0;
}

/* One document holding fx->keys; replayable like the writer's body. */
static td_db_rc s_body(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_df_aborted(fx->df);
    fx->calls++;
    size_t lens[4];
    const void *keys[4];
    for (size_t i = 0; i < fx->n_keys; i++) {
        keys[i] = fx->keys[i];
        lens[i] = strlen(fx->keys[i]);
    }
    uint32_t before = td_df_get(fx->df, txn, "ta", 2);
    td_db_rc rc = td_df_add(fx->df, txn, keys, lens, fx->n_keys);
    if (rc)
        return rc;
    assert_int_equal(td_df_get(fx->df, txn, "ta", 2), before + 1);
    if ((rc = td_df_flush(fx->df, txn)) != TD_DB_OK)
        return rc;
    if (fx->calls == 1 && fx->fail_first)
        return (td_db_rc)fx->fail_first;
    return TD_DB_OK;
}

static td_db_rc s_doc(s_fx *fx, int fail_first)
{
    fx->calls = 0;
    fx->fail_first = fail_first;
    td_db_rc rc = td_db_write(fx->db, s_body, fx);
    if (rc == TD_DB_OK)
        td_df_committed(fx->df);
    else
        td_df_aborted(fx->df);
    return rc;
}

/* What is committed in LMDB, read through a fresh table. */
static uint32_t s_stored(s_fx *fx, const char *key, uint64_t *docs)
{
    td_df *fresh = td_df_new();
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    uint32_t n = td_df_get(fresh, txn, key, strlen(key));
    *docs = td_df_docs(fresh, txn);
    td_txn_end(&txn);
    td_df_destroy(&fresh);
    return n;
}

static uint32_t s_mem(s_fx *fx, const char *key)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    uint32_t n = td_df_get(fx->df, txn, key, strlen(key));
    td_txn_end(&txn);
    return n;
}

static void test_commit_abort_replay(void **state)
{
    s_fx *fx = *state;
    uint64_t docs;
    fx->keys[0] = "ta";
    fx->keys[1] = "tb";
    fx->keys[2] = "ealpha";
    fx->n_keys = 3;
    assert_int_equal(s_doc(fx, 0), TD_DB_OK);
    fx->n_keys = 1;
    assert_int_equal(s_doc(fx, 0), TD_DB_OK);
    assert_int_equal(s_stored(fx, "ta", &docs), 2);
    assert_int_equal(docs, 2);
    assert_int_equal(s_stored(fx, "tb", &docs), 1);
    assert_int_equal(s_stored(fx, "ealpha", &docs), 1);
    assert_int_equal(s_stored(fx, "tc", &docs), 0);
    assert_int_equal(s_mem(fx, "ta"), 2);

    /* abandoned: neither memory nor LMDB keeps the increment */
    assert_int_not_equal(s_doc(fx, TD_DB_ERROR), TD_DB_OK);
    assert_int_equal(s_mem(fx, "ta"), 2);
    assert_int_equal(s_stored(fx, "ta", &docs), 2);
    assert_int_equal(docs, 2);

    /* replayed after a map-full: counted once */
    assert_int_equal(s_doc(fx, TD_DB_FULL), TD_DB_OK);
    assert_int_equal(fx->calls, 2);
    assert_int_equal(s_mem(fx, "ta"), 3);
    assert_int_equal(s_stored(fx, "ta", &docs), 3);
    assert_int_equal(docs, 3);
    assert_int_equal(s_mem(fx, "tb"), 1);
}

static void test_bad_keys_ignored(void **state)
{
    s_fx *fx = *state;
    uint64_t docs;
    fx->keys[0] = "ta";
    fx->keys[1] = "";
    fx->n_keys = 2;
    assert_int_equal(s_doc(fx, 0), TD_DB_OK);
    assert_int_equal(s_stored(fx, "ta", &docs), 1);
    assert_int_equal(docs, 1);
    assert_int_equal(s_mem(fx, ""), 0);
}

/* A document of `n` generated keys "t<set>-<i>" (set 'a', 'b', ...). */
typedef struct {
    td_df *df;
    char set;
    size_t n;
    const char *extra[4];  /* and these keys */
    size_t n_extra;
} s_gen;

static td_db_rc s_gen_body(td_txn *txn, void *arg)
{
    s_gen *g = arg;
    td_df_aborted(g->df);
    size_t n = g->n + g->n_extra;
    char *buf = malloc(n * 32 + 1);
    const void **keys = malloc((n + 1) * sizeof *keys);
    size_t *lens = malloc((n + 1) * sizeof *lens);
    assert_non_null(buf);
    assert_non_null(keys);
    assert_non_null(lens);
    for (size_t i = 0; i < g->n; i++) {
        int len = snprintf(buf + i * 32, 32, "t%c-%zu", g->set, i);
        keys[i] = buf + i * 32;
        lens[i] = (size_t)len;
    }
    for (size_t i = 0; i < g->n_extra; i++) {
        keys[g->n + i] = g->extra[i];
        lens[g->n + i] = strlen(g->extra[i]);
    }
    td_db_rc rc = td_df_add(g->df, txn, keys, lens, n);  /* one document */
    free(buf);
    free(keys);
    free(lens);
    return rc ? rc : td_df_flush(g->df, txn);
}

static void s_gen_doc(s_fx *fx, s_gen *g)
{
    g->df = fx->df;
    assert_int_equal(td_db_write(fx->db, s_gen_body, g), TD_DB_OK);
    td_df_committed(fx->df);
}

/* Past TD_DF_MAX_ENTRIES the table keeps only the recently used keys; the
 * others are read from LMDB again, and no count goes wrong. */
static void test_full_table_keeps_counts(void **state)
{
    s_fx *fx = *state;
    size_t third = TD_DF_MAX_ENTRIES * 2 / 5;  /* three of them overflow the table */
    s_gen g = {.set = 'a', .n = third};
    s_gen_doc(fx, &g);
    g = (s_gen){.set = 'b', .n = third};
    s_gen_doc(fx, &g);
    g = (s_gen){.set = 'c', .n = third};
    s_gen_doc(fx, &g);
    /* one more document with a key of each set, and a new one */
    g = (s_gen){.set = 'd', .n = 0, .extra = {"ta-7", "tb-7", "tc-7", "tnew"}, .n_extra = 4};
    s_gen_doc(fx, &g);
    uint64_t docs;
    const char *twice[] = {"ta-7", "tb-7", "tc-7"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s_mem(fx, twice[i]), 2);
        assert_int_equal(s_stored(fx, twice[i], &docs), 2);
    }
    assert_int_equal(docs, 4);
    assert_int_equal(s_mem(fx, "ta-8"), 1);
    assert_int_equal(s_mem(fx, "tc-8"), 1);
    assert_int_equal(s_mem(fx, "tnew"), 1);
    assert_int_equal(s_mem(fx, "td-0"), 0);
}

/* What `df` itself holds for `key` (0: nothing), and the log's records. */
static uint32_t s_raw(s_fx *fx, const char *key, uint64_t *log_records)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_val v;
    uint32_t n = 0;
    if (td_txn_get(txn, TD_DBI_DF, key, strlen(key), &v) == TD_DB_OK) {
        assert_int_equal(v.len, 4);
        const unsigned char *p = v.data;
        n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    *log_records = td_txn_entries(txn, TD_DBI_DF_LOG);
    td_txn_end(&txn);
    return n;
}

static void test_logged_then_written(void **state)
{
    s_fx *fx = *state;
    uint64_t docs, records;
    fx->keys[0] = "ta";
    fx->keys[1] = "tb";
    fx->n_keys = 2;
    for (uint32_t i = 1; i < TD_DF_LOG_COMMITS; i++) {
        assert_int_equal(s_doc(fx, 0), TD_DB_OK);
        assert_int_equal(s_raw(fx, "ta", &records), 0);
        assert_int_equal(records, i);
        assert_int_equal(s_mem(fx, "ta"), i);
        assert_int_equal(s_stored(fx, "ta", &docs), i);
        assert_int_equal(docs, i);
    }
    /* an abandoned commit logs nothing */
    assert_int_not_equal(s_doc(fx, TD_DB_ERROR), TD_DB_OK);
    assert_int_equal(s_raw(fx, "ta", &records), 0);
    assert_int_equal(records, TD_DF_LOG_COMMITS - 1);
    assert_int_equal(s_stored(fx, "ta", &docs), TD_DF_LOG_COMMITS - 1);

    assert_int_equal(s_doc(fx, 0), TD_DB_OK);   /* the counts are written */
    assert_int_equal(s_raw(fx, "ta", &records), TD_DF_LOG_COMMITS);
    assert_int_equal(records, 0);
    assert_int_equal(s_raw(fx, "tb", &records), TD_DF_LOG_COMMITS);
    assert_int_equal(s_stored(fx, "ta", &docs), TD_DF_LOG_COMMITS);
    assert_int_equal(docs, TD_DF_LOG_COMMITS);

    fx->n_keys = 1;
    assert_int_equal(s_doc(fx, 0), TD_DB_OK);
    assert_int_equal(s_raw(fx, "ta", &records), TD_DF_LOG_COMMITS);
    assert_int_equal(records, 1);
    assert_int_equal(s_stored(fx, "ta", &docs), TD_DF_LOG_COMMITS + 1);
    assert_int_equal(s_stored(fx, "tb", &docs), TD_DF_LOG_COMMITS);
    assert_int_equal(docs, TD_DF_LOG_COMMITS + 1);
}

/* A crash between two writes of the counts: the restarted store (a new
 * table on the reopened database) reads the log back, and its next write
 * neither loses nor counts twice what the log held. */
static void test_crash_reads_log_back(void **state)
{
    s_fx *fx = *state;
    uint64_t docs, records;
    fx->keys[0] = "ta";
    fx->keys[1] = "ealpha";
    fx->n_keys = 2;
    for (int i = 0; i < 3; i++)
        assert_int_equal(s_doc(fx, 0), TD_DB_OK);
    assert_int_equal(s_raw(fx, "ta", &records), 0);
    assert_int_equal(records, 3);

    td_df_destroy(&fx->df);   /* the process ends without writing them */
    td_db_destroy(&fx->db);
    s_open(fx);
    assert_int_equal(s_mem(fx, "ta"), 3);
    assert_int_equal(s_mem(fx, "ealpha"), 3);

    /* the records read back count towards the next write */
    fx->n_keys = 1;
    for (uint32_t i = 1; i <= TD_DF_LOG_COMMITS - 3; i++) {
        assert_int_equal(s_doc(fx, 0), TD_DB_OK);
        assert_int_equal(s_mem(fx, "ta"), 3 + i);
        assert_int_equal(s_stored(fx, "ta", &docs), 3 + i);
        assert_int_equal(docs, 3 + i);
        assert_int_equal(s_raw(fx, "ta", &records), i < TD_DF_LOG_COMMITS - 3 ? 0 : 3 + i);
    }
    /* the last of them wrote every count, the log's included */
    assert_int_equal(s_raw(fx, "ta", &records), TD_DF_LOG_COMMITS);
    assert_int_equal(records, 0);
    assert_int_equal(s_raw(fx, "ealpha", &records), 3);
    assert_int_equal(s_stored(fx, "ealpha", &docs), 3);
}

/* A log record cut short: what precedes the fault counts, the rest is
 * ignored with a warning, and the table works on. */
static td_db_rc s_bad_record(td_txn *txn, void *arg)
{
    (void)arg;
    /* 2 documents; "ta" +3; then a key claiming 9 bytes with 2 left */
    static const unsigned char rec[] = {2, 2, 't', 'a', 3, 9, 't', 'b'};
    static const unsigned char k[8] = {0};
    return td_txn_put(txn, TD_DBI_DF_LOG, k, 8, rec, sizeof rec);
}

static int s_count_key(const void *key, size_t len, uint32_t delta, void *arg)
{
    size_t *n = arg;
    assert_int_equal(len, 2);
    assert_memory_equal(key, "ta", 2);
    assert_int_equal(delta, 3);
    (*n)++;
    return 0;
}

static void test_malformed_record(void **state)
{
    s_fx *fx = *state;
    static const unsigned char rec[] = {2, 2, 't', 'a', 3, 9, 't', 'b'};
    uint64_t docs;
    size_t n = 0;
    assert_int_equal(td_df_log_parse(rec, sizeof rec, &docs, s_count_key, &n), -1);
    assert_int_equal(n, 1);
    assert_int_equal(docs, 2);
    n = 0;
    assert_int_equal(td_df_log_parse(rec, 5, &docs, s_count_key, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(td_df_log_parse(rec, 0, &docs, s_count_key, &n), -1);
    static const unsigned char zero_delta[] = {0, 1, 'x', 0};
    assert_int_equal(td_df_log_parse(zero_delta, sizeof zero_delta, &docs, s_count_key, &n), -1);
    static const unsigned char long_varint[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(td_df_log_parse(long_varint, sizeof long_varint, &docs, s_count_key, &n),
                     -1);

    assert_int_equal(td_db_write(fx->db, s_bad_record, NULL), TD_DB_OK);
    assert_int_equal(s_mem(fx, "ta"), 3);
    assert_int_equal(s_mem(fx, "tb"), 0);
    fx->keys[0] = "ta";
    fx->n_keys = 1;
    assert_int_equal(s_doc(fx, 0), TD_DB_OK);
    uint64_t records;
    assert_int_equal(s_stored(fx, "ta", &docs), 4);
    assert_int_equal(docs, 3);
    assert_int_equal(s_raw(fx, "ta", &records), 0);
    assert_int_equal(records, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_abort_replay, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_keys_ignored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_table_keeps_counts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_logged_then_written, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_reads_log_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_record, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
