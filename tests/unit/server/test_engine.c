/*
 * The protocol engine without sockets, through the memory transport: exact answers for valid
 * requests fed at every split point, a table of malformed requests each with its status and a
 * reason, pipelining with handlers completing in reverse order, pausing and resuming at the
 * pipeline limit, 100-continue ordering, timeouts, orphaned requests, partial writes.
 */
#include "testutil.h"

#include "http_impl.h"
#include "scitt/problem.h"

static scitt_http_server *srv;
static scitt_http_req *held[64];
static size_t nheld;
static int released;

static void h_echo(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_http_res_status(req, 200);
    assert_int_equal(scitt_http_res_body_copy(req, "text/plain", scitt_http_req_body(req)),
                     SCITT_OK);
    scitt_http_complete(req);
}

static void h_hold(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    assert_true(nheld < 64);
    held[nheld++] = req;
}

static void on_release(void *ctx)
{
    (void)ctx;
    released++;
}

static void finish(scitt_http_req *req, const char *body)
{
    scitt_http_res_status(req, 200);
    assert_int_equal(
        scitt_http_res_body_borrow(req, "text/plain", scitt_span_str(body), on_release, NULL),
        SCITT_OK);
    scitt_http_complete(req);
}

static void make_server(const scitt_http_config *cfg)
{
    assert_int_equal(scitt__http_server_new_detached(cfg, &srv), SCITT_OK);
    scitt_http_route echo = {
        "echo", SCITT_HTTP_GET | SCITT_HTTP_POST, "/echo", false, h_echo, NULL, 0, NULL, false};
    scitt_http_route hold = {
        "hold", SCITT_HTTP_GET | SCITT_HTTP_POST, "/hold", false, h_hold, NULL, 0, NULL, false};
    scitt_http_route cbor = {"cbor", SCITT_HTTP_POST,    "/cbor", false, h_echo, NULL,
                             100,    "application/cbor", true};
    assert_int_equal(scitt_http_server_route(srv, &echo), SCITT_OK);
    assert_int_equal(scitt_http_server_route(srv, &hold), SCITT_OK);
    assert_int_equal(scitt_http_server_route(srv, &cbor), SCITT_OK);
    nheld = 0;
    released = 0;
}

