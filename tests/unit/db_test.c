/* db_test.c — the LMDB schema (store/db.c): creation and version check,
 * records, event_time order and paging, rejects, counters, nested
 * transactions, map growth, a read-only reader beside the writer, and the
 * data directory lock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec.h"
#include "db.h"
#include "log.h"

static char *s_tmpdir(void)
{
    char tmpl[] = "/tmp/td-db-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *dir = malloc(strlen(d) + 8);
    sprintf(dir, "%s/data", d);   /* not created: the writer must create it */
    return dir;
}

static void s_rmtree(char *dir)
{
    char cmd[512];
    *strrchr(dir, '/') = '\0';   /* the temp parent made by s_tmpdir */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static td_db *s_open(const char *dir, bool readonly, uint64_t map, td_db_rc *rc)
{
    td_db_opts o = {.dir = dir, .readonly = readonly, .map_size = map, .sync = TD_SYNC_NOSYNC};
    return td_db_open(&o, rc);
}

/* ---- a write transaction body that runs a test callback ------------------ */

typedef struct {
    td_db_rc (*fn)(td_txn *txn, void *arg);
    void *arg;
    int calls;
} s_job;

static td_db_rc s_job_fn(td_txn *txn, void *arg)
{
    s_job *j = arg;
    j->calls++;
    return j->fn(txn, j->arg);
}

static td_db_rc s_write(td_db *db, td_db_rc (*fn)(td_txn *, void *), void *arg)
{
    s_job j = {fn, arg, 0};
    return td_db_write(db, s_job_fn, &j);
}

/* ---- schema ----------------------------------------------------------------- */

static td_db_rc s_bump_version(td_txn *txn, void *arg)
{
    (void)arg;
    unsigned char v[4] = {0, 0, 0, TD_RECORD_VERSION + 1};
    return td_txn_put(txn, TD_DBI_META, "version", 7, v, 4);
}

static void test_schema_and_version(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db_rc rc;
    /* read-only before the store created anything: "no database yet" */
    assert_null(s_open(dir, true, 0, &rc));
    assert_int_equal(rc, TD_DB_NODB);

    td_db *db = s_open(dir, false, 0, &rc);
    assert_non_null(db);
    assert_int_equal(rc, TD_DB_OK);
    assert_true(td_db_map_size(db) >= TD_DB_MAP_DEFAULT);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    td_val v;
    assert_int_equal(td_txn_get(txn, TD_DBI_META, "version", 7, &v), TD_DB_OK);
    assert_int_equal(v.len, 4);
    assert_int_equal(((const unsigned char *)v.data)[3], TD_RECORD_VERSION);
    td_stats st = {0};
    td_db_stats(txn, &st);
    assert_int_equal(st.articles, 0);
    assert_true(st.db_bytes > 0);
    td_txn_end(&txn);
    assert_null(txn);

    /* a newer schema is refused, by the writer and by readers */
    assert_int_equal(s_write(db, s_bump_version, NULL), TD_DB_OK);
    td_db_destroy(&db);
    assert_null(db);
    assert_null(s_open(dir, false, 0, &rc));
    assert_int_equal(rc, TD_DB_VERSION);
    assert_null(s_open(dir, true, 0, &rc));
    assert_int_equal(rc, TD_DB_VERSION);
    s_rmtree(dir);
}

/* ---- records ------------------------------------------------------------------ */

static td_db_rc s_put_records(td_txn *txn, void *arg)
{
    (void)arg;
    td_article a = {.id = "art-1", .title = "Clash near Sotk", .body = "Body.",
                    .source = "Reuters", .published_at = 1683800000000, .ingested_at = 5,
                    .event = "e1", .story = "s1"};
    td_db_rc rc = td_db_article_put(txn, &a);
    if (rc)
        return rc;
    if ((rc = td_db_key_put(txn, "i:art-1", 0x1122334455667788ull, "art-1")))
        return rc;
    td_txn_counter_add(txn, TD_CTR_ARTICLES, 1);
    td_entity_rec e = {.name = "Nikol Pashinyan", .kind = TD_ENT_PERSON, .articles = 3};
    char key[TD_DB_ENTITY_KEY];
    td_db_entity_norm(e.name, key, sizeof key);
    if ((rc = td_db_entity_put(txn, key, &e)) || (rc = td_db_entity_link(txn, key, "e1")) ||
        (rc = td_db_entity_link(txn, key, "e2")) || (rc = td_db_entity_link(txn, key, "e1")))
        return rc;
    /* a name that extends another one keeps its own events */
    td_db_entity_norm("Nikol Pashinyan Jr", key, sizeof key);
    return td_db_entity_link(txn, key, "e9");
}

/* td_cur_put: replacing the item a cursor is on (values growing into
 * overflow pages and shrinking back) and inserting through a cursor leave
 * the other keys alone. */
static char s_big[6000];

static td_db_rc s_cur_puts(td_txn *txn, void *arg)
{
    (void)arg;
    td_db_rc rc;
    static const char *const keys[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        if ((rc = td_txn_put(txn, TD_DBI_TERMS, keys[i], 1, keys[i], 1)) != TD_DB_OK)
            return rc;
    td_cur *cur;
    td_val k, v;
    if ((rc = td_cur_open(txn, TD_DBI_TERMS, &cur)) != TD_DB_OK)
        return rc;
    memset(s_big, 'x', sizeof s_big);
    if ((rc = td_cur_seek(cur, "b", 1, &k, &v)) == TD_DB_OK &&
        (rc = td_cur_put(txn, cur, "b", 1, s_big, sizeof s_big, true)) == TD_DB_OK &&
        (rc = td_cur_seek(cur, "c", 1, &k, &v)) == TD_DB_OK &&
        (rc = td_cur_put(txn, cur, "c", 1, s_big, 3000, true)) == TD_DB_OK &&
        (rc = td_cur_put(txn, cur, "c", 1, "cc", 2, true)) == TD_DB_OK)
        rc = td_cur_put(txn, cur, "bb", 2, "new", 3, false);
    td_cur_close(&cur);
    return rc;
}

static void test_cursor_put(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db *db = s_open(dir, false, 0, NULL);
    assert_non_null(db);
    assert_int_equal(s_write(db, s_cur_puts, NULL), TD_DB_OK);
    td_txn *txn;
    td_val v;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_get(txn, TD_DBI_TERMS, "a", 1, &v), TD_DB_OK);
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.data, "a", 1);
    assert_int_equal(td_txn_get(txn, TD_DBI_TERMS, "b", 1, &v), TD_DB_OK);
    assert_int_equal(v.len, sizeof s_big);
    assert_memory_equal(v.data, s_big, sizeof s_big);
    assert_int_equal(td_txn_get(txn, TD_DBI_TERMS, "bb", 2, &v), TD_DB_OK);
    assert_memory_equal(v.data, "new", 3);
    assert_int_equal(td_txn_get(txn, TD_DBI_TERMS, "c", 1, &v), TD_DB_OK);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.data, "cc", 2);
    assert_int_equal(td_txn_entries(txn, TD_DBI_TERMS), 4);
    td_txn_end(&txn);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* The ASCII fast path of td_db_entity_norm gives what utf8proc's
 * NFKC + case folding gives: each ASCII string is compared with itself
 * followed by a non-ASCII letter (which takes the utf8proc path). */
