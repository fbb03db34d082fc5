/*
 * Signing through a PKCS#11 module (scitt_pkcs11.h), with p11-kit for RFC 7512 URIs and module
 * loading. One session per signer, its calls serialised; the PIN is wiped after login.
 */
#include "scitt_pkcs11.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "scitt/cbor.h"

struct scitt_p11 {
    CK_FUNCTION_LIST *f;
    pthread_mutex_t lock; /* one session: C_SignInit and C_Sign in pairs */
    CK_SESSION_HANDLE session;
    bool session_open, initialised;
    CK_OBJECT_HANDLE priv;
    CK_KEY_TYPE type;
    size_t coord; /* ECDSA: bytes of one coordinate */
    scitt_cose_key *pub;
    char last[160]; /* what the last failed signature said */
};

bool scitt_p11_is_uri(const char *key)
{
    return strncmp(key, "pkcs11:", 7) == 0;
}

scitt_cose_key *scitt_p11_public(scitt_p11 *s)
{
    return s->pub;
}

static void say(char *why, size_t cap, const char *what, CK_RV rv)
{
    snprintf(why, cap, "PKCS#11: %s (CKR 0x%lx)", what, (unsigned long)rv);
}

/* The PIN: pin-value, pin-source (file: URI or path), else $SCITT_PKCS11_PIN. */
static bool read_pin(P11KitUri *u, char *pin, size_t cap)
{
    const char *v = p11_kit_uri_get_pin_value(u);
    if (v) {
        snprintf(pin, cap, "%s", v);
        return strlen(v) < cap;
    }
    const char *src = p11_kit_uri_get_pin_source(u);
    if (src) {
        if (!strncmp(src, "file:", 5)) {
            src += 5;
        }
        FILE *f = fopen(src, "re");
        if (!f) {
            return false;
        }
        size_t n = fread(pin, 1, cap - 1, f);
        fclose(f);
        pin[n] = 0;
        while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r')) {
            pin[--n] = 0;
        }
        return true;
    }
    v = getenv("SCITT_PKCS11_PIN");
    if (v) {
        snprintf(pin, cap, "%s", v);
        return strlen(v) < cap;
    }
    pin[0] = 0;
    return true;
}

/* Objects of @p cls matching the URI's object attributes (and @p id when given). */
static CK_RV find(scitt_p11 *s, P11KitUri *u, CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *id,
                  CK_OBJECT_HANDLE *out, CK_ULONG cap, CK_ULONG *n)
{
    CK_ULONG na = 0;
    CK_ATTRIBUTE *ua = p11_kit_uri_get_attributes(u, &na);
    CK_ATTRIBUTE t[16];
    CK_ULONG nt = 0;
    t[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    for (CK_ULONG i = 0; i < na && nt < 14; i++) {
        if (ua[i].type == CKA_CLASS || (id && ua[i].type == CKA_ID)) {
            continue;
        }
        t[nt++] = ua[i];
    }
    if (id) {
        t[nt++] = *id;
    }
    CK_RV rv = s->f->C_FindObjectsInit(s->session, t, nt);
    if (rv != CKR_OK) {
        return rv;
    }
    rv = s->f->C_FindObjects(s->session, out, cap, n);
    s->f->C_FindObjectsFinal(s->session);
    return rv;
}

static bool attr(scitt_p11 *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG cap,
                 CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, buf, cap};
    if (s->f->C_GetAttributeValue(s->session, o, &a, 1) != CKR_OK || a.ulValueLen == (CK_ULONG)-1) {
        return false;
    }
    *len = a.ulValueLen;
    return true;
}

/* CKA_EC_POINT is a DER OCTET STRING around the point (some modules give the raw point). */
static bool unwrap_point(const uint8_t *p, size_t n, const uint8_t **pt, size_t *pn)
{
    if (n >= 2 && p[0] == 0x04 && p[1] < 0x80 && (size_t)p[1] + 2 == n) {
        *pt = p + 2, *pn = p[1];
        return true;
    }
    if (n >= 3 && p[0] == 0x04 && p[1] == 0x81 && (size_t)p[2] + 3 == n) {
        *pt = p + 3, *pn = p[2];
        return true;
    }
    *pt = p, *pn = n;
    return true;
}

