/* pipe.c — many acknowledged submissions in flight at once.
 *
 * The server's acknowledgement carries no token of ours, and ingest workers
 * may answer out of order. So each in-flight request has its own DEALER
 * connection (a "slot"): whatever arrives on a slot's socket is the answer to
 * that slot's request. Each slot does its own Lazy Pirate: on timeout it
 * closes its socket, opens a new one and sends the same bytes again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "daemon.h"

typedef struct {
    void *sock;
    bool busy;
    void *tag;
    char *req;              /* the packed article, kept for resending */
    size_t len, cap;
    int attempt;            /* sends after a timeout so far (1 = first) */
    int unavailable;        /* "unavailable" answers so far */
    int64_t deadline;       /* ms (mono): give up on this attempt */
    int64_t resend_at;      /* ms (mono): back-off before resending; 0 = not waiting */
} s_slot;

struct td_client_pipe {
    td_client *client;
    td_client_ack_fn *fn;
    void *arg;
    s_slot *slots;
    size_t n_slots;
    size_t inflight;
    uint64_t retries;
    zmq_pollitem_t *items;
    size_t *item_slot;
};

td_client_pipe *td_client_pipe_new(td_client *client, size_t window, td_client_ack_fn *fn,
                                   void *arg)
{
    if (!client || !fn)
        return NULL;
    if (window == 0)
        window = 64;
    if (window > 1024)
        window = 1024;
    td_client_pipe *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->client = client;
    self->fn = fn;
    self->arg = arg;
    self->n_slots = window;
    self->slots = calloc(window, sizeof *self->slots);
    self->items = calloc(window, sizeof *self->items);
    self->item_slot = calloc(window, sizeof *self->item_slot);
    if (!self->slots || !self->items || !self->item_slot) {
        td_client_pipe_destroy(&self);
        return NULL;
    }
    return self;
}

void td_client_pipe_destroy(td_client_pipe **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_client_pipe *self = *self_p;
    for (size_t i = 0; self->slots && i < self->n_slots; i++) {
        if (self->slots[i].sock)
            zmq_close(self->slots[i].sock);
        free(self->slots[i].req);
    }
    free(self->slots);
    free(self->items);
    free(self->item_slot);
    free(self);
    *self_p = NULL;
}

size_t td_client_pipe_inflight(const td_client_pipe *self)
{
    return self->inflight;
}

uint64_t td_client_pipe_retries(const td_client_pipe *self)
{
    return self->retries;
}

/* Send the slot's request (opening its socket when needed). */
static int s_send(td_client_pipe *self, s_slot *s)
{
    td_client *c = self->client;
    if (!s->sock && !(s->sock = td_conn_open(c, ZMQ_DEALER, c->endpoint[TD_EP_SUBMIT], 0)))
        return TD_CLIENT_ESYS;
    if (td_conn_send(s->sock, s->req, s->len) != 0 && errno != EAGAIN)
        return td_client_fail(c, TD_CLIENT_ESYS, "cannot send to %s: %s",
                              c->endpoint[TD_EP_SUBMIT], zmq_strerror(errno));
    s->deadline = td_mono_ms() + c->timeout_ms;
    s->resend_at = 0;
    return TD_CLIENT_OK;
}

static void s_finish(td_client_pipe *self, s_slot *s, int err, const td_client_ack *ack)
{
    void *tag = s->tag;
    s->busy = false;
    s->tag = NULL;
    self->inflight--;
    self->fn(self->arg, tag, err, ack);
}

/* An answer arrived on the slot's socket. */
static void s_on_answer(td_client_pipe *self, s_slot *s)
{
    td_client *c = self->client;
    if (td_conn_recv(s->sock, &c->reply, ZMQ_DONTWAIT) != 0)
        return;     /* nothing after all; the deadline still applies */
    td_client_ack ack;
    int rc = td_client_decode_ack(c, zmq_msg_data(&c->reply), zmq_msg_size(&c->reply), &ack);
    if (rc != TD_CLIENT_OK) {
        s_finish(self, s, rc, NULL);
        return;
    }
    if (td_client_ack_retryable(&ack) && s->unavailable < c->retries) {
        s->unavailable++;
        self->retries++;
        s->resend_at = td_mono_ms() + td_client_backoff_ms(s->unavailable);
        return;
    }
    s_finish(self, s, TD_CLIENT_OK, &ack);
}

