/*
 * Listeners, graceful shutdown, freeing, and the metrics readers.
 */
#include "http_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * "HOST:PORT" with HOST an IPv4 literal, "[IPv6]" literal, "localhost" or "*" (all IPv4
 * addresses). Names are not resolved: a listener address is configuration, not a lookup.
 */
static scitt_err parse_hostport(const char *hp, struct sockaddr_storage *ss)
{
    char host[64];
    const char *port_s;
    bool v6 = false;
    if (hp[0] == '[') {
        const char *e = strchr(hp, ']');
        if (!e || e[1] != ':' || (size_t)(e - hp - 1) >= sizeof(host)) {
            return SCITT_ERR_INVALID_ARG;
        }
        memcpy(host, hp + 1, (size_t)(e - hp - 1));
        host[e - hp - 1] = 0;
        port_s = e + 2;
        v6 = true;
    } else {
        const char *c = strrchr(hp, ':');
        if (!c || (size_t)(c - hp) >= sizeof(host)) {
            return SCITT_ERR_INVALID_ARG;
        }
        memcpy(host, hp, (size_t)(c - hp));
        host[c - hp] = 0;
        port_s = c + 1;
    }
    char *end;
    long port = strtol(port_s, &end, 10);
    if (*port_s == 0 || *end != 0 || port < 0 || port > 65535) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(ss, 0, sizeof(*ss));
    if (v6) {
        return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0 ? SCITT_OK
                                                                            : SCITT_ERR_INVALID_ARG;
    }
    if (strcmp(host, "localhost") == 0) {
        strcpy(host, "127.0.0.1");
    } else if (strcmp(host, "*") == 0 || host[0] == 0) {
        strcpy(host, "0.0.0.0");
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0 ? SCITT_OK
                                                                       : SCITT_ERR_INVALID_ARG;
}

static void maybe_finish(scitt_http_server *srv)
{
    if (!srv->shutting_down || srv->shutdown_done || srv->live_conns > 0 ||
        srv->open_listeners > 0) {
        return;
    }
    srv->shutdown_done = true;
    uv_timer_stop(&srv->grace);
    /* Late completions from other threads still arrive, but must not keep the loop alive. */
    uv_unref((uv_handle_t *)&srv->async);
    SCITT_LOG(SCITT_LOG_INFO, "http_stopped", "inflight=%llu",
              (unsigned long long)SCITT__CTR_GET(srv->inflight));
    if (srv->done_cb) {
        srv->done_cb(srv, srv->done_ctx);
    } else {
        uv_stop(srv->loop);
    }
}

void scitt__http_server_conn_gone(scitt_http_server *srv)
{
    srv->live_conns--;
    maybe_finish(srv);
}

static void on_listener_closed(uv_handle_t *h)
{
    scitt__listener *l = h->data;
    l->srv->open_listeners--;
    maybe_finish(l->srv);
}

static void on_failed_closed(uv_handle_t *h)
{
    scitt__listener *l = h->data;
    l->srv->closing_handles--;
    scitt_free(l);
}

scitt_err scitt_http_server_listen(scitt_http_server *srv, const char *hostport,
                                   const scitt_http_tls *tls, int *bound_port)
{
    if (srv->nlisteners >= SCITT__MAX_LISTENERS || srv->shutting_down) {
        return SCITT_ERR_STATE;
    }
    struct sockaddr_storage ss;
    scitt_err err = parse_hostport(hostport, &ss);
    if (err != SCITT_OK) {
        return err;
    }
    scitt__listener *l = scitt_calloc(1, sizeof(*l));
    if (!l) {
        return SCITT_ERR_NOMEM;
    }
    l->srv = srv;
    if (tls) {
        err = scitt__tls_ctx_new(tls, &l->ssl_ctx);
        if (err != SCITT_OK) {
            scitt_free(l);
            return err;
        }
    }
    uv_tcp_init(srv->loop, &l->tcp);
    l->tcp.data = l;
    /* An IPv6 listener takes IPv6 only, so "[::]:P" and "0.0.0.0:P" can coexist. */
    unsigned flags = ss.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    int r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, flags);
    if (r == 0) {
        r = uv_listen((uv_stream_t *)&l->tcp, 511, scitt__http_on_connection);
    }
    if (r != 0) {
        SCITT_LOG(SCITT_LOG_ERROR, "listen_failed", "addr=%s error=%s", hostport, uv_err_name(r));
        SSL_CTX_free(l->ssl_ctx);
        srv->closing_handles++;
        uv_close((uv_handle_t *)&l->tcp, on_failed_closed);
        return r == UV_EADDRINUSE ? SCITT_ERR_BUSY : SCITT_ERR_IO;
    }
    srv->listeners[srv->nlisteners++] = l;
    srv->open_listeners++;
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen);
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    snprintf(l->addr, sizeof(l->addr), "%s", hostport);
    if (bound_port) {
        *bound_port = l->port;
    }
    SCITT_LOG(SCITT_LOG_INFO, "http_listen", "addr=%s port=%d tls=%d", hostport, l->port,
              tls != NULL);
    return SCITT_OK;
}

