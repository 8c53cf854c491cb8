/* keys.c — idempotency keys, article ids and content hashes; see keys.h. */
#include "keys.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <xxhash.h>

#include "db.h"

static bool s_is_utm(const char *p, size_t n)
{
    return n >= 4 && strncasecmp(p, "utm_", 4) == 0;
}

char *td_key_canonical_url(const char *url, td_arena *arena)
{
    if (!url)
        return NULL;
    while (*url && isspace((unsigned char)*url))
        url++;
    size_t n = strlen(url);
    while (n > 0 && isspace((unsigned char)url[n - 1]))
        n--;
    const char *hash = memchr(url, '#', n);
    if (hash)
        n = (size_t)(hash - url);
    if (n == 0)
        return NULL;

    char *out = td_arena_alloc(arena, n + 1);
    if (!out)
        return NULL;
    size_t w = 0, i = 0;

    /* scheme://authority, lower-cased (host names are case-insensitive;
     * userinfo is rare in news URLs and lower-casing it is harmless here) */
    const char *sep = NULL;
    for (size_t k = 0; k + 2 < n; k++) {
        if (url[k] == ':' && url[k + 1] == '/' && url[k + 2] == '/') {
            sep = url + k;
            break;
        }
        if (!isalnum((unsigned char)url[k]) && url[k] != '+' && url[k] != '-' && url[k] != '.')
            break;
    }
    if (sep) {
        size_t end = (size_t)(sep - url) + 3;
        while (end < n && url[end] != '/' && url[end] != '?')
            end++;
        for (; i < end; i++)
            out[w++] = (char)tolower((unsigned char)url[i]);
    }

    /* path */
    const char *q = memchr(url + i, '?', n - i);
    size_t path_end = q ? (size_t)(q - url) : n;
    for (; i < path_end; i++)
        out[w++] = url[i];
    while (w > 0 && out[w - 1] == '/' && !(sep && w <= (size_t)(sep - url) + 3))
        w--;

    /* query without utm_* parameters */
    if (q) {
        bool first = true;
        i = path_end + 1;
        while (i < n) {
            size_t e = i;
            while (e < n && url[e] != '&')
                e++;
            if (e > i && !s_is_utm(url + i, e - i)) {
                out[w++] = first ? '?' : '&';
                memcpy(out + w, url + i, e - i);
                w += e - i;
                first = false;
            }
            i = e + 1;
        }
    }
    out[w] = '\0';
    return w ? out : NULL;
}

static char *s_hex128(td_arena *arena, const char *prefix, const void *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    return td_arena_printf(arena, "%s%016llx%016llx", prefix, (unsigned long long)h.high64,
                           (unsigned long long)h.low64);
}

char *td_key_of(const td_article *a, td_arena *arena)
{
    char *key = NULL;
    if (a->id && *a->id) {
        key = td_arena_printf(arena, "i:%s", a->id);
    } else {
        char *url = td_key_canonical_url(a->url, arena);
        if (url) {
            key = td_arena_printf(arena, "u:%s", url);
        } else {
            /* NUL separators keep ("ab","c") and ("a","bc") apart */
            XXH3_state_t *st = XXH3_createState();
            if (!st)
                return NULL;
            XXH3_128bits_reset(st);
            const char *parts[3] = {a->source, a->title, a->body};
            for (int i = 0; i < 3; i++) {
                const char *p = parts[i] ? parts[i] : "";
                XXH3_128bits_update(st, p, strlen(p) + 1);
            }
            XXH128_hash_t h = XXH3_128bits_digest(st);
            XXH3_freeState(st);
            return td_arena_printf(arena, "h:%016llx%016llx", (unsigned long long)h.high64,
                                   (unsigned long long)h.low64);
        }
    }
    if (key && strlen(key) > TD_DB_MAX_KEY)
        key = s_hex128(arena, "H:", key, strlen(key));
    return key;
}

char *td_key_article_id(const td_article *a, const char *key, unsigned attempt,
                        td_arena *arena)
{
    if (attempt == 0 && a->id && *a->id && strlen(a->id) <= TD_KEY_MAX_ARTICLE_ID)
        return td_arena_strdup(arena, a->id);
    uint64_t h = XXH3_64bits_withSeed(key, strlen(key), attempt);
    return td_arena_printf(arena, "a%016llx", (unsigned long long)h);
}

uint64_t td_key_content_hash(const td_article *a)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return 0;
    XXH3_64bits_reset(st);
    const char *parts[3] = {a->title, a->body, a->source};
    for (int i = 0; i < 3; i++) {
        /* a marker byte tells an absent field from an empty one */
        unsigned char present = parts[i] != NULL;
        XXH3_64bits_update(st, &present, 1);
        if (parts[i])
            XXH3_64bits_update(st, parts[i], strlen(parts[i]) + 1);
    }
    unsigned char t[8];
    uint64_t v = (uint64_t)a->published_at;
    for (int i = 7; i >= 0; i--, v >>= 8)
        t[i] = (unsigned char)v;
    XXH3_64bits_update(st, t, 8);
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

uint64_t td_key_body_hash(const char *body)
{
    return body ? XXH3_64bits(body, strlen(body)) : 0;
}
