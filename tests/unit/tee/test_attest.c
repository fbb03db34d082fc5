/*
 * Service bundles: virtual evidence (refused unless allowed, binding, measurement), SNP evidence
 * from the real Milan sample (verifies, then fails the binding: its REPORT_DATA binds somebody
 * else's document), the debug-policy sample, tables of malformed bundles and documents, and the
 * structure-only parsers of bundles and virtual evidence.
 */
#include "testutil.h"

#include "scitt/attest.h"
#include "scitt/cbor.h"
#include "scitt/cose.h"

/* A real identity document: a fresh receipt key, a vkey text, issuer and origin. */
static void make_identity(scitt_dynbuf *out)
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
    scitt_cbor_put_cstr(&w, "https://ledger.example");
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_cstr(&w, "ledger.example/log");
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
    scitt_cose_key_free(k);
}

static void virtual_bundle(scitt_span identity, const uint8_t measurement[48], scitt_span nonce,
                           scitt_dynbuf *out)
{
    uint8_t rd[64];
    assert_int_equal(scitt_attest_report_data(identity, nonce, rd), SCITT_OK);
    scitt_dynbuf ev;
    scitt_dynbuf_init(&ev, 0);
    assert_int_equal(scitt_attest_virtual_evidence(measurement, rd, &ev), SCITT_OK);
    assert_int_equal(scitt_attest_bundle_encode("virtual", identity,
                                                scitt_span_make(ev.ptr, ev.len),
                                                scitt_span_make(NULL, 0), out),
                     SCITT_OK);
    scitt_dynbuf_clear(&ev);
}

static void test_virtual(void **state)
{
    (void)state;
    scitt_dynbuf id, b;
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&b, 0);
    make_identity(&id);
    uint8_t meas[48];
    memset(meas, 0x5a, sizeof(meas));
    virtual_bundle(scitt_span_make(id.ptr, id.len), meas, scitt_span_make(NULL, 0), &b);
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    scitt_attest_result r;
    /* refused unless explicitly allowed */
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r),
                     SCITT_ERR_INSECURE);
    o.allow_insecure_virtual = true;
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_OK);
    assert_true(r.insecure);
    assert_string_equal(r.platform, "virtual");
    assert_memory_equal(r.measurement, meas, 48);
    assert_true(scitt_span_eq_str(r.identity.origin, "ledger.example/log"));
    /* expected measurements */
    o.measurements = meas;
    o.n_measurements = 1;
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_OK);
    uint8_t other[48] = {0};
    o.measurements = other;
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_ERR_POLICY);
    o.n_measurements = 0;
    /* virtual evidence carries no host data: a host_data requirement cannot be met */
    uint8_t hd[32] = {0};
    o.host_data = hd;
    o.n_host_data = 1;
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_ERR_POLICY);
    assert_int_equal(r.why, SCITT_TEE_POLICY_HOST_DATA);
    o.n_host_data = 0;
    /* the nonce is part of the binding */
    static const uint8_t nonce[4] = {1, 2, 3, 4};
    o.nonce = scitt_span_make(nonce, 4);
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_ERR_BINDING);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_init(&b, 0);
    virtual_bundle(scitt_span_make(id.ptr, id.len), meas, o.nonce, &b);
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_OK);
    o.nonce = scitt_span_make(NULL, 0);
    /* another identity document than the evidence binds */
    scitt_dynbuf id2;
    scitt_dynbuf_init(&id2, 0);
    make_identity(&id2);
    scitt_dynbuf b2;
    scitt_dynbuf_init(&b2, 0);
    uint8_t rd[64];
    assert_int_equal(
        scitt_attest_report_data(scitt_span_make(id.ptr, id.len), scitt_span_make(NULL, 0), rd),
        SCITT_OK);
    scitt_dynbuf ev;
    scitt_dynbuf_init(&ev, 0);
    assert_int_equal(scitt_attest_virtual_evidence(meas, rd, &ev), SCITT_OK);
    assert_int_equal(scitt_attest_bundle_encode("virtual", scitt_span_make(id2.ptr, id2.len),
                                                scitt_span_make(ev.ptr, ev.len),
                                                scitt_span_make(NULL, 0), &b2),
                     SCITT_OK);
    assert_int_equal(scitt_attest_verify(scitt_span_make(b2.ptr, b2.len), &o, &r),
                     SCITT_ERR_BINDING);
    scitt_dynbuf_clear(&ev);
    scitt_dynbuf_clear(&b2);
    scitt_dynbuf_clear(&id2);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&id);
}

