/* cli_feed.c — `tidings feed`: articles from plain-text and JSON Lines files.
 *
 * Without --acked every article is pushed fire-and-forget (PUSH to 7401; the
 * push blocks when ingest's queue is full). With --acked each one is
 * submitted for acknowledgement through a td_client_pipe, many in flight,
 * and the answers are counted. A bad input line or file is reported with its
 * place and skipped; it never stops the feed. A daemon that does not answer
 * does. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "input.h"
#include "isotime.h"
#include "progress.h"

#define MAX_TEXT_FILE ((size_t)64 << 20)
#define MAX_REPORTED 20     /* problems printed one by one; the rest counted */

typedef enum { FMT_AUTO, FMT_JSONL, FMT_TEXT } s_format;

typedef struct {
    td_cli *cli;
    bool acked;
    s_format format;
    const char *source;
    const char *lang;
    int64_t published_at;       /* for plain text; TD_CLIENT_TIME_NONE: now */
    char **paths;               /* inputs, directories expanded */
    size_t n_paths;
    td_client_pipe *pipe;
    td_progress *progress;
    bool bar;                   /* the progress bar is drawn */
    td_arena *arena;
    /* counts */
    uint64_t sent, acked_n, stored, updated, unchanged, rejected, invalid, failed;
    uint64_t reported;
    bool abort;
} s_feed;

static void s_problem(s_feed *f, const char *path, uint64_t line, const char *what,
                      const char *why)
{
    if (f->reported++ >= MAX_REPORTED)
        return;
    if (f->bar)
        fprintf(stderr, "\r\033[K");
    if (line)
        fprintf(stderr, "tidings: %s:%llu: %s: %s\n", path, (unsigned long long)line, what, why);
    else
        fprintf(stderr, "tidings: %s: %s: %s\n", path, what, why);
}

/* Tags carry where an article came from: path index and line. */
#define TAG_LINE_BITS 40
static void *s_tag(size_t path, uint64_t line)
{
    return (void *)(uintptr_t)(((uint64_t)path << TAG_LINE_BITS) | line);
}

static void s_on_ack(void *arg, void *tag, int err, const td_client_ack *ack)
{
    s_feed *f = arg;
    uint64_t t = (uint64_t)(uintptr_t)tag;
    size_t path = (size_t)(t >> TAG_LINE_BITS);
    uint64_t line = t & (((uint64_t)1 << TAG_LINE_BITS) - 1);
    const char *name = path < f->n_paths ? f->paths[path] : "?";
    if (err != TD_CLIENT_OK) {
        f->failed++;
        if (!f->abort) {
            f->abort = true;
            if (err != TD_CLIENT_EINTR)
                s_problem(f, name, line, "not acknowledged",
                          td_client_errmsg(f->cli->client));
        }
        return;
    }
    f->acked_n++;
    if (!ack->ok) {
        f->rejected++;
        char why[512];
        snprintf(why, sizeof why, "%s (%s)", ack->message ? ack->message : "",
                 ack->code ? ack->code : "?");
        s_problem(f, name, line, "rejected", why);
    } else if (ack->status && strcmp(ack->status, "stored") == 0) {
        f->stored++;
    } else if (ack->status && strcmp(ack->status, "updated") == 0) {
        f->updated++;
    } else {
        f->unchanged++;
    }
    td_progress_update(f->progress, f->acked_n + f->failed);
}

/* Hand one article over; false when the feed must stop. */
static bool s_send(s_feed *f, td_client_article *a, size_t path, uint64_t line)
{
    if (f->source && !a->source)
        a->source = f->source;
    if (f->lang && !a->lang)
        a->lang = f->lang;
    int rc;
    if (f->acked) {
        rc = td_client_pipe_submit(f->pipe, a, s_tag(path, line));
    } else {
        rc = td_client_feed(f->cli->client, a);
        if (rc == TD_CLIENT_OK)
            td_progress_update(f->progress, f->sent + 1);
    }
    if (rc == TD_CLIENT_OK) {
        f->sent++;
        return !f->abort && !td_cli_stop;
    }
    if (rc == TD_CLIENT_EINVAL) {   /* the library refused this one article */
        f->invalid++;
        s_problem(f, f->paths[path], line, "invalid", td_client_errmsg(f->cli->client));
        return true;
    }
    if (!f->abort && rc != TD_CLIENT_EINTR)
        s_problem(f, f->paths[path], line, "not sent", td_client_errmsg(f->cli->client));
    f->abort = true;
    return false;
}

