/* cli.h — what the commands of the `tidings` CLI share: option parsing
 * (common endpoint/timeout/json options, TIDINGS_* environment via
 * proto/config), the client, errors and output helpers.
 *
 * Each command group lives in its own cli_<group>.c and exposes
 * `int td_cli_<command>(td_cli_cmd *cmd, int argc, char **argv)` returning
 * the process exit status. */
#ifndef TD_CLI_H
#define TD_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "tidings.h"

/* Exit statuses. */
enum { TD_EXIT_OK = 0, TD_EXIT_FAIL = 1, TD_EXIT_USAGE = 2 };

/* Set by SIGINT/SIGTERM once td_cli_catch_signals() ran. */
extern volatile sig_atomic_t td_cli_stop;
void td_cli_catch_signals(void);

typedef struct td_cli_command td_cli_command;

/* A parsed command line. */
typedef struct {
    const td_cli_command *command;
    td_option *opts;        /* common options, then the command's own */
    size_t n_opts;
    char **args;            /* positional arguments */
    int n_args;
    bool json;
    int timeout_ms;
    int retries;
    td_client *client;      /* made by td_cli_client() */
} td_cli;

typedef int(td_cli_run_fn)(td_cli *cli);

struct td_cli_command {
    const char *name;       /* "feed", "get", ... */
    const char *args;       /* "PATH...|-" for the usage line */
    const char *summary;    /* one line for `tidings --help` */
    const char *help;       /* paragraphs for `tidings CMD --help`, may be NULL */
    const td_option *opts;  /* the command's own options (templates) */
    size_t n_opts;
    int min_args, max_args; /* positional arguments; max -1: any number */
    int default_retries;    /* --retries when not given */
    td_cli_run_fn *run;
};

/* Parse argv (argv[0] is the command name) for `cmd`; on success run it and
 * tear down. Returns the exit status. */
int td_cli_main(const td_cli_command *cmd, int argc, char **argv);

/* The client for the parsed endpoints; NULL (message printed) on failure. */
td_client *td_cli_client(td_cli *cli);

/* Option values. */
const char *td_cli_opt(const td_cli *cli, const char *name);
bool td_cli_flag(const td_cli *cli, const char *name);
/* Parse an integer option in [min, max]; prints an error and returns -1 when
 * it is not one. `*out` keeps its value when the option is unset. */
int td_cli_opt_int(const td_cli *cli, const char *name, int64_t min, int64_t max, int64_t *out);
/* Parse a time option (ISO-8601 or ms); TD_CLIENT_TIME_NONE when unset;
 * prints an error and returns -1 when it cannot be read. */
int td_cli_opt_time(const td_cli *cli, const char *name, int64_t *out);

/* Print "tidings: <message>" on stderr; returns TD_EXIT_FAIL. */
int td_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a failed client call (uses td_client_errmsg). */
int td_cli_client_error(td_cli *cli, int err);

/* Ask one query; on a transport failure or a server error prints the
 * message and returns TD_EXIT_FAIL; TD_EXIT_OK with `reply` ok otherwise. */
int td_cli_ask(td_cli *cli, const td_client_query *q, td_client_reply *reply);

/* Print a raw msgpack result as JSON on stdout, with a newline. */
int td_cli_print_json(const void *buf, size_t len, bool pretty);

/* The commands. */
extern const td_cli_command td_cli_feed_cmd;
extern const td_cli_command td_cli_get_cmd;
extern const td_cli_command td_cli_events_cmd;
extern const td_cli_command td_cli_stats_cmd;
extern const td_cli_command td_cli_rejects_cmd;
extern const td_cli_command td_cli_ping_cmd;
extern const td_cli_command td_cli_watch_cmd;
extern const td_cli_command td_cli_up_cmd;
extern const td_cli_command td_cli_search_cmd;
extern const td_cli_command td_cli_entity_cmd;
extern const td_cli_command td_cli_story_cmd;
extern const td_cli_command td_cli_keygen_cmd;

#endif
