/* client_int.h — the inside of a td_client, shared by the files of libtidings
 * (client.c, conn.c, submit.c, pipe.c, ask.c, subscribe.c). Not installed. */
#ifndef TD_CLIENT_INT_H
#define TD_CLIENT_INT_H

#include <msgpack.h>
#include <stdarg.h>
#include <zmq.h>

#include "arena.h"
#include "codec.h"
#include "tidings.h"

/* Largest reply frame we accept: an event list of 1000 events is a few MiB. */
#define TD_CLIENT_MAX_REPLY ((int64_t)64 << 20)

typedef enum { TD_EP_SUBMIT = 0, TD_EP_FEED, TD_EP_QUERY, TD_EP_PUBLISH, TD_EP_COUNT } td_ep;

struct td_client {
    void *ctx;
    char *endpoint[TD_EP_COUNT];
    int timeout_ms;
    int retries;
    volatile sig_atomic_t *stop;

    void *submit_sock;      /* DEALER, one request at a time */
    void *query_sock;       /* DEALER, one request at a time */
    void *feed_sock;        /* PUSH */
    void *sub_sock;         /* SUB */

    td_arena *arena;        /* decoded replies; reset on every call */
    zmq_msg_t reply;        /* last frame received; results point into it */
    msgpack_sbuffer sbuf;   /* requests are packed here */
    msgpack_packer pk;
    char errmsg[320];
    struct td_conn_curve *curve;   /* CURVE keys (conn.h); NULL: plaintext */
};

/* Record the message returned by td_client_errmsg(); returns `err`. */
int td_client_fail(td_client *self, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Pack a submission into self->sbuf (cleared first). EINVAL when the body is
 * missing or empty, ESYS when out of memory. */
int td_client_pack_article(td_client *self, const td_client_article *a);

/* Decode an acknowledgement frame into `ack` (strings in self->arena). */
int td_client_decode_ack(td_client *self, const void *buf, size_t len, td_client_ack *ack);

/* True for an answer that says "try again later". */
bool td_client_ack_retryable(const td_client_ack *ack);

/* Back-off before retry number `attempt` (1, 2, ...) after "unavailable". */
int td_client_backoff_ms(int attempt);

#endif
