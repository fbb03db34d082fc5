/*
 * JWK and JWKS (RFC 7517, 7518, 8037): encoding for publication, decoding for verification
 * trust inputs. Key parameters are base64url without padding.
 *
 * kid convention: a key's kid is bytes (COSE), a JWK's kid is a string. Reading, the kid is the
 * string's UTF-8 bytes, which is what COSE libraries put in a kid header when they take it from a
 * JWK; a base64url string also gets its decoded bytes as an alias (see scitt__key_set_jwk_kid).
 * Writing, a kid that came from a JWK is written back as the same string, any other kid (an
 * RFC 9679 thumbprint) as the base64url of its bytes.
 */
#include "scitt/cose.h"

#include <string.h>

#include "cose_internal.h"
#include "scitt/json.h"

/* Base64url text of the largest parameter (an 8192-bit RSA value) plus slack. */
#define B64_MAX (SCITT__RSA_MAX * 4 / 3 + 8)

static scitt_err get_b64(const scitt_json *j, size_t obj, const char *name, bool required,
                         uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    long t = scitt_json_get(j, obj, name);
    if (t < 0) {
        return required ? SCITT_ERR_KEY_MALFORMED : SCITT_OK;
    }
    char text[B64_MAX];
    size_t tl;
    if (scitt_json_type_of(j, (size_t)t) != SCITT_JSON_STRING ||
        scitt_json_string(j, (size_t)t, text, sizeof(text), &tl) != SCITT_OK ||
        scitt_base64url_decode(scitt_span_make(text, tl), out, cap, len) != SCITT_OK || *len == 0) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    return SCITT_OK;
}

static scitt_cose_crv crv_from_name(const scitt_json *j, long t)
{
    static const struct {
        const char *name;
        scitt_cose_crv crv;
    } names[] = {{"P-256", SCITT_COSE_CRV_P256},
                 {"P-384", SCITT_COSE_CRV_P384},
                 {"P-521", SCITT_COSE_CRV_P521},
                 {"Ed25519", SCITT_COSE_CRV_ED25519},
                 {"Ed448", SCITT_COSE_CRV_ED448}};
    for (size_t i = 0; t >= 0 && i < sizeof(names) / sizeof(names[0]); i++) {
        if (scitt_json_str_eq(j, (size_t)t, names[i].name)) {
            return names[i].crv;
        }
    }
    return SCITT_COSE_CRV_NONE;
}

static const char *crv_name(scitt_cose_crv crv)
{
    switch (crv) {
    case SCITT_COSE_CRV_P256:
        return "P-256";
    case SCITT_COSE_CRV_P384:
        return "P-384";
    case SCITT_COSE_CRV_P521:
        return "P-521";
    case SCITT_COSE_CRV_ED25519:
        return "Ed25519";
    case SCITT_COSE_CRV_ED448:
        return "Ed448";
    default:
        return "";
    }
}

static scitt_err jwk_private(const scitt_json *j, size_t obj, scitt_cose_kty kty, scitt__priv *priv,
                             bool *has)
{
    scitt_err e = get_b64(j, obj, "d", false, priv->d, sizeof(priv->d), &priv->d_len);
    *has = e == SCITT_OK && priv->d_len > 0;
    if (!*has || kty != SCITT_COSE_KTY_RSA) {
        return e;
    }
    const char *names[] = {"p", "q", "dp", "dq", "qi"};
    uint8_t *dst[] = {priv->p, priv->q, priv->dp, priv->dq, priv->qi};
    size_t caps[] = {sizeof(priv->p), sizeof(priv->q), sizeof(priv->dp), sizeof(priv->dq),
                     sizeof(priv->qi)};
    size_t *lens[] = {&priv->p_len, &priv->q_len, &priv->dp_len, &priv->dq_len, &priv->qi_len};
    for (size_t i = 0; i < 5 && e == SCITT_OK; i++) {
        e = get_b64(j, obj, names[i], true, dst[i], caps[i], lens[i]);
    }
    return e;
}

