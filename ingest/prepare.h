/* prepare.h — one submission frame in, one store message out.
 *
 * Validates the frame with the codec, runs the text analysis, and packs the
 * analysed article (or, for a refused feed frame, a reject record) as a
 * td_store_msg ready to send to the store. One per thread: it reuses its
 * arena and buffer between frames. */
#ifndef TD_PREPARE_H
#define TD_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct td_prepare td_prepare;

/* `max_frame`: the submission size limit; `datadir`: passed to the analyser
 * (NULL for its defaults). NULL on failure (logged). */
td_prepare *td_prepare_new(size_t max_frame, const char *datadir);
void td_prepare_destroy(td_prepare **self_p);

/* Decode, validate and analyse `frame`. On success returns 0 and the
 * message (carrying `token`, 0 = no ack wanted) is in td_prepare_message().
 * On a bad submission returns -1 with `err` set and no message. */
int td_prepare_article(td_prepare *self, const void *frame, size_t len, uint64_t token,
                       td_error *err);

/* Pack a reject record for a refused frame (keeps its first bytes). */
int td_prepare_reject(td_prepare *self, const void *frame, size_t len, const td_error *err);

/* The last message packed; valid until the next call. */
const void *td_prepare_message(const td_prepare *self, size_t *len);

/* The id of the last prepared article (producer id or NULL), for logs. */
const char *td_prepare_last_id(const td_prepare *self);

#endif
