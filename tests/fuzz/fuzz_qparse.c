/* fuzz_qparse.c — libFuzzer target for the search query parser. */
#include <stddef.h>
#include <stdint.h>

#include "qparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static td_tokenizer *tk;
    if (!tk)
        tk = td_tokenizer_new();
    td_arena *arena = td_arena_new(0);
    if (!tk || !arena)
        return 0;
    td_qparsed q;
    (void)td_qparse((const char *)data, size, tk, "en", arena, &q);
    td_arena_destroy(&arena);
    return 0;
}
