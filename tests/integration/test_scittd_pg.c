/*
 * scittd with its log in PostgreSQL (--storage postgresql://...), against a real server the test
 * starts (tests/pg_server.h):
 *  - pg_register: registrations answered 201 with receipts that verify, a restart that continues
 *    the same tree with the same keys;
 *  - pg_fenced (--lease-ms 0): the instance started last takes the fencing token: the other can
 *    no longer append (503, /healthz 503, its statement not in the log), still serves reads, and
 *    both sign with the same service keys (the keystore file copied to the second instance);
 *  - pg_follower: with the lease, a second instance follows: registrations through it are
 *    sequenced by the first (the same 201 and receipt); a queued row the database made up (no
 *    valid MAC) is refused, never appended; the leader stopped (SIGSTOP) past its lease is
 *    replaced, and once woken it cannot append: what it is sent goes to the new leader;
 *  - pg_failover: the multi-instance crash test (below);
 *  - pg_rollback: the database restored from an old dump: the service refuses to sign, with a log
 *    line and an unhealthy /healthz, on a running instance and on a restarted one.
 *
 * Run as `test_scittd_pg <case>`.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>

#include "crash_load.h"
#include "pg_server.h"

static pg_server pg, sb; /* sb: the standby of pg_standby_* */
static sd_daemon a, b, c3;
static sd_issuer alice;

static int setup(void **state)
{
    (void)state;
    memset(&pg, 0, sizeof(pg));
    if (!pg_server_start(&pg)) {
        pg_server_destroy(&pg);
        fail_msg("cannot start PostgreSQL for the test");
    }
    sd_init(&a);
    sd_init(&b);
    sd_init(&c3);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&a, "policy.json"), list, 1, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    if (a.srv.pid > 0) {
        kill(a.srv.pid, SIGCONT); /* a case that failed while it was stopped */
    }
    int st = sd_teardown(&a);
    int st2 = sd_teardown(&b);
    (void)sd_teardown(&c3);
    pg_server_destroy(&pg);
    pg_server_destroy(&sb);
    assert_int_equal(st, 0);
    assert_int_equal(st2, 0);
    return 0;
}

/* The lease of the instances of these tests (shorter than the default: quicker takeovers). */
#define LEASE_MS "1000"

static void start(sd_daemon *d)
{
    const char *args[] = {
        "--policy", sd_path(&a, "policy.json"), "--storage", pg.url, "--lease-ms", LEASE_MS, NULL};
    sd_start(d, args);
}

static void start_fenced(sd_daemon *d)
{
    const char *args[] = {
        "--policy", sd_path(&a, "policy.json"), "--storage", pg.url, "--lease-ms", "0", NULL};
    sd_start(d, args);
}

static void statements(const char *tag, scitt_dynbuf *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char sub[64];
        snprintf(sub, sizeof(sub), "pkg:%s@%zu", tag, i);
        sd_statement(&alice, sub, "{\"build\": 1}", &st[i]);
    }
}

static void free_statements(scitt_dynbuf *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
}

/* GET /entries/{id} of @p stmt from @p d: its status (polled up to 5 s while it is 404). */
static int receipt_status(const sd_daemon *d, scitt_span stmt, const scitt_cose_keyset *keys)
{
    scitt_dynbuf entry;
    char id[65], path[128];
    sd_entry(stmt, &entry, id);
    scitt_dynbuf_clear(&entry);
    snprintf(path, sizeof(path), "/entries/%s", id);
    double until = it_now() + 5;
    for (;;) {
        it_resp *r = sd_get(d, path);
        int status = r->status;
        if (status == 200) {
            sd_verify_receipt(sd_body(r), stmt, keys, NULL);
        }
        free(r);
        if (status != 404 || it_now() > until) {
            return status;
        }
        it_sleep_ms(50);
    }
}

static void test_pg_register(void **state)
{
    (void)state;
    start(&a);
    scitt_cose_keyset *keys = sd_keys(&a);
    enum { N = 40 };
    scitt_dynbuf st[N + 1];
    statements("a", st, N + 1);
    uint64_t index[N];
    sd_register_many(&a, keys, st, N, index);
    for (size_t i = 0; i < N; i++) {
        assert_true(index[i] >= 1 && index[i] <= N); /* the policy is entry 0 */
    }
    sd_config cfg;
    sd_get_config(&a, &cfg);
    sd_checkpoint cp;
    sd_get_checkpoint(&a, &cfg, &cp);
    assert_int_equal(cp.cp.size, N + 1);
    /* a restart continues the same tree with the same keys, from the database */
    sd_stop(&a);
    start(&a);
    scitt_cose_keyset *again = sd_keys(&a);
    scitt_receipt_info info;
    scitt_span last = scitt_span_make(st[N].ptr, st[N].len);
    assert_int_equal(sd_register(&a, keys, last, &info, NULL), N + 1);
    assert_int_equal(info.tree_size, N + 2);
    assert_int_equal(receipt_status(&a, scitt_span_make(st[0].ptr, st[0].len), keys), 200);
    scitt_cose_keyset_free(again);
    scitt_cose_keyset_free(keys);
    free_statements(st, N + 1);
}

static void test_pg_fenced(void **state)
{
    (void)state;
    start_fenced(&a);
    scitt_cose_keyset *keys = sd_keys(&a);
    scitt_dynbuf st[7];
    statements("f", st, 7);
    sd_register_many(&a, keys, st, 5, NULL);
    /* the second instance shares the service keys (virtual platform: the keystore file) */
    assert_int_equal(mkdir(b.data, 0700), 0);
    char from[256], to[256];
    snprintf(from, sizeof(from), "%s/service-keys", a.data);
    snprintf(to, sizeof(to), "%s/service-keys", b.data);
    sd_copy_file(from, to);
    start_fenced(&b);
    /* it took the fencing token: the first instance cannot append any more */
    scitt_span x = scitt_span_make(st[5].ptr, st[5].len);
    /* Every attempt is refused. The first may fail on the second instance's start still holding
     * a lock (a retryable 503) rather than on the fence; by the next the instance knows it was
     * deposed and says so at /healthz. */
    int health = 200;
    for (int attempt = 0; attempt < 5 && health != 503; attempt++) {
        it_resp *r = sd_post(&a, x, NULL);
        assert_int_equal(r->status, 503);
        free(r);
        r = sd_get(&a, "/healthz");
        health = r->status;
        free(r);
    }
    assert_int_equal(health, 503);
    /* the second continues the same tree, signing with the same keys */
    scitt_receipt_info info;
    scitt_span y = scitt_span_make(st[6].ptr, st[6].len);
    assert_int_equal(sd_register(&b, keys, y, &info, NULL), 6);
    assert_int_equal(info.tree_size, 7);
    /* the first still serves reads from the database, the second's entries too */
    assert_int_equal(receipt_status(&a, y, keys), 200);
    assert_int_equal(receipt_status(&a, scitt_span_make(st[0].ptr, st[0].len), keys), 200);
    /* the refused statement is in the log of neither */
    assert_int_equal(receipt_status(&b, x, keys), 404);
    scitt_cose_keyset_free(keys);
    free_statements(st, 7);
}

/* ---- several instances ------------------------------------------------------------------- */

/* The database the checks read (NULL: the test's server; the promoted standby in pg_standby). */
static const char *db_url;

