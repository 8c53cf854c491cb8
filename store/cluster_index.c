/* cluster_index.c — the in-memory candidate index of streaming event
 * detection and the score of an article against a candidate event.
 *
 * The index holds the events active within the story window of the stream
 * clock: a slot per event (its centroid laid out for scoring), postings
 * from term and entity hashes to slots, and a table from event id to slot.
 * Finding candidates walks the postings of the article's heaviest terms;
 * scoring reads the slots. Both live in this one file because the scoring
 * loop of td_cluster_best is the hot path of assignment and its helpers
 * must inline into it. LMDB is read here only for a late article's
 * candidates; the event state itself is written by cluster.c, which keeps
 * this index in step through the entry points of cluster_int.h.
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
#define EVICT_EVERY 512      /* index operations between window sweeps */
#define HOUR_MS 3600000.0
#define QBIT(h) ((h) >> 50)  /* its bit of a hash (the table uses the low bits) */

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
        self->q_bits[QBIT(t->h) / 64] |= (uint64_t)1 << (QBIT(t->h) % 64);
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
    return g / HOUR_MS;
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

/* The similarity parts only (what td_cluster_related needs). The query of
 * `v` must be loaded. Sums run in centroid order, as they always did, so
 * scores do not move with the table layout. */
static void s_sim(const td_cluster *self, const td_cvec *v, const s_cent *c, td_cscore *out)
{
    const td_cluster_opts *o = &self->o;
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
    double lc = c->lc, le = c->le, lt = self->q_lt;
    memset(out, 0, sizeof *out);
    /* as dot / sqrt(lc) etc., with the roots computed once per event (and
     * none for a title without shared words: 0 / x is 0) */
    out->text = lc > 0 && v->n_terms ? dot / c->sq_lc : 0;
    out->title = lc > 0 && lt > 0 && tdot != 0 ? tdot / sqrt(lc * lt) : 0;
    out->ents = le > 0 && v->n_ents ? edot / c->sq_le : 0;
    if (v->n_ents && c->ne && o->w_text + o->w_ent > 0)
        out->sim = (o->w_text * out->text + o->w_ent * out->ents) / (o->w_text + o->w_ent);
    else
        out->sim = out->text;
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

static double s_sumsq(const td_chw *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i].w * v[i].w;
    return s;
}

static int32_t s_mode_day(const td_cstate *s)
{
    int32_t best = INT32_MIN;
    uint32_t bc = 0;
    for (size_t i = 0; i < s->n_days; i++)
        if (s->day_counts[i] > bc)
            bc = s->day_counts[i], best = s->days[i];
    return best;
}

/* Score a stored state (not in the index, or read from LMDB). */
static void s_score_state(const td_cluster *self, const td_cvec *v, const td_cstate *s,
                          td_cscore *out)
{
    td_chw tv[TD_CLUSTER_TERMS], ev[TD_CLUSTER_ENTS];
    uint16_t tt[TD_CLUSTER_TERMS], et[TD_CLUSTER_ENTS];
    s_cent c = {.first = s->first, .last = s->last, .day = s_mode_day(s), .tt = tt, .et = et,
                .tv = tv, .ev = ev, .nt = s->n_terms, .ne = s->n_ents};
    for (size_t i = 0; i < c.nt; i++) {
        tv[i] = (td_chw){.h = s->terms[i].h, .w = s->terms[i].w};
        tt[i] = (uint16_t)QBIT(tv[i].h);
    }
    for (size_t i = 0; i < c.ne; i++) {
        ev[i] = (td_chw){.h = s->ents[i].h, .w = s->ents[i].w};
        et[i] = (uint16_t)QBIT(ev[i].h);
    }
    c.lc = s_sumsq(tv, c.nt);
    c.le = s_sumsq(ev, c.ne);
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

/* ---- the index ------------------------------------------------------------- */

void td_cluster_index_clear(td_cluster *self)
{
    for (size_t i = 0; i < self->post_cap; i++)
        free(self->post[i].ids);
    free(self->post);
    free(self->byid);
    free(self->slots);
    free(self->meta);
    self->post = NULL;
    self->byid = NULL;
    self->slots = NULL;
    self->meta = NULL;
    self->post_cap = self->post_used = self->post_total = 0;
    self->byid_cap = self->byid_used = 0;
    self->n_slots = self->cap_slots = self->n_dead = 0;
    self->clock = TD_TIME_NONE;
    self->loaded = false;
    self->gen++;
}

static int s_post_grow(td_cluster *self)
{
    size_t cap = self->post_cap ? self->post_cap * 2 : 4096;
    td_cpost *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < self->post_cap; i++) {
        if (!self->post[i].h)
            continue;
        size_t j = self->post[i].h & (cap - 1);
        while (t[j].h)
            j = (j + 1) & (cap - 1);
        t[j] = self->post[i];
    }
    free(self->post);
    self->post = t;
    self->post_cap = cap;
    return 0;
}

