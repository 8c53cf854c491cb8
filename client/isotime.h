/* isotime.h — times as people write them: ISO-8601 in, ISO-8601 UTC out. */
#ifndef TD_ISOTIME_H
#define TD_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

/* Parse "2023-05-11", "2023-05-11T16:30", "2023-05-11T16:30:00Z",
 * "2023-05-11 16:30:00.250+02:00" (no zone means UTC), or a plain integer of
 * milliseconds since the epoch, into `*ms`. Returns 0, or -1 when `s` is none
 * of these or names an impossible date. */
int td_isotime_parse(const char *s, int64_t *ms);

/* Format `ms` as "2023-05-11T16:30:00Z" (".250" before the Z when there are
 * milliseconds) into buf; "-" for TD_CLIENT_TIME_NONE. Returns buf. */
char *td_isotime_format(int64_t ms, char *buf, size_t size);

#endif
