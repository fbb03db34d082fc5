/*
 * Internal to ledger/: the LMDB schema (named databases, key and value encodings) and the
 * helpers shared by the sequencer and the readers. docs/storage.md is the prose version.
 */
#ifndef SCITT_LEDGER_STORE_H
#define SCITT_LEDGER_STORE_H

#include <pthread.h>
#include <stdatomic.h>

#include <lmdb.h>

#include "scitt/ledger.h"

/* A stored tile: 256 base hashes then the 254 interior nodes of levels 1..7 of its subtree. */
#define TILE_BASE      256u
#define TILE_INTERIOR  254u
#define TILE_HASHES    (TILE_BASE + TILE_INTERIOR)
#define TILE_BYTES     (TILE_HASHES * SCITT_HASH_LEN)
#define BUNDLE_ENTRIES 256u

/* Postings in the id and auditor indexes: key = 2-byte bucket, fixed 12-byte duplicates. */
#define POSTING_BYTES 12u

#define HEAD_VERSION   1u
#define SCHEMA_VERSION 1u

/*
 * Two environments. The main one is the log and is durable at every commit: everything in it is
 * appended in index order, so a batch writes mostly new pages. The index environment holds the
 * entry-ID and auditor postings: random keys that would dirty pages all over a B-tree, so it is
 * committed without fsync and treated as derived data: a watermark says how many entries it
 * covers, and it is caught up (or rebuilt) from the log whenever it lags or cannot be opened.
 */
typedef struct scitt__store {
    MDB_env *env;
    MDB_env *ienv;
    MDB_dbi meta, heads, times, tiles, bundles;
    MDB_dbi ids, iss, sub, dig, imeta;
    char *dir;
    bool read_only;
    /* Readers hold it shared for the life of a transaction so the map can grow safely. */
    pthread_rwlock_t grow;
    uint64_t map_size;
    uint64_t map_size_max;
} scitt__store;

/* Maps an LMDB or errno code to scitt_err (the one adapter for LMDB codes). */
scitt_err scitt__mdb_err(int rc);

scitt_err scitt__store_open(scitt__store *s, const char *dir, uint64_t map_size,
                            uint64_t map_size_max, bool read_only);
void scitt__store_close(scitt__store *s);
/* Doubles the map (up to map_size_max); no transaction may be active in this process. */
scitt_err scitt__store_grow(scitt__store *s);

/* Key encoders. */
void scitt__be64(uint8_t out[8], uint64_t v);
uint64_t scitt__get_be64(const uint8_t in[8]);
void scitt__tile_key(uint8_t out[9], unsigned level, uint64_t index);

/* Tree head records. */
scitt_err scitt__head_encode(const scitt_tree_head *h, scitt_dynbuf *out);
scitt_err scitt__head_decode(uint64_t size, scitt_span value, scitt_tree_head *out);
scitt_err scitt__head_get(MDB_txn *txn, const scitt__store *s, uint64_t size, scitt_tree_head *out);
scitt_err scitt__head_latest(MDB_txn *txn, const scitt__store *s, scitt_tree_head *out);

/* Tiles: the stored record (exactly TILE_BYTES) of (level, index), zero-copy. */
scitt_err scitt__tile_get(MDB_txn *txn, const scitt__store *s, unsigned level, uint64_t index,
                          const uint8_t **hashes);
/* Position of node (level, index) inside its stored tile record. */
void scitt__tile_slot(unsigned level, uint64_t index, unsigned *tile_level, uint64_t *tile_index,
                      unsigned *slot);

/* Entries. */
scitt_err scitt__entry_get(MDB_txn *txn, const scitt__store *s, uint64_t index, uint64_t size,
                           scitt_span *entry);

/* The index environment (ledger/index.c). */
scitt_err scitt__index_open(scitt__store *s, bool reset);
void scitt__index_close(scitt__store *s);
/* Entries the index covers (0 when it was never written). */
scitt_err scitt__index_watermark(MDB_txn *itxn, const scitt__store *s, uint64_t *w);
scitt_err scitt__index_set_watermark(MDB_txn *itxn, const scitt__store *s, uint64_t w);
/* Adds the postings of one entry. */
scitt_err scitt__index_add(MDB_txn *itxn, const scitt__store *s, uint64_t index,
                           const uint8_t id[SCITT_HASH_LEN], scitt_span iss, scitt_span sub,
                           scitt_span digest);
/*
 * Finds the entry with this ID among entries [0, size): postings from @p itxn, confirmed by
 * hashing the entry read from @p txn. Entries at or past the index watermark are searched
 * directly (at most SCITT__INDEX_SCAN of them).
 */
#define SCITT__INDEX_SCAN 65536u
scitt_err scitt__index_find(MDB_txn *itxn, MDB_txn *txn, const scitt__store *s,
                            const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index);

/* Postings: the 8-byte hash of an index value (entry IDs use their own first 8 bytes). */
void scitt__posting_hash(scitt_span value, uint8_t out[8]);
void scitt__posting_make(const uint8_t hash[8], uint64_t index, uint8_t key[2],
                         uint8_t val[POSTING_BYTES]);

#endif
