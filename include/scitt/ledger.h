/*
 * scitt/ledger.h — the log's storage and sequencer: an LMDB environment holding the registered
 * entries, the RFC 9162 tree as C2SP tiles, every signed tree head and the auditor indexes, and a
 * single sequencer thread that appends submissions in batches with one signature and one durable
 * commit per batch. docs/storage.md describes the on-disk layout.
 *
 * Threads: scitt_ledger_submit and the read functions may be called from any thread. Completion
 * callbacks run on the sequencer thread, after the batch is durable; they must be quick (hand the
 * result to another thread) and must not call scitt_ledger_close.
 *
 * Read snapshots (scitt_ledger_read) are LMDB read transactions: spans they return point into the
 * memory map and stay valid until scitt_ledger_read_end. Never keep a snapshot across callbacks
 * or event-loop turns. A snapshot also holds the read side of the lock that growing the memory
 * map takes for writing, so:
 *  - a snapshot is used by one thread only, and ended (scitt_ledger_read_end) on the thread that
 *    began it (a read-write lock is released by the thread that holds it);
 *  - a snapshot is never held while waiting for a submission's completion, or for anything the
 *    sequencer does: when the batch needs a larger map, the sequencer waits for every snapshot to
 *    end before it can grow it, and the two would wait for each other forever.
 */
#ifndef SCITT_LEDGER_H
#define SCITT_LEDGER_H

#include "scitt/base.h"
#include "scitt/merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct scitt_ledger scitt_ledger;
typedef struct scitt_ledger_read scitt_ledger_read;

#define SCITT_LEDGER_NO_POLICY UINT64_MAX

/** A signed tree head as stored. Spans point into the read snapshot it came from. */
typedef struct scitt_tree_head {
    uint64_t size;
    uint8_t root[SCITT_HASH_LEN];
    int64_t time_ms;              /**< registration time of the entries this head added */
    uint64_t policy_index;        /**< index of the policy entry in force, or NO_POLICY */
    scitt_span receipt_protected; /**< the receipt protected header (contents of the bstr) */
    scitt_span receipt_signature; /**< its signature over the root: shared by every receipt */
    scitt_span checkpoint;        /**< the C2SP signed checkpoint note */
} scitt_tree_head;

/**
 * Signs tree heads for the sequencer (the service layer implements it with the receipt key and
 * the checkpoint note key). Called on the sequencer thread once per batch.
 */
typedef struct scitt_ledger_signer {
    /** Appends the receipt protected header, its signature and the checkpoint note. */
    scitt_err (*sign)(void *ctx, uint64_t size, const uint8_t root[SCITT_HASH_LEN], int64_t time_ms,
                      scitt_dynbuf *receipt_protected, scitt_dynbuf *receipt_signature,
                      scitt_dynbuf *checkpoint);
    /** Checks a stored head's signatures at open (SCITT_ERR_SIGNATURE when they fail). */
    scitt_err (*verify)(void *ctx, const scitt_tree_head *head);
    void *ctx;
} scitt_ledger_signer;