static int setup(void **state)
{
    (void)state;
    make_server(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt__http_server_free_detached(srv);
    srv = NULL;
    return 0;
}

static void feed(scitt__mem_conn *m, const char *s, size_t n)
{
    scitt__http_conn_input(&m->c, (const uint8_t *)s, n);
}

/* Status codes of every response in @p out, in order; returns the count. */
static size_t statuses(const scitt_dynbuf *out, int *st, size_t max)
{
    size_t n = 0;
    const char *p = (const char *)out->ptr, *end = p + out->len;
    while (p && p < end && n < max) {
        const char *h = memmem(p, (size_t)(end - p), "HTTP/1.1 ", 9);
        if (!h) {
            break;
        }
        st[n++] = atoi(h + 9);
        p = h + 9;
    }
    return n;
}

/* The body of the i-th response (by Content-Length), NUL-terminated into @p buf. */
static const char *body_of(const scitt_dynbuf *out, size_t idx, char *buf, size_t cap)
{
    const char *p = (const char *)out->ptr, *end = p + out->len;
    for (size_t i = 0;; i++) {
        const char *h = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        assert_non_null(h);
        const char *cl = memmem(p, (size_t)(h - p), "Content-Length: ", 16);
        size_t len = cl ? (size_t)atoi(cl + 16) : 0;
        if (i == idx) {
            assert_true(len < cap);
            memcpy(buf, h + 4, len);
            buf[len] = 0;
            return buf;
        }
        p = h + 4 + len;
    }
}

/* A request fed in two pieces at every split point, and a byte at a time, answers the same. */
static void test_split_points(void **state)
{
    (void)state;
    const char req[] = "POST /echo?a=1 HTTP/1.1\r\nHost: example\r\nX-Long: one two  three\t\r\n"
                       "Content-Length: 11\r\n\r\nhello world"
                       "POST /echo HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
    size_t n = sizeof(req) - 1;
    for (size_t split = 0; split <= n; split++) {
        scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
        feed(m, req, split);
        feed(m, req + split, n - split);
        int st[4];
        char b[64];
        assert_int_equal(statuses(&m->out, st, 4), 2);
        assert_int_equal(st[0], 200);
        assert_int_equal(st[1], 200);
        assert_string_equal(body_of(&m->out, 0, b, sizeof(b)), "hello world");
        assert_string_equal(body_of(&m->out, 1, b, sizeof(b)), "abcde");
        assert_false(m->closed);
        scitt__http_mem_conn_free(m);
    }
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    for (size_t i = 0; i < n; i++) {
        feed(m, req + i, 1);
    }
    int st[4];
    assert_int_equal(statuses(&m->out, st, 4), 2);
    scitt__http_mem_conn_free(m);
    /* An obs-fold is refused wherever the reads are split. */
    const char fold[] = "GET /echo HTTP/1.1\r\nHost: e\r\nX-A: one\r\n two\r\n\r\n";
    for (size_t split = 0; split <= sizeof(fold) - 1; split++) {
        m = scitt__http_mem_conn_new(srv, false);
        feed(m, fold, split);
        feed(m, fold + split, sizeof(fold) - 1 - split);
        assert_int_equal(statuses(&m->out, st, 4), 1);
        assert_int_equal(st[0], 400);
        assert_true(m->closed);
        scitt__http_mem_conn_free(m);
    }
}

/* Malformed or refused requests: the status, whether the connection survives, and why. */
static void test_reject_table(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        int status;
        bool closes;
        const char *why;
    } rows[] = {
        {"GET /none HTTP/1.1\r\nHost: e\r\n\r\n", 404, false, "no route"},
        {"PUT /cbor HTTP/1.1\r\nHost: e\r\nContent-Length: 1\r\n\r\nx", 405, false,
         "route without PUT; the body is skipped"},
        {"POST /cbor HTTP/1.1\r\nHost: e\r\n\r\n", 411, false, "route requires a length"},
        {"POST /cbor HTTP/1.1\r\nHost: e\r\nContent-Type: text/x\r\nContent-Length: 1\r\n\r\nx",
         415, false, "media type not accepted"},
        {"POST /cbor HTTP/1.1\r\nHost: e\r\nContent-Length: 1\r\n\r\nx", 415, false,
         "no media type where one is required"},
        {"POST /cbor HTTP/1.1\r\nHost: e\r\nContent-Type: application/cbor\r\n"
         "Content-Length: 101\r\n\r\n",
         413, true, "over the route's body limit, before the body"},
        {"POST /cbor HTTP/1.1\r\nHost: e\r\nContent-Type: application/cbor\r\n"
         "Transfer-Encoding: chunked\r\n\r\n65\r\n",
         413, true, "a chunk crossing the route's limit"},
        {"GET /echo HTTP/1.1\r\nHost: e\r\nExpect: 200-ok\r\n\r\n", 417, true,
         "unknown expectation"},
        {"BREW /echo HTTP/1.1\r\nHost: e\r\n\r\n", 400, true, "not an HTTP method"},
        {"PROPFIND /echo HTTP/1.1\r\nHost: e\r\n\r\n", 405, true, "a method we never route"},
        {"GET /echo HTTP/1.1\r\nHost: e\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
         true, "conflicting lengths"},
        {"GET /echo HTTP/1.1\r\nHost: e\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         400, true, "length and chunked"},
        {"GET /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: e\r\n\r\nx\r\n", 400, true,
         "bad chunk size"},
        {"GET /echo HTTP/1.1\r\n\r\n", 400, true, "HTTP/1.1 without Host"},
        {"GET /echo HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, true, "two Host headers"},
        {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, true, "asterisk-form outside OPTIONS"},
        {"GET ftp://x/echo HTTP/1.1\r\nHost: a\r\n\r\n", 400, true, "absolute-form, not http"},
        {"GET /echo HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n", 400, true, "space in name"},
        {" /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400, true, "no method"},
        {"GET /echo HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", 400, true, "DEL in a value"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        print_message("row %zu: %s\n", i, rows[i].why);
        scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
        feed(m, rows[i].req, strlen(rows[i].req));
        int st[4];
        assert_true(statuses(&m->out, st, 4) >= 1);
        assert_int_equal(st[0], rows[i].status);
        assert_int_equal(m->closed, rows[i].closes);
        assert_non_null(memmem(m->out.ptr, m->out.len, SCITT_PROBLEM_MEDIA_TYPE,
                               strlen(SCITT_PROBLEM_MEDIA_TYPE)));
        if (!rows[i].closes) {
            /* The connection is still in step: the next request is answered. */
            const char next[] = "GET /echo HTTP/1.1\r\nHost: e\r\n\r\n";
            feed(m, next, sizeof(next) - 1);
            assert_int_equal(statuses(&m->out, st, 4), 2);
            assert_int_equal(st[1], 200);
        }
        scitt__http_mem_conn_free(m);
    }
}

/* Handlers finishing in reverse order; responses still leave in request order. */
static void test_pipeline_order(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    const char reqs[] = "GET /hold HTTP/1.1\r\nHost: e\r\n\r\n"
                        "GET /hold HTTP/1.1\r\nHost: e\r\n\r\n"
                        "GET /echo HTTP/1.1\r\nHost: e\r\n\r\n"
                        "GET /hold HTTP/1.1\r\nHost: e\r\n\r\n";
    feed(m, reqs, sizeof(reqs) - 1);
    assert_int_equal(nheld, 3);
    assert_int_equal(m->out.len, 0);
    finish(held[2], "third");
    finish(held[1], "second");
    assert_int_equal(m->out.len, 0);
    finish(held[0], "first");
    int st[8];
    char b[32];
    assert_int_equal(statuses(&m->out, st, 8), 4);
    assert_string_equal(body_of(&m->out, 0, b, sizeof(b)), "first");
    assert_string_equal(body_of(&m->out, 1, b, sizeof(b)), "second");
    assert_string_equal(body_of(&m->out, 2, b, sizeof(b)), "");
    assert_string_equal(body_of(&m->out, 3, b, sizeof(b)), "third");
    assert_int_equal(released, 3);
    scitt__http_mem_conn_free(m);
}

/* At the pipeline limit reading stops; completing requests resumes it from saved bytes. */
static void test_pipeline_pause(void **state)
{
    (void)state;
    scitt_http_config cfg;
    scitt_http_config_defaults(&cfg);
    cfg.max_pipeline = 2;
    scitt__http_server_free_detached(srv);
    make_server(&cfg);
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    char reqs[512] = "";
    for (int i = 0; i < 5; i++) {
        strcat(reqs, "GET /hold HTTP/1.1\r\nHost: e\r\n\r\n");
    }
    feed(m, reqs, strlen(reqs));
    assert_int_equal(nheld, 2);
    assert_false(m->reading);
    assert_true(m->c.pending_len > 0);
    /* The peer half-closes: what it sent before is still answered, then the connection ends. */
    scitt__http_conn_eof(&m->c);
    assert_false(m->closed);
    finish(held[0], "0");
    assert_int_equal(nheld, 3);
    finish(held[1], "1");
    finish(held[2], "2");
    assert_int_equal(nheld, 5);
    assert_false(m->reading); /* two in flight again: still full */
    finish(held[3], "3");
    assert_true(m->c.no_more); /* everything sent before the close is parsed: read no more */
    finish(held[4], "4");
    int st[8];
    char b[8];
    assert_int_equal(statuses(&m->out, st, 8), 5);
    for (size_t i = 0; i < 5; i++) {
        char want[2] = {(char)('0' + i), 0};
        assert_string_equal(body_of(&m->out, i, b, sizeof(b)), want);
    }
    assert_true(m->closed);
    scitt__http_mem_conn_free(m);
}

/* The interim 100 waits for earlier responses, then precedes the final one. */
static void test_continue_order(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    const char a[] = "GET /hold HTTP/1.1\r\nHost: e\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: e\r\nExpect: 100-Continue\r\n"
                     "Content-Length: 2\r\n\r\n";
    feed(m, a, sizeof(a) - 1);
    assert_int_equal(m->out.len, 0);
    finish(held[0], "x");
    const char *cont = memmem(m->out.ptr, m->out.len, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    assert_non_null(cont);
    assert_true(memmem(m->out.ptr, m->out.len, "HTTP/1.1 200", 12) < (const void *)cont);
    feed(m, "ok", 2);
    int st[4];
    char b[8];
    assert_int_equal(statuses(&m->out, st, 4), 3);
    assert_int_equal(st[1], 100);
    assert_string_equal(body_of(&m->out, 2, b, sizeof(b)), "ok");
    scitt__http_mem_conn_free(m);
}

/* Deadlines: a partial request gets 408 and a close; the kinds are armed as the phases change. */
static void test_timeouts(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    assert_int_equal(m->timer_kind, TMR_HEADER);
    srv->fake_now = 1000;
    feed(m, "POST /echo HTTP/1.1\r\nHost: e\r\nContent-Length: 5\r\n\r\nab", 53);
    assert_int_equal(m->timer_kind, TMR_BODY);
    assert_int_equal(m->deadline, 1000 + srv->cfg.body_timeout_ms);
    feed(m, "cde", 3);
    assert_int_equal(m->timer_kind, TMR_IDLE);
    feed(m, "GET /ec", 7);
    assert_int_equal(m->timer_kind, TMR_HEADER);
    scitt__http_conn_timeout(&m->c, TMR_HEADER);
    int st[4];
    assert_int_equal(statuses(&m->out, st, 4), 2);
    assert_int_equal(st[1], 408);
    assert_true(m->closed);
    scitt__http_mem_conn_free(m);
    /* An idle connection just closes. */
    m = scitt__http_mem_conn_new(srv, false);
    scitt__http_conn_timeout(&m->c, TMR_IDLE);
    assert_true(m->closed);
    assert_int_equal(m->out.len, 0);
    scitt__http_mem_conn_free(m);
}

/* A connection that goes away while a handler holds a request: completing it later is safe. */
static void test_orphan(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    feed(m, "GET /hold HTTP/1.1\r\nHost: e\r\n\r\nGET /hold HTTP/1.1\r\nHost: e\r\n\r\n", 62);
    assert_int_equal(nheld, 2);
    scitt__http_conn_eof(&m->c);
    assert_false(m->closed);      /* still answering what it received */
    scitt__http_mem_conn_free(m); /* the transport dies instead */
    finish(held[1], "late");
    finish(held[0], "late");
    assert_int_equal(released, 2);
    scitt_http_metrics mx;
    scitt_http_server_metrics(srv, &mx);
    assert_int_equal(mx.inflight, 0);
}

/* One byte per send round: the same bytes come out, in order. */
static void test_partial_writes(void **state)
{
    (void)state;
    scitt__mem_conn *whole = scitt__http_mem_conn_new(srv, false);
    scitt__mem_conn *bytes = scitt__http_mem_conn_new(srv, false);
    bytes->max_write = 1;
    const char reqs[] = "GET /echo HTTP/1.1\r\nHost: e\r\n\r\n"
                        "POST /echo HTTP/1.1\r\nHost: e\r\nContent-Length: 3\r\n\r\nxyz"
                        "HEAD /echo HTTP/1.1\r\nHost: e\r\n\r\n";
    feed(whole, reqs, sizeof(reqs) - 1);
    feed(bytes, reqs, sizeof(reqs) - 1);
    assert_int_equal(whole->out.len, bytes->out.len);
    assert_int_equal(bytes->c.nq, 0);
    /* Dates may differ by a second between the two; compare everything else. */
    int st[4];
    assert_int_equal(statuses(&bytes->out, st, 4), 3);
    assert_non_null(memmem(bytes->out.ptr, bytes->out.len, "xyz", 3));
    scitt__http_mem_conn_free(whole);
    scitt__http_mem_conn_free(bytes);
}

/* Response headers cannot inject lines, and the layer's own headers are reserved. */
static void test_response_headers(void **state)
{
    (void)state;
    scitt_http_req *req = scitt__http_req_get(srv);
    assert_non_null(req);
    assert_int_equal(scitt_http_res_header(req, "Location", "/e/1\r\nX: y"), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_http_res_header(req, "Bad Name", "v"), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_http_res_header(req, "", "v"), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_http_res_header(req, "content-length", "1"), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_http_res_header(req, "Connection", "close"), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_http_res_header(req, "Retry-After", "5"), SCITT_OK);
    assert_int_equal(scitt_http_res_header(req, "Cache-Control", "no-store"), SCITT_OK);
    scitt_http_res_status(req, 204);
    assert_true(scitt__http_res_build_head(req, false));
    assert_non_null(
        memmem(req->head, req->head_len, "Retry-After: 5\r\nCache-Control: no-store\r\n\r\n", 42));
    assert_null(memmem(req->head, req->head_len, "Content-Length", 14));
    scitt__http_req_put(srv, req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_split_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continue_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_headers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
