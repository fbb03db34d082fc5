/*
 * SEV-SNP verification benchmark over the real virtee sample (tests/data/tee in the repository).
 * Prints, one per line:
 *   rsa4096_pss_verify: n /s   one RSASSA-PSS-SHA-384 verification of the ASK by the ARK with
 *                              OpenSSL directly (the baseline: a chain check does three)
 *   report_parse: n /s         scitt_snp_report_parse of the 1184-byte report
 *   certs_add_pem: n /s        parsing the ASK+ARK PEM bundle into a certificate set
 *   snp_verify: n /s           scitt_snp_verify: pin, PSS chain, extensions, ECDSA signature
 *   ratio snp_verify/rsa4096_pss_verify: x
 * Usage: tee_bench   (SCITT_TEST_DATA overrides where the test data are)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "bench.h"
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

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: tee_bench\n  SEV-SNP report parsing and verification against RSA-4096 PSS "
               "verify\n  (SCITT_TEST_DATA overrides where the test data are)\n");
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
    return 0;
}
