/*
 * Endorsement inputs: PEM bundles in any order, the GHCB certificate table (built here around the
 * real certificates), the Confidential ACI THIM JSON and base64 security-context files; with a
 * table of malformed inputs for each, every row saying why it must be refused.
 */
#include "tee_test.h"

#include "scitt/json.h"
#include "scitt/limits.h"

static uint8_t *vcek_der, *chain_pem, *report;
static size_t vcek_len, chain_len, report_len;
static scitt_span ask_der, ark_der;
static scitt_snp_certs chain_set;

static int setup(void **state)
{
    (void)state;
    vcek_der = tt_load(tt_virtee.vcek, &vcek_len);
    chain_pem = tt_load(tt_virtee.chain, &chain_len);
    report = tt_load(tt_virtee.report, &report_len);
    scitt_snp_certs_init(&chain_set);
    assert_int_equal(
        scitt_snp_certs_add_pem(&chain_set, scitt_span_make(chain_pem, chain_len), NULL), SCITT_OK);
    ask_der = scitt_snp_certs_get(&chain_set, SCITT_SNP_CERT_ASK);
    ark_der = scitt_snp_certs_get(&chain_set, SCITT_SNP_CERT_ARK);
    assert_true(ask_der.len && ark_der.len);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt_snp_certs_clear(&chain_set);
    free(vcek_der);
    free(chain_pem);
    free(report);
    return 0;
}

static scitt_err verify_with(const scitt_snp_certs *c)
{
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    scitt_snp_verified v;
    return scitt_snp_verify(scitt_span_make(report, report_len), c, &o, &v, NULL);
}

/* PEM text for one DER certificate (heap, NUL-terminated). */
static char *pem_of(scitt_span der)
{
    scitt_snp_certs one;
    scitt_snp_certs_init(&one);
    assert_int_equal(scitt_snp_certs_add_der(&one, SCITT_SNP_CERT_ARK, der, NULL), SCITT_OK);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_snp_certs_to_pem(&one, &b), SCITT_OK);
    scitt_dynbuf_u8(&b, 0);
    size_t n;
    char *s = (char *)scitt_dynbuf_steal(&b, &n);
    scitt_snp_certs_clear(&one);
    return s;
}

static void test_pem_any_order(void **state)
{
    (void)state;
    char *v = pem_of(scitt_span_make(vcek_der, vcek_len));
    char *s = pem_of(ask_der);
    char *r = pem_of(ark_der);
    const char *orders[6][3] = {{v, s, r}, {v, r, s}, {s, v, r}, {s, r, v}, {r, v, s}, {r, s, v}};
    for (int i = 0; i < 6; i++) {
        char buf[16384];
        snprintf(buf, sizeof(buf), "%s\n%s%s", orders[i][0], orders[i][1], orders[i][2]);
        scitt_snp_certs c;
        scitt_snp_certs_init(&c);
        assert_int_equal(scitt_snp_certs_add_pem(&c, scitt_span_str(buf), NULL), SCITT_OK);
        assert_true(scitt_span_eq(scitt_snp_certs_get(&c, SCITT_SNP_CERT_VCEK),
                                  scitt_span_make(vcek_der, vcek_len)));
        assert_true(scitt_span_eq(scitt_snp_certs_get(&c, SCITT_SNP_CERT_ASK), ask_der));
        assert_true(scitt_span_eq(scitt_snp_certs_get(&c, SCITT_SNP_CERT_ARK), ark_der));
        assert_int_equal(verify_with(&c), SCITT_OK);
        /* Normalised output is chain order and reads back to the same set. */
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        assert_int_equal(scitt_snp_certs_to_pem(&c, &b), SCITT_OK);
        char want[16384];
        snprintf(want, sizeof(want), "%s%s%s", v, s, r);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.ptr, want, b.len);
        scitt_dynbuf_clear(&b);
        scitt_snp_certs_clear(&c);
    }
    /* CRLF line endings, and the same certificate twice, are fine. */
    char crlf[16384];
    size_t k = 0;
    for (const char *p = v; *p; p++) {
        if (*p == '\n') {
            crlf[k++] = '\r';
        }
        crlf[k++] = *p;
    }
    memcpy(crlf + k, v, strlen(v) + 1);
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    assert_int_equal(scitt_snp_certs_add_pem(&c, scitt_span_str(crlf), NULL), SCITT_OK);
    assert_true(scitt_snp_certs_get(&c, SCITT_SNP_CERT_VCEK).len == vcek_len);
    scitt_snp_certs_clear(&c);
    free(v);
    free(s);
    free(r);
}

