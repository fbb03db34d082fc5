/*
 * The log's entry storage on real LMDB files: complete bundles of 256 entries, the incomplete
 * last bundle kept one entry per record in `recent` (so a batch writes only its own entries),
 * the hand-over when a bundle completes (in one batch or across several), damage found on read in
 * either place, and the upgrade of a version-1 store (which kept the incomplete bundle as one
 * record rewritten every batch).
 */
#include "testutil.h"
#include "ledger_util.h"
#include "test_signer.h"

#include <lmdb.h>
#include <pthread.h>

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
    scitt_ledger_close(f->l);
    ts_clear(&f->ts);
    lu_rmdir(f->dir);
    free(f);
    return 0;
}

/* Appends entries [from, to), a few per batch. */
static void append(fixture *f, uint64_t from, uint64_t to)
{
    lu_entry e;
    for (uint64_t i = from; i < to; i++) {
        lu_make(&e, i, 0);
        scitt_ledger_result res;
        assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_OK);
        assert_int_equal(res.index, i);
    }
}

/* Submits entries [from, to) at once, so that they go in as few, large batches as the
 * sequencer makes, and waits for them. */
typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done, failed;
} waiter;

static void on_done(void *ctx, const scitt_ledger_result *res)
{
    waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->done++;
    w->failed += res->err != SCITT_OK || res->duplicate;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void append_at_once(fixture *f, uint64_t from, uint64_t to)
{
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    lu_entry e;
    for (uint64_t i = from; i < to; i++) {
        lu_make(&e, i, 0);
        assert_int_equal(scitt_ledger_submit(f->l, &e.sub_, on_done, &w), SCITT_OK);
    }
    pthread_mutex_lock(&w.mu);
    while (w.done < to - from) {
        pthread_cond_wait(&w.cv, &w.mu);
    }
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(w.failed, 0);
}

/* Every entry [0, n) reads back as made. */
static void check_entries(fixture *f, uint64_t n)
{
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    lu_entry e;
    for (uint64_t i = 0; i < n; i++) {
        scitt_span got;
        lu_make(&e, i, 0);
        assert_int_equal(scitt_ledger_entry(r, i, &got), SCITT_OK);
        assert_int_equal(got.len, e.len);
        assert_memory_equal(got.ptr, e.bytes, e.len);
    }
    scitt_span got;
    assert_int_equal(scitt_ledger_entry(r, n, &got), SCITT_ERR_NOT_FOUND);
    scitt_ledger_read_end(r);
}

/* The raw store, the ledger closed: opened for a look or a change by hand. */
typedef struct raw {
    MDB_env *env;
    MDB_txn *txn;
} raw;

static void raw_open(raw *w, const char *dir)
{
    assert_int_equal(mdb_env_create(&w->env), 0);
    assert_int_equal(mdb_env_set_maxdbs(w->env, 16), 0);
    assert_int_equal(mdb_env_set_mapsize(w->env, 64u << 20), 0);
    assert_int_equal(mdb_env_open(w->env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(w->env, NULL, 0, &w->txn), 0);
}

static void raw_close(raw *w, bool commit)
{
    if (commit) {
        assert_int_equal(mdb_txn_commit(w->txn), 0);
    } else {
        mdb_txn_abort(w->txn);
    }
    mdb_env_close(w->env);
}

static MDB_dbi raw_dbi(raw *w, const char *name)
{
    MDB_dbi d;
    assert_int_equal(mdb_dbi_open(w->txn, name, 0, &d), 0);
    return d;
}

/* The keys (u64 big-endian) of database @p name, into @p keys (up to @p cap); returns the count. */
static size_t raw_keys(raw *w, const char *name, uint64_t *keys, size_t cap)
{
    MDB_cursor *c;
    assert_int_equal(mdb_cursor_open(w->txn, raw_dbi(w, name), &c), 0);
    MDB_val k, v;
    size_t n = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        assert_int_equal(k.mv_size, 8);
        if (n < cap) {
            uint64_t x = 0;
            for (size_t b = 0; b < 8; b++) {
                x = x << 8 | ((const uint8_t *)k.mv_data)[b];
            }
            keys[n] = x;
        }
        n++;
    }
    mdb_cursor_close(c);
    return n;
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int b = 7; b >= 0; b--) {
        out[b] = (uint8_t)v;
        v >>= 8;
    }
}