static void test_entity_norm_ascii(void **state)
{
    (void)state;
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (int t = 0; t < 20000; t++) {
        char s[40], s2[48], a[TD_DB_ENTITY_KEY + 8], b[TD_DB_ENTITY_KEY + 8];
        size_t n = 1 + t % 30;
        for (size_t i = 0; i < n; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            s[i] = (char)(1 + r % 127);
        }
        s[n - 1] = (char)('A' + t % 26);   /* no trailing blank: the letter follows directly */
        s[n] = 0;
        snprintf(s2, sizeof s2, "%s\xc3\xa9", s);
        size_t la = td_db_entity_norm(s, a, sizeof a);
        size_t lb = td_db_entity_norm(s2, b, sizeof b);
        assert_int_equal(lb, la + 2);
        assert_memory_equal(a, b, la);
        assert_string_equal(b + la, "\xc3\xa9");
    }
}

static void test_records(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db *db = s_open(dir, false, 0, NULL);
    assert_non_null(db);
    assert_int_equal(s_write(db, s_put_records, NULL), TD_DB_OK);

    td_arena *arena = td_arena_new(0);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    td_val raw;
    assert_int_equal(td_db_article_get(txn, "art-1", &raw), TD_DB_OK);
    td_article a;
    td_error err;
    assert_int_equal(td_article_decode(raw.data, raw.len, arena, &a, &err), 0);
    assert_string_equal(a.title, "Clash near Sotk");
    assert_string_equal(a.source, "Reuters");
    assert_true(a.published_at == 1683800000000);
    assert_int_equal(td_db_article_get(txn, "nope", &raw), TD_DB_NOTFOUND);

    uint64_t hash;
    char *id;
    assert_int_equal(td_db_key_get(txn, "i:art-1", arena, &hash, &id), TD_DB_OK);
    assert_true(hash == 0x1122334455667788ull);
    assert_string_equal(id, "art-1");
    assert_int_equal(td_txn_counter(txn, TD_CTR_ARTICLES), 1);

    /* entities are found by any spelling of the name */
    td_entity_rec e;
    char key[TD_DB_ENTITY_KEY];
    assert_true(td_db_entity_norm("  nikol   PASHINYAN ", key, sizeof key) > 0);
    assert_int_equal(td_db_entity_get(txn, key, arena, &e), TD_DB_OK);
    assert_string_equal(e.name, "Nikol Pashinyan");
    assert_int_equal(e.kind, TD_ENT_PERSON);
    assert_int_equal(e.articles, 3);
    char **ids;
    size_t n;
    bool more;
    assert_int_equal(td_db_entity_events(txn, key, arena, 10, &ids, &n, &more), TD_DB_OK);
    assert_int_equal(n, 2);
    assert_false(more);
    assert_string_equal(ids[0], "e1");
    assert_string_equal(ids[1], "e2");
    assert_int_equal(td_db_entity_events(txn, key, arena, 1, &ids, &n, &more), TD_DB_OK);
    assert_int_equal(n, 1);
    assert_true(more);
    td_db_entity_norm("nobody", key, sizeof key);
    assert_int_equal(td_db_entity_get(txn, key, arena, &e), TD_DB_NOTFOUND);
    assert_int_equal(td_db_entity_events(txn, key, arena, 10, &ids, &n, &more), TD_DB_OK);
    assert_int_equal(n, 0);
    td_txn_end(&txn);

    assert_int_equal(td_db_entity_norm("Ünal  Çelik", key, sizeof key), strlen("ünal çelik"));
    assert_string_equal(key, "ünal çelik");
    assert_int_equal(td_db_entity_norm("   ", key, sizeof key), 0);
    td_arena_destroy(&arena);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* ---- event_time --------------------------------------------------------------- */

static const struct {
    const char *id;
    int64_t t;
} s_events[] = {
    {"e1", 1000}, {"e2", 3000}, {"e3", -5000}, {"e4", 2000}, {"e5", 3000}, {"e6", 0},
};

static td_db_rc s_put_events(td_txn *txn, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof s_events / sizeof s_events[0]; i++) {
        td_event e = {.id = (char *)s_events[i].id, .title = "t", .summary = "s",
                      .first_seen = s_events[i].t, .last_seen = s_events[i].t, .articles = 1};
        td_db_rc rc = td_db_event_put(txn, &e, TD_TIME_NONE);
        if (rc)
            return rc;
    }
    return TD_DB_OK;
}

