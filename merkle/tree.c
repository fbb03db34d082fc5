/* RFC 9162 §2.1 hashing, the compact-range appender, and proof generation. */
#include "scitt/merkle.h"
#include "scitt/limits.h"

#include <string.h>

void scitt_merkle_leaf_hash(scitt_span entry, uint8_t out[SCITT_HASH_LEN])
{
    static const uint8_t prefix = 0x00;
    scitt_span parts[2] = {{&prefix, 1}, entry};
    scitt_sha256_v(parts, 2, out);
}

void scitt_merkle_node_hash(const uint8_t left[SCITT_HASH_LEN], const uint8_t right[SCITT_HASH_LEN],
                            uint8_t out[SCITT_HASH_LEN])
{
    uint8_t in[1 + 2 * SCITT_HASH_LEN];
    in[0] = 0x01;
    memcpy(in + 1, left, SCITT_HASH_LEN);
    memcpy(in + 1 + SCITT_HASH_LEN, right, SCITT_HASH_LEN);
    scitt_sha256(in, sizeof(in), out);
}

void scitt_merkle_empty_root(uint8_t out[SCITT_HASH_LEN])
{
    scitt_sha256("", 0, out);
}

void scitt_merkle_compact_init(scitt_merkle_compact *c)
{
    c->size = 0;
}

scitt_err scitt_merkle_compact_append(scitt_merkle_compact *c, const uint8_t leaf[SCITT_HASH_LEN],
                                      scitt_merkle_node_cb cb, void *cb_ctx)
{
    if (c->size >= (UINT64_C(1) << 63)) {
        return SCITT_ERR_RANGE;
    }
    uint8_t h[SCITT_HASH_LEN];
    memcpy(h, leaf, SCITT_HASH_LEN);
    unsigned level = 0;
    uint64_t index = c->size;
    if (cb) {
        cb(cb_ctx, 0, index, h);
    }
    /* Each set low bit of the old size is a perfect subtree that the new leaf completes. */
    while ((c->size >> level) & 1) {
        scitt_merkle_node_hash(c->nodes[level], h, h);
        level++;
        index >>= 1;
        if (cb) {
            cb(cb_ctx, level, index, h);
        }
    }
    memcpy(c->nodes[level], h, SCITT_HASH_LEN);
    c->size++;
    return SCITT_OK;
}

void scitt_merkle_compact_root(const scitt_merkle_compact *c, uint8_t out[SCITT_HASH_LEN])
{
    if (c->size == 0) {
        scitt_merkle_empty_root(out);
        return;
    }
    /* Fold right to left: the lowest set bit is the rightmost (smallest) subtree. */
    unsigned l = (unsigned)__builtin_ctzll(c->size);
    uint8_t r[SCITT_HASH_LEN];
    memcpy(r, c->nodes[l], SCITT_HASH_LEN);
    for (l++; l < 64; l++) {
        if ((c->size >> l) & 1) {
            scitt_merkle_node_hash(c->nodes[l], r, r);
        }
    }
    memcpy(out, r, SCITT_HASH_LEN);
}

scitt_err scitt_merkle_compact_load(scitt_merkle_compact *c, uint64_t size,
                                    const scitt_merkle_source *src)
{
    if (size >= (UINT64_C(1) << 63)) {
        return SCITT_ERR_RANGE;
    }
    for (unsigned l = 0; l < 64; l++) {
        if ((size >> l) & 1) {
            scitt_err e = src->node(src->ctx, l, (size >> l) - 1, c->nodes[l]);
            if (e) {
                return e;
            }
        }
    }
    c->size = size;
    return SCITT_OK;
}

