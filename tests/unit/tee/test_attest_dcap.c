/*
 * Service bundles with Intel DCAP evidence (platform "tdx" and "sgx"), over the synthetic DCAP
 * world (dcap_synth.h, its root pinned through scitt_attest_opts.dcap_root_sha256): a quote whose
 * REPORTDATA binds the identity document verifies with the collateral the bundle carries or with
 * a collateral set given by the caller; then each attack is refused with the check it meets: a
 * wrong MRTD, RTMR, MRENCLAVE or MRSIGNER, an out-of-date TCB (refused by default, admitted only
 * when the accept list names it), the other platform's evidence (an SGX quote in a "tdx" bundle
 * and the reverse, Intel pins against SNP or virtual evidence), a quote bound to another identity
 * document or another nonce, a TD or enclave in DEBUG mode, a bundle without collateral, and
 * collateral maps that do not parse. The real TDX sample (Intel-signed, bound to somebody else's
 * data) verifies as far as the binding and fails there.
 */
#include "testutil.h"

#include "dcap_synth.h"
#include "scitt/attest.h"
#include "scitt/cbor.h"
#include "scitt/cose.h"

#define NOW INT64_C(1750000000) /* 2025-06-15T15:06:40Z */

static void make_identity(scitt_dynbuf *out, const char *issuer)
{
    scitt_cose_key *k;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k), SCITT_OK);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 4);
    scitt_cbor_put_uint(&w, 1);
    assert_int_equal(scitt_cose_key_encode_cose(k, false, &w), SCITT_OK);
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_cstr(&w, "ledger.example+0123abcd+AQID");
    scitt_cbor_put_uint(&w, 3);
    scitt_cbor_put_cstr(&w, issuer);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_cstr(&w, "ledger.example/log");
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
    scitt_cose_key_free(k);
}

/* A bundle of @p platform around @p identity whose quote (a world of @p s, REPORTDATA bound to
 * @p bound_to and @p nonce) carries its collateral unless @p bare. */
typedef struct fixture {
    scitt_dynbuf identity, bundle;
    ds_world w;
    uint8_t root[32];
} fixture;

static void build(fixture *f, ds_spec *s, const char *platform, scitt_span bound_to,
                  scitt_span nonce, bool bare)
{
    s->has_body = true;
    assert_int_equal(scitt_attest_report_data(bound_to, nonce, s->report_data), SCITT_OK);
    ds_build(s, &f->w);
    memcpy(f->root, f->w.root_sha256, 32);
    scitt_span files[SCITT_DCAP_ITEMS];
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        files[i] = scitt_span_make(f->w.file[i], f->w.file_len[i]);
    }
    scitt_dynbuf coll;
    scitt_dynbuf_init(&coll, 0);
    assert_int_equal(scitt_attest_collateral_encode(files, &coll), SCITT_OK);
    scitt_dynbuf_init(&f->bundle, 0);
    assert_int_equal(scitt_attest_bundle_encode(
                         platform, scitt_span_make(f->identity.ptr, f->identity.len),
                         scitt_span_make(f->w.quote, f->w.quote_len),
                         bare ? scitt_span_make(NULL, 0) : scitt_span_make(coll.ptr, coll.len),
                         &f->bundle),
                     SCITT_OK);
    scitt_dynbuf_clear(&coll);
}

static void fixture_make(fixture *f, scitt_dcap_tee tee, const char *platform)
{
    memset(f, 0, sizeof(*f));
    scitt_dynbuf_init(&f->identity, 0);
    make_identity(&f->identity, "https://ledger.example");
    ds_spec s;
    ds_spec_default(&s, tee, NOW);
    build(f, &s, platform, scitt_span_make(f->identity.ptr, f->identity.len),
          scitt_span_make(NULL, 0), false);
}

static void fixture_free(fixture *f)
{
    scitt_dynbuf_clear(&f->identity);
    scitt_dynbuf_clear(&f->bundle);
    ds_world_free(&f->w);
}

