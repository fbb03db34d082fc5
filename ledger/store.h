/*
 * Internal to ledger/: the schema (tables, key and value encodings) and the helpers shared by the
 * sequencer and the readers, over the storage seam (storage.h). docs/storage.md is the prose
 * version.
 */
#ifndef SCITT_LEDGER_STORE_H
#define SCITT_LEDGER_STORE_H

#include <pthread.h>
#include <stdatomic.h>

#include "scitt/ledger.h"
#include "storage.h"

/*
 * A stored tile: 256 base hashes, then the 126 interior nodes of levels 2..7 of its subtree
 * (level-1 nodes are one hash of two base hashes away, and leaving them out makes a record
 * exactly three 4 KiB pages with LMDB's overflow header).
 */
#define TILE_BASE      256u
#define TILE_INTERIOR  126u
#define TILE_HASHES    (TILE_BASE + TILE_INTERIOR)
#define TILE_BYTES     (TILE_HASHES * SCITT_HASH_LEN)
#define BUNDLE_ENTRIES 256u

/*
 * Postings in the id and auditor indexes: the key is the first byte of a hash (256 buckets, each
 * a sub-database of fixed 8-byte duplicates packed without per-item headers): the next 3 bytes of
 * the hash, then the entry index (u40). 32 bits of hash are enough to keep false matches rare
 * (about 1 in 400 lookups at 10 M entries): every lookup confirms against the log.
 */
#define POSTING_KEY_BYTES   1u
#define POSTING_HASH_BYTES  3u
#define POSTING_INDEX_BYTES 5u
#define POSTING_BYTES       (POSTING_HASH_BYTES + POSTING_INDEX_BYTES)
#define POSTING_INDEX_MAX   ((UINT64_C(1) << (8 * POSTING_INDEX_BYTES)) - 1)

#define HEAD_VERSION   1u
/*
 * 2: the entries of the incomplete last bundle live one per record in `recent` (version 1
 * rewrote the whole partial bundle at every batch); a version-1 store is upgraded at open.
 */
#define SCHEMA_VERSION 2u

struct scitt__store {
    const scitt__storage_ops *ops;
    bool read_only;
    /* `boffsets`: per complete bundle, where each of its entries starts (BUNDLE_ENTRIES be32
     * byte offsets), so one entry is read without walking its bundle. Bundles written before it
     * existed have none and are walked; has_boffsets is false for a read-only opener of such a
     * store, which has no `boffsets` at all. */
    bool has_boffsets;
    /* whether the index tables are durable at every commit (no marker, no rebuild after a crash) */
    bool index_durable;
    /* whether whatever a snapshot shows is durable (PostgreSQL: a commit is visible once it is
     * durable, written by whichever instance holds the fencing token) */
    bool visible_durable;
    uint64_t map_size;
    uint64_t map_size_max;
    /* the backend's own state, defined in its implementation file only */
    struct scitt__lmdb *lmdb; /* ops == &scitt__lmdb_ops (ledger/store_lmdb.c) */
    struct scitt__pg *pg;     /* ops == &scitt__pg_ops (ledger/store_pg.c) */
};

/* The LMDB environment (MDB_env *) of the log or of the index, for tests that inspect it. */
void *scitt__lmdb_env(const scitt__store *s, bool index);

extern const scitt__storage_ops scitt__lmdb_ops;
/* Opens (creating unless read-only) the LMDB log and index in @p dir (ledger/store_lmdb.c). */
scitt_err scitt__lmdb_open(scitt__store *s, const char *dir, uint64_t map_size,
                           uint64_t map_size_max, bool read_only);
extern const scitt__storage_ops scitt__pg_ops;
/* Whether @p storage names a PostgreSQL database (postgresql:// or postgres://). */
bool scitt__pg_url(const char *storage);
/*
 * Connects to the PostgreSQL database @p url (ledger/store_pg.c), creates, upgrades or checks its
 * tables and, when @p take_token (not read-only), takes the writer's fencing token at once.
 */
scitt_err scitt__pg_open(scitt__store *s, const char *url, bool read_only, bool take_token);
/* Empties every table of the log and the index (a migration that failed its checks). */
scitt_err scitt__pg_clear_log(scitt__store *s);
/*
 * The lease of several instances (docs/ha.md): the writer's token with an expiry on the
 * database's clock. acquire takes it (a new token) only when the current one has expired; renew
 * pushes the expiry of the token held (*held false: another instance took it); drop forgets the
 * token held (release: and lets it expire now, for a quick handover).
 */
