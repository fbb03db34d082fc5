/*
 * CCF ledger receipts (vds 2): receipts built by tests/ccf_util.h from the profile's rules (the
 * draft's recursive MTH and PATH, the -04 leaf digest, a signature over the root) must verify
 * through the library's vds table, for every leaf of trees of many sizes; every way of breaking
 * one must fail with the right error.
 */
#include "cose_testutil.h"

#include "ccf_util.h"

typedef struct fixture {
    scitt_cose_key *key;   /* ES384 service key, as Azure uses */
    scitt_cose_key *other; /* an unrelated key with the same kid rule */
    scitt_cose_keyset *keys;
    scitt_dynbuf stmt_buf;
    scitt_span stmt;     /* a Signed Statement (its own key) */
    uint8_t entry[1024]; /* its registered form */
    size_t entry_len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &f->key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &f->other), SCITT_OK);
    char kid[65];
    assert_int_equal(ccf_kid(f->key, kid), SCITT_OK);
    assert_int_equal(scitt_cose_key_set_kid(f->key, scitt_span_make(kid, 64)), SCITT_OK);
    f->keys = tc_keyset(&f->key, 1);
    scitt_cose_key *issuer = NULL;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &issuer), SCITT_OK);
    scitt_dynbuf_init(&f->stmt_buf, 0);
    /* An unprotected header, so the registered form differs from the statement's bytes. */
    f->stmt = tc_statement(issuer, "{\"ccf\":true}", "https://issuer.example", "ccf-subject", false,
                           "a1190100f5", &f->stmt_buf);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(f->stmt, 0, &m), SCITT_OK);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, f->entry, sizeof(f->entry));
    assert_int_equal(scitt_receipt_entry(&m, &w), SCITT_OK);
    f->entry_len = w.len;
    scitt_cose_key_free(issuer);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    scitt_cose_keyset_free(f->keys);
    scitt_cose_key_free(f->key);
    scitt_cose_key_free(f->other);
    scitt_dynbuf_clear(&f->stmt_buf);
    free(f);
    return 0;
}

static scitt_span entry_of(const fixture *f)
{
    return scitt_span_make(f->entry, f->entry_len);
}

/* Every leaf of every tree of 2..40 leaves verifies, alone and inside a transparent statement. */
static void test_all_positions(void **state)
{
    fixture *f = *state;
    for (size_t n = 2; n <= 40; n++) {
        for (size_t m = 0; m < n; m++) {
            scitt_dynbuf r;
            scitt_dynbuf_init(&r, 0);
            assert_int_equal(ccf_receipt_for(f->key, entry_of(f), n, m, &r), SCITT_OK);
            scitt_receipt_info info;
            scitt_err e = scitt_receipt_verify_inclusion(scitt_span_make(r.ptr, r.len), entry_of(f),
                                                         f->keys, 0, &info);
            if (e != SCITT_OK) {
                fail_msg("n=%zu m=%zu: %s", n, m, scitt_err_name(e));
            }
            assert_int_equal(info.vds, SCITT_VDS_CCF_LEDGER_SHA256);
            assert_int_equal(info.alg, SCITT_COSE_ALG_ES384);
            assert_int_equal(info.tree_size, 0); /* CCF proofs name no size */
            assert_true(scitt_span_eq_str(info.sub, "scitt.ccf.signature.v1"));
            if (m == n / 2) {
                scitt_dynbuf ts;
                scitt_dynbuf_init(&ts, 0);
                scitt_span rs = scitt_span_make(r.ptr, r.len);
                scitt_cbor_writer w;
                scitt_cbor_writer_init_dynbuf(&w, &ts);
                assert_int_equal(scitt_receipt_embed(f->stmt, &rs, 1, &w), SCITT_OK);
                scitt_ts_result res;
                assert_int_equal(scitt_receipt_verify_transparent(scitt_span_make(ts.ptr, ts.len),
                                                                  f->keys, 0, &res),
                                 SCITT_OK);
                assert_int_equal(res.nverified, 1);
                scitt_dynbuf_clear(&ts);
            }
            scitt_dynbuf_clear(&r);
        }
    }
}

