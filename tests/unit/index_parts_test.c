/* index_parts_test.c — the search index flushed in parts (store/index.c,
 * td_index_flush_part), each part a transaction of its own. A flush cut
 * short — by a crash (the held postings lost, rebuilt by
 * td_index_recover), by failing writes, or by new articles arriving before
 * it finished — and then completed must leave exactly the index that
 * flushing every batch in its own transaction leaves: the same terms, the
 * same docnos per term, each once and in order, the same document
 * frequencies and retired docnos, and no document left unindexed. The
 * same holds for postings gathered and written on the indexer's thread
 * (store/indexer.c) while the writer commits later batches. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "db.h"
#include "index.h"
#include "index_block.h"
#include "index_read.h"
#include "indexer.h"
#include "terms.h"

#define DOCS 2400
#define BATCH 150
#define VOCAB 4000
#define PART 97   /* terms per part: tens of parts per flush */

static const char *SYL[] = {"ka", "lo", "mi", "ra", "ten", "dor", "vel", "sa", "nu", "pri",
                            "ost", "gal", "ber", "ith", "mar", "zen"};

/* The text of article n (version v): the same in both stores. */
static void s_text(int n, int v, char *title, char *body)
{
    uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(n * 3 + v + 1);
    title[0] = body[0] = 0;
    int len = 30 + (int)(r % 90);
    for (int i = 0; i < len; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        double u = (double)(r % 1000000) / 1e6;
        uint32_t w = (uint32_t)(VOCAB * u * u) % VOCAB;
        char word[32];
        snprintf(word, sizeof word, "%s%s%s%s", SYL[w % 16], SYL[(w / 16) % 16],
                 SYL[(w / 256) % 16], w >= 2048 ? "x" : "");
        strcat(i < 4 ? title : body, word);
        strcat(i < 4 ? title : body, " ");
    }
}

/* Article n (version v), the same in both stores; its strings live until
 * the next call. */
static td_article s_article(int n, int v)
{
    static char id[32], title[512], body[8192];
    snprintf(id, sizeof id, "a%d", n);
    s_text(n, v, title, body);
    return (td_article){.id = id, .source = "Src", .title = title, .body = body, .lang = "en",
                        .published_at = 1700000000000LL + n};
}

typedef struct {
    td_index *ix;
    int from, to, version;
    bool flush;   /* the reference: everything in the batch's transaction */
} s_batch;

static td_db_rc s_batch_fn(td_txn *txn, void *arg)
{
    s_batch *b = arg;
    td_index_begin(b->ix);
    for (int n = b->from; n < b->to; n++) {
        td_article a = s_article(n, b->version);
        /* the stored text td_index_recover re-indexes from */
        td_db_rc rc = td_db_article_put(txn, &a);
        if (rc == TD_DB_OK)
            rc = td_index_add(b->ix, txn, &a);
        if (rc)
            return rc;
    }
    return b->flush ? td_index_flush(b->ix, txn) : TD_DB_OK;
}

static void s_add(td_db *db, td_index *ix, int from, int to, int version, bool flush)
{
    s_batch b = {ix, from, to, version, flush};
    assert_int_equal(td_db_write(db, s_batch_fn, &b), TD_DB_OK);
    td_index_committed(ix);
}

static td_db_rc s_part_fn(td_txn *txn, void *arg)
{
    return td_index_flush_part(arg, txn, PART);
}

/* Up to `max` parts (0: until nothing is held); returns the parts done. */
static int s_parts(td_db *db, td_index *ix, int max)
{
    int n = 0;
    while (td_index_held(ix) && (!max || n < max)) {
        assert_int_equal(td_db_index_write(db, s_part_fn, ix), TD_DB_OK);
        td_index_committed(ix);
        n++;
    }
    return n;
}

static td_db *s_open_map(char *dir, uint64_t map)
{
    assert_non_null(mkdtemp(dir));
    td_db_opts o = {.dir = dir, .sync = TD_SYNC_NOSYNC, .map_size = map};
    td_db_rc rc;
    td_db *db = td_db_open(&o, &rc);
    assert_non_null(db);
    return db;
}

