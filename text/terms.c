/* terms.c — an article's tokens and body fingerprint, computed once; see
 * terms.h. */
#include "terms.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lang.h"
#include "tokens.h"

#define SHINGLE 3         /* words per SimHash shingle */
#define MIN_SENT_TERMS 3  /* shorter sentences say too little to compare */

struct td_terms {
    td_tokenizer *tk;
    td_term *tok[2];
    size_t n[2], cap[2];
    char *buf;              /* the words' strings: norm, NUL, stem, NUL */
    size_t used, bcap;
    td_body_print print;
    uint32_t *start;        /* byte offset of each body token (s_print) */
    size_t scap;
    /* the tokenizer's hashes of each token's norm and (body) stem, so that
     * the fingerprint and the export do not hash every token again */
    uint64_t *nhash[2];
    uint32_t *shash;
    /* td_terms_build keeps each distinct word once, in order of first
     * occurrence (title, then body): buf holds exactly the wire's word list,
     * and wid the word number of each token, so the export only copies. */
    bool interned;          /* built (not loaded): wid, iw, buf are the wire form */
    uint32_t *wid[2];       /* word number of each token */
    td_term *iw;            /* the distinct words (norm, stem: offsets in buf) */
    uint64_t *iwh;          /* XXH3 of each distinct word's norm */
    uint32_t nw;
    size_t iwcap;
    uint32_t *slot;         /* open addressing over iw: word + 1, 0 = free */
    size_t nslots;
    /* td_terms_load: the words' strings and the words */
    td_term *words;
    size_t wcap, nloaded;
};

td_terms *td_terms_new(void)
{
    td_terms *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (!(self->tk = td_tokenizer_new()))
        td_terms_destroy(&self);
    return self;
}

void td_terms_destroy(td_terms **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_terms *self = *self_p;
    td_tokenizer_destroy(&self->tk);
    free(self->tok[0]);
    free(self->tok[1]);
    free(self->buf);
    free(self->words);
    free(self->start);
    free(self->nhash[0]);
    free(self->nhash[1]);
    free(self->shash);
    free(self->wid[0]);
    free(self->wid[1]);
    free(self->iw);
    free(self->iwh);
    free(self->slot);
    free(self);
    *self_p = NULL;
}

static int s_reserve(td_terms *self, size_t more)
{
    if (self->used + more <= self->bcap)
        return 0;
    size_t cap = self->bcap ? self->bcap : 16384;
    while (self->used + more > cap)
        cap *= 2;
    char *b = realloc(self->buf, cap);
    if (!b)
        return -1;
    self->buf = b;
    self->bcap = cap;
    return 0;
}

static int s_keep(td_terms *self, const char *s, size_t len, uint32_t *at)
{
    if (s_reserve(self, len + 1) != 0)
        return -1;
    memcpy(self->buf + self->used, s, len);
    self->buf[self->used + len] = '\0';
    *at = (uint32_t)self->used;
    self->used += len + 1;
    return 0;
}

static int s_grow(td_terms *self, int f, size_t need)
{
    if (need <= self->cap[f])
        return 0;
    size_t cap = self->cap[f] ? self->cap[f] : 1024;
    while (cap < need)
        cap *= 2;
    td_term *n = realloc(self->tok[f], cap * sizeof *n);
    if (!n)
        return -1;
    self->tok[f] = n;
    uint64_t *nh = realloc(self->nhash[f], cap * sizeof *nh);
    if (!nh)
        return -1;
    self->nhash[f] = nh;
    uint32_t *wi = realloc(self->wid[f], cap * sizeof *wi);
    if (!wi)
        return -1;
    self->wid[f] = wi;
    if (f == TD_TERMS_BODY) {
        uint32_t *sh = realloc(self->shash, cap * sizeof *sh);
        if (!sh)
            return -1;
        self->shash = sh;
    }
    self->cap[f] = cap;
    return 0;
}

/* Double the word table (or make its first one) and put the words back. */
static int s_rehash(td_terms *self)
{
    size_t n = self->nslots ? self->nslots * 2 : 1024;
    uint32_t *sl = calloc(n, sizeof *sl);
    if (!sl)
        return -1;
    for (uint32_t i = 0; i < self->nw; i++) {
        size_t at = (size_t)self->iwh[i] & (n - 1);
        while (sl[at])
            at = (at + 1) & (n - 1);
        sl[at] = i + 1;
    }
    free(self->slot);
    self->slot = sl;
    self->nslots = n;
    return 0;
}

