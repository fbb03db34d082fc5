/*
 * Fuzz target: CRL bundles, as a registration policy's "crls" carries them (PEM). The input is
 * added to a trust store holding the fixed root; whatever it is, adding either succeeds or adds
 * nothing, and the fixed chain is then validated (with revocation checking once a CRL is in).
 * A store to which nothing was added validates the fixed chain exactly as before.
 */
#include <string.h>

#include "scitt/x509.h"
#include "x509_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_x509_roots *roots = NULL;
    if (scitt_x509_roots_new(&roots) != SCITT_OK ||
        scitt_x509_roots_add_der(roots, scitt_span_make(fixture_root, sizeof(fixture_root))) !=
            SCITT_OK) {
        __builtin_trap();
    }
    size_t added = 0;
    scitt_err e = scitt_x509_roots_add_crl_pem(roots, scitt_span_make(data, size), &added);
    if ((e == SCITT_OK) != (added > 0)) {
        __builtin_trap();
    }
    const scitt_span chain[2] = {scitt_span_make(fixture_leaf, sizeof(fixture_leaf)),
                                 scitt_span_make(fixture_inter, sizeof(fixture_inter))};
    scitt_x509_time none = scitt_x509_time_none(), at = scitt_x509_time_at(1800000000);
    const char *why = NULL;
    scitt_err v1 = scitt_x509_verify_chain(roots, chain, 2, &none, &why);
    scitt_err v2 = scitt_x509_verify_chain(roots, chain, 2, &at, &why);
    /* Without a CRL in the store the fixed chain validates as it always does. */
    if (e != SCITT_OK && (v1 != SCITT_OK || v2 != SCITT_OK)) {
        __builtin_trap();
    }
    scitt_x509_roots_free(roots);
    return 0;
}
