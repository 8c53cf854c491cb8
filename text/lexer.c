/* lexer.c — words and sentences of a cleaned text; see lexer.h. */
#include "lexer.h"

#include <string.h>
#include <utf8proc.h>

#include "lexicon.h"
#include "normalize.h"

uint64_t td_lex_hash(const char *s, size_t n)
{
    /* FNV-1a: short words, called once per word; cheaper than a general hash */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        h = (h ^ c) * 0x100000001b3ull;
    }
    return h;
}

bool td_word_eq(const td_doc *d, uint32_t i, const char *lit, size_t n)
{
    const char *p = d->text + d->w[i].s;
    for (size_t k = 0; k < n; k++) {
        char a = p[k], b = lit[k];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a + 32);
        if (a != b)
            return false;
    }
    return true;
}

typedef enum { C_OTHER, C_SPACE, C_NL, C_UPPER, C_LOWER, C_LETTER, C_DIGIT } s_cls;

static s_cls s_class(int32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'a' && cp <= 'z')
            return C_LOWER;
        if (cp >= 'A' && cp <= 'Z')
            return C_UPPER;
        if (cp >= '0' && cp <= '9')
            return C_DIGIT;
        if (cp == ' ')
            return C_SPACE;
        if (cp == '\n')
            return C_NL;
        return C_OTHER;
    }
    if (cp == 0xFFFD)
        return C_OTHER;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LT:
        return C_UPPER;
    case UTF8PROC_CATEGORY_LL:
        return C_LOWER;
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_ZS:
        return C_SPACE;
    default:
        return C_OTHER;
    }
}

static inline bool s_wordy(s_cls c)
{
    return c == C_UPPER || c == C_LOWER || c == C_LETTER || c == C_DIGIT;
}

