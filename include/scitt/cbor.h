/*
 * scitt/cbor.h — strict, bounded CBOR (RFC 8949) reading and deterministic writing.
 *
 * Reading. A pull reader over borrowed bytes with a sticky error (check it once at the end).
 * It accepts only what COSE and SCITT need and rejects everything else:
 *  - definite lengths only (SCITT_ERR_INDEFINITE), heads in their shortest form
 *    (SCITT_ERR_NON_CANONICAL), no reserved additional-information values (SCITT_ERR_MALFORMED);
 *  - every declared string length and element count is checked against the bytes that remain
 *    before anything is read (SCITT_ERR_TRUNCATED), counts against SCITT_LIMIT_CBOR_ITEMS, nesting
 *    against SCITT_LIMIT_CBOR_DEPTH, items per reader against SCITT_LIMIT_CBOR_TOTAL;
 *  - text strings must be valid UTF-8 (SCITT_ERR_UTF8);
 *  - simple values other than false/true/null/undefined are SCITT_ERR_BAD_SIMPLE; floats of any
 *    width are read (a CWT NumericDate may be one) and left to the caller to refuse;
 *  - maps read with scitt_cbor_read_map() or skipped with scitt_cbor_skip() are checked for
 *    duplicate keys at every nesting level (SCITT_ERR_DUPLICATE_KEY); their keys must be
 *    integers or text/byte strings (SCITT_ERR_BAD_TYPE);
 *  - tags are returned as items of their own, so every typed read (read_uint, read_bytes, ...)
 *    rejects a tag where it expects a value (SCITT_ERR_BAD_TAG): tags appear only where the
 *    caller explicitly reads one;
 *  - scitt_cbor_reader_finish() fails on unread bytes (SCITT_ERR_TRAILING) and on containers
 *    that are still open (SCITT_ERR_TRUNCATED).
 * The reader never allocates except when scitt_cbor_skip() meets a map with more keys than fit
 * its on-stack scratch space. It never recurses.
 *
 * Writing. A writer over caller storage (or appending to a scitt_dynbuf) with a sticky error.
 * Heads are always written in their shortest form, so the output is deterministic (RFC 8949
 * §4.2.1) provided the caller writes map keys in bytewise order of their encodings; every
 * encoder in this library does. With fixed storage that is too small, the writer keeps counting
 * in `need` so the caller can learn the size and retry.
 */
#ifndef SCITT_CBOR_H
#define SCITT_CBOR_H

#include "scitt/base.h"
#include "scitt/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The kinds of item the reader returns. */
typedef enum scitt_cbor_type {
    SCITT_CBOR_UINT = 0,   /**< major type 0: `arg` is the value */
    SCITT_CBOR_NEGINT = 1, /**< major type 1: the value is -1 - `arg` */
    SCITT_CBOR_BYTES = 2,  /**< major type 2: `str` is the contents */
    SCITT_CBOR_TEXT = 3,   /**< major type 3: `str` is the contents (valid UTF-8) */
    SCITT_CBOR_ARRAY = 4,  /**< major type 4: `arg` is the element count */
    SCITT_CBOR_MAP = 5,    /**< major type 5: `arg` is the pair count */
    SCITT_CBOR_TAG = 6,    /**< major type 6: `arg` is the tag number; the tagged item follows */
    SCITT_CBOR_FALSE = 7,
    SCITT_CBOR_TRUE = 8,
    SCITT_CBOR_NULL = 9,
    SCITT_CBOR_UNDEFINED = 10,
    SCITT_CBOR_FLOAT = 11, /**< half, single or double float: `f` is the value */
} scitt_cbor_type;

/** One item head (strings: with their contents). Spans point into the reader's input. */
typedef struct scitt_cbor_item {
    scitt_cbor_type type;
    uint64_t arg;   /**< value, length, count or tag number, by type */
    scitt_span str; /**< BYTES/TEXT contents */
    double f;       /**< FLOAT value */
    size_t offset;  /**< where the item starts in the input */
    size_t size;    /**< bytes of the head (plus contents for strings) */
} scitt_cbor_item;

