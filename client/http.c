/*
 * libscitt-client's HTTP/1.1 transport: one request per connection, plain TCP or TLS through
 * OpenSSL, every wait bounded by one deadline for the whole request, the response read until the
 * parser says it is complete, the size caps are hit, or the server closes.
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
    int64_t d = deadline - now_ms();
    return d < 0 ? 0 : (d > 1000000 ? 1000000 : (int)d);
}

scitt_err scitt__http_url_parse(const char *url, scitt__http_url *out)
{
    memset(out, 0, sizeof(*out));
    const char *p;
    if (strncmp(url, "https://", 8) == 0) {
        out->tls = true;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        return SCITT_ERR_MALFORMED;
    }
    const char *host = p, *host_end;
    if (*p == '[') {
        host = ++p;
        while (*p && *p != ']') {
            p++;
        }
        if (*p != ']') {
            return SCITT_ERR_MALFORMED;
        }
        host_end = p++;
        out->ipv6 = true;
    } else {
        while (*p && *p != ':' && *p != '/') {
            if (*p == '@' || *p == '?' || *p == '#') {
                return SCITT_ERR_MALFORMED;
            }
            p++;
        }
        host_end = p;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof(out->host)) {
        return SCITT_ERR_MALFORMED;
    }
    memcpy(out->host, host, hl);
    snprintf(out->port, sizeof(out->port), "%s", out->tls ? "443" : "80");
    if (*p == ':') {
        const char *port = ++p;
        unsigned v = 0;
        while (*p >= '0' && *p <= '9' && p - port < 5) {
            v = v * 10 + (unsigned)(*p++ - '0');
        }
        if (p == port || v == 0 || v > 65535 || (*p && *p != '/')) {
            return SCITT_ERR_MALFORMED;
        }
        snprintf(out->port, sizeof(out->port), "%u", v);
    }
    if (*p && *p != '/') {
        return SCITT_ERR_MALFORMED;
    }
    size_t pl = strlen(p);
    while (pl > 0 && p[pl - 1] == '/') {
        pl--;
    }
    if (pl >= sizeof(out->prefix) || strpbrk(p, "?# \t\r\n")) {
        return SCITT_ERR_MALFORMED;
    }
    memcpy(out->prefix, p, pl);
    return SCITT_OK;
}

scitt_err scitt__http_query_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        uint8_t c = (uint8_t)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (o + (plain ? 1 : 3) >= cap) {
            return SCITT_ERR_BUFFER_TOO_SMALL;
        }
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (cap == 0) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    out[o] = 0;
    return SCITT_OK;
}

void scitt__http_result_clear(scitt__http_result *r)
{
    scitt_dynbuf_clear(&r->raw);
    scitt_dynbuf_clear(&r->body);
    memset(&r->res, 0, sizeof(r->res));
}

/* ---- connection ---------------------------------------------------------------------------- */

typedef struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int64_t deadline;
} conn;

static void say(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static scitt_err tcp_connect(const scitt__http_url *u, conn *c, char *why, size_t cap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        say(why, cap, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return SCITT_ERR_IO;
    }
    int err = ECONNREFUSED;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            err = errno;
            close(fd);
            continue;
        }
        struct pollfd p = {fd, POLLOUT, 0};
        int pr = poll(&p, 1, left_ms(c->deadline));
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
            c->fd = fd;
            freeaddrinfo(res);
            return SCITT_OK;
        }
        err = pr == 0 ? ETIMEDOUT : (soerr ? soerr : errno);
        close(fd);
        if (pr == 0) {
            break;
        }
    }
    freeaddrinfo(res);
    say(why, cap, "cannot connect to %s: %s", u->host, strerror(err));
    return err == ETIMEDOUT ? SCITT_ERR_TIMEOUT : SCITT_ERR_IO;
}

