/*
 * The TCB evaluation of the DCAP verifier over synthetic collateral (dcap_synth.h), whose levels
 * and statuses the real samples fix to a few values: which TCB level is selected (the first, in
 * document order, whose 16 SGX components, PCE SVN and, for TDX, TDX components from the right
 * index are all <= the platform's), the QE and TDX module levels (the first whose ISVSVN is <=),
 * how their statuses combine with the platform's (Revoked anywhere, OutOfDate over UpToDate /
 * SWHardeningNeeded / the Configuration* statuses), which advisory IDs are carried, and the accept
 * list over every status.
 */
#include "testutil.h"

#include "dcap_synth.h"
#include "scitt/dcap.h"

#define NOW             INT64_C(1750000000)
#define ALL_BUT_REVOKED (0x3fu << 1)

static const scitt_dcap_tee tees[2] = {SCITT_DCAP_TEE_TDX, SCITT_DCAP_TEE_SGX};

static scitt_dcap_result expect_(const ds_spec *s, uint32_t accept, scitt_err want,
                                 scitt_tee_reason want_why, int line)
{
    scitt_dcap_result r;
    scitt_err err = ds_verify(s, accept, &r);
    if (err != want || r.why != want_why) {
        fail_msg("line %d (%s): got %s/%s (status %s), want %s/%s", line,
                 scitt_dcap_tee_name(s->tee), scitt_err_name(err), scitt_tee_reason_name(r.why),
                 scitt_dcap_tcb_status_name(r.tcb_status), scitt_err_name(want),
                 scitt_tee_reason_name(want_why));
    }
    return r;
}

/* Verifies with every status but Revoked accepted and wants @p status (and success). */
static scitt_dcap_result status_(const ds_spec *s, scitt_dcap_tcb_status status, int line)
{
    scitt_dcap_result r = expect_(s, ALL_BUT_REVOKED, SCITT_OK, SCITT_TEE_OK, line);
    if (r.tcb_status != status) {
        fail_msg("line %d (%s): status %s, want %s", line, scitt_dcap_tee_name(s->tee),
                 scitt_dcap_tcb_status_name(r.tcb_status), scitt_dcap_tcb_status_name(status));
    }
    return r;
}
#define STATUS(s, st)                expect_status(&(s), st, __LINE__)
#define EXPECT(s, accept, want, why) expect_(&(s), accept, want, why, __LINE__)

static scitt_dcap_result expect_status(const ds_spec *s, scitt_dcap_tcb_status st, int line)
{
    if (st == SCITT_DCAP_TCB_REVOKED) {
        scitt_dcap_result r = expect_(s, ~0u, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS, line);
        assert_int_equal(r.tcb_status, SCITT_DCAP_TCB_REVOKED);
        return r;
    }
    return status_(s, st, line);
}

static void assert_advisories(const scitt_dcap_result *r, const char *const *want, size_t n)
{
    if (r->n_advisory_ids != n) {
        fail_msg("%zu advisory IDs, want %zu", r->n_advisory_ids, n);
    }
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r->advisory_ids[i], want[i]);
    }
}

/*
 * Three platform levels around the default platform: L0 above it in one place (set by the
 * caller), L1 equal to it, L2 below it everywhere.
 */
static void three_levels(ds_spec *s)
{
    s->ti_n_levels = 3;
    ds_level *l = s->ti_levels;
    l[1] = l[0];
    l[2] = l[0];
    l[0].status = "UpToDate";
    l[0].adv = "INTEL-SA-09000";
    l[1].status = "SWHardeningNeeded";
    l[1].adv = "INTEL-SA-09001";
    l[1].date = NOW - 300 * 86400;
    static const uint8_t zero[16];
    ds_level_set(&l[2], 0, 0, zero, "OutOfDate", "INTEL-SA-09002");
    l[2].date = NOW - 400 * 86400;
}

static void expect_l1(const ds_spec *s, int line)
{
    scitt_dcap_result r = status_(s, SCITT_DCAP_TCB_SW_HARDENING_NEEDED, line);
    assert_int_equal(r.platform_status, SCITT_DCAP_TCB_SW_HARDENING_NEEDED);
    assert_int_equal(r.tcb_date, NOW - 300 * 86400);
    static const char *const want[] = {"INTEL-SA-09001"};
    assert_advisories(&r, want, 1);
}

