/*
 * CCF ledger receipts (vds 2, CCF_LEDGER_SHA256; draft-ietf-scitt-receipts-ccf-profile-04), the
 * receipts of Microsoft's Signing Transparency and Azure Code Transparency.
 *
 * A CCF tree has the RFC 9162 shape but no domain-separation prefixes: a node is
 * SHA-256(left || right). A leaf commits to three things, and only the last is ours:
 *   leaf digest = SHA-256(internal_transaction_hash || SHA-256(internal_evidence) || data_hash)
 * where data_hash = SHA-256(registered statement) (no 0x00 prefix, unlike vds 1). The proof is
 *   bstr .cbor { 1: [bstr .size 32, tstr .size (1..1024), bstr .size 32],
 *                2: [+ [left: bool, hash: bstr .size 32]] }
 * and the index is implicit in the left/right bits, so a CCF receipt proves inclusion but names
 * neither the index nor the tree size. Draft -01..-03 left out the outer hash of the leaf; -04
 * fixed it and production receipts only verify with it, so only the -04 rule is implemented.
 */
#include <string.h>

#include "cose_internal.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"

#define CCF_EVIDENCE_MAX 1024u

/* Reads the ccf-leaf array into its three parts. */
static scitt_err read_leaf(scitt_cbor_reader *r, scitt_span *ith, scitt_span *evidence,
                           scitt_span *data_hash)
{
    size_t n;
    scitt_err e = scitt_cbor_read_array(r, &n);
    if (e == SCITT_OK && n != 3) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_bytes(r, ith);
    e = e ? e : scitt_cbor_read_text(r, evidence);
    e = e ? e : scitt_cbor_read_bytes(r, data_hash);
    if (e != SCITT_OK) {
        return e;
    }
    if (ith->len != SCITT_HASH_LEN || data_hash->len != SCITT_HASH_LEN || evidence->len == 0 ||
        evidence->len > CCF_EVIDENCE_MAX) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    return SCITT_OK;
}

/* Folds the path from @p h upwards: h = left ? H(hash || h) : H(h || hash). */
static scitt_err fold_path(scitt_cbor_reader *r, uint8_t h[SCITT_HASH_LEN])
{
    size_t n;
    scitt_err e = scitt_cbor_read_array(r, &n);
    if (e == SCITT_OK && (n == 0 || n > SCITT_LIMIT_PROOF_HASHES)) {
        return SCITT_ERR_PROOF_MALFORMED; /* [+ ccf-proof-element], at most a 2^64 tree */
    }
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        size_t two;
        scitt_cbor_item left;
        scitt_span hash;
        e = scitt_cbor_read_array(r, &two);
        if (e == SCITT_OK && two != 2) {
            return SCITT_ERR_PROOF_MALFORMED;
        }
        e = e ? e : scitt_cbor_next(r, &left);
        if (e == SCITT_OK && left.type != SCITT_CBOR_TRUE && left.type != SCITT_CBOR_FALSE) {
            return SCITT_ERR_PROOF_MALFORMED;
        }
        e = e ? e : scitt_cbor_read_bytes(r, &hash);
        if (e == SCITT_OK && hash.len != SCITT_HASH_LEN) {
            return SCITT_ERR_PROOF_MALFORMED;
        }
        if (e == SCITT_OK) {
            scitt_span parts[2];
            parts[0] = left.type == SCITT_CBOR_TRUE ? hash : scitt_span_make(h, SCITT_HASH_LEN);
            parts[1] = left.type == SCITT_CBOR_TRUE ? scitt_span_make(h, SCITT_HASH_LEN) : hash;
            uint8_t next[SCITT_HASH_LEN];
            scitt_sha256_v(parts, 2, next);
            memcpy(h, next, SCITT_HASH_LEN);
        }
    }
    return e;
}

scitt_err scitt__ccf_inclusion_root(const scitt_span *entry_parts, size_t nparts, scitt_span proof,
                                    uint8_t root[SCITT_HASH_LEN], scitt_span *evidence_out)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, proof);
    size_t pairs;
    scitt_err e = scitt_cbor_read_map(&r, &pairs);
    if (e == SCITT_OK && pairs != 2) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    scitt_span ith = {NULL, 0}, evidence = {NULL, 0}, data_hash = {NULL, 0};
    uint8_t h[SCITT_HASH_LEN];
    bool have_leaf = false, have_path = false;
    for (size_t i = 0; i < pairs && e == SCITT_OK; i++) {
        uint64_t key;
        e = scitt_cbor_read_uint(&r, &key);
        if (e != SCITT_OK) {
            break;
        }
        if (key == 1 && !have_leaf && !have_path) {
            e = read_leaf(&r, &ith, &evidence, &data_hash);
            have_leaf = e == SCITT_OK;
            if (have_leaf) {
                /* data_hash must be the hash of the entry we were asked about. */
                uint8_t want[SCITT_HASH_LEN];
                scitt_sha256_v(entry_parts, nparts, want);
                if (memcmp(want, data_hash.ptr, SCITT_HASH_LEN) != 0) {
                    return SCITT_ERR_PROOF_MISMATCH;
                }
                uint8_t ev_hash[SCITT_HASH_LEN];
                scitt_sha256(evidence.ptr, evidence.len, ev_hash);
                scitt_span leaf[3] = {ith, scitt_span_make(ev_hash, SCITT_HASH_LEN), data_hash};
                scitt_sha256_v(leaf, 3, h);
            }
        } else if (key == 2 && have_leaf && !have_path) {
            /* The leaf is needed first to fold; deterministic encoding puts key 1 first. */
            e = fold_path(&r, h);
            have_path = e == SCITT_OK;
        } else {
            e = SCITT_ERR_PROOF_MALFORMED;
        }
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    if (e == SCITT_OK && (!have_leaf || !have_path)) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    if (e == SCITT_ERR_BAD_TYPE || e == SCITT_ERR_BAD_TAG) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    if (e == SCITT_OK) {
        memcpy(root, h, SCITT_HASH_LEN);
        if (evidence_out) {
            *evidence_out = evidence;
        }
    }
    return e;
}

