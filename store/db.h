/* db.h — the LMDB schema and transactions of tidings.
 *
 * db.c is the only file that includes <lmdb.h>: the named databases, their
 * key layouts, the schema version and the transaction rules live there. The
 * store opens the environments read-write (one writer per data directory,
 * enforced with a lock file); any number of tidings-query processes open them
 * read-only beside it (LMDB MVCC).
 *
 * Two LMDB environments: the main one (data.mdb) and the search index's
 * postings (index.mdb). Each has its own write lock, so the index is
 * written by the store's indexer thread while the writer thread commits
 * articles (docs/storage.md). A td_dbi names its environment; callers do
 * not choose. A read snapshot spans both (the index's begun first, so
 * that every docno it has postings for is in the main one). td_db_write
 * writes the main environment and td_db_index_write the index; a
 * td_db_write that touches the index's databases (tests and tools) adds
 * an index transaction that commits after the main one.
 *
 * Named databases (schema TD_RECORD_VERSION, see docs/storage.md):
 *   meta        "version" → u32 BE; counter names → u64 BE
 *   articles    article id → td_article_pack bytes (the wire Article)
 *   keys        idempotency key → u64 BE content hash + article id
 *   events      event id → td_event_pack bytes
 *   event_time  u64 BE (last_seen, sign-flipped) + event id → empty
 *   stories     story id → td_story_pack bytes
 *   entities    normalised name → entity record (binary, see db.c)
 *   entity_events  normalised name + NUL + event id → empty
 *   rejects     u64 BE sequence → td_reject_pack bytes
 *   docs, docids, retired   the search index's documents (docs/search.md)
 *   postings, positions, terms, termdf   the search index's postings, in
 *               the index environment (its own `meta` holds its counters)
 *   changes     u64 BE seq → notification, for changes.since
 *   df          term key → u32 BE document frequency (store/dfstats.c)
 *   clusters    event id → clustering state of an event (store/cluster.c)
 *   prov        'h' + u64 BE body hash → article id; 'a' + article id →
 *               provenance fingerprint (store/provenance.c)
 *
 * Values returned by get/cursor calls (td_val) point into the LMDB map: they
 * stay valid until the transaction ends or, in a write transaction, until the
 * next write — copy before keeping.
 */
#ifndef TD_DB_H
#define TD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "codec.h"
#include "record.h"

/* Reserved map size (virtual address space; the file grows as written). */
#define TD_DB_MAP_DEFAULT ((uint64_t)64 << 30)
/* Longest key td_db writes. LMDB's limit is 511; longer ids/keys are hashed. */
#define TD_DB_MAX_KEY 480
/* Longest normalised entity name (bytes, with the NUL). */
#define TD_DB_ENTITY_KEY 256

typedef struct td_db td_db;
typedef struct td_txn td_txn;
typedef struct td_cur td_cur;

typedef enum {
    TD_DB_OK = 0,
    TD_DB_NOTFOUND,   /* no such key */
    TD_DB_FULL,       /* map full: td_db_write grows the map and redoes */
    TD_DB_NODB,       /* read-only open: the store has not created it yet */
    TD_DB_LOCKED,     /* another store holds the data directory */
    TD_DB_VERSION,    /* schema version newer/unknown */
    TD_DB_NOSPACE,    /* disk full: nothing committed, retry later */
    TD_DB_BADVAL,     /* key empty or too long, or a record would not pack */
    TD_DB_ERROR,      /* anything else (logged with mdb_strerror) */
} td_db_rc;

/* Human-readable text of a td_db_rc. */
const char *td_db_strerror(td_db_rc rc);

typedef enum { TD_SYNC_FULL = 0, TD_SYNC_NOMETASYNC, TD_SYNC_NOSYNC } td_db_sync;

/* Parse "full" | "nometasync" | "nosync"; -1 when unknown. */
int td_db_sync_parse(const char *name);

typedef struct {
    const char *dir;     /* data directory; the writer creates it */
    uint64_t map_size;   /* 0 = TD_DB_MAP_DEFAULT; an existing bigger map is kept */
    td_db_sync sync;     /* writer durability; full = every commit synced */
    bool readonly;       /* MDB_RDONLY: never writes data (tidings-query) */
} td_db_opts;

