/*
 * The protocol engine: bytes in, llhttp, request assembly under the configured limits, routing,
 * and the ordered queue of responses of one connection. It never touches a socket; a transport
 * (libuv + TLS in http_server.c, or memory in tests and the fuzzer) feeds it and drains it
 * through scitt__http_out_collect / scitt__http_out_sent.
 */
#include "http_impl.h"

#include <stdio.h>
#include <string.h>

#include "scitt/problem.h"

static void queue_push(scitt__http_conn *c, scitt_http_req *req)
{
    req->next = NULL;
    if (c->qtail) {
        c->qtail->next = req;
    } else {
        c->qhead = req;
    }
    c->qtail = req;
    c->nq++;
}

static scitt_http_req *new_req(scitt__http_conn *c)
{
    scitt_http_req *req = scitt__http_req_get(c->srv);
    if (!req) {
        return NULL;
    }
    req->conn = c;
    req->tls = c->tls;
    req->peer = c->peer;
    queue_push(c, req);
    return req;
}

/* ---- memory held per connection ---- */

/*
 * Room kept for the response of a request whose handler runs: its largest body, and the head
 * and arena slack (a body in a chunk of its own, small allocations in one more 16 KiB chunk).
 */
static size_t reserve(const scitt_http_req *req)
{
    return (req->is_head ? 0 : scitt__http_max_response(req)) + SCITT__RESPONSE_SLACK;
}

/* Counts what @p req holds now (plus @p extra not allocated yet) against the connection. */
static void recharge(scitt__http_conn *c, scitt_http_req *req, size_t extra)
{
    c->held -= req->charge;
    req->charge = scitt__http_req_bytes(req) + extra;
    c->held += req->charge;
}

/* ---- errors the engine answers itself ---- */

static void answer_error(scitt__http_conn *c, scitt_http_req *req, int status, const char *title,
                         const char *detail, uint32_t retry, bool close)
{
    if (close) {
        req->close_after = true;
        c->no_more = true;
    }
    if (status == 400) {
        SCITT__CTR_INC(c->srv->parse_errors);
    }
    SCITT_LOG(SCITT_LOG_DEBUG, "http_reject", "req=%llu status=%d title=\"%s\" close=%d",
              (unsigned long long)req->id, status, title, (int)close);
    scitt__http_res_error(req, status, title, detail, retry);
    recharge(c, req, 0);
}

/* A callback found a problem: remember the answer, make llhttp stop. */
static int fail(scitt__http_conn *c, int status, const char *title, const char *detail)
{
    if (!c->err_status) {
        c->err_status = status;
        c->err_title = title;
        c->err_detail = detail;
    }
    return -1;
}

/*
 * Rejects the request being parsed once its headers are known. The connection stays usable
 * only when the body can be skipped cheaply and the client is not waiting for 100-continue
 * (RFC 9110 §10.1.1: then it may never send the body we would wait for).
 */
static int reject(scitt__http_conn *c, int status, const char *title, const char *detail,
                  uint32_t retry, bool may_keep)
{
    scitt_http_req *req = c->cur;
    llhttp_t *p = &c->parser;
    bool chunked = (p->flags & F_CHUNKED) != 0;
    bool has_len = (p->flags & F_CONTENT_LENGTH) != 0;
    bool body = chunked || (has_len && p->content_length > 0);
    bool keep = may_keep && req->keep_alive && !req->close_after && !req->cont &&
                (!body || (!chunked && p->content_length <= c->srv->cfg.max_body_bytes));
    req->cont = false;
    c->cur = NULL;
    answer_error(c, req, status, title, detail, retry, !keep);
    if (!keep) {
        return -1;
    }
    c->discarding = body;
    c->in_body = body;
    return 0;
}

/*
 * A route's admission check refused the request whose headers just ended: the check set the
 * answer. The body is never read, so the connection survives only a request without one.
 */
static int refuse(scitt__http_conn *c)
{
    scitt_http_req *req = c->cur;
    llhttp_t *p = &c->parser;
    bool body = (p->flags & F_CHUNKED) != 0 ||
                ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > 0);
    bool keep = !body && req->keep_alive && !req->close_after;
    req->cont = false;
    c->cur = NULL;
    if (req->status < 200 || req->status > 599) {
        scitt__http_res_drop_body(req);
        req->out_body.len = 0;
        scitt__http_res_error(req, 500, "Internal Server Error",
                              "The admission check produced no valid status", 0);
    }
    if (!keep) {
        req->close_after = true;
        c->no_more = true;
    }
    req->state = REQ_READY;
    recharge(c, req, 0);
    SCITT_LOG(SCITT_LOG_DEBUG, "http_refused", "req=%llu status=%d body=%d close=%d",
              (unsigned long long)req->id, req->status, (int)body, (int)!keep);
    return keep ? 0 : -1;
}

