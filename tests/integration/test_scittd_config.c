/*
 * scittd's configuration file and reloads, on the real daemon:
 *  - config_file: the example configuration (dist/scittd.conf) passes --check-config; a flag
 *    overrides the file; --check-config redacts secrets; a bad file line stops scittd with the
 *    file and line, exit 2, and no data directory; a daemon started from a file serves what the
 *    file says.
 *  - reload: SIGHUP under load (keep-alive registrations, fresh TLS connections) swaps the TLS
 *    certificate and key, the bearer tokens and the rate limit; every request made meanwhile
 *    succeeds, open connections stay open, new connections get the new certificate; a bad
 *    reload keeps the old settings and logs why.
 *
 * Run as `test_scittd_config <case>`.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "certgen.h"
#include "scittd_util.h"

static sd_daemon sd;
static sd_issuer alice;

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

static void test_config_file(void **state)
{
    (void)state;
    static char out[65536], example[4096], conf[256], data[256];
    const char *src = getenv("SCITT_SOURCE_DIR");
    assert_non_null(src);
    snprintf(example, sizeof(example), "%s/dist/scittd.conf", src);
    snprintf(conf, sizeof(conf), "%s", sd_path(&sd, "scittd.conf"));
    snprintf(data, sizeof(data), "%s", sd.data);

    /* The example as installed is a valid configuration. */
    const char *a1[] = {"--config", example, "--check-config", NULL};
    assert_int_equal(sd_run(a1, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "batch-max = 4096\n"));

    /* The file's values, a flag over one of them, the secret redacted. */
    const char text[] = "# scittd\nbatch-max = 100\nlisten = 127.0.0.1:0\n"
                        "tls-cert = /etc/scittd/c.pem\ntls-key = /etc/scittd/k.pem\n"
                        "max-headers = 32\nplatform = virtual\ninsecure-virtual = true\n";
    sd_write_file(conf, text, sizeof(text) - 1);
    const char *a2[] = {"--config", conf, "--batch-max", "200", "--check-config", NULL};
    assert_int_equal(sd_run(a2, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "\nbatch-max = 200\n"));
    assert_non_null(strstr(out, "\nmax-headers = 32\n"));
    assert_non_null(strstr(out, "\ntls-key = <redacted>\n"));
    assert_null(strstr(out, "k.pem"));

    /* Bad lines: file and line named, exit 2, no data directory. */
    static const struct {
        const char *text, *says;
    } rows[] = {
        {"batch-max = 100\ncolour = blue\n", "scittd.conf:2: unknown key \"colour\""},
        {"# x\nbatch-max = 0\n", "scittd.conf:2: batch-max must be 1..1048576, not \"0\""},
        {"batch-max = 1\n\nbatch-max = 2\n", "scittd.conf:3: \"batch-max\" is set again"},
        {"listen 127.0.0.1:0\n", "scittd.conf:1: not a \"key = value\" line"},
        {"rate-limit = lots\n", "scittd.conf:1: rate-limit must look like 100/s"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        sd_write_file(conf, rows[i].text, strlen(rows[i].text));
        const char *a[] = {
            "--config",           conf,       "--data",      data, "--platform", "virtual",
            "--insecure-virtual", "--listen", "127.0.0.1:0", NULL};
        int st = sd_run(a, out, sizeof(out));
        if (st != 2 || !strstr(out, rows[i].says)) {
            fail_msg("row %zu: exit %d, output: %s", i, st, out);
        }
        struct stat sb;
        assert_int_not_equal(stat(data, &sb), 0);
    }

    /* A daemon configured by the file alone (the harness's flags aside): it registers with the
     * file's token and refuses without it. */
    static char tokens[256];
    snprintf(tokens, sizeof(tokens), "%s", sd_path(&sd, "tokens"));
    sd_write_file(tokens, "file-token-0123456789\n", 22);
    static char policy[256];
    snprintf(policy, sizeof(policy), "%s", sd_path(&sd, "policy.json"));
    const sd_issuer *list[] = {&alice};
    sd_write_policy(policy, list, 1, NULL);
    char live[1024];
    int l = snprintf(live, sizeof(live),
                     "auth-tokens = %s\nbatch-max = 8\nlog-level = warn\npolicy = %s\n", tokens,
                     policy);
    sd_write_file(conf, live, (size_t)l);
    const char *a3[] = {"--config", conf, NULL};
    sd_start(&sd, a3);
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:conf", "{}", &st);
    it_resp *r = sd_post(&sd, scitt_span_make(st.ptr, st.len), NULL);
    assert_int_equal(r->status, 401);
    free(r);
    r = sd_post(&sd, scitt_span_make(st.ptr, st.len),
                "Authorization: Bearer file-token-0123456789\r\n");
    assert_int_equal(r->status, 201);
    free(r);
    scitt_dynbuf_clear(&st);
    sd_stop(&sd);
}