static td_db_rc s_move_e1(td_txn *txn, void *arg)
{
    (void)arg;
    td_event e = {.id = "e1", .title = "t", .summary = "s", .first_seen = 1000,
                  .last_seen = 9000, .articles = 2};
    return td_db_event_put(txn, &e, 1000);
}

/* Collect ids newest first, starting below `below` (or from the end). */
static size_t s_list(td_db *db, const void *below, size_t blen, char out[][8], size_t max)
{
    td_txn *txn;
    td_cur *c;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_cur_open(txn, TD_DBI_EVENT_TIME, &c), TD_DB_OK);
    td_val k;
    size_t n = 0;
    td_db_rc rc = blen ? td_cur_before(c, below, blen, &k, NULL) : td_cur_last(c, &k, NULL);
    for (; rc == TD_DB_OK && n < max; rc = td_cur_prev(c, &k, NULL)) {
        const char *id;
        size_t idlen;
        assert_int_equal(td_db_timekey_split(k.data, k.len, NULL, &id, &idlen), 0);
        snprintf(out[n++], 8, "%.*s", (int)idlen, id);
    }
    td_cur_close(&c);
    td_txn_end(&txn);
    return n;
}

static void test_event_time(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db *db = s_open(dir, false, 0, NULL);
    assert_int_equal(s_write(db, s_put_events, NULL), TD_DB_OK);

    char ids[8][8];
    size_t n = s_list(db, NULL, 0, ids, 8);
    /* newest first; equal times by id; negative times sort below zero */
    const char *want[] = {"e5", "e2", "e4", "e1", "e6", "e3"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ids[i], want[i]);

    /* paging below a cursor key never repeats the cursor's entry */
    unsigned char cur[64];
    size_t cl = td_db_timekey(2000, "e4", cur, sizeof cur);
    assert_int_equal(cl, 10);
    n = s_list(db, cur, cl, ids, 8);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "e1");
    assert_string_equal(ids[2], "e3");
    /* an 8-byte prefix bounds by time: everything at or before 2999 */
    cl = td_db_timekey(3000, NULL, cur, sizeof cur);
    assert_int_equal(cl, 8);
    n = s_list(db, cur, cl, ids, 8);
    assert_int_equal(n, 4);
    assert_string_equal(ids[0], "e4");

    /* moving an event's activity moves its key (no stale entry left) */
    assert_int_equal(s_write(db, s_move_e1, NULL), TD_DB_OK);
    n = s_list(db, NULL, 0, ids, 8);
    assert_int_equal(n, 6);
    assert_string_equal(ids[0], "e1");
    assert_string_equal(ids[4], "e6");

    int64_t t;
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_entries(txn, TD_DBI_EVENT_TIME), 6);
    td_txn_end(&txn);
    cl = td_db_timekey(-5000, "e3", cur, sizeof cur);
    assert_int_equal(td_db_timekey_split(cur, cl, &t, NULL, NULL), 0);
    assert_true(t == -5000);
    assert_int_equal(td_db_timekey_split(cur, 8, &t, NULL, NULL), -1);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* ---- rejects and counters ------------------------------------------------------ */

