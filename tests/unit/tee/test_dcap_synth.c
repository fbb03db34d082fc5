/*
 * The checks of the DCAP verifier that real Intel-signed samples cannot reach, driven through a
 * synthetic world generated at test time (dcap_synth.h) with its root pinned: revoked PCK, PCK CA
 * and TCB Signing certificates; keys other than P-256, CA certificates that are not CAs (basic
 * constraints, key usage), roots that are not self-issued, signatures by another key or with
 * another digest; every certificate, CRL and document window; the PCE-ID half of the platform
 * match; the upper half of the QE report_data; the QE identity (MRSIGNER, ISVPRODID, masked
 * MISCSELECT and ATTRIBUTES) and the TDX module identity (by major version, MRSIGNERSEAM, masked
 * SEAM attributes). Every case changes one thing of a world that verifies, and wants the reason
 * of the check it breaks, so removing or moving a check fails a case.
 */
#include "testutil.h"

#include <openssl/obj_mac.h>

#include "dcap_synth.h"
#include "scitt/dcap.h"

#define NOW             INT64_C(1750000000) /* 2025-06-15T15:06:40Z */
#define DAY             86400
#define ALL_BUT_REVOKED (0x3fu << 1)

static const scitt_dcap_tee tees[2] = {SCITT_DCAP_TEE_TDX, SCITT_DCAP_TEE_SGX};

static void expect_(const ds_spec *s, uint32_t accept, scitt_err want, scitt_tee_reason want_why,
                    scitt_dcap_result *out, int line)
{
    scitt_dcap_result r;
    scitt_err err = ds_verify(s, accept, &r);
    if (err != want || r.why != want_why) {
        fail_msg("line %d (%s): got %s/%s, want %s/%s", line, scitt_dcap_tee_name(s->tee),
                 scitt_err_name(err), scitt_tee_reason_name(r.why), scitt_err_name(want),
                 scitt_tee_reason_name(want_why));
    }
    if (err != SCITT_OK && !r.authentic) {
        assert_int_equal(r.tcb_status, SCITT_DCAP_TCB_UNKNOWN);
    }
    if (out) {
        *out = r;
    }
}
#define EXPECT(s, want, why)        expect_(&(s), ALL_BUT_REVOKED, want, why, NULL, __LINE__)
#define EXPECT_R(s, want, why, out) expect_(&(s), ALL_BUT_REVOKED, want, why, out, __LINE__)
#define OK(s)                       EXPECT(s, SCITT_OK, SCITT_TEE_OK)

/* ---- the world itself ---- */

static void test_world_verifies(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec s;
        ds_spec_default(&s, tees[t], NOW);
        scitt_dcap_result r;
        /* the default accept list (UpToDate only) admits it */
        expect_(&s, 0, SCITT_OK, SCITT_TEE_OK, &r, __LINE__);
        assert_true(r.authentic);
        assert_int_equal(r.tee, tees[t]);
        assert_int_equal(r.quote_version, tees[t] == SCITT_DCAP_TEE_TDX ? 4 : 3);
        assert_int_equal(r.tcb_status, SCITT_DCAP_TCB_UP_TO_DATE);
        assert_int_equal(r.platform_status, SCITT_DCAP_TCB_UP_TO_DATE);
        assert_int_equal(r.qe_status, SCITT_DCAP_TCB_UP_TO_DATE);
        assert_int_equal(r.tdx_module_status, tees[t] == SCITT_DCAP_TEE_TDX
                                                  ? SCITT_DCAP_TCB_UP_TO_DATE
                                                  : SCITT_DCAP_TCB_UNKNOWN);
        assert_int_equal(r.n_advisory_ids, 0);
        /* the PCK extensions as generated */
        assert_memory_equal(r.fmspc, s.fmspc, 6);
        assert_memory_equal(r.pce_id, s.pce_id, 2);
        assert_int_equal(r.pce_svn, s.pce_svn);
        assert_memory_equal(r.cpusvn_components, s.cpusvn_components, 16);
        assert_int_equal(r.sgx_type, s.sgx_type);
        assert_memory_equal(r.qe.mrsigner, s.qe_mrsigner, 32);
        assert_int_equal(r.qe.isv_svn, s.qe_isv_svn);
        assert_true(r.pck_crl_checked && r.root_crl_checked);
        assert_int_equal(r.tcb_date, NOW - 200 * DAY);
        /* the QE identity's window is the narrowest */
        assert_int_equal(r.valid_from, s.qi_issue);
        assert_int_equal(r.valid_until, s.qi_next);

        /* with Intel's pin (no override) the synthetic root is not trusted */
        ds_world w;
        ds_build(&s, &w);
        scitt_dcap_collateral *c = ds_collateral(&w);
        scitt_dcap_verify_opts o;
        scitt_dcap_verify_opts_init(&o, NOW);
        assert_int_equal(scitt_dcap_verify(scitt_span_make(w.quote, w.quote_len), c, &o, &r),
                         SCITT_ERR_UNTRUSTED);
        assert_int_equal(r.why, SCITT_TEE_DCAP_ROOT_NOT_PINNED);
        /* pinned: it verifies, and the result names the pin */
        o.root_sha256 = w.root_sha256;
        assert_int_equal(scitt_dcap_verify(scitt_span_make(w.quote, w.quote_len), c, &o, &r),
                         SCITT_OK);
        assert_memory_equal(r.root_sha256, w.root_sha256, 32);
        scitt_dcap_collateral_free(c);
        ds_world_free(&w);
    }
}

