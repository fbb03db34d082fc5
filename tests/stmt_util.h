/*
 * Test helpers that make real Signed Statements: keys through the COSE API, X.509 certificates
 * through OpenSSL (test CAs and leaves made at test time), statements through
 * scitt_cose_headers_encode + scitt_cose_sign1_sign. Not part of any library.
 */
#ifndef SCITT_STMT_UTIL_H
#define SCITT_STMT_UTIL_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "scitt/cose.h"

/* The OpenSSL form of a COSE key (through its PKCS#8 PEM). Free with EVP_PKEY_free. */
static inline EVP_PKEY *su_evp(const scitt_cose_key *k)
{
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    if (scitt_cose_key_encode_pem(k, true, &pem) != SCITT_OK) {
        return NULL;
    }
    BIO *b = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    scitt_wipe(pem.ptr, pem.len);
    scitt_dynbuf_clear(&pem);
    return p;
}

static inline void su_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/*
 * A certificate for @p subject_key with CN @p cn, signed by @p issuer_key as @p issuer_cert
 * (NULL: self-signed), valid [not_before, not_after] (Unix seconds). @p ca makes it a CA.
 * @p eku (may be NULL) adds an extendedKeyUsage. Returns the X509 (free with X509_free).
 */
static inline X509 *su_cert(EVP_PKEY *subject_key, const char *cn, EVP_PKEY *issuer_key,
                            X509 *issuer_cert, bool ca, int64_t not_before, int64_t not_after,
                            const char *eku)
{
    static long serial = 1;
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    ASN1_TIME_set(X509_getm_notBefore(c), (time_t)not_before);
    ASN1_TIME_set(X509_getm_notAfter(c), (time_t)not_after);
    X509_set_pubkey(c, subject_key);
    X509_NAME *n = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer_cert ? X509_get_subject_name(issuer_cert) : n);
    X509 *iss = issuer_cert ? issuer_cert : c;
    su_ext(c, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    su_ext(c, iss, NID_key_usage,
           ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    su_ext(c, iss, NID_subject_key_identifier, "hash");
    if (issuer_cert) {
        su_ext(c, iss, NID_authority_key_identifier, "keyid:always");
    }
    if (eku) {
        su_ext(c, iss, NID_ext_key_usage, eku);
    }
    const EVP_MD *md = EVP_PKEY_get_id(issuer_key ? issuer_key : subject_key) == EVP_PKEY_ED25519
                           ? NULL
                           : EVP_sha256();
    X509_sign(c, issuer_key ? issuer_key : subject_key, md);
    return c;
}

/*
 * A leaf certificate for @p subject_key (CN @p cn) issued by @p issuer_key as @p issuer_cert,
 * valid [not_before, not_after], with keyUsage @p ku, extendedKeyUsage @p eku and
 * subjectAltName @p san (each an OpenSSL config value; NULL: no such extension).
 */
static inline X509 *su_leaf(EVP_PKEY *subject_key, const char *cn, EVP_PKEY *issuer_key,
                            X509 *issuer_cert, int64_t not_before, int64_t not_after,
                            const char *ku, const char *eku, const char *san)
{
    static long serial = 1000000;
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    ASN1_TIME_set(X509_getm_notBefore(c), (time_t)not_before);
    ASN1_TIME_set(X509_getm_notAfter(c), (time_t)not_after);
    X509_set_pubkey(c, subject_key);
    X509_NAME *n = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
    su_ext(c, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (ku) {
        su_ext(c, issuer_cert, NID_key_usage, ku);
    }
    su_ext(c, issuer_cert, NID_subject_key_identifier, "hash");
    su_ext(c, issuer_cert, NID_authority_key_identifier, "keyid:always");
    if (eku) {
        su_ext(c, issuer_cert, NID_ext_key_usage, eku);
    }
    if (san) {
        su_ext(c, issuer_cert, NID_subject_alt_name, san);
    }
    X509_sign(c, issuer_key, EVP_sha256());
    return c;
}

/*
 * A CRL by @p issuer_key as @p issuer_cert, valid [this_update, next_update], revoking the @p n
 * certificates of @p revoked; as PEM (free with free()).
 */
static inline char *su_crl_pem(EVP_PKEY *issuer_key, X509 *issuer_cert, X509 *const *revoked,
                               size_t n, int64_t this_update, int64_t next_update)
{
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer_cert));
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)this_update);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set(t, (time_t)next_update);
    X509_CRL_set1_nextUpdate(crl, t);
    for (size_t i = 0; i < n; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i]));
        ASN1_TIME_set(t, (time_t)this_update);
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(crl, r);
    }
    ASN1_TIME_free(t);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, issuer_key, EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(b, crl);
    char *data;
    long len = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)len + 1);
    memcpy(out, data, (size_t)len);
    out[len] = 0;
    BIO_free(b);
    X509_CRL_free(crl);
    return out;
}

