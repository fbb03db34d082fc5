/*
 * Attested key release (include/scitt/keyrel.h): the join request, its verification against
 * TEE evidence, and the keystore blob encrypted to the joiner's fresh P-256 key (ECDH, HKDF-SHA256,
 * AES-256-GCM). Pure: no I/O, the caller supplies the time and the challenge bookkeeping.
 */
#include "scitt/keyrel.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "scitt/cbor.h"
#include "tee_internal.h"

static const uint8_t answer_magic[8] = {'S', 'C', 'K', 'R', 'E', 'L', '0', '1'};
static const char label[] = "scittd-key-release-v1";

struct scitt_keyrel_key {
    EVP_PKEY *pkey;
    uint8_t pub[SCITT_KEYREL_PUB_LEN];
};

/* ---- the join request ---------------------------------------------------------------------- */

scitt_err scitt_keyrel_request_encode(const uint8_t challenge[SCITT_KEYREL_CHALLENGE_LEN],
                                      const uint8_t pub[SCITT_KEYREL_PUB_LEN], scitt_dynbuf *out)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 3);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_cstr(&w, SCITT_KEYREL_TYPE);
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_bytes(&w, scitt_span_make(challenge, SCITT_KEYREL_CHALLENGE_LEN));
    scitt_cbor_put_uint(&w, 3);
    scitt_cbor_put_bytes(&w, scitt_span_make(pub, SCITT_KEYREL_PUB_LEN));
    return scitt_cbor_writer_finish(&w, NULL);
}

/* An EVP_PKEY for an uncompressed P-256 point; NULL when it is not a point on the curve. */
static EVP_PKEY *p256_public(const uint8_t pub[SCITT_KEYREL_PUB_LEN])
{
    if (pub[0] != 0x04) {
        return NULL; /* uncompressed form only: one encoding per key */
    }
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub,
                                          SCITT_KEYREL_PUB_LEN),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    /* fromdata decodes the point and refuses one that is not on the curve (test_keyrel) */
    return pkey;
}

static scitt_err read_fixed(scitt_cbor_reader *r, uint8_t *out, size_t len)
{
    scitt_span s;
    scitt_err e = scitt_cbor_read_bytes(r, &s);
    if (e == SCITT_OK && s.len != len) {
        e = SCITT_ERR_MALFORMED;
    }
    if (e == SCITT_OK) {
        memcpy(out, s.ptr, len);
    }
    return e;
}

scitt_err scitt_keyrel_request_parse(scitt_span doc, scitt_keyrel_request *out)
{
    memset(out, 0, sizeof(*out));
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, doc);
    size_t n;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    if (e == SCITT_OK && n != 3) {
        e = SCITT_ERR_MALFORMED;
    }
    for (uint64_t want = 1; e == SCITT_OK && want <= 3; want++) {
        uint64_t lab;
        e = scitt_cbor_read_uint(&r, &lab);
        if (e == SCITT_OK && lab != want) {
            e = SCITT_ERR_MALFORMED; /* deterministic order: 1, 2, 3 */
        }
        if (e != SCITT_OK) {
            break;
        }
        if (want == 1) {
            scitt_span t;
            e = scitt_cbor_read_text(&r, &t);
            if (e == SCITT_OK && !scitt_span_eq_str(t, SCITT_KEYREL_TYPE)) {
                e = SCITT_ERR_MALFORMED;
            }
        } else if (want == 2) {
            e = read_fixed(&r, out->challenge, SCITT_KEYREL_CHALLENGE_LEN);
        } else {
            e = read_fixed(&r, out->pub, SCITT_KEYREL_PUB_LEN);
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK) {
        EVP_PKEY *k = p256_public(out->pub);
        e = k ? SCITT_OK : SCITT_ERR_MALFORMED;
        EVP_PKEY_free(k);
    }
    if (e != SCITT_OK) {
        memset(out, 0, sizeof(*out));
        return e;
    }
    scitt_sha256(doc.ptr, doc.len, out->digest);
    return SCITT_OK;
}

scitt_err scitt_keyrel_join_parse(scitt_span body, scitt_keyrel_join *out)
{
    memset(out, 0, sizeof(*out));
    if (body.len > SCITT_KEYREL_REQUEST_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_err e = scitt_attest_bundle_parse(body, &out->bundle);
    e = e ? e : scitt_keyrel_request_parse(out->bundle.identity, &out->request);
    if (e != SCITT_OK) {
        memset(out, 0, sizeof(*out));
    }
    return e;
}

scitt_err scitt_keyrel_join_verify(const scitt_keyrel_join *join, const scitt_attest_opts *opts,
                                   scitt_attest_result *out)
{
    scitt_attest_opts o = *opts;
    o.nonce = scitt_span_make(join->request.challenge, SCITT_KEYREL_CHALLENGE_LEN);
    return scitt__attest_verify_bound(&join->bundle, &o, out);
}

/* ---- the joiner's key ----------------------------------------------------------------------- */

static scitt_err public_of(EVP_PKEY *pkey, uint8_t out[SCITT_KEYREL_PUB_LEN])
{
    size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out,
                                        SCITT_KEYREL_PUB_LEN, &n) != 1 ||
        n != SCITT_KEYREL_PUB_LEN || out[0] != 0x04) {
        return SCITT_ERR_CRYPTO;
    }
    return SCITT_OK;
}

