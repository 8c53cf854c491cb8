/* daemon.c — see daemon.h. */
#define _GNU_SOURCE   /* gettid */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#ifdef TD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "security.h"

volatile sig_atomic_t td_daemon_stop = 0;
volatile sig_atomic_t td_daemon_hup = 0;
volatile sig_atomic_t td_daemon_hups = 0;

static void s_on_stop(int sig)
{
    (void)sig;
    if (td_daemon_stop)
        _exit(130);   /* second signal: leave at once */
    td_daemon_stop = 1;
}

static void s_on_hup(int sig)
{
    (void)sig;
    td_daemon_hup = 1;
    td_daemon_hups = td_daemon_hups + 1;
}

void td_daemon_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = s_on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

void td_daemon_ready(const char *status)
{
#ifdef TD_HAVE_SYSTEMD
    sd_notifyf(0, "READY=1\nSTATUS=%s", status ? status : "ready");
#else
    (void)status;
#endif
}

void td_daemon_stopping(void)
{
#ifdef TD_HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
}

int64_t td_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t td_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t td_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int td_thread_nice(int inc)
{
    /* on Linux a nice value belongs to a thread, named by its tid */
    id_t tid = (id_t)gettid();
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, tid);
    if (cur == -1 && errno)
        return -1;
    return setpriority(PRIO_PROCESS, tid, cur + inc);
}

static void *s_sock(void *ctx, int type, int64_t max_msg, int hwm)
{
    void *s = zmq_socket(ctx, type);
    if (!s) {
        td_error("zmq_socket: %s", zmq_strerror(errno));
        return NULL;
    }
    int linger = 1000;   /* finite: a stuck peer must not block shutdown */
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (max_msg > 0)
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
    if (hwm > 0) {
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    }
    return s;
}

void *td_sock_bind(void *ctx, int type, const char *endpoint, int64_t max_msg, int hwm)
{
    void *s = s_sock(ctx, type, max_msg, hwm);
    if (s && zmq_bind(s, endpoint) != 0) {
        td_error("cannot bind %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

void *td_sock_bind_secure(void *ctx, int type, const char *endpoint, int64_t max_msg, int hwm,
                          struct td_security *sec)
{
    if (!sec)
        return td_sock_bind(ctx, type, endpoint, max_msg, hwm);
    void *s = s_sock(ctx, type, max_msg, hwm);
    if (!s)
        return NULL;
    if (td_security_apply(sec, ctx, s, endpoint) != 0) {
        zmq_close(s);
        return NULL;
    }
    if (zmq_bind(s, endpoint) != 0) {
        td_error("cannot bind %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

void *td_sock_connect(void *ctx, int type, const char *endpoint, int64_t max_msg, int hwm)
{
    void *s = s_sock(ctx, type, max_msg, hwm);
    if (s && zmq_connect(s, endpoint) != 0) {
        td_error("cannot connect %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

void td_sock_close(void **sock_p)
{
    if (sock_p && *sock_p) {
        zmq_close(*sock_p);
        *sock_p = NULL;
    }
}

int td_sock_sendv(void *sock, const void *const *data, const size_t *len, size_t n, int flags)
{
    for (size_t i = 0; i < n; i++) {
        int f = flags | (i + 1 < n ? ZMQ_SNDMORE : 0);
        int rc;
        do
            rc = zmq_send(sock, data[i], len[i], f);
        while (rc < 0 && errno == EINTR);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int td_sock_send(void *sock, const void *data, size_t len, int flags)
{
    const void *d[1] = {data};
    size_t l[1] = {len};
    return td_sock_sendv(sock, d, l, 1, flags);
}
