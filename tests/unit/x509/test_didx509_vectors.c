/*
 * The 58 did:x509 conformance vectors (microsoft/did-x509 test-vectors.json in tests/data/vectors).
 * Success cases: the resolved leaf key, turned into a JWK here with OpenSSL, must equal the
 * document's publicKeyJwk, and the verification relationships must match. Error cases: each must
 * fail with the error code of its category below.
 */
#include "testutil.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scitt/json.h"
#include "scitt/limits.h"
#include "scitt/x509.h"

typedef struct expect {
    const char *id;
    scitt_err err;
} expect;

/* Every error vector with the code it must produce; a new vector fails the test until listed. */
static const expect errors[] = {
    {"broken-signature-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"chain-shorter-than-two-certificates", SCITT_ERR_CERT_CHAIN},
    {"critical-fulcio-issuer-extension-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"duplicate-certificate-subject-attribute", SCITT_ERR_DID_MISMATCH},
    {"fulcio-issuer-predicate-requires-the-extension", SCITT_ERR_DID_MISMATCH},
    {"issuer-with-ca-false-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"issuer-without-basic-constraints-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"issuer-without-key-cert-sign-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"leaf-key-usage-must-support-did-operations", SCITT_ERR_DID_MISMATCH},
    {"path-length-zero-rejects-intermediate", SCITT_ERR_CERT_CHAIN},
    {"path-length-zero-rejects-two-intermediates", SCITT_ERR_CERT_CHAIN},
    {"san-outside-permitted-subtree-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"san-within-excluded-subtree-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"unknown-critical-extension-is-rejected", SCITT_ERR_CERT_CHAIN},
    {"unrelated-candidate-cannot-satisfy-ca-fingerprint", SCITT_ERR_CERT_CHAIN},
    {"unrelated-candidate-is-rejected-with-valid-ca-fingerprint", SCITT_ERR_CERT_CHAIN},
    {"unsupported-certificate-san-type", SCITT_ERR_DID_MISMATCH},
    {"did-url-path-not-supported", SCITT_ERR_DID_MALFORMED},
    {"did-url-query-not-supported", SCITT_ERR_DID_MALFORMED},
    {"did-without-predicates", SCITT_ERR_DID_MALFORMED},
    {"eku-invalid-value", SCITT_ERR_DID_MISMATCH},
    {"eku-predicate-requires-extension", SCITT_ERR_DID_MISMATCH},
    {"fulcio-issuer-value-must-match", SCITT_ERR_DID_MISMATCH},
    {"invalid-did-prefix", SCITT_ERR_DID_MALFORMED},
    {"san-type-must-match", SCITT_ERR_DID_MISMATCH},
    {"san-invalid-value", SCITT_ERR_DID_MISMATCH},
    {"san-predicate-requires-type-and-value", SCITT_ERR_DID_MALFORMED},
    {"subject-duplicate-field", SCITT_ERR_DID_MALFORMED},
    {"subject-invalid-name", SCITT_ERR_DID_MISMATCH},
    {"subject-predicate-rejects-unknown-key", SCITT_ERR_DID_MALFORMED},
    {"subject-predicate-requires-key-value-pairs", SCITT_ERR_DID_MALFORMED},
    {"unknown-predicate-is-rejected", SCITT_ERR_DID_MALFORMED},
    {"unsupported-fingerprint-algorithm", SCITT_ERR_DID_MALFORMED},
    {"specification-chain-rejects-leaf-fingerprint", SCITT_ERR_DID_MISMATCH},
};

static char *str(const scitt_json *j, long tok)
{
    char *s = NULL;
    assert_true(tok >= 0);
    assert_int_equal(scitt_json_strdup(j, (size_t)tok, &s), SCITT_OK);
    return s;
}

/* base64url of a big-endian field element padded to the curve size. */
static void b64_bn(const EVP_PKEY *pk, const char *param, size_t width, char *out, size_t cap)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
    uint8_t buf[80];
    assert_true(width <= sizeof(buf));
    assert_int_equal(BN_bn2binpad(bn, buf, (int)width), (int)width);
    BN_free(bn);
    assert_int_equal(scitt_base64url_encode(scitt_span_make(buf, width), out, cap), SCITT_OK);
}

/* Compares the SubjectPublicKeyInfo with the vector's EC JWK member by member. */
static void check_jwk(const scitt_json *j, long jwk, scitt_span spki)
{
    const unsigned char *p = spki.ptr;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki.len);
    assert_non_null(pk);
    assert_ptr_equal(p, spki.ptr + spki.len);
    assert_true(scitt_json_str_eq(j, (size_t)scitt_json_get(j, (size_t)jwk, "kty"), "EC"));
    char group[64];
    assert_int_equal(
        EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL),
        1);
    const char *crv = strcmp(group, "prime256v1") == 0  ? "P-256"
                      : strcmp(group, "secp384r1") == 0 ? "P-384"
                                                        : "P-521";
    size_t width = crv[2] == '2' ? 32 : crv[2] == '3' ? 48 : 66;
    assert_true(scitt_json_str_eq(j, (size_t)scitt_json_get(j, (size_t)jwk, "crv"), crv));
    char x[128], y[128];
    b64_bn(pk, OSSL_PKEY_PARAM_EC_PUB_X, width, x, sizeof(x));
    b64_bn(pk, OSSL_PKEY_PARAM_EC_PUB_Y, width, y, sizeof(y));
    assert_true(scitt_json_str_eq(j, (size_t)scitt_json_get(j, (size_t)jwk, "x"), x));
    assert_true(scitt_json_str_eq(j, (size_t)scitt_json_get(j, (size_t)jwk, "y"), y));
    EVP_PKEY_free(pk);
}

