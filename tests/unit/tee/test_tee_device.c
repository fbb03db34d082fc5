/*
 * The real device, only where one exists: on an SEV-SNP guest with configfs-tsm or
 * /dev/sev-guest, acquire a report for a fresh nonce, check it carries the nonce, and verify it
 * with the certificates the host supplies (auxblob / extended report) plus, if set,
 * SCITT_TEE_CHAIN_PEM (an ASK+ARK PEM file, e.g. KDS cert_chain). Elsewhere the whole program
 * reports itself skipped: it prints why and exits 77, which ctest records as "Skipped".
 */
#include "tee_test.h"
#include "skip.h"

#include <sys/stat.h>
#include <time.h>

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

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
    o.want_certs = true;
    scitt_tee_evidence ev;
    scitt_tee_evidence_init(&ev);
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err err = scitt_tee_acquire(&o, rd, &ev, &why);
    if (err != SCITT_OK) {
        fail_msg("acquire: %s (%s)", scitt_err_str(err), scitt_tee_reason_str(why));
    }
    if (ev.platform != SCITT_TEE_SEV_SNP) {
        char provider[sizeof(ev.provider)];
        memcpy(provider, ev.provider, sizeof(provider));
        scitt_tee_evidence_clear(&ev);
        tu_skip("not an SEV-SNP guest (provider %.31s): nothing to verify", provider);
    }
    scitt_snp_report r;
    assert_int_equal(scitt_snp_report_parse(scitt_span_make(ev.report, ev.report_len), &r, NULL),
                     SCITT_OK);
    assert_memory_equal(r.report_data, rd, 64);
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    if (ev.certs_len) {
        assert_int_equal(
            scitt_snp_certs_add_table(&certs, scitt_span_make(ev.certs, ev.certs_len), NULL),
            SCITT_OK);
    }
    const char *chain = getenv("SCITT_TEE_CHAIN_PEM");
    if (chain) {
        size_t n;
        uint8_t *pem = tu_read_file(chain, &n);
        assert_int_equal(scitt_snp_certs_add_pem(&certs, scitt_span_make(pem, n), NULL), SCITT_OK);
        free(pem);
    }
    if (!scitt_snp_certs_get(&certs, SCITT_SNP_CERT_VCEK).len &&
        !scitt_snp_certs_get(&certs, SCITT_SNP_CERT_VLEK).len) {
        scitt_snp_certs_clear(&certs);
        scitt_tee_evidence_clear(&ev);
        tu_skip("the host supplied no VCEK: report acquired, not verified");
    }
    scitt_snp_verify_opts vo;
    scitt_snp_verify_opts_init(&vo, (int64_t)time(NULL));
    vo.allow_vlek = true;
    scitt_snp_verified v;
    err = scitt_snp_verify(scitt_span_make(ev.report, ev.report_len), &certs, &vo, &v, &why);
    if (err != SCITT_OK) {
        fail_msg("verify: %s (%s)", scitt_err_str(err), scitt_tee_reason_str(why));
    }
    print_message("verified a %s report, vmpl %u, measurement starts %02x%02x%02x%02x\n",
                  scitt_snp_product_name(v.product), v.report.vmpl, v.report.measurement[0],
                  v.report.measurement[1], v.report.measurement[2], v.report.measurement[3]);
    scitt_snp_certs_clear(&certs);
    scitt_tee_evidence_clear(&ev);
}

static void test_derived_key(void **state)
{
    (void)state;
    if (!exists("/dev/sev-guest")) {
        tu_skip("no /dev/sev-guest: derived keys need the ioctl device");
    }
    scitt_tee_acquire_opts o;
    memset(&o, 0, sizeof(o));
    scitt_snp_key_request kr;
    scitt_snp_key_request_init(&kr);
    uint8_t k1[32], k2[32], k3[32];
    scitt_tee_reason why;
    scitt_err err = scitt_tee_snp_derive_key(&o, &kr, k1, &why);
    if (err != SCITT_OK) {
        fail_msg("derive: %s (%s)", scitt_err_str(err), scitt_tee_reason_str(why));
    }
    assert_int_equal(scitt_tee_snp_derive_key(&o, &kr, k2, NULL), SCITT_OK);
    /* The same request on the same guest gives the same key; other mixed-in fields another. */
    assert_true(scitt_ct_equal(k1, k2, 32));
    kr.guest_field_select |= SCITT_SNP_KEY_FIELD_GUEST_SVN;
    assert_int_equal(scitt_tee_snp_derive_key(&o, &kr, k3, NULL), SCITT_OK);
    assert_false(scitt_ct_equal(k1, k3, 32));
    scitt_wipe(k1, 32);
    scitt_wipe(k2, 32);
    scitt_wipe(k3, 32);
}

int main(void)
{
    if (!exists("/sys/kernel/config/tsm/report") && !exists("/dev/sev-guest")) {
        printf("SKIP: no /sys/kernel/config/tsm/report and no /dev/sev-guest: not a TEE guest\n");
        return TU_SKIP_CODE;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acquire_and_verify),
        cmocka_unit_test(test_derived_key),
    };
    return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
