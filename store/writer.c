/* writer.c — batches, idempotent keys and the write transaction; see writer.h. */
#include "writer.h"

#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "daemon.h"
#include "index.h"
#include "indexer.h"
#include "keys.h"
#include "log.h"
#include "notices.h"

#define BATCH_ARENA ((size_t)1 << 30)  /* decoded frames of one batch */
#define ID_ATTEMPTS 8                  /* derived ids tried on a collision */

typedef struct {
    unsigned char env[TD_WRITER_ENVELOPE];
    size_t env_len;
    td_store_msg msg;      /* decoded frame (batch arena) */
    td_reject bad;         /* the reject record of a frame that did not decode */
    bool decoded;
    int64_t at;            /* arrival, ms */
    size_t len;            /* frame bytes */
    td_ack ack;            /* outcome of the current attempt (work arena) */
    bool has_ack;
} s_item;

struct td_writer {
    td_db *db;
    td_assign *assign;
    td_notices *notices;
    td_index *index;       /* search index: doc records and retired docnos
                            * (postings too while recovering) */
    td_indexer *indexer;   /* gathers and writes the postings of committed
                            * articles */
    td_terms *terms;       /* the current article's tokens (clustering + index) */
    td_arena *batch;       /* lives for one batch */
    td_arena *work;        /* lives for one transaction attempt */
    s_item *items;
    size_t n, cap, bytes;
    td_writer_totals totals, attempt;
    size_t hold_bytes;     /* held postings: no new articles past twice this */
    bool more;             /* td_writer_commit's: further input is waiting */
};

td_writer *td_writer_new(td_db *db)
{
    td_writer *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    self->hold_bytes = TD_INDEXER_HOLD_BYTES;
    self->assign = td_assign_new();
    self->notices = td_notices_new();
    self->index = td_index_new();
    self->indexer = td_indexer_new(db);
    self->terms = td_terms_new();
    self->batch = td_arena_new(BATCH_ARENA);
    self->work = td_arena_new(BATCH_ARENA);
    if (!self->assign || !self->notices || !self->index || !self->indexer || !self->terms ||
        !self->batch || !self->work)
        td_writer_destroy(&self);
    return self;
}

void td_writer_destroy(td_writer **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_writer *self = *self_p;
    td_assign_destroy(&self->assign);
    td_notices_destroy(&self->notices);
    td_index_destroy(&self->index);
    td_indexer_destroy(&self->indexer);
    td_terms_destroy(&self->terms);
    td_arena_destroy(&self->batch);
    td_arena_destroy(&self->work);
    free(self->items);
    free(self);
    *self_p = NULL;
}

size_t td_writer_count(const td_writer *self)
{
    return self->n;
}

size_t td_writer_bytes(const td_writer *self)
{
    return self->bytes;
}

void td_writer_totals_get(const td_writer *self, td_writer_totals *out)
{
    *out = self->totals;
}

int td_writer_add(td_writer *self, const void *env, size_t env_len, const void *frame,
                  size_t len, int64_t now)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 256;
        s_item *items = realloc(self->items, cap * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->cap = cap;
    }
    s_item *it = &self->items[self->n];
    memset(it, 0, sizeof *it);
    it->env_len = env_len < sizeof it->env ? env_len : sizeof it->env;
    if (it->env_len)
        memcpy(it->env, env, it->env_len);
    it->at = now;
    it->len = len;

    td_error err = {0};
    if (td_store_msg_decode(frame, len, self->batch, &it->msg, &err) == 0 &&
        (it->msg.article != NULL) != (it->msg.reject != NULL)) {
        it->decoded = true;
    } else {
        /* kept as a reject, never dropped: an operator sees it in
         * rejects.list and can tell which worker is sending garbage */
        if (!err.message[0])
            snprintf(err.message, sizeof err.message, "neither an article nor a reject");
        it->bad.at = now;
        it->bad.code = err.code && strcmp(err.code, TD_E_TOO_LARGE) == 0 ? TD_E_TOO_LARGE
                                                                         : TD_E_BAD_REQUEST;
        it->bad.message = td_arena_printf(self->batch, "store link: %s", err.message);
        size_t nb = len < TD_REJECT_BYTES ? len : TD_REJECT_BYTES;
        unsigned char *b = td_arena_alloc(self->batch, nb ? nb : 1);
        if (!it->bad.message || !b)
            return -1;
        if (nb)
            memcpy(b, frame, nb);
        it->bad.bytes = b;
        it->bad.n_bytes = nb;
        it->msg.token = 0;
        td_warn("undecodable frame on the store link (%zu bytes): %s", len, err.message);
    }
    self->n++;
    self->bytes += len;
    return 0;
}

