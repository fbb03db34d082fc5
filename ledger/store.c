/* Record codecs and zero-copy readers shared by the ledger, over the storage seam. */
#include "store.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void scitt__store_close(scitt__store *s)
{
    if (s->ops) {
        s->ops->close(s);
        s->ops = NULL;
    }
}

scitt_err scitt__store_grow(scitt__store *s)
{
    return s->ops->grow(s);
}

void scitt__be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t scitt__get_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | in[i];
    }
    return v;
}

void scitt__tile_key(uint8_t out[9], unsigned level, uint64_t index)
{
    out[0] = (uint8_t)level;
    scitt__be64(out + 1, index);
}

void scitt__tile_locate(unsigned level, uint64_t index, unsigned *tile_level, uint64_t *tile_index)
{
    unsigned r = level % SCITT_TILE_HEIGHT;
    *tile_level = level / SCITT_TILE_HEIGHT;
    *tile_index = r == 0 ? index / TILE_BASE : index >> (SCITT_TILE_HEIGHT - r);
}

/* Slot of a stored node inside its record: base hashes first, then levels 2..7 in order. */
static size_t tile_slot(unsigned level, uint64_t index)
{
    unsigned r = level % SCITT_TILE_HEIGHT;
    if (r == 0) {
        return (size_t)(index % TILE_BASE);
    }
    unsigned per_tile = TILE_BASE >> r;
    unsigned offset = TILE_BASE / 2 - (TILE_BASE >> (r - 1)); /* levels 2 .. r-1 before it */
    return TILE_BASE + offset + (size_t)(index & (per_tile - 1));
}

void scitt__tile_read(const uint8_t *tile, unsigned level, uint64_t index,
                      uint8_t out[SCITT_HASH_LEN])
{
    if (level % SCITT_TILE_HEIGHT == 1) {
        size_t left = tile_slot(level - 1, index * 2);
        scitt_merkle_node_hash(tile + left * SCITT_HASH_LEN, tile + (left + 1) * SCITT_HASH_LEN,
                               out);
        return;
    }
    memcpy(out, tile + tile_slot(level, index) * SCITT_HASH_LEN, SCITT_HASH_LEN);
}

bool scitt__tile_write(uint8_t *tile, unsigned level, uint64_t index,
                       const uint8_t hash[SCITT_HASH_LEN])
{
    if (level % SCITT_TILE_HEIGHT == 1) {
        return false;
    }
    memcpy(tile + tile_slot(level, index) * SCITT_HASH_LEN, hash, SCITT_HASH_LEN);
    return true;
}

/*
 * Head record: version u8, root[32], time_ms be64, policy be64, then three be32-length-prefixed
 * blobs: receipt protected header, receipt signature, checkpoint note.
 */
scitt_err scitt__head_encode(const scitt_tree_head *h, scitt_dynbuf *out)
{
    uint8_t n[8];
    scitt_dynbuf_u8(out, HEAD_VERSION);
    scitt_dynbuf_put(out, h->root, SCITT_HASH_LEN);
    scitt__be64(n, (uint64_t)h->time_ms);
    scitt_dynbuf_put(out, n, 8);
    scitt__be64(n, h->policy_index);
    scitt_dynbuf_put(out, n, 8);
    const scitt_span blobs[3] = {h->receipt_protected, h->receipt_signature, h->checkpoint};
    for (int i = 0; i < 3; i++) {
        if (blobs[i].len > UINT32_MAX) {
            return SCITT_ERR_TOO_LARGE;
        }
        uint8_t l[4] = {(uint8_t)(blobs[i].len >> 24), (uint8_t)(blobs[i].len >> 16),
                        (uint8_t)(blobs[i].len >> 8), (uint8_t)blobs[i].len};
        scitt_dynbuf_put(out, l, 4);
        scitt_dynbuf_put(out, blobs[i].ptr, blobs[i].len);
    }
    return out->err;
}

