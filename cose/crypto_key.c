/*
 * OpenSSL adapter for keys: parsing PEM/DER/certificates, building keys from COSE_Key/JWK
 * parameters, generating, exporting parameters and PEM/DER. The only file that turns bytes into
 * EVP_PKEYs. Every OpenSSL failure maps to a scitt_err here and the thread's OpenSSL error queue
 * is cleared, so no stale error leaks into unrelated code (TLS in the server) on the same thread.
 */
#include "scitt/cose.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto_openssl.h"

static scitt_err ossl_fail(scitt_err e)
{
    ERR_clear_error();
    return e;
}

/* Big-endian bytes of @p bn left-padded to @p width (0 = minimal). */
static scitt_err bn_out(const BIGNUM *bn, size_t width, uint8_t *out, size_t cap, size_t *len)
{
    int n = BN_num_bytes(bn);
    size_t w = width ? width : (size_t)(n > 0 ? n : 1);
    if (n < 0 || (size_t)n > w || w > cap) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    if (BN_bn2binpad(bn, out, (int)w) < 0) {
        return ossl_fail(SCITT_ERR_CRYPTO);
    }
    *len = w;
    return SCITT_OK;
}

static scitt_err get_bn(const EVP_PKEY *pk, const char *name, size_t width, uint8_t *out,
                        size_t cap, size_t *len)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1) {
        return ossl_fail(SCITT_ERR_KEY_MALFORMED);
    }
    scitt_err e = bn_out(bn, width, out, cap, len);
    BN_clear_free(bn);
    return e;
}

static scitt_cose_crv curve_of(const EVP_PKEY *pk)
{
    char name[64];
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
        1) {
        ERR_clear_error();
        return SCITT_COSE_CRV_NONE;
    }
    if (!strcmp(name, "prime256v1") || !strcmp(name, "P-256")) {
        return SCITT_COSE_CRV_P256;
    }
    if (!strcmp(name, "secp384r1") || !strcmp(name, "P-384")) {
        return SCITT_COSE_CRV_P384;
    }
    if (!strcmp(name, "secp521r1") || !strcmp(name, "P-521")) {
        return SCITT_COSE_CRV_P521;
    }
    return SCITT_COSE_CRV_NONE;
}

static const char *group_name(scitt_cose_crv crv)
{
    return crv == SCITT_COSE_CRV_P256   ? "P-256"
           : crv == SCITT_COSE_CRV_P384 ? "P-384"
           : crv == SCITT_COSE_CRV_P521 ? "P-521"
                                        : NULL;
}

/* Reads the public parameters of a supported key into @p pub; UNSUPPORTED for anything else. */
static scitt_err export_pub(const EVP_PKEY *pk, scitt__pub *pub, unsigned *bits)
{
    memset(pub, 0, sizeof(*pub));
    *bits = 0;
    scitt_err e;
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_EC: {
        pub->kty = SCITT_COSE_KTY_EC2;
        pub->crv = curve_of(pk);
        size_t w = scitt__ec_coord_len(pub->crv);
        if (w == 0) {
            return SCITT_ERR_UNSUPPORTED;
        }
        e = get_bn(pk, OSSL_PKEY_PARAM_EC_PUB_X, w, pub->x, sizeof(pub->x), &pub->x_len);
        if (e == SCITT_OK) {
            e = get_bn(pk, OSSL_PKEY_PARAM_EC_PUB_Y, w, pub->y, sizeof(pub->y), &pub->y_len);
        }
        return e;
    }
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
        pub->kty = SCITT_COSE_KTY_OKP;
        pub->crv = EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519 ? SCITT_COSE_CRV_ED25519
                                                                : SCITT_COSE_CRV_ED448;
        pub->x_len = sizeof(pub->x);
        if (EVP_PKEY_get_raw_public_key(pk, pub->x, &pub->x_len) != 1) {
            return ossl_fail(SCITT_ERR_KEY_MALFORMED);
        }
        return SCITT_OK;
    case EVP_PKEY_RSA: {
        pub->kty = SCITT_COSE_KTY_RSA;
        int b = EVP_PKEY_get_bits(pk);
        if (b < (int)SCITT_LIMIT_RSA_BITS_MIN || b > (int)SCITT_LIMIT_RSA_BITS_MAX) {
            return SCITT_ERR_UNSUPPORTED;
        }
        *bits = (unsigned)b;
        e = get_bn(pk, OSSL_PKEY_PARAM_RSA_N, 0, pub->n, sizeof(pub->n), &pub->n_len);
        if (e == SCITT_OK) {
            e = get_bn(pk, OSSL_PKEY_PARAM_RSA_E, 0, pub->e, sizeof(pub->e), &pub->e_len);
        }
        return e;
    }
    default:
        return SCITT_ERR_UNSUPPORTED;
    }
}

