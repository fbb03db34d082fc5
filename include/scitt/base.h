/*
 * scitt/base.h — the basics every scittd module shares: the error type, byte spans, bounded
 * reader and writer cursors, constant-time compare, allocation hooks and text encodings.
 *
 * Ownership conventions used across all public headers:
 *  - scitt_span is borrowed: it never owns what it points to. Every function returning one says
 *    what it points into and how long that stays valid.
 *  - scitt_dynbuf is a growing heap buffer its holder owns; moving it (scitt_dynbuf_steal) moves
 *    the ownership of its bytes.
 *  - `_init/_clear` work on caller storage, `_new/_free` on heap objects; `_free(NULL)` is a no-op.
 */
#ifndef SCITT_BASE_H
#define SCITT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SCITT_MUST_USE __attribute__((warn_unused_result))
#else
#define SCITT_MUST_USE
#endif

/*
 * SCITT_API marks what the shared libraries export: the libraries are compiled with
 * -fvisibility=hidden, so a function without it (the scitt__ internals, the helpers one module
 * lends another) stays inside the library. Every function a public header declares carries it;
 * tests/unit/libscitt checks both directions on the built libscitt.so and libscitt-client.so.
 */
#if defined(__GNUC__) || defined(__clang__)
#define SCITT_API __attribute__((visibility("default")))
#else
#define SCITT_API
#endif

/**
 * The one list of errors, X(NAME, NUMBER, CLASS, TEXT): the enum, scitt_err_name(),
 * scitt_err_str() and scitt_err_class() are all made from it, so they cannot drift apart.
 * Numbers never change; new codes are appended inside their range:
 *   0        success
 *   1..99    caller misuse
 *   100..199 malformed or hostile input
 *   200..299 verification failed (well-formed input that does not check out)
 *   300..399 environment, I/O and resources
 *   400..499 integrity failure of our own stored state
 * CLASS (SCITT_ERRCLASS_<CLASS>) says who is to blame, and so what a server answers.
 */
