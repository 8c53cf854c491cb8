/* query_server.h — tidings-query's ROUTER loop: opens the database read-only
 * (waiting for the store to create it), decodes requests, runs the ops and
 * replies through whatever envelope the client used (REQ or DEALER). */
#ifndef TD_QUERY_SERVER_H
#define TD_QUERY_SERVER_H

#include <stddef.h>

typedef struct {
    const char *data;       /* data directory */
    const char *query;      /* ROUTER endpoint */
    size_t max_frame;       /* largest request accepted */
    struct td_security *security; /* CURVE on the query socket (NULL: plaintext) */
    int search_threads;     /* 1: searches on this thread only; 0 or 2: a long
                             * search splits its docnos with a helper thread */
    unsigned long search_split_df;   /* "long": lead clause postings (0: default) */
} td_query_server_opts;

typedef struct td_query_server td_query_server;

/* Bind the socket and try to open the database (a missing database is not
 * an error: it is retried while serving). NULL on failure (logged). */
td_query_server *td_query_server_new(const td_query_server_opts *opts);
void td_query_server_destroy(td_query_server **self_p);

/* Serve until td_daemon_stop; returns 0, or 1 on a fatal error (e.g. a
 * database of an unsupported schema version). */
int td_query_server_run(td_query_server *self);

/* Answer one request frame into `out` (a packed reply); used by the loop and
 * by tests. Returns 0. */
struct msgpack_sbuffer;
int td_query_server_handle(td_query_server *self, const void *frame, size_t len,
                           struct msgpack_sbuffer *out);

#endif
