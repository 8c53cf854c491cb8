/* conn.h — one request, one reply over a DEALER socket, Lazy Pirate style.
 *
 * Requests travel with an empty delimiter frame in front, exactly like REQ,
 * so a ROUTER server sees the same envelope from REQ and from us; but unlike
 * REQ a DEALER never gets stuck in its state machine when an answer is lost.
 * After a timeout the socket is closed (linger 0, so the stale request and
 * any late answer are dropped) and a new one is opened for the retry. */
#ifndef TD_CONN_H
#define TD_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "client_int.h"

/* CURVE keys of a client (td_client_set_curve): every socket it opens is a
 * CURVE client of `server` (z85 text, NUL-terminated). */
struct td_conn_curve {
    char server[41];
    char public_[41];
    char secret[41];
};

/* A socket of `type` connected to `endpoint`, with linger 0 (or `linger`
 * when >= 0) and the reply size limit; a CURVE client when c->curve is set.
 * NULL on failure (errmsg set). */
void *td_conn_open(td_client *c, int type, const char *endpoint, int linger);

/* Send `buf` as one request: an empty frame, then the body. Never blocks.
 * Returns 0 or -1 (errno set; EAGAIN when no connection can take it). */
int td_conn_send(void *sock, const void *buf, size_t len);

/* Read one whole message, keep its last frame in `msg` (the envelope frames
 * before it are dropped). Returns 0, or -1 (errno set). */
int td_conn_recv(void *sock, zmq_msg_t *msg, int flags);

/* Wait up to `ms` for `sock` to become readable: 1 readable, 0 timeout,
 * TD_CLIENT_EINTR when the caller's stop flag is set, TD_CLIENT_ESYS. */
int td_conn_wait(td_client *c, void *sock, int ms);

/* Sleep up to `ms`, waking early (TD_CLIENT_EINTR) when the stop flag is set. */
int td_conn_sleep(td_client *c, int ms);

/* Send `req` on *sock_p (opened on demand) and wait for the answer into
 * c->reply, retrying after a timeout up to c->retries times with a new
 * socket. `what` names the daemon for the error message ("tidings-query").
 * Returns TD_CLIENT_OK, ETIMEOUT, EINTR or ESYS (errmsg set). */
int td_conn_exchange(td_client *c, void **sock_p, td_ep ep, const void *req, size_t len,
                     const char *what);

#endif