static td_db *s_open(char *dir)
{
    return s_open_map(dir, 0);
}

static void s_rmtree(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* All docnos of a term, block by block, in docno order, each once. */
static size_t s_docnos(td_txn *txn, const void *term, size_t tlen, uint32_t *out, size_t cap)
{
    unsigned char key[TD_IX_KEY];
    uint32_t no;
    assert_true(td_ix_term_no(txn, term, tlen, &no));
    size_t kl = td_ix_key(no, 0, key), n = 0;
    td_cur *cur;
    assert_int_equal(td_cur_open(txn, TD_DBI_POSTINGS, &cur), TD_DB_OK);
    td_val k, v;
    static uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    for (td_db_rc rc = td_cur_seek(cur, key, kl, &k, &v);
         rc == TD_DB_OK && k.len == kl && memcmp(k.data, key, kl - 4) == 0;
         rc = td_cur_next(cur, &k, &v)) {
        int m = td_ix_block_docs(v.data, v.len, doc, tt, tb, dl);
        assert_true(m > 0);
        for (int i = 0; i < m; i++) {
            assert_true(n < cap);
            if (n)
                assert_true(doc[i] > out[n - 1]);
            out[n++] = doc[i];
        }
    }
    td_cur_close(&cur);
    return n;
}

/* The retired docnos, as queries skip them. */
static size_t s_retired(td_txn *txn, uint32_t *out, size_t cap)
{
    td_arena *arena = td_arena_new(1u << 20);
    td_plist *pl = td_plist_open_retired(txn, arena);
    assert_non_null(pl);
    size_t n = 0;
    for (uint32_t d = td_plist_next_geq(pl, 1); d != TD_IX_NONE; d = td_plist_next_geq(pl, d + 1)) {
        assert_true(n < cap);
        out[n++] = d;
    }
    assert_int_equal(n, td_plist_df(pl));
    td_plist_close(pl);
    td_arena_destroy(&arena);
    return n;
}

/* Both stores hold the same index (and retired docnos, when `del`). */
static void s_same_index(td_db *ref, td_db *got, bool del)
{
    td_txn *rt, *gt;
    assert_int_equal(td_db_read_begin(ref, &rt), TD_DB_OK);
    assert_int_equal(td_db_read_begin(got, &gt), TD_DB_OK);
    assert_int_equal(td_txn_counter(gt, TD_CTR_DOC_UNINDEXED), 0);
    assert_int_equal(td_txn_counter(rt, TD_CTR_DOC_UNINDEXED), 0);
    assert_int_equal(td_txn_counter(gt, TD_CTR_DOC_NEXT), td_txn_counter(rt, TD_CTR_DOC_NEXT));
    size_t nterms = td_txn_entries(rt, TD_DBI_TERMS);
    assert_true(nterms > 10 * PART);   /* many parts per flush */
    assert_int_equal(td_txn_entries(gt, TD_DBI_TERMS), nterms);
    static uint32_t a[DOCS * 2], b[DOCS * 2];
    td_cur *cur;
    td_val k, v;
    size_t seen = 0, postings = 0;
    assert_int_equal(td_cur_open(rt, TD_DBI_TERMS, &cur), TD_DB_OK);
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK; rc = td_cur_next(cur, &k, &v)) {
        uint64_t df = td_ix_df(rt, k.data, k.len);
        assert_int_equal(td_ix_df(gt, k.data, k.len), df);
        size_t na = s_docnos(rt, k.data, k.len, a, DOCS * 2);
        size_t nb = s_docnos(gt, k.data, k.len, b, DOCS * 2);
        assert_int_equal(nb, na);
        assert_int_equal(na, df);
        assert_memory_equal(a, b, na * sizeof *a);
        seen++;
        postings += na;
    }
    td_cur_close(&cur);
    assert_int_equal(seen, nterms);
    assert_true(postings > (size_t)DOCS * 20);
    if (del) {
        size_t na = s_retired(rt, a, DOCS * 2);
        assert_true(na > 0);
        assert_int_equal(s_retired(gt, b, DOCS * 2), na);
        assert_memory_equal(a, b, na * sizeof *a);
    }
    td_txn_end(&rt);
    td_txn_end(&gt);
}