/**
 * Strict pull reader. Plain data: it may be copied by assignment to look ahead. The input must
 * outlive the reader and every span it returns.
 */
typedef struct scitt_cbor_reader {
    const uint8_t *ptr;
    size_t len;
    size_t pos;
    scitt_err err;                         /**< sticky: once set, every call returns it */
    unsigned depth;                        /**< open containers (arrays, maps, tags) */
    uint32_t total;                        /**< items read so far */
    uint64_t left[SCITT_LIMIT_CBOR_DEPTH]; /**< items still to come in each open container */
} scitt_cbor_reader;

SCITT_API void scitt_cbor_reader_init(scitt_cbor_reader *r, scitt_span in);

/**
 * Reads the next item head. Containers are entered: the following calls return their elements.
 * Maps read this way are NOT checked for duplicate keys; use scitt_cbor_read_map().
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_next(scitt_cbor_reader *r, scitt_cbor_item *out);

/** The next item head without consuming it (the reader is unchanged, even on error). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_peek(const scitt_cbor_reader *r,
                                                   scitt_cbor_item *out);

/** An unsigned integer (SCITT_ERR_BAD_TYPE for anything else, SCITT_ERR_BAD_TAG for a tag). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_uint(scitt_cbor_reader *r, uint64_t *out);
/** An unsigned or negative integer within int64 range (SCITT_ERR_RANGE outside it). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_int(scitt_cbor_reader *r, int64_t *out);
/** A byte string; *out points into the input. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_bytes(scitt_cbor_reader *r, scitt_span *out);
/** A text string (valid UTF-8); *out points into the input. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_text(scitt_cbor_reader *r, scitt_span *out);
/** An array head; its *n elements follow (*n is 0 on failure). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_array(scitt_cbor_reader *r, size_t *n);
/**
 * A map head; its *n key/value pairs follow. The whole map is validated first (every nested item,
 * duplicate keys at every level), so callers can read its pairs without checking duplicates.
 * *n is 0 on failure.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_map(scitt_cbor_reader *r, size_t *n);
/** A tag head; *tag receives its number and the tagged item follows. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_tag(scitt_cbor_reader *r, uint64_t *tag);
/** A null (SCITT_ERR_BAD_TYPE for anything else). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_read_null(scitt_cbor_reader *r);
/**
 * Skips one complete item (with everything nested in it, tags included), validating all of it;
 * *raw (may be NULL) receives its encoded bytes.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_skip(scitt_cbor_reader *r, scitt_span *raw);

/** Number of items still to read in the innermost open container (0 at top level). */
SCITT_API uint64_t scitt_cbor_reader_left_in_container(const scitt_cbor_reader *r);

/**
 * The sticky error; else SCITT_ERR_TRUNCATED when a container is still open, SCITT_ERR_TRAILING
 * when bytes remain after the item(s).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_reader_finish(const scitt_cbor_reader *r);

/** Checks that @p in is exactly one well-formed item under the rules above. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_validate(scitt_span in);

/** Containers (arrays, maps, tags, byte-string wraps) a writer can hold open at once. */
#define SCITT_CBOR_WRITE_DEPTH 24u

/**
 * Writer with a sticky error. Either over fixed storage (ptr/cap; overflow sets
 * SCITT_ERR_BUFFER_TOO_SMALL and keeps counting in `need`) or appending to a scitt_dynbuf (whose
 * errors, e.g. its ceiling, become the writer's).
 *
 * Nesting bookkeeping: the writer counts the items each open array (n), map (2n) and tag (1)
 * still expects, and closes it when the last one is written; scitt_cbor_writer_finish fails with
 * SCITT_ERR_TRUNCATED while any is unfilled, so a wrong count cannot produce bytes. A byte
 * string whose contents are CBOR (bstr .cbor) is written between scitt_cbor_open_bytes and
 * scitt_cbor_close_bytes: its length is known only at the close, which writes the head in front
 * of the contents, so callers never compute an encoding's length ahead. Deeper than
 * SCITT_CBOR_WRITE_DEPTH open containers is SCITT_ERR_TOO_DEEP.
 */
