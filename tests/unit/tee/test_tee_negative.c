/*
 * The negative matrix of TEE.md §5 on the real samples: every byte of both reports flipped (each
 * with the error its field must produce), every byte of the VCEK and the ASK flipped, the wrong
 * product's root, missing certificates, a self-made RSA root and ASK over a self-made VCEK,
 * another chip's VCEK, truncated and oversized reports, times outside the validity windows, and
 * every policy check failing on its own.
 */
#include "tee_test.h"

#include <openssl/x509.h>

#include "synth.h"

typedef struct fixture {
    uint8_t *report;
    size_t len;
    scitt_snp_certs certs;
} fixture;

static void fixture_load(fixture *f, const tt_sample *s)
{
    f->report = tt_load(s->report, &f->len);
    tt_certs(s, &f->certs);
}

static void fixture_free(fixture *f)
{
    free(f->report);
    scitt_snp_certs_clear(&f->certs);
}

static scitt_err verify_at(const uint8_t *rep, size_t n, const scitt_snp_certs *c, int64_t now,
                           scitt_snp_verified *v, scitt_tee_reason *why)
{
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, now);
    return scitt_snp_verify(scitt_span_make(rep, n), c, &o, v, why);
}

/* What flipping bit 7 of report byte @p off must produce (version 2 report, signed by VCEK). */
static void expect_for_offset(size_t off, scitt_err *err, scitt_tee_reason *why, bool *alt_format)
{
    *alt_format = false;
    *err = SCITT_ERR_EVIDENCE_MALFORMED;
    if (off < 0x04) {
        *why = SCITT_TEE_REPORT_VERSION;
    } else if (off >= 0x0B && off < 0x10) {
        *why = SCITT_TEE_REPORT_POLICY_BITS; /* bits 31..63 of the guest policy */
    } else if (off >= 0x34 && off < 0x38) {
        *why = SCITT_TEE_REPORT_SIG_ALGO;
    } else if ((off >= 0x48 && off < 0x50) || (off >= 0x188 && off < 0x1A0) || off == 0x1EB ||
               off == 0x1EF || (off >= 0x1F8 && off < 0x2A0) || off >= 0x330) {
        *why = SCITT_TEE_REPORT_RESERVED;
    } else if ((off >= 0x2D0 && off < 0x2E8) || (off >= 0x318 && off < 0x330)) {
        *why = SCITT_TEE_REPORT_SIG_FORMAT; /* beyond the 48 significant bytes of r or s */
    } else if (off >= 0x180 && off < 0x188) {
        *err = SCITT_ERR_EVIDENCE;
        *why = SCITT_TEE_TCB_MISMATCH;
    } else if (off >= 0x1A0 && off < 0x1E0) {
        *err = SCITT_ERR_EVIDENCE;
        *why = SCITT_TEE_HWID_MISMATCH;
    } else {
        *err = SCITT_ERR_SIGNATURE;
        *why = SCITT_TEE_REPORT_SIGNATURE;
        /* The top byte of r or s may push the value past the group order. */
        *alt_format = off == 0x2CF || off == 0x317;
    }
}

static void flip_every_report_byte(const tt_sample *s)
{
    fixture f;
    fixture_load(&f, s);
    size_t counts[4] = {0};
    for (size_t off = 0; off < SCITT_SNP_REPORT_LEN; off++) {
        f.report[off] ^= 0x80;
        scitt_snp_verified v;
        scitt_tee_reason why = SCITT_TEE_OK;
        scitt_err got = verify_at(f.report, f.len, &f.certs, T_NOW, &v, &why);
        f.report[off] ^= 0x80;
        scitt_err want;
        scitt_tee_reason want_why;
        bool alt;
        expect_for_offset(off, &want, &want_why, &alt);
        if (alt && got == SCITT_ERR_EVIDENCE_MALFORMED && why == SCITT_TEE_REPORT_SIG_FORMAT) {
            continue;
        }
        if (got != want || why != want_why) {
            fail_msg("%s byte 0x%zx: got %s/%s, want %s/%s", s->report, off, scitt_err_name(got),
                     scitt_tee_reason_name(why), scitt_err_name(want),
                     scitt_tee_reason_name(want_why));
        }
        counts[got == SCITT_ERR_SIGNATURE ? 0 : got == SCITT_ERR_EVIDENCE ? 1 : 2]++;
    }
    /* Sanity of the classification itself: most bytes are plain signed data. */
    assert_true(counts[0] >= 479 && counts[0] <= 481); /* 385 signed data bytes + 96 of r, s */
    assert_int_equal(counts[1], 8 + 64);
    /* And the unmodified report still verifies. */
    scitt_snp_verified v;
    assert_int_equal(verify_at(f.report, f.len, &f.certs, T_NOW, &v, NULL), SCITT_OK);
    fixture_free(&f);
}

