/* fuzz_analyze.c — libFuzzer target: arbitrary bytes as an article body (and
 * the first bytes as title, source and language) into the text analyser.
 * It must never crash, read out of bounds, or run away in time or memory;
 * the arena's byte limit bounds what one article may allocate. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "arena.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static td_analyzer *s_an;
static td_arena *s_arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_an) {
        s_an = td_analyzer_new(NULL);
        s_arena = td_arena_new(16u << 20);
        if (!s_an || !s_arena)
            abort();
    }
    td_arena_reset(s_arena);
    /* layout: flags byte, then "title\0source\0body" when the flag says so */
    uint8_t flags = size ? data[0] : 0;
    const char *p = size ? (const char *)data + 1 : "";
    size_t n = size ? size - 1 : 0;
    td_article a;
    memset(&a, 0, sizeof a);
    char *all = td_arena_strndup(s_arena, p, n);
    if (!all)
        return 0;
    char *body = all;
    if (flags & 1) {
        char *z = memchr(body, '\0', n);
        if (z) {
            a.title = body;
            n -= (size_t)(z + 1 - body);
            body = z + 1;
        }
    }
    if (flags & 2) {
        char *z = memchr(body, '\0', n);
        if (z) {
            a.source = body;
            n -= (size_t)(z + 1 - body);
            body = z + 1;
        }
    }
    a.body = body;
    a.lang = (flags & 4) ? "de" : (flags & 8) ? "en" : NULL;
    a.published_at = (flags & 16) ? TD_TIME_NONE : 1683822600000LL + (int64_t)(flags >> 5) * 86400000 * 400;
    td_error err;
    td_analyzer_run(s_an, &a, s_arena, &err);
    return 0;
}
