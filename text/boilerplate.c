#define _GNU_SOURCE
/* boilerplate.c — boilerplate rules and per-source learning; see
 * boilerplate.h. */
#include "boilerplate.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MAX_LINES 4096         /* lines examined; the rest is kept as it is */
#define LEARN_SOURCES 256      /* sources remembered (least recently used go) */
#define LEARN_LINES 128        /* line counters per source */
#define LEARN_RECENT 8         /* recent body hashes per source: resubmissions */
#define LEARN_MAX_LINE 300     /* only lines this short are learnt */
#define LEARN_MIN_COUNT 5      /* seen under at least this many articles ... */
#define LEARN_MIN_SHARE 0.2    /* ... and this share of those since first seen */

typedef struct {
    uint64_t h;
    uint32_t count;
    uint32_t first; /* the source's article number when first counted */
} s_line;

typedef struct {
    uint64_t h;          /* hash of the source name; 0 = free slot */
    uint64_t used;       /* clock of last use */
    uint32_t articles;
    uint64_t recent[LEARN_RECENT];
    s_line lines[LEARN_LINES];
} s_source;

struct td_boiler {
    pthread_mutex_t mu;
    uint64_t clock;
    s_source src[LEARN_SOURCES];
};

td_boiler *td_boiler_new(void)
{
    td_boiler *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (pthread_mutex_init(&self->mu, NULL) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

void td_boiler_destroy(td_boiler **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->mu);
    free(*self_p);
    *self_p = NULL;
}

/* ---- text helpers ------------------------------------------------------ */

static char s_lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Does s[0..n) start with `p` (lower-case ASCII), ignoring case? */
static bool s_istarts(const char *s, size_t n, const char *p)
{
    size_t i = 0;
    for (; p[i]; i++)
        if (i >= n || s_lc(s[i]) != p[i])
            return false;
    return true;
}

/* Does s[0..n) contain `p` (lower-case ASCII) ignoring case? */
static bool s_icontains(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    if (k == 0 || n < k)
        return k == 0;
    for (size_t i = 0; i + k <= n; i++) {
        if (s_lc(s[i]) != p[0])
            continue;
        size_t j = 1;
        while (j < k && s_lc(s[i + j]) == p[j])
            j++;
        if (j == k)
            return true;
    }
    return false;
}

/* Does the word `p` occur in s as a whole word, ignoring case? */
static bool s_has_word(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    for (size_t i = 0; i + k <= n; i++) {
        if (i > 0 && ((s[i - 1] | 0x20) >= 'a' && (s[i - 1] | 0x20) <= 'z'))
            continue;
        size_t j = 0;
        while (j < k && s_lc(s[i + j]) == p[j])
            j++;
        if (j == k && (i + k == n || !((s[i + k] | 0x20) >= 'a' && (s[i + k] | 0x20) <= 'z')))
            return true;
    }
    return false;
}

static size_t s_words(const char *s, size_t n)
{
    size_t w = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        bool sp = s[i] == ' ';
        if (!sp && !in)
            w++;
        in = !sp;
    }
    return w;
}

static bool s_any_start(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (s_istarts(s, n, *list))
            return true;
    return false;
}

static bool s_any_word(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (s_has_word(s, n, *list))
            return true;
    return false;
}

/* A web address: word.tld or www. */
static bool s_has_domain(const char *s, size_t n)
{
    static const char *const tlds[] = {".com", ".net", ".org", ".in", ".co", ".uk", ".io",
                                       ".news", ".info", ".tv", ".de", ".fr", NULL};
    if (s_icontains(s, n, "www.") || s_icontains(s, n, "http"))
        return true;
    for (const char *const *t = tlds; *t; t++) {
        size_t k = strlen(*t);
        for (size_t i = 1; i + k <= n; i++)
            if (s[i - 1] != ' ' && s_istarts(s + i, n - i, *t) &&
                (i + k == n || s[i + k] == ' ' || s[i + k] == '/' || s[i + k] == '.' ||
                 s[i + k] == ',' || s[i + k] == ')'))
                return true;
    }
    return false;
}

/* ---- the rules ---------------------------------------------------------- */

/* Credit syntax: who reported, wrote, edited, photographed. */
static const char *const s_credit_starts[] = {
    "reporting by", "additional reporting", "writing by", "editing by", "edited by",
    "compiled by", "written by", "reported by", "with inputs from", "with input from",
    "inputs from", "with agency inputs", "with reporting by", "with reporting from",
    "photo:", "photo by", "photos:", "photograph:", "image:", "image credit", "picture:",
    "file photo", "ap photo", "credit:", "translated by", "translation by",
    "produced by", "graphics by", "research by", "fact-checked by", NULL};