static void opts_init(scitt_attest_opts *o, const fixture *f)
{
    memset(o, 0, sizeof(*o));
    o->now = NOW;
    o->dcap_root_sha256 = f->root;
}

static scitt_err run(const fixture *f, const scitt_attest_opts *o, scitt_attest_result *r)
{
    return scitt_attest_verify(scitt_span_make(f->bundle.ptr, f->bundle.len), o, r);
}

#define EXPECT(f, o, want, want_why)                                                               \
    do {                                                                                           \
        scitt_attest_result *r_ = scitt_calloc(1, sizeof(*r_));                                    \
        assert_non_null(r_);                                                                       \
        scitt_err e_ = run((f), (o), r_);                                                          \
        if (e_ != (want) || r_->why != (want_why)) {                                               \
            print_error("line %d: got %s/%s, want %s/%s\n", __LINE__, scitt_err_name(e_),          \
                        scitt_tee_reason_name(r_->why), scitt_err_name(want),                      \
                        scitt_tee_reason_name(want_why));                                          \
        }                                                                                          \
        assert_int_equal(e_, (want));                                                              \
        assert_int_equal(r_->why, (want_why));                                                     \
        scitt_free(r_);                                                                            \
    } while (0)

static void test_tdx_verifies(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f, SCITT_DCAP_TEE_TDX, "tdx");
    scitt_attest_opts o;
    opts_init(&o, &f);
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_int_equal(run(&f, &o, r), SCITT_OK);
    assert_string_equal(r->platform, "tdx");
    assert_true(r->dcap.authentic);
    assert_int_equal(r->dcap.tee, SCITT_DCAP_TEE_TDX);
    assert_int_equal(r->dcap.tcb_status, SCITT_DCAP_TCB_UP_TO_DATE);
    assert_memory_equal(r->measurement, r->dcap.td.mrtd, 48);
    assert_true(scitt_span_eq_str(r->identity.issuer, "https://ledger.example"));
    /* pinned: MRTD and every RTMR as the quote has them */
    uint8_t mrtd[48], rtmr[4 * 48];
    memcpy(mrtd, r->dcap.td.mrtd, 48);
    memcpy(rtmr, r->dcap.td.rtmr, sizeof(rtmr));
    o.measurements = mrtd;
    o.n_measurements = 1;
    o.rtmr = rtmr;
    o.rtmr_set = 0xf;
    assert_int_equal(run(&f, &o, r), SCITT_OK);
    /* the wrong MRTD */
    mrtd[47] ^= 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_MEASUREMENT);
    mrtd[47] ^= 1;
    /* each wrong RTMR */
    for (int i = 0; i < 4; i++) {
        rtmr[i * 48 + 5] ^= 0x80;
        EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_RTMR);
        o.rtmr_set = 0xf & ~(1u << i); /* not pinned: not checked */
        assert_int_equal(run(&f, &o, r), SCITT_OK);
        o.rtmr_set = 0xf;
        rtmr[i * 48 + 5] ^= 0x80;
    }
    /* SGX pins cannot be met by a TD */
    uint8_t v32[32] = {0};
    o.mrenclaves = v32;
    o.n_mrenclaves = 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_MRENCLAVE);
    o.n_mrenclaves = 0;
    o.mrsigners = v32;
    o.n_mrsigners = 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_MRSIGNER);
    o.n_mrsigners = 0;
    uint8_t host[32] = {0};
    o.host_data = host;
    o.n_host_data = 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_HOST_DATA);
    scitt_free(r);
    fixture_free(&f);
}

