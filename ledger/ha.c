/*
 * Several scittd instances on one PostgreSQL log (docs/ha.md).
 *
 * The lease: one row, scitt_lease, holds the writer's fencing token, the instance holding it and
 * an expiry on the database's clock. The holder renews it every lease_ms / 4; every other
 * instance tries to take it at the same pace, which succeeds only once it has expired (a new
 * token: the old holder's commits fail their fence from then on). Taking it over, the sequencer
 * rebuilds its edge from storage with every check of an open (the newest head's signature, the
 * tiles against its root, the edge bundle against its tile) plus one more: storage must hold the
 * newest head this service is known to have signed (below), so a database restored from an old
 * backup is never extended.
 *
 * The queue: an instance that does not hold the lease hands each registration (after its own
 * check stage) to the holder through scitt_queue: a row with the entry, its index values and a
 * MAC under a key the instances share with the service keys (the database cannot add entries of
 * its own), then NOTIFY. The holder's sequencer claims rows in its batch transaction (FOR UPDATE
 * SKIP LOCKED), appends them like its own submissions and writes each row's result in the same
 * transaction; the submitting instance, told by NOTIFY (or at its next tick), takes the results
 * and completes its submissions with the same index and tree size the holder would have given.
 *
 * The newest signed head: every instance keeps in memory the largest signed tree head it knows
 * (its own commits; the heads it reads in storage at each tick, signature checked, that extend
 * it), and writes it at each tick it changed to the head file beside the keystore.
 */
#include "ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "scitt/file.h"

#define QREC_VERSION  1u
#define QREC_BYTES    (1 + SCITT_HASH_LEN + 8 + 1 + 3 * 8)
#define HEAD_FILE_MAX 200u
/* how long a submission handed on waits for its answer before it is withdrawn */
#define QUEUE_WAIT_S  30.0

typedef struct waiting {
    int64_t qid;
    double since;
    pending_sub *p;
} waiting;

struct scitt__ha {
    pthread_t thread;
    bool started;
    int wake_fd;
    scitt__pg_listener *listen;
    pthread_mutex_t mu;
    bool stop;
    pending_sub *out_head, *out_tail; /* to insert into the queue */
    waiting *wait;                    /* inserted, waiting for their answers */
    size_t nwait, capwait;
    /* the newest signed head known */
    pthread_mutex_t head_mu;
    bool known;
    uint64_t known_size;
    uint8_t known_root[SCITT_HASH_LEN];
    bool file_dirty;
    bool refused; /* storage failed the rollback check: never sequence again in this run */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wake(scitt__ha *ha)
{
    uint64_t one = 1;
    (void)!write(ha->wake_fd, &one, sizeof(one));
}

/* ---- the newest signed head ---------------------------------------------------------------- */

static scitt_err head_file_load(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    if (!l->cfg.head_file) {
        return SCITT_OK;
    }
    FILE *f = fopen(l->cfg.head_file, "r");
    if (!f) {
        return errno == ENOENT ? SCITT_OK : SCITT_ERR_IO;
    }
    char line[HEAD_FILE_MAX];
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    unsigned long long size = 0;
    char hex[2 * SCITT_HASH_LEN + 2];
    if (!ok || sscanf(line, "scitt-signed-head 1 %llu %65s", &size, hex) != 2 ||
        strlen(hex) != 2 * SCITT_HASH_LEN) {
        return SCITT_ERR_CORRUPT;
    }
    for (unsigned i = 0; i < SCITT_HASH_LEN; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            return SCITT_ERR_CORRUPT;
        }
        ha->known_root[i] = (uint8_t)v;
    }
    ha->known_size = size;
    ha->known = true;
    return SCITT_OK;
}