/* Wraps @p pk (ownership moves to the key, also on failure). */
static scitt_err key_wrap(EVP_PKEY *pk, bool priv, scitt_cose_key **out)
{
    scitt_cose_key *k = scitt_calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pk);
        return SCITT_ERR_NOMEM;
    }
    k->pkey = pk;
    k->priv = priv;
    scitt_err e = export_pub(pk, &k->pub, &k->bits);
    if (e != SCITT_OK || pthread_mutex_init(&k->pool_lock, NULL) != 0) {
        EVP_PKEY_free(pk);
        scitt_free(k);
        return e != SCITT_OK ? e : SCITT_ERR_NOMEM;
    }
    atomic_init(&k->refs, 1u);
    scitt__thumbprint(&k->pub, k->thumb);
    memcpy(k->kid, k->thumb, sizeof(k->thumb));
    k->kid_len = sizeof(k->thumb);
    *out = k;
    return SCITT_OK;
}

scitt_cose_key *scitt_cose_key_ref(scitt_cose_key *k)
{
    if (k) {
        atomic_fetch_add(&k->refs, 1u);
    }
    return k;
}

void scitt_cose_key_free(scitt_cose_key *k)
{
    if (!k || atomic_fetch_sub(&k->refs, 1u) != 1u) {
        return;
    }
    scitt__sig_pool_clear(k);
    pthread_mutex_destroy(&k->pool_lock);
    EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material when it frees it */
    scitt_wipe(k, sizeof(*k));
    scitt_free(k);
}

