/* provenance.h — copies and rewrites: which earlier article a new one was
 * made from.
 *
 *   copy     the same normalised body (exact), or SimHash of word 3-shingles
 *            within a few bits and nearly every sentence the same
 *   trimmed  a copy with sentences cut or added (most of the shorter text's
 *            sentences appear in the other)
 *   rewrite  a paraphrase published later: a high share of its sentences
 *            overlap an earlier article's sentences in content terms and
 *            entities, or a moderate share plus a credit cue naming the
 *            earlier article's source ("Reuters reported", "(Reuters)",
 *            "according to Reuters")
 *
 * Each article's fingerprint (SimHash, token count, time, source and one
 * sorted set of hashed content terms per sentence) is kept in the `prov`
 * database with an index of exact body hashes, so detection reads only the
 * fingerprints of the articles it compares with.
 */
#ifndef TD_PROVENANCE_H
#define TD_PROVENANCE_H

#include <stdint.h>

#include "arena.h"
#include "db.h"
#include "record.h"
#include "terms.h"

#define TD_PROV_SENTENCES TD_FP_SENTENCES /* sentences fingerprinted per article */
#define TD_PROV_TERMS TD_FP_TERMS         /* content terms kept per sentence */

/* A fingerprint's terms by hash (provenance.c): built once for the new
 * article, it serves all its comparisons. */
typedef struct td_prov_tab td_prov_tab;

typedef struct {
    uint64_t simhash;
    uint32_t ntok;            /* word tokens */
    int64_t t;                /* published_at */
    char *source;             /* lower-cased, may be NULL */
    uint32_t n_sent;
    uint8_t *sent_n;          /* terms of each sentence */
    uint32_t (*sent)[TD_PROV_TERMS]; /* sorted term hashes of each sentence */
    const td_prov_tab *tab;   /* td_prov_tab_build of this fingerprint, or NULL */
} td_fprint;

/* The verdict of comparing a new article with an earlier one. */
typedef struct {
    const char *kind;         /* "copy" | "trimmed" | "rewrite" | NULL (none) */
    double overlap;           /* mean best sentence overlap (Dice) of the new one */
    double same;              /* share of the new one's sentences found verbatim */
    int hamming;              /* SimHash distance */
    bool credit;              /* the new one credits the earlier one's source (looked for
                               * only when the overlap could make a rewrite) */
    bool need_body;           /* compared without the body, and the verdict needs it */
} td_prov_match;

/* Fingerprint of an analysed article (arena memory) from its tokens'
 * body fingerprint (`terms`: built or loaded for a). 0, or -1 when out of
 * memory. */
int td_prov_fingerprint(const td_article *a, const td_terms *terms, td_arena *arena,
                        td_fprint *out);

/* Store the fingerprint of article `id` and its body hash. */
td_db_rc td_prov_put(td_txn *txn, const char *id, uint64_t body_hash, const td_fprint *fp);
/* The fingerprint of `id` (TD_DB_NOTFOUND when none). */
td_db_rc td_prov_get(td_txn *txn, const char *id, td_arena *arena, td_fprint *out);
/* The first article stored with this body hash (id in arena). */
td_db_rc td_prov_exact(td_txn *txn, uint64_t body_hash, td_arena *arena, char **id);
/* Make `id` the article a body hash leads to (an earlier original that
 * arrived after its copy). */
td_db_rc td_prov_exact_set(td_txn *txn, uint64_t body_hash, const char *id);

/* A table for td_prov_tab_build (about 22 KiB; NULL when out of memory). */
td_prov_tab *td_prov_tab_new(void);
void td_prov_tab_destroy(td_prov_tab **self_p);
/* Fill `tab` from `f` and set f->tab: td_prov_compare then reads f's terms
 * from it instead of building a table per comparison. `tab` must not be
 * rebuilt while f is compared. */
void td_prov_tab_build(td_prov_tab *tab, td_fprint *f);

/* Compare the new article (fingerprint `nw`, cleaned body `body`) with an
 * earlier one `old`; fills *m (kind NULL when it is not derived from it).
 * `body` may be NULL: the body is read only for the credit cue of a
 * rewrite, and when that is needed the match says so (need_body) instead
 * of a verdict. A caller that must decode a stored record to have the body
 * compares without it first: most comparisons end before the cue. */
void td_prov_compare(const td_fprint *nw, const char *body, const td_fprint *old,
                     td_prov_match *m);

#endif