static void head_file_store(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    pthread_mutex_lock(&ha->head_mu);
    bool dirty = ha->file_dirty && ha->known;
    uint64_t size = ha->known_size;
    uint8_t root[SCITT_HASH_LEN];
    memcpy(root, ha->known_root, SCITT_HASH_LEN);
    ha->file_dirty = false;
    pthread_mutex_unlock(&ha->head_mu);
    if (!dirty || !l->cfg.head_file) {
        return;
    }
    char line[HEAD_FILE_MAX];
    int n = snprintf(line, sizeof(line), "scitt-signed-head 1 %llu ", (unsigned long long)size);
    for (unsigned i = 0; i < SCITT_HASH_LEN; i++) {
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", root[i]);
    }
    n += snprintf(line + n, sizeof(line) - (size_t)n, "\n");
    if (scitt_file_replace(l->cfg.head_file, scitt_span_make((const uint8_t *)line, (size_t)n),
                           0600, 0) != SCITT_OK) {
        pthread_mutex_lock(&ha->head_mu);
        ha->file_dirty = true; /* tried again at the next tick */
        pthread_mutex_unlock(&ha->head_mu);
    }
}

void scitt__ha_signed(scitt_ledger *l, uint64_t size, const uint8_t root[SCITT_HASH_LEN])
{
    scitt__ha *ha = l->ha;
    if (!ha) {
        return;
    }
    pthread_mutex_lock(&ha->head_mu);
    if (!ha->known || size > ha->known_size) {
        ha->known = true;
        ha->known_size = size;
        memcpy(ha->known_root, root, SCITT_HASH_LEN);
        ha->file_dirty = true;
    }
    pthread_mutex_unlock(&ha->head_mu);
}

static bool known_head(scitt__ha *ha, uint64_t *size, uint8_t root[SCITT_HASH_LEN])
{
    pthread_mutex_lock(&ha->head_mu);
    bool known = ha->known;
    *size = ha->known_size;
    memcpy(root, ha->known_root, SCITT_HASH_LEN);
    pthread_mutex_unlock(&ha->head_mu);
    return known;
}

void scitt__ha_known(scitt_ledger *l, uint64_t *size, uint8_t root[SCITT_HASH_LEN])
{
    (void)known_head(l->ha, size, root);
}

/* Refuses to sequence from now on: storage is older than what the service signed. */
static void refuse(scitt_ledger *l, scitt_err e)
{
    l->ha->refused = true;
    atomic_store(&l->state, (int)e);
}

/*
 * Checks what storage holds now against the newest head known (each tick): a rollback or a fork
 * refuses writes; a newer head, signature checked, becomes the newest known.
 */
static void watch_storage(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    uint64_t ks = 0, size = 0;
    uint8_t kr[SCITT_HASH_LEN], root[SCITT_HASH_LEN];
    bool known = known_head(ha, &ks, kr);
    scitt_err e = scitt__check_storage(l, known ? ks : 0, kr, true, &size, root);
    if (e == SCITT_ERR_CONSISTENCY || e == SCITT_ERR_INTEGRITY) {
        refuse(l, e);
    } else if (e == SCITT_OK && size > 0) {
        scitt__ha_signed(l, size, root);
    }
}

/* ---- the lease ----------------------------------------------------------------------------- */

bool scitt__ha_take_over(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    scitt_err e = scitt__edge_load(l, l->edge, true);
    uint64_t ks = 0, size = 0;
    uint8_t kr[SCITT_HASH_LEN], root[SCITT_HASH_LEN];
    bool known = known_head(ha, &ks, kr);
    if (e == SCITT_OK) {
        e = scitt__check_storage(l, known ? ks : 0, kr, false, &size, root);
    }
    if (e == SCITT_OK && size != l->edge->compact.size) {
        e = SCITT_ERR_BUSY; /* the log moved between the two reads: try again */
    }
    /* the index covers the whole log before this instance deduplicates against it */
    if (e == SCITT_OK && !l->ix) {
        e = scitt__index_prepare(l, l->edge->compact.size, &l->stats.index_rebuilt);
        e = e ? e : scitt__indexer_start(l);
    } else if (e == SCITT_OK) {
        /* entries other instances appended meanwhile are found by their IDs before anything
         * is deduplicated against them (postings are inserted idempotently) */
        e = scitt__index_catch_up(l, l->edge->compact.size);
    }
    if (e != SCITT_OK) {
        scitt__pg_lease_drop(&l->store, true);
        if (e == SCITT_ERR_CONSISTENCY || e == SCITT_ERR_INTEGRITY) {
            refuse(l, e);
        }
        return false;
    }
    if (size > 0) {
        scitt__ha_signed(l, size, root);
    }
    atomic_store(&l->durable, l->edge->compact.size);
    pthread_mutex_lock(&l->stats_mu);
    l->stats.tree_size = l->edge->compact.size;
    pthread_mutex_unlock(&l->stats_mu);
    atomic_store(&l->leader, true);
    return true;
}