/* A password callback that refuses: encrypted keys are unsupported, and nothing may prompt. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

scitt_err scitt_cose_key_from_pem(scitt_span pem, scitt_cose_key **out)
{
    *out = NULL;
    if (pem.len > SCITT_LIMIT_KEY_TEXT) {
        return SCITT_ERR_TOO_LARGE;
    }
    static const char begin[] = "-----BEGIN ";
    const char *text = (const char *)pem.ptr;
    const char *at = NULL;
    for (size_t i = 0; pem.len >= sizeof(begin) - 1 && i <= pem.len - (sizeof(begin) - 1); i++) {
        if (memcmp(text + i, begin, sizeof(begin) - 1) == 0) {
            at = text + i + sizeof(begin) - 1;
            break;
        }
    }
    if (!at) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    size_t rest = pem.len - (size_t)(at - text);
    BIO *bio = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    if (!bio) {
        return ossl_fail(SCITT_ERR_NOMEM);
    }
    EVP_PKEY *pk = NULL;
    bool priv = false;
#define LABEL_IS(s) (rest >= sizeof(s) - 1 + 5 && memcmp(at, s "-----", sizeof(s) - 1 + 5) == 0)
    if (LABEL_IS("CERTIFICATE")) {
        X509 *x = PEM_read_bio_X509(bio, NULL, no_password, NULL);
        if (x) {
            pk = X509_get_pubkey(x);
            X509_free(x);
        }
    } else if (LABEL_IS("PUBLIC KEY")) {
        pk = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
    } else if (LABEL_IS("PRIVATE KEY") || LABEL_IS("EC PRIVATE KEY") ||
               LABEL_IS("RSA PRIVATE KEY")) {
        pk = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
        priv = true;
    } else if (LABEL_IS("ENCRYPTED PRIVATE KEY")) {
        BIO_free(bio);
        return SCITT_ERR_UNSUPPORTED;
    }
#undef LABEL_IS
    BIO_free(bio);
    if (!pk) {
        return ossl_fail(SCITT_ERR_KEY_MALFORMED);
    }
    return key_wrap(pk, priv, out);
}

scitt_err scitt_cose_key_from_der(scitt_span der, scitt_cose_key **out)
{
    *out = NULL;
    if (der.len > SCITT_LIMIT_KEY_TEXT || der.len == 0) {
        return der.len ? SCITT_ERR_TOO_LARGE : SCITT_ERR_KEY_MALFORMED;
    }
    const unsigned char *p = der.ptr;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)der.len);
    bool priv = false;
    if (!pk || p != der.ptr + der.len) {
        EVP_PKEY_free(pk);
        ERR_clear_error();
        p = der.ptr;
        pk = d2i_AutoPrivateKey(NULL, &p, (long)der.len);
        priv = true;
    }
    if (!pk || p != der.ptr + der.len) {
        EVP_PKEY_free(pk);
        return ossl_fail(SCITT_ERR_KEY_MALFORMED);
    }
    return key_wrap(pk, priv, out);
}

scitt_err scitt_cose_key_from_cert_der(scitt_span cert, scitt_cose_key **out)
{
    *out = NULL;
    if (cert.len > SCITT_LIMIT_KEY_TEXT || cert.len == 0) {
        return cert.len ? SCITT_ERR_TOO_LARGE : SCITT_ERR_CERT_MALFORMED;
    }
    const unsigned char *p = cert.ptr;
    X509 *x = d2i_X509(NULL, &p, (long)cert.len);
    if (!x || p != cert.ptr + cert.len) {
        X509_free(x);
        return ossl_fail(SCITT_ERR_CERT_MALFORMED);
    }
    EVP_PKEY *pk = X509_get_pubkey(x);
    X509_free(x);
    if (!pk) {
        return ossl_fail(SCITT_ERR_CERT_MALFORMED);
    }
    return key_wrap(pk, false, out);
}

scitt_err scitt_cose_key_generate(int64_t alg, scitt_cose_key **out)
{
    *out = NULL;
    if (alg == 0) {
        alg = SCITT_COSE_ALG_DEFAULT;
    }
    const scitt__alg *a = scitt__alg_find(alg);
    if (!a) {
        return SCITT_ERR_ALG;
    }
    EVP_PKEY *pk = NULL;
    switch (a->kty) {
    case SCITT_COSE_KTY_EC2: {
        scitt_cose_crv crv = a->crv != SCITT_COSE_CRV_NONE ? a->crv
                             : a->hash_bits == 256         ? SCITT_COSE_CRV_P256
                             : a->hash_bits == 384         ? SCITT_COSE_CRV_P384
                                                           : SCITT_COSE_CRV_P521;
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group_name(crv));
        break;
    }
    case SCITT_COSE_KTY_OKP:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, a->crv == SCITT_COSE_CRV_ED448 ? "ED448" : "ED25519");
        break;
    default:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    }
    if (!pk) {
        return ossl_fail(SCITT_ERR_CRYPTO);
    }
    scitt_err e = key_wrap(pk, true, out);
    if (e == SCITT_OK) {
        (*out)->alg = alg;
    }
    return e;
}

/* ------------------------------------------------------------------------------------------ */
/* Raw parameters (COSE_Key and JWK)                                                           */

static scitt_err push_bn(OSSL_PARAM_BLD *bld, const char *name, const uint8_t *p, size_t n,
                         BIGNUM **keep)
{
    *keep = BN_bin2bn(p, (int)n, NULL);
    if (!*keep || OSSL_PARAM_BLD_push_BN(bld, name, *keep) != 1) {
        return ossl_fail(SCITT_ERR_NOMEM);
    }
    return SCITT_OK;
}

static scitt_err fromdata(const char *type, OSSL_PARAM_BLD *bld, bool priv, EVP_PKEY **pk)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    scitt_err e = SCITT_ERR_KEY_MALFORMED;
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, pk, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) == 1) {
        e = SCITT_OK;
    }
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return e == SCITT_OK ? e : ossl_fail(e);
}

/* Rejects imported keys that are not what they claim: points off the curve, mismatched halves. */
static scitt_err check_imported(EVP_PKEY *pk, bool priv)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    int ok = ctx ? (priv ? EVP_PKEY_pairwise_check(ctx) : EVP_PKEY_public_check(ctx)) : 0;
    EVP_PKEY_CTX_free(ctx);
    return ok == 1 ? SCITT_OK : ossl_fail(SCITT_ERR_KEY_MALFORMED);
}