typedef enum {
    TD_DBI_META = 0,
    TD_DBI_ARTICLES,
    TD_DBI_KEYS,
    TD_DBI_EVENTS,
    TD_DBI_EVENT_TIME,
    TD_DBI_STORIES,
    TD_DBI_ENTITIES,
    TD_DBI_ENTITY_EVENTS,
    TD_DBI_REJECTS,
    TD_DBI_DF,           /* term/entity key -> u32 BE document frequency (dfstats.c) */
    TD_DBI_CLUSTERS,     /* event id -> clustering state of the event (cluster.c) */
    TD_DBI_PROV,         /* provenance fingerprints and body hashes (provenance.c) */
    /* search index (store/index*.c, docs/search.md) */
    TD_DBI_POSTINGS,     /* u32 BE term number + u32 BE first docno -> posting block */
    TD_DBI_TERMS,        /* term -> u32 BE term number */
    TD_DBI_DOCS,         /* u32 BE docno -> doc record (index_block.h) */
    TD_DBI_DOCIDS,       /* article id -> u32 BE docno of its live version */
    TD_DBI_CHANGES,      /* u64 BE seq -> notification (td_change_pack) */
    TD_DBI_EVENT_ARTICLES, /* event id + NUL + u32 BE ordinal -> article id (assign.c) */
    TD_DBI_POSITIONS,    /* posting key -> the block's positions (index_block.h) */
    TD_DBI_TERMDF,       /* u32 BE term number -> u64 BE document frequency */
    TD_DBI_RETIRED,      /* u32 BE docno of a replaced version -> empty */
    TD_DBI_DF_LOG,       /* u64 BE record number -> one commit's df increments (dfstats.c) */
    TD_DBI_EVENT_MOVED,  /* id of an event merged away -> id of the event it went into */
    TD_DBI_ENTITY_LOG,   /* u64 BE record number -> one commit's entity changes (entity_tally.c) */
    TD_DBI_COUNT
} td_dbi;

/* Persistent counters in `meta`. The *_NEXT ones hand out ids. */
typedef enum {
    TD_CTR_ARTICLES = 0,
    TD_CTR_EVENTS,
    TD_CTR_STORIES,
    TD_CTR_REJECTS,
    TD_CTR_SEQ,          /* last notification sequence number */
    TD_CTR_EVENT_NEXT,
    TD_CTR_STORY_NEXT,
    TD_CTR_REJECT_NEXT,
    TD_CTR_MAP_GROWS,    /* times the map was grown */
    TD_CTR_DOC_NEXT,     /* last index docno handed out */
    TD_CTR_DOC_LIVE,     /* indexed documents (live versions) */
    TD_CTR_DOC_TOKENS,   /* sum of their lengths, for BM25's average */
    TD_CTR_DOC_UNINDEXED,/* last docnos whose postings are not flushed yet:
                          * derived, doc_next - indexed_upto (read-only) */
    /* observability (the `counters` map of `stats`, docs/reliability.md) */
    TD_CTR_COMMITS,      /* write transactions committed */
    TD_CTR_STORED,       /* new articles stored */
    TD_CTR_UPDATED,      /* new versions of known articles */
    TD_CTR_UNCHANGED,    /* resubmissions with the same content */
    TD_CTR_RETRIES,      /* ... of them acked submits: a producer retrying */
    TD_CTR_REJ_BAD_REQUEST, /* reject records by code */
    TD_CTR_REJ_TOO_LARGE,
    TD_CTR_REJ_OTHER,
    TD_CTR_WRITE_FAILS,  /* transactions that could not commit (any cause) */
    TD_CTR_NOSPACE,      /* ... of them for a full disk */
    TD_CTR_READER_CLEARS,/* stale reader slots cleared by the store */
    TD_CTR_INDEX_FLUSHES,/* transactions that wrote held search postings */
    TD_CTR_TERM_NEXT,    /* last search term number handed out (index env) */
    TD_CTR_INDEXED_UPTO, /* every docno up to it has its postings on disk
                          * (index env) */
    TD_CTR_COUNT
} td_ctr;

