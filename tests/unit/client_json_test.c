/* client_json_test.c — the msgpack to JSON printer of `tidings ... --json`:
 * escaping, nesting, bin, odd numbers and keys; every output must be JSON
 * that a real parser (jansson) accepts and reads back to the same values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

/* Print the object the callback packs; returns the malloc'd JSON text. */
static char *s_json(void (*pack)(msgpack_packer *), int flags)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack(&pk);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(td_json_print_raw(mem, sb.data, sb.size, flags), 0);
    fclose(mem);
    msgpack_sbuffer_destroy(&sb);
    return text;
}

static json_t *s_parse_flags(const char *text, size_t flags)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL | flags, &err);
    if (!j)
        fail_msg("not valid JSON (%s): %s", err.text, text);
    return j;
}

static json_t *s_parse(const char *text)
{
    return s_parse_flags(text, 0);
}

static void s_str(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void s_pack_escapes(msgpack_packer *pk)
{
    static const char s[] = "quote\" backslash\\ nl\n tab\t bell\x07 nul\0 é ü 漢 😀 end";
    s_str(pk, s, sizeof s - 1);
}

static void test_escapes(void **state)
{
    (void)state;
    char *text = s_json(s_pack_escapes, TD_JSON_COMPACT);
    assert_non_null(strstr(text, "\\\""));
    assert_non_null(strstr(text, "\\\\"));
    assert_non_null(strstr(text, "\\n"));
    assert_non_null(strstr(text, "\\u0007"));
    assert_non_null(strstr(text, "\\u0000"));
    json_t *j = s_parse(text);
    assert_true(json_is_string(j));
    /* the text reads back byte for byte, including the NUL */
    static const char want[] = "quote\" backslash\\ nl\n tab\t bell\x07 nul\0 é ü 漢 😀 end";
    assert_int_equal(json_string_length(j), sizeof want - 1);
    assert_memory_equal(json_string_value(j), want, sizeof want - 1);
    json_decref(j);
    free(text);
}

static void s_pack_bad_utf8(msgpack_packer *pk)
{
    /* a lone continuation byte, an overlong '/', a surrogate, a cut sequence */
    static const char s[] = "a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE6\xBC";
    s_str(pk, s, sizeof s - 1);
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    char *text = s_json(s_pack_bad_utf8, TD_JSON_COMPACT);
    json_t *j = s_parse(text);
    const char *v = json_string_value(j);
    assert_non_null(v);
    assert_int_equal(v[0], 'a');
    assert_non_null(strstr(v, "\xEF\xBF\xBD"));   /* U+FFFD */
    assert_non_null(strchr(v, 'd'));
    json_decref(j);
    free(text);
}

static void s_pack_nested(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 4);
    s_str(pk, "events", 6);
    msgpack_pack_array(pk, 2);
    for (int i = 0; i < 2; i++) {
        msgpack_pack_map(pk, 3);
        s_str(pk, "id", 2);
        s_str(pk, i ? "e2" : "e1", 2);
        s_str(pk, "claims", 6);
        msgpack_pack_array(pk, 1);
        msgpack_pack_map(pk, 2);
        s_str(pk, "count", 5);
        msgpack_pack_int64(pk, i ? -4 : 1);
        s_str(pk, "disputed", 8);
        if (i)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        s_str(pk, "empty", 5);
        msgpack_pack_array(pk, 0);
    }
    s_str(pk, "next_cursor", 11);
    msgpack_pack_nil(pk);
    s_str(pk, "big", 3);
    msgpack_pack_uint64(pk, UINT64_MAX);
    s_str(pk, "map", 3);
    msgpack_pack_map(pk, 0);
}

