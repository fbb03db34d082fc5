/*
 * Proof verification, transcribed step by step from RFC 9162 §2.1.3.2 and §2.1.4.2. The expected
 * path length is computed from the sizes first, so a proof of any other length is rejected as
 * malformed before any hashing; the RFC's own checks then stay in place as written.
 */
#include "scitt/merkle.h"
#include "scitt/limits.h"

#include <string.h>

scitt_err scitt_merkle_inclusion_root(uint64_t index, uint64_t size,
                                      const uint8_t leaf[SCITT_HASH_LEN],
                                      const uint8_t path[][SCITT_HASH_LEN], size_t n,
                                      uint8_t root[SCITT_HASH_LEN])
{
    /* step 1 */
    if (index >= size || n > SCITT_LIMIT_PROOF_HASHES ||
        n != scitt_merkle_inclusion_len(index, size)) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    /* steps 2 and 3 */
    uint64_t fn = index, sn = size - 1;
    uint8_t r[SCITT_HASH_LEN];
    memcpy(r, leaf, SCITT_HASH_LEN);
    /* step 4 */
    for (size_t i = 0; i < n; i++) {
        if (sn == 0) {
            return SCITT_ERR_PROOF_MALFORMED;
        }
        if ((fn & 1) || fn == sn) {
            scitt_merkle_node_hash(path[i], r, r);
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            scitt_merkle_node_hash(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* step 5, first half; the comparison with the expected root is the caller's */
    if (sn != 0) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    memcpy(root, r, SCITT_HASH_LEN);
    return SCITT_OK;
}

scitt_err scitt_merkle_inclusion_verify(uint64_t index, uint64_t size,
                                        const uint8_t leaf[SCITT_HASH_LEN],
                                        const uint8_t path[][SCITT_HASH_LEN], size_t n,
                                        const uint8_t root[SCITT_HASH_LEN])
{
    uint8_t got[SCITT_HASH_LEN];
    scitt_err e = scitt_merkle_inclusion_root(index, size, leaf, path, n, got);
    if (e) {
        return e;
    }
    return memcmp(got, root, SCITT_HASH_LEN) == 0 ? SCITT_OK : SCITT_ERR_PROOF_MISMATCH;
}

scitt_err scitt_merkle_consistency_root(uint64_t old_size, uint64_t new_size,
                                        const uint8_t old_root[SCITT_HASH_LEN],
                                        const uint8_t path[][SCITT_HASH_LEN], size_t n,
                                        uint8_t new_root[SCITT_HASH_LEN])
{
    if (old_size == 0 || old_size > new_size) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    if (old_size == new_size) {
        if (n != 0) {
            return SCITT_ERR_PROOF_MALFORMED;
        }
        memcpy(new_root, old_root, SCITT_HASH_LEN);
        return SCITT_OK;
    }
    /* step 1, and the exact length the sizes imply */
    if (n == 0 || n > SCITT_LIMIT_PROOF_HASHES ||
        n != scitt_merkle_consistency_len(old_size, new_size)) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    /* step 2: when old_size is a power of two, old_root is the implicit first element */
    bool prepend = (old_size & (old_size - 1)) == 0;
    size_t total = n + (prepend ? 1 : 0);
#define ELEM(i) (prepend ? ((i) == 0 ? old_root : path[(i)-1]) : path[(i)])
    /* step 3 */
    uint64_t fn = old_size - 1, sn = new_size - 1;
    /* step 4 */
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    /* step 5 */
    uint8_t fr[SCITT_HASH_LEN], sr[SCITT_HASH_LEN];
    memcpy(fr, ELEM(0), SCITT_HASH_LEN);
    memcpy(sr, ELEM(0), SCITT_HASH_LEN);
    /* step 6 */
    for (size_t i = 1; i < total; i++) {
        const uint8_t *c = ELEM(i);
        if (sn == 0) {
            return SCITT_ERR_PROOF_MALFORMED;
        }
        if ((fn & 1) || fn == sn) {
            scitt_merkle_node_hash(c, fr, fr);
            scitt_merkle_node_hash(c, sr, sr);
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            scitt_merkle_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
#undef ELEM
    /* step 7 (the comparison of sr with an expected new root is the caller's) */
    if (sn != 0) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    if (memcmp(fr, old_root, SCITT_HASH_LEN) != 0) {
        return SCITT_ERR_CONSISTENCY;
    }
    memcpy(new_root, sr, SCITT_HASH_LEN);
    return SCITT_OK;
}

scitt_err scitt_merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
                                          const uint8_t old_root[SCITT_HASH_LEN],
                                          const uint8_t new_root[SCITT_HASH_LEN],
                                          const uint8_t path[][SCITT_HASH_LEN], size_t n)
{
    uint8_t got[SCITT_HASH_LEN];
    scitt_err e = scitt_merkle_consistency_root(old_size, new_size, old_root, path, n, got);
    if (e) {
        return e;
    }
    return memcmp(got, new_root, SCITT_HASH_LEN) == 0 ? SCITT_OK : SCITT_ERR_CONSISTENCY;
}
