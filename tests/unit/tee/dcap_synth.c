/* Synthetic Intel DCAP world for tests; see dcap_synth.h. */
#include "dcap_synth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400

static void must(int ok, const char *what)
{
    if (!ok) {
        fail_msg("OpenSSL: %s failed", what);
    }
}

/* ---- growable text and bytes ---- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *v, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            cap *= 2;
        }
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n) {
        memcpy(b->p + b->len, v, n);
    }
    b->len += n;
}

static void put_str(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    put(b, tmp, (size_t)n);
}

static void put_hex(buf *b, const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        putf(b, "%02X", v[i]);
    }
}

static void put_le16(buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put_le32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void set_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

void ds_time_text(int64_t t, char out[21])
{
    time_t tt = (time_t)t;
    struct tm tm;
    must(gmtime_r(&tt, &tm) != NULL, "gmtime_r");
    must(strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 20, "strftime");
}

/* ---- defaults ---- */

static void fill(uint8_t *p, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(start + i);
    }
}

static ds_cert cert_defaults(bool ca, int64_t nb, int64_t na)
{
    ds_cert c;
    memset(&c, 0, sizeof(c));
    c.curve = NID_X9_62_prime256v1;
    c.ca = ca ? 1 : 0;
    c.key_usage = ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation";
    c.not_before = nb;
    c.not_after = na;
    return c;
}

void ds_level_set(ds_level *l, uint8_t sgx, uint16_t pcesvn, const uint8_t tdx[16],
                  const char *status, const char *adv)
{
    memset(l->sgx, sgx, 16);
    l->pcesvn = pcesvn;
    if (tdx) {
        memcpy(l->tdx, tdx, 16);
    }
    l->status = status;
    l->adv = adv;
}