static void reopen(fixture *f)
{
    scitt_ledger_close(f->l);
    f->l = NULL;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
}

/* Where entries live as the log grows past bundle boundaries, across reopening. */
static void test_recent_then_bundle(void **state)
{
    fixture *f = *state;
    uint64_t keys[600];
    raw w;
    append(f, 0, 300);
    check_entries(f, 300);
    scitt_ledger_close(f->l);
    f->l = NULL;
    raw_open(&w, f->dir);
    assert_int_equal(raw_keys(&w, "bundles", keys, 600), 1);
    assert_int_equal(keys[0], 0);
    assert_int_equal(raw_keys(&w, "recent", keys, 600), 44);
    for (size_t i = 0; i < 44; i++) {
        assert_int_equal(keys[i], 256 + i);
    }
    raw_close(&w, false);
    /* reopen: the edge bundle is rebuilt from `recent`, and completing it hands over */
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    append(f, 300, 513);
    check_entries(f, 513);
    scitt_ledger_close(f->l);
    f->l = NULL;
    raw_open(&w, f->dir);
    assert_int_equal(raw_keys(&w, "bundles", keys, 600), 2);
    assert_int_equal(raw_keys(&w, "recent", keys, 600), 1);
    assert_int_equal(keys[0], 512);
    raw_close(&w, false);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    check_entries(f, 513);
}

/*
 * Large batches: a bundle filled inside one batch goes to `bundles` without passing through
 * `recent`, and a batch that completes a bundle begun by earlier ones clears its records.
 */
static void test_large_batches(void **state)
{
    fixture *f = *state;
    uint64_t keys[1024];
    raw w;
    append_at_once(f, 0, 600);
    append(f, 600, 610);
    append_at_once(f, 610, 1000);
    check_entries(f, 1000);
    scitt_ledger_close(f->l);
    f->l = NULL;
    raw_open(&w, f->dir);
    assert_int_equal(raw_keys(&w, "bundles", keys, 1024), 3);
    assert_int_equal(raw_keys(&w, "recent", keys, 1024), 1000 - 768);
    for (size_t i = 0; i < 1000 - 768; i++) {
        assert_int_equal(keys[i], 768 + i);
    }
    raw_close(&w, false);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    append_at_once(f, 1000, 1100);
    check_entries(f, 1100);
}

/* A `recent` record missing or left over is an integrity failure at open. */
static void test_recent_damage(void **state)
{
    fixture *f = *state;
    raw w;
    append(f, 0, 260);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* one extra record past the tree size */
    raw_open(&w, f->dir);
    uint8_t kb[8];
    be64(kb, 260);
    MDB_val k = {8, kb}, v = {3, "abc"};
    assert_int_equal(mdb_put(w.txn, raw_dbi(&w, "recent"), &k, &v, 0), 0);
    raw_close(&w, true);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_INTEGRITY);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* that one gone, and entry 257 gone too */
    raw_open(&w, f->dir);
    MDB_dbi d = raw_dbi(&w, "recent");
    assert_int_equal(mdb_del(w.txn, d, &k, NULL), 0);
    be64(kb, 257);
    assert_int_equal(mdb_del(w.txn, d, &k, NULL), 0);
    raw_close(&w, true);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_INTEGRITY);
    scitt_ledger_read *r;
    scitt_span got;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_entry(r, 257, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 258, &got), SCITT_OK);
    scitt_ledger_read_end(r);
}

