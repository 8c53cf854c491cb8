/* ops.h — the query operations of tidings-query (PROTOCOL.md, 7404).
 *
 * Each op reads one snapshot (ctx->txn) and packs a whole `ok` reply into
 * ctx->pk, or returns -1 after td_q_fail (the server then packs the error).
 * Raw stored records are spliced into replies with td_pack_raw: the bytes in
 * LMDB already are the wire objects.
 */
#ifndef TD_QUERY_OPS_H
#define TD_QUERY_OPS_H

#include <msgpack.h>
#include <stdint.h>

#include "arena.h"
#include "codec.h"
#include "db.h"

typedef struct {
    td_txn *txn;            /* read snapshot; NULL for ops that need no data */
    msgpack_packer *pk;
    td_arena *arena;        /* freed after the request */
    int64_t started_ms;     /* daemon start, monotonic */
    struct td_search_par *par;   /* helper of long searches (NULL: none) */
    const char *code;       /* set by td_q_fail */
    char message[256];
} td_qctx;

/* Record an error reply (code is a TD_E_* string); returns -1. */
int td_q_fail(td_qctx *ctx, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Cursors are opaque to clients: the hex of the last key returned. */
char *td_q_cursor_encode(td_arena *arena, const void *key, size_t len);
/* Decode into `out` (cap bytes); returns the length, or 0 when malformed. */
size_t td_q_cursor_decode(const char *cursor, unsigned char *out, size_t cap);

/* An event loaded by id, with its place in event_time order. */
typedef struct {
    unsigned char *key;     /* event_time key (arena) */
    size_t klen;
    td_val raw;             /* stored record (valid with the snapshot) */
    int64_t first_seen, last_seen;
} td_q_event;

/* Load the events named in ids[0..n) (missing ones are skipped, with a
 * warning). Returns how many went to *out (arena), or -1 after td_q_fail. */
long td_q_events_load(td_qctx *ctx, char *const *ids, size_t n, td_q_event **out);
/* Order: newest activity first (event_time key descending). */
int td_q_event_newest_first(const void *a, const void *b);

/* Most events of one entity considered by entity.get and event.list (its
 * events are loaded and ordered in memory until the search index of issue 5
 * orders them on disk). */
#define TD_Q_ENTITY_SCAN 10000

/* An entity by any spelling of its name: its record and event ids. Returns
 * 0, 1 when there is no such entity, or -1 after td_q_fail. */
int td_q_entity(td_qctx *ctx, const char *name, td_entity_rec *rec, char ***ids, size_t *n);

/* ops_info.c */
int td_op_ping(td_qctx *ctx, const td_query *q);
int td_op_stats(td_qctx *ctx, const td_query *q);

/* ops_get.c */
int td_op_article_get(td_qctx *ctx, const td_query *q);
int td_op_event_get(td_qctx *ctx, const td_query *q);
int td_op_story_get(td_qctx *ctx, const td_query *q);

/* ops_list.c */
int td_op_event_list(td_qctx *ctx, const td_query *q);
int td_op_rejects_list(td_qctx *ctx, const td_query *q);

/* search_op.c: ranked article search (docs/search.md) */
int td_op_search_ranked(td_qctx *ctx, const td_query *q);

/* ops_views.c: event.list with `q` (falls back to td_op_event_list without
 * it), entity.get with mentions per day, similar, changes.since */
int td_op_event_list_view(td_qctx *ctx, const td_query *q);
int td_op_entity_view(td_qctx *ctx, const td_query *q);
int td_op_similar(td_qctx *ctx, const td_query *q);
int td_op_changes_since(td_qctx *ctx, const td_query *q);

#endif
