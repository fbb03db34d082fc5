/*
 * The inputs of `scitt attest verify` (tools/attest_input.c): telling bundles from report files,
 * endorsement files in every form the platforms hand them out (the real virtee Milan VCEK and
 * chain as DER, PEM, THIM JSON, its base64 and a GHCB table), and tables of --min-tcb and --at
 * values, each malformed row with the reason it must fail.
 */
#include "testutil.h"

#include "parsers.h"
#include "scitt/attest.h"

/* ---- input kind ---------------------------------------------------------------------------- */

static void test_input_kind(void **state)
{
    (void)state;
    uint8_t report[SCITT_SNP_REPORT_LEN];
    char why[400];
    size_t bn, hn;
    uint8_t *bin = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/report_milan.bin"), &bn);
    uint8_t *hex = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/report_milan.hex"), &hn);
    assert_int_equal(attest_input_kind(scitt_span_make(bin, bn), report, why, sizeof(why)),
                     ATTEST_SNP_REPORT);
    assert_memory_equal(report, bin, SCITT_SNP_REPORT_LEN);
    memset(report, 0, sizeof(report));
    assert_int_equal(attest_input_kind(scitt_span_make(hex, hn), report, why, sizeof(why)),
                     ATTEST_SNP_REPORT);
    assert_memory_equal(report, bin, SCITT_SNP_REPORT_LEN);

    /* a bundle around that report (structure only: nothing here verifies it) */
    static const uint8_t id[] = {0xa4, 0x01, 0xa0, 0x02, 0x61, 0x76,
                                 0x03, 0x61, 0x69, 0x04, 0x61, 0x6f};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_attest_bundle_encode("snp", scitt_span_make(id, sizeof(id)),
                                                scitt_span_make(bin, bn), scitt_span_make(NULL, 0),
                                                &b),
                     SCITT_OK);
    assert_int_equal(attest_input_kind(scitt_span_make(b.ptr, b.len), report, why, sizeof(why)),
                     ATTEST_BUNDLE);

    /* a CBOR map that is no bundle is reported as a bad bundle, not as a bad report */
    b.ptr[b.len - 1] ^= 1; /* "snp" -> "snq": still a bundle */
    assert_int_equal(attest_input_kind(scitt_span_make(b.ptr, b.len), report, why, sizeof(why)),
                     ATTEST_BUNDLE);
    static const uint8_t other_map[] = {0xa1, 0x61, 0x78, 0x01};
    assert_int_equal(
        attest_input_kind(scitt_span_make(other_map, sizeof(other_map)), report, why, sizeof(why)),
        ATTEST_NONE);
    assert_non_null(strstr(why, "not a service bundle"));
    /* a report one byte short, and text */
    assert_int_equal(attest_input_kind(scitt_span_make(bin, bn - 1), report, why, sizeof(why)),
                     ATTEST_NONE);
    assert_non_null(strstr(why, "neither a service bundle nor an SNP report"));
    assert_int_equal(attest_input_kind(scitt_span_str("hello"), report, why, sizeof(why)),
                     ATTEST_NONE);
    assert_int_equal(attest_input_kind(scitt_span_make(NULL, 0), report, why, sizeof(why)),
                     ATTEST_NONE);
    scitt_dynbuf_clear(&b);
    free(bin);
    free(hex);
}

/* ---- endorsement files --------------------------------------------------------------------- */

static void pem_of(scitt_span der, scitt_dynbuf *out)
{
    size_t cap = SCITT_BASE64_LEN(der.len);
    char *b64 = malloc(cap);
    assert_int_equal(scitt_base64_encode(der, b64, cap), SCITT_OK);
    scitt_dynbuf_str(out, "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0, n = strlen(b64); i < n; i += 64) {
        scitt_dynbuf_put(out, b64 + i, n - i < 64 ? n - i : 64);
        scitt_dynbuf_u8(out, '\n');
    }
    scitt_dynbuf_str(out, "-----END CERTIFICATE-----\n");
    free(b64);
}

