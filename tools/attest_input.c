/*
 * Inputs of `scitt attest verify` and `scitt verify --service-bundle`: telling a service bundle
 * from an SNP report file, endorsement files in the forms operators and platforms hand them out,
 * and the --min-tcb and --at option values. Nothing here verifies anything.
 */
#include "parsers.h"

#include <stdio.h>
#include <string.h>

#include "scitt/attest.h"
#include "scitt/dcap.h"

attest_kind attest_input_kind(scitt_span file, uint8_t report[SCITT_SNP_REPORT_LEN], char *why,
                              size_t cap)
{
    scitt_attest_bundle b;
    if (scitt_attest_bundle_parse(file, &b) == SCITT_OK) {
        return ATTEST_BUNDLE;
    }
    /* A CBOR map head (major type 5) says the file meant to be a bundle: say so, rather than
     * report it as a malformed SNP report. */
    if (file.len && (file.ptr[0] & 0xe0) == 0xa0) {
        snprintf(why, cap,
                 "not a service bundle: expected a CBOR map of evidence, identity, platform and "
                 "optional endorsements (unknown or repeated members are refused)");
        return ATTEST_NONE;
    }
    scitt_dcap_quote q;
    scitt_tee_reason qwhy;
    if (scitt_dcap_quote_parse(file, &q, &qwhy) == SCITT_OK) {
        return ATTEST_DCAP_QUOTE;
    }
    char rwhy[256];
    if (snp_file_decode(file, report, rwhy, sizeof(rwhy)) == SCITT_OK) {
        return ATTEST_SNP_REPORT;
    }
    snprintf(why, cap, "neither a service bundle nor an SNP report (%s)", rwhy);
    return ATTEST_NONE;
}

/* A PEM block for one DER certificate, so the library classifies it by its content. */
static scitt_err der_to_pem(scitt_span der, scitt_dynbuf *out)
{
    size_t cap = SCITT_BASE64_LEN(der.len);
    char *b64 = scitt_malloc(cap);
    if (!b64) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt_base64_encode(der, b64, cap);
    if (e == SCITT_OK) {
        scitt_dynbuf_str(out, "-----BEGIN CERTIFICATE-----\n");
        size_t n = strlen(b64);
        for (size_t k = 0; k < n; k += 64) {
            scitt_dynbuf_put(out, b64 + k, n - k < 64 ? n - k : 64);
            scitt_dynbuf_u8(out, '\n');
        }
        scitt_dynbuf_str(out, "-----END CERTIFICATE-----\n");
        e = out->err;
    }
    scitt_free(b64);
    return e;
}

static bool all_base64_text(scitt_span s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '+' || c == '/' || c == '=';
        if (!space && !b64) {
            return false;
        }
        n += b64;
    }
    return n > 0;
}

/* Adds one file's certificates to @p c, by the form the file is in. */
static scitt_err certs_by_form(scitt_snp_certs *c, scitt_span file, const char **form,
                               scitt_tee_reason *rs)
{
    size_t lead = 0;
    while (lead < file.len && (file.ptr[lead] == ' ' || file.ptr[lead] == '\t' ||
                               file.ptr[lead] == '\r' || file.ptr[lead] == '\n')) {
        lead++;
    }
    scitt_err e;
    /* JSON first: THIM JSON holds PEM text too */
    if (lead < file.len && file.ptr[lead] == '{') {
        *form = "THIM JSON";
        return scitt_snp_certs_add_thim(c, file, NULL, NULL, rs);
    }
    if (file.len && memmem(file.ptr, file.len, "-----BEGIN", 10)) {
        *form = "PEM";
        return scitt_snp_certs_add_pem(c, file, rs);
    }
    if (file.len >= 2 && file.ptr[0] == 0x30 && (file.ptr[1] & 0x80)) {
        /* DER: a SEQUENCE with a long-form length, as every certificate has */
        *form = "DER certificate";
        scitt_dynbuf pem;
        scitt_dynbuf_init(&pem, 0);
        e = der_to_pem(file, &pem);
        e = e ? e : scitt_snp_certs_add_pem(c, scitt_span_make(pem.ptr, pem.len), rs);
        scitt_dynbuf_clear(&pem);
        return e;
    }
    if (all_base64_text(file)) {
        /* Confidential ACI's host-amd-cert-base64: base64 of the THIM JSON */
        *form = "base64 THIM JSON";
        scitt_dynbuf json;
        scitt_dynbuf_init(&json, SNP_CERTS_FILE_MAX);
        e = scitt_tee_aci_decode(file, &json, rs);
        e = e ? e
              : scitt_snp_certs_add_thim(c, scitt_span_make(json.ptr, json.len), NULL, NULL, rs);
        scitt_dynbuf_clear(&json);
        return e;
    }
    *form = "GHCB certificate table";
    return scitt_snp_certs_add_table(c, file, rs);
}