#define SCITT_ERROR_LIST(X)                                                                        \
    X(SCITT_OK, 0, NONE, "success")                                                                \
    X(SCITT_ERR_INVALID_ARG, 1, MISUSE, "invalid argument")                                        \
    X(SCITT_ERR_BUFFER_TOO_SMALL, 2, MISUSE, "output buffer too small")                            \
    X(SCITT_ERR_NOMEM, 3, RESOURCE, "out of memory")                                               \
    X(SCITT_ERR_UNSUPPORTED, 4, INPUT, "not supported")                                            \
    X(SCITT_ERR_STATE, 5, MISUSE, "operation not allowed in the current state")                    \
    X(SCITT_ERR_MALFORMED, 100, INPUT, "malformed input")                                          \
    X(SCITT_ERR_TRUNCATED, 101, INPUT, "input truncated")                                          \
    X(SCITT_ERR_TRAILING, 102, INPUT, "trailing bytes after the item")                             \
    X(SCITT_ERR_NON_CANONICAL, 103, INPUT, "CBOR head not in shortest form")                       \
    X(SCITT_ERR_INDEFINITE, 104, INPUT, "indefinite-length CBOR item")                             \
    X(SCITT_ERR_DUPLICATE_KEY, 105, INPUT, "duplicate map key or header label")                    \
    X(SCITT_ERR_TOO_DEEP, 106, INPUT, "nesting too deep")                                          \
    X(SCITT_ERR_TOO_LARGE, 107, INPUT, "size or count over its limit")                             \
    X(SCITT_ERR_BAD_TAG, 108, INPUT, "CBOR tag not allowed here")                                  \
    X(SCITT_ERR_BAD_TYPE, 109, INPUT, "CBOR item of the wrong type")                               \
    X(SCITT_ERR_PROOF_MALFORMED, 110, INPUT, "proof has the wrong shape for its sizes")            \
    X(SCITT_ERR_HEADER, 111, INPUT, "COSE header missing, misplaced or of the wrong type")         \
    X(SCITT_ERR_ALG, 112, INPUT, "algorithm unknown, unsupported or not matching the key")         \
    X(SCITT_ERR_CRIT, 113, INPUT, "critical header label not understood")                          \
    X(SCITT_ERR_KEY_MALFORMED, 114, INPUT, "key does not parse")                                   \
    X(SCITT_ERR_UTF8, 115, INPUT, "text is not valid UTF-8")                                       \
    X(SCITT_ERR_CERT_MALFORMED, 116, INPUT, "certificate does not parse")                          \
    X(SCITT_ERR_JSON, 117, INPUT, "JSON does not parse")                                           \
    X(SCITT_ERR_RANGE, 118, INPUT, "number out of range")                                          \
    X(SCITT_ERR_BAD_SIMPLE, 119, INPUT, "CBOR simple value or float not allowed here")             \
    X(SCITT_ERR_PAYLOAD_MISSING, 120, INPUT, "detached payload not supplied")                      \
    X(SCITT_ERR_DID_MALFORMED, 121, INPUT, "did:x509 does not parse")                              \
    X(SCITT_ERR_NOTE_MALFORMED, 122, INPUT, "signed note does not parse")                          \
    X(SCITT_ERR_EVIDENCE_MALFORMED, 123, INPUT, "TEE evidence does not parse")                     \
    X(SCITT_ERR_SIGNATURE, 200, INPUT, "signature does not verify")                                \
    X(SCITT_ERR_PROOF_MISMATCH, 201, INPUT, "proof does not lead to the expected root")            \
    X(SCITT_ERR_CONSISTENCY, 202, INPUT, "tree heads are not consistent")                          \
    X(SCITT_ERR_KEY_MISMATCH, 203, INPUT, "key does not match")                                    \
    X(SCITT_ERR_CERT_CHAIN, 204, INPUT, "certificate path validation failed")                      \
    X(SCITT_ERR_UNTRUSTED, 205, INPUT, "no trusted key or root")                                   \
    X(SCITT_ERR_POLICY, 206, INPUT, "rejected by policy")                                          \
    X(SCITT_ERR_DID_MISMATCH, 207, INPUT, "did:x509 does not match the certificate chain")         \
    X(SCITT_ERR_EXPIRED, 208, INPUT, "outside the validity period")                                \
    X(SCITT_ERR_EVIDENCE, 209, INPUT, "TEE evidence does not verify")                              \
    X(SCITT_ERR_INSECURE, 210, INPUT, "insecure virtual evidence not allowed")                     \
    X(SCITT_ERR_BINDING, 211, INPUT, "evidence does not bind the expected key")                    \
    X(SCITT_ERR_IO, 300, RESOURCE, "I/O error")                                                    \
    X(SCITT_ERR_NOT_FOUND, 301, INPUT, "not found")                                                \
    X(SCITT_ERR_MAP_FULL, 302, RESOURCE, "storage map full")                                       \
    X(SCITT_ERR_CRYPTO, 303, INTERNAL, "crypto library failure")                                   \
    X(SCITT_ERR_BUSY, 304, RESOURCE, "busy, try again later")                                      \
    X(SCITT_ERR_NO_SPACE, 305, RESOURCE, "no space left on device")                                \
    X(SCITT_ERR_TIMEOUT, 306, RESOURCE, "timed out")                                               \
    X(SCITT_ERR_NO_TEE, 307, RESOURCE, "no TEE available")                                         \
    X(SCITT_ERR_CLOSED, 308, RESOURCE, "shutting down")                                            \
    X(SCITT_ERR_INTEGRITY, 400, INTERNAL, "stored state contradicts its signed tree head")         \
    X(SCITT_ERR_CORRUPT, 401, INTERNAL, "stored value fails validation")

/** The one error type (see SCITT_ERROR_LIST). */
typedef enum scitt_err {
#define SCITT__ERR_ENUM(name, number, cls, text) name = number,
    SCITT_ERROR_LIST(SCITT__ERR_ENUM)
#undef SCITT__ERR_ENUM
} scitt_err;

/** Who is to blame for an error, and so what a service answers for it. */
typedef enum scitt_errclass {
    SCITT_ERRCLASS_NONE = 0,     /**< SCITT_OK */
    SCITT_ERRCLASS_MISUSE = 1,   /**< the calling code broke an API contract: a bug (500) */
    SCITT_ERRCLASS_INPUT = 2,    /**< the input is malformed, refused or does not verify (4xx) */
    SCITT_ERRCLASS_RESOURCE = 3, /**< memory, disk, I/O, time or a busy service: retry (503) */
    SCITT_ERRCLASS_INTERNAL = 4, /**< a library or our own stored state failed (500) */
} scitt_errclass;

/** A short English description of @p err; never NULL (unknown codes get a generic text). */
SCITT_API const char *scitt_err_str(scitt_err err);

/** The symbolic name of @p err ("SCITT_ERR_MALFORMED"); never NULL. */
SCITT_API const char *scitt_err_name(scitt_err err);

/** The class of @p err; an unknown code is SCITT_ERRCLASS_INTERNAL. */
SCITT_API scitt_errclass scitt_err_class(scitt_err err);

/** Borrowed bytes: never owns `ptr`. */
typedef struct scitt_span {
    const uint8_t *ptr;
    size_t len;
} scitt_span;

