/*
 * Verifies, with the library, the CCF consistency receipts (vds 2, 396/-2) that an independent
 * implementation wrote (tests/interop/py/ccf_consistency.py): DIR/key.pem, DIR/manifest.txt with
 * lines "NAME OLD_SIZE OLD_ROOT_HEX ok|bad", DIR/NAME.cbor. Each receipt must verify (ok) or be
 * refused (bad) by scitt_receipt_verify_consistency; the key is found by the receipt's kid, the
 * base64url text of its RFC 9679 thumbprint as the other side computed it.
 *
 *   ccf_consistency_verify DIR     exit 0: all as expected; 1: a check failed; 2: usage / I/O
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/cose.h"
#include "scitt/receipt.h"

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ccf_consistency_verify: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || n < 0 || fread(b, 1, (size_t)n, f) != (size_t)n) {
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ccf_consistency_verify DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    size_t len;
    uint8_t *pem = slurp(dir, "key.pem", &len);
    scitt_cose_key *key = NULL;
    scitt_cose_keyset *keys = NULL;
    if (scitt_cose_key_from_pem(scitt_span_make(pem, len), &key) != SCITT_OK ||
        scitt_cose_keyset_new(&keys) != SCITT_OK || scitt_cose_keyset_add(keys, key) != SCITT_OK) {
        fprintf(stderr, "ccf_consistency_verify: bad key.pem\n");
        return 2;
    }
    free(pem);
    char path[4096];
    snprintf(path, sizeof(path), "%s/manifest.txt", dir);
    FILE *m = fopen(path, "r");
    if (!m) {
        fprintf(stderr, "ccf_consistency_verify: cannot open %s\n", path);
        return 2;
    }
    char name[256], root_hex[80], expect[8];
    unsigned long long old_size;
    int checked = 0, failures = 0, oks = 0, bads = 0;
    while (fscanf(m, "%255s %llu %79s %7s", name, &old_size, root_hex, expect) == 4) {
        uint8_t root[32];
        size_t rl = 0;
        if (scitt_hex_decode(scitt_span_str(root_hex), root, sizeof(root), &rl) != SCITT_OK ||
            rl != 32) {
            fprintf(stderr, "ccf_consistency_verify: bad root for %s\n", name);
            return 2;
        }
        char file[300];
        snprintf(file, sizeof(file), "%s.cbor", name);
        uint8_t *r = slurp(dir, file, &len);
        scitt_receipt_info info;
        scitt_err e = scitt_receipt_verify_consistency(scitt_span_make(r, len), old_size, root,
                                                       keys, 0, &info);
        free(r);
        bool want_ok = strcmp(expect, "ok") == 0;
        if (want_ok && e == SCITT_OK && info.vds == SCITT_VDS_CCF_LEDGER_SHA256) {
            oks++;
        } else if (!want_ok && e != SCITT_OK && e != SCITT_ERR_UNTRUSTED) {
            bads++; /* refused for what is wrong with it, not for want of its key */
        } else {
            printf("FAIL: %s (expected %s): %s\n", name, expect, scitt_err_str(e));
            failures++;
        }
        checked++;
    }
    fclose(m);
    scitt_cose_keyset_free(keys);
    scitt_cose_key_free(key);
    if (checked == 0) {
        printf("FAIL: no receipts in %s\n", path);
        return 1;
    }
    printf("%d receipts: %d verified, %d refused as expected, %d not as expected\n", checked, oks,
           bads, failures);
    if (failures == 0) {
        printf("RESULT: OK\n");
    }
    return failures ? 1 : 0;
}
