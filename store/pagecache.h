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
 * (fallocate) and the new pages are read once through a mapping advised
 * MADV_RANDOM, which faults them in as single pages.
 *
 * Best effort: where the file system cannot allocate ahead (no fallocate,
 * disk full) nothing is prepared and LMDB writes as it always did; its
 * own errors (ENOSPC) still reach the writer. The file may be up to
 * TD_PAGECACHE_AHEAD bytes longer than LMDB's last page, which LMDB
 * ignores. No LMDB call here: store/db.c passes the file and its size.
 */
#ifndef TD_PAGECACHE_H
#define TD_PAGECACHE_H

#include <stdint.h>

#define TD_PAGECACHE_AHEAD ((uint64_t)32 << 20)   /* bytes prepared past the end */

typedef struct {
    int fd;
    uint64_t ready;     /* bytes from 0 prepared (or already written) */
    long page;          /* the system page size */
    int error;          /* errno of the last failed step (0: none) */
} td_pagecache;

/* For the open data file `fd`. */
void td_pagecache_init(td_pagecache *self, int fd);

/* LMDB uses the first `used` bytes of the file: make sure the next
 * TD_PAGECACHE_AHEAD/2 at least are prepared (when not, prepare
 * TD_PAGECACHE_AHEAD past `used`). Returns the bytes prepared by this
 * call (0 when nothing was needed or possible; self->error says which). */
uint64_t td_pagecache_ahead(td_pagecache *self, uint64_t used);

#endif
