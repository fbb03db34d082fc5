/*
 * CCF ledger receipts (vds 2): receipts built by tests/ccf_util.h from the profile's rules (the
 * draft's recursive MTH and PATH, the -04 leaf digest, a signature over the root) must verify
 * through the library's vds table, for every leaf of trees of many sizes; every way of breaking
 * one must fail with the right error.
 */
#include "cose_testutil.h"

#include "ccf_util.h"
#include "cose_internal.h" /* scitt__ccf_consistency_roots */

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
    /* an inclusion receipt holds no consistency proof (-2) */
    assert_int_not_equal(scitt_receipt_verify_consistency(rs, 3, leaf, f->keys, 0, NULL), SCITT_OK);
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

/* ---- consistency proofs (draft -06 section 4) ------------------------------------------- */

static void fill_tree(ccf_tree *t, size_t n)
{
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        uint8_t seed[8] = {(uint8_t)i, (uint8_t)(i >> 8), 0xcc, 0xf0};
        scitt_sha256(seed, sizeof(seed), t->leaf[i]);
    }
}

/* A signed consistency receipt (396/-2) from @p m to t->n leaves. */
static scitt_span consistency_receipt(const fixture *f, const ccf_tree *t, size_t m,
                                      scitt_dynbuf *proof, scitt_dynbuf *out)
{
    scitt_dynbuf_init(proof, 0);
    assert_int_equal(ccf_consistency_proof(t, m, proof), SCITT_OK);
    uint8_t newer[32];
    ccf_mth(t, 0, t->n, newer);
    scitt_dynbuf_init(out, 0);
    assert_int_equal(
        ccf_receipt_vdp(f->key, -2, scitt_span_make(proof->ptr, proof->len), newer, false, out),
        SCITT_OK);
    return scitt_span_make(out->ptr, out->len);
}

/* Every pair of sizes 1 <= m < n <= 40: the proof recomputes R_m and R_n; the wrong older root,
 * or an older size whose tree has another number of complete subtrees, is refused. */
static void test_consistency_all_pairs(void **state)
{
    fixture *f = *state;
    ccf_tree t;
    for (size_t n = 2; n <= 40; n++) {
        fill_tree(&t, n);
        uint8_t newer[32];
        ccf_mth(&t, 0, n, newer);
        for (size_t m = 1; m < n; m++) {
            uint8_t older[32];
            ccf_mth(&t, 0, m, older);
            scitt_dynbuf proof, rb;
            scitt_span r = consistency_receipt(f, &t, m, &proof, &rb);
            scitt_receipt_info info;
            assert_int_equal(scitt_receipt_verify_consistency(r, m, older, f->keys, 0, &info),
                             SCITT_OK);
            assert_memory_equal(info.root, newer, 32);
            assert_int_equal(info.vds, SCITT_VDS_CCF_LEDGER_SHA256);
            assert_int_equal(info.old_size, m);
            assert_int_equal(info.tree_size, 0); /* not in the proof */
            /* without the size: the anchor cannot be checked, the roots still are */
            assert_int_equal(scitt_receipt_verify_consistency(r, 0, older, f->keys, 0, NULL),
                             SCITT_OK);
            uint8_t wrong[32];
            memcpy(wrong, older, 32);
            wrong[31] ^= 1;
            assert_int_equal(scitt_receipt_verify_consistency(r, m, wrong, f->keys, 0, NULL),
                             SCITT_ERR_PROOF_MISMATCH);
            if (m > 1 && __builtin_popcountll(m) != __builtin_popcountll(m - 1)) {
                assert_int_equal(
                    scitt_receipt_verify_consistency(r, m - 1, older, f->keys, 0, NULL),
                    SCITT_ERR_PROOF_MISMATCH);
            }
            /* another key: untrusted; an inclusion verifier finds no inclusion proof */
            scitt_cose_keyset *other = tc_keyset(&f->other, 1);
            assert_int_equal(scitt_receipt_verify_consistency(r, m, older, other, 0, NULL),
                             SCITT_ERR_UNTRUSTED);
            scitt_cose_keyset_free(other);
            assert_int_not_equal(scitt_receipt_verify_inclusion(r, entry_of(f), f->keys, 0, NULL),
                                 SCITT_OK);
            scitt_dynbuf_clear(&proof);
            scitt_dynbuf_clear(&rb);
        }
    }
}

/* Re-signs an edited proof over @p newer and verifies it from (m, older). */
static scitt_err verify_edited_consistency(const fixture *f, const uint8_t *proof, size_t len,
                                           size_t m, const uint8_t older[32],
                                           const uint8_t newer[32])
{
    scitt_dynbuf rb;
    scitt_dynbuf_init(&rb, 0);
    assert_int_equal(ccf_receipt_vdp(f->key, -2, scitt_span_make(proof, len), newer, false, &rb),
                     SCITT_OK);
    scitt_err e = scitt_receipt_verify_consistency(scitt_span_make(rb.ptr, rb.len), m, older,
                                                   f->keys, 0, NULL);
    scitt_dynbuf_clear(&rb);
    return e;
}

