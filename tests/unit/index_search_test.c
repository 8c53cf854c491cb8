/* index_search_test.c — the index writer (store/index.c) and ranked
 * evaluation (query/search.c) over a real LMDB environment: top-k with
 * block-max pruning returns exactly the hits of an exhaustive evaluation,
 * replaced versions never match, cursors page without overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "index.h"
#include "index_read.h"
#include "qparse.h"
#include "search.h"
#include "search_par.h"

#define DOCS 12000
#define BATCH 500
#define VOCAB 300

static const char *SYL[] = {"ka", "lo", "mi", "ra", "ten", "dor", "vel", "sa", "nu", "pri",
                            "ost", "gal", "ber", "ith", "mar", "zen"};

static uint64_t s_rng = 88172645463325252ull;
static uint32_t s_rand(uint32_t n)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng % n);
}

static void s_word(uint32_t i, char *out)
{
    snprintf(out, 32, "%s%s%s", SYL[i % 16], SYL[(i / 16) % 16], i >= 256 ? "q" : "");
}

/* Zipf-like: many common words, a long tail. */
static uint32_t s_zipf(void)
{
    double u = (double)s_rand(1000000) / 1e6;
    return (uint32_t)(VOCAB * u * u * u) % VOCAB;
}

typedef struct {
    td_index *ix;
    int from, to;
    int version;             /* 1: rewrite some articles (updates) */
} s_load;

static char s_title[256], s_body[8192];

static void s_text(int n, int version)
{
    char w[32];
    s_title[0] = s_body[0] = 0;
    for (int i = 0; i < 4; i++) {
        s_word(s_zipf(), w);
        strcat(s_title, w);
        strcat(s_title, " ");
    }
    int len = 40 + (int)s_rand(160);
    for (int i = 0; i < len; i++) {
        s_word(s_zipf(), w);
        strcat(s_body, w);
        strcat(s_body, i % 12 == 11 ? ". " : " ");
    }
    if (version)
        strcat(s_body, "replacementword");
    else if (n % 7 == 0)
        strcat(s_body, "originalword");
}

static td_db_rc s_write(td_txn *txn, void *arg)
{
    s_load *l = arg;
    td_index_reset(l->ix);
    for (int n = l->from; n < l->to; n++) {
        char id[32];
        snprintf(id, sizeof id, "a%d", l->version ? n * 7 : n);
        s_text(n, l->version);
        td_article a = {.id = id, .source = "Src", .title = s_title, .body = s_body,
                        .lang = "en", .published_at = 1700000000000LL + n};
        td_db_rc rc = td_index_add(l->ix, txn, &a);
        if (rc)
            return rc;
    }
    return td_index_flush(l->ix, txn);
}

