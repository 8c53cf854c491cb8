/* log.h — the one logging module: levels, stderr, one line per message.
 *
 * journald picks stderr up under systemd; on a terminal the lines carry a
 * time stamp. Warnings and errors carry file:line and the function. */
#ifndef TD_LOG_H
#define TD_LOG_H

typedef enum { TD_LOG_DEBUG = 0, TD_LOG_INFO, TD_LOG_WARN, TD_LOG_ERROR } td_log_level;

/* Name shown in every line (the program), and the lowest level printed. */
void td_log_init(const char *program, td_log_level level);
/* Parse "debug" | "info" | "warn" | "error"; -1 when unknown. */
int td_log_level_parse(const char *name);
void td_log_set_level(td_log_level level);

void td_log_at(td_log_level level, const char *file, int line, const char *func,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define td_debug(...) td_log_at(TD_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define td_info(...) td_log_at(TD_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define td_warn(...) td_log_at(TD_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define td_error(...) td_log_at(TD_LOG_ERROR, __FILE__, __LINE__, __func__, __VA_ARGS__)

#endif
