/* pagecache.c — see pagecache.h. */
#define _GNU_SOURCE
#include "pagecache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
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
}

uint64_t td_pagecache_ahead(td_pagecache *self, uint64_t used)
{
    if (self->fd < 0)
        return 0;
    uint64_t pg = (uint64_t)self->page;
    if (self->used && used > self->used) {
        /* the next writes may grow the file as much again */
        uint64_t want = 2 * (used - self->used);
        if (want > self->margin)
            self->margin = want < TD_PAGECACHE_MAX ? want : TD_PAGECACHE_MAX;
    }
    self->used = used;
    if (self->ready < used)
        self->ready = (used + pg - 1) / pg * pg;   /* what exists keeps its folios */
    if (self->ready >= used + self->margin / 2)
        return 0;
    uint64_t from = self->ready, to = (used + self->margin + pg - 1) / pg * pg;
    struct stat st;
    if (fstat(self->fd, &st) != 0) {
        self->error = errno;
        return 0;
    }
    if ((uint64_t)st.st_size < to) {
        /* allocated blocks, not a sparse tail: reading it costs no I/O
         * and LMDB's later writes cannot fail for want of space there */
        int rc = fallocate(self->fd, 0, st.st_size, (off_t)(to - (uint64_t)st.st_size));
        if (rc != 0) {
            self->error = errno;
            return 0;
        }
    }
    void *m = mmap(NULL, to - from, PROT_READ, MAP_SHARED, self->fd, (off_t)from);
    if (m == MAP_FAILED) {
        self->error = errno;
        return 0;
    }
    /* MADV_RANDOM: each fault reads its own page, no read-ahead window,
     * so each page enters the cache as a folio of its own */
    (void)madvise(m, to - from, MADV_RANDOM);
    const volatile unsigned char *p = m;
    for (uint64_t off = 0; off < to - from; off += pg)
        (void)p[off];
    munmap(m, to - from);
    self->ready = to;
    self->error = 0;
    return to - from;
}
