/*
 * Fuzz target: the daemon's request handling from request to response. A real service (ledger,
 * policy, keys) runs on a scratch data directory, the daemon's own route table and handlers are
 * mounted on the HTTP layer, and each input becomes a sequence of requests written to one
 * connection of the layer's memory transport. The target runs the event loop (worker pool,
 * sequencer, receipt thread) until every request is answered, then checks the bytes that came
 * out: each response a well-formed HTTP/1.1 message of its declared length, every error (4xx,
 * 5xx) carrying RFC 9290 concise problem details, every 201 a COSE receipt with a Location.
 *
 * Input: records [kind][length, 2 bytes big-endian][bytes]. The kind picks the request:
 * registration (sync or async) of the bytes, a lookup of the entry the last registration body
 * would make (receipt or transparent statement), /entries/, /query?, /tile/, /proofs/consistency?
 * and /.well-known/scitt-keys/ with the bytes (percent-encoded where needed) in the target (GET,
 * or HEAD for the highest kind bytes), one of the fixed read endpoints, or the bytes as a raw
 * request. Seeds register the fixture statements.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_fuzz.h"
#include "http_impl.h"
#include "http_out.h"
#include "scitt/cbor.h"
#include "scitt/problem.h"
#include "scitt/receipt.h"
#include "scittd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(why)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "scrapi fuzz: %s (line %d)\n", why, __LINE__);                             \
        abort();                                                                                   \
    } while (0)

static scittd D;
static uv_loop_t loop;
static uv_timer_t tick;
static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (dir[0]) {
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void on_tick(uv_timer_t *t)
{
    (void)t; /* only wakes the loop so the wait below can check its deadline */
}

static void setup(void)
{
    setenv("UV_THREADPOOL_SIZE", "2", 1);
    scitt_log_set_level(SCITT_LOG_ERROR);
    /* tmpfs when there is one: commits then cost no disk flushes */
    snprintf(dir, sizeof(dir), "%s/scitt-fuzz-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) {
        FAIL("no scratch directory");
    }
    atexit(cleanup);
    scitt_dynbuf policy;
    fuzz_policy_json(&policy);
    /* the INSECURE virtual platform, chosen the way scittd chooses it */
    D.cfg.data_dir = dir;
    D.cfg.platform = "virtual";
    D.cfg.insecure_virtual = true;
    char reason[512];
    if (scittd_platform_choose(&D, reason, sizeof(reason)) != SCITT_OK) {
        fprintf(stderr, "scrapi fuzz: %s\n", reason);
        FAIL("no platform");
    }
    scitt_service_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.data_dir = dir;
    sc.origin = "fuzz.example/log";
    sc.policy_json = scitt_span_make(policy.ptr, policy.len);
    sc.map_size = 16u << 20;
    sc.map_size_max = 1u << 30;
    sc.keystore = &D.keystore;
    if (scitt_service_open(&sc, &D.svc, reason, sizeof(reason)) != SCITT_OK) {
        fprintf(stderr, "scrapi fuzz: %s\n", reason);
        FAIL("the service does not open");
    }
    scitt_dynbuf_clear(&policy);
    scitt_dynbuf_init(&D.bundle, 0);
    if (scittd_platform_bundle(&D, scitt_span_make(NULL, 0), &D.bundle) != SCITT_OK) {
        FAIL("no service bundle");
    }
    if (uv_loop_init(&loop) != 0) {
        FAIL("no loop");
    }
    D.loop = &loop;
    scitt_http_config hc;
    scitt_http_config_defaults(&hc);
    size_t max_body = scitt_policy_max_bytes(scitt_service_policy(D.svc));
    hc.max_body_bytes = max_body;
    if (scitt_http_server_new(&loop, &hc, &D.http) != SCITT_OK ||
        scittd_register_init(&D) != SCITT_OK || scittd_reads_start(&D, 2, 1) != SCITT_OK) {
        FAIL("no server");
    }
    scittd_metrics_init(&D);
    if (scittd_add_routes(&D, max_body) != SCITT_OK) {
        FAIL("no routes");
    }
    uv_timer_init(&loop, &tick);
}

/* ---- building the requests ---- */

