/* assign.c — event and story assignment; see assign.h.
 *
 * For each new article: an exact copy joins its original's event; otherwise
 * the candidate index (cluster.h) scores the events active around the
 * article's time and the article joins the best one at or above the
 * threshold, or starts a new event, which joins the story of the most
 * similar recent event (stories.h). Then provenance (provenance.h) is
 * checked against the latest articles of the chosen event, the claims
 * ledger (ledger.h) and the other aggregates are merged, and the reasons
 * are kept in the article's `assignment` features.
 */
#include "assign.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cluster.h"
#include "entity_tally.h"
#include "ledger.h"
#include "log.h"
#include "provenance.h"
#include "stories.h"

#define SUMMARY_MAX 400
#define TITLE_MAX 160
#define ENTITIES_MAX 256   /* entity records touched per article */
#define EVENT_ENTITIES 64  /* entities listed on an event */
#define EVENT_PLACES 10
#define EVENT_KEYWORDS 12
#define RELATED_MAX 4      /* related events looked for when a story is chosen */
#define EVENT_IDS 256      /* article ids embedded in the event record (the first ones;
                            * all of them are in event_articles) */
#define EA_KEY (TD_DB_MAX_KEY + 8)

struct td_assign {
    td_cluster *cluster;
    td_ledger *ledger;
    td_etally *tally;   /* entity records and links not yet in their tables */
    bool settle;        /* td_assign_flush's: the entity tables written now */
    /* records read only to compare or rewrite one at a time (the recent
     * articles' fingerprints, articles relinked or moved): reset after
     * each, so they do not pile up in the transaction's arena (up to 32
     * fingerprints of several KiB per article, for a whole batch) */
    td_arena *scratch;
    td_prov_tab *ptab;  /* the terms of the article being assigned, by hash */
};

td_assign *td_assign_new(void)
{
    td_assign *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    td_cluster_opts o;
    td_cluster_opts_default(&o);
    self->cluster = td_cluster_new(&o);
    self->ledger = td_ledger_new();
    self->scratch = td_arena_new(0);
    self->tally = td_etally_new();
    self->ptab = td_prov_tab_new();
    if (!self->cluster || !self->ledger || !self->scratch || !self->tally || !self->ptab)
        td_assign_destroy(&self);
    return self;
}

void td_assign_destroy(td_assign **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_cluster_destroy(&(*self_p)->cluster);
    td_ledger_destroy(&(*self_p)->ledger);
    td_arena_destroy(&(*self_p)->scratch);
    td_etally_destroy(&(*self_p)->tally);
    td_prov_tab_destroy(&(*self_p)->ptab);
    free(*self_p);
    *self_p = NULL;
}

void td_assign_begin(td_assign *self)
{
    td_cluster_aborted(self->cluster);
    td_etally_begin(self->tally);
}

void td_assign_committed(td_assign *self)
{
    td_cluster_committed(self->cluster);
    td_etally_committed(self->tally);
}

void td_assign_aborted(td_assign *self)
{
    td_cluster_aborted(self->cluster);
    td_etally_aborted(self->tally);
}

static td_db_rc s_flush(td_txn *txn, void *arg)
{
    td_assign *self = arg;
    td_db_rc rc = td_cluster_flush(self->cluster, txn);
    return rc == TD_DB_OK ? td_etally_flush(self->tally, txn, self->settle) : rc;
}

td_db_rc td_assign_flush(td_assign *self, td_txn *txn, bool settle)
{
    self->settle = settle;
    /* In a child transaction: these writes come last, when the batch's
     * list of dirty pages is longest, and LMDB inserts each page it
     * dirties into that sorted list (mdb_mid2l_insert 6 us per article
     * around 1M stored, against 2-4 before the entity tally wrote here);
     * a child's list starts empty and joins its parent's in one merge. */
    return td_txn_nested_own(txn, s_flush, self);
}

bool td_assign_entities_waiting(const td_assign *self)
{
    return td_etally_waiting(self->tally);
}

td_db_rc td_assign_entities_load(td_assign *self, td_txn *txn)
{
    return td_etally_load(self->tally, txn);
}

size_t td_assign_window_events(const td_assign *self)
{
    return td_cluster_live(self->cluster);
}

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char *td_assign_summary(const char *body, size_t max, td_arena *arena)
{
    if (!body)
        return td_arena_strdup(arena, "");
    char *out = td_arena_alloc(arena, max + 1);
    if (!out)
        return NULL;
    size_t w = 0, last_end = 0, last_space = 0;
    int sentences = 0;
    const char *p = body;
    while (*p && s_is_space(*p))
        p++;
    for (; *p && w < max; p++) {
        if (s_is_space(*p)) {
            /* collapse runs of blanks and paragraph breaks */
            if (w > 0 && out[w - 1] != ' ') {
                last_space = w;
                out[w++] = ' ';
            }
            continue;
        }
        out[w++] = *p;
        bool end = (*p == '.' || *p == '!' || *p == '?') && (!p[1] || s_is_space(p[1]));
        /* "J." or "U.S." are initials, not sentence ends */
        if (end && *p == '.' && w >= 2 && out[w - 2] >= 'A' && out[w - 2] <= 'Z' &&
            (w == 2 || out[w - 3] == ' ' || out[w - 3] == '.'))
            end = false;
        if (end) {
            last_end = w;
            if (++sentences == 2)
                break;
        }
    }
    if (*p && sentences < 2 && w >= max) {
        /* cut too long: stop at the last complete sentence, else a word */
        if (last_end)
            w = last_end;
        else if (!s_is_space(*p) && last_space)
            w = last_space;
        /* never end inside a UTF-8 sequence */
        size_t s = w;
        while (s > 0 && ((unsigned char)out[s - 1] & 0xC0) == 0x80)
            s--;
        if (s > 0 && ((unsigned char)out[s - 1] & 0xC0) == 0xC0) {
            unsigned char lead = (unsigned char)out[s - 1];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (w - (s - 1) < need)
                w = s - 1;
        }
    }
    while (w > 0 && out[w - 1] == ' ')
        w--;
    out[w] = '\0';
    return out;
}

