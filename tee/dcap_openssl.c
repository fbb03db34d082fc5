/*
 * The OpenSSL adapter of the DCAP verifier: Intel's certificates and CRLs, the SGX extension of
 * the PCK certificate, and ECDSA P-256/SHA-256 with raw (r, s) signatures. OpenSSL types stay in
 * this file (and x509_int.h, shared with x509_openssl.c); everything else in dcap_*.c is plain C
 * over bytes. Parsed certificates and imported keys are immutable once made, so references to them
 * (scitt__dcap_cert_ref, scitt__dcap_key_ref) may be used by several threads at once.
 */
#include "tee_internal.h"
#include "x509_int.h"

#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scitt/limits.h"

struct scitt__dcap_crl {
    X509_CRL *c;
};

/* DER contents of the OID 1.2.840.113741.1.13.1 (Intel SGX extensions). */
static const uint8_t sgx_ext_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

static bool is_p256(const EVP_PKEY *pk)
{
    char group[32];
    size_t glen = 0;
    bool ok = pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
              EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) == 1 &&
              strcmp(group, "prime256v1") == 0;
    ERR_clear_error();
    return ok;
}

scitt_err scitt__dcap_cert_info_get(const scitt__x509 *c, scitt__dcap_cert_info *out)
{
    memset(out, 0, sizeof(*out));
    out->p256 = is_p256(X509_get0_pubkey(c->x));
    /* X509_check_ca also caches the extensions; 1 means a CA by basicConstraints. */
    out->is_ca = X509_check_ca(c->x) == 1;
    uint32_t flags = X509_get_extension_flags(c->x);
    bool ku_ok = !(flags & EXFLAG_KUSAGE) || (X509_get_key_usage(c->x) & KU_DIGITAL_SIGNATURE);
    out->signer = ku_ok && !(flags & EXFLAG_CA);
    ERR_clear_error();
    if (!scitt__asn1_time_unix(X509_get0_notBefore(c->x), &out->not_before) ||
        !scitt__asn1_time_unix(X509_get0_notAfter(c->x), &out->not_after)) {
        return SCITT_ERR_CERT_MALFORMED;
    }
    return SCITT_OK;
}

bool scitt__dcap_cert_issued_by(const scitt__x509 *child, const scitt__x509 *parent)
{
    return X509_NAME_cmp(X509_get_issuer_name(child->x), X509_get_subject_name(parent->x)) == 0;
}

static bool algor_is_ecdsa_sha256(const X509_ALGOR *a)
{
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    if (!a) {
        return false;
    }
    X509_ALGOR_get0(&obj, &ptype, &pval, a);
    /* RFC 5758: the parameters of ecdsa-with-SHA256 are absent. */
    return OBJ_obj2nid(obj) == NID_ecdsa_with_SHA256 && ptype == V_ASN1_UNDEF;
}

scitt_err scitt__dcap_cert_check_signed(const scitt__x509 *child, const scitt__x509 *parent)
{
    const X509_ALGOR *alg = NULL;
    X509_get0_signature(NULL, &alg, child->x);
    if (!algor_is_ecdsa_sha256(alg) || X509_ALGOR_cmp(alg, X509_get0_tbs_sigalg(child->x)) != 0) {
        return SCITT_ERR_ALG;
    }
    EVP_PKEY *pk = X509_get0_pubkey(parent->x);
    if (!is_p256(pk)) {
        return SCITT_ERR_ALG;
    }
    int rc = X509_verify(child->x, pk);
    ERR_clear_error();
    return rc == 1 ? SCITT_OK : SCITT_ERR_SIGNATURE;
}

