/* cli_up.c — `tidings up`: run tidings-store, tidings-ingest and
 * tidings-query together, show when each is ready, stop them on Ctrl-C.
 *
 * The daemons run in their own process group so that a Ctrl-C on the
 * terminal reaches only us: they then get exactly one SIGTERM each and drain
 * cleanly (a second signal would make them exit at once). They also get
 * SIGTERM if we die (PR_SET_PDEATHSIG), so none is left behind. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"

typedef struct {
    const char *name;       /* tidings-store */
    const char *subdir;     /* its directory in the build tree */
    bool takes_data;        /* gets --data */
    const char *ports[2];   /* options naming the endpoints that must accept */
    bool ping;              /* ready when `ping` answers */
    char path[PATH_MAX];
    pid_t pid;
    int status;
    bool exited;
} s_daemon;

static bool s_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* --bin-dir, then the build tree's sibling directories and the directory of
 * the tidings executable itself (an installed bin/), then PATH. */
static bool s_find(s_daemon *d, const char *bin_dir)
{
    if (bin_dir) {
        snprintf(d->path, sizeof d->path, "%s/%s", bin_dir, d->name);
        return s_executable(d->path);
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (snprintf(d->path, sizeof d->path, "%s/../%s/%s", self, d->subdir, d->name) <
                    (int)sizeof d->path &&
                s_executable(d->path))
                return true;
            if (snprintf(d->path, sizeof d->path, "%s/%s", self, d->name) < (int)sizeof d->path &&
                s_executable(d->path))
                return true;
        }
    }
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char *copy = strdup(path);
    bool found = false;
    for (char *save = NULL, *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        snprintf(d->path, sizeof d->path, "%s/%s", *dir ? dir : ".", d->name);
        found = s_executable(d->path);
    }
    free(copy);
    return found;
}

static pid_t s_spawn(s_daemon *d, const char *data)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)    /* the parent died before prctl */
        _exit(1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);
    char *argv[4] = {(char *)d->name, NULL, NULL, NULL};
    if (d->takes_data && data) {
        argv[1] = "--data";
        argv[2] = (char *)data;
    }
    execv(d->path, argv);
    fprintf(stderr, "tidings: cannot run %s: %s\n", d->path, strerror(errno));
    _exit(127);
}

/* Does a TCP endpoint accept connections? Non-TCP endpoints count as ready
 * once the process is alive (there is no port to try). */
static bool s_accepts(const char *endpoint)
{
    if (!endpoint || strncmp(endpoint, "tcp://", 6) != 0)
        return true;
    char host[256];
    const char *h = endpoint + 6;
    const char *colon = strrchr(h, ':');
    if (!colon || (size_t)(colon - h) >= sizeof host)
        return true;
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = '\0';
    char *hp = host;
    if (*hp == '[') {       /* [::1] */
        hp++;
        char *e = strchr(hp, ']');
        if (e)
            *e = '\0';
    }
    if (strcmp(hp, "*") == 0 || strcmp(hp, "0.0.0.0") == 0)
        hp = "127.0.0.1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(hp, colon + 1, &hints, &res) != 0)
        return false;
    bool ok = false;
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            ok = true;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int err = 0;
            socklen_t el = sizeof err;
            if (poll(&p, 1, 500) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
                err == 0)
                ok = true;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return ok;
}

static void s_nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reap `d` when it has exited. */
static bool s_alive(s_daemon *d)
{
    if (d->pid <= 0 || d->exited)
        return false;
    int st;
    pid_t r = waitpid(d->pid, &st, WNOHANG);
    if (r == d->pid) {
        d->exited = true;
        d->status = st;
        return false;
    }
    return true;
}