/* Waits until the socket is ready for what TLS or the caller wants; false on timeout. */
static bool wait_fd(conn *c, short events)
{
    struct pollfd p = {c->fd, events, 0};
    for (;;) {
        int ms = left_ms(c->deadline);
        if (ms == 0) {
            return false;
        }
        int r = poll(&p, 1, ms);
        if (r > 0) {
            return true;
        }
        if (r == 0 || errno != EINTR) {
            return false;
        }
    }
}

/* RFC 6066: server names in SNI are host names, never address literals. */
static bool is_ip_literal(const scitt__http_url *u)
{
    struct in_addr a4;
    return u->ipv6 || inet_pton(AF_INET, u->host, &a4) == 1;
}

static scitt_err tls_start(const scitt__http_url *u, const scitt__http_opts *o, conn *c, char *why,
                           size_t cap)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx || SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
        say(why, cap, "%s%s", "cannot set up TLS", "");
        return SCITT_ERR_CRYPTO;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    int ok = o->cacert ? SSL_CTX_load_verify_locations(c->ctx, o->cacert, NULL)
                       : SSL_CTX_set_default_verify_paths(c->ctx);
    if (ok != 1) {
        say(why, cap, "cannot load the CA certificates%s%s", o->cacert ? " from " : "",
            o->cacert ? o->cacert : "");
        return SCITT_ERR_IO;
    }
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
        (!is_ip_literal(u) && SSL_set_tlsext_host_name(c->ssl, u->host) != 1) ||
        SSL_set1_host(c->ssl, u->host) != 1) {
        say(why, cap, "%s%s", "cannot set up TLS", "");
        return SCITT_ERR_CRYPTO;
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1) {
            return SCITT_OK;
        }
        int se = SSL_get_error(c->ssl, r);
        if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
            if (!wait_fd(c, se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)) {
                say(why, cap, "TLS handshake with %s%s timed out", u->host, "");
                return SCITT_ERR_TIMEOUT;
            }
            continue;
        }
        long vr = SSL_get_verify_result(c->ssl);
        if (vr != X509_V_OK) {
            say(why, cap, "TLS certificate of %s is not trusted: %s", u->host,
                X509_verify_cert_error_string(vr));
            return SCITT_ERR_UNTRUSTED;
        }
        say(why, cap, "TLS handshake with %s failed%s", u->host, "");
        return SCITT_ERR_IO;
    }
}

static scitt_err send_all(conn *c, scitt_span data, char *why, size_t cap)
{
    size_t off = 0;
    while (off < data.len) {
        ssize_t n;
        short want = POLLOUT;
        if (c->ssl) {
            int chunk = data.len - off > (1u << 30) ? (1 << 30) : (int)(data.len - off);
            ERR_clear_error();
            int r = SSL_write(c->ssl, data.ptr + off, chunk);
            if (r > 0) {
                off += (size_t)r;
                continue;
            }
            int se = SSL_get_error(c->ssl, r);
            if (se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE) {
                say(why, cap, "%s%s", "cannot send the request over TLS", "");
                return SCITT_ERR_IO;
            }
            want = se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        } else {
            n = send(c->fd, data.ptr + off, data.len - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += (size_t)n;
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                say(why, cap, "cannot send the request: %s%s", strerror(errno), "");
                return SCITT_ERR_IO;
            }
        }
        if (!wait_fd(c, want)) {
            say(why, cap, "%s%s", "timed out sending the request", "");
            return SCITT_ERR_TIMEOUT;
        }
    }
    return SCITT_OK;
}