void ds_spec_default(ds_spec *s, scitt_dcap_tee tee, int64_t now)
{
    memset(s, 0, sizeof(*s));
    bool tdx = tee == SCITT_DCAP_TEE_TDX;
    s->tee = tee;
    s->now = now;
    /* Distinct windows, so that which one narrows the result is visible. */
    s->root = cert_defaults(true, now - 3000 * DAY, now + 3000 * DAY);
    s->ca = cert_defaults(true, now - 2000 * DAY, now + 2000 * DAY);
    s->pck = cert_defaults(false, now - 100 * DAY, now + 1500 * DAY);
    s->tcb_signer = cert_defaults(false, now - 1000 * DAY, now + 1000 * DAY);
    s->qi_signer = cert_defaults(false, now - 900 * DAY, now + 900 * DAY);
    s->pck_sgx_ext = true;

    fill(s->ppid, 16, 0x40);
    static const uint8_t comps[16] = {7, 9, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(s->cpusvn_components, comps, 16);
    memcpy(s->cpusvn, comps, 16);
    s->pce_svn = 13;
    s->pce_id[0] = s->pce_id[1] = 0;
    static const uint8_t fmspc[6] = {0x50, 0x80, 0x6f, 0x05, 0x00, 0x00};
    memcpy(s->fmspc, fmspc, 6);
    s->sgx_type = 1;
    s->platform_ca_fields = true;

    s->root_crl = (ds_crl){true, now - 5 * DAY, now + 60 * DAY, NULL, false};
    s->pck_crl = (ds_crl){true, now - 4 * DAY, now + 50 * DAY, NULL, false};
    s->pck_crl_chain = true;

    /* TDX module 1.x (major version 1, SVN 3), then the platform's TDX components. */
    static const uint8_t tee_svn[16] = {3, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(s->tee_tcb_svn, tee_svn, 16);
    fill(s->mrsignerseam, 48, 0x90);
    memset(s->seam_attributes, 0, 8);

    /* The QE: attribute bit 0x04 of byte 0 and the XFRM bytes lie outside the identity's mask;
     * MISCSELECT 0x80000001 with bit 0 outside the mask. */
    fill(s->qe_mrsigner, 32, 0xd0);
    memset(s->qe_attributes, 0, 16);
    s->qe_attributes[0] = 0x15;
    memset(s->qe_attributes + 8, 0xe7, 8);
    s->qe_miscselect = 0x80000001u;
    s->qe_isv_prod_id = tdx ? 2 : 1;
    s->qe_isv_svn = 4;
    s->qe_auth_len = 32;

    s->ti_id = tdx ? "TDX" : "SGX";
    s->ti_issue = now - 3 * DAY;
    s->ti_next = now + 30 * DAY;
    memcpy(s->ti_fmspc, s->fmspc, 6);
    memcpy(s->ti_pce_id, s->pce_id, 2);
    if (tdx) {
        s->ti_has_module = true;
        memcpy(s->ti_module.mrsigner, s->mrsignerseam, 48);
        memset(s->ti_module.attributes_mask, 0xff, 8);
        s->ti_n_modules = 1;
        ds_module *m = &s->ti_modules[0];
        m->version = 1;
        memcpy(m->mrsigner, s->mrsignerseam, 48);
        memset(m->attributes_mask, 0xff, 8);
        m->n_levels = 1;
        m->levels[0] = (ds_isv_level){3, "UpToDate", now - 200 * DAY, NULL};
    }
    s->ti_n_levels = 1;
    ds_level *l = &s->ti_levels[0];
    memcpy(l->sgx, s->cpusvn_components, 16);
    l->pcesvn = s->pce_svn;
    if (tdx) {
        memcpy(l->tdx, s->tee_tcb_svn, 16);
    }
    l->status = "UpToDate";
    l->date = now - 200 * DAY;

    s->qi_id = tdx ? "TD_QE" : "QE";
    s->qi_issue = now - 2 * DAY;
    s->qi_next = now + 20 * DAY;
    static const uint8_t misc[4] = {0x80, 0, 0, 0}, misc_mask[4] = {0xff, 0xff, 0xff, 0xfe};
    memcpy(s->qi_miscselect, misc, 4);
    memcpy(s->qi_miscselect_mask, misc_mask, 4);
    memset(s->qi_attributes, 0, 16);
    s->qi_attributes[0] = 0x11;
    memset(s->qi_attributes_mask, 0xff, 8);
    s->qi_attributes_mask[0] = 0xfb;
    memcpy(s->qi_mrsigner, s->qe_mrsigner, 32);
    s->qi_isv_prod_id = s->qe_isv_prod_id;
    s->qi_n_levels = 1;
    s->qi_levels[0] = (ds_isv_level){4, "UpToDate", now - 200 * DAY, NULL};
}

/* ---- keys, signatures ---- */

static EVP_PKEY *keygen(int nid)
{
    const char *name = OBJ_nid2sn(nid);
    must(name != NULL, "curve name");
    EVP_PKEY *k = EVP_EC_gen(name);
    must(k != NULL, "EC keygen");
    return k;
}

/* ECDSA over SHA-256 of @p msg, as raw big-endian r || s (P-256 keys only). */
static void sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t n, uint8_t out[64])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t dlen = sizeof(der);
    must(ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(ctx, der, &dlen, msg, n) == 1,
         "ECDSA signature");
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    must(sig != NULL, "d2i_ECDSA_SIG");
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    must(BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32, "r || s");
    ECDSA_SIG_free(sig);
}

/* The uncompressed point of a P-256 key without its 0x04 prefix. */
static void raw_point(EVP_PKEY *key, uint8_t out[64])
{
    uint8_t pt[65];
    size_t n = 0;
    must(EVP_PKEY_get_octet_string_param(key, "pub", pt, sizeof(pt), &n) == 1 && n == 65 &&
             pt[0] == 0x04,
         "public point");
    memcpy(out, pt + 1, 64);
}

static const EVP_MD *md_of(const char *name)
{
    const EVP_MD *md = EVP_get_digestbyname(name ? name : "SHA256");
    must(md != NULL, "digest");
    return md;
}

/* ---- DER of the SGX extensions ---- */

static void der_len(buf *b, size_t n)
{
    uint8_t x[3];
    if (n < 0x80) {
        x[0] = (uint8_t)n;
        put(b, x, 1);
    } else if (n < 0x100) {
        x[0] = 0x81;
        x[1] = (uint8_t)n;
        put(b, x, 2);
    } else {
        assert_true(n < 0x10000);
        x[0] = 0x82;
        x[1] = (uint8_t)(n >> 8);
        x[2] = (uint8_t)n;
        put(b, x, 3);
    }
}

static void der_tlv(buf *b, uint8_t tag, const uint8_t *v, size_t n)
{
    put(b, &tag, 1);
    der_len(b, n);
    put(b, v, n);
}