static void test_flip_report_bytes(void **state)
{
    (void)state;
    flip_every_report_byte(&tt_virtee);
    flip_every_report_byte(&tt_gosev);
}

/* The two flips the upstream suites use, by name. */
static void test_upstream_flips(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, &tt_virtee);
    scitt_snp_verified v;
    scitt_tee_reason why;
    f.report[21] ^= 0x80; /* family_id: signed data */
    TT_CHECK(verify_at(f.report, f.len, &f.certs, T_NOW, &v, &why), why, SCITT_ERR_SIGNATURE,
             SCITT_TEE_REPORT_SIGNATURE);
    f.report[21] ^= 0x80;
    f.report[0x2A0] ^= 0x01; /* the low byte of r */
    TT_CHECK(verify_at(f.report, f.len, &f.certs, T_NOW, &v, &why), why, SCITT_ERR_SIGNATURE,
             SCITT_TEE_REPORT_SIGNATURE);
    f.report[0x2A0] ^= 0x01;
    /* vcek_der[40] ^= 0xff lands in the hash OID of the signed part's signature algorithm, so the
     * inner algorithm no longer equals the outer one. */
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    size_t n;
    uint8_t *vcek = tt_load(tt_virtee.vcek, &n);
    vcek[40] ^= 0xff;
    assert_int_equal(
        scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_VCEK, scitt_span_make(vcek, n), NULL), SCITT_OK);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_ASK,
                                             scitt_snp_certs_get(&f.certs, SCITT_SNP_CERT_ASK),
                                             NULL),
                     SCITT_OK);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_ARK,
                                             scitt_snp_certs_get(&f.certs, SCITT_SNP_CERT_ARK),
                                             NULL),
                     SCITT_OK);
    TT_CHECK(verify_at(f.report, f.len, &c, T_NOW, &v, &why), why, SCITT_ERR_CERT_CHAIN,
             SCITT_TEE_CHAIN_SIG_ALG);
    scitt_snp_certs_clear(&c);
    free(vcek);
    fixture_free(&f);
}

/* Every byte of a certificate flipped: verification never succeeds. */
static void flip_every_cert_byte(scitt_snp_cert_role role)
{
    fixture f;
    fixture_load(&f, &tt_virtee);
    scitt_span orig = scitt_snp_certs_get(&f.certs, role);
    uint8_t *der = malloc(orig.len);
    memcpy(der, orig.ptr, orig.len);
    size_t chain_fail = 0;
    for (size_t i = 0; i < orig.len; i++) {
        der[i] ^= 0xff;
        scitt_snp_certs c;
        scitt_snp_certs_init(&c);
        scitt_err err = SCITT_OK;
        for (int r = 0; r < SCITT_SNP_CERT_ROLES && err == SCITT_OK; r++) {
            scitt_span d = r == (int)role ? scitt_span_make(der, orig.len)
                                          : scitt_snp_certs_get(&f.certs, (scitt_snp_cert_role)r);
            if (d.len) {
                err = scitt_snp_certs_add_der(&c, (scitt_snp_cert_role)r, d, NULL);
            }
        }
        if (err == SCITT_OK) {
            scitt_snp_verified v;
            err = verify_at(f.report, f.len, &c, T_NOW, &v, NULL);
            chain_fail += err == SCITT_ERR_CERT_CHAIN;
        }
        if (err == SCITT_OK) {
            fail_msg("role %d byte %zu flipped and the report still verifies", role, i);
        }
        scitt_snp_certs_clear(&c);
        der[i] ^= 0xff;
    }
    /* Most flips land in signed bytes and are caught by a chain signature. */
    assert_true(chain_fail > orig.len / 2);
    free(der);
    fixture_free(&f);
}

