/*
 * The ledger on its PostgreSQL backend, against a real server started for the test (initdb in a
 * temporary folder, a free loopback port): appends in batches across bundle and tile boundaries,
 * reads, proofs, lookups and postings checked against an in-memory tree; reopening; the writer's
 * fencing token (a replaced writer cannot commit); a newer schema refused; rows altered in the
 * database caught on read and at open; a restart of the server under an idle ledger.
 */
#include "testutil.h"
#include "memtree.h"
#include "ledger_util.h"
#include "test_signer.h"
#include "pg_server.h"

#include <libpq-fe.h>
#include <pthread.h>

static pg_server server;

typedef struct fixture {
    test_signer ts;
    scitt_ledger_signer signer;
    scitt_ledger_config cfg;
    scitt_ledger *l;
    memtree tree;
} fixture;

/* Runs SQL on the test's database directly (as an attacker with access to it could). */
static void quiet(void *arg, const char *m)
{
    (void)arg;
    (void)m;
}

static void sql(const char *q)
{
    PGconn *c = PQconnectdb(server.url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s: %s\n", q, PQerrorMessage(c));
        fail();
    }
    PQclear(r);
    PQfinish(c);
}

/* The number of rows of @p table. */
static long count_rows(const char *table)
{
    PGconn *c = PQconnectdb(server.url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    char q[128];
    snprintf(q, sizeof(q), "SELECT count(*) FROM %s", table);
    PGresult *r = PQexec(c, q);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return n;
}

static int group_setup(void **state)
{
    (void)state;
    if (!pg_server_start(&server)) {
        pg_server_destroy(&server);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_server_destroy(&server);
    return 0;
}

static int setup(void **state)
{
    sql("DROP TABLE IF EXISTS scitt_schema, scitt_lease, scitt_meta, scitt_heads, scitt_times, "
        "scitt_tiles, scitt_bundles, scitt_recent, scitt_boffsets, scitt_imeta, scitt_ids, "
        "scitt_iss, scitt_sub, scitt_dig");
    fixture *f = calloc(1, sizeof(*f));
    ts_init(&f->ts, &f->signer);
    f->cfg.storage = server.url;
    f->cfg.signer = &f->signer;
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
    free(f);
    return 0;
}

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

/* Submits entries [from, to) concurrently (so they share batches) and waits for all. */
static void submit_many(scitt_ledger *l, uint64_t from, uint64_t to, scitt_ledger_result *res)
{
    size_t n = (size_t)(to - from);
    collect c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, res};
    slot *slots = calloc(n, sizeof(*slots));
    lu_entry *e = malloc(sizeof(*e));
    for (size_t i = 0; i < n; i++) {
        lu_make(e, from + i, 0);
        slots[i].c = &c;
        slots[i].i = i;
        assert_int_equal(scitt_ledger_submit(l, &e->sub_, on_done, &slots[i]), SCITT_OK);
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
    submit_many(f->l, from, to, res);
    lu_entry e;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(res[i].err, SCITT_OK);
        assert_false(res[i].duplicate);
        lu_make(&e, from + i, 0);
        assert_int_equal(memtree_append(&f->tree, e.sub_.leaf_hash), SCITT_OK);
    }
    free(res);
}

/* Everything a reader serves agrees with the in-memory tree. */
static void check_all(fixture *f)
{
    scitt_ledger_read *r;
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    uint64_t size = f->tree.compact.size;
    assert_int_equal(h.size, size);
    uint8_t root[32];
    scitt_merkle_compact_root(&f->tree.compact, root);
    assert_memory_equal(h.root, root, 32);
    assert_int_equal(ts_verify(&f->ts, &h), SCITT_OK);
    lu_entry e;
    for (uint64_t i = 0; i < size; i += 37) {
        lu_make(&e, i, 0);
        scitt_span got;
        assert_int_equal(scitt_ledger_entry(r, i, &got), SCITT_OK);
        assert_int_equal(got.len, e.len);
        assert_memory_equal(got.ptr, e.bytes, e.len);
        uint64_t at = UINT64_MAX;
        assert_int_equal(scitt_ledger_find(r, e.sub_.entry_id, &at), SCITT_OK);
        assert_int_equal(at, i);
        uint8_t path[64][32];
        size_t n = 0;
        assert_int_equal(scitt_ledger_inclusion_proof(r, i, size, path, &n), SCITT_OK);
        assert_int_equal(scitt_merkle_inclusion_verify(i, size, e.sub_.leaf_hash,
                                                       (const uint8_t(*)[32])path, n, root),
                         SCITT_OK);
    }
    if (size > 1) {
        uint8_t path[64][32];
        size_t n = 0;
        scitt_tree_head old;
        assert_int_equal(scitt_ledger_head_covering(r, 0, &old), SCITT_OK);
        if (old.size < size) {
            assert_int_equal(scitt_ledger_consistency_proof(r, old.size, size, path, &n), SCITT_OK);
            assert_int_equal(scitt_merkle_consistency_verify(old.size, size, old.root, root,
                                                             (const uint8_t(*)[32])path, n),
                             SCITT_OK);
        }
    }
    lu_make(&e, size + 1000, 0);
    uint64_t at;
    assert_int_equal(scitt_ledger_find(r, e.sub_.entry_id, &at), SCITT_ERR_NOT_FOUND);
    scitt_ledger_read_end(r);
}

static void pg_append_read_reopen(void **state)
{
    fixture *f = *state;
    /* across the first bundle (256) and tile boundary, in several batches */
    append_range(f, 0, 100);
    append_range(f, 100, 300);
    append_range(f, 300, 600);
    check_all(f);
    /* the two sealed bundles left `recent` (one range delete each): only the third's entries */
    assert_int_equal(count_rows("scitt_recent"), 600 - 512);
    assert_int_equal(count_rows("scitt_bundles"), 2);
    /* a duplicate is answered with the existing index */
    lu_entry e;
    lu_make(&e, 42, 0);
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_OK);
    assert_true(res.duplicate);
    assert_int_equal(res.index, 42);
    /* tiles and bundles as served */
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    scitt_span tile;
    assert_int_equal(scitt_ledger_tile(r, 0, 0, 256, &tile), SCITT_OK);
    assert_int_equal(tile.len, 256 * 32);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_ledger_entry_bundle(r, 1, 256, &b), SCITT_OK);
    assert_true(b.len > 256 * 2);
    scitt_dynbuf_clear(&b);
    scitt_ledger_read_end(r);
    /* reopen: the edge is rebuilt from the database and the root checked */
    scitt_ledger_close(f->l);
    f->l = NULL;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    append_range(f, 600, 700);
    check_all(f);
    /* the newest head as a service reads it before opening */
    scitt_tree_head h;
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    assert_int_equal(scitt_ledger_peek_latest_url(server.url, &h, &st), SCITT_OK);
    assert_int_equal(h.size, 700);
    assert_int_equal(ts_verify(&f->ts, &h), SCITT_OK);
    scitt_dynbuf_clear(&st);
}

