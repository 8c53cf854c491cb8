/* server.c — the store's poll loop; see store_server.h.
 *
 * One thread: receive what is waiting, commit it as one batch when the batch
 * is full or batch_ms after its first message, then acknowledge and publish.
 * LMDB allows one writer anyway, and the commit's fsync dominates; batching
 * is what spreads that cost over many articles.
 */
#include "store_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "daemon.h"
#include "log.h"
#include "notices.h"
#include "writer.h"

#define READER_CHECK_MS 60000   /* clear reader slots of killed query processes */
/* Messages queued towards the writer: two full batches. More only holds
 * memory (each message carries an analysed article and its terms, ~10-20
 * KiB) without making batches larger; the ingest blocks at its own HWM. */
#define LINK_HWM 2000
#define STALL_RETRY_MS 1000     /* retry interval while storage is full */
#define STALL_LOG_EVERY 60      /* failed retries between two warnings */

struct td_store_server {
    td_db *db;
    td_store_server_opts opts;
    void *ctx, *router, *pub;
    td_writer *writer;
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    int64_t batch_deadline;     /* mono ms at which the open batch commits */
    /* storage full: the batch keeps its feed messages and is retried every
     * STALL_RETRY_MS; acked messages are refused at once (`unavailable`) */
    bool stalled;
    int64_t stall_retry;        /* mono ms of the next attempt */
    uint64_t stall_attempts;
    size_t stall_held;          /* feed messages held at the last attempt */
    int64_t stall_since;
    int64_t flush_retry;        /* mono ms before which a failed index flush waits */
};

td_store_server *td_store_server_new(td_db *db, const td_store_server_opts *opts)
{
    td_store_server *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    self->opts = *opts;
    if (self->opts.batch_max < 1)
        self->opts.batch_max = 1;
    if (self->opts.batch_ms < 0)
        self->opts.batch_ms = 0;
    if (!self->opts.batch_bytes)
        self->opts.batch_bytes = 64u << 20;
    msgpack_sbuffer_init(&self->sbuf);
    msgpack_packer_init(&self->pk, &self->sbuf, msgpack_sbuffer_write);
    self->ctx = zmq_ctx_new();
    if (!self->ctx)
        goto fail;
    /* the link carries analysed articles (bigger than submissions): bound
     * frames generously, but bound them */
    int64_t max_link = (int64_t)(opts->max_frame ? opts->max_frame : TD_MAX_FRAME_DEFAULT) * 4;
    self->router = td_sock_bind(self->ctx, ZMQ_ROUTER, opts->store, max_link, LINK_HWM);
    self->pub = td_sock_bind_secure(self->ctx, ZMQ_PUB, opts->publish, 0, 0, opts->security);
    self->writer = td_writer_new(db);
    if (!self->router || !self->pub || !self->writer)
        goto fail;
    td_writer_hold_index(self->writer, self->opts.index_hold,
                         self->opts.index_hold_ms > 0 ? self->opts.index_hold_ms : 0,
                         self->opts.index_hold_bytes);
    td_db_rc rc = td_writer_recover(self->writer);
    if (rc != TD_DB_OK)
        td_error("search index: re-indexing articles without postings failed (%s); they "
                 "are stored but not searchable until a later start succeeds",
                 td_db_strerror(rc));
    return self;
fail:
    td_store_server_destroy(&self);
    return NULL;
}

void td_store_server_destroy(td_store_server **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_store_server *self = *self_p;
    td_writer_destroy(&self->writer);
    td_sock_close(&self->router);
    td_sock_close(&self->pub);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    msgpack_sbuffer_destroy(&self->sbuf);
    free(self);
    *self_p = NULL;
}

/* Envelope kept with each message: one byte "a REQ delimiter followed the
 * routing id", then the routing id. */
static void s_on_ack(void *ctx, const void *env, size_t env_len, const td_ack *ack)
{
    td_store_server *self = ctx;
    if (env_len < 2)
        return;
    msgpack_sbuffer_clear(&self->sbuf);
    if (td_ack_pack(&self->pk, ack) != 0) {
        td_warn("cannot pack an acknowledgement");
        return;
    }
    const unsigned char *e = env;
    const void *data[3] = {e + 1, "", self->sbuf.data};
    size_t len[3] = {env_len - 1, 0, self->sbuf.size};
    if (!e[0]) {
        data[1] = self->sbuf.data;
        len[1] = self->sbuf.size;
    }
    /* never block the writer on a slow or vanished worker: it retries */
    if (td_sock_sendv(self->router, data, len, e[0] ? 3 : 2, ZMQ_DONTWAIT) != 0)
        td_warn("acknowledgement not sent: %s", zmq_strerror(errno));
}

static void s_on_notice(void *ctx, const td_notice *n)
{
    td_store_server *self = ctx;
    td_notice_publish(self->pub, n);
}

static bool s_storage_full(td_db_rc rc)
{
    return rc == TD_DB_NOSPACE || rc == TD_DB_FULL;
}

/* Commit the batch; `more`: it filled up, further input is waiting. A
 * batch a quarter full also means the store is behind: acked producers
 * wait for their replies, so their batches seldom fill, yet hundreds of
 * submissions arriving within one batch window is a load the store is
 * not keeping up with. */