static scitt_err public_key(scitt_p11 *s, CK_OBJECT_HANDLE pub, char *why, size_t cap)
{
    uint8_t params[64], point[200];
    CK_ULONG pl = 0, ql = 0;
    if (!attr(s, pub, CKA_EC_POINT, point, sizeof(point), &ql)) {
        snprintf(why, cap, "PKCS#11: the public key has no readable CKA_EC_POINT");
        return SCITT_ERR_UNSUPPORTED;
    }
    (void)attr(s, pub, CKA_EC_PARAMS, params, sizeof(params), &pl);
    const uint8_t *pt;
    size_t pn;
    unwrap_point(point, ql, &pt, &pn);
    EVP_PKEY *pk = NULL;
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const uint8_t p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
    static const uint8_t p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
    if (s->type == CKK_EC_EDWARDS) {
        if (pn == 32) {
            pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pt, pn);
        }
    } else {
        const char *group = NULL;
        if (pl == sizeof(p256) && !memcmp(params, p256, pl)) {
            group = "P-256", s->coord = 32;
        } else if (pl == sizeof(p384) && !memcmp(params, p384, pl)) {
            group = "P-384", s->coord = 48;
        } else if (pl == sizeof(p521) && !memcmp(params, p521, pl)) {
            group = "P-521", s->coord = 66;
        }
        EVP_PKEY_CTX *ctx = group ? EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL) : NULL;
        OSSL_PARAM ps[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, pn),
            OSSL_PARAM_construct_end()};
        if (ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
            (void)EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, ps);
        }
        EVP_PKEY_CTX_free(ctx);
    }
    if (!pk) {
        snprintf(why, cap, "PKCS#11: the key is not P-256, P-384, P-521 or Ed25519");
        return SCITT_ERR_UNSUPPORTED;
    }
    uint8_t *der = NULL;
    int dl = i2d_PUBKEY(pk, &der);
    EVP_PKEY_free(pk);
    scitt_err e = dl > 0 ? scitt_cose_key_from_der(scitt_span_make(der, (size_t)dl), &s->pub)
                         : SCITT_ERR_CRYPTO;
    OPENSSL_free(der);
    if (e != SCITT_OK) {
        snprintf(why, cap, "PKCS#11: the public key cannot be used: %s", scitt_err_str(e));
    }
    return e;
}

