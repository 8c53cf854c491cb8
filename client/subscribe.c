/* subscribe.c — live notifications (SUB to 7405). */
#include <errno.h>
#include <string.h>

#include "conn.h"

int td_client_subscribe(td_client *self, const char *const *topics, size_t n)
{
    if (!self->sub_sock) {
        self->sub_sock = td_conn_open(self, ZMQ_SUB, self->endpoint[TD_EP_PUBLISH], 0);
        if (!self->sub_sock)
            return TD_CLIENT_ESYS;
    }
    if (n == 0) {
        if (zmq_setsockopt(self->sub_sock, ZMQ_SUBSCRIBE, "", 0) != 0)
            return td_client_fail(self, TD_CLIENT_ESYS, "subscribe: %s", zmq_strerror(errno));
        return TD_CLIENT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = topics[i] ? topics[i] : "";
        if (zmq_setsockopt(self->sub_sock, ZMQ_SUBSCRIBE, t, strlen(t)) != 0)
            return td_client_fail(self, TD_CLIENT_ESYS, "subscribe to '%s': %s", t,
                                  zmq_strerror(errno));
    }
    return TD_CLIENT_OK;
}

int td_client_notice_recv(td_client *self, int wait_ms, td_client_notice *notice)
{
    if (!self->sub_sock)
        return td_client_fail(self, TD_CLIENT_EINVAL, "not subscribed");
    int rc = td_conn_wait(self, self->sub_sock, wait_ms < 0 ? self->timeout_ms : wait_ms);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return td_client_fail(self, TD_CLIENT_ETIMEOUT, "no notification within %d ms",
                              wait_ms < 0 ? self->timeout_ms : wait_ms);

    /* two frames: the topic, then the map; keep the topic, then the body */
    td_arena_reset(self->arena);
    const char *topic = "";
    zmq_msg_close(&self->reply);
    zmq_msg_init(&self->reply);
    for (int frame = 0;; frame++) {
        int r;
        do
            r = zmq_msg_recv(&self->reply, self->sub_sock, frame ? 0 : ZMQ_DONTWAIT);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return td_client_fail(self, TD_CLIENT_ESYS, "receive: %s", zmq_strerror(errno));
        if (!zmq_msg_more(&self->reply))
            break;
        if (frame == 0) {
            topic = td_arena_strndup(self->arena, zmq_msg_data(&self->reply),
                                     zmq_msg_size(&self->reply));
            if (!topic)
                return td_client_fail(self, TD_CLIENT_ESYS, "out of memory");
        }
        zmq_msg_close(&self->reply);
        zmq_msg_init(&self->reply);
    }

    td_notice n;
    td_error err;
    memset(&n, 0, sizeof n);
    const void *buf = zmq_msg_data(&self->reply);
    size_t len = zmq_msg_size(&self->reply);
    if (td_notice_decode(buf, len, self->arena, &n, &err) != 0)
        return td_client_fail(self, TD_CLIENT_EPROTO, "unreadable notification (topic '%s'): %s",
                              topic, err.message);
    memset(notice, 0, sizeof *notice);
    notice->topic = topic;
    notice->seq = n.seq;
    notice->type = n.type;
    notice->id = n.id;
    notice->event = n.event;
    notice->story = n.story;
    notice->title = n.title;
    notice->at = n.at;
    notice->raw = buf;
    notice->raw_len = len;
    return TD_CLIENT_OK;
}