/* Both writers and stores gone, their directories removed. */
static void s_teardown(td_index **rix, td_index **gix, td_db **ref, td_db **got,
                       const char *rdir, const char *gdir)
{
    td_index_destroy(rix);
    td_index_destroy(gix);
    td_db_destroy(ref);
    td_db_destroy(got);
    s_rmtree(rdir);
    s_rmtree(gdir);
}

/* A crash after some parts: the held postings are gone with the process;
 * recovery rebuilds every unindexed document and the parts already on
 * disk are not written twice. */
static void s_crash_then_recover(td_db *db, td_index **ix_p, size_t held)
{
    assert_int_equal(s_parts(db, *ix_p, 5), 5);
    assert_true(td_index_held(*ix_p) > 0);   /* more parts were to come */
    td_index_destroy(ix_p);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    assert_int_equal(td_txn_counter(txn, TD_CTR_DOC_UNINDEXED), held);
    td_index *ix = td_index_new();
    td_arena *arena = td_arena_new(64u << 20);
    assert_non_null(ix);
    size_t n = 0;
    assert_int_equal(td_index_recover(ix, txn, arena, 0, 0, &n), TD_DB_OK);
    td_txn_end(&txn);
    td_arena_destroy(&arena);
    assert_int_equal(n, held);
    td_index_committed(ix);
    assert_true(s_parts(db, ix, 0) > 1);
    *ix_p = ix;
}

static void test_parts_equal_one_flush(void **state)
{
    (void)state;
    char rdir[] = "/tmp/td-parts-ref-XXXXXX", gdir[] = "/tmp/td-parts-got-XXXXXX";
    /* the test-only switch of store/db.c (armed at open in builds that have
     * it): "index" in the file fails the search index's cursor puts */
    char sw[] = "/tmp/td-parts-switch-XXXXXX";
    int fd = mkstemp(sw);
    assert_true(fd >= 0);
    close(fd);
    unlink(sw);
    setenv("TIDINGS_TEST_FAULTS", sw, 1);
    td_db *ref = s_open(rdir), *got = s_open(gdir);
    td_index *rix = td_index_new(), *gix = td_index_new();
    assert_non_null(rix);
    assert_non_null(gix);
    int b = 0;
    /* held over five batches, then a crash part-way through the flush */
    for (; b < 5 * BATCH; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        s_add(got, gix, b, b + BATCH, 0, false);
    }
    s_crash_then_recover(got, &gix, 5 * BATCH);

    /* a flush cut short by failing writes, new articles (some of them
     * replacing earlier versions), then the flush completed */
    for (; b < 8 * BATCH; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        s_add(got, gix, b, b + BATCH, 0, false);
    }
    assert_int_equal(s_parts(got, gix, 3), 3);
    if (td_db_faults_armed()) {
        FILE *f = fopen(sw, "w");
        assert_non_null(f);
        fputs("index\n", f);
        fclose(f);
        assert_int_not_equal(td_db_index_write(got, s_part_fn, gix), TD_DB_OK);
        unlink(sw);
    }
    s_add(ref, rix, 0, BATCH, 1, true);   /* new versions: retired docnos */
    s_add(got, gix, 0, BATCH, 1, false);
    for (; b < 10 * BATCH; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        s_add(got, gix, b, b + BATCH, 0, false);
    }
    assert_true(s_parts(got, gix, 0) > 10);
    assert_int_equal(td_index_held(gix), 0);

    /* held again, and the rest of the documents */
    for (; b < DOCS; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        s_add(got, gix, b, b + BATCH, 0, false);
    }
    s_crash_then_recover(got, &gix, DOCS - 10 * BATCH);
    s_same_index(ref, got, true);

    unlink(sw);
    s_teardown(&rix, &gix, &ref, &got, rdir, gdir);
}

/* An index of the layout before term numbers: postings keyed by the term
 * and `terms` holding document frequencies. */
