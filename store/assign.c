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

struct td_assign {
    td_cluster *cluster;
    td_prov *prov;
    td_ledger *ledger;
};

td_assign *td_assign_new(void)
{
    td_assign *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    td_cluster_opts o;
    td_cluster_opts_default(&o);
    self->cluster = td_cluster_new(&o);
    self->prov = td_prov_new();
    self->ledger = td_ledger_new();
    if (!self->cluster || !self->prov || !self->ledger)
        td_assign_destroy(&self);
    return self;
}

void td_assign_destroy(td_assign **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_cluster_destroy(&(*self_p)->cluster);
    td_prov_destroy(&(*self_p)->prov);
    td_ledger_destroy(&(*self_p)->ledger);
    free(*self_p);
    *self_p = NULL;
}

void td_assign_committed(td_assign *self)
{
    td_cluster_committed(self->cluster);
}

void td_assign_aborted(td_assign *self)
{
    td_cluster_aborted(self->cluster);
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
 * link it to `event` when given. */
static td_db_rc s_entity_touch(td_txn *txn, td_arena *arena, const s_ent *ent, int delta,
                               const char *event)
{
    td_entity_rec rec;
    td_db_rc rc = td_db_entity_get(txn, ent->key, arena, &rec);
    if (rc == TD_DB_NOTFOUND && delta < 0) {
        return TD_DB_OK;
    } else if (rc == TD_DB_NOTFOUND) {
        memset(&rec, 0, sizeof rec);
        rec.name = ent->en->name;
        rec.kind = ent->en->kind;
    } else if (rc != TD_DB_OK) {
        return rc;
    }
    if (delta < 0)
        rec.articles = rec.articles > 0 ? rec.articles - 1 : 0;
    else
        rec.articles += (uint64_t)delta;
    if ((rc = td_db_entity_put(txn, ent->key, &rec)) != TD_DB_OK)
        return rc;
    return event ? td_db_entity_link(txn, ent->key, event) : TD_DB_OK;
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
static int s_merge_entities(td_event *e, const td_article *a, const td_cstate *st,
                            td_arena *arena)
{
    size_t n = e->n_entities;
    td_entity *m = td_arena_alloc(arena, (n + a->n_entities + 1) * sizeof *m);
    if (!m)
        return -1;
    if (n)
        memcpy(m, e->entities, n * sizeof *m);
    char k1[TD_DB_ENTITY_KEY], k2[TD_DB_ENTITY_KEY];
    for (size_t i = 0; i < a->n_entities; i++) {
        if (!td_db_entity_norm(a->entities[i].name, k1, sizeof k1))
            continue;
        size_t j = 0;
        for (; j < n; j++)
            if (td_db_entity_norm(m[j].name, k2, sizeof k2) && strcmp(k1, k2) == 0)
                break;
        if (j < n)
            m[j].count += a->entities[i].count;
        else
            m[n++] = a->entities[i];
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
    e.article_ids = td_arena_alloc(arena, sizeof(char *));
    e.related = td_arena_alloc(arena, RELATED_MAX * sizeof(char *));
    if (!e.article_ids || !e.related)
        return TD_DB_ERROR;
    e.article_ids[e.n_article_ids++] = a->id;
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
    for (size_t i = 0; i < st->n_recent; i++) {
        td_fprint old;
        td_db_rc rc = td_prov_get(txn, st->recent[i], arena, &old);
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

/* Join the stored event `eid`. */
static td_db_rc s_join(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                       const td_cvec *v, const td_fprint *fp, const char *eid, double sim,
                       td_notices *notices)
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
    if (!a->derived_id && (rc = s_provenance(self, txn, arena, a, fp, &st)) != TD_DB_OK)
        return rc;
    bool derived = a->derived_id != NULL;
    int64_t old_last = e.last_seen;

    td_cluster_merge(&st, v, arena);
    st.articles++;
    if (!derived)
        st.independent++;
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

    char **ids = td_arena_alloc(arena, (e.n_article_ids + 1) * sizeof *ids);
    if (!ids)
        return TD_DB_ERROR;
    memcpy(ids, e.article_ids, e.n_article_ids * sizeof *ids);
    ids[e.n_article_ids++] = a->id;
    e.article_ids = ids;
    e.articles = st.articles;
    e.independent_sources = st.independent;
    e.sources = (uint32_t)(st.n_sources + st.extra_sources);
    e.first_seen = st.first;
    e.last_seen = st.last;
    int32_t day = s_mode_day(&st);
    if (day != INT32_MIN && !(e.event_date = s_day_str(day, arena)))
        return TD_DB_ERROR;
    if (s_merge_entities(&e, a, &st, arena) != 0 ||
        td_ledger_add(self->ledger, &e, a, derived, arena) != 0)
        return TD_DB_ERROR;
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

/* The event of the original of an exact copy (NULL when there is none). */
static td_db_rc s_exact(td_txn *txn, td_arena *arena, td_article *a, char **event)
{
    *event = NULL;
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
    a->duplicate_of = orig;
    a->derived_id = orig;
    a->derived_kind = "copy";
    *event = o.event;
    return TD_DB_OK;
}

td_db_rc td_assign_article(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                           td_notices *notices)
{
    td_db_rc rc = td_cluster_ready(self->cluster, txn);
    if (rc)
        return rc;
    td_cvec v;
    td_fprint fp;
    if (td_cluster_vectorize(self->cluster, txn, a, arena, &v) != 0 ||
        td_prov_fingerprint(self->prov, a, arena, &fp) != 0)
        return TD_DB_ERROR;
    char *eid = NULL;
    td_cscore parts;
    size_t ncand = 0;
    bool copy = false;
    if ((rc = s_exact(txn, arena, a, &eid)) != TD_DB_OK)
        return rc;
    if (eid) {
        copy = true;
        td_cstate st;
        if (td_cluster_get(txn, eid, arena, &st) == TD_DB_OK)
            td_cluster_score(self->cluster, &v, &st, &parts);
        else
            memset(&parts, 0, sizeof parts);
    } else {
        rc = td_cluster_best(self->cluster, txn, &v, arena, &eid, &parts, &ncand);
        if (rc)
            return rc;
        if (eid && parts.score < parts.threshold)
            eid = NULL;
    }
    rc = TD_DB_NOTFOUND;
    if (eid)
        rc = s_join(self, txn, arena, a, &v, &fp, eid, parts.sim, notices);
    if (rc == TD_DB_NOTFOUND) {
        a->duplicate_of = a->derived_id = a->derived_kind = NULL;
        rc = s_create(self, txn, arena, a, &v, notices);
        eid = NULL;
    }
    if (rc)
        return rc;
    if (s_features(a, arena, &parts, parts.threshold, ncand, eid == NULL, copy, -1) != 0)
        return TD_DB_ERROR;
    if ((rc = td_cluster_count(self->cluster, txn, &v)) != TD_DB_OK ||
        (rc = td_prov_put(txn, a->id, a->content_hash, &fp)) != TD_DB_OK)
        return rc;

    s_ent *ents;
    long n = s_entities(a, arena, &ents);
    if (n < 0)
        return TD_DB_ERROR;
    for (long i = 0; i < n; i++)
        if ((rc = s_entity_touch(txn, arena, &ents[i], 1, a->event)) != TD_DB_OK)
            return rc;
    return TD_DB_OK;
}

td_db_rc td_assign_update(td_assign *self, td_txn *txn, td_arena *arena,
                          const td_article *old, td_article *a, td_notices *notices)
{
    a->event = old->event;
    a->story = old->story;
    td_db_rc rc;
    if (!old->event)
        return td_assign_article(self, txn, arena, a, notices);

    td_val raw;
    td_event e;
    td_error err;
    rc = td_db_event_get(txn, old->event, &raw);
    if (rc == TD_DB_NOTFOUND) {
        td_warn("article %s links to missing event %s: assigning it again", a->id, old->event);
        return td_assign_article(self, txn, arena, a, notices);
    }
    if (rc)
        return rc;
    if (td_event_decode(raw.data, raw.len, arena, &e, &err) != 0) {
        td_warn("event %s does not decode (%s): assigning the article again", old->event,
                err.message);
        return td_assign_article(self, txn, arena, a, notices);
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
            (rc = s_entity_touch(txn, arena, &now[i], 1, e.id)) != TD_DB_OK)
            return rc;
    for (long i = 0; i < n_before; i++)
        if (!s_ent_has(now, n_now, before[i].key) &&
            (rc = s_entity_touch(txn, arena, &before[i], -1, NULL)) != TD_DB_OK)
            return rc;

    if (td_notices_add(notices, txn, TD_TOPIC_EVENT_UPDATED, e.id, e.id, e.story, e.title,
                       a->ingested_at) != 0)
        return TD_DB_ERROR;
    return TD_DB_OK;
}