scitt_err scitt__pg_lease_acquire(scitt__store *s, const char *holder, unsigned lease_ms,
                                  bool *got);
scitt_err scitt__pg_lease_renew(scitt__store *s, unsigned lease_ms, bool *held);
void scitt__pg_lease_drop(scitt__store *s, bool release);
/* Whether this store holds a writer's token. */
bool scitt__pg_writer(const scitt__store *s);
/*
 * The queue (scitt_queue) of registrations an instance that does not sequence hands to the one
 * that does: put inserts rows (one transaction, then a notification), claim takes up to @p max
 * unanswered rows of one policy (@p any_policy: the oldest row's) inside the batch transaction
 * @p t (spans valid until it ends; *rows freed by the caller), finish writes a row's result in
 * it, notify tells the waiting instances at its commit, results deletes the answered rows among
 * @p ids and visits their results, withdraw deletes a row nobody has claimed.
 */
typedef struct scitt__pg_qrow {
    int64_t id;
    uint64_t policy;
    scitt_span rec, entry, mac;
} scitt__pg_qrow;
scitt_err scitt__pg_queue_put(scitt__store *s, size_t n, const uint64_t *policy,
                              const scitt_span *rec, const scitt_span *entry, const scitt_span *mac,
                              int64_t *ids);
scitt_err scitt__pg_queue_claim(scitt__txn *t, bool any_policy, uint64_t policy, unsigned max,
                                scitt__pg_qrow **rows, size_t *n);
scitt_err scitt__pg_queue_finish(scitt__txn *t, int64_t id, const scitt_ledger_result *res);
scitt_err scitt__pg_queue_notify(scitt__txn *t);
scitt_err scitt__pg_queue_results(scitt__store *s, const int64_t *ids, size_t n,
                                  void (*visit)(void *ctx, int64_t id,
                                                const scitt_ledger_result *res),
                                  void *ctx);
scitt_err scitt__pg_queue_withdraw(scitt__store *s, int64_t id, bool *withdrawn);
/*
 * The entry IDs of a batch looked up in one query (index transaction @p t): cand[i] is false when
 * no posting of `ids` can belong to ids[i] (it is not in the index), true when one may.
 */
scitt_err scitt__pg_ids_candidates(scitt__txn *t, const uint8_t *const *ids, size_t n, bool *cand);
/* A connection that listens for the queue's notifications (reconnecting when it breaks). */
typedef struct scitt__pg_listener scitt__pg_listener;
scitt_err scitt__pg_listen(scitt__store *s, scitt__pg_listener **out);
/* Waits up to @p timeout_ms for a notification or for @p wake_fd (an eventfd, drained). */
void scitt__pg_listen_wait(scitt__pg_listener *L, int wake_fd, int timeout_ms, bool *queued,
                           bool *done);
void scitt__pg_listen_close(scitt__pg_listener *L);
/* Closes whichever backend @p s was opened with (nothing when none was). */
void scitt__store_close(scitt__store *s);
/* Makes room after SCITT_ERR_MAP_FULL; no transaction may be active in this process. */
scitt_err scitt__store_grow(scitt__store *s);
/* The LMDB index environment (ledger/store_lmdb.c): opened by scitt__store_open. */
scitt_err scitt__lmdb_index_open(scitt__store *s, bool reset);
void scitt__lmdb_index_close(scitt__store *s);
/* The newest head of the LMDB log in @p dir, copied into @p storage (scitt_ledger_peek_latest). */
scitt_err scitt__lmdb_peek_latest(const char *dir, scitt_tree_head *out, scitt_dynbuf *storage);

/* Key encoders. */
void scitt__be64(uint8_t out[8], uint64_t v);
uint64_t scitt__get_be64(const uint8_t in[8]);
void scitt__tile_key(uint8_t out[9], unsigned level, uint64_t index);

/* Tree head records. */
scitt_err scitt__head_encode(const scitt_tree_head *h, scitt_dynbuf *out);
scitt_err scitt__head_decode(uint64_t size, scitt_span value, scitt_tree_head *out);
scitt_err scitt__head_get(scitt__txn *txn, const scitt__store *s, uint64_t size,
                          scitt_tree_head *out);
scitt_err scitt__head_latest(scitt__txn *txn, const scitt__store *s, scitt_tree_head *out);
/* The newest head with its spans copied into @p storage (appended), so that it outlives @p txn. */
scitt_err scitt__head_latest_copy(scitt__txn *txn, const scitt__store *s, scitt_tree_head *out,
                                  scitt_dynbuf *storage);

