/*
 * scitt/keyrel.h — attested key release: an instance that starts without the service keys
 * obtains them from a running holder after proving, with TEE evidence, which code it runs
 * (docs/tee.md, "Key release"). Part of libscitt: encoding, parsing, verification and the
 * encryption of the keys; the HTTP exchange is the daemon's (server/keyrel.c).
 *
 * The exchange:
 *   1. the joiner asks the holder for a challenge (32 random bytes, single use, short-lived);
 *   2. it makes a fresh P-256 key pair and the *join request* document, the deterministic CBOR
 *      map {1: "scittd-key-join-v1", 2: challenge (bstr .size 32), 3: public key (bstr .size 65,
 *      the uncompressed SEC1 point)};
 *   3. it asks its TEE for evidence with REPORT_DATA = SHA-256(join request) || challenge and
 *      sends a *join bundle*: a service bundle (scitt/attest.h) whose "identity" member holds the
 *      join request instead of an identity document;
 *   4. the holder checks the challenge is one it issued and has not seen answered, verifies the
 *      evidence and its measurement with its key-release policy, checks the binding, and answers
 *      with the keystore blob encrypted to the public key (scitt_keyrel_wrap).
 *
 * The answer: "SCKREL01" || ephemeral P-256 public key (65 bytes) || a sealed blob (scitt_seal:
 * "SCSEAL01" || 12-byte nonce || ciphertext || 16-byte tag) under the AES-256 key
 * HKDF-SHA256(salt = SHA-256(join request), IKM = ECDH(ephemeral, joiner key),
 * info = "scittd-key-release-v1" || ephemeral public key || joiner public key), with AAD
 * "scittd-key-release-v1" || SHA-256(join request). Only the holder of the private key the
 * evidence binds can open it, and an answer made for another request does not open.
 */
#ifndef SCITT_KEYREL_H
#define SCITT_KEYREL_H

#include "scitt/attest.h"
#include "scitt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCITT_KEYREL_TYPE          "scittd-key-join-v1"
#define SCITT_KEYREL_CHALLENGE_LEN 32u
#define SCITT_KEYREL_PUB_LEN       65u /**< uncompressed P-256 point */
/** Largest keystore blob a release carries, and the bound of an answer the joiner reads. */
#define SCITT_KEYREL_BLOB_MAX      (1u << 20)
/** Largest join bundle the holder reads (evidence and endorsements, DCAP collateral included). */
#define SCITT_KEYREL_REQUEST_MAX   (512u << 10)

/** A parsed join request; the spans point into the document. */
typedef struct scitt_keyrel_request {
    uint8_t challenge[SCITT_KEYREL_CHALLENGE_LEN];
    uint8_t pub[SCITT_KEYREL_PUB_LEN];
    uint8_t digest[SCITT_SHA256_LEN]; /**< SHA-256 of the whole document */
} scitt_keyrel_request;

/** Appends the join request document for @p challenge and @p pub. */
SCITT_API SCITT_MUST_USE scitt_err
scitt_keyrel_request_encode(const uint8_t challenge[SCITT_KEYREL_CHALLENGE_LEN],
                            const uint8_t pub[SCITT_KEYREL_PUB_LEN], scitt_dynbuf *out);

/**
 * Parses a join request strictly: exactly the three members in order 1, 2, 3, the type text,
 * the sizes above, a public key that is a point on P-256, nothing after the map.
 * SCITT_ERR_MALFORMED (or the CBOR reader's error) otherwise.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_keyrel_request_parse(scitt_span doc,
                                                              scitt_keyrel_request *out);

/** A parsed join bundle: the service bundle's members and its join request. */
typedef struct scitt_keyrel_join {
    scitt_attest_bundle bundle; /**< spans into the join bundle */
    scitt_keyrel_request request;
} scitt_keyrel_join;

/**
 * Parses a join bundle (at most SCITT_KEYREL_REQUEST_MAX bytes, else SCITT_ERR_TOO_LARGE): the
 * service bundle structure, then its "identity" member as a join request. Nothing is verified.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_keyrel_join_parse(scitt_span body, scitt_keyrel_join *out);

/**
 * Verifies a parsed join bundle whose challenge the caller has checked it issued: the evidence
 * as scitt_attest_verify checks a bundle's (chain, signature, platform, measurement lists and
 * policies of @p opts; virtual evidence only with opts->allow_insecure_virtual), then the binding
 * REPORT_DATA = SHA-256(join request) || challenge (SCITT_ERR_BINDING, out->why
 * SCITT_TEE_POLICY_REPORT_DATA). opts->nonce is ignored: the request's challenge is the nonce.
 * @p out says what was established (its identity member stays empty).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_keyrel_join_verify(const scitt_keyrel_join *join,
                                                            const scitt_attest_opts *opts,
                                                            scitt_attest_result *out);

/** The joiner's fresh key pair (P-256). */
typedef struct scitt_keyrel_key scitt_keyrel_key;
/** A new random key pair; free with scitt_keyrel_key_free. */
SCITT_API SCITT_MUST_USE scitt_err scitt_keyrel_key_new(scitt_keyrel_key **out);
SCITT_API void scitt_keyrel_key_free(scitt_keyrel_key *k);
/** The public key as an uncompressed point. */
SCITT_API void scitt_keyrel_key_public(const scitt_keyrel_key *k,
                                       uint8_t out[SCITT_KEYREL_PUB_LEN]);

/**
 * Appends @p blob encrypted to the key of @p req (the answer format above). SCITT_ERR_TOO_LARGE
 * over SCITT_KEYREL_BLOB_MAX.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_keyrel_wrap(const scitt_keyrel_request *req,
                                                     scitt_span blob, scitt_dynbuf *out);

/**
 * Opens an answer with the joiner's key for the request whose SHA-256 is @p request_digest and
 * appends the keystore blob to @p out. SCITT_ERR_MALFORMED for a wrong magic, a length that
 * cannot hold the parts, or an ephemeral key off the curve; SCITT_ERR_INTEGRITY when it does not
 * authenticate (another key, another request, any changed byte); @p out is then as it was.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_keyrel_unwrap(const scitt_keyrel_key *k,
                                                       const uint8_t request_digest[32],
                                                       scitt_span answer, scitt_dynbuf *out);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_KEYREL_H */
