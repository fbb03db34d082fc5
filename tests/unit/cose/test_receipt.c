/*
 * RFC 9942 receipts: the registered form, once-per-tree-head signing, inclusion receipts for
 * every leaf of every tree size up to N, consistency receipts for every pair of sizes, the signed
 * tree size, mutation matrices, and the RFC 9942 example receipts against their .diag files.
 */
#include "cose_testutil.h"
#include "memtree.h"

#include "cose_internal.h" /* the keyset memo, looked at from inside */

#include "scitt/limits.h"

#define N 11

static scitt_cose_key *issuer, *service;
static scitt_cose_keyset *trusted;
static uint8_t *stmt[N];
static size_t stmt_len[N];
static uint8_t *entry[N];
static size_t entry_len[N];
static uint8_t leaves[N][SCITT_HASH_LEN];
static uint8_t roots[N + 1][SCITT_HASH_LEN];
static memtree tree;
static scitt_merkle_source src;

static const char *ISS = "https://scitt.example/service";
static const char *SUB = "scitt.example/log";

static int setup(void **state)
{
    (void)state;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &issuer), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(0, &service), SCITT_OK);
    trusted = tc_keyset(&service, 1);
    memtree_init(&tree);
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    for (size_t i = 0; i < N; i++) {
        char payload[64];
        snprintf(payload, sizeof(payload), "{\"statement\": %zu}", i);
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        /* Some statements carry unprotected parameters, which the registered form drops. */
        tc_statement(issuer, payload, "https://issuer.example", "pkg:example/a", false,
                     i % 3 ? NULL : "a13a0001116f686170686f7269736d", &b);
        stmt[i] = scitt_dynbuf_steal(&b, &stmt_len[i]);
        assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(stmt[i], stmt_len[i]), 0, m),
                         SCITT_OK);
        entry_len[i] = scitt_receipt_entry_len(m);
        entry[i] = malloc(entry_len[i]);
        scitt_cbor_writer w;
        scitt_cbor_writer_init(&w, entry[i], entry_len[i]);
        assert_int_equal(scitt_receipt_entry(m, &w), SCITT_OK);
        assert_int_equal(w.len, entry_len[i]);
        scitt_receipt_leaf_hash(m, leaves[i]);
        assert_int_equal(memtree_append(&tree, leaves[i]), SCITT_OK);
    }
    free(m);
    src = memtree_source(&tree);
    for (uint64_t s = 1; s <= N; s++) {
        assert_int_equal(scitt_merkle_range_root(&src, 0, s, roots[s]), SCITT_OK);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++) {
        free(stmt[i]);
        free(entry[i]);
    }
    memtree_free(&tree);
    scitt_cose_keyset_free(trusted);
    scitt_cose_key_free(issuer);
    scitt_cose_key_free(service);
    return 0;
}

static void test_registered_form(void **state)
{
    (void)state;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    /* Statement 0 has an unprotected header: the entry is the byte splice with a0 in its place. */
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(stmt[0], stmt_len[0]), 0, m),
                     SCITT_OK);
    assert_true(m->unprotected_item.len > 1);
    scitt_dynbuf want;
    scitt_dynbuf_init(&want, 0);
    scitt_dynbuf_put(&want, "\xd2\x84", 2);
    scitt_dynbuf_put(&want, m->protected_item.ptr, m->protected_item.len);
    scitt_dynbuf_u8(&want, 0xa0);
    scitt_dynbuf_put(&want, m->payload_item.ptr, m->payload_item.len);
    scitt_dynbuf_put(&want, m->signature_item.ptr, m->signature_item.len);
    assert_int_equal(entry_len[0], want.len);
    assert_memory_equal(entry[0], want.ptr, want.len);
    /* The leaf is SHA-256(0x00 || entry), and the entry digest SHA-256(entry). */
    uint8_t leaf[32], digest[32], direct[32];
    scitt_merkle_leaf_hash(scitt_span_make(want.ptr, want.len), leaf);
    assert_memory_equal(leaf, leaves[0], 32);
    scitt_receipt_entry_digest(m, digest);
    scitt_sha256(want.ptr, want.len, direct);
    assert_memory_equal(digest, direct, 32);
    /* The issuer signature still verifies on the registered form. */
    scitt_cose_sign1 *r = malloc(sizeof(*r));
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(want.ptr, want.len), 0, r), SCITT_OK);
    assert_int_equal(r->unprotected_item.len, 1);
    assert_int_equal(scitt_cose_sign1_verify(r, issuer, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    /* An untagged statement still registers in the tagged form. */
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(stmt[1] + 1, stmt_len[1] - 1),
                                             SCITT_SIGN1_UNTAGGED, m),
                     SCITT_OK);
    uint8_t leaf1[32];
    scitt_receipt_leaf_hash(m, leaf1);
    assert_memory_equal(leaf1, leaves[1], 32);
    scitt_dynbuf_clear(&want);
    free(r);
    free(m);
}

static scitt_span inclusion_receipt(const scitt_receipt_head *h, uint64_t index, uint8_t *buf,
                                    size_t cap)
{
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    size_t n;
    assert_int_equal(scitt_merkle_inclusion_proof(&src, index, h->tree_size, path, &n), SCITT_OK);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    assert_int_equal(scitt_receipt_encode_inclusion(h, index, (const uint8_t(*)[32])path, n, &w),
                     SCITT_OK);
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    return out;
}

static void test_inclusion_every_leaf(void **state)
{
    (void)state;
    for (uint64_t size = 1; size <= N; size++) {
        scitt_receipt_head h;
        assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB),
                                                 1767225600 + (int64_t)size, size, roots[size], &h),
                         SCITT_OK);
        if (size == 1) {
            /* The one-leaf tree's path is empty; RFC 9942 writes [+ bstr]: no receipt. */
            uint8_t buf[512];
            scitt_cbor_writer w;
            scitt_cbor_writer_init(&w, buf, sizeof(buf));
            assert_int_equal(scitt_receipt_encode_inclusion(&h, 0, NULL, 0, &w),
                             SCITT_ERR_NOT_FOUND);
            continue;
        }
        for (uint64_t i = 0; i < size; i++) {
            uint8_t buf[4096];
            scitt_span r = inclusion_receipt(&h, i, buf, sizeof(buf));
            scitt_receipt_info info;
            assert_int_equal(scitt_receipt_verify_inclusion(
                                 r, scitt_span_make(entry[i], entry_len[i]), trusted,
                                 SCITT_RECEIPT_REQUIRE_SUB | SCITT_RECEIPT_REQUIRE_SIZE, &info),
                             SCITT_OK);
            assert_int_equal(info.tree_size, size);
            assert_int_equal(info.leaf_index, i);
            assert_memory_equal(info.root, roots[size], 32);
            assert_true(info.size_signed);
            assert_int_equal(info.vds, SCITT_VDS_RFC9162_SHA256);
            assert_int_equal(info.alg, SCITT_COSE_ALG_ES256);
            assert_true(scitt_span_eq_str(info.iss, ISS));
            assert_true(scitt_span_eq_str(info.sub, SUB));
            assert_true(info.has_iat);
            assert_int_equal(info.iat, 1767225600 + (int64_t)size);
            assert_true(scitt_span_eq(info.kid, scitt_cose_key_kid(service)));
            assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[i], trusted, 0, NULL),
                             SCITT_OK);
            /* Another statement's entry folds to another root: the signature then fails. */
            size_t other = (i + 1) % N;
            assert_int_equal(
                scitt_receipt_verify_inclusion(r, scitt_span_make(entry[other], entry_len[other]),
                                               trusted, 0, NULL),
                SCITT_ERR_SIGNATURE);
        }
        /* Proofs that do not fit the head are refused at issuance. */
        uint8_t path[1][SCITT_HASH_LEN] = {{0}};
        scitt_cbor_writer w;
        uint8_t buf[512];
        scitt_cbor_writer_init(&w, buf, sizeof(buf));
        assert_int_equal(
            scitt_receipt_encode_inclusion(&h, size, (const uint8_t(*)[32])path, 1, &w),
            SCITT_ERR_PROOF_MALFORMED);
    }
}

