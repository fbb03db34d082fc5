/*
 * Known-answer vectors: every COSE_Sign1 example of cose-wg/Examples that the task names (the
 * sign1-tests pass and fail cases, ecdsa-sig-01..04, eddsa-sig-01/02, CWT A.3, plus the Sign1
 * body of countersign1/signed1-01) behaves as the vector says: pass cases verify and reproduce
 * the vector's ToBeSign bytes exactly, fail cases fail for the reason the vector describes. Also
 * the transmute hash-envelope sample with pre-RFC labels, under the explicit legacy switch.
 */
#include "testutil.h"

#include "cose_internal.h"
#include "scitt/cose.h"
#include "scitt/json.h"

typedef struct {
    const char *file;
    scitt_err want; /* SCITT_OK for pass vectors */
} vector;

static const vector vectors[] = {
    {"sign1-tests/sign-pass-01.json", SCITT_OK},            /* protected h'a0' signed as h'' */
    {"sign1-tests/sign-pass-02.json", SCITT_OK},            /* external AAD */
    {"sign1-tests/sign-pass-03.json", SCITT_OK},            /* untagged */
    {"sign1-tests/sign-fail-01.json", SCITT_ERR_BAD_TAG},   /* tag 998 instead of 18 */
    {"sign1-tests/sign-fail-02.json", SCITT_ERR_SIGNATURE}, /* payload changed */
    {"sign1-tests/sign-fail-03.json", SCITT_ERR_ALG},       /* alg -999 */
    {"sign1-tests/sign-fail-04.json", SCITT_ERR_ALG},       /* alg "unknown" (text) */
    {"sign1-tests/sign-fail-06.json", SCITT_ERR_SIGNATURE}, /* protected attribute added */
    {"sign1-tests/sign-fail-07.json", SCITT_ERR_SIGNATURE}, /* protected attribute removed */
    {"ecdsa-examples/ecdsa-sig-01.json", SCITT_OK},         /* ES256 P-256 */
    {"ecdsa-examples/ecdsa-sig-02.json", SCITT_OK},         /* ES384 P-384 */
    {"ecdsa-examples/ecdsa-sig-03.json", SCITT_OK},         /* ES512 P-521 */
    {"ecdsa-examples/ecdsa-sig-04.json", SCITT_OK},         /* ES512 on a P-256 key */
    {"eddsa-examples/eddsa-sig-01.json", SCITT_OK},         /* Ed25519 */
    {"eddsa-examples/eddsa-sig-02.json", SCITT_OK},         /* Ed448: supported */
    {"CWT/A_3.json", SCITT_OK},                             /* RFC 8392 A.3 */
    {"countersign1/signed1-01.json", SCITT_OK}, /* body verifies; countersignature ignored */
};

static long member(const scitt_json *j, long obj, const char *name)
{
    return obj < 0 ? -1 : scitt_json_get(j, (size_t)obj, name);
}

static bool get_str(const scitt_json *j, long tok, char *out, size_t cap)
{
    size_t len;
    return tok >= 0 && scitt_json_string(j, (size_t)tok, out, cap, &len) == SCITT_OK;
}

/* Adds `"name": "<base64url>"` from either name (base64url) or name_hex in the vector's key. */
static void key_member(const scitt_json *j, long key, const char *name, scitt_dynbuf *jwk)
{
    char text[1024], hexname[16];
    if (get_str(j, member(j, key, name), text, sizeof(text))) {
        scitt_dynbuf_printf(jwk, ",\"%s\":\"%s\"", name, text);
        return;
    }
    snprintf(hexname, sizeof(hexname), "%s_hex", name);
    if (get_str(j, member(j, key, hexname), text, sizeof(text))) {
        uint8_t raw[512];
        size_t n;
        char b64[1024];
        assert_int_equal(scitt_hex_decode(scitt_span_str(text), raw, sizeof(raw), &n), SCITT_OK);
        assert_int_equal(scitt_base64url_encode(scitt_span_make(raw, n), b64, sizeof(b64)),
                         SCITT_OK);
        scitt_dynbuf_printf(jwk, ",\"%s\":\"%s\"", name, b64);
    }
}