/* ---- windows ---- */

static void test_windows(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        /* each window made the narrowest in turn: the result's window is that one */
        for (int k = 0; k < 8; k++) {
            ds_spec s = base;
            int64_t from = NOW - DAY / 2 + k, until = NOW + DAY / 2 - k;
            int64_t *f[8] = {&s.root.not_before,
                             &s.ca.not_before,
                             &s.pck.not_before,
                             &s.tcb_signer.not_before,
                             &s.root_crl.this_update,
                             &s.pck_crl.this_update,
                             &s.ti_issue,
                             &s.qi_issue};
            int64_t *u[8] = {&s.root.not_after,
                             &s.ca.not_after,
                             &s.pck.not_after,
                             &s.tcb_signer.not_after,
                             &s.root_crl.next_update,
                             &s.pck_crl.next_update,
                             &s.ti_next,
                             &s.qi_next};
            *f[k] = from;
            *u[k] = until;
            scitt_dcap_result r;
            EXPECT_R(s, SCITT_OK, SCITT_TEE_OK, &r);
            if (r.valid_from != from || r.valid_until != until) {
                fail_msg("window %d: [%lld, %lld], want [%lld, %lld]", k, (long long)r.valid_from,
                         (long long)r.valid_until, (long long)from, (long long)until);
            }
            /* one second after its end, one second before its start */
            static const scitt_tee_reason after[8] = {SCITT_TEE_CERT_EXPIRED,
                                                      SCITT_TEE_CERT_EXPIRED,
                                                      SCITT_TEE_CERT_EXPIRED,
                                                      SCITT_TEE_CERT_EXPIRED,
                                                      SCITT_TEE_DCAP_CRL_EXPIRED,
                                                      SCITT_TEE_DCAP_CRL_EXPIRED,
                                                      SCITT_TEE_DCAP_COLLATERAL_EXPIRED,
                                                      SCITT_TEE_DCAP_COLLATERAL_EXPIRED};
            static const scitt_tee_reason before[8] = {
                SCITT_TEE_CERT_NOT_YET_VALID,      SCITT_TEE_CERT_NOT_YET_VALID,
                SCITT_TEE_CERT_NOT_YET_VALID,      SCITT_TEE_CERT_NOT_YET_VALID,
                SCITT_TEE_DCAP_CRL_EXPIRED,        SCITT_TEE_DCAP_CRL_EXPIRED,
                SCITT_TEE_DCAP_COLLATERAL_EXPIRED, SCITT_TEE_DCAP_COLLATERAL_EXPIRED};
            s.now = until + 1;
            EXPECT(s, SCITT_ERR_EXPIRED, after[k]);
            s.now = until;
            OK(s);
            s.now = from - 1;
            EXPECT(s, SCITT_ERR_EXPIRED, before[k]);
            s.now = from;
            OK(s);
        }
        /* the QE identity's own signer, when it has one, is held to its window too */
        ds_spec s = base;
        s.qi_own_signer = true;
        s.qi_signer.not_after = NOW - 1;
        EXPECT(s, SCITT_ERR_EXPIRED, SCITT_TEE_CERT_EXPIRED);
        s.qi_signer.not_after = NOW + 900 * DAY;
        s.qi_signer.not_before = NOW + 1;
        EXPECT(s, SCITT_ERR_EXPIRED, SCITT_TEE_CERT_NOT_YET_VALID);
    }
}

