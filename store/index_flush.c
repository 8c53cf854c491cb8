/* index_flush.c — writes the search index's held postings to LMDB: per
 * term, its last block rewritten with the new postings and its document
 * frequency, in term number order, in parts (see index.h). */
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "index_read.h"

#define FLUSH_CHUNK 1024   /* terms per nested transaction of a flush */

/* Decode a whole stored block (the term's partly filled last block) into
 * postings in the arena; returns n or -1. */
static int s_block_load(td_index *self, const void *buf, size_t len, td_ix_posting **out)
{
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
    int n = td_ix_block_docs(buf, len, doc, tt, tb, dl);
    if (n <= 0)
        return -1;
    td_ix_header h;
    td_ix_header_read(buf, len, &h);
    td_ix_posting *p = td_arena_alloc(self->arena, (size_t)n * sizeof *p);
    if (!p)
        return -1;
    const unsigned char *r = (const unsigned char *)buf + h.hdr_len + h.docs_len;
    const unsigned char *end = (const unsigned char *)buf + len;
    for (int i = 0; i < n; i++) {
        uint32_t np, v, last = 0;
        size_t k = td_ix_get_varint(r, end, &np);
        if (!k || np > TD_IX_MAX_POS)
            return -1;
        r += k;
        uint32_t *pos = np ? td_arena_alloc(self->arena, np * sizeof *pos) : NULL;
        if (np && !pos)
            return -1;
        for (uint32_t j = 0; j < np; j++) {
            if (!(k = td_ix_get_varint(r, end, &v)))
                return -1;
            r += k;
            last += v;
            pos[j] = last;
        }
        p[i] = (td_ix_posting){.doc = doc[i], .tt = tt[i], .tb = tb[i], .dl = dl[i],
                               .npos = np, .pos = pos};
    }
    *out = p;
    return n;
}

/* A growable write buffer. */
typedef struct {
    unsigned char *p;
    size_t cap;
} s_buf;

