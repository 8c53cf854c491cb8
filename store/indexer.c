/* indexer.c — the thread that gathers and writes the postings of committed
 * articles; see indexer.h. */
#include "indexer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "daemon.h"
#include "index_int.h"
#include "log.h"
#include "terms.h"

#define BATCH_LIMIT ((size_t)1 << 30)   /* copies of one batch's documents */
#define MAX_ENTITIES 64                 /* as index.c indexes */
#define RETRY_MS 1000                   /* after a failed flush */
/* The thread's nice steps below the writer's. On two cores the store's
 * writer thread is the serial stage of the whole pipeline, and while the
 * ingest's workers and this thread ran beside it at the same priority it
 * got ~77 % of a core. This thread's work waits without loss (its backlog
 * is bounded: the writer writes it itself past twice --index-hold-bytes),
 * so it yields. 60k-article push runs, 4 each, alternating: 3,376/s on
 * average (3,239-3,491) at equal priority, 3,537/s (3,307-3,908) with
 * this thread at nice 10. */
#define NICE 10

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
    uint64_t seq;            /* its commit's number */
    struct s_batch *next;
} s_batch;

struct td_indexer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a batch queued, a sync asked for, or stop */
    pthread_cond_t done;     /* a flush ended, or nothing was left to flush */
    td_db *db;
    s_batch *pending;        /* the writer's current attempt */
    s_batch *head, *tail;    /* committed, waiting for the thread */
    s_batch *free;
    bool stop;
    td_index *gather;        /* the thread's: postings gathered, not written */
    td_terms *terms;         /* the thread's */
    size_t queued_docs, queued_bytes, gathered_docs, gathered_bytes;
    uint32_t lost_from;      /* first docno not gathered (out of memory); 0: none */
    /* commits, numbered: handed over, gathered, written, and the one a
     * td_indexer_sync waits for */
    uint64_t committed, gathered, flushed, want;
    uint64_t fails;          /* flushes that failed */
    td_db_rc fail_rc;        /* ... the last one's error */
    int64_t held_since, retry_at;   /* mono ms */
    size_t hold_docs, hold_bytes;
    int64_t hold_ms;
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

/* Is the flush of the gathered postings due (under the lock)? They are
 * held across commits while the writer is behind: a term's postings then
 * cost one block rewrite per flush, not one per batch (writer.h). A sync
 * has them written once all it waits for is gathered. */
static bool s_due(const td_indexer *self, int64_t now)
{
    if (!self->gathered_docs)
        return false;
    bool held = !self->hold_docs || self->gathered_docs >= self->hold_docs ||
                self->gathered_bytes >= self->hold_bytes ||
                now - self->held_since >= self->hold_ms;
    if (self->want > self->flushed)
        return self->gathered >= self->want || held;   /* not waiting for a retry */
    return now >= self->retry_at && held;
}

/* Write what is gathered (the lock is released meanwhile). What a failed
 * flush leaves stays gathered: the next flush writes it first. */
static void s_flush(td_indexer *self, int64_t now)
{
    uint64_t seq = self->gathered;
    td_index *ix = self->gather;
    /* a flush leaves the documents not gathered counted as unindexed */
    if (self->lost_from && (!ix->upto || ix->upto >= self->lost_from))
        ix->upto = self->lost_from - 1;
    size_t docs = self->gathered_docs;
    bool asked = self->want > self->flushed;
    pthread_mutex_unlock(&self->mu);
    int64_t t0 = td_mono_us();
    td_db_rc rc = td_index_flush_db(ix, self->db);
    td_debug("search index: postings of %zu article(s) written in %lld us%s", docs,
             (long long)(td_mono_us() - t0), asked ? " (asked for)" : "");
    size_t bytes = td_index_bytes(ix);
    if (rc != TD_DB_OK)
        td_warn("search index: postings of %zu article(s) not written yet (%s); they stay "
                "held and are written by the next flush",
                td_index_held(ix), td_db_strerror(rc));
    pthread_mutex_lock(&self->mu);
    if (rc == TD_DB_OK) {
        self->flushed = seq;
        self->gathered_docs = 0;
        self->retry_at = 0;
    } else {
        self->fails++;
        self->fail_rc = rc;
        self->retry_at = now + RETRY_MS;
    }
    self->gathered_bytes = bytes;
    pthread_cond_broadcast(&self->done);
}

