/* workers.c — see workers.h.
 *
 * Each worker thread owns one td_prepare (analyser, arena, pack buffer) and
 * one end of an inproc PAIR; the main thread holds the other end. A job is
 * two frames, a small header and the submission itself (moved, not copied:
 * inproc passes the message); a result is a header and the packed store
 * message. The main thread remembers each job's kind and token in a ring,
 * in the order given, and reads results only from the worker that holds the
 * oldest job — which is what keeps the output in input order.
 *
 * A busy worker returns its results in small batches (HOLD_MAX results or
 * HOLD_MS, whichever comes first; at once when no job is waiting). One
 * result at a time woke the main thread for each, and the main thread's
 * send on the store link woke ZeroMQ's I/O thread for each: two thread
 * wake-ups per article, ~60 µs of CPU per article (a third of ingest's).
 * Batched, both wake once per batch; an idle pool adds no latency. */
#define _GNU_SOURCE
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "prepare.h"

#define MAX_WORKERS 64
#define HOLD_MAX 16     /* results a busy worker keeps before returning them */
#define HOLD_MS 2       /* and for how long at most */

typedef struct {
    uint32_t kind;
    uint32_t stop;
    uint64_t token;
} s_job_hdr;

typedef struct {
    uint32_t forward;
    uint32_t rejected;
    td_error err;
} s_done_hdr;

typedef struct {
    td_job_kind kind;
    uint64_t token;
    size_t bytes;
} s_job;

/* A finished job not yet returned: its header and store message. */
typedef struct {
    s_done_hdr d;
    zmq_msg_t msg;      /* empty unless d.forward */
} s_held;

typedef struct {
    pthread_t thread;
    bool started;
    bool detached;        /* could not be stopped: its socket is left alone */
    void *main_sock;      /* used by the main thread only */
    void *sock;           /* used by the worker thread only */
    td_prepare *prep;
    s_held held[HOLD_MAX];  /* worker thread only */
    int n_held;
    int64_t held_since;     /* td_mono_ms of the oldest held result */
} s_worker;

struct td_workers {
    s_worker *w;
    int n;
    s_job *ring;          /* jobs in the order given */
    size_t cap, head, count;
    uint64_t given;       /* jobs given so far: the next one goes to given % n */
    uint64_t taken;
    size_t bytes, max_bytes;
};

int td_workers_default(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > 8 ? 8 : (int)n;
}

static int s_recv(void *sock, zmq_msg_t *msg)
{
    int rc;
    do
        rc = zmq_msg_recv(msg, sock, 0);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -1 : 0;
}

static int s_sendv(void *sock, const void *hdr, size_t hlen, const void *data, size_t len)
{
    const void *d[2] = {hdr, data ? data : ""};
    size_t l[2] = {hlen, data ? len : 0};
    return td_sock_sendv(sock, d, l, 2, 0);
}

/* Return the held results, oldest first. */
static void s_flush(s_worker *w)
{
    for (int i = 0; i < w->n_held; i++) {
        s_held *h = &w->held[i];
        int rc;
        do
            rc = zmq_send(w->sock, &h->d, sizeof h->d, ZMQ_SNDMORE);
        while (rc < 0 && errno == EINTR);
        if (rc >= 0) {
            do
                rc = zmq_msg_send(&h->msg, w->sock, 0);
            while (rc < 0 && errno == EINTR);
        }
        if (rc < 0)
            td_warn("analysis worker: cannot return a result: %s", zmq_strerror(errno));
        zmq_msg_close(&h->msg);
    }
    w->n_held = 0;
}

/* One job: analyse (or pack the reject of) the frame; the result is held
 * (see the top of this file). */
