/*
 * Fuzz target: the server's request path without sockets. Bytes arrive as if read from a
 * connection, cut into chunks at boundaries the input chooses, and go through llhttp, request
 * assembly under small limits, a test router (immediate, deferred and borrowed-body handlers,
 * deferred ones completed out of order) and back out as response bytes through the memory
 * transport. Whatever the input, the output must be exactly the responses the engine reports
 * sending, each a well-formed HTTP/1.1 head with a body of its declared length.
 *
 * Input: byte 0 = options (write budget, timeout or EOF at the end), byte 1 = seed for the
 * chunk sizes, the rest = the bytes of the connection.
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

static void complete_held(void)
{
    /* Last in, first out: the reverse of the order the responses must leave in. */
    while (nheld > 0) {
        scitt_http_req *req = held[--nheld];
        char body[16];
        int n = snprintf(body, sizeof(body), "held%zu", nheld);
        scitt_http_res_status(req, nheld % 3 == 0 ? 202 : 200);
        (void)!scitt_http_res_body_copy(req, "text/plain", scitt_span_make(body, (size_t)n));
        scitt_http_complete(req);
    }
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
    if (scitt__http_server_new_detached(&cfg, &srv) != SCITT_OK) {
        abort();
    }
    const scitt_http_route routes[] = {
        {"echo", SCITT_HTTP_GET | SCITT_HTTP_POST | SCITT_HTTP_PUT, "/e", false, h_echo, NULL, 0,
         NULL, false},
        {"hold", SCITT_HTTP_GET | SCITT_HTTP_POST, "/h", true, h_hold, NULL, 0, NULL, false},
        {"big", SCITT_HTTP_GET, "/b", false, h_big, NULL, 0, NULL, false},
        {"cbor", SCITT_HTTP_POST, "/c", false, h_echo, NULL, 100, "application/cbor", true},
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
    data += 2;
    size -= 2;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, (opts & 0x40) != 0);
    if (!m) {
        return 0;
    }
    static const size_t budgets[4] = {0, 1, 7, 100};
    m->max_write = budgets[opts & 3];
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
        scitt__http_conn_timeout(&m->c, (opts & 8) ? TMR_BODY : TMR_HEADER);
    }
    if (!m->closed && (opts & 16)) {
        scitt__http_conn_eof(&m->c);
    }
    complete_held();
    check(m);
    scitt__http_mem_conn_free(m);
    complete_held();
    if (SCITT__CTR_GET(srv->inflight) != 0) {
        FAIL();
    }
    return 0;
}