static void test_flip_vcek_bytes(void **state)
{
    (void)state;
    flip_every_cert_byte(SCITT_SNP_CERT_VCEK);
}

static void test_flip_ask_bytes(void **state)
{
    (void)state;
    flip_every_cert_byte(SCITT_SNP_CERT_ASK);
}

static void add_pem_file(scitt_snp_certs *c, const char *rel)
{
    size_t n;
    uint8_t *pem = tt_load(rel, &n);
    assert_int_equal(scitt_snp_certs_add_pem(c, scitt_span_make(pem, n), NULL), SCITT_OK);
    free(pem);
}

static void test_wrong_roots_and_missing(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, &tt_virtee);
    scitt_span vcek = scitt_snp_certs_get(&f.certs, SCITT_SNP_CERT_VCEK);
    scitt_snp_verified v;
    scitt_tee_reason why;
    scitt_snp_certs c;

    /* The Genoa root in place of the Milan one: a real AMD root, but not Milan's pin. */
    scitt_snp_certs_init(&c);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_VCEK, vcek, NULL), SCITT_OK);
    add_pem_file(&c, "tee/sev-snp/amd-certs/milan_ask.pem");
    add_pem_file(&c, "tee/sev-snp/amd-certs/genoa_ark.pem");
    TT_CHECK(verify_at(f.report, f.len, &c, T_NOW, &v, &why), why, SCITT_ERR_UNTRUSTED,
             SCITT_TEE_ARK_NOT_PINNED);
    scitt_snp_certs_clear(&c);

    /* The Genoa ASK under the Milan root and a Milan VCEK. */
    scitt_snp_certs_init(&c);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_VCEK, vcek, NULL), SCITT_OK);
    add_pem_file(&c, "tee/sev-snp/amd-certs/genoa_ask.pem");
    add_pem_file(&c, "tee/sev-snp/amd-certs/milan_ark.pem");
    TT_CHECK(verify_at(f.report, f.len, &c, T_NOW, &v, &why), why, SCITT_ERR_CERT_CHAIN,
             SCITT_TEE_CHAIN_NAMES);
    scitt_snp_certs_clear(&c);

    /* Each certificate missing in turn. */
    static const struct {
        scitt_snp_cert_role drop;
        scitt_tee_reason why;
    } missing[] = {{SCITT_SNP_CERT_VCEK, SCITT_TEE_MISSING_LEAF},
                   {SCITT_SNP_CERT_ASK, SCITT_TEE_MISSING_ASK},
                   {SCITT_SNP_CERT_ARK, SCITT_TEE_MISSING_ARK}};
    for (size_t i = 0; i < 3; i++) {
        scitt_snp_certs_init(&c);
        for (int r = 0; r < SCITT_SNP_CERT_ROLES; r++) {
            scitt_span d = scitt_snp_certs_get(&f.certs, (scitt_snp_cert_role)r);
            if (d.len && r != (int)missing[i].drop) {
                assert_int_equal(scitt_snp_certs_add_der(&c, (scitt_snp_cert_role)r, d, NULL),
                                 SCITT_OK);
            }
        }
        TT_CHECK(verify_at(f.report, f.len, &c, T_NOW, &v, &why), why, SCITT_ERR_CERT_CHAIN,
                 missing[i].why);
        scitt_snp_certs_clear(&c);
    }

    /* Another chip's VCEK (go-sev-guest's) under the right chain. */
    fixture g;
    fixture_load(&g, &tt_gosev);
    TT_CHECK(verify_at(f.report, f.len, &g.certs, T_NOW, &v, &why), why, SCITT_ERR_EVIDENCE,
             SCITT_TEE_HWID_MISMATCH);
    fixture_free(&g);

    /* A VLEK-signed report is refused unless VLEKs are allowed; with them allowed, a VCEK
     * endorsement does not match the report's signer. */
    f.report[0x48] |= (uint8_t)(SCITT_SNP_KEY_VLEK << 2);
    TT_CHECK(verify_at(f.report, f.len, &f.certs, T_NOW, &v, &why), why, SCITT_ERR_UNTRUSTED,
             SCITT_TEE_VLEK_NOT_ALLOWED);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    o.allow_vlek = true;
    TT_CHECK(scitt_snp_verify(scitt_span_make(f.report, f.len), &f.certs, &o, &v, &why), why,
             SCITT_ERR_EVIDENCE, SCITT_TEE_SIGNER_MISMATCH);
    fixture_free(&f);
}

