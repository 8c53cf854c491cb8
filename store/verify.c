/* verify.c — tidings' own consistency check; see verify.h.
 *
 * Links are checked from one side and counted, and the counts close the
 * loop: every article an event lists points back to that event, no event
 * lists an article twice, and the lists add up to the number of articles —
 * so every article is listed by exactly its own event. Stories and events
 * are checked the same way. This keeps the check linear in the database
 * (each record decoded a bounded number of times) without building a set
 * of every id in memory; the search index uses two bitmaps of docnos.
 */
#include "verify.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "codec.h"
#include "entity_tally.h"
#include "index_block.h"
#include "index_read.h"

#define MAX_PRINTED 50
#define ARENA_LIMIT ((size_t)256 << 20)
#define MAX_DOCNO ((uint64_t)1 << 32)

typedef struct {
    td_txn *txn;
    FILE *out;
    td_arena *rec;          /* one record at a time */
    td_arena *item;         /* one linked record inside it */
    td_verify_report *r;
    unsigned char *live, *deleted;  /* docno bitmaps */
    uint64_t doc_next;
} s_ctx;

static void s_problem(s_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_problem(s_ctx *c, const char *fmt, ...)
{
    if (c->out && c->r->problems < MAX_PRINTED) {
        va_list ap;
        va_start(ap, fmt);
        fputs("verify: ", c->out);
        vfprintf(c->out, fmt, ap);
        fputc('\n', c->out);
        va_end(ap);
    } else if (c->out && c->r->problems == MAX_PRINTED) {
        fputs("verify: (further problems not shown)\n", c->out);
    }
    c->r->problems++;
}

/* A key as printable text (ids are UTF-8; binary keys show as '?'). */
static const char *s_show(const void *p, size_t n, char *buf, size_t cap)
{
    size_t w = 0;
    for (size_t i = 0; i < n && w + 1 < cap; i++) {
        unsigned char ch = ((const unsigned char *)p)[i];
        buf[w++] = ch >= 0x20 && ch != 0x7f ? (char)ch : '?';
    }
    buf[w] = '\0';
    return buf;
}

static bool s_same(const char *s, const void *p, size_t n)
{
    return s && strlen(s) == n && memcmp(s, p, n) == 0;
}

static int s_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void s_bit_set(unsigned char *bits, uint32_t i)
{
    bits[i >> 3] |= (unsigned char)(1u << (i & 7));
}

static bool s_bit(const unsigned char *bits, uint32_t i)
{
    return bits[i >> 3] & (1u << (i & 7));
}

/* ---- articles ---------------------------------------------------------- */

static void s_articles(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    if (td_cur_open(c->txn, TD_DBI_ARTICLES, &cur) != TD_DB_OK) {
        s_problem(c, "cannot open the articles database");
        return;
    }
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, &v)) {
        c->r->articles++;
        td_arena_reset(c->rec);
        td_article a;
        td_error err = {0};
        s_show(k.data, k.len, show, sizeof show);
        if (td_article_decode(v.data, v.len, c->rec, &a, &err) != 0) {
            s_problem(c, "article %s does not decode: %s", show, err.message);
            continue;
        }
        if (!s_same(a.id, k.data, k.len))
            s_problem(c, "article stored under %s carries id %s", show, a.id ? a.id : "(none)");
        if (!a.event || td_db_event_get(c->txn, a.event, NULL) != TD_DB_OK)
            s_problem(c, "article %s: its event %s does not exist", show,
                      a.event ? a.event : "(none)");
        if (!a.story || td_db_story_get(c->txn, a.story, NULL) != TD_DB_OK)
            s_problem(c, "article %s: its story %s does not exist", show,
                      a.story ? a.story : "(none)");
        uint32_t doc;
        if (td_ix_docno(c->txn, a.id ? a.id : "", &doc) != TD_DB_OK)
            s_problem(c, "article %s is not in the search index", show);
    }
    td_cur_close(&cur);
}

/* ---- events -------------------------------------------------------------- */

/* The article ids of an event: event_articles when it has entries there,
 * else the list embedded in the record. *from_ea tells which. */
