/*
 * Exhaustion of storage under scittd. Two ways to run out: the LMDB map (--map-size =
 * --map-size-max, so it cannot grow) and the disk itself (a small tmpfs the test mounts, root
 * only; skipped with a message otherwise). Either way registrations must get 503 problem details
 * with Retry-After, an async registration must end as "Registration Failed", every read (receipts
 * registered before, checkpoint, tiles, health) must keep working, nothing may be corrupted (the
 * entries read back hash to the signed checkpoint, none twice), and writes must resume once there
 * is room again: after a restart with a larger map, or once the file system has grown.
 *
 * The receipt keys are a third thing to run out of: every key that signed stays published, and a
 * published key set holds at most 64 (what verifiers accept). The daemon starts with 64 and
 * serves them all; asked to rotate past them, or given a keystore beyond them, it refuses to start
 * and says why (it printed "scittd: ok" and exited 1), leaving the keystore as it was.
 *
 * Run as `test_scittd_exhaust <case>`: each ctest entry runs one case with its own daemon.
 */
#include <sys/mount.h>

/* The entry bundle read back holds every statement of about 30 KB that fitted (a few hundred). */
#define IT_BODY_MAX (16 << 20)
#define IT_CONN_BUF (17 << 20)
#include "scittd_util.h"

static sd_daemon sd;
static sd_issuer alice;
static bool mounted;

#define MAX_STMTS 400

static scitt_dynbuf st[MAX_STMTS];
static size_t nst;

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    nst = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nst; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
    sd_issuer_clear(&alice);
    int status = sd.srv.pid > 0 ? it_stop(&sd.srv) : 0;
    if (mounted) {
        char dir[200];
        snprintf(dir, sizeof(dir), "%s/mnt", sd.dir);
        (void)umount2(dir, MNT_DETACH);
        mounted = false;
    }
    sd_teardown(&sd);
    assert_int_equal(status, 0);
    return 0;
}

static scitt_span S(size_t i)
{
    return scitt_span_make(st[i].ptr, st[i].len);
}

/* Statement @p i: about 30 KB, so that a few dozen fill a small map or disk. */
static void make(size_t i)
{
    static char payload[30000];
    snprintf(payload, sizeof(payload), "{\"n\": %zu, \"pad\": \"", i);
    size_t l = strlen(payload);
    memset(payload + l, 'p', sizeof(payload) - l - 3);
    memcpy(payload + sizeof(payload) - 3, "\"}", 3);
    sd_statement(&alice, "pkg:big", payload, &st[i]);
    nst = i + 1 > nst ? i + 1 : nst;
}

static void expect_unavailable(const it_resp *r)
{
    sd_expect_problem(r, 503, "Service Unavailable", NULL);
    char v[32];
    assert_non_null(it_header(r, "Retry-After", v, sizeof(v)));
    assert_true(atoi(v) >= 1);
}

/* Registers new statements until one gets 503; returns how many were registered (201). */
static size_t fill(const scitt_cose_keyset *keys, const char *says)
{
    size_t ok = 0;
    for (size_t i = 0; i < MAX_STMTS; i++) {
        make(i);
        it_resp *r = sd_post(&sd, S(i), NULL);
        if (r->status != 201) {
            expect_unavailable(r);
            char t[256], d[256];
            it_problem(r, t, d, sizeof(t));
            print_message("full after %zu registrations: %s\n", ok, d);
            if (says && !strstr(d, says)) {
                fail_msg("the 503 says \"%s\", not \"%s\"", d, says);
            }
            free(r);
            return ok;
        }
        sd_verify_receipt(sd_body(r), S(i), keys, NULL);
        ok++;
        free(r);
    }
    fail_msg("%d registrations and still not full", MAX_STMTS);
    return 0;
}

/* While full: an async registration fails for good; a sync one gets 503 again. */
static void full_refusals(size_t ok)
{
    char id[65], loc[128];
    scitt_dynbuf entry;
    sd_entry(S(ok), &entry, id);
    scitt_dynbuf_clear(&entry);
    snprintf(loc, sizeof(loc), "/entries/%s", id);
    it_resp *r = sd_post(&sd, S(ok), "Prefer: respond-async\r\n");
    assert_int_equal(r->status, 202);
    free(r);
    int status = 204;
    for (int i = 0; i < 100 && status == 204; i++) {
        r = sd_get(&sd, loc);
        status = r->status;
        if (status == 404) {
            sd_expect_problem(r, 404, "Registration Failed", NULL);
        }
        free(r);
        it_sleep_ms(status == 204 ? 50 : 0);
    }
    assert_int_equal(status, 404);
    r = sd_post(&sd, S(ok), NULL);
    expect_unavailable(r);
    free(r);
}

