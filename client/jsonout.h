/* jsonout.h — print any msgpack object as valid JSON (for `--json`).
 *
 * Generic: it knows no field names. Strings are escaped (control characters
 * as \uXXXX, invalid UTF-8 replaced by U+FFFD), bin and ext payloads become
 * base64 strings, non-finite floats become null, and map keys that are not
 * strings are printed as strings. */
#ifndef TD_JSONOUT_H
#define TD_JSONOUT_H

#include <msgpack.h>
#include <stdio.h>

enum {
    TD_JSON_COMPACT = 0,
    TD_JSON_PRETTY = 1, /* two-space indentation, one member per line */
};

/* Print `o` to `out` (no final newline). Returns 0, or -1 on a write error. */
int td_json_print(FILE *out, const msgpack_object *o, int flags);

/* Unpack the msgpack object in `buf` and print it as JSON (no final
 * newline). Returns 0, or -1 when `buf` is not one msgpack object or on a
 * write error. */
int td_json_print_raw(FILE *out, const void *buf, size_t len, int flags);

#endif
