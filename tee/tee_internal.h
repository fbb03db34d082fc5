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

/* Strict DER: the whole span must be one certificate. SCITT_ERR_CERT_MALFORMED otherwise. */
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

#endif /* SCITT_TEE_INTERNAL_H */
