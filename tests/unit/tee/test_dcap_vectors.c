/*
 * The real DCAP samples (tests/data/dcap): every quote field, PCK extension, QE report, TCB status,
 * advisory list and validity window equals what expected.json records (computed independently of
 * this code), and each sample's outcome at its pinned time is the documented one:
 *   SPR E4 (TDX)       every signature valid, no TCB level matches: TcbNotSupported, and its 39
 *                      non-zero trailing bytes refused unless allowed;
 *   automata (TDX)     OutOfDate (INTEL-SA-00960, -00982, -00986): refused by default, accepted
 *                      when OutOfDate is;
 *   GCP COS 113 (TDX)  UpToDate (only when TEE_TCB_SVN is compared from index 2);
 *   automata (SGX)     SWHardeningNeeded (INTEL-SA-00615);
 *   mobilecoin (SGX)   SWHardeningNeeded, and its stale PCK Processor CRL refused.
 */
#include "dcap_test.h"

#include <inttypes.h>
#include <strings.h>

#include "scitt/json.h"

typedef struct exp_doc {
    uint8_t *text;
    scitt_json j;
} exp_doc;

static exp_doc *expected(void)
{
    static exp_doc e;
    if (!e.text) {
        size_t n;
        e.text = dt_load("expected.json", &n);
        assert_int_equal(scitt_json_parse(scitt_span_make(e.text, n), &e.j), SCITT_OK);
    }
    return &e;
}

/* The expected.json object of sample @p id. */
static size_t sample_obj(const char *id)
{
    exp_doc *e = expected();
    long arr = scitt_json_get(&e->j, 0, "samples");
    assert_true(arr > 0);
    for (size_t i = 0;; i++) {
        long s = scitt_json_at(&e->j, (size_t)arr, i);
        assert_true(s > 0);
        if (scitt_json_str_eq(&e->j, (size_t)scitt_json_get(&e->j, (size_t)s, "id"), id)) {
            return (size_t)s;
        }
    }
}

/* The member at a dotted path under @p obj. */
static long at(size_t obj, const char *path)
{
    exp_doc *e = expected();
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    long t = (long)obj;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        t = scitt_json_get(&e->j, (size_t)t, k);
        if (t < 0) {
            fail_msg("expected.json has no %s", path);
        }
    }
    return t;
}

static void expect_hex(size_t obj, const char *path, const uint8_t *got, size_t n)
{
    exp_doc *e = expected();
    char want[300], have[300];
    assert_int_equal(scitt_json_string(&e->j, (size_t)at(obj, path), want, sizeof(want), NULL),
                     SCITT_OK);
    assert_int_equal(scitt_hex_encode(scitt_span_make(got, n), have, sizeof(have)), SCITT_OK);
    if (strcasecmp(want, have) != 0) {
        fail_msg("%s: got %s, want %s", path, have, want);
    }
}

static int64_t expect_int(size_t obj, const char *path)
{
    int64_t v;
    assert_int_equal(scitt_json_int(&expected()->j, (size_t)at(obj, path), &v), SCITT_OK);
    return v;
}

static int64_t expect_time(size_t obj, const char *path)
{
    char buf[32];
    assert_int_equal(
        scitt_json_string(&expected()->j, (size_t)at(obj, path), buf, sizeof(buf), NULL), SCITT_OK);
    return dt_time(buf);
}

static void check_enclave(size_t obj, const char *prefix, const scitt_dcap_enclave_report *r)
{
    char p[128];
#define H(field, name)                                                                             \
    snprintf(p, sizeof(p), "%s.%s", prefix, name);                                                 \
    expect_hex(obj, p, r->field, sizeof(r->field))
    H(cpusvn, "cpusvn");
    H(attributes, "attributes");
    H(mrenclave, "mrenclave");
    H(mrsigner, "mrsigner");
    H(report_data, "report_data");
#undef H
    snprintf(p, sizeof(p), "%s.isvprodid", prefix);
    assert_int_equal(r->isv_prod_id, expect_int(obj, p));
    snprintf(p, sizeof(p), "%s.isvsvn", prefix);
    assert_int_equal(r->isv_svn, expect_int(obj, p));
    uint8_t misc[4] = {(uint8_t)r->miscselect, (uint8_t)(r->miscselect >> 8),
                       (uint8_t)(r->miscselect >> 16), (uint8_t)(r->miscselect >> 24)};
    snprintf(p, sizeof(p), "%s.miscselect", prefix);
    expect_hex(obj, p, misc, 4);
}

