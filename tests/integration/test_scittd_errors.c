/*
 * scittd's error paths over real HTTP: every rejection of the check stage (malformed CBOR, bad
 * signatures, policy rules, untagged and detached statements, algorithms), 413 before the body,
 * 411, 415, 404/405, 429 with Retry-After and 401 for registration without the bearer token.
 * Every error body must be
 * RFC 9290 concise problem details with a title (-1) and a detail (-2). The full map is in
 * test_scittd_exhaust.c.
 *
 * Run as `test_scittd_errors <case>`: each ctest entry runs one case with its own daemon.
 */
#include "scittd_util.h"

static sd_daemon sd;
static sd_issuer alice, bob, mallory;

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    sd_issuer_init(&bob, SCITT_COSE_ALG_EDDSA, "https://bob.example");
    sd_issuer_init(&mallory, SCITT_COSE_ALG_ES256, "https://mallory.example");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    sd_issuer_clear(&bob);
    sd_issuer_clear(&mallory);
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

/* A statement by @p key claiming @p iss, with the options the rows below vary. */
static void custom(const scitt_cose_key *key, const char *iss, const char *sub, const char *ctype,
                   scitt_span payload, unsigned flags, scitt_dynbuf *out)
{
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = iss;
    o.sub = sub;
    o.with_kid = true;
    o.content_type = ctype;
    o.flags = flags;
    scitt_dynbuf_init(out, 0);
    assert_int_equal(su_statement(key, &o, payload, out), SCITT_OK);
}

/* Each row: what is wrong with the statement, and what the 400 must say. */
static void test_bad_statements(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice, &bob};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 2,
                    "\"algorithms\": [\"ES256\"], \"content_types\": [\"application/json\"], "
                    "\"max_statement_bytes\": 2048, ");
    /* --max-body above the policy's limit, so the policy's own size check answers */
    const char *args[] = {"--policy", sd_path(&sd, "policy.json"), "--max-body", "64K", NULL};
    sd_start(&sd, args);
    scitt_cose_keyset *keys = sd_keys(&sd);

    enum { ROWS = 15 };
    scitt_dynbuf s[ROWS];
    const char *title[ROWS], *detail[ROWS], *why[ROWS];
    size_t n = 0;
    static uint8_t big[3000];
    memset(big, 'x', sizeof(big));
