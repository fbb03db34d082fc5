/*
 * Keys: PEM/DER/COSE_Key/JWK round trips for every key type, the RFC 9679 thumbprint against the
 * RFC's example, keys from certificates, key sets (COSE_Key_Set and JWKS, lookup by kid),
 * malformed and unsupported key inputs, and concurrent use of one key from several threads.
 */
#include "cose_testutil.h"

#include <pthread.h>

static const int64_t key_algs[] = {SCITT_COSE_ALG_ES256, SCITT_COSE_ALG_ES384,
                                   SCITT_COSE_ALG_ES512, SCITT_COSE_ALG_EDDSA,
                                   SCITT_COSE_ALG_ED448, SCITT_COSE_ALG_PS256};

static void same_public(const scitt_cose_key *a, const scitt_cose_key *b)
{
    uint8_t ta[32], tb[32];
    scitt_cose_key_thumbprint(a, ta);
    scitt_cose_key_thumbprint(b, tb);
    assert_memory_equal(ta, tb, 32);
    assert_int_equal(scitt_cose_key_kty(a), scitt_cose_key_kty(b));
    assert_int_equal(scitt_cose_key_crv(a), scitt_cose_key_crv(b));
}

/* A private key read back from an encoding must sign what the original verifies. */
static void signs_for(const scitt_cose_key *priv, const scitt_cose_key *pub)
{
    uint8_t sig[SCITT_COSE_SIG_MAX];
    size_t n;
    scitt_span prot = scitt_span_make("\xa0", 1), none = scitt_span_make(NULL, 0);
    int64_t alg = scitt_cose_key_alg(pub);
    assert_int_equal(scitt_cose_signature_create(priv, alg, prot, none, scitt_span_str("m"), sig,
                                                 sizeof(sig), &n),
                     SCITT_OK);
    assert_int_equal(scitt_cose_signature_verify(pub, alg, prot, none, scitt_span_str("m"),
                                                 scitt_span_make(sig, n)),
                     SCITT_OK);
}

