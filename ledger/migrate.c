/*
 * Moving an LMDB log into PostgreSQL (docs/ha.md): every record of the log's tables is copied, in
 * key order and from one read snapshot of the source, into a database that holds no log yet;
 * then the copy is read back and compared record by record, the entries are hashed again into
 * the tree and must give the root of every stored head, and the stored tiles must give the
 * newest head's root. The index is not copied: the first scittd that opens the database builds
 * it from the log (its watermark starts at zero).
 */
#include "ledger_int.h"

#include <stdio.h>
#include <string.h>

#include "scitt/merkle.h"

/* the log's tables, in the order they are copied */
static const scitt__table log_tables[] = {SCITT__T_META,    SCITT__T_HEADS,   SCITT__T_TIMES,
                                          SCITT__T_TILES,   SCITT__T_BUNDLES, SCITT__T_RECENT,
                                          SCITT__T_BOFFSETS};
static const char *const log_names[] = {"meta",    "heads",  "times",   "tiles",
                                        "bundles", "recent", "boffsets"};

#define COPY_TXN_ROWS 2000u

typedef struct mig_source {
    scitt__txn *txn;
    const scitt__store *store;
} mig_source;

static scitt_err mig_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SCITT_HASH_LEN])
{
    mig_source *ms = ctx;
    unsigned tl;
    uint64_t ti;
    scitt__tile_locate(level, index, &tl, &ti);
    const uint8_t *tile;
    scitt_err e = scitt__tile_get(ms->txn, ms->store, tl, ti, &tile);
    if (e != SCITT_OK) {
        return e == SCITT_ERR_NOT_FOUND ? SCITT_ERR_CORRUPT : e;
    }
    scitt__tile_read(tile, level, index, out);
    return SCITT_OK;
}

/* Copies table @p tb of the snapshot @p rt of @p src into @p dst, a write transaction per
 * COPY_TXN_ROWS records; *rows counts them. */
static scitt_err copy_table(scitt__store *src, scitt__txn *rt, scitt__store *dst, scitt__table tb,
                            uint64_t *rows)
{
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(src, rt, tb, &c);
    if (e != SCITT_OK) {
        return e;
    }
    scitt__txn *wt = NULL;
    unsigned in_txn = 0;
    scitt_span k, v;
    scitt_err g = scitt__cursor_get(src, c, &k, &v, SCITT__OP_FIRST);
    while (e == SCITT_OK && g == SCITT_OK) {
        if (!wt) {
            e = scitt__txn_begin(dst, SCITT__TXN_LOG_WRITE, &wt);
            in_txn = 0;
        }
        e = e ? e : scitt__kv_put(dst, wt, tb, k, v, 0);
        if (e == SCITT_OK && ++in_txn == COPY_TXN_ROWS) {
            e = scitt__txn_commit(dst, wt);
            wt = NULL;
        }
        (*rows)++;
        g = e ? g : scitt__cursor_get(src, c, &k, &v, SCITT__OP_NEXT);
    }
    if (e == SCITT_OK && g != SCITT_ERR_NOT_FOUND) {
        e = g;
    }
    if (wt && e == SCITT_OK) {
        e = scitt__txn_commit(dst, wt);
    } else if (wt) {
        scitt__txn_abort(dst, wt);
    }
    scitt__cursor_close(src, c);
    return e;
}

/* Reads table @p tb back from both and compares them record by record. */
static scitt_err compare_table(scitt__store *src, scitt__txn *rt, scitt__store *dst, scitt__txn *dt,
                               scitt__table tb, uint64_t *rows)
{
    scitt__cursor *a, *b;
    scitt_err e = scitt__cursor_open(src, rt, tb, &a);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt__cursor_open(dst, dt, tb, &b);
    if (e != SCITT_OK) {
        scitt__cursor_close(src, a);
        return e;
    }
    scitt_span ka, va, kb, vb;
    scitt_err ga = scitt__cursor_get(src, a, &ka, &va, SCITT__OP_FIRST);
    scitt_err gb = scitt__cursor_get(dst, b, &kb, &vb, SCITT__OP_FIRST);
    while (e == SCITT_OK && ga == SCITT_OK && gb == SCITT_OK) {
        if (!scitt_span_eq(ka, kb) || !scitt_span_eq(va, vb)) {
            e = SCITT_ERR_INTEGRITY;
            break;
        }
        (*rows)++;
        ga = scitt__cursor_get(src, a, &ka, &va, SCITT__OP_NEXT);
        gb = scitt__cursor_get(dst, b, &kb, &vb, SCITT__OP_NEXT);
    }
    if (e == SCITT_OK && (ga != SCITT_ERR_NOT_FOUND || gb != SCITT_ERR_NOT_FOUND)) {
        /* one ended first (a record missing or added), or a read failed */
        e = ga == SCITT_OK || gb == SCITT_OK ? SCITT_ERR_INTEGRITY
                                             : (ga != SCITT_ERR_NOT_FOUND ? ga : gb);
    }
    scitt__cursor_close(src, a);
    scitt__cursor_close(dst, b);
    return e;
}

