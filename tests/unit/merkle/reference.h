/*
 * A deliberately naive, recursive transcription of RFC 9162 §2.1 (MTH, PATH, PROOF) over leaf
 * hashes, used to check the iterative implementation. Sizes in tests are small.
 */
#ifndef SCITT_MERKLE_REFERENCE_H
#define SCITT_MERKLE_REFERENCE_H

#include <string.h>

#include "scitt/merkle.h"

typedef struct ref_proof {
    uint8_t h[64][SCITT_HASH_LEN];
    /* role of each element: 'L' combined as a left sibling, 'R' as a right sibling, 'S' the
     * starting node of a consistency proof */
    char role[64];
    size_t n;
} ref_proof;

static uint64_t ref_split(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    return k;
}

static void ref_mth(const uint8_t (*leaves)[SCITT_HASH_LEN], uint64_t n,
                    uint8_t out[SCITT_HASH_LEN])
{
    if (n == 0) {
        scitt_merkle_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], SCITT_HASH_LEN);
        return;
    }
    uint64_t k = ref_split(n);
    uint8_t l[SCITT_HASH_LEN], r[SCITT_HASH_LEN];
    ref_mth(leaves, k, l);
    ref_mth(leaves + k, n - k, r);
    scitt_merkle_node_hash(l, r, out);
}

static void ref_push(ref_proof *p, const uint8_t h[SCITT_HASH_LEN], char role)
{
    memcpy(p->h[p->n], h, SCITT_HASH_LEN);
    p->role[p->n] = role;
    p->n++;
}

static void ref_path(uint64_t m, const uint8_t (*leaves)[SCITT_HASH_LEN], uint64_t n, ref_proof *p)
{
    if (n <= 1) {
        return;
    }
    uint64_t k = ref_split(n);
    uint8_t h[SCITT_HASH_LEN];
    if (m < k) {
        ref_path(m, leaves, k, p);
        ref_mth(leaves + k, n - k, h);
        ref_push(p, h, 'R');
    } else {
        ref_path(m - k, leaves + k, n - k, p);
        ref_mth(leaves, k, h);
        ref_push(p, h, 'L');
    }
}

static void ref_subproof(uint64_t m, const uint8_t (*leaves)[SCITT_HASH_LEN], uint64_t n, int b,
                         ref_proof *p)
{
    uint8_t h[SCITT_HASH_LEN];
    if (m == n) {
        if (!b) {
            ref_mth(leaves, n, h);
            ref_push(p, h, 'S');
        }
        return;
    }
    uint64_t k = ref_split(n);
    if (m <= k) {
        ref_subproof(m, leaves, k, b, p);
        ref_mth(leaves + k, n - k, h);
        ref_push(p, h, 'R');
    } else {
        ref_subproof(m - k, leaves + k, n - k, 0, p);
        ref_mth(leaves, k, h);
        ref_push(p, h, 'L');
    }
}

/* The shape of PATH(m, D[n]) without hashes: the roles only. */
static void ref_path_shape(uint64_t m, uint64_t n, char *out, size_t *len)
{
    size_t k = 0;
    char tmp[64];
    while (n > 1) {
        uint64_t s = ref_split(n);
        if (m < s) {
            tmp[k++] = 'R';
            n = s;
        } else {
            tmp[k++] = 'L';
            m -= s;
            n -= s;
        }
    }
    /* recursion appends on the way out: reverse */
    for (size_t i = 0; i < k; i++) {
        out[i] = tmp[k - 1 - i];
    }
    *len = k;
}

/* The shape of PROOF(m, D[n]) (roles only), 0 < m < n. */
static void ref_consistency_shape(uint64_t m, uint64_t n, char *out, size_t *len)
{
    size_t k = 0;
    char tmp[65];
    int b = 1;
    while (m != n) {
        uint64_t s = ref_split(n);
        if (m <= s) {
            tmp[k++] = 'R';
            n = s;
        } else {
            tmp[k++] = 'L';
            m -= s;
            n -= s;
            b = 0;
        }
    }
    if (!b) {
        tmp[k++] = 'S';
    }
    for (size_t i = 0; i < k; i++) {
        out[i] = tmp[k - 1 - i];
    }
    *len = k;
}

#endif