static td_db_rc s_old_layout_fn(td_txn *txn, void *arg)
{
    (void)arg;
    const td_dbi dbs[] = {TD_DBI_POSTINGS, TD_DBI_POSITIONS, TD_DBI_TERMS, TD_DBI_TERMDF};
    td_db_rc rc = TD_DB_OK;
    for (size_t i = 0; i < 4 && rc == TD_DB_OK; i++)
        rc = td_txn_drop(txn, dbs[i]);
    unsigned char df[8] = {0, 0, 0, 0, 0, 0, 0, 3}, key[16] = "kalo", block[4] = {1, 2, 3, 4};
    key[4] = 0;
    td_ix_put_u32(key + 5, 1);
    if (rc == TD_DB_OK)
        rc = td_txn_put(txn, TD_DBI_TERMS, "kalo", 4, df, 8);
    if (rc == TD_DB_OK)
        rc = td_txn_put(txn, TD_DBI_POSTINGS, key, 9, block, 4);
    return rc;
}

static td_db_rc s_upgrade_fn(td_txn *txn, void *arg)
{
    return td_index_upgrade(txn, arg);
}

/* An index of the older layout is emptied at start and rebuilt from the
 * stored articles in slices of bounded size: the same index as one written
 * as the articles came. */
static void test_old_layout_rebuilt_in_slices(void **state)
{
    (void)state;
    char rdir[] = "/tmp/td-parts-ref-XXXXXX", gdir[] = "/tmp/td-parts-got-XXXXXX";
    td_db *ref = s_open(rdir), *got = s_open(gdir);
    td_index *rix = td_index_new(), *gix = td_index_new();
    for (int b = 0; b < DOCS; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        s_add(got, gix, b, b + BATCH, 0, true);
    }
    td_index_destroy(&gix);
    assert_int_equal(td_db_write(got, s_old_layout_fn, NULL), TD_DB_OK);

    td_txn *txn;
    assert_int_equal(td_db_read_begin(got, &txn), TD_DB_OK);
    assert_true(td_index_old_layout(txn));
    td_txn_end(&txn);
    bool upgraded = false;
    assert_int_equal(td_db_write(got, s_upgrade_fn, &upgraded), TD_DB_OK);
    assert_true(upgraded);
    assert_int_equal(td_db_read_begin(got, &txn), TD_DB_OK);
    assert_false(td_index_old_layout(txn));
    assert_int_equal(td_txn_counter(txn, TD_CTR_DOC_UNINDEXED), DOCS);
    assert_int_equal(td_txn_entries(txn, TD_DBI_POSTINGS), 0);
    td_txn_end(&txn);
    /* a second start finds nothing to upgrade */
    assert_int_equal(td_db_write(got, s_upgrade_fn, &upgraded), TD_DB_OK);
    assert_false(upgraded);

    int slices = 0;
    size_t total = 0, left;
    gix = td_index_new();
    td_arena *arena = td_arena_new(64u << 20);
    for (;;) {
        assert_int_equal(td_db_read_begin(got, &txn), TD_DB_OK);
        left = td_txn_counter(txn, TD_CTR_DOC_UNINDEXED);
        size_t n = 0;
        if (left)
            assert_int_equal(td_index_recover(gix, txn, arena, 500, 0, &n), TD_DB_OK);
        td_txn_end(&txn);
        td_arena_reset(arena);
        if (!left)
            break;
        assert_true(n <= 500);
        assert_true(td_index_bytes(gix) > 0);
        td_index_committed(gix);
        s_parts(got, gix, 0);
        total += n;
        slices++;
    }
    assert_int_equal(total, DOCS);
    assert_int_equal(slices, (DOCS + 499) / 500);
    s_same_index(ref, got, false);

    td_arena_destroy(&arena);
    s_teardown(&rix, &gix, &ref, &got, rdir, gdir);
}

/* A batch of the writer's way: doc records in the transaction, postings
 * handed to the indexer's thread once it commits. */
typedef struct {
    td_index *ix;      /* doc records and retired docnos */
    td_indexer *ixr;
    td_terms *terms;
    td_arena *arena;
    int from, to, version;
    bool fail;         /* the attempt fails after handing its documents over */
} s_tbatch;

