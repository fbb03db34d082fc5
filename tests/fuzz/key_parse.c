/*
 * Fuzz target: key parsing. The input is tried as a COSE_Key, a COSE_Key_Set, a JWK, a JWKS, PEM,
 * DER and a DER certificate. Invariant: every parsed key survives a COSE_Key round trip with the
 * same thumbprint and kid.
 */
#include <string.h>

#include "scitt/cose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const scitt_cose_key *k)
{
    uint8_t buf[4096];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cose_key *back = NULL;
    bool priv = scitt_cose_key_has_private(k);
    if (scitt_cose_key_encode_cose(k, priv, &w) != SCITT_OK ||
        scitt_cose_key_from_cose(scitt_span_make(buf, w.len), &back) != SCITT_OK) {
        __builtin_trap();
    }
    uint8_t a[32], b[32];
    scitt_cose_key_thumbprint(k, a);
    scitt_cose_key_thumbprint(back, b);
    if (memcmp(a, b, 32) != 0 || !scitt_span_eq(scitt_cose_key_kid(k), scitt_cose_key_kid(back))) {
        __builtin_trap();
    }
    scitt_cose_key_free(back);
    scitt_dynbuf jwk;
    scitt_dynbuf_init(&jwk, 0);
    if (scitt_cose_key_encode_jwk(k, priv, &jwk) != SCITT_OK) {
        __builtin_trap();
    }
    scitt_dynbuf_clear(&jwk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    scitt_cose_key *k = NULL;
    scitt_err (*single[])(scitt_span, scitt_cose_key **) = {
        scitt_cose_key_from_cose, scitt_cose_key_from_jwk, scitt_cose_key_from_pem,
        scitt_cose_key_from_der, scitt_cose_key_from_cert_der};
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        if (single[i](in, &k) == SCITT_OK) {
            round_trip(k);
            scitt_cose_key_free(k);
        }
    }
    scitt_cose_keyset *s = NULL;
    if (scitt_cose_keyset_from_cose(in, &s) == SCITT_OK) {
        for (size_t i = 0; i < scitt_cose_keyset_count(s); i++) {
            round_trip(scitt_cose_keyset_at(s, i));
        }
        scitt_cose_keyset_free(s);
    }
    if (scitt_cose_keyset_from_jwks(in, &s) == SCITT_OK) {
        scitt_cose_keyset_free(s);
    }
    return 0;
}