static void test_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(key_algs) / sizeof(key_algs[0]); i++) {
        scitt_cose_key *k = NULL, *back = NULL;
        assert_int_equal(scitt_cose_key_generate(key_algs[i], &k), SCITT_OK);
        for (int priv = 0; priv <= 1; priv++) {
            scitt_dynbuf b;
            /* PEM */
            scitt_dynbuf_init(&b, 0);
            assert_int_equal(scitt_cose_key_encode_pem(k, priv, &b), SCITT_OK);
            assert_int_equal(scitt_cose_key_from_pem(scitt_span_make(b.ptr, b.len), &back),
                             SCITT_OK);
            same_public(k, back);
            assert_int_equal(scitt_cose_key_has_private(back), priv);
            if (priv) {
                assert_int_equal(scitt_cose_key_set_alg(back, scitt_cose_key_alg(k)), SCITT_OK);
                signs_for(back, k);
            }
            scitt_cose_key_free(back);
            scitt_dynbuf_clear(&b);
            /* DER */
            scitt_dynbuf_init(&b, 0);
            assert_int_equal(scitt_cose_key_encode_der(k, priv, &b), SCITT_OK);
            assert_int_equal(scitt_cose_key_from_der(scitt_span_make(b.ptr, b.len), &back),
                             SCITT_OK);
            same_public(k, back);
            assert_int_equal(scitt_cose_key_has_private(back), priv);
            scitt_cose_key_free(back);
            /* DER with a byte too many is refused. */
            scitt_dynbuf_u8(&b, 0);
            assert_int_equal(scitt_cose_key_from_der(scitt_span_make(b.ptr, b.len), &back),
                             SCITT_ERR_KEY_MALFORMED);
            scitt_dynbuf_clear(&b);
            /* COSE_Key: kid and alg survive */
            scitt_dynbuf_init(&b, 0);
            scitt_cbor_writer w;
            scitt_cbor_writer_init_dynbuf(&w, &b);
            assert_int_equal(scitt_cose_key_encode_cose(k, priv, &w), SCITT_OK);
            assert_int_equal(scitt_cbor_validate(scitt_span_make(b.ptr, b.len)), SCITT_OK);
            assert_int_equal(scitt_cose_key_from_cose(scitt_span_make(b.ptr, b.len), &back),
                             SCITT_OK);
            same_public(k, back);
            assert_true(scitt_span_eq(scitt_cose_key_kid(k), scitt_cose_key_kid(back)));
            assert_int_equal(scitt_cose_key_alg(back), key_algs[i]);
            assert_int_equal(scitt_cose_key_has_private(back), priv);
            if (priv) {
                signs_for(back, k);
            }
            scitt_cose_key_free(back);
            scitt_dynbuf_clear(&b);
            /* JWK: alg survives, and the thumbprint kid comes back as an alias of its text */
            scitt_dynbuf_init(&b, 0);
            assert_int_equal(scitt_cose_key_encode_jwk(k, priv, &b), SCITT_OK);
            assert_int_equal(scitt_cose_key_from_jwk(scitt_span_make(b.ptr, b.len), &back),
                             SCITT_OK);
            same_public(k, back);
            assert_int_equal(scitt_cose_key_alg(back), key_algs[i]);
            assert_int_equal(scitt_cose_key_has_private(back), priv);
            if (priv) {
                signs_for(back, k);
            }
            scitt_cose_keyset *s = tc_keyset(&back, 1);
            assert_ptr_equal(scitt_cose_keyset_find(s, scitt_cose_key_kid(k)), back);
            scitt_cose_keyset_free(s);
            /* and it writes the same JWK again */
            scitt_dynbuf again;
            scitt_dynbuf_init(&again, 0);
            assert_int_equal(scitt_cose_key_encode_jwk(back, priv, &again), SCITT_OK);
            assert_int_equal(again.len, b.len);
            assert_memory_equal(again.ptr, b.ptr, b.len);
            scitt_dynbuf_clear(&again);
            scitt_cose_key_free(back);
            scitt_dynbuf_clear(&b);
        }
        /* The public key has no private half to write. */
        scitt_cose_key *pub = NULL;
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        assert_int_equal(scitt_cose_key_encode_der(k, false, &b), SCITT_OK);
        assert_int_equal(scitt_cose_key_from_der(scitt_span_make(b.ptr, b.len), &pub), SCITT_OK);
        scitt_dynbuf_clear(&b);
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &b);
        assert_int_equal(scitt_cose_key_encode_cose(pub, true, &w), SCITT_ERR_STATE);
        assert_int_equal(scitt_cose_key_encode_pem(pub, true, &b), SCITT_ERR_STATE);
        scitt_dynbuf_clear(&b);
        scitt_cose_key_free(pub);
        scitt_cose_key_free(k);
    }
}

static void test_thumbprint_rfc9679(void **state)
{
    (void)state;
    /* RFC 9679 §6: the EC2 example key and its SHA-256 thumbprint. */
    size_t n;
    uint8_t *key = tu_hex("a401022001215820"
                          "65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d"
                          "225820"
                          "1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c",
                          &n);
    scitt_cose_key *k = NULL;
    assert_int_equal(scitt_cose_key_from_cose(scitt_span_make(key, n), &k), SCITT_OK);
    uint8_t t[32];
    scitt_cose_key_thumbprint(k, t);
    size_t wl;
    uint8_t *want = tu_hex("496bd8afadf307e5b08c64b0421bf9dc01528a344a43bda88fadd1669da253ec", &wl);
    assert_memory_equal(t, want, 32);
    /* Without a kid in the COSE_Key, the kid is the thumbprint. */
    assert_memory_equal(scitt_cose_key_kid(k).ptr, want, 32);
    scitt_cose_key_free(k);
    free(want);
    free(key);
}

