/* cluster_int.h — what the three files of the clustering module share (not
 * a public header: only store/cluster*.c include it).
 *
 * The module is one object, td_cluster (cluster.h), split by
 * responsibility: cluster.c holds its life, options and the persisted
 * event state (the `clusters` record, centroid updates); cluster_vec.c
 * turns an article into its vectors; cluster_index.c keeps the in-memory
 * candidate index of the events in the window and scores candidates. They
 * share the object's layout (below) and a few internal entry points.
 */
#ifndef TD_CLUSTER_INT_H
#define TD_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <xxhash.h>

#include "cluster.h"
#include "dfstats.h"
#include "tokens.h"

#define VEC_MAX 512          /* distinct terms of one article */
#define CANDIDATES_MAX 4096
#define LOG_HALVES 256      /* log(tf) from a table for tf = k / 2, k <= this */
#define IDF_MEMO 4096        /* idf of df below this remembered for the current N */
#define QBITS 16384          /* bits of the article's hash filter (2 KiB) */
#define SORT_MAX 640   /* > VEC_MAX + TD_CLUSTER_TERMS: vectors sorted on the stack */

/* One posting: where its product with the article's weight is summed
 * (2 x the event's slot, + 1 when the hash is one of its entities) and the
 * weight the hash has in the event's centroid (0 once the hash left the
 * centroid; the entry stays until compaction). */
typedef struct {
    uint32_t ix;
    float w;
} td_cpe;
#define CPE_SLOT(ix) ((ix) >> 1)

typedef struct {
    uint64_t h;
    td_cpe *e;
    uint32_t n, cap;
} td_cpost;

/* What finding candidates reads for every posting: kept apart from the
 * centroids so that walking postings touches 24 bytes per event, not the
 * event's whole slot. */
typedef struct {
    int64_t first, last;
    uint32_t stamp;
    bool live;
} td_cmeta;

typedef struct {
    uint64_t h;
    float w;
} td_chw;

/* An event in the window: its norms, its centroid as a filter tag per term
 * (what exact scoring reads first), hash and weight per term, and where
 * its postings are; 2.9 KiB (a td_cterm per term made the centroid alone
 * 5.2 KiB). */
typedef struct {
    /* first: what the score from the walk's sums reads (one cache line) */
    int32_t day;
    uint32_t sim_stamp;      /* == td_cluster.sim_stamp: `sim` is the last best's */
    double sim;
    double lc, le;           /* sum of squared term / entity weights */
    double sq_lc, sq_le;     /* and their square roots */
    uint16_t n_terms, n_ents;
    uint16_t tt[TD_CLUSTER_TERMS];  /* QBIT of each hash: the filter test reads these */
    uint16_t et[TD_CLUSTER_ENTS];
    td_chw tv[TD_CLUSTER_TERMS];       /* hash and weight side by side: a term */
    td_chw ev[TD_CLUSTER_ENTS];        /* that passes the filter costs one miss */
    char id[TD_CLUSTER_ID];
    char story[TD_CLUSTER_ID];
    /* where each term's and entity's posting is in its list (to update its
     * weight in place when the centroid changes) */
    uint32_t tpos[TD_CLUSTER_TERMS], epos[TD_CLUSTER_ENTS];
} td_cslot;

typedef struct {
    uint64_t h;
    uint32_t slot;
} td_cidx;

/* The article being scored, by term hash (open addressing, h = 0 empty). */
typedef struct {
    uint64_t h;
    float w;
    uint16_t title;
    uint16_t walk;     /* (uint16_t)td_cluster.stamp: its postings were summed */
} td_cq;

/* One distinct term (or entity) of the article being vectorised. An entry
 * is in use when its gen is the table's (no clearing between articles);
 * its key is at the entry's index in the key buffer. */
typedef struct td_cacc_ {
    uint64_t h;
    double tf;
    const char *word;   /* in the article's tokens (terms: wlen bytes) */
    uint32_t gen;
    uint16_t klen;
    uint8_t wlen;
    bool title;
} td_cacc;
#define ACC_CAP 1024   /* > 2 x VEC_MAX */
#define WACC_SKIP UINT16_MAX
#define TKEY_MAX (TD_TOKEN_MAX + 2)         /* "t" + stem */
#define EKEY_MAX (TD_DB_ENTITY_KEY + 1)     /* "e" + entity key */
#define EACC_CAP 512