/* ---- level selection ---- */

static void test_level_sgx_components(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        three_levels(&base);
        /* each SGX component above the platform's by one makes L0 not apply */
        for (int k = 0; k < 16; k++) {
            ds_spec s = base;
            s.ti_levels[0].sgx[k] = (uint8_t)(s.cpusvn_components[k] + 1);
            expect_l1(&s, __LINE__);
            /* the platform one higher there: L0 applies */
            s.cpusvn_components[k]++;
            STATUS(s, SCITT_DCAP_TCB_UP_TO_DATE);
        }
        /* the PCE SVN likewise */
        ds_spec s = base;
        s.ti_levels[0].pcesvn = (uint16_t)(s.pce_svn + 1);
        expect_l1(&s, __LINE__);
        s.ti_levels[0].pcesvn = (uint16_t)(s.pce_svn + 0x100); /* the high byte counts too */
        expect_l1(&s, __LINE__);
        /* above every level: no TCB level, TcbNotSupported */
        s = base;
        for (int i = 0; i < 3; i++) {
            s.ti_levels[i].pcesvn = 0xffff;
        }
        scitt_dcap_result r =
            EXPECT(s, ALL_BUT_REVOKED, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TCB_NOT_SUPPORTED);
        assert_true(r.authentic);
        assert_int_equal(r.tcb_status, SCITT_DCAP_TCB_NOT_SUPPORTED);
        assert_int_equal(r.n_advisory_ids, 0);
    }
}

static void test_level_tdx_components(void **state)
{
    (void)state;
    ds_spec base;
    ds_spec_default(&base, SCITT_DCAP_TEE_TDX, NOW);
    three_levels(&base);
    /* module major version 1: TDX components from index 2 are the platform's */
    for (int k = 2; k < 16; k++) {
        ds_spec s = base;
        s.ti_levels[0].tdx[k] = (uint8_t)(s.tee_tcb_svn[k] + 1);
        expect_l1(&s, __LINE__);
        s.tee_tcb_svn[k]++;
        STATUS(s, SCITT_DCAP_TCB_UP_TO_DATE);
    }
    /* bytes 0 and 1 are the module's SVN and major version, judged by the module identity */
    for (int k = 0; k < 2; k++) {
        ds_spec s = base;
        s.ti_levels[0].tdx[k] = 0xff;
        STATUS(s, SCITT_DCAP_TCB_UP_TO_DATE);
    }
    /* major version 0 (TDX 1.0): all 16 are the platform's */
    base.tee_tcb_svn[1] = 0;
    for (int i = 0; i < 2; i++) {
        base.ti_levels[i].tdx[1] = 0;
    }
    STATUS(base, SCITT_DCAP_TCB_UP_TO_DATE);
    for (int k = 0; k < 16; k++) {
        ds_spec s = base;
        s.ti_levels[0].tdx[k] = (uint8_t)(s.tee_tcb_svn[k] + 1);
        expect_l1(&s, __LINE__);
    }
}

static void test_level_document_order(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec s;
        ds_spec_default(&s, tees[t], NOW);
        three_levels(&s);
        /* the first level that applies is taken, not the best one: L2 (below the platform)
         * first, then L1 and L0 (equal) */
        ds_level l0 = s.ti_levels[0], l2 = s.ti_levels[2];
        s.ti_levels[0] = l2;
        s.ti_levels[2] = l0;
        scitt_dcap_result r = STATUS(s, SCITT_DCAP_TCB_OUT_OF_DATE);
        assert_int_equal(r.platform_status, SCITT_DCAP_TCB_OUT_OF_DATE);
        assert_int_equal(r.tcb_date, NOW - 400 * 86400);
        static const char *const want[] = {"INTEL-SA-09002"};
        assert_advisories(&r, want, 1);
        /* the last level the only one that applies */
        for (int i = 0; i < 2; i++) {
            s.ti_levels[i].pcesvn = 0xffff;
        }
        s.ti_levels[2].status = "ConfigurationNeeded";
        STATUS(s, SCITT_DCAP_TCB_CONFIGURATION_NEEDED);
    }
}

/* ---- statuses and how they combine ---- */

static const char *const names[] = {
    NULL,
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
};
#define N_NAMED 8

