/* cluster.c — candidate index, vectors and scores of streaming event
 * detection; see cluster.h. */
#include "cluster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "dfstats.h"
#include "log.h"
#include "tokens.h"

#define VEC_MAX 512          /* distinct terms of one article */
#define QUERY_TERMS 32       /* heaviest article terms used to find candidates */
#define POSTING_MAX 4096     /* a term in more active events finds none (too common) */
#define CANDIDATES_MAX 4096
#define COLD_MAX 1024        /* events read from LMDB for a late article */
#define EVICT_EVERY 512      /* index operations between window sweeps */
#define STATE_FORMAT 1
#define HOUR_MS 3600000.0
#define LOG_HALVES 256      /* log(tf) from a table for tf = k / 2, k <= this */
#define IDF_MEMO 4096        /* idf of df below this remembered for the current N */
#define DF_AHEAD 12          /* document-frequency lookups prefetched ahead */
#define QBITS 16384          /* bits of the article's hash filter (2 KiB) */
#define QBIT(h) ((h) >> 50)  /* its bit of a hash (the table uses the low bits) */

typedef struct {
    uint64_t h;
    uint32_t *ids;
    uint32_t n, cap;
} s_post;

/* What finding candidates reads for every posting: kept apart from the
 * centroids so that walking postings touches 24 bytes per event, not the
 * event's whole slot. */
typedef struct {
    int64_t first, last;
    uint32_t stamp;
    bool live;
} s_meta;

typedef struct {
    uint64_t h;
    float w;
} s_hw;

/* An event in the window: its centroid as a filter tag per term (what
 * scoring reads first), hash and weight per term, and its norms; 2.4 KiB
 * (a td_cterm per term made it 5.2 KiB). */
typedef struct {
    char id[TD_CLUSTER_ID];
    char story[TD_CLUSTER_ID];
    int32_t day;
    uint32_t sim_stamp;      /* == td_cluster.sim_stamp: `sim` is the last best's */
    double sim;
    double lc, le;           /* sum of squared term / entity weights */
    double sq_lc, sq_le;     /* and their square roots */
    uint16_t n_terms, n_ents;
    uint16_t tt[TD_CLUSTER_TERMS];  /* QBIT of each hash: the filter test reads these */
    uint16_t et[TD_CLUSTER_ENTS];
    s_hw tv[TD_CLUSTER_TERMS];       /* hash and weight side by side: a term */
    s_hw ev[TD_CLUSTER_ENTS];        /* that passes the filter costs one miss */
} s_slot;

typedef struct {
    uint64_t h;
    uint32_t slot;
} s_idx;

/* The article being scored, by term hash (open addressing, h = 0 empty). */
typedef struct {
    uint64_t h;
    float w;
    uint32_t title;
} s_q;

/* One distinct term (or entity) of the article being vectorised. An entry
 * is in use when its gen is the table's (no clearing between articles);
 * its key is at the entry's index in the key buffer. */
typedef struct s_acc_ {
    uint64_t h;
    double tf;
    const char *word;   /* in the article's tokens (terms: wlen bytes) */
    uint32_t gen;
    uint16_t klen;
    uint8_t wlen;
    bool title;
} s_acc;
#define ACC_CAP 1024   /* > 2 x VEC_MAX */
#define TKEY_MAX (TD_TOKEN_MAX + 2)         /* "t" + stem */
#define EKEY_MAX (TD_DB_ENTITY_KEY + 1)     /* "e" + entity key */
#define EACC_CAP 512

struct td_cluster {
    td_cluster_opts o;
    td_df *df;               /* document frequencies (in memory, see dfstats.h) */
    s_slot *slots;
    s_meta *meta;            /* parallel to slots */
    size_t n_slots, cap_slots, n_dead;
    s_post *post;            /* term -> slots (open addressing, h = 0 empty) */
    size_t post_cap, post_used, post_total;
    s_idx *byid;             /* event id hash -> slot */
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
    s_q *q;
    size_t q_cap, q_mask;
    uint64_t q_bits[QBITS / 64];  /* top bits of the article's hashes: most
                                   * centroid terms miss, and are told so here */
    uint64_t q_vec;
    double q_lt, q_tau, q_thr;
    double q_simmax;         /* no similarity of the article exceeds this */
    /* candidates of the last pass for vector cand_vec (slot generation
     * cand_gen): within the event window, and within the story window */
    uint32_t *cand, *rcand;
    size_t n_cand, n_rcand;
    uint64_t cand_vec, cand_gen;
    double log_half[LOG_HALVES + 1];  /* log(k / 2): term frequencies are sums of
                                       * the boosts, mostly halves */
    /* the article being vectorised: its terms and entities, their keys, and
     * the vectors handed out (valid until the next td_cluster_vectorize) */
    struct s_acc_ *acc;
    struct s_acc_ *eacc;
    uint32_t acc_gen;
    char *tkeys, *ekeys;
    td_cterm *vterms, *vents;
    uint32_t idf_memo_docs[IDF_MEMO];  /* idf_memo[d] is for this many documents (+1) */
    double idf_memo[IDF_MEMO];
    /* the runner-up of the last td_cluster_best */
    char second[TD_CLUSTER_ID];
    double second_score, second_cos;
};

/* ---- options -------------------------------------------------------------- */

