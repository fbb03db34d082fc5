/*
 * OpenSSL adapter for signatures: ECDSA (raw r||s on the wire, DER inside OpenSSL), RSASSA-PSS
 * (salt length = hash length, MGF1 with the same hash) and EdDSA (Ed25519, Ed448).
 *
 * Speed matters here: a worker verifies every submitted statement. So nothing per call allocates
 * or fetches for the pre-hashing algorithms: the Sig_structure is hashed in pieces (SHA-256
 * through the allocation-free scitt_sha256_v), the digests are fetched once per process, the
 * EVP_PKEY_CTX that verifies is kept in a small per-key pool and reused, and the DER form of an
 * ECDSA signature is written by hand into a stack buffer.
 */
#include "scitt/cose.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto_openssl.h"

static EVP_MD *md256, *md384, *md512;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void fetch_mds(void)
{
    md256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    md512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
}

static const EVP_MD *md_for(unsigned bits)
{
    pthread_once(&md_once, fetch_mds);
    return bits == 256 ? md256 : bits == 384 ? md384 : bits == 512 ? md512 : NULL;
}

static void ctx_free(scitt__sigctx *c)
{
    if (c) {
        EVP_PKEY_CTX_free(c->pctx);
        EVP_MD_CTX_free(c->mctx);
        scitt_free(c);
    }
}

void scitt__sig_pool_clear(scitt_cose_key *k)
{
    while (k->pool) {
        scitt__sigctx *c = k->pool;
        k->pool = c->next;
        ctx_free(c);
    }
    k->pool_n = 0;
}

