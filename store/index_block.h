/* index_block.h — the on-disk format of the search index (docs/search.md).
 *
 * Shared by the writer (index.c, tidings-store) and the reader
 * (index_read.c, tidings-query), so the byte layout lives in one place.
 *
 *   postings  term + NUL + u32 BE first docno -> block (docs part)
 *   positions term + NUL + u32 BE first docno -> the block's positions
 *   terms     term -> u64 BE document frequency
 *   docs      u32 BE docno -> doc record
 *   docids    article id -> u32 BE docno of the article's live version
 *
 * A block holds up to TD_IX_BLOCK postings of one term in docno order
 * (format 3; blocks of formats 1 and 2 of older stores are still read and
 * rewritten as format 3 when the writer extends them):
 *   header (16 + 4 * npts bytes): u8 format, u8 npts, u16 n, u32 first,
 *     u32 last, u8 docno delta width (1, 2 or 4 bytes), u8 tf width (1 or
 *     2), u8 length width (2 or 4), u8 0, then npts bound points
 *     (u16 tf, u16 dl): the Pareto frontier of the block's postings in
 *     (title-boosted tf high, doc length low), at most TD_IX_PTS (neighbours
 *     merged into a corner that dominates both when there are more)
 *   docs section, fixed-width little-endian arrays (no varints: decoding is
 *     a widening copy, and a reader takes only the arrays it needs):
 *     n docno deltas (the first 0), n title tf, n body tf, n doc lengths
 * The positions are a separate value in `positions` under the same key
 * (only phrases read them; a walk through a common term's list reads
 * ~2.6 KB per full block instead of ~6 KB): per posting a varint count then
 * delta-coded positions (title tokens from 0, body tokens from
 * TD_IX_BODY_POS). Appending postings appends bytes: the writer extends a
 * block's positions without decoding them.
 * Format 4 is format 3 with the positions appended to the docs section in
 * the same value (no `positions` entry): the writer uses it for a term's
 * partly filled last block while the whole fits in a B-tree leaf
 * (TD_IX_INLINE_MAX), so extending it at a commit dirties one leaf page
 * instead of two; full blocks are always format 3.
 * Formats 1 and 2 kept the positions inside the block, after varint docs
 * sections (format 1 interleaved, format 2 in three streams).
 * The header alone bounds every BM25 score in the block for any average
 * document length (td_ix_bound: exact when the frontier fits), so a reader
 * skips a block without decoding it (block-max pruning).
 *
 * Bump TD_IX_FORMAT (and TD_RECORD_VERSION) when any of this changes.
 */
#ifndef TD_INDEX_BLOCK_H
#define TD_INDEX_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_IX_FORMAT 4          /* posting blocks: the newest format read */
#define TD_IX_F_SPLIT 3         /* fixed-width docs part, positions apart */
#define TD_IX_F_INLINE 4        /* the same with the positions inline */
/* A partly filled last block is written inline (format 4) while docs part
 * plus positions stay within this: with a key of up to TD_IX_TERM_MAX + 5
 * bytes the LMDB node stays under the leaf limit of 4 KiB pages (2,040
 * bytes), so the block is never moved to overflow pages. */
#define TD_IX_INLINE_MAX 1536
#define TD_IX_DOC_FORMAT 1      /* doc records */
#ifndef TD_IX_BLOCK
/* postings per full block: 256 beat 128 by ~20% at 1M (format 2); in format 3,
 * 512 beat 256 by 10-25% CPU on common-term queries at 1M (half the blocks
 * to step through; a full block of a common term, ~2.6 KB, lives in
 * overflow pages that the look-ahead cursor prefetches). Stores written
 * with smaller blocks read fine. */
#define TD_IX_BLOCK 512
#endif
#define TD_IX_HEADER 16          /* fixed part; + 4 bytes per bound point */
#define TD_IX_HEADER_V1 24       /* format 1: f32 max tf, u32 min length, no points */
#define TD_IX_PTS 8              /* bound points per block at most */
#define TD_IX_BODY_POS 4096      /* first body position: phrases never span title/body */
#define TD_IX_MAX_POS 1024       /* positions kept per posting */
#define TD_IX_TITLE_BOOST 3.0f   /* a title occurrence counts as this many */
#define TD_IX_TERM_MAX 200       /* bytes of a term key (before the NUL) */
#define TD_IX_NONE UINT32_MAX    /* "no document" */

/* Reserved term prefixes: never produced by the tokenizer (control bytes). */
#define TD_IX_P_ENTITY "\x01" "e:"   /* + normalised entity name */
#define TD_IX_P_SOURCE "\x01" "s:"   /* + normalised source name */
/* Term number 1 is reserved: it was the list of replaced versions' docnos
 * (the term "\x01del") before they went to the `retired` database. */
#define TD_IX_NO_DELETED 1

typedef struct {
    uint32_t doc;
    uint32_t tt, tb;         /* title / body term frequency */
    uint32_t dl;             /* document length in tokens */
    uint32_t npos;
    uint32_t pos1;           /* the position, when pos is NULL and npos 1 */
    const uint32_t *pos;     /* npos ascending positions (td_ix_posting_pos) */
} td_ix_posting;