typedef struct scitt_ledger_config {
    const char *dir; /**< data directory of an LMDB log (created if missing) */
    /**
     * A postgresql:// URL: the log lives in that database instead (dir and the map sizes are not
     * used). NULL: LMDB in dir.
     */
    const char *storage;
    uint64_t map_size;       /**< initial LMDB map size in bytes (0: 1 GiB) */
    uint64_t map_size_max;   /**< grow the map up to this on demand (0: no growth) */
    unsigned batch_max;      /**< entries per batch (0: 4096) */
    unsigned batch_delay_ms; /**< let a batch fill this long after its first submission (0:
                                  adaptive: none while sparse, 1 ms above 2,000/s) */
    size_t max_entry;        /**< largest entry accepted (0: SCITT_LIMIT_STATEMENT_DEFAULT) */
    bool read_only;          /**< open for reading only (no sequencer; other processes write) */
    const scitt_ledger_signer *signer; /**< required unless read_only; borrowed until close */
    /**
     * Extracts the auditor index values of a stored entry, to rebuild the index from the log
     * (spans point into the entry or @p storage). NULL: a rebuild indexes entry IDs only.
     */
    scitt_err (*index_values)(void *ctx, scitt_span entry, scitt_span *iss, scitt_span *sub,
                              scitt_span *digest, uint8_t storage[64]);
    void *index_ctx;
    /**
     * PostgreSQL, several instances on one log (docs/ha.md). 0: this instance takes the writer's
     * token at open (the one opened last writes). Otherwise the lease in milliseconds: the
     * instance sequences while it holds the lease (renewed every lease_ms / 4), takes it over
     * once it lapses, and while another instance holds it hands its submissions to that one
     * through the database (needs queue_key).
     */
    unsigned lease_ms;
    const char *holder;       /**< names this instance in the lease row (e.g. "host:pid") */
    const uint8_t *queue_key; /**< 32 bytes shared by the instances: authenticates queued rows */
    /**
     * A file (beside the service keys) keeping the newest signed tree head's size and root,
     * which a database restored from an old backup cannot take back: the ledger refuses to
     * extend a log that is older than it or does not extend it. NULL: memory only.
     */
    const char *head_file;
} scitt_ledger_config;

/**
 * Opens (creating if needed) the ledger in cfg->dir and, unless read-only, starts the sequencer.
 * At open the root recomputed from the stored tiles must equal the last signed tree head and the
 * head's signature must verify; otherwise the ledger opens refusing writes, and
 * scitt_ledger_state() returns SCITT_ERR_INTEGRITY (reads still work so the damage can be seen).
 */
SCITT_MUST_USE scitt_err scitt_ledger_open(const scitt_ledger_config *cfg, scitt_ledger **out);

/*
 * Copies the LMDB log in @p dir (stopped: one read snapshot is copied) into the PostgreSQL database
 * @p url, which must hold no log (SCITT_ERR_STATE otherwise), then checks the copy: every record
 * read back equals the source's, the entries hash to the root of every stored head, and the tiles
 * give the newest head's root (SCITT_ERR_INTEGRITY otherwise). The index is built by the first
 * scittd that opens the database. @p entries: the tree size copied; @p reason says what failed.
 */
SCITT_MUST_USE scitt_err scitt_ledger_migrate(const char *dir, const char *url, uint64_t *entries,
                                              char *reason, size_t cap);

/**
 * Stops accepting submissions, commits everything already queued and stops the sequencer; every
 * completion callback has run when it returns. Reads keep working until scitt_ledger_close.
 */
void scitt_ledger_drain(scitt_ledger *l);

/**
 * The newest signed tree head of the log in @p dir, read without opening the ledger (no writer,
 * no index, no lock): for the service to check, before it opens the log, that the keys it holds
 * are the ones that signed it. Only while no other process writes the log. SCITT_ERR_NOT_FOUND
 * when @p dir holds no log or a log without heads. The spans of @p out point into @p storage
 * (its previous content is replaced), valid until @p storage changes.
 */
SCITT_MUST_USE scitt_err scitt_ledger_peek_latest(const char *dir, scitt_tree_head *out,
                                                  scitt_dynbuf *storage);
/** The same for a log in PostgreSQL (@p url as scitt_ledger_config.storage). */
SCITT_MUST_USE scitt_err scitt_ledger_peek_latest_url(const char *url, scitt_tree_head *out,
                                                      scitt_dynbuf *storage);

/** Drains (if not done yet) and closes LMDB. NULL is a no-op. */
void scitt_ledger_close(scitt_ledger *l);

/** SCITT_OK when writable; otherwise the reason writes are refused (integrity, map full...). */
scitt_err scitt_ledger_state(const scitt_ledger *l);

/**
 * Several instances (scitt_ledger_config.lease_ms): whether this instance sequences now (always
 * true for a writable ledger without a lease). SCITT_ERR_CONSISTENCY from scitt_ledger_state
 * means storage is older than, or does not extend, the newest tree head the service signed
 * (see head_file); scitt_ledger_signed says which head that is.
 */
bool scitt_ledger_leader(const scitt_ledger *l);
void scitt_ledger_signed(scitt_ledger *l, uint64_t *size, uint8_t root[SCITT_HASH_LEN]);

