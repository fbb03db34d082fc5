/*
 * The ledger's storage and sequencer through its public API, on real LMDB files in temporary
 * directories: appends, duplicates, tree heads, proofs, tiles, entry bundles, reopening,
 * integrity checks, map-full handling and the auditor index postings.
 */
#include "testutil.h"
#include "memtree.h"
#include "ledger_util.h"
#include "test_signer.h"

#include <lmdb.h>
#include <pthread.h>

#include "scitt/limits.h"

typedef struct fixture {
    char *dir;
    test_signer ts;
    scitt_ledger_signer signer;
    scitt_ledger_config cfg;
    scitt_ledger *l;
    memtree tree;
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
    memtree_init(&f->tree);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    scitt_ledger_close(f->l);
    memtree_free(&f->tree);
    ts_clear(&f->ts);
    lu_rmdir(f->dir);
    free(f);
    return 0;
}

/* Appends entries [from, to) one batch at a time through concurrent submissions. */
typedef struct collect {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done;
    scitt_ledger_result *res;
} collect;

typedef struct slot {
    collect *c;
    size_t i;
} slot;

static void on_done(void *ctx, const scitt_ledger_result *r)
{
    slot *s = ctx;
    pthread_mutex_lock(&s->c->mu);
    s->c->res[s->i] = *r;
    s->c->done++;
    pthread_cond_signal(&s->c->cv);
    pthread_mutex_unlock(&s->c->mu);
}

static void submit_many(fixture *f, uint64_t from, uint64_t to, uint64_t salt,
                        scitt_ledger_result *res)
{
    size_t n = (size_t)(to - from);
    collect c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, res};
    slot *slots = calloc(n, sizeof(*slots));
    lu_entry *e = malloc(sizeof(*e));
    for (size_t i = 0; i < n; i++) {
        lu_make(e, from + i, salt);
        slots[i].c = &c;
        slots[i].i = i;
        assert_int_equal(scitt_ledger_submit(f->l, &e->sub_, on_done, &slots[i]), SCITT_OK);
    }
    pthread_mutex_lock(&c.mu);
    while (c.done < n) {
        pthread_cond_wait(&c.cv, &c.mu);
    }
    pthread_mutex_unlock(&c.mu);
    free(e);
    free(slots);
}

static void append_range(fixture *f, uint64_t from, uint64_t to)
{
    size_t n = (size_t)(to - from);
    scitt_ledger_result *res = calloc(n, sizeof(*res));
    submit_many(f, from, to, 0, res);
    lu_entry e;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(res[i].err, SCITT_OK);
        assert_false(res[i].duplicate);
        assert_true(res[i].index < res[i].tree_size);
        lu_make(&e, from + i, 0);
        assert_int_equal(memtree_append(&f->tree, e.sub_.leaf_hash), SCITT_OK);
    }
    free(res);
}

static void check_latest_root(fixture *f)
{
    scitt_ledger_read *r;
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    assert_int_equal(h.size, f->tree.compact.size);
    uint8_t root[32];
    scitt_merkle_compact_root(&f->tree.compact, root);
    assert_memory_equal(h.root, root, 32);
    assert_int_equal(ts_verify(&f->ts, &h), SCITT_OK);
    scitt_ledger_read_end(r);
}

static void test_append_and_read(void **state)
{
    fixture *f = *state;
    scitt_ledger_read *r;
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_ERR_NOT_FOUND);
    scitt_ledger_read_end(r);

    append_range(f, 0, 1000);
    check_latest_root(f);
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    lu_entry e;
    for (uint64_t i = 0; i < 1000; i += 7) {
        lu_make(&e, i, 0);
        uint64_t idx;
        assert_int_equal(scitt_ledger_find(r, e.sub_.entry_id, &idx), SCITT_OK);
        scitt_span got;
        assert_int_equal(scitt_ledger_entry(r, idx, &got), SCITT_OK);
        assert_int_equal(got.len, e.len);
        assert_memory_equal(got.ptr, e.bytes, e.len);
        /* the tree agrees the entry is where the ledger says */
        uint8_t want[32];
        assert_int_equal(memtree_node(&f->tree, 0, idx, want), SCITT_OK);
        assert_memory_equal(want, e.sub_.leaf_hash, 32);
    }
    uint8_t missing[32] = {1, 2, 3};
    uint64_t idx;
    assert_int_equal(scitt_ledger_find(r, missing, &idx), SCITT_ERR_NOT_FOUND);
    scitt_span got;
    assert_int_equal(scitt_ledger_entry(r, 1000, &got), SCITT_ERR_NOT_FOUND);
    scitt_ledger_read_end(r);

    scitt_ledger_stats st;
    scitt_ledger_get_stats(f->l, &st);
    assert_int_equal(st.tree_size, 1000);
    assert_int_equal(st.entries, 1000);
    assert_true(st.batches >= 1 && st.batches <= 1000);
    assert_true(st.db_bytes > 0);
}