/* First counter reported in the `counters` map of `stats`. */
#define TD_CTR_REPORT_FIRST TD_CTR_COMMITS

typedef struct {
    const void *data;
    size_t len;
} td_val;

/* ---- environment --------------------------------------------------------- */

/* Open the environment. Writer: creates the directory, takes the directory
 * lock (TD_DB_LOCKED when another store has it), creates the schema or checks
 * its version, clears stale reader slots. Read-only: TD_DB_NODB while the
 * store has not created the database yet (retry later). Returns NULL with
 * *rc set on failure (the reason is logged). */
td_db *td_db_open(const td_db_opts *opts, td_db_rc *rc);

/* Close; NULL-safe; sets *self_p = NULL. No transaction may be open. */
void td_db_destroy(td_db **self_p);

/* Clear reader slots of dead processes; returns how many were cleared. The
 * writer counts them (meta `reader_clears`, stored with its next commit). */
int td_db_reader_check(td_db *self);

/* True once LMDB declared the environment unusable (MDB_PANIC after a
 * failed meta-page write): the store must restart. */
bool td_db_panicked(const td_db *self);

/* Test-only fault injection (docs/reliability.md). When the build has
 * TD_FAULT_INJECTION and the environment names a switch file in
 * TIDINGS_TEST_FAULTS, every commit reads that file: "commit" makes commits
 * fail with ENOSPC, "put" makes puts fail with ENOSPC, "hold MS" keeps each
 * read snapshot open MS ms longer; a missing or empty file means no fault.
 * Returns whether injection is armed in this process (logged at open). */
bool td_db_faults_armed(void);

/* Current map size in bytes, and the bytes of the data file's pages in
 * use by the last committed transaction (the file itself may be up to
 * TD_PAGECACHE_AHEAD longer, pagecache.h). */
uint64_t td_db_map_size(td_db *self);
uint64_t td_db_used_bytes(td_db *self);

/* Grow the map (doubling, at least +64 MiB). No transaction may be open. */
td_db_rc td_db_grow(td_db *self);

/* ---- transactions ------------------------------------------------------- */

/* Body of a write transaction. It must be replayable: td_db_write calls it
 * again from scratch on a fresh transaction after growing a full map, so it
 * derives everything from the transaction and resets its own side effects
 * (e.g. pending acks) at the start. Return TD_DB_OK to commit. */
typedef td_db_rc (*td_db_write_fn)(td_txn *txn, void *arg);

/* Run `fn` in a write transaction and commit it (synced per opts.sync).
 * MDB_MAP_FULL (in fn or at commit) aborts, grows the map and calls fn
 * again. Returns TD_DB_OK once committed, else the failure (aborted;
 * TD_DB_NOSPACE when the disk is full). */
td_db_rc td_db_write(td_db *self, td_db_write_fn fn, void *arg);

/* The same for the index environment (td_dbi POSTINGS, POSITIONS, TERMS,
 * TERMDF and the index's counters only), from any one thread: it waits
 * only for the index's write lock, never for td_db_write. Synced
 * without its meta page (MDB_NOMETASYNC, or not at all under
 * sync=nosync): the index is rebuilt from the articles, so a system crash
 * may cost its last transactions, never the main environment's. */
td_db_rc td_db_index_write(td_db *self, td_db_write_fn fn, void *arg);

/* Run `fn` in a transaction nested in write transaction `txn` (through
 * the same handle): its writes join txn's when fn returns TD_DB_OK and the
 * child commits; otherwise they are dropped and txn fails as a whole.
 * LMDB keeps a transaction's dirty pages in a sorted array, so every page
 * dirtied moves the array's tail: one transaction of N pages costs O(N^2),
 * while a child's pages join its parent's in one linear merge. Writes of
 * tens of thousands of pages (the search index flush) go in children of a
 * few thousand each. Cursors opened in fn must be closed in fn. */
td_db_rc td_txn_nested(td_txn *txn, td_db_write_fn fn, void *arg);

