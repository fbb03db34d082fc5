/*
 * The OpenSSL adapter of tee/ for AMD: certificate parsing (also used by dcap_openssl.c), the AMD
 * KDS extensions, RSASSA-PSS chain signatures and the ECDSA P-384 report signature. OpenSSL types
 * stay in this file, dcap_openssl.c and x509_int.h.
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
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "scitt/limits.h"

/* DER contents of the OID 1.3.6.1.4.1.3704.1 (AMD KDS certificate extensions). */
static const uint8_t amd_kds_prefix[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01};

scitt_err scitt__tee_x509_parse(scitt_span der, scitt__x509 **out)
{
    *out = NULL;
    if (der.len == 0 || der.len > SCITT_LIMIT_TEE_CERT) {
        return der.len ? SCITT_ERR_TOO_LARGE : SCITT_ERR_CERT_MALFORMED;
    }
    const unsigned char *p = der.ptr;
    X509 *x = d2i_X509(NULL, &p, (long)der.len);
    if (!x || p != der.ptr + der.len) {
        X509_free(x);
        ERR_clear_error();
        return SCITT_ERR_CERT_MALFORMED;
    }
    scitt__x509 *w = scitt_malloc(sizeof(*w));
    if (!w) {
        X509_free(x);
        return SCITT_ERR_NOMEM;
    }
    w->x = x;
    *out = w;
    return SCITT_OK;
}

void scitt__x509_free(scitt__x509 *x)
{
    if (x) {
        X509_free(x->x);
        scitt_free(x);
    }
}

bool scitt__asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        ERR_clear_error();
        return false;
    }
    int64_t days = scitt_days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                         (unsigned)tm.tm_mday);
    *out = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    return true;
}

static void common_name(const X509_NAME *name, char out[64])
{
    out[0] = 0;
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0) {
        return;
    }
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    int len = ASN1_STRING_length(s);
    const unsigned char *d = ASN1_STRING_get0_data(s);
    if (len <= 0 || len >= 64) {
        return;
    }
    for (int k = 0; k < len; k++) {
        if (d[k] < 0x20 || d[k] > 0x7e) {
            return;
        }
    }
    memcpy(out, d, (size_t)len);
    out[len] = 0;
}

scitt_err scitt__x509_info_get(const scitt__x509 *w, scitt__x509_info *out)
{
    memset(out, 0, sizeof(*out));
    X509 *x = w->x;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk) {
        int id = EVP_PKEY_get_base_id(pk);
        if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
            out->key_type = SCITT__KEY_RSA;
        } else if (id == EVP_PKEY_EC) {
            char group[32];
            size_t glen = 0;
            if (EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) == 1 &&
                strcmp(group, "secp384r1") == 0) {
                out->key_type = SCITT__KEY_EC_P384;
            }
        }
    }
    ERR_clear_error();
    out->self_issued = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
    common_name(X509_get_subject_name(x), out->subject_cn);
    if (!scitt__asn1_time_unix(X509_get0_notBefore(x), &out->not_before) ||
        !scitt__asn1_time_unix(X509_get0_notAfter(x), &out->not_after)) {
        return SCITT_ERR_CERT_MALFORMED;
    }
    return SCITT_OK;
}

scitt_err scitt__x509_amd_exts(const scitt__x509 *w, scitt__amd_ext *out, size_t *n)
{
    *n = 0;
    int count = X509_get_ext_count(w->x);
    for (int i = 0; i < count; i++) {
        X509_EXTENSION *ext = X509_get_ext(w->x, i);
        const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
        size_t olen = OBJ_length(obj);
        const unsigned char *od = OBJ_get0_data(obj);
        if (!od || olen <= sizeof(amd_kds_prefix) ||
            memcmp(od, amd_kds_prefix, sizeof(amd_kds_prefix)) != 0) {
            continue;
        }
        if (*n == SCITT__AMD_EXT_MAX) {
            return SCITT_ERR_TOO_LARGE;
        }
        scitt__amd_ext *e = &out[*n];
        memset(e, 0, sizeof(*e));
        /* The remaining arcs, base-128 with continuation bits; small by construction. */
        uint32_t arc = 0;
        size_t digits = 0;
        for (size_t k = sizeof(amd_kds_prefix); k < olen; k++) {
            if (digits == 0 && od[k] == 0x80) {
                return SCITT_ERR_CERT_MALFORMED; /* non-minimal arc */
            }
            if (++digits > 4) {
                return SCITT_ERR_CERT_MALFORMED;
            }
            arc = (arc << 7) | (od[k] & 0x7fu);
            if (!(od[k] & 0x80)) {
                if (e->n_arcs == SCITT__AMD_ARCS_MAX) {
                    return SCITT_ERR_CERT_MALFORMED;
                }
                e->arcs[e->n_arcs++] = arc;
                arc = 0;
                digits = 0;
            }
        }
        if (digits != 0) {
            return SCITT_ERR_CERT_MALFORMED;
        }
        const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(ext);
        e->value = scitt_span_make(ASN1_STRING_get0_data(data), (size_t)ASN1_STRING_length(data));
        (*n)++;
    }
    return SCITT_OK;
}

