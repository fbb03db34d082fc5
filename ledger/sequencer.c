/*
 * The sequencer: one thread takes queued submissions in batches, appends them to the tree and
 * the indexes inside one storage write transaction, signs the new tree head once, commits durably,
 * and only then completes the submissions. Any failure aborts the whole batch and rebuilds the
 * in-memory edge from the last commit, so nothing half-written is ever visible or acknowledged.
 */
#include "ledger_int.h"

#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Node source over a transaction's stored tiles (used to rebuild the compact range). */
typedef struct {
    scitt__txn *txn;
    const scitt__store *store;
} txn_source;

static scitt_err txn_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SCITT_HASH_LEN])
{
    txn_source *ts = ctx;
    unsigned tl;
    uint64_t ti;
    scitt__tile_locate(level, index, &tl, &ti);
    const uint8_t *tile;
    scitt_err e = scitt__tile_get(ts->txn, ts->store, tl, ti, &tile);
    if (e != SCITT_OK) {
        return e == SCITT_ERR_NOT_FOUND ? SCITT_ERR_CORRUPT : e;
    }
    scitt__tile_read(tile, level, index, out);
    return SCITT_OK;
}

/*
 * Reads the entries [first, end) of the incomplete last bundle from `recent` into @p bundle in
 * the bundle format (be32 length || bytes each); any gap or extra record is an integrity error.
 */
static scitt_err load_recent(scitt__txn *txn, const scitt__store *s, uint64_t first, uint64_t end,
                             scitt_dynbuf *bundle)
{
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(s, txn, SCITT__T_RECENT, &c);
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t kb[8];
    scitt__be64(kb, first);
    scitt_span k = scitt_span_make(kb, 8), v = {NULL, 0};
    scitt_err rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_SET_RANGE);
    for (uint64_t i = first; e == SCITT_OK && i < end; i++) {
        if (rc != SCITT_OK || k.len != 8 || scitt__get_be64(k.ptr) != i) {
            e = rc == SCITT_OK || rc == SCITT_ERR_NOT_FOUND ? SCITT_ERR_INTEGRITY : rc;
            break;
        }
        uint8_t l4[4] = {(uint8_t)(v.len >> 24), (uint8_t)(v.len >> 16), (uint8_t)(v.len >> 8),
                         (uint8_t)v.len};
        scitt_dynbuf_put(bundle, l4, 4);
        scitt_dynbuf_put(bundle, v.ptr, v.len);
        e = bundle->err;
        rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_NEXT);
    }
    if (e == SCITT_OK && rc == SCITT_OK) {
        e = SCITT_ERR_INTEGRITY; /* a record past the tree size */
    }
    scitt__cursor_close(s, c);
    return e;
}

/*
 * Recomputes the interior nodes of a tile from its first `width` base hashes and compares them
 * with the stored ones. Run on the edge tiles at open: a damaged base hash that the compact
 * range does not read would otherwise go unnoticed until an auditor replays the log.
 */
static bool tile_consistent(unsigned level, uint64_t index, const uint8_t *tile, unsigned width)
{
    for (unsigned r = 2; r < SCITT_TILE_HEIGHT; r++) {
        unsigned lv = level * SCITT_TILE_HEIGHT + r;
        for (uint64_t i = 0; i < (width >> r); i++) {
            uint64_t node = (index << (SCITT_TILE_HEIGHT - r)) + i;
            uint8_t left[SCITT_HASH_LEN], right[SCITT_HASH_LEN], want[SCITT_HASH_LEN];
            uint8_t got[SCITT_HASH_LEN];
            scitt__tile_read(tile, lv - 1, node * 2, left);
            scitt__tile_read(tile, lv - 1, node * 2 + 1, right);
            scitt_merkle_node_hash(left, right, want);
            scitt__tile_read(tile, lv, node, got);
            if (memcmp(want, got, SCITT_HASH_LEN) != 0) {
                return false;
            }
        }
    }
    return true;
}

/*
 * Whether the entries of the edge bundle hash to the leaves of the edge tile: storage is not
 * trusted, and the bundle is written whole, as read, once it completes.
 */
