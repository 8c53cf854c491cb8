/* varint.h — unsigned LEB128 numbers, as the store's internal logs
 * (`df_log`, `entity_log`) write them. Hand-written: two loops, and the
 * logs are internal to the store, never sent. */
#ifndef TD_VARINT_H
#define TD_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* Longest encoding of a uint64_t. */
#define TD_VARINT_MAX 10

/* Write `x` at `p` (room for TD_VARINT_MAX bytes); returns bytes written. */
static inline size_t td_varint_put(unsigned char *p, uint64_t x)
{
    size_t n = 0;
    for (; x >= 0x80; x >>= 7)
        p[n++] = (unsigned char)(x | 0x80);
    p[n++] = (unsigned char)x;
    return n;
}

/* Read one number at *p (never past `end`), advancing *p; -1 when it is
 * cut short or longer than 64 bits. */
static inline int td_varint_get(const unsigned char **p, const unsigned char *end, uint64_t *x)
{
    uint64_t v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *x = v;
            return 0;
        }
    }
    return -1;
}

#endif
