/*
 * A throw-away self-signed P-256 certificate for localhost / 127.0.0.1 / ::1, made with the
 * OpenSSL API at test time (tests and benchmarks only; nothing here is committed key material).
 */
#ifndef SCITT_CERTGEN_H
#define SCITT_CERTGEN_H

#include <stdbool.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline bool certgen_add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e) {
        return false;
    }
    bool ok = X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

/* Writes a fresh key and certificate as PEM files; false on any failure. */
static inline bool certgen_write(const char *cert_path, const char *key_path)
{
    bool ok = false;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *fc = NULL, *fk = NULL;
    unsigned char serial[8];
    if (!key || !x || RAND_bytes(serial, sizeof(serial)) != 1) {
        goto out;
    }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    if (!sn || X509_set_serialNumber(x, sn) != 1) {
        ASN1_INTEGER_free(sn);
        goto out;
    }
    ASN1_INTEGER_free(sn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    if (X509_set_pubkey(x, key) != 1 ||
        !certgen_add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
        !certgen_add_ext(x, NID_subject_key_identifier, "hash") ||
        !certgen_add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
        X509_sign(x, key, EVP_sha256()) == 0) {
        goto out;
    }
    fc = fopen(cert_path, "w");
    fk = fopen(key_path, "w");
    if (!fc || !fk || PEM_write_X509(fc, x) != 1 ||
        PEM_write_PrivateKey(fk, key, NULL, NULL, 0, NULL, NULL) != 1) {
        goto out;
    }
    ok = true;
out:
    if (fc) {
        fclose(fc);
    }
    if (fk) {
        fclose(fk);
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

#endif /* SCITT_CERTGEN_H */
