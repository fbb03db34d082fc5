/*
 * Attested key release (scitt/keyrel.h): the join request parser and its malformed table, the
 * answer's cryptography (round trip, another key, another request, every flipped byte, every
 * truncation), and the holder's verification of join bundles: virtual evidence (bound, another
 * key, another challenge, another measurement, not allowed), the real SEV-SNP and TDX samples
 * (authentic, but their REPORT_DATA binds no join request: refused for the binding; a wrong
 * measurement refused before it).
 */
#include "testutil.h"

#include "scitt/attest.h"
#include "scitt/cbor.h"
#include "scitt/keyrel.h"

static void fresh_request(scitt_keyrel_key **k, uint8_t challenge[32], scitt_dynbuf *doc)
{
    assert_int_equal(scitt_keyrel_key_new(k), SCITT_OK);
    uint8_t pub[SCITT_KEYREL_PUB_LEN];
    scitt_keyrel_key_public(*k, pub);
    for (int i = 0; i < 32; i++) {
        challenge[i] = (uint8_t)(0xA0 + i);
    }
    assert_int_equal(scitt_keyrel_request_encode(challenge, pub, doc), SCITT_OK);
}

static void test_request(void **state)
{
    (void)state;
    scitt_keyrel_key *k;
    uint8_t ch[32];
    scitt_dynbuf doc;
    scitt_dynbuf_init(&doc, 0);
    fresh_request(&k, ch, &doc);
    scitt_keyrel_request r;
    assert_int_equal(scitt_keyrel_request_parse(scitt_span_make(doc.ptr, doc.len), &r), SCITT_OK);
    assert_memory_equal(r.challenge, ch, 32);
    uint8_t pub[SCITT_KEYREL_PUB_LEN], d[32];
    scitt_keyrel_key_public(k, pub);
    assert_memory_equal(r.pub, pub, sizeof(pub));
    scitt_sha256(doc.ptr, doc.len, d);
    assert_memory_equal(r.digest, d, 32);

    /* every truncation and a trailing byte */
    for (size_t n = 0; n < doc.len; n++) {
        assert_int_not_equal(scitt_keyrel_request_parse(scitt_span_make(doc.ptr, n), &r), SCITT_OK);
    }
    scitt_dynbuf_u8(&doc, 0x00);
    assert_int_not_equal(scitt_keyrel_request_parse(scitt_span_make(doc.ptr, doc.len), &r),
                         SCITT_OK);
    doc.len--;

    /* malformed variants, each for one reason */
    struct {
        const char *why;
        const char *type;
        size_t ch_len, pub_len;
        int pub_mode; /* 0 real, 1 off the curve, 2 compressed prefix, 3 hybrid prefix */
        int order;    /* 0: 1,2,3; 1: 1,3,2; 2: four members; 3: a map head of two */
    } rows[] = {
        {"another type", "scittd-key-join-v2", 32, 65, 0, 0},
        {"short challenge", SCITT_KEYREL_TYPE, 31, 65, 0, 0},
        {"long challenge", SCITT_KEYREL_TYPE, 33, 65, 0, 0},
        {"short key", SCITT_KEYREL_TYPE, 32, 64, 0, 0},
        {"a point off the curve", SCITT_KEYREL_TYPE, 32, 65, 1, 0},
        {"a key not in uncompressed form", SCITT_KEYREL_TYPE, 32, 65, 2, 0},
        {"a key in hybrid form", SCITT_KEYREL_TYPE, 32, 65, 3, 0},
        {"members out of order", SCITT_KEYREL_TYPE, 32, 65, 0, 1},
        {"an extra member", SCITT_KEYREL_TYPE, 32, 65, 0, 2},
        {"a map of two followed by a third member", SCITT_KEYREL_TYPE, 32, 65, 0, 3},
    };
    uint8_t big[80];
    memset(big, 0x11, sizeof(big));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint8_t p[80];
        memcpy(p, pub, sizeof(pub));
        if (rows[i].pub_mode == 1) {
            p[64] ^= 1;
        } else if (rows[i].pub_mode == 2) {
            p[0] = 0x02;
        } else if (rows[i].pub_mode == 3) {
            p[0] = (uint8_t)(0x06 | (p[64] & 1)); /* the same point, hybrid (X9.62) */
        }
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &b);
        scitt_cbor_put_map(&w, rows[i].order == 2 ? 4 : rows[i].order == 3 ? 2 : 3);
        scitt_cbor_put_uint(&w, 1);
        scitt_cbor_put_cstr(&w, rows[i].type);
        scitt_span cs = scitt_span_make(big, rows[i].ch_len);
        scitt_span ps = scitt_span_make(p, rows[i].pub_len);
        scitt_cbor_put_uint(&w, rows[i].order == 1 ? 3 : 2);
        scitt_cbor_put_bytes(&w, rows[i].order == 1 ? ps : cs);
        scitt_cbor_put_uint(&w, rows[i].order == 1 ? 2 : 3);
        scitt_cbor_put_bytes(&w, rows[i].order == 1 ? cs : ps);
        if (rows[i].order == 2) {
            scitt_cbor_put_uint(&w, 4);
            scitt_cbor_put_uint(&w, 0);
        }
        assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
        if (scitt_keyrel_request_parse(scitt_span_make(b.ptr, b.len), &r) == SCITT_OK) {
            fail_msg("accepted: %s", rows[i].why);
        }
        scitt_dynbuf_clear(&b);
    }
    scitt_keyrel_key_free(k);
    scitt_dynbuf_clear(&doc);
}

