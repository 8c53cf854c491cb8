/* workers.h — the analysis worker pool of tidings-ingest.
 *
 * Analysis (~70 µs per article) is what limits one ingest thread, so the
 * main thread only moves frames: it hands each raw submission to one of N
 * worker threads over an inproc PAIR socket (zero-copy), and takes the
 * prepared store messages back. Jobs go round-robin and results are taken in
 * the order the jobs were given, so the store sees submissions in the order
 * ingest read them, exactly as with one thread (a revision pushed after the
 * original is stored after it).
 *
 * The pool is bounded in jobs and in bytes: the main thread stops reading
 * its input sockets while the pool is full, which keeps back-pressure
 * reaching the producers' high-water marks. */
#ifndef TD_INGEST_WORKERS_H
#define TD_INGEST_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "record.h"

typedef struct td_workers td_workers;

typedef enum {
    TD_JOB_FEED,        /* a frame from the PULL feed: article or reject record */
    TD_JOB_SUBMIT,      /* an acked submit: article, or an error for the submitter */
    TD_JOB_MULTIPART,   /* the first part of a multi-frame feed message: reject */
} td_job_kind;

/* The outcome of one job, in the order the jobs were given. */
typedef struct {
    td_job_kind kind;
    uint64_t token;     /* as given to td_workers_give */
    bool forward;       /* payload is a store message to send on */
    bool rejected;      /* the submission was refused (err says why) */
    td_error err;       /* set when rejected */
} td_job_result;

/* Start `n` (>= 1) worker threads in `ctx`, each with its own analyser.
 * At most `max_jobs` jobs and `max_bytes` bytes of frames are in the pool
 * at once (one job is always allowed). NULL on failure (logged). */
td_workers *td_workers_new(void *ctx, int n, size_t max_frame, const char *datadir,
                           size_t max_jobs, size_t max_bytes);

/* Stop the workers (jobs still queued are dropped; drain first with
 * td_workers_take) and join them. NULL-safe. */
void td_workers_destroy(td_workers **self_p);

/* Can the pool take another job? */
bool td_workers_can_give(const td_workers *self);

/* Jobs given and not yet taken. */
size_t td_workers_pending(const td_workers *self);

/* Give one frame to the pool; takes ownership of *frame (it is left
 * empty). Returns 0, or -1 (errno set; the frame is closed) when the inproc
 * link refused it, which only happens when the pool is stopping. */
int td_workers_give(td_workers *self, td_job_kind kind, uint64_t token, zmq_msg_t *frame);

/* The socket on which the oldest job's result will arrive (poll it for
 * ZMQ_POLLIN), or NULL when no job is in the pool. */
void *td_workers_head_socket(td_workers *self);

/* Take the oldest job's result without waiting. Returns 1 with *res set and
 * the store message in *payload (when res->forward; the caller closes it),
 * 0 when that result is not ready yet (or nothing is in the pool), -1 on a
 * socket error. */
int td_workers_take(td_workers *self, td_job_result *res, zmq_msg_t *payload);

int td_workers_count(const td_workers *self);

/* The default worker count: online CPUs, at least 1, at most 8. */
int td_workers_default(void);

#endif
