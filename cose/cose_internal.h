/*
 * Internals shared by the files of the cose module (not installed, no OpenSSL types: those stay
 * in the crypto adapter files and crypto_openssl.h).
 */
#ifndef SCITT_COSE_INTERNAL_H
#define SCITT_COSE_INTERNAL_H

#include "scitt/cbor.h"
#include "scitt/cose.h"

/* ------------------------------------------------------------------------------------------ */
/* Algorithms (cose_alg.c)                                                                     */

typedef struct scitt__alg {
    int64_t alg;
    const char *name;
    scitt_cose_kty kty;
    scitt_cose_crv crv; /**< required curve; NONE = any curve of the key type */
    unsigned hash_bits; /**< 256/384/512 for pre-hashing algorithms, 0 for EdDSA */
} scitt__alg;

/** The table row of a supported signature algorithm, or NULL. */
const scitt__alg *scitt__alg_find(int64_t alg);
/** Bytes of a raw ECDSA coordinate for @p crv (32, 48, 66), 0 for others. */
size_t scitt__ec_coord_len(scitt_cose_crv crv);

/* ------------------------------------------------------------------------------------------ */
/* Key material (crypto_key.c)                                                                 */

#define SCITT__EC_MAX  66u   /* P-521 coordinate */
#define SCITT__OKP_MAX 57u   /* Ed448 public/private key */
#define SCITT__RSA_MAX 1024u /* 8192-bit modulus */

/** Public parameters in COSE/JWK form (big-endian, EC coordinates padded to the field size). */
typedef struct scitt__pub {
    scitt_cose_kty kty;
    scitt_cose_crv crv;
    uint8_t x[SCITT__EC_MAX]; /* EC2 x, OKP x */
    size_t x_len;
    uint8_t y[SCITT__EC_MAX];
    size_t y_len;
    uint8_t n[SCITT__RSA_MAX];
    size_t n_len;
    uint8_t e[16];
    size_t e_len;
} scitt__pub;

/** Private parameters (EC2/OKP: d; RSA: d, p, q, dp, dq, qi). Wipe after use. */
typedef struct scitt__priv {
    uint8_t d[SCITT__RSA_MAX];
    size_t d_len;
    uint8_t p[SCITT__RSA_MAX / 2], q[SCITT__RSA_MAX / 2];
    uint8_t dp[SCITT__RSA_MAX / 2], dq[SCITT__RSA_MAX / 2], qi[SCITT__RSA_MAX / 2];
    size_t p_len, q_len, dp_len, dq_len, qi_len;
} scitt__priv;

/** The cached public parameters of @p k (valid while the key is). */
const scitt__pub *scitt__key_pub(const scitt_cose_key *k);
/** Copies the private parameters out (SCITT_ERR_STATE for a public key). */
scitt_err scitt__key_priv(const scitt_cose_key *k, scitt__priv *out);
/** Builds a key from raw parameters (@p priv may be NULL for a public key). */
scitt_err scitt__key_from_raw(const scitt__pub *pub, const scitt__priv *priv, scitt_cose_key **out);
/** RFC 9679 thumbprint of public parameters (cose_key.c). */
void scitt__thumbprint(const scitt__pub *pub, uint8_t out[SCITT_SHA256_LEN]);
/**
 * Sets the kid from a JWK "kid" string: the kid is the string's bytes (as JOSE and COSE
 * libraries that copy a JWK kid into a COSE kid have it), and when the string is base64url its
 * decoded bytes become an alias that key sets also match (an RFC 9679 thumbprint published as
 * text in a JWKS, but carried raw in COSE).
 */
scitt_err scitt__key_set_jwk_kid(scitt_cose_key *k, scitt_span text);
/** The alias set by scitt__key_set_jwk_kid (empty when none). */
scitt_span scitt__key_kid_alias(const scitt_cose_key *k);

/*
 * The keyset's memo of verified signatures (scitt_cose_keyset_memo). memo_digest names the tuple
 * (key of the set, alg, signed parts, signature) and is false when the set keeps no memo (or
 * there are more than SCITT__MEMO_PARTS parts); only then may memo_has and memo_add be called.
 * Add a digest only after the signature it names verified.
 */
