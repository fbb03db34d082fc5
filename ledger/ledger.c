/* Opening and closing the ledger, submissions, and statistics. */
#include "ledger_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scitt/limits.h"

uint64_t scitt__ledger_durable(scitt_ledger *l, uint64_t snapshot_size)
{
    uint64_t d = atomic_load(&l->durable);
    if (l->store.visible_durable) {
        return snapshot_size; /* another instance may have written it: it is durable all the same */
    }
    if (snapshot_size <= d || !l->cfg.read_only) {
        return snapshot_size <= d ? snapshot_size : d;
    }
    /* Another process writes the log. Every page this snapshot shows was written before it
     * began, so one sync of the log makes all of it durable. */
    if (l->store.ops->sync(&l->store, false) != SCITT_OK) {
        return d;
    }
    while (d < snapshot_size && !atomic_compare_exchange_weak(&l->durable, &d, snapshot_size)) {
    }
    return snapshot_size;
}

/* Did the last writer stop cleanly (index marker "clean")? */
static bool opened_clean(scitt_ledger *l)
{
    scitt__txn *txn;
    char mark[INDEX_MARK_MAX] = "";
    if (scitt__txn_begin(&l->store, SCITT__TXN_LOG_READ, &txn) != SCITT_OK) {
        return false;
    }
    scitt_err e = scitt__index_mark_get(txn, &l->store, mark);
    scitt__txn_abort(&l->store, txn);
    return e == SCITT_OK && strcmp(mark, INDEX_MARK_CLEAN) == 0;
}

scitt_err scitt_ledger_open(const scitt_ledger_config *cfg, scitt_ledger **out)
{
    *out = NULL;
    if (!cfg || (!cfg->dir && !cfg->storage) ||
        (!cfg->read_only && (!cfg->signer || !cfg->signer->sign))) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_ledger *l = scitt_calloc(1, sizeof(*l));
    if (!l) {
        return SCITT_ERR_NOMEM;
    }
    l->cfg = *cfg;
    if (!l->cfg.batch_max) {
        l->cfg.batch_max = 4096;
    }
    if (!l->cfg.max_entry) {
        l->cfg.max_entry = SCITT_LIMIT_STATEMENT_DEFAULT;
    }
    if (cfg->signer) {
        l->signer = *cfg->signer;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_mutex_init(&l->stats_mu, NULL);
    scitt_err e;
    if (cfg->storage && !scitt__pg_url(cfg->storage)) {
        e = SCITT_ERR_INVALID_ARG;
    } else if (cfg->storage) {
        e = scitt__pg_open(&l->store, cfg->storage, cfg->read_only,
                           !cfg->read_only && cfg->lease_ms == 0);
    } else {
        e = scitt__lmdb_open(&l->store, cfg->dir, cfg->map_size, cfg->map_size_max, cfg->read_only);
    }
    if (e != SCITT_OK) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->stats_mu);
        scitt_free(l);
        return e;
    }
    l->stats.map_size = l->store.map_size;
    if (cfg->read_only) {
        *out = l;
        return SCITT_OK;
    }
    l->edge = scitt_calloc(1, sizeof(*l->edge));
    if (!l->edge) {
        scitt_ledger_close(l);
        return SCITT_ERR_NOMEM;
    }
    /* room for a whole bundle of the largest entries, so appends never reallocate */
    scitt_dynbuf_init(&l->edge->bundle, SIZE_MAX);
    if (cfg->storage && cfg->lease_ms > 0) {
        /* several instances: sequence only while holding the lease (ledger/ha.c) */
        e = scitt__ha_open(l);
        e = e ? e : scitt__ha_start(l);
        if (e == SCITT_OK && pthread_create(&l->thread, NULL, scitt__sequencer_main, l) != 0) {
            e = SCITT_ERR_NOMEM;
        }
        if (e != SCITT_OK) {
            scitt_ledger_close(l);
            return e;
        }
        l->thread_started = true;
        *out = l;
        return SCITT_OK;
    }
    atomic_store(&l->leader, true);
    e = scitt__edge_load(l, l->edge, true);
    if (e != SCITT_OK && e != SCITT_ERR_INTEGRITY) {
        scitt_ledger_close(l);
        return e;
    }
    /* What the log holds now may still be in the page cache only (a process killed inside a
     * commit): make it durable before serving any of it. After a clean stop (the index marker
     * says so: a run that writes the log marks it open first) every commit was synced. */
    scitt_err se = opened_clean(l) ? SCITT_OK : l->store.ops->sync(&l->store, false);
    if (se != SCITT_OK) {
        scitt_ledger_close(l);
        return se;
    }
    atomic_store(&l->durable, l->edge->compact.size);
    /* The index follows the log: catch it up (or rebuild it) before accepting anything. */
    if (e == SCITT_OK) {
        e = scitt__index_prepare(l, l->edge->compact.size, &l->stats.index_rebuilt);
        e = e ? e : scitt__indexer_start(l);
        if (e != SCITT_OK) {
            scitt_ledger_close(l);
            return e;
        }
    }
    /* An integrity failure leaves the ledger readable but refusing writes. */
    atomic_store(&l->state, (int)e);
    l->stats.tree_size = l->edge->compact.size;
    if (pthread_create(&l->thread, NULL, scitt__sequencer_main, l) != 0) {
        scitt_ledger_close(l);
        return SCITT_ERR_NOMEM;
    }
    l->thread_started = true;
    *out = l;
    return SCITT_OK;
}

scitt_err scitt_ledger_peek_latest(const char *dir, scitt_tree_head *out, scitt_dynbuf *storage)
{
    return scitt__lmdb_peek_latest(dir, out, storage);
}

