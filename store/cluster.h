/* cluster.h — streaming event detection: the candidate index over the events
 * active in a time window, the article and event vectors, and the score that
 * decides whether an article joins an event.
 *
 * An article becomes a vector of stemmed content terms (title weighted above
 * the lead, the lead above the rest of the body) and a vector of entities,
 * both TF-IDF weighted with the stream's document frequencies (dfstats.h).
 * An event keeps the sum of its articles' vectors (its centroid, the
 * heaviest TD_CLUSTER_TERMS terms) and its time range. The in-memory index
 * maps terms and entities to the events active within the story window of
 * the stream clock (the latest publication time seen), so finding
 * candidates never scans all events and memory follows the window, not the
 * archive. An article older than the window (a late arrival) gets its
 * candidates from LMDB's event_time index around its own time instead.
 *
 * The event state is persisted in the `clusters` database (one record per
 * event), so the index is rebuilt at start by reading only the events whose
 * last activity lies in the window. The index is changed inside the write
 * transaction; after an aborted transaction it is rebuilt from LMDB.
 *
 * Implemented in cluster.c (life, options, event state and its storage,
 * centroids), cluster_vec.c (article vectors) and cluster_index.c (the
 * candidate index and the score); cluster_int.h is their shared layout.
 */
#ifndef TD_CLUSTER_H
#define TD_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "db.h"
#include "record.h"
#include "terms.h"

#define TD_CLUSTER_TERMS 96    /* centroid terms kept per event */
#define TD_CLUSTER_ENTS 32     /* centroid entities kept per event */
#define TD_CLUSTER_RECENT 32   /* latest article ids kept per event (provenance) */
#define TD_CLUSTER_SOURCES 64  /* distinct sources counted exactly per event */
#define TD_CLUSTER_DAYS 8      /* event dates tallied per event */
#define TD_CLUSTER_ID 48       /* longest event/story id kept in memory */

/* Weights and thresholds; defaults frozen from tuning (docs/events.md).
 * TIDINGS_CLUSTER="name=value,..." overrides them (for tuning runs). */
typedef struct {
    double threshold;      /* join the best event at or above this score */
    double w_text;         /* share of the term cosine in the similarity */
    double w_ent;          /* share of the entity cosine (when both have entities) */
    double time_tau_h;     /* time decay scale (hours) of the gap, short texts */
    double time_tau_long_h;/* ... long texts (their similarity is better evidence) */
    double threshold_long; /* the threshold for long texts */
    int evidence_lo;       /* distinct terms up to which a text counts as short */
    int evidence_hi;       /* distinct terms from which a text counts as long */
    double time_floor;     /* similarity kept at an infinite gap (before the window) */
    double event_window_h; /* candidates: events within this gap (hours) */
    double story_window_h; /* stories: events within this gap; also the index window */
    double date_penalty;   /* factor when both event dates are known and differ */
    double story_threshold;/* a new event joins the best story at or above this */
    double title_boost;    /* term weight of a title word relative to a body word */
    double lead_boost;     /* term weight of a lead word (first TD lead tokens) */
    int lead_tokens;       /* tokens of the body counted as lead */
    int body_tokens;       /* body tokens read at most */
    double merge_score;    /* an article scoring this x its join threshold against a
                            * second event too ... */
    double merge_cos;      /* ... whose centroid has this cosine with the first: merge */
    int merge_max;         /* the smaller of two merged events has at most this many articles */
} td_cluster_opts;

/* The defaults, then TIDINGS_CLUSTER overrides. */
void td_cluster_opts_default(td_cluster_opts *o);

typedef struct {
    uint64_t h;            /* XXH3 of the term ("t"+stem) or entity ("e"+key) */
    float w;
    const char *word;      /* display form (terms: first norm seen), may be NULL */
    const char *key;       /* article vectors: the df key ("t"+stem, "e"+entity),
                            * klen bytes (not NUL-terminated) */
    bool in_title;         /* article vectors: the term occurs in the title */
    uint16_t klen;         /* article vectors: length of `key` */
    uint16_t wlen;         /* article vectors: `word` is these bytes of the article's
                            * tokens, not NUL-terminated (0: a C string); a centroid
                            * (td_cluster_merge) holds copies as C strings */
} td_cterm;

/* An article's vectors, unit length, heaviest first (td_cluster_vectorize:
 * the index's memory, until its next call). */
typedef struct {
    td_cterm *terms;
    size_t n_terms;
    td_cterm *ents;
    size_t n_ents;
    int64_t t;             /* published_at */
    int32_t day;           /* event_date as days since 1970, INT32_MIN unknown */
    bool headline;         /* no text beyond the title (a headline feed) */
    uint64_t gen;          /* set by td_cluster_vectorize (0: not from it); lets
                            * td_cluster_related reuse td_cluster_best's scores */
} td_cvec;

