/* index.c — gathers postings per batch and appends them as blocks; see index.h. */
#include "index.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "codec.h"
#include "index_block.h"
#include "index_read.h"
#include "log.h"
#include "tokens.h"

#define BATCH_ARENA ((size_t)2 << 30)  /* postings of one batch */
#define MAX_ENTITIES 64                /* entity terms per article */
#define FLUSH_CHUNK 1024               /* terms per nested transaction of a flush */

/* One term of the batch: its postings in docno order. */
typedef struct {
    char *term;
    uint32_t tlen;
    uint32_t hash;
    td_ix_posting *p;
    uint32_t n, cap;
} s_term;

/* One term of the article being indexed. */
typedef struct {
    char term[TD_IX_TERM_MAX + 1];
    uint32_t tlen, hash;
    uint32_t tt, tb;
    uint32_t npos, pcap;
    uint32_t *pos;
    bool used;
} s_local;

struct td_index {
    td_terms *own;           /* tokens of td_index_add's articles */
    td_arena *arena;
    s_term **slots;          /* open addressing, power of two */
    size_t nslots, nterms;
    s_local *local;          /* article terms (open addressing) */
    size_t nlocal, lused;
    uint32_t *lidx;          /* used local slots, to clear them quickly */
    s_term **lterm;          /* the batch term of each used local slot */
    /* postings held across commits until a flush (td_index_committed) */
    size_t held_docs;        /* documents of committed transactions held */
    size_t attempt_docs;     /* documents added by the current attempt */
    uint32_t attempt_first;  /* the attempt's first docno */
    s_term *del;             /* the deleted list's term, once pushed */
    uint32_t del_base;       /* its postings when the attempt began */
    bool retired, del_flushed;   /* what the current attempt did */
    size_t list_bytes;       /* of the terms' posting arrays */
    /* a flush in parts (td_index_flush_part): the held terms in key order
     * and the first one not on disk; dropped by an attempt that adds */
    s_term **order;
    size_t norder, next;
    size_t part_end;         /* where the current attempt's part ends */
    bool part_last;          /* the current attempt writes the last part */
    struct s_flush *fl;      /* the flush's scratch (below) */
};

static uint32_t s_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a: terms are short */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void s_flush_free(struct s_flush *f);

td_index *td_index_new(void)
{
    td_index *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->own = td_terms_new();
    self->arena = td_arena_new(BATCH_ARENA);
    self->nslots = 1 << 16;
    self->slots = calloc(self->nslots, sizeof *self->slots);
    self->nlocal = 1 << 13;
    self->local = calloc(self->nlocal, sizeof *self->local);
    self->lidx = calloc(self->nlocal, sizeof *self->lidx);
    self->lterm = calloc(self->nlocal, sizeof *self->lterm);
    if (!self->own || !self->arena || !self->slots || !self->local || !self->lidx ||
        !self->lterm)
        td_index_destroy(&self);
    return self;
}

/* The terms' posting arrays are malloc'd: from the arena, every array a
 * term outgrew stayed until the flush, about half of the held bytes. */
static void s_free_lists(td_index *self)
{
    for (size_t i = 0; i < self->nslots; i++)
        if (self->slots[i])
            free(self->slots[i]->p);
    self->list_bytes = 0;
}

void td_index_destroy(td_index **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_index *self = *self_p;
    if (self->slots)
        s_free_lists(self);
    td_terms_destroy(&self->own);
    td_arena_destroy(&self->arena);
    free(self->slots);
    if (self->local)
        for (size_t i = 0; i < self->nlocal; i++)
            free(self->local[i].pos);
    free(self->local);
    free(self->lidx);
    free(self->lterm);
    free(self->order);
    s_flush_free(self->fl);
    free(self);
    *self_p = NULL;
}

static void s_order_drop(td_index *self)
{
    free(self->order);
    self->order = NULL;
    self->norder = self->next = self->part_end = 0;
    self->part_last = false;
}

void td_index_reset(td_index *self)
{
    s_free_lists(self);
    memset(self->slots, 0, self->nslots * sizeof *self->slots);
    self->nterms = 0;
    td_arena_reset(self->arena);
    self->held_docs = self->attempt_docs = 0;
    self->del = NULL;
    self->del_base = 0;
    self->retired = self->del_flushed = false;
    s_order_drop(self);
}