static scitt_err ctx_new(const scitt_cose_key *k, const scitt__alg *a, bool sign,
                         scitt__sigctx **out)
{
    scitt__sigctx *c = scitt_calloc(1, sizeof(*c));
    if (!c) {
        return SCITT_ERR_NOMEM;
    }
    c->alg = a->alg;
    c->sign = sign;
    c->mctx = EVP_MD_CTX_new();
    bool ok = c->mctx != NULL;
    if (ok && a->hash_bits) {
        c->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        ok = c->pctx && (sign ? EVP_PKEY_sign_init(c->pctx) : EVP_PKEY_verify_init(c->pctx)) == 1;
        if (ok && a->kty == SCITT_COSE_KTY_RSA) {
            const EVP_MD *md = md_for(a->hash_bits);
            ok = EVP_PKEY_CTX_set_rsa_padding(c->pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                 EVP_PKEY_CTX_set_signature_md(c->pctx, md) == 1 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(c->pctx, md) == 1 &&
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(c->pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
        }
    }
    if (!ok) {
        ctx_free(c);
        ERR_clear_error();
        return SCITT_ERR_CRYPTO;
    }
    *out = c;
    return SCITT_OK;
}

/* Takes a context for (alg, sign) from the key's pool, or makes one. */
static scitt_err checkout(const scitt_cose_key *ck, const scitt__alg *a, bool sign,
                          scitt__sigctx **out)
{
    /* The pool is the one mutable part of a shared key; its lock makes that safe. */
    scitt_cose_key *k = (scitt_cose_key *)ck;
    pthread_mutex_lock(&k->pool_lock);
    scitt__sigctx **pp = &k->pool;
    while (*pp && ((*pp)->alg != a->alg || (*pp)->sign != sign)) {
        pp = &(*pp)->next;
    }
    scitt__sigctx *c = *pp;
    if (c) {
        *pp = c->next;
        k->pool_n--;
    }
    pthread_mutex_unlock(&k->pool_lock);
    if (c) {
        *out = c;
        return SCITT_OK;
    }
    return ctx_new(k, a, sign, out);
}

static void checkin(const scitt_cose_key *ck, scitt__sigctx *c)
{
    scitt_cose_key *k = (scitt_cose_key *)ck;
    pthread_mutex_lock(&k->pool_lock);
    if (k->pool_n < SCITT__POOL_MAX) {
        c->next = k->pool;
        k->pool = c;
        k->pool_n++;
        c = NULL;
    }
    pthread_mutex_unlock(&k->pool_lock);
    ctx_free(c);
}

static scitt_err digest(scitt__sigctx *c, unsigned bits, const scitt_span *parts, size_t n,
                        uint8_t *out, size_t *len)
{
    if (bits == 256) {
        scitt_sha256_v(parts, n, out);
        *len = SCITT_SHA256_LEN;
        return SCITT_OK;
    }
    unsigned int l = 0;
    if (EVP_DigestInit_ex2(c->mctx, md_for(bits), NULL) != 1) {
        return SCITT_ERR_CRYPTO;
    }
    for (size_t i = 0; i < n; i++) {
        if (EVP_DigestUpdate(c->mctx, parts[i].ptr, parts[i].len) != 1) {
            return SCITT_ERR_CRYPTO;
        }
    }
    if (EVP_DigestFinal_ex(c->mctx, out, &l) != 1) {
        return SCITT_ERR_CRYPTO;
    }
    *len = l;
    return SCITT_OK;
}

/* DER INTEGER of an unsigned big-endian value: minimal, with a 0x00 pad when the top bit is set. */
static size_t der_int(const uint8_t *v, size_t n, uint8_t *out)
{
    while (n > 1 && v[0] == 0) {
        v++, n--;
    }
    size_t pad = (v[0] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, n);
    return 2 + pad + n;
}

/* r||s (each w <= 66 bytes) as DER ECDSA-Sig-Value; returns its length. */
static size_t raw_to_der(const uint8_t *sig, size_t w, uint8_t *out)
{
    uint8_t body[2 * (3 + SCITT__EC_MAX)];
    size_t n = der_int(sig, w, body);
    n += der_int(sig + w, w, body + n);
    size_t h = 0;
    out[h++] = 0x30;
    if (n >= 0x80) {
        out[h++] = 0x81; /* at most 2 * 69 = 138 bytes, so one length byte suffices */
    }
    out[h++] = (uint8_t)n;
    memcpy(out + h, body, n);
    return h + n;
}

static scitt_err der_to_raw(const uint8_t *der, size_t len, size_t w, uint8_t *out)
{
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
    scitt_err e = SCITT_ERR_CRYPTO;
    if (s && BN_bn2binpad(ECDSA_SIG_get0_r(s), out, (int)w) == (int)w &&
        BN_bn2binpad(ECDSA_SIG_get0_s(s), out + w, (int)w) == (int)w) {
        e = SCITT_OK;
    }
    ECDSA_SIG_free(s);
    return e;
}

/* EdDSA signs the message itself: concatenate the pieces (on the stack when small). */
static scitt_err concat(const scitt_span *parts, size_t n, uint8_t *small, size_t small_cap,
                        uint8_t **buf, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > SIZE_MAX - total) {
            return SCITT_ERR_TOO_LARGE;
        }
        total += parts[i].len;
    }
    uint8_t *b = total <= small_cap ? small : scitt_malloc(total ? total : 1);
    if (!b) {
        return SCITT_ERR_NOMEM;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len) {
            memcpy(b + at, parts[i].ptr, parts[i].len);
            at += parts[i].len;
        }
    }
    *buf = b;
    *len = total;
    return SCITT_OK;
}

static bool alg_fits(const scitt_cose_key *k, const scitt__alg *a)
{
    return a && scitt_cose_key_allows(k, a->alg);
}

