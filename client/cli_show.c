/* cli_show.c — records as readable text; see cli_show.h. */
#include "cli_show.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"

#define EXCERPT_BYTES 600

/* The list results of PROTOCOL.md are maps holding one array of records and
 * maybe a string cursor. Until the codec decodes whole lists, find them by
 * shape (the codec stays the only place that knows field names) and repack
 * each element so the codec's record decoder can read it. */
int td_show_list_split(const void *result, size_t len, td_arena *arena, td_show_list *out)
{
    memset(out, 0, sizeof *out);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = -1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (msgpack_unpack_next(&u, result, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP)
        goto done;
    const msgpack_object_map *m = &u.data.via.map;
    const msgpack_object_array *arr = NULL;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *v = &m->ptr[i].val;
        if (v->type == MSGPACK_OBJECT_ARRAY && !arr)
            arr = &v->via.array;
        else if (v->type == MSGPACK_OBJECT_STR && !out->next_cursor)
            out->next_cursor = td_arena_strndup(arena, v->via.str.ptr, v->via.str.size);
    }
    if (!arr)
        goto done;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t *ends = td_arena_alloc(arena, (arr->size + 1) * sizeof *ends);
    out->elem = td_arena_alloc(arena, (arr->size + 1) * sizeof *out->elem);
    out->elem_len = td_arena_alloc(arena, (arr->size + 1) * sizeof *out->elem_len);
    if (!ends || !out->elem || !out->elem_len)
        goto done;
    for (uint32_t i = 0; i < arr->size; i++) {
        if (msgpack_pack_object(&pk, arr->ptr[i]) != 0)
            goto done;
        ends[i] = sb.size;
    }
    char *copy = td_arena_alloc(arena, sb.size + 1);
    if (!copy)
        goto done;
    if (sb.size)
        memcpy(copy, sb.data, sb.size);
    for (uint32_t i = 0; i < arr->size; i++) {
        size_t start = i ? ends[i - 1] : 0;
        out->elem[i] = copy + start;
        out->elem_len[i] = ends[i] - start;
    }
    out->n = arr->size;
    rc = 0;
done:
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);
    return rc;
}

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

/* Bytes of `s` to print to show at most `max` characters (UTF-8). */
static int s_cut(const char *s, int max)
{
    int chars = 0;
    size_t i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == max)
            break;
    }
    return (int)i;
}

static void s_field(FILE *out, const char *label, const char *value)
{
    if (value && *value)
        fprintf(out, "%-13s %s\n", label, value);
}

#define WIDTH 78
#define LABEL 13

/* "label   text" with the text wrapped at WIDTH under itself. */
static void s_hang(FILE *out, const char *label, const char *text, size_t len)
{
    fprintf(out, "%-*s ", LABEL, label);
    int col = LABEL + 1;
    size_t i = 0;
    while (i < len) {
        size_t w = i;
        while (w < len && text[w] != ' ')
            w++;
        int wl = (int)(w - i);
        if (col > LABEL + 1 && col + 1 + wl > WIDTH) {
            fprintf(out, "\n%*s", LABEL + 1, "");
            col = LABEL + 1;
        } else if (col > LABEL + 1) {
            fputc(' ', out);
            col++;
        }
        fwrite(text + i, 1, w - i, out);
        col += wl;
        i = w;
        while (i < len && text[i] == ' ')
            i++;
    }
    fputc('\n', out);
}

/* A buffer to compose one s_hang text in. */
typedef struct {
    char *text;
    size_t len;
    FILE *f;
} s_buf;

static FILE *s_buf_open(s_buf *b)
{
    b->text = NULL;
    b->len = 0;
    b->f = open_memstream(&b->text, &b->len);
    return b->f;
}

static void s_buf_hang(FILE *out, const char *label, s_buf *b)
{
    if (!b->f)
        return;
    fclose(b->f);
    if (b->len)
        s_hang(out, label, b->text, b->len);
    free(b->text);
}

/* Print `s` cut at about `max` bytes on a UTF-8 character boundary, wrapped
 * to lines of about `width` columns, each indented by `indent` spaces. */
