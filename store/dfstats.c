/* dfstats.c — document frequencies in LMDB behind an in-memory table; see
 * dfstats.h. */
#include "dfstats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "log.h"
#include "varint.h"

/* The document count lives under a key no term can have (terms are
 * prefixed with a letter by their callers). */
static const char s_docs_key[] = "\0docs";
#define DOCS_KEY_LEN 5

/* A term is known by its 64-bit hash and length (as the centroids of
 * cluster.c know it): a lookup never reads the key itself, which lives in
 * a slab (one allocation, no pointer to chase) and is read only to write
 * the count at flush. 24 bytes an entry. */
typedef struct {
    uint64_t h;       /* 0 = empty slot */
    uint32_t off;     /* the key: slab + off */
    uint32_t base;    /* committed count (as read from LMDB, then kept) */
    uint32_t delta;   /* this transaction's increments */
    uint16_t klen : 15;
    uint16_t held : 1;  /* base holds increments not yet written into `df` */
    uint16_t seen;    /* the commit (mod 2^16) that last used it */
} s_ent;

_Static_assert(sizeof(s_ent) == 24, "the held flag shares klen's 16 bits");

/* What the running transaction's td_df_flush wrote. */
typedef enum { FLUSH_NONE, FLUSH_LOG, FLUSH_FULL } s_flush;

struct td_df {
    s_ent *tab;
    size_t cap, used;
    char *slab;       /* the keys, back to back */
    size_t slab_len, slab_cap;
    uint32_t *dirty;  /* slots with delta > 0 */
    size_t n_dirty, cap_dirty;
    uint32_t *held;   /* slots with held set */
    size_t n_held, cap_held;
    bool loaded;      /* the document count and the log were read */
    uint64_t docs_base, docs_delta;
    uint64_t docs_held;   /* documents counted in the log, not yet in `df` */
    uint64_t log_next;    /* key of the next log record; 0: the log is empty */
    unsigned since_full;  /* commits since the counts were written into `df` */
    s_flush flushed;
    unsigned char *buf;   /* the log record being encoded */
    size_t buf_cap;
    uint16_t epoch;   /* commits, mod 2^16 */
};

static uint64_t s_get_be(const td_val *v)
{
    uint64_t x = 0;
    const unsigned char *p = v->data;
    for (size_t i = 0; i < v->len && i < 8; i++)
        x = x << 8 | p[i];
    return x;
}

static void s_put_be(unsigned char *p, size_t n, uint64_t x)
{
    for (size_t i = n; i-- > 0; x >>= 8)
        p[i] = (unsigned char)x;
}

td_df *td_df_new(void)
{
    td_df *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 4096;
    self->tab = calloc(self->cap, sizeof *self->tab);
    if (!self->tab) {
        free(self);
        return NULL;
    }
    return self;
}

static void s_empty(td_df *self)
{
    memset(self->tab, 0, self->cap * sizeof *self->tab);
    self->slab_len = 0;
    self->used = 0;
    self->n_dirty = 0;
    self->n_held = 0;
}

void td_df_destroy(td_df **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_df *self = *self_p;
    s_empty(self);
    free(self->tab);
    free(self->slab);
    free(self->dirty);
    free(self->held);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

/* Room in a list of slots for `need` of them. */
static int s_list_room(uint32_t **list, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    uint32_t *l = realloc(*list, c * sizeof *l);
    if (!l)
        return -1;
    *list = l;
    *cap = c;
    return 0;
}

static int s_dirty_push(td_df *self, uint32_t slot)
{
    if (s_list_room(&self->dirty, &self->cap_dirty, self->n_dirty + 1) != 0)
        return -1;
    self->dirty[self->n_dirty++] = slot;
    return 0;
}

/* Room for `more` held slots beyond those held now. */
static int s_held_room(td_df *self, size_t more)
{
    return s_list_room(&self->held, &self->cap_held, self->n_held + more);
}

/* Slots moved: list the dirty and the held ones again (the lists already
 * have room for them). */
static void s_relist(td_df *self)
{
    self->n_dirty = 0;
    self->n_held = 0;
    for (size_t i = 0; i < self->cap; i++) {
        if (!self->tab[i].h)
            continue;
        if (self->tab[i].delta)
            self->dirty[self->n_dirty++] = (uint32_t)i;
        if (self->tab[i].held)
            self->held[self->n_held++] = (uint32_t)i;
    }
}

static int s_grow(td_df *self)
{
    size_t cap = self->cap * 2;
    s_ent *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < self->cap; i++) {
        if (!self->tab[i].h)
            continue;
        size_t j = self->tab[i].h & (cap - 1);
        while (t[j].h)
            j = (j + 1) & (cap - 1);
        t[j] = self->tab[i];
    }
    free(self->tab);
    self->tab = t;
    self->cap = cap;
    s_relist(self);
    return 0;
}

