/* provenance.c — fingerprints, copies and rewrites; see provenance.h. */
#define _GNU_SOURCE /* strcasestr */
#include "provenance.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "log.h"

#define FP_FORMAT 1
#define NEAR_BITS 3          /* SimHash distance of a near copy */
#define COPY_SAME 0.9        /* share of verbatim sentences of a copy */
#define TRIM_SAME 0.8        /* ... of a trimmed copy (of the shorter text) */
#define REWRITE_ALONE 0.5    /* mean sentence overlap of a rewrite without credit */
#define REWRITE_CREDIT 0.3   /* ... with a credit cue naming the earlier source */
#define SAME_DICE 0.9        /* a sentence counts as verbatim at this overlap */

/* The fingerprint itself is computed with the tokens (text/terms.h), in
 * the ingest workers; this copies it into the arena form compared here. */
int td_prov_fingerprint(const td_article *a, const td_terms *terms, td_arena *arena,
                        td_fprint *out)
{
    memset(out, 0, sizeof *out);
    out->t = a->published_at;
    if (a->source) {
        out->source = td_arena_strdup(arena, a->source);
        if (!out->source)
            return -1;
        for (char *c = out->source; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    }
    const td_body_print *bp = td_terms_print(terms);
    out->sent_n = td_arena_alloc(arena, TD_PROV_SENTENCES);
    out->sent = td_arena_alloc(arena, TD_PROV_SENTENCES * sizeof *out->sent);
    if (!out->sent_n || !out->sent)
        return -1;
    out->simhash = bp->simhash;
    out->ntok = bp->ntok;
    out->n_sent = bp->n_sent;
    memcpy(out->sent_n, bp->sent_n, bp->n_sent);
    for (uint32_t i = 0; i < bp->n_sent; i++)
        memcpy(out->sent[i], bp->sent[i], bp->sent_n[i] * sizeof **out->sent);
    return 0;
}

/* ---- storage (machine-local byte order: the store's own cache) --------- */

/* 'h' + big-endian body hash: the key of an exact-copy lookup. */
static void s_hash_key(uint64_t body_hash, unsigned char hk[9])
{
    hk[0] = 'h';
    td_db_u64_put(hk + 1, body_hash);
}

td_db_rc td_prov_put(td_txn *txn, const char *id, uint64_t body_hash, const td_fprint *fp)
{
    size_t idlen = strlen(id);
    if (idlen + 1 > TD_DB_MAX_KEY)
        return TD_DB_OK; /* such ids are never compared (no fingerprint) */
    unsigned char hk[9];
    s_hash_key(body_hash, hk);
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_PROV, hk, sizeof hk, &v);
    if (rc == TD_DB_NOTFOUND)
        rc = td_txn_put(txn, TD_DBI_PROV, hk, sizeof hk, id, idlen);
    if (rc)
        return rc;

    size_t srclen = fp->source ? strlen(fp->source) : 0;
    if (srclen > 255)
        srclen = 255;
    size_t cap = 1 + 8 + 4 + 8 + 1 + srclen + 1 + fp->n_sent * (1 + 4 * TD_PROV_TERMS);
    unsigned char *b = malloc(cap), *w = b;
    char *key = malloc(idlen + 1);
    if (!b || !key) {
        free(b);
        free(key);
        return TD_DB_ERROR;
    }
    *w++ = FP_FORMAT;
    memcpy(w, &fp->simhash, 8), w += 8;
    memcpy(w, &fp->ntok, 4), w += 4;
    memcpy(w, &fp->t, 8), w += 8;
    *w++ = (unsigned char)srclen;
    memcpy(w, fp->source ? fp->source : "", srclen), w += srclen;
    *w++ = (unsigned char)fp->n_sent;
    for (uint32_t i = 0; i < fp->n_sent; i++) {
        *w++ = fp->sent_n[i];
        memcpy(w, fp->sent[i], 4u * fp->sent_n[i]);
        w += 4u * fp->sent_n[i];
    }
    key[0] = 'a';
    memcpy(key + 1, id, idlen);
    rc = td_txn_put(txn, TD_DBI_PROV, key, idlen + 1, b, (size_t)(w - b));
    free(b);
    free(key);
    return rc;
}