static char s_dir[] = "/tmp/td-index-search-XXXXXX";
static td_db *s_db;

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(s_dir))
        return -1;
    td_db_opts o = {.dir = s_dir, .sync = TD_SYNC_NOSYNC};
    td_db_rc rc;
    s_db = td_db_open(&o, &rc);
    td_index *ix = td_index_new();
    if (!s_db || !ix)
        return -1;
    for (int b = 0; b < DOCS; b += BATCH) {
        s_load l = {.ix = ix, .from = b, .to = b + BATCH};
        if (td_db_write(s_db, s_write, &l) != TD_DB_OK)
            return -1;
    }
    /* every 7th article gets a new version (a later, separate batch) */
    s_load l = {.ix = ix, .from = 0, .to = DOCS / 7, .version = 1};
    if (td_db_write(s_db, s_write, &l) != TD_DB_OK)
        return -1;
    td_index_destroy(&ix);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    td_db_destroy(&s_db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_run(td_txn *txn, td_arena *arena, const char *q, bool count, uint32_t k,
                  td_search_res *res, td_search_stats *st, const td_search_opts *base)
{
    static td_tokenizer *tk;
    if (!tk)
        tk = td_tokenizer_new();
    td_qparsed qp;
    assert_int_equal(td_qparse(q, strlen(q), tk, "en", arena, &qp), 0);
    td_search_opts o = base ? *base : (td_search_opts){0};
    if (!base)
        o.since = o.until = TD_TIME_NONE;
    o.k = k;
    o.count = count;
    assert_int_equal(td_search_exec(txn, arena, &qp, &o, st, res), 0);
}

/* The same hits, in the same order, with exactly the same scores. */
static void s_assert_same_hits(const char *q, const td_search_res *a, const td_search_res *b)
{
    if (a->n != b->n)
        fail_msg("%s: %zu hits against %zu", q, a->n, b->n);
    for (size_t j = 0; j < a->n; j++)
        if (a->hits[j].doc != b->hits[j].doc || a->hits[j].score != b->hits[j].score)
            fail_msg("%s: hit %zu is doc %u (%.9g) against doc %u (%.9g)", q, j,
                     a->hits[j].doc, (double)a->hits[j].score, b->hits[j].doc,
                     (double)b->hits[j].score);
}

static void test_pruned_equals_exhaustive(void **state)
{
    (void)state;
    td_txn *txn;
    assert_int_equal(td_db_read_begin(s_db, &txn), TD_DB_OK);
    td_arena *arena = td_arena_new(64u << 20);
    char q[128], w1[32], w2[32], w3[32];
    int pruned = 0;
    for (int i = 0; i < 120; i++) {
        s_word((uint32_t)(i % 3 == 0 ? s_rand(8) : s_rand(40)), w1);
        s_word((uint32_t)s_rand(i % 2 ? 10 : 120), w2);
        s_word((uint32_t)s_rand(30), w3);
        switch (i % 4) {
        case 0: snprintf(q, sizeof q, "%s", w1); break;
        case 1: snprintf(q, sizeof q, "%s %s", w1, w2); break;
        case 2: snprintf(q, sizeof q, "%s %s %s", w1, w2, w3); break;
        default: snprintf(q, sizeof q, "%s OR %s %s", w1, w2, w3); break;
        }
        td_search_res a, b;
        td_search_stats sa, sb;
        s_run(txn, arena, q, false, 10, &a, &sa, NULL);
        s_run(txn, arena, q, true, 10, &b, &sb, NULL);
        assert_true(b.exact);
        pruned += !a.exact;
        s_assert_same_hits(q, &a, &b);
        assert_true(a.total >= (a.exact ? b.total : 0));
        if (a.exact)
            assert_int_equal(a.total, b.total);
        td_arena_reset(arena);
    }
    assert_true(pruned > 20);   /* the test did exercise pruning */
    td_arena_destroy(&arena);
    td_txn_end(&txn);
}

/* AND queries of common words (the lead's candidates checked against the
 * other terms' bounds at the candidate's length, td_plist_bound_len), for
 * several k: the pruned hits are the exhaustive ones. */
static void test_pruned_common_terms(void **state)
{
    (void)state;
    td_txn *txn;
    assert_int_equal(td_db_read_begin(s_db, &txn), TD_DB_OK);
    td_arena *arena = td_arena_new(64u << 20);
    char q[128], w1[32], w2[32], w3[32];
    static const uint32_t ks[] = {1, 3, 10, 40};
    int pruned = 0;
    for (int i = 0; i < 400; i++) {
        s_word(s_rand(12), w1);
        s_word(s_rand(i % 3 ? 12 : 60), w2);
        s_word(s_rand(25), w3);
        if (i % 4 == 3)
            snprintf(q, sizeof q, "%s %s %s", w1, w2, w3);
        else
            snprintf(q, sizeof q, "%s %s", w1, w2);
        uint32_t k = ks[i % 4];
        td_search_res a, b;
        td_search_stats sa, sb;
        s_run(txn, arena, q, false, k, &a, &sa, NULL);
        s_run(txn, arena, q, true, k, &b, &sb, NULL);
        pruned += !a.exact;
        s_assert_same_hits(q, &a, &b);
        td_arena_reset(arena);
    }
    assert_true(pruned > 100);
    td_arena_destroy(&arena);
    td_txn_end(&txn);
}

/* A query split with the helper thread (the upper half of the docnos in
 * its own snapshot, the k-th score shared) gives the hits, scores, `more`
 * and, when exact, the total of the serial evaluation: AND, OR, NOT,
 * phrases, several k, and the second page of each. */
static void test_split_equals_serial(void **state)
{
    (void)state;
    td_search_par *par = td_search_par_new(1);
    assert_non_null(par);
    td_txn *txn;
    assert_int_equal(td_db_read_begin(s_db, &txn), TD_DB_OK);
    td_arena *arena = td_arena_new(64u << 20);
    char q[160], w1[32], w2[32], w3[32];
    static const uint32_t ks[] = {1, 5, 10, 40};
    uint64_t splits = 0;
    for (int i = 0; i < 240; i++) {
        s_word(s_rand(10), w1);
        s_word(s_rand(i % 3 ? 12 : 80), w2);
        s_word(s_rand(30), w3);
        switch (i % 6) {
        case 0: snprintf(q, sizeof q, "%s", w1); break;
        case 1: snprintf(q, sizeof q, "%s %s", w1, w2); break;
        case 2: snprintf(q, sizeof q, "%s %s %s", w1, w2, w3); break;
        case 3: snprintf(q, sizeof q, "%s OR %s %s", w1, w2, w3); break;
        case 4: snprintf(q, sizeof q, "%s %s -%s", w1, w2, w3); break;
        default: snprintf(q, sizeof q, "%s \"%s %s\"", w1, w2, w3); break;
        }
        uint32_t k = ks[i % 4];
        td_search_opts base = {.since = TD_TIME_NONE, .until = TD_TIME_NONE};
        td_search_stats sa, sb;   /* pinned by the first page */
        for (int page = 0; page < 2; page++) {
            td_search_res a, b;
            uint64_t before = td_search_par_parts(par);
            td_search_opts with = base;
            with.par = par;
            s_run(txn, arena, q, false, k, &a, &sa, &with);
            splits += td_search_par_parts(par) - before;
            s_run(txn, arena, q, false, k, &b, &sb, &base);
            s_assert_same_hits(q, &a, &b);
            assert_int_equal(a.more, b.more);
            if (a.exact && b.exact)
                assert_int_equal(a.total, b.total);
            if (!a.n || !a.more)
                break;
            /* the next page, from the last hit (stats pinned as a cursor does) */
            base.after = base.pinned = true;
            base.after_score = a.hits[a.n - 1].score;
            base.after_doc = a.hits[a.n - 1].doc;
        }
        td_arena_reset(arena);
    }
    assert_true(splits > 100);   /* the helper did take parts */
    td_arena_destroy(&arena);
    td_txn_end(&txn);
    td_search_par_destroy(&par);
    assert_null(par);
}

static void test_replaced_versions(void **state)
{
    (void)state;
    td_txn *txn;
    assert_int_equal(td_db_read_begin(s_db, &txn), TD_DB_OK);
    td_arena *arena = td_arena_new(64u << 20);
    td_search_res r;
    td_search_stats st;
    /* a0, a7, ... a(7 (DOCS/7 - 1)) were rewritten: their new word
     * matches them once each, the old one only the multiple of 7 that was
     * not rewritten (a11998) */
    s_run(txn, arena, "replacementword", true, 5000, &r, &st, NULL);
    assert_int_equal(r.total, DOCS / 7);
    s_run(txn, arena, "originalword", true, 5000, &r, &st, NULL);
    assert_int_equal(r.total, (DOCS + 6) / 7 - DOCS / 7);
    assert_int_equal(r.n, 1);
    /* the old versions are no longer live documents */
    td_ix_doc d;
    assert_int_equal(td_ix_doc_get(txn, r.hits[0].doc, &d), TD_DB_OK);
    assert_int_equal((int)d.idlen, 6);
    assert_memory_equal(d.id, "a11998", 6);
    assert_true(r.exact);
    td_arena_destroy(&arena);
    td_txn_end(&txn);
}

static void test_paging(void **state)
{
    (void)state;
    td_txn *txn;
    assert_int_equal(td_db_read_begin(s_db, &txn), TD_DB_OK);
    td_arena *arena = td_arena_new(256u << 20);
    char w1[32], w2[32], q[80];
    s_word(1, w1);
    s_word(3, w2);
    snprintf(q, sizeof q, "%s %s", w1, w2);
    td_search_res all, page;
    td_search_stats st, st2;
    s_run(txn, arena, q, true, 200, &all, &st, NULL);
    assert_true(all.n == 200);
    td_search_opts o = {.since = TD_TIME_NONE, .until = TD_TIME_NONE};
    size_t seen = 0;
    while (seen < 200) {
        s_run(txn, arena, q, false, 25, &page, &st2, seen ? &o : NULL);
        if (!seen)
            o.pinned = true, o.after = true;
        for (size_t j = 0; j < page.n; j++)
            assert_int_equal(page.hits[j].doc, all.hits[seen + j].doc);
        seen += page.n;
        o.after_score = page.hits[page.n - 1].score;
        o.after_doc = page.hits[page.n - 1].doc;
        memcpy(&st2, &st, sizeof st);
    }
    td_arena_destroy(&arena);
    td_txn_end(&txn);
}

/* All docnos of `term`, read from the postings database directly. */
static size_t s_all_docnos(td_txn *txn, const char *term, uint32_t *out, size_t cap)
{
    unsigned char key[TD_IX_KEY];
    uint32_t no;
    assert_true(td_ix_term_no(txn, term, strlen(term), &no));
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
        for (int i = 0; i < m && n < cap; i++)
            out[n++] = doc[i];
    }
    td_cur_close(&cur);
    return n;
}

