/* cli_watch.c — `tidings watch`: print notifications as they arrive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_show.h"
#include "jsonout.h"

static const td_option s_watch_opts[] = {
    {"topic", NULL, "only topics starting with PREFIX (comma-separated list), e.g. event.",
     false, NULL},
};

static int s_watch(td_cli *cli)
{
    td_cli_catch_signals();
    if (!td_cli_client(cli))
        return TD_EXIT_FAIL;
    char *list = td_cli_opt(cli, "topic") ? strdup(td_cli_opt(cli, "topic")) : NULL;
    const char *topics[64];
    size_t n = 0;
    for (char *save = NULL, *t = list ? strtok_r(list, ",", &save) : NULL; t && n < 64;
         t = strtok_r(NULL, ",", &save))
        topics[n++] = t;
    int rc = td_client_subscribe(cli->client, topics, n);
    free(list);
    if (rc != TD_CLIENT_OK)
        return td_cli_client_error(cli, rc);
    if (!cli->json)
        fprintf(stderr, "watching %s (Ctrl-C to stop)\n",
                td_client_endpoint(cli->client, "publish"));

    /* PUB drops under load by design: say so when seq jumps, so the reader
     * knows to catch up with queries */
    uint64_t last = 0;
    while (!td_cli_stop) {
        td_client_notice nt;
        rc = td_client_notice_recv(cli->client, 500, &nt);
        if (rc == TD_CLIENT_ETIMEOUT)
            continue;
        if (rc == TD_CLIENT_EINTR)
            break;
        if (rc == TD_CLIENT_EPROTO) {
            fprintf(stderr, "tidings: %s\n", td_client_errmsg(cli->client));
            continue;
        }
        if (rc != TD_CLIENT_OK)
            return td_cli_client_error(cli, rc);
        if (last && nt.seq > last + 1)
            fprintf(stderr, "tidings: missed %llu notification(s) (seq %llu..%llu)\n",
                    (unsigned long long)(nt.seq - last - 1), (unsigned long long)last + 1,
                    (unsigned long long)nt.seq - 1);
        last = nt.seq;
        if (cli->json) {
            /* JSON Lines: one notification per line */
            td_json_print_raw(stdout, nt.raw, nt.raw_len, TD_JSON_COMPACT);
            putchar('\n');
        } else {
            td_show_notice(stdout, &nt);
        }
        fflush(stdout);
    }
    return TD_EXIT_OK;
}

const td_cli_command td_cli_watch_cmd = {
    .name = "watch",
    .summary = "print notifications as they arrive, until Ctrl-C",
    .help = "Topics: article.stored, article.rejected, event.created, event.updated.\n"
            "A gap in the sequence numbers (the publisher drops under load) is reported\n"
            "on stderr. With --json every notification is one JSON line.\n",
    .opts = s_watch_opts,
    .n_opts = sizeof s_watch_opts / sizeof s_watch_opts[0],
    .min_args = 0,
    .max_args = 0,
    .default_retries = 0,
    .run = s_watch,
};
