/*
 * Merkle core benchmark. Prints, one per line:
 *   sha256_64B: n /s          raw SHA-256 of 64-byte inputs (the ceiling)
 *   append: n leaves/s        leaf hashing of 100-byte entries + compact-range append, 1 M leaves
 *   inclusion_proof: n /s     proof generation for random leaves of a 1 M-leaf in-memory tree
 *   consistency_proof: n /s   proof generation for random size pairs in the same tree
 *   ratio append/sha256_64B: x
 * Usage: merkle_bench [leaves]
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "memtree.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"

static double rate_sha256_64(void)
{
    uint8_t in[64] = {1}, out[32];
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        for (int i = 0; i < 10000; i++) {
            scitt_sha256(in, sizeof(in), out);
            in[0] ^= out[0];
        }
        n += 10000;
        t = bench_now();
    } while (t - t0 < 1.0);
    return (double)n / (t - t0);
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: merkle_bench [LEAVES]\n  Merkle append and proofs against raw SHA-256 "
               "(default 1000000 leaves)\n");
    uint64_t leaves = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    if (leaves < 2) {
        fprintf(stderr, "merkle_bench: need at least 2 leaves\n");
        return 2;
    }
    double sha = rate_sha256_64();
    bench_print("sha256_64B", sha, "/s");

    uint8_t entry[100];
    memset(entry, 0x5a, sizeof(entry));
    scitt_merkle_compact c;
    scitt_merkle_compact_init(&c);
    double t0 = bench_now();
    for (uint64_t i = 0; i < leaves; i++) {
        memcpy(entry, &i, sizeof(i));
        uint8_t h[32];
        scitt_merkle_leaf_hash(scitt_span_make(entry, sizeof(entry)), h);
        if (scitt_merkle_compact_append(&c, h, NULL, NULL) != SCITT_OK) {
            return 1;
        }
    }
    double append = (double)leaves / (bench_now() - t0);
    bench_print("append", append, "leaves/s");

    memtree t;
    memtree_init(&t);
    for (uint64_t i = 0; i < leaves; i++) {
        memcpy(entry, &i, sizeof(i));
        uint8_t h[32];
        scitt_merkle_leaf_hash(scitt_span_make(entry, sizeof(entry)), h);
        if (memtree_append(&t, h) != SCITT_OK) {
            return 1;
        }
    }
    scitt_merkle_source src = memtree_source(&t);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES + 1][SCITT_HASH_LEN];
    uint64_t seed = 0x9e3779b97f4a7c15ull, n = 0;
    t0 = bench_now();
    double now;
    do {
        for (int i = 0; i < 1000; i++) {
            size_t len;
            uint64_t idx = bench_rand(&seed) % leaves;
            if (scitt_merkle_inclusion_proof(&src, idx, leaves, path, &len) != SCITT_OK) {
                return 1;
            }
        }
        n += 1000;
        now = bench_now();
    } while (now - t0 < 1.0);
    bench_print("inclusion_proof", (double)n / (now - t0), "/s");

    n = 0;
    t0 = bench_now();
    do {
        for (int i = 0; i < 1000; i++) {
            size_t len;
            uint64_t a = 1 + bench_rand(&seed) % (leaves - 1);
            uint64_t b = a + 1 + bench_rand(&seed) % (leaves - a);
            if (scitt_merkle_consistency_proof(&src, a, b, path, &len) != SCITT_OK) {
                return 1;
            }
        }
        n += 1000;
        now = bench_now();
    } while (now - t0 < 1.0);
    bench_print("consistency_proof", (double)n / (now - t0), "/s");
    memtree_free(&t);

    bench_print("ratio append/sha256_64B", append / sha, "");
    return 0;
}