/*
 * The tree again from the copied entries: at every stored head's size the root must be the
 * head's, and the stored tiles must give the newest head's root.
 */
static scitt_err check_tree(scitt__store *dst, scitt__txn *dt, uint64_t *entries, char *reason,
                            size_t cap)
{
    scitt_tree_head newest;
    scitt_err e = scitt__head_latest(dt, dst, &newest);
    if (e == SCITT_ERR_NOT_FOUND) {
        *entries = 0;
        return SCITT_OK; /* an empty log */
    }
    if (e != SCITT_OK) {
        return e;
    }
    scitt__cursor *hc;
    e = scitt__cursor_open(dst, dt, SCITT__T_HEADS, &hc);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_merkle_compact c;
    scitt_merkle_compact_init(&c);
    scitt_span k, v;
    scitt_err g = scitt__cursor_get(dst, hc, &k, &v, SCITT__OP_FIRST);
    uint64_t i = 0;
    while (e == SCITT_OK && g == SCITT_OK) {
        if (k.len != 8) {
            e = SCITT_ERR_CORRUPT;
            break;
        }
        uint64_t size = scitt__get_be64(k.ptr);
        scitt_tree_head h;
        e = scitt__head_decode(size, v, &h);
        uint8_t want[SCITT_HASH_LEN];
        if (e == SCITT_OK) {
            memcpy(want, h.root, SCITT_HASH_LEN); /* (h points into the cursor's record) */
        }
        for (; e == SCITT_OK && i < size && i < newest.size; i++) {
            scitt_span entry;
            uint8_t leaf[SCITT_HASH_LEN];
            e = scitt__entry_get(dt, dst, i, newest.size, &entry);
            if (e == SCITT_ERR_CORRUPT) {
                snprintf(reason, cap,
                         "entry %llu of the copy does not hash to its leaf in the tiles",
                         (unsigned long long)i);
                e = SCITT_ERR_INTEGRITY;
            }
            if (e == SCITT_OK) {
                scitt_merkle_leaf_hash(entry, leaf);
                e = scitt_merkle_compact_append(&c, leaf, NULL, NULL);
            }
        }
        uint8_t root[SCITT_HASH_LEN];
        if (e == SCITT_OK) {
            scitt_merkle_compact_root(&c, root);
            if (c.size != size || memcmp(root, want, SCITT_HASH_LEN) != 0) {
                snprintf(reason, cap,
                         "the copied entries do not hash to the root of the head at size %llu",
                         (unsigned long long)size);
                e = SCITT_ERR_INTEGRITY;
            }
        }
        g = e ? g : scitt__cursor_get(dst, hc, &k, &v, SCITT__OP_NEXT);
    }
    scitt__cursor_close(dst, hc);
    if (e == SCITT_OK && g != SCITT_ERR_NOT_FOUND) {
        e = g;
    }
    if (e == SCITT_OK && c.size != newest.size) {
        snprintf(reason, cap, "the copy's heads end at size %llu, its newest head is at %llu",
                 (unsigned long long)c.size, (unsigned long long)newest.size);
        e = SCITT_ERR_INTEGRITY;
    }
    /* the tiles, which proofs are built from, give the same root */
    if (e == SCITT_OK) {
        scitt_merkle_compact t;
        mig_source ms = {dt, dst};
        scitt_merkle_source src = {mig_node, &ms};
        uint8_t a[SCITT_HASH_LEN], b[SCITT_HASH_LEN];
        e = scitt_merkle_compact_load(&t, newest.size, &src);
        if (e == SCITT_OK) {
            scitt_merkle_compact_root(&t, a);
            scitt_merkle_compact_root(&c, b);
            if (memcmp(a, b, SCITT_HASH_LEN) != 0) {
                snprintf(reason, cap, "the copied tiles do not give the newest head's root");
                e = SCITT_ERR_INTEGRITY;
            }
        }
    }
    *entries = newest.size;
    return e;
}