void td_cluster_opts_default(td_cluster_opts *o)
{
    /* Frozen from the tuning runs of docs/events.md (UCI headlines for the
     * event level, SemEval pairs and the seeds as checks). */
    *o = (td_cluster_opts){
        .threshold = 0.07,
        .w_text = 0.85,
        .w_ent = 0.15,
        .time_tau_h = 3.0,
        .time_tau_long_h = 24.0,
        .threshold_long = 0.2,
        .evidence_lo = 15,
        .evidence_hi = 75,
        .time_floor = 0.05,
        .event_window_h = 72.0,
        .story_window_h = 14 * 24.0,
        .date_penalty = 0.6,
        .story_threshold = 0.25,
        .title_boost = 1.0,
        .lead_boost = 1.5,
        .lead_tokens = 60,
        .body_tokens = 600,
        .merge_score = 1.0,
        .merge_cos = 0.2,
        .merge_max = 256,
    };
    const char *env = getenv("TIDINGS_CLUSTER");
    if (!env)
        return;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        double v = atof(eq + 1);
        struct { const char *name; double *p; } dbl[] = {
            {"threshold", &o->threshold}, {"w_text", &o->w_text}, {"w_ent", &o->w_ent},
            {"time_tau_h", &o->time_tau_h}, {"time_floor", &o->time_floor},
            {"time_tau_long_h", &o->time_tau_long_h}, {"threshold_long", &o->threshold_long},
            {"event_window_h", &o->event_window_h}, {"story_window_h", &o->story_window_h},
            {"date_penalty", &o->date_penalty}, {"story_threshold", &o->story_threshold},
            {"title_boost", &o->title_boost}, {"lead_boost", &o->lead_boost},
            {"merge_score", &o->merge_score}, {"merge_cos", &o->merge_cos},
        };
        bool known = false;
        for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++)
            if (strcmp(kv, dbl[i].name) == 0) {
                *dbl[i].p = v;
                known = true;
            }
        if (strcmp(kv, "lead_tokens") == 0)
            o->lead_tokens = (int)v, known = true;
        if (strcmp(kv, "evidence_lo") == 0)
            o->evidence_lo = (int)v, known = true;
        if (strcmp(kv, "evidence_hi") == 0)
            o->evidence_hi = (int)v, known = true;
        if (strcmp(kv, "body_tokens") == 0)
            o->body_tokens = (int)v, known = true;
        if (strcmp(kv, "merge_max") == 0)
            o->merge_max = (int)v, known = true;
        if (!known)
            td_warn("TIDINGS_CLUSTER: unknown setting '%s' ignored", kv);
    }
}

/* ---- life ----------------------------------------------------------------- */

td_cluster *td_cluster_new(const td_cluster_opts *opts)
{
    td_cluster *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (opts)
        self->o = *opts;
    else
        td_cluster_opts_default(&self->o);
    self->df = td_df_new();
    self->q_cap = 1024;
    self->q = calloc(self->q_cap, sizeof *self->q);
    self->cand = malloc(CANDIDATES_MAX * sizeof *self->cand);
    self->rcand = malloc(CANDIDATES_MAX * sizeof *self->rcand);
    self->acc = calloc(ACC_CAP, sizeof *self->acc);
    self->eacc = calloc(EACC_CAP, sizeof *self->eacc);
    self->tkeys = malloc(ACC_CAP * TKEY_MAX);
    self->ekeys = malloc(EACC_CAP * EKEY_MAX);
    self->vterms = malloc(VEC_MAX * sizeof *self->vterms);
    self->vents = malloc(EACC_CAP / 2 * sizeof *self->vents);
    self->clock = TD_TIME_NONE;
    for (int k = 1; k <= LOG_HALVES; k++)
        self->log_half[k] = log(k / 2.0);
    if (!self->df || !self->q || !self->cand || !self->rcand || !self->acc || !self->eacc ||
        !self->tkeys || !self->ekeys || !self->vterms || !self->vents)
        td_cluster_destroy(&self);
    return self;
}

static void s_clear(td_cluster *self)
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

void td_cluster_destroy(td_cluster **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_cluster *self = *self_p;
    s_clear(self);
    td_df_destroy(&self->df);
    free(self->q);
    free(self->cand);
    free(self->rcand);
    free(self->acc);
    free(self->eacc);
    free(self->tkeys);
    free(self->ekeys);
    free(self->vterms);
    free(self->vents);
    free(self);
    *self_p = NULL;
}

const td_cluster_opts *td_cluster_opts_of(const td_cluster *self)
{
    return &self->o;
}

size_t td_cluster_live(const td_cluster *self)
{
    return self->n_slots - self->n_dead;
}

void td_cluster_committed(td_cluster *self)
{
    self->dirty = false;
    td_df_committed(self->df);
}

td_db_rc td_cluster_flush(td_cluster *self, td_txn *txn)
{
    return td_df_flush(self->df, txn);
}

void td_cluster_aborted(td_cluster *self)
{
    td_df_aborted(self->df);
    /* the index may hold events of the abandoned transaction: drop it and
     * read it back from what is committed */
    if (self->dirty)
        s_clear(self);
    self->dirty = false;
}

int32_t td_cluster_day(const char *d)
{
    int y, m, dd;
    char tail;
    if (!d || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3 || m < 1 || m > 12 ||
        dd < 1 || dd > 31)
        return INT32_MIN;
    /* days from civil (Howard Hinnant) */
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

/* ---- vectors -------------------------------------------------------------- */


static uint64_t s_hash(const void *p, size_t n)
{
    uint64_t h = XXH3_64bits(p, n);
    return h ? h : 1;
}

/* The entry of `h`, or the free one where it goes (gen != `gen`). */
static s_acc *s_acc_find(s_acc *tab, size_t cap, uint32_t gen, uint64_t h)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (tab[i].gen != gen || tab[i].h == h)
            return &tab[i];
}