static void test_duplicates(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 300);
    /* resubmitting committed entries and twins inside one batch */
    scitt_ledger_result res[40];
    submit_many(f, 280, 320, 0, res);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(res[i].err, SCITT_OK);
        if (i < 20) {
            assert_true(res[i].duplicate);
            lu_entry e;
            lu_make(&e, 280 + i, 0);
            uint8_t want[32];
            assert_int_equal(memtree_node(&f->tree, 0, res[i].index, want), SCITT_OK);
            assert_memory_equal(want, e.sub_.leaf_hash, 32);
        } else {
            assert_false(res[i].duplicate);
        }
    }
    lu_entry e;
    for (uint64_t i = 300; i < 320; i++) {
        lu_make(&e, i, 0);
        assert_int_equal(memtree_append(&f->tree, e.sub_.leaf_hash), SCITT_OK);
    }
    /* the same new statement submitted many times at once lands once */
    lu_make(&e, 5000, 0);
    scitt_ledger_result r1;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &r1), SCITT_OK);
        assert_int_equal(r1.index, 320);
        assert_int_equal(r1.duplicate, k > 0);
    }
    assert_int_equal(memtree_append(&f->tree, e.sub_.leaf_hash), SCITT_OK);
    check_latest_root(f);
}

static void test_proofs(void **state)
{
    fixture *f = *state;
    /* several batches so several heads exist */
    uint64_t bounds[] = {0, 1, 2, 3, 200, 256, 257, 600, 1100};
    for (size_t b = 0; b + 1 < sizeof(bounds) / sizeof(bounds[0]); b++) {
        append_range(f, bounds[b], bounds[b + 1]);
    }
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    scitt_merkle_source mem = memtree_source(&f->tree);
    uint8_t got[65][32], want[65][32];
    size_t gn, wn;
    for (uint64_t size = 1; size <= 1100; size += 37) {
        for (uint64_t i = 0; i < size; i += 13) {
            assert_int_equal(scitt_ledger_inclusion_proof(r, i, size, got, &gn), SCITT_OK);
            assert_int_equal(scitt_merkle_inclusion_proof(&mem, i, size, want, &wn), SCITT_OK);
            assert_int_equal(gn, wn);
            assert_memory_equal(got, want, gn * 32);
        }
    }
    assert_int_equal(scitt_ledger_inclusion_proof(r, 5, 1101, got, &gn), SCITT_ERR_NOT_FOUND);
    /* every pair of signed heads is consistent */
    for (size_t a = 1; a < sizeof(bounds) / sizeof(bounds[0]); a++) {
        for (size_t b = a + 1; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
            scitt_tree_head ha, hb;
            if (scitt_ledger_head(r, bounds[a], &ha) != SCITT_OK) {
                continue; /* a batch boundary may have merged with the next */
            }
            assert_int_equal(scitt_ledger_head(r, bounds[b], &hb), SCITT_OK);
            assert_int_equal(scitt_ledger_consistency_proof(r, ha.size, hb.size, got, &gn),
                             SCITT_OK);
            assert_int_equal(scitt_merkle_consistency_verify(ha.size, hb.size, ha.root, hb.root,
                                                             (const uint8_t(*)[32])got, gn),
                             SCITT_OK);
        }
    }
    /* the head covering an index is the one that added it */
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_head_covering(r, 599, &h), SCITT_OK);
    assert_int_equal(h.size, 600);
    /* group commit may split a submission run into several heads: the covering head is the
     * first one past the index */
    assert_int_equal(scitt_ledger_head_covering(r, 600, &h), SCITT_OK);
    assert_true(h.size > 600 && h.size <= 1100);
    scitt_tree_head before;
    for (uint64_t s = 601; s < h.size; s++) {
        assert_int_equal(scitt_ledger_head(r, s, &before), SCITT_ERR_NOT_FOUND);
    }
    assert_int_equal(scitt_ledger_head_covering(r, 1100, &h), SCITT_ERR_NOT_FOUND);
    scitt_ledger_read_end(r);
}

