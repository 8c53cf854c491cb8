/* client_net_test.c — libtidings against tiny in-test servers: a ROUTER that
 * acknowledges submissions through the codec (in order, out of order, after
 * dropping a request, after "unavailable"), a query ROUTER, a PUB, and no
 * server at all (an error within the timeout, never a hang). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "arena.h"
#include "codec.h"
#include "daemon.h"
#include "tidings.h"

typedef enum {
    MODE_ACK,               /* answer each request at once */
    MODE_DROP_FIRST,        /* ignore the first request (a lost message) */
    MODE_UNAVAILABLE_FIRST, /* answer the first request "unavailable" */
    MODE_REVERSE,           /* hold a batch of requests, answer newest first */
    MODE_QUERY,             /* a query server: ping, stats, not_found */
} s_mode;

typedef struct {
    s_mode mode;
    int batch;              /* MODE_REVERSE: requests per batch */
    void *ctx;
    char endpoint[64];
    pthread_t thread;
    atomic_int stop;
    atomic_int requests;    /* requests received */
    pthread_mutex_t lock;
    char seen[64][32];      /* ids already stored, for "unchanged" */
    int n_seen;
    pthread_barrier_t ready;
} s_server;

typedef struct {
    zmq_msg_t frames[4];
    int n;
} s_request;

static void s_pack_reply(s_server *sv, const void *body, size_t len, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    td_arena *arena = td_arena_new(0);
    td_error err;
    if (sv->mode == MODE_QUERY) {
        td_query q;
        if (td_query_decode(body, len, arena, &q, &err) < 0) {
            td_reply_error_pack(&pk, TD_E_BAD_REQUEST, err.message);
        } else if (strcmp(q.op, "ping") == 0) {
            td_reply_ok_begin(&pk);
            td_ping_pack(&pk);
        } else if (strcmp(q.op, "stats") == 0) {
            td_stats s = {.articles = 5, .events = 3, .stories = 2, .rejects = 1,
                          .db_bytes = 1 << 20, .uptime_s = 61, .version = TD_VERSION};
            td_reply_ok_begin(&pk);
            td_stats_pack(&pk, &s);
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "no article '%s'", q.id ? q.id : "");
            td_reply_error_pack(&pk, TD_E_NOT_FOUND, msg);
        }
        td_arena_destroy(&arena);
        return;
    }
    td_article a;
    td_ack ack = {0};
    int n = atomic_load(&sv->requests);
    if (td_submission_decode(body, len, TD_MAX_FRAME_DEFAULT, arena, &a, &err) < 0) {
        ack.ok = false;
        ack.code = err.code;
        ack.message = err.message;
    } else if (sv->mode == MODE_UNAVAILABLE_FIRST && n == 1) {
        ack.ok = false;
        ack.code = TD_E_UNAVAILABLE;
        ack.message = "store busy";
    } else {
        ack.ok = true;
        ack.id = a.id;
        ack.event = "ev-1";
        pthread_mutex_lock(&sv->lock);
        bool known = false;
        for (int i = 0; i < sv->n_seen; i++)
            known = known || (a.id && strcmp(sv->seen[i], a.id) == 0);
        if (!known && a.id && sv->n_seen < 64)
            snprintf(sv->seen[sv->n_seen++], sizeof sv->seen[0], "%s", a.id);
        pthread_mutex_unlock(&sv->lock);
        ack.status = known ? "unchanged" : "stored";
    }
    td_ack_pack(&pk, &ack);
    td_arena_destroy(&arena);
}

/* Reply with the request's envelope (all frames but the body) kept. */
static void s_answer(s_server *sv, void *sock, s_request *r)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    zmq_msg_t *body = &r->frames[r->n - 1];
    s_pack_reply(sv, zmq_msg_data(body), zmq_msg_size(body), &sb);
    for (int i = 0; i < r->n - 1; i++)
        zmq_msg_send(&r->frames[i], sock, ZMQ_SNDMORE);
    zmq_send(sock, sb.data, sb.size, 0);
    zmq_msg_close(body);
    msgpack_sbuffer_destroy(&sb);
}

