/*
 * The protocol engine without sockets, through the memory transport: exact answers for valid
 * requests fed at every split point, a table of malformed requests each with its status and a
 * reason, pipelining with handlers completing in reverse order, pausing and resuming at the
 * pipeline limit, 100-continue ordering, timeouts, orphaned requests, partial writes, the
 * connection's buffer limit, route response limits and HEAD, streamed bodies, the total send
 * deadline, admission checks before the body, and the Retry-After of every 503.
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

/* ---- a streamed body: pieces filled at once or held for the test to hand back ---- */

static struct {
    bool defer;          /* pulls wait for the test */
    scitt_http_req *req; /* the pull waiting */
    uint8_t *buf;
    size_t cap;
    uint64_t produced; /* bytes produced so far */
    int pulls, releases;
    size_t fail_at_pull; /* 1-based pull answered with 0; 0 = never */
} sst;

static uint8_t stream_byte(uint64_t i)
{
    return (uint8_t)('a' + i % 23);
}

#define STREAM_TOTAL (5 * SCITT_HTTP_PIECE_BYTES + 1234)

static void stream_fill(scitt_http_req *req, uint8_t *buf, size_t cap)
{
    uint64_t left = STREAM_TOTAL - sst.produced;
    size_t n = left < cap ? (size_t)left : cap;
    if (sst.fail_at_pull && (size_t)sst.pulls == sst.fail_at_pull) {
        scitt_http_res_piece(req, 0);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = stream_byte(sst.produced + i);
    }
    sst.produced += n;
    scitt_http_res_piece(req, n);
}

static void stream_pull(scitt_http_req *req, void *ctx, uint8_t *buf, size_t cap)
{
    (void)ctx;
    sst.pulls++;
    assert_true(cap == SCITT_HTTP_PIECE_BYTES);
    if (sst.defer) {
        sst.req = req;
        sst.buf = buf;
        sst.cap = cap;
        return;
    }
    stream_fill(req, buf, cap);
}

static void stream_release(void *ctx)
{
    (void)ctx;
    sst.releases++;
}

/* The deferred piece. */
static void stream_give(void)
{
    assert_non_null(sst.req);
    scitt_http_req *req = sst.req;
    sst.req = NULL;
    stream_fill(req, sst.buf, sst.cap);
}

static void h_stream(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_http_res_status(req, 200);
    assert_int_equal(scitt_http_res_body_stream(req, "application/octet-stream", STREAM_TOTAL,
                                                stream_pull, stream_release, NULL),
                     SCITT_OK);
    scitt_http_complete(req);
}

/* A body bigger than the route allows (100 bytes on /small). */
static void h_small(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    static const uint8_t big[101];
    scitt_http_res_status(req, 200);
    assert_int_equal(scitt_http_res_body_copy(req, "text/plain", scitt_span_make(big, 101)),
                     SCITT_ERR_TOO_LARGE);
    assert_int_equal(
        scitt_http_res_body_borrow(req, "text/plain", scitt_span_make(big, 101), on_release, NULL),
        SCITT_ERR_TOO_LARGE);
    assert_int_equal(scitt_http_res_body_copy(req, "text/plain", scitt_span_make(big, 100)),
                     SCITT_OK);
    scitt_http_complete(req);
}

static int body_reads; /* handlers of /guard that ran */

/* Refuses unless the request says "X-Key: k", with an answer of its own. */
static bool admit_key(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span v;
    if (scitt_http_req_header(req, "x-key", &v) && v.len == 1 && v.ptr[0] == 'k') {
        return true;
    }
    assert_int_equal(scitt_http_res_header(req, "WWW-Authenticate", "Bearer"), SCITT_OK);
    assert_int_equal(scitt_http_res_problem(req, 401, "Unauthorized", "no key"), SCITT_OK);
    return false;
}

static void h_guard(scitt_http_req *req, void *ctx)
{
    body_reads++;
    h_echo(req, ctx);
}