/* The number of token t's word (norm, stem and stop flag all equal), added
 * to the words when new. -1 when out of memory. */
static int64_t s_intern(td_terms *self, const td_token *t)
{
    if (2 * ((size_t)self->nw + 1) > self->nslots && s_rehash(self) != 0)
        return -1;
    size_t mask = self->nslots - 1, at = (size_t)t->norm_hash & mask;
    for (uint32_t id; (id = self->slot[at]); at = (at + 1) & mask) {
        const td_term *w = &self->iw[id - 1];
        if (self->iwh[id - 1] == t->norm_hash && w->stop == t->stop &&
            w->norm_len == t->norm_len && w->stem_len == t->stem_len &&
            memcmp(self->buf + (uintptr_t)w->norm, t->norm, t->norm_len) == 0 &&
            memcmp(self->buf + (uintptr_t)w->stem, t->stem, t->stem_len) == 0)
            return id - 1;
    }
    if (self->nw == self->iwcap) {
        size_t cap = self->iwcap ? self->iwcap * 2 : 1024;
        td_term *iw = realloc(self->iw, cap * sizeof *iw);
        if (!iw)
            return -1;
        self->iw = iw;
        uint64_t *h = realloc(self->iwh, cap * sizeof *h);
        if (!h)
            return -1;
        self->iwh = h;
        self->iwcap = cap;
    }
    /* buffer offsets now (it may move), pointers once it is complete */
    uint32_t norm, stem;
    if (s_keep(self, t->norm, t->norm_len, &norm) != 0 ||
        s_keep(self, t->stem, t->stem_len, &stem) != 0)
        return -1;
    self->iw[self->nw] = (td_term){
        .norm = (const char *)(uintptr_t)norm, .stem = (const char *)(uintptr_t)stem,
        .norm_len = t->norm_len, .stem_len = t->stem_len, .stop = t->stop, .word = self->nw};
    self->iwh[self->nw] = t->norm_hash;
    self->slot[at] = ++self->nw;
    return self->nw - 1;
}

static int s_field(td_terms *self, int f, const char *text, const char *lang)
{
    self->n[f] = 0;
    if (!text || !*text)
        return 0;
    td_tokenizer_begin(self->tk, text, strlen(text), lang);
    td_token t;
    while (td_tokenizer_next(self->tk, &t)) {
        if (s_grow(self, f, self->n[f] + 1) != 0)
            return -1;
        int64_t id = s_intern(self, &t);
        if (id < 0)
            return -1;
        if (f == TD_TERMS_BODY) {
            if (self->n[f] >= self->scap) {
                size_t cap = self->cap[f];
                uint32_t *st = realloc(self->start, cap * sizeof *st);
                if (!st)
                    return -1;
                self->start = st;
                self->scap = cap;
            }
            self->start[self->n[f]] = t.start;
            self->shash[self->n[f]] = t.stem_hash;
        }
        self->nhash[f][self->n[f]] = t.norm_hash;
        self->wid[f][self->n[f]] = (uint32_t)id;
        self->tok[f][self->n[f]++] = self->iw[id];
    }
    return 0;
}

/* ---- fingerprint ------------------------------------------------------------ */

/* Sort a sentence's hashes (at most TD_FP_TERMS): insertion sort, which
 * for so few is several times cheaper than qsort's merge sort. */