static void test_platform_statuses(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        for (int st = 1; st < N_NAMED; st++) {
            ds_spec s;
            ds_spec_default(&s, tees[t], NOW);
            s.ti_levels[0].status = names[st];
            scitt_dcap_result r = STATUS(s, (scitt_dcap_tcb_status)st);
            assert_int_equal(r.platform_status, st);
            assert_int_equal(r.qe_status, SCITT_DCAP_TCB_UP_TO_DATE);
        }
    }
}

/* The converged status of platform status @p p with a QE or TDX module status @p o. */
static scitt_dcap_tcb_status converged(int p, int o)
{
    if (p == SCITT_DCAP_TCB_REVOKED || o == SCITT_DCAP_TCB_REVOKED) {
        return SCITT_DCAP_TCB_REVOKED;
    }
    if (o != SCITT_DCAP_TCB_OUT_OF_DATE && o != SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) {
        return (scitt_dcap_tcb_status)p;
    }
    switch (p) {
    case SCITT_DCAP_TCB_UP_TO_DATE:
    case SCITT_DCAP_TCB_SW_HARDENING_NEEDED:
        return SCITT_DCAP_TCB_OUT_OF_DATE;
    case SCITT_DCAP_TCB_CONFIGURATION_NEEDED:
    case SCITT_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
        return SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    default:
        return (scitt_dcap_tcb_status)p;
    }
}

static void test_qe_status_combines(void **state)
{
    (void)state;
    /* a spot check of the table the loop below relies on */
    assert_int_equal(
        converged(SCITT_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, SCITT_DCAP_TCB_OUT_OF_DATE),
        SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
    for (int t = 0; t < 2; t++) {
        for (int p = 1; p < N_NAMED; p++) {
            for (int o = 1; o < N_NAMED; o++) {
                ds_spec s;
                ds_spec_default(&s, tees[t], NOW);
                s.ti_levels[0].status = names[p];
                s.qi_levels[0].status = names[o];
                scitt_dcap_result r = STATUS(s, converged(p, o));
                if (converged(p, o) != SCITT_DCAP_TCB_REVOKED) {
                    assert_int_equal(r.qe_status, o);
                    assert_int_equal(r.platform_status, p);
                }
            }
        }
    }
}

static void test_tdx_module_status_combines(void **state)
{
    (void)state;
    for (int p = 1; p < N_NAMED; p++) {
        for (int o = 1; o < N_NAMED; o++) {
            ds_spec s;
            ds_spec_default(&s, SCITT_DCAP_TEE_TDX, NOW);
            s.ti_levels[0].status = names[p];
            s.ti_modules[0].levels[0].status = names[o];
            scitt_dcap_result r = STATUS(s, converged(p, o));
            if (converged(p, o) != SCITT_DCAP_TCB_REVOKED) {
                assert_int_equal(r.tdx_module_status, o);
                assert_int_equal(r.platform_status, p);
                assert_int_equal(r.qe_status, SCITT_DCAP_TCB_UP_TO_DATE);
            }
        }
    }
    /* the module and the QE both: each is applied */
    ds_spec s;
    ds_spec_default(&s, SCITT_DCAP_TEE_TDX, NOW);
    s.ti_levels[0].status = "ConfigurationNeeded";
    s.ti_modules[0].levels[0].status = "OutOfDate";
    STATUS(s, SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
    s.qi_levels[0].status = "Revoked";
    STATUS(s, SCITT_DCAP_TCB_REVOKED);
    s.qi_levels[0].status = "UpToDate";
    s.ti_levels[0].status = "UpToDate";
    s.ti_modules[0].levels[0].status = "UpToDate";
    s.qi_levels[0].status = "OutOfDate";
    STATUS(s, SCITT_DCAP_TCB_OUT_OF_DATE);
}

static void test_isv_levels(void **state)
{
    (void)state;
    /* {QE ISVSVN or module SVN, the status of the level it falls in} over levels 6, 4, 2 */
    static const struct {
        uint16_t svn;
        scitt_dcap_tcb_status want;
    } cases[] = {
        {9, SCITT_DCAP_TCB_UP_TO_DATE},  {6, SCITT_DCAP_TCB_UP_TO_DATE},
        {5, SCITT_DCAP_TCB_OUT_OF_DATE}, {4, SCITT_DCAP_TCB_OUT_OF_DATE},
        {3, SCITT_DCAP_TCB_REVOKED},     {2, SCITT_DCAP_TCB_REVOKED},
        {1, SCITT_DCAP_TCB_OUT_OF_DATE}, /* below every level */
    };
    const ds_isv_level levels[3] = {{6, "UpToDate", NOW - 86400, NULL},
                                    {4, "OutOfDate", NOW - 2 * 86400, NULL},
                                    {2, "Revoked", NOW - 3 * 86400, NULL}};
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            ds_spec s;
            ds_spec_default(&s, tees[t], NOW);
            s.qi_n_levels = 3;
            memcpy(s.qi_levels, levels, sizeof(levels));
            s.qe_isv_svn = cases[i].svn;
            scitt_dcap_result r = STATUS(s, cases[i].want);
            if (cases[i].want != SCITT_DCAP_TCB_REVOKED) {
                assert_int_equal(r.qe_status, cases[i].want);
            }
            if (tees[t] == SCITT_DCAP_TEE_SGX) {
                continue;
            }
            /* the TDX module's SVN (TEE_TCB_SVN[0]) against TDX_01's levels */
            ds_spec_default(&s, tees[t], NOW);
            s.ti_modules[0].n_levels = 3;
            memcpy(s.ti_modules[0].levels, levels, sizeof(levels));
            s.tee_tcb_svn[0] = (uint8_t)cases[i].svn;
            r = STATUS(s, cases[i].want);
            if (cases[i].want != SCITT_DCAP_TCB_REVOKED) {
                assert_int_equal(r.tdx_module_status, cases[i].want);
            }
        }
    }
    /* the first level that applies, in document order: 2 before 6 */
    ds_spec s;
    ds_spec_default(&s, SCITT_DCAP_TEE_SGX, NOW);
    s.qi_n_levels = 2;
    s.qi_levels[0] = levels[1];
    s.qi_levels[1] = levels[0];
    s.qe_isv_svn = 6;
    STATUS(s, SCITT_DCAP_TCB_OUT_OF_DATE);
}