/* Counts allocations made through the library's hooks. */
static size_t allocations;
static void *count_alloc(void *c, size_t n)
{
    (void)c;
    allocations++;
    return malloc(n);
}
static void *count_realloc(void *c, void *p, size_t n)
{
    (void)c;
    allocations++;
    return realloc(p, n);
}
static void count_free(void *c, void *p)
{
    (void)c;
    free(p);
}

static void test_signature_shared_per_tree_head(void **state)
{
    (void)state;
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 7,
                                             N, roots[N], &h),
                     SCITT_OK);
    uint8_t a[4096], b[4096];
    scitt_allocator counting = {count_alloc, count_realloc, count_free, NULL};
    scitt_set_allocator(&counting);
    allocations = 0;
    scitt_span ra = inclusion_receipt(&h, 0, a, sizeof(a));
    scitt_span rb = inclusion_receipt(&h, 9, b, sizeof(b));
    scitt_set_allocator(NULL);
    assert_int_equal(allocations, 0); /* stamping receipts out neither signs nor allocates */
    /* Same tag, array head and protected header... */
    size_t prefix = 2 + scitt_cbor_head_len(h.protected_len) + h.protected_len;
    assert_memory_equal(ra.ptr, rb.ptr, prefix);
    /* ...and the same nil payload and signature: only the proof differs. */
    size_t suffix = 1 + scitt_cbor_head_len(h.signature_len) + h.signature_len;
    assert_memory_equal(ra.ptr + ra.len - suffix, rb.ptr + rb.len - suffix, suffix);
    assert_memory_equal(ra.ptr + ra.len - h.signature_len, h.signature, h.signature_len);
    assert_true(ra.len != rb.len || memcmp(ra.ptr, rb.ptr, ra.len) != 0);
}

static void test_tree_size_is_signed(void **state)
{
    (void)state;
    /* RFC 9162 paths do not commit to the tree size: leaf 3's path in a tree of 7 also folds to
     * the same root when read as a tree of 5, 6 or 8. */
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN], root[32];
    size_t n;
    assert_int_equal(scitt_merkle_inclusion_proof(&src, 3, 7, path, &n), SCITT_OK);
    static const uint64_t alias[] = {5, 6, 8};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(scitt_merkle_inclusion_len(3, alias[i]), n);
        assert_int_equal(scitt_merkle_inclusion_root(3, alias[i], leaves[3],
                                                     (const uint8_t(*)[32])path, n, root),
                         SCITT_OK);
        assert_memory_equal(root, roots[7], 32);
    }
    /* Our receipts sign the size, so a receipt whose proof claims another size is refused... */
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 1,
                                             7, roots[7], &h),
                     SCITT_OK);
    for (size_t i = 0; i < 3; i++) {
        scitt_receipt_head lie = h;
        lie.tree_size =
            alias[i]; /* same protected header and signature, another size in the proof */
        uint8_t buf[4096];
        scitt_cbor_writer w;
        scitt_cbor_writer_init(&w, buf, sizeof(buf));
        assert_int_equal(scitt_receipt_encode_inclusion(&lie, 3, (const uint8_t(*)[32])path, n, &w),
                         SCITT_OK);
        assert_int_equal(scitt_receipt_verify_inclusion_leaf(scitt_span_make(buf, w.len), leaves[3],
                                                             trusted, 0, NULL),
                         SCITT_ERR_PROOF_MISMATCH);
    }
    /* ...while a receipt without the label (as other logs issue) verifies at any of those sizes,
     * unless the caller requires the signed size. */
    uint8_t prot[256];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, prot, sizeof(prot));
    scitt_cbor_put_map(&w, 3);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_int(&w, SCITT_COSE_ALG_ES256);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_cose_key_kid(service));
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_VDS);
    scitt_cbor_put_uint(&w, 1);
    scitt_receipt_head bare;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 1,
                                             7, roots[7], &bare),
                     SCITT_OK);
    memcpy(bare.protected_map, prot, w.len);
    bare.protected_len = w.len;
    assert_int_equal(
        scitt_cose_signature_create(service, SCITT_COSE_ALG_ES256, scitt_span_make(prot, w.len),
                                    scitt_span_make(NULL, 0), scitt_span_make(roots[7], 32),
                                    bare.signature, sizeof(bare.signature), &bare.signature_len),
        SCITT_OK);
    for (size_t i = 0; i < 3; i++) {
        bare.tree_size = alias[i];
        uint8_t buf[4096];
        scitt_cbor_writer_init(&w, buf, sizeof(buf));
        assert_int_equal(
            scitt_receipt_encode_inclusion(&bare, 3, (const uint8_t(*)[32])path, n, &w), SCITT_OK);
        scitt_receipt_info info;
        assert_int_equal(scitt_receipt_verify_inclusion_leaf(scitt_span_make(buf, w.len), leaves[3],
                                                             trusted, 0, &info),
                         SCITT_OK);
        assert_false(info.size_signed);
        assert_int_equal(scitt_receipt_verify_inclusion_leaf(scitt_span_make(buf, w.len), leaves[3],
                                                             trusted, SCITT_RECEIPT_REQUIRE_SIZE,
                                                             NULL),
                         SCITT_ERR_HEADER);
    }
}

