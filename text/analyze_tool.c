/* analyze_tool.c — tidings-analyze: run the text analyser without daemons.
 *
 *   tidings-analyze [options] FILE...      each FILE is one article's body
 *   tidings-analyze --jsonl FILE           one article per line:
 *        {"id","title","body","source","published_at" (ms or ISO 8601),"lang"}
 *   options: --title T --source S --published ISO|ms --lang L --id ID
 *            --bench N   analyse every input N times and print the speed
 *            --datadir D gazetteer overrides (see gazetteer.h)
 *
 * Prints one JSON object per article (the analysis fields of the wire
 * Article: title, body, lang, boilerplate, entities, dates, event_date,
 * claims, quotes). Used by scripts/eval-seeds --direct, scripts/bench-analyze
 * and by people inspecting what the analyser makes of real articles.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze.h"
#include "terms.h"
#include "log.h"
#include "record.h"

typedef struct {
    char *id, *title, *body, *source, *lang;
    int64_t published_at;
} s_input;

static int64_t s_parse_time(const char *s)
{
    if (!s || !*s)
        return TD_TIME_NONE;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end == '\0')
        return v;
    struct tm tm = {0};
    const char *r = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!r) {
        memset(&tm, 0, sizeof tm);
        r = strptime(s, "%Y-%m-%d", &tm);
    }
    if (!r)
        return TD_TIME_NONE;
    return (int64_t)timegm(&tm) * 1000;
}

static char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static const char *s_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *s_strj(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *s_result(const td_article *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", s_strj(a->id));
    json_object_set_new(o, "title", s_strj(a->title));
    json_object_set_new(o, "lang", s_strj(a->lang));
    json_object_set_new(o, "event_date", s_strj(a->event_date));
    json_object_set_new(o, "body", s_strj(a->body));
    json_t *bp = json_array();
    for (size_t i = 0; i < a->n_boilerplate; i++)
        json_array_append_new(bp, s_strj(a->boilerplate[i]));
    json_object_set_new(o, "boilerplate", bp);
    json_t *ents = json_array();
    for (size_t i = 0; i < a->n_entities; i++)
        json_array_append_new(ents, json_pack("{s:s,s:s,s:i}", "name", a->entities[i].name, "kind",
                                              td_entity_kind_name(a->entities[i].kind), "count",
                                              (json_int_t)a->entities[i].count));
    json_object_set_new(o, "entities", ents);
    json_t *dates = json_array();
    for (size_t i = 0; i < a->n_dates; i++)
        json_array_append_new(dates, json_pack("{s:s,s:s}", "text", a->dates[i].text, "date",
                                               a->dates[i].date));
    json_object_set_new(o, "dates", dates);
    json_t *claims = json_array();
    for (size_t i = 0; i < a->n_claims; i++) {
        const td_claim *c = &a->claims[i];
        json_t *cj = json_pack("{s:s,s:I,s:o,s:o,s:b,s:o,s:s}", "kind", c->kind, "count",
                               (json_int_t)c->count, "subject", s_strj(c->subject), "claimant",
                               s_strj(c->claimant), "background", c->background, "date",
                               s_strj(c->date), "text", c->text);
        json_array_append_new(claims, cj);
    }
    json_object_set_new(o, "claims", claims);
    json_t *quotes = json_array();
    for (size_t i = 0; i < a->n_quotes; i++)
        json_array_append_new(quotes, json_pack("{s:o,s:s}", "speaker", s_strj(a->quotes[i].speaker),
                                                "text", a->quotes[i].text));
    json_object_set_new(o, "quotes", quotes);
    return o;
}

/* Analyse one input; the analysed article goes to *out when wanted. */
static int s_run(td_analyzer *an, td_arena *arena, const s_input *in, json_t **res,
                 td_article *out)
{
    td_article a;
    memset(&a, 0, sizeof a);
    a.id = in->id;
    a.title = in->title;
    a.body = in->body;
    a.source = in->source;
    a.lang = in->lang;
    a.published_at = in->published_at;
    td_error err = {0};
    if (td_analyzer_run(an, &a, arena, &err) < 0) {
        if (res)
            *res = json_pack("{s:o,s:s,s:s}", "id", s_strj(in->id), "error", err.code,
                             "message", err.message);
        return -1;
    }
    if (res)
        *res = s_result(&a);
    if (out)
        *out = a;
    return 0;
}

static void s_usage(void)
{
    fprintf(stderr, "usage: tidings-analyze [--title T] [--source S] [--published ISO|ms] "
                    "[--lang L] [--id ID] [--bench N] [--datadir D] (--jsonl FILE | FILE...)\n");
}

