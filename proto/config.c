/* config.c — see config.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"

static td_option *s_find(td_option *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int s_set(td_option *o, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(o->value);
    o->value = copy;
    return 0;
}

static char *s_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int s_read_file(td_option *opts, size_t n, const char *path, const char *program)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read config file %s: %s\n", program, path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = s_trim(line);
        if (!*s || *s == '#')
            continue;
        size_t klen = strcspn(s, " \t=");
        char *v = s + klen;
        while (*v == ' ' || *v == '\t' || *v == '=')
            v++;
        td_option *o = s_find(opts, n, s, klen);
        if (!o) {
            fprintf(stderr, "%s: %s:%d: unknown option '%.*s'\n", program, path, lineno,
                    (int)klen, s);
            rc = -1;
            break;
        }
        s_set(o, o->flag && !*v ? "1" : v);
    }
    fclose(f);
    return rc;
}

static void s_usage(const td_option *opts, size_t n, const char *program, const char *summary)
{
    printf("Usage: %s [OPTIONS]\n%s\n\nOptions (also TIDINGS_<NAME> variables and "
           "--config FILE lines 'name = value'):\n",
           program, summary);
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", opts[i].name, opts[i].flag ? "" : " VALUE");
        printf("  %-24s %s", left, opts[i].help);
        if (opts[i].def)
            printf(" (default: %s)", opts[i].def);
        printf("\n");
    }
    printf("  %-24s %s\n  %-24s %s\n  %-24s %s\n", "--config FILE", "read options from FILE",
           "--help", "show this help", "--version", "show the version");
}

int td_config_parse(td_option *opts, size_t n, int argc, char **argv,
                    const char *program, const char *summary, int *first_arg)
{
    for (size_t i = 0; i < n; i++)
        if (opts[i].def && s_set(&opts[i], opts[i].def) < 0)
            return -1;

    /* the config file first, so environment and flags override it */
    const char *cfg = getenv("TIDINGS_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            cfg = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            cfg = argv[i] + 9;
    }
    if (cfg && s_read_file(opts, n, cfg, program) < 0)
        return -1;

    for (size_t i = 0; i < n; i++) {
        char env[96] = "TIDINGS_";
        size_t k = 8;
        for (const char *p = opts[i].name; *p && k < sizeof env - 1; p++)
            env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        env[k] = '\0';
        const char *v = getenv(env);
        if (v)
            s_set(&opts[i], v);
    }

    int pos = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(opts, n, program, summary);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", program, TD_VERSION);
            return 1;
        }
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0)
            continue;
        if (strcmp(a, "--") == 0) {
            pos = i + 1;
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (!first_arg) {
                fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", program, a);
                return -1;
            }
            /* positional: move it to the end region, keep scanning flags */
            if (pos == argc)
                pos = i;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        td_option *o = s_find(opts, n, name, len);
        if (!o) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", program, a);
            return -1;
        }
        if (o->flag) {
            s_set(o, eq ? eq + 1 : "1");
        } else if (eq) {
            s_set(o, eq + 1);
        } else if (i + 1 < argc) {
            s_set(o, argv[++i]);
        } else {
            fprintf(stderr, "%s: option '--%s' needs a value\n", program, o->name);
            return -1;
        }
    }
    if (first_arg) {
        /* compact positionals to the end, preserving order */
        int w = argc;
        char *tmp[argc > 0 ? argc : 1];
        int nt = 0;
        for (int i = 1; i < argc; i++) {
            const char *a = argv[i];
            if (strcmp(a, "--") == 0) {
                for (int j = i + 1; j < argc; j++)
                    tmp[nt++] = argv[j];
                break;
            }
            if (strncmp(a, "--", 2) == 0 && a[2]) {
                const char *name = a + 2;
                const char *eq = strchr(name, '=');
                size_t len = eq ? (size_t)(eq - name) : strlen(name);
                td_option *o = s_find(opts, n, name, len);
                if (!eq && ((o && !o->flag) || (len == 6 && strncmp(name, "config", 6) == 0)))
                    i++;
                continue;
            }
            tmp[nt++] = argv[i];
        }
        w = argc - nt;
        for (int i = 0; i < nt; i++)
            argv[w + i] = tmp[i];
        *first_arg = w;
        (void)pos;
    }
    return 0;
}

const char *td_config_get(const td_option *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].name, name) == 0)
            return opts[i].value;
    return NULL;
}

int64_t td_config_int(const td_option *opts, size_t n, const char *name, int64_t fallback)
{
    const char *v = td_config_get(opts, n, name);
    if (!v || !*v)
        return fallback;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v)
        return fallback;
    switch (*end) {
    case 'k': case 'K': x <<= 10; end++; break;
    case 'm': case 'M': x <<= 20; end++; break;
    case 'g': case 'G': x <<= 30; end++; break;
    default: break;
    }
    if (*end && !(end[0] == 'i' && end[1] == 'B') && strcmp(end, "B") != 0)
        return fallback;
    return x;
}

bool td_config_bool(const td_option *opts, size_t n, const char *name)
{
    const char *v = td_config_get(opts, n, name);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
                 strcmp(v, "on") == 0);
}

void td_config_free(td_option *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(opts[i].value);
        opts[i].value = NULL;
    }
}
