/* tokens.c — the tokeniser; see tokens.h. */
#include "tokens.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "normalize.h"

/* A word's folded form, stem, stop flag and hashes, remembered by its raw
 * bytes and language. News text is Zipf-distributed: a few thousand distinct
 * words make up most tokens, so a small cache skips Unicode folding, the
 * stop-word lookup, the Snowball stemmer (~2,000 instructions a word) and
 * the hashing of norm and stem for nearly all of them. An entry is one
 * 64-byte cache line (raw, norm and stem back to back). The cache is
 * two-way set associative, least recently used out: a set is two adjacent
 * lines, asked for together. On the first 20,000 articles of the generated
 * benchmark corpus, a direct-mapped table of 32,768 entries missed on 10.9 %
 * of the memo-able tokens, most of them frequent words evicting each other;
 * this one (65,536 entries) misses on 3.9 %, near the 1.3 % of first
 * sightings, and an ingest worker's CPU per article fell ~11 % (~133 to
 * ~118 us, bench-prepare, 4 runs each). Fixed size (4 MiB per tokenizer);
 * words whose three forms exceed CACHE_BYTES are not cached. Not a library
 * job: it is a memo of our own functions. */
#define CACHE_SETS 32768
#define CACHE_WAYS 2
#define CACHE_BYTES 48  /* raw + norm + stem of a cached word */

typedef struct {
    _Alignas(64) uint64_t norm_hash;
    uint32_t stem_hash;
    uint8_t raw_len, norm_len, stem_len; /* raw_len 0: empty slot */
    uint8_t lang_stop;                   /* lang << 1 | stop */
    char s[CACHE_BYTES];                 /* raw, norm, stem; no NULs */
} s_memo;

_Static_assert(sizeof(s_memo) == 64, "a memo entry is one cache line");
_Static_assert(TD_LANG_COUNT < 128, "lang_stop holds the language in 7 bits");

/* Words are found AHEAD at a time before they are resolved (memo or
 * fold + stem), and the memo entry of each is prefetched when it is found:
 * a probe of the 4 MiB memo misses the L2 cache for much of the vocabulary,
 * and was ~10 % of an ingest worker's time as a stall on every token. The
 * lookups still happen one at a time, in text order, so the tokens are the
 * same. */
#define AHEAD 8

typedef struct {
    uint32_t start, end;    /* byte offsets of the token */
    uint32_t rn;            /* bytes of raw */
    bool digits_only;
    bool cjk;               /* one ideograph or kana: raw is the token */
    bool memo_ok;           /* key is set: look it up in the memo */
    uint64_t key;           /* memo hash of raw and the language */
    char raw[TD_TOKEN_MAX * 4 + 8]; /* the word with the elided prefix or separators removed */
} s_found;

struct td_tokenizer {
    const char *text;
    size_t len, pos;
    td_lang lang;
    struct sb_stemmer *stemmers[TD_LANG_COUNT];
    bool stemmer_failed[TD_LANG_COUNT];
    char norm[TD_TOKEN_MAX + 8];
    char stem[TD_TOKEN_MAX + 8];
    s_found found[AHEAD];           /* words found, not yet returned: a ring */
    unsigned head, nfound;
    bool at_end;                    /* the text has no more words to find */
    s_memo *memo;                   /* CACHE_SETS x CACHE_WAYS entries, allocated on first use */
    bool memo_failed;
};

td_tokenizer *td_tokenizer_new(void)
{
    td_tokenizer *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->lang = TD_LANG_EN;
    return self;
}

void td_tokenizer_destroy(td_tokenizer **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_tokenizer *self = *self_p;
    for (int l = 0; l < TD_LANG_COUNT; l++)
        if (self->stemmers[l])
            sb_stemmer_delete(self->stemmers[l]);
    free(self->memo);
    free(self);
    *self_p = NULL;
}

void td_tokenizer_begin_lang(td_tokenizer *self, const char *text, size_t len, td_lang lang)
{
    self->text = text ? text : "";
    self->len = text ? len : 0;
    self->pos = 0;
    self->head = self->nfound = 0;
    self->at_end = false;
    self->lang = lang == TD_LANG_NONE ? td_lang_detect(self->text, self->len) : lang;
}

void td_tokenizer_begin(td_tokenizer *self, const char *text, size_t len, const char *lang)
{
    td_tokenizer_begin_lang(self, text, len, td_lang_parse(lang));
}

td_lang td_tokenizer_lang(const td_tokenizer *self)
{
    return self->lang;
}