scitt_err scitt__head_decode(uint64_t size, scitt_span value, scitt_tree_head *out)
{
    scitt_reader r;
    scitt_reader_init(&r, value);
    if (scitt_reader_u8(&r) != HEAD_VERSION) {
        return SCITT_ERR_CORRUPT;
    }
    out->size = size;
    scitt_span root = scitt_reader_take(&r, SCITT_HASH_LEN);
    if (root.len == SCITT_HASH_LEN) {
        memcpy(out->root, root.ptr, SCITT_HASH_LEN);
    }
    out->time_ms = (int64_t)scitt_reader_be64(&r);
    out->policy_index = scitt_reader_be64(&r);
    scitt_span *blobs[3] = {&out->receipt_protected, &out->receipt_signature, &out->checkpoint};
    for (int i = 0; i < 3; i++) {
        uint32_t len = scitt_reader_be32(&r);
        *blobs[i] = scitt_reader_take(&r, len);
    }
    return scitt_reader_finish(&r) == SCITT_OK ? SCITT_OK : SCITT_ERR_CORRUPT;
}

scitt_err scitt__head_get(scitt__txn *txn, const scitt__store *s, uint64_t size,
                          scitt_tree_head *out)
{
    uint8_t kb[8];
    scitt__be64(kb, size);
    scitt_span v;
    scitt_err e = scitt__kv_get(s, txn, SCITT__T_HEADS, scitt_span_make(kb, 8), &v);
    if (e != SCITT_OK) {
        return e;
    }
    return scitt__head_decode(size, v, out);
}

scitt_err scitt__head_latest(scitt__txn *txn, const scitt__store *s, scitt_tree_head *out)
{
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(s, txn, SCITT__T_HEADS, &c);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_span k = {NULL, 0}, v = {NULL, 0};
    e = scitt__cursor_get(s, c, &k, &v, SCITT__OP_LAST);
    scitt__cursor_close(s, c);
    if (e != SCITT_OK) {
        return e;
    }
    if (k.len != 8) {
        return SCITT_ERR_CORRUPT;
    }
    return scitt__head_decode(scitt__get_be64(k.ptr), v, out);
}

scitt_err scitt__head_latest_copy(scitt__txn *txn, const scitt__store *s, scitt_tree_head *out,
                                  scitt_dynbuf *storage)
{
    scitt_tree_head h;
    scitt_err e = scitt__head_latest(txn, s, &h);
    if (e != SCITT_OK) {
        return e;
    }
    const scitt_span parts[3] = {h.receipt_protected, h.receipt_signature, h.checkpoint};
    scitt_span *dst[3] = {&out->receipt_protected, &out->receipt_signature, &out->checkpoint};
    *out = h;
    size_t at[3];
    for (int i = 0; i < 3; i++) {
        at[i] = storage->len;
        scitt_dynbuf_put(storage, parts[i].ptr, parts[i].len);
    }
    /* the spans point into the copy only once every append is done (the buffer may move) */
    for (int i = 0; storage->err == SCITT_OK && i < 3; i++) {
        *dst[i] = scitt_span_make(storage->ptr + at[i], parts[i].len);
    }
    return storage->err;
}

scitt_err scitt__tile_get(scitt__txn *txn, const scitt__store *s, unsigned level, uint64_t index,
                          const uint8_t **hashes)
{
    uint8_t kb[9];
    scitt__tile_key(kb, level, index);
    scitt_span v;
    scitt_err e = scitt__kv_get(s, txn, SCITT__T_TILES, scitt_span_make(kb, 9), &v);
    if (e != SCITT_OK) {
        return e;
    }
    if (v.len != TILE_BYTES) {
        return SCITT_ERR_CORRUPT;
    }
    *hashes = v.ptr;
    return SCITT_OK;
}

/* Asks the kernel to read the pages of a value in the map at once, before a scan walks them one
 * fault at a time (the map has no read-ahead); only a hint, so its failure changes nothing. */
static void will_read(const void *p, size_t len)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(page - 1), end = (uintptr_t)p + len;
    (void)madvise((void *)a, end - a, MADV_WILLNEED);
}

/* Entry @p pos of a bundle: at its recorded offset when @p offsets is not empty, else found by
 * walking the length prefixes from the start. */