static void s_ack_error(s_item *it, const char *code, char *message)
{
    it->ack = (td_ack){.token = it->msg.token, .ok = false, .code = code, .message = message};
    it->has_ack = it->msg.token != 0;
}

static td_db_rc s_reject(td_writer *self, td_txn *txn, s_item *it, const td_reject *r)
{
    uint64_t seq = 0;
    td_db_rc rc = td_db_reject_add(txn, r, &seq);
    if (rc == TD_DB_BADVAL) {
        td_warn("reject record does not pack: dropped");
        s_ack_error(it, TD_E_INTERNAL, "reject record could not be stored");
        return TD_DB_OK;
    }
    if (rc)
        return rc;
    const char *code = r->code ? r->code : TD_E_BAD_REQUEST;
    td_txn_counter_add(txn,
                       strcmp(code, TD_E_BAD_REQUEST) == 0 ? TD_CTR_REJ_BAD_REQUEST
                       : strcmp(code, TD_E_TOO_LARGE) == 0 ? TD_CTR_REJ_TOO_LARGE
                                                             : TD_CTR_REJ_OTHER,
                       1);
    char *id = td_arena_printf(self->work, "r%llu", (unsigned long long)seq);
    if (!id || td_notices_add(self->notices, txn, TD_TOPIC_ARTICLE_REJECTED, id, NULL, NULL,
                              NULL, r->at) != 0)
        return TD_DB_ERROR;
    self->attempt.rejected++;
    s_ack_error(it, r->code ? r->code : TD_E_BAD_REQUEST, r->message);
    return TD_DB_OK;
}

static void s_ack_ok(s_item *it, const td_article *a, const char *status)
{
    it->ack = (td_ack){.token = it->msg.token, .ok = true, .id = a->id,
                       .status = (char *)status, .event = a->event,
                       .duplicate_of = a->duplicate_of};
    it->has_ack = it->msg.token != 0;
}

/* Pick an id for a new article that no other key already owns. */
static td_db_rc s_new_id(td_writer *self, td_txn *txn, td_article *a, const char *key)
{
    for (unsigned attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
        char *id = td_key_article_id(a, key, attempt, self->work);
        if (!id)
            return TD_DB_ERROR;
        td_db_rc rc = td_db_article_get(txn, id, NULL);
        if (rc == TD_DB_NOTFOUND) {
            a->id = id;
            return TD_DB_OK;
        }
        if (rc != TD_DB_OK)
            return rc;
    }
    return TD_DB_BADVAL;
}

/* The postings of `doc` go to the indexer's thread once the transaction
 * commits: the tokens' wire form as it came, or as exported from what
 * the store built itself. */
static int s_hand_over(td_writer *self, uint32_t doc, const td_article *a,
                       const td_terms_wire *wire)
{
    td_terms_wire own;
    if (!wire) {
        if (td_terms_export(self->terms, self->work, &own) != 0)
            return -1;
        wire = &own;
    }
    return td_indexer_add(self->indexer, doc, a, wire);
}

