/* Read snapshots: tree heads, entries, proofs, tiles, entry bundles and index postings. */
#include "ledger_int.h"

#include <string.h>

#include "scitt/limits.h"

struct scitt_ledger_read {
    scitt_ledger *l;
    scitt__txn *txn;
    scitt__txn *itxn;
    bool have_latest;
    scitt_tree_head latest;
    /* the tile of the last node lookup: proofs ask for neighbours in the same tile */
    unsigned cached_level;
    uint64_t cached_index;
    const uint8_t *cached_tile;
};

scitt_err scitt_ledger_read_begin(scitt_ledger *l, scitt_ledger_read **out)
{
    *out = NULL;
    scitt_ledger_read *r = scitt_calloc(1, sizeof(*r));
    if (!r) {
        return SCITT_ERR_NOMEM;
    }
    r->l = l;
    scitt_err e = l->store.ops->snapshot_begin(&l->store, &r->txn, &r->itxn);
    if (e != SCITT_OK) {
        scitt_free(r);
        return e;
    }
    *out = r;
    return SCITT_OK;
}

void scitt_ledger_read_end(scitt_ledger_read *r)
{
    if (!r) {
        return;
    }
    r->l->store.ops->snapshot_end(&r->l->store, r->txn, r->itxn);
    scitt_free(r);
}

/* The newest head of the snapshot with size <= @p bound (SCITT_ERR_NOT_FOUND when none). */
static scitt_err head_at_most(scitt_ledger_read *r, uint64_t bound, scitt_tree_head *out)
{
    if (bound == 0) {
        return SCITT_ERR_NOT_FOUND;
    }
    scitt_err e = scitt__head_get(r->txn, &r->l->store, bound, out);
    if (e != SCITT_ERR_NOT_FOUND) {
        return e;
    }
    /* not a head of its own (a size is durable only with its head, but be exact anyway) */
    const scitt__store *s = &r->l->store;
    scitt__cursor *c;
    e = scitt__cursor_open(s, r->txn, SCITT__T_HEADS, &c);
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t kb[8];
    scitt__be64(kb, bound);
    scitt_span k = scitt_span_make(kb, 8), v = {NULL, 0};
    e = scitt__cursor_get(s, c, &k, &v, SCITT__OP_SET_RANGE);
    if (e == SCITT_OK || e == SCITT_ERR_NOT_FOUND) {
        e = scitt__cursor_get(s, c, &k, &v, e == SCITT_OK ? SCITT__OP_PREV : SCITT__OP_LAST);
    }
    if (e == SCITT_OK) {
        e = k.len == 8 ? scitt__head_decode(scitt__get_be64(k.ptr), v, out) : SCITT_ERR_CORRUPT;
    }
    scitt__cursor_close(s, c);
    return e;
}

scitt_err scitt_ledger_latest(scitt_ledger_read *r, scitt_tree_head *out)
{
    if (!r->have_latest) {
        scitt_err e = scitt__head_latest(r->txn, &r->l->store, &r->latest);
        if (e != SCITT_OK) {
            return e;
        }
        /* Never past what is known durable (see scitt__ledger_durable). */
        uint64_t durable = scitt__ledger_durable(r->l, r->latest.size);
        if (durable < r->latest.size) {
            e = head_at_most(r, durable, &r->latest);
            if (e != SCITT_OK) {
                return e;
            }
        }
        r->have_latest = true;
    }
    *out = r->latest;
    return SCITT_OK;
}

static uint64_t latest_size(scitt_ledger_read *r)
{
    scitt_tree_head h;
    return scitt_ledger_latest(r, &h) == SCITT_OK ? h.size : 0;
}

scitt_err scitt_ledger_head(scitt_ledger_read *r, uint64_t size, scitt_tree_head *out)
{
    if (size > latest_size(r)) {
        return SCITT_ERR_NOT_FOUND;
    }
    return scitt__head_get(r->txn, &r->l->store, size, out);
}

scitt_err scitt_ledger_head_covering(scitt_ledger_read *r, uint64_t index, scitt_tree_head *out)
{
    const scitt__store *s = &r->l->store;
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(s, r->txn, SCITT__T_HEADS, &c);
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t kb[8];
    scitt__be64(kb, index + 1);
    scitt_span k = scitt_span_make(kb, 8), v = {NULL, 0};
    e = scitt__cursor_get(s, c, &k, &v, SCITT__OP_SET_RANGE);
    if (e == SCITT_OK) {
        e = k.len == 8 ? scitt__head_decode(scitt__get_be64(k.ptr), v, out) : SCITT_ERR_CORRUPT;
    }
    scitt__cursor_close(s, c);
    if (e == SCITT_OK && out->size > latest_size(r)) {
        e = SCITT_ERR_NOT_FOUND;
    }
    return e;
}

