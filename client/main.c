/* main.c — the `tidings` command line: find the command, run it.
 *
 * Commands live one group per file (cli_feed.c, cli_read.c, cli_watch.c,
 * cli_up.c); later ones (search, entity, story, keygen) add a line here. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "record.h"

static const td_cli_command *const s_commands[] = {
    &td_cli_feed_cmd,  &td_cli_get_cmd,   &td_cli_events_cmd, &td_cli_stats_cmd,
    &td_cli_rejects_cmd, &td_cli_watch_cmd, &td_cli_ping_cmd,   &td_cli_up_cmd,
    &td_cli_search_cmd, &td_cli_entity_cmd, &td_cli_story_cmd, &td_cli_keygen_cmd,
};
#define N_COMMANDS (sizeof s_commands / sizeof s_commands[0])

static void s_usage(FILE *out)
{
    fprintf(out, "Usage: tidings COMMAND [OPTIONS] [ARGS]\n\n"
                 "The command line of tidings, the self-hosted news event registry.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", s_commands[i]->name, s_commands[i]->summary);
    fprintf(out, "\n'tidings COMMAND --help' tells more about one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return TD_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        s_usage(stdout);
        return TD_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("tidings %s (wire protocol %s)\n", TD_VERSION, TD_WIRE_VERSION);
        return TD_EXIT_OK;
    }
    if (strcmp(name, "help") == 0 && argc > 2)
        name = argv[2];
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(s_commands[i]->name, name) != 0)
            continue;
        if (name != argv[1]) {   /* tidings help CMD */
            char *args[] = {(char *)name, "--help", NULL};
            return td_cli_main(s_commands[i], 2, args);
        }
        return td_cli_main(s_commands[i], argc - 1, argv + 1);
    }
    fprintf(stderr, "tidings: unknown command '%s'\n\n", name);
    s_usage(stderr);
    return TD_EXIT_USAGE;
}
