/* cluster_stream_test.c — streaming event detection through the real writer
 * (store/assign.c, cluster.c, stories.c): what a user of article.get and
 * event.get would notice. Headlines about one happening share an event,
 * unrelated ones do not, the same words a year later start a new event, an
 * article arriving late still finds its event, every assignment carries its
 * reasons, stories link follow-ups, and the candidate index comes back from
 * LMDB after a restart. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_fixture.h"

#define HOUR 3600000LL
#define T0 1700000000000LL

static double s_feature(const td_article *a, const char *name)
{
    for (size_t i = 0; i < a->n_assignment; i++)
        if (strcmp(a->assignment[i].name, name) == 0)
            return a->assignment[i].value;
    return -1;
}

static void test_same_happening_one_event(void **state)
{
    td_fx *fx = *state;
    td_fx_background(fx, T0 - 10 * HOUR);
    td_fx_add(fx, "a1", "Volcano erupts on Iceland peninsula, flights diverted",
              "Volcano erupts on Iceland peninsula, flights diverted", T0, "A");
    td_fx_add(fx, "a2", "Iceland volcano eruption forces flights to divert",
              "Iceland volcano eruption forces flights to divert", T0 + HOUR / 2, "B");
    td_fx_add(fx, "a3", "Tennis star wins third title of the year",
              "Tennis star wins third title of the year", T0 + HOUR, "C");
    td_article a1 = td_fx_get(fx, "a1"), a2 = td_fx_get(fx, "a2"), a3 = td_fx_get(fx, "a3");
    assert_string_equal(a1.event, a2.event);
    assert_string_not_equal(a1.event, a3.event);
    /* the reasons are kept: the joining article shows its score and parts */
    assert_true(s_feature(&a2, "score") >= s_feature(&a2, "threshold"));
    assert_true(s_feature(&a2, "text") > 0.1);
    assert_true(s_feature(&a2, "candidates") >= 1);
    assert_true(s_feature(&a2, "new_event") == 0);
    assert_true(s_feature(&a3, "new_event") == 1);
    td_event e = td_fx_event(fx, a1.event);
    assert_int_equal(e.articles, 2);
    assert_int_equal(e.sources, 2);
    assert_int_equal(e.n_article_ids, 2);
    assert_true(e.n_keywords > 0);
}

static void test_same_words_a_year_later_new_event(void **state)
{
    td_fx *fx = *state;
    td_fx_background(fx, T0 - 10 * HOUR);
    td_fx_add(fx, "y1", "Volcano erupts on Iceland peninsula, flights diverted",
              "Volcano erupts on Iceland peninsula, flights diverted", T0, "A");
    td_fx_add(fx, "y2", "Volcano erupts on Iceland peninsula, flights diverted again",
              "Volcano erupts on Iceland peninsula, flights diverted again",
              T0 + 365 * 24 * HOUR, "B");
    assert_string_not_equal(td_fx_get(fx, "y1").event, td_fx_get(fx, "y2").event);
}

static void test_late_arrival_finds_its_event(void **state)
{
    td_fx *fx = *state;
    td_fx_background(fx, T0 - 10 * HOUR);
    td_fx_add(fx, "l1", "Volcano erupts on Iceland peninsula, flights diverted",
              "Volcano erupts on Iceland peninsula, flights diverted", T0, "A");
    /* the stream moves on by a month ... */
    td_fx_add(fx, "l2", "Parliament passes budget after long night session",
              "Parliament passes budget after long night session", T0 + 30 * 24 * HOUR, "B");
    /* ... then an article of the eruption arrives late */
    td_fx_add(fx, "l3", "Iceland volcano eruption forces flights to divert",
              "Iceland volcano eruption forces flights to divert", T0 + HOUR, "C");
    assert_string_equal(td_fx_get(fx, "l1").event, td_fx_get(fx, "l3").event);
}

static void test_index_survives_restart(void **state)
{
    td_fx *fx = *state;
    td_fx_background(fx, T0 - 10 * HOUR);
    td_fx_add(fx, "r1", "Volcano erupts on Iceland peninsula, flights diverted",
              "Volcano erupts on Iceland peninsula, flights diverted", T0, "A");
    td_fx_reopen(fx);
    td_fx_add(fx, "r2", "Iceland volcano eruption forces flights to divert",
              "Iceland volcano eruption forces flights to divert", T0 + HOUR / 2, "B");
    assert_string_equal(td_fx_get(fx, "r1").event, td_fx_get(fx, "r2").event);
}

static const char *s_long1 =
    "Rescue teams searched on Monday for survivors after a magnitude 6.8 earthquake struck "
    "the mountain province of Daravan, officials said. The quake destroyed hundreds of homes "
    "in villages near the town of Kestrel. Rescue workers pulled survivors from collapsed "
    "buildings through the night. The provincial governor said field hospitals were set up "
    "near the epicentre. Aftershocks shook the region on Monday morning.";
static const char *s_long2 =
    "Strong aftershocks rattled Daravan province on Tuesday, a day after the magnitude 6.8 "
    "earthquake, as rescue teams widened the search for survivors. Officials said more "
    "villages near Kestrel were cut off by landslides. Field hospitals near the epicentre "
    "were full, the provincial governor said. Aid convoys reached the mountain villages.";

static void test_follow_up_same_story(void **state)
{
    td_fx *fx = *state;
    td_fx_background(fx, T0 - 10 * HOUR);
    td_fx_add(fx, "q1", NULL, s_long1, T0, "A");
    td_fx_add(fx, "q2", NULL, s_long2, T0 + 30 * HOUR, "B");
    td_article q1 = td_fx_get(fx, "q1"), q2 = td_fx_get(fx, "q2");
    assert_string_equal(q1.story, q2.story);
    if (strcmp(q1.event, q2.event) != 0) {
        td_event e2 = td_fx_event(fx, q2.event);
        assert_true(e2.n_related >= 1);
        assert_string_equal(e2.related[0], q1.event);
    }
    td_txn *txn;
    assert_int_equal(td_db_read_begin(fx->db, &txn), TD_DB_OK);
    td_val raw;
    td_story s;
    td_error err;
    assert_int_equal(td_db_story_get(txn, q1.story, &raw), TD_DB_OK);
    assert_int_equal(td_story_decode(raw.data, raw.len, fx->arena, &s, &err), 0);
    td_txn_end(&txn);
    assert_string_equal(s.event_ids[0], q1.event);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_happening_one_event, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_same_words_a_year_later_new_event, td_fx_setup,
                                        td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_late_arrival_finds_its_event, td_fx_setup,
                                        td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_index_survives_restart, td_fx_setup, td_fx_teardown),
        cmocka_unit_test_setup_teardown(test_follow_up_same_story, td_fx_setup, td_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
