/* indexer.c — the thread that gathers postings of committed articles; see
 * indexer.h. */
#include "indexer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "index_int.h"
#include "log.h"
#include "terms.h"

#define BATCH_LIMIT ((size_t)1 << 30)   /* copies of one batch's documents */
#define MAX_ENTITIES 64                 /* as index.c indexes */

/* One document handed over: what td_index_post reads. */
typedef struct {
    uint32_t doc;
    td_article a;        /* entities and source only */
    td_terms_wire w;
} s_doc;

typedef struct s_batch {
    td_arena *arena;
    s_doc *docs;
    size_t n, cap;
    struct s_batch *next;
} s_batch;

struct td_indexer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a batch queued, or stop */
    pthread_cond_t idle;     /* the queue drained */
    s_batch *pending;        /* the writer's current attempt */
    s_batch *head, *tail;    /* committed, waiting for the thread */
    s_batch *free;
    bool busy, stop;
    td_index *gather;        /* the thread's (taken by the writer) */
    td_index *spare;         /* empty, for the next take */
    td_terms *terms;         /* the thread's */
    size_t queued_docs, queued_bytes, gathered_docs, gathered_bytes;
    uint32_t lost_from;      /* first docno not gathered (out of memory); 0: none */
};

static void s_batch_free(s_batch *b)
{
    if (!b)
        return;
    td_arena_destroy(&b->arena);
    free(b->docs);
    free(b);
}

static s_batch *s_batch_get(td_indexer *self)
{
    s_batch *b = self->free;
    if (b) {
        self->free = b->next;
        b->next = NULL;
        return b;
    }
    b = calloc(1, sizeof *b);
    if (b && !(b->arena = td_arena_new(BATCH_LIMIT))) {
        free(b);
        b = NULL;
    }
    return b;
}

static void s_batch_reset(s_batch *b)
{
    td_arena_reset(b->arena);
    b->n = 0;
    b->next = NULL;
}

static void s_lost(uint32_t doc)
{
    td_error("search index: out of memory gathering postings; articles from docno %u on "
             "are indexed at the next start",
             doc);
}

/* Gather one batch into `ix` (outside the lock); `lost` is lost_from as it
 * was when the batch was taken. Returns lost_from after the batch. */
static uint32_t s_gather(td_indexer *self, td_index *ix, const s_batch *b, uint32_t lost)
{
    for (size_t i = 0; i < b->n; i++) {
        const s_doc *d = &b->docs[i];
        if (lost && d->doc >= lost)
            continue;
        if (td_terms_load(self->terms, &d->w) == 0 && td_index_post(ix, d->doc, &d->a,
                                                                     self->terms) == 0)
            continue;
        /* the docnos from here on stay counted as unindexed (indexer.h) */
        lost = d->doc;
        s_lost(lost);
    }
    td_index_committed(ix);
    return lost;
}

static void *s_run(void *arg)
{
    td_indexer *self = arg;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->head && !self->stop)
            pthread_cond_wait(&self->work, &self->mu);
        if (self->stop)
            break;
        s_batch *b = self->head;
        self->head = b->next;
        if (!self->head)
            self->tail = NULL;
        self->busy = true;
        td_index *ix = self->gather;
        uint32_t lost = self->lost_from;
        pthread_mutex_unlock(&self->mu);
        lost = s_gather(self, ix, b, lost);
        size_t bytes = td_index_bytes(ix), held = td_index_held(ix);
        size_t qn = b->n, qb = td_arena_used(b->arena);
        s_batch_reset(b);
        pthread_mutex_lock(&self->mu);
        if (lost && (!self->lost_from || lost < self->lost_from))
            self->lost_from = lost;
        self->queued_docs -= qn;
        self->queued_bytes -= qb;
        self->gathered_docs = held;
        self->gathered_bytes = bytes;
        b->next = self->free;
        self->free = b;
        self->busy = false;
        if (!self->head)
            pthread_cond_broadcast(&self->idle);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

static void s_free_list(s_batch *b)
{
    for (s_batch *next; b; b = next) {
        next = b->next;
        s_batch_free(b);
    }
}

/* Everything but the thread (stopped, or never started). */
static void s_free(td_indexer *self)
{
    s_free_list(self->head);
    s_free_list(self->free);
    s_batch_free(self->pending);
    td_index_destroy(&self->gather);
    td_index_destroy(&self->spare);
    td_terms_destroy(&self->terms);
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->work);
    pthread_cond_destroy(&self->idle);
    free(self);
}

td_indexer *td_indexer_new(void)
{
    td_indexer *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->work, NULL);
    pthread_cond_init(&self->idle, NULL);
    self->gather = td_index_new();
    self->spare = td_index_new();
    self->terms = td_terms_new();
    self->pending = s_batch_get(self);
    if (!self->gather || !self->spare || !self->terms || !self->pending ||
        pthread_create(&self->thread, NULL, s_run, self) != 0) {
        s_free(self);
        return NULL;
    }
    return self;
}

