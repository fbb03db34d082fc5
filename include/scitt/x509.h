/*
 * scitt/x509.h — X.509 certificates for COSE x5chain and did:x509: path validation against
 * configured roots, certificate helpers (fingerprints, SubjectPublicKeyInfo, subject CN, SANs,
 * PEM bundles) and did:x509 (method version 0) parsing and resolution.
 *
 * Certificates cross this API as DER byte spans; OpenSSL types never appear in it. Every
 * function that takes a certificate parses it strictly: exactly one DER certificate, no trailing
 * bytes, and an outer encoding that re-encodes to the same bytes.
 *
 * Path validation is RFC 5280 as OpenSSL implements it, in strict mode (X509_V_FLAG_X509_STRICT),
 * with every configured root (or the did:x509 chain's last certificate) acting as a trust anchor
 * even when it is not self-signed, self-signatures of anchors checked, and critical extensions
 * restricted to basicConstraints, keyUsage, extKeyUsage, subjectAltName, nameConstraints,
 * certificatePolicies, policyConstraints, policyMappings and inhibitAnyPolicy.
 */
#ifndef SCITT_X509_H
#define SCITT_X509_H

#include "scitt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest single DER certificate accepted anywhere (SCITT_ERR_TOO_LARGE beyond). */
#define SCITT_X509_CERT_MAX_BYTES  (1u << 20)
/** Room for the largest fingerprint (SHA-512). */
#define SCITT_X509_FINGERPRINT_MAX 64

/** Fingerprint algorithms (the three did:x509 allows). */
typedef enum scitt_x509_hash {
    SCITT_X509_SHA256 = 1,
    SCITT_X509_SHA384 = 2,
    SCITT_X509_SHA512 = 3,
} scitt_x509_hash;

/**
 * The instant at which certificate validity periods are checked. `check == false` skips every
 * time check (what did:x509 resolution in SCITT usually wants); otherwise `at` is the instant in
 * Unix seconds (for example a statement's CWT iat, or the registration time).
 */
typedef struct scitt_x509_time {
    bool check;
    int64_t at;
} scitt_x509_time;

static inline scitt_x509_time scitt_x509_time_at(int64_t unix_seconds)
{
    scitt_x509_time t = {true, unix_seconds};
    return t;
}

static inline scitt_x509_time scitt_x509_time_none(void)
{
    scitt_x509_time t = {false, 0};
    return t;
}

/*
 * Trust store. Configure it (add roots) from one thread, then share it: any number of threads may
 * call scitt_x509_verify_chain on the same roots concurrently. Adding roots while another thread
 * verifies is not supported.
 */
typedef struct scitt_x509_roots scitt_x509_roots;

/** Creates an empty trust store. Free with scitt_x509_roots_free. */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_roots_new(scitt_x509_roots **out);
/** Frees @p roots; NULL is a no-op. */
SCITT_API void scitt_x509_roots_free(scitt_x509_roots *roots);
/** Adds one DER certificate as a trust anchor (copied; @p der may be freed afterwards). */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_roots_add_der(scitt_x509_roots *roots,
                                                            scitt_span der);
/**
 * Adds every certificate of a PEM bundle (one or many CERTIFICATE blocks; text between blocks is
 * ignored, any other block type is SCITT_ERR_CERT_MALFORMED). Nothing is added unless every block
 * parses; more than 1024 certificates is SCITT_ERR_TOO_LARGE. @p added (optional) receives the
 * number of certificates in the bundle.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_roots_add_pem(scitt_x509_roots *roots, scitt_span pem,
                                                            size_t *added);
/**
 * Adds every CRL of a PEM bundle (X509 CRL blocks; any other block, or a CRL that is not strictly
 * encoded DER, is SCITT_ERR_CERT_MALFORMED; more than 1024 is SCITT_ERR_TOO_LARGE). Nothing is
 * added unless every block parses. Once a store holds a CRL, scitt_x509_verify_chain checks every
 * certificate of the validated path but a self-signed root against the CRL of its issuer (also an
 * intermediate configured as a root): a revoked certificate or a missing CRL fails
 * (SCITT_ERR_CERT_CHAIN), a CRL outside its validity at the instant checked is SCITT_ERR_EXPIRED.
 * @p added (optional) receives the number of CRLs.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_roots_add_crl_pem(scitt_x509_roots *roots,
                                                                scitt_span pem, size_t *added);
/** Number of distinct trust anchors in @p roots. */
SCITT_API size_t scitt_x509_roots_count(const scitt_x509_roots *roots);

