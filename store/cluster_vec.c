/* cluster_vec.c — an article's vectors for event detection: its content
 * terms and entities counted (title, lead and body weighted apart), TF-IDF
 * weighted with the stream's document frequencies, made unit length and
 * sorted heaviest first; and counting them in the document frequencies.
 * Kept apart from the index and the scores because it is the one part that
 * reads the article's tokens and dfstats.h; it allocates nothing per
 * article (its tables live in td_cluster, see cluster_int.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "dfstats.h"
#include "tokens.h"

#define DF_AHEAD 12          /* document-frequency lookups prefetched ahead */

/* The entry of `h`, or the free one where it goes (gen != `gen`). */
static td_cacc *s_acc_find(td_cacc *tab, size_t cap, uint32_t gen, uint64_t h)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (tab[i].gen != gen || tab[i].h == h)
            return &tab[i];
}

static int s_cmp_w(const void *a, const void *b)
{
    float x = ((const td_cterm *)a)->w, y = ((const td_cterm *)b)->w;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Sort `n` keys by their high 32 bits, stably: an LSD radix sort, a byte
 * per pass, `tmp` as scratch; returns the sorted. Keys made in index order
 * (low bits) come out ordered as whole keys. The merge sort it replaced
 * mispredicted a branch per comparison; a pass whose byte is the same in
 * every key (the exponents of weights of one magnitude) is skipped. */
static uint64_t *s_rsort_hi32(uint64_t *a, uint64_t *tmp, size_t n)
{
    uint32_t cnt[4][256];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)(a[i] >> 32);
        cnt[0][k & 255]++;
        cnt[1][k >> 8 & 255]++;
        cnt[2][k >> 16 & 255]++;
        cnt[3][k >> 24]++;
    }
    for (int b = 0; b < 4; b++) {
        unsigned sh = 32 + 8 * (unsigned)b;
        if (cnt[b][a[0] >> sh & 255] == n)
            continue;
        uint32_t at = 0;
        for (int v = 0; v < 256; v++) {
            uint32_t c = cnt[b][v];
            cnt[b][v] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[b][a[i] >> sh & 255]++] = a[i];
        uint64_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* Sort by weight, heaviest first, equal weights in their present order:
 * what glibc's qsort (a stable merge sort) with s_cmp_w gives, without a
 * call through a pointer per comparison. The key of an entry is its weight's
 * bits (a float >= 0 orders like its bits), inverted, then its position.
 * `perm` (may be NULL) receives each new position's old index. Only the
 * first `limit` positions are written (a centroid keeps its heaviest). */
void td_cluster_sort_w(td_cterm *v, size_t n, uint32_t *perm, size_t limit)
{
    uint64_t k[SORT_MAX], scratch[SORT_MAX];
    bool plain = n <= SORT_MAX;
    for (size_t i = 0; plain && i < n; i++) {
        uint32_t b;
        memcpy(&b, &v[i].w, sizeof b);
        if ((b & 0x80000000u) || isnan(v[i].w))
            plain = false; /* negative or NaN: not from td_cluster_vectorize */
        else
            k[i] = (uint64_t)(uint32_t)~b << 32 | i;
    }
    if (!plain) {
        /* the generic way (stable too); no permutation to tell */
        for (size_t i = 0; perm && i < n; i++)
            perm[i] = UINT32_MAX;
        qsort(v, n, sizeof *v, s_cmp_w);
        return;
    }
    if (n < 2) {
        if (perm && n)
            perm[0] = 0;
        return;
    }
    uint64_t *sorted = s_rsort_hi32(k, scratch, n);
    td_cterm tmp[SORT_MAX];
    if (limit < n)
        n = limit;
    for (size_t i = 0; i < n; i++) {
        uint32_t from = (uint32_t)sorted[i];
        tmp[i] = v[from];
        if (perm)
            perm[i] = from;
    }
    memcpy(v, tmp, n * sizeof *v);
}

/* The acc entry of token t (new: added, unless the vector is full), or
 * NULL when t is no vector term; looked up once per word of the article
 * when the word cache is on. */
static td_cacc *s_token_acc(td_cluster *self, const td_term *t, size_t *n)
{
    uint16_t *wc = t->word < self->wn ? &self->wacc[t->word] : NULL;
    if (wc && *wc)
        return *wc == WACC_SKIP ? NULL : &self->acc[*wc - 1];
    td_cacc *a = NULL;
    if (!(t->stop || t->norm_len < 2 || t->stem_len > TD_TOKEN_MAX)) {
        uint32_t gen = self->acc_gen;
        char key[TKEY_MAX];
        key[0] = 't';
        memcpy(key + 1, t->stem, t->stem_len);
        uint64_t h = td_cluster_hash(key, t->stem_len + 1);
        a = s_acc_find(self->acc, ACC_CAP, gen, h);
        if (a->gen != gen && *n >= VEC_MAX) {
            a = NULL;   /* full: no later token adds either */
        } else if (a->gen != gen) {
            /* the display form is copied only if the term makes it into a
             * centroid (s_merge_vec) */
            *a = (td_cacc){.h = h, .gen = gen, .klen = (uint16_t)(t->stem_len + 1)};
            /* (our tokenizer cuts words to TD_TOKEN_MAX; a longer one from
             * elsewhere gets no display form rather than a cut one) */
            if (t->norm_len <= TD_TOKEN_MAX)
                a->word = t->norm, a->wlen = (uint8_t)t->norm_len;
            memcpy(self->tkeys + (a - self->acc) * TKEY_MAX, key, t->stem_len + 1);
            (*n)++;
        }
    }
    if (wc)
        *wc = a ? (uint16_t)(a - self->acc + 1) : WACC_SKIP;
    return a;
}

static size_t s_tokens(td_cluster *self, const td_term *tok, size_t ntok, double boost,
                       double lead_boost, int lead, int max, bool title, size_t n)
{
    int i = 0;
    for (size_t k = 0; k < ntok && i < max; k++) {
        i++;
        td_cacc *a = s_token_acc(self, &tok[k], &n);
        if (!a)
            continue;
        a->tf += i <= lead ? boost * lead_boost : boost;
        a->title = a->title || title;
    }
    return n;
}

/* The word cache for `nw` words, emptied; without memory it is off (each
 * token is then looked up, with the same result). */
static void s_words_reset(td_cluster *self, size_t nw)
{
    self->wn = 0;
    if (nw > self->wcap) {
        size_t cap = self->wcap ? self->wcap : 1024;
        while (cap < nw)
            cap *= 2;
        uint16_t *w = realloc(self->wacc, cap * sizeof *w);
        if (!w)
            return;
        self->wacc = w;
        self->wcap = cap;
    }
    if (nw)
        memset(self->wacc, 0, nw * sizeof *self->wacc);
    self->wn = nw;
}

static void s_unit(td_cterm *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i].w * v[i].w;
    s = sqrt(s);
    for (size_t i = 0; s > 0 && i < n; i++)
        v[i].w = (float)(v[i].w / s);
}

