/* terms.c — an article's tokens, computed once; see terms.h. */
#include "terms.h"

#include <stdlib.h>
#include <string.h>

#include "tokens.h"

struct td_terms {
    td_tokenizer *tk;
    td_term *tok[2];
    size_t n[2], cap[2];
    char *buf;
    size_t used, bcap;
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
    free(self);
    *self_p = NULL;
}

static int s_keep(td_terms *self, const char *s, size_t len, uint32_t *at)
{
    if (self->used + len + 1 > self->bcap) {
        size_t cap = self->bcap ? self->bcap : 16384;
        while (self->used + len + 1 > cap)
            cap *= 2;
        char *b = realloc(self->buf, cap);
        if (!b)
            return -1;
        self->buf = b;
        self->bcap = cap;
    }
    memcpy(self->buf + self->used, s, len);
    self->buf[self->used + len] = '\0';
    *at = (uint32_t)self->used;
    self->used += len + 1;
    return 0;
}

static int s_field(td_terms *self, int f, const char *text, const char *lang)
{
    self->n[f] = 0;
    if (!text || !*text)
        return 0;
    td_tokenizer_begin(self->tk, text, strlen(text), lang);
    td_token t;
    while (td_tokenizer_next(self->tk, &t)) {
        if (self->n[f] == self->cap[f]) {
            size_t cap = self->cap[f] ? self->cap[f] * 2 : 1024;
            td_term *n = realloc(self->tok[f], cap * sizeof *n);
            if (!n)
                return -1;
            self->tok[f] = n;
            self->cap[f] = cap;
        }
        /* buffer offsets now (it may move), pointers once it is complete */
        uint32_t norm, stem;
        if (s_keep(self, t.norm, t.norm_len, &norm) != 0 ||
            s_keep(self, t.stem, t.stem_len, &stem) != 0)
            return -1;
        self->tok[f][self->n[f]++] = (td_term){
            .norm = (const char *)(uintptr_t)norm, .stem = (const char *)(uintptr_t)stem,
            .norm_len = t.norm_len, .stem_len = t.stem_len, .stop = t.stop};
    }
    return 0;
}

int td_terms_build(td_terms *self, const char *title, const char *body, const char *lang)
{
    self->used = 0;
    self->n[0] = self->n[1] = 0;
    if (s_field(self, TD_TERMS_TITLE, title, lang) != 0 ||
        s_field(self, TD_TERMS_BODY, body, lang) != 0) {
        self->n[0] = self->n[1] = 0;
        return -1;
    }
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < self->n[f]; i++) {
            td_term *o = &self->tok[f][i];
            o->norm = self->buf + (uintptr_t)o->norm;
            o->stem = self->buf + (uintptr_t)o->stem;
        }
    return 0;
}

const td_term *td_terms_get(const td_terms *self, td_terms_field f, size_t *n)
{
    *n = self->n[f];
    return self->tok[f];
}
