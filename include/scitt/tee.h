/*
 * scitt/tee.h — TEE evidence: AMD SEV-SNP report parsing and pure offline verification (part of
 * libscitt), and evidence acquisition from the guest (configfs-tsm, /dev/sev-guest; the
 * scitt_tee_acquire object library, linked by the daemon only).
 *
 * Verification never touches the network, the file system or the clock: the caller supplies the
 * report, the endorsement certificates and the time. Trust comes only from the AMD root keys (ARK)
 * pinned in the binary by the SHA-256 fingerprint of their DER, one per product (Milan, Genoa,
 * Turin); a root that arrives with the evidence is used only if it matches the pin for the
 * product the evidence names.
 *
 * Every fallible call can also say *which* check failed through an optional scitt_tee_reason out
 * parameter (NULL when not wanted); scitt_tee_reason_str() turns it into a sentence for CLI
 * messages. The scitt_err code gives the class of failure:
 *   SCITT_ERR_EVIDENCE_MALFORMED  the report, certificate table, PEM or JSON does not parse
 *   SCITT_ERR_CERT_MALFORMED      an endorsement certificate does not parse
 *   SCITT_ERR_UNTRUSTED           the ARK presented is not the pinned one for the product
 *   SCITT_ERR_CERT_CHAIN          ARK -> ASK -> VCEK path validation failed
 *   SCITT_ERR_EXPIRED             a certificate is outside its validity at the caller's time
 *   SCITT_ERR_EVIDENCE            the VCEK does not belong to this report (chip, TCB, product)
 *   SCITT_ERR_SIGNATURE           the report signature does not verify
 *   SCITT_ERR_POLICY              well-formed, authentic evidence the caller's policy rejects
 */
#ifndef SCITT_TEE_H
#define SCITT_TEE_H