static void test_inclusion_mutations(void **state)
{
    (void)state;
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 5,
                                             N, roots[N], &h),
                     SCITT_OK);
    uint8_t buf[4096], mut[4097];
    scitt_span r = inclusion_receipt(&h, 5, buf, sizeof(buf));
    scitt_span e = scitt_span_make(entry[5], entry_len[5]);
    assert_int_equal(scitt_receipt_verify_inclusion(r, e, trusted, 0, NULL), SCITT_OK);
    /* Every single-bit flip of every byte is refused. */
    for (size_t i = 0; i < r.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(mut, r.ptr, r.len);
            mut[i] ^= (uint8_t)(1u << bit);
            scitt_err err =
                scitt_receipt_verify_inclusion(scitt_span_make(mut, r.len), e, trusted, 0, NULL);
            if (err == SCITT_OK) {
                fail_msg("flip of bit %d in byte %zu accepted", bit, i);
            }
        }
    }
    /* Every truncation, and one extra byte. */
    for (size_t len = 0; len < r.len; len++) {
        assert_int_not_equal(
            scitt_receipt_verify_inclusion(scitt_span_make(r.ptr, len), e, trusted, 0, NULL),
            SCITT_OK);
    }
    memcpy(mut, r.ptr, r.len);
    mut[r.len] = 0;
    assert_int_equal(
        scitt_receipt_verify_inclusion(scitt_span_make(mut, r.len + 1), e, trusted, 0, NULL),
        SCITT_ERR_TRAILING);
    /* Every flipped byte of the entry. */
    memcpy(mut, e.ptr, e.len);
    for (size_t i = 0; i < e.len; i++) {
        mut[i] ^= 0x01;
        assert_int_not_equal(
            scitt_receipt_verify_inclusion(r, scitt_span_make(mut, e.len), trusted, 0, NULL),
            SCITT_OK);
        mut[i] ^= 0x01;
    }
    /* The right receipt under a key set that lacks its kid. */
    scitt_cose_key *other = NULL;
    assert_int_equal(scitt_cose_key_generate(0, &other), SCITT_OK);
    scitt_cose_keyset *wrong = tc_keyset(&other, 1);
    assert_int_equal(scitt_receipt_verify_inclusion(r, e, wrong, 0, NULL), SCITT_ERR_UNTRUSTED);
    scitt_cose_keyset_free(wrong);
    scitt_cose_key_free(other);
}

/* The encoded proof of one inclusion or consistency: [a, b, [path...]]. */
static scitt_span encode_proof(uint64_t a, uint64_t b, const uint8_t path[][SCITT_HASH_LEN],
                               size_t n, uint8_t *buf, size_t cap)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    scitt_cbor_put_array(&w, 3);
    scitt_cbor_put_uint(&w, a);
    scitt_cbor_put_uint(&w, b);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_bytes(&w, scitt_span_make(path[i], SCITT_HASH_LEN));
    }
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    return out;
}

/* A receipt of head @p h carrying several proofs under vdp key @p kind (RFC 9942 allows more
 * than one): the shape scitt_receipt_encode_* writes, with a longer proof array. */
static scitt_span multi_receipt(const scitt_receipt_head *h, int64_t kind, const scitt_span *proofs,
                                size_t n, uint8_t *buf, size_t cap)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    scitt_cbor_put_tag(&w, SCITT_COSE_TAG_SIGN1);
    scitt_cbor_put_array(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_span_make(h->protected_map, h->protected_len));
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_VDP);
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_int(&w, kind);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_bytes(&w, proofs[i]);
    }
    scitt_cbor_put_null(&w);
    scitt_cbor_put_bytes(&w, scitt_span_make(h->signature, h->signature_len));
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    return out;
}

/*
 * A receipt with several proofs verifies only when every proof leads to the signed root of the
 * signed tree: the signature covers one root, and a proof that reaches another one (another tree
 * size, another leaf, a damaged path) must not ride along with a good one, in either order.
 */
static void test_several_proofs(void **state)
{
    (void)state;
    const uint64_t leaf = 5;
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 3,
                                             N, roots[N], &h),
                     SCITT_OK);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN], p8[SCITT_LIMIT_PROOF_HASHES][32];
    uint8_t p6[SCITT_LIMIT_PROOF_HASHES][32], bad[SCITT_LIMIT_PROOF_HASHES][32];
    size_t n, n8, n6;
    assert_int_equal(scitt_merkle_inclusion_proof(&src, leaf, N, path, &n), SCITT_OK);
    assert_int_equal(scitt_merkle_inclusion_proof(&src, leaf, 8, p8, &n8), SCITT_OK);
    assert_int_equal(scitt_merkle_inclusion_proof(&src, leaf + 1, N, p6, &n6), SCITT_OK);
    memcpy(bad, path, sizeof(path));
    bad[n - 1][7] ^= 0x10;
    uint8_t b0[1024], b1[1024], b2[1024], b3[1024];
    scitt_span good = encode_proof(N, leaf, (const uint8_t(*)[32])path, n, b0, sizeof(b0));
    struct {
        const char *why;
        scitt_span other;
    } rows[] = {
        /* a smaller tree holding the same leaf: another root and another size */
        {"proof in a tree of 8",
         encode_proof(8, leaf, (const uint8_t(*)[32])p8, n8, b1, sizeof(b1))},
        /* same size, the path of the next leaf folded over this entry */
        {"proof of another leaf",
         encode_proof(N, leaf + 1, (const uint8_t(*)[32])p6, n6, b2, sizeof(b2))},
        /* same size and index, one hash of the path damaged */
        {"damaged path", encode_proof(N, leaf, (const uint8_t(*)[32])bad, n, b3, sizeof(b3))},
    };
    scitt_span e = scitt_span_make(entry[leaf], entry_len[leaf]);
    uint8_t buf[4096];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (int order = 0; order < 2; order++) {
            scitt_span pair[2] = {order ? rows[i].other : good, order ? good : rows[i].other};
            scitt_span r = multi_receipt(&h, SCITT_VDP_INCLUSION, pair, 2, buf, sizeof(buf));
            scitt_err err = scitt_receipt_verify_inclusion(r, e, trusted, 0, NULL);
            if (err == SCITT_OK) {
                fail_msg("%s accepted beside a good proof (order %d)", rows[i].why, order);
            }
            assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[leaf], trusted, 0, NULL),
                             err);
        }
    }
    /* The same good proof twice, or three times, still verifies: several proofs are allowed. */
    scitt_span three[3] = {good, good, good};
    for (size_t k = 1; k <= 3; k++) {
        scitt_receipt_info info;
        scitt_span r = multi_receipt(&h, SCITT_VDP_INCLUSION, three, k, buf, sizeof(buf));
        assert_int_equal(scitt_receipt_verify_inclusion(r, e, trusted, 0, &info), SCITT_OK);
        assert_memory_equal(info.root, roots[N], 32);
    }
    /* An alias of the good proof (same path and root, another claimed size) is refused too. */
    uint8_t p7[SCITT_LIMIT_PROOF_HASHES][32];
    size_t n7;
    assert_int_equal(scitt_merkle_inclusion_proof(&src, 3, 7, p7, &n7), SCITT_OK);
    scitt_receipt_head h7;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 3,
                                             7, roots[7], &h7),
                     SCITT_OK);
    scitt_span alias[2] = {encode_proof(7, 3, (const uint8_t(*)[32])p7, n7, b0, sizeof(b0)),
                           encode_proof(8, 3, (const uint8_t(*)[32])p7, n7, b1, sizeof(b1))};
    scitt_span r = multi_receipt(&h7, SCITT_VDP_INCLUSION, alias, 2, buf, sizeof(buf));
    assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[3], trusted, 0, NULL),
                     SCITT_ERR_PROOF_MISMATCH);

    /* Consistency receipts: a second proof from another old size, or a damaged one. */
    const uint64_t old = 6;
    uint8_t c[SCITT_LIMIT_PROOF_HASHES][32], c5[SCITT_LIMIT_PROOF_HASHES][32];
    uint8_t cbad[SCITT_LIMIT_PROOF_HASHES][32];
    size_t nc, nc5;
    assert_int_equal(scitt_merkle_consistency_proof(&src, old, N, c, &nc), SCITT_OK);
    assert_int_equal(scitt_merkle_consistency_proof(&src, old - 1, N, c5, &nc5), SCITT_OK);
    memcpy(cbad, c, sizeof(c));
    cbad[0][0] ^= 0x01;
    scitt_span cgood = encode_proof(old, N, (const uint8_t(*)[32])c, nc, b0, sizeof(b0));
    scitt_span cother[2] = {
        encode_proof(old - 1, N, (const uint8_t(*)[32])c5, nc5, b1, sizeof(b1)),
        encode_proof(old, N, (const uint8_t(*)[32])cbad, nc, b2, sizeof(b2)),
    };
    for (size_t i = 0; i < 2; i++) {
        for (int order = 0; order < 2; order++) {
            scitt_span pair[2] = {order ? cother[i] : cgood, order ? cgood : cother[i]};
            scitt_span cr = multi_receipt(&h, SCITT_VDP_CONSISTENCY, pair, 2, buf, sizeof(buf));
            if (scitt_receipt_verify_consistency(cr, old, roots[old], trusted, 0, NULL) ==
                SCITT_OK) {
                fail_msg("consistency proof %zu accepted beside a good one (order %d)", i, order);
            }
        }
    }
    scitt_span ctwo[2] = {cgood, cgood};
    scitt_span cr = multi_receipt(&h, SCITT_VDP_CONSISTENCY, ctwo, 2, buf, sizeof(buf));
    assert_int_equal(scitt_receipt_verify_consistency(cr, old, roots[old], trusted, 0, NULL),
                     SCITT_OK);
}