static void test_wrap(void **state)
{
    (void)state;
    scitt_keyrel_key *k, *other;
    uint8_t ch[32];
    scitt_dynbuf doc, ans, out;
    scitt_dynbuf_init(&doc, 0);
    scitt_dynbuf_init(&ans, 0);
    scitt_dynbuf_init(&out, 0);
    fresh_request(&k, ch, &doc);
    assert_int_equal(scitt_keyrel_key_new(&other), SCITT_OK);
    scitt_keyrel_request r;
    assert_int_equal(scitt_keyrel_request_parse(scitt_span_make(doc.ptr, doc.len), &r), SCITT_OK);
    static const char blob[] = "the keystore blob: receipt key, checkpoint key";
    assert_int_equal(scitt_keyrel_wrap(&r, scitt_span_str(blob), &ans), SCITT_OK);
    scitt_span a = scitt_span_make(ans.ptr, ans.len);
    assert_int_equal(scitt_keyrel_unwrap(k, r.digest, a, &out), SCITT_OK);
    assert_int_equal(out.len, strlen(blob));
    assert_memory_equal(out.ptr, blob, out.len);
    out.len = 0;
    /* the plaintext does not appear in the answer */
    assert_null(memmem(ans.ptr, ans.len, "keystore", 8));

    /* another key cannot open it */
    assert_int_equal(scitt_keyrel_unwrap(other, r.digest, a, &out), SCITT_ERR_INTEGRITY);
    assert_int_equal(out.len, 0);
    /* an answer for another request does not open */
    uint8_t d2[32];
    memcpy(d2, r.digest, 32);
    d2[5] ^= 1;
    assert_int_equal(scitt_keyrel_unwrap(k, d2, a, &out), SCITT_ERR_INTEGRITY);
    /* every flipped byte: the magic and the sealed magic are malformed, the ephemeral key is off
     * the curve or derives another key, anything else fails authentication (the tag last) */
    for (size_t i = 0; i < ans.len; i++) {
        ans.ptr[i] ^= 0x40;
        scitt_err e = scitt_keyrel_unwrap(k, r.digest, a, &out);
        if (e != SCITT_ERR_INTEGRITY && e != SCITT_ERR_MALFORMED) {
            fail_msg("byte %zu flipped: %s", i, scitt_err_name(e));
        }
        if (i >= 8 + 65 + 8) {
            assert_int_equal(e, SCITT_ERR_INTEGRITY);
        }
        assert_int_equal(out.len, 0);
        ans.ptr[i] ^= 0x40;
    }
    /* the tag's last bit */
    ans.ptr[ans.len - 1] ^= 1;
    assert_int_equal(scitt_keyrel_unwrap(k, r.digest, a, &out), SCITT_ERR_INTEGRITY);
    ans.ptr[ans.len - 1] ^= 1;
    /* every truncation, and an extension */
    for (size_t n = 0; n < ans.len; n++) {
        scitt_err e = scitt_keyrel_unwrap(k, r.digest, scitt_span_make(ans.ptr, n), &out);
        assert_true(e == SCITT_ERR_MALFORMED || e == SCITT_ERR_INTEGRITY);
        if (n < 8 + 65 + 8 + 12 + 16) {
            assert_int_equal(e, SCITT_ERR_MALFORMED);
        }
        assert_int_equal(out.len, 0);
    }
    scitt_dynbuf_u8(&ans, 0);
    assert_int_equal(scitt_keyrel_unwrap(k, r.digest, scitt_span_make(ans.ptr, ans.len), &out),
                     SCITT_ERR_INTEGRITY);
    ans.len--;
    /* the answer is fresh each time (ephemeral key and nonce) */
    scitt_dynbuf again;
    scitt_dynbuf_init(&again, 0);
    assert_int_equal(scitt_keyrel_wrap(&r, scitt_span_str(blob), &again), SCITT_OK);
    assert_int_equal(again.len, ans.len);
    assert_int_not_equal(memcmp(again.ptr, ans.ptr, ans.len), 0);
    /* a request whose key is off the curve cannot be wrapped to */
    scitt_keyrel_request bad = r;
    bad.pub[64] ^= 1;
    again.len = 0;
    assert_int_equal(scitt_keyrel_wrap(&bad, scitt_span_str(blob), &again), SCITT_ERR_MALFORMED);
    scitt_dynbuf_clear(&again);
    scitt_keyrel_key_free(k);
    scitt_keyrel_key_free(other);
    scitt_dynbuf_clear(&doc);
    scitt_dynbuf_clear(&ans);
    scitt_dynbuf_clear(&out);
}

