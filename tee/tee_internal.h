/*
 * Internals shared by the tee/ files. The X.509 and ECDSA work goes through the one OpenSSL
 * adapter (x509_openssl.c); everything else in tee/ is plain C over bytes.
 */
#ifndef SCITT_TEE_INTERNAL_H
#define SCITT_TEE_INTERNAL_H

#include "scitt/tee.h"

/* Sets *why when the caller asked for it; returns err so call sites can `return fail(...)`. */
static inline scitt_err scitt__tee_fail(scitt_tee_reason *why, scitt_tee_reason r, scitt_err err)
{
    if (why) {
        *why = r;
    }
    return err;
}

/* A parsed certificate (wraps the adapter's object). */
typedef struct scitt__x509 scitt__x509;

typedef enum scitt__key_type {
    SCITT__KEY_OTHER = 0,
    SCITT__KEY_RSA = 1,
    SCITT__KEY_EC_P384 = 2,
} scitt__key_type;

typedef struct scitt__x509_info {
    scitt__key_type key_type;
    bool self_issued;    /* subject name == issuer name */
    char subject_cn[64]; /* "" when absent or not printable ASCII */
    int64_t not_before;  /* Unix seconds */
    int64_t not_after;
} scitt__x509_info;

/* One extension under the AMD KDS arc 1.3.6.1.4.1.3704.1: `arcs` are the OID arcs after that
 * prefix (e.g. {3, 1} for blSPL), `value` the extnValue contents, valid while the certificate
 * lives. */
#define SCITT__AMD_EXT_MAX  24
#define SCITT__AMD_ARCS_MAX 4
typedef struct scitt__amd_ext {
    uint32_t arcs[SCITT__AMD_ARCS_MAX];
    size_t n_arcs;
    scitt_span value;
} scitt__amd_ext;

/* Strict DER: the whole span must be one certificate. SCITT_ERR_CERT_MALFORMED otherwise, or
 * SCITT_ERR_TOO_LARGE over SCITT_LIMIT_TEE_CERT. */
scitt_err scitt__tee_x509_parse(scitt_span der, scitt__x509 **out);
void scitt__x509_free(scitt__x509 *x);
scitt_err scitt__x509_info_get(const scitt__x509 *x, scitt__x509_info *out);
/* Lists the KDS extensions; SCITT_ERR_TOO_LARGE beyond SCITT__AMD_EXT_MAX, and
 * SCITT_ERR_CERT_MALFORMED for an OID under the prefix that does not decode. */
scitt_err scitt__x509_amd_exts(const scitt__x509 *x, scitt__amd_ext *out, size_t *n);
/* True when @p child's issuer name equals @p parent's subject name. */
bool scitt__x509_issued_by_name(const scitt__x509 *child, const scitt__x509 *parent);
/*
 * Checks that @p child carries an RSASSA-PSS signature with SHA-384, MGF1-SHA-384 and salt 48
 * (SCITT_TEE_CHAIN_SIG_ALG otherwise), that @p parent has an RSA key, and that the signature
 * verifies with it. Returns SCITT_ERR_CERT_CHAIN with *why set on failure.
 */
scitt_err scitt__x509_check_pss_signed(const scitt__x509 *child, const scitt__x509 *parent,
                                       scitt_tee_reason bad_sig, scitt_tee_reason *why);
/* ECDSA P-384 over SHA-384(@p msg) with the certificate's key; r and s big-endian 48 bytes.
 * SCITT_ERR_SIGNATURE when it does not verify. */
scitt_err scitt__x509_ecdsa_p384_verify(const scitt__x509 *x, scitt_span msg, const uint8_t r[48],
                                        const uint8_t s[48]);

/* Decodes the KDS extensions of an already parsed VCEK/VLEK (snp_vcek.c). */
scitt_err scitt__snp_vcek_from_x509(const scitt__x509 *x, scitt_snp_vcek_info *out,
                                    scitt_tee_reason *why);

/* The certificate-table GUIDs (byte order as in the table: the RFC 4122 string order). */
extern const uint8_t scitt__snp_guid_vcek[16];
extern const uint8_t scitt__snp_guid_vlek[16];
extern const uint8_t scitt__snp_guid_ask[16];
extern const uint8_t scitt__snp_guid_ark[16];

/* ---- Intel DCAP (dcap_*.c) ---------------------------------------------------------------- */

#include "scitt/dcap.h"

/* A CRL of the DCAP adapter (dcap_openssl.c); certificates are the scitt__x509 above. */
typedef struct scitt__dcap_crl scitt__dcap_crl;

typedef struct scitt__dcap_cert_info {
    bool p256;          /* the subject key is ECDSA P-256 */
    bool is_ca;         /* basicConstraints CA:TRUE */
    bool signer;        /* a leaf that may sign data: not a CA, keyUsage (when present) with
                         * digitalSignature */
    int64_t not_before; /* Unix seconds */
    int64_t not_after;
} scitt__dcap_cert_info;

