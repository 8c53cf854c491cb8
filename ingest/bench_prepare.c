/* bench_prepare.c — cost of one ingest worker's job, without sockets.
 *
 * Runs td_prepare_article (decode, analysis, tokens, fingerprint, store
 * message pack) on the submission frames of a scripts/bench corpus file
 * (each a 4-byte little-endian length and a msgpack frame), on one thread,
 * and prints the CPU time per frame and a hash of every message produced.
 * The tidings-ingest process adds only the moves of frames between sockets
 * to this, so it is the part to run under callgrind or perf when the worker
 * thread is what costs. Not part of the test suite:
 *
 *   bench-prepare FRAMES [N [REPEAT]]     (default: all frames, once)
 *
 * Two builds that print the same digest produced the same store messages
 * (reject records are not made here: see scripts/ingest-digest).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "prepare.h"

#define MAX_FRAME ((size_t)4 << 20)

static double s_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-prepare FRAMES [N [REPEAT]]\n");
        return 2;
    }
    long want = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    long repeat = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t n = 0, cap = 1024;
    char **frame = malloc(cap * sizeof *frame);
    size_t *len = malloc(cap * sizeof *len);
    uint8_t h[4];
    while ((want <= 0 || (long)n < want) && frame && len && fread(h, 1, 4, f) == 4) {
        size_t l = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
        if (l > MAX_FRAME)
            break;
        if (n == cap) {
            cap *= 2;
            frame = realloc(frame, cap * sizeof *frame);
            len = realloc(len, cap * sizeof *len);
            if (!frame || !len)
                break;
        }
        frame[n] = malloc(l ? l : 1);
        if (!frame[n] || fread(frame[n], 1, l, f) != l)
            break;
        len[n++] = l;
    }
    fclose(f);
    if (!frame || !len) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    td_prepare *p = td_prepare_new(MAX_FRAME, NULL);
    if (!p)
        return 1;
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    size_t done = 0, failed = 0, out_bytes = 0;
    double c0 = s_cpu();
    for (long r = 0; r < repeat; r++)
        for (size_t i = 0; i < n; i++) {
            td_error err;
            memset(&err, 0, sizeof err);
            if (td_prepare_article(p, frame[i], len[i], 0, &err) < 0) {
                failed++;
                continue;
            }
            size_t ml;
            const void *m = td_prepare_message(p, &ml);
            if (r == 0) {
                uint64_t d = XXH3_64bits(m, ml);
                XXH3_64bits_update(st, &d, sizeof d);
            }
            out_bytes += ml;
            done++;
        }
    double c1 = s_cpu();
    printf("{\"frames\":%zu,\"prepared\":%zu,\"failed\":%zu,\"us_per_frame\":%.1f,"
           "\"mean_message_bytes\":%.0f,\"digest\":\"%016llx\"}\n",
           n, done, failed, done ? (c1 - c0) * 1e6 / done : 0.0,
           done ? (double)out_bytes / done : 0.0,
           (unsigned long long)XXH3_64bits_digest(st));
    XXH3_freeState(st);
    td_prepare_destroy(&p);
    for (size_t i = 0; i < n; i++)
        free(frame[i]);
    free(frame);
    free(len);
    return 0;
}
