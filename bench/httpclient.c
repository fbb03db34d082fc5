/*
 * The load generator: libuv connections, llhttp for responses, OpenSSL over memory BIOs for
 * TLS, a latency histogram of 1 µs resolution up to 100 ms and 1 ms up to 60 s.
 */
#include "httpclient.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <llhttp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#define HIST_US   100000 /* 1 µs buckets up to 100 ms... */
#define HIST_MS   60000  /* ...then 1 ms buckets up to 60 s, and one overflow bucket above */
#define HIST_SIZE (HIST_US + (HIST_MS - HIST_US / 1000) + 1)
#define BACKLOG   (1u << 20)

typedef struct hc_run_state hc_run_state;

typedef struct hc_conn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    hc_run_state *run;
    llhttp_t parser;
    SSL *ssl;
    BIO *rbio, *wbio;
    /* FIFO of the requests in flight (depth entries): due time, request, sequence number */
    uint64_t *sent_at;
    const hc_request **sent_req;
    uint64_t *sent_n;
    unsigned head, inflight;
    bool up, dead;
    uint8_t *body; /* the body of the response being read, HC_BODY_MAX bytes at most */
    size_t body_len;
    bool body_over;
    char rbuf[65536];
} hc_conn;

struct hc_run_state {
    const hc_config *cfg;
    uv_loop_t loop;
    uv_timer_t tick;
    SSL_CTX *ctx;
    hc_conn *conns;
    unsigned open;
    size_t next_req;
    uint64_t start_ns, measure_ns, end_ns;
    uint64_t *hist;
    uint64_t completed, good, non2xx, rejected, errors, dropped, max_ns;
    uint64_t answered;   /* responses of the whole run */
    uint64_t unanswered; /* fixed rate: measured requests without a response at the end */
    uint64_t stop_ns;
    char first_error[256];
    /* fixed rate: due times not yet sent */
    uint64_t *backlog;
    size_t bl_head, bl_len;
    uint64_t offered;
    unsigned rr;
    bool stopping;
};

/* Keeps the first bad thing that happened in the run, as one printable line. */
static void note(hc_run_state *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(hc_run_state *r, const char *fmt, ...)
{
    if (r->first_error[0]) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->first_error, sizeof(r->first_error), fmt, ap);
    va_end(ap);
    for (char *c = r->first_error; *c; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
            *c = '?';
        }
    }
}

static void hist_add(hc_run_state *r, uint64_t ns)
{
    uint64_t us = ns / 1000;
    size_t b = us < HIST_US          ? (size_t)us
               : us / 1000 < HIST_MS ? HIST_US + (size_t)(us / 1000 - HIST_US / 1000)
                                     : HIST_SIZE - 1;
    r->hist[b]++;
    if (ns > r->max_ns) {
        r->max_ns = ns;
    }
}

static void record(hc_run_state *r, uint64_t due, bool good)
{
    uint64_t now = uv_hrtime();
    if (due < r->measure_ns || now > r->end_ns) {
        return;
    }
    hist_add(r, now - due);
    r->completed++;
    r->good += good;
}

/*
 * Fixed rate, at the end: a request due in the measured phase and still unanswered (in flight or
 * never sent) has waited at least until now, so its latency enters the histogram at that age, a
 * lower bound. Leaving it out would make a server that stops answering look fast.
 */
static void record_unanswered(hc_run_state *r, uint64_t due, uint64_t now)
{
    if (due >= r->measure_ns && due <= now) {
        hist_add(r, now - due);
        r->unanswered++;
    }
}

static void conn_fail(hc_conn *c, const char *why);

static void on_written(uv_write_t *w, int status)
{
    hc_conn *c = w->data;
    free(w);
    if (status < 0) {
        conn_fail(c, uv_err_name(status));
    }
}

/* Writes bytes to the socket, synchronously when it takes them, else through a copy. */
static void sock_write(hc_conn *c, const char *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);
    int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (r == (int)n) {
        return;
    }
    size_t done = r > 0 ? (size_t)r : 0;
    if (r < 0 && r != UV_EAGAIN) {
        conn_fail(c, uv_err_name(r));
        return;
    }
    uv_write_t *w = malloc(sizeof(*w) + n - done);
    if (!w) {
        conn_fail(c, "out of memory");
        return;
    }
    memcpy(w + 1, p + done, n - done);
    w->data = c;
    b = uv_buf_init((char *)(w + 1), (unsigned)(n - done));
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        conn_fail(c, "write");
    }
}

static void tls_drain(hc_conn *c)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(c->wbio, buf, sizeof(buf))) > 0) {
        sock_write(c, buf, (size_t)n);
    }
}

/* once: every request of the list has been sent */
static bool exhausted(const hc_run_state *r)
{
    return r->cfg->once && r->next_req >= r->cfg->nrequests;
}

