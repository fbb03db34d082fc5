/*
 * scitt/cose.h — COSE (RFC 9052/9053) for SCITT: algorithms, keys, the header model and
 * COSE_Sign1 decode, encode, sign and verify.
 *
 * Decoding is strict (see scitt/cbor.h) and never copies: every span in a decoded structure
 * points into the caller's input, which must outlive the structure. The protected header is
 * used exactly as received when signatures are checked (with RFC 9052's one exception: a
 * protected bstr holding the empty map `a0` is treated as the empty bstr).
 *
 * Keys are opaque, reference-counted heap objects. Parsing a key costs more than using it, so
 * parse once and reuse: a key may be used from several threads at once for verifying and signing
 * (the crypto contexts it needs are pooled inside it). Only scitt_cose_key_set_alg() and
 * scitt_cose_key_set_kid() modify a key; call them before sharing it.
 */
#ifndef SCITT_COSE_H
#define SCITT_COSE_H

#include "scitt/base.h"
#include "scitt/cbor.h"
#include "scitt/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Registry values                                                                             */

/** COSE algorithms (IANA "COSE Algorithms"; ESP*, Ed25519, Ed448 from RFC 9864). */
#define SCITT_COSE_ALG_ES256   (-7)
#define SCITT_COSE_ALG_ES384   (-35)
#define SCITT_COSE_ALG_ES512   (-36)
#define SCITT_COSE_ALG_ESP256  (-9)
#define SCITT_COSE_ALG_ESP384  (-51)
#define SCITT_COSE_ALG_ESP512  (-52)
#define SCITT_COSE_ALG_EDDSA   (-8)
#define SCITT_COSE_ALG_ED25519 (-19)
#define SCITT_COSE_ALG_ED448   (-53)
#define SCITT_COSE_ALG_PS256   (-37)
#define SCITT_COSE_ALG_PS384   (-38)
#define SCITT_COSE_ALG_PS512   (-39)
/** Hash algorithms (x5t, payload-hash-alg). */
#define SCITT_COSE_ALG_SHA256  (-16)
#define SCITT_COSE_ALG_SHA384  (-43)
#define SCITT_COSE_ALG_SHA512  (-44)
/** The algorithm of newly generated service keys. */
#define SCITT_COSE_ALG_DEFAULT SCITT_COSE_ALG_ES256

/** Header labels. */
#define SCITT_COSE_HDR_ALG                   1
#define SCITT_COSE_HDR_CRIT                  2
#define SCITT_COSE_HDR_CONTENT_TYPE          3
#define SCITT_COSE_HDR_KID                   4
#define SCITT_COSE_HDR_CWT_CLAIMS            15
#define SCITT_COSE_HDR_TYP                   16
#define SCITT_COSE_HDR_X5BAG                 32
#define SCITT_COSE_HDR_X5CHAIN               33
#define SCITT_COSE_HDR_X5T                   34
#define SCITT_COSE_HDR_X5U                   35
#define SCITT_COSE_HDR_PAYLOAD_HASH_ALG      258
#define SCITT_COSE_HDR_PREIMAGE_CONTENT_TYPE 259
#define SCITT_COSE_HDR_PAYLOAD_LOCATION      260
#define SCITT_COSE_HDR_RECEIPTS              394
#define SCITT_COSE_HDR_VDS                   395
#define SCITT_COSE_HDR_VDP                   396
/** Pre-RFC 9995 hash-envelope labels (accepted only with SCITT_SIGN1_LEGACY). */
#define SCITT_COSE_HDR_LEGACY_HASH_ALG       (-6800)
#define SCITT_COSE_HDR_LEGACY_LOCATION       (-6801)
#define SCITT_COSE_HDR_LEGACY_PREIMAGE_TYPE  (-6802)

/** CWT claim keys (RFC 8392). */
#define SCITT_CWT_ISS 1
#define SCITT_CWT_SUB 2
#define SCITT_CWT_AUD 3
#define SCITT_CWT_EXP 4
#define SCITT_CWT_NBF 5
#define SCITT_CWT_IAT 6
#define SCITT_CWT_CTI 7

/** CBOR tags. */
#define SCITT_COSE_TAG_SIGN1 18
#define SCITT_CBOR_TAG_EPOCH 1

/** Largest signature any supported algorithm produces (RSA 8192 bits). */
#define SCITT_COSE_SIG_MAX 1024