struct td_cluster {
    td_cluster_opts o;
    td_df *df;               /* document frequencies (in memory, see dfstats.h) */
    td_cslot *slots;
    td_cmeta *meta;            /* parallel to slots */
    /* per slot, parallel to slots: the products of the last walk's article
     * and the event's centroid, summed from the postings, for terms (even
     * index) and entities (odd): its similarity without reading the slot,
     * up to float rounding */
    float *wsum;
    size_t n_slots, cap_slots, n_dead;
    td_cpost *post;            /* term -> slots (open addressing, h = 0 empty) */
    size_t post_cap, post_used, post_total;
    td_cidx *byid;             /* event id hash -> slot */
    size_t byid_cap, byid_used;
    uint32_t stamp;
    /* similarities td_cluster_best computed for vector `sim_vec`, valid while
     * no slot changed since (`gen` counts slot changes) */
    uint32_t sim_stamp;
    uint64_t gen, sim_gen, sim_vec, vec_gen;
    int64_t clock;           /* latest event time seen (stream time) */
    bool loaded, dirty;
    unsigned ops;
    /* scratch: the article being scored (vector q_vec), by term hash, and
     * what its score needs that does not depend on the event */
    td_cq *q;
    size_t q_cap, q_mask;
    uint64_t q_bits[QBITS / 64];  /* top bits of the article's hashes: most
                                   * centroid terms miss, and are told so here */
    uint64_t q_vec;
    double q_lt, q_tau, q_thr;
    double q_simmax;         /* no similarity of the article exceeds this */
    double q_slack;          /* a similarity from the walk's float sums is
                              * within this of s_sim's */
    /* candidates of the last pass for vector cand_vec (slot generation
     * cand_gen): within the event window, and within the story window */
    uint32_t *cand, *rcand;
    double *cand_hi;         /* per candidate: no score above this (scratch) */
    size_t n_cand, n_rcand;
    uint64_t cand_vec, cand_gen;
    double log_half[LOG_HALVES + 1];  /* log(k / 2): term frequencies are sums of
                                       * the boosts, mostly halves */
    /* the article being vectorised: its terms and entities, their keys, and
     * the vectors handed out (valid until the next td_cluster_vectorize) */
    struct td_cacc_ *acc;
    struct td_cacc_ *eacc;
    uint32_t acc_gen;
    char *tkeys, *ekeys;
    /* per word of the article (td_term.word): its acc entry + 1, 0 not
     * looked up yet, WACC_SKIP not a vector term; wn = 0: no cache */
    uint16_t *wacc;
    size_t wn, wcap;
    td_cterm *vterms, *vents;
    uint32_t idf_memo_docs[IDF_MEMO];  /* idf_memo[d] is for this many documents (+1) */
    double idf_memo[IDF_MEMO];
    /* the runner-up of the last td_cluster_best */
    char second[TD_CLUSTER_ID];
    double second_score, second_cos;
};

/* XXH3 of a key, never 0 (0 marks an empty entry in the hash tables). */
static inline uint64_t td_cluster_hash(const void *p, size_t n)
{
    uint64_t h = XXH3_64bits(p, n);
    return h ? h : 1;
}

#define TD_HOUR_MS 3600000.0
#define TD_QBIT(h) ((h) >> 50)  /* a hash's bit in the article's filter (tables use
                                 * the low bits) */

/* The posting list of hash `h`, NULL when no event in the window has it. */
static inline td_cpost *td_cluster_post_find(const td_cluster *self, uint64_t h)
{
    if (!self->post_cap)
        return NULL;
    for (size_t j = h & (self->post_cap - 1); self->post[j].h;
         j = (j + 1) & (self->post_cap - 1))
        if (self->post[j].h == h)
            return &self->post[j];
    return NULL;
}

/* Sum of squared weights. */
static inline double td_cluster_sumsq(const td_chw *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i].w * v[i].w;
    return s;
}

/* The day most of an event's articles are dated (INT32_MIN: none). */
static inline int32_t td_cluster_mode_day(const td_cstate *s)
{
    int32_t best = INT32_MIN;
    uint32_t bc = 0;
    for (size_t i = 0; i < s->n_days; i++)
        if (s->day_counts[i] > bc)
            bc = s->day_counts[i], best = s->days[i];
    return best;
}

/* cluster_vec.c: sort a vector by weight, heaviest first, stably; `perm`
 * (may be NULL) receives each new position's old index (UINT32_MAX when
 * not known); only the first `limit` positions are written. */
void td_cluster_sort_w(td_cterm *v, size_t n, uint32_t *perm, size_t limit);

/* cluster_window.c: the candidate index. clear drops it all (it is read
 * back from LMDB by td_cluster_ready); horizon is the oldest last activity
 * an indexed event may have (TD_TIME_NONE before any event); set puts an
 * event's state in its slot (-1: out of memory, the index is then
 * inconsistent and must be cleared); tick advances the stream clock and
 * evicts what left the window now and then; drop forgets an event's slot. */
void td_cluster_index_clear(td_cluster *self);
int64_t td_cluster_index_horizon(const td_cluster *self);
int td_cluster_index_set(td_cluster *self, const td_cstate *st);
void td_cluster_index_tick(td_cluster *self, int64_t t);
void td_cluster_index_drop(td_cluster *self, const char *id);

#endif
