/*
 * Connection-level behaviour of the server layer against http_testd: slow-loris timeouts for
 * headers and bodies, idle keep-alive timeout, the connection limit, per-IP rate limiting,
 * the per-address connection cap, thousands of idle connections, TLS (keep-alive, pipelining, ALPN,
 * handshake timeout), and graceful shutdown with a request in flight.
 *
 * Run as `test_http_conn <case>`: each ctest entry runs one case with its own server process.
 */
#include "certgen.h"
#include "itest.h"
#include "skip.h"

static it_server srv;
static char tmpdir[64], cert[128], key[128];

static int teardown(void **state)
{
    (void)state;
    if (srv.pid > 0) {
        assert_int_equal(it_stop(&srv), 0);
    }
    if (tmpdir[0]) {
        unlink(cert);
        unlink(key);
        rmdir(tmpdir);
        tmpdir[0] = 0;
    }
    return 0;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

static void expect_ok(it_conn *c, const char *body)
{
    it_resp r;
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(body));
    assert_memory_equal(r.body, body, r.body_len);
}

/* A client that dribbles its headers gets 408 and is closed once the header timeout passes. */
static void test_slowloris_headers(void **state)
{
    (void)state;
    const char *args[] = {"--header-timeout-ms", "600", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    const char *req = "GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    double t0 = it_now();
    bool closed = false;
    for (size_t i = 0; req[i] && !closed; i++) {
        if (send(c->fd, req + i, 1, MSG_NOSIGNAL) != 1) {
            closed = true;
            break;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        closed = poll(&p, 1, 100) > 0; /* the server spoke: its 408 */
    }
    assert_true(closed);
    double t = it_now() - t0;
    assert_true(t >= 0.5 && t < 3.0);
    it_resp r;
    char title[256], detail[256];
    assert_int_equal(it_read(c, &r, 3000, false), 1);
    assert_int_equal(r.status, 408);
    it_problem(&r, title, detail, sizeof(title));
    assert_true(it_closed(c, 3000));
    it_close(c);
    /* A connection that sends nothing at all is closed too, without an answer. */
    c = it_connect(srv.plain);
    t0 = it_now();
    assert_true(it_closed(c, 3000));
    assert_true(it_now() - t0 >= 0.5);
    it_close(c);
}

/* A client that dribbles a body is answered 408 and closed once the body timeout passes. */
static void test_slowloris_body(void **state)
{
    (void)state;
    const char *args[] = {"--body-timeout-ms", "600", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    it_sends(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
    double t0 = it_now();
    bool spoke = false;
    for (int i = 0; i < 60 && !spoke; i++) {
        if (send(c->fd, "x", 1, MSG_NOSIGNAL) != 1) {
            break;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        spoke = poll(&p, 1, 100) > 0;
    }
    assert_true(spoke);
    double t = it_now() - t0;
    assert_true(t >= 0.5 && t < 3.0);
    it_resp r;
    char title[256], detail[256];
    assert_int_equal(it_read(c, &r, 3000, false), 1);
    assert_int_equal(r.status, 408);
    it_problem(&r, title, detail, sizeof(title));
    assert_true(it_closed(c, 3000));
    it_close(c);
}

/* An idle keep-alive connection is closed after the keep-alive timeout, not before. */
static void test_idle_timeout(void **state)
{
    (void)state;
    const char *args[] = {"--keepalive-timeout-ms", "700", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    it_sends(c, GET("/hello"));
    expect_ok(c, "hello\n");
    double t0 = it_now();
    assert_true(it_closed(c, 5000));
    double t = it_now() - t0;
    assert_true(t >= 0.6 && t < 3.0);
    it_close(c);
}

static int metric(int port, const char *name)
{
    it_conn *c = it_connect(port);
    it_sends(c, GET("/metrics"));
    it_resp r;
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    r.body[r.body_len < sizeof(r.body) ? r.body_len : sizeof(r.body) - 1] = 0;
    char pat[64];
    snprintf(pat, sizeof(pat), "%s ", name);
    const char *p = strstr((char *)r.body, pat);
    assert_non_null(p);
    it_close(c);
    return atoi(p + strlen(pat));
}

/* Beyond max_connections new connections are closed at once; a freed slot is reusable. */
static void test_conn_limit(void **state)
{
    (void)state;
    const char *args[] = {"--max-conn", "4", NULL};
    it_start(&srv, args);
    it_conn *held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = it_connect(srv.plain);
        it_sends(held[i], GET("/hello"));
        expect_ok(held[i], "hello\n");
    }
    it_conn *fourth = it_connect(srv.plain);
    it_sends(fourth, GET("/hello"));
    expect_ok(fourth, "hello\n");
    double t0 = it_now();
    it_conn *over = it_connect(srv.plain);
    assert_true(it_closed(over, 2000));
    assert_true(it_now() - t0 < 1.5);
    it_close(over);
    /* The limit still holds: ask for counters over one of the open connections. */
    it_sends(fourth, GET("/metrics"));
    it_resp r;
    assert_int_equal(it_read(fourth, &r, 5000, false), 1);
    r.body[r.body_len] = 0;
    assert_non_null(strstr((char *)r.body, "conns_rejected 1\n"));
    assert_non_null(strstr((char *)r.body, "conns_open 4\n"));
    it_close(fourth);
    /* With one closed, a new client gets in (the server notices the close promptly). */
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; attempt++) {
        it_conn *c = it_connect(srv.plain);
        it_sends(c, GET("/hello"));
        it_resp rr;
        served = it_read(c, &rr, 1000, false) == 1 && rr.status == 200;
        it_close(c);
        if (!served) {
            it_sleep_ms(20);
        }
    }
    assert_true(served);
    for (int i = 0; i < 3; i++) {
        it_close(held[i]);
    }
}

/* The token bucket: burst answered, then 429 with Retry-After; the connection stays usable. */
static void test_rate_limit(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "1", "--burst", "3", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    it_sends(c, GET("/hello") GET("/hello") GET("/hello") GET("/hello") GET("/hello"));
    for (int i = 0; i < 3; i++) {
        expect_ok(c, "hello\n");
    }
    for (int i = 0; i < 2; i++) {
        it_resp r;
        char v[32], title[256], detail[256];
        assert_int_equal(it_read(c, &r, 5000, false), 1);
        assert_int_equal(r.status, 429);
        assert_non_null(it_header(&r, "Retry-After", v, sizeof(v)));
        assert_true(atoi(v) >= 1 && atoi(v) <= 2);
        it_problem(&r, title, detail, sizeof(title));
        assert_string_equal(title, "Too Many Requests");
    }
    /* One token per second comes back. */
    it_sleep_ms(1100);
    it_sends(c, GET("/hello"));
    expect_ok(c, "hello\n");
    it_close(c);
}

/* Thousands of idle connections do not delay a new client. */
/*
 * A connection to 127.0.0.1:@p port from source address 127.1.0.@p host (Linux routes all of
 * 127/8 to loopback), so that a test can be many clients; -1 when it cannot connect.
 */
static int connect_from(int port, unsigned host)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in src = {0};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f010000u | host);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Thousands of idle connections from 40 client addresses (each under the per-address cap). */
static void test_idle_thousands(void **state)
{
    (void)state;
    size_t limit = it_raise_nofile();
    size_t n = limit > 4200 ? 4000 : (limit > 400 ? limit - 200 : 200);
    const char *args[] = {"--header-timeout-ms", "60000", NULL};
    it_start(&srv, args);
    int *fds = calloc(n, sizeof(int));
    assert_non_null(fds);
    for (size_t i = 0; i < n; i++) {
        fds[i] = connect_from(srv.plain, 1 + (unsigned)(i % 40));
        assert_true(fds[i] >= 0);
    }
    /* Let the server accept them all, then time a fresh client's request. */
    double until = it_now() + 10;
    while (metric(srv.plain, "conns_open") < (int)n + 1 && it_now() < until) {
        it_sleep_ms(20);
    }
    assert_true(metric(srv.plain, "conns_open") >= (int)n + 1);
    double t0 = it_now();
    it_conn *c = it_connect(srv.plain);
    it_sends(c, GET("/hello"));
    expect_ok(c, "hello\n");
    double t = it_now() - t0;
    print_message("%zu idle connections; a new request took %.1f ms\n", n, t * 1000);
    assert_true(t < 0.5);
    it_close(c);
    for (size_t i = 0; i < n; i++) {
        close(fds[i]);
    }
    free(fds);
}

/*
 * One client address may hold only max_conns_per_ip connections: the next one from it is closed
 * at once (and counted), while other addresses still get in, and a closed connection frees its
 * place. Without the cap the extra connection would be served.
 */
static void test_conn_per_ip(void **state)
{
    (void)state;
    const char *args[] = {"--max-conns-per-ip", "3", NULL};
    it_start(&srv, args);
    int held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = connect_from(srv.plain, 7);
        assert_true(held[i] >= 0);
        assert_int_equal(send(held[i], GET("/hello"), strlen(GET("/hello")), MSG_NOSIGNAL),
                         (ssize_t)strlen(GET("/hello")));
        char buf[512];
        assert_true(recv(held[i], buf, sizeof(buf), 0) > 0);
    }
    /* The fourth from the same address: closed at once, without an answer. */
    it_conn *over = calloc(1, sizeof(*over));
    assert_non_null(over);
    over->fd = connect_from(srv.plain, 7);
    assert_true(over->fd >= 0);
    (void)!send(over->fd, GET("/hello"), strlen(GET("/hello")), MSG_NOSIGNAL);
    assert_true(it_closed(over, 2000));
    it_close(over);
    /* Another address is not affected. */
    it_conn *other = calloc(1, sizeof(*other));
    assert_non_null(other);
    other->fd = connect_from(srv.plain, 8);
    assert_true(other->fd >= 0);
    it_sends(other, GET("/hello"));
    expect_ok(other, "hello\n");
    it_sends(other, GET("/metrics"));
    it_resp r;
    assert_int_equal(it_read(other, &r, 5000, false), 1);
    r.body[r.body_len] = 0;
    assert_non_null(strstr((char *)r.body, "conns_rejected_ip 1\n"));
    it_close(other);
    /* One of the three closes: its place is free again (the server notices promptly). */
    close(held[0]);
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; attempt++) {
        it_conn *c = calloc(1, sizeof(*c));
        assert_non_null(c);
        c->fd = connect_from(srv.plain, 7);
        assert_true(c->fd >= 0);
        (void)!send(c->fd, GET("/hello"), strlen(GET("/hello")), MSG_NOSIGNAL);
        it_resp rr;
        served = it_read(c, &rr, 1000, false) == 1 && rr.status == 200;
        it_close(c);
        if (!served) {
            it_sleep_ms(20);
        }
    }
    assert_true(served);
    close(held[1]);
    close(held[2]);
}

/* Two listeners, IPv4 and IPv6, served by one loop. */
static void test_ipv6(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (probe >= 0) {
        close(probe);
    }
    if (!have_v6) {
        tu_skip("no IPv6 loopback on this machine (cannot bind [::1])");
    }
    const char *args[] = {"--listen", "127.0.0.1:0", "--listen6", "[::1]:0", NULL};
    it_start(&srv, args);
    assert_true(srv.v6 > 0);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    a.sin6_port = htons((uint16_t)srv.v6);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    it_conn *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->fd = fd;
    it_sends(c, GET("/hello"));
    expect_ok(c, "hello\n");
    it_close(c);
    c = it_connect(srv.plain);
    it_sends(c, GET("/hello"));
    expect_ok(c, "hello\n");
    it_close(c);
}

/* ---- TLS ---- */

static void start_tls(const char *const *extra)
{
    it_tmpdir(tmpdir, sizeof(tmpdir));
    snprintf(cert, sizeof(cert), "%s/cert.pem", tmpdir);
    snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
    assert_true(certgen_write(cert, key));
    const char *args[32] = {"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
                            "--cert",   cert,          "--key",        key};
    size_t n = 8;
    for (size_t i = 0; extra && extra[i] && n < 31; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
    it_start(&srv, args);
    assert_true(srv.tls > 0);
}

static SSL_CTX *client_ctx(const char *alpn, size_t alpn_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, cert, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    assert_int_equal(SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)alpn, (unsigned)alpn_len),
                     0);
    return ctx;
}

