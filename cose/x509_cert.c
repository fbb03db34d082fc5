/*
 * Certificate helpers: fingerprints, the SubjectPublicKeyInfo as carried, subject CN, SANs and
 * PEM bundles.
 */
#include "scitt/x509.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "x509_internal.h"

scitt_err scitt_x509_fingerprint(scitt_span der, scitt_x509_hash alg,
                                 uint8_t out[SCITT_X509_FINGERPRINT_MAX], size_t *out_len)
{
    if (out == NULL || out_len == NULL || (der.ptr == NULL && der.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    switch (alg) {
    case SCITT_X509_SHA256:
        scitt_sha256(der.ptr, der.len, out);
        *out_len = SCITT_SHA256_LEN;
        return SCITT_OK;
    case SCITT_X509_SHA384:
        scitt_sha384(der.ptr, der.len, out);
        *out_len = SCITT_SHA384_LEN;
        return SCITT_OK;
    case SCITT_X509_SHA512:
        scitt_sha512(der.ptr, der.len, out);
        *out_len = SCITT_SHA512_LEN;
        return SCITT_OK;
    }
    return SCITT_ERR_INVALID_ARG;
}

/* Reads one DER TLV header: the tag must be a single byte and the length definite and minimal.
 * Returns the content span, or sets the reader's error. */
static scitt_span der_tlv(scitt_reader *r, uint8_t *tag)
{
    scitt_span none = {NULL, 0};
    *tag = scitt_reader_u8(r);
    if ((*tag & 0x1f) == 0x1f) {
        r->err = r->err ? r->err : SCITT_ERR_MALFORMED;
        return none;
    }
    uint8_t first = scitt_reader_u8(r);
    size_t len = first;
    if (first & 0x80) {
        size_t nbytes = first & 0x7f;
        if (nbytes == 0 || nbytes > 4) {
            r->err = r->err ? r->err : SCITT_ERR_MALFORMED;
            return none;
        }
        len = 0;
        for (size_t i = 0; i < nbytes; i++) {
            len = (len << 8) | scitt_reader_u8(r);
        }
        /* Minimal: long form only from 128 on, and no leading zero length byte. */
        if (len < 0x80 || (len >> (8 * (nbytes - 1))) == 0) {
            r->err = r->err ? r->err : SCITT_ERR_MALFORMED;
            return none;
        }
    }
    return scitt_reader_take(r, len);
}

scitt_err scitt__x509_find_spki(scitt_span der, scitt_span *spki)
{
    scitt_reader r, tbs;
    uint8_t tag;
    scitt_reader_init(&r, der);
    scitt_span cert = der_tlv(&r, &tag);
    if (r.err || tag != 0x30) {
        return SCITT_ERR_CERT_MALFORMED;
    }
    scitt_reader_init(&r, cert);
    scitt_span tbs_body = der_tlv(&r, &tag);
    if (r.err || tag != 0x30) {
        return SCITT_ERR_CERT_MALFORMED;
    }
    scitt_reader_init(&tbs, tbs_body);
    /* TBSCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject,
     * subjectPublicKeyInfo. */
    if (scitt_reader_left(&tbs) > 0 && tbs.ptr[tbs.pos] == 0xa0) {
        (void)der_tlv(&tbs, &tag);
    }
    static const uint8_t expect[5] = {0x02, 0x30, 0x30, 0x30, 0x30};
    for (size_t i = 0; i < sizeof(expect); i++) {
        (void)der_tlv(&tbs, &tag);
        if (tbs.err || tag != expect[i]) {
            return SCITT_ERR_CERT_MALFORMED;
        }
    }
    size_t start = tbs.pos;
    (void)der_tlv(&tbs, &tag);
    if (tbs.err || tag != 0x30) {
        return SCITT_ERR_CERT_MALFORMED;
    }
    *spki = scitt_span_make(tbs.ptr + start, tbs.pos - start);
    return SCITT_OK;
}

scitt_err scitt_x509_spki(scitt_span der, scitt_span *spki)
{
    if (spki == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    /* OpenSSL decides whether this is a certificate at all; the walk then only has to find the
     * field in bytes already known to be strict DER. */
    scitt_err e = scitt_x509_check_der(der);
    if (e != SCITT_OK) {
        return e;
    }
    return scitt__x509_find_spki(der, spki);
}

scitt_err scitt__x509_utf8(const ASN1_STRING *s, unsigned char **out, size_t *len)
{
    *out = NULL;
    int n = ASN1_STRING_to_UTF8(out, s);
    if (n < 0) {
        ERR_clear_error();
        return SCITT_ERR_CERT_MALFORMED;
    }
    /* An embedded NUL would let "evil\0.example.com" compare equal as a C string. */
    if (memchr(*out, 0, (size_t)n) != NULL) {
        OPENSSL_free(*out);
        *out = NULL;
        return SCITT_ERR_CERT_MALFORMED;
    }
    *len = (size_t)n;
    return SCITT_OK;
}

static scitt_err copy_text(const unsigned char *s, size_t n, char *out, size_t cap, size_t *len)
{
    if (cap == 0 || n > cap - 1) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    if (len) {
        *len = n;
    }
    return SCITT_OK;
}

scitt_err scitt_x509_subject_cn(scitt_span der, char *out, size_t cap, size_t *len)
{
    if (out == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    X509 *x;
    scitt_err e = scitt__x509_parse(der, &x);
    if (e != SCITT_OK) {
        return e;
    }
    const X509_NAME *name = X509_get_subject_name(x);
    int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (at < 0) {
        e = SCITT_ERR_NOT_FOUND;
    } else if (X509_NAME_get_index_by_NID(name, NID_commonName, at) >= 0) {
        e = SCITT_ERR_DUPLICATE_KEY;
    } else {
        unsigned char *utf8;
        size_t n;
        e = scitt__x509_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)), &utf8, &n);
        if (e == SCITT_OK) {
            e = copy_text(utf8, n, out, cap, len);
            OPENSSL_free(utf8);
        }
    }
    X509_free(x);
    return e;
}

scitt_err scitt_x509_san_get(scitt_span der, size_t index, scitt_x509_san_type *type, char *out,
                             size_t cap, size_t *len)
{
    if (type == NULL || out == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    X509 *x;
    scitt_err e = scitt__x509_parse(der, &x);
    if (e != SCITT_OK) {
        return e;
    }
    int crit = 0;
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    if (sans == NULL) {
        e = crit == -1 ? SCITT_ERR_NOT_FOUND : SCITT_ERR_CERT_MALFORMED;
        goto out;
    }
    if (index >= (size_t)sk_GENERAL_NAME_num(sans)) {
        e = SCITT_ERR_NOT_FOUND;
        goto out;
    }
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, (int)index);
    const ASN1_STRING *s = NULL;
    switch (gn->type) {
    case GEN_EMAIL:
        *type = SCITT_X509_SAN_EMAIL;
        s = gn->d.rfc822Name;
        break;
    case GEN_DNS:
        *type = SCITT_X509_SAN_DNS;
        s = gn->d.dNSName;
        break;
    case GEN_URI:
        *type = SCITT_X509_SAN_URI;
        s = gn->d.uniformResourceIdentifier;
        break;
    default:
        *type = SCITT_X509_SAN_OTHER;
        e = copy_text((const unsigned char *)"", 0, out, cap, len);
        goto out;
    }
    const unsigned char *p = ASN1_STRING_get0_data(s);
    size_t n = (size_t)ASN1_STRING_length(s);
    if (memchr(p, 0, n) != NULL) {
        e = SCITT_ERR_CERT_MALFORMED;
        goto out;
    }
    e = copy_text(p, n, out, cap, len);
out:
    ERR_clear_error();
    GENERAL_NAMES_free(sans);
    X509_free(x);
    return e;
}

/* ----------------------------------------------------------------------------------------- */

scitt_err scitt_x509_pem_decode(scitt_span pem, scitt_dynbuf *der, scitt_span *certs, size_t cap,
                                size_t *n)
{
    if (der == NULL || n == NULL || (certs == NULL && cap != 0) ||
        (pem.ptr == NULL && pem.len != 0) || pem.len > (size_t)INT32_MAX) {
        return SCITT_ERR_INVALID_ARG;
    }
    *n = 0;
    /* Offsets, not pointers, until the end: the dynbuf may move while it grows. */
    size_t base = der->len;
    size_t count = 0;
    size_t ends[64];
    size_t *offs = cap <= 64 ? ends : scitt_calloc(cap, sizeof(size_t));
    if (offs == NULL) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err err = SCITT_ERR_NOMEM;
    BIO *bio = BIO_new_mem_buf(pem.len ? pem.ptr : (const void *)"", (int)pem.len);
    if (bio == NULL) {
        goto out;
    }
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        if (!PEM_read_bio(bio, &name, &header, &data, &len)) {
            unsigned long last = ERR_peek_last_error();
            bool end = ERR_GET_LIB(last) == ERR_LIB_PEM &&
                       ERR_GET_REASON(last) == PEM_R_NO_START_LINE && count > 0;
            err = end ? SCITT_OK : SCITT_ERR_CERT_MALFORMED;
            break;
        }
        scitt_err e = SCITT_OK;
        if (strcmp(name, PEM_STRING_X509) != 0 || header[0] != '\0' || len <= 0) {
            e = SCITT_ERR_CERT_MALFORMED;
        } else if (count == cap) {
            e = SCITT_ERR_TOO_LARGE;
        } else {
            e = scitt_x509_check_der(scitt_span_make(data, (size_t)len));
        }
        if (e == SCITT_OK) {
            scitt_dynbuf_put(der, data, (size_t)len);
            e = der->err;
            offs[count++] = der->len;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (e != SCITT_OK) {
            err = e;
            break;
        }
    }
    if (err == SCITT_OK) {
        size_t start = base;
        for (size_t i = 0; i < count; i++) {
            certs[i] = scitt_span_make(der->ptr + start, offs[i] - start);
            start = offs[i];
        }
        *n = count;
    } else {
        der->len = base;
    }
out:
    ERR_clear_error();
    BIO_free(bio);
    if (offs != ends) {
        scitt_free(offs);
    }
    return err;
}

/* ----------------------------------------------------------------------------------------- */

scitt_err scitt__x509_leaf_check(X509 *x, const scitt_x509_leaf_rules *rules, const char **why)
{
    static const char *const code_signing[] = {SCITT_X509_EKU_CODE_SIGNING};
    const char *reason = NULL;
    scitt_err e = SCITT_OK;
    if (rules->signing) {
        const char *const *ekus = rules->nekus ? rules->ekus : code_signing;
        size_t n = rules->nekus ? rules->nekus : 1;
        /* X509_get_key_usage reports every bit when the extension is absent: check presence. */
        uint32_t flags = X509_get_extension_flags(x);
        if (flags & EXFLAG_INVALID) {
            e = SCITT_ERR_CERT_MALFORMED;
            reason = "the leaf certificate has an extension that does not decode";
        } else if (!(flags & EXFLAG_KUSAGE)) {
            e = SCITT_ERR_POLICY;
            reason = "the leaf certificate has no keyUsage (digitalSignature is required)";
        } else if (!(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE)) {
            e = SCITT_ERR_POLICY;
            reason = "the leaf certificate's keyUsage lacks digitalSignature";
        }
        int crit = 0;
        EXTENDED_KEY_USAGE *eku =
            e == SCITT_OK ? X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL) : NULL;
        if (e == SCITT_OK && eku == NULL) {
            e = crit == -1 ? SCITT_ERR_POLICY : SCITT_ERR_CERT_MALFORMED;
            reason = crit == -1 ? "the leaf certificate has no extendedKeyUsage (code signing, or "
                                  "an EKU the policy names, is required)"
                                : "the leaf certificate's extendedKeyUsage does not decode";
        }
        bool found = false;
        for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku) && !found; i++) {
            char have[128];
            int len = OBJ_obj2txt(have, sizeof(have), sk_ASN1_OBJECT_value(eku, i), 1);
            for (size_t k = 0; len > 0 && len < (int)sizeof(have) && k < n && !found; k++) {
                found = ekus[k] && strcmp(have, ekus[k]) == 0;
            }
        }
        if (e == SCITT_OK && !found) {
            e = SCITT_ERR_POLICY;
            reason = "the leaf certificate's extendedKeyUsage has none of the purposes required "
                     "(code signing, or an EKU the policy names)";
        }
        EXTENDED_KEY_USAGE_free(eku);
    }
    if (e == SCITT_OK && rules->san_uri.len) {
        int crit = 0;
        GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
        bool found = false;
        for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !found; i++) {
            const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
            if (gn->type == GEN_URI) {
                const ASN1_STRING *u = gn->d.uniformResourceIdentifier;
                found =
                    scitt_span_eq(rules->san_uri, scitt_span_make(ASN1_STRING_get0_data(u),
                                                                  (size_t)ASN1_STRING_length(u)));
            }
        }
        GENERAL_NAMES_free(sans);
        if (!found) {
            e = sans || crit == -1 ? SCITT_ERR_POLICY : SCITT_ERR_CERT_MALFORMED;
            reason = sans || crit == -1 ? "the iss is not a subjectAltName URI of the leaf "
                                          "certificate (bind_iss)"
                                        : "the leaf certificate's subjectAltName does not decode";
        }
    }
    ERR_clear_error();
    if (e != SCITT_OK && why) {
        *why = reason;
    }
    return e;
}

scitt_err scitt_x509_check_signing_purpose(scitt_span der, const char *const *ekus, size_t n,
                                           const char **why)
{
    X509 *x;
    scitt_err e = scitt__x509_parse(der, &x);
    if (e != SCITT_OK) {
        if (why) {
            *why = e == SCITT_ERR_TOO_LARGE ? "the certificate is too large"
                                            : "the certificate does not parse as strict DER";
        }
        return e;
    }
    scitt_x509_leaf_rules rules = {true, ekus, n, {NULL, 0}};
    e = scitt__x509_leaf_check(x, &rules, why);
    X509_free(x);
    return e;
}
