/*
 * Streaming responses, for server-sent events: the response head goes out at once (no
 * Content-Length, Connection: close) and the body is whatever the owner queues afterwards.
 * The request stays at the head of its connection's queue (so nothing else is answered on that
 * connection) until the owner ends it or the connection goes away. Each stream has one buffer,
 * allocated at start and never reallocated, because the transport may hold pointers into it while
 * a write is in flight; its size is the bound on what a slow reader can make the server hold.
 * That buffer is counted, whole, in the request's charge against the connection's buffer bound
 * (scitt__http_req_bytes), like any other response the connection holds. These are the push
 * fields of a request; the pull fields (stream, sbuf, ...) belong to scitt_http_res_body_stream.
 */
#include "http_impl.h"

#include <string.h>

scitt_err scitt_http_stream_start(scitt_http_req *req, const char *content_type,
                                  size_t max_buffered, scitt_http_stream_closed_cb closed,
                                  void *ctx)
{
    req->pbuf = max_buffered && req->conn ? scitt_malloc(max_buffered) : NULL;
    if (!req->pbuf) {
        /* an ordinary answer (or a drop, when the peer is gone); the owner learns it now */
        scitt_err e = req->conn ? SCITT_ERR_NOMEM : SCITT_ERR_CLOSED;
        if (req->conn) {
            if (scitt_http_res_problem(req, 503, "Service Unavailable", "out of memory") !=
                SCITT_OK) {
                scitt_http_res_status(req, 503);
            }
        }
        scitt_http_complete(req);
        if (closed) {
            closed(ctx);
        }
        return e;
    }
    req->push_closed = closed;
    req->push_ctx = ctx;
    req->pcap = max_buffered;
    req->plen = 0;
    req->push = true;
    req->ctype = content_type;
    req->conn->no_more = true; /* nothing after a stream on this connection is answered */
    scitt_http_complete(req);
    return SCITT_OK;
}

scitt_err scitt_http_stream_write(scitt_http_req *req, scitt_span data)
{
    if (req->push_ended || !req->pbuf) {
        return SCITT_ERR_STATE;
    }
    if (data.len > req->pcap - req->plen) {
        return SCITT_ERR_TOO_LARGE;
    }
    memcpy(req->pbuf + req->plen, data.ptr, data.len);
    req->plen += data.len;
    if (req->conn) {
        scitt__http_conn_pump(req->conn);
    }
    return SCITT_OK;
}

size_t scitt_http_stream_pending(const scitt_http_req *req)
{
    return req->plen;
}

void scitt_http_stream_end(scitt_http_req *req, bool flush)
{
    if (req->push_ended) {
        return;
    }
    req->push_ended = true;
    scitt__http_conn *c = req->conn;
    if (!c) {
        return;
    }
    if (flush && req->plen > 0) {
        scitt__http_conn_pump(c); /* released once the rest is sent; then the close follows */
    } else if (!c->closing && !c->dead) {
        c->closing = true;
        c->ops->close(c, flush);
    }
}

bool scitt__http_stream_sent(scitt_http_req *req, size_t body_off)
{
    if (body_off < req->plen) {
        return false;
    }
    req->plen = 0;
    return true;
}

void scitt__http_stream_release(scitt_http_req *req)
{
    scitt_http_stream_closed_cb cb = req->push_closed;
    void *ctx = req->push_ctx;
    scitt_free(req->pbuf);
    req->pbuf = NULL;
    req->plen = req->pcap = 0;
    req->push = false;
    req->push_closed = NULL;
    if (cb) {
        cb(ctx);
    }
}
