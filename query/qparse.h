/* qparse.h — the search query language (docs/search.md).
 *
 *   lachin corridor        terms: all must match (AND)
 *   sotk OR kalbajar       either (OR binds the neighbouring items)
 *   -kalbajar  -"a b"      must not match
 *   "gross violation"      phrase: consecutive terms (stop words keep gaps)
 *   source:Reuters  entity:"Antony Blinken"   filters (any one of each kind)
 *
 * Words are analysed with text/tokens.h exactly like documents (fold, stem,
 * stop words), so "Soldiers" finds "soldier". A word the tokenizer splits
 * ("Sotk-Kalbajar") becomes a phrase. Everything is bounded: at most
 * TD_QP_MAX_CLAUSES items and TD_QP_MAX_TERMS stems; the rest is ignored
 * (out->truncated). Never fails on any input bytes.
 */
#ifndef TD_QPARSE_H
#define TD_QPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "tokens.h"

#define TD_QP_MAX_CLAUSES 32
#define TD_QP_MAX_TERMS 48
#define TD_QP_MAX_PHRASE 16

/* A term (n == 1) or a phrase: stems with their offsets from the first. */
typedef struct {
    char **stems;
    uint32_t *offs;
    size_t n;
} td_qphrase;

/* Alternatives joined by OR (n_alts == 1 for a plain item). */
typedef struct {
    td_qphrase *alts;
    size_t n_alts;
} td_qclause;

typedef struct {
    td_qclause *must;
    size_t n_must;
    td_qphrase *nots;
    size_t n_nots;
    char **sources;          /* as written */
    size_t n_sources;
    char **entities;
    size_t n_entities;
    size_t n_stems;          /* stems kept, over all clauses */
    bool truncated;          /* some items were dropped by the limits */
} td_qparsed;

/* Parse `len` bytes of `q` (need not be NUL-terminated or valid UTF-8).
 * `lang` is the ISO code used to stem (NULL: "en"). Everything goes to
 * `arena`. Returns 0, or -1 when out of memory. */
int td_qparse(const char *q, size_t len, td_tokenizer *tk, const char *lang, td_arena *arena,
              td_qparsed *out);

#endif