static td_db_rc s_tbatch_fn(td_txn *txn, void *arg)
{
    s_tbatch *b = arg;
    td_index_begin(b->ix);
    td_indexer_begin(b->ixr);
    td_arena_reset(b->arena);
    for (int n = b->from; n < b->to; n++) {
        td_article a = s_article(n, b->version);
        uint32_t doc = 0;
        td_terms_wire w;
        assert_int_equal(td_terms_build(b->terms, a.title, a.body, "en"), 0);
        assert_int_equal(td_terms_export(b->terms, b->arena, &w), 0);
        td_db_rc rc = td_db_article_put(txn, &a);
        if (rc == TD_DB_OK)
            rc = td_index_add_doc(b->ix, txn, &a, b->terms, &doc);
        if (rc)
            return rc;
        assert_true(doc > 0);
        assert_int_equal(td_indexer_add(b->ixr, doc, &a, &w), 0);
    }
    if (b->fail) {
        b->fail = false;
        return TD_DB_ERROR;
    }
    return TD_DB_OK;
}

static void s_tadd(td_db *db, s_tbatch *b, int from, int to, int version)
{
    b->from = from;
    b->to = to;
    b->version = version;
    if (b->fail) {
        assert_int_not_equal(td_db_write(db, s_tbatch_fn, b), TD_DB_OK);
        td_index_begin(b->ix);
    }
    assert_int_equal(td_db_write(db, s_tbatch_fn, b), TD_DB_OK);
    td_index_committed(b->ix);
    td_indexer_commit(b->ixr);
}

static uint64_t s_unindexed(td_db *db)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    uint64_t n = td_txn_counter(txn, TD_CTR_DOC_UNINDEXED);
    td_txn_end(&txn);
    return n;
}

/* Threads of this process running at nice `nice`. */
static int s_threads_at_nice(int nice)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        /* a thread's nice value, asked by its tid (a thread that ended
         * meanwhile answers -1 with errno set) */
        errno = 0;
        int value = getpriority(PRIO_PROCESS, (id_t)atoi(e->d_name));
        n += !errno && value == nice;
    }
    closedir(d);
    return n;
}

/* A reader process (as the query daemon is) that opens `dir` now, at its
 * small maps, and reads again once the pipe `go` brings the count of terms
 * it must see: by then both maps have grown under it. It exits 0 when its
 * second snapshot sees every document indexed and that many terms. */
static pid_t s_reader(const char *dir, const int go[2])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid)
        return pid;
    close(go[1]);   /* so that a parent that fails first ends the wait */
    td_db_opts o = {.dir = dir, .readonly = true};
    td_db *ro = td_db_open(&o, NULL);
    td_txn *txn;
    if (!ro || td_db_read_begin(ro, &txn) != TD_DB_OK)
        _exit(10);
    td_txn_end(&txn);
    uint64_t terms = 0;
    if (read(go[0], &terms, sizeof terms) != sizeof terms)
        _exit(11);
    if (td_db_read_begin(ro, &txn) != TD_DB_OK)
        _exit(12);
    int st = td_txn_counter(txn, TD_CTR_DOC_UNINDEXED) == 0 &&
                     td_txn_entries(txn, TD_DBI_TERMS) == terms
                 ? 0
                 : 13;
    td_txn_end(&txn);
    td_db_destroy(&ro);
    _exit(st);
}

/* Postings gathered and written on the indexer's thread while the writer
 * commits later batches (one attempt failing after handing its documents
 * over): the same index as flushing every batch in its own transaction,
 * and the counter of unindexed documents counts exactly those not written
 * yet. */
