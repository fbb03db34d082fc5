/*
 * Fuzz target: COSE_Sign1 decode (tagged SCITT mode, generic mode, legacy mode), the header model,
 * the SCITT statement profile, the registered form and signature verification with fixed keys.
 * Invariants: the registered form is exactly as long as announced and decodes again; a message
 * that verifies still verifies from its registered form.
 */
#include <stdlib.h>
#include <string.h>

#include "cose_fuzz.h"
#include "scitt/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static scitt_cose_key *issuer, *service;
    static scitt_cose_sign1 *m, *r;
    if (!issuer) {
        issuer = fuzz_key(FUZZ_ISSUER_KEY);
        service = fuzz_key(FUZZ_SERVICE_KEY);
        m = malloc(sizeof(*m));
        r = malloc(sizeof(*r));
    }
    static const unsigned modes[] = {0, SCITT_SIGN1_UNTAGGED | SCITT_SIGN1_UNPROTECTED_ALG,
                                     SCITT_SIGN1_LEGACY};
    for (size_t i = 0; i < 3; i++) {
        if (scitt_cose_sign1_decode(scitt_span_make(data, size), modes[i], m) != SCITT_OK) {
            continue;
        }
        fuzz_ignore(scitt_cose_check_statement(m));
        scitt_span payload = scitt_span_str("{\"a\":1}");
        const scitt_span *detached = m->detached ? &payload : NULL;
        scitt_err v = scitt_cose_sign1_verify(m, issuer, scitt_span_make(NULL, 0), detached);
        fuzz_ignore(scitt_cose_sign1_verify(m, service, scitt_span_make(NULL, 0), detached));
        size_t len = scitt_receipt_entry_len(m);
        uint8_t *entry = malloc(len);
        scitt_cbor_writer w;
        scitt_cbor_writer_init(&w, entry, len);
        if (scitt_receipt_entry(m, &w) != SCITT_OK || w.len != len) {
            __builtin_trap();
        }
        scitt_err e = scitt_cose_sign1_decode(scitt_span_make(entry, len), modes[i], r);
        if (e == SCITT_OK && v == SCITT_OK &&
            scitt_cose_sign1_verify(r, issuer, scitt_span_make(NULL, 0), detached) != SCITT_OK) {
            __builtin_trap();
        }
        free(entry);
    }
    return 0;
}
