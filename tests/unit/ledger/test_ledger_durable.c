/*
 * Durability of the log, watched from inside: this executable defines pwrite, writev, fdatasync,
 * fsync and msync, so LMDB's calls land here first (a definition in the executable wins over
 * libc's); each records what it did to the log file (data.mdb) and then makes the system call.
 *
 *  - The log environment is opened with syncing commits (no MDB_NOSYNC, MDB_NOMETASYNC or
 *    MDB_MAPASYNC).
 *  - When a completion runs (what the server turns into a 201), nothing written to the log file
 *    is still unsynced: every write was followed by an fdatasync/fsync of the file, or went
 *    through a descriptor opened O_DSYNC.
 *  - Readers serve nothing past the size the sequencer knows is durable. LMDB 0.9 readers take
 *    the newest transaction from the lock file, which a commit updates only once its meta write
 *    returned; but the first opener after a crash takes the newest meta page from the file (the
 *    page cache), synced or not. So the writer syncs the log at open before it serves anything,
 *    a read-only opener syncs it before it serves a head it has not seen durable, and the read
 *    functions are bounded by the durable size the ledger keeps.
 *  - The index (committed without fsync) is trusted only after a clean stop or a stop of the
 *    process alone; after a power cut (another boot) it is rebuilt from the log. A torn index is
 *    made by emptying its posting pages (as unflushed pages after a power cut can leave it): it
 *    still opens and, trusted, misses entries; rebuilt, every lookup is right again.
 */
#include "testutil.h"
#include "ledger_util.h"
#include "test_signer.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "ledger_int.h"

/* ---- the interposed system calls ---- */

static pthread_mutex_t W_mu = PTHREAD_MUTEX_INITIALIZER;

static struct {
    dev_t dev;
    ino_t ino;              /* the log file; 0: not watching */
    unsigned pending;       /* writes to it not yet synced */
    unsigned writes, syncs; /* totals while watching */
    unsigned meta_writes, meta_dsync;
    unsigned late; /* completions that ran with writes pending */
    unsigned acks;
} W;

static bool is_log(int fd)
{
    struct stat st;
    return W.ino != 0 && fstat(fd, &st) == 0 && st.st_ino == W.ino && st.st_dev == W.dev;
}

/* Records a write of @p n bytes at @p off. */
static void wrote(int fd, off_t off, ssize_t n)
{
    if (n <= 0 || !is_log(fd)) {
        return;
    }
    int fl = fcntl(fd, F_GETFL);
    bool dsync = fl >= 0 && (fl & (O_DSYNC | O_SYNC)) != 0;
    bool meta = off < 2 * 4096; /* pages 0 and 1 are LMDB's meta pages */
    pthread_mutex_lock(&W_mu);
    W.writes++;
    if (!dsync) {
        W.pending++;
    }
    if (meta) {
        W.meta_writes++;
        W.meta_dsync += dsync;
    }
    pthread_mutex_unlock(&W_mu);
}

static void synced(int fd)
{
    if (!is_log(fd)) {
        return;
    }
    pthread_mutex_lock(&W_mu);
    W.syncs++;
    W.pending = 0;
    pthread_mutex_unlock(&W_mu);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t r = (ssize_t)syscall(SYS_pwrite64, fd, buf, n, off);
    int saved = errno;
    wrote(fd, off, r);
    errno = saved;
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int n);
ssize_t writev(int fd, const struct iovec *iov, int n)
{
    off_t off = lseek(fd, 0, SEEK_CUR);
    ssize_t r = (ssize_t)syscall(SYS_writev, fd, iov, n);
    int saved = errno;
    wrote(fd, off, r);
    errno = saved;
    return r;
}

int fdatasync(int fd);
int fdatasync(int fd)
{
    int r = (int)syscall(SYS_fdatasync, fd);
    int saved = errno;
    if (r == 0) {
        synced(fd);
    }
    errno = saved;
    return r;
}

int fsync(int fd);
int fsync(int fd)
{
    int r = (int)syscall(SYS_fsync, fd);
    int saved = errno;
    if (r == 0) {
        synced(fd);
    }
    errno = saved;
    return r;
}

