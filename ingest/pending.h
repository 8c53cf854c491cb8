/* pending.h — acknowledged submissions waiting for the store's commit.
 *
 * Each entry keeps the submitter's ZeroMQ envelope (routing id and, for REQ
 * clients, the empty delimiter) under a token that travels to the store and
 * back. The table is bounded: when full, new acked submissions are answered
 * `unavailable` at once instead of queueing without limit. */
#ifndef TD_PENDING_H
#define TD_PENDING_H

#include <stddef.h>
#include <stdint.h>

#define TD_ENVELOPE_MAX 4          /* frames before the payload we keep */
#define TD_ENVELOPE_FRAME 256      /* bytes per envelope frame */

typedef struct {
    size_t n;
    size_t len[TD_ENVELOPE_MAX];
    unsigned char data[TD_ENVELOPE_MAX][TD_ENVELOPE_FRAME];
} td_envelope;

typedef struct td_pending td_pending;

/* New table holding at most `capacity` entries. NULL on out of memory. */
td_pending *td_pending_new(size_t capacity);
void td_pending_destroy(td_pending **self_p);

/* Park an envelope until `deadline_ms` (monotonic); returns its token (never
 * 0), or 0 when the table is full. */
uint64_t td_pending_add(td_pending *self, const td_envelope *env, int64_t deadline_ms);

/* Take the entry of `token` out of the table into *env; -1 when unknown
 * (already timed out, or a stale ack from before a restart). */
int td_pending_take(td_pending *self, uint64_t token, td_envelope *env);

/* Take one entry whose deadline has passed; returns its token or 0. */
uint64_t td_pending_expire(td_pending *self, int64_t now_ms, td_envelope *env);

size_t td_pending_count(const td_pending *self);

#endif
