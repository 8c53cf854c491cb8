/* store_fixture.h — the store fixture the unit tests share: a temporary data
 * directory with a real database and writer, articles stored through the
 * real wire path (td_store_msg pack, td_writer_add, commit) and read back as
 * article.get / event.get would decode them. One copy here, so a change to
 * the writer's entry points is fixed once, not in every test.
 *
 * Test code only: failures are cmocka assertions, not error returns. The
 * struct is open on purpose: tests read fx->db and fx->arena directly. */
#ifndef TD_STORE_FIXTURE_H
#define TD_STORE_FIXTURE_H

#include <stdint.h>

#include "codec.h"
#include "db.h"
#include "writer.h"

typedef struct {
    char dir[64];
    td_db *db;
    td_writer *w;
    td_arena *arena; /* owns what td_fx_get / td_fx_event return */
} td_fx;

/* A fresh directory /tmp/<prefix>-XXXXXX into dir (64 bytes), and its
 * removal with everything in it: for tests that open their own database. */
void td_fx_mkdir(char dir[64], const char *prefix);
void td_fx_rmdir(const char *dir);

/* A new fixture in a fresh /tmp/td-fx-XXXXXX with the database (no sync,
 * default map) and writer open. Never NULL: fails the test instead. */
td_fx *td_fx_new(void);

/* Close writer and database, remove the directory, free; *fx_p = NULL. */
void td_fx_destroy(td_fx **fx_p);

/* cmocka setup/teardown wrappers: *state is the td_fx. */
int td_fx_setup(void **state);
int td_fx_teardown(void **state);

/* Close writer and database and open them again on the same directory,
 * as a restarted daemon would. */
void td_fx_reopen(td_fx *fx);

/* Pack `a` as a store message (token 0, no envelope) and add it to the
 * writer's batch with arrival time `now`; does not commit. */
void td_fx_put(td_fx *fx, const td_article *a, int64_t now);

/* Store one English article (published and arrived at `t`) and commit. */
void td_fx_add(td_fx *fx, const char *id, const char *title, const char *body, int64_t t,
               const char *source);

/* Article / event `id` as stored; it must exist. Strings live in fx->arena. */
td_article td_fx_get(td_fx *fx, const char *id);
td_event td_fx_event(td_fx *fx, const char *id);

/* Six unrelated wire headlines stored from `t` on (ids bg0..bg5), so that
 * document frequencies are not all equal. */
void td_fx_background(td_fx *fx, int64_t t);

/* A five-paragraph earthquake report and a paraphrase of it crediting
 * Reuters (made up, for the provenance tests). */
extern const char *const td_fx_quake;
extern const char *const td_fx_quake_rewrite;

#endif
