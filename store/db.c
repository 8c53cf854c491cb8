/* db.c — the LMDB schema, environment and transactions; see db.h.
 *
 * The only file that includes <lmdb.h>. Everything that knows a DBI name, a
 * key layout or an LMDB flag is here, so a schema change is one file plus a
 * TD_RECORD_VERSION bump.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#include "log.h"
#include "pagecache.h"

/* Named databases, in td_dbi order. Adding one: append here and to td_dbi,
 * create it in s_open_dbis, and bump TD_RECORD_VERSION when old readers
 * must know about it. */
static const char *const s_dbi_names[TD_DBI_COUNT] = {
    "meta",     "articles", "keys",          "events",  "event_time",
    "stories",  "entities", "entity_events", "rejects",
    "df",       "clusters", "prov",
    "postings", "terms",    "docs",          "docids",  "changes",
    "event_articles", "positions", "termdf", "retired", "df_log",
    "event_moved", "entity_log",
};

/* The environments: the main one and the search index's postings
 * (db.h). */
enum { ENV_MAIN = 0, ENV_INDEX, ENV_COUNT };

static int s_dbi_env(td_dbi dbi)
{
    return dbi == TD_DBI_POSTINGS || dbi == TD_DBI_POSITIONS || dbi == TD_DBI_TERMS ||
                   dbi == TD_DBI_TERMDF
               ? ENV_INDEX
               : ENV_MAIN;
}

/* Counter keys in `meta`, in td_ctr order. */
static const char *const s_ctr_names[TD_CTR_COUNT] = {
    "articles", "events", "stories", "rejects", "seq",
    "event_next", "story_next", "reject_next", "map_grows",
    "doc_next", "doc_live", "doc_tokens", "doc_unindexed",
    "commits", "stored", "updated", "unchanged", "retries",
    "rejects_bad_request", "rejects_too_large", "rejects_other",
    "write_failures", "nospace", "reader_clears", "index_flushes",
    "term_next", "indexed_upto",
};

/* Which environment's `meta` keeps a counter. */
static int s_ctr_env(td_ctr ctr)
{
    return ctr == TD_CTR_TERM_NEXT || ctr == TD_CTR_INDEXED_UPTO || ctr == TD_CTR_INDEX_FLUSHES
               ? ENV_INDEX
               : ENV_MAIN;
}

#define META_VERSION "version"
#define META_MAP_SIZE "map_size"
#define LOCK_FILE "store.lock"
#define DATA_FILE "data.mdb"
#define INDEX_FILE "index.mdb"   /* MDB_NOSUBDIR: its lock is index.mdb-lock */
#define MAX_DBS 32          /* room for the index and later databases */
#define MAX_READERS 1024    /* query processes x their snapshots */
#define GROW_MIN ((uint64_t)64 << 20)
#define ENTITY_FORMAT 1

/* A transaction: a part in each environment it uses. A read snapshot has
 * both; a write transaction is begun in one (`wenv`), and td_db_write's
 * adds an index part when first asked for one of its databases. */
struct td_txn {
    td_db *db;
    MDB_txn *txn[ENV_COUNT];
    bool write;
    int wenv;                   /* write: the environment it was begun in */
    int nested;                 /* depth of td_txn_nested */
    int failed;                 /* first LMDB error that poisoned the txn */
    bool ctr_loaded[ENV_COUNT], ctr_dirty[ENV_COUNT];
    uint64_t ctr[TD_CTR_COUNT];
};

typedef struct {
    MDB_env *env;
    MDB_dbi meta;
    int grows_pending;          /* map growths not yet recorded in meta */
    td_pagecache pc;            /* the file's next pages, cached ahead (the
                                 * environment's writing thread) */
} s_env;

struct td_db {
    s_env e[ENV_COUNT];
    MDB_dbi dbi[TD_DBI_COUNT];
    char *dir;
    bool readonly;
    int lock_fd;
    td_txn wtxn;                /* the main environment's write transaction */
    td_txn itxn;                /* the index environment's */
    uint64_t fails_pending;     /* failed transactions not yet recorded */
    uint64_t nospace_pending;   /* ... of them for a full disk */
    uint64_t clears_pending;    /* reader slots cleared, not yet recorded */
    bool panicked;              /* MDB_PANIC: the environment is unusable */
    uint64_t psize;             /* LMDB's page size */
    msgpack_sbuffer sbuf;       /* packing buffer for puts */
    msgpack_packer pk;
};

/* ---- helpers ------------------------------------------------------------ */

static void s_prepare(td_db *self, int e);

const char *td_db_strerror(td_db_rc rc)
{
    switch (rc) {
    case TD_DB_OK: return "ok";
    case TD_DB_NOTFOUND: return "not found";
    case TD_DB_FULL: return "database map full";
    case TD_DB_NODB: return "no database yet";
    case TD_DB_LOCKED: return "data directory locked by another store";
    case TD_DB_VERSION: return "unsupported schema version";
    case TD_DB_NOSPACE: return "no space left on device";
    case TD_DB_BADVAL: return "key or value not storable";
    case TD_DB_ERROR: return "database error";
    }
    return "unknown";
}

int td_db_sync_parse(const char *name)
{
    if (!name || strcmp(name, "full") == 0)
        return TD_SYNC_FULL;
    if (strcmp(name, "nometasync") == 0)
        return TD_SYNC_NOMETASYNC;
    if (strcmp(name, "nosync") == 0)
        return TD_SYNC_NOSYNC;
    return -1;
}

static td_db_rc s_rc(int mrc)
{
    switch (mrc) {
    case MDB_SUCCESS: return TD_DB_OK;
    case MDB_NOTFOUND: return TD_DB_NOTFOUND;
    case MDB_MAP_FULL: return TD_DB_FULL;
    case MDB_BAD_VALSIZE: return TD_DB_BADVAL;
    case ENOSPC:
    case EDQUOT: return TD_DB_NOSPACE;
    default: return TD_DB_ERROR;
    }
}

void td_db_u64_put(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)v;
}

uint64_t td_db_u64_get(const unsigned char in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}

static MDB_val s_mv(const void *p, size_t len)
{
    MDB_val v = {len, (void *)p};
    return v;
}

/* ---- test-only fault injection -----------------------------------------
 * LMDB's put and commit are called through these pointers (beanstalkd's
 * falloc idea). Only a build with TD_FAULT_INJECTION and a process started
 * with TIDINGS_TEST_FAULTS=<switch file> swaps in the faulty versions; the
 * switch file is read at each call, so a test turns a fault on and off
 * while the daemons run. Packagers build with -DTD_FAULT_INJECTION=OFF. */

typedef int (*s_put_fn)(MDB_txn *, MDB_dbi, MDB_val *, MDB_val *, unsigned);
typedef int (*s_commit_fn)(MDB_txn *);
static s_put_fn s_put = mdb_put;
static s_commit_fn s_commit = mdb_txn_commit;
static char s_fault_path[1024];

typedef enum { FAULT_NONE = 0, FAULT_COMMIT, FAULT_PUT, FAULT_HOLD, FAULT_INDEX } s_fault;

static s_fault s_fault_read(long *arg)
{
    char buf[64];
    int fd = open(s_fault_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FAULT_NONE;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    *arg = 0;
    if (strncmp(buf, "commit", 6) == 0)
        return FAULT_COMMIT;
    if (strncmp(buf, "put", 3) == 0)
        return FAULT_PUT;
    if (strncmp(buf, "index", 5) == 0)
        return FAULT_INDEX;   /* cursor puts into the search index's databases */
    if (strncmp(buf, "hold", 4) == 0) {
        *arg = strtol(buf + 4, NULL, 10);
        return FAULT_HOLD;
    }
    return FAULT_NONE;
}

static int s_faulty_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags)
{
    long arg;
    if (s_fault_read(&arg) == FAULT_PUT)
        return ENOSPC;
    return mdb_put(txn, dbi, k, v, flags);
}

