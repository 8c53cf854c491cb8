/* ops_info.c — ping, stats, and the helpers shared by every op; see ops.h. */
#include "ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

int td_q_fail(td_qctx *ctx, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
    ctx->code = code;
    return -1;
}

char *td_q_cursor_encode(td_arena *arena, const void *key, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *s = td_arena_alloc(arena, 2 * len + 1);
    if (!s)
        return NULL;
    const unsigned char *k = key;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = hex[k[i] >> 4];
        s[2 * i + 1] = hex[k[i] & 15];
    }
    s[2 * len] = '\0';
    return s;
}

static int s_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t td_q_cursor_decode(const char *cursor, unsigned char *out, size_t cap)
{
    size_t n = strlen(cursor);
    if (n == 0 || n % 2 || n / 2 > cap)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = s_nibble(cursor[2 * i]), lo = s_nibble(cursor[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return n / 2;
}

int td_op_ping(td_qctx *ctx, const td_query *q)
{
    (void)q;
    if (td_reply_ok_begin(ctx->pk) || td_ping_pack(ctx->pk))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}

int td_op_stats(td_qctx *ctx, const td_query *q)
{
    (void)q;
    td_stats s;
    td_counter counters[TD_DB_COUNTERS];
    memset(&s, 0, sizeof s);
    td_db_stats(ctx->txn, &s);
    /* fault and activity counters: written by the store in the same
     * transactions as the records they count (docs/reliability.md) */
    s.n_counters = td_db_counters(ctx->txn, counters, TD_DB_COUNTERS);
    s.counters = counters;
    s.uptime_s = (uint64_t)((td_mono_ms() - ctx->started_ms) / 1000);
    if (td_reply_ok_begin(ctx->pk) || td_stats_pack(ctx->pk, &s))
        return td_q_fail(ctx, TD_E_INTERNAL, "reply does not pack");
    return 0;
}