/* A self-made RSA root and ASK over a self-made VCEK for the very chip and TCB of the report. */
static void test_self_made_root(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, &tt_virtee);
    scitt_snp_report r;
    assert_int_equal(scitt_snp_report_parse(scitt_span_make(f.report, f.len), &r, NULL), SCITT_OK);
    scitt_snp_tcb tcb;
    assert_int_equal(scitt_snp_tcb_decode(SCITT_SNP_MILAN, r.reported_tcb, &tcb), SCITT_OK);
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_MILAN, &tcb, r.chip_id, NULL);
    synth_chain sc;
    synth_chain_make(&sc, SCITT_SNP_MILAN, false, &ext, T_NOW - 86400, T_NOW + 86400);
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    synth_chain_certs(&sc, &c);
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(verify_at(f.report, f.len, &c, T_NOW, &v, &why), why, SCITT_ERR_UNTRUSTED,
             SCITT_TEE_ARK_NOT_PINNED);
    /* Pinning that root explicitly gets past the root, and the real report's signature is then
     * what fails: the pin is the gate. */
    scitt_snp_pin pin;
    synth_chain_pin(&sc, SCITT_SNP_MILAN, &pin);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    o.pins = &pin;
    o.n_pins = 1;
    TT_CHECK(scitt_snp_verify(scitt_span_make(f.report, f.len), &c, &o, &v, &why), why,
             SCITT_ERR_SIGNATURE, SCITT_TEE_REPORT_SIGNATURE);
    /* Pinning only another product leaves Milan without a pin. */
    pin.product = SCITT_SNP_GENOA;
    TT_CHECK(scitt_snp_verify(scitt_span_make(f.report, f.len), &f.certs, &o, &v, &why), why,
             SCITT_ERR_UNTRUSTED, SCITT_TEE_NO_PIN);
    scitt_snp_certs_clear(&c);

    /* The real ARK with a self-made ASK named after it: the ASK signature is what fails. */
    scitt_span ark_der = scitt_snp_certs_get(&f.certs, SCITT_SNP_CERT_ARK);
    const unsigned char *p = ark_der.ptr;
    X509 *real_ark = d2i_X509(NULL, &p, (long)ark_der.len);
    assert_non_null(real_ark);
    EVP_PKEY *ask_key = synth_rsa(2048);
    X509 *ask =
        synth_cert("SEV-Milan", ask_key, real_ark, ask_key, 48, T_NOW - 86400, T_NOW + 86400, NULL);
    EVP_PKEY *vcek_key = synth_p384();
    X509 *vcek =
        synth_cert("SEV-VCEK", vcek_key, ask, ask_key, 48, T_NOW - 86400, T_NOW + 86400, &ext);
    scitt_snp_certs_init(&c);
    size_t n;
    uint8_t *d = synth_der(vcek, &n);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_VCEK, scitt_span_make(d, n), NULL),
                     SCITT_OK);
    free(d);
    d = synth_der(ask, &n);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_ASK, scitt_span_make(d, n), NULL),
                     SCITT_OK);
    free(d);
    assert_int_equal(scitt_snp_certs_add_der(&c, SCITT_SNP_CERT_ARK, ark_der, NULL), SCITT_OK);
    TT_CHECK(verify_at(f.report, f.len, &c, T_NOW, &v, &why), why, SCITT_ERR_CERT_CHAIN,
             SCITT_TEE_ASK_SIG);
    scitt_snp_certs_clear(&c);
    X509_free(vcek);
    X509_free(ask);
    X509_free(real_ark);
    EVP_PKEY_free(vcek_key);
    EVP_PKEY_free(ask_key);
    synth_chain_free(&sc);
    fixture_free(&f);
}