static td_db_rc s_put_rejects(td_txn *txn, void *arg)
{
    uint64_t *seqs = arg;
    for (int i = 0; i < 3; i++) {
        td_reject r = {.at = 100 + i, .code = TD_E_BAD_REQUEST, .message = "bad",
                       .bytes = (const unsigned char *)"\xc1\x00", .n_bytes = 2};
        td_db_rc rc = td_db_reject_add(txn, &r, &seqs[i]);
        if (rc)
            return rc;
    }
    return TD_DB_OK;
}

static void test_rejects_and_counters(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db *db = s_open(dir, false, 0, NULL);
    uint64_t seqs[3];
    assert_int_equal(s_write(db, s_put_rejects, seqs), TD_DB_OK);
    assert_int_equal(seqs[0], 1);
    assert_int_equal(seqs[2], 3);
    td_db_destroy(&db);

    /* counters survive a restart: sequence numbers keep increasing */
    db = s_open(dir, false, 0, NULL);
    assert_non_null(db);
    assert_int_equal(s_write(db, s_put_rejects, seqs), TD_DB_OK);
    assert_int_equal(seqs[0], 4);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_counter(txn, TD_CTR_REJECTS), 6);
    td_cur *c;
    td_val k, v;
    assert_int_equal(td_cur_open(txn, TD_DBI_REJECTS, &c), TD_DB_OK);
    assert_int_equal(td_cur_last(c, &k, &v), TD_DB_OK);
    assert_int_equal(k.len, 8);
    assert_int_equal(((const unsigned char *)k.data)[7], 6);
    td_arena *arena = td_arena_new(0);
    td_reject r;
    td_error err;
    assert_int_equal(td_reject_decode(v.data, v.len, arena, &r, &err), 0);
    assert_string_equal(r.code, TD_E_BAD_REQUEST);
    assert_int_equal(r.n_bytes, 2);
    td_arena_destroy(&arena);
    td_cur_close(&c);
    td_txn_end(&txn);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* A failing body leaves nothing behind. */
