/* cli_common.c — option parsing, the client, errors: see cli.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "isotime.h"
#include "jsonout.h"

volatile sig_atomic_t td_cli_stop = 0;

static void s_on_signal(int sig)
{
    (void)sig;
    if (td_cli_stop)
        _exit(130);   /* a second Ctrl-C: leave at once */
    td_cli_stop = 1;
}

void td_cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: blocking calls return EINTR so loops see the flag */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static const td_option s_common[] = {
    {"submit", TD_CLIENT_SUBMIT_DEFAULT, "acknowledged submit endpoint (tidings-ingest)", false, NULL},
    {"feed", TD_CLIENT_FEED_DEFAULT, "fire-and-forget feed endpoint (tidings-ingest)", false, NULL},
    {"query", TD_CLIENT_QUERY_DEFAULT, "query endpoint (tidings-query)", false, NULL},
    {"publish", TD_CLIENT_PUBLISH_DEFAULT, "notification endpoint (tidings-store)", false, NULL},
    {"timeout", "3000", "ms to wait for an answer before retrying or giving up", false, NULL},
    {"retries", NULL, "extra tries after a timeout", false, NULL},
    {"json", NULL, "print results as JSON, for scripts", true, NULL},
    {"server-key", NULL, "CURVE: the daemons' public key file (PREFIX.pub)", false, NULL},
    {"client-key", NULL, "CURVE: this client's secret key file (PREFIX.key)", false, NULL},
};
#define N_COMMON (sizeof s_common / sizeof s_common[0])

static void s_print_opts(const td_option *o, size_t n, const td_cli_command *cmd)
{
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o[i].name, o[i].flag ? "" : " VALUE");
        printf("  %-22s %s", left, o[i].help);
        if (o[i].def)
            printf(" (default: %s)", o[i].def);
        else if (cmd && strcmp(o[i].name, "retries") == 0)
            printf(" (default: %d)", cmd->default_retries);
        printf("\n");
    }
}

static void s_usage(const td_cli_command *cmd)
{
    printf("Usage: tidings %s [OPTIONS]%s%s\n\n%s\n", cmd->name, cmd->args ? " " : "",
           cmd->args ? cmd->args : "", cmd->summary);
    if (cmd->help)
        printf("\n%s", cmd->help);
    if (cmd->n_opts) {
        printf("\nOptions:\n");
        s_print_opts(cmd->opts, cmd->n_opts, NULL);
    }
    printf("\nCommon options:\n");
    s_print_opts(s_common, N_COMMON, cmd);
    printf("\nEvery option may also come from a TIDINGS_<NAME> environment variable\n"
           "(e.g. TIDINGS_QUERY) or a 'name = value' line of --config FILE.\n");
}

int td_cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("tidings: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return TD_EXIT_FAIL;
}

int td_cli_client_error(td_cli *cli, int err)
{
    if (err == TD_CLIENT_EINTR)
        return td_cli_error("interrupted");
    return td_cli_error("%s", td_client_errmsg(cli->client));
}

const char *td_cli_opt(const td_cli *cli, const char *name)
{
    return td_config_get(cli->opts, cli->n_opts, name);
}

bool td_cli_flag(const td_cli *cli, const char *name)
{
    return td_config_bool(cli->opts, cli->n_opts, name);
}

int td_cli_opt_int(const td_cli *cli, const char *name, int64_t min, int64_t max, int64_t *out)
{
    const char *v = td_cli_opt(cli, name);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max) {
        td_cli_error("--%s wants a whole number from %lld to %lld, not '%s'", name,
                     (long long)min, (long long)max, v);
        return -1;
    }
    *out = x;
    return 0;
}

int td_cli_opt_time(const td_cli *cli, const char *name, int64_t *out)
{
    const char *v = td_cli_opt(cli, name);
    *out = TD_CLIENT_TIME_NONE;
    if (!v)
        return 0;
    if (td_isotime_parse(v, out) < 0) {
        td_cli_error("--%s wants an ISO-8601 time (2023-05-11, 2023-05-11T16:30:00Z) or ms, "
                     "not '%s'", name, v);
        return -1;
    }
    return 0;
}