/* Writes {1: anchor, 2: [[left, hash]...]} from parts (for hand-made proofs). */
static size_t hand_proof(uint8_t *buf, size_t cap, const uint8_t anchor[32], const bool *left,
                         const uint8_t (*hashes)[32], size_t n)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_bytes(&w, scitt_span_make(anchor, 32));
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_array(&w, 2);
        scitt_cbor_put_bool(&w, left[i]);
        scitt_cbor_put_bytes(&w, scitt_span_make(hashes[i], 32));
    }
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    return out.len;
}

/* Tampered proofs (the older or the newer root changes), the non-canonical anchor, and every
 * shape the CDDL refuses. */
static void test_consistency_mutations(void **state)
{
    fixture *f = *state;
    ccf_tree t;
    fill_tree(&t, 40);
    const size_t m = 23;
    uint8_t older[32], newer[32];
    ccf_mth(&t, 0, m, older);
    ccf_mth(&t, 0, 40, newer);
    size_t width = m & (~m + 1);
    uint8_t anchor[32];
    ccf_mth(&t, m - width, m, anchor);
    bool left[64];
    uint8_t hashes[64][32];
    size_t n = ccf_node_path(&t, m - width, width, 0, 40, left, hashes);
    assert_true(n >= 4);
    uint8_t buf[4096];
    size_t len = hand_proof(buf, sizeof(buf), anchor, left, (const uint8_t(*)[32])hashes, n);
    assert_int_equal(verify_edited_consistency(f, buf, len, m, older, newer), SCITT_OK);

    /* first element re-tagged as left: the older root changes */
    bool l2[64];
    memcpy(l2, left, sizeof(l2));
    l2[0] = !l2[0];
    len = hand_proof(buf, sizeof(buf), anchor, l2, (const uint8_t(*)[32])hashes, n);
    assert_int_not_equal(verify_edited_consistency(f, buf, len, 0, older, newer), SCITT_OK);
    /* a shared left sibling re-tagged as right */
    memcpy(l2, left, sizeof(l2));
    for (size_t i = 0; i < n; i++) {
        if (left[i]) {
            l2[i] = false;
            break;
        }
    }
    len = hand_proof(buf, sizeof(buf), anchor, l2, (const uint8_t(*)[32])hashes, n);
    assert_int_not_equal(verify_edited_consistency(f, buf, len, 0, older, newer), SCITT_OK);
    /* the anchor zeroed */
    uint8_t zero[32] = {0};
    len = hand_proof(buf, sizeof(buf), zero, left, (const uint8_t(*)[32])hashes, n);
    assert_int_equal(verify_edited_consistency(f, buf, len, m, older, newer),
                     SCITT_ERR_PROOF_MISMATCH);
    /* a newer-only (right) sibling zeroed: R_m still matches, the signature fails */
    uint8_t h2[64][32];
    memcpy(h2, hashes, sizeof(h2));
    size_t right = n;
    for (size_t i = 0; i < n && right == n; i++) {
        right = left[i] ? n : i;
    }
    memset(h2[right], 0, 32);
    len = hand_proof(buf, sizeof(buf), anchor, left, (const uint8_t(*)[32])h2, n);
    assert_int_equal(verify_edited_consistency(f, buf, len, m, older, newer), SCITT_ERR_SIGNATURE);
    /* last element dropped / an extra right sibling: the newer root changes */
    len = hand_proof(buf, sizeof(buf), anchor, left, (const uint8_t(*)[32])hashes, n - 1);
    assert_int_not_equal(verify_edited_consistency(f, buf, len, m, older, newer), SCITT_OK);
    bool l3[65];
    memcpy(l3, left, n);
    l3[n] = false;
    uint8_t h3[65][32];
    memcpy(h3, hashes, n * 32);
    memset(h3[n], 7, 32);
    len = hand_proof(buf, sizeof(buf), anchor, l3, (const uint8_t(*)[32])h3, n + 1);
    assert_int_equal(verify_edited_consistency(f, buf, len, m, older, newer), SCITT_ERR_SIGNATURE);

    /* 8 -> 12 with the anchor [4,8) and [0,4) as a left sibling: folds to R_8 and R_12, but the
     * anchor of a proof from 8 must be R_8: refused when the size is known */
    ccf_tree t12;
    fill_tree(&t12, 12);
    uint8_t a48[32], r8[32], r12[32];
    bool lnc[2] = {true, false};
    uint8_t hnc[2][32];
    ccf_mth(&t12, 4, 8, a48);
    ccf_mth(&t12, 0, 4, hnc[0]);
    ccf_mth(&t12, 8, 12, hnc[1]);
    ccf_mth(&t12, 0, 8, r8);
    ccf_mth(&t12, 0, 12, r12);
    len = hand_proof(buf, sizeof(buf), a48, lnc, (const uint8_t(*)[32])hnc, 2);
    assert_int_equal(verify_edited_consistency(f, buf, len, 8, r8, r12), SCITT_ERR_PROOF_MISMATCH);
    assert_int_equal(verify_edited_consistency(f, buf, len, 0, r8, r12), SCITT_OK);

    /* shapes the CDDL refuses (ccf-consistency-proof is a closed map) */
    static const struct {
        const char *what, *hex;
    } bad[] = {
        {"anchor 31 bytes",
         "a201581f00000000000000000000000000000000000000000000000000000000000000028182f458"
         "200000000000000000000000000000000000000000000000000000000000000000"},
        {"anchor 33 bytes",
         "a2015821000000000000000000000000000000000000000000000000000000000000000000028182"
         "f458200000000000000000000000000000000000000000000000000000000000000000"},
        {"text anchor",
         "a20178206161616161616161616161616161616161616161616161616161616161616161028182f4"
         "58200000000000000000000000000000000000000000000000000000000000000000"},
        {"only the anchor",
         "a10158200000000000000000000000000000000000000000000000000000000000000000"},
        {"only the path",
         "a1028182f458200000000000000000000000000000000000000000000000000000000000000000"},
        {"empty path",
         "a201582000000000000000000000000000000000000000000000000000000000000000000280"},
        {"unknown key 3",
         "a30158200000000000000000000000000000000000000000000000000000000000000000028182f4"
         "582000000000000000000000000000000000000000000000000000000000000000000301"},
        {"text keys",
         "a266616e63686f725820000000000000000000000000000000000000000000000000000000000000"
         "000064706174688182f4582000000000000000000000000000000000000000000000000000000000"
         "00000000"},
        {"element of three items",
         "a20158200000000000000000000000000000000000000000000000000000000000000000028183f4"
         "5820000000000000000000000000000000000000000000000000000000000000000001"},
        {"element as a map",
         "a201582000000000000000000000000000000000000000000000000000000000000000000281a1f4"
         "58200000000000000000000000000000000000000000000000000000000000000000"},
        {"left not a bool",
         "a2015820000000000000000000000000000000000000000000000000000000000000000002818200"
         "58200000000000000000000000000000000000000000000000000000000000000000"},
        {"element hash 33 bytes",
         "a20158200000000000000000000000000000000000000000000000000000000000000000028182f4"
         "5821000000000000000000000000000000000000000000000000000000000000000000"},
        {"path before anchor",
         "a2028182f45820000000000000000000000000000000000000000000000000000000000000000001"
         "58200000000000000000000000000000000000000000000000000000000000000000"},
        {"an array, not a map",
         "82582000000000000000000000000000000000000000000000000000000000000000008182f45820"
         "0000000000000000000000000000000000000000000000000000000000000000"},
        {"wrapped twice",
         "584aa201582000000000000000000000000000000000000000000000000000000000000000000281"
         "82f458200000000000000000000000000000000000000000000000000000000000000000"},
        {"trailing byte",
         "a20158200000000000000000000000000000000000000000000000000000000000000000028182f4"
         "5820000000000000000000000000000000000000000000000000000000000000000000"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t raw[256];
        size_t rl = 0;
        assert_int_equal(scitt_hex_decode(scitt_span_str(bad[i].hex), raw, sizeof(raw), &rl),
                         SCITT_OK);
        uint8_t o[32], w[32];
        scitt_err e = scitt__ccf_consistency_roots(scitt_span_make(raw, rl), 0, o, w);
        if (e != SCITT_ERR_PROOF_MALFORMED) {
            fail_msg("%s: %s", bad[i].what, scitt_err_str(e));
        }
    }

    /* an attached root is refused (the profile requires it detached) */
    scitt_dynbuf rb;
    scitt_dynbuf_init(&rb, 0);
    len = hand_proof(buf, sizeof(buf), anchor, left, (const uint8_t(*)[32])hashes, n);
    assert_int_equal(ccf_receipt_vdp(f->key, -2, scitt_span_make(buf, len), newer, true, &rb),
                     SCITT_OK);
    assert_int_equal(scitt_receipt_verify_consistency(scitt_span_make(rb.ptr, rb.len), m, older,
                                                      f->keys, 0, NULL),
                     SCITT_ERR_PROOF_MALFORMED);
    scitt_dynbuf_clear(&rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_leaves_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_tree_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consistency_all_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consistency_mutations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
