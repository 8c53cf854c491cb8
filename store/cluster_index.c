/* cluster_index.c — scoring an article against the events of the
 * candidate index (cluster_window.c keeps the index itself).
 *
 * One walk over the postings of the article's hashes finds the candidate
 * events (through its heaviest terms and its entities) and sums, for every
 * event it passes, the products of the article's weights and the
 * centroid's: each candidate's similarity up to float rounding, without
 * reading its slot. Only the candidates that may still win (best, runner-up,
 * related above the story threshold) are then scored exactly from their
 * slots, in the order and with the sums they always had, so choices and
 * scores are those of scoring every candidate. Walk and scoring share this
 * file because they are the hot path of assignment and their helpers must
 * inline into it. LMDB is read here only for a late article's candidates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "log.h"

#define QUERY_TERMS 32       /* heaviest article terms used to find candidates */
#define POSTING_MAX 4096     /* a term in more active events finds none (too common) */
#define COLD_MAX 1024        /* events read from LMDB for a late article */
#define POST_AHEAD 8         /* postings table entries asked for ahead */
#define LIST_AHEAD 512       /* bytes of each posting list asked for ahead */

/* ---- scoring ---------------------------------------------------------------- */

/* Load the article into the scratch table (term hash -> weight) and work
 * out what its scores share (title norm, tau, threshold). Done once per
 * vector: td_cluster_best, td_cluster_related and td_cluster_score of the
 * same vector reuse it. */
static int s_query_load(td_cluster *self, const td_cvec *v)
{
    if (v->gen && v->gen == self->q_vec)
        return 0;
    size_t need = 64;
    while (need < 2 * (v->n_terms + v->n_ents))
        need <<= 1;
    if (need > self->q_cap) {
        td_cq *q = realloc(self->q, need * sizeof *q);
        if (!q)
            return -1;
        self->q = q;
        self->q_cap = need;
    }
    /* a table no larger than the article needs stays in the L1 cache */
    self->q_mask = need - 1;
    memset(self->q, 0, need * sizeof *self->q);
    memset(self->q_bits, 0, sizeof self->q_bits);
    for (size_t i = 0; i < v->n_terms + v->n_ents; i++) {
        const td_cterm *t = i < v->n_terms ? &v->terms[i] : &v->ents[i - v->n_terms];
        size_t j = t->h & self->q_mask;
        while (self->q[j].h && self->q[j].h != t->h)
            j = (j + 1) & self->q_mask;
        self->q[j] = (td_cq){.h = t->h, .w = t->w, .title = i < v->n_terms && t->in_title};
        self->q[j].walk = (uint16_t)self->stamp; /* the next walk's is not this */
        self->q_bits[TD_QBIT(t->h) / 64] |= (uint64_t)1 << (TD_QBIT(t->h) % 64);
    }
    const td_cluster_opts *o = &self->o;
    double lt = 0;
    for (size_t i = 0; i < v->n_terms; i++)
        if (v->terms[i].in_title)
            lt += (double)v->terms[i].w * v->terms[i].w;
    self->q_lt = lt;
    /* cosines against a unit article vector are at most 1: with rounding
     * (and for vectors not made unit) the norms, with a margin */
    double nt = 0, ne = 0;
    for (size_t i = 0; i < v->n_terms; i++)
        nt += (double)v->terms[i].w * v->terms[i].w;
    for (size_t i = 0; i < v->n_ents; i++)
        ne += (double)v->ents[i].w * v->ents[i].w;
    self->q_simmax = 1.001 * sqrt(nt > ne ? nt : ne) + 1e-9;
    /* The walk sums at most TD_CLUSTER_TERMS float products per event, each
     * rounded twice: relative to the sum of their magnitudes (at most the
     * two norms' product, Cauchy-Schwarz) the error is below 2e-5, so each
     * part, and their weighted mean, is within 2e-5 x q_simmax (x how far
     * the weights' mean can magnify, should an operator make one negative)
     * of s_sim's. The slack is fifty times that. */
    double wf = fabs(o->w_text) + fabs(o->w_ent), ws = fabs(o->w_text + o->w_ent);
    self->q_slack = 1e-3 * self->q_simmax * (ws > 0 && wf > ws ? wf / ws : 1.0);
    /* how far the text's similarity can be trusted: a headline shares a
     * word or two with many events, so time proximity must carry more of
     * the decision; a full article's similarity holds over a day or more */
    double ev = 0;
    if (o->evidence_hi > o->evidence_lo)
        ev = ((double)v->n_terms - o->evidence_lo) / (o->evidence_hi - o->evidence_lo);
    ev = ev < 0 ? 0 : ev > 1 ? 1 : ev;
    self->q_tau = o->time_tau_h + ev * (o->time_tau_long_h - o->time_tau_h);
    self->q_thr = o->threshold + ev * (o->threshold_long - o->threshold);
    self->q_vec = v->gen;
    return 0;
}

