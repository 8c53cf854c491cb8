/* dates.c — date mentions; see dates.h. */
#include "dates.h"

#include <stdlib.h>
#include <string.h>

#include "lexicon.h"

int64_t td_days_from_civil(int y, int m, int d)
{
    /* H. Hinnant's days_from_civil */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void s_civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

/* Monday = 1 ... Sunday = 7 */
static int s_weekday(int64_t days)
{
    int64_t w = (days + 3) % 7; /* 1970-01-01 was a Thursday */
    if (w < 0)
        w += 7;
    return (int)w + 1;
}

static int s_mdays(int y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return m >= 1 && m <= 12 ? n[m - 1] : 30;
}

char *td_date_format(td_arena *arena, int y, int m, int d, int prec)
{
    if (prec >= TD_PREC_DAY)
        return td_arena_printf(arena, "%04d-%02d-%02d", y, m, d);
    if (prec == TD_PREC_MONTH)
        return td_arena_printf(arena, "%04d-%02d", y, m);
    return td_arena_printf(arena, "%04d", y);
}

static uint32_t s_cls(const td_doc *d, uint32_t i, int32_t *v)
{
    if (i >= d->nw) {
        if (v)
            *v = 0;
        return 0;
    }
    if (v)
        *v = d->w[i].val;
    return d->w[i].cls;
}

/* Value of word i as a plain integer (digits only, at most 4), else -1.
 * "14th" counts as 14. */
static int s_int(const td_doc *d, uint32_t i)
{
    if (i >= d->nw || !(d->w[i].flags & (W_NUM | W_ALNUM)))
        return -1;
    const char *p = d->text + d->w[i].s;
    uint32_t n = td_wlen(d, i), k = 0;
    int v = 0;
    while (k < n && k < 5 && p[k] >= '0' && p[k] <= '9')
        v = v * 10 + (p[k++] - '0');
    if (k == 0 || k > 4)
        return -1;
    if (k < n) {
        /* ordinal suffix only */
        const char *r = p + k;
        uint32_t rn = n - k;
        if (!(rn == 2 && (!strncasecmp(r, "st", 2) || !strncasecmp(r, "nd", 2) ||
                          !strncasecmp(r, "rd", 2) || !strncasecmp(r, "th", 2))))
            return -1;
    }
    return v;
}

static bool s_is_year(int v)
{
    return v >= 1900 && v <= 2100;
}

/* Does word upto - 1 of sentence s speak of the future ("will",
 * "scheduled", "is set to", "are to meet")? */
static bool s_future(const td_doc *d, uint32_t s, uint32_t upto)
{
    (void)s;
    uint32_t i = upto - 1;
    const td_word *w = &d->w[i];
    if (!(w->flags & W_LOWER))
        return false;
    if (w->cls & K_FUTURE)
        return true;
    return (td_word_is(d, i, "set") || td_word_is(d, i, "is") || td_word_is(d, i, "are")) &&
           td_word_is(d, i + 1, "to");
}

typedef struct {
    const td_doc *d;
    td_dates *out;
    int64_t pub;        /* publication day, days since epoch */
    int64_t anchor;     /* last day-precision date seen */
    bool has_pub;
} s_ctx;

static void s_add(s_ctx *c, int y, int m, int dd, int prec, uint32_t w0, uint32_t w1, bool fut)
{
    if (c->out->n >= TD_MAX_DATES || y < 1 || y > 9999)
        return;
    if (prec >= TD_PREC_DAY && (m < 1 || m > 12 || dd < 1 || dd > s_mdays(y, m)))
        return;
    td_datem *dm = &c->out->m[c->out->n++];
    *dm = (td_datem){y, prec >= TD_PREC_MONTH ? m : 0, prec >= TD_PREC_DAY ? dd : 0, prec,
                     c->d->w[w0].sent, w0, w1, fut, false};
    if (prec == TD_PREC_DAY)
        c->anchor = td_days_from_civil(y, m, dd);
}

static void s_add_days(s_ctx *c, int64_t days, uint32_t w0, uint32_t w1, bool fut)
{
    int y, m, dd;
    s_civil(days, &y, &m, &dd);
    s_add(c, y, m, dd, TD_PREC_DAY, w0, w1, fut);
}

/* Year of a month/day without one: the occurrence nearest publication,
 * looking back up to ten months and forward up to two. */
static int s_infer_year(const s_ctx *c, int m, int dd)
{
    if (!c->has_pub)
        return 0;
    int py = c->out->py;
    int64_t best = 0, bestdiff = INT64_MAX;
    for (int y = py - 1; y <= py + 1; y++) {
        int64_t days = td_days_from_civil(y, m, dd ? dd : 15);
        int64_t diff = days - c->pub;
        int64_t cost = diff > 0 ? diff * 4 : -diff; /* the past is likelier */
        if (cost < bestdiff) {
            bestdiff = cost;
            best = y;
        }
    }
    return (int)best;
}

/* "last" + season: the most recent season that is over. */
static bool s_season(const td_doc *d, uint32_t i, int *start_month)
{
    static const struct { const char *w; int m; } seasons[] = {
        {"spring", 3}, {"summer", 6}, {"autumn", 9}, {"fall", 9}, {"winter", 12}};
    for (size_t k = 0; k < 5; k++)
        if (td_word_isn(d, i, seasons[k].w, strlen(seasons[k].w))) {
            *start_month = seasons[k].m;
            return true;
        }
    return false;
}

int td_dates_find(const td_doc *d, int64_t published_at, td_arena *arena, td_dates *out)
{
    memset(out, 0, sizeof *out);
    out->m = td_arena_alloc(arena, TD_MAX_DATES * sizeof *out->m);
    if (!out->m)
        return -1;
    s_ctx c = {.d = d, .out = out};
    if (published_at != TD_TIME_NONE) {
        int64_t days = published_at / 86400000;
        if (published_at < 0 && published_at % 86400000)
            days--;
        if (days > -700000 && days < 2900000) {
            c.pub = days;
            c.has_pub = true;
            out->has_pub = true;
            s_civil(days, &out->py, &out->pm, &out->pd);
        }
    }
    c.anchor = c.pub;
    /* the first word of each sentence that speaks of the future */
    uint32_t *fut_at = td_arena_alloc(arena, (d->ns ? d->ns : 1) * sizeof *fut_at);
    if (!fut_at)
        return -1;
    for (uint32_t s = 0; s < d->ns; s++) {
        fut_at[s] = UINT32_MAX;
        for (uint32_t i = d->s[s].w0; i < d->s[s].w1; i++)
            if (s_future(d, s, i + 1)) {
                fut_at[s] = i;
                break;
            }
    }
    for (uint32_t i = 0; i < d->nw; i++) {
        const td_word *w = &d->w[i];
        if (w->flags & W_PUNCT)
            continue;
        bool fut = fut_at[w->sent] < i;
        int32_t v;
        uint32_t cls = s_cls(d, i, &v);
        bool cap = (w->flags & W_CAP) != 0;
        uint32_t start = i;
        if ((cls & (K_MONTH | K_WDAY)) && cap && i > 0 && td_word_is(d, i - 1, "on"))
            start = i - 1;

        if ((cls & K_MONTH) && cap) {
            int m = v;
            uint32_t j = i + 1;
            if (td_word_punct(d, j, '.'))
                j++;
            int day = s_int(d, j);
            if (day >= 1 && day <= 31 && !(d->w[j].flags & W_HYPH)) {
                uint32_t k = j + 1;
                int y = 0;
                if (td_word_punct(d, k, ',') && s_is_year(s_int(d, k + 1)))
                    y = s_int(d, k + 1), k += 2;
                else if (s_is_year(s_int(d, k)))
                    y = s_int(d, k), k++;
                if (!y)
                    y = s_infer_year(&c, m, day);
                if (y)
                    s_add(&c, y, m, day, TD_PREC_DAY, start, k, fut);
                i = k - 1;
                continue;
            }
            if (s_is_year(day)) {
                s_add(&c, day, m, 0, TD_PREC_MONTH, start, j + 1, fut);
                i = j;
                continue;
            }
            int pday = i > 0 ? s_int(d, i - 1) : -1;
            if (pday >= 1 && pday <= 31) {
                /* 14 May (2023) */
                uint32_t k = i + 1;
                int y = s_is_year(s_int(d, k)) ? s_int(d, k++) : s_infer_year(&c, m, pday);
                if (y)
                    s_add(&c, y, m, pday, TD_PREC_DAY, i - 1, k, fut);
                i = k - 1;
                continue;
            }
            /* a bare month after a time preposition: in May, last November */
            if (i > 0 && (d->w[i - 1].flags & W_LOWER) &&
                (td_word_is(d, i - 1, "in") || td_word_is(d, i - 1, "last") ||
                 td_word_is(d, i - 1, "since") || td_word_is(d, i - 1, "early") ||
                 td_word_is(d, i - 1, "late") || td_word_is(d, i - 1, "mid") ||
                 td_word_is(d, i - 1, "until") || td_word_is(d, i - 1, "this") ||
                 td_word_is(d, i - 1, "next") || td_word_is(d, i - 1, "of") ||
                 td_word_is(d, i - 1, "from") || td_word_is(d, i - 1, "during") ||
                 td_word_is(d, i - 1, "by")) && c.has_pub) {
                bool last = td_word_is(d, i - 1, "last");
                bool next = td_word_is(d, i - 1, "next");
                int y = out->py;
                if (next) {
                    if (m <= out->pm)
                        y++;
                } else if (last || td_word_is(d, i - 1, "since")) {
                    /* "last November" said in December is a year back:
                     * "last month" would be said otherwise */
                    if (m > out->pm || (last && m >= out->pm - 1))
                        y--;
                } else {
                    y = s_infer_year(&c, m, 0);
                }
                if (last || next || td_word_is(d, i - 1, "early") || td_word_is(d, i - 1, "late") ||
                    td_word_is(d, i - 1, "mid"))
                    start = i - 1;
                s_add(&c, y, m, 0, TD_PREC_MONTH, start, i + 1, fut);
            }
            continue;
        }

        if ((cls & K_WDAY) && cap) {
            int wd = v;
            uint32_t end = i + 1;
            /* Friday (May 12) */
            if (td_word_punct(d, i + 1, '(')) {
                int32_t mv;
                uint32_t mc = s_cls(d, i + 2, &mv);
                int day = s_int(d, i + 3);
                if ((mc & K_MONTH) && day >= 1 && day <= 31 && td_word_punct(d, i + 4, ')')) {
                    int y = s_infer_year(&c, mv, day);
                    if (y)
                        s_add(&c, y, mv, day, TD_PREC_DAY, start, i + 5, fut);
                    i += 4;
                    continue;
                }
            }
            if (!c.has_pub)
                continue;
            bool last = i > 0 && td_word_is(d, i - 1, "last");
            bool next = i > 0 && (td_word_is(d, i - 1, "next") || td_word_is(d, i - 1, "coming"));
            if (last || next)
                start = i - 1;
            int pw = s_weekday(c.pub);
            int64_t day;
            if (next || (fut && !last)) {
                int delta = (wd - pw + 7) % 7;
                day = c.pub + (delta == 0 ? 7 : delta);
            } else {
                int delta = (pw - wd + 7) % 7;
                if (last && delta == 0)
                    delta = 7;
                day = c.pub - delta;
            }
            s_add_days(&c, day, start, end, fut || next);
            continue;
        }

        int num = s_int(d, i);
        if (s_is_year(num) && (w->flags & W_NUM) && td_wlen(d, i) == 4) {
            /* a year, unless it counts something: "2020 people" */
            uint32_t nc = s_cls(d, i + 1, NULL);
            bool prep = i > 0 && (td_word_is(d, i - 1, "in") || td_word_is(d, i - 1, "since") ||
                                  td_word_is(d, i - 1, "of") || td_word_is(d, i - 1, "from"));
            if ((prep || !(nc & (K_HUMAN | K_CASUALTY | K_SCALE))) && !td_word_punct(d, i - 1, '$')) {
                uint32_t s0 = i;
                if (i > 0 && (td_word_is(d, i - 1, "in") || td_word_is(d, i - 1, "since")))
                    s0 = i - 1;
                s_add(&c, num, 0, 0, TD_PREC_YEAR, s0, i + 1, fut);
            }
            continue;
        }
        if ((w->flags & W_ALNUM) && td_wlen(d, i) == 5 && d->text[w->e - 1] == 's') {
            /* the 1990s: the decade's first year */
            int y = atoi(d->text + w->s);
            if (s_is_year(y) && y % 10 == 0)
                s_add(&c, y, 0, 0, TD_PREC_YEAR, i, i + 1, fut);
            continue;
        }

        if (!c.has_pub || !(cls & K_REL) || !(w->flags & (W_LOWER | W_CAP)))
            continue;
        fut = fut_at[w->sent] < i;
        if (td_word_is(d, i, "yesterday")) {
            s_add_days(&c, c.pub - 1, i, i + 1, false);
        } else if (td_word_is(d, i, "today") || td_word_is(d, i, "tonight")) {
            s_add_days(&c, c.pub, i, i + 1, false);
        } else if (td_word_is(d, i, "tomorrow")) {
            s_add_days(&c, c.pub + 1, i, i + 1, true);
        } else if (td_word_is(d, i, "last") || td_word_is(d, i, "this") ||
                   td_word_is(d, i, "next")) {
            int dir = td_word_is(d, i, "last") ? -1 : td_word_is(d, i, "next") ? 1 : 0;
            uint32_t j = i + 1;
            int sm;
            if (td_word_is(d, j, "month")) {
                int y = out->py, m = out->pm + dir;
                if (m < 1)
                    m = 12, y--;
                if (m > 12)
                    m = 1, y++;
                uint32_t s0 = (dir == 0 && i > 0 && td_word_is(d, i - 1, "earlier")) ? i - 1 : i;
                s_add(&c, y, m, 0, TD_PREC_MONTH, s0, j + 1, dir > 0);
                i = j;
            } else if (td_word_is(d, j, "year")) {
                uint32_t s0 = (dir == 0 && i > 0 && td_word_is(d, i - 1, "earlier")) ? i - 1 : i;
                s_add(&c, out->py + dir, 0, 0, TD_PREC_YEAR, s0, j + 1, dir > 0);
                i = j;
            } else if (td_word_is(d, j, "week")) {
                uint32_t before = c.out->n;
                s_add_days(&c, c.pub + 7 * dir, i, j + 1, dir > 0);
                if (c.out->n > before)
                    c.out->m[before].approx = true;
                i = j;
            } else if (dir < 0 && s_season(d, j, &sm)) {
                /* the last season that has ended, a year back when it only
                 * just ended ("last autumn" in December) */
                int y = out->py, now = out->py * 12 + out->pm;
                for (int guard = 0; guard < 3; guard++, y--) {
                    int end = (sm == 12 ? y + 1 : y) * 12 + (sm == 12 ? 2 : sm + 2);
                    if (end < now)
                        break;
                }
                int end = (sm == 12 ? y + 1 : y) * 12 + (sm == 12 ? 2 : sm + 2);
                if (now - end <= 1)
                    y--;
                s_add(&c, y, sm, 0, TD_PREC_MONTH, i, j + 1, false);
                i = j;
            }
        } else if (td_word_is(d, i, "ago") && i > 0) {
            /* three days ago, two weeks ago */
            uint32_t u = i - 1;
            int mult = td_word_is(d, u, "days") || td_word_is(d, u, "day") ? 1
                     : td_word_is(d, u, "weeks") || td_word_is(d, u, "week") ? 7 : 0;
            if (mult && u > 0) {
                int32_t nv = 0;
                uint32_t nc = s_cls(d, u - 1, &nv);
                int k = (nc & K_NUMW) ? nv : s_int(d, u - 1);
                uint32_t before = c.out->n;
                if (k > 0 && k < 400)
                    s_add_days(&c, c.pub - (int64_t)k * mult, u - 1, i + 1, false);
                if (c.out->n > before && mult == 7)
                    c.out->m[before].approx = true;
            }
        } else if ((td_word_is(d, i, "prior") || td_word_is(d, i, "earlier") ||
                    td_word_is(d, i, "before") || td_word_is(d, i, "later")) &&
                   i >= 2 && td_word_is(d, i - 1, "day") &&
                   (td_word_is(d, i - 2, "a") || td_word_is(d, i - 2, "one") ||
                    td_word_is(d, i - 2, "the"))) {
            /* a day prior, the day before: relative to the date last named */
            int64_t ref = c.anchor;
            int64_t day = td_word_is(d, i, "later") ? ref + 1 : ref - 1;
            s_add_days(&c, day, i - 2, i + 1, false);
        } else if (td_word_is(d, i, "previous") && td_word_is(d, i + 1, "day") && i > 0 &&
                   td_word_is(d, i - 1, "the")) {
            s_add_days(&c, c.anchor - 1, i - 1, i + 2, false);
            i++;
        }
    }
    return 0;
}

bool td_dates_event(const td_doc *d, const td_dates *dates, int *y, int *m, int *dd)
{
    int64_t pub = dates->has_pub ? td_days_from_civil(dates->py, dates->pm, dates->pd) : 0;
    /* passes: exact days in the lead (two sentences), exact days a little
     * further, then spans resolved to a day ("last week") as a last resort:
     * a lead that says "on Tuesday" after "last week" reports Tuesday */
    for (int pass = 0; pass < 3; pass++) {
        uint32_t lim = pass == 0 ? 2 : 5;
        for (uint32_t k = 0; k < dates->n; k++) {
            const td_datem *dm = &dates->m[k];
            if (dm->sent >= lim || dm->prec != TD_PREC_DAY || dm->future)
                continue;
            if (dm->approx != (pass == 2))
                continue;
            if (d->s[dm->sent].heading)
                continue;
            int64_t days = td_days_from_civil(dm->y, dm->m, dm->d);
            if (dates->has_pub && (days > pub + 1 || days < pub - 60))
                continue;
            *y = dm->y;
            *m = dm->m;
            *dd = dm->d;
            return true;
        }
    }
    if (dates->has_pub) {
        *y = dates->py;
        *m = dates->pm;
        *dd = dates->pd;
        return true;
    }
    return false;
}
