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

typedef struct {
    uint64_t h;
    uint32_t *ids;
    uint32_t n, cap;
} s_post;

typedef struct {
    char id[TD_CLUSTER_ID];
    char story[TD_CLUSTER_ID];
    int64_t first, last;
    int32_t day;
    uint32_t stamp;
    uint32_t sim_stamp;      /* == td_cluster.sim_stamp: `sim` is the last best's */
    double sim;
    bool live;
    td_cterm terms[TD_CLUSTER_TERMS];
    uint16_t n_terms;
    td_cterm ents[TD_CLUSTER_ENTS];
    uint16_t n_ents;
} s_slot;

typedef struct {
    uint64_t h;
    uint32_t slot;
} s_idx;

typedef struct s_acc_ {
    uint64_t h;
    double tf;
    char *key;      /* "t"+stem or "e"+entity key */
    size_t klen;
    const char *word;
    bool title;
} s_acc;
#define ACC_CAP 1024   /* > 2 x VEC_MAX */
#define EACC_CAP 512

struct td_cluster {
    td_cluster_opts o;
    td_df *df;               /* document frequencies (in memory, see dfstats.h) */
    s_slot *slots;
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
    /* scratch: the article being scored, by term hash */
    s_idx *q;                /* h -> index into the vector */
    size_t q_cap;
    uint32_t *cand;
    struct s_acc_ *acc;      /* per-article term table (reused: no arena growth) */
    struct s_acc_ *eacc;
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
    self->q_cap = 2048;
    self->q = calloc(self->q_cap, sizeof *self->q);
    self->cand = malloc(CANDIDATES_MAX * sizeof *self->cand);
    self->acc = malloc(ACC_CAP * sizeof *self->acc);
    self->eacc = malloc(EACC_CAP * sizeof *self->eacc);
    self->clock = TD_TIME_NONE;
    if (!self->df || !self->q || !self->cand || !self->acc || !self->eacc)
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
    self->post = NULL;
    self->byid = NULL;
    self->slots = NULL;
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
    free(self->acc);
    free(self->eacc);
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

static s_acc *s_acc_find(s_acc *tab, size_t cap, uint64_t h)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (tab[i].h == h || tab[i].h == 0)
            return &tab[i];
}

static int s_cmp_w(const void *a, const void *b)
{
    float x = ((const td_cterm *)a)->w, y = ((const td_cterm *)b)->w;
    return x < y ? 1 : x > y ? -1 : 0;
}

