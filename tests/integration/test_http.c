/*
 * HTTP/1.1 behaviour of the server layer over real sockets against http_testd: keep-alive,
 * pipelining in order, chunked bodies, request smuggling, body and header limits answered
 * before the body, problem details, 100-continue, HEAD, and the counters.
 *
 * Run as `test_http <case>`: each ctest entry runs one case with its own server process.
 */
#include "itest.h"

static it_server srv;

static int teardown(void **state)
{
    (void)state;
    if (srv.pid > 0) {
        assert_int_equal(it_stop(&srv), 0);
    }
    return 0;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

static void expect_ok(it_conn *c, it_resp *r, const char *body)
{
    assert_int_equal(it_read(c, r, 5000, false), 1);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, strlen(body));
    assert_memory_equal(r->body, body, r->body_len);
}

static void expect_problem(it_conn *c, int status, bool closes)
{
    it_resp r;
    char title[256], detail[256], v[64];
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, status);
    it_problem(&r, title, detail, sizeof(title));
    if (closes) {
        assert_non_null(it_header(&r, "Connection", v, sizeof(v)));
        assert_string_equal(v, "close");
        assert_true(it_closed(c, 5000));
    }
}

/* Three requests one after another on one connection, each answered. */
static void test_keepalive(void **state)
{
    (void)state;
    it_start(&srv, NULL);
    it_conn *c = it_connect(srv.plain);
    it_resp r;
    for (int i = 0; i < 3; i++) {
        it_sends(c, GET("/hello"));
        expect_ok(c, &r, "hello\n");
        char v[64];
        assert_null(it_header(&r, "Connection", v, sizeof(v)));
    }
    /* HTTP/1.0 keep-alive is honoured and said so. */
    it_sends(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect_ok(c, &r, "hello\n");
    char v[64];
    assert_non_null(it_header(&r, "Connection", v, sizeof(v)));
    assert_string_equal(v, "keep-alive");
    /* Connection: close is honoured: answer, then close. */
    it_sends(c, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" GET("/hello"));
    expect_ok(c, &r, "hello\n");
    assert_true(it_closed(c, 5000));
    it_close(c);
    /* curl reuses the connection for the second URL: one connect, then none. */
    char url[64], out[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello", srv.plain);
    const char *argv[] = {"curl", "-s",        "-o", "/dev/null",
                          "-o",   "/dev/null", "-w", "%{num_connects} ",
                          url,    url,         NULL};
    assert_int_equal(it_run(argv, out, sizeof(out), 10000), 0);
    assert_string_equal(out, "1 0 ");
}

/*
 * Pipelined requests whose handlers finish in the reverse order (thread-completed delays,
 * worker-pool completion, immediate ones) come back strictly in request order.
 */
static void test_pipelining(void **state)
{
    (void)state;
    const char *args[] = {"--pipeline", "4", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    it_sends(c, GET("/delay?ms=400&id=0") GET("/echo?id=1") GET("/delay?ms=200&id=2")
                    GET("/work?id=3") GET("/delay?ms=0&id=4") GET("/hello"));
    it_resp r;
    expect_ok(c, &r, "id=0");
    expect_ok(c, &r, "");
    expect_ok(c, &r, "id=2");
    expect_ok(c, &r, "id=3");
    expect_ok(c, &r, "id=4");
    expect_ok(c, &r, "hello\n");
    /* Forty at once with a pipeline depth of 4: reading pauses and resumes, order holds. */
    char all[40 * 64];
    size_t len = 0;
    for (int i = 0; i < 40; i++) {
        len +=
            (size_t)snprintf(all + len, sizeof(all) - len,
                             "GET /delay?ms=%d&id=%d HTTP/1.1\r\nHost: t\r\n\r\n", (i * 7) % 20, i);
    }
    it_send(c, all, len);
    for (int i = 0; i < 40; i++) {
        char want[16];
        snprintf(want, sizeof(want), "id=%d", i);
        expect_ok(c, &r, want);
    }
    it_close(c);
}

/* Chunked bodies, fed in dribbles across chunk boundaries, and from curl. */
static void test_chunked(void **state)
{
    (void)state;
    it_start(&srv, NULL);
    it_conn *c = it_connect(srv.plain);
    const char *req = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5;ext=1\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer: x\r\n\r\n";
    size_t req_len = strlen(req);
    for (size_t i = 0; i < req_len; i += 3) {
        it_send(c, req + i, req_len - i < 3 ? req_len - i : 3);
        it_sleep_ms(2);
    }
    it_resp r;
    expect_ok(c, &r, "hello world!");
    char v[64];
    assert_string_equal(it_header(&r, "X-Echo-Len", v, sizeof(v)), "12");
    it_close(c);

    char dir[64], path[128], url[64], out[1 << 16];
    it_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/body", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 20000; i++) {
        fputc('a' + i % 26, f);
    }
    fclose(f);
    char at[160];
    snprintf(at, sizeof(at), "@%s", path);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", srv.plain);
    const char *argv[] = {"curl",          "-s", "-H", "Transfer-Encoding: chunked",
                          "--data-binary", at,   url,  NULL};
    assert_int_equal(it_run(argv, out, sizeof(out), 10000), 0);
    assert_int_equal(strlen(out), 20000);
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(out[i], 'a' + i % 26);
    }
    unlink(path);
    rmdir(dir);
}

/*
 * Request smuggling and malformed framing: each row is answered 400 with problem details and
 * the connection closes, so a request hidden in the body is never answered.
 */
static void test_smuggling(void **state)
{
    (void)state;
    static const struct {
        const char *why;
        const char *req;
    } rows[] = {
        {"CL then TE", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: "
                       "chunked\r\n\r\n0\r\n\r\n" GET("/hello")},
        {"TE then CL", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-"
                       "Length: 40\r\n\r\n0\r\n\r\n" GET("/hello")},
        {"conflicting CL", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: "
                           "30\r\n\r\nabc" GET("/hello")},
        {"repeated CL", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: "
                        "3\r\n\r\nabc"},
        {"CL list", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nabc"},
        {"negative CL", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"},
        {"bad chunk size", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "zz\r\nabc\r\n0\r\n\r\n"},
        {"chunk without CRLF", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                               "\r\n3\r\nabcX0\r\n\r\n"},
        {"chunked not last", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, "
                             "gzip\r\n\r\n"},
        {"unknown coding", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nab"},
        {"space before colon", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length : 3\r\n\r\nabc"},
        {"obs-fold", "GET /echo HTTP/1.1\r\nHost: t\r\nX-Test: a\r\n b\r\n\r\n"},
        {"bare LF", "GET /echo HTTP/1.1\nHost: t\n\n"},
        {"no Host", "GET /echo HTTP/1.1\r\n\r\n"},
        {"two Hosts", "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
        {"bad target", "GET echo HTTP/1.1\r\nHost: t\r\n\r\n"},
        {"bad version", "GET /echo HTTP/7.1\r\nHost: t\r\n\r\n"},
        {"control char in value", "GET /echo HTTP/1.1\r\nHost: t\r\nX-Test: a\x01z\r\n\r\n"},
    };
    it_start(&srv, NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        print_message("row: %s\n", rows[i].why);
        it_conn *c = it_connect(srv.plain);
        it_sends(c, rows[i].req);
        expect_problem(c, 400, true);
        it_close(c);
    }
    /* A valid request on a fresh connection still works: the server is fine. */
    it_conn *c = it_connect(srv.plain);
    it_sends(c, GET("/hello"));
    it_resp r;
    expect_ok(c, &r, "hello\n");
    it_close(c);
}

/*
 * 413 comes from the headers alone: the client never sends the announced body and still gets
 * the answer at once. A chunked body is cut off when it crosses the limit.
 */
static void test_body_limit(void **state)
{
    (void)state;
    const char *args[] = {"--max-body", "1000", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    double t0 = it_now();
    it_sends(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n");
    expect_problem(c, 413, true);
    assert_true(it_now() - t0 < 2.0);
    it_close(c);

    c = it_connect(srv.plain);
    it_sends(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[700];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 2; i++) {
        it_sends(c, "2bc\r\n");
        it_send(c, chunk, sizeof(chunk));
        it_sends(c, "\r\n");
    }
    expect_problem(c, 413, true);
    it_close(c);

    /* At the limit exactly is fine; the route's own limit (4096 on /cbor) applies there. */
    c = it_connect(srv.plain);
    char req[1200];
    int n = snprintf(req, sizeof(req),
                     "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    memset(req + n, 'y', 1000);
    it_send(c, req, (size_t)n + 1000);
    it_resp r;
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 1000);
    it_sends(c, "POST /cbor HTTP/1.1\r\nHost: t\r\nContent-Type: application/cbor\r\n"
                "Content-Length: 5000\r\n\r\n");
    expect_problem(c, 413, true);
    it_close(c);
}

/* Header bytes, header count and target length limits. */
static void test_header_limits(void **state)
{
    (void)state;
    const char *args[] = {
        "--max-header-bytes", "2000", "--max-headers", "10", "--max-url", "500", NULL};
    it_start(&srv, args);
    char req[8192];
    it_conn *c = it_connect(srv.plain);
    int n = snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: t\r\nX-Test: ");
    memset(req + n, 'v', 3000);
    snprintf(req + n + 3000, sizeof(req) - (size_t)n - 3000, "\r\n\r\n");
    it_sends(c, req);
    expect_problem(c, 431, true);
    it_close(c);

    c = it_connect(srv.plain);
    n = snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 12; i++) {
        n += snprintf(req + n, sizeof(req) - (size_t)n, "X-H%d: %d\r\n", i, i);
    }
    snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
    it_sends(c, req);
    expect_problem(c, 431, true);
    it_close(c);

    c = it_connect(srv.plain);
    n = snprintf(req, sizeof(req), "GET /echo?");
    memset(req + n, 'q', 600);
    snprintf(req + n + 600, sizeof(req) - (size_t)n - 600, " HTTP/1.1\r\nHost: t\r\n\r\n");
    it_sends(c, req);
    expect_problem(c, 414, true);
    it_close(c);

    /* Just under the limits is fine. */
    c = it_connect(srv.plain);
    n = snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 9; i++) {
        n += snprintf(req + n, sizeof(req) - (size_t)n, "X-H%d: %d\r\n", i, i);
    }
    snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
    it_sends(c, req);
    it_resp r;
    expect_ok(c, &r, "");
    it_close(c);
}

/* The layer's own errors and a handler's: status, problem body, and the extra headers. */
static void test_problems(void **state)
{
    (void)state;
    it_start(&srv, NULL);
    it_conn *c = it_connect(srv.plain);
    it_resp r;
    char v[128], title[256], detail[256];

    it_sends(c, GET("/nowhere"));
    expect_problem(c, 404, false);
    it_sends(c, "DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 405);
    it_problem(&r, title, detail, sizeof(title));
    assert_string_equal(it_header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
    /* A rejected request's body is skipped and the connection stays usable. */
    it_sends(c, "POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde" GET("/hello"));
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 405);
    expect_ok(c, &r, "hello\n");
    it_sends(c, "POST /cbor HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: "
                "2\r\n\r\nhi");
    expect_problem(c, 415, false);
    it_sends(c, "POST /cbor HTTP/1.1\r\nHost: t\r\nContent-Type: application/cbor\r\n\r\n");
    expect_problem(c, 411, false);
    it_sends(c, "POST /cbor HTTP/1.1\r\nHost: t\r\nContent-Type: application/cbor; x=1\r\n"
                "Content-Length: 2\r\n\r\n\xa0\xa0");
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 201);
    assert_string_equal(it_header(&r, "Location", v, sizeof(v)), "/cbor/1");
    it_sends(c, GET("/status?code=503"));
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 503);
    it_problem(&r, title, detail, sizeof(title));
    assert_string_equal(title, "Test Problem");
    assert_string_equal(detail, "Requested by the test");
    assert_string_equal(it_header(&r, "Retry-After", v, sizeof(v)), "7");
    /* HEAD on a GET route: the length of the body, no body; the next response follows. */
    it_sends(c, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n" GET("/hello"));
    assert_int_equal(it_read(c, &r, 5000, true), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.content_length, 6);
    expect_ok(c, &r, "hello\n");
    /* A prefix route matches below its prefix only; query strings are split off. */
    it_sends(c, GET("/prefix/a/b?x=1&y"));
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 200);
    assert_string_equal(it_header(&r, "X-Echo-Path", v, sizeof(v)), "/prefix/a/b");
    assert_string_equal(it_header(&r, "X-Echo-Query", v, sizeof(v)), "x=1&y");
    it_sends(c, GET("/prefix"));
    expect_problem(c, 404, false);
    /* Absolute-form targets are accepted (RFC 9112 §3.2.2). */
    it_sends(c, "GET http://t/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_ok(c, &r, "hello\n");
    it_sends(c, "GET /echo HTTP/1.1\r\nHost: t\r\nExpect: something\r\n\r\n");
    expect_problem(c, 417, true);
    it_close(c);
}

/* Expect: 100-continue gets the interim response before the body is sent. */
static void test_expect_continue(void **state)
{
    (void)state;
    const char *args[] = {"--max-body", "100", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    it_resp r;
    it_sends(c,
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 100);
    it_sends(c, "12345");
    expect_ok(c, &r, "12345");
    /* Too large: the final 413 instead of 100, and the body is not awaited. */
    it_sends(
        c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n");
    expect_problem(c, 413, true);
    it_close(c);
    /* curl sends Expect for large bodies and must get through without its 1 s fallback. */
    char dir[64], path[128], at[160], url[64], out[256];
    it_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/b", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("0123456789012345678901234567890123456789", f);
    fclose(f);
    snprintf(at, sizeof(at), "@%s", path);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", srv.plain);
    const char *argv[] = {
        "curl",          "-s", "-H", "Expect: 100-continue", "--data-binary", at, "-w",
        " %{http_code}", url,  NULL};
    double t0 = it_now();
    assert_int_equal(it_run(argv, out, sizeof(out), 10000), 0);
    assert_string_equal(out, "0123456789012345678901234567890123456789 200");
    assert_true(it_now() - t0 < 0.9);
    unlink(path);
    rmdir(dir);
}

/* Counters by route and status. */
static void test_metrics(void **state)
{
    (void)state;
    it_start(&srv, NULL);
    it_conn *c = it_connect(srv.plain);
    it_resp r;
    for (int i = 0; i < 3; i++) {
        it_sends(c, GET("/hello"));
        expect_ok(c, &r, "hello\n");
    }
    /* Responses are counted once written, so read the 404 before asking for the counters. */
    it_sends(c, GET("/nowhere"));
    expect_problem(c, 404, false);
    it_sends(c, GET("/metrics"));
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    r.body[r.body_len < sizeof(r.body) ? r.body_len : sizeof(r.body) - 1] = 0;
    assert_non_null(strstr((char *)r.body, "route hello 200 3\n"));
    assert_non_null(strstr((char *)r.body, "route (none) 404 1\n"));
    assert_non_null(strstr((char *)r.body, "conns_open 1\n"));
    assert_non_null(strstr((char *)r.body, "requests 4\n"));
    it_close(c);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_keepalive, teardown),
        cmocka_unit_test_teardown(test_pipelining, teardown),
        cmocka_unit_test_teardown(test_chunked, teardown),
        cmocka_unit_test_teardown(test_smuggling, teardown),
        cmocka_unit_test_teardown(test_body_limit, teardown),
        cmocka_unit_test_teardown(test_header_limits, teardown),
        cmocka_unit_test_teardown(test_problems, teardown),
        cmocka_unit_test_teardown(test_expect_continue, teardown),
        cmocka_unit_test_teardown(test_metrics, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
