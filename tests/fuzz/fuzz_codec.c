/* fuzz_codec.c — arbitrary bytes into every decoder of proto/codec.h. */
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "terms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    td_arena *arena = td_arena_new(64u << 20);
    if (!arena)
        return 0;
    td_error err;
    td_article art;
    td_event ev;
    td_story st;
    td_reject rj;
    td_ack ack;
    td_store_msg sm;
    td_query q;
    td_reply rep;
    td_stats stats;
    td_notice no;
    td_submission_decode(data, size, TD_MAX_FRAME_DEFAULT, arena, &art, &err);
    td_article_decode(data, size, arena, &art, &err);
    td_event_decode(data, size, arena, &ev, &err);
    td_story_decode(data, size, arena, &st, &err);
    td_reject_decode(data, size, arena, &rj, &err);
    td_ack_decode(data, size, arena, &ack, &err);
    if (td_store_msg_decode(data, size, arena, &sm, &err) == 0 && sm.terms) {
        /* the store loads what the decoder accepted */
        static td_terms *terms;
        if (!terms)
            terms = td_terms_new();
        if (terms)
            td_terms_load(terms, sm.terms);
    }
    td_query_decode(data, size, arena, &q, &err);
    if (td_reply_decode(data, size, arena, &rep, &err) == 0 && rep.ok)
        td_stats_decode(rep.result, rep.result_len, &stats, &err);
    td_notice_decode(data, size, arena, &no, &err);
    td_utf8_valid((const char *)data, size);
    td_arena_destroy(&arena);
    return 0;
}
