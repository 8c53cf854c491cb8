/* cli_read.c — the read commands: get, events, stats, rejects, ping. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_show.h"
#include "daemon.h"

/* The arena for decoded records; results are small next to its limit. */
static td_arena *s_arena(void)
{
    td_arena *a = td_arena_new(0);
    if (!a)
        td_cli_error("out of memory");
    return a;
}

static int s_decode_error(const char *what, const td_error *err)
{
    return td_cli_error("the server sent an unreadable %s: %s", what, err->message);
}

/* ---- get ---------------------------------------------------------------- */

static int s_get(td_cli *cli)
{
    const char *kind = cli->args[0], *id = cli->args[1];
    const char *op;
    if (strcmp(kind, "article") == 0)
        op = "article.get";
    else if (strcmp(kind, "event") == 0)
        op = "event.get";
    else
        return td_cli_error("get: unknown kind '%s' (article or event)", kind);
    td_client_query q = td_client_query_init(op);
    q.id = id;
    td_client_reply r;
    int rc = td_cli_ask(cli, &q, &r);
    if (rc != TD_EXIT_OK)
        return rc;
    if (cli->json)
        return td_cli_print_json(r.result, r.result_len, true);
    td_arena *arena = s_arena();
    if (!arena)
        return TD_EXIT_FAIL;
    td_error err;
    rc = TD_EXIT_OK;
    if (op[0] == 'a') {
        td_article a;
        if (td_article_decode(r.result, r.result_len, arena, &a, &err) < 0)
            rc = s_decode_error("article", &err);
        else
            td_show_article(stdout, &a);
    } else {
        td_event e;
        if (td_event_decode(r.result, r.result_len, arena, &e, &err) < 0)
            rc = s_decode_error("event", &err);
        else
            td_show_event(stdout, &e);
    }
    td_arena_destroy(&arena);
    return rc;
}

const td_cli_command td_cli_get_cmd = {
    .name = "get",
    .args = "article|event ID",
    .summary = "show one article or event",
    .help = "An article: title, source, times, event and story, entities, claims,\n"
            "quotes and the start of the cleaned body. An event: title, dates, counts,\n"
            "article ids, entities and the claims ledger (who claims which figure).\n",
    .min_args = 2,
    .max_args = 2,
    .default_retries = 0,
    .run = s_get,
};

/* ---- events ------------------------------------------------------------- */

static const td_option s_events_opts[] = {
    {"since", NULL, "events active since this time (ISO-8601 or ms)", false, NULL},
    {"until", NULL, "events active until this time (ISO-8601 or ms)", false, NULL},
    {"entity", NULL, "only events that mention this entity", false, NULL},
    {"story", NULL, "only events of this story", false, NULL},
    {"limit", "20", "at most this many events (1..1000)", false, NULL},
    {"cursor", NULL, "continue a listing where the last page ended", false, NULL},
};

static int s_events(td_cli *cli)
{
    td_client_query q = td_client_query_init("event.list");
    int64_t limit = 20;
    if (td_cli_opt_time(cli, "since", &q.since) < 0 || td_cli_opt_time(cli, "until", &q.until) < 0 ||
        td_cli_opt_int(cli, "limit", 1, 1000, &limit) < 0)
        return TD_EXIT_USAGE;
    q.limit = (uint32_t)limit;
    q.entity = td_cli_opt(cli, "entity");
    q.story = td_cli_opt(cli, "story");
    q.cursor = td_cli_opt(cli, "cursor");
    td_client_reply r;
    int rc = td_cli_ask(cli, &q, &r);
    if (rc != TD_EXIT_OK)
        return rc;
    if (cli->json)
        return td_cli_print_json(r.result, r.result_len, true);
    td_arena *arena = s_arena();
    if (!arena)
        return TD_EXIT_FAIL;
    td_show_list list;
    td_event *events = NULL;
    td_error err;
    if (td_show_list_split(r.result, r.result_len, arena, &list) < 0) {
        rc = td_cli_error("the server sent an unreadable event list");
        goto done;
    }
    events = td_arena_alloc(arena, (list.n + 1) * sizeof *events);
    if (!events) {
        rc = td_cli_error("out of memory");
        goto done;
    }
    for (size_t i = 0; i < list.n; i++)
        if (td_event_decode(list.elem[i], list.elem_len[i], arena, &events[i], &err) < 0) {
            rc = s_decode_error("event", &err);
            goto done;
        }
    td_show_event_table(stdout, events, list.n);
    if (list.next_cursor)
        printf("more: tidings events --cursor %s\n", list.next_cursor);
done:
    td_arena_destroy(&arena);
    return rc;
}