static int s_cmp_w(const void *a, const void *b)
{
    float x = ((const td_cterm *)a)->w, y = ((const td_cterm *)b)->w;
    return x < y ? 1 : x > y ? -1 : 0;
}

#define SORT_MAX 640   /* > VEC_MAX + TD_CLUSTER_TERMS: vectors sorted on the stack */

/* Bottom-up merge sort of `n` keys, `tmp` as scratch; returns the sorted. */
static uint64_t *s_msort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        uint64_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* Sort by weight, heaviest first, equal weights in their present order:
 * what glibc's qsort (a stable merge sort) with s_cmp_w gives, without a
 * call through a pointer per comparison. The key of an entry is its weight's
 * bits (a float >= 0 orders like its bits), inverted, then its position.
 * `perm` (may be NULL) receives each new position's old index. Only the
 * first `limit` positions are written (a centroid keeps its heaviest). */
static void s_sort_w(td_cterm *v, size_t n, uint32_t *perm, size_t limit)
{
    uint64_t k[SORT_MAX], scratch[SORT_MAX];
    bool plain = n <= SORT_MAX;
    for (size_t i = 0; plain && i < n; i++) {
        uint32_t b;
        memcpy(&b, &v[i].w, sizeof b);
        if ((b & 0x80000000u) || isnan(v[i].w))
            plain = false; /* negative or NaN: not from td_cluster_vectorize */
        else
            k[i] = (uint64_t)(uint32_t)~b << 32 | i;
    }
    if (!plain) {
        /* the generic way (stable too); no permutation to tell */
        for (size_t i = 0; perm && i < n; i++)
            perm[i] = UINT32_MAX;
        qsort(v, n, sizeof *v, s_cmp_w);
        return;
    }
    if (n < 2) {
        if (perm && n)
            perm[0] = 0;
        return;
    }
    uint64_t *sorted = s_msort_u64(k, scratch, n);
    td_cterm tmp[SORT_MAX];
    if (limit < n)
        n = limit;
    for (size_t i = 0; i < n; i++) {
        uint32_t from = (uint32_t)sorted[i];
        tmp[i] = v[from];
        if (perm)
            perm[i] = from;
    }
    memcpy(v, tmp, n * sizeof *v);
}

static size_t s_tokens(td_cluster *self, const td_term *tok, size_t ntok, double boost,
                       double lead_boost, int lead, int max, bool title, size_t n)
{
    int i = 0;
    s_acc *tab = self->acc;
    uint32_t gen = self->acc_gen;
    char key[TKEY_MAX];
    for (size_t k = 0; k < ntok && i < max; k++) {
        const td_term *t = &tok[k];
        i++;
        if (t->stop || t->norm_len < 2 || t->stem_len > TD_TOKEN_MAX)
            continue;
        key[0] = 't';
        memcpy(key + 1, t->stem, t->stem_len);
        uint64_t h = s_hash(key, t->stem_len + 1);
        s_acc *a = s_acc_find(tab, ACC_CAP, gen, h);
        if (a->gen != gen) {
            if (n >= VEC_MAX)
                continue;
            /* the display form is copied only if the term makes it into a
             * centroid (s_merge_vec) */
            *a = (s_acc){.h = h, .gen = gen, .klen = (uint16_t)(t->stem_len + 1)};
            /* (our tokenizer cuts words to TD_TOKEN_MAX; a longer one from
             * elsewhere gets no display form rather than a cut one) */
            if (t->norm_len <= TD_TOKEN_MAX)
                a->word = t->norm, a->wlen = (uint8_t)t->norm_len;
            memcpy(self->tkeys + (a - tab) * TKEY_MAX, key, t->stem_len + 1);
            n++;
        }
        a->tf += i <= lead ? boost * lead_boost : boost;
        a->title = a->title || title;
    }
    return n;
}

static void s_unit(td_cterm *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i].w * v[i].w;
    s = sqrt(s);
    for (size_t i = 0; s > 0 && i < n; i++)
        v[i].w = (float)(v[i].w / s);
}

/* Headline feeds send the title again as the body: count it once. */
static bool s_same_text(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    while (*a == ' ' || *a == '\n')
        a++;
    while (*b == ' ' || *b == '\n')
        b++;
    size_t la = strlen(a), lb = strlen(b);
    while (la && (a[la - 1] == ' ' || a[la - 1] == '\n'))
        la--;
    while (lb && (b[lb - 1] == ' ' || b[lb - 1] == '\n'))
        lb--;
    return la == lb && memcmp(a, b, la) == 0;
}

/* log(tf), from the table when tf is a small multiple of 1/2 (the same
 * value: the same function of the same argument). */
static double s_log_tf(const td_cluster *self, double tf)
{
    double k = tf * 2;
    if (k >= 1 && k <= LOG_HALVES && k == (double)(int)k)
        return self->log_half[(int)k];
    return log(tf);
}

/* idf for `docs` documents, the same value td_df_idf gives: small document
 * frequencies repeat across an article's terms, and the log is remembered
 * for as long as the document count stays. */