td_db_rc td_prov_get(td_txn *txn, const char *id, td_arena *arena, td_fprint *out)
{
    size_t idlen = strlen(id);
    if (idlen + 1 > TD_DB_MAX_KEY)
        return TD_DB_NOTFOUND;
    char key[TD_DB_MAX_KEY + 1];
    key[0] = 'a';
    memcpy(key + 1, id, idlen);
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_PROV, key, idlen + 1, &v);
    if (rc)
        return rc;
    const unsigned char *p = v.data, *end = p + v.len;
    memset(out, 0, sizeof *out);
    if (v.len < 23 || p[0] != FP_FORMAT)
        return TD_DB_NOTFOUND;
    p++;
    memcpy(&out->simhash, p, 8), p += 8;
    memcpy(&out->ntok, p, 4), p += 4;
    memcpy(&out->t, p, 8), p += 8;
    size_t sl = *p++;
    if (p + sl + 1 > end)
        return TD_DB_NOTFOUND;
    out->source = sl ? td_arena_strndup(arena, (const char *)p, sl) : NULL;
    p += sl;
    uint32_t ns = *p++;
    out->sent_n = td_arena_alloc(arena, ns ? ns : 1);
    out->sent = td_arena_alloc(arena, (ns ? ns : 1) * sizeof *out->sent);
    if (!out->sent_n || !out->sent)
        return TD_DB_ERROR;
    for (uint32_t i = 0; i < ns; i++) {
        if (p >= end || *p > TD_PROV_TERMS || p + 1 + 4u * *p > end)
            return TD_DB_NOTFOUND;
        out->sent_n[i] = *p++;
        memcpy(out->sent[i], p, 4u * out->sent_n[i]);
        p += 4u * out->sent_n[i];
    }
    out->n_sent = ns;
    return TD_DB_OK;
}

td_db_rc td_prov_exact_set(td_txn *txn, uint64_t body_hash, const char *id)
{
    unsigned char hk[9];
    s_hash_key(body_hash, hk);
    size_t idlen = strlen(id);
    if (idlen + 1 > TD_DB_MAX_KEY)
        return TD_DB_OK;
    return td_txn_put(txn, TD_DBI_PROV, hk, sizeof hk, id, idlen);
}

td_db_rc td_prov_exact(td_txn *txn, uint64_t body_hash, td_arena *arena, char **id)
{
    unsigned char hk[9];
    s_hash_key(body_hash, hk);
    td_val v;
    td_db_rc rc = td_txn_get(txn, TD_DBI_PROV, hk, sizeof hk, &v);
    if (rc)
        return rc;
    *id = td_arena_strndup(arena, v.data, v.len);
    return *id ? TD_DB_OK : TD_DB_ERROR;
}

/* ---- comparison --------------------------------------------------------- */

/* Does `body` credit `src` ("(Reuters)", "Reuters reported", "according to
 * Reuters", "told Reuters", "Reuters said", "citing Reuters")? */
static bool s_credits(const char *body, const char *src)
{
    if (!body || !src || strlen(src) < 3)
        return false;
    size_t sl = strlen(src);
    static const char *const after[] = {" reported", " reports", " said", " news agency",
                                        " quoted", ")", " cited", " contributed"};
    static const char *const before[] = {"according to ", "told ", "citing ", "(",
                                         "reported by ", "cited by ", "quoted by ", "via "};
    for (const char *p = body; (p = strcasestr(p, src)) != NULL; p += sl) {
        const char *q = p + sl;
        for (size_t i = 0; i < sizeof after / sizeof after[0]; i++)
            if (strncasecmp(q, after[i], strlen(after[i])) == 0)
                return true;
        for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
            size_t bl = strlen(before[i]);
            if ((size_t)(p - body) >= bl && strncasecmp(p - bl, before[i], bl) == 0)
                return true;
        }
    }
    return false;
}

/* The terms of one fingerprint by hash: for each term, the sentences that
 * hold it (a term appears at most once per sentence). Comparing sentence
 * sets through it costs the postings of the other side's terms, not the
 * product of the two sentence counts. */
#define TAB_BITS 12
#define TAB_MAX (TD_PROV_SENTENCES * TD_PROV_TERMS)
struct td_prov_tab {
    int16_t head[1 << TAB_BITS];
    uint32_t term[TAB_MAX];
    uint8_t sent[TAB_MAX];
    int16_t next[TAB_MAX];
};

static unsigned s_slot(uint32_t t)
{
    return (t * 2654435761u) >> (32 - TAB_BITS);
}

td_prov_tab *td_prov_tab_new(void)
{
    return malloc(sizeof(td_prov_tab));
}

