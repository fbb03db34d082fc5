/*
 * pkcs11/scitt_pkcs11.h — signing keys kept in a PKCS#11 token (an HSM, a smart card, SoftHSM2),
 * named by RFC 7512 URIs: "pkcs11:token=ci;object=release?module-path=/usr/lib/softhsm/
 * libsofthsm2.so&pin-source=file:/run/secrets/pin". p11-kit parses the URI and loads the module;
 * the key never leaves the token: the token signs the digest of the COSE Sig_structure with
 * CKM_ECDSA (r||s, COSE's form) or the whole Sig_structure with CKM_EDDSA.
 *
 * A small library of its own (libscitt_pkcs11, objects linked into `scitt` and `scittd`), so
 * that libscitt, which verifiers embed, never depends on p11-kit; it reaches the rest of the code
 * through scitt/signer.h.
 */
#ifndef SCITT_PKCS11_H
#define SCITT_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"
#include "scitt/cbor.h"
#include "scitt/cose.h"
#include "scitt/signer.h"

typedef struct scitt_p11 scitt_p11;

/** Is @p key a PKCS#11 URI rather than a file? */
bool scitt_p11_is_uri(const char *key);

/** Refuse a PIN written into the URI (pin-value): for URIs that sit on a command line or in a
 * configuration file another process may read. */
#define SCITT_P11_NO_PIN_VALUE (1u << 0)

/**
 * Opens the private key @p uri names (exactly one must match), logs in, and reads its public key
 * from the public key object with the same CKA_ID (or label). The module: the URI's module-path,
 * else $SCITT_PKCS11_MODULE. The PIN: the URI's pin-value (unless SCITT_P11_NO_PIN_VALUE) or
 * pin-source (file: or a path), else $SCITT_PKCS11_PIN; it is wiped after login and never
 * appears in @p why. ES256 (P-256), ES384 (P-384), ES512 (P-521) and EdDSA (Ed25519) keys.
 * On failure @p why says what failed in one line.
 */
scitt_err scitt_p11_open(const char *uri, unsigned flags, scitt_p11 **out, char *why, size_t cap);

/** The public key (alg bound by the curve), borrowed from @p s. */
scitt_cose_key *scitt_p11_public(scitt_p11 *s);

/**
 * A signer (scitt/signer.h) that signs in the token, valid until scitt_p11_close. Its sign may be
 * called from any thread (one session, calls serialised). Every signature it makes is checked
 * with the public key by scitt_cose_signer_signature.
 */
void scitt_p11_signer(scitt_p11 *s, scitt_cose_signer *out);

/** What the last failed signature said (PKCS#11 return value), "" when none failed. */
const char *scitt_p11_last_error(scitt_p11 *s);

/**
 * A tagged COSE_Sign1 signed in the token: `[bstr(protected_map), {}, payload / nil, sig]`,
 * checked with the public key before it is returned.
 */
scitt_err scitt_p11_sign1(scitt_p11 *s, int64_t alg, scitt_span protected_map, scitt_span payload,
                          bool detached, scitt_cbor_writer *out, char *why, size_t cap);

void scitt_p11_close(scitt_p11 *s);

#endif
