/*
 * http_testd — a small server over the HTTP layer with routes built to exercise it: echo, a
 * route completed later from another thread (out of order, for pipelining checks), one
 * completed from the libuv worker pool, problem answers, large borrowed bodies and counters.
 *
 * It binds the addresses it is given (port 0 picks a free port) and prints one line
 *   READY plain=<port> tls=<port>
 * on stdout once it is accepting, so a test never races for a port. SIGTERM or SIGINT starts a
 * graceful shutdown; the exit status is 0 when that completed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "http.h"
#include "log.h"

/* ---- a thread that completes requests when their delay has passed ---- */

typedef struct delayed {
    scitt_http_req *req;
    uint64_t due_ms;
    char id[32];
} delayed;

static uv_mutex_t dq_mu;
static uv_cond_t dq_cv;
static delayed *dq;
static size_t dq_len, dq_cap;
static bool dq_stop;
static uv_thread_t dq_thread;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void dq_push(delayed d)
{
    uv_mutex_lock(&dq_mu);
    if (dq_len == dq_cap) {
        dq_cap = dq_cap ? dq_cap * 2 : 64;
        dq = realloc(dq, dq_cap * sizeof(*dq));
        if (!dq) {
            abort();
        }
    }
    /* A binary min-heap on the due time. */
    size_t i = dq_len++;
    while (i > 0 && dq[(i - 1) / 2].due_ms > d.due_ms) {
        dq[i] = dq[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    dq[i] = d;
    uv_cond_signal(&dq_cv);
    uv_mutex_unlock(&dq_mu);
}

static delayed dq_pop_locked(void)
{
    delayed top = dq[0], last = dq[--dq_len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < dq_len && dq[l].due_ms < last.due_ms) {
            m = l;
        }
        if (l + 1 < dq_len && dq[l + 1].due_ms < (m == i ? last.due_ms : dq[m].due_ms)) {
            m = l + 1;
        }
        if (m == i) {
            break;
        }
        dq[i] = dq[m];
        i = m;
    }
    if (dq_len) {
        dq[i] = last;
    }
    return top;
}

static void finish_delayed(delayed *d)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "id=%s", d->id);
    scitt_http_res_status(d->req, 200);
    if (scitt_http_res_body_copy(d->req, "text/plain", scitt_span_make(body, (size_t)n)) !=
        SCITT_OK) {
        scitt_http_res_status(d->req, 500);
    }
    scitt_http_complete(d->req); /* from this thread: the layer's cross-thread path */
}

static void dq_main(void *arg)
{
    (void)arg;
    uv_mutex_lock(&dq_mu);
    for (;;) {
        if (dq_len == 0) {
            if (dq_stop) {
                break;
            }
            uv_cond_wait(&dq_cv, &dq_mu);
            continue;
        }
        uint64_t now = mono_ms();
        if (dq[0].due_ms > now && !dq_stop) {
            (void)uv_cond_timedwait(&dq_cv, &dq_mu, (dq[0].due_ms - now) * 1000000u);
            continue;
        }
        delayed d = dq_pop_locked();
        uv_mutex_unlock(&dq_mu);
        finish_delayed(&d);
        uv_mutex_lock(&dq_mu);
    }
    uv_mutex_unlock(&dq_mu);
}

/* ---- routes ---- */

/* A response setter that fails makes the answer a 500, so a test notices. */
#define TRY(req, expr)                                                                             \
    do {                                                                                           \
        if ((expr) != SCITT_OK) {                                                                  \
            scitt_http_res_status((req), 500);                                                     \
        }                                                                                          \
    } while (0)

static uint64_t span_u64(scitt_span s, uint64_t dflt)
{
    if (s.len == 0 || s.len > 19) {
        return dflt;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return dflt;
        }
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    return v;
}

static void copy_param(scitt_http_req *req, const char *name, char *out, size_t cap)
{
    scitt_span v;
    out[0] = 0;
    if (scitt_http_req_query_param(req, name, &v)) {
        size_t n = v.len < cap - 1 ? v.len : cap - 1;
        memcpy(out, v.ptr, n);
        out[n] = 0;
    }
}

static void set_header_span(scitt_http_req *req, const char *name, scitt_span v)
{
    char *s = scitt_http_req_alloc(req, v.len + 1);
    if (!s) {
        return;
    }
    memcpy(s, v.ptr, v.len);
    s[v.len] = 0;
    TRY(req, scitt_http_res_header(req, name, s));
}