/* A posting's positions. Most terms occur once in an article: their one
 * position is kept in the posting itself (pos1, in what was padding), not
 * in memory of its own that the index flush would miss in the cache for
 * every posting. */
static inline const uint32_t *td_ix_posting_pos(const td_ix_posting *p)
{
    return p->pos ? p->pos : &p->pos1;
}

/* A bound point: tf rounded up (UINT16_MAX: unbounded), dl rounded down. */
typedef struct {
    uint16_t tf, dl;
} td_ix_point;

typedef struct {
    uint8_t format;
    uint8_t npts;
    uint16_t n;
    uint32_t first, last;
    uint32_t hdr_len;        /* bytes before the docs section */
    uint32_t docs_len;
    uint8_t wd, wt, wl;      /* format 3: docno delta, tf, length widths */
    td_ix_point pts[TD_IX_PTS];
} td_ix_header;

/* Title-boosted term frequency of a posting. */
static inline float td_ix_tf(uint32_t tt, uint32_t tb)
{
    return (float)tb + TD_IX_TITLE_BOOST * (float)tt;
}

/* Posting key of (term number, first docno): both u32 BE, so a term's
 * blocks are neighbours in docno order, and terms numbered together (first
 * seen together) are neighbours too. Returns TD_IX_KEY. */
#define TD_IX_KEY 8
#define TD_IX_KEY_TERM 4   /* the term number's part */
size_t td_ix_key(uint32_t no, uint32_t first, unsigned char *out);

/* Whether a term can be indexed: 1..TD_IX_TERM_MAX bytes, no NUL. */
bool td_ix_term_ok(const char *term, size_t tlen);

/* Encode postings p[0..n) (n <= TD_IX_BLOCK, docno ascending) into `out`
 * (at least td_ix_block_bound(p, n) bytes): the docs part (format 3);
 * returns the bytes written. Positions are not read. */
size_t td_ix_block_bound(const td_ix_posting *p, size_t n);
size_t td_ix_block_encode(const td_ix_posting *p, size_t n, unsigned char *out);

/* Turn the format 3 block out[0..len) into a format 4 block by appending
 * its positions value pos[0..plen) (out must have room); returns the new
 * length. */
size_t td_ix_block_inline(unsigned char *out, size_t len, const void *pos, size_t plen);

/* The positions value of postings p[0..n) into `out` (at least
 * td_ix_pos_bound(p, n) bytes); returns the bytes written. The value of a
 * block is the concatenation of these over its postings, in order. */
size_t td_ix_pos_bound(const td_ix_posting *p, size_t n);
size_t td_ix_pos_encode(const td_ix_posting *p, size_t n, unsigned char *out);

/* Read a block header; -1 when the value is not a valid block. */
int td_ix_header_read(const void *buf, size_t len, td_ix_header *h);

/* The largest BM25 saturation tf / (tf + c + e * dl) of any posting the
 * header covers (c = k1 (1 - b), e = k1 b / avgdl). */
double td_ix_bound(const td_ix_header *h, double c, double e);

/* Decode the docs section into parallel arrays (TD_IX_BLOCK entries each);
 * returns n, or -1 when damaged. */
int td_ix_block_docs(const void *buf, size_t len, uint32_t *doc, uint32_t *tt, uint32_t *tb,
                     uint32_t *dl);

/* Lazy decoding for readers: the docnos only (returns n or -1 and sets
 * *freq_off, where the frequency streams start; for a format 1 block it
 * decodes everything and sets *freq_off to 0), then, when a posting of the
 * block is scored, its frequencies and lengths. */
int td_ix_block_docnos(const void *buf, size_t len, const td_ix_header *h, uint32_t *doc,
                       uint32_t *tt, uint32_t *tb, uint32_t *dl, size_t *freq_off);
int td_ix_block_freqs(const void *buf, size_t len, const td_ix_header *h, size_t freq_off,
                      uint32_t *tt, uint32_t *tb, uint32_t *dl);

/* Positions of the i-th posting (0-based) of a block into pos (cap
 * entries); returns how many, -1 when damaged. `pbuf` is the block's
 * positions value (format 3) or the block itself (formats 1, 2 and 4: the
 * positions follow the docs section). Walks from the start. */
int td_ix_block_positions(const void *buf, size_t len, const void *pbuf, size_t plen, size_t i,
                          uint32_t *pos, size_t cap);

/* Resuming a walk of positions value pbuf (td_ix_pos_start gives where the
 * positions of a block's first posting start in it): *off and *at hold the
 * byte offset and index of the walk so far (0/0 to start); a later call
 * with i >= *at continues from there, so reading a block's postings in
 * order costs one pass. n: the block's postings. */
size_t td_ix_pos_start(const td_ix_header *h);
int td_ix_block_positions_at(const void *pbuf, size_t plen, size_t start, size_t n, size_t i,
                             size_t *off, size_t *at, uint32_t *pos, size_t cap);

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