/* A PEM block for DER bytes. */
static void put_pem(scitt_dynbuf *out, scitt_span der)
{
    char *b64 = malloc(SCITT_BASE64_LEN(der.len));
    assert_int_equal(scitt_base64_encode(der, b64, SCITT_BASE64_LEN(der.len)), SCITT_OK);
    scitt_dynbuf_str(out, "-----BEGIN CERTIFICATE-----\n");
    size_t len = strlen(b64);
    for (size_t i = 0; i < len; i += 64) {
        scitt_dynbuf_put(out, b64 + i, len - i < 64 ? len - i : 64);
        scitt_dynbuf_u8(out, '\n');
    }
    scitt_dynbuf_str(out, "-----END CERTIFICATE-----\n");
    free(b64);
}

static int64_t pinned_now(void)
{
    return 1751328000; /* 2025-07-01T00:00Z: inside every sample certificate's validity */
}

static void snp_bundle(const char *report_path, const char *vcek_path, const char *chain_path,
                       scitt_span identity, scitt_dynbuf *out)
{
    size_t rl, vl, cl;
    uint8_t *rep = tu_read_file(tu_shared(report_path), &rl);
    uint8_t *vcek = tu_read_file(tu_shared(vcek_path), &vl);
    uint8_t *chain = tu_read_file(tu_shared(chain_path), &cl);
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    put_pem(&pem, scitt_span_make(vcek, vl));
    scitt_dynbuf_put(&pem, chain, cl);
    assert_int_equal(scitt_attest_bundle_encode("snp", identity, scitt_span_make(rep, rl),
                                                scitt_span_make(pem.ptr, pem.len), out),
                     SCITT_OK);
    scitt_dynbuf_clear(&pem);
    free(rep);
    free(vcek);
    free(chain);
}