static void h_echo(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span body = scitt_http_req_body(req), v;
    char len[32];
    snprintf(len, sizeof(len), "%zu", body.len);
    TRY(req, scitt_http_res_header(req, "X-Echo-Method", scitt_http_req_method_name(req)));
    TRY(req, scitt_http_res_header(req, "X-Echo-Len", len));
    TRY(req, scitt_http_res_header(req, "X-Echo-TLS", scitt_http_req_tls(req) ? "1" : "0"));
    set_header_span(req, "X-Echo-Path", scitt_http_req_path(req));
    set_header_span(req, "X-Echo-Query", scitt_http_req_query(req));
    if (scitt_http_req_header(req, "x-test", &v)) {
        set_header_span(req, "X-Echo-Test", v);
    }
    scitt_http_res_status(req, 200);
    if (scitt_http_res_body_copy(req, "application/octet-stream", body) != SCITT_OK) {
        scitt_http_res_status(req, 500);
    }
    scitt_http_complete(req);
}

static void h_hello(scitt_http_req *req, void *ctx)
{
    static const char hello[] = "hello\n";
    (void)ctx;
    scitt_http_res_status(req, 200);
    TRY(req, scitt_http_res_body_borrow(req, "text/plain", scitt_span_make(hello, 6), NULL, NULL));
    scitt_http_complete(req);
}

static void h_delay(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    delayed d = {req, 0, ""};
    scitt_span ms = {NULL, 0};
    (void)scitt_http_req_query_param(req, "ms", &ms);
    d.due_ms = mono_ms() + span_u64(ms, 0);
    copy_param(req, "id", d.id, sizeof(d.id));
    dq_push(d);
}

typedef struct work {
    uv_work_t w;
    scitt_http_req *req;
    char id[32];
} work;

static void work_run(uv_work_t *w)
{
    /* Complete from the worker thread itself, as statement checks will. */
    work *k = w->data;
    char body[64];
    int n = snprintf(body, sizeof(body), "id=%s", k->id);
    scitt_http_res_status(k->req, 200);
    if (scitt_http_res_body_copy(k->req, "text/plain", scitt_span_make(body, (size_t)n)) !=
        SCITT_OK) {
        scitt_http_res_status(k->req, 500);
    }
    scitt_http_complete(k->req);
}

static void work_done(uv_work_t *w, int status)
{
    (void)status;
    free(w->data);
}

static void h_work(scitt_http_req *req, void *ctx)
{
    uv_loop_t *loop = ctx;
    work *k = calloc(1, sizeof(*k));
    if (!k) {
        TRY(req, scitt_http_res_problem(req, 503, "Busy", "No memory for the work item"));
        scitt_http_complete(req);
        return;
    }
    k->req = req;
    k->w.data = k;
    copy_param(req, "id", k->id, sizeof(k->id));
    if (uv_queue_work(loop, &k->w, work_run, work_done) != 0) {
        free(k);
        TRY(req, scitt_http_res_problem(req, 503, "Busy", "The worker pool refused the job"));
        scitt_http_complete(req);
    }
}

static void h_status(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span code = {NULL, 0};
    (void)scitt_http_req_query_param(req, "code", &code);
    int status = (int)span_u64(code, 500);
    if (scitt_http_res_problem(req, status, "Test Problem", "Requested by the test") != SCITT_OK) {
        scitt_http_res_status(req, 500);
    }
    if (status == 429 || status == 503) {
        TRY(req, scitt_http_res_header(req, "Retry-After", "7"));
    }
    scitt_http_complete(req);
}

static uint8_t *big_body;
static size_t big_cap = 8u << 20;
static size_t big_released;

static void big_release(void *ctx)
{
    (void)ctx;
    big_released++;
}

static void h_big(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span n = {NULL, 0};
    (void)scitt_http_req_query_param(req, "n", &n);
    size_t len = (size_t)span_u64(n, 1000);
    if (len > big_cap) {
        len = big_cap;
    }
    scitt_http_res_status(req, 200);
    if (scitt_http_res_body_borrow(req, "application/octet-stream", scitt_span_make(big_body, len),
                                   big_release, NULL) != SCITT_OK) {
        scitt_http_res_status(req, 500);
    }
    scitt_http_complete(req);
}

static void h_cbor(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    char len[32];
    snprintf(len, sizeof(len), "%zu", scitt_http_req_body(req).len);
    scitt_http_res_status(req, 201);
    TRY(req, scitt_http_res_header(req, "Location", "/cbor/1"));
    TRY(req, scitt_http_res_body_copy(req, "text/plain", scitt_span_str(len)));
    scitt_http_complete(req);
}

