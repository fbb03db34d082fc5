/*
 * Fuzz target: the DCAP collateral parsers. The first byte picks what the rest is: 0..6 a
 * collateral file (scitt_dcap_item: TCB info JSON, issuer chains, QE identity JSON, CRLs), 7 the
 * SGX extension DER of a PCK certificate, 8 a collateral date, 9 an accept list. Properties: a
 * refused file leaves the set without the item; an accepted one is there; a date parses back to
 * the same text; an accept list never admits Revoked or TcbNotSupported.
 */
#include <stdio.h>
#include <string.h>

#include "scitt/dcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_date(scitt_span in)
{
    int64_t t;
    if (scitt_dcap_time_parse(in, &t) != SCITT_OK) {
        return;
    }
    /* days to civil (proleptic Gregorian), then print and compare */
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100),
            mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[160];
    snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", (long long)y,
             (long long)m, (long long)d, (long long)(secs / 3600), (long long)(secs / 60 % 60),
             (long long)(secs % 60));
    if (in.len != 20 || memcmp(buf, in.ptr, 20) != 0) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    scitt_span in = scitt_span_make(data + 1, size - 1);
    unsigned sel = data[0] % 10;
    scitt_tee_reason why = SCITT_TEE_OK;
    if (sel < SCITT_DCAP_ITEMS) {
        scitt_dcap_collateral *c = NULL;
        if (scitt_dcap_collateral_new(&c) != SCITT_OK) {
            return 0;
        }
        scitt_err err = scitt_dcap_collateral_set(c, (scitt_dcap_item)sel, in, &why);
        bool has = scitt_dcap_collateral_has(c, (scitt_dcap_item)sel);
        if ((err == SCITT_OK) != has || (err == SCITT_OK) != (why == SCITT_TEE_OK)) {
            __builtin_trap();
        }
        scitt_dcap_collateral_free(c);
    } else if (sel == 7) {
        scitt_dcap_pck_ext e;
        scitt_err err = scitt_dcap_pck_ext_parse(in, &e, &why);
        if ((err == SCITT_OK) != (why == SCITT_TEE_OK)) {
            __builtin_trap();
        }
    } else if (sel == 8) {
        check_date(in);
    } else {
        uint32_t mask = 0;
        if (scitt_dcap_accept_parse(in, &mask) == SCITT_OK &&
            (mask == 0 || (mask & (SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_REVOKED) |
                                   SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_NOT_SUPPORTED) | 1u)))) {
            __builtin_trap();
        }
    }
    return 0;
}