/* Reads some bytes into @p raw; *eof is set when the peer closed. */
static scitt_err recv_some(conn *c, scitt_dynbuf *raw, bool *eof, char *why, size_t cap)
{
    for (;;) {
        uint8_t *at = scitt_dynbuf_reserve(raw, 65536);
        if (!at) {
            say(why, cap, "%s%s", "the response is larger than allowed", "");
            return SCITT_ERR_TOO_LARGE;
        }
        short want = POLLIN;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, at, 65536);
            if (r > 0) {
                raw->len -= 65536 - (size_t)r;
                return SCITT_OK;
            }
            raw->len -= 65536;
            int se = SSL_get_error(c->ssl, r);
            if (se == SSL_ERROR_ZERO_RETURN) {
                *eof = true;
                return SCITT_OK;
            }
            if (se == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
                /* The peer closed without close_notify: the parser decides whether that is
                 * an acceptable end (a delimited body is complete) or a truncation. */
                *eof = true;
                return SCITT_OK;
            }
            if (se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE) {
                say(why, cap, "%s%s", "cannot read the response over TLS", "");
                return SCITT_ERR_IO;
            }
            want = se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        } else {
            ssize_t n = recv(c->fd, at, 65536, 0);
            if (n > 0) {
                raw->len -= 65536 - (size_t)n;
                return SCITT_OK;
            }
            raw->len -= 65536;
            if (n == 0) {
                *eof = true;
                return SCITT_OK;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                say(why, cap, "cannot read the response: %s%s", strerror(errno), "");
                return SCITT_ERR_IO;
            }
        }
        if (!wait_fd(c, want)) {
            say(why, cap, "%s%s", "timed out waiting for the response", "");
            return SCITT_ERR_TIMEOUT;
        }
    }
}

static void conn_close(conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
    }
    if (c->ctx) {
        SSL_CTX_free(c->ctx);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
}

/*
 * A plain-HTTP request that got no answer at all: does the port speak TLS? One TLS handshake,
 * within @p deadline and at most 2 s; any ServerHello (even with an untrusted certificate) says
 * so. Nothing is sent over it.
 */
static bool speaks_tls(const scitt__http_url *url, const scitt__http_opts *o, int64_t deadline)
{
    scitt__http_url u = *url;
    u.tls = true;
    int64_t d = now_ms() + 2000;
    conn c = {-1, NULL, NULL, d < deadline ? d : deadline};
    char why[300];
    scitt_err e = tcp_connect(&u, &c, why, sizeof(why));
    e = e ? e : tls_start(&u, o, &c, why, sizeof(why));
    conn_close(&c);
    return e == SCITT_OK || e == SCITT_ERR_UNTRUSTED;
}

/* Did the bytes from @p from on complete a blank line (a head's or a chunked body's end)? */
static bool tail_blank_line(const scitt_dynbuf *raw, size_t from)
{
    size_t start = from > 3 ? from - 3 : 0;
    return raw->len >= 4 && memmem(raw->ptr + start, raw->len - start, "\r\n\r\n", 4) != NULL;
}

