/* dfstats.c — document frequencies in LMDB; see dfstats.h. */
#include "dfstats.h"

#include <math.h>
#include <string.h>

/* The document count lives under a key no term can have (terms are
 * prefixed with a letter by their callers). */
static const char s_docs_key[] = "\0docs";
#define DOCS_KEY_LEN 5

static uint64_t s_get_be(const td_val *v)
{
    uint64_t x = 0;
    const unsigned char *p = v->data;
    for (size_t i = 0; i < v->len && i < 8; i++)
        x = x << 8 | p[i];
    return x;
}

static void s_put_be(unsigned char *p, size_t n, uint64_t x)
{
    for (size_t i = n; i-- > 0; x >>= 8)
        p[i] = (unsigned char)x;
}

uint64_t td_df_docs(td_txn *txn)
{
    td_val v;
    if (td_txn_get(txn, TD_DBI_DF, s_docs_key, DOCS_KEY_LEN, &v) != TD_DB_OK)
        return 0;
    return s_get_be(&v);
}

uint32_t td_df_get(td_txn *txn, const void *key, size_t len)
{
    td_val v;
    if (!len || len > TD_DB_MAX_KEY || td_txn_get(txn, TD_DBI_DF, key, len, &v) != TD_DB_OK)
        return 0;
    uint64_t x = s_get_be(&v);
    return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

td_db_rc td_df_add(td_txn *txn, const void *const *keys, const size_t *lens, size_t n)
{
    unsigned char b[8];
    for (size_t i = 0; i < n; i++) {
        if (!lens[i] || lens[i] > TD_DB_MAX_KEY)
            continue;
        uint32_t df = td_df_get(txn, keys[i], lens[i]);
        if (df == UINT32_MAX)
            continue;
        s_put_be(b, 4, (uint64_t)df + 1);
        td_db_rc rc = td_txn_put(txn, TD_DBI_DF, keys[i], lens[i], b, 4);
        if (rc)
            return rc;
    }
    s_put_be(b, 8, td_df_docs(txn) + 1);
    return td_txn_put(txn, TD_DBI_DF, s_docs_key, DOCS_KEY_LEN, b, 8);
}

double td_df_idf(uint64_t docs, uint32_t df)
{
    return log(((double)docs + 1.0) / ((double)df + 1.0)) + 1.0;
}