/* ---- llhttp callbacks ---- */

static int on_message_begin(llhttp_t *p)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = new_req(c);
    if (!req) {
        return fail(c, 503, "Service Unavailable", "The server is out of memory");
    }
    c->cur = req;
    c->cl_count = 0;
    c->te_seen = c->host_seen = c->host_dup = false;
    c->last_was_value = true;
    c->val_end = NULL;
    c->tphase++;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = c->cur;
    if (len == 0) {
        return 0;
    }
    if (len > c->srv->cfg.max_url_bytes - req->url_len) {
        return fail(c, 414, "URI Too Long", "The request target exceeds the server's limit");
    }
    char *u = scitt__arena_grow(&req->arena, req->url, req->url_len, req->url_len + len);
    if (!u) {
        return fail(c, 503, "Service Unavailable", "The server is out of memory");
    }
    memcpy(u + req->url_len, at, len);
    req->url = u;
    req->url_len += len;
    return 0;
}

/* Counts header bytes (field, value and 4 bytes of framing per line) against the limit. */
static bool header_budget(scitt__http_conn *c, size_t len)
{
    scitt_http_req *req = c->cur;
    if (len > c->srv->cfg.max_header_bytes - req->hdr_bytes) {
        fail(c, 431, "Request Header Fields Too Large",
             "The request headers exceed the server's limit");
        return false;
    }
    req->hdr_bytes += len;
    return true;
}