static td_db_rc s_fail_after_put(td_txn *txn, void *arg)
{
    (void)arg;
    td_txn_counter_add(txn, TD_CTR_ARTICLES, 5);
    td_txn_put(txn, TD_DBI_ARTICLES, "x", 1, "y", 1);
    return TD_DB_ERROR;
}

static void test_abort(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db *db = s_open(dir, false, 0, NULL);
    assert_int_equal(s_write(db, s_fail_after_put, NULL), TD_DB_ERROR);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_db_article_get(txn, "x", NULL), TD_DB_NOTFOUND);
    assert_int_equal(td_txn_counter(txn, TD_CTR_ARTICLES), 0);
    /* keys beyond LMDB's limit are refused, not a crash */
    char big[600];
    memset(big, 'k', sizeof big);
    assert_int_equal(td_txn_get(txn, TD_DBI_ARTICLES, big, sizeof big, NULL), TD_DB_NOTFOUND);
    td_txn_end(&txn);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* ---- nested transactions ------------------------------------------------------ */

typedef struct {
    int from, to;
    bool fail;
} s_nest;

static td_db_rc s_nest_puts(td_txn *txn, void *arg)
{
    s_nest *n = arg;
    static char v[3000];
    memset(v, 'v', sizeof v);
    for (int i = n->from; i < n->to; i++) {
        char id[32];
        snprintf(id, sizeof id, "n%05d", i);
        td_db_rc rc = td_txn_put(txn, TD_DBI_ARTICLES, id, strlen(id), v, sizeof v);
        if (rc)
            return rc;
        td_txn_counter_add(txn, TD_CTR_ARTICLES, 1);
    }
    return n->fail ? TD_DB_ERROR : TD_DB_OK;
}

/* A parent's puts, then children's: all of them land with the parent. */
static td_db_rc s_nested_ok(td_txn *txn, void *arg)
{
    (void)arg;
    s_nest first = {0, 100, false};
    td_db_rc rc = s_nest_puts(txn, &first);
    for (int k = 1; k < 5 && rc == TD_DB_OK; k++) {
        s_nest c = {k * 100, k * 100 + 100, false};
        rc = td_txn_nested(txn, s_nest_puts, &c);
    }
    /* the parent goes on after its children */
    s_nest last = {500, 510, false};
    return rc ? rc : s_nest_puts(txn, &last);
}

/* A child that fails: the whole transaction fails, nothing lands. */
static td_db_rc s_nested_fail(td_txn *txn, void *arg)
{
    (void)arg;
    s_nest first = {1000, 1010, false}, bad = {1010, 1020, true};
    td_db_rc rc = s_nest_puts(txn, &first);
    if (rc == TD_DB_OK)
        rc = td_txn_nested(txn, s_nest_puts, &bad);
    return rc == TD_DB_OK ? TD_DB_OK : rc;
}

