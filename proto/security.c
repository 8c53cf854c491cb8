/* security.c — CURVE keys, allow-lists and the ZAP handler; see security.h.
 *
 * The handler is one thread per daemon with a REP socket on
 * inproc://zeromq.zap.01 in the daemon's context, plus one PAIR per
 * protected socket reading that socket's monitor events (a plaintext client
 * never reaches ZAP: its handshake fails on the mechanism, and only the
 * monitor sees it). The thread owns the allow-list, so lookups and SIGHUP
 * reloads need no lock; the mutex only guards the hand-over of monitor
 * sockets from the thread that binds. */
#include "security.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "daemon.h"
#include "log.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93   /* a draft option in libzmq 4.3's header */
#endif

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define KEY_FILE_MAX (64 * 1024)    /* a key file is one line; refuse big files */
#define ALLOW_MAX 1000000
#define MAX_MONITORS 8
#define POLL_MS 200                 /* how soon the thread sees stop and SIGHUP */
#define LOG_WINDOW_MS 60000         /* at most LOG_BURST refusal warnings a minute */
#define LOG_BURST 10

/* ---- key files ------------------------------------------------------------- */

static bool s_z85_ok(const char *s, size_t len, uint8_t bin[TD_KEY_BIN_LEN])
{
    if (len != TD_KEY_Z85_LEN)
        return false;
    char tmp[TD_KEY_Z85_LEN + 1];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    uint8_t scratch[TD_KEY_BIN_LEN];
    return zmq_z85_decode(bin ? bin : scratch, tmp) != NULL;
}

