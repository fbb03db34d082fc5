/*
 * COSE_Key (RFC 9052 §7, RFC 9053) and COSE_Key_Set encoding and decoding, RFC 9679 thumbprints,
 * the rules tying algorithms to keys, and key sets. No OpenSSL here: keys are built from their
 * raw parameters by the adapter (scitt__key_from_raw).
 */
#include "scitt/cose.h"

#include <pthread.h>
#include <string.h>

#include "cose_internal.h"

/* COSE_Key labels. */
enum {
    KL_KTY = 1,
    KL_KID = 2,
    KL_ALG = 3,
    KL_KEY_OPS = 4,
    KL_BASE_IV = 5,
};

void scitt__thumbprint(const scitt__pub *pub, uint8_t out[SCITT_SHA256_LEN])
{
    /* Largest input: RSA-8192 {1: 3, -1: n, -2: e}. */
    uint8_t buf[16 + SCITT__RSA_MAX + 32];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    switch (pub->kty) {
    case SCITT_COSE_KTY_EC2:
        scitt_cbor_put_map(&w, 4);
        scitt_cbor_put_uint(&w, KL_KTY);
        scitt_cbor_put_uint(&w, SCITT_COSE_KTY_EC2);
        scitt_cbor_put_int(&w, -1);
        scitt_cbor_put_uint(&w, (uint64_t)pub->crv);
        scitt_cbor_put_int(&w, -2);
        scitt_cbor_put_bytes(&w, scitt_span_make(pub->x, pub->x_len));
        scitt_cbor_put_int(&w, -3);
        scitt_cbor_put_bytes(&w, scitt_span_make(pub->y, pub->y_len));
        break;
    case SCITT_COSE_KTY_OKP:
        scitt_cbor_put_map(&w, 3);
        scitt_cbor_put_uint(&w, KL_KTY);
        scitt_cbor_put_uint(&w, SCITT_COSE_KTY_OKP);
        scitt_cbor_put_int(&w, -1);
        scitt_cbor_put_uint(&w, (uint64_t)pub->crv);
        scitt_cbor_put_int(&w, -2);
        scitt_cbor_put_bytes(&w, scitt_span_make(pub->x, pub->x_len));
        break;
    default:
        scitt_cbor_put_map(&w, 3);
        scitt_cbor_put_uint(&w, KL_KTY);
        scitt_cbor_put_uint(&w, SCITT_COSE_KTY_RSA);
        scitt_cbor_put_int(&w, -1);
        scitt_cbor_put_bytes(&w, scitt_span_make(pub->n, pub->n_len));
        scitt_cbor_put_int(&w, -2);
        scitt_cbor_put_bytes(&w, scitt_span_make(pub->e, pub->e_len));
        break;
    }
    /* The buffer is sized for the largest key, so the writer cannot fail here. */
    scitt_sha256(buf, w.len, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Algorithm rules                                                                             */

static bool is_pair(int64_t a, int64_t b, int64_t x, int64_t y)
{
    return (a == x && b == y) || (a == y && b == x);
}

/* Algorithm identifiers that name the same computation on a given curve (RFC 9864). */
static bool equivalent(int64_t a, int64_t b, scitt_cose_crv crv)
{
    switch (crv) {
    case SCITT_COSE_CRV_P256:
        return is_pair(a, b, SCITT_COSE_ALG_ES256, SCITT_COSE_ALG_ESP256);
    case SCITT_COSE_CRV_P384:
        return is_pair(a, b, SCITT_COSE_ALG_ES384, SCITT_COSE_ALG_ESP384);
    case SCITT_COSE_CRV_P521:
        return is_pair(a, b, SCITT_COSE_ALG_ES512, SCITT_COSE_ALG_ESP512);
    case SCITT_COSE_CRV_ED25519:
        return is_pair(a, b, SCITT_COSE_ALG_EDDSA, SCITT_COSE_ALG_ED25519);
    case SCITT_COSE_CRV_ED448:
        return is_pair(a, b, SCITT_COSE_ALG_EDDSA, SCITT_COSE_ALG_ED448);
    default:
        return false;
    }
}

bool scitt_cose_key_allows(const scitt_cose_key *k, int64_t alg)
{
    const scitt__alg *a = scitt__alg_find(alg);
    const scitt__pub *pub = scitt__key_pub(k);
    if (!a || a->kty != pub->kty || (a->crv != SCITT_COSE_CRV_NONE && a->crv != pub->crv)) {
        return false;
    }
    int64_t bound = scitt__key_bound_alg(k);
    return bound == 0 || bound == alg || equivalent(bound, alg, pub->crv);
}

int64_t scitt_cose_key_alg(const scitt_cose_key *k)
{
    int64_t bound = scitt__key_bound_alg(k);
    if (bound) {
        return bound;
    }
    const scitt__pub *pub = scitt__key_pub(k);
    switch (pub->kty) {
    case SCITT_COSE_KTY_EC2:
        return pub->crv == SCITT_COSE_CRV_P384   ? SCITT_COSE_ALG_ES384
               : pub->crv == SCITT_COSE_CRV_P521 ? SCITT_COSE_ALG_ES512
                                                 : SCITT_COSE_ALG_ES256;
    case SCITT_COSE_KTY_OKP:
        return SCITT_COSE_ALG_EDDSA;
    default:
        return SCITT_COSE_ALG_PS256;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* COSE_Key                                                                                    */

static void put_param(scitt_cbor_writer *w, int64_t label, const uint8_t *p, size_t n)
{
    scitt_cbor_put_int(w, label);
    scitt_cbor_put_bytes(w, scitt_span_make(p, n));
}

scitt_err scitt_cose_key_encode_cose(const scitt_cose_key *k, bool with_private,
                                     scitt_cbor_writer *w)
{
    const scitt__pub *pub = scitt__key_pub(k);
    scitt__priv priv;
    if (with_private) {
        scitt_err e = scitt__key_priv(k, &priv);
        if (e != SCITT_OK) {
            return e;
        }
    }
    scitt_span kid = scitt_cose_key_kid(k);
    int64_t alg = scitt__key_bound_alg(k);
    size_t n = 1u + (kid.len ? 1u : 0u) + (alg ? 1u : 0u);
    n += pub->kty == SCITT_COSE_KTY_EC2 ? 3u : 2u;
    if (with_private) {
        n += pub->kty == SCITT_COSE_KTY_RSA ? 6u : 1u;
    }
    scitt_cbor_put_map(w, n);
    scitt_cbor_put_uint(w, KL_KTY);
    scitt_cbor_put_uint(w, (uint64_t)pub->kty);
    if (kid.len) {
        scitt_cbor_put_uint(w, KL_KID);
        scitt_cbor_put_bytes(w, kid);
    }
    if (alg) {
        scitt_cbor_put_uint(w, KL_ALG);
        scitt_cbor_put_int(w, alg);
    }
    if (pub->kty == SCITT_COSE_KTY_RSA) {
        put_param(w, -1, pub->n, pub->n_len);
        put_param(w, -2, pub->e, pub->e_len);
        if (with_private) {
            put_param(w, -3, priv.d, priv.d_len);
            put_param(w, -4, priv.p, priv.p_len);
            put_param(w, -5, priv.q, priv.q_len);
            put_param(w, -6, priv.dp, priv.dp_len);
            put_param(w, -7, priv.dq, priv.dq_len);
            put_param(w, -8, priv.qi, priv.qi_len);
        }
    } else {
        scitt_cbor_put_int(w, -1);
        scitt_cbor_put_uint(w, (uint64_t)pub->crv);
        put_param(w, -2, pub->x, pub->x_len);
        if (pub->kty == SCITT_COSE_KTY_EC2) {
            put_param(w, -3, pub->y, pub->y_len);
        }
        if (with_private) {
            put_param(w, -4, priv.d, priv.d_len);
        }
    }
    if (with_private) {
        scitt_wipe(&priv, sizeof(priv));
    }
    return w->err;
}

static scitt_err copy_param(scitt_span v, uint8_t *out, size_t cap, size_t *len)
{
    if (v.len == 0 || v.len > cap) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    memcpy(out, v.ptr, v.len);
    *len = v.len;
    return SCITT_OK;
}

/* Decodes the COSE_Key map at the reader into a key. */
static scitt_err key_from_reader(scitt_cbor_reader *r, scitt_cose_key **out)
{
    size_t n;
    scitt_err e = scitt_cbor_read_map(r, &n);
    if (e != SCITT_OK) {
        return e == SCITT_ERR_BAD_TYPE ? SCITT_ERR_KEY_MALFORMED : e;
    }
    int64_t kty = 0, alg = 0, crv = 0;
    bool has_crv = false;
    scitt_span kid = {NULL, 0}, neg[8] = {{NULL, 0}};
    bool neg_bytes[8] = {false};
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_cbor_item key;
        e = scitt_cbor_next(r, &key);
        if (e != SCITT_OK) {
            break;
        }
        if (key.type == SCITT_CBOR_UINT && key.arg == KL_KTY) {
            e = scitt_cbor_read_int(r, &kty); /* text kty values are not supported */
        } else if (key.type == SCITT_CBOR_UINT && key.arg == KL_KID) {
            e = scitt_cbor_read_bytes(r, &kid);
        } else if (key.type == SCITT_CBOR_UINT && key.arg == KL_ALG) {
            e = scitt_cbor_read_int(r, &alg);
            if (e == SCITT_ERR_BAD_TYPE) {
                e = SCITT_ERR_ALG;
            }
        } else if (key.type == SCITT_CBOR_NEGINT && key.arg < 8) {
            scitt_cbor_item v;
            e = scitt_cbor_peek(r, &v);
            if (e == SCITT_OK && key.arg == 0 && v.type == SCITT_CBOR_UINT) {
                has_crv = true;
                e = scitt_cbor_read_int(r, &crv);
            } else if (e == SCITT_OK && v.type == SCITT_CBOR_BYTES) {
                neg_bytes[key.arg] = true;
                e = scitt_cbor_read_bytes(r, &neg[key.arg]);
            } else if (e == SCITT_OK) {
                /* e.g. y as a bool: compressed points are not supported */
                e = v.type == SCITT_CBOR_TRUE || v.type == SCITT_CBOR_FALSE
                        ? SCITT_ERR_UNSUPPORTED
                        : SCITT_ERR_KEY_MALFORMED;
            }
        } else {
            e = scitt_cbor_skip(r, NULL); /* key_ops, base IV, private labels */
        }
    }
    if (e != SCITT_OK) {
        return e == SCITT_ERR_BAD_TYPE ? SCITT_ERR_KEY_MALFORMED : e;
    }
    scitt__pub pub;
    scitt__priv priv;
    memset(&pub, 0, sizeof(pub));
    memset(&priv, 0, sizeof(priv));
    bool has_priv = false;
    pub.kty = (scitt_cose_kty)kty;
    if (kty == SCITT_COSE_KTY_EC2 || kty == SCITT_COSE_KTY_OKP) {
        if (!has_crv || neg_bytes[0]) {
            return SCITT_ERR_KEY_MALFORMED;
        }
        pub.crv = (scitt_cose_crv)crv;
        e = copy_param(neg[1], pub.x, sizeof(pub.x), &pub.x_len);
        if (e == SCITT_OK && kty == SCITT_COSE_KTY_EC2) {
            e = copy_param(neg[2], pub.y, sizeof(pub.y), &pub.y_len);
        } else if (e == SCITT_OK && neg_bytes[2]) {
            e = SCITT_ERR_KEY_MALFORMED; /* OKP has no -3 */
        }
        if (e == SCITT_OK && neg_bytes[3]) {
            has_priv = true;
            e = copy_param(neg[3], priv.d, sizeof(priv.d), &priv.d_len);
        }
        for (size_t i = 4; i < 8 && e == SCITT_OK; i++) {
            e = neg_bytes[i] ? SCITT_ERR_KEY_MALFORMED : SCITT_OK;
        }
        if (e == SCITT_OK && crv != SCITT_COSE_CRV_P256 && crv != SCITT_COSE_CRV_P384 &&
            crv != SCITT_COSE_CRV_P521 && crv != SCITT_COSE_CRV_ED25519 &&
            crv != SCITT_COSE_CRV_ED448) {
            e = SCITT_ERR_UNSUPPORTED;
        }
    } else if (kty == SCITT_COSE_KTY_RSA) {
        if (has_crv) {
            return SCITT_ERR_KEY_MALFORMED;
        }
        e = copy_param(neg[0], pub.n, sizeof(pub.n), &pub.n_len);
        if (e == SCITT_OK) {
            e = copy_param(neg[1], pub.e, sizeof(pub.e), &pub.e_len);
        }
        if (e == SCITT_OK && neg_bytes[2]) {
            has_priv = true;
            uint8_t *dst[] = {priv.d, priv.p, priv.q, priv.dp, priv.dq, priv.qi};
            size_t caps[] = {sizeof(priv.d),  sizeof(priv.p),  sizeof(priv.q),
                             sizeof(priv.dp), sizeof(priv.dq), sizeof(priv.qi)};
            size_t *lens[] = {&priv.d_len,  &priv.p_len,  &priv.q_len,
                              &priv.dp_len, &priv.dq_len, &priv.qi_len};
            for (size_t i = 0; i < 6 && e == SCITT_OK; i++) {
                e = copy_param(neg[2 + i], dst[i], caps[i], lens[i]);
            }
        }
    } else {
        e = kty == 4 ? SCITT_ERR_UNSUPPORTED : SCITT_ERR_KEY_MALFORMED;
    }
    if (e == SCITT_OK && kid.len > SCITT_LIMIT_KID_BYTES) {
        e = SCITT_ERR_TOO_LARGE;
    }
    scitt_cose_key *k = NULL;
    if (e == SCITT_OK) {
        e = scitt__key_from_raw(&pub, has_priv ? &priv : NULL, &k);
    }
    scitt_wipe(&priv, sizeof(priv));
    if (e == SCITT_OK && alg != 0) {
        e = scitt_cose_key_set_alg(k, alg);
    }
    if (e == SCITT_OK && kid.ptr) {
        e = scitt_cose_key_set_kid(k, kid);
    }
    if (e == SCITT_OK && kid.ptr && scitt_cose_key_is_text_kid(k)) {
        /* the text kid of scitt_cose_key_use_text_kid: the thumbprint bytes stay an alias */
        e = scitt__key_set_jwk_kid(k, kid);
    }
    if (e != SCITT_OK) {
        scitt_cose_key_free(k);
        return e;
    }
    *out = k;
    return SCITT_OK;
}

scitt_err scitt_cose_key_from_cose(scitt_span cbor, scitt_cose_key **out)
{
    *out = NULL;
    if (cbor.len > SCITT_LIMIT_KEY_TEXT) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, cbor);
    scitt_cose_key *k = NULL;
    scitt_err e = key_from_reader(&r, &k);
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    if (e != SCITT_OK) {
        scitt_cose_key_free(k);
        return e;
    }
    *out = k;
    return SCITT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Key sets                                                                                    */

/*
 * The memo of verified signatures: SHA-256 digests of (key, algorithm, signed bytes, signature)
 * tuples that verified, direct-mapped. A hit means this very signature by this very key over
 * these very bytes already verified, so it is sound to skip the public-key operation.
 */
typedef struct sig_memo {
    pthread_mutex_t mu;
    size_t mask;
    uint8_t (*slots)[SCITT_SHA256_LEN];
} sig_memo;

struct scitt_cose_keyset {
    scitt_cose_key *keys[SCITT_LIMIT_KEYSET_KEYS];
    size_t n;
    sig_memo *memo; /* NULL unless enabled */
};

scitt_err scitt_cose_keyset_new(scitt_cose_keyset **out)
{
    *out = scitt_calloc(1, sizeof(**out));
    return *out ? SCITT_OK : SCITT_ERR_NOMEM;
}

void scitt_cose_keyset_free(scitt_cose_keyset *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        scitt_cose_key_free(s->keys[i]);
    }
    if (s->memo) {
        pthread_mutex_destroy(&s->memo->mu);
        scitt_free(s->memo->slots);
        scitt_free(s->memo);
    }
    scitt_free(s);
}

scitt_err scitt_cose_keyset_memo(scitt_cose_keyset *s, size_t capacity)
{
    if (s->memo || capacity == 0) {
        return s->memo ? SCITT_ERR_STATE : SCITT_ERR_INVALID_ARG;
    }
    size_t n = 16;
    while (n < capacity && n < ((size_t)1 << 20)) {
        n *= 2;
    }
    sig_memo *m = scitt_calloc(1, sizeof(*m));
    uint8_t(*slots)[SCITT_SHA256_LEN] = scitt_calloc(n, SCITT_SHA256_LEN);
    if (!m || !slots || pthread_mutex_init(&m->mu, NULL) != 0) {
        scitt_free(m);
        scitt_free(slots);
        return SCITT_ERR_NOMEM;
    }
    m->mask = n - 1;
    m->slots = slots;
    s->memo = m;
    return SCITT_OK;
}

bool scitt__keyset_memo_digest(const scitt_cose_keyset *s, const scitt_cose_key *k, int64_t alg,
                               const scitt_span *parts, size_t nparts, scitt_span sig,
                               uint8_t out[SCITT_SHA256_LEN])
{
    if (!s->memo || nparts > SCITT__MEMO_PARTS) {
        return false;
    }
    /* the key is named by its address: stable and unique while the set holds a reference */
    uintptr_t kp = (uintptr_t)k;
    uint64_t lens[SCITT__MEMO_PARTS];
    scitt_span v[3 + 2 * SCITT__MEMO_PARTS];
    size_t n = 0;
    v[n++] = scitt_span_make(&kp, sizeof(kp));
    v[n++] = scitt_span_make(&alg, sizeof(alg));
    for (size_t i = 0; i < nparts; i++) {
        lens[i] = parts[i].len; /* lengths keep the parts from running into each other */
        v[n++] = scitt_span_make(&lens[i], sizeof(lens[i]));
        v[n++] = parts[i];
    }
    v[n++] = sig;
    scitt_sha256_v(v, n, out);
    return true;
}

/* With the memo's lock held: the slot of @p digest. */
static uint8_t *memo_slot(const sig_memo *m, const uint8_t digest[SCITT_SHA256_LEN])
{
    size_t at;
    memcpy(&at, digest, sizeof(at));
    return m->slots[at & m->mask];
}

bool scitt__keyset_memo_has(const scitt_cose_keyset *s, const uint8_t digest[SCITT_SHA256_LEN])
{
    pthread_mutex_lock(&s->memo->mu);
    bool hit = memcmp(memo_slot(s->memo, digest), digest, SCITT_SHA256_LEN) == 0;
    pthread_mutex_unlock(&s->memo->mu);
    return hit;
}

void scitt__keyset_memo_add(const scitt_cose_keyset *s, const uint8_t digest[SCITT_SHA256_LEN])
{
    pthread_mutex_lock(&s->memo->mu);
    memcpy(memo_slot(s->memo, digest), digest, SCITT_SHA256_LEN);
    pthread_mutex_unlock(&s->memo->mu);
}

scitt_err scitt_cose_keyset_add(scitt_cose_keyset *s, scitt_cose_key *k)
{
    if (s->n == SCITT_LIMIT_KEYSET_KEYS) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_span kid = scitt_cose_key_kid(k);
    if (kid.len && scitt_cose_keyset_find(s, kid)) {
        return SCITT_ERR_DUPLICATE_KEY;
    }
    s->keys[s->n++] = scitt_cose_key_ref(k);
    return SCITT_OK;
}

size_t scitt_cose_keyset_count(const scitt_cose_keyset *s)
{
    return s->n;
}

const scitt_cose_key *scitt_cose_keyset_at(const scitt_cose_keyset *s, size_t i)
{
    return i < s->n ? s->keys[i] : NULL;
}

/* The bytes @p kid stands for when it is base64url text (a text kid naming a raw kid). */
static bool kid_decoded(scitt_span kid, uint8_t out[SCITT_LIMIT_KID_BYTES], size_t *len)
{
    return kid.len > 0 && kid.len <= SCITT_LIMIT_KID_BYTES * 4 / 3 + 2 &&
           scitt_base64url_decode(kid, out, SCITT_LIMIT_KID_BYTES, len) == SCITT_OK && *len > 0;
}

bool scitt_cose_key_matches_kid(const scitt_cose_key *k, scitt_span kid)
{
    scitt_span own = scitt_cose_key_kid(k);
    if (kid.len == 0 || own.len == 0) {
        return false;
    }
    if (scitt_span_eq(own, kid)) {
        return true;
    }
    scitt_span alias = scitt__key_kid_alias(k);
    if (alias.len && scitt_span_eq(alias, kid)) {
        return true; /* a raw kid, the key's kid its base64url text */
    }
    uint8_t raw[SCITT_LIMIT_KID_BYTES];
    size_t n = 0;
    if (kid_decoded(kid, raw, &n) && scitt_span_eq(own, scitt_span_make(raw, n))) {
        return true; /* a text kid, the key's kid the raw bytes it names */
    }
    return kid_decoded(own, raw, &n) && scitt_span_eq(kid, scitt_span_make(raw, n));
}

const scitt_cose_key *scitt_cose_keyset_find(const scitt_cose_keyset *s, scitt_span kid)
{
    for (size_t i = 0; i < s->n; i++) {
        if (scitt_span_eq(scitt_cose_key_kid(s->keys[i]), kid)) {
            return s->keys[i];
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        if (scitt_cose_key_matches_kid(s->keys[i], kid)) {
            return s->keys[i];
        }
    }
    return NULL;
}

scitt_err scitt_cose_keyset_from_cose(scitt_span cbor, scitt_cose_keyset **out)
{
    *out = NULL;
    if (cbor.len > SCITT_LIMIT_KEY_TEXT) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, cbor);
    size_t n;
    scitt_err e = scitt_cbor_read_array(&r, &n);
    if (e == SCITT_OK && n > SCITT_LIMIT_KEYSET_KEYS) {
        e = SCITT_ERR_TOO_LARGE;
    }
    scitt_cose_keyset *s = NULL;
    if (e == SCITT_OK) {
        e = scitt_cose_keyset_new(&s);
    }
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_cose_key *k = NULL;
        e = key_from_reader(&r, &k);
        if (e == SCITT_OK) {
            e = scitt_cose_keyset_add(s, k);
        }
        scitt_cose_key_free(k);
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    if (e != SCITT_OK) {
        scitt_cose_keyset_free(s);
        return e == SCITT_ERR_BAD_TYPE ? SCITT_ERR_KEY_MALFORMED : e;
    }
    *out = s;
    return SCITT_OK;
}

scitt_err scitt_cose_keyset_encode_cose(const scitt_cose_keyset *s, scitt_cbor_writer *w)
{
    scitt_cbor_put_array(w, s->n);
    for (size_t i = 0; i < s->n; i++) {
        scitt_err e = scitt_cose_key_encode_cose(s->keys[i], false, w);
        if (e != SCITT_OK && e != SCITT_ERR_BUFFER_TOO_SMALL) {
            return e;
        }
    }
    return w->err;
}
