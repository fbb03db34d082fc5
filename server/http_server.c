/*
 * The libuv side: listeners, accepting under the connection limit, the plain-TCP transport of
 * the engine (reads into one shared buffer, writes tried synchronously first), per-connection
 * deadlines, lingering close, completions from other threads, graceful shutdown and metrics.
 */
#include "http_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WRITE_BYTES  (256u * 1024u)
#define LINGER_MAX_BYTES (1u << 20)

void scitt_http_config_defaults(scitt_http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_connections = 10000;
    cfg->max_header_bytes = 16384;
    cfg->max_headers = 64;
    cfg->max_url_bytes = 8192;
    cfg->max_body_bytes = 1u << 20;
    cfg->max_pipeline = 16;
    cfg->conn_buffer_bytes = 256u << 10;
    cfg->max_response_bytes = 64u << 10;
    cfg->max_conns_per_ip = 256;
    cfg->header_timeout_ms = 10000;
    cfg->body_timeout_ms = 30000;
    cfg->keepalive_timeout_ms = 60000;
    cfg->send_timeout_ms = 60000;
    cfg->linger_ms = 2000;
    cfg->rate_per_sec = 0;
    cfg->rate_burst = 0;
    cfg->rate_table_entries = 16384;
    cfg->rate_ipv6_prefix = 64;
}

bool scitt__http_on_loop_thread(const scitt_http_server *srv)
{
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&self, &srv->loop_thread) != 0;
}

void scitt__http_count(scitt_http_server *srv, int route, int status)
{
    SCITT__CTR_INC(srv->requests);
    if (status >= 100 && status <= 599) {
        size_t row = route >= 0 ? (size_t)route + 1 : 0;
        SCITT__CTR_INC(srv->route_counts[row][status - 100]);
    }
}

static uint64_t loop_now(scitt_http_server *srv)
{
    return srv->loop ? uv_now(srv->loop) : 0;
}

