/* Read snapshots: tree heads, entries, proofs, tiles, entry bundles and index postings. */
#include "ledger_int.h"

#include <string.h>

#include "scitt/limits.h"

struct scitt_ledger_read {
    scitt_ledger *l;
    MDB_txn *txn;
    MDB_txn *itxn;
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
    pthread_rwlock_rdlock(&l->store.grow);
    int rc = mdb_txn_begin(l->store.env, NULL, MDB_RDONLY, &r->txn);
    if (rc == MDB_MAP_RESIZED) {
        /* another process grew the map: adopt its size and retry once */
        pthread_rwlock_unlock(&l->store.grow);
        pthread_rwlock_wrlock(&l->store.grow);
        mdb_env_set_mapsize(l->store.env, 0);
        pthread_rwlock_unlock(&l->store.grow);
        pthread_rwlock_rdlock(&l->store.grow);
        rc = mdb_txn_begin(l->store.env, NULL, MDB_RDONLY, &r->txn);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_txn_begin(l->store.ienv, NULL, MDB_RDONLY, &r->itxn);
        if (rc == MDB_MAP_RESIZED) {
            /* the writer grew the index map; adopt the new size as for the log */
            pthread_rwlock_unlock(&l->store.grow);
            pthread_rwlock_wrlock(&l->store.grow);
            mdb_env_set_mapsize(l->store.ienv, 0);
            pthread_rwlock_unlock(&l->store.grow);
            pthread_rwlock_rdlock(&l->store.grow);
            rc = mdb_txn_begin(l->store.ienv, NULL, MDB_RDONLY, &r->itxn);
        }
        if (rc != MDB_SUCCESS) {
            mdb_txn_abort(r->txn);
        }
    }
    if (rc != MDB_SUCCESS) {
        pthread_rwlock_unlock(&l->store.grow);
        scitt_free(r);
        return scitt__mdb_err(rc);
    }
    *out = r;
    return SCITT_OK;
}

void scitt_ledger_read_end(scitt_ledger_read *r)
{
    if (!r) {
        return;
    }
    mdb_txn_abort(r->itxn);
    mdb_txn_abort(r->txn);
    pthread_rwlock_unlock(&r->l->store.grow);
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
    MDB_cursor *c;
    e = scitt__mdb_err(mdb_cursor_open(r->txn, r->l->store.heads, &c));
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t kb[8];
    scitt__be64(kb, bound);
    MDB_val k = {8, kb}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(c, &k, &v, rc == MDB_SUCCESS ? MDB_PREV : MDB_LAST);
    }
    e = scitt__mdb_err(rc);
    if (e == SCITT_OK) {
        e = k.mv_size == 8 ? scitt__head_decode(scitt__get_be64(k.mv_data),
                                                scitt_span_make(v.mv_data, v.mv_size), out)
                           : SCITT_ERR_CORRUPT;
    }
    mdb_cursor_close(c);
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
    MDB_cursor *c;
    scitt_err e = scitt__mdb_err(mdb_cursor_open(r->txn, r->l->store.heads, &c));
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t kb[8];
    scitt__be64(kb, index + 1);
    MDB_val k = {8, kb}, v;
    e = scitt__mdb_err(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
    if (e == SCITT_OK) {
        e = k.mv_size == 8 ? scitt__head_decode(scitt__get_be64(k.mv_data),
                                                scitt_span_make(v.mv_data, v.mv_size), out)
                           : SCITT_ERR_CORRUPT;
    }
    mdb_cursor_close(c);
    if (e == SCITT_OK && out->size > latest_size(r)) {
        e = SCITT_ERR_NOT_FOUND;
    }
    return e;
}