static void test_pem_rejects(void **state)
{
    (void)state;
    char *v = pem_of(scitt_span_make(vcek_der, vcek_len));
    char *other = NULL;
    {
        size_t n;
        uint8_t *d = tt_load(tt_gosev.vcek, &n);
        other = pem_of(scitt_span_make(d, n));
        free(d);
    }
    char body[8192];
    /* The base64 body of the VCEK, to build variants around. */
    const char *b0 = strchr(v, '\n') + 1;
    const char *b1 = strstr(v, "-----END");
    snprintf(body, sizeof(body), "%.*s", (int)(b1 - b0), b0);
    char many[40000] = "";
    for (int i = 0; i < 17; i++) {
        strcat(many, v);
    }
    static char rows[12][16384];
    snprintf(rows[0], sizeof(rows[0]), "%s", "");
    snprintf(rows[1], sizeof(rows[1]), " \n\t\r\n");
    snprintf(rows[2], sizeof(rows[2]), "-----BEGIN CERTIFICATE-----\n%s", body);
    snprintf(rows[3], sizeof(rows[3]), "-----BEGIN CERTIFICATE-----\nProc-Type: 4,x\n%s%s", body,
             "-----END CERTIFICATE-----\n");
    snprintf(rows[4], sizeof(rows[4]), "subject=CN = SEV-VCEK\n%s", v);
    snprintf(rows[5], sizeof(rows[5]), "-----BEGIN PRIVATE KEY-----\n%s-----END PRIVATE KEY-----\n",
             body);
    snprintf(rows[6], sizeof(rows[6]),
             "-----BEGIN CERTIFICATE-----\n*%s-----END CERTIFICATE-----\n", body);
    snprintf(rows[7], sizeof(rows[7]),
             "-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n"); /* "MII": not DER */
    snprintf(rows[8], sizeof(rows[8]),
             "-----BEGIN CERTIFICATE-----\n%s-----END CERTIFICATE-----x\n", body);
    snprintf(rows[9], sizeof(rows[9]),
             "-----BEGIN CERTIFICATE-----\nQQ\n-----END CERTIFICATE-----\n");
    snprintf(rows[10], sizeof(rows[10]), "%s%s", v, other);
    snprintf(rows[11], sizeof(rows[11]),
             "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    static const struct {
        int row;
        scitt_err err;
        scitt_tee_reason why;
        const char *because;
    } table[] = {
        {0, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "empty input holds no certificate"},
        {1, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "whitespace only"},
        {2, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "BEGIN without END"},
        {3, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "RFC 1421 headers are not accepted"},
        {4, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "text outside the blocks"},
        {5, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "a block that is not a CERTIFICATE"},
        {6, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "a character outside base64"},
        {7, SCITT_ERR_CERT_MALFORMED, SCITT_TEE_CERT_PARSE, "valid base64 that is not DER"},
        {8, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "text after the END marker"},
        {9, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "base64 with missing padding"},
        {10, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_CERT_CONFLICT, "two different VCEKs"},
        {11, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM, "an empty block"},
    };
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_ARK, ark_der, NULL), SCITT_OK);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        scitt_tee_reason why = SCITT_TEE_OK;
        scitt_err got = scitt_snp_certs_add_pem(&c, scitt_span_str(rows[table[i].row]), &why);
        if (got != table[i].err || why != table[i].why) {
            fail_msg("row %d (%s): got %s/%s", table[i].row, table[i].because, scitt_err_name(got),
                     scitt_tee_reason_name(why));
        }
        /* A refused bundle adds nothing, even the certificates before the bad one. */
        assert_int_equal(scitt_snp_certs_get(&c, SCITT_SNP_CERT_VCEK).len, 0);
    }
    scitt_tee_reason why;
    TT_CHECK(scitt_snp_certs_add_pem(&c, scitt_span_str(many), &why), why, SCITT_ERR_TOO_LARGE,
             SCITT_TEE_CERT_TOO_MANY);
    /* A different ARK than the one already held. */
    size_t n;
    uint8_t *genoa = tt_load("tee/sev-snp/amd-certs/genoa_ark.pem", &n);
    TT_CHECK(scitt_snp_certs_add_pem(&c, scitt_span_make(genoa, n), &why), why,
             SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_CERT_CONFLICT);
    assert_true(scitt_span_eq(scitt_snp_certs_get(&c, SCITT_SNP_CERT_ARK), ark_der));
    free(genoa);
    scitt_snp_certs_clear(&c);
    free(v);
    free(other);
}

