/* server.c — tidings-ingest: PULL feed, ROUTER acked submit, DEALER to store.
 *
 * The main thread owns the sockets and only moves frames; the analysis runs
 * in a pool of worker threads (workers.h) that hands results back in input
 * order. Back-pressure: input sockets are read only while the pool can take
 * a job, and a feed result waits (holding up the ones behind it) while the
 * link to the store is full, so a producer faster than the store blocks at
 * its PUSH high-water mark instead of growing our memory. */
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "codec.h"
#include "daemon.h"
#include "log.h"
#include "pending.h"
#include "workers.h"

#define DRAIN_BATCH 256        /* frames read per socket per loop turn */
#define DRAIN_GRACE_MS 5000    /* how long shutdown waits for the store's acks */
#define JOBS_PER_WORKER 64     /* jobs queued per analysis worker */
#define POOL_BYTES ((size_t)64 << 20)  /* submission bytes queued in the pool */

struct td_ingest {
    td_ingest_config cfg;
    void *ctx, *pull, *router, *dealer;
    td_workers *workers;
    td_pending *pending;
    zmq_msg_t held;            /* a feed result waiting for room on the store link */
    bool have_held;
    msgpack_sbuffer reply;
    msgpack_packer pk;
    td_arena *arena;           /* decoding acks from the store */
    uint64_t received, forwarded, rejected, acked, unavailable;
};

