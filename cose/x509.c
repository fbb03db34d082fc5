/*
 * X.509 path validation through OpenSSL: strict certificate parsing, the trust store, and the
 * one function that maps OpenSSL's verification outcome onto scitt_err.
 */
#include "scitt/x509.h"

#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "scitt/limits.h"
#include "x509_internal.h"

struct scitt_x509_roots {
    X509_STORE *store;
    size_t ncrls; /* CRLs added: when any, every path is checked against them */
    /* SHA-256 chained over everything added, in order: the store's identity. */
    uint8_t digest[SCITT_SHA256_LEN];
    /* The validity bounds of every certificate and CRL added (int64_t Unix seconds), for
     * scitt_x509_time_window; bounds_bad when one did not convert. */
    scitt_dynbuf bounds;
    bool bounds_bad;
};

/* ----------------------------------------------------------------------------------------- */

/* @p t in Unix seconds, whole seconds as OpenSSL compares certificate and CRL times with the
 * instant checked (X509_cmp_time); false when it does not convert. */
static bool time_seconds(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
        ERR_clear_error();
        return false;
    }
    int64_t days = scitt_days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                         (unsigned)tm.tm_mday);
    *out = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    return true;
}

/* Records a validity bound of something added to the store. */
static void add_bound(scitt_x509_roots *r, const ASN1_TIME *t)
{
    int64_t v;
    if (!time_seconds(t, &v)) {
        r->bounds_bad = true;
        return;
    }
    scitt_dynbuf_put(&r->bounds, &v, sizeof(v));
}

/* Chains @p der, tagged with what it is, into the store's identity. */
static void add_identity(scitt_x509_roots *r, uint8_t what, const void *der, size_t len)
{
    uint8_t h[SCITT_SHA256_LEN];
    scitt_sha256(der, len, h);
    scitt_span parts[3] = {scitt_span_make(r->digest, sizeof(r->digest)), scitt_span_make(&what, 1),
                           scitt_span_make(h, sizeof(h))};
    scitt_sha256_v(parts, 3, r->digest);
}

/* Narrows [*lo, *hi) around @p at by the bound @p e: OpenSSL's comparisons with @p e are all of
 * the form "e <= instant" (notBefore and thisUpdate not after it: valid; notAfter and
 * nextUpdate not after it: expired). */
static void narrow(int64_t at, int64_t e, int64_t *lo, int64_t *hi)
{
    if (e <= at) {
        *lo = e > *lo ? e : *lo;
    } else {
        *hi = e < *hi ? e : *hi;
    }
}

scitt_err scitt__x509_parse(scitt_span der, X509 **out)
{
    *out = NULL;
    if (der.len == 0 || der.ptr == NULL) {
        return SCITT_ERR_CERT_MALFORMED;
    }
    if (der.len > SCITT_X509_CERT_MAX_BYTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    const unsigned char *p = der.ptr;
    X509 *x = d2i_X509(NULL, &p, (long)der.len);
    if (x == NULL) {
        ERR_clear_error();
        return SCITT_ERR_CERT_MALFORMED;
    }
    /* Fingerprints are taken over the bytes as received, so those bytes must be the one and only
     * encoding of what OpenSSL parsed: no trailing data and no BER leniency in the outer layers
     * (OpenSSL re-encodes from the parsed form, keeping only the TBS bytes it cached). */
    scitt_err err = SCITT_ERR_CERT_MALFORMED;
    if ((size_t)(p - der.ptr) != der.len) {
        goto out;
    }
    int n = i2d_X509(x, NULL);
    if (n < 0 || (size_t)n != der.len) {
        goto out;
    }
    unsigned char *enc = NULL;
    n = i2d_X509(x, &enc);
    if (n < 0 || enc == NULL) {
        err = SCITT_ERR_NOMEM;
        goto out;
    }
    bool same = (size_t)n == der.len && memcmp(enc, der.ptr, der.len) == 0;
    OPENSSL_free(enc);
    if (!same) {
        goto out;
    }
    *out = x;
    return SCITT_OK;
out:
    ERR_clear_error();
    X509_free(x);
    return err;
}

void scitt__x509_free_chain(X509 **certs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        X509_free(certs[i]);
        certs[i] = NULL;
    }
}

scitt_err scitt__x509_parse_chain(const scitt_span *chain, size_t n, X509 **certs, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        scitt_err e = scitt__x509_parse(chain[i], &certs[i]);
        if (e != SCITT_OK) {
            scitt__x509_free_chain(certs, i);
            if (why) {
                *why = e == SCITT_ERR_TOO_LARGE ? "certificate too large"
                                                : "certificate does not parse as strict DER";
            }
            return e;
        }
    }
    return SCITT_OK;
}

