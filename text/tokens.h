/* tokens.h — terms of a text for the search index, clustering and queries.
 *
 * The one tokeniser of tidings: ingest (documents), the store (event terms,
 * index) and the query daemon (query strings) all call it, so a query term
 * and an indexed term of the same word are always the same bytes.
 *
 * A token is a run of letters and digits (marks included). Inside a word an
 * apostrophe is kept for English ("armenia's", stemmed to "armenia") and
 * splits off elided articles in French, Italian and Catalan ("l'armée" gives
 * "armée"); hyphens and other punctuation separate tokens. Numbers keep their
 * digits with the separators dropped ("6,500" -> "6500"). Chinese and Japanese
 * text gives one token per ideograph or kana. Each token carries:
 *   norm  the NFKC, case-folded form ("Straße" -> "strasse")
 *   stem  the Snowball stem of norm in the text's language (libstemmer), or
 *         norm itself when Snowball has no stemmer for it, for numbers and
 *         CJK characters
 *   stop  whether norm is a stop word of the language (lang.h)
 *   norm_hash, stem_hash  XXH3 of norm and stem, remembered per distinct
 *         word with the rest, for callers that hash terms (terms.c)
 *   start/end  byte offsets of the token in the input
 * Tokens longer than TD_TOKEN_MAX bytes are cut to that length.
 *
 * Usage:
 *     td_tokenizer *tk = td_tokenizer_new();
 *     td_tokenizer_begin(tk, text, len, "en");
 *     td_token t;
 *     while (td_tokenizer_next(tk, &t))
 *         if (!t.stop) index_add(t.stem, t.stem_len);
 *     td_tokenizer_destroy(&tk);
 *
 * A tokenizer is used by one thread at a time (make one per worker). The
 * hot path allocates nothing: norm and stem point into the tokenizer and stay
 * valid until the next call to td_tokenizer_next or td_tokenizer_begin;
 * copy them to keep them. Stemmers are created once per language, on first
 * use, and kept.
 */
#ifndef TD_TOKENS_H
#define TD_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lang.h"

#define TD_TOKEN_MAX 64 /* bytes of a token's norm (longer ones are cut) */

typedef enum {
    TD_TOK_WORD = 1,   /* letters (possibly with digits) */
    TD_TOK_NUMBER = 2, /* digits only */
    TD_TOK_CJK = 3,    /* one ideograph or kana */
} td_token_kind;

typedef struct {
    uint32_t start, end; /* byte offsets of the token in the input text */
    const char *norm;    /* folded form, NUL-terminated */
    uint32_t norm_len;
    const char *stem;    /* stem, NUL-terminated */
    uint32_t stem_len;
    td_token_kind kind;
    bool stop;           /* stop word of the language */
    uint64_t norm_hash;  /* XXH3_64bits(norm, norm_len) */
    uint32_t stem_hash;  /* (uint32_t)XXH3_64bits(stem, stem_len) */
} td_token;

typedef struct td_tokenizer td_tokenizer;

/* New tokenizer; NULL when out of memory. */
td_tokenizer *td_tokenizer_new(void);

/* Free the tokenizer and its stemmers; sets *self_p to NULL; NULL-safe. */
void td_tokenizer_destroy(td_tokenizer **self_p);

/* Start on `len` bytes of UTF-8 `text` (borrowed: it must stay valid while
 * tokens are read). `lang` is an ISO 639-1 code; NULL or unknown: detected
 * from the text (td_lang_detect). Invalid UTF-8 is skipped, never read past
 * `len`. */
void td_tokenizer_begin(td_tokenizer *self, const char *text, size_t len, const char *lang);

/* Same with a language already known (TD_LANG_NONE: detect). */
void td_tokenizer_begin_lang(td_tokenizer *self, const char *text, size_t len, td_lang lang);

/* The language being used since the last begin. */
td_lang td_tokenizer_lang(const td_tokenizer *self);

/* Next token into *tok: true, or false at the end of the text. */
bool td_tokenizer_next(td_tokenizer *self, td_token *tok);

/* Stem one already folded word with the stemmer of `lang`; returns a pointer
 * valid until the next call on this tokenizer and its length in *out_len.
 * Without a stemmer for `lang`, returns `word` itself. */
const char *td_tokenizer_stem(td_tokenizer *self, td_lang lang, const char *word,
                              size_t len, size_t *out_len);

#endif
