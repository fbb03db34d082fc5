/*
 * Transparent statements (receipts embedded at 394, extracted, verified by kid against a key
 * set), the RFC 9942 rules a receipt must follow (a table of hand-built receipts, one broken rule
 * per row), and the receipts, transparent statement and consistency receipts that the independent
 * harness made with @transmute/cose (interop/fixtures/js), verified with our code.
 */
#include "cose_testutil.h"
#include "memtree.h"

#include "scitt/limits.h"

static const char *ISS = "https://scitt.example/service";
static const char *SUB = "scitt.example/log";

/* A one-entry log for @p stmt and its inclusion receipt signed by @p key. */
static scitt_span one_entry_receipt(const scitt_cose_key *key, scitt_span stmt, uint8_t *buf,
                                    size_t cap)
{
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    assert_int_equal(scitt_cose_sign1_decode(stmt, 0, m), SCITT_OK);
    uint8_t leaf[32];
    scitt_receipt_leaf_hash(m, leaf);
    free(m);
    /* A tree of three: two other leaves around ours, so the proof is not empty. */
    memtree t;
    memtree_init(&t);
    uint8_t other[32] = {1};
    assert_int_equal(memtree_append(&t, other), SCITT_OK);
    assert_int_equal(memtree_append(&t, leaf), SCITT_OK);
    assert_int_equal(memtree_append(&t, other), SCITT_OK);
    scitt_merkle_source src = memtree_source(&t);
    uint8_t root[32], path[SCITT_LIMIT_PROOF_HASHES][32];
    size_t n;
    assert_int_equal(scitt_merkle_range_root(&src, 0, 3, root), SCITT_OK);
    assert_int_equal(scitt_merkle_inclusion_proof(&src, 1, 3, path, &n), SCITT_OK);
    scitt_receipt_head h;
    assert_int_equal(
        scitt_receipt_head_sign(key, scitt_span_str(ISS), scitt_span_str(SUB), 1, 3, root, &h),
        SCITT_OK);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    assert_int_equal(scitt_receipt_encode_inclusion(&h, 1, (const uint8_t(*)[32])path, n, &w),
                     SCITT_OK);
    memtree_free(&t);
    return scitt_span_make(buf, w.len);
}

