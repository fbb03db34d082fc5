/* Internal to ledger/: the parsed policy, shared by the parser and the admission check. */
#ifndef SCITT_POLICY_INT_H
#define SCITT_POLICY_INT_H

#include "scitt/policy.h"
#include "scitt/x509.h"

#define MAX_ALGS  16
#define MAX_TYPES 64
#define MAX_RULES 64

/* Default and largest clock skew allowed for CWT exp / nbf (seconds). */
#define CLOCK_SKEW_DEFAULT 60
#define CLOCK_SKEW_MAX     86400

typedef enum { TIME_REGISTRATION, TIME_IAT, TIME_OFF } time_mode;

/* "measurement_endorsement": the statement's measurement must be endorsed by a transparent
 * statement from one of these issuers, with a receipt from a trusted transparency service. */
#define MAX_ENDORSERS 16
typedef struct endorsement_rule {
    bool required;
    char *issuers[MAX_ENDORSERS];
    size_t nissuers;
    scitt_cose_keyset *issuer_keys;  /* keys of the endorsing issuers (by kid) */
    scitt_cose_keyset *receipt_keys; /* keys of the transparency services trusted for receipts */
} endorsement_rule;

/* The protected header label that carries the endorsing transparent statement. */
#define ENDORSEMENT_LABEL "measurement_endorsement"

/* "tee": the rule's statements are Intel TDX or SGX measurement statements (as `scitt sign
 * --measurement tdx:/sgx:`, --tdx-quote, --sgx-quote make them), with allow-lists of the
 * measurements and, with "evidence", a DCAP quote and its collateral carried in the protected
 * header, verified at the statement's iat (docs/policy.md). */
#define MAX_MEAS 16
typedef struct meas_list {
    bool set; /* listed in the policy: the value must be one of these */
    size_t n;
    uint8_t v[MAX_MEAS][48]; /* each of the rule's length (48, or 32 for SGX) */
} meas_list;

typedef struct tee_rule {
    bool required;
    int platform;         /* scitt_dcap_tee */
    meas_list payload;    /* MRTD (TDX) or MRENCLAVE (SGX): the hash envelope's payload */
    meas_list rtmr[4];    /* TDX: the "rtmr0".."rtmr3" claims (or the quote's) */
    meas_list mrsigner;   /* SGX: the "mrsigner" claim (or the quote's) */
    bool evidence;        /* a quote and collateral must be carried and verify */
    bool attested_issuer; /* the quote's REPORTDATA binds the key that signed the statement,
                           * whatever the statement says (not a measurement statement) */
    uint32_t accept;      /* SCITT_DCAP_ACCEPT bits; default UpToDate only */
    bool has_root;        /* root_sha256 replaces the Intel SGX Root CA pin */
    uint8_t root[SCITT_SHA256_LEN];
} tee_rule;

/* The protected header labels that carry the evidence. */
#define TEE_QUOTE_LABEL      "dcap_quote"
#define TEE_COLLATERAL_LABEL "dcap_collateral"

/* How a rule with x509_roots ties the statement's iss to its x5chain leaf. */
typedef enum { BIND_NONE, BIND_SAN_URI, BIND_DID_X509 } iss_binding;

#define MAX_EKUS 16

typedef struct rule {
    char *iss;        /* exact match */
    char *iss_prefix; /* prefix match */
    bool did_x509;    /* iss is a did:x509 resolved against the x5chain */
    scitt_cose_keyset *keys;
    scitt_x509_roots *roots; /* with the rule's CRLs, if any */
    char *ekus[MAX_EKUS];    /* purposes the leaf may have (none listed: code signing) */
    size_t nekus;
    iss_binding bind;
    bool self_signed;
    endorsement_rule endorse;
    tee_rule tee;
    /* SHA-256 of everything a validation of an x5chain under this rule depends on besides the
     * chain, the iss and the instant: the roots and CRLs (their digest), did_x509, bind_iss and
     * the EKUs (scitt__policy_rule_digest). */
    uint8_t digest[SCITT_SHA256_LEN];
} rule;

struct scitt_policy {
    uint8_t *text;
    size_t text_len;
    bool development;
    int64_t algs[MAX_ALGS];
    size_t nalgs;
    size_t max_bytes;
    time_mode tmode;
    bool need_iat, need_nbf, need_exp;
    int64_t clock_skew; /* seconds of leeway for the statement's CWT exp and nbf */
    char *ctypes[MAX_TYPES];
    size_t nctypes;
    bool have_ctypes;
    char *ptypes[MAX_TYPES];
    size_t nptypes;
    bool have_ptypes;
    rule rules[MAX_RULES];
    size_t nrules;
};

/* How many look-ups of @p c found an entry that holds (tests). */
uint64_t scitt__key_cache_hits(scitt_key_cache *c);

/* Sets @p r->digest from the rule as parsed. */
void scitt__policy_rule_digest(rule *r);
/* A refusal reason into @p out (NULL or 0: nothing): one line, control characters as '?'. */
void scitt__policy_say(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The name under which the policy cache keeps a successful validation: SHA-256 over the rule's
 * digest, whether certificate times are checked, the iss and every certificate of the chain
 * (each part preceded by its length). False (no name: the cache is not used) for more than
 * SCITT_LIMIT_X5CHAIN_CERTS certificates.
 */
bool scitt__policy_cache_key(const uint8_t rule_digest[SCITT_SHA256_LEN], bool time_check,
                             scitt_span iss, const scitt_span *chain, size_t n,
                             uint8_t out[SCITT_SHA256_LEN]);

#endif
