/*
 * scitt/json.h — a strict, bounded JSON (RFC 8259) reader and a writer.
 *
 * The reader tokenises the whole text into a flat array (no recursion, depth bounded by
 * SCITT_LIMIT_JSON_DEPTH): no comments, no trailing commas, no duplicate object keys, valid UTF-8,
 * numbers in RFC 8259 grammar. Token spans point into the input text, which must outlive the
 * scitt_json.
 */
#ifndef SCITT_JSON_H
#define SCITT_JSON_H

#include "scitt/base.h"
#include "scitt/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum scitt_json_type {
    SCITT_JSON_NULL,
    SCITT_JSON_FALSE,
    SCITT_JSON_TRUE,
    SCITT_JSON_NUMBER,
    SCITT_JSON_STRING,
    SCITT_JSON_ARRAY,
    SCITT_JSON_OBJECT,
} scitt_json_type;

typedef struct scitt_json_tok {
    scitt_json_type type;
    uint32_t start; /**< byte offset of the value (strings: first byte inside the quotes) */
    uint32_t end;   /**< one past the last byte (strings: the closing quote) */
    uint32_t count; /**< arrays: elements; objects: members (a member is a key token + value) */
    uint32_t next;  /**< index of the token after this value and all its children */
} scitt_json_tok;

typedef struct scitt_json {
    const scitt_json_tok *toks; /**< owned; freed by scitt_json_clear */
    size_t ntoks;
    scitt_span text; /**< borrowed input */
} scitt_json;

/** Parses @p text (the root may be any value). On success free with scitt_json_clear. */
SCITT_API SCITT_MUST_USE scitt_err scitt_json_parse(scitt_span text, scitt_json *out);
SCITT_API void scitt_json_clear(scitt_json *j);

/** Index of the value under @p key in the object at @p obj, or -1. */
SCITT_API long scitt_json_get(const scitt_json *j, size_t obj, const char *key);
/** Index of element @p i of the array at @p arr, or -1. */
SCITT_API long scitt_json_at(const scitt_json *j, size_t arr, size_t i);
/** For iterating an object: index of member @p i's key token (its value is key + 1), or -1. */
SCITT_API long scitt_json_member(const scitt_json *j, size_t obj, size_t i);
SCITT_API scitt_json_type scitt_json_type_of(const scitt_json *j, size_t tok);

/**
 * Decodes the string token @p tok (escapes resolved, UTF-8) into @p out with a terminating NUL.
 * Strings holding U+0000 are SCITT_ERR_MALFORMED here, so the result is a safe C string.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_json_string(const scitt_json *j, size_t tok, char *out,
                                                     size_t cap, size_t *len);
/** Heap copy of a string token (free with scitt_free). */
SCITT_API SCITT_MUST_USE scitt_err scitt_json_strdup(const scitt_json *j, size_t tok, char **out);
/** True when the string token equals @p s after unescaping. */
SCITT_API bool scitt_json_str_eq(const scitt_json *j, size_t tok, const char *s);
/** An integer number token (no fraction or exponent) within int64 range. */
SCITT_API SCITT_MUST_USE scitt_err scitt_json_int(const scitt_json *j, size_t tok, int64_t *out);

/** A non-negative integer number token within uint64 range. */
SCITT_API SCITT_MUST_USE scitt_err scitt_json_u64(const scitt_json *j, size_t tok, uint64_t *out);

/*
 * The writer (common/json_write.c): the one way scittd's programs write JSON. Commas are placed
 * by the writer, nesting is tracked (at most SCITT_LIMIT_JSON_DEPTH levels) so that
 * scitt_json_writer_finish fails on an unclosed array or object, a key without its value, or a
 * value without its key; errors are sticky, so a caller checks once at the end.
 */
typedef struct scitt_json_writer {
    scitt_dynbuf *out;                      /**< appended to; must outlive the writer */
    unsigned depth;                         /**< open arrays and objects */
    uint8_t open[SCITT_LIMIT_JSON_DEPTH];   /**< '{' or '[' for each open level */
    bool comma[SCITT_LIMIT_JSON_DEPTH + 1]; /**< a value was written at this level */
    bool after_key;                         /**< a key waits for its value */
    size_t roots;                           /**< values written at the top level */
    scitt_err err;                          /**< sticky */
} scitt_json_writer;

/** Starts writing to @p out (appending after what it holds). */
SCITT_API void scitt_json_writer_init(scitt_json_writer *w, scitt_dynbuf *out);
/**
 * SCITT_OK when exactly one complete value was written; SCITT_ERR_STATE for an unclosed array or
 * object, a dangling key, a member without a key or a second top-level value; SCITT_ERR_TOO_DEEP
 * past SCITT_LIMIT_JSON_DEPTH; otherwise the output buffer's error (SCITT_ERR_NOMEM,
 * SCITT_ERR_TOO_LARGE).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_json_writer_finish(const scitt_json_writer *w);

SCITT_API void scitt_json_begin_object(scitt_json_writer *w);
SCITT_API void scitt_json_end_object(scitt_json_writer *w);
SCITT_API void scitt_json_begin_array(scitt_json_writer *w);
SCITT_API void scitt_json_end_array(scitt_json_writer *w);
/** An object member's key; the next call writes its value. */
SCITT_API void scitt_json_put_key(scitt_json_writer *w, const char *key);
/** A string from a C string (NULL writes ""). */
SCITT_API void scitt_json_put_cstr(scitt_json_writer *w, const char *s);
/** A string from bytes; when they are not valid UTF-8, each byte outside ASCII becomes U+FFFD. */
SCITT_API void scitt_json_put_text(scitt_json_writer *w, scitt_span s);
/** Lowercase hex of @p bytes as a string. */
SCITT_API void scitt_json_put_hex(scitt_json_writer *w, scitt_span bytes);
SCITT_API void scitt_json_put_int(scitt_json_writer *w, int64_t v);
SCITT_API void scitt_json_put_uint(scitt_json_writer *w, uint64_t v);
SCITT_API void scitt_json_put_bool(scitt_json_writer *w, bool v);
SCITT_API void scitt_json_put_null(scitt_json_writer *w);

/**
 * Appends @p s as a JSON string literal (quoted and escaped) to @p b, outside any writer: the
 * escaper the writer uses, for code that frames JSON itself. @p s must be valid UTF-8.
 */
SCITT_API void scitt_json_put_string(scitt_dynbuf *b, scitt_span s);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_JSON_H */