#define SCITT__MEMO_PARTS 4
bool scitt__keyset_memo_digest(const scitt_cose_keyset *s, const scitt_cose_key *k, int64_t alg,
                               const scitt_span *parts, size_t nparts, scitt_span sig,
                               uint8_t out[SCITT_SHA256_LEN]);
bool scitt__keyset_memo_has(const scitt_cose_keyset *s, const uint8_t digest[SCITT_SHA256_LEN]);
void scitt__keyset_memo_add(const scitt_cose_keyset *s, const uint8_t digest[SCITT_SHA256_LEN]);
/** True when the kid is text from a JWK. */
bool scitt__key_kid_is_text(const scitt_cose_key *k);
/** RSA modulus size in bits (0 for other key types). */
unsigned scitt__key_bits(const scitt_cose_key *k);
/** The bound algorithm, 0 when unbound. */
int64_t scitt__key_bound_alg(const scitt_cose_key *k);

/* ------------------------------------------------------------------------------------------ */
/* Signatures (crypto_sig.c). The message is the concatenation of @p parts.                    */

scitt_err scitt__sig_verify(const scitt_cose_key *k, const scitt__alg *a, const scitt_span *parts,
                            size_t nparts, scitt_span sig);
scitt_err scitt__sig_sign(const scitt_cose_key *k, const scitt__alg *a, const scitt_span *parts,
                          size_t nparts, uint8_t *sig, size_t cap, size_t *sig_len);

/* ------------------------------------------------------------------------------------------ */
/* Sig_structure and headers (cose_sign1.c, cose_headers.c)                                    */

/** Storage for the heads a Sig_structure needs around the caller's byte strings. */
typedef struct scitt__tbs {
    uint8_t prefix[1 + 11 + 9]; /* array(4), "Signature1", bstr head of protected */
    uint8_t aad_head[9];
    uint8_t payload_head[9];
    scitt_span parts[6];
} scitt__tbs;

/** Fills @p t with the six pieces of `["Signature1", bstr(prot), bstr(aad), bstr(payload)]`. */
void scitt__tbs_init(scitt__tbs *t, scitt_span protected_map, scitt_span aad, scitt_span payload);

/**
 * Decodes both buckets into @p h: @p protected_map is the protected bstr contents (empty for an
 * empty header), @p unprotected_item the encoded unprotected map.
 */
scitt_err scitt__headers_decode(scitt_span protected_map, scitt_span unprotected_item,
                                unsigned flags, scitt_cose_headers *h);

/**
 * The signed tree size of a receipt (receipt_verify.c): label -65537, or the text label
 * "tree_size" of receipts issued before it. Either must be protected and a uint, and when both
 * are present they must agree (SCITT_ERR_HEADER otherwise). *@p present is false when neither is.
 */
scitt_err scitt__receipt_signed_size(const scitt_cose_headers *h, bool *present, uint64_t *size);

/* ------------------------------------------------------------------------------------------ */
/* CCF ledger receipts, vds 2 (receipt_ccf.c)                                                  */

/**
 * Runs a CCF inclusion proof (the contents of one bstr of 396/-1) for the entry whose bytes are the
 * concatenation of @p entry_parts: its data_hash must be SHA-256 of the entry
 * (SCITT_ERR_PROOF_MISMATCH otherwise), and the root it folds to is written to @p root.
 * @p evidence_out (may be NULL) receives the leaf's internal evidence text (points into @p proof).
 * Shape errors are SCITT_ERR_PROOF_MALFORMED.
 */
scitt_err scitt__ccf_inclusion_root(const scitt_span *entry_parts, size_t nparts, scitt_span proof,
                                    uint8_t root[32], scitt_span *evidence_out);

/**
 * Runs a CCF consistency proof (the contents of one bstr of 396/-2, draft -06 section 4): writes
 * the older root (the anchor folded with the left siblings) and the newer root (folded with all).
 * With @p old_size non-zero the anchor must be the one the draft requires for that size (the path
 * holds popcount(old_size) - 1 left siblings), else SCITT_ERR_PROOF_MISMATCH. Shape errors are
 * SCITT_ERR_PROOF_MALFORMED.
 */
scitt_err scitt__ccf_consistency_roots(scitt_span proof, uint64_t old_size, uint8_t older[32],
                                       uint8_t newer[32]);

#endif /* SCITT_COSE_INTERNAL_H */
