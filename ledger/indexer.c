/*
 * The indexer: applies the postings of committed batches to the index environment on its own
 * thread, so the sequencer never waits on random B-tree writes. Until the index covers an entry,
 * its ID is found in a table of recent IDs kept in memory: two generations, the older one
 * dropped once the index has caught up with everything in it. IDs from a batch that failed may
 * linger there; every lookup confirms a candidate against the log, so they are harmless.
 */
#include "ledger_int.h"

#include <string.h>

#define RECENT_SLOTS (1u << 17) /* per generation; each is swapped out when half full */

typedef struct recent_slot {
    uint8_t id[SCITT_HASH_LEN];
    uint64_t index_plus1; /* 0: empty */
} recent_slot;

typedef struct recent_gen {
    recent_slot *slots;
    size_t count;
    uint64_t max_index; /* highest index remembered in this generation */
} recent_gen;

typedef struct ix_batch {
    struct ix_batch *next;
    size_t n;
    scitt__postings p[];
} ix_batch;

struct scitt__indexer {
    pthread_mutex_t mu;
    pthread_cond_t work;     /* batches queued, or stop */
    pthread_cond_t progress; /* the watermark moved */
    recent_gen gen[2];
    int cur;
    ix_batch *head, *tail;
    uint64_t watermark; /* entries the index environment covers */
    bool stop;
    bool started;
    bool synced; /* the final sync of the index environment succeeded */
    int failed;  /* the error the indexer set as the ledger's state, 0 when none */
    pthread_t thread;
};

static recent_slot *recent_lookup(recent_gen *g, const uint8_t id[SCITT_HASH_LEN], bool *found)
{
    uint64_t h;
    memcpy(&h, id, sizeof(h));
    for (size_t i = 0;; i++) {
        recent_slot *s = &g->slots[(h + i) & (RECENT_SLOTS - 1)];
        if (s->index_plus1 == 0 || memcmp(s->id, id, SCITT_HASH_LEN) == 0) {
            *found = s->index_plus1 != 0;
            return s;
        }
    }
}

scitt_err scitt__indexer_remember(scitt_ledger *l, const scitt__postings *p)
{
    scitt__indexer *x = l->ix;
    pthread_mutex_lock(&x->mu);
    recent_gen *g = &x->gen[x->cur];
    if (g->count >= RECENT_SLOTS / 2) {
        /* Swap generations once the index covers the older one; wait for it if it lags. */
        recent_gen *old = &x->gen[1 - x->cur];
        while (old->count && x->watermark <= old->max_index && !x->stop) {
            pthread_cond_wait(&x->progress, &x->mu);
        }
        memset(old->slots, 0, RECENT_SLOTS * sizeof(recent_slot));
        old->count = 0;
        old->max_index = 0;
        x->cur = 1 - x->cur;
        g = old;
    }
    bool found;
    recent_slot *s = recent_lookup(g, p->id, &found);
    memcpy(s->id, p->id, SCITT_HASH_LEN);
    s->index_plus1 = p->index + 1;
    if (!found) {
        g->count++;
    }
    if (p->index > g->max_index) {
        g->max_index = p->index;
    }
    pthread_mutex_unlock(&x->mu);
    return SCITT_OK;
}

scitt_err scitt__ledger_find(scitt_ledger *l, scitt__txn *itxn, scitt__txn *txn,
                             const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index)
{
    return scitt__ledger_find_ex(l, itxn, txn, id, size, index, true);
}