static double s_idf_memo(td_cluster *self, uint64_t docs, uint32_t df)
{
    if (df >= IDF_MEMO || docs >= UINT32_MAX)
        return td_df_idf(docs, df);
    if (self->idf_memo_docs[df] != (uint32_t)docs + 1) {
        self->idf_memo[df] = td_df_idf(docs, df);
        self->idf_memo_docs[df] = (uint32_t)docs + 1;
    }
    return self->idf_memo[df];
}

int td_cluster_vectorize(td_cluster *self, td_txn *txn, const td_article *a,
                         const td_terms *terms, td_arena *arena, td_cvec *out)
{
    (void)arena;
    memset(out, 0, sizeof *out);
    out->gen = ++self->vec_gen;
    out->t = a->published_at;
    out->day = td_cluster_day(a->event_date);
    if (++self->acc_gen == 0) {
        /* after 2^32 articles: clear once, so no old entry looks current */
        memset(self->acc, 0, ACC_CAP * sizeof *self->acc);
        memset(self->eacc, 0, EACC_CAP * sizeof *self->eacc);
        self->acc_gen = 1;
    }
    uint32_t gen = self->acc_gen;
    size_t n = 0, ntok;
    const td_cluster_opts *o = &self->o;
    const td_term *tok = td_terms_get(terms, TD_TERMS_TITLE, &ntok);
    n = s_tokens(self, tok, ntok, o->title_boost, 1.0, 0, 64, true, n);
    out->headline = s_same_text(a->title, a->body) || !a->body || !*a->body;
    tok = td_terms_get(terms, TD_TERMS_BODY, &ntok);
    if (!out->headline)
        n = s_tokens(self, tok, ntok, 1.0, o->lead_boost, o->lead_tokens, o->body_tokens,
                     false, n);
    /* entities: a separate vector, keyed like the entities database */
    size_t ne = 0;
    s_acc *tab = self->acc, *etab = self->eacc;
    char key[EKEY_MAX];
    for (size_t i = 0; i < a->n_entities && ne < EACC_CAP / 2; i++) {
        size_t kl = td_db_entity_norm(a->entities[i].name, key + 1, sizeof key - 1);
        if (!kl)
            continue;
        key[0] = 'e';
        uint64_t h = s_hash(key, kl + 1);
        s_acc *e = s_acc_find(etab, EACC_CAP, gen, h);
        if (e->gen != gen) {
            *e = (s_acc){.h = h, .gen = gen, .word = a->entities[i].name,
                         .klen = (uint16_t)(kl + 1)};
            memcpy(self->ekeys + (e - etab) * EKEY_MAX, key, kl + 1);
            ne++;
        }
        e->tf += a->entities[i].count ? a->entities[i].count : 1;
    }
    uint64_t docs = td_df_docs(self->df, txn);
    /* the entries in table order (the vector's order before sorting: equal
     * weights keep it), and their document frequencies' table entries asked
     * for a few lookups ahead */
    uint16_t used[VEC_MAX];
    size_t nu = 0;
    for (size_t i = 0; i < ACC_CAP && nu < VEC_MAX; i++)
        if (tab[i].gen == gen)
            used[nu++] = (uint16_t)i;
    for (size_t k = 0; k < nu && k < DF_AHEAD; k++)
        td_df_prefetch(self->df, tab[used[k]].h);
    out->terms = self->vterms;
    out->ents = self->vents;
    for (size_t u = 0; u < nu; u++) {
        size_t i = used[u];
        if (u + DF_AHEAD < nu)
            td_df_prefetch(self->df, tab[used[u + DF_AHEAD]].h);
        td_cterm *t = &out->terms[out->n_terms++];
        const char *k = self->tkeys + i * TKEY_MAX;
        uint32_t df = td_df_get_h(self->df, txn, tab[i].h, k, tab[i].klen);
        double idf = s_idf_memo(self, docs, df);
        *t = (td_cterm){.h = tab[i].h,
                        .w = (float)((1.0 + s_log_tf(self, tab[i].tf)) * idf),
                        .word = tab[i].word,
                        .wlen = tab[i].wlen,
                        .key = k,
                        .klen = tab[i].klen,
                        .in_title = tab[i].title};
    }
    for (size_t i = 0; i < EACC_CAP; i++) {
        if (etab[i].gen != gen)
            continue;
        td_cterm *t = &out->ents[out->n_ents++];
        const char *k = self->ekeys + i * EKEY_MAX;
        uint32_t df = td_df_get_h(self->df, txn, etab[i].h, k, etab[i].klen);
        *t = (td_cterm){.h = etab[i].h,
                        .w = (float)((1.0 + s_log_tf(self, etab[i].tf)) *
                                     s_idf_memo(self, docs, df)),
                        .word = etab[i].word,
                        .key = k,
                        .klen = etab[i].klen};
    }
    s_unit(out->terms, out->n_terms);
    s_unit(out->ents, out->n_ents);
    s_sort_w(out->terms, out->n_terms, NULL, SIZE_MAX);
    s_sort_w(out->ents, out->n_ents, NULL, SIZE_MAX);
    return 0;
}

td_db_rc td_cluster_count(td_cluster *self, td_txn *txn, const td_cvec *v)
{
    const void *keys[VEC_MAX + 256];
    size_t lens[VEC_MAX + 256], k = 0;
    uint64_t hs[VEC_MAX + 256];
    for (size_t i = 0; i < v->n_terms + v->n_ents && k < VEC_MAX + 256; i++) {
        const td_cterm *t = i < v->n_terms ? &v->terms[i] : &v->ents[i - v->n_terms];
        if (!t->key)
            continue;
        keys[k] = t->key;
        /* vectors of td_cluster_vectorize carry the key's length and hash */
        lens[k] = t->klen ? t->klen : strlen(t->key);
        hs[k++] = t->klen ? t->h : s_hash(t->key, strlen(t->key));
    }
    return td_df_add_h(self->df, txn, hs, keys, lens, k);
}

