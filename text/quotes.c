/* quotes.c — see quotes.h. */
#include "quotes.h"

#include <string.h>

#include "claims.h"

static bool s_vague(const td_doc *d, uint32_t a, uint32_t b)
{
    if (b - a == 1 && (td_word_is(d, a, "it") || td_word_is(d, a, "he") ||
                       td_word_is(d, a, "she") || td_word_is(d, a, "they")))
        return true;
    return b - a == 2 && td_word_is(d, a, "the") && !(d->w[a + 1].flags & W_CAP);
}

int td_quotes_extract(const td_doc *d, td_arena *arena, td_quote **out)
{
    td_quote *q = td_arena_alloc(arena, TD_MAX_QUOTES * sizeof *q);
    if (!q)
        return -1;
    int n = 0;
    uint32_t last_a = 0, last_b = 0;
    bool has_last = false;
    uint32_t open = UINT32_MAX;
    uint32_t last_sent_seen = UINT32_MAX;
    for (uint32_t i = 0; i < d->nw && n < TD_MAX_QUOTES; i++) {
        const td_word *w = &d->w[i];
        /* track the last speaker named in full, sentence by sentence */
        if (w->sent != last_sent_seen && open == UINT32_MAX) {
            last_sent_seen = w->sent;
            if (w->sent > 0) {
                uint32_t a, b;
                uint32_t ps = w->sent - 1;
                if (td_claims_sayer(d, ps, d->s[ps].w0, d->s[ps].w1, &a, &b) && !s_vague(d, a, b)) {
                    last_a = a;
                    last_b = b;
                    has_last = true;
                }
            }
        }
        if (open != UINT32_MAX && (w->flags & W_NL) && !td_word_punct(d, i, '"')) {
            open = UINT32_MAX; /* an unclosed quote ends with its paragraph */
        }
        if (!td_word_punct(d, i, '"'))
            continue;
        if (open == UINT32_MAX) {
            open = i;
            continue;
        }
        uint32_t q0 = open + 1, q1 = i; /* inside: [q0, q1) */
        open = UINT32_MAX;
        uint32_t words = 0;
        for (uint32_t k = q0; k < q1; k++)
            if (!(d->w[k].flags & W_PUNCT))
                words++;
        if (words < 3 || q1 <= q0)
            continue;
        /* speaker: after the quote in its closing sentence, else before it */
        uint32_t a = 0, b = 0;
        uint32_t s1 = d->w[q1].sent, s0 = d->w[q0].sent;
        bool found = td_claims_sayer(d, s1, q1 + 1, d->s[s1].w1, &a, &b) ||
                     td_claims_sayer(d, s0, d->s[s0].w0, q0 > 0 ? q0 - 1 : 0, &a, &b);
        if (found && s_vague(d, a, b) && has_last) {
            const char *head = d->text + d->w[b - 1].s;
            uint32_t hl = td_wlen(d, b - 1);
            bool match = b - a == 1;
            for (uint32_t k = last_a; k < last_b && !match; k++)
                if (td_wlen(d, k) == hl && strncasecmp(d->text + d->w[k].s, head, hl) == 0)
                    match = true;
            if (match)
                a = last_a, b = last_b;
        }
        uint32_t ts = d->w[q0].s, te = d->w[q1 - 1].e;
        /* a trailing comma belongs to the attribution, not the quote */
        while (te > ts && (d->text[te - 1] == ',' || d->text[te - 1] == ' '))
            te--;
        td_quote *o = &q[n];
        o->text = td_arena_strndup(arena, d->text + ts, te - ts);
        o->speaker = NULL;
        if (found) {
            uint32_t se = d->w[b - 1].e;
            if (d->w[b - 1].flags & W_POSS)
                se += 2;
            o->speaker = td_arena_strndup(arena, d->text + d->w[a].s, se - d->w[a].s);
            if (!o->speaker)
                return -1;
        }
        if (!o->text)
            return -1;
        n++;
    }
    *out = q;
    return n;
}
