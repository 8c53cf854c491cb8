/* codec.h — the one msgpack codec of tidings.
 *
 * This is the only place that knows msgpack field names. Every record of
 * record.h has a pack function (appends one msgpack object to a packer) and a
 * decode function (strict: types, required fields, UTF-8, lengths, nesting).
 *
 * Decoders: `buf`/`len` is one frame; everything the result points to is
 * allocated in `arena`, so the caller frees it all with the arena. On error
 * they return -1 and fill `err` (code TD_E_BAD_REQUEST or TD_E_TOO_LARGE, and
 * a message naming the field); they never abort on peer input.
 *
 * Pack functions return 0, or -1 when the packer's buffer could not grow.
 */
#ifndef TD_CODEC_H
#define TD_CODEC_H

#include <msgpack.h>

#include "arena.h"
#include "record.h"

/* ---- framing checks --------------------------------------------------- */

/* Walk the bytes of one msgpack object without allocating: checks that it is
 * complete, that no length header claims more bytes or elements than the
 * frame holds, that nesting stays within TD_MAX_DEPTH, containers within
 * TD_MAX_ITEMS and the object count within TD_MAX_OBJECTS. This is what
 * bounds the memory msgpack-c's unpacker may use (up to ~24 bytes per
 * object). Returns 0 or -1 with `err` filled. */
int td_mp_check(const void *buf, size_t len, td_error *err);

/* True when `s[0..len)` is valid UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF) and holds no NUL byte. */
bool td_utf8_valid(const char *s, size_t len);

/* ---- submissions (7401, 7402) ----------------------------------------- */

/* Decode a producer's submission into `out` (submission fields only).
 * `max_frame` is the configured frame limit (too_large beyond it). */
int td_submission_decode(const void *buf, size_t len, size_t max_frame,
                         td_arena *arena, td_article *out, td_error *err);

/* Pack a submission (the producer side, used by libtidings). */
int td_submission_pack(msgpack_packer *pk, const td_article *a);

/* ---- articles, events, stories, rejects (stored and replied) ----------- */

int td_article_pack(msgpack_packer *pk, const td_article *a);
int td_article_decode(const void *buf, size_t len, td_arena *arena,
                      td_article *out, td_error *err);

int td_event_pack(msgpack_packer *pk, const td_event *e);
int td_event_decode(const void *buf, size_t len, td_arena *arena,
                    td_event *out, td_error *err);

int td_story_pack(msgpack_packer *pk, const td_story *s);
int td_story_decode(const void *buf, size_t len, td_arena *arena,
                    td_story *out, td_error *err);

int td_reject_pack(msgpack_packer *pk, const td_reject *r);
int td_reject_decode(const void *buf, size_t len, td_arena *arena,
                     td_reject *out, td_error *err);

/* ---- acknowledgements --------------------------------------------------
 * The reply to a submission. Between store and ingest it carries the
 * ingest's `token` (non-zero); towards producers the token is left out. */
typedef struct {
    uint64_t token;
    bool ok;
    char *id;
    char *status;       /* stored | unchanged | updated */
    char *event;
    char *duplicate_of;
    const char *code;   /* when !ok: a TD_E_* code */
    char *message;      /* when !ok */
} td_ack;

int td_ack_pack(msgpack_packer *pk, const td_ack *ack);
int td_ack_decode(const void *buf, size_t len, td_arena *arena, td_ack *out,
                  td_error *err);

/* ---- ingest -> store link (7403) -----------------------------------------
 * One message per article or reject. `token` is non-zero when the ingest
 * wants an acknowledgement after commit. Exactly one of article / reject. */
typedef struct {
    uint64_t token;
    td_article *article;
    td_reject *reject;
    td_terms_wire *terms;  /* optional, with an article: its tokens (terms.h) */
} td_store_msg;

int td_store_msg_pack(msgpack_packer *pk, const td_store_msg *m);
int td_store_msg_decode(const void *buf, size_t len, td_arena *arena,
                        td_store_msg *out, td_error *err);

/* ---- queries (7404) ----------------------------------------------------- */

typedef struct {
    char *op;
    char *id;
    char *name;
    char *q;
    char *source;
    char *entity;
    char *event;
    char *story;
    char *cursor;
    char *lang;         /* language of `q` (ISO 639-1); NULL: English */
    int64_t since;      /* TD_TIME_NONE when absent */
    int64_t until;      /* TD_TIME_NONE when absent */
    uint64_t after_seq; /* changes.since */
    uint32_t limit;     /* 20 when absent; capped at TD_MAX_LIST */
} td_query;

int td_query_pack(msgpack_packer *pk, const td_query *q);
int td_query_decode(const void *buf, size_t len, td_arena *arena,
                    td_query *out, td_error *err);

/* One named counter of the `counters` map in stats (name is static). */
typedef struct {
    const char *name;
    uint64_t value;
} td_counter;

typedef struct {
    uint64_t articles, events, stories, rejects;
    uint64_t db_bytes;
    uint64_t uptime_s;
    const char *version;
    /* extensions */
    uint64_t seq;          /* last notification sequence number committed */
    uint64_t map_bytes;    /* LMDB map size */
    const td_counter *counters; /* packed as the `counters` map when n > 0 */
    size_t n_counters;
} td_stats;

