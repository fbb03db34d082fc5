/*
 * Fuzz target: 2023-era receipts (`scitt verify --legacy-labels`). The input is
 * [u16 entry length][entry][receipt]; the receipt is verified for the entry against the fixed
 * service key, and the whole input is also read as a legacy statement (receipts at -333, claims at
 * 13). Invariant: a verified receipt's index lies inside its tree.
 */
#include "cose_fuzz.h"
#include "parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2) {
        size_t n = (size_t)data[0] << 8 | data[1];
        if (n <= size - 2) {
            scitt__legacy_info info;
            if (scitt__legacy_verify_receipt(scitt_span_make(data + 2 + n, size - 2 - n),
                                             scitt_span_make(data + 2, n), fuzz_service_keys(),
                                             &info) == SCITT_OK &&
                info.leaf_index >= info.tree_size) {
                __builtin_trap();
            }
        }
    }
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    if (m &&
        scitt_cose_sign1_decode(scitt_span_make(data, size), SCITT_SIGN1_LEGACY, m) == SCITT_OK) {
        scitt_span r[16], iss, sub;
        size_t nr;
        fuzz_ignore(scitt__legacy_receipts(m, r, 16, &nr));
        fuzz_ignore(scitt__legacy_claims(m, &iss, &sub));
    }
    free(m);
    return 0;
}