scitt_err scitt__http_server_init_common(scitt_http_server *srv, const scitt_http_config *cfg)
{
    if (cfg) {
        srv->cfg = *cfg;
    } else {
        scitt_http_config_defaults(&srv->cfg);
    }
    scitt_http_config *c = &srv->cfg;
    if (c->max_pipeline == 0 || c->max_headers == 0 || c->max_header_bytes < 64 ||
        c->max_url_bytes == 0 || c->max_connections == 0 || c->conn_buffer_bytes == 0 ||
        c->max_response_bytes == 0 || c->send_timeout_ms == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    srv->now_ms = loop_now;
    srv->route_counts = scitt_calloc(SCITT_HTTP_MAX_ROUTES + 1, sizeof(*srv->route_counts));
    srv->iobuf = scitt_malloc(SCITT__IO_BUF);
    srv->tlsbuf = scitt_malloc(SCITT__IO_BUF);
    srv->staging = scitt_malloc(SCITT__IO_BUF);
    if (!srv->route_counts || !srv->iobuf || !srv->tlsbuf || !srv->staging) {
        return SCITT_ERR_NOMEM;
    }
    if (c->max_conns_per_ip > 0) {
        scitt_err err = scitt__connlimit_new(c->max_connections, c->max_conns_per_ip, &srv->cl);
        if (err != SCITT_OK) {
            return err;
        }
    }
    if (c->rate_per_sec > 0) {
        double burst = c->rate_burst > 0 ? c->rate_burst : c->rate_per_sec * 2;
        if (burst < 1) {
            burst = 1;
        }
        scitt_err err =
            scitt__ratelimit_new(c->rate_per_sec, burst, c->rate_table_entries, &srv->rl);
        if (err != SCITT_OK) {
            return err;
        }
    }
    return SCITT_OK;
}

void scitt__http_server_clear_common(scitt_http_server *srv)
{
    while (srv->free_reqs) {
        scitt_http_req *r = srv->free_reqs;
        srv->free_reqs = r->next;
        scitt_free(r);
    }
    srv->nfree = 0;
    scitt__ratelimit_free(srv->rl);
    srv->rl = NULL;
    scitt__connlimit_free(srv->cl);
    srv->cl = NULL;
    scitt_free(srv->route_counts);
    scitt_free(srv->iobuf);
    scitt_free(srv->tlsbuf);
    scitt_free(srv->staging);
    srv->route_counts = NULL;
    srv->iobuf = srv->tlsbuf = srv->staging = NULL;
}

/* ---- completions from other threads ---- */

static void on_async(uv_async_t *h)
{
    scitt_http_server *srv = h->data;
    uv_mutex_lock(&srv->done_mu);
    scitt_http_req *list = srv->done_head;
    srv->done_head = srv->done_tail = NULL;
    uv_mutex_unlock(&srv->done_mu);
    /* One flush per connection for the whole batch, however many of its requests finished. */
    srv->batching = true;
    while (list) {
        scitt_http_req *next = list->done_next;
        list->done_next = NULL;
        scitt__http_complete_local(list);
        list = next;
    }
    srv->batching = false;
    while (srv->dirty) {
        scitt__http_conn *c = srv->dirty;
        srv->dirty = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        scitt__http_conn_pump(c);
    }
}

void scitt_http_complete(scitt_http_req *req)
{
    scitt_http_server *srv = req->srv;
    if (scitt__http_on_loop_thread(srv)) {
        scitt__http_complete_local(req);
        return;
    }
    req->done_next = NULL;
    uv_mutex_lock(&srv->done_mu);
    if (srv->done_tail) {
        srv->done_tail->done_next = req;
    } else {
        srv->done_head = req;
    }
    srv->done_tail = req;
    uv_mutex_unlock(&srv->done_mu);
    uv_async_send(&srv->async);
}

/* ---- the plain transport ---- */

static scitt__uv_conn *U(scitt__http_conn *c)
{
    return (scitt__uv_conn *)c;
}

static void hard_close(scitt__uv_conn *u);

static void on_timer(uv_timer_t *t)
{
    scitt__uv_conn *u = t->data;
    if (u->lingering) {
        hard_close(u);
        return;
    }
    if (u->close_pending) {
        /* The last records never went out: the peer stopped reading. */
        SCITT__CTR_INC(u->c.srv->timeouts);
        SCITT_LOG(SCITT_LOG_DEBUG, "http_timeout", "kind=close_write");
        hard_close(u);
        return;
    }
    scitt__http_conn_timeout(&u->c, u->c.armed_kind);
}

static void arm(scitt__uv_conn *u, uint64_t deadline_ms)
{
    if (u->c.dead) {
        return;
    }
    if (deadline_ms == 0) {
        uv_timer_stop(&u->timer);
        return;
    }
    uint64_t now = uv_now(u->c.srv->loop);
    uv_timer_start(&u->timer, on_timer, deadline_ms > now ? deadline_ms - now : 0, 0);
}

static void op_timer(scitt__http_conn *c, int kind, uint64_t deadline_ms)
{
    scitt__uv_conn *u = U(c);
    (void)kind;
    u->deadline = deadline_ms;
    if (!u->lingering && !u->close_pending) {
        arm(u, deadline_ms);
    }
}

static void on_write(uv_write_t *w, int status);

bool scitt__uv_write(scitt__uv_conn *u, uv_buf_t *bufs, unsigned n, size_t covered, bool copy)
{
    scitt_http_server *srv = u->c.srv;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        total += bufs[i].len;
    }
    int r = uv_try_write((uv_stream_t *)&u->tcp, bufs, n);
    if (r < 0 && r != UV_EAGAIN) {
        return false;
    }
    size_t done = r > 0 ? (size_t)r : 0;
    SCITT__CTR_ADD(srv->bytes_out, done);
    if (done == total) {
        if (!copy) {
            scitt__http_out_sent(&u->c, covered);
        }
        return true;
    }
    unsigned i = 0;
    size_t skip = done;
    while (skip >= bufs[i].len) {
        skip -= bufs[i].len;
        i++;
    }
    if (copy) {
        /* Ciphertext lives in a scratch buffer: keep the unsent tail in our own copy. */
        size_t rest = total - done;
        u->wcopy = scitt_malloc(rest);
        if (!u->wcopy) {
            return false;
        }
        size_t off = 0;
        for (unsigned k = i; k < n; k++) {
            size_t s = k == i ? skip : 0;
            memcpy(u->wcopy + off, bufs[k].base + s, bufs[k].len - s);
            off += bufs[k].len - s;
        }
        u->wbufs[0] = uv_buf_init((char *)u->wcopy, (unsigned)rest);
        u->nwbufs = 1;
        u->wbytes = 0;
    } else {
        scitt__http_out_sent(&u->c, done);
        u->nwbufs = 0;
        for (unsigned k = i; k < n; k++) {
            size_t s = k == i ? skip : 0;
            u->wbufs[u->nwbufs++] = uv_buf_init(bufs[k].base + s, (unsigned)(bufs[k].len - s));
        }
        u->wbytes = total - done;
    }
    u->wtotal = total - done;
    if (uv_write(&u->wreq, (uv_stream_t *)&u->tcp, u->wbufs, u->nwbufs, on_write) != 0) {
        return false;
    }
    /* The engine's deadline for the response being sent keeps running meanwhile. */
    u->writing = true;
    return true;
}

