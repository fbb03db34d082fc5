/*
 * Fuzz target: Merkle proof verification with attacker-chosen sizes, hashes and paths.
 * Input: mode byte (bit 0: 0 inclusion, 1 consistency), be64 a, be64 b, 32-byte h1, 32-byte h2,
 * then the path as consecutive 32-byte hashes (a partial last hash is ignored).
 */
#include <string.h>

#include "scitt/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_reader r;
    scitt_reader_init(&r, scitt_span_make(data, size));
    uint8_t mode = scitt_reader_u8(&r);
    uint64_t a = scitt_reader_be64(&r);
    uint64_t b = scitt_reader_be64(&r);
    scitt_span h1 = scitt_reader_take(&r, 32);
    scitt_span h2 = scitt_reader_take(&r, 32);
    if (r.err) {
        return 0;
    }
    size_t n = scitt_reader_left(&r) / 32;
    if (n > 80) {
        n = 80;
    }
    uint8_t path[80][32];
    memcpy(path, data + r.pos, n * 32);
    uint8_t out[32];
    scitt_err e;
    if (mode & 1) {
        e = scitt_merkle_consistency_verify(a, b, h1.ptr, h2.ptr, (const uint8_t(*)[32])path, n);
        if (e == SCITT_OK && scitt_merkle_consistency_len(a, b) != n && a != b) {
            __builtin_trap(); /* accepted a proof of the wrong length */
        }
        if (scitt_merkle_consistency_root(a, b, h1.ptr, (const uint8_t(*)[32])path, n, out) ==
                SCITT_OK &&
            scitt_merkle_consistency_verify(a, b, h1.ptr, out, (const uint8_t(*)[32])path, n) !=
                SCITT_OK) {
            __builtin_trap(); /* the computed new root must verify */
        }
    } else {
        e = scitt_merkle_inclusion_verify(a, b, h1.ptr, (const uint8_t(*)[32])path, n, h2.ptr);
        if (e == SCITT_OK && (a >= b || scitt_merkle_inclusion_len(a, b) != n)) {
            __builtin_trap();
        }
        if (scitt_merkle_inclusion_root(a, b, h1.ptr, (const uint8_t(*)[32])path, n, out) ==
            SCITT_OK) {
            /* the computed root must verify against itself */
            if (scitt_merkle_inclusion_verify(a, b, h1.ptr, (const uint8_t(*)[32])path, n, out) !=
                SCITT_OK) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