/* As LMDB does when its write to the data file fails: abort, ENOSPC. */
static int s_faulty_commit(MDB_txn *txn)
{
    long arg;
    if (s_fault_read(&arg) == FAULT_COMMIT) {
        mdb_txn_abort(txn);
        return ENOSPC;
    }
    return mdb_txn_commit(txn);
}

static void s_faults_arm(void)
{
#ifdef TD_FAULT_INJECTION
    const char *path = getenv("TIDINGS_TEST_FAULTS");
    if (!path || !*path || s_put == s_faulty_put)
        return;
    snprintf(s_fault_path, sizeof s_fault_path, "%s", path);
    s_put = s_faulty_put;
    s_commit = s_faulty_commit;
    td_warn("TEST-ONLY fault injection armed: switch file %s (TIDINGS_TEST_FAULTS)",
            s_fault_path);
#endif
}

bool td_db_faults_armed(void)
{
    return s_put == s_faulty_put;
}

static int s_mkdirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Take the writer's lock on the data directory. flock (not a pidfile): the
 * kernel drops it when the process dies, even by SIGKILL. */
static td_db_rc s_lock_dir(td_db *self)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", self->dir, LOCK_FILE);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        td_error("cannot open lock file %s: %s", path, strerror(errno));
        return TD_DB_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        td_error("data directory %s is in use by another tidings-store%s%s%s; "
                 "refusing to start a second writer",
                 self->dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
        close(fd);
        return TD_DB_LOCKED;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        td_warn("cannot write pid to %s: %s", path, strerror(errno));
    self->lock_fd = fd;
    return TD_DB_OK;
}

/* ---- environment -------------------------------------------------------- */

static td_db_rc s_check_version(td_db *self, int e, MDB_txn *txn, bool create)
{
    const char *file = e == ENV_INDEX ? INDEX_FILE : DATA_FILE;
    MDB_val k = s_mv(META_VERSION, strlen(META_VERSION)), v;
    int mrc = mdb_get(txn, self->e[e].meta, &k, &v);
    if (mrc == MDB_NOTFOUND && create) {
        unsigned char b[4] = {0, 0, 0, TD_RECORD_VERSION};
        v = s_mv(b, 4);
        mrc = mdb_put(txn, self->e[e].meta, &k, &v, 0);
        if (mrc)
            td_error("cannot write schema version: %s", mdb_strerror(mrc));
        else
            td_info("created %s in %s (schema %d)", file, self->dir, TD_RECORD_VERSION);
        return s_rc(mrc);
    }
    if (mrc == MDB_NOTFOUND)
        return TD_DB_NODB;
    if (mrc) {
        td_error("cannot read schema version: %s", mdb_strerror(mrc));
        return TD_DB_ERROR;
    }
    if (v.mv_size != 4) {
        td_error("%s/%s: schema version record is damaged", self->dir, file);
        return TD_DB_VERSION;
    }
    const unsigned char *b = v.mv_data;
    uint32_t ver = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    if (ver != TD_RECORD_VERSION) {
        td_error("%s/%s holds schema version %u but this build reads version %d; %s", self->dir,
                 file, ver, TD_RECORD_VERSION,
                 ver > TD_RECORD_VERSION ? "use a newer tidings" : "migrate the data first");
        return TD_DB_VERSION;
    }
    return TD_DB_OK;
}

/* A main environment written before the index had one of its own keeps
 * the postings' databases: dropped, so that the index is rebuilt in its
 * environment from the stored articles (td_index_recover; its deleted
 * list goes with them, as a rebuild indexes live versions only). */
static td_db_rc s_drop_legacy(td_db *self, MDB_txn *txn)
{
    static const td_dbi legacy[] = {TD_DBI_POSTINGS, TD_DBI_POSITIONS, TD_DBI_TERMS,
                                    TD_DBI_TERMDF};
    bool dropped = false;
    for (size_t i = 0; i < sizeof legacy / sizeof *legacy; i++) {
        MDB_dbi d;
        int mrc = mdb_dbi_open(txn, s_dbi_names[legacy[i]], 0, &d);
        if (mrc == MDB_NOTFOUND)
            continue;
        if (mrc == MDB_SUCCESS)
            mrc = mdb_drop(txn, d, 1);
        if (mrc) {
            td_error("cannot drop the old index database '%s': %s", s_dbi_names[legacy[i]],
                     mdb_strerror(mrc));
            return s_rc(mrc);
        }
        dropped = true;
    }
    if (dropped)
        td_warn("%s: the search index moves to %s; it is rebuilt from the stored articles",
                self->dir, INDEX_FILE);
    return TD_DB_OK;
}

/* Open environment e's named databases (and its `meta`), creating them
 * in the writer. */
static td_db_rc s_open_dbis(td_db *self, int e)
{
    MDB_txn *txn;
    int mrc = mdb_txn_begin(self->e[e].env, NULL, self->readonly ? MDB_RDONLY : 0, &txn);
    if (mrc) {
        td_error("cannot begin transaction in %s: %s", self->dir, mdb_strerror(mrc));
        return s_rc(mrc);
    }
    unsigned flags = self->readonly ? 0 : MDB_CREATE;
    mrc = mdb_dbi_open(txn, s_dbi_names[TD_DBI_META], flags, &self->e[e].meta);
    for (int i = 0; i < TD_DBI_COUNT && mrc == MDB_SUCCESS; i++) {
        if (s_dbi_env((td_dbi)i) != e || i == TD_DBI_META)
            continue;
        mrc = mdb_dbi_open(txn, s_dbi_names[i], flags, &self->dbi[i]);
        if (mrc && mrc != MDB_NOTFOUND)
            td_error("cannot open database '%s': %s", s_dbi_names[i], mdb_strerror(mrc));
    }
    if (mrc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return TD_DB_NODB;
    }
    if (mrc) {
        mdb_txn_abort(txn);
        return s_rc(mrc);
    }
    if (e == ENV_MAIN)
        self->dbi[TD_DBI_META] = self->e[e].meta;
    td_db_rc rc = s_check_version(self, e, txn, !self->readonly);
    if (rc == TD_DB_OK && !self->readonly && e == ENV_MAIN)
        rc = s_drop_legacy(self, txn);
    if (rc == TD_DB_OK && !self->readonly) {
        MDB_envinfo info;
        mdb_env_info(self->e[e].env, &info);
        unsigned char b[8];
        td_db_u64_put(b, info.me_mapsize);
        MDB_val k = s_mv(META_MAP_SIZE, strlen(META_MAP_SIZE)), v = s_mv(b, 8);
        rc = s_rc(mdb_put(txn, self->e[e].meta, &k, &v, 0));
    }
    if (rc != TD_DB_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    /* commit, also for the read-only txn: DBI handles opened in a txn only
     * outlive it when it commits */
    mrc = mdb_txn_commit(txn);
    if (mrc) {
        td_error("cannot commit schema: %s", mdb_strerror(mrc));
        return s_rc(mrc);
    }
    return TD_DB_OK;
}

/* Create and open environment e (its file exists for a reader). */
static td_db_rc s_env_open(td_db *self, int e, const td_db_opts *opts)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", self->dir, e == ENV_INDEX ? INDEX_FILE : DATA_FILE);
    if (self->readonly) {
        struct stat st;
        if (stat(path, &st) != 0) {
            if (errno != ENOENT)
                td_error("cannot read %s: %s", path, strerror(errno));
            return errno == ENOENT ? TD_DB_NODB : TD_DB_ERROR;
        }
    }
    MDB_env *env;
    int mrc = mdb_env_create(&env);
    if (mrc) {
        td_error("mdb_env_create: %s", mdb_strerror(mrc));
        return TD_DB_ERROR;
    }
    self->e[e].env = env;
    mdb_env_set_maxdbs(env, MAX_DBS);
    mdb_env_set_maxreaders(env, MAX_READERS);
    /* NOTLS: a read txn is not tied to a thread; NORDAHEAD: lookups are
     * random, read-ahead would only evict useful pages */
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
    if (e == ENV_MAIN)
        snprintf(path, sizeof path, "%s", self->dir);   /* data.mdb, lock.mdb */
    else
        flags |= MDB_NOSUBDIR;
    if (self->readonly)
        flags |= MDB_RDONLY;
    else if (opts->sync == TD_SYNC_NOSYNC)
        flags |= MDB_NOSYNC;
    else if (opts->sync == TD_SYNC_NOMETASYNC || e == ENV_INDEX)
        flags |= MDB_NOMETASYNC;   /* the index: rebuilt from the articles (db.h) */
    mrc = mdb_env_open(env, path, flags, 0644);
    if (mrc) {
        if (self->readonly && mrc == ENOENT)
            return TD_DB_NODB;
        td_error("cannot open LMDB environment %s: %s", path, mdb_strerror(mrc));
        return s_rc(mrc) == TD_DB_NOSPACE ? TD_DB_NOSPACE : TD_DB_ERROR;
    }
    if (!self->readonly) {
        /* the map is address space, not disk: reserve a lot up front, and
         * never shrink below what an earlier run grew it to */
        uint64_t want = opts->map_size ? opts->map_size : TD_DB_MAP_DEFAULT;
        MDB_envinfo info;
        mdb_env_info(env, &info);
        if (info.me_mapsize < want && (mrc = mdb_env_set_mapsize(env, want)) != 0) {
            td_error("cannot set map size %llu: %s", (unsigned long long)want,
                     mdb_strerror(mrc));
            return TD_DB_ERROR;
        }
    }
    return TD_DB_OK;
}