double td_cluster_cos(const td_cterm *a, size_t na, const td_cterm *b, size_t nb)
{
    double dot = 0, la = 0, lb = 0;
    for (size_t i = 0; i < na; i++)
        la += (double)a[i].w * a[i].w;
    for (size_t j = 0; j < nb; j++)
        lb += (double)b[j].w * b[j].w;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (a[i].h == b[j].h) {
                dot += (double)a[i].w * b[j].w;
                break;
            }
    return la > 0 && lb > 0 ? dot / sqrt(la * lb) : 0.0;
}

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
        s_q *q = realloc(self->q, need * sizeof *q);
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
        self->q[j] = (s_q){.h = t->h, .w = t->w, .title = i < v->n_terms && t->in_title};
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
    const s_hw *tv, *ev;
    size_t nt, ne;
    double lc, le, sq_lc, sq_le;
} s_cent;

/* The similarity parts only (what td_cluster_related needs). The query of
 * `v` must be loaded. Sums run in centroid order, as they always did, so
 * scores do not move with the table layout. */
static void s_sim(const td_cluster *self, const td_cvec *v, const s_cent *c, td_cscore *out)
{
    const td_cluster_opts *o = &self->o;
    const s_q *q = self->q;
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

static double s_sumsq(const s_hw *v, size_t n)
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
    s_hw tv[TD_CLUSTER_TERMS], ev[TD_CLUSTER_ENTS];
    uint16_t tt[TD_CLUSTER_TERMS], et[TD_CLUSTER_ENTS];
    s_cent c = {.first = s->first, .last = s->last, .day = s_mode_day(s), .tt = tt, .et = et,
                .tv = tv, .ev = ev, .nt = s->n_terms, .ne = s->n_ents};
    for (size_t i = 0; i < c.nt; i++) {
        tv[i] = (s_hw){.h = s->terms[i].h, .w = s->terms[i].w};
        tt[i] = (uint16_t)QBIT(tv[i].h);
    }
    for (size_t i = 0; i < c.ne; i++) {
        ev[i] = (s_hw){.h = s->ents[i].h, .w = s->ents[i].w};
        et[i] = (uint16_t)QBIT(ev[i].h);
    }
    c.lc = s_sumsq(tv, c.nt);
    c.le = s_sumsq(ev, c.ne);
    c.sq_lc = sqrt(c.lc);
    c.sq_le = sqrt(c.le);
    s_score(self, v, &c, out);
}

static s_cent s_slot_cent(const s_slot *s, const s_meta *m)
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

/* ---- persisted state ---------------------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
    bool bad;
} s_buf;

static void s_put(s_buf *b, const void *d, size_t n)
{
    if (b->bad || b->n + n > b->cap) {
        b->bad = true;
        return;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void s_u64(s_buf *b, uint64_t x) { s_put(b, &x, 8); }
static void s_u32(s_buf *b, uint32_t x) { s_put(b, &x, 4); }
static void s_u16(s_buf *b, uint16_t x) { s_put(b, &x, 2); }
static void s_str(s_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 1000)
        n = 1000;
    s_u16(b, (uint16_t)n);
    s_put(b, s ? s : "", n);
}

typedef struct {
    const unsigned char *p;
    size_t n, at;
    bool bad;
} s_rd;

static void s_get(s_rd *r, void *d, size_t n)
{
    if (r->bad || r->at + n > r->n) {
        r->bad = true;
        memset(d, 0, n);
        return;
    }
    memcpy(d, r->p + r->at, n);
    r->at += n;
}
static uint64_t s_g64(s_rd *r) { uint64_t x; s_get(r, &x, 8); return x; }
static uint32_t s_g32(s_rd *r) { uint32_t x; s_get(r, &x, 4); return x; }
static uint16_t s_g16(s_rd *r) { uint16_t x; s_get(r, &x, 2); return x; }
static char *s_gstr(s_rd *r, td_arena *arena)
{
    uint16_t n = s_g16(r);
    if (r->bad || r->at + n > r->n) {
        r->bad = true;
        return NULL;
    }
    char *s = td_arena_strndup(arena, (const char *)r->p + r->at, n);
    r->at += n;
    if (!s)
        r->bad = true;
    return s;
}

/* The record is machine-local (host byte order): it is a cache of the
 * event's clustering state, rebuilt only by this store. */