/* A receipt of head @p h with one proof under vdp key @p kind and @p payload attached (RFC 9942
 * allows the root to be carried instead of left detached). */
static scitt_span attached_receipt(const scitt_receipt_head *h, int64_t kind, scitt_span proof,
                                   scitt_span payload, uint8_t *buf, size_t cap)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    scitt_cbor_put_tag(&w, SCITT_COSE_TAG_SIGN1);
    scitt_cbor_put_array(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_span_make(h->protected_map, h->protected_len));
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_VDP);
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_int(&w, kind);
    scitt_cbor_put_array(&w, 1);
    scitt_cbor_put_bytes(&w, proof);
    scitt_cbor_put_bytes(&w, payload);
    scitt_cbor_put_bytes(&w, scitt_span_make(h->signature, h->signature_len));
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    return out;
}

/*
 * An attached root is compared with the root the proof computes, never trusted: the signature is
 * checked over the computed root, so a receipt carrying any other payload is a COSE_Sign1 whose
 * signature does not cover its own payload, and a reader of that payload would take a root the
 * service never signed for this entry. The root of the same log at another size, a root one byte
 * short or long, and an empty payload are all refused, for inclusion and consistency receipts.
 */
static void test_attached_root(void **state)
{
    (void)state;
    const uint64_t leaf = 4, old = 6;
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 9,
                                             N, roots[N], &h),
                     SCITT_OK);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN], c[SCITT_LIMIT_PROOF_HASHES][32];
    size_t n, nc;
    assert_int_equal(scitt_merkle_inclusion_proof(&src, leaf, N, path, &n), SCITT_OK);
    assert_int_equal(scitt_merkle_consistency_proof(&src, old, N, c, &nc), SCITT_OK);
    uint8_t pb[1024], cb[1024], buf[4096], longer[SCITT_HASH_LEN + 1];
    scitt_span inc = encode_proof(N, leaf, (const uint8_t(*)[32])path, n, pb, sizeof(pb));
    scitt_span con = encode_proof(old, N, (const uint8_t(*)[32])c, nc, cb, sizeof(cb));
    scitt_span e = scitt_span_make(entry[leaf], entry_len[leaf]);

    /* The signed root attached: verifies, as a detached receipt does. */
    scitt_receipt_info info;
    scitt_span r = attached_receipt(&h, SCITT_VDP_INCLUSION, inc, scitt_span_make(roots[N], 32),
                                    buf, sizeof(buf));
    assert_int_equal(scitt_receipt_verify_inclusion(r, e, trusted, 0, &info), SCITT_OK);
    assert_memory_equal(info.root, roots[N], 32);
    r = attached_receipt(&h, SCITT_VDP_CONSISTENCY, con, scitt_span_make(roots[N], 32), buf,
                         sizeof(buf));
    assert_int_equal(scitt_receipt_verify_consistency(r, old, roots[old], trusted, 0, NULL),
                     SCITT_OK);

    memcpy(longer, roots[N], 32);
    longer[32] = 0;
    struct {
        const char *why;
        scitt_span payload;
    } rows[] = {
        {"the root at another size", scitt_span_make(roots[N - 1], 32)},
        {"the root of the old size", scitt_span_make(roots[old], 32)},
        {"the signed root less its last byte", scitt_span_make(roots[N], 31)},
        {"the signed root and one more byte", scitt_span_make(longer, 33)},
        {"an empty payload", scitt_span_make(roots[N], 0)},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        r = attached_receipt(&h, SCITT_VDP_INCLUSION, inc, rows[i].payload, buf, sizeof(buf));
        scitt_err err = scitt_receipt_verify_inclusion(r, e, trusted, 0, NULL);
        if (err != SCITT_ERR_PROOF_MISMATCH) {
            fail_msg("inclusion receipt with %s attached: %s", rows[i].why, scitt_err_name(err));
        }
        assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[leaf], trusted, 0, NULL),
                         SCITT_ERR_PROOF_MISMATCH);
        r = attached_receipt(&h, SCITT_VDP_CONSISTENCY, con, rows[i].payload, buf, sizeof(buf));
        err = scitt_receipt_verify_consistency(r, old, roots[old], trusted, 0, NULL);
        if (err != SCITT_ERR_PROOF_MISMATCH) {
            fail_msg("consistency receipt with %s attached: %s", rows[i].why, scitt_err_name(err));
        }
    }
}

