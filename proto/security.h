/* security.h — CURVE encryption and ZAP authentication of the sockets a
 * daemon exposes (docs/security.md).
 *
 * A daemon started with a server secret key makes every external socket a
 * CURVE server, and answers the ZAP requests (RFC 27) of its ZeroMQ context
 * from a thread bound to inproc://zeromq.zap.01: a client is admitted only
 * when its public key is in the allow-list directory of the socket's domain
 * ("producers" for ingest's 7401/7402, "readers" for query's 7404 and the
 * store's 7405). ZMQ_ZAP_ENFORCE_DOMAIN is set, so a socket whose handler
 * is missing refuses instead of admitting everyone.
 *
 * Key files are z85 text, as `tidings keygen` writes them: one line of 40
 * z85 characters (a secret key in PREFIX.key, a public key in PREFIX.pub);
 * lines starting with '#' and blank lines are ignored, and CZMQ certificate
 * lines `public-key = "..."` / `secret-key = "..."` are read too.
 *
 * Without a secret key nothing here is used and the sockets stay plaintext.
 */
#ifndef TD_SECURITY_H
#define TD_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_ZAP_PRODUCERS "producers"
#define TD_ZAP_READERS "readers"

#define TD_KEY_Z85_LEN 40   /* a 32-byte CURVE key in z85 text */
#define TD_KEY_BIN_LEN 32

typedef enum { TD_KEY_PUBLIC = 0, TD_KEY_SECRET = 1 } td_key_kind;

/* Read one z85 key of `kind` from the file at `path` into `z85` (40
 * characters and a NUL). Returns 0, or -1 with a reason in `err` (a missing
 * or unreadable file, no key, more than one key, bad z85, a file larger than
 * 64 KiB). */
int td_key_read(const char *path, td_key_kind kind, char z85[TD_KEY_Z85_LEN + 1], char *err,
                size_t errlen);

/* True when this libzmq can do CURVE (zmq_has("curve")). */
bool td_security_available(void);

/* ---- allow-lists ---------------------------------------------------------- */

typedef struct td_allowlist td_allowlist;

/* Load every `*.pub` file of `dir` (not recursive; names starting with '.'
 * and other files are ignored). A malformed .pub file is skipped with a
 * warning and counted in *n_bad (may be NULL). NULL when the directory
 * cannot be read (error logged) or out of memory. At most 1,000,000 keys. */
td_allowlist *td_allowlist_load(const char *dir, size_t *n_bad);
void td_allowlist_destroy(td_allowlist **self_p);

/* Number of distinct keys, and whether the 32-byte key `key` is one. */
size_t td_allowlist_count(const td_allowlist *self);
bool td_allowlist_has(const td_allowlist *self, const uint8_t key[TD_KEY_BIN_LEN]);

/* ---- a daemon's security ----------------------------------------------------- */

typedef struct td_security td_security;

/* The CURVE settings of one daemon whose external sockets all belong to
 * `domain`: the server secret key from `secret_file`, the allowed client
 * keys from `allow_dir`. NULL on error (logged): no CURVE in libzmq, an
 * unreadable key, an unreadable directory. */
td_security *td_security_new(const char *secret_file, const char *domain, const char *allow_dir);

/* From a daemon's options: both unset -> *out = NULL (plaintext) and 0;
 * both set -> td_security_new into *out; only one set -> -1 with an error
 * naming `allow_opt` ("curve-readers"); -1 also when td_security_new fails. */
int td_security_configure(const char *secret_file, const char *allow_dir, const char *allow_opt,
                          const char *domain, td_security **out);

/* True for endpoints only this host can reach: ipc://, inproc://, and tcp
 * on 127.x.x.x, localhost or [::1]. */
bool td_security_local(const char *endpoint);

/* Make `sock` (not yet bound) a CURVE server of our domain, and start the
 * ZAP handler thread in `ctx` on first use (one td_security serves one
 * context). Also watches the socket for failed handshakes (plaintext
 * clients, wrong server keys), which are logged and counted. NULL-safe:
 * with self == NULL it does nothing. Returns 0 or -1 (logged). */
int td_security_apply(td_security *self, void *ctx, void *sock, const char *endpoint);

/* The server's public key (z85), for the log and for clients. */
const char *td_security_public(const td_security *self);
const char *td_security_domain(const td_security *self);

/* Connections refused so far: ZAP denials plus failed handshakes. */
uint64_t td_security_refused(const td_security *self);

/* Reload the allow-list now (the handler also does it on SIGHUP). */
void td_security_reload(td_security *self);

/* Stop the handler thread (it also stops by itself when its context is
 * terminated) and free; sets *self_p to NULL; NULL-safe. */
void td_security_destroy(td_security **self_p);

#endif
