/* title.h — the title of an article without one (internal to the analyser).
 * A first line that looks like a headline (short, no final full stop, title
 * case or set apart by a blank line) becomes the title and leaves the body;
 * otherwise the lead sentence stands in (and stays in the body).
 */
#ifndef TD_TITLE_H
#define TD_TITLE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "lexer.h"

/* Whether the first line of `body` is a headline; on true *line_len is its
 * length (the body's remainder starts after the line and blank lines). */
bool td_title_headline(const char *body, size_t len, size_t *line_len);

/* Whether the first line of `body` repeats `title` (case, spaces and
 * punctuation ignored); on true *line_len is its length. */
bool td_title_repeats(const char *title, const char *body, size_t len, size_t *line_len);

/* The lead sentence as a title: the first sentence that is not a heading,
 * cut at a word boundary to at most 200 bytes. NULL when there is none. */
char *td_title_lead(const td_doc *doc, td_arena *arena);

#endif