/* The posting cursor (sequential steps with a look-ahead cursor running
 * in front, B-tree seeks for far jumps, several lists at once) finds the
 * same docnos as reading the blocks directly, for every kind of stride. */
static void test_plist_walks(void **state)
{
    (void)state;
    td_txn *txn;
    assert_int_equal(td_db_read_begin(s_db, &txn), TD_DB_OK);
    td_arena *arena = td_arena_new(16u << 20);
    static uint32_t ref[3][DOCS * 2];
    size_t nref[3];
    char w[3][32];
    for (int t = 0; t < 3; t++) {
        s_word((uint32_t)(t == 0 ? 0 : t == 1 ? 1 : 150), w[t]);
        nref[t] = s_all_docnos(txn, w[t], ref[t], DOCS * 2);
    }
    assert_true(nref[0] > 20 * TD_IX_BLOCK);   /* many blocks to walk */
    for (int pass = 0; pass < 6; pass++) {
        td_plist *pl[3];
        for (int t = 0; t < 3; t++)
            assert_non_null(pl[t] = td_plist_open(txn, arena, w[t], strlen(w[t])));
        uint32_t d[3] = {1, 1, 1};
        bool over[3] = {false, false, false};
        while (!over[0] || !over[1] || !over[2]) {
            for (int t = 0; t < 3; t++) {
                if (over[t])
                    continue;
                size_t i = 0;
                while (i < nref[t] && ref[t][i] < d[t])
                    i++;
                uint32_t want = i < nref[t] ? ref[t][i] : TD_IX_NONE;
                td_ix_header h;
                if (pass % 2 && td_plist_block(pl[t], d[t], &h))   /* headers first */
                    assert_true(h.last >= d[t] && (want == TD_IX_NONE || h.first <= want));
                uint32_t got = td_plist_next_geq(pl[t], d[t]);
                assert_int_equal(got, want);
                if (got == TD_IX_NONE) {
                    over[t] = true;
                    continue;
                }
                /* strides: next posting, within a block, a few blocks, far */
                uint32_t r = s_rand(16);
                d[t] = got + (r < 8 ? 1 : r < 12 ? 1 + s_rand(300) : r < 15 ? 1 + s_rand(3000)
                                                                       : 1 + s_rand(20000));
            }
        }
        for (int t = 0; t < 3; t++)
            td_plist_close(pl[t]);
    }
    td_arena_destroy(&arena);
    td_txn_end(&txn);
}

