/* verify.h — tidings' own consistency check of a data directory.
 *
 * mdb_stat checks LMDB's B-trees; this checks what tidings builds on them,
 * in one read snapshot (so it runs beside a live store): every article's
 * event and story exist and the event lists it; every article an event
 * lists exists and points back; every event's story exists and lists it;
 * event_time, keys, entity links and rejects resolve; the counters in
 * `meta` match the entry counts; and the search index's doc records,
 * id map and postings reference live articles (or retired versions in
 * `retired`). Used by `tidings-verify`, the crash test and scripts/soak.
 */
#ifndef TD_VERIFY_H
#define TD_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "db.h"

typedef struct {
    uint64_t articles, events, stories, keys, rejects, postings, docs;
    uint64_t problems;       /* inconsistencies found */
} td_verify_report;

/* Check the open database `db` (read-only or not) in one snapshot. Each
 * problem is printed to `out` (the first 50; NULL: silent). Returns 0 when
 * consistent, 1 when problems were found, 2 when the check could not run. */
int td_verify(td_db *db, FILE *out, td_verify_report *report);

#endif
