/* jsonout.c — msgpack to JSON; see jsonout.h. */
#include "jsonout.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* msgpack-c refuses nesting deeper than its stack anyway; this only guards
 * the recursion if that ever changes */
#define MAX_DEPTH 64

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void s_base64(FILE *out, const unsigned char *p, size_t n)
{
    fputc('"', out);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        fputc(s_b64[v >> 18], out);
        fputc(s_b64[(v >> 12) & 63], out);
        fputc(s_b64[(v >> 6) & 63], out);
        fputc(s_b64[v & 63], out);
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        fputc(s_b64[v >> 18], out);
        fputc(s_b64[(v >> 12) & 63], out);
        fputs("==", out);
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        fputc(s_b64[v >> 18], out);
        fputc(s_b64[(v >> 12) & 63], out);
        fputc(s_b64[(v >> 6) & 63], out);
        fputc('=', out);
    }
    fputc('"', out);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t s_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void s_string(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            case '\b': fputs("\\b", out); break;
            case '\f': fputs("\\f", out); break;
            default: fprintf(out, "\\u%04x", c); break;
            }
            i++;
        } else if (c < 0x80) {
            fputc(c, out);
            i++;
        } else {
            size_t len = s_utf8_len(p + i, n - i);
            if (len == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(p + i, 1, len, out);
                i += len;
            }
        }
    }
    fputc('"', out);
}

static void s_newline(FILE *out, int flags, int depth)
{
    if (!(flags & TD_JSON_PRETTY))
        return;
    fputc('\n', out);
    for (int i = 0; i < depth; i++)
        fputs("  ", out);
}

static void s_double(FILE *out, double d, bool single)
{
    if (!isfinite(d)) {
        fputs("null", out);
        return;
    }
    char buf[40];
    /* the shortest precision that reads back as the same number (a float32
     * needs at most 9 digits, a double 17) */
    for (int prec = single ? 6 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        double back = strtod(buf, NULL);
        if (single ? (float)back == (float)d : back == d)
            break;
    }
    /* %g may give "1e+20" (valid JSON) or "3" (valid, but loses that it
     * was a float); keep it recognisably a number with a fraction */
    if (!strpbrk(buf, ".eEn"))
        strcat(buf, ".0");
    fputs(buf, out);
}

static void s_value(FILE *out, const msgpack_object *o, int flags, int depth);

/* JSON keys must be strings: print other keys' JSON text inside a string. */
static void s_key(FILE *out, const msgpack_object *k, int flags, int depth)
{
    if (k->type == MSGPACK_OBJECT_STR) {
        s_string(out, k->via.str.ptr, k->via.str.size);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
        fputs("\"\"", out);
        return;
    }
    s_value(mem, k, flags & ~TD_JSON_PRETTY, depth);
    fclose(mem);
    s_string(out, text, len);
    free(text);
}

static void s_value(FILE *out, const msgpack_object *o, int flags, int depth)
{
    if (depth > MAX_DEPTH) {
        fputs("null", out);
        return;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        fputs("null", out);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        fputs(o->via.boolean ? "true" : "false", out);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf(out, "%" PRIu64, o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf(out, "%" PRId64, o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
        s_double(out, o->via.f64, true);
        break;
    case MSGPACK_OBJECT_FLOAT64:
        s_double(out, o->via.f64, false);
        break;
    case MSGPACK_OBJECT_STR:
        s_string(out, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        s_base64(out, (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_EXT:
        s_base64(out, (const unsigned char *)o->via.ext.ptr, o->via.ext.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
        fputc('[', out);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i)
                fputc(',', out);
            s_newline(out, flags, depth + 1);
            s_value(out, &o->via.array.ptr[i], flags, depth + 1);
        }
        if (o->via.array.size)
            s_newline(out, flags, depth);
        fputc(']', out);
        break;
    case MSGPACK_OBJECT_MAP:
        fputc('{', out);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            if (i)
                fputc(',', out);
            s_newline(out, flags, depth + 1);
            s_key(out, &o->via.map.ptr[i].key, flags, depth + 1);
            fputs((flags & TD_JSON_PRETTY) ? ": " : ":", out);
            s_value(out, &o->via.map.ptr[i].val, flags, depth + 1);
        }
        if (o->via.map.size)
            s_newline(out, flags, depth);
        fputc('}', out);
        break;
    default:
        fputs("null", out);
        break;
    }
}

int td_json_print(FILE *out, const msgpack_object *o, int flags)
{
    s_value(out, o, flags, 0);
    return ferror(out) ? -1 : 0;
}

int td_json_print_raw(FILE *out, const void *buf, size_t len, int flags)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS)
        rc = td_json_print(out, &u.data, flags);
    msgpack_unpacked_destroy(&u);
    return rc;
}
