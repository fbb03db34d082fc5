/*
 * Fuzz target: SNP report files for `scitt sign --snp-report` (raw, hex or base64). Invariant: a
 * decoded report parses strictly.
 */
#include "parsers.h"
#include "scitt/tee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t report[1184];
    char why[256];
    if (snp_file_decode(scitt_span_make(data, size), report, why, sizeof(why)) == SCITT_OK) {
        scitt_snp_report r;
        scitt_tee_reason rs;
        if (scitt_snp_report_parse(scitt_span_make(report, sizeof(report)), &r, &rs) != SCITT_OK) {
            __builtin_trap();
        }
    }
    return 0;
}
