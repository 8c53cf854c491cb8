/* qparse.c — query language parser; see qparse.h. */
#include "qparse.h"

#include <string.h>

#include "codec.h"

static bool s_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Analyse text into a phrase (stems and offsets); n == 0 when only stop
 * words or nothing. Returns -1 when out of memory. */
static int s_phrase(td_qparsed *out, const char *text, size_t len, td_tokenizer *tk,
                    const char *lang, td_arena *arena, td_qphrase *ph)
{
    memset(ph, 0, sizeof *ph);
    if (!len)
        return 0;
    /* the tokenizer reads valid UTF-8 only up to len; give it a copy that
     * is terminated, so no caller buffer is read past its end */
    char *copy = td_arena_strndup(arena, text, len);
    ph->stems = td_arena_alloc(arena, TD_QP_MAX_PHRASE * sizeof *ph->stems);
    ph->offs = td_arena_alloc(arena, TD_QP_MAX_PHRASE * sizeof *ph->offs);
    if (!copy || !ph->stems || !ph->offs)
        return -1;
    td_tokenizer_begin(tk, copy, len, lang);
    td_token t;
    uint32_t pos = 0, first = 0;
    while (td_tokenizer_next(tk, &t)) {
        uint32_t at = pos++;
        if (t.stop)
            continue;
        if (ph->n == TD_QP_MAX_PHRASE || out->n_stems == TD_QP_MAX_TERMS) {
            out->truncated = true;
            break;
        }
        if (!(ph->stems[ph->n] = td_arena_strndup(arena, t.stem, t.stem_len)))
            return -1;
        if (ph->n == 0)
            first = at;
        ph->offs[ph->n++] = at - first;
        out->n_stems++;
    }
    return 0;
}

/* One raw item of the query string. */
typedef struct {
    const char *s;
    size_t len;
    bool neg, quoted, is_or;
    int field;               /* 0 none, 1 source, 2 entity */
} s_item;

/* Next item from *p; false at the end. */
static bool s_next(const char **p, const char *end, s_item *it)
{
    const char *c = *p;
    while (c < end && s_space(*c))
        c++;
    if (c >= end)
        return false;
    memset(it, 0, sizeof *it);
    if (*c == '-' && c + 1 < end && !s_space(c[1])) {
        it->neg = true;
        c++;
    }
    static const struct { const char *name; int field; } fields[] = {
        {"source:", 1}, {"entity:", 2}};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(fields[i].name);
        if ((size_t)(end - c) > n && strncmp(c, fields[i].name, n) == 0) {
            it->field = fields[i].field;
            c += n;
            break;
        }
    }
    if (c < end && *c == '"') {
        const char *q = memchr(c + 1, '"', (size_t)(end - c - 1));
        it->s = c + 1;
        it->len = (size_t)((q ? q : end) - it->s);
        it->quoted = true;
        *p = q ? q + 1 : end;
        return true;
    }
    it->s = c;
    while (c < end && !s_space(*c))
        c++;
    it->len = (size_t)(c - it->s);
    it->is_or = !it->neg && !it->field && it->len == 2 && memcmp(it->s, "OR", 2) == 0;
    *p = c;
    return true;
}

static char *s_str(td_arena *arena, const char *s, size_t len)
{
    if (!td_utf8_valid(s, len))
        return NULL;
    return td_arena_strndup(arena, s, len);
}

int td_qparse(const char *q, size_t len, td_tokenizer *tk, const char *lang, td_arena *arena,
              td_qparsed *out)
{
    memset(out, 0, sizeof *out);
    if (!lang)
        lang = "en";
    out->must = td_arena_alloc(arena, TD_QP_MAX_CLAUSES * sizeof *out->must);
    out->nots = td_arena_alloc(arena, TD_QP_MAX_CLAUSES * sizeof *out->nots);
    out->sources = td_arena_alloc(arena, TD_QP_MAX_CLAUSES * sizeof *out->sources);
    out->entities = td_arena_alloc(arena, TD_QP_MAX_CLAUSES * sizeof *out->entities);
    if (!out->must || !out->nots || !out->sources || !out->entities)
        return -1;
    if (!q)
        return 0;
    const char *p = q, *end = q + len;
    s_item it;
    bool join = false;        /* the previous item was OR */
    size_t items = 0;
    while (s_next(&p, end, &it)) {
        if (++items > 4 * TD_QP_MAX_CLAUSES) {
            out->truncated = true;
            break;
        }
        if (it.is_or) {
            join = out->n_must > 0;
            continue;
        }
        if (it.field) {
            char *v = it.len ? s_str(arena, it.s, it.len) : NULL;
            char **list = it.field == 1 ? out->sources : out->entities;
            size_t *n = it.field == 1 ? &out->n_sources : &out->n_entities;
            if (v && !it.neg && *n < TD_QP_MAX_CLAUSES)
                list[(*n)++] = v;
            join = false;
            continue;
        }
        td_qphrase ph;
        if (s_phrase(out, it.s, it.len, tk, lang, arena, &ph) != 0)
            return -1;
        if (!ph.n) {
            join = false;
            continue;
        }
        if (it.neg) {
            if (out->n_nots < TD_QP_MAX_CLAUSES)
                out->nots[out->n_nots++] = ph;
            else
                out->truncated = true;
            join = false;
            continue;
        }
        if (join) {
            td_qclause *c = &out->must[out->n_must - 1];
            if (c->n_alts < TD_QP_MAX_CLAUSES) {
                c->alts[c->n_alts++] = ph;
            } else {
                out->truncated = true;
            }
            join = false;
            continue;
        }
        if (out->n_must == TD_QP_MAX_CLAUSES) {
            out->truncated = true;
            continue;
        }
        td_qclause *c = &out->must[out->n_must++];
        if (!(c->alts = td_arena_alloc(arena, TD_QP_MAX_CLAUSES * sizeof *c->alts)))
            return -1;
        c->alts[0] = ph;
        c->n_alts = 1;
    }
    return 0;
}