static void test_cert_table(void **state)
{
    (void)state;
    scitt_span vcek = scitt_span_make(vcek_der, vcek_len);
    const uint8_t *guids[] = {tt_guid_vcek, tt_guid_ask, tt_guid_ark};
    scitt_span ders[] = {vcek, ask_der, ark_der};
    static tt_tbl t;
    tt_tbl_make(&t, guids, ders, 3, 4 * 4096); /* hosts hand over whole pages, zero padded */
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    scitt_tee_reason why;
    TT_CHECK(scitt_snp_certs_add_table(&c, scitt_span_make(t.buf, t.len), &why), why, SCITT_OK,
             SCITT_TEE_OK);
    assert_int_equal(verify_with(&c), SCITT_OK);
    scitt_snp_certs_clear(&c);

    /* Empty input and a lone terminator add nothing. */
    uint8_t zero[24] = {0};
    assert_int_equal(scitt_snp_certs_add_table(&c, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    assert_int_equal(scitt_snp_certs_add_table(&c, scitt_span_make(zero, 24), NULL), SCITT_OK);
    for (int r = 0; r < SCITT_SNP_CERT_ROLES; r++) {
        assert_int_equal(scitt_snp_certs_get(&c, (scitt_snp_cert_role)r).len, 0);
    }
    /* A provider-specific entry is skipped; a VCEK table entry plus a PEM chain verify. */
    const uint8_t *g2[] = {tt_guid_other, tt_guid_vcek};
    scitt_span d2[] = {scitt_span_make("opaque", 6), vcek};
    tt_tbl_make(&t, g2, d2, 2, 0);
    assert_int_equal(scitt_snp_certs_add_table(&c, scitt_span_make(t.buf, t.len), NULL), SCITT_OK);
    assert_int_equal(scitt_snp_certs_add_pem(&c, scitt_span_make(chain_pem, chain_len), NULL),
                     SCITT_OK);
    assert_int_equal(verify_with(&c), SCITT_OK);
    scitt_snp_certs_clear(&c);

    /* Malformed tables, each built from the good one with one change. */
    for (int row = 0; row < 9; row++) {
        tt_tbl_make(&t, guids, ders, 3, 0);
        scitt_err want = SCITT_ERR_EVIDENCE_MALFORMED;
        scitt_tee_reason want_why = SCITT_TEE_CERT_TABLE;
        size_t len = t.len;
        switch (row) {
        case 0: /* cut inside the entries: no terminator */
            len = 60;
            break;
        case 1: /* an offset pointing into the entries */
            tt_put_le32(t.buf + 16, 24);
            break;
        case 2: /* a length running past the end */
            tt_put_le32(t.buf + 20, (uint32_t)(t.len + 1));
            break;
        case 3: /* an offset that would wrap around */
            tt_put_le32(t.buf + 16, 0xffffffffu);
            break;
        case 4: /* a zero length */
            tt_put_le32(t.buf + 20, 0);
            break;
        case 5: /* the same GUID twice */
            memcpy(t.buf + 24, tt_guid_vcek, 16);
            break;
        case 6: /* the VCEK slot holding the ARK: the certificate disagrees with its GUID */
            memcpy(t.buf, tt_guid_ark, 16);
            memcpy(t.buf + 48, tt_guid_vcek, 16);
            want_why = SCITT_TEE_CERT_ROLE;
            break;
        case 7: /* a length one short: the DER no longer parses */
            tt_put_le32(t.buf + 20, (uint32_t)vcek_len - 1);
            want = SCITT_ERR_CERT_MALFORMED;
            want_why = SCITT_TEE_CERT_PARSE;
            break;
        case 8: /* the terminator cut in half */
            len = 3 * 24 + 12;
            break;
        }
        scitt_snp_certs_init(&c);
        why = SCITT_TEE_OK;
        scitt_err got = scitt_snp_certs_add_table(&c, scitt_span_make(t.buf, len), &why);
        if (got != want || why != want_why) {
            fail_msg("table row %d: got %s/%s", row, scitt_err_name(got),
                     scitt_tee_reason_name(why));
        }
        for (int r = 0; r < SCITT_SNP_CERT_ROLES; r++) {
            assert_int_equal(scitt_snp_certs_get(&c, (scitt_snp_cert_role)r).len, 0);
        }
        scitt_snp_certs_clear(&c);
    }
    /* More entries than the limit. */
    const uint8_t *many_g[SCITT_LIMIT_TEE_CERTS + 1];
    scitt_span many_d[SCITT_LIMIT_TEE_CERTS + 1];
    static uint8_t guids_store[SCITT_LIMIT_TEE_CERTS + 1][16];
    for (size_t i = 0; i <= SCITT_LIMIT_TEE_CERTS; i++) {
        memset(guids_store[i], (int)i + 1, 16);
        many_g[i] = guids_store[i];
        many_d[i] = scitt_span_make("x", 1);
    }
    tt_tbl_make(&t, many_g, many_d, SCITT_LIMIT_TEE_CERTS + 1, 0);
    TT_CHECK(scitt_snp_certs_add_table(&c, scitt_span_make(t.buf, t.len), &why), why,
             SCITT_ERR_TOO_LARGE, SCITT_TEE_CERT_TOO_MANY);
    /* Every 1- and 2-byte input is too short to hold a terminator. */
    uint8_t tiny[2];
    for (int a = 0; a < 256; a++) {
        tiny[0] = (uint8_t)a;
        assert_int_equal(scitt_snp_certs_add_table(&c, scitt_span_make(tiny, 1), NULL),
                         SCITT_ERR_EVIDENCE_MALFORMED);
        for (int b = 0; b < 256; b++) {
            tiny[1] = (uint8_t)b;
            assert_int_equal(scitt_snp_certs_add_table(&c, scitt_span_make(tiny, 2), NULL),
                             SCITT_ERR_EVIDENCE_MALFORMED);
        }
    }
    scitt_snp_certs_clear(&c);
}

/* Builds the THIM JSON a Confidential ACI host hands over, from the real certificates. */
static char *thim_json(const char *tcbm, bool with_vcek)
{
    char *v = pem_of(scitt_span_make(vcek_der, vcek_len));
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_str(&b, "{");
    if (with_vcek) {
        scitt_dynbuf_str(&b, "\"vcekCert\": ");
        scitt_json_put_string(&b, scitt_span_str(v));
        scitt_dynbuf_str(&b, ",\n");
    }
    if (tcbm) {
        scitt_dynbuf_printf(&b, "\"tcbm\": %s,\n", tcbm);
    }
    scitt_dynbuf_str(&b, "\"certificateChain\": ");
    scitt_json_put_string(&b, scitt_span_make(chain_pem, chain_len));
    scitt_dynbuf_str(&b, ",\n\"cacheControl\": \"86400\"}");
    scitt_dynbuf_u8(&b, 0);
    size_t n;
    free(v);
    return (char *)scitt_dynbuf_steal(&b, &n);
}

static void test_thim(void **state)
{
    (void)state;
    char *j = thim_json("\"7308000000000003\"", true);
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    uint64_t tcbm = 0;
    bool has = false;
    scitt_tee_reason why;
    TT_CHECK(scitt_snp_certs_add_thim(&c, scitt_span_str(j), &tcbm, &has, &why), why, SCITT_OK,
             SCITT_TEE_OK);
    assert_true(has);
    assert_int_equal(tcbm, UINT64_C(0x7308000000000003));
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    scitt_snp_verified v;
    assert_int_equal(scitt_snp_verify(scitt_span_make(report, report_len), &c, &o, &v, NULL),
                     SCITT_OK);
    /* The endorsed TCB is the reported one, as CCF checks. */
    scitt_snp_policy p;
    scitt_snp_policy_init(&p);
    p.has_endorsed_tcb = has;
    p.endorsed_tcb = tcbm;
    assert_int_equal(scitt_snp_check_policy(&v, &p, NULL), SCITT_OK);
    scitt_snp_certs_clear(&c);
    scitt_free(j);

    j = thim_json(NULL, true);
    scitt_snp_certs_init(&c);
    assert_int_equal(scitt_snp_certs_add_thim(&c, scitt_span_str(j), &tcbm, &has, NULL), SCITT_OK);
    assert_false(has);
    scitt_snp_certs_clear(&c);
    scitt_free(j);

    static const struct {
        const char *tcbm;
        bool vcek;
        const char *because;
    } bad[] = {{"\"730800000000003\"", true, "tcbm of 15 digits"},
               {"\"73080000000000030\"", true, "tcbm of 17 digits"},
               {"\"730800000000000g\"", true, "tcbm not hex"},
               {"7308000000000003", true, "tcbm a number, not a string"},
               {"\"7308000000000003\"", false, "no vcekCert"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = thim_json(bad[i].tcbm, bad[i].vcek);
        scitt_snp_certs_init(&c);
        why = SCITT_TEE_OK;
        scitt_err got = scitt_snp_certs_add_thim(&c, scitt_span_str(j), &tcbm, &has, &why);
        if (got != SCITT_ERR_EVIDENCE_MALFORMED || why != SCITT_TEE_THIM_JSON) {
            fail_msg("%s: got %s/%s", bad[i].because, scitt_err_name(got),
                     scitt_tee_reason_name(why));
        }
        assert_int_equal(scitt_snp_certs_get(&c, SCITT_SNP_CERT_ASK).len, 0);
        scitt_snp_certs_clear(&c);
        scitt_free(j);
    }
    static const char *not_thim[] = {"", "[]", "{\"vcekCert\": 1, \"certificateChain\": \"\"}",
                                     "{\"vcekCert\": \"x\"", "\"just a string\""};
    for (size_t i = 0; i < sizeof(not_thim) / sizeof(not_thim[0]); i++) {
        scitt_snp_certs_init(&c);
        TT_CHECK(scitt_snp_certs_add_thim(&c, scitt_span_str(not_thim[i]), NULL, NULL, &why), why,
                 SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_THIM_JSON);
        scitt_snp_certs_clear(&c);
    }
    /* A THIM vcekCert holding garbage PEM reports the PEM problem. */
    scitt_snp_certs_init(&c);
    TT_CHECK(
        scitt_snp_certs_add_thim(&c,
                                 scitt_span_str("{\"vcekCert\": \"-----BEGIN CERTIFICATE-----\","
                                                " \"certificateChain\": \"\"}"),
                                 NULL, NULL, &why),
        why, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_PEM);
    scitt_snp_certs_clear(&c);
}

static void test_aci_decode(void **state)
{
    (void)state;
    const char *policy = "package policy\n\napi_version := \"0.10.0\"\n";
    char b64[256];
    assert_int_equal(scitt_base64_encode(scitt_span_str(policy), b64, sizeof(b64)), SCITT_OK);
    char file[300];
    snprintf(file, sizeof(file), "%s\n", b64);
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    scitt_tee_reason why;
    TT_CHECK(scitt_tee_aci_decode(scitt_span_str(file), &out, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_int_equal(out.len, strlen(policy));
    assert_memory_equal(out.ptr, policy, out.len);
    /* HOST_DATA of such a guest is the SHA-256 of these decoded bytes. */
    uint8_t digest[32], want[32];
    scitt_sha256(out.ptr, out.len, digest);
    scitt_sha256(policy, strlen(policy), want);
    assert_memory_equal(digest, want, 32);
    scitt_dynbuf_clear(&out);
    /* Wrapped at 20 characters, with CRLF, and surrounding spaces. */
    char wrapped[400];
    size_t k = 0, n = strlen(b64);
    wrapped[k++] = ' ';
    for (size_t i = 0; i < n; i++) {
        wrapped[k++] = b64[i];
        if (i % 20 == 19) {
            wrapped[k++] = '\r';
            wrapped[k++] = '\n';
        }
    }
    wrapped[k++] = '\n';
    wrapped[k] = 0;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(scitt_tee_aci_decode(scitt_span_str(wrapped), &out, NULL), SCITT_OK);
    assert_memory_equal(out.ptr, policy, out.len);
    scitt_dynbuf_clear(&out);
    static const char *bad[] = {"cGFj a2Fn", "cGFja2Fn=", "cGFja2F", "cGF*a2Fn", "-_-_"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scitt_dynbuf_init(&out, 0);
        scitt_dynbuf_str(&out, "keep");
        TT_CHECK(scitt_tee_aci_decode(scitt_span_str(bad[i]), &out, &why), why,
                 SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_BASE64);
        /* A failed decode leaves the buffer as it was. */
        assert_int_equal(out.len, 4);
        scitt_dynbuf_clear(&out);
    }
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(scitt_tee_aci_decode(scitt_span_str("\n"), &out, NULL), SCITT_OK);
    assert_int_equal(out.len, 0);
    scitt_dynbuf_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pem_any_order), cmocka_unit_test(test_pem_rejects),
        cmocka_unit_test(test_cert_table),    cmocka_unit_test(test_thim),
        cmocka_unit_test(test_aci_decode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