static scitt_err raw_ec(const scitt__pub *pub, const scitt__priv *priv, EVP_PKEY **pk)
{
    size_t w = scitt__ec_coord_len(pub->crv);
    if (w == 0) {
        return SCITT_ERR_UNSUPPORTED;
    }
    if (pub->x_len != w || pub->y_len != w || (priv && priv->d_len != w)) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    uint8_t point[1 + 2 * SCITT__EC_MAX];
    point[0] = 0x04;
    memcpy(point + 1, pub->x, w);
    memcpy(point + 1 + w, pub->y, w);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *d = NULL;
    scitt_err e = bld ? SCITT_OK : SCITT_ERR_NOMEM;
    if (e == SCITT_OK &&
        (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name(pub->crv),
                                         0) != 1 ||
         OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * w) != 1)) {
        e = ossl_fail(SCITT_ERR_NOMEM);
    }
    if (e == SCITT_OK && priv) {
        e = push_bn(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv->d, priv->d_len, &d);
    }
    if (e == SCITT_OK) {
        e = fromdata("EC", bld, priv != NULL, pk);
    }
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(bld);
    return e;
}

static scitt_err raw_okp(const scitt__pub *pub, const scitt__priv *priv, EVP_PKEY **pk)
{
    int id = pub->crv == SCITT_COSE_CRV_ED25519 ? EVP_PKEY_ED25519
             : pub->crv == SCITT_COSE_CRV_ED448 ? EVP_PKEY_ED448
                                                : 0;
    size_t w = id == EVP_PKEY_ED25519 ? 32 : 57;
    if (id == 0) {
        return SCITT_ERR_UNSUPPORTED;
    }
    if (pub->x_len != w || (priv && priv->d_len != w)) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    *pk = priv ? EVP_PKEY_new_raw_private_key(id, NULL, priv->d, w)
               : EVP_PKEY_new_raw_public_key(id, NULL, pub->x, w);
    if (!*pk) {
        return ossl_fail(SCITT_ERR_KEY_MALFORMED);
    }
    if (priv) {
        /* The public half is derived from d; it must be the x the caller gave. */
        uint8_t x[SCITT__OKP_MAX];
        size_t xl = sizeof(x);
        if (EVP_PKEY_get_raw_public_key(*pk, x, &xl) != 1 || xl != w || memcmp(x, pub->x, w) != 0) {
            EVP_PKEY_free(*pk);
            *pk = NULL;
            return ossl_fail(SCITT_ERR_KEY_MALFORMED);
        }
    }
    return SCITT_OK;
}

static scitt_err raw_rsa(const scitt__pub *pub, const scitt__priv *priv, EVP_PKEY **pk)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn[8] = {NULL};
    scitt_err e = bld ? SCITT_OK : SCITT_ERR_NOMEM;
    if (pub->n_len == 0 || pub->e_len == 0) {
        e = SCITT_ERR_KEY_MALFORMED;
    }
    if (e == SCITT_OK) {
        e = push_bn(bld, OSSL_PKEY_PARAM_RSA_N, pub->n, pub->n_len, &bn[0]);
    }
    if (e == SCITT_OK) {
        e = push_bn(bld, OSSL_PKEY_PARAM_RSA_E, pub->e, pub->e_len, &bn[1]);
    }
    if (priv) {
        const char *names[] = {OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                               OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                               OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
        const uint8_t *vals[] = {priv->d, priv->p, priv->q, priv->dp, priv->dq, priv->qi};
        size_t lens[] = {priv->d_len,  priv->p_len,  priv->q_len,
                         priv->dp_len, priv->dq_len, priv->qi_len};
        for (size_t i = 0; i < 6 && e == SCITT_OK; i++) {
            if (lens[i] == 0) {
                e = SCITT_ERR_KEY_MALFORMED; /* scittd needs the CRT form to sign */
            } else {
                e = push_bn(bld, names[i], vals[i], lens[i], &bn[2 + i]);
            }
        }
    }
    if (e == SCITT_OK) {
        e = fromdata("RSA", bld, priv != NULL, pk);
    }
    for (size_t i = 0; i < 8; i++) {
        BN_clear_free(bn[i]);
    }
    OSSL_PARAM_BLD_free(bld);
    return e;
}