static unsigned bit_len(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

scitt_err scitt_merkle_range_root(const scitt_merkle_source *src, uint64_t begin, uint64_t end,
                                  uint8_t out[SCITT_HASH_LEN])
{
    if (begin >= end) {
        return SCITT_ERR_INVALID_ARG;
    }
    uint64_t n = end - begin;
    /* The range must start on a boundary of its largest subtree (true for every proof node). */
    unsigned top = bit_len(n) - 1;
    if ((n & (n - 1)) == 0) {
        if (begin & (n - 1)) {
            return SCITT_ERR_INVALID_ARG;
        }
        return src->node(src->ctx, top, begin >> top, out);
    }
    if (begin & ((UINT64_C(1) << (top + 1)) - 1)) {
        return SCITT_ERR_INVALID_ARG;
    }
    /* Perfect subtrees left to right, one per set bit of n; fold them right to left. */
    uint8_t parts[64][SCITT_HASH_LEN];
    unsigned count = 0;
    uint64_t at = begin;
    for (int l = (int)top; l >= 0; l--) {
        if ((n >> l) & 1) {
            scitt_err e = src->node(src->ctx, (unsigned)l, at >> l, parts[count]);
            if (e) {
                return e;
            }
            count++;
            at += UINT64_C(1) << l;
        }
    }
    for (unsigned i = count - 1; i > 0; i--) {
        scitt_merkle_node_hash(parts[i - 1], parts[i], parts[i - 1]);
    }
    memcpy(out, parts[0], SCITT_HASH_LEN);
    return SCITT_OK;
}

/*
 * The path of node (base, idx) in the tree of `size` leaves, seen as a tree whose leaves are the
 * level-`base` nodes: `inner` siblings from the levels where idx and the last node differ (a right
 * sibling there may be a partial range), then one full left sibling per set bit of idx above.
 */
static size_t node_path_len(unsigned base, uint64_t idx, uint64_t size)
{
    uint64_t last = (size - 1) >> base;
    unsigned inner = bit_len(idx ^ last);
    return inner + (size_t)__builtin_popcountll(inner >= 64 ? 0 : idx >> inner);
}

static scitt_err node_path(const scitt_merkle_source *src, unsigned base, uint64_t idx,
                           uint64_t size, uint8_t path[][SCITT_HASH_LEN], size_t *n)
{
    uint64_t last = (size - 1) >> base;
    unsigned inner = bit_len(idx ^ last);
    size_t k = *n;
    scitt_err e;
    for (unsigned l = 0; l < inner; l++) {
        uint64_t sib = (idx >> l) ^ 1;
        unsigned lv = l + base;
        uint64_t begin = sib << lv;
        uint64_t end = begin + (UINT64_C(1) << lv);
        if (end > size) {
            end = size;
        }
        e = scitt_merkle_range_root(src, begin, end, path[k++]);
        if (e) {
            return e;
        }
    }
    for (unsigned l = inner; l < 64; l++) {
        if ((idx >> l) & 1) {
            e = src->node(src->ctx, l + base, (idx >> l) - 1, path[k++]);
            if (e) {
                return e;
            }
        }
    }
    *n = k;
    return SCITT_OK;
}

size_t scitt_merkle_inclusion_len(uint64_t index, uint64_t size)
{
    return index < size ? node_path_len(0, index, size) : 0;
}

size_t scitt_merkle_consistency_len(uint64_t old_size, uint64_t new_size)
{
    if (old_size == 0 || old_size >= new_size) {
        return 0;
    }
    unsigned base = (unsigned)__builtin_ctzll(old_size);
    uint64_t idx = (old_size - 1) >> base;
    return (idx != 0) + node_path_len(base, idx, new_size);
}

scitt_err scitt_merkle_inclusion_proof(const scitt_merkle_source *src, uint64_t index,
                                       uint64_t size, uint8_t path[][SCITT_HASH_LEN], size_t *n)
{
    *n = 0;
    if (index >= size) {
        return SCITT_ERR_INVALID_ARG;
    }
    return node_path(src, 0, index, size, path, n);
}

scitt_err scitt_merkle_consistency_proof(const scitt_merkle_source *src, uint64_t old_size,
                                         uint64_t new_size, uint8_t path[][SCITT_HASH_LEN],
                                         size_t *n)
{
    *n = 0;
    if (old_size == 0 || old_size > new_size) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (old_size == new_size) {
        return SCITT_OK;
    }
    /*
     * The old tree's last perfect subtree is node (base, idx). Its path in the new tree is the
     * proof; the node itself goes first unless it is the whole old tree (old size a power of two),
     * whose root the verifier already holds.
     */
    unsigned base = (unsigned)__builtin_ctzll(old_size);
    uint64_t idx = (old_size - 1) >> base;
    if (idx != 0) {
        scitt_err e = src->node(src->ctx, base, idx, path[0]);
        if (e) {
            return e;
        }
        *n = 1;
    }
    return node_path(src, base, idx, new_size, path, n);
}