static s_format s_format_of(const s_feed *f, const char *path, FILE *in)
{
    if (f->format != FMT_AUTO)
        return f->format;
    const char *dot = strrchr(path, '.');
    if (dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0))
        return FMT_JSONL;
    if (strcmp(path, "-") == 0) {
        /* stdin: JSON Lines when it starts with an object */
        int c;
        while ((c = getc(in)) != EOF && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
            ;
        if (c != EOF)
            ungetc(c, in);
        return c == '{' ? FMT_JSONL : FMT_TEXT;
    }
    return FMT_TEXT;
}

static void s_feed_jsonl(s_feed *f, size_t idx, FILE *in)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    while (!f->abort && !td_cli_stop && (len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        td_arena_reset(f->arena);
        td_client_article a;
        char why[256];
        int rc = td_input_jsonl(f->arena, line, (size_t)len, &a, why, sizeof why);
        if (rc == 0)
            continue;
        if (rc < 0) {
            f->invalid++;
            s_problem(f, f->paths[idx], lineno, "invalid line", why);
            continue;
        }
        if (!s_send(f, &a, idx, lineno))
            break;
    }
    free(line);
}

static void s_feed_text(s_feed *f, size_t idx, FILE *in)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_TEXT_FILE) {
                f->invalid++;
                s_problem(f, f->paths[idx], 0, "skipped", "larger than 64 MiB");
                free(buf);
                return;
            }
            cap = cap ? cap * 2 : 16384;
            char *p = realloc(buf, cap + 1);
            if (!p) {
                free(buf);
                f->invalid++;
                s_problem(f, f->paths[idx], 0, "skipped", "out of memory");
                return;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, cap - len, in);
        if (n == 0)
            break;
        len += n;
    }
    if (ferror(in)) {
        f->invalid++;
        s_problem(f, f->paths[idx], 0, "cannot read", strerror(errno));
        free(buf);
        return;
    }
    td_arena_reset(f->arena);
    td_client_article a;
    char why[256];
    int64_t at = f->published_at != TD_CLIENT_TIME_NONE ? f->published_at : td_now_ms();
    if (td_input_plain(f->arena, buf ? buf : "", len, f->source, at, &a, why, sizeof why) < 0) {
        f->invalid++;
        s_problem(f, f->paths[idx], 0, "skipped", why);
    } else {
        s_send(f, &a, idx, 0);
    }
    free(buf);
}

/* Count what a file holds, for the progress bar's total and ETA. */
static uint64_t s_count(const s_feed *f, const char *path)
{
    if (strcmp(path, "-") == 0)
        return 0;
    const char *dot = strrchr(path, '.');
    bool jsonl = f->format == FMT_JSONL ||
                 (f->format == FMT_AUTO && dot &&
                  (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0));
    if (!jsonl)
        return 1;
    FILE *in = fopen(path, "r");
    if (!in)
        return 0;
    char buf[65536];
    uint64_t lines = 0;
    size_t n;
    int last = '\n';
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        for (size_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
        last = buf[n - 1];
    }
    fclose(in);
    return lines + (last != '\n');
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool s_push_path(s_feed *f, size_t *cap, const char *path)
{
    if (f->n_paths == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        char **p = realloc(f->paths, *cap * sizeof *p);
        if (!p)
            return false;
        f->paths = p;
    }
    f->paths[f->n_paths] = strdup(path);
    return f->paths[f->n_paths++] != NULL;
}

/* Files a directory contributes: text and JSON Lines by their extension,
 * and files without one (a manifest.json or a README.md is not an article). */
static bool s_wanted(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' &&
           (!dot || strcmp(dot, ".txt") == 0 || strcmp(dot, ".text") == 0 ||
            strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0);
}

/* A directory stands for the regular files in it that s_wanted, sorted. */
static bool s_collect(s_feed *f, char **args, int n)
{
    size_t cap = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(args[i], "-") == 0 || stat(args[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (!s_push_path(f, &cap, args[i]))
                return false;
            continue;
        }
        DIR *d = opendir(args[i]);
        if (!d) {
            if (!s_push_path(f, &cap, args[i]))
                return false;
            continue;
        }
        size_t first = f->n_paths;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!s_wanted(e->d_name))
                continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", args[i], e->d_name);
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && !s_push_path(f, &cap, p)) {
                closedir(d);
                return false;
            }
        }
        closedir(d);
        qsort(f->paths + first, f->n_paths - first, sizeof *f->paths, s_cmp);
    }
    return true;
}