#include "scitt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Reasons                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Which check failed. Numbers never change; new reasons are appended. */
typedef enum scitt_tee_reason {
    SCITT_TEE_OK = 0,
    /* report layout */
    SCITT_TEE_REPORT_SIZE = 1,        /**< not exactly 1184 bytes */
    SCITT_TEE_REPORT_VERSION = 2,     /**< version outside 2..5 */
    SCITT_TEE_REPORT_RESERVED = 3,    /**< a must-be-zero field is not zero */
    SCITT_TEE_REPORT_SIG_ALGO = 4,    /**< signature_algo is not ECDSA P-384/SHA-384 */
    SCITT_TEE_REPORT_SIG_FORMAT = 5,  /**< r or s has bytes beyond 48, or is out of range */
    SCITT_TEE_REPORT_POLICY_BITS = 6, /**< guest policy bit 17 clear or bits 26-63 set */
    SCITT_TEE_REPORT_SIGNER = 7,      /**< signer_info names an unknown signing key */
    SCITT_TEE_REPORT_UNSIGNED = 8,    /**< MASK_CHIP_KEY or no signing key: nothing to verify */
    /* endorsement inputs */
    SCITT_TEE_PEM = 20,            /**< PEM text does not parse */
    SCITT_TEE_CERT_TABLE = 21,     /**< the GHCB certificate table does not parse */
    SCITT_TEE_THIM_JSON = 22,      /**< host-amd-cert JSON does not parse or lacks a field */
    SCITT_TEE_BASE64 = 23,         /**< a base64 file does not decode */
    SCITT_TEE_CERT_PARSE = 24,     /**< a certificate is not strict DER X.509 */
    SCITT_TEE_CERT_ROLE = 25,      /**< a certificate is none of VCEK/VLEK/ASK/ASVK/ARK */
    SCITT_TEE_CERT_CONFLICT = 26,  /**< two different certificates for one role */
    SCITT_TEE_CERT_TOO_MANY = 27,  /**< more entries than SCITT_LIMIT_TEE_CERTS */
    SCITT_TEE_MISSING_LEAF = 28,   /**< no VCEK (or VLEK) to verify the report with */
    SCITT_TEE_MISSING_ASK = 29,    /**< no ASK (or ASVK) */
    SCITT_TEE_MISSING_ARK = 30,    /**< no ARK */
    SCITT_TEE_VCEK_EXTENSION = 31, /**< a KDS extension is missing, repeated or ill-encoded */
    /* roots and chain */
    SCITT_TEE_PRODUCT_UNKNOWN = 40,    /**< productName1 names no product we pin */
    SCITT_TEE_NO_PIN = 41,             /**< no pinned ARK for the product */
    SCITT_TEE_ARK_NOT_PINNED = 42,     /**< the ARK presented is not the pinned one */
    SCITT_TEE_CHAIN_PRODUCT = 43,      /**< ASK/ARK names another product than the VCEK */
    SCITT_TEE_CHAIN_NAMES = 44,        /**< an issuer name is not its parent's subject */
    SCITT_TEE_CHAIN_KEY_TYPE = 45,     /**< ARK/ASK not RSA, or VCEK not ECDSA P-384 */
    SCITT_TEE_CHAIN_SIG_ALG = 46,      /**< not RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48 */
    SCITT_TEE_ARK_SELF_SIG = 47,       /**< the ARK's self-signature does not verify */
    SCITT_TEE_ASK_SIG = 48,            /**< the ASK is not signed by the ARK */
    SCITT_TEE_LEAF_SIG = 49,           /**< the VCEK is not signed by the ASK */
    SCITT_TEE_CERT_NOT_YET_VALID = 50, /**< a certificate's notBefore is after the given time */
    SCITT_TEE_CERT_EXPIRED = 51,       /**< a certificate's notAfter is before the given time */
    /* report against its endorsement */
    SCITT_TEE_SIGNER_MISMATCH = 60,  /**< report says VCEK but a VLEK was given, or vice versa */
    SCITT_TEE_PRODUCT_MISMATCH = 61, /**< report CPUID names another product than the VCEK */
    SCITT_TEE_HWID_MISMATCH = 62,    /**< VCEK hwID differs from the report's CHIP_ID */
    SCITT_TEE_TCB_MISMATCH = 63,     /**< VCEK SPLs differ from the report's REPORTED_TCB */
    SCITT_TEE_REPORT_SIGNATURE = 64, /**< the ECDSA signature over the report does not verify */
    SCITT_TEE_VLEK_NOT_ALLOWED = 65, /**< a VLEK-signed report, but opts->allow_vlek is false */
    /* policy */
    SCITT_TEE_POLICY_DEBUG = 80,        /**< the guest policy allows debugging */
    SCITT_TEE_POLICY_MIGRATE_MA = 81,   /**< the guest policy allows a migration agent */
    SCITT_TEE_POLICY_SMT = 82,          /**< SMT allowed but the policy forbids it */
    SCITT_TEE_POLICY_VMPL = 83,         /**< VMPL is not the expected one */
    SCITT_TEE_POLICY_TCB = 84,          /**< REPORTED_TCB below the minimum for the product */
    SCITT_TEE_POLICY_MEASUREMENT = 85,  /**< MEASUREMENT not in the allowed list */
    SCITT_TEE_POLICY_HOST_DATA = 86,    /**< HOST_DATA not in the allowed list */
    SCITT_TEE_POLICY_REPORT_DATA = 87,  /**< REPORT_DATA differs from the expected value */
    SCITT_TEE_POLICY_FIRMWARE = 88,     /**< firmware version below the minimum */
    SCITT_TEE_POLICY_GUEST_SVN = 89,    /**< GUEST_SVN below the minimum */
    SCITT_TEE_POLICY_ENDORSED_TCB = 90, /**< REPORTED_TCB differs from the endorsed (THIM) TCB */
    SCITT_TEE_POLICY_PRODUCT = 91,      /**< product not in the allowed set */
    /* acquisition */
    SCITT_TEE_ACQ_NO_DEVICE = 100,     /**< neither configfs-tsm nor /dev/sev-guest exists */
    SCITT_TEE_ACQ_NOT_DEVICE = 101,    /**< the device path is not a character device */
    SCITT_TEE_ACQ_IOCTL = 102,         /**< the device does not answer SEV guest ioctls */
    SCITT_TEE_ACQ_FIRMWARE = 103,      /**< the firmware or the host rejected the request */
    SCITT_TEE_ACQ_RESPONSE = 104,      /**< the response header is not what the ABI says */
    SCITT_TEE_ACQ_TSM_ENTRY = 105,     /**< cannot create or use a configfs-tsm report entry */
    SCITT_TEE_ACQ_TSM_ATTRIBUTE = 106, /**< a configfs-tsm attribute is missing or unreadable */
    SCITT_TEE_ACQ_TSM_PROVIDER = 107,  /**< the configfs-tsm provider is not one we know */
    SCITT_TEE_ACQ_TSM_RACE = 108,      /**< generation changed: another writer used the entry */
    SCITT_TEE_ACQ_REPORT_DATA = 109,   /**< the report does not carry the REPORT_DATA we asked */
    SCITT_TEE_ACQ_TOO_LARGE = 110,     /**< a blob is larger than SCITT_LIMIT_TEE_BLOB */
    SCITT_TEE_ACQ_IO = 111,            /**< another operating-system error */
    SCITT_TEE_ACQ_ACI_FILE = 112,      /**< a Confidential ACI security-context file is missing */
    /* Intel DCAP quotes (scitt/dcap.h) */
    SCITT_TEE_DCAP_TRUNCATED = 130,       /**< the quote ends inside a field it declares */
    SCITT_TEE_DCAP_VERSION = 131,         /**< a quote version other than 3 (SGX) or 4 (TDX) */
    SCITT_TEE_DCAP_KEY_TYPE = 132,        /**< an attestation key type other than ECDSA P-256 */
    SCITT_TEE_DCAP_TEE_TYPE = 133,        /**< a TEE type the quote version does not carry */
    SCITT_TEE_DCAP_QE_VENDOR = 134,       /**< the QE vendor ID is not Intel's */
    SCITT_TEE_DCAP_SIG_DATA = 135,        /**< a length in the signature data does not add up */
    SCITT_TEE_DCAP_CERT_TYPE = 136,       /**< certification data of a type not handled */
    SCITT_TEE_DCAP_TRAILING = 137,        /**< non-zero bytes after the signature data */
    SCITT_TEE_DCAP_PCK_CHAIN = 138,       /**< the PCK chain is not 3 PEM certificates */
    SCITT_TEE_DCAP_PCK_EXTENSION = 139,   /**< the PCK SGX extensions are missing or ill-encoded */
    SCITT_TEE_DCAP_ROOT_NOT_PINNED = 140, /**< a root presented is not the pinned Intel root */
    SCITT_TEE_DCAP_CHAIN_NAMES = 141,     /**< an issuer name is not its parent's subject */
    SCITT_TEE_DCAP_CHAIN_KEY = 142,       /**< not a P-256 key, or a CA certificate not a CA */
    SCITT_TEE_DCAP_CHAIN_SIG = 143,       /**< a certificate's ECDSA-SHA256 signature fails */
    SCITT_TEE_DCAP_CRL_PARSE = 144,       /**< a CRL does not parse */
    SCITT_TEE_DCAP_CRL_ISSUER = 145,      /**< a CRL is not issued by the expected CA */
    SCITT_TEE_DCAP_CRL_SIG = 146,         /**< a CRL's signature does not verify */
    SCITT_TEE_DCAP_CRL_EXPIRED = 147,     /**< a CRL is not current at the given time */
    SCITT_TEE_DCAP_REVOKED = 148,         /**< a certificate of a chain is revoked */
    SCITT_TEE_DCAP_QE_REPORT_SIG = 149,   /**< the QE report signature fails with the PCK key */
    SCITT_TEE_DCAP_QE_BINDING = 150,      /**< QE report_data does not bind the attestation key */
    SCITT_TEE_DCAP_ATT_KEY = 151,         /**< the attestation key is not a P-256 point */
    SCITT_TEE_DCAP_QUOTE_SIG = 152,       /**< the quote signature does not verify */
    SCITT_TEE_DCAP_COLLATERAL_MISSING = 153, /**< a required collateral item was not given */
    SCITT_TEE_DCAP_TCB_INFO_FORMAT = 154,    /**< the TCB info JSON does not parse */
    SCITT_TEE_DCAP_QE_IDENTITY_FORMAT = 155, /**< the QE identity JSON does not parse */
    SCITT_TEE_DCAP_COLLATERAL_VERSION = 156, /**< a TCB info / QE identity version not handled */
    SCITT_TEE_DCAP_TCB_SIGNER = 157,         /**< the TCB Signing chain does not verify */
    SCITT_TEE_DCAP_TCB_INFO_SIG = 158,       /**< the TCB info signature does not verify */
    SCITT_TEE_DCAP_QE_IDENTITY_SIG = 159,    /**< the QE identity signature does not verify */
    SCITT_TEE_DCAP_COLLATERAL_EXPIRED = 160, /**< outside a document's issueDate..nextUpdate */
    SCITT_TEE_DCAP_TCB_INFO_TEE = 161,       /**< the TCB info is for the other TEE */
    SCITT_TEE_DCAP_FMSPC = 162,              /**< FMSPC or PCE-ID differs from the PCK's */
    SCITT_TEE_DCAP_QE_IDENTITY_TEE = 163,    /**< the QE identity is for the other TEE's QE */
    SCITT_TEE_DCAP_QE_MISMATCH = 164,        /**< the QE report does not match the QE identity */
    SCITT_TEE_DCAP_TDX_MODULE = 165,         /**< no or another TDX module identity matches */
    SCITT_TEE_DCAP_TCB_NOT_SUPPORTED = 166,  /**< no TCB level matches the platform */
    SCITT_TEE_DCAP_TCB_STATUS = 167,         /**< a TCB status the caller does not accept */
    SCITT_TEE_DCAP_PCK_CRL_CHAIN = 168,      /**< the PCK CRL chain is not the quote's CA */
    /* evidence policy for TDX / SGX bundles (scitt/attest.h) */
    SCITT_TEE_DCAP_PLATFORM = 180,      /**< the quote is of another TEE than the platform */
    SCITT_TEE_POLICY_RTMR = 181,        /**< an RTMR differs from the expected value */
    SCITT_TEE_POLICY_MRENCLAVE = 182,   /**< MRENCLAVE not in the allowed list */
    SCITT_TEE_POLICY_MRSIGNER = 183,    /**< MRSIGNER not in the allowed list */
    SCITT_TEE_DCAP_NO_COLLATERAL = 184, /**< no collateral in the bundle nor given */
    SCITT_TEE_DCAP_LEAF_USAGE = 185, /**< a PCK / TCB Signing leaf not for signing (keyUsage, CA) */
} scitt_tee_reason;