/* Phrases over a store written in batches of 1 to 13 articles (each
 * term's last block rewritten many times: its positions appended to as
 * bytes) match a brute-force check of the texts, and so do single words. */
#define PH_DOCS 1500
#define PH_VOCAB 12
static char s_ph_title[PH_DOCS][64], s_ph_body[PH_DOCS][2048];

typedef struct {
    td_index *ix;
    int from, to;
} s_ph_load;

static td_db_rc s_ph_write(td_txn *txn, void *arg)
{
    s_ph_load *l = arg;
    td_index_reset(l->ix);
    for (int n = l->from; n < l->to; n++) {
        char id[32];
        snprintf(id, sizeof id, "p%d", n);
        td_article a = {.id = id, .title = s_ph_title[n], .body = s_ph_body[n], .lang = "en",
                        .published_at = 1700000000000LL + n};
        td_db_rc rc = td_index_add(l->ix, txn, &a);
        if (rc)
            return rc;
    }
    return td_index_flush(l->ix, txn);
}

/* Does " a b " (or " a " when b is NULL) occur in the padded text? */
static bool s_has(const char *text, const char *a, const char *b)
{
    char pat[80], padded[2100];
    size_t n = strlen(text);
    if (n > sizeof padded - 3)
        n = sizeof padded - 3;
    padded[0] = ' ';
    memcpy(padded + 1, text, n);
    memcpy(padded + 1 + n, " ", 2);
    if (b)
        snprintf(pat, sizeof pat, " %s %s ", a, b);
    else
        snprintf(pat, sizeof pat, " %s ", a);
    return strstr(padded, pat) != NULL;
}