/* The slot of the key with hash `h` and length `len`, or the empty slot
 * where it belongs. */
static size_t s_find(const td_df *self, uint64_t h, size_t len)
{
    size_t j = h & (self->cap - 1);
    while (self->tab[j].h) {
        const s_ent *e = &self->tab[j];
        if (e->h == h && e->klen == len)
            break;
        j = (j + 1) & (self->cap - 1);
    }
    return j;
}

static uint64_t s_hash(const void *key, size_t len)
{
    uint64_t h = XXH3_64bits(key, len);
    return h ? h : 1;
}

/* The entry of `key`, loaded from LMDB when new. NULL with *rc set when it
 * cannot be held (out of memory: *rc = TD_DB_ERROR, the LMDB count in
 * *raw) or read (*rc = the LMDB error). */
static s_ent *s_entry(td_df *self, td_txn *txn, uint64_t h, const void *key, size_t len,
                      td_db_rc *rc, uint32_t *raw)
{
    size_t j = s_find(self, h, len);
    if (self->tab[j].h) {
        self->tab[j].seen = self->epoch;
        return &self->tab[j];
    }
    td_val v;
    *rc = td_txn_get(txn, TD_DBI_DF, key, len, &v);
    uint32_t base = 0;
    if (*rc == TD_DB_OK) {
        uint64_t x = s_get_be(&v);
        base = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
    } else if (*rc != TD_DB_NOTFOUND) {
        *raw = 0;
        return NULL;
    }
    *raw = base;
    *rc = TD_DB_ERROR;
    if (2 * (self->used + 1) > self->cap) {
        if (s_grow(self) != 0)
            return NULL;
        j = s_find(self, h, len);
    }
    if (self->slab_len + len > self->slab_cap) {
        size_t cap = self->slab_cap ? self->slab_cap : 65536;
        while (cap < self->slab_len + len)
            cap *= 2;
        if (cap > UINT32_MAX)
            return NULL;
        char *slab = realloc(self->slab, cap);
        if (!slab)
            return NULL;
        self->slab = slab;
        self->slab_cap = cap;
    }
    memcpy(self->slab + self->slab_len, key, len);
    self->tab[j] = (s_ent){.h = h, .off = (uint32_t)self->slab_len, .klen = (uint16_t)len,
                           .base = base, .seen = self->epoch};
    self->slab_len += len;
    self->used++;
    *rc = TD_DB_OK;
    return &self->tab[j];
}

static uint64_t s_be_key(const td_val *k)
{
    return k->len == 8 ? s_get_be(k) : 0;
}

typedef struct {
    td_df *self;
    td_txn *txn;
    td_db_rc rc;
} s_replay_ctx;

/* A log entry read at start: its count is committed, not yet in `df`. */
static int s_replay(const void *key, size_t len, uint32_t delta, void *arg)
{
    s_replay_ctx *c = arg;
    td_df *self = c->self;
    if (len > TD_DB_MAX_KEY)
        return 0;
    uint32_t raw;
    s_ent *e = s_entry(self, c->txn, s_hash(key, len), key, len, &c->rc, &raw);
    if (!e)
        return -1;
    if (!e->held) {
        if (s_held_room(self, 1) != 0) {
            c->rc = TD_DB_ERROR;
            return -1;
        }
        self->held[self->n_held++] = (uint32_t)(e - self->tab);
        e->held = 1;
    }
    uint64_t c2 = (uint64_t)e->base + delta;
    e->base = c2 > UINT32_MAX ? UINT32_MAX : (uint32_t)c2;
    return 0;
}

/* The document count from `df`, then the increments of the log on top:
 * once, before the table's first use. */