/* @p text with its newlines as \n, for a JSON string (free with free()). */
static inline char *su_json_escape(const char *text)
{
    char *out = malloc(2 * strlen(text) + 1), *q = out;
    for (const char *c = text; *c; c++) {
        if (*c == '\n') {
            *q++ = '\\';
            *q++ = 'n';
        } else {
            *q++ = *c;
        }
    }
    *q = 0;
    return out;
}

/* DER bytes of @p c into a fresh heap buffer (free with OPENSSL_free). */
static inline scitt_span su_der(X509 *c)
{
    unsigned char *der = NULL;
    int n = i2d_X509(c, &der);
    return scitt_span_make(der, n > 0 ? (size_t)n : 0);
}

/* PEM text of @p c (free with free()). */
static inline char *su_pem(X509 *c)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, c);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = 0;
    BIO_free(b);
    return out;
}

typedef struct su_opts {
    const char *iss, *sub;
    const scitt_span *x5chain;
    size_t nx5chain;
    bool with_kid;
    bool has_iat;
    int64_t iat;
    const char *content_type;
    int64_t hash_alg; /* 258: payload is then a digest */
    const char *preimage_type;
    unsigned flags;          /* SCITT_SIGN1_DETACHED, SCITT_SIGN1_NO_TAG_OUT */
    const char *extra_label; /* one more protected parameter with a text label... */
    scitt_span extra_value;  /* ...and this already-encoded value */
} su_opts;

/* Appends a signed statement with @p payload made as @p o says. */
static inline scitt_err su_statement(const scitt_cose_key *k, const su_opts *o, scitt_span payload,
                                     scitt_dynbuf *out)
{
    uint8_t prot[16384];
    scitt_cbor_writer pw;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(k);
    if (o->with_kid) {
        spec.kid = scitt_cose_key_kid(k);
    }
    spec.cwt = o->iss || o->sub;
    spec.cwt_iss = o->iss ? scitt_span_str(o->iss) : scitt_span_make(NULL, 0);
    spec.cwt_sub = o->sub ? scitt_span_str(o->sub) : scitt_span_make(NULL, 0);
    spec.cwt_has_iat = o->has_iat;
    spec.cwt_iat = o->iat;
    spec.x5chain = o->x5chain;
    spec.nx5chain = o->nx5chain;
    if (o->content_type) {
        spec.content_type.present = true;
        spec.content_type.is_text = true;
        spec.content_type.text = scitt_span_str(o->content_type);
    }
    spec.payload_hash_alg = o->hash_alg;
    if (o->preimage_type) {
        spec.preimage_content_type.present = true;
        spec.preimage_content_type.is_text = true;
        spec.preimage_content_type.text = scitt_span_str(o->preimage_type);
    }
    scitt_cose_label extra;
    if (o->extra_label) {
        extra.is_text = true;
        extra.text = scitt_span_str(o->extra_label);
        spec.extra_labels = &extra;
        spec.extra_values = &o->extra_value;
        spec.nextra = 1;
    }
    scitt_err e = scitt_cose_headers_encode(&spec, &pw);
    scitt_span pmap;
    e = e ? e : scitt_cbor_writer_finish(&pw, &pmap);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    return e ? e
             : scitt_cose_sign1_sign(k, pmap, scitt_span_make(NULL, 0), payload,
                                     scitt_span_make(NULL, 0), o->flags, &w);
}

#endif