/* Drop what a failed attempt gathered: its documents' postings (docnos from
 * attempt_first on: docnos only grow, and the attempt's are handed out
 * again by the next one) and the docnos it put on the deleted list. A term
 * left empty stays in the table; the flush skips it. */
static void s_rollback(td_index *self)
{
    for (size_t i = 0; i < self->nslots; i++) {
        s_term *t = self->slots[i];
        if (!t)
            continue;
        if (t == self->del)
            t->n = self->del_base;
        else if (self->attempt_docs)
            while (t->n && t->p[t->n - 1].doc >= self->attempt_first)
                t->n--;
    }
}

void td_index_begin(td_index *self)
{
    if (self->attempt_docs || self->retired)
        s_rollback(self);
    self->attempt_docs = 0;
    self->retired = self->del_flushed = false;
    self->del_base = self->del ? self->del->n : 0;
    /* the attempt may add postings and terms: a flush in parts that did
     * not finish starts again from the terms still holding postings */
    s_order_drop(self);
}

/* A term's postings are on disk: forget them (the term stays, empty). */
static void s_term_clear(td_index *self, s_term *t)
{
    free(t->p);
    self->list_bytes -= (size_t)t->cap * sizeof *t->p;
    t->p = NULL;
    t->n = t->cap = 0;
}

void td_index_committed(td_index *self)
{
    if (self->del_flushed)
        s_term_clear(self, self->del);
    self->del_flushed = self->retired = false;
    self->held_docs += self->attempt_docs;
    self->attempt_docs = 0;
    if (self->part_last) {
        td_index_reset(self);   /* everything held is on disk */
        return;
    }
    for (; self->next < self->part_end; self->next++)
        s_term_clear(self, self->order[self->next]);
}

size_t td_index_held(const td_index *self)
{
    return self->held_docs + self->attempt_docs;
}

size_t td_index_bytes(const td_index *self)
{
    return td_arena_used(self->arena) + self->list_bytes;
}

/* ---- the article's own terms ------------------------------------------- */

static s_local *s_local_get(td_index *self, const char *term, size_t tlen)
{
    if (!tlen || tlen > TD_IX_TERM_MAX)
        return NULL;
    uint32_t h = s_hash(term, tlen);
    size_t mask = self->nlocal - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        s_local *l = &self->local[i];
        if (!l->used) {
            if (self->lused * 2 >= self->nlocal)
                return NULL;   /* a huge article: further new terms are dropped */
            l->used = true;
            memcpy(l->term, term, tlen);
            l->term[tlen] = 0;
            l->tlen = (uint32_t)tlen;
            l->hash = h;
            l->tt = l->tb = l->npos = 0;
            self->lidx[self->lused++] = (uint32_t)i;
            return l;
        }
        if (l->hash == h && l->tlen == tlen && memcmp(l->term, term, tlen) == 0)
            return l;
    }
}

static int s_local_pos(s_local *l, uint32_t pos)
{
    if (l->npos >= TD_IX_MAX_POS)
        return 0;
    if (l->npos == l->pcap) {
        uint32_t cap = l->pcap ? l->pcap * 2 : 8;
        uint32_t *p = realloc(l->pos, cap * sizeof *p);
        if (!p)
            return -1;
        l->pos = p;
        l->pcap = cap;
    }
    l->pos[l->npos++] = pos;
    return 0;
}

/* Gather one field's tokens; returns the indexed tokens, -1 when out of
 * memory. */
static long s_field(td_index *self, const td_term *tok, size_t ntok, uint32_t base, bool title)
{
    uint32_t pos = base;
    long n = 0;
    for (size_t k = 0; k < ntok; k++) {
        const td_term *t = &tok[k];
        uint32_t at = pos++;
        if (t->stop)
            continue;   /* positions still count: phrases keep their gaps */
        s_local *l = s_local_get(self, t->stem, t->stem_len);
        if (!l)
            continue;
        if (title)
            l->tt++;
        else
            l->tb++;
        if (s_local_pos(l, at) != 0)
            return -1;
        n++;
        if (title && pos >= TD_IX_BODY_POS - 1)
            break;
    }
    return n;
}