scitt_err scitt__sig_verify(const scitt_cose_key *k, const scitt__alg *a, const scitt_span *parts,
                            size_t nparts, scitt_span sig)
{
    if (!alg_fits(k, a)) {
        return SCITT_ERR_ALG;
    }
    size_t w = scitt__ec_coord_len(k->pub.crv);
    if (a->kty == SCITT_COSE_KTY_EC2 && sig.len != 2 * w) {
        return SCITT_ERR_SIGNATURE;
    }
    if (a->kty == SCITT_COSE_KTY_RSA && sig.len != (k->bits + 7) / 8) {
        return SCITT_ERR_SIGNATURE;
    }
    scitt__sigctx *c;
    scitt_err e = checkout(k, a, false, &c);
    if (e != SCITT_OK) {
        return e;
    }
    int rc = -1;
    if (a->hash_bits) {
        uint8_t md[64];
        size_t mdl;
        e = digest(c, a->hash_bits, parts, nparts, md, &mdl);
        if (e == SCITT_OK && a->kty == SCITT_COSE_KTY_EC2) {
            uint8_t der[8 + 2 * (3 + SCITT__EC_MAX)];
            size_t dl = raw_to_der(sig.ptr, w, der);
            rc = EVP_PKEY_verify(c->pctx, der, dl, md, mdl);
        } else if (e == SCITT_OK) {
            rc = EVP_PKEY_verify(c->pctx, sig.ptr, sig.len, md, mdl);
        }
    } else {
        uint8_t small[4096], *msg = NULL;
        size_t len = 0;
        e = concat(parts, nparts, small, sizeof(small), &msg, &len);
        if (e == SCITT_OK) {
            rc = EVP_DigestVerifyInit_ex(c->mctx, NULL, NULL, NULL, NULL, k->pkey, NULL) == 1
                     ? EVP_DigestVerify(c->mctx, sig.ptr, sig.len, msg, len)
                     : -1;
            if (msg != small) {
                scitt_free(msg);
            }
        }
    }
    if (e == SCITT_OK && rc != 1) {
        /* 0 is a bad signature; a negative value is a signature OpenSSL could not even parse. */
        ERR_clear_error();
        e = SCITT_ERR_SIGNATURE;
    }
    checkin(k, c);
    return e;
}

scitt_err scitt__sig_sign(const scitt_cose_key *k, const scitt__alg *a, const scitt_span *parts,
                          size_t nparts, uint8_t *sig, size_t cap, size_t *sig_len)
{
    if (!alg_fits(k, a)) {
        return SCITT_ERR_ALG;
    }
    if (!k->priv) {
        return SCITT_ERR_STATE;
    }
    scitt__sigctx *c;
    scitt_err e = checkout(k, a, true, &c);
    if (e != SCITT_OK) {
        return e;
    }
    if (a->hash_bits) {
        uint8_t md[64], der[SCITT_COSE_SIG_MAX + 16];
        size_t mdl, dl = sizeof(der);
        e = digest(c, a->hash_bits, parts, nparts, md, &mdl);
        if (e == SCITT_OK && EVP_PKEY_sign(c->pctx, der, &dl, md, mdl) != 1) {
            e = SCITT_ERR_CRYPTO;
        }
        if (e == SCITT_OK && a->kty == SCITT_COSE_KTY_EC2) {
            size_t w = scitt__ec_coord_len(k->pub.crv);
            e = 2 * w > cap ? SCITT_ERR_BUFFER_TOO_SMALL : der_to_raw(der, dl, w, sig);
            *sig_len = 2 * w;
        } else if (e == SCITT_OK) {
            e = dl > cap ? SCITT_ERR_BUFFER_TOO_SMALL : SCITT_OK;
            if (e == SCITT_OK) {
                memcpy(sig, der, dl);
                *sig_len = dl;
            }
        }
    } else {
        uint8_t small[4096], *msg = NULL;
        size_t len = 0, sl = cap;
        e = concat(parts, nparts, small, sizeof(small), &msg, &len);
        if (e == SCITT_OK) {
            if (EVP_DigestSignInit_ex(c->mctx, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1 ||
                EVP_DigestSign(c->mctx, sig, &sl, msg, len) != 1) {
                e = cap < 114 ? SCITT_ERR_BUFFER_TOO_SMALL : SCITT_ERR_CRYPTO;
            }
            *sig_len = sl;
            if (msg != small) {
                scitt_free(msg);
            }
        }
    }
    if (e != SCITT_OK) {
        ERR_clear_error();
    }
    checkin(k, c);
    return e;
}