/** The COSE name of @p alg ("ES256"), or NULL when it is not a signature algorithm we support. */
SCITT_API const char *scitt_cose_alg_name(int64_t alg);
/** The algorithm called @p name (JWK/JOSE names: "ES256", "EdDSA", "PS256", ...), or 0. */
SCITT_API int64_t scitt_cose_alg_from_name(scitt_span name);

/* ------------------------------------------------------------------------------------------ */
/* Keys                                                                                        */

typedef enum scitt_cose_kty {
    SCITT_COSE_KTY_OKP = 1,
    SCITT_COSE_KTY_EC2 = 2,
    SCITT_COSE_KTY_RSA = 3,
} scitt_cose_kty;

typedef enum scitt_cose_crv {
    SCITT_COSE_CRV_NONE = 0, /**< RSA keys */
    SCITT_COSE_CRV_P256 = 1,
    SCITT_COSE_CRV_P384 = 2,
    SCITT_COSE_CRV_P521 = 3,
    SCITT_COSE_CRV_ED25519 = 6,
    SCITT_COSE_CRV_ED448 = 7,
} scitt_cose_crv;

/** An opaque public or private signing key. */
typedef struct scitt_cose_key scitt_cose_key;

/**
 * Generates a private key for @p alg (0 = SCITT_COSE_ALG_DEFAULT): ES256/ESP256 P-256, ES384/ESP384
 * P-384, ES512/ESP512 P-521, EdDSA/Ed25519 Ed25519, Ed448 Ed448, PS256/384/512 RSA-3072. The key
 * is bound to @p alg and its kid is its RFC 9679 thumbprint. Free with scitt_cose_key_free.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_generate(int64_t alg, scitt_cose_key **out);

/**
 * Parses a PEM text: "PUBLIC KEY" (SPKI), "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" or
 * "CERTIFICATE" (the certificate's public key). The first block is used. Supported key types:
 * EC P-256/P-384/P-521, Ed25519, Ed448, RSA 2048..8192 bits (SCITT_ERR_UNSUPPORTED otherwise).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_from_pem(scitt_span pem, scitt_cose_key **out);
/** Parses DER: SubjectPublicKeyInfo or PKCS#8 PrivateKeyInfo. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_from_der(scitt_span der, scitt_cose_key **out);
/** The public key of a DER X.509 certificate (e.g. the x5chain leaf); the chain is not checked. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_from_cert_der(scitt_span cert,
                                                                scitt_cose_key **out);
/**
 * Parses one COSE_Key map (EC2, OKP or RSA; private when `d` is present). Its `alg` (3) binds the
 * key to that algorithm; its `kid` (2) becomes the key's kid, else the RFC 9679 thumbprint.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_from_cose(scitt_span cbor, scitt_cose_key **out);
/**
 * Parses one JWK (RFC 7517/7518/8037; "kty" EC, OKP or RSA); "alg" binds the key as for COSE_Key.
 * The kid is the "kid" string's UTF-8 bytes (what COSE libraries copy from a JWK into a kid
 * header); when that string is base64url, key sets also find the key by the decoded bytes (an
 * RFC 9679 thumbprint published as text). scitt_cose_key_encode_jwk writes such a kid back as the
 * same string, and any other kid as the base64url of its bytes.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_from_jwk(scitt_span json, scitt_cose_key **out);

/** Takes another reference to @p k (released by scitt_cose_key_free); returns @p k. */
SCITT_API scitt_cose_key *scitt_cose_key_ref(scitt_cose_key *k);
/** Drops one reference; the last one frees the key and wipes private material. NULL is a no-op. */
SCITT_API void scitt_cose_key_free(scitt_cose_key *k);

SCITT_API scitt_cose_kty scitt_cose_key_kty(const scitt_cose_key *k);
SCITT_API scitt_cose_crv scitt_cose_key_crv(const scitt_cose_key *k);
SCITT_API bool scitt_cose_key_has_private(const scitt_cose_key *k);
/**
 * The algorithm the key is bound to, else the natural one for its type: ES256/ES384/ES512 for
 * P-256/P-384/P-521, EdDSA for Ed25519 and Ed448, PS256 for RSA.
 */
SCITT_API int64_t scitt_cose_key_alg(const scitt_cose_key *k);
/** Binds the key to @p alg; SCITT_ERR_ALG when the key cannot be used with it. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_set_alg(scitt_cose_key *k, int64_t alg);
/**
 * True when a message with algorithm @p alg may be verified or signed with @p k: the key type fits
 * (ESP256 needs P-256, Ed25519 an Ed25519 key, PS* an RSA key, ...) and, when the key is bound to
 * an algorithm, @p alg is that one (ES256 and ESP256 on P-256 count as the same, and so do EdDSA
 * and Ed25519 on an Ed25519 key, or EdDSA and Ed448 on an Ed448 key).
 */