static void s_report(s_feed *f, double secs)
{
    td_cli *cli = f->cli;
    uint64_t done = f->acked ? f->acked_n : f->sent;
    double rate = secs > 0 ? (double)done / secs : 0;
    if (cli->json) {
        printf("{\"sent\":%llu,\"acknowledged\":%llu,\"stored\":%llu,\"updated\":%llu,"
               "\"unchanged\":%llu,\"rejected\":%llu,\"invalid\":%llu,\"failed\":%llu,"
               "\"seconds\":%.3f,\"rate\":%.1f}\n",
               (unsigned long long)f->sent, (unsigned long long)f->acked_n,
               (unsigned long long)f->stored, (unsigned long long)f->updated,
               (unsigned long long)f->unchanged, (unsigned long long)f->rejected,
               (unsigned long long)f->invalid, (unsigned long long)f->failed, secs, rate);
        return;
    }
    if (f->acked)
        printf("%llu acknowledged in %.2f s (%.0f articles/s): %llu stored, %llu updated, "
               "%llu unchanged, %llu rejected\n",
               (unsigned long long)f->acked_n, secs, rate, (unsigned long long)f->stored,
               (unsigned long long)f->updated, (unsigned long long)f->unchanged,
               (unsigned long long)f->rejected);
    else
        printf("%llu sent in %.2f s (%.0f articles/s) to %s (not acknowledged: see "
               "`tidings stats` and `tidings rejects`)\n",
               (unsigned long long)f->sent, secs, rate, td_cli_opt(cli, "feed"));
    if (f->invalid)
        printf("%llu invalid input line(s) or file(s) skipped\n", (unsigned long long)f->invalid);
    if (f->acked && f->sent > f->acked_n)
        printf("%llu not acknowledged\n", (unsigned long long)(f->sent - f->acked_n));
    if (f->reported > MAX_REPORTED)
        printf("(%llu problems in all; the first %d are shown above)\n",
               (unsigned long long)f->reported, MAX_REPORTED);
}

static const td_option s_feed_opts[] = {
    {"acked", NULL, "wait for every acknowledgement and count the answers", true, NULL},
    {"format", "auto", "input format: auto (by extension), jsonl or text", false, NULL},
    {"source", NULL, "outlet name for plain-text files (and JSON lines without one)", false, NULL},
    {"published-at", NULL, "publication time for plain-text files (ISO-8601 or ms; default now)",
     false, NULL},
    {"lang", NULL, "language (ISO 639-1) of articles that do not say", false, NULL},
    {"window", "128",
     "acknowledgements awaited at once with --acked (1..1024); above 1 the store may take "
     "articles out of file order, and event grouping, being online, can differ at the margin",
     false, NULL},
    {"progress", NULL, "show the progress bar even when stderr is not a terminal", true, NULL},
};