td_ingest *td_ingest_new(const td_ingest_config *cfg)
{
    td_ingest *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    if (self->cfg.workers < 1)
        self->cfg.workers = td_workers_default();
    zmq_msg_init(&self->held);
    self->ctx = zmq_ctx_new();
    msgpack_sbuffer_init(&self->reply);
    msgpack_packer_init(&self->pk, &self->reply, msgpack_sbuffer_write);
    self->arena = td_arena_new(1u << 20);
    self->pending = td_pending_new(cfg->max_pending);
    /* frames up to 2x the limit are read and answered too_large; beyond
     * that ZeroMQ drops the connection before buffering them */
    int64_t outer_max = (int64_t)cfg->max_frame * 2;
    self->pull = td_sock_bind_secure(self->ctx, ZMQ_PULL, cfg->feed, outer_max, cfg->hwm,
                                     cfg->security);
    self->router = td_sock_bind_secure(self->ctx, ZMQ_ROUTER, cfg->submit, outer_max, cfg->hwm,
                                       cfg->security);
    self->dealer = td_sock_connect(self->ctx, ZMQ_DEALER, cfg->store, 0, cfg->hwm);
    if (self->dealer) {
        /* queue only to a live store: when it is down, acked submits learn
         * it at once (unavailable) and the feed waits */
        int one = 1;
        zmq_setsockopt(self->dealer, ZMQ_IMMEDIATE, &one, sizeof one);
    }
    if (self->router) {
        int one = 1;
        zmq_setsockopt(self->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    }
    if (self->ctx)
        self->workers = td_workers_new(self->ctx, self->cfg.workers, cfg->max_frame,
                                       cfg->datadir,
                                       (size_t)self->cfg.workers * JOBS_PER_WORKER, POOL_BYTES);
    if (!self->ctx || !self->arena || !self->workers || !self->pending || !self->pull ||
        !self->router || !self->dealer)
        td_ingest_destroy(&self);
    return self;
}

void td_ingest_destroy(td_ingest **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_ingest *self = *self_p;
    td_workers_destroy(&self->workers);
    zmq_msg_close(&self->held);
    td_sock_close(&self->pull);
    td_sock_close(&self->router);
    td_sock_close(&self->dealer);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    td_pending_destroy(&self->pending);
    td_arena_destroy(&self->arena);
    msgpack_sbuffer_destroy(&self->reply);
    free(self);
    *self_p = NULL;
}

/* Reply to a submitter: its envelope, then the packed ack. */
static void s_reply(td_ingest *self, const td_envelope *env, const td_ack *ack)
{
    msgpack_sbuffer_clear(&self->reply);
    if (td_ack_pack(&self->pk, ack) < 0)
        return;
    const void *data[TD_ENVELOPE_MAX + 1];
    size_t len[TD_ENVELOPE_MAX + 1];
    for (size_t i = 0; i < env->n; i++) {
        data[i] = env->data[i];
        len[i] = env->len[i];
    }
    data[env->n] = self->reply.data;
    len[env->n] = self->reply.size;
    /* DONTWAIT: a submitter that stopped reading must not stall us */
    if (td_sock_sendv(self->router, data, len, env->n + 1, ZMQ_DONTWAIT) < 0)
        td_debug("reply to a submitter dropped: %s", zmq_strerror(errno));
}

static void s_reply_error(td_ingest *self, const td_envelope *env, const char *code,
                          const char *message)
{
    td_ack ack = {.ok = false, .code = code, .message = (char *)message};
    s_reply(self, env, &ack);
}

/* Answer the submitter of `token` with an error (when it still waits). */
static void s_fail_token(td_ingest *self, uint64_t token, const char *code, const char *message)
{
    td_envelope env;
    if (token && td_pending_take(self->pending, token, &env) == 0)
        s_reply_error(self, &env, code, message);
}

static bool s_store_writable(td_ingest *self)
{
    int events = 0;
    size_t sz = sizeof events;
    return zmq_getsockopt(self->dealer, ZMQ_EVENTS, &events, &sz) == 0 &&
           (events & ZMQ_POLLOUT);
}

/* Send a prepared store message on; on success *msg is left empty. */
static int s_forward(td_ingest *self, zmq_msg_t *msg)
{
    int rc;
    do
        rc = zmq_msg_send(msg, self->dealer, ZMQ_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return -1;
    self->forwarded++;
    return 0;
}

/* One result of the pool, in input order. Returns false when it is a feed
 * message the store link cannot take now: it is then held, and nothing
 * behind it is taken until it has gone. */
static bool s_on_result(td_ingest *self, const td_job_result *res, zmq_msg_t *payload)
{
    if (res->rejected)
        self->rejected++;
    if (res->kind == TD_JOB_SUBMIT) {
        if (res->rejected) {
            s_fail_token(self, res->token, res->err.code ? res->err.code : TD_E_BAD_REQUEST,
                         res->err.message);
        } else if (!res->forward || s_forward(self, payload) < 0) {
            self->unavailable++;
            s_fail_token(self, res->token, TD_E_UNAVAILABLE, "the store is not reachable; retry");
        }
        return true;
    }
    if (res->rejected)
        td_info("feed: rejected a submission (%s: %s)", res->err.code, res->err.message);
    if (!res->forward)
        return true;
    if (s_forward(self, payload) < 0) {
        zmq_msg_move(&self->held, payload);
        self->have_held = true;
        return false;
    }
    return true;
}

/* Take finished jobs from the pool and send them to the store, in order. */
static void s_drain_results(td_ingest *self)
{
    if (self->have_held) {
        if (s_forward(self, &self->held) < 0)
            return;
        self->have_held = false;
    }
    zmq_msg_t payload;
    zmq_msg_init(&payload);
    for (int i = 0; i < DRAIN_BATCH * 4; i++) {
        td_job_result res;
        int rc = td_workers_take(self->workers, &res, &payload);
        if (rc < 0)
            td_warn("analysis pool: %s", zmq_strerror(errno));
        if (rc <= 0)
            break;
        bool went = s_on_result(self, &res, &payload);
        zmq_msg_close(&payload);
        zmq_msg_init(&payload);
        if (!went)
            break;
    }
    zmq_msg_close(&payload);
}

static void s_drain_feed(td_ingest *self)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (int i = 0; i < DRAIN_BATCH && td_workers_can_give(self->workers); i++) {
        if (zmq_msg_recv(&msg, self->pull, ZMQ_DONTWAIT) < 0)
            break;
        self->received++;
        /* a multi-frame message is not a submission: its first part becomes
         * a reject record, the other parts are dropped */
        bool multi = zmq_msg_more(&msg);
        if (td_workers_give(self->workers, multi ? TD_JOB_MULTIPART : TD_JOB_FEED, 0, &msg) < 0)
            td_warn("feed: analysis pool refused a submission: %s", zmq_strerror(errno));
        if (multi) {
            int more = 1;
            size_t sz = sizeof more;
            while (zmq_getsockopt(self->pull, ZMQ_RCVMORE, &more, &sz) == 0 && more &&
                   zmq_msg_recv(&msg, self->pull, ZMQ_DONTWAIT) >= 0)
                ;
        }
    }
    zmq_msg_close(&msg);
}

/* Read one multipart request from the ROUTER: envelope frames + payload. */
static int s_recv_request(td_ingest *self, td_envelope *env, zmq_msg_t *payload, bool *ok)
{
    env->n = 0;
    *ok = true;
    for (;;) {
        if (zmq_msg_recv(payload, self->router, ZMQ_DONTWAIT) < 0)
            return -1;
        if (!zmq_msg_more(payload))
            return 0;
        size_t n = zmq_msg_size(payload);
        if (env->n < TD_ENVELOPE_MAX && n <= TD_ENVELOPE_FRAME) {
            memcpy(env->data[env->n], zmq_msg_data(payload), n);
            env->len[env->n++] = n;
        } else {
            *ok = false;   /* unreplyable: keep reading to the last frame */
        }
    }
}

static void s_on_submit(td_ingest *self, const td_envelope *env, zmq_msg_t *frame)
{
    self->received++;
    /* no store: say so at once instead of analysing for nothing */
    if (!s_store_writable(self)) {
        self->unavailable++;
        s_reply_error(self, env, TD_E_UNAVAILABLE, "the store is not reachable; retry");
        return;
    }
    uint64_t token = td_pending_add(self->pending, env, td_mono_ms() + self->cfg.ack_timeout_ms);
    if (!token) {
        self->unavailable++;
        s_reply_error(self, env, TD_E_UNAVAILABLE, "too many submissions waiting; retry");
        return;
    }
    if (td_workers_give(self->workers, TD_JOB_SUBMIT, token, frame) < 0) {
        self->unavailable++;
        s_fail_token(self, token, TD_E_UNAVAILABLE, "ingest is busy; retry");
    }
}

static void s_drain_submit(td_ingest *self)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    td_envelope env;
    for (int i = 0; i < DRAIN_BATCH && td_workers_can_give(self->workers); i++) {
        bool ok;
        if (s_recv_request(self, &env, &msg, &ok) < 0)
            break;
        if (!ok || env.n == 0) {
            td_warn("submit: request with an unusable envelope dropped");
            continue;
        }
        s_on_submit(self, &env, &msg);
    }
    zmq_msg_close(&msg);
}