static PGconn *db_connect(void)
{
    PGconn *c = PQconnectdb(db_url ? db_url : pg.url);
    if (PQstatus(c) != CONNECTION_OK) {
        fail_msg("cannot connect to the test's PostgreSQL: %s", PQerrorMessage(c));
    }
    return c;
}

/* The first column of the first row of @p q as text ("" and false when there is none). */
static bool db_value(const char *q, char *out, size_t cap)
{
    PGconn *c = db_connect();
    PGresult *r = PQexec(c, q);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        fail_msg("%s: %s", q, PQresultErrorMessage(r));
    }
    snprintf(out, cap, "%s", ok ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
    return ok;
}

static void db_exec(const char *q)
{
    char out[8];
    (void)db_value(q, out, sizeof(out));
}

/* The virtual platform's keystore copied from @p from (instances share the service keys). */
static void share_keys(const sd_daemon *from, const sd_daemon *to)
{
    if (mkdir(to->data, 0700) != 0) {
        assert_int_equal(errno, EEXIST);
    }
    char src[256], dst[256];
    snprintf(src, sizeof(src), "%s/service-keys", from->data);
    snprintf(dst, sizeof(dst), "%s/service-keys", to->data);
    sd_copy_file(src, dst);
}

/* The pid named by an unexpired lease (0: none). */
static pid_t lease_pid(void)
{
    char holder[320];
    if (!db_value("SELECT holder FROM scitt_lease WHERE id = 1 AND expires > now()", holder,
                  sizeof(holder))) {
        return 0;
    }
    const char *colon = strrchr(holder, ':');
    return colon ? (pid_t)atol(colon + 1) : 0;
}

/* Waits up to @p s seconds for @p want to hold the lease; true when it does. */
static bool wait_holder(const sd_daemon *want, double s)
{
    double until = it_now() + s;
    while (lease_pid() != want->srv.pid) {
        if (it_now() > until) {
            return false;
        }
        it_sleep_ms(20);
    }
    return true;
}

/* Which of @p d holds the lease, waiting up to @p s seconds for one to (NULL: none did). */
static sd_daemon *wait_leader(sd_daemon *const *d, size_t n, double s)
{
    double until = it_now() + s;
    for (;;) {
        pid_t pid = lease_pid();
        for (size_t i = 0; pid > 0 && i < n; i++) {
            if (d[i]->srv.pid == pid) {
                return d[i];
            }
        }
        if (it_now() > until) {
            return NULL;
        }
        it_sleep_ms(20);
    }
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    }
}

static void test_pg_follower(void **state)
{
    (void)state;
    start(&a);
    scitt_cose_keyset *keys = sd_keys(&a);
    enum { N = 12 };
    scitt_dynbuf st[N];
    statements("w", st, N);
    sd_register_many(&a, keys, st, 3, NULL);
    share_keys(&a, &b);
    start(&b);
    sd_daemon *both[] = {&a, &b};
    assert_ptr_equal(wait_leader(both, 2, 5), &a);
    /* through the follower: sequenced by the leader, the same 201 and receipt */
    scitt_receipt_info info;
    for (size_t i = 3; i < 6; i++) {
        assert_int_equal(sd_register(&b, keys, scitt_span_make(st[i].ptr, st[i].len), &info, NULL),
                         i + 1);
        assert_int_equal(info.tree_size, i + 2);
    }
    /* the same statement again through the other instance: its index, no new entry */
    assert_int_equal(sd_register(&a, keys, scitt_span_make(st[4].ptr, st[4].len), &info, NULL), 5);

    /* A row the database made up (no MAC under the service's key) is refused, never appended. */
    scitt_dynbuf entry;
    char id[65];
    sd_entry(scitt_span_make(st[6].ptr, st[6].len), &entry, id);
    uint8_t rec[66], digest[32];
    memset(rec, 0, sizeof(rec));
    rec[0] = 1;
    scitt_sha256(entry.ptr, entry.len, digest);
    memcpy(rec + 1, digest, 32);
    size_t qlen = 400 + 2 * entry.len + 2 * sizeof(rec);
    char *q = malloc(qlen), *ehex = malloc(2 * entry.len + 1), rhex[2 * sizeof(rec) + 1];
    hex_of(entry.ptr, entry.len, ehex);
    hex_of(rec, sizeof(rec), rhex);
    snprintf(q, qlen,
             "INSERT INTO scitt_queue (policy, rec, entry, mac) VALUES (0, '\\x%s', '\\x%s', "
             "'\\x%064d') RETURNING id",
             rhex, ehex, 7);
    char qid[32];
    assert_true(db_value(q, qid, sizeof(qid)));
    db_exec("NOTIFY scitt_queue");
    snprintf(q, qlen, "SELECT err FROM scitt_queue WHERE id = %s AND err IS NOT NULL", qid);
    char err[32] = "";
    double until = it_now() + 5;
    while (!db_value(q, err, sizeof(err)) && it_now() < until) {
        it_sleep_ms(20);
    }
    assert_int_equal(atoi(err), (int)SCITT_ERR_INTEGRITY);
    assert_int_equal(receipt_status(&a, scitt_span_make(st[6].ptr, st[6].len), keys), 404);
    free(q);
    free(ehex);
    scitt_dynbuf_clear(&entry);

    /* The leader stopped past its lease: the follower takes over, continues the tree. */
    double t0 = it_now();
    assert_int_equal(kill(a.srv.pid, SIGSTOP), 0);
    bool took_over = wait_holder(&b, 10);
    double took = it_now() - t0;
    if (!took_over) {
        kill(a.srv.pid, SIGCONT);
        fail_msg("the follower did not take over within 10 s");
    }
    print_message("pg_follower: takeover after %.2f s (lease " LEASE_MS " ms)\n", took);
    assert_true(took < 5.0);
    assert_int_equal(sd_register(&b, keys, scitt_span_make(st[7].ptr, st[7].len), &info, NULL), 7);
    /* woken, the old leader cannot append: what it is sent goes to the new one */
    assert_int_equal(kill(a.srv.pid, SIGCONT), 0);
    assert_int_equal(sd_register(&a, keys, scitt_span_make(st[8].ptr, st[8].len), &info, NULL), 8);
    assert_int_equal(info.tree_size, 9);
    assert_ptr_equal(wait_leader(both, 2, 1), &b);
    it_resp *r = sd_get(&a, "/healthz");
    assert_int_equal(r->status, 200);
    free(r);
    sd_checkpoint cp;
    sd_expect_intact(&a, &cp);
    assert_int_equal(cp.cp.size, 9);
    scitt_cose_keyset_free(keys);
    free_statements(st, N);
}

/*
 * The multi-instance crash test: three instances on one database, a client registering through
 * each, the leader SIGKILLed at a random moment under load in every round (SCITT_PG_KILLS rounds,
 * default 10). After each round (the killed instance restarted as a follower):
 *  - every acknowledged entry is in the log at its acknowledged index, byte for byte, and its
 *    receipt verifies with the keys the service publishes;
 *  - the entries read back hash, at every tree size any client saw in a receipt or a checkpoint,
 *    to the root it saw there, and so does every signed head stored in the database: every head
 *    is consistent with every later one, and no size was signed with two roots;
 *  - the log holds no entry twice.
 * Failover time (kill to the next 201) is printed.
 */
typedef struct pgc_head {
    uint64_t size;
    uint8_t root[32];
} pgc_head;

