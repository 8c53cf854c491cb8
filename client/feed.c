/* feed.c — fire-and-forget submission (PUSH to 7401). */
#include <errno.h>

#include "conn.h"

int td_client_feed(td_client *self, const td_client_article *article)
{
    int rc = td_client_pack_article(self, article);
    if (rc != TD_CLIENT_OK)
        return rc;
    if (!self->feed_sock) {
        /* linger = timeout: on destroy, queued articles get that long to leave */
        self->feed_sock = td_conn_open(self, ZMQ_PUSH, self->endpoint[TD_EP_FEED],
                                       self->timeout_ms);
        if (!self->feed_sock)
            return TD_CLIENT_ESYS;
    }
    for (;;) {
        if (zmq_send(self->feed_sock, self->sbuf.data, self->sbuf.size, 0) >= 0)
            return TD_CLIENT_OK;
        if (errno == EINTR) {
            if (self->stop && *self->stop)
                return td_client_fail(self, TD_CLIENT_EINTR, "interrupted");
            continue;
        }
        if (errno == EAGAIN)
            return td_client_fail(self, TD_CLIENT_ETIMEOUT,
                                  "%s accepted nothing for %d ms — is tidings-ingest running?",
                                  self->endpoint[TD_EP_FEED], self->timeout_ms);
        return td_client_fail(self, TD_CLIENT_ESYS, "cannot send to %s: %s",
                              self->endpoint[TD_EP_FEED], zmq_strerror(errno));
    }
}
