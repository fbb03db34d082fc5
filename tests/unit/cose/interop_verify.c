/*
 * The other direction of the interop checks: verifies, with our code, a fixture the independent
 * harness has just made with @transmute/cose (node DEST/js/make-fixture.mjs DIR): both inclusion
 * receipts against entry 4, the transparent statement, the issuer signature, and the consistency
 * receipts (RFC 9162 form accepted, the library's non-RFC form for a power-of-two old size
 * refused).
 *
 *   cose_interop_verify DIR        exit 0: all as expected; 1: a check failed; 2: usage / I/O
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/cose.h"
#include "scitt/receipt.h"

static const char *dir;
static int failures;

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cose_interop_verify: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void root(const char *name, uint8_t out[32])
{
    size_t n, got;
    char *hex = (char *)slurp(name, &n);
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r')) {
        n--;
    }
    if (scitt_hex_decode(scitt_span_make(hex, n), out, 32, &got) != SCITT_OK || got != 32) {
        fprintf(stderr, "cose_interop_verify: %s is not a hash\n", name);
        exit(2);
    }
    free(hex);
}

static void expect(const char *what, scitt_err got, scitt_err want)
{
    printf("%s %s: %s\n", got == want ? "ok  " : "FAIL", what, scitt_err_name(got));
    failures += got != want;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cose_interop_verify DIR\n");
        return 2;
    }
    dir = argv[1];
    size_t n, sl, il;
    uint8_t *jwks = slurp("services.jwks.json", &n);
    scitt_cose_keyset *keys = NULL;
    if (scitt_cose_keyset_from_jwks(scitt_span_make(jwks, n), &keys) != SCITT_OK) {
        fprintf(stderr, "cose_interop_verify: cannot read services.jwks.json\n");
        return 2;
    }
    uint8_t old_root[32], new_root[32], root4[32];
    root("root-old.hex", old_root);
    root("root-new.hex", new_root);
    root("root-4.hex", root4);

    uint8_t *stmt = slurp("statement.cbor", &sl);
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    scitt_err e = scitt_cose_sign1_decode(scitt_span_make(stmt, sl), 0, m);
    expect("statement decodes", e, SCITT_OK);
    uint8_t *ij = slurp("issuer.jwk.json", &il);
    scitt_cose_key *issuer = NULL;
    expect("issuer JWK", scitt_cose_key_from_jwk(scitt_span_make(ij, il), &issuer), SCITT_OK);
    if (e == SCITT_OK && issuer) {
        expect("issuer signature",
               scitt_cose_sign1_verify(m, issuer, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    }
    static const char *receipts[] = {"receipt.cbor", "receipt-ed25519.cbor"};
    for (size_t i = 0; i < 2 && e == SCITT_OK; i++) {
        size_t rl;
        uint8_t *r = slurp(receipts[i], &rl);
        uint8_t leaf[32];
        scitt_receipt_leaf_hash(m, leaf);
        scitt_receipt_info info;
        scitt_err v =
            scitt_receipt_verify_inclusion_leaf(scitt_span_make(r, rl), leaf, keys, 0, &info);
        expect(receipts[i], v, SCITT_OK);
        if (v == SCITT_OK && memcmp(info.root, old_root, 32) != 0) {
            expect("root equals root-old.hex", SCITT_ERR_PROOF_MISMATCH, SCITT_OK);
        }
        free(r);
    }
    size_t tl;
    uint8_t *ts = slurp("transparent-statement.cbor", &tl);
    scitt_ts_result res;
    expect("transparent statement",
           scitt_receipt_verify_transparent(scitt_span_make(ts, tl), keys, 0, &res), SCITT_OK);
    static const struct {
        const char *file;
        uint64_t old_size;
        int which;
        scitt_err want;
    } cons[] = {{"consistency-receipt.cbor", 6, 0, SCITT_OK},
                {"consistency-receipt-4-11-rfc9162.cbor", 4, 1, SCITT_OK},
                {"consistency-receipt-4-11-libform.cbor", 4, 1, SCITT_ERR_PROOF_MALFORMED}};
    for (size_t i = 0; i < 3; i++) {
        size_t cl;
        uint8_t *c = slurp(cons[i].file, &cl);
        scitt_receipt_info info;
        scitt_err v =
            scitt_receipt_verify_consistency(scitt_span_make(c, cl), cons[i].old_size,
                                             cons[i].which ? root4 : old_root, keys, 0, &info);
        expect(cons[i].file, v, cons[i].want);
        if (v == SCITT_OK && memcmp(info.root, new_root, 32) != 0) {
            expect("new root equals root-new.hex", SCITT_ERR_PROOF_MISMATCH, SCITT_OK);
        }
        free(c);
    }
    free(ts);
    free(ij);
    free(stmt);
    free(m);
    free(jwks);
    scitt_cose_key_free(issuer);
    scitt_cose_keyset_free(keys);
    printf("%s\n", failures ? "RESULT: FAIL" : "RESULT: OK");
    return failures ? 1 : 0;
}