td_client *td_cli_client(td_cli *cli)
{
    if (cli->client)
        return cli->client;
    td_client_options o = {
        .submit = td_cli_opt(cli, "submit"),
        .feed = td_cli_opt(cli, "feed"),
        .query = td_cli_opt(cli, "query"),
        .publish = td_cli_opt(cli, "publish"),
        .timeout_ms = cli->timeout_ms,
        .retries = cli->retries,
        .stop = &td_cli_stop,
    };
    cli->client = td_client_new(&o);
    if (!cli->client) {
        td_cli_error("cannot start the client (out of memory or ZeroMQ failed)");
        return NULL;
    }
    const char *sk = td_cli_opt(cli, "server-key"), *ck = td_cli_opt(cli, "client-key");
    if ((sk || ck) && td_client_set_curve_files(cli->client, sk, ck) != TD_CLIENT_OK) {
        td_cli_error("%s (CURVE needs both --server-key and --client-key)",
                     td_client_errmsg(cli->client));
        td_client_destroy(&cli->client);
    }
    return cli->client;
}

int td_cli_ask(td_cli *cli, const td_client_query *q, td_client_reply *reply)
{
    if (!td_cli_client(cli))
        return TD_EXIT_FAIL;
    int rc = td_client_ask(cli->client, q, reply);
    if (rc != TD_CLIENT_OK)
        return td_cli_client_error(cli, rc);
    if (!reply->ok)
        return td_cli_error("%s (%s)", reply->message && *reply->message ? reply->message
                                                                         : "request failed",
                            reply->code ? reply->code : "error");
    return TD_EXIT_OK;
}

int td_cli_print_json(const void *buf, size_t len, bool pretty)
{
    if (td_json_print_raw(stdout, buf, len, pretty ? TD_JSON_PRETTY : TD_JSON_COMPACT) < 0)
        return td_cli_error("cannot print the result as JSON");
    putchar('\n');
    return TD_EXIT_OK;
}

int td_cli_main(const td_cli_command *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(cmd);
            return TD_EXIT_OK;
        }
    }
    td_cli cli;
    memset(&cli, 0, sizeof cli);
    cli.command = cmd;
    cli.n_opts = N_COMMON + cmd->n_opts;
    cli.opts = calloc(cli.n_opts, sizeof *cli.opts);
    if (!cli.opts)
        return td_cli_error("out of memory");
    memcpy(cli.opts, s_common, sizeof s_common);
    if (cmd->n_opts)
        memcpy(cli.opts + N_COMMON, cmd->opts, cmd->n_opts * sizeof *cmd->opts);
    for (size_t i = 0; i < cli.n_opts; i++)
        cli.opts[i].value = NULL;

    char program[64];
    snprintf(program, sizeof program, "tidings %s", cmd->name);
    int first = argc;
    int status = TD_EXIT_USAGE;
    int rc = td_config_parse(cli.opts, cli.n_opts, argc, argv, program, cmd->summary, &first);
    if (rc != 0) {
        status = rc > 0 ? TD_EXIT_OK : TD_EXIT_USAGE;
        goto done;
    }
    cli.args = argv + first;
    cli.n_args = argc - first;
    if (cli.n_args < cmd->min_args || (cmd->max_args >= 0 && cli.n_args > cmd->max_args)) {
        td_cli_error("%s: wrong number of arguments (see tidings %s --help)", cmd->name,
                     cmd->name);
        goto done;
    }
    int64_t timeout = TD_CLIENT_TIMEOUT_DEFAULT, retries = cmd->default_retries;
    if (td_cli_opt_int(&cli, "timeout", 1, 3600000, &timeout) < 0 ||
        td_cli_opt_int(&cli, "retries", 0, 1000, &retries) < 0)
        goto done;
    cli.timeout_ms = (int)timeout;
    cli.retries = (int)retries;
    cli.json = td_cli_flag(&cli, "json");
    status = cmd->run(&cli);
done:
    td_client_destroy(&cli.client);
    td_config_free(cli.opts, cli.n_opts);
    free(cli.opts);
    return status;
}
