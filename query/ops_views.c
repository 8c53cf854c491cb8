/* ops_views.c — views built on the search index: event.list with `q`,
 * entity.get with mentions per day, similar, changes.since; see ops.h. */
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index_read.h"
#include "log.h"
#include "search.h"
#include "search_op.h"

#define EVENT_HITS 2000        /* article hits aggregated into event ranks */
#define DAY_SCAN 200000        /* entity postings read for per_day */
#define SIMILAR_TERMS 12       /* strongest terms of an article for `similar` */
#define SIMILAR_EVENTS 10

/* ---- event.list with q --------------------------------------------------- */

typedef struct {
    char *id;
    double score, best;
    uint32_t n;
} s_ev;

static int s_ev_cmp(const void *a, const void *b)
{
    const s_ev *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Events of the top article hits, scored: best article + a share of the
 * others (an event many outlets report on a topic outranks a lone one). */
static long s_events_of(td_qctx *ctx, const td_search_res *res, const char *skip_event,
                        s_ev **out)
{
    s_ev *ev = td_arena_alloc(ctx->arena, (res->n + 1) * sizeof *ev);
    if (!ev)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < res->n; i++) {
        td_ix_doc d;
        td_val raw;
        td_article a;
        td_error err;
        if (td_ix_doc_get(ctx->txn, res->hits[i].doc, &d) != TD_DB_OK)
            continue;
        char *id = td_arena_strndup(ctx->arena, d.id, d.idlen);
        if (!id || td_db_article_get(ctx->txn, id, &raw) != TD_DB_OK ||
            td_article_decode(raw.data, raw.len, ctx->arena, &a, &err) != 0 || !a.event)
            continue;
        if (skip_event && strcmp(a.event, skip_event) == 0)
            continue;
        size_t j = 0;
        while (j < n && strcmp(ev[j].id, a.event) != 0)
            j++;
        if (j == n)
            ev[n++] = (s_ev){.id = a.event};
        double s = res->hits[i].score;
        ev[j].score += ev[j].n == 0 ? s : 0.25 * s;
        ev[j].n++;
    }
    qsort(ev, n, sizeof *ev, s_ev_cmp);
    *out = ev;
    return (long)n;
}

