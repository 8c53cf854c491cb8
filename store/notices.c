/* notices.c — see notices.h. */
#include "notices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "daemon.h"
#include "log.h"

struct td_notices {
    td_arena *arena;
    td_notice *items;
    size_t n, cap;
    msgpack_sbuffer sb;     /* packs `changes` entries */
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
    msgpack_sbuffer_init(&self->sb);
    return self;
}

void td_notices_destroy(td_notices **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_arena_destroy(&(*self_p)->arena);
    msgpack_sbuffer_destroy(&(*self_p)->sb);
    free((*self_p)->items);
    free(*self_p);
    *self_p = NULL;
}

void td_notices_reset(td_notices *self)
{
    self->n = 0;
    td_arena_reset(self->arena);
}

/* Append one notification under `topic` (NULL: its type) and log it. */
static int s_add(td_notices *self, td_txn *txn, const char *topic, const char *type,
                 const char *id, const char *event, const char *story, const char *title,
                 int64_t at)
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
    if (topic && !(n->topic = td_arena_strdup(self->arena, topic)))
        return -1;
    n->at = at;
    n->seq = td_txn_counter_add(txn, TD_CTR_SEQ, 1);
    self->n++;
    /* the log is written in the same transaction, so a subscriber that saw
     * a gap finds exactly what was published (changes.since) */
    msgpack_packer pk;
    msgpack_sbuffer_clear(&self->sb);
    msgpack_packer_init(&pk, &self->sb, msgpack_sbuffer_write);
    if (td_change_pack(&pk, n) != 0 ||
        td_db_change_put(txn, n->seq, self->sb.data, self->sb.size) != TD_DB_OK)
        return -1;
    return 0;
}

int td_notices_add(td_notices *self, td_txn *txn, const char *type, const char *id,
                   const char *event, const char *story, const char *title, int64_t at)
{
    if (s_add(self, txn, NULL, type, id, event, story, title, at) != 0)
        return -1;
    /* only updates are copied: whoever watches an event already knows its
     * id, so it exists; and a creation stays announced exactly once */
    if (id && strcmp(type, TD_TOPIC_EVENT_UPDATED) == 0) {
        char topic[TD_DB_MAX_KEY + 16];
        snprintf(topic, sizeof topic, "event.%s", id);
        return s_add(self, txn, topic, type, id, event, story, title, at);
    }
    return 0;
}

int td_notices_article_topics(td_notices *self, td_txn *txn, const td_article *a)
{
    char topic[TD_DB_ENTITY_KEY + 32];
    size_t done = 0;
    for (size_t i = 0; i < a->n_entities && done < TD_NOTICES_ENTITY_TOPICS; i++) {
        const char *pre = "article.entity.";
        size_t pl = strlen(pre);
        memcpy(topic, pre, pl);
        if (!td_db_entity_norm(a->entities[i].name, topic + pl, sizeof topic - pl))
            continue;
        bool dup = false;   /* two spellings of one name: one copy */
        for (size_t j = 0; j < i && !dup; j++) {
            char other[TD_DB_ENTITY_KEY];
            dup = td_db_entity_norm(a->entities[j].name, other, sizeof other) &&
                  strcmp(other, topic + pl) == 0;
        }
        if (dup)
            continue;
        if (s_add(self, txn, topic, TD_TOPIC_ARTICLE_STORED, a->id, a->event, a->story,
                  a->title, a->ingested_at) != 0)
            return -1;
        done++;
    }
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
        const char *topic = n->topic ? n->topic : n->type;
        const void *data[2] = {topic, sb.data};
        size_t len[2] = {strlen(topic), sb.size};
        rc = td_sock_sendv(pub, data, len, 2, ZMQ_DONTWAIT);
        if (rc != 0 && errno != EAGAIN)
            td_warn("cannot publish %s: %s", n->type, zmq_strerror(errno));
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}
