/* cluster.c — streaming event detection (cluster.h): the td_cluster object's
 * life and options, and the state of an event: its record in the
 * `clusters` database (written here, the index kept in step), the index
 * rebuilt from those records at start, and the centroid sums of merging an
 * article or another event into it.
 *
 * The rest of the module: cluster_vec.c makes an article's vectors,
 * cluster_index.c finds and scores candidate events; cluster_int.h is
 * what the three share.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "dfstats.h"
#include "log.h"

#define STATE_FORMAT 1

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
    self->cand_hi = malloc(CANDIDATES_MAX * sizeof *self->cand_hi);
    self->acc = calloc(ACC_CAP, sizeof *self->acc);
    self->eacc = calloc(EACC_CAP, sizeof *self->eacc);
    self->tkeys = malloc(ACC_CAP * TKEY_MAX);
    self->ekeys = malloc(EACC_CAP * EKEY_MAX);
    self->vterms = malloc(VEC_MAX * sizeof *self->vterms);
    self->vents = malloc(EACC_CAP / 2 * sizeof *self->vents);
    self->clock = TD_TIME_NONE;
    for (int k = 1; k <= LOG_HALVES; k++)
        self->log_half[k] = log(k / 2.0);
    if (!self->df || !self->q || !self->cand || !self->rcand || !self->cand_hi || !self->acc ||
        !self->eacc || !self->tkeys || !self->ekeys || !self->vterms || !self->vents)
        td_cluster_destroy(&self);
    return self;
}
void td_cluster_destroy(td_cluster **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_cluster *self = *self_p;
    td_cluster_index_clear(self);
    td_df_destroy(&self->df);
    free(self->q);
    free(self->cand);
    free(self->rcand);
    free(self->cand_hi);
    free(self->acc);
    free(self->eacc);
    free(self->tkeys);
    free(self->ekeys);
    free(self->wacc);
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
        td_cluster_index_clear(self);
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
    int64_t horizon = td_cluster_index_horizon(self);
    if (horizon == TD_TIME_NONE || s->last >= horizon) {
        if (td_cluster_index_set(self, s) != 0) {
            td_warn("candidate index: out of memory; rebuilding it from the database");
            td_cluster_index_clear(self);
        }
    }
    td_cluster_index_tick(self, s->last);
    return TD_DB_OK;
}

td_db_rc td_cluster_ready(td_cluster *self, td_txn *txn)
{
    if (self->loaded)
        return TD_DB_OK;
    td_cluster_index_clear(self);
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
            horizon = td_cluster_index_horizon(self);
        }
        if (t < horizon)
            break;
        char *eid = td_arena_strndup(arena, id, idlen);
        td_cstate st;
        if (eid && td_cluster_get(txn, eid, arena, &st) == TD_DB_OK) {
            if (td_cluster_index_set(self, &st) != 0) {
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
        td_cluster_index_clear(self);
        return rc;
    }
    self->loaded = true;
    if (loaded)
        td_info("candidate index: %zu events of the last %.0f h loaded", loaded,
                self->o.story_window_h);
    return TD_DB_OK;
}

td_db_rc td_cluster_del(td_cluster *self, td_txn *txn, const char *id)
{
    td_db_rc rc = td_txn_del(txn, TD_DBI_CLUSTERS, id, strlen(id));
    if (rc && rc != TD_DB_NOTFOUND)
        return rc;
    self->dirty = true;
    td_cluster_index_drop(self, id);
    return TD_DB_OK;
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
    td_cluster_sort_w(tmp, n, known ? perm : NULL, cap);
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
