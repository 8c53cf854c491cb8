/* index.c — gathers the postings of the articles stored and holds them
 * until index_flush.c writes them; see index.h. */
#include "index_int.h"

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

#define WLOCAL_NONE UINT32_MAX

static uint32_t s_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a: terms are short */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

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
    free(self->wlocal);
    free(self->order);
    td_ixw_flush_free(self->fl);
    free(self);
    *self_p = NULL;
}

void td_ixw_order_drop(td_index *self)
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
    self->upto = 0;
    td_ixw_order_drop(self);
}

/* Drop what a failed attempt gathered: its documents' postings (docnos from
 * attempt_first on: docnos only grow, and the attempt's are handed out
 * again by the next one). A term left empty stays in the table; the flush
 * skips it. */
static void s_rollback(td_index *self)
{
    for (size_t i = 0; i < self->nslots; i++) {
        td_ixw_term *t = self->slots[i];
        while (t && t->n && t->p[t->n - 1].doc >= self->attempt_first)
            t->n--;
    }
}

void td_index_begin(td_index *self)
{
    if (self->attempt_docs)
        s_rollback(self);
    self->attempt_docs = 0;
    /* the attempt may add postings and terms: a flush in parts that did
     * not finish starts again from the terms still holding postings */
    td_ixw_order_drop(self);
}

/* A term's postings are on disk: forget them (the term stays, empty). */
static void s_term_clear(td_index *self, td_ixw_term *t)
{
    free(t->p);
    self->list_bytes -= (size_t)t->cap * sizeof *t->p;
    t->p = NULL;
    t->n = t->cap = 0;
}

