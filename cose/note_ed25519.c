/* The OpenSSL adapter for signed notes: raw Ed25519 keys in, signatures out. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "note_internal.h"

scitt_err scitt_note_ed25519_public(const uint8_t seed[SCITT_NOTE_ED25519_KEY_LEN],
                                    uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN])
{
    if (seed == NULL || pub == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    size_t len = 32;
    scitt_err e = SCITT_ERR_CRYPTO;
    if (pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 && len == 32) {
        e = SCITT_OK;
    }
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return e;
}

struct scitt_note_key {
    EVP_PKEY *pk;
    uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN];
};

scitt_err scitt_note_key_new(const uint8_t seed[SCITT_NOTE_ED25519_KEY_LEN], scitt_note_key **out)
{
    if (seed == NULL || out == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    *out = NULL;
    scitt_note_key *k = scitt_calloc(1, sizeof(*k));
    if (k == NULL) {
        return SCITT_ERR_NOMEM;
    }
    k->pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    size_t len = sizeof(k->pub);
    if (k->pk == NULL || EVP_PKEY_get_raw_public_key(k->pk, k->pub, &len) != 1 || len != 32) {
        scitt_note_key_free(k);
        ERR_clear_error();
        return SCITT_ERR_CRYPTO;
    }
    *out = k;
    return SCITT_OK;
}

void scitt_note_key_free(scitt_note_key *k)
{
    if (k != NULL) {
        EVP_PKEY_free(k->pk);
        scitt_free(k);
    }
}

/* Ed25519 is a one-shot algorithm: no digest, the whole message in one call. */
static scitt_err sign_with(EVP_PKEY *pk, scitt_span msg, uint8_t sig[64])
{
    scitt_err e = SCITT_ERR_CRYPTO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t len = 64;
    if (md != NULL && pk != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
        EVP_DigestSign(md, sig, &len, msg.ptr, msg.len) == 1 && len == 64) {
        e = SCITT_OK;
    }
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return e;
}

scitt_err scitt__ed25519_sign_key(const scitt_note_key *k, scitt_span msg, uint8_t sig[64],
                                  uint8_t pub[32])
{
    memcpy(pub, k->pub, sizeof(k->pub));
    return sign_with(k->pk, msg, sig);
}

scitt_err scitt__ed25519_sign(const uint8_t seed[32], scitt_span msg, uint8_t sig[64])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    scitt_err e = sign_with(pk, msg, sig);
    EVP_PKEY_free(pk);
    return e;
}

scitt_err scitt__ed25519_verify(const uint8_t pub[32], scitt_span msg, const uint8_t sig[64])
{
    scitt_err e = SCITT_ERR_NOMEM;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    if (md != NULL && pk != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1) {
        e = EVP_DigestVerify(md, sig, 64, msg.ptr, msg.len) == 1 ? SCITT_OK : SCITT_ERR_SIGNATURE;
    } else if (pk == NULL && md != NULL) {
        /* A 32-byte string that is not a curve point: no signature can verify under it. */
        e = SCITT_ERR_SIGNATURE;
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return e;
}