/* ---- certificates: keys, CA flags, names, signatures ---- */

static void test_chain_keys(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        ds_spec s = base;
        /* a P-384 key anywhere in a chain: each certificate is refused for its own key */
        s.pck.curve = NID_secp384r1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        s = base;
        s.ca.curve = NID_secp384r1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        s = base;
        s.root.curve = NID_secp384r1; /* a pinned root is still held to P-256 */
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        s = base;
        s.tcb_signer.curve = NID_secp384r1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        s = base;
        s.qi_own_signer = true;
        OK(s); /* a QE identity signer of its own is checked on its own */
        s.qi_signer.curve = NID_secp384r1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        /* P-521 as well */
        s = base;
        s.pck.curve = NID_secp521r1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
    }
}

static void test_chain_ca_flags(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        ds_spec s = base;
        /* the PCK CA marked cA FALSE, or without basicConstraints */
        s.ca.ca = 0;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        s.ca.ca = -1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        /* cA TRUE whose keyUsage does not allow certificate signing */
        s = base;
        s.ca.key_usage = "critical,digitalSignature,cRLSign";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        /* keyUsage is optional; when present it must allow it */
        s.ca.key_usage = NULL;
        OK(s);
        s.ca.key_usage = "keyCertSign";
        OK(s);
        /* the pinned root not a CA */
        s = base;
        s.root.ca = 0;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        s = base;
        s.root.key_usage = "critical,digitalSignature";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_KEY);
        /* the leaves (PCK certificate, TCB Signing certificates) must be for signing: keyUsage,
         * when present, with digitalSignature, and not a CA */
        s = base;
        s.pck.key_usage = "critical,keyEncipherment";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_LEAF_USAGE);
        s.pck.key_usage = "critical,keyCertSign,cRLSign";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_LEAF_USAGE);
        s.pck.key_usage = NULL;
        OK(s);
        s.pck.ca = 1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_LEAF_USAGE);
        s = base;
        s.tcb_signer.key_usage = "critical,nonRepudiation";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_LEAF_USAGE);
        s.tcb_signer.key_usage = "digitalSignature";
        OK(s);
        s.tcb_signer.ca = 1;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_LEAF_USAGE);
        s = base;
        s.qi_own_signer = true;
        OK(s);
        s.qi_signer.key_usage = "critical,keyAgreement";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_LEAF_USAGE);
    }
}

static void test_chain_names_and_signatures(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        ds_spec s = base;
        /* a pinned root that names another issuer than itself */
        s.root.issuer_renamed = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_NAMES);
        /* the CA or the PCK certificate signed by another key than its issuer's */
        s = base;
        s.ca.signed_by_other = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_SIG);
        s = base;
        s.pck.signed_by_other = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_SIG);
        /* signed by the right key with ECDSA-SHA384 or SHA-512: only ecdsa-with-SHA256 */
        s = base;
        s.ca.digest = "SHA384";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_SIG);
        s = base;
        s.pck.digest = "SHA512";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_SIG);
        /* the TCB Signing certificate: another signer, another digest, another issuer name */
        s = base;
        s.tcb_signer.signed_by_other = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_TCB_SIGNER);
        s = base;
        s.tcb_signer.digest = "SHA384";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_TCB_SIGNER);
        s = base;
        s.tcb_signer.issuer_renamed = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_NAMES);
        /* a QE identity signer of its own, not signed by the root */
        s = base;
        s.qi_own_signer = true;
        s.qi_signer.signed_by_other = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_TCB_SIGNER);
    }
}

