/*
 * Signers (scitt/signer.h): an outside signer (as a PKCS#11 token is) produces receipt tree heads
 * and COSE_Sign1 messages that verify with its public key, each signature it returns is checked
 * with that key (a corrupted one, one by another key, are refused), an algorithm the public key
 * does not allow never reaches it, its errors come back, and the in-memory signer is the key.
 */
#include "cose_testutil.h"

#include "scitt/signer.h"

/* An outside signer: the private key sits behind the callback, the public key is a copy. */
typedef struct outside {
    scitt_cose_signer inner;
    int calls;
    bool corrupt;
    scitt_err fail;
} outside;

static scitt_err outside_sign(void *ctx, int64_t alg, scitt_span tbs, uint8_t *sig, size_t cap,
                              size_t *sig_len)
{
    outside *o = ctx;
    o->calls++;
    if (o->fail != SCITT_OK) {
        return o->fail;
    }
    scitt_err e = o->inner.sign(o->inner.ctx, alg, tbs, sig, cap, sig_len);
    if (e == SCITT_OK && o->corrupt) {
        sig[*sig_len / 2] ^= 1;
    }
    return e;
}

static scitt_cose_key *public_copy(const scitt_cose_key *k)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    assert_int_equal(scitt_cose_key_encode_cose(k, false, &w), SCITT_OK);
    scitt_cose_key *pub = NULL;
    assert_int_equal(scitt_cose_key_from_cose(scitt_span_make(b.ptr, b.len), &pub), SCITT_OK);
    assert_false(scitt_cose_key_has_private(pub));
    scitt_dynbuf_clear(&b);
    return pub;
}

/* @p priv signs behind the callback; the signer's public key is @p pub. */
static void make_outside(outside *o, scitt_cose_signer *s, const scitt_cose_key *priv,
                         scitt_cose_key *pub)
{
    memset(o, 0, sizeof(*o));
    scitt_cose_signer_from_key(priv, &o->inner);
    s->sign = outside_sign;
    s->ctx = o;
    s->pub = pub;
}

static const uint8_t root[SCITT_HASH_LEN] = {1, 2, 3};

static void head_for(int64_t alg, int64_t want_alg)
{
    scitt_cose_key *k = NULL;
    assert_int_equal(scitt_cose_key_generate(alg, &k), SCITT_OK);
    scitt_cose_key *pub = public_copy(k);
    outside o;
    scitt_cose_signer s;
    make_outside(&o, &s, k, pub);
    assert_false(scitt_cose_signer_is_key(&s));
    scitt_receipt_head h, back;
    assert_int_equal(scitt_cose_signer_receipt_head(&s, scitt_span_str("svc"),
                                                    scitt_span_str("log"), 1700000000, 7, root, &h),
                     SCITT_OK);
    assert_int_equal(o.calls, 1);
    assert_int_equal(h.alg, want_alg);
    assert_int_equal(scitt_receipt_head_load(scitt_span_make(h.protected_map, h.protected_len),
                                             scitt_span_make(h.signature, h.signature_len), root,
                                             pub, &back),
                     SCITT_OK);
    assert_int_equal(back.tree_size, 7);
    /* the same head as the key itself would write, up to the signature */
    scitt_receipt_head by_key;
    assert_int_equal(scitt_receipt_head_sign(k, scitt_span_str("svc"), scitt_span_str("log"),
                                             1700000000, 7, root, &by_key),
                     SCITT_OK);
    assert_int_equal(by_key.protected_len, h.protected_len);
    assert_memory_equal(by_key.protected_map, h.protected_map, h.protected_len);
    scitt_cose_key_free(pub);
    scitt_cose_key_free(k);
}

static void test_receipt_head_es256(void **state)
{
    (void)state;
    head_for(SCITT_COSE_ALG_ES256, SCITT_COSE_ALG_ES256);
}

static void test_receipt_head_es384(void **state)
{
    (void)state;
    head_for(SCITT_COSE_ALG_ES384, SCITT_COSE_ALG_ES384);
}

static void test_receipt_head_ed25519(void **state)
{
    (void)state;
    head_for(SCITT_COSE_ALG_EDDSA, SCITT_COSE_ALG_ED25519); /* RFC 9864's -19 */
}

static scitt_span es256_protected(uint8_t *buf, size_t cap)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_int(&w, SCITT_COSE_ALG_ES256);
    scitt_span p;
    assert_int_equal(scitt_cbor_writer_finish(&w, &p), SCITT_OK);
    return p;
}

