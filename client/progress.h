/* progress.h — a one-line progress bar on stderr: count, rate and ETA. */
#ifndef TD_PROGRESS_H
#define TD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct td_progress td_progress;

/* New bar for `total` items (0: unknown, then no bar and no ETA) labelled
 * `what` ("articles"); it draws only when `enabled` (e.g. stderr is a
 * terminal). NULL when out of memory. */
td_progress *td_progress_new(uint64_t total, const char *what, bool enabled);

/* Report `done` items so far; redraws at most ten times a second. */
void td_progress_update(td_progress *self, uint64_t done);

/* Items per second since the start. */
double td_progress_rate(const td_progress *self, uint64_t done);

/* Seconds since the start. */
double td_progress_elapsed(const td_progress *self);

/* Clear the line (when drawn) and free; sets *self_p to NULL; NULL-safe. */
void td_progress_destroy(td_progress **self_p);

#endif
