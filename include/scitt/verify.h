/*
 * scitt/verify.h — what makes a transparent statement verify, as a list of checks (part of
 * libscitt-client, client/verify.c). Offline: no network and no file access; the caller reads
 * what it was given (trusted keys, a detached payload, issuer roots, a witness policy) and hands
 * it over, with the reason when it could not read it, so that the reason becomes a failed check.
 *
 * Each check has a name ("receipt 1", "issuer signature", "x5chain", "did:x509", "iss", ...), a
 * result (ok, failed, skipped) and a one-line detail; the statement verifies when no check failed.
 * The checks, in the order they are run and reported (docs/verify.md says what each checks):
 *   decode, profile, receipt N and receipts, receipt N issuer (a service bundle's key),
 *   witnesses and witnessed, validity (CWT exp, nbf), x5chain (an unprotected one is skipped), x5t,
 *   payload, preimage, issuer signature, x5chain (to the issuer roots), did:x509, iss or issuer,
 *   digest, sub.
 * `scitt verify` prints these results (human or --json); other programs embed the same checks.
 */
#ifndef SCITT_VERIFY_H
#define SCITT_VERIFY_H

#include "scitt/base.h"
#include "scitt/cose.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"
#include "scitt/x509.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Receipts looked at: those the statement carries (394, or -333 with legacy labels) and more. */
#define SCITT_VERIFY_RECEIPTS_MAX (2 * SCITT_LIMIT_RECEIPTS)
/** Checks one verification reports at most (later ones are dropped). */
#define SCITT_VERIFY_CHECKS_MAX   (SCITT_VERIFY_RECEIPTS_MAX + 16)

typedef enum scitt_check_result {
    SCITT_CHECK_OK = 0,
    SCITT_CHECK_FAILED = 1,
    SCITT_CHECK_SKIPPED = 2, /**< not checked, or failed but not required (--any) */
} scitt_check_result;

/** One check: which, its result and why. */
typedef struct scitt_check {
    char name[40];
    scitt_check_result result;
    char detail[600];
} scitt_check;

/** An input the caller read for the checks: a name for details (a file name) and its bytes. */
typedef struct scitt_verify_input {
    const char *name; /**< NULL: not given */
    scitt_span data;
    scitt_err err; /**< not SCITT_OK: the caller could not read it; the check using it fails */
} scitt_verify_input;

/** Which instant certificates must be valid at. */
typedef enum scitt_verify_x509_time {
    SCITT_VERIFY_X509_IAT = 0, /**< the statement's CWT iat, else scitt_verify_opts.at */
    SCITT_VERIFY_X509_AT,      /**< scitt_verify_opts.at */
    SCITT_VERIFY_X509_OFF,     /**< not checked */
} scitt_verify_x509_time;

/**
 * For reports: the label of a trusted service key (where it came from), or NULL; *attested set
 * when it is the receipt key a verified service bundle binds (its receipts must then name
 * scitt_verify_opts.bundle_issuer).
 */
typedef const char *(*scitt_verify_origin_fn)(void *ctx, const scitt_cose_key *key, bool *attested);

typedef struct scitt_verify_opts {
    const scitt_cose_keyset *keys; /**< the trusted service keys (required) */
    scitt_verify_origin_fn origin; /**< optional */
    void *origin_ctx;
    /** Receipts given beside the statement (name: their source in reports). */
    scitt_verify_input receipts[SCITT_LIMIT_RECEIPTS];
    size_t nreceipts;
    bool any;           /**< one verified receipt suffices (else every receipt must verify) */
    bool did_x509;      /**< iss must be a did:x509 (one is always resolved) */
    bool legacy_labels; /**< also accept 2023-era labels (CWT 13, receipts -333, vds -111) */
    scitt_verify_x509_time x509_time;
    int64_t at; /**< Unix seconds: CWT exp and nbf, certificates with SCITT_VERIFY_X509_AT */
    /** The detached payload; for a hash envelope the preimage; else compared with the attached. */
    scitt_verify_input payload;
    /** The largest payload checked as signed bytes (0: any); a larger one is SCITT_ERR_TOO_LARGE
     * (a preimage, only hashed, is not bounded here). */
    size_t payload_max;
    /** The issuer's pinned key: issuer_key_name set and either issuer_key or the reason it could
     * not be loaded (issuer_key_error). */
    const char *issuer_key_name;
    const scitt_cose_key *issuer_key;
    const char *issuer_key_error;
    /** Roots the x5chain must validate to: name set and either roots or roots_err. */
    const char *issuer_roots_name;
    const scitt_x509_roots *issuer_roots;
    scitt_err issuer_roots_err;
    /** Required values (NULL: any): the signed digest "[sha256:|sha384:|sha512:]HEX", iss, sub. */
    const char *want_digest, *want_iss, *want_sub;
    /** A C2SP tlog-policy, the cosigned checkpoint and a consistency receipt (name NULL: none). */
    scitt_verify_input witness_policy, checkpoint, consistency;
    /** The issuer a verified service bundle binds (NULL: no bundle); printable text. */
    const char *bundle_issuer;
} scitt_verify_opts;