/* The OID 1.2.840.113741.1.13.1 followed by @p n arcs (each < 128). */
static void der_sgx_oid(buf *b, const uint8_t *arcs, size_t n)
{
    static const uint8_t prefix[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
    buf o = {0};
    put(&o, prefix, sizeof(prefix));
    put(&o, arcs, n);
    der_tlv(b, 0x06, o.p, o.len);
    free(o.p);
}

/* A minimal non-negative INTEGER (tag 0x02) or ENUMERATED (0x0a). */
static void der_uint(buf *b, uint8_t tag, uint32_t v)
{
    uint8_t x[5];
    size_t n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        uint8_t byte = (uint8_t)(v >> shift);
        if (n == 0 && byte == 0 && shift > 0) {
            continue;
        }
        if (n == 0 && (byte & 0x80)) {
            x[n++] = 0;
        }
        x[n++] = byte;
    }
    der_tlv(b, tag, x, n);
}

/* SEQUENCE { OID sgx.<arcs>, <value> } where @p value is one encoded TLV. */
static void der_member(buf *b, const uint8_t *arcs, size_t n_arcs, const buf *value)
{
    buf m = {0};
    der_sgx_oid(&m, arcs, n_arcs);
    put(&m, value->p, value->len);
    der_tlv(b, 0x30, m.p, m.len);
    free(m.p);
}

static void sgx_extensions(const ds_spec *s, buf *out)
{
    buf body = {0}, v = {0};
    /* 1: PPID */
    der_tlv(&v, 0x04, s->ppid, 16);
    der_member(&body, (const uint8_t[]){1}, 1, &v);
    v.len = 0;
    /* 2: TCB: the 16 components, PCESVN (17), CPUSVN (18) */
    buf tcb = {0};
    for (uint8_t k = 1; k <= 18; k++) {
        buf x = {0};
        if (k <= 16) {
            der_uint(&x, 0x02, s->cpusvn_components[k - 1]);
        } else if (k == 17) {
            der_uint(&x, 0x02, s->pce_svn);
        } else {
            der_tlv(&x, 0x04, s->cpusvn, 16);
        }
        der_member(&tcb, (const uint8_t[]){2, k}, 2, &x);
        free(x.p);
    }
    der_tlv(&v, 0x30, tcb.p, tcb.len);
    der_member(&body, (const uint8_t[]){2}, 1, &v);
    v.len = 0;
    free(tcb.p);
    /* 3: PCE-ID, 4: FMSPC, 5: SGX type */
    der_tlv(&v, 0x04, s->pce_id, 2);
    der_member(&body, (const uint8_t[]){3}, 1, &v);
    v.len = 0;
    der_tlv(&v, 0x04, s->fmspc, 6);
    der_member(&body, (const uint8_t[]){4}, 1, &v);
    v.len = 0;
    der_uint(&v, 0x0a, s->sgx_type);
    der_member(&body, (const uint8_t[]){5}, 1, &v);
    v.len = 0;
    if (s->platform_ca_fields) {
        /* 6: platform instance ID; 7: configuration (dynamic platform, cached keys, SMT) */
        uint8_t pid[16];
        fill(pid, 16, 0x60);
        der_tlv(&v, 0x04, pid, 16);
        der_member(&body, (const uint8_t[]){6}, 1, &v);
        v.len = 0;
        buf conf = {0};
        static const uint8_t flags[3] = {0xff, 0x00, 0xff};
        for (uint8_t k = 1; k <= 3; k++) {
            buf x = {0};
            der_tlv(&x, 0x01, &flags[k - 1], 1);
            der_member(&conf, (const uint8_t[]){7, k}, 2, &x);
            free(x.p);
        }
        der_tlv(&v, 0x30, conf.p, conf.len);
        der_member(&body, (const uint8_t[]){7}, 1, &v);
        v.len = 0;
        free(conf.p);
    }
    der_tlv(out, 0x30, body.p, body.len);
    free(body.p);
    free(v.p);
}

/* ---- certificates and CRLs ---- */

static void set_name(X509_NAME *name, const char *cn)
{
    must(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                        (const unsigned char *)"Synthetic DCAP Test World", -1, -1,
                                        0) &&
             X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1,
                                        -1, 0),
         "name");
}

static void add_conf_ext(X509 *x, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
    must(e && X509_add_ext(x, e, -1), "extension");
    X509_EXTENSION_free(e);
}

/* A certificate named @p cn for @p key, issued by @p issuer (NULL: itself) and signed by
 * @p signer, shaped by @p c; @p sgx_ext (the DER value) is added when given. */