static void s_sort_u32(uint32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* End of the sentence starting at p: after ". ", "! ", "? " or a line break.
 * strpbrk (vectorised in glibc) skips to each candidate byte. */
static const char *s_sentence_end(const char *p)
{
    while ((p = strpbrk(p, ".!?\n"))) {
        if (*p == '\n' || p[1] == ' ' || p[1] == '\n' || !p[1])
            return p + 1;
        p++;
    }
    return NULL;
}

/* SimHash votes in bit-sliced counters: plane[k] holds bit k of the 64
 * per-position counts, so adding a shingle hash is a ripple-carry add of
 * its 64 bits across 8 planes (24 AND/XOR, no branches), where a count per
 * position took 64 compare-adds (and byte-lane SWAR still ~100 operations).
 * The planes hold counts up to 255 and are emptied into ones[] before. */
typedef struct {
    uint64_t plane[8];
    uint32_t in_acc, shingles;
    uint32_t ones[64];
    uint64_t ring[SHINGLE];
    uint32_t ntok;
} s_simhash;

static void s_sim_flush(s_simhash *sh)
{
    for (int b = 0; b < 64; b++) {
        uint32_t v = 0;
        for (int k = 0; k < 8; k++)
            v |= (uint32_t)(sh->plane[k] >> b & 1) << k;
        sh->ones[b] += v;
    }
    memset(sh->plane, 0, sizeof sh->plane);
    sh->in_acc = 0;
}

/* One word, by the XXH3 of its norm (stop words included: copies keep
 * them, so they make the hash more exact). */
static void s_sim_word(s_simhash *sh, uint64_t norm_hash)
{
    sh->ring[sh->ntok % SHINGLE] = norm_hash;
    sh->ntok++;
    if (sh->ntok < SHINGLE)
        return;
    uint64_t h = sh->ring[0] * 0x9E3779B97F4A7C15ull ^ sh->ring[1] * 0xC2B2AE3D27D4EB4Full ^
                 sh->ring[2];
    uint64_t carry = XXH3_64bits(&h, sizeof h);
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        uint64_t c = sh->plane[k] & carry;
        sh->plane[k] ^= carry;
        carry = c;
    }
    sh->shingles++;
    if (++sh->in_acc == 255)
        s_sim_flush(sh);
}

static uint64_t s_sim_done(s_simhash *sh)
{
    s_sim_flush(sh);
    uint64_t out = 0;
    for (int b = 0; b < 64; b++)
        if (2 * sh->ones[b] > sh->shingles)   /* more +1 than -1 votes */
            out |= (uint64_t)1 << b;
    return out;
}

/* A content word of the current sentence's set (first TD_FP_TERMS
 * distinct), by the low 32 bits of the XXH3 of its stem. */
static void s_sent_word(td_body_print *out, uint8_t *n, uint32_t h, size_t norm_len, bool stop)
{
    if (out->n_sent >= TD_FP_SENTENCES || stop || norm_len < 2 || *n >= TD_FP_TERMS)
        return;
    uint32_t *set = out->sent[out->n_sent];
    for (uint8_t i = 0; i < *n; i++)
        if (set[i] == h)
            return;
    set[(*n)++] = h;
}

static void s_sent_done(td_body_print *out, uint8_t n)
{
    if (out->n_sent < TD_FP_SENTENCES && n >= MIN_SENT_TERMS) {
        s_sort_u32(out->sent[out->n_sent], n);
        out->sent_n[out->n_sent++] = n;
    }
}

/* The body's fingerprint. With a known language the body's tokens are
 * already there (a word never spans a sentence end: the tokenizer joins
 * across '.' only between digits, and a sentence ends only at a '.' before
 * a space or line break), so they are split by their offsets; without one,
 * each sentence is tokenised with its own language detection. */
static void s_print(td_terms *self, const char *body, const char *lang)
{
    td_body_print *out = &self->print;
    out->n_sent = 0;
    s_simhash sh;
    memset(&sh, 0, sizeof sh);
    td_lang lg = lang ? td_lang_parse(lang) : TD_LANG_NONE;
    const td_term *tok = self->tok[TD_TERMS_BODY];
    size_t ntok = self->n[TD_TERMS_BODY], k = 0;
    const char *start = body ? body : "";
    const char *stop_at = start + strlen(start);
    for (const char *p = start; *p;) {
        const char *e = s_sentence_end(p);
        if (!e)
            e = stop_at;
        uint8_t n = 0;
        if (lg != TD_LANG_NONE) {
            for (; k < ntok && self->start[k] < (uint32_t)(e - start); k++) {
                s_sim_word(&sh, self->nhash[TD_TERMS_BODY][k]);
                s_sent_word(out, &n, self->shash[k], tok[k].norm_len, tok[k].stop);
            }
        } else {
            td_tokenizer_begin_lang(self->tk, p, (size_t)(e - p), lg);
            td_token t;
            while (td_tokenizer_next(self->tk, &t)) {
                s_sim_word(&sh, t.norm_hash);
                s_sent_word(out, &n, t.stem_hash, t.norm_len, t.stop);
            }
        }
        s_sent_done(out, n);
        p = e;
    }
    out->simhash = s_sim_done(&sh);
    out->ntok = sh.ntok;
}