static int s_recv_request(void *sock, s_request *r)
{
    r->n = 0;
    for (;;) {
        zmq_msg_t *m = &r->frames[r->n < 4 ? r->n : 3];
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sock, 0) < 0)
            return -1;
        if (r->n < 4)
            r->n++;
        if (!zmq_msg_more(m))
            return 0;
    }
}

static void *s_run(void *arg)
{
    s_server *sv = arg;
    void *sock = zmq_socket(sv->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(sock, "tcp://127.0.0.1:*");
    size_t len = sizeof sv->endpoint;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, sv->endpoint, &len);
    pthread_barrier_wait(&sv->ready);

    s_request held[64];
    int n_held = 0;
    while (!atomic_load(&sv->stop)) {
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) <= 0)
            continue;
        s_request r;
        if (s_recv_request(sock, &r) < 0)
            break;
        int n = atomic_fetch_add(&sv->requests, 1) + 1;
        if (sv->mode == MODE_DROP_FIRST && n == 1) {
            for (int i = 0; i < r.n; i++)
                zmq_msg_close(&r.frames[i]);
            continue;
        }
        if (sv->mode == MODE_REVERSE) {
            held[n_held++] = r;
            if (n_held == sv->batch) {
                while (n_held > 0)
                    s_answer(sv, sock, &held[--n_held]);
            }
            continue;
        }
        s_answer(sv, sock, &r);
    }
    zmq_close(sock);
    return NULL;
}

static s_server *s_server_start(s_mode mode, int batch)
{
    s_server *sv = calloc(1, sizeof *sv);
    sv->mode = mode;
    sv->batch = batch;
    sv->ctx = zmq_ctx_new();
    pthread_mutex_init(&sv->lock, NULL);
    pthread_barrier_init(&sv->ready, NULL, 2);
    pthread_create(&sv->thread, NULL, s_run, sv);
    pthread_barrier_wait(&sv->ready);
    return sv;
}

static void s_server_stop(s_server **sv_p)
{
    s_server *sv = *sv_p;
    atomic_store(&sv->stop, 1);
    pthread_join(sv->thread, NULL);
    zmq_ctx_term(sv->ctx);
    pthread_barrier_destroy(&sv->ready);
    pthread_mutex_destroy(&sv->lock);
    free(sv);
    *sv_p = NULL;
}

/* An endpoint where nothing listens: bind an ephemeral port, then let go. */
static void s_dead_endpoint(char *buf, size_t size)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    zmq_bind(s, "tcp://127.0.0.1:*");
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, buf, &size);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static td_client_article s_article(const char *id)
{
    td_client_article a = {.id = id, .source = "Test Wire", .title = "A Title",
                           .body = "Some body text.", .published_at = 1683822600000};
    return a;
}

/* ---- no server ------------------------------------------------------------ */

static void test_no_server_times_out(void **state)
{
    (void)state;
    char dead[64];
    s_dead_endpoint(dead, sizeof dead);
    td_client_options o = {.submit = dead, .query = dead, .feed = dead, .timeout_ms = 200,
                           .retries = 1};
    td_client *c = td_client_new(&o);
    assert_non_null(c);

    int64_t t0 = td_mono_ms();
    td_client_query q = td_client_query_init("ping");
    td_client_reply r;
    assert_int_equal(td_client_ask(c, &q, &r), TD_CLIENT_ETIMEOUT);
    int64_t took = td_mono_ms() - t0;
    assert_true(took >= 380 && took < 1500);    /* two tries of 200 ms, no hang */
    assert_non_null(strstr(td_client_errmsg(c), dead));
    assert_non_null(strstr(td_client_errmsg(c), "tidings-query"));

    td_client_article a = s_article("x");
    td_client_ack ack;
    t0 = td_mono_ms();
    assert_int_equal(td_client_submit(c, &a, &ack), TD_CLIENT_ETIMEOUT);
    took = td_mono_ms() - t0;
    assert_true(took >= 380 && took < 1500);

    /* fire-and-forget: nothing accepts, so the push gives up after the timeout */
    t0 = td_mono_ms();
    assert_int_equal(td_client_feed(c, &a), TD_CLIENT_ETIMEOUT);
    took = td_mono_ms() - t0;
    assert_true(took >= 150 && took < 1500);

    /* and closing does not hang on what could not be sent */
    t0 = td_mono_ms();
    td_client_destroy(&c);
    assert_null(c);
    assert_true(td_mono_ms() - t0 < 1500);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    td_client *c = td_client_new(NULL);
    assert_non_null(c);
    assert_string_equal(td_client_endpoint(c, "query"), TD_CLIENT_QUERY_DEFAULT);
    td_client_article a = s_article("x");
    a.body = "";
    td_client_ack ack;
    assert_int_equal(td_client_submit(c, &a, &ack), TD_CLIENT_EINVAL);
    assert_int_equal(td_client_feed(c, &a), TD_CLIENT_EINVAL);
    td_client_query q = td_client_query_init(NULL);
    td_client_reply r;
    assert_int_equal(td_client_ask(c, &q, &r), TD_CLIENT_EINVAL);
    td_client_destroy(&c);
    td_client_destroy(&c);  /* NULL-safe */
}