static void check_fields(const dt_sample *s, const scitt_dcap_quote *q, const scitt_dcap_result *r)
{
    size_t o = sample_obj(s->id);
    /* the parsed quote */
    assert_int_equal(q->version, expect_int(o, "header.version"));
    assert_int_equal(q->att_key_type, expect_int(o, "header.att_key_type"));
    expect_hex(o, "header.qe_vendor_id", q->qe_vendor_id, 16);
    expect_hex(o, "header.user_data", q->user_data, 20);
    assert_int_equal(q->signed_part.len, expect_int(o, "signed_len"));
    assert_int_equal(q->quote_len, expect_int(o, "end_of_sig_data"));
    assert_int_equal(q->trailing_len, expect_int(o, "trailing_bytes_after_sig_data"));
    expect_hex(o, "attestation_key_raw_xy", q->att_key, 64);
    expect_hex(o, "quote_signature_raw_rs", q->signature, 64);
    expect_hex(o, "qe_auth_data", q->qe_auth_data.ptr, q->qe_auth_data.len);
    assert_int_equal(q->cert_data.len, expect_int(o, "cert_data_size"));
    if (s->tee == SCITT_DCAP_TEE_SGX) {
        assert_int_equal(q->qe_svn, expect_int(o, "header.qe_svn"));
        assert_int_equal(q->pce_svn, expect_int(o, "header.pce_svn"));
    }
    /* the verified result */
    assert_true(r->authentic);
    assert_int_equal(r->tee, s->tee);
    assert_int_equal(r->quote_version, q->version);
    if (s->tee == SCITT_DCAP_TEE_TDX) {
        const scitt_dcap_td_report *t = &r->td;
#define H(field, name) expect_hex(o, "td_report." name, t->field, sizeof(t->field))
        H(tee_tcb_svn, "tee_tcb_svn");
        H(mrseam, "mrseam");
        H(mrsignerseam, "mrsignerseam");
        H(seam_attributes, "seam_attributes");
        H(td_attributes, "td_attributes");
        H(xfam, "xfam");
        H(mrtd, "mrtd");
        H(mrconfigid, "mrconfigid");
        H(mrowner, "mrowner");
        H(mrownerconfig, "mrownerconfig");
        H(rtmr[0], "rtmr0");
        H(rtmr[1], "rtmr1");
        H(rtmr[2], "rtmr2");
        H(rtmr[3], "rtmr3");
        H(report_data, "report_data");
#undef H
    } else {
        check_enclave(o, "isv_enclave_report", &r->enclave);
    }
    check_enclave(o, "qe_report", &r->qe);
    expect_hex(o, "pck_extensions.fmspc", r->fmspc, 6);
    expect_hex(o, "pck_extensions.pceid", r->pce_id, 2);
    assert_int_equal(r->pce_svn, expect_int(o, "pck_extensions.pcesvn"));
    assert_int_equal(r->sgx_type, expect_int(o, "pck_extensions.sgx_type"));
    long comps = at(o, "pck_extensions.sgx_tcb_comp_svn");
    for (size_t i = 0; i < 16; i++) {
        int64_t v;
        assert_int_equal(scitt_json_int(&expected()->j,
                                        (size_t)scitt_json_at(&expected()->j, (size_t)comps, i),
                                        &v),
                         SCITT_OK);
        assert_int_equal(r->cpusvn_components[i], v);
    }
    assert_int_equal(r->tcb_evaluation_data_number,
                     expect_int(o, "tcb_info.tcbEvaluationDataNumber"));
    assert_memory_equal(r->root_sha256, scitt_dcap_intel_root_sha256, 32);
    /* statuses */
    char want[64];
    assert_int_equal(scitt_json_string(&expected()->j, (size_t)at(o, "qe_identity_status"), want,
                                       sizeof(want), NULL),
                     SCITT_OK);
    assert_string_equal(scitt_dcap_tcb_status_name(r->qe_status), want);
}

/* The advisories of the matched level(s) as expected.json lists them, in order. */
static void check_advisories(const dt_sample *s, const scitt_dcap_result *r)
{
    size_t o = sample_obj(s->id);
    exp_doc *e = expected();
    long arr = at(o, "tcb_evaluation.advisoryIDs");
    assert_int_equal(r->n_advisory_ids, e->j.toks[arr].count);
    for (size_t i = 0; i < r->n_advisory_ids; i++) {
        assert_true(scitt_json_str_eq(&e->j, (size_t)scitt_json_at(&e->j, (size_t)arr, i),
                                      r->advisory_ids[i]));
    }
    char want[64];
    assert_int_equal(
        scitt_json_string(&e->j, (size_t)at(o, "tcb_evaluation.final"), want, sizeof(want), NULL),
        SCITT_OK);
    assert_string_equal(scitt_dcap_tcb_status_name(r->tcb_status), want);
}