/* A worked case computed by hand: two leaves, the entry on the right. */
static void test_two_leaves_by_hand(void **state)
{
    fixture *f = *state;
    uint8_t ith0[32], ith1[32], dh0[32], dh1[32], l0[32], l1[32], root[32];
    memset(ith0, 0x11, 32);
    memset(ith1, 0x22, 32);
    memset(dh0, 0x33, 32);
    scitt_sha256(f->entry, f->entry_len, dh1);
    /* leaf = H(ith || H(evidence) || data_hash), root = H(l0 || l1), no prefixes */
    uint8_t buf[96], eh[32];
    scitt_sha256("ce:1.1:00", 9, eh);
    memcpy(buf, ith0, 32), memcpy(buf + 32, eh, 32), memcpy(buf + 64, dh0, 32);
    scitt_sha256(buf, 96, l0);
    scitt_sha256("ce:1.2:ff", 9, eh);
    memcpy(buf, ith1, 32), memcpy(buf + 32, eh, 32), memcpy(buf + 64, dh1, 32);
    scitt_sha256(buf, 96, l1);
    memcpy(buf, l0, 32), memcpy(buf + 32, l1, 32);
    scitt_sha256(buf, 64, root);
    /* {1: [ith1, "ce:1.2:ff", dh1], 2: [[true, l0]]} written out byte by byte */
    uint8_t proof[200];
    size_t p = 0;
    proof[p++] = 0xa2, proof[p++] = 0x01, proof[p++] = 0x83, proof[p++] = 0x58, proof[p++] = 32;
    memcpy(proof + p, ith1, 32), p += 32;
    proof[p++] = 0x69, memcpy(proof + p, "ce:1.2:ff", 9), p += 9;
    proof[p++] = 0x58, proof[p++] = 32, memcpy(proof + p, dh1, 32), p += 32;
    proof[p++] = 0x02, proof[p++] = 0x81, proof[p++] = 0x82, proof[p++] = 0xf5;
    proof[p++] = 0x58, proof[p++] = 32, memcpy(proof + p, l0, 32), p += 32;
    scitt_dynbuf r;
    scitt_dynbuf_init(&r, 0);
    assert_int_equal(ccf_receipt(f->key, scitt_span_make(proof, p), root, false, &r), SCITT_OK);
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(r.ptr, r.len), entry_of(f),
                                                    f->keys, 0, NULL),
                     SCITT_OK);
    /* The same proof claiming the sibling is on the right folds to another root. */
    proof[p - 35] = 0xf4;
    scitt_dynbuf_clear(&r);
    scitt_dynbuf_init(&r, 0);
    assert_int_equal(ccf_receipt(f->key, scitt_span_make(proof, p), root, false, &r), SCITT_OK);
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(r.ptr, r.len), entry_of(f),
                                                    f->keys, 0, NULL),
                     SCITT_ERR_SIGNATURE);
    scitt_dynbuf_clear(&r);
}

/* Builds the receipt for leaf 5 of 11 from a hand-edited proof (hex of the bstr contents). */
static scitt_err verify_edited_ev(fixture *f, void (*edit)(scitt_dynbuf *proof), bool attach,
                                  scitt_span entry, const char *evidence)
{
    ccf_tree t;
    memset(&t, 0, sizeof(t));
    t.n = 11;
    uint8_t ith[32], dh[32];
    memset(ith, 0x42, 32);
    scitt_sha256(f->entry, f->entry_len, dh);
    for (size_t i = 0; i < t.n; i++) {
        uint8_t other[32];
        memset(other, (int)i, 32);
        ccf_leaf_digest(ith, evidence, i == 5 ? dh : other, t.leaf[i]);
    }
    uint8_t root[32];
    ccf_mth(&t, 0, t.n, root);
    scitt_dynbuf proof, r;
    scitt_dynbuf_init(&proof, 0);
    scitt_dynbuf_init(&r, 0);
    assert_int_equal(ccf_proof(&t, 5, ith, evidence, dh, &proof), SCITT_OK);
    if (edit) {
        edit(&proof);
    }
    assert_int_equal(ccf_receipt(f->key, scitt_span_make(proof.ptr, proof.len), root, attach, &r),
                     SCITT_OK);
    scitt_err e =
        scitt_receipt_verify_inclusion(scitt_span_make(r.ptr, r.len), entry, f->keys, 0, NULL);
    scitt_dynbuf_clear(&proof);
    scitt_dynbuf_clear(&r);
    return e;
}

static scitt_err verify_edited(fixture *f, void (*edit)(scitt_dynbuf *proof), bool attach,
                               scitt_span entry)
{
    return verify_edited_ev(f, edit, attach, entry, "ce:2.5:ab");
}

/* Offsets in the 11-leaf proof: a2 01 83 58 20 <ith 32> 69 <ev 9> 58 20 <dh 32> 02 84 ... */
#define OFF_ITH   5
#define OFF_EV    38
#define OFF_DH    49
#define OFF_PATH  82 /* the path array head, after key 2 at 81 */
#define OFF_FIRST 83 /* first path element: 82 f4|f5 58 20 <hash> */