#define ROW(t, d, w) (title[n] = (t), detail[n] = (d), why[n] = (w), &s[n++])
    scitt_dynbuf *b = ROW("Malformed request", "COSE_Sign1", "not CBOR at all");
    scitt_dynbuf_init(b, 0);
    scitt_dynbuf_str(b, "hello, world");
    b = ROW("Malformed request", "COSE_Sign1", "a CBOR map, not a COSE_Sign1");
    scitt_dynbuf_init(b, 0);
    scitt_dynbuf_put(b, "\xa1\x01\x02", 3);
    b = ROW("Malformed request", "COSE_Sign1", "truncated");
    sd_statement(&alice, "pkg:t", "{}", b);
    b->len -= 5;
    b = ROW("Malformed request", "COSE_Sign1", "a trailing byte");
    sd_statement(&alice, "pkg:t", "{}", b);
    scitt_dynbuf_u8(b, 0x00);
    b = ROW("Malformed request", "COSE_Sign1", "untagged");
    custom(alice.key, alice.iss, "pkg:t", "application/json", scitt_span_str("{}"),
           SCITT_SIGN1_NO_TAG_OUT, b);
    b = ROW("Malformed request", "COSE_Sign1", "tag 98 (COSE_Sign) instead of 18");
    {
        scitt_dynbuf t;
        sd_statement(&alice, "pkg:t", "{}", &t);
        scitt_dynbuf_init(b, 0);
        scitt_dynbuf_put(b, "\xd8\x62", 2);
        scitt_dynbuf_put(b, t.ptr + 1, t.len - 1);
        scitt_dynbuf_clear(&t);
    }
    b = ROW("Bad Signature", "signature", "a flipped signature bit");
    sd_statement(&alice, "pkg:t", "{}", b);
    b->ptr[b->len - 1] ^= 0x01;
    b = ROW("Bad Signature", "signature", "a changed payload");
    sd_statement(&alice, "pkg:t", "{\"v\": 1}", b);
    b->ptr[b->len - 66 - 3] ^= 0x01; /* inside the payload, before the 64-byte signature */
    b = ROW("Rejected", "issuer is not accepted", "an issuer the policy does not know");
    sd_statement(&mallory, "pkg:t", "{}", b);
    b = ROW("Rejected", "no key pinned", "a known issuer signing with another key");
    custom(mallory.key, alice.iss, "pkg:t", "application/json", scitt_span_str("{}"), 0, b);
    b = ROW("Rejected", "content type", "a content type the policy does not allow");
    custom(alice.key, alice.iss, "pkg:t", "text/plain", scitt_span_str("hi"), 0, b);
    b = ROW("Rejected", "2048", "larger than the policy's max_statement_bytes");
    custom(alice.key, alice.iss, "pkg:t", "application/json", scitt_span_make(big, sizeof(big)), 0,
           b);
    b = ROW("Payload Missing", "detached", "a detached payload");
    custom(alice.key, alice.iss, "pkg:t", "application/json", scitt_span_str("{}"),
           SCITT_SIGN1_DETACHED, b);
    b = ROW("Bad Signature Algorithm", "EdDSA", "an algorithm the policy does not accept");
    sd_statement(&bob, "pkg:t", "{}", b);
    b = ROW("Malformed request", "SCITT", "no sub in the CWT claims");
    custom(alice.key, alice.iss, NULL, "application/json", scitt_span_str("{}"), 0, b);
#undef ROW
    assert_int_equal(n, ROWS);
    for (size_t i = 0; i < n; i++) {
        it_resp *r = sd_post(&sd, scitt_span_make(s[i].ptr, s[i].len), NULL);
        if (r->status != 400) {
            fail_msg("row %zu (%s): status %d", i, why[i], r->status);
        }
        print_message("row %zu (%s)\n", i, why[i]);
        sd_expect_problem(r, 400, title[i], detail[i]);
        free(r);
        scitt_dynbuf_clear(&s[i]);
    }
    /* Nothing was registered, and a good statement still is. */
    sd_config c;
    sd_get_config(&sd, &c);
    sd_checkpoint cp;
    sd_get_checkpoint(&sd, &c, &cp);
    assert_int_equal(cp.cp.size, 1);
    scitt_dynbuf good;
    sd_statement(&alice, "pkg:t", "{}", &good);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(good.ptr, good.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&good);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* Sends @p head (a request without its body) on a fresh connection and reads the answer. */
static it_resp *head_only(const char *head)
{
    it_conn *c = sd_connect(&sd);
    it_sends(c, head);
    it_resp *r = sd_recv(c);
    it_close(c);
    return r;
}