void scitt__ha_step_down(scitt_ledger *l)
{
    scitt__pg_lease_drop(&l->store, false);
    atomic_store(&l->leader, false);
}

/* ---- the queue ----------------------------------------------------------------------------- */

static void queue_mac(const scitt_ledger *l, const uint8_t rec[QREC_BYTES],
                      uint8_t mac[SCITT_HASH_LEN])
{
    static const uint8_t zero[SCITT_HASH_LEN];
    unsigned n = SCITT_HASH_LEN;
    const uint8_t *key = l->cfg.queue_key ? l->cfg.queue_key : zero;
    if (!HMAC(EVP_sha256(), key, SCITT_HASH_LEN, rec, QREC_BYTES, mac, &n)) {
        memset(mac, 0, SCITT_HASH_LEN); /* never matches a real MAC: the row is refused */
    }
}

static void qrec_make(const pending_sub *p, uint8_t rec[QREC_BYTES])
{
    uint8_t *w = rec;
    *w++ = QREC_VERSION;
    memcpy(w, p->sub.entry_id, SCITT_HASH_LEN);
    w += SCITT_HASH_LEN;
    scitt__be64(w, p->sub.policy_index);
    w += 8;
    *w++ = (uint8_t)((p->post.has_iss ? 1 : 0) | (p->post.has_sub ? 2 : 0) |
                     (p->post.has_dig ? 4 : 0));
    memcpy(w, p->post.iss, 8);
    memcpy(w + 8, p->post.sub, 8);
    memcpy(w + 16, p->post.dig, 8);
}

void scitt__ha_forward(scitt_ledger *l, pending_sub *list)
{
    scitt__ha *ha = l->ha;
    if (!list) {
        return;
    }
    pending_sub *last = list;
    while (last->next) {
        last = last->next;
    }
    pthread_mutex_lock(&ha->mu);
    if (ha->out_tail) {
        ha->out_tail->next = list;
    } else {
        ha->out_head = list;
    }
    ha->out_tail = last;
    pthread_mutex_unlock(&ha->mu);
    wake(ha);
}

static void complete(pending_sub *p, const scitt_ledger_result *res)
{
    p->res = *res;
    p->done(p->ctx, &p->res);
    scitt_free(p);
}