static scitt_err bundle_pick(scitt_span bundle, scitt_span offsets, unsigned pos, scitt_span *entry)
{
    scitt_reader r;
    scitt_reader_init(&r, bundle);
    unsigned skip = pos;
    if (offsets.len) {
        if (offsets.len != 4u * BUNDLE_ENTRIES) {
            return SCITT_ERR_CORRUPT;
        }
        scitt_reader o;
        scitt_reader_init(&o, offsets);
        (void)scitt_reader_take(&o, 4u * pos);
        (void)scitt_reader_take(&r, scitt_reader_be32(&o)); /* fails past the end */
        skip = 0;
    } else {
        will_read(bundle.ptr, bundle.len);
    }
    for (unsigned i = 0;; i++) {
        uint32_t len = scitt_reader_be32(&r);
        scitt_span e = scitt_reader_take(&r, len);
        if (r.err != SCITT_OK) {
            return SCITT_ERR_CORRUPT;
        }
        if (i == skip) {
            *entry = e;
            return SCITT_OK;
        }
    }
}

scitt_err scitt__bundle_offsets_put(scitt__txn *txn, const scitt__store *s, uint64_t bundle,
                                    scitt_span bytes)
{
    uint8_t off[4u * BUNDLE_ENTRIES];
    scitt_writer w;
    scitt_writer_init(&w, off, sizeof(off));
    scitt_reader r;
    scitt_reader_init(&r, bytes);
    for (unsigned i = 0; i < BUNDLE_ENTRIES; i++) {
        scitt_writer_be32(&w, (uint32_t)(bytes.len - scitt_reader_left(&r)));
        uint32_t len = scitt_reader_be32(&r);
        (void)scitt_reader_take(&r, len);
    }
    if (r.err != SCITT_OK || scitt_reader_left(&r) != 0) {
        return SCITT_ERR_CORRUPT; /* not a complete bundle */
    }
    uint8_t kb[8];
    scitt__be64(kb, bundle);
    return scitt__kv_put(s, txn, SCITT__T_BOFFSETS, scitt_span_make(kb, 8),
                         scitt_span_make(off, sizeof(off)), 0);
}

/*
 * Entry @p pos of a complete bundle by its offset, reading only its bytes: for backends that copy
 * values out (get_range). SCITT_ERR_NOT_FOUND when the bundle has no offsets record.
 */
static scitt_err bundle_entry_range(scitt__txn *txn, const scitt__store *s, scitt_span k,
                                    unsigned pos, scitt_span *entry)
{
    scitt_span ov;
    scitt_err e = scitt__kv_get(s, txn, SCITT__T_BOFFSETS, k, &ov);
    if (e != SCITT_OK) {
        return e;
    }
    if (ov.len != 4u * BUNDLE_ENTRIES) {
        return SCITT_ERR_CORRUPT;
    }
    scitt_reader o;
    scitt_reader_init(&o, ov);
    (void)scitt_reader_take(&o, 4u * pos);
    uint32_t off = scitt_reader_be32(&o);
    /* up to the next entry's offset; the last entry runs to the end of the bundle */
    uint32_t end = pos + 1 < BUNDLE_ENTRIES ? scitt_reader_be32(&o) : UINT32_C(0x7fffffff);
    if (end < off || end - off < 4 || off > UINT32_C(0x7fffffff)) {
        return SCITT_ERR_CORRUPT;
    }
    scitt_span v;
    e = s->ops->get_range(s, txn, SCITT__T_BUNDLES, k, off, end - off, &v);
    if (e == SCITT_ERR_NOT_FOUND) {
        return SCITT_ERR_CORRUPT; /* offsets without their bundle */
    }
    if (e != SCITT_OK) {
        return e;
    }
    scitt_reader r;
    scitt_reader_init(&r, v);
    uint32_t len = scitt_reader_be32(&r);
    *entry = scitt_reader_take(&r, len);
    /* the slice is exactly the entry, up to the next offset (the leaf hash in the tile is the
     * check of the bytes themselves) */
    bool exact = pos + 1 == BUNDLE_ENTRIES || scitt_reader_left(&r) == 0;
    return r.err == SCITT_OK && exact ? SCITT_OK : SCITT_ERR_CORRUPT;
}

/* Where entry @p index is kept: in its complete bundle, or on its own while its bundle is the
 * last, incomplete one. The bytes are not checked yet. */
