/* server.c — tidings-query's loop and op dispatch; see query_server.h.
 *
 * Single-threaded: every request is a short read snapshot of LMDB (MVCC: it
 * never waits for the store). Scale out by running more processes.
 */
#include "query_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "daemon.h"
#include "db.h"
#include "log.h"
#include "ops.h"
#include "search_par.h"

#define MAX_FRAMES 16           /* envelope frames echoed back, plus the request */
#define OPEN_RETRY_MS 500
#define REQUEST_ARENA ((size_t)256 << 20)
/* Clear reader slots of killed query processes (the store does the same):
 * td_db_open checks once, the loop then every READER_CHECK_MS. */
#define READER_CHECK_MS 60000

typedef int (*s_op_fn)(td_qctx *ctx, const td_query *q);

static const struct {
    const char *name;
    s_op_fn fn;
    bool needs_db;
} s_ops[] = {
    {"ping", td_op_ping, false},
    {"stats", td_op_stats, true},
    {"article.get", td_op_article_get, true},
    {"event.get", td_op_event_get, true},
    {"event.list", td_op_event_list_view, true},
    {"story.get", td_op_story_get, true},
    {"entity.get", td_op_entity_view, true},
    {"rejects.list", td_op_rejects_list, true},
    {"search", td_op_search_ranked, true},
    {"similar", td_op_similar, true},
    {"changes.since", td_op_changes_since, true},
};

struct td_query_server {
    td_query_server_opts opts;
    char *data;
    void *ctx, *router;
    td_db *db;
    bool fatal;                 /* the database can never be served */
    int64_t next_open;          /* mono ms of the next open attempt */
    bool told_waiting;
    int64_t started_ms;
    int64_t next_reader_check;  /* mono ms */
    td_arena *arena;
    td_search_par *par;         /* NULL: searches use this thread only */
    msgpack_sbuffer sbuf;
};

/* Open the database if it is not open yet; cheap when it is. The poll loop
 * retries every OPEN_RETRY_MS; a request that needs data tries at once. */
static void s_try_open(td_query_server *self, bool now)
{
    if (self->db || self->fatal || (!now && td_mono_ms() < self->next_open))
        return;
    td_db_opts o = {.dir = self->data, .readonly = true};
    td_db_rc rc;
    self->db = td_db_open(&o, &rc);
    if (self->db) {
        td_info("database %s open (read-only)", self->data);
        self->next_reader_check = td_mono_ms() + READER_CHECK_MS;
        return;
    }
    self->next_open = td_mono_ms() + OPEN_RETRY_MS;
    if (rc == TD_DB_NODB) {
        if (!self->told_waiting)
            td_info("no database in %s yet: waiting for tidings-store (ping works)",
                    self->data);
        self->told_waiting = true;
    } else if (rc == TD_DB_VERSION) {
        self->fatal = true;
    } else {
        td_warn("cannot open the database in %s: %s (retrying)", self->data,
                td_db_strerror(rc));
    }
}

td_query_server *td_query_server_new(const td_query_server_opts *opts)
{
    td_query_server *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    if (!self->opts.max_frame)
        self->opts.max_frame = TD_MAX_FRAME_DEFAULT;
    self->started_ms = td_mono_ms();
    msgpack_sbuffer_init(&self->sbuf);
    self->data = strdup(opts->data ? opts->data : "./tidings-data");
    self->arena = td_arena_new(REQUEST_ARENA);
    if (!self->data || !self->arena)
        goto fail;
    if (self->opts.search_threads != 1)
        self->par = td_search_par_new(self->opts.search_split_df   /* NULL: serial */
                                          ? self->opts.search_split_df
                                          : TD_SEARCH_PAR_MIN_DF);
    if (opts->query) {
        self->ctx = zmq_ctx_new();
        /* frames up to twice the limit arrive and get a too_large reply;
         * beyond that libzmq drops the connection without reading them */
        self->router = self->ctx ? td_sock_bind_secure(self->ctx, ZMQ_ROUTER, opts->query,
                                                       (int64_t)self->opts.max_frame * 2, 0,
                                                       opts->security)
                                 : NULL;
        if (!self->router)
            goto fail;
    }
    s_try_open(self, true);
    return self;
fail:
    td_query_server_destroy(&self);
    return NULL;
}

void td_query_server_destroy(td_query_server **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_query_server *self = *self_p;
    td_sock_close(&self->router);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    td_search_par_destroy(&self->par);   /* it opens snapshots of db */
    td_db_destroy(&self->db);
    td_arena_destroy(&self->arena);
    msgpack_sbuffer_destroy(&self->sbuf);
    free(self->data);
    free(self);
    *self_p = NULL;
}

