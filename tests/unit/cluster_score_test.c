/* cluster_score_test.c — the candidate index's scores (store/cluster_index.c):
 * what td_cluster_best and td_cluster_related report for events held in the
 * index is exactly what td_cluster_score computes from their stored state
 * (the index keeps centroids in its own layout, with a hash filter, norms
 * computed ahead and events skipped when they cannot pass the runner-up;
 * none of that may move a score or a choice). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "cluster_int.h"
#include "db.h"
#include "store_fixture.h"

#define HOUR 3600000LL
#define T0 1700000000000LL
#define N_EVENTS 40

typedef struct {
    char dir[64];
    td_db *db;
    td_cluster *cl;
    td_arena *arena;
    td_cstate st[N_EVENTS];
    char ids[N_EVENTS][16];
    /* every hash each event's centroid ever had: the index's postings of
     * hashes a centroid dropped stay until compaction (none here), and
     * still find the event as a candidate */
    uint64_t ever[N_EVENTS][1024];
    size_t n_ever[N_EVENTS];
    uint64_t vec_gen;
} s_fx;

static void s_ever_add(s_fx *fx, int e, uint64_t h)
{
    for (size_t i = 0; i < fx->n_ever[e]; i++)
        if (fx->ever[e][i] == h)
            return;
    assert_true(fx->n_ever[e] < sizeof fx->ever[e] / sizeof fx->ever[e][0]);
    fx->ever[e][fx->n_ever[e]++] = h;
}

static void s_ever_note(s_fx *fx, int e)
{
    for (size_t i = 0; i < fx->st[e].n_terms; i++)
        s_ever_add(fx, e, fx->st[e].terms[i].h);
    for (size_t i = 0; i < fx->st[e].n_ents; i++)
        s_ever_add(fx, e, fx->st[e].ents[i].h);
}

static uint64_t s_rng = 0x9E3779B97F4A7C15ull;
static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* Term hashes from a small vocabulary, so vectors overlap. */
static uint64_t s_term(unsigned i)
{
    return 0x100000001B3ull * (i + 1) ^ 0xABCDEF;
}