static void test_sgx_verifies(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f, SCITT_DCAP_TEE_SGX, "sgx");
    scitt_attest_opts o;
    opts_init(&o, &f);
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_int_equal(run(&f, &o, r), SCITT_OK);
    assert_int_equal(r->dcap.tee, SCITT_DCAP_TEE_SGX);
    uint8_t mre[32], mrs[2 * 32];
    memcpy(mre, r->dcap.enclave.mrenclave, 32);
    memset(mrs, 0x55, 32);
    memcpy(mrs + 32, r->dcap.enclave.mrsigner, 32);
    o.mrenclaves = mre;
    o.n_mrenclaves = 1;
    o.mrsigners = mrs;
    o.n_mrsigners = 2; /* any of the list */
    assert_int_equal(run(&f, &o, r), SCITT_OK);
    mre[0] ^= 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_MRENCLAVE);
    mre[0] ^= 1;
    o.n_mrsigners = 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_MRSIGNER);
    o.n_mrsigners = 0;
    /* TDX pins cannot be met by an enclave */
    uint8_t m48[4 * 48] = {0};
    o.measurements = m48;
    o.n_measurements = 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_MEASUREMENT);
    o.n_measurements = 0;
    o.rtmr = m48;
    o.rtmr_set = 1;
    EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_RTMR);
    scitt_free(r);
    fixture_free(&f);
}

/* An SGX quote presented as TDX evidence and the reverse: authentic, but not what was named. */
static void test_other_platform(void **state)
{
    (void)state;
    static const struct {
        scitt_dcap_tee tee;
        const char *platform;
    } cases[] = {{SCITT_DCAP_TEE_SGX, "tdx"}, {SCITT_DCAP_TEE_TDX, "sgx"}};
    for (size_t i = 0; i < 2; i++) {
        fixture f;
        fixture_make(&f, cases[i].tee, cases[i].platform);
        scitt_attest_opts o;
        opts_init(&o, &f);
        EXPECT(&f, &o, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_PLATFORM);
        /* and an Intel quote in an SNP bundle is not an SNP report */
        scitt_attest_bundle b;
        assert_int_equal(scitt_attest_bundle_parse(scitt_span_make(f.bundle.ptr, f.bundle.len), &b),
                         SCITT_OK);
        scitt_dynbuf snp;
        scitt_dynbuf_init(&snp, 0);
        assert_int_equal(
            scitt_attest_bundle_encode("snp", b.identity, b.evidence, b.endorsements, &snp),
            SCITT_OK);
        scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
        assert_non_null(r);
        assert_int_not_equal(scitt_attest_verify(scitt_span_make(snp.ptr, snp.len), &o, r),
                             SCITT_OK);
        scitt_free(r);
        scitt_dynbuf_clear(&snp);
        fixture_free(&f);
    }
    /* Intel pins against virtual evidence: refused, not ignored */
    scitt_dynbuf id, ev, bundle;
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&ev, 0);
    scitt_dynbuf_init(&bundle, 0);
    make_identity(&id, "https://ledger.example");
    uint8_t rd[64], meas[48] = {0}, pin[4 * 48] = {0};
    assert_int_equal(
        scitt_attest_report_data(scitt_span_make(id.ptr, id.len), scitt_span_make(NULL, 0), rd),
        SCITT_OK);
    assert_int_equal(scitt_attest_virtual_evidence(meas, rd, &ev), SCITT_OK);
    assert_int_equal(scitt_attest_bundle_encode("virtual", scitt_span_make(id.ptr, id.len),
                                                scitt_span_make(ev.ptr, ev.len),
                                                scitt_span_make(NULL, 0), &bundle),
                     SCITT_OK);
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    o.now = NOW;
    o.allow_insecure_virtual = true;
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    assert_non_null(r);
    scitt_span bs = scitt_span_make(bundle.ptr, bundle.len);
    assert_int_equal(scitt_attest_verify(bs, &o, r), SCITT_OK);
    o.rtmr = pin;
    o.rtmr_set = 2;
    assert_int_equal(scitt_attest_verify(bs, &o, r), SCITT_ERR_POLICY);
    assert_int_equal(r->why, SCITT_TEE_POLICY_RTMR);
    o.rtmr_set = 0;
    o.mrenclaves = pin;
    o.n_mrenclaves = 1;
    assert_int_equal(scitt_attest_verify(bs, &o, r), SCITT_ERR_POLICY);
    assert_int_equal(r->why, SCITT_TEE_POLICY_MRENCLAVE);
    o.n_mrenclaves = 0;
    o.mrsigners = pin;
    o.n_mrsigners = 1;
    assert_int_equal(scitt_attest_verify(bs, &o, r), SCITT_ERR_POLICY);
    assert_int_equal(r->why, SCITT_TEE_POLICY_MRSIGNER);
    scitt_free(r);
    scitt_dynbuf_clear(&id);
    scitt_dynbuf_clear(&ev);
    scitt_dynbuf_clear(&bundle);
}