static void test_tiles_and_bundles(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 600);
    append_range(f, 600, 66000);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    const uint64_t size = 66000;
    /* every tile at levels 0, 1 and 2 equals the in-memory tree's nodes */
    for (unsigned level = 0; level < 3; level++) {
        uint64_t nodes = size >> (8 * level);
        for (uint64_t t = 0; t * 256 < nodes; t++) {
            unsigned w = scitt_tile_width(level, t, size);
            scitt_span tile;
            assert_int_equal(scitt_ledger_tile(r, level, t, w, &tile), SCITT_OK);
            assert_int_equal(tile.len, (size_t)w * 32);
            for (unsigned k = 0; k < w; k++) {
                uint8_t want[32];
                assert_int_equal(memtree_node(&f->tree, 8 * level, t * 256 + k, want), SCITT_OK);
                assert_memory_equal(tile.ptr + k * 32, want, 32);
            }
            /* a partial view (an older checkpoint) is a prefix */
            if (w > 1) {
                scitt_span part;
                assert_int_equal(scitt_ledger_tile(r, level, t, w - 1, &part), SCITT_OK);
                assert_ptr_equal(part.ptr, tile.ptr);
            }
            assert_int_equal(scitt_ledger_tile(r, level, t, w + 1, &tile),
                             w == 256 ? SCITT_ERR_NOT_FOUND : SCITT_ERR_NOT_FOUND);
        }
    }
    scitt_span tile;
    assert_int_equal(scitt_ledger_tile(r, 3, 0, 1, &tile), SCITT_ERR_NOT_FOUND);
    /* entry bundles: full ones and the partial last one */
    uint64_t bundles[] = {0, 1, 100, 257};
    for (size_t b = 0; b < 4; b++) {
        unsigned w = scitt_tile_width(0, bundles[b], size);
        scitt_dynbuf out;
        scitt_dynbuf_init(&out, 0);
        assert_int_equal(scitt_ledger_entry_bundle(r, bundles[b], w, &out), SCITT_OK);
        scitt_reader rd;
        scitt_reader_init(&rd, scitt_span_make(out.ptr, out.len));
        for (unsigned k = 0; k < w; k++) {
            lu_entry e;
            lu_make(&e, bundles[b] * 256 + k, 0);
            uint16_t len = scitt_reader_be16(&rd);
            scitt_span got = scitt_reader_take(&rd, len);
            assert_int_equal(got.len, e.len);
            assert_memory_equal(got.ptr, e.bytes, e.len);
        }
        assert_int_equal(scitt_reader_finish(&rd), SCITT_OK);
        scitt_dynbuf_clear(&out);
    }
    scitt_ledger_read_end(r);
}

static void test_reopen_continues(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 700);
    scitt_ledger_close(f->l);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    check_latest_root(f);
    append_range(f, 700, 1300);
    check_latest_root(f);
    /* a read-only opener (as the CLI does) sees the same state */
    scitt_ledger_config ro = f->cfg;
    ro.read_only = true;
    ro.signer = NULL;
    scitt_ledger *l2;
    assert_int_equal(scitt_ledger_open(&ro, &l2), SCITT_OK);
    scitt_ledger_read *r;
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_read_begin(l2, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    assert_int_equal(h.size, 1300);
    scitt_ledger_read_end(r);
    lu_entry e;
    lu_make(&e, 1, 1);
    assert_int_equal(scitt_ledger_submit(l2, &e.sub_, on_done, NULL), SCITT_ERR_STATE);
    scitt_ledger_close(l2);
}

