/* tidings.h — libtidings, the C client of the tidings news event registry.
 *
 * One td_client talks to the four endpoints of the wire contract
 * (PROTOCOL.md): acknowledged submit (7402), fire-and-forget feed (7401),
 * queries (7404) and notifications (7405). Sockets are opened lazily, on the
 * first call that needs them.
 *
 * Nothing here blocks without bound: every wait is limited by the timeout
 * given to td_client_new(); a daemon that is down gives TD_CLIENT_ETIMEOUT.
 * Requests that wait for an answer are retried "Lazy Pirate" style: after a
 * timeout the socket is closed and reopened and the same request is sent
 * again, up to `retries` more times. Submissions are idempotent on the server
 * (same key: "unchanged"), so a retry never stores an article twice.
 *
 * Strings the library returns (acks, replies, notices, error messages) are
 * borrowed: they stay valid until the next call on the same td_client (for a
 * td_client_pipe: until the callback returns). Copy what you keep.
 *
 * A td_client is not thread-safe; use one per thread.
 *
 * Link with `pkg-config --cflags --libs tidings`.
 */
#ifndef TIDINGS_H
#define TIDINGS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default endpoints (PROTOCOL.md). */
#define TD_CLIENT_FEED_DEFAULT "tcp://127.0.0.1:7401"
#define TD_CLIENT_SUBMIT_DEFAULT "tcp://127.0.0.1:7402"
#define TD_CLIENT_QUERY_DEFAULT "tcp://127.0.0.1:7404"
#define TD_CLIENT_PUBLISH_DEFAULT "tcp://127.0.0.1:7405"
#define TD_CLIENT_TIMEOUT_DEFAULT 3000 /* ms */
#define TD_CLIENT_RETRIES_DEFAULT 3

/* "no time": an absent published_at / since / until. */
#define TD_CLIENT_TIME_NONE INT64_MIN

typedef enum {
    TD_CLIENT_OK = 0,
    TD_CLIENT_ETIMEOUT = -1,  /* no answer within the timeout, after all retries */
    TD_CLIENT_EPROTO = -2,    /* the peer answered something we cannot read */
    TD_CLIENT_EINVAL = -3,    /* a bad argument (e.g. an article without body) */
    TD_CLIENT_ESYS = -4,      /* a ZeroMQ or system call failed, or out of memory */
    TD_CLIENT_EINTR = -5,     /* interrupted: the caller's stop flag was set */
} td_client_err;

/* A short English text for a td_client_err. */
const char *td_client_strerror(int err);

typedef struct td_client td_client;

typedef struct {
    const char *submit;     /* NULL: TD_CLIENT_SUBMIT_DEFAULT */
    const char *feed;       /* NULL: TD_CLIENT_FEED_DEFAULT */
    const char *query;      /* NULL: TD_CLIENT_QUERY_DEFAULT */
    const char *publish;    /* NULL: TD_CLIENT_PUBLISH_DEFAULT */
    int timeout_ms;         /* per attempt; <= 0: TD_CLIENT_TIMEOUT_DEFAULT */
    int retries;            /* extra attempts after a timeout; < 0: default */
    /* When non-NULL, a wait interrupted by a signal returns TD_CLIENT_EINTR
     * if *stop is non-zero (a SIGINT handler sets it); otherwise it goes on. */
    volatile sig_atomic_t *stop;
} td_client_options;

/* New client; `opts` may be NULL for all defaults. The endpoint strings are
 * copied. Returns NULL when out of memory or ZeroMQ cannot start. */
td_client *td_client_new(const td_client_options *opts);

/* Close every socket (unsent fire-and-forget articles get up to the timeout
 * to leave) and free the client; sets *self_p to NULL; NULL-safe. */
void td_client_destroy(td_client **self_p);

/* The message of the last failure on this client, e.g. "no answer from
 * tcp://127.0.0.1:7404 after 3000 ms". Never NULL. */
const char *td_client_errmsg(const td_client *self);

/* The endpoint actually used for "submit", "feed", "query" or "publish". */
const char *td_client_endpoint(const td_client *self, const char *which);

/* ---- security ------------------------------------------------------------ */

/* Encrypt and authenticate every connection of this client with CURVE
 * (docs/security.md). `server_key` is the daemons' public key and
 * `client_secret` this client's secret key, both z85 text of 40 characters;
 * the client's public key, derived from the secret, must be in the allow-list
 * of the daemons (producers for submit/feed, readers for query/publish).
 * Call it right after td_client_new(): sockets already open are closed
 * (subscriptions with them). Returns TD_CLIENT_OK, or TD_CLIENT_EINVAL for a
 * bad key or a libzmq without CURVE (errmsg says which). */
int td_client_set_curve(td_client *self, const char *server_key, const char *client_secret);

/* The same with the keys read from files as `tidings keygen` writes them:
 * the server's PREFIX.pub and this client's PREFIX.key. */
int td_client_set_curve_files(td_client *self, const char *server_key_file,
                              const char *client_key_file);

/* ---- articles ----------------------------------------------------------- */

typedef struct {
    const char *key;
    const char *value;
} td_client_meta;

/* A submission (PROTOCOL.md "Article submission"). NULL strings are absent;
 * `body` is required and non-empty. */
typedef struct {
    const char *id;
    const char *url;
    const char *source;
    const char *title;
    const char *body;
    int64_t published_at;   /* ms since the epoch, or TD_CLIENT_TIME_NONE */
    const char *lang;
    const td_client_meta *meta;
    size_t n_meta;
} td_client_article;

/* The answer to an acknowledged submission. When ok: id, status ("stored",
 * "unchanged" or "updated"), event, and duplicate_of (or NULL). When not ok:
 * code ("bad_request", "too_large", "unavailable", "internal") and message. */
