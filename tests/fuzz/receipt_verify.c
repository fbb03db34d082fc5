/*
 * Fuzz target: receipt verification. The input is a receipt, checked as an inclusion receipt for
 * the seeds' leaf 4 and as a consistency receipt from their size-4 root, against the fixed service
 * key; then as a stored tree head (head_load on its protected header and signature).
 *
 * Invariant: a verified receipt's root re-derives from the info it reports. The target decodes
 * the receipt again on its own, folds every proof it carries with the Merkle core at the reported
 * index and sizes, and requires each to reach the reported root; then checks the service
 * signature over that root. So a verifier that stopped comparing its proofs, or reported another
 * root or size than the one it checked, is caught here.
 */
#include <string.h>

#include "cose_fuzz.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"
#include "scitt/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every proof under vdp key @p kind of a receipt that the library accepted; aborts when the
 * receipt does not have the shape an accepted receipt must have. */
static size_t proofs_of(const scitt_cose_sign1 *m, int64_t kind, scitt_span *out, size_t cap)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, m->hdr.vdp);
    size_t pairs = 0, n = 0;
    if (scitt_cbor_read_map(&r, &pairs) != SCITT_OK) {
        __builtin_trap();
    }
    for (size_t i = 0; i < pairs; i++) {
        int64_t key;
        if (scitt_cbor_read_int(&r, &key) != SCITT_OK) {
            __builtin_trap();
        }
        if (key != kind) {
            if (scitt_cbor_skip(&r, NULL) != SCITT_OK) {
                __builtin_trap();
            }
            continue;
        }
        if (scitt_cbor_read_array(&r, &n) != SCITT_OK || n == 0 || n > cap) {
            __builtin_trap();
        }
        for (size_t k = 0; k < n; k++) {
            if (scitt_cbor_read_bytes(&r, &out[k]) != SCITT_OK) {
                __builtin_trap();
            }
        }
    }
    if (n == 0) {
        __builtin_trap();
    }
    return n;
}

/* One proof [a, b, [path]] with its path copied out; aborts when it does not parse. */
static size_t read_proof(scitt_span proof, uint64_t *a, uint64_t *b, uint8_t path[][SCITT_HASH_LEN])
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, proof);
    size_t three = 0, n = 0;
    if (scitt_cbor_read_array(&r, &three) != SCITT_OK || three != 3 ||
        scitt_cbor_read_uint(&r, a) != SCITT_OK || scitt_cbor_read_uint(&r, b) != SCITT_OK ||
        scitt_cbor_read_array(&r, &n) != SCITT_OK || n > SCITT_LIMIT_PROOF_HASHES) {
        __builtin_trap();
    }
    for (size_t i = 0; i < n; i++) {
        scitt_span h;
        if (scitt_cbor_read_bytes(&r, &h) != SCITT_OK || h.len != SCITT_HASH_LEN) {
            __builtin_trap();
        }
        memcpy(path[i], h.ptr, SCITT_HASH_LEN);
    }
    return n;
}

/* The receipt's signature, checked directly over the root the verifier reported. */
static void check_signature(const scitt_cose_sign1 *m, const scitt_receipt_info *info)
{
    const scitt_cose_key *k = scitt_cose_keyset_at(fuzz_service_keys(), 0);
    if (scitt_cose_signature_verify(k, m->hdr.alg, m->protected_map, scitt_span_make(NULL, 0),
                                    scitt_span_make(info->root, SCITT_HASH_LEN),
                                    m->signature) != SCITT_OK) {
        __builtin_trap();
    }
}

static void rederive_inclusion(scitt_span in, const uint8_t leaf[SCITT_HASH_LEN],
                               const scitt_receipt_info *info)
{
    static scitt_cose_sign1 m;
    static uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    if (scitt_cose_sign1_decode(in, 0, &m) != SCITT_OK) {
        __builtin_trap();
    }
    scitt_span proofs[SCITT_LIMIT_VDP_PROOFS];
    size_t np = proofs_of(&m, SCITT_VDP_INCLUSION, proofs, SCITT_LIMIT_VDP_PROOFS);
    for (size_t i = 0; i < np; i++) {
        uint64_t tree_size, index;
        size_t n = read_proof(proofs[i], &tree_size, &index, path);
        if (tree_size != info->tree_size || index != info->leaf_index ||
            scitt_merkle_inclusion_verify(index, tree_size, leaf, (const uint8_t(*)[32])path, n,
                                          info->root) != SCITT_OK) {
            __builtin_trap();
        }
    }
    check_signature(&m, info);
}

static void rederive_consistency(scitt_span in, const uint8_t old_root[SCITT_HASH_LEN],
                                 const scitt_receipt_info *info)
{
    static scitt_cose_sign1 m;
    static uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    if (scitt_cose_sign1_decode(in, 0, &m) != SCITT_OK) {
        __builtin_trap();
    }
    scitt_span proofs[SCITT_LIMIT_VDP_PROOFS];
    size_t np = proofs_of(&m, SCITT_VDP_CONSISTENCY, proofs, SCITT_LIMIT_VDP_PROOFS);
    for (size_t i = 0; i < np; i++) {
        uint64_t old_size, new_size;
        size_t n = read_proof(proofs[i], &old_size, &new_size, path);
        if (old_size != info->old_size || new_size != info->tree_size ||
            scitt_merkle_consistency_verify(old_size, new_size, old_root, info->root,
                                            (const uint8_t(*)[32])path, n) != SCITT_OK) {
            __builtin_trap();
        }
    }
    check_signature(&m, info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t leaf[32], root4[32];
    size_t n;
    fuzz_hex(FUZZ_LEAF4, leaf, sizeof(leaf), &n);
    fuzz_hex(FUZZ_ROOT4, root4, sizeof(root4), &n);
    const scitt_cose_keyset *keys = fuzz_service_keys();
    scitt_span in = scitt_span_make(data, size);
    scitt_receipt_info info;
    if (scitt_receipt_verify_inclusion_leaf(in, leaf, keys, 0, &info) == SCITT_OK) {
        if (info.leaf_index >= info.tree_size || info.vds != 1) {
            __builtin_trap();
        }
        rederive_inclusion(in, leaf, &info);
    }
    if (scitt_receipt_verify_consistency(in, 4, root4, keys, 0, &info) == SCITT_OK) {
        if (info.old_size != 4 || info.tree_size <= 4) {
            __builtin_trap();
        }
        rederive_consistency(in, root4, &info);
    }
    fuzz_ignore(scitt_receipt_verify_inclusion(in, scitt_span_make(data, size / 2), keys, 0, NULL));
    /* The same bytes as a stored head: protected = first half, signature = second half. */
    scitt_receipt_head h;
    if (size >= 2) {
        fuzz_ignore(scitt_receipt_head_load(scitt_span_make(data, size / 2),
                                            scitt_span_make(data + size / 2, size - size / 2), leaf,
                                            NULL, &h));
    }
    return 0;
}
