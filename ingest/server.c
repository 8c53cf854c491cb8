/* server.c — tidings-ingest: PULL feed, ROUTER acked submit, DEALER to store.
 *
 * One thread. Back-pressure: input sockets are read only while the link to
 * the store can take a message, so a producer faster than the store blocks
 * at its PUSH high-water mark instead of growing our memory. */
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "codec.h"
#include "daemon.h"
#include "log.h"
#include "pending.h"
#include "prepare.h"

#define DRAIN_BATCH 256        /* frames read per socket per loop turn */
#define DRAIN_GRACE_MS 5000    /* how long shutdown waits for the store's acks */

struct td_ingest {
    td_ingest_config cfg;
    void *ctx, *pull, *router, *dealer;
    td_prepare *prep;
    td_pending *pending;
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
    self->ctx = zmq_ctx_new();
    msgpack_sbuffer_init(&self->reply);
    msgpack_packer_init(&self->pk, &self->reply, msgpack_sbuffer_write);
    self->arena = td_arena_new(1u << 20);
    self->prep = td_prepare_new(cfg->max_frame, cfg->datadir);
    self->pending = td_pending_new(cfg->max_pending);
    /* frames up to 2x the limit are read and answered too_large; beyond
     * that ZeroMQ drops the connection before buffering them */
    int64_t outer_max = (int64_t)cfg->max_frame * 2;
    self->pull = td_sock_bind(self->ctx, ZMQ_PULL, cfg->feed, outer_max, cfg->hwm);
    self->router = td_sock_bind(self->ctx, ZMQ_ROUTER, cfg->submit, outer_max, cfg->hwm);
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
    if (!self->ctx || !self->arena || !self->prep || !self->pending || !self->pull ||
        !self->router || !self->dealer)
        td_ingest_destroy(&self);
    return self;
}

void td_ingest_destroy(td_ingest **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_ingest *self = *self_p;
    td_sock_close(&self->pull);
    td_sock_close(&self->router);
    td_sock_close(&self->dealer);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    td_prepare_destroy(&self->prep);
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

static bool s_store_writable(td_ingest *self)
{
    int events = 0;
    size_t sz = sizeof events;
    return zmq_getsockopt(self->dealer, ZMQ_EVENTS, &events, &sz) == 0 &&
           (events & ZMQ_POLLOUT);
}

static int s_forward(td_ingest *self)
{
    size_t len;
    const void *msg = td_prepare_message(self->prep, &len);
    int rc;
    do
        rc = zmq_send(self->dealer, msg, len, ZMQ_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return -1;
    self->forwarded++;
    return 0;
}

/* One frame from the PULL feed: forward it analysed, or as a reject record. */
static void s_on_feed(td_ingest *self, const void *frame, size_t len)
{
    td_error err = {0};
    self->received++;
    if (td_prepare_article(self->prep, frame, len, 0, &err) < 0) {
        self->rejected++;
        td_info("feed: rejected a submission (%s: %s)", err.code, err.message);
        if (td_prepare_reject(self->prep, frame, len, &err) < 0)
            return;
    }
    if (s_forward(self) < 0) {
        /* we only read while the link is writable; a full pipe here means
         * the store just went away: the feed is fire-and-forget */
        td_warn("feed: store link full (%s); one submission not forwarded",
                zmq_strerror(errno));
    }
}

static void s_drain_feed(td_ingest *self)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (int i = 0; i < DRAIN_BATCH && s_store_writable(self); i++) {
        if (zmq_msg_recv(&msg, self->pull, ZMQ_DONTWAIT) < 0)
            break;
        if (zmq_msg_more(&msg)) {
            /* a multi-frame message is not a submission: refuse the parts */
            td_error err = {TD_E_BAD_REQUEST, "a submission is one frame"};
            self->received++;
            self->rejected++;
            if (td_prepare_reject(self->prep, zmq_msg_data(&msg), zmq_msg_size(&msg), &err) == 0)
                s_forward(self);
            while (zmq_msg_more(&msg) && zmq_msg_recv(&msg, self->pull, ZMQ_DONTWAIT) >= 0)
                ;
            continue;
        }
        s_on_feed(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
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

static void s_on_submit(td_ingest *self, const td_envelope *env, const void *frame, size_t len)
{
    td_error err = {0};
    self->received++;
    uint64_t token = td_pending_add(self->pending, env, td_mono_ms() + self->cfg.ack_timeout_ms);
    if (!token) {
        self->unavailable++;
        s_reply_error(self, env, TD_E_UNAVAILABLE, "too many submissions waiting; retry");
        return;
    }
    if (td_prepare_article(self->prep, frame, len, token, &err) < 0) {
        td_envelope tmp;
        td_pending_take(self->pending, token, &tmp);
        self->rejected++;
        s_reply_error(self, env, err.code ? err.code : TD_E_BAD_REQUEST, err.message);
        return;
    }
    if (s_forward(self) < 0) {
        td_envelope tmp;
        td_pending_take(self->pending, token, &tmp);
        self->unavailable++;
        s_reply_error(self, env, TD_E_UNAVAILABLE, "the store is not reachable; retry");
    }
}

static void s_drain_submit(td_ingest *self)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    td_envelope env;
    for (int i = 0; i < DRAIN_BATCH; i++) {
        bool ok;
        if (s_recv_request(self, &env, &msg, &ok) < 0)
            break;
        if (!ok || env.n == 0) {
            td_warn("submit: request with an unusable envelope dropped");
            continue;
        }
        s_on_submit(self, &env, zmq_msg_data(&msg), zmq_msg_size(&msg));
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

int td_ingest_run(td_ingest *self)
{
    td_info("ingest ready: feed %s, submit %s, store %s", self->cfg.feed, self->cfg.submit,
            self->cfg.store);
    td_daemon_ready("accepting submissions");
    while (!td_daemon_stop) {
        bool writable = s_store_writable(self);
        zmq_pollitem_t items[3] = {
            {self->dealer, 0, ZMQ_POLLIN | (writable ? 0 : ZMQ_POLLOUT), 0},
            {self->pull, 0, writable ? ZMQ_POLLIN : 0, 0},
            {self->router, 0, ZMQ_POLLIN, 0},
        };
        int rc = zmq_poll(items, 3, 100);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            td_error("zmq_poll: %s", zmq_strerror(errno));
            return -1;
        }
        s_drain_acks(self);
        if (items[1].revents & ZMQ_POLLIN)
            s_drain_feed(self);
        if (items[2].revents & ZMQ_POLLIN)
            s_drain_submit(self);
        s_expire(self);
    }

    /* drain: take no new input, wait a bounded time for the store's acks */
    td_daemon_stopping();
    int64_t until = td_mono_ms() + DRAIN_GRACE_MS;
    while (td_pending_count(self->pending) && td_mono_ms() < until) {
        zmq_pollitem_t item = {self->dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) > 0)
            s_drain_acks(self);
    }
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
