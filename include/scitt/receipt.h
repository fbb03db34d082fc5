/*
 * scitt/receipt.h — RFC 9942 COSE Receipts (vds 1 = RFC9162_SHA256) and RFC 9943 transparent
 * statements: the registered form of a statement, issuing inclusion and consistency receipts,
 * verifying them, and embedding/extracting/verifying receipts in statements.
 *
 * The receipt profile of scittd (docs/receipts.md):
 *   protected   {1: alg, 4: kid (RFC 9679 thumbprint of the receipt key), 15: {1: iss, 2: sub,
 *                6: iat}, 395: 1, -65537: tree_size}
 *   unprotected {396: {-1: [bstr .cbor [tree_size, leaf_index, [+ bstr32]]]}}   (inclusion)
 *               {396: {-2: [bstr .cbor [old_size, tree_size, [+ bstr32]]]}}     (consistency)
 *   payload     nil (the root at tree_size is detached)
 * The signature covers `["Signature1", protected, h'', root]`, so it depends only on the tree
 * head: it is computed once per tree head (scitt_receipt_head_sign) and every receipt of that tree
 * head shares it; only the unprotected proof differs (scitt_receipt_encode_inclusion, no crypto).
 * The tree size is signed (private-use label -65537) because RFC 9162 paths do not commit to the
 * size; verifiers here check it equals the proof's size when the label is present. Receipts issued
 * before carried it under the text label "tree_size", which verifiers here still read. Ed25519
 * receipt keys sign under alg -19 (RFC 9864); -8 (EdDSA) is accepted when verifying.
 */
#ifndef SCITT_RECEIPT_H
#define SCITT_RECEIPT_H

#include "scitt/base.h"
#include "scitt/cbor.h"
#include "scitt/cose.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Verifiable data structures (COSE VDS registry) and proof types (VDP). */
#define SCITT_VDS_RFC9162_SHA256    1
/** CCF_LEDGER_SHA256 (draft-ietf-scitt-receipts-ccf-profile, requested value 2): inclusion only. */
#define SCITT_VDS_CCF_LEDGER_SHA256 2
#define SCITT_VDP_INCLUSION         (-1)
#define SCITT_VDP_CONSISTENCY       (-2)

/**
 * The label of the signed tree size in scittd receipts' protected header: an integer in COSE's
 * private-use range (RFC 9052 §11: labels below -65536), so no verifier mistakes it for a
 * registered parameter and every verifier that does not know it ignores it.
 */
#define SCITT_RECEIPT_HDR_TREE_SIZE   (-65537)
/** The text label receipts issued before carried the signed size under; still read. */
#define SCITT_RECEIPT_LABEL_TREE_SIZE "tree_size"

/** Room for the largest receipt protected header scitt_receipt_head_sign writes. */
#define SCITT_RECEIPT_PROTECTED_MAX (2 * SCITT_LIMIT_RECEIPT_NAME + 384)

/* ------------------------------------------------------------------------------------------ */
/* The registered form (what the log stores) and its leaf                                      */

/**
 * Bytes of the registered form of @p m: `d2 84 <protected item> a0 <payload item> <signature
 * item>`, each item exactly as received. Works for tagged and untagged input (the form is always
 * tagged).
 */
SCITT_API size_t scitt_receipt_entry_len(const scitt_cose_sign1 *m);
/** Writes the registered form (a byte splice, never a re-encode). */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_entry(const scitt_cose_sign1 *m,
                                                       scitt_cbor_writer *out);
/** scitt_merkle_leaf_hash of the registered form, hashed in pieces without building it. */
SCITT_API void scitt_receipt_leaf_hash(const scitt_cose_sign1 *m, uint8_t out[SCITT_HASH_LEN]);
/** SHA-256 of the registered form (the entry ID is its lowercase hex). */
SCITT_API void scitt_receipt_entry_digest(const scitt_cose_sign1 *m, uint8_t out[SCITT_SHA256_LEN]);

/* ------------------------------------------------------------------------------------------ */
/* Issuing receipts                                                                            */