/* The log is not write-mapped (the flags test says so), so msync never syncs it: only counted
 * through the system call for the index environment. */
int msync(void *addr, size_t len, int flags);
int msync(void *addr, size_t len, int flags)
{
    return (int)syscall(SYS_msync, addr, len, flags);
}

static void watch(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    pthread_mutex_lock(&W_mu);
    W.dev = st.st_dev;
    W.ino = st.st_ino;
    W.pending = W.writes = W.syncs = W.meta_writes = W.meta_dsync = 0;
    W.late = W.acks = 0;
    pthread_mutex_unlock(&W_mu);
}

static void unwatch(void)
{
    pthread_mutex_lock(&W_mu);
    W.ino = 0;
    pthread_mutex_unlock(&W_mu);
}

/* ---- fixture ---- */

typedef struct fixture {
    char *dir;
    test_signer ts;
    scitt_ledger_signer signer;
    scitt_ledger_config cfg;
    scitt_ledger *l;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = lu_tmpdir();
    assert_non_null(f->dir);
    ts_init(&f->ts, &f->signer);
    f->cfg.dir = f->dir;
    f->cfg.signer = &f->signer;
    f->cfg.map_size = 64u << 20;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unwatch();
    scitt_ledger_close(f->l);
    ts_clear(&f->ts);
    lu_rmdir(f->dir);
    free(f);
    return 0;
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done, failed;
} waiter;

