/*
 * The load generator: libuv connections, llhttp for responses, OpenSSL over memory BIOs for
 * TLS, a latency histogram of 1 µs resolution up to 100 ms and 1 ms up to 60 s.
 */
#include "httpclient.h"

#include <arpa/inet.h>
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
    uint64_t *sent_at; /* FIFO of the due times of requests in flight (depth entries) */
    unsigned head, inflight;
    bool up, dead;
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
    uint64_t completed, non2xx, errors, dropped, max_ns;
    /* fixed rate: due times not yet sent */
    uint64_t *backlog;
    size_t bl_head, bl_len;
    uint64_t offered;
    unsigned rr;
    bool stopping;
};

static void record(hc_run_state *r, uint64_t due, int status)
{
    uint64_t now = uv_hrtime();
    if (due < r->measure_ns || now > r->end_ns) {
        return;
    }
    uint64_t ns = now - due;
    uint64_t us = ns / 1000;
    size_t b = us < HIST_US          ? (size_t)us
               : us / 1000 < HIST_MS ? HIST_US + (size_t)(us / 1000 - HIST_US / 1000)
                                     : HIST_SIZE - 1;
    r->hist[b]++;
    if (ns > r->max_ns) {
        r->max_ns = ns;
    }
    r->completed++;
    if (status < 200 || status > 299) {
        r->non2xx++;
    }
}

static void conn_fail(hc_conn *c);

static void on_written(uv_write_t *w, int status)
{
    hc_conn *c = w->data;
    free(w);
    if (status < 0) {
        conn_fail(c);
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
        conn_fail(c);
        return;
    }
    uv_write_t *w = malloc(sizeof(*w) + n - done);
    if (!w) {
        conn_fail(c);
        return;
    }
    memcpy(w + 1, p + done, n - done);
    w->data = c;
    b = uv_buf_init((char *)(w + 1), (unsigned)(n - done));
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        conn_fail(c);
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

static void send_one(hc_conn *c, uint64_t due)
{
    hc_run_state *r = c->run;
    const hc_request *q = r->cfg->next ? r->cfg->next(r->cfg->next_ctx, r->next_req++)
                                       : &r->cfg->requests[r->next_req++ % r->cfg->nrequests];
    c->sent_at[(c->head + c->inflight) % r->cfg->depth] = due;
    c->inflight++;
    if (c->ssl) {
        if (SSL_write(c->ssl, q->bytes, (int)q->len) <= 0) {
            conn_fail(c);
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
    while (c->inflight < r->cfg->depth && !c->dead) {
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

static int on_message_complete(llhttp_t *p)
{
    hc_conn *c = p->data;
    hc_run_state *r = c->run;
    if (c->inflight == 0) {
        return -1; /* a response nobody asked for */
    }
    uint64_t due = c->sent_at[c->head];
    c->head = (c->head + 1) % r->cfg->depth;
    c->inflight--;
    record(r, due, llhttp_get_status_code(p));
    return 0;
}

static const llhttp_settings_t settings = {.on_message_complete = on_message_complete};

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
        conn_fail(c);
        return;
    }
    if (!c->ssl) {
        if (!parse(c, buf->base, (size_t)nread)) {
            conn_fail(c);
            return;
        }
    } else {
        BIO_write(c->rbio, buf->base, (int)nread);
        char plain[16384];
        for (;;) {
            int n = SSL_read(c->ssl, plain, sizeof(plain));
            if (n > 0) {
                if (!parse(c, plain, (size_t)n)) {
                    conn_fail(c);
                    return;
                }
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e != SSL_ERROR_WANT_READ) {
                conn_fail(c);
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

static void conn_fail(hc_conn *c)
{
    if (c->dead) {
        return;
    }
    c->dead = true;
    if (!c->run->stopping) {
        c->run->errors++;
    }
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_connect(uv_connect_t *req, int status)
{
    hc_conn *c = req->data;
    if (status < 0) {
        conn_fail(c);
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

static void on_tick(uv_timer_t *t)
{
    hc_run_state *r = t->data;
    uint64_t now = uv_hrtime();
    if (now >= r->end_ns) {
        r->stopping = true;
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, NULL);
        for (unsigned i = 0; i < r->cfg->connections; i++) {
            if (!r->conns[i].dead) {
                r->conns[i].dead = true;
                uv_close((uv_handle_t *)&r->conns[i].tcp, on_closed);
            }
        }
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
    uint64_t want = (uint64_t)((double)r->completed * q);
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
    if (cfg->connections == 0 || cfg->depth == 0 || (cfg->nrequests == 0 && !cfg->next)) {
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
        if (!c->sent_at ||
            uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&addr, on_connect) != 0) {
            conn_fail(c);
        }
    }
    uv_timer_init(&r->loop, &r->tick);
    r->tick.data = r;
    uv_timer_start(&r->tick, on_tick, 1, 1);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    out->completed = r->completed;
    out->non2xx = r->non2xx;
    out->errors = r->errors;
    out->dropped = r->dropped;
    out->elapsed_s = cfg->duration_s;
    out->rps = (double)r->completed / cfg->duration_s;
    out->p50_us = pct(r, 0.50);
    out->p99_us = pct(r, 0.99);
    out->p999_us = pct(r, 0.999);
    out->max_us = (double)r->max_ns / 1000.0;
    rc = r->completed > 0 ? 0 : -1;
out_loop:
    for (unsigned i = 0; i < cfg->connections; i++) {
        SSL_free(r->conns[i].ssl);
        free(r->conns[i].sent_at);
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

int hc_fetch(const char *host, int port, const char *path, char *body, size_t cap)
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
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char buf[8192];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
        len += (size_t)r;
    }
    close(fd);
    buf[len] = 0;
    int status = -1;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) {
        return -1;
    }
    const char *b = strstr(buf, "\r\n\r\n");
    size_t blen = b ? strlen(b + 4) : 0;
    if (blen >= cap) {
        blen = cap - 1;
    }
    memcpy(body, b ? b + 4 : "", blen);
    body[blen] = 0;
    return status;
}
