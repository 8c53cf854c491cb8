/* quotes.h — quoted passages and who said them (internal to the analyser;
 * the result goes into td_article.quotes). A quote is text between double
 * quotes of at least three words (shorter ones are scare quotes: a "gross
 * violation"). Its speaker is the attribution next to it: '"...," said the
 * ministry', 'X said: "..."', 'X said the country "..."'; "the ministry"
 * and "it" resolve to the speaker last named in full.
 */
#ifndef TD_QUOTES_H
#define TD_QUOTES_H

#include "arena.h"
#include "lexer.h"
#include "record.h"

#define TD_MAX_QUOTES 64

/* Quotes of `doc` into *out (arena); returns the count, -1 on a full arena. */
int td_quotes_extract(const td_doc *doc, td_arena *arena, td_quote **out);

#endif
