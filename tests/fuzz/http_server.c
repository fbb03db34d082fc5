/*
 * Fuzz target: the server's request path without sockets. Bytes arrive as if read from a
 * connection, cut into chunks at boundaries the input chooses, and go through llhttp, request
 * assembly under small limits (a connection buffer that makes pipelined requests wait, response
 * limits per route), a test router (immediate, deferred, borrowed-body and streamed-body handlers,
 * deferred ones completed out of order, an admission check before the body) and back out as
 * response bytes through the memory transport, optionally to a peer that stops reading.
 * Whatever the input, the output must be exactly the responses the engine reports sending, each
 * a well-formed HTTP/1.1 head with a body of its declared length (a stream whose producer failed
 * ends the connection short), the held-bytes count must match the queue, every streamed body is
 * released exactly once and never while a piece is produced.
 *
 * Input: byte 0 = options (write budget, timeout kind or EOF at the end, a stalled reader),
 * byte 1 = seed for the chunk sizes and the stalled reader's allowance, the rest = the bytes of
 * the connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_impl.h"
#include "http_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Says which invariant broke (traps merged by the optimiser would not). */
#define FAIL()                                                                                     \
    do {                                                                                           \
        fprintf(stderr, "http_server fuzz: invariant at line %d broken\n", __LINE__);              \
        abort();                                                                                   \
    } while (0)

static scitt_http_server *srv;
static scitt_http_req *held[64];
static size_t nheld;

static void h_echo(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span v;
    scitt_http_res_status(req, 200);
    if (scitt_http_req_header(req, "x-status", &v) && v.len == 3) {
        scitt_http_res_status(req,
                              (v.ptr[0] - '0') * 100 + (v.ptr[1] - '0') * 10 + (v.ptr[2] - '0'));
    }
    if (scitt_http_res_body_copy(req, "application/octet-stream", scitt_http_req_body(req)) !=
        SCITT_OK) {
        scitt_http_res_status(req, 500);
    }
    if (scitt_http_req_header(req, "x-loc", &v) && v.len > 0 && v.len < 64) {
        char loc[64];
        memcpy(loc, v.ptr, v.len);
        loc[v.len] = 0;
        (void)!scitt_http_res_header(req, "Location", loc);
    }
    scitt_http_complete(req);
}

static void h_hold(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    if (nheld < 64) {
        held[nheld++] = req;
        return;
    }
    (void)!scitt_http_res_problem(req, 503, "Busy", "Too many held");
    scitt_http_complete(req);
}

static void h_big(scitt_http_req *req, void *ctx)
{
    static uint8_t big[20000];
    (void)ctx;
    scitt_http_res_status(req, 200);
    (void)!scitt_http_res_body_borrow(req, "application/octet-stream",
                                      scitt_span_make(big, sizeof(big)), NULL, NULL);
    scitt_http_complete(req);
}

/*
 * /s: a body of x-len bytes (at most 200,000) streamed in pieces, produced at once or, with
 * x-defer, when the fuzzer hands them back (with x-fail, the second piece fails). /a: admitted only
 * with x-ok, else answered 401 before the body.
 */
typedef struct stream_state {
    uint64_t total, produced;
    int pulls;
    bool defer, fail, released;
    scitt_http_req *req; /* a deferred pull */
    uint8_t *buf;
    size_t cap;
} stream_state;

static stream_state streams[8];
static size_t nstreams, open_streams;

static void stream_fill(stream_state *s)
{
    scitt_http_req *req = s->req;
    s->req = NULL;
    uint64_t left = s->total - s->produced;
    size_t n = left < s->cap ? (size_t)left : s->cap;
    if (s->fail && s->pulls == 2) {
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        s->buf[i] = (uint8_t)(s->produced + i);
    }
    s->produced += n;
    scitt_http_res_piece(req, n);
}

static void stream_pull(scitt_http_req *req, void *ctx, uint8_t *buf, size_t cap)
{
    stream_state *s = ctx;
    if (s->req || cap != SCITT_HTTP_PIECE_BYTES || s->produced >= s->total) {
        FAIL(); /* one pull at a time, only while bytes are left */
    }
    s->pulls++;
    s->req = req;
    s->buf = buf;
    s->cap = cap;
    if (!s->defer) {
        stream_fill(s);
    }
}

static void stream_release(void *ctx)
{
    stream_state *s = ctx;
    if (s->released || s->req) {
        FAIL(); /* exactly once, and never while a piece is being produced */
    }
    s->released = true;
    open_streams--;
}

static void h_stream(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span v;
    uint64_t total = 0;
    if (scitt_http_req_header(req, "x-len", &v)) {
        for (size_t i = 0; i < v.len && i < 6; i++) {
            total =
                total * 10 + (uint64_t)(v.ptr[i] >= '0' && v.ptr[i] <= '9' ? v.ptr[i] - '0' : 0);
        }
    }
    total = total > 200000 ? 200000 : total;
    if (nstreams == sizeof(streams) / sizeof(streams[0])) {
        (void)!scitt_http_res_problem(req, 503, "Busy", "Too many streams");
        scitt_http_complete(req);
        return;
    }
    stream_state *s = &streams[nstreams++];
    memset(s, 0, sizeof(*s));
    s->total = total;
    s->defer = scitt_http_req_header(req, "x-defer", &v);
    s->fail = scitt_http_req_header(req, "x-fail", &v);
    open_streams++;
    scitt_http_res_status(req, 200);
    if (scitt_http_res_body_stream(req, "application/octet-stream", total, stream_pull,
                                   stream_release, s) != SCITT_OK) {
        scitt_http_res_status(req, 500);
    }
    scitt_http_complete(req);
}