/* A second writer takes the fencing token: the first can no longer commit anything. */
static void pg_fenced_writer(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 10);
    scitt_ledger *second;
    assert_int_equal(scitt_ledger_open(&f->cfg, &second), SCITT_OK);
    assert_int_equal(scitt_ledger_state(second), SCITT_OK);
    /* the first writer's next batch fails: nothing of it is stored or acknowledged */
    lu_entry e;
    lu_make(&e, 1000, 0);
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_ERR_STATE);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_STATE);
    assert_int_equal(scitt_ledger_submit(f->l, &e.sub_, on_done, NULL), SCITT_ERR_STATE);
    /* the second writer continues the same tree */
    lu_entry e2;
    lu_make(&e2, 10, 0);
    assert_int_equal(scitt_ledger_append(second, &e2.sub_, &res), SCITT_OK);
    assert_int_equal(res.index, 10);
    assert_int_equal(res.tree_size, 11);
    scitt_ledger_read *r;
    uint64_t at;
    assert_int_equal(scitt_ledger_read_begin(second, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_find(r, e.sub_.entry_id, &at), SCITT_ERR_NOT_FOUND);
    scitt_ledger_read_end(r);
    scitt_ledger_close(second);
}

static void pg_newer_schema_refused(void **state)
{
    fixture *f = *state;
    scitt_ledger_close(f->l);
    f->l = NULL;
    sql("UPDATE scitt_schema SET version = 99");
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_ERR_UNSUPPORTED);
    f->l = NULL;
}

/* The database is not trusted: an altered entry is not served, an altered tile fails the open. */
static void pg_altered_rows(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 300); /* one complete bundle, 44 entries in `recent` */
    scitt_ledger_read *r;
    scitt_span got;
    sql("UPDATE scitt_recent SET v = set_byte(v, 20, get_byte(v, 20) # 1) WHERE k = "
        "'\\x0000000000000101'::bytea");
    sql("UPDATE scitt_bundles SET v = set_byte(v, 30, get_byte(v, 30) # 1)");
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    assert_int_equal(scitt_ledger_entry(r, 257, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 0, &got), SCITT_ERR_CORRUPT);
    assert_int_equal(scitt_ledger_entry(r, 258, &got), SCITT_OK);
    scitt_ledger_read_end(r);
    /* an altered entry of the incomplete last bundle is not extended either */
    scitt_ledger_close(f->l);
    f->l = NULL;
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_INTEGRITY);
    scitt_ledger_close(f->l);
    f->l = NULL;
    sql("UPDATE scitt_recent SET v = set_byte(v, 20, get_byte(v, 20) # 1) WHERE k = "
        "'\\x0000000000000101'::bytea");
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    /* a node of the edge tile changed: the root no longer matches the signed head */
    scitt_ledger_close(f->l);
    f->l = NULL;
    sql("UPDATE scitt_tiles SET v = set_byte(v, 32 * 260, get_byte(v, 32 * 260) # 1) WHERE k = "
        "'\\x000000000000000001'::bytea");
    assert_int_equal(scitt_ledger_open(&f->cfg, &f->l), SCITT_OK);
    assert_int_equal(scitt_ledger_state(f->l), SCITT_ERR_INTEGRITY);
}