static double s_gap_h(int64_t t, int64_t first, int64_t last)
{
    if (t == TD_TIME_NONE || first == TD_TIME_NONE)
        return 0;
    double g = 0;
    if (t < first)
        g = (double)(first - t);
    else if (t > last)
        g = (double)(t - last);
    return g / TD_HOUR_MS;
}

/* An event's centroid as s_score reads it. */
typedef struct {
    int64_t first, last;
    int32_t day;
    const uint16_t *tt, *et;
    const td_chw *tv, *ev;
    size_t nt, ne;
    double lc, le, sq_lc, sq_le;
} s_cent;

/* The similarity parts from the products summed over shared terms (dot,
 * of which tdot in the title) and entities (edot) of `v` and a centroid
 * with the norms given and `ne` entities. */
static void s_sim_of(const td_cluster *self, const td_cvec *v, double lc, double le,
                     double sq_lc, double sq_le, size_t ne, double dot, double tdot,
                     double edot, td_cscore *out)
{
    const td_cluster_opts *o = &self->o;
    double lt = self->q_lt;
    memset(out, 0, sizeof *out);
    /* as dot / sqrt(lc) etc., with the roots computed once per event (and
     * none for a title without shared words: 0 / x is 0) */
    out->text = lc > 0 && v->n_terms ? dot / sq_lc : 0;
    out->title = lc > 0 && lt > 0 && tdot != 0 ? tdot / sqrt(lc * lt) : 0;
    out->ents = le > 0 && v->n_ents ? edot / sq_le : 0;
    if (v->n_ents && ne && o->w_text + o->w_ent > 0)
        out->sim = (o->w_text * out->text + o->w_ent * out->ents) / (o->w_text + o->w_ent);
    else
        out->sim = out->text;
}

/* The similarity of the event in slot `si` from the sums of the last walk
 * (s_candidates): within q_slack of what s_sim computes from the slot. */
static double s_sim_walked(const td_cluster *self, const td_cvec *v, uint32_t si)
{
    const td_cslot *s = &self->slots[si];
    td_cscore sc;
    s_sim_of(self, v, s->lc, s->le, s->sq_lc, s->sq_le, s->n_ents, self->wsum[2 * si], 0,
             self->wsum[2 * si + 1], &sc);
    return sc.sim;
}

/* The similarity parts only (what td_cluster_related needs). The query of
 * `v` must be loaded. Sums run in centroid order, as they always did, so
 * scores do not move with the table layout. */
