/* entities.h — people, organisations, places and countries of a text
 * (internal to the analyser; the result goes into td_article.entities).
 *
 * Capitalised word runs are candidates. Cues decide the kind: a gazetteer hit
 * (countries, demonyms, subdivisions, cities), a title or role before the
 * name ("Prime Minister", "spokesman"), an organisation suffix ("Ministry",
 * "Council"), a place cue ("near the village of X", "X province", "part of
 * X"), attribution ("X said"). Demonyms and possessives count as mentions of
 * their country; later surname-only mentions merge into the full name.
 */
#ifndef TD_ENTITIES_H
#define TD_ENTITIES_H

#include "arena.h"
#include "gazetteer.h"
#include "lang.h"
#include "lexer.h"
#include "record.h"

#define TD_MAX_ENTITIES 256

/* Entities of `doc`, most mentioned first, into *out (arena); returns the
 * count, or -1 when the arena is full. `gz` may be NULL (no gazetteer). */
int td_entities_extract(const td_doc *doc, const td_gazetteer *gz, td_lang lang,
                        td_arena *arena, td_entity **out);

#endif
