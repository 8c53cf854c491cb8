/* search_op.h — helpers shared by search_op.c and ops_views.c. */
#ifndef TD_SEARCH_OP_H
#define TD_SEARCH_OP_H

#include "ops.h"
#include "qparse.h"
#include "tokens.h"

/* The process's tokenizer (tidings-query is single-threaded); NULL when out
 * of memory. */
td_tokenizer *td_q_tokenizer(void);

/* Parse q->q (English stemming) and add the request's source/entity
 * filters. 0, or -1 after td_q_fail. */
int td_q_parse(td_qctx *ctx, const td_query *q, td_qparsed *qp);

/* Sorted live docnos of an event's articles (none for an unknown event).
 * 0, or -1 after td_q_fail. */
int td_q_event_docs(td_qctx *ctx, const char *event, uint32_t **docs, size_t *n);

/* Load the article of a docno into a hit (snippet when qp is given).
 * 0, 1 when the doc is gone, -1 after td_q_fail. */
int td_q_hit_load(td_qctx *ctx, const td_qparsed *qp, uint32_t doc, double score, td_hit *h,
                  td_article *art);

int td_q_u32_cmp(const void *a, const void *b);

#endif
