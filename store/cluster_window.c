/* cluster_window.c — the in-memory candidate index of streaming event
 * detection: the events active within the story window of the stream
 * clock, each in a slot (its centroid laid out for scoring), postings from
 * term and entity hashes to slots with the hash's weight in the centroid,
 * and a table from event id to slot. cluster.c keeps it in step with the
 * stored event states (td_cluster_index_set, drop); the stream clock
 * evicts events that left the window, and compaction rebuilds the
 * postings without them. Scoring reads it in cluster_index.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "log.h"

#define EVICT_EVERY 512      /* index operations between window sweeps */

void td_cluster_index_clear(td_cluster *self)
{
    for (size_t i = 0; i < self->post_cap; i++)
        free(self->post[i].e);
    free(self->post);
    free(self->byid);
    free(self->slots);
    free(self->meta);
    free(self->wsum);
    self->post = NULL;
    self->byid = NULL;
    self->slots = NULL;
    self->meta = NULL;
    self->wsum = NULL;
    self->post_cap = self->post_used = self->post_total = 0;
    self->byid_cap = self->byid_used = 0;
    self->n_slots = self->cap_slots = self->n_dead = 0;
    self->clock = TD_TIME_NONE;
    self->loaded = false;
    self->gen++;
}

static int s_post_grow(td_cluster *self)
{
    size_t cap = self->post_cap ? self->post_cap * 2 : 4096;
    td_cpost *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < self->post_cap; i++) {
        if (!self->post[i].h)
            continue;
        size_t j = self->post[i].h & (cap - 1);
        while (t[j].h)
            j = (j + 1) & (cap - 1);
        t[j] = self->post[i];
    }
    free(self->post);
    self->post = t;
    self->post_cap = cap;
    return 0;
}

/* Post sum index `ix` (td_cpe) under `h` with weight `w`:
 * the entry's position in the list, -1 when out of memory. A stale entry
 * of the same slot at the end of the list (the hash left the centroid and
 * came back) is used again. */
static int64_t s_post_add(td_cluster *self, uint64_t h, uint32_t ix, float w)
{
    if (2 * (self->post_used + 1) > self->post_cap && s_post_grow(self) != 0)
        return -1;
    size_t j = h & (self->post_cap - 1);
    while (self->post[j].h && self->post[j].h != h)
        j = (j + 1) & (self->post_cap - 1);
    td_cpost *p = &self->post[j];
    if (!p->h) {
        p->h = h;
        self->post_used++;
    }
    if (p->n && p->e[p->n - 1].ix == ix) {
        p->e[p->n - 1].w = w;
        return p->n - 1;
    }
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 4;
        td_cpe *e = realloc(p->e, cap * sizeof *e);
        if (!e)
            return -1;
        p->e = e;
        p->cap = cap;
    }
    p->e[p->n] = (td_cpe){.ix = ix, .w = w};
    self->post_total++;
    return p->n++;
}

/* Post every term and entity of slot `si` (a fresh slot, or all slots
 * after compaction). */
static int s_post_slot(td_cluster *self, uint32_t si)
{
    td_cslot *s = &self->slots[si];
    for (size_t k = 0; k < s->n_terms; k++) {
        int64_t at = s_post_add(self, s->tv[k].h, 2 * si, s->tv[k].w);
        if (at < 0)
            return -1;
        s->tpos[k] = (uint32_t)at;
    }
    for (size_t k = 0; k < s->n_ents; k++) {
        int64_t at = s_post_add(self, s->ev[k].h, 2 * si + 1, s->ev[k].w);
        if (at < 0)
            return -1;
        s->epos[k] = (uint32_t)at;
    }
    return 0;
}

static int s_byid_grow(td_cluster *self)
{
    size_t cap = self->byid_cap ? self->byid_cap * 2 : 1024;
    td_cidx *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < self->byid_cap; i++) {
        if (!self->byid[i].h)
            continue;
        size_t j = self->byid[i].h & (cap - 1);
        while (t[j].h)
            j = (j + 1) & (cap - 1);
        t[j] = self->byid[i];
    }
    free(self->byid);
    self->byid = t;
    self->byid_cap = cap;
    return 0;
}

static td_cidx *s_byid_slot(td_cluster *self, const char *id, bool add)
{
    uint64_t h = td_cluster_hash(id, strlen(id));
    if (add && 2 * (self->byid_used + 1) > self->byid_cap && s_byid_grow(self) != 0)
        return NULL;
    if (!self->byid_cap)
        return NULL;
    size_t j = h & (self->byid_cap - 1);
    while (self->byid[j].h) {
        if (self->byid[j].h == h && strcmp(self->slots[self->byid[j].slot].id, id) == 0)
            return &self->byid[j];
        j = (j + 1) & (self->byid_cap - 1);
    }
    if (!add)
        return NULL;
    self->byid[j].h = h;
    self->byid[j].slot = UINT32_MAX;
    self->byid_used++;
    return &self->byid[j];
}