static void s_sim(const td_cluster *self, const td_cvec *v, const s_cent *c, td_cscore *out)
{
    const td_cq *q = self->q;
    const uint64_t *bits = self->q_bits;
    size_t mask = self->q_mask;
    double dot = 0, tdot = 0, edot = 0;
    /* the filter first, without branches (most terms miss, at random) */
    uint8_t hit[TD_CLUSTER_TERMS];
    size_t nh = 0;
    for (size_t i = 0; i < c->nt; i++) {
        unsigned b = c->tt[i];
        hit[nh] = (uint8_t)i;
        nh += bits[b / 64] >> (b % 64) & 1;
    }
    for (size_t k = 0; k < nh; k++) {
        size_t i = hit[k];
        uint64_t h = c->tv[i].h;
        for (size_t j = h & mask; q[j].h; j = (j + 1) & mask)
            if (q[j].h == h) {
                double p = (double)q[j].w * c->tv[i].w;
                dot += p;
                if (q[j].title)
                    tdot += p;
                break;
            }
    }
    nh = 0;
    for (size_t i = 0; i < c->ne; i++) {
        unsigned b = c->et[i];
        hit[nh] = (uint8_t)i;
        nh += bits[b / 64] >> (b % 64) & 1;
    }
    for (size_t k = 0; k < nh; k++) {
        size_t i = hit[k];
        uint64_t h = c->ev[i].h;
        for (size_t j = h & mask; q[j].h; j = (j + 1) & mask)
            if (q[j].h == h) {
                edot += (double)q[j].w * c->ev[i].w;
                break;
            }
    }
    s_sim_of(self, v, c->lc, c->le, c->sq_lc, c->sq_le, c->ne, dot, tdot, edot, out);
}

/* The time and date parts of the score, and what multiplies the
 * similarity (the score is sim x that). */
static double s_time_date(const td_cluster *self, const td_cvec *v, const s_cent *c,
                          double *time, double *date)
{
    const td_cluster_opts *o = &self->o;
    double tau = self->q_tau;
    double gap = s_gap_h(v->t, c->first, c->last);
    *time = tau > 0 ? exp(-gap / tau) : 1.0;
    *date = 1.0;
    if (v->day != INT32_MIN && c->day != INT32_MIN && v->day != c->day)
        *date = o->date_penalty;
    return (o->time_floor + (1 - o->time_floor) * *time) * *date;
}

/* The score, the time and date parts given (s_time_date). */
static void s_score_td(const td_cluster *self, const td_cvec *v, const s_cent *c, double time,
                       double date, td_cscore *out)
{
    const td_cluster_opts *o = &self->o;
    s_sim(self, v, c, out);
    out->threshold = self->q_thr;
    out->time = time;
    out->date = date;
    out->score = out->sim * (o->time_floor + (1 - o->time_floor) * out->time) * out->date;
}

static void s_score(const td_cluster *self, const td_cvec *v, const s_cent *c, td_cscore *out)
{
    double time, date;
    (void)s_time_date(self, v, c, &time, &date);
    s_score_td(self, v, c, time, date, out);
}



/* Score a stored state (not in the index, or read from LMDB). */
static void s_score_state(const td_cluster *self, const td_cvec *v, const td_cstate *s,
                          td_cscore *out)
{
    td_chw tv[TD_CLUSTER_TERMS], ev[TD_CLUSTER_ENTS];
    uint16_t tt[TD_CLUSTER_TERMS], et[TD_CLUSTER_ENTS];
    s_cent c = {.first = s->first, .last = s->last, .day = td_cluster_mode_day(s), .tt = tt, .et = et,
                .tv = tv, .ev = ev, .nt = s->n_terms, .ne = s->n_ents};
    for (size_t i = 0; i < c.nt; i++) {
        tv[i] = (td_chw){.h = s->terms[i].h, .w = s->terms[i].w};
        tt[i] = (uint16_t)TD_QBIT(tv[i].h);
    }
    for (size_t i = 0; i < c.ne; i++) {
        ev[i] = (td_chw){.h = s->ents[i].h, .w = s->ents[i].w};
        et[i] = (uint16_t)TD_QBIT(ev[i].h);
    }
    c.lc = td_cluster_sumsq(tv, c.nt);
    c.le = td_cluster_sumsq(ev, c.ne);
    c.sq_lc = sqrt(c.lc);
    c.sq_le = sqrt(c.le);
    s_score(self, v, &c, out);
}