/* A join bundle with virtual evidence binding @p bound (a request) with @p nonce. */
static void virtual_join(scitt_span request, scitt_span bound, scitt_span nonce,
                         const uint8_t meas[48], scitt_dynbuf *out)
{
    uint8_t rd[64];
    assert_int_equal(scitt_attest_report_data(bound, nonce, rd), SCITT_OK);
    scitt_dynbuf ev;
    scitt_dynbuf_init(&ev, 0);
    assert_int_equal(scitt_attest_virtual_evidence(meas, rd, &ev), SCITT_OK);
    assert_int_equal(scitt_attest_bundle_encode("virtual", request, scitt_span_make(ev.ptr, ev.len),
                                                scitt_span_make(NULL, 0), out),
                     SCITT_OK);
    scitt_dynbuf_clear(&ev);
}

static scitt_err join_check(scitt_dynbuf *b, const scitt_attest_opts *o, scitt_attest_result *r)
{
    scitt_keyrel_join j;
    scitt_err e = scitt_keyrel_join_parse(scitt_span_make(b->ptr, b->len), &j);
    return e ? e : scitt_keyrel_join_verify(&j, o, r);
}

static void test_virtual(void **state)
{
    (void)state;
    scitt_keyrel_key *k, *k2;
    uint8_t ch[32];
    scitt_dynbuf doc, doc2, b;
    scitt_dynbuf_init(&doc, 0);
    scitt_dynbuf_init(&doc2, 0);
    scitt_dynbuf_init(&b, 0);
    fresh_request(&k, ch, &doc);
    fresh_request(&k2, ch, &doc2); /* same challenge, another key */
    uint8_t meas[48], other[48];
    memset(meas, 0x42, sizeof(meas));
    memset(other, 0x43, sizeof(other));
    scitt_span req = scitt_span_make(doc.ptr, doc.len);
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    o.allow_insecure_virtual = true;
    o.measurements = meas;
    o.n_measurements = 1;
    scitt_attest_result r;

    virtual_join(req, req, scitt_span_make(ch, 32), meas, &b);
    assert_int_equal(join_check(&b, &o, &r), SCITT_OK);
    assert_true(r.insecure);
    assert_memory_equal(r.measurement, meas, 48);
    /* opts.nonce is ignored: the request's challenge is the nonce */
    uint8_t junk[32] = {1};
    o.nonce = scitt_span_make(junk, 32);
    assert_int_equal(join_check(&b, &o, &r), SCITT_OK);
    o.nonce = scitt_span_make(NULL, 0);
    /* virtual evidence is refused unless the policy allows it */
    o.allow_insecure_virtual = false;
    assert_int_equal(join_check(&b, &o, &r), SCITT_ERR_INSECURE);
    o.allow_insecure_virtual = true;
    /* another measurement */
    o.measurements = other;
    assert_int_equal(join_check(&b, &o, &r), SCITT_ERR_POLICY);
    assert_int_equal(r.why, SCITT_TEE_POLICY_MEASUREMENT);
    o.measurements = meas;

    /* evidence binding another key (another request) presented with this request */
    b.len = 0;
    virtual_join(req, scitt_span_make(doc2.ptr, doc2.len), scitt_span_make(ch, 32), meas, &b);
    assert_int_equal(join_check(&b, &o, &r), SCITT_ERR_BINDING);
    assert_int_equal(r.why, SCITT_TEE_POLICY_REPORT_DATA);
    /* evidence with another challenge in REPORT_DATA[32:64] */
    b.len = 0;
    uint8_t old[32];
    memcpy(old, ch, 32);
    old[0] ^= 1;
    virtual_join(req, req, scitt_span_make(old, 32), meas, &b);
    assert_int_equal(join_check(&b, &o, &r), SCITT_ERR_BINDING);
    assert_int_equal(r.why, SCITT_TEE_POLICY_REPORT_DATA);
    /* evidence with the challenge but no request digest (zeros in [0:32]) */
    b.len = 0;
    virtual_join(req, scitt_span_make(NULL, 0), scitt_span_make(ch, 32), meas, &b);
    assert_int_equal(join_check(&b, &o, &r), SCITT_ERR_BINDING);

    /* a service bundle (identity document) is not a join bundle */
    b.len = 0;
    virtual_join(scitt_span_str("\xa0"), scitt_span_str("\xa0"), scitt_span_make(ch, 32), meas, &b);
    scitt_keyrel_join j;
    assert_int_not_equal(scitt_keyrel_join_parse(scitt_span_make(b.ptr, b.len), &j), SCITT_OK);
    /* over the size bound */
    uint8_t *huge = calloc(1, SCITT_KEYREL_REQUEST_MAX + 1);
    assert_int_equal(
        scitt_keyrel_join_parse(scitt_span_make(huge, SCITT_KEYREL_REQUEST_MAX + 1), &j),
        SCITT_ERR_TOO_LARGE);
    free(huge);
    scitt_keyrel_key_free(k);
    scitt_keyrel_key_free(k2);
    scitt_dynbuf_clear(&doc);
    scitt_dynbuf_clear(&doc2);
    scitt_dynbuf_clear(&b);
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

/* The real Milan report (AMD-signed, default SNP policy met) as a join: it verifies to AMD's
 * root, and its REPORT_DATA (fixed when it was made) binds no join request. */
static void test_snp_sample(void **state)
{
    (void)state;
    scitt_keyrel_key *k;
    uint8_t ch[32];
    scitt_dynbuf doc, b, pem;
    scitt_dynbuf_init(&doc, 0);
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_init(&pem, 0);
    fresh_request(&k, ch, &doc);
    size_t rl, vl, cl, ml;
    uint8_t *rep = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/report_milan.bin"), &rl);
    uint8_t *vcek = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/vcek_milan.der"), &vl);
    uint8_t *chain = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/cert_chain_milan"), &cl);
    put_pem(&pem, scitt_span_make(vcek, vl));
    scitt_dynbuf_put(&pem, chain, cl);
    assert_int_equal(scitt_attest_bundle_encode("snp", scitt_span_make(doc.ptr, doc.len),
                                                scitt_span_make(rep, rl),
                                                scitt_span_make(pem.ptr, pem.len), &b),
                     SCITT_OK);
    uint8_t *want =
        tu_hex("7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c"
               "60bd95b9c480cd81841f",
               &ml);
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    o.now = 1751328000; /* 2025-07-01: inside every sample certificate's validity */
    o.measurements = want;
    o.n_measurements = 1;
    scitt_attest_result r;
    scitt_err e = join_check(&b, &o, &r);
    if (e != SCITT_ERR_BINDING) {
        fail_msg("%s (%s)", scitt_err_name(e), scitt_tee_reason_name(r.why));
    }
    assert_int_equal(r.why, SCITT_TEE_POLICY_REPORT_DATA);
    assert_memory_equal(r.measurement, want, 48);
    /* a valid report with a measurement the holder does not accept: refused before the binding */
    uint8_t other[48];
    memcpy(other, want, 48);
    other[47] ^= 1;
    o.measurements = other;
    assert_int_equal(join_check(&b, &o, &r), SCITT_ERR_POLICY);
    assert_int_equal(r.why, SCITT_TEE_POLICY_MEASUREMENT);
    /* virtual permission changes nothing for SNP evidence */
    o.allow_insecure_virtual = true;
    assert_int_equal(join_check(&b, &o, &r), SCITT_ERR_POLICY);
    o.measurements = want;
    /* a flipped report byte (in the signed part) */
    uint8_t *p = memmem(b.ptr, b.len, rep, 64);
    assert_non_null(p);
    p[0x50] ^= 1; /* REPORT_DATA: now the signature fails before any binding is looked at */
    e = join_check(&b, &o, &r);
    assert_int_equal(e, SCITT_ERR_SIGNATURE);
    free(want);
    free(rep);
    free(vcek);
    free(chain);
    scitt_keyrel_key_free(k);
    scitt_dynbuf_clear(&doc);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&pem);
}

