/* bench_assign.c — cost of assigning one article as the archive grows.
 *
 * Streams synthetic analysed articles (Zipf vocabulary, events of a few to
 * a few dozen articles sharing topic words and entities, 20 s of stream
 * time apart) through the real writer (td_writer: keys, clustering,
 * provenance, ledger, index, LMDB commits of 1000) into a temporary data
 * directory, and prints the mean time per article of the 1000 articles
 * after the archive reaches each checkpoint, and the resident memory then.
 * Not part of the test suite:
 *
 *   bench-assign [--digest] [CHECKPOINT ...]      (default: 10000 200000)
 *
 * --digest prints, at the end, a hash of every article's event, story,
 * provenance and assignment reasons: two builds that print the same digest
 * assigned the stream identically (for changes that must not move results).
 */
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "arena.h"
#include "codec.h"
#include "db.h"
#include "writer.h"

#define VOCAB 20000
#define BATCH 1000

static uint64_t s_rng = 88172645463325252ull;
static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* Zipf-ish word index: many common words, a long tail. */
static unsigned s_zipf(void)
{
    double u = (double)(s_next() % 1000000) / 1000000.0;
    return (unsigned)(VOCAB * u * u * u) % VOCAB;
}

static void s_word(unsigned i, char *out)
{
    static const char *syl[] = {"ka", "ro", "mi", "tes", "lun", "vor", "den", "sa", "pri",
                                "gol", "ber", "nat", "quo", "zel", "fin", "har"};
    int n = 0;
    out[0] = '\0';
    do {
        strcat(out, syl[i % 16]);
        i /= 16;
        n++;
    } while (i && n < 5);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident kB of one kind ("VmRSS:", "RssAnon:" heap and stacks, "RssFile:"
 * mostly the LMDB map's pages, which the kernel can drop at will). */
static long s_rss_kb(const char *what)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(what);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, what, n) == 0)
            kb = atol(line + n);
    if (f)
        fclose(f);
    return kb;
}

/* Hash of what assignment decided for articles b0 .. b<n-1>. */
static int s_digest(td_db *db, long n)
{
    td_txn *txn;
    if (td_db_read_begin(db, &txn) != TD_DB_OK)
        return -1;
    td_arena *arena = td_arena_new(0);
    XXH3_state_t *st = XXH3_createState();
    if (!arena || !st)
        return -1;
    XXH3_64bits_reset(st);
    char id[32];
    long events_seen = 0;
    for (long i = 0; i < n; i++) {
        snprintf(id, sizeof id, "b%ld", i);
        td_val raw;
        td_article a;
        td_error err;
        if (td_db_article_get(txn, id, &raw) != TD_DB_OK ||
            td_article_decode(raw.data, raw.len, arena, &a, &err) != 0)
            continue;
        const char *f[] = {a.id, a.event, a.story, a.derived_id, a.derived_kind,
                           a.duplicate_of};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
            XXH3_64bits_update(st, f[k] ? f[k] : "-", f[k] ? strlen(f[k]) + 1 : 1);
        for (size_t k = 0; k < a.n_assignment; k++)
            XXH3_64bits_update(st, &a.assignment[k].value, sizeof a.assignment[k].value);
        events_seen += a.event != NULL;
        td_arena_reset(arena);
    }
    printf("digest %016llx (%ld articles with an event)\n",
           (unsigned long long)XXH3_64bits_digest(st), events_seen);
    XXH3_freeState(st);
    td_arena_destroy(&arena);
    td_txn_end(&txn);
    return 0;
}

int main(int argc, char **argv)
{
    long checkpoints[8] = {10000, 200000};
    int ncp = 0;
    bool digest = false;
    for (int i = 1; i < argc && ncp < 8; i++) {
        if (strcmp(argv[i], "--digest") == 0)
            digest = true;
        else
            checkpoints[ncp++] = atol(argv[i]);
    }
    if (ncp == 0)
        ncp = 2;
    char dir[] = "/tmp/tidings-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    td_db_opts o = {.dir = dir, .sync = TD_SYNC_NOSYNC};
    td_db_rc rc;
    td_db *db = td_db_open(&o, &rc);
    td_writer *w = db ? td_writer_new(db) : NULL;
    if (!w) {
        fprintf(stderr, "bench-assign: cannot open %s\n", dir);
        return 1;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    long total = checkpoints[ncp - 1] + BATCH;
    int64_t t = 1700000000000LL;
    unsigned topic[24] = {0};
    char ents[4][32];
    int left = 0, cp = 0;
    long ev = 0;
    static char title[1024], body[16384], word[64], idbuf[32];
    double t_batch = 0;
    printf("%10s %14s %10s %10s %10s\n", "stored", "us/article", "rss_MiB", "anon_MiB",
           "file_MiB");
    for (long n = 0; n < total; n++) {
        if (left == 0) {
            /* a new event: its topic words and entities */
            left = 1 + (int)(s_next() % 30);
            for (int i = 0; i < 24; i++)
                topic[i] = (unsigned)(s_next() % VOCAB);
            for (int i = 0; i < 4; i++)
                snprintf(ents[i], sizeof ents[i], "Ent%ld-%d", ev, i);
            ev++;
        }
        left--;
        title[0] = body[0] = '\0';
        for (int i = 0; i < 10; i++) {
            s_word(i % 2 ? topic[s_next() % 24] : s_zipf(), word);
            strcat(title, word);
            strcat(title, " ");
        }
        for (int i = 0; i < 400; i++) {
            s_word(i % 3 == 0 ? topic[s_next() % 24] : s_zipf(), word);
            strcat(body, word);
            strcat(body, i % 20 == 19 ? ". " : " ");
        }
        td_entity en[4];
        for (int i = 0; i < 4; i++)
            en[i] = (td_entity){.name = ents[i], .kind = TD_ENT_OTHER, .count = 2};
        snprintf(idbuf, sizeof idbuf, "b%ld", n);
        td_article a = {.id = idbuf, .source = "bench", .title = title, .body = body,
                        .published_at = t, .lang = "en", .entities = en, .n_entities = 4};
        t += 20000;
        td_store_msg m = {.token = 0, .article = &a};
        msgpack_sbuffer_clear(&sb);
        if (td_store_msg_pack(&pk, &m) != 0 ||
            td_writer_add(w, NULL, 0, sb.data, sb.size, t) != 0) {
            fprintf(stderr, "bench-assign: pack/add failed\n");
            return 1;
        }
        if (td_writer_count(w) == BATCH) {
            double t0 = s_now();
            if (td_writer_commit(w, NULL, false) != TD_DB_OK) {
                fprintf(stderr, "bench-assign: commit failed\n");
                return 1;
            }
            t_batch = s_now() - t0;
            long stored = n + 1;
            if (cp < ncp && stored == checkpoints[cp] + BATCH) {
                printf("%10ld %14.1f %10.1f %10.1f %10.1f\n", checkpoints[cp],
                       t_batch * 1e6 / BATCH, s_rss_kb("VmRSS:") / 1024.0,
                       s_rss_kb("RssAnon:") / 1024.0, s_rss_kb("RssFile:") / 1024.0);
                fflush(stdout);
                cp++;
            }
        }
    }
    msgpack_sbuffer_destroy(&sb);
    if (digest && s_digest(db, total) != 0)
        fprintf(stderr, "bench-assign: digest failed\n");
    td_writer_destroy(&w);
    td_db_destroy(&db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench-assign: could not remove %s\n", dir);
    return 0;
}