/* A damaged byte of an entry in a complete bundle is found on read (by its leaf hash). */
static void test_bundle_damage(void **state)
{
    fixture *f = *state;
    append(f, 0, 258);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* entry 3 inside bundle 0 (be32 length || bytes each) */
    size_t at = 0;
    lu_entry e;
    for (uint64_t i = 0; i < 3; i++) {
        lu_make(&e, i, 0);
        at += 4 + e.len;
    }
    raw w;
    raw_open(&w, f->dir);
    MDB_dbi d = raw_dbi(&w, "bundles");
    uint8_t kb[8] = {0};
    MDB_val k = {8, kb}, v;
    assert_int_equal(mdb_get(w.txn, d, &k, &v), 0);
    uint8_t *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[at + 4 + 20] ^= 1;
    MDB_val nv = {v.mv_size, copy};
    assert_int_equal(mdb_put(w.txn, d, &k, &nv, 0), 0);
    raw_close(&w, true);
    free(copy);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    scitt_ledger_read *r;
    scitt_span got;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_entry(r, 3, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 4, &got), SCITT_OK);
    assert_int_equal(scitt_ledger_entry(r, 257, &got), SCITT_OK);
    scitt_ledger_read_end(r);
}

/*
 * A version-1 store: the incomplete bundle as one record, no `recent` records. Made here from a
 * version-2 store by hand, then opened: upgraded in place, every entry readable, appends go on.
 */
static void test_upgrade_v1(void **state)
{
    fixture *f = *state;
    append(f, 0, 270);
    scitt_ledger_close(f->l);
    f->l = NULL;
    raw w;
    raw_open(&w, f->dir);
    MDB_dbi recent = raw_dbi(&w, "recent"), bundles = raw_dbi(&w, "bundles");
    scitt_dynbuf bundle;
    scitt_dynbuf_init(&bundle, 0);
    for (uint64_t i = 256; i < 270; i++) {
        uint8_t kb[8];
        be64(kb, i);
        MDB_val k = {8, kb}, v;
        assert_int_equal(mdb_get(w.txn, recent, &k, &v), 0);
        uint8_t l4[4] = {0, 0, (uint8_t)(v.mv_size >> 8), (uint8_t)v.mv_size};
        scitt_dynbuf_put(&bundle, l4, 4);
        scitt_dynbuf_put(&bundle, v.mv_data, v.mv_size);
        assert_int_equal(mdb_del(w.txn, recent, &k, NULL), 0);
    }
    uint8_t kb[8];
    be64(kb, 1);
    MDB_val k = {8, kb}, v = {bundle.len, bundle.ptr};
    assert_int_equal(mdb_put(w.txn, bundles, &k, &v, 0), 0);
    uint8_t one = 1;
    MDB_val vk = {7, "version"}, vv = {1, &one};
    assert_int_equal(mdb_put(w.txn, raw_dbi(&w, "meta"), &vk, &vv, 0), 0);
    raw_close(&w, true);
    scitt_dynbuf_clear(&bundle);

    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    check_entries(f, 270);
    append(f, 270, 600);
    reopen(f);
    check_entries(f, 600);
    scitt_ledger_close(f->l);
    f->l = NULL;
    uint64_t keys[8];
    raw_open(&w, f->dir);
    assert_int_equal(raw_keys(&w, "bundles", keys, 8), 2);
    assert_int_equal(raw_keys(&w, "recent", keys, 8), 600 - 512);
    MDB_val got;
    assert_int_equal(mdb_get(w.txn, raw_dbi(&w, "meta"), &vk, &got), 0);
    assert_int_equal(*(const uint8_t *)got.mv_data, 2);
    raw_close(&w, false);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
}

/* Puts (or with @p v NULL deletes) the `boffsets` record of bundle @p bundle by hand. */
static void put_offsets(const char *dir, uint64_t bundle, const uint8_t *v, size_t n)
{
    raw w;
    raw_open(&w, dir);
    uint8_t kb[8];
    be64(kb, bundle);
    MDB_val k = {8, kb}, val = {n, (void *)v};
    MDB_dbi d = raw_dbi(&w, "boffsets");
    assert_int_equal(v ? mdb_put(w.txn, d, &k, &val, 0) : mdb_del(w.txn, d, &k, NULL), 0);
    raw_close(&w, true);
}

