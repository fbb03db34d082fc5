/*
 * An in-memory Merkle tree for tests and benchmarks: every completed node (level, index) kept in
 * per-level arrays, filled by the compact range's node callback and served as a
 * scitt_merkle_source. Not part of any library.
 */
#ifndef SCITT_MEMTREE_H
#define SCITT_MEMTREE_H

#include <stdlib.h>
#include <string.h>

#include "scitt/merkle.h"

typedef struct memtree {
    scitt_merkle_compact compact;
    uint8_t (*levels[64])[SCITT_HASH_LEN];
    uint64_t caps[64];
} memtree;

static inline void memtree_init(memtree *t)
{
    memset(t, 0, sizeof(*t));
    scitt_merkle_compact_init(&t->compact);
}

static inline void memtree_free(memtree *t)
{
    for (int l = 0; l < 64; l++) {
        free(t->levels[l]);
    }
    memset(t, 0, sizeof(*t));
}

static inline void memtree_store(void *ctx, unsigned level, uint64_t index,
                                 const uint8_t hash[SCITT_HASH_LEN])
{
    memtree *t = ctx;
    if (index >= t->caps[level]) {
        uint64_t cap = t->caps[level] ? t->caps[level] * 2 : 1024;
        while (cap <= index) {
            cap *= 2;
        }
        void *p = realloc(t->levels[level], cap * SCITT_HASH_LEN);
        if (!p) {
            abort();
        }
        t->levels[level] = p;
        t->caps[level] = cap;
    }
    memcpy(t->levels[level][index], hash, SCITT_HASH_LEN);
}

static inline scitt_err memtree_append(memtree *t, const uint8_t leaf[SCITT_HASH_LEN])
{
    return scitt_merkle_compact_append(&t->compact, leaf, memtree_store, t);
}

static inline scitt_err memtree_node(void *ctx, unsigned level, uint64_t index,
                                     uint8_t out[SCITT_HASH_LEN])
{
    memtree *t = ctx;
    if (level >= 64 || ((index + 1) << level) > t->compact.size) {
        return SCITT_ERR_NOT_FOUND;
    }
    memcpy(out, t->levels[level][index], SCITT_HASH_LEN);
    return SCITT_OK;
}

static inline scitt_merkle_source memtree_source(memtree *t)
{
    scitt_merkle_source s = {memtree_node, t};
    return s;
}

#endif /* SCITT_MEMTREE_H */