static EVP_PKEY *p256_generate(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

scitt_err scitt_keyrel_key_new(scitt_keyrel_key **out)
{
    *out = NULL;
    scitt_keyrel_key *k = scitt_calloc(1, sizeof(*k));
    if (!k) {
        return SCITT_ERR_NOMEM;
    }
    k->pkey = p256_generate();
    scitt_err e = k->pkey ? public_of(k->pkey, k->pub) : SCITT_ERR_CRYPTO;
    if (e != SCITT_OK) {
        scitt_keyrel_key_free(k);
        return e;
    }
    *out = k;
    return SCITT_OK;
}

void scitt_keyrel_key_free(scitt_keyrel_key *k)
{
    if (k) {
        EVP_PKEY_free(k->pkey);
        scitt_free(k);
    }
}

void scitt_keyrel_key_public(const scitt_keyrel_key *k, uint8_t out[SCITT_KEYREL_PUB_LEN])
{
    memcpy(out, k->pub, SCITT_KEYREL_PUB_LEN);
}

/* ---- the answer ----------------------------------------------------------------------------- */

/* The AES-256 key both sides derive: HKDF-SHA256 over the ECDH secret of @p mine and @p peer. */
static scitt_err derive(EVP_PKEY *mine, EVP_PKEY *peer, const uint8_t digest[32],
                        const uint8_t eph_pub[SCITT_KEYREL_PUB_LEN],
                        const uint8_t joiner_pub[SCITT_KEYREL_PUB_LEN],
                        uint8_t key[SCITT_SEAL_KEY_LEN])
{
    uint8_t secret[32];
    size_t slen = sizeof(secret);
    EVP_PKEY_CTX *dh = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
    bool ok = dh && EVP_PKEY_derive_init(dh) == 1 && EVP_PKEY_derive_set_peer(dh, peer) == 1 &&
              EVP_PKEY_derive(dh, secret, &slen) == 1 && slen == sizeof(secret);
    EVP_PKEY_CTX_free(dh);
    uint8_t info[sizeof(label) - 1 + 2 * SCITT_KEYREL_PUB_LEN];
    memcpy(info, label, sizeof(label) - 1);
    memcpy(info + sizeof(label) - 1, eph_pub, SCITT_KEYREL_PUB_LEN);
    memcpy(info + sizeof(label) - 1 + SCITT_KEYREL_PUB_LEN, joiner_pub, SCITT_KEYREL_PUB_LEN);
    EVP_KDF *kdf = ok ? EVP_KDF_fetch(NULL, "HKDF", NULL) : NULL;
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret, sizeof(secret)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)digest, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info)),
        OSSL_PARAM_construct_end(),
    };
    ok = ok && kc && EVP_KDF_derive(kc, key, SCITT_SEAL_KEY_LEN, params) == 1;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    scitt_wipe(secret, sizeof(secret));
    return ok ? SCITT_OK : SCITT_ERR_CRYPTO;
}

static void make_aad(const uint8_t digest[32], uint8_t aad[sizeof(label) - 1 + 32])
{
    memcpy(aad, label, sizeof(label) - 1);
    memcpy(aad + sizeof(label) - 1, digest, 32);
}

scitt_err scitt_keyrel_wrap(const scitt_keyrel_request *req, scitt_span blob, scitt_dynbuf *out)
{
    if (blob.len > SCITT_KEYREL_BLOB_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    EVP_PKEY *peer = p256_public(req->pub);
    EVP_PKEY *eph = peer ? p256_generate() : NULL;
    uint8_t eph_pub[SCITT_KEYREL_PUB_LEN], key[SCITT_SEAL_KEY_LEN];
    uint8_t aad[sizeof(label) - 1 + 32];
    scitt_err e = !peer ? SCITT_ERR_MALFORMED : !eph ? SCITT_ERR_CRYPTO : public_of(eph, eph_pub);
    e = e ? e : derive(eph, peer, req->digest, eph_pub, req->pub, key);
    size_t start = out->len;
    if (e == SCITT_OK) {
        make_aad(req->digest, aad);
        scitt_dynbuf_put(out, answer_magic, sizeof(answer_magic));
        scitt_dynbuf_put(out, eph_pub, sizeof(eph_pub));
        e = out->err ? out->err : scitt_seal(key, blob, scitt_span_make(aad, sizeof(aad)), out);
        if (e != SCITT_OK && out->len >= start) {
            out->len = start;
        }
    }
    scitt_wipe(key, sizeof(key));
    EVP_PKEY_free(eph);
    EVP_PKEY_free(peer);
    return e;
}

scitt_err scitt_keyrel_unwrap(const scitt_keyrel_key *k, const uint8_t request_digest[32],
                              scitt_span answer, scitt_dynbuf *out)
{
    /* magic, ephemeral key, then at least a sealed blob's magic, nonce and tag */
    const size_t head = sizeof(answer_magic) + SCITT_KEYREL_PUB_LEN;
    if (answer.len < head + 8 + 12 + 16 || answer.len - head > SCITT_KEYREL_BLOB_MAX + 36 ||
        memcmp(answer.ptr, answer_magic, sizeof(answer_magic)) != 0) {
        return SCITT_ERR_MALFORMED;
    }
    const uint8_t *eph_pub = answer.ptr + sizeof(answer_magic);
    EVP_PKEY *peer = p256_public(eph_pub);
    if (!peer) {
        return SCITT_ERR_MALFORMED;
    }
    uint8_t key[SCITT_SEAL_KEY_LEN], aad[sizeof(label) - 1 + 32];
    scitt_err e = derive(k->pkey, peer, request_digest, eph_pub, k->pub, key);
    EVP_PKEY_free(peer);
    if (e == SCITT_OK) {
        make_aad(request_digest, aad);
        e = scitt_unseal(key, scitt_span_make(answer.ptr + head, answer.len - head),
                         scitt_span_make(aad, sizeof(aad)), out);
    }
    scitt_wipe(key, sizeof(key));
    return e;
}