scitt_err scitt_ledger_heads(scitt_ledger_read *r, uint64_t from, uint64_t to,
                             scitt_err (*visit)(void *ctx, const scitt_tree_head *h), void *ctx)
{
    const scitt__store *s = &r->l->store;
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(s, r->txn, SCITT__T_HEADS, &c);
    if (e != SCITT_OK) {
        return e;
    }
    uint64_t latest = latest_size(r);
    if (to > latest) {
        to = latest;
    }
    uint8_t kb[8];
    scitt__be64(kb, from);
    scitt_span k = scitt_span_make(kb, 8), v = {NULL, 0};
    scitt_err rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_SET_RANGE);
    while (rc == SCITT_OK) {
        if (k.len != 8) {
            e = SCITT_ERR_CORRUPT;
            break;
        }
        uint64_t size = scitt__get_be64(k.ptr);
        if (size > to) {
            break;
        }
        scitt_tree_head h;
        e = scitt__head_decode(size, v, &h);
        if (e == SCITT_OK) {
            e = visit(ctx, &h);
        }
        if (e != SCITT_OK) {
            break;
        }
        rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_NEXT);
    }
    if (e == SCITT_OK && rc != SCITT_OK && rc != SCITT_ERR_NOT_FOUND) {
        e = rc;
    }
    scitt__cursor_close(s, c);
    return e;
}

scitt_err scitt_ledger_entry(scitt_ledger_read *r, uint64_t index, scitt_span *entry)
{
    return scitt__entry_get(r->txn, &r->l->store, index, latest_size(r), entry);
}

/* Walks the postings of one 8-byte hash from index `from`. */
static scitt_err walk_postings(scitt_ledger_read *r, scitt__table tb, const uint8_t hash[8],
                               uint64_t from, scitt_err (*visit)(void *ctx, uint64_t index),
                               void *ctx)
{
    uint8_t kb[POSTING_KEY_BYTES], vb[POSTING_BYTES];
    scitt__posting_make(hash, from > POSTING_INDEX_MAX ? POSTING_INDEX_MAX : from, kb, vb);
    const scitt__store *s = &r->l->store;
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(s, r->itxn, tb, &c);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_span k = scitt_span_make(kb, POSTING_KEY_BYTES), v = scitt_span_make(vb, POSTING_BYTES);
    scitt_err rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_GET_BOTH_RANGE);
    uint64_t size = latest_size(r);
    while (rc == SCITT_OK) {
        if (v.len != POSTING_BYTES) {
            e = SCITT_ERR_CORRUPT;
            break;
        }
        if (!scitt__posting_matches(v.ptr, hash)) {
            break;
        }
        uint64_t index = scitt__posting_index(v.ptr);
        if (index >= size) {
            break; /* not in this snapshot's log (left over from a lost batch) */
        }
        e = visit(ctx, index);
        if (e != SCITT_OK) {
            break;
        }
        rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_NEXT_DUP);
    }
    if (e == SCITT_OK && rc != SCITT_OK && rc != SCITT_ERR_NOT_FOUND) {
        e = rc;
    }
    scitt__cursor_close(s, c);
    /* Entries the index does not cover yet are all candidates (callers check each one). */
    uint64_t w = size;
    if (e == SCITT_OK) {
        e = scitt__index_watermark(r->itxn, &r->l->store, &w);
    }
    for (uint64_t i = w > from ? w : from; e == SCITT_OK && i < size; i++) {
        e = visit(ctx, i);
    }
    return e;
}

scitt_err scitt_ledger_find(scitt_ledger_read *r, const uint8_t entry_id[SCITT_HASH_LEN],
                            uint64_t *index)
{
    return scitt__ledger_find(r->l, r->itxn, r->txn, entry_id, latest_size(r), index);
}

scitt_err scitt_ledger_postings(scitt_ledger_read *r, scitt_ledger_index which, scitt_span value,
                                uint64_t from, scitt_err (*visit)(void *ctx, uint64_t index),
                                void *ctx)
{
    scitt__table tb;
    switch (which) {
    case SCITT_INDEX_ISS:
        tb = SCITT__T_ISS;
        break;
    case SCITT_INDEX_SUB:
        tb = SCITT__T_SUB;
        break;
    case SCITT_INDEX_DIGEST:
        tb = SCITT__T_DIG;
        break;
    default:
        return SCITT_ERR_INVALID_ARG;
    }
    uint8_t h[8];
    scitt__posting_hash(value, h);
    scitt_err e = walk_postings(r, tb, h, from, visit, ctx);
    return e == SCITT_ERR_STATE ? SCITT_OK : e;
}