scitt_err attest_certs_add(scitt_snp_certs *c, scitt_span file, char *why, size_t cap)
{
    if (file.len > SNP_CERTS_FILE_MAX) {
        snprintf(why, cap, "larger than %u bytes", SNP_CERTS_FILE_MAX);
        return SCITT_ERR_TOO_LARGE;
    }
    /* Into a set of its own first: a file that adds nothing (an empty table, only unknown GUIDs)
     * is an error, and a failure leaves @p c as it was. */
    scitt_snp_certs own;
    scitt_snp_certs_init(&own);
    scitt_tee_reason rs = SCITT_TEE_OK;
    const char *form = "";
    scitt_err e = certs_by_form(&own, file, &form, &rs);
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    e = e ? e : scitt_snp_certs_to_pem(&own, &pem);
    if (e == SCITT_OK && pem.len == 0) {
        e = SCITT_ERR_EVIDENCE_MALFORMED;
        snprintf(why, cap, "read as %s: it holds no VCEK, VLEK, ASK, ASVK or ARK", form);
    } else if (e == SCITT_OK) {
        e = scitt_snp_certs_add_pem(c, scitt_span_make(pem.ptr, pem.len), &rs);
        if (e != SCITT_OK) {
            snprintf(why, cap, "read as %s: it does not fit the certificates given before: %s",
                     form, scitt_tee_reason_str(rs));
        }
    } else {
        snprintf(why, cap,
                 "no certificates in a known form (PEM, DER, THIM JSON or its base64, a GHCB "
                 "table); read as %s: %s",
                 form, rs != SCITT_TEE_OK ? scitt_tee_reason_str(rs) : scitt_err_str(e));
    }
    scitt_dynbuf_clear(&pem);
    scitt_snp_certs_clear(&own);
    return e;
}

static bool name_is(const char *s, size_t n, const char *name)
{
    if (strlen(name) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != name[i]) {
            return false;
        }
    }
    return true;
}

/* Up to @p max decimal digits, value <= @p limit. */
static bool small_uint(const char *s, size_t n, uint64_t limit, uint64_t *out)
{
    if (n == 0 || n > 3) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return v <= limit;
}

scitt_err attest_parse_min_tcb(const char *arg, scitt_snp_min_tcb *out, char *why, size_t cap)
{
    static const char form[] =
        "expected PRODUCT:bl=N,tee=N,snp=N,ucode=N[,fmc=N] or PRODUCT:0xTCB (PRODUCT milan, "
        "genoa or turin)";
    memset(out, 0, sizeof(*out));
    const char *colon = arg ? strchr(arg, ':') : NULL;
    if (!colon || strlen(arg) > 200) {
        snprintf(why, cap, "%s", form);
        return SCITT_ERR_MALFORMED;
    }
    size_t pn = (size_t)(colon - arg);
    out->product = name_is(arg, pn, "milan")   ? SCITT_SNP_MILAN
                   : name_is(arg, pn, "genoa") ? SCITT_SNP_GENOA
                   : name_is(arg, pn, "turin") ? SCITT_SNP_TURIN
                                               : SCITT_SNP_PRODUCT_UNKNOWN;
    if (out->product == SCITT_SNP_PRODUCT_UNKNOWN) {
        snprintf(why, cap, "unknown product: %s", form);
        return SCITT_ERR_MALFORMED;
    }
    const char *v = colon + 1;
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        /* the TCB_VERSION as a report shows it (reported_tcb), in the product's layout */
        size_t n = strlen(v + 2);
        uint64_t raw = 0;
        for (size_t i = 0; i < n; i++) {
            char c = v[2 + i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0 || n > 16) {
                snprintf(why, cap, "the TCB must be 1 to 16 hex digits after 0x");
                return SCITT_ERR_MALFORMED;
            }
            raw = raw << 4 | (uint64_t)d;
        }
        if (n == 0 || scitt_snp_tcb_decode(out->product, raw, &out->tcb) != SCITT_OK) {
            snprintf(why, cap, "the TCB must be 1 to 16 hex digits after 0x");
            return SCITT_ERR_MALFORMED;
        }
        return SCITT_OK;
    }
    static const char *const names[] = {"bl", "tee", "snp", "ucode", "fmc"};
    unsigned seen = 0;
    while (*v) {
        const char *eq = strchr(v, '=');
        const char *end = strchr(v, ',');
        end = end ? end : v + strlen(v);
        if (!eq || eq > end) {
            snprintf(why, cap, "%s", form);
            return SCITT_ERR_MALFORMED;
        }
        size_t k = 0;
        while (k < 5 && !name_is(v, (size_t)(eq - v), names[k])) {
            k++;
        }
        uint64_t n;
        if (k == 5 || (seen & (1u << k)) ||
            !small_uint(eq + 1, (size_t)(end - eq - 1), UINT8_MAX, &n)) {
            snprintf(why, cap, "%s; each component once, 0..255", form);
            return SCITT_ERR_MALFORMED;
        }
        seen |= 1u << k;
        uint8_t *dst[] = {&out->tcb.bootloader, &out->tcb.tee, &out->tcb.snp, &out->tcb.microcode,
                          &out->tcb.fmc};
        *dst[k] = (uint8_t)n;
        v = *end ? end + 1 : end;
        if (*end && !*v) {
            snprintf(why, cap, "%s", form); /* a trailing comma */
            return SCITT_ERR_MALFORMED;
        }
    }
    uint64_t raw;
    if (seen == 0 || scitt_snp_tcb_encode(out->product, &out->tcb, &raw) != SCITT_OK) {
        snprintf(why, cap, "%s (fmc exists on Turin only)", form);
        return SCITT_ERR_MALFORMED;
    }
    return SCITT_OK;
}

static bool digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool attest_parse_time(const char *s, int64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= 1 && n <= 11 && strspn(s, "0123456789") == n) {
        return digits(s, n, out); /* Unix seconds */
    }
    /* RFC 3339 in UTC, whole seconds, not before 1970 */
    int64_t t;
    if (scitt_utc_parse(scitt_span_make((const uint8_t *)s, n), &t) != SCITT_OK || t < 0) {
        return false;
    }
    *out = t;
    return true;
}
