/*
 * Test certificate factory: real P-256 keys and real signatures made with OpenSSL, so each test
 * builds exactly the chain it needs (validity windows, CA flags, path lengths, critical
 * extensions, names) instead of relying on fixed files. Test code only.
 */
#ifndef SCITT_TEST_CERTGEN_H
#define SCITT_TEST_CERTGEN_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "testutil.h"

typedef struct cg_cert {
    X509 *x;
    EVP_PKEY *key;
    uint8_t *der;
    size_t der_len;
} cg_cert;

typedef struct cg_opts {
    const char *cn;        /* subject CN (NULL: none) */
    const char *cn2;       /* a second CN attribute (duplicate attribute type) */
    const char *o;         /* organisation */
    const cg_cert *issuer; /* NULL: self-signed */
    bool ca;               /* basicConstraints CA:TRUE (critical) */
    bool no_bc;            /* omit basicConstraints */
    int pathlen;           /* with ca: -1 for none */
    const char *ku;        /* keyUsage value for X509V3_EXT_conf_nid, NULL: CA default / none */
    const char *eku;       /* extendedKeyUsage, NULL: none */
    const char *san;       /* subjectAltName, NULL: none */
    int64_t not_before;    /* Unix seconds; 0: 2020-01-01 */
    int64_t not_after;     /* 0: 2040-01-01 */
    bool unknown_critical; /* add a critical extension with an unknown OID */
    const char *fulcio;    /* legacy Fulcio issuer extension value (raw UTF-8) */
} cg_opts;

static inline void cg_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

static inline void cg_raw_ext(X509 *x, const char *oid, bool critical, const char *value)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    assert_int_equal(ASN1_OCTET_STRING_set(os, (const unsigned char *)value, (int)strlen(value)),
                     1);
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
}

static inline void cg_make(cg_cert *out, const cg_opts *o)
{
    static long serial = 1000;
    memset(out, 0, sizeof(*out));
    out->key = EVP_EC_gen("P-256");
    assert_non_null(out->key);
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
    X509_NAME *name = X509_NAME_new();
    if (o->cn) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn, -1, -1,
                                   0);
    }
    if (o->cn2) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn2, -1, -1,
                                   0);
    }
    if (o->o) {
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)o->o, -1, -1,
                                   0);
    }
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, o->issuer ? X509_get_subject_name(o->issuer->x) : name);
    X509_NAME_free(name);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x),
                                  (time_t)(o->not_before ? o->not_before : 1577836800)));
    assert_non_null(
        ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(o->not_after ? o->not_after : 2208988800)));
    assert_int_equal(X509_set_pubkey(x, out->key), 1);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, o->issuer ? o->issuer->x : x, x, NULL, NULL, 0);
    if (!o->no_bc) {
        char bc[64];
        if (o->ca && o->pathlen >= 0) {
            snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", o->pathlen);
        } else {
            snprintf(bc, sizeof(bc), "critical,CA:%s", o->ca ? "TRUE" : "FALSE");
        }
        cg_ext(x, &ctx, NID_basic_constraints, bc);
    }
    const char *ku = o->ku ? o->ku : o->ca ? "critical,keyCertSign,cRLSign" : NULL;
    if (ku && ku[0]) {
        cg_ext(x, &ctx, NID_key_usage, ku);
    }
    cg_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (o->issuer) {
        cg_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    }
    if (o->eku) {
        cg_ext(x, &ctx, NID_ext_key_usage, o->eku);
    }
    if (o->san) {
        cg_ext(x, &ctx, NID_subject_alt_name, o->san);
    }
    if (o->unknown_critical) {
        cg_raw_ext(x, "1.3.6.1.4.1.55555.1", true, "x");
    }
    if (o->fulcio) {
        cg_raw_ext(x, "1.3.6.1.4.1.57264.1.1", false, o->fulcio);
    }
    EVP_PKEY *signer = o->issuer ? o->issuer->key : out->key;
    assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    out->der = malloc((size_t)n);
    memcpy(out->der, der, (size_t)n);
    OPENSSL_free(der);
    out->der_len = (size_t)n;
    out->x = x;
}

static inline scitt_span cg_span(const cg_cert *c)
{
    return scitt_span_make(c->der, c->der_len);
}

static inline void cg_free(cg_cert *c)
{
    X509_free(c->x);
    EVP_PKEY_free(c->key);
    free(c->der);
    memset(c, 0, sizeof(*c));
}

/* A standard three-level chain: root (CA), intermediate (CA, pathlen 0), leaf. */
typedef struct cg_chain {
    cg_cert root, inter, leaf;
} cg_chain;

static inline void cg_chain_make(cg_chain *c, const cg_opts *leaf_opts)
{
    cg_opts r = {.cn = "Test Root", .ca = true, .pathlen = -1};
    cg_make(&c->root, &r);
    cg_opts i = {.cn = "Test Intermediate", .ca = true, .pathlen = 0, .issuer = &c->root};
    cg_make(&c->inter, &i);
    cg_opts l = *leaf_opts;
    l.issuer = &c->inter;
    cg_make(&c->leaf, &l);
}

static inline void cg_chain_free(cg_chain *c)
{
    cg_free(&c->root);
    cg_free(&c->inter);
    cg_free(&c->leaf);
}

/*
 * A CRL issued by @p issuer, valid [this_update, next_update] (Unix seconds), revoking the
 * @p n certificates in @p revoked, as PEM (free with free()).
 */
static inline char *cg_crl_pem(const cg_cert *issuer, const cg_cert *const *revoked, size_t n,
                               int64_t this_update, int64_t next_update)
{
    X509_CRL *crl = X509_CRL_new();
    assert_non_null(crl);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->x)), 1);
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)this_update);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set(t, (time_t)next_update);
    X509_CRL_set1_nextUpdate(crl, t);
    for (size_t i = 0; i < n; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i]->x));
        ASN1_TIME_set(t, (time_t)this_update);
        X509_REVOKED_set_revocationDate(r, t);
        assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
    }
    ASN1_TIME_free(t);
    X509_CRL_sort(crl);
    assert_true(X509_CRL_sign(crl, issuer->key, EVP_sha256()) > 0);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509_CRL(b, crl), 1);
    char *data;
    long len = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)len + 1);
    memcpy(out, data, (size_t)len);
    out[len] = 0;
    BIO_free(b);
    X509_CRL_free(crl);
    return out;
}

#endif /* SCITT_TEST_CERTGEN_H */
