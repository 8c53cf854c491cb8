/* terms.h — one article's tokens and body fingerprint, computed once.
 *
 * The store's writer needs an article's tokens for the clustering vectors
 * (cluster_vec.c) and the search index (index.c), and a sentence fingerprint of
 * its body for copy and rewrite detection (provenance.c). Tokenising,
 * stemming and fingerprinting are pure functions of the text, so the ingest
 * workers — N threads, off the store's single writer — compute them
 * (td_terms_build), ship them on the internal link (td_terms_export into
 * td_store_msg.terms), and the store only reads them back (td_terms_load).
 * A message without terms (or of another TD_TERMS_VERSION) is tokenised by
 * the store itself, with the same function, so the result never depends on
 * who computed it.
 *
 * Each field is tokenised with td_tokenizer_begin and the article's
 * language (a missing language is detected per field); the fingerprint
 * tokenises the body sentence by sentence (language detected per sentence
 * when missing). Buffers are owned by the td_terms and reused: everything
 * stays valid until the next build or load.
 */
#ifndef TD_TERMS_H
#define TD_TERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "record.h"

/* Bump when tokenising, stemming, stop words or the fingerprint change: a
 * store then tokenises itself rather than trust an older ingest's terms. */
#define TD_TERMS_VERSION 1

#define TD_FP_SENTENCES 80 /* sentences fingerprinted per article */
#define TD_FP_TERMS 24     /* content terms kept per sentence */

typedef struct {
    const char *norm;   /* folded form, NUL-terminated */
    const char *stem;   /* stem, NUL-terminated */
    uint32_t norm_len, stem_len;
    bool stop;          /* stop word of the language */
    uint32_t word;      /* its word's number, < td_terms_words(): tokens of
                           one word (norm, stem and stop alike) share it, so
                           a caller can work per word rather than per token */
} td_term;

/* The body's fingerprint for copy and rewrite detection: SimHash over word
 * 3-shingles, the word count, and per sentence (of >= 3 content terms) the
 * sorted 32-bit hashes of its first TD_FP_TERMS distinct content stems. */
typedef struct {
    uint64_t simhash;
    uint32_t ntok;
    uint32_t n_sent;
    uint8_t sent_n[TD_FP_SENTENCES];
    uint32_t sent[TD_FP_SENTENCES][TD_FP_TERMS];
} td_body_print;

typedef enum { TD_TERMS_TITLE = 0, TD_TERMS_BODY = 1 } td_terms_field;

typedef struct td_terms td_terms;

/* New empty list; NULL when out of memory. */
td_terms *td_terms_new(void);
void td_terms_destroy(td_terms **self_p);

/* Tokenise `title` and `body` (either may be NULL) in language `lang` (a
 * code; NULL = detect) and fingerprint the body. 0, -1 when out of memory. */
int td_terms_build(td_terms *self, const char *title, const char *body, const char *lang);

/* The tokens of a field, in text order; *n gets their count. */
const td_term *td_terms_get(const td_terms *self, td_terms_field f, size_t *n);

/* The number of distinct words of the tokens (td_term.word is below it). */
size_t td_terms_words(const td_terms *self);

/* The body's fingerprint. */
const td_body_print *td_terms_print(const td_terms *self);

/* The wire form of what was built (arena memory: distinct words once, each
 * field as word numbers). 0, -1 when out of memory. */
int td_terms_export(const td_terms *self, td_arena *arena, td_terms_wire *out);

/* Take tokens and fingerprint from a decoded wire form (the codec checked
 * its structure). Returns 0, or -1 when it is of another TD_TERMS_VERSION,
 * inconsistent or memory runs out: then build them instead. */
int td_terms_load(td_terms *self, const td_terms_wire *w);

#endif