/* Rebuild postings and the id table from the live slots. */
static int s_compact(td_cluster *self)
{
    size_t w = 0;
    for (size_t i = 0; i < self->n_slots; i++)
        if (self->meta[i].live) {
            if (w != i) {
                self->slots[w] = self->slots[i];
                self->meta[w] = self->meta[i];
            }
            w++;
        }
    self->n_slots = w;
    self->n_dead = 0;
    self->gen++;
    for (size_t i = 0; i < self->post_cap; i++)
        free(self->post[i].e);
    free(self->post);
    free(self->byid);
    self->post = NULL;
    self->byid = NULL;
    self->post_cap = self->post_used = self->post_total = 0;
    self->byid_cap = self->byid_used = 0;
    for (size_t i = 0; i < w; i++) {
        td_cslot *s = &self->slots[i];
        td_cidx *x = s_byid_slot(self, s->id, true);
        if (!x)
            return -1;
        x->slot = (uint32_t)i;
        if (s_post_slot(self, (uint32_t)i) != 0)
            return -1;
    }
    return 0;
}

int64_t td_cluster_index_horizon(const td_cluster *self)
{
    if (self->clock == TD_TIME_NONE)
        return TD_TIME_NONE;
    return self->clock - (int64_t)(self->o.story_window_h * TD_HOUR_MS);
}

static void s_evict(td_cluster *self)
{
    int64_t horizon = td_cluster_index_horizon(self);
    if (horizon == TD_TIME_NONE)
        return;
    for (size_t i = 0; i < self->n_slots; i++) {
        td_cmeta *m = &self->meta[i];
        if (m->live && m->last < horizon) {
            m->live = false;
            self->n_dead++;
        }
    }
    size_t live_terms = (self->n_slots - self->n_dead) * (TD_CLUSTER_TERMS + TD_CLUSTER_ENTS);
    if ((self->n_dead > 1024 && self->n_dead * 2 > self->n_slots) ||
        self->post_total > 4 * live_terms + 65536) {
        if (s_compact(self) != 0) {
            td_warn("candidate index: out of memory while compacting; rebuilding");
            td_cluster_index_clear(self);
        }
    }
}

void td_cluster_index_tick(td_cluster *self, int64_t t)
{
    if (t != TD_TIME_NONE && (self->clock == TD_TIME_NONE || t > self->clock))
        self->clock = t;
    if (++self->ops % EVICT_EVERY == 0)
        s_evict(self);
}

/* The hashes a slot had before a change, each with its index in the old
 * term and entity arrays (entities after the terms). */
#define OLD_MAX (TD_CLUSTER_TERMS + TD_CLUSTER_ENTS)
#define OLD_CAP 512   /* > 2 x OLD_MAX: short probes */
typedef struct {
    uint64_t h[OLD_CAP];
    uint16_t at[OLD_CAP];
    uint64_t oh[OLD_MAX];
    uint32_t pos[OLD_MAX];
    bool kept[OLD_MAX];
    size_t nt, n;
} s_old;

static void s_old_take(s_old *o, const td_cslot *s)
{
    memset(o->h, 0, sizeof o->h);
    memset(o->kept, 0, sizeof o->kept);
    o->nt = s->n_terms;
    o->n = s->n_terms + s->n_ents;
    for (size_t i = 0; i < o->n; i++) {
        bool ent = i >= o->nt;
        o->oh[i] = ent ? s->ev[i - o->nt].h : s->tv[i].h;
        o->pos[i] = ent ? s->epos[i - o->nt] : s->tpos[i];
        size_t j = o->oh[i] & (OLD_CAP - 1);
        while (o->h[j])
            j = (j + 1) & (OLD_CAP - 1);
        o->h[j] = o->oh[i];
        o->at[j] = (uint16_t)i;
    }
}

/* The old index of `h` as a term (ent false) or an entity, or -1. */
static int s_old_find(const s_old *o, uint64_t h, bool ent)
{
    for (size_t j = h & (OLD_CAP - 1); o->h[j]; j = (j + 1) & (OLD_CAP - 1))
        if (o->h[j] == h && (o->at[j] >= o->nt) == ent)
            return o->at[j];
    return -1;
}

/* The posting of hash `h` at position `pos` of its list (NULL: the index
 * lost track of it, which the unit tests rule out). */
