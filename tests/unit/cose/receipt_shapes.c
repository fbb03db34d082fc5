/*
 * Writes every receipt shape scittd issues into a directory, for the RFC 9942 CDDL check
 * (receipt_cddl.py): inclusion receipts of every leaf of trees of 1..N leaves, consistency
 * receipts of every pair of sizes, under an ES256 and an Ed25519 key, and a transparent
 * statement carrying two receipts. Where the issuing code refuses a shape (the one-leaf tree,
 * equal sizes) nothing is written and the refusal itself is checked.
 *
 *   receipt_shapes OUTDIR
 *
 * Exit 0 on success, 2 on any failure (with a message).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtree.h"
#include "scitt/cose.h"
#include "scitt/limits.h"
#include "scitt/receipt.h"

#define N 9

static const char *dir;
static size_t written;

static void check(scitt_err got, scitt_err want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "receipt_shapes: %s: %s (wanted %s)\n", what, scitt_err_name(got),
                scitt_err_name(want));
        exit(2);
    }
}

static void put_file(const char *name, scitt_span data)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data.ptr, 1, data.len, f) != data.len || fclose(f) != 0) {
        fprintf(stderr, "receipt_shapes: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
    written++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: receipt_shapes OUTDIR\n");
        return 2;
    }
    dir = argv[1];
    memtree t;
    memtree_init(&t);
    uint8_t leaf[32];
    for (int i = 0; i < N; i++) {
        memset(leaf, i + 1, sizeof(leaf));
        check(memtree_append(&t, leaf), SCITT_OK, "append");
    }
    scitt_merkle_source src = memtree_source(&t);
    static const struct {
        int64_t alg;
        const char *name;
    } keys[] = {{SCITT_COSE_ALG_ES256, "es256"}, {SCITT_COSE_ALG_EDDSA, "ed25519"}};
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    uint8_t out[8192];
    char name[128];
    scitt_span last[2];
    uint8_t keep[2][8192];
    for (size_t k = 0; k < 2; k++) {
        scitt_cose_key *key = NULL;
        check(scitt_cose_key_generate(keys[k].alg, &key), SCITT_OK, "keygen");
        for (uint64_t size = 1; size <= N; size++) {
            uint8_t root[32];
            check(scitt_merkle_range_root(&src, 0, size, root), SCITT_OK, "root");
            scitt_receipt_head h;
            check(scitt_receipt_head_sign(key, scitt_span_str("https://scitt.example"),
                                          scitt_span_str("scitt.example/log"), 1767225600, size,
                                          root, &h),
                  SCITT_OK, "head");
            for (uint64_t i = 0; i < size; i++) {
                size_t n;
                check(scitt_merkle_inclusion_proof(&src, i, size, path, &n), SCITT_OK, "proof");
                scitt_cbor_writer w;
                scitt_cbor_writer_init(&w, out, sizeof(out));
                scitt_err e =
                    scitt_receipt_encode_inclusion(&h, i, (const uint8_t(*)[32])path, n, &w);
                check(e, size == 1 ? SCITT_ERR_NOT_FOUND : SCITT_OK, "inclusion receipt");
                if (e == SCITT_OK) {
                    snprintf(name, sizeof(name), "inclusion-%s-%llu-%llu.cbor", keys[k].name,
                             (unsigned long long)i, (unsigned long long)size);
                    put_file(name, scitt_span_make(out, w.len));
                    memcpy(keep[k], out, w.len);
                    last[k] = scitt_span_make(keep[k], w.len);
                }
            }
            for (uint64_t old = 0; old <= size; old++) {
                size_t n = 0;
                if (old > 0 && old < size) {
                    check(scitt_merkle_consistency_proof(&src, old, size, path, &n), SCITT_OK,
                          "consistency proof");
                }
                scitt_cbor_writer w;
                scitt_cbor_writer_init(&w, out, sizeof(out));
                scitt_err e =
                    scitt_receipt_encode_consistency(&h, old, (const uint8_t(*)[32])path, n, &w);
                check(e, old > 0 && old < size ? SCITT_OK : SCITT_ERR_PROOF_MALFORMED,
                      "consistency receipt");
                if (e == SCITT_OK) {
                    snprintf(name, sizeof(name), "consistency-%s-%llu-%llu.cbor", keys[k].name,
                             (unsigned long long)old, (unsigned long long)size);
                    put_file(name, scitt_span_make(out, w.len));
                }
            }
        }
        scitt_cose_key_free(key);
    }
    /* A transparent statement: a statement with both services' receipts at 394. */
    static const uint8_t stmt[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26,
                                   0xa0, 0x41, 0x78, 0x41, 0x00};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    check(scitt_receipt_embed(scitt_span_make(stmt, sizeof(stmt)), last, 2, &w), SCITT_OK, "embed");
    put_file("transparent.cbor", scitt_span_make(b.ptr, b.len));
    scitt_dynbuf_clear(&b);
    memtree_free(&t);
    printf("receipt_shapes: wrote %zu files to %s\n", written, dir);
    return 0;
}
