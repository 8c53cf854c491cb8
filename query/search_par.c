/* search_par.c — the helper thread of a split query; see search_par.h. */
#include "search_par.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"

#define PART_ARENA ((size_t)64 << 20)

struct td_search_par {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit, job, done;
    uint64_t min_df;
    _Atomic uint64_t parts;
    td_arena *arena;
    /* the job */
    td_db *db;
    const td_qparsed *q;
    td_search_opts o;
    td_search_stats st;
    /* its outcome */
    int rc;
    td_search_res res;
};

static void s_run(td_search_par *self)
{
    td_txn *txn;
    td_arena_reset(self->arena);
    if (td_db_read_begin_more(self->db, &txn) != TD_DB_OK) {
        self->rc = TD_SEARCH_PAR_NOT_RUN;
        return;
    }
    self->rc = td_search_exec(txn, self->arena, self->q, &self->o, &self->st, &self->res);
    td_txn_end(&txn);
    self->parts++;
}

static void *s_main(void *arg)
{
    td_search_par *self = arg;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->job && !self->quit)
            pthread_cond_wait(&self->cv, &self->mu);
        if (self->quit)
            break;
        pthread_mutex_unlock(&self->mu);
        s_run(self);
        pthread_mutex_lock(&self->mu);
        self->job = false;
        self->done = true;
        pthread_cond_broadcast(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

td_search_par *td_search_par_new(uint64_t min_df)
{
    td_search_par *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->min_df = min_df;
    if (!(self->arena = td_arena_new(PART_ARENA))) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    if (pthread_create(&self->thread, NULL, s_main, self) != 0) {
        td_warn("search helper thread not started: queries run on one core");
        pthread_cond_destroy(&self->cv);
        pthread_mutex_destroy(&self->mu);
        td_arena_destroy(&self->arena);
        free(self);
        return NULL;
    }
    return self;
}

void td_search_par_destroy(td_search_par **self_p)
{
    td_search_par *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->mu);
    self->quit = true;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    pthread_join(self->thread, NULL);
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mu);
    td_arena_destroy(&self->arena);
    free(self);
    *self_p = NULL;
}

uint64_t td_search_par_min_df(const td_search_par *self)
{
    return self->min_df;
}

uint64_t td_search_par_parts(const td_search_par *self)
{
    return self->parts;
}

bool td_search_par_start(td_search_par *self, td_txn *txn, const td_qparsed *q,
                         const td_search_opts *o, const td_search_stats *st)
{
    pthread_mutex_lock(&self->mu);
    bool busy = self->job;
    if (!busy) {
        self->db = td_txn_db(txn);
        self->q = q;
        self->o = *o;
        self->st = *st;
        self->job = true;
        self->done = false;
        pthread_cond_broadcast(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    return !busy;
}

int td_search_par_wait(td_search_par *self, td_search_res *res)
{
    pthread_mutex_lock(&self->mu);
    while (!self->done)
        pthread_cond_wait(&self->cv, &self->mu);
    self->done = false;
    int rc = self->rc;
    *res = self->res;
    pthread_mutex_unlock(&self->mu);
    return rc;
}
