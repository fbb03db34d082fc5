/*
 * scitt/dcap.h — Intel DCAP evidence: TDX quotes (version 4, TEE type 0x81) and SGX quotes
 * (version 3) parsed strictly and verified offline against the collateral Intel's provisioning
 * certification service (PCS) publishes. Part of libscitt.
 *
 * Like the SEV-SNP verifier (scitt/tee.h), nothing here reads a clock, a file or the network: the
 * caller hands in the quote bytes, the collateral bytes and the time. Trust comes only from the
 * Intel SGX Root CA, pinned in the binary by the SHA-256 of its DER; the copies of the root that
 * travel with the quote and the collateral are used only when they hash to that pin.
 *
 * The chain a successful scitt_dcap_verify establishes:
 *   pinned root -> PCK Platform/Processor CA -> PCK certificate (FMSPC, PCE-ID, CPU SVN, PCE SVN)
 *     -> QE report signature -> QE report_data = SHA-256(attestation key || QE auth data)
 *     -> quote signature over header || body (the TD report or the enclave report);
 *   pinned root -> TCB Signing certificate -> TCB info and QE identity (signatures over the exact
 *     bytes of their "tcbInfo" / "enclaveIdentity" values), each inside its issueDate..nextUpdate;
 *   then the TCB evaluation: the platform's TCB level, the TDX module's and the QE's, converged
 *   into one status with its advisory IDs, which the caller's accept list admits or refuses.
 *
 * Errors are classes (scitt/base.h), the scitt_tee_reason names the check (scitt/tee.h,
 * SCITT_TEE_DCAP_*; scitt_tee_reason_str() gives a sentence):
 *   SCITT_ERR_EVIDENCE_MALFORMED  the quote, a PEM, a CRL or a collateral JSON does not parse
 *   SCITT_ERR_UNSUPPORTED         a well-formed quote of a version, key or data type not handled
 *   SCITT_ERR_UNTRUSTED           a root presented is not the pinned one
 *   SCITT_ERR_CERT_CHAIN          a chain, CRL signature or revocation check failed
 *   SCITT_ERR_EXPIRED             a certificate, CRL or collateral document is outside its window
 *   SCITT_ERR_SIGNATURE           the quote or the QE report signature does not verify
 *   SCITT_ERR_BINDING             the QE report does not bind the attestation key
 *   SCITT_ERR_EVIDENCE            collateral that does not belong to this quote, or no TCB level
 *   SCITT_ERR_POLICY              authentic evidence whose TCB status the caller does not accept
 */
#ifndef SCITT_DCAP_H
#define SCITT_DCAP_H

#include "scitt/base.h"
#include "scitt/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Quotes                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** The TEE a quote comes from: the header's tee_type value (version 3 quotes are SGX). */
typedef enum scitt_dcap_tee {
    SCITT_DCAP_TEE_SGX = 0x00,
    SCITT_DCAP_TEE_TDX = 0x81,
} scitt_dcap_tee;

/** "sgx" or "tdx" (or "unknown"); never NULL. */
SCITT_API const char *scitt_dcap_tee_name(scitt_dcap_tee tee);

#define SCITT_DCAP_HEADER_LEN     48u
#define SCITT_DCAP_TD_REPORT_LEN  584u        /**< TD report body of a v4 quote (TDX 1.0) */
#define SCITT_DCAP_SGX_REPORT_LEN 384u        /**< SGX enclave report body, also the QE report */
#define SCITT_DCAP_QUOTE_MAX      (64u << 10) /**< longest quote accepted (SCITT_ERR_TOO_LARGE) */
#define SCITT_DCAP_AUTH_DATA_MAX  4096u       /**< longest QE authentication data accepted */
#define SCITT_DCAP_KEY_ECDSA_P256 2u          /**< the only attestation key type verified */
#define SCITT_DCAP_CERT_PCK_CHAIN 5u          /**< certification data: PCK chain, PEM */
#define SCITT_DCAP_CERT_QE_REPORT 6u          /**< certification data: QE report (v4) */