/* Ignoring the child's failure does not commit half of it. */
static td_db_rc s_nested_ignored(td_txn *txn, void *arg)
{
    (void)arg;
    s_nest bad = {2000, 2010, true};
    (void)td_txn_nested(txn, s_nest_puts, &bad);
    return TD_DB_OK;
}

static void test_nested(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db_rc rc;
    /* a small map: the children fill it, the whole write grows it and is
     * done again from the start */
    td_db *db = s_open(dir, false, 64 << 10, &rc);
    assert_non_null(db);
    s_job j = {s_nested_ok, NULL, 0};
    assert_int_equal(td_db_write(db, s_job_fn, &j), TD_DB_OK);
    assert_true(j.calls >= 2);   /* a child filled the map: grown, redone */
    assert_int_equal(s_write(db, s_nested_fail, NULL), TD_DB_ERROR);
    assert_int_not_equal(s_write(db, s_nested_ignored, NULL), TD_DB_OK);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_entries(txn, TD_DBI_ARTICLES), 510);
    assert_int_equal(td_txn_counter(txn, TD_CTR_ARTICLES), 510);   /* once each */
    assert_int_equal(td_txn_get(txn, TD_DBI_ARTICLES, "n00450", 6, NULL), TD_DB_OK);
    assert_int_equal(td_txn_get(txn, TD_DBI_ARTICLES, "n01000", 6, NULL), TD_DB_NOTFOUND);
    assert_int_equal(td_txn_get(txn, TD_DBI_ARTICLES, "n02000", 6, NULL), TD_DB_NOTFOUND);
    td_txn_end(&txn);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* td_txn_nested_own: a child of the main environment alone. Its puts land
 * with the parent's; the search index's databases are out of its reach
 * (the writer thread must not begin the index's write transaction), and
 * reaching for one fails the whole transaction. */
static td_db_rc s_own_ok(td_txn *txn, void *arg)
{
    (void)arg;
    s_nest first = {3000, 3010, false}, child = {3010, 3020, false};
    td_db_rc rc = s_nest_puts(txn, &first);
    return rc ? rc : td_txn_nested_own(txn, s_nest_puts, &child);
}

/* Articles arg->from..to and a term of the index. */
static td_db_rc s_index_put(td_txn *txn, void *arg)
{
    td_db_rc rc = s_nest_puts(txn, arg);
    return rc ? rc : td_txn_put(txn, TD_DBI_TERMS, "term", 4, "\0\0\0\1", 4);
}

static td_db_rc s_own_index(td_txn *txn, void *arg)
{
    return td_txn_nested_own(txn, s_index_put, arg);
}

static td_db_rc s_both_index(td_txn *txn, void *arg)
{
    return td_txn_nested(txn, s_index_put, arg);
}

static void test_nested_own(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db_rc rc;
    td_db *db = s_open(dir, false, 0, &rc);
    assert_non_null(db);
    assert_int_equal(s_write(db, s_own_ok, NULL), TD_DB_OK);
    s_nest own = {4000, 4010, false}, both = {5000, 5010, false};
    assert_int_not_equal(s_write(db, s_own_index, &own), TD_DB_OK);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_entries(txn, TD_DBI_ARTICLES), 20);
    assert_int_equal(td_txn_get(txn, TD_DBI_ARTICLES, "n03015", 6, NULL), TD_DB_OK);
    assert_int_equal(td_txn_get(txn, TD_DBI_ARTICLES, "n04000", 6, NULL), TD_DB_NOTFOUND);
    assert_int_equal(td_txn_get(txn, TD_DBI_TERMS, "term", 4, NULL), TD_DB_NOTFOUND);
    td_txn_end(&txn);
    /* the same writes nested in both environments land */
    assert_int_equal(s_write(db, s_both_index, &both), TD_DB_OK);
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_entries(txn, TD_DBI_ARTICLES), 30);
    assert_int_equal(td_txn_get(txn, TD_DBI_TERMS, "term", 4, NULL), TD_DB_OK);
    td_txn_end(&txn);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* ---- map growth ------------------------------------------------------------------ */

