/*
 * COSE_Sign1 sign/verify round trips for every supported algorithm (attached, detached, with
 * external AAD), a mutation matrix (every byte of the protected header, the payload and the
 * signature flipped), algorithm/key binding, and a table of structurally malformed messages.
 */
#include "cose_testutil.h"

typedef struct {
    int64_t alg;
    int64_t keygen; /* algorithm the key is generated for */
} alg_case;

static const alg_case algs[] = {
    {SCITT_COSE_ALG_ES256, SCITT_COSE_ALG_ES256},
    {SCITT_COSE_ALG_ES384, SCITT_COSE_ALG_ES384},
    {SCITT_COSE_ALG_ES512, SCITT_COSE_ALG_ES512},
    {SCITT_COSE_ALG_ESP256, SCITT_COSE_ALG_ESP256},
    {SCITT_COSE_ALG_ESP384, SCITT_COSE_ALG_ESP384},
    {SCITT_COSE_ALG_ESP512, SCITT_COSE_ALG_ESP512},
    {SCITT_COSE_ALG_EDDSA, SCITT_COSE_ALG_EDDSA},
    {SCITT_COSE_ALG_ED25519, SCITT_COSE_ALG_ED25519},
    {SCITT_COSE_ALG_ED448, SCITT_COSE_ALG_ED448},
    {SCITT_COSE_ALG_PS256, SCITT_COSE_ALG_PS256},
    {SCITT_COSE_ALG_PS384, SCITT_COSE_ALG_PS256},
    {SCITT_COSE_ALG_PS512, SCITT_COSE_ALG_PS256},
};

/* One RSA key serves the three PS algorithms (RSA key generation is slow). */
static scitt_cose_key *rsa;

static scitt_cose_key *key_for(const alg_case *c)
{
    scitt_cose_key *k = NULL;
    if (c->keygen == SCITT_COSE_ALG_PS256) {
        if (!rsa) {
            assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_PS256, &rsa), SCITT_OK);
        }
        k = scitt_cose_key_ref(rsa);
        assert_int_equal(scitt_cose_key_set_alg(k, c->alg), SCITT_OK);
        return k;
    }
    assert_int_equal(scitt_cose_key_generate(c->keygen, &k), SCITT_OK);
    assert_int_equal(scitt_cose_key_alg(k), c->keygen);
    return k;
}

/* The public half as a separate key, through PEM. */
static scitt_cose_key *public_copy(const scitt_cose_key *k)
{
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    assert_int_equal(scitt_cose_key_encode_pem(k, false, &pem), SCITT_OK);
    scitt_cose_key *pub = NULL;
    assert_int_equal(scitt_cose_key_from_pem(scitt_span_make(pem.ptr, pem.len), &pub), SCITT_OK);
    scitt_dynbuf_clear(&pem);
    assert_false(scitt_cose_key_has_private(pub));
    return pub;
}

static scitt_err decode_verify(scitt_span msg, const scitt_cose_key *k, scitt_span aad,
                               const scitt_span *detached)
{
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    scitt_err e = scitt_cose_sign1_decode(msg, 0, m);
    if (e == SCITT_OK) {
        e = scitt_cose_sign1_verify(m, k, aad, detached);
    }
    free(m);
    return e;
}

/* Flips each byte of msg[from, from + len) in turn; every flip must be refused. */
static void flip_all(scitt_span msg, size_t from, size_t len, const scitt_cose_key *k,
                     scitt_span aad, const char *what)
{
    uint8_t *mut = malloc(msg.len);
    for (size_t i = from; i < from + len; i++) {
        memcpy(mut, msg.ptr, msg.len);
        mut[i] ^= 0x5a;
        if (decode_verify(scitt_span_make(mut, msg.len), k, aad, NULL) == SCITT_OK) {
            fail_msg("%s: flipped byte %zu accepted", what, i - from);
        }
    }
    free(mut);
}

