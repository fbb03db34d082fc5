/*
 * did:x509 beyond the conformance vectors: a table of DIDs the parser must refuse (each with its
 * reason), percent-encoding round trips, and resolution against generated chains (validation
 * time, fingerprints of every chain position and algorithm, UTF-8 subject values, SANs, EKUs, the
 * Fulcio issuer, key usage).
 */
#include "certgen.h"

#include "scitt/limits.h"
#include "scitt/x509.h"

#define FP "wB-YrYI1eo_9-9izSw6aviwkdLz4O7-kgrK_VzU4_OA"

static void test_parse_accepts(void **state)
{
    (void)state;
    static const struct {
        const char *did;
        size_t preds;
    } rows[] = {
        {"did:x509:0:sha256:" FP "::subject:CN:example.com", 1},
        {"did:x509:0:sha256:" FP "::subject:C:US:ST:California:O:My%20Org", 1},
        {"did:x509:0:sha256:" FP "::subject:2.5.4.97:VATDE-123", 1},
        {"did:x509:0:sha256:" FP "::eku:1.3.6.1.5.5.7.3.3::eku:1.3.6.1.4.1.311.10.3.13", 2},
        {"did:x509:0:sha256:" FP "::san:email:bob%40example.com", 1},
        {"did:x509:0:sha256:" FP "::fulcio-issuer:accounts.google.com::san:uri:https%3A%2F%2Fx", 2},
        {"did:x509:0:sha256:" FP "::subject:CN:x#key-1", 1},
        {"did:x509:0:sha256:" FP "::subject:CN:x#", 1},
        {"did:x509:0:sha256:" FP "::subject:CN:%e2%82%ac", 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_didx509 d;
        const char *why = NULL;
        scitt_err e = scitt_didx509_parse(scitt_span_str(rows[i].did), &d, &why);
        if (e != SCITT_OK) {
            fail_msg("row %zu: %s (%s)", i, scitt_err_name(e), why);
        }
        assert_int_equal(d.n_preds, rows[i].preds);
        assert_int_equal(d.alg, SCITT_X509_SHA256);
        assert_int_equal(d.fingerprint_len, 32);
    }
    scitt_didx509 d;
    assert_int_equal(scitt_didx509_parse(
                         scitt_span_str("did:x509:0:sha256:" FP "::subject:CN:x#frag"), &d, NULL),
                     SCITT_OK);
    assert_true(scitt_span_eq_str(d.id, "did:x509:0:sha256:" FP "::subject:CN:x"));
    assert_int_equal(d.preds[0].kind, SCITT_DIDX509_SUBJECT);
    assert_true(scitt_span_eq_str(d.preds[0].value, "CN:x"));
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *did;
        const char *why;
    } rows[] = {
        {"", "empty"},
        {"did:x509:", "nothing after the method"},
        {"did:X509:0:sha256:" FP "::subject:CN:x", "method name is case-sensitive"},
        {"did:x509:1:sha256:" FP "::subject:CN:x", "method version 1"},
        {"did:x509:00:sha256:" FP "::subject:CN:x", "version 00"},
        {"did:x509:0:sha1:HFAx6WegyY98jzMqLUpTdIdtnvk::subject:CN:x", "SHA-1"},
        {"did:x509:0:SHA256:" FP "::subject:CN:x", "upper-case algorithm"},
        {"did:x509:0:sha256:" FP, "no predicate"},
        {"did:x509:0:sha256:" FP "::", "empty predicate"},
        {"did:x509:0:sha256:" FP "=::subject:CN:x", "padded fingerprint"},
        {"did:x509:0:sha256:" FP "A::subject:CN:x", "fingerprint one character too long"},
        {"did:x509:0:sha384:" FP "::subject:CN:x", "SHA-256 length under sha384"},
        {"did:x509:0:sha256:wB+YrYI1eo/9-9izSw6aviwkdLz4O7-kgrK_VzU4_OA::subject:CN:x",
         "standard base64 alphabet"},
        {"did:x509:0:sha256:wB-YrYI1eo_9-9izSw6aviwkdLz4O7-kgrK_VzU4_OB::subject:CN:x",
         "non-zero trailing bits"},
        {"did:x509:0:sha256:" FP ":subject:CN:x", "single colon before the predicate"},
        {"did:x509:0:sha256:" FP "::subject", "predicate without value"},
        {"did:x509:0:sha256:" FP "::subject:", "empty subject"},
        {"did:x509:0:sha256:" FP "::subject:CN", "key without value"},
        {"did:x509:0:sha256:" FP "::subject:CN:", "empty value"},
        {"did:x509:0:sha256:" FP "::subject:CN:x:", "trailing colon"},
        {"did:x509:0:sha256:" FP "::subject:CN:x:O", "odd number of items"},
        {"did:x509:0:sha256:" FP "::subject:CN:x:CN:y", "repeated key"},
        {"did:x509:0:sha256:" FP "::subject:DC:x", "unknown label"},
        {"did:x509:0:sha256:" FP "::subject:cn:x", "labels are upper case"},
        {"did:x509:0:sha256:" FP "::subject:2.5.4.3:x", "OID form of a labelled attribute"},
        {"did:x509:0:sha256:" FP "::subject:1..2:x", "empty OID arc"},
        {"did:x509:0:sha256:" FP "::subject:CN:a b", "raw space"},
        {"did:x509:0:sha256:" FP "::subject:CN:a~b", "raw tilde (must be %7E)"},
        {"did:x509:0:sha256:" FP "::subject:CN:a%2", "truncated escape"},
        {"did:x509:0:sha256:" FP "::subject:CN:a%zz", "non-hex escape"},
        {"did:x509:0:sha256:" FP "::subject:CN:%ff", "escape decoding to invalid UTF-8"},
        {"did:x509:0:sha256:" FP "::subject:CN:a%00b", "escaped NUL"},
        {"did:x509:0:sha256:" FP "::subject:CN:\xc3\xa9", "raw non-ASCII"},
        {"did:x509:0:sha256:" FP "::san:email", "SAN without value"},
        {"did:x509:0:sha256:" FP "::san:ip:1.2.3.4", "SAN type ip"},
        {"did:x509:0:sha256:" FP "::san:email:a:b", "SAN with two values"},
        {"did:x509:0:sha256:" FP "::eku:1.2.x", "EKU not an OID"},
        {"did:x509:0:sha256:" FP "::eku:1.2.", "EKU trailing dot"},
        {"did:x509:0:sha256:" FP "::eku:%31.2", "EKU percent-encoded"},
        {"did:x509:0:sha256:" FP "::fulcio-issuer:", "empty Fulcio issuer"},
        {"did:x509:0:sha256:" FP "::fulcio-issuer:https://x", "unencoded URL"},
        {"did:x509:0:sha256:" FP "::email:a%40b", "unknown predicate"},
        {"did:x509:0:sha256:" FP "::sub2ject:CN:x", "digit in the predicate name"},
        {"did:x509:0:sha256:" FP "::subject:CN:x/path", "DID URL path"},
        {"did:x509:0:sha256:" FP "::subject:CN:x?query", "DID URL query"},
        {"did:x509:0:sha256:" FP "::subject:CN:x#frag ment", "space in the fragment"},
        {"did:x509:0:sha256:" FP "::subject:CN:x#%g0", "bad escape in the fragment"},
        {"did:x509:0:sha256:" FP "::subject:CN:x:::eku:1.2", "three colons"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_didx509 d;
        const char *why = NULL;
        scitt_err e = scitt_didx509_parse(scitt_span_str(rows[i].did), &d, &why);
        if (e != SCITT_ERR_DID_MALFORMED) {
            fail_msg("row %zu (%s): got %s", i, rows[i].why, scitt_err_name(e));
        }
        assert_non_null(why);
    }
    /* Embedded NUL: a span, not a C string. */
    static const char nul[] = "did:x509:0:sha256:" FP "::subject:CN:a\0b";
    scitt_didx509 d;
    assert_int_equal(scitt_didx509_parse(scitt_span_make(nul, sizeof(nul) - 1), &d, NULL),
                     SCITT_ERR_DID_MALFORMED);

    /* Limits: predicates and subject pairs. */
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_str(&b, "did:x509:0:sha256:" FP);
    for (size_t i = 0; i < SCITT_DIDX509_MAX_PREDICATES; i++) {
        scitt_dynbuf_str(&b, "::eku:1.2.3");
    }
    assert_int_equal(scitt_didx509_parse(scitt_span_make(b.ptr, b.len), &d, NULL), SCITT_OK);
    scitt_dynbuf_str(&b, "::eku:1.2.3");
    assert_int_equal(scitt_didx509_parse(scitt_span_make(b.ptr, b.len), &d, NULL),
                     SCITT_ERR_DID_MALFORMED);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_str(&b, "did:x509:0:sha256:" FP "::subject:CN:");
    while (b.len <= SCITT_LIMIT_ISS_CHARS) {
        scitt_dynbuf_u8(&b, 'a');
    }
    assert_int_equal(scitt_didx509_parse(scitt_span_make(b.ptr, b.len), &d, NULL),
                     SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&b);
}

static void test_pct(void **state)
{
    (void)state;
    /* Every byte value round-trips; only the unreserved subset stays unencoded. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    char enc[256 * 3 + 1];
    assert_int_equal(scitt_didx509_pct_encode(scitt_span_make(all, 256), enc, sizeof(enc)),
                     SCITT_OK);
    assert_int_equal(strlen(enc), 256 * 3 - 2 * (26 + 26 + 10 + 3));
    uint8_t dec[256];
    size_t n;
    assert_int_equal(scitt_didx509_pct_decode(scitt_span_str(enc), dec, sizeof(dec), &n), SCITT_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(dec, all, 256);
    size_t need = strlen(enc) + 1;
    assert_int_equal(scitt_didx509_pct_encode(scitt_span_make(all, 256), enc, need), SCITT_OK);
    assert_int_equal(scitt_didx509_pct_encode(scitt_span_make(all, 256), enc, need - 1),
                     SCITT_ERR_BUFFER_TOO_SMALL);
    char s[32];
    assert_int_equal(scitt_didx509_pct_encode(scitt_span_str("a~b c@d"), s, sizeof(s)), SCITT_OK);
    assert_string_equal(s, "a%7Eb%20c%40d");
    /* Lower-case hex decodes too. */
    assert_int_equal(scitt_didx509_pct_decode(scitt_span_str("%7e%7E"), dec, sizeof(dec), &n),
                     SCITT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(dec[0], '~');
}

/* Builds the DID string for a chain position and a predicate string. */
static void did_for(const cg_cert *ca, scitt_x509_hash alg, const char *preds, char *out,
                    size_t cap)
{
    uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
    size_t n;
    assert_int_equal(scitt_x509_fingerprint(cg_span(ca), alg, fp, &n), SCITT_OK);
    char b64[100];
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, n), b64, sizeof(b64)), SCITT_OK);
    const char *names[] = {"", "sha256", "sha384", "sha512"};
    snprintf(out, cap, "did:x509:0:%s:%s::%s", names[alg], b64, preds);
}

