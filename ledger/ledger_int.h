/* Internal to ledger/: the ledger object shared by the sequencer and the readers. */
#ifndef SCITT_LEDGER_INT_H
#define SCITT_LEDGER_INT_H

#include "store.h"

#define TILE_LEVELS 8u /* stored tile levels 0..7 cover trees up to 2^64 leaves */

typedef struct pending_sub {
    struct pending_sub *next;
    scitt_submission sub; /* spans point into `data` */
    scitt__postings post; /* hashed by the submitting thread; index set when appended */
    scitt_ledger_done done;
    void *ctx;
    scitt_ledger_result res;
    struct pending_sub *twin; /* an earlier copy in the same batch */
    int64_t qid;              /* its row in the database queue (0: none) */
    uint8_t data[];           /* the entry */
} pending_sub;

/* The right edge of the tree as the sequencer sees it: rebuilt from storage after any abort. */
typedef struct tree_edge {
    scitt_merkle_compact compact;
    uint64_t tile_index[TILE_LEVELS];
    bool dirty[TILE_LEVELS];
    uint8_t tiles[TILE_LEVELS][TILE_BYTES];
    int64_t last_time_ms;
    /* the last, incomplete entry bundle (its entries are stored one per record in `recent`
     * until it is complete, then written whole once) */
    scitt_dynbuf bundle;
    unsigned bundle_stored; /* how many of its entries have their record in `recent` */
} tree_edge;

struct scitt_ledger {
    scitt__store store;
    scitt_ledger_config cfg;
    scitt_ledger_signer signer;
    _Atomic int state; /* scitt_err: why writes are refused, or SCITT_OK */
    /*
     * The largest tree size known to be on stable storage. Readers serve nothing past it: LMDB
     * makes a commit visible to new snapshots when it writes the meta page, before that write is
     * synced (and a failed sync leaves it visible too), so a snapshot alone can show a head that a
     * power cut would take back. The sequencer sets it after each commit returns, before any
     * completion runs; a read-only opener syncs the file itself before it moves it on.
     */
    _Atomic uint64_t durable;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* queue non-empty or stopping */
    pthread_t thread;
    bool thread_started;
    bool stopping;
    pending_sub *head, *tail;
    size_t queued;
    /* the sequencer waits: for any submission (idle) or for its batch to fill (filling); a
     * submission wakes it when idle, and when filling only once the batch is full */
    bool idle, filling;
    double rate;        /* submissions per second, averaged over recent batches (sequencer) */
    double last_take_s; /* when the sequencer last took a batch */

    tree_edge *edge; /* sequencer thread only */
    /* the index marker says "open <this boot>" (set before the index is first written; the
     * sequencer writes it with its first batch when open did not need to) */
    bool index_marked;
    char index_mark_open[INDEX_MARK_MAX];
    struct scitt__indexer *ix; /* ledger/indexer.c */

    /* several instances (cfg.lease_ms, ledger/ha.c) */
    struct scitt__ha *ha;
    _Atomic bool leader; /* this instance holds the lease and sequences */
    bool takeover;       /* under mu: the lease was taken, the sequencer loads the edge */
    bool queue_ready;    /* under mu: the database queue may hold rows for this sequencer */
    bool claim_queue;    /* the sequencer's: queue_ready when it took the batch (else no claim) */

    pthread_mutex_t stats_mu;
    scitt_ledger_stats stats;
    scitt_ledger_batch_cb batch_cb;
    void *batch_ctx;
};

/*
 * The tree size readers of a snapshot whose newest head has @p snapshot_size may serve: that size
 * when it is durable, else the last size known durable. A read-only opener first tries to make
 * the snapshot durable itself (an fdatasync of the log file).
 */
uint64_t scitt__ledger_durable(scitt_ledger *l, uint64_t snapshot_size);
/* Rebuilds the edge from the committed state; checks the root against the last head. */
scitt_err scitt__edge_load(scitt_ledger *l, tree_edge *edge, bool check_signature);
void *scitt__sequencer_main(void *arg);
/*
 * ledger/indexer.c: the index environment follows the log on its own thread. Entries the log has
 * and the index does not cover yet are found through an in-memory table of recent entry IDs.
 */