static X509 *make_cert(const char *cn, long serial, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer,
                       const ds_cert *c, const buf *sgx_ext)
{
    X509 *x = X509_new();
    must(x && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial),
         "new certificate");
    X509_NAME *subj = X509_NAME_new();
    set_name(subj, cn);
    must(X509_set_subject_name(x, subj), "subject");
    if (c->issuer_renamed) {
        X509_NAME *other = X509_NAME_new();
        set_name(other, "Synthetic Renamed Issuer");
        must(X509_set_issuer_name(x, other), "issuer");
        X509_NAME_free(other);
    } else {
        must(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subj), "issuer");
    }
    X509_NAME_free(subj);
    must(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)c->not_before) != NULL &&
             ASN1_TIME_set(X509_getm_notAfter(x), (time_t)c->not_after) != NULL,
         "validity");
    must(X509_set_pubkey(x, key), "public key");
    if (c->ca >= 0) {
        add_conf_ext(x, NID_basic_constraints, c->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    }
    if (c->key_usage) {
        add_conf_ext(x, NID_key_usage, c->key_usage);
    }
    if (sgx_ext) {
        ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        must(obj && os && ASN1_OCTET_STRING_set(os, sgx_ext->p, (int)sgx_ext->len), "SGX value");
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
        must(e && X509_add_ext(x, e, -1), "SGX extension");
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(obj);
    }
    EVP_PKEY *other = c->signed_by_other ? keygen(NID_X9_62_prime256v1) : NULL;
    must(X509_sign(x, other ? other : signer, md_of(c->digest)) > 0, "certificate signature");
    EVP_PKEY_free(other);
    return x;
}

static void put_pem(buf *b, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    must(n > 0, "i2d_X509");
    put_str(b, "-----BEGIN CERTIFICATE-----\n");
    /* 64 characters a line, as PEM writers do */
    size_t enc_len = 4 * (((size_t)n + 2) / 3);
    char *enc = malloc(enc_len + 1);
    assert_non_null(enc);
    must(EVP_EncodeBlock((unsigned char *)enc, der, n) == (int)enc_len, "base64");
    for (size_t i = 0; i < enc_len; i += 64) {
        size_t k = enc_len - i < 64 ? enc_len - i : 64;
        put(b, enc + i, k);
        put_str(b, "\n");
    }
    put_str(b, "-----END CERTIFICATE-----\n");
    free(enc);
    OPENSSL_free(der);
}

static void cert_sha256(X509 *x, uint8_t out[32])
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    must(n > 0, "i2d_X509");
    scitt_sha256(der, (size_t)n, out);
    OPENSSL_free(der);
}

static void crl_revoke(X509_CRL *crl, long serial, int64_t when)
{
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)when);
    must(r && sn && t && ASN1_INTEGER_set(sn, serial) && X509_REVOKED_set_serialNumber(r, sn) &&
             X509_REVOKED_set_revocationDate(r, t) && X509_CRL_add0_revoked(crl, r),
         "revoked entry");
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(t);
}

/* A DER CRL issued by @p issuer listing the unrelated serial 0x7777 and @p serials. */
static void make_crl(const ds_crl *c, X509 *issuer, EVP_PKEY *key, const long *serials, size_t n,
                     uint8_t **out, size_t *out_len)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *tu = ASN1_TIME_set(NULL, (time_t)c->this_update);
    ASN1_TIME *nu = ASN1_TIME_set(NULL, (time_t)c->next_update);
    must(crl && tu && nu && X509_CRL_set_version(crl, 1) &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
             X509_CRL_set1_lastUpdate(crl, tu) && X509_CRL_set1_nextUpdate(crl, nu),
         "CRL");
    crl_revoke(crl, 0x7777, c->this_update);
    for (size_t i = 0; i < n; i++) {
        crl_revoke(crl, serials[i], c->this_update);
    }
    must(X509_CRL_sort(crl), "CRL sort");
    EVP_PKEY *other = c->signed_by_other ? keygen(NID_X9_62_prime256v1) : NULL;
    must(X509_CRL_sign(crl, other ? other : key, md_of(c->digest)) > 0, "CRL signature");
    EVP_PKEY_free(other);
    unsigned char *der = NULL;
    int len = i2d_X509_CRL(crl, &der);
    must(len > 0, "i2d_X509_CRL");
    *out = malloc((size_t)len);
    assert_non_null(*out);
    memcpy(*out, der, (size_t)len);
    *out_len = (size_t)len;
    OPENSSL_free(der);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    X509_CRL_free(crl);
}