/* Rewrites one byte of a stored record with LMDB directly, as disk corruption would. */
static void poke(const char *dir, const char *db, const uint8_t *key, size_t klen, size_t at)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {klen, (void *)key}, v;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 64u << 20), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    uint8_t *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[at] ^= 0x01;
    MDB_val nv = {v.mv_size, copy};
    assert_int_equal(mdb_put(txn, dbi, &k, &nv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    free(copy);
}

static void test_integrity_tile(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 300);
    scitt_ledger_close(f->l);
    f->l = NULL;
    uint8_t key[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1}; /* level 0, tile 1: the right edge */
    poke(f->dir, "tiles", key, 9, 5);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_INTEGRITY);
    lu_entry e;
    lu_make(&e, 999, 0);
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_ERR_INTEGRITY);
    /* reads still work, and the damaged entry says so */
    scitt_ledger_read *r;
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    assert_int_equal(h.size, 300);
    scitt_span got;
    assert_int_equal(scitt_ledger_entry(r, 256, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 257, &got), SCITT_OK);
    scitt_ledger_read_end(r);
}

static void test_integrity_head_and_entry(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 10);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* an entry byte: detected on read. Entries of the incomplete last bundle have a record each
     * in `recent` (test_ledger_store.c covers complete bundles); the sequencer reads them at open
     * to extend their bundle, so a changed one also refuses writes (INTEGRITY). */
    uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 3};
    poke(f->dir, "recent", key, 8, 20);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_INTEGRITY);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    scitt_span got;
    assert_int_equal(scitt_ledger_entry(r, 3, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 4, &got), SCITT_OK);
    scitt_ledger_read_end(r);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* the byte restored, the log opens writable again */
    poke(f->dir, "recent", key, 8, 20);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* the last head's signature (its first signature byte sits after version, root, time,
     * policy and the protected blob) */
    uint8_t hk[8] = {0, 0, 0, 0, 0, 0, 0, 10};
    poke(f->dir, "heads", hk, 8, 1 + 32 + 8 + 8 + 4 + 14 + 4 + 3);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_INTEGRITY);
}

static void test_failed_batch_leaves_nothing(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 50);
    f->ts.fail_sign = SCITT_ERR_CRYPTO;
    lu_entry e;
    lu_make(&e, 50, 0);
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_ERR_CRYPTO);
    check_latest_root(f);
    /* the same entry goes in at the same index once signing works again */
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_OK);
    assert_int_equal(res.index, 50);
    assert_false(res.duplicate);
    assert_int_equal(memtree_append(&f->tree, e.sub_.leaf_hash), SCITT_OK);
    check_latest_root(f);
}

static void test_map_full_and_growth(void **state)
{
    fixture *f = *state;
    scitt_ledger_close(f->l);
    /* a map that cannot grow fills up: the batch fails cleanly, reads keep working */
    f->cfg.map_size = 1u << 20;
    f->cfg.map_size_max = 0;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    uint64_t i = 0;
    scitt_ledger_result res;
    scitt_err e = SCITT_OK;
    lu_entry ent;
    for (; i < 100000; i++) {
        lu_make(&ent, i, 0);
        e = scitt_ledger_append(f->l, &ent.sub_, &res);
        if (e != SCITT_OK) {
            break;
        }
        assert_int_equal(memtree_append(&f->tree, ent.sub_.leaf_hash), SCITT_OK);
    }
    assert_int_equal(e, SCITT_ERR_MAP_FULL);
    assert_true(i > 100);
    check_latest_root(f);
    scitt_ledger_close(f->l);
    /* reopening with a larger map lets writes resume where they stopped */
    f->cfg.map_size = 4u << 20;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_append(f->l, &ent.sub_, &res), SCITT_OK);
    assert_int_equal(res.index, i);
    assert_int_equal(memtree_append(&f->tree, ent.sub_.leaf_hash), SCITT_OK);
    scitt_ledger_close(f->l);
    /* with room to grow, the map doubles on demand instead of failing */
    f->cfg.map_size = 4u << 20;
    f->cfg.map_size_max = 64u << 20;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    append_range(f, i + 1, i + 20000);
    scitt_ledger_stats st;
    scitt_ledger_get_stats(f->l, &st);
    assert_true(st.map_size > (4u << 20));
    check_latest_root(f);
}

/*
 * Postings are candidates (a superset: 32-bit hashes, and entries the indexer has not reached
 * yet): like every caller, the visitor confirms each one by reading the entry.
 */
typedef struct {
    scitt_ledger_read *r;
    int which;
    const char *value;
    const uint8_t *digest;
    uint64_t got[64];
    size_t n;
} postings;