static td_cpe *s_post_at(const td_cluster *self, uint64_t h, uint32_t pos)
{
    td_cpost *p = td_cluster_post_find(self, h);
    return p && pos < p->n ? &p->e[pos] : NULL;
}

/* Keep the postings of slot `si` in step with its new centroid: weights of
 * the hashes it kept are updated in place, hashes it gained are posted,
 * and those it lost get weight 0 (their entries stay until compaction,
 * still finding the event as a candidate, as they always did). */
static int s_post_update(td_cluster *self, uint32_t si, s_old *o)
{
    td_cslot *s = &self->slots[si];
    for (size_t k = 0; k < (size_t)s->n_terms + s->n_ents; k++) {
        bool ent = k >= s->n_terms;
        const td_chw *hw = ent ? &s->ev[k - s->n_terms] : &s->tv[k];
        uint32_t *pos = ent ? &s->epos[k - s->n_terms] : &s->tpos[k];
        int i = s_old_find(o, hw->h, ent);
        td_cpe *e = i >= 0 && !o->kept[i] ? s_post_at(self, hw->h, o->pos[i]) : NULL;
        if (e) {
            o->kept[i] = true;
            e->w = hw->w;
            *pos = o->pos[i];
            continue;
        }
        int64_t at = s_post_add(self, hw->h, 2 * si + ent, hw->w);
        if (at < 0)
            return -1;
        *pos = (uint32_t)at;
    }
    for (size_t i = 0; i < o->n; i++) {
        td_cpe *e = o->kept[i] ? NULL : s_post_at(self, o->oh[i], o->pos[i]);
        if (e)
            e->w = 0;
    }
    return 0;
}

int td_cluster_index_set(td_cluster *self, const td_cstate *st)
{
    if (!st->id || strlen(st->id) >= TD_CLUSTER_ID)
        return 0; /* such an id cannot be a candidate; it still works from LMDB */
    self->gen++;
    td_cidx *x = s_byid_slot(self, st->id, true);
    if (!x)
        return -1;
    td_cslot *s;
    td_cmeta *m;
    bool fresh = x->slot == UINT32_MAX;
    s_old old;
    if (fresh) {
        if (self->n_slots == self->cap_slots) {
            size_t cap = self->cap_slots ? self->cap_slots * 2 : 256;
            td_cslot *n = realloc(self->slots, cap * sizeof *n);
            if (!n)
                return -1;
            self->slots = n;
            td_cmeta *nm = realloc(self->meta, cap * sizeof *nm);
            if (!nm)
                return -1;
            self->meta = nm;
            float *ws = realloc(self->wsum, 2 * cap * sizeof *ws);
            if (!ws)
                return -1;
            self->wsum = ws;
            self->cap_slots = cap;
        }
        x->slot = (uint32_t)self->n_slots++;
        s = &self->slots[x->slot];
        m = &self->meta[x->slot];
        memset(s, 0, sizeof *s);
        memset(m, 0, sizeof *m);
    } else {
        s = &self->slots[x->slot];
        m = &self->meta[x->slot];
        if (!m->live)
            self->n_dead--;
        s_old_take(&old, s);
    }
    snprintf(s->id, sizeof s->id, "%s", st->id);
    snprintf(s->story, sizeof s->story, "%s", st->story ? st->story : "");
    m->first = st->first;
    m->last = st->last;
    m->live = true;
    s->day = td_cluster_mode_day(st);
    s->n_terms = (uint16_t)st->n_terms;
    s->n_ents = (uint16_t)st->n_ents;
    for (size_t i = 0; i < st->n_terms; i++) {
        s->tv[i] = (td_chw){.h = st->terms[i].h, .w = st->terms[i].w};
        s->tt[i] = (uint16_t)TD_QBIT(s->tv[i].h);
    }
    for (size_t i = 0; i < st->n_ents; i++) {
        s->ev[i] = (td_chw){.h = st->ents[i].h, .w = st->ents[i].w};
        s->et[i] = (uint16_t)TD_QBIT(s->ev[i].h);
    }
    s->lc = td_cluster_sumsq(s->tv, s->n_terms);
    s->le = td_cluster_sumsq(s->ev, s->n_ents);
    s->sq_lc = sqrt(s->lc);
    s->sq_le = sqrt(s->le);
    return fresh ? s_post_slot(self, x->slot) : s_post_update(self, x->slot, &old);
}

void td_cluster_index_drop(td_cluster *self, const char *id)
{
    self->gen++;
    td_cidx *x = s_byid_slot(self, id, false);
    if (x && x->slot != UINT32_MAX && self->meta[x->slot].live) {
        self->meta[x->slot].live = false;
        self->n_dead++;
    }
}