scitt_err scitt__key_from_raw(const scitt__pub *pub, const scitt__priv *priv, scitt_cose_key **out)
{
    *out = NULL;
    EVP_PKEY *pk = NULL;
    scitt_err e;
    switch (pub->kty) {
    case SCITT_COSE_KTY_EC2:
        e = raw_ec(pub, priv, &pk);
        break;
    case SCITT_COSE_KTY_OKP:
        e = raw_okp(pub, priv, &pk);
        break;
    case SCITT_COSE_KTY_RSA:
        e = raw_rsa(pub, priv, &pk);
        break;
    default:
        e = SCITT_ERR_UNSUPPORTED;
        break;
    }
    if (e == SCITT_OK && pub->kty != SCITT_COSE_KTY_OKP) {
        e = check_imported(pk, priv != NULL);
    }
    if (e != SCITT_OK) {
        EVP_PKEY_free(pk);
        return e;
    }
    return key_wrap(pk, priv != NULL, out);
}

scitt_err scitt__key_priv(const scitt_cose_key *k, scitt__priv *out)
{
    memset(out, 0, sizeof(*out));
    if (!k->priv) {
        return SCITT_ERR_STATE;
    }
    scitt_err e = SCITT_OK;
    switch (k->pub.kty) {
    case SCITT_COSE_KTY_EC2:
        e = get_bn(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, scitt__ec_coord_len(k->pub.crv), out->d,
                   sizeof(out->d), &out->d_len);
        break;
    case SCITT_COSE_KTY_OKP:
        out->d_len = sizeof(out->d);
        if (EVP_PKEY_get_raw_private_key(k->pkey, out->d, &out->d_len) != 1) {
            e = ossl_fail(SCITT_ERR_CRYPTO);
        }
        break;
    default: {
        const char *names[] = {OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                               OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                               OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
        uint8_t *vals[] = {out->d, out->p, out->q, out->dp, out->dq, out->qi};
        size_t caps[] = {sizeof(out->d),  sizeof(out->p),  sizeof(out->q),
                         sizeof(out->dp), sizeof(out->dq), sizeof(out->qi)};
        size_t *lens[] = {&out->d_len,  &out->p_len,  &out->q_len,
                          &out->dp_len, &out->dq_len, &out->qi_len};
        for (size_t i = 0; i < 6 && e == SCITT_OK; i++) {
            e = get_bn(k->pkey, names[i], 0, vals[i], caps[i], lens[i]);
        }
        break;
    }
    }
    if (e != SCITT_OK) {
        scitt_wipe(out, sizeof(*out));
    }
    return e;
}

/* ------------------------------------------------------------------------------------------ */
/* PEM / DER out                                                                               */

static scitt_err encode(const scitt_cose_key *k, bool with_private, const char *format,
                        scitt_dynbuf *out)
{
    if (with_private && !k->priv) {
        return SCITT_ERR_STATE;
    }
    int selection = with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
    const char *structure = with_private ? "PrivateKeyInfo" : "SubjectPublicKeyInfo";
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(k->pkey, selection, format, structure, NULL);
    unsigned char *data = NULL;
    size_t len = 0;
    scitt_err e = SCITT_OK;
    if (!ctx || OSSL_ENCODER_CTX_get_num_encoders(ctx) == 0 ||
        OSSL_ENCODER_to_data(ctx, &data, &len) != 1) {
        e = ossl_fail(SCITT_ERR_CRYPTO);
    } else {
        scitt_dynbuf_put(out, data, len);
        e = out->err;
    }
    if (data) {
        OPENSSL_clear_free(data, len);
    }
    OSSL_ENCODER_CTX_free(ctx);
    return e;
}

scitt_err scitt_cose_key_encode_pem(const scitt_cose_key *k, bool with_private, scitt_dynbuf *out)
{
    return encode(k, with_private, "PEM", out);
}

scitt_err scitt_cose_key_encode_der(const scitt_cose_key *k, bool with_private, scitt_dynbuf *out)
{
    return encode(k, with_private, "DER", out);
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors                                                                                   */

const scitt__pub *scitt__key_pub(const scitt_cose_key *k)
{
    return &k->pub;
}

unsigned scitt__key_bits(const scitt_cose_key *k)
{
    return k->bits;
}

int64_t scitt__key_bound_alg(const scitt_cose_key *k)
{
    return k->alg;
}

scitt_cose_kty scitt_cose_key_kty(const scitt_cose_key *k)
{
    return k->pub.kty;
}

scitt_cose_crv scitt_cose_key_crv(const scitt_cose_key *k)
{
    return k->pub.crv;
}

bool scitt_cose_key_has_private(const scitt_cose_key *k)
{
    return k->priv;
}

scitt_span scitt_cose_key_kid(const scitt_cose_key *k)
{
    return scitt_span_make(k->kid, k->kid_len);
}

scitt_err scitt_cose_key_set_kid(scitt_cose_key *k, scitt_span kid)
{
    if (kid.len > sizeof(k->kid)) {
        return SCITT_ERR_TOO_LARGE;
    }
    if (kid.len) {
        memcpy(k->kid, kid.ptr, kid.len);
    }
    k->kid_len = kid.len;
    k->kid_text = false;
    k->kid_alias_len = 0;
    return SCITT_OK;
}

scitt_err scitt__key_set_jwk_kid(scitt_cose_key *k, scitt_span text)
{
    scitt_err e = scitt_cose_key_set_kid(k, text);
    if (e != SCITT_OK) {
        return e;
    }
    k->kid_text = true;
    size_t n = 0;
    if (scitt_base64url_decode(text, k->kid_alias, sizeof(k->kid_alias), &n) != SCITT_OK) {
        n = 0;
    }
    k->kid_alias_len = n;
    return SCITT_OK;
}

/* The base64url text of the key's RFC 9679 thumbprint (43 characters and the NUL). */
static void thumbprint_text(const scitt_cose_key *k, char out[SCITT_SHA256_LEN * 2])
{
    uint8_t tp[SCITT_SHA256_LEN];
    scitt_cose_key_thumbprint(k, tp);
    if (scitt_base64url_encode(scitt_span_make(tp, sizeof(tp)), out, SCITT_SHA256_LEN * 2) !=
        SCITT_OK) {
        out[0] = 0; /* cannot happen: 64 bytes hold 44 */
    }
}

bool scitt_cose_key_is_text_kid(const scitt_cose_key *k)
{
    char text[SCITT_SHA256_LEN * 2];
    thumbprint_text(k, text);
    return scitt_span_eq(scitt_cose_key_kid(k), scitt_span_str(text));
}

scitt_err scitt_cose_key_use_text_kid(scitt_cose_key *k)
{
    uint8_t tp[SCITT_SHA256_LEN];
    scitt_cose_key_thumbprint(k, tp);
    scitt_span kid = scitt_cose_key_kid(k);
    if (kid.len && !scitt_span_eq(kid, scitt_span_make(tp, sizeof(tp))) &&
        !scitt_cose_key_is_text_kid(k)) {
        return SCITT_OK; /* a kid of its own: left as it is */
    }
    char text[SCITT_SHA256_LEN * 2];
    thumbprint_text(k, text);
    return scitt__key_set_jwk_kid(k, scitt_span_str(text));
}

scitt_span scitt__key_kid_alias(const scitt_cose_key *k)
{
    return scitt_span_make(k->kid_alias, k->kid_alias_len);
}

bool scitt__key_kid_is_text(const scitt_cose_key *k)
{
    return k->kid_text;
}

void scitt_cose_key_thumbprint(const scitt_cose_key *k, uint8_t out[SCITT_SHA256_LEN])
{
    memcpy(out, k->thumb, sizeof(k->thumb));
}

scitt_err scitt_cose_key_set_alg(scitt_cose_key *k, int64_t alg)
{
    int64_t old = k->alg;
    k->alg = 0;
    if (!scitt_cose_key_allows(k, alg)) {
        k->alg = old;
        return SCITT_ERR_ALG;
    }
    k->alg = alg;
    return SCITT_OK;
}
