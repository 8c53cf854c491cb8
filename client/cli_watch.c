/* cli_watch.c — `tidings watch`: print notifications as they arrive. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_show.h"
#include "jsonout.h"
#include "normalize.h"

static const td_option s_watch_opts[] = {
    {"topic", NULL, "only topics starting with PREFIX (comma-separated list), e.g. event.",
     false, NULL},
    {"event", NULL, "only notifications about this event (topic event.ID)", false, NULL},
    {"entity", NULL, "only articles that mention this entity (topic article.entity.NAME)",
     false, NULL},
};

/* The topic of an entity's notifications: article.entity.<name folded with
 * the analyser's folding (NFKC + case fold), blanks collapsed> — the store's
 * naming of entities (td_db_entity_norm). */
static void s_entity_topic(const char *name, char *out, size_t size)
{
    char folded[400];
    td_normalize_fold(name, strlen(name), folded, sizeof folded);
    size_t n = (size_t)snprintf(out, size, "article.entity.");
    size_t base = n;
    bool blank = false;
    for (const char *p = folded; *p && n + 2 < size; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            blank = n > base;
            continue;
        }
        if (blank)
            out[n++] = ' ';
        blank = false;
        out[n++] = *p;
    }
    out[n] = '\0';
}

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
    /* ZeroMQ matches prefixes: event.e1 also matches event.e12, so exact
     * topics are checked again on receipt */
    char exact[2][512];
    size_t n_exact = 0;
    if (td_cli_opt(cli, "event") && n < 64) {
        snprintf(exact[n_exact], sizeof exact[0], "event.%s", td_cli_opt(cli, "event"));
        topics[n++] = exact[n_exact++];
    }
    if (td_cli_opt(cli, "entity") && n < 64) {
        s_entity_topic(td_cli_opt(cli, "entity"), exact[n_exact], sizeof exact[0]);
        topics[n++] = exact[n_exact++];
    }
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
        bool wanted = n_exact == 0 || n > n_exact;   /* --topic prefixes pass as they are */
        for (size_t i = 0; i < n_exact && !wanted; i++)
            wanted = nt.topic && strcmp(nt.topic, exact[i]) == 0;
        if (!wanted)
            continue;
        if (n == 0 && last && nt.seq > last + 1)
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
