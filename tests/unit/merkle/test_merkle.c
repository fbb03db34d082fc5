/*
 * The iterative Merkle code against the recursive RFC 9162 reference: every size 1..256, every
 * (index, size) inclusion proof and every (m, n) consistency proof; then a mutation matrix.
 */
#include "testutil.h"
#include "memtree.h"
#include "reference.h"

#include "scitt/limits.h"

#define N 256

static uint8_t leaves[N][SCITT_HASH_LEN];
static memtree tree;
static uint8_t roots[N + 1][SCITT_HASH_LEN];

static int setup(void **state)
{
    (void)state;
    memtree_init(&tree);
    for (unsigned i = 0; i < N; i++) {
        uint8_t data[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0xab, (uint8_t)(i * 7)};
        scitt_merkle_leaf_hash(scitt_span_make(data, sizeof(data)), leaves[i]);
    }
    for (unsigned n = 0; n <= N; n++) {
        ref_mth((const uint8_t(*)[SCITT_HASH_LEN])leaves, n, roots[n]);
    }
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(memtree_append(&tree, leaves[i]), SCITT_OK);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    memtree_free(&tree);
    return 0;
}

static void test_hash_rules(void **state)
{
    (void)state;
    uint8_t h[32], want[32];
    size_t n;
    scitt_merkle_empty_root(h);
    uint8_t *e = tu_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &n);
    assert_memory_equal(h, e, 32);
    free(e);
    /* leaf("") = SHA-256(0x00) */
    scitt_merkle_leaf_hash(scitt_span_make("", 0), h);
    uint8_t zero = 0;
    scitt_sha256(&zero, 1, want);
    assert_memory_equal(h, want, 32);
    /* node = SHA-256(0x01 || l || r), and out may alias an input */
    uint8_t buf[65] = {1};
    memset(buf + 1, 0x11, 32);
    memset(buf + 33, 0x22, 32);
    scitt_sha256(buf, 65, want);
    uint8_t l[32], r[32];
    memset(l, 0x11, 32);
    memset(r, 0x22, 32);
    scitt_merkle_node_hash(l, r, l);
    assert_memory_equal(l, want, 32);
}

static void test_compact_roots(void **state)
{
    (void)state;
    scitt_merkle_compact c;
    scitt_merkle_compact_init(&c);
    uint8_t root[32];
    scitt_merkle_compact_root(&c, root);
    assert_memory_equal(root, roots[0], 32);
    for (unsigned n = 1; n <= N; n++) {
        assert_int_equal(scitt_merkle_compact_append(&c, leaves[n - 1], NULL, NULL), SCITT_OK);
        scitt_merkle_compact_root(&c, root);
        assert_memory_equal(root, roots[n], 32);
        /* reloading the compact range from the node source gives the same root */
        scitt_merkle_compact loaded;
        scitt_merkle_source src = memtree_source(&tree);
        assert_int_equal(scitt_merkle_compact_load(&loaded, n, &src), SCITT_OK);
        uint8_t root2[32];
        scitt_merkle_compact_root(&loaded, root2);
        assert_memory_equal(root2, roots[n], 32);
    }
}

static void test_every_inclusion_proof(void **state)
{
    (void)state;
    scitt_merkle_source src = memtree_source(&tree);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    unsigned checked = 0;
    for (uint64_t n = 1; n <= N; n++) {
        for (uint64_t i = 0; i < n; i++) {
            size_t len;
            assert_int_equal(scitt_merkle_inclusion_proof(&src, i, n, path, &len), SCITT_OK);
            ref_proof ref = {0};
            ref_path(i, (const uint8_t(*)[SCITT_HASH_LEN])leaves, n, &ref);
            assert_int_equal(len, ref.n);
            assert_int_equal(len, scitt_merkle_inclusion_len(i, n));
            assert_memory_equal(path, ref.h, len * SCITT_HASH_LEN);
            assert_int_equal(scitt_merkle_inclusion_verify(
                                 i, n, leaves[i], (const uint8_t(*)[32])path, len, roots[n]),
                             SCITT_OK);
            checked++;
        }
    }
    assert_int_equal(checked, N * (N + 1) / 2);
    size_t len;
    assert_int_equal(scitt_merkle_inclusion_proof(&src, 5, 5, path, &len), SCITT_ERR_INVALID_ARG);
}

