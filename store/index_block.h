/* index_block.h — the on-disk format of the search index (docs/search.md).
 *
 * Shared by the writer (index.c, tidings-store) and the reader
 * (index_read.c, tidings-query), so the byte layout lives in one place.
 *
 *   postings  term + NUL + u32 BE first docno -> block
 *   terms     term -> u64 BE document frequency
 *   docs      u32 BE docno -> doc record
 *   docids    article id -> u32 BE docno of the article's live version
 *
 * A block holds up to TD_IX_BLOCK postings of one term in docno order:
 *   header (TD_IX_HEADER bytes): u8 format, u8 0, u16 n, u32 first, u32 last,
 *     f32 max tf (title-boosted), u32 min doc length, u32 docs section bytes
 *   docs section: per posting varint docno delta (first: from `first`),
 *     varint title tf, varint body tf, varint doc length
 *   positions section: per posting varint count then delta-coded positions
 *     (title tokens from 0, body tokens from TD_IX_BODY_POS)
 * The header alone bounds every score in the block (block-max pruning), so
 * a reader skips a block without decoding it.
 *
 * Bump TD_IX_FORMAT (and TD_RECORD_VERSION) when any of this changes.
 */
#ifndef TD_INDEX_BLOCK_H
#define TD_INDEX_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_IX_FORMAT 1
#define TD_IX_BLOCK 128          /* postings per full block */
#define TD_IX_HEADER 24
#define TD_IX_BODY_POS 4096      /* first body position: phrases never span title/body */
#define TD_IX_MAX_POS 1024       /* positions kept per posting */
#define TD_IX_TITLE_BOOST 3.0f   /* a title occurrence counts as this many */
#define TD_IX_TERM_MAX 200       /* bytes of a term key (before the NUL) */
#define TD_IX_NONE UINT32_MAX    /* "no document" */

/* Reserved term prefixes: never produced by the tokenizer (control bytes). */
#define TD_IX_P_ENTITY "\x01" "e:"   /* + normalised entity name */
#define TD_IX_P_SOURCE "\x01" "s:"   /* + normalised source name */
#define TD_IX_T_DELETED "\x01" "del" /* docnos of replaced versions */

typedef struct {
    uint32_t doc;
    uint32_t tt, tb;         /* title / body term frequency */
    uint32_t dl;             /* document length in tokens */
    uint32_t npos;
    const uint32_t *pos;     /* npos ascending positions */
} td_ix_posting;

typedef struct {
    uint16_t n;
    uint32_t first, last;
    float max_tf;
    uint32_t min_dl;
    uint32_t docs_len;
} td_ix_header;

/* Title-boosted term frequency of a posting. */
static inline float td_ix_tf(uint32_t tt, uint32_t tb)
{
    return (float)tb + TD_IX_TITLE_BOOST * (float)tt;
}

/* Posting key of (term, first docno) into out (TD_IX_TERM_MAX + 5 bytes);
 * returns its length, 0 when the term is empty or too long. */
size_t td_ix_key(const char *term, size_t tlen, uint32_t first, unsigned char *out);

/* Encode postings p[0..n) (n <= TD_IX_BLOCK, docno ascending) into `out`
 * (at least td_ix_block_bound(p, n) bytes); returns the bytes written. */
size_t td_ix_block_bound(const td_ix_posting *p, size_t n);
size_t td_ix_block_encode(const td_ix_posting *p, size_t n, unsigned char *out);

/* Read a block header; -1 when the value is not a valid block. */
int td_ix_header_read(const void *buf, size_t len, td_ix_header *h);

/* Decode the docs section into parallel arrays (TD_IX_BLOCK entries each);
 * returns n, or -1 when damaged. */
int td_ix_block_docs(const void *buf, size_t len, uint32_t *doc, uint32_t *tt, uint32_t *tb,
                     uint32_t *dl);

/* Positions of the i-th posting (0-based) into pos (cap entries); returns
 * how many, -1 when damaged. Walks the positions section from its start. */
int td_ix_block_positions(const void *buf, size_t len, size_t i, uint32_t *pos, size_t cap);

/* Varints (LEB128). get returns the bytes read, 0 when truncated. */
size_t td_ix_put_varint(unsigned char *p, uint32_t v);
size_t td_ix_get_varint(const unsigned char *p, const unsigned char *end, uint32_t *v);

/* Doc record: u8 format, i64 BE published_at, u32 BE length, article id. */
typedef struct {
    int64_t published_at;
    uint32_t dl;
    const char *id;          /* not terminated: idlen bytes */
    size_t idlen;
} td_ix_doc;

size_t td_ix_doc_encode(const td_ix_doc *d, unsigned char *out, size_t cap);
int td_ix_doc_decode(const void *buf, size_t len, td_ix_doc *d);

void td_ix_put_u32(unsigned char *p, uint32_t v);
uint32_t td_ix_get_u32(const unsigned char *p);

#endif
