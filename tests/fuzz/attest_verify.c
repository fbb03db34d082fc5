/*
 * Fuzz target: service bundle verification (bundle and virtual-evidence parsing, SNP report and
 * PEM endorsement parsing behind it, identity document parsing). Virtual evidence is allowed so
 * the whole path is reachable; the time is fixed inside the sample certificates' validity.
 */
#include <string.h>

#include "scitt/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    o.now = 1751328000;
    o.allow_insecure_virtual = true;
    scitt_attest_result r;
    if (scitt_attest_verify(scitt_span_make(data, size), &o, &r) == SCITT_OK) {
        /* only the two platforms verify, and virtual evidence is always reported insecure */
        bool virt = strcmp(r.platform, "virtual") == 0;
        if ((!virt && strcmp(r.platform, "snp") != 0) || virt != r.insecure) {
            __builtin_trap();
        }
    }
    return 0;
}
