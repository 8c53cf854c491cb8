/* keys.h — identity of a submitted article: its idempotency key, its stable
 * id and the content hash that tells `unchanged` from `updated`.
 *
 * PROTOCOL.md: the key is the producer's `id`, else the canonical `url`, else
 * a hash of source+title+body. Pure functions (no LMDB), shared by the store
 * and the tests. Returned strings live in the given arena.
 */
#ifndef TD_KEYS_H
#define TD_KEYS_H

#include <stdint.h>

#include "arena.h"
#include "record.h"

/* Longest producer id used verbatim as the article id; longer ones get a
 * derived id (LMDB keys are limited to 511 bytes). */
#define TD_KEY_MAX_ARTICLE_ID 256

/* Canonical form of a URL: scheme and host lower-cased, fragment dropped,
 * utm_* query parameters dropped, trailing slashes dropped, surrounding
 * blanks trimmed. NULL when `url` is NULL/empty or on arena exhaustion. */
char *td_key_canonical_url(const char *url, td_arena *arena);

/* The idempotency key: "i:" + id, else "u:" + canonical url, else "h:" + hex
 * XXH3-128 of source, title and body. Keys longer than the LMDB limit become
 * "H:" + hex XXH3-128 of the key. NULL on arena exhaustion. */
char *td_key_of(const td_article *a, td_arena *arena);

/* Article id for a new article: the producer id when it is short enough,
 * else "a" + 16 hex digits of XXH3-64 of the key; `attempt` > 0 salts the
 * derivation (used when the id is already taken by another key). */
char *td_key_article_id(const td_article *a, const char *key, unsigned attempt,
                        td_arena *arena);

/* Hash of what makes a new version: title, body, source, published_at. */
uint64_t td_key_content_hash(const td_article *a);

/* XXH3-64 of the body (the stored article's content_hash, used later for
 * exact-copy detection). */
uint64_t td_key_body_hash(const char *body);

#endif