static inline scitt_span scitt_span_make(const void *ptr, size_t len)
{
    scitt_span s = {(const uint8_t *)ptr, len};
    return s;
}

/** A span over the NUL-terminated string @p s (without the NUL). */
SCITT_API scitt_span scitt_span_str(const char *s);

/** True when both spans have the same length and bytes (not constant-time). */
SCITT_API bool scitt_span_eq(scitt_span a, scitt_span b);

/** True when @p a equals the NUL-terminated string @p s (not constant-time). */
SCITT_API bool scitt_span_eq_str(scitt_span a, const char *s);

/**
 * Constant-time equality of two equal-length secrets: the time depends on @p len only.
 * Use for tokens, MACs and keys. Returns true when equal.
 */
SCITT_API bool scitt_ct_equal(const void *a, const void *b, size_t len);

/** Overwrites @p len bytes at @p p with zeros in a way the compiler cannot drop. */
SCITT_API void scitt_wipe(void *p, size_t len);

/*
 * Allocation hooks. Every heap allocation in the libraries goes through these, so an embedder
 * can route them (and tests can inject failures). Defaults are malloc/realloc/free.
 */
typedef struct scitt_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} scitt_allocator;

/** Installs @p a (NULL restores the defaults). Not thread-safe: call before any other use. */
SCITT_API void scitt_set_allocator(const scitt_allocator *a);
SCITT_API void *scitt_malloc(size_t size);
SCITT_API void *scitt_calloc(size_t n, size_t size);
SCITT_API void *scitt_realloc(void *ptr, size_t size);
SCITT_API void scitt_free(void *ptr);

/**
 * Reader cursor over borrowed bytes with a sticky error: once a read fails every later read is a
 * no-op, so a parser checks `r->err` once at the end. Reads never go past `len`.
 */
typedef struct scitt_reader {
    const uint8_t *ptr;
    size_t len;
    size_t pos;
    scitt_err err;
} scitt_reader;

SCITT_API void scitt_reader_init(scitt_reader *r, scitt_span in);
/** Bytes not yet read. */
SCITT_API size_t scitt_reader_left(const scitt_reader *r);
/** Takes @p n bytes; returns a span into the input (valid while the input is), or an empty span. */
SCITT_API scitt_span scitt_reader_take(scitt_reader *r, size_t n);
SCITT_API uint8_t scitt_reader_u8(scitt_reader *r);
SCITT_API uint16_t scitt_reader_be16(scitt_reader *r);
SCITT_API uint32_t scitt_reader_be32(scitt_reader *r);
SCITT_API uint64_t scitt_reader_be64(scitt_reader *r);
SCITT_API uint16_t scitt_reader_le16(scitt_reader *r);
SCITT_API uint32_t scitt_reader_le32(scitt_reader *r);
SCITT_API uint64_t scitt_reader_le64(scitt_reader *r);
/** SCITT_ERR_TRAILING when bytes remain, else the sticky error. */
SCITT_API SCITT_MUST_USE scitt_err scitt_reader_finish(const scitt_reader *r);

/**
 * Writer cursor over caller storage with a sticky error. It never writes past `cap`; on overflow
 * it keeps counting in `need` so the caller can learn the size it would have needed.
 */
typedef struct scitt_writer {
    uint8_t *ptr;
    size_t cap;
    size_t len;
    size_t need;
    scitt_err err;
} scitt_writer;

SCITT_API void scitt_writer_init(scitt_writer *w, uint8_t *storage, size_t cap);
SCITT_API void scitt_writer_put(scitt_writer *w, const void *data, size_t n);
SCITT_API void scitt_writer_u8(scitt_writer *w, uint8_t v);
SCITT_API void scitt_writer_be16(scitt_writer *w, uint16_t v);
SCITT_API void scitt_writer_be32(scitt_writer *w, uint32_t v);
SCITT_API void scitt_writer_be64(scitt_writer *w, uint64_t v);
SCITT_API void scitt_writer_str(scitt_writer *w, const char *s);
/** The bytes written so far (valid while the storage is); SCITT_ERR_BUFFER_TOO_SMALL on overflow.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_writer_finish(const scitt_writer *w, scitt_span *out);

/**
 * A growable heap byte buffer with a hard ceiling (`max`, 0 = SCITT_LIMIT_DYNBUF_MAX).
 * Owns `ptr`; release with scitt_dynbuf_clear. Errors are sticky like the cursors'.
 */
typedef struct scitt_dynbuf {
    uint8_t *ptr;
    size_t len;
    size_t cap;
    size_t max;
    scitt_err err;
} scitt_dynbuf;