/** A sentence describing @p r for CLI messages; never NULL. */
SCITT_API const char *scitt_tee_reason_str(scitt_tee_reason r);
/** The symbolic name of @p r ("SCITT_TEE_POLICY_DEBUG"); never NULL. */
SCITT_API const char *scitt_tee_reason_name(scitt_tee_reason r);

/* ------------------------------------------------------------------------------------------ */
/* SEV-SNP report                                                                              */
/* ------------------------------------------------------------------------------------------ */

#define SCITT_SNP_REPORT_LEN      0x4A0u /**< ATTESTATION_REPORT, 1184 bytes */
#define SCITT_SNP_SIGNED_LEN      0x2A0u /**< bytes covered by the report signature */
#define SCITT_TEE_REPORT_DATA_LEN 64u

/** AMD EPYC product lines we know the roots of. */
typedef enum scitt_snp_product {
    SCITT_SNP_PRODUCT_UNKNOWN = 0,
    SCITT_SNP_MILAN = 1,
    SCITT_SNP_GENOA = 2,
    SCITT_SNP_TURIN = 3,
} scitt_snp_product;

/** "Milan", "Genoa", "Turin" or "unknown"; never NULL. */
SCITT_API const char *scitt_snp_product_name(scitt_snp_product p);
/** The product of a productName1 value ("Milan-B0" -> Milan, "Turin" -> Turin), or UNKNOWN. */
SCITT_API scitt_snp_product scitt_snp_product_from_name(scitt_span name);