static bool s_has(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

int td_op_event_list_view(td_qctx *ctx, const td_query *q)
{
    if (!q->q || !*q->q)
        return td_op_event_list(ctx, q);
    td_query aq = *q;
    aq.entity = NULL;    /* the entity filters events (their links), below */
    aq.source = NULL;
    td_qparsed qp;
    if (td_q_parse(ctx, &aq, &qp) != 0)
        return -1;
    size_t offset = 0;
    td_search_opts o = {.since = TD_TIME_NONE, .until = TD_TIME_NONE, .k = EVENT_HITS,
                        .par = ctx->par};
    td_search_stats st;
    if (q->cursor) {
        unsigned char buf[512];
        double unused;
        uint32_t off;
        size_t n = td_q_cursor_decode(q->cursor, buf, sizeof buf);
        if (!n || td_search_cursor_unpack(buf, n, &st, &unused, &off) != 0)
            return td_q_fail(ctx, TD_E_BAD_REQUEST, "malformed cursor");
        o.pinned = true;   /* same ranking numbers as the first page */
        offset = off;
    }
    td_search_res res;
    if (td_search_exec(ctx->txn, ctx->arena, &qp, &o, &st, &res) != 0)
        return td_q_fail(ctx, TD_E_INTERNAL, "search failed");
    s_ev *ev;
    long n = s_events_of(ctx, &res, NULL, &ev);
    if (n < 0)
        return -1;
    char **ent_ids = NULL;
    size_t n_ent = 0;
    bool ent_filter = q->entity && *q->entity;
    if (ent_filter) {
        td_entity_rec rec;
        int found = td_q_entity(ctx, q->entity, &rec, &ent_ids, &n_ent);
        if (found < 0)
            return -1;
        if (found > 0)
            n_ent = 0;
    }
    td_val *raws = td_arena_alloc(ctx->arena, (q->limit + 1) * sizeof *raws);
    double *scores = td_arena_alloc(ctx->arena, (q->limit + 1) * sizeof *scores);
    if (!raws || !scores)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t w = 0, seen = 0;
    bool more = false;
    for (long i = 0; i < n; i++) {
        if (ent_filter && !s_has(ent_ids, n_ent, ev[i].id))
            continue;
        td_val raw;
        td_event e;
        td_error err;
        if (td_db_event_get(ctx->txn, ev[i].id, &raw) != TD_DB_OK ||
            td_event_decode(raw.data, raw.len, ctx->arena, &e, &err) != 0)
            continue;
        if ((q->story && *q->story && (!e.story || strcmp(e.story, q->story) != 0)) ||
            (q->since != TD_TIME_NONE && e.last_seen < q->since) ||
            (q->until != TD_TIME_NONE && e.first_seen > q->until))
            continue;
        if (seen++ < offset)
            continue;
        if (w == q->limit) {
            more = true;
            break;
        }
        raws[w] = raw;
        scores[w++] = ev[i].score;
    }
    char *next = NULL;
    if (more) {
        unsigned char buf[512];
        size_t bl = td_search_cursor_pack(&st, 0, (uint32_t)(offset + w), buf, sizeof buf);
        if (!bl || !(next = td_q_cursor_encode(ctx->arena, buf, bl)))
            return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    }
    if (td_reply_ok_begin(ctx->pk) || td_event_rank_begin(ctx->pk, w, next != NULL))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (size_t i = 0; i < w; i++)
        if (td_pack_raw(ctx->pk, raws[i].data, raws[i].len))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    if (td_event_scores_end(ctx->pk, scores, w, next))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

/* ---- entity.get with mentions per day ---------------------------------- */

static int s_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Articles per day (UTC) from the entity's postings; *exact false when the
 * scan stopped at DAY_SCAN. */
static long s_per_day(td_qctx *ctx, const char *name, td_day_count **out, bool *exact)
{
    char key[TD_DB_ENTITY_KEY + 8];
    size_t pl = strlen(TD_IX_P_ENTITY);
    memcpy(key, TD_IX_P_ENTITY, pl);
    *exact = true;
    *out = NULL;
    if (!td_db_entity_norm(name, key + pl, sizeof key - pl))
        return 0;
    td_plist *l = td_plist_open(ctx->txn, ctx->arena, key, strlen(key));
    if (!l)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t cap = td_plist_df(l) < DAY_SCAN ? (size_t)td_plist_df(l) + 1 : DAY_SCAN;
    int64_t *days = td_arena_alloc(ctx->arena, cap * sizeof *days);
    if (!days) {
        td_plist_close(l);
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    }
    size_t n = 0;
    for (uint32_t d = td_plist_next_geq(l, 1); d != TD_IX_NONE;
         d = td_plist_next_geq(l, d + 1)) {
        if (n == cap) {
            *exact = false;
            break;
        }
        td_ix_doc doc;
        if (td_ix_doc_get(ctx->txn, d, &doc) != TD_DB_OK)
            continue;   /* a replaced version */
        int64_t t = doc.published_at;
        days[n++] = (t >= 0 ? t : t - 86399999) / 86400000;
    }
    td_plist_close(l);
    qsort(days, n, sizeof *days, s_i64_cmp);
    td_day_count *dc = td_arena_alloc(ctx->arena, (n + 1) * sizeof *dc);
    if (!dc)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && days[i] == days[i - 1]) {
            dc[k - 1].count++;
            continue;
        }
        time_t secs = (time_t)(days[i] * 86400);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(dc[k].day, sizeof dc[k].day, "%Y-%m-%d", &tm);
        dc[k++].count = 1;
    }
    *out = dc;
    return (long)k;
}

int td_op_entity_view(td_qctx *ctx, const td_query *q)
{
    const char *name = q->name && *q->name ? q->name : q->entity;
    if (!name || !*name)
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "'name' is required");
    td_entity_rec rec;
    char **ids;
    size_t n_ids;
    int found = td_q_entity(ctx, name, &rec, &ids, &n_ids);
    if (found < 0)
        return -1;
    if (found > 0)
        return td_q_fail(ctx, TD_E_NOT_FOUND, "no entity '%.200s'", name);
    td_q_event *ev;
    long n = td_q_events_load(ctx, ids, n_ids, &ev);
    if (n < 0)
        return -1;
    qsort(ev, (size_t)n, sizeof *ev, td_q_event_newest_first);
    if (n > (long)q->limit)
        n = (long)q->limit;
    td_day_count *days;
    bool exact;
    long nd = s_per_day(ctx, name, &days, &exact);
    if (nd < 0)
        return -1;
    if (td_reply_ok_begin(ctx->pk) ||
        td_entity_view_begin(ctx->pk, rec.name, td_entity_kind_name(rec.kind), rec.articles,
                             days, (size_t)nd, exact, (size_t)n))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (long i = 0; i < n; i++)
        if (td_pack_raw(ctx->pk, ev[i].raw.data, ev[i].raw.len))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

