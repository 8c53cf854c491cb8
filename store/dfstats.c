/* dfstats.c — document frequencies in LMDB behind an in-memory table; see
 * dfstats.h. */
#include "dfstats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

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
    uint16_t klen;
    uint16_t seen;    /* the commit (mod 2^16) that last used it */
} s_ent;

struct td_df {
    s_ent *tab;
    size_t cap, used;
    char *slab;       /* the keys, back to back */
    size_t slab_len, slab_cap;
    uint32_t *dirty;  /* slots with delta > 0 */
    size_t n_dirty, cap_dirty;
    bool docs_known;
    uint64_t docs_base, docs_delta;
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
    free(self);
    *self_p = NULL;
}

static int s_dirty_push(td_df *self, uint32_t slot)
{
    if (self->n_dirty == self->cap_dirty) {
        size_t cap = self->cap_dirty ? self->cap_dirty * 2 : 1024;
        uint32_t *d = realloc(self->dirty, cap * sizeof *d);
        if (!d)
            return -1;
        self->dirty = d;
        self->cap_dirty = cap;
    }
    self->dirty[self->n_dirty++] = slot;
    return 0;
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
    /* slots moved: list the dirty ones again (capacity is already enough) */
    self->n_dirty = 0;
    for (size_t i = 0; i < cap; i++)
        if (t[i].h && t[i].delta)
            self->dirty[self->n_dirty++] = (uint32_t)i;
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

static uint64_t s_docs_base(td_df *self, td_txn *txn)
{
    if (!self->docs_known) {
        td_val v;
        td_db_rc rc = td_txn_get(txn, TD_DBI_DF, s_docs_key, DOCS_KEY_LEN, &v);
        if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
            return 0;
        self->docs_base = rc == TD_DB_OK ? s_get_be(&v) : 0;
        self->docs_known = true;
    }
    return self->docs_base;
}

uint64_t td_df_docs(td_df *self, td_txn *txn)
{
    return s_docs_base(self, txn) + self->docs_delta;
}

uint32_t td_df_get_h(td_df *self, td_txn *txn, uint64_t h, const void *key, size_t len)
{
    if (!len || len > TD_DB_MAX_KEY)
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
    (void)s_docs_base(self, txn);
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

td_db_rc td_df_flush(td_df *self, td_txn *txn)
{
    unsigned char b[8];
    if (self->n_dirty) {
        s_out *order = malloc(self->n_dirty * sizeof *order);
        if (!order)
            return TD_DB_ERROR;
        for (size_t i = 0; i < self->n_dirty; i++) {
            const s_ent *e = &self->tab[self->dirty[i]];
            uint64_t c = (uint64_t)e->base + e->delta;
            order[i] = (s_out){.pre = s_prefix(self->slab + e->off, e->klen),
                               .key = self->slab + e->off, .klen = e->klen,
                               .count = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c};
        }
        qsort(order, self->n_dirty, sizeof *order, s_cmp_key);
        /* through one cursor: in key order most puts land on the leaf the
         * last one left it on, which LMDB checks before searching from
         * the root */
        td_cur *cur = NULL;
        td_db_rc rc = td_cur_open(txn, TD_DBI_DF, &cur);
        for (size_t i = 0; i < self->n_dirty && rc == TD_DB_OK; i++) {
            s_put_be(b, 4, order[i].count);
            rc = td_cur_put(txn, cur, order[i].key, order[i].klen, b, 4, false);
        }
        td_cur_close(&cur);
        free(order);
        if (rc)
            return rc;
    }
    if (!self->docs_delta)
        return TD_DB_OK;
    s_put_be(b, 8, td_df_docs(self, txn));
    return td_txn_put(txn, TD_DBI_DF, s_docs_key, DOCS_KEY_LEN, b, 8);
}

/* The table is full: keep the entries the latest commits used (at most half
 * the bound: the vocabulary of the stream's recent window), drop the rest;
 * a dropped count is read from LMDB again when next used. Runs between
 * transactions (no increments pending). Out of memory: empty it all. */
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
        s_empty(self);
        return;
    }
    /* ages (commits since last use), then the youngest ages that fit */
    for (size_t i = 0; i < self->cap; i++)
        if (self->tab[i].h)
            hist[(uint16_t)(self->epoch - self->tab[i].seen)]++;
    size_t keep = 0, age = 0;
    while (age < 65536 && keep + hist[age] <= TD_DF_MAX_ENTRIES / 2)
        keep += hist[age++];
    size_t used = 0, slab_len = 0;
    for (size_t i = 0; i < self->cap; i++) {
        const s_ent *e = &self->tab[i];
        if (!e->h || (uint16_t)(self->epoch - e->seen) >= age)
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
    self->n_dirty = 0;
}

void td_df_committed(td_df *self)
{
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
}

double td_df_idf(uint64_t docs, uint32_t df)
{
    return log(((double)docs + 1.0) / ((double)df + 1.0)) + 1.0;
}