scitt_err scitt__ledger_find_ex(scitt_ledger *l, scitt__txn *itxn, scitt__txn *txn,
                                const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index,
                                bool indexed)
{
    scitt__indexer *x = l->ix;
    uint64_t cand[2] = {0, 0};
    if (x) {
        pthread_mutex_lock(&x->mu);
        for (int g = 0; g < 2; g++) {
            bool found;
            recent_slot *s = recent_lookup(&x->gen[g], id, &found);
            cand[g] = found ? s->index_plus1 : 0;
        }
        pthread_mutex_unlock(&x->mu);
    }
    for (int g = 0; g < 2; g++) {
        bool match = false;
        if (cand[g]) {
            scitt_err e = scitt__index_confirm(txn, &l->store, cand[g] - 1, size, id, &match);
            if (e != SCITT_OK) {
                return e;
            }
        }
        if (match) {
            *index = cand[g] - 1;
            return SCITT_OK;
        }
    }
    return indexed ? scitt__index_find(itxn, txn, &l->store, id, size, index) : SCITT_ERR_NOT_FOUND;
}

void scitt__indexer_enqueue(scitt_ledger *l, pending_sub *list)
{
    size_t n = 0;
    for (pending_sub *p = list; p; p = p->next) {
        n += !p->res.duplicate;
    }
    if (n == 0) {
        return;
    }
    ix_batch *b = scitt_malloc(sizeof(*b) + n * sizeof(scitt__postings));
    if (!b) {
        return; /* the indexer sees the gap at the next batch and reads it from the log */
    }
    b->next = NULL;
    b->n = 0;
    for (pending_sub *p = list; p; p = p->next) {
        if (!p->res.duplicate) {
            b->p[b->n++] = p->post;
        }
    }
    scitt__indexer *x = l->ix;
    pthread_mutex_lock(&x->mu);
    if (x->tail) {
        x->tail->next = b;
    } else {
        x->head = b;
    }
    x->tail = b;
    pthread_cond_signal(&x->work);
    pthread_mutex_unlock(&x->mu);
}

/* Writes a list of batches in one transaction; the watermark moves to the last entry. */
static scitt_err apply(scitt_ledger *l, ix_batch *list)
{
    scitt__txn *itxn = NULL;
    scitt_err e = scitt__txn_begin(&l->store, SCITT__TXN_INDEX_WRITE, &itxn);
    uint64_t w = 0;
    for (ix_batch *b = list; e == SCITT_OK && b; b = b->next) {
        for (size_t i = 0; e == SCITT_OK && i < b->n; i++) {
            e = scitt__index_add(itxn, &l->store, &b->p[i]);
            w = b->p[i].index + 1;
        }
    }
    e = e ? e : scitt__index_set_watermark(itxn, &l->store, w);
    if (e == SCITT_OK) {
        return scitt__txn_commit(&l->store, itxn);
    }
    if (itxn) {
        scitt__txn_abort(&l->store, itxn);
    }
    return e;
}

static void *indexer_main(void *arg)
{
    scitt_ledger *l = arg;
    scitt__indexer *x = l->ix;
    pthread_setname_np(pthread_self(), "indexer");
    pthread_mutex_lock(&x->mu);
    for (;;) {
        while (!x->head && !x->stop) {
            pthread_cond_wait(&x->work, &x->mu);
        }
        if (!x->head) {
            break;
        }
        ix_batch *list = x->head;
        x->head = x->tail = NULL;
        uint64_t first = list->p[0].index, have = x->watermark;
        pthread_mutex_unlock(&x->mu);
        /* A gap (a batch that could not be queued) is filled from the log itself. */
        scitt_err e = first > have ? scitt__index_catch_up(l, first) : SCITT_OK;
        e = e ? e : apply(l, list);
        uint64_t w = 0;
        for (ix_batch *b = list; b; b = b->next) {
            if (b->n) {
                w = b->p[b->n - 1].index + 1;
            }
        }
        pthread_mutex_lock(&x->mu);
        if (e != SCITT_OK && x->stop) {
            /* stopping: the next open catches the index up from the log */
            while (list) {
                ix_batch *next = list->next;
                scitt_free(list);
                list = next;
            }
            continue;
        }
        if (e != SCITT_OK) {
            /* a full index refuses further writes like a full log does; a restart with a
             * larger map catches it up */
            x->failed =
                (int)(e == SCITT_ERR_MAP_FULL || e == SCITT_ERR_NO_SPACE ? e : SCITT_ERR_IO);
            atomic_store(&l->state, x->failed);
        }
        if (e == SCITT_OK) {
            if (x->failed) {
                /* recovered (space was freed): accept writes again unless something else failed */
                int expect = x->failed;
                atomic_compare_exchange_strong(&l->state, &expect, (int)SCITT_OK);
                x->failed = 0;
            }
            x->watermark = w;
            pthread_cond_broadcast(&x->progress);
            while (list) {
                ix_batch *next = list->next;
                scitt_free(list);
                list = next;
            }
        } else {
            /* keep the work and try again shortly (the map may be growing, the disk full) */
            ix_batch *last = list;
            while (last->next) {
                last = last->next;
            }
            last->next = x->head;
            x->head = list;
            if (!x->tail) {
                x->tail = last;
            }
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 500000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&x->work, &x->mu, &until);
        }
    }
    pthread_mutex_unlock(&x->mu);
    /* a clean stop leaves an index that needs no catch-up and no rebuild */
    x->synced = l->store.ops->sync(&l->store, true) == SCITT_OK;
    return NULL;
}

