/*
 * The load side of the scittd crash test: client threads that register statements over
 * keep-alive connections (some pipelined), re-submit statements registered before (which must
 * come back with the index they were acknowledged at), poll /checkpoint, and record every 201
 * they get: the entry, its index, the receipt and the tree head it names.
 *
 * Client threads must not call cmocka's asserts (they longjmp into the main thread's frame), so
 * everything here reports a broken expectation through cl_violation() and the main thread fails
 * the test after joining them. Reading stops quietly when the server goes away: that is the point.
 */
#ifndef SCITT_CRASH_LOAD_H
#define SCITT_CRASH_LOAD_H

#include <pthread.h>
#include <stdatomic.h>

#include "scittd_util.h"

/* What a client saw acknowledged. */
typedef struct cl_ack {
    uint8_t *entry; /* the registered form (itself a valid Signed Statement to re-submit) */
    size_t entry_len;
    uint8_t id[32];
    uint64_t index;
    uint8_t *receipt;
    size_t receipt_len;
    unsigned round;
} cl_ack;

/* A tree head some client saw, from a receipt or a checkpoint. */
typedef struct cl_head {
    uint64_t size;
    uint8_t root[32];
} cl_head;

typedef struct cl_shared {
    pthread_mutex_t mu;
    cl_ack *acks;
    size_t nacks, acap;
    cl_head *heads; /* seen since the last check */
    size_t nheads, hcap;
    char violation[600]; /* the first broken expectation */
    atomic_bool stop;
    atomic_size_t round_acks;
    atomic_size_t resubmits; /* re-submissions answered with their acknowledged index */
    const scitt_cose_keyset *keys;
    scitt_note_verifier vkey;
    char origin[256];
    int port;
    unsigned round;
} cl_shared;

static cl_shared CL;