static td_db_rc s_article(td_writer *self, td_txn *txn, s_item *it)
{
    td_article a = *it->msg.article;   /* the decoded frame stays intact for a redo */
    td_arena *arena = self->work;
    char *key = td_key_of(&a, arena);
    if (!key || !a.body || !*a.body) {
        /* ingest validates submissions, so this is a worker bug: keep it
         * visible in rejects.list rather than dropping it */
        td_reject r = {.at = it->at, .code = TD_E_BAD_REQUEST,
                       .message = "store link: article without a body"};
        return s_reject(self, txn, it, &r);
    }
    uint64_t hash = td_key_content_hash(&a);
    uint64_t old_hash = 0;
    char *old_id = NULL;
    td_article old;
    bool have_old = false;

    td_db_rc rc = td_db_key_get(txn, key, arena, &old_hash, &old_id);
    if (rc == TD_DB_OK) {
        td_val raw;
        td_error err;
        rc = td_db_article_get(txn, old_id, &raw);
        if (rc == TD_DB_OK && td_article_decode(raw.data, raw.len, arena, &old, &err) == 0) {
            have_old = true;
        } else if (rc == TD_DB_OK || rc == TD_DB_NOTFOUND) {
            td_warn("key %s points to %s article %s: storing it again", key,
                    rc == TD_DB_OK ? "an undecodable" : "a missing", old_id);
        } else {
            return rc;
        }
    } else if (rc != TD_DB_NOTFOUND) {
        return rc;
    }

    a.ingested_at = it->at;
    a.content_hash = td_key_body_hash(a.body);
    const char *status;
    if (have_old && old_hash == hash) {
        self->attempt.unchanged++;
        td_txn_counter_add(txn, TD_CTR_UNCHANGED, 1);
        if (it->msg.token)
            td_txn_counter_add(txn, TD_CTR_RETRIES, 1);
        s_ack_ok(it, &old, "unchanged");
        return TD_DB_OK;
    }
    /* tokens and fingerprint, for clustering, provenance and the index: as
     * the ingest worker computed them, or computed here once */
    const td_terms_wire *wire = it->msg.terms;
    if (!wire || td_terms_load(self->terms, wire) != 0) {
        wire = NULL;
        if (td_terms_build(self->terms, a.title, a.body, a.lang) != 0)
            return TD_DB_ERROR;
    }
    if (have_old) {
        /* a new version: same id, same event; the old record is replaced */
        a.id = old.id;
        a.duplicate_of = old.duplicate_of;
        a.derived_id = old.derived_id;
        a.derived_kind = old.derived_kind;
        a.assignment = old.assignment;
        a.n_assignment = old.n_assignment;
        if (a.published_at == TD_TIME_NONE)
            a.published_at = old.published_at;
        rc = td_assign_update(self->assign, txn, arena, &old, &a, self->terms, self->notices);
        status = "updated";
        self->attempt.updated++;
        td_txn_counter_add(txn, TD_CTR_UPDATED, 1);
    } else {
        if (old_id) {
            a.id = old_id;
        } else if ((rc = s_new_id(self, txn, &a, key)) != TD_DB_OK) {
            if (rc != TD_DB_BADVAL)
                return rc;
            td_warn("no free article id for key %s: not stored", key);
            s_ack_error(it, TD_E_INTERNAL, "no free article id");
            return TD_DB_OK;
        }
        if (a.published_at == TD_TIME_NONE)
            a.published_at = a.ingested_at;
        rc = td_assign_article(self->assign, txn, arena, &a, self->terms, self->notices);
        status = "stored";
        self->attempt.stored++;
        if (rc == TD_DB_OK) {
            td_txn_counter_add(txn, TD_CTR_ARTICLES, 1);
            td_txn_counter_add(txn, TD_CTR_STORED, 1);
        }
    }
    if (rc)
        return rc;
    uint32_t doc;
    if ((rc = td_db_article_put(txn, &a)) != TD_DB_OK ||
        (rc = td_db_key_put(txn, key, hash, a.id)) != TD_DB_OK ||
        (rc = td_index_add_doc(self->index, txn, &a, self->terms, &doc)) != TD_DB_OK)
        return rc;
    if (doc && s_hand_over(self, doc, &a, wire) != 0)
        return TD_DB_ERROR;
    if (td_notices_add(self->notices, txn, TD_TOPIC_ARTICLE_STORED, a.id, a.event, a.story,
                       a.title, a.ingested_at) != 0 ||
        td_notices_article_topics(self->notices, txn, &a) != 0)
        return TD_DB_ERROR;
    s_ack_ok(it, &a, status);
    return TD_DB_OK;
}

void td_writer_hold_index(td_writer *self, size_t docs, int64_t ms, size_t bytes)
{
    self->hold_bytes = bytes ? bytes : TD_INDEXER_HOLD_BYTES;
    td_indexer_hold(self->indexer, docs, ms, self->hold_bytes);
}

size_t td_writer_index_held(const td_writer *self)
{
    return td_index_held(self->index) + td_indexer_held(self->indexer);
}

static size_t s_index_bytes(const td_writer *self)
{
    return td_index_bytes(self->index) + td_indexer_bytes(self->indexer);
}

/* The body of the write transaction; replayable (see td_db_write). */
static td_db_rc s_apply(td_txn *txn, void *arg)
{
    td_writer *self = arg;
    td_arena_reset(self->work);
    td_notices_reset(self->notices);
    td_assign_begin(self->assign);
    td_index_begin(self->index);
    td_indexer_begin(self->indexer);
    memset(&self->attempt, 0, sizeof self->attempt);
    for (size_t i = 0; i < self->n; i++) {
        s_item *it = &self->items[i];
        it->has_ack = false;
        td_db_rc rc;
        if (!it->decoded)
            rc = s_reject(self, txn, it, &it->bad);
        else if (it->msg.reject)
            rc = s_reject(self, txn, it, it->msg.reject);
        else
            rc = s_article(self, txn, it);
        if (rc != TD_DB_OK)
            return rc;
    }
    /* an idle store brings the entity tables up to date at once; one
     * that is behind logs their changes (entity_tally.h) */
    return td_assign_flush(self->assign, txn, !self->more);
}