static void test_nesting(void **state)
{
    (void)state;
    for (int flags = 0; flags <= TD_JSON_PRETTY; flags++) {
        char *text = s_json(s_pack_nested, flags);
        /* u64 max does not fit jansson's integers: read numbers as reals */
        json_t *j = s_parse_flags(text, JSON_DECODE_INT_AS_REAL);
        json_t *events = json_object_get(j, "events");
        assert_int_equal(json_array_size(events), 2);
        json_t *e2 = json_array_get(events, 1);
        assert_string_equal(json_string_value(json_object_get(e2, "id")), "e2");
        json_t *claim = json_array_get(json_object_get(e2, "claims"), 0);
        assert_true(json_number_value(json_object_get(claim, "count")) == -4);
        assert_true(json_is_true(json_object_get(claim, "disputed")));
        assert_true(json_is_array(json_object_get(e2, "empty")));
        assert_true(json_is_null(json_object_get(j, "next_cursor")));
        assert_true(json_is_object(json_object_get(j, "map")));
        assert_non_null(strstr(text, "18446744073709551615"));
        if (flags == TD_JSON_PRETTY)
            assert_non_null(strstr(text, "\n  \"events\": [\n"));
        else
            assert_null(strchr(text, '\n'));
        json_decref(j);
        free(text);
    }
}

static void s_pack_bin(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 4);
    static const unsigned char b[] = {0x00, 0xff, 0x10, 0x80, 'M'};
    msgpack_pack_bin(pk, 5);
    msgpack_pack_bin_body(pk, b, 5);
    msgpack_pack_bin(pk, 1);
    msgpack_pack_bin_body(pk, b + 4, 1);
    msgpack_pack_bin(pk, 0);
    msgpack_pack_ext(pk, 2, 7);
    msgpack_pack_ext_body(pk, "Ma", 2);
}

static void test_bin_base64(void **state)
{
    (void)state;
    char *text = s_json(s_pack_bin, TD_JSON_COMPACT);
    json_t *j = s_parse(text);
    assert_string_equal(json_string_value(json_array_get(j, 0)), "AP8QgE0=");
    assert_string_equal(json_string_value(json_array_get(j, 1)), "TQ==");
    assert_string_equal(json_string_value(json_array_get(j, 2)), "");
    assert_string_equal(json_string_value(json_array_get(j, 3)), "TWE=");
    json_decref(j);
    free(text);
}

static void s_pack_numbers(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 7);
    msgpack_pack_double(pk, NAN);
    msgpack_pack_double(pk, INFINITY);
    msgpack_pack_double(pk, -INFINITY);
    msgpack_pack_double(pk, 0.1);
    msgpack_pack_double(pk, 3.0);
    msgpack_pack_float(pk, 0.25f);
    msgpack_pack_int64(pk, INT64_MIN);
}

static void test_numbers(void **state)
{
    (void)state;
    char *text = s_json(s_pack_numbers, TD_JSON_COMPACT);
    assert_non_null(strstr(text, "[null,null,null,0.1,3.0,0.25,"));
    json_t *j = s_parse(text);
    assert_true(json_is_null(json_array_get(j, 0)));
    assert_true(json_is_real(json_array_get(j, 4)));
    assert_true(json_real_value(json_array_get(j, 3)) == 0.1);
    assert_true(json_integer_value(json_array_get(j, 6)) == INT64_MIN);
    json_decref(j);
    free(text);
}

static void s_pack_odd_keys(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    msgpack_pack_int(pk, 42);
    s_str(pk, "int key", 7);
    msgpack_pack_nil(pk);
    s_str(pk, "nil key", 7);
    s_str(pk, "k\"", 2);
    msgpack_pack_true(pk);
}

static void test_non_string_keys(void **state)
{
    (void)state;
    char *text = s_json(s_pack_odd_keys, TD_JSON_COMPACT);
    json_t *j = s_parse(text);
    assert_string_equal(json_string_value(json_object_get(j, "42")), "int key");
    assert_string_equal(json_string_value(json_object_get(j, "null")), "nil key");
    assert_true(json_is_true(json_object_get(j, "k\"")));
    json_decref(j);
    free(text);
}

static void test_not_msgpack(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    /* a map header claiming 3 entries, with none: incomplete */
    assert_int_equal(td_json_print_raw(mem, "\x83", 1, 0), -1);
    assert_int_equal(td_json_print_raw(mem, "", 0, 0), -1);
    fclose(mem);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_bin_base64),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_non_string_keys),
        cmocka_unit_test(test_not_msgpack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