scitt_err scitt_p11_open(const char *uri, unsigned flags, scitt_p11 **out, char *why, size_t cap)
{
    *out = NULL;
    P11KitUri *u = p11_kit_uri_new();
    scitt_p11 *s = scitt_calloc(1, sizeof(*s));
    char pin[256] = "";
    scitt_err e = SCITT_ERR_MALFORMED;
    if (!u || !s) {
        e = SCITT_ERR_NOMEM;
        goto out;
    }
    pthread_mutex_init(&s->lock, NULL);
    if (p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u) != P11_KIT_URI_OK) {
        /* the URI is not repeated: it may hold a PIN */
        snprintf(why, cap, "not a PKCS#11 URI (RFC 7512)");
        goto out;
    }
    if ((flags & SCITT_P11_NO_PIN_VALUE) && p11_kit_uri_get_pin_value(u)) {
        snprintf(why, cap,
                 "the PKCS#11 URI holds the PIN (pin-value): give pin-source=file:... or "
                 "$SCITT_PKCS11_PIN instead");
        goto out;
    }
    const char *mod = p11_kit_uri_get_module_path(u);
    if (!mod) {
        mod = getenv("SCITT_PKCS11_MODULE");
    }
    if (!mod) {
        snprintf(why, cap,
                 "no PKCS#11 module: give module-path= in the URI or "
                 "$SCITT_PKCS11_MODULE");
        goto out;
    }
    if (!read_pin(u, pin, sizeof(pin))) {
        snprintf(why, cap, "cannot read the PIN (pin-source, or too long)");
        goto out;
    }
    e = SCITT_ERR_IO;
    s->f = p11_kit_module_load(mod, 0);
    if (!s->f) {
        snprintf(why, cap, "cannot load the PKCS#11 module %.200s: %s", mod, p11_kit_message());
        goto out;
    }
    CK_RV rv = p11_kit_module_initialize(s->f);
    if (rv != CKR_OK) {
        say(why, cap, "the module does not initialise", rv);
        goto out;
    }
    s->initialised = true;
    CK_SLOT_ID slots[64];
    CK_ULONG ns = 64;
    rv = s->f->C_GetSlotList(CK_TRUE, slots, &ns);
    if (rv != CKR_OK) {
        say(why, cap, "cannot list the slots", rv);
        goto out;
    }
    CK_SLOT_ID slot = 0;
    int found = 0;
    for (CK_ULONG i = 0; i < ns; i++) {
        CK_TOKEN_INFO ti;
        if (s->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK && p11_kit_uri_match_token_info(u, &ti)) {
            slot = slots[i];
            found++;
        }
    }
    if (found != 1) {
        snprintf(why, cap, "PKCS#11: %s token matches the URI", found ? "more than one" : "no");
        e = SCITT_ERR_NOT_FOUND;
        goto out;
    }
    rv = s->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s->session);
    if (rv != CKR_OK) {
        say(why, cap, "cannot open a session", rv);
        goto out;
    }
    s->session_open = true;
    rv = s->f->C_Login(s->session, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        say(why, cap, rv == CKR_PIN_INCORRECT ? "the PIN is incorrect" : "login failed", rv);
        e = SCITT_ERR_UNTRUSTED;
        goto out;
    }
    CK_OBJECT_HANDLE h[2];
    CK_ULONG nh = 0;
    rv = find(s, u, CKO_PRIVATE_KEY, NULL, h, 2, &nh);
    if (rv != CKR_OK || nh != 1) {
        snprintf(why, cap, "PKCS#11: %s private key matches the URI",
                 rv != CKR_OK ? "no (search failed)"
                 : nh         ? "more than one"
                              : "no");
        e = SCITT_ERR_NOT_FOUND;
        goto out;
    }
    s->priv = h[0];
    CK_ULONG l;
    if (!attr(s, s->priv, CKA_KEY_TYPE, &s->type, sizeof(s->type), &l) ||
        (s->type != CKK_EC && s->type != CKK_EC_EDWARDS)) {
        snprintf(why, cap, "PKCS#11: only EC (P-256, P-384, P-521) and Ed25519 keys");
        e = SCITT_ERR_UNSUPPORTED;
        goto out;
    }
    /* its public half: the public key object with the same CKA_ID */
    uint8_t id[256];
    CK_ATTRIBUTE ida = {CKA_ID, id, 0};
    bool has_id = attr(s, s->priv, CKA_ID, id, sizeof(id), &ida.ulValueLen);
    rv = find(s, u, CKO_PUBLIC_KEY, has_id ? &ida : NULL, h, 2, &nh);
    if (rv != CKR_OK || nh != 1) {
        snprintf(why, cap, "PKCS#11: no single public key object with the private key's id");
        e = SCITT_ERR_NOT_FOUND;
        goto out;
    }
    e = public_key(s, h[0], why, cap);
out:
    scitt_wipe(pin, sizeof(pin));
    if (u) {
        p11_kit_uri_free(u);
    }
    if (e != SCITT_OK) {
        scitt_p11_close(s);
        return e;
    }
    *out = s;
    return SCITT_OK;
}

/* The signer's sign (scitt/signer.h): ECDSA over the digest of the Sig_structure, EdDSA over
 * the Sig_structure itself. */