static void s_work(s_worker *w, const s_job_hdr *h, zmq_msg_t *frame)
{
    s_held *out = &w->held[w->n_held];
    s_done_hdr *d = &out->d;
    memset(d, 0, sizeof *d);
    const void *data = zmq_msg_data(frame);
    size_t len = zmq_msg_size(frame);
    int rc;
    if (h->kind == TD_JOB_MULTIPART) {
        d->rejected = 1;
        d->err.code = TD_E_BAD_REQUEST;
        snprintf(d->err.message, sizeof d->err.message, "a submission is one frame");
        rc = -1;
    } else {
        rc = td_prepare_article(w->prep, data, len, h->token, &d->err);
        if (rc < 0)
            d->rejected = 1;
    }
    if (rc == 0)
        d->forward = 1;
    else if (h->kind != TD_JOB_SUBMIT)   /* feed: the refusal becomes a reject record */
        d->forward = td_prepare_reject(w->prep, data, len, &d->err) == 0;
    size_t mlen = 0;
    const void *msg = d->forward ? td_prepare_message(w->prep, &mlen) : NULL;
    if (zmq_msg_init_size(&out->msg, msg ? mlen : 0) != 0) {
        /* no memory for the copy: say so rather than send half a result */
        zmq_msg_init(&out->msg);
        d->forward = 0;
        if (h->kind == TD_JOB_SUBMIT && !d->rejected) {
            d->rejected = 1;
            d->err.code = TD_E_INTERNAL;
            snprintf(d->err.message, sizeof d->err.message, "out of memory");
        }
    } else if (msg && mlen) {
        memcpy(zmq_msg_data(&out->msg), msg, mlen);
    }
    if (w->n_held++ == 0)
        w->held_since = td_mono_ms();
    if (w->n_held == HOLD_MAX || td_mono_ms() - w->held_since >= HOLD_MS)
        s_flush(w);
}

static void *s_worker_main(void *arg)
{
    s_worker *w = arg;
    zmq_msg_t hdr, frame;
    zmq_msg_init(&hdr);
    zmq_msg_init(&frame);
    for (;;) {
        /* with results held, look for the next job without waiting: none
         * there means the pool is idle, and they go back now */
        int rc;
        do
            rc = zmq_msg_recv(&hdr, w->sock, w->n_held ? ZMQ_DONTWAIT : 0);
        while (rc < 0 && errno == EINTR);
        if (rc < 0 && errno == EAGAIN && w->n_held) {
            s_flush(w);
            continue;
        }
        if (rc < 0)
            break;
        s_job_hdr h = {.stop = 1};
        if (zmq_msg_size(&hdr) == sizeof h)
            memcpy(&h, zmq_msg_data(&hdr), sizeof h);
        bool have_frame = zmq_msg_more(&hdr) && s_recv(w->sock, &frame) == 0;
        if (h.stop || !have_frame)
            break;
        s_work(w, &h, &frame);
    }
    s_flush(w);
    zmq_msg_close(&hdr);
    zmq_msg_close(&frame);
    return NULL;
}

static void *s_pair(void *ctx, int hwm)
{
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    if (!s)
        return NULL;
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    return s;
}

td_workers *td_workers_new(void *ctx, int n, size_t max_frame, const char *datadir,
                           size_t max_jobs, size_t max_bytes)
{
    if (n < 1)
        n = 1;
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    if (max_jobs < 1)
        max_jobs = 1;
    td_workers *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->n = n;
    self->cap = max_jobs;
    self->max_bytes = max_bytes;
    self->w = calloc((size_t)n, sizeof *self->w);
    self->ring = calloc(max_jobs, sizeof *self->ring);
    if (!self->w || !self->ring) {
        td_error("out of memory starting the analysis workers");
        td_workers_destroy(&self);
        return NULL;
    }
    /* The pool's own count (cap jobs, max_bytes) is the bound. The pipes get
     * no high-water mark of their own: a pipe's writer learns of reads only
     * every "low-water mark" messages, so a finite HWM can refuse a send
     * (EAGAIN) well below it, and a refused feed frame would be lost. */
    int hwm = 0;
    for (int i = 0; i < n; i++) {
        s_worker *w = &self->w[i];
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://td-ingest-worker-%p-%d", (void *)self, i);
        w->main_sock = s_pair(ctx, hwm);
        w->sock = s_pair(ctx, hwm);
        w->prep = td_prepare_new(max_frame, datadir);
        if (!w->main_sock || !w->sock || !w->prep || zmq_bind(w->main_sock, ep) != 0 ||
            zmq_connect(w->sock, ep) != 0) {
            td_error("cannot set up analysis worker %d: %s", i, zmq_strerror(errno));
            td_workers_destroy(&self);
            return NULL;
        }
    }
    /* signals go to the main thread's poll loop, never to a worker */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < n; i++) {
        s_worker *w = &self->w[i];
        int rc = pthread_create(&w->thread, NULL, s_worker_main, w);
        if (rc != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            td_error("cannot start analysis worker %d: %s", i, strerror(rc));
            td_workers_destroy(&self);
            return NULL;
        }
        w->started = true;
        char name[16];   /* Linux keeps 15 bytes of a thread's name */
        snprintf(name, sizeof name, "td-analyze-%d", i % MAX_WORKERS);
        pthread_setname_np(w->thread, name);   /* shows in top -H and perf */
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return self;
}