/* ---- acknowledged submit ------------------------------------------------- */

static void test_submit_round_trip(void **state)
{
    (void)state;
    s_server *sv = s_server_start(MODE_ACK, 0);
    td_client_options o = {.submit = sv->endpoint, .timeout_ms = 2000, .retries = 0};
    td_client *c = td_client_new(&o);
    td_client_meta meta[] = {{"desk", "world"}};
    td_client_article a = s_article("seed-1");
    a.meta = meta;
    a.n_meta = 1;
    td_client_ack ack;
    assert_int_equal(td_client_submit(c, &a, &ack), TD_CLIENT_OK);
    assert_true(ack.ok);
    assert_string_equal(ack.status, "stored");
    assert_string_equal(ack.id, "seed-1");
    assert_string_equal(ack.event, "ev-1");
    assert_null(ack.duplicate_of);
    /* the same article again: the server's answer is passed through */
    assert_int_equal(td_client_submit(c, &a, &ack), TD_CLIENT_OK);
    assert_string_equal(ack.status, "unchanged");
    td_client_destroy(&c);
    s_server_stop(&sv);
}

static void test_submit_lazy_pirate_retry(void **state)
{
    (void)state;
    s_server *sv = s_server_start(MODE_DROP_FIRST, 0);
    td_client_options o = {.submit = sv->endpoint, .timeout_ms = 300, .retries = 2};
    td_client *c = td_client_new(&o);
    td_client_article a = s_article("lost-once");
    td_client_ack ack;
    int64_t t0 = td_mono_ms();
    assert_int_equal(td_client_submit(c, &a, &ack), TD_CLIENT_OK);
    assert_true(td_mono_ms() - t0 >= 290);  /* waited out the first try */
    assert_true(ack.ok);
    assert_string_equal(ack.id, "lost-once");
    assert_int_equal(atomic_load(&sv->requests), 2);
    td_client_destroy(&c);
    s_server_stop(&sv);
}

static void test_submit_unavailable_retry(void **state)
{
    (void)state;
    s_server *sv = s_server_start(MODE_UNAVAILABLE_FIRST, 0);
    td_client_options o = {.submit = sv->endpoint, .timeout_ms = 2000, .retries = 1};
    td_client *c = td_client_new(&o);
    td_client_article a = s_article("busy");
    td_client_ack ack;
    assert_int_equal(td_client_submit(c, &a, &ack), TD_CLIENT_OK);
    assert_true(ack.ok);
    assert_string_equal(ack.status, "stored");
    assert_int_equal(atomic_load(&sv->requests), 2);
    td_client_destroy(&c);

    /* without retries the "unavailable" answer is handed back */
    s_server_stop(&sv);
    sv = s_server_start(MODE_UNAVAILABLE_FIRST, 0);
    o.submit = sv->endpoint;
    o.retries = 0;
    c = td_client_new(&o);
    assert_int_equal(td_client_submit(c, &a, &ack), TD_CLIENT_OK);
    assert_false(ack.ok);
    assert_string_equal(ack.code, "unavailable");
    assert_string_equal(ack.message, "store busy");
    td_client_destroy(&c);
    s_server_stop(&sv);
}

