/* text_terms_test.c — an article's tokens and fingerprint (text/terms.h):
 * what an ingest worker ships on the store link must load back exactly as
 * the store would have built it, and the decoder refuses inconsistent
 * terms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "codec.h"
#include "store_fixture.h"
#include "terms.h"

/* Tokens share a word number exactly when norm, stem and stop agree. */
static void s_words_consistent(const td_terms *t)
{
    size_t nw = td_terms_words(t);
    const td_term **first = calloc(nw ? nw : 1, sizeof *first);
    assert_non_null(first);
    size_t seen = 0;
    for (int f = 0; f < 2; f++) {
        size_t n;
        const td_term *tok = td_terms_get(t, (td_terms_field)f, &n);
        for (size_t i = 0; i < n; i++) {
            assert_true(tok[i].word < nw);
            const td_term *w = first[tok[i].word];
            if (!w) {
                first[tok[i].word] = &tok[i];
                seen++;
                continue;
            }
            assert_string_equal(w->norm, tok[i].norm);
            assert_string_equal(w->stem, tok[i].stem);
            assert_int_equal(w->stop, tok[i].stop);
        }
    }
    for (size_t i = 0; i < nw; i++)   /* different numbers, different words */
        for (size_t j = i + 1; j < nw; j++)
            if (first[i] && first[j])
                assert_false(strcmp(first[i]->norm, first[j]->norm) == 0 &&
                             strcmp(first[i]->stem, first[j]->stem) == 0 &&
                             first[i]->stop == first[j]->stop);
    assert_int_equal(seen, nw);   /* every number is some token's */
    free(first);
}

static void s_same_terms(const td_terms *a, const td_terms *b)
{
    s_words_consistent(a);
    s_words_consistent(b);
    assert_int_equal(td_terms_words(a), td_terms_words(b));
    for (int f = 0; f < 2; f++) {
        size_t na, nb;
        const td_term *ta = td_terms_get(a, (td_terms_field)f, &na);
        const td_term *tb = td_terms_get(b, (td_terms_field)f, &nb);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_string_equal(ta[i].norm, tb[i].norm);
            assert_string_equal(ta[i].stem, tb[i].stem);
            assert_int_equal(ta[i].norm_len, tb[i].norm_len);
            assert_int_equal(ta[i].stem_len, tb[i].stem_len);
            assert_int_equal(ta[i].stop, tb[i].stop);
            assert_int_equal(ta[i].word, tb[i].word);
        }
    }
    const td_body_print *pa = td_terms_print(a), *pb = td_terms_print(b);
    assert_int_equal(pa->simhash, pb->simhash);
    assert_int_equal(pa->ntok, pb->ntok);
    assert_int_equal(pa->n_sent, pb->n_sent);
    for (uint32_t i = 0; i < pa->n_sent; i++) {
        assert_int_equal(pa->sent_n[i], pb->sent_n[i]);
        assert_memory_equal(pa->sent[i], pb->sent[i], pa->sent_n[i] * sizeof(uint32_t));
    }
}

/* build -> export -> store message -> decode -> load == build */
static void s_round_trip(const char *title, const char *body, const char *lang)
{
    td_terms *built = td_terms_new(), *loaded = td_terms_new();
    td_arena *arena = td_arena_new(0);
    assert_int_equal(td_terms_build(built, title, body, lang), 0);
    td_terms_wire w;
    assert_int_equal(td_terms_export(built, arena, &w), 0);
    td_article a = {.id = "x", .title = (char *)title, .body = (char *)body,
                    .lang = (char *)lang, .published_at = 1700000000000};
    td_store_msg m = {.token = 7, .article = &a, .terms = &w};
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(td_store_msg_pack(&pk, &m), 0);
    td_store_msg out;
    td_error err;
    assert_int_equal(td_store_msg_decode(sb.data, sb.size, arena, &out, &err), 0);
    assert_non_null(out.terms);
    msgpack_sbuffer_destroy(&sb);   /* the decoded terms must not point into the frame */
    assert_int_equal(td_terms_load(loaded, out.terms), 0);
    s_same_terms(built, loaded);
    td_terms_destroy(&built);
    td_terms_destroy(&loaded);
    td_arena_destroy(&arena);
}

static void test_round_trip_fixtures(void **state)
{
    (void)state;
    s_round_trip("Quake in the hills", td_fx_quake, "en");
    s_round_trip(NULL, td_fx_quake, NULL);               /* language detected */
    s_round_trip("Только заголовок", NULL, NULL);         /* title only */
    s_round_trip(NULL, NULL, "en");                       /* nothing at all */
    s_round_trip("Der Streik", "Die Gewerkschaft rief am Montag zum Streik auf. "
                 "Züge und Busse standen still! Die Regierung bot Gespräche an?", "de");
}