static bool bundle_matches_tile(const scitt_dynbuf *bundle, const uint8_t *tile)
{
    scitt_reader r;
    scitt_reader_init(&r, scitt_span_make(bundle->ptr, bundle->len));
    for (unsigned i = 0; scitt_reader_left(&r) > 0; i++) {
        uint32_t len = scitt_reader_be32(&r);
        scitt_span entry = scitt_reader_take(&r, len);
        uint8_t leaf[SCITT_HASH_LEN];
        if (r.err != SCITT_OK || i >= TILE_BASE) {
            return false;
        }
        scitt_merkle_leaf_hash(entry, leaf);
        if (memcmp(leaf, tile + (size_t)i * SCITT_HASH_LEN, SCITT_HASH_LEN) != 0) {
            return false;
        }
    }
    return true;
}

scitt_err scitt__edge_load(scitt_ledger *l, tree_edge *edge, bool check_signature)
{
    scitt__txn *txn;
    scitt_err e = scitt__txn_begin(&l->store, SCITT__TXN_LOG_READ, &txn);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_tree_head head;
    uint64_t size = 0;
    e = scitt__head_latest(txn, &l->store, &head);
    if (e == SCITT_ERR_NOT_FOUND) {
        e = SCITT_OK;
        memset(&head, 0, sizeof(head));
        edge->last_time_ms = 0;
    } else if (e == SCITT_OK) {
        size = head.size;
        edge->last_time_ms = head.time_ms;
    }
    txn_source src_ctx = {txn, &l->store};
    scitt_merkle_source src = {txn_node, &src_ctx};
    if (e == SCITT_OK) {
        e = scitt_merkle_compact_load(&edge->compact, size, &src);
    }
    for (unsigned lv = 0; e == SCITT_OK && lv < TILE_LEVELS; lv++) {
        uint64_t nodes = size >> (SCITT_TILE_HEIGHT * lv);
        edge->tile_index[lv] = nodes / TILE_BASE;
        edge->dirty[lv] = false;
        const uint8_t *tile;
        scitt_err g = scitt__tile_get(txn, &l->store, lv, edge->tile_index[lv], &tile);
        if (g == SCITT_OK) {
            memcpy(edge->tiles[lv], tile, TILE_BYTES);
            if (!tile_consistent(lv, edge->tile_index[lv], tile, (unsigned)(nodes % TILE_BASE))) {
                e = SCITT_ERR_INTEGRITY;
            }
        } else if (g == SCITT_ERR_NOT_FOUND && nodes % TILE_BASE == 0) {
            memset(edge->tiles[lv], 0, TILE_BYTES);
        } else {
            e = g == SCITT_ERR_NOT_FOUND ? SCITT_ERR_INTEGRITY : g;
        }
    }
    /* the incomplete bundle at the edge, if any: its entries, one record each in `recent` */
    edge->bundle.len = 0;
    edge->bundle.err = SCITT_OK;
    if (e == SCITT_OK && size % BUNDLE_ENTRIES) {
        e = load_recent(txn, &l->store, size - size % BUNDLE_ENTRIES, size, &edge->bundle);
    }
    edge->bundle_stored = (unsigned)(size % BUNDLE_ENTRIES);
    if (e == SCITT_OK && !bundle_matches_tile(&edge->bundle, edge->tiles[0])) {
        e = SCITT_ERR_INTEGRITY; /* storage changed an entry the sequencer would extend */
    }
    if (e == SCITT_OK && size > 0) {
        uint8_t root[SCITT_HASH_LEN];
        scitt_merkle_compact_root(&edge->compact, root);
        if (memcmp(root, head.root, SCITT_HASH_LEN) != 0) {
            e = SCITT_ERR_INTEGRITY;
        } else if (check_signature && l->signer.verify &&
                   l->signer.verify(l->signer.ctx, &head) != SCITT_OK) {
            e = SCITT_ERR_INTEGRITY;
        }
    }
    if (e == SCITT_ERR_CORRUPT) {
        e = SCITT_ERR_INTEGRITY;
    }
    scitt__txn_abort(&l->store, txn);
    return e;
}