/* Connects and handshakes; returns NULL when the handshake fails. */
static it_conn *tls_connect(SSL_CTX *ctx)
{
    it_conn *c = it_connect(srv.tls);
    c->ssl = SSL_new(ctx);
    assert_non_null(c->ssl);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) {
        ERR_clear_error();
        it_close(c);
        return NULL;
    }
    return c;
}

static void test_tls(void **state)
{
    (void)state;
    start_tls(NULL);
    /* curl: certificate verified, HTTP/1.1 over ALPN, one connection for two requests. */
    char url[96], resolve[96], out[512];
    snprintf(url, sizeof(url), "https://localhost:%d/hello", srv.tls);
    snprintf(resolve, sizeof(resolve), "localhost:%d:127.0.0.1", srv.tls);
    const char *argv[] = {"curl",      "-s",        "--cacert",
                          cert,        "--resolve", resolve,
                          "-o",        "/dev/null", "-o",
                          "/dev/null", "-w",        "%{num_connects}/%{http_version}/%{http_code} ",
                          url,         url,         NULL};
    assert_int_equal(it_run(argv, out, sizeof(out), 10000), 0);
    assert_string_equal(out, "1/1.1/200 0/1.1/200 ");

    SSL_CTX *ctx = client_ctx("\x02h2\x08http/1.1", 12);
    it_conn *c = tls_connect(ctx);
    assert_non_null(c);
    const unsigned char *proto;
    unsigned plen;
    SSL_get0_alpn_selected(c->ssl, &proto, &plen);
    assert_int_equal(plen, 8);
    assert_memory_equal(proto, "http/1.1", 8);
    /* Keep-alive and pipelining with out-of-order completion, over TLS. */
    it_sends(c, GET("/delay?ms=300&id=a") GET("/work?id=b") GET("/delay?ms=0&id=c") GET("/echo"));
    expect_ok(c, "id=a");
    expect_ok(c, "id=b");
    expect_ok(c, "id=c");
    it_resp r;
    char v[16];
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_string_equal(it_header(&r, "X-Echo-TLS", v, sizeof(v)), "1");
    for (int i = 0; i < 3; i++) {
        it_sends(c, GET("/hello"));
        expect_ok(c, "hello\n");
    }
    /* A body larger than many records arrives intact. */
    it_sends(c, GET("/big?n=60000"));
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 60000);
    for (size_t i = 0; i < 60000; i++) {
        assert_int_equal(r.body[i], 'a' + i % 26);
    }
    it_close(c);
    /* A client that offers only h2 has no protocol in common: the handshake fails. */
    SSL_CTX *h2 = client_ctx("\x02h2", 3);
    assert_null(tls_connect(h2));
    SSL_CTX_free(h2);
    /* TLS below 1.2 is refused. */
    SSL_CTX *old = client_ctx("\x08http/1.1", 9);
    SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
    SSL_CTX_set_security_level(old, 0);
    assert_null(tls_connect(old));
    SSL_CTX_free(old);
    SSL_CTX_free(ctx);
}