static size_t s_state_pack(const td_cstate *s, unsigned char *p, size_t cap)
{
    s_buf b = {p, 0, cap, false};
    unsigned char fmt = STATE_FORMAT;
    s_put(&b, &fmt, 1);
    s_str(&b, s->id);
    s_str(&b, s->story);
    s_u64(&b, (uint64_t)s->first);
    s_u64(&b, (uint64_t)s->last);
    s_u32(&b, s->articles);
    s_u32(&b, s->independent);
    s_put(&b, &s->central, sizeof s->central);
    s_str(&b, s->central_id);
    s_u16(&b, (uint16_t)s->n_terms);
    for (size_t i = 0; i < s->n_terms; i++) {
        s_u64(&b, s->terms[i].h);
        s_put(&b, &s->terms[i].w, 4);
        s_str(&b, s->terms[i].word);
    }
    s_u16(&b, (uint16_t)s->n_ents);
    for (size_t i = 0; i < s->n_ents; i++) {
        s_u64(&b, s->ents[i].h);
        s_put(&b, &s->ents[i].w, 4);
    }
    s_u16(&b, (uint16_t)s->n_recent);
    for (size_t i = 0; i < s->n_recent; i++)
        s_str(&b, s->recent[i]);
    s_u16(&b, (uint16_t)s->n_sources);
    for (size_t i = 0; i < s->n_sources; i++)
        s_u64(&b, s->sources[i]);
    s_u32(&b, s->extra_sources);
    s_u16(&b, (uint16_t)s->n_days);
    for (size_t i = 0; i < s->n_days; i++) {
        s_u32(&b, (uint32_t)s->days[i]);
        s_u32(&b, s->day_counts[i]);
    }
    return b.bad ? 0 : b.n;
}

static int s_state_unpack(const void *data, size_t len, td_arena *arena, td_cstate *s)
{
    s_rd r = {data, len, 0, false};
    memset(s, 0, sizeof *s);
    unsigned char fmt = 0;
    s_get(&r, &fmt, 1);
    if (fmt != STATE_FORMAT)
        return -1;
    s->id = s_gstr(&r, arena);
    s->story = s_gstr(&r, arena);
    s->first = (int64_t)s_g64(&r);
    s->last = (int64_t)s_g64(&r);
    s->articles = s_g32(&r);
    s->independent = s_g32(&r);
    s_get(&r, &s->central, sizeof s->central);
    s->central_id = s_gstr(&r, arena);
    s->n_terms = s_g16(&r);
    if (s->n_terms > TD_CLUSTER_TERMS)
        return -1;
    for (size_t i = 0; i < s->n_terms; i++) {
        s->terms[i].h = s_g64(&r);
        s_get(&r, &s->terms[i].w, 4);
        s->terms[i].word = s_gstr(&r, arena);
    }
    s->n_ents = s_g16(&r);
    if (s->n_ents > TD_CLUSTER_ENTS)
        return -1;
    for (size_t i = 0; i < s->n_ents; i++) {
        s->ents[i].h = s_g64(&r);
        s_get(&r, &s->ents[i].w, 4);
    }
    s->n_recent = s_g16(&r);
    if (s->n_recent > TD_CLUSTER_RECENT)
        return -1;
    for (size_t i = 0; i < s->n_recent; i++)
        s->recent[i] = s_gstr(&r, arena);
    s->n_sources = s_g16(&r);
    if (s->n_sources > TD_CLUSTER_SOURCES)
        return -1;
    for (size_t i = 0; i < s->n_sources; i++)
        s->sources[i] = s_g64(&r);
    s->extra_sources = s_g32(&r);
    s->n_days = s_g16(&r);
    if (s->n_days > TD_CLUSTER_DAYS)
        return -1;
    for (size_t i = 0; i < s->n_days; i++) {
        s->days[i] = (int32_t)s_g32(&r);
        s->day_counts[i] = s_g32(&r);
    }
    return r.bad ? -1 : 0;
}

td_db_rc td_cluster_get(td_txn *txn, const char *id, td_arena *arena, td_cstate *out)
{
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_CLUSTERS, id, strlen(id), &v);
    if (rc)
        return rc;
    if (s_state_unpack(v.data, v.len, arena, out) != 0) {
        td_warn("clustering state of event %s does not decode: ignored", id);
        return TD_DB_NOTFOUND;
    }
    return TD_DB_OK;
}

/* ---- the index ------------------------------------------------------------- */