/* ---- similar -------------------------------------------------------------- */

typedef struct {
    const char *stem;
    double w;
} s_tw;

static int s_tw_cmp(const void *a, const void *b)
{
    const s_tw *x = a, *y = b;
    return x->w > y->w ? -1 : x->w < y->w ? 1 : strcmp(x->stem, y->stem);
}

/* The article's strongest terms (tf x idf, title counted thrice) as one OR
 * clause. */
static int s_profile(td_qctx *ctx, const td_article *a, td_qparsed *qp)
{
    enum { MAXT = 2048 };
    s_tw *tw = td_arena_alloc(ctx->arena, MAXT * sizeof *tw);
    if (!tw)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t n = 0;
    td_tokenizer *tk = td_q_tokenizer();
    const char *fields[2] = {a->title, a->body};
    for (int f = 0; f < 2; f++) {
        if (!fields[f])
            continue;
        td_tokenizer_begin(tk, fields[f], strlen(fields[f]), a->lang);
        td_token t;
        while (td_tokenizer_next(tk, &t)) {
            if (t.stop || t.kind == TD_TOK_NUMBER || t.stem_len < 3)
                continue;
            size_t j = 0;
            while (j < n && strcmp(tw[j].stem, t.stem) != 0)
                j++;
            if (j == n) {
                if (n == MAXT)
                    continue;
                if (!(tw[n].stem = td_arena_strndup(ctx->arena, t.stem, t.stem_len)))
                    return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
                tw[n++].w = 0;
            }
            tw[j].w += f == 0 ? 3 : 1;
        }
    }
    double N = (double)td_txn_counter(ctx->txn, TD_CTR_DOC_LIVE) + 1;
    for (size_t i = 0; i < n; i++) {
        double df = (double)td_ix_df(ctx->txn, tw[i].stem, strlen(tw[i].stem));
        tw[i].w *= log(1 + (N - df + 0.5) / (df + 0.5));
        if (df < 2)
            tw[i].w = 0;   /* only this article has it: finds nothing else */
    }
    qsort(tw, n, sizeof *tw, s_tw_cmp);
    memset(qp, 0, sizeof *qp);
    qp->must = td_arena_alloc(ctx->arena, sizeof *qp->must);
    td_qphrase *alts = td_arena_alloc(ctx->arena, SIMILAR_TERMS * sizeof *alts);
    if (!qp->must || !alts)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n && k < SIMILAR_TERMS; i++) {
        if (tw[i].w <= 0)
            break;
        alts[k].stems = (char **)&tw[i].stem;
        alts[k].offs = td_arena_alloc(ctx->arena, sizeof *alts[k].offs);
        if (!alts[k].offs)
            return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
        alts[k++].n = 1;
    }
    if (k) {
        qp->must[0].alts = alts;
        qp->must[0].n_alts = k;
        qp->n_must = 1;
        qp->n_stems = k;
    }
    return 0;
}