/** A registration ready for the log: the check stage produced everything here. */
typedef struct scitt_submission {
    scitt_span entry;                  /**< the registered statement (copied by submit) */
    uint8_t entry_id[SCITT_HASH_LEN];  /**< SHA-256(entry) */
    uint8_t leaf_hash[SCITT_HASH_LEN]; /**< SHA-256(0x00 || entry) */
    scitt_span iss;                    /**< issuer, for the index (empty: not indexed) */
    scitt_span sub;                    /**< subject, for the index (empty: not indexed) */
    scitt_span digest;                 /**< payload digest, for the index (empty: none) */
    uint64_t policy_index;             /**< the policy entry that admitted it */
} scitt_submission;

/** Result of a submission, given to the completion callback. */
typedef struct scitt_ledger_result {
    scitt_err err;      /**< SCITT_OK, or why the batch failed (nothing of it was stored) */
    uint64_t index;     /**< where the entry is (the existing index for a duplicate) */
    uint64_t tree_size; /**< the size of the signed tree head that now covers it */
    bool duplicate;     /**< the entry was already in the log */
} scitt_ledger_result;

typedef void (*scitt_ledger_done)(void *ctx, const scitt_ledger_result *res);

/**
 * Queues a submission. @p done runs once on the sequencer thread after the batch holding it is
 * durable (or failed). Errors returned here mean it was not queued (and @p done will not run):
 * SCITT_ERR_TOO_LARGE, SCITT_ERR_CLOSED, the state error (integrity, map full).
 */
SCITT_MUST_USE scitt_err scitt_ledger_submit(scitt_ledger *l, const scitt_submission *s,
                                             scitt_ledger_done done, void *ctx);

/** Submits and waits for the result (for tools and tests). */
SCITT_MUST_USE scitt_err scitt_ledger_append(scitt_ledger *l, const scitt_submission *s,
                                             scitt_ledger_result *res);

/** Counters for metrics; a consistent copy. */
typedef struct scitt_ledger_stats {
    uint64_t tree_size;
    uint64_t batches;
    uint64_t entries;    /**< new entries appended since open */
    uint64_t duplicates; /**< submissions answered with an existing entry */
    uint64_t failures;   /**< submissions failed by a failed batch */
    uint64_t last_batch_size;
    double last_batch_ms;  /**< batch assembly to durable commit */
    double last_commit_ms; /**< the LMDB commit alone */
    uint64_t map_size;
    uint64_t db_bytes;  /**< bytes of the map in use */
    bool index_rebuilt; /**< the index was rebuilt from the log at open (after an unclean stop) */
} scitt_ledger_stats;

void scitt_ledger_get_stats(scitt_ledger *l, scitt_ledger_stats *out);

/** Called for each batch after commit with its size and timings (for histograms); may be NULL. */
typedef void (*scitt_ledger_batch_cb)(void *ctx, uint64_t entries, double batch_ms,
                                      double commit_ms);
void scitt_ledger_set_batch_observer(scitt_ledger *l, scitt_ledger_batch_cb cb, void *ctx);

/**
 * Settings the service keeps with the log (e.g. its origin): a small value under an ASCII name,
 * written in its own durable transaction. Names starting with "scitt." are reserved.
 */
SCITT_MUST_USE scitt_err scitt_ledger_meta_set(scitt_ledger *l, const char *name, scitt_span value);

/* Reading. */

/** Opens a read snapshot (one thread; ended on that thread; never held across a wait for a
 *  submission: see the top of this file). */
SCITT_MUST_USE scitt_err scitt_ledger_read_begin(scitt_ledger *l, scitt_ledger_read **out);
/** Ends it; every span from it becomes invalid. NULL is a no-op. */
void scitt_ledger_read_end(scitt_ledger_read *r);

/** The newest signed tree head (SCITT_ERR_NOT_FOUND for an empty log). */
SCITT_MUST_USE scitt_err scitt_ledger_latest(scitt_ledger_read *r, scitt_tree_head *out);
/** The signed tree head of exactly @p size (SCITT_ERR_NOT_FOUND if none was signed at it). */
SCITT_MUST_USE scitt_err scitt_ledger_head(scitt_ledger_read *r, uint64_t size,
                                           scitt_tree_head *out);
