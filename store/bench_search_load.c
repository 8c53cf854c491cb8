/* bench_search_load.c — load a benchmark corpus in-process, fast.
 *
 * scripts/bench-search needs a million articles in a data directory; over
 * the daemons that takes far longer than the measurement itself. This
 * loader runs the same code the daemons run — the ingest worker's
 * td_prepare (validation and the whole text analysis) and the store's
 * td_writer (keys, events, provenance, ledger, search index, LMDB commits
 * of BATCH articles) — in one process without sockets: one thread analyses,
 * the main thread writes, handing over batches. Not part of the test suite.
 *
 *   bench-search-load [--index-only] [--batch N] DATA_DIR < FRAMES
 *
 * --index-only skips the event machinery of td_writer (keys, clustering,
 * provenance, ledger, notifications): each batch's transaction only stores
 * the analysed articles (td_db_article_put) and indexes them (td_index_add,
 * td_index_flush) — the index is built by the same code as in the store.
 * It exists because the full writer path loads a million articles far
 * slower than the measurement takes; outputs say which path was used.
 * It also prints the index writer's own time per article (td_index_add and
 * td_index_flush apart), with --batch N articles per commit (default and
 * at most 1000; the store's commits under a PUSH feed are smaller) — the
 * micro-benchmark of the index write path.
 *
 * FRAMES: u32 little-endian length + msgpack submission map, repeated.
 * Durability: nosync (as `tidings-store --sync nosync`). Prints the rate.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "index.h"
#include "prepare.h"
#include "terms.h"
#include "writer.h"

#define BATCH 1000
#define MAX_FRAME (1u << 20)

typedef struct {
    unsigned char *buf;
    size_t len, cap;
    size_t off[BATCH + 1];
    size_t n;
    bool last;
} s_batch;

static s_batch s_b[2];
static int s_ready[2];          /* 1: full batch waiting for the writer */
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_cv = PTHREAD_COND_INITIALIZER;
static long s_bad;
static size_t s_batch_n = BATCH;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_append(s_batch *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        unsigned char *nb = realloc(b->buf, cap);
        if (!nb)
            return -1;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->off[++b->n] = b->len;
    return 0;
}

/* Analysis thread: frames from stdin -> prepared store messages. */
static void *s_analyse(void *arg)
{
    (void)arg;
    td_prepare *pr = td_prepare_new(MAX_FRAME, NULL);
    unsigned char *frame = malloc(MAX_FRAME);
    int cur = 0;
    bool eof = pr == NULL || frame == NULL;
    for (;;) {
        pthread_mutex_lock(&s_mu);
        while (s_ready[cur])
            pthread_cond_wait(&s_cv, &s_mu);
        pthread_mutex_unlock(&s_mu);
        s_batch *b = &s_b[cur];
        b->n = b->len = 0;
        b->off[0] = 0;
        while (!eof && b->n < s_batch_n) {
            unsigned char h[4];
            if (fread(h, 1, 4, stdin) != 4) {
                eof = true;
                break;
            }
            uint32_t n = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                         (uint32_t)h[3] << 24;
            if (n > MAX_FRAME || fread(frame, 1, n, stdin) != n) {
                fprintf(stderr, "bench-search-load: bad frame\n");
                eof = true;
                break;
            }
            td_error err;
            if (td_prepare_article(pr, frame, n, 0, &err) != 0) {
                s_bad++;
                continue;
            }
            size_t ml;
            const void *m = td_prepare_message(pr, &ml);
            if (s_append(b, m, ml) != 0) {
                eof = true;
                break;
            }
        }
        b->last = eof;
        pthread_mutex_lock(&s_mu);
        s_ready[cur] = 1;
        pthread_cond_broadcast(&s_cv);
        pthread_mutex_unlock(&s_mu);
        cur ^= 1;
        if (eof)
            break;
    }
    free(frame);
    td_prepare_destroy(&pr);
    return NULL;
}

/* --index-only: one batch = one transaction of article puts + index. */
typedef struct {
    td_index *ix;
    td_terms *terms;         /* the article's tokens (the store gets them from ingest) */
    td_arena *arena;
    const s_batch *b;
    long stored;
    double t_add, t_flush;   /* seconds in td_index_add / td_index_flush */
} s_ionly;

static td_db_rc s_ionly_write(td_txn *txn, void *arg)
{
    s_ionly *x = arg;
    td_index_reset(x->ix);
    td_arena_reset(x->arena);
    x->stored = 0;
    int64_t now = (int64_t)(s_now() * 1000);
    for (size_t i = 0; i < x->b->n; i++) {
        td_store_msg m;
        td_error err;
        if (td_store_msg_decode(x->b->buf + x->b->off[i], x->b->off[i + 1] - x->b->off[i],
                                x->arena, &m, &err) != 0 || !m.article)
            continue;
        td_article *a = m.article;
        a->ingested_at = now;
        td_db_rc rc = td_db_article_put(txn, a);
        if (rc == TD_DB_OK) {
            if (td_terms_build(x->terms, a->title, a->body, a->lang) != 0)
                return TD_DB_ERROR;
            double t = s_now();
            rc = td_index_add_terms(x->ix, txn, a, x->terms);
            x->t_add += s_now() - t;
        }
        if (rc != TD_DB_OK)
            return rc;
        td_txn_counter_add(txn, TD_CTR_ARTICLES, 1);   /* `stats` counts them */
        td_txn_counter_add(txn, TD_CTR_STORED, 1);
        x->stored++;
    }
    double t = s_now();
    td_db_rc rc = td_index_flush(x->ix, txn);
    x->t_flush += s_now() - t;
    return rc;
}