static td_cpost *s_post_find(const td_cluster *self, uint64_t h)
{
    if (!self->post_cap)
        return NULL;
    for (size_t j = h & (self->post_cap - 1); self->post[j].h;
         j = (j + 1) & (self->post_cap - 1))
        if (self->post[j].h == h)
            return &self->post[j];
    return NULL;
}

static int s_post_add(td_cluster *self, uint64_t h, uint32_t slot)
{
    if (2 * (self->post_used + 1) > self->post_cap && s_post_grow(self) != 0)
        return -1;
    size_t j = h & (self->post_cap - 1);
    while (self->post[j].h && self->post[j].h != h)
        j = (j + 1) & (self->post_cap - 1);
    td_cpost *p = &self->post[j];
    if (!p->h) {
        p->h = h;
        self->post_used++;
    }
    if (p->n && p->ids[p->n - 1] == slot)
        return 0;
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 4;
        uint32_t *ids = realloc(p->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        p->ids = ids;
        p->cap = cap;
    }
    p->ids[p->n++] = slot;
    self->post_total++;
    return 0;
}

static int s_byid_grow(td_cluster *self)
{
    size_t cap = self->byid_cap ? self->byid_cap * 2 : 1024;
    td_cidx *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < self->byid_cap; i++) {
        if (!self->byid[i].h)
            continue;
        size_t j = self->byid[i].h & (cap - 1);
        while (t[j].h)
            j = (j + 1) & (cap - 1);
        t[j] = self->byid[i];
    }
    free(self->byid);
    self->byid = t;
    self->byid_cap = cap;
    return 0;
}

static td_cidx *s_byid_slot(td_cluster *self, const char *id, bool add)
{
    uint64_t h = td_cluster_hash(id, strlen(id));
    if (add && 2 * (self->byid_used + 1) > self->byid_cap && s_byid_grow(self) != 0)
        return NULL;
    if (!self->byid_cap)
        return NULL;
    size_t j = h & (self->byid_cap - 1);
    while (self->byid[j].h) {
        if (self->byid[j].h == h && strcmp(self->slots[self->byid[j].slot].id, id) == 0)
            return &self->byid[j];
        j = (j + 1) & (self->byid_cap - 1);
    }
    if (!add)
        return NULL;
    self->byid[j].h = h;
    self->byid[j].slot = UINT32_MAX;
    self->byid_used++;
    return &self->byid[j];
}

/* Rebuild postings and the id table from the live slots. */
static int s_compact(td_cluster *self)
{
    size_t w = 0;
    for (size_t i = 0; i < self->n_slots; i++)
        if (self->meta[i].live) {
            if (w != i) {
                self->slots[w] = self->slots[i];
                self->meta[w] = self->meta[i];
            }
            w++;
        }
    self->n_slots = w;
    self->n_dead = 0;
    self->gen++;
    for (size_t i = 0; i < self->post_cap; i++)
        free(self->post[i].ids);
    free(self->post);
    free(self->byid);
    self->post = NULL;
    self->byid = NULL;
    self->post_cap = self->post_used = self->post_total = 0;
    self->byid_cap = self->byid_used = 0;
    for (size_t i = 0; i < w; i++) {
        td_cslot *s = &self->slots[i];
        td_cidx *x = s_byid_slot(self, s->id, true);
        if (!x)
            return -1;
        x->slot = (uint32_t)i;
        for (size_t k = 0; k < s->n_terms; k++)
            if (s_post_add(self, s->tv[k].h, (uint32_t)i) != 0)
                return -1;
        for (size_t k = 0; k < s->n_ents; k++)
            if (s_post_add(self, s->ev[k].h, (uint32_t)i) != 0)
                return -1;
    }
    return 0;
}

int64_t td_cluster_index_horizon(const td_cluster *self)
{
    if (self->clock == TD_TIME_NONE)
        return TD_TIME_NONE;
    return self->clock - (int64_t)(self->o.story_window_h * HOUR_MS);
}

