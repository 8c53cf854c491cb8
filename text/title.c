/* title.c — see title.h. */
#define _GNU_SOURCE
#include "title.h"

#include <string.h>

#include "lexicon.h"

#define TITLE_MAX 200

static bool s_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (unsigned char)c >= 0x80;
}

bool td_title_headline(const char *body, size_t len, size_t *line_len)
{
    const char *nl = memchr(body, '\n', len);
    if (!nl)
        return false; /* a one-line body is the article itself */
    size_t n = (size_t)(nl - body);
    if (n < 8 || n > TITLE_MAX)
        return false;
    char last = body[n - 1];
    if (last == '.' || last == ',' || last == ';' || last == ':' || last == '-')
        return false;
    /* a dateline "CITY (Agency) -" starts the story, not a headline */
    if (memmem(body, n, ") -", 3) || memmem(body, n, ") --", 4))
        return false;
    bool blank_after = n + 1 < len && body[n + 1] == '\n';
    unsigned words = 0, content = 0, caps = 0, sentences = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && body[i] == ' ')
            i++;
        size_t s = i;
        while (i < n && body[i] != ' ')
            i++;
        if (i == s)
            break;
        words++;
        if (i - s > 1 && body[i - 1] == '.' && i < n)
            sentences++;
        size_t a = s;
        while (a < i && !s_alpha(body[a]) && !(body[a] >= '0' && body[a] <= '9'))
            a++;
        if (a >= i)
            continue;
        uint32_t cls = td_lex_lookup(td_lex_hash(body + a, i - a), NULL);
        if (cls & K_STOP)
            continue;
        content++;
        if ((body[a] >= 'A' && body[a] <= 'Z') || (body[a] >= '0' && body[a] <= '9') ||
            (unsigned char)body[a] >= 0x80)
            caps++;
    }
    if (words < 3 || words > 25 || sentences > 0)
        return false;
    bool titlecase = content > 0 && caps * 10 >= content * 7;
    if (!(titlecase || (blank_after && words <= 16)))
        return false;
    *line_len = n;
    return true;
}

/* Compare ignoring case and anything but letters and digits. */
static bool s_same(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && !s_alpha(a[i]) && !(a[i] >= '0' && a[i] <= '9'))
            i++;
        while (j < bn && !s_alpha(b[j]) && !(b[j] >= '0' && b[j] <= '9'))
            j++;
        if (i == an || j == bn)
            return i == an && j == bn;
        char x = a[i], y = b[j];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return false;
        i++;
        j++;
    }
}

bool td_title_repeats(const char *title, const char *body, size_t len, size_t *line_len)
{
    if (!title)
        return false;
    const char *nl = memchr(body, '\n', len);
    size_t n = nl ? (size_t)(nl - body) : len;
    if (!nl || n > 2 * TITLE_MAX)
        return false;
    if (!s_same(title, strlen(title), body, n))
        return false;
    *line_len = n;
    return true;
}

char *td_title_lead(const td_doc *d, td_arena *arena)
{
    for (uint32_t i = 0; i < d->ns; i++) {
        const td_sent *s = &d->s[i];
        if (s->heading || s->w1 - s->w0 < 4)
            continue;
        size_t n = s->e - s->s;
        size_t off = 0;
        /* "TBILISI (Reuters) -Armenia and ...": the dateline is not the title */
        const char *dl = memmem(d->text + s->s, n < 80 ? n : 80, ") -", 3);
        if (dl) {
            off = (size_t)(dl - (d->text + s->s)) + 3;
            while (off < n && (d->text[s->s + off] == ' ' || d->text[s->s + off] == '-'))
                off++;
            if (off >= n)
                off = 0;
        }
        n -= off;
        const char *base = d->text + s->s + off;
        if (n > TITLE_MAX) {
            n = TITLE_MAX;
            while (n > 0 && base[n] != ' ')
                n--;
            if (n == 0)
                n = TITLE_MAX;
            while (n > 0 && (base[n - 1] == ',' || base[n - 1] == ' '))
                n--;
            /* never cut inside a UTF-8 sequence */
            while (n > 0 && ((unsigned char)base[n] & 0xC0) == 0x80)
                n--;
        }
        return td_arena_strndup(arena, base, n);
    }
    return NULL;
}
