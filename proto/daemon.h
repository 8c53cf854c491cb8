/* daemon.h — what every tidings daemon does the same way: signals, readiness,
 * clocks and ZeroMQ sockets with finite linger and bounded frames. */
#ifndef TD_DAEMON_H
#define TD_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set by SIGTERM/SIGINT; the poll loops check it and shut down normally.
 * A second SIGINT/SIGTERM exits at once (status 130). SIGPIPE is ignored.
 * SIGHUP sets td_daemon_hup and counts in td_daemon_hups (a counter, so a
 * thread can notice a SIGHUP without consuming the flag others read). */
extern volatile sig_atomic_t td_daemon_stop;
extern volatile sig_atomic_t td_daemon_hup;
extern volatile sig_atomic_t td_daemon_hups;
void td_daemon_signals(void);

/* Tell the supervisor we are ready / stopping (sd_notify when built with
 * libsystemd and NOTIFY_SOCKET is set; otherwise nothing). */
void td_daemon_ready(const char *status);
void td_daemon_stopping(void);

/* Wall clock in ms since the Unix epoch, and a monotonic clock in ms/us. */
int64_t td_now_ms(void);
int64_t td_mono_ms(void);
int64_t td_mono_us(void);

/* Lower the calling thread's scheduling priority by `inc` nice steps (a
 * background thread yields the CPU to its process's critical one; raising
 * it would need privileges). Returns 0, or -1 (errno set). */
int td_thread_nice(int inc);

/* ZeroMQ socket helpers. Every socket gets a finite ZMQ_LINGER; sockets that
 * face the outside get ZMQ_MAXMSGSIZE = max_msg (0 = leave unlimited).
 * `hwm` sets both high-water marks (0 = library default).
 * Returns the socket or NULL (error logged). */
void *td_sock_bind(void *ctx, int type, const char *endpoint, int64_t max_msg, int hwm);
/* The same for a socket that faces the outside: with `sec` non-NULL it is
 * made a CURVE server guarded by sec's ZAP handler (security.h) before it
 * binds; with `sec` NULL it is exactly td_sock_bind. */
struct td_security;
void *td_sock_bind_secure(void *ctx, int type, const char *endpoint, int64_t max_msg, int hwm,
                          struct td_security *sec);
void *td_sock_connect(void *ctx, int type, const char *endpoint, int64_t max_msg, int hwm);
void td_sock_close(void **sock_p);

/* Send `n` frames (all but the last with ZMQ_SNDMORE); retries on EINTR.
 * flags may hold ZMQ_DONTWAIT. Returns 0 or -1 (errno set). */
int td_sock_sendv(void *sock, const void *const *data, const size_t *len, size_t n, int flags);
int td_sock_send(void *sock, const void *data, size_t len, int flags);

#endif
