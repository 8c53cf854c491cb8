/* record.h — the records of the tidings wire contract (PROTOCOL.md, v1).
 *
 * Plain structs; every pointer of a decoded record points into one td_arena
 * (see arena.h). Absent optional strings are NULL; absent times are
 * TD_TIME_NONE. Only proto/codec*.c knows how these map to msgpack fields.
 */
#ifndef TD_RECORD_H
#define TD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire protocol version, answered by `ping`.
 * Bump when a reply changes shape or a request field changes meaning, i.e.
 * when an existing client could misread us. Adding ops, optional request
 * fields or reply fields does NOT bump it (clients ignore unknown keys). */
#define TD_WIRE_VERSION "1"

/* On-disk record version, stored in the meta database and in every record.
 * Bump when: a stored field changes type or meaning, a key layout changes, a
 * named database is added that old readers must know, or an index format
 * changes. After a bump, td_db refuses to open older data until migrated. */
#define TD_RECORD_VERSION 1

/* Software version reported by `ping`/`stats`. */
#define TD_VERSION "0.1.0"

#define TD_TIME_NONE INT64_MIN

/* Limits enforced by the decoders (PROTOCOL.md: configurable frame size). */
#define TD_MAX_FRAME_DEFAULT (4u << 20) /* bytes in one frame */
#define TD_MAX_ID 512                   /* bytes in an id or url key */
#define TD_MAX_SHORT 4096               /* bytes in source, title, lang, meta keys */
#define TD_MAX_DEPTH 8                  /* nesting of maps/arrays in a record */
#define TD_MAX_ITEMS 65536              /* elements in any one array or map */
#define TD_MAX_OBJECTS (1u << 20)       /* msgpack objects in one frame */
#define TD_MAX_LIST 1000                /* `limit` of list queries */
#define TD_REJECT_BYTES 64              /* first bytes kept in a reject record */

typedef enum {
    TD_ENT_PERSON = 0,
    TD_ENT_ORG,
    TD_ENT_PLACE,
    TD_ENT_COUNTRY,
    TD_ENT_OTHER,
} td_entity_kind;

typedef struct {
    char *key;
    char *value;
} td_kv;

typedef struct {
    char *name;
    td_entity_kind kind;
    uint32_t count;
} td_entity;

typedef struct {
    char *text; /* as written, e.g. "on Thursday" */
    char *date; /* resolved "YYYY-MM-DD" (or "YYYY-MM", "YYYY") */
} td_date;

typedef struct {
    char *kind;     /* killed, wounded, dead, missing, detained, ... */
    int64_t count;
    char *subject;  /* "Azerbaijani soldier", "civilians" */
    char *claimant; /* who says so; NULL when unattributed */
    char *text;     /* the sentence */
    bool background;/* about another time than the reported happening */
    char *date;     /* date of a background figure when known, else NULL */
} td_claim;

/* An article's tokens and body fingerprint as an ingest worker computed
 * them (text/terms.h), shipped to the store with the article so its single
 * writer does not tokenise: the distinct words once, each field as word
 * numbers. Arrays are in host order once decoded. */
typedef struct {
    uint32_t version;         /* TD_TERMS_VERSION of the producer */
    uint32_t nwords;
    const char *words;        /* nwords x "norm\0stem\0" */
    size_t words_len;
    const uint8_t *stop;      /* nwords flags */
    uint32_t ntitle, nbody;
    const uint32_t *title;    /* word numbers in text order */
    const uint32_t *body;
    uint64_t simhash;         /* fingerprint of the body */
    uint32_t ntok;
    uint32_t n_sent;
    const uint8_t *sent_n;    /* hashes of each sentence */
    const uint32_t *sent;     /* the sentences' sorted hashes, concatenated */
} td_terms_wire;

typedef struct {
    char *speaker; /* NULL when unknown */
    char *text;
} td_quote;

typedef struct {
    char *name;  /* feature name, e.g. "text", "entities", "time", "score" */
    double value;
} td_feature;

/* An article: a submission (first block) filled in by ingest (analysis) and
 * by the store (identity, event, provenance). */
typedef struct {
    /* submission */
    char *id;               /* producer key; after the store: the article id */
    char *url;
    char *source;
    char *title;
    char *body;
    int64_t published_at;   /* ms; TD_TIME_NONE when absent */
    char *lang;
    td_kv *meta;
    size_t n_meta;

    /* analysis (ingest, text/) */
    char **boilerplate;
    size_t n_boilerplate;
    td_entity *entities;
    size_t n_entities;
    td_date *dates;
    size_t n_dates;
    char *event_date;       /* "YYYY-MM-DD" or NULL */
    td_claim *claims;
    size_t n_claims;
    td_quote *quotes;
    size_t n_quotes;

    /* store */
    int64_t ingested_at;    /* ms */
    char *event;
    char *story;
    char *duplicate_of;
    char *derived_id;       /* derived_from.id, NULL when none */
    char *derived_kind;     /* "copy" | "trimmed" | "rewrite" */
    td_feature *assignment; /* why the article joined its event */
    size_t n_assignment;
    uint64_t content_hash;  /* hash of the normalised body (store) */
} td_article;

/* One entry of an event's claims ledger. */
typedef struct {
    char *kind;
    int64_t count;
    char *subject;
    char **claimants;
    size_t n_claimants;
    char **article_ids;
    size_t n_article_ids;
    bool disputed;
} td_ledger_entry;

typedef struct {
    char *id;
    char *title;
    char *summary;
    char *story;
    char *event_date;
    int64_t first_seen;     /* ms: earliest published_at */
    int64_t last_seen;      /* ms: latest published_at */
    uint32_t articles;
    uint32_t sources;
    uint32_t independent_sources;
    char **article_ids;
    size_t n_article_ids;
    td_entity *entities;
    size_t n_entities;
    char **places;
    size_t n_places;
    char **keywords;
    size_t n_keywords;
    td_ledger_entry *claims;
    size_t n_claims;
    char **related;
    size_t n_related;
} td_event;

typedef struct {
    char *id;
    int64_t first_seen, last_seen;
    char **event_ids;       /* in time order */
    size_t n_event_ids;
} td_story;

/* A submission that could not be accepted, as kept by the store. */
typedef struct {
    int64_t at;             /* ms */
    char *code;             /* bad_request | too_large */
    char *message;
    const unsigned char *bytes; /* first TD_REJECT_BYTES bytes of the frame */
    size_t n_bytes;
} td_reject;

/* Error codes of PROTOCOL.md. */
#define TD_E_BAD_REQUEST "bad_request"
#define TD_E_TOO_LARGE "too_large"
#define TD_E_UNAVAILABLE "unavailable"
#define TD_E_INTERNAL "internal"
#define TD_E_NOT_FOUND "not_found"

/* A decoder's verdict: `code` is one of the TD_E_* strings. */
typedef struct {
    const char *code;
    char message[192];
} td_error;

const char *td_entity_kind_name(td_entity_kind kind);
/* Parse a kind name; unknown names give TD_ENT_OTHER. */
td_entity_kind td_entity_kind_parse(const char *name);

#endif