static int cmp_double(const void *x, const void *y)
{
    double p = *(const double *)x, q = *(const double *)y;
    return p < q ? -1 : p > q;
}

static int cmp_pgc(const void *x, const void *y)
{
    const pgc_head *p = x, *q = y;
    return p->size < q->size ? -1 : p->size > q->size;
}

static void failover_check(sd_daemon *d, sd_config *cfg)
{
    scitt_cose_keyset *keys = sd_keys(d);
    sd_checkpoint now;
    sd_get_checkpoint(d, cfg, &now);
    uint64_t n = now.cp.size;
    it_conn *c = sd_connect(d);
    sd_log lc;
    sd_read_log(c, n, &lc);
    it_close(c);
    assert_memory_equal(lc.id[n], now.cp.root, 32);
    /* every head any client saw, and every head stored, against the entries */
    PGconn *db = db_connect();
    PGresult *r =
        PQexecParams(db, "SELECT k, v FROM scitt_heads ORDER BY k", 0, NULL, NULL, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    size_t nstored = (size_t)PQntuples(r);
    size_t total = CL.nheads + nstored + 1;
    pgc_head *h = calloc(total, sizeof(*h));
    size_t k = 0;
    for (size_t i = 0; i < CL.nheads; i++, k++) {
        h[k].size = CL.heads[i].size;
        memcpy(h[k].root, CL.heads[i].root, 32);
    }
    for (size_t i = 0; i < nstored; i++, k++) {
        const uint8_t *key = (const uint8_t *)PQgetvalue(r, (int)i, 0);
        const uint8_t *val = (const uint8_t *)PQgetvalue(r, (int)i, 1);
        assert_int_equal(PQgetlength(r, (int)i, 0), 8);
        assert_true(PQgetlength(r, (int)i, 1) > 33);
        for (int j = 0; j < 8; j++) {
            h[k].size = h[k].size << 8 | key[j];
        }
        memcpy(h[k].root, val + 1, 32);
    }
    h[k].size = n;
    memcpy(h[k].root, now.cp.root, 32);
    k++;
    PQclear(r);
    PQfinish(db);
    qsort(h, k, sizeof(*h), cmp_pgc);
    scitt_merkle_compact mc;
    scitt_merkle_compact_init(&mc);
    uint64_t at = 0;
    for (size_t i = 0; i < k; i++) {
        if (h[i].size > n) {
            fail_msg("a head of size %llu was seen; the log has %llu",
                     (unsigned long long)h[i].size, (unsigned long long)n);
        }
        while (at < h[i].size) {
            uint8_t leaf[32];
            scitt_merkle_leaf_hash(scitt_span_make(lc.bytes.ptr + lc.off[at], lc.len[at]), leaf);
            assert_int_equal(scitt_merkle_compact_append(&mc, leaf, NULL, NULL), SCITT_OK);
            at++;
        }
        uint8_t root[32];
        scitt_merkle_compact_root(&mc, root);
        if (h[i].size > 0 && memcmp(root, h[i].root, 32) != 0) {
            fail_msg("the head of size %llu is not consistent with the log (a fork)",
                     (unsigned long long)h[i].size);
        }
    }
    free(h);
    CL.nheads = 0;
    /* every acknowledged entry at its index, its receipt verifying */
    for (size_t i = 0; i < CL.nacks; i++) {
        const cl_ack *ak = &CL.acks[i];
        if (ak->index >= n) {
            fail_msg("entry acknowledged at %llu is gone: the log has %llu",
                     (unsigned long long)ak->index, (unsigned long long)n);
        }
        if (lc.len[ak->index] != ak->entry_len ||
            memcmp(lc.bytes.ptr + lc.off[ak->index], ak->entry, ak->entry_len) != 0) {
            fail_msg("index %llu does not hold the entry acknowledged there",
                     (unsigned long long)ak->index);
        }
        scitt_receipt_info info;
        assert_int_equal(
            scitt_receipt_verify_inclusion(scitt_span_make(ak->receipt, ak->receipt_len),
                                           scitt_span_make(ak->entry, ak->entry_len), keys,
                                           SD_VERIFY_FLAGS, &info),
            SCITT_OK);
        assert_int_equal(info.leaf_index, ak->index);
    }
    qsort(lc.id, n, 32, sd_cmp_id);
    for (uint64_t i = 1; i < n; i++) {
        if (memcmp(lc.id[i - 1], lc.id[i], 32) == 0) {
            fail_msg("an entry occurs twice in a log of %llu", (unsigned long long)n);
        }
    }
    sd_log_free(&lc);
    scitt_cose_keyset_free(keys);
}

#define PG_CLIENTS 3

static void test_pg_failover(void **state)
{
    (void)state;
    const char *env = getenv("SCITT_PG_KILLS");
    unsigned rounds = env ? (unsigned)atoi(env) : 10;
    uint64_t rng = (uint64_t)time(NULL) * 2654435761u | 1;
    print_message("pg_failover: seed %llu\n", (unsigned long long)rng);
    sd_issuer issuers[PG_CLIENTS];
    cl_client clients[PG_CLIENTS];
    memset(clients, 0, sizeof(clients));
    const sd_issuer *list[PG_CLIENTS + 1];
    for (unsigned i = 0; i < PG_CLIENTS; i++) {
        char iss[64];
        snprintf(iss, sizeof(iss), "https://client%u.example", i);
        sd_issuer_init(&issuers[i], SCITT_COSE_ALG_ES256, iss);
        list[i] = &issuers[i];
    }
    list[PG_CLIENTS] = &alice;
    sd_write_policy(sd_path(&a, "policy.json"), list, PG_CLIENTS + 1, NULL);
    sd_daemon *inst[3] = {&a, &b, &c3};
    start(&a);
    share_keys(&a, &b);
    share_keys(&a, &c3);
    start(&b);
    start(&c3);
    scitt_cose_keyset *keys = sd_keys(&a);
    sd_config cfg;
    sd_get_config(&a, &cfg);
    memset(&CL, 0, sizeof(CL));
    pthread_mutex_init(&CL.mu, NULL);
    CL.keys = keys;
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(cfg.vkey), &CL.vkey), SCITT_OK);
    snprintf(CL.origin, sizeof(CL.origin), "%s", cfg.origin);
    double worst = 0, sum = 0, t_start = it_now();
    double *times = calloc(rounds ? rounds : 1, sizeof(*times));
    assert_non_null(times);
    for (unsigned round = 0; round < rounds; round++) {
        CL.round = round;
        atomic_store(&CL.stop, false);
        atomic_store(&CL.round_acks, 0);
        for (unsigned i = 0; i < PG_CLIENTS; i++) {
            clients[i].id = i;
            clients[i].issuer = issuers[i];
            clients[i].depth = 4;
            clients[i].rng = rng + i + 1 + round * 7919u;
            clients[i].port = inst[i]->port;
            clients[i].sent = clients[i].answered = 0;
            assert_int_equal(pthread_create(&clients[i].thread, NULL, cl_main, &clients[i]), 0);
        }
        double until = it_now() + 20;
        while (atomic_load(&CL.round_acks) < 10 && it_now() < until) {
            it_sleep_ms(5);
        }
        assert_true(atomic_load(&CL.round_acks) >= 10);
        it_sleep_ms((int)(cl_rand(&rng) % 400));
        sd_daemon *leader = wait_leader(inst, 3, 5);
        assert_non_null(leader);
        pid_t pid = leader->srv.pid;
        double t_kill = it_now();
        assert_int_equal(kill(pid, SIGKILL), 0);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        leader->srv.pid = 0;
        size_t before = atomic_load(&CL.round_acks);
        /* the next 201s come through the survivors, from the instance that took over */
        until = it_now() + 15;
        while (atomic_load(&CL.round_acks) < before + 3 && it_now() < until) {
            it_sleep_ms(2);
        }
        double took = it_now() - t_kill;
        if (atomic_load(&CL.round_acks) < before + 3) {
            fail_msg("round %u: no registration acknowledged within 15 s of the kill", round);
        }
        worst = took > worst ? took : worst;
        sum += took;
        times[round] = took;
        atomic_store(&CL.stop, true);
        for (unsigned i = 0; i < PG_CLIENTS; i++) {
            pthread_join(clients[i].thread, NULL);
        }
        if (CL.violation[0]) {
            fail_msg("round %u: %s", round, CL.violation);
        }
        start(leader); /* back as a follower */
        sd_daemon *now = wait_leader(inst, 3, 5);
        assert_non_null(now);
        failover_check(now, &cfg);
    }
    print_message("pg_failover: %u kills, %zu acknowledged, failover (kill to the next 201) mean "
                  "%.2f s, worst %.2f s (lease " LEASE_MS " ms), %.1f s in all\n",
                  rounds, CL.nacks, rounds ? sum / rounds : 0, worst, it_now() - t_start);
    /* for bench/failover.sh */
    qsort(times, rounds, sizeof(*times), cmp_double);
    print_message("failover_kills: %u\nfailover_lease: " LEASE_MS " ms\nfailover_p50: %.3f s\n"
                  "failover_max: %.3f s\n",
                  rounds, rounds ? times[rounds / 2] : 0, worst);
    free(times);
    assert_true(worst < 5.0);
    for (size_t i = 0; i < CL.nacks; i++) {
        free(CL.acks[i].entry);
        free(CL.acks[i].receipt);
    }
    free(CL.acks);
    free(CL.heads);
    pthread_mutex_destroy(&CL.mu);
    for (unsigned i = 0; i < PG_CLIENTS; i++) {
        sd_issuer_clear(&issuers[i]);
    }
    scitt_cose_keyset_free(keys);
}

