/* ask.c — queries (REQ/DEALER to 7404) and their reply envelopes. */
#include <string.h>

#include "conn.h"

int td_client_ask_raw(td_client *self, const void *request, size_t len, td_client_reply *reply)
{
    if (!request || !len || !reply)
        return td_client_fail(self, TD_CLIENT_EINVAL, "empty request");
    int rc = td_conn_exchange(self, &self->query_sock, TD_EP_QUERY, request, len,
                              "tidings-query");
    if (rc != TD_CLIENT_OK)
        return rc;
    td_reply r;
    td_error err;
    memset(&r, 0, sizeof r);
    td_arena_reset(self->arena);
    if (td_reply_decode(zmq_msg_data(&self->reply), zmq_msg_size(&self->reply), self->arena, &r,
                        &err) != 0)
        return td_client_fail(self, TD_CLIENT_EPROTO, "unreadable reply from %s: %s",
                              self->endpoint[TD_EP_QUERY], err.message);
    memset(reply, 0, sizeof *reply);
    reply->ok = r.ok;
    reply->code = r.code;
    reply->message = r.message;
    reply->result = r.result;
    reply->result_len = r.result_len;
    if (!r.ok)
        td_client_fail(self, TD_CLIENT_OK, "%s: %s", r.code ? r.code : "error",
                       r.message ? r.message : "");
    return TD_CLIENT_OK;
}

int td_client_ask(td_client *self, const td_client_query *query, td_client_reply *reply)
{
    if (!query || !query->op || !*query->op)
        return td_client_fail(self, TD_CLIENT_EINVAL, "a query needs an op");
    td_query q;
    memset(&q, 0, sizeof q);
    /* the codec's record has non-const members; it only reads them here */
    q.op = (char *)query->op;
    q.id = (char *)query->id;
    q.name = (char *)query->name;
    q.q = (char *)query->q;
    q.source = (char *)query->source;
    q.entity = (char *)query->entity;
    q.event = (char *)query->event;
    q.story = (char *)query->story;
    q.cursor = (char *)query->cursor;
    q.lang = (char *)query->lang;
    q.since = query->since;
    q.until = query->until;
    q.limit = query->limit;
    q.after_seq = query->after_seq;
    msgpack_sbuffer_clear(&self->sbuf);
    if (td_query_pack(&self->pk, &q) != 0)
        return td_client_fail(self, TD_CLIENT_ESYS, "out of memory packing a query");
    return td_client_ask_raw(self, self->sbuf.data, self->sbuf.size, reply);
}