scitt_err scitt__check_storage(scitt_ledger *l, uint64_t known_size,
                               const uint8_t known_root[SCITT_HASH_LEN], bool verify,
                               uint64_t *size, uint8_t root[SCITT_HASH_LEN])
{
    *size = 0;
    scitt__txn *txn;
    scitt_err e = scitt__txn_begin(&l->store, SCITT__TXN_LOG_READ, &txn);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_tree_head head;
    e = scitt__head_latest(txn, &l->store, &head);
    if (e == SCITT_ERR_NOT_FOUND) {
        memset(&head, 0, sizeof(head));
        e = SCITT_OK;
    }
    if (e == SCITT_OK && head.size < known_size) {
        e = SCITT_ERR_CONSISTENCY; /* older than a head the service signed: a rollback */
    }
    if (e == SCITT_OK && head.size > 0 && verify && l->signer.verify &&
        l->signer.verify(l->signer.ctx, &head) != SCITT_OK) {
        e = SCITT_ERR_INTEGRITY;
    }
    if (e == SCITT_OK && known_size > 0) {
        /* the stored tree must extend the known head: its root at that size, from the tiles */
        scitt_merkle_compact c;
        txn_source src_ctx = {txn, &l->store};
        scitt_merkle_source src = {txn_node, &src_ctx};
        uint8_t at[SCITT_HASH_LEN];
        e = scitt_merkle_compact_load(&c, known_size, &src);
        if (e == SCITT_OK) {
            scitt_merkle_compact_root(&c, at);
            if (memcmp(at, known_root, SCITT_HASH_LEN) != 0) {
                e = SCITT_ERR_CONSISTENCY; /* a fork of what the service signed */
            }
        } else if (e == SCITT_ERR_CORRUPT) {
            e = SCITT_ERR_CONSISTENCY;
        }
    }
    if (e == SCITT_OK) {
        *size = head.size;
        memcpy(root, head.root, SCITT_HASH_LEN);
    }
    scitt__txn_abort(&l->store, txn);
    return e;
}

/* The batch being written: the transaction plus what the node callback needs. */
typedef struct batch_ctx {
    scitt_ledger *l;
    scitt__txn *txn;  /* the log */
    scitt__txn *itxn; /* the index, committed after the log */
    scitt_err err;
} batch_ctx;

static scitt_err put_tile(batch_ctx *b, unsigned lv)
{
    tree_edge *edge = b->l->edge;
    uint8_t kb[9];
    scitt__tile_key(kb, lv, edge->tile_index[lv]);
    edge->dirty[lv] = false;
    return scitt__kv_put(&b->l->store, b->txn, SCITT__T_TILES, scitt_span_make(kb, 9),
                         scitt_span_make(edge->tiles[lv], TILE_BYTES), 0);
}

static void on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[SCITT_HASH_LEN])
{
    batch_ctx *b = ctx;
    tree_edge *edge = b->l->edge;
    unsigned lv;
    uint64_t ti;
    scitt__tile_locate(level, index, &lv, &ti);
    if (lv >= TILE_LEVELS || b->err != SCITT_OK || level % SCITT_TILE_HEIGHT == 1) {
        return; /* level-1 nodes are not stored */
    }
    if (ti != edge->tile_index[lv]) {
        /* The edge moved on: the previous tile is complete and already written when dirty. */
        if (edge->dirty[lv]) {
            b->err = put_tile(b, lv);
        }
        edge->tile_index[lv] = ti;
        memset(edge->tiles[lv], 0, TILE_BYTES);
    }
    scitt__tile_write(edge->tiles[lv], level, index, hash);
    edge->dirty[lv] = true;
}

/*
 * Writes the edge's bundle, now complete, under its bundle index, and drops the records its
 * entries had in `recent` while it was incomplete.
 */
static scitt_err put_bundle(batch_ctx *b, uint64_t bundle)
{
    tree_edge *edge = b->l->edge;
    uint8_t kb[8];
    scitt__be64(kb, bundle);
    const scitt__store *s = &b->l->store;
    scitt_span all = scitt_span_make(edge->bundle.ptr, edge->bundle.len);
    scitt_err e = scitt__kv_put(s, b->txn, SCITT__T_BUNDLES, scitt_span_make(kb, 8), all, 0);
    e = e ? e : scitt__bundle_offsets_put(b->txn, s, bundle, all);
    if (e != SCITT_OK || edge->bundle_stored == 0) {
        return e; /* none of its entries reached `recent`: the bundle filled up in one batch */
    }
    if (s->ops->del_range) {
        uint8_t lo[8], hi[8];
        scitt__be64(lo, bundle * BUNDLE_ENTRIES);
        scitt__be64(hi, (bundle + 1) * BUNDLE_ENTRIES);
        return s->ops->del_range(s, b->txn, SCITT__T_RECENT, scitt_span_make(lo, 8),
                                 scitt_span_make(hi, 8));
    }
    scitt__cursor *c = NULL;
    e = scitt__cursor_open(s, b->txn, SCITT__T_RECENT, &c);
    scitt_err rc = SCITT_ERR_NOT_FOUND;
    while (e == SCITT_OK) {
        /* re-seek after each delete rather than lean on the cursor's position after one */
        scitt__be64(kb, bundle * BUNDLE_ENTRIES);
        scitt_span k = scitt_span_make(kb, 8), v = {NULL, 0};
        rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_SET_RANGE);
        if (rc != SCITT_OK || k.len != 8 ||
            scitt__get_be64(k.ptr) >= (bundle + 1) * BUNDLE_ENTRIES) {
            break;
        }
        e = scitt__cursor_del(s, c);
    }
    if (e == SCITT_OK && rc != SCITT_OK && rc != SCITT_ERR_NOT_FOUND) {
        e = rc;
    }
    if (c) {
        scitt__cursor_close(s, c);
    }
    return e;
}