static td_db_rc s_load(td_df *self, td_txn *txn)
{
    if (self->loaded)
        return TD_DB_OK;
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_DF, s_docs_key, DOCS_KEY_LEN, &v);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return rc;
    self->docs_base = rc == TD_DB_OK ? s_get_be(&v) : 0;
    self->docs_held = 0;
    self->log_next = 0;
    td_cur *cur = NULL;
    td_val k;
    if ((rc = td_cur_open(txn, TD_DBI_DF_LOG, &cur)) != TD_DB_OK)
        return rc;
    s_replay_ctx c = {.self = self, .txn = txn, .rc = TD_DB_OK};
    size_t records = 0;
    for (rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK; rc = td_cur_next(cur, &k, &v)) {
        uint64_t docs = 0;
        if (td_df_log_parse(v.data, v.len, &docs, s_replay, &c) != 0) {
            if (c.rc != TD_DB_OK)
                break;
            td_warn("df_log record %llu is malformed: the rest of it is ignored",
                    (unsigned long long)s_be_key(&k));
        }
        self->docs_base += docs;
        self->docs_held += docs;
        self->log_next = s_be_key(&k) + 1;
        records++;
    }
    td_cur_close(&cur);
    if (c.rc != TD_DB_OK || (rc != TD_DB_NOTFOUND && rc != TD_DB_OK)) {
        /* start over at the next use: nothing half-read stays */
        s_empty(self);
        return c.rc != TD_DB_OK ? c.rc : rc;
    }
    self->since_full = (unsigned)(records < TD_DF_LOG_COMMITS ? records : TD_DF_LOG_COMMITS);
    if (records)
        td_info("document frequencies: %zu logged commits read back (%zu counts)", records,
                self->n_held);
    self->loaded = true;
    return TD_DB_OK;
}

uint64_t td_df_docs(td_df *self, td_txn *txn)
{
    (void)s_load(self, txn);
    return self->docs_base + self->docs_delta;
}

uint32_t td_df_get_h(td_df *self, td_txn *txn, uint64_t h, const void *key, size_t len)
{
    if (!len || len > TD_DB_MAX_KEY || s_load(self, txn) != TD_DB_OK)
        return 0;
    td_db_rc rc;
    uint32_t raw;
    s_ent *e = s_entry(self, txn, h, key, len, &rc, &raw);
    if (!e)
        return raw;
    return e->base + e->delta;
}

void td_df_prefetch(const td_df *self, uint64_t h)
{
    __builtin_prefetch(&self->tab[h & (self->cap - 1)]);
}

uint32_t td_df_get(td_df *self, td_txn *txn, const void *key, size_t len)
{
    return td_df_get_h(self, txn, s_hash(key, len), key, len);
}

td_db_rc td_df_add(td_df *self, td_txn *txn, const void *const *keys, const size_t *lens,
                   size_t n)
{
    return td_df_add_h(self, txn, NULL, keys, lens, n);
}

td_db_rc td_df_add_h(td_df *self, td_txn *txn, const uint64_t *hs, const void *const *keys,
                     const size_t *lens, size_t n)
{
    td_db_rc lrc = s_load(self, txn);
    if (lrc != TD_DB_OK)
        return lrc;
    for (size_t i = 0; i < n; i++) {
        if (!lens[i] || lens[i] > TD_DB_MAX_KEY)
            continue;
        td_db_rc rc;
        uint32_t raw;
        uint64_t h = hs ? hs[i] : s_hash(keys[i], lens[i]);
        s_ent *e = s_entry(self, txn, h, keys[i], lens[i], &rc, &raw);
        if (!e)
            return rc;
        if ((uint64_t)e->base + e->delta >= UINT32_MAX)
            continue;
        if (!e->delta && s_dirty_push(self, (uint32_t)(e - self->tab)) != 0)
            return TD_DB_ERROR;
        e->delta++;
    }
    self->docs_delta++;
    return TD_DB_OK;
}

typedef struct {
    uint64_t pre;             /* the key's first 8 bytes, big-endian, zero-padded */
    const char *key;
    uint32_t klen;
    uint32_t count;
} s_out;

static uint64_t s_prefix(const char *key, size_t klen)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | (i < klen ? (unsigned char)key[i] : 0);
    return v;
}

/* LMDB's key order. The prefixes decide most comparisons: a flush sorts
 * the tens of thousands of keys a commit touched, and comparing them with
 * memcmp through the pointers was 2.4 % of the store's writer thread (a
 * cache miss per key). Padding sorts below every byte, so prefixes that
 * differ order their keys as memcmp would. */