td_db *td_db_open(const td_db_opts *opts, td_db_rc *rc_out)
{
    td_db_rc dummy;
    td_db_rc *rc = rc_out ? rc_out : &dummy;
    *rc = TD_DB_ERROR;
    if (!opts || !opts->dir || !*opts->dir)
        return NULL;
    td_db *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    s_faults_arm();
    self->lock_fd = -1;
    self->readonly = opts->readonly;
    self->dir = strdup(opts->dir);
    msgpack_sbuffer_init(&self->sbuf);
    msgpack_packer_init(&self->pk, &self->sbuf, msgpack_sbuffer_write);
    if (!self->dir)
        goto fail;
    if (!self->readonly) {
        if (s_mkdirs(self->dir) != 0) {
            td_error("cannot create data directory %s: %s", self->dir, strerror(errno));
            goto fail;
        }
        if ((*rc = s_lock_dir(self)) != TD_DB_OK)
            goto fail;
    }
    /* the index first: a reader's snapshots begin there too (db.h) */
    for (int e = ENV_INDEX; e >= ENV_MAIN; e--)
        if ((*rc = s_env_open(self, e, opts)) != TD_DB_OK)
            goto fail;
    int dead = td_db_reader_check(self);
    if (dead > 0)
        td_warn("cleared %d stale reader slot(s) of killed processes", dead);
    for (int e = ENV_INDEX; e >= ENV_MAIN; e--)
        if ((*rc = s_open_dbis(self, e)) != TD_DB_OK)
            goto fail;
    self->wtxn.db = self->itxn.db = self;
    for (int e = 0; e < ENV_COUNT && !self->readonly; e++) {
        MDB_stat est;
        int fd = -1;
        if (mdb_env_stat(self->e[e].env, &est) != 0 || mdb_env_get_fd(self->e[e].env, &fd) != 0)
            continue;
        self->psize = est.ms_psize;
        td_pagecache_init(&self->e[e].pc, fd);
        (void)td_pagecache_start(&self->e[e].pc);   /* off the writer; failed: synchronous */
        s_prepare(self, e);
    }
    return self;
fail:
    td_db_destroy(&self);
    return NULL;
}