scitt_err scitt_x509_check_der(scitt_span der)
{
    X509 *x;
    scitt_err e = scitt__x509_parse(der, &x);
    X509_free(x);
    return e;
}

/* ----------------------------------------------------------------------------------------- */

scitt_err scitt_x509_roots_new(scitt_x509_roots **out)
{
    if (out == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    *out = NULL;
    scitt_x509_roots *r = scitt_calloc(1, sizeof(*r));
    if (r == NULL) {
        return SCITT_ERR_NOMEM;
    }
    r->store = X509_STORE_new();
    if (r->store == NULL) {
        scitt_free(r);
        ERR_clear_error();
        return SCITT_ERR_NOMEM;
    }
    scitt_dynbuf_init(&r->bounds, 0);
    *out = r;
    return SCITT_OK;
}

void scitt_x509_roots_free(scitt_x509_roots *roots)
{
    if (roots == NULL) {
        return;
    }
    X509_STORE_free(roots->store);
    scitt_dynbuf_clear(&roots->bounds);
    scitt_free(roots);
}

scitt_err scitt_x509_roots_add_der(scitt_x509_roots *roots, scitt_span der)
{
    if (roots == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    X509 *x;
    scitt_err e = scitt__x509_parse(der, &x);
    if (e != SCITT_OK) {
        return e;
    }
    /* The store takes its own reference; adding a certificate twice is not an error. */
    int ok = X509_STORE_add_cert(roots->store, x);
    if (ok) {
        add_identity(roots, 'C', der.ptr, der.len);
        add_bound(roots, X509_get0_notBefore(x));
        add_bound(roots, X509_get0_notAfter(x));
    }
    X509_free(x);
    if (!ok || roots->bounds.err) {
        ERR_clear_error();
        return SCITT_ERR_NOMEM;
    }
    return SCITT_OK;
}

scitt_err scitt_x509_roots_add_pem(scitt_x509_roots *roots, scitt_span pem, size_t *added)
{
    if (roots == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    enum { MAX_BUNDLE = 1024 };
    scitt_span *certs = scitt_calloc(MAX_BUNDLE, sizeof(*certs));
    if (certs == NULL) {
        return SCITT_ERR_NOMEM;
    }
    scitt_dynbuf der;
    scitt_dynbuf_init(&der, 0);
    size_t n = 0;
    scitt_err e = scitt_x509_pem_decode(pem, &der, certs, MAX_BUNDLE, &n);
    for (size_t i = 0; e == SCITT_OK && i < n; i++) {
        e = scitt_x509_roots_add_der(roots, certs[i]);
    }
    if (e == SCITT_OK && added) {
        *added = n;
    }
    scitt_dynbuf_clear(&der);
    scitt_free(certs);
    return e;
}

/* Parses exactly one strictly encoded DER CRL (caller frees with X509_CRL_free). */
static scitt_err parse_crl(const unsigned char *der, long len, X509_CRL **out)
{
    *out = NULL;
    const unsigned char *p = der;
    X509_CRL *c = d2i_X509_CRL(NULL, &p, len);
    if (c == NULL) {
        ERR_clear_error();
        return SCITT_ERR_CERT_MALFORMED;
    }
    unsigned char *enc = NULL;
    int n = i2d_X509_CRL(c, &enc);
    bool same = p - der == len && n == len && enc && memcmp(enc, der, (size_t)len) == 0;
    OPENSSL_free(enc);
    ERR_clear_error();
    if (!same) {
        X509_CRL_free(c);
        return SCITT_ERR_CERT_MALFORMED;
    }
    *out = c;
    return SCITT_OK;
}

scitt_err scitt_x509_roots_add_crl_pem(scitt_x509_roots *roots, scitt_span pem, size_t *added)
{
    enum { MAX_CRLS = 1024 };
    if (roots == NULL || (pem.ptr == NULL && pem.len != 0) || pem.len > (size_t)INT32_MAX) {
        return SCITT_ERR_INVALID_ARG;
    }
    X509_CRL **crls = scitt_calloc(MAX_CRLS, sizeof(*crls));
    if (crls == NULL) {
        return SCITT_ERR_NOMEM;
    }
    size_t n = 0;
    scitt_err err = SCITT_ERR_NOMEM;
    BIO *bio = BIO_new_mem_buf(pem.len ? pem.ptr : (const void *)"", (int)pem.len);
    while (bio != NULL) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        if (!PEM_read_bio(bio, &name, &header, &data, &len)) {
            unsigned long last = ERR_peek_last_error();
            bool end = ERR_GET_LIB(last) == ERR_LIB_PEM &&
                       ERR_GET_REASON(last) == PEM_R_NO_START_LINE && n > 0;
            err = end ? SCITT_OK : SCITT_ERR_CERT_MALFORMED;
            break;
        }
        scitt_err e = SCITT_OK;
        if (strcmp(name, PEM_STRING_X509_CRL) != 0 || header[0] != '\0' || len <= 0) {
            e = SCITT_ERR_CERT_MALFORMED;
        } else if (n == MAX_CRLS) {
            e = SCITT_ERR_TOO_LARGE;
        } else {
            e = parse_crl(data, len, &crls[n]);
            n += e == SCITT_OK;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (e != SCITT_OK) {
            err = e;
            break;
        }
    }
    /* Nothing is added unless every block parsed. */
    for (size_t i = 0; err == SCITT_OK && i < n; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509_CRL(crls[i], &der);
        if (len <= 0 || !X509_STORE_add_crl(roots->store, crls[i])) {
            err = SCITT_ERR_NOMEM;
        } else {
            /* The bytes as received: parse_crl checked that they re-encode identically. */
            add_identity(roots, 'R', der, (size_t)len);
            add_bound(roots, X509_CRL_get0_lastUpdate(crls[i]));
            if (X509_CRL_get0_nextUpdate(crls[i]) != NULL) {
                add_bound(roots, X509_CRL_get0_nextUpdate(crls[i]));
            }
            err = roots->bounds.err ? SCITT_ERR_NOMEM : SCITT_OK;
        }
        OPENSSL_free(der);
    }
    if (err == SCITT_OK) {
        roots->ncrls += n;
        if (added) {
            *added = n;
        }
    }
    for (size_t i = 0; i < n; i++) {
        X509_CRL_free(crls[i]);
    }
    ERR_clear_error();
    BIO_free(bio);
    scitt_free(crls);
    return err;
}

size_t scitt_x509_roots_count(const scitt_x509_roots *roots)
{
    if (roots == NULL) {
        return 0;
    }
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(roots->store);
    int n = sk_X509_OBJECT_num(objs);
    return n > 0 ? (size_t)n : 0;
}

void scitt_x509_roots_digest(const scitt_x509_roots *roots, uint8_t out[SCITT_SHA256_LEN])
{
    if (roots == NULL) {
        memset(out, 0, SCITT_SHA256_LEN);
        return;
    }
    memcpy(out, roots->digest, SCITT_SHA256_LEN);
}

/*
 * OpenSSL (3.0) reads the instant of a path validation only by comparing it with the validity
 * bounds of the certificates and CRLs it looks at: notBefore and notAfter of every certificate
 * it considers (the supplied ones, and the store's as candidate issuers), thisUpdate and
 * nextUpdate of every CRL it scores. Between two consecutive bounds every one of these
 * comparisons, and so the whole decision, is the same.
 */
scitt_err scitt_x509_time_window(const scitt_x509_roots *roots, const scitt_span *chain, size_t n,
                                 int64_t at, int64_t *from, int64_t *until)
{
    if ((chain == NULL && n != 0) || from == NULL || until == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (n > SCITT_LIMIT_X5CHAIN_CERTS) {
        return SCITT_ERR_TOO_LARGE;
    }
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        X509 *x;
        scitt_err e = scitt__x509_parse(chain[i], &x);
        if (e != SCITT_OK) {
            return e;
        }
        int64_t nb, na;
        bool ok =
            time_seconds(X509_get0_notBefore(x), &nb) && time_seconds(X509_get0_notAfter(x), &na);
        X509_free(x);
        if (!ok) {
            return SCITT_ERR_CERT_MALFORMED;
        }
        narrow(at, nb, &lo, &hi);
        narrow(at, na, &lo, &hi);
    }
    if (roots != NULL) {
        if (roots->bounds_bad) {
            return SCITT_ERR_CERT_MALFORMED;
        }
        size_t nb = roots->bounds.len / sizeof(int64_t);
        for (size_t i = 0; i < nb; i++) {
            int64_t v;
            memcpy(&v, roots->bounds.ptr + i * sizeof(v), sizeof(v));
            narrow(at, v, &lo, &hi);
        }
    }
    *from = lo;
    *until = hi;
    return SCITT_OK;
}

/* ----------------------------------------------------------------------------------------- */

/* The critical extensions we understand and that OpenSSL enforces during path validation. Any
 * other critical extension fails validation, as RFC 5280 §4.2 requires. OpenSSL alone would also
 * accept a few legacy ones (Netscape cert type, proxy certificates, RFC 3779 resources). */
static bool critical_ok(X509 *x, const char **why)
{
    static const int allowed[] = {
        NID_basic_constraints,  NID_key_usage,        NID_ext_key_usage,
        NID_subject_alt_name,   NID_name_constraints, NID_certificate_policies,
        NID_policy_constraints, NID_policy_mappings,  NID_inhibit_any_policy,
    };
    int count = X509_get_ext_count(x);
    for (int i = 0; i < count; i++) {
        X509_EXTENSION *ext = X509_get_ext(x, i);
        if (!X509_EXTENSION_get_critical(ext)) {
            continue;
        }
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        bool known = false;
        for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++) {
            known = known || nid == allowed[k];
        }
        if (!known) {
            if (why) {
                *why = "unhandled critical extension";
            }
            return false;
        }
    }
    return true;
}

/* The one place OpenSSL verification codes become scitt_err. */
static scitt_err map_verify_error(int code)
{
    switch (code) {
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID: /* time-dependent, like a certificate's validity */
    case X509_V_ERR_CRL_HAS_EXPIRED:
        return SCITT_ERR_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return SCITT_ERR_UNTRUSTED;
    case X509_V_ERR_OUT_OF_MEM:
        return SCITT_ERR_NOMEM;
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        return SCITT_ERR_CERT_MALFORMED;
    default:
        return SCITT_ERR_CERT_CHAIN;
    }
}

scitt_err scitt__x509_path_verify(X509_STORE *store, X509 *const *certs, size_t n,
                                  const scitt_x509_time *when, bool exact, bool crl_check,
                                  const char **why)
{
    scitt_err err = SCITT_ERR_NOMEM;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (ctx == NULL || untrusted == NULL) {
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        if (!sk_X509_push(untrusted, certs[i])) {
            goto out;
        }
    }
    if (!X509_STORE_CTX_init(ctx, store, certs[0], untrusted)) {
        goto out;
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    /* Every anchor in the store is trusted as such (also intermediates), anchors' own signatures
     * are checked, and OpenSSL's strict RFC 5280 profile applies. */
    unsigned long flags =
        X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_CHECK_SS_SIGNATURE | X509_V_FLAG_X509_STRICT;
    if (crl_check) {
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    }
    if (!when->check) {
        flags |= X509_V_FLAG_NO_CHECK_TIME;
    } else {
        X509_VERIFY_PARAM_set_time(param, (time_t)when->at);
    }
    X509_VERIFY_PARAM_set_flags(param, flags);
    X509_VERIFY_PARAM_set_depth(param, (int)SCITT_LIMIT_X5CHAIN_CERTS);

    int rc = X509_verify_cert(ctx);
    if (rc != 1) {
        int code = X509_STORE_CTX_get_error(ctx);
        if (why) {
            *why = X509_verify_cert_error_string(code);
        }
        err = rc < 0 && code == X509_V_OK ? SCITT_ERR_CRYPTO : map_verify_error(code);
        goto out;
    }
    STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
    int plen = sk_X509_num(path);
    /* The supplied certificates must be the validated path itself: a chain padded with unrelated
     * certificates, or one that only works after reordering, is not what its signer presented. */
    if (plen < 1 || (size_t)plen < n || (exact && (size_t)plen != n)) {
        err = SCITT_ERR_CERT_CHAIN;
        if (why) {
            *why = "supplied chain does not match the validated path";
        }
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (X509_cmp(sk_X509_value(path, (int)i), certs[i]) != 0) {
            err = SCITT_ERR_CERT_CHAIN;
            if (why) {
                *why = "supplied chain does not match the validated path";
            }
            goto out;
        }
    }
    for (int i = 0; i < plen; i++) {
        if (!critical_ok(sk_X509_value(path, i), why)) {
            err = SCITT_ERR_CERT_CHAIN;
            goto out;
        }
    }
    err = SCITT_OK;
out:
    ERR_clear_error();
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    return err;
}

scitt_err scitt_x509_verify_chain(const scitt_x509_roots *roots, const scitt_span *chain, size_t n,
                                  const scitt_x509_time *when, const char **why)
{
    return scitt_x509_verify_chain_leaf(roots, chain, n, when, NULL, why);
}

scitt_err scitt_x509_verify_chain_leaf(const scitt_x509_roots *roots, const scitt_span *chain,
                                       size_t n, const scitt_x509_time *when,
                                       const scitt_x509_leaf_rules *rules, const char **why)
{
    if (roots == NULL || chain == NULL || when == NULL || n == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (n > SCITT_LIMIT_X5CHAIN_CERTS) {
        if (why) {
            *why = "too many certificates in the chain";
        }
        return SCITT_ERR_TOO_LARGE;
    }
    X509 *certs[SCITT_LIMIT_X5CHAIN_CERTS];
    scitt_err e = scitt__x509_parse_chain(chain, n, certs, why);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt__x509_path_verify(roots->store, certs, n, when, false, roots->ncrls > 0, why);
    /* On the certificate already parsed: parsing is what a check costs most after the
     * signatures. */
    if (e == SCITT_OK && rules) {
        e = scitt__x509_leaf_check(certs[0], rules, why);
    }
    scitt__x509_free_chain(certs, n);
    return e;
}