static void send_one(hc_conn *c, uint64_t due)
{
    hc_run_state *r = c->run;
    uint64_t n = r->next_req++;
    const hc_request *q =
        r->cfg->next ? r->cfg->next(r->cfg->next_ctx, n) : &r->cfg->requests[n % r->cfg->nrequests];
    unsigned at = (c->head + c->inflight) % r->cfg->depth;
    c->sent_at[at] = due;
    c->sent_req[at] = q;
    c->sent_n[at] = n;
    c->inflight++;
    if (c->ssl) {
        if (SSL_write(c->ssl, q->bytes, (int)q->len) <= 0) {
            conn_fail(c, "TLS write");
            return;
        }
        tls_drain(c);
    } else {
        sock_write(c, q->bytes, q->len);
    }
}

/* Sends what the mode allows: refill to depth (closed loop) or work off the backlog. */
static void pump(hc_conn *c)
{
    hc_run_state *r = c->run;
    if (!c->up || c->dead || r->stopping) {
        return;
    }
    while (c->inflight < r->cfg->depth && !c->dead && !exhausted(r)) {
        if (r->cfg->rate > 0) {
            if (r->bl_len == 0) {
                return;
            }
            uint64_t due = r->backlog[r->bl_head];
            r->bl_head = (r->bl_head + 1) % BACKLOG;
            r->bl_len--;
            send_one(c, due);
        } else {
            send_one(c, uv_hrtime());
        }
    }
}

static void stop_run(hc_run_state *r);

static int on_message_begin(llhttp_t *p)
{
    hc_conn *c = p->data;
    c->body_len = 0;
    c->body_over = false;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    hc_conn *c = p->data;
    if (n > HC_BODY_MAX - c->body_len) {
        c->body_over = true;
        return 0;
    }
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    hc_conn *c = p->data;
    hc_run_state *r = c->run;
    if (r->stopping) {
        return 0;
    }
    if (c->inflight == 0) {
        return -1; /* a response nobody asked for */
    }
    uint64_t due = c->sent_at[c->head];
    const hc_request *q = c->sent_req[c->head];
    uint64_t n = c->sent_n[c->head];
    c->head = (c->head + 1) % r->cfg->depth;
    c->inflight--;
    int status = llhttp_get_status_code(p);
    bool ok = status >= 200 && status <= 299;
    char why[192] = "";
    bool pass = true;
    if (c->body_over) {
        pass = false;
        snprintf(why, sizeof(why), "a body over %u bytes", HC_BODY_MAX);
    } else if (r->cfg->check) {
        pass =
            r->cfg->check(r->cfg->check_ctx, q, n, status, c->body, c->body_len, why, sizeof(why));
    }
    if (!ok) {
        r->non2xx++;
        if (why[0]) {
            note(r, "status %d: %s", status, why);
        } else {
            note(r, "status %d: %.*s", status, (int)(c->body_len < 160 ? c->body_len : 160),
                 (const char *)c->body);
        }
    } else if (!pass) {
        r->rejected++;
        note(r, "status %d, refused: %s", status, why);
    }
    record(r, due, ok && pass);
    r->answered++;
    if (r->cfg->once && r->answered >= r->cfg->nrequests) {
        stop_run(r);
    }
    return 0;
}

static const llhttp_settings_t settings = {.on_message_begin = on_message_begin,
                                           .on_body = on_body,
                                           .on_message_complete = on_message_complete};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    hc_conn *c = h->data;
    (void)hint;
    *buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static bool parse(hc_conn *c, const char *p, size_t n)
{
    return llhttp_execute(&c->parser, p, n) == HPE_OK;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    hc_conn *c = s->data;
    if (nread == 0 || c->dead) {
        return;
    }
    if (nread < 0) {
        conn_fail(c, uv_err_name((int)nread));
        return;
    }
    if (!c->ssl) {
        if (!parse(c, buf->base, (size_t)nread)) {
            conn_fail(c, llhttp_errno_name(llhttp_get_errno(&c->parser)));
            return;
        }
    } else {
        BIO_write(c->rbio, buf->base, (int)nread);
        char plain[16384];
        for (;;) {
            int n = SSL_read(c->ssl, plain, sizeof(plain));
            if (n > 0) {
                if (!parse(c, plain, (size_t)n)) {
                    conn_fail(c, llhttp_errno_name(llhttp_get_errno(&c->parser)));
                    return;
                }
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e != SSL_ERROR_WANT_READ) {
                conn_fail(c, "TLS read");
                return;
            }
            break;
        }
        tls_drain(c);
        if (!c->up && SSL_is_init_finished(c->ssl)) {
            c->up = true;
        }
    }
    pump(c);
}

