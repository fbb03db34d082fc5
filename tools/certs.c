/*
 * X.509 certificates for `scitt keygen` (the tool's one OpenSSL adapter for making certificates):
 * self-signed certificates, CA certificates, and leaves issued by such a CA, so an issuer can put
 * an x5chain in its statements and name itself with a did:x509.
 */
#include "certs.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The OpenSSL form of a COSE key, through its PKCS#8 (private) or SPKI (public) PEM. */
static EVP_PKEY *to_evp(const scitt_cose_key *k, bool priv)
{
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    if (scitt_cose_key_encode_pem(k, priv, &pem) != SCITT_OK) {
        scitt_dynbuf_clear(&pem);
        return NULL;
    }
    BIO *b = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    EVP_PKEY *p = b ? (priv ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)
                            : PEM_read_bio_PUBKEY(b, NULL, NULL, NULL))
                    : NULL;
    BIO_free(b);
    scitt_wipe(pem.ptr, pem.len);
    scitt_dynbuf_clear(&pem);
    return p;
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

scitt_err cert_make(const cert_request *rq, scitt_dynbuf *pem, scitt_dynbuf *der, char *why,
                    size_t cap)
{
    scitt_err e = SCITT_ERR_CRYPTO;
    EVP_PKEY *subject = to_evp(rq->subject_key, false);
    EVP_PKEY *signer = to_evp(rq->issuer_key ? rq->issuer_key : rq->subject_key, true);
    X509 *issuer = NULL, *c = X509_new();
    if (rq->issuer_cert.len) {
        const unsigned char *p = rq->issuer_cert.ptr;
        issuer = d2i_X509(NULL, &p, (long)rq->issuer_cert.len);
    }
    snprintf(why, cap, "cannot make the certificate");
    if (!subject || !signer || !c || (rq->issuer_cert.len && !issuer)) {
        goto out;
    }
    uint8_t serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        goto out;
    }
    serial[0] &= 0x7f; /* a positive INTEGER */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) : NULL;
    BN_free(bn);
    time_t now = time(NULL);
    if (!sn || X509_set_version(c, 2) != 1 || !ASN1_TIME_set(X509_getm_notBefore(c), now - 300) ||
        !ASN1_TIME_set(X509_getm_notAfter(c), now + (time_t)rq->days * 86400) ||
        X509_set_pubkey(c, subject) != 1) {
        goto out;
    }
    X509_NAME *name = X509_get_subject_name(c);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)rq->cn, -1, -1,
                                   0) != 1) {
        snprintf(why, cap, "the subject CN is not usable");
        goto out;
    }
    X509 *iss = issuer ? issuer : c;
    if (X509_set_issuer_name(c, X509_get_subject_name(iss)) != 1 ||
        !add_ext(c, iss, NID_basic_constraints,
                 rq->ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        !add_ext(c, iss, NID_key_usage,
                 rq->ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                        : "critical,digitalSignature") ||
        !add_ext(c, iss, NID_subject_key_identifier, "hash") ||
        (issuer && !add_ext(c, iss, NID_authority_key_identifier, "keyid:always"))) {
        goto out;
    }
    if (rq->eku && !add_ext(c, iss, NID_ext_key_usage, rq->eku)) {
        snprintf(why, cap, "--eku \"%s\" is not an OID or a known usage name", rq->eku);
        goto out;
    }
    int id = EVP_PKEY_get_id(signer);
    const EVP_MD *md = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
    if (id == EVP_PKEY_EC && EVP_PKEY_get_bits(signer) > 256) {
        md = EVP_PKEY_get_bits(signer) > 384 ? EVP_sha512() : EVP_sha384();
    }
    if (X509_sign(c, signer, md) <= 0) {
        goto out;
    }
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    unsigned char *d = NULL;
    int dl;
    if (!b || PEM_write_bio_X509(b, c) != 1 || (n = BIO_get_mem_data(b, &data)) <= 0 ||
        (dl = i2d_X509(c, &d)) <= 0) {
        BIO_free(b);
        goto out;
    }
    scitt_dynbuf_put(pem, data, (size_t)n);
    scitt_dynbuf_put(der, d, (size_t)dl);
    OPENSSL_free(d);
    BIO_free(b);
    e = pem->err ? pem->err : der->err;
    snprintf(why, cap, "ok");
out:
    X509_free(c);
    X509_free(issuer);
    EVP_PKEY_free(subject);
    EVP_PKEY_free(signer);
    return e;
}