static void test_vectors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *text = tu_read_file(tu_shared("vectors/did-x509/test-vectors.json"), &len);
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_make(text, len), &j), SCITT_OK);
    size_t ncases = j.toks[0].count, ok_cases = 0, err_cases = 0;
    assert_int_equal(ncases, 58);

    for (size_t c = 0; c < ncases; c++) {
        long cs = scitt_json_at(&j, 0, c);
        char *id = str(&j, scitt_json_get(&j, (size_t)cs, "id"));
        long input = scitt_json_get(&j, (size_t)cs, "input");
        char *did = str(&j, scitt_json_get(&j, (size_t)input, "did"));
        long chain = scitt_json_get(&j, (size_t)input, "chain");
        size_t n = j.toks[chain].count;
        assert_true(n <= SCITT_LIMIT_X5CHAIN_CERTS);
        uint8_t *der[SCITT_LIMIT_X5CHAIN_CERTS];
        scitt_span spans[SCITT_LIMIT_X5CHAIN_CERTS];
        for (size_t i = 0; i < n; i++) {
            char *b64 = str(&j, scitt_json_at(&j, (size_t)chain, i));
            der[i] = malloc(strlen(b64));
            size_t dl;
            assert_int_equal(scitt_base64url_decode(scitt_span_str(b64), der[i], strlen(b64), &dl),
                             SCITT_OK);
            spans[i] = scitt_span_make(der[i], dl);
            scitt_free(b64);
        }

        scitt_x509_time none = scitt_x509_time_none();
        scitt_didx509_result res;
        const char *why = NULL;
        scitt_err e = scitt_didx509_resolve(scitt_span_str(did), spans, n, &none, &res, &why);

        long output = scitt_json_get(&j, (size_t)cs, "output");
        long doc = scitt_json_get(&j, (size_t)output, "document");
        if (doc >= 0) {
            if (e != SCITT_OK) {
                fail_msg("%s: want success, got %s (%s)", id, scitt_err_name(e), why);
            }
            long vm =
                scitt_json_at(&j, (size_t)scitt_json_get(&j, (size_t)doc, "verificationMethod"), 0);
            check_jwk(&j, scitt_json_get(&j, (size_t)vm, "publicKeyJwk"), res.leaf_spki);
            /* The document id is the DID without its fragment. */
            char *doc_id = str(&j, scitt_json_get(&j, (size_t)doc, "id"));
            assert_true(scitt_span_eq_str(res.id, doc_id));
            scitt_free(doc_id);
            assert_int_equal(res.assertion,
                             scitt_json_get(&j, (size_t)doc, "assertionMethod") >= 0);
            assert_int_equal(res.assertion, scitt_json_get(&j, (size_t)doc, "authentication") >= 0);
            assert_int_equal(res.key_agreement,
                             scitt_json_get(&j, (size_t)doc, "keyAgreement") >= 0);
            assert_true(res.ca_index >= 1 && res.ca_index < n);
            ok_cases++;
        } else {
            scitt_err want = SCITT_OK;
            for (size_t k = 0; k < sizeof(errors) / sizeof(errors[0]); k++) {
                if (strcmp(errors[k].id, id) == 0) {
                    want = errors[k].err;
                }
            }
            if (want == SCITT_OK) {
                fail_msg("%s: error vector missing from the expectation table", id);
            }
            if (e != want) {
                fail_msg("%s: want %s, got %s (%s)", id, scitt_err_name(want), scitt_err_name(e),
                         why ? why : "");
            }
            assert_non_null(why);
            err_cases++;
        }
        for (size_t i = 0; i < n; i++) {
            free(der[i]);
        }
        scitt_free(id);
        scitt_free(did);
    }
    assert_int_equal(ok_cases + err_cases, 58);
    assert_int_equal(err_cases, sizeof(errors) / sizeof(errors[0]));
    scitt_json_clear(&j);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_vectors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