/*
 * PostgreSQL's own failover (pg_standby_sync, pg_standby_async): a streaming standby made with
 * pg_basebackup, scittd on the primary under load (two clients registering, pipelined), every
 * process of the primary SIGKILLed at a random moment, the standby promoted (pg_ctl promote).
 * scittd's --storage names both servers with target_session_attrs=read-write, so libpq finds
 * the promoted one; scittd is restarted only when it does not come back by itself within 5 s
 * (docs/ha.md: it refuses writes when the database was unreachable as it reloaded its state).
 * Then the dead primary is rebuilt as a standby of the new one (on its old port) and the next
 * round kills the new primary (SCITT_PG_STANDBY_ROUNDS rounds, default 3).
 *  - synchronous (synchronous_standby_names = '*', synchronous_commit = on): after each round,
 *    every acknowledged entry is in the promoted database's log at its index with a receipt that
 *    verifies, every head any client saw and every stored head hash to the entries read back
 *    (no fork), no entry twice, and registrations continue the tree;
 *  - asynchronous: the acknowledged entries missing from the promoted database are counted and
 *    printed (docs/ha.md); the service must not sign a fork: when the promoted database lacks
 *    anything the instance signed, it refuses to sign (/healthz 503, registrations 503) and the
 *    round ends there; otherwise the round is checked as the synchronous one.
 */
/* The first column of the first row of @p q on @p s ("" when none). */
static void sql_on(const pg_server *s, const char *q, char *out, size_t cap)
{
    PGconn *c = PQconnectdb(s->url);
    if (PQstatus(c) != CONNECTION_OK) {
        fail_msg("cannot connect to %s: %s", s->url, PQerrorMessage(c));
    }
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        fail_msg("%s: %s", q, PQresultErrorMessage(r));
    }
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0);
    snprintf(out, cap, "%s", ok ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
}

/* Makes @p standby a streaming standby of @p primary and waits until the primary reports it
 * streaming, as a synchronous standby when @p sync. */
static void standby_up(pg_server *standby, pg_server *primary, bool sync)
{
    char out[64];
    if (!pg_server_standby(standby, primary)) {
        fail_msg("cannot make a standby with pg_basebackup");
    }
    /* set after the base backup: the standby, once promoted, has no standby to wait for */
    sql_on(primary,
           sync ? "ALTER SYSTEM SET synchronous_standby_names = '*'"
                : "ALTER SYSTEM RESET synchronous_standby_names",
           out, sizeof(out));
    sql_on(primary, "ALTER SYSTEM SET synchronous_commit = on", out, sizeof(out));
    sql_on(primary, "SELECT pg_reload_conf()", out, sizeof(out));
    double until = it_now() + 30;
    for (;;) {
        sql_on(primary, "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'", out,
               sizeof(out));
        if (strcmp(out, sync ? "sync" : "async") == 0) {
            break;
        }
        if (it_now() > until) {
            fail_msg("the standby is not streaming as %s (\"%s\")", sync ? "sync" : "async", out);
        }
        it_sleep_ms(20);
    }
}

/* scittd on @p url without waiting for /healthz (it may refuse to sign). */
static void spawn_on(sd_daemon *d, const char *url)
{
    const char *argv[] = {sd_bin(),
                          "--data",
                          d->data,
                          "--listen",
                          "127.0.0.1:0",
                          "--platform",
                          "virtual",
                          "--insecure-virtual",
                          "--print-ports",
                          "--log-level",
                          "warn",
                          "--policy",
                          sd_path(&a, "policy.json"),
                          "--storage",
                          url,
                          "--lease-ms",
                          LEASE_MS,
                          NULL};
    char line[128];
    it_spawn_ready(&d->srv, argv, line, sizeof(line));
    assert_int_equal(sscanf(line, "READY port=%d", &d->port), 1);
}

static void start_on(sd_daemon *d, const char *url)
{
    const char *args[] = {"--policy",    sd_path(&a, "policy.json"),
                          "--storage",   url,
                          "--lease-ms",  LEASE_MS,
                          "--log-level", "info",
                          NULL};
    sd_start(d, args);
}

/* /healthz 200 within @p s seconds. */
static bool healthy_within(const sd_daemon *d, double s)
{
    double until = it_now() + s;
    while (sd_probe(d, "/healthz", 1000) != 0) {
        if (it_now() > until) {
            return false;
        }
        it_sleep_ms(50);
    }
    return true;
}

/* The acknowledged entries the log served by @p d lacks (not at their acknowledged index). */
static size_t count_lost(sd_daemon *d, sd_config *cfg, uint64_t *size)
{
    sd_checkpoint now;
    sd_get_checkpoint(d, cfg, &now);
    uint64_t n = now.cp.size;
    it_conn *c = sd_connect(d);
    sd_log lc;
    sd_read_log(c, n, &lc);
    it_close(c);
    size_t lost = 0;
    for (size_t i = 0; i < CL.nacks; i++) {
        const cl_ack *ak = &CL.acks[i];
        if (ak->index >= n || lc.len[ak->index] != ak->entry_len ||
            memcmp(lc.bytes.ptr + lc.off[ak->index], ak->entry, ak->entry_len) != 0) {
            lost++;
        }
    }
    sd_log_free(&lc);
    *size = n;
    return lost;
}