static scitt_err resolve(const cg_chain *c, const char *did, scitt_x509_time when,
                         scitt_didx509_result *res)
{
    scitt_span chain[3] = {cg_span(&c->leaf), cg_span(&c->inter), cg_span(&c->root)};
    return scitt_didx509_resolve(scitt_span_str(did), chain, 3, &when, res, NULL);
}

static void test_resolve_generated(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "Jos\xc3\xa9 M\xc3\xbcller: signer", /* "José Müller: signer" */
                  .o = "Example Org",
                  .ku = "critical,digitalSignature",
                  .eku = "codeSigning,1.3.6.1.4.1.311.10.3.13",
                  .san = "email:bob@example.com,DNS:signer.example,URI:https://example.com/wf",
                  .fulcio = "https://token.actions.githubusercontent.com",
                  .not_before = 1704067200,
                  .not_after = 1735689600};
    cg_chain c;
    cg_chain_make(&c, &lo);
    scitt_x509_time none = scitt_x509_time_none();
    char did[1024];
    scitt_didx509_result res;

    /* Every algorithm, pinned to the intermediate or to the root. */
    for (int alg = 1; alg <= 3; alg++) {
        did_for(&c.inter, (scitt_x509_hash)alg, "subject:O:Example%20Org", did, sizeof(did));
        assert_int_equal(resolve(&c, did, none, &res), SCITT_OK);
        assert_int_equal(res.ca_index, 1);
        did_for(&c.root, (scitt_x509_hash)alg, "subject:O:Example%20Org", did, sizeof(did));
        assert_int_equal(resolve(&c, did, none, &res), SCITT_OK);
        assert_int_equal(res.ca_index, 2);
        assert_true(res.assertion);
        assert_false(res.key_agreement);
        did_for(&c.leaf, (scitt_x509_hash)alg, "subject:O:Example%20Org", did, sizeof(did));
        assert_int_equal(resolve(&c, did, none, &res), SCITT_ERR_DID_MISMATCH);
    }
    scitt_span spki;
    assert_int_equal(scitt_x509_spki(cg_span(&c.leaf), &spki), SCITT_OK);
    did_for(&c.root, SCITT_X509_SHA256, "eku:1.3.6.1.5.5.7.3.3", did, sizeof(did));
    assert_int_equal(resolve(&c, did, none, &res), SCITT_OK);
    assert_true(scitt_span_eq(res.leaf_spki, spki));

    static const struct {
        const char *preds;
        scitt_err err;
    } rows[] = {
        {"subject:CN:Jos%C3%A9%20M%C3%BCller%3A%20signer", SCITT_OK},
        {"subject:CN:Jos%c3%a9%20M%c3%bcller%3a%20signer:O:Example%20Org", SCITT_OK},
        {"subject:CN:Jos%C3%A9%20M%C3%BCller", SCITT_ERR_DID_MISMATCH},
        {"subject:O:example%20org", SCITT_ERR_DID_MISMATCH},
        {"subject:OU:x", SCITT_ERR_DID_MISMATCH},
        {"subject:2.5.4.97:x", SCITT_ERR_DID_MISMATCH},
        {"san:email:bob%40example.com", SCITT_OK},
        {"san:dns:signer.example", SCITT_OK},
        {"san:uri:https%3A%2F%2Fexample.com%2Fwf", SCITT_OK},
        {"san:dns:bob%40example.com", SCITT_ERR_DID_MISMATCH},
        {"san:dns:Signer.example", SCITT_ERR_DID_MISMATCH},
        {"eku:1.3.6.1.4.1.311.10.3.13", SCITT_OK},
        {"eku:1.3.6.1.5.5.7.3.3::eku:1.3.6.1.4.1.311.10.3.13", SCITT_OK},
        {"eku:1.3.6.1.5.5.7.3.1", SCITT_ERR_DID_MISMATCH},
        {"eku:1.3.6.1.5.5.7.3.3::eku:1.3.6.1.5.5.7.3.1", SCITT_ERR_DID_MISMATCH},
        {"fulcio-issuer:token.actions.githubusercontent.com", SCITT_OK},
        {"fulcio-issuer:token.actions.githubusercontent.com%2F", SCITT_ERR_DID_MISMATCH},
        {"fulcio-issuer:https%3A%2F%2Ftoken.actions.githubusercontent.com", SCITT_ERR_DID_MISMATCH},
        {"fulcio-issuer:token.actions.githubusercontent.com::san:uri:https%3A%2F%2Fexample.com%"
         "2Fwf",
         SCITT_OK},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        did_for(&c.inter, SCITT_X509_SHA256, rows[i].preds, did, sizeof(did));
        scitt_err e = resolve(&c, did, none, &res);
        if (e != rows[i].err) {
            fail_msg("row %zu (%s): got %s", i, rows[i].preds, scitt_err_name(e));
        }
    }

    /* Validation time: the leaf is valid during 2024 only. */
    did_for(&c.inter, SCITT_X509_SHA256, "san:dns:signer.example", did, sizeof(did));
    assert_int_equal(resolve(&c, did, scitt_x509_time_at(1717200000), &res), SCITT_OK);
    assert_int_equal(resolve(&c, did, scitt_x509_time_at(1780272000), &res), SCITT_ERR_EXPIRED);
    assert_int_equal(resolve(&c, did, none, &res), SCITT_OK);

    /* The chain must be leaf first, complete up to the anchor and nothing else. */
    scitt_span two[2] = {cg_span(&c.leaf), cg_span(&c.inter)};
    assert_int_equal(scitt_didx509_resolve(scitt_span_str(did), two, 2, &none, &res, NULL),
                     SCITT_OK); /* the intermediate as anchor */
    scitt_span swapped[3] = {cg_span(&c.inter), cg_span(&c.leaf), cg_span(&c.root)};
    assert_int_equal(scitt_didx509_resolve(scitt_span_str(did), swapped, 3, &none, &res, NULL),
                     SCITT_ERR_CERT_CHAIN);
    scitt_span one[1] = {cg_span(&c.leaf)};
    assert_int_equal(scitt_didx509_resolve(scitt_span_str(did), one, 1, &none, &res, NULL),
                     SCITT_ERR_CERT_CHAIN);
    scitt_span skip[2] = {cg_span(&c.leaf), cg_span(&c.root)};
    assert_int_equal(scitt_didx509_resolve(scitt_span_str(did), skip, 2, &none, &res, NULL),
                     SCITT_ERR_CERT_CHAIN);
    assert_int_equal(scitt_didx509_resolve(scitt_span_str(did), two, 2, NULL, &res, NULL),
                     SCITT_ERR_INVALID_ARG);
    cg_chain_free(&c);
}

