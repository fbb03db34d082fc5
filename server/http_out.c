/*
 * A connection's output side and the request pool: responses leave strictly in request order
 * from the queue head; a transport asks what is ready (collect) and reports what it sent (sent),
 * and finished requests go back to the pool with their arena rewound.
 */
#include "http_impl.h"

#include <string.h>

static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";
#define CONTINUE_LEN (sizeof(CONTINUE) - 1)

/* ---- the request pool ---- */

scitt_http_req *scitt__http_req_get(scitt_http_server *srv)
{
    scitt_http_req *req = srv->free_reqs;
    if (req) {
        srv->free_reqs = req->next;
        srv->nfree--;
    } else {
        req = scitt_malloc(sizeof(*req) + SCITT__REQ_INLINE);
        if (!req) {
            return NULL;
        }
    }
    memset(req, 0, offsetof(scitt_http_req, arena));
    scitt__arena_init(&req->arena, req->mem, SCITT__REQ_INLINE);
    req->srv = srv;
    req->id = ++srv->next_id;
    req->route = -1;
    return req;
}

void scitt__http_req_put(scitt_http_server *srv, scitt_http_req *req)
{
    if (req->push) {
        scitt__http_stream_release(req);
    }
    scitt__http_res_drop_body(req);
    scitt__arena_reset(&req->arena);
    if (srv->nfree < SCITT__REQ_POOL_MAX) {
        req->next = srv->free_reqs;
        srv->free_reqs = req;
        srv->nfree++;
    } else {
        scitt_free(req);
    }
}

/* ---- output ---- */

/* The three parts of a response: interim 100, head, body (none for HEAD). */
static size_t part_len(const scitt_http_req *req, int part)
{
    switch (part) {
    case 0:
        return req->cont ? CONTINUE_LEN : 0;
    case 1:
        return req->state == REQ_READY ? req->head_len : 0;
    default:
        if (req->push) {
            return req->state == REQ_READY ? req->plen : 0; /* what the stream queued so far */
        }
        if (req->state != REQ_READY || req->is_head) {
            return 0;
        }
        return req->stream ? (size_t)req->stream_total : req->out_body.len;
    }
}

size_t scitt__http_req_bytes(const scitt_http_req *req)
{
    size_t n = sizeof(*req) + SCITT__REQ_INLINE + req->arena.spilled;
    if (req->release && !req->stream) {
        n += req->out_body.len; /* a borrowed body lives outside the arena */
    }
    if (req->push) {
        n += req->pcap; /* a pushed stream's buffer, allocated whole at its start */
    }
    return n;
}

/* Body bytes of the queue head already offered and sent (its interim and head come first). */
size_t scitt__http_body_sent(const scitt__http_conn *c)
{
    const scitt_http_req *req = c->qhead;
    size_t pre = part_len(req, 0) + part_len(req, 1);
    return c->out_off > pre ? c->out_off - pre : 0;
}

static const uint8_t *part_ptr(const scitt_http_req *req, int part)
{
    return part == 0   ? (const uint8_t *)CONTINUE
           : part == 1 ? (const uint8_t *)req->head
           : req->push ? req->pbuf
                       : req->out_body.ptr;
}

size_t scitt__http_out_collect(scitt__http_conn *c, uv_buf_t *bufs, size_t max, size_t max_bytes)
{
    size_t n = 0, bytes = 0, off = c->out_off;
    for (scitt_http_req *req = c->qhead; req && n < max && bytes < max_bytes; req = req->next) {
        if (req->state == REQ_READY) {
            if (!req->head) {
                if (req->cont && off == 0) {
                    req->cont = false; /* the final answer came first: no interim */
                }
                scitt__http_res_build_head(req, req->close_after || c->draining);
            }
        } else if (!(req->state == REQ_PARSING && req->cont)) {
            break;
        }
        for (int part = 0; part < 3 && n < max; part++) {
            size_t len = part_len(req, part);
            if (off >= len) {
                off -= len;
                continue;
            }
            if (part == 2 && req->stream) {
                /* Only what has been produced can go: the piece in sbuf, from where it is. */
                size_t start = (size_t)(req->stream_done - req->slen);
                if (off >= req->stream_done || off < start) {
                    return n;
                }
                bufs[n].base = (char *)(req->sbuf + (off - start));
                bufs[n].len = (size_t)req->stream_done - off;
                bytes += bufs[n].len;
                n++;
                if (req->stream_done < req->stream_total) {
                    return n; /* the rest of this body comes first */
                }
                off = 0;
                continue;
            }
            bufs[n].base = (char *)(uintptr_t)(part_ptr(req, part) + off);
            bufs[n].len = len - off;
            bytes += len - off;
            n++;
            off = 0;
        }
        if (req->state != REQ_READY || req->push) {
            break; /* a pushed stream's body has no end yet: nothing behind it can go out */
        }
    }
    return n;
}

static size_t out_total(const scitt_http_req *req)
{
    return part_len(req, 0) + part_len(req, 1) + part_len(req, 2);
}

void scitt__http_out_sent(scitt__http_conn *c, size_t n)
{
    while (c->qhead) {
        scitt_http_req *req = c->qhead;
        size_t left = out_total(req) - c->out_off;
        /* A stream stays at the head of the queue until it is ended and fully sent. */
        if (req->push && req->head && !(req->push_ended && n >= left)) {
            c->out_off += n < left ? n : left;
            size_t hl = part_len(req, 0) + part_len(req, 1);
            if (c->out_off >= hl && scitt__http_stream_sent(req, c->out_off - hl)) {
                c->out_off = hl; /* the buffer was emptied */
            }
            return;
        }
        /* A response whose head is not built yet was never offered: nothing of it was sent. */
        if (req->state != REQ_READY || !req->head || n < left) {
            c->out_off += n < left ? n : left;
            return;
        }
        n -= left;
        c->out_off = 0;
        c->qhead = req->next;
        if (!c->qhead) {
            c->qtail = NULL;
        }
        c->nq--;
        c->held -= req->charge;
        req->charge = 0;
        if (c->send_id == req->id) {
            c->send_id = 0;
        }
        if (req->close_after) {
            c->no_more = true;
        }
        scitt__http_count(c->srv, req->route, req->status);
        if (SCITT_LOG_ON(SCITT_LOG_DEBUG)) {
            char hex[SCITT_LOG_HEX_MAX];
            SCITT_LOG(SCITT_LOG_DEBUG, "http_request",
                      "req=%llu route=%s method=%s path=%s status=%d body=%zu tls=%d",
                      (unsigned long long)req->id, scitt_http_req_route(req),
                      req->headers_done ? llhttp_method_name((llhttp_method_t)req->llmethod) : "-",
                      scitt_log_hex(req->path, hex), req->status, req->out_body.len, (int)c->tls);
        }
        if (c->ops->sent) {
            c->ops->sent(c, req);
        }
        scitt__http_req_put(c->srv, req);
        if (!c->qhead) {
            c->tphase++; /* the idle period starts now */
        }
    }
}