/* Inserts what was handed on into the queue; a failed insert fails its submissions. */
static void flush_outbox(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    pthread_mutex_lock(&ha->mu);
    pending_sub *list = ha->out_head;
    ha->out_head = ha->out_tail = NULL;
    pthread_mutex_unlock(&ha->mu);
    while (list) {
        enum { CHUNK = 256 };
        pending_sub *chunk[CHUNK];
        size_t n = 0;
        while (list && n < CHUNK) {
            chunk[n++] = list;
            list = list->next;
        }
        uint64_t policy[CHUNK];
        scitt_span rec[CHUNK], entry[CHUNK], mac[CHUNK];
        uint8_t recb[CHUNK][QREC_BYTES], macb[CHUNK][SCITT_HASH_LEN];
        int64_t ids[CHUNK];
        for (size_t i = 0; i < n; i++) {
            chunk[i]->next = NULL;
            qrec_make(chunk[i], recb[i]);
            queue_mac(l, recb[i], macb[i]);
            policy[i] = chunk[i]->sub.policy_index;
            rec[i] = scitt_span_make(recb[i], QREC_BYTES);
            mac[i] = scitt_span_make(macb[i], SCITT_HASH_LEN);
            entry[i] = chunk[i]->sub.entry;
        }
        scitt_err e = scitt__pg_queue_put(&l->store, n, policy, rec, entry, mac, ids);
        pthread_mutex_lock(&ha->mu);
        if (e == SCITT_OK && ha->nwait + n > ha->capwait) {
            size_t cap = ha->capwait ? ha->capwait : 64;
            while (cap < ha->nwait + n) {
                cap *= 2;
            }
            waiting *w = scitt_realloc(ha->wait, cap * sizeof(*w));
            if (w) {
                ha->wait = w;
                ha->capwait = cap;
            } else {
                e = SCITT_ERR_NOMEM; /* rows inserted without a waiter: answered to nobody */
            }
        }
        double now = now_s();
        for (size_t i = 0; e == SCITT_OK && i < n; i++) {
            chunk[i]->qid = ids[i];
            ha->wait[ha->nwait++] = (waiting){ids[i], now, chunk[i]};
        }
        pthread_mutex_unlock(&ha->mu);
        if (e != SCITT_OK) {
            scitt_ledger_result res;
            memset(&res, 0, sizeof(res));
            res.err = e == SCITT_ERR_STATE ? SCITT_ERR_BUSY : e;
            for (size_t i = 0; i < n; i++) {
                complete(chunk[i], &res);
            }
        }
    }
}

static void on_result(void *ctx, int64_t id, const scitt_ledger_result *res)
{
    scitt_ledger *l = ctx;
    scitt__ha *ha = l->ha;
    pending_sub *p = NULL;
    pthread_mutex_lock(&ha->mu);
    for (size_t i = 0; i < ha->nwait; i++) {
        if (ha->wait[i].qid == id) {
            p = ha->wait[i].p;
            ha->wait[i] = ha->wait[--ha->nwait];
            break;
        }
    }
    pthread_mutex_unlock(&ha->mu);
    if (p) {
        complete(p, res);
    }
}

/* Takes the answers to this instance's queued rows; withdraws those waiting too long. */
static void collect(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    pthread_mutex_lock(&ha->mu);
    size_t n = ha->nwait;
    int64_t *ids = n ? scitt_malloc(n * sizeof(*ids)) : NULL;
    int64_t stale = 0;
    double now = now_s();
    for (size_t i = 0; ids && i < n; i++) {
        ids[i] = ha->wait[i].qid;
        if (!stale && now - ha->wait[i].since > QUEUE_WAIT_S) {
            stale = ha->wait[i].qid;
        }
    }
    pthread_mutex_unlock(&ha->mu);
    if (!ids) {
        return;
    }
    (void)scitt__pg_queue_results(&l->store, ids, n, on_result, l);
    scitt_free(ids);
    bool withdrawn = false;
    if (stale && scitt__pg_queue_withdraw(&l->store, stale, &withdrawn) == SCITT_OK && withdrawn) {
        /* nobody sequenced it: the client is told to try again */
        scitt_ledger_result res;
        memset(&res, 0, sizeof(res));
        res.err = SCITT_ERR_BUSY;
        on_result(l, stale, &res);
    }
}