bool scitt__x509_issued_by_name(const scitt__x509 *child, const scitt__x509 *parent)
{
    return X509_NAME_cmp(X509_get_issuer_name(child->x), X509_get_subject_name(parent->x)) == 0;
}

static bool algor_is(const X509_ALGOR *a, int nid)
{
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    X509_ALGOR_get0(&obj, &ptype, &pval, a);
    /* A hash AlgorithmIdentifier has absent or NULL parameters. */
    return OBJ_obj2nid(obj) == nid && (ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL);
}

/* True when @p alg is RSASSA-PSS with SHA-384, MGF1(SHA-384), salt 48, trailer 1. */
static bool is_amd_pss(const X509_ALGOR *alg)
{
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE || !pval) {
        return false;
    }
    const ASN1_STRING *seq = pval;
    const unsigned char *p = ASN1_STRING_get0_data(seq);
    long len = ASN1_STRING_length(seq);
    const unsigned char *start = p;
    RSA_PSS_PARAMS *pss = d2i_RSA_PSS_PARAMS(NULL, &p, len);
    bool ok = false;
    X509_ALGOR *mgf_hash = NULL;
    if (!pss || p != start + len) {
        goto out;
    }
    if (!pss->hashAlgorithm || !algor_is(pss->hashAlgorithm, NID_sha384)) {
        goto out;
    }
    if (!pss->maskGenAlgorithm) {
        goto out;
    }
    X509_ALGOR_get0(&obj, &ptype, &pval, pss->maskGenAlgorithm);
    if (OBJ_obj2nid(obj) != NID_mgf1 || ptype != V_ASN1_SEQUENCE || !pval) {
        goto out;
    }
    const ASN1_STRING *mseq = pval;
    const unsigned char *mp = ASN1_STRING_get0_data(mseq);
    long mlen = ASN1_STRING_length(mseq);
    const unsigned char *mstart = mp;
    mgf_hash = d2i_X509_ALGOR(NULL, &mp, mlen);
    if (!mgf_hash || mp != mstart + mlen || !algor_is(mgf_hash, NID_sha384)) {
        goto out;
    }
    if (!pss->saltLength || ASN1_INTEGER_get(pss->saltLength) != 48) {
        goto out;
    }
    if (pss->trailerField && ASN1_INTEGER_get(pss->trailerField) != 1) {
        goto out;
    }
    ok = true;
out:
    X509_ALGOR_free(mgf_hash);
    RSA_PSS_PARAMS_free(pss);
    ERR_clear_error();
    return ok;
}

scitt_err scitt__x509_check_pss_signed(const scitt__x509 *child, const scitt__x509 *parent,
                                       scitt_tee_reason bad_sig, scitt_tee_reason *why)
{
    const X509_ALGOR *alg = NULL;
    X509_get0_signature(NULL, &alg, child->x);
    /* The outer algorithm and the one inside the signed part must be the same. */
    if (!alg || !is_amd_pss(alg) || X509_ALGOR_cmp(alg, X509_get0_tbs_sigalg(child->x)) != 0) {
        return scitt__tee_fail(why, SCITT_TEE_CHAIN_SIG_ALG, SCITT_ERR_CERT_CHAIN);
    }
    EVP_PKEY *pk = X509_get0_pubkey(parent->x);
    int id = pk ? EVP_PKEY_get_base_id(pk) : 0;
    if (id != EVP_PKEY_RSA && id != EVP_PKEY_RSA_PSS) {
        ERR_clear_error();
        return scitt__tee_fail(why, SCITT_TEE_CHAIN_KEY_TYPE, SCITT_ERR_CERT_CHAIN);
    }
    int rc = X509_verify(child->x, pk);
    ERR_clear_error();
    if (rc != 1) {
        return scitt__tee_fail(why, bad_sig, SCITT_ERR_CERT_CHAIN);
    }
    return SCITT_OK;
}

scitt_err scitt__x509_ecdsa_p384_verify(const scitt__x509 *x, scitt_span msg, const uint8_t r[48],
                                        const uint8_t s[48])
{
    scitt_err err = SCITT_ERR_CRYPTO;
    EVP_PKEY *pk = X509_get0_pubkey(x->x);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, 48, NULL);
    BIGNUM *bs = BN_bin2bn(s, 48, NULL);
    unsigned char *der = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!pk || !sig || !br || !bs || !ctx) {
        goto out;
    }
    if (ECDSA_SIG_set0(sig, br, bs) != 1) {
        goto out;
    }
    br = bs = NULL; /* owned by sig now */
    int dlen = i2d_ECDSA_SIG(sig, &der);
    if (dlen <= 0) {
        goto out;
    }
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, pk) != 1) {
        goto out;
    }
    int rc = EVP_DigestVerify(ctx, der, (size_t)dlen, msg.ptr, msg.len);
    err = rc == 1 ? SCITT_OK : SCITT_ERR_SIGNATURE;
out:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return err;
}