/* Guest POLICY bits (report offset 0x08). */
#define SCITT_SNP_POLICY_SMT           (1ull << 16)
#define SCITT_SNP_POLICY_RESERVED_ONE  (1ull << 17) /**< must be 1 */
#define SCITT_SNP_POLICY_MIGRATE_MA    (1ull << 18)
#define SCITT_SNP_POLICY_DEBUG         (1ull << 19)
#define SCITT_SNP_POLICY_SINGLE_SOCKET (1ull << 20)

/* SIGNER_INFO (report offset 0x48). */
#define SCITT_SNP_SIGNER_AUTHOR_KEY_EN 0x1u
#define SCITT_SNP_SIGNER_MASK_CHIP_KEY 0x2u
#define SCITT_SNP_SIGNING_KEY(info)    (((info) >> 2) & 0x7u)
#define SCITT_SNP_KEY_VCEK             0u
#define SCITT_SNP_KEY_VLEK             1u
#define SCITT_SNP_KEY_NONE             7u

/**
 * A TCB_VERSION split into its security patch levels. The byte layout of the u64 differs per
 * product (Milan/Genoa: bl tee spl4 spl5 spl6 spl7 snp ucode; Turin: fmc bl tee snp spl5 spl6
 * spl7 ucode, bytes 0..7), so decoding needs the product. spl4 is always 0 on Turin, fmc is
 * always 0 elsewhere.
 */
typedef struct scitt_snp_tcb {
    uint8_t fmc;
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
    uint8_t spl4, spl5, spl6, spl7; /**< reserved levels, 0 on every known part */
} scitt_snp_tcb;

/** Splits @p raw for @p product; SCITT_ERR_INVALID_ARG for an unknown product. */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_tcb_decode(scitt_snp_product product, uint64_t raw,
                                                        scitt_snp_tcb *out);
/** Joins @p tcb for @p product; SCITT_ERR_INVALID_ARG for an unknown product or a set field the
 *  product's layout has no byte for (fmc off Turin, spl4 on Turin). */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_tcb_encode(scitt_snp_product product,
                                                        const scitt_snp_tcb *tcb, uint64_t *out);
/** True when every component of @p have is >= the same component of @p min. */
SCITT_API bool scitt_snp_tcb_ge(const scitt_snp_tcb *have, const scitt_snp_tcb *min);

/** A firmware version as the report carries it (e.g. 1.55.29). */
typedef struct scitt_snp_fw_version {
    uint8_t major, minor, build;
} scitt_snp_fw_version;

/** Every field of an ATTESTATION_REPORT (ABI versions 2..5), copied out of the input. */
typedef struct scitt_snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;
    uint32_t signature_algo;
    uint64_t current_tcb;
    uint64_t platform_info;
    uint32_t signer_info;
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    uint64_t reported_tcb;
    bool has_cpuid; /**< version >= 3: the three CPUID bytes below are meaningful */
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
    uint8_t chip_id[64];
    uint64_t committed_tcb;
    scitt_snp_fw_version current_version;
    scitt_snp_fw_version committed_version;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector;  /**< version >= 5, else 0 */
    uint64_t current_mit_vector; /**< version >= 5, else 0 */
    uint8_t sig_r[48];           /**< big-endian, converted from the report's little-endian */
    uint8_t sig_s[48];
} scitt_snp_report;