/* An out-of-date platform: authentic, refused by default, admitted only when accepted. */
static void test_tcb_status(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        scitt_dcap_tee tee = t ? SCITT_DCAP_TEE_SGX : SCITT_DCAP_TEE_TDX;
        fixture f;
        memset(&f, 0, sizeof(f));
        scitt_dynbuf_init(&f.identity, 0);
        make_identity(&f.identity, "https://ledger.example");
        ds_spec s;
        ds_spec_default(&s, tee, NOW);
        s.ti_levels[0].status = "OutOfDate";
        build(&f, &s, t ? "sgx" : "tdx", scitt_span_make(f.identity.ptr, f.identity.len),
              scitt_span_make(NULL, 0), false);
        scitt_attest_opts o;
        opts_init(&o, &f);
        EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
        assert_int_equal(
            scitt_dcap_accept_parse(scitt_span_str("UpToDate,SWHardeningNeeded"), &o.dcap_accept),
            SCITT_OK);
        EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_DCAP_TCB_STATUS);
        assert_int_equal(
            scitt_dcap_accept_parse(scitt_span_str("UpToDate,OutOfDate"), &o.dcap_accept),
            SCITT_OK);
        scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
        assert_non_null(r);
        assert_int_equal(run(&f, &o, r), SCITT_OK);
        assert_int_equal(r->dcap.tcb_status, SCITT_DCAP_TCB_OUT_OF_DATE);
        scitt_free(r);
        fixture_free(&f);
    }
}

/* A quote bound to another identity document (another receipt key) or another nonce. */
static void test_binding(void **state)
{
    (void)state;
    static const uint8_t nonce[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    for (int t = 0; t < 2; t++) {
        scitt_dcap_tee tee = t ? SCITT_DCAP_TEE_SGX : SCITT_DCAP_TEE_TDX;
        const char *platform = t ? "sgx" : "tdx";
        /* the quote binds another document: the keys in this one are not the TEE's */
        fixture f;
        memset(&f, 0, sizeof(f));
        scitt_dynbuf_init(&f.identity, 0);
        make_identity(&f.identity, "https://ledger.example");
        scitt_dynbuf other;
        scitt_dynbuf_init(&other, 0);
        make_identity(&other, "https://ledger.example");
        ds_spec s;
        ds_spec_default(&s, tee, NOW);
        build(&f, &s, platform, scitt_span_make(other.ptr, other.len), scitt_span_make(NULL, 0),
              false);
        scitt_attest_opts o;
        opts_init(&o, &f);
        EXPECT(&f, &o, SCITT_ERR_BINDING, SCITT_TEE_POLICY_REPORT_DATA);
        fixture_free(&f);
        scitt_dynbuf_clear(&other);

        /* bound to a nonce: verifies only with that nonce */
        memset(&f, 0, sizeof(f));
        scitt_dynbuf_init(&f.identity, 0);
        make_identity(&f.identity, "https://ledger.example");
        ds_spec_default(&s, tee, NOW);
        build(&f, &s, platform, scitt_span_make(f.identity.ptr, f.identity.len),
              scitt_span_make(nonce, sizeof(nonce)), false);
        opts_init(&o, &f);
        EXPECT(&f, &o, SCITT_ERR_BINDING, SCITT_TEE_POLICY_REPORT_DATA);
        o.nonce = scitt_span_make(nonce, 15);
        EXPECT(&f, &o, SCITT_ERR_BINDING, SCITT_TEE_POLICY_REPORT_DATA);
        o.nonce = scitt_span_make(nonce, sizeof(nonce));
        EXPECT(&f, &o, SCITT_OK, SCITT_TEE_OK);
        fixture_free(&f);
    }
}

/* DEBUG TDs and enclaves: refused unless allowed. */
static void test_debug(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        fixture f;
        memset(&f, 0, sizeof(f));
        scitt_dynbuf_init(&f.identity, 0);
        make_identity(&f.identity, "https://ledger.example");
        ds_spec s;
        ds_spec_default(&s, t ? SCITT_DCAP_TEE_SGX : SCITT_DCAP_TEE_TDX, NOW);
        s.debug = true;
        build(&f, &s, t ? "sgx" : "tdx", scitt_span_make(f.identity.ptr, f.identity.len),
              scitt_span_make(NULL, 0), false);
        scitt_attest_opts o;
        opts_init(&o, &f);
        EXPECT(&f, &o, SCITT_ERR_POLICY, SCITT_TEE_POLICY_DEBUG);
        o.allow_tee_debug = true;
        EXPECT(&f, &o, SCITT_OK, SCITT_TEE_OK);
        fixture_free(&f);
    }
}