/* 413 before the body is read, 411, 415, 404 and 405. */
static void test_http_errors(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    const char *args[] = {"--policy", sd_path(&sd, "policy.json"), "--max-body", "1024", NULL};
    sd_start(&sd, args);
    /* The body is never sent: the answer must come from the headers alone. */
    it_resp *r = head_only("POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
                           "Content-Length: 5000\r\n\r\n");
    sd_expect_problem(r, 413, "Content Too Large", "limit");
    free(r);
    r = head_only("POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
                  "Content-Length: 1025\r\nExpect: 100-continue\r\n\r\n");
    sd_expect_problem(r, 413, "Content Too Large", NULL);
    free(r);
    /* At the limit it is read and checked (and is not a statement). */
    static uint8_t junk[1024];
    memset(junk, 0x41, sizeof(junk));
    r = sd_post(&sd, scitt_span_make(junk, sizeof(junk)), NULL);
    sd_expect_problem(r, 400, "Malformed request", NULL);
    free(r);
    /* A chunked body over the limit fails as it arrives. */
    {
        it_conn *c = sd_connect(&sd);
        it_sends(c, "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n");
        char chunk[600];
        memset(chunk, 'a', sizeof(chunk));
        for (int i = 0; i < 2; i++) {
            it_sends(c, "258\r\n");
            it_send(c, chunk, sizeof(chunk));
            it_sends(c, "\r\n");
        }
        r = sd_recv(c);
        sd_expect_problem(r, 413, "Content Too Large", NULL);
        free(r);
        it_close(c);
    }
    r = head_only("POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n\r\n");
    sd_expect_problem(r, 411, "Length Required", NULL);
    free(r);
    /* Media types: only application/cose (parameters aside). */
    static const char *const types[] = {"Content-Type: application/json\r\n",
                                        "Content-Type: application/cbor\r\n",
                                        "Content-Type: application/cose-x\r\n", ""};
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:t", "{}", &st);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        r = sd_call(&sd, "POST", "/entries", types[i], scitt_span_make(st.ptr, st.len));
        sd_expect_problem(r, 415, "Unsupported Media Type", NULL);
        free(r);
    }
    r = sd_call(&sd, "POST", "/entries",
                "Content-Type: Application/COSE; cose-type=\"cose-sign1\"\r\n",
                scitt_span_make(st.ptr, st.len));
    assert_int_equal(r->status, 201);
    free(r);
    scitt_dynbuf_clear(&st);
    /* Unknown resources and methods. */
    r = sd_get(&sd, "/nothing-here");
    sd_expect_problem(r, 404, "Not Found", NULL);
    free(r);
    r = sd_call(&sd, "DELETE", "/entries", NULL, scitt_span_make(NULL, 0));
    sd_expect_problem(r, 405, "Method Not Allowed", NULL);
    free(r);
    r = sd_call(&sd, "POST", "/checkpoint", "Content-Type: application/cose\r\n",
                scitt_span_str("x"));
    sd_expect_problem(r, 405, "Method Not Allowed", NULL);
    char allow[64];
    assert_non_null(it_header(r, "Allow", allow, sizeof(allow)));
    assert_non_null(strstr(allow, "GET"));
    free(r);
    sd_stop(&sd);
}

/* --rate-limit: 429 with Retry-After once the burst is spent, service again after it. */
static void test_rate_limit(void **state)
{
    (void)state;
    const char *args[] = {"--rate-limit", "5/s", NULL};
    sd_start(&sd, args);
    int limited = 0, ok = 0, retry = 0;
    double t0 = it_now();
    for (int i = 0; i < 40; i++) {
        it_resp *r = sd_get(&sd, "/checkpoint");
        if (r->status == 429) {
            sd_expect_problem(r, 429, "Too Many Requests", "rate limit");
            char v[32];
            assert_non_null(it_header(r, "Retry-After", v, sizeof(v)));
            retry = atoi(v);
            assert_true(retry >= 1 && retry <= 60);
            limited++;
        } else {
            assert_int_equal(r->status, 200);
            ok++;
        }
        free(r);
    }
    /* A burst of 2 x 5 (one token went to the readiness probe), plus what refilled at 5/s
     * while the loop ran; everything beyond was refused. */
    double elapsed = it_now() - t0;
    assert_true(ok >= 9);
    assert_true(ok <= 10 + (int)(5 * elapsed) + 1);
    assert_true(limited >= 1);
    assert_int_equal(ok + limited, 40);
    it_sleep_ms(retry * 1000 + 100);
    it_resp *r = sd_get(&sd, "/checkpoint");
    assert_int_equal(r->status, 200);
    free(r);
    sd_stop(&sd);
}