static void test_embed_and_verify(void **state)
{
    (void)state;
    scitt_cose_key *issuer = NULL, *ts1 = NULL, *ts2 = NULL;
    assert_int_equal(scitt_cose_key_generate(0, &issuer), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(0, &ts1), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_EDDSA, &ts2), SCITT_OK);
    scitt_dynbuf sb;
    scitt_dynbuf_init(&sb, 0);
    /* The statement already has unprotected parameters: {-70000: "aphorism", 33: h'01'}. */
    scitt_span stmt = tc_statement(issuer, "{\"sbom\": 1}", "https://issuer.example", "pkg:x",
                                   false, "a2182141013a0001116f686170686f7269736d", &sb);
    uint8_t r1[2048], r2[2048];
    scitt_span rec[2] = {one_entry_receipt(ts1, stmt, r1, sizeof(r1)),
                         one_entry_receipt(ts2, stmt, r2, sizeof(r2))};
    scitt_dynbuf tb;
    scitt_dynbuf_init(&tb, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &tb);
    assert_int_equal(scitt_receipt_embed(stmt, rec, 2, &w), SCITT_OK);
    scitt_span ts = scitt_span_make(tb.ptr, tb.len);

    scitt_cose_key *both[2] = {ts1, ts2};
    scitt_cose_keyset *all = tc_keyset(both, 2), *only1 = tc_keyset(&ts1, 1);
    scitt_ts_result res;
    assert_int_equal(scitt_receipt_verify_transparent(ts, all, SCITT_RECEIPT_REQUIRE_SUB, &res),
                     SCITT_OK);
    assert_int_equal(res.nreceipts, 2);
    assert_int_equal(res.nverified, 2);
    assert_int_equal(res.info[0].alg, SCITT_COSE_ALG_ES256);
    assert_int_equal(res.info[1].alg, SCITT_COSE_ALG_ED25519); /* RFC 9864 */
    assert_int_equal(res.info[1].leaf_index, 1);
    /* One service we do not trust: all receipts must verify, unless one is enough. */
    assert_int_equal(scitt_receipt_verify_transparent(ts, only1, 0, &res), SCITT_ERR_UNTRUSTED);
    assert_int_equal(res.nverified, 1);
    assert_int_equal(res.err[1], SCITT_ERR_UNTRUSTED);
    assert_int_equal(scitt_receipt_verify_transparent(ts, only1, SCITT_TS_ANY, NULL), SCITT_OK);

    /* The issuer signature still verifies; the other unprotected parameters are kept, sorted. */
    scitt_cose_sign1 *m = malloc(sizeof(*m)), *orig = malloc(sizeof(*orig));
    assert_int_equal(scitt_cose_sign1_decode(ts, 0, m), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_decode(stmt, 0, orig), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_verify(m, issuer, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    /* Verified on the decoded message, the receipts give the same outcomes. */
    assert_int_equal(scitt_receipt_verify_transparent_msg(m, all, SCITT_RECEIPT_REQUIRE_SUB, &res),
                     SCITT_OK);
    assert_int_equal(res.nverified, 2);
    assert_int_equal(res.info[1].leaf_index, 1);
    assert_int_equal(scitt_receipt_verify_transparent_msg(m, only1, 0, &res), SCITT_ERR_UNTRUSTED);
    assert_int_equal(res.err[1], SCITT_ERR_UNTRUSTED);
    assert_int_equal(scitt_receipt_verify_transparent_msg(m, only1, SCITT_TS_ANY, NULL), SCITT_OK);
    assert_int_equal(scitt_receipt_verify_transparent_msg(orig, all, 0, &res), SCITT_ERR_HEADER);
    assert_int_equal(res.nreceipts, 0);
    assert_int_equal(m->hdr.nreceipts, 2);
    assert_true(scitt_span_eq(m->hdr.receipts[0], rec[0]));
    assert_non_null(scitt_cose_headers_find(&m->hdr, -70000));
    assert_int_equal(m->hdr.nx5chain, 1);
    assert_int_equal(scitt_cbor_validate(m->unprotected_item), SCITT_OK);
    static const uint8_t sorted[] = {0xa3, 0x18, 0x21}; /* 33 first, then 394, then -70000 */
    assert_memory_equal(m->unprotected_item.ptr, sorted, 3);
    /* Same registered form, same leaf. */
    uint8_t l1[32], l2[32];
    scitt_receipt_leaf_hash(m, l1);
    scitt_receipt_leaf_hash(orig, l2);
    assert_memory_equal(l1, l2, 32);

    /* Extraction hands back exactly the embedded receipts, in order. */
    scitt_span got[SCITT_LIMIT_RECEIPTS];
    size_t ngot;
    assert_int_equal(scitt_receipt_extract(ts, got, &ngot), SCITT_OK);
    assert_int_equal(ngot, 2);
    assert_true(scitt_span_eq(got[0], rec[0]));
    assert_true(scitt_span_eq(got[1], rec[1]));
    assert_int_equal(scitt_receipt_extract(stmt, got, &ngot), SCITT_OK);
    assert_int_equal(ngot, 0);

    /* Embedding again replaces the receipts. */
    scitt_dynbuf tb2;
    scitt_dynbuf_init(&tb2, 0);
    scitt_cbor_writer_init_dynbuf(&w, &tb2);
    assert_int_equal(scitt_receipt_embed(ts, rec + 1, 1, &w), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(tb2.ptr, tb2.len), 0, m), SCITT_OK);
    assert_int_equal(m->hdr.nreceipts, 1);
    assert_true(scitt_span_eq(m->hdr.receipts[0], rec[1]));

    /* A flipped byte in an embedded receipt fails that receipt. */
    uint8_t *mut = malloc(ts.len);
    memcpy(mut, ts.ptr, ts.len);
    assert_int_equal(scitt_cose_sign1_decode(ts, 0, m), SCITT_OK);
    size_t sig_end = (size_t)(m->hdr.receipts[1].ptr - ts.ptr) + m->hdr.receipts[1].len - 1;
    mut[sig_end] ^= 1; /* last byte of the second receipt's signature */
    assert_int_equal(scitt_receipt_verify_transparent(scitt_span_make(mut, ts.len), all, 0, &res),
                     SCITT_ERR_SIGNATURE);
    assert_int_equal(res.err[0], SCITT_OK);
    /* A statement without receipts, and bad receipts refused at embedding. */
    assert_int_equal(scitt_receipt_verify_transparent(stmt, all, 0, NULL), SCITT_ERR_HEADER);
    scitt_cbor_writer_init_dynbuf(&w, &tb2);
    scitt_span junk = scitt_span_make("\x84\x40\xa0\xf6\x40", 5); /* untagged */
    assert_int_equal(scitt_receipt_embed(stmt, &junk, 1, &w), SCITT_ERR_BAD_TAG);
    assert_int_equal(scitt_receipt_embed(stmt, rec, 0, &w), SCITT_ERR_INVALID_ARG);
    free(mut);
    free(m);
    free(orig);
    scitt_dynbuf_clear(&tb2);
    scitt_dynbuf_clear(&tb);
    scitt_dynbuf_clear(&sb);
    scitt_cose_keyset_free(all);
    scitt_cose_keyset_free(only1);
    scitt_cose_key_free(issuer);
    scitt_cose_key_free(ts1);
    scitt_cose_key_free(ts2);
}