scitt_err scitt__ha_claim(scitt_ledger *l, scitt__txn *txn, bool any_policy, uint64_t policy,
                          unsigned max, pending_sub **claimed, size_t *n)
{
    *claimed = NULL;
    *n = 0;
    scitt__pg_qrow *rows;
    size_t count;
    scitt_err e = scitt__pg_queue_claim(txn, any_policy, policy, max, &rows, &count);
    if (e != SCITT_OK) {
        return e;
    }
    pending_sub *head = NULL, **tail = &head;
    for (size_t i = 0; e == SCITT_OK && i < count; i++) {
        const scitt__pg_qrow *q = &rows[i];
        uint8_t mac[SCITT_HASH_LEN], id[SCITT_HASH_LEN];
        bool ok = q->rec.len == QREC_BYTES && q->mac.len == SCITT_HASH_LEN &&
                  q->rec.ptr[0] == QREC_VERSION && q->entry.len > 0 &&
                  q->entry.len <= l->cfg.max_entry;
        if (ok) {
            queue_mac(l, q->rec.ptr, mac);
            scitt_sha256(q->entry.ptr, q->entry.len, id);
            ok = CRYPTO_memcmp(mac, q->mac.ptr, SCITT_HASH_LEN) == 0 &&
                 memcmp(id, q->rec.ptr + 1, SCITT_HASH_LEN) == 0 &&
                 scitt__get_be64(q->rec.ptr + 1 + SCITT_HASH_LEN) == q->policy;
        }
        if (!ok) {
            /* not written by an instance of this service: refused, never appended */
            scitt_ledger_result res;
            memset(&res, 0, sizeof(res));
            res.err = SCITT_ERR_INTEGRITY;
            e = scitt__pg_queue_finish(txn, q->id, &res);
            continue;
        }
        pending_sub *p = scitt_malloc(sizeof(*p) + q->entry.len);
        if (!p) {
            e = SCITT_ERR_NOMEM;
            break;
        }
        memset(p, 0, sizeof(*p));
        memcpy(p->data, q->entry.ptr, q->entry.len);
        p->sub.entry = scitt_span_make(p->data, q->entry.len);
        memcpy(p->sub.entry_id, id, SCITT_HASH_LEN);
        scitt_merkle_leaf_hash(p->sub.entry, p->sub.leaf_hash);
        p->sub.policy_index = q->policy;
        const uint8_t *r = q->rec.ptr + 1 + SCITT_HASH_LEN + 8;
        uint8_t flags = r[0];
        memcpy(p->post.id, id, SCITT_HASH_LEN);
        memcpy(p->post.iss, r + 1, 8);
        memcpy(p->post.sub, r + 9, 8);
        memcpy(p->post.dig, r + 17, 8);
        p->post.has_iss = flags & 1;
        p->post.has_sub = (flags & 2) != 0;
        p->post.has_dig = (flags & 4) != 0;
        p->qid = q->id;
        *tail = p;
        tail = &p->next;
        (*n)++;
    }
    scitt_free(rows);
    *claimed = head;
    if (e != SCITT_OK) {
        while (head) {
            pending_sub *next = head->next;
            scitt_free(head);
            head = next;
        }
        *claimed = NULL;
        *n = 0;
    }
    return e;
}

/* ---- the thread ---------------------------------------------------------------------------- */