scitt_err scitt__indexer_start(scitt_ledger *l)
{
    scitt__indexer *x = scitt_calloc(1, sizeof(*x));
    if (!x) {
        return SCITT_ERR_NOMEM;
    }
    for (int g = 0; g < 2; g++) {
        x->gen[g].slots = scitt_calloc(RECENT_SLOTS, sizeof(recent_slot));
        if (!x->gen[g].slots) {
            scitt_free(x->gen[0].slots);
            scitt_free(x);
            return SCITT_ERR_NOMEM;
        }
    }
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->work, NULL);
    pthread_cond_init(&x->progress, NULL);
    x->watermark = l->edge ? l->edge->compact.size : 0;
    l->ix = x;
    if (pthread_create(&x->thread, NULL, indexer_main, l) != 0) {
        return SCITT_ERR_NOMEM;
    }
    x->started = true;
    return SCITT_OK;
}

bool scitt__indexer_stop(scitt_ledger *l)
{
    scitt__indexer *x = l->ix;
    if (!x) {
        return false;
    }
    bool synced = false;
    if (x->started) {
        pthread_mutex_lock(&x->mu);
        x->stop = true;
        pthread_cond_broadcast(&x->work);
        pthread_cond_broadcast(&x->progress);
        pthread_mutex_unlock(&x->mu);
        pthread_join(x->thread, NULL);
        synced = x->synced && !x->head;
    }
    while (x->head) {
        ix_batch *next = x->head->next;
        scitt_free(x->head);
        x->head = next;
    }
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->work);
    pthread_cond_destroy(&x->progress);
    scitt_free(x->gen[0].slots);
    scitt_free(x->gen[1].slots);
    scitt_free(x);
    l->ix = NULL;
    return synced;
}

/* Commits the index marker @p value to the log, durably. */
static scitt_err mark(scitt_ledger *l, const char *value)
{
    scitt__txn *txn;
    scitt_err e = scitt__txn_begin(&l->store, SCITT__TXN_LOG_WRITE, &txn);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt__index_mark_put(txn, &l->store, value);
    if (e == SCITT_OK) {
        return scitt__txn_commit(&l->store, txn);
    }
    scitt__txn_abort(&l->store, txn);
    return e;
}

