/* client.c — the td_client object: endpoints, options, errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "conn.h"
#include "security.h"

static const char *const s_defaults[TD_EP_COUNT] = {
    TD_CLIENT_SUBMIT_DEFAULT, TD_CLIENT_FEED_DEFAULT, TD_CLIENT_QUERY_DEFAULT,
    TD_CLIENT_PUBLISH_DEFAULT};
static const char *const s_names[TD_EP_COUNT] = {"submit", "feed", "query", "publish"};

const char *td_client_strerror(int err)
{
    switch (err) {
    case TD_CLIENT_OK: return "ok";
    case TD_CLIENT_ETIMEOUT: return "no answer within the timeout";
    case TD_CLIENT_EPROTO: return "unreadable answer";
    case TD_CLIENT_EINVAL: return "invalid argument";
    case TD_CLIENT_ESYS: return "system error";
    case TD_CLIENT_EINTR: return "interrupted";
    default: return "unknown error";
    }
}

td_client *td_client_new(const td_client_options *opts)
{
    td_client_options o = {0};
    if (opts)
        o = *opts;
    else
        o.retries = -1;
    td_client *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    const char *given[TD_EP_COUNT] = {o.submit, o.feed, o.query, o.publish};
    for (int i = 0; i < TD_EP_COUNT; i++) {
        self->endpoint[i] = strdup(given[i] && *given[i] ? given[i] : s_defaults[i]);
        if (!self->endpoint[i])
            goto fail;
    }
    self->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : TD_CLIENT_TIMEOUT_DEFAULT;
    self->retries = o.retries >= 0 ? o.retries : TD_CLIENT_RETRIES_DEFAULT;
    self->stop = o.stop;
    self->arena = td_arena_new(0);
    self->ctx = zmq_ctx_new();
    if (!self->arena || !self->ctx)
        goto fail;
    zmq_msg_init(&self->reply);
    msgpack_sbuffer_init(&self->sbuf);
    msgpack_packer_init(&self->pk, &self->sbuf, msgpack_sbuffer_write);
    return self;
fail:
    for (int i = 0; i < TD_EP_COUNT; i++)
        free(self->endpoint[i]);
    td_arena_destroy(&self->arena);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self);
    return NULL;
}

void td_client_destroy(td_client **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_client *self = *self_p;
    void **socks[] = {&self->submit_sock, &self->query_sock, &self->feed_sock, &self->sub_sock};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        if (*socks[i]) {
            zmq_close(*socks[i]);
            *socks[i] = NULL;
        }
    zmq_msg_close(&self->reply);
    /* every socket has a finite linger, so this cannot hang */
    while (zmq_ctx_term(self->ctx) != 0 && errno == EINTR)
        ;
    msgpack_sbuffer_destroy(&self->sbuf);
    td_arena_destroy(&self->arena);
    for (int i = 0; i < TD_EP_COUNT; i++)
        free(self->endpoint[i]);
    if (self->curve) {
        memset(self->curve, 0, sizeof *self->curve);   /* no secret left in freed memory */
        free(self->curve);
    }
    free(self);
    *self_p = NULL;
}

static bool s_z85_key(const char *k)
{
    uint8_t bin[32];
    return k && strlen(k) == 40 && zmq_z85_decode(bin, k) != NULL;
}

int td_client_set_curve(td_client *self, const char *server_key, const char *client_secret)
{
    if (!zmq_has("curve"))
        return td_client_fail(self, TD_CLIENT_EINVAL,
                              "this libzmq has no CURVE support (zmq_has(\"curve\") is false)");
    if (!s_z85_key(server_key))
        return td_client_fail(self, TD_CLIENT_EINVAL,
                              "the server key is not a z85 CURVE key (40 characters)");
    if (!s_z85_key(client_secret))
        return td_client_fail(self, TD_CLIENT_EINVAL,
                              "the client secret key is not a z85 CURVE key (40 characters)");
    struct td_conn_curve *cv = self->curve ? self->curve : calloc(1, sizeof *cv);
    if (!cv)
        return td_client_fail(self, TD_CLIENT_ESYS, "out of memory");
    self->curve = cv;
    memcpy(cv->server, server_key, 41);
    memcpy(cv->secret, client_secret, 41);
    if (zmq_curve_public(cv->public_, cv->secret) != 0)
        return td_client_fail(self, TD_CLIENT_EINVAL, "cannot derive the client public key: %s",
                              zmq_strerror(errno));
    /* sockets opened before were plaintext: the next call reopens them */
    void **socks[] = {&self->submit_sock, &self->query_sock, &self->feed_sock, &self->sub_sock};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        if (*socks[i]) {
            zmq_close(*socks[i]);
            *socks[i] = NULL;
        }
    return TD_CLIENT_OK;
}

int td_client_set_curve_files(td_client *self, const char *server_key_file,
                              const char *client_key_file)
{
    char server[41], secret[41], err[160];
    if (!server_key_file || td_key_read(server_key_file, TD_KEY_PUBLIC, server, err, sizeof err))
        return td_client_fail(self, TD_CLIENT_EINVAL, "cannot read the server key %s: %s",
                              server_key_file ? server_key_file : "(none)",
                              server_key_file ? err : "no file given");
    if (!client_key_file || td_key_read(client_key_file, TD_KEY_SECRET, secret, err, sizeof err))
        return td_client_fail(self, TD_CLIENT_EINVAL, "cannot read the client key %s: %s",
                              client_key_file ? client_key_file : "(none)",
                              client_key_file ? err : "no file given");
    int rc = td_client_set_curve(self, server, secret);
    memset(secret, 0, sizeof secret);
    return rc;
}

const char *td_client_errmsg(const td_client *self)
{
    return self && self->errmsg[0] ? self->errmsg : "no error";
}

const char *td_client_endpoint(const td_client *self, const char *which)
{
    for (int i = 0; i < TD_EP_COUNT; i++)
        if (which && strcmp(which, s_names[i]) == 0)
            return self->endpoint[i];
    return NULL;
}

int td_client_fail(td_client *self, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->errmsg, sizeof self->errmsg, fmt, ap);
    va_end(ap);
    return err;
}

td_client_query td_client_query_init(const char *op)
{
    td_client_query q;
    memset(&q, 0, sizeof q);
    q.op = op;
    q.since = TD_CLIENT_TIME_NONE;
    q.until = TD_CLIENT_TIME_NONE;
    return q;
}
