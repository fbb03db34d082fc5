/*
 * Helpers for the HTTP integration tests: start and stop http_testd as a real process, talk to
 * it over raw sockets (optionally TLS), read responses, run curl, decode problem details.
 * Every wait is bounded, so a broken server fails a test instead of hanging it.
 */
#ifndef SCITT_ITEST_H
#define SCITT_ITEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "testutil.h"

extern char **environ;

static inline double it_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void it_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the server process ---- */

typedef struct it_server {
    pid_t pid;
    int plain, tls, v6;
} it_server;

static inline const char *it_bin(const char *name)
{
    static char path[4096];
    const char *b = getenv("SCITT_BINARY_DIR");
    snprintf(path, sizeof(path), "%s/tests/integration/%s", b ? b : ".", name);
    return path;
}

/*
 * Spawns @p argv (argv[0] is a path) with its stdout on a pipe and waits up to 10 s for the first
 * line it prints, which a server prints once it is accepting (its ports). The line, without its
 * newline, goes to @p line. stderr stays the test's, so server logs land in the test output.
 */
static inline void it_spawn_ready(it_server *s, const char *const *argv, char *line, size_t cap)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    int rc = posix_spawn(&s->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    assert_int_equal(rc, 0);
    size_t len = 0;
    double deadline = it_now() + 10;
    while (len < cap - 1 && (len == 0 || line[len - 1] != '\n')) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        int left = (int)((deadline - it_now()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            fail_msg("%s did not become ready", argv[0]);
        }
        ssize_t r = read(pfd[0], line + len, 1);
        if (r <= 0) {
            fail_msg("%s exited before becoming ready", argv[0]);
        }
        len += (size_t)r;
    }
    line[len] = 0;
    if (len > 0 && line[len - 1] == '\n') {
        line[len - 1] = 0;
    }
    close(pfd[0]);
}

/* Starts http_testd with @p args (NULL-terminated) and waits for its READY line. */
static inline void it_start(it_server *s, const char *const *args)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = it_bin("http_testd");
    for (size_t i = 0; args && args[i] && n < 62; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char line[256];
    it_spawn_ready(s, argv, line, sizeof(line));
    assert_int_equal(sscanf(line, "READY plain=%d tls=%d v6=%d", &s->plain, &s->tls, &s->v6), 3);
}

/* Waits up to @p ms for the server to exit; returns its exit status or -1 on timeout. */
static inline int it_wait(it_server *s, int ms)
{
    double deadline = it_now() + ms / 1000.0;
    while (it_now() < deadline) {
        int st;
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        it_sleep_ms(10);
    }
    return -1;
}

/* SIGTERM (graceful shutdown) and wait; kills it and fails when it does not stop in time. */
static inline int it_stop(it_server *s)
{
    if (s->pid <= 0) {
        return 0;
    }
    kill(s->pid, SIGTERM);
    int st = it_wait(s, 10000);
    if (st < 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
        fail_msg("the server did not stop after SIGTERM");
    }
    return st;
}

/* ---- connections ---- */

/* Room for the responses a test reads; a test may define larger sizes before including this. */
#ifndef IT_CONN_BUF
#define IT_CONN_BUF (1 << 17)
#endif
#ifndef IT_BODY_MAX
#define IT_BODY_MAX (1 << 16)
#endif

typedef struct it_conn {
    int fd;
    SSL *ssl;
    uint8_t buf[IT_CONN_BUF];
    size_t len;
} it_conn;

static inline int it_connect_fd(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static inline it_conn *it_connect(int port)
{
    it_conn *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->fd = it_connect_fd(port);
    assert_true(c->fd >= 0);
    return c;
}

static inline void it_close(it_conn *c)
{
    if (!c) {
        return;
    }
    if (c->ssl) {
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    free(c);
}

static inline void it_send(it_conn *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w;
        if (c->ssl) {
            int r = SSL_write(c->ssl, b, (int)n);
            w = r > 0 ? r : -1;
        } else {
            w = send(c->fd, b, n, MSG_NOSIGNAL);
        }
        if (w <= 0) {
            fail_msg("send failed (%s)", strerror(errno));
        }
        b += w;
        n -= (size_t)w;
    }
}

static inline void it_sends(it_conn *c, const char *s)
{
    it_send(c, s, strlen(s));
}

/* Reads more bytes within @p ms: >0 bytes added, 0 EOF (or reset), -1 timeout. */
static inline int it_fill(it_conn *c, int ms)
{
    if (c->len == sizeof(c->buf)) {
        fail_msg("response larger than the test buffer");
    }
    if (c->ssl && SSL_pending(c->ssl) == 0) {
        /* fall through to poll */
    } else if (c->ssl) {
        int r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
        if (r > 0) {
            c->len += (size_t)r;
            return r;
        }
    }
    double deadline = it_now() + ms / 1000.0;
    for (;;) {
        int left = (int)((deadline - it_now()) * 1000);
        if (left <= 0) {
            return -1;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, left) <= 0) {
            return -1;
        }
        if (c->ssl) {
            int r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
            if (r > 0) {
                c->len += (size_t)r;
                return r;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                continue;
            }
            ERR_clear_error();
            return 0;
        }
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (r > 0) {
            c->len += (size_t)r;
            return (int)r;
        }
        return 0;
    }
}

/* True when the peer closes (EOF or reset) within @p ms with no further bytes. */
static inline bool it_closed(it_conn *c, int ms)
{
    size_t before = c->len;
    int r = it_fill(c, ms);
    return r == 0 && c->len == before;
}

typedef struct it_resp {
    int status;
    char head[16384];
    uint8_t body[IT_BODY_MAX];
    size_t body_len;
    size_t content_length;
} it_resp;