static size_t s_event_ids(s_ctx *c, const td_event *e, char ***ids_out, bool *from_ea)
{
    size_t n = 0, cap = 64;
    char **ids = td_arena_alloc(c->rec, cap * sizeof *ids);
    size_t el = strlen(e->id);
    unsigned char prefix[TD_DB_MAX_KEY + 1];
    *from_ea = false;
    if (!ids)
        return 0;
    td_cur *cur;
    if (el + 1 <= TD_DB_MAX_KEY && td_cur_open(c->txn, TD_DBI_EVENT_ARTICLES, &cur) == TD_DB_OK) {
        memcpy(prefix, e->id, el);
        prefix[el] = '\0';
        td_val k, v;
        for (td_db_rc rc = td_cur_seek(cur, prefix, el + 1, &k, &v);
             rc == TD_DB_OK && k.len == el + 5 && memcmp(k.data, prefix, el + 1) == 0;
             rc = td_cur_next(cur, &k, &v)) {
            if (n == cap) {
                char **more = td_arena_alloc(c->rec, 2 * cap * sizeof *more);
                if (!more)
                    break;
                memcpy(more, ids, n * sizeof *ids);
                ids = more;
                cap *= 2;
            }
            if (!(ids[n] = td_arena_strndup(c->rec, v.data, v.len)))
                break;
            n++;
        }
        td_cur_close(&cur);
    }
    if (n) {
        *from_ea = true;
        *ids_out = ids;
        return n;
    }
    *ids_out = e->article_ids;
    return e->n_article_ids;
}

static void s_events(s_ctx *c, uint64_t *listed, uint64_t *ea_listed)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    *listed = *ea_listed = 0;
    if (td_cur_open(c->txn, TD_DBI_EVENTS, &cur) != TD_DB_OK) {
        s_problem(c, "cannot open the events database");
        return;
    }
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, &v)) {
        c->r->events++;
        td_arena_reset(c->rec);
        td_event e;
        td_error err = {0};
        s_show(k.data, k.len, show, sizeof show);
        if (td_event_decode(v.data, v.len, c->rec, &e, &err) != 0) {
            s_problem(c, "event %s does not decode: %s", show, err.message);
            continue;
        }
        if (!s_same(e.id, k.data, k.len)) {
            s_problem(c, "event stored under %s carries id %s", show, e.id ? e.id : "(none)");
            continue;
        }
        if (!e.story || td_db_story_get(c->txn, e.story, NULL) != TD_DB_OK)
            s_problem(c, "event %s: its story %s does not exist", show,
                      e.story ? e.story : "(none)");
        unsigned char tk[TD_DB_MAX_KEY];
        size_t tkl = td_db_timekey(e.last_seen, e.id, tk, sizeof tk);
        if (!tkl || td_txn_get(c->txn, TD_DBI_EVENT_TIME, tk, tkl, NULL) != TD_DB_OK)
            s_problem(c, "event %s: no event_time entry for its last_seen", show);

        char **ids;
        bool from_ea;
        size_t n = s_event_ids(c, &e, &ids, &from_ea);
        if (n != e.articles)
            s_problem(c, "event %s counts %u articles but lists %zu", show, e.articles, n);
        *listed += n;
        if (from_ea)
            *ea_listed += n;
        char **sorted = td_arena_alloc(c->rec, (n ? n : 1) * sizeof *sorted);
        if (sorted && n) {
            memcpy(sorted, ids, n * sizeof *ids);
            qsort(sorted, n, sizeof *sorted, s_strcmp_p);
            for (size_t i = 1; i < n; i++)
                if (strcmp(sorted[i - 1], sorted[i]) == 0)
                    s_problem(c, "event %s lists article %s twice", show, sorted[i]);
        }
        for (size_t i = 0; i < n; i++) {
            td_val raw;
            td_arena_reset(c->item);
            if (td_db_article_get(c->txn, ids[i], &raw) != TD_DB_OK) {
                s_problem(c, "event %s lists article %s, which does not exist", show, ids[i]);
                continue;
            }
            td_article a;
            if (td_article_decode(raw.data, raw.len, c->item, &a, &err) != 0)
                continue;   /* reported by the articles pass */
            if (!a.event || strcmp(a.event, e.id) != 0)
                s_problem(c, "event %s lists article %s, which belongs to event %s", show,
                          ids[i], a.event ? a.event : "(none)");
            else if (!a.story || strcmp(a.story, e.story ? e.story : "") != 0)
                s_problem(c, "article %s is in story %s but its event %s is in story %s",
                          ids[i], a.story ? a.story : "(none)", show,
                          e.story ? e.story : "(none)");
        }
    }
    td_cur_close(&cur);
}

