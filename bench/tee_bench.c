/*
 * SEV-SNP verification benchmark over the real virtee sample (tests/data/tee in the repository).
 * Prints, one per line:
 *   rsa4096_pss_verify: n /s   one RSASSA-PSS-SHA-384 verification of the ASK by the ARK with
 *                              OpenSSL directly (the baseline: a chain check does three)
 *   report_parse: n /s         scitt_snp_report_parse of the 1184-byte report
 *   certs_add_pem: n /s        parsing the ASK+ARK PEM bundle into a certificate set
 *   snp_verify: n /s           scitt_snp_verify: pin, PSS chain, extensions, ECDSA signature
 *   ratio snp_verify/rsa4096_pss_verify: x
 * and for Intel DCAP, over the real GCP TDX quote and its collateral (tests/data/dcap):
 *   ecdsa_p256_verify: n /s    one ECDSA P-256/SHA-256 verification of the quote signature with
 *                              OpenSSL directly and a prepared key (the baseline)
 *   tdx_quote_verify: n /s     scitt_dcap_verify with the collateral parsed once (cached): quote
 *                              and PEM parsing, the three PCK certificates and the attestation
 *                              key found in the collateral set's parse cache (parsed on the first
 *                              call only), 9 ECDSA verifications (PCK CA, PCK certificate, root
 *                              CRL, PCK CRL, QE report, quote, TCB Signing certificate, TCB info,
 *                              QE identity), TCB evaluation
 *   ratio tdx_quote_verify/(ecdsa_p256_verify/9): x   1.0 would be the ECDSA work alone
 * Usage: tee_bench   (SCITT_TEST_DATA overrides where the test data are)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bench.h"
#include "scitt/dcap.h"
#include "scitt/tee.h"

#ifndef SCITT_TEST_DATA_DEFAULT
#define SCITT_TEST_DATA_DEFAULT "tests/data"
#endif

static uint8_t *load(const char *rel, size_t *len)
{
    const char *dir = getenv("SCITT_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : SCITT_TEST_DATA_DEFAULT, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tee_bench: cannot open %s (set SCITT_TEST_DATA)\n", path);
        exit(2);
    }
    static uint8_t buf[3][16384];
    static int next;
    uint8_t *b = buf[next++ % 3];
    *len = fread(b, 1, sizeof(buf[0]), f);
    fclose(f);
    return b;
}

#define RUN(name, body)                                                                            \
    do {                                                                                           \
        uint64_t n_ = 0;                                                                           \
        double t0_ = bench_now(), t_;                                                              \
        do {                                                                                       \
            for (int i_ = 0; i_ < 16; i_++) {                                                      \
                body;                                                                              \
            }                                                                                      \
            n_ += 16;                                                                              \
            t_ = bench_now();                                                                      \
        } while (t_ - t0_ < 1.0);                                                                  \
        name = (double)n_ / (t_ - t0_);                                                            \
    } while (0)

/* Reads tests/data/dcap/@p rel into a fresh heap buffer. */
static uint8_t *load_dcap(const char *rel, size_t *len)
{
    const char *dir = getenv("SCITT_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/dcap/%s", dir ? dir : SCITT_TEST_DATA_DEFAULT, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tee_bench: cannot open %s (set SCITT_TEST_DATA)\n", path);
        exit(2);
    }
    uint8_t *b = malloc(1u << 16);
    if (!b) {
        exit(2);
    }
    *len = fread(b, 1, 1u << 16, f);
    fclose(f);
    return b;
}

#define DCAP_ECDSA_PER_QUOTE 9