static void cl_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void cl_violation(const char *fmt, ...)
{
    pthread_mutex_lock(&CL.mu);
    if (!CL.violation[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(CL.violation, sizeof(CL.violation), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&CL.mu);
}

static void cl_add_head(uint64_t size, const uint8_t root[32])
{
    pthread_mutex_lock(&CL.mu);
    if (CL.nheads == CL.hcap) {
        CL.hcap = CL.hcap ? 2 * CL.hcap : 1024;
        CL.heads = realloc(CL.heads, CL.hcap * sizeof(*CL.heads));
    }
    CL.heads[CL.nheads].size = size;
    memcpy(CL.heads[CL.nheads].root, root, 32);
    CL.nheads++;
    pthread_mutex_unlock(&CL.mu);
}

static uint8_t *cl_dup(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d) {
        memcpy(d, p, n);
    }
    return d;
}

static void cl_add_ack(scitt_span entry, const uint8_t id[32], uint64_t index, scitt_span receipt)
{
    pthread_mutex_lock(&CL.mu);
    if (CL.nacks == CL.acap) {
        CL.acap = CL.acap ? 2 * CL.acap : 4096;
        CL.acks = realloc(CL.acks, CL.acap * sizeof(*CL.acks));
    }
    cl_ack *a = &CL.acks[CL.nacks++];
    a->entry = cl_dup(entry.ptr, entry.len);
    a->entry_len = entry.len;
    memcpy(a->id, id, 32);
    a->index = index;
    a->receipt = cl_dup(receipt.ptr, receipt.len);
    a->receipt_len = receipt.len;
    a->round = CL.round;
    pthread_mutex_unlock(&CL.mu);
    atomic_fetch_add(&CL.round_acks, 1);
}

/* ---- a minimal thread-safe HTTP/1.1 response reader ---- */

typedef struct cl_conn {
    int fd;
    uint8_t *buf;
    size_t len, cap;
} cl_conn;

typedef struct cl_resp {
    int status;
    char location[96];
    const uint8_t *body; /* into the connection buffer, valid until the next read */
    size_t body_len;
} cl_resp;

/* Reads more bytes within @p ms; false on EOF, reset or timeout. */
static bool cl_fill(cl_conn *c, int ms)
{
    if (c->len == c->cap) {
        return false;
    }
    struct pollfd p = {c->fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) {
        return false;
    }
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (r <= 0) {
        return false;
    }
    c->len += (size_t)r;
    return true;
}

/* Drops the previous response's bytes, then reads one response; false when none arrives. */
static bool cl_read(cl_conn *c, cl_resp *r, size_t *consumed)
{
    memmove(c->buf, c->buf + *consumed, c->len - *consumed);
    c->len -= *consumed;
    *consumed = 0;
    char *end;
    for (;;) {
        c->buf[c->len < c->cap ? c->len : c->cap - 1] = 0;
        end = strstr((char *)c->buf, "\r\n\r\n");
        if (end) {
            break;
        }
        if (!cl_fill(c, 30000)) {
            return false;
        }
    }
    size_t hlen = (size_t)(end - (char *)c->buf) + 4;
    if (sscanf((const char *)c->buf, "HTTP/1.1 %d", &r->status) != 1) {
        cl_violation("a response does not start with a status line");
        return false;
    }
    char v[32];
    size_t cl = 0;
    if (it_head_value((const char *)c->buf, end, "Content-Length", v, sizeof(v))) {
        cl = (size_t)strtoull(v, NULL, 10);
    }
    r->location[0] = 0;
    it_head_value((const char *)c->buf, end, "Location", r->location, sizeof(r->location));
    if (cl > c->cap - hlen - 1) {
        cl_violation("a response body of %zu bytes", cl);
        return false;
    }
    while (c->len < hlen + cl) {
        if (!cl_fill(c, 30000)) {
            return false;
        }
    }
    r->body = c->buf + hlen;
    r->body_len = cl;
    *consumed = hlen + cl;
    return true;
}

static bool cl_send(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return false;
        }
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* ---- the client ---- */

enum { REQ_NEW, REQ_AGAIN, REQ_CHECKPOINT };

typedef struct cl_req {
    int kind;
    scitt_dynbuf entry;  /* REQ_NEW, REQ_AGAIN: the registered form it must be acknowledged as */
    uint64_t want_index; /* REQ_AGAIN */
} cl_req;

#define CL_MAX_DEPTH 16

typedef struct cl_client {
    pthread_t thread;
    unsigned id, depth;
    sd_issuer issuer;
    uint64_t seq, rng;
    uint64_t sent, answered;
    int port; /* the server it talks to (0: CL.port) */
} cl_client;

static uint64_t cl_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Fills @p q with the next request and sends it; false when the connection is gone. */
static bool cl_issue(cl_client *c, int fd, cl_req *q)
{
    uint64_t dice = cl_rand(&c->rng) % 64;
    scitt_dynbuf_init(&q->entry, 0);
    char head[512];
    if (dice == 0) {
        q->kind = REQ_CHECKPOINT;
        int n = snprintf(head, sizeof(head), "GET /checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        return cl_send(fd, head, (size_t)n);
    }
    scitt_dynbuf stmt;
    scitt_dynbuf_init(&stmt, 0);
    q->kind = REQ_NEW;
    if (dice < 8) {
        /* Again a statement acknowledged before, in this round or an earlier one. */
        pthread_mutex_lock(&CL.mu);
        if (CL.nacks > 0) {
            const cl_ack *a = &CL.acks[cl_rand(&c->rng) % CL.nacks];
            scitt_dynbuf_put(&stmt, a->entry, a->entry_len);
            q->want_index = a->index;
            q->kind = REQ_AGAIN;
        }
        pthread_mutex_unlock(&CL.mu);
    }
    if (q->kind == REQ_NEW) {
        char payload[96], sub[32];
        snprintf(payload, sizeof(payload), "{\"client\": %u, \"round\": %u, \"n\": %llu}", c->id,
                 CL.round, (unsigned long long)c->seq++);
        snprintf(sub, sizeof(sub), "pkg:crash/%u", c->id);
        su_opts o;
        memset(&o, 0, sizeof(o));
        o.iss = c->issuer.iss;
        o.sub = sub;
        o.with_kid = true;
        o.content_type = "application/json";
        if (su_statement(c->issuer.key, &o, scitt_span_str(payload), &stmt) != SCITT_OK) {
            cl_violation("client %u cannot sign a statement", c->id);
            scitt_dynbuf_clear(&stmt);
            return false;
        }
    }
    /* The registered form of what is sent: the entry the log must hold. */
    scitt_cose_sign1 m;
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &q->entry);
    if (scitt_cose_sign1_decode(scitt_span_make(stmt.ptr, stmt.len), SCITT_SIGN1_UNTAGGED, &m) !=
            SCITT_OK ||
        scitt_receipt_entry(&m, &w) != SCITT_OK || scitt_cbor_writer_finish(&w, NULL) != SCITT_OK) {
        cl_violation("client %u cannot build the registered form", c->id);
        scitt_dynbuf_clear(&stmt);
        return false;
    }
    int n = snprintf(head, sizeof(head),
                     "POST /entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/cose\r\nContent-Length: %zu\r\n\r\n",
                     stmt.len);
    bool ok = cl_send(fd, head, (size_t)n) && cl_send(fd, stmt.ptr, stmt.len);
    scitt_dynbuf_clear(&stmt);
    return ok;
}

/* Checks one answer against its request and records what it acknowledges. */
static void cl_answer(cl_client *c, cl_req *q, const cl_resp *r)
{
    scitt_span body = scitt_span_make(r->body, r->body_len);
    if (q->kind == REQ_CHECKPOINT) {
        if (r->status == 503) {
            return; /* the database out of reach: nothing served, nothing to check */
        }
        scitt_checkpoint cp;
        if (r->status != 200 || scitt_checkpoint_open(body, &CL.vkey, 1, scitt_span_str(CL.origin),
                                                      &cp, NULL) != SCITT_OK) {
            cl_violation("client %u: /checkpoint answered %d with a note that does not verify",
                         c->id, r->status);
            return;
        }
        cl_add_head(cp.size, cp.root);
        return;
    }
    if (r->status == 503) {
        return; /* e.g. the ledger stopping: not acknowledged, nothing to check */
    }
    if (r->status != 201) {
        cl_violation("client %u: registration answered %d: %.*s", c->id, r->status,
                     (int)(r->body_len < 200 ? r->body_len : 200), (const char *)r->body);
        return;
    }
    scitt_span entry = scitt_span_make(q->entry.ptr, q->entry.len);
    uint8_t id[32];
    char hex[65], loc[96];
    scitt_sha256(entry.ptr, entry.len, id);
    if (scitt_hex_encode(scitt_span_make(id, 32), hex, sizeof(hex)) != SCITT_OK) {
        return;
    }
    snprintf(loc, sizeof(loc), "/entries/%s", hex);
    if (strcmp(r->location, loc) != 0) {
        cl_violation("client %u: 201 with Location \"%s\", wanted %s", c->id, r->location, loc);
        return;
    }
    scitt_receipt_info info;
    scitt_err e = scitt_receipt_verify_inclusion(body, entry, CL.keys, SD_VERIFY_FLAGS, &info);
    if (e != SCITT_OK) {
        cl_violation("client %u: the receipt of a 201 does not verify: %s", c->id,
                     scitt_err_name(e));
        return;
    }
    cl_add_head(info.tree_size, info.root);
    if (q->kind == REQ_AGAIN) {
        if (info.leaf_index != q->want_index) {
            cl_violation("entry %s registered again at index %llu, acknowledged before at %llu",
                         hex, (unsigned long long)info.leaf_index,
                         (unsigned long long)q->want_index);
        }
        atomic_fetch_add(&CL.resubmits, 1);
        return;
    }
    cl_add_ack(entry, id, info.leaf_index, body);
}

/* Keeps up to depth requests in flight until told to stop or the server goes away. */
static void *cl_main(void *arg)
{
    cl_client *c = arg;
    int fd = it_connect_fd(c->port ? c->port : CL.port);
    if (fd < 0) {
        return NULL;
    }
    cl_conn conn = {fd, malloc(1u << 20), 0, 1u << 20};
    cl_req q[CL_MAX_DEPTH];
    size_t head = 0, inflight = 0, consumed = 0;
    bool alive = conn.buf != NULL;
    while (alive) {
        bool stopping = atomic_load(&CL.stop);
        while (!stopping && inflight < c->depth) {
            cl_req *slot = &q[(head + inflight) % CL_MAX_DEPTH];
            inflight++;
            c->sent++;
            if (!cl_issue(c, fd, slot)) {
                alive = false;
                break;
            }
        }
        if (!alive || inflight == 0) {
            break;
        }
        cl_resp r;
        if (!cl_read(&conn, &r, &consumed)) {
            break;
        }
        cl_answer(c, &q[head], &r);
        c->answered++;
        scitt_dynbuf_clear(&q[head].entry);
        head = (head + 1) % CL_MAX_DEPTH;
        inflight--;
    }
    for (size_t i = 0; i < inflight; i++) {
        scitt_dynbuf_clear(&q[(head + i) % CL_MAX_DEPTH].entry);
    }
    free(conn.buf);
    close(fd);
    return NULL;
}

#endif /* SCITT_CRASH_LOAD_H */
