/*
 * Test-only synthetic SEV-SNP evidence, made with OpenSSL and real keys generated per test run:
 * AMD-shaped ARK/ASK/VCEK chains (RSASSA-PSS SHA-384, KDS extensions) and reports signed with the
 * synthetic VCEK. Verification of such evidence only succeeds with the synthetic ARK pinned
 * explicitly; with the built-in pins it is an untrusted root, which is what the negative tests
 * need. Nothing here is part of a library.
 */
#ifndef SCITT_TEE_SYNTH_H
#define SCITT_TEE_SYNTH_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scitt/tee.h"

/* KDS extensions to put in a leaf; -1 / NULL leaves one out. */
typedef struct synth_ext {
    const char *product_name;
    int struct_version;
    int spl[10]; /* index = last arc of 1.3.6.1.4.1.3704.1.3.N */
    const uint8_t *hwid;
    size_t hwid_len;
    const char *csp_id;
} synth_ext;

/* Extensions of a well-formed VCEK (or VLEK when csp_id is set) for @p product at @p tcb. */
void synth_ext_for(synth_ext *e, scitt_snp_product product, const scitt_snp_tcb *tcb,
                   const uint8_t *hwid, const char *csp_id);

EVP_PKEY *synth_rsa(int bits);
EVP_PKEY *synth_p384(void);

/* A certificate for @p key named CN=@p cn, issued by @p issuer (NULL: self-issued) and signed by
 * @p signer: RSASSA-PSS SHA-384/MGF1-SHA-384 with salt @p salt (salt < 0: PKCS#1 v1.5) for RSA
 * signers, ECDSA-SHA-384 for EC signers. Valid [nb, na]. */
X509 *synth_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer, int salt,
                 int64_t nb, int64_t na, const synth_ext *ext);
/* The DER of @p x in a malloc'd buffer. */
uint8_t *synth_der(X509 *x, size_t *len);

/* A whole chain: ARK-<P> -> SEV-<P> (or SEV-VLEK-<P>) -> SEV-VCEK/SEV-VLEK with @p ext. */
typedef struct synth_chain {
    EVP_PKEY *ark_key, *ask_key, *leaf_key;
    X509 *ark, *ask, *leaf;
    bool vlek;
} synth_chain;

void synth_chain_make(synth_chain *c, scitt_snp_product p, bool vlek, const synth_ext *ext,
                      int64_t nb, int64_t na);
void synth_chain_free(synth_chain *c);
/* Adds the three certificates under their roles. */
void synth_chain_certs(const synth_chain *c, scitt_snp_certs *out);
/* The pin of the chain's ARK. */
void synth_chain_pin(const synth_chain *c, scitt_snp_product p, scitt_snp_pin *pin);

/* Serialises @p r (the inverse of scitt_snp_report_parse) and, when @p signer is not NULL, signs
 * bytes [0, 0x2A0) with ECDSA P-384/SHA-384 into the little-endian r/s fields. */
void synth_report(const scitt_snp_report *r, EVP_PKEY *signer, uint8_t out[SCITT_SNP_REPORT_LEN]);
/* A plausible v2 report: policy 0x30000, vmpl 0, algo 1, firmware 1.55.1, given TCB/chip id. */
void synth_report_defaults(scitt_snp_report *r, uint64_t tcb, const uint8_t chip_id[64]);

#endif /* SCITT_TEE_SYNTH_H */