scitt_err scitt__dcap_cert_sgx_ext(const scitt__x509 *c, scitt_span *value)
{
    *value = scitt_span_make(NULL, 0);
    bool found = false;
    int count = X509_get_ext_count(c->x);
    for (int i = 0; i < count; i++) {
        X509_EXTENSION *ext = X509_get_ext(c->x, i);
        const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
        const unsigned char *od = OBJ_get0_data(obj);
        if (!od || OBJ_length(obj) != sizeof(sgx_ext_oid) ||
            memcmp(od, sgx_ext_oid, sizeof(sgx_ext_oid)) != 0) {
            continue;
        }
        if (found) {
            return SCITT_ERR_CERT_MALFORMED;
        }
        found = true;
        const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(ext);
        *value = scitt_span_make(ASN1_STRING_get0_data(data), (size_t)ASN1_STRING_length(data));
    }
    return found ? SCITT_OK : SCITT_ERR_NOT_FOUND;
}

/* ECDSA-SHA256 of @p msg with @p pk, the signature given as raw 32-byte r and s. */
static scitt_err verify_raw(EVP_PKEY *pk, scitt_span msg, const uint8_t sig[64])
{
    scitt_err err = SCITT_ERR_CRYPTO;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(sig, 32, NULL);
    BIGNUM *bs = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!s || !br || !bs || !ctx || ECDSA_SIG_set0(s, br, bs) != 1) {
        goto out;
    }
    br = bs = NULL; /* owned by s now */
    int dlen = i2d_ECDSA_SIG(s, &der);
    if (dlen <= 0 || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1) {
        goto out;
    }
    /* r or s of zero (or >= n) makes the verification fail, as it must. */
    err = EVP_DigestVerify(ctx, der, (size_t)dlen, msg.ptr, msg.len) == 1 ? SCITT_OK
                                                                          : SCITT_ERR_SIGNATURE;
out:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(s);
    ERR_clear_error();
    return err;
}

scitt_err scitt__dcap_cert_verify(const scitt__x509 *c, scitt_span msg, const uint8_t sig[64])
{
    EVP_PKEY *pk = X509_get0_pubkey(c->x);
    if (!is_p256(pk)) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    return verify_raw(pk, msg, sig);
}

scitt_err scitt__dcap_cert_ref(const scitt__x509 *c, scitt__x509 **out)
{
    *out = NULL;
    scitt__x509 *w = scitt_malloc(sizeof(*w));
    if (!w) {
        return SCITT_ERR_NOMEM;
    }
    if (X509_up_ref(c->x) != 1) {
        ERR_clear_error();
        scitt_free(w);
        return SCITT_ERR_CRYPTO;
    }
    w->x = c->x;
    *out = w;
    return SCITT_OK;
}

struct scitt__dcap_key {
    EVP_PKEY *pk;
};

scitt_err scitt__dcap_key_import(const uint8_t key[64], scitt__dcap_key **out)
{
    *out = NULL;
    uint8_t point[65];
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, key, 64);
    scitt_err err = SCITT_ERR_CRYPTO;
    OSSL_PARAM params[3];
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
    params[2] = OSSL_PARAM_construct_end();
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    scitt__dcap_key *w = scitt_malloc(sizeof(*w));
    if (!w) {
        err = SCITT_ERR_NOMEM;
        goto out;
    }
    if (!pctx || EVP_PKEY_fromdata_init(pctx) != 1) {
        goto out;
    }
    /* Importing the point checks that it lies on the curve. */
    if (EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1 || !pk) {
        err = SCITT_ERR_KEY_MALFORMED;
        goto out;
    }
    w->pk = pk;
    *out = w;
    w = NULL;
    pk = NULL;
    err = SCITT_OK;
out:
    scitt_free(w);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return err;
}

scitt_err scitt__dcap_key_ref(const scitt__dcap_key *k, scitt__dcap_key **out)
{
    *out = NULL;
    scitt__dcap_key *w = scitt_malloc(sizeof(*w));
    if (!w) {
        return SCITT_ERR_NOMEM;
    }
    if (EVP_PKEY_up_ref(k->pk) != 1) {
        ERR_clear_error();
        scitt_free(w);
        return SCITT_ERR_CRYPTO;
    }
    w->pk = k->pk;
    *out = w;
    return SCITT_OK;
}