SCITT_API bool scitt_cose_key_allows(const scitt_cose_key *k, int64_t alg);

/** The key's kid (default: its RFC 9679 thumbprint). Valid while the key is. */
SCITT_API scitt_span scitt_cose_key_kid(const scitt_cose_key *k);
/** Replaces the kid (copied; at most 256 bytes). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_set_kid(scitt_cose_key *k, scitt_span kid);
/**
 * Makes the key's kid the text form of its RFC 9679 thumbprint: the base64url (no padding) of the
 * 32 bytes, 43 ASCII characters, which is also the JWK "kid" a JWKS publishes, so that clients
 * that read a receipt's kid as text and compare it with the JWKS kid find the key. The thumbprint
 * bytes stay an alias (scitt_cose_keyset_find finds the key by either). A key whose kid is
 * neither its thumbprint nor that text keeps its kid. Call before sharing the key.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_use_text_kid(scitt_cose_key *k);
/** True when the key's kid is the text form of its thumbprint (scitt_cose_key_use_text_kid). */
SCITT_API bool scitt_cose_key_is_text_kid(const scitt_cose_key *k);
/**
 * True when @p kid names the key: equal to its kid, or one of the two is the base64url text of
 * the other (a receipt with a raw thumbprint kid and a key with the text kid, or the reverse).
 * An empty kid names no key.
 */
SCITT_API bool scitt_cose_key_matches_kid(const scitt_cose_key *k, scitt_span kid);
/** RFC 9679 COSE Key Thumbprint (SHA-256 over the deterministic required public parameters). */
SCITT_API void scitt_cose_key_thumbprint(const scitt_cose_key *k, uint8_t out[SCITT_SHA256_LEN]);

/**
 * Writes the key as a COSE_Key map in deterministic order: kty, kid, alg and the public parameters,
 * plus the private ones when @p with_private (SCITT_ERR_STATE if the key has none).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_encode_cose(const scitt_cose_key *k,
                                                              bool with_private,
                                                              scitt_cbor_writer *w);
/** Appends the key as a JWK JSON object ("kid": see scitt_cose_key_from_jwk). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_encode_jwk(const scitt_cose_key *k,
                                                             bool with_private, scitt_dynbuf *out);
/** Appends PEM: "PUBLIC KEY" (SPKI) or, with @p with_private, "PRIVATE KEY" (PKCS#8). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_encode_pem(const scitt_cose_key *k,
                                                             bool with_private, scitt_dynbuf *out);
/** Appends DER: SubjectPublicKeyInfo or, with @p with_private, PKCS#8. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_key_encode_der(const scitt_cose_key *k,
                                                             bool with_private, scitt_dynbuf *out);

/** A set of keys looked up by kid (a COSE_Key_Set or a JWKS). Opaque. */
typedef struct scitt_cose_keyset scitt_cose_keyset;

SCITT_API SCITT_MUST_USE scitt_err scitt_cose_keyset_new(scitt_cose_keyset **out);
/** Frees the set and drops its references to its keys. NULL is a no-op. */
SCITT_API void scitt_cose_keyset_free(scitt_cose_keyset *s);
/**
 * Adds a reference to @p k (at most SCITT_LIMIT_KEYSET_KEYS keys; two keys with the same kid are
 * SCITT_ERR_DUPLICATE_KEY).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_keyset_add(scitt_cose_keyset *s, scitt_cose_key *k);
/**
 * Makes the set remember up to about @p capacity receipt signatures it has verified (direct-
 * mapped, so fewer when they collide), so verifying another receipt with the same signed tree
 * head costs the proof and no public-key operation: what a verifier checking many statements
 * against the same service wants. Thread-safe. SCITT_ERR_STATE when already enabled.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_keyset_memo(scitt_cose_keyset *s, size_t capacity);
SCITT_API size_t scitt_cose_keyset_count(const scitt_cose_keyset *s);
/** Key @p i (borrowed: valid while the set is), or NULL. */
SCITT_API const scitt_cose_key *scitt_cose_keyset_at(const scitt_cose_keyset *s, size_t i);
/**
 * The key whose kid equals @p kid, else the first that scitt_cose_key_matches_kid (a kid and its
 * base64url text name the same key) (borrowed), or NULL.
 */
