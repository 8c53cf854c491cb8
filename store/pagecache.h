/* pagecache.h — brings the pages the database file is about to grow into
 * into the page cache one page at a time, before LMDB writes them.
 *
 * Why: LMDB writes each run of consecutive dirty pages with one pwritev,
 * and on Linux 6.x ext4 keeps a file's page cache in folios as large as
 * the write that created them. Pages of a file that grows by runs of new
 * pages land in large folios; when LMDB later rewrites one 4 KiB page of
 * such a folio (copy-on-write reuses freed pages), writeback sends the
 * whole folio to the disk. Measured on this project's machine: 40x the
 * bytes rewritten for random 4 KiB rewrites of a file written in 256 KiB
 * chunks, 1x for one written in 4 KiB chunks; at 615k stored articles the
 * store's disk writes were 1,038 KiB per article for 98 KiB of write(2)
 * (docs/performance.md, "Results of stop 7"). A page that is already in
 * the cache keeps its folio, so the file is extended ahead of LMDB
 * (fallocate) and the new pages are read once with readahead(2), which
 * brings them in as single pages (pagecache.c says why that call).
 *
 * Best effort: where the file system cannot allocate ahead (no fallocate,
 * disk full) nothing is prepared and LMDB writes as it always did; its
 * own errors (ENOSPC) still reach the writer. The file may be up to the
 * margin longer than LMDB's last page, which LMDB ignores. No LMDB call
 * here: store/db.c passes the file and its size.
 *
 * The margin follows the writes: at least TD_PAGECACHE_AHEAD, and twice
 * the most the file grew between two calls (up to TD_PAGECACHE_MAX). A
 * fixed 32 MiB was outrun once the archive held a few hundred thousand
 * articles (commits grew the file by more than half of it): the pages
 * written past the prepared ones landed in large folios, and at 300k
 * stored the disk received 118 KiB per article for 65 KiB of write(2);
 * with 256 MiB, 67 for 67 (docs/performance.md, "Results of stop 9").
 *
 * The work itself (fstat, fallocate, readahead) can
 * run on a thread of its own (td_pagecache_start): done on the store's
 * writer thread, its bottleneck, it was 4.0-4.4 % of that thread's perf
 * samples during the push benchmark, while the machine's other core had
 * idle time. The caller then keeps the margin's bookkeeping and only hands
 * a due range over; one range at a time, never queued, never waited for:
 * while the thread is busy, a later call hands over what is due then. The
 * thread's result (`ready`, `error`) is taken over by the caller's next
 * call, on the caller's thread, so the caller reads both without a lock.
 * Racing LMDB is harmless: the thread only reads, fallocate mode 0
 * never changes bytes already written nor shortens the file, and a page
 * LMDB writes before the thread reaches it lands in whatever folio the
 * write makes (at worst the behaviour without this module).
 */
#ifndef TD_PAGECACHE_H
#define TD_PAGECACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define TD_PAGECACHE_AHEAD ((uint64_t)32 << 20)   /* least margin prepared past the end */
#define TD_PAGECACHE_MAX ((uint64_t)512 << 20)    /* most margin */

typedef struct {
    int fd;
    uint64_t ready;     /* bytes from 0 prepared (or already written) */
    uint64_t used;      /* `used` of the last call (0: none yet) */
    uint64_t margin;    /* bytes kept prepared past `used` */
    long page;          /* the system page size */
    int error;          /* errno of the last failed step (0: none) */
    /* the thread (td_pagecache_start); the fields below under `mu` */
    bool started;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;    /* a range handed over, or stop */
    pthread_cond_t idle;    /* the range is done */
    bool busy;              /* a range handed over, not done */
    bool done;              /* a range done, its result not taken over */
    bool stop;
    uint64_t job_from, job_to;
    int job_error;
} td_pagecache;

/* For the open data file `fd`; synchronous until td_pagecache_start. */
void td_pagecache_init(td_pagecache *self, int fd);

/* Starts the thread that does the preparation from now on. Returns 0, or
 * -1 when the thread cannot be created (calls stay synchronous). */
int td_pagecache_start(td_pagecache *self);

/* Waits for the range handed over, if any, and takes over its result.
 * No-op when the thread is not running. */
void td_pagecache_wait(td_pagecache *self);

/* Waits for the thread's current range and ends the thread (a range handed
 * over but not begun is dropped); calls are synchronous again. Safe when
 * never started and twice. Call before the file is closed. */
void td_pagecache_stop(td_pagecache *self);

/* LMDB uses the first `used` bytes of the file: make sure the next
 * margin/2 at least are prepared (when not, prepare the margin past
 * `used`), the margin first widened to twice the growth since the last
 * call. Synchronous: returns the bytes prepared by this call (0 when
 * nothing was needed or possible; td_pagecache_error says which). With the
 * thread: returns the bytes handed over to it (0 when nothing was due or
 * it is still busy); its errors show from a later call on. */
uint64_t td_pagecache_ahead(td_pagecache *self, uint64_t used);

/* errno of the last failed preparation taken over (0: the last one
 * succeeded, or none yet). Call on td_pagecache_ahead's thread. */
int td_pagecache_error(const td_pagecache *self);

#endif
