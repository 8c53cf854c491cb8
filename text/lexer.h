/* lexer.h — words and sentences of a cleaned English-first text (internal).
 *
 * The analysis steps (entities, dates, claims, quotes) read one td_doc: the
 * words of the cleaned body with their shape flags, a hash of their
 * lower-cased form for keyword tests (lexicon), and the sentences. Unlike the
 * public tokeniser (tokens.h), punctuation is kept as one-byte words, case is
 * kept, possessives are split off into a flag, dotted abbreviations ("U.S.")
 * stay one word. Not part of the library's public API.
 */
#ifndef TD_LEXER_H
#define TD_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum {
    W_CAP = 1u << 0,     /* starts with an upper-case letter */
    W_UPPER = 1u << 1,   /* two or more letters, all upper case */
    W_NUM = 1u << 2,     /* digits (with , or . separators) */
    W_PUNCT = 1u << 3,   /* one punctuation byte */
    W_POSS = 1u << 4,    /* followed by a possessive 's or ' (not part of the word) */
    W_LOWER = 1u << 5,   /* starts with a lower-case letter */
    W_ABBR = 1u << 6,    /* dotted abbreviation, dot included: "U.S." */
    W_SSTART = 1u << 7,  /* first word of its sentence */
    W_HYPH = 1u << 8,    /* contains a hyphen: "Nagorno-Karabakh" */
    W_NL = 1u << 9,      /* a line break precedes the word */
    W_ALNUM = 1u << 10,  /* letters and digits mixed: "F-16", "2nd" */
    W_DOTNEXT = 1u << 11,/* a '.' follows immediately (abbreviation candidate) */
    W_SPACE = 1u << 12,  /* a space precedes the word */
};

typedef struct {
    uint32_t s, e;   /* byte range in the text (possessive excluded) */
    uint32_t flags;
    uint32_t sent;   /* index of its sentence */
    uint64_t h;      /* lexicon hash of the ASCII-lower-cased word */
    uint32_t cls;    /* its lexicon classes (lexicon.h), looked up once */
    int32_t val;     /* and the lexicon value */
} td_word;

typedef struct {
    uint32_t s, e;   /* byte range */
    uint32_t w0, w1; /* words [w0, w1) */
    uint32_t line;   /* line (paragraph) number, from 0 */
    bool heading;    /* a whole line with no final punctuation: a subheading */
} td_sent;

typedef struct {
    const char *text;
    size_t len;
    td_word *w;
    uint32_t nw;
    td_sent *s;
    uint32_t ns;
} td_doc;

/* Most words read from one text: longer texts are analysed up to here. */
#define TD_LEX_MAX_WORDS 200000u
/* Most words in one sentence: a longer run is cut, which bounds the work of
 * every step that looks around a word within its sentence. */
#define TD_LEX_MAX_SENT_WORDS 160u

/* Split `text` into words and sentences, arrays in `arena`. Returns 0, or -1
 * when the arena is full. */
int td_doc_lex(td_doc *doc, td_arena *arena, const char *text, size_t len);

/* The hash the lexicon uses for a word (ASCII letters lower-cased). */
uint64_t td_lex_hash(const char *s, size_t n);

/* Word i's byte length and whether its text equals `lit` ignoring ASCII case. */
static inline uint32_t td_wlen(const td_doc *d, uint32_t i)
{
    return d->w[i].e - d->w[i].s;
}
bool td_word_eq(const td_doc *d, uint32_t i, const char *lit, size_t n);
/* Whether word i is `lit` (n bytes, lower case) ignoring ASCII case. Inline:
 * the length test rejects almost every word before any byte is compared. */
static inline bool td_word_isn(const td_doc *d, uint32_t i, const char *lit, size_t n)
{
    return i < d->nw && d->w[i].e - d->w[i].s == n && td_word_eq(d, i, lit, n);
}
/* `lit` must be a string literal (its length is known at compile time:
 * this test runs for most words of a text); td_word_isn for the others. */
#define td_word_is(d, i, lit) td_word_isn((d), (i), "" lit, sizeof("" lit) - 1)
/* Whether word i is the one-byte punctuation `c`. */
static inline bool td_word_punct(const td_doc *d, uint32_t i, char c)
{
    return i < d->nw && (d->w[i].flags & W_PUNCT) && d->text[d->w[i].s] == c;
}

#endif