/* The same, nested in the transaction's own environment only: fn reaches
 * no database of the other one (it fails the transaction if it tries).
 * For the writer thread's end-of-batch writes, which must not begin the
 * index environment's write transaction (the indexer thread holds it). */
td_db_rc td_txn_nested_own(td_txn *txn, td_db_write_fn fn, void *arg);

/* Begin a read-only snapshot (adopts a map grown by the writer). */
td_db_rc td_db_read_begin(td_db *self, td_txn **txn_p);

/* Another snapshot, in another thread, while one begun by td_db_read_begin
 * is open: a grown map cannot be adopted then (that would remap under the
 * open one), so it fails with the error instead. */
td_db_rc td_db_read_begin_more(td_db *self, td_txn **txn_p);

/* End a read snapshot; NULL-safe; sets *txn_p = NULL. */
void td_txn_end(td_txn **txn_p);

/* The environment of a transaction. */
td_db *td_txn_db(td_txn *txn);

/* Generic access, for modules that add their own records (e.g. an index). */
td_db_rc td_txn_get(td_txn *txn, td_dbi dbi, const void *key, size_t klen, td_val *val);
td_db_rc td_txn_put(td_txn *txn, td_dbi dbi, const void *key, size_t klen,
                    const void *val, size_t vlen);
td_db_rc td_txn_del(td_txn *txn, td_dbi dbi, const void *key, size_t klen);
/* Empty a database (write txn). */
td_db_rc td_txn_drop(td_txn *txn, td_dbi dbi);
/* Entries in a database. */
uint64_t td_txn_entries(td_txn *txn, td_dbi dbi);

/* Counters: read (0 when never set), add (write txn only; returns the new
 * value). Writes are kept in the transaction and stored at commit. */
uint64_t td_txn_counter(td_txn *txn, td_ctr ctr);
uint64_t td_txn_counter_add(td_txn *txn, td_ctr ctr, int64_t delta);

/* ---- cursors ------------------------------------------------------------ */

td_db_rc td_cur_open(td_txn *txn, td_dbi dbi, td_cur **cur_p);
void td_cur_close(td_cur **cur_p);
td_db_rc td_cur_first(td_cur *cur, td_val *key, td_val *val);
td_db_rc td_cur_last(td_cur *cur, td_val *key, td_val *val);
td_db_rc td_cur_next(td_cur *cur, td_val *key, td_val *val);
td_db_rc td_cur_prev(td_cur *cur, td_val *key, td_val *val);
/* Position at the first key >= `k` (TD_DB_NOTFOUND past the end). */
td_db_rc td_cur_seek(td_cur *cur, const void *k, size_t klen, td_val *key, td_val *val);
/* Position at the last key < `k` (newest-first paging below a cursor). */
td_db_rc td_cur_before(td_cur *cur, const void *k, size_t klen, td_val *key, td_val *val);
/* Put through a cursor of write transaction t (left on the item). With
 * `current` the item the cursor is on is replaced — its key must be `k` —
 * without a second search from the root (the index writer reads, merges
 * and rewrites one value per touched term). */
td_db_rc td_cur_put(td_txn *t, td_cur *cur, const void *k, size_t klen, const void *val,
                    size_t vlen, bool current);

/* ---- records ------------------------------------------------------------ */

/* Stored article (raw td_article_pack bytes). */
td_db_rc td_db_article_get(td_txn *txn, const char *id, td_val *raw);
/* Pack and store `a` under a->id. */
td_db_rc td_db_article_put(td_txn *txn, const td_article *a);

/* Idempotency key → content hash and article id (id copied into `arena`). */
td_db_rc td_db_key_get(td_txn *txn, const char *key, td_arena *arena, uint64_t *hash,
                       char **article_id);
td_db_rc td_db_key_put(td_txn *txn, const char *key, uint64_t hash, const char *article_id);

td_db_rc td_db_event_get(td_txn *txn, const char *id, td_val *raw);
/* Like td_db_event_get, but an id merged into another event answers the
 * event it went into (through a chain of merges, at most
 * TD_DB_MOVED_HOPS of them). */