static void test_certificate_keys(void **state)
{
    (void)state;
    size_t dl, cl, kl;
    uint8_t *der = tu_read_file(tu_shared("vectors/cose-wg-examples/x509-examples/alice.der"), &dl);
    uint8_t *crt = tu_read_file(tu_shared("vectors/cose-wg-examples/x509-examples/alice.crt"), &cl);
    uint8_t *pem = tu_read_file(tu_shared("vectors/cose-wg-examples/x509-examples/alice.key"), &kl);
    scitt_cose_key *a = NULL, *b = NULL, *priv = NULL;
    assert_int_equal(scitt_cose_key_from_cert_der(scitt_span_make(der, dl), &a), SCITT_OK);
    assert_int_equal(scitt_cose_key_from_pem(scitt_span_make(crt, cl), &b), SCITT_OK);
    same_public(a, b);
    assert_false(scitt_cose_key_has_private(a));
    /* alice.key has GnuTLS text before its PEM block; the block is found and is alice's key. */
    assert_int_equal(scitt_cose_key_from_pem(scitt_span_make(pem, kl), &priv), SCITT_OK);
    same_public(a, priv);
    signs_for(priv, a);
    /* A certificate cut short, or with a byte too many. */
    scitt_cose_key *bad = NULL;
    assert_int_equal(scitt_cose_key_from_cert_der(scitt_span_make(der, dl - 1), &bad),
                     SCITT_ERR_CERT_MALFORMED);
    uint8_t *longer = malloc(dl + 1);
    memcpy(longer, der, dl);
    longer[dl] = 0;
    assert_int_equal(scitt_cose_key_from_cert_der(scitt_span_make(longer, dl + 1), &bad),
                     SCITT_ERR_CERT_MALFORMED);
    assert_null(bad);
    free(longer);
    scitt_cose_key_free(a);
    scitt_cose_key_free(b);
    scitt_cose_key_free(priv);
    free(der);
    free(crt);
    free(pem);
}

typedef struct {
    const char *hex;
    scitt_err want;
    const char *why;
} key_row;

#define X32                                                                                        \
    "5820"                                                                                         \
    "65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d"
#define Y32                                                                                        \
    "5820"                                                                                         \
    "1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c"

static const key_row cose_rows[] = {
    {"a4010220012158206"
     "5eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d22" Y32,
     SCITT_OK, "the RFC 9679 key"},
    {"a3200121" X32 "22" Y32, SCITT_ERR_KEY_MALFORMED, "no kty"},
    {"a2010420"
     "41"
     "00",
     SCITT_ERR_UNSUPPORTED, "symmetric key"},
    {"a1215f4100ff", SCITT_ERR_INDEFINITE, "indefinite x"},
    {"a40102200121"
     "5819"
     "65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de1"
     "22" Y32,
     SCITT_ERR_KEY_MALFORMED, "x too short for P-256"},
    {"a40102200121" X32 "22f5", SCITT_ERR_UNSUPPORTED, "compressed point (y as a bool)"},
    {"a40102200121" X32 "22"
     "5820"
     "1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19d",
     SCITT_ERR_KEY_MALFORMED, "point not on the curve"},
    {"a40102200421" X32 "22" Y32, SCITT_ERR_UNSUPPORTED, "EC2 with crv X25519"},
    {"a40102200121" X32 "2201", SCITT_ERR_KEY_MALFORMED, "y as an integer"},
    {"a3010120062158200000", SCITT_ERR_TRUNCATED, "OKP x cut short"},
    {"a40101200621" X32 "22" Y32, SCITT_ERR_KEY_MALFORMED, "OKP with a y"},
    {"a50102200121" X32 "22" Y32 "0339 03e6", SCITT_ERR_ALG, "alg -999"},
    {"a50102200121" X32 "22" Y32 "0327", SCITT_ERR_ALG, "alg EdDSA on a P-256 key"},
    {"a50102200121" X32 "22" Y32 "0102", SCITT_ERR_DUPLICATE_KEY, "kty twice"},
    {"a40102200121" X32 "22" Y32 "00", SCITT_ERR_TRAILING, "a byte after the key"},
    {"a40102200121" X32 "22" Y32 "", SCITT_OK, "same key again"},
    {"a501022001215820"
     "65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d"
     "22" Y32 "23"
     "5820"
     "0000000000000000000000000000000000000000000000000000000000000001",
     SCITT_ERR_KEY_MALFORMED, "private d that does not match x, y"},
    {"80", SCITT_ERR_KEY_MALFORMED, "an array, not a map"},
};