/* Every read still works: receipts of what was registered, checkpoint, tiles, health. */
static void reads_go_on(const scitt_cose_keyset *keys, size_t ok)
{
    for (size_t i = 0; i < ok; i++) {
        char id[65], loc[128];
        scitt_dynbuf entry;
        sd_entry(S(i), &entry, id);
        scitt_dynbuf_clear(&entry);
        snprintf(loc, sizeof(loc), "/entries/%s", id);
        it_resp *r = sd_get(&sd, loc);
        assert_int_equal(r->status, 200);
        scitt_receipt_info info;
        sd_verify_receipt(sd_body(r), S(i), keys, &info);
        assert_int_equal(info.leaf_index, i + 1);
        free(r);
    }
    /* The right-most level-0 tile covers the last entry. */
    char tile[80] = "/";
    uint64_t n = ok + 1, last = (n - 1) / 256;
    unsigned width = (unsigned)(n - last * 256);
    assert_int_equal(scitt_tile_path(0, last, width, tile + 1, sizeof(tile) - 1), SCITT_OK);
    it_resp *r = sd_get(&sd, tile);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 32 * width);
    free(r);
    r = sd_get(&sd, "/healthz");
    assert_int_equal(r->status, 200);
    free(r);
}

/* Room again: the refused statement registers next, and so do new ones. */
static void writes_resume(const scitt_cose_keyset *keys, size_t ok)
{
    uint64_t at = sd_register(&sd, keys, S(ok), NULL, NULL);
    assert_int_equal(at, ok + 1);
    for (size_t i = ok + 1; i < ok + 4; i++) {
        make(i);
        assert_int_equal(sd_register(&sd, keys, S(i), NULL, NULL), i + 1);
    }
    sd_checkpoint cp;
    sd_expect_intact(&sd, &cp);
    assert_int_equal(cp.cp.size, ok + 5);
}

/*
 * The map cannot grow (--map-size = --map-size-max = 1M): 503 once it is full, reads go on,
 * nothing corrupted, and after a restart with a larger map the log is the same and grows again.
 */
static void test_map_full(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    const char *args[] = {
        "--policy", sd_path(&sd, "policy.json"), "--map-size", "1M", "--map-size-max", "1M", NULL};
    sd_start(&sd, args);
    scitt_cose_keyset *keys = sd_keys(&sd);
    size_t ok = fill(keys, "full");
    assert_true(ok >= 5); /* the map held a good number before it filled */
    full_refusals(ok);
    reads_go_on(keys, ok);
    sd_checkpoint before, after;
    sd_expect_intact(&sd, &before);
    assert_int_equal(before.cp.size, ok + 1);
    sd_stop(&sd);

    const char *larger[] = {
        "--policy", sd_path(&sd, "policy.json"), "--map-size", "8M", "--map-size-max", "8M", NULL};
    sd_start(&sd, larger);
    sd_expect_intact(&sd, &after);
    assert_int_equal(after.cp.size, before.cp.size);
    assert_memory_equal(after.cp.root, before.cp.root, 32);
    reads_go_on(keys, ok);
    writes_resume(keys, ok);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * The disk fills (a 4 MiB tmpfs under a map that could grow far beyond it): 503, reads go on,
 * nothing corrupted; once the file system is grown, writes resume without a restart, and the
 * log survives a restart too.
 */
static void test_disk_full(void **state)
{
    (void)state;
    char mnt[200], out[256];
    snprintf(mnt, sizeof(mnt), "%s/mnt", sd.dir);
    assert_int_equal(mkdir(mnt, 0700), 0);
    const char *mount_argv[] = {"mount", "-t", "tmpfs", "-o", "size=4m,mode=0700",
                                "tmpfs", mnt,  NULL};
    if (it_run(mount_argv, out, sizeof(out), 10000) != 0) {
        fail_msg("cannot mount a 4 MiB tmpfs at %s (needs CAP_SYS_ADMIN): %s", mnt, out);
    }
    mounted = true;
    snprintf(sd.data, sizeof(sd.data), "%s/mnt/data", sd.dir);
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    const char *args[] = {
        "--policy", sd_path(&sd, "policy.json"), "--map-size", "64M", "--map-size-max", "64M",
        NULL};
    sd_start(&sd, args);
    scitt_cose_keyset *keys = sd_keys(&sd);
    size_t ok = fill(keys, NULL);
    assert_true(ok >= 5);
    full_refusals(ok);
    reads_go_on(keys, ok);
    sd_checkpoint before, after;
    sd_expect_intact(&sd, &before);
    assert_int_equal(before.cp.size, ok + 1);

    const char *grow_argv[] = {"mount", "-o", "remount,size=64m", mnt, NULL};
    assert_int_equal(it_run(grow_argv, out, sizeof(out), 10000), 0);
    writes_resume(keys, ok);
    sd_stop(&sd);
    sd_start(&sd, args);
    sd_expect_intact(&sd, &after);
    assert_int_equal(after.cp.size, ok + 5);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* Writes a keystore of @p n fresh receipt keys ({1: [COSE_Key...], 2: note seed}) to @p path. */
static void write_keystore(const char *path, size_t n)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cose_key *k;
        assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k), SCITT_OK);
        assert_int_equal(scitt_cose_key_encode_cose(k, true, &w), SCITT_OK);
        scitt_cose_key_free(k);
    }
    uint8_t seed[32] = {4, 5, 6};
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_bytes(&w, scitt_span_make(seed, sizeof(seed)));
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
    sd_write_file(path, b.ptr, b.len);
    scitt_dynbuf_clear(&b);
}