int main(int argc, char **argv)
{
    td_log_init("tidings-analyze", TD_LOG_WARN);
    s_input opt = {.published_at = TD_TIME_NONE};
    const char *jsonl = NULL, *datadir = NULL;
    long bench = 0;
    int first_file = argc;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--title") && v) opt.title = argv[++i];
        else if (!strcmp(k, "--source") && v) opt.source = argv[++i];
        else if (!strcmp(k, "--lang") && v) opt.lang = argv[++i];
        else if (!strcmp(k, "--id") && v) opt.id = argv[++i];
        else if (!strcmp(k, "--published") && v) opt.published_at = s_parse_time(argv[++i]);
        else if (!strcmp(k, "--jsonl") && v) jsonl = argv[++i];
        else if (!strcmp(k, "--bench") && v) bench = strtol(argv[++i], NULL, 10);
        else if (!strcmp(k, "--datadir") && v) datadir = argv[++i];
        else if (!strcmp(k, "-h") || !strcmp(k, "--help")) { s_usage(); return 0; }
        else if (k[0] == '-' && k[1]) { s_usage(); return 2; }
        else { first_file = i; break; }
    }
    /* inputs */
    size_t n_in = 0, cap = 64;
    s_input *ins = calloc(cap, sizeof *ins);
    json_t *keep = json_array(); /* owns the strings of JSON inputs */
    if (jsonl) {
        FILE *f = strcmp(jsonl, "-") ? fopen(jsonl, "r") : stdin;
        if (!f) {
            perror(jsonl);
            return 1;
        }
        char *line = NULL;
        size_t lcap = 0;
        while (getline(&line, &lcap, f) > 0) {
            json_error_t je;
            json_t *o = json_loads(line, 0, &je);
            if (!json_is_object(o)) {
                json_decref(o);
                continue;
            }
            json_array_append_new(keep, o);
            if (n_in == cap)
                ins = realloc(ins, (cap *= 2) * sizeof *ins);
            s_input *in = &ins[n_in++];
            *in = opt;
            if (s_str(o, "id")) in->id = (char *)s_str(o, "id");
            if (s_str(o, "title")) in->title = (char *)s_str(o, "title");
            if (s_str(o, "source")) in->source = (char *)s_str(o, "source");
            if (s_str(o, "lang")) in->lang = (char *)s_str(o, "lang");
            in->body = (char *)s_str(o, "body");
            json_t *p = json_object_get(o, "published_at");
            if (json_is_integer(p)) in->published_at = json_integer_value(p);
            else if (json_is_string(p)) in->published_at = s_parse_time(json_string_value(p));
        }
        free(line);
        if (f != stdin)
            fclose(f);
    }
    for (int i = first_file; i < argc; i++) {
        size_t len;
        char *body = s_slurp(argv[i], &len);
        if (!body) {
            perror(argv[i]);
            return 1;
        }
        if (n_in == cap)
            ins = realloc(ins, (cap *= 2) * sizeof *ins);
        ins[n_in] = opt;
        ins[n_in].body = body;
        if (!opt.id)
            ins[n_in].id = argv[i];
        n_in++;
    }
    if (n_in == 0) {
        s_usage();
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    td_analyzer *an = td_analyzer_new(datadir);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!an)
        return 1;
    double setup_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    td_arena *arena = td_arena_new(0);
    int rc = 0;
    if (bench > 0) {
        size_t bytes = 0;
        for (size_t i = 0; i < n_in; i++)
            bytes += ins[i].body ? strlen(ins[i].body) : 0;
        /* warm up once, then time */
        for (size_t i = 0; i < n_in; i++) {
            td_arena_reset(arena);
            s_run(an, arena, &ins[i], NULL, NULL);
        }
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        size_t done = 0;
        for (long r = 0; r < bench; r++)
            for (size_t i = 0; i < n_in; i++) {
                td_arena_reset(arena);
                s_run(an, arena, &ins[i], NULL, NULL);
                done++;
            }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        double wall = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        /* CPU time of this (single-threaded) process: the cost on one core,
         * whatever else the machine is doing */
        double s = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
        /* the ingest worker's other job: tokens and fingerprint for the store */
        td_terms *terms = td_terms_new();
        td_arena *kept = td_arena_new((n_in + 1) * ((size_t)256 << 10)); /* every analysis kept */
        td_article *an_out = calloc(n_in ? n_in : 1, sizeof *an_out);
        for (size_t i = 0; terms && kept && an_out && i < n_in; i++)
            if (s_run(an, kept, &ins[i], NULL, &an_out[i]) == 0)
                td_terms_build(terms, an_out[i].title, an_out[i].body, an_out[i].lang);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        for (long r = 0; terms && kept && an_out && r < bench; r++)
            for (size_t i = 0; i < n_in; i++)
                td_terms_build(terms, an_out[i].title, an_out[i].body, an_out[i].lang);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        td_terms_destroy(&terms);
        td_arena_destroy(&kept);
        free(an_out);
        double ts = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
        printf("{\"articles\":%zu,\"mean_bytes\":%.0f,\"cpu_seconds\":%.3f,"
               "\"wall_seconds\":%.3f,\"articles_per_s\":%.0f,\"us_per_article\":%.1f,"
               "\"mib_per_s\":%.1f,\"setup_ms\":%.1f,\"terms_us_per_article\":%.1f}\n",
               done, (double)bytes / n_in, s, wall, done / s, s * 1e6 / done,
               (double)bytes * bench / s / (1 << 20), setup_ms, ts * 1e6 / done);
    } else {
        for (size_t i = 0; i < n_in; i++) {
            td_arena_reset(arena);
            json_t *res = NULL;
            if (s_run(an, arena, &ins[i], &res, NULL) < 0)
                rc = 1;
            char *js = json_dumps(res, JSON_COMPACT | JSON_ENSURE_ASCII * 0);
            if (js) {
                puts(js);
                free(js);
            }
            json_decref(res);
        }
    }
    td_arena_destroy(&arena);
    td_analyzer_destroy(&an);
    for (int i = first_file; i < argc; i++)
        free(ins[i - first_file + (n_in - (size_t)(argc - first_file))].body);
    free(ins);
    json_decref(keep);
    return rc;
}
