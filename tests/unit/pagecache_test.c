/* pagecache_test.c — store/pagecache.c: the file is extended ahead of what
 * LMDB uses, the new pages are in the page cache and read as zeros, what
 * was written before is left alone, nothing is redone while enough is
 * prepared (readahead is best effort: see s_assert_prepared), and a file
 * that cannot be extended is reported, not damaged;
 * the same with the preparation on its own thread (td_pagecache_start). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pagecache.h"

#define USED ((uint64_t)1 << 20)

static uint64_t s_size(int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    return (uint64_t)st.st_size;
}

/* Pages of [from, to) in the page cache. */
static size_t s_resident(int fd, uint64_t from, uint64_t to)
{
    long pg = sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, to - from, PROT_READ, MAP_SHARED, fd, (off_t)from);
    assert_true(m != MAP_FAILED);
    size_t n = (to - from) / (uint64_t)pg, in = 0;
    unsigned char *vec = malloc(n);
    assert_non_null(vec);
    assert_int_equal(mincore(m, to - from, vec), 0);
    for (size_t i = 0; i < n; i++)
        in += vec[i] & 1;
    free(vec);
    munmap(m, to - from);
    return in;
}

/* The pages of [from, to) are in the cache: all but at most 1 in 64.
 * readahead(2) is best effort: the kernel's read-ahead allocations give
 * up instead of reclaiming memory, and a clean page may be reclaimed at
 * any time, so a busy machine (the suite runs two tests at once) can
 * leave a few out. A page left out costs only speed: LMDB's write caches
 * it. */
static void s_assert_prepared(int fd, uint64_t from, uint64_t to)
{
    size_t pages = (to - from) / (uint64_t)sysconf(_SC_PAGESIZE);
    size_t in = s_resident(fd, from, to);
    if (in < pages)
        print_message("%zu of %zu pages resident\n", in, pages);
    assert_true(in <= pages && in >= pages - pages / 64);
}

/* After the first preparation of a file holding `data` (USED bytes): the
 * file reaches the margin past it, those pages are in the cache, what was
 * there is untouched and the new pages are zeros. */
static void s_check_first(int fd, const unsigned char *data)
{
    assert_true(s_size(fd) >= USED + TD_PAGECACHE_AHEAD);
    s_assert_prepared(fd, USED, USED + TD_PAGECACHE_AHEAD);
    static unsigned char back[USED];
    assert_int_equal(pread(fd, back, sizeof back, 0), (ssize_t)sizeof back);
    assert_memory_equal(back, data, sizeof back);
    assert_int_equal(pread(fd, back, sizeof back, USED), (ssize_t)sizeof back);
    for (size_t i = 0; i < sizeof back; i++)
        assert_int_equal(back[i], 0);
}

/* A temporary file at `path` (a mkstemp template) holding `data`, USED
 * bytes of `fill`; its descriptor. */
static int s_file(char *path, unsigned char *data, int fill)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    memset(data, fill, USED);
    assert_int_equal(pwrite(fd, data, USED, 0), (ssize_t)USED);
    return fd;
}