static size_t s_tokens(const td_term *tok, size_t ntok, double boost, double lead_boost,
                       int lead, int max, bool title, s_acc *tab, size_t cap, size_t n,
                       td_arena *arena)
{
    int i = 0;
    char key[TD_TOKEN_MAX + 2];
    for (size_t k = 0; k < ntok && i < max; k++) {
        const td_term *t = &tok[k];
        i++;
        if (t->stop || t->norm_len < 2 || t->stem_len > TD_TOKEN_MAX)
            continue;
        key[0] = 't';
        memcpy(key + 1, t->stem, t->stem_len);
        uint64_t h = s_hash(key, t->stem_len + 1);
        s_acc *a = s_acc_find(tab, cap, h);
        if (!a->h) {
            if (n >= VEC_MAX)
                continue;
            a->h = h;
            a->key = td_arena_strndup(arena, key, t->stem_len + 1);
            a->word = td_arena_strndup(arena, t->norm, t->norm_len);
            if (!a->key || !a->word)
                return (size_t)-1;
            a->klen = t->stem_len + 1;
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

int td_cluster_vectorize(td_cluster *self, td_txn *txn, const td_article *a,
                         const td_terms *terms, td_arena *arena, td_cvec *out)
{
    memset(out, 0, sizeof *out);
    out->gen = ++self->vec_gen;
    out->t = a->published_at;
    out->day = td_cluster_day(a->event_date);
    size_t cap = ACC_CAP;
    s_acc *tab = self->acc;
    memset(tab, 0, cap * sizeof *tab);
    size_t n = 0, ntok;
    const td_cluster_opts *o = &self->o;
    const td_term *tok = td_terms_get(terms, TD_TERMS_TITLE, &ntok);
    n = s_tokens(tok, ntok, o->title_boost, 1.0, 0, 64, true, tab, cap, n, arena);
    if (n == (size_t)-1)
        return -1;
    out->headline = s_same_text(a->title, a->body) || !a->body || !*a->body;
    tok = td_terms_get(terms, TD_TERMS_BODY, &ntok);
    if (!out->headline)
        n = s_tokens(tok, ntok, 1.0, o->lead_boost, o->lead_tokens, o->body_tokens, false, tab,
                     cap, n, arena);
    if (n == (size_t)-1)
        return -1;
    /* entities: a separate vector, keyed like the entities database */
    size_t ne = 0;
    s_acc *etab = self->eacc;
    memset(etab, 0, EACC_CAP * sizeof *etab);
    char key[TD_DB_ENTITY_KEY + 1];
    for (size_t i = 0; i < a->n_entities && ne < EACC_CAP / 2; i++) {
        size_t kl = td_db_entity_norm(a->entities[i].name, key + 1, sizeof key - 1);
        if (!kl)
            continue;
        key[0] = 'e';
        uint64_t h = s_hash(key, kl + 1);
        s_acc *e = s_acc_find(etab, EACC_CAP, h);
        if (!e->h) {
            e->h = h;
            if (!(e->key = td_arena_strndup(arena, key, kl + 1)))
                return -1;
            e->klen = kl + 1;
            e->word = a->entities[i].name;
            ne++;
        }
        e->tf += a->entities[i].count ? a->entities[i].count : 1;
    }
    uint64_t docs = td_df_docs(self->df, txn);
    out->terms = td_arena_alloc(arena, (n ? n : 1) * sizeof *out->terms);
    out->ents = td_arena_alloc(arena, (ne ? ne : 1) * sizeof *out->ents);
    if (!out->terms || !out->ents)
        return -1;
    for (size_t i = 0; i < cap; i++) {
        if (!tab[i].h)
            continue;
        td_cterm *t = &out->terms[out->n_terms++];
        double idf = td_df_idf(docs, td_df_get(self->df, txn, tab[i].key, tab[i].klen));
        t->h = tab[i].h;
        t->w = (float)((1.0 + log(tab[i].tf)) * idf);
        t->word = tab[i].word;
        t->key = tab[i].key;
        t->in_title = tab[i].title;
    }
    for (size_t i = 0; i < EACC_CAP; i++) {
        if (!etab[i].h)
            continue;
        td_cterm *t = &out->ents[out->n_ents++];
        double idf = td_df_idf(docs, td_df_get(self->df, txn, etab[i].key, etab[i].klen));
        t->h = etab[i].h;
        t->w = (float)((1.0 + log(etab[i].tf)) * idf);
        t->word = etab[i].word;
        t->key = etab[i].key;
    }
    s_unit(out->terms, out->n_terms);
    s_unit(out->ents, out->n_ents);
    qsort(out->terms, out->n_terms, sizeof *out->terms, s_cmp_w);
    qsort(out->ents, out->n_ents, sizeof *out->ents, s_cmp_w);
    return 0;
}

td_db_rc td_cluster_count(td_cluster *self, td_txn *txn, const td_cvec *v)
{
    const void *keys[VEC_MAX + 256];
    size_t lens[VEC_MAX + 256], k = 0;
    for (size_t i = 0; i < v->n_terms && k < VEC_MAX + 256; i++)
        if (v->terms[i].key) {
            keys[k] = v->terms[i].key;
            lens[k++] = strlen(v->terms[i].key);
        }
    for (size_t i = 0; i < v->n_ents && k < VEC_MAX + 256; i++)
        if (v->ents[i].key) {
            keys[k] = v->ents[i].key;
            lens[k++] = strlen(v->ents[i].key);
        }
    return td_df_add(self->df, txn, keys, lens, k);
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

/* Load the article into the scratch table (term hash -> vector index). */
static int s_query_load(td_cluster *self, const td_cvec *v)
{
    size_t need = 4;
    while (need < 2 * (v->n_terms + v->n_ents))
        need <<= 1;
    if (need > self->q_cap) {
        s_idx *q = realloc(self->q, need * sizeof *q);
        if (!q)
            return -1;
        self->q = q;
        self->q_cap = need;
    }
    memset(self->q, 0, self->q_cap * sizeof *self->q);
    for (size_t i = 0; i < v->n_terms + v->n_ents; i++) {
        uint64_t h = i < v->n_terms ? v->terms[i].h : v->ents[i - v->n_terms].h;
        size_t j = h & (self->q_cap - 1);
        while (self->q[j].h && self->q[j].h != h)
            j = (j + 1) & (self->q_cap - 1);
        self->q[j].h = h;
        self->q[j].slot = (uint32_t)i;
    }
    return 0;
}

static const td_cterm *s_query_find(const td_cluster *self, const td_cvec *v, uint64_t h)
{
    for (size_t j = h & (self->q_cap - 1); self->q[j].h; j = (j + 1) & (self->q_cap - 1))
        if (self->q[j].h == h) {
            uint32_t i = self->q[j].slot;
            return i < v->n_terms ? &v->terms[i] : &v->ents[i - v->n_terms];
        }
    return NULL;
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

static void s_score(const td_cluster *self, const td_cvec *v, int64_t first, int64_t last,
                    int32_t day, const td_cterm *terms, size_t nt, const td_cterm *ents,
                    size_t ne, td_cscore *out)
{
    const td_cluster_opts *o = &self->o;
    double dot = 0, tdot = 0, lc = 0, edot = 0, le = 0, lt = 0;
    for (size_t i = 0; i < nt; i++) {
        lc += (double)terms[i].w * terms[i].w;
        const td_cterm *q = s_query_find(self, v, terms[i].h);
        if (q) {
            dot += (double)q->w * terms[i].w;
            if (q->in_title)
                tdot += (double)q->w * terms[i].w;
        }
    }
    for (size_t i = 0; i < v->n_terms; i++)
        if (v->terms[i].in_title)
            lt += (double)v->terms[i].w * v->terms[i].w;
    for (size_t i = 0; i < ne; i++) {
        le += (double)ents[i].w * ents[i].w;
        const td_cterm *q = s_query_find(self, v, ents[i].h);
        if (q)
            edot += (double)q->w * ents[i].w;
    }
    memset(out, 0, sizeof *out);
    out->text = lc > 0 && v->n_terms ? dot / sqrt(lc) : 0;
    out->title = lc > 0 && lt > 0 ? tdot / sqrt(lc * lt) : 0;
    out->ents = le > 0 && v->n_ents ? edot / sqrt(le) : 0;
    if (v->n_ents && ne && o->w_text + o->w_ent > 0)
        out->sim = (o->w_text * out->text + o->w_ent * out->ents) / (o->w_text + o->w_ent);
    else
        out->sim = out->text;
    /* how far the text's similarity can be trusted: a headline shares a
     * word or two with many events, so time proximity must carry more of
     * the decision; a full article's similarity holds over a day or more */
    double ev = 0;
    if (o->evidence_hi > o->evidence_lo)
        ev = ((double)v->n_terms - o->evidence_lo) / (o->evidence_hi - o->evidence_lo);
    ev = ev < 0 ? 0 : ev > 1 ? 1 : ev;
    double tau = o->time_tau_h + ev * (o->time_tau_long_h - o->time_tau_h);
    out->threshold = o->threshold + ev * (o->threshold_long - o->threshold);
    double gap = s_gap_h(v->t, first, last);
    out->time = tau > 0 ? exp(-gap / tau) : 1.0;
    out->date = 1.0;
    if (v->day != INT32_MIN && day != INT32_MIN && v->day != day)
        out->date = o->date_penalty;
    out->score = out->sim * (o->time_floor + (1 - o->time_floor) * out->time) * out->date;
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

void td_cluster_score(const td_cluster *self, const td_cvec *v, const td_cstate *s,
                      td_cscore *out)
{
    td_cluster *mut = (td_cluster *)self;
    if (s_query_load(mut, v) != 0) {
        memset(out, 0, sizeof *out);
        return;
    }
    s_score(self, v, s->first, s->last, s_mode_day(s), s->terms, s->n_terms, s->ents,
            s->n_ents, out);
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
        if (self->slots[i].live)
            self->slots[w++] = self->slots[i];
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
            if (s_post_add(self, s->terms[k].h, (uint32_t)i) != 0)
                return -1;
        for (size_t k = 0; k < s->n_ents; k++)
            if (s_post_add(self, s->ents[k].h, (uint32_t)i) != 0)
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
        s_slot *s = &self->slots[i];
        if (s->live && s->last < horizon) {
            s->live = false;
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

static int s_slot_set(td_cluster *self, const td_cstate *st)
{
    if (!st->id || strlen(st->id) >= TD_CLUSTER_ID)
        return 0; /* such an id cannot be a candidate; it still works from LMDB */
    self->gen++;
    s_idx *x = s_byid_slot(self, st->id, true);
    if (!x)
        return -1;
    s_slot *s;
    bool fresh = x->slot == UINT32_MAX;
    if (fresh) {
        if (self->n_slots == self->cap_slots) {
            size_t cap = self->cap_slots ? self->cap_slots * 2 : 256;
            s_slot *n = realloc(self->slots, cap * sizeof *n);
            if (!n)
                return -1;
            self->slots = n;
            self->cap_slots = cap;
        }
        x->slot = (uint32_t)self->n_slots++;
        s = &self->slots[x->slot];
        memset(s, 0, sizeof *s);
    } else {
        s = &self->slots[x->slot];
        if (!s->live)
            self->n_dead--;
    }
    s_slot old = *s;
    snprintf(s->id, sizeof s->id, "%s", st->id);
    snprintf(s->story, sizeof s->story, "%s", st->story ? st->story : "");
    s->first = st->first;
    s->last = st->last;
    s->day = s_mode_day(st);
    s->live = true;
    s->n_terms = (uint16_t)st->n_terms;
    s->n_ents = (uint16_t)st->n_ents;
    for (size_t i = 0; i < st->n_terms; i++)
        s->terms[i] = (td_cterm){.h = st->terms[i].h, .w = st->terms[i].w};
    for (size_t i = 0; i < st->n_ents; i++)
        s->ents[i] = (td_cterm){.h = st->ents[i].h, .w = st->ents[i].w};
    /* postings for the terms the slot did not have yet; stale ones of
     * dropped terms stay until compaction (scores read the slot itself) */
    uint32_t si = x->slot;
    for (size_t i = 0; i < s->n_terms; i++) {
        bool had = false;
        for (size_t k = 0; !fresh && k < old.n_terms && !had; k++)
            had = old.terms[k].h == s->terms[i].h;
        if (!had && s_post_add(self, s->terms[i].h, si) != 0)
            return -1;
    }
    for (size_t i = 0; i < s->n_ents; i++) {
        bool had = false;
        for (size_t k = 0; !fresh && k < old.n_ents && !had; k++)
            had = old.ents[k].h == s->ents[i].h;
        if (!had && s_post_add(self, s->ents[i].h, si) != 0)
            return -1;
    }
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

/* Candidate slots of `v` within `window_h` hours of it; returns the count. */
static size_t s_candidates(td_cluster *self, const td_cvec *v, double window_h)
{
    size_t n = 0;
    if (++self->stamp == 0) {
        for (size_t i = 0; i < self->n_slots; i++)
            self->slots[i].stamp = 0;
        self->stamp = 1;
    }
    size_t nq = v->n_terms < QUERY_TERMS ? v->n_terms : QUERY_TERMS;
    for (size_t k = 0; k < nq + v->n_ents; k++) {
        uint64_t h = k < nq ? v->terms[k].h : v->ents[k - nq].h;
        s_post *p = s_post_find(self, h);
        if (!p || p->n > POSTING_MAX)
            continue;
        for (uint32_t i = 0; i < p->n && n < CANDIDATES_MAX; i++) {
            s_slot *s = &self->slots[p->ids[i]];
            if (s->stamp == self->stamp)
                continue;
            s->stamp = self->stamp;
            if (s->live && s_gap_h(v->t, s->first, s->last) <= window_h)
                self->cand[n++] = p->ids[i];
        }
    }
    return n;
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
    size_t n = s_candidates(self, v, self->o.event_window_h);
    if (++self->sim_stamp == 0) {
        for (size_t i = 0; i < self->n_slots; i++)
            self->slots[i].sim_stamp = 0;
        self->sim_stamp = 1;
    }
    self->sim_vec = v->gen;
    self->sim_gen = self->gen;
    const char *best_id = NULL;
    s_slot *bs = NULL, *ss = NULL;
    self->second[0] = '\0';
    self->second_score = self->second_cos = 0;
    for (size_t i = 0; i < n; i++) {
        s_slot *s = &self->slots[self->cand[i]];
        td_cscore sc;
        s_score(self, v, s->first, s->last, s->day, s->terms, s->n_terms, s->ents, s->n_ents,
                &sc);
        s->sim_stamp = self->sim_stamp;
        s->sim = sc.sim;
        if (sc.score > parts->score) {
            if (bs) {
                ss = bs;
                self->second_score = parts->score;
            }
            *parts = sc;
            best_id = s->id;
            bs = s;
        } else if (sc.score > self->second_score) {
            ss = s;
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
        if (bs->first != TD_TIME_NONE && ss->first != TD_TIME_NONE) {
            if (ss->first > bs->last)
                gap = (double)(ss->first - bs->last) / HOUR_MS;
            else if (bs->first > ss->last)
                gap = (double)(bs->first - ss->last) / HOUR_MS;
        }
        double tau = self->o.time_tau_h;
        self->second_cos = td_cluster_cos(bs->terms, bs->n_terms, ss->terms, ss->n_terms) *
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
            s_score(self, v, st.first, st.last, s_mode_day(&st), st.terms, st.n_terms,
                    st.ents, st.n_ents, &sc);
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
        td_cscore none;
        s_score(self, v, TD_TIME_NONE, TD_TIME_NONE, INT32_MIN, NULL, 0, NULL, 0, &none);
        parts->threshold = none.threshold;
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
    if (x && x->slot != UINT32_MAX && self->slots[x->slot].live) {
        self->slots[x->slot].live = false;
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
    bool loaded = false;
    size_t n = s_candidates(self, v, self->o.story_window_h), k = 0;
    for (size_t i = 0; i < n; i++) {
        s_slot *s = &self->slots[self->cand[i]];
        if (exclude && strcmp(s->id, exclude) == 0)
            continue;
        td_cscore sc;
        if (reuse && s->sim_stamp == self->sim_stamp) {
            sc.sim = s->sim;
        } else {
            if (!loaded && s_query_load(self, v) != 0)
                return -1;
            loaded = true;
            s_score(self, v, s->first, s->last, s->day, s->terms, s->n_terms, s->ents,
                    s->n_ents, &sc);
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

static size_t s_merge_vec(td_cterm *dst, size_t nd, size_t cap, const td_cterm *src,
                          size_t ns, td_arena *arena)
{
    td_cterm *tmp = td_arena_alloc(arena, (nd + ns + 1) * sizeof *tmp);
    if (!tmp)
        return nd;
    memcpy(tmp, dst, nd * sizeof *tmp);
    size_t n = nd;
    for (size_t i = 0; i < ns; i++) {
        size_t j = 0;
        while (j < nd && tmp[j].h != src[i].h)
            j++;
        if (j < nd) {
            tmp[j].w += src[i].w;
        } else {
            tmp[n] = src[i];
            tmp[n].in_title = false;
            tmp[n].key = NULL;
            if (src[i].word)
                tmp[n].word = td_arena_strdup(arena, src[i].word);
            n++;
        }
    }
    qsort(tmp, n, sizeof *tmp, s_cmp_w);
    if (n > cap)
        n = cap;
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