/**
 * A signed tree head for receipts. Plain data (copy by assignment, store the two byte arrays to
 * rebuild it with scitt_receipt_head_load).
 */
typedef struct scitt_receipt_head {
    int64_t alg;
    uint64_t tree_size;
    int64_t iat;
    uint8_t root[SCITT_HASH_LEN];
    uint8_t protected_map[SCITT_RECEIPT_PROTECTED_MAX]; /**< the encoded protected header map */
    size_t protected_len;
    uint8_t signature[SCITT_COSE_SIG_MAX];
    size_t signature_len;
} scitt_receipt_head;

/**
 * Builds the protected header for (@p iss, @p sub, @p iat, @p tree_size) with @p key's algorithm
 * and kid, and signs `["Signature1", protected, h'', root]` once. @p iss and @p sub are text of
 * 1..SCITT_LIMIT_RECEIPT_NAME bytes (SCITT_ERR_TOO_LARGE / SCITT_ERR_INVALID_ARG).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_head_sign(const scitt_cose_key *key,
                                                           scitt_span iss, scitt_span sub,
                                                           int64_t iat, uint64_t tree_size,
                                                           const uint8_t root[SCITT_HASH_LEN],
                                                           scitt_receipt_head *out);

/**
 * Rebuilds a head from a stored protected header and signature (no crypto): parses alg, iat and
 * the signed tree size from @p protected_map. Pass @p key to re-verify the signature over @p root
 * (NULL skips that, for state that is already trusted).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_head_load(scitt_span protected_map,
                                                           scitt_span signature,
                                                           const uint8_t root[SCITT_HASH_LEN],
                                                           const scitt_cose_key *key,
                                                           scitt_receipt_head *out);

/**
 * Writes the inclusion receipt for leaf @p index of the head's tree from @p path (leaf sibling
 * first). No crypto: the head's signature is reused. SCITT_ERR_PROOF_MALFORMED when @p index is
 * outside the tree or @p n is not the path length RFC 9162 implies; SCITT_ERR_NOT_FOUND for a
 * one-leaf tree, whose only RFC 9162 path is empty while RFC 9942 requires `[+ bstr]` (no receipt
 * is issued over a one-leaf tree: docs/receipts.md).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_encode_inclusion(
    const scitt_receipt_head *head, uint64_t index, const uint8_t path[][SCITT_HASH_LEN], size_t n,
    scitt_cbor_writer *out);

/**
 * Writes the consistency receipt from @p old_size to the head's tree size (RFC 9162 PROOF, old
 * root omitted when old_size is a power of two, as RFC 9162 says). No crypto.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_encode_consistency(
    const scitt_receipt_head *head, uint64_t old_size, const uint8_t path[][SCITT_HASH_LEN],
    size_t n, scitt_cbor_writer *out);

/* ------------------------------------------------------------------------------------------ */
/* Verifying receipts                                                                          */

/** Verification flags. */
#define SCITT_RECEIPT_REQUIRE_SUB  (1u << 0) /**< CWT claims must hold iss and sub (RFC 9943) */
#define SCITT_RECEIPT_REQUIRE_SIZE (1u << 1) /**< the signed tree size must be present */
#define SCITT_TS_ANY               (1u << 4) /**< transparent statement: one good receipt suffices */

/** What a verified receipt says. Spans point into the receipt bytes. */
typedef struct scitt_receipt_info {
    int64_t vds;
    int64_t alg;
    scitt_span kid;
    scitt_span iss; /**< empty when absent */
    scitt_span sub; /**< empty when absent */
    bool has_iat;
    int64_t iat;
    uint64_t tree_size;           /**< inclusion: the proof's size; consistency: the new size */
    uint64_t leaf_index;          /**< inclusion */
    uint64_t old_size;            /**< consistency */
    bool size_signed;             /**< a protected tree size label was present (and matched) */
    uint8_t root[SCITT_HASH_LEN]; /**< the root the proof leads to, which the signature covers */
} scitt_receipt_info;