static void test_consistency_every_pair(void **state)
{
    (void)state;
    for (uint64_t size = 2; size <= N; size++) {
        scitt_receipt_head h;
        assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB),
                                                 9, size, roots[size], &h),
                         SCITT_OK);
        for (uint64_t old = 1; old < size; old++) {
            uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN], buf[4096];
            size_t n;
            assert_int_equal(scitt_merkle_consistency_proof(&src, old, size, path, &n), SCITT_OK);
            scitt_cbor_writer w;
            scitt_cbor_writer_init(&w, buf, sizeof(buf));
            assert_int_equal(
                scitt_receipt_encode_consistency(&h, old, (const uint8_t(*)[32])path, n, &w),
                SCITT_OK);
            scitt_span r = scitt_span_make(buf, w.len);
            scitt_receipt_info info;
            assert_int_equal(scitt_receipt_verify_consistency(r, old, roots[old], trusted,
                                                              SCITT_RECEIPT_REQUIRE_SIZE, &info),
                             SCITT_OK);
            assert_int_equal(info.old_size, old);
            assert_int_equal(info.tree_size, size);
            assert_memory_equal(info.root, roots[size], 32);
            /* A wrong old root: the proof does not reproduce it, or (when the old size is a power
             * of two, whose root the path omits) it leads to a new root nobody signed. */
            bool pow2 = (old & (old - 1)) == 0;
            assert_int_equal(
                scitt_receipt_verify_consistency(r, old, roots[old + 1], trusted, 0, NULL),
                pow2 ? SCITT_ERR_SIGNATURE : SCITT_ERR_CONSISTENCY);
            /* ...and a size it was not made for. */
            assert_int_equal(
                scitt_receipt_verify_consistency(r, old + 1, roots[old + 1], trusted, 0, NULL),
                SCITT_ERR_PROOF_MISMATCH);
            /* An inclusion verifier finds no inclusion proof in it. */
            assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[0], trusted, 0, NULL),
                             SCITT_ERR_HEADER);
            if (size == N && old == 6) {
                uint8_t mut[4096];
                for (size_t i = 0; i < r.len; i++) {
                    memcpy(mut, r.ptr, r.len);
                    mut[i] ^= 0x80;
                    assert_int_not_equal(
                        scitt_receipt_verify_consistency(scitt_span_make(mut, r.len), old,
                                                         roots[old], trusted, 0, NULL),
                        SCITT_OK);
                }
            }
        }
        /* No consistency receipt for an empty old tree or equal sizes. */
        scitt_cbor_writer w;
        uint8_t buf[256];
        scitt_cbor_writer_init(&w, buf, sizeof(buf));
        assert_int_equal(scitt_receipt_encode_consistency(&h, size, NULL, 0, &w),
                         SCITT_ERR_PROOF_MALFORMED);
        assert_int_equal(scitt_receipt_encode_consistency(&h, 0, NULL, 0, &w),
                         SCITT_ERR_PROOF_MALFORMED);
    }
}

static void test_head_load(void **state)
{
    (void)state;
    scitt_receipt_head h, back;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), -5,
                                             4, roots[4], &h),
                     SCITT_OK);
    scitt_span prot = scitt_span_make(h.protected_map, h.protected_len);
    scitt_span sig = scitt_span_make(h.signature, h.signature_len);
    assert_int_equal(scitt_receipt_head_load(prot, sig, roots[4], service, &back), SCITT_OK);
    assert_int_equal(back.tree_size, 4);
    assert_int_equal(back.iat, -5);
    assert_int_equal(back.alg, SCITT_COSE_ALG_ES256);
    uint8_t a[4096], b[4096];
    scitt_span ra = inclusion_receipt(&h, 2, a, sizeof(a));
    scitt_span rb = inclusion_receipt(&back, 2, b, sizeof(b));
    assert_int_equal(ra.len, rb.len);
    assert_memory_equal(ra.ptr, rb.ptr, ra.len);
    /* With a key the stored signature is checked against the root it is loaded with. */
    assert_int_equal(scitt_receipt_head_load(prot, sig, roots[5], service, &back),
                     SCITT_ERR_SIGNATURE);
    assert_int_equal(scitt_receipt_head_load(prot, sig, roots[5], NULL, &back), SCITT_OK);
    /* A protected header without the scittd fields is not a receipt head. */
    assert_int_equal(
        scitt_receipt_head_load(scitt_span_make("\xa1\x01\x26", 3), sig, roots[4], NULL, &back),
        SCITT_ERR_HEADER);
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_make(NULL, 0), scitt_span_str(SUB),
                                             0, 4, roots[4], &h),
                     SCITT_ERR_INVALID_ARG);
}

/* The protected header parameter of a receipt with integer @p label, or NULL. */
static const scitt_cose_param *prot_param(scitt_span receipt, int64_t label, const char *text,
                                          scitt_cose_headers *hdr)
{
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(receipt, 0, &m), SCITT_OK);
    assert_int_equal(scitt__headers_decode(m.protected_map, scitt_span_make(NULL, 0), 0, hdr),
                     SCITT_OK);
    return text ? scitt_cose_headers_find_text(hdr, text) : scitt_cose_headers_find(hdr, label);
}

/* A head for size 7 whose protected header is @p prot, signed by @p key under @p alg. */
static void custom_head(const scitt_cose_key *key, int64_t alg, const uint8_t *prot, size_t len,
                        scitt_receipt_head *h)
{
    assert_int_equal(
        scitt_receipt_head_sign(key, scitt_span_str(ISS), scitt_span_str(SUB), 1, 7, roots[7], h),
        SCITT_OK);
    memcpy(h->protected_map, prot, len);
    h->protected_len = len;
    h->alg = alg;
    assert_int_equal(scitt_cose_signature_create(key, alg, scitt_span_make(prot, len),
                                                 scitt_span_make(NULL, 0),
                                                 scitt_span_make(roots[7], 32), h->signature,
                                                 sizeof(h->signature), &h->signature_len),
                     SCITT_OK);
}

/* {1: alg, 4: kid, 395: 1} plus the size under the text label, the integer label, or both. */
static size_t size_header(const scitt_cose_key *key, int64_t alg, bool text, bool num,
                          uint64_t text_size, uint64_t num_size, uint8_t *buf, size_t cap)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    scitt_cbor_put_map(&w, 3u + (text ? 1u : 0u) + (num ? 1u : 0u));
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_int(&w, alg);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_cose_key_kid(key));
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_VDS);
    scitt_cbor_put_uint(&w, 1);
    if (num) {
        scitt_cbor_put_int(&w, SCITT_RECEIPT_HDR_TREE_SIZE);
        scitt_cbor_put_uint(&w, num_size);
    }
    if (text) {
        scitt_cbor_put_cstr(&w, SCITT_RECEIPT_LABEL_TREE_SIZE);
        scitt_cbor_put_uint(&w, text_size);
    }
    assert_int_equal(w.err, SCITT_OK);
    return w.len;
}

/*
 * The signed tree size travels under the private-use integer label -65537, never the text label;
 * receipts with the text label (issued before) still verify and still bind the size, and a header
 * whose two labels disagree is refused.
 */
