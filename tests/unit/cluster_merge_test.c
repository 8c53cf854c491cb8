/* cluster_merge_test.c — events that turn out to be one happening are
 * merged (store/assign.c s_merge), and an event's record stays bounded
 * however many articles join it (the full list is in event_articles).
 * A merged-away id keeps answering with the event it went into.
 * Through the real writer, as article.get / event.get show it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assign.h"
#include "store_fixture.h"

#define HOUR 3600000LL
#define T0 1700000000000LL

static bool s_event_exists(td_fx *fx, const char *id)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_val raw;
    td_db_rc rc = td_db_event_get(txn, id, &raw);
    td_txn_end(&txn);
    return rc == TD_DB_OK;
}

/* Entries of event `id` in event_articles. */
static size_t s_listed(td_fx *fx, const char *id)
{
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_cur *cur;
    assert_int_equal(td_cur_open(txn, TD_DBI_EVENT_ARTICLES, &cur), TD_DB_OK);
    size_t el = strlen(id), n = 0;
    td_val k, v;
    for (td_db_rc rc = td_cur_seek(cur, id, el + 1, &k, &v);
         rc == TD_DB_OK && k.len == el + 5 && memcmp(k.data, id, el + 1) == 0;
         rc = td_cur_next(cur, &k, &v))
        n++;
    td_cur_close(&cur);
    td_txn_end(&txn);
    return n;
}

static void test_bridged_events_merge(void **state)
{
    td_fx *fx = *state;
    td_fx_background(fx, T0 - 48 * HOUR);
    td_fx_add(fx, "a1", "Flood waters rise in the Valmora river delta",
              "Flood waters rise in the Valmora river delta", T0, "Wire");
    td_fx_add(fx, "b1", "Evacuation ordered for Kestrel villages",
              "Evacuation ordered for Kestrel villages", T0 + 60000, "Post");
    char *e1 = td_fx_get(fx, "a1").event, *e2 = td_fx_get(fx, "b1").event;
    assert_string_not_equal(e1, e2);
    td_fx_add(fx, "b2", "Kestrel villages evacuated as the Valmora delta floods",
              "Kestrel villages evacuated as the Valmora delta floods", T0 + 120000, "Daily");
    td_fx_add(fx, "c1", "Valmora delta flood forces Kestrel villages evacuation",
              "Valmora delta flood forces Kestrel villages evacuation", T0 + 180000, "Times");
    td_article a1 = td_fx_get(fx, "a1"), b1 = td_fx_get(fx, "b1"), b2 = td_fx_get(fx, "b2"),
               c1 = td_fx_get(fx, "c1");
    assert_string_equal(a1.event, b1.event);
    assert_string_equal(a1.event, b2.event);
    assert_string_equal(a1.event, c1.event);
    assert_string_equal(a1.story, c1.story);
    /* one of the two events is gone, the other holds all four */
    const char *kept = a1.event, *gone = strcmp(kept, e1) == 0 ? e2 : e1;
    assert_false(s_event_exists(fx, gone));
    /* the gone id still answers, with the event it went into */
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_val raw;
    td_event moved;
    td_error err;
    assert_int_equal(td_db_event_get_moved(txn, gone, &raw), TD_DB_OK);
    assert_int_equal(td_event_decode(raw.data, raw.len, fx->arena, &moved, &err), 0);
    assert_string_equal(moved.id, kept);
    assert_int_equal(td_db_event_get_moved(txn, "no-such-event", &raw), TD_DB_NOTFOUND);
    td_txn_end(&txn);
    td_event e = td_fx_event(fx, kept);
    assert_int_equal(e.articles, 4);
    assert_int_equal(e.n_article_ids, 4);
    assert_int_equal(s_listed(fx, kept), 4);
    assert_int_equal(s_listed(fx, gone), 0);
    assert_int_equal(e.sources, 4);
    assert_int_equal(e.independent_sources, 4);
}

static void test_record_bounded(void **state)
{
    td_fx *fx = *state;
    td_fx_background(fx, T0 - 48 * HOUR);
    char id[32], title[128];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "f%d", i);
        snprintf(title, sizeof title, "Valmora delta flood update %d: Kestrel villages evacuated",
                 i);
        td_fx_add(fx, id, title, title, T0 + (int64_t)i * 10000, i % 2 ? "Wire" : "Post");
    }
    td_article first = td_fx_get(fx, "f0"), last = td_fx_get(fx, "f299");
    assert_string_equal(first.event, last.event);
    td_event e = td_fx_event(fx, first.event);
    assert_int_equal(e.articles, 300);
    assert_int_equal(e.n_article_ids, 256);        /* the first ones, embedded */
    assert_string_equal(e.article_ids[0], "f0");
    assert_int_equal(s_listed(fx, first.event), 300); /* all of them */
    /* what event.get and the search filter read */
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    char **ids;
    size_t n;
    assert_int_equal(td_assign_event_articles(txn, &e, fx->arena, &ids, &n), TD_DB_OK);
    td_txn_end(&txn);
    assert_int_equal(n, 300);
    assert_string_equal(ids[0], "f0");
    assert_string_equal(ids[299], "f299");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bridged_events_merge, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_record_bounded, td_fx_setup, td_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