static void on_closed(uv_handle_t *h)
{
    hc_conn *c = h->data;
    c->run->open--;
}

static void conn_fail(hc_conn *c, const char *why)
{
    if (c->dead) {
        return;
    }
    c->dead = true;
    if (!c->run->stopping) {
        c->run->errors++;
        note(c->run, "a connection failed: %s", why);
    }
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_connect(uv_connect_t *req, int status)
{
    hc_conn *c = req->data;
    if (status < 0) {
        conn_fail(c, uv_err_name(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (c->ssl) {
        SSL_do_handshake(c->ssl);
        tls_drain(c);
        return;
    }
    c->up = true;
    pump(c);
}

/* Ends the run: the timer and every connection close, uv_run returns. */
static void stop_run(hc_run_state *r)
{
    if (r->stopping) {
        return;
    }
    r->stopping = true;
    r->stop_ns = uv_hrtime();
    if (r->cfg->rate > 0) {
        for (unsigned i = 0; i < r->cfg->connections; i++) {
            const hc_conn *c = &r->conns[i];
            for (unsigned k = 0; c->sent_at && k < c->inflight; k++) {
                record_unanswered(r, c->sent_at[(c->head + k) % r->cfg->depth], r->stop_ns);
            }
        }
        for (size_t k = 0; k < r->bl_len; k++) {
            record_unanswered(r, r->backlog[(r->bl_head + k) % BACKLOG], r->stop_ns);
        }
    }
    uv_timer_stop(&r->tick);
    uv_close((uv_handle_t *)&r->tick, NULL);
    for (unsigned i = 0; i < r->cfg->connections; i++) {
        if (!r->conns[i].dead) {
            r->conns[i].dead = true;
            uv_close((uv_handle_t *)&r->conns[i].tcp, on_closed);
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    hc_run_state *r = t->data;
    uint64_t now = uv_hrtime();
    if (now >= r->end_ns) {
        stop_run(r);
        return;
    }
    if (r->cfg->rate <= 0) {
        return;
    }
    /* Every request that is due by now joins the backlog with its due time. */
    uint64_t due_total = (uint64_t)((double)(now - r->start_ns) / 1e9 * r->cfg->rate);
    while (r->offered < due_total) {
        uint64_t due = r->start_ns + (uint64_t)((double)r->offered * 1e9 / r->cfg->rate);
        r->offered++;
        if (r->bl_len == BACKLOG) {
            r->dropped += due >= r->measure_ns;
            continue;
        }
        r->backlog[(r->bl_head + r->bl_len) % BACKLOG] = due;
        r->bl_len++;
    }
    for (unsigned k = 0; k < r->cfg->connections && r->bl_len > 0; k++) {
        pump(&r->conns[(r->rr + k) % r->cfg->connections]);
    }
    r->rr++;
}

static double pct(const hc_run_state *r, double q)
{
    uint64_t want = (uint64_t)((double)(r->completed + r->unanswered) * q);
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_SIZE; i++) {
        seen += r->hist[i];
        if (seen > want) {
            /* the bucket's lower bound in µs */
            return i < HIST_US ? (double)i : (double)(i - HIST_US + HIST_US / 1000) * 1000;
        }
    }
    return (double)HIST_MS * 1000;
}

int hc_run(const hc_config *cfg, hc_result *out)
{
    memset(out, 0, sizeof(*out));
    if (cfg->connections == 0 || cfg->depth == 0 || (cfg->nrequests == 0 && !cfg->next) ||
        (cfg->once && (cfg->next || cfg->warmup_s > 0))) {
        return -1;
    }
    hc_run_state *r = calloc(1, sizeof(*r));
    int rc = -1;
    if (!r) {
        return -1;
    }
    r->cfg = cfg;
    r->hist = calloc(HIST_SIZE, sizeof(uint64_t));
    r->conns = calloc(cfg->connections, sizeof(hc_conn));
    r->backlog = cfg->rate > 0 ? malloc(BACKLOG * sizeof(uint64_t)) : NULL;
    if (!r->hist || !r->conns || (cfg->rate > 0 && !r->backlog) || uv_loop_init(&r->loop) != 0) {
        goto out;
    }
    if (cfg->tls) {
        r->ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(r->ctx, TLS1_2_VERSION);
        SSL_CTX_set_alpn_protos(r->ctx, (const unsigned char *)"\x08http/1.1", 9);
        if (cfg->ca_file) {
            SSL_CTX_load_verify_locations(r->ctx, cfg->ca_file, NULL);
            SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
        }
    }
    struct sockaddr_storage addr;
    if (uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&addr) != 0) {
        goto out_loop;
    }
    r->start_ns = uv_hrtime();
    r->measure_ns = r->start_ns + (uint64_t)(cfg->warmup_s * 1e9);
    r->end_ns = r->measure_ns + (uint64_t)(cfg->duration_s * 1e9);
    for (unsigned i = 0; i < cfg->connections; i++) {
        hc_conn *c = &r->conns[i];
        c->run = r;
        c->sent_at = calloc(cfg->depth, sizeof(uint64_t));
        c->sent_req = calloc(cfg->depth, sizeof(*c->sent_req));
        c->sent_n = calloc(cfg->depth, sizeof(uint64_t));
        c->body = malloc(HC_BODY_MAX);
        llhttp_init(&c->parser, HTTP_RESPONSE, &settings);
        c->parser.data = c;
        uv_tcp_init(&r->loop, &c->tcp);
        c->tcp.data = c;
        c->creq.data = c;
        r->open++;
        if (cfg->tls) {
            c->ssl = SSL_new(r->ctx);
            c->rbio = BIO_new(BIO_s_mem());
            c->wbio = BIO_new(BIO_s_mem());
            SSL_set_bio(c->ssl, c->rbio, c->wbio);
            SSL_set_tlsext_host_name(c->ssl, "localhost");
            SSL_set1_host(c->ssl, "localhost");
            SSL_set_connect_state(c->ssl);
        }
        if (!c->sent_at || !c->sent_req || !c->sent_n || !c->body ||
            uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&addr, on_connect) != 0) {
            conn_fail(c, "connect");
        }
    }
    uv_timer_init(&r->loop, &r->tick);
    r->tick.data = r;
    uv_timer_start(&r->tick, on_tick, 1, 1);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    out->completed = r->completed;
    out->unanswered = r->unanswered;
    out->good = r->good;
    out->sent = r->next_req;
    out->non2xx = r->non2xx;
    out->rejected = r->rejected;
    out->errors = r->errors;
    out->dropped = r->dropped;
    out->elapsed_s = cfg->duration_s;
    if (cfg->once && r->stop_ns < r->end_ns) {
        out->elapsed_s = (double)(r->stop_ns - r->measure_ns) / 1e9;
    }
    out->rps = (double)r->completed / out->elapsed_s;
    out->good_rps = (double)r->good / out->elapsed_s;
    memcpy(out->first_error, r->first_error, sizeof(out->first_error));
    out->p50_us = pct(r, 0.50);
    out->p99_us = pct(r, 0.99);
    out->p999_us = pct(r, 0.999);
    out->max_us = (double)r->max_ns / 1000.0;
    rc = r->completed + r->unanswered > 0 ? 0 : -1;
out_loop:
    for (unsigned i = 0; i < cfg->connections; i++) {
        SSL_free(r->conns[i].ssl);
        free(r->conns[i].sent_at);
        free(r->conns[i].sent_req);
        free(r->conns[i].sent_n);
        free(r->conns[i].body);
    }
    uv_loop_close(&r->loop);
    SSL_CTX_free(r->ctx);
out:
    free(r->hist);
    free(r->conns);
    free(r->backlog);
    free(r);
    return rc;
}

/*
 * One GET on a fresh plain connection (Connection: close, read to EOF): the status, and the body
 * into @p body (@p cap bytes at most, its length in @p len); -1 on failure or a longer body.
 */
static int fetch(const char *host, int port, const char *path, uint8_t *body, size_t cap,
                 size_t *len)
{
    struct sockaddr_in a;
    if (uv_ip4_addr(host, port, &a) != 0) {
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                     path, host);
    if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t room = cap + 8192, got = 0; /* the body and the head before it */
    char *buf = malloc(room + 1);
    ssize_t r = 0;
    while (buf && got < room && (r = read(fd, buf + got, room - got)) > 0) {
        got += (size_t)r;
    }
    char extra;
    bool longer = got == room && read(fd, &extra, 1) > 0;
    close(fd);
    int status = -1;
    if (!buf || longer || r < 0) {
        free(buf);
        return -1;
    }
    buf[got] = 0;
    const char *b = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1 || !b) {
        free(buf);
        return -1;
    }
    size_t off = (size_t)(b + 4 - buf);
    if (got - off > cap) {
        free(buf);
        return -1;
    }
    memcpy(body, buf + off, got - off);
    *len = got - off;
    free(buf);
    return status;
}

int hc_fetch(const char *host, int port, const char *path, char *body, size_t cap)
{
    size_t len = 0;
    if (cap == 0) {
        return -1;
    }
    int status = fetch(host, port, path, (uint8_t *)body, cap - 1, &len);
    body[status < 0 ? 0 : len] = 0;
    return status;
}

int hc_fetch_bin(const char *host, int port, const char *path, uint8_t *body, size_t cap,
                 size_t *len)
{
    *len = 0;
    return fetch(host, port, path, body, cap, len);
}
