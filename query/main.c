/* main.c — tidings-query: answers queries from the LMDB database, read-only.
 *
 * Parse configuration, bind, serve until SIGTERM/SIGINT, close. Many query
 * processes may run beside the store and beside each other. */
#include <stdio.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "security.h"
#include "record.h"
#include "query_server.h"

static td_option s_opts[] = {
    {"data", "./tidings-data", "data directory (opened read-only)", false, NULL},
    {"query", "tcp://127.0.0.1:7404", "ROUTER endpoint clients connect to (REQ or DEALER)",
     false, NULL},
    {"max-frame", "4M", "largest request frame", false, NULL},
    {"curve-secret", NULL, "CURVE server secret key file (tidings keygen): encrypt --query",
     false, NULL},
    {"curve-readers", NULL, "directory of reader public keys (*.pub) allowed on --query",
     false, NULL},
    {"search-threads", "2",
     "threads of one long search: 2 splits its docnos with a helper thread, 1 does not",
     false, NULL},
    {"search-split-df", "50000",
     "a search is split when its rarest term is in at least this many articles", false, NULL},
    {"log-level", "info", "debug | info | warn | error", false, NULL},
};
#define N_OPTS (sizeof s_opts / sizeof s_opts[0])

int main(int argc, char **argv)
{
    int rc = td_config_parse(s_opts, N_OPTS, argc, argv, "tidings-query",
                             "The tidings query server: answers ping, stats, article.get, "
                             "event.get,\nevent.list, story.get, entity.get and rejects.list "
                             "from the database that\ntidings-store writes. It never writes.",
                             NULL);
    if (rc != 0) {
        td_config_free(s_opts, N_OPTS);
        return rc > 0 ? 0 : 2;
    }
    int level = td_log_level_parse(td_config_get(s_opts, N_OPTS, "log-level"));
    if (level < 0) {
        fprintf(stderr, "tidings-query: bad --log-level (see --help)\n");
        td_config_free(s_opts, N_OPTS);
        return 2;
    }
    td_log_init("tidings-query", (td_log_level)level);
    td_daemon_signals();
    td_security *sec = NULL;
    if (td_security_configure(td_config_get(s_opts, N_OPTS, "curve-secret"),
                              td_config_get(s_opts, N_OPTS, "curve-readers"), "curve-readers",
                              TD_ZAP_READERS, &sec) != 0) {
        td_config_free(s_opts, N_OPTS);
        return 2;
    }

    int64_t threads = td_config_int(s_opts, N_OPTS, "search-threads", 2);
    int64_t split_df = td_config_int(s_opts, N_OPTS, "search-split-df", 50000);
    if (threads != 1 && threads != 2) {
        fprintf(stderr, "tidings-query: --search-threads must be 1 or 2\n");
        td_security_destroy(&sec);
        td_config_free(s_opts, N_OPTS);
        return 2;
    }
    td_query_server_opts so = {
        .data = td_config_get(s_opts, N_OPTS, "data"),
        .query = td_config_get(s_opts, N_OPTS, "query"),
        .max_frame = (size_t)td_config_int(s_opts, N_OPTS, "max-frame", TD_MAX_FRAME_DEFAULT),
        .security = sec,
        .search_threads = (int)threads,
        .search_split_df = split_df > 0 ? (unsigned long)split_df : 1,
    };
    td_query_server *server = td_query_server_new(&so);
    if (!server) {
        td_security_destroy(&sec);
        td_config_free(s_opts, N_OPTS);
        return 1;
    }
    td_info("tidings-query %s ready", TD_VERSION);
    td_daemon_ready("serving");
    rc = td_query_server_run(server);
    td_daemon_stopping();
    td_query_server_destroy(&server);
    td_security_destroy(&sec);   /* after the server: its context is gone */
    td_config_free(s_opts, N_OPTS);
    return rc;
}
