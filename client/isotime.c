/* isotime.c — see isotime.h. */
#include "isotime.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tidings.h"

/* Read exactly `n` digits. */
static int s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int s_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without timegm's
 * dependence on time_t range or the TZ environment. */
static int64_t s_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int td_isotime_parse(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    const char *p = s;
    /* all digits (with an optional sign): milliseconds */
    const char *q = p + (*p == '-');
    if (*q && strspn(q, "0123456789") == strlen(q)) {
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return -1;
        *ms = v;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (s_digits(&p, 4, &y) || *p++ != '-' || s_digits(&p, 2, &mo) || *p++ != '-' ||
        s_digits(&p, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > s_days_in_month(y, mo))
        return -1;
    int64_t offset_min = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (s_digits(&p, 2, &h) || *p++ != ':' || s_digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (s_digits(&p, 2, &sec))
                return -1;
            if (*p == '.' || *p == ',') {
                p++;
                int nd = 0;
                while (isdigit((unsigned char)*p)) {
                    if (nd < 3)
                        frac = frac * 10 + (*p - '0');
                    nd++;
                    p++;
                }
                if (nd == 0)
                    return -1;
                for (; nd < 3; nd++)
                    frac *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (s_digits(&p, 2, &oh))
                return -1;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && s_digits(&p, 2, &om))
                return -1;
            if (oh > 23 || om > 59)
                return -1;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (*p)
        return -1;
    int64_t days = s_days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    *ms = secs * 1000 + frac;
    return 0;
}

char *td_isotime_format(int64_t ms, char *buf, size_t size)
{
    if (ms == TD_CLIENT_TIME_NONE) {
        snprintf(buf, size, "-");
        return buf;
    }
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, size, "%lld", (long long)ms);
        return buf;
    }
    if (rem)
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
    else
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}