/* Acks from the store: relay each to the submitter waiting on its token. */
static void s_drain_acks(td_ingest *self)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (int i = 0; i < DRAIN_BATCH * 4; i++) {
        if (zmq_msg_recv(&msg, self->dealer, ZMQ_DONTWAIT) < 0)
            break;
        td_arena_reset(self->arena);
        td_ack ack;
        td_error err;
        if (td_ack_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), self->arena, &ack, &err) < 0) {
            td_warn("undecodable ack from the store: %s", err.message);
            continue;
        }
        td_envelope env;
        if (td_pending_take(self->pending, ack.token, &env) < 0)
            continue;   /* timed out already; the producer retries */
        ack.token = 0;
        if (ack.ok)
            self->acked++;
        s_reply(self, &env, &ack);
    }
    zmq_msg_close(&msg);
}

static void s_expire(td_ingest *self)
{
    td_envelope env;
    int64_t now = td_mono_ms();
    while (td_pending_expire(self->pending, now, &env)) {
        self->unavailable++;
        s_reply_error(self, &env, TD_E_UNAVAILABLE,
                      "the store did not confirm the commit in time; retry");
    }
}

/* Poll the store link, the oldest pool result and (when `input`) the input
 * sockets the pool has room for. */
static int s_poll(td_ingest *self, bool input, long timeout)
{
    bool can_give = input && td_workers_can_give(self->workers);
    void *head = self->have_held ? NULL : td_workers_head_socket(self->workers);
    zmq_pollitem_t items[4] = {
        {self->dealer, 0, ZMQ_POLLIN | (self->have_held ? ZMQ_POLLOUT : 0), 0},
        {self->pull, 0, can_give ? ZMQ_POLLIN : 0, 0},
        {self->router, 0, can_give ? ZMQ_POLLIN : 0, 0},
        {head, 0, ZMQ_POLLIN, 0},
    };
    int rc = zmq_poll(items, head ? 4 : 3, timeout);
    if (rc < 0) {
        if (errno == EINTR)
            return 0;
        td_error("zmq_poll: %s", zmq_strerror(errno));
        return -1;
    }
    s_drain_results(self);
    s_drain_acks(self);
    if (items[1].revents & ZMQ_POLLIN)
        s_drain_feed(self);
    if (items[2].revents & ZMQ_POLLIN)
        s_drain_submit(self);
    return 0;
}

int td_ingest_run(td_ingest *self)
{
    td_info("ingest ready: feed %s, submit %s, store %s, %d analysis worker(s)",
            self->cfg.feed, self->cfg.submit, self->cfg.store, td_workers_count(self->workers));
    td_daemon_ready("accepting submissions");
    while (!td_daemon_stop) {
        if (s_poll(self, true, 100) < 0)
            return -1;
        s_expire(self);
    }

    /* drain: take no new input; finish the analyses under way, send them
     * on and wait (bounded) for the store's acks */
    td_daemon_stopping();
    int64_t until = td_mono_ms() + DRAIN_GRACE_MS;
    while ((td_workers_pending(self->workers) || self->have_held ||
            td_pending_count(self->pending)) &&
           td_mono_ms() < until) {
        if (s_poll(self, false, 50) < 0)
            break;
        s_expire(self);
    }
    if (td_workers_pending(self->workers) || self->have_held)
        td_warn("stopping with %zu analysed submission(s) not sent to the store",
                td_workers_pending(self->workers) + (self->have_held ? 1 : 0));
    td_envelope env;
    while (td_pending_expire(self->pending, INT64_MAX, &env))
        s_reply_error(self, &env, TD_E_UNAVAILABLE, "ingest is shutting down; retry");
    td_info("ingest stopped: received %llu, forwarded %llu, rejected %llu, acked %llu, "
            "unavailable %llu",
            (unsigned long long)self->received, (unsigned long long)self->forwarded,
            (unsigned long long)self->rejected, (unsigned long long)self->acked,
            (unsigned long long)self->unavailable);
    return 0;
}
