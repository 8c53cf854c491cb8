/* index_read.c — posting list cursor; see index_read.h. */
#include "index_read.h"

#include <string.h>

#include "log.h"

#define NEXT_TRIES 3   /* blocks stepped over before a B-tree seek pays off */
#define AHEAD 4        /* blocks prefetched ahead of a sequential walk */
#define AHEAD_AFTER 2  /* sequential steps before the walk is taken as one */
#define AHEAD_BYTES 64     /* the header line: the rest streams in behind it */
#define AHEAD_MIN 2048     /* blocks this large live in overflow pages */

struct td_plist {
    td_txn *txn;
    td_cur *cur;
    td_cur *ahead;                   /* AHEAD blocks before cur in a walk */
    int seq;                         /* consecutive sequential steps of cur */
    bool ahead_on, ahead_end;
    unsigned char key[TD_IX_KEY];    /* the term's number + first docno */
    uint64_t df;
    bool retired;                    /* the docnos of `retired`, no postings */
    uint32_t at;                     /* ... the one the cursor is on */
    bool started, done, have, decoded, freqs, floats, bounded;
    const unsigned char *f3;         /* format 3: the tf arrays in the block */
    td_val val;                      /* current block */
    td_val bkey;                     /* its key */
    td_val pval;                     /* its positions (format 3), once read */
    bool pread;
    td_ix_header h;
    int n, idx;
    size_t freq_off, pos_off, pos_at;
    double c, e, bound;              /* BM25 constants; bound of the block */
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    /* the scan's copies: boosted tf and length as floats, SCAN_W apart */
    float tff[TD_IX_BLOCK] __attribute__((aligned(32)));
    float dlf[TD_IX_BLOCK] __attribute__((aligned(32)));
};

#define SCAN_W 8
typedef float s_v8f __attribute__((vector_size(32)));
typedef int32_t s_v8i __attribute__((vector_size(32)));

td_db_rc td_ix_term_lookup(td_txn *txn, const char *term, size_t tlen, uint32_t *no)
{
    if (!td_ix_term_ok(term, tlen))
        return TD_DB_NOTFOUND;
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_TERMS, term, tlen, &v);
    if (rc != TD_DB_OK)
        return rc;
    if (v.len != 4)
        return TD_DB_ERROR;   /* damaged, or an index of an older layout */
    *no = td_ix_get_u32(v.data);
    return TD_DB_OK;
}

bool td_ix_term_no(td_txn *txn, const char *term, size_t tlen, uint32_t *no)
{
    return td_ix_term_lookup(txn, term, tlen, no) == TD_DB_OK;
}

uint64_t td_ix_df_of(td_txn *txn, uint32_t no)
{
    unsigned char k[TD_IX_KEY_TERM];
    td_ix_put_u32(k, no);
    td_val v;
    if (td_txn_get(txn, TD_DBI_TERMDF, k, sizeof k, &v) != TD_DB_OK || v.len != 8)
        return 0;
    const unsigned char *p = v.data;
    return (uint64_t)td_ix_get_u32(p) << 32 | td_ix_get_u32(p + 4);
}

uint64_t td_ix_df(td_txn *txn, const char *term, size_t tlen)
{
    uint32_t no;
    return td_ix_term_no(txn, term, tlen, &no) ? td_ix_df_of(txn, no) : 0;
}

td_db_rc td_ix_doc_get(td_txn *txn, uint32_t doc, td_ix_doc *out)
{
    unsigned char k[4];
    td_ix_put_u32(k, doc);
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_DOCS, k, 4, &v);
    if (rc)
        return rc;
    return td_ix_doc_decode(v.data, v.len, out) == 0 ? TD_DB_OK : TD_DB_ERROR;
}

td_db_rc td_ix_docno(td_txn *txn, const char *id, uint32_t *doc)
{
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_DOCIDS, id, strlen(id), &v);
    if (rc)
        return rc == TD_DB_BADVAL ? TD_DB_NOTFOUND : rc;
    if (v.len != 4)
        return TD_DB_ERROR;
    *doc = td_ix_get_u32(v.data);
    return TD_DB_OK;
}

