/* entity_tally.c — see entity_tally.h. */
#include "entity_tally.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "arena.h"

#define FIRST_CAP 1024   /* slots of each table at first; doubled at half full */

typedef struct {
    uint64_t h;          /* 0: free slot */
    char *key;
    td_entity_rec rec;   /* rec.name in the tally's arena */
    bool stored;         /* a record exists: in the database, or made here */
    bool dirty;          /* changed since read: written by the flush */
} s_rec;

typedef struct {
    uint64_t h;          /* 0: free slot */
    char *key, *event;
    bool linked;         /* false: unlinked since (the slot stays taken) */
} s_link;

struct td_etally {
    td_arena *arena;
    s_rec *rec;
    size_t nrec, rcap;
    s_link *link;
    size_t nlink, lcap;
};

td_etally *td_etally_new(void)
{
    td_etally *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->arena = td_arena_new(0);
    self->rcap = self->lcap = FIRST_CAP;
    self->rec = calloc(self->rcap, sizeof *self->rec);
    self->link = calloc(self->lcap, sizeof *self->link);
    if (!self->arena || !self->rec || !self->link)
        td_etally_destroy(&self);
    return self;
}

void td_etally_destroy(td_etally **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_etally *self = *self_p;
    td_arena_destroy(&self->arena);
    free(self->rec);
    free(self->link);
    free(self);
    *self_p = NULL;
}

void td_etally_reset(td_etally *self)
{
    td_arena_reset(self->arena);
    memset(self->rec, 0, self->rcap * sizeof *self->rec);
    memset(self->link, 0, self->lcap * sizeof *self->link);
    self->nrec = self->nlink = 0;
}

size_t td_etally_held(const td_etally *self)
{
    return self->nrec;
}

static uint64_t s_hash(const char *s)
{
    uint64_t h = XXH3_64bits(s, strlen(s));
    return h ? h : 1;
}

/* A copy of an open-addressing table of `cap` entries of `size` bytes,
 * each starting with its uint64_t hash (0: free), at twice the size; NULL
 * when out of memory. Both tables below grow through it. */
static void *s_doubled(const void *tab, size_t cap, size_t size)
{
    const unsigned char *from = tab;
    size_t ncap = cap * 2;
    unsigned char *to = calloc(ncap, size);
    if (!to)
        return NULL;
    for (size_t i = 0; i < cap; i++) {
        uint64_t h, o;
        memcpy(&h, from + i * size, sizeof h);
        if (!h)
            continue;
        size_t j = h & (ncap - 1);
        for (;;) {
            memcpy(&o, to + j * size, sizeof o);
            if (!o)
                break;
            j = (j + 1) & (ncap - 1);
        }
        memcpy(to + j * size, from + i * size, size);
    }
    return to;
}

/* ---- records ----------------------------------------------------------- */

/* The held record of `key`, read from the database at its first use. */
static td_db_rc s_rec_get(td_etally *self, td_txn *txn, const char *key, s_rec **out)
{
    if (2 * (self->nrec + 1) > self->rcap) {   /* half full: doubled */
        s_rec *r = s_doubled(self->rec, self->rcap, sizeof *r);
        if (!r)
            return TD_DB_ERROR;
        free(self->rec);
        self->rec = r;
        self->rcap *= 2;
    }
    uint64_t h = s_hash(key);
    size_t j = h & (self->rcap - 1);
    for (; self->rec[j].h; j = (j + 1) & (self->rcap - 1))
        if (self->rec[j].h == h && strcmp(self->rec[j].key, key) == 0) {
            *out = &self->rec[j];
            return TD_DB_OK;
        }
    s_rec r = {.h = h};
    td_db_rc rc = td_db_entity_get(txn, key, self->arena, &r.rec);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return rc;
    r.stored = rc == TD_DB_OK;
    if (!(r.key = td_arena_strdup(self->arena, key)))
        return TD_DB_ERROR;
    self->rec[j] = r;
    self->nrec++;
    *out = &self->rec[j];
    return TD_DB_OK;
}