/* Appends @p b to a request target, percent-encoding what may not appear there raw. */
static void put_target(scitt_dynbuf *out, scitt_span b)
{
    for (size_t i = 0; i < b.len; i++) {
        uint8_t c = b.ptr[i];
        if (c > 0x20 && c < 0x7f && c != '#' && c != '%') {
            scitt_dynbuf_u8(out, c);
        } else {
            scitt_dynbuf_printf(out, "%%%02X", c);
        }
    }
}

/* GET, or HEAD while head_next is set: the head the GET would have, and no body. */
static bool head_next;

static void get(scitt_dynbuf *out, const char *path, scitt_span tail, const char *headers)
{
    scitt_dynbuf_printf(out, "%s %s", head_next ? "HEAD" : "GET", path);
    put_target(out, tail);
    scitt_dynbuf_printf(out, " HTTP/1.1\r\nHost: fuzz\r\n%s\r\n", headers);
}

/* The entry ID the registered form of @p body would have; false when it is no statement. */
static bool entry_id(scitt_span body, char hex[65])
{
    scitt_cose_sign1 m;
    if (scitt_cose_sign1_decode(body, SCITT_SIGN1_UNTAGGED, &m) != SCITT_OK) {
        return false;
    }
    scitt_dynbuf e;
    scitt_dynbuf_init(&e, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &e);
    bool ok =
        scitt_receipt_entry(&m, &w) == SCITT_OK && scitt_cbor_writer_finish(&w, NULL) == SCITT_OK;
    if (ok) {
        uint8_t id[32];
        scitt_sha256(e.ptr, e.len, id);
        scitt_entry_id_hex(id, hex);
    }
    scitt_dynbuf_clear(&e);
    return ok;
}

static const char *const fixed[] = {
    "/.well-known/scitt-keys",
    "/.well-known/transparency-configuration",
    "/checkpoint",
    "/attestation",
    "/metrics",
    "/healthz",
    "/jwks",
    "/entries",
};
static const char *const accepts[] = {"", "Accept: application/json\r\n",
                                      "Accept: application/cbor\r\n"};

/* Turns the input into request bytes; returns how many requests it wrote. */
static size_t build(const uint8_t *data, size_t size, scitt_dynbuf *out)
{
    size_t n = 0;
    scitt_span last_body = scitt_span_make(NULL, 0);
    while (size >= 3 && n < 64) {
        uint8_t kind = data[0];
        size_t len = (size_t)data[1] << 8 | data[2];
        data += 3;
        size -= 3;
        len = len < size ? len : size;
        scitt_span b = scitt_span_make(data, len);
        data += len;
        size -= len;
        char hex[65];
        unsigned j = kind / 11u; /* the rest of the kind byte picks variants */
        const char *acc = accepts[j % 3];
        head_next = j >= 18;
        switch (kind % 11) {
        case 0:
        case 1:
            scitt_dynbuf_printf(out,
                                "POST /entries HTTP/1.1\r\nHost: fuzz\r\nContent-Type: "
                                "application/cose\r\n%sContent-Length: %zu\r\n\r\n",
                                kind % 11 ? "Prefer: respond-async\r\n" : "", b.len);
            scitt_dynbuf_put(out, b.ptr, b.len);
            last_body = b;
            break;
        case 2:
        case 3:
            if (!entry_id(last_body, hex)) {
                snprintf(hex, sizeof(hex), "%064d", 0);
            }
            scitt_dynbuf_printf(out, "GET /entries/%s%s HTTP/1.1\r\nHost: fuzz\r\n%s\r\n", hex,
                                kind % 11 == 3 ? "/statement" : "", acc);
            break;
        case 4:
            get(out, "/entries/", b, acc);
            break;
        case 5:
            get(out, "/query?", b, acc);
            break;
        case 6:
            get(out, "/tile/", b, acc);
            break;
        case 7:
            get(out, "/proofs/consistency?", b, acc);
            break;
        case 8:
            get(out, "/.well-known/scitt-keys/", b, acc);
            break;
        case 9:
            get(out, fixed[(j / 3) % (sizeof(fixed) / sizeof(fixed[0]))], scitt_span_make(NULL, 0),
                acc);
            break;
        default:
            if (b.len > 0) { /* an empty one adds nothing (and an empty buffer has no pointer) */
                scitt_dynbuf_put(out, b.ptr, b.len); /* a raw request, or several, or garbage */
            }
            break;
        }
        n++;
    }
    return n;
}

