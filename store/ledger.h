/* ledger.h — the claims ledger of an event: each distinct figure (kind,
 * count, subject side) with every claimant and article that states it.
 *
 * Subjects are merged by their side: the country their demonym, country or
 * city names ("Azerbaijani soldier", "Azerbaijani soldiers" and "soldiers of
 * Azerbaijan" are one subject), else by their lower-cased words without
 * plural s. An entry is disputed when another entry gives a different count
 * of the same kind for the same subject, or when two sides make claims
 * about each other's or their own losses (each side tells its own story:
 * the figures are contested, not confirmed). An article derived from another
 * (copy, rewrite) adds no confirmation: it only adds figures nobody stated
 * before.
 */
#ifndef TD_LEDGER_H
#define TD_LEDGER_H

#include <stdbool.h>

#include "arena.h"
#include "record.h"

/* Bounds that keep an event record small however many articles it has:
 * entries beyond TD_LEDGER_ENTRIES are not added, and each entry lists at
 * most TD_LEDGER_IDS articles and claimants (the first ones). */
#define TD_LEDGER_ENTRIES 64
#define TD_LEDGER_IDS 32

typedef struct td_ledger td_ledger;

/* New ledger helper (builds the gazetteer); NULL when out of memory. */
td_ledger *td_ledger_new(void);
void td_ledger_destroy(td_ledger **self_p);

/* The side (canonical country name) a phrase speaks for, or NULL. */
const char *td_ledger_side(const td_ledger *self, const char *phrase);

/* Add the foreground claims of `a` to e->claims (arrays re-made in `arena`)
 * and recompute `disputed`. Returns 0, -1 when out of arena memory. */
int td_ledger_add(const td_ledger *self, td_event *e, const td_article *a, bool derived,
                  td_arena *arena);

/* The articles `ids` (n of them) were found to be copies or rewrites of
 * another article of the event after they joined it (a late source,
 * store/assign.c): they confirm nothing now. Each leaves the entries that
 * another article also states; an entry only they state stays theirs
 * (they were the first to state it, as a derived article's new figure is
 * kept). Claimants stay: the claimant of a copy is its source's. Disputes
 * are unchanged (no entry goes). */
void td_ledger_unconfirm(td_event *e, const char *const *ids, size_t n);

/* Fold the ledger of `other` (an event merged into `e`) into e->claims and
 * recompute `disputed`. Returns 0, -1 when out of arena memory. */
int td_ledger_merge(const td_ledger *self, td_event *e, const td_event *other, td_arena *arena);

#endif
