/*
 * Fuzz target: DCAP quotes. Every input goes through the strict parser and then through the whole
 * verifier with the real collateral of the GCP TDX sample (tests/data/dcap, read at start-up), so
 * the PEM chain, certificate, SGX-extension and QE-report paths are reached with mutated quotes.
 * Properties: a parsed quote's spans lie inside the input and add up to it; a quote that verifies
 * as authentic signs exactly the header and body of a genuine quote (nothing can be forged
 * without Intel's keys); a refusal reports a reason and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/dcap.h"

#ifndef SCITT_SOURCE_DIR_DEFAULT
#define SCITT_SOURCE_DIR_DEFAULT "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scitt_dcap_collateral *col;
static uint8_t genuine[2][1024]; /* signed parts of the two quotes this collateral fits */
static size_t genuine_len[2];

static size_t load(const char *rel, uint8_t *buf, size_t cap)
{
    const char *dir = getenv("SCITT_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/dcap/%s", dir ? dir : SCITT_SOURCE_DIR_DEFAULT,
             rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "dcap_quote: cannot open %s (set SCITT_SOURCE_DIR)\n", path);
        abort();
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void init(void)
{
    if (col) {
        return;
    }
    static uint8_t buf[16384];
    if (scitt_dcap_collateral_new(&col) != SCITT_OK) {
        abort();
    }
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        char rel[256];
        snprintf(rel, sizeof(rel), "tdx-automata/collateral/%s",
                 scitt_dcap_item_file((scitt_dcap_item)i));
        size_t n = load(rel, buf, sizeof(buf));
        if (scitt_dcap_collateral_set(col, (scitt_dcap_item)i, scitt_span_make(buf, n), NULL)) {
            abort();
        }
    }
    const char *quotes[2] = {"tdx-gcp/quote.bin", "tdx-automata/quote.bin"};
    for (int i = 0; i < 2; i++) {
        size_t n = load(quotes[i], buf, sizeof(buf));
        scitt_dcap_quote q;
        if (scitt_dcap_quote_parse(scitt_span_make(buf, n), &q, NULL) != SCITT_OK ||
            q.signed_part.len > sizeof(genuine[i])) {
            abort();
        }
        memcpy(genuine[i], q.signed_part.ptr, q.signed_part.len);
        genuine_len[i] = q.signed_part.len;
    }
}

static bool inside(scitt_span s, const uint8_t *data, size_t size)
{
    return s.len == 0 || (s.ptr >= data && s.len <= size && (size_t)(s.ptr - data) <= size - s.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    scitt_span in = scitt_span_make(data, size);
    scitt_dcap_quote q;
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err err = scitt_dcap_quote_parse(in, &q, &why);
    if (err == SCITT_OK) {
        if (why != SCITT_TEE_OK || (q.version != 3 && q.version != 4) ||
            q.quote_len + q.trailing_len != size || q.cert_data_type != SCITT_DCAP_CERT_PCK_CHAIN ||
            q.qe_report.len != 384 || !inside(q.signed_part, data, size) ||
            !inside(q.qe_report, data, size) || !inside(q.qe_auth_data, data, size) ||
            !inside(q.cert_data, data, size) ||
            q.signed_part.len != SCITT_DCAP_HEADER_LEN + (q.tee == SCITT_DCAP_TEE_TDX
                                                              ? SCITT_DCAP_TD_REPORT_LEN
                                                              : SCITT_DCAP_SGX_REPORT_LEN)) {
            __builtin_trap();
        }
    } else if (why == SCITT_TEE_OK) {
        __builtin_trap();
    }
    scitt_dcap_verify_opts o;
    scitt_dcap_verify_opts_init(&o, INT64_C(1752537600)); /* 2025-07-15T00:00:00Z */
    o.accept = 0xfeu;
    scitt_dcap_result r;
    err = scitt_dcap_verify(in, col, &o, &r);
    if (r.authentic) {
        bool known = false;
        for (int i = 0; i < 2; i++) {
            known = known || (q.signed_part.len == genuine_len[i] &&
                              memcmp(q.signed_part.ptr, genuine[i], genuine_len[i]) == 0);
        }
        if (!known) {
            __builtin_trap();
        }
    } else if (err == SCITT_OK || r.why == SCITT_TEE_OK || r.tcb_status != SCITT_DCAP_TCB_UNKNOWN) {
        __builtin_trap();
    }
    if (!scitt_tee_reason_name(r.why) || !scitt_tee_reason_str(r.why)) {
        __builtin_trap();
    }
    return 0;
}