const char *td_tokenizer_stem(td_tokenizer *self, td_lang lang, const char *word,
                              size_t len, size_t *out_len)
{
    *out_len = len;
    if (lang < 0 || lang >= TD_LANG_COUNT || len == 0)
        return word;
    if (!self->stemmers[lang] && !self->stemmer_failed[lang]) {
        const char *name = td_lang_stemmer(lang);
        if (name)
            self->stemmers[lang] = sb_stemmer_new(name, "UTF_8");
        if (!self->stemmers[lang])
            self->stemmer_failed[lang] = true;
    }
    struct sb_stemmer *st = self->stemmers[lang];
    if (!st)
        return word;
    const sb_symbol *s = sb_stemmer_stem(st, (const sb_symbol *)word, (int)len);
    if (!s)
        return word;
    int n = sb_stemmer_length(st);
    if (n <= 0 || (size_t)n > TD_TOKEN_MAX)
        return word;
    memcpy(self->stem, s, (size_t)n);
    self->stem[n] = '\0';
    *out_len = (size_t)n;
    return self->stem;
}

/* Next code point: ASCII inline (most news text), the rest decoded by
 * td_utf8_next. The caller guarantees at < len. */
static inline size_t s_next(const char *t, size_t len, size_t at, int32_t *cp)
{
    unsigned char c = (unsigned char)t[at];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    return td_utf8_next(t + at, len - at, cp);
}

static bool s_is_cjk(int32_t cp)
{
    return (cp >= 0x4E00 && cp < 0xA000) || (cp >= 0x3400 && cp < 0x4DC0) ||
           (cp >= 0x3040 && cp < 0x3100) || (cp >= 0xF900 && cp < 0xFB00) ||
           (cp >= 0x20000 && cp < 0x2FA20);
}