static int s_feed_run(td_cli *cli)
{
    s_feed f;
    memset(&f, 0, sizeof f);
    f.cli = cli;
    f.acked = td_cli_flag(cli, "acked");
    f.source = td_cli_opt(cli, "source");
    f.lang = td_cli_opt(cli, "lang");
    const char *fmt = td_cli_opt(cli, "format");
    if (!fmt || strcmp(fmt, "auto") == 0)
        f.format = FMT_AUTO;
    else if (strcmp(fmt, "jsonl") == 0 || strcmp(fmt, "json") == 0)
        f.format = FMT_JSONL;
    else if (strcmp(fmt, "text") == 0 || strcmp(fmt, "txt") == 0)
        f.format = FMT_TEXT;
    else {
        td_cli_error("--format wants auto, jsonl or text, not '%s'", fmt);
        return TD_EXIT_USAGE;
    }
    int64_t window = 128;
    if (td_cli_opt_time(cli, "published-at", &f.published_at) < 0 ||
        td_cli_opt_int(cli, "window", 1, 1024, &window) < 0)
        return TD_EXIT_USAGE;

    td_cli_catch_signals();
    int status = TD_EXIT_FAIL;
    f.arena = td_arena_new(0);
    if (!f.arena || !s_collect(&f, cli->args, cli->n_args) || !td_cli_client(cli)) {
        td_cli_error("out of memory");
        goto done;
    }
    if (f.acked && !(f.pipe = td_client_pipe_new(cli->client, (size_t)window, s_on_ack, &f))) {
        td_cli_error("out of memory");
        goto done;
    }
    f.bar = isatty(STDERR_FILENO) || td_cli_flag(cli, "progress");
    uint64_t total = 0;
    for (size_t i = 0; f.bar && i < f.n_paths; i++) {
        uint64_t n = s_count(&f, f.paths[i]);
        if (n == 0 && strcmp(f.paths[i], "-") == 0) {
            total = 0;      /* stdin: unknown, so no ETA */
            break;
        }
        total += n;
    }
    f.progress = td_progress_new(total, "articles", f.bar);

    for (size_t i = 0; i < f.n_paths && !f.abort && !td_cli_stop; i++) {
        bool is_stdin = strcmp(f.paths[i], "-") == 0;
        FILE *in = is_stdin ? stdin : fopen(f.paths[i], "r");
        if (!in) {
            f.invalid++;
            s_problem(&f, f.paths[i], 0, "cannot open", strerror(errno));
            continue;
        }
        if (s_format_of(&f, f.paths[i], in) == FMT_JSONL)
            s_feed_jsonl(&f, i, in);
        else
            s_feed_text(&f, i, in);
        if (!is_stdin)
            fclose(in);
    }
    if (f.acked && !f.abort) {
        int rc = td_client_pipe_drain(f.pipe);
        if (rc != TD_CLIENT_OK && rc != TD_CLIENT_EINTR)
            td_cli_client_error(cli, rc);
    }
    td_client_pipe_destroy(&f.pipe);
    if (!f.acked && !f.abort) {
        /* closing waits (up to the timeout) until the queued articles left:
         * the rate includes that */
        td_client_destroy(&cli->client);
    }
    double secs = td_progress_elapsed(f.progress);
    td_progress_destroy(&f.progress);
    s_report(&f, secs);
    if (td_cli_stop)
        fprintf(stderr, "tidings: interrupted\n");
    status = (f.abort || td_cli_stop || f.invalid || f.rejected || f.failed) ? TD_EXIT_FAIL
                                                                            : TD_EXIT_OK;
done:
    td_client_pipe_destroy(&f.pipe);
    td_progress_destroy(&f.progress);
    td_arena_destroy(&f.arena);
    for (size_t i = 0; i < f.n_paths; i++)
        free(f.paths[i]);
    free(f.paths);
    return status;
}

const td_cli_command td_cli_feed_cmd = {
    .name = "feed",
    .args = "PATH...|-",
    .summary = "send articles from plain-text and JSON Lines files",
    .help =
        "Each plain-text file is one article: its first line becomes the title when\n"
        "it looks like a headline (short, no final full stop, mostly Title Case),\n"
        "the rest is the body. A .jsonl file (or --format jsonl) holds one submission\n"
        "per line: {\"id\", \"url\", \"source\", \"title\", \"body\", \"published_at\"\n"
        "(ms or ISO-8601), \"lang\", \"meta\"}. A directory stands for its .txt, .jsonl\n"
        "and extension-less files; '-' reads standard input. Invalid lines are\n"
        "reported with their line number and skipped.\n\n"
        "Without --acked, articles are pushed fire-and-forget to the feed endpoint.\n"
        "With --acked, every article waits for its acknowledgement (retried after a\n"
        "timeout; a retry is answered \"unchanged\", never stored twice) and the\n"
        "stored/updated/unchanged/rejected counts are reported.\n"
        "Exit status 1 when anything was invalid, rejected or not acknowledged.\n",
    .opts = s_feed_opts,
    .n_opts = sizeof s_feed_opts / sizeof s_feed_opts[0],
    .min_args = 1,
    .max_args = -1,
    .default_retries = 3,
    .run = s_feed_run,
};