SCITT_API const scitt_cose_key *scitt_cose_keyset_find(const scitt_cose_keyset *s, scitt_span kid);
/** Parses a COSE_Key_Set (a CBOR array of COSE_Key maps). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_keyset_from_cose(scitt_span cbor,
                                                               scitt_cose_keyset **out);
/** Parses a JWKS ({"keys": [...]}) — for verification trust inputs. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_keyset_from_jwks(scitt_span json,
                                                               scitt_cose_keyset **out);
/** Writes the public keys as a COSE_Key_Set (what /.well-known/scitt-keys serves). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_keyset_encode_cose(const scitt_cose_keyset *s,
                                                                 scitt_cbor_writer *w);
/** Appends the public keys as a JWKS. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_keyset_encode_jwks(const scitt_cose_keyset *s,
                                                                 scitt_dynbuf *out);

/* ------------------------------------------------------------------------------------------ */
/* Header model                                                                                */

/** Which bucket a header parameter was found in. */
typedef enum scitt_cose_bucket {
    SCITT_COSE_ABSENT = 0,
    SCITT_COSE_PROTECTED = 1,
    SCITT_COSE_UNPROTECTED = 2,
} scitt_cose_bucket;

/** A header label (COSE labels are int / tstr). */
typedef struct scitt_cose_label {
    bool is_text;
    int64_t num;     /**< when !is_text */
    scitt_span text; /**< when is_text */
} scitt_cose_label;

/** One header parameter as it appeared on the wire. */
typedef struct scitt_cose_param {
    scitt_cose_label label;
    scitt_span value; /**< the encoded value item */
    scitt_cose_bucket bucket;
} scitt_cose_param;

/** A uint-or-text header value (content type, typ, preimage content type). */
typedef struct scitt_cose_uint_or_text {
    bool present;
    bool is_text;
    uint64_t num;
    scitt_span text;
} scitt_cose_uint_or_text;

/** CWT claims (RFC 9597 header 15). */
typedef struct scitt_cose_cwt {
    scitt_span raw; /**< the encoded claims map; empty when the header is absent */
    bool has_iss, has_sub, has_iat, has_nbf, has_exp;
    scitt_span iss; /**< text */
    scitt_span sub; /**< text */
    int64_t iat;    /**< NumericDate seconds; also accepted wrapped in tag 1 */
    int64_t nbf;
    int64_t exp;
} scitt_cose_cwt;

/** Bits for scitt_cose_headers.prot / .unprot: which known parameters each bucket holds. */
enum {
    SCITT_COSE_H_ALG = 1u << 0,
    SCITT_COSE_H_CRIT = 1u << 1,
    SCITT_COSE_H_CONTENT_TYPE = 1u << 2,
    SCITT_COSE_H_KID = 1u << 3,
    SCITT_COSE_H_CWT = 1u << 4,
    SCITT_COSE_H_TYP = 1u << 5,
    SCITT_COSE_H_X5CHAIN = 1u << 6,
    SCITT_COSE_H_X5T = 1u << 7,
    SCITT_COSE_H_PAYLOAD_HASH_ALG = 1u << 8,
    SCITT_COSE_H_PREIMAGE_CONTENT_TYPE = 1u << 9,
    SCITT_COSE_H_PAYLOAD_LOCATION = 1u << 10,
    SCITT_COSE_H_RECEIPTS = 1u << 11,
    SCITT_COSE_H_VDS = 1u << 12,
    SCITT_COSE_H_VDP = 1u << 13,
};

/**
 * Both header buckets of a message, decoded. Spans point into the message. Structural rules are
 * checked while decoding (SCITT_ERR_HEADER unless noted):
 *  - a label in both buckets (SCITT_ERR_DUPLICATE_KEY), more than SCITT_LIMIT_HEADER_LABELS per
 *    bucket (SCITT_ERR_TOO_LARGE);
 *  - alg an integer (a text alg is SCITT_ERR_ALG); crit protected, a non-empty array of labels
 *    that are all present in the protected bucket and all understood here (SCITT_ERR_CRIT);
 *  - kid a bstr; content type and typ uint or tstr; CWT claims a map with text iss/sub and
 *    integer iat/nbf/exp (iat may be wrapped in tag 1);
 *  - x5chain a bstr (one certificate) or an array of 2..SCITT_LIMIT_X5CHAIN_CERTS bstrs, leaf
 *    first; x5t [int hash alg, bstr];
 *  - hash envelope: 258 protected (an int), 259/260 not unprotected, 3 absent when 258 is present;
 *  - receipts (394) unprotected, an array of 1..SCITT_LIMIT_RECEIPTS bstrs.
 * Profile rules (which of these SCITT requires) are scitt_cose_check_statement()'s job.
 */