/* Letter, digit or combining mark beyond ASCII. */
static bool s_is_wordchar_uni(int32_t cp)
{
    if (cp == 0xFFFD)
        return false;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

/* Letter, digit or combining mark: part of a word (ASCII inline: it is
 * asked once per byte of the text). */
static inline bool s_is_wordchar(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    return s_is_wordchar_uni(cp);
}

static bool s_elides(td_lang l)
{
    return l == TD_LANG_FR || l == TD_LANG_IT || l == TD_LANG_CA;
}

/* Find the next word from self->pos into *f: false at the end of the
 * text. */
static bool s_find(td_tokenizer *self, s_found *f)
{
    const char *t = self->text;
    size_t len = self->len;
    for (;;) {
        size_t i = self->pos;
        if (i >= len)
            return false;
        int32_t cp;
        size_t k = s_next(t, len, i, &cp);
        if (!s_is_wordchar(cp)) {
            self->pos = i + k;
            continue;
        }
        if (s_is_cjk(cp)) {
            self->pos = i + k;
            f->start = (uint32_t)i;
            f->end = (uint32_t)(i + k);
            f->rn = (uint32_t)k;
            f->digits_only = false;
            f->cjk = true;
            f->memo_ok = false;
            memcpy(f->raw, t + i, k);
            return true;
        }
        /* scan the word: word chars, plus ' between letters, plus , or .
         * between digits (number separators) */
        size_t start = i, end = i, rn = 0;
        bool digits_only = true, has_apos = false;
        while (end < len) {
            size_t kk = s_next(t, len, end, &cp);
            if (kk == 1 && s_is_wordchar(cp)) {   /* ASCII letter or digit */
                if (!(cp >= '0' && cp <= '9'))
                    digits_only = false;
                if (rn + 1 < sizeof f->raw)
                    f->raw[rn++] = (char)cp;
                end++;
                continue;
            }
            if (s_is_cjk(cp))
                break;
            if (s_is_wordchar(cp)) {
                if (!(cp >= '0' && cp <= '9'))
                    digits_only = false;
                if (rn + kk < sizeof f->raw) {
                    memcpy(f->raw + rn, t + end, kk);
                    rn += kk;
                }
                end += kk;
                continue;
            }
            if (end + 1 < len) {
                int32_t nx;
                s_next(t, len, end + 1, &nx);
                if ((cp == '\'') && s_is_wordchar(nx) && !digits_only) {
                    if (s_elides(self->lang) && !has_apos && rn <= 3) {
                        /* l'armée, d'un, qu'il: drop the elided article */
                        rn = 0;
                        start = end + 1;
                        has_apos = true;
                        end++;
                        continue;
                    }
                    has_apos = true;
                    if (rn + 1 < sizeof f->raw)
                        f->raw[rn++] = '\'';
                    end++;
                    continue;
                }
                if ((cp == ',' || cp == '.') && digits_only && nx >= '0' && nx <= '9') {
                    end++; /* 6,500 and 3.5: one number, separators dropped */
                    continue;
                }
            }
            break;
        }
        self->pos = end > i ? end : i + k;
        if (rn == 0)
            continue;
        f->start = (uint32_t)start;
        f->end = (uint32_t)end;
        f->rn = (uint32_t)rn;
        f->digits_only = digits_only;
        f->cjk = false;
        f->memo_ok = false;
        if (!digits_only && rn <= CACHE_BYTES) {
            if (!self->memo && !self->memo_failed) {
                size_t bytes = (size_t)CACHE_SETS * CACHE_WAYS * sizeof *self->memo;
                self->memo = aligned_alloc(CACHE_WAYS * 64, bytes);
                if (self->memo)
                    memset(self->memo, 0, bytes);
                else
                    self->memo_failed = true;
            }
            if (self->memo) {
                f->key = XXH3_64bits(f->raw, rn) ^ (uint64_t)self->lang;
                f->memo_ok = true;
                const s_memo *set = &self->memo[(f->key & (CACHE_SETS - 1)) * CACHE_WAYS];
                for (unsigned w = 0; w < CACHE_WAYS; w++)
                    __builtin_prefetch(set + w);
            }
        }
        return true;
    }
}

/* The token of a found word: from the memo, or folded and stemmed (and
 * remembered). False when the word folds to nothing. */
static bool s_resolve(td_tokenizer *self, const s_found *f, td_token *tok)
{
    size_t rn = f->rn;
    if (f->cjk) {
        memcpy(self->norm, f->raw, rn);
        self->norm[rn] = '\0';
        uint64_t h = XXH3_64bits(self->norm, rn);
        *tok = (td_token){f->start, f->end, self->norm, (uint32_t)rn, self->norm, (uint32_t)rn,
                          TD_TOK_CJK, false, h, (uint32_t)h};
        return true;
    }
    s_memo *into = NULL;   /* the set the word joins once resolved */
    if (f->memo_ok) {
        s_memo *set = &self->memo[(f->key & (CACHE_SETS - 1)) * CACHE_WAYS];
        for (unsigned w = 0; w < CACHE_WAYS; w++) {
            s_memo *e = &set[w];
            if (e->raw_len != rn || e->lang_stop >> 1 != (uint8_t)self->lang ||
                memcmp(e->s, f->raw, rn) != 0)
                continue;
            if (w) {
                /* the most recently used word first: a new word evicts
                 * the set's least recently used */
                s_memo t = *e;
                memmove(set + 1, set, w * sizeof *set);
                set[0] = t;
                e = set;
            }
            memcpy(self->norm, e->s + rn, e->norm_len);
            self->norm[e->norm_len] = '\0';
            memcpy(self->stem, e->s + rn + e->norm_len, e->stem_len);
            self->stem[e->stem_len] = '\0';
            *tok = (td_token){f->start, f->end, self->norm, e->norm_len, self->stem,
                              e->stem_len, TD_TOK_WORD, e->lang_stop & 1, e->norm_hash,
                              e->stem_hash};
            return true;
        }
        into = set;
    }
    bool digits_only = f->digits_only;
    size_t n = td_normalize_fold(f->raw, rn, self->norm, TD_TOKEN_MAX + 1);
    if (n == 0)
        return false;
    tok->start = f->start;
    tok->end = f->end;
    tok->norm = self->norm;
    tok->norm_len = (uint32_t)n;
    tok->kind = digits_only ? TD_TOK_NUMBER : TD_TOK_WORD;
    tok->stop = !digits_only && td_lang_is_stop(self->lang, self->norm, n);
    size_t sl = n;
    const char *st = self->norm;
    if (!digits_only)
        st = td_tokenizer_stem(self, self->lang, self->norm, n, &sl);
    tok->stem = st;
    tok->stem_len = (uint32_t)sl;
    tok->norm_hash = XXH3_64bits(self->norm, n);
    tok->stem_hash = st == self->norm ? (uint32_t)tok->norm_hash
                                      : (uint32_t)XXH3_64bits(st, sl);
    if (into && rn + n + sl <= CACHE_BYTES) {
        /* the new word takes the first way, the others move down one */
        memmove(into + 1, into, (CACHE_WAYS - 1) * sizeof *into);
        s_memo *m = into;
        m->raw_len = (uint8_t)rn;
        m->lang_stop = (uint8_t)((unsigned)self->lang << 1 | (tok->stop ? 1u : 0u));
        m->norm_len = (uint8_t)n;
        m->stem_len = (uint8_t)sl;
        m->norm_hash = tok->norm_hash;
        m->stem_hash = tok->stem_hash;
        memcpy(m->s, f->raw, rn);
        memcpy(m->s + rn, self->norm, n);
        memcpy(m->s + rn + n, st, sl);
    }
    return true;
}

bool td_tokenizer_next(td_tokenizer *self, td_token *tok)
{
    for (;;) {
        while (self->nfound < AHEAD && !self->at_end) {
            if (s_find(self, &self->found[(self->head + self->nfound) % AHEAD]))
                self->nfound++;
            else
                self->at_end = true;
        }
        if (!self->nfound)
            return false;
        const s_found *f = &self->found[self->head];
        self->head = (self->head + 1) % AHEAD;
        self->nfound--;
        /* f stays intact until the next call refills its slot */
        if (s_resolve(self, f, tok))
            return true;
    }
}