scitt_err scitt_ledger_heads(scitt_ledger_read *r, uint64_t from, uint64_t to,
                             scitt_err (*visit)(void *ctx, const scitt_tree_head *h), void *ctx)
{
    MDB_cursor *c;
    scitt_err e = scitt__mdb_err(mdb_cursor_open(r->txn, r->l->store.heads, &c));
    if (e != SCITT_OK) {
        return e;
    }
    uint64_t latest = latest_size(r);
    if (to > latest) {
        to = latest;
    }
    uint8_t kb[8];
    scitt__be64(kb, from);
    MDB_val k = {8, kb}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS) {
        if (k.mv_size != 8) {
            e = SCITT_ERR_CORRUPT;
            break;
        }
        uint64_t size = scitt__get_be64(k.mv_data);
        if (size > to) {
            break;
        }
        scitt_tree_head h;
        e = scitt__head_decode(size, scitt_span_make(v.mv_data, v.mv_size), &h);
        if (e == SCITT_OK) {
            e = visit(ctx, &h);
        }
        if (e != SCITT_OK) {
            break;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    if (e == SCITT_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        e = scitt__mdb_err(rc);
    }
    mdb_cursor_close(c);
    return e;
}

scitt_err scitt_ledger_entry(scitt_ledger_read *r, uint64_t index, scitt_span *entry)
{
    return scitt__entry_get(r->txn, &r->l->store, index, latest_size(r), entry);
}

/* Walks the postings of one 8-byte hash from index `from`. */
static scitt_err walk_postings(scitt_ledger_read *r, MDB_dbi dbi, const uint8_t hash[8],
                               uint64_t from, scitt_err (*visit)(void *ctx, uint64_t index),
                               void *ctx)
{
    uint8_t kb[POSTING_KEY_BYTES], vb[POSTING_BYTES];
    scitt__posting_make(hash, from > POSTING_INDEX_MAX ? POSTING_INDEX_MAX : from, kb, vb);
    MDB_cursor *c;
    scitt_err e = scitt__mdb_err(mdb_cursor_open(r->itxn, dbi, &c));
    if (e != SCITT_OK) {
        return e;
    }
    MDB_val k = {POSTING_KEY_BYTES, kb}, v = {POSTING_BYTES, vb};
    int rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
    uint64_t size = latest_size(r);
    while (rc == MDB_SUCCESS) {
        if (v.mv_size != POSTING_BYTES) {
            e = SCITT_ERR_CORRUPT;
            break;
        }
        if (!scitt__posting_matches(v.mv_data, hash)) {
            break;
        }
        uint64_t index = scitt__posting_index(v.mv_data);
        if (index >= size) {
            break; /* not in this snapshot's log (left over from a lost batch) */
        }
        e = visit(ctx, index);
        if (e != SCITT_OK) {
            break;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
    }
    if (e == SCITT_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        e = scitt__mdb_err(rc);
    }
    mdb_cursor_close(c);
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
    MDB_dbi dbi;
    switch (which) {
    case SCITT_INDEX_ISS:
        dbi = r->l->store.iss;
        break;
    case SCITT_INDEX_SUB:
        dbi = r->l->store.sub;
        break;
    case SCITT_INDEX_DIGEST:
        dbi = r->l->store.dig;
        break;
    default:
        return SCITT_ERR_INVALID_ARG;
    }
    uint8_t h[8];
    scitt__posting_hash(value, h);
    scitt_err e = walk_postings(r, dbi, h, from, visit, ctx);
    return e == SCITT_ERR_STATE ? SCITT_OK : e;
}

scitt_err scitt_ledger_size_at_time(scitt_ledger_read *r, int64_t time_ms, uint64_t *size)
{
    MDB_cursor *c;
    scitt_err e = scitt__mdb_err(mdb_cursor_open(r->txn, r->l->store.times, &c));
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t kb[16] = {0};
    scitt__be64(kb, time_ms < 0 ? 0 : (uint64_t)time_ms);
    MDB_val k = {16, kb}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS) {
        /* This head is the first registered at or after the time; its entries start where
         * the previous head ended. */
        rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
        if (rc == MDB_SUCCESS) {
            *size = k.mv_size == 16 ? scitt__get_be64((uint8_t *)k.mv_data + 8) : 0;
        } else if (rc == MDB_NOTFOUND) {
            *size = 0;
            rc = MDB_SUCCESS;
        }
    } else if (rc == MDB_NOTFOUND) {
        *size = latest_size(r);
        rc = MDB_SUCCESS;
    }
    mdb_cursor_close(c);
    if (rc == MDB_SUCCESS && *size > latest_size(r)) {
        *size = latest_size(r); /* registered then, but not durable yet */
    }
    return scitt__mdb_err(rc);
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
    MDB_val k = {strlen(name), (void *)name}, v;
    scitt_err e = scitt__mdb_err(mdb_get(r->txn, r->l->store.meta, &k, &v));
    if (e == SCITT_OK) {
        *value = scitt_span_make(v.mv_data, v.mv_size);
    }
    return e;
}