static void s_local_add(td_index *self, const char *prefix, const char *name)
{
    char buf[TD_IX_TERM_MAX + 1];
    size_t pl = strlen(prefix);
    size_t n = td_db_entity_norm(name, buf + pl, sizeof buf - pl);
    if (!n)
        return;
    memcpy(buf, prefix, pl);
    s_local *l = s_local_get(self, buf, pl + n);
    if (l && l->tb == 0)
        l->tb = 1;
}

/* ---- the batch's terms ----------------------------------------------------- */

static s_term *s_term_get(td_index *self, const char *term, size_t tlen, uint32_t h)
{
    if (self->nterms * 2 >= self->nslots) {
        size_t n = self->nslots * 2;
        s_term **slots = calloc(n, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < self->nslots; i++) {
            s_term *t = self->slots[i];
            if (!t)
                continue;
            size_t j = t->hash & (n - 1);
            while (slots[j])
                j = (j + 1) & (n - 1);
            slots[j] = t;
        }
        free(self->slots);
        self->slots = slots;
        self->nslots = n;
    }
    size_t mask = self->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        s_term *t = self->slots[i];
        if (!t) {
            t = td_arena_alloc(self->arena, sizeof *t);
            if (!t || !(t->term = td_arena_strndup(self->arena, term, tlen)))
                return NULL;
            t->tlen = (uint32_t)tlen;
            t->hash = h;
            t->p = NULL;
            t->n = t->cap = 0;
            self->slots[i] = t;
            self->nterms++;
            return t;
        }
        if (t->hash == h && t->tlen == tlen && memcmp(t->term, term, tlen) == 0)
            return t;
    }
}

static int s_term_push(td_index *self, s_term *t, const td_ix_posting *p)
{
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 4;
        td_ix_posting *np = realloc(t->p, cap * sizeof *np);
        if (!np)
            return -1;
        self->list_bytes += (size_t)(cap - t->cap) * sizeof *np;
        t->p = np;
        t->cap = cap;
    }
    t->p[t->n++] = *p;
    return 0;
}

/* ---- articles -------------------------------------------------------------- */

static td_db_rc s_retire(td_index *self, td_txn *txn, const char *id)
{
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_DOCIDS, id, strlen(id), &v);
    if (rc == TD_DB_NOTFOUND || rc == TD_DB_BADVAL)
        return TD_DB_OK;
    if (rc)
        return rc;
    if (v.len != 4)
        return TD_DB_OK;
    unsigned char k[4];
    memcpy(k, v.data, 4);
    uint32_t old = td_ix_get_u32(k);
    td_ix_doc d;
    if (td_txn_get(txn, TD_DBI_DOCS, k, 4, &v) == TD_DB_OK &&
        td_ix_doc_decode(v.data, v.len, &d) == 0) {
        td_txn_counter_add(txn, TD_CTR_DOC_LIVE, -1);
        td_txn_counter_add(txn, TD_CTR_DOC_TOKENS, -(int64_t)d.dl);
        if ((rc = td_txn_del(txn, TD_DBI_DOCS, k, 4)) != TD_DB_OK)
            return rc;
    }
    /* old postings stay (append-only); readers skip docnos on this list */
    td_ix_posting p = {.doc = old, .tb = 1};
    size_t dn = strlen(TD_IX_T_DELETED);
    s_term *t = s_term_get(self, TD_IX_T_DELETED, dn, s_hash(TD_IX_T_DELETED, dn));
    if (!t || s_term_push(self, t, &p) != 0)
        return TD_DB_ERROR;
    self->del = t;
    self->retired = true;
    return TD_DB_OK;
}

td_db_rc td_index_add(td_index *self, td_txn *txn, const td_article *a)
{
    if (!a->id || !*a->id || strlen(a->id) > TD_DB_MAX_KEY)
        return TD_DB_OK;
    if (td_terms_build(self->own, a->title, a->body, a->lang) != 0)
        return TD_DB_ERROR;
    return td_index_add_terms(self, txn, a, self->own);
}