static s_cent s_slot_cent(const td_cslot *s, const td_cmeta *m)
{
    return (s_cent){.first = m->first, .last = m->last, .day = s->day, .tt = s->tt,
                    .et = s->et, .tv = s->tv, .ev = s->ev, .nt = s->n_terms,
                    .ne = s->n_ents, .lc = s->lc, .le = s->le, .sq_lc = s->sq_lc,
                    .sq_le = s->sq_le};
}

void td_cluster_score(const td_cluster *self, const td_cvec *v, const td_cstate *s,
                      td_cscore *out)
{
    td_cluster *mut = (td_cluster *)self;
    if (s_query_load(mut, v) != 0) {
        memset(out, 0, sizeof *out);
        return;
    }
    s_score_state(self, v, s, out);
}

/* ---- candidates ------------------------------------------------------------ */

/* The entry of hash `h` in the loaded article (it is there: it is one of
 * the article's). */
static td_cq *s_q_find(const td_cluster *self, uint64_t h)
{
    size_t j = h & self->q_mask;
    while (self->q[j].h && self->q[j].h != h)
        j = (j + 1) & self->q_mask;
    return &self->q[j];
}

/* One walk over the postings of `v`'s hashes (its query must be loaded)
 * does two things:
 *  - finds the candidate slots of `v`: those within the event window of it
 *    (cand, for td_cluster_best) and those within the story window (rcand,
 *    for td_cluster_related), from the postings of its heaviest terms and
 *    its entities, each in the order two passes with one window each would
 *    find them;
 *  - sums, over the postings of all its hashes, its weights times those of
 *    each event's centroid (wsum): the event's similarity without reading
 *    its slot. Most postings of an article are of events
 *    it hardly resembles, which scoring then passes over. */
static void s_candidates(td_cluster *self, const td_cvec *v)
{
    size_t n = 0, nr = 0;
    if (++self->stamp == 0) {
        for (size_t i = 0; i < self->n_slots; i++)
            self->meta[i].stamp = 0;
        self->stamp = 1;
    }
    uint32_t stamp = self->stamp;
    float *sum = self->wsum;
    if (self->n_slots)
        memset(sum, 0, 2 * self->n_slots * sizeof *sum);
    double ew = self->o.event_window_h, sw = self->o.story_window_h;
    size_t nq = v->n_terms < QUERY_TERMS ? v->n_terms : QUERY_TERMS;
    size_t nh = self->post_cap ? (size_t)v->n_terms + v->n_ents : 0;
    /* the lists first, the table entries asked for a few hashes ahead and
     * each list's start as it is found: every one is a cache miss, and
     * they do not depend on each other (a vector longer than the ones
     * td_cluster_vectorize makes looks the rest up as it goes) */
    td_cpost *lists[VEC_MAX + EACC_CAP / 2];
    size_t nl = nh < sizeof lists / sizeof lists[0] ? nh : sizeof lists / sizeof lists[0];
    size_t mask = self->post_cap - 1;
#define S_HASH(k) ((k) < v->n_terms ? v->terms[k].h : v->ents[(k) - v->n_terms].h)
    for (size_t k = 0; k < nl && k < POST_AHEAD; k++)
        __builtin_prefetch(&self->post[S_HASH(k) & mask]);
    for (size_t k = 0; k < nl; k++) {
        if (k + POST_AHEAD < nl)
            __builtin_prefetch(&self->post[S_HASH(k + POST_AHEAD) & mask]);
        lists[k] = td_cluster_post_find(self, S_HASH(k));
        if (lists[k]) {
            /* a list's first lines: the loads of its weights below were
             * ~40 % of this walk's samples with the first line asked for */
            const char *e = (const char *)lists[k]->e;
            size_t bytes = lists[k]->n * sizeof *lists[k]->e;
            for (size_t off = 0; off < bytes && off < LIST_AHEAD; off += 64)
                __builtin_prefetch(e + off);
        }
    }
    for (size_t k = 0; k < nh; k++) {
        uint64_t h = S_HASH(k);
        td_cpost *p = k < nl ? lists[k] : td_cluster_post_find(self, h);
        if (!p)
            continue;
        td_cq *q = s_q_find(self, h);
        /* a hash twice in the article (a term's and an entity's, were
         * their hashes ever to meet) is summed once, as s_sim counts it */
        if (q->walk != (uint16_t)stamp) {
            q->walk = (uint16_t)stamp;
            float qw = q->w;
            for (uint32_t i = 0; i < p->n; i++)
                sum[p->e[i].ix] += qw * p->e[i].w;
        }
        if (!((k < nq || k >= v->n_terms) && p->n <= POSTING_MAX))
            continue;
        for (uint32_t i = 0; i < p->n && (n < CANDIDATES_MAX || nr < CANDIDATES_MAX); i++) {
            uint32_t si = CPE_SLOT(p->e[i].ix);
            td_cmeta *m = &self->meta[si];
            if (m->stamp == stamp)
                continue;
            m->stamp = stamp;
            if (!m->live)
                continue;
            double gap = s_gap_h(v->t, m->first, m->last);
            if (gap <= ew && n < CANDIDATES_MAX)
                self->cand[n++] = si;
            if (gap <= sw && nr < CANDIDATES_MAX)
                self->rcand[nr++] = si;
        }
    }
#undef S_HASH
    self->n_cand = n;
    self->n_rcand = nr;
    self->cand_vec = v->gen;
    self->cand_gen = self->gen;
}