/* ---- checking the responses ---- */

/* The value of header @p name in a response head, or an empty span. */
static scitt_span header(scitt_span head, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + 2 + nl + 1 < head.len; i++) {
        if (head.ptr[i] == '\n' && strncasecmp((const char *)head.ptr + i + 1, name, nl) == 0 &&
            head.ptr[i + 1 + nl] == ':') {
            size_t s = i + 2 + nl, e = s;
            while (s < head.len && head.ptr[s] == ' ') {
                s++;
            }
            e = s;
            while (e < head.len && head.ptr[e] != '\r') {
                e++;
            }
            return scitt_span_make(head.ptr + s, e - s);
        }
    }
    return scitt_span_make(NULL, 0);
}

/* RFC 9290 concise problem details: a map of negative-int keys with a text title and detail. */
static void check_problem(scitt_span body)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, body);
    size_t n;
    bool title = false, detail = false;
    if (scitt_cbor_read_map(&r, &n) != SCITT_OK || n == 0) {
        FAIL("an error body is not a CBOR map");
    }
    for (size_t i = 0; i < n; i++) {
        int64_t key;
        scitt_span text;
        if (scitt_cbor_read_int(&r, &key) != SCITT_OK || key >= 0) {
            FAIL("a problem-details key is not a negative integer");
        }
        if (key == -1 || key == -2) {
            if (scitt_cbor_read_text(&r, &text) != SCITT_OK || text.len == 0) {
                FAIL("a problem title or detail is not text");
            }
            title |= key == -1;
            detail |= key == -2;
        } else if (scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            FAIL("a problem-details value is malformed");
        }
    }
    if (scitt_cbor_reader_finish(&r) != SCITT_OK || !title || !detail) {
        FAIL("problem details without title and detail, or with trailing bytes");
    }
}

/* Every error is problem details; every 201 carries a receipt and its Location. */
static const char *check_one(const scitt__mem_sent *s, scitt_span head, scitt_span body)
{
    scitt_span ct = header(head, "Content-Type");
    if (s->status >= 400 && !s->is_head) {
        if (!scitt_span_eq_str(ct, SCITT_PROBLEM_MEDIA_TYPE)) {
            return "an error response is not problem details";
        }
        check_problem(body);
    }
    if (s->status == 201 &&
        (!scitt_span_eq_str(ct, "application/cose") || header(head, "Location").len != 9 + 64)) {
        return "a 201 without a receipt and its Location";
    }
    return NULL;
}

static void check(const scitt__mem_conn *m)
{
    const char *why = fuzz_http_out_check(m, check_one);
    if (why) {
        FAIL(why);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!D.svc) {
        setup();
    }
    scitt_dynbuf req;
    scitt_dynbuf_init(&req, 0);
    if (build(data, size, &req) == 0 || req.err != SCITT_OK) {
        scitt_dynbuf_clear(&req);
        return 0;
    }
    scitt__mem_conn *m = scitt__http_mem_conn_new(D.http, false);
    if (!m) {
        FAIL("no connection");
    }
    scitt__http_conn_input(&m->c, req.ptr, req.len);
    scitt_dynbuf_clear(&req);
    /*
     * Run the loop until no handler holds a request (worker pool, sequencer and receipt thread
     * done). What is left unanswered then is a request the input never finished: let its
     * deadline pass, as the real timer would, and run again (the 408 goes out at once).
     */
    uv_timer_start(&tick, on_tick, 50, 50);
    uint64_t deadline = uv_now(&loop) + 30000;
    for (int round = 0; round < 3; round++) {
        while (SCITT__CTR_GET(D.http->inflight) > 0) {
            uv_run(&loop, UV_RUN_ONCE);
            if (uv_now(&loop) > deadline) {
                FAIL("a handler held a request for 30 s");
            }
        }
        if (m->closed || (m->c.nq == 0 && m->c.pending_len == 0)) {
            break;
        }
        scitt__http_conn_timeout(&m->c, m->timer_kind);
    }
    uv_timer_stop(&tick);
    check(m);
    scitt__http_mem_conn_free(m);
    return 0;
}