/* Lines that only exist on the page around the article. */
static const char *const s_page_starts[] = {
    "share this", "share on", "share:", "tweet this", "click here", "read more",
    "read also", "also read", "read next", "related:", "related articles",
    "related stories", "related news", "recommended", "advertisement", "sponsored",
    "subscribe to", "subscribe now", "sign up", "follow us", "follow the", "download the",
    "download our", "join our", "like us on", "for more news", "get the latest",
    "watch:", "watch the", "listen:", "listen to", "more from", "more:", "see also",
    "don't miss", "must read", "trending:", "top stories", "this story has been",
    "this article was", "this article has", "this report was", "this content", NULL};

/* Words of a promotion that addresses the reader. */
static const char *const s_promo_words[] = {
    "subscribe", "newsletter", "follow", "download", "sign", "join", "register",
    "click", "visit", "write", "share", "app", "channel", "community", "membership",
    "donate", "support", NULL};

static const char *const s_reader_words[] = {"you", "your", "us", NULL};

/* Words of an author's bio. */
static const char *const s_bio_words[] = {
    "writer", "author", "journalist", "reporter", "correspondent", "editor", "columnist",
    "contributor", "blogger", "freelance", "freelancer", "commentator", "photographer",
    "writes", "covers", "works", "worked", "studied", "graduate", NULL};

static bool s_is_credit(const char *s, size_t n, size_t words)
{
    const char *p = s;
    size_t m = n;
    bool paren = false;
    if (m > 2 && p[0] == '(' && p[m - 1] == ')') {
        p++;
        m -= 2;
        paren = true;
    } else if (m > 1 && p[0] == '(') {
        p++;
        m--;
        paren = true;
    }
    if (s_any_start(p, m, s_credit_starts))
        return true;
    if (words <= 30 && memmem(s, n, "ontributed", 10) &&
        (s_icontains(s, n, "contributed to this report") ||
         s_icontains(s, n, "contributed reporting")))
        return true;
    /* a whole line in brackets that speaks of sources and reporting */
    if (paren && words <= 20 &&
        (s_has_word(p, m, "inputs") || s_has_word(p, m, "agencies") ||
         s_has_word(p, m, "reporting") || s_has_word(p, m, "editing")))
        return true;
    return false;
}

static bool s_is_source_line(const char *s, size_t n, size_t words)
{
    static const char *const k[] = {"source:", "sources:", "via:", "courtesy:",
                                    "source :", "credits:", "(source:", NULL};
    return words <= 12 && s_any_start(s, n, k);
}

static bool s_is_page_line(const char *s, size_t n, size_t w)
{
    if (w <= 30 && (memmem(s, n, "\xC2\xA9", 2) || s_icontains(s, n, "all rights reserved") ||
                    s_istarts(s, n, "copyright") || s_icontains(s, n, "(c) 20")))
        return true;
    if (w <= 25 && s_any_start(s, n, s_page_starts))
        return true;
    /* a lone social button label */
    static const char *const lone[] = {"share", "tweet", "email", "print", "comments",
                                       "facebook", "twitter", "whatsapp", "linkedin",
                                       "advertisement", "ad", NULL};
    if (w <= 2)
        for (const char *const *l = lone; *l; l++)
            if (s_istarts(s, n, *l) && n <= strlen(*l) + 1)
                return true;
    return false;
}

/* The reader addressed with a call to act, not inside a quotation. */
static bool s_is_promo(const char *s, size_t n)
{
    if (n > 300 || memchr(s, '"', n))
        return false; /* promotions are a line or two, never quoted */
    if (!s_any_word(s, n, s_reader_words))
        return false;
    bool domain = s_has_domain(s, n);
    bool promo = s_any_word(s, n, s_promo_words);
    return (domain && promo) || (promo && s_words(s, n) <= 30 &&
                                 (s_istarts(s, n, "you can") || s_istarts(s, n, "follow") ||
                                  s_istarts(s, n, "subscribe") || s_istarts(s, n, "sign up") ||
                                  s_istarts(s, n, "download") || s_istarts(s, n, "join")));
}

