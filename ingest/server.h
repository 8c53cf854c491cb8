/* server.h — tidings-ingest's sockets and poll loop. */
#ifndef TD_INGEST_SERVER_H
#define TD_INGEST_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *feed;       /* PULL endpoint (bind) */
    const char *submit;     /* ROUTER endpoint (bind) */
    const char *store;      /* store's ROUTER (connect) */
    const char *datadir;    /* analyser data (NULL: defaults) */
    size_t max_frame;       /* submission size limit */
    size_t max_pending;     /* acked submissions waiting for the store */
    int64_t ack_timeout_ms; /* answer `unavailable` after this */
    int hwm;                /* high-water mark of every socket */
    int workers;            /* analysis threads (< 1: td_workers_default) */
    struct td_security *security; /* CURVE on feed and submit (NULL: plaintext) */
} td_ingest_config;

typedef struct td_ingest td_ingest;

/* Bind and connect; NULL on failure (logged). */
td_ingest *td_ingest_new(const td_ingest_config *cfg);

/* Serve until td_daemon_stop is set, then drain: stop taking input, wait
 * (bounded) for the store's acks of what was forwarded, answer the rest
 * `unavailable`. Returns 0, or -1 on a fatal socket error. */
int td_ingest_run(td_ingest *self);

void td_ingest_destroy(td_ingest **self_p);

#endif