/* ---- advisory IDs ---- */

static void test_advisories(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        bool tdx = tees[t] == SCITT_DCAP_TEE_TDX;
        ds_spec s;
        ds_spec_default(&s, tees[t], NOW);
        three_levels(&s);
        s.ti_levels[0].sgx[3] = 0xff; /* L1 applies; L0's and L2's IDs are not carried */
        s.ti_levels[1].adv = "INTEL-SA-00002,INTEL-SA-00003";
        /* the module's and the QE's level: their IDs follow, each once, in first-seen order */
        s.ti_modules[0].levels[0].adv = "INTEL-SA-00003,INTEL-SA-00004";
        s.qi_n_levels = 2;
        s.qi_levels[1] = s.qi_levels[0];
        s.qi_levels[0].isvsvn = 9; /* not the QE's level */
        s.qi_levels[0].adv = "INTEL-SA-00008";
        s.qi_levels[1].adv = "INTEL-SA-00005,INTEL-SA-00002";
        scitt_dcap_result r = STATUS(s, SCITT_DCAP_TCB_SW_HARDENING_NEEDED);
        static const char *const want_tdx[] = {"INTEL-SA-00002", "INTEL-SA-00003", "INTEL-SA-00004",
                                               "INTEL-SA-00005"};
        static const char *const want_sgx[] = {"INTEL-SA-00002", "INTEL-SA-00003",
                                               "INTEL-SA-00005"};
        if (tdx) {
            assert_advisories(&r, want_tdx, 4);
        } else {
            assert_advisories(&r, want_sgx, 3);
        }
        /* the IDs of a module level that does not apply are not carried */
        if (tdx) {
            ds_spec m = s;
            m.ti_modules[0].n_levels = 2;
            m.ti_modules[0].levels[1] = m.ti_modules[0].levels[0];
            m.ti_modules[0].levels[0].isvsvn = 200;
            m.ti_modules[0].levels[0].adv = "INTEL-SA-00077";
            m.ti_modules[0].levels[1].adv = NULL;
            r = STATUS(m, SCITT_DCAP_TCB_SW_HARDENING_NEEDED);
            static const char *const want[] = {"INTEL-SA-00002", "INTEL-SA-00003",
                                               "INTEL-SA-00005"};
            assert_advisories(&r, want, 3);
        }
        /* up to SCITT_DCAP_MAX_ADVISORIES distinct IDs, then the result has no room */
        static char many[64 * 16 + 1];
        many[0] = 0;
        for (int i = 0; i < 60; i++) {
            char one[20];
            snprintf(one, sizeof(one), "%sINTEL-SA-1%04d", i ? "," : "", i);
            strcat(many, one);
        }
        ds_spec_default(&s, tees[t], NOW);
        s.ti_levels[0].adv = many;                             /* 60 */
        s.qi_levels[0].adv = "INTEL-SA-10000,X-1,X-2,X-3,X-4"; /* 4 more */
        r = STATUS(s, SCITT_DCAP_TCB_UP_TO_DATE);
        assert_int_equal(r.n_advisory_ids, SCITT_DCAP_MAX_ADVISORIES);
        assert_string_equal(r.advisory_ids[63], "X-4");
        s.qi_levels[0].adv = "INTEL-SA-10000,X-1,X-2,X-3,X-4,X-5";
        EXPECT(s, ALL_BUT_REVOKED, SCITT_ERR_TOO_LARGE, SCITT_TEE_DCAP_TCB_INFO_FORMAT);
    }
}