int td_op_similar(td_qctx *ctx, const td_query *q)
{
    if (!q->id || !*q->id)
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "'id' is required");
    td_val raw;
    td_article a;
    td_error err;
    td_db_rc rc = td_db_article_get(ctx->txn, q->id, &raw);
    if (rc == TD_DB_NOTFOUND || rc == TD_DB_BADVAL)
        return td_q_fail(ctx, TD_E_NOT_FOUND, "no article '%.200s'", q->id);
    if (rc || td_article_decode(raw.data, raw.len, ctx->arena, &a, &err) != 0)
        return td_q_fail(ctx, TD_E_INTERNAL, "article does not read");
    td_qparsed qp;
    if (s_profile(ctx, &a, &qp) != 0)
        return -1;
    uint32_t self_doc = TD_IX_NONE;
    td_ix_docno(ctx->txn, a.id, &self_doc);
    uint32_t k = q->limit < 50 ? 50 : q->limit;
    td_search_opts o = {.since = q->since, .until = q->until, .k = k, .par = ctx->par};
    td_search_stats st;
    td_search_res res = {0};
    if (qp.n_must && td_search_exec(ctx->txn, ctx->arena, &qp, &o, &st, &res) != 0)
        return td_q_fail(ctx, TD_E_INTERNAL, "search failed");
    size_t w = 0;
    for (size_t i = 0; i < res.n; i++)
        if (res.hits[i].doc != self_doc)
            res.hits[w++] = res.hits[i];
    res.n = w;
    s_ev *ev;
    long ne = s_events_of(ctx, &res, a.event, &ev);
    if (ne < 0)
        return -1;
    if (ne > SIMILAR_EVENTS)
        ne = SIMILAR_EVENTS;
    size_t na = res.n < q->limit ? res.n : q->limit;
    td_hit *hits = td_arena_alloc(ctx->arena, (na + 1) * sizeof *hits);
    if (!hits)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t nh = 0;
    for (size_t i = 0; i < na; i++) {
        td_article other;
        int r = td_q_hit_load(ctx, &qp, res.hits[i].doc, res.hits[i].score, &hits[nh], &other);
        if (r < 0)
            return -1;
        nh += r == 0;
    }
    td_val *raws = td_arena_alloc(ctx->arena, ((size_t)ne + 1) * sizeof *raws);
    if (!raws)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t nr = 0;
    for (long i = 0; i < ne; i++)
        if (td_db_event_get(ctx->txn, ev[i].id, &raws[nr]) == TD_DB_OK)
            nr++;
    if (td_reply_ok_begin(ctx->pk) || td_similar_begin(ctx->pk, nh))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (size_t i = 0; i < nh; i++)
        if (td_hit_pack(ctx->pk, &hits[i]))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    if (td_similar_events(ctx->pk, nr))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (size_t i = 0; i < nr; i++)
        if (td_pack_raw(ctx->pk, raws[i].data, raws[i].len))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

/* ---- changes.since ----------------------------------------------------------- */

int td_op_changes_since(td_qctx *ctx, const td_query *q)
{
    uint64_t last = td_txn_counter(ctx->txn, TD_CTR_SEQ);
    char want[TD_DB_ENTITY_KEY + 32] = "";
    if (q->entity && *q->entity) {
        size_t pl = strlen("article.entity.");
        memcpy(want, "article.entity.", pl);
        if (!td_db_entity_norm(q->entity, want + pl, sizeof want - pl))
            want[0] = 0;
    }
    td_val *raws = td_arena_alloc(ctx->arena, (q->limit + 1) * sizeof *raws);
    if (!raws)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    td_cur *c;
    td_db_rc rc = td_cur_open(ctx->txn, TD_DBI_CHANGES, &c);
    if (rc)
        return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
    unsigned char k8[8];
    td_db_u64_put(k8, q->after_seq + 1);
    td_val k, v;
    size_t n = 0;
    bool more = false, truncated = false;
    uint64_t next = 0;
    rc = td_cur_seek(c, k8, 8, &k, &v);
    if (rc == TD_DB_OK && k.len == 8 && td_db_u64_get(k.data) > q->after_seq + 1)
        truncated = true;   /* the window moved past what the client saw */
    if (rc == TD_DB_NOTFOUND && q->after_seq < last)
        truncated = true;
    /* the filters read each entry; bound the scan so a rare topic cannot
     * make one request walk the whole log */
    size_t scanned = 0;
    for (; rc == TD_DB_OK && k.len == 8; rc = td_cur_next(c, &k, &v)) {
        uint64_t seq = td_db_u64_get(k.data);
        if (n == q->limit || ++scanned > 100000) {
            more = true;
            break;
        }
        next = seq;
        if (want[0] || (q->event && *q->event)) {
            td_notice nt;
            td_error err;
            if (td_change_decode(v.data, v.len, ctx->arena, &nt, &err) != 0)
                continue;
            const char *topic = nt.topic ? nt.topic : nt.type;
            if (want[0] && strcmp(topic, want) != 0)
                continue;
            if (q->event && *q->event &&
                !((nt.event && strcmp(nt.event, q->event) == 0) ||
                  (strncmp(nt.type, "event.", 6) == 0 && strcmp(nt.id, q->event) == 0 &&
                   strcmp(topic, nt.type) == 0)))
                continue;
        }
        raws[n++] = v;
    }
    td_cur_close(&c);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
    if (td_reply_ok_begin(ctx->pk) || td_changes_begin(ctx->pk, n, last, truncated, more, next))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (size_t i = 0; i < n; i++)
        if (td_pack_raw(ctx->pk, raws[i].data, raws[i].len))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}