#define TD_DB_MOVED_HOPS 32
td_db_rc td_db_event_get_moved(td_txn *txn, const char *id, td_val *raw);
/* Record that event `gone` was merged into event `into`. */
td_db_rc td_db_event_moved_put(td_txn *txn, const char *gone, const char *into);
/* Store `e` and keep event_time in step: `old_last_seen` is the stored
 * event's last_seen (TD_TIME_NONE for a new event). */
td_db_rc td_db_event_put(td_txn *txn, const td_event *e, int64_t old_last_seen);

td_db_rc td_db_story_get(td_txn *txn, const char *id, td_val *raw);
td_db_rc td_db_story_put(td_txn *txn, const td_story *s);

/* Append a reject; its sequence number goes to *seq (may be NULL). */
td_db_rc td_db_reject_add(td_txn *txn, const td_reject *r, uint64_t *seq);

/* An entity: what the `entities` database keeps per normalised name. Its
 * events are in `entity_events` (one small key per link, so linking costs
 * the same however many events an entity has). */
typedef struct {
    char *name;           /* as first seen */
    td_entity_kind kind;
    uint64_t articles;    /* articles mentioning it */
} td_entity_rec;

/* Normalised entity key (NFKC, case-folded, blanks collapsed and trimmed)
 * into `out` (NUL-terminated, at most TD_DB_ENTITY_KEY bytes used); returns
 * its length, 0 when the name is empty. All entity calls take this key. */
size_t td_db_entity_norm(const char *name, char *out, size_t cap);

td_db_rc td_db_entity_get(td_txn *txn, const char *key, td_arena *arena, td_entity_rec *out);
td_db_rc td_db_entity_put(td_txn *txn, const char *key, const td_entity_rec *e);
/* Link an entity to an event (idempotent). */
td_db_rc td_db_entity_link(td_txn *txn, const char *key, const char *event_id);
/* Remove a link (an event merged into another); absent links are fine. */
td_db_rc td_db_entity_unlink(td_txn *txn, const char *key, const char *event_id);
/* Up to `max` event ids linked to the entity (in id order, copied to
 * `arena`); *more tells whether some were left out. */
td_db_rc td_db_entity_events(td_txn *txn, const char *key, td_arena *arena, size_t max,
                             char ***ids, size_t *n, bool *more);

/* Big-endian u64 keys (sequence numbers of rejects and changes): they sort
 * numerically under LMDB's byte order. */
void td_db_u64_put(unsigned char out[8], uint64_t v);
uint64_t td_db_u64_get(const unsigned char in[8]);

/* event_time keys: 8 bytes of sign-flipped big-endian time, then the id.
 * `out` needs 8 + strlen(id) bytes; returns the key length (0 when the id is
 * too long). An empty or NULL id gives the 8-byte prefix, which sorts before
 * every key of that time. */
size_t td_db_timekey(int64_t t, const char *id, unsigned char *out, size_t cap);
/* Split a time key; returns -1 when it is not one. `id` is not terminated. */
int td_db_timekey_split(const void *key, size_t len, int64_t *t, const char **id,
                        size_t *idlen);

/* Notifications log (`changes`): keep the last TD_DB_CHANGES_KEEP. */
#define TD_DB_CHANGES_KEEP 1000000
/* Store one packed notification under `seq` and drop the one that fell out
 * of the kept window. */
td_db_rc td_db_change_put(td_txn *txn, uint64_t seq, const void *val, size_t len);

/* Counts and sizes for `stats` (fills the db fields of `s`). */
void td_db_stats(td_txn *txn, td_stats *s);

/* The observability counters (TD_CTR_REPORT_FIRST onwards, plus
 * map_grows, doc_unindexed and entity_logged, the entity log's records)
 * as name/value pairs into out[0..cap); returns how many (at most
 * TD_DB_COUNTERS). Names are static. */
#define TD_DB_COUNTERS (TD_CTR_COUNT + 1)
size_t td_db_counters(td_txn *txn, td_counter *out, size_t cap);

/* The name of a counter in `meta` (static), NULL when out of range. */
const char *td_db_counter_name(td_ctr ctr);

#endif
