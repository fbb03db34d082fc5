/*
 * scittd with its log in PostgreSQL (--storage postgresql://...), against a real server the test
 * starts (tests/pg_server.h): registrations answered 201 with receipts that verify, a restart
 * that continues the same tree with the same keys; and two instances on one database, where the
 * one started last holds the fencing token: the other can no longer append (503, /healthz 503,
 * its statement not in the log), still serves reads from the database, and both sign with the
 * same service keys (the keystore file copied to the second instance).
 *
 * Run as `test_scittd_pg <case>`.
 */
#include "scittd_util.h"
#include "pg_server.h"

static pg_server pg;
static sd_daemon a, b;
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
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&a, "policy.json"), list, 1, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    int st = sd_teardown(&a);
    int st2 = sd_teardown(&b);
    pg_server_destroy(&pg);
    assert_int_equal(st, 0);
    assert_int_equal(st2, 0);
    return 0;
}

static void start(sd_daemon *d)
{
    const char *args[] = {"--policy", sd_path(&a, "policy.json"), "--storage", pg.url, NULL};
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

static void copy_file(const char *from, const char *to)
{
    FILE *f = fopen(from, "rb");
    assert_non_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(buf));
    sd_write_file(to, buf, n);
}

static void test_pg_fenced(void **state)
{
    (void)state;
    start(&a);
    scitt_cose_keyset *keys = sd_keys(&a);
    scitt_dynbuf st[7];
    statements("f", st, 7);
    sd_register_many(&a, keys, st, 5, NULL);
    /* the second instance shares the service keys (virtual platform: the keystore file) */
    assert_int_equal(mkdir(b.data, 0700), 0);
    char from[256], to[256];
    snprintf(from, sizeof(from), "%s/service-keys", a.data);
    snprintf(to, sizeof(to), "%s/service-keys", b.data);
    copy_file(from, to);
    start(&b);
    /* it took the fencing token: the first instance cannot append any more */
    scitt_span x = scitt_span_make(st[5].ptr, st[5].len);
    it_resp *r = sd_post(&a, x, NULL);
    assert_int_equal(r->status, 503);
    free(r);
    r = sd_get(&a, "/healthz");
    assert_int_equal(r->status, 503);
    free(r);
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

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pg_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_fenced, setup, teardown),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