static void test_snp_samples(void **state)
{
    (void)state;
    scitt_dynbuf id, b;
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&b, 0);
    make_identity(&id);
    snp_bundle("tee/sev-snp/virtee-milan/report_milan.bin",
               "tee/sev-snp/virtee-milan/vcek_milan.der",
               "tee/sev-snp/virtee-milan/cert_chain_milan", scitt_span_make(id.ptr, id.len), &b);
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    o.now = pinned_now();
    scitt_attest_result r;
    /* the evidence verifies to AMD's pinned Milan root; the sample binds another document */
    scitt_err e0 = scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r);
    if (e0 != SCITT_ERR_BINDING) {
        fail_msg("%s (%s)", scitt_err_name(e0), scitt_tee_reason_name(r.why));
    }
    assert_int_equal(r.why, SCITT_TEE_POLICY_REPORT_DATA);
    assert_false(r.insecure);
    size_t ml;
    uint8_t *want =
        tu_hex("7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c"
               "60bd95b9c480cd81841f",
               &ml);
    assert_memory_equal(r.measurement, want, 48);
    /* a measurement the relying party does not expect fails before the binding */
    uint8_t other[48] = {0};
    o.measurements = other;
    o.n_measurements = 1;
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_ERR_POLICY);
    assert_int_equal(r.why, SCITT_TEE_POLICY_MEASUREMENT);
    o.measurements = want;
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_ERR_BINDING);
    free(want);
    o.n_measurements = 0;
    /* outside the certificates' validity the chain fails */
    o.now = 1600000000; /* 2020 */
    assert_int_not_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_OK);
    o.now = pinned_now();
    /* virtual permission does not turn SNP failures into successes, and the debug sample fails */
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_init(&b, 0);
    snp_bundle("tee/sev-snp/go-sev-guest-milan/attestation.bin",
               "tee/sev-snp/go-sev-guest-milan/vcek.testcer",
               "tee/sev-snp/go-sev-guest-milan/milan.testcer", scitt_span_make(id.ptr, id.len), &b);
    o.allow_insecure_virtual = true;
    assert_int_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_ERR_POLICY);
    assert_int_equal(r.why, SCITT_TEE_POLICY_DEBUG);
    /* a flipped report byte is caught */
    b.ptr[40] ^= 1;
    assert_int_not_equal(scitt_attest_verify(scitt_span_make(b.ptr, b.len), &o, &r), SCITT_OK);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&id);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        scitt_err want;
        const char *why;
    } rows[] = {
        {"", SCITT_ERR_EVIDENCE_MALFORMED, "empty"},
        {"a0", SCITT_ERR_EVIDENCE_MALFORMED, "no members"},
        {"80", SCITT_ERR_EVIDENCE_MALFORMED, "not a map"},
        {"a168706c6174666f726d63736e70", SCITT_ERR_EVIDENCE_MALFORMED, "platform only"},
        /* {"evidence": h'01', "identity": h'02', "platform": "tpm"} */
        {"a36865766964656e636541016869 64656e74697479410268706c6174666f726d6374706d",
         SCITT_ERR_UNSUPPORTED, "unknown platform"},
        /* {"evidence": h'01', "identity": h'02', "platform": "tdx"}: no collateral */
        {"a36865766964656e636541016869 64656e74697479410268706c6174666f726d63746478",
         SCITT_ERR_EVIDENCE, "tdx without collateral"},
        /* {"evidence": h'01', "identity": h'02', "platform": "virtual"}: evidence not a map */
        {"a36865766964656e63654101686964656e74697479410268706c6174666f726d677669727475616c",
         SCITT_ERR_EVIDENCE_MALFORMED, "virtual evidence garbage"},
        /* an unknown member */
        {"a1656f74686572f6", SCITT_ERR_EVIDENCE_MALFORMED, "unknown member"},
        /* {"evidence": h'01', "identity": h'02', "platform": "snp"}: no endorsements */
        {"a36865766964656e63654101686964656e74697479410268706c6174666f726d63736e70",
         SCITT_ERR_EVIDENCE_MALFORMED, "snp without endorsements"},
    };
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    o.allow_insecure_virtual = true;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char clean[256];
        size_t k = 0;
        for (const char *c = rows[i].hex; *c; c++) {
            if (*c != ' ') {
                clean[k++] = *c;
            }
        }
        clean[k] = 0;
        size_t n = 0;
        uint8_t *bytes = k ? tu_hex(clean, &n) : calloc(1, 1);
        scitt_attest_result r;
        scitt_err e = scitt_attest_verify(scitt_span_make(bytes, n), &o, &r);
        if (e != rows[i].want) {
            fail_msg("%s: got %s", rows[i].why, scitt_err_name(e));
        }
        if (!strcmp(rows[i].why, "snp without endorsements")) {
            assert_int_equal(r.why, SCITT_TEE_MISSING_LEAF); /* the reason says what is missing */
        }
        free(bytes);
    }
    /* identity documents: exactly {1: key, 2: text, 3: text, 4: text} in that order */
    static const char *bad_ids[] = {"a0", "a401a0026176036169046170", "a401a00261760361690461",
                                    "a4026176 01a0 03616904 6170", "a501a002617603616904617005f6"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        char clean[256];
        size_t k = 0;
        for (const char *c = bad_ids[i]; *c; c++) {
            if (*c != ' ') {
                clean[k++] = *c;
            }
        }
        clean[k] = 0;
        size_t n;
        uint8_t *bytes = tu_hex(clean, &n);
        scitt_identity id;
        if (i == 1) {
            /* well-formed, with an empty map as the key: the parser accepts the shape */
            assert_int_equal(scitt_identity_parse(scitt_span_make(bytes, n), &id), SCITT_OK);
        } else {
            assert_int_equal(scitt_identity_parse(scitt_span_make(bytes, n), &id),
                             SCITT_ERR_EVIDENCE_MALFORMED);
        }
        free(bytes);
    }
}