scitt_err scitt__http_do(const scitt__http_url *url, const scitt__http_request *req,
                         const scitt__http_opts *o, scitt__http_result *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    size_t max_body = o->max_body ? o->max_body : SCITT__HTTP_BODY_DEFAULT;
    scitt_dynbuf_init(&out->raw, SCITT__HTTP_HEAD_MAX + 2 * max_body + 65536);
    scitt_dynbuf_init(&out->body, max_body);
    snprintf(why, cap, "ok");
    conn c = {-1, NULL, NULL,
              now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : SCITT__HTTP_TIMEOUT_MS)};

    /* The request head. */
    scitt_dynbuf rq;
    scitt_dynbuf_init(&rq, SCITT__HTTP_HEAD_MAX + req->body.len);
    bool default_port = strcmp(url->port, url->tls ? "443" : "80") == 0;
    scitt_dynbuf_printf(&rq, "%s %s%s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n", req->method, url->prefix,
                        req->path, url->ipv6 ? "[" : "", url->host, url->ipv6 ? "]" : "",
                        default_port ? "" : ":", default_port ? "" : url->port);
    scitt_dynbuf_printf(&rq, "User-Agent: %s\r\nConnection: close\r\n",
                        o->user_agent ? o->user_agent : "scitt");
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strpbrk(req->headers[i], "\r\n")) {
            scitt_dynbuf_clear(&rq);
            snprintf(why, cap, "a request header holds a line break");
            return SCITT_ERR_INVALID_ARG;
        }
        scitt_dynbuf_printf(&rq, "%s\r\n", req->headers[i]);
    }
    if (req->body.len || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) {
        scitt_dynbuf_printf(&rq, "Content-Length: %zu\r\n", req->body.len);
    }
    scitt_dynbuf_str(&rq, "\r\n");
    scitt_dynbuf_put(&rq, req->body.ptr, req->body.len);
    if (rq.err != SCITT_OK) {
        scitt_dynbuf_clear(&rq);
        snprintf(why, cap, "the request is too large");
        return SCITT_ERR_TOO_LARGE;
    }

    scitt_err e = tcp_connect(url, &c, why, cap);
    if (e == SCITT_OK && url->tls) {
        e = tls_start(url, o, &c, why, cap);
    }
    if (e == SCITT_OK) {
        e = send_all(&c, scitt_span_make(rq.ptr, rq.len), why, cap);
    }
    scitt_dynbuf_clear(&rq);
    bool eof = false, no_body = strcmp(req->method, "HEAD") == 0;
    /* Parse only when it can succeed: once a blank line arrived (head, or the end of a chunked
     * body), or once a sized body is all here, or at the end of the connection. */
    size_t need = 0;
    while (e == SCITT_OK) {
        size_t before = out->raw.len;
        e = recv_some(&c, &out->raw, &eof, why, cap);
        if (e != SCITT_OK) {
            break;
        }
        if (!eof && (need ? out->raw.len < need : !tail_blank_line(&out->raw, before))) {
            continue;
        }
        e = scitt__http_parse_response(scitt_span_make(out->raw.ptr, out->raw.len), eof, no_body,
                                       &out->res, &out->body);
        if (e == SCITT_OK) {
            break;
        }
        if (e == SCITT_ERR_TRUNCATED && !eof) {
            scitt_span cl;
            uint64_t len;
            char num[24];
            need = 0;
            if (out->res.status && !out->res.chunked &&
                scitt__http_header_get(&out->res, "content-length", &cl) && cl.len < sizeof(num)) {
                memcpy(num, cl.ptr, cl.len);
                num[cl.len] = 0;
                char *end;
                len = strtoull(num, &end, 10);
                if (*end == 0 && len <= max_body) {
                    need = out->res.head_len + (size_t)len;
                }
            }
            e = SCITT_OK;
            continue;
        }
        if (!url->tls && out->raw.len >= 2 &&
            (out->raw.ptr[0] == 0x15 || out->raw.ptr[0] == 0x16) && out->raw.ptr[1] == 0x03) {
            /* a TLS record (alert or handshake) in answer to plain HTTP */
            snprintf(why, cap, "the server answered in TLS: it speaks TLS, use https://");
            e = SCITT_ERR_IO;
            break;
        }
        if (!url->tls && out->raw.len == 0 && e == SCITT_ERR_TRUNCATED &&
            speaks_tls(url, o, c.deadline)) {
            snprintf(why, cap, "the server closed the connection: it speaks TLS, use https://");
            e = SCITT_ERR_IO;
            break;
        }
        snprintf(why, cap, "the response is not valid HTTP/1.1: %s",
                 e == SCITT_ERR_TRUNCATED ? "the connection closed before it was complete"
                                          : scitt_err_str(e));
    }
    conn_close(&c);
    if (e != SCITT_OK) {
        /* Every failure names the whole URL: scheme, host, port and path (not the query). */
        char detail[600];
        snprintf(detail, sizeof(detail), "%s", why);
        snprintf(why, cap, "%s %s://%s%s%s:%s%s%.*s: %s", req->method, url->tls ? "https" : "http",
                 url->ipv6 ? "[" : "", url->host, url->ipv6 ? "]" : "", url->port, url->prefix,
                 (int)strcspn(req->path, "?"), req->path, detail);
        scitt__http_result_clear(out);
    }
    return e;
}