static void test_every_consistency_proof(void **state)
{
    (void)state;
    scitt_merkle_source src = memtree_source(&tree);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES + 1][SCITT_HASH_LEN];
    unsigned checked = 0;
    for (uint64_t n = 1; n <= N; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            size_t len;
            assert_int_equal(scitt_merkle_consistency_proof(&src, m, n, path, &len), SCITT_OK);
            ref_proof ref = {0};
            if (m < n) {
                ref_subproof(m, (const uint8_t(*)[SCITT_HASH_LEN])leaves, n, 1, &ref);
            }
            assert_int_equal(len, ref.n);
            assert_int_equal(len, scitt_merkle_consistency_len(m, n));
            assert_memory_equal(path, ref.h, len * SCITT_HASH_LEN);
            assert_int_equal(scitt_merkle_consistency_verify(m, n, roots[m], roots[n],
                                                             (const uint8_t(*)[32])path, len),
                             SCITT_OK);
            checked++;
        }
    }
    assert_int_equal(checked, N * (N + 1) / 2);
}

static bool same_shape(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && memcmp(a, b, al) == 0;
}

/*
 * Mutations of inclusion proofs. Every flipped bit, truncation, extension and wrong index must
 * fail. A wrong tree size is different: RFC 9162 paths do not commit to the size, so a proof
 * verifies under another size exactly when the path has the same shape there (the reason our
 * receipts sign the size). The test predicts that case from the reference recursion and checks
 * the verifier agrees both ways.
 */