static void test_round_trips_and_mutations(void **state)
{
    (void)state;
    scitt_span aad = scitt_span_str("external");
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        const alg_case *c = &algs[i];
        scitt_cose_key *k = key_for(c);
        scitt_cose_key *pub = public_copy(k);
        assert_int_equal(scitt_cose_key_set_alg(pub, c->alg), SCITT_OK);
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_span msg = tc_statement(k, "{\"hello\": \"world\"}", "https://issuer.example",
                                      "pkg:a", false, NULL, &b);
        assert_int_equal(decode_verify(msg, pub, scitt_span_make(NULL, 0), NULL), SCITT_OK);
        assert_int_equal(decode_verify(msg, k, scitt_span_make(NULL, 0), NULL), SCITT_OK);

        scitt_cose_sign1 *m = malloc(sizeof(*m));
        assert_int_equal(scitt_cose_sign1_decode(msg, 0, m), SCITT_OK);
        assert_int_equal(m->hdr.alg, c->alg);
        assert_int_equal(scitt_cose_check_statement(m), SCITT_OK);
        /* Mutation matrix: protected bstr contents, payload contents, signature contents. */
        size_t prot_at = (size_t)(m->protected_map.ptr - msg.ptr);
        size_t pay_at = (size_t)(m->payload.ptr - msg.ptr);
        size_t sig_at = (size_t)(m->signature.ptr - msg.ptr);
        size_t sig_len = m->signature.len;
        flip_all(msg, prot_at, m->protected_map.len, pub, scitt_span_make(NULL, 0), "protected");
        flip_all(msg, pay_at, m->payload.len, pub, scitt_span_make(NULL, 0), "payload");
        flip_all(msg, sig_at, sig_len, pub, scitt_span_make(NULL, 0), "signature");
        free(m);

        /* Detached payload with external AAD. */
        uint8_t prot[64];
        scitt_cbor_writer w;
        scitt_cbor_writer_init(&w, prot, sizeof(prot));
        scitt_cbor_put_map(&w, 1);
        scitt_cbor_put_uint(&w, 1);
        scitt_cbor_put_int(&w, c->alg);
        scitt_dynbuf d;
        scitt_dynbuf_init(&d, 0);
        scitt_cbor_writer dw;
        scitt_cbor_writer_init_dynbuf(&dw, &d);
        scitt_span payload = scitt_span_str("detached payload");
        assert_int_equal(scitt_cose_sign1_sign(k, scitt_span_make(prot, w.len),
                                               scitt_span_make(NULL, 0), payload, aad,
                                               SCITT_SIGN1_DETACHED, &dw),
                         SCITT_OK);
        scitt_span dm = scitt_span_make(d.ptr, d.len);
        assert_int_equal(decode_verify(dm, pub, aad, &payload), SCITT_OK);
        assert_int_equal(decode_verify(dm, pub, aad, NULL), SCITT_ERR_PAYLOAD_MISSING);
        scitt_span wrong = scitt_span_str("detached payloaD");
        assert_int_equal(decode_verify(dm, pub, aad, &wrong), SCITT_ERR_SIGNATURE);
        assert_int_equal(decode_verify(dm, pub, scitt_span_make(NULL, 0), &payload),
                         SCITT_ERR_SIGNATURE);
        assert_int_equal(decode_verify(msg, pub, scitt_span_make(NULL, 0), &payload),
                         SCITT_ERR_INVALID_ARG);

        /* A key of the same type but another value. */
        scitt_cose_key *other = key_for(c);
        if (c->keygen != SCITT_COSE_ALG_PS256) {
            assert_int_equal(decode_verify(msg, other, scitt_span_make(NULL, 0), NULL),
                             SCITT_ERR_SIGNATURE);
        }
        scitt_cose_key_free(other);
        scitt_dynbuf_clear(&d);
        scitt_dynbuf_clear(&b);
        scitt_cose_key_free(pub);
        scitt_cose_key_free(k);
    }
    scitt_cose_key_free(rsa);
    rsa = NULL;
}