static int s_setup(void **state)
{
    s_fx *fx = calloc(1, sizeof *fx);
    td_fx_mkdir(fx->dir, "td-cls");
    td_db_opts o = {.dir = fx->dir, .sync = TD_SYNC_NOSYNC, .map_size = 64 << 20};
    fx->db = td_db_open(&o, NULL);
    assert_non_null(fx->db);
    fx->cl = td_cluster_new(NULL);
    assert_non_null(fx->cl);
    fx->arena = td_arena_new(0);
    assert_non_null(fx->arena);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx *fx = *state;
    td_cluster_destroy(&fx->cl);
    td_arena_destroy(&fx->arena);
    td_db_destroy(&fx->db);
    td_fx_rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Events spread over 60 hours, centroids of 96 terms drawn from 300 words
 * (heaviest first) and a few entities; a third of them share a story. */
static td_db_rc s_put_events(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    td_db_rc rc = td_cluster_ready(fx->cl, txn);
    if (rc)
        return rc;
    for (int e = 0; e < N_EVENTS; e++) {
        td_cstate *s = &fx->st[e];
        memset(s, 0, sizeof *s);
        snprintf(fx->ids[e], sizeof fx->ids[e], "e%d", e + 1);
        s->id = fx->ids[e];
        s->story = e % 3 == 0 ? "s1" : fx->ids[e];
        s->first = T0 + (int64_t)(e * 3 / 2) * HOUR;
        s->last = s->first + (int64_t)(s_next() % 5) * HOUR;
        s->articles = 1 + (uint32_t)(s_next() % 9);
        s->n_terms = TD_CLUSTER_TERMS;
        float w = 3.0f;
        for (size_t i = 0; i < s->n_terms; i++) {
            unsigned t;
            bool dup;
            do {
                t = (unsigned)(s_next() % 300);
                dup = false;
                for (size_t k = 0; k < i && !dup; k++)
                    dup = s->terms[k].h == s_term(t);
            } while (dup);
            w *= 0.97f;
            s->terms[i] = (td_cterm){.h = s_term(t), .w = w};
        }
        s->n_ents = 3;
        for (size_t i = 0; i < s->n_ents; i++)
            s->ents[i] = (td_cterm){.h = s_term(1000 + (unsigned)(s_next() % 20)) + i,
                                    .w = 1.0f};
        s_ever_note(fx, e);
        if ((rc = td_cluster_put(fx->cl, txn, s)) != TD_DB_OK)
            return rc;
    }
    return TD_DB_OK;
}

static bool s_has_term(const td_cstate *s, uint64_t h)
{
    for (size_t k = 0; k < s->n_terms; k++)
        if (s->terms[k].h == h)
            return true;
    return false;
}

/* Change every centroid as merges do: weights of kept terms move, a
 * fifth of the terms leave and others (some that left before) come in,
 * one entity is swapped; the index updates its slots and postings. */
static td_db_rc s_change_events(td_txn *txn, void *arg)
{
    s_fx *fx = arg;
    for (int e = 0; e < N_EVENTS; e++) {
        td_cstate *s = &fx->st[e];
        size_t w = 0;
        for (size_t i = 0; i < s->n_terms; i++) {
            if (s_next() % 5 == 0)
                continue;
            s->terms[w] = s->terms[i];
            s->terms[w++].w *= 0.5f + (float)(s_next() % 100) / 100.0f;
        }
        s->n_terms = w;
        while (s->n_terms < TD_CLUSTER_TERMS) {
            uint64_t h = s_term((unsigned)(s_next() % 300));
            if (!s_has_term(s, h))
                s->terms[s->n_terms++] = (td_cterm){.h = h, .w = 0.5f + (float)(s_next() % 300) / 100.0f};
        }
        s->ents[s_next() % s->n_ents].h = s_term(1000 + (unsigned)(s_next() % 20)) + 7;
        s->last += HOUR;
        s_ever_note(fx, e);
        td_db_rc rc = td_cluster_put(fx->cl, txn, s);
        if (rc != TD_DB_OK)
            return rc;
    }
    return TD_DB_OK;
}

/* An article vector (unit length, heaviest first) sharing words with the
 * events, published at `t`. */
static void s_vector(td_cvec *v, td_cterm *terms, size_t nt, td_cterm *ents, int64_t t)
{
    memset(v, 0, sizeof *v);
    double sum = 0;
    float w = 1.0f;
    for (size_t i = 0; i < nt; i++) {
        w *= 0.98f;
        terms[i] = (td_cterm){.h = s_term((unsigned)(i * 7 % 300)), .w = w,
                              .in_title = i % 5 == 0};
        sum += (double)w * w;
    }
    for (size_t i = 0; i < nt; i++)
        terms[i].w = (float)(terms[i].w / sqrt(sum));
    ents[0] = (td_cterm){.h = s_term(1000 + 3), .w = 1.0f};
    v->terms = terms;
    v->n_terms = nt;
    v->ents = ents;
    v->n_ents = 1;
    v->t = t;
    v->day = INT32_MIN;
}

typedef struct {
    s_fx *fx;
    const td_cvec *v;
    int merges;   /* checks where the runner-up was named */
    int related;  /* checks where related events were found */
} s_check;

/* Event e is a candidate of v: it has (or had) one of v's 32 heaviest
 * terms or an entity of v (how the index finds candidates). */
static bool s_candidate(const s_fx *fx, int e, const td_cvec *v)
{
    size_t nq = v->n_terms < 32 ? v->n_terms : 32;
    for (size_t i = 0; i < fx->n_ever[e]; i++) {
        for (size_t j = 0; j < nq; j++)
            if (fx->ever[e][i] == v->terms[j].h)
                return true;
        for (size_t j = 0; j < v->n_ents; j++)
            if (fx->ever[e][i] == v->ents[j].h)
                return true;
    }
    return false;
}

static td_db_rc s_check_body(td_txn *txn, void *arg)
{
    s_check *c = arg;
    s_fx *fx = c->fx;
    char *best;
    td_cscore parts;
    size_t n;
    td_db_rc rc = td_cluster_best(fx->cl, txn, c->v, fx->arena, &best, &parts, &n);
    if (rc)
        return rc;
    /* the best by td_cluster_score over the candidates within the event
     * window (random centroids: no two scores are equal) */
    double top = -1, second = 0;
    const char *top_id = NULL, *second_id = NULL;
    size_t within = 0;
    for (int e = 0; e < N_EVENTS; e++) {
        if (!s_candidate(fx, e, c->v))
            continue;
        td_cscore sc;
        td_cluster_score(fx->cl, c->v, &fx->st[e], &sc);
        int64_t t = c->v->t;
        double gap = t < fx->st[e].first   ? (double)(fx->st[e].first - t) / HOUR
                     : t > fx->st[e].last ? (double)(t - fx->st[e].last) / HOUR
                                          : 0;
        if (gap > 72)
            continue;
        within++;
        if (sc.score > top) {
            if (top_id)
                second = top, second_id = top_id;
            top = sc.score;
            top_id = fx->st[e].id;
        } else if (sc.score > second) {
            second = sc.score;
            second_id = fx->st[e].id;
        }
    }
    assert_true(within > 1);
    assert_int_equal(n, within);
    assert_non_null(best);
    assert_string_equal(best, top_id);
    assert_true(parts.score == top); /* exactly: the same sums in the same order */
    /* the runner-up (named when a merge is possible) */
    double r_score, r_cos;
    const char *runner = td_cluster_second(fx->cl, &r_score, &r_cos);
    const td_cluster_opts *o = td_cluster_opts_of(fx->cl);
    if (second_id && second >= o->merge_score * parts.threshold && top >= parts.threshold) {
        assert_non_null(runner);
        assert_string_equal(runner, second_id);
        assert_true(r_score == second);
        c->merges++;
    } else {
        assert_null(runner);
    }
    td_cscore again;
    for (int e = 0; e < N_EVENTS; e++)
        if (strcmp(fx->st[e].id, best) == 0) {
            td_cluster_score(fx->cl, c->v, &fx->st[e], &again);
            assert_true(again.text == parts.text && again.title == parts.title &&
                        again.ents == parts.ents && again.time == parts.time);
        }

    /* related: every event at or above story_threshold, best first, with the
     * similarity td_cluster_score gives */
    char *ids[4], *stories[4];
    double scores[4];
    int k = td_cluster_related(fx->cl, txn, c->v, NULL, fx->arena, 4, ids, stories, scores);
    assert_true(k >= 0);
    double thr = td_cluster_opts_of(fx->cl)->story_threshold;
    size_t above = 0;
    for (int e = 0; e < N_EVENTS; e++) {
        if (!s_candidate(fx, e, c->v))
            continue;
        td_cscore sc;
        td_cluster_score(fx->cl, c->v, &fx->st[e], &sc);
        above += sc.sim >= thr;
        for (int i = 0; i < k; i++)
            if (strcmp(ids[i], fx->st[e].id) == 0)
                assert_true(scores[i] == sc.sim);
    }
    assert_int_equal((size_t)k, above < 4 ? above : 4);
    for (int i = 1; i < k; i++)
        assert_true(scores[i - 1] >= scores[i]);
    c->related += k > 0;
    return TD_DB_OK;
}

/* Score articles of few and of many words, early, in the middle and late
 * in the events' span (far events then cannot pass the runner-up) against
 * the index, checking each against the stored states. */
static void s_check_articles(s_fx *fx)
{
    size_t sizes[] = {4, 12, 40, 120, 300};
    int64_t times[] = {T0, T0 + 30 * HOUR, T0 + 70 * HOUR};
    static td_cterm terms[300], ents[1];
    int merges = 0, related = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < sizeof times / sizeof times[0]; j++) {
            td_cvec v;
            s_vector(&v, terms, sizes[i], ents, times[j]);
            v.gen = ++fx->vec_gen;
            s_check c = {fx, &v, 0, 0};
            assert_int_equal(td_db_write(fx->db, s_check_body, &c), TD_DB_OK);
            merges += c.merges;
            related += c.related;
            td_cluster_committed(fx->cl);
            td_arena_reset(fx->arena);
        }
    /* the cases this checks did occur */
    assert_true(merges > 0);
    assert_true(related > 0);
}