/**
 * The identity of @p roots: a SHA-256 chained over every certificate and CRL added to it (their
 * DER bytes, in the order added). Two stores with the same digest were given the same bytes in
 * the same order, so validate alike; NULL gives 32 zero bytes.
 */
SCITT_API void scitt_x509_roots_digest(const scitt_x509_roots *roots,
                                       uint8_t out[SCITT_SHA256_LEN]);

/**
 * The instants around @p at at which validating @p chain against @p roots (NULL: against the
 * chain's own last certificate, as did:x509 resolution does) decides as it does at @p at:
 * [*from, *until), the interval between the validity bounds (notBefore, notAfter, thisUpdate,
 * nextUpdate) of the certificates of @p chain and the certificates and CRLs of @p roots nearest
 * to @p at (the largest bound not after @p at, the smallest one after it; INT64_MIN / INT64_MAX
 * when there is none). Path validation reads its instant only through comparisons with these
 * bounds, so a result obtained at @p at holds at every instant of the window. The certificates
 * are parsed (not validated): SCITT_ERR_CERT_MALFORMED / SCITT_ERR_TOO_LARGE for one that does
 * not parse or a bound that does not convert; SCITT_ERR_INVALID_ARG.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_time_window(const scitt_x509_roots *roots,
                                                          const scitt_span *chain, size_t n,
                                                          int64_t at, int64_t *from,
                                                          int64_t *until);

/**
 * Validates @p chain (DER certificates, leaf first, each certified by the next; the root may be
 * included or omitted) against @p roots at @p when (required; use scitt_x509_time_none() to
 * skip time checks). The certificates supplied must be exactly the start of the validated path:
 * extra or out-of-order certificates are rejected. No purpose or EKU is imposed on the leaf.
 *
 * @param why optional; receives a static English reason on failure (never freed).
 * @return SCITT_OK; SCITT_ERR_INVALID_ARG (n == 0, NULLs); SCITT_ERR_TOO_LARGE (more than
 *         SCITT_LIMIT_X5CHAIN_CERTS certificates or an oversized one); SCITT_ERR_CERT_MALFORMED;
 *         SCITT_ERR_EXPIRED (a certificate, or a CRL, outside its validity at @p when);
 *         SCITT_ERR_UNTRUSTED (no path to a configured root); SCITT_ERR_CERT_CHAIN (any other path
 *         validation failure: signatures, CA flags, key usage, path length, name constraints,
 *         critical extensions, revocation when the roots hold CRLs);
 *         SCITT_ERR_NOMEM.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_verify_chain(const scitt_x509_roots *roots,
                                                           const scitt_span *chain, size_t n,
                                                           const scitt_x509_time *when,
                                                           const char **why);

/** The extended key usage of code signing (RFC 5280 id-kp-codeSigning). */
#define SCITT_X509_EKU_CODE_SIGNING "1.3.6.1.5.5.7.3.3"

/** What a leaf certificate must also satisfy (scitt_x509_verify_chain_leaf). */
typedef struct scitt_x509_leaf_rules {
    /** The leaf may sign statements: a keyUsage extension with digitalSignature, and an
     * extendedKeyUsage holding one of @p ekus (dotted OIDs; none: SCITT_X509_EKU_CODE_SIGNING).
     * anyExtendedKeyUsage counts only when listed. */
    bool signing;
    const char *const *ekus;
    size_t nekus;
    /** Non-empty: the leaf must have exactly this subjectAltName URI. */
    scitt_span san_uri;
} scitt_x509_leaf_rules;