static void s_error(msgpack_sbuffer *out, const char *code, const char *message)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    td_reply_error_pack(&pk, code, message);
}

int td_query_server_handle(td_query_server *self, const void *frame, size_t len,
                           msgpack_sbuffer *out)
{
    msgpack_sbuffer_clear(out);
    td_arena_reset(self->arena);
    if (len > self->opts.max_frame) {
        s_error(out, TD_E_TOO_LARGE, "request larger than the frame limit");
        return 0;
    }
    td_query q;
    td_error err = {0};
    if (td_query_decode(frame, len, self->arena, &q, &err) != 0) {
        s_error(out, err.code ? err.code : TD_E_BAD_REQUEST, err.message);
        return 0;
    }
    size_t i = 0;
    while (i < sizeof s_ops / sizeof s_ops[0] && strcmp(s_ops[i].name, q.op) != 0)
        i++;
    if (i == sizeof s_ops / sizeof s_ops[0]) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown op '%.64s'", q.op);
        s_error(out, TD_E_BAD_REQUEST, msg);
        return 0;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    td_qctx ctx = {.pk = &pk, .arena = self->arena, .par = self->par,
                   .started_ms = self->started_ms};
    if (s_ops[i].needs_db) {
        s_try_open(self, true);
        if (!self->db) {
            s_error(out, TD_E_UNAVAILABLE,
                    self->fatal ? "the database has an unsupported schema version"
                                : "no database yet: is tidings-store running?");
            return 0;
        }
        td_db_rc rc = td_db_read_begin(self->db, &ctx.txn);
        if (rc) {
            s_error(out, TD_E_INTERNAL, td_db_strerror(rc));
            return 0;
        }
    }
    int rc = s_ops[i].fn(&ctx, &q);   /* packs while the snapshot is open */
    td_txn_end(&ctx.txn);
    if (rc != 0)
        s_error(out, ctx.code ? ctx.code : TD_E_INTERNAL, ctx.message);
    return 0;
}

/* Receive one request (all its frames) and answer it. */
static void s_serve_one(td_query_server *self)
{
    zmq_msg_t frames[MAX_FRAMES];
    size_t n = 0;
    bool more = true, overflow = false;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        int rc;
        do
            rc = zmq_msg_recv(&m, self->router, n == 0 ? ZMQ_DONTWAIT : 0);
        while (rc < 0 && errno == EINTR);
        if (rc < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < MAX_FRAMES) {
            zmq_msg_init(&frames[n]);
            zmq_msg_move(&frames[n++], &m);
        } else {
            overflow = true;
        }
        zmq_msg_close(&m);
    }
    if (n < 2 || overflow) {
        /* [routing id][request] at least; nobody sane sends more frames */
        if (n)
            td_warn("dropped a request of %s frames", overflow ? "too many" : "too few");
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&frames[i]);
        return;
    }
    td_query_server_handle(self, zmq_msg_data(&frames[n - 1]), zmq_msg_size(&frames[n - 1]),
                           &self->sbuf);
    /* echo the envelope (routing id, and the empty delimiter of REQ
     * clients), then the reply */
    const void *data[MAX_FRAMES];
    size_t len[MAX_FRAMES];
    for (size_t i = 0; i + 1 < n; i++) {
        data[i] = zmq_msg_data(&frames[i]);
        len[i] = zmq_msg_size(&frames[i]);
    }
    data[n - 1] = self->sbuf.data;
    len[n - 1] = self->sbuf.size;
    if (td_sock_sendv(self->router, data, len, n, ZMQ_DONTWAIT) != 0 && errno != EHOSTUNREACH)
        td_warn("reply not sent: %s", zmq_strerror(errno));
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

int td_query_server_run(td_query_server *self)
{
    zmq_pollitem_t items[1] = {{self->router, 0, ZMQ_POLLIN, 0}};
    td_info("serving queries on %s", self->opts.query);
    while (!td_daemon_stop && !self->fatal) {
        int rc = zmq_poll(items, 1, self->db ? 1000 : OPEN_RETRY_MS);
        if (rc < 0 && errno != EINTR) {
            td_error("zmq_poll: %s", zmq_strerror(errno));
            return 1;
        }
        if (rc > 0)
            for (int k = 0; k < 256 && (zmq_poll(items, 1, 0) > 0); k++)
                s_serve_one(self);
        s_try_open(self, false);
        if (self->db && td_mono_ms() >= self->next_reader_check) {
            int dead = td_db_reader_check(self->db);
            if (dead > 0)
                td_warn("cleared %d stale reader slot(s) of killed processes", dead);
            self->next_reader_check = td_mono_ms() + READER_CHECK_MS;
        }
    }
    return self->fatal ? 1 : 0;
}
