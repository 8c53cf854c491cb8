/* input.h — articles from files: JSON Lines submissions and plain text.
 *
 * Everything an article points to is allocated in the given arena. */
#ifndef TD_INPUT_H
#define TD_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "tidings.h"

/* Parse one JSON Lines line: an object with the submission fields of
 * PROTOCOL.md (type, id, url, source, title, body, published_at as integer
 * ms or an ISO-8601 string, lang, meta of strings); unknown keys are ignored.
 * Returns 1 with `out` filled, 0 for a blank line (nothing to send), or -1
 * with a one-line reason in `err` (not JSON, wrong type, no body, ...). */
int td_input_jsonl(td_arena *arena, const char *line, size_t len, td_client_article *out,
                   char *err, size_t errlen);

/* Make an article from the text of a plain-text file: the first non-blank
 * line becomes the title when it looks like a headline, the rest the body.
 * `source` and `published_at` are set as given. Returns 0, or -1 with a
 * reason in `err` (not UTF-8, nothing but blank lines). */
int td_input_plain(td_arena *arena, const char *text, size_t len, const char *source,
                   int64_t published_at, td_client_article *out, char *err, size_t errlen);

/* True when a line looks like a headline: short (at most 200 bytes and 25
 * words), not ending in a full stop, and mostly in Title Case. */
bool td_input_is_headline(const char *line, size_t len);

#endif