/**
 * Parses a report strictly: exactly SCITT_SNP_REPORT_LEN bytes, version 2..5, must-be-zero fields
 * zero, signature_algo 1, r and s within 48 bytes. It does not verify anything.
 * Errors: SCITT_ERR_EVIDENCE_MALFORMED (reason says which rule).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_report_parse(scitt_span in, scitt_snp_report *out,
                                                          scitt_tee_reason *why);

/** The product named by the report's CPUID bytes (version >= 3), or UNKNOWN (v2, or a CPUID we
 *  do not map). */
SCITT_API scitt_snp_product scitt_snp_report_product(const scitt_snp_report *r);

/* ------------------------------------------------------------------------------------------ */
/* Endorsement certificates                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** The role of a certificate in an SNP chain. */
typedef enum scitt_snp_cert_role {
    SCITT_SNP_CERT_VCEK = 0, /**< chip key (ECDSA P-384), signed by the ASK */
    SCITT_SNP_CERT_VLEK = 1, /**< cloud-provider key (ECDSA P-384), signed by the ASVK */
    SCITT_SNP_CERT_ASK = 2,  /**< "SEV-<Product>", signed by the ARK */
    SCITT_SNP_CERT_ASVK = 3, /**< "SEV-VLEK-<Product>", signed by the ARK */
    SCITT_SNP_CERT_ARK = 4,  /**< "ARK-<Product>", self-signed; must match the pin */
    SCITT_SNP_CERT_ROLES = 5,
} scitt_snp_cert_role;

/**
 * The endorsement certificates gathered for one report, one DER certificate per role at most.
 * Every `der[i]` is an owned heap copy (NULL when absent), so the inputs they came from may be
 * freed. Fill from any mix of a PEM bundle, a GHCB certificate table and the Confidential ACI
 * THIM JSON; the same certificate seen twice is kept once, two different ones for one role are an
 * error. Release with scitt_snp_certs_clear.
 */
typedef struct scitt_snp_certs {
    uint8_t *der[SCITT_SNP_CERT_ROLES];
    size_t len[SCITT_SNP_CERT_ROLES];
} scitt_snp_certs;

SCITT_API void scitt_snp_certs_init(scitt_snp_certs *c);
/** Frees every certificate; @p c is empty again afterwards. NULL is a no-op. */
SCITT_API void scitt_snp_certs_clear(scitt_snp_certs *c);
/** The DER of @p role, valid until the set is cleared; an empty span when absent. */
SCITT_API scitt_span scitt_snp_certs_get(const scitt_snp_certs *c, scitt_snp_cert_role role);

/** Adds one DER certificate under an explicit role (it must parse). */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_certs_add_der(scitt_snp_certs *c,
                                                           scitt_snp_cert_role role, scitt_span der,
                                                           scitt_tee_reason *why);
/**
 * Adds every certificate of a PEM bundle (VCEK/VLEK, ASK/ASVK, ARK in any order). Only
 * "CERTIFICATE" blocks without headers, strict base64, and whitespace between blocks are accepted.
 * The role comes from the certificate itself: self-issued is the ARK; an ECDSA P-384 key with the
 * KDS hwID extension is a VCEK, with cspID a VLEK; otherwise an RSA intermediate whose subject CN
 * starts "SEV-VLEK-" is an ASVK, else an ASK.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_certs_add_pem(scitt_snp_certs *c, scitt_span pem,
                                                           scitt_tee_reason *why);
/**
 * Adds the certificates of a GHCB certificate table (SNP_GET_EXT_REPORT, configfs-tsm auxblob):
 * 24-byte entries {GUID, u32 offset, u32 length} ended by an all-zero entry, offsets from the
 * start of @p table and past the entries, no duplicate GUIDs. Entries with GUIDs other than
 * VCEK/VLEK/ASK/ARK are bounds-checked and skipped. An empty table (zero bytes) adds nothing.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_certs_add_table(scitt_snp_certs *c, scitt_span table,
                                                             scitt_tee_reason *why);
/**
 * Adds the certificates of a Confidential ACI THIM document (the base64-decoded content of
 * `host-amd-cert-base64`): JSON {"vcekCert": PEM, "certificateChain": PEM ASK||ARK, "tcbm":
 * "<16 hex digits>", "cacheControl": ...}. When @p tcbm is not NULL it receives the endorsed TCB
 * (the hex digits read as a big-endian u64, i.e. the REPORTED_TCB value) and @p has_tcbm whether
 * the field was present.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_certs_add_thim(scitt_snp_certs *c, scitt_span json,
                                                            uint64_t *tcbm, bool *has_tcbm,
                                                            scitt_tee_reason *why);
/** Appends the set as PEM in chain order (VCEK or VLEK, ASK or ASVK, ARK) to @p out. */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_certs_to_pem(const scitt_snp_certs *c,
                                                          scitt_dynbuf *out);

