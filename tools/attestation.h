/*
 * tools/attestation.h — checking TEE evidence for `scitt attest verify` and `scitt verify
 * --service-bundle`: the options both take, the check itself (scitt_attest_verify for a service
 * bundle, scitt_snp_verify and the SNP policy for a bare report), and its report as text or JSON.
 * Internal to tools/.
 */
#ifndef SCITT_TOOLS_ATTESTATION_H
#define SCITT_TOOLS_ATTESTATION_H

#include "cli.h"
#include "trust.h"

#include "scitt/attest.h"
#include "scitt/dcap.h"
#include "scitt/tee.h"

#define ATTEST_LIST_MAX  16u /* --expect-measurement, --expect-host-data, --min-tcb values */
#define ATTEST_CERTS_MAX 8u  /* --certs files */
#define ATTEST_FILE_MAX  (1u << 20)

/** What the relying party requires, from the command line. */
typedef struct attest_req {
    bool allow_insecure_virtual;
    uint8_t meas[ATTEST_LIST_MAX * SCITT_ATTEST_MEASUREMENT_LEN];
    size_t n_meas;
    uint8_t host[ATTEST_LIST_MAX * 32];
    size_t n_host;
    scitt_snp_min_tcb min_tcb[ATTEST_LIST_MAX];
    size_t n_min_tcb;
    uint8_t nonce[32];
    size_t nonce_len;
    bool has_nonce;
    uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN]; /* bare reports: --expect-report-data */
    bool has_report_data;
    int64_t now; /* --at, else the current time */
    bool has_now;
    const char *certs[ATTEST_CERTS_MAX];
    size_t n_certs;
    /* Intel TDX / SGX: --expect-mrtd goes into meas (MRTD is the TD's launch measurement) */
    const char *collateral; /* --collateral DIR */
    uint32_t accept;        /* --accept-tcb; 0: UpToDate only */
    uint8_t rtmr[4 * 48];   /* --expect-rtmr N=HEX */
    unsigned rtmr_set;
    uint8_t mrenclave[ATTEST_LIST_MAX * 32];
    size_t n_mrenclave;
    uint8_t mrsigner[ATTEST_LIST_MAX * 32];
    size_t n_mrsigner;
    bool intel_given; /* any of the Intel options above */
} attest_req;

/* getopt_long codes of the attestation options; commands add the entries they accept. */
enum {
    AO_MEAS = 0x200,
    AO_HOST,
    AO_MIN_TCB,
    AO_INSECURE,
    AO_NONCE,
    AO_AT,
    AO_CERTS,
    AO_REPORT_DATA,
    AO_COLLATERAL,
    AO_ACCEPT_TCB,
    AO_MRTD,
    AO_RTMR,
    AO_MRENCLAVE,
    AO_MRSIGNER,
    AO_END
};

/* What both commands accept (the policy of a bundle). */
#define ATTEST_POLICY_OPTIONS                                                                      \
    {"expect-measurement", 1, 0, AO_MEAS}, {"expect-host-data", 1, 0, AO_HOST},                    \
        {"min-tcb", 1, 0, AO_MIN_TCB}, {"allow-insecure-virtual", 0, 0, AO_INSECURE},              \
        {"nonce", 1, 0, AO_NONCE}, {"collateral", 1, 0, AO_COLLATERAL},                            \
        {"accept-tcb", 1, 0, AO_ACCEPT_TCB}, {"expect-mrtd", 1, 0, AO_MRTD},                       \
        {"expect-rtmr", 1, 0, AO_RTMR}, {"expect-mrenclave", 1, 0, AO_MRENCLAVE},                  \
    {                                                                                              \
        "expect-mrsigner", 1, 0, AO_MRSIGNER                                                       \
    }

#define ATTEST_POLICY_HELP                                                                         \
    "  --expect-measurement HEX  the launch measurement (48 bytes) the code must have;\n"          \
    "                       repeatable: any of them. Virtual: SHA-384 of the scittd binary\n"      \
    "  --expect-host-data HEX    HOST_DATA (32 bytes; Confidential ACI: SHA-256 of the\n"          \
    "                       security policy); repeatable\n"                                        \
    "  --min-tcb PRODUCT:bl=N,tee=N,snp=N,ucode=N[,fmc=N]  (or PRODUCT:0xTCB) the lowest\n"        \
    "                       REPORTED_TCB accepted for milan, genoa or turin; once per product\n"   \
    "  --allow-insecure-virtual  accept the unsigned evidence of the virtual platform (tests\n"    \
    "                       only: it proves nothing and is reported as INSECURE)\n"                \
    "  --nonce HEX          the nonce (up to 32 bytes) the bundle was fetched with\n"