/* The distinct entities of an article, by normalised key. */
typedef struct {
    char *key;
    const td_entity *en;   /* its first mention */
} s_ent;

static long s_entities(const td_article *a, td_arena *arena, s_ent **out)
{
    size_t max = a->n_entities < ENTITIES_MAX ? a->n_entities : ENTITIES_MAX;
    s_ent *set = td_arena_alloc(arena, (max ? max : 1) * sizeof *set);
    if (!set)
        return -1;
    size_t n = 0;
    char key[TD_DB_ENTITY_KEY];
    for (size_t i = 0; i < max; i++) {
        if (!td_db_entity_norm(a->entities[i].name, key, sizeof key))
            continue;
        bool have = false;
        for (size_t j = 0; j < n && !have; j++)
            have = strcmp(set[j].key, key) == 0;
        if (have)
            continue;
        if (!(set[n].key = td_arena_strdup(arena, key)))
            return -1;
        set[n++].en = &a->entities[i];
    }
    *out = set;
    return (long)n;
}

static bool s_ent_has(const s_ent *set, long n, const char *key)
{
    for (long i = 0; i < n; i++)
        if (strcmp(set[i].key, key) == 0)
            return true;
    return false;
}

/* Count one more (delta +1) or one fewer (-1) article for an entity, and
 * link it to `event` when given (held by the tally until the commit). */
static td_db_rc s_entity_touch(td_assign *self, td_txn *txn, const s_ent *ent, int delta,
                               const char *event)
{
    td_db_rc rc = td_etally_add(self->tally, txn, ent->key, ent->en->name, ent->en->kind, delta);
    if (rc != TD_DB_OK)
        return rc;
    return event ? td_etally_link(self->tally, txn, ent->key, event) : TD_DB_OK;
}

/* ---- aggregates --------------------------------------------------------- */

static char *s_day_str(int32_t z, td_arena *arena)
{
    /* civil from days (Howard Hinnant) */
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return td_arena_printf(arena, "%04d-%02u-%02u", y + (m <= 2), m, d);
}

static void s_tally_day(td_cstate *st, int32_t day)
{
    if (day == INT32_MIN)
        return;
    for (size_t i = 0; i < st->n_days; i++)
        if (st->days[i] == day) {
            st->day_counts[i]++;
            return;
        }
    if (st->n_days < TD_CLUSTER_DAYS) {
        st->days[st->n_days] = day;
        st->day_counts[st->n_days++] = 1;
    }
}

static int32_t s_mode_day(const td_cstate *st)
{
    int32_t best = INT32_MIN;
    uint32_t bc = 0;
    for (size_t i = 0; i < st->n_days; i++)
        if (st->day_counts[i] > bc || (st->day_counts[i] == bc && st->days[i] < best))
            bc = st->day_counts[i], best = st->days[i];
    return best;
}

/* Copy the cluster state's aggregates (counts, time span, most common
 * day) into the event record, after an article joins or two events merge.
 * Returns 0, or -1 when out of memory. */
static int s_set_aggregates(td_event *e, const td_cstate *st, td_arena *arena)
{
    e->articles = st->articles;
    e->independent_sources = st->independent;
    e->sources = (uint32_t)(st->n_sources + st->extra_sources);
    e->first_seen = st->first;
    e->last_seen = st->last;
    int32_t day = s_mode_day(st);
    if (day != INT32_MIN && !(e->event_date = s_day_str(day, arena)))
        return -1;
    return 0;
}

static void s_count_source(td_cstate *st, const char *source)
{
    uint64_t h = XXH3_64bits(source ? source : "", source ? strlen(source) : 0);
    for (size_t i = 0; i < st->n_sources; i++)
        if (st->sources[i] == h)
            return;
    if (st->n_sources < TD_CLUSTER_SOURCES)
        st->sources[st->n_sources++] = h;
    else
        st->extra_sources++;
}

static void s_push_recent(td_cstate *st, char *id)
{
    if (st->n_recent == TD_CLUSTER_RECENT) {
        memmove(st->recent, st->recent + 1, (TD_CLUSTER_RECENT - 1) * sizeof *st->recent);
        st->n_recent--;
    }
    st->recent[st->n_recent++] = id;
}