/* The collateral: given by the caller instead of the bundle's, missing, wrong, malformed. */
static void test_collateral(void **state)
{
    (void)state;
    fixture f;
    memset(&f, 0, sizeof(f));
    scitt_dynbuf_init(&f.identity, 0);
    make_identity(&f.identity, "https://ledger.example");
    ds_spec s;
    ds_spec_default(&s, SCITT_DCAP_TEE_TDX, NOW);
    build(&f, &s, "tdx", scitt_span_make(f.identity.ptr, f.identity.len), scitt_span_make(NULL, 0),
          true);
    scitt_attest_opts o;
    opts_init(&o, &f);
    EXPECT(&f, &o, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_NO_COLLATERAL);
    scitt_dcap_collateral *c = ds_collateral(&f.w);
    o.dcap_collateral = c;
    EXPECT(&f, &o, SCITT_OK, SCITT_TEE_OK);
    /* the collateral of another world (another root, another TCB Signing key) */
    ds_world other;
    ds_spec_default(&s, SCITT_DCAP_TEE_TDX, NOW);
    ds_build(&s, &other);
    scitt_dcap_collateral *c2 = ds_collateral(&other);
    o.dcap_collateral = c2;
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_int_not_equal(run(&f, &o, r), SCITT_OK);
    assert_false(r->dcap.authentic);
    scitt_free(r);
    scitt_dcap_collateral_free(c2);
    ds_world_free(&other);
    /* the Intel pin (the default) refuses the synthetic root */
    o.dcap_collateral = c;
    o.dcap_root_sha256 = NULL;
    EXPECT(&f, &o, SCITT_ERR_UNTRUSTED, SCITT_TEE_DCAP_ROOT_NOT_PINNED);
    scitt_dcap_collateral_free(c);
    fixture_free(&f);

    /* collateral maps that do not parse */
    scitt_dcap_collateral *cc;
    assert_int_equal(scitt_dcap_collateral_new(&cc), SCITT_OK);
    static const char *bad[] = {"a0" /* fine: empty */,
                                "a1616101" /* unknown key, not bytes */,
                                "a16d7463625f696e666f2e6a736f6e01" /* "tcb_info.json": 1 */,
                                "a16a6e6f742d612d66696c654100" /* "not-a-file": h'00' */,
                                "80" /* an array */,
                                "a2" /* truncated */};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t b[64];
        size_t n;
        assert_int_equal(scitt_hex_decode(scitt_span_str(bad[i]), b, sizeof(b), &n), SCITT_OK);
        scitt_tee_reason why = SCITT_TEE_OK;
        scitt_err e = scitt_attest_collateral_load(scitt_span_make(b, n), cc, &why);
        assert_int_equal(e, i == 0 ? SCITT_OK : SCITT_ERR_EVIDENCE_MALFORMED);
    }
    /* the same file twice */
    scitt_dynbuf twice;
    scitt_dynbuf_init(&twice, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &twice);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_cstr(&w, "root_ca_crl.der");
    scitt_cbor_put_bytes(&w, scitt_span_str("x"));
    scitt_cbor_put_cstr(&w, "root_ca_crl.der");
    scitt_cbor_put_bytes(&w, scitt_span_str("x"));
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
    scitt_tee_reason why;
    assert_int_not_equal(
        scitt_attest_collateral_load(scitt_span_make(twice.ptr, twice.len), cc, &why), SCITT_OK);
    scitt_dynbuf_clear(&twice);
    scitt_dcap_collateral_free(cc);
}

