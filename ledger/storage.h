/*
 * Internal to ledger/: the storage seam. The sequencer, the readers, the indexer and the open
 * path talk to storage through this table of operations only; store.h's schema (which table holds
 * what, how keys and records are encoded) sits above it and is the same for every backend.
 *
 * The model is an ordered key-value store with transactions and named tables:
 *  - keys sort as byte strings (memcmp, then the shorter first), which is why every integer in a
 *    key is big-endian;
 *  - the log tables are written by one write transaction per batch, durable when its commit
 *    returns; the index tables are derived from the log and written by their own transactions
 *    (a backend may make those lazily durable: they are rebuilt from the log when in doubt);
 *  - "duplicate" tables (ids, iss, sub, dig) hold sorted (key, value) pairs, several values per
 *    key, all of POSTING_BYTES;
 *  - a span a backend returns (from get or a cursor) stays valid until its transaction ends.
 *
 * docs/storage.md describes the layout of each backend.
 */
#ifndef SCITT_LEDGER_STORAGE_H
#define SCITT_LEDGER_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "scitt/base.h"

typedef enum scitt__table {
    /* the log */
    SCITT__T_META = 0,
    SCITT__T_HEADS,
    SCITT__T_TIMES,
    SCITT__T_TILES,
    SCITT__T_BUNDLES,
    SCITT__T_RECENT,
    SCITT__T_BOFFSETS,
    /* the index (derived from the log) */
    SCITT__T_IMETA,
    SCITT__T_IDS, /* duplicate tables from here on */
    SCITT__T_ISS,
    SCITT__T_SUB,
    SCITT__T_DIG,
    SCITT__T_COUNT
} scitt__table;

#define SCITT__T_FIRST_DUP SCITT__T_IDS

typedef enum scitt__txn_kind {
    SCITT__TXN_LOG_READ,
    SCITT__TXN_LOG_WRITE,
    SCITT__TXN_INDEX_READ,
    SCITT__TXN_INDEX_WRITE,
} scitt__txn_kind;

/* Cursor moves (each reads the record it lands on into key and value). */
typedef enum scitt__op {
    SCITT__OP_FIRST,
    SCITT__OP_LAST,
    SCITT__OP_NEXT,
    SCITT__OP_PREV,
    SCITT__OP_SET_RANGE,      /* the first key >= *key */
    SCITT__OP_GET_BOTH_RANGE, /* duplicates: key == *key and the first value >= *val */
    SCITT__OP_NEXT_DUP,       /* duplicates: the next value of the same key */
} scitt__op;

/* put: the key sorts after every key in the table (a backend may check it). */
#define SCITT__PUT_APPEND 1u

typedef struct scitt__txn scitt__txn;
typedef struct scitt__cursor scitt__cursor;
typedef struct scitt__store scitt__store;

/*
 * Every function returns SCITT_ERR_NOT_FOUND for a missing record or a cursor move past the end,
 * and maps its backend's failures to scitt_err (SCITT_ERR_MAP_FULL when the store must grow
 * first, SCITT_ERR_NO_SPACE, SCITT_ERR_IO, SCITT_ERR_CORRUPT, SCITT_ERR_BUSY...).
 */
typedef struct scitt__storage_ops {
    const char *name;
    void (*close)(scitt__store *s);

    scitt_err (*txn_begin)(scitt__store *s, scitt__txn_kind kind, scitt__txn **out);
    /* Ends the transaction either way; durable when it returns SCITT_OK (log transactions). */
    scitt_err (*txn_commit)(scitt__store *s, scitt__txn *t);
    void (*txn_abort)(scitt__store *s, scitt__txn *t);
    /*
     * A read snapshot for readers on any thread: one log and one index read transaction; the
     * backend may hold a lock for its life (scitt__store_grow waits for it).
     */
    scitt_err (*snapshot_begin)(scitt__store *s, scitt__txn **log, scitt__txn **index);
    void (*snapshot_end)(scitt__store *s, scitt__txn *log, scitt__txn *index);

    scitt_err (*get)(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                     scitt_span *val);
    /*
     * Optional (NULL: get, then the slice): bytes [off, off + len) of the value of @p key, fewer
     * when the value ends first, for a backend that copies values to the caller (one entry of a
     * bundle without the other 255).
     */
    scitt_err (*get_range)(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                           uint32_t off, uint32_t len, scitt_span *val);
    scitt_err (*put)(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                     scitt_span val, unsigned flags);
    scitt_err (*cursor_open)(const scitt__store *s, scitt__txn *t, scitt__table tb,
                             scitt__cursor **out);
    scitt_err (*cursor_get)(scitt__cursor *c, scitt_span *key, scitt_span *val, scitt__op op);
    /* Deletes the record the cursor is on. */
    scitt_err (*cursor_del)(scitt__cursor *c);
    void (*cursor_close)(scitt__cursor *c);
    /* Deletes every record with @p lo <= key < @p hi (a table of unique keys); NULL: the
     * caller deletes them one by one with a cursor. */
    scitt_err (*del_range)(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span lo,
                           scitt_span hi);

    /* Makes room after SCITT_ERR_MAP_FULL (no transaction active in this process). */
    scitt_err (*grow)(scitt__store *s);
    /* Forces what the log (index: the index) holds to stable storage. */
    scitt_err (*sync)(scitt__store *s, bool index);
    /* Drops the index tables and starts them empty (before they are rebuilt from the log). */
    scitt_err (*index_reset)(scitt__store *s);
    /* Bytes in use by the log and the index, for metrics (0 when unknown). */
    uint64_t (*bytes_used)(scitt__store *s);
} scitt__storage_ops;

/* Thin wrappers so call sites read as before. */
#define scitt__txn_begin(s, kind, out)    ((s)->ops->txn_begin((s), (kind), (out)))
#define scitt__txn_commit(s, t)           ((s)->ops->txn_commit((s), (t)))
#define scitt__txn_abort(s, t)            ((s)->ops->txn_abort((s), (t)))
#define scitt__kv_get(s, t, tb, k, v)     ((s)->ops->get((s), (t), (tb), (k), (v)))
#define scitt__kv_put(s, t, tb, k, v, f)  ((s)->ops->put((s), (t), (tb), (k), (v), (f)))
#define scitt__cursor_open(s, t, tb, c)   ((s)->ops->cursor_open((s), (t), (tb), (c)))
#define scitt__cursor_get(s, c, k, v, op) ((s)->ops->cursor_get((c), (k), (v), (op)))
#define scitt__cursor_del(s, c)           ((s)->ops->cursor_del((c)))
#define scitt__cursor_close(s, c)         ((s)->ops->cursor_close((c)))

#endif