td_db_rc td_etally_add(td_etally *self, td_txn *txn, const char *key, const char *name,
                       td_entity_kind kind, int delta)
{
    s_rec *r;
    td_db_rc rc = s_rec_get(self, txn, key, &r);
    if (rc != TD_DB_OK)
        return rc;
    if (!r->stored) {
        if (delta < 0)
            return TD_DB_OK;   /* one fewer of an entity never stored */
        if (!(r->rec.name = td_arena_strdup(self->arena, name ? name : "")))
            return TD_DB_ERROR;
        r->rec.kind = kind;
        r->rec.articles = 0;
        r->stored = true;
    }
    if (delta < 0)
        r->rec.articles = r->rec.articles > 0 ? r->rec.articles - 1 : 0;
    else
        r->rec.articles += (uint64_t)delta;
    r->dirty = true;
    return TD_DB_OK;
}

static int s_key_cmp(const void *a, const void *b)
{
    return strcmp((*(s_rec *const *)a)->key, (*(s_rec *const *)b)->key);
}

td_db_rc td_etally_flush(td_etally *self, td_txn *txn)
{
    if (!self->nrec)
        return TD_DB_OK;
    s_rec **dirty = malloc(self->nrec * sizeof *dirty);
    if (!dirty)
        return TD_DB_ERROR;
    size_t n = 0;
    for (size_t i = 0; i < self->rcap; i++)
        if (self->rec[i].h && self->rec[i].dirty)
            dirty[n++] = &self->rec[i];
    /* in key order: each put lands next to the last one's page */
    qsort(dirty, n, sizeof *dirty, s_key_cmp);
    td_db_rc rc = TD_DB_OK;
    for (size_t i = 0; i < n && rc == TD_DB_OK; i++) {
        rc = td_db_entity_put(txn, dirty[i]->key, &dirty[i]->rec);
        if (rc == TD_DB_OK)
            dirty[i]->dirty = false;
    }
    free(dirty);
    return rc;
}

/* ---- links ----------------------------------------------------------------- */

/* The slot of the pair (key, event): its entry, or the free one (h 0)
 * it goes to; *h gets its hash. NULL when out of memory. */
static s_link *s_link_find(td_etally *self, const char *key, const char *event, uint64_t *h)
{
    if (2 * (self->nlink + 1) > self->lcap) {
        s_link *l = s_doubled(self->link, self->lcap, sizeof *l);
        if (!l)
            return NULL;
        free(self->link);
        self->link = l;
        self->lcap *= 2;
    }
    uint64_t x = s_hash(key) * 0x9E3779B97F4A7C15ull ^ s_hash(event);
    *h = x ? x : 1;
    size_t j = *h & (self->lcap - 1);
    for (; self->link[j].h; j = (j + 1) & (self->lcap - 1))
        if (self->link[j].h == *h && strcmp(self->link[j].key, key) == 0 &&
            strcmp(self->link[j].event, event) == 0)
            return &self->link[j];
    return &self->link[j];
}

td_db_rc td_etally_link(td_etally *self, td_txn *txn, const char *key, const char *event_id)
{
    uint64_t h;
    s_link *l = s_link_find(self, key, event_id, &h);
    if (!l)
        return TD_DB_ERROR;
    if (l->h && l->linked)
        return TD_DB_OK;   /* made already in this transaction */
    td_db_rc rc = td_db_entity_link(txn, key, event_id);
    if (rc != TD_DB_OK)
        return rc;
    if (!l->h) {
        char *k = td_arena_strdup(self->arena, key), *e = td_arena_strdup(self->arena, event_id);
        if (!k || !e)
            return TD_DB_ERROR;
        *l = (s_link){.h = h, .key = k, .event = e};
        self->nlink++;
    }
    l->linked = true;
    return TD_DB_OK;
}

td_db_rc td_etally_unlink(td_etally *self, td_txn *txn, const char *key, const char *event_id)
{
    uint64_t h;
    s_link *l = s_link_find(self, key, event_id, &h);
    if (!l)
        return TD_DB_ERROR;
    if (l->h)
        l->linked = false;   /* made again by a later td_etally_link */
    return td_db_entity_unlink(txn, key, event_id);
}