static void h_cpu(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char body[64];
    int n = snprintf(body, sizeof(body), "%lld",
                     (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
                         (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
    scitt_http_res_status(req, 200);
    TRY(req, scitt_http_res_body_copy(req, "text/plain", scitt_span_make(body, (size_t)n)));
    scitt_http_complete(req);
}

static scitt_http_server *g_srv;

static void h_metrics(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_http_metrics m;
    scitt_http_server_metrics(g_srv, &m);
    char body[2048];
    int n = snprintf(body, sizeof(body),
                     "conns_open %llu\nconns_total %llu\nconns_rejected %llu\nrequests %llu\n"
                     "timeouts %llu\nparse_errors %llu\nrate_limited %llu\ntls_failures %llu\n"
                     "inflight %llu\nbig_released %zu\nconns_rejected_ip %llu\n",
                     (unsigned long long)m.conns_open, (unsigned long long)m.conns_total,
                     (unsigned long long)m.conns_rejected, (unsigned long long)m.requests,
                     (unsigned long long)m.timeouts, (unsigned long long)m.parse_errors,
                     (unsigned long long)m.rate_limited, (unsigned long long)m.tls_failures,
                     (unsigned long long)m.inflight, big_released,
                     (unsigned long long)m.conns_rejected_ip);
    for (size_t r = 0; r < scitt_http_server_route_rows(g_srv); r++) {
        for (int s = 100; s < 600; s++) {
            uint64_t v = scitt_http_server_route_count(g_srv, r, s);
            if (v && (size_t)n < sizeof(body) - 64) {
                n += snprintf(body + n, sizeof(body) - (size_t)n, "route %s %d %llu\n",
                              scitt_http_server_route_name(g_srv, r), s, (unsigned long long)v);
            }
        }
    }
    scitt_http_res_status(req, 200);
    TRY(req, scitt_http_res_body_copy(req, "text/plain", scitt_span_make(body, (size_t)n)));
    scitt_http_complete(req);
}

/* ---- main ---- */

static uv_signal_t sig_term, sig_int;
static uint64_t grace_ms = 5000;
static int exit_code = 1;

static void on_done(scitt_http_server *srv, void *ctx)
{
    (void)srv;
    (void)ctx;
    exit_code = 0;
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    scitt_http_server_shutdown(g_srv, grace_ms, on_done, NULL);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: http_testd [--listen A] [--listen6 A] [--tls-listen A --cert F --key F] "
            "[--header-timeout-ms N] [--body-timeout-ms N] [--keepalive-timeout-ms N] "
            "[--max-conn N] [--max-body N] [--max-header-bytes N] [--max-headers N] "
            "[--max-url N] [--pipeline N] [--max-conns-per-ip N] [--conn-buffer N] "
            "[--send-timeout-ms N] [--rate R --burst B] [--grace-ms N] "
            "[--log-level L]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    scitt_http_config cfg;
    scitt_http_config_defaults(&cfg);
    const char *listen = NULL, *listen6 = NULL, *tls_listen = NULL, *cert = NULL, *key = NULL;
    scitt_log_set_level(SCITT_LOG_WARN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            usage();
        }
        const char *v = argv[++i];
        unsigned long long n = strtoull(v, NULL, 10);
        if (!strcmp(a, "--listen")) {
            listen = v;
        } else if (!strcmp(a, "--listen6")) {
            listen6 = v;
        } else if (!strcmp(a, "--tls-listen")) {
            tls_listen = v;
        } else if (!strcmp(a, "--cert")) {
            cert = v;
        } else if (!strcmp(a, "--key")) {
            key = v;
        } else if (!strcmp(a, "--header-timeout-ms")) {
            cfg.header_timeout_ms = n;
        } else if (!strcmp(a, "--body-timeout-ms")) {
            cfg.body_timeout_ms = n;
        } else if (!strcmp(a, "--keepalive-timeout-ms")) {
            cfg.keepalive_timeout_ms = n;
        } else if (!strcmp(a, "--max-conn")) {
            cfg.max_connections = (size_t)n;
        } else if (!strcmp(a, "--max-body")) {
            cfg.max_body_bytes = (size_t)n;
        } else if (!strcmp(a, "--max-header-bytes")) {
            cfg.max_header_bytes = (size_t)n;
        } else if (!strcmp(a, "--max-headers")) {
            cfg.max_headers = (size_t)n;
        } else if (!strcmp(a, "--max-url")) {
            cfg.max_url_bytes = (size_t)n;
        } else if (!strcmp(a, "--pipeline")) {
            cfg.max_pipeline = (unsigned)n;
        } else if (!strcmp(a, "--max-conns-per-ip")) {
            cfg.max_conns_per_ip = (size_t)n;
        } else if (!strcmp(a, "--conn-buffer")) {
            cfg.conn_buffer_bytes = (size_t)n;
        } else if (!strcmp(a, "--send-timeout-ms")) {
            cfg.send_timeout_ms = n;
        } else if (!strcmp(a, "--rate")) {
            cfg.rate_per_sec = strtod(v, NULL);
        } else if (!strcmp(a, "--burst")) {
            cfg.rate_burst = strtod(v, NULL);
        } else if (!strcmp(a, "--grace-ms")) {
            grace_ms = n;
        } else if (!strcmp(a, "--log-level")) {
            scitt_log_level lvl;
            if (!scitt_log_parse_level(v, &lvl)) {
                usage();
            }
            scitt_log_set_level(lvl);
        } else {
            usage();
        }
    }
    if (!listen && !tls_listen) {
        listen = "127.0.0.1:0";
    }
    /* Thousands of test connections need more than the usual 1024 descriptors. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    big_body = malloc(big_cap);
    if (!big_body) {
        return 1;
    }
    for (size_t i = 0; i < big_cap; i++) {
        big_body[i] = (uint8_t)('a' + i % 26);
    }
    uv_loop_t *loop = uv_default_loop();
    uv_mutex_init(&dq_mu);
    uv_cond_init(&dq_cv);
    uv_thread_create(&dq_thread, dq_main, NULL);
    if (scitt_http_server_new(loop, &cfg, &g_srv) != SCITT_OK) {
        fprintf(stderr, "http_testd: bad configuration\n");
        return 2;
    }
    const scitt_http_route routes[] = {
        {"echo", SCITT_HTTP_GET | SCITT_HTTP_POST | SCITT_HTTP_PUT, "/echo", false, h_echo, NULL, 0,
         NULL, false, 0, NULL},
        {"hello", SCITT_HTTP_GET, "/hello", false, h_hello, NULL, 0, NULL, false, 0, NULL},
        {"delay", SCITT_HTTP_GET | SCITT_HTTP_POST, "/delay", false, h_delay, NULL, 0, NULL, false,
         0, NULL},
        {"work", SCITT_HTTP_GET, "/work", false, h_work, loop, 0, NULL, false, 0, NULL},
        {"status", SCITT_HTTP_GET, "/status", false, h_status, NULL, 0, NULL, false, 0, NULL},
        {"big", SCITT_HTTP_GET, "/big", false, h_big, NULL, 0, NULL, false, 0, NULL},
        {"cbor", SCITT_HTTP_POST, "/cbor", false, h_cbor, NULL, 4096, "application/cbor", true, 0,
         NULL},
        {"cpu", SCITT_HTTP_GET, "/cpu", false, h_cpu, NULL, 0, NULL, false, 0, NULL},
        {"metrics", SCITT_HTTP_GET, "/metrics", false, h_metrics, NULL, 0, NULL, false, 0, NULL},
        {"prefix", SCITT_HTTP_GET, "/prefix/", true, h_echo, NULL, 0, NULL, false, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (scitt_http_server_route(g_srv, &routes[i]) != SCITT_OK) {
            return 2;
        }
    }
    int plain_port = 0, tls_port = 0, v6_port = 0;
    if (listen && scitt_http_server_listen(g_srv, listen, NULL, &plain_port) != SCITT_OK) {
        fprintf(stderr, "http_testd: cannot listen on %s\n", listen);
        return 2;
    }
    if (listen6 && scitt_http_server_listen(g_srv, listen6, NULL, &v6_port) != SCITT_OK) {
        fprintf(stderr, "http_testd: cannot listen on %s\n", listen6);
        return 2;
    }
    if (tls_listen) {
        scitt_http_tls tls = {cert, key};
        if (scitt_http_server_listen(g_srv, tls_listen, &tls, &tls_port) != SCITT_OK) {
            fprintf(stderr, "http_testd: cannot listen with TLS on %s\n", tls_listen);
            return 2;
        }
    }
    uv_signal_init(loop, &sig_term);
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    printf("READY plain=%d tls=%d v6=%d\n", plain_port, tls_port, v6_port);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    /* Handlers may still hold requests (a delay longer than the grace): let them finish. */
    uv_mutex_lock(&dq_mu);
    dq_stop = true;
    uv_cond_signal(&dq_cv);
    uv_mutex_unlock(&dq_mu);
    uv_thread_join(&dq_thread);
    uv_run(loop, UV_RUN_NOWAIT);
    scitt_http_server_free(g_srv);
    uv_loop_close(loop);
    free(dq);
    free(big_body);
    return exit_code;
}