int main(int argc, char **argv)
{
    bool ionly = false;
    int a = 1;
    for (; a < argc - 1; a++) {
        if (strcmp(argv[a], "--index-only") == 0) {
            ionly = true;
        } else if (strcmp(argv[a], "--batch") == 0 && a + 1 < argc - 1) {
            long n = atol(argv[++a]);
            s_batch_n = n >= 1 && n <= BATCH ? (size_t)n : BATCH;
        } else {
            break;
        }
    }
    if (a != argc - 1) {
        fprintf(stderr, "usage: bench-search-load [--index-only] [--batch N] DATA_DIR < FRAMES\n");
        return 2;
    }
    td_db_opts o = {.dir = argv[argc - 1], .sync = TD_SYNC_NOSYNC};
    td_db_rc rc;
    td_db *db = td_db_open(&o, &rc);
    td_writer *w = db ? td_writer_new(db) : NULL;
    s_ionly x = {.ix = td_index_new(), .terms = td_terms_new(),
                 .arena = td_arena_new((size_t)1 << 31)};
    if (!w || !x.ix || !x.terms || !x.arena) {
        fprintf(stderr, "bench-search-load: cannot open %s: %s\n", argv[argc - 1], td_db_strerror(rc));
        return 1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, s_analyse, NULL) != 0)
        return 1;
    double t0 = s_now(), tw = 0;
    long total = 0, ionly_stored = 0;
    long p_total = 0;                        /* the last progress line's */
    double p_t = t0, p_add = 0, p_flush = 0;
    int cur = 0;
    for (;;) {
        pthread_mutex_lock(&s_mu);
        while (!s_ready[cur])
            pthread_cond_wait(&s_cv, &s_mu);
        pthread_mutex_unlock(&s_mu);
        s_batch *b = &s_b[cur];
        double t1 = s_now();
        if (ionly) {
            x.b = b;
            if (b->n && td_db_write(db, s_ionly_write, &x) != TD_DB_OK) {
                fprintf(stderr, "bench-search-load: commit failed\n");
                return 1;
            }
            if (b->n)
                ionly_stored += x.stored;
        }
        for (size_t i = 0; i < b->n && !ionly; i++)
            if (td_writer_add(w, NULL, 0, b->buf + b->off[i], b->off[i + 1] - b->off[i],
                              (int64_t)(s_now() * 1000)) != 0) {
                fprintf(stderr, "bench-search-load: out of memory\n");
                return 1;
            }
        if (b->n && !ionly && td_writer_commit(w, NULL, false) != TD_DB_OK) {
            fprintf(stderr, "bench-search-load: commit failed\n");
            return 1;
        }
        tw += s_now() - t1;
        total += (long)b->n;
        bool last = b->last;
        pthread_mutex_lock(&s_mu);
        s_ready[cur] = 0;
        pthread_cond_broadcast(&s_cv);
        pthread_mutex_unlock(&s_mu);
        cur ^= 1;
        if (total % 100000 < BATCH && b->n) {
            /* the index writer's cost over the last interval: its growth
             * with the archive is what the per-interval figures show */
            double now = s_now();
            long dn = total - p_total;
            if (ionly && dn > 0)
                fprintf(stderr, "bench-search-load: %ld articles, %.0f/s (last %ld: %.0f/s, "
                        "add %.1f us, flush %.1f us per article)\n", total,
                        (double)total / (now - t0), dn, (double)dn / (now - p_t),
                        (x.t_add - p_add) * 1e6 / (double)dn,
                        (x.t_flush - p_flush) * 1e6 / (double)dn);
            else
                fprintf(stderr, "bench-search-load: %ld articles, %.0f/s\n", total,
                        (double)total / (now - t0));
            p_total = total;
            p_t = now;
            p_add = x.t_add;
            p_flush = x.t_flush;
        }
        if (last)
            break;
    }
    pthread_join(th, NULL);
    double secs = s_now() - t0;
    td_writer_totals tot;
    td_writer_totals_get(w, &tot);
    if (ionly)
        tot.stored = (uint64_t)ionly_stored;
    printf("loaded %ld articles (%s; stored %llu, updated %llu, bad %ld) in %.1f s: %.0f/s, "
           "writer busy %.1f s\n",
           total, ionly ? "index-only: article records + search index" : "full td_writer",
           (unsigned long long)tot.stored, (unsigned long long)tot.updated, s_bad, secs,
           (double)total / secs, tw);
    if (ionly && total)
        printf("index writer: td_index_add_terms %.1f us/article, td_index_flush %.1f us/article "
               "(%zu per commit)\n",
               x.t_add * 1e6 / (double)total, x.t_flush * 1e6 / (double)total, s_batch_n);
    td_index_destroy(&x.ix);
    td_terms_destroy(&x.terms);
    td_arena_destroy(&x.arena);
    td_writer_destroy(&w);
    td_db_destroy(&db);
    for (int i = 0; i < 2; i++)
        free(s_b[i].buf);
    return 0;
}