/**
 * Verifies an inclusion receipt for @p entry (the registered form of the statement), RFC 9942
 * order: decode (tag 18 required), check alg/vds/crit, run every proof of the -1 array to its
 * root (all must agree), compare an attached payload with that root, check the signed
 * tree size, pick the key by kid from @p keys and verify the signature over the root.
 * Dispatches on vds through a table: 1 = RFC9162_SHA256; 2 = CCF_LEDGER_SHA256 (Azure Code
 * Transparency: leaf SHA-256(ith || SHA-256(evidence) || SHA-256(entry)), unprefixed nodes, left/
 * right path, nil payload required; its proofs carry no index or size, so info->leaf_index and
 * info->tree_size are 0). @p info (may be NULL) is filled on success. Errors: malformed input 1xx,
 * SCITT_ERR_PROOF_MISMATCH / SCITT_ERR_SIGNATURE / SCITT_ERR_UNTRUSTED (no key for the kid) for
 * well-formed receipts that do not verify.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_verify_inclusion(scitt_span receipt,
                                                                  scitt_span entry,
                                                                  const scitt_cose_keyset *keys,
                                                                  unsigned flags,
                                                                  scitt_receipt_info *info);

/**
 * As scitt_receipt_verify_inclusion for vds 1 when only the leaf hash is at hand (vds 2 needs the
 * entry: SCITT_ERR_UNSUPPORTED).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_verify_inclusion_leaf(
    scitt_span receipt, const uint8_t leaf[SCITT_HASH_LEN], const scitt_cose_keyset *keys,
    unsigned flags, scitt_receipt_info *info);

/**
 * Verifies a consistency receipt against the trusted root @p old_root of size @p old_size: the
 * proof must start from @p old_size and reproduce @p old_root; the new root it commits to is what
 * the signature must cover (an attached payload is compared with it, never trusted).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_verify_consistency(
    scitt_span receipt, uint64_t old_size, const uint8_t old_root[SCITT_HASH_LEN],
    const scitt_cose_keyset *keys, unsigned flags, scitt_receipt_info *info);

/* ------------------------------------------------------------------------------------------ */
/* Transparent statements                                                                      */

/**
 * Writes @p statement with the receipts (each an encoded tagged receipt) at unprotected label 394
 * as `[+ bstr]`, replacing any receipts it had and keeping its other unprotected parameters
 * (written in deterministic key order). Protected header, payload and signature are copied as
 * received, so the issuer signature still verifies.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_embed(scitt_span statement,
                                                       const scitt_span *receipts, size_t n,
                                                       scitt_cbor_writer *out);

/**
 * Decodes the transparent statement @p ts (tag 18) and copies out the spans of its receipts (the
 * contents of each bstr at 394, in order; they point into @p ts). *n is 0 when it carries none.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_extract(scitt_span ts,
                                                         scitt_span out[SCITT_LIMIT_RECEIPTS],
                                                         size_t *n);

/** Per-receipt outcome of scitt_receipt_verify_transparent. */
typedef struct scitt_ts_result {
    size_t nreceipts;
    size_t nverified;
    scitt_err err[SCITT_LIMIT_RECEIPTS];
    scitt_receipt_info info[SCITT_LIMIT_RECEIPTS];
} scitt_ts_result;

/**
 * Verifies a transparent statement: decodes it (tag 18), rebuilds the registered form and checks
 * every receipt at 394 against @p service_keys (looked up by kid). Succeeds when every receipt
 * verifies, or with SCITT_TS_ANY when at least one does; otherwise returns the first failure.
 * The issuer signature is not checked here (scitt_cose_sign1_verify does that). @p res (may be
 * NULL) gets per-receipt results; its spans point into @p ts.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_verify_transparent(
    scitt_span ts, const scitt_cose_keyset *service_keys, unsigned flags, scitt_ts_result *res);

/**
 * The same for a transparent statement already decoded into @p m (scitt_cose_sign1_decode), so
 * that a verifier checking the issuer signature too decodes it once. Spans in @p res point into
 * the bytes @p m was decoded from.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_verify_transparent_msg(
    const scitt_cose_sign1 *m, const scitt_cose_keyset *service_keys, unsigned flags,
    scitt_ts_result *res);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_RECEIPT_H */
