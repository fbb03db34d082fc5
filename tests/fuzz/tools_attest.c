/*
 * Fuzz target: the inputs of `scitt attest verify` (tools/attest_input.c). The first byte picks
 * the parser, the rest is its input:
 *   0  attest_input_kind: a bundle must parse as one, a report strictly as one;
 *   1  attest_certs_add: on failure the set is unchanged (empty); on success its PEM form reads
 *      back into the same set;
 *   2  attest_parse_min_tcb: an accepted value names a product and encodes in its layout;
 *   3  attest_parse_time: an accepted RFC 3339 time prints back as the same text.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers.h"
#include "scitt/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void kind(scitt_span in)
{
    uint8_t report[SCITT_SNP_REPORT_LEN];
    char why[400];
    attest_kind k = attest_input_kind(in, report, why, sizeof(why));
    scitt_attest_bundle b;
    scitt_snp_report r;
    scitt_tee_reason rs;
    if ((k == ATTEST_BUNDLE && scitt_attest_bundle_parse(in, &b) != SCITT_OK) ||
        (k == ATTEST_SNP_REPORT &&
         scitt_snp_report_parse(scitt_span_make(report, sizeof(report)), &r, &rs) != SCITT_OK) ||
        (k == ATTEST_NONE && !why[0])) {
        __builtin_trap();
    }
}

static bool same_set(const scitt_snp_certs *a, const scitt_snp_certs *b)
{
    for (int i = 0; i < SCITT_SNP_CERT_ROLES; i++) {
        if (!scitt_span_eq(scitt_snp_certs_get(a, (scitt_snp_cert_role)i),
                           scitt_snp_certs_get(b, (scitt_snp_cert_role)i))) {
            return false;
        }
    }
    return true;
}

static void certs(scitt_span in)
{
    scitt_snp_certs c, back, empty;
    scitt_snp_certs_init(&c);
    scitt_snp_certs_init(&back);
    scitt_snp_certs_init(&empty);
    char why[400];
    if (attest_certs_add(&c, in, why, sizeof(why)) != SCITT_OK) {
        if (!same_set(&c, &empty)) {
            __builtin_trap();
        }
    } else if (!same_set(&c, &empty)) {
        scitt_dynbuf pem;
        scitt_dynbuf_init(&pem, 0);
        scitt_tee_reason rs;
        if (scitt_snp_certs_to_pem(&c, &pem) != SCITT_OK ||
            scitt_snp_certs_add_pem(&back, scitt_span_make(pem.ptr, pem.len), &rs) != SCITT_OK ||
            !same_set(&c, &back)) {
            __builtin_trap();
        }
        scitt_dynbuf_clear(&pem);
    }
    scitt_snp_certs_clear(&c);
    scitt_snp_certs_clear(&back);
}

static void min_tcb(const char *s)
{
    scitt_snp_min_tcb m;
    char why[300];
    uint64_t raw;
    if (attest_parse_min_tcb(s, &m, why, sizeof(why)) == SCITT_OK &&
        (m.product == SCITT_SNP_PRODUCT_UNKNOWN ||
         scitt_snp_tcb_encode(m.product, &m.tcb, &raw) != SCITT_OK)) {
        __builtin_trap();
    }
}

static void at(const char *s)
{
    int64_t t;
    if (!attest_parse_time(s, &t) || strlen(s) != 20) {
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    char back[32];
    if (!gmtime_r(&tt, &tm) || strftime(back, sizeof(back), "%Y-%m-%dT%H:%M:%SZ", &tm) != 20 ||
        strcmp(back, s) != 0) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    scitt_span in = scitt_span_make(data + 1, size - 1);
    switch (data[0] & 3) {
    case 0:
        kind(in);
        break;
    case 1:
        certs(in);
        break;
    default: {
        /* option values are C strings: stop at the first NUL, as argv would */
        char *s = malloc(size);
        if (!s) {
            return 0;
        }
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        if ((data[0] & 3) == 2) {
            min_tcb(s);
        } else {
            at(s);
        }
        free(s);
        break;
    }
    }
    return 0;
}
