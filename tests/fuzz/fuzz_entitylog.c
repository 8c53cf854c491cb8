/* fuzz_entitylog.c — libFuzzer target for the entity log's records
 * (store/entity_tally.c td_etally_log_parse), read back when a store
 * starts with changes not yet in the entity tables, and by tidings-verify. */
#include <stddef.h>
#include <stdint.h>

#include "entity_tally.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_change(int op, const char *key, size_t klen, const char *s, size_t slen, int kind,
                    void *arg)
{
    /* touch every byte the parser hands out, so ASan sees overreads */
    unsigned *sum = arg;
    for (size_t i = 0; i < klen; i++)
        *sum += (unsigned char)key[i];
    for (size_t i = 0; i < slen; i++)
        *sum += (unsigned char)s[i];
    *sum += (unsigned)op + (unsigned)kind;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sum = 0;
    (void)td_etally_log_parse(data, size, s_change, &sum);
    return 0;
}