/* Key usage decides the verification relationships; a key usage without either bit fails. */
static void test_key_usage(void **state)
{
    (void)state;
    static const struct {
        const char *ku;
        scitt_err err;
        bool assertion, agreement;
    } rows[] = {
        {"", SCITT_OK, true, true}, /* no keyUsage extension */
        {"critical,digitalSignature", SCITT_OK, true, false},
        {"critical,keyAgreement", SCITT_OK, false, true},
        {"critical,digitalSignature,keyAgreement", SCITT_OK, true, true},
        {"critical,keyEncipherment", SCITT_ERR_DID_MISMATCH, false, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cg_opts lo = {.cn = "leaf", .ku = rows[i].ku};
        cg_chain c;
        cg_chain_make(&c, &lo);
        char did[512];
        did_for(&c.root, SCITT_X509_SHA256, "subject:CN:leaf", did, sizeof(did));
        scitt_didx509_result res;
        assert_int_equal(resolve(&c, did, scitt_x509_time_none(), &res), rows[i].err);
        if (rows[i].err == SCITT_OK) {
            assert_int_equal(res.assertion, rows[i].assertion);
            assert_int_equal(res.key_agreement, rows[i].agreement);
        }
        cg_chain_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts), cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_pct),           cmocka_unit_test(test_resolve_generated),
        cmocka_unit_test(test_key_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