/* The persisted state of one event (clusters database). */
typedef struct {
    char *id, *story;
    int64_t first, last;
    uint32_t articles, independent;
    double central;        /* similarity of the central article to the centroid */
    char *central_id;
    td_cterm terms[TD_CLUSTER_TERMS];
    size_t n_terms;
    td_cterm ents[TD_CLUSTER_ENTS];
    size_t n_ents;
    char *recent[TD_CLUSTER_RECENT];
    size_t n_recent;
    uint64_t sources[TD_CLUSTER_SOURCES];
    size_t n_sources;
    uint32_t extra_sources; /* sources beyond the exact set */
    int32_t days[TD_CLUSTER_DAYS];
    uint32_t day_counts[TD_CLUSTER_DAYS];
    size_t n_days;
} td_cstate;

/* The feature parts of one scored candidate. */
typedef struct {
    double score, sim, text, title, ents, time, date;
    double threshold;      /* the join threshold for this article */
} td_cscore;

typedef struct td_cluster td_cluster;

/* New, empty index; NULL when out of memory. */
td_cluster *td_cluster_new(const td_cluster_opts *opts);
void td_cluster_destroy(td_cluster **self_p);
const td_cluster_opts *td_cluster_opts_of(const td_cluster *self);

/* The article's vectors from its tokens `terms` (td_terms_build of its
 * title, body and language), weighted with the document frequencies in
 * `txn`. The vectors are the index's memory and point into `terms` and
 * `a`: valid until the next td_cluster_vectorize (one article at a time;
 * no allocation per article). `arena` is unused. Returns 0. */
int td_cluster_vectorize(td_cluster *self, td_txn *txn, const td_article *a,
                         const td_terms *terms, td_arena *arena, td_cvec *out);

/* Count the article's terms and entities in the document frequencies. */
td_db_rc td_cluster_count(td_cluster *self, td_txn *txn, const td_cvec *v);

/* Load the events of the window from LMDB when the index is empty or was
 * dropped after an abort (the first call of a transaction does this). */
td_db_rc td_cluster_ready(td_cluster *self, td_txn *txn);

/* Score `v` against every candidate event (from the index, or from LMDB for
 * a late article) and return the best one's id in *best (arena; NULL when
 * there is no candidate) with its parts, and the number of candidates. */
td_db_rc td_cluster_best(td_cluster *self, td_txn *txn, const td_cvec *v, td_arena *arena,
                         char **best, td_cscore *parts, size_t *n_candidates);

/* The runner-up of the last td_cluster_best (another event; NULL when none,
 * or when the article joins neither event or the runner-up scores below
 * merge_score x the threshold) with its score, and the cosine of its
 * centroid with the best one's, decayed by the gap between their ranges. */
const char *td_cluster_second(const td_cluster *self, double *score, double *cos);

/* Up to `max` events of other stories within the story window that are
 * similar enough (story_threshold) to `v`, best first: ids and story ids
 * (arena). Returns the count, -1 on arena exhaustion. */
int td_cluster_related(td_cluster *self, td_txn *txn, const td_cvec *v, const char *exclude,
                       td_arena *arena, size_t max, char **ids, char **stories,
                       double *scores);

/* Score `v` against one stored state (the same score td_cluster_best uses). */
void td_cluster_score(const td_cluster *self, const td_cvec *v, const td_cstate *s,
                      td_cscore *out);

/* Read / write an event's state (clusters database). Writing also puts it
 * in the index. get returns TD_DB_NOTFOUND for an event without state. */
td_db_rc td_cluster_get(td_txn *txn, const char *id, td_arena *arena, td_cstate *out);
td_db_rc td_cluster_put(td_cluster *self, td_txn *txn, const td_cstate *s);

/* Forget an event (merged into another): its state and its index slot. */
td_db_rc td_cluster_del(td_cluster *self, td_txn *txn, const char *id);

/* Fold the state of `gone` into `keep` (centroids summed, ranges, counts,
 * sources, days, recent articles). */
void td_cluster_absorb(td_cstate *keep, const td_cstate *gone, td_arena *arena);

/* Add the article vector to the event centroid (keeps the heaviest terms). */
void td_cluster_merge(td_cstate *s, const td_cvec *v, td_arena *arena);

/* Cosine of the article with the centroid of `s`. */
double td_cluster_cos(const td_cterm *a, size_t na, const td_cterm *b, size_t nb);

/* Transaction outcome (see assign.h). td_cluster_flush writes the
 * transaction's document-frequency increments (kept in memory until then)
 * and must run at the end of every write transaction that counted. */
td_db_rc td_cluster_flush(td_cluster *self, td_txn *txn);
void td_cluster_committed(td_cluster *self);
void td_cluster_aborted(td_cluster *self);

/* Events held in memory, for the benchmark and tests. */
size_t td_cluster_live(const td_cluster *self);

/* Days since 1970-01-01 of "YYYY-MM-DD"; INT32_MIN when not a full date. */
int32_t td_cluster_day(const char *date);

#endif