/** The first signed tree head whose size is greater than @p index (the one that added it). */
SCITT_MUST_USE scitt_err scitt_ledger_head_covering(scitt_ledger_read *r, uint64_t index,
                                                    scitt_tree_head *out);
/** Visits signed tree heads with size in [from, to] in order; stop by returning non-OK. */
SCITT_MUST_USE scitt_err scitt_ledger_heads(scitt_ledger_read *r, uint64_t from, uint64_t to,
                                            scitt_err (*visit)(void *ctx, const scitt_tree_head *h),
                                            void *ctx);

/** A setting written by scitt_ledger_meta_set (SCITT_ERR_NOT_FOUND); points into the snapshot. */
SCITT_MUST_USE scitt_err scitt_ledger_meta_get(scitt_ledger_read *r, const char *name,
                                               scitt_span *value);

/** Index of the entry with this entry ID (SCITT_ERR_NOT_FOUND). */
SCITT_MUST_USE scitt_err scitt_ledger_find(scitt_ledger_read *r,
                                           const uint8_t entry_id[SCITT_HASH_LEN], uint64_t *index);
/** The entry at @p index, checked against its leaf hash (SCITT_ERR_CORRUPT if it differs). */
SCITT_MUST_USE scitt_err scitt_ledger_entry(scitt_ledger_read *r, uint64_t index,
                                            scitt_span *entry);

/** A node source over the snapshot's tiles, for scitt_merkle_* proof generation. */
void scitt_ledger_source(scitt_ledger_read *r, scitt_merkle_source *out);
SCITT_MUST_USE scitt_err scitt_ledger_inclusion_proof(scitt_ledger_read *r, uint64_t index,
                                                      uint64_t size, uint8_t path[][SCITT_HASH_LEN],
                                                      size_t *n);
SCITT_MUST_USE scitt_err scitt_ledger_consistency_proof(scitt_ledger_read *r, uint64_t old_size,
                                                        uint64_t new_size,
                                                        uint8_t path[][SCITT_HASH_LEN], size_t *n);

/**
 * C2SP tile bytes for (level, index) at @p width (1..256) hashes, which must exist in the tree
 * of the latest head: a span of width * 32 bytes into the snapshot.
 */
SCITT_MUST_USE scitt_err scitt_ledger_tile(scitt_ledger_read *r, unsigned level, uint64_t index,
                                           unsigned width, scitt_span *out);
/**
 * C2SP entry bundle @p index of @p width entries: uint16 big-endian length + entry, appended to
 * @p out. SCITT_ERR_UNSUPPORTED when an entry in it exceeds 65,535 bytes.
 */
SCITT_MUST_USE scitt_err scitt_ledger_entry_bundle(scitt_ledger_read *r, uint64_t index,
                                                   unsigned width, scitt_dynbuf *out);

/** Which auditor index a query walks. */
typedef enum scitt_ledger_index {
    SCITT_INDEX_ISS = 1,
    SCITT_INDEX_SUB = 2,
    SCITT_INDEX_DIGEST = 3,
} scitt_ledger_index;

/**
 * Candidate entries whose @p which value hashes like @p value, with index >= @p from, ascending.
 * Candidates are a superset (the index keeps 64-bit hashes): callers confirm by reading the
 * entry. Stop by returning non-OK from @p visit (SCITT_ERR_STATE is reserved for "stop, no error").
 */
SCITT_MUST_USE scitt_err scitt_ledger_postings(scitt_ledger_read *r, scitt_ledger_index which,
                                               scitt_span value, uint64_t from,
                                               scitt_err (*visit)(void *ctx, uint64_t index),
                                               void *ctx);
/**
 * The number of entries registered before @p time_ms: entries with an index at or above it were
 * registered at or after that time (the tree size when none were).
 */
SCITT_MUST_USE scitt_err scitt_ledger_size_at_time(scitt_ledger_read *r, int64_t time_ms,
                                                   uint64_t *size);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_LEDGER_H */
