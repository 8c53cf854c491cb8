/* entity_tally.c — see entity_tally.h. */
#include "entity_tally.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "arena.h"
#include "log.h"
#include "varint.h"

#define FIRST_CAP 1024   /* slots of each table at first; doubled at half full */
#define LOG_FORMAT 1

typedef struct {
    uint64_t h;          /* 0: free slot */
    char *key;
    td_entity_rec rec;   /* rec.name in the tally's arena */
    bool stored;         /* a record exists: in the database, or made here */
    bool dirty;          /* changed since read: written with the tables */
} s_rec;

typedef struct {
    uint64_t h;          /* 0: free slot */
    char *key, *event;
    bool linked;         /* false: to be removed */
} s_link;

enum { FLUSH_NONE, FLUSH_LOG, FLUSH_TABLES };

struct td_etally {
    td_arena *arena;     /* keys, names and event ids of what is held */
    s_rec *rec;
    size_t nrec, rcap;
    s_link *link;        /* every held link is written with the tables */
    size_t nlink, lcap;
    unsigned char *ops;  /* this attempt's changes: its log record */
    size_t nops, ops_cap;
    uint64_t log_next;   /* key of the next log record */
    unsigned logged;     /* records in the log */
    bool loaded;         /* what is held includes the log, replayed */
    bool open;           /* an attempt began and has not ended */
    bool replaying;      /* changes read from the log: not logged again */
    int flushed;         /* what this attempt's td_etally_flush wrote */
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
    free(self->ops);
    free(self);
    *self_p = NULL;
}

/* Nothing held. */
static void s_clear(td_etally *self)
{
    td_arena_reset(self->arena);
    memset(self->rec, 0, self->rcap * sizeof *self->rec);
    memset(self->link, 0, self->lcap * sizeof *self->link);
    self->nrec = self->nlink = 0;
}

/* Nothing held, the log not read: the next use reads it back. */
static void s_forget(td_etally *self)
{
    s_clear(self);
    self->loaded = false;
    self->logged = 0;
    self->log_next = 0;
    self->nops = 0;
}

size_t td_etally_held(const td_etally *self)
{
    return self->nrec;
}

unsigned td_etally_logged(const td_etally *self)
{
    return self->logged;
}