typedef struct run {
    uint8_t *quote;
    size_t len;
    scitt_dcap_quote q;
    scitt_dcap_collateral *c;
    scitt_dcap_verify_opts o;
    scitt_dcap_result r;
} run;

static void run_open(run *x, const dt_sample *s, unsigned skip)
{
    memset(x, 0, sizeof(*x));
    x->quote = dt_load(s->quote, &x->len);
    assert_int_equal(scitt_dcap_quote_parse(scitt_span_make(x->quote, x->len), &x->q, NULL),
                     SCITT_OK);
    x->c = dt_collateral(s->collateral, skip);
    scitt_dcap_verify_opts_init(&x->o, dt_time(s->now));
}

static scitt_err run_verify(run *x)
{
    return scitt_dcap_verify(scitt_span_make(x->quote, x->len), x->c, &x->o, &x->r);
}

static void run_close(run *x)
{
    scitt_dcap_collateral_free(x->c);
    free(x->quote);
}

static void test_gcp_up_to_date(void **state)
{
    (void)state;
    const dt_sample *s = &dt_samples[DT_GCP];
    run x;
    run_open(&x, s, 0);
    DT_EXPECT(run_verify(&x), x.r, SCITT_OK, SCITT_TEE_OK);
    check_fields(s, &x.q, &x.r);
    check_advisories(s, &x.r);
    assert_int_equal(x.r.tcb_status, SCITT_DCAP_TCB_UP_TO_DATE);
    assert_int_equal(x.r.platform_status, SCITT_DCAP_TCB_UP_TO_DATE);
    assert_int_equal(x.r.tdx_module_status, SCITT_DCAP_TCB_UP_TO_DATE);
    assert_true(x.r.pck_crl_checked && x.r.root_crl_checked);
    /* trailing zeros (the QGS's 8000-byte buffer) are padding, not data */
    assert_true(x.q.trailing_len > 0 && x.q.trailing_zero);
    /* the common window of every certificate, CRL and document */
    size_t o = sample_obj(s->id);
    assert_int_equal(x.r.valid_from, expect_time(o, "common_validity_window.from"));
    assert_int_equal(x.r.valid_until, expect_time(o, "common_validity_window.to"));
    assert_int_equal(x.r.tcb_date, dt_time("2024-03-13T00:00:00Z"));
    run_close(&x);
}

static void test_automata_tdx_out_of_date(void **state)
{
    (void)state;
    const dt_sample *s = &dt_samples[DT_AUTOMATA_TDX];
    run x;
    run_open(&x, s, 0);
    /* authentic, but OutOfDate is not accepted by default: every field is still reported */
    DT_EXPECT(run_verify(&x), x.r, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
    check_fields(s, &x.q, &x.r);
    check_advisories(s, &x.r);
    assert_int_equal(x.r.platform_status, SCITT_DCAP_TCB_OUT_OF_DATE);
    assert_int_equal(x.r.tdx_module_status, SCITT_DCAP_TCB_UP_TO_DATE);
    assert_int_equal(x.r.tcb_date, dt_time("2023-08-09T00:00:00Z"));
    size_t o = sample_obj(s->id);
    assert_int_equal(x.r.valid_from, expect_time(o, "common_validity_window.from"));
    assert_int_equal(x.r.valid_until, expect_time(o, "common_validity_window.to"));
    /* accepted when the caller accepts OutOfDate */
    assert_int_equal(scitt_dcap_accept_parse(scitt_span_str("UpToDate,OutOfDate"), &x.o.accept),
                     SCITT_OK);
    DT_EXPECT(run_verify(&x), x.r, SCITT_OK, SCITT_TEE_OK);
    /* and refused again when only another status is */
    x.o.accept = SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_SW_HARDENING_NEEDED);
    DT_EXPECT(run_verify(&x), x.r, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
    run_close(&x);
}

static void test_automata_sgx_sw_hardening(void **state)
{
    (void)state;
    const dt_sample *s = &dt_samples[DT_AUTOMATA_SGX];
    run x;
    run_open(&x, s, 0);
    DT_EXPECT(run_verify(&x), x.r, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
    check_fields(s, &x.q, &x.r);
    check_advisories(s, &x.r);
    assert_int_equal(x.r.tdx_module_status, SCITT_DCAP_TCB_UNKNOWN);
    size_t o = sample_obj(s->id);
    assert_int_equal(x.r.valid_from, expect_time(o, "common_validity_window.from"));
    assert_int_equal(x.r.valid_until, expect_time(o, "common_validity_window.to"));
    x.o.accept = SCITT_DCAP_ACCEPT_DEFAULT | SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_SW_HARDENING_NEEDED);
    DT_EXPECT(run_verify(&x), x.r, SCITT_OK, SCITT_TEE_OK);
    assert_int_equal(x.r.tcb_status, SCITT_DCAP_TCB_SW_HARDENING_NEEDED);
    run_close(&x);
}

static void test_mobilecoin_stale_pck_crl(void **state)
{
    (void)state;
    const dt_sample *s = &dt_samples[DT_MOBILECOIN];
    run x;
    /* as shipped: the PCK Processor CA CRL expired before the PCK certificate was issued */
    run_open(&x, s, 0);
    DT_EXPECT(run_verify(&x), x.r, SCITT_ERR_EXPIRED, SCITT_TEE_DCAP_CRL_EXPIRED);
    assert_false(x.r.authentic);
    assert_int_equal(x.r.tcb_status, SCITT_DCAP_TCB_UNKNOWN); /* nothing leaks from a refusal */
    run_close(&x);
    /* without it: authentic, SWHardeningNeeded, and the result says no PCK CRL was checked */
    run_open(&x, s, 1u << SCITT_DCAP_PCK_CRL);
    x.o.accept = SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_SW_HARDENING_NEEDED);
    DT_EXPECT(run_verify(&x), x.r, SCITT_OK, SCITT_TEE_OK);
    check_fields(s, &x.q, &x.r);
    check_advisories(s, &x.r);
    assert_false(x.r.pck_crl_checked);
    assert_true(x.r.root_crl_checked);
    size_t o = sample_obj(s->id);
    assert_int_equal(x.r.valid_from,
                     expect_time(o, "common_validity_window_ignoring_pck_crl.from"));
    assert_int_equal(x.r.valid_until, expect_time(o, "common_validity_window_ignoring_pck_crl.to"));
    run_close(&x);
}