static int s_post_grow(td_cluster *self)
{
    size_t cap = self->post_cap ? self->post_cap * 2 : 4096;
    s_post *t = calloc(cap, sizeof *t);
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

static s_post *s_post_find(const td_cluster *self, uint64_t h)
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
    s_post *p = &self->post[j];
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
    s_idx *t = calloc(cap, sizeof *t);
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

static s_idx *s_byid_slot(td_cluster *self, const char *id, bool add)
{
    uint64_t h = s_hash(id, strlen(id));
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
        s_slot *s = &self->slots[i];
        s_idx *x = s_byid_slot(self, s->id, true);
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

static int64_t s_horizon(const td_cluster *self)
{
    if (self->clock == TD_TIME_NONE)
        return TD_TIME_NONE;
    return self->clock - (int64_t)(self->o.story_window_h * HOUR_MS);
}

static void s_evict(td_cluster *self)
{
    int64_t horizon = s_horizon(self);
    if (horizon == TD_TIME_NONE)
        return;
    for (size_t i = 0; i < self->n_slots; i++) {
        s_meta *m = &self->meta[i];
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
            s_clear(self);
        }
    }
}

static void s_tick(td_cluster *self, int64_t t)
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

static int s_slot_set(td_cluster *self, const td_cstate *st)
{
    if (!st->id || strlen(st->id) >= TD_CLUSTER_ID)
        return 0; /* such an id cannot be a candidate; it still works from LMDB */
    self->gen++;
    s_idx *x = s_byid_slot(self, st->id, true);
    if (!x)
        return -1;
    s_slot *s;
    s_meta *m;
    bool fresh = x->slot == UINT32_MAX;
    /* the hashes the slot had: terms and entities apart (a term and an
     * entity never share a hash: their keys differ in the first byte) */
    uint64_t had_t[HSET_CAP], had_e[HSET_CAP];
    if (fresh) {
        if (self->n_slots == self->cap_slots) {
            size_t cap = self->cap_slots ? self->cap_slots * 2 : 256;
            s_slot *n = realloc(self->slots, cap * sizeof *n);
            if (!n)
                return -1;
            self->slots = n;
            s_meta *nm = realloc(self->meta, cap * sizeof *nm);
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
        s->tv[i] = (s_hw){.h = st->terms[i].h, .w = st->terms[i].w};
        s->tt[i] = (uint16_t)QBIT(s->tv[i].h);
    }
    for (size_t i = 0; i < st->n_ents; i++) {
        s->ev[i] = (s_hw){.h = st->ents[i].h, .w = st->ents[i].w};
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

td_db_rc td_cluster_put(td_cluster *self, td_txn *txn, const td_cstate *s)
{
    unsigned char *buf = malloc(65536);
    if (!buf)
        return TD_DB_ERROR;
    size_t n = s_state_pack(s, buf, 65536);
    td_db_rc rc = n ? td_txn_put(txn, TD_DBI_CLUSTERS, s->id, strlen(s->id), buf, n)
                    : TD_DB_BADVAL;
    free(buf);
    if (rc)
        return rc;
    self->dirty = true;
    /* a late article's event outside the window is kept in LMDB only */
    int64_t horizon = s_horizon(self);
    if (horizon == TD_TIME_NONE || s->last >= horizon) {
        if (s_slot_set(self, s) != 0) {
            td_warn("candidate index: out of memory; rebuilding it from the database");
            s_clear(self);
        }
    }
    s_tick(self, s->last);
    return TD_DB_OK;
}

td_db_rc td_cluster_ready(td_cluster *self, td_txn *txn)
{
    if (self->loaded)
        return TD_DB_OK;
    s_clear(self);
    td_cur *cur;
    td_db_rc rc = td_cur_open(txn, TD_DBI_EVENT_TIME, &cur);
    if (rc)
        return rc;
    td_arena *arena = td_arena_new(0);
    if (!arena) {
        td_cur_close(&cur);
        return TD_DB_ERROR;
    }
    td_val k, v;
    int64_t horizon = TD_TIME_NONE;
    size_t loaded = 0;
    /* newest activity first, back to the window's edge */
    for (rc = td_cur_last(cur, &k, &v); rc == TD_DB_OK; rc = td_cur_prev(cur, &k, &v)) {
        int64_t t;
        const char *id;
        size_t idlen;
        if (td_db_timekey_split(k.data, k.len, &t, &id, &idlen) != 0)
            continue;
        if (horizon == TD_TIME_NONE) {
            self->clock = t;
            horizon = s_horizon(self);
        }
        if (t < horizon)
            break;
        char *eid = td_arena_strndup(arena, id, idlen);
        td_cstate st;
        if (eid && td_cluster_get(txn, eid, arena, &st) == TD_DB_OK) {
            if (s_slot_set(self, &st) != 0) {
                rc = TD_DB_ERROR;
                break;
            }
            loaded++;
        }
        if (td_arena_used(arena) > (32u << 20))
            td_arena_reset(arena);
    }
    td_cur_close(&cur);
    td_arena_destroy(&arena);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND) {
        s_clear(self);
        return rc;
    }
    self->loaded = true;
    if (loaded)
        td_info("candidate index: %zu events of the last %.0f h loaded", loaded,
                self->o.story_window_h);
    return TD_DB_OK;
}

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
        s_post *p = s_post_find(self, h);
        if (!p || p->n > POSTING_MAX)
            continue;
        for (uint32_t i = 0; i < p->n && (n < CANDIDATES_MAX || nr < CANDIDATES_MAX); i++) {
            s_meta *m = &self->meta[p->ids[i]];
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
static void s_prefetch(const s_slot *s)
{
    __builtin_prefetch(s);
    __builtin_prefetch((const char *)s->tt);
    __builtin_prefetch((const char *)s->tt + 64);
    __builtin_prefetch((const char *)s->tt + 128);
    __builtin_prefetch((const char *)s->et);
}

/* Centroid cosine of two slots (td_cluster_cos on the slot layout). */
static double s_slot_cos(const s_slot *a, const s_slot *b)
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
    s_slot *bs = NULL, *ss = NULL;
    s_meta *bm = NULL, *sm = NULL;
    self->second[0] = '\0';
    self->second_score = self->second_cos = 0;
    for (size_t i = 0; i < n; i++) {
        s_slot *s = &self->slots[self->cand[i]];
        s_meta *m = &self->meta[self->cand[i]];
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
    int64_t horizon = s_horizon(self);
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

td_db_rc td_cluster_del(td_cluster *self, td_txn *txn, const char *id)
{
    td_db_rc rc = td_txn_del(txn, TD_DBI_CLUSTERS, id, strlen(id));
    if (rc && rc != TD_DB_NOTFOUND)
        return rc;
    self->dirty = true;
    self->gen++;
    s_idx *x = s_byid_slot(self, id, false);
    if (x && x->slot != UINT32_MAX && self->meta[x->slot].live) {
        self->meta[x->slot].live = false;
        self->n_dead++;
    }
    return TD_DB_OK;
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
        s_slot *s = &self->slots[self->rcand[i]];
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

/* ---- centroid ------------------------------------------------------------- */

/* dst (nd terms, room for cap) += src, keeping the heaviest cap terms. */
static size_t s_merge_vec(td_cterm *dst, size_t nd, size_t cap, const td_cterm *src,
                          size_t ns, td_arena *arena)
{
    td_cterm stack[SORT_MAX];
    td_cterm *tmp =
        nd + ns <= SORT_MAX ? stack : td_arena_alloc(arena, (nd + ns + 1) * sizeof *tmp);
    if (!tmp)
        return nd;
    memcpy(tmp, dst, nd * sizeof *tmp);
    /* dst's terms by hash (the first of equal ones, as a scan would find) */
    enum { SLOTS = 256 };  /* > 2 x TD_CLUSTER_TERMS */
    uint64_t th[SLOTS];
    uint16_t ti[SLOTS];
    bool hashed = nd * 2 <= SLOTS;
    if (hashed) {
        memset(th, 0, sizeof th);
        for (size_t j = 0; j < nd; j++) {
            size_t x = tmp[j].h & (SLOTS - 1);
            while (th[x] && th[x] != tmp[j].h)
                x = (x + 1) & (SLOTS - 1);
            if (!th[x])
                th[x] = tmp[j].h, ti[x] = (uint16_t)j;
        }
    }
    size_t n = nd;
    for (size_t i = 0; i < ns; i++) {
        size_t j = nd;
        if (hashed && src[i].h) {
            for (size_t x = src[i].h & (SLOTS - 1); th[x]; x = (x + 1) & (SLOTS - 1))
                if (th[x] == src[i].h) {
                    j = ti[x];
                    break;
                }
        } else {
            j = 0;
            while (j < nd && tmp[j].h != src[i].h)
                j++;
        }
        if (j < nd) {
            tmp[j].w += src[i].w;
        } else {
            tmp[n] = src[i];
            tmp[n].in_title = false;
            tmp[n].key = NULL;
            tmp[n].klen = 0;
            n++;
        }
    }
    uint32_t perm[SORT_MAX];
    bool known = n <= SORT_MAX;
    s_sort_w(tmp, n, known ? perm : NULL, cap);
    if (n > cap)
        n = cap;
    /* the words of new terms that stay are copied (only those: most of an
     * article's terms do not make it into the centroid) */
    for (size_t i = 0; i < n; i++)
        if (tmp[i].word && (!known || perm[i] >= nd || tmp[i].wlen)) {
            tmp[i].word = tmp[i].wlen ? td_arena_strndup(arena, tmp[i].word, tmp[i].wlen)
                                      : td_arena_strdup(arena, tmp[i].word);
            tmp[i].wlen = 0;
        }
    memcpy(dst, tmp, n * sizeof *tmp);
    return n;
}

void td_cluster_absorb(td_cstate *keep, const td_cstate *gone, td_arena *arena)
{
    keep->n_terms = s_merge_vec(keep->terms, keep->n_terms, TD_CLUSTER_TERMS, gone->terms,
                                gone->n_terms, arena);
    keep->n_ents = s_merge_vec(keep->ents, keep->n_ents, TD_CLUSTER_ENTS, gone->ents,
                               gone->n_ents, arena);
    for (size_t i = 0; i < keep->n_ents; i++)
        keep->ents[i].word = NULL;
    if (gone->first != TD_TIME_NONE && (keep->first == TD_TIME_NONE || gone->first < keep->first))
        keep->first = gone->first;
    if (gone->last != TD_TIME_NONE && (keep->last == TD_TIME_NONE || gone->last > keep->last))
        keep->last = gone->last;
    keep->articles += gone->articles;
    keep->independent += gone->independent;
    for (size_t i = 0; i < gone->n_recent; i++) {
        if (keep->n_recent == TD_CLUSTER_RECENT) {
            memmove(keep->recent, keep->recent + 1,
                    (TD_CLUSTER_RECENT - 1) * sizeof *keep->recent);
            keep->n_recent--;
        }
        keep->recent[keep->n_recent++] = gone->recent[i];
    }
    for (size_t i = 0; i < gone->n_sources; i++) {
        bool have = false;
        for (size_t j = 0; j < keep->n_sources && !have; j++)
            have = keep->sources[j] == gone->sources[i];
        if (have)
            continue;
        if (keep->n_sources < TD_CLUSTER_SOURCES)
            keep->sources[keep->n_sources++] = gone->sources[i];
        else
            keep->extra_sources++;
    }
    keep->extra_sources += gone->extra_sources;
    for (size_t i = 0; i < gone->n_days; i++) {
        size_t j = 0;
        while (j < keep->n_days && keep->days[j] != gone->days[i])
            j++;
        if (j < keep->n_days) {
            keep->day_counts[j] += gone->day_counts[i];
        } else if (keep->n_days < TD_CLUSTER_DAYS) {
            keep->days[keep->n_days] = gone->days[i];
            keep->day_counts[keep->n_days++] = gone->day_counts[i];
        }
    }
}

void td_cluster_merge(td_cstate *s, const td_cvec *v, td_arena *arena)
{
    s->n_terms = s_merge_vec(s->terms, s->n_terms, TD_CLUSTER_TERMS, v->terms, v->n_terms,
                             arena);
    s->n_ents = s_merge_vec(s->ents, s->n_ents, TD_CLUSTER_ENTS, v->ents, v->n_ents, arena);
    for (size_t i = 0; i < s->n_ents; i++)
        s->ents[i].word = NULL;
}
