/* prepare.c — see prepare.h. */
#include "prepare.h"

#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "codec.h"
#include "daemon.h"
#include "log.h"
#include "terms.h"

struct td_prepare {
    size_t max_frame;
    td_analyzer *analyzer;
    td_terms *terms;     /* tokens + fingerprint shipped to the store */
    td_arena *arena;
    msgpack_sbuffer buf;
    msgpack_packer pk;
    const char *last_id;
};

td_prepare *td_prepare_new(size_t max_frame, const char *datadir)
{
    td_prepare *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max_frame = max_frame;
    /* the arena may hold a decoded frame plus its analysis: bound it by a
     * multiple of the frame limit, never by what a peer claims */
    self->arena = td_arena_new(max_frame * 8 + (1u << 20));
    self->analyzer = td_analyzer_new(datadir);
    self->terms = td_terms_new();
    msgpack_sbuffer_init(&self->buf);
    msgpack_packer_init(&self->pk, &self->buf, msgpack_sbuffer_write);
    if (!self->arena || !self->analyzer || !self->terms) {
        td_error("cannot set up the analyser");
        td_prepare_destroy(&self);
    }
    return self;
}

void td_prepare_destroy(td_prepare **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_prepare *self = *self_p;
    td_analyzer_destroy(&self->analyzer);
    td_terms_destroy(&self->terms);
    td_arena_destroy(&self->arena);
    msgpack_sbuffer_destroy(&self->buf);
    free(self);
    *self_p = NULL;
}

int td_prepare_article(td_prepare *self, const void *frame, size_t len, uint64_t token,
                       td_error *err)
{
    td_arena_reset(self->arena);
    msgpack_sbuffer_clear(&self->buf);
    self->last_id = NULL;
    td_article a;
    if (td_submission_decode(frame, len, self->max_frame, self->arena, &a, err) < 0)
        return -1;
    self->last_id = a.id;
    /* relative dates resolve against the publication time; when the
     * producer gave none, against now — but the article stays without one
     * so that the store fills in its arrival time and a resubmission keeps
     * the same content hash (unchanged, not updated) */
    bool no_time = a.published_at == TD_TIME_NONE;
    if (no_time)
        a.published_at = td_now_ms();
    if (td_analyzer_run(self->analyzer, &a, self->arena, err) < 0)
        return -1;
    if (no_time)
        a.published_at = TD_TIME_NONE;
    /* tokens and fingerprint are computed here, in parallel workers, so the
     * store's single writer does not; when they cannot be (memory) or would
     * make the message too large for the store link, the store computes
     * them itself */
    td_terms_wire tw;
    td_store_msg m = {.token = token, .article = &a};
    if (td_terms_build(self->terms, a.title, a.body, a.lang) == 0 &&
        td_terms_export(self->terms, self->arena, &tw) == 0)
        m.terms = &tw;
    int rc = td_store_msg_pack(&self->pk, &m);
    if (rc == 0 && m.terms && self->buf.size > 3 * self->max_frame) {
        msgpack_sbuffer_clear(&self->buf);
        m.terms = NULL;
        rc = td_store_msg_pack(&self->pk, &m);
    }
    if (rc < 0) {
        err->code = TD_E_INTERNAL;
        snprintf(err->message, sizeof err->message, "cannot encode the analysed article");
        return -1;
    }
    return 0;
}

int td_prepare_reject(td_prepare *self, const void *frame, size_t len, const td_error *err)
{
    msgpack_sbuffer_clear(&self->buf);
    td_reject r = {.at = td_now_ms(),
                   .code = (char *)(err->code ? err->code : TD_E_BAD_REQUEST),
                   .message = (char *)err->message,
                   .bytes = frame,
                   .n_bytes = len < TD_REJECT_BYTES ? len : TD_REJECT_BYTES};
    td_store_msg m = {.token = 0, .reject = &r};
    return td_store_msg_pack(&self->pk, &m);
}

const void *td_prepare_message(const td_prepare *self, size_t *len)
{
    *len = self->buf.size;
    return self->buf.data;
}

const char *td_prepare_last_id(const td_prepare *self)
{
    return self->last_id;
}