#define SB_CLIENTS 2

/* A client that connects again when scittd closed its connection (an error answered with
 * Connection: close while the database was out of reach), until told to stop. */
static void *sb_client_main(void *arg)
{
    while (!atomic_load(&CL.stop)) {
        (void)cl_main(arg);
        if (!atomic_load(&CL.stop)) {
            it_sleep_ms(50);
        }
    }
    return NULL;
}

static void run_load(cl_client *clients, sd_issuer *issuers, unsigned round, uint64_t rng)
{
    CL.round = round;
    CL.port = a.port;
    atomic_store(&CL.stop, false);
    atomic_store(&CL.round_acks, 0);
    for (unsigned i = 0; i < SB_CLIENTS; i++) {
        memset(&clients[i], 0, sizeof(clients[i]));
        clients[i].id = i;
        clients[i].issuer = issuers[i];
        clients[i].depth = 4;
        clients[i].rng = rng + i + 1 + round * 7919u;
        clients[i].port = a.port;
        assert_int_equal(pthread_create(&clients[i].thread, NULL, sb_client_main, &clients[i]), 0);
    }
}

static void stop_load(cl_client *clients, unsigned round)
{
    atomic_store(&CL.stop, true);
    for (unsigned i = 0; i < SB_CLIENTS; i++) {
        pthread_join(clients[i].thread, NULL);
    }
    if (CL.violation[0]) {
        fail_msg("round %u: %s", round, CL.violation);
    }
}

static void standby_failover(bool sync)
{
    const char *mode = sync ? "pg_standby_sync" : "pg_standby_async";
    const char *env = getenv("SCITT_PG_STANDBY_ROUNDS");
    unsigned rounds = env ? (unsigned)atoi(env) : 3;
    uint64_t rng = (uint64_t)time(NULL) * 2654435761u | 1;
    print_message("%s: seed %llu\n", mode, (unsigned long long)rng);
    sd_issuer issuers[SB_CLIENTS];
    cl_client clients[SB_CLIENTS];
    const sd_issuer *list[SB_CLIENTS + 1];
    for (unsigned i = 0; i < SB_CLIENTS; i++) {
        char iss[64];
        snprintf(iss, sizeof(iss), "https://client%u.example", i);
        sd_issuer_init(&issuers[i], SCITT_COSE_ALG_ES256, iss);
        list[i] = &issuers[i];
    }
    list[SB_CLIENTS] = &alice;
    sd_write_policy(sd_path(&a, "policy.json"), list, SB_CLIENTS + 1, NULL);

    memset(&sb, 0, sizeof(sb));
    sb.port = pg__free_port();
    pg_server *srv[2] = {&pg, &sb};
    standby_up(&sb, &pg, sync);
    char url[300];
    snprintf(
        url, sizeof(url),
        "postgresql://scitt@127.0.0.1:%d,127.0.0.1:%d/postgres?target_session_attrs=read-write",
        pg.port, sb.port);
    start_on(&a, url);
    scitt_cose_keyset *keys = sd_keys(&a);
    sd_config cfg;
    sd_get_config(&a, &cfg);
    memset(&CL, 0, sizeof(CL));
    pthread_mutex_init(&CL.mu, NULL);
    CL.keys = keys;
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(cfg.vkey), &CL.vkey), SCITT_OK);
    snprintf(CL.origin, sizeof(CL.origin), "%s", cfg.origin);

    unsigned cur = 0, restarts = 0, refused = 0;
    size_t lost_total = 0, nkills = 0;
    double *times = calloc(rounds ? rounds : 1, sizeof(*times));
    assert_non_null(times);
    double t_start = it_now();
    for (unsigned round = 0; round < rounds; round++) {
        pg_server *primary = srv[cur], *standby = srv[1 - cur];
        run_load(clients, issuers, round, rng);
        double until = it_now() + 20;
        while (atomic_load(&CL.round_acks) < 20 && it_now() < until) {
            it_sleep_ms(5);
        }
        assert_true(atomic_load(&CL.round_acks) >= 20);
        it_sleep_ms((int)(cl_rand(&rng) % 300));
        double t_kill = it_now();
        if (!pg_server_kill(primary)) {
            fail_msg("round %u: cannot kill the primary", round);
        }
        if (!pg_server_promote(standby)) {
            fail_msg("round %u: pg_ctl promote failed", round);
        }
        /* counted once the standby is promoted: 201s for commits the dead primary acknowledged
         * may still arrive during the promotion, and "resumed" below must mean 201s from the
         * promoted server (with asynchronous replication, commits it lacks make scittd refuse
         * to sign, and no 201 follows) */
        size_t before = atomic_load(&CL.round_acks);
        double promoted = it_now() - t_kill;
        db_url = standby->url;
        /* the load goes on: libpq finds the promoted server (answers cut by the kill are not
         * acknowledged: 503 or the connection closed) */
        until = it_now() + 20;
        while (atomic_load(&CL.round_acks) < before + 3 && it_now() < until) {
            it_sleep_ms(2);
        }
        bool resumed = atomic_load(&CL.round_acks) >= before + 3;
        double took = it_now() - t_kill;
        if (!resumed) {
            /* a sequencer that gave up is restarted (as a supervisor would) */
            stop_load(clients, round);
            (void)it_stop(&a.srv);
            a.srv.pid = 0;
            restarts++;
            spawn_on(&a, url);
            if (!healthy_within(&a, 10)) {
                if (sync) {
                    fail_msg("round %u: scittd does not run on the promoted database", round);
                }
                /* the promoted database lacks a head the instance signed: it refuses to sign */
                uint64_t size;
                size_t lost = count_lost(&a, &cfg, &size);
                lost_total += lost;
                refused++;
                print_message("%s: round %u: %zu of %zu acknowledged entries lost; the instance "
                              "refuses to sign\n",
                              mode, round, lost, CL.nacks);
                it_resp *r =
                    sd_post(&a, scitt_span_make(CL.acks[0].entry, CL.acks[0].entry_len), NULL);
                assert_int_equal(r->status, 503);
                free(r);
                break;
            }
            took = it_now() - t_kill;
            run_load(clients, issuers, round, rng ^ 0x5bd1e995u);
            before = 0;
        }
        times[nkills++] = took;
        print_message("%s: round %u: standby promoted %.2f s after the kill, next 201s after "
                      "%.2f s%s\n",
                      mode, round, promoted, took, resumed ? "" : " (scittd restarted)");
        /* the tree continues on the promoted database */
        until = it_now() + 20;
        while (atomic_load(&CL.round_acks) < before + 20 && it_now() < until) {
            it_sleep_ms(5);
        }
        stop_load(clients, round);
        if (atomic_load(&CL.round_acks) < before + 20) {
            fail_msg("round %u: registrations did not resume on the promoted database", round);
        }
        uint64_t size;
        size_t lost = count_lost(&a, &cfg, &size);
        if (lost > 0) {
            /* signing on over acknowledged entries that are gone is a fork */
            fail_msg("round %u: %zu acknowledged entries are not in the promoted database, and "
                     "the service signed on (%s replication)",
                     round, lost, sync ? "synchronous" : "asynchronous");
        }
        cl_head *seen = malloc((CL.nheads ? CL.nheads : 1) * sizeof(*seen));
        size_t nseen = CL.nheads;
        memcpy(seen, CL.heads, nseen * sizeof(*seen));
        failover_check(&a, &cfg);
        for (size_t i = 0; i < nseen; i++) { /* kept: checked again against later logs */
            cl_add_head(seen[i].size, seen[i].root);
        }
        free(seen);
        /* the dead primary comes back as a standby of the new one, on its old port */
        pg_server_destroy(primary);
        memset(primary->dir, 0, sizeof(primary->dir));
        standby_up(primary, standby, sync);
        cur = 1 - cur;
    }
    qsort(times, nkills, sizeof(*times), cmp_double);
    print_message("%s: %u kills of the primary, %zu acknowledged, %zu lost, %u refusals to sign, "
                  "%u scittd restarts; kill to the next 201s p50 %.2f s, max %.2f s; %.1f s\n",
                  mode, rounds, CL.nacks, lost_total, refused, restarts,
                  nkills ? times[nkills / 2] : 0, nkills ? times[nkills - 1] : 0,
                  it_now() - t_start);
    free(times);
    db_url = NULL;
    for (size_t i = 0; i < CL.nacks; i++) {
        free(CL.acks[i].entry);
        free(CL.acks[i].receipt);
    }
    free(CL.acks);
    free(CL.heads);
    pthread_mutex_destroy(&CL.mu);
    for (unsigned i = 0; i < SB_CLIENTS; i++) {
        sd_issuer_clear(&issuers[i]);
    }
    scitt_cose_keyset_free(keys);
    sd_stop(&a); /* a clean stop, on whichever server is the primary now */
    pg_server_destroy(&sb);
}