static void test_ahead(void **state)
{
    (void)state;
    char path[] = "/tmp/td-pagecache-XXXXXX";
    static unsigned char data[USED];
    int fd = s_file(path, data, 0xab);

    td_pagecache pc;
    td_pagecache_init(&pc, fd);
    uint64_t got = td_pagecache_ahead(&pc, USED);
    if (!got && pc.error == EOPNOTSUPP) {
        close(fd);
        unlink(path);
        skip();   /* a file system without fallocate: nothing is prepared */
    }
    assert_int_equal(pc.error, 0);
    assert_true(got >= TD_PAGECACHE_AHEAD);
    s_check_first(fd, data);

    /* enough prepared: nothing to do; past half of it: more */
    assert_int_equal(td_pagecache_ahead(&pc, USED + 4096), 0);
    uint64_t used = USED + TD_PAGECACHE_AHEAD / 2 + 4096;
    assert_true(td_pagecache_ahead(&pc, used) > 0);
    assert_true(s_size(fd) >= used + TD_PAGECACHE_AHEAD);

    /* a jump past half the margin (an index flush's transaction) widens
     * it to twice the jump: the next one as large lands on prepared pages */
    uint64_t jump = TD_PAGECACHE_AHEAD * 3 / 2;
    used += jump;
    assert_true(td_pagecache_ahead(&pc, used) > 0);
    assert_int_equal(pc.margin, 2 * jump);
    assert_true(s_size(fd) >= used + 2 * jump);
    s_assert_prepared(fd, used, used + 2 * jump);
    assert_int_equal(td_pagecache_ahead(&pc, used + jump / 2), 0);   /* still enough */
    close(fd);

    /* a file opened read-only cannot be extended: an error, no change */
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint64_t before = s_size(fd);
    td_pagecache_init(&pc, fd);
    assert_int_equal(td_pagecache_ahead(&pc, before + 4096), 0);
    assert_int_not_equal(pc.error, 0);
    assert_int_equal(s_size(fd), before);
    close(fd);
    unlink(path);

    td_pagecache_init(&pc, -1);
    assert_int_equal(td_pagecache_ahead(&pc, USED), 0);
}

static void test_thread(void **state)
{
    (void)state;
    char path[] = "/tmp/td-pagecache-XXXXXX";
    static unsigned char data[USED];
    int fd = s_file(path, data, 0xcd);

    td_pagecache pc;
    td_pagecache_init(&pc, fd);
    td_pagecache_stop(&pc);   /* never started: nothing to stop */
    assert_int_equal(td_pagecache_start(&pc), 0);
    assert_int_equal(td_pagecache_start(&pc), 0);   /* already running */
    /* handed over, not waited for: the thread's result shows after wait */
    uint64_t got = td_pagecache_ahead(&pc, USED);
    assert_true(got >= TD_PAGECACHE_AHEAD);
    td_pagecache_wait(&pc);
    if (td_pagecache_error(&pc) == EOPNOTSUPP) {
        td_pagecache_stop(&pc);
        close(fd);
        unlink(path);
        skip();   /* a file system without fallocate: nothing is prepared */
    }
    assert_int_equal(td_pagecache_error(&pc), 0);
    s_check_first(fd, data);

    /* enough prepared: nothing handed over; past half of it: more */
    assert_int_equal(td_pagecache_ahead(&pc, USED + 4096), 0);
    uint64_t used = USED + TD_PAGECACHE_AHEAD / 2 + 4096;
    assert_true(td_pagecache_ahead(&pc, used) > 0);
    td_pagecache_wait(&pc);
    assert_int_equal(td_pagecache_error(&pc), 0);
    assert_true(s_size(fd) >= used + TD_PAGECACHE_AHEAD);
    s_assert_prepared(fd, used, used + TD_PAGECACHE_AHEAD);
    assert_int_equal(td_pagecache_ahead(&pc, used + 4096), 0);

    /* stopped (twice): calls are synchronous again, nothing to wait for */
    td_pagecache_stop(&pc);
    td_pagecache_stop(&pc);
    used += TD_PAGECACHE_AHEAD;
    assert_true(td_pagecache_ahead(&pc, used) > 0);
    assert_true(s_size(fd) >= used + TD_PAGECACHE_AHEAD);
    s_assert_prepared(fd, used, used + TD_PAGECACHE_AHEAD);
    close(fd);

    /* the thread's error reaches the caller; the file is left alone */
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint64_t before = s_size(fd);
    td_pagecache_init(&pc, fd);
    assert_int_equal(td_pagecache_start(&pc), 0);
    assert_true(td_pagecache_ahead(&pc, before + 4096) > 0);
    td_pagecache_wait(&pc);
    assert_int_not_equal(td_pagecache_error(&pc), 0);
    assert_int_equal(s_size(fd), before);
    /* a failed range is handed over again, not taken as prepared */
    assert_true(td_pagecache_ahead(&pc, before + 4096) > 0);
    td_pagecache_stop(&pc);
    assert_int_equal(s_size(fd), before);
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ahead),
        cmocka_unit_test(test_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