static scitt_err collect_posting(void *ctx, uint64_t index)
{
    postings *p = ctx;
    scitt_span entry;
    assert_int_equal(scitt_ledger_entry(p->r, index, &entry), SCITT_OK);
    uint64_t i, salt;
    memcpy(&i, entry.ptr, 8);
    memcpy(&salt, entry.ptr + 8, 8);
    lu_entry e;
    lu_make(&e, i, salt);
    bool match = p->which == SCITT_INDEX_SUB   ? strcmp(e.sub, p->value) == 0
                 : p->which == SCITT_INDEX_ISS ? strcmp(e.iss, p->value) == 0
                                               : memcmp(e.digest, p->digest, 32) == 0;
    if (!match) {
        return SCITT_OK;
    }
    if (p->n == 64) {
        return SCITT_ERR_STATE;
    }
    p->got[p->n++] = index;
    return SCITT_OK;
}

static void postings_init(postings *p, scitt_ledger_read *r, int which, const char *value,
                          const uint8_t *digest)
{
    memset(p, 0, sizeof(*p));
    p->r = r;
    p->which = which;
    p->value = value;
    p->digest = digest;
}

static void test_postings_and_time(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 100);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    /* subject-3 is entries 3, 13, 23, ... */
    postings p;
    postings_init(&p, r, SCITT_INDEX_SUB, "subject-3", NULL);
    assert_int_equal(scitt_ledger_postings(r, SCITT_INDEX_SUB, scitt_span_str("subject-3"), 0,
                                           collect_posting, &p),
                     SCITT_OK);
    assert_int_equal(p.n, 10);
    for (size_t k = 0; k < p.n; k++) {
        assert_int_equal(p.got[k], 3 + 10 * k);
    }
    postings_init(&p, r, SCITT_INDEX_SUB, "subject-3", NULL);
    assert_int_equal(scitt_ledger_postings(r, SCITT_INDEX_SUB, scitt_span_str("subject-3"), 50,
                                           collect_posting, &p),
                     SCITT_OK);
    assert_int_equal(p.n, 5);
    assert_int_equal(p.got[0], 53);
    /* issuers: three of them, every third entry; the visitor stops the walk at 64 */
    postings_init(&p, r, SCITT_INDEX_ISS, "https://issuer1.example", NULL);
    assert_int_equal(scitt_ledger_postings(r, SCITT_INDEX_ISS,
                                           scitt_span_str("https://issuer1.example"), 0,
                                           collect_posting, &p),
                     SCITT_OK);
    assert_int_equal(p.n, 33);
    assert_int_equal(p.got[32], 97);
    /* a digest finds exactly its entry */
    lu_entry e;
    lu_make(&e, 42, 0);
    postings_init(&p, r, SCITT_INDEX_DIGEST, NULL, e.digest);
    assert_int_equal(scitt_ledger_postings(r, SCITT_INDEX_DIGEST, scitt_span_make(e.digest, 32), 0,
                                           collect_posting, &p),
                     SCITT_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.got[0], 42);
    postings_init(&p, r, SCITT_INDEX_SUB, "nobody", NULL);
    assert_int_equal(
        scitt_ledger_postings(r, SCITT_INDEX_SUB, scitt_span_str("nobody"), 0, collect_posting, &p),
        SCITT_OK);
    assert_int_equal(p.n, 0);
    /* time: everything was registered after the epoch and before the far future */
    uint64_t size;
    assert_int_equal(scitt_ledger_size_at_time(r, 0, &size), SCITT_OK);
    assert_int_equal(size, 0);
    assert_int_equal(scitt_ledger_size_at_time(r, INT64_MAX / 2, &size), SCITT_OK);
    assert_int_equal(size, 100);
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    assert_int_equal(scitt_ledger_size_at_time(r, h.time_ms + 1, &size), SCITT_OK);
    assert_int_equal(size, 100);
    scitt_ledger_read_end(r);
}