/* The slot's attempt timed out: retry on a new socket, or give up. */
static void s_on_timeout(td_client_pipe *self, s_slot *s)
{
    td_client *c = self->client;
    zmq_close(s->sock);
    s->sock = NULL;
    if (s->attempt <= c->retries) {
        s->attempt++;
        self->retries++;
        int rc = s_send(self, s);
        if (rc != TD_CLIENT_OK)
            s_finish(self, s, rc, NULL);
        return;
    }
    if (c->retries > 0)
        td_client_fail(c, TD_CLIENT_ETIMEOUT,
                       "no acknowledgement from %s after %d tries of %d ms — is "
                       "tidings-ingest running?",
                       c->endpoint[TD_EP_SUBMIT], c->retries + 1, c->timeout_ms);
    else
        td_client_fail(c, TD_CLIENT_ETIMEOUT,
                       "no acknowledgement from %s after %d ms — is tidings-ingest running?",
                       c->endpoint[TD_EP_SUBMIT], c->timeout_ms);
    s_finish(self, s, TD_CLIENT_ETIMEOUT, NULL);
}

int td_client_pipe_poll(td_client_pipe *self, int wait_ms)
{
    td_client *c = self->client;
    int64_t now = td_mono_ms();
    int64_t wake = now + (wait_ms > 0 ? wait_ms : 0);
    size_t n = 0;
    for (size_t i = 0; i < self->n_slots; i++) {
        s_slot *s = &self->slots[i];
        if (!s->busy)
            continue;
        int64_t t = s->resend_at ? s->resend_at : s->deadline;
        if (t < wake)
            wake = t;
        if (!s->resend_at) {
            self->items[n] = (zmq_pollitem_t){s->sock, 0, ZMQ_POLLIN, 0};
            self->item_slot[n++] = i;
        }
    }
    int timeout = (int)(wake - now);
    if (timeout < 0)
        timeout = 0;
    int rc = zmq_poll(self->items, (int)n, timeout);
    if (rc < 0) {
        if (errno != EINTR)
            return td_client_fail(c, TD_CLIENT_ESYS, "poll: %s", zmq_strerror(errno));
        if (c->stop && *c->stop)
            return td_client_fail(c, TD_CLIENT_EINTR, "interrupted");
        rc = 0;
    }
    for (size_t k = 0; rc > 0 && k < n; k++)
        if (self->items[k].revents & ZMQ_POLLIN)
            s_on_answer(self, &self->slots[self->item_slot[k]]);

    now = td_mono_ms();
    for (size_t i = 0; i < self->n_slots; i++) {
        s_slot *s = &self->slots[i];
        if (!s->busy)
            continue;
        if (s->resend_at && s->resend_at <= now) {
            int r = s_send(self, s);
            if (r != TD_CLIENT_OK)
                s_finish(self, s, r, NULL);
        } else if (!s->resend_at && s->deadline <= now) {
            s_on_timeout(self, s);
        }
    }
    return (int)self->inflight;
}

int td_client_pipe_submit(td_client_pipe *self, const td_client_article *article, void *tag)
{
    td_client *c = self->client;
    int rc = td_client_pack_article(c, article);
    if (rc != TD_CLIENT_OK)
        return rc;
    while (self->inflight == self->n_slots) {
        rc = td_client_pipe_poll(self, c->timeout_ms);
        if (rc < 0)
            return rc;
    }
    s_slot *s = NULL;
    for (size_t i = 0; i < self->n_slots && !s; i++)
        if (!self->slots[i].busy)
            s = &self->slots[i];
    if (s->cap < c->sbuf.size) {
        char *p = realloc(s->req, c->sbuf.size);
        if (!p)
            return td_client_fail(c, TD_CLIENT_ESYS, "out of memory");
        s->req = p;
        s->cap = c->sbuf.size;
    }
    memcpy(s->req, c->sbuf.data, c->sbuf.size);
    s->len = c->sbuf.size;
    s->tag = tag;
    s->attempt = 1;
    s->unavailable = 0;
    s->busy = true;
    self->inflight++;
    rc = s_send(self, s);
    if (rc != TD_CLIENT_OK) {
        s->busy = false;
        self->inflight--;
        return rc;
    }
    /* collect what has already arrived, without waiting */
    rc = td_client_pipe_poll(self, 0);
    return rc < 0 ? rc : TD_CLIENT_OK;
}

int td_client_pipe_drain(td_client_pipe *self)
{
    while (self->inflight > 0) {
        int rc = td_client_pipe_poll(self, self->client->timeout_ms);
        if (rc < 0)
            return rc;
    }
    return TD_CLIENT_OK;
}