static void s_commit(td_store_server *self, bool more)
{
    if (!td_writer_count(self->writer))
        return;
    size_t n = td_writer_count(self->writer);
    int64_t t0 = td_mono_us();
    td_writer_sink sink = {.ack = s_on_ack, .notice = s_on_notice, .ctx = self};
    more = more || n >= (size_t)self->opts.batch_max / 4;
    td_db_rc rc = td_writer_commit(self->writer, &sink, more);
    if (rc == TD_DB_OK) {
        td_debug("committed %zu message(s) in %lld us", n, (long long)(td_mono_us() - t0));
        if (self->stalled)
            td_warn("storage writable again after %lld s and %llu failed attempt(s): "
                    "ingestion resumed",
                    (long long)((td_mono_ms() - self->stall_since) / 1000),
                    (unsigned long long)self->stall_attempts);
        self->stalled = false;
        return;
    }
    if (!s_storage_full(rc))
        return;   /* logged by the writer; the batch is gone */
    if (!self->stalled) {
        self->stalled = true;
        self->stall_since = td_mono_ms();
        self->stall_attempts = 0;
    }
    size_t held = td_writer_count(self->writer);
    if (self->stall_attempts++ % STALL_LOG_EVERY == 0)
        td_warn("storage full (%s): nothing committed; acked submits are answered "
                "'unavailable'; %zu feed message(s) held for the next attempt (reading "
                "stops at %d); retrying every %d ms",
                td_db_strerror(rc), held, self->opts.batch_max, STALL_RETRY_MS);
    else if (held != self->stall_held)
        td_info("storage still full: %zu feed message(s) held", held);
    self->stall_held = held;
    self->stall_retry = td_mono_ms() + STALL_RETRY_MS;
}

/* While storage is full: refuse acked messages at once, keep feed ones. */
static void s_refuse_acked(td_store_server *self)
{
    td_writer_sink sink = {.ack = s_on_ack, .ctx = self};
    td_writer_refuse(self->writer, &sink, TD_E_UNAVAILABLE, "storage full; retry later");
}

/* The batch cannot take more (it commits now, or waits while stalled). */
static bool s_batch_full(td_store_server *self)
{
    return td_writer_count(self->writer) >= (size_t)self->opts.batch_max ||
           td_writer_bytes(self->writer) >= self->opts.batch_bytes;
}

/* Receive one multipart message without waiting. Returns 1 when one was
 * added to the batch, 0 when nothing was waiting, -1 on error. */
static int s_recv_one(td_store_server *self)
{
    zmq_msg_t first, part, last;
    zmq_msg_init(&first);
    int rc;
    do
        rc = zmq_msg_recv(&first, self->router, ZMQ_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        zmq_msg_close(&first);
        return errno == EAGAIN ? 0 : -1;
    }
    zmq_msg_init(&last);
    size_t middle = 0, middle_bytes = 0;
    bool have_last = false;
    int more = zmq_msg_more(&first);
    while (more) {
        zmq_msg_init(&part);
        do
            rc = zmq_msg_recv(&part, self->router, 0);
        while (rc < 0 && errno == EINTR);
        if (rc < 0) {
            zmq_msg_close(&part);
            break;
        }
        more = zmq_msg_more(&part);
        if (have_last) {
            middle++;
            middle_bytes += zmq_msg_size(&last);
        }
        zmq_msg_close(&last);
        zmq_msg_init(&last);
        zmq_msg_move(&last, &part);
        zmq_msg_close(&part);
        have_last = true;
    }
    unsigned char env[TD_WRITER_ENVELOPE];
    size_t rid = zmq_msg_size(&first);
    if (rid > sizeof env - 1)
        rid = sizeof env - 1;
    env[0] = middle == 1 && middle_bytes == 0;   /* REQ peers add a delimiter */
    memcpy(env + 1, zmq_msg_data(&first), rid);
    const void *frame = have_last ? zmq_msg_data(&last) : "";
    size_t len = have_last ? zmq_msg_size(&last) : 0;
    if (td_writer_add(self->writer, env, rid + 1, frame, len, td_now_ms()) != 0) {
        /* out of memory for this batch: commit it and try once more */
        s_commit(self, true);
        if (td_writer_add(self->writer, env, rid + 1, frame, len, td_now_ms()) != 0)
            td_error("out of memory: a %zu-byte message was dropped", len);
    }
    zmq_msg_close(&first);
    zmq_msg_close(&last);
    return 1;
}

/* Take everything waiting, committing whenever a batch fills. While
 * storage is full, stop once the batch is full of held feed messages: the
 * link's queues fill, ingest stops reading its feed, producers block. */
static void s_recv_all(td_store_server *self)
{
    while (!(self->stalled && s_batch_full(self))) {
        bool was_empty = td_writer_count(self->writer) == 0;
        int rc = s_recv_one(self);
        if (rc <= 0) {
            if (rc < 0 && errno != ETERM)
                td_warn("receive on the store link: %s", zmq_strerror(errno));
            return;
        }
        if (self->stalled) {
            s_refuse_acked(self);
            continue;
        }
        if (was_empty)
            self->batch_deadline = td_mono_ms() + self->opts.batch_ms;
        if (s_batch_full(self))
            s_commit(self, true);
    }
}