static void test_inclusion_mutations(void **state)
{
    (void)state;
    scitt_merkle_source src = memtree_source(&tree);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES + 1][SCITT_HASH_LEN];
    unsigned flips = 0, malleable = 0;
    for (uint64_t n = 1; n <= 40; n++) {
        for (uint64_t i = 0; i < n; i++) {
            size_t len;
            assert_int_equal(scitt_merkle_inclusion_proof(&src, i, n, path, &len), SCITT_OK);
            const uint8_t(*p)[32] = (const uint8_t(*)[32])path;
            for (size_t k = 0; k < len; k++) {
                for (unsigned bit = 0; bit < 256; bit++) {
                    path[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(
                        scitt_merkle_inclusion_verify(i, n, leaves[i], p, len, roots[n]),
                        SCITT_ERR_PROOF_MISMATCH);
                    path[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    flips++;
                }
            }
            /* the leaf itself and the root */
            uint8_t bad[32];
            memcpy(bad, leaves[i], 32);
            bad[31] ^= 1;
            assert_int_equal(scitt_merkle_inclusion_verify(i, n, bad, p, len, roots[n]),
                             SCITT_ERR_PROOF_MISMATCH);
            memcpy(bad, roots[n], 32);
            bad[0] ^= 0x80;
            assert_int_equal(scitt_merkle_inclusion_verify(i, n, leaves[i], p, len, bad),
                             SCITT_ERR_PROOF_MISMATCH);
            if (len > 0) {
                assert_int_equal(
                    scitt_merkle_inclusion_verify(i, n, leaves[i], p, len - 1, roots[n]),
                    SCITT_ERR_PROOF_MALFORMED);
            }
            memcpy(path[len], roots[n], 32);
            assert_int_equal(scitt_merkle_inclusion_verify(i, n, leaves[i], p, len + 1, roots[n]),
                             SCITT_ERR_PROOF_MALFORMED);
            assert_int_equal(scitt_merkle_inclusion_verify(n, n, leaves[i], p, len, roots[n]),
                             SCITT_ERR_PROOF_MALFORMED);
            for (uint64_t j = 0; j < n; j++) {
                if (j != i) {
                    assert_int_not_equal(
                        scitt_merkle_inclusion_verify(j, n, leaves[i], p, len, roots[n]), SCITT_OK);
                }
            }
            char shape[64], other[64];
            size_t sl, ol;
            ref_path_shape(i, n, shape, &sl);
            for (uint64_t n2 = i + 1; n2 <= 64; n2++) {
                if (n2 == n) {
                    continue;
                }
                ref_path_shape(i, n2, other, &ol);
                scitt_err e = scitt_merkle_inclusion_verify(i, n2, leaves[i], p, len, roots[n]);
                if (same_shape(shape, sl, other, ol)) {
                    assert_int_equal(e, SCITT_OK);
                    malleable++;
                } else {
                    assert_int_not_equal(e, SCITT_OK);
                }
            }
        }
    }
    print_message("inclusion mutations: %u bit flips rejected, %u size-malleable cases predicted\n",
                  flips, malleable);
    assert_true(malleable > 0);
}

static void test_consistency_mutations(void **state)
{
    (void)state;
    scitt_merkle_source src = memtree_source(&tree);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES + 1][SCITT_HASH_LEN];
    unsigned flips = 0, malleable = 0;
    for (uint64_t n = 2; n <= 40; n++) {
        for (uint64_t m = 1; m < n; m++) {
            size_t len;
            assert_int_equal(scitt_merkle_consistency_proof(&src, m, n, path, &len), SCITT_OK);
            const uint8_t(*p)[32] = (const uint8_t(*)[32])path;
            for (size_t k = 0; k < len; k++) {
                for (unsigned bit = 0; bit < 256; bit++) {
                    path[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(
                        scitt_merkle_consistency_verify(m, n, roots[m], roots[n], p, len),
                        SCITT_ERR_CONSISTENCY);
                    path[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    flips++;
                }
            }
            uint8_t bad[32];
            memcpy(bad, roots[m], 32);
            bad[5] ^= 4;
            assert_int_equal(scitt_merkle_consistency_verify(m, n, bad, roots[n], p, len),
                             SCITT_ERR_CONSISTENCY);
            memcpy(bad, roots[n], 32);
            bad[5] ^= 4;
            assert_int_equal(scitt_merkle_consistency_verify(m, n, roots[m], bad, p, len),
                             SCITT_ERR_CONSISTENCY);
            assert_int_equal(scitt_merkle_consistency_verify(m, n, roots[m], roots[n], p, len - 1),
                             SCITT_ERR_PROOF_MALFORMED);
            memcpy(path[len], roots[n], 32);
            assert_int_equal(scitt_merkle_consistency_verify(m, n, roots[m], roots[n], p, len + 1),
                             SCITT_ERR_PROOF_MALFORMED);
            assert_int_equal(scitt_merkle_consistency_verify(n, m, roots[m], roots[n], p, len),
                             SCITT_ERR_PROOF_MALFORMED);
            assert_int_equal(scitt_merkle_consistency_verify(0, n, roots[0], roots[n], p, len),
                             SCITT_ERR_PROOF_MALFORMED);
            /* other sizes with the roots of (m, n): accepted exactly when the shape matches */
            char shape[65], other[65];
            size_t sl, ol;
            ref_consistency_shape(m, n, shape, &sl);
            for (uint64_t m2 = 1; m2 <= 48; m2++) {
                for (uint64_t n2 = m2 + 1; n2 <= 48; n2++) {
                    if (m2 == m && n2 == n) {
                        continue;
                    }
                    ref_consistency_shape(m2, n2, other, &ol);
                    scitt_err e =
                        scitt_merkle_consistency_verify(m2, n2, roots[m], roots[n], p, len);
                    bool same = same_shape(shape, sl, other, ol);
                    if (same) {
                        assert_int_equal(e, SCITT_OK);
                        malleable++;
                    } else if (e == SCITT_OK) {
                        fail_msg("(%llu,%llu) proof accepted as (%llu,%llu)", (unsigned long long)m,
                                 (unsigned long long)n, (unsigned long long)m2,
                                 (unsigned long long)n2);
                    }
                }
            }
        }
    }
    print_message(
        "consistency mutations: %u bit flips rejected, %u size-malleable cases predicted\n", flips,
        malleable);
}

static void test_equal_sizes(void **state)
{
    (void)state;
    uint8_t path[2][32];
    memset(path, 0, sizeof(path));
    assert_int_equal(
        scitt_merkle_consistency_verify(7, 7, roots[7], roots[7], (const uint8_t(*)[32])path, 0),
        SCITT_OK);
    assert_int_equal(
        scitt_merkle_consistency_verify(7, 7, roots[7], roots[6], (const uint8_t(*)[32])path, 0),
        SCITT_ERR_CONSISTENCY);
    assert_int_equal(
        scitt_merkle_consistency_verify(7, 7, roots[7], roots[7], (const uint8_t(*)[32])path, 1),
        SCITT_ERR_PROOF_MALFORMED);
    assert_int_equal(
        scitt_merkle_consistency_verify(0, 0, roots[0], roots[0], (const uint8_t(*)[32])path, 0),
        SCITT_ERR_PROOF_MALFORMED);
}

static void test_range_root_rejects_unaligned(void **state)
{
    (void)state;
    scitt_merkle_source src = memtree_source(&tree);
    uint8_t h[32];
    assert_int_equal(scitt_merkle_range_root(&src, 3, 7, h), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_merkle_range_root(&src, 4, 4, h), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_merkle_range_root(&src, 8, 13, h), SCITT_OK);
    uint8_t want[32];
    ref_mth((const uint8_t(*)[SCITT_HASH_LEN])leaves + 8, 5, want);
    assert_memory_equal(h, want, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_rules),
        cmocka_unit_test(test_compact_roots),
        cmocka_unit_test(test_every_inclusion_proof),
        cmocka_unit_test(test_every_consistency_proof),
        cmocka_unit_test(test_inclusion_mutations),
        cmocka_unit_test(test_consistency_mutations),
        cmocka_unit_test(test_equal_sizes),
        cmocka_unit_test(test_range_root_rejects_unaligned),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