/* ---- reload ---- */

static char log_path[256], conf_path[256], cert_path[256], key_path[256], tok_path[256];
static _Atomic int stop_load;
static _Atomic unsigned ok_reads, ok_regs, bad;
static char bad_what[256];

static const char T1[] = "first-token-0123456789", T2[] = "second-token-0123456789";

/* The DER of the certificate in @p path, and of the one a fresh connection is served. */
static size_t file_cert(const char *path, uint8_t *der, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    int n = i2d_X509(x, NULL);
    assert_true(n > 0 && (size_t)n <= cap);
    uint8_t *p = der;
    i2d_X509(x, &p);
    X509_free(x);
    return (size_t)n;
}

static bool served_is(const char *path)
{
    uint8_t want[4096], got[4096];
    size_t wl = file_cert(path, want, sizeof(want));
    it_conn *c = sd_connect(&sd);
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    assert_non_null(x);
    int n = i2d_X509(x, NULL);
    uint8_t *p = got;
    i2d_X509(x, &p);
    X509_free(x);
    it_close(c);
    return (size_t)n == wl && memcmp(got, want, wl) == 0;
}

static void note_bad(const char *what, int status)
{
    if (atomic_fetch_add(&bad, 1) == 0) {
        snprintf(bad_what, sizeof(bad_what), "%s: status %d", what, status);
    }
}

/* Fresh TLS connections, one GET each: every one must be answered 200. */
static void *reader(void *arg)
{
    (void)arg;
    while (!stop_load) {
        it_resp *r = sd_get(&sd, "/checkpoint");
        if (r->status == 200) {
            ok_reads++;
        } else {
            note_bad("GET /checkpoint", r->status);
        }
        free(r);
    }
    return NULL;
}

/* Registrations with T1 on one keep-alive connection opened before the reload. */
static void *registrar(void *arg)
{
    it_conn *c = arg;
    char payload[64], headers[256];
    snprintf(headers, sizeof(headers),
             "Content-Type: application/cose\r\nAuthorization: Bearer %s\r\n", T1);
    for (unsigned i = 0; !stop_load; i++) {
        scitt_dynbuf st;
        snprintf(payload, sizeof(payload), "{\"n\": %u}", i);
        sd_statement(&alice, "pkg:reload", payload, &st);
        sd_send(c, "POST", "/entries", headers, scitt_span_make(st.ptr, st.len));
        it_resp *r = sd_recv(c);
        if (r->status == 201) {
            ok_regs++;
        } else {
            note_bad("POST /entries", r->status);
        }
        free(r);
        scitt_dynbuf_clear(&st);
    }
    return NULL;
}

static char policy_path[256];

static void write_conf(const char *rate)
{
    char text[2048];
    int n = snprintf(text, sizeof(text),
                     "tls-cert = %s\ntls-key = %s\nauth-tokens = %s\npolicy = %s\n%s", cert_path,
                     key_path, tok_path, policy_path, rate);
    sd_write_file(conf_path, text, (size_t)n);
}

static void write_tokens(const char *a, const char *b)
{
    char text[256];
    int n = snprintf(text, sizeof(text), "%s\n%s\n", a, b ? b : "");
    sd_write_file(tok_path, text, (size_t)n);
}

static int post_with(const char *token, const char *payload)
{
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:reload", payload, &st);
    char h[256];
    snprintf(h, sizeof(h), "Authorization: Bearer %s\r\n", token);
    it_resp *r = sd_post(&sd, scitt_span_make(st.ptr, st.len), h);
    int status = r->status;
    free(r);
    scitt_dynbuf_clear(&st);
    return status;
}