/**
 * Decodes one Confidential ACI security-context file (`host-amd-cert-base64`,
 * `security-policy-base64`, `reference-info-base64`): standard base64 with padding, optional
 * leading/trailing ASCII whitespace. Appends the bytes to @p out. SCITT_ERR_EVIDENCE_MALFORMED
 * (SCITT_TEE_BASE64) when it does not decode. HOST_DATA of a Confidential ACI guest is the
 * SHA-256 of the decoded security policy.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_tee_aci_decode(scitt_span file_text, scitt_dynbuf *out,
                                                        scitt_tee_reason *why);

/** The AMD KDS extensions of a VCEK or VLEK (OID 1.3.6.1.4.1.3704.1.*). */
typedef struct scitt_snp_vcek_info {
    bool is_vlek;              /**< cspID present instead of hwID */
    uint8_t struct_version;    /**< .1 */
    char product_name[32];     /**< .2 productName1, e.g. "Milan-B0" */
    scitt_snp_product product; /**< the product line product_name names */
    scitt_snp_tcb tcb;         /**< .3.1-.3.9 (bl, tee, snp, spl4-7, ucode, fmc) */
    uint16_t spl_present;      /**< bit N set when .3.N was present */
    uint8_t hwid[64];          /**< .4, raw bytes: 64 on Milan/Genoa, 8 on Turin */
    size_t hwid_len;
    char csp_id[128];              /**< .5 (VLEK only) */
    int64_t not_before, not_after; /**< validity, Unix seconds */
} scitt_snp_vcek_info;

/** Reads the KDS extensions of a VCEK/VLEK DER certificate (no chain or signature check). */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_vcek_parse(scitt_span der, scitt_snp_vcek_info *out,
                                                        scitt_tee_reason *why);
/** The VCEK's TCB_VERSION as a u64 in its product's layout. */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_vcek_tcb(const scitt_snp_vcek_info *v, uint64_t *out);

/* ------------------------------------------------------------------------------------------ */
/* Verification                                                                                */
/* ------------------------------------------------------------------------------------------ */

/** A pinned AMD root: the SHA-256 of the ARK's DER for one product. */
typedef struct scitt_snp_pin {
    scitt_snp_product product;
    uint8_t ark_sha256[32];
} scitt_snp_pin;

/** The ARK pins compiled in (Milan, Genoa, Turin); static storage, *n receives the count. */
SCITT_API const scitt_snp_pin *scitt_snp_builtin_pins(size_t *n);

typedef struct scitt_snp_verify_opts {
    int64_t now;               /**< Unix seconds at which every certificate must be valid */
    const scitt_snp_pin *pins; /**< replaces the built-in pins when not NULL (e.g. to accept one
                                    product only); must outlive the call */
    size_t n_pins;
    bool allow_vlek; /**< accept VLEK-signed reports (ARK -> ASVK -> VLEK) */
} scitt_snp_verify_opts;

/** Options with the built-in pins, VCEK only, at time @p now. */
SCITT_API void scitt_snp_verify_opts_init(scitt_snp_verify_opts *o, int64_t now);

/** What a successful verification established. Plain values; no pointers. */
typedef struct scitt_snp_verified {
    scitt_snp_report report;
    scitt_snp_product product;
    scitt_snp_vcek_info leaf;   /**< the VCEK (or VLEK) extensions */
    scitt_snp_tcb reported_tcb; /**< report.reported_tcb decoded for the product */
    uint8_t ark_sha256[32];     /**< the pinned root the chain ended in */
    int64_t valid_from;         /**< the latest notBefore of the chain */
    int64_t valid_until;        /**< the earliest notAfter of the chain */
} scitt_snp_verified;

/**
 * Verifies an SNP report against its endorsements, offline, at opts->now:
 *  1. the report parses (scitt_snp_report_parse) and is signed (not MASK_CHIP_KEY);
 *  2. the product is the one the VCEK's productName1 names; a v3+ report's CPUID must agree;
 *  3. the ARK presented hashes to a pin for that product;
 *  4. ARK self-signed -> ASK -> VCEK (VLEK: ARK -> ASVK -> VLEK), each RSASSA-PSS SHA-384,
 *     MGF1-SHA-384, salt 48, names chaining, ASK/ARK named for the same product;
 *  5. every certificate valid at opts->now;
 *  6. VCEK extensions match the report: hwID == CHIP_ID (Turin: first 8 bytes), the SPLs composed
 *     in the product's layout == REPORTED_TCB;
 *  7. ECDSA P-384/SHA-384 over report[0..0x2A0) with the VCEK key.
 * Policy (debug, vmpl, TCB minimum, allow-lists) is separate: scitt_snp_check_policy.
 * On success fills @p out; on failure @p out is left zeroed.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_verify(scitt_span report, const scitt_snp_certs *certs,
                                                    const scitt_snp_verify_opts *opts,
                                                    scitt_snp_verified *out, scitt_tee_reason *why);

/** A minimum TCB for one product (every component compared). */
typedef struct scitt_snp_min_tcb {
    scitt_snp_product product;
    scitt_snp_tcb tcb;
} scitt_snp_min_tcb;