/* The article's terms, positions and entities into the local table;
 * returns its length in indexed tokens, -1 when out of memory. */
static long s_gather(td_index *self, const td_article *a, const td_terms *terms)
{
    for (size_t i = 0; i < self->lused; i++)
        self->local[self->lidx[i]].used = false;
    self->lused = 0;
    size_t ntt, nbt;
    const td_term *tt = td_terms_get(terms, TD_TERMS_TITLE, &ntt);
    const td_term *bt = td_terms_get(terms, TD_TERMS_BODY, &nbt);
    long nt = s_field(self, tt, ntt, 0, true);
    long nb = nt < 0 ? -1 : s_field(self, bt, nbt, TD_IX_BODY_POS, false);
    if (nt < 0 || nb < 0)
        return -1;
    for (size_t i = 0; i < a->n_entities && i < MAX_ENTITIES; i++)
        s_local_add(self, TD_IX_P_ENTITY, a->entities[i].name);
    if (a->source)
        s_local_add(self, TD_IX_P_SOURCE, a->source);
    return nt + nb;
}

/* The gathered terms as postings of `doc`. Held postings of thousands of
 * articles are far larger than the caches, so each term's table slot, its
 * entry and the end of its postings are each a miss: the passes below ask
 * for all of an article's lines before they are used, so that the misses
 * overlap instead of following one another (prefetches are only hints; a
 * table that grows meanwhile just makes some of them useless). */
static int s_post(td_index *self, uint32_t doc, uint32_t dl)
{
    if (!self->attempt_docs)
        self->attempt_first = doc;
    self->attempt_docs++;
    size_t mask = self->nslots - 1;
    for (size_t i = 0; i < self->lused; i++)
        __builtin_prefetch(&self->slots[self->local[self->lidx[i]].hash & mask]);
    for (size_t i = 0; i < self->lused; i++) {
        s_term *t = self->slots[self->local[self->lidx[i]].hash & mask];
        if (t)
            __builtin_prefetch(t);
    }
    for (size_t i = 0; i < self->lused; i++) {
        s_local *l = &self->local[self->lidx[i]];
        s_term *t = s_term_get(self, l->term, l->tlen, l->hash);   /* hashed once */
        if (!t)
            return -1;
        if (t->n < t->cap)
            __builtin_prefetch(&t->p[t->n], 1);
        self->lterm[i] = t;
    }
    for (size_t i = 0; i < self->lused; i++) {
        s_local *l = &self->local[self->lidx[i]];
        td_ix_posting p = {.doc = doc, .tt = l->tt, .tb = l->tb, .dl = dl, .npos = l->npos};
        if (l->npos) {
            uint32_t *pos = td_arena_alloc(self->arena, l->npos * sizeof *pos);
            if (!pos)
                return -1;
            memcpy(pos, l->pos, l->npos * sizeof *pos);
            p.pos = pos;
        }
        if (s_term_push(self, self->lterm[i], &p) != 0)
            return -1;
    }
    return 0;
}

td_db_rc td_index_add_terms(td_index *self, td_txn *txn, const td_article *a,
                            const td_terms *terms)
{
    if (!a->id || !*a->id)
        return TD_DB_OK;
    size_t idlen = strlen(a->id);
    if (idlen > TD_DB_MAX_KEY)
        return TD_DB_OK;
    td_db_rc rc = s_retire(self, txn, a->id);
    if (rc)
        return rc;
    long n = s_gather(self, a, terms);
    if (n < 0)
        return TD_DB_ERROR;
    uint32_t dl = (uint32_t)n;
    uint32_t doc = (uint32_t)td_txn_counter_add(txn, TD_CTR_DOC_NEXT, 1);
    if (s_post(self, doc, dl) != 0)
        return TD_DB_ERROR;

    unsigned char k[4], rec[16 + TD_DB_MAX_KEY];
    td_ix_put_u32(k, doc);
    td_ix_doc d = {.published_at = a->published_at, .dl = dl, .id = a->id, .idlen = idlen};
    size_t rl = td_ix_doc_encode(&d, rec, sizeof rec);
    if ((rc = td_txn_put(txn, TD_DBI_DOCS, k, 4, rec, rl)) != TD_DB_OK ||
        (rc = td_txn_put(txn, TD_DBI_DOCIDS, a->id, idlen, k, 4)) != TD_DB_OK)
        return rc;
    td_txn_counter_add(txn, TD_CTR_DOC_LIVE, 1);
    td_txn_counter_add(txn, TD_CTR_DOC_TOKENS, dl);
    /* durable with the article: how many docnos the index lacks should the
     * held postings be lost (td_index_recover) */
    td_txn_counter_add(txn, TD_CTR_DOC_UNINDEXED, 1);
    return TD_DB_OK;
}