/* ---- CRLs ---- */

static void test_revocation(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        /* every CRL lists another serial number in the baseline: a listed certificate, not a
         * non-empty list, is what refuses */
        OK(base);
        ds_spec s = base;
        s.revoke_pck = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_REVOKED);
        s = base;
        s.revoke_ca = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_REVOKED);
        s = base;
        s.revoke_tcb_signer = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_REVOKED);
        s.qi_own_signer = true; /* now the QE identity's own signer is the one listed */
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_REVOKED);
        /* without the CRL, nothing is looked up, and the result says so */
        s = base;
        s.revoke_pck = true;
        s.pck_crl.present = false;
        scitt_dcap_result r;
        EXPECT_R(s, SCITT_OK, SCITT_TEE_OK, &r);
        assert_false(r.pck_crl_checked);
        assert_true(r.root_crl_checked);
        s = base;
        s.revoke_ca = true;
        s.revoke_tcb_signer = true;
        s.root_crl.present = false;
        EXPECT_R(s, SCITT_OK, SCITT_TEE_OK, &r);
        assert_false(r.root_crl_checked);
        assert_true(r.pck_crl_checked);
        /* CRLs signed by another key or with another digest */
        s = base;
        s.pck_crl.signed_by_other = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_SIG);
        s = base;
        s.root_crl.signed_by_other = true;
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_SIG);
        s = base;
        s.pck_crl.digest = "SHA384";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_SIG);
        s = base;
        s.root_crl.digest = "SHA384";
        EXPECT(s, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_SIG);
    }
}

/* ---- the platform, the QE binding ---- */

static void test_platform_match(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        ds_spec s = base;
        /* same FMSPC, another PCE-ID */
        s.ti_pce_id[1] = 0x01;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_FMSPC);
        s = base;
        s.ti_fmspc[5] = 0x01;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_FMSPC);
        /* both changed in the PCK certificate, the documents following: it verifies */
        s = base;
        s.pce_id[1] = s.ti_pce_id[1] = 0x07;
        s.fmspc[0] = s.ti_fmspc[0] = 0x90;
        scitt_dcap_result r;
        EXPECT_R(s, SCITT_OK, SCITT_TEE_OK, &r);
        assert_memory_equal(r.pce_id, s.pce_id, 2);
        assert_memory_equal(r.fmspc, s.fmspc, 6);
        /* a Processor CA leaf (no platform instance ID or configuration) */
        s = base;
        s.platform_ca_fields = false;
        OK(s);
        /* no SGX extensions at all */
        s = base;
        s.pck_sgx_ext = false;
        EXPECT(s, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_DCAP_PCK_EXTENSION);
    }
}

static void test_qe_binding_upper_half(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec s;
        ds_spec_default(&s, tees[t], NOW);
        /* SHA-256(attestation key || auth data) right, one byte of the upper half set, the QE
         * report signed by the PCK key: only the binding check can refuse it */
        s.qe_report_data_tail = true;
        EXPECT(s, SCITT_ERR_BINDING, SCITT_TEE_DCAP_QE_BINDING);
        /* an empty and a long QE authentication data are bound just the same */
        ds_spec_default(&s, tees[t], NOW);
        s.qe_auth_len = 0;
        OK(s);
        s.qe_auth_len = SCITT_DCAP_AUTH_DATA_MAX;
        OK(s);
    }
}

/* ---- the QE identity ---- */