/**
 * scitt_x509_verify_chain, then the leaf @p rules (NULL: none) on the certificate already parsed:
 * SCITT_ERR_POLICY (with @p why) when the path validates but the leaf breaks a rule.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_verify_chain_leaf(const scitt_x509_roots *roots,
                                                                const scitt_span *chain, size_t n,
                                                                const scitt_x509_time *when,
                                                                const scitt_x509_leaf_rules *rules,
                                                                const char **why);

/**
 * The signing rule of scitt_x509_leaf_rules on the certificate @p der alone: SCITT_OK;
 * SCITT_ERR_POLICY (with @p why, optional, a static reason); SCITT_ERR_CERT_MALFORMED /
 * SCITT_ERR_TOO_LARGE for the certificate.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_check_signing_purpose(scitt_span der,
                                                                    const char *const *ekus,
                                                                    size_t n, const char **why);

/** SCITT_OK when @p der is exactly one strictly encoded certificate. */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_check_der(scitt_span der);

/**
 * Fingerprint of a DER certificate: the hash of exactly the bytes given (the certificate is not
 * parsed). @p out must hold SCITT_X509_FINGERPRINT_MAX bytes; @p out_len receives 32, 48 or 64.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_fingerprint(scitt_span der, scitt_x509_hash alg,
                                                          uint8_t out[SCITT_X509_FINGERPRINT_MAX],
                                                          size_t *out_len);

/**
 * The certificate's SubjectPublicKeyInfo as found in it (the complete DER TLV), so a key can be
 * built from exactly what the certificate carries. @p spki points into @p der and is valid as
 * long as @p der is.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_spki(scitt_span der, scitt_span *spki);

/**
 * The subject's commonName as UTF-8 with a terminating NUL in @p out (@p len, optional, excludes
 * the NUL). SCITT_ERR_NOT_FOUND when there is none, SCITT_ERR_DUPLICATE_KEY when there are
 * several, SCITT_ERR_CERT_MALFORMED when the value holds a NUL, SCITT_ERR_BUFFER_TOO_SMALL.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_subject_cn(scitt_span der, char *out, size_t cap,
                                                         size_t *len);

/** Subject alternative name types. */
typedef enum scitt_x509_san_type {
    SCITT_X509_SAN_EMAIL = 1, /**< rfc822Name */
    SCITT_X509_SAN_DNS = 2,   /**< dNSName */
    SCITT_X509_SAN_URI = 3,   /**< uniformResourceIdentifier */
    SCITT_X509_SAN_OTHER = 4, /**< any other GeneralName form (its value is not returned) */
} scitt_x509_san_type;

/**
 * The @p index-th subject alternative name (0-based). Text forms are copied NUL-terminated into
 * @p out (@p len, optional, excludes the NUL); SCITT_X509_SAN_OTHER yields an empty string.
 * SCITT_ERR_NOT_FOUND past the last one (or without the extension), SCITT_ERR_CERT_MALFORMED
 * for a duplicated extension or a value holding a NUL.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_san_get(scitt_span der, size_t index,
                                                      scitt_x509_san_type *type, char *out,
                                                      size_t cap, size_t *len);

/**
 * Decodes a PEM bundle into DER certificates. The DER bytes are appended to @p der (caller-owned,
 * released with scitt_dynbuf_clear); @p certs[0..*n) receive spans into @p der's final buffer,
 * valid until @p der is next modified or cleared. More than @p cap certificates is
 * SCITT_ERR_TOO_LARGE; no certificate, another block type, a PEM header or a certificate that does
 * not parse strictly is SCITT_ERR_CERT_MALFORMED.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_x509_pem_decode(scitt_span pem, scitt_dynbuf *der,
                                                         scitt_span *certs, size_t cap, size_t *n);

/* ---------------------------------------------------------------------------------------------
 * did:x509, method version 0:
 *   did:x509:0:<sha256|sha384|sha512>:<base64url CA fingerprint>::<predicate>:<value>[::...]
 * Predicates: subject:<key>:<value>[:<key>:<value>...] (keys CN L ST O OU C STREET or dotted
 * OIDs, no key twice), san:<email|dns|uri>:<value>, eku:<dotted OID>,
 * fulcio-issuer:<issuer without https://>. Values are percent-encoded: only A-Z a-z 0-9 - . _
 * appear unencoded. A DID URL fragment (#...) is allowed and dropped; paths and queries are not.
 */