static int s_cmp_count(const void *a, const void *b)
{
    uint32_t x = ((const td_entity *)a)->count, y = ((const td_entity *)b)->count;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Entities (merged counts, heaviest first), places and keywords. */
static int s_merge_entity_list(td_event *e, const td_entity *add, size_t n_add,
                               const td_cstate *st, td_arena *arena)
{
    size_t n = e->n_entities;
    td_entity *m = td_arena_alloc(arena, (n + n_add + 1) * sizeof *m);
    char (*keys)[TD_DB_ENTITY_KEY] = td_arena_alloc(arena, (n + n_add + 1) * sizeof *keys);
    if (!m || !keys)
        return -1;
    if (n)
        memcpy(m, e->entities, n * sizeof *m);
    for (size_t j = 0; j < n; j++)
        if (!td_db_entity_norm(m[j].name, keys[j], sizeof keys[j]))
            keys[j][0] = '\0';
    char k1[TD_DB_ENTITY_KEY];
    for (size_t i = 0; i < n_add; i++) {
        if (!td_db_entity_norm(add[i].name, k1, sizeof k1))
            continue;
        size_t j = 0;
        for (; j < n; j++)
            if (strcmp(k1, keys[j]) == 0)
                break;
        if (j < n) {
            m[j].count += add[i].count;
        } else {
            memcpy(keys[n], k1, sizeof k1);
            m[n++] = add[i];
        }
    }
    qsort(m, n, sizeof *m, s_cmp_count);
    e->entities = m;
    e->n_entities = n < EVENT_ENTITIES ? n : EVENT_ENTITIES;
    e->places = td_arena_alloc(arena, EVENT_PLACES * sizeof(char *));
    e->keywords = td_arena_alloc(arena, EVENT_KEYWORDS * sizeof(char *));
    if (!e->places || !e->keywords)
        return -1;
    e->n_places = e->n_keywords = 0;
    for (size_t i = 0; i < e->n_entities && e->n_places < EVENT_PLACES; i++)
        if (m[i].kind == TD_ENT_PLACE || m[i].kind == TD_ENT_COUNTRY)
            e->places[e->n_places++] = m[i].name;
    for (size_t i = 0; i < st->n_terms && e->n_keywords < EVENT_KEYWORDS; i++)
        if (st->terms[i].word)
            e->keywords[e->n_keywords++] = (char *)st->terms[i].word;
    return 0;
}

static int s_merge_entities(td_event *e, const td_article *a, const td_cstate *st,
                            td_arena *arena)
{
    return s_merge_entity_list(e, a->entities, a->n_entities, st, arena);
}

static int s_features(td_article *a, td_arena *arena, const td_cscore *p, double threshold,
                      size_t candidates, bool created, bool copy, double story)
{
    a->assignment = td_arena_alloc(arena, 12 * sizeof *a->assignment);
    if (!a->assignment)
        return -1;
    size_t n = 0;
#define F(name_, v_) a->assignment[n++] = (td_feature){.name = name_, .value = (v_)}
    F("score", p->score);
    F("threshold", threshold);
    F("text", p->text);
    F("title", p->title);
    F("entities", p->ents);
    F("time", p->time);
    F("date", p->date);
    F("candidates", (double)candidates);
    F("new_event", created ? 1 : 0);
    if (copy)
        F("copy", 1);
    if (created && story >= 0)
        F("story", story);
#undef F
    a->n_assignment = n;
    return 0;
}

/* The fields of an event that come from its one (or representative) article:
 * title (headline, else the lead), summary, event date, first/last seen.
 * Returns -1 when the arena is full. */
static int s_event_from_article(td_event *e, const td_article *a, td_arena *arena)
{
    e->summary = td_assign_summary(a->body, SUMMARY_MAX, arena);
    e->title = a->title && *a->title ? a->title : td_assign_summary(a->body, TITLE_MAX, arena);
    if (!e->summary || !e->title)
        return -1;
    e->event_date = a->event_date;
    e->first_seen = e->last_seen = a->published_at;
    return 0;
}


/* ---- event_articles: every article of an event, in arrival order ------ */

static size_t s_ea_key(const char *eid, uint32_t ord, unsigned char *k)
{
    size_t n = strlen(eid);
    if (n + 5 > EA_KEY || n + 5 > TD_DB_MAX_KEY)
        return 0;
    memcpy(k, eid, n);
    k[n] = '\0';
    k[n + 1] = (unsigned char)(ord >> 24);
    k[n + 2] = (unsigned char)(ord >> 16);
    k[n + 3] = (unsigned char)(ord >> 8);
    k[n + 4] = (unsigned char)ord;
    return n + 5;
}

/* Article `aid` is the `ord`-th (from 0) of event `eid`; the event record
 * embeds it too while it has fewer than EVENT_IDS. */
static td_db_rc s_ea_add(td_txn *txn, td_event *e, uint32_t ord, char *aid, td_arena *arena)
{
    unsigned char k[EA_KEY];
    size_t kl = s_ea_key(e->id, ord, k);
    if (kl) {
        td_db_rc rc = td_txn_put(txn, TD_DBI_EVENT_ARTICLES, k, kl, aid, strlen(aid));
        if (rc)
            return rc;
    }
    if (e->n_article_ids < EVENT_IDS) {
        char **ids = td_arena_alloc(arena, (e->n_article_ids + 1) * sizeof *ids);
        if (!ids)
            return TD_DB_ERROR;
        if (e->n_article_ids)   /* memcpy from NULL is UB even for 0 bytes */
            memcpy(ids, e->article_ids, e->n_article_ids * sizeof *ids);
        ids[e->n_article_ids++] = aid;
        e->article_ids = ids;
    }
    return TD_DB_OK;
}

td_db_rc td_assign_event_articles(td_txn *txn, const td_event *e, td_arena *arena,
                                  char ***ids, size_t *n)
{
    unsigned char k[EA_KEY];
    size_t kl = s_ea_key(e->id, 0, k);
    size_t cap = e->articles + 1, m = 0;
    char **out = td_arena_alloc(arena, cap * sizeof *out);
    if (!out)
        return TD_DB_ERROR;
    td_cur *cur;
    td_db_rc rc = kl ? td_cur_open(txn, TD_DBI_EVENT_ARTICLES, &cur) : TD_DB_NOTFOUND;
    if (rc == TD_DB_OK) {
        td_val key, val;
        for (rc = td_cur_seek(cur, k, kl - 4, &key, &val);
             rc == TD_DB_OK && key.len == kl && memcmp(key.data, k, kl - 4) == 0;
             rc = td_cur_next(cur, &key, &val)) {
            if (m == cap) {
                char **more = td_arena_alloc(arena, 2 * cap * sizeof *more);
                if (!more) {
                    td_cur_close(&cur);
                    return TD_DB_ERROR;
                }
                memcpy(more, out, m * sizeof *out);
                out = more;
                cap *= 2;
            }
            if (!(out[m++] = td_arena_strndup(arena, val.data, val.len))) {
                td_cur_close(&cur);
                return TD_DB_ERROR;
            }
        }
        td_cur_close(&cur);
        if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
            return rc;
    }
    if (m == 0) {
        for (size_t i = 0; i < e->n_article_ids && m < cap; i++)
            out[m++] = e->article_ids[i];
    }
    *ids = out;
    *n = m;
    return TD_DB_OK;
}

/* A new event of the article, in story `story` (NULL: a new story). */
static td_db_rc s_create(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                         const td_cvec *v, td_notices *notices)
{
    uint64_t en = td_txn_counter_add(txn, TD_CTR_EVENT_NEXT, 1);
    char *eid = td_arena_printf(arena, "e%llu", (unsigned long long)en);
    if (!eid)
        return TD_DB_ERROR;
    /* the story: that of the most similar event in the story window */
    char *rel[RELATED_MAX], *rel_story[RELATED_MAX];
    double rel_score[RELATED_MAX];
    int nrel = td_cluster_related(self->cluster, txn, v, NULL, arena, RELATED_MAX, rel,
                                  rel_story, rel_score);
    if (nrel < 0)
        return TD_DB_ERROR;
    char *sid = NULL;
    td_db_rc rc;
    if (nrel > 0 && rel_story[0][0]) {
        sid = rel_story[0];
        if ((rc = td_stories_add(txn, arena, sid, eid, a->published_at)) != TD_DB_OK)
            return rc;
    } else if ((rc = td_stories_create(txn, arena, eid, a->published_at, &sid)) != TD_DB_OK) {
        return rc;
    }
    td_event e = {0};
    e.id = eid;
    e.story = sid;
    if (s_event_from_article(&e, a, arena) < 0)
        return TD_DB_ERROR;
    e.articles = e.sources = e.independent_sources = 1;
    e.related = td_arena_alloc(arena, RELATED_MAX * sizeof(char *));
    if (!e.related)
        return TD_DB_ERROR;
    if ((rc = s_ea_add(txn, &e, 0, a->id, arena)) != TD_DB_OK)
        return rc;
    for (int i = 0; i < nrel; i++)
        if (strcmp(rel_story[i], sid) == 0)
            e.related[e.n_related++] = rel[i];

    td_cstate st;
    memset(&st, 0, sizeof st);
    st.id = eid;
    st.story = sid;
    st.first = st.last = a->published_at;
    st.articles = st.independent = 1;
    st.central = -1;
    st.central_id = a->id;
    td_cluster_merge(&st, v, arena);
    s_push_recent(&st, a->id);
    s_count_source(&st, a->source);
    s_tally_day(&st, v->day);

    if (s_merge_entities(&e, a, &st, arena) != 0 ||
        td_ledger_add(self->ledger, &e, a, false, arena) != 0)
        return TD_DB_ERROR;
    if ((rc = td_db_event_put(txn, &e, TD_TIME_NONE)) != TD_DB_OK ||
        (rc = td_cluster_put(self->cluster, txn, &st)) != TD_DB_OK)
        return rc;
    td_txn_counter_add(txn, TD_CTR_EVENTS, 1);
    for (size_t i = 0; i < e.n_related; i++)
        if ((rc = td_stories_relate(txn, arena, e.related[i], eid)) != TD_DB_OK)
            return rc;
    a->event = eid;
    a->story = sid;
    if (td_notices_add(notices, txn, TD_TOPIC_EVENT_CREATED, eid, eid, sid, e.title,
                       a->ingested_at) != 0)
        return TD_DB_ERROR;
    return TD_DB_OK;
}

/* The earlier article of the event this one was made from, if any. */
static td_db_rc s_provenance(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                             const td_fprint *fp, const td_cstate *st)
{
    td_prov_match best = {0};
    const char *best_id = NULL;
    static const char *const rank[] = {"rewrite", "trimmed", "copy"};
    (void)arena;
    for (size_t i = 0; i < st->n_recent; i++) {
        td_fprint old;
        td_arena_reset(self->scratch);
        td_db_rc rc = td_prov_get(txn, st->recent[i], self->scratch, &old);
        if (rc == TD_DB_NOTFOUND)
            continue;
        if (rc)
            return rc;
        td_prov_match m;
        td_prov_compare(fp, a->body, &old, &m);
        td_debug("provenance %s <- %s: overlap %.2f same %.2f hamming %d credit %d: %s", a->id,
                 st->recent[i], m.overlap, m.same, m.hamming, m.credit,
                 m.kind ? m.kind : "independent");
        if (!m.kind)
            continue;
        int rm = 0, rb = -1;
        for (int k = 0; k < 3; k++) {
            if (strcmp(m.kind, rank[k]) == 0)
                rm = k;
            if (best.kind && strcmp(best.kind, rank[k]) == 0)
                rb = k;
        }
        if (rm > rb || (rm == rb && m.overlap > best.overlap)) {
            best = m;
            best_id = st->recent[i];
        }
    }
    (void)self;
    if (best_id) {
        a->derived_id = (char *)best_id;
        a->derived_kind = (char *)best.kind;
        if (strcmp(best.kind, "rewrite") != 0)
            a->duplicate_of = (char *)best_id;
    }
    return TD_DB_OK;
}

/* The articles of the event published after `a` that were made from it: a
 * copy or rewrite that arrived before its source (`later_copy`: one with
 * the same body, found by its hash). They are relinked to `a`
 * (derived_from, duplicate_of) and stop counting as independent sources;
 * their ids go to `moved` (room for st->n_recent + 1), *n_moved tells how
 * many. `arena` is a scratch arena, reset for each record read (nothing
 * read here outlives its iteration; the ids are the state's and the
 * caller's). */
static td_db_rc s_relink(td_txn *txn, td_arena *arena, const td_article *a, const td_fprint *fp,
                         const td_cstate *st, const char *later_copy, const char **moved,
                         uint32_t *n_moved)
{
    *n_moved = 0;
    /* in an in-order stream nothing of the event is later than `a` */
    if (a->published_at == TD_TIME_NONE || (!later_copy && a->published_at >= st->last))
        return TD_DB_OK;
    for (size_t i = 0; i <= st->n_recent; i++) {
        /* the exact copy first (it may have left the recent list) */
        const char *rid = i == 0 ? later_copy : st->recent[i - 1];
        if (!rid || (i > 0 && later_copy && strcmp(rid, later_copy) == 0) ||
            strcmp(rid, a->id) == 0)
            continue;
        bool exact = i == 0;
        td_fprint old;
        td_db_rc rc;
        td_arena_reset(arena); /* the scratch arena: one record at a time */
        if (!exact) {
            if ((rc = td_prov_get(txn, rid, arena, &old)) == TD_DB_NOTFOUND)
                continue;
            if (rc)
                return rc;
            if (old.t == TD_TIME_NONE || old.t <= a->published_at)
                continue; /* published before `a`: `a` cannot be its source */
        }
        /* the fingerprints first: most recent articles are not copies of
         * `a`, and decoding each whole record to find that out was most of
         * the cost of joining an event out of order */
        td_prov_match m = {.kind = "copy"};
        if (!exact) {
            td_prov_compare(&old, NULL, fp, &m);
            if (!m.kind && !m.need_body)
                continue;
        }
        td_val raw;
        td_article r;
        td_error err;
        if ((rc = td_db_article_get(txn, rid, &raw)) == TD_DB_NOTFOUND)
            continue;
        if (rc)
            return rc;
        if (td_article_decode(raw.data, raw.len, arena, &r, &err) != 0 || r.derived_id)
            continue; /* unreadable, or it has its source already */
        if (m.need_body)
            td_prov_compare(&old, r.body, fp, &m);
        if (!m.kind)
            continue;
        const char *kind = m.kind;
        r.derived_id = a->id;
        r.derived_kind = (char *)kind;
        if (strcmp(kind, "rewrite") != 0)
            r.duplicate_of = a->id;
        if ((rc = td_db_article_put(txn, &r)) != TD_DB_OK)
            return rc;
        td_debug("provenance %s relinked: %s of the late %s", rid, kind, a->id);
        moved[(*n_moved)++] = rid;
    }
    return TD_DB_OK;
}

/* Join the stored event `eid`. */
static td_db_rc s_join(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                       const td_cvec *v, const td_fprint *fp, const char *eid, double sim,
                       const char *later_copy, td_notices *notices)
{
    td_val raw;
    td_event e;
    td_error err;
    td_db_rc rc = td_db_event_get(txn, eid, &raw);
    if (rc)
        return rc;
    if (td_event_decode(raw.data, raw.len, arena, &e, &err) != 0) {
        td_warn("event %s does not decode (%s): starting a new one", eid, err.message);
        return TD_DB_NOTFOUND;
    }
    td_cstate st;
    if ((rc = td_cluster_get(txn, eid, arena, &st)) == TD_DB_NOTFOUND) {
        /* an event of an older store: start its state from this article */
        memset(&st, 0, sizeof st);
        st.id = e.id;
        st.story = e.story;
        st.first = e.first_seen;
        st.last = e.last_seen;
        st.articles = e.articles;
        st.independent = e.independent_sources;
        st.central = 2;
    } else if (rc) {
        return rc;
    }
    /* the article's terms by hash, for its comparisons with the recent
     * articles of the event */
    td_fprint fpt = *fp;
    if (st.n_recent)
        td_prov_tab_build(self->ptab, &fpt);
    if (!a->derived_id && (rc = s_provenance(self, txn, arena, a, &fpt, &st)) != TD_DB_OK)
        return rc;
    bool derived = a->derived_id != NULL;
    int64_t old_last = e.last_seen;
    uint32_t relinked;
    const char **moved = td_arena_alloc(arena, (st.n_recent + 1) * sizeof *moved);
    if (!moved)
        return TD_DB_ERROR;
    if ((rc = s_relink(txn, self->scratch, a, &fpt, &st, later_copy, moved, &relinked)) !=
        TD_DB_OK)
        return rc;

    td_cluster_merge(&st, v, arena);
    st.articles++;
    if (!derived)
        st.independent++;
    st.independent = relinked < st.independent ? st.independent - relinked : 1;
    if (a->published_at < st.first)
        st.first = a->published_at;
    if (a->published_at > st.last)
        st.last = a->published_at;
    s_push_recent(&st, a->id);
    s_count_source(&st, a->source);
    s_tally_day(&st, v->day);
    /* the central article gives the title and summary: the one most like
     * the event when it joined (the first article until a second compares) */
    if (st.central < 0) {
        st.central = sim;
    } else if (!derived && sim > st.central) {
        st.central = sim;
        st.central_id = a->id;
        e.title = a->title && *a->title ? a->title : td_assign_summary(a->body, TITLE_MAX, arena);
        e.summary = td_assign_summary(a->body, SUMMARY_MAX, arena);
        if (!e.title || !e.summary)
            return TD_DB_ERROR;
    }

    if ((rc = s_ea_add(txn, &e, e.articles, a->id, arena)) != TD_DB_OK)
        return rc;
    if (s_set_aggregates(&e, &st, arena) != 0 || s_merge_entities(&e, a, &st, arena) != 0 ||
        td_ledger_add(self->ledger, &e, a, derived, arena) != 0)
        return TD_DB_ERROR;
    td_ledger_unconfirm(&e, moved, relinked);
    if ((rc = td_db_event_put(txn, &e, old_last)) != TD_DB_OK ||
        (rc = td_cluster_put(self->cluster, txn, &st)) != TD_DB_OK)
        return rc;
    a->event = e.id;
    a->story = e.story;
    if (td_notices_add(notices, txn, TD_TOPIC_EVENT_UPDATED, e.id, e.id, e.story, e.title,
                       a->ingested_at) != 0)
        return TD_DB_ERROR;
    return TD_DB_OK;
}

/* The event of the original of an exact copy (NULL when there is none).
 * When the stored article with the same body was published after `a`, it is
 * the copy, which arrived first: *later names it and `a` is no copy. */
static td_db_rc s_exact(td_txn *txn, td_arena *arena, td_article *a, char **event,
                        char **later)
{
    *event = NULL;
    *later = NULL;
    char *orig;
    td_db_rc rc = td_prov_exact(txn, a->content_hash, arena, &orig);
    if (rc == TD_DB_NOTFOUND)
        return TD_DB_OK;
    if (rc)
        return rc;
    if (strcmp(orig, a->id) == 0)
        return TD_DB_OK;
    td_val raw;
    td_article o;
    td_error err;
    if ((rc = td_db_article_get(txn, orig, &raw)) != TD_DB_OK)
        return rc == TD_DB_NOTFOUND ? TD_DB_OK : rc;
    if (td_article_decode(raw.data, raw.len, arena, &o, &err) != 0 || !o.event)
        return TD_DB_OK;
    *event = o.event;
    if (o.published_at != TD_TIME_NONE && a->published_at != TD_TIME_NONE &&
        o.published_at > a->published_at) {
        *later = orig;
        return TD_DB_OK;
    }
    a->duplicate_of = orig;
    a->derived_id = orig;
    a->derived_kind = "copy";
    return TD_DB_OK;
}

/* Drop `event` from its story's list (the story goes when it is empty). */
static td_db_rc s_story_drop(td_txn *txn, td_arena *arena, const char *story,
                             const char *event)
{
    td_val raw;
    td_story s;
    td_error err;
    td_db_rc rc = td_db_story_get(txn, story, &raw);
    if (rc)
        return rc == TD_DB_NOTFOUND ? TD_DB_OK : rc;
    if (td_story_decode(raw.data, raw.len, arena, &s, &err) != 0)
        return TD_DB_OK;
    size_t w = 0;
    for (size_t i = 0; i < s.n_event_ids; i++)
        if (strcmp(s.event_ids[i], event) != 0)
            s.event_ids[w++] = s.event_ids[i];
    if (w == s.n_event_ids)
        return TD_DB_OK;
    s.n_event_ids = w;
    if (w == 0) {
        td_txn_counter_add(txn, TD_CTR_STORIES, -1);
        return td_txn_del(txn, TD_DBI_STORIES, story, strlen(story));
    }
    return td_db_story_put(txn, &s);
}

/* Merge event `gone` into event `keep`: two events that turn out to be one
 * happening (an article scores high against both, and their centroids are
 * close). The articles of `gone` are moved (their records point to `keep`),
 * its aggregates, ledger, entities and clustering state are folded in, and
 * `gone` is deleted. Returns TD_DB_OK (also when the merge is declined). */
static td_db_rc s_merge(td_assign *self, td_txn *txn, td_arena *arena, const char *keep,
                        const char *gone, td_notices *notices, int64_t at)
{
    td_val raw;
    td_event ek, eg;
    td_error err;
    td_cstate sk, sg;
    td_db_rc rc;
    if ((rc = td_db_event_get(txn, keep, &raw)) != TD_DB_OK ||
        td_event_decode(raw.data, raw.len, arena, &ek, &err) != 0 ||
        (rc = td_db_event_get(txn, gone, &raw)) != TD_DB_OK ||
        td_event_decode(raw.data, raw.len, arena, &eg, &err) != 0 ||
        td_cluster_get(txn, keep, arena, &sk) != TD_DB_OK ||
        td_cluster_get(txn, gone, arena, &sg) != TD_DB_OK)
        return rc == TD_DB_OK || rc == TD_DB_NOTFOUND ? TD_DB_OK : rc;
    char **ids;
    size_t n;
    if ((rc = td_assign_event_articles(txn, &eg, arena, &ids, &n)) != TD_DB_OK)
        return rc;
    /* the articles move */
    for (size_t i = 0; i < n; i++) {
        td_article art;
        td_arena_reset(self->scratch); /* one article at a time */
        if ((rc = td_db_article_get(txn, ids[i], &raw)) == TD_DB_NOTFOUND)
            continue;
        if (rc)
            return rc;
        if (td_article_decode(raw.data, raw.len, self->scratch, &art, &err) != 0)
            continue;
        art.event = ek.id;
        art.story = ek.story;
        if ((rc = td_db_article_put(txn, &art)) != TD_DB_OK)
            return rc;
        /* its entities now lead to `keep` */
        s_ent *ents;
        long ne = s_entities(&art, self->scratch, &ents);
        if (ne < 0)
            return TD_DB_ERROR;
        for (long j = 0; j < ne; j++)
            if ((rc = td_etally_link(self->tally, txn, ents[j].key, ek.id)) != TD_DB_OK ||
                (rc = td_etally_unlink(self->tally, txn, ents[j].key, eg.id)) != TD_DB_OK)
                return rc;
    }
    unsigned char k[EA_KEY];
    for (size_t i = 0; i < n; i++) {
        if ((rc = s_ea_add(txn, &ek, ek.articles + (uint32_t)i, ids[i], arena)) != TD_DB_OK)
            return rc;
        size_t kl = s_ea_key(eg.id, (uint32_t)i, k);
        if (kl && (rc = td_txn_del(txn, TD_DBI_EVENT_ARTICLES, k, kl)) != TD_DB_OK &&
            rc != TD_DB_NOTFOUND)
            return rc;
    }
    /* the aggregates */
    int64_t old_last = ek.last_seen;
    td_cluster_absorb(&sk, &sg, arena);
    if (s_set_aggregates(&ek, &sk, arena) != 0 ||
        s_merge_entity_list(&ek, eg.entities, eg.n_entities, &sk, arena) != 0 ||
        td_ledger_merge(self->ledger, &ek, &eg, arena) != 0)
        return TD_DB_ERROR;
    char **rel = td_arena_alloc(arena, (ek.n_related + eg.n_related + 1) * sizeof *rel);
    if (!rel)
        return TD_DB_ERROR;
    size_t nr = 0;
    for (size_t i = 0; i < ek.n_related + eg.n_related && nr < TD_STORIES_RELATED; i++) {
        char *r = i < ek.n_related ? ek.related[i] : eg.related[i - ek.n_related];
        bool dup = strcmp(r, ek.id) == 0 || strcmp(r, eg.id) == 0;
        for (size_t j = 0; j < nr && !dup; j++)
            dup = strcmp(rel[j], r) == 0;
        if (!dup)
            rel[nr++] = r;
    }
    ek.related = rel;
    ek.n_related = nr;
    if ((rc = td_db_event_put(txn, &ek, old_last)) != TD_DB_OK ||
        (rc = td_cluster_put(self->cluster, txn, &sk)) != TD_DB_OK)
        return rc;
    /* `gone` goes */
    unsigned char tk[TD_DB_MAX_KEY];
    size_t tkl = td_db_timekey(eg.last_seen, eg.id, tk, sizeof tk);
    if (tkl && (rc = td_txn_del(txn, TD_DBI_EVENT_TIME, tk, tkl)) != TD_DB_OK &&
        rc != TD_DB_NOTFOUND)
        return rc;
    /* its id keeps answering: event.get follows it to `keep` */
    if ((rc = td_txn_del(txn, TD_DBI_EVENTS, eg.id, strlen(eg.id))) != TD_DB_OK ||
        (rc = td_db_event_moved_put(txn, eg.id, ek.id)) != TD_DB_OK ||
        (rc = td_cluster_del(self->cluster, txn, eg.id)) != TD_DB_OK)
        return rc;
    td_txn_counter_add(txn, TD_CTR_EVENTS, -1);
    if (eg.story && (rc = s_story_drop(txn, arena, eg.story, eg.id)) != TD_DB_OK)
        return rc;
    for (size_t i = 0; i < eg.n_related; i++)
        if ((rc = td_stories_rerelate(txn, arena, eg.related[i], eg.id, ek.id)) != TD_DB_OK)
            return rc;
    td_debug("event %s merged into %s (%zu articles moved)", eg.id, ek.id, n);
    if (td_notices_add(notices, txn, TD_TOPIC_EVENT_UPDATED, ek.id, ek.id, ek.story, ek.title,
                       at) != 0)
        return TD_DB_ERROR;
    return TD_DB_OK;
}

/* After td_cluster_best chose `*eid`: when the article also scores high
 * against the runner-up and the two centroids are close, the two events are
 * one happening: merge the smaller into the larger; *eid becomes the one
 * kept. */
static td_db_rc s_maybe_merge(td_assign *self, td_txn *txn, td_arena *arena, char **eid,
                              double threshold, td_notices *notices, int64_t at)
{
    const td_cluster_opts *o = td_cluster_opts_of(self->cluster);
    double score, cos;
    const char *second = td_cluster_second(self->cluster, &score, &cos);
    if (!second || score < o->merge_score * threshold || cos < o->merge_cos)
        return TD_DB_OK;
    char *other = td_arena_strdup(arena, second);
    td_cstate s1, s2;
    if (!other)
        return TD_DB_ERROR;
    if (td_cluster_get(txn, *eid, arena, &s1) != TD_DB_OK ||
        td_cluster_get(txn, other, arena, &s2) != TD_DB_OK)
        return TD_DB_OK;
    char *keep = *eid, *gone = other;
    if (s2.articles > s1.articles) {
        keep = other;
        gone = *eid;
    }
    uint32_t small = s1.articles < s2.articles ? s1.articles : s2.articles;
    if ((int)small > o->merge_max)
        return TD_DB_OK;
    td_db_rc rc = s_merge(self, txn, arena, keep, gone, notices, at);
    if (rc == TD_DB_OK)
        *eid = keep;
    return rc;
}

td_db_rc td_assign_article(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                           const td_terms *terms, td_notices *notices)
{
    td_db_rc rc = td_cluster_ready(self->cluster, txn);
    if (rc)
        return rc;
    td_cvec v;
    td_fprint fp;
    if (td_cluster_vectorize(self->cluster, txn, a, terms, arena, &v) != 0 ||
        td_prov_fingerprint(a, terms, arena, &fp) != 0)
        return TD_DB_ERROR;
    char *eid = NULL;
    td_cscore parts;
    size_t ncand = 0;
    bool copy = false;
    char *later = NULL;
    if ((rc = s_exact(txn, arena, a, &eid, &later)) != TD_DB_OK)
        return rc;
    if (eid) {
        copy = later == NULL;
        td_cstate st;
        if (td_cluster_get(txn, eid, arena, &st) == TD_DB_OK)
            td_cluster_score(self->cluster, &v, &st, &parts);
        else
            memset(&parts, 0, sizeof parts);
        /* a headline repeated much later may be another happening: a
         * headline (or a text of one sentence) joins its original's event
         * only when it scores there */
        if ((v.headline || fp.n_sent < 2) && parts.score < parts.threshold) {
            copy = false;
            eid = NULL;
            later = NULL;
            a->duplicate_of = a->derived_id = a->derived_kind = NULL;
        }
    }
    if (!eid) {
        rc = td_cluster_best(self->cluster, txn, &v, arena, &eid, &parts, &ncand);
        if (rc)
            return rc;
        if (eid && parts.score < parts.threshold)
            eid = NULL;
        if (eid && (rc = s_maybe_merge(self, txn, arena, &eid, parts.threshold, notices,
                                      a->ingested_at)) != TD_DB_OK)
            return rc;
    }
    rc = TD_DB_NOTFOUND;
    if (eid)
        rc = s_join(self, txn, arena, a, &v, &fp, eid, parts.sim, later, notices);
    if (rc == TD_DB_NOTFOUND) {
        a->duplicate_of = a->derived_id = a->derived_kind = NULL;
        rc = s_create(self, txn, arena, a, &v, notices);
        eid = NULL;
        later = NULL;
    }
    if (rc)
        return rc;
    if (s_features(a, arena, &parts, parts.threshold, ncand, eid == NULL, copy, -1) != 0)
        return TD_DB_ERROR;
    if ((rc = td_cluster_count(self->cluster, txn, &v)) != TD_DB_OK ||
        (rc = td_prov_put(txn, a->id, a->content_hash, &fp)) != TD_DB_OK)
        return rc;
    /* the earliest article with a body is the one its copies point to */
    if (later && (rc = td_prov_exact_set(txn, a->content_hash, a->id)) != TD_DB_OK)
        return rc;

    s_ent *ents;
    long n = s_entities(a, arena, &ents);
    if (n < 0)
        return TD_DB_ERROR;
    for (long i = 0; i < n; i++)
        if ((rc = s_entity_touch(self, txn, &ents[i], 1, a->event)) != TD_DB_OK)
            return rc;
    return TD_DB_OK;
}

td_db_rc td_assign_update(td_assign *self, td_txn *txn, td_arena *arena,
                          const td_article *old, td_article *a, const td_terms *terms,
                          td_notices *notices)
{
    a->event = old->event;
    a->story = old->story;
    td_db_rc rc;
    if (!old->event)
        return td_assign_article(self, txn, arena, a, terms, notices);

    td_val raw;
    td_event e;
    td_error err;
    rc = td_db_event_get(txn, old->event, &raw);
    if (rc == TD_DB_NOTFOUND) {
        td_warn("article %s links to missing event %s: assigning it again", a->id, old->event);
        return td_assign_article(self, txn, arena, a, terms, notices);
    }
    if (rc)
        return rc;
    if (td_event_decode(raw.data, raw.len, arena, &e, &err) != 0) {
        td_warn("event %s does not decode (%s): assigning the article again", old->event,
                err.message);
        return td_assign_article(self, txn, arena, a, terms, notices);
    }
    int64_t old_last = e.last_seen;
    if (e.articles <= 1) {
        /* the article is the whole event: the event follows its new version */
        if (s_event_from_article(&e, a, arena) < 0)
            return TD_DB_ERROR;
        e.entities = NULL;
        e.n_entities = 0;
        e.claims = NULL;
        e.n_claims = 0;
        td_cstate st = {0};
        if (s_merge_entities(&e, a, &st, arena) != 0 ||
            td_ledger_add(self->ledger, &e, a, false, arena) != 0)
            return TD_DB_ERROR;
    } else {
        if (a->published_at < e.first_seen)
            e.first_seen = a->published_at;
        if (a->published_at > e.last_seen)
            e.last_seen = a->published_at;
    }
    if ((rc = td_db_event_put(txn, &e, old_last)) != TD_DB_OK)
        return rc;

    s_ent *now, *before;
    long n_now = s_entities(a, arena, &now), n_before = s_entities(old, arena, &before);
    if (n_now < 0 || n_before < 0)
        return TD_DB_ERROR;
    for (long i = 0; i < n_now; i++)
        if (!s_ent_has(before, n_before, now[i].key) &&
            (rc = s_entity_touch(self, txn, &now[i], 1, e.id)) != TD_DB_OK)
            return rc;
    for (long i = 0; i < n_before; i++)
        if (!s_ent_has(now, n_now, before[i].key) &&
            (rc = s_entity_touch(self, txn, &before[i], -1, NULL)) != TD_DB_OK)
            return rc;

    if (td_notices_add(notices, txn, TD_TOPIC_EVENT_UPDATED, e.id, e.id, e.story, e.title,
                       a->ingested_at) != 0)
        return TD_DB_ERROR;
    return TD_DB_OK;
}