static bool append(scitt_http_req *req, scitt_span *s, const char *at, size_t len)
{
    if (len == 0) {
        return true; /* llhttp reports empty pieces before some errors */
    }
    uint8_t *q = scitt__arena_grow(&req->arena, (void *)(uintptr_t)s->ptr, s->len, s->len + len);
    if (!q) {
        return false;
    }
    memcpy(q + s->len, at, len);
    s->ptr = q;
    s->len += len;
    return true;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = c->cur;
    if (c->last_was_value) {
        if (req->nhdrs >= c->srv->cfg.max_headers) {
            return fail(c, 431, "Request Header Fields Too Large",
                        "The request has more header fields than the server allows");
        }
        if (!header_budget(c, 4)) {
            return -1;
        }
        if (req->nhdrs == req->hdr_cap) {
            size_t cap = req->hdr_cap ? req->hdr_cap * 2 : 16;
            scitt__hdr *h = scitt__arena_alloc(&req->arena, cap * sizeof(*h));
            if (!h) {
                return fail(c, 503, "Service Unavailable", "The server is out of memory");
            }
            if (req->nhdrs) {
                memcpy(h, req->hdrs, req->nhdrs * sizeof(*h));
            }
            req->hdrs = h;
            req->hdr_cap = cap;
        }
        memset(&req->hdrs[req->nhdrs++], 0, sizeof(scitt__hdr));
        c->last_was_value = false;
        c->val_end = NULL;
    }
    if (!header_budget(c, len)) {
        return -1;
    }
    if (!append(req, &req->hdrs[req->nhdrs - 1].name, at, len)) {
        return fail(c, 503, "Service Unavailable", "The server is out of memory");
    }
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = c->cur;
    scitt__hdr *h = &req->hdrs[req->nhdrs - 1];
    /*
     * llhttp 8 accepts obs-fold and hands the continuation over as a second value piece. A
     * legitimate second piece only starts where a read ended, so any other discontinuity is a
     * fold, which RFC 9112 §5.2 lets us reject.
     */
    if (c->val_end != NULL && at != c->val_end &&
        !(c->val_end == c->prev_exec_end && at == c->exec_start)) {
        return fail(c, 400, "Bad Request", "Obsolete line folding is not accepted");
    }
    c->val_end = at + len;
    if (!header_budget(c, len)) {
        return -1;
    }
    if (!append(req, &h->value, at, len)) {
        return fail(c, 503, "Service Unavailable", "The server is out of memory");
    }
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = c->cur;
    scitt__hdr *h = &req->hdrs[req->nhdrs - 1];
    while (h->value.len > 0 &&
           (h->value.ptr[h->value.len - 1] == ' ' || h->value.ptr[h->value.len - 1] == '\t')) {
        h->value.len--;
    }
    c->last_was_value = true;
    c->val_end = NULL;
    /* RFC 9112 §5.1: a field name is a token; llhttp 8 lets some bytes (spaces) through. */
    if (!scitt__http_token(h->name)) {
        return fail(c, 400, "Bad Request", "A header field name is not a token");
    }
    if (scitt__span_ieq(h->name, "content-length")) {
        c->cl_count++;
    } else if (scitt__span_ieq(h->name, "transfer-encoding")) {
        c->te_seen = true;
    } else if (scitt__span_ieq(h->name, "host")) {
        c->host_dup = c->host_seen;
        c->host_seen = true;
    }
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    scitt__http_conn *c = p->data;
    scitt_http_server *srv = c->srv;
    scitt_http_req *req = c->cur;
    req->headers_done = true;
    c->tphase++;
    req->llmethod = p->method;
    req->method = scitt__http_method_bit(p->method);
    req->is_head = req->method == SCITT_HTTP_HEAD;
    req->http10 = p->http_major == 1 && p->http_minor == 0;
    req->keep_alive = llhttp_should_keep_alive(p) != 0;
    /* We never switch protocols, and a body after an Upgrade request is not ours to frame. */
    req->close_after = !req->keep_alive || p->upgrade || c->draining;

    /* Request smuggling (RFC 9112 §6.3): llhttp refuses these too; we do not rely on it. */
    if (c->cl_count > 1 || (c->cl_count > 0 && c->te_seen)) {
        return fail(c, 400, "Bad Request", "Conflicting Content-Length or Transfer-Encoding");
    }
    if ((!req->http10 && !c->host_seen) || c->host_dup) {
        return fail(c, 400, "Bad Request", "A request needs exactly one Host header");
    }
    if (!scitt__http_split_target(req)) {
        return fail(c, 400, "Bad Request", "The request target is not an origin-form path");
    }
    if (req->method == SCITT_HTTP_OTHER) {
        return reject(c, 405, "Method Not Allowed", "The method is not supported", 0, false);
    }
    bool chunked = (p->flags & F_CHUNKED) != 0;
    bool has_len = (p->flags & F_CONTENT_LENGTH) != 0;
    if (srv->shutting_down) {
        return reject(c, 503, "Service Unavailable", "The server is shutting down", 1, false);
    }
    if (srv->rl) {
        uint32_t retry = 1;
        if (!scitt__ratelimit_take(srv->rl, c->rate_key, srv->now_ms(srv), &retry)) {
            SCITT__CTR_INC(srv->rate_limited);
            return reject(c, 429, "Too Many Requests",
                          "The rate limit for this client address is exhausted", retry, true);
        }
    }
    unsigned allow = 0;
    int r = scitt__http_route_lookup(srv, req->path, req->method, &allow);
    if (r < 0) {
        if (allow == 0) {
            return reject(c, 404, "Not Found", "No resource matches the request path", 0, true);
        }
        scitt__http_allow_header(req, allow);
        return reject(c, 405, "Method Not Allowed", "The resource does not support the method", 0,
                      true);
    }
    req->route = r;
    const scitt_http_route *route = &srv->routes[r];
    /* Who may send a body is decided before the first byte of it is read. */
    if (route->admit && !route->admit(req, route->ctx)) {
        return refuse(c);
    }
    bool body_method = (req->method & (SCITT_HTTP_POST | SCITT_HTTP_PUT | SCITT_HTTP_PATCH)) != 0;
    if (route->require_length && body_method && !has_len && !chunked) {
        return reject(c, 411, "Length Required", "The request needs a Content-Length", 0, true);
    }
    if (route->content_types && body_method) {
        scitt_span ct = {NULL, 0};
        (void)scitt_http_req_header(req, "content-type", &ct);
        if (!scitt__http_ctype_allowed(route->content_types, ct)) {
            return reject(c, 415, "Unsupported Media Type",
                          "The resource does not accept this Content-Type", 0, true);
        }
    }
    req->max_body = route->max_body ? route->max_body : srv->cfg.max_body_bytes;
    /* The body limit is checked here, before a single body byte is read. */
    if (has_len && p->content_length > req->max_body) {
        char detail[160]; /* the limit, so that a client can say what to do */
        snprintf(detail, sizeof(detail),
                 "The request body of %llu bytes exceeds this resource's limit of %zu bytes",
                 (unsigned long long)p->content_length, req->max_body);
        return reject(c, 413, "Content Too Large", detail, 0, false);
    }
    scitt_span expect;
    if (scitt_http_req_header(req, "expect", &expect)) {
        if (!scitt__span_ieq(expect, "100-continue")) {
            return reject(c, 417, "Expectation Failed", "Only 100-continue is supported", 0, false);
        }
        req->cont = chunked || (has_len && p->content_length > 0);
    }
    if (has_len && p->content_length > 0) {
        req->body = scitt__arena_alloc(&req->arena, (size_t)p->content_length);
        if (!req->body) {
            return reject(c, 503, "Service Unavailable", "The server is out of memory", 1, false);
        }
        req->body_cap = (size_t)p->content_length;
    }
    c->in_body = chunked || (has_len && p->content_length > 0);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = c->cur;
    if (c->discarding || !req) {
        return 0;
    }
    if (len > req->body_cap - req->body_len) {
        /* Only chunked bodies get here: their size is learnt as they arrive. */
        if (len > req->max_body - req->body_len) {
            return fail(c, 413, "Content Too Large", "The request body exceeds the server's limit");
        }
        size_t cap = req->body_cap ? req->body_cap * 2 : 1024;
        if (cap < req->body_len + len) {
            cap = req->body_len + len;
        }
        if (cap > req->max_body) {
            cap = req->max_body;
        }
        uint8_t *b = scitt__arena_grow(&req->arena, req->body, req->body_len, cap);
        if (!b) {
            return fail(c, 503, "Service Unavailable", "The server is out of memory");
        }
        req->body = b;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, at, len);
    req->body_len += len;
    return 0;
}