static bool log_has(const char *what)
{
    static char text[1 << 16];
    FILE *f = fopen(log_path, "r");
    if (!f) {
        return false;
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    return strstr(text, what) != NULL;
}

/* SIGHUP and wait until the log shows @p what (a reload's result). */
static void hup_and_wait(const char *what)
{
    assert_int_equal(kill(sd.srv.pid, SIGHUP), 0);
    double deadline = it_now() + 10;
    while (!log_has(what)) {
        if (it_now() > deadline) {
            fail_msg("the log never said %s", what);
        }
        it_sleep_ms(20);
    }
}

static void test_reload(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(log_path, sizeof(log_path), "%s", sd_path(&sd, "scittd.log"));
    snprintf(conf_path, sizeof(conf_path), "%s", sd_path(&sd, "scittd.conf"));
    snprintf(cert_path, sizeof(cert_path), "%s", sd_path(&sd, "cert.pem"));
    snprintf(key_path, sizeof(key_path), "%s", sd_path(&sd, "key.pem"));
    snprintf(tok_path, sizeof(tok_path), "%s", sd_path(&sd, "tokens"));
    snprintf(policy_path, sizeof(policy_path), "%s", sd_path(&sd, "policy.json"));
    const sd_issuer *list[] = {&alice};
    sd_write_policy(policy_path, list, 1, NULL);
    assert_true(certgen_write(cert_path, key_path));
    write_tokens(T1, NULL);
    write_conf("rate-limit = 100000/s\n");
    /* The client trusts no one in particular: the test compares the served certificate itself. */
    sd.tls = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(sd.tls, SSL_VERIFY_NONE, NULL);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "exec \"$0\" \"$@\" 2>>%s", log_path);
    const char *argv[] = {"/bin/sh",
                          "-c",
                          cmd,
                          sd_bin(),
                          "--data",
                          sd.data,
                          "--listen",
                          "127.0.0.1:0",
                          "--platform",
                          "virtual",
                          "--insecure-virtual",
                          "--print-ports",
                          "--log-level",
                          "info",
                          "--config",
                          conf_path,
                          NULL};
    char line[128];
    it_spawn_ready(&sd.srv, argv, line, sizeof(line));
    assert_int_equal(sscanf(line, "READY port=%d", &sd.port), 1);
    assert_true(served_is(cert_path));

    /* Load: a keep-alive connection registering, fresh connections reading. */
    it_conn *keep = sd_connect(&sd);
    pthread_t rd, rg;
    stop_load = 0;
    assert_int_equal(pthread_create(&rg, NULL, registrar, keep), 0);
    assert_int_equal(pthread_create(&rd, NULL, reader, NULL), 0);
    it_sleep_ms(500);
    unsigned regs_before = ok_regs, reads_before = ok_reads;

    /* A new certificate and key, a second token; T1 stays. */
    static char old_cert[256];
    snprintf(old_cert, sizeof(old_cert), "%s", sd_path(&sd, "old-cert.pem"));
    assert_int_equal(rename(cert_path, old_cert), 0);
    assert_true(certgen_write(cert_path, key_path));
    write_tokens(T1, T2);
    hup_and_wait("event=reload ok=1");
    double deadline = it_now() + 5;
    while (!served_is(cert_path)) {
        assert_true(it_now() < deadline);
        it_sleep_ms(20);
    }
    it_sleep_ms(500);
    stop_load = 1;
    pthread_join(rd, NULL);
    pthread_join(rg, NULL);
    print_message("reload under load: %u registrations and %u reads, %u before the reload; %u "
                  "failed%s%s\n",
                  ok_regs, ok_reads, regs_before + reads_before, bad, bad ? ": " : "", bad_what);
    assert_int_equal(bad, 0);
    assert_true(ok_regs > regs_before && ok_reads > reads_before && regs_before > 0);
    /* The connection opened before the reload is still open and still served. */
    sd_send(keep, "GET", "/checkpoint", NULL, scitt_span_make(NULL, 0));
    it_resp *r = sd_recv(keep);
    assert_int_equal(r->status, 200);
    free(r);
    it_close(keep);
    assert_int_equal(post_with(T2, "{\"t2\": 1}"), 201);

    /* A bad reload: a key that does not match the certificate. Everything old stays. */
    static char stray_cert[256], stray_key[256];
    snprintf(stray_cert, sizeof(stray_cert), "%s", sd_path(&sd, "stray-cert.pem"));
    snprintf(stray_key, sizeof(stray_key), "%s", sd_path(&sd, "stray-key.pem"));
    assert_true(certgen_write(stray_cert, stray_key));
    static char good_key[256];
    snprintf(good_key, sizeof(good_key), "%s", sd_path(&sd, "good-key.pem"));
    assert_int_equal(rename(key_path, good_key), 0);
    assert_int_equal(rename(stray_key, key_path), 0);
    write_tokens(T2, NULL); /* would drop T1, but the reload fails as a whole */
    hup_and_wait("event=reload ok=0 reason=\"the TLS certificate or key cannot be used\"");
    assert_true(served_is(cert_path));
    assert_int_equal(post_with(T1, "{\"t1\": 2}"), 201);

    /* A bad line in the file: the same. */
    assert_int_equal(rename(good_key, key_path), 0);
    sd_write_file(conf_path, "tls-cert = x\ncolour = blue\n", 26);
    hup_and_wait("scittd.conf:2: unknown key");
    assert_int_equal(post_with(T1, "{\"t1\": 3}"), 201);

    /* A good reload again: T1 gone, a tight rate limit, a restart-only option noted. */
    write_conf("rate-limit = 1/s\nrate-burst = 2\nbatch-max = 9\n");
    hup_and_wait("option=batch-max");
    deadline = it_now() + 5;
    while (!log_has("tokens=1 rate=1")) {
        assert_true(it_now() < deadline);
        it_sleep_ms(20);
    }
    assert_int_equal(post_with(T1, "{\"t1\": 4}"), 401);
    int statuses[4];
    for (int i = 0; i < 4; i++) {
        r = sd_get(&sd, "/checkpoint");
        statuses[i] = r->status;
        free(r);
    }
    print_message("after the rate-limit reload: %d %d %d %d\n", statuses[0], statuses[1],
                  statuses[2], statuses[3]);
    assert_int_equal(statuses[3], 429);
    sd_stop(&sd);
}