static void test_tree_size_label(void **state)
{
    (void)state;
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 1,
                                             7, roots[7], &h),
                     SCITT_OK);
    uint8_t buf[4096];
    scitt_span r = inclusion_receipt(&h, 3, buf, sizeof(buf));
    scitt_cose_headers *hdr = malloc(sizeof(*hdr));
    const scitt_cose_param *p = prot_param(r, SCITT_RECEIPT_HDR_TREE_SIZE, NULL, hdr);
    assert_non_null(p);
    assert_int_equal(p->bucket, SCITT_COSE_PROTECTED);
    assert_int_equal(p->value.len, 1);
    assert_int_equal(p->value.ptr[0], 7);
    assert_null(prot_param(r, 0, SCITT_RECEIPT_LABEL_TREE_SIZE, hdr));
    free(hdr);

    static const struct {
        bool text, num;
        uint64_t text_size, num_size;
        scitt_err want;
    } cases[] = {
        {true, false, 7, 0, SCITT_OK},                 /* issued before: text label */
        {false, true, 0, 7, SCITT_OK},                 /* today's label */
        {true, true, 7, 7, SCITT_OK},                  /* both, agreeing */
        {true, true, 5, 7, SCITT_ERR_HEADER},          /* both, disagreeing */
        {true, true, 7, 5, SCITT_ERR_HEADER},          /* both, disagreeing */
        {true, false, 5, 0, SCITT_ERR_PROOF_MISMATCH}, /* text label, another size */
        {false, true, 0, 8, SCITT_ERR_PROOF_MISMATCH}, /* integer label, another size */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t prot[256];
        size_t len = size_header(service, SCITT_COSE_ALG_ES256, cases[i].text, cases[i].num,
                                 cases[i].text_size, cases[i].num_size, prot, sizeof(prot));
        scitt_receipt_head c;
        custom_head(service, SCITT_COSE_ALG_ES256, prot, len, &c);
        r = inclusion_receipt(&c, 3, buf, sizeof(buf));
        scitt_receipt_info info;
        assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[3], trusted,
                                                             SCITT_RECEIPT_REQUIRE_SIZE, &info),
                         cases[i].want);
        if (cases[i].want == SCITT_OK) {
            assert_true(info.size_signed);
        }
    }
    /* head_load reads both labels: a head of today and one stored before, with the text label
     * (LMDB keeps the heads it signed). */
    scitt_receipt_head back;
    assert_int_equal(scitt_receipt_head_load(scitt_span_make(h.protected_map, h.protected_len),
                                             scitt_span_make(h.signature, h.signature_len),
                                             roots[7], service, &back),
                     SCITT_OK);
    assert_int_equal(back.tree_size, 7);
    uint8_t prot[256];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, prot, sizeof(prot));
    scitt_cbor_put_map(&w, 5);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_int(&w, SCITT_COSE_ALG_ES256);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_cose_key_kid(service));
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_CWT_CLAIMS);
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_uint(&w, SCITT_CWT_IAT);
    scitt_cbor_put_int(&w, 1);
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_VDS);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_cstr(&w, SCITT_RECEIPT_LABEL_TREE_SIZE);
    scitt_cbor_put_uint(&w, 7);
    assert_int_equal(w.err, SCITT_OK);
    scitt_receipt_head old;
    custom_head(service, SCITT_COSE_ALG_ES256, prot, w.len, &old);
    assert_int_equal(scitt_receipt_head_load(scitt_span_make(prot, w.len),
                                             scitt_span_make(old.signature, old.signature_len),
                                             roots[7], service, &back),
                     SCITT_OK);
    assert_int_equal(back.tree_size, 7);
}

/* Ed25519 receipt keys sign under -19 (RFC 9864); receipts under -8 still verify. */
static void test_ed25519_alg(void **state)
{
    (void)state;
    scitt_cose_key *ed = NULL;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_EDDSA, &ed), SCITT_OK);
    scitt_cose_keyset *edset = tc_keyset(&ed, 1);
    scitt_receipt_head h;
    assert_int_equal(
        scitt_receipt_head_sign(ed, scitt_span_str(ISS), scitt_span_str(SUB), 1, 7, roots[7], &h),
        SCITT_OK);
    assert_int_equal(h.alg, SCITT_COSE_ALG_ED25519);
    uint8_t buf[4096];
    scitt_span r = inclusion_receipt(&h, 3, buf, sizeof(buf));
    scitt_receipt_info info;
    assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[3], edset, 0, &info), SCITT_OK);
    assert_int_equal(info.alg, SCITT_COSE_ALG_ED25519);
    scitt_receipt_head back;
    assert_int_equal(scitt_receipt_head_load(scitt_span_make(h.protected_map, h.protected_len),
                                             scitt_span_make(h.signature, h.signature_len),
                                             roots[7], ed, &back),
                     SCITT_OK);
    assert_int_equal(back.alg, SCITT_COSE_ALG_ED25519);
    /* -8, as receipts were issued before, verifies with the same key. */
    uint8_t prot[256];
    size_t len = size_header(ed, SCITT_COSE_ALG_EDDSA, true, false, 7, 0, prot, sizeof(prot));
    scitt_receipt_head old;
    custom_head(ed, SCITT_COSE_ALG_EDDSA, prot, len, &old);
    r = inclusion_receipt(&old, 3, buf, sizeof(buf));
    assert_int_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[3], edset, 0, &info), SCITT_OK);
    assert_int_equal(info.alg, SCITT_COSE_ALG_EDDSA);
    /* An ES256 key's receipt relabelled -19 is not an Ed25519 signature. */
    len = size_header(service, SCITT_COSE_ALG_ED25519, false, true, 0, 7, prot, sizeof(prot));
    scitt_receipt_head wrong;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 1,
                                             7, roots[7], &wrong),
                     SCITT_OK);
    memcpy(wrong.protected_map, prot, len);
    wrong.protected_len = len;
    r = inclusion_receipt(&wrong, 3, buf, sizeof(buf));
    assert_int_not_equal(scitt_receipt_verify_inclusion_leaf(r, leaves[3], trusted, 0, NULL),
                         SCITT_OK);
    scitt_cose_keyset_free(edset);
    scitt_cose_key_free(ed);
}

/* ------------------------------------------------------------------------------------------ */
/* RFC 9942 examples                                                                           */

/* Collects the abbreviated byte strings h'xxxxxxxx...yyyyyyyy' of a .diag file, in order. */
static size_t diag_abbrevs(const char *text, char prefix[][9], char suffix[][9], size_t cap)
{
    size_t n = 0;
    for (const char *p = strstr(text, "h'"); p && n < cap; p = strstr(p + 2, "h'")) {
        const char *dots = strstr(p, "...");
        if (!dots || dots - p != 10) {
            continue;
        }
        memcpy(prefix[n], p + 2, 8);
        prefix[n][8] = 0;
        memcpy(suffix[n], dots + 3, 8);
        suffix[n][8] = 0;
        n++;
    }
    return n;
}

static void check_abbrev(scitt_span bytes, const char *prefix, const char *suffix)
{
    char hex[SCITT_HEX_LEN(64)];
    assert_true(bytes.len >= 8 && bytes.len <= 64);
    assert_int_equal(scitt_hex_encode(bytes, hex, sizeof(hex)), SCITT_OK);
    assert_memory_equal(hex, prefix, 8);
    assert_memory_equal(hex + strlen(hex) - 8, suffix, 8);
}