/*
 * At the end of a batch: the entries of the incomplete last bundle that this batch added, one
 * record each in `recent` (a bundle completed inside the batch went to `bundles` whole).
 */
static scitt_err put_recent(batch_ctx *b)
{
    tree_edge *edge = b->l->edge;
    uint64_t first = edge->compact.size - edge->compact.size % BUNDLE_ENTRIES;
    scitt_reader r;
    scitt_reader_init(&r, scitt_span_make(edge->bundle.ptr, edge->bundle.len));
    scitt_err e = SCITT_OK;
    for (unsigned i = 0; e == SCITT_OK && scitt_reader_left(&r) > 0; i++) {
        uint32_t len = scitt_reader_be32(&r);
        scitt_span entry = scitt_reader_take(&r, len);
        if (r.err != SCITT_OK) {
            return SCITT_ERR_CORRUPT;
        }
        if (i < edge->bundle_stored) {
            continue;
        }
        uint8_t kb[8];
        scitt__be64(kb, first + i);
        e = scitt__kv_put(&b->l->store, b->txn, SCITT__T_RECENT, scitt_span_make(kb, 8), entry,
                          SCITT__PUT_APPEND);
        edge->bundle_stored = i + 1;
    }
    return e;
}

/* Appends one new entry at the edge. */
static scitt_err append_one(batch_ctx *b, pending_sub *p)
{
    tree_edge *edge = b->l->edge;
    uint64_t index = edge->compact.size;
    /* the entry joins the edge bundle as be32 length || bytes */
    size_t n = p->sub.entry.len;
    uint8_t l4[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    scitt_dynbuf_put(&edge->bundle, l4, 4);
    scitt_dynbuf_put(&edge->bundle, p->sub.entry.ptr, n);
    scitt_err e = edge->bundle.err;
    p->post.index = index;
    e = e ? e : scitt__indexer_remember(b->l, &p->post);
    if (e == SCITT_OK) {
        e = scitt_merkle_compact_append(&edge->compact, p->sub.leaf_hash, on_node, b);
    }
    e = e ? e : b->err;
    if (e == SCITT_OK && index % BUNDLE_ENTRIES == BUNDLE_ENTRIES - 1) {
        /* complete: written once, and the next bundle starts empty */
        e = put_bundle(b, index / BUNDLE_ENTRIES);
        edge->bundle.len = 0;
        edge->bundle_stored = 0;
    }
    p->res.index = index;
    return e;
}

/* Signs and stores the new tree head. */
static scitt_err put_head(batch_ctx *b, uint64_t policy_index, int64_t time_ms)
{
    scitt_ledger *l = b->l;
    scitt_tree_head h;
    memset(&h, 0, sizeof(h));
    h.size = l->edge->compact.size;
    h.time_ms = time_ms;
    h.policy_index = policy_index;
    scitt_merkle_compact_root(&l->edge->compact, h.root);
    scitt_dynbuf prot, sig, cp, rec;
    scitt_dynbuf_init(&prot, 0);
    scitt_dynbuf_init(&sig, 0);
    scitt_dynbuf_init(&cp, 0);
    scitt_dynbuf_init(&rec, 0);
    scitt_err e = l->signer.sign(l->signer.ctx, h.size, h.root, time_ms, &prot, &sig, &cp);
    if (e == SCITT_OK) {
        h.receipt_protected = scitt_span_make(prot.ptr, prot.len);
        h.receipt_signature = scitt_span_make(sig.ptr, sig.len);
        h.checkpoint = scitt_span_make(cp.ptr, cp.len);
        e = scitt__head_encode(&h, &rec);
    }
    uint8_t kb[16];
    scitt__be64(kb, h.size);
    if (e == SCITT_OK) {
        e = scitt__kv_put(&l->store, b->txn, SCITT__T_HEADS, scitt_span_make(kb, 8),
                          scitt_span_make(rec.ptr, rec.len), SCITT__PUT_APPEND);
    }
    if (e == SCITT_OK) {
        uint8_t tk[16];
        scitt__be64(tk, (uint64_t)time_ms);
        scitt__be64(tk + 8, h.size);
        e = scitt__kv_put(&l->store, b->txn, SCITT__T_TIMES, scitt_span_make(tk, 16),
                          scitt_span_make(NULL, 0), SCITT__PUT_APPEND);
    }
    scitt_dynbuf_clear(&prot);
    scitt_dynbuf_clear(&sig);
    scitt_dynbuf_clear(&cp);
    scitt_dynbuf_clear(&rec);
    return e;
}

static void free_claimed(pending_sub *list, pending_sub *claimed)
{
    for (pending_sub *p = list; p; p = p->next) {
        if (p->next == claimed) {
            p->next = NULL; /* the batch's own list ends where the claimed rows began */
            break;
        }
    }
    while (claimed) {
        pending_sub *next = claimed->next;
        scitt_free(claimed);
        claimed = next;
    }
}

/*
 * Writes the batch; on any error nothing of it is committed. With several instances, rows other
 * instances queued (of the batch's policy) join it and get their results in the same
 * transaction; *nothing says there was nothing at all to write.
 */
static scitt_err write_batch(scitt_ledger *l, pending_sub *list, size_t count, double *commit_ms,
                             bool *nothing, size_t *more)
{
    batch_ctx b = {l, NULL, NULL, SCITT_OK};
    scitt__store *s = &l->store;
    *nothing = false;
    *more = 0;
    scitt_err e = scitt__txn_begin(s, SCITT__TXN_LOG_WRITE, &b.txn);
    if (e != SCITT_OK) {
        return e;
    }
    pending_sub *claimed = NULL;
    size_t nclaimed = 0;
    if (l->ha) {
        /* Only the lease holder writes heads, so storage's newest head is this edge's: anything
         * else is a database changed under the sequencer (restored from a backup). */
        scitt_tree_head newest;
        scitt_err h = (scitt_err)atomic_load(&l->state);
        h = h ? h : scitt__head_latest(b.txn, s, &newest);
        if (h == SCITT_ERR_NOT_FOUND) {
            newest.size = 0;
            h = SCITT_OK;
        }
        if (h == SCITT_OK && newest.size > l->edge->compact.size) {
            h = SCITT_ERR_STATE; /* another instance appended: this one was deposed */
        } else if (h == SCITT_OK && newest.size < l->edge->compact.size) {
            h = SCITT_ERR_CONSISTENCY; /* behind a head this instance signed: a rollback */
            atomic_store(&l->state, (int)h);
        }
        if (h != SCITT_OK) {
            scitt__txn_abort(s, b.txn);
            return h;
        }
        unsigned room = count < l->cfg.batch_max ? (unsigned)(l->cfg.batch_max - count) : 0;
        if (room > 0 && l->claim_queue) {
            e = scitt__ha_claim(l, b.txn, list == NULL, list ? list->sub.policy_index : 0, room,
                                &claimed, &nclaimed);
        }
        if (e == SCITT_OK && nclaimed == room && room > 0) {
            *more = nclaimed; /* the queue may hold more: another batch follows */
        }
        if (e == SCITT_OK && !list && !claimed) {
            /* nothing to append (rows refused by their MAC are answered all the same) */
            *nothing = true;
            e = scitt__pg_queue_notify(b.txn);
            e = e ? e : scitt__txn_commit(s, b.txn);
            return e;
        }
        if (e != SCITT_OK) {
            scitt__txn_abort(s, b.txn);
            return e;
        }
        if (list) {
            pending_sub *last = list;
            while (last->next) {
                last = last->next;
            }
            last->next = claimed;
        } else {
            list = claimed;
        }
        count += nclaimed;
    }
    /* PostgreSQL: the index tables are read through the batch's own transaction (READ COMMITTED
     * sees every committed posting), not a snapshot of their own: two round trips less */
    if (l->store.pg) {
        b.itxn = b.txn;
    } else {
        e = scitt__txn_begin(s, SCITT__TXN_INDEX_READ, &b.itxn);
    }
    if (e != SCITT_OK) {
        scitt__txn_abort(s, b.txn);
        free_claimed(list, claimed);
        return e;
    }
    uint64_t start_size = l->edge->compact.size;
    uint64_t policy_index = SCITT_LEDGER_NO_POLICY;
    size_t added = 0;
    /* Open-addressed table of this batch's new entries, to answer twins inside the batch. */
    size_t slots = 16;
    while (slots < 2 * count) {
        slots *= 2;
    }
    pending_sub **table = scitt_calloc(slots, sizeof(*table));
    if (!table) {
        scitt__txn_abort(s, b.txn);
        if (b.itxn != b.txn) {
            scitt__txn_abort(s, b.itxn);
        }
        free_claimed(list, claimed);
        return SCITT_ERR_NOMEM;
    }
    /*
     * PostgreSQL: one query tells which entry IDs of the batch the index may hold; the others
     * are looked up among the recent IDs only (a lookup is a round trip to the server).
     */
    bool *maybe = NULL;
    if (l->store.pg && count > 0) {
        const uint8_t **ids = scitt_calloc(count, sizeof(*ids));
        maybe = scitt_calloc(count, sizeof(*maybe));
        size_t n = 0;
        for (pending_sub *p = list; ids && maybe && p && n < count; p = p->next) {
            ids[n++] = p->sub.entry_id;
        }
        if (!ids || !maybe || n != count ||
            scitt__pg_ids_candidates(b.itxn, ids, n, maybe) != SCITT_OK) {
            scitt_free(maybe); /* each ID looked up on its own, as on LMDB */
            maybe = NULL;
        }
        scitt_free(ids);
    }
    /*
     * Deduplicate first, in one short read of the index (a long one would keep the indexer from
     * reusing pages it frees), then append. A twin inside the batch points at its first copy.
     */
    size_t nth = 0;
    for (pending_sub *p = list; e == SCITT_OK && p; p = p->next, nth++) {
        p->twin = NULL;
        p->res.duplicate = false;
        uint64_t h = scitt__get_be64(p->sub.entry_id);
        size_t at = (size_t)h & (slots - 1);
        while (table[at]) {
            if (memcmp(table[at]->sub.entry_id, p->sub.entry_id, SCITT_HASH_LEN) == 0) {
                p->twin = table[at];
                break;
            }
            at = (at + 1) & (slots - 1);
        }
        if (p->twin) {
            p->res.duplicate = true;
            continue;
        }
        uint64_t existing = 0;
        scitt_err f = scitt__ledger_find_ex(l, b.itxn, b.txn, p->sub.entry_id, start_size,
                                            &existing, !maybe || maybe[nth]);
        if (f == SCITT_OK) {
            p->res.duplicate = true;
            p->res.index = existing;
        } else if (f != SCITT_ERR_NOT_FOUND) {
            e = f;
        }
        table[at] = p;
    }
    scitt_free(maybe);
    if (b.itxn != b.txn) {
        scitt__txn_abort(s, b.itxn);
    }
    b.itxn = NULL;
    for (pending_sub *p = list; e == SCITT_OK && p; p = p->next) {
        if (p->twin) {
            p->res.index = p->twin->res.index;
        } else if (!p->res.duplicate) {
            e = append_one(&b, p);
            policy_index = p->sub.policy_index;
            added++;
        }
    }
    scitt_free(table);
    for (unsigned lv = 0; e == SCITT_OK && lv < TILE_LEVELS; lv++) {
        if (l->edge->dirty[lv]) {
            e = put_tile(&b, lv);
        }
    }
    if (e == SCITT_OK) {
        e = put_recent(&b);
    }
    int64_t time_ms = wall_ms();
    if (time_ms < l->edge->last_time_ms) {
        time_ms = l->edge->last_time_ms; /* registration times never go backwards */
    }
    if (e == SCITT_OK && added > 0) {
        e = put_head(&b, policy_index, time_ms);
    }
    if (e == SCITT_OK && !l->index_marked) {
        /* the indexer writes this batch's postings once it is committed: say so first */
        e = scitt__index_mark_put(b.txn, &l->store, l->index_mark_open);
    }
    /* the queued rows' answers, committed with the entries they answer for */
    for (pending_sub *p = claimed; e == SCITT_OK && p; p = p->next) {
        p->res.err = SCITT_OK;
        p->res.tree_size = l->edge->compact.size;
        e = scitt__pg_queue_finish(b.txn, p->qid, &p->res);
    }
    if (e == SCITT_OK && l->ha) {
        e = scitt__pg_queue_notify(b.txn);
    }
    if (e != SCITT_OK) {
        scitt__txn_abort(s, b.txn);
        free_claimed(list, claimed);
        return e;
    }
    double t0 = now_s();
    e = scitt__txn_commit(s, b.txn);
    *commit_ms = (now_s() - t0) * 1000;
    if (e != SCITT_OK) {
        free_claimed(list, claimed);
        return e;
    }
    if (l->ha && added > 0) {
        uint8_t root[SCITT_HASH_LEN];
        scitt_merkle_compact_root(&l->edge->compact, root);
        scitt__ha_signed(l, l->edge->compact.size, root);
    }
    if (added > 0) {
        l->edge->last_time_ms = time_ms;
    }
    l->index_marked = true;
    /* Readers may serve the new head from now on; completions run after this. */
    atomic_store(&l->durable, l->edge->compact.size);
    /* The log is durable; the indexer writes the postings on its own thread. */
    scitt__indexer_enqueue(l, list);
    free_claimed(list, claimed);
    return SCITT_OK;
}

/* Returns how many queued rows the batch took when it took all it could (more may wait). */
static size_t process_batch(scitt_ledger *l, pending_sub *list, size_t count)
{
    double t0 = now_s(), commit_ms = 0;
    uint64_t before = l->edge->compact.size;
    scitt_err e = SCITT_OK;
    bool retry = true, nothing = false;
    size_t more = 0;
    while (retry) {
        retry = false;
        e = write_batch(l, list, count, &commit_ms, &nothing, &more);
        if (e == SCITT_OK) {
            break;
        }
        if (e == SCITT_ERR_STATE && l->ha) {
            /* another instance took the lease over (a fenced commit): this one follows now,
             * and hands the batch (nothing of it stored) to the new sequencer */
            scitt__ha_step_down(l);
            scitt__ha_forward(l, list);
            return 0;
        }
        if (e == SCITT_ERR_STATE) {
            /* another writer holds the storage now (a fenced commit): stop writing */
            atomic_store(&l->state, (int)e);
        }
        /* Nothing was committed: rebuild the edge from storage before anything else. */
        scitt_err r = scitt__edge_load(l, l->edge, false);
        if (r == SCITT_ERR_IO && l->ha) {
            /* The database does not answer (its own failover, a cut network): this instance
             * stops sequencing rather than refusing writes until a restart. Its lease ticks take
             * the lease again once a database answers, with every check of a takeover (the edge
             * rebuilt from storage); the batch goes to the queue (a commit whose answer was lost
             * is found there as a duplicate), or fails when the queue cannot be reached. */
            scitt__ha_step_down(l);
            scitt__ha_forward(l, list);
            return 0;
        }
        if (r != SCITT_OK) {
            atomic_store(&l->state, (int)r);
            break;
        }
        retry = e == SCITT_ERR_MAP_FULL && scitt__store_grow(&l->store) == SCITT_OK;
    }
    if (nothing && !list) {
        return 0;
    }
    uint64_t size = l->edge->compact.size;
    double batch_ms = (now_s() - t0) * 1000;
    pthread_mutex_lock(&l->stats_mu);
    l->stats.tree_size = size;
    l->stats.map_size = l->store.map_size;
    if (e == SCITT_OK) {
        l->stats.batches++;
        l->stats.entries += size - before;
        uint64_t added = size - before;
        l->stats.duplicates += count > added ? count - added : 0;
        l->stats.last_batch_size = count;
        l->stats.last_batch_ms = batch_ms;
        l->stats.last_commit_ms = commit_ms;
    } else {
        l->stats.failures += count;
    }
    scitt_ledger_batch_cb cb = l->batch_cb;
    void *cb_ctx = l->batch_ctx;
    pthread_mutex_unlock(&l->stats_mu);
    if (e == SCITT_OK && cb) {
        cb(cb_ctx, count, batch_ms, commit_ms);
    }
    for (pending_sub *p = list; p;) {
        pending_sub *next = p->next;
        p->res.err = e;
        p->res.tree_size = size;
        p->done(p->ctx, &p->res);
        scitt_free(p);
        p = next;
    }
    return more;
}

/* Takes the next batch off the queue (called with the lock held, queue non-empty). */
static pending_sub *take_batch(scitt_ledger *l, size_t *count)
{
    pending_sub *first = l->head, *last = first;
    size_t n = 1;
    /* One policy per batch: its head records which policy admitted every entry in it. */
    while (last->next && n < l->cfg.batch_max &&
           last->next->sub.policy_index == first->sub.policy_index) {
        last = last->next;
        n++;
    }
    l->head = last->next;
    if (!l->head) {
        l->tail = NULL;
    }
    last->next = NULL;
    l->queued -= n;
    *count = n;
    return first;
}

/*
 * How long to let a batch fill after its first submission. With an explicit batch delay, that.
 * Otherwise adaptive: none while submissions are sparse (a lone registration is committed at
 * once), AUTO_WAIT_US once they arrive faster than AUTO_RATE per second, so that the fixed cost
 * of a batch (two signatures, a commit, an fsync) is shared by more entries under load.
 */
#define AUTO_RATE    2000.0
#define AUTO_WAIT_US 1000

static long fill_wait_us(const scitt_ledger *l)
{
    if (l->cfg.batch_delay_ms > 0) {
        return (long)l->cfg.batch_delay_ms * 1000;
    }
    return l->rate >= AUTO_RATE ? AUTO_WAIT_US : 0;
}

/* Records a batch of @p n taken now in the submission rate (an average over a few batches). */
static void note_rate(scitt_ledger *l, size_t n)
{
    double now = now_s();
    if (l->last_take_s > 0 && now > l->last_take_s) {
        double inst = (double)n / (now - l->last_take_s);
        l->rate = l->rate > 0 ? 0.75 * l->rate + 0.25 * inst : inst;
    }
    l->last_take_s = now;
}

/* Several instances: whether the sequencer has something to do besides the local queue. */
static bool ha_work(const scitt_ledger *l)
{
    return l->ha && (l->takeover || (l->queue_ready && atomic_load(&l->leader)) ||
                     (l->head && !atomic_load(&l->leader)));
}

void *scitt__sequencer_main(void *arg)
{
    scitt_ledger *l = arg;
    pthread_setname_np(pthread_self(), "sequencer");
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->head && !l->stopping && !ha_work(l)) {
            l->idle = true;
            pthread_cond_wait(&l->cv, &l->mu);
        }
        l->idle = false;
        if (l->ha && l->takeover) {
            l->takeover = false;
            pthread_mutex_unlock(&l->mu);
            bool led = scitt__ha_take_over(l);
            pthread_mutex_lock(&l->mu);
            l->queue_ready = led; /* rows may have waited for a sequencer */
            continue;
        }
        if (l->ha && !atomic_load(&l->leader)) {
            /* another instance sequences: hand it what was submitted here */
            pending_sub *list = l->head;
            l->head = l->tail = NULL;
            l->queued = 0;
            l->queue_ready = false;
            pthread_mutex_unlock(&l->mu);
            scitt__ha_forward(l, list);
            pthread_mutex_lock(&l->mu);
            if (l->stopping && !l->head) {
                break;
            }
            continue;
        }
        if (!l->head && !(l->ha && l->queue_ready)) {
            break; /* stopping and drained */
        }
        long wait_us = fill_wait_us(l);
        if (l->head && wait_us > 0 && l->queued < l->cfg.batch_max && !l->stopping) {
            /* Give a busy moment a chance to fill the batch, bounded by the wait. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (wait_us % 1000000) * 1000L;
            until.tv_sec += wait_us / 1000000 + until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            l->filling = true;
            while (l->queued < l->cfg.batch_max && !l->stopping &&
                   pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0) {
            }
            l->filling = false;
        }
        size_t count = 0;
        pending_sub *batch = NULL;
        if (l->head) {
            batch = take_batch(l, &count);
            note_rate(l, count);
        }
        /* the queue is read only when a row may wait there (a notification since the last
         * batch, a takeover, a tick): a query less per batch otherwise */
        l->claim_queue = l->queue_ready;
        l->queue_ready = false;
        pthread_mutex_unlock(&l->mu);
        size_t more = process_batch(l, batch, count);
        pthread_mutex_lock(&l->mu);
        if (more > 0) {
            l->queue_ready = true;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}
