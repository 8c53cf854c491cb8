/* boilerplate.h — find and remove the passages of an article that are not
 * the news: credits, "Source:" lines, promotion, share and copyright lines,
 * author bios, and lines a source repeats under many of its articles.
 *
 * The rules look at the shape of a line (credit syntax, a reader addressed as
 * "you" next to a web address, a third-person bio at the end), never at
 * particular outlets. The per-source learning keeps bounded statistics (a
 * fixed number of sources, a fixed number of line counters per source,
 * least recently used sources are forgotten), shared by all analysers of the
 * process and guarded by a mutex.
 */
#ifndef TD_BOILERPLATE_H
#define TD_BOILERPLATE_H

#include <stddef.h>

#include "arena.h"

typedef struct td_boiler td_boiler;

/* New learner (the per-source statistics); NULL when out of memory. */
td_boiler *td_boiler_new(void);
void td_boiler_destroy(td_boiler **self_p);

typedef struct {
    char *text;        /* the cleaned text, in the arena */
    size_t len;
    char **removed;    /* the removed passages, in order, in the arena */
    size_t n_removed;
} td_boiler_result;

/* Remove boilerplate from normalised `text` (normalize.h). `source` (may be
 * NULL) selects the learnt statistics, which this call also updates;
 * `learner` may be NULL (rules only). Returns 0, or -1 when the arena is
 * full. Thread-safe when the learner is shared. */
int td_boiler_strip(td_boiler *learner, td_arena *arena, const char *source,
                    const char *text, size_t len, td_boiler_result *out);

#endif