/* Virtual evidence with one member changed; the members in the encoder's order. */
static void virtual_variant(const char *type, bool insecure, size_t meas_len, size_t rd_len,
                            scitt_dynbuf *out)
{
    uint8_t bytes[80] = {0};
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 4);
    scitt_cbor_put_cstr(&w, "type");
    scitt_cbor_put_cstr(&w, type);
    scitt_cbor_put_cstr(&w, "insecure");
    scitt_cbor_put_bool(&w, insecure);
    scitt_cbor_put_cstr(&w, "measurement");
    scitt_cbor_put_bytes(&w, scitt_span_make(bytes, meas_len));
    scitt_cbor_put_cstr(&w, "report_data");
    scitt_cbor_put_bytes(&w, scitt_span_make(bytes, rd_len));
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
}

static void test_parse(void **state)
{
    (void)state;
    scitt_dynbuf id, b;
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&b, 0);
    make_identity(&id);
    uint8_t meas[48], rd[64];
    memset(meas, 0x33, sizeof(meas));
    memset(rd, 0x44, sizeof(rd));
    scitt_dynbuf ev;
    scitt_dynbuf_init(&ev, 0);
    assert_int_equal(scitt_attest_virtual_evidence(meas, rd, &ev), SCITT_OK);
    /* the structure comes back member for member, with and without endorsements */
    static const char pem[] = "-----BEGIN CERTIFICATE-----\n";
    for (int with = 0; with < 2; with++) {
        b.len = 0;
        scitt_span endorse = with ? scitt_span_str(pem) : scitt_span_make(NULL, 0);
        assert_int_equal(scitt_attest_bundle_encode("virtual", scitt_span_make(id.ptr, id.len),
                                                    scitt_span_make(ev.ptr, ev.len), endorse, &b),
                         SCITT_OK);
        scitt_attest_bundle p;
        assert_int_equal(scitt_attest_bundle_parse(scitt_span_make(b.ptr, b.len), &p), SCITT_OK);
        assert_true(scitt_span_eq_str(p.platform, "virtual"));
        assert_true(scitt_span_eq(p.identity, scitt_span_make(id.ptr, id.len)));
        assert_true(scitt_span_eq(p.evidence, scitt_span_make(ev.ptr, ev.len)));
        assert_true(scitt_span_eq(p.endorsements, endorse));
        /* every truncation of it is refused */
        for (size_t n = 0; n < b.len; n++) {
            assert_int_equal(scitt_attest_bundle_parse(scitt_span_make(b.ptr, n), &p),
                             SCITT_ERR_EVIDENCE_MALFORMED);
        }
    }
    /* a member given twice is refused even though each copy is well-formed */
    b.len = 0;
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    scitt_cbor_put_map(&w, 4);
    scitt_cbor_put_cstr(&w, "evidence");
    scitt_cbor_put_bytes(&w, scitt_span_make(ev.ptr, ev.len));
    scitt_cbor_put_cstr(&w, "identity");
    scitt_cbor_put_bytes(&w, scitt_span_make(id.ptr, id.len));
    scitt_cbor_put_cstr(&w, "platform");
    scitt_cbor_put_cstr(&w, "virtual");
    scitt_cbor_put_cstr(&w, "identity");
    scitt_cbor_put_bytes(&w, scitt_span_make(id.ptr, id.len));
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
    scitt_attest_bundle p;
    assert_int_equal(scitt_attest_bundle_parse(scitt_span_make(b.ptr, b.len), &p),
                     SCITT_ERR_EVIDENCE_MALFORMED);
    /* virtual evidence: the encoder's output reads back; each changed member is refused */
    scitt_attest_virtual v;
    assert_int_equal(scitt_attest_virtual_parse(scitt_span_make(ev.ptr, ev.len), &v), SCITT_OK);
    assert_memory_equal(v.measurement, meas, sizeof(meas));
    assert_memory_equal(v.report_data, rd, sizeof(rd));
    static const struct {
        const char *type;
        bool insecure;
        size_t meas_len, rd_len;
        const char *why;
    } rows[] = {
        {SCITT_ATTEST_VIRTUAL_TYPE, false, 48, 64, "insecure must be true"},
        {"scittd-insecure-virtual-v2", true, 48, 64, "another type"},
        {"sev-snp", true, 48, 64, "a hardware name"},
        {SCITT_ATTEST_VIRTUAL_TYPE, true, 47, 64, "short measurement"},
        {SCITT_ATTEST_VIRTUAL_TYPE, true, 48, 63, "short report_data"},
        {SCITT_ATTEST_VIRTUAL_TYPE, true, 32, 64, "a SHA-256 measurement"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_dynbuf x;
        scitt_dynbuf_init(&x, 0);
        virtual_variant(rows[i].type, rows[i].insecure, rows[i].meas_len, rows[i].rd_len, &x);
        if (scitt_attest_virtual_parse(scitt_span_make(x.ptr, x.len), &v) !=
            SCITT_ERR_EVIDENCE_MALFORMED) {
            fail_msg("%s: accepted", rows[i].why);
        }
        scitt_dynbuf_clear(&x);
    }
    /* the control row: the same helper with nothing changed is accepted */
    scitt_dynbuf x;
    scitt_dynbuf_init(&x, 0);
    virtual_variant(SCITT_ATTEST_VIRTUAL_TYPE, true, 48, 64, &x);
    assert_int_equal(scitt_attest_virtual_parse(scitt_span_make(x.ptr, x.len), &v), SCITT_OK);
    scitt_dynbuf_clear(&x);
    scitt_dynbuf_clear(&ev);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&id);
}