/** What one receipt said, verified or not. */
typedef struct scitt_verify_receipt {
    const char *source; /**< "394", "-333", or the name of the receipt given */
    scitt_err err;      /**< SCITT_OK when it verified */
    int64_t vds, alg;
    char kid[160];    /**< printable ASCII as is, else hex */
    const char *from; /**< the origin of the trusted key that has its kid, or NULL */
    bool attested;    /**< verified with the receipt key of a service bundle */
    uint64_t tree_size, leaf_index;
    bool size_signed, legacy;
    char iss[200]; /**< the service it names, printable */
    uint8_t root[SCITT_HASH_LEN];
    /** The cosigned checkpoint the receipt carries (scitt_receipt_checkpoint; empty when none):
     *  the witness check's checkpoint when none is given. Points into the statement. */
    scitt_span checkpoint;
} scitt_verify_receipt;

typedef struct scitt_verify_result {
    scitt_check checks[SCITT_VERIFY_CHECKS_MAX];
    size_t nchecks;
    size_t failed;   /**< checks failed; 0: the statement verifies */
    char first[700]; /**< "name: detail" of the first failed check */
    scitt_verify_receipt receipts[SCITT_VERIFY_RECEIPTS_MAX];
    size_t nreceipts;
    bool decoded;        /**< the statement is a strict COSE_Sign1 (else nothing below) */
    char entry_id[65];   /**< hex SHA-256 of the registered form */
    scitt_span iss, sub; /**< CWT claims; they point into the statement */
    bool hash_envelope;  /**< the payload is a hash (COSE hash envelope) */
    scitt_span location; /**< a hash envelope's payload location, into the statement */
    const char *issuer_established; /**< how the issuer is established (a sentence), or NULL */
    const char *established_by;     /**< "issuer-key", "did:x509", "issuer-roots", or NULL */
    /** The signed digest: a hash envelope's payload (into the statement, or digest_buf for a
     * detached one), else the payload's SHA-256 (in digest_buf); empty when there is none. */
    scitt_span digest;
    int64_t digest_alg; /**< its COSE hash algorithm */
    uint8_t digest_buf[64];
} scitt_verify_result;

/** An empty result (no checks). */
SCITT_API void scitt_verify_result_init(scitt_verify_result *r);

/** Adds a check of the caller's (e.g. a service bundle's evidence) before or after the others. */
SCITT_API void scitt_verify_note(scitt_verify_result *r, const char *name, scitt_check_result res,
                                 const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/**
 * Runs every check on the transparent statement @p statement and appends them to @p r (which
 * may hold the caller's checks already). SCITT_OK when the checks ran (r->failed says whether it
 * verifies), SCITT_ERR_NOMEM when memory ran out, SCITT_ERR_INVALID_ARG without keys.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_verify_statement(scitt_span statement,
                                                          const scitt_verify_opts *o,
                                                          scitt_verify_result *r);

/**
 * The COSE hash algorithm a digest value names by its prefix (sha256:, sha384:, sha512:, any
 * case; 0 when it has none); false for another prefix.
 */
SCITT_API bool scitt_verify_digest_alg(const char *value, int64_t *alg);

/** "sha256", "sha384", "sha512" for a COSE hash algorithm, else NULL. */
SCITT_API const char *scitt_verify_hash_name(int64_t alg);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_VERIFY_H */
