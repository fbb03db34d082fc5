/*
 * http_bench — requests per second and server CPU per request for keep-alive GETs of a small
 * response, plain and TLS. Two processes: a server made of the HTTP layer alone (forked child)
 * and the load client of bench/httpclient.c. The server's CPU time comes from its own
 * getrusage, read over HTTP before and after the measured phase.
 *
 * Environment: HTTP_BENCH_SECONDS (3), HTTP_BENCH_CONNS (32), HTTP_BENCH_DEPTH (1).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "certgen.h"
#include "http.h"
#include "httpclient.h"
#include "log.h"

static scitt_http_server *srv;
static uv_signal_t sig;

static void h_hello(scitt_http_req *req, void *ctx)
{
    static const char hello[] = "hello, world\n";
    (void)ctx;
    scitt_http_res_status(req, 200);
    if (scitt_http_res_body_borrow(req, "text/plain", scitt_span_make(hello, sizeof(hello) - 1),
                                   NULL, NULL) != SCITT_OK) {
        scitt_http_res_status(req, 500);
    }
    scitt_http_complete(req);
}

static void h_cpu(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char body[32];
    int n = snprintf(body, sizeof(body), "%lld",
                     (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                         ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    scitt_http_res_status(req, 200);
    if (scitt_http_res_body_copy(req, "text/plain", scitt_span_make(body, (size_t)n)) != SCITT_OK) {
        scitt_http_res_status(req, 500);
    }
    scitt_http_complete(req);
}

static void on_done(scitt_http_server *s, void *ctx)
{
    (void)s;
    (void)ctx;
    uv_close((uv_handle_t *)&sig, NULL);
}

static void on_sig(uv_signal_t *s, int n)
{
    (void)s;
    (void)n;
    scitt_http_server_shutdown(srv, 1000, on_done, NULL);
}

static int serve(int fd, const char *cert, const char *key)
{
    uv_loop_t *loop = uv_default_loop();
    scitt_http_config cfg;
    scitt_http_config_defaults(&cfg);
    scitt_log_set_level(SCITT_LOG_WARN);
    if (scitt_http_server_new(loop, &cfg, &srv) != SCITT_OK) {
        return 1;
    }
    scitt_http_route hello = {"hello", SCITT_HTTP_GET, "/hello", false, h_hello, NULL,
                              0,       NULL,           false,    0,     NULL};
    scitt_http_route cpu = {"cpu", SCITT_HTTP_GET, "/cpu", false, h_cpu, NULL,
                            0,     NULL,           false,  0,     NULL};
    int ports[2] = {0, 0};
    scitt_http_tls tls = {cert, key};
    if (scitt_http_server_route(srv, &hello) != SCITT_OK ||
        scitt_http_server_route(srv, &cpu) != SCITT_OK ||
        scitt_http_server_listen(srv, "127.0.0.1:0", NULL, &ports[0]) != SCITT_OK ||
        scitt_http_server_listen(srv, "127.0.0.1:0", &tls, &ports[1]) != SCITT_OK) {
        return 1;
    }
    uv_signal_init(loop, &sig);
    uv_signal_start(&sig, on_sig, SIGTERM);
    if (write(fd, ports, sizeof(ports)) != sizeof(ports)) {
        return 1;
    }
    close(fd);
    uv_run(loop, UV_RUN_DEFAULT);
    scitt_http_server_free(srv);
    return 0;
}

static double server_cpu_us(int port)
{
    char body[64];
    if (hc_fetch("127.0.0.1", port, "/cpu", body, sizeof(body)) != 200) {
        return -1;
    }
    return atof(body);
}

static double env_num(const char *name, double dflt)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : dflt;
}

/* One mode: a short unmeasured warm-up, then the measured run between two CPU readings. */
static int measure(const char *name, int plain_port, int port, bool tls, const char *cert,
                   double *rps, double *cpu)
{
    static const char get[] = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
    hc_request req = {get, sizeof(get) - 1};
    hc_config c = {0};
    c.host = "127.0.0.1";
    c.port = port;
    c.tls = tls;
    c.ca_file = tls ? cert : NULL;
    c.connections = (unsigned)env_num("HTTP_BENCH_CONNS", 32);
    c.depth = (unsigned)env_num("HTTP_BENCH_DEPTH", 1);
    c.requests = &req;
    c.nrequests = 1;
    c.duration_s = 0.5;
    hc_result r;
    if (hc_run(&c, &r) != 0) {
        fprintf(stderr, "http_bench: %s warm-up failed\n", name);
        return -1;
    }
    double cpu0 = server_cpu_us(plain_port);
    c.duration_s = env_num("HTTP_BENCH_SECONDS", 3);
    if (hc_run(&c, &r) != 0 || r.errors || r.non2xx) {
        fprintf(stderr, "http_bench: %s run failed (errors %llu, non-2xx %llu)\n", name,
                (unsigned long long)r.errors, (unsigned long long)r.non2xx);
        return -1;
    }
    double cpu1 = server_cpu_us(plain_port);
    *rps = r.rps;
    *cpu = (cpu1 - cpu0) / (double)r.completed;
    char label[64];
    snprintf(label, sizeof(label), "http_%s", name);
    bench_print(label, r.rps, "req/s");
    snprintf(label, sizeof(label), "cpu_per_request_%s", name);
    bench_print(label, *cpu, "us");
    snprintf(label, sizeof(label), "http_%s_latency_p50", name);
    bench_print(label, r.p50_us, "us");
    snprintf(label, sizeof(label), "http_%s_latency_p99", name);
    bench_print(label, r.p99_us, "us");
    return 0;
}

int main(int argc, char **argv)
{
    bench_help(
        argc, argv,
        "usage: http_bench\n  the HTTP stack's CPU per request, plain and TLS, over loopback\n");
    char dir[] = "/tmp/http-bench-XXXXXX", cert[64], key[64];
    if (!mkdtemp(dir)) {
        return 2;
    }
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    if (!certgen_write(cert, key)) {
        fprintf(stderr, "http_bench: cannot make a test certificate\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int pfd[2];
    if (pipe(pfd) != 0) {
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        _exit(serve(pfd[1], cert, key));
    }
    close(pfd[1]);
    int ports[2];
    int rc = 1;
    if (read(pfd[0], ports, sizeof(ports)) == sizeof(ports)) {
        double rps_plain, cpu_plain, rps_tls, cpu_tls;
        if (measure("plain", ports[0], ports[0], false, cert, &rps_plain, &cpu_plain) == 0 &&
            measure("tls", ports[0], ports[1], true, cert, &rps_tls, &cpu_tls) == 0) {
            bench_print("tls_cpu_over_plain", cpu_tls / cpu_plain, "x");
            rc = 0;
        }
    }
    close(pfd[0]);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return rc;
}