static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s != ' ') {
            *o++ = *s;
        }
    }
    *o = 0;
    return out;
}

static void test_malformed_cose_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cose_rows) / sizeof(cose_rows[0]); i++) {
        char *hex = squeeze(cose_rows[i].hex);
        size_t n;
        uint8_t *in = tu_hex(hex, &n);
        scitt_cose_key *k = NULL;
        scitt_err e = scitt_cose_key_from_cose(scitt_span_make(in, n), &k);
        if (e != cose_rows[i].want) {
            fail_msg("row %zu (%s): got %s, want %s", i, cose_rows[i].why, scitt_err_name(e),
                     scitt_err_name(cose_rows[i].want));
        }
        assert_true((k != NULL) == (e == SCITT_OK));
        scitt_cose_key_free(k);
        free(in);
        free(hex);
    }
}

static const struct {
    const char *text;
    scitt_err want;
    const char *why;
} text_rows[] = {
    {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0\","
     "\"y\":\"HlLtdXARY_f55A3fnzQbPcm6hgr34Mp8p-nuzQCE0Zw\"}",
     SCITT_OK, "JWK of the RFC 9679 key"},
    {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0=\","
     "\"y\":\"HlLtdXARY_f55A3fnzQbPcm6hgr34Mp8p-nuzQCE0Zw\"}",
     SCITT_ERR_KEY_MALFORMED, "padded base64url"},
    {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"Ze2loSV3wrroKUN/4zhwGhCqo3Xhu1td4QjeQ5wIVR0\","
     "\"y\":\"HlLtdXARY_f55A3fnzQbPcm6hgr34Mp8p-nuzQCE0Zw\"}",
     SCITT_ERR_KEY_MALFORMED, "standard base64 alphabet"},
    {"{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"}", SCITT_ERR_UNSUPPORTED,
     "P-192"},
    {"{\"kty\":\"oct\",\"k\":\"AAAA\"}", SCITT_ERR_UNSUPPORTED, "symmetric JWK"},
    {"{\"crv\":\"Ed25519\",\"x\":\"AA\"}", SCITT_ERR_KEY_MALFORMED, "no kty"},
    {"{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", SCITT_ERR_KEY_MALFORMED, "no x"},
    {"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"JqVIhZxR82pL8NZjvjIFIXdseFnVWINPuEyYKXSS83I\","
     "\"alg\":\"HS256\"}",
     SCITT_ERR_ALG, "alg HS256"},
    {"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"JqVIhZxR82pL8NZjvjIFIXdseFnVWINPuEyYKXSS83I\","
     "\"kty\":\"EC\"}",
     SCITT_ERR_DUPLICATE_KEY, "duplicate member"},
    {"{\"kty\":\"EC\",", SCITT_ERR_JSON, "cut JSON"},
};