static void s_wait(td_indexer *self, int64_t now)
{
    if (!self->gathered_docs) {
        pthread_cond_wait(&self->work, &self->mu);
        return;
    }
    int64_t until = self->held_since + self->hold_ms;
    if (self->retry_at > until)
        until = self->retry_at;
    int64_t ms = until > now ? until - now : 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&self->work, &self->mu, &ts);
}

/* Gather one queued batch (the lock is released meanwhile). */
static void s_take_batch(td_indexer *self, int64_t now)
{
    s_batch *b = self->head;
    self->head = b->next;
    if (!self->head)
        self->tail = NULL;
    td_index *ix = self->gather;
    uint32_t lost = self->lost_from;
    pthread_mutex_unlock(&self->mu);
    td_index_begin(ix);   /* drops the order of a flush cut short */
    lost = s_gather(self, ix, b, lost);
    size_t bytes = td_index_bytes(ix), held = td_index_held(ix);
    size_t qn = b->n, qb = td_arena_used(b->arena);
    uint64_t seq = b->seq;
    s_batch_reset(b);
    pthread_mutex_lock(&self->mu);
    if (lost && (!self->lost_from || lost < self->lost_from))
        self->lost_from = lost;
    self->queued_docs -= qn;
    self->queued_bytes -= qb;
    if (!self->gathered_docs && held)
        self->held_since = now;
    self->gathered_docs = held;
    self->gathered_bytes = bytes;
    self->gathered = seq;
    b->next = self->free;
    self->free = b;
}

static void *s_run(void *arg)
{
    td_indexer *self = arg;
    if (td_thread_nice(NICE) != 0)
        td_warn("search index: cannot lower the indexer thread's priority: %s",
                strerror(errno));
    pthread_mutex_lock(&self->mu);
    while (!self->stop) {
        int64_t now = td_mono_ms();
        if (s_due(self, now)) {
            s_flush(self, now);
        } else if (self->head) {
            s_take_batch(self, now);
        } else {
            if (!self->gathered_docs && self->flushed < self->gathered) {
                self->flushed = self->gathered;   /* nothing to write */
                pthread_cond_broadcast(&self->done);
            }
            s_wait(self, now);
        }
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
    td_terms_destroy(&self->terms);
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->work);
    pthread_cond_destroy(&self->done);
    free(self);
}

td_indexer *td_indexer_new(td_db *db)
{
    td_indexer *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->work, NULL);
    pthread_cond_init(&self->done, NULL);
    self->db = db;
    self->hold_bytes = TD_INDEXER_HOLD_BYTES;
    self->gather = td_index_new();
    self->terms = td_terms_new();
    self->pending = s_batch_get(self);
    if (!self->gather || !self->terms || !self->pending ||
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
    b->seq = ++self->committed;
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

void td_indexer_hold(td_indexer *self, size_t docs, int64_t ms, size_t bytes)
{
    pthread_mutex_lock(&self->mu);
    self->hold_docs = docs;
    self->hold_ms = ms;
    self->hold_bytes = bytes ? bytes : TD_INDEXER_HOLD_BYTES;
    pthread_cond_signal(&self->work);
    pthread_mutex_unlock(&self->mu);
}

td_db_rc td_indexer_sync(td_indexer *self)
{
    pthread_mutex_lock(&self->mu);
    uint64_t target = self->committed, fails = self->fails;
    if (self->want < target)
        self->want = target;
    pthread_cond_signal(&self->work);
    while (self->flushed < target && self->fails == fails)
        pthread_cond_wait(&self->done, &self->mu);
    td_db_rc rc = self->flushed >= target ? TD_DB_OK : self->fail_rc;
    pthread_mutex_unlock(&self->mu);
    return rc;
}
