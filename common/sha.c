/*
 * SHA-2 through OpenSSL's low-level block functions (SHAxxx_Init/Update/Final; in OpenSSL 3 the
 * one-shot SHA256() fetches an EVP method on every call). They cannot fail and do not allocate,
 * which is what the Merkle hot path needs; EVP would add a dispatch and a per-thread context for
 * the same assembly. This is the only file that uses the low-level API.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "scitt/base.h"

#include <openssl/sha.h>

void scitt_sha256(const void *data, size_t len, uint8_t out[SCITT_SHA256_LEN])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void scitt_sha256_v(const scitt_span *parts, size_t n, uint8_t out[SCITT_SHA256_LEN])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    for (size_t i = 0; i < n; i++) {
        SHA256_Update(&c, parts[i].ptr, parts[i].len);
    }
    SHA256_Final(out, &c);
}

void scitt_sha384(const void *data, size_t len, uint8_t out[SCITT_SHA384_LEN])
{
    SHA512_CTX c;
    SHA384_Init(&c);
    SHA384_Update(&c, data, len);
    SHA384_Final(out, &c);
}

void scitt_sha512(const void *data, size_t len, uint8_t out[SCITT_SHA512_LEN])
{
    SHA512_CTX c;
    SHA512_Init(&c);
    SHA512_Update(&c, data, len);
    SHA512_Final(out, &c);
}