static void check_example(const char *name, int64_t vdp, uint64_t a, uint64_t b, size_t hashes)
{
    char path[256];
    size_t len, dlen;
    snprintf(path, sizeof(path), "vectors/cose-receipts-rfc9942-examples/%s.cbor", name);
    uint8_t *cbor = tu_read_file(tu_shared(path), &len);
    snprintf(path, sizeof(path), "vectors/cose-receipts-rfc9942-examples/%s.diag", name);
    char *diag = (char *)tu_read_file(tu_shared(path), &dlen);

    /* The .diag's hex dump is this very file. */
    const char *hexdump = strstr(diag, "## Hex");
    assert_non_null(hexdump);
    uint8_t from_diag[512];
    size_t k = 0;
    for (const char *p = strstr(hexdump, "```") + 3; *p && strncmp(p, "```", 3); p++) {
        if (p[0] != ' ' && p[0] != '\n' && p[1] != ' ' && p[1] != '\n') {
            char byte[3] = {p[0], p[1], 0};
            from_diag[k++] = (uint8_t)strtoul(byte, NULL, 16);
            p++;
        }
    }
    assert_int_equal(k, len);
    assert_memory_equal(from_diag, cbor, len);

    scitt_cose_sign1 *m = malloc(sizeof(*m));
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(cbor, len), 0, m), SCITT_OK);
    assert_true(m->tagged);
    assert_true(m->detached);
    assert_int_equal(m->hdr.alg, SCITT_COSE_ALG_ES256);
    assert_true(m->hdr.prot & SCITT_COSE_H_VDS);
    assert_int_equal(m->hdr.vds, 1);
    assert_true(scitt_span_eq_str(m->hdr.kid, "test-key-1"));
    assert_true(scitt_span_eq_str(m->hdr.cwt.iss, "https://transparency-service.example.com"));
    assert_false(m->hdr.cwt.has_sub); /* COSE-valid, but not a SCITT receipt (no sub) */
    assert_true(m->hdr.unprot & SCITT_COSE_H_VDP);

    char pre[16][9], suf[16][9];
    size_t nab = diag_abbrevs(diag, pre, suf, 16);
    assert_int_equal(nab, 1 + hashes + 1); /* kid, the path, the signature */
    check_abbrev(m->hdr.kid, pre[0], suf[0]);
    check_abbrev(m->signature, pre[nab - 1], suf[nab - 1]);

    /* 396 -> {vdp: [bstr .cbor [a, b, path]]}: two layers of bstr/array. */
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, m->hdr.vdp);
    size_t cnt;
    int64_t key;
    scitt_span proof;
    assert_int_equal(scitt_cbor_read_map(&r, &cnt), SCITT_OK);
    assert_int_equal(cnt, 1);
    assert_int_equal(scitt_cbor_read_int(&r, &key), SCITT_OK);
    assert_int_equal(key, vdp);
    assert_int_equal(scitt_cbor_read_array(&r, &cnt), SCITT_OK);
    assert_int_equal(cnt, 1);
    assert_int_equal(scitt_cbor_read_bytes(&r, &proof), SCITT_OK);
    scitt_cbor_reader_init(&r, proof);
    uint64_t va, vb;
    assert_int_equal(scitt_cbor_read_array(&r, &cnt), SCITT_OK);
    assert_int_equal(cnt, 3);
    assert_int_equal(scitt_cbor_read_uint(&r, &va), SCITT_OK);
    assert_int_equal(scitt_cbor_read_uint(&r, &vb), SCITT_OK);
    assert_int_equal(va, a);
    assert_int_equal(vb, b);
    assert_int_equal(scitt_cbor_read_array(&r, &cnt), SCITT_OK);
    assert_int_equal(cnt, hashes);
    for (size_t i = 0; i < hashes; i++) {
        scitt_span hsh;
        assert_int_equal(scitt_cbor_read_bytes(&r, &hsh), SCITT_OK);
        assert_int_equal(hsh.len, 32);
        check_abbrev(hsh, pre[1 + i], suf[1 + i]);
    }
    assert_int_equal(scitt_cbor_reader_finish(&r), SCITT_OK);

    /* No key was published for them: the verifier runs the proof, then finds no trusted key. */
    scitt_cose_keyset *empty = NULL;
    assert_int_equal(scitt_cose_keyset_new(&empty), SCITT_OK);
    uint8_t zero[32] = {0};
    if (vdp == SCITT_VDP_INCLUSION) {
        assert_int_equal(scitt_merkle_inclusion_len(vb, va), hashes);
        assert_int_equal(
            scitt_receipt_verify_inclusion_leaf(scitt_span_make(cbor, len), zero, empty, 0, NULL),
            SCITT_ERR_UNTRUSTED);
    } else {
        assert_int_equal(scitt_merkle_consistency_len(va, vb), hashes);
    }
    scitt_cose_keyset_free(empty);
    free(m);
    free(diag);
    free(cbor);
}

/* A receipt from a key with the text kid (the base64url of its thumbprint, what /jwks publishes)
 * carries that text as its kid; key sets find its key whatever form their kid has, and receipts
 * with the raw thumbprint kid (issued before) still find the text-kid key; another key's text kid
 * finds nothing. */
static void test_text_kid(void **state)
{
    (void)state;
    uint8_t tp[32];
    scitt_cose_key_thumbprint(service, tp);
    char text[64];
    assert_int_equal(scitt_base64url_encode(scitt_span_make(tp, 32), text, sizeof(text)), SCITT_OK);
    assert_int_equal(strlen(text), 43);
    /* the same key with the text kid */
    scitt_dynbuf der;
    scitt_dynbuf_init(&der, 0);
    assert_int_equal(scitt_cose_key_encode_der(service, true, &der), SCITT_OK);
    scitt_cose_key *tk = NULL;
    assert_int_equal(scitt_cose_key_from_der(scitt_span_make(der.ptr, der.len), &tk), SCITT_OK);
    scitt_dynbuf_clear(&der);
    assert_false(scitt_cose_key_is_text_kid(tk));
    assert_int_equal(scitt_cose_key_use_text_kid(tk), SCITT_OK);
    assert_true(scitt_cose_key_is_text_kid(tk));
    assert_true(scitt_span_eq_str(scitt_cose_key_kid(tk), text));
    assert_int_equal(scitt_cose_key_use_text_kid(tk), SCITT_OK); /* idempotent */
    assert_true(scitt_span_eq_str(scitt_cose_key_kid(tk), text));
    /* the JWK writes it as the same "kid" string, a COSE_Key as its bytes, which reads back as
     * the text kid again */
    scitt_dynbuf j;
    scitt_dynbuf_init(&j, 0);
    assert_int_equal(scitt_cose_key_encode_jwk(tk, false, &j), SCITT_OK);
    char want[80];
    snprintf(want, sizeof(want), "\"kid\":\"%s\"", text);
    scitt_dynbuf_u8(&j, 0);
    assert_non_null(strstr((const char *)j.ptr, want));
    scitt_dynbuf_clear(&j);
    uint8_t cbuf[512];
    scitt_cbor_writer cw;
    scitt_cbor_writer_init(&cw, cbuf, sizeof(cbuf));
    assert_int_equal(scitt_cose_key_encode_cose(tk, false, &cw), SCITT_OK);
    scitt_span cose;
    assert_int_equal(scitt_cbor_writer_finish(&cw, &cose), SCITT_OK);
    scitt_cose_key *back = NULL;
    assert_int_equal(scitt_cose_key_from_cose(cose, &back), SCITT_OK);
    assert_true(scitt_cose_key_is_text_kid(back));
    assert_true(scitt_span_eq_str(scitt_cose_key_kid(back), text));

    /* a key with a kid of its own keeps it */
    scitt_cose_key *own = NULL;
    assert_int_equal(scitt_cose_key_generate(0, &own), SCITT_OK);
    assert_int_equal(scitt_cose_key_set_kid(own, scitt_span_str("test-key-1")), SCITT_OK);
    assert_int_equal(scitt_cose_key_use_text_kid(own), SCITT_OK);
    assert_true(scitt_span_eq_str(scitt_cose_key_kid(own), "test-key-1"));

    scitt_receipt_head h_text, h_raw;
    assert_int_equal(scitt_receipt_head_sign(tk, scitt_span_str(ISS), scitt_span_str(SUB),
                                             1767225600, N, roots[N], &h_text),
                     SCITT_OK);
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB),
                                             1767225600, N, roots[N], &h_raw),
                     SCITT_OK);
    uint8_t b1[4096], b2[4096];
    scitt_span r_text = inclusion_receipt(&h_text, 2, b1, sizeof(b1));
    scitt_span r_raw = inclusion_receipt(&h_raw, 2, b2, sizeof(b2));
    scitt_span e2 = scitt_span_make(entry[2], entry_len[2]);
    scitt_cose_keyset *by_text = tc_keyset(&tk, 1);
    scitt_cose_keyset *by_back = tc_keyset(&back, 1);
    scitt_receipt_info info;
    /* the text kid is in the receipt */
    assert_int_equal(scitt_receipt_verify_inclusion(r_text, e2, by_text, 0, &info), SCITT_OK);
    assert_true(scitt_span_eq_str(info.kid, text));
    /* a raw-kid key set (a COSE_Key_Set or key of before) finds the key of a text-kid receipt */
    assert_int_equal(scitt_receipt_verify_inclusion(r_text, e2, trusted, 0, NULL), SCITT_OK);
    assert_ptr_equal(scitt_cose_keyset_find(trusted, scitt_span_str(text)),
                     scitt_cose_keyset_at(trusted, 0));
    /* receipts of before (raw thumbprint kid) find the text-kid key, also read from a COSE_Key */
    assert_int_equal(scitt_receipt_verify_inclusion(r_raw, e2, by_text, 0, &info), SCITT_OK);
    assert_memory_equal(info.kid.ptr, tp, 32);
    assert_int_equal(scitt_receipt_verify_inclusion(r_raw, e2, by_back, 0, NULL), SCITT_OK);
    assert_int_equal(scitt_receipt_verify_inclusion(r_text, e2, by_back, 0, NULL), SCITT_OK);
    assert_true(scitt_cose_key_matches_kid(tk, scitt_span_make(tp, 32)));
    assert_true(scitt_cose_key_matches_kid(service, scitt_span_str(text)));
    assert_false(scitt_cose_key_matches_kid(service, scitt_span_make(NULL, 0)));

    /* another key's text kid names neither */
    uint8_t otp[32];
    scitt_cose_key_thumbprint(own, otp);
    char other[64];
    assert_int_equal(scitt_base64url_encode(scitt_span_make(otp, 32), other, sizeof(other)),
                     SCITT_OK);
    assert_null(scitt_cose_keyset_find(trusted, scitt_span_str(other)));
    assert_null(scitt_cose_keyset_find(by_text, scitt_span_str(other)));
    assert_null(scitt_cose_keyset_find(by_text, scitt_span_make(otp, 32)));
    assert_false(scitt_cose_key_matches_kid(tk, scitt_span_str(other)));
    scitt_cose_keyset *wrong = tc_keyset(&own, 1);
    assert_int_equal(scitt_receipt_verify_inclusion(r_text, e2, wrong, 0, NULL),
                     SCITT_ERR_UNTRUSTED);
    /* a key set holding a raw and a text kid of the same key: one is a duplicate */
    scitt_cose_keyset *both = tc_keyset(&service, 1);
    assert_int_equal(scitt_cose_keyset_add(both, tk), SCITT_ERR_DUPLICATE_KEY);

    scitt_cose_keyset_free(both);
    scitt_cose_keyset_free(wrong);
    scitt_cose_keyset_free(by_back);
    scitt_cose_keyset_free(by_text);
    scitt_cose_key_free(own);
    scitt_cose_key_free(back);
    scitt_cose_key_free(tk);
}

