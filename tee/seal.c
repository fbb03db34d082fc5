/* Sealing service keys at rest: AES-256-GCM under a TEE-derived key (include/scitt/attest.h). */
#include "scitt/attest.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

static const uint8_t magic[8] = {'S', 'C', 'S', 'E', 'A', 'L', '0', '1'};
#define NONCE_LEN 12
#define TAG_LEN   16

scitt_err scitt_seal(const uint8_t key[SCITT_SEAL_KEY_LEN], scitt_span plaintext, scitt_span aad,
                     scitt_dynbuf *out)
{
    if (plaintext.len > INT32_MAX || aad.len > INT32_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    size_t start = out->len;
    uint8_t *dst = scitt_dynbuf_reserve(out, sizeof(magic) + NONCE_LEN + plaintext.len + TAG_LEN);
    if (!dst) {
        return out->err;
    }
    memcpy(dst, magic, sizeof(magic));
    uint8_t *nonce = dst + sizeof(magic), *ct = nonce + NONCE_LEN, *tag = ct + plaintext.len;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = c && RAND_bytes(nonce, NONCE_LEN) == 1 &&
              EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
              (aad.len == 0 || EVP_EncryptUpdate(c, NULL, &n, aad.ptr, (int)aad.len) == 1) &&
              EVP_EncryptUpdate(c, ct, &n, plaintext.ptr, (int)plaintext.len) == 1 &&
              EVP_EncryptFinal_ex(c, ct + n, &n) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        scitt_wipe(out->ptr + start, out->len - start);
        out->len = start;
        return SCITT_ERR_CRYPTO;
    }
    return SCITT_OK;
}

bool scitt_is_sealed(scitt_span blob)
{
    return blob.len >= sizeof(magic) + NONCE_LEN + TAG_LEN &&
           memcmp(blob.ptr, magic, sizeof(magic)) == 0;
}

scitt_err scitt_unseal(const uint8_t key[SCITT_SEAL_KEY_LEN], scitt_span sealed, scitt_span aad,
                       scitt_dynbuf *out)
{
    if (!scitt_is_sealed(sealed)) {
        return SCITT_ERR_MALFORMED;
    }
    if (sealed.len > INT32_MAX || aad.len > INT32_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    const uint8_t *nonce = sealed.ptr + sizeof(magic), *ct = nonce + NONCE_LEN;
    size_t ct_len = sealed.len - sizeof(magic) - NONCE_LEN - TAG_LEN;
    const uint8_t *tag = ct + ct_len;
    size_t start = out->len;
    uint8_t *dst = scitt_dynbuf_reserve(out, ct_len);
    if (!dst && ct_len) {
        return out->err;
    }
    uint8_t tag_copy[TAG_LEN];
    memcpy(tag_copy, tag, TAG_LEN);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
              (aad.len == 0 || EVP_DecryptUpdate(c, NULL, &n, aad.ptr, (int)aad.len) == 1) &&
              EVP_DecryptUpdate(c, dst, &n, ct, (int)ct_len) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag_copy) == 1;
    int fin = 0;
    ok = ok && EVP_DecryptFinal_ex(c, dst ? dst + n : NULL, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        /* nothing of a blob that does not authenticate is left behind */
        scitt_wipe(out->ptr + start, out->len - start);
        out->len = start;
        return SCITT_ERR_INTEGRITY;
    }
    return SCITT_OK;
}
