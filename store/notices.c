/* notices.c — see notices.h. */
#include "notices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "daemon.h"
#include "log.h"

struct td_notices {
    td_arena *arena;
    td_notice *items;
    size_t n, cap;
};

td_notices *td_notices_new(void)
{
    td_notices *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (!(self->arena = td_arena_new(0))) {
        free(self);
        return NULL;
    }
    return self;
}

void td_notices_destroy(td_notices **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_arena_destroy(&(*self_p)->arena);
    free((*self_p)->items);
    free(*self_p);
    *self_p = NULL;
}

void td_notices_reset(td_notices *self)
{
    self->n = 0;
    td_arena_reset(self->arena);
}

int td_notices_add(td_notices *self, td_txn *txn, const char *type, const char *id,
                   const char *event, const char *story, const char *title, int64_t at)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        td_notice *items = realloc(self->items, cap * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->cap = cap;
    }
    td_notice *n = &self->items[self->n];
    memset(n, 0, sizeof *n);
    n->type = td_arena_strdup(self->arena, type);
    n->id = td_arena_strdup(self->arena, id);
    n->event = td_arena_strdup(self->arena, event);
    n->story = td_arena_strdup(self->arena, story);
    n->title = td_arena_strdup(self->arena, title);
    if (!n->type || (id && !n->id) || (event && !n->event) || (story && !n->story) ||
        (title && !n->title))
        return -1;
    n->at = at;
    n->seq = td_txn_counter_add(txn, TD_CTR_SEQ, 1);
    self->n++;
    return 0;
}

size_t td_notices_count(const td_notices *self)
{
    return self->n;
}

const td_notice *td_notices_at(const td_notices *self, size_t i)
{
    return i < self->n ? &self->items[i] : NULL;
}

int td_notice_publish(void *pub, const td_notice *n)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = -1;
    if (td_notice_pack(&pk, n) == 0) {
        const void *data[2] = {n->type, sb.data};
        size_t len[2] = {strlen(n->type), sb.size};
        rc = td_sock_sendv(pub, data, len, 2, ZMQ_DONTWAIT);
        if (rc != 0 && errno != EAGAIN)
            td_warn("cannot publish %s: %s", n->type, zmq_strerror(errno));
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}
