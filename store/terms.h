/* terms.h — one article's tokens, computed once per article in the store's
 * writer and read by the clustering vectors (cluster.c) and the search
 * index (index.c), which used to tokenise and stem the same title and body
 * each on its own (tokenising and stemming were ~24 % of the writer's CPU).
 *
 * Each field is tokenised exactly as those consumers did themselves
 * (td_tokenizer_begin with the article's language; a missing language is
 * detected per field), so what they derive is unchanged. Buffers are owned
 * by the td_terms and reused: the tokens stay valid until the next
 * td_terms_build.
 */
#ifndef TD_TERMS_H
#define TD_TERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *norm;   /* folded form, NUL-terminated */
    const char *stem;   /* stem, NUL-terminated */
    uint32_t norm_len, stem_len;
    bool stop;          /* stop word of the language */
} td_term;

typedef enum { TD_TERMS_TITLE = 0, TD_TERMS_BODY = 1 } td_terms_field;

typedef struct td_terms td_terms;

/* New empty list; NULL when out of memory. */
td_terms *td_terms_new(void);
void td_terms_destroy(td_terms **self_p);

/* Tokenise `title` and `body` (either may be NULL) in language `lang` (a
 * code; NULL = detect). Returns 0, -1 when out of memory. */
int td_terms_build(td_terms *self, const char *title, const char *body, const char *lang);

/* The tokens of a field, in text order; *n gets their count. */
const td_term *td_terms_get(const td_terms *self, td_terms_field f, size_t *n);

#endif
