/* config.h — daemon options from defaults, a config file, TIDINGS_* environment
 * variables and command-line flags, in that order of precedence (later wins).
 *
 * A program declares a table of options; `--name VALUE` and `--name=VALUE`
 * set one, `--config FILE` reads `name = value` lines (# comments), and
 * TIDINGS_NAME (upper case, '-' as '_') sets it from the environment.
 * `--help` prints the table, `--version` the version. Flag options (no value)
 * have def == NULL and flag == true and read as "1" when given. */
#ifndef TD_CONFIG_H
#define TD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;   /* without dashes, e.g. "data" */
    const char *def;    /* default value (NULL: unset) */
    const char *help;
    bool flag;          /* takes no value */
    char *value;        /* current value (owned by the table after parse) */
} td_option;

/* Parse; returns 0 to go on, 1 when --help/--version was answered (exit 0),
 * -1 on a bad option (message printed). Positional arguments are left in
 * argv[*first_arg ..argc) when first_arg is non-NULL, else refused. */
int td_config_parse(td_option *opts, size_t n, int argc, char **argv,
                    const char *program, const char *summary, int *first_arg);

/* Value of an option; NULL when unset. */
const char *td_config_get(const td_option *opts, size_t n, const char *name);
/* Integer value (with k/M/G suffixes for sizes); `fallback` when unset or bad. */
int64_t td_config_int(const td_option *opts, size_t n, const char *name, int64_t fallback);
bool td_config_bool(const td_option *opts, size_t n, const char *name);

/* Free the values held by the table. */
void td_config_free(td_option *opts, size_t n);

#endif