void td_indexer_destroy(td_indexer **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_indexer *self = *self_p;
    pthread_mutex_lock(&self->mu);
    self->stop = true;
    pthread_cond_signal(&self->work);
    pthread_mutex_unlock(&self->mu);
    pthread_join(self->thread, NULL);
    s_free(self);
    *self_p = NULL;
}

void td_indexer_begin(td_indexer *self)
{
    s_batch_reset(self->pending);
}

static void *s_copy(td_arena *arena, const void *src, size_t n)
{
    if (!src || !n)
        return NULL;
    void *p = td_arena_alloc(arena, n);
    if (p)
        memcpy(p, src, n);
    return p;
}

int td_indexer_add(td_indexer *self, uint32_t doc, const td_article *a,
                   const td_terms_wire *w)
{
    s_batch *b = self->pending;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        s_doc *docs = realloc(b->docs, cap * sizeof *docs);
        if (!docs)
            return -1;
        b->docs = docs;
        b->cap = cap;
    }
    s_doc *d = &b->docs[b->n];
    memset(d, 0, sizeof *d);
    d->doc = doc;
    td_arena *ar = b->arena;
    /* the tokens only: the fingerprint is not indexed */
    d->w = (td_terms_wire){.version = w->version, .nwords = w->nwords,
                           .words_len = w->words_len, .ntitle = w->ntitle,
                           .nbody = w->nbody};
    d->w.words = s_copy(ar, w->words, w->words_len);
    d->w.stop = s_copy(ar, w->stop, w->nwords);
    d->w.title = s_copy(ar, w->title, (size_t)w->ntitle * sizeof *w->title);
    d->w.body = s_copy(ar, w->body, (size_t)w->nbody * sizeof *w->body);
    if ((w->words_len && !d->w.words) || (w->nwords && !d->w.stop) ||
        (w->ntitle && !d->w.title) || (w->nbody && !d->w.body))
        return -1;
    size_t ne = a->n_entities < MAX_ENTITIES ? a->n_entities : MAX_ENTITIES;
    if (ne) {
        td_entity *e = td_arena_alloc(ar, ne * sizeof *e);
        if (!e)
            return -1;
        for (size_t i = 0; i < ne; i++)
            if (a->entities[i].name && !(e[i].name = td_arena_strdup(ar, a->entities[i].name)))
                return -1;
        d->a.entities = e;
        d->a.n_entities = ne;
    }
    if (a->source && !(d->a.source = td_arena_strdup(ar, a->source)))
        return -1;
    b->n++;
    return 0;
}

void td_indexer_commit(td_indexer *self)
{
    s_batch *b = self->pending;
    if (!b->n)
        return;
    pthread_mutex_lock(&self->mu);
    s_batch *next = s_batch_get(self);
    if (!next) {
        /* the batch is committed: its docnos stay counted as unindexed */
        uint32_t first = b->docs[0].doc;
        if (!self->lost_from || first < self->lost_from)
            self->lost_from = first;
        pthread_mutex_unlock(&self->mu);
        s_lost(first);
        s_batch_reset(b);
        return;
    }
    self->queued_docs += b->n;
    self->queued_bytes += td_arena_used(b->arena);
    if (self->tail)
        self->tail->next = b;
    else
        self->head = b;
    self->tail = b;
    self->pending = next;
    pthread_cond_signal(&self->work);
    pthread_mutex_unlock(&self->mu);
}

size_t td_indexer_held(td_indexer *self)
{
    pthread_mutex_lock(&self->mu);
    size_t n = self->queued_docs + self->gathered_docs;
    pthread_mutex_unlock(&self->mu);
    return n;
}

size_t td_indexer_bytes(td_indexer *self)
{
    pthread_mutex_lock(&self->mu);
    size_t n = self->queued_bytes + self->gathered_bytes;
    pthread_mutex_unlock(&self->mu);
    return n;
}

td_index *td_indexer_take(td_indexer *self)
{
    pthread_mutex_lock(&self->mu);
    while (self->head || self->busy)
        pthread_cond_wait(&self->idle, &self->mu);
    td_index *ix = NULL;
    if (self->gathered_docs && self->spare) {
        ix = self->gather;
        self->gather = self->spare;
        self->spare = NULL;
        self->gathered_docs = self->gathered_bytes = 0;
        /* a flush leaves the documents not gathered counted as unindexed */
        if (self->lost_from && (!ix->upto || ix->upto >= self->lost_from))
            ix->upto = self->lost_from - 1;
    }
    pthread_mutex_unlock(&self->mu);
    return ix;
}

void td_indexer_give(td_indexer *self, td_index *ix)
{
    if (!ix)
        return;
    td_index_reset(ix);
    pthread_mutex_lock(&self->mu);
    if (self->spare)
        td_index_destroy(&ix);
    else
        self->spare = ix;
    pthread_mutex_unlock(&self->mu);
}
