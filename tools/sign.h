/*
 * tools/sign.h — what `scitt sign` puts in a statement, worked out from its inputs (a payload
 * file, an image digest, an OCI layout or `docker save` archive, an enclave measurement, a hash of
 * a file). docs/statements.md describes each shape. Internal to tools/.
 */
#ifndef SCITT_TOOLS_SIGN_H
#define SCITT_TOOLS_SIGN_H

#include "cli.h"

#define SIGN_CLAIMS_MAX 8

/* An extra CWT claim with a text key (RFC 8392 allows them; Azure uses "svn"). */
typedef struct sign_claim {
    const char *key;
    enum { CLAIM_INT, CLAIM_BYTES, CLAIM_TEXT } kind;
    int64_t i;
    uint8_t b[64];
    size_t blen;
    char t[128];
} sign_claim;

typedef struct sign_plan {
    scitt_dynbuf payload;
    bool detached;
    const char *content_type; /* 3, for plain payloads */
    int64_t hash_alg;         /* 258; 0 = not a hash envelope */
    char preimage_type[256];  /* 259 */
    char location[2048];      /* 260, empty = absent */
    sign_claim claims[SIGN_CLAIMS_MAX];
    size_t nclaims;
    char default_sub[1024]; /* when --sub is not given (images: the repository) */
    const char *kind;       /* "payload", "image", "measurement", "hash-envelope" */
    /* --collateral DIR with a DCAP quote: protected "dcap_quote" (bstr) and "dcap_collateral"
     * ({file name: bstr}), as encoded CBOR items; empty when not asked for */
    scitt_dynbuf dcap_quote, dcap_collateral;
} sign_plan;

void plan_init(sign_plan *p);
void plan_clear(sign_plan *p);

int plan_payload(sign_plan *p, const char *file, const char *content_type, bool detached);
/**
 * --image REF (--index: the digest is of an image index): REF normalised; without a digest it is
 * resolved in the registry through @p reg (and --index taken from the manifest's media type).
 */
struct oci_client_opts;
int plan_image_ref(sign_plan *p, const char *ref, bool index, const struct oci_client_opts *reg);
/**
 * --oci-layout DIR (tar false) or --docker-archive FILE (tar true): the manifest named @p ref
 * (or the only one); @p image_name (may be NULL) names the repository for 260 and sub.
 */
int plan_oci(sign_plan *p, const char *path, bool tar, const char *ref, const char *image_name);
/** --measurement snp|tdx|sgx:HEX (tdx:HEX,rtmrN=HEX,... adds "rtmrN" claims) */
int plan_measurement(sign_plan *p, const char *spec);
/** --tdx-quote FILE (@p tdx) or --sgx-quote FILE: the measurements of a DCAP quote, parsed
 *  strictly but not verified. */
int plan_dcap_quote(sign_plan *p, const char *file, bool tdx);
/** --collateral DIR: the quote @p file and the collateral directory @p dir carried in the
 *  protected header (the registration policy's "tee" evidence, docs/policy.md); every file of
 *  the directory must parse and the required ones be there. */
int plan_dcap_evidence(sign_plan *p, const char *file, const char *dir);
/** --snp-report FILE: the measurement, host_data and guest SVN of a report. */
int plan_snp_report(sign_plan *p, const char *file);
/** --host-data HEX or --policy-file FILE (host_data = SHA-256 of the policy). */
int plan_host_data(sign_plan *p, const char *hex, const char *policy_file);
/** --svn N */
int plan_svn(sign_plan *p, uint64_t svn);
/** --hash-envelope FILE --preimage-content-type CT [--location URI] [--hash-alg ALG] */
int plan_hash_envelope(sign_plan *p, const char *file, const char *preimage_type,
                       const char *location, const char *hash_alg);

#endif
