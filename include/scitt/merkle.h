/*
 * scitt/merkle.h — RFC 9162 §2.1 Merkle trees (SHA-256) and C2SP tlog-tiles addressing.
 *
 * Pure functions: no I/O, and no allocation anywhere in this module. Hashes are 32-byte arrays.
 * Tree sizes and indices are uint64_t. "Node (level, index)" means the root of the perfect subtree
 * over leaves [index * 2^level, (index + 1) * 2^level).
 *
 * Edge cases (docs/merkle.md has the reasoning):
 *  - inclusion: index >= size, or a path of any length other than the one the sizes imply, is
 *    SCITT_ERR_PROOF_MALFORMED; a well-formed proof that leads elsewhere is
 * SCITT_ERR_PROOF_MISMATCH.
 *  - consistency: old size 0 is SCITT_ERR_PROOF_MALFORMED (there is nothing to prove; callers
 *    treat the empty tree before calling), old > new is SCITT_ERR_PROOF_MALFORMED, old == new needs
 *    an empty path (else MALFORMED) and equal roots (else SCITT_ERR_CONSISTENCY); a proof of the
 *    wrong length is MALFORMED; a well-formed proof that does not reproduce both roots is
 *    SCITT_ERR_CONSISTENCY.
 */
#ifndef SCITT_MERKLE_H
#define SCITT_MERKLE_H

#include "scitt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCITT_HASH_LEN 32

/** SHA-256(0x00 || entry). */
SCITT_API void scitt_merkle_leaf_hash(scitt_span entry, uint8_t out[SCITT_HASH_LEN]);
/** SHA-256(0x01 || left || right). @p out may alias either input. */
SCITT_API void scitt_merkle_node_hash(const uint8_t left[SCITT_HASH_LEN],
                                      const uint8_t right[SCITT_HASH_LEN],
                                      uint8_t out[SCITT_HASH_LEN]);
/** MTH({}) = SHA-256(""). */
SCITT_API void scitt_merkle_empty_root(uint8_t out[SCITT_HASH_LEN]);

/** Called for every node an append completes: the leaf (level 0) and each merged parent. */
typedef void (*scitt_merkle_node_cb)(void *ctx, unsigned level, uint64_t index,
                                     const uint8_t hash[SCITT_HASH_LEN]);

/**
 * Compact range over [0, size): the roots of the perfect subtrees that cover the tree, one per
 * set bit of `size` (`nodes[l]` is meaningful when bit l of size is set). O(log n) state; plain
 * data, so it may be copied by assignment.
 */
typedef struct scitt_merkle_compact {
    uint64_t size;
    uint8_t nodes[64][SCITT_HASH_LEN];
} scitt_merkle_compact;

SCITT_API void scitt_merkle_compact_init(scitt_merkle_compact *c);
/**
 * Appends one leaf hash. @p cb (may be NULL) sees the new leaf and every completed parent, lowest
 * level first. SCITT_ERR_RANGE when the tree already holds 2^63 leaves.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_compact_append(scitt_merkle_compact *c,
                                                               const uint8_t leaf[SCITT_HASH_LEN],
                                                               scitt_merkle_node_cb cb,
                                                               void *cb_ctx);
/** MTH of the tree at its current size (the empty-tree hash at size 0). */
SCITT_API void scitt_merkle_compact_root(const scitt_merkle_compact *c,
                                         uint8_t out[SCITT_HASH_LEN]);

/**
 * Where proofs get node hashes: `node` returns node (level, index), which the caller guarantees
 * lies entirely inside the tree. Implementations read tiles from memory or storage.
 */
typedef struct scitt_merkle_source {
    scitt_err (*node)(void *ctx, unsigned level, uint64_t index, uint8_t out[SCITT_HASH_LEN]);
    void *ctx;
} scitt_merkle_source;

/** Loads a compact range for @p size from @p src (used when reopening a stored tree). */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_compact_load(scitt_merkle_compact *c, uint64_t size,
                                                             const scitt_merkle_source *src);

/** MTH(D[begin:end]) for a range that starts on a subtree boundary (as in every RFC 9162 proof). */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_range_root(const scitt_merkle_source *src,
                                                           uint64_t begin, uint64_t end,
                                                           uint8_t out[SCITT_HASH_LEN]);

/** Length of the inclusion path for (index, size); 0 when index >= size. */
SCITT_API size_t scitt_merkle_inclusion_len(uint64_t index, uint64_t size);
/** Length of the consistency path for (old_size, new_size); 0 unless 0 < old < new. */
SCITT_API size_t scitt_merkle_consistency_len(uint64_t old_size, uint64_t new_size);