static void test_policy_splits_batches(void **state)
{
    fixture *f = *state;
    /* submissions under two policies never share a tree head */
    collect c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL};
    scitt_ledger_result res[20];
    c.res = res;
    slot slots[20];
    lu_entry e;
    for (size_t i = 0; i < 20; i++) {
        lu_make(&e, i, 9);
        e.sub_.policy_index = i < 10 ? 0 : 7;
        slots[i].c = &c;
        slots[i].i = i;
        assert_int_equal(scitt_ledger_submit(f->l, &e.sub_, on_done, &slots[i]), SCITT_OK);
    }
    pthread_mutex_lock(&c.mu);
    while (c.done < 20) {
        pthread_cond_wait(&c.cv, &c.mu);
    }
    pthread_mutex_unlock(&c.mu);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    for (size_t i = 0; i < 20; i++) {
        scitt_tree_head h;
        assert_int_equal(scitt_ledger_head_covering(r, res[i].index, &h), SCITT_OK);
        assert_int_equal(h.policy_index, i < 10 ? 0 : 7);
    }
    scitt_ledger_read_end(r);
}

/* Recovers the index values of a test entry from its bytes (lu_make stores i and the salt). */
static scitt_err test_index_values(void *ctx, scitt_span entry, scitt_span *iss, scitt_span *sub,
                                   scitt_span *digest, uint8_t storage[64])
{
    (void)ctx;
    static lu_entry e; /* the sequencer is the only caller */
    uint64_t i, salt;
    memcpy(&i, entry.ptr, 8);
    memcpy(&salt, entry.ptr + 8, 8);
    lu_make(&e, i, salt);
    *iss = scitt_span_str(e.iss);
    *sub = scitt_span_str(e.sub);
    memcpy(storage, e.digest, 32);
    *digest = scitt_span_make(storage, 32);
    return SCITT_OK;
}

static void test_index_rebuild(void **state)
{
    fixture *f = *state;
    scitt_ledger_close(f->l);
    f->cfg.index_values = test_index_values;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    append_range(f, 0, 700);
    scitt_ledger_close(f->l);
    f->l = NULL;
    /* the index is derived data: without it the ledger rebuilds it from the log at open */
    char p[4200];
    snprintf(p, sizeof(p), "%s/index/data.mdb", f->dir);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    lu_entry e;
    for (uint64_t i = 0; i < 700; i += 13) {
        lu_make(&e, i, 0);
        uint64_t idx;
        assert_int_equal(scitt_ledger_find(r, e.sub_.entry_id, &idx), SCITT_OK);
        assert_int_equal(idx, i);
    }
    postings p2;
    postings_init(&p2, r, SCITT_INDEX_SUB, "subject-7", NULL);
    assert_int_equal(scitt_ledger_postings(r, SCITT_INDEX_SUB, scitt_span_str("subject-7"), 0,
                                           collect_posting, &p2),
                     SCITT_OK);
    assert_int_equal(p2.n, 64); /* the visitor stops at 64 of the 70 */
    assert_int_equal(p2.got[0], 7);
    scitt_ledger_read_end(r);
    /* a garbage index file is thrown away and rebuilt too */
    scitt_ledger_close(f->l);
    f->l = NULL;
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs("not an LMDB file", fp);
    fclose(fp);
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    lu_make(&e, 699, 0);
    uint64_t idx;
    assert_int_equal(scitt_ledger_find(r, e.sub_.entry_id, &idx), SCITT_OK);
    assert_int_equal(idx, 699);
    scitt_ledger_read_end(r);
    /* and appends continue with deduplication intact */
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_OK);
    assert_true(res.duplicate);
    assert_int_equal(res.index, 699);
}

static void test_bad_submissions(void **state)
{
    fixture *f = *state;
    lu_entry e;
    lu_make(&e, 1, 0);
    scitt_submission s = e.sub_;
    s.entry.len = 0;
    assert_int_equal(scitt_ledger_submit(f->l, &s, on_done, NULL), SCITT_ERR_INVALID_ARG);
    static uint8_t big[SCITT_LIMIT_STATEMENT_DEFAULT + 1];
    s.entry = scitt_span_make(big, sizeof(big));
    assert_int_equal(scitt_ledger_submit(f->l, &s, on_done, NULL), SCITT_ERR_TOO_LARGE);
    assert_int_equal(scitt_ledger_submit(f->l, &e.sub_, NULL, NULL), SCITT_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proofs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiles_and_bundles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity_tile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity_head_and_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_and_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postings_and_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_splits_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_submissions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