/* ------------------------------------------------------------------------------------------ */
/* Hand-built receipts, one rule broken per row                                                */

static scitt_cose_key *svc;
static uint8_t leaf[32], root[32], sibling[32];

typedef struct {
    const char *why;
    scitt_err want;
    bool tagged;
    int vds;         /* 0 = absent */
    bool vds_unprot; /* put vds in the unprotected bucket */
    bool kid;        /* protected kid */
    const char *vdp; /* hex of the unprotected 396 value, NULL = absent; "P" = the good proof */
    int payload;     /* 0 nil, 1 the right root, 2 a wrong root */
    const char *extra_unprot; /* hex of one more unprotected pair */
    unsigned flags;
} rule_row;

/* bstr .cbor [2, 0, [sibling]] for leaf 0 of a 2-leaf tree. */
static void good_proof(scitt_cbor_writer *w)
{
    scitt_cbor_put_map(w, 1);
    scitt_cbor_put_int(w, -1);
    scitt_cbor_put_array(w, 1);
    scitt_cbor_open_bytes(w);
    scitt_cbor_put_array(w, 3);
    scitt_cbor_put_uint(w, 2);
    scitt_cbor_put_uint(w, 0);
    scitt_cbor_put_array(w, 1);
    scitt_cbor_put_bytes(w, scitt_span_make(sibling, 32));
    scitt_cbor_close_bytes(w);
}