/**
 * What the relying party accepts. Arrays are borrowed for the call. A list with n == 0 is not
 * checked: a relying party that wants the evidence to identify the code MUST set measurements
 * (and host_data where the platform binds a policy there).
 */
typedef struct scitt_snp_policy {
    bool allow_debug;                 /**< default false */
    bool allow_migrate_ma;            /**< default false */
    bool allow_smt;                   /**< default true */
    bool any_vmpl;                    /**< default false: vmpl must equal `vmpl` */
    uint32_t vmpl;                    /**< default 0 */
    uint32_t allowed_products;        /**< bit (1 << product); 0 = any pinned product */
    const scitt_snp_min_tcb *min_tcb; /**< per product; a product without an entry has no minimum */
    size_t n_min_tcb;
    const uint8_t *measurements; /**< n_measurements values of 48 bytes, back to back */
    size_t n_measurements;
    const uint8_t *host_data; /**< n_host_data values of 32 bytes, back to back */
    size_t n_host_data;
    const uint8_t *report_data;        /**< 64 bytes to compare exactly, or NULL */
    scitt_snp_fw_version min_firmware; /**< compared with current_version (major, minor, build) */
    uint32_t min_guest_svn;
    bool has_endorsed_tcb; /**< compare REPORTED_TCB with endorsed_tcb (THIM "tcbm") */
    uint64_t endorsed_tcb;
} scitt_snp_policy;

/** The default policy: no debug, no migration agent, SMT allowed, vmpl 0, nothing else. */
SCITT_API void scitt_snp_policy_init(scitt_snp_policy *p);

/** Applies @p p to verified evidence. SCITT_ERR_POLICY with the first failing check. */
SCITT_API SCITT_MUST_USE scitt_err scitt_snp_check_policy(const scitt_snp_verified *v,
                                                          const scitt_snp_policy *p,
                                                          scitt_tee_reason *why);

/* ------------------------------------------------------------------------------------------ */
/* Acquisition (object library scitt_tee_acquire; the daemon and on-TEE tools only)            */
/* ------------------------------------------------------------------------------------------ */

typedef enum scitt_tee_platform {
    SCITT_TEE_NONE = 0,
    SCITT_TEE_VIRTUAL = 1, /**< INSECURE, no hardware (provided by later work) */
    SCITT_TEE_SEV_SNP = 2,
    SCITT_TEE_TDX = 3, /**< acquisition through configfs-tsm; quotes verify with scitt/dcap.h */
} scitt_tee_platform;

typedef enum scitt_tee_source {
    SCITT_TEE_SRC_NONE = 0,
    SCITT_TEE_SRC_TSM = 1,       /**< configfs-tsm report entry */
    SCITT_TEE_SRC_SEV_GUEST = 2, /**< /dev/sev-guest ioctls */
} scitt_tee_source;

/** Where acquisition looks. NULL paths mean the Linux defaults. */
typedef struct scitt_tee_acquire_opts {
    const char *tsm_root;  /**< default "/sys/kernel/config/tsm/report" */
    const char *sev_guest; /**< default "/dev/sev-guest" */
    uint32_t privlevel;    /**< VMPL to request (0..3); written to configfs `privlevel` when > 0 */
    bool want_certs;       /**< /dev/sev-guest: use SNP_GET_EXT_REPORT for the cert table */
} scitt_tee_acquire_opts;

/** Owned evidence from the guest. Release with scitt_tee_evidence_clear. */
typedef struct scitt_tee_evidence {
    scitt_tee_platform platform;
    scitt_tee_source source;
    uint8_t *report; /**< SNP: the 1184-byte report (ioctl header stripped); TDX: the quote */
    size_t report_len;
    uint8_t *certs; /**< GHCB certificate table (auxblob / extended report); may be empty */
    size_t certs_len;
    char provider[32];   /**< configfs-tsm provider ("sev_guest", "tdx_guest"), else "" */
    uint64_t generation; /**< configfs-tsm generation after the request */
} scitt_tee_evidence;

SCITT_API void scitt_tee_evidence_init(scitt_tee_evidence *e);
SCITT_API void scitt_tee_evidence_clear(scitt_tee_evidence *e);

/**
 * Which source is usable: configfs-tsm (its provider decides the platform), then /dev/sev-guest.
 * It makes one throw-away request (zero REPORT_DATA) to find out, so call it once at start-up.
 * SCITT_ERR_NO_TEE when neither answers.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_tee_detect(const scitt_tee_acquire_opts *o,
                                                    scitt_tee_platform *platform,
                                                    scitt_tee_source *source,
                                                    scitt_tee_reason *why);

/**
 * Gets evidence carrying @p report_data: configfs-tsm first, then /dev/sev-guest. For SNP the
 * report is parsed and its REPORT_DATA must equal @p report_data (SCITT_ERR_BINDING otherwise).
 * Errors: SCITT_ERR_NO_TEE (no usable source), SCITT_ERR_BUSY (another writer raced on the
 * configfs entry, or the host was busy: retry later), SCITT_ERR_UNSUPPORTED (a configfs-tsm
 * provider other than sev_guest/tdx_guest), SCITT_ERR_IO, SCITT_ERR_TOO_LARGE,
 * SCITT_ERR_EVIDENCE_MALFORMED. @p out is replaced only on success.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_tee_acquire(
    const scitt_tee_acquire_opts *o, const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN],
    scitt_tee_evidence *out, scitt_tee_reason *why);
/** configfs-tsm only: mkdir a private entry under o->tsm_root, write inblob, read outblob,
 *  auxblob, provider, check generation, rmdir. */