/* Tiles: the stored record (exactly TILE_BYTES) of (level, index), zero-copy. */
scitt_err scitt__tile_get(scitt__txn *txn, const scitt__store *s, unsigned level, uint64_t index,
                          const uint8_t **hashes);
/* The tile record that holds node (level, index). */
void scitt__tile_locate(unsigned level, uint64_t index, unsigned *tile_level, uint64_t *tile_index);
/* Reads node (level, index) out of its tile record (computing it for level 1). */
void scitt__tile_read(const uint8_t *tile, unsigned level, uint64_t index,
                      uint8_t out[SCITT_HASH_LEN]);
/* Stores node (level, index) in its tile record; false for nodes not stored (level 1). */
bool scitt__tile_write(uint8_t *tile, unsigned level, uint64_t index,
                       const uint8_t hash[SCITT_HASH_LEN]);

/* Entries. */
/* Records where the entries of complete bundle @p bundle (be32 length || bytes, each) start. */
scitt_err scitt__bundle_offsets_put(scitt__txn *txn, const scitt__store *s, uint64_t bundle,
                                    scitt_span bytes);
scitt_err scitt__entry_get(scitt__txn *txn, const scitt__store *s, uint64_t index, uint64_t size,
                           scitt_span *entry);

/*
 * Whether the index can be trusted after the last stop: a marker in the log's `meta` database
 * (durable), "clean" once a stop synced the index, "open <boot id>" before a run first writes it.
 * Found "open" with another boot ID (or missing under a non-empty log), the index may have lost
 * unsynced pages in a power cut while still opening: it is rebuilt from the log. Found "open"
 * with this boot's ID, only the process died: the page cache still holds every index write.
 */
#define INDEX_MARK_KEY   "scitt.index"
#define INDEX_MARK_CLEAN "clean"
#define INDEX_MARK_MAX   80u
/* The marker as stored ("" when absent), NUL-terminated in @p out. */
scitt_err scitt__index_mark_get(scitt__txn *txn, const scitt__store *s, char out[INDEX_MARK_MAX]);
scitt_err scitt__index_mark_put(scitt__txn *txn, const scitt__store *s, const char *value);
/* "open <boot id>" for this boot ("open" alone when the boot ID cannot be read). */
void scitt__index_mark_open(char out[INDEX_MARK_MAX]);

/* Entries the index covers (0 when it was never written). */
scitt_err scitt__index_watermark(scitt__txn *itxn, const scitt__store *s, uint64_t *w);
scitt_err scitt__index_set_watermark(scitt__txn *itxn, const scitt__store *s, uint64_t w);
/* The postings of one entry, hashed ahead (by the submitting thread). */
typedef struct scitt__postings {
    uint64_t index;
    uint8_t id[SCITT_HASH_LEN];
    uint8_t iss[8], sub[8], dig[8];
    bool has_iss, has_sub, has_dig;
} scitt__postings;

void scitt__postings_make(scitt__postings *p, uint64_t index, const uint8_t id[SCITT_HASH_LEN],
                          scitt_span iss, scitt_span sub, scitt_span digest);
scitt_err scitt__index_add(scitt__txn *itxn, const scitt__store *s, const scitt__postings *p);
/* Is entry @p index (below @p size) the one with this ID? Reads it from the log. */
scitt_err scitt__index_confirm(scitt__txn *txn, const scitt__store *s, uint64_t index,
                               uint64_t size, const uint8_t id[SCITT_HASH_LEN], bool *match);
/*
 * Finds the entry with this ID among the indexed entries below @p size: postings from @p itxn,
 * confirmed by hashing the entry read from @p txn. SCITT_ERR_NOT_FOUND when it is not there.
 */
scitt_err scitt__index_find(scitt__txn *itxn, scitt__txn *txn, const scitt__store *s,
                            const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index);

/* Postings: the 8-byte hash of an index value (entry IDs use their own first 8 bytes). */
void scitt__posting_hash(scitt_span value, uint8_t out[8]);
void scitt__posting_make(const uint8_t hash[8], uint64_t index, uint8_t key[POSTING_KEY_BYTES],
                         uint8_t val[POSTING_BYTES]);
/* The entry index in a posting, and whether the posting belongs to @p hash. */
uint64_t scitt__posting_index(const uint8_t val[POSTING_BYTES]);
bool scitt__posting_matches(const uint8_t val[POSTING_BYTES], const uint8_t hash[8]);

#endif