/* ---- JSON collateral ---- */

static void put_time(buf *b, const char *key, int64_t t)
{
    char txt[21];
    ds_time_text(t, txt);
    putf(b, "\"%s\":\"%s\"", key, txt);
}

static void put_adv(buf *b, const char *adv)
{
    if (!adv || !*adv) {
        return;
    }
    put_str(b, ",\"advisoryIDs\":[");
    const char *p = adv;
    bool first = true;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        putf(b, "%s\"%.*s\"", first ? "" : ",", (int)n, p);
        first = false;
        p += n + (end ? 1 : 0);
    }
    put_str(b, "]");
}

static void put_components(buf *b, const char *key, const uint8_t *svn)
{
    putf(b, "\"%s\":[", key);
    for (int i = 0; i < 16; i++) {
        /* Intel names some components; the verifier reads only "svn" */
        putf(b, "%s{\"svn\":%u%s}", i ? "," : "", svn[i],
             i == 0 ? ",\"category\":\"BIOS\",\"type\":\"Early Microcode Update\"" : "");
    }
    put_str(b, "]");
}

static void put_isv_levels(buf *b, const ds_isv_level *l, size_t n)
{
    put_str(b, "\"tcbLevels\":[");
    for (size_t i = 0; i < n; i++) {
        putf(b, "%s{\"tcb\":{\"isvsvn\":%u},", i ? "," : "", l[i].isvsvn);
        put_time(b, "tcbDate", l[i].date);
        putf(b, ",\"tcbStatus\":\"%s\"", l[i].status);
        put_adv(b, l[i].adv);
        put_str(b, "}");
    }
    put_str(b, "]");
}

static void put_module(buf *b, const ds_module *m)
{
    put_str(b, "\"mrsigner\":\"");
    put_hex(b, m->mrsigner, 48);
    put_str(b, "\",\"attributes\":\"");
    put_hex(b, m->attributes, 8);
    put_str(b, "\",\"attributesMask\":\"");
    put_hex(b, m->attributes_mask, 8);
    put_str(b, "\"");
}

static void tcb_info_body(const ds_spec *s, buf *b)
{
    bool tdx = s->tee == SCITT_DCAP_TEE_TDX;
    putf(b, "{\"id\":\"%s\",\"version\":3,", s->ti_id);
    put_time(b, "issueDate", s->ti_issue);
    put_str(b, ",");
    put_time(b, "nextUpdate", s->ti_next);
    put_str(b, ",\"fmspc\":\"");
    put_hex(b, s->ti_fmspc, 6);
    put_str(b, "\",\"pceId\":\"");
    put_hex(b, s->ti_pce_id, 2);
    put_str(b, "\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17");
    if (tdx && s->ti_has_module) {
        put_str(b, ",\"tdxModule\":{");
        put_module(b, &s->ti_module);
        put_str(b, "}");
    }
    if (tdx && s->ti_n_modules) {
        put_str(b, ",\"tdxModuleIdentities\":[");
        for (size_t i = 0; i < s->ti_n_modules; i++) {
            const ds_module *m = &s->ti_modules[i];
            putf(b, "%s{\"id\":\"TDX_%02X\",", i ? "," : "", m->version);
            put_module(b, m);
            put_str(b, ",");
            put_isv_levels(b, m->levels, m->n_levels);
            put_str(b, "}");
        }
        put_str(b, "]");
    }
    put_str(b, ",\"tcbLevels\":[");
    for (size_t i = 0; i < s->ti_n_levels; i++) {
        const ds_level *l = &s->ti_levels[i];
        putf(b, "%s{\"tcb\":{", i ? "," : "");
        put_components(b, "sgxtcbcomponents", l->sgx);
        putf(b, ",\"pcesvn\":%u", l->pcesvn);
        if (tdx) {
            put_str(b, ",");
            put_components(b, "tdxtcbcomponents", l->tdx);
        }
        put_str(b, "},");
        put_time(b, "tcbDate", l->date);
        putf(b, ",\"tcbStatus\":\"%s\"", l->status);
        put_adv(b, l->adv);
        put_str(b, "}");
    }
    put_str(b, "]}");
}