/* The real TDX sample (Intel-signed) in a bundle: verifies up to the binding, which fails (its
 * REPORTDATA binds somebody else's data), and its MRTD can be pinned. */
static void test_real_sample(void **state)
{
    (void)state;
    scitt_dynbuf id, bundle, coll;
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&bundle, 0);
    scitt_dynbuf_init(&coll, 0);
    size_t q_len;
    uint8_t *q = tu_read_file(tu_shared("dcap/tdx-automata/quote.bin"), &q_len);
    make_identity(&id, "https://ledger.example");
    uint8_t *files[SCITT_DCAP_ITEMS];
    scitt_span spans[SCITT_DCAP_ITEMS];
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        char rel[200];
        snprintf(rel, sizeof(rel), "dcap/tdx-automata/collateral/%s",
                 scitt_dcap_item_file((scitt_dcap_item)i));
        size_t n;
        files[i] = tu_read_file(tu_shared(rel), &n);
        spans[i] = scitt_span_make(files[i], n);
    }
    assert_int_equal(scitt_attest_collateral_encode(spans, &coll), SCITT_OK);
    assert_int_equal(scitt_attest_bundle_encode("tdx", scitt_span_make(id.ptr, id.len),
                                                scitt_span_make(q, q_len),
                                                scitt_span_make(coll.ptr, coll.len), &bundle),
                     SCITT_OK);
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    assert_int_equal(scitt_dcap_time_parse(scitt_span_str("2025-07-15T00:00:00Z"), &o.now),
                     SCITT_OK);
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    assert_non_null(r);
    scitt_span bs = scitt_span_make(bundle.ptr, bundle.len);
    /* OutOfDate (expected.json): refused by default */
    assert_int_equal(scitt_attest_verify(bs, &o, r), SCITT_ERR_POLICY);
    assert_int_equal(r->why, SCITT_TEE_DCAP_TCB_STATUS);
    assert_int_equal(r->dcap.tcb_status, SCITT_DCAP_TCB_OUT_OF_DATE);
    o.dcap_accept = SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_OUT_OF_DATE);
    assert_int_equal(scitt_attest_verify(bs, &o, r), SCITT_ERR_BINDING);
    assert_int_equal(r->why, SCITT_TEE_POLICY_REPORT_DATA);
    static const char mrtd_hex[] =
        "935be7742dd89c6a4df6dba8353d89041ae0f052beef993b1e7f4524d3bc5765"
        "0df20e5582158352e1240b3f1fed55d8";
    uint8_t mrtd[48];
    size_t n;
    assert_int_equal(scitt_hex_decode(scitt_span_str(mrtd_hex), mrtd, 48, &n), SCITT_OK);
    assert_memory_equal(r->dcap.td.mrtd, mrtd, 48);
    mrtd[0] ^= 1;
    o.measurements = mrtd;
    o.n_measurements = 1;
    assert_int_equal(scitt_attest_verify(bs, &o, r), SCITT_ERR_POLICY);
    assert_int_equal(r->why, SCITT_TEE_POLICY_MEASUREMENT);
    scitt_free(r);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        free(files[i]);
    }
    free(q);
    scitt_dynbuf_clear(&id);
    scitt_dynbuf_clear(&bundle);
    scitt_dynbuf_clear(&coll);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tdx_verifies),   cmocka_unit_test(test_sgx_verifies),
        cmocka_unit_test(test_other_platform), cmocka_unit_test(test_tcb_status),
        cmocka_unit_test(test_binding),        cmocka_unit_test(test_debug),
        cmocka_unit_test(test_collateral),     cmocka_unit_test(test_real_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