/* The public key of a vector as one of our keys (through our own JWK reader). */
static scitt_cose_key *vector_key(const scitt_json *j, long key)
{
    char kty[16], crv[16];
    assert_true(get_str(j, member(j, key, "kty"), kty, sizeof(kty)));
    assert_true(get_str(j, member(j, key, "crv"), crv, sizeof(crv)));
    scitt_dynbuf jwk;
    scitt_dynbuf_init(&jwk, 0);
    scitt_dynbuf_printf(&jwk, "{\"kty\":\"%s\",\"crv\":\"%s\"", kty, crv);
    key_member(j, key, "x", &jwk);
    key_member(j, key, "y", &jwk);
    scitt_dynbuf_u8(&jwk, '}');
    scitt_cose_key *k = NULL;
    assert_int_equal(scitt_cose_key_from_jwk(scitt_span_make(jwk.ptr, jwk.len), &k), SCITT_OK);
    scitt_dynbuf_clear(&jwk);
    return k;
}

static void run_vector(const vector *v)
{
    char path[256];
    snprintf(path, sizeof(path), "vectors/cose-wg-examples/%s", v->file);
    size_t len;
    uint8_t *text = tu_read_file(tu_shared(path), &len);
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_make(text, len), &j), SCITT_OK);
    long input = member(&j, 0, "input");
    long sign0 = member(&j, input, "sign0");
    scitt_cose_key *key = vector_key(&j, member(&j, sign0, "key"));

    char hex[4096];
    assert_true(get_str(&j, member(&j, member(&j, 0, "output"), "cbor"), hex, sizeof(hex)));
    size_t msg_len;
    uint8_t *msg = tu_hex(hex, &msg_len);
    uint8_t aad[64];
    size_t aad_len = 0;
    if (get_str(&j, member(&j, sign0, "external"), hex, sizeof(hex))) {
        assert_int_equal(scitt_hex_decode(scitt_span_str(hex), aad, sizeof(aad), &aad_len),
                         SCITT_OK);
    }

    /* Generic COSE mode: untagged messages and an unprotected alg are allowed (RFC 9052). */
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    unsigned flags = SCITT_SIGN1_UNTAGGED | SCITT_SIGN1_UNPROTECTED_ALG;
    scitt_err e = scitt_cose_sign1_decode(scitt_span_make(msg, msg_len), flags, m);
    if (e == SCITT_OK) {
        e = scitt_cose_sign1_verify(m, key, scitt_span_make(aad, aad_len), NULL);
    }
    if (e != v->want) {
        fail_msg("%s: got %s, want %s", v->file, scitt_err_name(e), scitt_err_name(v->want));
    }
    if (v->want == SCITT_OK) {
        /* Our Sig_structure is byte for byte the vector's ToBeSign. */
        assert_true(get_str(&j, member(&j, member(&j, 0, "intermediates"), "ToBeSign_hex"), hex,
                            sizeof(hex)));
        size_t tbs_len;
        uint8_t *tbs = tu_hex(hex, &tbs_len);
        scitt__tbs t;
        scitt__tbs_init(&t, m->protected_map, scitt_span_make(aad, aad_len), m->payload);
        scitt_dynbuf mine;
        scitt_dynbuf_init(&mine, 0);
        for (size_t i = 0; i < 6; i++) {
            scitt_dynbuf_put(&mine, t.parts[i].ptr, t.parts[i].len);
        }
        assert_int_equal(mine.len, tbs_len);
        assert_memory_equal(mine.ptr, tbs, tbs_len);
        scitt_dynbuf_clear(&mine);
        free(tbs);
        /* A wrong AAD must not verify. */
        assert_int_equal(scitt_cose_sign1_verify(m, key, scitt_span_make("x", 1), NULL),
                         SCITT_ERR_SIGNATURE);
    }
    free(m);
    free(msg);
    scitt_cose_key_free(key);
    scitt_json_clear(&j);
    free(text);
}

static void test_cose_wg_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        run_vector(&vectors[i]);
    }
}