/* ---- stories ------------------------------------------------------------- */

static void s_stories(s_ctx *c, uint64_t *listed)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    *listed = 0;
    if (td_cur_open(c->txn, TD_DBI_STORIES, &cur) != TD_DB_OK) {
        s_problem(c, "cannot open the stories database");
        return;
    }
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, &v)) {
        c->r->stories++;
        td_arena_reset(c->rec);
        td_story s;
        td_error err = {0};
        s_show(k.data, k.len, show, sizeof show);
        if (td_story_decode(v.data, v.len, c->rec, &s, &err) != 0) {
            s_problem(c, "story %s does not decode: %s", show, err.message);
            continue;
        }
        if (!s_same(s.id, k.data, k.len))
            s_problem(c, "story stored under %s carries id %s", show, s.id ? s.id : "(none)");
        if (s.n_event_ids == 0)
            s_problem(c, "story %s has no events", show);
        *listed += s.n_event_ids;
        char **sorted = td_arena_alloc(c->rec, (s.n_event_ids ? s.n_event_ids : 1) * sizeof *sorted);
        if (sorted && s.n_event_ids) {
            memcpy(sorted, s.event_ids, s.n_event_ids * sizeof *sorted);
            qsort(sorted, s.n_event_ids, sizeof *sorted, s_strcmp_p);
            for (size_t i = 1; i < s.n_event_ids; i++)
                if (strcmp(sorted[i - 1], sorted[i]) == 0)
                    s_problem(c, "story %s lists event %s twice", show, sorted[i]);
        }
        for (size_t i = 0; i < s.n_event_ids; i++) {
            td_val raw;
            td_arena_reset(c->item);
            if (td_db_event_get(c->txn, s.event_ids[i], &raw) != TD_DB_OK) {
                s_problem(c, "story %s lists event %s, which does not exist", show,
                          s.event_ids[i]);
                continue;
            }
            td_event e;
            if (td_event_decode(raw.data, raw.len, c->item, &e, &err) != 0)
                continue;   /* reported by the events pass */
            if (!e.story || !s_same(e.story, k.data, k.len))
                s_problem(c, "story %s lists event %s, which belongs to story %s", show,
                          s.event_ids[i], e.story ? e.story : "(none)");
        }
    }
    td_cur_close(&cur);
}

/* ---- small link databases ------------------------------------------------ */

static uint64_t s_event_time(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    uint64_t n = 0;
    if (td_cur_open(c->txn, TD_DBI_EVENT_TIME, &cur) != TD_DB_OK)
        return 0;
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, &v)) {
        n++;
        const char *id;
        size_t idlen;
        char show[128];
        if (td_db_timekey_split(k.data, k.len, NULL, &id, &idlen) != 0)
            s_problem(c, "event_time holds a key of %zu bytes, too short", k.len);
        else if (td_txn_get(c->txn, TD_DBI_EVENTS, id, idlen, NULL) != TD_DB_OK)
            s_problem(c, "event_time entry for %s names no event",
                      s_show(id, idlen, show, sizeof show));
    }
    td_cur_close(&cur);
    return n;
}

static void s_keys(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    if (td_cur_open(c->txn, TD_DBI_KEYS, &cur) != TD_DB_OK)
        return;
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, &v)) {
        c->r->keys++;
        if (v.len < 9 ||
            td_txn_get(c->txn, TD_DBI_ARTICLES, (const char *)v.data + 8, v.len - 8, NULL) !=
                TD_DB_OK)
            s_problem(c, "key %s does not resolve to an article",
                      s_show(k.data, k.len, show, sizeof show));
    }
    td_cur_close(&cur);
}

/* A link the entity log (entity_tally.h) makes or removes and the
 * entity_events table does not show yet: the pair as the table keys it
 * (entity, NUL, event) and the log's last word on it. */
typedef struct {
    char *pair;
    size_t len;
    size_t order;
    bool linked;
} s_pending;

typedef struct {
    td_arena *arena;
    s_pending *p;
    size_t n, cap;
    bool failed;
} s_pending_set;