/* Headline feeds send the title again as the body: count it once. */
static bool s_same_text(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    while (*a == ' ' || *a == '\n')
        a++;
    while (*b == ' ' || *b == '\n')
        b++;
    size_t la = strlen(a), lb = strlen(b);
    while (la && (a[la - 1] == ' ' || a[la - 1] == '\n'))
        la--;
    while (lb && (b[lb - 1] == ' ' || b[lb - 1] == '\n'))
        lb--;
    return la == lb && memcmp(a, b, la) == 0;
}

/* log(tf), from the table when tf is a small multiple of 1/2 (the same
 * value: the same function of the same argument). */
static double s_log_tf(const td_cluster *self, double tf)
{
    double k = tf * 2;
    if (k >= 1 && k <= LOG_HALVES && k == (double)(int)k)
        return self->log_half[(int)k];
    return log(tf);
}

/* idf for `docs` documents, the same value td_df_idf gives: small document
 * frequencies repeat across an article's terms, and the log is remembered
 * for as long as the document count stays. */
static double s_idf_memo(td_cluster *self, uint64_t docs, uint32_t df)
{
    if (df >= IDF_MEMO || docs >= UINT32_MAX)
        return td_df_idf(docs, df);
    if (self->idf_memo_docs[df] != (uint32_t)docs + 1) {
        self->idf_memo[df] = td_df_idf(docs, df);
        self->idf_memo_docs[df] = (uint32_t)docs + 1;
    }
    return self->idf_memo[df];
}