static td_db_rc s_put_big(td_txn *txn, void *arg)
{
    int *round = arg;
    static char body[20000];
    memset(body, 'x', sizeof body - 1);
    for (int i = 0; i < 60; i++) {
        char id[32];
        snprintf(id, sizeof id, "big-%d-%d", *round, i);
        td_article a = {.id = id, .title = "t", .body = body, .published_at = i};
        td_db_rc rc = td_db_article_put(txn, &a);
        if (rc)
            return rc;
        td_txn_counter_add(txn, TD_CTR_ARTICLES, 1);
    }
    return TD_DB_OK;
}

static void test_map_growth(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db_rc rc;
    td_db *db = s_open(dir, false, 256 << 10, &rc);   /* 256 KiB: full at once */
    assert_non_null(db);
    uint64_t before = td_db_map_size(db);
    assert_true(before <= (1u << 20));   /* LMDB's default for a new file */
    for (int round = 0; round < 3; round++) {
        s_job j = {s_put_big, &round, 0};
        assert_int_equal(td_db_write(db, s_job_fn, &j), TD_DB_OK);
        if (round == 0)
            assert_true(j.calls >= 2);   /* redone after growing */
    }
    assert_true(td_db_map_size(db) > before);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_counter(txn, TD_CTR_ARTICLES), 180);   /* nothing doubled */
    assert_true(td_txn_counter(txn, TD_CTR_MAP_GROWS) >= 1);
    assert_int_equal(td_txn_entries(txn, TD_DBI_ARTICLES), 180);
    assert_int_equal(td_db_article_get(txn, "big-2-59", NULL), TD_DB_OK);
    td_txn_end(&txn);
    uint64_t grown = td_db_map_size(db);
    td_db_destroy(&db);

    /* a restart with the small configured size keeps the grown map */
    db = s_open(dir, false, 256 << 10, &rc);
    assert_non_null(db);
    assert_true(td_db_map_size(db) >= grown);
    td_db_destroy(&db);
    s_rmtree(dir);
}

/* ---- a reader process beside the writer; the directory lock ------------------------ */

static int s_child_reads(const char *dir, const char *id, bool expect)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        td_db_rc rc;
        td_db *ro = s_open(dir, true, 0, &rc);
        int status = 10;
        if (ro) {
            td_txn *txn;
            status = 11;
            if (td_db_read_begin(ro, &txn) == TD_DB_OK) {
                status = (td_db_article_get(txn, id, NULL) == TD_DB_OK) == expect ? 0 : 12;
                td_txn_end(&txn);
            }
            td_db_destroy(&ro);
        }
        _exit(status);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static void test_reader_beside_writer_and_lock(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    td_db_rc rc;
    td_db *db = s_open(dir, false, 0, &rc);
    assert_non_null(db);
    assert_int_equal(s_write(db, s_put_records, NULL), TD_DB_OK);
    /* another process reads while this one holds the writer open */
    assert_int_equal(s_child_reads(dir, "art-1", true), 0);
    assert_int_equal(s_child_reads(dir, "art-2", false), 0);

    /* a second writer on the same directory is refused */
    assert_null(s_open(dir, false, 0, &rc));
    assert_int_equal(rc, TD_DB_LOCKED);
    td_db_destroy(&db);
    db = s_open(dir, false, 0, &rc);
    assert_non_null(db);
    td_db_destroy(&db);
    s_rmtree(dir);
}

int main(void)
{
    td_log_init("db_test", TD_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_and_version),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_entity_norm_ascii),
        cmocka_unit_test(test_cursor_put),
        cmocka_unit_test(test_event_time),
        cmocka_unit_test(test_rejects_and_counters),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_nested_own),
        cmocka_unit_test(test_map_growth),
        cmocka_unit_test(test_reader_beside_writer_and_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