const td_cli_command td_cli_events_cmd = {
    .name = "events",
    .summary = "list events, newest activity first",
    .help = "Times are ISO-8601 (2023-05-11, 2023-05-11T16:30:00Z; UTC unless a zone\n"
            "is given) or milliseconds since the epoch. When more events remain, the\n"
            "last line tells the --cursor for the next page.\n",
    .opts = s_events_opts,
    .n_opts = sizeof s_events_opts / sizeof s_events_opts[0],
    .min_args = 0,
    .max_args = 0,
    .default_retries = 0,
    .run = s_events,
};

/* ---- stats -------------------------------------------------------------- */

static int s_stats(td_cli *cli)
{
    td_client_query q = td_client_query_init("stats");
    td_client_reply r;
    int rc = td_cli_ask(cli, &q, &r);
    if (rc != TD_EXIT_OK)
        return rc;
    if (cli->json)
        return td_cli_print_json(r.result, r.result_len, true);
    td_stats s;
    td_error err;
    if (td_stats_decode(r.result, r.result_len, &s, &err) < 0)
        return s_decode_error("stats", &err);
    td_show_stats(stdout, &s);
    return TD_EXIT_OK;
}

const td_cli_command td_cli_stats_cmd = {
    .name = "stats",
    .summary = "count articles, events, stories and rejects",
    .min_args = 0,
    .max_args = 0,
    .default_retries = 0,
    .run = s_stats,
};

/* ---- rejects ------------------------------------------------------------ */

static const td_option s_rejects_opts[] = {
    {"limit", "20", "at most this many rejects (1..1000)", false, NULL},
    {"cursor", NULL, "continue a listing where the last page ended", false, NULL},
};

static int s_rejects(td_cli *cli)
{
    td_client_query q = td_client_query_init("rejects.list");
    int64_t limit = 20;
    if (td_cli_opt_int(cli, "limit", 1, 1000, &limit) < 0)
        return TD_EXIT_USAGE;
    q.limit = (uint32_t)limit;
    q.cursor = td_cli_opt(cli, "cursor");
    td_client_reply r;
    int rc = td_cli_ask(cli, &q, &r);
    if (rc != TD_EXIT_OK)
        return rc;
    if (cli->json)
        return td_cli_print_json(r.result, r.result_len, true);
    td_arena *arena = s_arena();
    if (!arena)
        return TD_EXIT_FAIL;
    td_show_list list;
    td_reject *rejects = NULL;
    td_error err;
    if (td_show_list_split(r.result, r.result_len, arena, &list) < 0) {
        rc = td_cli_error("the server sent an unreadable reject list");
        goto done;
    }
    rejects = td_arena_alloc(arena, (list.n + 1) * sizeof *rejects);
    if (!rejects) {
        rc = td_cli_error("out of memory");
        goto done;
    }
    for (size_t i = 0; i < list.n; i++)
        if (td_reject_decode(list.elem[i], list.elem_len[i], arena, &rejects[i], &err) < 0) {
            rc = s_decode_error("reject", &err);
            goto done;
        }
    td_show_reject_table(stdout, rejects, list.n);
    if (list.next_cursor)
        printf("more: tidings rejects --cursor %s\n", list.next_cursor);
done:
    td_arena_destroy(&arena);
    return rc;
}

const td_cli_command td_cli_rejects_cmd = {
    .name = "rejects",
    .summary = "list rejected submissions, newest first",
    .help = "Submissions fed without acknowledgement that could not be accepted are\n"
            "kept as reject records: time, error code, message and the first bytes.\n",
    .opts = s_rejects_opts,
    .n_opts = sizeof s_rejects_opts / sizeof s_rejects_opts[0],
    .min_args = 0,
    .max_args = 0,
    .default_retries = 0,
    .run = s_rejects,
};

/* ---- ping --------------------------------------------------------------- */

static int s_ping(td_cli *cli)
{
    td_client_query q = td_client_query_init("ping");
    td_client_reply r;
    int64_t t0 = td_mono_us();
    int rc = td_cli_ask(cli, &q, &r);
    if (rc != TD_EXIT_OK)
        return rc;
    double ms = (double)(td_mono_us() - t0) / 1000.0;
    if (cli->json)
        return td_cli_print_json(r.result, r.result_len, false);
    printf("%s answers in %.2f ms\n", td_client_endpoint(cli->client, "query"), ms);
    return TD_EXIT_OK;
}

const td_cli_command td_cli_ping_cmd = {
    .name = "ping",
    .summary = "check that tidings-query answers",
    .min_args = 0,
    .max_args = 0,
    .default_retries = 0,
    .run = s_ping,
};
