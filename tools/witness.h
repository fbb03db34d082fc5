/*
 * tools/witness.h — the pieces of `scitt witness` that read untrusted bytes, kept apart so unit
 * tests and fuzz targets link them alone: the request head of the witness's small HTTP/1.1
 * server (the witness key file is scitt/cosigner.h's). Internal to tools/.
 */
#ifndef SCITT_TOOLS_WITNESS_H
#define SCITT_TOOLS_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"
#include "scitt/note.h"

/** Longest request head (request line and headers) the witness reads: 8 KiB. */
#define WITNESS_HEAD_MAX 8192u

typedef enum wh_method { WH_GET = 1, WH_POST, WH_OTHER } wh_method;

typedef struct wh_request {
    wh_method method;
    scitt_span path; /**< the request target, query included */
    bool has_length; /**< a Content-Length header was present */
    uint64_t length; /**< its value */
    size_t head_len; /**< bytes of the head, the final CRLF CRLF included */
} wh_request;

/**
 * Parses a request head at the start of @p in: "METHOD SP target SP HTTP/1.x CRLF", header lines
 * "name: value CRLF", a blank CRLF. SCITT_ERR_TRUNCATED while no blank line has arrived within
 * WITNESS_HEAD_MAX bytes (SCITT_ERR_TOO_LARGE past it); SCITT_ERR_MALFORMED for a bad request
 * line or header line, a Transfer-Encoding header (not supported), two Content-Length headers or
 * a bad value; SCITT_OK with @p out filled.
 */
scitt_err wh_parse_head(scitt_span in, wh_request *out);

#endif /* SCITT_TOOLS_WITNESS_H */

/**
 * Reads the proof out of a log's consistency receipt (COSE_Sign1, unprotected 396 {-2: [bstr .cbor
 * [old_size, tree_size, [+ bstr32]]]}) without checking its signature: the witness checks the
 * proof itself. The sizes must be @p old_size and @p new_size; at most SCITT_WITNESS_PROOF_MAX
 * hashes. SCITT_ERR_PROOF_MALFORMED (or a CBOR error) otherwise.
 */
scitt_err witness_receipt_proof(scitt_span receipt, uint64_t old_size, uint64_t new_size,
                                uint8_t path[][32], size_t *n);