/* The held postings in docno order: what a recovery at start could not
 * write, then everything handed to the indexer's thread; each in
 * transactions of their own (td_index_flush_db). */
td_db_rc td_writer_flush_index(td_writer *self)
{
    td_db_rc rc = td_index_flush_db(self->index, self->db);
    return rc ? rc : td_indexer_sync(self->indexer);
}

static td_db_rc s_apply_upgrade(td_txn *txn, void *arg)
{
    return td_index_upgrade(txn, arg);
}

#define RECOVER_SLICE 20000   /* documents re-indexed per flush at most */

td_db_rc td_writer_recover(td_writer *self)
{
    bool upgraded = false;
    td_txn *probe;
    td_db_rc rc = td_db_read_begin(self->db, &probe);
    if (rc != TD_DB_OK)
        return rc;
    bool old = td_index_old_layout(probe);
    /* entity changes a store stopped while behind left in their log */
    rc = td_assign_entities_load(self->assign, probe);
    td_txn_end(&probe);
    if (rc != TD_DB_OK)
        return rc;
    if (old && (rc = td_db_write(self->db, s_apply_upgrade, &upgraded)) != TD_DB_OK)
        return rc;
    if (upgraded)
        td_warn("search index: older layout; rebuilding it from the stored articles (search "
                "finds them as they are re-indexed)");
    size_t total = 0;
    for (;;) {
        td_txn *txn;
        if ((rc = td_db_read_begin(self->db, &txn)) != TD_DB_OK)
            return rc;
        uint64_t left = td_txn_counter(txn, TD_CTR_DOC_UNINDEXED);
        if (!left) {
            td_txn_end(&txn);
            break;   /* the usual case: nothing to write */
        }
        td_index_reset(self->index);
        size_t n = 0;
        /* in slices, so that rebuilding a whole index holds what one flush
         * holds, not the archive */
        rc = td_index_recover(self->index, txn, self->work, RECOVER_SLICE, self->hold_bytes, &n);
        td_txn_end(&txn);
        td_arena_reset(self->work);
        if (rc != TD_DB_OK) {
            td_index_reset(self->index);
            return rc;
        }
        td_index_committed(self->index);   /* gathered: held, as if just committed */
        total += n;
        /* a part already on disk is skipped term by term; the last part
         * lowers the counter. What fails stays held and is retried while
         * serving. */
        if ((rc = td_index_flush_db(self->index, self->db)) != TD_DB_OK)
            return rc;
        if (upgraded)
            td_info("search index: %zu article(s) re-indexed, %llu docno(s) to go", total,
                    (unsigned long long)(left > n ? left - n : 0));
        if (!n)
            break;   /* the docnos left are all retired versions: nothing to
                      * index (the counter stays, and is skipped again) */
    }
    if (total && !upgraded)
        td_warn("search index: %zu article(s) stored before the last stop had no postings "
                "on disk; re-indexed from their stored text",
                total);
    return TD_DB_OK;
}

static void s_reset(td_writer *self)
{
    self->n = 0;
    self->bytes = 0;
    td_arena_reset(self->batch);
    td_arena_reset(self->work);
    td_notices_reset(self->notices);
}

/* Held postings past twice their budget (their flushes failed): write
 * them before taking more articles; if that fails too, the batch waits
 * like one of a full disk (acked submits are refused, feed messages kept,
 * the server stops reading), so held memory stays bounded. */
static td_db_rc s_backlog(td_writer *self, const td_writer_sink *sink)
{
    if (s_index_bytes(self) < 2 * self->hold_bytes)
        return TD_DB_OK;
    td_db_rc rc = td_writer_flush_index(self);
    if (rc == TD_DB_OK)
        return rc;
    td_warn("search index: %zu MiB of postings held and their flush fails (%s): no new "
            "articles until it succeeds",
            s_index_bytes(self) >> 20, td_db_strerror(rc));
    td_writer_refuse(self, sink, TD_E_UNAVAILABLE, "search index backlog; retry later");
    return rc == TD_DB_NOSPACE ? rc : TD_DB_FULL;
}

