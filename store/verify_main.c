/* verify_main.c — tidings-verify: check a data directory's consistency.
 *
 * Opens the database read-only (beside a running store, or alone) and runs
 * td_verify in one snapshot. Exit 0: consistent; 1: problems (listed);
 * 2: the check could not run. */
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "verify.h"

static td_option s_opts[] = {
    {"data", "./tidings-data", "data directory to check (opened read-only)", false, NULL},
    {"log-level", "warn", "debug | info | warn | error", false, NULL},
};
#define N_OPTS (sizeof s_opts / sizeof s_opts[0])

int main(int argc, char **argv)
{
    int rc = td_config_parse(s_opts, N_OPTS, argc, argv, "tidings-verify",
                             "Checks that a tidings database is consistent: articles, events "
                             "and stories\nlink both ways, keys resolve, counters match, and "
                             "the search index only\nreferences stored articles. Safe while "
                             "the store runs (one read snapshot).",
                             NULL);
    if (rc != 0) {
        td_config_free(s_opts, N_OPTS);
        return rc > 0 ? 0 : 2;
    }
    int level = td_log_level_parse(td_config_get(s_opts, N_OPTS, "log-level"));
    td_log_init("tidings-verify", level < 0 ? TD_LOG_WARN : (td_log_level)level);
    td_db_opts o = {.dir = td_config_get(s_opts, N_OPTS, "data"), .readonly = true};
    td_db_rc dbrc;
    td_db *db = td_db_open(&o, &dbrc);
    if (!db) {
        fprintf(stderr, "tidings-verify: cannot open %s: %s\n", o.dir, td_db_strerror(dbrc));
        td_config_free(s_opts, N_OPTS);
        return 2;
    }
    rc = td_verify(db, stdout, NULL);
    td_db_destroy(&db);
    td_config_free(s_opts, N_OPTS);
    return rc;
}
