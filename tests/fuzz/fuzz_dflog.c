/* fuzz_dflog.c — libFuzzer target for the document frequencies' log
 * records (store/dfstats.c td_df_log_parse), read back at every start. */
#include <stddef.h>
#include <stdint.h>

#include "dfstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_entry(const void *key, size_t len, uint32_t delta, void *arg)
{
    /* touch every byte the parser hands out, so ASan sees overreads */
    const unsigned char *k = key;
    unsigned *sum = arg;
    for (size_t i = 0; i < len; i++)
        *sum += k[i];
    *sum += delta;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t docs;
    unsigned sum = 0;
    (void)td_df_log_parse(data, size, &docs, s_entry, &sum);
    return 0;
}
