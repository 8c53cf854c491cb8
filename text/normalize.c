/* normalize.c — text cleaning and word folding; see normalize.h. */
#include "normalize.h"

#include <string.h>
#include <utf8proc.h>

/* Above this size the NFC pass is skipped: composition needs four bytes per
 * code point of scratch in the arena, and a body this large is already far
 * beyond any news article (the mapping pass still runs). */
#define NFC_MAX_BYTES (1u << 20)

size_t td_utf8_next(const char *s, size_t len, int32_t *cp)
{
    if (len == 0) {
        *cp = 0;
        return 0;
    }
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    utf8proc_int32_t v;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          len > 4 ? 4 : (utf8proc_ssize_t)len, &v);
    if (n <= 0 || v < 0) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return (size_t)n;
}

/* What a code point becomes in cleaned text: a replacement string (possibly
 * empty: dropped), or NULL to keep it as it is. */
static const char *s_map(int32_t cp)
{
    switch (cp) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032: case 0x02BC:
        return "'";
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x2033:
    case 0x00AB: case 0x00BB: case 0x300C: case 0x300D:
        return "\"";
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
    case 0x2212: case 0xFE58: case 0xFE63: case 0xFF0D:
        return "-";
    case 0x2026:
        return "...";
    case 0x00A0: case 0x1680: case 0x202F: case 0x205F: case 0x3000: case '\t':
    case 0x0B: case 0x0C:
        return " ";
    case 0x2028: case 0x2029: case 0x85:
        return "\n";
    case 0x00AD: case 0x200B: case 0x200C: case 0x200D: case 0x2060: case 0xFEFF:
    case 0x200E: case 0x200F:
        return "";
    default:
        break;
    }
    if (cp >= 0x2000 && cp <= 0x200A)
        return " ";
    if (cp < 0x20 && cp != '\n')
        return "";
    if (cp >= 0x7F && cp < 0xA0)
        return "";
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return "\xEF\xBF\xBD";
    return NULL;
}

/* Append helper that keeps the whitespace rules: no space at line start, no
 * double space, no space before a newline, at most two newlines in a row. */
typedef struct {
    char *p;
    size_t n;
    int nl;    /* newlines just written */
    int sp;    /* a space is pending */
    int any;   /* something non-space written */
    int nonascii;
    int nfc;   /* a code point that NFC may change was seen */
} s_out;

/* Could NFC change text holding this code point? Combining marks (they may
 * compose with what precedes), conjoining Hangul jamo, and the few
 * singletons (Ohm, Kelvin, Angstrom signs, CJK compatibility ideographs).
 * Precomposed letters such as "é" are already NFC: most non-ASCII text
 * skips the composition pass. */
static int s_nfc_maybe(int32_t cp)
{
    if (cp < 0x300)
        return 0;
    if ((cp >= 0x1100 && cp < 0x1200) || (cp >= 0xF900 && cp < 0xFB00) ||
        (cp >= 0x2F800 && cp < 0x2FA20) || cp == 0x2126 || cp == 0x212A || cp == 0x212B ||
        (cp >= 0x340 && cp <= 0x344) || cp == 0x374 || cp == 0x37E || cp == 0x387)
        return 1;
    return utf8proc_get_property(cp)->combining_class != 0;
}

static void s_put(s_out *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\r')
            c = '\n';
        if (c == ' ') {
            o->sp = 1;
            continue;
        }
        if (c == '\n') {
            o->sp = 0;
            if (o->any && o->nl < 2)
                o->p[o->n++] = '\n';
            o->nl++;
            continue;
        }
        if (o->sp && o->nl == 0 && o->any)
            o->p[o->n++] = ' ';
        o->sp = 0;
        o->nl = 0;
        o->any = 1;
        if ((unsigned char)c >= 0x80)
            o->nonascii = 1;
        o->p[o->n++] = c;
    }
}