static int s_pending_add(int op, const char *key, size_t klen, const char *s, size_t slen,
                         int kind, void *arg)
{
    (void)kind;
    s_pending_set *set = arg;
    if (op != 'L' && op != 'U')
        return 0;
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 256;
        s_pending *p = realloc(set->p, cap * sizeof *p);
        if (!p) {
            set->failed = true;
            return -1;
        }
        set->p = p;
        set->cap = cap;
    }
    char *pair = td_arena_alloc(set->arena, klen + 1 + slen);
    if (!pair) {
        set->failed = true;
        return -1;
    }
    memcpy(pair, key, klen);
    pair[klen] = '\0';
    memcpy(pair + klen + 1, s, slen);
    set->p[set->n] = (s_pending){.pair = pair, .len = klen + 1 + slen, .order = set->n,
                                 .linked = op == 'L'};
    set->n++;
    return 0;
}

static int s_pending_cmp(const void *a, const void *b)
{
    const s_pending *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->pair, y->pair, n);
    if (c || x->len != y->len)
        return c ? c : (x->len < y->len ? -1 : 1);
    return (x->order > y->order) - (x->order < y->order);
}

/* The log's links, the last change of each pair kept, sorted by pair. */
static void s_pending_read(s_ctx *c, s_pending_set *set)
{
    td_cur *cur;
    td_val k, v;
    if (td_cur_open(c->txn, TD_DBI_ENTITY_LOG, &cur) != TD_DB_OK)
        return;
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK && !set->failed;
         rc = td_cur_next(cur, &k, &v))
        if (td_etally_log_parse(v.data, v.len, s_pending_add, set) != 0 && !set->failed) {
            char show[128];
            s_problem(c, "entity_log record %s is malformed", s_show(k.data, k.len, show,
                                                                    sizeof show));
        }
    td_cur_close(&cur);
    if (set->failed)
        s_problem(c, "out of memory reading entity_log: its links are not checked");
    if (set->n)   /* set->p is NULL while empty */
        qsort(set->p, set->n, sizeof *set->p, s_pending_cmp);
    size_t w = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (w && set->p[w - 1].len == set->p[i].len &&
            memcmp(set->p[w - 1].pair, set->p[i].pair, set->p[i].len) == 0)
            w--;   /* a later change of the same pair wins */
        set->p[w++] = set->p[i];
    }
    set->n = w;
}

static const s_pending *s_pending_find(const s_pending_set *set, const void *pair, size_t len)
{
    s_pending want = {.pair = (char *)pair, .len = len, .order = 0};
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        s_pending probe = set->p[mid];
        probe.order = 0;
        int cmp = s_pending_cmp(&probe, &want);
        if (cmp == 0)
            return &set->p[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool s_names_event(s_ctx *c, const void *pair, size_t len)
{
    const char *nul = memchr(pair, '\0', len);
    size_t off = nul ? (size_t)(nul - (const char *)pair) + 1 : len;
    return nul && off < len &&
           td_txn_get(c->txn, TD_DBI_EVENTS, (const char *)pair + off, len - off, NULL) ==
               TD_DB_OK;
}

/* Every link names an event, the links the entity log has not written
 * yet included; a link naming none is fine when the log removes it. */
static void s_entity_links(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    s_pending_set set = {.arena = td_arena_new(0)};
    if (!set.arena) {
        s_problem(c, "out of memory: entity links not checked");
        return;
    }
    s_pending_read(c, &set);
    if (td_cur_open(c->txn, TD_DBI_ENTITY_EVENTS, &cur) == TD_DB_OK) {
        for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
             rc = td_cur_next(cur, &k, &v)) {
            if (s_names_event(c, k.data, k.len))
                continue;
            const s_pending *p = s_pending_find(&set, k.data, k.len);
            if (!p || p->linked)
                s_problem(c, "entity link %s names no event",
                          s_show(k.data, k.len, show, sizeof show));
        }
        td_cur_close(&cur);
    }
    for (size_t i = 0; i < set.n; i++)
        if (set.p[i].linked && !s_names_event(c, set.p[i].pair, set.p[i].len))
            s_problem(c, "entity link %s (in entity_log) names no event",
                      s_show(set.p[i].pair, set.p[i].len, show, sizeof show));
    free(set.p);
    td_arena_destroy(&set.arena);
}

/* An event merged away names an event that exists, or one merged away in
 * turn: td_db_event_get_moved reaches an event. */
static void s_moved_events(s_ctx *c)
{
    td_cur *cur;
    td_val k, v, ev;
    char show[128];
    if (td_cur_open(c->txn, TD_DBI_EVENT_MOVED, &cur) != TD_DB_OK)
        return;
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, &v)) {
        char id[TD_DB_MAX_KEY + 1];   /* LMDB keys are never longer */
        size_t n = k.len < TD_DB_MAX_KEY ? k.len : TD_DB_MAX_KEY;
        memcpy(id, k.data, n);
        id[n] = '\0';
        s_show(k.data, k.len, show, sizeof show);
        if (td_txn_get(c->txn, TD_DBI_EVENTS, k.data, k.len, NULL) == TD_DB_OK)
            s_problem(c, "event %s exists but is listed as merged away", show);
        else if (td_db_event_get_moved(c->txn, id, &ev) != TD_DB_OK)
            s_problem(c, "event %s was merged into no event that exists", show);
    }
    td_cur_close(&cur);
}

