/*
 * scitt/policy.h — the registration policy: which Signed Statements the ledger admits.
 *
 * A policy is a JSON document (docs/policy.md). Everything a decision needs is inside it (keys and
 * root certificates inline, never file references), because the policy in force is itself
 * registered in the log and an auditor replays every registration decision from the log alone.
 *
 * The check does the whole admission: the SCITT statement profile, algorithm and claim rules,
 * issuer matching, key resolution (pinned keys, x5chain with path validation against the
 * policy's roots, did:x509, or self-signed leaves in development mode), and the issuer signature.
 * A policy is immutable once parsed and may be used by many threads at once.
 */
#ifndef SCITT_POLICY_H
#define SCITT_POLICY_H

#include "scitt/base.h"
#include "scitt/cose.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct scitt_policy scitt_policy;

/** The CWT sub of the service-signed statements that register a policy in the log. */
#define SCITT_POLICY_SUBJECT "scittd/registration-policy"

/**
 * Every CWT sub that starts with this prefix (SCITT_POLICY_SUBJECT, and any subject the service
 * uses later) is reserved for statements signed by one of the service's own receipt keys:
 * registration refuses such a statement from anybody else (scitt_service_check), so every entry
 * of an honest log under a reserved subject verifies under a service key.
 */
#define SCITT_RESERVED_SUBJECT_PREFIX "scittd/"
/** Their content type. */
#define SCITT_POLICY_CONTENT_TYPE     "application/json"

/** Room for a rejection reason. */
#define SCITT_POLICY_REASON_MAX 256

/**
 * Parses a policy document. On error @p reason (may be NULL) gets a one-line explanation naming
 * the offending member. The document text is copied. Free with scitt_policy_free.
 */
SCITT_MUST_USE scitt_err scitt_policy_parse(scitt_span json, scitt_policy **out, char *reason,
                                            size_t cap);
/** The development policy used when no policy file is given (docs/policy.md). */
SCITT_MUST_USE scitt_err scitt_policy_development(scitt_policy **out);
void scitt_policy_free(scitt_policy *p);

/** The document as parsed (the bytes registered in the log). Valid while the policy is. */
scitt_span scitt_policy_text(const scitt_policy *p);
/** True for the development policy (reported with a warning wherever the policy is shown). */
bool scitt_policy_is_development(const scitt_policy *p);
/** Largest statement the policy admits, in bytes. */
size_t scitt_policy_max_bytes(const scitt_policy *p);

/**
 * A bounded, thread-safe cache of keys parsed from certificates, keyed by the SHA-256 of the
 * certificate: parsing a key costs more than verifying with it.
 */
typedef struct scitt_key_cache scitt_key_cache;
SCITT_MUST_USE scitt_err scitt_key_cache_new(size_t capacity, scitt_key_cache **out);
void scitt_key_cache_free(scitt_key_cache *c);
/** The key of DER certificate @p cert: a new reference (free with scitt_cose_key_free). */
SCITT_MUST_USE scitt_err scitt_key_cache_get(scitt_key_cache *c, scitt_span cert,
                                             scitt_cose_key **out);

/** What a successful check learned about the statement. Spans point into the statement. */
typedef struct scitt_policy_decision {
    scitt_span iss;
    scitt_span sub;
    scitt_span digest; /**< hash-envelope payload (the digest), else SHA-256 of the payload */
    uint8_t payload_sha256[SCITT_SHA256_LEN]; /**< storage for the latter */
    size_t rule;                              /**< which issuer rule admitted it (0-based) */
    /** On failure of a check that has a problem title of its own ("Certificate Thumbprint
     * Mismatch", ...): that title (static storage); NULL otherwise. */
    const char *title;
} scitt_policy_decision;

/**
 * Decides whether @p m may be registered at time @p now (Unix seconds). @p m must be the
 * registered form of the statement (its unprotected header the empty map, as the log keeps it:
 * decode the bytes scitt_receipt_entry writes), so that the decision rests only on what is
 * logged and an auditor replaying it from the log decides the same; anything else is
 * SCITT_ERR_INVALID_ARG. @p cache may be NULL. Returns SCITT_OK and fills @p d, or the error of
 * the first check that failed with @p reason naming it: SCITT_ERR_TOO_LARGE, profile errors
 * (SCITT_ERR_HEADER, SCITT_ERR_BAD_TAG), the x5t binding (scitt_cose_check_x5t:
 * SCITT_ERR_KEY_MISMATCH, SCITT_ERR_HEADER, SCITT_ERR_ALG), SCITT_ERR_ALG,
 * SCITT_ERR_PAYLOAD_MISSING, SCITT_ERR_POLICY (issuer, claims, content types), SCITT_ERR_UNTRUSTED
 * (no key), SCITT_ERR_CERT_CHAIN / SCITT_ERR_EXPIRED / SCITT_ERR_DID_MISMATCH, SCITT_ERR_SIGNATURE.
 */
SCITT_MUST_USE scitt_err scitt_policy_check(const scitt_policy *p, const scitt_cose_sign1 *m,
                                            int64_t now, scitt_key_cache *cache,
                                            scitt_policy_decision *d, char *reason, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_POLICY_H */