/*
 * CCF consistency proofs (draft-ietf-scitt-receipts-ccf-profile-06, section 4):
 *   bstr .cbor { 1: anchor: bstr .size 32, 2: path: [+ [left: bool, hash: bstr .size 32]] }
 * The anchor is the root of the older tree's rightmost complete subtree (R_m itself when m is a
 * power of two). Left siblings belong to both trees, right ones to the newer tree only, so
 *   older = anchor folded with the left siblings alone, newer = anchor folded with all of them.
 * Neither size is carried. When the caller knows the older size m, the anchor must be the one the
 * draft requires: the older tree is popcount(m) complete subtrees, the anchor the last, so the path
 * holds exactly popcount(m) - 1 left siblings (a longer, non-canonical proof folds to the same
 * roots but is refused, SCITT_ERR_PROOF_MISMATCH).
 */
scitt_err scitt__ccf_consistency_roots(scitt_span proof, uint64_t old_size,
                                       uint8_t older[SCITT_HASH_LEN], uint8_t newer[SCITT_HASH_LEN])
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, proof);
    size_t pairs = 0, n = 0, lefts = 0;
    scitt_span anchor = {NULL, 0};
    uint64_t key;
    scitt_err e = scitt_cbor_read_map(&r, &pairs);
    if (e == SCITT_OK && pairs != 2) {
        e = SCITT_ERR_PROOF_MALFORMED; /* the map is closed: anchor and path, nothing else */
    }
    /* deterministic order: key 1 (the anchor) first, then key 2 (the path) */
    e = e ? e : scitt_cbor_read_uint(&r, &key);
    if (e == SCITT_OK && key != 1) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_bytes(&r, &anchor);
    if (e == SCITT_OK && anchor.len != SCITT_HASH_LEN) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_uint(&r, &key);
    if (e == SCITT_OK && key != 2) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_array(&r, &n);
    if (e == SCITT_OK && (n == 0 || n > SCITT_LIMIT_PROOF_HASHES)) {
        e = SCITT_ERR_PROOF_MALFORMED; /* [+ ccf-proof-element] */
    }
    if (e == SCITT_OK) {
        memcpy(older, anchor.ptr, SCITT_HASH_LEN);
        memcpy(newer, anchor.ptr, SCITT_HASH_LEN);
    }
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        size_t two;
        scitt_cbor_item left;
        scitt_span hash;
        e = scitt_cbor_read_array(&r, &two);
        if (e == SCITT_OK && two != 2) {
            e = SCITT_ERR_PROOF_MALFORMED;
        }
        e = e ? e : scitt_cbor_next(&r, &left);
        if (e == SCITT_OK && left.type != SCITT_CBOR_TRUE && left.type != SCITT_CBOR_FALSE) {
            e = SCITT_ERR_PROOF_MALFORMED;
        }
        e = e ? e : scitt_cbor_read_bytes(&r, &hash);
        if (e == SCITT_OK && hash.len != SCITT_HASH_LEN) {
            e = SCITT_ERR_PROOF_MALFORMED;
        }
        if (e != SCITT_OK) {
            break;
        }
        uint8_t next[SCITT_HASH_LEN];
        if (left.type == SCITT_CBOR_TRUE) {
            scitt_span o[2] = {hash, scitt_span_make(older, SCITT_HASH_LEN)};
            scitt_sha256_v(o, 2, next);
            memcpy(older, next, SCITT_HASH_LEN);
            scitt_span w[2] = {hash, scitt_span_make(newer, SCITT_HASH_LEN)};
            scitt_sha256_v(w, 2, next);
            lefts++;
        } else {
            scitt_span w[2] = {scitt_span_make(newer, SCITT_HASH_LEN), hash};
            scitt_sha256_v(w, 2, next);
        }
        memcpy(newer, next, SCITT_HASH_LEN);
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_ERR_BAD_TYPE || e == SCITT_ERR_BAD_TAG || e == SCITT_ERR_TRAILING) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    if (e == SCITT_OK && old_size != 0 && lefts + 1 != (size_t)__builtin_popcountll(old_size)) {
        e = SCITT_ERR_PROOF_MISMATCH; /* not the anchor of a tree of old_size leaves */
    }
    return e;
}