/* "Jane Doe is a reporter ...", "He currently works as ...", "About the author". */
static bool s_is_bio(const char *s, size_t n)
{
    if (memchr(s, '"', n))
        return false;
    if (s_istarts(s, n, "about the author"))
        return true;
    /* up to four capitalised words, then is/was/has been + a/an/the */
    size_t i = 0;
    int caps = 0;
    while (i < n && caps < 5) {
        if (!(s[i] >= 'A' && s[i] <= 'Z'))
            break;
        while (i < n && s[i] != ' ')
            i++;
        caps++;
        while (i < n && s[i] == ' ')
            i++;
    }
    const char *r = s + i;
    size_t m = n - i;
    bool third = false;
    if (caps >= 2 && (s_istarts(r, m, "is a") || s_istarts(r, m, "is an") ||
                      s_istarts(r, m, "is the") || s_istarts(r, m, "was a") ||
                      s_istarts(r, m, "has been a") || s_istarts(r, m, "is one of")))
        third = true;
    if (s_istarts(s, n, "he is a") || s_istarts(s, n, "she is a") ||
        s_istarts(s, n, "he currently") || s_istarts(s, n, "she currently") ||
        s_istarts(s, n, "they currently"))
        third = true;
    if (!third)
        return false;
    /* the bio words must be in the first sentence or two */
    size_t lim = n < 240 ? n : 240;
    return s_any_word(s, lim, s_bio_words);
}

/* A byline at the top: "By Jane Doe" (and an optional ", Reuters"). */
static bool s_is_byline(const char *s, size_t n)
{
    if (!s_istarts(s, n, "by ") || s_words(s, n) > 8 || n < 5)
        return false;
    if (!(s[3] >= 'A' && s[3] <= 'Z'))
        return false;
    char last = s[n - 1];
    return last != '.' || n < 40;
}

/* ---- learning ----------------------------------------------------------- */

/* Hash of a line for learning: letters only, case-folded, so a recurring
 * line with a changing date or count is still one line. */
static uint64_t s_line_hash(const char *s, size_t n)
{
    char buf[LEARN_MAX_LINE];
    size_t m = 0;
    for (size_t i = 0; i < n && m < sizeof buf; i++) {
        char c = s_lc(s[i]);
        if ((c >= 'a' && c <= 'z') || (unsigned char)c >= 0x80)
            buf[m++] = c;
    }
    return m < 8 ? 0 : XXH3_64bits(buf, m);
}

static s_source *s_source_get(td_boiler *self, uint64_t sh)
{
    s_source *lru = &self->src[0];
    for (size_t i = 0; i < LEARN_SOURCES; i++) {
        s_source *s = &self->src[i];
        if (s->h == sh)
            return s;
        if (s->used < lru->used)
            lru = s;
    }
    memset(lru, 0, sizeof *lru);
    lru->h = sh;
    return lru;
}

static s_line *s_line_find(s_source *src, uint64_t h)
{
    for (size_t i = 0; i < LEARN_LINES; i++)
        if (src->lines[i].h == h && src->lines[i].count)
            return &src->lines[i];
    return NULL;
}

static bool s_learnt(const s_source *src, const s_line *l)
{
    if (!l || l->count < LEARN_MIN_COUNT)
        return false;
    uint32_t since = src->articles - l->first + 1;
    return (double)l->count >= LEARN_MIN_SHARE * since;
}

static void s_count(s_source *src, uint64_t h)
{
    s_line *l = s_line_find(src, h);
    if (l) {
        l->count++;
        return;
    }
    /* replace the weakest counter: lines seen once or twice long ago go
     * first, recurring ones stay */
    s_line *min = &src->lines[0];
    for (size_t i = 1; i < LEARN_LINES && min->count; i++)
        if (src->lines[i].count < min->count ||
            (src->lines[i].count == min->count && src->lines[i].first < min->first))
            min = &src->lines[i];
    min->h = h;
    min->count = 1;
    min->first = src->articles;
}

/* ---- strip -------------------------------------------------------------- */

enum { L_KEEP = 0, L_DROP };

