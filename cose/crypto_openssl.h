/*
 * The key object as the two OpenSSL adapter files see it (crypto_key.c builds and exports keys,
 * crypto_sig.c signs and verifies). Nothing else includes this header, so OpenSSL types stay out
 * of the rest of the module and out of every public header.
 */
#ifndef SCITT_CRYPTO_OPENSSL_H
#define SCITT_CRYPTO_OPENSSL_H

#include <pthread.h>
#include <stdatomic.h>

#include <openssl/evp.h>

#include "cose_internal.h"

/** Contexts kept per key and reused, so a verification neither allocates nor fetches. */
#define SCITT__POOL_MAX 16u

typedef struct scitt__sigctx {
    struct scitt__sigctx *next;
    int64_t alg;
    bool sign;
    EVP_PKEY_CTX *pctx; /* initialised for sign or verify with the padding of `alg` */
    EVP_MD_CTX *mctx;   /* digests (SHA-384/512) and EdDSA one-shot operations */
} scitt__sigctx;

struct scitt_cose_key {
    atomic_uint refs;
    EVP_PKEY *pkey;
    bool priv;
    int64_t alg; /* bound algorithm, 0 = none */
    unsigned bits;
    scitt__pub pub;
    uint8_t thumb[SCITT_SHA256_LEN];
    uint8_t kid[SCITT_LIMIT_KID_BYTES];
    size_t kid_len;
    bool kid_text; /* the kid came from a JWK string: publish it as that string again */
    uint8_t kid_alias[SCITT_LIMIT_KID_BYTES]; /* a base64url JWK kid, decoded */
    size_t kid_alias_len;
    pthread_mutex_t pool_lock;
    scitt__sigctx *pool;
    unsigned pool_n;
};

/** Frees every pooled context of @p k (crypto_sig.c). */
void scitt__sig_pool_clear(scitt_cose_key *k);

#endif /* SCITT_CRYPTO_OPENSSL_H */
