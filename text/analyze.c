/* analyze.c — the analysis of one article: runs the steps of text/ in
 * order; see analyze.h. */
#include "analyze.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boilerplate.h"
#include "claims.h"
#include "dates.h"
#include "entities.h"
#include "gazetteer.h"
#include "lang.h"
#include "lexer.h"
#include "log.h"
#include "normalize.h"
#include "quotes.h"
#include "title.h"

/* Text beyond this many bytes is kept in the body but not analysed: no news
 * article is this long, and it bounds the time spent on hostile input. */
#define ANALYZE_MAX_BYTES (512u * 1024u)

/* The gazetteer (tens of milliseconds to build, a few MiB) and the
 * per-source boilerplate statistics are shared by every analyser of the
 * process: built by the first td_analyzer_new, freed by the last destroy. */
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static td_gazetteer *s_gz;
static td_boiler *s_boiler;
static int s_refs;

struct td_analyzer {
    const td_gazetteer *gz;
    td_boiler *boiler;
};

td_analyzer *td_analyzer_new(const char *datadir)
{
    td_analyzer *self = calloc(1, sizeof *self);
    if (!self) {
        td_error("out of memory");
        return NULL;
    }
    pthread_mutex_lock(&s_mu);
    if (s_refs == 0) {
        s_gz = td_gazetteer_new(datadir ? datadir : TD_DATADIR);
        s_boiler = td_boiler_new();
        if (!s_gz || !s_boiler) {
            td_gazetteer_destroy(&s_gz);
            td_boiler_destroy(&s_boiler);
            pthread_mutex_unlock(&s_mu);
            free(self);
            td_error("out of memory building the gazetteer");
            return NULL;
        }
    }
    s_refs++;
    self->gz = s_gz;
    self->boiler = s_boiler;
    pthread_mutex_unlock(&s_mu);
    return self;
}

void td_analyzer_destroy(td_analyzer **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_lock(&s_mu);
    if (--s_refs == 0) {
        td_gazetteer_destroy(&s_gz);
        td_boiler_destroy(&s_boiler);
    }
    pthread_mutex_unlock(&s_mu);
    free(*self_p);
    *self_p = NULL;
}