/*
 * Complete bundles record where each entry starts, so a read touches only the entry's pages;
 * a bundle without the record (written before it existed) is walked, and a record that points
 * anywhere but at the entry is damage found on read.
 */
static void test_bundle_offsets(void **state)
{
    fixture *f = *state;
    append_at_once(f, 0, 600);
    scitt_ledger_close(f->l);
    f->l = NULL;
    uint64_t keys[8];
    raw w;
    raw_open(&w, f->dir);
    assert_int_equal(raw_keys(&w, "boffsets", keys, 8), 2);
    assert_int_equal(keys[0], 0);
    assert_int_equal(keys[1], 1);
    uint8_t kb[8];
    be64(kb, 1);
    MDB_val k = {8, kb}, v;
    assert_int_equal(mdb_get(w.txn, raw_dbi(&w, "boffsets"), &k, &v), 0);
    assert_int_equal(v.mv_size, 4 * 256);
    uint8_t off[4 * 256];
    memcpy(off, v.mv_data, sizeof(off));
    raw_close(&w, false);
    /* entry 256 + i starts at the sum of the sizes before it */
    size_t at = 0;
    lu_entry e;
    for (uint64_t i = 0; i < 256; i++) {
        assert_int_equal((size_t)off[4 * i] << 24 | (size_t)off[4 * i + 1] << 16 |
                             (size_t)off[4 * i + 2] << 8 | off[4 * i + 3],
                         at);
        lu_make(&e, 256 + i, 0);
        at += 4 + e.len;
    }

    /* bundle 0 as written before the records existed: walked */
    put_offsets(f->dir, 0, NULL, 0);
    /* bundle 1: entry 300 (position 44) pointed at entry 301, entry 302 past the end */
    uint8_t bad[sizeof(off)];
    memcpy(bad, off, sizeof(off));
    memcpy(bad + 4 * 44, off + 4 * 45, 4);
    memset(bad + 4 * 46, 0xff, 4);
    put_offsets(f->dir, 1, bad, sizeof(bad));
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    scitt_ledger_read *r;
    scitt_span got;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    for (uint64_t i = 0; i < 256; i++) {
        assert_int_equal(scitt_ledger_entry(r, i, &got), SCITT_OK);
    }
    assert_int_equal(scitt_ledger_entry(r, 300, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 301, &got), SCITT_OK);
    assert_int_equal(scitt_ledger_entry(r, 302, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 599, &got), SCITT_OK);
    scitt_ledger_read_end(r);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* a record of the wrong size is damage too */
    put_offsets(f->dir, 1, off, 100);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_entry(r, 257, &got), SCITT_ERR_CORRUPT);
    scitt_ledger_read_end(r);
    scitt_ledger_close(f->l);
    f->l = NULL;

    /* a store with no `boffsets` at all, opened read-only, walks every bundle */
    put_offsets(f->dir, 1, off, sizeof(off));
    raw_open(&w, f->dir);
    assert_int_equal(mdb_drop(w.txn, raw_dbi(&w, "boffsets"), 1), 0);
    raw_close(&w, true);
    scitt_ledger_config ro = f->cfg;
    ro.read_only = true;
    ro.signer = NULL;
    assert_int_equal(scitt_ledger_open(&ro, &f->l), SCITT_OK);
    check_entries(f, 600);
    scitt_ledger_close(f->l);
    /* opened for writing again, it gets the database back and new bundles get their record */
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    check_entries(f, 600);
    append(f, 600, 800);
    check_entries(f, 800);
    scitt_ledger_close(f->l);
    f->l = NULL;
    raw_open(&w, f->dir);
    assert_int_equal(raw_keys(&w, "boffsets", keys, 8), 1);
    assert_int_equal(keys[0], 2);
    raw_close(&w, false);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recent_then_bundle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recent_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundle_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundle_offsets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