/* Builds a key from the JWK object at token @p obj. */
static scitt_err jwk_from_tok(const scitt_json *j, size_t obj, scitt_cose_key **out)
{
    *out = NULL;
    if (scitt_json_type_of(j, obj) != SCITT_JSON_OBJECT) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    long kty = scitt_json_get(j, obj, "kty");
    scitt__pub pub;
    scitt__priv priv;
    memset(&pub, 0, sizeof(pub));
    memset(&priv, 0, sizeof(priv));
    scitt_err e = SCITT_OK;
    if (kty >= 0 &&
        (scitt_json_str_eq(j, (size_t)kty, "EC") || scitt_json_str_eq(j, (size_t)kty, "OKP"))) {
        bool ec = scitt_json_str_eq(j, (size_t)kty, "EC");
        pub.kty = ec ? SCITT_COSE_KTY_EC2 : SCITT_COSE_KTY_OKP;
        pub.crv = crv_from_name(j, scitt_json_get(j, obj, "crv"));
        bool fits = ec ? scitt__ec_coord_len(pub.crv) != 0
                       : (pub.crv == SCITT_COSE_CRV_ED25519 || pub.crv == SCITT_COSE_CRV_ED448);
        if (!fits) {
            return SCITT_ERR_UNSUPPORTED;
        }
        e = get_b64(j, obj, "x", true, pub.x, sizeof(pub.x), &pub.x_len);
        if (e == SCITT_OK && ec) {
            e = get_b64(j, obj, "y", true, pub.y, sizeof(pub.y), &pub.y_len);
        }
    } else if (kty >= 0 && scitt_json_str_eq(j, (size_t)kty, "RSA")) {
        pub.kty = SCITT_COSE_KTY_RSA;
        e = get_b64(j, obj, "n", true, pub.n, sizeof(pub.n), &pub.n_len);
        if (e == SCITT_OK) {
            e = get_b64(j, obj, "e", true, pub.e, sizeof(pub.e), &pub.e_len);
        }
    } else {
        return kty >= 0 ? SCITT_ERR_UNSUPPORTED : SCITT_ERR_KEY_MALFORMED;
    }
    bool has_priv = false;
    if (e == SCITT_OK) {
        e = jwk_private(j, obj, pub.kty, &priv, &has_priv);
    }
    int64_t alg = 0;
    long at = scitt_json_get(j, obj, "alg");
    if (e == SCITT_OK && at >= 0) {
        char name[32];
        size_t nl;
        if (scitt_json_type_of(j, (size_t)at) != SCITT_JSON_STRING ||
            scitt_json_string(j, (size_t)at, name, sizeof(name), &nl) != SCITT_OK ||
            (alg = scitt_cose_alg_from_name(scitt_span_make(name, nl))) == 0) {
            e = SCITT_ERR_ALG;
        }
    }
    char kid[SCITT_LIMIT_KID_BYTES + 1];
    size_t kid_len = 0;
    long kt = scitt_json_get(j, obj, "kid");
    if (e == SCITT_OK && kt >= 0 &&
        (scitt_json_type_of(j, (size_t)kt) != SCITT_JSON_STRING ||
         scitt_json_string(j, (size_t)kt, kid, sizeof(kid), &kid_len) != SCITT_OK)) {
        e = SCITT_ERR_KEY_MALFORMED;
    }
    scitt_cose_key *k = NULL;
    if (e == SCITT_OK) {
        e = scitt__key_from_raw(&pub, has_priv ? &priv : NULL, &k);
    }
    scitt_wipe(&priv, sizeof(priv));
    if (e == SCITT_OK && alg) {
        e = scitt_cose_key_set_alg(k, alg);
    }
    if (e == SCITT_OK && kt >= 0) {
        e = scitt__key_set_jwk_kid(k, scitt_span_make(kid, kid_len));
    }
    if (e != SCITT_OK) {
        scitt_cose_key_free(k);
        return e;
    }
    *out = k;
    return SCITT_OK;
}

scitt_err scitt_cose_key_from_jwk(scitt_span json, scitt_cose_key **out)
{
    *out = NULL;
    if (json.len > SCITT_LIMIT_KEY_TEXT) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_json j;
    scitt_err e = scitt_json_parse(json, &j);
    if (e != SCITT_OK) {
        return e;
    }
    e = jwk_from_tok(&j, 0, out);
    scitt_json_clear(&j);
    return e;
}