static void s_describe_exit(const s_daemon *d, char *buf, size_t size)
{
    if (WIFEXITED(d->status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(d->status));
    else if (WIFSIGNALED(d->status))
        snprintf(buf, size, "killed by signal %d", WTERMSIG(d->status));
    else
        snprintf(buf, size, "stopped");
}

/* Wait until `d` is ready; false when it died, time ran out or we were
 * asked to stop. */
static bool s_wait_ready(td_cli *cli, s_daemon *d, int64_t timeout_ms)
{
    int64_t deadline = td_mono_ms() + timeout_ms;
    td_client *client = NULL;
    if (d->ping) {
        td_client_options o = {.query = td_cli_opt(cli, "query"), .timeout_ms = 300,
                               .retries = 0, .stop = &td_cli_stop};
        client = td_client_new(&o);
        /* with CURVE on, the readiness ping needs --server-key/--client-key */
        if (client && td_cli_opt(cli, "server-key"))
            td_client_set_curve_files(client, td_cli_opt(cli, "server-key"),
                                      td_cli_opt(cli, "client-key"));
    }
    bool ready = false;
    while (!ready && !td_cli_stop && td_mono_ms() < deadline) {
        if (!s_alive(d))
            break;
        ready = true;
        for (int i = 0; i < 2 && d->ports[i]; i++)
            ready = ready && s_accepts(td_cli_opt(cli, d->ports[i]));
        if (ready && client) {
            td_client_query q = td_client_query_init("ping");
            td_client_reply r;
            ready = td_client_ask(client, &q, &r) == TD_CLIENT_OK && r.ok;
        }
        if (!ready)
            s_nap(100);
    }
    td_client_destroy(&client);
    return ready;
}

/* SIGTERM, then wait up to `grace_ms`, then SIGKILL. */
static void s_stop(s_daemon *d, int64_t grace_ms)
{
    if (!s_alive(d))
        return;
    kill(d->pid, SIGTERM);
    int64_t deadline = td_mono_ms() + grace_ms;
    while (s_alive(d) && td_mono_ms() < deadline)
        s_nap(50);
    if (s_alive(d)) {
        fprintf(stderr, "tidings: %s (pid %d) did not stop within %lld ms; killing it\n",
                d->name, (int)d->pid, (long long)grace_ms);
        kill(d->pid, SIGKILL);
        int st;
        if (waitpid(d->pid, &st, 0) == d->pid) {
            d->exited = true;
            d->status = st;
        }
    }
}

static const td_option s_up_opts[] = {
    {"data", NULL, "data directory of tidings-store and tidings-query (default: theirs, "
                   "./tidings-data)", false, NULL},
    {"bin-dir", NULL, "directory holding the daemons (default: next to tidings, then PATH)",
     false, NULL},
    {"ready-timeout", "30000", "ms to wait for each daemon to become ready", false, NULL},
    {"grace", "10000", "ms a daemon gets to stop after SIGTERM before SIGKILL", false, NULL},
};

static int s_up(td_cli *cli)
{
    s_daemon d[3] = {
        {.name = "tidings-store", .subdir = "store", .takes_data = true,
         .ports = {"publish", NULL}},
        {.name = "tidings-ingest", .subdir = "ingest", .ports = {"submit", "feed"}},
        {.name = "tidings-query", .subdir = "query", .takes_data = true, .ping = true},
    };
    int64_t ready_ms = 30000, grace_ms = 10000;
    if (td_cli_opt_int(cli, "ready-timeout", 100, 3600000, &ready_ms) < 0 ||
        td_cli_opt_int(cli, "grace", 0, 3600000, &grace_ms) < 0)
        return TD_EXIT_USAGE;
    const char *data = td_cli_opt(cli, "data");
    const char *bin_dir = td_cli_opt(cli, "bin-dir");
    for (int i = 0; i < 3; i++)
        if (!s_find(&d[i], bin_dir))
            return td_cli_error("cannot find %s (looked %s%s)", d[i].name,
                                bin_dir ? "in " : "next to tidings and in PATH",
                                bin_dir ? bin_dir : "");

    /* the daemons read the same endpoints from the environment */
    const char *eps[] = {"submit", "feed", "query", "publish"};
    for (size_t i = 0; i < 4; i++) {
        char env[32];
        snprintf(env, sizeof env, "TIDINGS_%s", eps[i]);
        for (char *p = env; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        setenv(env, td_cli_opt(cli, eps[i]), 1);
    }

    td_cli_catch_signals();
    int status = TD_EXIT_OK;
    int started = 0;
    for (; started < 3 && !td_cli_stop; started++) {
        s_daemon *x = &d[started];
        x->pid = s_spawn(x, data);
        if (x->pid < 0) {
            status = td_cli_error("cannot start %s: %s", x->name, strerror(errno));
            break;
        }
        if (!s_wait_ready(cli, x, ready_ms)) {
            if (td_cli_stop) {
                started++;
                break;
            }
            char why[64] = "was not ready in time";
            if (!s_alive(x))
                s_describe_exit(x, why, sizeof why);
            status = td_cli_error("%s %s", x->name, why);
            started++;
            break;
        }
        printf("%-15s ready  pid %-7d %s\n", x->name, (int)x->pid, x->path);
        fflush(stdout);
    }
    if (started == 3 && status == TD_EXIT_OK && !td_cli_stop) {
        printf("tidings is up: submit %s, feed %s, query %s, notifications %s%s%s\n"
               "Ctrl-C stops all three.\n",
               td_cli_opt(cli, "submit"), td_cli_opt(cli, "feed"), td_cli_opt(cli, "query"),
               td_cli_opt(cli, "publish"), data ? ", data " : "", data ? data : "");
        fflush(stdout);
        while (!td_cli_stop) {
            bool all = true;
            for (int i = 0; i < 3; i++)
                if (!s_alive(&d[i])) {
                    char why[64];
                    s_describe_exit(&d[i], why, sizeof why);
                    status = td_cli_error("%s %s; stopping the others", d[i].name, why);
                    all = false;
                }
            if (!all)
                break;
            s_nap(200);
        }
    }
    /* stop in reverse order: ingest hands what it holds to the store before
     * the store drains and commits */
    if (td_cli_stop)
        fprintf(stderr, "tidings: stopping\n");
    for (int i = started - 1; i >= 0; i--) {
        s_stop(&d[i], grace_ms);
        if (d[i].exited && !(WIFEXITED(d[i].status) && WEXITSTATUS(d[i].status) == 0)) {
            char why[64];
            s_describe_exit(&d[i], why, sizeof why);
            fprintf(stderr, "tidings: %s %s\n", d[i].name, why);
            status = TD_EXIT_FAIL;
        } else if (d[i].exited) {
            printf("%-15s stopped\n", d[i].name);
        }
    }
    return status;
}

const td_cli_command td_cli_up_cmd = {
    .name = "up",
    .summary = "run tidings-store, tidings-ingest and tidings-query until Ctrl-C",
    .help = "Starts the three daemons in order, waits until each is ready (store and\n"
            "ingest: alive and their ports accept; query: answers ping), prints their\n"
            "readiness, and on Ctrl-C or SIGTERM sends each one SIGTERM (SIGKILL after\n"
            "the grace period). Endpoint options are handed to the daemons through\n"
            "their TIDINGS_* environment variables.\n",
    .opts = s_up_opts,
    .n_opts = sizeof s_up_opts / sizeof s_up_opts[0],
    .min_args = 0,
    .max_args = 0,
    .default_retries = 0,
    .run = s_up,
};
