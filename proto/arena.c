/* arena.c — chunked bump allocator; see arena.h. */
#include "arena.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN (16u * 1024u)
#define DEFAULT_LIMIT ((size_t)64 << 20)

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} chunk;

struct td_arena {
    chunk *head;     /* chunk being filled; older chunks follow */
    size_t limit;    /* most bytes the arena may hold */
    size_t total;    /* bytes reserved in chunks */
    size_t handed;   /* bytes handed out */
};

static chunk *s_chunk_new(size_t size)
{
    chunk *c = malloc(sizeof(chunk) + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

td_arena *td_arena_new(size_t limit)
{
    td_arena *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->limit = limit ? limit : DEFAULT_LIMIT;
    return self;
}

void td_arena_destroy(td_arena **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_arena *self = *self_p;
    for (chunk *c = self->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(self);
    *self_p = NULL;
}

/* Chunks kept across resets hold at most this much: a one-off huge batch
 * must not pin its memory for the life of the daemon. */
#define KEEP_MAX ((size_t)8 << 20)

void td_arena_reset(td_arena *self)
{
    if (!self || !self->head)
        return;
    /* Steady state must not allocate: an arena that needed several chunks
     * for one record (the analyser takes ~200 KiB per article) is given one
     * chunk of that total size, so the next record of the same shape fits
     * without a malloc. */
    size_t total = 0, n = 0;
    for (chunk *c = self->head; c; c = c->next) {
        total += c->size;
        n++;
    }
    if (n > 1 && total <= KEEP_MAX) {
        chunk *one = s_chunk_new(total);
        if (one) {
            for (chunk *c = self->head, *nx; c; c = nx) {
                nx = c->next;
                free(c);
            }
            self->head = one;
            self->total = total;
            self->handed = 0;
            return;
        }
    }
    /* keep the largest chunk that is not over KEEP_MAX (else the smallest) */
    chunk *keep = self->head;
    for (chunk *c = self->head; c; c = c->next) {
        bool better = keep->size > KEEP_MAX ? c->size < keep->size
                                            : c->size <= KEEP_MAX && c->size > keep->size;
        if (better)
            keep = c;
    }
    for (chunk *c = self->head, *nx; c; c = nx) {
        nx = c->next;
        if (c != keep)
            free(c);
    }
    keep->next = NULL;
    keep->used = 0;
    self->head = keep;
    self->total = keep->size;
    self->handed = 0;
}

void *td_arena_alloc(td_arena *self, size_t size)
{
    size_t need = (size + 15u) & ~(size_t)15u;
    if (need < size || need > self->limit - self->handed || self->handed > self->limit)
        return NULL;
    chunk *c = self->head;
    if (!c || c->size - c->used < need) {
        size_t sz = c ? c->size * 2 : CHUNK_MIN;
        if (sz < need)
            sz = need;
        if (sz > self->limit)
            sz = need > CHUNK_MIN ? need : CHUNK_MIN;
        chunk *nc = s_chunk_new(sz);
        if (!nc)
            return NULL;
        if (c && c->size - c->used >= CHUNK_MIN && need > c->size / 2) {
            /* keep filling the current chunk; put the big one behind it */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            self->head = nc;
        }
        self->total += sz;
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    self->handed += need;
    memset(p, 0, size);
    return p;
}

char *td_arena_strndup(td_arena *self, const char *s, size_t len)
{
    char *p = td_arena_alloc(self, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *td_arena_strdup(td_arena *self, const char *s)
{
    return s ? td_arena_strndup(self, s, strlen(s)) : NULL;
}

char *td_arena_printf(td_arena *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = td_arena_alloc(self, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t td_arena_used(const td_arena *self)
{
    return self->handed;
}
