/* submit.c — acknowledged submission of one article (7402), and the packing
 * and ack decoding the pipeline shares. */
#include <errno.h>
#include <string.h>

#include "conn.h"

int td_client_pack_article(td_client *self, const td_client_article *a)
{
    if (!a || !a->body || !*a->body)
        return td_client_fail(self, TD_CLIENT_EINVAL, "an article needs a non-empty body");
    td_article art;
    memset(&art, 0, sizeof art);
    /* the codec's record has non-const members; it only reads them here */
    art.id = (char *)a->id;
    art.url = (char *)a->url;
    art.source = (char *)a->source;
    art.title = (char *)a->title;
    art.body = (char *)a->body;
    art.published_at = a->published_at;
    art.lang = (char *)a->lang;
    art.ingested_at = TD_TIME_NONE;
    td_arena_reset(self->arena);
    if (a->n_meta) {
        art.meta = td_arena_alloc(self->arena, a->n_meta * sizeof *art.meta);
        if (!art.meta)
            return td_client_fail(self, TD_CLIENT_ESYS, "out of memory");
        for (size_t i = 0; i < a->n_meta; i++) {
            art.meta[i].key = (char *)a->meta[i].key;
            art.meta[i].value = (char *)a->meta[i].value;
        }
        art.n_meta = a->n_meta;
    }
    msgpack_sbuffer_clear(&self->sbuf);
    if (td_submission_pack(&self->pk, &art) != 0)
        return td_client_fail(self, TD_CLIENT_ESYS, "out of memory packing an article");
    return TD_CLIENT_OK;
}

int td_client_decode_ack(td_client *self, const void *buf, size_t len, td_client_ack *ack)
{
    td_ack a;
    td_error err;
    memset(&a, 0, sizeof a);
    td_arena_reset(self->arena);
    if (td_ack_decode(buf, len, self->arena, &a, &err) != 0)
        return td_client_fail(self, TD_CLIENT_EPROTO, "unreadable acknowledgement from %s: %s",
                              self->endpoint[TD_EP_SUBMIT], err.message);
    memset(ack, 0, sizeof *ack);
    ack->ok = a.ok;
    ack->id = a.id;
    ack->status = a.status;
    ack->event = a.event;
    ack->duplicate_of = a.duplicate_of;
    ack->code = a.code;
    ack->message = a.message;
    return TD_CLIENT_OK;
}

bool td_client_ack_retryable(const td_client_ack *ack)
{
    return !ack->ok && ack->code && strcmp(ack->code, TD_E_UNAVAILABLE) == 0;
}

int td_client_backoff_ms(int attempt)
{
    int ms = 100;
    for (int i = 1; i < attempt && ms < 2000; i++)
        ms *= 2;
    return ms < 2000 ? ms : 2000;
}

int td_client_submit(td_client *self, const td_client_article *article, td_client_ack *ack)
{
    if (!ack)
        return td_client_fail(self, TD_CLIENT_EINVAL, "no place for the acknowledgement");
    int rc = td_client_pack_article(self, article);
    if (rc != TD_CLIENT_OK)
        return rc;
    /* "unavailable" means the store is down or overloaded and nothing was
     * stored: back off and send the same article again */
    for (int attempt = 1;; attempt++) {
        rc = td_conn_exchange(self, &self->submit_sock, TD_EP_SUBMIT, self->sbuf.data,
                              self->sbuf.size, "tidings-ingest");
        if (rc != TD_CLIENT_OK)
            return rc;
        rc = td_client_decode_ack(self, zmq_msg_data(&self->reply), zmq_msg_size(&self->reply),
                                  ack);
        if (rc != TD_CLIENT_OK || !td_client_ack_retryable(ack) || attempt > self->retries)
            return rc;
        rc = td_conn_sleep(self, td_client_backoff_ms(attempt));
        if (rc != TD_CLIENT_OK)
            return rc;
    }
}