/* A TLS client that never finishes its handshake is dropped after the header timeout. */
static void test_tls_handshake_timeout(void **state)
{
    (void)state;
    const char *extra[] = {"--header-timeout-ms", "500", NULL};
    start_tls(extra);
    it_conn *c = it_connect(srv.tls);
    it_sends(c, "\x16\x03\x01\x00"); /* the first bytes of a ClientHello, then silence */
    double t0 = it_now();
    bool closed = false;
    while (!closed && it_now() - t0 < 3) {
        closed = it_fill(c, 3000) == 0;
    }
    assert_true(closed);
    assert_true(it_now() - t0 >= 0.4);
    it_close(c);
}

/* ---- shutdown ---- */

/* SIGTERM with a request in flight: it is answered, then the server exits cleanly. */
static void test_shutdown_inflight(void **state)
{
    (void)state;
    const char *args[] = {"--grace-ms", "5000", NULL};
    it_start(&srv, args);
    it_conn *idle = it_connect(srv.plain);
    it_sends(idle, GET("/hello"));
    expect_ok(idle, "hello\n");
    it_conn *c = it_connect(srv.plain);
    it_sends(c, GET("/delay?ms=700&id=inflight"));
    it_sleep_ms(150);
    double t0 = it_now();
    kill(srv.pid, SIGTERM);
    /* The idle keep-alive connection is closed at once. */
    assert_true(it_closed(idle, 2000));
    assert_true(it_now() - t0 < 0.5);
    it_resp r;
    char v[32];
    assert_int_equal(it_read(c, &r, 5000, false), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 11);
    assert_memory_equal(r.body, "id=inflight", 11);
    assert_string_equal(it_header(&r, "Connection", v, sizeof(v)), "close");
    assert_true(it_closed(c, 2000));
    assert_int_equal(it_wait(&srv, 5000), 0);
    /* Nobody listens any more. */
    assert_true(it_connect_fd(srv.plain) < 0);
    it_close(idle);
    it_close(c);
}

