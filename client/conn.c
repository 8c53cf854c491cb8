/* conn.c — request/reply over DEALER with Lazy Pirate retries; see conn.h. */
#include "conn.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

void *td_conn_open(td_client *c, int type, const char *endpoint, int linger)
{
    void *s = zmq_socket(c->ctx, type);
    if (!s) {
        td_client_fail(c, TD_CLIENT_ESYS, "cannot create a socket: %s", zmq_strerror(errno));
        return NULL;
    }
    /* linger 0 on request sockets: a request we gave up on must not keep
     * the process alive, and must not be delivered after its retry */
    int lg = linger >= 0 ? linger : 0;
    int64_t max = TD_CLIENT_MAX_REPLY;
    zmq_setsockopt(s, ZMQ_LINGER, &lg, sizeof lg);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (type == ZMQ_PUSH) {
        /* queue only on a completed connection, and block at most the
         * timeout: a daemon that is down gives an error, not a hang, while a
         * slow one slows us down (back-pressure at the high-water mark).
         * Both must be set before connecting. */
        int one = 1;
        zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one);
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &c->timeout_ms, sizeof c->timeout_ms);
    }
    if (c->curve && (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, c->curve->server, 40) != 0 ||
                     zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, c->curve->public_, 40) != 0 ||
                     zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, c->curve->secret, 40) != 0)) {
        td_client_fail(c, TD_CLIENT_ESYS, "cannot set the CURVE keys: %s", zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    if (zmq_connect(s, endpoint) != 0) {
        td_client_fail(c, TD_CLIENT_ESYS, "cannot connect to %s: %s", endpoint,
                       zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

int td_conn_send(void *sock, const void *buf, size_t len)
{
    const void *d[2] = {"", buf};
    size_t l[2] = {0, len};
    return td_sock_sendv(sock, d, l, 2, ZMQ_DONTWAIT);
}

int td_conn_recv(void *sock, zmq_msg_t *msg, int flags)
{
    zmq_msg_close(msg);
    zmq_msg_init(msg);
    for (;;) {
        int rc;
        do
            rc = zmq_msg_recv(msg, sock, flags);
        while (rc < 0 && errno == EINTR);
        if (rc < 0)
            return -1;
        if (!zmq_msg_more(msg))
            return 0;
        /* an envelope frame (the empty delimiter): the body follows */
        zmq_msg_close(msg);
        zmq_msg_init(msg);
        flags &= ~ZMQ_DONTWAIT;
    }
}

int td_conn_wait(td_client *c, void *sock, int ms)
{
    int64_t deadline = td_mono_ms() + ms;
    for (;;) {
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        int left = (int)(deadline - td_mono_ms());
        if (left < 0)
            left = 0;
        int rc = zmq_poll(&it, 1, left);
        if (rc > 0)
            return 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            return td_client_fail(c, TD_CLIENT_ESYS, "poll: %s", zmq_strerror(errno));
        if (c->stop && *c->stop)
            return td_client_fail(c, TD_CLIENT_EINTR, "interrupted");
    }
}

int td_conn_sleep(td_client *c, int ms)
{
    int64_t deadline = td_mono_ms() + ms;
    for (;;) {
        int64_t left = deadline - td_mono_ms();
        if (left <= 0)
            return TD_CLIENT_OK;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        if (nanosleep(&ts, NULL) != 0 && c->stop && *c->stop)
            return td_client_fail(c, TD_CLIENT_EINTR, "interrupted");
    }
}

int td_conn_exchange(td_client *c, void **sock_p, td_ep ep, const void *req, size_t len,
                     const char *what)
{
    const char *endpoint = c->endpoint[ep];
    int tries = c->retries + 1;
    for (int attempt = 1; attempt <= tries; attempt++) {
        if (!*sock_p && !(*sock_p = td_conn_open(c, ZMQ_DEALER, endpoint, 0)))
            return TD_CLIENT_ESYS;
        /* a DEALER queues on a connecting pipe, so EAGAIN is rare: it is
         * treated like a lost request (wait, then retry on a new socket) */
        if (td_conn_send(*sock_p, req, len) != 0 && errno != EAGAIN)
            return td_client_fail(c, TD_CLIENT_ESYS, "cannot send to %s: %s", endpoint,
                                  zmq_strerror(errno));
        int rc = td_conn_wait(c, *sock_p, c->timeout_ms);
        if (rc == 1) {
            if (td_conn_recv(*sock_p, &c->reply, ZMQ_DONTWAIT) == 0)
                return TD_CLIENT_OK;
            rc = 0;
        }
        if (rc < 0)
            return rc;
        /* Lazy Pirate: the request or its answer may be lost with the old
         * connection; a fresh socket drops both and we send again */
        zmq_close(*sock_p);
        *sock_p = NULL;
    }
    /* a CURVE server that refuses us looks just like a silent one */
    const char *also = c->curve ? ", and does it allow this client's key?" : "?";
    if (tries > 1)
        return td_client_fail(c, TD_CLIENT_ETIMEOUT,
                              "no answer from %s after %d tries of %d ms — is %s running%s",
                              endpoint, tries, c->timeout_ms, what, also);
    return td_client_fail(c, TD_CLIENT_ETIMEOUT, "no answer from %s after %d ms — is %s running%s",
                          endpoint, c->timeout_ms, what, also);
}