typedef struct {
    bool ok;
    const char *id;
    const char *status;
    const char *event;
    const char *duplicate_of;
    const char *code;
    const char *message;
} td_client_ack;

/* Submit one article and wait for its acknowledgement (sent by the server
 * only after the article is durably stored). Retries after a timeout, and
 * after an "unavailable" answer with a short back-off. Returns TD_CLIENT_OK
 * with `ack` filled (ack->ok tells whether the server accepted it), or an
 * error (ETIMEOUT, EPROTO, EINVAL, ESYS, EINTR). */
int td_client_submit(td_client *self, const td_client_article *article, td_client_ack *ack);

/* Send one article fire-and-forget (PUSH to the feed endpoint). Blocks while
 * the server's queue is full (back-pressure), for at most the timeout: then
 * TD_CLIENT_ETIMEOUT. TD_CLIENT_OK means handed to ZeroMQ, not stored. */
int td_client_feed(td_client *self, const td_client_article *article);

/* ---- pipelined acknowledged submission ----------------------------------- */

/* Called once per submitted article, in completion order: `tag` is the value
 * given to td_client_pipe_submit; `err` is TD_CLIENT_OK with `ack` filled, or
 * an error (then `ack` is NULL). */
typedef void(td_client_ack_fn)(void *arg, void *tag, int err, const td_client_ack *ack);

typedef struct td_client_pipe td_client_pipe;

/* A pipeline that keeps up to `window` submissions in flight (1..1024; 0:
 * 64), each on its own connection so every answer is matched to its
 * request whatever order the server answers in. Each request gets the
 * client's timeout and retries. Returns NULL when out of memory. */
td_client_pipe *td_client_pipe_new(td_client *client, size_t window, td_client_ack_fn *fn,
                                   void *arg);

/* Queue one article (packed at once: the caller may reuse `article` right
 * away). Waits, calling the callback for completed ones, while the window is
 * full. Returns TD_CLIENT_OK, EINVAL (bad article), ESYS or EINTR. */
int td_client_pipe_submit(td_client_pipe *self, const td_client_article *article, void *tag);

/* Deliver the answers that have arrived, waiting at most `wait_ms` (0: do
 * not wait). Returns the number still in flight, or a negative error. */
int td_client_pipe_poll(td_client_pipe *self, int wait_ms);

/* Wait until every queued article is answered (or has failed).
 * Returns TD_CLIENT_OK, TD_CLIENT_EINTR or TD_CLIENT_ESYS. */
int td_client_pipe_drain(td_client_pipe *self);

/* Number of requests in flight, and retries made so far. */
size_t td_client_pipe_inflight(const td_client_pipe *self);
uint64_t td_client_pipe_retries(const td_client_pipe *self);

/* Close the pipeline's sockets; unanswered requests are abandoned (the
 * server may still store them). Sets *self_p to NULL; NULL-safe. */
void td_client_pipe_destroy(td_client_pipe **self_p);

/* ---- queries ------------------------------------------------------------- */

/* A query request (PROTOCOL.md "Queries"). NULL strings, TD_CLIENT_TIME_NONE
 * times and a zero limit are absent. */
typedef struct {
    const char *op;         /* "ping", "stats", "article.get", "event.list", ... */
    const char *id;
    const char *name;
    const char *q;
    const char *source;
    const char *entity;
    const char *event;
    const char *story;
    const char *cursor;
    int64_t since;
    int64_t until;
    uint32_t limit;
    uint64_t after_seq;
    const char *lang;       /* language of q ("fr"); NULL: English (0.1: appended) */
} td_client_query;

/* An initialised query: everything absent, times TD_CLIENT_TIME_NONE. */
td_client_query td_client_query_init(const char *op);

/* A decoded reply. When ok: `result` is the raw msgpack of the result
 * object. When not ok: code ("bad_request", "not_found", "internal") and
 * message. Borrowed until the next call on the client. */
typedef struct {
    bool ok;
    const char *code;
    const char *message;
    const void *result;
    size_t result_len;
} td_client_reply;

/* Ask one query and wait for the reply (retried after a timeout: queries
 * are reads). Returns TD_CLIENT_OK with `reply` filled, or an error. */
int td_client_ask(td_client *self, const td_client_query *query, td_client_reply *reply);

/* The same with a request already packed as one msgpack map (for ops this
 * library does not know yet). */
int td_client_ask_raw(td_client *self, const void *request, size_t len, td_client_reply *reply);

/* ---- notifications ------------------------------------------------------- */

/* Subscribe to notifications whose topic starts with one of `topics`
 * (n == 0: all of them). May be called again to add prefixes.
 * Returns TD_CLIENT_OK or ESYS. */
int td_client_subscribe(td_client *self, const char *const *topics, size_t n);

typedef struct {
    const char *topic;
    uint64_t seq;
    const char *type;   /* article.stored, article.rejected, event.created, event.updated */
    const char *id;
    const char *event;  /* NULL when absent */
    const char *story;
    const char *title;
    int64_t at;         /* ms, or TD_CLIENT_TIME_NONE */
    const void *raw;    /* the msgpack map as received */
    size_t raw_len;
} td_client_notice;

/* Wait at most `wait_ms` (< 0: the client's timeout) for the next
 * notification. Returns TD_CLIENT_OK with `notice` filled, ETIMEOUT when
 * none came, EPROTO for a message that cannot be read (skip it and go on),
 * ESYS or EINTR. Call td_client_subscribe first. */
int td_client_notice_recv(td_client *self, int wait_ms, td_client_notice *notice);

#ifdef __cplusplus
}
#endif

#endif
