/* Internal to ledger/: the ledger object shared by the sequencer and the readers. */
#ifndef SCITT_LEDGER_INT_H
#define SCITT_LEDGER_INT_H

#include "store.h"

#define TILE_LEVELS 8u /* stored tile levels 0..7 cover trees up to 2^64 leaves */

typedef struct pending_sub {
    struct pending_sub *next;
    scitt_submission sub; /* spans point into `data` */
    scitt_ledger_done done;
    void *ctx;
    uint8_t *data;
    scitt_ledger_result res;
} pending_sub;

/* The right edge of the tree as the sequencer sees it: rebuilt from storage after any abort. */
typedef struct tree_edge {
    scitt_merkle_compact compact;
    uint64_t tile_index[TILE_LEVELS];
    bool dirty[TILE_LEVELS];
    uint8_t tiles[TILE_LEVELS][TILE_BYTES];
    int64_t last_time_ms;
    /* the last, incomplete entry bundle: rewritten once per batch, written whole when full */
    scitt_dynbuf bundle;
    bool bundle_dirty;
} tree_edge;

struct scitt_ledger {
    scitt__store store;
    scitt_ledger_config cfg;
    scitt_ledger_signer signer;
    _Atomic int state; /* scitt_err: why writes are refused, or SCITT_OK */

    pthread_mutex_t mu;
    pthread_cond_t cv; /* queue non-empty or stopping */
    pthread_t thread;
    bool thread_started;
    bool stopping;
    pending_sub *head, *tail;
    size_t queued;

    tree_edge *edge; /* sequencer thread only */
    bool index_lag;  /* the index environment may be behind the log (sequencer thread only) */

    pthread_mutex_t stats_mu;
    scitt_ledger_stats stats;
    scitt_ledger_batch_cb batch_cb;
    void *batch_ctx;
};

/* Rebuilds the edge from the committed state; checks the root against the last head. */
scitt_err scitt__edge_load(scitt_ledger *l, tree_edge *edge, bool check_signature);
void *scitt__sequencer_main(void *arg);
scitt_err scitt__index_catch_up(scitt_ledger *l, uint64_t size);

#endif