int td_terms_build(td_terms *self, const char *title, const char *body, const char *lang)
{
    self->interned = true;
    self->used = 0;
    self->nw = 0;
    if (self->slot)
        memset(self->slot, 0, self->nslots * sizeof *self->slot);
    self->n[0] = self->n[1] = 0;
    if (s_field(self, TD_TERMS_TITLE, title, lang) != 0 ||
        s_field(self, TD_TERMS_BODY, body, lang) != 0) {
        self->n[0] = self->n[1] = 0;
        self->nw = 0;
        self->used = 0;
        return -1;
    }
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < self->n[f]; i++) {
            td_term *o = &self->tok[f][i];
            o->norm = self->buf + (uintptr_t)o->norm;
            o->stem = self->buf + (uintptr_t)o->stem;
        }
    s_print(self, body, lang);
    return 0;
}

const td_term *td_terms_get(const td_terms *self, td_terms_field f, size_t *n)
{
    *n = self->n[f];
    return self->tok[f];
}

size_t td_terms_words(const td_terms *self)
{
    return self->interned ? self->nw : self->nloaded;
}

const td_body_print *td_terms_print(const td_terms *self)
{
    return &self->print;
}

/* ---- wire form ----------------------------------------------------------------- */

static bool s_same(const td_term *a, const td_term *b)
{
    return a->stop == b->stop && a->norm_len == b->norm_len && a->stem_len == b->stem_len &&
           memcmp(a->norm, b->norm, a->norm_len) == 0 &&
           memcmp(a->stem, b->stem, a->stem_len) == 0;
}

/* The words of a build: td_terms_build kept them distinct, in order of
 * first occurrence, with buf already in the wire's layout. */
static int s_export_built(const td_terms *self, td_arena *arena, td_terms_wire *out)
{
    uint32_t nw = self->nw;
    char *w = td_arena_alloc(arena, self->used ? self->used : 1);
    uint8_t *stop = td_arena_alloc(arena, nw ? nw : 1);
    uint32_t *num[2] = {td_arena_alloc(arena, (self->n[0] ? self->n[0] : 1) * 4),
                        td_arena_alloc(arena, (self->n[1] ? self->n[1] : 1) * 4)};
    if (!w || !stop || !num[0] || !num[1])
        return -1;
    if (self->used)
        memcpy(w, self->buf, self->used);
    for (uint32_t i = 0; i < nw; i++)
        stop[i] = self->iw[i].stop;
    for (int f = 0; f < 2; f++)
        if (self->n[f])   /* an empty field may never have had its arrays */
            memcpy(num[f], self->wid[f], self->n[f] * sizeof *num[f]);
    out->nwords = nw;
    out->words = w;
    out->words_len = self->used;
    out->stop = stop;
    out->title = num[0];
    out->body = num[1];
    return 0;
}

/* The words of loaded tokens: found again with a hash table. */
static int s_export_scan(const td_terms *self, td_arena *arena, td_terms_wire *out)
{
    size_t ntok = self->n[0] + self->n[1];
    /* distinct words: open addressing over the token numbers */
    size_t slots = 64;
    while (slots < 2 * ntok)
        slots *= 2;
    uint32_t *slot = td_arena_alloc(arena, slots * sizeof *slot);   /* word + 1, 0 = free */
    const td_term **word = td_arena_alloc(arena, (ntok ? ntok : 1) * sizeof *word);
    uint32_t *num[2] = {td_arena_alloc(arena, (self->n[0] ? self->n[0] : 1) * 4),
                        td_arena_alloc(arena, (self->n[1] ? self->n[1] : 1) * 4)};
    if (!slot || !word || !num[0] || !num[1])
        return -1;
    memset(slot, 0, slots * sizeof *slot);
    uint32_t nw = 0;
    size_t bytes = 0;
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < self->n[f]; i++) {
            const td_term *t = &self->tok[f][i];
            size_t at = (size_t)XXH3_64bits(t->norm, t->norm_len) & (slots - 1);
            while (slot[at] && !s_same(word[slot[at] - 1], t))
                at = (at + 1) & (slots - 1);
            if (!slot[at]) {
                word[nw++] = t;
                slot[at] = nw;
                bytes += t->norm_len + t->stem_len + 2;
            }
            num[f][i] = slot[at] - 1;
        }
    char *w = td_arena_alloc(arena, bytes ? bytes : 1);
    uint8_t *stop = td_arena_alloc(arena, nw ? nw : 1);
    if (!w || !stop)
        return -1;
    char *p = w;
    for (uint32_t i = 0; i < nw; i++) {
        memcpy(p, word[i]->norm, word[i]->norm_len + 1);
        p += word[i]->norm_len + 1;
        memcpy(p, word[i]->stem, word[i]->stem_len + 1);
        p += word[i]->stem_len + 1;
        stop[i] = word[i]->stop;
    }
    out->nwords = nw;
    out->words = w;
    out->words_len = bytes;
    out->stop = stop;
    out->title = num[0];
    out->body = num[1];
    return 0;
}