scitt_err scitt__index_prepare(scitt_ledger *l, uint64_t size, bool *rebuilt)
{
    scitt__store *s = &l->store;
    *rebuilt = false;
    scitt__index_mark_open(l->index_mark_open);
    char found[INDEX_MARK_MAX];
    scitt__txn *txn;
    scitt_err e = scitt__txn_begin(s, SCITT__TXN_LOG_READ, &txn);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt__index_mark_get(txn, s, found);
    scitt__txn_abort(s, txn);
    if (e == SCITT_ERR_CORRUPT) {
        found[0] = 0; /* not a marker we wrote: trust nothing */
    } else if (e != SCITT_OK) {
        return e;
    }
    /* "open" without a boot ID never matches: without one, any unclean stop rebuilds */
    bool same_boot = strcmp(found, l->index_mark_open) == 0 && strcmp(found, "open") != 0;
    bool trust = s->index_durable || strcmp(found, INDEX_MARK_CLEAN) == 0 || same_boot ||
                 (!found[0] && size == 0);
    l->index_marked = same_boot;
    uint64_t w = 0;
    if (trust) {
        scitt__txn *itxn;
        e = scitt__txn_begin(s, SCITT__TXN_INDEX_READ, &itxn);
        if (e == SCITT_OK) {
            e = scitt__index_watermark(itxn, s, &w);
            scitt__txn_abort(s, itxn);
        }
        if (e != SCITT_OK) {
            trust = false; /* it does not even read: rebuild */
        }
    }
    if ((!trust || w != size) && !l->index_marked) {
        /* durable before the first write to the index in this run */
        e = mark(l, l->index_mark_open);
        if (e != SCITT_OK) {
            return e;
        }
        l->index_marked = true;
    }
    if (!trust) {
        e = s->ops->index_reset(s);
        *rebuilt = e == SCITT_OK;
    }
    return e ? e : scitt__index_catch_up(l, size);
}

scitt_err scitt__index_mark_clean(scitt_ledger *l)
{
    return mark(l, INDEX_MARK_CLEAN);
}

scitt_err scitt__index_catch_up(scitt_ledger *l, uint64_t size)
{
    scitt__store *s = &l->store;
    scitt__txn *itxn = NULL, *txn = NULL;
    uint64_t w = 0;
    scitt_err e = scitt__txn_begin(s, SCITT__TXN_INDEX_WRITE, &itxn);
    e = e ? e : scitt__index_watermark(itxn, s, &w);
    if (e == SCITT_OK && w > size) {
        /* An index ahead of the log cannot come from our write order: start it again. */
        scitt__txn_abort(s, itxn);
        itxn = NULL;
        e = s->ops->index_reset(s);
        e = e ? e : scitt__txn_begin(s, SCITT__TXN_INDEX_WRITE, &itxn);
        w = 0;
    }
    e = e ? e : scitt__txn_begin(s, SCITT__TXN_LOG_READ, &txn);
    for (uint64_t i = w; e == SCITT_OK && i < size; i++) {
        scitt_span entry, iss = {NULL, 0}, sub = {NULL, 0}, digest = {NULL, 0};
        uint8_t id[SCITT_HASH_LEN], storage[64];
        e = scitt__entry_get(txn, s, i, size, &entry);
        if (e == SCITT_OK && l->cfg.index_values &&
            l->cfg.index_values(l->cfg.index_ctx, entry, &iss, &sub, &digest, storage) !=
                SCITT_OK) {
            iss.len = sub.len = digest.len = 0; /* not a statement we can read: ID only */
        }
        if (e == SCITT_OK) {
            scitt__postings p;
            scitt_sha256(entry.ptr, entry.len, id);
            scitt__postings_make(&p, i, id, iss, sub, digest);
            e = scitt__index_add(itxn, s, &p);
        }
        /* Commit in slices so a rebuild of a large log does not hold one huge transaction. */
        if (e == SCITT_OK && (i + 1 == size || (i + 1 - w) % 65536 == 0)) {
            e = scitt__index_set_watermark(itxn, s, i + 1);
            if (e == SCITT_OK) {
                e = scitt__txn_commit(s, itxn);
                itxn = NULL;
            }
            if (e == SCITT_OK && i + 1 < size) {
                e = scitt__txn_begin(s, SCITT__TXN_INDEX_WRITE, &itxn);
            }
        }
    }
    if (txn) {
        scitt__txn_abort(s, txn);
    }
    if (itxn) {
        scitt__txn_abort(s, itxn);
    }
    return e;
}