/* --auth-tokens: registration needs a bearer token from the file; reads do not. */
static void test_auth(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    const char tokens[] = "# registration tokens\n\nfirst-token-0123456789\r\n"
                          "second-token-abcdefghij   \n"
                          "   \tthird-token-indented-0123\n";
    sd_write_file(sd_path(&sd, "tokens"), tokens, strlen(tokens));
    const char *args[] = {"--policy", sd_path(&sd, "policy.json"), "--auth-tokens",
                          sd_path(&sd, "tokens"), NULL};
    sd_start(&sd, args);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:auth", "{}", &st);
    scitt_span s = scitt_span_make(st.ptr, st.len);
    static const char *const refused[] = {
        NULL,
        "Authorization: Bearer wrong-token-0123456789\r\n",
        "Authorization: Bearer first-token-012345678\r\n",   /* a prefix */
        "Authorization: Bearer first-token-01234567890\r\n", /* one more character */
        "Authorization: Basic Zmlyc3QtdG9rZW4tMDEyMzQ1Njc4OQ==\r\n",
        "Authorization: first-token-0123456789\r\n",
        "Authorization: Bearer \r\n",
        "Authorization: Bearer # registration tokens\r\n", /* comments are not tokens */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        it_resp *r = sd_post(&sd, s, refused[i]);
        sd_expect_problem(r, 401, "Unauthorized", "bearer token");
        sd_expect_header(r, "WWW-Authenticate", "Bearer");
        free(r);
    }
    /* Reads need no token. */
    it_resp *r = sd_get(&sd, "/checkpoint");
    assert_int_equal(r->status, 200);
    free(r);
    /* Both tokens work (trailing blanks in the file do not count; the scheme is case-blind). */
    r = sd_post(&sd, s, "Authorization: Bearer first-token-0123456789\r\n");
    assert_int_equal(r->status, 201);
    sd_verify_receipt(sd_body(r), s, keys, NULL);
    free(r);
    r = sd_post(&sd, s, "Authorization: bearer second-token-abcdefghij\r\n");
    assert_int_equal(r->status, 201);
    free(r);
    /* A token on an indented line is the token without its indentation. */
    r = sd_post(&sd, s, "Authorization: Bearer third-token-indented-0123\r\n");
    assert_int_equal(r->status, 201);
    free(r);
    /*
     * The token is checked as soon as the headers are complete: the 401 comes before a byte of
     * the announced body is sent (it used to wait for the whole body, up to the body timeout),
     * the body is not read, and the connection closes after the answer. With Expect:
     * 100-continue the client gets the 401 instead of a 100.
     */
    static const char *const early[] = {
        "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
        "Authorization: Bearer wrong-token-0123456789\r\nContent-Length: 60000\r\n\r\n",
        "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
        "Content-Length: 60000\r\nExpect: 100-continue\r\n\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        it_conn *c = sd_connect(&sd);
        it_sends(c, early[i]);
        it_resp *e = malloc(sizeof(*e));
        assert_non_null(e);
        double t0 = it_now();
        assert_int_equal(it_read(c, e, 3000, false), 1);
        print_message("401 before the body after %.0f ms\n", (it_now() - t0) * 1000);
        sd_expect_problem(e, 401, "Unauthorized", "bearer token");
        sd_expect_header(e, "Connection", "close");
        assert_true(it_closed(c, 3000));
        free(e);
        it_close(c);
    }
    scitt_dynbuf_clear(&st);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * A daemon that cannot run as configured exits at once with 2 (configuration) or 1 (the
 * environment) and says why on stderr: no --insecure-virtual, no SEV-SNP device, bad policy or
 * TLS files, bad option values or configuration file lines (named by file and line), a port in
 * use (named, "already in use"), and a data directory another scittd holds. None of them creates
 * the data directory, and the running daemon is not disturbed by any of them.
 */
static void test_startup_errors(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    sd_write_file(sd_path(&sd, "bad.json"), "{\"version\": 1,", 14);
    sd_write_file(sd_path(&sd, "junk.pem"), "not a pem\n", 10);
    sd_write_file(sd_path(&sd, "short-tokens"), "short\n", 6);
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    static char other[256], policy[256], bad[256], junk[256], tokens[256], port[64];
    snprintf(other, sizeof(other), "%s", sd_path(&sd, "other"));
    snprintf(policy, sizeof(policy), "%s", sd_path(&sd, "policy.json"));
    snprintf(bad, sizeof(bad), "%s", sd_path(&sd, "bad.json"));
    snprintf(junk, sizeof(junk), "%s", sd_path(&sd, "junk.pem"));
    snprintf(tokens, sizeof(tokens), "%s", sd_path(&sd, "short-tokens"));
    snprintf(port, sizeof(port), "127.0.0.1:%d", sd.port);
    static char conf[256];
    snprintf(conf, sizeof(conf), "%s", sd_path(&sd, "scittd.conf"));
    sd_write_file(conf, "batch-max = 16\ncolour = blue\n", 29);
#define V "--platform", "virtual", "--insecure-virtual"
#define L "--listen", "127.0.0.1:0"
    static const struct {
        int status;
        const char *says;
        const char *args[16];
    } rows[] = {
        {2, "INSECURE", {"--data", other, L, "--platform", "virtual", NULL}},
        {2, "SEV-SNP", {"--data", other, L, "--platform", "snp", NULL}},
        {2, "no TDX guest", {"--data", other, L, "--platform", "tdx", NULL}},
        {2, "must be auto, snp, tdx or virtual", {"--data", other, L, "--platform", "sgx", NULL}},
        {2, "cannot open", {"--data", other, L, V, "--policy", "/nonexistent/policy.json", NULL}},
        {2, "JSON", {"--data", other, L, V, "--policy", bad, NULL}},
        {2, "go together", {"--data", other, L, V, "--tls-cert", junk, NULL}},
        {1,
         "TLS certificate or key",
         {"--data", other, L, V, "--tls-cert", junk, "--tls-key", junk, NULL}},
        {2, "at least 16", {"--data", other, L, V, "--auth-tokens", tokens, NULL}},
        {2, "--batch-max", {"--data", other, L, V, "--batch-max", "0", NULL}},
        {2, "--rate-limit", {"--data", other, L, V, "--rate-limit", "fast", NULL}},
        {2, "--map-size", {"--data", other, L, V, "--map-size", "10", NULL}},
        {2, "--max-body", {"--data", other, L, V, "--max-body", "17M", NULL}},
        {2, "--receipt-alg", {"--data", other, L, V, "--receipt-alg", "RS256", NULL}},
        {2, "unknown option", {"--data", other, L, V, "--colour", NULL}},
        {1, "already in use", {"--data", other, "--listen", port, V, NULL}},
        {1, port, {"--data", other, "--listen", port, V, NULL}},
        {2, "in use", {"--data", sd.data, L, V, "--policy", policy, NULL}},
        {2, "max-headers must be 8..1024", {"--data", other, L, V, "--max-headers", "7", NULL}},
        {2, "cannot open", {"--data", other, L, V, "--config", "/nonexistent/scittd.conf", NULL}},
        {2, ":2: unknown key \"colour\"", {"--data", other, L, V, "--config", conf, NULL}},
    };
#undef V
#undef L
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        static char out[8192];
        int st = sd_run(rows[i].args, out, sizeof(out));
        if (st != rows[i].status || !strstr(out, rows[i].says)) {
            fail_msg("row %zu: exit %d (wanted %d), output: %s", i, st, rows[i].status, out);
        }
        /* Nothing was made: no row leaves a data directory behind, not even a half-made one. */
        struct stat sb;
        if (stat(other, &sb) == 0) {
            fail_msg("row %zu (%s) left %s behind", i, rows[i].says, other);
        }
    }
    /* The running daemon noticed nothing. */
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:startup", "{}", &st);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&st);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_startup_errors, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