static void on_write(uv_write_t *w, int status)
{
    scitt__uv_conn *u = w->data;
    u->writing = false;
    scitt_free(u->wcopy);
    u->wcopy = NULL;
    if (u->c.dead) {
        return;
    }
    if (status < 0) {
        hard_close(u);
        return;
    }
    SCITT__CTR_ADD(u->c.srv->bytes_out, u->wtotal);
    if (u->wbytes) {
        scitt__http_out_sent(&u->c, u->wbytes);
    }
    u->wbytes = 0;
    if (u->lingering) {
        return;
    }
    if (u->close_pending) {
        u->close_pending = 0;
        u->c.ops->close(&u->c, true);
        return;
    }
    if (u->ssl) {
        scitt__tls_flush(u);
        if (u->c.dead) {
            return;
        }
    }
    scitt__http_conn_pump(&u->c);
}

static void op_flush(scitt__http_conn *c)
{
    scitt__uv_conn *u = U(c);
    if (u->ssl) {
        scitt__tls_flush(u);
        return;
    }
    uv_buf_t bufs[32];
    while (!u->writing && !c->dead) {
        size_t n = scitt__http_out_collect(c, bufs, 32, MAX_WRITE_BYTES);
        if (n == 0) {
            return;
        }
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            total += bufs[i].len;
        }
        if (!scitt__uv_write(u, bufs, (unsigned)n, total, false)) {
            hard_close(u);
            return;
        }
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    scitt__uv_conn *u = h->data;
    (void)hint;
    /* One buffer for every connection: each read is consumed before the next one starts. */
    *buf = uv_buf_init((char *)u->c.srv->iobuf, SCITT__IO_BUF);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    scitt__uv_conn *u = s->data;
    scitt__http_conn *c = &u->c;
    if (nread == 0 || c->dead) {
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF && !u->lingering) {
            c->peer_eof = true;
            uv_read_stop(s);
            u->reading = false;
            scitt__http_conn_eof(c);
            return;
        }
        hard_close(u);
        return;
    }
    SCITT__CTR_ADD(c->srv->bytes_in, (uint64_t)nread);
    if (u->lingering) {
        u->linger_bytes += (size_t)nread;
        if (u->linger_bytes > LINGER_MAX_BYTES) {
            hard_close(u);
        }
        return;
    }
    if (c->no_more) {
        /*
         * Nothing more will be parsed (the connection closes after its queued answers): drop
         * what arrives, TLS records included, which are not even decrypted, so no buffer grows.
         * Past a fixed amount stop reading; the answers still go out.
         */
        u->discarded += (size_t)nread;
        if (u->discarded > SCITT__DISCARD_MAX) {
            uv_read_stop(s);
            u->reading = false;
        }
        return;
    }
    if (u->ssl) {
        if (!scitt__tls_input(u, (const uint8_t *)buf->base, (size_t)nread)) {
            hard_close(u);
        }
        return;
    }
    scitt__http_conn_input(c, (const uint8_t *)buf->base, (size_t)nread);
}