static void test_sizes_and_times(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, &tt_virtee);
    scitt_snp_verified v;
    scitt_tee_reason why;
    uint8_t *big = calloc(1, f.len + 1);
    memcpy(big, f.report, f.len);
    const size_t lens[] = {0, 1, 0x2A0, f.len - 1};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        TT_CHECK(verify_at(f.report, lens[i], &f.certs, T_NOW, &v, &why), why,
                 SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_REPORT_SIZE);
    }
    TT_CHECK(verify_at(big, f.len + 1, &f.certs, T_NOW, &v, &why), why,
             SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_REPORT_SIZE);
    free(big);

    /* Validity edges of the VCEK (2023-04-03 .. 2030-04-03) and the ARK (from 2020-10-22). */
    scitt_snp_vcek_info vi;
    assert_int_equal(
        scitt_snp_vcek_parse(scitt_snp_certs_get(&f.certs, SCITT_SNP_CERT_VCEK), &vi, NULL),
        SCITT_OK);
    assert_int_equal(vi.not_before, INT64_C(1680549823)); /* 2023-04-03T19:23:43Z */
    assert_int_equal(vi.not_after, INT64_C(1901474623));  /* 2030-04-03T19:23:43Z */
    TT_CHECK(verify_at(f.report, f.len, &f.certs, vi.not_after, &v, &why), why, SCITT_OK,
             SCITT_TEE_OK);
    assert_int_equal(v.valid_until, vi.not_after);
    assert_int_equal(v.valid_from, vi.not_before);
    TT_CHECK(verify_at(f.report, f.len, &f.certs, vi.not_before, &v, &why), why, SCITT_OK,
             SCITT_TEE_OK);
    TT_CHECK(verify_at(f.report, f.len, &f.certs, vi.not_after + 1, &v, &why), why,
             SCITT_ERR_EXPIRED, SCITT_TEE_CERT_EXPIRED);
    TT_CHECK(verify_at(f.report, f.len, &f.certs, vi.not_before - 1, &v, &why), why,
             SCITT_ERR_EXPIRED, SCITT_TEE_CERT_NOT_YET_VALID);
    TT_CHECK(verify_at(f.report, f.len, &f.certs, INT64_C(1546300800) /* 2019 */, &v, &why), why,
             SCITT_ERR_EXPIRED, SCITT_TEE_CERT_NOT_YET_VALID);
    TT_CHECK(verify_at(f.report, f.len, &f.certs, INT64_C(2524608000) /* 2050 */, &v, &why), why,
             SCITT_ERR_EXPIRED, SCITT_TEE_CERT_EXPIRED);
    /* A failed verification leaves no partial result behind. */
    static const scitt_snp_verified zero;
    assert_memory_equal(&v, &zero, sizeof(v));
    fixture_free(&f);
}

/* Each policy check failing alone on the authentic virtee report, and passing when satisfied. */
static void test_policy_matrix(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, &tt_virtee);
    scitt_snp_verified v;
    assert_int_equal(verify_at(f.report, f.len, &f.certs, T_NOW, &v, NULL), SCITT_OK);
    scitt_snp_policy p;
    scitt_tee_reason why;
    uint8_t other48[1][48], other32[1][32], lists48[2][48], lists32[2][32], rd[64];
    memset(other48, 0x11, sizeof(other48));
    memset(other32, 0x22, sizeof(other32));
    memcpy(lists48[0], other48[0], 48);
    memcpy(lists48[1], v.report.measurement, 48);
    memcpy(lists32[0], other32[0], 32);
    memcpy(lists32[1], v.report.host_data, 32);
    scitt_snp_min_tcb min_hi = {SCITT_SNP_MILAN, v.reported_tcb};
    min_hi.tcb.snp = (uint8_t)(v.reported_tcb.snp + 1);
    scitt_snp_min_tcb min_eq = {SCITT_SNP_MILAN, v.reported_tcb};
    scitt_snp_min_tcb min_genoa = {SCITT_SNP_GENOA, {0, 99, 99, 99, 99, 0, 0, 0, 0}};