static void test_pg_standby_sync(void **state)
{
    (void)state;
    standby_failover(true);
}

static void test_pg_standby_async(void **state)
{
    (void)state;
    standby_failover(false);
}

/*
 * Rollback: the database restored from a dump older than the newest head the service signed.
 * The running instance (which remembers that head) and a restarted one (which reads it from the
 * head file beside its keystore) refuse to sign: a "rollback" log line, /healthz 503,
 * registrations 503, nothing appended.
 */
static void start_logged(sd_daemon *d, const char *log, bool healthy)
{
    const char *argv[32];
    size_t n = 0;
    char script[600];
    snprintf(script, sizeof(script), "exec \"$0\" \"$@\" 2>>'%s'", log);
    argv[n++] = "/bin/sh";
    argv[n++] = "-c";
    argv[n++] = script;
    argv[n++] = sd_bin();
    const char *rest[] = {
        "--data",      d->data,   "--listen",           "127.0.0.1:0",
        "--platform",  "virtual", "--insecure-virtual", "--print-ports",
        "--log-level", "info",    "--policy",           sd_path(&a, "policy.json"),
        "--storage",   pg.url,    "--lease-ms",         LEASE_MS,
        NULL};
    for (size_t i = 0; rest[i]; i++) {
        argv[n++] = rest[i];
    }
    argv[n] = NULL;
    char line[128];
    it_spawn_ready(&d->srv, argv, line, sizeof(line));
    assert_int_equal(sscanf(line, "READY port=%d", &d->port), 1);
    double until = it_now() + 10;
    int want = healthy ? 200 : 503;
    for (;;) {
        it_resp *r = sd_get(d, "/healthz");
        int status = r->status;
        free(r);
        if (status == want) {
            return;
        }
        if (it_now() > until) {
            fail_msg("/healthz answered %d, wanted %d", status, want);
        }
        it_sleep_ms(20);
    }
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f)) {
        found = strstr(line, needle) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return found;
}

static bool file_says(const char *path, const char *needle);

/*
 * Whether an instance's log refuses it for holding other service keys than the log's. Which of the
 * three checks says so depends on when it looked: at start with no keys of its own (none are made
 * for a log that has heads), at start with keys that signed none of the heads, or later while
 * waiting for the sequencing instance's settings (ledger/identity.c, ledger/service.c).
 */
static bool refused_for_keys(const char *log)
{
    return file_has(log, "every instance must hold the same keystore") ||
           file_has(log, "is signed by none of the") ||
           file_says(log, "the service keys are missing, but the log");
}

/* file_has for an assertion: when @p needle is missing, what the file says instead is printed. */
static bool file_says(const char *path, const char *needle)
{
    if (file_has(path, needle)) {
        return true;
    }
    FILE *f = fopen(path, "r");
    char line[2048];
    fprintf(stderr, "%s does not say \"%s\"; it says:\n", path, needle);
    while (f && fgets(line, sizeof(line), f)) {
        fputs(line, stderr);
    }
    if (f) {
        fclose(f);
    }
    return false;
}

static void pg_tool(const char *tool, const char *arg, const char *file)
{
    char bin[256], port[16], path[400];
    snprintf(bin, sizeof(bin), "%s/%s", SCITT_PG_BIN, tool);
    snprintf(port, sizeof(port), "%d", pg.port);
    snprintf(path, sizeof(path), "%s/%s", pg.dir, file);
    char *argv[] = {bin,  "-h",       "127.0.0.1", "-p",         port, "-U", "scitt",
                    "-d", "postgres", (char *)arg, (char *)"-f", path, NULL};
    char log[400];
    snprintf(log, sizeof(log), "%s/%s.log", pg.dir, tool);
    if (!pg__run(argv, pg.dir, log)) {
        pg__dump(tool, log);
        fail_msg("%s failed", tool);
    }
}

static void expect_refused(sd_daemon *d, scitt_span stmt, const char *log)
{
    double until = it_now() + 5;
    int status = 0;
    while (it_now() < until) {
        it_resp *r = sd_get(d, "/healthz");
        status = r->status;
        free(r);
        if (status == 503) {
            break;
        }
        it_sleep_ms(20);
    }
    assert_int_equal(status, 503);
    it_resp *r = sd_post(d, stmt, NULL);
    assert_int_equal(r->status, 503);
    free(r);
    until = it_now() + 3;
    while (!file_has(log, "rollback") && it_now() < until) {
        it_sleep_ms(20);
    }
    if (!file_has(log, "event=rollback") && !file_has(log, "rollback")) {
        fail_msg("no rollback line in %s", log);
    }
}

static void test_pg_rollback(void **state)
{
    (void)state;
    char log[256];
    snprintf(log, sizeof(log), "%s", sd_path(&a, "scittd.log"));
    start_logged(&a, log, true);
    scitt_cose_keyset *keys = sd_keys(&a);
    scitt_dynbuf st[12];
    statements("r", st, 12);
    sd_register_many(&a, keys, st, 4, NULL);
    pg_tool("pg_dump", "--clean", "old.sql");
    sd_register_many(&a, keys, st + 4, 4, NULL); /* tree size 9, signed */
    /* the database goes back to size 5 under the running instance */
    pg_tool("psql", "-q", "old.sql");
    scitt_span x = scitt_span_make(st[8].ptr, st[8].len);
    expect_refused(&a, x, log);
    /* restarted, it reads the newest signed head from beside its keystore */
    sd_stop(&a);
    char log2[256];
    snprintf(log2, sizeof(log2), "%s", sd_path(&a, "scittd2.log"));
    start_logged(&a, log2, false);
    expect_refused(&a, x, log2);
    assert_true(file_says(log2, "signed_size=9"));
    char size[32];
    /* nothing appended to the restored log: the policy and four entries */
    assert_true(db_value("SELECT count(*) FROM scitt_recent", size, sizeof(size)));
    assert_int_equal(atoi(size), 5);
    scitt_cose_keyset_free(keys);
    free_statements(st, 12);
}