static void flip_path_hash(scitt_dynbuf *p)
{
    p->ptr[OFF_FIRST + 4] ^= 0x01;
}
static void flip_left_bit(scitt_dynbuf *p)
{
    p->ptr[OFF_FIRST + 1] ^= 0x01; /* f4 <-> f5 */
}
static void flip_ith(scitt_dynbuf *p)
{
    p->ptr[OFF_ITH] ^= 0x80;
}
static void flip_evidence(scitt_dynbuf *p)
{
    p->ptr[OFF_EV + 1] ^= 0x01;
}
static void flip_data_hash(scitt_dynbuf *p)
{
    p->ptr[OFF_DH] ^= 0x01;
}
static void bool_as_int(scitt_dynbuf *p)
{
    p->ptr[OFF_FIRST + 1] = 0x01;
}
static void drop_path_elems(scitt_dynbuf *p)
{
    p->ptr[OFF_PATH] = 0x80; /* [] then leftovers: malformed either way */
    p->len = OFF_PATH + 1;
}
static void path_hash_short(scitt_dynbuf *p)
{
    p->ptr[OFF_FIRST + 3] = 31; /* a 31-byte hash, one byte left over */
}
static void unknown_key(scitt_dynbuf *p)
{
    p->ptr[OFF_PATH - 1] = 0x03; /* key 3 instead of 2 */
}
static void trailing_byte(scitt_dynbuf *p)
{
    scitt_dynbuf_u8(p, 0x00);
}
static void wrong_map_count(scitt_dynbuf *p)
{
    p->ptr[0] = 0xa3;
}

static void test_mutations(void **state)
{
    fixture *f = *state;
    assert_int_equal(verify_edited(f, NULL, false, entry_of(f)), SCITT_OK);
    static const struct {
        void (*edit)(scitt_dynbuf *);
        scitt_err want;
        const char *why;
    } rows[] = {
        {flip_path_hash, SCITT_ERR_SIGNATURE, "a path hash changed: another root"},
        {flip_left_bit, SCITT_ERR_SIGNATURE, "a left/right bit flipped: another root"},
        {flip_ith, SCITT_ERR_SIGNATURE, "the internal transaction hash is part of the leaf"},
        {flip_evidence, SCITT_ERR_SIGNATURE, "the evidence is hashed into the leaf"},
        {flip_data_hash, SCITT_ERR_PROOF_MISMATCH, "the proof is for another entry"},
        {bool_as_int, SCITT_ERR_PROOF_MALFORMED, "left must be a CBOR bool"},
        {drop_path_elems, SCITT_ERR_PROOF_MALFORMED, "[+ ccf-proof-element]: empty path"},
        {path_hash_short, SCITT_ERR_PROOF_MALFORMED, "path hashes are 32 bytes"},
        {unknown_key, SCITT_ERR_PROOF_MALFORMED, "only keys 1 (leaf) and 2 (path)"},
        {trailing_byte, SCITT_ERR_TRAILING, "nothing may follow the proof map"},
        {wrong_map_count, SCITT_ERR_TRUNCATED, "a map of three pairs ends early"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_err e = verify_edited(f, rows[i].edit, false, entry_of(f));
        if (e != rows[i].want) {
            fail_msg("row %zu (%s): got %s, want %s", i, rows[i].why, scitt_err_name(e),
                     scitt_err_name(rows[i].want));
        }
    }
    /* The evidence is a tstr of 1..1024 bytes. */
    char big[1026];
    memset(big, 'e', 1025);
    big[1025] = 0;
    assert_int_equal(verify_edited_ev(f, NULL, false, entry_of(f), ""), SCITT_ERR_PROOF_MALFORMED);
    assert_int_equal(verify_edited_ev(f, NULL, false, entry_of(f), big), SCITT_ERR_PROOF_MALFORMED);
    big[1024] = 0;
    assert_int_equal(verify_edited_ev(f, NULL, false, entry_of(f), big), SCITT_OK);
    /* The profile requires a detached root, even a correct attached one. */
    assert_int_equal(verify_edited(f, NULL, true, entry_of(f)), SCITT_ERR_PROOF_MALFORMED);
    /* Another entry: its data hash is not the one in the proof. */
    uint8_t other[16] = {0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40};
    assert_int_equal(verify_edited(f, NULL, false, scitt_span_make(other, 6)),
                     SCITT_ERR_PROOF_MISMATCH);
}

/* Draft -01..-03 leaves (no outer hash) and RFC 9162 prefixed nodes must not verify. */
static void test_other_tree_rules(void **state)
{
    fixture *f = *state;
    uint8_t ith[32], dh[32], eh[32], leaf_old[32], sib[32], root[32];
    memset(ith, 7, 32);
    memset(sib, 9, 32);
    scitt_sha256(f->entry, f->entry_len, dh);
    scitt_sha256("ev", 2, eh);
    /* -01: the "leaf" fed to the path is ith || H(ev) || dh hashed by the first node only. */
    uint8_t buf[128];
    memcpy(buf, ith, 32), memcpy(buf + 32, eh, 32), memcpy(buf + 64, dh, 32);
    memcpy(buf + 96, sib, 32);
    scitt_sha256(buf, 128, root);
    ccf_tree t = {.n = 2};
    memcpy(t.leaf[1], sib, 32);
    ccf_leaf_digest(ith, "ev", dh, t.leaf[0]);
    scitt_dynbuf proof, r;
    scitt_dynbuf_init(&proof, 0);
    scitt_dynbuf_init(&r, 0);
    assert_int_equal(ccf_proof(&t, 0, ith, "ev", dh, &proof), SCITT_OK);
    assert_int_equal(ccf_receipt(f->key, scitt_span_make(proof.ptr, proof.len), root, false, &r),
                     SCITT_OK);
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(r.ptr, r.len), entry_of(f),
                                                    f->keys, 0, NULL),
                     SCITT_ERR_SIGNATURE);
    /* RFC 9162 node hashing over the same leaves. */
    scitt_dynbuf_clear(&r);
    scitt_dynbuf_init(&r, 0);
    memcpy(leaf_old, t.leaf[0], 32);
    scitt_merkle_node_hash(leaf_old, sib, root);
    assert_int_equal(ccf_receipt(f->key, scitt_span_make(proof.ptr, proof.len), root, false, &r),
                     SCITT_OK);
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(r.ptr, r.len), entry_of(f),
                                                    f->keys, 0, NULL),
                     SCITT_ERR_SIGNATURE);
    scitt_dynbuf_clear(&proof);
    scitt_dynbuf_clear(&r);
}

