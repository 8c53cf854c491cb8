/* claims.h — claimed figures: who says how many people were killed,
 * wounded, detained ... (internal to the analyser; the result goes into
 * td_article.claims).
 *
 * A figure is a count (digits, "6,500", number words "one", "four", "an",
 * "two dozen", "another") next to a casualty word: before it with a counted
 * noun phrase ("four Armenian soldiers were wounded", "one killed"), or
 * after a casualty verb ("killed one Azerbaijani soldier", "claimed 6,500
 * lives"). The subject is the counted noun phrase ("its soldiers" becomes
 * the claimant's demonym: "Armenian soldiers"). The claimant comes from the
 * attribution of the sentence: "X said ...", "according to X", "..., X
 * said", a quote followed by "said the ministry" ("the ministry" and "it"
 * resolve to the last speaker named so). Figures in a sentence dated well
 * before the event date, or about a war, or following such a sentence, are
 * marked background with that date.
 */
#ifndef TD_CLAIMS_H
#define TD_CLAIMS_H

#include "arena.h"
#include "dates.h"
#include "gazetteer.h"
#include "lexer.h"
#include "record.h"

#define TD_MAX_CLAIMS 64

/* Claims of `doc` into *out (arena); returns the count, -1 on a full arena.
 * `ey/em/ed` is the event date (ey = 0 when unknown). */
int td_claims_extract(const td_doc *doc, const td_dates *dates, const td_gazetteer *gz,
                      int ey, int em, int ed, td_arena *arena, td_claim **out);

/* The speaker of sentence `s`: the subject of its attribution verb
 * ("Armenia's defence ministry said"), "according to X", or "said X"; the
 * word range goes to [*a, *b). Returns false when there is none. Shared
 * with quotes.c. `from`/`to` limit the words searched. */
bool td_claims_sayer(const td_doc *doc, uint32_t s, uint32_t from, uint32_t to,
                     uint32_t *a, uint32_t *b);

#endif