/* 503 without a Retry-After of its own, or with one (?own). */
static void h_busy(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    if (scitt_http_req_query(req).len > 0) {
        assert_int_equal(scitt_http_res_header(req, "retry-after", "9"), SCITT_OK);
    }
    /* A detail cut by a fixed buffer inside a character (the 2-byte "é" loses its second byte). */
    assert_int_equal(scitt_http_res_problem(req, 503, "Service Unavailable", "full: caf\xc3"),
                     SCITT_OK);
    scitt_http_complete(req);
}

static void make_server(const scitt_http_config *cfg)
{
    assert_int_equal(scitt__http_server_new_detached(cfg, &srv), SCITT_OK);
    scitt_http_route echo = {
        "echo", SCITT_HTTP_GET | SCITT_HTTP_POST, "/echo", false, h_echo, NULL, 0, NULL, false, 0,
        NULL};
    scitt_http_route hold = {
        "hold", SCITT_HTTP_GET | SCITT_HTTP_POST, "/hold", false, h_hold, NULL, 0, NULL, false, 0,
        NULL};
    scitt_http_route cbor = {"cbor", SCITT_HTTP_POST,    "/cbor", false, h_echo, NULL,
                             100,    "application/cbor", true,    0,     NULL};
    scitt_http_route extra[] = {
        {"stream", SCITT_HTTP_GET, "/stream", false, h_stream, NULL, 0, NULL, false, 0, NULL},
        {"small", SCITT_HTTP_GET, "/small", false, h_small, NULL, 0, NULL, false, 100, NULL},
        {"guard", SCITT_HTTP_GET | SCITT_HTTP_POST, "/guard", false, h_guard, NULL, 0, NULL, false,
         0, admit_key},
        {"busy", SCITT_HTTP_GET, "/busy", false, h_busy, NULL, 0, NULL, false, 0, NULL},
    };
    assert_int_equal(scitt_http_server_route(srv, &echo), SCITT_OK);
    assert_int_equal(scitt_http_server_route(srv, &hold), SCITT_OK);
    assert_int_equal(scitt_http_server_route(srv, &cbor), SCITT_OK);
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        assert_int_equal(scitt_http_server_route(srv, &extra[i]), SCITT_OK);
    }
    nheld = 0;
    released = 0;
    body_reads = 0;
    memset(&sst, 0, sizeof(sst));
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

