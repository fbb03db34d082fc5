/*
 * scitt/signer.h — a COSE signing key behind an interface: whoever holds the private key (this
 * process's memory, or a PKCS#11 token the key never leaves) signs the to-be-signed bytes, and
 * the library does the rest (Sig_structure, COSE_Sign1, receipt tree heads). The public key names
 * the algorithm and the kid and checks every signature an outside signer returns.
 */
#ifndef SCITT_SIGNER_H
#define SCITT_SIGNER_H

#include "scitt/base.h"
#include "scitt/cbor.h"
#include "scitt/cose.h"
#include "scitt/receipt.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Signs @p tbs (the encoded Sig_structure, `["Signature1", bstr(protected), bstr(aad),
 * bstr(payload)]`) under @p alg into @p sig: ECDSA as raw r||s, EdDSA as 64 bytes. Called by one
 * thread at a time per signer unless the implementation says otherwise.
 */
typedef scitt_err (*scitt_cose_sign_fn)(void *ctx, int64_t alg, scitt_span tbs, uint8_t *sig,
                                        size_t cap, size_t *sig_len);

typedef struct scitt_cose_signer {
    scitt_cose_sign_fn sign;
    void *ctx;
    /** The public key: its alg and kid go into the headers, and it verifies each signature an
     * outside signer makes before the signature is used. Borrowed. */
    const scitt_cose_key *pub;
} scitt_cose_signer;

/** The in-memory implementation: @p key (private, borrowed) signs. */
SCITT_API void scitt_cose_signer_from_key(const scitt_cose_key *key, scitt_cose_signer *out);

/** Is @p s the in-memory implementation? */
SCITT_API bool scitt_cose_signer_is_key(const scitt_cose_signer *s);

/**
 * scitt_cose_signature_create through @p s: @p alg must be allowed for the public key
 * (SCITT_ERR_ALG); a signature from an outside signer that does not verify with the public key
 * is SCITT_ERR_SIGNATURE.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_signer_signature(
    const scitt_cose_signer *s, int64_t alg, scitt_span protected_map, scitt_span aad,
    scitt_span payload, uint8_t *sig, size_t cap, size_t *sig_len);

/** scitt_cose_sign1_sign through @p s. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_signer_sign1(const scitt_cose_signer *s,
                                                           scitt_span protected_map,
                                                           scitt_span unprotected_map,
                                                           scitt_span payload, scitt_span aad,
                                                           unsigned flags, scitt_cbor_writer *out);

/** scitt_receipt_head_sign through @p s (alg and kid from its public key). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_signer_receipt_head(
    const scitt_cose_signer *s, scitt_span iss, scitt_span sub, int64_t iat, uint64_t tree_size,
    const uint8_t root[SCITT_HASH_LEN], scitt_receipt_head *out);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_SIGNER_H */