/* A zeroed list in the arena. The scan's float arrays are 32-byte aligned
 * for vector loads; the arena aligns to 16 only. */
static td_plist *s_new(td_txn *txn, td_arena *arena)
{
    const uintptr_t al = _Alignof(td_plist);
    unsigned char *raw = td_arena_alloc(arena, sizeof(td_plist) + al - 1);
    if (!raw)
        return NULL;
    td_plist *self = (td_plist *)(((uintptr_t)raw + al - 1) & ~(al - 1));
    self->txn = txn;
    return self;
}

td_plist *td_plist_open(td_txn *txn, td_arena *arena, const char *term, size_t tlen)
{
    td_plist *self = s_new(txn, arena);
    if (!self)
        return NULL;
    uint32_t no;
    if (!td_ix_term_no(txn, term, tlen, &no) || !(self->df = td_ix_df_of(txn, no))) {
        self->done = true;
        return self;
    }
    td_ix_key(no, 0, self->key);
    if (td_cur_open(txn, TD_DBI_POSTINGS, &self->cur) != TD_DB_OK)
        self->done = true;
    return self;
}

td_plist *td_plist_open_retired(td_txn *txn, td_arena *arena)
{
    td_plist *self = s_new(txn, arena);
    if (!self)
        return NULL;
    self->retired = true;
    self->df = td_txn_entries(txn, TD_DBI_RETIRED);
    if (!self->df || td_cur_open(txn, TD_DBI_RETIRED, &self->cur) != TD_DB_OK)
        self->done = true;
    return self;
}

/* td_plist_next_geq of the retired docnos: a seek, or the docno the
 * cursor is on. */
static uint32_t s_retired_geq(td_plist *self, uint32_t d)
{
    if (self->done)
        return TD_IX_NONE;
    if (self->have && self->at >= d)
        return self->at;
    unsigned char k[4];
    td_ix_put_u32(k, d);
    td_val key;
    if (td_cur_seek(self->cur, k, 4, &key, NULL) != TD_DB_OK || key.len != 4) {
        self->done = true;
        return TD_IX_NONE;
    }
    self->have = true;
    return self->at = td_ix_get_u32(key.data);
}

void td_plist_close(td_plist *self)
{
    if (self) {
        td_cur_close(&self->cur);
        td_cur_close(&self->ahead);
    }
}

uint64_t td_plist_df(const td_plist *self)
{
    return self->df;
}

/* Take the block the cursor is on; false when it belongs to another term. */
static bool s_take(td_plist *self, td_db_rc rc, const td_val *k, const td_val *v)
{
    if (rc != TD_DB_OK || k->len != TD_IX_KEY || memcmp(k->data, self->key, TD_IX_KEY_TERM) != 0)
        return false;
    if (td_ix_header_read(v->data, v->len, &self->h) != 0) {
        td_warn("damaged posting block (term number %u)", td_ix_get_u32(self->key));
        return false;
    }
    if (self->h.format >= 3)   /* the arrays are read soon: overlap their misses */
        for (size_t i = 64; i < v->len; i += 64)
            __builtin_prefetch((const char *)v->data + i);
    self->val = *v;
    self->bkey = *k;
    self->have = true;
    self->decoded = self->freqs = self->floats = self->bounded = self->pread = false;
    self->pos_off = self->pos_at = 0;
    return true;
}

static void s_prefetch(const td_val *v)
{
    size_t n = v->len < AHEAD_BYTES ? v->len : AHEAD_BYTES;
    for (size_t i = 0; i < n; i += 64)
        __builtin_prefetch((const char *)v->data + i);
}

/* Step the look-ahead cursor once; false when it left the term. */
static bool s_ahead_step(td_plist *self, bool first, const td_val *at)
{
    td_val k, v;
    td_db_rc rc = first ? td_cur_seek(self->ahead, at->data, at->len, &k, &v)
                        : td_cur_next(self->ahead, &k, &v);
    if (rc != TD_DB_OK || k.len != TD_IX_KEY || memcmp(k.data, self->key, TD_IX_KEY_TERM) != 0) {
        self->ahead_end = true;
        return false;
    }
    if (!first)
        s_prefetch(&v);
    return true;
}