static void s_evict(td_cluster *self)
{
    int64_t horizon = td_cluster_index_horizon(self);
    if (horizon == TD_TIME_NONE)
        return;
    for (size_t i = 0; i < self->n_slots; i++) {
        td_cmeta *m = &self->meta[i];
        if (m->live && m->last < horizon) {
            m->live = false;
            self->n_dead++;
        }
    }
    size_t live_terms = (self->n_slots - self->n_dead) * (TD_CLUSTER_TERMS + TD_CLUSTER_ENTS);
    if ((self->n_dead > 1024 && self->n_dead * 2 > self->n_slots) ||
        self->post_total > 4 * live_terms + 65536) {
        if (s_compact(self) != 0) {
            td_warn("candidate index: out of memory while compacting; rebuilding");
            td_cluster_index_clear(self);
        }
    }
}

void td_cluster_index_tick(td_cluster *self, int64_t t)
{
    if (t != TD_TIME_NONE && (self->clock == TD_TIME_NONE || t > self->clock))
        self->clock = t;
    if (++self->ops % EVICT_EVERY == 0)
        s_evict(self);
}

/* A small set of hashes (the terms a slot had before a change). */
#define HSET_CAP 512   /* > 2 x (TD_CLUSTER_TERMS + TD_CLUSTER_ENTS) */
static void s_hset_add(uint64_t *set, uint64_t h)
{
    size_t j = h & (HSET_CAP - 1);
    while (set[j] && set[j] != h)
        j = (j + 1) & (HSET_CAP - 1);
    set[j] = h;
}
static bool s_hset_has(const uint64_t *set, uint64_t h)
{
    for (size_t j = h & (HSET_CAP - 1); set[j]; j = (j + 1) & (HSET_CAP - 1))
        if (set[j] == h)
            return true;
    return false;
}

int td_cluster_index_set(td_cluster *self, const td_cstate *st)
{
    if (!st->id || strlen(st->id) >= TD_CLUSTER_ID)
        return 0; /* such an id cannot be a candidate; it still works from LMDB */
    self->gen++;
    td_cidx *x = s_byid_slot(self, st->id, true);
    if (!x)
        return -1;
    td_cslot *s;
    td_cmeta *m;
    bool fresh = x->slot == UINT32_MAX;
    /* the hashes the slot had: terms and entities apart (a term and an
     * entity never share a hash: their keys differ in the first byte) */
    uint64_t had_t[HSET_CAP], had_e[HSET_CAP];
    if (fresh) {
        if (self->n_slots == self->cap_slots) {
            size_t cap = self->cap_slots ? self->cap_slots * 2 : 256;
            td_cslot *n = realloc(self->slots, cap * sizeof *n);
            if (!n)
                return -1;
            self->slots = n;
            td_cmeta *nm = realloc(self->meta, cap * sizeof *nm);
            if (!nm)
                return -1;
            self->meta = nm;
            self->cap_slots = cap;
        }
        x->slot = (uint32_t)self->n_slots++;
        s = &self->slots[x->slot];
        m = &self->meta[x->slot];
        memset(s, 0, sizeof *s);
        memset(m, 0, sizeof *m);
    } else {
        s = &self->slots[x->slot];
        m = &self->meta[x->slot];
        if (!m->live)
            self->n_dead--;
        memset(had_t, 0, sizeof had_t);
        memset(had_e, 0, sizeof had_e);
        for (size_t k = 0; k < s->n_terms; k++)
            s_hset_add(had_t, s->tv[k].h);
        for (size_t k = 0; k < s->n_ents; k++)
            s_hset_add(had_e, s->ev[k].h);
    }
    snprintf(s->id, sizeof s->id, "%s", st->id);
    snprintf(s->story, sizeof s->story, "%s", st->story ? st->story : "");
    m->first = st->first;
    m->last = st->last;
    m->live = true;
    s->day = s_mode_day(st);
    s->n_terms = (uint16_t)st->n_terms;
    s->n_ents = (uint16_t)st->n_ents;
    for (size_t i = 0; i < st->n_terms; i++) {
        s->tv[i] = (td_chw){.h = st->terms[i].h, .w = st->terms[i].w};
        s->tt[i] = (uint16_t)QBIT(s->tv[i].h);
    }
    for (size_t i = 0; i < st->n_ents; i++) {
        s->ev[i] = (td_chw){.h = st->ents[i].h, .w = st->ents[i].w};
        s->et[i] = (uint16_t)QBIT(s->ev[i].h);
    }
    s->lc = s_sumsq(s->tv, s->n_terms);
    s->le = s_sumsq(s->ev, s->n_ents);
    s->sq_lc = sqrt(s->lc);
    s->sq_le = sqrt(s->le);
    /* postings for the terms the slot did not have yet; stale ones of
     * dropped terms stay until compaction (scores read the slot itself) */
    uint32_t si = x->slot;
    for (size_t i = 0; i < s->n_terms; i++)
        if ((fresh || !s_hset_has(had_t, s->tv[i].h)) && s_post_add(self, s->tv[i].h, si) != 0)
            return -1;
    for (size_t i = 0; i < s->n_ents; i++)
        if ((fresh || !s_hset_has(had_e, s->ev[i].h)) && s_post_add(self, s->ev[i].h, si) != 0)
            return -1;
    return 0;
}