static void qe_identity_body(const ds_spec *s, buf *b)
{
    putf(b, "{\"id\":\"%s\",\"version\":2,", s->qi_id);
    put_time(b, "issueDate", s->qi_issue);
    put_str(b, ",");
    put_time(b, "nextUpdate", s->qi_next);
    put_str(b, ",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"");
    put_hex(b, s->qi_miscselect, 4);
    put_str(b, "\",\"miscselectMask\":\"");
    put_hex(b, s->qi_miscselect_mask, 4);
    put_str(b, "\",\"attributes\":\"");
    put_hex(b, s->qi_attributes, 16);
    put_str(b, "\",\"attributesMask\":\"");
    put_hex(b, s->qi_attributes_mask, 16);
    put_str(b, "\",\"mrsigner\":\"");
    put_hex(b, s->qi_mrsigner, 32);
    putf(b, "\",\"isvprodid\":%u,", s->qi_isv_prod_id);
    put_isv_levels(b, s->qi_levels, s->qi_n_levels);
    put_str(b, "}");
}

/* {"<key>":<body>,"signature":"<hex r||s over the body's bytes>"} */
static void signed_doc(const char *key, const buf *body, EVP_PKEY *signer, uint8_t **out,
                       size_t *out_len)
{
    uint8_t sig[64];
    sign_raw(signer, body->p, body->len, sig);
    buf d = {0};
    putf(&d, "{\"%s\":", key);
    put(&d, body->p, body->len);
    put_str(&d, ",\"signature\":\"");
    for (int i = 0; i < 64; i++) {
        putf(&d, "%02x", sig[i]);
    }
    put_str(&d, "\"}");
    *out = d.p;
    *out_len = d.len;
}

/* ---- quotes ---- */

static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* A 384-byte enclave report. */
static void enclave_report(uint8_t r[384], uint32_t misc, const uint8_t attributes[16],
                           const uint8_t mrenclave[32], const uint8_t mrsigner[32], uint16_t prod,
                           uint16_t svn, const uint8_t report_data[64])
{
    memset(r, 0, 384);
    fill(r, 16, 0x01); /* CPUSVN */
    set_le32(r + 16, misc);
    memcpy(r + 48, attributes, 16);
    memcpy(r + 64, mrenclave, 32);
    memcpy(r + 128, mrsigner, 32);
    r[256] = (uint8_t)prod;
    r[257] = (uint8_t)(prod >> 8);
    r[258] = (uint8_t)svn;
    r[259] = (uint8_t)(svn >> 8);
    memcpy(r + 320, report_data, 64);
}

static void make_quote(const ds_spec *s, EVP_PKEY *att, EVP_PKEY *pck, const buf *chain_pem,
                       ds_world *w)
{
    bool tdx = s->tee == SCITT_DCAP_TEE_TDX;
    buf q = {0};
    /* header */
    put_le16(&q, tdx ? 4 : 3);
    put_le16(&q, 2);
    put_le32(&q, tdx ? 0x81 : 0);
    put_le16(&q, tdx ? 0 : s->qe_isv_svn);
    put_le16(&q, tdx ? 0 : s->pce_svn);
    put(&q, intel_qe_vendor, 16);
    uint8_t user[20];
    fill(user, 20, 0xe0);
    put(&q, user, 20);
    /* body */
    if (tdx) {
        uint8_t td[584];
        fill(td, sizeof(td), 0x21);
        memcpy(td, s->tee_tcb_svn, 16);
        memcpy(td + 64, s->mrsignerseam, 48);
        memcpy(td + 112, s->seam_attributes, 8);
        if (s->has_body) {
            memset(td + 120, 0, 8); /* TD attributes */
            td[120] = s->debug ? 0x01 : 0x00;
            memcpy(td + 520, s->report_data, 64);
        }
        put(&q, td, sizeof(td));
    } else {
        uint8_t rep[384], mre[32], mrs[32], rd[64], attr[16] = {0x07};
        fill(mre, 32, 0xa0);
        fill(mrs, 32, 0xb0);
        fill(rd, 64, 0xc0);
        if (s->has_body) {
            memcpy(rd, s->report_data, 64);
            attr[0] = s->debug ? 0x07 : 0x05; /* INIT, MODE64BIT; DEBUG is bit 1 */
        }
        enclave_report(rep, 0, attr, mre, mrs, 7, 3, rd);
        put(&q, rep, sizeof(rep));
    }
    size_t signed_len = q.len;
    /* signature data */
    uint8_t auth[SCITT_DCAP_AUTH_DATA_MAX];
    assert_true(s->qe_auth_len <= sizeof(auth));
    fill(auth, s->qe_auth_len, 0x33);
    raw_point(att, w->att_key);
    uint8_t rd[64] = {0};
    scitt_span parts[2] = {scitt_span_make(w->att_key, 64), scitt_span_make(auth, s->qe_auth_len)};
    scitt_sha256_v(parts, 2, rd);
    if (s->qe_report_data_tail) {
        rd[63] = 0x01;
    }
    uint8_t qe[384], mre[32];
    fill(mre, 32, 0x70);
    enclave_report(qe, s->qe_miscselect, s->qe_attributes, mre, s->qe_mrsigner, s->qe_isv_prod_id,
                   s->qe_isv_svn, rd);
    uint8_t qe_sig[64];
    sign_raw(pck, qe, sizeof(qe), qe_sig);
    buf cert = {0}; /* QE report certification data (type 6 contents in v4) */
    put(&cert, qe, sizeof(qe));
    put(&cert, qe_sig, 64);
    put_le16(&cert, (uint16_t)s->qe_auth_len);
    put(&cert, auth, s->qe_auth_len);
    put_le16(&cert, SCITT_DCAP_CERT_PCK_CHAIN);
    put_le32(&cert, (uint32_t)chain_pem->len + 1);
    put(&cert, chain_pem->p, chain_pem->len);
    put(&cert, "", 1); /* the QE's NUL terminator */
    uint8_t sig[64];
    sign_raw(att, q.p, signed_len, sig);
    size_t sig_len = 128 + (tdx ? 6u : 0u) + cert.len;
    put_le32(&q, (uint32_t)sig_len);
    put(&q, sig, 64);
    put(&q, w->att_key, 64);
    if (tdx) {
        put_le16(&q, SCITT_DCAP_CERT_QE_REPORT);
        put_le32(&q, (uint32_t)cert.len);
    }
    put(&q, cert.p, cert.len);
    free(cert.p);
    w->quote = q.p;
    w->quote_len = q.len;
}

/* ---- the world ---- */

#define SERIAL_ROOT 0x1001
#define SERIAL_CA   0x2002
#define SERIAL_PCK  0x3003
#define SERIAL_TCB  0x4004
#define SERIAL_QI   0x5005

static void take_buf(ds_world *w, scitt_dcap_item item, buf *b)
{
    w->file[item] = b->p;
    w->file_len[item] = b->len;
    memset(b, 0, sizeof(*b));
}

void ds_build(const ds_spec *s, ds_world *w)
{
    memset(w, 0, sizeof(*w));
    EVP_PKEY *root_k = keygen(s->root.curve), *ca_k = keygen(s->ca.curve);
    EVP_PKEY *pck_k = keygen(s->pck.curve), *tcb_k = keygen(s->tcb_signer.curve);
    EVP_PKEY *qi_k = keygen(s->qi_signer.curve), *att_k = keygen(NID_X9_62_prime256v1);

    X509 *root =
        make_cert("Synthetic SGX Root CA", SERIAL_ROOT, root_k, NULL, root_k, &s->root, NULL);
    X509 *ca =
        make_cert("Synthetic SGX PCK Platform CA", SERIAL_CA, ca_k, root, root_k, &s->ca, NULL);
    buf ext = {0};
    sgx_extensions(s, &ext);
    X509 *pck = make_cert("Synthetic SGX PCK Certificate", SERIAL_PCK, pck_k, ca, ca_k, &s->pck,
                          s->pck_sgx_ext ? &ext : NULL);
    free(ext.p);
    X509 *tcb = make_cert("Synthetic SGX TCB Signing", SERIAL_TCB, tcb_k, root, root_k,
                          &s->tcb_signer, NULL);
    X509 *qi = make_cert("Synthetic SGX QE Identity Signing", SERIAL_QI, qi_k, root, root_k,
                         &s->qi_signer, NULL);
    cert_sha256(root, w->root_sha256);

    /* The quote's PCK chain: leaf, CA, root. The signing keys of P-256 certificates only. */
    buf chain = {0};
    put_pem(&chain, pck);
    put_pem(&chain, ca);
    put_pem(&chain, root);
    EVP_PKEY *qe_signer =
        s->pck.curve == NID_X9_62_prime256v1 ? pck_k : keygen(NID_X9_62_prime256v1);
    make_quote(s, att_k, qe_signer, &chain, w);
    if (qe_signer != pck_k) {
        EVP_PKEY_free(qe_signer);
    }
    free(chain.p);

    /* Issuer chains. */
    buf b = {0};
    put_pem(&b, tcb);
    put_pem(&b, root);
    take_buf(w, SCITT_DCAP_TCB_INFO_CHAIN, &b);
    put_pem(&b, s->qi_own_signer ? qi : tcb);
    put_pem(&b, root);
    take_buf(w, SCITT_DCAP_QE_IDENTITY_CHAIN, &b);
    if (s->pck_crl_chain) {
        put_pem(&b, ca);
        put_pem(&b, root);
        take_buf(w, SCITT_DCAP_PCK_CRL_CHAIN, &b);
    }

    /* Signed documents (a non-P-256 signer signs with a P-256 stand-in: what is refused is its
     * certificate). */
    EVP_PKEY *ti_signer = s->tcb_signer.curve == NID_X9_62_prime256v1 ? tcb_k : att_k;
    EVP_PKEY *qi_signer = s->qi_own_signer ? qi_k : tcb_k;
    const ds_cert *qi_cert = s->qi_own_signer ? &s->qi_signer : &s->tcb_signer;
    if (qi_cert->curve != NID_X9_62_prime256v1) {
        qi_signer = att_k;
    }
    tcb_info_body(s, &b);
    signed_doc("tcbInfo", &b, ti_signer, &w->file[SCITT_DCAP_TCB_INFO],
               &w->file_len[SCITT_DCAP_TCB_INFO]);
    b.len = 0;
    qe_identity_body(s, &b);
    signed_doc("enclaveIdentity", &b, qi_signer, &w->file[SCITT_DCAP_QE_IDENTITY],
               &w->file_len[SCITT_DCAP_QE_IDENTITY]);
    free(b.p);

    /* CRLs. */
    if (s->root_crl.present) {
        long serials[2];
        size_t n = 0;
        if (s->revoke_ca) {
            serials[n++] = SERIAL_CA;
        }
        if (s->revoke_tcb_signer) {
            serials[n++] = s->qi_own_signer ? SERIAL_QI : SERIAL_TCB;
        }
        make_crl(&s->root_crl, root, root_k, serials, n, &w->file[SCITT_DCAP_ROOT_CRL],
                 &w->file_len[SCITT_DCAP_ROOT_CRL]);
    }
    if (s->pck_crl.present) {
        long serial = SERIAL_PCK;
        make_crl(&s->pck_crl, ca, ca_k, &serial, s->revoke_pck ? 1 : 0,
                 &w->file[SCITT_DCAP_PCK_CRL], &w->file_len[SCITT_DCAP_PCK_CRL]);
    }

    X509_free(root);
    X509_free(ca);
    X509_free(pck);
    X509_free(tcb);
    X509_free(qi);
    EVP_PKEY_free(root_k);
    EVP_PKEY_free(ca_k);
    EVP_PKEY_free(pck_k);
    EVP_PKEY_free(tcb_k);
    EVP_PKEY_free(qi_k);
    EVP_PKEY_free(att_k);
}

void ds_world_free(ds_world *w)
{
    free(w->quote);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        free(w->file[i]);
    }
    memset(w, 0, sizeof(*w));
}