/* Runs scittd to its exit with stderr in @p out; its exit status (-1: it kept running). */
static int run_scittd(const char *data, const char *extra, char *out, size_t cap)
{
    const char *argv[] = {"sh",
                          "-c",
                          "exec \"$0\" \"$@\" 2>&1",
                          sd_bin(),
                          "--data",
                          data,
                          "--listen",
                          "127.0.0.1:0",
                          "--platform",
                          "virtual",
                          "--insecure-virtual",
                          "--policy",
                          sd_path(&sd, "policy.json"),
                          extra,
                          NULL};
    return it_run(argv, out, cap, 20000);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *b = malloc(1 << 20);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void test_key_ceiling(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    assert_int_equal(mkdir(sd.data, 0700), 0);
    char ks[300];
    snprintf(ks, sizeof(ks), "%s/service-keys", sd.data);
    write_keystore(ks, 64);

    /* at the ceiling: it starts, publishes every key, registers */
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    assert_int_equal(scitt_cose_keyset_count(keys), 64);
    scitt_dynbuf stmt;
    sd_statement(&alice, "pkg:keys", "{}", &stmt);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(stmt.ptr, stmt.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&stmt);
    sd_stop(&sd);

    /* one rotation more: refused with the reason, the keystore untouched */
    size_t len, len2;
    uint8_t *before = slurp(ks, &len);
    static char out[8192];
    int status = run_scittd(sd.data, "--rotate-receipt-key", out, sizeof(out));
    if (status != 1 || !strstr(out, "cannot rotate the receipt key") ||
        !strstr(out, "64 receipt keys") || strstr(out, "scittd: ok")) {
        fail_msg("rotation past the ceiling: exit %d, output: %s", status, out);
    }
    uint8_t *after = slurp(ks, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(before, after, len);
    free(before);
    free(after);

    /* a keystore beyond the ceiling: refused by name */
    char other[300], oks[320];
    snprintf(other, sizeof(other), "%s/other", sd.dir);
    assert_int_equal(mkdir(other, 0700), 0);
    snprintf(oks, sizeof(oks), "%s/service-keys", other);
    write_keystore(oks, 65);
    status = run_scittd(other, NULL, out, sizeof(out));
    if (status != 1 || !strstr(out, "more than 64 receipt keys") || strstr(out, "scittd: ok")) {
        fail_msg("a keystore of 65 keys: exit %d, output: %s", status, out);
    }

    /* and the service at the ceiling still starts, with its entry */
    sd_start_policy(&sd, NULL);
    sd_checkpoint cp;
    sd_expect_intact(&sd, &cp);
    assert_int_equal(cp.cp.size, 2);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "test_disk_full") == 0 && geteuid() != 0) {
        const char *ci = getenv("CI");
        if (ci && *ci) {
            /* CI runs as root: there a disk-full test that cannot run is a broken setup. */
            printf("FAIL: disk_full must run in CI, and mounting the tmpfs it fills needs root\n");
            return 1;
        }
        printf("SKIP: disk_full: mounting the small tmpfs it fills needs root (run as root)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_ceiling, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
