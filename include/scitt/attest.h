/*
 * scitt/attest.h — binding the service's keys to TEE evidence, and checking that binding offline.
 *
 * The service identity document is a CBOR map {1: receipt key (COSE_Key, public), 2: checkpoint
 * note verifier key (C2SP vkey text), 3: issuer (text), 4: origin (text)}. TEE evidence binds it:
 * REPORT_DATA[0:32] = SHA-256(identity document), REPORT_DATA[32:64] = a verifier's nonce or
 * zeros. A *service bundle* carries the document, the evidence and its endorsements, so a relying
 * party needs only AMD's pinned roots and the expected measurement to learn which keys a ledger
 * running that code holds (docs/tee.md).
 *
 * Service bundle: CBOR map {"evidence": bstr, "identity": bstr, "platform": tstr,
 * ? "endorsements": bstr}. For "snp" the evidence is the 1184-byte report and the endorsements a
 * PEM bundle of VCEK (or VLEK), ASK (or ASVK) and ARK. For "virtual" the evidence is the CBOR map
 * {"type": "scittd-insecure-virtual-v1", "insecure": true, "measurement": bstr .size 48,
 * "report_data": bstr .size 64}: unsigned, and refused by every verifier unless it is told
 * explicitly to allow insecure virtual evidence. Virtual evidence never satisfies an SNP check.
 * For "tdx" (and "sgx") the evidence is the Intel DCAP quote (TDX v4 / SGX v3) and the
 * endorsements its collateral: a CBOR map {file name (scitt_dcap_item_file): bstr}, e.g.
 * {"tcb_info.json": ..., "qe_identity.json": ..., ...}; the quote's REPORTDATA binds the
 * identity document as above.
 */
#ifndef SCITT_ATTEST_H
#define SCITT_ATTEST_H

#include "scitt/base.h"
#include "scitt/dcap.h"
#include "scitt/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCITT_ATTEST_VIRTUAL_TYPE    "scittd-insecure-virtual-v1"
#define SCITT_ATTEST_MEASUREMENT_LEN 48

/** The fields of an identity document; spans point into it. */
typedef struct scitt_identity {
    scitt_span receipt_key; /**< the encoded COSE_Key */
    scitt_span vkey;        /**< C2SP verifier key text */
    scitt_span issuer;
    scitt_span origin;
} scitt_identity;

/** Parses an identity document strictly (exactly the four members). */
SCITT_API SCITT_MUST_USE scitt_err scitt_identity_parse(scitt_span doc, scitt_identity *out);

/** REPORT_DATA binding @p identity: SHA-256 of it, then @p nonce (0..32 bytes, zero-padded). */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_report_data(scitt_span identity, scitt_span nonce,
                                                            uint8_t out[SCITT_TEE_REPORT_DATA_LEN]);

/** Appends virtual (INSECURE) evidence for @p measurement and @p report_data. */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_virtual_evidence(
    const uint8_t measurement[SCITT_ATTEST_MEASUREMENT_LEN],
    const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN], scitt_dynbuf *out);

/** Appends a service bundle. @p platform is "snp" or "virtual"; @p endorsements may be empty. */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_bundle_encode(const char *platform,
                                                              scitt_span identity,
                                                              scitt_span evidence,
                                                              scitt_span endorsements,
                                                              scitt_dynbuf *out);

/** The members of a service bundle. Spans point into the bundle and live as long as it. */
typedef struct scitt_attest_bundle {
    scitt_span platform;     /**< "snp" or "virtual" when it verifies; other text parses too */
    scitt_span identity;     /**< the identity document (not parsed here) */
    scitt_span evidence;     /**< the report (snp) or the virtual evidence map */
    scitt_span endorsements; /**< PEM of VCEK/ASK/ARK; empty when absent */
} scitt_attest_bundle;

/**
 * Parses the structure of a service bundle only, for tools that store or display one: a CBOR map
 * of the known members, each at most once, with evidence, identity and platform present and not
 * empty. Nothing is verified. SCITT_ERR_EVIDENCE_MALFORMED otherwise.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_bundle_parse(scitt_span bundle,
                                                             scitt_attest_bundle *out);

/** The fields of virtual evidence. */
typedef struct scitt_attest_virtual {
    uint8_t measurement[SCITT_ATTEST_MEASUREMENT_LEN];
    uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN];
} scitt_attest_virtual;

/**
 * Parses virtual evidence strictly (the exact four members in order, "insecure" true, the type
 * SCITT_ATTEST_VIRTUAL_TYPE, the sizes above). Reading it proves nothing: anybody can make one.
 * SCITT_ERR_EVIDENCE_MALFORMED otherwise.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_virtual_parse(scitt_span evidence,
                                                              scitt_attest_virtual *out);

/**
 * Appends DCAP collateral as a bundle's endorsements: a CBOR map {file name: bstr} of the items
 * of @p files that are not empty (SCITT_DCAP_ITEMS entries, indexed by scitt_dcap_item), in item
 * order.
 */
SCITT_API SCITT_MUST_USE scitt_err
scitt_attest_collateral_encode(const scitt_span files[SCITT_DCAP_ITEMS], scitt_dynbuf *out);

/**
 * Loads the collateral map of a bundle's endorsements into @p c (scitt_dcap_collateral_set for
 * each member): a CBOR map of known file names, each once. SCITT_ERR_EVIDENCE_MALFORMED (or the
 * error of the item refused, with @p why) otherwise; @p c may then hold some of the items.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_collateral_load(scitt_span endorsements,
                                                                scitt_dcap_collateral *c,
                                                                scitt_tee_reason *why);

/** TD attributes bit 0 and SGX ATTRIBUTES bit 1: the host can read and change the TEE's memory. */
#define SCITT_ATTEST_TD_DEBUG  0x01u
#define SCITT_ATTEST_SGX_DEBUG 0x02u