SCITT_API SCITT_MUST_USE scitt_err scitt_tee_acquire_tsm(
    const scitt_tee_acquire_opts *o, const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN],
    scitt_tee_evidence *out, scitt_tee_reason *why);
/** /dev/sev-guest only: SNP_GET_REPORT, or SNP_GET_EXT_REPORT when o->want_certs. */
SCITT_API SCITT_MUST_USE scitt_err scitt_tee_acquire_sev_guest(
    const scitt_tee_acquire_opts *o, const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN],
    scitt_tee_evidence *out, scitt_tee_reason *why);

/* SNP_GET_DERIVED_KEY request fields (SEV-SNP ABI MSG_KEY_REQ). */
#define SCITT_SNP_KEY_ROOT_VCEK         0u /**< derive from the chip key (VCEK) */
#define SCITT_SNP_KEY_ROOT_VMRK         1u /**< derive from the VM root key (migration agent) */
#define SCITT_SNP_KEY_FIELD_POLICY      (1ull << 0)
#define SCITT_SNP_KEY_FIELD_IMAGE_ID    (1ull << 1)
#define SCITT_SNP_KEY_FIELD_FAMILY_ID   (1ull << 2)
#define SCITT_SNP_KEY_FIELD_MEASUREMENT (1ull << 3)
#define SCITT_SNP_KEY_FIELD_GUEST_SVN   (1ull << 4)
#define SCITT_SNP_KEY_FIELD_TCB         (1ull << 5)

typedef struct scitt_snp_key_request {
    uint32_t root_key_select;
    uint64_t guest_field_select;
    uint32_t vmpl;
    uint32_t guest_svn;
    uint64_t tcb_version;
} scitt_snp_key_request;

/** The sealing default: VCEK root, MEASUREMENT and POLICY mixed in, vmpl 0. The key then opens
 *  only for the same launch measurement and guest policy on the same chip. TCB is not mixed in, so
 *  a firmware update does not lose the key. */
SCITT_API void scitt_snp_key_request_init(scitt_snp_key_request *r);

/** SNP_GET_DERIVED_KEY on o->sev_guest: 32 bytes into @p key (secret: wipe it after use). */
SCITT_API SCITT_MUST_USE scitt_err scitt_tee_snp_derive_key(const scitt_tee_acquire_opts *o,
                                                            const scitt_snp_key_request *req,
                                                            uint8_t key[32], scitt_tee_reason *why);

/**
 * Reads an Intel DCAP collateral directory (the files scitt_dcap_item_file names; docs/tee.md)
 * and appends it as a service bundle's endorsements (scitt_attest_collateral_encode). Every file
 * present must parse (scitt_dcap_collateral_set); the required ones must be present
 * (SCITT_ERR_NOT_FOUND, SCITT_TEE_DCAP_COLLATERAL_MISSING); each is at most
 * SCITT_DCAP_COLLATERAL_FILE_MAX bytes (SCITT_ERR_TOO_LARGE).
 */
SCITT_MUST_USE scitt_err scitt_tee_dcap_collateral_read(const char *dir, scitt_dynbuf *out,
                                                        scitt_tee_reason *why);

/** The decoded Confidential ACI security-context files. Owned; release with _clear. */
typedef struct scitt_tee_aci {
    uint8_t *host_amd_cert; /**< THIM JSON (give to scitt_snp_certs_add_thim), or NULL */
    size_t host_amd_cert_len;
    uint8_t *security_policy; /**< the CCE policy; SHA-256 of it is HOST_DATA; or NULL */
    size_t security_policy_len;
    uint8_t *reference_info; /**< the UVM endorsement COSE_Sign1; or NULL */
    size_t reference_info_len;
} scitt_tee_aci;

SCITT_API void scitt_tee_aci_init(scitt_tee_aci *a);
SCITT_API void scitt_tee_aci_clear(scitt_tee_aci *a);
/**
 * Reads the security-context directory @p dir (NULL: $UVM_SECURITY_CONTEXT_DIR). Missing files
 * are left NULL; SCITT_ERR_NOT_FOUND (SCITT_TEE_ACQ_ACI_FILE) only when the directory is unset or
 * holds none of the three files.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_tee_aci_read(const char *dir, scitt_tee_aci *out,
                                                      scitt_tee_reason *why);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_TEE_H */