static void test_rfc9942_examples(void **state)
{
    (void)state;
    check_example("inclusion-receipt", SCITT_VDP_INCLUSION, 5, 3, 3);
    check_example("consistency-receipt", SCITT_VDP_CONSISTENCY, 3, 5, 4);
}

/*
 * A key set with a memo of verified signatures: another receipt of the same tree head is
 * accepted through the memo, and with the good receipt remembered, every single-bit flip of it
 * (a different signature, protected header or root) is still refused and never remembered.
 */
static void test_memo(void **state)
{
    (void)state;
    scitt_cose_keyset *memo = tc_keyset(&service, 1);
    assert_int_equal(scitt_cose_keyset_memo(memo, 0), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_cose_keyset_memo(memo, 64), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_memo(memo, 64), SCITT_ERR_STATE);
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(service, scitt_span_str(ISS), scitt_span_str(SUB), 5,
                                             N, roots[N], &h),
                     SCITT_OK);
    const scitt_span parts[3] = {scitt_span_make(h.protected_map, h.protected_len),
                                 scitt_span_make(NULL, 0), scitt_span_make(roots[N], 32)};
    uint8_t d[SCITT_SHA256_LEN];
    assert_true(scitt__keyset_memo_digest(memo, scitt_cose_keyset_at(memo, 0), h.alg, parts, 3,
                                          scitt_span_make(h.signature, h.signature_len), d));
    assert_false(scitt__keyset_memo_has(memo, d));
    assert_false(scitt__keyset_memo_digest(trusted, scitt_cose_keyset_at(trusted, 0), h.alg, parts,
                                           3, scitt_span_make(h.signature, h.signature_len), d));
    assert_true(scitt__keyset_memo_digest(memo, scitt_cose_keyset_at(memo, 0), h.alg, parts, 3,
                                          scitt_span_make(h.signature, h.signature_len), d));

    uint8_t buf[4096], other[4096], mut[4096];
    scitt_span r = inclusion_receipt(&h, 5, buf, sizeof(buf));
    scitt_span e = scitt_span_make(entry[5], entry_len[5]);
    assert_int_equal(scitt_receipt_verify_inclusion(r, e, memo, 0, NULL), SCITT_OK);
    assert_true(scitt__keyset_memo_has(memo, d));
    scitt_span r9 = inclusion_receipt(&h, 9, other, sizeof(other));
    assert_int_equal(
        scitt_receipt_verify_inclusion(r9, scitt_span_make(entry[9], entry_len[9]), memo, 0, NULL),
        SCITT_OK);
    for (size_t i = 0; i < r.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(mut, r.ptr, r.len);
            mut[i] ^= (uint8_t)(1u << bit);
            if (scitt_receipt_verify_inclusion(scitt_span_make(mut, r.len), e, memo, 0, NULL) ==
                SCITT_OK) {
                fail_msg("with the memo, flip of bit %d in byte %zu accepted", bit, i);
            }
        }
    }
    /* the wrong entry for a remembered receipt leads to another root: refused */
    assert_int_not_equal(
        scitt_receipt_verify_inclusion(r, scitt_span_make(entry[4], entry_len[4]), memo, 0, NULL),
        SCITT_OK);
    scitt_cose_keyset_free(memo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_form),
        cmocka_unit_test(test_inclusion_every_leaf),
        cmocka_unit_test(test_signature_shared_per_tree_head),
        cmocka_unit_test(test_tree_size_is_signed),
        cmocka_unit_test(test_inclusion_mutations),
        cmocka_unit_test(test_memo),
        cmocka_unit_test(test_consistency_every_pair),
        cmocka_unit_test(test_several_proofs),
        cmocka_unit_test(test_attached_root),
        cmocka_unit_test(test_head_load),
        cmocka_unit_test(test_text_kid),
        cmocka_unit_test(test_rfc9942_examples),
        cmocka_unit_test(test_tree_size_label),
        cmocka_unit_test(test_ed25519_alg),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