static scitt_err token_sign(void *ctx, int64_t alg, scitt_span tbs, uint8_t *out, size_t cap,
                            size_t *out_len)
{
    scitt_p11 *s = ctx;
    uint8_t dig[64], sig[256];
    CK_ULONG dl = 0, sl = sizeof(sig);
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    if (s->type == CKK_EC_EDWARDS) {
        mech.mechanism = CKM_EDDSA;
    } else if (alg == SCITT_COSE_ALG_ES256 || alg == SCITT_COSE_ALG_ESP256) {
        scitt_sha256(tbs.ptr, tbs.len, dig), dl = 32;
    } else if (alg == SCITT_COSE_ALG_ES384 || alg == SCITT_COSE_ALG_ESP384) {
        scitt_sha384(tbs.ptr, tbs.len, dig), dl = 48;
    } else if (alg == SCITT_COSE_ALG_ES512 || alg == SCITT_COSE_ALG_ESP512) {
        scitt_sha512(tbs.ptr, tbs.len, dig), dl = 64;
    } else {
        return SCITT_ERR_ALG;
    }
    pthread_mutex_lock(&s->lock);
    CK_RV rv = s->f->C_SignInit(s->session, &mech, s->priv);
    if (rv == CKR_OK) {
        rv = mech.mechanism == CKM_EDDSA
                 ? s->f->C_Sign(s->session, (CK_BYTE_PTR)tbs.ptr, tbs.len, sig, &sl)
                 : s->f->C_Sign(s->session, dig, dl, sig, &sl);
    }
    scitt_err e = SCITT_OK;
    if (rv != CKR_OK) {
        say(s->last, sizeof(s->last), "the token did not sign", rv);
        e = SCITT_ERR_CRYPTO;
    } else if (s->type == CKK_EC && sl != 2 * s->coord) {
        snprintf(s->last, sizeof(s->last), "PKCS#11: the token's ECDSA signature has %lu bytes",
                 (unsigned long)sl);
        e = SCITT_ERR_CRYPTO;
    } else if (sl > cap) {
        e = SCITT_ERR_TOO_LARGE;
    } else {
        memcpy(out, sig, sl);
        *out_len = sl;
        s->last[0] = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return e;
}

void scitt_p11_signer(scitt_p11 *s, scitt_cose_signer *out)
{
    out->sign = token_sign;
    out->ctx = s;
    out->pub = s->pub;
}

const char *scitt_p11_last_error(scitt_p11 *s)
{
    return s->last;
}

scitt_err scitt_p11_sign1(scitt_p11 *s, int64_t alg, scitt_span protected_map, scitt_span payload,
                          bool detached, scitt_cbor_writer *out, char *why, size_t cap)
{
    if (!scitt_cose_key_allows(s->pub, alg)) {
        snprintf(why, cap, "the token's key cannot sign %s", scitt_cose_alg_name(alg));
        return SCITT_ERR_ALG;
    }
    scitt_cose_signer signer;
    scitt_p11_signer(s, &signer);
    uint8_t sig[SCITT_COSE_SIG_MAX];
    size_t sl = 0;
    s->last[0] = 0;
    scitt_err e = scitt_cose_signer_signature(&signer, alg, protected_map, scitt_span_make(NULL, 0),
                                              payload, sig, sizeof(sig), &sl);
    if (e == SCITT_ERR_SIGNATURE) {
        snprintf(why, cap, "PKCS#11: the token's signature does not verify with its public key");
        return e;
    }
    if (e != SCITT_OK) {
        snprintf(why, cap, "%s", s->last[0] ? s->last : scitt_err_str(e));
        return e;
    }
    scitt_cbor_put_tag(out, 18);
    scitt_cbor_put_array(out, 4);
    scitt_cbor_put_bytes(out, protected_map);
    scitt_cbor_put_map(out, 0);
    if (detached) {
        scitt_cbor_put_null(out);
    } else {
        scitt_cbor_put_bytes(out, payload);
    }
    scitt_cbor_put_bytes(out, scitt_span_make(sig, sl));
    return SCITT_OK;
}

void scitt_p11_close(scitt_p11 *s)
{
    if (!s) {
        return;
    }
    if (s->session_open) {
        s->f->C_Logout(s->session);
        s->f->C_CloseSession(s->session);
    }
    if (s->initialised) {
        p11_kit_module_finalize(s->f);
    }
    if (s->f) {
        p11_kit_module_release(s->f);
    }
    scitt_cose_key_free(s->pub);
    pthread_mutex_destroy(&s->lock);
    scitt_free(s);
}