static scitt_span build(const rule_row *row, uint8_t *buf, size_t cap)
{
    uint8_t prot[256];
    scitt_cbor_writer pw;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    size_t n = 1u + (row->kid ? 1u : 0u) + (row->vds && !row->vds_unprot ? 1u : 0u);
    scitt_cbor_put_map(&pw, n);
    scitt_cbor_put_uint(&pw, 1);
    scitt_cbor_put_int(&pw, SCITT_COSE_ALG_ES256);
    if (row->kid) {
        scitt_cbor_put_uint(&pw, 4);
        scitt_cbor_put_bytes(&pw, scitt_cose_key_kid(svc));
    }
    if (row->vds && !row->vds_unprot) {
        scitt_cbor_put_uint(&pw, 395);
        scitt_cbor_put_int(&pw, row->vds);
    }
    uint8_t sig[64];
    size_t sl;
    assert_int_equal(scitt_cose_signature_create(svc, SCITT_COSE_ALG_ES256,
                                                 scitt_span_make(prot, pw.len),
                                                 scitt_span_make(NULL, 0),
                                                 scitt_span_make(root, 32), sig, sizeof(sig), &sl),
                     SCITT_OK);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    if (row->tagged) {
        scitt_cbor_put_tag(&w, 18);
    }
    scitt_cbor_put_array(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_span_make(prot, pw.len));
    size_t un = (row->vdp ? 1u : 0u) + (row->vds_unprot ? 1u : 0u) + (row->extra_unprot ? 1u : 0u);
    scitt_cbor_put_map(&w, un);
    if (row->vdp) {
        scitt_cbor_put_uint(&w, 396);
        if (!strcmp(row->vdp, "P")) {
            good_proof(&w);
        } else {
            size_t hl;
            uint8_t *h = tu_hex(row->vdp, &hl);
            scitt_cbor_put_raw(&w, scitt_span_make(h, hl));
            free(h);
        }
    }
    if (row->vds_unprot) {
        scitt_cbor_put_uint(&w, 395);
        scitt_cbor_put_int(&w, row->vds);
    }
    if (row->extra_unprot) {
        size_t hl;
        uint8_t *h = tu_hex(row->extra_unprot, &hl);
        scitt_cbor_put_raw(&w, scitt_span_make(h, hl));
        free(h);
    }
    if (row->payload == 0) {
        scitt_cbor_put_null(&w);
    } else {
        uint8_t p[32];
        memcpy(p, root, 32);
        p[0] ^= row->payload == 2 ? 1 : 0;
        scitt_cbor_put_bytes(&w, scitt_span_make(p, 32));
    }
    scitt_cbor_put_bytes(&w, scitt_span_make(sig, sl));
    assert_int_equal(w.err, SCITT_OK);
    return scitt_span_make(buf, w.len);
}