/* ---- pipelined submit ------------------------------------------------------ */

typedef struct {
    int answered, failed;
    char ids[64][32];
    void *tags[64];
} s_acks;

static void s_on_ack(void *arg, void *tag, int err, const td_client_ack *ack)
{
    s_acks *acks = arg;
    if (err != TD_CLIENT_OK) {
        acks->failed++;
        return;
    }
    snprintf(acks->ids[acks->answered], sizeof acks->ids[0], "%s", ack->id ? ack->id : "");
    acks->tags[acks->answered++] = tag;
}

static void test_pipe_matches_out_of_order_answers(void **state)
{
    (void)state;
    /* the server answers each batch of 8 newest first: every answer must
     * still reach the request it belongs to */
    s_server *sv = s_server_start(MODE_REVERSE, 8);
    td_client_options o = {.submit = sv->endpoint, .timeout_ms = 3000, .retries = 0};
    td_client *c = td_client_new(&o);
    s_acks acks = {0};
    td_client_pipe *p = td_client_pipe_new(c, 8, s_on_ack, &acks);
    assert_non_null(p);
    for (intptr_t i = 0; i < 32; i++) {
        char id[16];
        snprintf(id, sizeof id, "p-%d", (int)i);
        td_client_article a = s_article(id);
        assert_int_equal(td_client_pipe_submit(p, &a, (void *)i), TD_CLIENT_OK);
        assert_true(td_client_pipe_inflight(p) <= 8);
    }
    assert_int_equal(td_client_pipe_drain(p), TD_CLIENT_OK);
    assert_int_equal(acks.answered, 32);
    assert_int_equal(acks.failed, 0);
    bool out_of_order = false;
    for (int k = 0; k < 32; k++) {
        char want[16];
        intptr_t tag = (intptr_t)acks.tags[k];
        snprintf(want, sizeof want, "p-%d", (int)tag);
        assert_string_equal(acks.ids[k], want);
        out_of_order = out_of_order || tag != k;
    }
    /* the server reverses whatever batch it has read at once; on a loaded
     * machine a batch may hold one request, so reordering is likely but
     * not certain: say so instead of failing on timing */
    if (!out_of_order)
        print_message("note: every answer came in order this time\n");
    td_client_pipe_destroy(&p);
    assert_null(p);
    td_client_destroy(&c);
    s_server_stop(&sv);
}

static void test_pipe_retries_and_gives_up(void **state)
{
    (void)state;
    /* a lost request is sent again on a new connection */
    s_server *sv = s_server_start(MODE_DROP_FIRST, 0);
    td_client_options o = {.submit = sv->endpoint, .timeout_ms = 250, .retries = 1};
    td_client *c = td_client_new(&o);
    s_acks acks = {0};
    td_client_pipe *p = td_client_pipe_new(c, 4, s_on_ack, &acks);
    for (intptr_t i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "r-%d", (int)i);
        td_client_article a = s_article(id);
        assert_int_equal(td_client_pipe_submit(p, &a, (void *)i), TD_CLIENT_OK);
    }
    assert_int_equal(td_client_pipe_drain(p), TD_CLIENT_OK);
    assert_int_equal(acks.answered, 4);
    assert_int_equal(acks.failed, 0);
    assert_int_equal(td_client_pipe_retries(p), 1);
    td_client_pipe_destroy(&p);
    td_client_destroy(&c);
    s_server_stop(&sv);

    /* nobody there: every request fails after its tries, within bounds */
    char dead[64];
    s_dead_endpoint(dead, sizeof dead);
    o.submit = dead;
    c = td_client_new(&o);
    memset(&acks, 0, sizeof acks);
    p = td_client_pipe_new(c, 4, s_on_ack, &acks);
    int64_t t0 = td_mono_ms();
    for (intptr_t i = 0; i < 3; i++) {
        td_client_article a = s_article("nobody");
        assert_int_equal(td_client_pipe_submit(p, &a, (void *)i), TD_CLIENT_OK);
    }
    assert_int_equal(td_client_pipe_drain(p), TD_CLIENT_OK);
    assert_int_equal(acks.failed, 3);
    assert_true(td_mono_ms() - t0 < 2000);
    assert_non_null(strstr(td_client_errmsg(c), "no acknowledgement"));
    td_client_pipe_destroy(&p);
    td_client_destroy(&c);
}