scitt_dcap_collateral *ds_collateral(const ds_world *w)
{
    scitt_dcap_collateral *c = NULL;
    assert_int_equal(scitt_dcap_collateral_new(&c), SCITT_OK);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (!w->file[i]) {
            continue;
        }
        scitt_tee_reason why = SCITT_TEE_OK;
        scitt_err err = scitt_dcap_collateral_set(
            c, (scitt_dcap_item)i, scitt_span_make(w->file[i], w->file_len[i]), &why);
        if (err != SCITT_OK) {
            fail_msg("synthetic %s refused: %s / %s", scitt_dcap_item_file((scitt_dcap_item)i),
                     scitt_err_name(err), scitt_tee_reason_name(why));
        }
    }
    return c;
}

scitt_err ds_verify(const ds_spec *s, uint32_t accept, scitt_dcap_result *r)
{
    ds_world w;
    ds_build(s, &w);
    scitt_dcap_collateral *c = ds_collateral(&w);
    scitt_dcap_verify_opts o;
    scitt_dcap_verify_opts_init(&o, s->now);
    o.root_sha256 = w.root_sha256;
    o.accept = accept;
    scitt_err err = scitt_dcap_verify(scitt_span_make(w.quote, w.quote_len), c, &o, r);
    scitt_dcap_collateral_free(c);
    ds_world_free(&w);
    return err;
}
