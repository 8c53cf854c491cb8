/* input.c — see input.h. */
#include "input.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#include "codec.h"
#include "isotime.h"

#define HEADLINE_MAX_BYTES 200
#define HEADLINE_MAX_WORDS 25

/* Lower-case words a Title Case headline leaves small. */
static const char *const s_small_words[] = {
    "a", "an", "the", "and", "but", "or", "nor", "for", "so", "yet", "as", "at", "by",
    "in", "of", "off", "on", "per", "to", "up", "via", "vs", "with", "from", "into",
    "onto", "over", "than", "near", "after", "amid", "is", "are", "was", "be", "its",
    "de", "la", "le", "von", "van", "der", "al", "el"};

static bool s_small(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof s_small_words / sizeof s_small_words[0]; i++)
        if (strlen(s_small_words[i]) == n && strncasecmp(s_small_words[i], w, n) == 0)
            return true;
    return false;
}

bool td_input_is_headline(const char *line, size_t len)
{
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    while (len && isspace((unsigned char)*line)) {
        line++;
        len--;
    }
    if (len == 0 || len > HEADLINE_MAX_BYTES)
        return false;
    /* a full stop ends a sentence; "..." or "U.S." does not */
    if (line[len - 1] == '.' && !(len >= 3 && line[len - 2] == '.') &&
        !(len >= 3 && isupper((unsigned char)line[len - 2]) && line[len - 3] == '.'))
        return false;

    size_t words = 0, capital = 0, counted = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (isspace((unsigned char)line[i]) || line[i] == '"' || line[i] == '\'' ||
                           line[i] == '(' || line[i] == '-'))
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && !isspace((unsigned char)line[i]))
            i++;
        size_t wlen = i - start;
        words++;
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)line + start,
                                              (utf8proc_ssize_t)wlen, &cp);
        if (n <= 0)
            continue;
        utf8proc_category_t cat = utf8proc_category(cp);
        /* numbers, symbols and quotes say nothing about the case style */
        if (cat != UTF8PROC_CATEGORY_LU && cat != UTF8PROC_CATEGORY_LL &&
            cat != UTF8PROC_CATEGORY_LT)
            continue;
        /* small words count only first (they must be capitalised there) */
        if (words > 1 && s_small(line + start, wlen))
            continue;
        counted++;
        if (cat != UTF8PROC_CATEGORY_LL)
            capital++;
    }
    if (words == 0 || words > HEADLINE_MAX_WORDS || counted == 0)
        return false;
    /* "mostly": at least 3 in 4 of the words that carry case */
    return capital * 4 >= counted * 3;
}

static char *s_trimdup(td_arena *arena, const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return td_arena_strndup(arena, s, len);
}

int td_input_plain(td_arena *arena, const char *text, size_t len, const char *source,
                   int64_t published_at, td_client_article *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {   /* byte order mark */
        text += 3;
        len -= 3;
    }
    if (!td_utf8_valid(text, len)) {
        snprintf(err, errlen, "not valid UTF-8 text");
        return -1;
    }
    /* skip blank lines to the first line */
    size_t pos = 0;
    for (;;) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        size_t k = pos;
        while (k < eol && isspace((unsigned char)text[k]))
            k++;
        if (k < eol || eol >= len)
            break;
        pos = eol + 1;
    }
    size_t eol = pos;
    while (eol < len && text[eol] != '\n')
        eol++;
    size_t body_at = pos;
    bool headline = eol < len && td_input_is_headline(text + pos, eol - pos);
    if (headline)
        body_at = eol + 1;
    char *body = s_trimdup(arena, text + body_at, len - body_at);
    char *title = headline ? s_trimdup(arena, text + pos, eol - pos) : NULL;
    if (!body || (headline && !title)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!*body && title) {   /* one line only: that is the text, not a title */
        body = title;
        title = NULL;
    }
    if (!*body) {
        snprintf(err, errlen, "no text");
        return -1;
    }
    out->title = title;
    out->body = body;
    out->source = source;
    out->published_at = published_at;
    return 0;
}

/* A string member, or NULL when absent or null; -1 on a wrong type. */
static int s_str(td_arena *arena, json_t *obj, const char *key, const char **out, char *err,
                 size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "\"%s\" must be a string", key);
        return -1;
    }
    *out = td_arena_strndup(arena, json_string_value(v), json_string_length(v));
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int td_input_jsonl(td_arena *arena, const char *line, size_t len, td_client_article *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->published_at = TD_CLIENT_TIME_NONE;
    size_t k = 0;
    while (k < len && isspace((unsigned char)line[k]))
        k++;
    if (k == len)
        return 0;

    json_error_t jerr;
    /* JSON_ALLOW_NUL stays off: a NUL inside a string is refused, as the
     * wire contract refuses it */
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s (column %d)", jerr.text, jerr.column);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
        goto done;
    }
    const char *type = NULL;
    if (s_str(arena, root, "type", &type, err, errlen) < 0)
        goto done;
    if (type && strcmp(type, "article") != 0) {
        snprintf(err, errlen, "\"type\" is \"%.40s\", not \"article\"", type);
        goto done;
    }
    if (s_str(arena, root, "id", &out->id, err, errlen) < 0 ||
        s_str(arena, root, "url", &out->url, err, errlen) < 0 ||
        s_str(arena, root, "source", &out->source, err, errlen) < 0 ||
        s_str(arena, root, "title", &out->title, err, errlen) < 0 ||
        s_str(arena, root, "body", &out->body, err, errlen) < 0 ||
        s_str(arena, root, "lang", &out->lang, err, errlen) < 0)
        goto done;
    if (!out->body || !*out->body) {
        snprintf(err, errlen, "no \"body\" (required, non-empty)");
        goto done;
    }
    json_t *pub = json_object_get(root, "published_at");
    if (pub && json_is_integer(pub)) {
        out->published_at = json_integer_value(pub);
    } else if (pub && json_is_real(pub)) {
        out->published_at = (int64_t)json_real_value(pub);
    } else if (pub && json_is_string(pub)) {
        if (td_isotime_parse(json_string_value(pub), &out->published_at) < 0) {
            snprintf(err, errlen, "\"published_at\" is not an ISO-8601 time: \"%.40s\"",
                     json_string_value(pub));
            goto done;
        }
    } else if (pub && !json_is_null(pub)) {
        snprintf(err, errlen, "\"published_at\" must be ms or an ISO-8601 string");
        goto done;
    }
    json_t *meta = json_object_get(root, "meta");
    if (meta && !json_is_null(meta)) {
        if (!json_is_object(meta)) {
            snprintf(err, errlen, "\"meta\" must be an object of strings");
            goto done;
        }
        size_t n = json_object_size(meta), i = 0;
        td_client_meta *m = n ? td_arena_alloc(arena, n * sizeof *m) : NULL;
        if (n && !m) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        const char *key;
        json_t *val;
        json_object_foreach(meta, key, val) {
            if (!json_is_string(val)) {
                snprintf(err, errlen, "\"meta\" value of \"%.40s\" must be a string", key);
                goto done;
            }
            m[i].key = td_arena_strdup(arena, key);
            m[i].value = td_arena_strndup(arena, json_string_value(val), json_string_length(val));
            if (!m[i].key || !m[i].value) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            i++;
        }
        out->meta = m;
        out->n_meta = i;
    }
    rc = 1;
done:
    json_decref(root);
    return rc;
}
