/*
 * A memory transport for the engine: responses are appended to a buffer, closing and timers
 * are recorded instead of performed. The fuzzer and the unit tests drive the real request path
 * through it without sockets or a running loop.
 */
#include "http_impl.h"

#include <arpa/inet.h>
#include <string.h>

static scitt__mem_conn *M(scitt__http_conn *c)
{
    return (scitt__mem_conn *)c;
}

static void mem_flush(scitt__http_conn *c)
{
    scitt__mem_conn *m = M(c);
    uv_buf_t bufs[8];
    size_t n;
    while ((!m->stalled || m->allow > 0) &&
           (n = scitt__http_out_collect(c, bufs, 8, m->max_write ? m->max_write : SIZE_MAX)) > 0) {
        size_t total = 0;
        size_t max = m->max_write ? m->max_write : SIZE_MAX;
        if (m->stalled && m->allow < max) {
            max = m->allow; /* a stalled peer takes only what it was allowed */
        }
        for (size_t i = 0; i < n; i++) {
            size_t take = bufs[i].len;
            /* A short write budget exercises partial sends across the queue. */
            if (take > max - total) {
                take = max - total;
            }
            scitt_dynbuf_put(&m->out, bufs[i].base, take);
            total += take;
            if (take < bufs[i].len) {
                break;
            }
        }
        if (m->stalled) {
            m->allow -= total;
        }
        scitt__http_out_sent(c, total);
    }
}

static void mem_reading(scitt__http_conn *c, bool on)
{
    M(c)->reading = on;
}

static void mem_close(scitt__http_conn *c, bool graceful)
{
    scitt__mem_conn *m = M(c);
    m->closed = true;
    m->graceful = graceful;
    c->dead = true;
    scitt__http_conn_release(c);
}

static void mem_timer(scitt__http_conn *c, int kind, uint64_t deadline_ms)
{
    M(c)->timer_kind = kind;
    M(c)->deadline = deadline_ms;
}

static void mem_sent(scitt__http_conn *c, const scitt_http_req *req)
{
    scitt__mem_conn *m = M(c);
    if (m->nsent < sizeof(m->sent) / sizeof(m->sent[0])) {
        scitt__mem_sent *s = &m->sent[m->nsent];
        s->status = req->status;
        s->cont = req->cont;
        s->is_head = req->is_head;
        s->head_len = req->head_len;
        s->body_len = req->is_head ? 0 : req->out_body.len;
    }
    m->nsent++;
}

static const scitt__conn_ops mem_ops = {
    .flush = mem_flush,
    .reading = mem_reading,
    .close = mem_close,
    .timer = mem_timer,
    .sent = mem_sent,
};

static uint64_t fake_now(scitt_http_server *srv)
{
    return srv->fake_now;
}

scitt_err scitt__http_server_new_detached(const scitt_http_config *cfg, scitt_http_server **out)
{
    *out = NULL;
    scitt_http_server *srv = scitt_calloc(1, sizeof(*srv));
    if (!srv) {
        return SCITT_ERR_NOMEM;
    }
    srv->loop_thread = uv_thread_self();
    scitt_err err = scitt__http_server_init_common(srv, cfg);
    if (err != SCITT_OK) {
        scitt__http_server_clear_common(srv);
        scitt_free(srv);
        return err;
    }
    srv->now_ms = fake_now;
    *out = srv;
    return SCITT_OK;
}

void scitt__http_server_free_detached(scitt_http_server *srv)
{
    if (srv) {
        scitt__http_server_clear_common(srv);
        scitt_free(srv);
    }
}

scitt__mem_conn *scitt__http_mem_conn_new(scitt_http_server *srv, bool tls)
{
    scitt__mem_conn *m = scitt_calloc(1, sizeof(*m));
    if (!m) {
        return NULL;
    }
    struct sockaddr_storage peer;
    memset(&peer, 0, sizeof(peer));
    struct sockaddr_in *in = (struct sockaddr_in *)&peer;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(0x7f000001u);
    scitt_dynbuf_init(&m->out, 0);
    scitt__http_conn_init(&m->c, srv, &mem_ops, &peer, tls);
    m->reading = true;
    scitt__http_conn_pump(&m->c);
    return m;
}

void scitt__http_mem_conn_free(scitt__mem_conn *m)
{
    if (!m) {
        return;
    }
    if (!m->c.dead) {
        m->c.dead = true;
        scitt__http_conn_release(&m->c);
    }
    scitt_dynbuf_clear(&m->out);
    scitt_free(m);
}