/* The SCITT defaults refuse what generic COSE allows: no tag, or alg outside the protected map. */
static void test_scitt_mode_is_stricter(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        scitt_err want;
    } rows[] = {
        {"sign1-tests/sign-pass-03.json", SCITT_ERR_BAD_TAG}, /* untagged */
        {"sign1-tests/sign-pass-01.json", SCITT_ERR_HEADER},  /* alg unprotected */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "vectors/cose-wg-examples/%s", rows[i].file);
        size_t len;
        uint8_t *text = tu_read_file(tu_shared(path), &len);
        scitt_json j;
        assert_int_equal(scitt_json_parse(scitt_span_make(text, len), &j), SCITT_OK);
        char hex[1024];
        assert_true(get_str(&j, member(&j, member(&j, 0, "output"), "cbor"), hex, sizeof(hex)));
        size_t n;
        uint8_t *msg = tu_hex(hex, &n);
        scitt_cose_sign1 *m = malloc(sizeof(*m));
        assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(msg, n), 0, m), rows[i].want);
        free(m);
        free(msg);
        scitt_json_clear(&j);
        free(text);
    }
}

/*
 * transmute's early hash envelope: labels -6800/-6801/-6802 and an unprotected header encoded
 * as `undefined`. Strict decoding refuses it; the legacy switch decodes it, maps the labels to
 * RFC 9995's 258/260/259, and the signature verifies with the published COSE_Key (alg ESP256,
 * which names the same computation as the message's ES256 on P-256).
 */
static void test_transmute_legacy_hash_envelope(void **state)
{
    (void)state;
    size_t len, key_len, pre_len;
    uint8_t *msg = tu_read_file(
        tu_shared("vectors/transmute-hash-envelope-legacy-labels/hash-envelope.cbor"), &len);
    uint8_t *key_cbor = tu_read_file(
        tu_shared("vectors/transmute-hash-envelope-legacy-labels/cose-key.cbor"), &key_len);
    uint8_t *preimage = tu_read_file(
        tu_shared("vectors/transmute-hash-envelope-legacy-labels/preimage.txt"), &pre_len);
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(msg, len), 0, m), SCITT_ERR_BAD_TYPE);
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(msg, len), SCITT_SIGN1_LEGACY, m),
                     SCITT_OK);
    assert_int_equal(m->hdr.alg, SCITT_COSE_ALG_ES256);
    assert_true(m->hdr.prot & SCITT_COSE_H_PAYLOAD_HASH_ALG);
    assert_int_equal(m->hdr.payload_hash_alg, SCITT_COSE_ALG_SHA256);
    assert_true(m->hdr.preimage_content_type.is_text);
    assert_true(scitt_span_eq_str(m->hdr.preimage_content_type.text, "application/spdx+json"));
    assert_true(scitt_span_eq_str(m->hdr.payload_location, "https://s.example/sbom/42"));
    /* The payload is the SHA-256 of the preimage. */
    uint8_t digest[32];
    scitt_sha256(preimage, pre_len, digest);
    assert_int_equal(m->payload.len, 32);
    assert_memory_equal(m->payload.ptr, digest, 32);

    scitt_cose_key *k = NULL;
    assert_int_equal(scitt_cose_key_from_cose(scitt_span_make(key_cbor, key_len), &k), SCITT_OK);
    assert_true(scitt_cose_key_has_private(k));
    assert_int_equal(scitt_cose_key_alg(k), SCITT_COSE_ALG_ESP256);
    /* Its kid is its RFC 9679 thumbprint, which we recompute. */
    uint8_t thumb[32];
    scitt_cose_key_thumbprint(k, thumb);
    scitt_span kid = scitt_cose_key_kid(k);
    assert_int_equal(kid.len, 32);
    assert_memory_equal(kid.ptr, thumb, 32);
    assert_int_equal(scitt_cose_sign1_verify(m, k, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    scitt_cose_key_free(k);
    free(m);
    free(msg);
    free(key_cbor);
    free(preimage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cose_wg_vectors),
        cmocka_unit_test(test_scitt_mode_is_stricter),
        cmocka_unit_test(test_transmute_legacy_hash_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