/* A JSON string literal for PEM text (newlines escaped). */
static void json_str(scitt_dynbuf *out, scitt_span s)
{
    scitt_dynbuf_u8(out, '"');
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '\n') {
            scitt_dynbuf_str(out, "\\n");
        } else {
            scitt_dynbuf_u8(out, s.ptr[i]);
        }
    }
    scitt_dynbuf_u8(out, '"');
}

static void put_le32(scitt_dynbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    scitt_dynbuf_put(b, x, 4);
}

static void assert_milan_set(const scitt_snp_certs *c, scitt_span vcek, bool chain)
{
    assert_true(scitt_span_eq(scitt_snp_certs_get(c, SCITT_SNP_CERT_VCEK), vcek));
    assert_int_equal(scitt_snp_certs_get(c, SCITT_SNP_CERT_ASK).len != 0, chain);
    assert_int_equal(scitt_snp_certs_get(c, SCITT_SNP_CERT_ARK).len != 0, chain);
}

static void test_certs_forms(void **state)
{
    (void)state;
    size_t vl, cl, gl;
    uint8_t *vcek = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/vcek_milan.der"), &vl);
    uint8_t *chain = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/cert_chain_milan"), &cl);
    uint8_t *other = tu_read_file(tu_shared("tee/sev-snp/go-sev-guest-milan/vcek.testcer"), &gl);
    scitt_span v = scitt_span_make(vcek, vl);
    char why[400];
    scitt_snp_certs c;

    /* DER, then the PEM chain added to it */
    scitt_snp_certs_init(&c);
    assert_int_equal(attest_certs_add(&c, v, why, sizeof(why)), SCITT_OK);
    assert_milan_set(&c, v, false);
    assert_int_equal(attest_certs_add(&c, scitt_span_make(chain, cl), why, sizeof(why)), SCITT_OK);
    assert_milan_set(&c, v, true);
    /* another chip's VCEK conflicts with the one there, and changes nothing */
    assert_int_not_equal(attest_certs_add(&c, scitt_span_make(other, gl), why, sizeof(why)),
                         SCITT_OK);
    assert_non_null(strstr(why, "does not fit the certificates given before"));
    assert_milan_set(&c, v, true);
    scitt_snp_certs_clear(&c);

    /* THIM JSON, and its base64 as Confidential ACI stores it */
    scitt_dynbuf vpem, json;
    scitt_dynbuf_init(&vpem, 0);
    scitt_dynbuf_init(&json, 0);
    pem_of(v, &vpem);
    scitt_dynbuf_str(&json, "{\"vcekCert\": ");
    json_str(&json, scitt_span_make(vpem.ptr, vpem.len));
    scitt_dynbuf_str(&json, ", \"certificateChain\": ");
    json_str(&json, scitt_span_make(chain, cl));
    scitt_dynbuf_str(&json, ", \"tcbm\": \"7308000000000003\"}");
    scitt_snp_certs_init(&c);
    assert_int_equal(attest_certs_add(&c, scitt_span_make(json.ptr, json.len), why, sizeof(why)),
                     SCITT_OK);
    assert_milan_set(&c, v, true);
    scitt_snp_certs_clear(&c);
    size_t cap = SCITT_BASE64_LEN(json.len);
    char *b64 = malloc(cap + 1);
    assert_int_equal(scitt_base64_encode(scitt_span_make(json.ptr, json.len), b64, cap), SCITT_OK);
    strcat(b64, "\n");
    scitt_snp_certs_init(&c);
    assert_int_equal(attest_certs_add(&c, scitt_span_str(b64), why, sizeof(why)), SCITT_OK);
    assert_milan_set(&c, v, true);
    scitt_snp_certs_clear(&c);

    /* a GHCB certificate table with the VCEK only (the firmware's extended report) */
    static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    scitt_dynbuf t;
    scitt_dynbuf_init(&t, 0);
    scitt_dynbuf_put(&t, vcek_guid, 16);
    put_le32(&t, 48);
    put_le32(&t, (uint32_t)vl);
    static const uint8_t zero[24] = {0};
    scitt_dynbuf_put(&t, zero, 24);
    scitt_dynbuf_put(&t, vcek, vl);
    scitt_snp_certs_init(&c);
    assert_int_equal(attest_certs_add(&c, scitt_span_make(t.ptr, t.len), why, sizeof(why)),
                     SCITT_OK);
    assert_milan_set(&c, v, false);
    scitt_snp_certs_clear(&c);

    /* the same table with an unknown GUID: well-formed, but it holds nothing to use */
    t.ptr[0] ^= 0xff;
    scitt_snp_certs_init(&c);
    assert_int_not_equal(attest_certs_add(&c, scitt_span_make(t.ptr, t.len), why, sizeof(why)),
                         SCITT_OK);
    assert_non_null(strstr(why, "holds no VCEK"));
    scitt_snp_certs_clear(&c);
    t.ptr[0] ^= 0xff;

    /* malformed files: each fails and leaves the set empty */
    t.ptr[16] ^= 1; /* the offset points into the entries */
    const struct {
        scitt_span file;
        const char *form;
        const char *why;
    } bad[] = {
        {scitt_span_make(t.ptr, t.len), "GHCB certificate table", "offset inside the entries"},
        {scitt_span_make(vcek, vl - 1), "DER certificate", "truncated DER"},
        {scitt_span_make(json.ptr, json.len - 1), "THIM JSON", "unterminated JSON"},
        {scitt_span_str("-----BEGIN CERTIFICATE-----\nAAAA\n"), "PEM", "unclosed PEM block"},
        {scitt_span_str("not a certificate at all!"), "GHCB certificate table", "plain text"},
        {scitt_span_str("QUJD\n"), "base64 THIM JSON", "base64 of something that is no JSON"},
        {scitt_span_make(NULL, 0), "GHCB certificate table", "empty file"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scitt_snp_certs_init(&c);
        why[0] = 0;
        if (attest_certs_add(&c, bad[i].file, why, sizeof(why)) == SCITT_OK) {
            fail_msg("%s: accepted", bad[i].why);
        }
        if (!strstr(why, bad[i].form)) {
            fail_msg("%s: \"%s\" does not name %s", bad[i].why, why, bad[i].form);
        }
        for (int r = 0; r < SCITT_SNP_CERT_ROLES; r++) {
            assert_int_equal(scitt_snp_certs_get(&c, (scitt_snp_cert_role)r).len, 0);
        }
        scitt_snp_certs_clear(&c);
    }
    free(b64);
    scitt_dynbuf_clear(&t);
    scitt_dynbuf_clear(&json);
    scitt_dynbuf_clear(&vpem);
    free(vcek);
    free(chain);
    free(other);
}

/* ---- option values ------------------------------------------------------------------------- */

static void test_min_tcb(void **state)
{
    (void)state;
    static const struct {
        const char *arg;
        scitt_snp_product product;
        uint8_t fmc, bl, tee, snp, ucode;
    } good[] = {
        {"milan:bl=3,tee=0,snp=8,ucode=115", SCITT_SNP_MILAN, 0, 3, 0, 8, 115},
        {"MILAN:ucode=115", SCITT_SNP_MILAN, 0, 0, 0, 0, 115},
        {"genoa:snp=22,bl=7", SCITT_SNP_GENOA, 0, 7, 0, 22, 0},
        {"turin:fmc=1,bl=2,snp=4,ucode=9", SCITT_SNP_TURIN, 1, 2, 0, 4, 9},
        {"milan:0x7308000000000003", SCITT_SNP_MILAN, 0, 3, 0, 8, 115},
        {"turin:0x0900000004000201", SCITT_SNP_TURIN, 1, 2, 0, 4, 9},
        {"Genoa:bl=255", SCITT_SNP_GENOA, 0, 255, 0, 0, 0},
    };
    char why[300];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        scitt_snp_min_tcb m;
        if (attest_parse_min_tcb(good[i].arg, &m, why, sizeof(why)) != SCITT_OK) {
            fail_msg("%s: %s", good[i].arg, why);
        }
        assert_int_equal(m.product, good[i].product);
        assert_int_equal(m.tcb.fmc, good[i].fmc);
        assert_int_equal(m.tcb.bootloader, good[i].bl);
        assert_int_equal(m.tcb.tee, good[i].tee);
        assert_int_equal(m.tcb.snp, good[i].snp);
        assert_int_equal(m.tcb.microcode, good[i].ucode);
    }
    static const struct {
        const char *arg, *why;
    } bad[] = {
        {"", "empty"},
        {"milan", "no colon"},
        {"milan:", "no components"},
        {":bl=1", "no product"},
        {"rome:bl=1", "a product without a pinned root"},
        {"milan:bl=256", "above 255"},
        {"milan:bl=1000", "four digits"},
        {"milan:bl=-1", "negative"},
        {"milan:bl=", "no value"},
        {"milan:bl", "no '='"},
        {"milan:bl=1,bl=2", "a component twice"},
        {"milan:bl=1,", "a trailing comma"},
        {"milan:,bl=1", "an empty component"},
        {"milan:xx=1", "an unknown component"},
        {"milan:fmc=1", "fmc exists on Turin only"},
        {"milan:bl=1;tee=2", "the wrong separator"},
        {"milan:0x", "no hex digits"},
        {"milan:0xzz", "not hex"},
        {"milan:0x12345678901234567", "17 hex digits"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scitt_snp_min_tcb m;
        why[0] = 0;
        if (attest_parse_min_tcb(bad[i].arg, &m, why, sizeof(why)) == SCITT_OK) {
            fail_msg("\"%s\" (%s): accepted", bad[i].arg, bad[i].why);
        }
        assert_true(why[0] != 0);
    }
    /* the raw form follows each product's layout: byte 1 is bl on Turin, tee on Milan */
    scitt_snp_min_tcb m;
    assert_int_equal(attest_parse_min_tcb("turin:0x0000000000000100", &m, why, sizeof(why)),
                     SCITT_OK);
    assert_int_equal(m.tcb.bootloader, 1);
    assert_int_equal(attest_parse_min_tcb("milan:0x0000000000000100", &m, why, sizeof(why)),
                     SCITT_OK);
    assert_int_equal(m.tcb.tee, 1);
    assert_int_equal(m.tcb.bootloader, 0);
}

static void test_time(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t t;
    } good[] = {
        {"0", 0},
        {"1751328000", 1751328000},
        {"2025-07-01T00:00:00Z", 1751328000},
        {"1970-01-01T00:00:00Z", 0},
        {"2024-02-29T12:34:56Z", 1709210096},
        {"2000-02-29T00:00:00Z", 951782400},
        {"2038-01-19T03:14:08Z", 2147483648},
        {"9999-12-31T23:59:59Z", 253402300799},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t t = -1;
        if (!attest_parse_time(good[i].s, &t) || t != good[i].t) {
            fail_msg("%s: got %lld", good[i].s, (long long)t);
        }
    }
    static const struct {
        const char *s, *why;
    } bad[] = {
        {"", "empty"},
        {"-1", "negative"},
        {"123456789012", "12 digits"},
        {"2025-02-29T00:00:00Z", "not a leap year"},
        {"2100-02-29T00:00:00Z", "a century that is not a leap year"},
        {"2025-04-31T00:00:00Z", "April has 30 days"},
        {"2025-13-01T00:00:00Z", "month 13"},
        {"2025-00-01T00:00:00Z", "month 0"},
        {"2025-07-00T00:00:00Z", "day 0"},
        {"2025-07-01T24:00:00Z", "hour 24"},
        {"2025-07-01T00:60:00Z", "minute 60"},
        {"2025-07-01T00:00:60Z", "a leap second"},
        {"2025-07-01 00:00:00Z", "a space for T"},
        {"2025-07-01T00:00:00", "no Z"},
        {"2025-07-01T00:00:00+00:00", "an offset"},
        {"2025-07-01T00:00:00.5Z", "fractions"},
        {"1969-12-31T23:59:59Z", "before 1970"},
        {"2025-7-01T00:00:00Z", "one-digit month"},
        {"20250701T000000Z", "basic format"},
        {"1751328000s", "a unit"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t;
        if (attest_parse_time(bad[i].s, &t)) {
            fail_msg("\"%s\" (%s): accepted", bad[i].s, bad[i].why);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_kind),
        cmocka_unit_test(test_certs_forms),
        cmocka_unit_test(test_min_tcb),
        cmocka_unit_test(test_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