static void test_qe_identity(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec base;
        ds_spec_default(&base, tees[t], NOW);
        ds_spec s = base;
        s.qi_mrsigner[31] ^= 0x01;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        s = base;
        s.qi_isv_prod_id = (uint16_t)(s.qe_isv_prod_id + 0x100);
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        /* MISCSELECT: a bit inside the mask (in the JSON's big-endian reading) ... */
        s = base;
        s.qi_miscselect[3] = 0x02;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        s = base;
        s.qe_miscselect ^= 0x00010000u;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        /* ... and outside it: bit 0 differs already in the baseline; all of it when the mask is
         * zero */
        s = base;
        s.qe_miscselect = 0x12345678u;
        memset(s.qi_miscselect_mask, 0, 4);
        memset(s.qi_miscselect, 0, 4);
        OK(s);
        /* the byte order: the JSON's "80000000" is the report's 0x80000000, not 0x00000080 */
        s = base;
        s.qe_miscselect = 0x00000080u;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        /* ATTRIBUTES: a bit inside the mask, first and last byte; outside it (0x04 of byte 0
         * and the XFRM bytes differ in the baseline) */
        s = base;
        s.qe_attributes[0] ^= 0x02;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        s = base;
        s.qe_attributes[7] = 0x80;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        s = base;
        s.qi_attributes_mask[15] = 0x01; /* XFRM bit 0: the report has it, the identity not */
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
        s.qi_attributes[15] = 0x01;
        OK(s);
        s = base;
        s.qe_attributes[0] ^= 0x04;
        OK(s);
        /* the QE's own fields are what is matched, not the identity against itself */
        s = base;
        s.qe_mrsigner[0] ^= 0x80;
        EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_MISMATCH);
    }
}

/* ---- the TDX module identity ---- */

static void test_tdx_module(void **state)
{
    (void)state;
    ds_spec base;
    ds_spec_default(&base, SCITT_DCAP_TEE_TDX, NOW);
    /* major version 1: the TDX_01 identity is the one matched */
    ds_spec s = base;
    s.ti_modules[0].mrsigner[0] ^= 0x01;
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    s = base;
    s.seam_attributes[7] = 0x01;
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    s.ti_modules[0].attributes_mask[7] = 0xfe; /* the bit left out by the mask */
    OK(s);
    s = base;
    s.ti_modules[0].attributes[0] = 0x40; /* the identity wants a bit the report lacks */
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    s = base;
    s.mrsignerseam[47] ^= 0x01; /* the report's signer, the identity unchanged */
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    /* tdxModule (version 0) does not stand in for TDX_01 */
    s = base;
    s.ti_modules[0].mrsigner[0] ^= 0x01;
    s.ti_has_module = true;
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    /* no identity for major version 2; the one for 2 is found among others, wherever it is */
    s = base;
    s.tee_tcb_svn[1] = 2;
    s.ti_levels[0].tdx[1] = 2;
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    s.ti_n_modules = 3;
    s.ti_modules[1] = base.ti_modules[0];
    s.ti_modules[1].version = 2;
    s.ti_modules[2] = base.ti_modules[0];
    s.ti_modules[2].version = 3;
    s.ti_modules[0].mrsigner[5] ^= 0x10; /* TDX_01 and TDX_03 of other signers */
    s.ti_modules[2].mrsigner[5] ^= 0x10;
    OK(s);
    s.ti_modules[1].mrsigner[5] ^= 0x10;
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    /* major version 0 (TDX 1.0): the tdxModule entry, whatever the identities say */
    s = base;
    s.tee_tcb_svn[1] = 0;
    s.ti_levels[0].tdx[1] = 0;
    s.ti_modules[0].mrsigner[0] ^= 0x01;
    scitt_dcap_result r;
    EXPECT_R(s, SCITT_OK, SCITT_TEE_OK, &r);
    assert_int_equal(r.tdx_module_status, SCITT_DCAP_TCB_UNKNOWN); /* no module levels */
    s.ti_module.mrsigner[0] ^= 0x01;
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    s.ti_module = base.ti_module;
    s.seam_attributes[0] = 0x02;
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
    s.ti_module.attributes_mask[0] = 0xfd;
    OK(s);
    s.ti_has_module = false; /* and without one, nothing matches */
    EXPECT(s, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TDX_MODULE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_world_verifies),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_chain_keys),
        cmocka_unit_test(test_chain_ca_flags),
        cmocka_unit_test(test_chain_names_and_signatures),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_platform_match),
        cmocka_unit_test(test_qe_binding_upper_half),
        cmocka_unit_test(test_qe_identity),
        cmocka_unit_test(test_tdx_module),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