int td_boiler_strip(td_boiler *learner, td_arena *arena, const char *source,
                    const char *text, size_t len, td_boiler_result *out)
{
    memset(out, 0, sizeof *out);
    /* lines */
    size_t nl = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            nl++;
    if (nl > MAX_LINES)
        nl = MAX_LINES;
    uint32_t *ls = td_arena_alloc(arena, nl * sizeof *ls);
    uint32_t *le = td_arena_alloc(arena, nl * sizeof *le);
    uint8_t *mark = td_arena_alloc(arena, nl);
    uint32_t *cut = td_arena_alloc(arena, nl * sizeof *cut); /* keep [ls, cut) */
    uint64_t *lh = td_arena_alloc(arena, nl * sizeof *lh);
    char *buf = td_arena_alloc(arena, len + 2);
    out->removed = td_arena_alloc(arena, nl * sizeof *out->removed);
    if (!ls || !le || !mark || !cut || !lh || !buf || !out->removed)
        return -1;
    size_t n = 0, p = 0;
    while (p <= len && n < nl) {
        const char *e = memchr(text + p, '\n', len - p);
        size_t end = e ? (size_t)(e - text) : len;
        if (n == nl - 1)
            end = len; /* the last line takes whatever is left */
        ls[n] = (uint32_t)p;
        le[n] = (uint32_t)end;
        cut[n] = (uint32_t)end;
        n++;
        p = end + 1;
    }

    /* the last non-empty lines: bios and promotion live there */
    size_t content = 0;
    for (size_t i = 0; i < n; i++)
        if (le[i] > ls[i])
            content++;
    size_t seen = 0;
    bool bio_started = false;
    for (size_t i = 0; i < n; i++) {
        const char *s = text + ls[i];
        size_t m = le[i] - ls[i];
        if (m == 0)
            continue;
        seen++;
        bool tail = seen + 3 > content; /* among the last three lines */
        bool head = seen <= 2;
        if (m > 400 && !tail)
            continue; /* a paragraph of news, too long for a credit or a page line */
        size_t words = s_words(s, m);
        if (s_is_credit(s, m, words) || s_is_source_line(s, m, words) ||
            s_is_page_line(s, m, words) || (head && s_is_byline(s, m))) {
            mark[i] = L_DROP;
            continue;
        }
        if (tail && (s_is_promo(s, m) || s_is_bio(s, m))) {
            mark[i] = L_DROP;
            bio_started = true;
            continue;
        }
        if (bio_started && (s_istarts(s, m, "he ") || s_istarts(s, m, "she ") ||
                            s_istarts(s, m, "his ") || s_istarts(s, m, "her "))) {
            mark[i] = L_DROP;
            continue;
        }
        /* "... Peskov said. (Reporting by X; Editing by Y)" on one line */
        if (s[m - 1] == ')') {
            for (size_t k = m - 1; k > 0; k--) {
                if (s[k] == '(') {
                    if (k > 0 && s_is_credit(s + k, m - k, s_words(s + k, m - k))) {
                        size_t c = k;
                        while (c > 0 && s[c - 1] == ' ')
                            c--;
                        cut[i] = ls[i] + (uint32_t)c;
                    }
                    break;
                }
            }
        }
    }

    /* learnt lines of this source */
    if (learner && source && source[0]) {
        uint64_t sh = XXH3_64bits(source, strlen(source)) | 1u;
        uint64_t bh = XXH3_64bits(text, len);
        for (size_t i = 0; i < n; i++)
            lh[i] = (le[i] - ls[i] <= LEARN_MAX_LINE) ? s_line_hash(text + ls[i], le[i] - ls[i]) : 0;
        pthread_mutex_lock(&learner->mu);
        s_source *src = s_source_get(learner, sh);
        src->used = ++learner->clock;
        bool resubmitted = false;
        for (size_t r = 0; r < LEARN_RECENT; r++)
            if (src->recent[r] == bh)
                resubmitted = true;
        for (size_t i = 0; i < n; i++)
            if (lh[i] && mark[i] == L_KEEP && s_learnt(src, s_line_find(src, lh[i])))
                mark[i] = L_DROP;
        if (!resubmitted) {
            src->recent[src->articles % LEARN_RECENT] = bh;
            src->articles++;
            /* each distinct line once per article */
            for (size_t i = 0; i < n; i++) {
                if (!lh[i])
                    continue;
                bool dup = false;
                for (size_t j = 0; j < i && !dup; j++)
                    dup = lh[j] == lh[i];
                if (!dup)
                    s_count(src, lh[i]);
            }
        }
        pthread_mutex_unlock(&learner->mu);
    }

    /* never drop everything: an article that is all "boilerplate" is kept */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (mark[i] == L_KEEP && cut[i] > ls[i])
            kept++;
    if (kept == 0) {
        memset(mark, L_KEEP, n);
        for (size_t i = 0; i < n; i++)
            cut[i] = le[i];
    }

    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (mark[i] == L_DROP) {
            if (le[i] > ls[i])
                out->removed[out->n_removed++] =
                    td_arena_strndup(arena, text + ls[i], le[i] - ls[i]);
            continue;
        }
        if (cut[i] < le[i]) {
            size_t k = cut[i];
            while (k < le[i] && text[k] == ' ')
                k++;
            out->removed[out->n_removed++] = td_arena_strndup(arena, text + k, le[i] - k);
        }
        size_t m = cut[i] - ls[i];
        /* at most one blank line in a row, none at the start */
        if (m == 0 && (o == 0 || (o >= 2 && buf[o - 1] == '\n' && buf[o - 2] == '\n')))
            continue;
        memcpy(buf + o, text + ls[i], m);
        o += m;
        buf[o++] = '\n';
    }
    while (o > 0 && buf[o - 1] == '\n')
        o--;
    buf[o] = '\0';
    for (size_t i = 0; i < out->n_removed; i++)
        if (!out->removed[i])
            return -1;
    out->text = buf;
    out->len = o;
    return 0;
}