static void test_seal(void **state)
{
    (void)state;
    uint8_t key[32], other[32];
    memset(key, 0x11, sizeof(key));
    memset(other, 0x11, sizeof(other));
    other[31] ^= 1;
    const char *secret = "the service keys";
    scitt_span aad = scitt_span_str("scittd-service-keys-v1");
    scitt_dynbuf sealed, opened;
    scitt_dynbuf_init(&sealed, 0);
    scitt_dynbuf_init(&opened, 0);
    assert_int_equal(scitt_seal(key, scitt_span_str(secret), aad, &sealed), SCITT_OK);
    assert_int_equal(sealed.len, 8 + 12 + strlen(secret) + 16);
    assert_null(memmem(sealed.ptr, sealed.len, secret, strlen(secret)));
    scitt_span s = scitt_span_make(sealed.ptr, sealed.len);
    assert_int_equal(scitt_unseal(key, s, aad, &opened), SCITT_OK);
    assert_int_equal(opened.len, strlen(secret));
    assert_memory_equal(opened.ptr, secret, opened.len);
    opened.len = 0;
    /* another key (other code or chip), other AAD, or any flipped byte: nothing comes out */
    assert_int_equal(scitt_unseal(other, s, aad, &opened), SCITT_ERR_INTEGRITY);
    assert_int_equal(scitt_unseal(key, s, scitt_span_str("other"), &opened), SCITT_ERR_INTEGRITY);
    for (size_t i = 8; i < sealed.len; i++) {
        sealed.ptr[i] ^= 0x40;
        assert_int_equal(scitt_unseal(key, s, aad, &opened), SCITT_ERR_INTEGRITY);
        sealed.ptr[i] ^= 0x40;
    }
    assert_int_equal(opened.len, 0);
    assert_true(scitt_is_sealed(s));
    assert_false(scitt_is_sealed(scitt_span_str(secret)));
    assert_false(scitt_is_sealed(scitt_span_make(sealed.ptr, 8 + 12 + 15))); /* no room */
    sealed.ptr[0] ^= 1;
    assert_false(scitt_is_sealed(s));
    assert_int_equal(scitt_unseal(key, s, aad, &opened), SCITT_ERR_MALFORMED);
    assert_int_equal(scitt_unseal(key, scitt_span_make(sealed.ptr, 20), aad, &opened),
                     SCITT_ERR_MALFORMED);
    /* two seals of the same secret differ (fresh nonce) */
    scitt_dynbuf again;
    scitt_dynbuf_init(&again, 0);
    sealed.ptr[0] ^= 1;
    assert_int_equal(scitt_seal(key, scitt_span_str(secret), aad, &again), SCITT_OK);
    assert_int_not_equal(memcmp(again.ptr, sealed.ptr, sealed.len), 0);
    scitt_dynbuf_clear(&again);
    scitt_dynbuf_clear(&sealed);
    scitt_dynbuf_clear(&opened);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtual),   cmocka_unit_test(test_snp_samples),
        cmocka_unit_test(test_malformed), cmocka_unit_test(test_parse),
        cmocka_unit_test(test_seal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