static void s_gathered(uint64_t map)
{
    char rdir[] = "/tmp/td-parts-ref-XXXXXX", gdir[] = "/tmp/td-parts-got-XXXXXX";
    td_db *ref = s_open(rdir), *got = s_open_map(gdir, map);
    td_index *rix = td_index_new(), *gix = td_index_new();
    s_tbatch tb = {.ix = gix, .ixr = td_indexer_new(got), .terms = td_terms_new(),
                   .arena = td_arena_new(64u << 20)};
    int go[2] = {-1, -1};
    pid_t reader = -1;
    if (map) {
        assert_int_equal(pipe(go), 0);
        reader = s_reader(gdir, go);
    }
    assert_non_null(tb.ixr);
    assert_non_null(tb.terms);
    assert_int_equal(td_indexer_sync(tb.ixr), TD_DB_OK);   /* nothing held */
    /* held until asked */
    td_indexer_hold(tb.ixr, SIZE_MAX, INT64_MAX / 2, SIZE_MAX);
    int b = 0;
    for (; b < 5 * BATCH; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        tb.fail = b == BATCH;
        s_tadd(got, &tb, b, b + BATCH, 0);
    }
    assert_int_equal(td_indexer_held(tb.ixr), 5 * BATCH);
    assert_true(td_indexer_bytes(tb.ixr) > 0);
    assert_int_equal(s_unindexed(got), 5 * BATCH);
    assert_int_equal(td_indexer_sync(tb.ixr), TD_DB_OK);
    assert_int_equal(td_indexer_held(tb.ixr), 0);
    assert_int_equal(s_unindexed(got), 0);
    /* the thread (it has run: it wrote them) yields to the writer: 10
     * nice steps below this one */
    int nice = getpriority(PRIO_PROCESS, 0);
    if (nice <= 9)
        assert_int_equal(s_threads_at_nice(nice + 10), 1);

    /* written by the thread every two batches, beside the writer's
     * transactions */
    td_indexer_hold(tb.ixr, 2 * BATCH, INT64_MAX / 2, SIZE_MAX);
    for (; b < 7 * BATCH; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        s_tadd(got, &tb, b, b + BATCH, 0);
    }
    s_add(ref, rix, 0, BATCH, 1, true);   /* new versions: retired docnos */
    s_tadd(got, &tb, 0, BATCH, 1);
    for (; b < DOCS; b += BATCH) {
        s_add(ref, rix, b, b + BATCH, 0, true);
        s_tadd(got, &tb, b, b + BATCH, 0);
    }
    assert_int_equal(td_indexer_sync(tb.ixr), TD_DB_OK);
    assert_int_equal(td_indexer_held(tb.ixr), 0);
    /* the thread wrote as it held two batches (before taking a third),
     * not only when asked */
    td_txn *txn;
    assert_int_equal(td_db_read_begin(got, &txn), TD_DB_OK);
    assert_true(td_txn_counter(txn, TD_CTR_INDEX_FLUSHES) >= 1 + (DOCS - 5 * BATCH) / (2 * BATCH));
    td_txn_end(&txn);
    s_same_index(ref, got, true);
    if (map) {
        /* both maps grew: the index's on the indexer's thread */
        td_stats st;
        assert_int_equal(td_db_read_begin(got, &txn), TD_DB_OK);
        td_db_stats(txn, &st);
        td_txn_end(&txn);
        assert_true(td_db_map_size(got) > map);
        assert_true(st.map_bytes - td_db_map_size(got) > map);
        /* a reader that opened the small maps reads the grown ones */
        assert_int_equal(td_db_read_begin(got, &txn), TD_DB_OK);
        uint64_t terms = td_txn_entries(txn, TD_DBI_TERMS);
        td_txn_end(&txn);
        assert_int_equal(write(go[1], &terms, sizeof terms), sizeof terms);
        int ws;
        assert_int_equal(waitpid(reader, &ws, 0), reader);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 0);
        close(go[0]);
        close(go[1]);
    }

    td_indexer_destroy(&tb.ixr);
    td_terms_destroy(&tb.terms);
    td_arena_destroy(&tb.arena);
    s_teardown(&rix, &gix, &ref, &got, rdir, gdir);
}

static void test_gathered_on_thread(void **state)
{
    (void)state;
    s_gathered(0);
}

/* The same with maps far too small for the index: the indexer's thread
 * finds the index's map full, grows it and writes the part again, while
 * the writer grows the main map on its own thread. */
static void test_gathered_on_thread_small_maps(void **state)
{
    (void)state;
    s_gathered(128u << 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts_equal_one_flush),
        cmocka_unit_test(test_old_layout_rebuilt_in_slices),
        cmocka_unit_test(test_gathered_on_thread),
        cmocka_unit_test(test_gathered_on_thread_small_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