static int bench_dcap(void)
{
    size_t ql;
    uint8_t *quote = load_dcap("tdx-gcp/quote.bin", &ql);
    scitt_dcap_collateral *col = NULL;
    if (scitt_dcap_collateral_new(&col) != SCITT_OK) {
        return 1;
    }
    /* Every file of the collateral directory but the optional PCK CRL issuer chain, whose check
     * would add a tenth signature. */
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (i == SCITT_DCAP_PCK_CRL_CHAIN) {
            continue;
        }
        char rel[256];
        snprintf(rel, sizeof(rel), "tdx-automata/collateral/%s",
                 scitt_dcap_item_file((scitt_dcap_item)i));
        size_t n;
        uint8_t *b = load_dcap(rel, &n);
        if (scitt_dcap_collateral_set(col, (scitt_dcap_item)i, scitt_span_make(b, n), NULL)) {
            return 1;
        }
        free(b);
    }
    scitt_dcap_quote q;
    if (scitt_dcap_quote_parse(scitt_span_make(quote, ql), &q, NULL) != SCITT_OK) {
        return 1;
    }
    /* The baseline: the quote signature with OpenSSL, key and DER signature prepared once. */
    uint8_t point[65] = {0x04};
    memcpy(point + 1, q.att_key, 64);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pk = NULL;
    if (!pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        return 1;
    }
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(q.signature, 32, NULL), BN_bin2bn(q.signature + 32, 32, NULL));
    unsigned char *der = NULL;
    int dlen = i2d_ECDSA_SIG(sig, &der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    double ecdsa, verify;
    RUN(ecdsa, {
        if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
            EVP_DigestVerify(md, der, (size_t)dlen, q.signed_part.ptr, q.signed_part.len) != 1) {
            return 1;
        }
    });
    bench_print("ecdsa_p256_verify", ecdsa, "/s");
    scitt_dcap_verify_opts o;
    scitt_dcap_verify_opts_init(&o, INT64_C(1752537600)); /* 2025-07-15T00:00:00Z */
    scitt_dcap_result r;
    RUN(verify, {
        if (scitt_dcap_verify(scitt_span_make(quote, ql), col, &o, &r) != SCITT_OK) {
            return 1;
        }
    });
    bench_print("tdx_quote_verify", verify, "/s");
    bench_print("ratio tdx_quote_verify/(ecdsa_p256_verify/9)",
                verify / (ecdsa / DCAP_ECDSA_PER_QUOTE), "");
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pctx);
    scitt_dcap_collateral_free(col);
    free(quote);
    return 0;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: tee_bench\n  SEV-SNP report parsing and verification against RSA-4096 PSS "
               "verify,\n  Intel TDX quote verification against ECDSA P-256 verify\n"
               "  (SCITT_TEST_DATA overrides where the test data are)\n");
    size_t rl, vl, cl;
    uint8_t *report = load("tee/sev-snp/virtee-milan/report_milan.bin", &rl);
    uint8_t *vcek = load("tee/sev-snp/virtee-milan/vcek_milan.der", &vl);
    uint8_t *chain = load("tee/sev-snp/virtee-milan/cert_chain_milan", &cl);
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    if (scitt_snp_certs_add_der(&certs, SCITT_SNP_CERT_VCEK, scitt_span_make(vcek, vl), NULL) ||
        scitt_snp_certs_add_pem(&certs, scitt_span_make(chain, cl), NULL)) {
        return 1;
    }
    scitt_span ask = scitt_snp_certs_get(&certs, SCITT_SNP_CERT_ASK);
    scitt_span ark = scitt_snp_certs_get(&certs, SCITT_SNP_CERT_ARK);
    const unsigned char *p = ask.ptr;
    X509 *ask_x = d2i_X509(NULL, &p, (long)ask.len);
    p = ark.ptr;
    X509 *ark_x = d2i_X509(NULL, &p, (long)ark.len);
    EVP_PKEY *ark_key = X509_get0_pubkey(ark_x);
    if (!ask_x || !ark_key || X509_verify(ask_x, ark_key) != 1) {
        return 1;
    }
    double rsa, parse, pem, verify;
    RUN(rsa, if (X509_verify(ask_x, ark_key) != 1) return 1);
    bench_print("rsa4096_pss_verify", rsa, "/s");
    scitt_snp_report r;
    RUN(parse, if (scitt_snp_report_parse(scitt_span_make(report, rl), &r, NULL)) return 1);
    bench_print("report_parse", parse, "/s");
    RUN(pem, {
        scitt_snp_certs c;
        scitt_snp_certs_init(&c);
        if (scitt_snp_certs_add_pem(&c, scitt_span_make(chain, cl), NULL)) {
            return 1;
        }
        scitt_snp_certs_clear(&c);
    });
    bench_print("certs_add_pem", pem, "/s");
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, INT64_C(1751328000));
    scitt_snp_verified v;
    RUN(verify, if (scitt_snp_verify(scitt_span_make(report, rl), &certs, &o, &v, NULL)) return 1);
    bench_print("snp_verify", verify, "/s");
    bench_print("ratio snp_verify/rsa4096_pss_verify", verify / rsa, "");
    X509_free(ask_x);
    X509_free(ark_x);
    scitt_snp_certs_clear(&certs);
    return bench_dcap();
}