void td_db_destroy(td_db **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_db *self = *self_p;
    for (int e = 0; e < ENV_COUNT; e++) {
        td_pagecache_stop(&self->e[e].pc);   /* before LMDB closes the file */
        if (self->e[e].env)
            mdb_env_close(self->e[e].env);
    }
    if (self->lock_fd >= 0)
        close(self->lock_fd);   /* releases the flock */
    msgpack_sbuffer_destroy(&self->sbuf);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int td_db_reader_check(td_db *self)
{
    /* a snapshot holds a slot in each environment: counted once */
    int dead = 0;
    for (int e = 0; self && e < ENV_COUNT; e++) {
        int n = 0;
        if (self->e[e].env)
            mdb_reader_check(self->e[e].env, &n);
        if (n > dead)
            dead = n;
    }
    if (dead > 0 && !self->readonly)
        self->clears_pending += (uint64_t)dead;
    return dead;
}

/* LMDB declared an environment unusable (from either writing thread). */
static void s_panic(td_db *self)
{
    __atomic_store_n(&self->panicked, true, __ATOMIC_RELAXED);
}

bool td_db_panicked(const td_db *self)
{
    return self && __atomic_load_n(&self->panicked, __ATOMIC_RELAXED);
}

static uint64_t s_map_size(td_db *self, int e)
{
    MDB_envinfo info;
    if (mdb_env_info(self->e[e].env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

uint64_t td_db_map_size(td_db *self)
{
    return s_map_size(self, ENV_MAIN);
}

uint64_t td_db_used_bytes(td_db *self)
{
    uint64_t bytes = 0;
    for (int e = 0; e < ENV_COUNT; e++) {
        MDB_envinfo info;
        MDB_stat st;
        if (mdb_env_info(self->e[e].env, &info) == 0 && mdb_env_stat(self->e[e].env, &st) == 0)
            bytes += ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    }
    return bytes;
}

/* Grow environment e's map; no transaction of this process may be open
 * in it (each is grown by the one thread that writes it, and the store
 * reads only before serving). */
static td_db_rc s_grow(td_db *self, int e)
{
    uint64_t cur = s_map_size(self, e);
    uint64_t next = cur * 2 > cur + GROW_MIN ? cur * 2 : cur + GROW_MIN;
    int mrc = mdb_env_set_mapsize(self->e[e].env, next);
    if (mrc) {
        td_error("cannot grow the map to %llu bytes: %s", (unsigned long long)next,
                 mdb_strerror(mrc));
        return s_rc(mrc);
    }
    self->e[e].grows_pending++;
    td_warn("%s map full at %llu bytes: grew it to %llu", e == ENV_INDEX ? INDEX_FILE : DATA_FILE,
            (unsigned long long)cur, (unsigned long long)next);
    return TD_DB_OK;
}

td_db_rc td_db_grow(td_db *self)
{
    return s_grow(self, ENV_MAIN);
}

/* ---- transactions -------------------------------------------------------- */

static void s_txn_init(td_txn *t, td_db *db, bool write, int wenv)
{
    memset(t, 0, sizeof *t);
    t->db = db;
    t->write = write;
    t->wenv = wenv;
}

/* Remember the first error that leaves the LMDB txn unusable. */
static td_db_rc s_note(td_txn *t, int mrc, const char *what)
{
    if (mrc == MDB_SUCCESS || mrc == MDB_NOTFOUND)
        return s_rc(mrc);
    if (mrc == MDB_BAD_VALSIZE) /* refused before any change: txn still fine */
        return TD_DB_BADVAL;
    if (mrc == MDB_PANIC)
        s_panic(t->db);
    if (!t->failed)
        t->failed = mrc;
    if (mrc != MDB_MAP_FULL)
        td_warn("%s: %s", what, mdb_strerror(mrc));
    return s_rc(mrc);
}

/* The part of t in environment e; NULL (and t failed) when it has none.
 * td_db_write's transaction begins its index part here, on first use. */
static MDB_txn *s_part(td_txn *t, int e)
{
    if (t->txn[e])
        return t->txn[e];
    if (t->failed)
        return NULL;
    if (!t->write || t->wenv != ENV_MAIN || e != ENV_INDEX || t->nested) {
        td_error("a %s transaction of %s cannot reach %s", t->write ? "write" : "read",
                 t->wenv == ENV_INDEX ? INDEX_FILE : DATA_FILE,
                 e == ENV_INDEX ? INDEX_FILE : DATA_FILE);
        t->failed = EINVAL;
        return NULL;
    }
    int mrc = mdb_txn_begin(t->db->e[e].env, NULL, 0, &t->txn[e]);
    if (mrc) {
        t->txn[e] = NULL;
        s_note(t, mrc, "cannot begin the index's write transaction");
        return NULL;
    }
    return t->txn[e];
}

/* The part holding dbi, or NULL (t failed). */
static MDB_txn *s_tx(td_txn *t, td_dbi dbi)
{
    return s_part(t, s_dbi_env(dbi));
}

/* td_txn_nested (own: td_txn_nested_own). */
static td_db_rc s_nested(td_txn *txn, td_db_write_fn fn, void *arg, bool own)
{
    if (!txn->write || txn->failed)
        return txn->failed ? s_rc(txn->failed) : TD_DB_ERROR;
    /* nested transactions serve the index's writes: its part exists
     * before nesting (no part may begin inside); a child of the own
     * environment only leaves the other part alone (NULL inside fn) */
    if (!own && txn->wenv == ENV_MAIN && !s_part(txn, ENV_INDEX))
        return s_rc(txn->failed);
    MDB_txn *parent[ENV_COUNT], *child[ENV_COUNT] = {NULL};
    for (int e = 0; e < ENV_COUNT; e++) {
        parent[e] = txn->txn[e];
        if (!parent[e] || (own && e != txn->wenv))
            continue;
        int mrc = mdb_txn_begin(txn->db->e[e].env, parent[e], 0, &child[e]);
        if (mrc) {
            for (int j = 0; j < e; j++)
                if (child[j])
                    mdb_txn_abort(child[j]);
            return s_note(txn, mrc, "cannot begin nested transaction");
        }
    }
    /* the same handle, on the children until they end: counters stay
     * cached in it and are written by the outermost commit */
    for (int e = 0; e < ENV_COUNT; e++)
        txn->txn[e] = child[e];
    txn->nested++;
    td_db_rc rc = fn(txn, arg);
    txn->nested--;
    if (txn->failed)
        rc = s_rc(txn->failed);
    for (int e = 0; e < ENV_COUNT; e++)
        txn->txn[e] = parent[e];
    if (rc != TD_DB_OK) {
        for (int e = 0; e < ENV_COUNT; e++)
            if (child[e])
                mdb_txn_abort(child[e]);
        /* what fn changed in memory is not undone: the whole transaction
         * must fail */
        if (!txn->failed)
            txn->failed = MDB_BAD_TXN;
        return rc;
    }
    for (int e = 0; e < ENV_COUNT; e++) {
        if (!child[e])
            continue;
        int mrc = mdb_txn_commit(child[e]);
        if (mrc != MDB_SUCCESS) {
            for (int j = e + 1; j < ENV_COUNT; j++)
                if (child[j])
                    mdb_txn_abort(child[j]);
            return s_note(txn, mrc, "cannot commit nested transaction");
        }
    }
    return TD_DB_OK;
}

td_db_rc td_txn_nested(td_txn *txn, td_db_write_fn fn, void *arg)
{
    return s_nested(txn, fn, arg, false);
}

td_db_rc td_txn_nested_own(td_txn *txn, td_db_write_fn fn, void *arg)
{
    return s_nested(txn, fn, arg, true);
}

/* Write the counters of environment e into its `meta`. */
static td_db_rc s_ctr_store(td_txn *t, int e)
{
    for (int i = 0; i < TD_CTR_COUNT; i++) {
        if (s_ctr_env((td_ctr)i) != e || i == TD_CTR_DOC_UNINDEXED)
            continue;
        unsigned char b[8];
        td_db_u64_put(b, t->ctr[i]);
        MDB_val k = s_mv(s_ctr_names[i], strlen(s_ctr_names[i])), v = s_mv(b, 8);
        int mrc = s_put(t->txn[e], t->db->e[e].meta, &k, &v, 0);
        if (mrc)
            return s_note(t, mrc, "mdb_put");
    }
    return TD_DB_OK;
}

static td_db_rc s_ctr_flush(td_txn *t)
{
    td_db *db = t->db;
    if (t->wenv == ENV_MAIN) {
        /* faults seen since the last commit are recorded with this one */
        td_txn_counter_add(t, TD_CTR_COMMITS, 1);
        if (db->fails_pending)
            td_txn_counter_add(t, TD_CTR_WRITE_FAILS, (int64_t)db->fails_pending);
        if (db->nospace_pending)
            td_txn_counter_add(t, TD_CTR_NOSPACE, (int64_t)db->nospace_pending);
        if (db->clears_pending)
            td_txn_counter_add(t, TD_CTR_READER_CLEARS, (int64_t)db->clears_pending);
        if (db->e[ENV_MAIN].grows_pending)
            td_txn_counter_add(t, TD_CTR_MAP_GROWS, db->e[ENV_MAIN].grows_pending);
    }
    for (int e = 0; e < ENV_COUNT; e++) {
        if (!t->txn[e])
            continue;
        if (db->e[e].grows_pending) {
            unsigned char b[8];
            td_db_u64_put(b, s_map_size(db, e));
            MDB_val k = s_mv(META_MAP_SIZE, strlen(META_MAP_SIZE)), v = s_mv(b, 8);
            int mrc = s_put(t->txn[e], db->e[e].meta, &k, &v, 0);
            if (mrc)
                return s_note(t, mrc, "mdb_put");
        }
        td_db_rc rc = t->ctr_dirty[e] ? s_ctr_store(t, e) : TD_DB_OK;
        if (rc)
            return rc;
    }
    return TD_DB_OK;
}

/* The pages the file grows into next, cached one by one (pagecache.h). */
static void s_prepare(td_db *self, int e)
{
    MDB_envinfo info;
    if (self->readonly || !self->psize || mdb_env_info(self->e[e].env, &info) != 0)
        return;
    td_pagecache *pc = &self->e[e].pc;
    int err = td_pagecache_error(pc);
    td_pagecache_ahead(pc, ((uint64_t)info.me_last_pgno + 1) * self->psize);
    int now = td_pagecache_error(pc);
    if (now && now != err)
        td_debug("%s: next pages not cached ahead: %s", e == ENV_INDEX ? INDEX_FILE : DATA_FILE,
                 strerror(now));
}

static void s_abort(td_txn *t)
{
    for (int e = 0; e < ENV_COUNT; e++)
        if (t->txn[e]) {
            mdb_txn_abort(t->txn[e]);
            t->txn[e] = NULL;
        }
}

/* Commit t's parts, its own environment's first: an index part of
 * td_db_write (tests and tools) commits after the articles it indexes,
 * so that a failure leaves them unindexed, never the index ahead. */
static int s_commit_parts(td_txn *t, bool *main_done)
{
    int order[ENV_COUNT] = {t->wenv, t->wenv == ENV_MAIN ? ENV_INDEX : ENV_MAIN};
    *main_done = false;
    for (int i = 0; i < ENV_COUNT; i++) {
        int e = order[i];
        if (!t->txn[e])
            continue;
        int mrc = s_commit(t->txn[e]);
        t->txn[e] = NULL;
        if (mrc != MDB_SUCCESS) {
            s_abort(t);
            return mrc;
        }
        s_prepare(t->db, e);
        if (e == t->wenv) {
            *main_done = true;
            t->db->e[e].grows_pending = 0;
        }
    }
    return MDB_SUCCESS;
}

/* One write: attempts until committed, or failed other than by a full
 * map. */
static td_db_rc s_write(td_db *self, int wenv, td_db_write_fn fn, void *arg)
{
    td_txn *t = wenv == ENV_INDEX ? &self->itxn : &self->wtxn;
    for (int attempt = 0;; attempt++) {
        s_txn_init(t, self, true, wenv);
        int mrc = mdb_txn_begin(self->e[wenv].env, NULL, 0, &t->txn[wenv]);
        if (mrc) {
            t->txn[wenv] = NULL;
            if (mrc == MDB_PANIC)
                s_panic(self);
            td_error("cannot begin write transaction: %s", mdb_strerror(mrc));
            return s_rc(mrc);
        }
        td_db_rc rc = fn(t, arg);
        if (t->failed)   /* the first LMDB error is the cause, whatever fn made of it */
            rc = s_rc(t->failed);
        if (rc == TD_DB_OK)
            rc = s_ctr_flush(t);
        if (rc == TD_DB_OK && t->failed)
            rc = s_rc(t->failed);
        bool grow[ENV_COUNT];
        for (int e = 0; e < ENV_COUNT; e++)
            grow[e] = t->txn[e] != NULL;
        if (rc == TD_DB_OK) {
            /* commit returns once the data (and, with sync=full, the meta
             * page) is on disk: the caller acknowledges only after this.
             * A failed commit has aborted the transaction. */
            bool done;
            mrc = s_commit_parts(t, &done);
            if (done && wenv == ENV_MAIN) {
                self->fails_pending = self->nospace_pending = self->clears_pending = 0;
            }
            if (mrc == MDB_SUCCESS)
                return TD_DB_OK;
            if (mrc == MDB_PANIC)
                s_panic(self);
            rc = s_rc(mrc);
            if (rc != TD_DB_FULL)
                td_warn("commit failed: %s", mdb_strerror(mrc));
            if (done)
                return rc;   /* its own part is in: not redone */
        } else {
            s_abort(t);
        }
        if (rc != TD_DB_FULL || attempt >= 24)
            return rc;
        /* a map is full: no txn is open now, so they can be resized; the
         * batch is redone from the start on bigger maps */
        for (int e = 0; e < ENV_COUNT; e++)
            if (grow[e] && (rc = s_grow(self, e)) != TD_DB_OK)
                return rc;
    }
}

td_db_rc td_db_write(td_db *self, td_db_write_fn fn, void *arg)
{
    if (!self || self->readonly)
        return TD_DB_ERROR;
    td_db_rc rc = s_write(self, ENV_MAIN, fn, arg);
    if (rc != TD_DB_OK) {
        /* nothing of this transaction is on disk; count the fault, to be
         * recorded in `meta` by the next commit that succeeds */
        self->fails_pending++;
        if (rc == TD_DB_NOSPACE || rc == TD_DB_FULL)
            self->nospace_pending++;
    }
    return rc;
}

td_db_rc td_db_index_write(td_db *self, td_db_write_fn fn, void *arg)
{
    if (!self || self->readonly)
        return TD_DB_ERROR;
    return s_write(self, ENV_INDEX, fn, arg);
}

static td_db_rc s_read_begin(td_db *self, td_txn **txn_p, bool first)
{
    *txn_p = NULL;
    td_txn *t = malloc(sizeof *t);
    if (!t)
        return TD_DB_ERROR;
    s_txn_init(t, self, false, -1);
    /* the index's snapshot first: the main one, begun after, holds every
     * docno the index has postings for */
    for (int e = ENV_INDEX; e >= ENV_MAIN; e--) {
        for (int attempt = 0;; attempt++) {
            int mrc = mdb_txn_begin(self->e[e].env, NULL, MDB_RDONLY, &t->txn[e]);
            if (mrc == MDB_MAP_RESIZED && first && attempt < 3) {
                /* the writer grew the map past ours: adopt its size (no
                 * other snapshot of ours is open in this environment:
                 * only the first may do this) */
                t->txn[e] = NULL;
                mrc = mdb_env_set_mapsize(self->e[e].env, 0);
                if (mrc == MDB_SUCCESS)
                    continue;
            }
            if (mrc) {
                t->txn[e] = NULL;
                td_warn("cannot begin read transaction: %s", mdb_strerror(mrc));
                s_abort(t);
                free(t);
                return s_rc(mrc);
            }
            break;
        }
    }
    *txn_p = t;
    long hold;
    if (first && td_db_faults_armed() && s_fault_read(&hold) == FAULT_HOLD && hold > 0) {
        /* test-only: keep this snapshot (and its reader slot) open */
        struct timespec ts = {hold / 1000, (hold % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return TD_DB_OK;
}

td_db_rc td_db_read_begin(td_db *self, td_txn **txn_p)
{
    return s_read_begin(self, txn_p, true);
}

td_db_rc td_db_read_begin_more(td_db *self, td_txn **txn_p)
{
    return s_read_begin(self, txn_p, false);
}

void td_txn_end(td_txn **txn_p)
{
    if (!txn_p || !*txn_p)
        return;
    td_txn *t = *txn_p;
    s_abort(t);
    if (t != &t->db->wtxn && t != &t->db->itxn)
        free(t);
    *txn_p = NULL;
}

td_db *td_txn_db(td_txn *txn)
{
    return txn->db;
}

td_db_rc td_txn_get(td_txn *t, td_dbi dbi, const void *key, size_t klen, td_val *val)
{
    if (!klen || klen > TD_DB_MAX_KEY)
        return klen ? TD_DB_NOTFOUND : TD_DB_BADVAL;
    MDB_txn *x = s_tx(t, dbi);
    if (!x)
        return s_rc(t->failed);
    MDB_val k = s_mv(key, klen), v;
    int mrc = mdb_get(x, t->db->dbi[dbi], &k, &v);
    if (mrc == MDB_SUCCESS && val) {
        val->data = v.mv_data;
        val->len = v.mv_size;
    }
    return s_note(t, mrc, "mdb_get");
}

/* May t write a key of klen bytes? TD_DB_OK, or why not. */
static td_db_rc s_writable(const td_txn *t, size_t klen)
{
    if (!t->write)
        return TD_DB_ERROR;
    if (!klen || klen > TD_DB_MAX_KEY)
        return TD_DB_BADVAL;
    return t->failed ? s_rc(t->failed) : TD_DB_OK;
}

td_db_rc td_txn_put(td_txn *t, td_dbi dbi, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    td_db_rc rc = s_writable(t, klen);
    if (rc)
        return rc;
    MDB_txn *x = s_tx(t, dbi);
    if (!x)
        return s_rc(t->failed);
    MDB_val k = s_mv(key, klen), v = s_mv(val, vlen);
    return s_note(t, s_put(x, t->db->dbi[dbi], &k, &v, 0), "mdb_put");
}

td_db_rc td_txn_del(td_txn *t, td_dbi dbi, const void *key, size_t klen)
{
    td_db_rc rc = s_writable(t, klen);
    if (rc)
        return rc;
    MDB_txn *x = s_tx(t, dbi);
    if (!x)
        return s_rc(t->failed);
    MDB_val k = s_mv(key, klen);
    return s_note(t, mdb_del(x, t->db->dbi[dbi], &k, NULL), "mdb_del");
}

td_db_rc td_txn_drop(td_txn *t, td_dbi dbi)
{
    td_db_rc rc = s_writable(t, 1);
    if (rc)
        return rc;
    MDB_txn *x = s_tx(t, dbi);
    if (!x)
        return s_rc(t->failed);
    return s_note(t, mdb_drop(x, t->db->dbi[dbi], 0), "mdb_drop");
}

uint64_t td_txn_entries(td_txn *t, td_dbi dbi)
{
    MDB_stat st;
    MDB_txn *x = s_tx(t, dbi);
    if (!x || mdb_stat(x, t->db->dbi[dbi], &st) != 0)
        return 0;
    return st.ms_entries;
}

/* The counters kept in environment e's `meta` (0 for those never set, and
 * for all of them when t has no part there). */
static void s_ctr_load(td_txn *t, int e)
{
    if (t->ctr_loaded[e])
        return;
    t->ctr_loaded[e] = true;
    MDB_txn *x = t->txn[e] ? t->txn[e] : (t->write && t->wenv == ENV_MAIN ? s_part(t, e) : NULL);
    for (int i = 0; i < TD_CTR_COUNT; i++) {
        if (s_ctr_env((td_ctr)i) != e)
            continue;
        t->ctr[i] = 0;
        MDB_val k = s_mv(s_ctr_names[i], strlen(s_ctr_names[i])), v;
        if (x && mdb_get(x, t->db->e[e].meta, &k, &v) == MDB_SUCCESS && v.mv_size == 8)
            t->ctr[i] = td_db_u64_get(v.mv_data);
    }
}

uint64_t td_txn_counter(td_txn *t, td_ctr ctr)
{
    if ((unsigned)ctr >= TD_CTR_COUNT)
        return 0;
    if (ctr == TD_CTR_DOC_UNINDEXED) {
        /* the docnos handed out that the index does not have yet */
        uint64_t next = td_txn_counter(t, TD_CTR_DOC_NEXT);
        uint64_t upto = td_txn_counter(t, TD_CTR_INDEXED_UPTO);
        return upto < next ? next - upto : 0;
    }
    s_ctr_load(t, s_ctr_env(ctr));
    return t->ctr[ctr];
}

uint64_t td_txn_counter_add(td_txn *t, td_ctr ctr, int64_t delta)
{
    if ((unsigned)ctr >= TD_CTR_COUNT || !t->write || ctr == TD_CTR_DOC_UNINDEXED)
        return 0;
    int e = s_ctr_env(ctr);
    s_ctr_load(t, e);
    if (!t->txn[e])
        return 0;   /* not in this transaction's environment */
    if (delta < 0 && (uint64_t)-delta > t->ctr[ctr])
        t->ctr[ctr] = 0;
    else
        t->ctr[ctr] += (uint64_t)delta;
    t->ctr_dirty[e] = true;
    return t->ctr[ctr];
}

/* ---- cursors -------------------------------------------------------------
 * A td_cur is an MDB_cursor; the type only hides LMDB from other files. */

td_db_rc td_cur_open(td_txn *t, td_dbi dbi, td_cur **cur_p)
{
    MDB_cursor *c;
    *cur_p = NULL;
    MDB_txn *x = s_tx(t, dbi);
    if (!x)
        return s_rc(t->failed);
    int mrc = mdb_cursor_open(x, t->db->dbi[dbi], &c);
    *cur_p = mrc ? NULL : (td_cur *)c;
    return s_note(t, mrc, "mdb_cursor_open");
}

void td_cur_close(td_cur **cur_p)
{
    if (cur_p && *cur_p) {
        mdb_cursor_close((MDB_cursor *)*cur_p);
        *cur_p = NULL;
    }
}

static td_db_rc s_cur_get(td_cur *cur, MDB_val *k, td_val *key, td_val *val, MDB_cursor_op op)
{
    MDB_val kk = k ? *k : (MDB_val){0, NULL}, v;
    int mrc = mdb_cursor_get((MDB_cursor *)cur, &kk, &v, op);
    if (mrc == MDB_SUCCESS) {
        if (key) {
            key->data = kk.mv_data;
            key->len = kk.mv_size;
        }
        if (val) {
            val->data = v.mv_data;
            val->len = v.mv_size;
        }
    } else if (mrc != MDB_NOTFOUND) {
        td_warn("mdb_cursor_get: %s", mdb_strerror(mrc));
    }
    return s_rc(mrc);
}

td_db_rc td_cur_first(td_cur *cur, td_val *key, td_val *val)
{
    return s_cur_get(cur, NULL, key, val, MDB_FIRST);
}

td_db_rc td_cur_last(td_cur *cur, td_val *key, td_val *val)
{
    return s_cur_get(cur, NULL, key, val, MDB_LAST);
}

td_db_rc td_cur_next(td_cur *cur, td_val *key, td_val *val)
{
    return s_cur_get(cur, NULL, key, val, MDB_NEXT);
}

td_db_rc td_cur_prev(td_cur *cur, td_val *key, td_val *val)
{
    return s_cur_get(cur, NULL, key, val, MDB_PREV);
}

td_db_rc td_cur_seek(td_cur *cur, const void *k, size_t klen, td_val *key, td_val *val)
{
    if (!klen || klen > TD_DB_MAX_KEY + 8)
        return TD_DB_BADVAL;
    MDB_val kk = s_mv(k, klen);
    return s_cur_get(cur, &kk, key, val, MDB_SET_RANGE);
}

td_db_rc td_cur_put(td_txn *t, td_cur *cur, const void *k, size_t klen, const void *val,
                    size_t vlen, bool current)
{
    td_db_rc rc = s_writable(t, klen);
    if (rc)
        return rc;
    long arg;
    s_fault fault = td_db_faults_armed() ? s_fault_read(&arg) : FAULT_NONE;
    if (fault == FAULT_PUT)
        return s_note(t, ENOSPC, "mdb_cursor_put");   /* as s_faulty_put */
    /* FAULT_INDEX: every cursor put into the index's environment */
    if (fault == FAULT_INDEX && mdb_cursor_txn((MDB_cursor *)cur) == t->txn[ENV_INDEX])
        return s_note(t, EIO, "mdb_cursor_put");
    MDB_val kk = s_mv(k, klen), v = s_mv(val, vlen);
    return s_note(t, mdb_cursor_put((MDB_cursor *)cur, &kk, &v, current ? MDB_CURRENT : 0),
                  "mdb_cursor_put");
}

td_db_rc td_cur_before(td_cur *cur, const void *k, size_t klen, td_val *key, td_val *val)
{
    td_db_rc rc = td_cur_seek(cur, k, klen, NULL, NULL);
    if (rc == TD_DB_OK)
        return td_cur_prev(cur, key, val);
    if (rc == TD_DB_NOTFOUND)
        return td_cur_last(cur, key, val);
    return rc;
}

/* ---- records -------------------------------------------------------------- */

static size_t s_slen(const char *s)
{
    return s ? strlen(s) : 0;
}

td_db_rc td_db_article_get(td_txn *t, const char *id, td_val *raw)
{
    return td_txn_get(t, TD_DBI_ARTICLES, id, s_slen(id), raw);
}

td_db_rc td_db_article_put(td_txn *t, const td_article *a)
{
    td_db *db = t->db;
    msgpack_sbuffer_clear(&db->sbuf);
    if (td_article_pack(&db->pk, a) != 0)
        return TD_DB_BADVAL;
    return td_txn_put(t, TD_DBI_ARTICLES, a->id, s_slen(a->id), db->sbuf.data, db->sbuf.size);
}

td_db_rc td_db_key_get(td_txn *t, const char *key, td_arena *arena, uint64_t *hash,
                       char **article_id)
{
    td_val v;
    td_db_rc rc = td_txn_get(t, TD_DBI_KEYS, key, s_slen(key), &v);
    if (rc)
        return rc;
    if (v.len < 9) {
        td_warn("keys record for '%s' is damaged", key);
        return TD_DB_ERROR;
    }
    if (hash)
        *hash = td_db_u64_get(v.data);
    if (article_id &&
        !(*article_id = td_arena_strndup(arena, (const char *)v.data + 8, v.len - 8)))
        return TD_DB_ERROR;
    return TD_DB_OK;
}

td_db_rc td_db_key_put(td_txn *t, const char *key, uint64_t hash, const char *article_id)
{
    size_t n = s_slen(article_id);
    if (!n || n > TD_DB_MAX_KEY)
        return TD_DB_BADVAL;
    unsigned char buf[8 + TD_DB_MAX_KEY];
    td_db_u64_put(buf, hash);
    memcpy(buf + 8, article_id, n);
    return td_txn_put(t, TD_DBI_KEYS, key, s_slen(key), buf, 8 + n);
}

td_db_rc td_db_event_get(td_txn *t, const char *id, td_val *raw)
{
    return td_txn_get(t, TD_DBI_EVENTS, id, s_slen(id), raw);
}

td_db_rc td_db_event_get_moved(td_txn *t, const char *id, td_val *raw)
{
    td_db_rc rc = td_db_event_get(t, id, raw);
    td_val to = {.data = id, .len = s_slen(id)};
    /* ids are never reused, so the chain has no cycle; the bound is for a
     * damaged table */
    for (int hop = 0; rc == TD_DB_NOTFOUND && hop < TD_DB_MOVED_HOPS; hop++) {
        if ((rc = td_txn_get(t, TD_DBI_EVENT_MOVED, to.data, to.len, &to)) != TD_DB_OK)
            return rc;
        rc = td_txn_get(t, TD_DBI_EVENTS, to.data, to.len, raw);
    }
    return rc;
}

td_db_rc td_db_event_moved_put(td_txn *t, const char *gone, const char *into)
{
    size_t n = s_slen(into);
    if (!s_slen(gone) || !n)
        return TD_DB_BADVAL;
    return td_txn_put(t, TD_DBI_EVENT_MOVED, gone, s_slen(gone), into, n);
}

size_t td_db_timekey(int64_t time, const char *id, unsigned char *out, size_t cap)
{
    size_t n = s_slen(id);   /* an empty id gives the 8-byte prefix of `time` */
    if (n > TD_DB_MAX_KEY - 8 || cap < 8 + n)
        return 0;
    /* flipping the sign bit makes big-endian bytes sort like signed times */
    td_db_u64_put(out, (uint64_t)time ^ ((uint64_t)1 << 63));
    if (n)
        memcpy(out + 8, id, n);
    return 8 + n;
}

int td_db_timekey_split(const void *key, size_t len, int64_t *time, const char **id,
                        size_t *idlen)
{
    if (len <= 8)
        return -1;
    if (time)
        *time = (int64_t)(td_db_u64_get(key) ^ ((uint64_t)1 << 63));
    if (id)
        *id = (const char *)key + 8;
    if (idlen)
        *idlen = len - 8;
    return 0;
}

td_db_rc td_db_event_put(td_txn *t, const td_event *e, int64_t old_last_seen)
{
    td_db *db = t->db;
    unsigned char tk[TD_DB_MAX_KEY];
    size_t tklen;
    if (!s_slen(e->id))
        return TD_DB_BADVAL;
    if (old_last_seen != TD_TIME_NONE && old_last_seen != e->last_seen) {
        tklen = td_db_timekey(old_last_seen, e->id, tk, sizeof tk);
        td_db_rc rc = tklen ? td_txn_del(t, TD_DBI_EVENT_TIME, tk, tklen) : TD_DB_BADVAL;
        if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
            return rc;
    }
    tklen = td_db_timekey(e->last_seen, e->id, tk, sizeof tk);
    if (!tklen)
        return TD_DB_BADVAL;
    td_db_rc rc = td_txn_put(t, TD_DBI_EVENT_TIME, tk, tklen, "", 0);
    if (rc)
        return rc;
    msgpack_sbuffer_clear(&db->sbuf);
    if (td_event_pack(&db->pk, e) != 0)
        return TD_DB_BADVAL;
    return td_txn_put(t, TD_DBI_EVENTS, e->id, s_slen(e->id), db->sbuf.data, db->sbuf.size);
}

td_db_rc td_db_story_get(td_txn *t, const char *id, td_val *raw)
{
    return td_txn_get(t, TD_DBI_STORIES, id, s_slen(id), raw);
}

td_db_rc td_db_story_put(td_txn *t, const td_story *s)
{
    td_db *db = t->db;
    msgpack_sbuffer_clear(&db->sbuf);
    if (td_story_pack(&db->pk, s) != 0)
        return TD_DB_BADVAL;
    return td_txn_put(t, TD_DBI_STORIES, s->id, s_slen(s->id), db->sbuf.data, db->sbuf.size);
}

td_db_rc td_db_reject_add(td_txn *t, const td_reject *r, uint64_t *seq_out)
{
    td_db *db = t->db;
    msgpack_sbuffer_clear(&db->sbuf);
    if (td_reject_pack(&db->pk, r) != 0)
        return TD_DB_BADVAL;
    uint64_t seq = td_txn_counter_add(t, TD_CTR_REJECT_NEXT, 1);
    unsigned char k[8];
    td_db_u64_put(k, seq);
    td_db_rc rc = td_txn_put(t, TD_DBI_REJECTS, k, 8, db->sbuf.data, db->sbuf.size);
    if (rc == TD_DB_OK) {
        td_txn_counter_add(t, TD_CTR_REJECTS, 1);
        if (seq_out)
            *seq_out = seq;
    }
    return rc;
}

/* ---- entities --------------------------------------------------------------
 * `entities` value (format 1): u8 format, u8 kind, u64 BE articles, name.
 * Binary rather than msgpack: it is internal to the store, never sent. */

size_t td_db_entity_norm(const char *name, char *out, size_t cap)
{
    if (!name || !cap)
        return 0;
    if (cap > TD_DB_ENTITY_KEY)
        cap = TD_DB_ENTITY_KEY;
    utf8proc_uint8_t *folded = NULL;
    /* ASCII (most names): NFKC leaves it as it is, case folding is
     * lowering and no ASCII character is default-ignorable, so the
     * lowering below gives what utf8proc would, without its allocation
     * (the store normalises every entity of every article 3-4 times) */
    bool ascii = true;
    for (const char *p = name; *p && ascii; p++)
        ascii = !((unsigned char)*p & 0x80);
    utf8proc_ssize_t n = -1;
    if (!ascii)
        n = utf8proc_map((const utf8proc_uint8_t *)name, 0, &folded,
                         UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                             UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    const char *src = n >= 0 ? (const char *)folded : name;
    size_t w = 0;
    bool space = false;
    for (const char *p = src; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = w > 0;
            continue;
        }
        if (space) {
            if (w + 1 >= cap)
                break;
            out[w++] = ' ';
            space = false;
        }
        if (w + 1 >= cap)
            break;
        out[w++] = n >= 0 ? (char)c : (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    /* a cut in the middle of a UTF-8 sequence: drop its partial bytes */
    size_t s = w;
    while (s > 0 && ((unsigned char)out[s - 1] & 0xC0) == 0x80)
        s--;
    if (s > 0 && ((unsigned char)out[s - 1] & 0xC0) == 0xC0) {
        unsigned char lead = (unsigned char)out[s - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (w - (s - 1) < need)
            w = s - 1;
    }
    while (w > 0 && out[w - 1] == ' ')
        w--;
    out[w] = '\0';
    free(folded);
    return w;
}

td_db_rc td_db_entity_get(td_txn *t, const char *key, td_arena *arena, td_entity_rec *out)
{
    td_val v;
    td_db_rc rc = td_txn_get(t, TD_DBI_ENTITIES, key, s_slen(key), &v);
    if (rc)
        return rc == TD_DB_BADVAL ? TD_DB_NOTFOUND : rc;
    const unsigned char *p = v.data;
    if (v.len < 10 || p[0] != ENTITY_FORMAT) {
        td_warn("entity record for '%s' is damaged", key);
        return TD_DB_ERROR;
    }
    out->kind = p[1] <= TD_ENT_OTHER ? (td_entity_kind)p[1] : TD_ENT_OTHER;
    out->articles = td_db_u64_get(p + 2);
    out->name = td_arena_strndup(arena, (const char *)p + 10, v.len - 10);
    return out->name ? TD_DB_OK : TD_DB_ERROR;
}

td_db_rc td_db_entity_put(td_txn *t, const char *key, const td_entity_rec *e)
{
    size_t nl = s_slen(e->name);
    if (nl > TD_MAX_SHORT)
        nl = TD_MAX_SHORT;
    unsigned char buf[10 + TD_MAX_SHORT];
    buf[0] = ENTITY_FORMAT;
    buf[1] = (unsigned char)e->kind;
    td_db_u64_put(buf + 2, e->articles);
    if (nl)
        memcpy(buf + 10, e->name, nl);
    return td_txn_put(t, TD_DBI_ENTITIES, key, s_slen(key), buf, 10 + nl);
}

static size_t s_link_key(const char *key, const char *event_id, unsigned char *out)
{
    size_t kl = s_slen(key), el = s_slen(event_id);
    if (!kl || kl >= TD_DB_ENTITY_KEY || kl + 1 + el > TD_DB_MAX_KEY)
        return 0;
    memcpy(out, key, kl);
    out[kl] = '\0';   /* NUL sorts first: "ab" + NUL never mixes with "abc" */
    if (el)
        memcpy(out + kl + 1, event_id, el);
    return kl + 1 + el;
}

td_db_rc td_db_entity_link(td_txn *t, const char *key, const char *event_id)
{
    unsigned char k[TD_DB_MAX_KEY];
    size_t kl = s_link_key(key, event_id, k);
    if (!kl || !s_slen(event_id))
        return TD_DB_BADVAL;
    /* most links exist already (the event's earlier articles named the
     * entity): a put would rewrite the page all the same */
    td_val v;
    td_db_rc rc = td_txn_get(t, TD_DBI_ENTITY_EVENTS, k, kl, &v);
    if (rc != TD_DB_NOTFOUND)
        return rc;
    return td_txn_put(t, TD_DBI_ENTITY_EVENTS, k, kl, "", 0);
}

td_db_rc td_db_entity_unlink(td_txn *t, const char *key, const char *event_id)
{
    unsigned char k[TD_DB_MAX_KEY];
    size_t kl = s_link_key(key, event_id, k);
    td_db_rc rc = kl ? td_txn_del(t, TD_DBI_ENTITY_EVENTS, k, kl) : TD_DB_OK;
    return rc == TD_DB_NOTFOUND ? TD_DB_OK : rc;
}

td_db_rc td_db_entity_events(td_txn *t, const char *key, td_arena *arena, size_t max,
                             char ***ids_out, size_t *n_out, bool *more)
{
    unsigned char prefix[TD_DB_MAX_KEY];
    size_t pl = s_link_key(key, NULL, prefix);
    *ids_out = NULL;
    *n_out = 0;
    if (more)
        *more = false;
    if (!pl)
        return TD_DB_OK;
    size_t cap = 16, n = 0;
    char **ids = td_arena_alloc(arena, cap * sizeof *ids);
    td_cur *c;
    td_db_rc rc = ids ? td_cur_open(t, TD_DBI_ENTITY_EVENTS, &c) : TD_DB_ERROR;
    if (rc)
        return rc;
    td_val k;
    for (rc = td_cur_seek(c, prefix, pl, &k, NULL); rc == TD_DB_OK;
         rc = td_cur_next(c, &k, NULL)) {
        if (k.len <= pl || memcmp(k.data, prefix, pl) != 0)
            break;
        if (n == max) {
            if (more)
                *more = true;
            break;
        }
        if (n == cap) {
            char **grown = td_arena_alloc(arena, 2 * cap * sizeof *ids);
            if (!grown) {
                rc = TD_DB_ERROR;
                break;
            }
            memcpy(grown, ids, n * sizeof *ids);
            ids = grown;
            cap *= 2;
        }
        if (!(ids[n] = td_arena_strndup(arena, (const char *)k.data + pl, k.len - pl))) {
            rc = TD_DB_ERROR;
            break;
        }
        n++;
    }
    td_cur_close(&c);
    if (rc != TD_DB_OK && rc != TD_DB_NOTFOUND)
        return rc;
    *ids_out = ids;
    *n_out = n;
    return TD_DB_OK;
}

td_db_rc td_db_change_put(td_txn *t, uint64_t seq, const void *val, size_t len)
{
    unsigned char k[8];
    td_db_u64_put(k, seq);
    td_db_rc rc = td_txn_put(t, TD_DBI_CHANGES, k, 8, val, len);
    if (rc != TD_DB_OK || seq <= TD_DB_CHANGES_KEEP)
        return rc;
    /* one delete per append keeps the log a fixed window */
    td_db_u64_put(k, seq - TD_DB_CHANGES_KEEP);
    rc = td_txn_del(t, TD_DBI_CHANGES, k, 8);
    return rc == TD_DB_NOTFOUND ? TD_DB_OK : rc;
}

void td_db_stats(td_txn *t, td_stats *s)
{
    s->articles = td_txn_counter(t, TD_CTR_ARTICLES);
    s->events = td_txn_counter(t, TD_CTR_EVENTS);
    s->stories = td_txn_counter(t, TD_CTR_STORIES);
    s->rejects = td_txn_counter(t, TD_CTR_REJECTS);
    s->seq = td_txn_counter(t, TD_CTR_SEQ);
    s->db_bytes = td_db_used_bytes(t->db);
    s->map_bytes = s_map_size(t->db, ENV_MAIN) + s_map_size(t->db, ENV_INDEX);
    s->version = TD_VERSION;
}

const char *td_db_counter_name(td_ctr ctr)
{
    return (unsigned)ctr < TD_CTR_COUNT ? s_ctr_names[ctr] : NULL;
}

size_t td_db_counters(td_txn *t, td_counter *out, size_t cap)
{
    size_t n = 0;
    if (n < cap)
        out[n++] = (td_counter){s_ctr_names[TD_CTR_MAP_GROWS],
                                td_txn_counter(t, TD_CTR_MAP_GROWS)};
    if (n < cap)   /* stored articles search does not find yet (held postings) */
        out[n++] = (td_counter){s_ctr_names[TD_CTR_DOC_UNINDEXED],
                                td_txn_counter(t, TD_CTR_DOC_UNINDEXED)};
    if (n < cap)   /* commits whose entity changes entity.get does not show yet */
        out[n++] = (td_counter){"entity_logged", td_txn_entries(t, TD_DBI_ENTITY_LOG)};
    for (int i = TD_CTR_REPORT_FIRST; i < TD_CTR_COUNT && n < cap; i++)
        out[n++] = (td_counter){s_ctr_names[i], td_txn_counter(t, (td_ctr)i)};
    return n;
}