scitt_err scitt_ledger_size_at_time(scitt_ledger_read *r, int64_t time_ms, uint64_t *size)
{
    const scitt__store *s = &r->l->store;
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(s, r->txn, SCITT__T_TIMES, &c);
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t kb[16] = {0};
    scitt__be64(kb, time_ms < 0 ? 0 : (uint64_t)time_ms);
    scitt_span k = scitt_span_make(kb, 16), v = {NULL, 0};
    e = scitt__cursor_get(s, c, &k, &v, SCITT__OP_SET_RANGE);
    if (e == SCITT_OK) {
        /* This head is the first registered at or after the time; its entries start where
         * the previous head ended. */
        e = scitt__cursor_get(s, c, &k, &v, SCITT__OP_PREV);
        if (e == SCITT_OK) {
            *size = k.len == 16 ? scitt__get_be64(k.ptr + 8) : 0;
        } else if (e == SCITT_ERR_NOT_FOUND) {
            *size = 0;
            e = SCITT_OK;
        }
    } else if (e == SCITT_ERR_NOT_FOUND) {
        *size = latest_size(r);
        e = SCITT_OK;
    }
    scitt__cursor_close(s, c);
    if (e == SCITT_OK && *size > latest_size(r)) {
        *size = latest_size(r); /* registered then, but not durable yet */
    }
    return e;
}

static scitt_err read_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SCITT_HASH_LEN])
{
    scitt_ledger_read *r = ctx;
    unsigned tl;
    uint64_t ti;
    scitt__tile_locate(level, index, &tl, &ti);
    if (!r->cached_tile || r->cached_level != tl || r->cached_index != ti) {
        scitt_err e = scitt__tile_get(r->txn, &r->l->store, tl, ti, &r->cached_tile);
        if (e != SCITT_OK) {
            r->cached_tile = NULL;
            return e == SCITT_ERR_NOT_FOUND ? SCITT_ERR_CORRUPT : e;
        }
        r->cached_level = tl;
        r->cached_index = ti;
    }
    scitt__tile_read(r->cached_tile, level, index, out);
    return SCITT_OK;
}

void scitt_ledger_source(scitt_ledger_read *r, scitt_merkle_source *out)
{
    out->node = read_node;
    out->ctx = r;
}

scitt_err scitt_ledger_inclusion_proof(scitt_ledger_read *r, uint64_t index, uint64_t size,
                                       uint8_t path[][SCITT_HASH_LEN], size_t *n)
{
    if (index >= size || size > latest_size(r)) {
        return SCITT_ERR_NOT_FOUND;
    }
    scitt_merkle_source src;
    scitt_ledger_source(r, &src);
    return scitt_merkle_inclusion_proof(&src, index, size, path, n);
}

scitt_err scitt_ledger_consistency_proof(scitt_ledger_read *r, uint64_t old_size, uint64_t new_size,
                                         uint8_t path[][SCITT_HASH_LEN], size_t *n)
{
    if (old_size == 0 || old_size > new_size || new_size > latest_size(r)) {
        return SCITT_ERR_NOT_FOUND;
    }
    scitt_merkle_source src;
    scitt_ledger_source(r, &src);
    return scitt_merkle_consistency_proof(&src, old_size, new_size, path, n);
}

scitt_err scitt_ledger_tile(scitt_ledger_read *r, unsigned level, uint64_t index, unsigned width,
                            scitt_span *out)
{
    if (width == 0 || width > TILE_BASE || level >= TILE_LEVELS ||
        width > scitt_tile_width(level, index, latest_size(r))) {
        return SCITT_ERR_NOT_FOUND;
    }
    const uint8_t *tile;
    scitt_err e = scitt__tile_get(r->txn, &r->l->store, level, index, &tile);
    if (e != SCITT_OK) {
        return e == SCITT_ERR_NOT_FOUND ? SCITT_ERR_CORRUPT : e;
    }
    *out = scitt_span_make(tile, (size_t)width * SCITT_HASH_LEN);
    return SCITT_OK;
}

scitt_err scitt_ledger_entry_bundle(scitt_ledger_read *r, uint64_t index, unsigned width,
                                    scitt_dynbuf *out)
{
    if (width == 0 || width > BUNDLE_ENTRIES ||
        width > scitt_tile_width(0, index, latest_size(r))) {
        return SCITT_ERR_NOT_FOUND;
    }
    for (unsigned i = 0; i < width; i++) {
        scitt_span entry;
        scitt_err e = scitt_ledger_entry(r, index * BUNDLE_ENTRIES + i, &entry);
        if (e != SCITT_OK) {
            return e;
        }
        if (entry.len > 65535) {
            return SCITT_ERR_UNSUPPORTED;
        }
        uint8_t l2[2] = {(uint8_t)(entry.len >> 8), (uint8_t)entry.len};
        scitt_dynbuf_put(out, l2, 2);
        scitt_dynbuf_put(out, entry.ptr, entry.len);
    }
    return out->err;
}

scitt_err scitt_ledger_meta_get(scitt_ledger_read *r, const char *name, scitt_span *value)
{
    return scitt__kv_get(&r->l->store, r->txn, SCITT__T_META,
                         scitt_span_make((const uint8_t *)name, strlen(name)), value);
}