/* Reads @p index and compares it with the entry made for it (SCITT_OK) or returns the error. */
static scitt_err read_entry(fixture *f, uint64_t index)
{
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(f->l, &r), SCITT_OK);
    scitt_span got;
    scitt_err e = scitt_ledger_entry(r, index, &got);
    if (e == SCITT_OK) {
        lu_entry want;
        lu_make(&want, index, 0);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.ptr, want.bytes, want.len);
    }
    scitt_ledger_read_end(r);
    return e;
}

/*
 * An entry of a complete bundle is read alone (its slice of the bundle, found by the offsets
 * record): the first, the last and any entry come back whole, and offsets the database altered
 * (out of order, pointing at another entry, cut short, or with the bundle gone) are refused.
 */
static void pg_entry_slices(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 600); /* two complete bundles, 88 entries in `recent` */
    static const uint64_t probe[] = {0, 1, 127, 254, 255, 256, 257, 511, 512, 599};
    for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
        assert_int_equal(read_entry(f, probe[i]), SCITT_OK);
    }
    /* entry 5's offset made that of entry 6: the bytes read are another entry's */
    sql("UPDATE scitt_boffsets SET v = overlay(v PLACING substring(v FROM 25 FOR 4) FROM 21 FOR 4) "
        "WHERE k = '\\x0000000000000000'::bytea");
    assert_int_equal(read_entry(f, 5), SCITT_ERR_CORRUPT);
    assert_int_equal(read_entry(f, 4), SCITT_ERR_CORRUPT); /* now runs into entry 6 */
    assert_int_equal(read_entry(f, 7), SCITT_OK);
    /* entry 9's offset past entry 10's: out of order */
    sql("UPDATE scitt_boffsets SET v = overlay(v PLACING '\\x7fffff00'::bytea FROM 37 FOR 4) "
        "WHERE k = '\\x0000000000000000'::bytea");
    assert_int_equal(read_entry(f, 9), SCITT_ERR_CORRUPT);
    /* the last entry's offset past the end of the bundle */
    sql("UPDATE scitt_boffsets SET v = overlay(v PLACING '\\x00ffffff'::bytea FROM 1021 FOR 4) "
        "WHERE k = '\\x0000000000000001'::bytea");
    assert_int_equal(read_entry(f, 511), SCITT_ERR_CORRUPT);
    assert_int_equal(read_entry(f, 300), SCITT_OK);
    /* offsets cut short */
    sql("UPDATE scitt_boffsets SET v = substring(v FROM 1 FOR 1000) WHERE k = "
        "'\\x0000000000000001'::bytea");
    assert_int_equal(read_entry(f, 300), SCITT_ERR_CORRUPT);
    /* offsets whose bundle is gone */
    sql("DELETE FROM scitt_bundles WHERE k = '\\x0000000000000001'::bytea");
    assert_int_equal(read_entry(f, 300), SCITT_ERR_CORRUPT);
    /* the incomplete last bundle is read as before */
    assert_int_equal(read_entry(f, 599), SCITT_OK);
}

/* The database restarts under an idle ledger: its pooled connections are dead, it reconnects. */
static void pg_server_restarted(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 20);
    pg_server_stop(&server, "fast");
    assert_true(pg_server_start(&server));
    /* an index write cut by the stop refuses writes until the indexer's retry (every 0.5 s)
     * goes through on a new connection */
    for (int i = 0; i < 100 && scitt_ledger_state(f->l) != SCITT_OK; i++) {
        usleep(100000);
    }
    assert_int_equal(scitt_ledger_state(f->l), SCITT_OK);
    append_range(f, 20, 40);
    check_all(f);
}

/* A writer replaced while its connections were new ones (the server restarted): its next
 * batch, whose fence is prepared on a new connection, is refused as fenced (SCITT_ERR_STATE),
 * not as an I/O error. */
static void pg_fenced_new_connection(void **state)
{
    fixture *f = *state;
    append_range(f, 0, 10);
    pg_server_stop(&server, "fast");
    assert_true(pg_server_start(&server));
    for (int i = 0; i < 100 && scitt_ledger_state(f->l) != SCITT_OK; i++) {
        usleep(100000);
    }
    scitt_ledger *second;
    assert_int_equal(scitt_ledger_open(&f->cfg, &second), SCITT_OK);
    lu_entry e;
    lu_make(&e, 1000, 0);
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(f->l, &e.sub_, &res), SCITT_ERR_STATE);
    lu_make(&e, 10, 0);
    assert_int_equal(scitt_ledger_append(second, &e.sub_, &res), SCITT_OK);
    assert_int_equal(res.index, 10);
    scitt_ledger_close(second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pg_append_read_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_fenced_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_altered_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_entry_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_server_restarted, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_fenced_new_connection, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