static int s_cmp_key(const void *a, const void *b)
{
    const s_out *x = a, *y = b;
    if (x->pre != y->pre)
        return x->pre < y->pre ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = n > 8 ? memcmp(x->key + 8, y->key + 8, n - 8) : 0;
    if (c)
        return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* A record: the documents counted, then each key's length, bytes and
 * increment. Hand-written rather than msgpack: 33,000 tiny entries a
 * commit, read back only by s_load. */
int td_df_log_parse(const void *rec, size_t len, uint64_t *docs, td_df_log_fn fn, void *arg)
{
    const unsigned char *p = rec, *end = p + len;
    uint64_t d;
    *docs = 0;
    if (!rec || td_varint_get(&p, end, &d) != 0)
        return -1;
    *docs = d;
    while (p < end) {
        uint64_t klen, delta;
        if (td_varint_get(&p, end, &klen) != 0 || klen == 0 || klen > (size_t)(end - p))
            return -1;
        const unsigned char *key = p;
        p += klen;
        if (td_varint_get(&p, end, &delta) != 0 || delta == 0 || delta > UINT32_MAX)
            return -1;
        if (fn(key, (size_t)klen, (uint32_t)delta, arg) != 0)
            return -1;
    }
    return 0;
}

/* This transaction's increments as the next log record. */
static td_db_rc s_flush_log(td_df *self, td_txn *txn)
{
    if (!self->n_dirty && !self->docs_delta)
        return TD_DB_OK;
    size_t need = 10;
    for (size_t i = 0; i < self->n_dirty; i++)
        need += 3 + self->tab[self->dirty[i]].klen + 5;
    if (need > self->buf_cap) {
        unsigned char *b = realloc(self->buf, need);
        if (!b)
            return TD_DB_ERROR;
        self->buf = b;
        self->buf_cap = need;
    }
    size_t n = td_varint_put(self->buf, self->docs_delta);
    for (size_t i = 0; i < self->n_dirty; i++) {
        const s_ent *e = &self->tab[self->dirty[i]];
        n += td_varint_put(self->buf + n, e->klen);
        memcpy(self->buf + n, self->slab + e->off, e->klen);
        n += e->klen;
        n += td_varint_put(self->buf + n, e->delta);
    }
    unsigned char k[8];
    s_put_be(k, 8, self->log_next);
    td_db_rc rc = td_txn_put(txn, TD_DBI_DF_LOG, k, 8, self->buf, n);
    if (rc == TD_DB_OK)
        self->flushed = FLUSH_LOG;
    return rc;
}

/* Every count waiting (held) or changed by this transaction into `df`, in
 * key order; the log emptied. */
static td_db_rc s_flush_full(td_df *self, td_txn *txn)
{
    unsigned char b[8];
    size_t n = 0, cap = self->n_held + self->n_dirty;
    s_out *order = cap ? malloc(cap * sizeof *order) : NULL;
    if (cap && !order)
        return TD_DB_ERROR;
    for (size_t i = 0; i < cap; i++) {
        const s_ent *e = &self->tab[i < self->n_held ? self->held[i]
                                                     : self->dirty[i - self->n_held]];
        if (i >= self->n_held && e->held)
            continue;   /* listed among the held */
        uint64_t c = (uint64_t)e->base + e->delta;
        order[n++] = (s_out){.pre = s_prefix(self->slab + e->off, e->klen),
                             .key = self->slab + e->off, .klen = e->klen,
                             .count = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c};
    }
    td_db_rc rc = TD_DB_OK;
    if (n) {
        qsort(order, n, sizeof *order, s_cmp_key);
        /* through one cursor: in key order most puts land on the leaf the
         * last one left it on, which LMDB checks before searching from
         * the root */
        td_cur *cur = NULL;
        rc = td_cur_open(txn, TD_DBI_DF, &cur);
        for (size_t i = 0; i < n && rc == TD_DB_OK; i++) {
            s_put_be(b, 4, order[i].count);
            rc = td_cur_put(txn, cur, order[i].key, order[i].klen, b, 4, false);
        }
        td_cur_close(&cur);
    }
    free(order);
    if (rc == TD_DB_OK && (self->docs_delta || self->docs_held)) {
        s_put_be(b, 8, td_df_docs(self, txn));
        rc = td_txn_put(txn, TD_DBI_DF, s_docs_key, DOCS_KEY_LEN, b, 8);
    }
    if (rc == TD_DB_OK && self->log_next)
        rc = td_txn_drop(txn, TD_DBI_DF_LOG);
    if (rc == TD_DB_OK)
        self->flushed = FLUSH_FULL;
    return rc;
}

td_db_rc td_df_flush(td_df *self, td_txn *txn)
{
    td_db_rc rc = s_load(self, txn);
    if (rc != TD_DB_OK)
        return rc;
    self->flushed = FLUSH_NONE;
    /* td_df_committed holds this transaction's counts without allocating */
    if (s_held_room(self, self->n_dirty) != 0)
        return TD_DB_ERROR;
    bool full = self->since_full + 1 >= TD_DF_LOG_COMMITS ||
                self->n_held + self->n_dirty > TD_DF_HELD_MAX;
    return full ? s_flush_full(self, txn) : s_flush_log(self, txn);
}

/* The table is full: keep the held entries and those the latest commits
 * used (at most half the bound together, unless more are held: the
 * vocabulary of the stream's recent window), drop the rest; a dropped
 * count is read from LMDB again when next used. Runs between transactions
 * (no increments pending). Out of memory with nothing held: empty it all;
 * with counts held, leave the table as it is. */
static void s_sweep(td_df *self)
{
    /* room for what is kept at a quarter load (the table grows again as
     * needed) */
    size_t cap = 4096;
    while (cap < 2 * TD_DF_MAX_ENTRIES)
        cap <<= 1;
    uint32_t *hist = calloc(65536, sizeof *hist);
    s_ent *tab = calloc(cap, sizeof *tab);
    char *slab = malloc(self->slab_cap ? self->slab_cap : 1);
    if (!hist || !tab || !slab) {
        free(hist);
        free(tab);
        free(slab);
        if (!self->n_held)
            s_empty(self);
        return;
    }
    /* ages (commits since last use) of the entries not held, then the
     * youngest ages that fit beside the held ones */
    for (size_t i = 0; i < self->cap; i++)
        if (self->tab[i].h && !self->tab[i].held)
            hist[(uint16_t)(self->epoch - self->tab[i].seen)]++;
    size_t keep = self->n_held, age = 0;
    while (age < 65536 && keep + hist[age] <= TD_DF_MAX_ENTRIES / 2)
        keep += hist[age++];
    size_t used = 0, slab_len = 0;
    for (size_t i = 0; i < self->cap; i++) {
        const s_ent *e = &self->tab[i];
        if (!e->h || (!e->held && (uint16_t)(self->epoch - e->seen) >= age))
            continue;
        size_t j = e->h & (cap - 1);
        while (tab[j].h)
            j = (j + 1) & (cap - 1);
        tab[j] = *e;
        tab[j].off = (uint32_t)slab_len;
        memcpy(slab + slab_len, self->slab + e->off, e->klen);
        slab_len += e->klen;
        used++;
    }
    free(hist);
    free(self->tab);
    free(self->slab);
    self->tab = tab;
    self->cap = cap;
    self->slab = slab;
    self->slab_len = slab_len;
    self->used = used;
    s_relist(self);
}

void td_df_committed(td_df *self)
{
    if (self->flushed == FLUSH_FULL) {
        for (size_t i = 0; i < self->n_held; i++)
            self->tab[self->held[i]].held = 0;
        self->n_held = 0;
        self->docs_held = 0;
        self->log_next = 0;
        self->since_full = 0;
    } else if (self->n_dirty || self->docs_delta) {
        /* logged (or, without td_df_flush, only in memory): held until
         * the next full write (room reserved by td_df_flush) */
        for (size_t i = 0; i < self->n_dirty; i++) {
            s_ent *e = &self->tab[self->dirty[i]];
            if (!e->held && s_held_room(self, 1) == 0) {
                self->held[self->n_held++] = self->dirty[i];
                e->held = 1;
            }
        }
        self->docs_held += self->docs_delta;
        if (self->flushed == FLUSH_LOG)
            self->log_next++;
        self->since_full++;
    }
    self->flushed = FLUSH_NONE;
    for (size_t i = 0; i < self->n_dirty; i++) {
        s_ent *e = &self->tab[self->dirty[i]];
        e->base += e->delta;
        e->delta = 0;
    }
    self->n_dirty = 0;
    self->docs_base += self->docs_delta;
    self->docs_delta = 0;
    self->epoch++;
    if (self->used > TD_DF_MAX_ENTRIES)
        s_sweep(self);
}

void td_df_aborted(td_df *self)
{
    for (size_t i = 0; i < self->n_dirty; i++)
        self->tab[self->dirty[i]].delta = 0;
    self->n_dirty = 0;
    self->docs_delta = 0;
    self->flushed = FLUSH_NONE;
}

double td_df_idf(uint64_t docs, uint32_t df)
{
    return log(((double)docs + 1.0) / ((double)df + 1.0)) + 1.0;
}