static const struct {
    const char *pem;
    scitt_err want;
    const char *why;
} pem_rows[] = {
    {"-----BEGIN PUBLIC KEY-----\n"
     "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC7Th53xCZmK3iG5jF3P/ga5csd\n"
     "ML8vu79eMgdGpFkehs3sb21jn/64Z59f27Q2bqC24p6fXaoWWNIjkpYgi4+M5ZNS\n"
     "Rr6gzuyp6gDoG3di19tLHZDm7SsmjlMm3WBV0Rwo8Jaglfnp2NLMuVyCM6GT4qDE\n"
     "kMeFkITcbyby7tXHdwIDAQAB\n-----END PUBLIC KEY-----\n",
     SCITT_ERR_UNSUPPORTED, "RSA-1024"},
    {"-----BEGIN PUBLIC KEY-----\n"
     "MEkwEwYHKoZIzj0CAQYIKoZIzj0DAQEDMgAElcJhSCjgJfzwhn2k+3jeJOpGV96+\n"
     "EGXMk5PPYxSHotZlX4mc4u1/SHmrSHY3QvX0\n-----END PUBLIC KEY-----\n",
     SCITT_ERR_UNSUPPORTED, "P-192"},
    {"-----BEGIN PUBLIC KEY-----\n"
     "MCowBQYDK2VuAyEAjG/Ju7TgovMkUr1UAywzJB7KmB/eQGDauIb1PcV05Wo=\n-----END PUBLIC KEY-----\n",
     SCITT_ERR_UNSUPPORTED, "X25519 (not a signature key)"},
    {"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
     "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhF123855SwJQICCAAw\n"
     "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEKIOEX3nlN7bZ16pjYQt2XIEQL0Y\n"
     "zDQoEVnSdY197Ts8/p+OauX7IxvUaxi2KV2eFbJO71Ox2q5zoA34IPBGYkHqMJjJ\n"
     "zK2agmCBwmaiR5JKCPU=\n-----END ENCRYPTED PRIVATE KEY-----\n",
     SCITT_ERR_UNSUPPORTED, "encrypted private key (never prompts)"},
    {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", SCITT_ERR_KEY_MALFORMED,
     "garbage base64"},
    {"no pem here", SCITT_ERR_KEY_MALFORMED, "no PEM block"},
};

static void test_malformed_text_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(text_rows) / sizeof(text_rows[0]); i++) {
        scitt_cose_key *k = NULL;
        scitt_err e = scitt_cose_key_from_jwk(scitt_span_str(text_rows[i].text), &k);
        if (e != text_rows[i].want) {
            fail_msg("JWK row %zu (%s): got %s", i, text_rows[i].why, scitt_err_name(e));
        }
        scitt_cose_key_free(k);
    }
    for (size_t i = 0; i < sizeof(pem_rows) / sizeof(pem_rows[0]); i++) {
        scitt_cose_key *k = NULL;
        scitt_err e = scitt_cose_key_from_pem(scitt_span_str(pem_rows[i].pem), &k);
        if (e != pem_rows[i].want) {
            fail_msg("PEM row %zu (%s): got %s", i, pem_rows[i].why, scitt_err_name(e));
        }
        scitt_cose_key_free(k);
    }
}