/*
 * Instances started at once on an empty database: one takes the lease and records the settings
 * and the policy, the others wait for them and adopt them (one policy entry, every instance's
 * /config naming it, registrations through each one sequenced with it), or refuse cleanly when
 * they were given other settings or other keys (exit before READY, a line saying why, nothing
 * appended by them).
 */
typedef struct racer {
    sd_daemon *d;
    int fd;        /* its stdout, where READY comes */
    bool up;       /* READY */
    int status;    /* its exit status when it refused */
    char log[256]; /* its stderr */
} racer;

static void race_spawn(racer *r, const char *url, const char *issuer)
{
    char script[600];
    snprintf(script, sizeof(script), "exec \"$0\" \"$@\" 2>'%s'", r->log);
    const char *argv[] = {"/bin/sh",
                          "-c",
                          script,
                          sd_bin(),
                          "--data",
                          r->d->data,
                          "--listen",
                          "127.0.0.1:0",
                          "--platform",
                          "virtual",
                          "--insecure-virtual",
                          "--print-ports",
                          "--log-level",
                          "warn",
                          "--policy",
                          sd_path(&a, "policy.json"),
                          "--storage",
                          url,
                          "--lease-ms",
                          LEASE_MS,
                          "--issuer",
                          issuer,
                          NULL};
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    assert_int_equal(posix_spawn(&r->d->srv.pid, argv[0], &fa, NULL, (char *const *)argv, environ),
                     0);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    r->fd = pfd[0];
    r->up = false;
    r->status = -1;
}

/* Reads its READY line (up) or sees it exit (its status kept). */
static void race_settle(racer *r)
{
    char line[128];
    size_t len = 0;
    double until = it_now() + 30;
    while (len < sizeof(line) - 1 && (len == 0 || line[len - 1] != '\n')) {
        struct pollfd p = {r->fd, POLLIN, 0};
        int left = (int)((until - it_now()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            fail_msg("scittd neither became ready nor exited within 30 s");
        }
        if (read(r->fd, line + len, 1) <= 0) {
            break;
        }
        len++;
    }
    line[len] = 0;
    close(r->fd);
    if (sscanf(line, "READY port=%d", &r->d->port) == 1) {
        r->up = true;
        double deadline = it_now() + 10;
        while (sd_probe(r->d, "/healthz", 2000) != 0) {
            if (it_now() > deadline) {
                it_resp *h = sd_get(r->d, "/healthz");
                fail_msg("scittd did not answer /healthz with 200 (%d: %.*s)", h->status,
                         (int)sd_body(h).len, (const char *)sd_body(h).ptr);
            }
            it_sleep_ms(20);
        }
        return;
    }
    r->status = it_wait(&r->d->srv, 10000);
    r->d->srv.pid = 0;
}

/* A fresh database on the test's server: its URL. */
static void race_db(int round, char *url, size_t cap)
{
    char q[64], out[8];
    snprintf(q, sizeof(q), "CREATE DATABASE race%d", round);
    (void)db_value(q, out, sizeof(out));
    snprintf(url, cap, "postgresql://scitt@127.0.0.1:%d/race%d", pg.port, round);
}

/* A new database for the same instances: the newest head they signed on the last one goes. */
static void race_forget(sd_daemon *const *all)
{
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/signed-head", all[i]->data);
        (void)unlink(path);
    }
}

static long race_count(const char *url, const char *q)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, q);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return n;
}

static void test_pg_first_start(void **state)
{
    (void)state;
    /* the service keys, made once and given to every instance */
    const char *lmdb[] = {"--policy", sd_path(&a, "policy.json"), NULL};
    sd_start(&a, lmdb);
    sd_stop(&a);
    share_keys(&a, &b);
    share_keys(&a, &c3);
    sd_daemon *all[3] = {&a, &b, &c3};
    racer rc[3];
    for (int i = 0; i < 3; i++) {
        rc[i].d = all[i];
        snprintf(rc[i].log, sizeof(rc[i].log), "%s", sd_path(all[i], "race.log"));
    }
    scitt_dynbuf st[3 * 4];
    statements("race", st, 12);
    /* Rounds 0-2: the same settings and keys: all three run, one policy entry. */
    for (int round = 0; round < 3; round++) {
        char url[200];
        race_db(round, url, sizeof(url));
        race_forget(all);
        for (int i = 0; i < 3; i++) {
            race_spawn(&rc[i], url, "race.example");
        }
        for (int i = 0; i < 3; i++) {
            race_settle(&rc[i]);
            if (!rc[i].up) {
                char line[600] = "";
                FILE *f = fopen(rc[i].log, "r");
                if (f) {
                    (void)!fgets(line, sizeof(line), f);
                    fclose(f);
                }
                fail_msg("round %d: instance %d refused (status %d): %s", round, i, rc[i].status,
                         line);
            }
        }
        long holder = race_count(url, "SELECT coalesce(max(split_part(holder, ':', 2)), '0') "
                                      "FROM scitt_lease WHERE expires > now()");
        assert_true(holder == a.srv.pid || holder == b.srv.pid || holder == c3.srv.pid);
        assert_int_equal(race_count(url, "SELECT count(*) FROM scitt_recent"), 1);
        scitt_cose_keyset *keys = sd_keys(&a);
        bool seen[4] = {false};
        for (int i = 0; i < 3; i++) {
            sd_config cfg;
            sd_get_config(all[i], &cfg);
            assert_int_equal(cfg.policy_entry, 0);
            assert_string_equal(cfg.issuer, "race.example");
            scitt_receipt_info info;
            uint64_t at = sd_register(all[i], keys,
                                      scitt_span_make(st[4 * round + i].ptr, st[4 * round + i].len),
                                      &info, NULL);
            assert_true(at >= 1 && at <= 3 && !seen[at]);
            seen[at] = true;
        }
        /* every head of the log names the one policy entry */
        assert_int_equal(race_count(url, "SELECT count(*) FROM scitt_recent"), 4);
        scitt_cose_keyset_free(keys);
        for (int i = 0; i < 3; i++) {
            sd_stop(all[i]);
        }
    }
    /* Round 3: one instance given another issuer: whichever records the settings, the instances
     * whose issuer differs refuse, with a line saying so, and the others run. */
    char url[200];
    race_db(3, url, sizeof(url));
    race_forget(all);
    const char *issuer[3] = {"race.example", "race.example", "other.example"};
    for (int i = 0; i < 3; i++) {
        race_spawn(&rc[i], url, issuer[i]);
    }
    for (int i = 0; i < 3; i++) {
        race_settle(&rc[i]);
    }
    bool odd_won = rc[2].up;
    for (int i = 0; i < 3; i++) {
        bool should_run = (i == 2) == odd_won;
        if (should_run != rc[i].up) {
            fail_msg("round 3: instance %d %s", i, rc[i].up ? "runs" : "refused");
        }
        if (!rc[i].up) {
            assert_true(rc[i].status != 0);
            assert_true(file_says(rc[i].log, "every instance must run the same settings"));
        }
    }
    assert_int_equal(race_count(url, "SELECT count(*) FROM scitt_recent"), 1);
    for (int i = 0; i < 3; i++) {
        sd_stop(all[i]);
    }
    /* Round 4: one instance with keys of its own (an empty data directory): whichever signs the
     * first head, the instances holding the other keys refuse. */
    snprintf(c3.data, sizeof(c3.data), "%s/other", c3.dir);
    race_db(4, url, sizeof(url));
    race_forget(all);
    for (int i = 0; i < 3; i++) {
        race_spawn(&rc[i], url, "race.example");
    }
    for (int i = 0; i < 3; i++) {
        race_settle(&rc[i]);
    }
    odd_won = rc[2].up;
    for (int i = 0; i < 3; i++) {
        bool should_run = (i == 2) == odd_won;
        if (should_run != rc[i].up) {
            fail_msg("round 4: instance %d %s", i, rc[i].up ? "runs" : "refused");
        }
        if (!rc[i].up) {
            assert_true(refused_for_keys(rc[i].log));
        }
    }
    assert_int_equal(race_count(url, "SELECT count(*) FROM scitt_recent"), 1);
    /* Round 5: an instance holding the other keys alone on that log, after the others stopped
     * (their lease released, so it takes the lease and would sequence): it refuses too, with the
     * same reason, and signs nothing. */
    for (int i = 0; i < 3; i++) {
        sd_stop(all[i]);
    }
    racer *late = odd_won ? &rc[0] : &rc[2];
    if (!odd_won) {
        /* the refused instance made no keys: it gets its own on a database of its own first */
        char own[200];
        snprintf(c3.data, sizeof(c3.data), "%s/other5", c3.dir);
        race_db(5, own, sizeof(own));
        race_spawn(late, own, "race.example");
        race_settle(late);
        assert_true(late->up);
        sd_stop(&c3);
    }
    race_forget(all);
    race_spawn(late, url, "race.example");
    race_settle(late);
    if (late->up) {
        fail_msg("round 5: an instance with other keys sequences a log it did not make");
    }
    assert_true(late->status != 0);
    assert_true(refused_for_keys(late->log));
    assert_int_equal(race_count(url, "SELECT count(*) FROM scitt_recent"), 1);
    free_statements(st, 12);
}