scitt_err scitt_ledger_migrate(const char *dir, const char *url, uint64_t *entries, char *reason,
                               size_t cap)
{
    *entries = 0;
    reason[0] = 0;
    if (!scitt__pg_url(url)) {
        snprintf(reason, cap, "the target is not a postgresql:// URL");
        return SCITT_ERR_INVALID_ARG;
    }
    scitt__store src, dst;
    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    scitt_err e = scitt__lmdb_open(&src, dir, (uint64_t)1 << 30, (uint64_t)1 << 40, true);
    if (e != SCITT_OK) {
        snprintf(reason, cap, "cannot open the LMDB log in %s: %s", dir, scitt_err_str(e));
        return e;
    }
    /* the writer's token: nothing else may write the database while it is filled */
    e = scitt__pg_open(&dst, url, false, true);
    if (e != SCITT_OK) {
        snprintf(reason, cap, "cannot open the PostgreSQL database: %s", scitt_err_str(e));
        scitt__store_close(&src);
        return e;
    }
    scitt__txn *rt = NULL, *dt = NULL;
    e = scitt__txn_begin(&src, SCITT__TXN_LOG_READ, &rt);
    e = e ? e : scitt__txn_begin(&dst, SCITT__TXN_LOG_READ, &dt);
    /* an empty target only: a log there would be mixed with this one */
    for (size_t i = 0; e == SCITT_OK && i < sizeof(log_tables) / sizeof(log_tables[0]); i++) {
        scitt__cursor *c;
        scitt_span k, v;
        e = scitt__cursor_open(&dst, dt, log_tables[i], &c);
        scitt_err g = e ? e : scitt__cursor_get(&dst, c, &k, &v, SCITT__OP_FIRST);
        if (e == SCITT_OK) {
            scitt__cursor_close(&dst, c);
        }
        if (g == SCITT_OK) {
            snprintf(reason, cap,
                     "the PostgreSQL database already holds a log (its %s table is not empty): "
                     "migrate into an empty database only",
                     log_names[i]);
            e = SCITT_ERR_STATE;
        } else if (g != SCITT_ERR_NOT_FOUND) {
            e = g;
        }
    }
    if (dt) {
        scitt__txn_abort(&dst, dt);
        dt = NULL;
    }
    bool wrote = e == SCITT_OK;
    uint64_t copied = 0, compared = 0;
    for (size_t i = 0; e == SCITT_OK && i < sizeof(log_tables) / sizeof(log_tables[0]); i++) {
        if (log_tables[i] == SCITT__T_BOFFSETS && !src.has_boffsets) {
            continue; /* a store written before bundle offsets: its bundles are walked */
        }
        e = copy_table(&src, rt, &dst, log_tables[i], &copied);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "copying the %s table failed: %s", log_names[i],
                     scitt_err_str(e));
        }
    }
    e = e ? e : scitt__txn_begin(&dst, SCITT__TXN_LOG_READ, &dt);
    for (size_t i = 0; e == SCITT_OK && i < sizeof(log_tables) / sizeof(log_tables[0]); i++) {
        if (log_tables[i] == SCITT__T_BOFFSETS && !src.has_boffsets) {
            continue;
        }
        e = compare_table(&src, rt, &dst, dt, log_tables[i], &compared);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "the copy of the %s table differs from the log: %s", log_names[i],
                     scitt_err_str(e));
        }
    }
    if (e == SCITT_OK && compared != copied) {
        snprintf(reason, cap, "%llu records copied but %llu read back", (unsigned long long)copied,
                 (unsigned long long)compared);
        e = SCITT_ERR_INTEGRITY;
    }
    e = e ? e : check_tree(&dst, dt, entries, reason, cap);
    if (dt) {
        scitt__txn_abort(&dst, dt);
    }
    if (rt) {
        scitt__txn_abort(&src, rt);
    }
    if (e != SCITT_OK && wrote) {
        /* nothing half-written or unchecked stays behind for a scittd to open */
        (void)scitt__pg_clear_log(&dst);
    }
    /* the token goes back: the first scittd takes its own */
    scitt__pg_lease_drop(&dst, true);
    scitt__store_close(&dst);
    scitt__store_close(&src);
    if (e != SCITT_OK && !reason[0]) {
        snprintf(reason, cap, "the migration failed: %s", scitt_err_str(e));
    }
    return e;
}