/** Most predicates in one DID, and most key/value pairs in one subject predicate. */
#define SCITT_DIDX509_MAX_PREDICATES 16u
#define SCITT_DIDX509_MAX_SUBJECT    16u

typedef enum scitt_didx509_kind {
    SCITT_DIDX509_SUBJECT = 1,
    SCITT_DIDX509_SAN = 2,
    SCITT_DIDX509_EKU = 3,
    SCITT_DIDX509_FULCIO_ISSUER = 4,
} scitt_didx509_kind;

/** One predicate; `value` points into the parsed DID and is still percent-encoded. */
typedef struct scitt_didx509_pred {
    scitt_didx509_kind kind;
    scitt_span value;
} scitt_didx509_pred;

/** A parsed did:x509. Spans point into the string given to scitt_didx509_parse. */
typedef struct scitt_didx509 {
    scitt_span id; /**< the DID without its fragment */
    scitt_x509_hash alg;
    uint8_t fingerprint[SCITT_X509_FINGERPRINT_MAX];
    size_t fingerprint_len;
    size_t n_preds;
    scitt_didx509_pred preds[SCITT_DIDX509_MAX_PREDICATES];
} scitt_didx509;

/**
 * Parses @p did strictly (grammar, percent-encoding, known predicates and subject keys, no
 * repeated subject key, fingerprint length of its algorithm, at most SCITT_LIMIT_ISS_CHARS bytes).
 * @return SCITT_OK, SCITT_ERR_DID_MALFORMED (with @p why, optional, set to a static reason) or
 *         SCITT_ERR_TOO_LARGE.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_didx509_parse(scitt_span did, scitt_didx509 *out,
                                                       const char **why);

/** What a successful resolution yields. Spans are valid as long as the inputs are. */
typedef struct scitt_didx509_result {
    scitt_span id;        /**< the DID document id: the DID without its fragment */
    scitt_span leaf_spki; /**< the leaf's SubjectPublicKeyInfo, inside chain[0] */
    size_t ca_index;      /**< the chain position (>= 1) whose fingerprint the DID pins */
    bool assertion;       /**< authentication/assertionMethod: digitalSignature or no keyUsage */
    bool key_agreement;   /**< keyAgreement: that bit set, or no keyUsage */
} scitt_didx509_result;

/**
 * Resolves @p did against @p chain (DER, leaf first, at least 2 certificates): RFC 5280 path
 * validation with the last certificate as the trust anchor at @p when (required; time checks may
 * be skipped), the supplied chain must be exactly the validated path, the fingerprint must match a
 * non-leaf certificate, the leaf must map to the did:x509 data model (no repeated subject
 * attribute, only email/dns/uri/directoryName SANs), every predicate must hold on the leaf, and
 * its key usage must allow signatures or key agreement.
 *
 * @param out optional. @param why optional static reason on failure.
 * @return SCITT_OK; SCITT_ERR_DID_MALFORMED / SCITT_ERR_TOO_LARGE (the DID); SCITT_ERR_CERT_CHAIN
 *         (fewer than 2 certificates, or path validation); SCITT_ERR_EXPIRED;
 *         SCITT_ERR_CERT_MALFORMED; SCITT_ERR_DID_MISMATCH (fingerprint, predicates, data model,
 *         key usage); SCITT_ERR_INVALID_ARG; SCITT_ERR_NOMEM.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_didx509_resolve(scitt_span did, const scitt_span *chain,
                                                         size_t n, const scitt_x509_time *when,
                                                         scitt_didx509_result *out,
                                                         const char **why);

/**
 * Percent-decodes a did:x509 value (idchar grammar: A-Z a-z 0-9 - . _ and %HH) into @p out.
 * SCITT_ERR_DID_MALFORMED for any other character or a bad escape; SCITT_ERR_BUFFER_TOO_SMALL.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_didx509_pct_decode(scitt_span in, uint8_t *out, size_t cap,
                                                            size_t *out_len);

/** Percent-encodes @p in for a did:x509 value (NUL-terminated into @p out). */
SCITT_API SCITT_MUST_USE scitt_err scitt_didx509_pct_encode(scitt_span in, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_X509_H */