static void s_rejects(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    if (td_cur_open(c->txn, TD_DBI_REJECTS, &cur) != TD_DB_OK)
        return;
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, &v)) {
        c->r->rejects++;
        td_arena_reset(c->rec);
        td_reject r;
        td_error err = {0};
        if (k.len != 8 || td_reject_decode(v.data, v.len, c->rec, &r, &err) != 0)
            s_problem(c, "reject record %llu is damaged",
                      k.len == 8 ? (unsigned long long)td_db_u64_get(k.data) : 0ull);
    }
    td_cur_close(&cur);
}

/* ---- search index ---------------------------------------------------------- */

static void s_index_docs(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    if (td_cur_open(c->txn, TD_DBI_DOCS, &cur) == TD_DB_OK) {
        for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
             rc = td_cur_next(cur, &k, &v)) {
            c->r->docs++;
            td_ix_doc d;
            if (k.len != 4 || td_ix_doc_decode(v.data, v.len, &d) != 0) {
                s_problem(c, "search index: a doc record is damaged");
                continue;
            }
            uint32_t doc = td_ix_get_u32(k.data), live;
            if (doc > c->doc_next) {
                s_problem(c, "search index: doc %u is beyond doc_next %llu", doc,
                          (unsigned long long)c->doc_next);
                continue;
            }
            s_bit_set(c->live, doc);
            s_show(d.id, d.idlen, show, sizeof show);
            td_val iv;
            if (td_txn_get(c->txn, TD_DBI_ARTICLES, d.id, d.idlen, NULL) != TD_DB_OK)
                s_problem(c, "search index: doc %u is article %s, which does not exist", doc,
                          show);
            else if (td_txn_get(c->txn, TD_DBI_DOCIDS, d.id, d.idlen, &iv) != TD_DB_OK ||
                     iv.len != 4 || (live = td_ix_get_u32(iv.data)) != doc)
                s_problem(c, "search index: doc %u (article %s) is not its live version", doc,
                          show);
        }
        td_cur_close(&cur);
    }
    if (td_cur_open(c->txn, TD_DBI_DOCIDS, &cur) == TD_DB_OK) {
        for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK;
             rc = td_cur_next(cur, &k, &v)) {
            td_ix_doc d;
            if (v.len != 4 || td_ix_doc_get(c->txn, td_ix_get_u32(v.data), &d) != TD_DB_OK ||
                d.idlen != k.len || memcmp(d.id, k.data, k.len) != 0)
                s_problem(c, "search index: id map entry %s has no matching doc record",
                          s_show(k.data, k.len, show, sizeof show));
        }
        td_cur_close(&cur);
    }
}

/* The retired docnos (`retired`): each within the docnos handed out. */
static void s_retired(s_ctx *c)
{
    td_cur *cur;
    td_val k;
    if (td_cur_open(c->txn, TD_DBI_RETIRED, &cur) != TD_DB_OK)
        return;
    for (td_db_rc rc = td_cur_first(cur, &k, NULL); rc == TD_DB_OK;
         rc = td_cur_next(cur, &k, NULL)) {
        uint32_t doc = k.len == 4 ? td_ix_get_u32(k.data) : 0;
        if (!doc || doc > c->doc_next) {
            char show[128];
            s_problem(c, "search index: retired docno %s is not one handed out",
                      s_show(k.data, k.len, show, sizeof show));
            continue;
        }
        s_bit_set(c->deleted, doc);
    }
    td_cur_close(&cur);
}

