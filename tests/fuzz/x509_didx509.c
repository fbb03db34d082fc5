/*
 * Fuzz target: did:x509 strings. Parses the input and resolves it against a fixed valid chain,
 * checking that both agree on syntax errors and that a resolved DID really pins the chain.
 * Also round-trips the input through the percent-encoding functions.
 */
#include <string.h>

#include "scitt/x509.h"
#include "x509_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span did = scitt_span_make(data, size);
    scitt_didx509 d;
    scitt_err pe = scitt_didx509_parse(did, &d, NULL);

    scitt_span chain[3] = {scitt_span_make(fixture_leaf, sizeof(fixture_leaf)),
                           scitt_span_make(fixture_inter, sizeof(fixture_inter)),
                           scitt_span_make(fixture_root, sizeof(fixture_root))};
    scitt_x509_time none = scitt_x509_time_none();
    scitt_didx509_result res;
    const char *why = NULL;
    scitt_err re = scitt_didx509_resolve(did, chain, 3, &none, &res, &why);
    if (pe != SCITT_OK && re != pe) {
        __builtin_trap(); /* resolution must fail exactly as parsing did */
    }
    if (re != SCITT_OK && why == NULL) {
        __builtin_trap();
    }
    if (re == SCITT_OK) {
        /* Resolved: the pinned certificate is a CA of the chain and the key is the leaf's. */
        uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
        size_t n;
        if (res.ca_index < 1 || res.ca_index > 2 ||
            scitt_x509_fingerprint(chain[res.ca_index], d.alg, fp, &n) != SCITT_OK ||
            n != d.fingerprint_len || memcmp(fp, d.fingerprint, n) != 0 ||
            res.leaf_spki.ptr < fixture_leaf ||
            res.leaf_spki.ptr + res.leaf_spki.len > fixture_leaf + sizeof(fixture_leaf)) {
            __builtin_trap();
        }
    }

    /* Percent-encoding: whatever decodes must encode and decode back to the same bytes. */
    static uint8_t dec[8192], dec2[8192];
    static char enc[8192 * 3 + 1];
    size_t dn, dn2;
    if (size <= 8192 && scitt_didx509_pct_decode(did, dec, sizeof(dec), &dn) == SCITT_OK) {
        if (scitt_didx509_pct_encode(scitt_span_make(dec, dn), enc, sizeof(enc)) != SCITT_OK ||
            scitt_didx509_pct_decode(scitt_span_make(enc, strlen(enc)), dec2, sizeof(dec2), &dn2) !=
                SCITT_OK ||
            dn2 != dn || memcmp(dec, dec2, dn) != 0) {
            __builtin_trap();
        }
    }
    return 0;
}
