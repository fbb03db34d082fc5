/*
 * A tree-head signer for the storage tests: a real Ed25519 signature (OpenSSL) over the size,
 * root and time, stored in the head's blobs. The storage layer treats the blobs as opaque; the
 * COSE receipt signer of the service layer is tested with the service. verify() recomputes and
 * checks the signature, so tampering with a stored head is detected at open.
 */
#ifndef SCITT_TEST_SIGNER_H
#define SCITT_TEST_SIGNER_H

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "scitt/ledger.h"

typedef struct test_signer {
    EVP_PKEY *key;
    int sign_calls;
    int fail_sign; /* when non-zero the next sign fails with this error */
} test_signer;

static void ts_message(uint64_t size, const uint8_t root[32], int64_t time_ms, uint8_t msg[48])
{
    for (int i = 0; i < 8; i++) {
        msg[i] = (uint8_t)(size >> (56 - 8 * i));
        msg[40 + i] = (uint8_t)((uint64_t)time_ms >> (56 - 8 * i));
    }
    memcpy(msg + 8, root, 32);
}

static scitt_err ts_sign(void *ctx, uint64_t size, const uint8_t root[32], int64_t time_ms,
                         scitt_dynbuf *prot, scitt_dynbuf *sig, scitt_dynbuf *cp)
{
    test_signer *t = ctx;
    t->sign_calls++;
    if (t->fail_sign) {
        scitt_err e = (scitt_err)t->fail_sign;
        t->fail_sign = 0;
        return e;
    }
    uint8_t msg[48], s[64];
    size_t slen = sizeof(s);
    ts_message(size, root, time_ms, msg);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestSignInit(m, NULL, NULL, NULL, t->key) == 1 &&
             EVP_DigestSign(m, s, &slen, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(m);
    if (!ok) {
        return SCITT_ERR_CRYPTO;
    }
    scitt_dynbuf_put(prot, "test-protected", 14);
    scitt_dynbuf_put(sig, s, slen);
    scitt_dynbuf_printf(cp, "test.example/log\n%llu\n", (unsigned long long)size);
    return SCITT_OK;
}

static scitt_err ts_verify(void *ctx, const scitt_tree_head *h)
{
    test_signer *t = ctx;
    uint8_t msg[48];
    ts_message(h->size, h->root, h->time_ms, msg);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestVerifyInit(m, NULL, NULL, NULL, t->key) == 1 &&
             EVP_DigestVerify(m, h->receipt_signature.ptr, h->receipt_signature.len, msg,
                              sizeof(msg)) == 1;
    EVP_MD_CTX_free(m);
    return ok ? SCITT_OK : SCITT_ERR_SIGNATURE;
}

/* A fixed key so a reopened ledger (or another process) verifies the same heads. */
static void ts_init(test_signer *t, scitt_ledger_signer *s)
{
    static const uint8_t seed[32] = {7, 7, 7, 7, 1, 2, 3, 4};
    memset(t, 0, sizeof(*t));
    t->key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
    s->sign = ts_sign;
    s->verify = ts_verify;
    s->ctx = t;
}

static void ts_clear(test_signer *t)
{
    EVP_PKEY_free(t->key);
}

#endif
