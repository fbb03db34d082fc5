/*
 * Fuzz target: the witness server's request head parser and its key file parser. A head that
 * parses lies within the input and WITNESS_HEAD_MAX and ends in CRLF CRLF; its path lies inside
 * it; a key file that parses formats back to the same key; a consistency receipt's proof read
 * for sizes 3 -> 7 holds at most 63 hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "scitt/cosigner.h"
#include "scitt/witness.h"
#include "witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    wh_request r;
    scitt_err e = wh_parse_head(in, &r);
    if (e == SCITT_OK) {
        if (r.head_len < 4 || r.head_len > size || r.head_len > WITNESS_HEAD_MAX ||
            memcmp(data + r.head_len - 4, "\r\n\r\n", 4) != 0 || r.path.len == 0 ||
            r.path.ptr < data || r.path.ptr + r.path.len > data + r.head_len ||
            r.path.ptr[0] != '/') {
            __builtin_trap();
        }
    } else if (e == SCITT_ERR_TOO_LARGE && size < WITNESS_HEAD_MAX) {
        __builtin_trap();
    }
    char name[SCITT_NOTE_NAME_MAX + 1];
    uint8_t seed[32];
    if (scitt_cosigner_key_parse(in, name, seed) == SCITT_OK) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, SCITT_COSIGNER_KEY_FILE_MAX);
        char name2[SCITT_NOTE_NAME_MAX + 1];
        uint8_t seed2[32];
        if (scitt_cosigner_key_format(name, seed, &b) != SCITT_OK ||
            scitt_cosigner_key_parse(scitt_span_make(b.ptr, b.len), name2, seed2) != SCITT_OK ||
            strcmp(name, name2) != 0 || memcmp(seed, seed2, 32) != 0) {
            __builtin_trap();
        }
        scitt_dynbuf_clear(&b);
    }
    /* a log's consistency receipt: the sizes asked for, at most 63 hashes */
    uint8_t(*path)[32] = malloc(SCITT_WITNESS_PROOF_MAX * 32);
    size_t n = 99;
    if (path != NULL && witness_receipt_proof(in, 3, 7, path, &n) == SCITT_OK &&
        n > SCITT_WITNESS_PROOF_MAX) {
        __builtin_trap();
    }
    free(path);
    return 0;
}