/**
 * RFC 9162 PATH(index, D[size]) into @p path (room for SCITT_LIMIT_PROOF_HASHES hashes),
 * leaf sibling first. *n receives the length.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_inclusion_proof(const scitt_merkle_source *src,
                                                                uint64_t index, uint64_t size,
                                                                uint8_t path[][SCITT_HASH_LEN],
                                                                size_t *n);
/** RFC 9162 PROOF(old_size, D[new_size]) for 0 < old_size < new_size (old == new: empty). */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_consistency_proof(const scitt_merkle_source *src,
                                                                  uint64_t old_size,
                                                                  uint64_t new_size,
                                                                  uint8_t path[][SCITT_HASH_LEN],
                                                                  size_t *n);

/** RFC 9162 §2.1.3.2: the root that @p path leads to from @p leaf at (index, size). */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_inclusion_root(uint64_t index, uint64_t size,
                                                               const uint8_t leaf[SCITT_HASH_LEN],
                                                               const uint8_t path[][SCITT_HASH_LEN],
                                                               size_t n,
                                                               uint8_t root[SCITT_HASH_LEN]);
/** As scitt_merkle_inclusion_root, then compares with @p root (SCITT_ERR_PROOF_MISMATCH). */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_inclusion_verify(
    uint64_t index, uint64_t size, const uint8_t leaf[SCITT_HASH_LEN],
    const uint8_t path[][SCITT_HASH_LEN], size_t n, const uint8_t root[SCITT_HASH_LEN]);
/**
 * RFC 9162 §2.1.4.2 given the trusted @p old_root: checks the path reproduces it and returns the
 * new root the path commits to in @p new_root (for consistency receipts, whose signature covers
 * the new root).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_consistency_root(
    uint64_t old_size, uint64_t new_size, const uint8_t old_root[SCITT_HASH_LEN],
    const uint8_t path[][SCITT_HASH_LEN], size_t n, uint8_t new_root[SCITT_HASH_LEN]);
/** As scitt_merkle_consistency_root, then compares with @p new_root. */
SCITT_API SCITT_MUST_USE scitt_err scitt_merkle_consistency_verify(
    uint64_t old_size, uint64_t new_size, const uint8_t old_root[SCITT_HASH_LEN],
    const uint8_t new_root[SCITT_HASH_LEN], const uint8_t path[][SCITT_HASH_LEN], size_t n);

/*
 * C2SP tlog-tiles. A tile at tile level L and tile index N holds up to 256 hashes of tree level
 * 8L, indices [256N, 256N + 256). Entry bundles use the same N for leaves.
 */
#define SCITT_TILE_HEIGHT   8u
#define SCITT_TILE_WIDTH    256u
#define SCITT_TILE_PATH_MAX 96u /**< longest path the functions below write, with the NUL */

/**
 * The tile holding node (level, index): tile level, tile index, and the run of stored hashes
 * [first, first + count) (count a power of two) whose MTH is the node.
 */
SCITT_API void scitt_tile_locate(unsigned level, uint64_t index, unsigned *tile_level,
                                 uint64_t *tile_index, unsigned *first, unsigned *count);
/** MTH of @p count (a power of two, <= 256) consecutive hashes: folds them as a perfect subtree. */
SCITT_API void scitt_merkle_fold(const uint8_t hashes[][SCITT_HASH_LEN], unsigned count,
                                 uint8_t out[SCITT_HASH_LEN]);
/** Width (1..256) of tile (tile_level, tile_index) in a tree of @p size, 0 if it does not exist. */
SCITT_API unsigned scitt_tile_width(unsigned tile_level, uint64_t tile_index, uint64_t size);

/** "tile/<L>/<N>" or "tile/<L>/<N>.p/<W>" (W in 1..255; 0 or 256 = full tile). */
SCITT_API SCITT_MUST_USE scitt_err scitt_tile_path(unsigned tile_level, uint64_t tile_index,
                                                   unsigned width, char *out, size_t cap);
/** "tile/entries/<N>[.p/<W>]". */
SCITT_API SCITT_MUST_USE scitt_err scitt_tile_entries_path(uint64_t tile_index, unsigned width,
                                                           char *out, size_t cap);
/**
 * Parses a canonical tile or entry-bundle path (no leading '/'; exactly the forms above). On
 * success *entries tells which, *width is 256 for a full tile. Anything else is
 * SCITT_ERR_MALFORMED.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_tile_parse_path(scitt_span path, bool *entries,
                                                         unsigned *tile_level, uint64_t *tile_index,
                                                         unsigned *width);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_MERKLE_H */
