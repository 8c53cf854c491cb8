/* dates.h — dates written in a text, resolved against the publication time
 * (internal to the analyser; the result goes into td_article.dates and
 * event_date, and tells claims.c which figures are about another time).
 *
 * Absolute: "May 14", "14 May 2023", "December 2021", "in 2020", "the 1990s".
 * Relative to publication: "on Thursday", "Friday (May 12)", "yesterday",
 * "last month", "last November", "last autumn", "earlier this month",
 * "three days ago". Relative to the date last mentioned: "a day prior",
 * "the day before", "the previous day". A weekday is the last such day on or
 * before publication unless the sentence speaks of the future ("will", "is
 * set to", "next", "scheduled").
 */
#ifndef TD_DATES_H
#define TD_DATES_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "lexer.h"
#include "record.h"

enum { TD_PREC_YEAR = 1, TD_PREC_MONTH = 2, TD_PREC_DAY = 3 };

typedef struct {
    int y, m, d;       /* m, d are 0 below their precision */
    int prec;          /* TD_PREC_* */
    uint32_t sent;     /* sentence of the mention */
    uint32_t w0, w1;   /* words [w0, w1) */
    bool future;       /* in a sentence about what is to come */
    bool approx;       /* a span resolved to a day ("last week", "two weeks ago") */
} td_datem;

typedef struct {
    td_datem *m;
    uint32_t n;
    bool has_pub;
    int py, pm, pd;    /* publication date (UTC) when has_pub */
} td_dates;

#define TD_MAX_DATES 256

/* Find the dates of `doc`; `published_at` in ms or TD_TIME_NONE (then only
 * absolute dates with a year resolve fully). Returns 0, -1 on a full arena. */
int td_dates_find(const td_doc *doc, int64_t published_at, td_arena *arena, td_dates *out);

/* The date of the main happening: the first dated day of the lead (first
 * two sentences) that is neither in the future nor a background year,
 * else the first such day in the first five sentences, else the publication
 * day. Sets *y, *m, *d; returns false when nothing is known. */
bool td_dates_event(const td_doc *doc, const td_dates *dates, int *y, int *m, int *d);

/* "YYYY-MM-DD", "YYYY-MM" or "YYYY" in the arena. */
char *td_date_format(td_arena *arena, int y, int m, int d, int prec);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t td_days_from_civil(int y, int m, int d);

#endif