/* Walk the postings: every posting is of a live or a retired doc. */
static void s_postings(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    uint64_t term_next = td_txn_counter(c->txn, TD_CTR_TERM_NEXT);
    if (td_cur_open(c->txn, TD_DBI_POSTINGS, &cur) != TD_DB_OK)
        return;
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK; rc = td_cur_next(cur, &k, &v)) {
        uint32_t no = k.len == TD_IX_KEY ? td_ix_get_u32(k.data) : 0;
        c->r->postings++;
        td_ix_header h;
        uint32_t doc[TD_IX_BLOCK], tt[TD_IX_BLOCK], tb[TD_IX_BLOCK], len[TD_IX_BLOCK];
        int n;
        if (!no || no > term_next || td_ix_header_read(v.data, v.len, &h) != 0 ||
            (n = td_ix_block_docs(v.data, v.len, doc, tt, tb, len)) <= 0 ||
            h.first != td_ix_get_u32((const unsigned char *)k.data + TD_IX_KEY_TERM)) {
            s_problem(c, "search index: posting block %s is damaged",
                      s_show(k.data, k.len, show, sizeof show));
            continue;
        }
        if (h.format >= 3) {
            /* format 3 keeps the block's positions under the same key */
            td_val pv = v;   /* format 4: inline */
            uint32_t pos[8];
            if (h.format == 3 && td_txn_get(c->txn, TD_DBI_POSITIONS, k.data, k.len, &pv) != TD_DB_OK)
                s_problem(c, "search index: posting block %s has no positions",
                          s_show(k.data, k.len, show, sizeof show));
            else if (td_ix_block_positions(v.data, v.len, pv.data, pv.len, (size_t)n - 1, pos,
                                           sizeof pos / sizeof *pos) < 0)
                s_problem(c, "search index: positions of block %s are damaged",
                          s_show(k.data, k.len, show, sizeof show));
        }
        for (int i = 0; i < n; i++) {
            if (doc[i] > c->doc_next || (i && doc[i] <= doc[i - 1])) {
                s_problem(c, "search index: block %s holds docno %u out of order or "
                             "beyond doc_next",
                          s_show(k.data, k.len, show, sizeof show), doc[i]);
                break;
            }
            if (!s_bit(c->live, doc[i]) && !s_bit(c->deleted, doc[i]))
                s_problem(c, "search index: term number %u has a posting for doc %u, "
                             "which is neither live nor retired",
                          no, doc[i]);
        }
    }
    td_cur_close(&cur);
}

/* Every indexed term has a number within the counter, and a document
 * frequency under it. */
static void s_terms(s_ctx *c)
{
    td_cur *cur;
    td_val k, v;
    char show[128];
    uint64_t term_next = td_txn_counter(c->txn, TD_CTR_TERM_NEXT), n = 0;
    if (td_cur_open(c->txn, TD_DBI_TERMS, &cur) != TD_DB_OK)
        return;
    for (td_db_rc rc = td_cur_first(cur, &k, &v); rc == TD_DB_OK; rc = td_cur_next(cur, &k, &v)) {
        uint32_t no = v.len == 4 ? td_ix_get_u32(v.data) : 0;
        n++;
        if (!no || no > term_next) {
            s_problem(c, "search index: term %s has no valid term number",
                      s_show(k.data, k.len, show, sizeof show));
            continue;
        }
        if (!td_ix_df_of(c->txn, no))
            s_problem(c, "search index: term %s has no document frequency",
                      s_show(k.data, k.len, show, sizeof show));
    }
    td_cur_close(&cur);
    uint64_t dfs = td_txn_entries(c->txn, TD_DBI_TERMDF);
    if (dfs != n)
        s_problem(c, "search index: %llu terms but %llu document frequencies",
                  (unsigned long long)n, (unsigned long long)dfs);
}

/* ---- counters -------------------------------------------------------------- */

static void s_counter(s_ctx *c, td_ctr ctr, uint64_t entries, const char *what)
{
    uint64_t v = td_txn_counter(c->txn, ctr);
    if (v != entries)
        s_problem(c, "counter %s is %llu but there are %llu %s", td_db_counter_name(ctr),
                  (unsigned long long)v, (unsigned long long)entries, what);
}

