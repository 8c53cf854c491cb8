/* index_int.h — what the search index writer's two files share: the held
 * terms and the writer's state. index.c gathers postings (articles,
 * attempts, recovery); index_flush.c writes them to LMDB. Nothing else
 * includes this. */
#ifndef TD_INDEX_INT_H
#define TD_INDEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "index.h"
#include "index_block.h"
#include "terms.h"

typedef struct td_ixw_flush td_ixw_flush;

/* One term of the batch: its postings in docno order. */
typedef struct {
    char *term;
    uint32_t tlen;
    uint32_t hash;
    uint32_t no;       /* its term number, once a flush looked it up */
    bool fresh;        /* ... handed out by this flush: `terms` lacks it */
    td_ix_posting *p;
    uint32_t n, cap;
} td_ixw_term;

/* One term of the article being indexed. */
typedef struct {
    char term[TD_IX_TERM_MAX + 1];
    uint32_t tlen, hash;
    uint32_t tt, tb;
    uint32_t npos, pcap;
    uint32_t *pos;
    bool used;
} td_ixw_local;

struct td_index {
    td_terms *own;           /* tokens of td_index_add's articles */
    td_arena *arena;
    td_ixw_term **slots;     /* open addressing, power of two */
    size_t nslots, nterms;
    td_ixw_local *local;     /* article terms (open addressing) */
    size_t nlocal, lused;
    uint32_t *lidx;          /* used local slots, to clear them quickly */
    td_ixw_term **lterm;     /* the batch term of each used local slot */
    uint32_t *wlocal;        /* per word of the article (td_term.word): its
                              * local slot + 1, 0 not looked up yet,
                              * WLOCAL_NONE dropped (a huge article) */
    size_t wn, wcap;         /* the article's words, wlocal's room */
    /* postings held across commits until a flush (td_index_committed) */
    size_t held_docs;        /* documents of committed transactions held */
    size_t attempt_docs;     /* documents added by the current attempt */
    uint32_t attempt_first;  /* the attempt's first docno */
    size_t list_bytes;       /* of the terms' posting arrays */
    /* a flush in parts (td_index_flush_part): the held terms in key order
     * and the first one not on disk; dropped by an attempt that adds */
    td_ixw_term **order;
    size_t norder, next;
    size_t part_end;         /* where the current attempt's part ends */
    bool part_last;          /* the current attempt writes the last part */
    uint32_t upto;           /* the last docno gathered (in a recovery, the
                              * last one looked at): the flush's last part
                              * records it as TD_CTR_INDEXED_UPTO; 0: none */
    td_ixw_flush *fl;        /* the flush's scratch (index_flush.c) */
};

/* The flush's scratch, allocated at the first flush. */
void td_ixw_flush_free(td_ixw_flush *f);

/* Forget the order of a flush in parts (an attempt that adds postings,
 * or the end of the flush). */
void td_ixw_order_drop(td_index *self);

#endif