int td_terms_export(const td_terms *self, td_arena *arena, td_terms_wire *out)
{
    memset(out, 0, sizeof *out);
    out->version = TD_TERMS_VERSION;
    if ((self->interned ? s_export_built : s_export_scan)(self, arena, out) != 0)
        return -1;
    out->ntitle = (uint32_t)self->n[0];
    out->nbody = (uint32_t)self->n[1];

    const td_body_print *fp = &self->print;
    size_t nh = 0;
    for (uint32_t i = 0; i < fp->n_sent; i++)
        nh += fp->sent_n[i];
    uint32_t *sent = td_arena_alloc(arena, (nh ? nh : 1) * sizeof *sent);
    if (!sent)
        return -1;
    nh = 0;
    for (uint32_t i = 0; i < fp->n_sent; i++) {
        memcpy(sent + nh, fp->sent[i], fp->sent_n[i] * sizeof *sent);
        nh += fp->sent_n[i];
    }
    out->simhash = fp->simhash;
    out->ntok = fp->ntok;
    out->n_sent = fp->n_sent;
    out->sent_n = fp->sent_n;
    out->sent = sent;
    return 0;
}

/* Fills self from w; on -1 the caller forgets what was half loaded. */
static int s_load(td_terms *self, const td_terms_wire *w)
{
    self->interned = false;
    self->nloaded = 0;
    self->used = 0;
    self->n[0] = self->n[1] = 0;
    memset(&self->print, 0, sizeof self->print);
    if (w->version != TD_TERMS_VERSION || w->n_sent > TD_FP_SENTENCES)
        return -1;
    /* the words: copied (the frame they came in is not ours) and split */
    if (s_reserve(self, w->words_len + 1) != 0)
        return -1;
    memcpy(self->buf, w->words, w->words_len);
    self->buf[w->words_len] = '\0';
    self->used = w->words_len + 1;
    if (w->nwords > self->wcap) {
        td_term *n = realloc(self->words, w->nwords * sizeof *n);
        if (!n)
            return -1;
        self->words = n;
        self->wcap = w->nwords;
    }
    const char *p = self->buf, *end = self->buf + w->words_len;
    for (uint32_t i = 0; i < w->nwords; i++) {
        const char *stem;
        size_t nl, sl;
        if (p >= end || (nl = strlen(p), stem = p + nl + 1) >= end)
            return -1;
        sl = strlen(stem);
        if (stem + sl >= end + 1)
            return -1;
        self->words[i] = (td_term){.norm = p, .stem = stem, .norm_len = (uint32_t)nl,
                                   .stem_len = (uint32_t)sl, .stop = w->stop[i] != 0,
                                   .word = i};
        p = stem + sl + 1;
    }
    self->nloaded = w->nwords;
    const uint32_t *num[2] = {w->title, w->body};
    size_t cnt[2] = {w->ntitle, w->nbody};
    for (int f = 0; f < 2; f++) {
        if (s_grow(self, f, cnt[f]) != 0)
            return -1;
        for (size_t i = 0; i < cnt[f]; i++) {
            if (num[f][i] >= w->nwords)
                return -1;
            self->tok[f][i] = self->words[num[f][i]];
        }
        self->n[f] = cnt[f];
    }
    td_body_print *fp = &self->print;
    fp->simhash = w->simhash;
    fp->ntok = w->ntok;
    size_t at = 0;
    for (uint32_t i = 0; i < w->n_sent; i++) {
        if (w->sent_n[i] > TD_FP_TERMS)
            return -1;
        fp->sent_n[i] = w->sent_n[i];
        memcpy(fp->sent[i], w->sent + at, w->sent_n[i] * sizeof *w->sent);
        at += w->sent_n[i];
    }
    fp->n_sent = w->n_sent;
    return 0;
}

int td_terms_load(td_terms *self, const td_terms_wire *w)
{
    if (s_load(self, w) == 0)
        return 0;
    self->n[0] = self->n[1] = 0;
    self->nloaded = 0;
    memset(&self->print, 0, sizeof self->print);
    return -1;
}