scitt_err scitt_ledger_peek_latest_url(const char *url, scitt_tree_head *out, scitt_dynbuf *storage)
{
    storage->len = 0;
    storage->err = SCITT_OK;
    if (!scitt__pg_url(url)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt__store s;
    scitt_err e = scitt__pg_open(&s, url, true, false);
    scitt__txn *txn = NULL;
    e = e ? e : scitt__txn_begin(&s, SCITT__TXN_LOG_READ, &txn);
    e = e ? e : scitt__head_latest_copy(txn, &s, out, storage);
    if (txn) {
        scitt__txn_abort(&s, txn);
    }
    scitt__store_close(&s);
    return e;
}

void scitt_ledger_drain(scitt_ledger *l)
{
    if (l->thread_started) {
        pthread_mutex_lock(&l->mu);
        l->stopping = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        l->thread_started = false;
    }
    scitt__ha_stop(l);
}

void scitt_ledger_close(scitt_ledger *l)
{
    if (!l) {
        return;
    }
    scitt_ledger_drain(l);
    bool synced = scitt__indexer_stop(l);
    if (synced && l->index_marked) {
        /* the index is whole on disk: the next open trusts it (a failure here only means a
         * rebuild at the next open) */
        (void)scitt__index_mark_clean(l);
    }
    scitt__ha_free(l);
    scitt__store_close(&l->store);
    if (l->edge) {
        scitt_dynbuf_clear(&l->edge->bundle);
    }
    scitt_free(l->edge);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->stats_mu);
    scitt_free(l);
}

scitt_err scitt_ledger_state(const scitt_ledger *l)
{
    if (l->cfg.read_only) {
        return SCITT_ERR_STATE;
    }
    return (scitt_err)atomic_load(&((scitt_ledger *)l)->state);
}

bool scitt_ledger_leader(const scitt_ledger *l)
{
    return !l->cfg.read_only && atomic_load(&((scitt_ledger *)l)->leader);
}

void scitt_ledger_signed(scitt_ledger *l, uint64_t *size, uint8_t root[SCITT_HASH_LEN])
{
    *size = 0;
    memset(root, 0, SCITT_HASH_LEN);
    if (l->ha) {
        scitt__ha_known(l, size, root);
    }
}

scitt_err scitt_ledger_submit(scitt_ledger *l, const scitt_submission *s, scitt_ledger_done done,
                              void *ctx)
{
    if (!done || !s || s->entry.len == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (s->entry.len > l->cfg.max_entry) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_err state = scitt_ledger_state(l);
    if (state != SCITT_OK) {
        return state;
    }
    /* One allocation: the submission and a copy of the entry. The index values are hashed
     * here, on the caller's thread, and not kept. */
    pending_sub *p = scitt_malloc(sizeof(*p) + s->entry.len);
    if (!p) {
        return SCITT_ERR_NOMEM;
    }
    memset(p, 0, sizeof(*p));
    p->sub = *s;
    memcpy(p->data, s->entry.ptr, s->entry.len);
    p->sub.entry = scitt_span_make(p->data, s->entry.len);
    p->sub.iss = p->sub.sub = p->sub.digest = scitt_span_make(NULL, 0);
    scitt__postings_make(&p->post, 0, s->entry_id, s->iss, s->sub, s->digest);
    p->done = done;
    p->ctx = ctx;
    pthread_mutex_lock(&l->mu);
    if (l->stopping) {
        pthread_mutex_unlock(&l->mu);
        scitt_free(p);
        return SCITT_ERR_CLOSED;
    }
    if (l->tail) {
        l->tail->next = p;
    } else {
        l->head = p;
    }
    l->tail = p;
    l->queued++;
    if (l->idle || (l->filling && l->queued >= l->cfg.batch_max)) {
        pthread_cond_signal(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return SCITT_OK;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    scitt_ledger_result res;
} waiter;

static void wake(void *ctx, const scitt_ledger_result *res)
{
    waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->res = *res;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

scitt_err scitt_ledger_append(scitt_ledger *l, const scitt_submission *s, scitt_ledger_result *res)
{
    waiter w;
    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    scitt_err e = scitt_ledger_submit(l, s, wake, &w);
    if (e == SCITT_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done) {
            pthread_cond_wait(&w.cv, &w.mu);
        }
        pthread_mutex_unlock(&w.mu);
        *res = w.res;
        e = w.res.err;
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return e;
}

void scitt_ledger_get_stats(scitt_ledger *l, scitt_ledger_stats *out)
{
    pthread_mutex_lock(&l->stats_mu);
    *out = l->stats;
    pthread_mutex_unlock(&l->stats_mu);
    out->db_bytes = l->store.ops->bytes_used(&l->store);
}

void scitt_ledger_set_batch_observer(scitt_ledger *l, scitt_ledger_batch_cb cb, void *ctx)
{
    pthread_mutex_lock(&l->stats_mu);
    l->batch_cb = cb;
    l->batch_ctx = ctx;
    pthread_mutex_unlock(&l->stats_mu);
}

scitt_err scitt_ledger_meta_set(scitt_ledger *l, const char *name, scitt_span value)
{
    if (l->cfg.read_only) {
        return SCITT_ERR_STATE;
    }
    size_t n = strlen(name);
    if (n == 0 || n > 64 || strncmp(name, "scitt.", 6) == 0 || strcmp(name, "version") == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt__txn *txn;
    scitt_err e = scitt__txn_begin(&l->store, SCITT__TXN_LOG_WRITE, &txn);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt__kv_put(&l->store, txn, SCITT__T_META, scitt_span_make((const uint8_t *)name, n),
                      value, 0);
    if (e == SCITT_OK) {
        return scitt__txn_commit(&l->store, txn);
    }
    scitt__txn_abort(&l->store, txn);
    return e;
}