/* The Intel options, for `scitt attest verify --help` (scitt verify names them in one line). */
#define ATTEST_INTEL_HELP_SHORT                                                                    \
    "  TDX/SGX bundles: --collateral DIR, --accept-tcb LIST, --expect-mrtd HEX,\n"                 \
    "                       --expect-rtmr N=HEX, --expect-mrenclave HEX, --expect-mrsigner HEX\n"  \
    "                       (scitt attest verify --help)\n"

#define ATTEST_INTEL_HELP                                                                          \
    "Intel TDX and SGX (DCAP quotes, verified to Intel's pinned SGX Root CA):\n"                   \
    "  --collateral DIR     tcb_info.json, qe_identity.json, their issuer chains and the CRLs\n"   \
    "                       (docs/tee.md); replaces a bundle's own; needed for a bare quote\n"     \
    "  --accept-tcb LIST    TCB statuses accepted, e.g. UpToDate,SWHardeningNeeded (default\n"     \
    "                       UpToDate; Revoked and TcbNotSupported never are)\n"                    \
    "  --expect-mrtd HEX    the TD's MRTD (48 bytes); repeatable: any of them\n"                   \
    "  --expect-rtmr N=HEX  RTMR N (0..3, 48 bytes) must be HEX; once per N\n"                     \
    "  --expect-mrenclave HEX  the enclave's MRENCLAVE (32 bytes); repeatable\n"                   \
    "  --expect-mrsigner HEX   the enclave's MRSIGNER (32 bytes); repeatable\n"

/** Zeroes @p r. */
void attest_req_init(attest_req *r);
/** Takes one attestation option (@p code from the enum above); CLI_OK or a usage message. */
int attest_option(attest_req *r, int code, const char *arg);

/** Everything learnt about one input, verified or not. Release with attest_view_clear. */
typedef struct attest_view {
    bool is_bundle;
    char platform[16];
    bool insecure;
    /* the verdict */
    scitt_err err;
    scitt_tee_reason why;
    char reason[512];
    /* SNP report fields, whenever the report parses */
    bool have_report;
    scitt_snp_report report;
    scitt_snp_product product;
    char product_name[32]; /* the VCEK's productName1, else "" */
    bool have_tcb;
    scitt_snp_tcb tcb; /* REPORTED_TCB in the product's layout */
    bool have_ark;
    uint8_t ark_sha256[32];
    /* TDX / SGX: what DCAP verification established (dcap.authentic), or the quote parsed */
    bool have_dcap;
    scitt_dcap_result dcap;
    bool have_quote; /* the quote parses (its fields are claims until dcap.authentic) */
    scitt_dcap_quote quote;
    /* virtual evidence fields */
    bool have_virtual;
    scitt_attest_virtual virt;
    /* the identity document (bundles), whenever it parses */
    bool have_identity;
    scitt_identity identity;     /* spans into `bytes` */
    scitt_cose_key *receipt_key; /* NULL when the COSE_Key does not load */
    uint8_t identity_sha256[32];
    int64_t now;        /* the time certificates were checked at */
    scitt_dynbuf bytes; /* the bundle as verified (with --certs merged in) */
} attest_view;

/**
 * Checks @p input (a service bundle, or an SNP report when r->n_certs > 0 or it carries no
 * identity) against @p r. Returns CLI_OK when it verified (v->insecure says whether only
 * because insecure virtual evidence was allowed), CLI_FAIL when a check failed (v->reason says
 * which, also for a --certs file that holds no certificates), CLI_USAGE when a file cannot be
 * read, a bare report comes without --certs, or an option does not fit the input.
 */
int attest_run(const attest_req *r, scitt_span input, attest_view *v);
void attest_view_clear(attest_view *v);

/** Prints the fields and the verdict for `scitt attest verify`. */
void attest_print(const attest_view *v, const attest_req *r, const char *file, bool json);
/** One line saying what a verified bundle established (for `scitt verify`'s report). */
void attest_summary(const attest_view *v, const attest_req *r, char *out, size_t cap);
/** The bundle's fields as a JSON object value (for `scitt verify --json`). */
void attest_json(scitt_json_writer *j, const attest_view *v, const attest_req *r);

/**
 * `scitt verify --service-bundle`: checks the bundle in @p file and, when it verifies, trusts its
 * receipt key under the label "service bundle FILE". CLI_USAGE for an unreadable file or a
 * missing --expect-measurement with SNP evidence; otherwise CLI_OK, with v->err saying whether
 * the bundle verified.
 */
int attest_trust_bundle(const char *file, const attest_req *r, trust *t, attest_view *v);

/** The standard warning for accepted virtual evidence (stderr, one line). */
void attest_warn_insecure(void);

#endif
