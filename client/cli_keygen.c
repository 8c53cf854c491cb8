/* cli_keygen.c — `tidings keygen`: a new CURVE key pair in two files.
 *
 * PREFIX.key holds the secret key (created with mode 0600, never
 * overwritten unless --force) and PREFIX.pub the public key, each as one
 * line of z85 text after a comment line: the format the daemons'
 * --curve-secret and allow-lists and the clients' --server-key/--client-key
 * read (proto/security.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"

/* Write `text` to a new file `path` with `mode`; with `force` an existing
 * file is replaced (after unlinking it, so the mode is ours). */
static int s_write(const char *path, const char *text, mode_t mode, bool force)
{
    if (force && unlink(path) != 0 && errno != ENOENT)
        return td_cli_error("cannot replace %s: %s", path, strerror(errno));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return td_cli_error("cannot create %s: %s%s", path, strerror(errno),
                            errno == EEXIST ? " (use --force to replace it)" : "");
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return td_cli_error("cannot write %s: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return td_cli_error("cannot write %s: %s", path, strerror(errno));
    return TD_EXIT_OK;
}

static int s_keygen(td_cli *cli)
{
    if (!zmq_has("curve"))
        return td_cli_error("this libzmq has no CURVE support (zmq_has(\"curve\") is false)");
    const char *prefix = td_cli_opt(cli, "out");
    bool force = td_cli_flag(cli, "force");
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0)
        return td_cli_error("cannot make a key pair: %s", zmq_strerror(errno));
    char key_path[4096], pub_path[4096];
    if (snprintf(key_path, sizeof key_path, "%s.key", prefix) >= (int)sizeof key_path ||
        snprintf(pub_path, sizeof pub_path, "%s.pub", prefix) >= (int)sizeof pub_path)
        return td_cli_error("--out is too long");
    char text[256];
    snprintf(text, sizeof text,
             "# tidings CURVE secret key: keep it private (mode 0600).\n"
             "# Its public key is in %s.pub.\n%s\n",
             prefix, sec);
    int rc = s_write(key_path, text, 0600, force);
    memset(text, 0, sizeof text);
    memset(sec, 0, sizeof sec);
    if (rc != TD_EXIT_OK)
        return rc;
    snprintf(text, sizeof text,
             "# tidings CURVE public key: give it to the daemons' allow-list\n"
             "# (a client) or to the clients as --server-key (a server).\n%s\n",
             pub);
    if ((rc = s_write(pub_path, text, 0644, force)) != TD_EXIT_OK) {
        unlink(key_path);
        return rc;
    }
    if (cli->json)
        printf("{\"public\":\"%s\",\"secret_file\":\"%s\",\"public_file\":\"%s\"}\n", pub,
               key_path, pub_path);
    else
        printf("wrote %s (secret, mode 0600) and %s (public)\npublic key: %s\n", key_path,
               pub_path, pub);
    return TD_EXIT_OK;
}

static const td_option s_keygen_opts[] = {
    {"out", "tidings", "write PREFIX.key (secret) and PREFIX.pub (public)", false, NULL},
    {"force", NULL, "replace existing files", true, NULL},
};

const td_cli_command td_cli_keygen_cmd = {
    .name = "keygen",
    .summary = "make a CURVE key pair for encrypted, authenticated connections",
    .help = "Writes PREFIX.key (the secret key, mode 0600) and PREFIX.pub (the public\n"
            "key) as z85 text. A daemon takes its secret with --curve-secret; a client\n"
            "takes its own secret with --client-key and the daemons' public key with\n"
            "--server-key; each client's .pub goes into the daemons' allow-list\n"
            "directory (--curve-producers or --curve-readers). See docs/security.md.\n",
    .opts = s_keygen_opts,
    .n_opts = sizeof s_keygen_opts / sizeof s_keygen_opts[0],
    .min_args = 0,
    .max_args = 0,
    .default_retries = 0,
    .run = s_keygen,
};