/* A request that outlives the grace period is cut off, and the server still exits. */
static void test_shutdown_forced(void **state)
{
    (void)state;
    const char *args[] = {"--grace-ms", "300", NULL};
    it_start(&srv, args);
    it_conn *c = it_connect(srv.plain);
    it_sends(c, GET("/delay?ms=5000&id=late"));
    it_sleep_ms(100);
    double t0 = it_now();
    kill(srv.pid, SIGTERM);
    assert_true(it_closed(c, 3000));
    double t = it_now() - t0;
    assert_true(t >= 0.25 && t < 2.0);
    assert_int_equal(it_wait(&srv, 5000), 0);
    it_close(c);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_slowloris_headers, teardown),
        cmocka_unit_test_teardown(test_slowloris_body, teardown),
        cmocka_unit_test_teardown(test_idle_timeout, teardown),
        cmocka_unit_test_teardown(test_conn_limit, teardown),
        cmocka_unit_test_teardown(test_rate_limit, teardown),
        cmocka_unit_test_teardown(test_idle_thousands, teardown),
        cmocka_unit_test_teardown(test_conn_per_ip, teardown),
        cmocka_unit_test_teardown(test_ipv6, teardown),
        cmocka_unit_test_teardown(test_tls, teardown),
        cmocka_unit_test_teardown(test_tls_handshake_timeout, teardown),
        cmocka_unit_test_teardown(test_shutdown_inflight, teardown),
        cmocka_unit_test_teardown(test_shutdown_forced, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
