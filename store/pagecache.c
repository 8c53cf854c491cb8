/* pagecache.c — see pagecache.h. */
#define _GNU_SOURCE
#include "pagecache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

void td_pagecache_init(td_pagecache *self, int fd)
{
    self->fd = fd;
    self->ready = 0;
    self->used = 0;
    self->margin = TD_PAGECACHE_AHEAD;
    self->page = sysconf(_SC_PAGESIZE);
    if (self->page <= 0)
        self->page = 4096;
    self->error = 0;
    self->started = self->busy = self->done = self->stop = false;
    self->job_from = self->job_to = 0;
    self->job_error = 0;
}

/* Extends the file to `to` at least and reads [from, to) into the page
 * cache. Returns 0 or the errno of the step that failed. Touches no field
 * but the one set before the thread started (fd). */
static int s_prepare(const td_pagecache *self, uint64_t from, uint64_t to)
{
    struct stat st;
    if (fstat(self->fd, &st) != 0)
        return errno;
    if ((uint64_t)st.st_size < to) {
        /* allocated blocks, not a sparse tail: reading it costs no I/O
         * and LMDB's later writes cannot fail for want of space there.
         * LMDB may be writing past st_size meanwhile: mode 0 allocates
         * only what has no blocks yet, never changes bytes already
         * written and never shortens the file */
        if (fallocate(self->fd, 0, st.st_size, (off_t)(to - (uint64_t)st.st_size)) != 0)
            return errno;
    }
    /* readahead(2) forces the range in page by page (the kernel's forced
     * read-ahead allocates folios of the mapping's least order, one page
     * for ext4), unlike the adaptive read-ahead of read() or a fault, and
     * copies nothing to this process. It replaced faulting the range in
     * through a read-only mapping advised MADV_RANDOM: on this project's
     * machine (Linux 6.18, ext4) 1.1 us per page against 3.5, no mapping
     * to tear down (munmap interrupts the other threads' CPUs to flush
     * their TLBs), and random 4 KiB rewrites of pages cached either way
     * sent 4 KiB per page to the disk (256 KiB-written pages: 231 KiB).
     * The kernel caps one call at its read-ahead limit, so the range goes
     * in steps no larger than the smallest usual limit. A page LMDB
     * pwrite()s before or while this runs is simply found in the cache.
     * It is best effort: under memory pressure the kernel stops early
     * rather than reclaim, and a page left out costs only speed (LMDB's
     * write caches it, in a larger folio). */
    const uint64_t step = (uint64_t)128 << 10;
    for (uint64_t off = from; off < to; off += step) {
        uint64_t n = to - off < step ? to - off : step;
        if (readahead(self->fd, (off64_t)off, (size_t)n) != 0)
            return errno;
    }
    return 0;
}

/* The bookkeeping for `used`; sets [*from, *to) to the range due (empty
 * when none). */
static void s_due(td_pagecache *self, uint64_t used, uint64_t *from, uint64_t *to)
{
    uint64_t pg = (uint64_t)self->page;
    *from = *to = 0;
    if (self->ready < used)
        self->ready = (used + pg - 1) / pg * pg;   /* what exists keeps its folios */
    if (self->ready >= used + self->margin / 2)
        return;
    *from = self->ready;
    *to = (used + self->margin + pg - 1) / pg * pg;
}

/* Takes over the result of the range the thread finished, if any; `mu`
 * held (or the thread joined). */
static void s_collect(td_pagecache *self)
{
    if (!self->done)
        return;
    self->done = false;
    self->error = self->job_error;
    if (!self->job_error)
        self->ready = self->job_to;
}

static void *s_run(void *arg)
{
    td_pagecache *self = arg;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->busy && !self->stop)
            pthread_cond_wait(&self->work, &self->mu);
        if (self->stop)
            break;
        uint64_t from = self->job_from, to = self->job_to;
        pthread_mutex_unlock(&self->mu);
        int err = s_prepare(self, from, to);
        pthread_mutex_lock(&self->mu);
        self->job_error = err;
        self->busy = false;
        self->done = true;
        pthread_cond_broadcast(&self->idle);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

int td_pagecache_start(td_pagecache *self)
{
    if (self->started)
        return 0;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->work, NULL);
    pthread_cond_init(&self->idle, NULL);
    self->busy = self->done = self->stop = false;
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        pthread_mutex_destroy(&self->mu);
        pthread_cond_destroy(&self->work);
        pthread_cond_destroy(&self->idle);
        return -1;
    }
    self->started = true;
    return 0;
}

void td_pagecache_wait(td_pagecache *self)
{
    if (!self->started)
        return;
    pthread_mutex_lock(&self->mu);
    while (self->busy)
        pthread_cond_wait(&self->idle, &self->mu);
    s_collect(self);
    pthread_mutex_unlock(&self->mu);
}

void td_pagecache_stop(td_pagecache *self)
{
    if (!self->started)
        return;
    pthread_mutex_lock(&self->mu);
    self->stop = true;
    pthread_cond_signal(&self->work);
    pthread_mutex_unlock(&self->mu);
    pthread_join(self->thread, NULL);
    s_collect(self);
    self->busy = false;   /* a range not begun is dropped */
    self->started = false;
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->work);
    pthread_cond_destroy(&self->idle);
}

uint64_t td_pagecache_ahead(td_pagecache *self, uint64_t used)
{
    if (self->fd < 0)
        return 0;
    if (self->used && used > self->used) {
        /* the next writes may grow the file as much again */
        uint64_t want = 2 * (used - self->used);
        if (want > self->margin)
            self->margin = want < TD_PAGECACHE_MAX ? want : TD_PAGECACHE_MAX;
    }
    self->used = used;
    uint64_t from, to;
    if (!self->started) {
        s_due(self, used, &from, &to);
        if (from >= to)
            return 0;
        self->error = s_prepare(self, from, to);
        if (self->error)
            return 0;
        self->ready = to;
        return to - from;
    }
    uint64_t n = 0;
    pthread_mutex_lock(&self->mu);
    s_collect(self);
    if (!self->busy) {   /* busy: the next call hands over what is due */
        s_due(self, used, &from, &to);
        if (from < to) {
            self->job_from = from;
            self->job_to = to;
            self->busy = true;
            pthread_cond_signal(&self->work);
            n = to - from;
        }
    }
    pthread_mutex_unlock(&self->mu);
    return n;
}

int td_pagecache_error(const td_pagecache *self)
{
    return self->error;
}