td_db_rc td_index_recover(td_index *self, td_txn *txn, td_arena *arena, size_t *n_out)
{
    *n_out = 0;
    uint64_t next = td_txn_counter(txn, TD_CTR_DOC_NEXT);
    uint64_t lost = td_txn_counter(txn, TD_CTR_DOC_UNINDEXED);
    if (!lost)
        return TD_DB_OK;
    if (lost > next)
        lost = next;
    for (uint64_t d = next - lost + 1; d <= next; d++) {
        td_ix_doc doc;
        td_db_rc rc = td_ix_doc_get(txn, (uint32_t)d, &doc);
        if (rc == TD_DB_NOTFOUND)
            continue;   /* retired since: its version was replaced */
        if (rc)
            return rc;
        char *id = td_arena_strndup(arena, doc.id, doc.idlen);
        td_val raw;
        td_article a;
        td_error err;
        if (!id)
            return TD_DB_ERROR;
        if ((rc = td_db_article_get(txn, id, &raw)) == TD_DB_NOTFOUND)
            continue;
        if (rc)
            return rc;
        if (td_article_decode(raw.data, raw.len, arena, &a, &err) != 0) {
            td_warn("article %s cannot be decoded: not re-indexed", id);
            continue;
        }
        if (td_terms_build(self->own, a.title, a.body, a.lang) != 0)
            return TD_DB_ERROR;
        long n = s_gather(self, &a, self->own);
        if (n < 0 || s_post(self, (uint32_t)d, (uint32_t)n) != 0)
            return TD_DB_ERROR;
        (*n_out)++;
    }
    return TD_DB_OK;
}

/* ---- flush -------------------------------------------------------------------- */

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
typedef struct s_flush {
    td_cur *cur, *pcur, *tcur;   /* on `postings`, `positions`, `terms` */
    s_buf docs, pos;
    td_ix_posting *all;
    size_t acap;
    uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], dl[TD_IX_BLOCK];
} s_flush;

static void s_flush_free(s_flush *f)
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