static void op_reading(scitt__http_conn *c, bool on)
{
    scitt__uv_conn *u = U(c);
    if (c->dead || on == u->reading || c->peer_eof || (on && c->no_more)) {
        return;
    }
    if (on) {
        if (uv_read_start((uv_stream_t *)&u->tcp, on_alloc, on_read) == 0) {
            u->reading = true;
        }
        /* Plaintext may be waiting inside OpenSSL already: no new read would bring it. */
        if (u->ssl && !scitt__tls_resume(u)) {
            hard_close(u);
        }
    } else {
        uv_read_stop((uv_stream_t *)&u->tcp);
        u->reading = false;
    }
}

static void on_closed(uv_handle_t *h)
{
    scitt__uv_conn *u = h->data;
    if (--u->handles > 0) {
        return;
    }
    scitt_http_server *srv = u->c.srv;
    scitt__tls_conn_free(u);
    scitt_free(u->wcopy);
    scitt_free(u);
    scitt__http_server_conn_gone(srv);
}

void scitt__uv_hard_close(scitt__uv_conn *u)
{
    hard_close(u);
}

static void hard_close(scitt__uv_conn *u)
{
    scitt__http_conn *c = &u->c;
    if (c->dead) {
        return;
    }
    c->dead = true;
    c->closing = true;
    scitt_http_server *srv = c->srv;
    if (u->counted) {
        scitt__connlimit_remove(srv->cl, c->rate_key);
        u->counted = false;
    }
    scitt__http_conn_release(c);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        srv->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    srv->nconns--;
    SCITT__CTR_ADD(srv->conns_open, (uint64_t)-1);
    /* An RST frees the socket's kernel buffers at once (not allowed after a shutdown). */
    if (!c->reset || u->lingering || uv_tcp_close_reset(&u->tcp, on_closed) != 0) {
        uv_close((uv_handle_t *)&u->tcp, on_closed);
    }
    uv_close((uv_handle_t *)&u->timer, on_closed);
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
    scitt__uv_conn *u = r->data;
    if (status < 0) {
        hard_close(u);
    }
}

static void op_close(scitt__http_conn *c, bool graceful)
{
    scitt__uv_conn *u = U(c);
    if (c->dead || u->lingering) {
        return;
    }
    scitt_http_server *srv = c->srv;
    if (u->writing && graceful) {
        /* TLS records may still be on their way: close once they are out, or soon anyway. */
        u->close_pending = 1;
        arm(u, uv_now(srv->loop) + srv->cfg.linger_ms);
        return;
    }
    if (!graceful || c->peer_eof || srv->shutting_down) {
        hard_close(u);
        return;
    }
    /*
     * Lingering close: stop sending, but keep reading (and discarding) for a while, so that a
     * client still sending a body we refused gets our answer instead of a reset.
     */
    if (u->ssl) {
        scitt__tls_close_notify(u);
        if (c->dead) {
            return;
        }
    }
    u->lingering = true;
    u->sreq.data = u;
    if (uv_shutdown(&u->sreq, (uv_stream_t *)&u->tcp, on_shutdown) != 0) {
        hard_close(u);
        return;
    }
    if (!u->reading) {
        if (uv_read_start((uv_stream_t *)&u->tcp, on_alloc, on_read) == 0) {
            u->reading = true;
        }
    }
    arm(u, uv_now(srv->loop) + srv->cfg.linger_ms);
}

static const scitt__conn_ops uv_ops = {
    .flush = op_flush,
    .reading = op_reading,
    .close = op_close,
    .timer = op_timer,
};

static void reject_closed(uv_handle_t *h)
{
    scitt_free(h);
}

/* Accepts the pending connection and closes it at once, so the client learns promptly. */
static void accept_and_close(uv_stream_t *ls, scitt_http_server *srv)
{
    uv_tcp_t *t = scitt_malloc(sizeof(*t));
    if (!t) {
        return;
    }
    uv_tcp_init(srv->loop, t);
    if (uv_accept(ls, (uv_stream_t *)t) == 0) {
        SCITT__CTR_INC(srv->conns_rejected);
    }
    uv_close((uv_handle_t *)t, reject_closed);
}

