/*
 * Fuzz target: service bundle verification (bundle and virtual-evidence parsing, SNP report and
 * PEM endorsement parsing behind it, identity document parsing), and virtual evidence parsed on
 * its own. Virtual evidence is allowed so the whole path is reachable; the time is fixed inside
 * the sample certificates' validity.
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
    /* The whole input as virtual evidence: what parses is exactly what the encoder writes, so
     * two different byte strings can never claim the same measurement and binding. */
    scitt_attest_virtual v;
    if (scitt_attest_virtual_parse(scitt_span_make(data, size), &v) == SCITT_OK) {
        scitt_dynbuf back;
        scitt_dynbuf_init(&back, 0);
        if (scitt_attest_virtual_evidence(v.measurement, v.report_data, &back) != SCITT_OK ||
            !scitt_span_eq(scitt_span_make(back.ptr, back.len), scitt_span_make(data, size))) {
            __builtin_trap();
        }
        scitt_dynbuf_clear(&back);
    }
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