static void test_sign1_and_the_checks(void **state)
{
    (void)state;
    scitt_cose_key *k = NULL, *other = NULL;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &other), SCITT_OK);
    scitt_cose_key *pub = public_copy(k);
    uint8_t pbuf[16];
    scitt_span prot = es256_protected(pbuf, sizeof(pbuf));
    scitt_span payload = scitt_span_str("payload");
    outside o;
    scitt_cose_signer s;

    /* signed behind the callback, verified with the public key alone */
    make_outside(&o, &s, k, pub);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    assert_int_equal(scitt_cose_signer_sign1(&s, prot, scitt_span_make(NULL, 0), payload,
                                             scitt_span_make(NULL, 0), 0, &w),
                     SCITT_OK);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(b.ptr, b.len), 0, &m), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_verify(&m, pub, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    scitt_dynbuf_clear(&b);

    uint8_t sig[SCITT_COSE_SIG_MAX];
    size_t sl = 0;
    /* a corrupted signature is caught before anybody uses it */
    make_outside(&o, &s, k, pub);
    o.corrupt = true;
    assert_int_equal(scitt_cose_signer_signature(&s, SCITT_COSE_ALG_ES256, prot,
                                                 scitt_span_make(NULL, 0), payload, sig,
                                                 sizeof(sig), &sl),
                     SCITT_ERR_SIGNATURE);
    /* so is a signature by another key than the published one (the wrong key in the token) */
    make_outside(&o, &s, other, pub);
    assert_int_equal(scitt_cose_signer_signature(&s, SCITT_COSE_ALG_ES256, prot,
                                                 scitt_span_make(NULL, 0), payload, sig,
                                                 sizeof(sig), &sl),
                     SCITT_ERR_SIGNATURE);
    scitt_receipt_head h;
    assert_int_equal(scitt_cose_signer_receipt_head(&s, scitt_span_str("svc"),
                                                    scitt_span_str("log"), 1, 1, root, &h),
                     SCITT_ERR_SIGNATURE);
    /* an algorithm the public key does not allow never reaches the signer */
    make_outside(&o, &s, k, pub);
    assert_int_equal(scitt_cose_signer_signature(&s, SCITT_COSE_ALG_ES384, prot,
                                                 scitt_span_make(NULL, 0), payload, sig,
                                                 sizeof(sig), &sl),
                     SCITT_ERR_ALG);
    assert_int_equal(o.calls, 0);
    /* the signer's own failure comes back as it was */
    o.fail = SCITT_ERR_CRYPTO;
    assert_int_equal(scitt_cose_signer_signature(&s, SCITT_COSE_ALG_ES256, prot,
                                                 scitt_span_make(NULL, 0), payload, sig,
                                                 sizeof(sig), &sl),
                     SCITT_ERR_CRYPTO);
    assert_int_equal(o.calls, 1);
    scitt_cose_key_free(pub);
    scitt_cose_key_free(other);
    scitt_cose_key_free(k);
}

static void test_in_memory_signer(void **state)
{
    (void)state;
    scitt_cose_key *k = NULL;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k), SCITT_OK);
    scitt_cose_signer s;
    scitt_cose_signer_from_key(k, &s);
    assert_true(scitt_cose_signer_is_key(&s));
    assert_ptr_equal(s.pub, k);
    uint8_t pbuf[16], sig[SCITT_COSE_SIG_MAX];
    size_t sl = 0;
    scitt_span prot = es256_protected(pbuf, sizeof(pbuf));
    assert_int_equal(scitt_cose_signer_signature(&s, SCITT_COSE_ALG_ES256, prot,
                                                 scitt_span_make(NULL, 0), scitt_span_str("x"), sig,
                                                 sizeof(sig), &sl),
                     SCITT_OK);
    assert_int_equal(scitt_cose_signature_verify(k, SCITT_COSE_ALG_ES256, prot,
                                                 scitt_span_make(NULL, 0), scitt_span_str("x"),
                                                 scitt_span_make(sig, sl)),
                     SCITT_OK);
    scitt_cose_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receipt_head_es256),   cmocka_unit_test(test_receipt_head_es384),
        cmocka_unit_test(test_receipt_head_ed25519), cmocka_unit_test(test_sign1_and_the_checks),
        cmocka_unit_test(test_in_memory_signer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