/* every article of the project's sample corpus */
static void test_round_trip_sample(void **state)
{
    (void)state;
    FILE *f = fopen(TD_SOURCE_DIR "/tests/corpus/sample.jsonl", "r");
    assert_non_null(f);
    char line[1 << 16];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        s_round_trip(json_string_value(json_object_get(j, "title")),
                     json_string_value(json_object_get(j, "body")),
                     json_string_value(json_object_get(j, "lang")));
        json_decref(j);
        n++;
    }
    fclose(f);
    assert_true(n >= 30);
}

/* A store message whose terms are built by hand; returns the decoder's rc. */
static int s_decode_terms(const char *words, size_t wlen, const char *stop, size_t slen,
                          const unsigned char *title, size_t tlen, const char *sent_n,
                          size_t nlen, size_t sent_len, td_store_msg *out)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "type", 4);
    msgpack_pack_str_with_body(&pk, "article", 7);
    msgpack_pack_str_with_body(&pk, "article", 7);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "body", 4);
    msgpack_pack_str_with_body(&pk, "text", 4);
    msgpack_pack_str_with_body(&pk, "terms", 5);
    msgpack_pack_map(&pk, 8);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, TD_TERMS_VERSION);
    msgpack_pack_str_with_body(&pk, "words", 5);
    msgpack_pack_bin_with_body(&pk, words, wlen);
    msgpack_pack_str_with_body(&pk, "stop", 4);
    msgpack_pack_bin_with_body(&pk, stop, slen);
    msgpack_pack_str_with_body(&pk, "title", 5);
    msgpack_pack_bin_with_body(&pk, title, tlen);
    msgpack_pack_str_with_body(&pk, "body", 4);
    msgpack_pack_bin_with_body(&pk, "", 0);
    msgpack_pack_str_with_body(&pk, "simhash", 7);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_str_with_body(&pk, "sent_n", 6);
    msgpack_pack_bin_with_body(&pk, sent_n, nlen);
    msgpack_pack_str_with_body(&pk, "sent", 4);
    static const unsigned char zeros[64];
    msgpack_pack_bin_with_body(&pk, zeros, sent_len);
    td_arena *arena = td_arena_new(0);
    td_error err;
    int rc = td_store_msg_decode(sb.data, sb.size, arena, out, &err);
    if (rc != 0)
        assert_string_equal(err.code, TD_E_BAD_REQUEST);
    td_arena_destroy(&arena);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void test_decoder_refuses(void **state)
{
    (void)state;
    td_store_msg m;
    static const unsigned char ok1[4] = {1, 0, 0, 0}, bad2[4] = {2, 0, 0, 0}, odd[3] = {0};
    /* two words, title = word 1: accepted */
    assert_int_equal(s_decode_terms("a\0a\0b\0b", 8, "\0\0", 2, ok1, 4, "\3", 1, 12, &m), 0);
    /* word number out of range */
    assert_int_equal(s_decode_terms("a\0a\0b\0b", 8, "\0\0", 2, bad2, 4, "\3", 1, 12, &m), -1);
    /* not a u32 array */
    assert_int_equal(s_decode_terms("a\0a\0b\0b", 8, "\0\0", 2, odd, 3, "\3", 1, 12, &m), -1);
    /* words not NUL-terminated, or an odd number of strings */
    assert_int_equal(s_decode_terms("a\0a\0b\0b", 7, "\0\0", 2, ok1, 4, "\3", 1, 12, &m), -1);
    assert_int_equal(s_decode_terms("a\0a\0b", 6, "\0\0", 2, ok1, 4, "\3", 1, 12, &m), -1);
    /* stop flags and words disagree */
    assert_int_equal(s_decode_terms("a\0a\0b\0b", 8, "\0", 1, ok1, 4, "\3", 1, 12, &m), -1);
    /* sentence hashes and their counts disagree */
    assert_int_equal(s_decode_terms("a\0a\0b\0b", 8, "\0\0", 2, ok1, 4, "\3", 1, 8, &m), -1);
}

static void test_other_version_is_built(void **state)
{
    (void)state;
    td_terms *t = td_terms_new();
    td_arena *arena = td_arena_new(0);
    assert_int_equal(td_terms_build(t, "Title words", "Body words here.", "en"), 0);
    td_terms_wire w;
    assert_int_equal(td_terms_export(t, arena, &w), 0);
    w.version = TD_TERMS_VERSION + 1;
    assert_int_equal(td_terms_load(t, &w), -1);
    size_t n;
    td_terms_get(t, TD_TERMS_BODY, &n);
    assert_int_equal(n, 0);   /* nothing half loaded */
    td_terms_destroy(&t);
    td_arena_destroy(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_fixtures),
        cmocka_unit_test(test_round_trip_sample),
        cmocka_unit_test(test_decoder_refuses),
        cmocka_unit_test(test_other_version_is_built),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
