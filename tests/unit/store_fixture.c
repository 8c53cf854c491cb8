/* store_fixture.c — see store_fixture.h. Built once as a static library and
 * linked into every unit test; its name must not end in _test.c, or the
 * CMake glob would make a test program of it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "store_fixture.h"

const char *const td_fx_quake =
    "Rescue teams searched on Monday for survivors after a strong earthquake struck the "
    "mountain province of Daravan, officials said.\n"
    "The quake destroyed hundreds of homes in villages near the town of Kestrel.\n"
    "Rescue workers pulled survivors from collapsed buildings through the night.\n"
    "The provincial governor said field hospitals were set up near the epicentre.\n"
    "Aftershocks shook the region on Monday morning, residents said.";

const char *const td_fx_quake_rewrite =
    "Rescuers looked for survivors on Monday after a strong quake hit Daravan, a mountain "
    "province, Reuters reported.\n"
    "Hundreds of homes were destroyed in the villages around Kestrel town.\n"
    "Workers pulled survivors out of collapsed buildings during the night.\n"
    "Field hospitals were set up near the epicentre, according to the provincial governor.";

void td_fx_mkdir(char dir[64], const char *prefix)
{
    snprintf(dir, 64, "/tmp/%.40s-XXXXXX", prefix);
    assert_non_null(mkdtemp(dir));
}

void td_fx_rmdir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void s_open(td_fx *fx)
{
    td_db_opts o = {.dir = fx->dir, .sync = TD_SYNC_NOSYNC};
    fx->db = td_db_open(&o, NULL);
    assert_non_null(fx->db);
    fx->w = td_writer_new(fx->db);
    assert_non_null(fx->w);
}

static void s_close(td_fx *fx)
{
    td_writer_destroy(&fx->w);
    td_db_destroy(&fx->db);
}

td_fx *td_fx_new(void)
{
    td_fx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    td_fx_mkdir(fx->dir, "td-fx");
    fx->arena = td_arena_new(0);
    assert_non_null(fx->arena);
    s_open(fx);
    return fx;
}

void td_fx_destroy(td_fx **fx_p)
{
    td_fx *fx = *fx_p;
    if (!fx)
        return;
    s_close(fx);
    td_arena_destroy(&fx->arena);
    td_fx_rmdir(fx->dir);
    free(fx);
    *fx_p = NULL;
}

int td_fx_setup(void **state)
{
    *state = td_fx_new();
    return 0;
}

int td_fx_teardown(void **state)
{
    td_fx *fx = *state;
    td_fx_destroy(&fx);
    *state = NULL;
    return 0;
}

void td_fx_reopen(td_fx *fx)
{
    s_close(fx);
    s_open(fx);
}

void td_fx_put(td_fx *fx, const td_article *a, int64_t now)
{
    td_store_msg m = {.article = (td_article *)a};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(td_store_msg_pack(&pk, &m), 0);
    assert_int_equal(td_writer_add(fx->w, NULL, 0, sb.data, sb.size, now), 0);
    msgpack_sbuffer_destroy(&sb);
}

void td_fx_add(td_fx *fx, const char *id, const char *title, const char *body, int64_t t,
               const char *source)
{
    td_article a = {.id = (char *)id, .title = (char *)title, .body = (char *)body,
                    .published_at = t, .lang = "en", .source = (char *)source};
    td_fx_put(fx, &a, t);
    assert_int_equal(td_writer_commit(fx->w, NULL, false), TD_DB_OK);
}

td_article td_fx_get(td_fx *fx, const char *id)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_val raw;
    assert_int_equal(td_db_article_get(txn, id, &raw), TD_DB_OK);
    td_article a;
    td_error err;
    assert_int_equal(td_article_decode(raw.data, raw.len, fx->arena, &a, &err), 0);
    td_txn_end(&txn);
    return a;
}

td_event td_fx_event(td_fx *fx, const char *id)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_val raw;
    assert_int_equal(td_db_event_get(txn, id, &raw), TD_DB_OK);
    td_event e;
    td_error err;
    assert_int_equal(td_event_decode(raw.data, raw.len, fx->arena, &e, &err), 0);
    td_txn_end(&txn);
    return e;
}

void td_fx_background(td_fx *fx, int64_t t)
{
    static const char *const h[] = {
        "Stocks rise as oil prices ease in Asian trading",
        "New smartphone launch draws long queues in Tokyo",
        "Heavy snow closes schools across the Midwest",
        "Football club appoints new manager after poor season",
        "Central bank keeps interest rates on hold",
        "Film festival opens with premiere of historical drama",
    };
    char id[32];
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        snprintf(id, sizeof id, "bg%zu", i);
        td_fx_add(fx, id, h[i], h[i], t + (int64_t)i * 1000, "Wire");
    }
}