#define POLICY_ROW(setup, want_err, want_why)                                                      \
    do {                                                                                           \
        scitt_snp_policy_init(&p);                                                                 \
        why = SCITT_TEE_OK;                                                                        \
        setup;                                                                                     \
        TT_CHECK(scitt_snp_check_policy(&v, &p, &why), why, want_err, want_why);                   \
    } while (0)

    POLICY_ROW((void)0, SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW(p.vmpl = 1, SCITT_ERR_POLICY, SCITT_TEE_POLICY_VMPL);
    POLICY_ROW((p.vmpl = 1, p.any_vmpl = true), SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW((p.min_tcb = &min_hi, p.n_min_tcb = 1), SCITT_ERR_POLICY, SCITT_TEE_POLICY_TCB);
    POLICY_ROW((p.min_tcb = &min_eq, p.n_min_tcb = 1), SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW((p.min_tcb = &min_genoa, p.n_min_tcb = 1), SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW((p.host_data = other32[0], p.n_host_data = 1), SCITT_ERR_POLICY,
               SCITT_TEE_POLICY_HOST_DATA);
    POLICY_ROW((p.host_data = lists32[0], p.n_host_data = 2), SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW((p.measurements = other48[0], p.n_measurements = 1), SCITT_ERR_POLICY,
               SCITT_TEE_POLICY_MEASUREMENT);
    POLICY_ROW((p.measurements = lists48[0], p.n_measurements = 2), SCITT_OK, SCITT_TEE_OK);
    memset(rd, 0, sizeof(rd));
    POLICY_ROW(p.report_data = rd, SCITT_ERR_POLICY, SCITT_TEE_POLICY_REPORT_DATA);
    POLICY_ROW(p.report_data = v.report.report_data, SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW(p.allowed_products = 1u << SCITT_SNP_GENOA, SCITT_ERR_POLICY,
               SCITT_TEE_POLICY_PRODUCT);
    POLICY_ROW(p.allowed_products = 1u << SCITT_SNP_MILAN, SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW(p.allow_smt = false, SCITT_ERR_POLICY, SCITT_TEE_POLICY_SMT);
    POLICY_ROW((p.has_endorsed_tcb = true, p.endorsed_tcb = v.report.reported_tcb + 1),
               SCITT_ERR_POLICY, SCITT_TEE_POLICY_ENDORSED_TCB);
    POLICY_ROW((p.has_endorsed_tcb = true, p.endorsed_tcb = UINT64_C(0x7308000000000003)), SCITT_OK,
               SCITT_TEE_OK);
    POLICY_ROW(p.min_guest_svn = 1, SCITT_ERR_POLICY, SCITT_TEE_POLICY_GUEST_SVN);
    POLICY_ROW(p.min_firmware = ((scitt_snp_fw_version){1, 52, 5}), SCITT_ERR_POLICY,
               SCITT_TEE_POLICY_FIRMWARE);
    POLICY_ROW(p.min_firmware = ((scitt_snp_fw_version){1, 52, 4}), SCITT_OK, SCITT_TEE_OK);
    POLICY_ROW(p.min_firmware = ((scitt_snp_fw_version){2, 0, 0}), SCITT_ERR_POLICY,
               SCITT_TEE_POLICY_FIRMWARE);
    /* A list with a count but no array is a caller error, not a pass. */
    POLICY_ROW(p.n_measurements = 1, SCITT_ERR_INVALID_ARG, SCITT_TEE_OK);
#undef POLICY_ROW
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flip_report_bytes),       cmocka_unit_test(test_upstream_flips),
        cmocka_unit_test(test_flip_vcek_bytes),         cmocka_unit_test(test_flip_ask_bytes),
        cmocka_unit_test(test_wrong_roots_and_missing), cmocka_unit_test(test_self_made_root),
        cmocka_unit_test(test_sizes_and_times),         cmocka_unit_test(test_policy_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