/* Walking a list block by block, each block's first touch was a cache (and
 * TLB) miss: a third of a common-term query at 1M. A second cursor runs
 * AHEAD blocks in front and prefetches each block's first line, so the
 * cache misses overlap (the page walk of a TLB miss mostly stays: ~0.8 ms
 * less CPU per two-common-term query, not 1.3). Started only once the walk
 * is sequential (lists probed by seeks do not pay for it). Prefetching
 * more of each block stalled on the CPU's fill buffers and gained nothing.
 * Only for blocks large enough to live in overflow pages (the B-tree leaf
 * holds just their page number): a smaller block sits on the leaf page the
 * cursor reads anyway, so the second cursor took the same misses itself
 * and gained nothing measurable. */
static void s_ahead(td_plist *self, const td_val *key)
{
    if (self->val.len < AHEAD_MIN || ++self->seq < AHEAD_AFTER || self->ahead_end)
        return;
    if (self->ahead_on) {
        s_ahead_step(self, false, NULL);
        return;
    }
    if (!self->ahead && td_cur_open(self->txn, TD_DBI_POSTINGS, &self->ahead) != TD_DB_OK) {
        self->ahead_end = true;
        return;
    }
    unsigned char at[TD_IX_KEY];
    if (key->len > sizeof at)
        return;
    memcpy(at, key->data, key->len);
    td_val k = {at, key->len};
    self->ahead_on = true;
    if (s_ahead_step(self, true, &k))
        for (int i = 0; i < AHEAD && s_ahead_step(self, false, NULL); i++)
            ;
}

/* The main cursor jumped: the look-ahead no longer runs in front of it. */
static void s_ahead_reset(td_plist *self)
{
    self->seq = 0;
    self->ahead_on = self->ahead_end = false;
}

bool td_plist_block(td_plist *self, uint32_t d, td_ix_header *h)
{
    if (self->done)
        return false;
    if (self->have && self->h.last >= d) {
        *h = self->h;
        return true;
    }
    td_val k, v;
    if (!self->started) {
        self->started = true;
        if (!s_take(self, td_cur_seek(self->cur, self->key, TD_IX_KEY, &k, &v), &k, &v))
            goto end;
        if (self->h.last >= d) {
            *h = self->h;
            return true;
        }
    }
    for (int i = 0; i < NEXT_TRIES; i++) {
        if (!s_take(self, td_cur_next(self->cur, &k, &v), &k, &v))
            goto end;
        s_ahead(self, &k);
        if (self->h.last >= d) {
            *h = self->h;
            return true;
        }
    }
    s_ahead_reset(self);
    /* far ahead: seek to the block that starts at or before d */
    unsigned char key[TD_IX_KEY];
    td_ix_key(td_ix_get_u32(self->key), d == UINT32_MAX ? d : d + 1, key);
    if (s_take(self, td_cur_before(self->cur, key, TD_IX_KEY, &k, &v), &k, &v) &&
        self->h.last >= d) {
        *h = self->h;
        return true;
    }
    if (!s_take(self, td_cur_next(self->cur, &k, &v), &k, &v))
        goto end;
    if (self->h.last >= d) {
        *h = self->h;
        return true;
    }
end:
    self->done = true;
    self->have = false;
    return false;
}

uint32_t td_plist_next_geq(td_plist *self, uint32_t d)
{
    if (self->retired)
        return s_retired_geq(self, d);
    for (;;) {
        td_ix_header h;
        if (!td_plist_block(self, d, &h))
            return TD_IX_NONE;
        if (!self->decoded) {
            /* docnos only: most postings of a block are never scored */
            self->n = td_ix_block_docnos(self->val.data, self->val.len, &self->h, self->doc,
                                         self->tt, self->tb, self->dl, &self->freq_off);
            if (self->n <= 0) {
                self->done = true;
                return TD_IX_NONE;
            }
            self->decoded = true;
            self->freqs = self->freq_off == 0;   /* format 1 decodes all at once */
            /* formats 3 and 4: fixed-width arrays, read in place */
            self->f3 = self->h.format >= 3 ? (const unsigned char *)self->val.data + self->freq_off
                                           : NULL;
            self->idx = 0;
        }
        if (self->doc[self->n - 1] < d)
            self->idx = self->n;
        else
            while (self->doc[self->idx] < d)
                self->idx++;
        if (self->idx < self->n)
            return self->doc[self->idx];
        d = self->h.last + 1;   /* a damaged header; move on */
        if (d == 0)
            return TD_IX_NONE;
    }
}

