/*
 * scittd's own failures during a registration, injected into a real daemon on loopback by
 * libscitt_faultshim.so (faultshim.c, preloaded): an allocation that fails, or OpenSSL failing to
 * allocate a digest context, while the worker checks the statement. Each must be answered as the
 * service's failure (503 with Retry-After for memory, 500 for the crypto library; RFC 9290
 * problem details), never as a rejection of the statement (400, counted in
 * scittd_registrations_rejected_total), and must leave nothing behind: no entry, the tree size
 * unchanged, and the same statement registered afterwards at the next index.
 *
 * Run as `test_scittd_faults <case>`: each ctest entry runs one case with its own daemon.
 */
#include "scittd_util.h"

#include <fcntl.h>
#include <sys/stat.h>

static sd_daemon sd;
static sd_issuer alice;
static char fault_file[300];

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example/faults");
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    snprintf(fault_file, sizeof(fault_file), "%s", sd_path(&sd, "fault"));
    static const uint8_t zero[4] = {0};
    sd_write_file(fault_file, zero, sizeof(zero));
    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL;
    char opts[1024];
    /* the library is preloaded ahead of the sanitizer runtime in a sanitizer build */
    snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "", asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    setenv("LD_PRELOAD", it_bin("libscitt_faultshim.so"), 1);
    setenv("SCITT_FAULT_FILE", fault_file, 1);
    sd_start_policy(&sd, NULL);
    unsetenv("LD_PRELOAD");
    unsetenv("SCITT_FAULT_FILE");
    if (saved) {
        setenv("ASAN_OPTIONS", saved, 1);
        free(saved);
    } else {
        unsetenv("ASAN_OPTIONS");
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

/* Arms the shim: fail the @p nth call of @p kind ('a' or 'c') off the main thread. */
static void arm(char kind, uint8_t nth)
{
    int fd = open(fault_file, O_RDWR);
    assert_true(fd >= 0);
    uint8_t n = nth, k = (uint8_t)kind;
    assert_int_equal(pwrite(fd, &n, 1, 1), 1);
    assert_int_equal(pwrite(fd, &k, 1, 0), 1);
    close(fd);
}

/* Disarms it; the number of failures it made so far, in all (the count is never reset). */
static unsigned disarm(void)
{
    int fd = open(fault_file, O_RDWR);
    assert_true(fd >= 0);
    uint8_t z = 0, fired = 0;
    assert_int_equal(pwrite(fd, &z, 1, 0), 1);
    assert_int_equal(pread(fd, &fired, 1, 2), 1);
    close(fd);
    return fired;
}

/* The value of the sample line "<name> <value>" of /metrics (-1 when absent). */
static double metric(const char *name)
{
    it_resp *r = sd_get(&sd, "/metrics");
    assert_int_equal(r->status, 200);
    static char text[IT_BODY_MAX + 1];
    memcpy(text, r->body, r->body_len);
    text[r->body_len] = 0;
    free(r);
    size_t n = strlen(name);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, name, n) == 0 && line[n] == ' ') {
            return strtod(line + n + 1, NULL);
        }
    }
    return -1;
}

/*
 * Registers a fresh statement with the shim armed for @p kind: the answer must be @p status with
 * @p title, nothing counted as a rejection or a registration, no entry left; the same statement
 * then registers at the index the failed attempt would have taken.
 */
static void fails_as_ours(char kind, int status, const char *title, const char *sub)
{
    scitt_cose_keyset *keys = sd_keys(&sd);
    double rejected, registered, size;
    scitt_dynbuf st, entry;
    char id[65], path[128];
    it_resp *r;
    /* The shim fails the first call on a thread of the worker pool (scittd's named threads and
     * the loop's are left alone). The /events reader also runs on the worker pool (a short read
     * every 50 ms), so on a busy machine it can take the failure instead of the check: the
     * statement then registers (201) and the attempt is made again with a new one. A check that
     * ignored the failure answers 201 every time and fails below. */
    unsigned made = 0; /* failures the shim made so far */
    for (int attempt = 1;; attempt++) {
        rejected = metric("scittd_registrations_rejected_total");
        registered = metric("scittd_registrations_total");
        size = metric("scittd_tree_size");
        assert_true(rejected >= 0 && registered >= 0 && size >= 1);
        char payload[32];
        snprintf(payload, sizeof(payload), "{\"fault\": %d}", attempt);
        sd_statement(&alice, sub, payload, &st);
        sd_entry(scitt_span_make(st.ptr, st.len), &entry, id);
        scitt_dynbuf_clear(&entry);
        arm(kind, 1);
        r = sd_post(&sd, scitt_span_make(st.ptr, st.len), NULL);
        unsigned fired = disarm() - made;
        made += fired;
        if (fired != 1) {
            fail_msg("the injected failure did not fire (%u); the daemon answered %d", fired,
                     r->status);
        }
        if (r->status != 201 || attempt == 5) {
            break;
        }
        free(r);
        scitt_dynbuf_clear(&st);
    }
    sd_expect_header(r, "Content-Type", "application/concise-problem-details+cbor");
    sd_expect_problem(r, status, title, "could not be checked");
    if (status == 503) {
        char v[64];
        assert_true(it_header(r, "Retry-After", v, sizeof(v)));
    }
    free(r);
    /* not the statement's fault: no rejection counted, nothing registered, no entry */
    assert_true(metric("scittd_registrations_rejected_total") == rejected);
    assert_true(metric("scittd_registrations_total") == registered);
    assert_true(metric("scittd_tree_size") == size);
    snprintf(path, sizeof(path), "/entries/%s", id);
    r = sd_get(&sd, path);
    assert_int_equal(r->status, 404);
    free(r);
    /* The same statement, the shim quiet: registered at the next index, the log intact. */
    scitt_receipt_info info;
    uint64_t idx = sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), &info, NULL);
    assert_int_equal(idx, (uint64_t)size);
    assert_true(metric("scittd_registrations_total") == registered + 1);
    assert_true(metric("scittd_registrations_rejected_total") == rejected);
    sd_checkpoint cp;
    sd_expect_intact(&sd, &cp);
    assert_int_equal(cp.cp.size, (uint64_t)size + 1);
    /* A statement that is bad is still a rejection (the counter is alive). */
    st.ptr[st.len - 1] ^= 1; /* the signature's last byte */
    r = sd_post(&sd, scitt_span_make(st.ptr, st.len), NULL);
    assert_int_equal(r->status, 400);
    free(r);
    assert_true(metric("scittd_registrations_rejected_total") == rejected + 1);
    scitt_dynbuf_clear(&st);
    scitt_cose_keyset_free(keys);
}

/* Memory runs out in the worker checking the statement: 503, Retry-After. */
static void test_fault_alloc(void **state)
{
    (void)state;
    fails_as_ours('a', 503, "Service Unavailable", "pkg:alloc");
}

/* OpenSSL cannot allocate the context to verify the issuer's signature with: 500. The issuer's
 * key is used here for the first time, so the context is made during this check. */
static void test_fault_crypto(void **state)
{
    (void)state;
    fails_as_ours('c', 500, "Internal Server Error", "pkg:crypto");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fault_alloc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_crypto, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