static scitt_err entry_find(scitt__txn *txn, const scitt__store *s, uint64_t index,
                            scitt_span *entry)
{
    uint8_t kb[8];
    scitt__be64(kb, index / BUNDLE_ENTRIES);
    scitt_span k = scitt_span_make(kb, 8), v;
    unsigned pos = (unsigned)(index % BUNDLE_ENTRIES);
    if (s->has_boffsets && s->ops->get_range) {
        scitt_err e = bundle_entry_range(txn, s, k, pos, entry);
        if (e != SCITT_ERR_NOT_FOUND) {
            return e;
        }
    }
    scitt_err e = scitt__kv_get(s, txn, SCITT__T_BUNDLES, k, &v);
    if (e == SCITT_OK) {
        scitt_span ov = {NULL, 0};
        if (s->has_boffsets) {
            scitt_err g = scitt__kv_get(s, txn, SCITT__T_BOFFSETS, k, &ov);
            if (g != SCITT_OK && g != SCITT_ERR_NOT_FOUND) {
                return g;
            }
            if (g == SCITT_ERR_NOT_FOUND) {
                ov = scitt_span_make(NULL, 0);
            }
        }
        return bundle_pick(v, ov, pos, entry);
    }
    if (e == SCITT_ERR_NOT_FOUND) {
        /* not in a complete bundle: one of the last, incomplete bundle's entries */
        scitt__be64(kb, index);
        e = scitt__kv_get(s, txn, SCITT__T_RECENT, k, entry);
    }
    return e;
}

scitt_err scitt__entry_get(scitt__txn *txn, const scitt__store *s, uint64_t index, uint64_t size,
                           scitt_span *entry)
{
    if (index >= size) {
        return SCITT_ERR_NOT_FOUND;
    }
    scitt_err e = entry_find(txn, s, index, entry);
    if (e == SCITT_ERR_NOT_FOUND) {
        return SCITT_ERR_CORRUPT; /* below the tree size, so it must exist */
    }
    if (e != SCITT_OK) {
        return e;
    }
    /* Storage keeps no checksums we trust: the stored leaf hash is the check. */
    const uint8_t *tile;
    e = scitt__tile_get(txn, s, 0, index / TILE_BASE, &tile);
    if (e != SCITT_OK) {
        return e == SCITT_ERR_NOT_FOUND ? SCITT_ERR_CORRUPT : e;
    }
    uint8_t leaf[SCITT_HASH_LEN];
    scitt_merkle_leaf_hash(*entry, leaf);
    if (memcmp(leaf, tile + (index % TILE_BASE) * SCITT_HASH_LEN, SCITT_HASH_LEN) != 0) {
        return SCITT_ERR_CORRUPT;
    }
    return SCITT_OK;
}

void scitt__posting_hash(scitt_span value, uint8_t out[8])
{
    uint8_t h[SCITT_SHA256_LEN];
    scitt_sha256(value.ptr, value.len, h);
    memcpy(out, h, 8);
}

void scitt__posting_make(const uint8_t hash[8], uint64_t index, uint8_t key[POSTING_KEY_BYTES],
                         uint8_t val[POSTING_BYTES])
{
    memcpy(key, hash, POSTING_KEY_BYTES);
    memcpy(val, hash + POSTING_KEY_BYTES, POSTING_HASH_BYTES);
    for (unsigned i = 0; i < POSTING_INDEX_BYTES; i++) {
        val[POSTING_HASH_BYTES + i] = (uint8_t)(index >> (8 * (POSTING_INDEX_BYTES - 1 - i)));
    }
}

uint64_t scitt__posting_index(const uint8_t val[POSTING_BYTES])
{
    uint64_t v = 0;
    for (unsigned i = 0; i < POSTING_INDEX_BYTES; i++) {
        v = (v << 8) | val[POSTING_HASH_BYTES + i];
    }
    return v;
}

bool scitt__posting_matches(const uint8_t val[POSTING_BYTES], const uint8_t hash[8])
{
    return memcmp(val, hash + POSTING_KEY_BYTES, POSTING_HASH_BYTES) == 0;
}
