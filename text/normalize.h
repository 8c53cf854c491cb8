/* normalize.h — clean raw text and fold words (Unicode via utf8proc).
 *
 * Every other analysis step works on the output of td_normalize_text: valid
 * UTF-8 in NFC, typographic punctuation mapped to ASCII (curly quotes to ' and
 * ", dashes to -, ellipsis to ...), every kind of space to one ASCII space,
 * invisible and control characters gone, lines ending in \n. Mapping the
 * punctuation once here lets the later steps look for plain ASCII only.
 */
#ifndef TD_NORMALIZE_H
#define TD_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Clean `len` bytes of raw text (any bytes: invalid UTF-8 becomes U+FFFD).
 * Runs of spaces collapse to one, lines are trimmed, at most one blank line
 * separates paragraphs, the ends are trimmed. Returns a NUL-terminated string
 * in `arena` and its length in *out_len, or NULL when the arena is full. */
char *td_normalize_text(td_arena *arena, const char *in, size_t len, size_t *out_len);

/* Fold one word for matching and indexing: NFKC and Unicode case folding
 * ("Straße" -> "strasse", "ＡＢＣ" -> "abc"). Writes at most `cap` - 1 bytes
 * and a NUL into `out` (truncating on a character boundary); returns the
 * length written. No allocation; pure ASCII takes a fast path. */
size_t td_normalize_fold(const char *in, size_t len, char *out, size_t cap);

/* Decode one code point at s[0..len); invalid or truncated sequences give
 * U+FFFD and consume one byte. Returns the bytes consumed (>= 1 when len > 0,
 * 0 when len == 0). */
size_t td_utf8_next(const char *s, size_t len, int32_t *cp);

#endif