static const rule_row rule_rows[] = {
    {"a good receipt", SCITT_OK, true, 1, false, true, "P", 0, NULL, 0},
    {"attached root equal to the computed one", SCITT_OK, true, 1, false, true, "P", 1, NULL, 0},
    {"attached root that differs", SCITT_ERR_PROOF_MISMATCH, true, 1, false, true, "P", 2, NULL, 0},
    {"untagged", SCITT_ERR_BAD_TAG, false, 1, false, true, "P", 0, NULL, 0},
    {"no vds", SCITT_ERR_HEADER, true, 0, false, true, "P", 0, NULL, 0},
    {"vds unprotected", SCITT_ERR_HEADER, true, 1, true, true, "P", 0, NULL, 0},
    {"vds 2 (CCF) with an RFC 9162 proof", SCITT_ERR_PROOF_MALFORMED, true, 2, false, true, "P", 0,
     NULL, 0},
    {"vds 99", SCITT_ERR_UNSUPPORTED, true, 99, false, true, "P", 0, NULL, 0},
    {"no vdp", SCITT_ERR_HEADER, true, 1, false, true, NULL, 0, NULL, 0},
    {"vdp without -1", SCITT_ERR_HEADER, true, 1, false, true, "a0", 0, NULL, 0},
    {"vdp with proof type -3", SCITT_ERR_UNSUPPORTED, true, 1, false, true, "a12281 4100", 0, NULL,
     0},
    {"proofs not in an array", SCITT_ERR_HEADER, true, 1, false, true, "a1204100", 0, NULL, 0},
    {"proof array empty", SCITT_ERR_PROOF_MALFORMED, true, 1, false, true, "a12080", 0, NULL, 0},
    {"proof not a bstr", SCITT_ERR_HEADER, true, 1, false, true, "a1208183020080", 0, NULL, 0},
    {"proof [2, 0]", SCITT_ERR_PROOF_MALFORMED, true, 1, false, true, "a12081438202 00", 0, NULL,
     0},
    {"proof with a text size", SCITT_ERR_PROOF_MALFORMED, true, 1, false, true,
     "a120814583613200 80", 0, NULL, 0},
    {"index == size", SCITT_ERR_PROOF_MALFORMED, true, 1, false, true, "a120814483020280", 0, NULL,
     0},
    {"path too short for (0, 2)", SCITT_ERR_PROOF_MALFORMED, true, 1, false, true,
     "a120814483020080", 0, NULL, 0},
    {"proof with a trailing byte", SCITT_ERR_TRAILING, true, 1, false, true, "a1208145830200 8000",
     0, NULL, 0},
    {"unsigned tree_size", SCITT_ERR_HEADER, true, 1, false, true, "P", 0, "69747265655f73697a6502",
     0},
    {"no kid and one trusted key", SCITT_OK, true, 1, false, false, "P", 0, NULL, 0},
    {"sub required but absent", SCITT_ERR_HEADER, true, 1, false, true, "P", 0, NULL,
     SCITT_RECEIPT_REQUIRE_SUB},
    {"size required but absent", SCITT_ERR_HEADER, true, 1, false, true, "P", 0, NULL,
     SCITT_RECEIPT_REQUIRE_SIZE},
    {"unsigned -65537 tree size", SCITT_ERR_HEADER, true, 1, false, true, "P", 0, "3a0001000002",
     0},
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

static void test_receipt_rules(void **state)
{
    (void)state;
    assert_int_equal(scitt_cose_key_generate(0, &svc), SCITT_OK);
    scitt_merkle_leaf_hash(scitt_span_str("entry"), leaf);
    scitt_merkle_leaf_hash(scitt_span_str("other"), sibling);
    scitt_merkle_node_hash(leaf, sibling, root);
    scitt_cose_keyset *keys = tc_keyset(&svc, 1);
    for (size_t i = 0; i < sizeof(rule_rows) / sizeof(rule_rows[0]); i++) {
        rule_row row = rule_rows[i];
        char *vdp = row.vdp ? squeeze(row.vdp) : NULL;
        char *extra = row.extra_unprot ? squeeze(row.extra_unprot) : NULL;
        row.vdp = vdp;
        row.extra_unprot = extra;
        uint8_t buf[1024];
        scitt_span r = build(&row, buf, sizeof(buf));
        scitt_err e =
            scitt_receipt_verify_inclusion(r, scitt_span_str("entry"), keys, row.flags, NULL);
        if (e != row.want) {
            fail_msg("row %zu (%s): got %s, want %s", i, row.why, scitt_err_name(e),
                     scitt_err_name(row.want));
        }
        free(vdp);
        free(extra);
    }
    /* Without a kid, two trusted keys are ambiguous. */
    scitt_cose_key *second = NULL;
    assert_int_equal(scitt_cose_key_generate(0, &second), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_add(keys, second), SCITT_OK);
    rule_row nokid = rule_rows[20];
    uint8_t buf[1024];
    assert_int_equal(scitt_receipt_verify_inclusion(build(&nokid, buf, sizeof(buf)),
                                                    scitt_span_str("entry"), keys, 0, NULL),
                     SCITT_ERR_UNTRUSTED);
    scitt_cose_key_free(second);
    scitt_cose_keyset_free(keys);
    scitt_cose_key_free(svc);
}

/* ------------------------------------------------------------------------------------------ */
/* The harness's fixtures, made with @transmute/cose                                           */

static uint8_t *fixture(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "interop/fixtures/js/%s", name);
    return tu_read_file(tu_shared(rel), len);
}

static void fixture_hash(const char *name, uint8_t out[32])
{
    size_t n, got;
    char *hex = (char *)fixture(name, &n);
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r')) {
        n--;
    }
    assert_int_equal(scitt_hex_decode(scitt_span_make(hex, n), out, 32, &got), SCITT_OK);
    assert_int_equal(got, 32);
    free(hex);
}

