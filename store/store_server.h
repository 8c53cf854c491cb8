/* store_server.h — tidings-store's sockets and poll loop: ROUTER on the internal
 * link (7403) feeding the group-commit writer, PUB (7405) for notifications.
 */
#ifndef TD_STORE_SERVER_H
#define TD_STORE_SERVER_H

#include <stddef.h>

#include "db.h"

typedef struct {
    const char *store;      /* ROUTER endpoint ingest workers connect to */
    const char *publish;    /* PUB endpoint for notifications */
    int batch_max;          /* messages per transaction */
    int batch_ms;           /* longest wait after the first message of a batch */
    size_t batch_bytes;     /* frame bytes per transaction */
    size_t max_frame;       /* largest frame accepted on the link */
    size_t index_hold;      /* articles whose postings may wait while busy (0: none) */
    int index_hold_ms;      /* ... for at most this long */
    size_t index_hold_bytes;/* ... and this much memory (0: the default) */
    struct td_security *security; /* CURVE on publish (NULL: plaintext) */
} td_store_server_opts;

typedef struct td_store_server td_store_server;

/* Bind the sockets; NULL on failure (logged). `db` is borrowed. */
td_store_server *td_store_server_new(td_db *db, const td_store_server_opts *opts);
void td_store_server_destroy(td_store_server **self_p);

/* Serve until td_daemon_stop is set, then drain what was received, commit,
 * acknowledge and return 0. */
int td_store_server_run(td_store_server *self);

#endif