int td_verify(td_db *db, FILE *out, td_verify_report *report)
{
    td_verify_report dummy;
    td_verify_report *r = report ? report : &dummy;
    memset(r, 0, sizeof *r);
    s_ctx c = {.out = out, .r = r};
    if (td_db_read_begin(db, &c.txn) != TD_DB_OK) {
        if (out)
            fprintf(out, "verify: cannot begin a read transaction\n");
        return 2;
    }
    c.rec = td_arena_new(ARENA_LIMIT);
    c.item = td_arena_new(ARENA_LIMIT);
    c.doc_next = td_txn_counter(c.txn, TD_CTR_DOC_NEXT);
    if (c.doc_next >= MAX_DOCNO) {
        s_problem(&c, "counter doc_next is %llu, beyond any docno",
                  (unsigned long long)c.doc_next);
        c.doc_next = MAX_DOCNO - 1;
    }
    size_t bits = (size_t)(c.doc_next / 8 + 1);
    c.live = calloc(bits, 1);
    c.deleted = calloc(bits, 1);
    if (!c.rec || !c.item || !c.live || !c.deleted) {
        if (out)
            fprintf(out, "verify: out of memory\n");
        td_arena_destroy(&c.rec);
        td_arena_destroy(&c.item);
        free(c.live);
        free(c.deleted);
        td_txn_end(&c.txn);
        return 2;
    }

    s_articles(&c);
    uint64_t listed, ea_listed, story_listed;
    s_events(&c, &listed, &ea_listed);
    if (listed != r->articles)
        s_problem(&c, "events list %llu articles in all but there are %llu articles",
                  (unsigned long long)listed, (unsigned long long)r->articles);
    uint64_t ea = td_txn_entries(c.txn, TD_DBI_EVENT_ARTICLES);
    if (ea != ea_listed)
        s_problem(&c, "event_articles holds %llu entries but events use %llu of them",
                  (unsigned long long)ea, (unsigned long long)ea_listed);
    s_stories(&c, &story_listed);
    if (story_listed != r->events)
        s_problem(&c, "stories list %llu events in all but there are %llu events",
                  (unsigned long long)story_listed, (unsigned long long)r->events);
    uint64_t times = s_event_time(&c);
    if (times != r->events)
        s_problem(&c, "event_time has %llu entries for %llu events", (unsigned long long)times,
                  (unsigned long long)r->events);
    s_keys(&c);
    if (r->keys < r->articles)
        s_problem(&c, "%llu idempotency keys for %llu articles", (unsigned long long)r->keys,
                  (unsigned long long)r->articles);
    s_entity_links(&c);
    s_moved_events(&c);
    s_rejects(&c);

    s_counter(&c, TD_CTR_ARTICLES, r->articles, "articles");
    s_counter(&c, TD_CTR_EVENTS, r->events, "events");
    s_counter(&c, TD_CTR_STORIES, r->stories, "stories");
    s_counter(&c, TD_CTR_REJECTS, r->rejects, "reject records");

    s_index_docs(&c);
    s_counter(&c, TD_CTR_DOC_LIVE, r->docs, "doc records in the search index");
    s_counter(&c, TD_CTR_DOC_LIVE, td_txn_entries(c.txn, TD_DBI_DOCIDS),
              "id map entries in the search index");
    s_terms(&c);
    s_retired(&c);
    s_postings(&c);
    if (td_txn_counter(c.txn, TD_CTR_INDEXED_UPTO) > c.doc_next)
        s_problem(&c, "search index: indexed up to docno %llu, beyond doc_next %llu",
                  (unsigned long long)td_txn_counter(c.txn, TD_CTR_INDEXED_UPTO),
                  (unsigned long long)c.doc_next);

    if (out)
        fprintf(out,
                "verify: %llu articles, %llu events, %llu stories, %llu keys, %llu rejects, "
                "%llu index docs, %llu posting blocks: %llu problem(s)\n",
                (unsigned long long)r->articles, (unsigned long long)r->events,
                (unsigned long long)r->stories, (unsigned long long)r->keys,
                (unsigned long long)r->rejects, (unsigned long long)r->docs,
                (unsigned long long)r->postings, (unsigned long long)r->problems);
    td_arena_destroy(&c.rec);
    td_arena_destroy(&c.item);
    free(c.live);
    free(c.deleted);
    td_txn_end(&c.txn);
    return r->problems ? 1 : 0;
}