/** What a relying party requires of a bundle. Arrays are borrowed for the call. */
typedef struct scitt_attest_opts {
    int64_t now;                 /**< Unix seconds for certificate validity */
    bool allow_insecure_virtual; /**< accept virtual evidence (it still is reported insecure) */
    const uint8_t *measurements; /**< n values of 48 bytes; n == 0: not checked */
    size_t n_measurements;
    const uint8_t *host_data; /**< n values of 32 bytes (SNP); n == 0: not checked */
    size_t n_host_data;
    scitt_span nonce;                   /**< expected REPORT_DATA[32:64] (empty: zeros) */
    const scitt_snp_policy *snp_policy; /**< NULL: scitt_snp_policy_init's defaults */
    /* Intel DCAP (platform "tdx" or "sgx"). For TDX, `measurements` lists the accepted MRTDs;
     * for SGX they must be empty (an enclave is pinned by MRENCLAVE or MRSIGNER). */
    const scitt_dcap_collateral *dcap_collateral; /**< NULL: the bundle's own endorsements */
    uint32_t dcap_accept;                         /**< SCITT_DCAP_ACCEPT bits; 0: UpToDate only */
    const uint8_t *dcap_root_sha256; /**< NULL: the Intel root pin (a test world pins its own) */
    const uint8_t *rtmr;             /**< 4 x 48 bytes: RTMR i must equal rtmr[i] when ... */
    unsigned rtmr_set;               /**< ... bit i is set (TDX) */
    const uint8_t *mrenclaves;       /**< n values of 32 bytes (SGX); n == 0: not checked */
    size_t n_mrenclaves;
    const uint8_t *mrsigners; /**< n values of 32 bytes (SGX); n == 0: not checked */
    size_t n_mrsigners;
    bool allow_tee_debug; /**< accept a TD or an enclave with its DEBUG attribute set */
} scitt_attest_opts;

typedef struct scitt_attest_result {
    bool insecure; /**< the evidence was virtual */
    char platform[16];
    uint8_t measurement[SCITT_ATTEST_MEASUREMENT_LEN];
    uint8_t host_data[32]; /**< SNP only */
    uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN];
    scitt_identity identity; /**< spans point into the bundle */
    scitt_tee_reason why;    /**< for SNP and DCAP failures: which check */
    /** TDX / SGX: what scitt_dcap_verify established (dcap.authentic false: nothing). The
     *  measurement above is MRTD for TDX, zeros for SGX. */
    scitt_dcap_result dcap;
} scitt_attest_result;

/**
 * Verifies a service bundle offline: the evidence (SNP: chain to a pinned AMD root at opts->now,
 * report signature, SNP policy with the expected measurements / host_data; TDX / SGX:
 * scitt_dcap_verify with the collateral and the accepted TCB statuses, the quote's TEE equal to
 * the bundle's platform (SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_PLATFORM otherwise), the DEBUG
 * attribute clear, then MRTD / RTMRs or MRENCLAVE / MRSIGNER against the lists, SCITT_ERR_POLICY;
 * virtual: only with allow_insecure_virtual, else SCITT_ERR_INSECURE), then the binding of the
 * identity document (SCITT_ERR_BINDING), then parses the document. On success @p out says what
 * was established.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_verify(scitt_span bundle,
                                                       const scitt_attest_opts *opts,
                                                       scitt_attest_result *out);

/**
 * Verifies a bare Intel DCAP quote as scitt_attest_verify verifies a bundle's, with no identity
 * document to bind: scitt_dcap_verify with opts->dcap_collateral (NULL: SCITT_ERR_EVIDENCE,
 * SCITT_TEE_DCAP_NO_COLLATERAL), the accepted TCB statuses and the root, then the DEBUG attribute
 * and the TDX or SGX lists of @p opts. out->platform is the quote's TEE ("tdx" / "sgx") and
 * out->report_data its REPORTDATA, for the caller to compare with what it expects.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_attest_verify_quote(scitt_span quote,
                                                             const scitt_attest_opts *opts,
                                                             scitt_attest_result *out);

/*
 * Sealing: AES-256-GCM under a 32-byte key the TEE derives for this measurement (on SEV-SNP,
 * SNP_GET_DERIVED_KEY). Sealed blob: "SCSEAL01" || 12-byte random nonce || ciphertext || 16-byte
 * tag; @p aad is authenticated too. Another key (other code, other chip) or any changed byte
 * makes scitt_unseal fail with SCITT_ERR_INTEGRITY and leaves @p out as it was.
 */
#define SCITT_SEAL_KEY_LEN 32
SCITT_API SCITT_MUST_USE scitt_err scitt_seal(const uint8_t key[SCITT_SEAL_KEY_LEN],
                                              scitt_span plaintext, scitt_span aad,
                                              scitt_dynbuf *out);
SCITT_API SCITT_MUST_USE scitt_err scitt_unseal(const uint8_t key[SCITT_SEAL_KEY_LEN],
                                                scitt_span sealed, scitt_span aad,
                                                scitt_dynbuf *out);
/* Whether @p blob has the sealed blob's form (its magic and room for the nonce and tag): a file
 * to unseal rather than to read as it is. Says nothing of its key or integrity. */
SCITT_API bool scitt_is_sealed(scitt_span blob);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_ATTEST_H */
