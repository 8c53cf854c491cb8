/* assign.c — event and story assignment; see assign.h.
 *
 * Issue 2 placeholder policy: one event and one story per new article. The
 * records are real (what the query daemon serves), so the streaming
 * clustering that replaces this file only changes which event an article
 * joins and how the aggregates are merged.
 */
#include "assign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define SUMMARY_MAX 400
#define TITLE_MAX 160
#define ENTITIES_MAX 256   /* entity records touched per article */

struct td_assign {
    int unused;            /* streaming clustering keeps its candidate index here */
};

td_assign *td_assign_new(void)
{
    return calloc(1, sizeof(td_assign));
}

void td_assign_destroy(td_assign **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void td_assign_committed(td_assign *self)
{
    (void)self;
}

void td_assign_aborted(td_assign *self)
{
    (void)self;
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

/* The claims ledger of one article: its foreground figures, identical ones
 * merged, differing counts of the same kind and subject marked disputed. */
static int s_ledger(const td_article *a, td_arena *arena, td_event *e)
{
    e->claims = td_arena_alloc(arena, (a->n_claims ? a->n_claims : 1) * sizeof *e->claims);
    if (!e->claims)
        return -1;
    for (size_t i = 0; i < a->n_claims; i++) {
        const td_claim *c = &a->claims[i];
        if (c->background || !c->kind)
            continue;
        td_ledger_entry *le = NULL;
        for (size_t j = 0; j < e->n_claims; j++) {
            td_ledger_entry *x = &e->claims[j];
            bool same_subject = (!x->subject && !c->subject) ||
                                (x->subject && c->subject && strcmp(x->subject, c->subject) == 0);
            if (strcmp(x->kind, c->kind) == 0 && same_subject) {
                if (x->count == c->count)
                    le = x;
                else
                    x->disputed = true;
            }
        }
        if (!le) {
            le = &e->claims[e->n_claims++];
            memset(le, 0, sizeof *le);
            le->kind = c->kind;
            le->count = c->count;
            le->subject = c->subject;
            le->claimants = td_arena_alloc(arena, a->n_claims * sizeof(char *));
            le->article_ids = td_arena_alloc(arena, sizeof(char *));
            if (!le->claimants || !le->article_ids)
                return -1;
            le->article_ids[le->n_article_ids++] = a->id;
            for (size_t j = 0; j + 1 < e->n_claims; j++) {
                td_ledger_entry *x = &e->claims[j];
                if (strcmp(x->kind, c->kind) == 0 && x->count != c->count &&
                    ((!x->subject && !c->subject) ||
                     (x->subject && c->subject && strcmp(x->subject, c->subject) == 0)))
                    le->disputed = x->disputed = true;
            }
        }
        if (c->claimant) {
            bool have = false;
            for (size_t j = 0; j < le->n_claimants; j++)
                have = have || strcmp(le->claimants[j], c->claimant) == 0;
            if (!have)
                le->claimants[le->n_claimants++] = c->claimant;
        }
    }
    return 0;
}

/* Build the event of a single article. */
static int s_event_of(const td_article *a, const char *id, const char *story,
                      td_arena *arena, td_event *e)
{
    memset(e, 0, sizeof *e);
    e->id = (char *)id;
    e->story = (char *)story;
    e->summary = td_assign_summary(a->body, SUMMARY_MAX, arena);
    e->title = a->title && *a->title ? a->title : td_assign_summary(a->body, TITLE_MAX, arena);
    if (!e->summary || !e->title)
        return -1;
    e->event_date = a->event_date;
    e->first_seen = e->last_seen = a->published_at;
    e->articles = 1;
    e->sources = 1;
    e->independent_sources = 1;
    e->article_ids = td_arena_alloc(arena, sizeof(char *));
    if (!e->article_ids)
        return -1;
    e->article_ids[e->n_article_ids++] = a->id;
    e->entities = a->entities;
    e->n_entities = a->n_entities;
    e->places = td_arena_alloc(arena, (a->n_entities ? a->n_entities : 1) * sizeof(char *));
    if (!e->places)
        return -1;
    for (size_t i = 0; i < a->n_entities; i++) {
        const td_entity *en = &a->entities[i];
        if (en->kind != TD_ENT_PLACE && en->kind != TD_ENT_COUNTRY)
            continue;
        bool have = false;
        for (size_t j = 0; j < e->n_places; j++)
            have = have || strcmp(e->places[j], en->name) == 0;
        if (!have)
            e->places[e->n_places++] = en->name;
    }
    return s_ledger(a, arena, e);
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

td_db_rc td_assign_article(td_assign *self, td_txn *txn, td_arena *arena, td_article *a,
                           td_notices *notices)
{
    (void)self;
    uint64_t en = td_txn_counter_add(txn, TD_CTR_EVENT_NEXT, 1);
    uint64_t sn = td_txn_counter_add(txn, TD_CTR_STORY_NEXT, 1);
    char *eid = td_arena_printf(arena, "e%llu", (unsigned long long)en);
    char *sid = td_arena_printf(arena, "s%llu", (unsigned long long)sn);
    td_event e;
    if (!eid || !sid || s_event_of(a, eid, sid, arena, &e) != 0)
        return TD_DB_ERROR;
    td_db_rc rc = td_db_event_put(txn, &e, TD_TIME_NONE);
    if (rc)
        return rc;
    td_txn_counter_add(txn, TD_CTR_EVENTS, 1);

    char *story_events[1] = {eid};
    td_story s = {.id = sid, .first_seen = e.first_seen, .last_seen = e.last_seen,
                  .event_ids = story_events, .n_event_ids = 1};
    if ((rc = td_db_story_put(txn, &s)) != TD_DB_OK)
        return rc;
    td_txn_counter_add(txn, TD_CTR_STORIES, 1);

    s_ent *ents;
    long n = s_entities(a, arena, &ents);
    if (n < 0)
        return TD_DB_ERROR;
    for (long i = 0; i < n; i++)
        if ((rc = s_entity_touch(txn, arena, &ents[i], 1, eid)) != TD_DB_OK)
            return rc;

    a->event = eid;
    a->story = sid;
    if (td_notices_add(notices, txn, TD_TOPIC_EVENT_CREATED, eid, eid, sid, e.title,
                       a->ingested_at) != 0)
        return TD_DB_ERROR;
    return TD_DB_OK;
}

td_db_rc td_assign_update(td_assign *self, td_txn *txn, td_arena *arena,
                          const td_article *old, td_article *a, td_notices *notices)
{
    (void)self;
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
        td_warn("article %s links to missing event %s: starting a new one", a->id, old->event);
        return td_assign_article(self, txn, arena, a, notices);
    }
    if (rc)
        return rc;
    if (td_event_decode(raw.data, raw.len, arena, &e, &err) != 0) {
        td_warn("event %s does not decode (%s): rebuilding it", old->event, err.message);
        memset(&e, 0, sizeof e);
        e.last_seen = TD_TIME_NONE;
        e.articles = 1;
    }
    int64_t old_last = raw.len && e.id ? e.last_seen : TD_TIME_NONE;
    if (e.articles <= 1) {
        /* the article is the whole event: the event follows its new version */
        td_event ne;
        if (s_event_of(a, old->event, old->story, arena, &ne) != 0)
            return TD_DB_ERROR;
        ne.related = e.related;
        ne.n_related = e.n_related;
        e = ne;
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