static int s_reserve(s_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = need < 4096 ? 4096 : need * 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* The flush's scratch: a cursor on `postings`, the write buffers and the
 * merged postings of the term being written. Reused for every term of the
 * batch: allocating the merge from the batch arena cost ~30% of the flush
 * at 350k articles (fresh pages faulted in and zeroed at every batch, as
 * the arena keeps at most 8 MiB across resets). */
struct td_ixw_flush {
    td_cur *cur, *pcur, *tcur;   /* on `postings`, `positions`, `terms` */
    s_buf docs, pos;
    td_ix_posting *all;
    size_t acap;
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
};

typedef td_ixw_flush s_flush;

void td_ixw_flush_free(s_flush *f)
{
    if (!f)
        return;
    free(f->docs.p);
    free(f->pos.p);
    free(f->all);
    free(f);
}

static int s_all_reserve(s_flush *f, size_t n)
{
    if (n <= f->acap)
        return 0;
    size_t cap = n < 1024 ? 1024 : n * 2;
    td_ix_posting *p = realloc(f->all, cap * sizeof *p);
    if (!p)
        return -1;
    f->all = p;
    f->acap = cap;
    return 0;
}

/* A term numbered by this flush: its number in `terms` and the counter. */
static td_db_rc s_number(td_txn *txn, td_ixw_term *t)
{
    unsigned char no[4];
    td_ix_put_u32(no, t->no);
    td_db_rc rc = td_txn_put(txn, TD_DBI_TERMS, t->term, t->tlen, no, 4);
    uint64_t next = td_txn_counter(txn, TD_CTR_TERM_NEXT);
    if (rc == TD_DB_OK && t->no > next)
        td_txn_counter_add(txn, TD_CTR_TERM_NEXT, (int64_t)(t->no - next));
    return rc;
}

static td_db_rc s_flush_term(td_index *self, td_txn *txn, td_ixw_term *t, s_flush *f)
{
    unsigned char key[TD_IX_KEY];
    size_t kl = td_ix_key(t->no, UINT32_MAX, key);
    if (t->fresh) {
        td_db_rc rc = s_number(txn, t);
        if (rc != TD_DB_OK)
            return rc;
    }
    const td_ix_posting *tp = t->p;        /* the postings to write */
    size_t tn = t->n;
    const td_ix_posting *all = tp;
    size_t n = tn, on = 0, oldpos = 0;     /* old postings kept; their positions' bytes */
    bool split = false;                    /* the old last block keeps its positions apart */

    /* A partly filled last block is rewritten with the new postings, so
     * blocks stay full however small the batches are. In formats 3 and 4
     * that costs little: the docs part decodes by widening copies and the
     * positions are appended to as bytes, never decoded. Older formats
     * are decoded whole once and rewritten. */
    td_val k, v;
    /* a term numbered by this flush has nothing on disk yet */
    td_db_rc rc = t->fresh ? TD_DB_NOTFOUND : td_cur_before(f->cur, key, kl, &k, &v);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return rc;
    td_ix_header h;
    bool on_old = false, on_pos = false;   /* cursors on the old block's values */
    bool last = rc == TD_DB_OK && k.len == kl && memcmp(k.data, key, TD_IX_KEY_TERM) == 0 &&
                td_ix_header_read(v.data, v.len, &h) == 0;
    if (last) {
        /* Docnos only grow, so a term's postings on disk are a prefix of
         * its list: those up to the last block's end were written by an
         * earlier part of an interrupted flush (and rebuilt by
         * td_index_recover after a crash). Writing each posting once makes
         * a flush safe to redo. */
        while (tn && tp->doc <= h.last) {
            tp++;
            tn--;
        }
        if (!tn)
            return TD_DB_OK;
        all = tp;
        n = tn;
    }
    if (last && h.n < TD_IX_BLOCK && h.last < tp[0].doc) {
        int m = -1;
        if (h.format >= TD_IX_F_SPLIT) {
            m = td_ix_block_docs(v.data, v.len, f->doc, f->tt, f->tb, f->dl);
            td_val pv = {.data = (const unsigned char *)v.data + h.hdr_len + h.docs_len,
                         .len = v.len - h.hdr_len - h.docs_len};   /* format 4: inline */
            td_ix_put_u32(key + TD_IX_KEY_TERM, h.first);
            split = h.format == TD_IX_F_SPLIT;
            td_val pk;
            if (split && m > 0)
                on_pos = td_cur_seek(f->pcur, key, kl, &pk, &pv) == TD_DB_OK &&
                         pk.len == kl && memcmp(pk.data, key, kl) == 0;
            if (m > 0 && (!split || on_pos)) {
                /* copied: the value moves with the next write */
                if (s_reserve(&f->pos, pv.len) != 0)
                    return TD_DB_ERROR;
                memcpy(f->pos.p, pv.data, pv.len);
                oldpos = pv.len;
            } else {
                m = -1;   /* positions lost: rewrite nothing, append a block */
            }
            if (m > 0 && s_all_reserve(f, (size_t)m + n) != 0)
                return TD_DB_ERROR;
            for (int i = 0; i < m; i++)
                f->all[i] = (td_ix_posting){.doc = f->doc[i], .tt = f->tt[i], .tb = f->tb[i],
                                            .dl = f->dl[i]};
        } else {
            td_ix_posting *old = NULL;   /* rare: old stores only */
            m = s_block_load(self, v.data, v.len, &old);
            if (m > 0 && s_all_reserve(f, (size_t)m + n) != 0)
                return TD_DB_ERROR;
            if (m > 0)
                memcpy(f->all, old, (size_t)m * sizeof *old);
        }
        if (m > 0) {
            memcpy(f->all + m, tp, n * sizeof *f->all);
            all = f->all;
            on = h.format >= TD_IX_F_SPLIT ? (size_t)m : 0;   /* positions already encoded */
            n += (size_t)m;
            on_old = true;
            /* the first block keeps its first docno, so its key: the puts
             * below replace the old values */
        } else {
            oldpos = 0;
            split = on_pos = false;   /* nothing merged: the blocks below have new keys */
        }
    }

    for (size_t i = 0; i < n; i += TD_IX_BLOCK) {
        size_t m = n - i < TD_IX_BLOCK ? n - i : TD_IX_BLOCK;
        if (s_reserve(&f->docs, td_ix_block_bound(all + i, m)) != 0)
            return TD_DB_ERROR;
        size_t len = td_ix_block_encode(all + i, m, f->docs.p);
        kl = td_ix_key(t->no, all[i].doc, key);
        /* positions: the old block's bytes (i == 0 only) + the new postings' */
        size_t keep = i == 0 ? oldpos : 0, from = i == 0 ? on : i;
        if (s_reserve(&f->pos, keep + td_ix_pos_bound(all + from, i + m - from)) != 0)
            return TD_DB_ERROR;
        size_t pl = keep + td_ix_pos_encode(all + from, i + m - from, f->pos.p + keep);
        /* the first block replaces the old last block (same key): the
         * cursors still on its values replace them in place, without a
         * second search from the root */
        bool cur = i == 0 && on_old;
        /* A last block that is not full and fits a leaf is written with its
         * positions inline (format 4): one value, one leaf page dirtied per
         * commit instead of two. A block that was written apart stays apart
         * (its `positions` entry would otherwise be left behind). */
        if (m < TD_IX_BLOCK && !(i == 0 && split) && len + pl <= TD_IX_INLINE_MAX) {
            if (s_reserve(&f->docs, len + pl) != 0)
                return TD_DB_ERROR;
            len = td_ix_block_inline(f->docs.p, len, f->pos.p, pl);
            if ((rc = td_cur_put(txn, f->cur, key, kl, f->docs.p, len, cur)) != TD_DB_OK)
                return rc;
            continue;
        }
        if ((rc = td_cur_put(txn, f->cur, key, kl, f->docs.p, len, cur)) != TD_DB_OK ||
            (rc = td_cur_put(txn, f->pcur, key, kl, f->pos.p, pl, cur && on_pos)) != TD_DB_OK)
            return rc;
    }

    uint64_t df = 0;
    td_val tk;
    bool found = !t->fresh && td_cur_seek(f->tcur, key, TD_IX_KEY_TERM, &tk, &v) == TD_DB_OK &&
                 tk.len == TD_IX_KEY_TERM && memcmp(tk.data, key, TD_IX_KEY_TERM) == 0;
    if (found && v.len == 8) {
        const unsigned char *p = v.data;
        df = (uint64_t)td_ix_get_u32(p) << 32 | td_ix_get_u32(p + 4);
    }
    df += tn;
    unsigned char dv[8];
    td_ix_put_u32(dv, (uint32_t)(df >> 32));
    td_ix_put_u32(dv + 4, (uint32_t)df);
    return td_cur_put(txn, f->tcur, key, TD_IX_KEY_TERM, dv, 8, found);
}

static int s_term_cmp(const void *a, const void *b)
{
    const td_ixw_term *x = *(td_ixw_term *const *)a, *y = *(td_ixw_term *const *)b;
    int c = memcmp(x->term, y->term, x->tlen < y->tlen ? x->tlen : y->tlen);
    return c ? c : (int)x->tlen - (int)y->tlen;
}

static int s_no_cmp(const void *a, const void *b)
{
    const td_ixw_term *x = *(td_ixw_term *const *)a, *y = *(td_ixw_term *const *)b;
    return (x->no > y->no) - (x->no < y->no);
}

/* The term's number: from `terms`, or the next one free (then written with
 * the term's postings, s_number). */
static td_db_rc s_lookup(td_txn *txn, td_ixw_term *t, uint64_t *next)
{
    td_db_rc rc = td_ix_term_lookup(txn, t->term, t->tlen, &t->no);
    t->fresh = false;
    if (rc != TD_DB_NOTFOUND)
        return rc;
    if (*next >= UINT32_MAX)
        return TD_DB_FULL;
    t->no = (uint32_t)++*next;
    t->fresh = true;
    return TD_DB_OK;
}

/* Write `n` terms with the scratch's cursors, opened in `txn` and closed
 * before returning (a cursor belongs to its transaction). */
static td_db_rc s_write_terms(td_index *self, td_txn *txn, td_ixw_term *const *terms, size_t n)
{
    s_flush *f = self->fl;
    td_db_rc rc;
    if ((rc = td_cur_open(txn, TD_DBI_POSTINGS, &f->cur)) == TD_DB_OK &&
        (rc = td_cur_open(txn, TD_DBI_POSITIONS, &f->pcur)) == TD_DB_OK &&
        (rc = td_cur_open(txn, TD_DBI_TERMDF, &f->tcur)) == TD_DB_OK)
        for (size_t i = 0; i < n && rc == TD_DB_OK; i++)
            rc = s_flush_term(self, txn, terms[i], f);
    td_cur_close(&f->cur);
    td_cur_close(&f->pcur);
    td_cur_close(&f->tcur);
    return rc;
}

/* One nested transaction's share of a part: terms [from, to) of the order. */
typedef struct {
    td_index *self;
    size_t from, to;
} s_chunk;

static td_db_rc s_flush_chunk(td_txn *txn, void *arg)
{
    s_chunk *c = arg;
    return s_write_terms(c->self, txn, c->self->order + c->from, c->to - c->from);
}

/* One transaction's part of td_index_flush_db. */
typedef struct {
    td_index *self;
    size_t max_terms;
} s_part;

static td_db_rc s_scratch(td_index *self)
{
    if (!self->fl && !(self->fl = calloc(1, sizeof *self->fl)))
        return TD_DB_ERROR;
    return TD_DB_OK;
}

/* The held terms with postings, numbered, in number order.
 *
 * Postings are keyed by term number, not by the term: a flush writes the
 * last block and the document frequency of every term it holds, and keyed
 * by the term those writes spread over the whole of `postings` and
 * `termdf` once the vocabulary outgrows a flush, so that a flush rewrote
 * nearly every leaf page of the index and its cost grew with the archive
 * (docs/performance.md). Numbered in the order terms are first seen, the
 * terms a flush touches are the frequent ones (low numbers) and the
 * recent ones (the last numbers): neighbours on fewer pages. New terms
 * are numbered in byte order, so that a flush is the same however it was
 * cut into parts. */
static td_db_rc s_order_build(td_index *self, td_txn *txn)
{
    self->order = malloc((self->nterms ? self->nterms : 1) * sizeof *self->order);
    if (!self->order)
        return TD_DB_ERROR;
    size_t n = 0;
    for (size_t i = 0; i < self->nslots; i++) {
        td_ixw_term *t = self->slots[i];
        /* empty: written, or rolled back */
        if (t && t->n && td_ix_term_ok(t->term, t->tlen))
            self->order[n++] = t;
    }
    qsort(self->order, n, sizeof *self->order, s_term_cmp);
    uint64_t next = td_txn_counter(txn, TD_CTR_TERM_NEXT);
    if (next < TD_IX_NO_DELETED)
        next = TD_IX_NO_DELETED;
    for (size_t i = 0; i < n; i++) {
        td_db_rc rc = s_lookup(txn, self->order[i], &next);
        if (rc != TD_DB_OK) {
            td_ixw_order_drop(self);
            return rc;
        }
    }
    qsort(self->order, n, sizeof *self->order, s_no_cmp);
    self->norder = n;
    self->next = 0;
    return TD_DB_OK;
}

td_db_rc td_index_flush_part(td_index *self, td_txn *txn, size_t max_terms)
{
    self->part_end = 0;
    self->part_last = false;
    td_db_rc rc = s_scratch(self);
    if (rc == TD_DB_OK && !self->order)
        rc = s_order_build(self, txn);
    if (rc != TD_DB_OK)
        return rc;
    size_t end = self->norder - self->next > max_terms ? self->next + max_terms : self->norder;
    /* in nested transactions of FLUSH_CHUNK terms: a term costs a leaf page
     * or two, and LMDB keeps a transaction's dirty pages in a sorted array
     * that each new page shifts, so one transaction of N pages costs
     * O(N^2) (27 % of the store's samples around 950k stored, in
     * mdb_mid2l_insert), while a child's pages join its parent's in one
     * linear merge */
    for (size_t i = self->next; i < end && rc == TD_DB_OK; i += FLUSH_CHUNK) {
        s_chunk c = {self, i, end - i > FLUSH_CHUNK ? i + FLUSH_CHUNK : end};
        rc = td_txn_nested(txn, s_flush_chunk, &c);
    }
    if (rc != TD_DB_OK)
        return rc;
    self->part_end = end;
    if (end == self->norder) {
        /* every docno up to the last one gathered is in the index once
         * this commits (the documents after it: the rest of a recovery, or
         * articles committed since these were handed over) */
        uint64_t was = td_txn_counter(txn, TD_CTR_INDEXED_UPTO);
        if (self->upto)
            td_txn_counter_add(txn, TD_CTR_INDEXED_UPTO, (int64_t)self->upto - (int64_t)was);
        td_txn_counter_add(txn, TD_CTR_INDEX_FLUSHES, 1);
        self->part_last = true;
    }
    return TD_DB_OK;
}

td_db_rc td_index_flush(td_index *self, td_txn *txn)
{
    return td_index_flush_part(self, txn, SIZE_MAX);
}

static td_db_rc s_apply_part(td_txn *txn, void *arg)
{
    const s_part *p = arg;
    return td_index_flush_part(p->self, txn, p->max_terms);
}

td_db_rc td_index_flush_db(td_index *self, td_db *db)
{
    s_part p = {self, TD_INDEX_FLUSH_PART};
    while (td_index_held(self)) {
        td_db_rc rc = td_db_index_write(db, s_apply_part, &p);
        if (rc != TD_DB_OK)
            return rc;
        td_index_committed(self);
    }
    return TD_DB_OK;
}