/* Nothing waiting: write the postings held while the store was behind. */
static void s_flush_index(td_store_server *self)
{
    size_t n = td_writer_index_held(self->writer);
    int64_t t0 = td_mono_us();
    td_db_rc rc = td_writer_flush_index(self->writer);
    if (rc == TD_DB_OK) {
        td_debug("search index: postings of %zu article(s) written in %lld us", n,
                 (long long)(td_mono_us() - t0));
        return;
    }
    /* they stay held (and are rebuilt at start should the store stop) */
    td_warn("search index: postings of %zu article(s) not written yet (%s); retrying in "
            "%d ms",
            n, td_db_strerror(rc), STALL_RETRY_MS);
    self->flush_retry = td_mono_ms() + STALL_RETRY_MS;
}

/* Nothing waiting: write the entity changes logged while the store was
 * behind into their tables (entity_tally.h). */
static void s_settle(td_store_server *self)
{
    td_db_rc rc = td_writer_settle(self->writer);
    if (rc == TD_DB_OK)
        return;
    /* they stay in the log, which the next commit reads back */
    td_warn("entities: logged changes not written to their tables yet (%s); retrying in "
            "%d ms",
            td_db_strerror(rc), STALL_RETRY_MS);
    self->flush_retry = td_mono_ms() + STALL_RETRY_MS;
}

int td_store_server_run(td_store_server *self)
{
    zmq_pollitem_t items[1] = {{self->router, 0, ZMQ_POLLIN, 0}};
    int64_t next_check = td_mono_ms() + READER_CHECK_MS;
    td_info("serving: link %s, notifications %s, batches of %d / %d ms", self->opts.store,
            self->opts.publish, self->opts.batch_max, self->opts.batch_ms);
    int status = 0;
    while (!td_daemon_stop) {
        long timeout = 1000;
        if (self->stalled) {
            int64_t left = self->stall_retry - td_mono_ms();
            timeout = left > 0 ? (long)left : 0;
        } else if (td_writer_count(self->writer)) {
            int64_t left = self->batch_deadline - td_mono_ms();
            timeout = left > 0 ? (long)left : 0;
        } else if (td_writer_index_held(self->writer) ||
                   td_writer_entities_waiting(self->writer)) {
            /* quiet for a batch window (their next submissions reach acked
             * producers' batches within it), then the flush */
            int64_t left = self->flush_retry - td_mono_ms();
            timeout = left > self->opts.batch_ms ? (long)left : self->opts.batch_ms;
        }
        /* a stalled store with a full batch reads nothing: back-pressure */
        items[0].events = self->stalled && s_batch_full(self) ? 0 : ZMQ_POLLIN;
        int rc = zmq_poll(items, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            td_error("zmq_poll: %s", zmq_strerror(errno));
            status = 1;
            break;
        }
        if (rc > 0)
            s_recv_all(self);
        if (self->stalled) {
            if (td_mono_ms() >= self->stall_retry) {
                if (td_writer_count(self->writer))
                    s_commit(self, false);
                else
                    self->stalled = false;   /* nothing held: try with the next batch */
            }
        } else if (td_writer_count(self->writer) && td_mono_ms() >= self->batch_deadline) {
            s_commit(self, false);
        } else if (!td_writer_count(self->writer) && rc == 0 &&
                   td_mono_ms() >= self->flush_retry) {
            if (td_writer_index_held(self->writer))
                s_flush_index(self);
            if (td_writer_entities_waiting(self->writer))
                s_settle(self);
        }
        if (td_db_panicked(self->db)) {
            td_error("LMDB declared the environment unusable: exiting so that the "
                     "supervisor restarts the store");
            return 1;
        }
        if (td_mono_ms() >= next_check) {
            int dead = td_db_reader_check(self->db);
            if (dead)
                td_warn("cleared %d stale reader slot(s) of killed processes", dead);
            next_check = td_mono_ms() + READER_CHECK_MS;
        }
    }
    /* drain: whatever has arrived is committed and acknowledged before exit
     * (held feed messages of a full disk get one last attempt; what still
     * fails is counted in the log below) */
    s_recv_all(self);
    s_commit(self, false);
    if (td_writer_index_held(self->writer))
        s_flush_index(self);
    if (td_writer_entities_waiting(self->writer))
        s_settle(self);
    if (td_writer_count(self->writer))
        td_error("storage still full at exit: %zu feed message(s) not stored",
                 td_writer_count(self->writer));
    td_writer_totals t;
    td_writer_totals_get(self->writer, &t);
    td_info("stopping: %llu stored, %llu updated, %llu unchanged, %llu rejected, "
            "%llu failed in %llu commits",
            (unsigned long long)t.stored, (unsigned long long)t.updated,
            (unsigned long long)t.unchanged, (unsigned long long)t.rejected,
            (unsigned long long)t.failed, (unsigned long long)t.commits);
    return status;
}