int td_cluster_vectorize(td_cluster *self, td_txn *txn, const td_article *a,
                         const td_terms *terms, td_arena *arena, td_cvec *out)
{
    (void)arena;
    memset(out, 0, sizeof *out);
    out->gen = ++self->vec_gen;
    out->t = a->published_at;
    out->day = td_cluster_day(a->event_date);
    if (++self->acc_gen == 0) {
        /* after 2^32 articles: clear once, so no old entry looks current */
        memset(self->acc, 0, ACC_CAP * sizeof *self->acc);
        memset(self->eacc, 0, EACC_CAP * sizeof *self->eacc);
        self->acc_gen = 1;
    }
    uint32_t gen = self->acc_gen;
    size_t n = 0, ntok;
    const td_cluster_opts *o = &self->o;
    s_words_reset(self, td_terms_words(terms));
    const td_term *tok = td_terms_get(terms, TD_TERMS_TITLE, &ntok);
    n = s_tokens(self, tok, ntok, o->title_boost, 1.0, 0, 64, true, n);
    out->headline = s_same_text(a->title, a->body) || !a->body || !*a->body;
    tok = td_terms_get(terms, TD_TERMS_BODY, &ntok);
    if (!out->headline)
        n = s_tokens(self, tok, ntok, 1.0, o->lead_boost, o->lead_tokens, o->body_tokens,
                     false, n);
    /* entities: a separate vector, keyed like the entities database */
    size_t ne = 0;
    td_cacc *tab = self->acc, *etab = self->eacc;
    char key[EKEY_MAX];
    for (size_t i = 0; i < a->n_entities && ne < EACC_CAP / 2; i++) {
        size_t kl = td_db_entity_norm(a->entities[i].name, key + 1, sizeof key - 1);
        if (!kl)
            continue;
        key[0] = 'e';
        uint64_t h = td_cluster_hash(key, kl + 1);
        td_cacc *e = s_acc_find(etab, EACC_CAP, gen, h);
        if (e->gen != gen) {
            *e = (td_cacc){.h = h, .gen = gen, .word = a->entities[i].name,
                         .klen = (uint16_t)(kl + 1)};
            memcpy(self->ekeys + (e - etab) * EKEY_MAX, key, kl + 1);
            ne++;
        }
        e->tf += a->entities[i].count ? a->entities[i].count : 1;
    }
    uint64_t docs = td_df_docs(self->df, txn);
    /* the entries in table order (the vector's order before sorting: equal
     * weights keep it), and their document frequencies' table entries asked
     * for a few lookups ahead */
    uint16_t used[VEC_MAX];
    size_t nu = 0;
    for (size_t i = 0; i < ACC_CAP && nu < VEC_MAX; i++)
        if (tab[i].gen == gen)
            used[nu++] = (uint16_t)i;
    for (size_t k = 0; k < nu && k < DF_AHEAD; k++)
        td_df_prefetch(self->df, tab[used[k]].h);
    out->terms = self->vterms;
    out->ents = self->vents;
    for (size_t u = 0; u < nu; u++) {
        size_t i = used[u];
        if (u + DF_AHEAD < nu)
            td_df_prefetch(self->df, tab[used[u + DF_AHEAD]].h);
        td_cterm *t = &out->terms[out->n_terms++];
        const char *k = self->tkeys + i * TKEY_MAX;
        uint32_t df = td_df_get_h(self->df, txn, tab[i].h, k, tab[i].klen);
        double idf = s_idf_memo(self, docs, df);
        *t = (td_cterm){.h = tab[i].h,
                        .w = (float)((1.0 + s_log_tf(self, tab[i].tf)) * idf),
                        .word = tab[i].word,
                        .wlen = tab[i].wlen,
                        .key = k,
                        .klen = tab[i].klen,
                        .in_title = tab[i].title};
    }
    for (size_t i = 0; i < EACC_CAP; i++) {
        if (etab[i].gen != gen)
            continue;
        td_cterm *t = &out->ents[out->n_ents++];
        const char *k = self->ekeys + i * EKEY_MAX;
        uint32_t df = td_df_get_h(self->df, txn, etab[i].h, k, etab[i].klen);
        *t = (td_cterm){.h = etab[i].h,
                        .w = (float)((1.0 + s_log_tf(self, etab[i].tf)) *
                                     s_idf_memo(self, docs, df)),
                        .word = etab[i].word,
                        .key = k,
                        .klen = etab[i].klen};
    }
    s_unit(out->terms, out->n_terms);
    s_unit(out->ents, out->n_ents);
    td_cluster_sort_w(out->terms, out->n_terms, NULL, SIZE_MAX);
    td_cluster_sort_w(out->ents, out->n_ents, NULL, SIZE_MAX);
    return 0;
}

td_db_rc td_cluster_count(td_cluster *self, td_txn *txn, const td_cvec *v)
{
    const void *keys[VEC_MAX + 256];
    size_t lens[VEC_MAX + 256], k = 0;
    uint64_t hs[VEC_MAX + 256];
    for (size_t i = 0; i < v->n_terms + v->n_ents && k < VEC_MAX + 256; i++) {
        const td_cterm *t = i < v->n_terms ? &v->terms[i] : &v->ents[i - v->n_terms];
        if (!t->key)
            continue;
        keys[k] = t->key;
        /* vectors of td_cluster_vectorize carry the key's length and hash */
        lens[k] = t->klen ? t->klen : strlen(t->key);
        hs[k++] = t->klen ? t->h : td_cluster_hash(t->key, strlen(t->key));
    }
    return td_df_add_h(self->df, txn, hs, keys, lens, k);
}

double td_cluster_cos(const td_cterm *a, size_t na, const td_cterm *b, size_t nb)
{
    double dot = 0, la = 0, lb = 0;
    for (size_t i = 0; i < na; i++)
        la += (double)a[i].w * a[i].w;
    for (size_t j = 0; j < nb; j++)
        lb += (double)b[j].w * b[j].w;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (a[i].h == b[j].h) {
                dot += (double)a[i].w * b[j].w;
                break;
            }
    return la > 0 && lb > 0 ? dot / sqrt(la * lb) : 0.0;
}
