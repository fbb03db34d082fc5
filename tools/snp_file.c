/*
 * SEV-SNP report files for `scitt sign --snp-report`: the raw ATTESTATION_REPORT as a guest reads
 * it (configfs-tsm outblob, /dev/sev-guest), or the same bytes as hex or base64 text, as tools and
 * test suites publish them. The report is parsed strictly; nothing is verified here (a statement
 * about a measurement is the issuer's claim, not evidence).
 */
#include "parsers.h"

#include <stdio.h>
#include <string.h>

#include "scitt/tee.h"

scitt_err snp_file_decode(scitt_span file, uint8_t report[1184], char *why, size_t cap)
{
    if (file.len > SNP_FILE_MAX) {
        snprintf(why, cap, "the report file is larger than %u bytes", SNP_FILE_MAX);
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_span raw = file;
    static uint8_t text[SNP_FILE_MAX], bin[SNP_FILE_MAX];
    if (file.len != SCITT_SNP_REPORT_LEN) {
        /* Text: drop white space, then hex (2368 digits) or base64. */
        size_t n = 0;
        for (size_t i = 0; i < file.len; i++) {
            uint8_t c = file.ptr[i];
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                text[n++] = c;
            }
        }
        size_t out = 0;
        scitt_span t = scitt_span_make(text, n);
        if (n == 2 * SCITT_SNP_REPORT_LEN) {
            if (scitt_hex_decode(t, bin, sizeof(bin), &out) != SCITT_OK) {
                out = 0;
            }
        } else if (scitt_base64_decode(t, bin, sizeof(bin), &out) != SCITT_OK) {
            out = 0;
        }
        if (out != SCITT_SNP_REPORT_LEN) {
            snprintf(why, cap,
                     "not an SNP report: expected 1184 bytes, or their hex or base64 text (%zu "
                     "bytes given)",
                     file.len);
            return SCITT_ERR_EVIDENCE_MALFORMED;
        }
        raw = scitt_span_make(bin, out);
    }
    scitt_snp_report r;
    scitt_tee_reason rs = SCITT_TEE_OK;
    scitt_err e = scitt_snp_report_parse(raw, &r, &rs);
    if (e != SCITT_OK) {
        snprintf(why, cap, "not a valid SNP report: %s", scitt_tee_reason_str(rs));
        return e;
    }
    memcpy(report, raw.ptr, SCITT_SNP_REPORT_LEN);
    return SCITT_OK;
}