char *td_normalize_text(td_arena *arena, const char *in, size_t len, size_t *out_len)
{
    /* an ASCII byte yields at most one byte, any other at most three (U+FFFD
     * for a bad byte, "..." for a three-byte ellipsis): size for that */
    if (len > ((size_t)1 << 30))
        len = (size_t)1 << 30;
    size_t high = 0;
    for (size_t i = 0; i < len; i++)
        high += (unsigned char)in[i] >> 7;
    char *buf = td_arena_alloc(arena, len + 2 * high + 1);
    if (!buf)
        return NULL;
    s_out o = {buf, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        if (c > 0x20 && c < 0x7F && o.nl == 0 && !o.sp) {
            /* the common case: a run of printable ASCII inside a line,
             * copied as is — single spaces between printable characters
             * included (s_put would write them unchanged) */
            size_t j = i + 1;
            for (;;) {
                while (j < len && (unsigned char)in[j] > 0x20 && (unsigned char)in[j] < 0x7F)
                    j++;
                if (j + 1 < len && in[j] == ' ' && (unsigned char)in[j + 1] > 0x20 &&
                    (unsigned char)in[j + 1] < 0x7F) {
                    j += 2;
                    continue;
                }
                break;
            }
            memcpy(o.p + o.n, in + i, j - i);
            o.n += j - i;
            o.any = 1;
            i = j;
            continue;
        }
        if (c >= 0x20 && c < 0x7F) {
            s_put(&o, (const char *)&in[i], 1);
            i++;
            continue;
        }
        if (c == '\r') {
            s_put(&o, "\n", 1);
            i += (i + 1 < len && in[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        int32_t cp;
        size_t k = td_utf8_next(in + i, len - i, &cp);
        if (!o.nfc && s_nfc_maybe(cp))
            o.nfc = 1;
        const char *m = s_map(cp);
        if (m)
            s_put(&o, m, strlen(m));
        else if (cp == 0xFFFD && k == 1 && c >= 0x80)
            s_put(&o, "\xEF\xBF\xBD", 3);
        else
            s_put(&o, in + i, k);
        i += k;
    }
    while (o.n > 0 && o.p[o.n - 1] == '\n')
        o.n--;
    o.p[o.n] = '\0';

    if (o.nfc && o.n <= NFC_MAX_BYTES) {
        /* NFC: decompose into code points, then recompose and re-encode in
         * place (utf8proc_reencode), all in arena scratch: no malloc. */
        utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
        utf8proc_ssize_t cap = (utf8proc_ssize_t)o.n + 16;
        for (int attempt = 0; attempt < 3; attempt++) {
            utf8proc_int32_t *cps = td_arena_alloc(arena, (size_t)cap * sizeof *cps + 4);
            if (!cps)
                break;
            utf8proc_ssize_t r = utf8proc_decompose((const utf8proc_uint8_t *)o.p,
                                                    (utf8proc_ssize_t)o.n, cps, cap, opt);
            if (r < 0)
                break;
            if (r > cap) {
                cap = r;
                continue;
            }
            r = utf8proc_reencode(cps, r, opt);
            if (r < 0)
                break;
            char *res = td_arena_strndup(arena, (const char *)cps, (size_t)r);
            if (!res)
                break;
            *out_len = (size_t)r;
            return res;
        }
    }
    *out_len = o.n;
    return o.p;
}

size_t td_normalize_fold(const char *in, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t n = 0, i = 0;
    int ascii = 1;
    for (size_t j = 0; j < len; j++)
        if ((unsigned char)in[j] >= 0x80) {
            ascii = 0;
            break;
        }
    if (ascii) {
        for (; i < len && n + 1 < cap; i++) {
            char c = in[i];
            out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        out[n] = '\0';
        return n;
    }
    /* NFKC + case fold on a small stack buffer of code points; words longer
     * than the buffer are truncated (the callers cap word length anyway). */
    utf8proc_int32_t cps[96];
    utf8proc_ssize_t m = 0;
    int bound = 0;
    utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                            UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
    while (i < len && m < 80) {
        int32_t cp;
        size_t k = td_utf8_next(in + i, len - i, &cp);
        i += k;
        utf8proc_ssize_t r = utf8proc_decompose_char(cp, cps + m, 96 - m, opt, &bound);
        if (r < 0 || r > 96 - m)
            break;
        m += r;
    }
    m = utf8proc_normalize_utf32(cps, m, opt);
    if (m < 0)
        m = 0;
    for (utf8proc_ssize_t j = 0; j < m; j++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t k = utf8proc_encode_char(cps[j], enc);
        if (k <= 0)
            continue;
        if (n + (size_t)k + 1 > cap)
            break;
        memcpy(out + n, enc, (size_t)k);
        n += (size_t)k;
    }
    out[n] = '\0';
    return n;
}
