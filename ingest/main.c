/* main.c — tidings-ingest: validates and analyses submissions, forwards them
 * to the store, and relays the store's acknowledgements. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "security.h"
#include "record.h"
#include "server.h"

static td_option s_opts[] = {
    {"feed", "tcp://127.0.0.1:7401", "fire-and-forget feed (PULL, bind)", false, NULL},
    {"submit", "tcp://127.0.0.1:7402", "acknowledged submit (ROUTER, bind)", false, NULL},
    {"store", "tcp://127.0.0.1:7403", "the store's internal endpoint (connect)", false, NULL},
    {"analysis-data", NULL, "directory with gazetteer data for the analyser", false, NULL},
    {"max-frame", "4M", "largest accepted submission frame", false, NULL},
    {"max-pending", "10000", "acked submissions waiting for the store's commit", false, NULL},
    {"ack-timeout", "10000", "ms before a waiting submit is answered unavailable", false, NULL},
    {"hwm", "1000", "high-water mark (messages) of each socket", false, NULL},
    {"workers", "0", "analysis threads (0: online CPUs, at most 8)", false, NULL},
    {"curve-secret", NULL, "CURVE server secret key file (tidings keygen): encrypt --feed and "
     "--submit", false, NULL},
    {"curve-producers", NULL, "directory of producer public keys (*.pub) allowed on --feed "
     "and --submit", false, NULL},
    {"log-level", "info", "debug | info | warn | error", false, NULL},
};
#define N_OPTS (sizeof s_opts / sizeof *s_opts)

int main(int argc, char **argv)
{
    int rc = td_config_parse(s_opts, N_OPTS, argc, argv, "tidings-ingest",
                             "Validates and analyses news articles and forwards them to "
                             "tidings-store.",
                             NULL);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    int level = td_log_level_parse(td_config_get(s_opts, N_OPTS, "log-level"));
    td_log_init("tidings-ingest", level < 0 ? TD_LOG_INFO : (td_log_level)level);
    td_daemon_signals();
    td_security *sec = NULL;
    if (td_security_configure(td_config_get(s_opts, N_OPTS, "curve-secret"),
                              td_config_get(s_opts, N_OPTS, "curve-producers"),
                              "curve-producers", TD_ZAP_PRODUCERS, &sec) != 0) {
        td_config_free(s_opts, N_OPTS);
        return 2;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    td_ingest_config cfg = {
        .feed = td_config_get(s_opts, N_OPTS, "feed"),
        .submit = td_config_get(s_opts, N_OPTS, "submit"),
        .store = td_config_get(s_opts, N_OPTS, "store"),
        .datadir = td_config_get(s_opts, N_OPTS, "analysis-data"),
        .max_frame = (size_t)td_config_int(s_opts, N_OPTS, "max-frame", TD_MAX_FRAME_DEFAULT),
        .max_pending = (size_t)td_config_int(s_opts, N_OPTS, "max-pending", 10000),
        .ack_timeout_ms = td_config_int(s_opts, N_OPTS, "ack-timeout", 10000),
        .hwm = (int)td_config_int(s_opts, N_OPTS, "hwm", 1000),
        .workers = (int)td_config_int(s_opts, N_OPTS, "workers", 0),
        .security = sec,
    };
    td_ingest *ingest = td_ingest_new(&cfg);
    if (!ingest) {
        td_security_destroy(&sec);
        td_config_free(s_opts, N_OPTS);
        return 1;
    }
    rc = td_ingest_run(ingest);
    td_ingest_destroy(&ingest);
    td_security_destroy(&sec);   /* after the server: its context is gone */
    td_config_free(s_opts, N_OPTS);
    return rc < 0 ? 1 : 0;
}
