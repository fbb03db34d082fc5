/*
 * A program of a libscitt user, built by tests/package against an installed tree with
 * `pkg-config --cflags --libs scitt` only: the RFC 9162 root of the eight leaves of the
 * transparency-dev test tree (tests/data/vectors/merkle), then an inclusion proof checked
 * against it. Prints the root in hex; exits 1 if anything fails.
 */
#include <scitt/merkle.h>

#include <stdio.h>
#include <string.h>

static const char *const leaves_hex[] = {"",
                                         "00",
                                         "10",
                                         "2021",
                                         "3031",
                                         "40414243",
                                         "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"};

static size_t unhex(const char *s, unsigned char *out)
{
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            return 0;
        }
        out[i] = (unsigned char)v;
    }
    return n;
}

int main(void)
{
    scitt_merkle_compact c;
    uint8_t leaf[8][SCITT_HASH_LEN];
    scitt_merkle_compact_init(&c);
    for (size_t i = 0; i < 8; i++) {
        unsigned char buf[32];
        size_t n = unhex(leaves_hex[i], buf);
        scitt_merkle_leaf_hash(scitt_span_make(buf, n), leaf[i]);
        if (scitt_merkle_compact_append(&c, leaf[i], NULL, NULL) != SCITT_OK) {
            fprintf(stderr, "append: failed\n");
            return 1;
        }
    }
    uint8_t root[SCITT_HASH_LEN];
    scitt_merkle_compact_root(&c, root);
    for (size_t i = 0; i < SCITT_HASH_LEN; i++) {
        printf("%02x", root[i]);
    }
    printf("\n");
    /* The inclusion path of leaf 5 in the tree of 8: leaf 4, node (1, 3), node (2, 0). */
    uint8_t n01[SCITT_HASH_LEN], n23[SCITT_HASH_LEN], n67[SCITT_HASH_LEN];
    uint8_t path[3][SCITT_HASH_LEN];
    scitt_merkle_node_hash(leaf[0], leaf[1], n01);
    scitt_merkle_node_hash(leaf[2], leaf[3], n23);
    scitt_merkle_node_hash(leaf[6], leaf[7], n67);
    memcpy(path[0], leaf[4], SCITT_HASH_LEN);
    memcpy(path[1], n67, SCITT_HASH_LEN);
    scitt_merkle_node_hash(n01, n23, path[2]);
    scitt_err e = scitt_merkle_inclusion_verify(5, 8, leaf[5], path, 3, root);
    printf("inclusion: %s\n", scitt_err_str(e));
    path[1][0] ^= 1;
    scitt_err bad = scitt_merkle_inclusion_verify(5, 8, leaf[5], path, 3, root);
    printf("tampered: %s\n", scitt_err_str(bad));
    return e == SCITT_OK && bad != SCITT_OK ? 0 : 1;
}