td_db_rc td_writer_commit(td_writer *self, const td_writer_sink *sink, bool more)
{
    if (self->n == 0)
        return TD_DB_OK;
    td_db_rc rc = s_backlog(self, sink);
    if (rc != TD_DB_OK)
        return rc;
    self->more = more;
    rc = td_db_write(self->db, s_apply, self);
    if (rc == TD_DB_OK) {
        td_assign_committed(self->assign);
        td_index_committed(self->index);
        td_indexer_commit(self->indexer);
        self->totals.stored += self->attempt.stored;
        self->totals.updated += self->attempt.updated;
        self->totals.unchanged += self->attempt.unchanged;
        self->totals.rejected += self->attempt.rejected;
        self->totals.commits++;
        /* before the acknowledgements: an idle store's articles are found
         * by search once acknowledged (its postings are not held); one
         * that is behind (`more` input waiting) leaves the indexer's
         * thread to write them as it holds enough (td_indexer_hold) */
        td_db_rc frc = more ? TD_DB_OK : td_writer_flush_index(self);
        if (frc != TD_DB_OK)
            td_warn("search index: postings of %zu article(s) not written yet (%s); they "
                    "stay held and are written by the next flush",
                    td_writer_index_held(self), td_db_strerror(frc));
        /* only now, with the transaction durable, may anyone hear of it */
        for (size_t i = 0; sink && sink->ack && i < self->n; i++)
            if (self->items[i].has_ack)
                sink->ack(sink->ctx, self->items[i].env, self->items[i].env_len,
                          &self->items[i].ack);
        for (size_t i = 0; sink && sink->notice && i < td_notices_count(self->notices); i++)
            sink->notice(sink->ctx, td_notices_at(self->notices, i));
    } else {
        td_assign_aborted(self->assign);
        self->totals.failed += self->n;
        if (rc == TD_DB_NOSPACE || rc == TD_DB_FULL) {
            /* storage is full, not broken: acked submits learn it now and
             * their producers retry; feed messages (no one to tell) stay in
             * the batch for the next attempt, and the server stops reading
             * while they wait (back-pressure) */
            td_writer_refuse(self, sink, TD_E_UNAVAILABLE, "storage full; retry later");
            td_arena_reset(self->work);
            td_notices_reset(self->notices);
            return rc;
        }
        size_t lost = 0;
        for (size_t i = 0; i < self->n; i++) {
            s_item *it = &self->items[i];
            if (!it->msg.token) {
                lost++;
                continue;
            }
            td_ack ack = {.token = it->msg.token, .ok = false, .code = TD_E_INTERNAL,
                          .message = (char *)td_db_strerror(rc)};
            if (sink && sink->ack)
                sink->ack(sink->ctx, it->env, it->env_len, &ack);
        }
        td_error("batch of %zu message(s) not committed: %s (%zu without acknowledgement "
                 "lost)",
                 self->n, td_db_strerror(rc), lost);
    }
    s_reset(self);
    return rc;
}

bool td_writer_entities_waiting(const td_writer *self)
{
    return td_assign_entities_waiting(self->assign);
}

static td_db_rc s_apply_settle(td_txn *txn, void *arg)
{
    td_writer *self = arg;
    td_assign_begin(self->assign);
    return td_assign_flush(self->assign, txn, true);
}

td_db_rc td_writer_settle(td_writer *self)
{
    if (self->n || !td_writer_entities_waiting(self))
        return TD_DB_OK;
    td_db_rc rc = td_db_write(self->db, s_apply_settle, self);
    if (rc == TD_DB_OK)
        td_assign_committed(self->assign);
    else
        td_assign_aborted(self->assign);
    return rc;
}

size_t td_writer_refuse(td_writer *self, const td_writer_sink *sink, const char *code,
                        const char *message)
{
    size_t kept = 0, refused = 0, bytes = 0;
    for (size_t i = 0; i < self->n; i++) {
        s_item *it = &self->items[i];
        if (it->msg.token) {
            td_ack ack = {.token = it->msg.token, .ok = false, .code = code,
                          .message = (char *)message};
            if (sink && sink->ack)
                sink->ack(sink->ctx, it->env, it->env_len, &ack);
            refused++;
            continue;
        }
        if (kept != i)
            self->items[kept] = *it;   /* decoded data stays in the batch arena */
        bytes += it->len;
        kept++;
    }
    self->n = kept;
    self->bytes = bytes;
    if (!kept)
        s_reset(self);
    return refused;
}