static void test_phrases_small_batches(void **state)
{
    (void)state;
    char dir[] = "/tmp/td-index-phrase-XXXXXX";
    assert_non_null(mkdtemp(dir));
    td_db_opts o = {.dir = dir, .sync = TD_SYNC_NOSYNC};
    td_db_rc rc;
    td_db *db = td_db_open(&o, &rc);
    td_index *ix = td_index_new();
    assert_non_null(db);
    assert_non_null(ix);
    /* words: "kaka" .. vocabulary of real words the stemmer leaves alone */
    static const char *V[PH_VOCAB] = {"kalo", "mira", "tendo", "velsa", "nupri", "galber",
                                      "marzen", "dorka", "lomi", "sanu", "prika", "bergal"};
    for (int n = 0; n < PH_DOCS; n++) {
        s_ph_title[n][0] = s_ph_body[n][0] = 0;
        for (int i = 0; i < 3; i++) {
            strcat(s_ph_title[n], V[s_rand(PH_VOCAB)]);
            strcat(s_ph_title[n], i < 2 ? " " : "");
        }
        int len = 5 + (int)s_rand(n % 5 ? 40 : 200);
        for (int i = 0; i < len; i++) {
            strcat(s_ph_body[n], V[s_zipf() % PH_VOCAB]);
            strcat(s_ph_body[n], i < len - 1 ? " " : "");
        }
    }
    for (int from = 0; from < PH_DOCS;) {
        int to = from + 1 + (int)s_rand(13);
        s_ph_load l = {.ix = ix, .from = from, .to = to < PH_DOCS ? to : PH_DOCS};
        assert_int_equal(td_db_write(db, s_ph_write, &l), TD_DB_OK);
        from = l.to;
    }
    td_txn *txn;
    assert_int_equal(td_db_read_begin(db, &txn), TD_DB_OK);
    td_arena *arena = td_arena_new(64u << 20);
    char q[80];
    for (int i = 0; i < PH_VOCAB; i++)
        for (int j = -1; j < PH_VOCAB; j++) {
            if (j < 0)
                snprintf(q, sizeof q, "%s", V[i]);
            else
                snprintf(q, sizeof q, "\"%s %s\"", V[i], V[j]);
            uint64_t want = 0;
            for (int n = 0; n < PH_DOCS; n++)
                want += s_has(s_ph_title[n], V[i], j < 0 ? NULL : V[j]) ||
                        s_has(s_ph_body[n], V[i], j < 0 ? NULL : V[j]);
            td_search_res r;
            td_search_stats st;
            s_run(txn, arena, q, true, 10, &r, &st, NULL);
            if (r.total != want) {
                fprintf(stderr, "query %s: %llu matches, want %llu\n", q,
                        (unsigned long long)r.total, (unsigned long long)want);
                s_run(txn, arena, q, true, 2000, &r, &st, NULL);
                for (size_t h = 0; h < r.n; h++) {
                    td_ix_doc d;
                    char idb[32] = {0};
                    assert_int_equal(td_ix_doc_get(txn, r.hits[h].doc, &d), TD_DB_OK);
                    memcpy(idb, d.id, d.idlen < 31 ? d.idlen : 31);
                    int n = atoi(idb + 1);
                    if (!(s_has(s_ph_title[n], V[i], j < 0 ? NULL : V[j]) ||
                        s_has(s_ph_body[n], V[i], j < 0 ? NULL : V[j])))
                        fprintf(stderr, "doc %u %.*s title [%s] body [%s]\n", r.hits[h].doc, (int)d.idlen, d.id, s_ph_title[n], s_ph_body[n]);
                }
            }
            assert_int_equal(r.total, want);
            td_arena_reset(arena);
        }
    td_arena_destroy(&arena);
    td_txn_end(&txn);
    td_index_destroy(&ix);
    td_db_destroy(&db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruned_equals_exhaustive),
        cmocka_unit_test(test_pruned_common_terms),
        cmocka_unit_test(test_split_equals_serial),
        cmocka_unit_test(test_replaced_versions),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_plist_walks),
        cmocka_unit_test(test_phrases_small_batches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