/** A TDX TD report (TDREPORT body, TDX 1.0 layout), every field copied out of the quote. */
typedef struct scitt_dcap_td_report {
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[48];
    uint8_t mrsignerseam[48];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mrtd[48];
    uint8_t mrconfigid[48];
    uint8_t mrowner[48];
    uint8_t mrownerconfig[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
} scitt_dcap_td_report;

/** An SGX enclave report body (the application enclave's, or the QE's). */
typedef struct scitt_dcap_enclave_report {
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t isv_ext_prod_id[16];
    uint8_t attributes[16];
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint8_t config_id[64];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t isv_family_id[16];
    uint8_t report_data[64];
} scitt_dcap_enclave_report;

/**
 * A parsed quote. Fixed fields are copied; spans point into the quote given to
 * scitt_dcap_quote_parse and live as long as it.
 */
typedef struct scitt_dcap_quote {
    uint16_t version;      /**< 3 (SGX) or 4 (TDX) */
    uint16_t att_key_type; /**< 2: ECDSA P-256 */
    scitt_dcap_tee tee;
    uint16_t qe_svn;  /**< version 3 only (reserved in 4) */
    uint16_t pce_svn; /**< version 3 only (reserved in 4) */
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    scitt_dcap_td_report td;           /**< TDX */
    scitt_dcap_enclave_report enclave; /**< SGX */
    scitt_span signed_part;            /**< header || body: what the quote signature covers */
    uint8_t signature[64];             /**< r || s, big-endian */
    uint8_t att_key[64];               /**< attestation public key x || y, big-endian */
    scitt_span qe_report;              /**< the 384 raw bytes the QE report signature covers */
    scitt_dcap_enclave_report qe;      /**< qe_report parsed */
    uint8_t qe_report_signature[64];   /**< r || s by the PCK key */
    scitt_span qe_auth_data;
    uint16_t cert_data_type; /**< always SCITT_DCAP_CERT_PCK_CHAIN once parsed */
    scitt_span cert_data;    /**< the PCK chain: PEM leaf, intermediate, root */
    size_t quote_len;        /**< bytes up to the end of the signature data */
    size_t trailing_len;     /**< bytes after it (no signature covers them) */
    bool trailing_zero;      /**< every trailing byte is zero (a fixed-size buffer's padding) */
} scitt_dcap_quote;

/**
 * Parses a quote strictly: every length checked against what is left, the signature data length
 * equal to what its parts use, version 4 with TEE type 0x81 or version 3 with TEE type 0, key
 * type 2, Intel's QE vendor ID, version-4 certification data of type 6 holding the QE report, and
 * a PCK chain of type 5. Bytes after the signature data are reported in trailing_len (the verifier
 * decides about them). Nothing is verified.
 * Errors: SCITT_ERR_EVIDENCE_MALFORMED or SCITT_ERR_UNSUPPORTED (another version, TEE, key or
 * certification data type), SCITT_ERR_TOO_LARGE; @p why names the rule.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_quote_parse(scitt_span in, scitt_dcap_quote *out,
                                                          scitt_tee_reason *why);

/* ------------------------------------------------------------------------------------------ */
/* TCB status                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** TCB statuses as Intel's TCB info and QE identity name them. Numbers never change. */
typedef enum scitt_dcap_tcb_status {
    SCITT_DCAP_TCB_UNKNOWN = 0, /**< not evaluated */
    SCITT_DCAP_TCB_UP_TO_DATE = 1,
    SCITT_DCAP_TCB_SW_HARDENING_NEEDED = 2,
    SCITT_DCAP_TCB_CONFIGURATION_NEEDED = 3,
    SCITT_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED = 4,
    SCITT_DCAP_TCB_OUT_OF_DATE = 5,
    SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED = 6,
    SCITT_DCAP_TCB_REVOKED = 7,
    SCITT_DCAP_TCB_NOT_SUPPORTED = 8, /**< no TCB level of the collateral matches the platform */
} scitt_dcap_tcb_status;

/** Intel's name ("UpToDate", "SWHardeningNeeded", ..., "TcbNotSupported"); never NULL. */
SCITT_API const char *scitt_dcap_tcb_status_name(scitt_dcap_tcb_status s);
/** The status named @p name exactly (case-sensitive, as Intel spells it); SCITT_ERR_NOT_FOUND. */
SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_tcb_status_from_name(scitt_span name,
                                                                   scitt_dcap_tcb_status *out);

/** The accept-list bit of one status. */
#define SCITT_DCAP_ACCEPT(status) (1u << (unsigned)(status))
/** The default accept list: UpToDate only. */
#define SCITT_DCAP_ACCEPT_DEFAULT SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_UP_TO_DATE)

/**
 * Parses a comma-separated list of status names ("UpToDate,SWHardeningNeeded") into accept bits
 * (what `--accept-tcb` and the registration policy take). Empty items, unknown names, "Revoked"
 * and "TcbNotSupported" (which no list can admit) are SCITT_ERR_INVALID_ARG.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_accept_parse(scitt_span list, uint32_t *out);

/* ------------------------------------------------------------------------------------------ */
/* Collateral                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * The collateral items, each one file of a collateral directory in the forms the PCS publishes.
 * PEM is accepted wherever DER is (CRLs).
 */
typedef enum scitt_dcap_item {
    SCITT_DCAP_TCB_INFO = 0,          /**< tcb_info.json: {"tcbInfo":{...},"signature":"hex"} */
    SCITT_DCAP_TCB_INFO_CHAIN = 1,    /**< tcb_info_issuer_chain.pem: TCB Signing, root */
    SCITT_DCAP_QE_IDENTITY = 2,       /**< qe_identity.json: {"enclaveIdentity":{...},...} */
    SCITT_DCAP_QE_IDENTITY_CHAIN = 3, /**< qe_identity_issuer_chain.pem: TCB Signing, root */
    SCITT_DCAP_PCK_CRL = 4,           /**< pck_crl.der: the PCK Platform or Processor CA's CRL */
    SCITT_DCAP_PCK_CRL_CHAIN = 5,     /**< pck_crl_issuer_chain.pem: PCK CA, root */
    SCITT_DCAP_ROOT_CRL = 6,          /**< root_ca_crl.der: the Intel SGX Root CA's CRL */
    SCITT_DCAP_ITEMS = 7,
} scitt_dcap_item;

/** The file name of @p item in a collateral directory ("tcb_info.json", ...); never NULL. */
SCITT_API const char *scitt_dcap_item_file(scitt_dcap_item item);
/** True for the items verification cannot do without (TCB info, QE identity, their chains). The
 *  CRLs and the PCK CRL chain are optional: without them no revocation is checked, and the result
 *  says so. */
SCITT_API bool scitt_dcap_item_required(scitt_dcap_item item);

/** Largest collateral file accepted (SCITT_ERR_TOO_LARGE beyond). */
#define SCITT_DCAP_COLLATERAL_FILE_MAX (1u << 20)

/**
 * A parsed collateral set. Built once (e.g. from a directory, refreshed on SIGHUP) and then
 * shared: any number of threads may call scitt_dcap_verify with it at once. It also keeps a
 * bounded, thread-safe cache of the PCK certificates (32) and attestation keys (16) parsed from
 * the quotes verified with it, keyed by the SHA-256 of their bytes, so that quotes of the same
 * platforms are not parsed again; the cache saves parsing only, every check runs on every call.
 */
typedef struct scitt_dcap_collateral scitt_dcap_collateral;

SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_collateral_new(scitt_dcap_collateral **out);
/** NULL is a no-op. */
SCITT_API void scitt_dcap_collateral_free(scitt_dcap_collateral *c);
/**
 * Copies and parses one item, replacing any earlier one; on failure the set keeps what it had.
 * JSON documents must be exactly {"tcbInfo"|"enclaveIdentity": {...}, "signature": 128 hex
 * digits} with every field verification uses present and well-typed; chains 1 to 4 PEM
 * certificates; CRLs one DER or PEM CRL. Nothing is verified here.
 * Errors: SCITT_ERR_EVIDENCE_MALFORMED, SCITT_ERR_UNSUPPORTED (a TCB info or QE identity
 * version other than 3 / 2), SCITT_ERR_TOO_LARGE, SCITT_ERR_NOMEM, SCITT_ERR_INVALID_ARG.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_collateral_set(scitt_dcap_collateral *c,
                                                             scitt_dcap_item item, scitt_span bytes,
                                                             scitt_tee_reason *why);
/** True when @p item has been set. */
SCITT_API bool scitt_dcap_collateral_has(const scitt_dcap_collateral *c, scitt_dcap_item item);

/* ------------------------------------------------------------------------------------------ */
/* Verification                                                                                */
/* ------------------------------------------------------------------------------------------ */

/** SHA-256 of the DER of the Intel SGX Root CA (CN=Intel SGX Root CA, 2018-05-21 to 2049). */
SCITT_API extern const uint8_t scitt_dcap_intel_root_sha256[32];

typedef struct scitt_dcap_verify_opts {
    int64_t now;                /**< Unix seconds: certificates, CRLs and collateral windows */
    const uint8_t *root_sha256; /**< 32 bytes replacing the Intel pin, or NULL */
    uint32_t accept;            /**< SCITT_DCAP_ACCEPT bits; 0 means the default (UpToDate) */
    bool allow_trailing;        /**< accept non-zero bytes after the signature data */
} scitt_dcap_verify_opts;

/** The Intel pin, UpToDate only, zero padding after the quote only, at time @p now. */
SCITT_API void scitt_dcap_verify_opts_init(scitt_dcap_verify_opts *o, int64_t now);

#define SCITT_DCAP_MAX_ADVISORIES 64u
#define SCITT_DCAP_ADVISORY_MAX   32u /**< bytes of one advisory ID with its NUL */

/**
 * What verification established. Plain values, no pointers. `authentic` is true when every
 * signature, chain, CRL, validity window and collateral match passed; only then are the fields
 * below it meaningful (the TCB evaluation may still refuse the evidence). When `authentic` is
 * false, only `why` is set.
 */
typedef struct scitt_dcap_result {
    scitt_tee_reason why; /**< SCITT_TEE_OK on success, else the check that refused */
    bool authentic;
    scitt_dcap_tee tee;
    uint16_t quote_version;
    scitt_dcap_td_report td;           /**< TDX: MRTD, RTMR0-3, MRSEAM, report_data, ... */
    scitt_dcap_enclave_report enclave; /**< SGX: MRENCLAVE, MRSIGNER, ISV product ID, SVN, ... */
    scitt_dcap_enclave_report qe;      /**< the quoting enclave's report */
    uint8_t user_data[20];
    /* From the PCK certificate. */
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    uint16_t pce_svn;
    uint8_t cpusvn_components[16];
    uint8_t sgx_type; /**< 0 Standard, 1 Scalable, 2 Scalable with integrity */
    /* TCB evaluation. */
    scitt_dcap_tcb_status tcb_status;        /**< the converged status the accept list judges */
    scitt_dcap_tcb_status platform_status;   /**< the matching TCB level's own status */
    scitt_dcap_tcb_status tdx_module_status; /**< TDX with module identities, else UNKNOWN */
    scitt_dcap_tcb_status qe_status;         /**< from the QE identity */
    int64_t tcb_date;                        /**< the matching level's tcbDate (Unix seconds) */
    uint64_t tcb_evaluation_data_number;
    size_t n_advisory_ids; /**< the union of the matching levels' IDs, in first-seen order */
    char advisory_ids[SCITT_DCAP_MAX_ADVISORIES][SCITT_DCAP_ADVISORY_MAX];
    bool pck_crl_checked;  /**< the PCK certificate was looked up in a current PCK CRL */
    bool root_crl_checked; /**< the PCK CA and TCB Signing certificates in the root CRL */
    int64_t valid_from;    /**< the latest start of every window used */
    int64_t valid_until;   /**< the earliest end: re-verify with fresh collateral after it */
    uint8_t root_sha256[32];
} scitt_dcap_result;

/**
 * Verifies @p quote with @p collateral at opts->now, offline, in this order (the first failure is
 * returned and named in out->why):
 *  1. the quote parses (scitt_dcap_quote_parse); bytes after its signature data must be zero
 *     unless opts->allow_trailing;
 *  2. the PCK chain in the quote: leaf, PCK CA, root; the root hashes to the pin; issuer names
 *     chain; every key P-256, every signature ECDSA-SHA256 and valid, the CA certificates marked
 *     CA; every certificate valid at now;
 *  3. the root CRL (when given): issued and signed by the root, current, the PCK CA not listed;
 *     the PCK CRL (when given): issued and signed by the PCK CA of the quote, current, the PCK
 *     certificate not listed; the PCK CRL chain (when given) ends in the pinned root and names the
 *     same CA;
 *  4. the PCK certificate's SGX extensions (FMSPC, PCE-ID, TCB components, PCE SVN) parse;
 *  5. the QE report signature with the PCK key; the quote signature over header || body with the
 *     attestation key (a key that is not a P-256 point: SCITT_TEE_DCAP_ATT_KEY); QE
 *     report_data[0:32] = SHA-256(attestation key || QE auth data) and [32:64] zero;
 *  6. the TCB info and QE identity issuer chains: TCB Signing certificate signed by the pinned
 *     root, valid, not in the root CRL; their signatures over the exact bytes of the tcbInfo /
 *     enclaveIdentity values;
 *  7. the collateral belongs to the quote: tcbInfo.id TDX/SGX and enclaveIdentity.id TD_QE/QE
 *     for the quote's TEE, FMSPC and PCE-ID equal to the PCK certificate's; then both documents
 *     are current (issueDate <= now <= nextUpdate); the QE report matches the QE identity
 *     (MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES); for TDX the TDX module identity
 *     (TDX_<TEE_TCB_SVN[1]>, or tdxModule for module version 0) matches MRSIGNERSEAM and the
 *     masked SEAM attributes;
 *  8. TCB evaluation: the first level whose 16 SGX components and PCE SVN are <= the PCK
 *     certificate's (and, for TDX, whose TDX components are <= TEE_TCB_SVN, from index 2 when
 *     TEE_TCB_SVN[1] > 0) gives the platform status (none: SCITT_ERR_EVIDENCE,
 *     SCITT_TEE_DCAP_TCB_NOT_SUPPORTED); the TDX module level (by TEE_TCB_SVN[0]) and the QE level
 *     (by its ISVSVN) give theirs (none: OutOfDate); Revoked anywhere makes Revoked, OutOfDate
 *     makes UpToDate/SWHardeningNeeded OutOfDate and the Configuration* statuses
 *     OutOfDateConfigurationNeeded;
 *  9. the converged status must be in opts->accept (Revoked never is): SCITT_ERR_POLICY,
 *     SCITT_TEE_DCAP_TCB_STATUS otherwise.
 * @p opts NULL means scitt_dcap_verify_opts_init(now = 0), which every window refuses: pass opts.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_verify(scitt_span quote,
                                                     const scitt_dcap_collateral *collateral,
                                                     const scitt_dcap_verify_opts *opts,
                                                     scitt_dcap_result *out);

/** Parses "YYYY-MM-DDTHH:MM:SSZ" (the collateral's date form) into Unix seconds. */
SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_time_parse(scitt_span text, int64_t *out);

/**
 * The SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1), as the PCS issues them.
 */
typedef struct scitt_dcap_pck_ext {
    uint8_t ppid[16];
    uint8_t cpusvn_components[16]; /**< sgxTcbComp01Svn .. 16 */
    uint16_t pce_svn;
    uint8_t cpusvn[16];
    uint8_t pce_id[2];
    uint8_t fmspc[6];
    uint8_t sgx_type;
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    bool has_configuration;
    bool dynamic_platform, cached_keys, smt_enabled;
} scitt_dcap_pck_ext;

/**
 * Parses the DER value of the SGX extensions (the extnValue contents) strictly: definite
 * shortest-form lengths, the known members once each in any order, every byte consumed.
 * SCITT_ERR_EVIDENCE_MALFORMED (SCITT_TEE_DCAP_PCK_EXTENSION) otherwise.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_dcap_pck_ext_parse(scitt_span der, scitt_dcap_pck_ext *out,
                                                            scitt_tee_reason *why);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_DCAP_H */