/* ---- the accept list ---- */

static void test_accept_lists(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        for (int st = 1; st < N_NAMED; st++) {
            ds_spec s;
            ds_spec_default(&s, tees[t], NOW);
            s.ti_levels[0].status = names[st];
            uint32_t bit = SCITT_DCAP_ACCEPT(st);
            if (st == SCITT_DCAP_TCB_REVOKED) {
                /* no list admits Revoked, not even one with its bit set */
                scitt_dcap_result r = EXPECT(s, bit, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
                assert_true(r.authentic);
                EXPECT(s, ~0u, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
                uint32_t parsed = 0;
                assert_int_equal(scitt_dcap_accept_parse(scitt_span_str(names[st]), &parsed),
                                 SCITT_ERR_INVALID_ARG);
                continue;
            }
            /* the status alone, the list as the CLI would parse it, and every other status */
            EXPECT(s, bit, SCITT_OK, SCITT_TEE_OK);
            uint32_t parsed = 0;
            assert_int_equal(scitt_dcap_accept_parse(scitt_span_str(names[st]), &parsed), SCITT_OK);
            EXPECT(s, parsed, SCITT_OK, SCITT_TEE_OK);
            scitt_dcap_result r =
                EXPECT(s, ~0u & ~bit, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
            /* authentic evidence refused by policy still says what it is */
            assert_true(r.authentic);
            assert_int_equal(r.tcb_status, st);
            /* 0 is the default list: UpToDate only */
            if (st == SCITT_DCAP_TCB_UP_TO_DATE) {
                EXPECT(s, 0, SCITT_OK, SCITT_TEE_OK);
            } else {
                EXPECT(s, 0, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
            }
        }
        /* the converged status is what the list judges, not the platform's: an UpToDate
         * platform with an OutOfDate QE is not admitted by "UpToDate" */
        ds_spec s;
        ds_spec_default(&s, tees[t], NOW);
        s.qi_levels[0].status = "OutOfDate";
        EXPECT(s, SCITT_DCAP_ACCEPT_DEFAULT, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
        EXPECT(s, SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_OUT_OF_DATE), SCITT_OK, SCITT_TEE_OK);
        s.qi_levels[0].status = "Revoked";
        EXPECT(s, ~0u, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
        if (tees[t] == SCITT_DCAP_TEE_TDX) {
            ds_spec_default(&s, tees[t], NOW);
            s.ti_modules[0].levels[0].status = "OutOfDate";
            EXPECT(s, SCITT_DCAP_ACCEPT_DEFAULT, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
            s.ti_modules[0].levels[0].status = "Revoked";
            EXPECT(s, ~0u, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_sgx_components),
        cmocka_unit_test(test_level_tdx_components),
        cmocka_unit_test(test_level_document_order),
        cmocka_unit_test(test_platform_statuses),
        cmocka_unit_test(test_qe_status_combines),
        cmocka_unit_test(test_tdx_module_status_combines),
        cmocka_unit_test(test_isv_levels),
        cmocka_unit_test(test_advisories),
        cmocka_unit_test(test_accept_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
