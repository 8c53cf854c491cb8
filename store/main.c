/* main.c — tidings-store: the only LMDB writer.
 *
 * Parse configuration, open the database (taking the data directory lock),
 * serve until SIGTERM/SIGINT, drain, close. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "security.h"
#include "store_server.h"

static td_option s_opts[] = {
    {"data", "./tidings-data", "data directory (created if missing)", false, NULL},
    {"store", "tcp://127.0.0.1:7403", "internal endpoint ingest workers connect to", false, NULL},
    {"publish", "tcp://127.0.0.1:7405", "PUB endpoint for notifications", false, NULL},
    {"batch-max", "1000", "most messages per write transaction", false, NULL},
    {"batch-ms", "2", "longest wait (ms) after the first message of a batch", false, NULL},
    {"index-hold", "8000",
     "articles whose search postings may wait while the store is behind (0: flush every batch)",
     false, NULL},
    {"index-hold-ms", "5000", "longest such wait (ms) before the postings are written", false,
     NULL},
    {"index-hold-bytes", "160M",
     "memory such postings may take before they are written; at twice this, while their "
     "writes fail, intake stops",
     false, NULL},
    {"map-size", "64G", "LMDB map size reserved (grows when full)", false, NULL},
    {"sync", "full", "commit durability: full | nometasync | nosync", false, NULL},
    {"max-frame", "4M", "largest submission frame (the link allows 4x for analysis)", false,
     NULL},
    {"curve-secret", NULL, "CURVE server secret key file (tidings keygen): encrypt --publish",
     false, NULL},
    {"curve-readers", NULL, "directory of reader public keys (*.pub) allowed on --publish",
     false, NULL},
    {"log-level", "info", "debug | info | warn | error", false, NULL},
};
#define N_OPTS (sizeof s_opts / sizeof s_opts[0])

int main(int argc, char **argv)
{
    int rc = td_config_parse(s_opts, N_OPTS, argc, argv, "tidings-store",
                             "The tidings store: the only writer of the LMDB database. It "
                             "commits analysed\narticles from tidings-ingest in batches, "
                             "acknowledges after commit, and\npublishes notifications.",
                             NULL);
    if (rc != 0) {
        td_config_free(s_opts, N_OPTS);
        return rc > 0 ? 0 : 2;
    }
    int level = td_log_level_parse(td_config_get(s_opts, N_OPTS, "log-level"));
    int sync = td_db_sync_parse(td_config_get(s_opts, N_OPTS, "sync"));
    if (level < 0 || sync < 0) {
        fprintf(stderr, "tidings-store: bad %s (see --help)\n", level < 0 ? "--log-level" : "--sync");
        td_config_free(s_opts, N_OPTS);
        return 2;
    }
    td_log_init("tidings-store", (td_log_level)level);
    td_daemon_signals();
    td_security *sec = NULL;
    if (td_security_configure(td_config_get(s_opts, N_OPTS, "curve-secret"),
                              td_config_get(s_opts, N_OPTS, "curve-readers"), "curve-readers",
                              TD_ZAP_READERS, &sec) != 0) {
        td_config_free(s_opts, N_OPTS);
        return 2;
    }
    if (sec && !td_security_local(td_config_get(s_opts, N_OPTS, "store")))
        td_warn("--store %s is not a loopback or ipc endpoint: the internal link stays "
                "plaintext and unauthenticated (docs/security.md)",
                td_config_get(s_opts, N_OPTS, "store"));

    td_db_opts dbo = {
        .dir = td_config_get(s_opts, N_OPTS, "data"),
        .map_size = (uint64_t)td_config_int(s_opts, N_OPTS, "map-size", 0),
        .sync = (td_db_sync)sync,
    };
    td_db_rc dbrc;
    td_db *db = td_db_open(&dbo, &dbrc);
    if (!db) {
        td_error("cannot open the database in %s: %s", dbo.dir, td_db_strerror(dbrc));
        td_security_destroy(&sec);
        td_config_free(s_opts, N_OPTS);
        return 1;
    }
    td_store_server_opts so = {
        .store = td_config_get(s_opts, N_OPTS, "store"),
        .publish = td_config_get(s_opts, N_OPTS, "publish"),
        .batch_max = (int)td_config_int(s_opts, N_OPTS, "batch-max", 1000),
        .batch_ms = (int)td_config_int(s_opts, N_OPTS, "batch-ms", 2),
        .max_frame = (size_t)td_config_int(s_opts, N_OPTS, "max-frame", TD_MAX_FRAME_DEFAULT),
        .index_hold = (size_t)td_config_int(s_opts, N_OPTS, "index-hold", 8000),
        .index_hold_ms = (int)td_config_int(s_opts, N_OPTS, "index-hold-ms", 5000),
        .index_hold_bytes = (size_t)td_config_int(s_opts, N_OPTS, "index-hold-bytes", 0),
        .security = sec,
    };
    td_store_server *server = td_store_server_new(db, &so);
    if (!server) {
        td_security_destroy(&sec);
        td_db_destroy(&db);
        td_config_free(s_opts, N_OPTS);
        return 1;
    }
    td_info("tidings-store %s ready (data %s, map %llu MiB, sync %s)", TD_VERSION, dbo.dir,
            (unsigned long long)(td_db_map_size(db) >> 20),
            td_config_get(s_opts, N_OPTS, "sync"));
    td_daemon_ready("serving");
    rc = td_store_server_run(server);
    td_daemon_stopping();
    td_store_server_destroy(&server);
    td_security_destroy(&sec);   /* after the server: its context is gone */
    td_db_destroy(&db);
    td_config_free(s_opts, N_OPTS);
    return rc == 0 ? 0 : 1;
}
