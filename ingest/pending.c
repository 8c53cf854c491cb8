/* pending.c — see pending.h. Open addressing on the token; tokens increase,
 * so expiry scans a FIFO ring of tokens in arrival order. */
#include "pending.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t token;       /* 0 = free slot */
    int64_t deadline;
    td_envelope env;
} slot;

struct td_pending {
    slot *slots;
    size_t nslots;        /* power of two, >= 2 * capacity */
    size_t capacity, count;
    uint64_t next_token;
    uint64_t *fifo;       /* tokens in arrival order (ring of fifo_cap) */
    size_t fifo_cap, fifo_head, fifo_len;
};

td_pending *td_pending_new(size_t capacity)
{
    td_pending *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = capacity ? capacity : 1;
    self->nslots = 16;
    while (self->nslots < self->capacity * 2)
        self->nslots *= 2;
    self->slots = calloc(self->nslots, sizeof(slot));
    /* twice the capacity: answered tokens linger in the ring until expiry
     * passes them, and compaction (below) then runs at most once per
     * `capacity` additions */
    self->fifo_cap = self->capacity * 2;
    self->fifo = calloc(self->fifo_cap, sizeof(uint64_t));
    /* start from a time-derived token so that acks of a previous run are
     * unlikely to match a fresh entry */
    self->next_token = ((uint64_t)rand() << 20) | 1;
    if (!self->slots || !self->fifo)
        td_pending_destroy(&self);
    return self;
}

void td_pending_destroy(td_pending **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->slots);
    free((*self_p)->fifo);
    free(*self_p);
    *self_p = NULL;
}

static size_t s_find(const td_pending *self, uint64_t token)
{
    size_t mask = self->nslots - 1;
    size_t i = (size_t)(token * 0x9E3779B97F4A7C15ull) & mask;
    while (self->slots[i].token && self->slots[i].token != token)
        i = (i + 1) & mask;
    return i;
}

static void s_remove_at(td_pending *self, size_t i)
{
    /* backward-shift deletion keeps probe chains intact */
    size_t mask = self->nslots - 1;
    self->slots[i].token = 0;
    for (size_t j = (i + 1) & mask; self->slots[j].token; j = (j + 1) & mask) {
        size_t home = (size_t)(self->slots[j].token * 0x9E3779B97F4A7C15ull) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            self->slots[i] = self->slots[j];
            self->slots[j].token = 0;
            i = j;
        }
    }
    self->count--;
}

static bool s_live(const td_pending *self, uint64_t token)
{
    return self->slots[s_find(self, token)].token == token;
}

/* Drop the tokens of entries already answered from the arrival ring. */
static void s_compact(td_pending *self)
{
    size_t w = 0;
    for (size_t i = 0; i < self->fifo_len; i++) {
        uint64_t t = self->fifo[(self->fifo_head + i) % self->fifo_cap];
        if (s_live(self, t))
            self->fifo[(self->fifo_head + w++) % self->fifo_cap] = t;
    }
    self->fifo_len = w;
}

uint64_t td_pending_add(td_pending *self, const td_envelope *env, int64_t deadline_ms)
{
    if (self->count >= self->capacity)
        return 0;
    if (self->fifo_len == self->fifo_cap)
        s_compact(self);
    uint64_t token = self->next_token++;
    if (!token)
        token = self->next_token++;
    size_t i = s_find(self, token);
    self->slots[i].token = token;
    self->slots[i].deadline = deadline_ms;
    self->slots[i].env = *env;
    self->count++;
    self->fifo[(self->fifo_head + self->fifo_len) % self->fifo_cap] = token;
    self->fifo_len++;
    return token;
}

int td_pending_take(td_pending *self, uint64_t token, td_envelope *env)
{
    if (!token)
        return -1;
    size_t i = s_find(self, token);
    if (self->slots[i].token != token)
        return -1;
    *env = self->slots[i].env;
    s_remove_at(self, i);
    return 0;
}

uint64_t td_pending_expire(td_pending *self, int64_t now_ms, td_envelope *env)
{
    while (self->fifo_len) {
        uint64_t t = self->fifo[self->fifo_head];
        size_t i = s_find(self, t);
        if (self->slots[i].token != t) {           /* already answered */
            self->fifo_head = (self->fifo_head + 1) % self->fifo_cap;
            self->fifo_len--;
            continue;
        }
        if (self->slots[i].deadline > now_ms)
            return 0;                              /* deadlines are in order */
        *env = self->slots[i].env;
        s_remove_at(self, i);
        self->fifo_head = (self->fifo_head + 1) % self->fifo_cap;
        self->fifo_len--;
        return t;
    }
    return 0;
}

size_t td_pending_count(const td_pending *self)
{
    return self->count;
}