static void test_key_sets(void **state)
{
    (void)state;
    /* The interop harness's JWKS: an ES256 key and an Ed25519 key with text kids. */
    size_t n;
    uint8_t *text = tu_read_file(tu_shared("interop/fixtures/js/services.jwks.json"), &n);
    scitt_cose_keyset *s = NULL;
    assert_int_equal(scitt_cose_keyset_from_jwks(scitt_span_make(text, n), &s), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_count(s), 2);
    const scitt_cose_key *ed = scitt_cose_keyset_find(s, scitt_span_str("ed25519-service-1"));
    assert_non_null(ed);
    assert_int_equal(scitt_cose_key_crv(ed), SCITT_COSE_CRV_ED25519);
    const scitt_cose_key *es =
        scitt_cose_keyset_find(s, scitt_span_str("DVejdgatSKTDdr8o78ZJumHUQy6K5rbY1MDR-JRj81E"));
    assert_non_null(es);
    /* The same key from its PEM has the same thumbprint. */
    size_t pl;
    uint8_t *pem = tu_read_file(tu_shared("interop/fixtures/js/service.pem"), &pl);
    scitt_cose_key *fromp = NULL;
    assert_int_equal(scitt_cose_key_from_pem(scitt_span_make(pem, pl), &fromp), SCITT_OK);
    same_public(es, fromp);
    assert_null(scitt_cose_keyset_find(s, scitt_span_str("nope")));

    /* COSE_Key_Set round trip keeps both kids. */
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    assert_int_equal(scitt_cose_keyset_encode_cose(s, &w), SCITT_OK);
    scitt_cose_keyset *s2 = NULL;
    assert_int_equal(scitt_cose_keyset_from_cose(scitt_span_make(b.ptr, b.len), &s2), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_count(s2), 2);
    assert_non_null(scitt_cose_keyset_find(s2, scitt_span_str("ed25519-service-1")));
    scitt_dynbuf_clear(&b);
    /* JWKS round trip. */
    assert_int_equal(scitt_cose_keyset_encode_jwks(s, &b), SCITT_OK);
    scitt_cose_keyset *s3 = NULL;
    assert_int_equal(scitt_cose_keyset_from_jwks(scitt_span_make(b.ptr, b.len), &s3), SCITT_OK);
    assert_non_null(
        scitt_cose_keyset_find(s3, scitt_span_str("DVejdgatSKTDdr8o78ZJumHUQy6K5rbY1MDR-JRj81E")));
    scitt_dynbuf_clear(&b);
    /* Two keys with one kid are refused. */
    assert_int_equal(scitt_cose_keyset_add(s2, fromp), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_add(s2, fromp), SCITT_ERR_DUPLICATE_KEY);
    /* Not a key set. */
    scitt_cose_keyset *bad = NULL;
    assert_int_equal(scitt_cose_keyset_from_jwks(scitt_span_str("{\"keys\":{}}"), &bad),
                     SCITT_ERR_KEY_MALFORMED);
    assert_int_equal(scitt_cose_keyset_from_cose(scitt_span_make("\xa0", 1), &bad),
                     SCITT_ERR_KEY_MALFORMED);
    assert_null(bad);
    scitt_cose_keyset_free(s);
    scitt_cose_keyset_free(s2);
    scitt_cose_keyset_free(s3);
    scitt_cose_key_free(fromp);
    free(pem);
    free(text);
}

/* One key, verified from several threads at once (the context pool is the shared state). */
typedef struct {
    const scitt_cose_key *key;
    scitt_span msg;
    int failures;
} worker;

static void *verify_many(void *arg)
{
    worker *w = arg;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    for (int i = 0; i < 300; i++) {
        if (scitt_cose_sign1_decode(w->msg, 0, m) != SCITT_OK ||
            scitt_cose_sign1_verify(m, w->key, scitt_span_make(NULL, 0), NULL) != SCITT_OK) {
            w->failures++;
        }
    }
    free(m);
    return NULL;
}

static void test_concurrent_verification(void **state)
{
    (void)state;
    static const int64_t algs[] = {SCITT_COSE_ALG_ES256, SCITT_COSE_ALG_EDDSA,
                                   SCITT_COSE_ALG_ES384};
    for (size_t a = 0; a < 3; a++) {
        scitt_cose_key *k = NULL;
        assert_int_equal(scitt_cose_key_generate(algs[a], &k), SCITT_OK);
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_span msg = tc_statement(k, "concurrent", "https://i.example", "s", false, NULL, &b);
        pthread_t t[4];
        worker w[4];
        for (int i = 0; i < 4; i++) {
            w[i] = (worker){k, msg, 0};
            assert_int_equal(pthread_create(&t[i], NULL, verify_many, &w[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            assert_int_equal(w[i].failures, 0);
        }
        scitt_dynbuf_clear(&b);
        scitt_cose_key_free(k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_thumbprint_rfc9679),
        cmocka_unit_test(test_certificate_keys),
        cmocka_unit_test(test_malformed_cose_keys),
        cmocka_unit_test(test_malformed_text_keys),
        cmocka_unit_test(test_key_sets),
        cmocka_unit_test(test_concurrent_verification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
