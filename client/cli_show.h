/* cli_show.h — records as readable, aligned text for the terminal. */
#ifndef TD_CLI_SHOW_H
#define TD_CLI_SHOW_H

#include <stdio.h>

#include "arena.h"
#include "codec.h"
#include "tidings.h"

/* A list result ({ <records>: [...], next_cursor? }) split into its elements,
 * each as its own msgpack buffer that the record decoders take. */
typedef struct {
    const void **elem;
    size_t *elem_len;
    size_t n;
    char *next_cursor;      /* NULL when absent */
} td_show_list;

/* Split `result` (allocations in `arena`). Returns 0, or -1 when the result
 * does not have that shape. */
int td_show_list_split(const void *result, size_t len, td_arena *arena, td_show_list *out);

void td_show_article(FILE *out, const td_article *a);
void td_show_event(FILE *out, const td_event *e);
void td_show_event_table(FILE *out, const td_event *events, size_t n);
void td_show_reject_table(FILE *out, const td_reject *rejects, size_t n);
void td_show_stats(FILE *out, const td_stats *s);
void td_show_notice(FILE *out, const td_client_notice *n);

#endif