/* A chunk announcing more than the limit allows is refused before its data arrives. */
static int on_chunk_header(llhttp_t *p)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = c->cur;
    if (c->discarding || !req) {
        return 0;
    }
    if (p->content_length > req->max_body - req->body_len) {
        return fail(c, 413, "Content Too Large", "The request body exceeds the server's limit");
    }
    return 0;
}

static void dispatch(scitt__http_conn *c, scitt_http_req *req)
{
    const scitt_http_route *r = &c->srv->routes[req->route];
    recharge(c, req, reserve(req));
    req->state = REQ_DISPATCHED;
    SCITT__CTR_INC(c->srv->inflight);
    r->handler(req, r->ctx);
}

/*
 * Runs the handlers of parsed requests, in order, while the connection's buffer has room for
 * their responses. The request at the head of the queue always runs: everything before it has
 * gone out, so waiting would never end.
 */
static void dispatch_waiting(scitt__http_conn *c)
{
    size_t budget = c->srv->cfg.conn_buffer_bytes;
    for (scitt_http_req *req = c->qhead; req && !c->dead && !c->closing; req = req->next) {
        if (req->state == REQ_PARSING) {
            return;
        }
        if (req->state != REQ_PARSED) {
            continue;
        }
        if (req != c->qhead && (c->held > budget || reserve(req) > budget - c->held)) {
            return;
        }
        dispatch(c, req);
    }
}

static int on_message_complete(llhttp_t *p)
{
    scitt__http_conn *c = p->data;
    scitt_http_req *req = c->cur;
    bool keep = llhttp_should_keep_alive(p) && !p->upgrade;
    c->in_body = false;
    c->requests++;
    c->tphase++;
    if (c->discarding) {
        c->discarding = false;
    } else if (req) {
        c->cur = NULL;
        /* A client that sent the body without waiting needs no interim response any more. */
        if (req->cont && c->qhead == req && c->out_off == 0) {
            req->cont = false;
        }
        /* Its handler runs from the pump, once the connection has room for the answer. */
        req->state = REQ_PARSED;
        recharge(c, req, 0);
    }
    if (!keep || c->draining) {
        c->no_more = true;
        return HPE_PAUSED;
    }
    if (c->nq >= c->srv->cfg.max_pipeline || c->held >= c->srv->cfg.conn_buffer_bytes) {
        c->paused = true;
        return HPE_PAUSED;
    }
    return 0;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_header = on_chunk_header,
    .on_message_complete = on_message_complete,
};