/* Classes of the ASCII bytes: the common case, without decoding. */
static const uint8_t s_ascii[128] = {
    ['\n'] = C_NL, [' '] = C_SPACE,
    ['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT, ['4'] = C_DIGIT,
    ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT, ['8'] = C_DIGIT, ['9'] = C_DIGIT,
#define U(c) [c] = C_UPPER
    U('A'), U('B'), U('C'), U('D'), U('E'), U('F'), U('G'), U('H'), U('I'), U('J'), U('K'),
    U('L'), U('M'), U('N'), U('O'), U('P'), U('Q'), U('R'), U('S'), U('T'), U('U'), U('V'),
    U('W'), U('X'), U('Y'), U('Z'),
#undef U
#define L(c) [c] = C_LOWER
    L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'), L('i'), L('j'), L('k'),
    L('l'), L('m'), L('n'), L('o'), L('p'), L('q'), L('r'), L('s'), L('t'), L('u'), L('v'),
    L('w'), L('x'), L('y'), L('z'),
#undef L
};

/* Class of the code point at i (C_OTHER past the end). */
static inline s_cls s_at(const char *t, size_t len, size_t i, size_t *k)
{
    if (i >= len) {
        if (k)
            *k = 0;
        return C_OTHER;
    }
    unsigned char c = (unsigned char)t[i];
    if (c < 0x80) {
        if (k)
            *k = 1;
        return (s_cls)s_ascii[c];
    }
    int32_t cp;
    size_t n = td_utf8_next(t + i, len - i, &cp);
    if (k)
        *k = n;
    return s_class(cp);
}

/* Lex words. Returns the count, or -1 on a full arena. */
static int64_t s_words(td_doc *d, td_arena *arena)
{
    const char *t = d->text;
    size_t len = d->len;
    size_t cap = len / 2 + 16;
    if (cap > TD_LEX_MAX_WORDS)
        cap = TD_LEX_MAX_WORDS;
    d->w = td_arena_alloc(arena, cap * sizeof *d->w);
    if (!d->w)
        return -1;
    uint32_t n = 0, pending = 0;
    size_t i = 0;
    while (i < len && n < cap) {
        size_t k;
        s_cls c = s_at(t, len, i, &k);
        if (c == C_SPACE) {
            pending |= W_SPACE;
            i += k;
            continue;
        }
        if (c == C_NL) {
            pending |= W_NL;
            i += k;
            continue;
        }
        td_word *w = &d->w[n];
        w->s = (uint32_t)i;
        w->flags = pending;
        pending = 0;
        if (!s_wordy(c)) {
            /* one punctuation character: ASCII byte, or a whole code point */
            w->e = (uint32_t)(i + k);
            w->flags |= W_PUNCT;
            w->h = td_lex_hash(t + i, k);
            i += k;
            n++;
            continue;
        }
        size_t j = i;
        bool upper_only = true, has_digit = false, has_alpha = false;
        unsigned letters = 0;
        s_cls first = c;
        /* dotted abbreviation: single letters each followed by a dot (U.S.,
         * U.N., a.m.) */
        if ((c == C_UPPER || c == C_LOWER) && i + 3 < len && t[i + 1] == '.' &&
            (s_at(t, len, i + 2, NULL) == C_UPPER || s_at(t, len, i + 2, NULL) == C_LOWER) &&
            t[i + 3] == '.') {
            j = i;
            while (j + 1 < len && (s_at(t, len, j, NULL) == C_UPPER || s_at(t, len, j, NULL) == C_LOWER) &&
                   t[j + 1] == '.' && j - i < 20)
                j += 2;
            w->e = (uint32_t)j;
            w->flags |= W_ABBR | (first == C_UPPER ? W_CAP : W_LOWER);
            w->h = td_lex_hash(t + i, j - i - 1);
            i = j;
            n++;
            continue;
        }
        while (j < len) {
            size_t kk;
            s_cls cc = s_at(t, len, j, &kk);
            if (s_wordy(cc)) {
                if (cc == C_DIGIT)
                    has_digit = true;
                else {
                    has_alpha = true;
                    letters++;
                    if (cc == C_LOWER)
                        upper_only = false;
                }
                j += kk;
                continue;
            }
            size_t k2;
            s_cls nx = s_at(t, len, j + 1, &k2);
            if (t[j] == '-' && s_wordy(nx) && j > i) {
                w->flags |= W_HYPH;
                j++;
                continue;
            }
            if (t[j] == '\'' && s_wordy(nx)) {
                /* possessive 's ends the word; other apostrophes (O'Brien,
                 * don't) stay inside it */
                if ((t[j + 1] == 's' || t[j + 1] == 'S') && !s_wordy(s_at(t, len, j + 2, NULL)))
                    break;
                j++;
                continue;
            }
            if ((t[j] == ',' || t[j] == '.') && has_digit && !has_alpha && nx == C_DIGIT) {
                j++;
                continue;
            }
            break;
        }
        w->e = (uint32_t)j;
        if (first == C_UPPER)
            w->flags |= W_CAP;
        else if (first == C_LOWER)
            w->flags |= W_LOWER;
        if (has_digit && !has_alpha)
            w->flags |= W_NUM;
        else if (has_digit)
            w->flags |= W_ALNUM;
        if (upper_only && letters >= 2)
            w->flags |= W_UPPER;
        w->h = td_lex_hash(t + i, j - i);
        i = j;
        /* possessive: 's or a bare ' after a word ending in s */
        if (i + 1 < len && t[i] == '\'' && (t[i + 1] == 's' || t[i + 1] == 'S') &&
            !s_wordy(s_at(t, len, i + 2, NULL))) {
            w->flags |= W_POSS;
            i += 2;
        } else if (i < len && t[i] == '\'' && i > 0 && (t[i - 1] == 's') &&
                   !s_wordy(s_at(t, len, i + 1, NULL))) {
            w->flags |= W_POSS;
            i += 1;
        }
        if (i < len && t[i] == '.')
            w->flags |= W_DOTNEXT;
        n++;
    }
    d->nw = n;
    for (uint32_t k = 0; k < n; k++)
        d->w[k].cls = (d->w[k].flags & W_NUM) ? 0 : td_lex_lookup(d->w[k].h, &d->w[k].val);
    return n;
}

/* Whether word i, followed by a '.', is an abbreviation or an initial rather
 * than the end of a sentence. */
static bool s_abbrev_before_dot(const td_doc *d, uint32_t i)
{
    const td_word *w = &d->w[i];
    if (w->flags & W_PUNCT)
        return false;
    uint32_t n = w->e - w->s;
    if (n == 1 && (w->flags & W_CAP))
        return true; /* an initial: "John F. Kennedy" */
    uint32_t cls = w->cls;
    if ((cls & K_ABBREV) && (w->flags & W_CAP))
        return true;
    if ((cls & K_ABBREV) && n <= 4 && !(cls & K_STOP))
        return true;
    return false;
}

/* Does a sentence start at word j (after end punctuation)? */
static bool s_starts_sentence(const td_doc *d, uint32_t j)
{
    if (j >= d->nw)
        return true;
    const td_word *w = &d->w[j];
    if (w->flags & (W_CAP | W_NUM | W_NL))
        return true;
    if (w->flags & W_PUNCT) {
        char c = d->text[w->s];
        return c == '"' || c == '(' || c == '\'' || c == '[' || c == '-';
    }
    return !(w->flags & W_LOWER); /* other scripts: no case to tell */
}

static int s_sentences(td_doc *d, td_arena *arena)
{
    uint32_t cap = d->nw / 2 + 8;
    d->s = td_arena_alloc(arena, cap * sizeof *d->s);
    if (!d->s)
        return -1;
    uint32_t ns = 0, start = 0, line = 0;
    for (uint32_t i = 0; i < d->nw; i++) {
        const td_word *w = &d->w[i];
        bool brk = false;
        uint32_t end = i + 1; /* the sentence would be [start, end) */
        if (i + 1 < d->nw && (d->w[i + 1].flags & W_NL)) {
            brk = true;
        } else if (i + 1 - start >= TD_LEX_MAX_SENT_WORDS) {
            brk = true;
        } else if (i + 1 == d->nw) {
            brk = true;
        } else if (w->flags & W_PUNCT) {
            char c = d->text[w->s];
            if (c == '.' || c == '!' || c == '?') {
                /* closing quotes and brackets belong to the ending sentence */
                uint32_t j = i + 1;
                while (j < d->nw && (d->w[j].flags & W_PUNCT) &&
                       (d->text[d->w[j].s] == '"' || d->text[d->w[j].s] == ')' ||
                        d->text[d->w[j].s] == '\'' || d->text[d->w[j].s] == ']') &&
                       !(d->w[j].flags & W_SPACE) && !(d->w[j].flags & W_NL))
                    j++;
                bool prev_abbr = c == '.' && i > start && !(d->w[i].flags & W_SPACE) &&
                                 s_abbrev_before_dot(d, i - 1);
                bool spaced = j < d->nw && (d->w[j].flags & (W_SPACE | W_NL));
                if (!prev_abbr && spaced && s_starts_sentence(d, j)) {
                    brk = true;
                    end = j;
                    i = j - 1;
                }
            }
        } else if (w->flags & W_ABBR) {
            /* "in the U.S. The talks...": a dotted abbreviation ends a
             * sentence when a capitalised stop word follows */
            if (i + 1 < d->nw && (d->w[i + 1].flags & W_CAP) &&
                (d->w[i + 1].cls & K_STOP))
                brk = true;
        }
        if (brk && ns < cap) {
            td_sent *s = &d->s[ns];
            s->w0 = start;
            s->w1 = end;
            s->s = d->w[start].s;
            s->e = d->w[end - 1].e;
            s->line = line;
            /* a whole line without end punctuation is a heading */
            bool line_start = start == 0 || (d->w[start].flags & W_NL);
            bool line_end = end == d->nw || (d->w[end].flags & W_NL);
            const td_word *last = &d->w[end - 1];
            char lc = d->text[last->s];
            s->heading = line_start && line_end && end - start >= 2 && end - start <= 20 &&
                         !((last->flags & W_PUNCT) && (lc == '.' || lc == '!' || lc == '?' ||
                                                       lc == '"' || lc == ':' || lc == ')'));
            for (uint32_t k = start; k < end; k++)
                d->w[k].sent = ns;
            d->w[start].flags |= W_SSTART;
            ns++;
            start = end;
            if (end < d->nw && (d->w[end].flags & W_NL))
                line++;
        }
    }
    d->ns = ns;
    return 0;
}

int td_doc_lex(td_doc *doc, td_arena *arena, const char *text, size_t len)
{
    memset(doc, 0, sizeof *doc);
    doc->text = text;
    doc->len = len;
    if (s_words(doc, arena) < 0)
        return -1;
    if (doc->nw == 0)
        return 0;
    return s_sentences(doc, arena);
}