SCITT_API void scitt_dynbuf_init(scitt_dynbuf *b, size_t max);
SCITT_API void scitt_dynbuf_clear(scitt_dynbuf *b);
SCITT_API void scitt_dynbuf_put(scitt_dynbuf *b, const void *data, size_t n);
SCITT_API void scitt_dynbuf_u8(scitt_dynbuf *b, uint8_t v);
SCITT_API void scitt_dynbuf_str(scitt_dynbuf *b, const char *s);
/** Appends printf-formatted text. */
SCITT_API void scitt_dynbuf_printf(scitt_dynbuf *b, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Reserves @p n bytes at the end and returns them (NULL on error); the caller fills them. */
SCITT_API uint8_t *scitt_dynbuf_reserve(scitt_dynbuf *b, size_t n);
/** Hands the buffer to the caller (free with scitt_free) and resets @p b. */
SCITT_API uint8_t *scitt_dynbuf_steal(scitt_dynbuf *b, size_t *len);

/*
 * Text encodings. Encoders write a NUL-terminated string into @p out of size @p cap and return
 * SCITT_ERR_BUFFER_TOO_SMALL when it does not fit. Decoders are strict: wrong alphabet, wrong
 * padding or non-zero trailing bits are SCITT_ERR_MALFORMED.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_hex_encode(scitt_span in, char *out, size_t cap);
/** Accepts upper and lower case; *out_len receives the byte count. */
SCITT_API SCITT_MUST_USE scitt_err scitt_hex_decode(scitt_span text, uint8_t *out, size_t cap,
                                                    size_t *out_len);
/** RFC 4648 §4 standard alphabet with padding. */
SCITT_API SCITT_MUST_USE scitt_err scitt_base64_encode(scitt_span in, char *out, size_t cap);
SCITT_API SCITT_MUST_USE scitt_err scitt_base64_decode(scitt_span text, uint8_t *out, size_t cap,
                                                       size_t *out_len);
/** RFC 4648 §5 URL-safe alphabet without padding (padding is rejected when decoding). */
SCITT_API SCITT_MUST_USE scitt_err scitt_base64url_encode(scitt_span in, char *out, size_t cap);
SCITT_API SCITT_MUST_USE scitt_err scitt_base64url_decode(scitt_span text, uint8_t *out, size_t cap,
                                                          size_t *out_len);
/** Output sizes including the NUL. */
#define SCITT_HEX_LEN(n)       ((n)*2 + 1)
#define SCITT_BASE64_LEN(n)    ((((n) + 2) / 3) * 4 + 1)
#define SCITT_BASE64URL_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/** True when @p s is valid UTF-8 (RFC 3629: no overlongs, no surrogates, max U+10FFFF). */
SCITT_API bool scitt_utf8_valid(scitt_span s);

/** Days from 1970-01-01 to @p y - @p m - @p d in the proleptic Gregorian calendar (negative
 *  before 1970); @p m 1..12 and @p d 1..31 are the caller's to check. */
SCITT_API int64_t scitt_days_from_civil(int64_t y, unsigned m, unsigned d);

/** Strict RFC 3339 in UTC with whole seconds, exactly "YYYY-MM-DDTHH:MM:SSZ", as Unix seconds
 *  (negative before 1970). SCITT_ERR_MALFORMED for any other form, a field out of range or a day
 *  its month does not have. */
SCITT_API SCITT_MUST_USE scitt_err scitt_utc_parse(scitt_span text, int64_t *out);
/**
 * True when @p s is non-empty UTF-8 with no control character but tab, CR and LF: a text file,
 * which no CBOR item of a statement, receipt or bundle can be (their first byte is a control).
 */
SCITT_API bool scitt_text_plain(scitt_span s);

/*
 * SHA-2 digests through OpenSSL, without allocation per call (a per-thread context is reused).
 * Output sizes: SHA-256 32 bytes, SHA-384 48, SHA-512 64.
 */
#define SCITT_SHA256_LEN 32
#define SCITT_SHA384_LEN 48
#define SCITT_SHA512_LEN 64
SCITT_API void scitt_sha256(const void *data, size_t len, uint8_t out[SCITT_SHA256_LEN]);
/** SHA-256 over the concatenation of @p n spans. */
SCITT_API void scitt_sha256_v(const scitt_span *parts, size_t n, uint8_t out[SCITT_SHA256_LEN]);
SCITT_API void scitt_sha384(const void *data, size_t len, uint8_t out[SCITT_SHA384_LEN]);
SCITT_API void scitt_sha512(const void *data, size_t len, uint8_t out[SCITT_SHA512_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_BASE_H */
