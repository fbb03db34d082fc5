/*
 * Fuzz target: C2SP entry bundles as `scitt audit` splits them. The first byte chooses how many
 * entries the tile expects. Invariant: accepted entries tile the rest of the input exactly.
 */
#include "parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t want = (size_t)data[0] + 1;
    scitt_span e[256];
    scitt_span in = scitt_span_make(data + 1, size - 1);
    if (bundle_split(in, want, e) == SCITT_OK) {
        size_t total = 0;
        for (size_t i = 0; i < want; i++) {
            total += 2 + e[i].len;
            if (e[i].ptr < in.ptr || e[i].ptr + e[i].len > in.ptr + in.len) {
                __builtin_trap();
            }
        }
        if (total != in.len) {
            __builtin_trap();
        }
    }
    return 0;
}