static bool admit_ok(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span v;
    if (scitt_http_req_header(req, "x-ok", &v)) {
        return true;
    }
    (void)!scitt_http_res_header(req, "WWW-Authenticate", "Bearer");
    (void)!scitt_http_res_problem(req, 401, "Unauthorized", "no x-ok");
    return false;
}

/* Hands back every piece asked for, and those asked for meanwhile, until none waits. */
static void complete_pieces(void)
{
    bool again = true;
    while (again) {
        again = false;
        for (size_t i = 0; i < nstreams; i++) {
            if (streams[i].req) {
                stream_fill(&streams[i]);
                again = true;
            }
        }
    }
}

static bool pieces_waiting(void)
{
    for (size_t i = 0; i < nstreams; i++) {
        if (streams[i].req) {
            return true;
        }
    }
    return false;
}

static void complete_held(void)
{
    do {
        complete_pieces();
        /* Last in, first out: the reverse of the order the responses must leave in. */
        while (nheld > 0) {
            scitt_http_req *req = held[--nheld];
            char body[16];
            int n = snprintf(body, sizeof(body), "held%zu", nheld);
            scitt_http_res_status(req, nheld % 3 == 0 ? 202 : 200);
            (void)!scitt_http_res_body_copy(req, "text/plain", scitt_span_make(body, (size_t)n));
            scitt_http_complete(req);
        }
    } while (pieces_waiting());
}

static void setup(void)
{
    scitt_http_config cfg;
    scitt_http_config_defaults(&cfg);
    cfg.max_header_bytes = 1024;
    cfg.max_headers = 12;
    cfg.max_url_bytes = 200;
    cfg.max_body_bytes = 3000;
    cfg.max_pipeline = 4;
    /* Small enough that pipelined requests wait for room, large enough for two echoes. */
    cfg.conn_buffer_bytes = 24000;
    cfg.send_timeout_ms = 5000;
    if (scitt__http_server_new_detached(&cfg, &srv) != SCITT_OK) {
        abort();
    }
    const scitt_http_route routes[] = {
        {"echo", SCITT_HTTP_GET | SCITT_HTTP_POST | SCITT_HTTP_PUT, "/e", false, h_echo, NULL, 0,
         NULL, false, 3000, NULL},
        {"hold", SCITT_HTTP_GET | SCITT_HTTP_POST, "/h", true, h_hold, NULL, 0, NULL, false, 64,
         NULL},
        {"big", SCITT_HTTP_GET, "/b", false, h_big, NULL, 0, NULL, false, 20000, NULL},
        {"cbor", SCITT_HTTP_POST, "/c", false, h_echo, NULL, 100, "application/cbor", true, 100,
         NULL},
        {"stream", SCITT_HTTP_GET, "/s", false, h_stream, NULL, 0, NULL, false, 0, NULL},
        {"admit", SCITT_HTTP_GET | SCITT_HTTP_POST, "/a", false, h_echo, NULL, 0, NULL, false, 3000,
         admit_ok},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (scitt_http_server_route(srv, &routes[i]) != SCITT_OK) {
            abort();
        }
    }
}

/* The output is exactly the recorded responses, each a head llhttp accepts plus its body. */
static void check(const scitt__mem_conn *m)
{
    const char *why = fuzz_http_out_check(m, NULL);
    if (why) {
        fprintf(stderr, "http_server fuzz: %s\n", why);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv) {
        setup();
    }
    if (size < 2) {
        return 0;
    }
    uint8_t opts = data[0];
    uint64_t seed = data[1] * 0x9e3779b97f4a7c15ull + 1;
    size_t allow = (size_t)data[1] * 97;
    data += 2;
    size -= 2;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, (opts & 0x40) != 0);
    if (!m) {
        return 0;
    }
    static const size_t budgets[4] = {0, 1, 7, 100};
    m->max_write = budgets[opts & 3];
    /* A peer that reads a little, then nothing, until the end. */
    m->stalled = (opts & 0x80) != 0;
    m->allow = allow;
    while (size > 0 && !m->closed) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        size_t chunk = 1 + (size_t)(seed % 97);
        if (chunk > size) {
            chunk = size;
        }
        scitt__http_conn_input(&m->c, data, chunk);
        data += chunk;
        size -= chunk;
        if (seed & 0x100) {
            complete_held();
        }
    }
    if (!m->closed && (opts & 4)) {
        scitt__http_conn_timeout(&m->c, (opts & 8)      ? TMR_BODY
                                        : (opts & 0x20) ? TMR_SEND
                                                        : TMR_HEADER);
    }
    if (!m->closed && (opts & 16)) {
        scitt__http_conn_eof(&m->c);
    }
    complete_held();
    /* The connection's count of held bytes never drifts: it is exactly what its queue holds. */
    size_t charged = 0;
    for (scitt_http_req *q = m->c.qhead; q; q = q->next) {
        charged += q->charge;
    }
    if (!m->c.dead && charged != m->c.held) {
        FAIL();
    }
    check(m);
    scitt__http_mem_conn_free(m);
    complete_held();
    if (SCITT__CTR_GET(srv->inflight) != 0 || open_streams != 0) {
        FAIL();
    }
    nstreams = 0;
    return 0;
}
