/* ingest_workers_test.c — the analysis worker pool: results come back in
 * the order the jobs were given, whatever worker ran them; refused feed
 * frames become reject records, refused submits become errors; the pool
 * stays within its job bound; a busy worker's batch of held results all
 * comes back once it runs out of jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>
#include <zmq.h>

#include "codec.h"
#include "workers.h"

/* A submission frame {type, id, body} (body NULL: leave it out). */
static void s_frame(zmq_msg_t *msg, const char *id, const char *body)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, body ? 3 : 2);
    const char *kv[] = {"type", "article", "id", id, "body", body};
    for (int i = 0; i < (body ? 6 : 4); i++)
        msgpack_pack_str_with_body(&pk, kv[i], strlen(kv[i]));
    zmq_msg_init_size(msg, sb.size);
    memcpy(zmq_msg_data(msg), sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

/* Wait for the oldest result (polling its socket). */
static int s_take(td_workers *w, td_job_result *res, zmq_msg_t *payload)
{
    for (int i = 0; i < 1000; i++) {
        int rc = td_workers_take(w, res, payload);
        if (rc != 0)
            return rc;
        zmq_pollitem_t it = {td_workers_head_socket(w), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 100);
    }
    return 0;
}

static void test_order_and_outcomes(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    td_workers *w = td_workers_new(ctx, 3, 1 << 20, NULL, 64, 1 << 20);
    assert_non_null(w);
    assert_int_equal(td_workers_count(w), 3);
    td_arena *arena = td_arena_new(1 << 22);
    const int n = 200;
    int given = 0, taken = 0;
    zmq_msg_t msg, payload;
    zmq_msg_init(&payload);
    while (taken < n) {
        while (given < n && td_workers_can_give(w)) {
            char id[32], body[160];
            snprintf(id, sizeof id, "a%d", given);
            snprintf(body, sizeof body,
                     "Item %d. The council of Ostvik met on Tuesday and voted on the budget.",
                     given);
            /* every 7th has no body: refused */
            s_frame(&msg, id, given % 7 == 3 ? NULL : body);
            td_job_kind kind = given % 2 ? TD_JOB_SUBMIT : TD_JOB_FEED;
            assert_int_equal(td_workers_give(w, kind, (uint64_t)given + 1, &msg), 0);
            zmq_msg_close(&msg);
            given++;
        }
        assert_true(td_workers_pending(w) <= 64);
        td_job_result res;
        assert_int_equal(s_take(w, &res, &payload), 1);
        /* in order: the token says which job this was */
        assert_int_equal(res.token, (uint64_t)taken + 1);
        assert_int_equal(res.kind, taken % 2 ? TD_JOB_SUBMIT : TD_JOB_FEED);
        bool refused = taken % 7 == 3;
        assert_int_equal(res.rejected, refused);
        if (refused && res.kind == TD_JOB_SUBMIT) {
            assert_false(res.forward);
            assert_string_equal(res.err.code, TD_E_BAD_REQUEST);
        } else {
            assert_true(res.forward);
            td_store_msg m;
            td_error err;
            td_arena_reset(arena);
            assert_int_equal(td_store_msg_decode(zmq_msg_data(&payload), zmq_msg_size(&payload),
                                                 arena, &m, &err),
                             0);
            if (refused) {
                assert_non_null(m.reject);     /* feed: kept as a reject record */
            } else {
                char id[32];
                snprintf(id, sizeof id, "a%d", taken);
                assert_non_null(m.article);
                assert_string_equal(m.article->id, id);
                assert_int_equal(m.token, res.token);   /* passed through */
            }
        }
        zmq_msg_close(&payload);
        zmq_msg_init(&payload);
        taken++;
    }
    assert_int_equal(td_workers_pending(w), 0);
    zmq_msg_close(&payload);
    td_arena_destroy(&arena);
    td_workers_destroy(&w);
    assert_null(w);
    zmq_ctx_term(ctx);
}

static void test_multipart_and_bound(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    td_workers *w = td_workers_new(ctx, 2, 1 << 20, NULL, 4, 1 << 20);
    assert_non_null(w);
    zmq_msg_t msg, payload;
    for (int i = 0; i < 4; i++) {
        assert_true(td_workers_can_give(w));
        zmq_msg_init_size(&msg, 5);
        memcpy(zmq_msg_data(&msg), "part1", 5);
        assert_int_equal(td_workers_give(w, TD_JOB_MULTIPART, 0, &msg), 0);
        zmq_msg_close(&msg);
    }
    /* full: no more jobs until one is taken */
    assert_false(td_workers_can_give(w));
    td_job_result res;
    zmq_msg_init(&payload);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s_take(w, &res, &payload), 1);
        assert_true(res.rejected);
        assert_true(res.forward);    /* the reject record goes to the store */
        zmq_msg_close(&payload);
        zmq_msg_init(&payload);
    }
    assert_int_equal(td_workers_take(w, &res, &payload), 0);
    assert_null(td_workers_head_socket(w));
    zmq_msg_close(&payload);
    td_workers_destroy(&w);
    zmq_ctx_term(ctx);
}

/* One worker, jobs given in bursts that are not a multiple of its batch:
 * every result comes back, in order, including a burst's tail and a lone
 * job given to an idle pool. */
static void test_batch_tails(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    td_workers *w = td_workers_new(ctx, 1, 1 << 20, NULL, 64, 1 << 20);
    assert_non_null(w);
    zmq_msg_t msg, payload;
    zmq_msg_init(&payload);
    const int bursts[] = {37, 1, 16, 5, 1};
    uint64_t token = 0, expect = 0;
    for (size_t b = 0; b < sizeof bursts / sizeof *bursts; b++) {
        for (int i = 0; i < bursts[b]; i++) {
            char id[32];
            snprintf(id, sizeof id, "b%llu", (unsigned long long)token);
            s_frame(&msg, id, "The mayor of Ostvik opened the new bridge on Monday.");
            assert_int_equal(td_workers_give(w, TD_JOB_SUBMIT, ++token, &msg), 0);
            zmq_msg_close(&msg);
        }
        for (int i = 0; i < bursts[b]; i++) {
            td_job_result res;
            assert_int_equal(s_take(w, &res, &payload), 1);
            assert_int_equal(res.token, ++expect);
            assert_false(res.rejected);
            assert_true(res.forward);
            assert_true(zmq_msg_size(&payload) > 0);
            zmq_msg_close(&payload);
            zmq_msg_init(&payload);
        }
        assert_int_equal(td_workers_pending(w), 0);
    }
    zmq_msg_close(&payload);
    td_workers_destroy(&w);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_outcomes),
        cmocka_unit_test(test_multipart_and_bound),
        cmocka_unit_test(test_batch_tails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
