/*
 * tools/pkcs11.h — signing keys kept in a PKCS#11 token (an HSM, a smart card, SoftHSM2), named by
 * RFC 7512 URIs: "pkcs11:token=ci;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so
 * &pin-source=file:/run/secrets/pin". p11-kit parses the URI and loads the module; the key never
 * leaves the token: the tool builds the COSE Sig_structure, hashes it for ECDSA (the token signs
 * the digest with CKM_ECDSA and returns r||s, COSE's form) or hands it whole to CKM_EDDSA.
 * Internal to tools/.
 */
#ifndef SCITT_TOOLS_PKCS11_H
#define SCITT_TOOLS_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"
#include "scitt/cbor.h"
#include "scitt/cose.h"

typedef struct p11_signer p11_signer;

/** Is @p key a PKCS#11 URI rather than a file? */
bool p11_is_uri(const char *key);

/**
 * Opens the private key @p uri names (exactly one must match), logs in, and reads its public key
 * from the public key object with the same CKA_ID (or label). The module: the URI's module-path,
 * else $SCITT_PKCS11_MODULE. The PIN: the URI's pin-value or pin-source (file: or a path), else
 * $SCITT_PKCS11_PIN. ES256 (P-256), ES384 (P-384), ES512 (P-521) and EdDSA (Ed25519) keys.
 * On failure @p why says what failed.
 */
scitt_err p11_open(const char *uri, p11_signer **out, char *why, size_t cap);

/** The public key (alg bound by the curve), borrowed from @p s. */
scitt_cose_key *p11_public(p11_signer *s);

/**
 * A tagged COSE_Sign1 signed in the token: `[bstr(protected_map), {}, payload / nil, sig]`,
 * checked with the public key before it is returned.
 */
scitt_err p11_sign1(p11_signer *s, int64_t alg, scitt_span protected_map, scitt_span payload,
                    bool detached, scitt_cbor_writer *out, char *why, size_t cap);

void p11_close(p11_signer *s);

#endif
