/* config_test.c — daemon options: defaults < config file < TIDINGS_* < flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static td_option s_table(const char *name, const char *def, bool flag)
{
    td_option o = {name, def, "help", flag, NULL};
    return o;
}

static void test_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/td-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# a comment\ndata = /from/file\nbatch-max 50\nhwm=7\n");
    fclose(f);
    setenv("TIDINGS_BATCH_MAX", "60", 1);
    setenv("TIDINGS_HWM", "8", 1);
    td_option opts[] = {s_table("data", "./tidings-data", false), s_table("batch-max", "1000", false),
                        s_table("hwm", "1000", false), s_table("map-size", "64G", false),
                        s_table("verbose", NULL, true)};
    size_t n = sizeof opts / sizeof *opts;
    char *argv[] = {"prog", "--config", path, "--hwm", "9", "--verbose", NULL};
    assert_int_equal(td_config_parse(opts, n, 6, argv, "prog", "test", NULL), 0);
    assert_string_equal(td_config_get(opts, n, "data"), "/from/file");   /* file over default */
    assert_int_equal(td_config_int(opts, n, "batch-max", 0), 60);       /* env over file */
    assert_int_equal(td_config_int(opts, n, "hwm", 0), 9);              /* flag over env */
    assert_true(td_config_int(opts, n, "map-size", 0) == (int64_t)64 << 30);
    assert_true(td_config_bool(opts, n, "verbose"));
    td_config_free(opts, n);
    unsetenv("TIDINGS_BATCH_MAX");
    unsetenv("TIDINGS_HWM");
    remove(path);
}

static void test_errors(void **state)
{
    (void)state;
    td_option opts[] = {s_table("data", "d", false)};
    char *unknown[] = {"prog", "--nope", "1", NULL};
    assert_int_equal(td_config_parse(opts, 1, 3, unknown, "prog", "test", NULL), -1);
    char *missing[] = {"prog", "--data", NULL};
    assert_int_equal(td_config_parse(opts, 1, 2, missing, "prog", "test", NULL), -1);
    char *positional[] = {"prog", "stray", NULL};
    assert_int_equal(td_config_parse(opts, 1, 2, positional, "prog", "test", NULL), -1);
    char *eq[] = {"prog", "--data=/x", NULL};
    assert_int_equal(td_config_parse(opts, 1, 2, eq, "prog", "test", NULL), 0);
    assert_string_equal(td_config_get(opts, 1, "data"), "/x");
    assert_int_equal(td_config_int(opts, 1, "data", 42), 42);           /* not a number */
    td_config_free(opts, 1);
}

static void test_positionals(void **state)
{
    (void)state;
    td_option opts[] = {s_table("limit", "20", false), s_table("json", NULL, true)};
    char *argv[] = {"prog", "get", "--limit", "5", "article", "--json", "a-1", NULL};
    int first = 0;
    assert_int_equal(td_config_parse(opts, 2, 7, argv, "prog", "test", &first), 0);
    assert_int_equal(7 - first, 3);
    assert_string_equal(argv[first], "get");
    assert_string_equal(argv[first + 1], "article");
    assert_string_equal(argv[first + 2], "a-1");
    assert_int_equal(td_config_int(opts, 2, "limit", 0), 5);
    td_config_free(opts, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_positionals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