/*
 * The value of header @p name in the response head that starts at @p head (its status line) and
 * whose header lines end at @p end (where its "\r\n\r\n" starts), copied NUL-terminated.
 */
static inline bool it_head_value(const char *head, const char *end, const char *name, char *out,
                                 size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') {
                v++;
            }
            const char *e = strstr(v, "\r\n");
            size_t len = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
            memcpy(out, v, len);
            out[len] = 0;
            return true;
        }
    }
    return false;
}

/* The value of header @p name in @p r (NUL-terminated copy), or NULL. */
static inline const char *it_header(const it_resp *r, const char *name, char *out, size_t cap)
{
    const char *end = strstr(r->head, "\r\n\r\n");
    return end && it_head_value(r->head, end, name, out, cap) ? out : NULL;
}

/*
 * Reads one response (interim 1xx included) within @p ms. Returns 1 on success, 0 when the
 * connection closed before any byte of it, -1 on timeout or a truncated response.
 */
static inline int it_read(it_conn *c, it_resp *r, int ms, bool head_request)
{
    double deadline = it_now() + ms / 1000.0;
    memset(r, 0, offsetof(it_resp, body));
    r->body_len = 0;
    char *end;
    for (;;) {
        c->buf[c->len < sizeof(c->buf) ? c->len : sizeof(c->buf) - 1] = 0;
        end = c->len ? strstr((char *)c->buf, "\r\n\r\n") : NULL;
        if (end) {
            break;
        }
        int left = (int)((deadline - it_now()) * 1000);
        int f = left > 0 ? it_fill(c, left) : -1;
        if (f <= 0) {
            return f == 0 && c->len == 0 ? 0 : -1;
        }
    }
    size_t hlen = (size_t)(end - (char *)c->buf) + 4;
    assert_true(hlen < sizeof(r->head));
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = 0;
    assert_int_equal(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1);
    char v[64];
    size_t cl = 0;
    if (it_header(r, "Content-Length", v, sizeof(v))) {
        cl = (size_t)strtoull(v, NULL, 10);
    }
    r->content_length = cl;
    if (head_request || r->status < 200 || r->status == 204 || r->status == 304) {
        cl = 0;
    }
    assert_true(cl <= sizeof(r->body));
    while (c->len < hlen + cl) {
        int left = (int)((deadline - it_now()) * 1000);
        if (left <= 0 || it_fill(c, left) <= 0) {
            return -1;
        }
    }
    memcpy(r->body, c->buf + hlen, cl);
    r->body_len = cl;
    memmove(c->buf, c->buf + hlen + cl, c->len - hlen - cl);
    c->len -= hlen + cl;
    return 1;
}

/* ---- RFC 9290 concise problem details: a strict little decoder ---- */

static inline bool it_cbor_head(const uint8_t *p, size_t n, size_t *pos, int *major, uint64_t *val)
{
    if (*pos >= n) {
        return false;
    }
    uint8_t b = p[(*pos)++];
    *major = b >> 5;
    uint8_t ai = b & 31;
    if (ai < 24) {
        *val = ai;
        return true;
    }
    size_t len = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 0;
    if (len == 0 || n - *pos < len) {
        return false;
    }
    *val = 0;
    for (size_t i = 0; i < len; i++) {
        *val = (*val << 8) | p[(*pos)++];
    }
    return true;
}

/* Checks that @p body is {-1: text, -2: text, ...} and copies title and detail out. */
static inline void it_problem(const it_resp *r, char *title, char *detail, size_t cap)
{
    char ct[128];
    assert_non_null(it_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/concise-problem-details+cbor");
    size_t pos = 0;
    int major = -1;
    uint64_t n = 0;
    assert_true(it_cbor_head(r->body, r->body_len, &pos, &major, &n));
    assert_int_equal(major, 5);
    title[0] = detail[0] = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t key = 0, len = 0;
        int km = -1, vm = -1;
        assert_true(it_cbor_head(r->body, r->body_len, &pos, &km, &key));
        assert_int_equal(km, 1);
        assert_true(it_cbor_head(r->body, r->body_len, &pos, &vm, &len));
        assert_int_equal(vm, 3);
        assert_true(len <= r->body_len - pos && len < cap);
        char *dst = key == 0 ? title : key == 1 ? detail : NULL;
        if (dst) {
            memcpy(dst, r->body + pos, len);
            dst[len] = 0;
        }
        pos += len;
    }
    assert_int_equal(pos, r->body_len);
    assert_true(strlen(title) > 0);
    assert_true(strlen(detail) > 0);
}

/* ---- curl ---- */

/* Runs a command and captures its stdout; returns the exit status (-1 on timeout). */
static inline int it_run(const char *const *argv, char *out, size_t cap, int ms)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    assert_int_equal(rc, 0);
    size_t len = 0;
    double deadline = it_now() + ms / 1000.0;
    for (;;) {
        int left = (int)((deadline - it_now()) * 1000);
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(pfd[0]);
            return -1;
        }
        ssize_t r = read(pfd[0], out + len, cap - 1 - len);
        if (r <= 0) {
            break;
        }
        len += (size_t)r;
    }
    /* The output is read as text: a NUL byte (a tool printing raw bytes) must not cut it. */
    for (size_t i = 0; i < len; i++) {
        out[i] = out[i] ? out[i] : '?';
    }
    out[len] = 0;
    close(pfd[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Raises the descriptor limit to the hard limit; returns the new soft limit. */
static inline size_t it_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 1024;
    }
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (size_t)rl.rlim_cur;
}

/* A scratch directory for certificates and bodies, removed by the test. */
static inline void it_tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/scitt-http-XXXXXX");
    assert_non_null(mkdtemp(out));
}

#endif /* SCITT_ITEST_H */