void td_prov_tab_destroy(td_prov_tab **self_p)
{
    if (self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

/* Sentences compared: a fingerprint holds at most TD_PROV_SENTENCES (more
 * only in a damaged record). */
static uint32_t s_sentences(const td_fprint *f)
{
    return f->n_sent < TD_PROV_SENTENCES ? f->n_sent : TD_PROV_SENTENCES;
}

static void s_tab_fill(td_prov_tab *tab, const td_fprint *f)
{
    memset(tab->head, 0xff, sizeof tab->head);
    int16_t n = 0;
    for (uint32_t j = 0; j < s_sentences(f); j++)
        for (uint8_t k = 0; k < f->sent_n[j] && n < TAB_MAX; k++) {
            unsigned h = s_slot(f->sent[j][k]);
            tab->term[n] = f->sent[j][k];
            tab->sent[n] = (uint8_t)j;
            tab->next[n] = tab->head[h];
            tab->head[h] = n++;
        }
}

void td_prov_tab_build(td_prov_tab *tab, td_fprint *f)
{
    s_tab_fill(tab, f);
    f->tab = tab;
}

/* The best Dice overlap of each sentence of `a` with a sentence of `b`
 * (a_best), and of each sentence of `b` with one of `a` (b_best; both
 * with room for TD_PROV_SENTENCES), in one walk of a's terms
 * through b's table `tb`: the overlap of two sentences is the same seen
 * from either side. */
static void s_best(const td_fprint *a, const td_fprint *b, const td_prov_tab *tb,
                   double *a_best, double *b_best)
{
    uint8_t common[TD_PROV_SENTENCES];
    uint8_t touched[TD_PROV_SENTENCES];
    uint32_t mark[TD_PROV_SENTENCES] = {0};
    for (uint32_t j = 0; j < s_sentences(b); j++)
        b_best[j] = 0;
    for (uint32_t i = 0; i < s_sentences(a); i++) {
        size_t nt = 0;
        for (uint8_t k = 0; k < a->sent_n[i]; k++) {
            uint32_t t = a->sent[i][k];
            for (int16_t e = tb->head[s_slot(t)]; e >= 0; e = tb->next[e]) {
                if (tb->term[e] != t)
                    continue;
                uint8_t j = tb->sent[e];
                if (mark[j] != i + 1) {
                    mark[j] = i + 1;
                    touched[nt++] = j;
                    common[j] = 0;
                }
                common[j]++;
            }
        }
        double best = 0;
        for (size_t x = 0; x < nt; x++) {
            uint8_t j = touched[x];
            double d = 2.0 * common[j] / (double)(a->sent_n[i] + b->sent_n[j]);
            if (d > best)
                best = d;
            if (d > b_best[j])
                b_best[j] = d;
        }
        a_best[i] = best;
    }
}

/* The mean of `n` sentences' best overlaps, and the share of them found
 * (nearly) verbatim. */
static double s_share(const double *best, uint32_t n, double *mean)
{
    size_t same = 0;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += best[i];
        same += best[i] >= SAME_DICE;
    }
    *mean = n ? sum / n : 0;
    return n ? (double)same / n : 0;
}

void td_prov_compare(const td_fprint *nw, const char *body, const td_fprint *old,
                     td_prov_match *m)
{
    memset(m, 0, sizeof *m);
    m->hamming = __builtin_popcountll(nw->simhash ^ old->simhash);
    /* publication order: only an earlier article can be a source */
    if (nw->t != TD_TIME_NONE && old->t != TD_TIME_NONE && old->t > nw->t)
        return;
    if (nw->n_sent == 0 || old->n_sent == 0)
        return;
    double nw_best[TD_PROV_SENTENCES], old_best[TD_PROV_SENTENCES], mean_old;
    td_prov_tab *own = NULL;
    if (nw->tab)
        s_best(old, nw, nw->tab, old_best, nw_best);
    else if (old->tab)
        s_best(nw, old, old->tab, nw_best, old_best);
    else if ((own = td_prov_tab_new()) != NULL) {
        s_tab_fill(own, old);
        s_best(nw, old, own, nw_best, old_best);
        free(own);
    } else
        return;
    uint32_t n_nw = s_sentences(nw), n_old = s_sentences(old);
    m->same = s_share(nw_best, n_nw, &m->overlap);
    if (m->same < 0.5 && m->overlap < REWRITE_CREDIT)
        return; /* too little in common for any verdict below */
    double same_old = s_share(old_best, n_old, &mean_old);
    /* the credit cue is looked for only when it could make a rewrite */
    m->credit = body && m->overlap >= REWRITE_CREDIT && s_credits(body, old->source);
    bool similar_len = nw->ntok * 10 >= old->ntok * 9 && old->ntok * 10 >= nw->ntok * 9;
    if ((m->hamming <= NEAR_BITS && nw->ntok >= 20 && m->same >= COPY_SAME) ||
        (nw->n_sent >= 2 && similar_len && m->same >= COPY_SAME && same_old >= COPY_SAME)) {
        m->kind = "copy";
    } else if (nw->n_sent < 2) {
        /* one sentence (a headline) is too little to call a copy */
    } else if ((nw->ntok < old->ntok && m->same >= TRIM_SAME) ||
               (nw->ntok > old->ntok && same_old >= TRIM_SAME && m->same >= 0.5)) {
        m->kind = "trimmed";
    } else if (nw->n_sent >= 3 && (m->overlap >= REWRITE_ALONE ||
                                   (m->credit && m->overlap >= REWRITE_CREDIT))) {
        m->kind = "rewrite";
    } else if (!body && nw->n_sent >= 3 && m->overlap >= REWRITE_CREDIT) {
        m->need_body = true; /* the credit cue decides, and it is in the body */
    }
}