static td_db_rc s_flush_term(td_index *self, td_txn *txn, s_term *t, s_flush *f)
{
    unsigned char key[TD_IX_TERM_MAX + 5];
    size_t kl = td_ix_key(t->term, t->tlen, UINT32_MAX, key);
    if (!kl)
        return TD_DB_OK;
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
    td_db_rc rc = td_cur_before(f->cur, key, kl, &k, &v);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return rc;
    td_ix_header h;
    bool on_old = false, on_pos = false;   /* cursors on the old block's values */
    bool last = rc == TD_DB_OK && k.len == kl && memcmp(k.data, key, t->tlen + 1) == 0 &&
                td_ix_header_read(v.data, v.len, &h) == 0;
    if (last && t != self->del) {
        /* Docnos only grow, so a term's postings on disk are a prefix of
         * its list: those up to the last block's end were written by an
         * earlier part of an interrupted flush (and rebuilt by
         * td_index_recover after a crash). Writing each posting once makes
         * a flush safe to redo. The deleted list is not in docno order; it
         * is written with the transaction that retires, never twice. */
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
            td_ix_put_u32(key + t->tlen + 1, h.first);
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
        kl = td_ix_key(t->term, t->tlen, all[i].doc, key);
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
    bool found = td_cur_seek(f->tcur, t->term, t->tlen, &tk, &v) == TD_DB_OK &&
                 tk.len == t->tlen && memcmp(tk.data, t->term, t->tlen) == 0;
    if (found && v.len == 8) {
        const unsigned char *p = v.data;
        df = (uint64_t)td_ix_get_u32(p) << 32 | td_ix_get_u32(p + 4);
    }
    df += tn;
    unsigned char dv[8];
    td_ix_put_u32(dv, (uint32_t)(df >> 32));
    td_ix_put_u32(dv + 4, (uint32_t)df);
    return td_cur_put(txn, f->tcur, t->term, t->tlen, dv, 8, found);
}

static int s_term_cmp(const void *a, const void *b)
{
    const s_term *x = *(s_term *const *)a, *y = *(s_term *const *)b;
    int c = memcmp(x->term, y->term, x->tlen < y->tlen ? x->tlen : y->tlen);
    return c ? c : (int)x->tlen - (int)y->tlen;
}

/* One nested transaction's share of a part: terms [from, to) of the
 * order, each cursor opened in it (a cursor belongs to its transaction). */
typedef struct {
    td_index *self;
    size_t from, to;
} s_chunk;

static td_db_rc s_flush_chunk(td_txn *txn, void *arg)
{
    s_chunk *c = arg;
    s_flush *f = c->self->fl;
    td_db_rc rc;
    if ((rc = td_cur_open(txn, TD_DBI_POSTINGS, &f->cur)) == TD_DB_OK &&
        (rc = td_cur_open(txn, TD_DBI_POSITIONS, &f->pcur)) == TD_DB_OK &&
        (rc = td_cur_open(txn, TD_DBI_TERMS, &f->tcur)) == TD_DB_OK)
        for (size_t i = c->from; i < c->to && rc == TD_DB_OK; i++)
            rc = s_flush_term(c->self, txn, c->self->order[i], f);
    td_cur_close(&f->cur);
    td_cur_close(&f->pcur);
    td_cur_close(&f->tcur);
    return rc;
}

static td_db_rc s_scratch(td_index *self)
{
    if (!self->fl && !(self->fl = calloc(1, sizeof *self->fl)))
        return TD_DB_ERROR;
    return TD_DB_OK;
}

td_db_rc td_index_flush_deleted(td_index *self, td_txn *txn)
{
    if (!self->del || !self->del->n)
        return TD_DB_OK;
    td_db_rc rc = s_scratch(self);
    s_flush *f = self->fl;
    if (rc == TD_DB_OK && (rc = td_cur_open(txn, TD_DBI_POSTINGS, &f->cur)) == TD_DB_OK &&
        (rc = td_cur_open(txn, TD_DBI_POSITIONS, &f->pcur)) == TD_DB_OK &&
        (rc = td_cur_open(txn, TD_DBI_TERMS, &f->tcur)) == TD_DB_OK)
        rc = s_flush_term(self, txn, self->del, f);
    if (f) {
        td_cur_close(&f->cur);
        td_cur_close(&f->pcur);
        td_cur_close(&f->tcur);
    }
    if (rc == TD_DB_OK)
        self->del_flushed = true;
    return rc;
}

/* The held terms with postings, in key order (LMDB then appends into
 * neighbouring pages: fewer pages dirtied, fewer splits). */
static td_db_rc s_order_build(td_index *self)
{
    self->order = malloc((self->nterms ? self->nterms : 1) * sizeof *self->order);
    if (!self->order)
        return TD_DB_ERROR;
    size_t n = 0;
    for (size_t i = 0; i < self->nslots; i++) {
        s_term *t = self->slots[i];
        if (t && t->n && t != self->del)   /* empty: written, or rolled back */
            self->order[n++] = t;
    }
    qsort(self->order, n, sizeof *self->order, s_term_cmp);
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
        rc = s_order_build(self);
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
        /* everything handed out is in the index once this commits */
        td_txn_counter_add(txn, TD_CTR_DOC_UNINDEXED,
                           -(int64_t)td_txn_counter(txn, TD_CTR_DOC_UNINDEXED));
        td_txn_counter_add(txn, TD_CTR_INDEX_FLUSHES, 1);
        self->part_last = true;
    }
    return TD_DB_OK;
}

td_db_rc td_index_flush(td_index *self, td_txn *txn)
{
    td_db_rc rc = td_index_flush_deleted(self, txn);
    return rc ? rc : td_index_flush_part(self, txn, SIZE_MAX);
}