/* ---- queries --------------------------------------------------------------- */

static void test_ask(void **state)
{
    (void)state;
    s_server *sv = s_server_start(MODE_QUERY, 0);
    td_client_options o = {.query = sv->endpoint, .timeout_ms = 2000};
    td_client *c = td_client_new(&o);
    td_client_query q = td_client_query_init("stats");
    td_client_reply r;
    assert_int_equal(td_client_ask(c, &q, &r), TD_CLIENT_OK);
    assert_true(r.ok);
    td_stats s;
    td_error err;
    assert_int_equal(td_stats_decode(r.result, r.result_len, &s, &err), 0);
    assert_int_equal(s.articles, 5);
    assert_int_equal(s.events, 3);

    q = td_client_query_init("article.get");
    q.id = "missing";
    assert_int_equal(td_client_ask(c, &q, &r), TD_CLIENT_OK);
    assert_false(r.ok);
    assert_string_equal(r.code, "not_found");
    assert_string_equal(r.message, "no article 'missing'");
    td_client_destroy(&c);
    s_server_stop(&sv);
}

/* ---- notifications ---------------------------------------------------------- */

static void test_subscribe(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(pub, "tcp://127.0.0.1:*"), 0);
    char ep[64];
    size_t len = sizeof ep;
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, ep, &len);

    td_client_options o = {.publish = ep, .timeout_ms = 1000};
    td_client *c = td_client_new(&o);
    const char *topics[] = {"event."};
    assert_int_equal(td_client_subscribe(c, topics, 1), TD_CLIENT_OK);

    /* PUB drops until the subscription arrives: publish until one gets in */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    td_client_notice n;
    int rc = TD_CLIENT_ETIMEOUT;
    for (uint64_t seq = 1; seq < 50 && rc != TD_CLIENT_OK; seq++) {
        td_notice a = {.seq = seq, .type = "article.stored", .id = "a1", .at = TD_TIME_NONE};
        td_notice e = {.seq = seq, .type = "event.created", .id = "ev-9", .title = "Clash",
                       .at = 1683822600000};
        msgpack_sbuffer_clear(&sb);
        td_notice_pack(&pk, &a);
        zmq_send(pub, "article.stored", 14, ZMQ_SNDMORE);
        zmq_send(pub, sb.data, sb.size, 0);
        msgpack_sbuffer_clear(&sb);
        td_notice_pack(&pk, &e);
        zmq_send(pub, "event.created", 13, ZMQ_SNDMORE);
        zmq_send(pub, sb.data, sb.size, 0);
        rc = td_client_notice_recv(c, 100, &n);
    }
    assert_int_equal(rc, TD_CLIENT_OK);
    /* only the subscribed prefix arrives */
    assert_string_equal(n.topic, "event.created");
    assert_string_equal(n.type, "event.created");
    assert_string_equal(n.id, "ev-9");
    assert_string_equal(n.title, "Clash");
    assert_true(n.at == 1683822600000);
    assert_non_null(n.raw);
    /* nothing more within a short wait: a timeout, not a hang */
    while (td_client_notice_recv(c, 50, &n) == TD_CLIENT_OK)
        assert_string_equal(n.type, "event.created");
    msgpack_sbuffer_destroy(&sb);
    td_client_destroy(&c);
    zmq_close(pub);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_server_times_out),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_submit_round_trip),
        cmocka_unit_test(test_submit_lazy_pirate_retry),
        cmocka_unit_test(test_submit_unavailable_retry),
        cmocka_unit_test(test_pipe_matches_out_of_order_answers),
        cmocka_unit_test(test_pipe_retries_and_gives_up),
        cmocka_unit_test(test_ask),
        cmocka_unit_test(test_subscribe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