static void test_index_scores_equal_stored_scores(void **state)
{
    s_fx *fx = *state;
    assert_int_equal(td_db_write(fx->db, s_put_events, fx), TD_DB_OK);
    td_cluster_committed(fx->cl);
    s_check_articles(fx);
}

/* Scores come from the postings' weights first (only events that may win
 * are scored from their slots): after centroids change, those weights must
 * be the centroids' new ones, and dropped terms must weigh nothing. */
static void test_scores_follow_centroid_changes(void **state)
{
    s_fx *fx = *state;
    assert_int_equal(td_db_write(fx->db, s_put_events, fx), TD_DB_OK);
    td_cluster_committed(fx->cl);
    for (int round = 0; round < 4; round++) {
        assert_int_equal(td_db_write(fx->db, s_change_events, fx), TD_DB_OK);
        td_cluster_committed(fx->cl);
        s_check_articles(fx);
    }
}

/* td_cluster_sort_w: heaviest first, equal weights in their old order, the
 * permutation told, only `limit` written; checked against a plain stable
 * insertion sort on vectors with many ties and weights of mixed sizes. */
static void test_sort_by_weight(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 3, 50, 255, 256, 257, 300, SORT_MAX};
    static td_cterm v[SORT_MAX], want[SORT_MAX];
    static uint32_t perm[SORT_MAX], want_perm[SORT_MAX];
    srand(7);
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        for (int round = 0; round < 4; round++) {
            size_t n = sizes[z];
            for (size_t i = 0; i < n; i++) {
                /* round 0: a few repeated values; 1: one magnitude; 2: many
                 * magnitudes (every byte of the key differs); 3: all equal */
                float w = round == 0   ? (float)(rand() % 7) / 4.0f
                          : round == 1 ? 1.0f + (float)(rand() % 1000) / 1000.0f
                          : round == 2 ? (float)ldexp((double)(rand() % 1000), rand() % 40 - 20)
                                       : 0.5f;
                v[i] = (td_cterm){.h = i + 1, .w = w};
                want[i] = v[i];
                want_perm[i] = (uint32_t)i;
            }
            for (size_t i = 1; i < n; i++)   /* stable: moves only past lighter */
                for (size_t j = i; j > 0 && want[j - 1].w < want[j].w; j--) {
                    td_cterm t = want[j];
                    want[j] = want[j - 1];
                    want[j - 1] = t;
                    uint32_t p = want_perm[j];
                    want_perm[j] = want_perm[j - 1];
                    want_perm[j - 1] = p;
                }
            size_t limit = round == 3 ? n / 2 : SIZE_MAX;
            td_cluster_sort_w(v, n, perm, limit);
            size_t kept = limit < n ? limit : n;
            for (size_t i = 0; i < kept; i++) {
                assert_int_equal(v[i].h, want[i].h);
                assert_int_equal(perm[i], want_perm[i]);
            }
        }
    }
    /* a negative weight is not from td_cluster_vectorize: sorted all the
     * same, with no permutation told */
    td_cterm neg[3] = {{.h = 1, .w = -1.0f}, {.h = 2, .w = 2.0f}, {.h = 3, .w = 0.5f}};
    td_cluster_sort_w(neg, 3, perm, SIZE_MAX);
    assert_int_equal(neg[0].h, 2);
    assert_int_equal(neg[1].h, 3);
    assert_int_equal(neg[2].h, 1);
    assert_int_equal(perm[0], UINT32_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_by_weight),
        cmocka_unit_test_setup_teardown(test_index_scores_equal_stored_scores, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_scores_follow_centroid_changes, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