/* Reply envelopes. A reply is { "ok": true, "result": R } or
 * { "ok": false, "error": { "code", "message" } }. */
int td_reply_error_pack(msgpack_packer *pk, const char *code, const char *message);
/* Starts { "ok": true, "result": ... }: the caller packs exactly one object next. */
int td_reply_ok_begin(msgpack_packer *pk);

/* Results. Lists are packed in three steps: begin (with the element count and
 * whether a next_cursor follows), the elements, end (the cursor, if any). A
 * stored article or event may be appended as raw bytes (td_pack_raw): the
 * on-disk record is already the wire object. */
int td_pack_raw(msgpack_packer *pk, const void *buf, size_t len);
int td_ping_pack(msgpack_packer *pk);
int td_stats_pack(msgpack_packer *pk, const td_stats *s);
int td_stats_decode(const void *buf, size_t len, td_stats *out, td_error *err);
int td_event_list_begin(msgpack_packer *pk, size_t n, bool has_cursor);
int td_reject_list_begin(msgpack_packer *pk, size_t n, bool has_cursor);
int td_story_result_begin(msgpack_packer *pk, const char *id, size_t n_events);
int td_list_end(msgpack_packer *pk, const char *next_cursor);

/* Decoded reply envelope: on ok, `result`/`result_len` is the raw msgpack of
 * the result inside `buf` (borrowed: valid while `buf` is). */
typedef struct {
    bool ok;
    const char *code;    /* when !ok */
    char *message;       /* when !ok */
    const void *result;
    size_t result_len;
} td_reply;

int td_reply_decode(const void *buf, size_t len, td_arena *arena, td_reply *out,
                    td_error *err);

/* ---- notifications (7405) ---------------------------------------------- */

typedef struct {
    uint64_t seq;
    char *type;     /* article.stored | article.rejected | event.created | event.updated */
    char *id;
    char *event;    /* for article.stored */
    char *story;
    char *title;
    int64_t at;     /* ms */
    char *topic;    /* PUB topic when not `type` (per-entity/per-event copies) */
} td_notice;

int td_notice_pack(msgpack_packer *pk, const td_notice *n);
int td_notice_decode(const void *buf, size_t len, td_arena *arena,
                     td_notice *out, td_error *err);

/* ---- search and views (codec_search.c) ----------------------------------- */

/* One search hit. `snippet` marks matched terms as **term**. */
typedef struct {
    const char *id;
    double score;
    const char *title;
    const char *source;
    int64_t published_at;
    const char *event;
    const char *snippet;
} td_hit;

/* { "hits": [...], "total", "total_exact", "next_cursor"? }: begin, then n
 * td_hit_pack, then td_list_end. */
int td_search_result_begin(msgpack_packer *pk, size_t n, uint64_t total, bool exact,
                           bool has_cursor);
int td_hit_pack(msgpack_packer *pk, const td_hit *h);

/* event.list with `q`: like td_event_list_begin plus a "scores" array
 * packed after the events (begin, events, td_event_scores_end). */
int td_event_rank_begin(msgpack_packer *pk, size_t n, bool has_cursor);
int td_event_scores_end(msgpack_packer *pk, const double *scores, size_t n,
                        const char *next_cursor);

/* entity.get with mentions per day: { name, kind, articles, per_day:
 * [{day, count}], events: [...] } — pack the days, then n_events events. */
typedef struct {
    char day[11];          /* YYYY-MM-DD */
    uint32_t count;
} td_day_count;
int td_entity_view_begin(msgpack_packer *pk, const char *name, const char *kind,
                         uint64_t articles, const td_day_count *days, size_t n_days,
                         bool days_exact, size_t n_events);

/* similar: { "articles": [hits], "events": [Event] } — begin with the
 * article hits count, pack hits, then td_similar_events and the events. */
int td_similar_begin(msgpack_packer *pk, size_t n_articles);
int td_similar_events(msgpack_packer *pk, size_t n_events);

/* Decoded results of search, story.get and entity.get (clients). Arrays and
 * strings live in the arena. Maps inside arrays must decode as their record
 * or the whole result is refused. */
typedef struct {
    td_hit *hits;
    size_t n_hits;
    uint64_t total;
    bool total_exact;
    char *next_cursor;
} td_search_result;
int td_search_result_decode(const void *buf, size_t len, td_arena *arena,
                            td_search_result *out, td_error *err);

typedef struct {
    char *id;           /* story id (story.get) */
    char *name, *kind;  /* entity.get */
    uint64_t articles;  /* entity.get */
    td_day_count *days; /* entity.get per_day */
    size_t n_days;
    td_event *events;
    size_t n_events;
} td_view_result;
/* story.get or entity.get result. */
int td_view_result_decode(const void *buf, size_t len, td_arena *arena,
                          td_view_result *out, td_error *err);

/* changes log entry: the notification plus its topic. */
int td_change_pack(msgpack_packer *pk, const td_notice *n);
/* Decode a changes log entry (the notification and its topic). */
int td_change_decode(const void *buf, size_t len, td_arena *arena, td_notice *out,
                     td_error *err);
/* changes.since result: { "changes": [entry], "last_seq", "next_seq"?,
 * "truncated" } — begin, then raw entries. */
int td_changes_begin(msgpack_packer *pk, size_t n, uint64_t last_seq, bool truncated,
                     bool has_next, uint64_t next_seq);

#endif