scitt_err scitt_cose_keyset_from_jwks(scitt_span json, scitt_cose_keyset **out)
{
    *out = NULL;
    if (json.len > SCITT_LIMIT_KEY_TEXT) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_json j;
    scitt_err e = scitt_json_parse(json, &j);
    if (e != SCITT_OK) {
        return e;
    }
    long keys = scitt_json_get(&j, 0, "keys");
    scitt_cose_keyset *s = NULL;
    if (keys < 0 || scitt_json_type_of(&j, (size_t)keys) != SCITT_JSON_ARRAY) {
        e = SCITT_ERR_KEY_MALFORMED;
    } else if (j.toks[keys].count > SCITT_LIMIT_KEYSET_KEYS) {
        e = SCITT_ERR_TOO_LARGE;
    } else {
        e = scitt_cose_keyset_new(&s);
    }
    for (size_t i = 0; e == SCITT_OK && i < j.toks[keys].count; i++) {
        scitt_cose_key *k = NULL;
        e = jwk_from_tok(&j, (size_t)scitt_json_at(&j, (size_t)keys, i), &k);
        if (e == SCITT_OK) {
            e = scitt_cose_keyset_add(s, k);
        }
        scitt_cose_key_free(k);
    }
    scitt_json_clear(&j);
    if (e != SCITT_OK) {
        scitt_cose_keyset_free(s);
        return e;
    }
    *out = s;
    return SCITT_OK;
}

static void put_member(scitt_dynbuf *out, const char *name, const uint8_t *v, size_t n)
{
    char text[B64_MAX];
    scitt_dynbuf_printf(out, ",\"%s\":", name);
    if (scitt_base64url_encode(scitt_span_make(v, n), text, sizeof(text)) != SCITT_OK) {
        out->err = SCITT_ERR_INVALID_ARG;
        return;
    }
    scitt_json_put_string(out, scitt_span_str(text));
}

scitt_err scitt_cose_key_encode_jwk(const scitt_cose_key *k, bool with_private, scitt_dynbuf *out)
{
    const scitt__pub *pub = scitt__key_pub(k);
    scitt__priv priv;
    if (with_private) {
        scitt_err e = scitt__key_priv(k, &priv);
        if (e != SCITT_OK) {
            return e;
        }
    }
    switch (pub->kty) {
    case SCITT_COSE_KTY_RSA:
        scitt_dynbuf_str(out, "{\"kty\":\"RSA\"");
        put_member(out, "n", pub->n, pub->n_len);
        put_member(out, "e", pub->e, pub->e_len);
        break;
    default:
        scitt_dynbuf_printf(out, "{\"kty\":\"%s\",\"crv\":\"%s\"",
                            pub->kty == SCITT_COSE_KTY_EC2 ? "EC" : "OKP", crv_name(pub->crv));
        put_member(out, "x", pub->x, pub->x_len);
        if (pub->kty == SCITT_COSE_KTY_EC2) {
            put_member(out, "y", pub->y, pub->y_len);
        }
        break;
    }
    if (with_private) {
        put_member(out, "d", priv.d, priv.d_len);
        if (pub->kty == SCITT_COSE_KTY_RSA) {
            put_member(out, "p", priv.p, priv.p_len);
            put_member(out, "q", priv.q, priv.q_len);
            put_member(out, "dp", priv.dp, priv.dp_len);
            put_member(out, "dq", priv.dq, priv.dq_len);
            put_member(out, "qi", priv.qi, priv.qi_len);
        }
        scitt_wipe(&priv, sizeof(priv));
    }
    scitt_span kid = scitt_cose_key_kid(k);
    if (kid.len && scitt__key_kid_is_text(k)) {
        scitt_dynbuf_str(out, ",\"kid\":");
        scitt_json_put_string(out, kid);
    } else if (kid.len) {
        put_member(out, "kid", kid.ptr, kid.len);
    }
    int64_t alg = scitt__key_bound_alg(k);
    if (alg) {
        scitt_dynbuf_printf(out, ",\"alg\":\"%s\"", scitt_cose_alg_name(alg));
    }
    scitt_dynbuf_u8(out, '}');
    return out->err;
}

scitt_err scitt_cose_keyset_encode_jwks(const scitt_cose_keyset *s, scitt_dynbuf *out)
{
    scitt_dynbuf_str(out, "{\"keys\":[");
    for (size_t i = 0; i < scitt_cose_keyset_count(s); i++) {
        if (i) {
            scitt_dynbuf_u8(out, ',');
        }
        scitt_err e = scitt_cose_key_encode_jwk(scitt_cose_keyset_at(s, i), false, out);
        if (e != SCITT_OK) {
            return e;
        }
    }
    scitt_dynbuf_str(out, "]}");
    return out->err;
}