/* Ask for the header and filter tags of the event scored next, while
 * this one is. */
static void s_prefetch(const td_cslot *s)
{
    __builtin_prefetch(s);
    __builtin_prefetch((const char *)s->tt);
    __builtin_prefetch((const char *)s->tt + 64);
    __builtin_prefetch((const char *)s->tt + 128);
    __builtin_prefetch((const char *)s->et);
}

/* Centroid cosine of two slots (td_cluster_cos on the slot layout). */
static double s_slot_cos(const td_cslot *a, const td_cslot *b)
{
    double dot = 0, la = a->lc, lb = b->lc;
    for (size_t i = 0; i < a->n_terms; i++)
        for (size_t j = 0; j < b->n_terms; j++)
            if (a->tv[i].h == b->tv[j].h) {
                dot += (double)a->tv[i].w * b->tv[j].w;
                break;
            }
    return la > 0 && lb > 0 ? dot / sqrt(la * lb) : 0.0;
}

td_db_rc td_cluster_best(td_cluster *self, td_txn *txn, const td_cvec *v, td_arena *arena,
                         char **best, td_cscore *parts, size_t *n_candidates)
{
    *best = NULL;
    *n_candidates = 0;
    memset(parts, 0, sizeof *parts);
    parts->score = -1;
    if (s_query_load(self, v) != 0)
        return TD_DB_ERROR;
    s_candidates(self, v);
    size_t n = self->n_cand;
    if (++self->sim_stamp == 0) {
        for (size_t i = 0; i < self->n_slots; i++)
            self->slots[i].sim_stamp = 0;
        self->sim_stamp = 1;
    }
    self->sim_vec = v->gen;
    self->sim_gen = self->gen;
    const char *best_id = NULL;
    td_cslot *bs = NULL, *ss = NULL;
    td_cmeta *bm = NULL, *sm = NULL;
    self->second[0] = '\0';
    self->second_score = self->second_cos = 0;
    /* Each candidate's score from the walk's sums, within a slack of its
     * exact score: one that cannot reach the second-highest lower bound
     * has two candidates above it, and so is neither the best nor the
     * runner-up; only the others are scored from their slots (as before,
     * in candidate order, so ties go as they always did). */
    double lo1 = -HUGE_VAL, lo2 = -HUGE_VAL;
    for (size_t i = 0; i < n; i++) {
        const td_cslot *s = &self->slots[self->cand[i]];
        const td_cmeta *m = &self->meta[self->cand[i]];
        if (i + 1 < n)
            __builtin_prefetch(&self->slots[self->cand[i + 1]]);
        s_cent c = s_slot_cent(s, m);
        double time, date;
        double f = s_time_date(self, v, &c, &time, &date);
        double sc = s_sim_walked(self, v, self->cand[i]) * f, slack = self->q_slack * fabs(f);
        self->cand_hi[i] = sc + slack;
        if (sc - slack > lo1) {
            lo2 = lo1;
            lo1 = sc - slack;
        } else if (sc - slack > lo2) {
            lo2 = sc - slack;
        }
    }
    size_t next = 0;
    while (next < n && self->cand_hi[next] < lo2)
        next++;
    for (size_t i = next; i < n; i = next) {
        td_cslot *s = &self->slots[self->cand[i]];
        td_cmeta *m = &self->meta[self->cand[i]];
        for (next = i + 1; next < n && self->cand_hi[next] < lo2; next++)
            ;
        if (next < n)
            s_prefetch(&self->slots[self->cand[next]]);
        td_cscore sc;
        s_cent c = s_slot_cent(s, m);
        /* an event whose score cannot pass the runner-up's (sim is at most
         * q_simmax) changes neither the best nor the runner-up: its
         * similarity is not computed (td_cluster_related computes it when
         * it needs it). Candidates keep their order, so ties go as before. */
        double time, date;
        double up = self->q_simmax * s_time_date(self, v, &c, &time, &date);
        if (bs && up <= self->second_score)
            continue;
        s_score_td(self, v, &c, time, date, &sc);
        s->sim_stamp = self->sim_stamp;
        s->sim = sc.sim;
        if (sc.score > parts->score) {
            if (bs) {
                ss = bs;
                sm = bm;
                self->second_score = parts->score;
            }
            *parts = sc;
            best_id = s->id;
            bs = s;
            bm = m;
        } else if (sc.score > self->second_score) {
            ss = s;
            sm = m;
            self->second_score = sc.score;
        }
    }
    /* the centroid cosine (96 x 96 terms) only when a merge is possible */
    if (bs && ss && self->second_score >= self->o.merge_score * parts->threshold &&
        parts->score >= parts->threshold) {
        snprintf(self->second, sizeof self->second, "%s", ss->id);
        /* concurrent events: the gap between their ranges decays the
         * cosine as it does an article's score */
        double gap = 0;
        if (bm->first != TD_TIME_NONE && sm->first != TD_TIME_NONE) {
            if (sm->first > bm->last)
                gap = (double)(sm->first - bm->last) / TD_HOUR_MS;
            else if (bm->first > sm->last)
                gap = (double)(bm->first - sm->last) / TD_HOUR_MS;
        }
        double tau = self->o.time_tau_h;
        self->second_cos = s_slot_cos(bs, ss) *
                           (tau > 0 ? exp(-gap / tau) : 1.0);
    }
    *n_candidates = n;
    /* a late article: the events of its time may have left the window, so
     * read them from the event_time index around its own time */
    int64_t horizon = td_cluster_index_horizon(self);
    int64_t ew = (int64_t)(self->o.event_window_h * TD_HOUR_MS);
    if (v->t != TD_TIME_NONE && horizon != TD_TIME_NONE && v->t - ew < horizon) {
        td_cur *cur;
        td_db_rc rc = td_cur_open(txn, TD_DBI_EVENT_TIME, &cur);
        if (rc)
            return rc;
        unsigned char key[8];
        td_db_timekey(v->t - ew, NULL, key, sizeof key);
        td_val k, val;
        int64_t until = v->t + (int64_t)(self->o.story_window_h * TD_HOUR_MS);
        size_t seen = 0;
        for (rc = td_cur_seek(cur, key, 8, &k, &val); rc == TD_DB_OK && seen < COLD_MAX;
             rc = td_cur_next(cur, &k, &val), seen++) {
            int64_t t;
            const char *id;
            size_t idlen;
            if (td_db_timekey_split(k.data, k.len, &t, &id, &idlen) != 0)
                continue;
            if (t > until || t >= horizon)
                break; /* later ones are in the index */
            char *eid = td_arena_strndup(arena, id, idlen);
            td_cstate st;
            if (!eid || td_cluster_get(txn, eid, arena, &st) != TD_DB_OK)
                continue;
            if (s_gap_h(v->t, st.first, st.last) > self->o.event_window_h)
                continue;
            td_cscore sc;
            s_score_state(self, v, &st, &sc);
            (*n_candidates)++;
            if (sc.score > parts->score) {
                *parts = sc;
                best_id = eid;
                self->second[0] = '\0'; /* no merges for late articles */
            }
        }
        td_cur_close(&cur);
        if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
            return rc;
    }
    if (best_id && !(*best = td_arena_strdup(arena, best_id)))
        return TD_DB_ERROR;
    if (!best_id) {
        parts->score = 0;
        parts->threshold = self->q_thr;
    }
    return TD_DB_OK;
}