typedef struct scitt_cose_headers {
    uint32_t prot;   /**< SCITT_COSE_H_* found in the protected bucket */
    uint32_t unprot; /**< SCITT_COSE_H_* found in the unprotected bucket */
    int64_t alg;
    scitt_cose_label crit[SCITT_LIMIT_CRIT_LABELS];
    size_t ncrit;
    scitt_cose_uint_or_text content_type;
    scitt_span kid;
    scitt_cose_cwt cwt;
    scitt_cose_uint_or_text typ;
    scitt_span x5chain[SCITT_LIMIT_X5CHAIN_CERTS]; /**< DER certificates, leaf first */
    size_t nx5chain;
    int64_t x5t_alg;
    scitt_span x5t_hash;
    int64_t payload_hash_alg;
    scitt_cose_uint_or_text preimage_content_type;
    scitt_span payload_location;               /**< text */
    scitt_span receipts[SCITT_LIMIT_RECEIPTS]; /**< bstr contents: each an encoded receipt */
    size_t nreceipts;
    int64_t vds;
    scitt_span vdp; /**< the encoded vdp map */
    /** Every parameter of both buckets in wire order (protected first), known or not. */
    scitt_cose_param params[2 * SCITT_LIMIT_HEADER_LABELS];
    size_t nparams;
} scitt_cose_headers;

/** The parameter with integer label @p label, or NULL. */
SCITT_API const scitt_cose_param *scitt_cose_headers_find(const scitt_cose_headers *h,
                                                          int64_t label);
/** The parameter with text label @p label, or NULL. */
SCITT_API const scitt_cose_param *scitt_cose_headers_find_text(const scitt_cose_headers *h,
                                                               const char *label);

/**
 * What to write into a header bucket. Zero-initialise and fill what is wanted; the encoder writes
 * the map in deterministic (bytewise key) order.
 */
typedef struct scitt_cose_header_spec {
    int64_t alg;                          /**< 0 = absent */
    scitt_span kid;                       /**< empty = absent */
    scitt_cose_uint_or_text content_type; /**< 3 */
    scitt_cose_uint_or_text typ;          /**< 16 */
    bool cwt;                             /**< write CWT claims (15) from the fields below */
    scitt_span cwt_iss, cwt_sub;          /**< text; empty = absent */
    bool cwt_has_iat;
    int64_t cwt_iat;
    const scitt_span *x5chain; /**< DER certificates, leaf first (one = bstr, more = array) */
    size_t nx5chain;
    int64_t x5t_alg; /**< with x5t_hash */
    scitt_span x5t_hash;
    int64_t payload_hash_alg;                      /**< 258; 0 = absent */
    scitt_cose_uint_or_text preimage_content_type; /**< 259 */
    scitt_span payload_location;                   /**< 260 (text); empty = absent */
    const scitt_cose_label *crit;                  /**< 2 */
    size_t ncrit;
    /** Extra parameters: labels and their already-encoded values. */
    const scitt_cose_label *extra_labels;
    const scitt_span *extra_values;
    size_t nextra;
} scitt_cose_header_spec;

/** Writes the header map described by @p spec (SCITT_ERR_DUPLICATE_KEY on a repeated label). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_headers_encode(const scitt_cose_header_spec *spec,
                                                             scitt_cbor_writer *w);

/* ------------------------------------------------------------------------------------------ */
/* COSE_Sign1                                                                                  */

/** Decode flags. */
#define SCITT_SIGN1_UNTAGGED (1u << 0) /**< also accept a message without tag 18 */
#define SCITT_SIGN1_LEGACY   (1u << 1) /**< pre-RFC hash-envelope labels, `undefined` uhdr */
#define SCITT_SIGN1_UNPROTECTED_ALG                                                                \
    (1u << 2) /**< RFC 9052 allows alg unprotected; SCITT does not */
/** Sign flags. */
#define SCITT_SIGN1_DETACHED   (1u << 8) /**< write nil instead of the payload */
#define SCITT_SIGN1_NO_TAG_OUT (1u << 9) /**< write the message without tag 18 */