static void s_wrapped(FILE *out, const char *s, size_t max, int width, int indent)
{
    size_t len = strlen(s);
    bool cut = len > max;
    if (cut) {
        len = max;
        while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    int col = 0;
    size_t i = 0;
    while (i < len) {
        if (s[i] == '\n') {
            fprintf(out, "\n");
            col = 0;
            i++;
            continue;
        }
        size_t w = i;
        while (w < len && s[w] != ' ' && s[w] != '\n')
            w++;
        int wl = (int)(w - i);
        if (col && col + 1 + wl > width) {
            fprintf(out, "\n");
            col = 0;
        }
        if (col == 0)
            fprintf(out, "%*s", indent, "");
        else
            fputc(' ', out), col++;
        fwrite(s + i, 1, w - i, out);
        col += wl;
        i = w;
        while (i < len && s[i] == ' ')
            i++;
    }
    fprintf(out, "%s\n", cut ? " …" : "");
}

static void s_entities(FILE *out, const td_entity *e, size_t n)
{
    s_buf b;
    if (!n || !s_buf_open(&b))
        return;
    for (size_t i = 0; i < n; i++) {
        fprintf(b.f, "%s%s (%s", i ? ", " : "", e[i].name, td_entity_kind_name(e[i].kind));
        if (e[i].count > 1)
            fprintf(b.f, " ×%" PRIu32, e[i].count);
        fprintf(b.f, ")");
    }
    s_buf_hang(out, "entities", &b);
}

void td_show_article(FILE *out, const td_article *a)
{
    char t[40];
    fprintf(out, "%s\n", s_or(a->title, "(untitled)"));
    fprintf(out, "%-13s %s\n", "id", s_or(a->id, "-"));
    s_field(out, "source", a->source);
    s_field(out, "url", a->url);
    fprintf(out, "%-13s %s\n", "published", td_isotime_format(a->published_at, t, sizeof t));
    if (a->ingested_at != TD_CLIENT_TIME_NONE && a->ingested_at)
        fprintf(out, "%-13s %s\n", "ingested", td_isotime_format(a->ingested_at, t, sizeof t));
    s_field(out, "lang", a->lang);
    s_field(out, "event date", a->event_date);
    s_field(out, "event", a->event);
    s_field(out, "story", a->story);
    s_field(out, "duplicate of", a->duplicate_of);
    if (a->derived_id)
        fprintf(out, "%-13s %s (%s)\n", "derived from", a->derived_id,
                s_or(a->derived_kind, "?"));
    s_entities(out, a->entities, a->n_entities);
    s_buf b;
    if (a->n_dates && s_buf_open(&b)) {
        for (size_t i = 0; i < a->n_dates; i++)
            fprintf(b.f, "%s\"%s\" = %s", i ? ", " : "", s_or(a->dates[i].text, "?"),
                    s_or(a->dates[i].date, "?"));
        s_buf_hang(out, "dates", &b);
    }
    for (size_t i = 0; i < a->n_claims; i++) {
        const td_claim *c = &a->claims[i];
        fprintf(out, "%-13s %" PRId64 " %s: %s — says %s%s\n", i ? "" : "claims", c->count,
                s_or(c->kind, "?"), s_or(c->subject, "?"), s_or(c->claimant, "(unattributed)"),
                c->background ? " [background]" : "");
    }
    for (size_t i = 0; i < a->n_quotes; i++)
        fprintf(out, "%-13s %s: \"%s\"\n", i ? "" : "quotes", s_or(a->quotes[i].speaker, "?"),
                s_or(a->quotes[i].text, ""));
    if (a->n_boilerplate)
        fprintf(out, "%-13s %zu passage%s removed\n", "boilerplate", a->n_boilerplate,
                a->n_boilerplate == 1 ? "" : "s");
    for (size_t i = 0; i < a->n_meta; i++)
        fprintf(out, "%-13s %s = %s\n", i ? "" : "meta", a->meta[i].key, a->meta[i].value);
    if (a->body) {
        fprintf(out, "\n");
        s_wrapped(out, a->body, EXCERPT_BYTES, 76, 2);
    }
}

static void s_strv(FILE *out, const char *label, char *const *v, size_t n)
{
    s_buf b;
    if (!n || !s_buf_open(&b))
        return;
    for (size_t i = 0; i < n; i++)
        fprintf(b.f, "%s%s", i ? ", " : "", v[i]);
    s_buf_hang(out, label, &b);
}

void td_show_event(FILE *out, const td_event *e)
{
    char t1[40], t2[40];
    fprintf(out, "%s\n", s_or(e->title, "(untitled)"));
    fprintf(out, "%-13s %s\n", "id", s_or(e->id, "-"));
    s_field(out, "story", e->story);
    s_field(out, "event date", e->event_date);
    fprintf(out, "%-13s %s .. %s\n", "seen", td_isotime_format(e->first_seen, t1, sizeof t1),
            td_isotime_format(e->last_seen, t2, sizeof t2));
    fprintf(out, "%-13s %" PRIu32 " articles, %" PRIu32 " sources, %" PRIu32
                 " independent\n",
            "counts", e->articles, e->sources, e->independent_sources);
    s_strv(out, "articles", e->article_ids, e->n_article_ids);
    s_entities(out, e->entities, e->n_entities);
    s_strv(out, "places", e->places, e->n_places);
    s_strv(out, "keywords", e->keywords, e->n_keywords);
    s_strv(out, "related", e->related, e->n_related);
    if (e->n_claims) {
        bool disputed = false;
        fprintf(out, "\nclaims ledger\n");
        for (size_t i = 0; i < e->n_claims; i++) {
            const td_ledger_entry *c = &e->claims[i];
            disputed = disputed || c->disputed;
            fprintf(out, "  %s%6" PRId64 " %-10s %-30s", c->disputed ? "!" : " ", c->count,
                    s_or(c->kind, "?"), s_or(c->subject, "?"));
            fprintf(out, " says ");
            for (size_t k = 0; k < c->n_claimants; k++)
                fprintf(out, "%s%s", k ? ", " : "", c->claimants[k]);
            if (!c->n_claimants)
                fprintf(out, "(unattributed)");
            fprintf(out, "  [");
            for (size_t k = 0; k < c->n_article_ids; k++)
                fprintf(out, "%s%s", k ? " " : "", c->article_ids[k]);
            fprintf(out, "]\n");
        }
        if (disputed)
            fprintf(out, "  (! = disputed: sources give different figures)\n");
    }
    if (e->summary && *e->summary) {
        fprintf(out, "\n");
        s_wrapped(out, e->summary, EXCERPT_BYTES, 76, 2);
    }
}

void td_show_event_table(FILE *out, const td_event *events, size_t n)
{
    if (!n) {
        fprintf(out, "no events\n");
        return;
    }
    int wid = 2;
    for (size_t i = 0; i < n; i++) {
        int l = events[i].id ? (int)strlen(events[i].id) : 1;
        if (l > wid)
            wid = l < 40 ? l : 40;
    }
    fprintf(out, "%-*s  %-24s  %4s  %4s  %4s  %s\n", wid, "ID", "LAST SEEN", "ARTS", "SRCS",
            "IND", "TITLE");
    for (size_t i = 0; i < n; i++) {
        char t[40];
        const td_event *e = &events[i];
        const char *title = s_or(e->title, "");
        int tl = s_cut(title, 72);
        fprintf(out, "%-*s  %-24s  %4" PRIu32 "  %4" PRIu32 "  %4" PRIu32 "  %.*s%s\n", wid,
                s_or(e->id, "-"), td_isotime_format(e->last_seen, t, sizeof t), e->articles,
                e->sources, e->independent_sources, tl, title, title[tl] ? "…" : "");
    }
}

void td_show_reject_table(FILE *out, const td_reject *rejects, size_t n)
{
    if (!n) {
        fprintf(out, "no rejects\n");
        return;
    }
    fprintf(out, "%-24s  %-12s  %-40s  %s\n", "AT", "CODE", "MESSAGE", "FIRST BYTES");
    for (size_t i = 0; i < n; i++) {
        char t[40];
        const td_reject *r = &rejects[i];
        fprintf(out, "%-24s  %-12s  %-40s  ", td_isotime_format(r->at, t, sizeof t),
                s_or(r->code, "?"), s_or(r->message, ""));
        for (size_t k = 0; k < r->n_bytes && k < 24; k++)
            fprintf(out, "%02x", r->bytes[k]);
        fprintf(out, "%s\n", r->n_bytes > 24 ? "…" : "");
    }
}

static void s_bytes(char *buf, size_t size, uint64_t b)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void td_show_stats(FILE *out, const td_stats *s)
{
    char b[32];
    fprintf(out, "%-12s %" PRIu64 "\n", "articles", s->articles);
    fprintf(out, "%-12s %" PRIu64 "\n", "events", s->events);
    fprintf(out, "%-12s %" PRIu64 "\n", "stories", s->stories);
    fprintf(out, "%-12s %" PRIu64 "\n", "rejects", s->rejects);
    s_bytes(b, sizeof b, s->db_bytes);
    fprintf(out, "%-12s %s\n", "database", b);
    if (s->map_bytes) {
        s_bytes(b, sizeof b, s->map_bytes);
        fprintf(out, "%-12s %s\n", "map size", b);
    }
    fprintf(out, "%-12s %" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s\n", "uptime",
            s->uptime_s / 3600, s->uptime_s / 60 % 60, s->uptime_s % 60);
    if (s->seq)
        fprintf(out, "%-12s %" PRIu64 "\n", "last seq", s->seq);
}

void td_show_notice(FILE *out, const td_client_notice *n)
{
    char t[40];
    fprintf(out, "%-24s  #%-6" PRIu64 "  %-16s  %s", td_isotime_format(n->at, t, sizeof t),
            n->seq, s_or(n->type, "?"), s_or(n->id, "-"));
    if (n->event)
        fprintf(out, "  event=%s", n->event);
    if (n->story)
        fprintf(out, "  story=%s", n->story);
    if (n->title)
        fprintf(out, "  \"%s\"", n->title);
    fprintf(out, "\n");
}