static int s_fail(td_error *err, const char *code, const char *msg)
{
    if (err) {
        err->code = code;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return -1;
}

#define OOM(err) s_fail(err, TD_E_INTERNAL, "analysis ran out of arena memory")

/* Dates as the wire shows them: text as written and the resolved date, each
 * distinct pair once. */
static int s_dates_out(td_article *a, const td_doc *doc, const td_dates *dates, td_arena *arena)
{
    a->dates = td_arena_alloc(arena, (dates->n ? dates->n : 1) * sizeof *a->dates);
    if (!a->dates)
        return -1;
    a->n_dates = 0;
    for (uint32_t k = 0; k < dates->n; k++) {
        const td_datem *m = &dates->m[k];
        uint32_t s = doc->w[m->w0].s, e = doc->w[m->w1 - 1].e;
        char *text = td_arena_strndup(arena, doc->text + s, e - s);
        char *date = td_date_format(arena, m->y, m->m, m->d, m->prec);
        if (!text || !date)
            return -1;
        bool dup = false;
        for (size_t j = 0; j < a->n_dates && !dup; j++)
            dup = !strcmp(a->dates[j].text, text) && !strcmp(a->dates[j].date, date);
        if (!dup)
            a->dates[a->n_dates++] = (td_date){text, date};
    }
    return 0;
}

/* A speaker named by surname only ("Rask said") is shown with the full name
 * the article gave earlier ("Tomas Rask"). */
static char *s_full_name(const td_article *a, char *name)
{
    if (!name || strchr(name, ' '))
        return name;
    size_t n = strlen(name);
    for (size_t i = 0; i < a->n_entities; i++) {
        const td_entity *e = &a->entities[i];
        size_t m = strlen(e->name);
        if (e->kind == TD_ENT_PERSON && m > n + 1 && e->name[m - n - 1] == ' ' &&
            strcmp(e->name + m - n, name) == 0)
            return e->name;
    }
    return name;
}

int td_analyzer_run(td_analyzer *self, td_article *a, td_arena *arena, td_error *err)
{
    if (!self || !a || !arena)
        return s_fail(err, TD_E_INTERNAL, "analyser called without an article");
    if (!a->body || !a->body[0])
        return s_fail(err, TD_E_BAD_REQUEST, "body is empty");

    /* 1. clean: UTF-8, NFC, punctuation, spaces */
    size_t len;
    char *text = td_normalize_text(arena, a->body, strlen(a->body), &len);
    if (!text)
        return OOM(err);
    if (a->title) {
        size_t tl;
        char *t = td_normalize_text(arena, a->title, strlen(a->title), &tl);
        if (!t)
            return OOM(err);
        for (size_t i = 0; i < tl; i++)
            if (t[i] == '\n')
                t[i] = ' ';
        a->title = tl ? t : NULL;
    }

    /* 2. boilerplate */
    td_boiler_result br;
    if (td_boiler_strip(self->boiler, arena, a->source, text, len, &br) < 0)
        return OOM(err);
    text = br.text;
    len = br.len;
    a->boilerplate = br.removed;
    a->n_boilerplate = br.n_removed;

    /* 3. a headline line becomes the title; a repeated title leaves the body */
    size_t hl;
    if (a->title ? td_title_repeats(a->title, text, len, &hl) : td_title_headline(text, len, &hl)) {
        if (!a->title) {
            a->title = td_arena_strndup(arena, text, hl);
            if (!a->title)
                return OOM(err);
        }
        size_t skip = hl;
        while (skip < len && text[skip] == '\n')
            skip++;
        text += skip;
        len -= skip;
    }
    if (len == 0)
        return s_fail(err, TD_E_BAD_REQUEST, "body is empty after cleaning");
    a->body = text;

    /* 4. language */
    td_lang lang = td_lang_parse(a->lang);
    if (lang == TD_LANG_NONE) {
        lang = td_lang_detect(text, len);
        if (!a->lang || !a->lang[0])
            a->lang = (char *)td_lang_code(lang);
    }

    /* 5. words and sentences of the analysed part */
    size_t alen = len;
    if (alen > ANALYZE_MAX_BYTES) {
        alen = ANALYZE_MAX_BYTES;
        while (alen > 0 && ((unsigned char)text[alen] & 0xC0) == 0x80)
            alen--;
    }
    td_doc doc;
    if (td_doc_lex(&doc, arena, text, alen) < 0)
        return OOM(err);

    /* 6. entities, dates, event date, claims, quotes */
    int n = td_entities_extract(&doc, self->gz, lang, arena, &a->entities);
    if (n < 0)
        return OOM(err);
    a->n_entities = (size_t)n;

    td_dates dates;
    if (td_dates_find(&doc, a->published_at, arena, &dates) < 0)
        return OOM(err);
    if (s_dates_out(a, &doc, &dates, arena) < 0)
        return OOM(err);
    int ey = 0, em = 0, ed = 0;
    a->event_date = NULL;
    if (td_dates_event(&doc, &dates, &ey, &em, &ed)) {
        a->event_date = td_date_format(arena, ey, em, ed, TD_PREC_DAY);
        if (!a->event_date)
            return OOM(err);
    }

    n = td_claims_extract(&doc, &dates, self->gz, ey, em, ed, arena, &a->claims);
    if (n < 0)
        return OOM(err);
    a->n_claims = (size_t)n;

    n = td_quotes_extract(&doc, arena, &a->quotes);
    if (n < 0)
        return OOM(err);
    a->n_quotes = (size_t)n;

    for (size_t i = 0; i < a->n_claims; i++)
        a->claims[i].claimant = s_full_name(a, a->claims[i].claimant);
    for (size_t i = 0; i < a->n_quotes; i++)
        a->quotes[i].speaker = s_full_name(a, a->quotes[i].speaker);

    /* 7. no title given nor found: the lead sentence */
    if (!a->title) {
        a->title = td_title_lead(&doc, arena);
        if (!a->title)
            a->title = td_arena_strndup(arena, text, len < 200 ? len : 200);
        if (!a->title)
            return OOM(err);
    }
    return 0;
}
