/*
 * Fuzz target: receipt verification. The input is a receipt, checked as an inclusion receipt for
 * the seeds' leaf 4 and as a consistency receipt from their size-4 root, against the fixed service
 * key; then as a stored tree head (head_load on its protected header and signature). Invariant: a
 * verified receipt's root re-derives from the info it reports.
 */
#include <string.h>

#include "cose_fuzz.h"
#include "scitt/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t leaf[32], root4[32];
    size_t n;
    fuzz_hex(FUZZ_LEAF4, leaf, sizeof(leaf), &n);
    fuzz_hex(FUZZ_ROOT4, root4, sizeof(root4), &n);
    const scitt_cose_keyset *keys = fuzz_service_keys();
    scitt_span in = scitt_span_make(data, size);
    scitt_receipt_info info;
    if (scitt_receipt_verify_inclusion_leaf(in, leaf, keys, 0, &info) == SCITT_OK &&
        (info.leaf_index >= info.tree_size || info.vds != 1)) {
        __builtin_trap();
    }
    if (scitt_receipt_verify_consistency(in, 4, root4, keys, 0, &info) == SCITT_OK &&
        (info.old_size != 4 || info.tree_size <= 4)) {
        __builtin_trap();
    }
    fuzz_ignore(scitt_receipt_verify_inclusion(in, scitt_span_make(data, size / 2), keys, 0, NULL));
    /* The same bytes as a stored head: protected = first half, signature = second half. */
    scitt_receipt_head h;
    if (size >= 2) {
        fuzz_ignore(scitt_receipt_head_load(scitt_span_make(data, size / 2),
                                            scitt_span_make(data + size / 2, size - size / 2), leaf,
                                            NULL, &h));
    }
    return 0;
}