/* A completion: the moment the server would send its 201. */
static void on_done(void *ctx, const scitt_ledger_result *r)
{
    pthread_mutex_lock(&W_mu);
    W.acks++;
    W.late += W.pending > 0;
    pthread_mutex_unlock(&W_mu);
    waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->done++;
    w->failed += r->err != SCITT_OK;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_done(waiter *w, size_t n)
{
    pthread_mutex_lock(&w->mu);
    while (w->done < n) {
        pthread_cond_wait(&w->cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    assert_int_equal(w->failed, 0);
}

static void append(fixture *f, uint64_t from, uint64_t to, waiter *w)
{
    lu_entry *e = malloc(sizeof(*e));
    for (uint64_t i = from; i < to; i++) {
        lu_make(e, i, 0);
        assert_int_equal(scitt_ledger_submit(f->l, &e->sub_, on_done, w), SCITT_OK);
    }
    free(e);
}

/* ---- tests ---- */

/* The log is opened with syncing commits; the index (derived data) is the one that is not. */
static void test_env_flags(void **state)
{
    fixture *f = *state;
    unsigned flags = 0;
    assert_int_equal(mdb_env_get_flags((MDB_env *)scitt__lmdb_env(&f->l->store, false), &flags), 0);
    assert_int_equal(flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC), 0);
    assert_int_equal(flags & MDB_RDONLY, 0);
    assert_int_equal(mdb_env_get_flags((MDB_env *)scitt__lmdb_env(&f->l->store, true), &flags), 0);
    assert_int_equal(flags & MDB_NOSYNC, MDB_NOSYNC);
}

/* Every completion runs after everything written to the log file is on stable storage. */
static void test_ack_after_sync(void **state)
{
    fixture *f = *state;
    watch(f->dir);
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    uint64_t n = 0;
    /* bursts of varied sizes make batches of one and of many entries */
    for (unsigned round = 0; round < 40; round++) {
        uint64_t burst = 1 + (round * 37) % 90;
        append(f, n, n + burst, &w);
        n += burst;
        if (round % 3 == 0) {
            wait_done(&w, (size_t)n);
        }
    }
    wait_done(&w, (size_t)n);
    scitt_ledger_stats st;
    scitt_ledger_get_stats(f->l, &st);
    pthread_mutex_lock(&W_mu);
    unsigned late = W.late, acks = W.acks, syncs = W.syncs, metas = W.meta_writes;
    unsigned dsync = W.meta_dsync;
    pthread_mutex_unlock(&W_mu);
    print_message("durable: %u completions, %llu batches, %u syncs, %u meta writes (%u O_DSYNC)\n",
                  acks, (unsigned long long)st.batches, syncs, metas, dsync);
    assert_int_equal(acks, n);
    assert_int_equal(late, 0);
    /* one data sync and one synchronous meta write per commit */
    assert_true(syncs >= st.batches);
    assert_true(metas >= st.batches);
    assert_int_equal(dsync, metas);
}

typedef struct view {
    uint64_t size;
    scitt_err head, covering, entry, find, proof, tile;
    uint64_t heads_seen;
} view;

static scitt_err count_head(void *ctx, const scitt_tree_head *h)
{
    (void)h;
    (*(uint64_t *)ctx)++;
    return SCITT_OK;
}

/* What a reader of a fresh snapshot is served about entry @p index (tree size index + 1). */
static void look(fixture *f, uint64_t index, const uint8_t id[32], view *v)
{
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    v->size = h.size;
    v->head = scitt_ledger_head(r, index + 1, &h);
    v->covering = scitt_ledger_head_covering(r, index, &h);
    scitt_span e;
    v->entry = scitt_ledger_entry(r, index, &e);
    uint64_t at;
    v->find = scitt_ledger_find(r, id, &at);
    uint8_t path[64][SCITT_HASH_LEN];
    size_t n;
    v->proof = scitt_ledger_inclusion_proof(r, index, index + 1, path, &n);
    scitt_span tile;
    v->tile = scitt_ledger_tile(r, 0, index / 256, (unsigned)(index % 256) + 1, &tile);
    v->heads_seen = 0;
    assert_int_equal(scitt_ledger_heads(r, 1, UINT64_MAX, count_head, &v->heads_seen), SCITT_OK);
    scitt_ledger_read_end(r);
}

/*
 * The read functions are bounded by the durable size: a commit the snapshot shows but the ledger
 * does not know durable (as the first opener after a crash can find one in the page cache) is not
 * served. The ledger's durable size is moved back by hand to make that state.
 */
static void test_reads_bounded_by_durable(void **state)
{
    fixture *f = *state;
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    append(f, 0, 300, &w);
    wait_done(&w, 300);
    append(f, 300, 301, &w);
    wait_done(&w, 301);
    lu_entry e;
    lu_make(&e, 300, 0);
    view v;
    look(f, 300, e.sub_.entry_id, &v);
    assert_int_equal(v.size, 301);
    uint64_t heads_all = v.heads_seen;

    /* LMDB shows the head of 301; the ledger has not seen it durable */
    atomic_store(&f->l->durable, 300);
    MDB_txn *txn;
    scitt_tree_head raw;
    assert_int_equal(
        mdb_txn_begin((MDB_env *)scitt__lmdb_env(&f->l->store, false), NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(scitt__head_latest((scitt__txn *)txn, &f->l->store, &raw), SCITT_OK);
    mdb_txn_abort(txn);
    assert_int_equal(raw.size, 301);
    look(f, 300, e.sub_.entry_id, &v);
    assert_int_equal(v.size, 300);
    assert_int_equal(v.head, SCITT_ERR_NOT_FOUND);
    assert_int_equal(v.covering, SCITT_ERR_NOT_FOUND);
    assert_int_equal(v.entry, SCITT_ERR_NOT_FOUND);
    assert_int_equal(v.find, SCITT_ERR_NOT_FOUND);
    assert_int_equal(v.proof, SCITT_ERR_NOT_FOUND);
    assert_int_equal(v.tile, SCITT_ERR_NOT_FOUND);
    assert_int_equal(v.heads_seen, heads_all - 1);
    scitt_ledger_read *r;
    uint64_t size = 0;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_size_at_time(r, INT64_MAX, &size), SCITT_OK);
    uint8_t path[64][SCITT_HASH_LEN];
    size_t n;
    assert_int_equal(scitt_ledger_consistency_proof(r, 100, 301, path, &n), SCITT_ERR_NOT_FOUND);
    assert_int_equal(scitt_ledger_consistency_proof(r, 100, 300, path, &n), SCITT_OK);
    scitt_dynbuf bundle;
    scitt_dynbuf_init(&bundle, 0);
    assert_int_equal(scitt_ledger_entry_bundle(r, 1, 45, &bundle), SCITT_ERR_NOT_FOUND);
    assert_int_equal(scitt_ledger_entry_bundle(r, 1, 44, &bundle), SCITT_OK);
    scitt_dynbuf_clear(&bundle);
    scitt_ledger_read_end(r);
    assert_int_equal(size, 300);

    /* known durable again: served */
    atomic_store(&f->l->durable, 301);
    look(f, 300, e.sub_.entry_id, &v);
    assert_int_equal(v.size, 301);
    assert_int_equal(v.head, SCITT_OK);
    assert_int_equal(v.covering, SCITT_OK);
    assert_int_equal(v.entry, SCITT_OK);
    assert_int_equal(v.find, SCITT_OK);
    assert_int_equal(v.proof, SCITT_OK);
    assert_int_equal(v.tile, SCITT_OK);
    assert_int_equal(v.heads_seen, heads_all);
}

static void set_mark(const char *dir, const char *value);

/* After an unclean stop the writer syncs the log file at open, before anything can read it;
 * after a clean stop there is nothing to sync. */
static void test_open_syncs(void **state)
{
    fixture *f = *state;
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    append(f, 0, 10, &w);
    wait_done(&w, 10);
    scitt_ledger_close(f->l);
    f->l = NULL;
    for (int unclean = 0; unclean < 2; unclean++) {
        if (unclean) {
            /* what a process killed while it ran leaves */
            char here[INDEX_MARK_MAX];
            scitt__index_mark_open(here);
            set_mark(f->dir, here);
        }
        watch(f->dir);
        assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
        pthread_mutex_lock(&W_mu);
        unsigned syncs = W.syncs;
        pthread_mutex_unlock(&W_mu);
        assert_int_equal(syncs, unclean ? 1 : 0);
        assert_int_equal(atomic_load(&f->l->durable), 10);
        scitt_ledger_close(f->l);
        f->l = NULL;
    }
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
}

/* A read-only opener syncs the log file before it serves a head it has not seen durable. */
static void test_read_only_syncs(void **state)
{
    fixture *f = *state;
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    append(f, 0, 10, &w);
    wait_done(&w, 10);
    scitt_ledger_config ro = f->cfg;
    ro.read_only = true;
    ro.signer = NULL;
    scitt_ledger *l2;
    assert_int_equal(scitt_ledger_open(&ro, &l2), SCITT_OK);
    watch(f->dir);
    scitt_ledger_read *r;
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_read_begin(l2, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    scitt_ledger_read_end(r);
    assert_int_equal(h.size, 10);
    pthread_mutex_lock(&W_mu);
    unsigned syncs = W.syncs;
    pthread_mutex_unlock(&W_mu);
    assert_int_equal(syncs, 1);
    /* nothing new: no sync */
    assert_int_equal(scitt_ledger_read_begin(l2, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    scitt_ledger_read_end(r);
    pthread_mutex_lock(&W_mu);
    syncs = W.syncs;
    pthread_mutex_unlock(&W_mu);
    assert_int_equal(syncs, 1);
    scitt_ledger_close(l2);
}

/* ---- the index after an unclean stop ---- */

/* Sets (or with NULL removes) the index marker in the log, as a stop of that kind leaves it. */
static void set_mark(const char *dir, const char *value)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = {strlen(INDEX_MARK_KEY), INDEX_MARK_KEY};
    if (value) {
        MDB_val v = {strlen(value), (void *)value};
        assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    } else {
        int rc = mdb_del(txn, dbi, &k, NULL);
        assert_true(rc == 0 || rc == MDB_NOTFOUND);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void get_mark(const char *dir, char out[INDEX_MARK_MAX])
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = {strlen(INDEX_MARK_KEY), INDEX_MARK_KEY}, v;
    out[0] = 0;
    if (mdb_get(txn, dbi, &k, &v) == 0) {
        assert_true(v.mv_size < INDEX_MARK_MAX);
        memcpy(out, v.mv_data, v.mv_size);
        out[v.mv_size] = 0;
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

/*
 * Empties every leaf page of the index's posting databases (keys of one byte, or packed
 * duplicate pages): the B-tree still opens, its meta database (the watermark) is intact, and the
 * postings are gone, as when a power cut keeps the index's meta page and loses data pages.
 * LMDB page: pgno u64, pad u16, flags u16, lower u16, upper u16, then u16 node offsets; a leaf
 * node: lo u16, hi u16, flags u16, key size u16, key.
 */
static unsigned tear_index(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/index/data.mdb", dir);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    const size_t psize = 4096;
    unsigned torn = 0;
    uint8_t page[4096];
    for (off_t at = 2 * (off_t)psize; at + (off_t)psize <= st.st_size; at += (off_t)psize) {
        if (pread(fd, page, psize, at) != (ssize_t)psize) {
            break;
        }
        uint16_t flags, lower, upper;
        memcpy(&flags, page + 10, 2);
        memcpy(&lower, page + 12, 2);
        memcpy(&upper, page + 14, 2);
        bool leaf = (flags & 0x02) != 0, leaf2 = (flags & 0x20) != 0;
        if (!leaf || (flags & 0x0c) != 0 || lower <= 16 || lower > psize) {
            continue; /* not a leaf with entries (branch, overflow, meta, free, empty) */
        }
        bool postings = leaf2;
        if (!leaf2) {
            postings = true;
            for (unsigned i = 0; postings && i < (unsigned)(lower - 16) / 2; i++) {
                uint16_t ptr, ksize;
                memcpy(&ptr, page + 16 + 2 * i, 2);
                if (ptr + 8u > psize) {
                    postings = false;
                    break;
                }
                memcpy(&ksize, page + ptr + 6, 2);
                postings = ksize == POSTING_KEY_BYTES;
            }
        }
        if (!postings) {
            continue;
        }
        lower = 16;
        upper = (uint16_t)psize;
        memcpy(page + 12, &lower, 2);
        memcpy(page + 14, &upper, 2);
        assert_int_equal(pwrite(fd, page, psize, at), (ssize_t)psize);
        torn++;
    }
    close(fd);
    return torn;
}

typedef struct confirm {
    scitt_ledger_read *r;
    uint64_t n;
} confirm;

/* Counts a candidate that really is issuer 1's (candidates are a superset: callers confirm). */
static scitt_err count_posting(void *ctx, uint64_t index)
{
    confirm *c = ctx;
    scitt_span e;
    assert_int_equal(scitt_ledger_entry(c->r, index, &e), SCITT_OK);
    uint64_t i;
    memcpy(&i, e.ptr, sizeof(i));
    c->n += i % 3 == 1;
    return SCITT_OK;
}

/* What the index answers: entry @p index found by its ID, and candidates for issuer 1. */
static void index_answers(fixture *f, uint64_t index, scitt_err *find, uint64_t *issuer1)
{
    lu_entry e;
    lu_make(&e, index, 0);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    uint64_t at = UINT64_MAX;
    *find = scitt_ledger_find(r, e.sub_.entry_id, &at);
    if (*find == SCITT_OK) {
        assert_int_equal(at, index);
    }
    confirm c = {r, 0};
    assert_int_equal(scitt_ledger_postings(r, SCITT_INDEX_ISS,
                                           scitt_span_str("https://issuer1.example"), 0,
                                           count_posting, &c),
                     SCITT_OK);
    *issuer1 = c.n;
    scitt_ledger_read_end(r);
}

/* The index values of an lu_make entry, for a rebuild (entry index in its first 8 bytes). */
static scitt_err entry_values(void *ctx, scitt_span entry, scitt_span *iss, scitt_span *sub,
                              scitt_span *digest, uint8_t storage[64])
{
    (void)ctx;
    static const char *const issuers[3] = {"https://issuer0.example", "https://issuer1.example",
                                           "https://issuer2.example"};
    static const char *const subjects[10] = {"subject-0", "subject-1", "subject-2", "subject-3",
                                             "subject-4", "subject-5", "subject-6", "subject-7",
                                             "subject-8", "subject-9"};
    uint64_t i;
    if (entry.len < 16) {
        return SCITT_ERR_MALFORMED;
    }
    memcpy(&i, entry.ptr, sizeof(i));
    *iss = scitt_span_str(issuers[i % 3]);
    *sub = scitt_span_str(subjects[i % 10]);
    scitt_sha256(entry.ptr, entry.len, storage);
    *digest = scitt_span_make(storage, 32);
    return SCITT_OK;
}

static bool reopen(fixture *f)
{
    scitt_ledger_close(f->l);
    f->l = NULL;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    scitt_ledger_stats st;
    scitt_ledger_get_stats(f->l, &st);
    return st.index_rebuilt;
}

static void test_torn_index_rebuilt(void **state)
{
    fixture *f = *state;
    f->cfg.index_values = entry_values;
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    const uint64_t n = 3000;
    append(f, 0, n, &w);
    wait_done(&w, n);
    scitt_err find;
    uint64_t issuer1;
    index_answers(f, 5, &find, &issuer1);
    assert_int_equal(find, SCITT_OK);
    assert_int_equal(issuer1, n / 3);

    /* a clean stop leaves "clean"; the next open trusts the index */
    scitt_ledger_close(f->l);
    f->l = NULL;
    char mark[INDEX_MARK_MAX], here[INDEX_MARK_MAX];
    get_mark(f->dir, mark);
    assert_string_equal(mark, INDEX_MARK_CLEAN);
    assert_false(reopen(f));
    scitt__index_mark_open(here);
    assert_non_null(strstr(here, "open "));

    /* torn pages, and the marker of a process that died on this boot: trusted, and wrong (this
     * is what the tear does; only a power cut can make it, which changes the boot) */
    scitt_ledger_close(f->l);
    f->l = NULL;
    assert_true(tear_index(f->dir) > 0);
    set_mark(f->dir, here);
    assert_false(reopen(f));
    index_answers(f, 5, &find, &issuer1);
    assert_int_equal(find, SCITT_ERR_NOT_FOUND);
    assert_true(issuer1 < n / 3);

    /* the same damage after a power cut (another boot): rebuilt from the log, right again */
    scitt_ledger_close(f->l);
    f->l = NULL;
    assert_int_equal(tear_index(f->dir), 0); /* (already empty) */
    set_mark(f->dir, "open 00000000-0000-4000-8000-000000000000");
    assert_true(reopen(f));
    for (uint64_t i = 0; i < n; i += 97) {
        index_answers(f, i, &find, &issuer1);
        assert_int_equal(find, SCITT_OK);
    }
    assert_int_equal(issuer1, n / 3);
    /* a duplicate is answered with its index; a new entry registers after the last */
    lu_entry e;
    lu_make(&e, 5, 0);
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_OK);
    assert_true(res.duplicate);
    assert_int_equal(res.index, 5);
    lu_make(&e, n, 0);
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_OK);
    assert_false(res.duplicate);
    assert_int_equal(res.index, n);
    get_mark(f->dir, mark);
    assert_string_equal(mark, here); /* open, on this boot */

    /* no marker under a non-empty log (a store from before markers): rebuilt */
    scitt_ledger_close(f->l);
    f->l = NULL;
    set_mark(f->dir, NULL);
    assert_true(reopen(f));
    /* a process that died on this boot: trusted as it is (the page cache kept its writes) */
    scitt_ledger_close(f->l);
    f->l = NULL;
    set_mark(f->dir, here);
    assert_false(reopen(f));
    index_answers(f, n, &find, &issuer1);
    assert_int_equal(find, SCITT_OK);
}

/* A run that writes nothing leaves the marker as it found it; the first batch marks it open. */
static void test_index_mark_lifecycle(void **state)
{
    fixture *f = *state;
    char mark[INDEX_MARK_MAX], here[INDEX_MARK_MAX];
    scitt__index_mark_open(here);
    scitt_ledger_close(f->l);
    f->l = NULL;
    get_mark(f->dir, mark);
    assert_string_equal(mark, ""); /* an empty log never wrote its index */
    assert_false(reopen(f));
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    append(f, 0, 1, &w);
    wait_done(&w, 1);
    get_mark(f->dir, mark);
    assert_string_equal(mark, here);
    scitt_ledger_close(f->l);
    f->l = NULL;
    get_mark(f->dir, mark);
    assert_string_equal(mark, INDEX_MARK_CLEAN);
    assert_false(reopen(f));
    get_mark(f->dir, mark);
    assert_string_equal(mark, INDEX_MARK_CLEAN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_env_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_after_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_bounded_by_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_syncs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_syncs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_index_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_mark_lifecycle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