/* ---- input ---- */

void scitt__http_conn_init(scitt__http_conn *c, scitt_http_server *srv, const scitt__conn_ops *ops,
                           const struct sockaddr_storage *peer, bool tls)
{
    c->srv = srv;
    c->ops = ops;
    c->tls = tls;
    c->peer = *peer;
    c->tphase_armed = UINT32_MAX;
    scitt__ratelimit_key(peer, srv->cfg.rate_ipv6_prefix, c->rate_key);
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
}

static void save_pending(scitt__http_conn *c, const uint8_t *data, size_t len)
{
    if (len == 0) {
        return;
    }
    uint8_t *buf = scitt_realloc(c->pending, c->pending_len + len);
    if (!buf) {
        /* Cannot keep the client's bytes: stop here and close after what is queued. */
        c->no_more = true;
        return;
    }
    memcpy(buf + c->pending_len, data, len);
    c->pending = buf;
    c->pending_len += len;
}

static void parse_error(scitt__http_conn *c, llhttp_errno_t err)
{
    bool handled = c->no_more; /* a callback already queued the answer */
    c->no_more = true;
    if (handled || c->discarding) {
        return;
    }
    int status = c->err_status ? c->err_status : 400;
    const char *title = c->err_status ? c->err_title : "Bad Request";
    const char *detail = c->err_status ? c->err_detail : "The request could not be parsed";
    if (!c->err_status && err == HPE_UNEXPECTED_CONTENT_LENGTH) {
        detail = "Conflicting Content-Length or Transfer-Encoding";
    } else if (!c->err_status &&
               (err == HPE_INVALID_CHUNK_SIZE || err == HPE_INVALID_TRANSFER_ENCODING)) {
        detail = "Invalid chunked framing or Transfer-Encoding";
    }
    scitt_http_req *req = c->cur;
    c->cur = NULL;
    if (!req) {
        req = new_req(c);
        if (!req) {
            return;
        }
    }
    /* An interim 100 already sent stays part of this request's output (collect drops it
     * when it was not sent yet). */
    answer_error(c, req, status, title, detail, 0, true);
}

static void feed(scitt__http_conn *c, const uint8_t *data, size_t len)
{
    while (len > 0 && !c->no_more) {
        c->exec_start = (const char *)data;
        llhttp_errno_t err = llhttp_execute(&c->parser, (const char *)data, len);
        c->prev_exec_end = (const char *)data + len;
        if (err == HPE_OK) {
            return;
        }
        if (err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
            parse_error(c, err);
            return;
        }
        size_t used = (size_t)((const uint8_t *)llhttp_get_error_pos(&c->parser) - data);
        data += used;
        len -= used;
        if (err == HPE_PAUSED_UPGRADE) {
            c->no_more = true;
        }
        if (c->no_more) {
            return;
        }
        if (c->paused) {
            save_pending(c, data, len);
            c->ops->reading(c, false);
            return;
        }
        llhttp_resume(&c->parser);
    }
}

void scitt__http_conn_input(scitt__http_conn *c, const uint8_t *data, size_t len)
{
    if (c->dead || c->no_more || len == 0) {
        return;
    }
    if (c->paused) {
        save_pending(c, data, len);
        return;
    }
    c->busy++;
    feed(c, data, len);
    c->busy--;
    scitt__http_conn_pump(c);
}

void scitt__http_conn_eof(scitt__http_conn *c)
{
    if (c->dead) {
        return;
    }
    /* A stream (server-sent events) runs until its reader goes, and a reader that closes has
     * gone: end it now rather than at its next write, which may be a heartbeat away. */
    if (c->qhead && c->qhead->push && !c->qhead->push_ended) {
        c->no_more = true;
        if (!c->closing) {
            c->closing = true;
            c->ops->close(c, false);
        }
        return;
    }
    /* Requests still waiting behind a full pipeline were sent before the close: answer them. */
    if (c->paused && c->pending_len > 0) {
        c->eof_pending = true;
        return;
    }
    /* A request cut short by the peer's close gets no answer: nobody could act on it. */
    scitt_http_req *part = c->cur;
    c->cur = NULL;
    c->no_more = true;
    c->discarding = false;
    c->in_body = false;
    if (part) {
        scitt_http_req **pp = &c->qhead;
        while (*pp != part) {
            pp = &(*pp)->next;
        }
        *pp = NULL;
        c->qtail = NULL;
        for (scitt_http_req *q = c->qhead; q; q = q->next) {
            c->qtail = q;
        }
        c->nq--;
        c->held -= part->charge;
        if (c->qhead == NULL) {
            c->out_off = 0;
        }
        scitt__http_req_put(c->srv, part);
    }
    scitt__http_conn_pump(c);
}

