/* arena.h — bump allocator that owns every string and array of one record.
 *
 * Records decoded from the wire or from LMDB live in one arena: freeing the
 * arena frees the record, so decoders never leak on their error paths. The
 * arena has a byte limit; an allocation beyond it fails (returns NULL) instead
 * of letting a hostile frame grow memory without bound.
 */
#ifndef TD_ARENA_H
#define TD_ARENA_H

#include <stddef.h>

typedef struct td_arena td_arena;

/* New arena that refuses to hold more than `limit` bytes (0 = 64 MiB).
 * Returns NULL when out of memory. */
td_arena *td_arena_new(size_t limit);

/* Free every allocation and the arena; sets *self_p to NULL; NULL-safe. */
void td_arena_destroy(td_arena **self_p);

/* Forget every allocation; keeps one chunk as big as what was used (up to
 * 8 MiB) so that records of the same shape reuse it without malloc. */
void td_arena_reset(td_arena *self);

/* Allocate `size` bytes aligned to 16, zeroed. NULL when over the limit. */
void *td_arena_alloc(td_arena *self, size_t size);

/* Copy `len` bytes and append a NUL. NULL when over the limit. */
char *td_arena_strndup(td_arena *self, const char *s, size_t len);

/* Copy a NUL-terminated string (NULL in, NULL out). */
char *td_arena_strdup(td_arena *self, const char *s);

/* printf into the arena. */
char *td_arena_printf(td_arena *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Bytes handed out so far. */
size_t td_arena_used(const td_arena *self);

#endif