static inline uint32_t s_rd(const unsigned char *p, unsigned w, size_t i)
{
    switch (w) {
    case 1:
        return p[i];
    case 2:
        return (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
    default:
        p += 4 * i;
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
}

/* Formats 1 and 2: the varint streams decoded into tt, tb, dl. */
static void s_freqs(td_plist *self)
{
    if (self->freqs)
        return;
    if (td_ix_block_freqs(self->val.data, self->val.len, &self->h, self->freq_off, self->tt,
                          self->tb, self->dl) < 0) {
        td_warn("damaged posting block (term number %u)", td_ix_get_u32(self->key));
        memset(self->tt, 0, sizeof self->tt);
        memset(self->tb, 0, sizeof self->tb);
        memset(self->dl, 0, sizeof self->dl);
    }
    self->freqs = true;
}

/* The scan's float copies of the block's boosted tf and lengths (whole
 * SCAN_W vectors, zero past n). Format 3 converts straight from the
 * block's arrays, the usual widths with loops the compiler vectorises. */
static void s_floats(td_plist *self)
{
    int n = self->n, nv = (n + SCAN_W - 1) / SCAN_W * SCAN_W;
    const unsigned char *p = self->f3;
    if (p && self->h.wt == 1 && self->h.wl == 2) {
        const unsigned char *tt = p, *tb = p + n, *dl = p + 2 * n;
        for (int i = 0; i < n; i++) {
            self->tff[i] = (float)tb[i] + TD_IX_TITLE_BOOST * (float)tt[i];
            self->dlf[i] = (float)((uint32_t)dl[2 * i] | (uint32_t)dl[2 * i + 1] << 8);
        }
    } else if (p) {
        unsigned wt = self->h.wt, wl = self->h.wl;
        for (int i = 0; i < n; i++) {
            self->tff[i] = td_ix_tf(s_rd(p, wt, (size_t)i), s_rd(p + (size_t)n * wt, wt, (size_t)i));
            self->dlf[i] = (float)s_rd(p + 2 * (size_t)n * wt, wl, (size_t)i);
        }
    } else {
        s_freqs(self);
        for (int i = 0; i < n; i++) {
            self->tff[i] = td_ix_tf(self->tt[i], self->tb[i]);
            self->dlf[i] = (float)self->dl[i];
        }
    }
    for (int i = n; i < nv; i++)
        self->tff[i] = self->dlf[i] = 0;
    self->floats = true;
}

static void s_get(td_plist *self, int i, uint32_t *tt, uint32_t *tb, uint32_t *dl)
{
    if (self->f3) {
        size_t n = self->h.n;
        unsigned wt = self->h.wt;
        *tt = s_rd(self->f3, wt, (size_t)i);
        *tb = s_rd(self->f3 + n * wt, wt, (size_t)i);
        *dl = s_rd(self->f3 + 2 * n * wt, self->h.wl, (size_t)i);
        return;
    }
    s_freqs(self);
    *tt = self->tt[i];
    *tb = self->tb[i];
    *dl = self->dl[i];
}

void td_plist_freq(td_plist *self, uint32_t *tt, uint32_t *tb, uint32_t *dl)
{
    s_get(self, self->idx, tt, tb, dl);
}

int td_plist_positions(td_plist *self, uint32_t *pos, size_t cap)
{
    if (self->h.format != 3) {
        self->pval = self->val;   /* formats 1, 2 and 4 carry their positions */
    } else if (!self->pread) {
        self->pread = true;
        if (td_txn_get(self->txn, TD_DBI_POSITIONS, self->bkey.data, self->bkey.len,
                       &self->pval) != TD_DB_OK) {
            td_warn("posting block without positions (term number %u)", td_ix_get_u32(self->key));
            self->pval.data = NULL;
            self->pval.len = 0;
        }
    }
    if (!self->pval.data)
        return -1;
    return td_ix_block_positions_at(self->pval.data, self->pval.len, td_ix_pos_start(&self->h),
                                    self->h.n, (size_t)self->idx, &self->pos_off, &self->pos_at,
                                    pos, cap);
}

uint32_t td_plist_scan(td_plist *self, uint32_t d, uint32_t end, double need, bool *skipped)
{
    uint32_t x = td_plist_next_geq(self, d);
    *skipped = false;
    if (x == TD_IX_NONE || x > end || x > self->h.last)
        return x;
    if (need > 0 && need < 1) {
        if (!self->floats)
            s_floats(self);
        /* saturation tf / (tf + c + e dl) >= need  <=>  tf (1 - need) >= need c + need e dl,
         * tested SCAN_W postings at a time in single precision with `need`
         * lowered by 1e-5 (more than float rounding): a posting it lets
         * through is scored exactly later, none that reaches `need` is
         * dropped */
        float nf = (float)(need * (1 - 1e-5));
        s_v8f u = (s_v8f){0} + (1 - nf), a = (s_v8f){0} + nf * (float)self->c,
              b = (s_v8f){0} + nf * (float)self->e;
        int i = self->idx / SCAN_W * SCAN_W;
        for (; i < self->n; i += SCAN_W) {
            s_v8f tf, dl;
            memcpy(&tf, self->tff + i, sizeof tf);
            memcpy(&dl, self->dlf + i, sizeof dl);
            s_v8i ok = tf * u >= a + b * dl;
            unsigned m = 0;
            for (int j = 0; j < SCAN_W; j++)
                m |= (ok[j] != 0) << j;
            if (i < self->idx)
                m &= ~0u << (self->idx - i);   /* before the cursor */
            if (!m)
                continue;
            int at = i + __builtin_ctz(m);
            if (at >= self->n || self->doc[at] > end)
                break;
            *skipped |= at > self->idx;
            self->idx = at;
            return self->doc[at];
        }
        *skipped = true;   /* conservatively: a skip only makes the total an estimate */
    } else {
        const double c = self->c, e = self->e;
        for (int i = self->idx; i < self->n && self->doc[i] <= end; i++) {
            uint32_t tt, tb, dl;
            s_get(self, i, &tt, &tb, &dl);
            double tf = (double)td_ix_tf(tt, tb);
            if (tf >= need * (tf + c + e * dl)) {   /* saturation >= need */
                self->idx = i;
                return self->doc[i];
            }
            *skipped = true;
        }
    }
    /* nothing in [d, end] reaches `need`: leave the cursor after end, on
     * the block that follows without decoding it (its window may well be
     * skipped on its header alone) */
    td_ix_header h;
    return end == TD_IX_NONE || !td_plist_block(self, end + 1, &h) ? TD_IX_NONE : end + 1;
}

void td_plist_set_bm25(td_plist *self, double k1, double b, double avgdl)
{
    self->c = k1 * (1 - b);
    self->e = k1 * b / avgdl;
}

double td_plist_bound(td_plist *self)
{
    if (!self->have)
        return 0;
    if (!self->bounded) {
        self->bound = td_ix_bound(&self->h, self->c, self->e);
        self->bounded = true;
    }
    return self->bound;
}

double td_plist_bound_len(td_plist *self, uint32_t dl)
{
    if (!self->have)
        return 1.0;
    double best = 0;
    for (size_t i = 0; i < self->h.npts; i++) {
        if (self->h.pts[i].dl > dl)
            continue;
        if (self->h.pts[i].tf == 65535)
            return 1.0;
        double tf = self->h.pts[i].tf, f = tf / (tf + self->c + self->e * dl);
        if (f > best)
            best = f;
    }
    return best;
}