void td_workers_destroy(td_workers **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_workers *self = *self_p;
    for (int i = 0; self->w && i < self->n; i++) {
        s_worker *w = &self->w[i];
        if (w->started) {
            /* the pipes hold every job given, so this never waits for room */
            s_job_hdr h = {.stop = 1};
            if (s_sendv(w->main_sock, &h, sizeof h, "", 0) == 0)
                pthread_join(w->thread, NULL);
            else {
                pthread_detach(w->thread);   /* cannot happen; never hang the exit */
                w->detached = true;
            }
        }
    }
    for (int i = 0; self->w && i < self->n; i++) {
        s_worker *w = &self->w[i];
        if (w->main_sock)
            zmq_close(w->main_sock);
        if (w->sock && !w->detached)
            zmq_close(w->sock);
        td_prepare_destroy(&w->prep);
    }
    free(self->w);
    free(self->ring);
    free(self);
    *self_p = NULL;
}

bool td_workers_can_give(const td_workers *self)
{
    return self->count == 0 || (self->count < self->cap && self->bytes < self->max_bytes);
}

size_t td_workers_pending(const td_workers *self)
{
    return self->count;
}

int td_workers_count(const td_workers *self)
{
    return self->n;
}

int td_workers_give(td_workers *self, td_job_kind kind, uint64_t token, zmq_msg_t *frame)
{
    if (self->count == self->cap) {
        zmq_msg_close(frame);
        zmq_msg_init(frame);
        errno = EAGAIN;
        return -1;
    }
    s_worker *w = &self->w[self->given % (uint64_t)self->n];
    s_job_hdr h = {.kind = (uint32_t)kind, .stop = 0, .token = token};
    size_t bytes = zmq_msg_size(frame);
    int rc;
    do
        rc = zmq_send(w->main_sock, &h, sizeof h, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc >= 0) {
        do
            rc = zmq_msg_send(frame, w->main_sock, ZMQ_DONTWAIT);
        while (rc < 0 && errno == EINTR);
    }
    if (rc < 0) {
        int e = errno;
        zmq_msg_close(frame);
        zmq_msg_init(frame);
        errno = e;
        return -1;
    }
    s_job *j = &self->ring[(self->head + self->count) % self->cap];
    *j = (s_job){.kind = kind, .token = token, .bytes = bytes};
    self->count++;
    self->given++;
    self->bytes += bytes;
    return 0;
}

void *td_workers_head_socket(td_workers *self)
{
    if (!self->count)
        return NULL;
    return self->w[self->taken % (uint64_t)self->n].main_sock;
}

int td_workers_take(td_workers *self, td_job_result *res, zmq_msg_t *payload)
{
    if (!self->count)
        return 0;
    void *sock = self->w[self->taken % (uint64_t)self->n].main_sock;
    zmq_msg_t hdr;
    zmq_msg_init(&hdr);
    int rc;
    do
        rc = zmq_msg_recv(&hdr, sock, ZMQ_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        zmq_msg_close(&hdr);
        return errno == EAGAIN ? 0 : -1;
    }
    /* the second frame is in the pipe with the first: a blocking read
     * returns at once */
    bool more = zmq_msg_more(&hdr);
    if (more && s_recv(sock, payload) < 0) {
        zmq_msg_close(&hdr);
        return -1;
    }
    s_done_hdr d;
    memset(&d, 0, sizeof d);
    if (zmq_msg_size(&hdr) == sizeof d)
        memcpy(&d, zmq_msg_data(&hdr), sizeof d);
    zmq_msg_close(&hdr);

    s_job *j = &self->ring[self->head];
    self->head = (self->head + 1) % self->cap;
    self->count--;
    self->taken++;
    self->bytes -= j->bytes;
    *res = (td_job_result){.kind = j->kind,
                           .token = j->token,
                           .forward = d.forward && more,
                           .rejected = d.rejected,
                           .err = d.err};
    return 1;
}