scitt_err scitt__dcap_cert_info_get(const scitt__x509 *c, scitt__dcap_cert_info *out);
/* True when @p child's issuer name equals @p parent's subject name. */
bool scitt__dcap_cert_issued_by(const scitt__x509 *child, const scitt__x509 *parent);
/* ecdsa-with-SHA256 (outer and inner algorithm) verified with @p parent's key: SCITT_OK,
 * SCITT_ERR_ALG (another algorithm) or SCITT_ERR_SIGNATURE. */
scitt_err scitt__dcap_cert_check_signed(const scitt__x509 *child, const scitt__x509 *parent);
/* The extnValue contents of the SGX extensions (1.2.840.113741.1.13.1), pointing into @p c.
 * SCITT_ERR_NOT_FOUND when absent, SCITT_ERR_CERT_MALFORMED when repeated. */
scitt_err scitt__dcap_cert_sgx_ext(const scitt__x509 *c, scitt_span *value);
/* ECDSA P-256 / SHA-256 of @p msg, signature raw r || s, with the certificate's key. */
scitt_err scitt__dcap_cert_verify(const scitt__x509 *c, scitt_span msg, const uint8_t sig[64]);
/* The same with a raw public key x || y: SCITT_ERR_KEY_MALFORMED when it is not a P-256 point. */
scitt_err scitt__dcap_key_verify(const uint8_t key[64], scitt_span msg, const uint8_t sig[64]);
/* Another reference to @p c (free each with scitt__dcap_cert_free). */
scitt_err scitt__dcap_cert_ref(const scitt__x509 *c, scitt__x509 **out);

/* An imported attestation key (P-256 point x || y). */
typedef struct scitt__dcap_key scitt__dcap_key;
/* SCITT_ERR_KEY_MALFORMED when @p key is not a P-256 point. */
scitt_err scitt__dcap_key_import(const uint8_t key[64], scitt__dcap_key **out);
scitt_err scitt__dcap_key_ref(const scitt__dcap_key *k, scitt__dcap_key **out);
void scitt__dcap_key_free(scitt__dcap_key *k);
/* ECDSA P-256 / SHA-256 of @p msg with @p k, signature raw r || s. */
scitt_err scitt__dcap_key_check(const scitt__dcap_key *k, scitt_span msg, const uint8_t sig[64]);

/*
 * The parse cache of a collateral set (dcap_cache.c): PCK certificates by the SHA-256 of their
 * DER, attestation keys by the SHA-256 of the point. It saves parsing only; nothing about what
 * was verified is kept. Bounded (least recently used evicted) and thread-safe.
 */
#define SCITT__DCAP_CACHE_CERTS 32u
#define SCITT__DCAP_CACHE_KEYS  16u
typedef struct scitt__dcap_cache scitt__dcap_cache;
typedef struct scitt__dcap_cache_stats {
    uint64_t hits, misses;
    size_t certs, keys; /* entries held */
} scitt__dcap_cache_stats;
scitt_err scitt__dcap_cache_new(scitt__dcap_cache **out);
void scitt__dcap_cache_free(scitt__dcap_cache *c);
/* The certificate of @p der, parsed now or earlier (free with scitt__dcap_cert_free): what
 * scitt__dcap_cert_parse returns for it. @p c NULL parses without a cache. */
scitt_err scitt__dcap_cache_cert(scitt__dcap_cache *c, scitt_span der, scitt__x509 **out);
/* The key @p key, imported now or earlier (free with scitt__dcap_key_free): what
 * scitt__dcap_key_import returns for it. @p c NULL imports without a cache. */
scitt_err scitt__dcap_cache_key(scitt__dcap_cache *c, const uint8_t key[64], scitt__dcap_key **out);
void scitt__dcap_cache_stats_get(scitt__dcap_cache *c, scitt__dcap_cache_stats *out);

/* Strict DER CRL. SCITT_ERR_EVIDENCE_MALFORMED / SCITT_ERR_TOO_LARGE. */
scitt_err scitt__dcap_crl_parse(scitt_span der, scitt__dcap_crl **out);
void scitt__dcap_crl_free(scitt__dcap_crl *c);
/* thisUpdate and nextUpdate (a CRL without nextUpdate is SCITT_ERR_EVIDENCE_MALFORMED). */
scitt_err scitt__dcap_crl_times(const scitt__dcap_crl *c, int64_t *this_update,
                                int64_t *next_update);
bool scitt__dcap_crl_issued_by(const scitt__dcap_crl *crl, const scitt__x509 *issuer);
/* ecdsa-with-SHA256 verified with @p issuer's key: SCITT_OK / SCITT_ERR_ALG / SIGNATURE. */
scitt_err scitt__dcap_crl_check_signed(const scitt__dcap_crl *crl, const scitt__x509 *issuer);
/* True when @p c's serial number is listed in @p crl. */
bool scitt__dcap_crl_lists(const scitt__dcap_crl *crl, const scitt__x509 *c);