void scitt__dcap_key_free(scitt__dcap_key *k)
{
    if (k) {
        EVP_PKEY_free(k->pk);
        scitt_free(k);
    }
}

scitt_err scitt__dcap_key_check(const scitt__dcap_key *k, scitt_span msg, const uint8_t sig[64])
{
    return verify_raw(k->pk, msg, sig);
}

scitt_err scitt__dcap_key_verify(const uint8_t key[64], scitt_span msg, const uint8_t sig[64])
{
    scitt__dcap_key *k = NULL;
    scitt_err err = scitt__dcap_key_import(key, &k);
    if (err == SCITT_OK) {
        err = scitt__dcap_key_check(k, msg, sig);
    }
    scitt__dcap_key_free(k);
    return err;
}

scitt_err scitt__dcap_crl_parse(scitt_span der, scitt__dcap_crl **out)
{
    *out = NULL;
    if (der.len == 0) {
        return SCITT_ERR_EVIDENCE_MALFORMED;
    }
    if (der.len > SCITT_DCAP_COLLATERAL_FILE_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    const unsigned char *p = der.ptr;
    X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)der.len);
    if (!c || p != der.ptr + der.len) {
        X509_CRL_free(c);
        ERR_clear_error();
        return SCITT_ERR_EVIDENCE_MALFORMED;
    }
    scitt__dcap_crl *w = scitt_malloc(sizeof(*w));
    if (!w) {
        X509_CRL_free(c);
        return SCITT_ERR_NOMEM;
    }
    w->c = c;
    *out = w;
    return SCITT_OK;
}

void scitt__dcap_crl_free(scitt__dcap_crl *c)
{
    if (c) {
        X509_CRL_free(c->c);
        scitt_free(c);
    }
}

scitt_err scitt__dcap_crl_times(const scitt__dcap_crl *c, int64_t *this_update,
                                int64_t *next_update)
{
    if (!scitt__asn1_time_unix(X509_CRL_get0_lastUpdate(c->c), this_update) ||
        !scitt__asn1_time_unix(X509_CRL_get0_nextUpdate(c->c), next_update)) {
        return SCITT_ERR_EVIDENCE_MALFORMED;
    }
    return SCITT_OK;
}

bool scitt__dcap_crl_issued_by(const scitt__dcap_crl *crl, const scitt__x509 *issuer)
{
    return X509_NAME_cmp(X509_CRL_get_issuer(crl->c), X509_get_subject_name(issuer->x)) == 0;
}

scitt_err scitt__dcap_crl_check_signed(const scitt__dcap_crl *crl, const scitt__x509 *issuer)
{
    const X509_ALGOR *alg = NULL;
    X509_CRL_get0_signature(crl->c, NULL, &alg);
    /* OpenSSL 3.0 has no accessor for the inner algorithm of a CRL; the signature covers it. */
    if (!algor_is_ecdsa_sha256(alg)) {
        return SCITT_ERR_ALG;
    }
    EVP_PKEY *pk = X509_get0_pubkey(issuer->x);
    if (!is_p256(pk)) {
        return SCITT_ERR_ALG;
    }
    int rc = X509_CRL_verify(crl->c, pk);
    ERR_clear_error();
    return rc == 1 ? SCITT_OK : SCITT_ERR_SIGNATURE;
}

bool scitt__dcap_crl_lists(const scitt__dcap_crl *crl, const scitt__x509 *c)
{
    X509_REVOKED *entry = NULL;
    /* 1: listed; 2: listed as removeFromCRL (not revoked); 0: not listed. */
    int rc = X509_CRL_get0_by_serial(crl->c, &entry, X509_get0_serialNumber(c->x));
    ERR_clear_error();
    return rc == 1;
}
