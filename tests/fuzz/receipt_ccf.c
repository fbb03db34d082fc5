/*
 * Fuzz target: CCF ledger receipts (vds 2). The input is [u16 entry length][entry][receipt]: the
 * receipt is verified for the entry through the vds table against the fixed service key, and its
 * bytes are also run directly as a CCF proof. Invariant: a verified CCF receipt reports vds 2 and
 * no index or size. The same bytes are run as a consistency receipt and as a draft -06
 * consistency proof, with an entry of 32 + k bytes read as the trusted older root and the older
 * size k. Invariant: a proof that passes for size k gives the same roots without a size.
 */
#include <string.h>

#include "cose_fuzz.h"
#include "cose_internal.h"
#include "scitt/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t n = (size_t)data[0] << 8 | data[1];
    if (n > size - 2) {
        return 0;
    }
    scitt_span entry = scitt_span_make(data + 2, n);
    scitt_span rest = scitt_span_make(data + 2 + n, size - 2 - n);
    scitt_receipt_info info;
    if (scitt_receipt_verify_inclusion(rest, entry, fuzz_service_keys(), 0, &info) == SCITT_OK &&
        info.vds == 2 && (info.tree_size != 0 || info.leaf_index != 0)) {
        __builtin_trap();
    }
    uint8_t root[32];
    scitt_span ev;
    if (scitt__ccf_inclusion_root(&entry, 1, rest, root, &ev) == SCITT_OK &&
        (ev.len == 0 || ev.len > 1024)) {
        __builtin_trap();
    }
    uint8_t older[32], newer[32], o2[32], n2[32];
    uint64_t old_size = n > 32 ? n - 32 : 0;
    if (scitt__ccf_consistency_roots(rest, old_size, older, newer) == SCITT_OK &&
        (scitt__ccf_consistency_roots(rest, 0, o2, n2) != SCITT_OK || memcmp(older, o2, 32) ||
         memcmp(newer, n2, 32))) {
        __builtin_trap();
    }
    if (n >= 32 &&
        scitt_receipt_verify_consistency(rest, old_size, entry.ptr, fuzz_service_keys(), 0,
                                         &info) == SCITT_OK &&
        info.vds == 2 && info.tree_size != 0) {
        __builtin_trap();
    }
    return 0;
}
