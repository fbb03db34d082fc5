/*
 * The real TDX device, only where one exists: on a TDX guest with configfs-tsm (provider
 * tdx_guest), acquire a quote for a fresh nonce, check it parses as a TDX quote carrying the
 * nonce, and, when SCITT_DCAP_COLLATERAL names a collateral directory for this platform, verify it
 * to Intel's pinned root with every TCB status but Revoked accepted (the point is the chain, not
 * the host's patch level) and print the status. Elsewhere the whole program reports itself
 * skipped: it prints why and exits 77, which ctest records as "Skipped".
 */
#include "tee_test.h"
#include "skip.h"

#include <sys/stat.h>
#include <time.h>

#include "scitt/attest.h"
#include "scitt/dcap.h"

static void nonce(uint8_t out[64])
{
    FILE *f = fopen("/dev/urandom", "rb");
    assert_non_null(f);
    assert_int_equal(fread(out, 1, 64, f), 64);
    fclose(f);
}

static void test_acquire_and_verify(void **state)
{
    (void)state;
    uint8_t rd[64];
    nonce(rd);
    scitt_tee_acquire_opts o;
    memset(&o, 0, sizeof(o));
    scitt_tee_evidence ev;
    scitt_tee_evidence_init(&ev);
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err err = scitt_tee_acquire(&o, rd, &ev, &why);
    if (err == SCITT_ERR_NO_TEE) {
        tu_skip("configfs-tsm gives no report (%s): not a TDX guest", scitt_tee_reason_str(why));
    }
    if (err != SCITT_OK) {
        fail_msg("acquire: %s (%s)", scitt_err_str(err), scitt_tee_reason_str(why));
    }
    if (ev.platform != SCITT_TEE_TDX) {
        char provider[sizeof(ev.provider)];
        memcpy(provider, ev.provider, sizeof(provider));
        scitt_tee_evidence_clear(&ev);
        tu_skip("not a TDX guest (provider %.31s)", provider);
    }
    scitt_dcap_quote q;
    assert_int_equal(scitt_dcap_quote_parse(scitt_span_make(ev.report, ev.report_len), &q, NULL),
                     SCITT_OK);
    assert_int_equal(q.tee, SCITT_DCAP_TEE_TDX);
    assert_memory_equal(q.td.report_data, rd, 64);
    const char *dir = getenv("SCITT_DCAP_COLLATERAL");
    if (!dir) {
        scitt_tee_evidence_clear(&ev);
        tu_skip("quote acquired and bound; not verified: set SCITT_DCAP_COLLATERAL to a "
                "collateral directory for this platform (docs/tee.md)");
    }
    scitt_dynbuf m;
    scitt_dynbuf_init(&m, 0);
    assert_int_equal(scitt_tee_dcap_collateral_read(dir, &m, &why), SCITT_OK);
    scitt_dcap_collateral *c;
    assert_int_equal(scitt_dcap_collateral_new(&c), SCITT_OK);
    assert_int_equal(scitt_attest_collateral_load(scitt_span_make(m.ptr, m.len), c, &why),
                     SCITT_OK);
    scitt_dcap_verify_opts vo;
    scitt_dcap_verify_opts_init(&vo, (int64_t)time(NULL));
    assert_int_equal(
        scitt_dcap_accept_parse(scitt_span_str("UpToDate,SWHardeningNeeded,ConfigurationNeeded,"
                                               "ConfigurationAndSWHardeningNeeded,OutOfDate,"
                                               "OutOfDateConfigurationNeeded"),
                                &vo.accept),
        SCITT_OK);
    scitt_dcap_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    err = scitt_dcap_verify(scitt_span_make(ev.report, ev.report_len), c, &vo, r);
    if (err != SCITT_OK) {
        fail_msg("verify: %s (%s)", scitt_err_str(err), scitt_tee_reason_str(r->why));
    }
    print_message("verified a TDX quote, TCB %s, MRTD starts %02x%02x%02x%02x\n",
                  scitt_dcap_tcb_status_name(r->tcb_status), r->td.mrtd[0], r->td.mrtd[1],
                  r->td.mrtd[2], r->td.mrtd[3]);
    free(r);
    scitt_dcap_collateral_free(c);
    scitt_dynbuf_clear(&m);
    scitt_tee_evidence_clear(&ev);
}

int main(void)
{
    struct stat st;
    if (stat("/sys/kernel/config/tsm/report", &st) != 0) {
        printf("SKIP: no /sys/kernel/config/tsm/report: not a TDX guest with configfs-tsm\n");
        return TU_SKIP_CODE;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acquire_and_verify),
    };
    return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