static void ask_takeover(scitt_ledger *l)
{
    pthread_mutex_lock(&l->mu);
    l->takeover = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void *ha_main(void *arg)
{
    scitt_ledger *l = arg;
    scitt__ha *ha = l->ha;
    pthread_setname_np(pthread_self(), "lease");
    unsigned tick_ms = l->cfg.lease_ms / 4 ? l->cfg.lease_ms / 4 : 1;
    double last_renew = now_s(), next_tick = 0;
    for (;;) {
        pthread_mutex_lock(&ha->mu);
        bool stop = ha->stop;
        pthread_mutex_unlock(&ha->mu);
        if (stop) {
            break;
        }
        double now = now_s();
        if (now >= next_tick) {
            next_tick = now + tick_ms / 1000.0;
            if (atomic_load(&l->leader)) {
                bool held = false;
                scitt_err e = scitt__pg_lease_renew(&l->store, l->cfg.lease_ms, &held);
                if (e == SCITT_OK && held) {
                    last_renew = now;
                } else if (e == SCITT_OK || now - last_renew > l->cfg.lease_ms / 1000.0) {
                    /* taken over, or lapsed while the database was out of reach: the fence
                     * refuses this instance's commits anyway; stop trying them */
                    scitt__ha_step_down(l);
                }
            } else if (!ha->refused && atomic_load(&l->state) == SCITT_OK) {
                pthread_mutex_lock(&l->mu);
                bool pending = l->takeover;
                pthread_mutex_unlock(&l->mu);
                bool got = false;
                if (!pending &&
                    scitt__pg_lease_acquire(&l->store, l->cfg.holder, l->cfg.lease_ms, &got) ==
                        SCITT_OK &&
                    got) {
                    last_renew = now;
                    ask_takeover(l);
                }
            }
            watch_storage(l);
            head_file_store(l);
            collect(l);
            if (atomic_load(&l->leader)) {
                /* the next batch looks at the queue even without a notification */
                pthread_mutex_lock(&l->mu);
                l->queue_ready = true;
                pthread_mutex_unlock(&l->mu);
            }
        }
        flush_outbox(l);
        bool queued = false, done = false;
        double left = next_tick - now_s();
        scitt__pg_listen_wait(ha->listen, ha->wake_fd, left > 0 ? (int)(left * 1000) + 1 : 0,
                              &queued, &done);
        if (queued && atomic_load(&l->leader)) {
            pthread_mutex_lock(&l->mu);
            l->queue_ready = true;
            pthread_cond_broadcast(&l->cv);
            pthread_mutex_unlock(&l->mu);
        }
        if (done) {
            collect(l);
        }
    }
    return NULL;
}

scitt_err scitt__ha_open(scitt_ledger *l)
{
    scitt__ha *ha = scitt_calloc(1, sizeof(*ha));
    if (!ha) {
        return SCITT_ERR_NOMEM;
    }
    pthread_mutex_init(&ha->mu, NULL);
    pthread_mutex_init(&ha->head_mu, NULL);
    l->ha = ha;
    ha->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ha->wake_fd < 0) {
        return SCITT_ERR_IO;
    }
    scitt_err e = head_file_load(l);
    e = e ? e : scitt__pg_listen(&l->store, &ha->listen);
    if (e != SCITT_OK) {
        return e;
    }
    /* a first try at the lease, so that a lone instance sequences from its first moment */
    bool got = false;
    e = scitt__pg_lease_acquire(&l->store, l->cfg.holder, l->cfg.lease_ms, &got);
    if (e != SCITT_OK) {
        return e;
    }
    if (got) {
        (void)scitt__ha_take_over(l);
    } else {
        /* a follower checks storage against the head file all the same */
        watch_storage(l);
    }
    return SCITT_OK;
}

scitt_err scitt__ha_start(scitt_ledger *l)
{
    if (pthread_create(&l->ha->thread, NULL, ha_main, l) != 0) {
        return SCITT_ERR_NOMEM;
    }
    l->ha->started = true;
    return SCITT_OK;
}

void scitt__ha_stop(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    if (!ha || !ha->started) {
        return;
    }
    /* what was handed on is answered before the stop completes (bounded) */
    double until = now_s() + 5;
    for (;;) {
        pthread_mutex_lock(&ha->mu);
        bool busy = ha->out_head || ha->nwait;
        pthread_mutex_unlock(&ha->mu);
        if (!busy || now_s() > until) {
            break;
        }
        wake(ha);
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&ha->mu);
    ha->stop = true;
    pthread_mutex_unlock(&ha->mu);
    wake(ha);
    pthread_join(ha->thread, NULL);
    ha->started = false;
    flush_outbox(l);
    collect(l);
    scitt_ledger_result res;
    memset(&res, 0, sizeof(res));
    res.err = SCITT_ERR_CLOSED;
    while (ha->nwait) {
        pending_sub *p = ha->wait[--ha->nwait].p;
        complete(p, &res);
    }
    head_file_store(l);
    if (atomic_load(&l->leader)) {
        atomic_store(&l->leader, false);
        scitt__pg_lease_drop(&l->store, true); /* the next instance need not wait for expiry */
    }
}

void scitt__ha_free(scitt_ledger *l)
{
    scitt__ha *ha = l->ha;
    if (!ha) {
        return;
    }
    scitt__pg_listen_close(ha->listen);
    if (ha->wake_fd >= 0) {
        close(ha->wake_fd);
    }
    scitt_free(ha->wait);
    pthread_mutex_destroy(&ha->mu);
    pthread_mutex_destroy(&ha->head_mu);
    scitt_free(ha);
    l->ha = NULL;
}