void td_index_committed(td_index *self)
{
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

static td_ixw_local *s_local_get(td_index *self, const char *term, size_t tlen)
{
    if (!tlen || tlen > TD_IX_TERM_MAX)
        return NULL;
    uint32_t h = s_hash(term, tlen);
    size_t mask = self->nlocal - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        td_ixw_local *l = &self->local[i];
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

static int s_local_pos(td_ixw_local *l, uint32_t pos)
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

/* The local slot of token t, looked up once per word of the article
 * (its other tokens only read wlocal). */
static td_ixw_local *s_local_word(td_index *self, const td_term *t)
{
    uint32_t *w = t->word < self->wn ? &self->wlocal[t->word] : NULL;
    if (w && *w)
        return *w == WLOCAL_NONE ? NULL : &self->local[*w - 1];
    td_ixw_local *l = s_local_get(self, t->stem, t->stem_len);
    if (w)
        *w = l ? (uint32_t)(l - self->local) + 1 : WLOCAL_NONE;
    return l;
}

/* Gather one field's tokens into the local table (`self`; NULL: count
 * only); returns the indexed tokens, -1 when out of memory. The count does
 * not depend on the table (a term dropped from a huge article still
 * counts), so the articles' transaction can write a document's length
 * before another thread gathers its postings (td_index_add_doc). */
static long s_field(td_index *self, const td_term *tok, size_t ntok, uint32_t base, bool title)
{
    uint32_t pos = base;
    long n = 0;
    for (size_t k = 0; k < ntok; k++) {
        const td_term *t = &tok[k];
        uint32_t at = pos++;
        if (t->stop || !t->stem_len || t->stem_len > TD_IX_TERM_MAX)
            continue;   /* positions still count: phrases keep their gaps */
        n++;
        td_ixw_local *l = self ? s_local_word(self, t) : NULL;
        if (l) {
            if (title)
                l->tt++;
            else
                l->tb++;
            if (s_local_pos(l, at) != 0)
                return -1;
        }
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
    td_ixw_local *l = s_local_get(self, buf, pl + n);
    if (l && l->tb == 0)
        l->tb = 1;
}

/* ---- the batch's terms ----------------------------------------------------- */

static td_ixw_term *s_term_get(td_index *self, const char *term, size_t tlen, uint32_t h)
{
    if (self->nterms * 2 >= self->nslots) {
        size_t n = self->nslots * 2;
        td_ixw_term **slots = calloc(n, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < self->nslots; i++) {
            td_ixw_term *t = self->slots[i];
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
        td_ixw_term *t = self->slots[i];
        if (!t) {
            /* the term's bytes right after the entry: the prefetch of the
             * entry (s_post) brings in what the comparison below reads */
            t = td_arena_alloc(self->arena, sizeof *t + tlen + 1);
            if (!t)
                return NULL;
            t->term = (char *)(t + 1);
            memcpy(t->term, term, tlen);
            t->term[tlen] = '\0';
            t->tlen = (uint32_t)tlen;
            t->hash = h;
            t->no = 0;   /* numbered by the flush (s_order_build) */
            t->fresh = false;
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

static int s_term_push(td_index *self, td_ixw_term *t, const td_ix_posting *p)
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

static td_db_rc s_retire(td_txn *txn, const char *id)
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
    td_ix_doc d;
    if (td_txn_get(txn, TD_DBI_DOCS, k, 4, &v) == TD_DB_OK &&
        td_ix_doc_decode(v.data, v.len, &d) == 0) {
        td_txn_counter_add(txn, TD_CTR_DOC_LIVE, -1);
        td_txn_counter_add(txn, TD_CTR_DOC_TOKENS, -(int64_t)d.dl);
        if ((rc = td_txn_del(txn, TD_DBI_DOCS, k, 4)) != TD_DB_OK)
            return rc;
    }
    /* old postings stay (append-only); readers skip the docnos in
     * `retired`, written with the transaction that retires them (the index
     * may have postings of the old version on disk, or get them later from
     * a flush of what it holds) */
    return td_txn_put(txn, TD_DBI_RETIRED, k, 4, "", 0);
}

td_db_rc td_index_add(td_index *self, td_txn *txn, const td_article *a)
{
    if (!a->id || !*a->id || strlen(a->id) > TD_DB_MAX_KEY)
        return TD_DB_OK;
    if (td_terms_build(self->own, a->title, a->body, a->lang) != 0)
        return TD_DB_ERROR;
    return td_index_add_terms(self, txn, a, self->own);
}

/* The article's terms, positions and entities into the local table
 * (`self`; NULL: count only); returns its length in indexed tokens, -1
 * when out of memory. */
static long s_gather(td_index *self, const td_article *a, const td_terms *terms)
{
    if (self) {
        for (size_t i = 0; i < self->lused; i++)
            self->local[self->lidx[i]].used = false;
        self->lused = 0;
        size_t nw = td_terms_words(terms);
        if (nw > self->wcap) {
            size_t cap = self->wcap ? self->wcap : 1024;
            while (cap < nw)
                cap *= 2;
            uint32_t *w = realloc(self->wlocal, cap * sizeof *w);
            if (!w)
                return -1;
            self->wlocal = w;
            self->wcap = cap;
        }
        if (nw)
            memset(self->wlocal, 0, nw * sizeof *self->wlocal);
        self->wn = nw;
    }
    size_t ntt, nbt;
    const td_term *tt = td_terms_get(terms, TD_TERMS_TITLE, &ntt);
    const td_term *bt = td_terms_get(terms, TD_TERMS_BODY, &nbt);
    long nt = s_field(self, tt, ntt, 0, true);
    long nb = nt < 0 ? -1 : s_field(self, bt, nbt, TD_IX_BODY_POS, false);
    if (nt < 0 || nb < 0)
        return -1;
    for (size_t i = 0; self && i < a->n_entities && i < MAX_ENTITIES; i++)
        s_local_add(self, TD_IX_P_ENTITY, a->entities[i].name);
    if (self && a->source)
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
        td_ixw_term *t = self->slots[self->local[self->lidx[i]].hash & mask];
        if (t)
            __builtin_prefetch(t);
    }
    for (size_t i = 0; i < self->lused; i++) {
        td_ixw_local *l = &self->local[self->lidx[i]];
        td_ixw_term *t = s_term_get(self, l->term, l->tlen, l->hash);   /* hashed once */
        if (!t)
            return -1;
        if (t->n < t->cap)
            __builtin_prefetch(&t->p[t->n], 1);
        self->lterm[i] = t;
    }
    for (size_t i = 0; i < self->lused; i++) {
        td_ixw_local *l = &self->local[self->lidx[i]];
        td_ix_posting p = {.doc = doc, .tt = l->tt, .tb = l->tb, .dl = dl, .npos = l->npos};
        if (l->npos == 1) {
            p.pos1 = l->pos[0];
        } else if (l->npos) {
            uint32_t *pos = td_arena_alloc(self->arena, l->npos * sizeof *pos);
            if (!pos)
                return -1;
            memcpy(pos, l->pos, l->npos * sizeof *pos);
            p.pos = pos;
        }
        if (s_term_push(self, self->lterm[i], &p) != 0)
            return -1;
    }
    self->upto = doc;
    return 0;
}

td_db_rc td_index_add_doc(td_index *self, td_txn *txn, const td_article *a,
                          const td_terms *terms, uint32_t *doc)
{
    *doc = 0;
    if (!a->id || !*a->id)
        return TD_DB_OK;
    size_t idlen = strlen(a->id);
    if (idlen > TD_DB_MAX_KEY)
        return TD_DB_OK;
    td_db_rc rc = s_retire(txn, a->id);
    if (rc)
        return rc;
    uint32_t dl = (uint32_t)s_gather(NULL, a, terms);   /* counting fails never */
    uint32_t d = (uint32_t)td_txn_counter_add(txn, TD_CTR_DOC_NEXT, 1);
    unsigned char k[4], rec[16 + TD_DB_MAX_KEY];
    td_ix_put_u32(k, d);
    td_ix_doc rd = {.published_at = a->published_at, .dl = dl, .id = a->id, .idlen = idlen};
    size_t rl = td_ix_doc_encode(&rd, rec, sizeof rec);
    if ((rc = td_txn_put(txn, TD_DBI_DOCS, k, 4, rec, rl)) != TD_DB_OK ||
        (rc = td_txn_put(txn, TD_DBI_DOCIDS, a->id, idlen, k, 4)) != TD_DB_OK)
        return rc;
    td_txn_counter_add(txn, TD_CTR_DOC_LIVE, 1);
    td_txn_counter_add(txn, TD_CTR_DOC_TOKENS, dl);
    /* the docnos after TD_CTR_INDEXED_UPTO are what the index lacks should
     * the held postings be lost (td_index_recover) */
    *doc = d;
    return TD_DB_OK;
}

int td_index_post(td_index *self, uint32_t doc, const td_article *a, const td_terms *terms)
{
    long n = s_gather(self, a, terms);
    return n < 0 || s_post(self, doc, (uint32_t)n) != 0 ? -1 : 0;
}

td_db_rc td_index_add_terms(td_index *self, td_txn *txn, const td_article *a,
                            const td_terms *terms)
{
    uint32_t doc;
    td_db_rc rc = td_index_add_doc(self, txn, a, terms, &doc);
    if (rc != TD_DB_OK || !doc)
        return rc;
    long n = s_gather(self, a, terms);
    return n < 0 || s_post(self, doc, (uint32_t)n) != 0 ? TD_DB_ERROR : TD_DB_OK;
}

td_db_rc td_index_recover(td_index *self, td_txn *txn, td_arena *arena, size_t max_docs,
                          size_t max_bytes, size_t *n_out)
{
    *n_out = 0;
    self->upto = 0;
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
        if (d < next && ((max_docs && *n_out >= max_docs) ||
                         (max_bytes && td_index_bytes(self) >= max_bytes)))
            return TD_DB_OK;   /* upto: d, the slice's end */
    }
    self->upto = (uint32_t)next;   /* the retired versions after it need nothing */
    return TD_DB_OK;
}

bool td_index_old_layout(td_txn *txn)
{
    td_cur *cur;
    td_val k, v;
    if (td_cur_open(txn, TD_DBI_TERMS, &cur) != TD_DB_OK)
        return false;
    /* a document frequency, not a term number */
    bool old = td_cur_first(cur, &k, &v) == TD_DB_OK && v.len == 8;
    td_cur_close(&cur);
    /* or postings of docnos the articles do not have: the main
     * environment lost its last transactions (sync=nosync and a system
     * crash), and those docnos will be handed out again */
    return old || td_txn_counter(txn, TD_CTR_INDEXED_UPTO) > td_txn_counter(txn, TD_CTR_DOC_NEXT);
}

td_db_rc td_index_upgrade(td_txn *txn, bool *upgraded)
{
    *upgraded = false;
    if (!td_index_old_layout(txn))
        return TD_DB_OK;
    td_db_rc rc;
    const td_dbi dbs[] = {TD_DBI_POSTINGS, TD_DBI_POSITIONS, TD_DBI_TERMS, TD_DBI_TERMDF};
    for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++)
        if ((rc = td_txn_drop(txn, dbs[i])) != TD_DB_OK)
            return rc;
    /* the doc records stay: every docno is rebuilt from its article */
    td_txn_counter_add(txn, TD_CTR_INDEXED_UPTO,
                       -(int64_t)td_txn_counter(txn, TD_CTR_INDEXED_UPTO));
    td_txn_counter_add(txn, TD_CTR_TERM_NEXT, -(int64_t)td_txn_counter(txn, TD_CTR_TERM_NEXT));
    *upgraded = true;
    return TD_DB_OK;
}