void scitt__http_on_connection(uv_stream_t *ls, int status)
{
    scitt__listener *lst = ls->data;
    scitt_http_server *srv = lst->srv;
    if (status < 0) {
        SCITT_LOG(SCITT_LOG_WARN, "accept_failed", "error=%s", uv_err_name(status));
        return;
    }
    if (srv->shutting_down || srv->nconns >= srv->cfg.max_connections) {
        accept_and_close(ls, srv);
        return;
    }
    scitt__uv_conn *u = scitt_calloc(1, sizeof(*u));
    if (!u) {
        return;
    }
    uv_tcp_init(srv->loop, &u->tcp);
    u->tcp.data = u;
    u->handles = 1;
    u->c.srv = srv;
    srv->live_conns++; /* balanced in on_closed */
    if (uv_accept(ls, (uv_stream_t *)&u->tcp) != 0) {
        uv_close((uv_handle_t *)&u->tcp, on_closed);
        return;
    }
    uv_timer_init(srv->loop, &u->timer);
    u->timer.data = u;
    u->handles = 2;
    u->wreq.data = u;
    u->lst = lst;
    uv_tcp_nodelay(&u->tcp, 1);
    struct sockaddr_storage peer;
    int plen = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    uv_tcp_getpeername(&u->tcp, (struct sockaddr *)&peer, &plen);
    scitt__http_conn_init(&u->c, srv, &uv_ops, &peer, lst->ssl_ctx != NULL);
    if (srv->cl) {
        /* One address may hold only so many connections, so it cannot take them all. */
        if (!scitt__connlimit_add(srv->cl, u->c.rate_key)) {
            SCITT__CTR_INC(srv->conns_rejected_ip);
            SCITT_LOG(SCITT_LOG_DEBUG, "http_conn_refused", "reason=per_address cap=%zu",
                      srv->cfg.max_conns_per_ip);
            uv_close((uv_handle_t *)&u->tcp, on_closed);
            uv_close((uv_handle_t *)&u->timer, on_closed);
            return;
        }
        u->counted = true;
    }
    u->c.next = srv->conns;
    if (srv->conns) {
        srv->conns->prev = &u->c;
    }
    srv->conns = &u->c;
    srv->nconns++;
    SCITT__CTR_INC(srv->conns_open);
    SCITT__CTR_INC(srv->conns_total);
    if (lst->ssl_ctx && scitt__tls_conn_start(u, lst->ssl_ctx) != SCITT_OK) {
        hard_close(u);
        return;
    }
    op_reading(&u->c, true);
    scitt__http_conn_pump(&u->c);
}

/* ---- server lifetime ---- */

scitt_err scitt_http_server_new(uv_loop_t *loop, const scitt_http_config *cfg,
                                scitt_http_server **out)
{
    *out = NULL;
    scitt_http_server *srv = scitt_calloc(1, sizeof(*srv));
    if (!srv) {
        return SCITT_ERR_NOMEM;
    }
    srv->loop = loop;
    srv->loop_thread = uv_thread_self();
    scitt_err err = scitt__http_server_init_common(srv, cfg);
    if (err != SCITT_OK) {
        scitt__http_server_clear_common(srv);
        scitt_free(srv);
        return err;
    }
    if (uv_mutex_init(&srv->done_mu) != 0 || uv_async_init(loop, &srv->async, on_async) != 0) {
        scitt__http_server_clear_common(srv);
        scitt_free(srv);
        return SCITT_ERR_IO;
    }
    srv->async.data = srv;
    srv->async_open = true;
    uv_timer_init(loop, &srv->grace);
    srv->grace.data = srv;
    srv->grace_open = true;
    *out = srv;
    return SCITT_OK;
}

scitt_err scitt_http_server_route(scitt_http_server *srv, const scitt_http_route *route)
{
    if (!route || !route->path || route->path[0] != '/' || !route->handler || !route->name ||
        route->methods == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (srv->nroutes >= SCITT_HTTP_MAX_ROUTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    srv->routes[srv->nroutes++] = *route;
    return SCITT_OK;
}