void scitt__http_conn_timeout(scitt__http_conn *c, int kind)
{
    if (c->dead || c->closing) {
        return;
    }
    SCITT__CTR_INC(c->srv->timeouts);
    SCITT_LOG(SCITT_LOG_DEBUG, "http_timeout", "kind=%d requests=%llu", kind,
              (unsigned long long)c->requests);
    if ((kind == TMR_HEADER || kind == TMR_BODY) && c->cur) {
        scitt_http_req *req = c->cur;
        c->cur = NULL;
        answer_error(c, req, 408, "Request Timeout", "The request was not received in time", 0,
                     true);
        scitt__http_conn_pump(c);
        return;
    }
    if (kind == TMR_BODY && c->discarding) {
        c->no_more = true;
        c->discarding = false;
        scitt__http_conn_pump(c);
        return;
    }
    /*
     * Idle, nothing received, or a peer that stopped reading: just close. For the last, with an
     * abortive close: what the kernel still holds for it is dropped instead of trickling out.
     */
    c->reset = kind == TMR_SEND;
    c->no_more = true;
    c->closing = true;
    c->ops->close(c, false);
}

/* ---- driving ---- */

/*
 * One deadline is armed at a time: the earlier of the parse side's (headers, body, idle, each
 * fixed when its phase begins) and the send deadline of the response at the head of the queue,
 * which starts when that response is ready and is never extended by progress, so a client that
 * reads a little now and then cannot hold a response (or the connection) for longer.
 */
static void update_timer(scitt__http_conn *c)
{
    const scitt_http_config *cfg = &c->srv->cfg;
    int kind = TMR_NONE;
    uint64_t ms = 0;
    if (c->cur && !c->cur->headers_done) {
        kind = TMR_HEADER;
        ms = cfg->header_timeout_ms;
    } else if (c->in_body) {
        kind = TMR_BODY;
        ms = cfg->body_timeout_ms;
    } else if (!c->qhead && !c->no_more) {
        kind = c->requests == 0 ? TMR_HEADER : TMR_IDLE;
        ms = c->requests == 0 ? cfg->header_timeout_ms : cfg->keepalive_timeout_ms;
    }
    uint64_t now = c->srv->now_ms(c->srv);
    if (kind != c->tkind || c->tphase != c->tphase_armed) {
        c->tkind = kind;
        c->tphase_armed = c->tphase;
        c->pdeadline = kind == TMR_NONE ? 0 : now + ms;
    }
    const scitt_http_req *h = c->qhead;
    if (h && h->state == REQ_READY) {
        if (c->send_id != h->id) {
            c->send_id = h->id;
            c->send_deadline = now + cfg->send_timeout_ms;
        }
    } else {
        c->send_id = 0;
    }
    int k = c->tkind;
    uint64_t at = c->pdeadline;
    if (c->send_id && (at == 0 || c->send_deadline < at)) {
        k = TMR_SEND;
        at = c->send_deadline;
    }
    if (k == c->armed_kind && at == c->armed_at) {
        return;
    }
    c->armed_kind = k;
    c->armed_at = at;
    c->ops->timer(c, k, at);
}

/* The head response streams its body and has sent every byte produced: ask for the next piece. */
static void maybe_pull(scitt__http_conn *c)
{
    scitt_http_req *h = c->qhead;
    if (!h || h->state != REQ_READY || !h->stream || h->filling || !h->head || h->is_head ||
        h->stream_done >= h->stream_total || scitt__http_body_sent(c) < h->stream_done) {
        return;
    }
    h->filling = true;
    SCITT__CTR_INC(c->srv->inflight);
    h->pull(h, h->release_ctx, h->sbuf, SCITT_HTTP_PIECE_BYTES);
}