typedef struct scitt__indexer scitt__indexer;
/* Brings the index up to @p size entries from the log (or rebuilds it); before threads start. */
scitt_err scitt__index_catch_up(scitt_ledger *l, uint64_t size);
/*
 * At open, before threads start: trusts the index after a clean stop, or after a stop of the
 * process alone (same boot), and rebuilds it from the log otherwise (see INDEX_MARK_KEY); then
 * catches it up to @p size. *rebuilt says whether it was rebuilt.
 */
scitt_err scitt__index_prepare(scitt_ledger *l, uint64_t size, bool *rebuilt);
/* Commits the "clean" index marker to the log (after scitt__indexer_stop synced the index). */
scitt_err scitt__index_mark_clean(scitt_ledger *l);
scitt_err scitt__indexer_start(scitt_ledger *l);
/*
 * Indexes everything queued, syncs the index environment and stops the thread; true when the
 * index environment was synced (so the next open may trust it).
 */
bool scitt__indexer_stop(scitt_ledger *l);
/*
 * Sequencer: remembers the IDs of a batch's new entries before its commit (so readers and the
 * next batches find them before the index does), then hands their postings to the indexer.
 * Remembering may wait for the indexer when it lags far behind.
 */
scitt_err scitt__indexer_remember(scitt_ledger *l, const scitt__postings *p);
void scitt__indexer_enqueue(scitt_ledger *l, pending_sub *list);
/* Finds an entry ID below @p size: recent IDs first, then the index environment. */
scitt_err scitt__ledger_find(scitt_ledger *l, scitt__txn *itxn, scitt__txn *txn,
                             const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index);
/* The same, @p indexed false: the index is known not to hold it (recent IDs only). */
scitt_err scitt__ledger_find_ex(scitt_ledger *l, scitt__txn *itxn, scitt__txn *txn,
                                const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index,
                                bool indexed);

/* ledger/ha.c: several instances on one PostgreSQL log. */
typedef struct scitt__ha scitt__ha;
/* At open (before the sequencer starts): the head file, the listener, a first try at the lease. */
scitt_err scitt__ha_open(scitt_ledger *l);
scitt_err scitt__ha_start(scitt_ledger *l);
/* At drain (the sequencer stopped): hands on what is queued, waits for its answers, releases. */
void scitt__ha_stop(scitt_ledger *l);
void scitt__ha_free(scitt_ledger *l);
/* Sequencer thread: loads the edge after the lease was taken; false when it could not. */
bool scitt__ha_take_over(scitt_ledger *l);
/* Sequencer thread: the lease is gone (a fenced commit): stop sequencing. */
void scitt__ha_step_down(scitt_ledger *l);
/* Hands submissions to the sequencing instance through the database queue. */
void scitt__ha_forward(scitt_ledger *l, pending_sub *list);
/* Sequencer thread, in a batch: claims queued rows (checked) as pending submissions. */
scitt_err scitt__ha_claim(scitt_ledger *l, scitt__txn *txn, bool any_policy, uint64_t policy,
                          unsigned max, pending_sub **claimed, size_t *n);
/* Records a head this service signed (or verified in storage) as the newest known. */
void scitt__ha_signed(scitt_ledger *l, uint64_t size, const uint8_t root[SCITT_HASH_LEN]);
void scitt__ha_known(scitt_ledger *l, uint64_t *size, uint8_t root[SCITT_HASH_LEN]);
/*
 * Checks storage against the newest head known signed: its newest head must be at least that
 * size and its tiles must give that root at that size (SCITT_ERR_CONSISTENCY otherwise). The
 * newest stored head's size and root go to *size, *root (its signature checked when @p verify).
 */
scitt_err scitt__check_storage(scitt_ledger *l, uint64_t known_size,
                               const uint8_t known_root[SCITT_HASH_LEN], bool verify,
                               uint64_t *size, uint8_t root[SCITT_HASH_LEN]);

#endif