void td_cluster_index_drop(td_cluster *self, const char *id)
{
    self->gen++;
    td_cidx *x = s_byid_slot(self, id, false);
    if (x && x->slot != UINT32_MAX && self->meta[x->slot].live) {
        self->meta[x->slot].live = false;
        self->n_dead++;
    }
}

/* ---- candidates ------------------------------------------------------------ */

/* The candidate slots of `v`: those within the event window of it (cand,
 * for td_cluster_best) and those within the story window (rcand, for
 * td_cluster_related), each in the order two passes with one window each
 * would find them, from one walk over the postings. */
static void s_candidates(td_cluster *self, const td_cvec *v)
{
    size_t n = 0, nr = 0;
    if (++self->stamp == 0) {
        for (size_t i = 0; i < self->n_slots; i++)
            self->meta[i].stamp = 0;
        self->stamp = 1;
    }
    double ew = self->o.event_window_h, sw = self->o.story_window_h;
    size_t nq = v->n_terms < QUERY_TERMS ? v->n_terms : QUERY_TERMS;
    for (size_t k = 0; k < nq + v->n_ents; k++) {
        uint64_t h = k < nq ? v->terms[k].h : v->ents[k - nq].h;
        td_cpost *p = s_post_find(self, h);
        if (!p || p->n > POSTING_MAX)
            continue;
        for (uint32_t i = 0; i < p->n && (n < CANDIDATES_MAX || nr < CANDIDATES_MAX); i++) {
            td_cmeta *m = &self->meta[p->ids[i]];
            if (m->stamp == self->stamp)
                continue;
            m->stamp = self->stamp;
            if (!m->live)
                continue;
            double gap = s_gap_h(v->t, m->first, m->last);
            if (gap <= ew && n < CANDIDATES_MAX)
                self->cand[n++] = p->ids[i];
            if (gap <= sw && nr < CANDIDATES_MAX)
                self->rcand[nr++] = p->ids[i];
        }
    }
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
    for (size_t i = 0; i < n; i++) {
        td_cslot *s = &self->slots[self->cand[i]];
        td_cmeta *m = &self->meta[self->cand[i]];
        if (i + 1 < n)
            s_prefetch(&self->slots[self->cand[i + 1]]);
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
                gap = (double)(sm->first - bm->last) / HOUR_MS;
            else if (bm->first > sm->last)
                gap = (double)(bm->first - sm->last) / HOUR_MS;
        }
        double tau = self->o.time_tau_h;
        self->second_cos = s_slot_cos(bs, ss) *
                           (tau > 0 ? exp(-gap / tau) : 1.0);
    }
    *n_candidates = n;
    /* a late article: the events of its time may have left the window, so
     * read them from the event_time index around its own time */
    int64_t horizon = td_cluster_index_horizon(self);
    int64_t ew = (int64_t)(self->o.event_window_h * HOUR_MS);
    if (v->t != TD_TIME_NONE && horizon != TD_TIME_NONE && v->t - ew < horizon) {
        td_cur *cur;
        td_db_rc rc = td_cur_open(txn, TD_DBI_EVENT_TIME, &cur);
        if (rc)
            return rc;
        unsigned char key[8];
        td_db_timekey(v->t - ew, NULL, key, sizeof key);
        td_val k, val;
        int64_t until = v->t + (int64_t)(self->o.story_window_h * HOUR_MS);
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
    /* td_cluster_best's pass found these candidates too */
    if (!(v->gen && v->gen == self->cand_vec && self->gen == self->cand_gen))
        s_candidates(self, v);
    if (s_query_load(self, v) != 0)
        return -1;
    size_t n = self->n_rcand, k = 0;
    for (size_t i = 0; i < n; i++) {
        td_cslot *s = &self->slots[self->rcand[i]];
        if (i + 1 < n)
            s_prefetch(&self->slots[self->rcand[i + 1]]);
        if (exclude && strcmp(s->id, exclude) == 0)
            continue;
        td_cscore sc;
        if (reuse && s->sim_stamp == self->sim_stamp) {
            sc.sim = s->sim;
        } else {
            s_cent c = s_slot_cent(s, &self->meta[self->rcand[i]]);
            s_sim(self, v, &c, &sc);
        }
        if (sc.sim < self->o.story_threshold)
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