/* PEM blocks labelled @p label ("CERTIFICATE", "X509 CRL"): strict base64 lines, whitespace
 * between blocks and NUL bytes after the last one allowed, nothing else. The DER of each block is
 * appended to @p der; spans[0..*n) point into it once it no longer grows. SCITT_ERR_MALFORMED,
 * SCITT_ERR_TOO_LARGE (more than @p cap blocks), SCITT_ERR_NOMEM. */
scitt_err scitt__dcap_pem_decode(scitt_span pem, const char *label, scitt_dynbuf *der,
                                 scitt_span *spans, size_t cap, size_t *n);
/* True when @p in starts with "-----BEGIN " after optional whitespace. */
bool scitt__dcap_is_pem(scitt_span in);

/* A certificate chain from a collateral file: parsed certificates and their DER fingerprints. */
#define SCITT__DCAP_CHAIN_MAX 4
typedef struct scitt__dcap_chain {
    size_t n;
    scitt__x509 *cert[SCITT__DCAP_CHAIN_MAX];
    uint8_t sha256[SCITT__DCAP_CHAIN_MAX][32];
} scitt__dcap_chain;

/* Parses a PEM chain of 1..SCITT__DCAP_CHAIN_MAX certificates into @p out (empty on failure). */
scitt_err scitt__dcap_chain_parse(scitt_span pem, scitt__dcap_chain *out);
void scitt__dcap_chain_clear(scitt__dcap_chain *c);

/* Parsed TCB info and QE identity documents (dcap_json.c). */
#define SCITT__DCAP_LEVELS_MAX  256u  /* TCB levels in one document, every list together */
#define SCITT__DCAP_ADV_MAX     4096u /* advisory IDs in one document, every level together */
#define SCITT__DCAP_MODULES_MAX 16u   /* tdxModuleIdentities entries */

typedef struct scitt__dcap_level {
    uint8_t sgx[16]; /* TCB info: sgxtcbcomponents */
    uint16_t pcesvn;
    bool has_tdx;
    uint8_t tdx[16]; /* TCB info (TDX): tdxtcbcomponents */
    uint16_t isvsvn; /* QE identity and TDX module levels */
    int64_t date;    /* tcbDate */
    scitt_dcap_tcb_status status;
    uint32_t adv_first, adv_n; /* into scitt__dcap_doc.adv */
} scitt__dcap_level;

typedef struct scitt__dcap_module {
    uint8_t version; /* N of "TDX_NN" */
    uint8_t mrsigner[48], attributes[8], attributes_mask[8];
    uint32_t level_first, level_n;
} scitt__dcap_module;

typedef enum scitt__dcap_doc_kind {
    SCITT__DCAP_DOC_TCB_INFO = 0,
    SCITT__DCAP_DOC_QE_IDENTITY = 1,
} scitt__dcap_doc_kind;

typedef struct scitt__dcap_doc {
    scitt__dcap_doc_kind kind;
    uint8_t *bytes; /* owned copy of the file */
    size_t len;
    scitt_span body; /* the signed value (tcbInfo / enclaveIdentity), inside bytes */
    uint8_t sig[64];
    char id[8]; /* "TDX", "SGX", "TD_QE", "QE" (other ids are refused at parse) */
    uint32_t version;
    int64_t issue_date, next_update;
    uint64_t eval_number;
    /* TCB info */
    uint8_t fmspc[6], pce_id[2];
    bool has_module; /* tdxModule */
    uint8_t module_mrsigner[48], module_attributes[8], module_attributes_mask[8];
    size_t n_modules;
    scitt__dcap_module modules[SCITT__DCAP_MODULES_MAX];
    /* QE identity */
    uint8_t miscselect[4], miscselect_mask[4], attributes[16], attributes_mask[16], mrsigner[32];
    uint16_t isvprodid;
    /* tcbLevels of either document */
    uint32_t level_first, level_n;
    size_t n_levels;
    scitt__dcap_level levels[SCITT__DCAP_LEVELS_MAX];
    size_t n_adv;
    scitt_span adv[SCITT__DCAP_ADV_MAX];
} scitt__dcap_doc;

/* Copies and parses @p bytes as a document of @p kind; *out is a heap object (free with
 * scitt__dcap_doc_free). SCITT_ERR_EVIDENCE_MALFORMED / SCITT_ERR_UNSUPPORTED with *why. */
scitt_err scitt__dcap_doc_parse(scitt__dcap_doc_kind kind, scitt_span bytes, scitt__dcap_doc **out,
                                scitt_tee_reason *why);
void scitt__dcap_doc_free(scitt__dcap_doc *d);

struct scitt_dcap_collateral {
    bool has[SCITT_DCAP_ITEMS];
    scitt__dcap_doc *tcb_info;
    scitt__dcap_doc *qe_identity;
    scitt__dcap_chain tcb_info_chain, qe_identity_chain, pck_crl_chain;
    scitt__dcap_crl *pck_crl, *root_crl;
    scitt__dcap_cache *cache; /* the only part that changes while verifications run */
};

#endif /* SCITT_TEE_INTERNAL_H */