typedef struct scitt_cbor_writer {
    uint8_t *ptr;
    size_t cap;
    size_t len;  /**< bytes written (fixed storage) */
    size_t need; /**< bytes the output needs so far, also after an overflow */
    scitt_err err;
    scitt_dynbuf *dyn; /**< when non-NULL, output is appended here */
    size_t dyn_start;  /**< dyn->len when the writer was set up */
    unsigned depth;    /**< open containers */
    struct {
        uint64_t left; /**< items still expected; UINT64_MAX for a byte-string wrap */
        size_t at;     /**< `need` when it was opened (where a wrap's contents start) */
    } open[SCITT_CBOR_WRITE_DEPTH];
} scitt_cbor_writer;

/** Fixed storage; @p storage may be NULL with @p cap 0 to measure an encoding. */
SCITT_API void scitt_cbor_writer_init(scitt_cbor_writer *w, uint8_t *storage, size_t cap);
/** Appends to @p b (which must outlive the writer). */
SCITT_API void scitt_cbor_writer_init_dynbuf(scitt_cbor_writer *w, scitt_dynbuf *b);

SCITT_API void scitt_cbor_put_uint(scitt_cbor_writer *w, uint64_t v);
SCITT_API void scitt_cbor_put_int(scitt_cbor_writer *w, int64_t v);
SCITT_API void scitt_cbor_put_bytes(scitt_cbor_writer *w, scitt_span v);
/**
 * Only the head of a byte string of @p len bytes, counted as the whole item: for encodings whose
 * contents are not written through this writer (a Sig_structure hashed in parts). To write CBOR
 * inside a byte string, use scitt_cbor_open_bytes.
 */
SCITT_API void scitt_cbor_put_bytes_head(scitt_cbor_writer *w, size_t len);
/** Opens a byte string whose contents are the items written until scitt_cbor_close_bytes. */
SCITT_API void scitt_cbor_open_bytes(scitt_cbor_writer *w);
/**
 * Closes the innermost byte string opened by scitt_cbor_open_bytes: writes its head in front of
 * the contents. SCITT_ERR_INVALID_ARG when it is not the innermost open container (an array or
 * map inside it is unfilled) or none is open.
 */
SCITT_API void scitt_cbor_close_bytes(scitt_cbor_writer *w);
/** A text string; sets SCITT_ERR_UTF8 when @p v is not valid UTF-8. */
SCITT_API void scitt_cbor_put_text(scitt_cbor_writer *w, scitt_span v);
SCITT_API void scitt_cbor_put_cstr(scitt_cbor_writer *w, const char *s);
SCITT_API void scitt_cbor_put_array(scitt_cbor_writer *w, size_t n);
SCITT_API void scitt_cbor_put_map(scitt_cbor_writer *w, size_t n);
SCITT_API void scitt_cbor_put_tag(scitt_cbor_writer *w, uint64_t tag);
SCITT_API void scitt_cbor_put_bool(scitt_cbor_writer *w, bool v);
SCITT_API void scitt_cbor_put_null(scitt_cbor_writer *w);
/** Copies one item that already is encoded CBOR (the caller vouches for it); counts as one. */
SCITT_API void scitt_cbor_put_raw(scitt_cbor_writer *w, scitt_span raw);

/**
 * Bytes written so far, in a buffer that stays valid while the storage is unchanged. The sticky
 * error, else SCITT_ERR_TRUNCATED while an array, map, tag or byte string is still open.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cbor_writer_finish(const scitt_cbor_writer *w,
                                                            scitt_span *out);

/** Length of the shortest head for @p arg (1, 2, 3, 5 or 9). */
SCITT_API size_t scitt_cbor_head_len(uint64_t arg);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_CBOR_H */
