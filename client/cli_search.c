/* cli_search.c — the finding commands: search, entity, story, similar. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_show.h"
#include "isotime.h"

static int s_unreadable(const char *what, const td_error *err)
{
    return td_cli_error("the server sent an unreadable %s: %s", what, err->message);
}

/* Ask, then print JSON or hand the result to `show`. */
typedef int(s_show_fn)(const void *result, size_t len, td_arena *arena);

static int s_ask_show(td_cli *cli, const td_client_query *q, s_show_fn *show)
{
    td_client_reply r;
    int rc = td_cli_ask(cli, q, &r);
    if (rc != TD_EXIT_OK)
        return rc;
    if (cli->json)
        return td_cli_print_json(r.result, r.result_len, true);
    td_arena *arena = td_arena_new(0);
    if (!arena)
        return td_cli_error("out of memory");
    rc = show(r.result, r.result_len, arena);
    td_arena_destroy(&arena);
    return rc;
}

/* ---- search ------------------------------------------------------------- */

static const td_option s_search_opts[] = {
    {"since", NULL, "articles published since this time (ISO-8601 or ms)", false, NULL},
    {"until", NULL, "articles published until this time (ISO-8601 or ms)", false, NULL},
    {"source", NULL, "only articles of this outlet", false, NULL},
    {"entity", NULL, "only articles that mention this entity", false, NULL},
    {"event", NULL, "only articles of this event", false, NULL},
    {"limit", "10", "at most this many hits (1..1000)", false, NULL},
    {"cursor", NULL, "the next page of an earlier search", false, NULL},
    {"lang", NULL, "language of QUERY, to stem it as articles in that language are "
                   "(ISO 639-1, default en)", false, NULL},
};

static int s_show_hits(const void *buf, size_t len, td_arena *arena)
{
    td_search_result res;
    td_error err;
    if (td_search_result_decode(buf, len, arena, &res, &err) < 0)
        return s_unreadable("search result", &err);
    printf("%s%" PRIu64 " match%s\n", res.total_exact ? "" : "~", res.total,
           res.total == 1 ? "" : "es");
    for (size_t i = 0; i < res.n_hits; i++) {
        const td_hit *h = &res.hits[i];
        char t[40];
        printf("\n%6.2f  %s  %s  %s  event %s\n        %s\n", h->score, h->id,
               td_isotime_format(h->published_at, t, sizeof t), h->source ? h->source : "-",
               h->event ? h->event : "-", h->title ? h->title : "");
        if (h->snippet && *h->snippet)
            printf("        %s\n", h->snippet);
    }
    if (res.next_cursor)
        printf("\nmore: --cursor %s\n", res.next_cursor);
    return TD_EXIT_OK;
}

static int s_search(td_cli *cli)
{
    td_client_query q = td_client_query_init("search");
    int64_t limit = 10;
    if (td_cli_opt_time(cli, "since", &q.since) < 0 || td_cli_opt_time(cli, "until", &q.until) < 0 ||
        td_cli_opt_int(cli, "limit", 1, 1000, &limit) < 0)
        return TD_EXIT_USAGE;
    q.q = cli->args[0];
    q.limit = (uint32_t)limit;
    q.source = td_cli_opt(cli, "source");
    q.entity = td_cli_opt(cli, "entity");
    q.event = td_cli_opt(cli, "event");
    q.cursor = td_cli_opt(cli, "cursor");
    q.lang = td_cli_opt(cli, "lang");
    return s_ask_show(cli, &q, s_show_hits);
}

const td_cli_command td_cli_search_cmd = {
    .name = "search",
    .args = "QUERY",
    .summary = "ranked full-text search over articles",
    .help = "QUERY: words (all must match), OR between alternatives, -word to exclude,\n"
            "\"quoted phrases\", source:NAME and entity:NAME filters. Matched words are\n"
            "marked **like this** in the snippets. A total with ~ is an estimate.\n",
    .opts = s_search_opts,
    .n_opts = sizeof s_search_opts / sizeof s_search_opts[0],
    .min_args = 1,
    .max_args = 1,
    .default_retries = 0,
    .run = s_search,
};

/* ---- entity and story --------------------------------------------------- */

static int s_show_view(const void *buf, size_t len, td_arena *arena)
{
    td_view_result v;
    td_error err;
    if (td_view_result_decode(buf, len, arena, &v, &err) < 0)
        return s_unreadable("result", &err);
    if (v.name) {
        printf("%s (%s): %" PRIu64 " article%s, %zu event%s\n", v.name, v.kind ? v.kind : "?",
               v.articles, v.articles == 1 ? "" : "s", v.n_events, v.n_events == 1 ? "" : "s");
        for (size_t i = 0; i < v.n_days; i++)
            printf("  %s  %5" PRIu32 "\n", v.days[i].day, v.days[i].count);
    } else {
        printf("story %s: %zu event%s\n", v.id ? v.id : "?", v.n_events,
               v.n_events == 1 ? "" : "s");
    }
    printf("\n");
    td_show_event_table(stdout, v.events, v.n_events);
    return TD_EXIT_OK;
}

static int s_entity(td_cli *cli)
{
    td_client_query q = td_client_query_init("entity.get");
    q.name = cli->args[0];
    return s_ask_show(cli, &q, s_show_view);
}

const td_cli_command td_cli_entity_cmd = {
    .name = "entity",
    .args = "NAME",
    .summary = "an entity: kind, article count, mentions per day, its events",
    .min_args = 1,
    .max_args = 1,
    .default_retries = 0,
    .run = s_entity,
};

static int s_story(td_cli *cli)
{
    td_client_query q = td_client_query_init("story.get");
    q.id = cli->args[0];
    return s_ask_show(cli, &q, s_show_view);
}

const td_cli_command td_cli_story_cmd = {
    .name = "story",
    .args = "ID",
    .summary = "a story's events in time order",
    .min_args = 1,
    .max_args = 1,
    .default_retries = 0,
    .run = s_story,
};