int td_key_read(const char *path, td_key_kind kind, char z85[TD_KEY_Z85_LEN + 1], char *err,
                size_t errlen)
{
    const char *czmq_name = kind == TD_KEY_SECRET ? "secret-key" : "public-key";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st = {0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
        bool big = S_ISREG(st.st_mode) && st.st_size > KEY_FILE_MAX;
        snprintf(err, errlen, "%s", big ? "larger than 64 KiB, not a key file"
                                        : "not a regular file");
        close(fd);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';

    int found = 0, rc = 0, lineno = 0;
    for (char *line = buf, *next; line && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (isspace((unsigned char)*line))
            line++;
        size_t len = strlen(line);
        while (len && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        const char *key = NULL;
        size_t klen = 0;
        if (len == 0)
            continue;
        /* a bare key first: '#' is a z85 character, so a key may start with it */
        if (len == TD_KEY_Z85_LEN && s_z85_ok(line, len, NULL)) {
            key = line;
            klen = len;
        } else if (line[0] == '#') {
            continue;
        } else if (strncmp(line, czmq_name, strlen(czmq_name)) == 0) {
            /* CZMQ certificate: public-key = "z85" */
            char *q1 = strchr(line, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
            if (!q2) {
                snprintf(err, errlen, "line %d: %s without a quoted key", lineno, czmq_name);
                rc = -1;
                break;
            }
            key = q1 + 1;
            klen = (size_t)(q2 - key);
        } else if (strcmp(line, "metadata") == 0 || strcmp(line, "curve") == 0 ||
                   (strspn(line, "abcdefghijklmnopqrstuvwxyz-_") > 0 &&
                    line[strspn(line, "abcdefghijklmnopqrstuvwxyz-_ ")] == '=' &&
                    strchr(line, '"'))) {
            continue;   /* other CZMQ certificate lines: sections and metadata */
        } else {
            snprintf(err, errlen, "line %d is not a z85 key (%zu characters, 40 expected)",
                     lineno, len);
            rc = -1;
            break;
        }
        if (!s_z85_ok(key, klen, NULL)) {
            snprintf(err, errlen, "line %d: not a valid z85 key", lineno);
            rc = -1;
        } else if (found++) {
            snprintf(err, errlen, "more than one key");
            rc = -1;
        } else {
            memcpy(z85, key, TD_KEY_Z85_LEN);
            z85[TD_KEY_Z85_LEN] = '\0';
        }
    }
    free(buf);
    if (rc == 0 && !found) {
        snprintf(err, errlen, "no key in the file");
        rc = -1;
    }
    return rc;
}

bool td_security_available(void)
{
    return zmq_has("curve") != 0;
}

/* ---- allow-lists --------------------------------------------------------------- */

struct td_allowlist {
    uint8_t (*keys)[TD_KEY_BIN_LEN];   /* sorted, distinct */
    size_t n;
};

static int s_keycmp(const void *a, const void *b)
{
    return memcmp(a, b, TD_KEY_BIN_LEN);
}

td_allowlist *td_allowlist_load(const char *dir, size_t *n_bad)
{
    if (n_bad)
        *n_bad = 0;
    DIR *d = opendir(dir);
    if (!d) {
        td_error("cannot read the allow-list directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    td_allowlist *self = calloc(1, sizeof *self);
    size_t cap = 0;
    struct dirent *e;
    while (self && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 4 || strcmp(e->d_name + len - 4, ".pub") != 0)
            continue;
        char path[4096], z85[TD_KEY_Z85_LEN + 1], err[160];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) {
            td_warn("allow-list: skipping %s/%s: path too long", dir, e->d_name);
            if (n_bad)
                (*n_bad)++;
            continue;
        }
        if (td_key_read(path, TD_KEY_PUBLIC, z85, err, sizeof err) != 0) {
            td_warn("allow-list: skipping %s: %s", path, err);
            if (n_bad)
                (*n_bad)++;
            continue;
        }
        if (self->n == ALLOW_MAX) {
            td_warn("allow-list %s: more than %d keys, the rest are ignored", dir, ALLOW_MAX);
            break;
        }
        if (self->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *k = realloc(self->keys, ncap * sizeof *self->keys);
            if (!k) {
                td_allowlist_destroy(&self);
                break;
            }
            self->keys = k;
            cap = ncap;
        }
        zmq_z85_decode(self->keys[self->n++], z85);
    }
    closedir(d);
    if (!self) {
        td_error("allow-list %s: out of memory", dir);
        return NULL;
    }
    if (self->n) {
        qsort(self->keys, self->n, sizeof *self->keys, s_keycmp);
        size_t w = 1;
        for (size_t i = 1; i < self->n; i++)
            if (memcmp(self->keys[i], self->keys[w - 1], TD_KEY_BIN_LEN) != 0)
                memcpy(self->keys[w++], self->keys[i], TD_KEY_BIN_LEN);
        self->n = w;
    }
    return self;
}

void td_allowlist_destroy(td_allowlist **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->keys);
    free(*self_p);
    *self_p = NULL;
}

size_t td_allowlist_count(const td_allowlist *self)
{
    return self ? self->n : 0;
}

bool td_allowlist_has(const td_allowlist *self, const uint8_t key[TD_KEY_BIN_LEN])
{
    return self && self->n && bsearch(key, self->keys, self->n, sizeof *self->keys, s_keycmp);
}

/* ---- the daemon's security ------------------------------------------------------ */

struct td_security {
    char secret[TD_KEY_Z85_LEN + 1];
    char public_[TD_KEY_Z85_LEN + 1];
    char *domain;
    char *allow_dir;
    td_allowlist *allow;        /* the thread's once started */
    void *ctx;
    void *zap;                  /* REP on ZAP_ENDPOINT; the thread's once started */
    pthread_t thread;
    bool started;
    bool warned_enforce;
    pthread_mutex_t mu;         /* guards mons/n_mons */
    void *mons[MAX_MONITORS];
    int n_mons;
    int stop, reload;           /* __atomic flags */
    uint64_t refused;           /* __atomic counter */
    /* the thread's: rate limit of refusal warnings */
    int64_t log_window;
    unsigned log_count;
    uint64_t log_suppressed;
};

td_security *td_security_new(const char *secret_file, const char *domain, const char *allow_dir)
{
    if (!td_security_available()) {
        td_error("this libzmq has no CURVE support (zmq_has(\"curve\") is false): cannot "
                 "serve encrypted sockets; rebuild libzmq with libsodium or drop the "
                 "--curve-* options");
        return NULL;
    }
    char err[160];
    td_security *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->mu, NULL);
    if (td_key_read(secret_file, TD_KEY_SECRET, self->secret, err, sizeof err) != 0) {
        td_error("cannot read the CURVE secret key %s: %s", secret_file, err);
        goto fail;
    }
    struct stat st;
    if (stat(secret_file, &st) == 0 && (st.st_mode & 077))
        td_warn("the CURVE secret key %s is readable by other users (mode %03o): "
                "chmod 600 it", secret_file, (unsigned)(st.st_mode & 0777));
    if (zmq_curve_public(self->public_, self->secret) != 0) {
        td_error("cannot derive the public key from %s: %s", secret_file, zmq_strerror(errno));
        goto fail;
    }
    self->domain = strdup(domain);
    self->allow_dir = strdup(allow_dir);
    if (!self->domain || !self->allow_dir)
        goto fail;
    size_t bad = 0;
    self->allow = td_allowlist_load(allow_dir, &bad);
    if (!self->allow)
        goto fail;
    if (!td_allowlist_count(self->allow))
        td_warn("the %s allow-list %s holds no key: every client will be refused", domain,
                allow_dir);
    td_info("CURVE on for %s: server public key %s, %zu allowed keys from %s%s", domain,
            self->public_, td_allowlist_count(self->allow), allow_dir,
            bad ? " (some files skipped, see above)" : "");
    return self;
fail:
    td_security_destroy(&self);
    return NULL;
}

int td_security_configure(const char *secret_file, const char *allow_dir, const char *allow_opt,
                          const char *domain, td_security **out)
{
    *out = NULL;
    bool has_secret = secret_file && *secret_file, has_allow = allow_dir && *allow_dir;
    if (!has_secret && !has_allow)
        return 0;
    if (!has_secret || !has_allow) {
        td_error("CURVE needs both --curve-secret FILE and --%s DIR (only --%s given)",
                 allow_opt, has_secret ? "curve-secret" : allow_opt);
        return -1;
    }
    *out = td_security_new(secret_file, domain, allow_dir);
    return *out ? 0 : -1;
}

bool td_security_local(const char *endpoint)
{
    if (!endpoint)
        return true;
    if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return false;
    const char *h = endpoint + 6;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost:", 10) == 0 ||
           strncmp(h, "[::1]:", 6) == 0;
}

const char *td_security_public(const td_security *self)
{
    return self ? self->public_ : NULL;
}

const char *td_security_domain(const td_security *self)
{
    return self ? self->domain : NULL;
}

uint64_t td_security_refused(const td_security *self)
{
    return self ? __atomic_load_n(&self->refused, __ATOMIC_RELAXED) : 0;
}

void td_security_reload(td_security *self)
{
    if (self)
        __atomic_store_n(&self->reload, 1, __ATOMIC_RELAXED);
}

/* Count one refusal and log it, at most LOG_BURST times a minute. */
static void s_refused(td_security *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void s_refused(td_security *self, const char *fmt, ...)
{
    __atomic_add_fetch(&self->refused, 1, __ATOMIC_RELAXED);
    int64_t now = td_mono_ms();
    if (now - self->log_window >= LOG_WINDOW_MS) {
        if (self->log_suppressed)
            td_warn("%llu more refused connections were not logged in the last minute",
                    (unsigned long long)self->log_suppressed);
        self->log_window = now;
        self->log_count = 0;
        self->log_suppressed = 0;
    }
    if (self->log_count >= LOG_BURST) {
        self->log_suppressed++;
        return;
    }
    self->log_count++;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    td_warn("%s (%llu refused so far)", msg,
            (unsigned long long)__atomic_load_n(&self->refused, __ATOMIC_RELAXED));
}

static void s_reload(td_security *self)
{
    size_t bad = 0;
    td_allowlist *fresh = td_allowlist_load(self->allow_dir, &bad);
    if (!fresh) {
        td_warn("allow-list %s not reloaded: keeping the %zu keys loaded before",
                self->allow_dir, td_allowlist_count(self->allow));
        return;
    }
    td_allowlist_destroy(&self->allow);
    self->allow = fresh;
    td_info("allow-list %s reloaded: %zu keys%s", self->allow_dir, td_allowlist_count(fresh),
            bad ? " (some files skipped, see above)" : "");
}

/* Frame i of a ZAP request as a bounded string for the log. */
static void s_frame_str(zmq_msg_t *m, char *out, size_t cap)
{
    size_t n = zmq_msg_size(m);
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        char c = ((const char *)zmq_msg_data(m))[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    out[n] = '\0';
}

/* Answer one ZAP request (RFC 27): version, request id, domain, address,
 * identity, mechanism, credentials... -> version, request id, status code,
 * status text, user id, metadata. */
static void s_zap_handle(td_security *self)
{
    enum { N = 8 };
    zmq_msg_t f[N], spare;
    int n = 0;
    for (;;) {
        zmq_msg_t *m = n < N ? &f[n] : &spare;   /* frames beyond N are dropped */
        zmq_msg_init(m);
        if (zmq_msg_recv(m, self->zap, 0) < 0) {
            zmq_msg_close(m);
            break;
        }
        int more = zmq_msg_more(m);
        if (m == &spare)
            zmq_msg_close(m);
        else
            n++;
        if (!more)
            break;
    }
    if (n < 6) {   /* not a ZAP request; REP must still answer to go on */
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        zmq_send(self->zap, "", 0, 0);
        return;
    }
    char version[8], domain[64], address[64], mechanism[16];
    s_frame_str(&f[0], version, sizeof version);
    s_frame_str(&f[2], domain, sizeof domain);
    s_frame_str(&f[3], address, sizeof address);
    s_frame_str(&f[5], mechanism, sizeof mechanism);

    const char *code = "400", *text = "not allowed";
    char user[TD_KEY_Z85_LEN + 1] = "";
    if (strcmp(version, "1.0") != 0) {
        code = "500";
        text = "unsupported ZAP version";
    } else if (strcmp(mechanism, "CURVE") != 0 || n < 7 ||
               zmq_msg_size(&f[6]) != TD_KEY_BIN_LEN) {
        text = "CURVE required";
        s_refused(self, "refused a %s client from %s on domain %s: CURVE required", mechanism,
                  address, domain);
    } else {
        const uint8_t *key = zmq_msg_data(&f[6]);
        zmq_z85_encode(user, key, TD_KEY_BIN_LEN);
        if (strcmp(domain, self->domain) != 0) {
            text = "wrong domain";
            s_refused(self, "refused key %s from %s: domain '%s' is not '%s'", user, address,
                      domain, self->domain);
        } else if (!td_allowlist_has(self->allow, key)) {
            text = "key not in the allow-list";
            s_refused(self, "refused key %s from %s on domain %s: not in the allow-list %s",
                      user, address, domain, self->allow_dir);
        } else {
            code = "200";
            text = "OK";
            td_debug("admitted key %s from %s on domain %s", user, address, domain);
        }
    }
    const void *d[6] = {"1.0", zmq_msg_data(&f[1]), code, text, user, ""};
    size_t l[6] = {3, zmq_msg_size(&f[1]), 3, strlen(text), strcmp(code, "200") ? 0 : strlen(user),
                   0};
    td_sock_sendv(self->zap, d, l, 6, 0);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* One monitor event of a protected socket: a failed handshake is a refusal
 * that ZAP never saw (plaintext client, wrong server key, garbage). */
static void s_monitor_handle(td_security *self, void *mon)
{
    zmq_msg_t ev, ep;
    zmq_msg_init(&ev);
    zmq_msg_init(&ep);
    if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&ev) ||
        zmq_msg_recv(&ep, mon, 0) < 0 || zmq_msg_size(&ev) < 6) {
        zmq_msg_close(&ev);
        zmq_msg_close(&ep);
        return;
    }
    const uint8_t *p = zmq_msg_data(&ev);
    uint16_t event;
    uint32_t value;
    memcpy(&event, p, 2);
    memcpy(&value, p + 2, 4);
    char endpoint[128];
    s_frame_str(&ep, endpoint, sizeof endpoint);
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        const char *why = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                              ? "the client does not use CURVE (a plaintext client?)"
                          : value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
                              ? "CURVE handshake failed (wrong server key?)"
                              : "ZMTP protocol error";
        s_refused(self, "refused a connection on %s (%s): %s [0x%08x]", endpoint, self->domain,
                  why, (unsigned)value);
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        if (value == EFAULT)
            s_refused(self, "refused a connection on %s: no ZAP handler", endpoint);
        else
            td_debug("a connection on %s closed during its handshake (%s)", endpoint,
                     strerror((int)value));
    }
    while (zmq_msg_more(&ep)) {   /* future frames, if any */
        zmq_msg_close(&ep);
        zmq_msg_init(&ep);
        if (zmq_msg_recv(&ep, mon, 0) < 0)
            break;
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&ep);
}

static void *s_thread(void *arg)
{
    td_security *self = arg;
    sig_atomic_t hups = td_daemon_hups;
    for (;;) {
        if (__atomic_load_n(&self->stop, __ATOMIC_RELAXED))
            break;
        zmq_pollitem_t items[1 + MAX_MONITORS];
        void *mons[MAX_MONITORS];
        int nm;
        pthread_mutex_lock(&self->mu);
        nm = self->n_mons;
        memcpy(mons, self->mons, sizeof mons);
        pthread_mutex_unlock(&self->mu);
        items[0] = (zmq_pollitem_t){self->zap, 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < nm; i++)
            items[1 + i] = (zmq_pollitem_t){mons[i], 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(items, 1 + nm, POLL_MS);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            if (errno != ETERM)
                td_error("ZAP handler: poll: %s", zmq_strerror(errno));
            break;   /* ETERM: the daemon is terminating its context */
        }
        if (hups != td_daemon_hups || __atomic_exchange_n(&self->reload, 0, __ATOMIC_RELAXED)) {
            hups = td_daemon_hups;
            s_reload(self);
        }
        if (items[0].revents & ZMQ_POLLIN)
            s_zap_handle(self);
        for (int i = 0; i < nm; i++)
            if (items[1 + i].revents & ZMQ_POLLIN)
                s_monitor_handle(self, mons[i]);
    }
    /* close our sockets so zmq_ctx_term can finish */
    zmq_close(self->zap);
    self->zap = NULL;
    pthread_mutex_lock(&self->mu);
    for (int i = 0; i < self->n_mons; i++) {
        zmq_close(self->mons[i]);
        self->mons[i] = NULL;
    }
    self->n_mons = 0;
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

static int s_start(td_security *self, void *ctx)
{
    self->zap = zmq_socket(ctx, ZMQ_REP);
    if (!self->zap) {
        td_error("ZAP handler: zmq_socket: %s", zmq_strerror(errno));
        return -1;
    }
    int zero = 0;
    zmq_setsockopt(self->zap, ZMQ_LINGER, &zero, sizeof zero);
    /* bound before any protected socket is, so no handshake can come first */
    if (zmq_bind(self->zap, ZAP_ENDPOINT) != 0) {
        td_error("ZAP handler: cannot bind %s: %s", ZAP_ENDPOINT, zmq_strerror(errno));
        zmq_close(self->zap);
        self->zap = NULL;
        return -1;
    }
    self->ctx = ctx;
    int rc = pthread_create(&self->thread, NULL, s_thread, self);
    if (rc != 0) {
        td_error("ZAP handler: cannot start its thread: %s", strerror(rc));
        zmq_close(self->zap);
        self->zap = NULL;
        return -1;
    }
    self->started = true;
    return 0;
}

int td_security_apply(td_security *self, void *ctx, void *sock, const char *endpoint)
{
    if (!self)
        return 0;
    if (!self->started && s_start(self, ctx) != 0)
        return -1;
    if (ctx != self->ctx) {
        td_error("one td_security serves one ZeroMQ context");
        return -1;
    }
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, self->secret, TD_KEY_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, self->domain, strlen(self->domain)) != 0) {
        td_error("cannot make %s a CURVE server: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    /* refuse, rather than admit everyone, should the handler ever be gone */
    if (zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0 &&
        !self->warned_enforce) {
        self->warned_enforce = true;
        td_warn("this libzmq lacks ZMQ_ZAP_ENFORCE_DOMAIN (built without draft API): "
                "refusals rely on the ZAP handler alone");
    }
    pthread_mutex_lock(&self->mu);
    int slot = self->n_mons;
    pthread_mutex_unlock(&self->mu);
    if (slot >= MAX_MONITORS) {
        td_warn("%s: too many protected sockets to watch handshakes on", endpoint);
        return 0;
    }
    char mep[96];
    snprintf(mep, sizeof mep, "inproc://td-security-monitor-%p-%d", (void *)self, slot);
    void *mon = NULL;
    if (zmq_socket_monitor(sock, mep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0 &&
        (mon = zmq_socket(ctx, ZMQ_PAIR)) != NULL) {
        int zero = 0;
        zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof zero);
        if (zmq_connect(mon, mep) != 0) {
            zmq_close(mon);
            mon = NULL;
        }
    }
    if (!mon) {
        td_warn("%s: cannot watch failed handshakes (%s): plaintext clients are still "
                "refused but not logged",
                endpoint, zmq_strerror(errno));
        return 0;
    }
    /* hand the PAIR over to the thread; this thread never touches it again */
    pthread_mutex_lock(&self->mu);
    self->mons[self->n_mons++] = mon;
    pthread_mutex_unlock(&self->mu);
    return 0;
}

void td_security_destroy(td_security **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_security *self = *self_p;
    if (self->started) {
        __atomic_store_n(&self->stop, 1, __ATOMIC_RELAXED);
        pthread_join(self->thread, NULL);
        if (self->refused)
            td_info("CURVE: %llu connections refused on domain %s since start",
                    (unsigned long long)self->refused, self->domain);
    }
    td_allowlist_destroy(&self->allow);
    free(self->domain);
    free(self->allow_dir);
    pthread_mutex_destroy(&self->mu);
    /* the secret key does not outlive us in freed memory */
    memset(self->secret, 0, sizeof self->secret);
    __asm__ __volatile__("" ::"r"(self->secret) : "memory");
    free(self);
    *self_p = NULL;
}