static void test_alg_key_binding(void **state)
{
    (void)state;
    scitt_cose_key *p256 = NULL, *p384 = NULL, *ed = NULL;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &p256), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &p384), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_EDDSA, &ed), SCITT_OK);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_span msg = tc_statement(p256, "x", "https://i.example", "s", false, NULL, &b);
    /* ES256 message, EdDSA key: wrong key type. */
    assert_int_equal(decode_verify(msg, ed, scitt_span_make(NULL, 0), NULL), SCITT_ERR_ALG);
    /* A P-384 key bound to ES384 may not verify ES256 (unbound, it could: ES256 is any curve). */
    assert_int_equal(decode_verify(msg, p384, scitt_span_make(NULL, 0), NULL), SCITT_ERR_ALG);
    assert_false(scitt_cose_key_allows(p384, SCITT_COSE_ALG_ESP256)); /* ESP256 needs P-256 */
    assert_true(scitt_cose_key_allows(p256, SCITT_COSE_ALG_ESP256));  /* same computation */
    assert_false(scitt_cose_key_allows(p256, SCITT_COSE_ALG_ES384));
    assert_true(scitt_cose_key_allows(ed, SCITT_COSE_ALG_ED25519));
    assert_false(scitt_cose_key_allows(ed, SCITT_COSE_ALG_ED448));
    assert_false(scitt_cose_key_allows(ed, -999));
    assert_int_equal(scitt_cose_key_set_alg(ed, SCITT_COSE_ALG_PS256), SCITT_ERR_ALG);
    assert_int_equal(scitt_cose_key_alg(ed), SCITT_COSE_ALG_EDDSA);
    /* Signing with a public key, or with a protected header that lacks alg or names another. */
    scitt_cose_key *pub = public_copy(p256);
    uint8_t out[512];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, out, sizeof(out));
    static const uint8_t es256[] = {0xa1, 0x01, 0x26}, no_alg[] = {0xa1, 0x04, 0x41, 0x00},
                         eddsa[] = {0xa1, 0x01, 0x27};
    assert_int_equal(scitt_cose_sign1_sign(pub, scitt_span_make(es256, 3), scitt_span_make(NULL, 0),
                                           scitt_span_str("p"), scitt_span_make(NULL, 0), 0, &w),
                     SCITT_ERR_STATE);
    assert_int_equal(scitt_cose_sign1_sign(p256, scitt_span_make(no_alg, 4),
                                           scitt_span_make(NULL, 0), scitt_span_str("p"),
                                           scitt_span_make(NULL, 0), 0, &w),
                     SCITT_ERR_HEADER);
    assert_int_equal(scitt_cose_sign1_sign(p256, scitt_span_make(eddsa, 3),
                                           scitt_span_make(NULL, 0), scitt_span_str("p"),
                                           scitt_span_make(NULL, 0), 0, &w),
                     SCITT_ERR_ALG);
    /* Untagged output decodes only where the caller allows it. */
    assert_int_equal(scitt_cose_sign1_sign(p256, scitt_span_make(es256, 3),
                                           scitt_span_make(NULL, 0), scitt_span_str("p"),
                                           scitt_span_make(NULL, 0), SCITT_SIGN1_NO_TAG_OUT, &w),
                     SCITT_OK);
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(out, w.len), 0, m), SCITT_ERR_BAD_TAG);
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(out, w.len), SCITT_SIGN1_UNTAGGED, m),
                     SCITT_OK);
    assert_false(m->tagged);
    assert_int_equal(scitt_cose_sign1_verify(m, pub, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    /* An ECDSA signature in DER instead of raw r||s is refused (wrong length for the curve). */
    uint8_t der[72] = {0x30, 0x46, 0x02, 0x21, 0x00};
    assert_int_equal(scitt_cose_signature_verify(pub, SCITT_COSE_ALG_ES256, m->protected_map,
                                                 scitt_span_make(NULL, 0), m->payload,
                                                 scitt_span_make(der, sizeof(der))),
                     SCITT_ERR_SIGNATURE);
    /* r or s zero is a bad signature, not a crash. */
    uint8_t zeros[64] = {0};
    assert_int_equal(scitt_cose_signature_verify(pub, SCITT_COSE_ALG_ES256, m->protected_map,
                                                 scitt_span_make(NULL, 0), m->payload,
                                                 scitt_span_make(zeros, 64)),
                     SCITT_ERR_SIGNATURE);
    free(m);
    scitt_dynbuf_clear(&b);
    scitt_cose_key_free(pub);
    scitt_cose_key_free(p256);
    scitt_cose_key_free(p384);
    scitt_cose_key_free(ed);
}

/*
 * An ECDSA signature is exactly 2 * the curve's coordinate length (RFC 9053 §2.1). A shorter one
 * must be refused by its length: the raw r||s is read as two coordinates, so without the length
 * check the verifier reads past the end of the signature into whatever bytes follow it (the next
 * item of an enclosing structure) and a truncated signature whose missing bytes sit just after it
 * verifies.
 */
static void test_ec_signature_length(void **state)
{
    (void)state;
    static const int64_t ec[] = {SCITT_COSE_ALG_ES256, SCITT_COSE_ALG_ES384, SCITT_COSE_ALG_ES512};
    for (size_t i = 0; i < sizeof(ec) / sizeof(ec[0]); i++) {
        scitt_cose_key *k = NULL;
        assert_int_equal(scitt_cose_key_generate(ec[i], &k), SCITT_OK);
        scitt_cose_key *pub = public_copy(k);
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_span msg =
            tc_statement(k, "{\"short\": 1}", "https://i.example", "s", false, NULL, &b);
        scitt_cose_sign1 *m = malloc(sizeof(*m));
        assert_int_equal(scitt_cose_sign1_decode(msg, 0, m), SCITT_OK);
        scitt_span sig = m->signature;
        assert_true(sig.len >= 64 && sig.len % 2 == 0);
        assert_int_equal(scitt_cose_signature_verify(pub, ec[i], m->protected_map,
                                                     scitt_span_make(NULL, 0), m->payload, sig),
                         SCITT_OK);
        /* The whole signature stays in memory; the span given covers one byte less, then half. */
        const size_t lens[] = {sig.len - 1, sig.len / 2};
        for (size_t c = 0; c < 2; c++) {
            if (scitt_cose_signature_verify(pub, ec[i], m->protected_map, scitt_span_make(NULL, 0),
                                            m->payload, scitt_span_make(sig.ptr, lens[c])) !=
                SCITT_ERR_SIGNATURE) {
                fail_msg("alg %lld: a signature of %zu of %zu bytes is not refused",
                         (long long)ec[i], lens[c], sig.len);
            }
        }
        /* The same through a message: its signature bstr says one byte less, and the message ends
         * there, while the byte it no longer covers still follows in the buffer. */
        uint8_t *mut = malloc(msg.len);
        memcpy(mut, msg.ptr, msg.len);
        size_t sig_at = (size_t)(sig.ptr - msg.ptr);
        assert_int_equal(sig_at + sig.len, msg.len);
        assert_int_equal(mut[sig_at - 2], 0x58); /* bstr, one-byte length */
        assert_int_equal(mut[sig_at - 1], sig.len);
        mut[sig_at - 1] = (uint8_t)(sig.len - 1);
        assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(mut, msg.len - 1), 0, m),
                         SCITT_OK);
        assert_int_equal(m->signature.len, sig.len - 1);
        assert_int_equal(scitt_cose_sign1_verify(m, pub, scitt_span_make(NULL, 0), NULL),
                         SCITT_ERR_SIGNATURE);
        free(mut);
        free(m);
        scitt_dynbuf_clear(&b);
        scitt_cose_key_free(pub);
        scitt_cose_key_free(k);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Structurally malformed messages (signature never reached)                                   */

typedef struct {
    const char *hex;
    scitt_err want;
    const char *why;
} msg_row;

static const msg_row msg_rows[] = {
    {"8443a10126a0f640", SCITT_ERR_BAD_TAG, "untagged where SCITT requires tag 18"},
    {"d18443a10126a0f640", SCITT_ERR_BAD_TAG, "tag 17 (COSE_Mac0)"},
    {"d38443a10126a0f640", SCITT_ERR_BAD_TAG, "tag 19"},
    {"c68443a10126a0f640", SCITT_ERR_BAD_TAG, "tag 6 (one-byte form)"},
    {"d48443a10126a0f640", SCITT_ERR_BAD_TAG, "tag 20 (one-byte form)"},
    {"d8628443a10126a0f640", SCITT_ERR_BAD_TAG, "tag 98 (COSE_Sign)"},
    {"d2d28443a10126a0f640", SCITT_ERR_BAD_TAG, "tag 18 twice"},
    {"d8128443a10126a0f640", SCITT_ERR_NON_CANONICAL, "tag 18 in two bytes"},
    {"d28343a10126a0f6", SCITT_ERR_MALFORMED, "array of 3"},
    {"d28543a10126a0f64040", SCITT_ERR_MALFORMED, "array of 5"},
    {"d2a0", SCITT_ERR_BAD_TYPE, "a map instead of the array"},
    {"d29f43a10126a0f640ff", SCITT_ERR_INDEFINITE, "indefinite array"},
    {"d284a10126a0f640", SCITT_ERR_BAD_TYPE, "protected as a map, not a bstr"},
    {"d2846361626aa0f640", SCITT_ERR_BAD_TYPE, "protected as text"},
    {"d28444a10126ffa0f640", SCITT_ERR_TRAILING, "protected bstr with a byte after the map"},
    {"d2844180a0f640", SCITT_ERR_HEADER, "protected bstr holding an array"},
    {"d2844101a0f640", SCITT_ERR_HEADER, "protected bstr holding an integer"},
    {"d2844100a0f640", SCITT_ERR_HEADER, "protected bstr holding 0"},
    {"d28443a1012640f640", SCITT_ERR_BAD_TYPE, "unprotected as a bstr"},
    {"d28443a10126f7f640", SCITT_ERR_BAD_TYPE, "unprotected as undefined (legacy only)"},
    {"d28443a10126a06161"
     "40",
     SCITT_ERR_BAD_TYPE, "payload as text"},
    {"d28443a10126a0f6f6", SCITT_ERR_BAD_TYPE, "signature null"},
    {"d28443a10126a0f640"
     "00",
     SCITT_ERR_TRAILING, "a byte after the message"},
    {"d28443a10126a0f6", SCITT_ERR_TRUNCATED, "no signature"},
    {"d28443a10126a0f6c140", SCITT_ERR_BAD_TAG, "tagged signature"},
    {"d28440a0f640", SCITT_ERR_HEADER, "no alg at all"},
    {"d28440a10126f640", SCITT_ERR_HEADER, "alg only unprotected"},
    {"d28443a10126a10127f640", SCITT_ERR_DUPLICATE_KEY, "alg in both buckets"},
    {"d28445a201260126a0f640", SCITT_ERR_DUPLICATE_KEY, "alg twice in protected"},
    {"d28441a0a0f640", SCITT_ERR_HEADER, "h'a0' protected: empty, so no alg"},
};

static void test_malformed_messages(void **state)
{
    (void)state;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    for (size_t i = 0; i < sizeof(msg_rows) / sizeof(msg_rows[0]); i++) {
        size_t n;
        uint8_t *in = tu_hex(msg_rows[i].hex, &n);
        scitt_err e = scitt_cose_sign1_decode(scitt_span_make(in, n), 0, m);
        if (e != msg_rows[i].want) {
            fail_msg("row %zu (%s): got %s, want %s", i, msg_rows[i].why, scitt_err_name(e),
                     scitt_err_name(msg_rows[i].want));
        }
        free(in);
    }
    /* The smallest valid message, for contrast: empty protected h'' is signed as h''. */
    size_t n;
    uint8_t *in = tu_hex("d28443a10126a0f640", &n);
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(in, n), 0, m), SCITT_OK);
    assert_true(m->detached);
    assert_int_equal(m->protected_item.len, 4);
    free(in);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips_and_mutations),
        cmocka_unit_test(test_alg_key_binding),
        cmocka_unit_test(test_ec_signature_length),
        cmocka_unit_test(test_malformed_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
