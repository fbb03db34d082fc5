/*
 * What the two OpenSSL adapters of tee/ (x509_openssl.c for AMD, dcap_openssl.c for Intel) share:
 * the parsed certificate and the conversion of its times. Only those two files include it, so
 * OpenSSL types stay out of the rest of tee/.
 */
#ifndef SCITT_TEE_X509_INT_H
#define SCITT_TEE_X509_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

struct scitt__x509 {
    X509 *x; /* owned; never changed after parsing, so readable by several threads */
};

/* @p t as Unix seconds (UTC, no time zone or locale involved); false when @p t is unusable. */
bool scitt__asn1_time_unix(const ASN1_TIME *t, int64_t *out);

#endif
