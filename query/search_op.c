/* search_op.c — the `search` op: parse, evaluate, page, pack; see search.h. */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "index_read.h"
#include "lang.h"
#include "log.h"
#include "search.h"
#include "search_op.h"

#define SNIPPET_WORDS 30

td_tokenizer *td_q_tokenizer(void)
{
    /* one per process: tidings-query answers one request at a time */
    static td_tokenizer *tk;
    if (!tk)
        tk = td_tokenizer_new();
    return tk;
}

int td_q_event_docs(td_qctx *ctx, const char *event, uint32_t **docs, size_t *n)
{
    *docs = NULL;
    *n = 0;
    td_val raw;
    td_db_rc rc = td_db_event_get(ctx->txn, event, &raw);
    if (rc == TD_DB_NOTFOUND || rc == TD_DB_BADVAL)
        return 0;
    if (rc)
        return td_q_fail(ctx, TD_E_INTERNAL, "%s", td_db_strerror(rc));
    td_event e;
    td_error err;
    if (td_event_decode(raw.data, raw.len, ctx->arena, &e, &err) != 0)
        return td_q_fail(ctx, TD_E_INTERNAL, "event does not decode: %s", err.message);
    /* all the event's articles (the record embeds only the first ones) */
    if (e.articles > e.n_article_ids &&
        td_assign_event_articles(ctx->txn, &e, ctx->arena, &e.article_ids,
                                 &e.n_article_ids) != TD_DB_OK)
        return td_q_fail(ctx, TD_E_INTERNAL, "reading the event's articles");
    uint32_t *v = td_arena_alloc(ctx->arena, (e.n_article_ids + 1) * sizeof *v);
    if (!v)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < e.n_article_ids; i++)
        if (td_ix_docno(ctx->txn, e.article_ids[i], &v[k]) == TD_DB_OK)
            k++;
    qsort(v, k, sizeof *v, td_q_u32_cmp);
    *docs = v;
    *n = k;
    return 0;
}

int td_q_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int td_q_hit_load(td_qctx *ctx, const td_qparsed *qp, uint32_t doc, double score, td_hit *h,
                  td_article *art)
{
    td_ix_doc d;
    td_val raw;
    td_error err;
    memset(h, 0, sizeof *h);
    if (td_ix_doc_get(ctx->txn, doc, &d) != TD_DB_OK)
        return 1;
    char *id = td_arena_strndup(ctx->arena, d.id, d.idlen);
    if (!id)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    if (td_db_article_get(ctx->txn, id, &raw) != TD_DB_OK ||
        td_article_decode(raw.data, raw.len, ctx->arena, art, &err) != 0)
        return 1;
    h->id = art->id;
    h->score = score;
    h->title = art->title;
    h->source = art->source;
    h->published_at = art->published_at;
    h->event = art->event;
    h->snippet = qp ? td_search_snippet(td_q_tokenizer(), art->body, art->lang, qp,
                                        SNIPPET_WORDS, ctx->arena)
                    : NULL;
    return 0;
}

int td_q_parse(td_qctx *ctx, const td_query *q, td_qparsed *qp)
{
    td_tokenizer *tk = td_q_tokenizer();
    if (!tk)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    const char *text = q->q ? q->q : "";
    /* the query's words are stemmed as the articles of its language were
     * (documents are stemmed in their own language); English by default */
    const char *lang = q->lang && *q->lang ? q->lang : "en";
    if (td_lang_parse(lang) == TD_LANG_NONE)
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "unknown 'lang' (an ISO 639-1 code such as \"fr\")");
    if (td_qparse(text, strlen(text), tk, lang, ctx->arena, qp) != 0)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    /* request fields are filters like the source:/entity: items */
    if (q->source && *q->source && qp->n_sources < TD_QP_MAX_CLAUSES)
        qp->sources[qp->n_sources++] = q->source;
    if (q->entity && *q->entity && qp->n_entities < TD_QP_MAX_CLAUSES)
        qp->entities[qp->n_entities++] = q->entity;
    return 0;
}

int td_op_search_ranked(td_qctx *ctx, const td_query *q)
{
    if (!q->q || !*q->q)
        return td_q_fail(ctx, TD_E_BAD_REQUEST, "'q' is required");
    td_qparsed qp;
    if (td_q_parse(ctx, q, &qp) != 0)
        return -1;
    td_search_opts o = {.since = q->since, .until = q->until, .k = q->limit, .par = ctx->par};
    td_search_stats st;
    if (q->cursor) {
        unsigned char buf[512];
        size_t n = td_q_cursor_decode(q->cursor, buf, sizeof buf);
        if (!n || td_search_cursor_unpack(buf, n, &st, &o.after_score, &o.after_doc) != 0)
            return td_q_fail(ctx, TD_E_BAD_REQUEST, "malformed cursor");
        o.after = o.pinned = true;
    }
    if (q->event && *q->event) {
        uint32_t *docs;
        size_t n;
        if (td_q_event_docs(ctx, q->event, &docs, &n) != 0)
            return -1;
        o.only = docs;
        o.n_only = n;
        if (!n)
            o.only = (uint32_t[]){0};   /* unknown event: nothing matches */
    }
    td_search_res res;
    if (td_search_exec(ctx->txn, ctx->arena, &qp, &o, &st, &res) != 0)
        return td_q_fail(ctx, TD_E_INTERNAL, "search failed");
    td_hit *hits = td_arena_alloc(ctx->arena, (res.n + 1) * sizeof *hits);
    if (!hits)
        return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    size_t nh = 0;
    for (size_t i = 0; i < res.n; i++) {
        td_article a;
        int r = td_q_hit_load(ctx, &qp, res.hits[i].doc, res.hits[i].score, &hits[nh], &a);
        if (r < 0)
            return -1;
        if (r == 0)
            nh++;
    }
    char *next = NULL;
    if (res.more && res.n) {
        unsigned char buf[512];
        size_t n = td_search_cursor_pack(&st, res.hits[res.n - 1].score,
                                         res.hits[res.n - 1].doc, buf, sizeof buf);
        if (!n || !(next = td_q_cursor_encode(ctx->arena, buf, n)))
            return td_q_fail(ctx, TD_E_INTERNAL, "out of memory");
    }
    uint64_t total = res.total;
    if (td_reply_ok_begin(ctx->pk) ||
        td_search_result_begin(ctx->pk, nh, total, res.exact, next != NULL))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    for (size_t i = 0; i < nh; i++)
        if (td_hit_pack(ctx->pk, &hits[i]))
            return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    if (td_list_end(ctx->pk, next))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}