static void on_grace(uv_timer_t *t)
{
    scitt_http_server *srv = t->data;
    SCITT_LOG(SCITT_LOG_WARN, "http_shutdown_forced", "open=%zu", srv->nconns);
    scitt__http_conn *c = srv->conns;
    while (c) {
        scitt__http_conn *next = c->next;
        scitt__uv_hard_close((scitt__uv_conn *)c);
        c = next;
    }
}

void scitt_http_server_shutdown(scitt_http_server *srv, uint64_t grace_ms,
                                scitt_http_shutdown_cb done, void *ctx)
{
    if (srv->shutting_down) {
        return;
    }
    srv->shutting_down = true;
    srv->done_cb = done;
    srv->done_ctx = ctx;
    SCITT_LOG(SCITT_LOG_INFO, "http_shutdown", "open=%zu grace_ms=%llu", srv->nconns,
              (unsigned long long)grace_ms);
    for (size_t i = 0; i < srv->nlisteners; i++) {
        uv_close((uv_handle_t *)&srv->listeners[i]->tcp, on_listener_closed);
    }
    scitt__http_conn *c = srv->conns;
    while (c) {
        scitt__http_conn *next = c->next;
        scitt__http_conn_drain(c);
        c = next;
    }
    uv_timer_start(&srv->grace, on_grace, grace_ms, 0);
    maybe_finish(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
    scitt_http_server *srv = h->data;
    srv->closing_handles--;
}

void scitt_http_server_free(scitt_http_server *srv)
{
    if (!srv) {
        return;
    }
    if (!srv->shutting_down) {
        srv->shutting_down = true;
        srv->shutdown_done = true; /* no callback: the embedder is tearing down */
        for (size_t i = 0; i < srv->nlisteners; i++) {
            uv_close((uv_handle_t *)&srv->listeners[i]->tcp, on_listener_closed);
        }
    }
    srv->shutdown_done = true;
    while (srv->conns) {
        scitt__uv_hard_close((scitt__uv_conn *)srv->conns);
    }
    /* Completions that arrived after the last wake-up: their connections are gone now. */
    if (srv->async_open) {
        uv_mutex_lock(&srv->done_mu);
        scitt_http_req *list = srv->done_head;
        srv->done_head = srv->done_tail = NULL;
        uv_mutex_unlock(&srv->done_mu);
        while (list) {
            scitt_http_req *next = list->done_next;
            scitt__http_complete_local(list);
            list = next;
        }
        srv->closing_handles++;
        srv->async.data = srv;
        uv_close((uv_handle_t *)&srv->async, on_handle_closed);
    }
    if (srv->grace_open) {
        srv->closing_handles++;
        uv_close((uv_handle_t *)&srv->grace, on_handle_closed);
    }
    while (srv->closing_handles > 0 || srv->live_conns > 0 || srv->open_listeners > 0) {
        uv_run(srv->loop, UV_RUN_NOWAIT);
    }
    for (size_t i = 0; i < srv->nlisteners; i++) {
        SSL_CTX_free(srv->listeners[i]->ssl_ctx);
        scitt_free(srv->listeners[i]);
    }
    uv_mutex_destroy(&srv->done_mu);
    scitt__http_server_clear_common(srv);
    scitt_free(srv);
}

/* ---- metrics ---- */

void scitt_http_server_metrics(const scitt_http_server *srv, scitt_http_metrics *out)
{
    scitt_http_server *s = (scitt_http_server *)(uintptr_t)srv;
    out->conns_open = SCITT__CTR_GET(s->conns_open);
    out->conns_total = SCITT__CTR_GET(s->conns_total);
    out->conns_rejected = SCITT__CTR_GET(s->conns_rejected);
    out->conns_rejected_ip = SCITT__CTR_GET(s->conns_rejected_ip);
    out->bytes_in = SCITT__CTR_GET(s->bytes_in);
    out->bytes_out = SCITT__CTR_GET(s->bytes_out);
    out->requests = SCITT__CTR_GET(s->requests);
    out->timeouts = SCITT__CTR_GET(s->timeouts);
    out->parse_errors = SCITT__CTR_GET(s->parse_errors);
    out->rate_limited = SCITT__CTR_GET(s->rate_limited);
    out->tls_failures = SCITT__CTR_GET(s->tls_failures);
    out->inflight = SCITT__CTR_GET(s->inflight);
}

uint64_t scitt_http_server_route_count(const scitt_http_server *srv, size_t route, int status)
{
    if (route > srv->nroutes || status < 100 || status > 599) {
        return 0;
    }
    scitt_http_server *s = (scitt_http_server *)(uintptr_t)srv;
    return SCITT__CTR_GET(s->route_counts[route][status - 100]);
}

size_t scitt_http_server_route_rows(const scitt_http_server *srv)
{
    return srv->nroutes + 1;
}

const char *scitt_http_server_route_name(const scitt_http_server *srv, size_t route)
{
    if (route == 0 || route > srv->nroutes) {
        return "(none)";
    }
    return srv->routes[route - 1].name;
}

scitt_err scitt_http_server_reload(scitt_http_server *srv, const scitt_http_tls *tls,
                                   double rate_per_sec, double rate_burst)
{
    size_t ntls = 0;
    for (size_t i = 0; i < srv->nlisteners; i++) {
        ntls += srv->listeners[i]->ssl_ctx != NULL;
    }
    if ((tls != NULL) != (ntls > 0) || (ntls > 0 && ntls != srv->nlisteners)) {
        return SCITT_ERR_STATE; /* TLS is turned on or off at start only */
    }
    /* Everything new is made first, so that a failure changes nothing. */
    SSL_CTX *ctx = NULL;
    scitt__ratelimit *rl = NULL;
    scitt_err err = SCITT_OK;
    if (tls) {
        err = scitt__tls_ctx_new(tls, &ctx);
    }
    if (err == SCITT_OK && rate_per_sec > 0) {
        double burst = rate_burst > 0 ? rate_burst : rate_per_sec * 2;
        err = scitt__ratelimit_new(rate_per_sec, burst < 1 ? 1 : burst, srv->cfg.rate_table_entries,
                                   &rl);
    }
    if (err != SCITT_OK) {
        SSL_CTX_free(ctx);
        scitt__ratelimit_free(rl);
        return err;
    }
    /* Open connections hold a reference to the context they started with. */
    for (size_t i = 0; ctx && i < srv->nlisteners; i++) {
        SSL_CTX_free(srv->listeners[i]->ssl_ctx);
        srv->listeners[i]->ssl_ctx = ctx;
        if (i + 1 < srv->nlisteners) {
            SSL_CTX_up_ref(ctx);
        }
    }
    scitt__ratelimit_free(srv->rl);
    srv->rl = rl;
    srv->cfg.rate_per_sec = rate_per_sec;
    srv->cfg.rate_burst = rate_burst;
    return SCITT_OK;
}

void scitt_http_server_set_max_body(scitt_http_server *srv, size_t max_body)
{
    if (max_body > 0) {
        srv->cfg.max_body_bytes = max_body;
    }
}
