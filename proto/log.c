/* log.c — see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *s_program = "tidings";
static td_log_level s_level = TD_LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

void td_log_init(const char *program, td_log_level level)
{
    s_program = program;
    s_level = level;
}

void td_log_set_level(td_log_level level)
{
    s_level = level;
}

int td_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, s_names[i]) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return TD_LOG_WARN;
    return -1;
}

void td_log_at(td_log_level level, const char *file, int line, const char *func,
               const char *fmt, ...)
{
    if (level < s_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char stamp[32] = "";
    if (isatty(STDERR_FILENO)) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(stamp, sizeof stamp, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min,
                 tm.tm_sec, ts.tv_nsec / 1000000);
    }
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (level >= TD_LOG_WARN)
        fprintf(stderr, "%s%s %s: %s (%s:%d %s)\n", stamp, s_program, s_names[level], msg,
                base, line, func);
    else
        fprintf(stderr, "%s%s %s: %s\n", stamp, s_program, s_names[level], msg);
}