void scitt__http_conn_pump(scitt__http_conn *c)
{
    if (c->dead || c->closing) {
        return;
    }
    if (c->busy) {
        c->again = true;
        return;
    }
    c->busy++;
    do {
        c->again = false;
        if (c->abort) {
            c->no_more = true;
            c->closing = true;
            c->ops->close(c, false);
            break;
        }
        dispatch_waiting(c);
        if (c->dead || c->closing) {
            break;
        }
        c->ops->flush(c);
        if (c->dead || c->closing) {
            break;
        }
        maybe_pull(c);
        /* What went out may have made room (or a new head of the queue) for waiting requests. */
        dispatch_waiting(c);
        if (c->dead || c->closing) {
            break;
        }
        if (c->paused && !c->no_more && c->nq < c->srv->cfg.max_pipeline &&
            c->held < c->srv->cfg.conn_buffer_bytes) {
            c->paused = false;
            llhttp_resume(&c->parser);
            uint8_t *buf = c->pending;
            size_t len = c->pending_len;
            c->pending = NULL;
            c->pending_len = 0;
            if (buf) {
                feed(c, buf, len);
                scitt_free(buf);
            }
            if (c->eof_pending && !c->paused) {
                c->eof_pending = false;
                c->busy--;
                scitt__http_conn_eof(c);
                return;
            }
            if (!c->paused && !c->no_more) {
                c->ops->reading(c, true);
            }
            c->again = true;
            continue;
        }
        if (c->no_more && !c->qhead) {
            c->closing = true;
            c->ops->close(c, true);
            break;
        }
    } while (c->again && !c->dead && !c->closing);
    c->busy--;
    if (!c->dead && !c->closing) {
        update_timer(c);
    }
}

void scitt__http_conn_release(scitt__http_conn *c)
{
    scitt_http_server *srv = c->srv;
    scitt_http_req *req = c->qhead;
    while (req) {
        scitt_http_req *next = req->next;
        if (req->state == REQ_DISPATCHED || req->filling) {
            /* a handler or producer still owns it; its completion frees it */
            req->conn = NULL;
        } else {
            scitt__http_req_put(srv, req);
        }
        req = next;
    }
    c->qhead = c->qtail = c->cur = NULL;
    c->nq = 0;
    c->held = 0;
    scitt_free(c->pending);
    c->pending = NULL;
    c->pending_len = 0;
}

void scitt__http_conn_drain(scitt__http_conn *c)
{
    if (c->dead || c->closing) {
        return;
    }
    c->draining = true;
    if (!c->cur) {
        c->no_more = true;
    }
    scitt__http_conn_pump(c);
}

/* The piece a pull asked for is in the buffer (or the producer failed). */
static void piece_done(scitt__http_conn *c, scitt_http_req *req)
{
    req->filling = false;
    size_t n = req->piece;
    if (n == 0 || n > SCITT_HTTP_PIECE_BYTES || n > req->stream_total - req->stream_done) {
        /* The head has gone out with its Content-Length: only closing tells the client. */
        SCITT_LOG(SCITT_LOG_WARN, "http_stream_failed", "req=%llu done=%llu total=%llu",
                  (unsigned long long)req->id, (unsigned long long)req->stream_done,
                  (unsigned long long)req->stream_total);
        c->abort = true;
        return;
    }
    req->slen = n;
    req->stream_done += n;
}

void scitt_http_res_piece(scitt_http_req *req, size_t n)
{
    req->piece = n;
    scitt_http_complete(req);
}

void scitt__http_complete_local(scitt_http_req *req)
{
    scitt_http_server *srv = req->srv;
    SCITT__CTR_ADD(srv->inflight, (uint64_t)-1);
    scitt__http_conn *c = req->conn;
    if (!c) {
        if (!req->filling) {
            scitt__http_count(srv, req->route, req->status ? req->status : 500);
        }
        req->filling = false;
        scitt__http_req_put(srv, req);
        return;
    }
    if (req->filling) {
        piece_done(c, req);
    } else {
        if (req->status < 200 || req->status > 599) {
            scitt__http_res_drop_body(req);
            req->out_body.len = 0;
            req->stream = false;
            scitt__http_res_error(req, 500, "Internal Server Error",
                                  "The handler produced no valid status", 0);
        }
        req->state = REQ_READY;
        recharge(c, req, 0);
    }
    if (c->busy) {
        c->again = true;
    } else if (srv->batching) {
        if (!c->dirty) {
            c->dirty = true;
            c->dirty_next = srv->dirty;
            srv->dirty = c;
        }
    } else {
        scitt__http_conn_pump(c);
    }
}