/* Keys: unknown kid, wrong key under the right kid, leaf-only and consistency verification. */
static void test_keys_and_modes(void **state)
{
    fixture *f = *state;
    scitt_dynbuf r;
    scitt_dynbuf_init(&r, 0);
    assert_int_equal(ccf_receipt_for(f->key, entry_of(f), 7, 3, &r), SCITT_OK);
    scitt_span rs = scitt_span_make(r.ptr, r.len);
    scitt_cose_keyset *none = tc_keyset(&f->other, 1);
    scitt_cose_keyset *two = NULL;
    assert_int_equal(scitt_receipt_verify_inclusion(rs, entry_of(f), none, 0, NULL),
                     SCITT_ERR_UNTRUSTED);
    /* The other key published under the receipt's kid: the signature must not verify. */
    char kid[65];
    assert_int_equal(ccf_kid(f->key, kid), SCITT_OK);
    scitt_cose_key *impostor = NULL;
    scitt_dynbuf pub;
    scitt_dynbuf_init(&pub, 0);
    assert_int_equal(scitt_cose_key_encode_pem(f->other, false, &pub), SCITT_OK);
    assert_int_equal(scitt_cose_key_from_pem(scitt_span_make(pub.ptr, pub.len), &impostor),
                     SCITT_OK);
    assert_int_equal(scitt_cose_key_set_kid(impostor, scitt_span_make(kid, 64)), SCITT_OK);
    two = tc_keyset(&impostor, 1);
    assert_int_equal(scitt_receipt_verify_inclusion(rs, entry_of(f), two, 0, NULL),
                     SCITT_ERR_SIGNATURE);
    uint8_t leaf[32];
    scitt_merkle_leaf_hash(entry_of(f), leaf);
    assert_int_equal(scitt_receipt_verify_inclusion_leaf(rs, leaf, f->keys, 0, NULL),
                     SCITT_ERR_UNSUPPORTED);
    assert_int_equal(scitt_receipt_verify_consistency(rs, 3, leaf, f->keys, 0, NULL),
                     SCITT_ERR_UNSUPPORTED);
    /* RFC 9943 receipts carry sub; this one does, so the SCITT flag passes. */
    assert_int_equal(
        scitt_receipt_verify_inclusion(rs, entry_of(f), f->keys, SCITT_RECEIPT_REQUIRE_SUB, NULL),
        SCITT_OK);
    scitt_cose_keyset_free(none);
    scitt_cose_keyset_free(two);
    scitt_cose_key_free(impostor);
    scitt_dynbuf_clear(&pub);
    scitt_dynbuf_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_leaves_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_tree_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_and_modes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