const char *td_cluster_second(const td_cluster *self, double *score, double *cos)
{
    *score = self->second_score;
    *cos = self->second_cos;
    return self->second[0] ? self->second : NULL;
}

int td_cluster_related(td_cluster *self, td_txn *txn, const td_cvec *v, const char *exclude,
                       td_arena *arena, size_t max, char **ids, char **stories,
                       double *scores)
{
    (void)txn;
    /* the similarity does not depend on time: the candidates td_cluster_best
     * just scored for this same vector keep theirs while no slot changed */
    bool reuse = v->gen && v->gen == self->sim_vec && self->gen == self->sim_gen;
    if (s_query_load(self, v) != 0)
        return -1;
    /* td_cluster_best's walk found these candidates, and summed, too */
    if (!(v->gen && v->gen == self->cand_vec && self->gen == self->cand_gen))
        s_candidates(self, v);
    size_t n = self->n_rcand, k = 0;
    double least = self->o.story_threshold;
    for (size_t i = 0; i < n; i++) {
        td_cslot *s = &self->slots[self->rcand[i]];
        const td_cmeta *m = &self->meta[self->rcand[i]];
        if (i + 1 < n)
            __builtin_prefetch(&self->slots[self->rcand[i + 1]]);
        td_cscore sc;
        if (reuse && s->sim_stamp == self->sim_stamp) {
            sc.sim = s->sim;
        } else {
            /* one that cannot reach the threshold is not scored */
            if (s_sim_walked(self, v, self->rcand[i]) + self->q_slack < least)
                continue;
            s_cent c = s_slot_cent(s, m);
            s_sim(self, v, &c, &sc);
        }
        if (sc.sim < least || (exclude && strcmp(s->id, exclude) == 0))
            continue;
        /* insertion into the top `max`, best first */
        size_t at = k < max ? k : max;
        while (at > 0 && scores[at - 1] < sc.sim)
            at--;
        if (at >= max)
            continue;
        size_t end = k < max ? k : max - 1;
        for (size_t j = end; j > at; j--) {
            ids[j] = ids[j - 1];
            stories[j] = stories[j - 1];
            scores[j] = scores[j - 1];
        }
        ids[at] = td_arena_strdup(arena, s->id);
        stories[at] = td_arena_strdup(arena, s->story);
        scores[at] = sc.sim;
        if (!ids[at] || !stories[at])
            return -1;
        if (k < max)
            k++;
    }
    return (int)k;
}