/*
 * Moving an LMDB log into PostgreSQL (scitt migrate): the copy keeps every entry at its index, the
 * receipts signed before verify, scittd started on the database continues the same tree with the
 * same keys (no new policy entry: the policy in force came along); a second migration into it is
 * refused, and a source whose entries no longer hash to its signed heads is refused as a copy.
 */
static int run_migrate(const char *data, const char *url, char *out, size_t cap)
{
    char scitt[4200];
    const char *bin = getenv("SCITT_BINARY_DIR");
    snprintf(scitt, sizeof(scitt), "%s/tools/scitt", bin ? bin : ".");
    const char *argv[] = {
        "sh", "-c", "exec \"$0\" \"$@\" 2>&1", scitt, "migrate", "--data", data, "--storage",
        url,  NULL};
    return it_run(argv, out, cap, 60000);
}

/* Flips one byte of every occurrence of @p needle in @p path (LMDB keeps no checksums, and the
 * pages it freed may still hold older copies). */
static void corrupt_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    size_t len = strlen(needle), found = 0;
    for (char *at = buf; (at = memmem(at, (size_t)(buf + n - at), needle, len)) != NULL; at++) {
        fseek(f, (long)(at - buf) + (long)len - 1, SEEK_SET);
        fputc(at[len - 1] ^ 1, f);
        found++;
    }
    assert_true(found > 0);
    fclose(f);
    free(buf);
}

static void test_pg_migrate(void **state)
{
    (void)state;
    const char *lmdb[] = {"--policy", sd_path(&a, "policy.json"), NULL};
    sd_start(&a, lmdb);
    scitt_cose_keyset *keys = sd_keys(&a);
    enum { N = 30, M = 5 };
    scitt_dynbuf st[N + M], receipt[3];
    statements("m", st, N + M);
    uint64_t at[N - 3]; /* pipelined: the checks run side by side, so the order may differ */
    sd_register_many(&a, keys, st, N - 3, at);
    scitt_receipt_info info;
    for (int i = 0; i < 3; i++) {
        scitt_dynbuf_init(&receipt[i], 0);
        assert_int_equal(sd_register(&a, keys,
                                     scitt_span_make(st[N - 3 + i].ptr, st[N - 3 + i].len), &info,
                                     &receipt[i]),
                         (uint64_t)(N - 2 + i));
    }
    sd_checkpoint before;
    sd_expect_intact(&a, &before);
    assert_int_equal(before.cp.size, N + 1);
    sd_stop(&a);

    char out[4096];
    int rc = run_migrate(a.data, pg.url, out, sizeof(out));
    if (rc != 0) {
        fail_msg("scitt migrate exited %d: %s", rc, out);
    }
    assert_non_null(strstr(out, "migrated 31 entries"));
    /* a database that holds a log is never migrated into */
    rc = run_migrate(a.data, pg.url, out, sizeof(out));
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "already holds a log"));

    /* scittd on the database: the same keys, the same tree, the old receipts */
    share_keys(&a, &b);
    start(&b);
    sd_config cfg;
    sd_get_config(&b, &cfg);
    assert_int_equal(cfg.policy_entry, 0);
    for (int i = 0; i < 3; i++) {
        sd_verify_receipt(scitt_span_make(receipt[i].ptr, receipt[i].len),
                          scitt_span_make(st[N - 3 + i].ptr, st[N - 3 + i].len), keys, NULL);
    }
    for (int i = 0; i < N; i += 7) {
        assert_int_equal(receipt_status(&b, scitt_span_make(st[i].ptr, st[i].len), keys), 200);
    }
    /* registered before: answered with its index, no new entry */
    assert_int_equal(sd_register(&b, keys, scitt_span_make(st[4].ptr, st[4].len), &info, NULL),
                     at[4]);
    for (int i = 0; i < M; i++) {
        assert_int_equal(
            sd_register(&b, keys, scitt_span_make(st[N + i].ptr, st[N + i].len), &info, NULL),
            (uint64_t)(N + 1 + i));
    }
    sd_checkpoint after;
    sd_expect_intact(&b, &after);
    assert_int_equal(after.cp.size, N + 1 + M);
    sd_stop(&b);

    /* a source altered on disk: copied, but refused as a copy of the signed log */
    char q[64], db[200];
    snprintf(q, sizeof(q), "CREATE DATABASE altered");
    (void)db_value(q, out, sizeof(out));
    snprintf(db, sizeof(db), "postgresql://scitt@127.0.0.1:%d/altered", pg.port);
    char mdb[300];
    snprintf(mdb, sizeof(mdb), "%s/data.mdb", a.data);
    corrupt_file(mdb, "pkg:m@17");
    rc = run_migrate(a.data, db, out, sizeof(out));
    if (rc != 1 || !strstr(out, "hash to")) {
        fail_msg("an altered source was migrated (exit %d): %s", rc, out);
    }
    /* and what it copied is gone */
    assert_int_equal(race_count(db, "SELECT count(*) FROM scitt_heads"), 0);
    assert_int_equal(race_count(db, "SELECT count(*) FROM scitt_bundles"), 0);
    for (int i = 0; i < 3; i++) {
        scitt_dynbuf_clear(&receipt[i]);
    }
    scitt_cose_keyset_free(keys);
    free_statements(st, N + M);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pg_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_fenced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_follower, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_first_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_standby_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_standby_async, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