bool td_etally_waiting(const td_etally *self)
{
    return !self->loaded || self->logged > 0;
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

/* ---- the attempt's log record ------------------------------------------- */

/* Append one change (see entity_tally.h) to the attempt's record. */
static td_db_rc s_op(td_etally *self, int op, int kind, const char *key, const char *s)
{
    if (self->replaying)
        return TD_DB_OK;
    size_t kl = strlen(key), sl = s ? strlen(s) : 0;
    if (sl > TD_MAX_SHORT)
        sl = TD_MAX_SHORT;   /* as td_db_entity_put keeps it (and s_replay reads it) */
    size_t need = self->nops + 3 + 2 * TD_VARINT_MAX + kl + sl;
    if (need > self->ops_cap) {
        size_t cap = self->ops_cap ? self->ops_cap : 4096;
        while (cap < need)
            cap *= 2;
        unsigned char *p = realloc(self->ops, cap);
        if (!p)
            return TD_DB_ERROR;
        self->ops = p;
        self->ops_cap = cap;
    }
    unsigned char *p = self->ops + self->nops;
    if (!self->nops)
        *p++ = LOG_FORMAT;
    *p++ = (unsigned char)op;
    if (op == '+' || op == '-')
        *p++ = (unsigned char)kind;
    p += td_varint_put(p, kl);
    memcpy(p, key, kl);
    p += kl;
    p += td_varint_put(p, sl);
    if (sl)
        memcpy(p, s, sl);
    p += sl;
    self->nops = (size_t)(p - self->ops);
    return TD_DB_OK;
}

int td_etally_log_parse(const void *rec, size_t len, td_etally_log_fn fn, void *arg)
{
    const unsigned char *p = rec, *end = p + len;
    if (!rec || len < 1 || *p++ != LOG_FORMAT)
        return -1;
    while (p < end) {
        int op = *p++, kind = 0;
        if (op == '+' || op == '-') {
            if (p == end)
                return -1;
            kind = *p++;
        } else if (op != 'L' && op != 'U') {
            return -1;
        }
        uint64_t kl, sl;
        if (td_varint_get(&p, end, &kl) != 0 || kl == 0 || kl > (size_t)(end - p))
            return -1;
        const char *key = (const char *)p;
        p += kl;
        if (td_varint_get(&p, end, &sl) != 0 || sl > (size_t)(end - p))
            return -1;
        const char *s = (const char *)p;
        p += sl;
        if (memchr(key, '\0', kl) || (sl && memchr(s, '\0', sl)))
            return -1;
        if (fn(op, key, (size_t)kl, s, (size_t)sl, kind, arg) != 0)
            return -1;
    }
    return 0;
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

static td_db_rc s_add(td_etally *self, td_txn *txn, const char *key, const char *name,
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
    return s_op(self, delta < 0 ? '-' : '+', (int)kind, key, name);
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

/* Hold the pair as linked or to be removed; no read of the table: a link
 * that exists already is left as it is when the tables are written. */
static td_db_rc s_hold_link(td_etally *self, const char *key, const char *event, bool linked)
{
    if (!*key || !*event)
        return TD_DB_BADVAL;
    uint64_t h;
    s_link *l = s_link_find(self, key, event, &h);
    if (!l)
        return TD_DB_ERROR;
    if (l->h && l->linked == linked)
        return TD_DB_OK;   /* held so already */
    if (!l->h) {
        char *k = td_arena_strdup(self->arena, key), *e = td_arena_strdup(self->arena, event);
        if (!k || !e)
            return TD_DB_ERROR;
        *l = (s_link){.h = h, .key = k, .event = e};
        self->nlink++;
    }
    l->linked = linked;
    return s_op(self, linked ? 'L' : 'U', 0, key, event);
}

/* ---- the log, read back ----------------------------------------------------- */

typedef struct {
    td_etally *self;
    td_txn *txn;
    td_db_rc rc;
} s_replay_ctx;

static int s_replay(int op, const char *key, size_t klen, const char *s, size_t slen, int kind,
                    void *arg)
{
    s_replay_ctx *c = arg;
    char k[TD_DB_MAX_KEY + 1], v[TD_MAX_SHORT + 1];
    if (klen > TD_DB_MAX_KEY || slen > TD_MAX_SHORT)
        return -1;
    memcpy(k, key, klen);
    k[klen] = '\0';
    memcpy(v, s, slen);
    v[slen] = '\0';
    if (op == '+' || op == '-')
        c->rc = s_add(c->self, c->txn, k, v,
                      kind <= TD_ENT_OTHER ? (td_entity_kind)kind : TD_ENT_OTHER,
                      op == '+' ? 1 : -1);
    else
        c->rc = s_hold_link(c->self, k, v, op == 'L');
    return c->rc == TD_DB_OK ? 0 : -1;
}

/* A log record's number (its 8-byte big-endian key). */
static uint64_t s_record_no(const td_val *k)
{
    return k->len == 8 ? td_db_u64_get(k->data) : 0;
}

/* The log's changes onto the records they changed: once, before the
 * first use after a start or an abandoned attempt. */
static td_db_rc s_load(td_etally *self, td_txn *txn)
{
    if (self->loaded)
        return TD_DB_OK;
    s_forget(self);
    td_cur *cur = NULL;
    td_val k, v;
    td_db_rc rc = td_cur_open(txn, TD_DBI_ENTITY_LOG, &cur);
    if (rc != TD_DB_OK)
        return rc;
    s_replay_ctx c = {.self = self, .txn = txn, .rc = TD_DB_OK};
    self->replaying = true;
    for (rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK; rc = td_cur_next(cur, &k, &v)) {
        if (td_etally_log_parse(v.data, v.len, s_replay, &c) != 0) {
            if (c.rc != TD_DB_OK)
                break;
            td_warn("entity_log record %llu is malformed: the rest of it is ignored",
                    (unsigned long long)s_record_no(&k));
        }
        self->log_next = s_record_no(&k) + 1;
        self->logged++;
    }
    self->replaying = false;
    td_cur_close(&cur);
    if (c.rc != TD_DB_OK || (rc != TD_DB_NOTFOUND && rc != TD_DB_OK)) {
        s_forget(self);   /* start over at the next use: nothing half-read stays */
        return c.rc != TD_DB_OK ? c.rc : rc;
    }
    if (self->logged)
        td_info("entities: %u logged commit(s) read back (%zu records, %zu links held)",
                self->logged, self->nrec, self->nlink);
    self->loaded = true;
    return TD_DB_OK;
}

td_db_rc td_etally_load(td_etally *self, td_txn *txn)
{
    return s_load(self, txn);
}

/* ---- changes ------------------------------------------------------------------ */

td_db_rc td_etally_add(td_etally *self, td_txn *txn, const char *key, const char *name,
                       td_entity_kind kind, int delta)
{
    td_db_rc rc = s_load(self, txn);
    return rc != TD_DB_OK ? rc : s_add(self, txn, key, name, kind, delta);
}

td_db_rc td_etally_link(td_etally *self, td_txn *txn, const char *key, const char *event_id)
{
    td_db_rc rc = s_load(self, txn);
    return rc != TD_DB_OK ? rc : s_hold_link(self, key, event_id, true);
}

td_db_rc td_etally_unlink(td_etally *self, td_txn *txn, const char *key, const char *event_id)
{
    td_db_rc rc = s_load(self, txn);
    return rc != TD_DB_OK ? rc : s_hold_link(self, key, event_id, false);
}

/* ---- writing ------------------------------------------------------------------- */

static int s_rec_cmp(const void *a, const void *b)
{
    return strcmp((*(s_rec *const *)a)->key, (*(s_rec *const *)b)->key);
}

/* In the table's order: the entity, then (after the NUL of the key) the
 * event. */
static int s_link_cmp(const void *a, const void *b)
{
    const s_link *x = *(s_link *const *)a, *y = *(s_link *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->event, y->event);
}

/* Every held record and link into the tables, in key order (each write
 * lands next to the last one's page); the log emptied. */
static td_db_rc s_write_tables(td_etally *self, td_txn *txn)
{
    size_t most = self->nrec > self->nlink ? self->nrec : self->nlink;
    void **order = malloc((most ? most : 1) * sizeof *order);
    if (!order)
        return TD_DB_ERROR;
    size_t n = 0;
    for (size_t i = 0; i < self->rcap; i++)
        if (self->rec[i].h && self->rec[i].dirty)
            order[n++] = &self->rec[i];
    qsort(order, n, sizeof *order, s_rec_cmp);
    td_db_rc rc = TD_DB_OK;
    for (size_t i = 0; i < n && rc == TD_DB_OK; i++) {
        const s_rec *r = order[i];
        rc = td_db_entity_put(txn, r->key, &r->rec);
    }
    n = 0;
    for (size_t i = 0; i < self->lcap && rc == TD_DB_OK; i++)
        if (self->link[i].h)
            order[n++] = &self->link[i];
    qsort(order, n, sizeof *order, s_link_cmp);
    for (size_t i = 0; i < n && rc == TD_DB_OK; i++) {
        const s_link *l = order[i];
        rc = l->linked ? td_db_entity_link(txn, l->key, l->event)
                       : td_db_entity_unlink(txn, l->key, l->event);
    }
    free(order);
    if (rc == TD_DB_OK && self->logged)
        rc = td_txn_drop(txn, TD_DBI_ENTITY_LOG);
    return rc;
}

td_db_rc td_etally_flush(td_etally *self, td_txn *txn, bool settle)
{
    td_db_rc rc = s_load(self, txn);
    if (rc != TD_DB_OK)
        return rc;
    self->flushed = FLUSH_NONE;
    bool tables = settle || self->logged + 1 >= TD_ETALLY_LOG_COMMITS ||
                  self->nrec + self->nlink > TD_ETALLY_HELD_MAX;
    if (tables) {
        if (!self->nrec && !self->nlink && !self->logged)
            return TD_DB_OK;
        rc = s_write_tables(self, txn);
        if (rc == TD_DB_OK)
            self->flushed = FLUSH_TABLES;
        return rc;
    }
    if (!self->nops)
        return TD_DB_OK;
    unsigned char k[8];
    td_db_u64_put(k, self->log_next);
    rc = td_txn_put(txn, TD_DBI_ENTITY_LOG, k, 8, self->ops, self->nops);
    if (rc == TD_DB_OK)
        self->flushed = FLUSH_LOG;
    return rc;
}

void td_etally_begin(td_etally *self)
{
    if (self->open)
        s_forget(self);
    self->open = true;
    self->nops = 0;
    self->flushed = FLUSH_NONE;
}

void td_etally_committed(td_etally *self)
{
    if (self->flushed == FLUSH_NONE && self->nops) {
        s_forget(self);   /* changed without a flush: what is held is not all logged */
    } else if (self->flushed == FLUSH_TABLES) {
        s_clear(self);
        self->logged = 0;
        self->log_next = 0;
    } else if (self->flushed == FLUSH_LOG) {
        self->logged++;
        self->log_next++;
    }
    self->nops = 0;
    self->open = false;
    self->flushed = FLUSH_NONE;
}

void td_etally_aborted(td_etally *self)
{
    s_forget(self);
    self->open = false;
    self->flushed = FLUSH_NONE;
}