/* The real TDX quote (Intel-signed) with its collateral as a join: refused for the binding. */
static void test_tdx_sample(void **state)
{
    (void)state;
    scitt_keyrel_key *k;
    uint8_t ch[32];
    scitt_dynbuf doc, b, coll;
    scitt_dynbuf_init(&doc, 0);
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_init(&coll, 0);
    fresh_request(&k, ch, &doc);
    size_t q_len;
    uint8_t *q = tu_read_file(tu_shared("dcap/tdx-automata/quote.bin"), &q_len);
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
    assert_int_equal(scitt_attest_bundle_encode("tdx", scitt_span_make(doc.ptr, doc.len),
                                                scitt_span_make(q, q_len),
                                                scitt_span_make(coll.ptr, coll.len), &b),
                     SCITT_OK);
    static const char mrtd_hex[] =
        "935be7742dd89c6a4df6dba8353d89041ae0f052beef993b1e7f4524d3bc5765"
        "0df20e5582158352e1240b3f1fed55d8";
    uint8_t mrtd[48];
    size_t n;
    assert_int_equal(scitt_hex_decode(scitt_span_str(mrtd_hex), mrtd, 48, &n), SCITT_OK);
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    assert_int_equal(scitt_dcap_time_parse(scitt_span_str("2025-07-15T00:00:00Z"), &o.now),
                     SCITT_OK);
    o.dcap_accept = SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_OUT_OF_DATE); /* the sample's status */
    o.measurements = mrtd;
    o.n_measurements = 1;
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    assert_non_null(r);
    scitt_err e = join_check(&b, &o, r);
    if (e != SCITT_ERR_BINDING) {
        fail_msg("%s (%s)", scitt_err_name(e), scitt_tee_reason_name(r->why));
    }
    assert_int_equal(r->why, SCITT_TEE_POLICY_REPORT_DATA);
    assert_true(r->dcap.authentic);
    /* another MRTD: refused before the binding */
    mrtd[0] ^= 1;
    assert_int_equal(join_check(&b, &o, r), SCITT_ERR_POLICY);
    assert_int_equal(r->why, SCITT_TEE_POLICY_MEASUREMENT);
    mrtd[0] ^= 1;
    /* the TCB status the holder does not accept */
    o.dcap_accept = 0;
    assert_int_equal(join_check(&b, &o, r), SCITT_ERR_POLICY);
    assert_int_equal(r->why, SCITT_TEE_DCAP_TCB_STATUS);
    scitt_free(r);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        free(files[i]);
    }
    free(q);
    scitt_keyrel_key_free(k);
    scitt_dynbuf_clear(&doc);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&coll);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),    cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_virtual),    cmocka_unit_test(test_snp_sample),
        cmocka_unit_test(test_tdx_sample),
    };
    int st = TU_SELECT(tests, argc, argv);
    return st ? st : cmocka_run_group_tests(tests, NULL, NULL);
}
