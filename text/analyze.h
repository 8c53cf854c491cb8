/* analyze.h — the text analysis of one article (ingest) — entry point of text/.
 *
 * Turns a raw submission into the facts a news analyst reads off it: cleaned
 * body and the boilerplate removed from it, title, language, entities, dates,
 * event date, claimed figures with their claimants, and quotes.
 */
#ifndef TD_ANALYZE_H
#define TD_ANALYZE_H

#include "arena.h"
#include "record.h"

typedef struct td_analyzer td_analyzer;

/* New analyser. `datadir` is where gazetteer data may be found (NULL: the
 * built-in default locations). Returns NULL on failure (logged).
 * An analyser is used by one thread at a time; make one per worker. */
td_analyzer *td_analyzer_new(const char *datadir);
void td_analyzer_destroy(td_analyzer **self_p);

/* Analyse `a` in place. Reads title, body, lang, source, published_at;
 * writes body (cleaned), boilerplate, title (when NULL), lang (when NULL),
 * entities, dates, event_date, claims, quotes. All new strings and arrays
 * are allocated in `arena` (the arena that holds `a`).
 * Returns 0, or -1 with `err` set (e.g. the body is empty after cleaning). */
int td_analyzer_run(td_analyzer *self, td_article *a, td_arena *arena, td_error *err);

#endif