/** A decoded COSE_Sign1. Every span points into the input given to the decoder. */
typedef struct scitt_cose_sign1 {
    scitt_span raw; /**< the whole message */
    bool tagged;
    scitt_span protected_item;   /**< the protected bstr item (head + contents) as received */
    scitt_span protected_map;    /**< its contents; empty for h'' and for h'a0' */
    scitt_span unprotected_item; /**< the unprotected map item as received */
    scitt_span payload_item;     /**< the payload item (bstr or nil) as received */
    scitt_span payload;          /**< attached payload contents (empty when detached) */
    bool detached;
    scitt_span signature_item; /**< the signature bstr item as received */
    scitt_span signature;      /**< its contents */
    scitt_cose_headers hdr;
} scitt_cose_sign1;

/**
 * Decodes a COSE_Sign1 (tag 18 required unless SCITT_SIGN1_UNTAGGED) and its headers. Checks the
 * structure and header rules, and that alg is present and protected (unless
 * SCITT_SIGN1_UNPROTECTED_ALG); does not check the signature. @p in must outlive @p out.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_sign1_decode(scitt_span in, unsigned flags,
                                                           scitt_cose_sign1 *out);

/**
 * Verifies the signature of a decoded message with @p key: alg must be supported and allowed for
 * the key (SCITT_ERR_ALG), the signature of the algorithm's size (SCITT_ERR_SIGNATURE otherwise).
 * @p aad is the external AAD (usually empty). For a detached payload pass it in
 * @p detached_payload (SCITT_ERR_PAYLOAD_MISSING when NULL); for an attached one pass NULL.
 * The Sig_structure is hashed in pieces; nothing is allocated for the algorithms that pre-hash.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_sign1_verify(const scitt_cose_sign1 *m,
                                                           const scitt_cose_key *key,
                                                           scitt_span aad,
                                                           const scitt_span *detached_payload);

/**
 * Builds and signs a COSE_Sign1: `[bstr(protected_map), unprotected_map, payload / nil, sig]`,
 * tagged 18 unless SCITT_SIGN1_NO_TAG_OUT. @p protected_map must be an encoded map that holds alg
 * (allowed for @p key); it is embedded byte for byte. @p unprotected_map is an encoded map (an
 * empty span writes `a0`). The signature covers @p payload even with SCITT_SIGN1_DETACHED.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_sign1_sign(const scitt_cose_key *key,
                                                         scitt_span protected_map,
                                                         scitt_span unprotected_map,
                                                         scitt_span payload, scitt_span aad,
                                                         unsigned flags, scitt_cbor_writer *out);

/**
 * The signature step alone: signs `["Signature1", bstr(protected_map), bstr(aad), bstr(payload)]`
 * with @p key and algorithm @p alg into @p sig (SCITT_COSE_SIG_MAX bytes suffice). ECDSA
 * signatures are raw r||s.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_signature_create(
    const scitt_cose_key *key, int64_t alg, scitt_span protected_map, scitt_span aad,
    scitt_span payload, uint8_t *sig, size_t cap, size_t *sig_len);
/** The verification step alone, over the same Sig_structure. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_signature_verify(const scitt_cose_key *key,
                                                               int64_t alg,
                                                               scitt_span protected_map,
                                                               scitt_span aad, scitt_span payload,
                                                               scitt_span sig);

/**
 * SCITT Signed Statement profile (RFC 9943 §4) on a decoded message: tagged; alg protected; CWT
 * claims protected with text iss and sub; iss of 1..SCITT_LIMIT_ISS_CHARS characters; x5t or
 * x5chain protected, else kid present; with x5t or x5chain protected, iss a URI. SCITT_ERR_HEADER
 * (or SCITT_ERR_BAD_TAG for a missing tag) names the first rule broken.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_check_statement(const scitt_cose_sign1 *m);

/**
 * scitt_cose_check_statement, and in @p why (when not NULL) the rule broken, as a sentence
 * without a final period (a static string; NULL on SCITT_OK). The sentences about the iss claim
 * (empty, too long, not a URI) and only those start with "iss ".
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_check_statement_why(const scitt_cose_sign1 *m,
                                                                  const char **why);

/**
 * RFC 9360 x5t against the certificate it names, protected header only (an unprotected x5t is
 * covered by no signature and is not kept in a log): SCITT_OK without a protected x5t, or when
 * its hash of the protected x5chain's leaf matches; SCITT_ERR_KEY_MISMATCH when it names another
 * certificate; SCITT_ERR_HEADER when there is no protected x5chain to compare with (which
 * certificate it names cannot be told); SCITT_ERR_ALG for a hash other than SHA-256, SHA-384
 * or SHA-512 (-16, -43, -44).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cose_check_x5t(const scitt_cose_sign1 *m);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_COSE_H */