static void test_transmute_fixtures(void **state)
{
    (void)state;
    size_t n, el, rl, tl;
    uint8_t *jwks = fixture("services.jwks.json", &n);
    scitt_cose_keyset *keys = NULL;
    assert_int_equal(scitt_cose_keyset_from_jwks(scitt_span_make(jwks, n), &keys), SCITT_OK);
    uint8_t root_old[32], root_new[32], root4[32];
    fixture_hash("root-old.hex", root_old);
    fixture_hash("root-new.hex", root_new);
    fixture_hash("root-4.hex", root4);

    uint8_t *entry = fixture("entries/0004.cbor", &el);
    static const char *receipts[] = {"receipt.cbor", "receipt-ed25519.cbor"};
    for (size_t i = 0; i < 2; i++) {
        uint8_t *r = fixture(receipts[i], &rl);
        scitt_receipt_info info;
        assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(r, rl),
                                                        scitt_span_make(entry, el), keys, 0, &info),
                         SCITT_OK);
        assert_int_equal(info.tree_size, 6);
        assert_int_equal(info.leaf_index, 4);
        assert_memory_equal(info.root, root_old, 32);
        assert_false(info.size_signed); /* other logs do not sign the size */
        /* Their entry is the registered form of their statement, as ours is. */
        size_t sl;
        uint8_t *stmt = fixture("statement.cbor", &sl);
        scitt_cose_sign1 *m = malloc(sizeof(*m));
        assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(stmt, sl), 0, m), SCITT_OK);
        assert_int_equal(scitt_receipt_entry_len(m), el);
        uint8_t ourleaf[32], theirleaf[32];
        scitt_receipt_leaf_hash(m, ourleaf);
        scitt_merkle_leaf_hash(scitt_span_make(entry, el), theirleaf);
        assert_memory_equal(ourleaf, theirleaf, 32);
        /* and the issuer signature verifies with the issuer's JWK */
        size_t il;
        uint8_t *ij = fixture("issuer.jwk.json", &il);
        scitt_cose_key *issuer = NULL;
        assert_int_equal(scitt_cose_key_from_jwk(scitt_span_make(ij, il), &issuer), SCITT_OK);
        assert_int_equal(scitt_cose_sign1_verify(m, issuer, scitt_span_make(NULL, 0), NULL),
                         SCITT_OK);
        scitt_cose_key_free(issuer);
        free(ij);
        free(m);
        free(stmt);
        free(r);
    }
    uint8_t *ts = fixture("transparent-statement.cbor", &tl);
    scitt_ts_result res;
    assert_int_equal(scitt_receipt_verify_transparent(scitt_span_make(ts, tl), keys, 0, &res),
                     SCITT_OK);
    assert_int_equal(res.nverified, 2);
    free(ts);

    const struct {
        const char *file;
        uint64_t old_size;
        const uint8_t *old_root;
        scitt_err want;
    } cons[] = {
        {"consistency-receipt.cbor", 6, root_old, SCITT_OK},
        {"consistency-receipt-4-11-rfc9162.cbor", 4, root4, SCITT_OK},
        /* the library's own form repeats the old root of a power-of-two size: not RFC 9162 */
        {"consistency-receipt-4-11-libform.cbor", 4, root4, SCITT_ERR_PROOF_MALFORMED},
    };
    for (size_t i = 0; i < 3; i++) {
        uint8_t *r = fixture(cons[i].file, &rl);
        scitt_receipt_info info;
        assert_int_equal(scitt_receipt_verify_consistency(scitt_span_make(r, rl), cons[i].old_size,
                                                          cons[i].old_root, keys, 0, &info),
                         cons[i].want);
        if (cons[i].want == SCITT_OK) {
            assert_int_equal(info.tree_size, 11);
            assert_memory_equal(info.root, root_new, 32);
        }
        free(r);
    }
    /* RFC 8746 typed arrays (tag 64) where a bstr belongs are refused. */
    uint8_t *neg = fixture("negative/receipt-kid-tag64.cbor", &rl);
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(neg, rl),
                                                    scitt_span_make(entry, el), keys, 0, NULL),
                     SCITT_ERR_HEADER);
    free(neg);
    neg = fixture("negative/transparent-statement-receipt-tag64.cbor", &rl);
    assert_int_equal(scitt_receipt_verify_transparent(scitt_span_make(neg, rl), keys, 0, NULL),
                     SCITT_ERR_HEADER);
    free(neg);
    free(entry);
    scitt_cose_keyset_free(keys);
    free(jwks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_and_verify),
        cmocka_unit_test(test_receipt_rules),
        cmocka_unit_test(test_transmute_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