/*
 * --keystore-key: the virtual platform's service keys encrypted under a key the operator gives;
 * a second data directory given the same encrypted keystore and key signs with the same keys
 * (instances sharing keys), another key or a key file others can read is refused.
 */
static void test_keystore_key(void **state)
{
    (void)state;
    static char out[8192], ks_key[256], other_key[256], enc[256], plain[256];
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    snprintf(ks_key, sizeof(ks_key), "%s", sd_path(&sd, "keystore.key"));
    snprintf(other_key, sizeof(other_key), "%s", sd_path(&sd, "other.key"));
    const char hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    sd_write_file(ks_key, hex, sizeof(hex) - 1);
    assert_int_equal(chmod(ks_key, 0600), 0);
    const char *ka[] = {"--keystore-key", ks_key, NULL};
    sd_start_policy(&sd, ka);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:a", "{\"n\":1}", &st);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&st);
    sd_stop(&sd);
    /* encrypted on disk, no plain keystore beside it */
    snprintf(enc, sizeof(enc), "%s/service-keys.enc", sd.data);
    snprintf(plain, sizeof(plain), "%s/service-keys", sd.data);
    struct stat sb;
    assert_int_equal(stat(enc, &sb), 0);
    assert_int_not_equal(stat(plain, &sb), 0);

    /* another data directory with the same encrypted keystore and key: the same service keys
     * (its receipts verify under the first one's) */
    sd_daemon b;
    sd_init(&b);
    assert_int_equal(mkdir(b.data, 0700), 0);
    char benc[256];
    snprintf(benc, sizeof(benc), "%s/service-keys.enc", b.data);
    sd_copy_file(enc, benc);
    sd_copy_file(sd_path(&sd, "policy.json"), sd_path(&b, "policy.json"));
    sd_start_policy(&b, ka);
    sd_statement(&alice, "pkg:b", "{\"n\":2}", &st);
    assert_int_equal(sd_register(&b, keys, scitt_span_make(st.ptr, st.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&st);
    sd_stop(&b);

    /* another key cannot open it: refused at start, nothing replaced */
    const char hex2[] = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    sd_write_file(other_key, hex2, sizeof(hex2) - 1);
    assert_int_equal(chmod(other_key, 0600), 0);
    const char *wrong[] = {"--data",
                           b.data,
                           "--listen",
                           "127.0.0.1:0",
                           "--platform",
                           "virtual",
                           "--insecure-virtual",
                           "--policy",
                           sd_path(&b, "policy.json"),
                           "--keystore-key",
                           other_key,
                           NULL};
    assert_int_not_equal(sd_run(wrong, out, sizeof(out)), 0);
    assert_int_equal(stat(benc, &sb), 0);
    /* a key file others can read, a malformed one, and another platform: usage errors */
    assert_int_equal(chmod(other_key, 0644), 0);
    assert_int_equal(sd_run(wrong, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "readable by group or others"));
    sd_write_file(other_key, "short", 5);
    assert_int_equal(chmod(other_key, 0600), 0);
    assert_int_equal(sd_run(wrong, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "32 bytes or 64 hex digits"));
    const char *snp[] = {"--data", b.data,           "--listen", "127.0.0.1:0", "--platform",
                         "snp",    "--keystore-key", ks_key,     NULL};
    assert_int_equal(sd_run(snp, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--keystore-key is for the virtual platform"));
    /* the right key still opens it */
    sd_start_policy(&b, ka);
    sd_stop(&b);
    assert_int_equal(sd_teardown(&b), 0);
    scitt_cose_keyset_free(keys);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore_key, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