static void test_spr_e4_not_supported(void **state)
{
    (void)state;
    const dt_sample *s = &dt_samples[DT_SPR_E4];
    run x;
    run_open(&x, s, 0);
    /* 39 bytes of ASCII after the signature data: covered by nothing, refused by default */
    assert_int_equal(x.q.trailing_len, 39);
    assert_false(x.q.trailing_zero);
    DT_EXPECT(run_verify(&x), x.r, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_DCAP_TRAILING);
    assert_false(x.r.authentic);
    /* allowed: every signature verifies, but no TCB level of this TCB info matches */
    x.o.allow_trailing = true;
    DT_EXPECT(run_verify(&x), x.r, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TCB_NOT_SUPPORTED);
    assert_true(x.r.authentic);
    check_fields(s, &x.q, &x.r);
    assert_int_equal(x.r.tcb_status, SCITT_DCAP_TCB_NOT_SUPPORTED);
    assert_int_equal(x.r.n_advisory_ids, 0);
    /* no accept list admits it */
    x.o.accept = 0xffffffffu;
    DT_EXPECT(run_verify(&x), x.r, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TCB_NOT_SUPPORTED);
    run_close(&x);
}

/* The quote parser alone reports what expected.json records for every sample. */
static void test_parse_every_sample(void **state)
{
    (void)state;
    for (int i = 0; i < DT_N; i++) {
        const dt_sample *s = &dt_samples[i];
        size_t n;
        uint8_t *b = dt_load(s->quote, &n);
        size_t o = sample_obj(s->id);
        assert_int_equal(n, expect_int(o, "quote_size"));
        uint8_t h[32];
        scitt_sha256(b, n, h);
        expect_hex(o, "quote_sha256", h, 32);
        scitt_dcap_quote q;
        scitt_tee_reason why = SCITT_TEE_REPORT_SIZE; /* any non-OK value */
        assert_int_equal(scitt_dcap_quote_parse(scitt_span_make(b, n), &q, &why), SCITT_OK);
        assert_int_equal(why, SCITT_TEE_OK);
        assert_int_equal(q.tee, s->tee);
        expect_hex(o, "qe_report_data_expected_sha256_att_key_auth", q.qe.report_data, 32);
        assert_int_equal((size_t)(q.qe_report.ptr - b), expect_int(o, "offsets.qe_report"));
        assert_int_equal((size_t)(q.cert_data.ptr - b), expect_int(o, "offsets.cert_data"));
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_every_sample),
        cmocka_unit_test(test_gcp_up_to_date),
        cmocka_unit_test(test_automata_tdx_out_of_date),
        cmocka_unit_test(test_automata_sgx_sw_hardening),
        cmocka_unit_test(test_mobilecoin_stale_pck_crl),
        cmocka_unit_test(test_spr_e4_not_supported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