static void feeds(scitt__mem_conn *m, const char *s)
{
    feed(m, s, strlen(s));
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

static void remake(size_t conn_buffer);

/* Handlers finishing in reverse order; responses still leave in request order. */
static void test_pipeline_order(void **state)
{
    (void)state;
    remake(4u << 20); /* room for every answer: the handlers run at once */
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

static void remake(size_t conn_buffer)
{
    scitt_http_config cfg;
    scitt_http_config_defaults(&cfg);
    cfg.conn_buffer_bytes = conn_buffer;
    scitt__http_server_free_detached(srv);
    make_server(&cfg);
}

/*
 * The connection's buffer: a pipelined request's handler runs only when the responses before it
 * leave room for its answer (each reserves its route's largest body), the head of the queue
 * always runs, and reading stops while the held bytes pass the limit.
 */
static void test_conn_buffer(void **state)
{
    (void)state;
    remake(120u << 10); /* /hold reserves 64 KiB + 20 KiB: one answer at a time */
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    char reqs[512] = "";
    for (int i = 0; i < 4; i++) {
        strcat(reqs, "GET /hold HTTP/1.1\r\nHost: e\r\n\r\n");
    }
    feed(m, reqs, strlen(reqs));
    assert_int_equal(m->c.nq, 4);
    assert_int_equal(nheld, 1);
    assert_true(m->c.held <= srv->cfg.conn_buffer_bytes);
    for (int i = 0; i < 4; i++) {
        char b[2] = {(char)('0' + i), 0};
        finish(held[i], b);
        assert_int_equal(nheld, i < 3 ? (size_t)i + 2 : 4u);
    }
    int stv[8];
    char b[8];
    assert_int_equal(statuses(&m->out, stv, 8), 4);
    for (size_t i = 0; i < 4; i++) {
        char want[2] = {(char)('0' + i), 0};
        assert_string_equal(body_of(&m->out, i, b, sizeof(b)), want);
    }
    assert_int_equal(m->c.held, 0);
    scitt__http_mem_conn_free(m);

    /* Request bodies count too: 30 KB bodies to a held route stop the reading at the limit. */
    nheld = 0;
    m = scitt__http_mem_conn_new(srv, false);
    static char body[30000];
    memset(body, 'b', sizeof(body));
    scitt_dynbuf in;
    scitt_dynbuf_init(&in, 0);
    for (int i = 0; i < 8; i++) {
        scitt_dynbuf_printf(&in, "POST /hold HTTP/1.1\r\nHost: e\r\nContent-Length: %zu\r\n\r\n",
                            sizeof(body));
        scitt_dynbuf_put(&in, body, sizeof(body));
    }
    feed(m, (const char *)in.ptr, in.len);
    assert_false(m->reading);
    assert_true(m->c.nq < 8);
    assert_true(m->c.held >= srv->cfg.conn_buffer_bytes);
    /* At most the limit, one more request, and the reservation of the head of the queue. */
    assert_true(m->c.held <= srv->cfg.conn_buffer_bytes + 40000 + (84u << 10));
    assert_true(m->c.pending_len > 0);
    size_t done = 0;
    while (done < nheld) {
        finish(held[done], "x");
        done++;
    }
    assert_int_equal(nheld, 8);
    assert_int_equal(statuses(&m->out, stv, 8), 8);
    scitt_dynbuf_clear(&in);
    scitt__http_mem_conn_free(m);
}

/* A route's largest body holds for every setter; HEAD keeps the length and copies nothing. */
static void test_max_response_head(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    feeds(m, "GET /small HTTP/1.1\r\nHost: e\r\n\r\n");
    assert_int_equal(released, 1); /* the refused borrow handed its bytes back */
    assert_non_null(memmem(m->out.ptr, m->out.len, "Content-Length: 100\r\n", 21));
    scitt__http_mem_conn_free(m);
    /* HEAD of a 20,000-byte echo body: the length is right, nothing was copied or sent. */
    m = scitt__http_mem_conn_new(srv, false);
    scitt_http_req *req = scitt__http_req_get(srv);
    req->is_head = true;
    static uint8_t big[20000];
    assert_int_equal(scitt_http_res_body_copy(req, "text/plain", scitt_span_make(big, sizeof(big))),
                     SCITT_OK);
    assert_int_equal(req->arena.spilled, 0);
    assert_null(req->out_body.ptr);
    assert_int_equal(req->out_body.len, sizeof(big));
    scitt_http_res_status(req, 200);
    assert_true(scitt__http_res_build_head(req, false));
    assert_non_null(memmem(req->head, req->head_len, "Content-Length: 20000\r\n", 23));
    scitt__http_req_put(srv, req);
    scitt__http_mem_conn_free(m);
}

/* Reads the response head at @p at of @p out; returns the body's offset and its length. */
static size_t head_end(const scitt_dynbuf *out, size_t at, size_t *clen)
{
    const char *p = (const char *)out->ptr + at;
    const char *h = memmem(p, out->len - at, "\r\n\r\n", 4);
    assert_non_null(h);
    const char *cl = memmem(p, (size_t)(h - p), "Content-Length: ", 16);
    *clen = cl ? (size_t)atol(cl + 16) : 0;
    return (size_t)(h + 4 - (const char *)out->ptr);
}

/*
 * A streamed body: every byte arrives in order, exactly the declared length, with the next piece
 * asked for only once the last one went out, so the connection never holds more than one piece.
 */
static void test_stream(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    sst.defer = true;
    feeds(m, "GET /stream HTTP/1.1\r\nHost: e\r\n\r\nGET /echo HTTP/1.1\r\nHost: e\r\n\r\n");
    assert_int_equal(sst.pulls, 1);
    size_t clen;
    size_t body = head_end(&m->out, 0, &clen);
    assert_int_equal(clen, STREAM_TOTAL);
    int pulls = 1;
    while (sst.req) {
        /* A stalled reader: no further pull while the piece has not gone out. */
        m->stalled = true;
        stream_give();
        assert_int_equal(sst.pulls, pulls);
        assert_true(m->c.held < 2 * SCITT_HTTP_PIECE_BYTES);
        m->stalled = false;
        scitt__http_conn_pump(&m->c);
        pulls = sst.pulls;
    }
    assert_int_equal(sst.pulls, 6);
    assert_int_equal(sst.produced, STREAM_TOTAL);
    assert_true(m->out.len >= body + STREAM_TOTAL);
    for (uint64_t i = 0; i < STREAM_TOTAL; i++) {
        if (m->out.ptr[body + i] != stream_byte(i)) {
            fail_msg("byte %llu of the stream differs", (unsigned long long)i);
        }
    }
    /* The echo that followed comes after the whole body. */
    assert_int_equal(memcmp(m->out.ptr + body + STREAM_TOTAL, "HTTP/1.1 200", 12), 0);
    assert_int_equal(sst.releases, 1);
    assert_int_equal(m->c.nq, 0);
    scitt__http_mem_conn_free(m);

    /* HEAD: the length, never a pull. */
    memset(&sst, 0, sizeof(sst));
    m = scitt__http_mem_conn_new(srv, false);
    feeds(m, "HEAD /stream HTTP/1.1\r\nHost: e\r\n\r\n");
    head_end(&m->out, 0, &clen);
    assert_int_equal(clen, STREAM_TOTAL);
    assert_int_equal(sst.pulls, 0);
    assert_int_equal(sst.releases, 1);
    assert_non_null(memmem(m->out.ptr, m->out.len, "\r\n\r\n", 4));
    assert_int_equal((const uint8_t *)memmem(m->out.ptr, m->out.len, "\r\n\r\n", 4) + 4,
                     m->out.ptr + m->out.len);
    scitt__http_mem_conn_free(m);

    /* A producer that fails after the head went out: the connection closes, short. */
    memset(&sst, 0, sizeof(sst));
    sst.fail_at_pull = 2;
    m = scitt__http_mem_conn_new(srv, false);
    feeds(m, "GET /stream HTTP/1.1\r\nHost: e\r\n\r\n");
    assert_true(m->closed);
    assert_false(m->graceful);
    assert_int_equal(sst.releases, 1);
    scitt__http_mem_conn_free(m);

    /* The connection goes away while a piece is being produced: handing it back later is safe. */
    memset(&sst, 0, sizeof(sst));
    sst.defer = true;
    m = scitt__http_mem_conn_new(srv, false);
    feeds(m, "GET /stream HTTP/1.1\r\nHost: e\r\n\r\n");
    assert_non_null(sst.req);
    scitt__http_mem_conn_free(m);
    assert_int_equal(sst.releases, 0); /* not while the producer writes into its buffer */
    stream_give();
    assert_int_equal(sst.releases, 1);
    scitt_http_metrics mx;
    scitt_http_server_metrics(srv, &mx);
    assert_int_equal(mx.inflight, 0);
}

/*
 * The send deadline starts when a response is ready and progress does not extend it: a reader
 * taking a byte now and then is cut off when it passes.
 */
static void test_send_deadline(void **state)
{
    (void)state;
    srv->fake_now = 1000;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    m->stalled = true;
    feeds(m, "GET /stream HTTP/1.1\r\nHost: e\r\n\r\n");
    assert_int_equal(m->timer_kind, TMR_SEND);
    assert_int_equal(m->deadline, 1000 + srv->cfg.send_timeout_ms);
    for (int i = 1; i <= 5; i++) {
        srv->fake_now = 1000 + (uint64_t)i * 5000;
        size_t before = m->out.len;
        m->allow = 10;
        scitt__http_conn_pump(&m->c);
        assert_int_equal(m->out.len, before + 10);
        assert_int_equal(m->timer_kind, TMR_SEND);
        assert_int_equal(m->deadline, 1000 + srv->cfg.send_timeout_ms);
    }
    scitt__http_conn_timeout(&m->c, m->timer_kind);
    assert_true(m->closed);
    assert_false(m->graceful);
    assert_int_equal(sst.releases, 1);
    scitt__http_mem_conn_free(m);
}

/*
 * An admission check runs when the headers are complete: a refused request with a body gets the
 * check's answer at once, its body is never read (nor any request after it) and the connection
 * closes; one without a body keeps the connection. An admitted one reaches its handler.
 */
static void test_admit(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    const char post[] = "POST /guard HTTP/1.1\r\nHost: e\r\nContent-Length: 50000\r\n\r\n";
    feeds(m, post);
    int stv[4];
    assert_int_equal(statuses(&m->out, stv, 4), 1);
    assert_int_equal(stv[0], 401);
    assert_non_null(memmem(m->out.ptr, m->out.len, "WWW-Authenticate: Bearer\r\n", 26));
    assert_non_null(memmem(m->out.ptr, m->out.len, "Connection: close\r\n", 19));
    assert_true(m->closed);
    assert_int_equal(body_reads, 0);
    scitt__http_mem_conn_free(m);
    /* No body: refused, and the connection goes on. */
    m = scitt__http_mem_conn_new(srv, false);
    feeds(m, "GET /guard HTTP/1.1\r\nHost: e\r\n\r\nGET /echo HTTP/1.1\r\nHost: e\r\n\r\n");
    assert_int_equal(statuses(&m->out, stv, 4), 2);
    assert_int_equal(stv[0], 401);
    assert_int_equal(stv[1], 200);
    assert_false(m->closed);
    scitt__http_mem_conn_free(m);
    /* Admitted. */
    m = scitt__http_mem_conn_new(srv, false);
    const char ok[] = "POST /guard HTTP/1.1\r\nHost: e\r\nX-Key: k\r\nContent-Length: 2\r\n\r\nhi";
    feeds(m, ok);
    assert_int_equal(statuses(&m->out, stv, 4), 1);
    assert_int_equal(stv[0], 200);
    assert_int_equal(body_reads, 1);
    scitt__http_mem_conn_free(m);
}

/* Every 503 carries Retry-After (the layer adds it when the handler did not); problem text that
 * is not valid UTF-8 is cut, never turned into an invalid body or a 500. */
static void test_busy_answers(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    feeds(m, "GET /busy HTTP/1.1\r\nHost: e\r\n\r\nGET /busy?own HTTP/1.1\r\nHost: e\r\n\r\n");
    int stv[4];
    assert_int_equal(statuses(&m->out, stv, 4), 2);
    assert_int_equal(stv[0], 503);
    assert_int_equal(stv[1], 503);
    const char *first = (const char *)m->out.ptr;
    const char *second = memmem(first + 1, m->out.len - 1, "HTTP/1.1 503", 12);
    assert_non_null(second);
    assert_non_null(memmem(first, (size_t)(second - first), "Retry-After: 1\r\n", 16));
    assert_non_null(
        memmem(second, m->out.len - (size_t)(second - first), "retry-after: 9\r\n", 16));
    assert_null(memmem(second, m->out.len - (size_t)(second - first), "Retry-After: 1", 14));
    /* The detail is "full: caf", valid CBOR text. */
    char b[64];
    body_of(&m->out, 0, b, sizeof(b));
    assert_non_null(memmem(b, sizeof(b), "full: caf", 9));
    scitt__http_mem_conn_free(m);
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
        cmocka_unit_test_setup_teardown(test_conn_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_response_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_answers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
