/* writer.h — group commit of what ingest workers send to the store.
 *
 * Frames (td_store_msg: an analysed article or a reject record) are added to
 * a batch; td_writer_commit writes the whole batch in one LMDB transaction
 * (idempotent keys, event assignment, rejects, notifications) and only after
 * the commit returns hands the acknowledgements and notifications to the
 * sink. No sockets here: server.c owns them, tests drive this directly.
 */
#ifndef TD_WRITER_H
#define TD_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "db.h"

/* Most bytes of an envelope (routing id, delimiter) kept for the reply. */
#define TD_WRITER_ENVELOPE 256

typedef struct td_writer td_writer;

/* Where results go after a commit. `env`/`env_len` is the envelope given to
 * td_writer_add (echo it before the reply). Either callback may be NULL. */
typedef struct {
    void (*ack)(void *ctx, const void *env, size_t env_len, const td_ack *ack);
    void (*notice)(void *ctx, const td_notice *n);
    void *ctx;
} td_writer_sink;

/* New writer over an open read-write `db` (borrowed: must outlive it). */
td_writer *td_writer_new(td_db *db);
void td_writer_destroy(td_writer **self_p);

/* Add one frame to the batch; `now` is its arrival time (ms, its
 * ingested_at). A frame that does not decode becomes a reject record
 * (bad_request), never an error. Returns 0, or -1 when out of memory (the
 * frame is then not in the batch; commit first and retry). */
int td_writer_add(td_writer *self, const void *env, size_t env_len, const void *frame,
                  size_t len, int64_t now);

/* Messages and frame bytes in the current batch. */
size_t td_writer_count(const td_writer *self);
size_t td_writer_bytes(const td_writer *self);

/* Write the batch in one transaction (`more`: the store is behind its
 * input, so the search index may hold this batch's postings, see
 * td_writer_hold_index, and the entity tables may wait, their changes
 * logged, see entity_tally.h); once it has committed, hand its postings to the
 * indexer's thread and, without `more`, wait until it has written them
 * (transactions of their own: their failure is logged and retried, never
 * the batch's), send every acknowledgement (token != 0)
 * and notification to `sink`, then empty the batch. When the transaction fails nothing is notified and:
 *  - full disk (TD_DB_NOSPACE, or TD_DB_FULL when the map cannot grow):
 *    acked messages get `unavailable` and leave the batch; feed messages
 *    (token 0: nobody to tell) STAY in the batch for the next commit;
 *  - any other failure: acked messages get `internal`, the batch is emptied.
 * Returns the transaction outcome. */
td_db_rc td_writer_commit(td_writer *self, const td_writer_sink *sink, bool more);

/* Entity changes logged while the store was behind (entity_tally.h) may
 * wait: td_writer_settle writes them into the entity tables in a
 * transaction of its own (the batch must be empty). */
bool td_writer_entities_waiting(const td_writer *self);
td_db_rc td_writer_settle(td_writer *self);

/* Let the indexer's thread hold postings across commits made with `more`,
 * up to `docs` articles, `ms` milliseconds and `bytes` of memory (0: 160
 * MiB), then write them in one flush; docs 0 (the default) flushes after
 * every commit. Held articles are stored and acknowledged; search finds
 * them once flushed. A flush that fails leaves them held and is retried
 * a second later; once they take twice `bytes`, commits wait for it as
 * for a full disk (TD_DB_FULL or TD_DB_NOSPACE, feed messages kept). */
void td_writer_hold_index(td_writer *self, size_t docs, int64_t ms, size_t bytes);

/* Articles whose postings are held (gathered, or still waiting for the
 * indexer's thread to gather them: indexer.h), and writing them all
 * (call it when no input is waiting; it waits for the thread to gather
 * and write everything handed over). */
size_t td_writer_index_held(const td_writer *self);
td_db_rc td_writer_flush_index(td_writer *self);

/* Re-index the articles a crash left without postings (at start, before
 * the first commit; see td_index_recover). */
td_db_rc td_writer_recover(td_writer *self);

/* Answer every acked message of the batch with ok=false `code` and drop it
 * from the batch, keeping feed messages (used while storage is full).
 * Returns how many were refused. */
size_t td_writer_refuse(td_writer *self, const td_writer_sink *sink, const char *code,
                        const char *message);

/* Totals since start, for logs and stats. */
typedef struct {
    uint64_t stored, updated, unchanged, rejected, failed, commits;
} td_writer_totals;
void td_writer_totals_get(const td_writer *self, td_writer_totals *out);

#endif
