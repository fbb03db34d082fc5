/*
 * GET /events: a server-sent-events stream of new entries, filterable by iss, sub and payload
 * digest, resumable with Last-Event-ID (the index of the last entry received) or ?from=INDEX.
 *
 * One timer on the loop thread (every EVENTS_TICK_MS) starts a read on the worker pool that
 * formats the entries appended since the last tick; back on the loop they go to every subscriber
 * that is caught up. A subscriber that is behind (it resumed, or its buffer was full) catches up
 * with reads of its own, paced by how fast it drains its buffer. Bounds (docs/explorer.md):
 *  - EVENTS_MAX_SUBSCRIBERS streams at once; more get 503 with Retry-After.
 *  - EVENTS_BUFFER unsent bytes per subscriber (allocated once by the HTTP layer). A caught-up
 *    subscriber whose buffer cannot take a new event is dropped, not buffered without limit: it
 *    reconnects with Last-Event-ID and catches up at its own pace. A reader that stops reading
 *    is also cut by the HTTP layer's send timeout.
 *  - EVENTS_BATCH entries per read, so one tick never holds a snapshot for long.
 * Event ids are entry indexes; a "checkpoint" event (no id) announces each new tree size, and a
 * comment line every EVENTS_HEARTBEAT_MS lets dead connections be noticed.
 */
#include "scittd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/json.h"

#define EVENTS_MAX_SUBSCRIBERS 1024
#define EVENTS_BUFFER          (64 * 1024)
#define EVENTS_BATCH           1024
#define EVENTS_TICK_MS         50
#define EVENTS_HEARTBEAT_MS    15000
#define EVENTS_TEXT_MAX        1024 /* iss/sub longer than this are shown cut (filters are shorter) */
#define UNSET                  UINT64_MAX

typedef struct sub {
    struct sub *prev, *next;
    struct scittd_events *ev;
    scitt_http_req *req;
    scittd_query f;      /* iss, sub, digest filters (the rest unused) */
    uint64_t next_index; /* first entry this subscriber has not been sent */
    bool busy;           /* a catch-up read is in flight */
    bool closed;         /* the request is gone */
} sub;

typedef struct rec {
    uint64_t index;
    char iss[EVENTS_TEXT_MAX], sub[EVENTS_TEXT_MAX];
    size_t iss_len, sub_len;
    bool iss_cut, sub_cut;
    uint8_t digest[64];
    size_t dlen;
    size_t off, len; /* the event's text in job->text */
} rec;

typedef struct job {
    uv_work_t work;
    struct scittd_events *ev;
    sub *target;       /* NULL: the live read */
    uint64_t from, to; /* in: from and a limit; out: [from, to) read */
    uint64_t size;     /* the latest tree size */
    bool skip;         /* only the size is wanted */
    rec *recs;
    size_t n;
    scitt_dynbuf text;
    scitt_err err;
} job;

struct scittd_events {
    scittd *d;
    uv_timer_t timer;
    sub *subs;
    size_t nsubs;
    uint64_t published; /* entries below this were given to caught-up subscribers */
    bool live_busy, stopping;
    uint64_t last_beat;
};

/* ---- formatting (worker thread) ---- */

static void put_rec(job *j, scitt_ledger_read *r, uint64_t index, scitt_tree_head *head,
                    bool *have_head)
{
    scitt_span entry;
    scitt_cose_sign1 m;
    if (scitt_ledger_entry(r, index, &entry) != SCITT_OK ||
        scitt_cose_sign1_decode(entry, 0, &m) != SCITT_OK) {
        return; /* nothing to say about an entry that does not decode (none should exist) */
    }
    const scitt_cose_headers *h = &m.hdr;
    rec *c = &j->recs[j->n++];
    c->index = index;
    c->iss_cut = h->cwt.iss.len > sizeof(c->iss);
    c->iss_len = c->iss_cut ? sizeof(c->iss) : h->cwt.iss.len;
    memcpy(c->iss, h->cwt.iss.ptr, c->iss_len);
    c->sub_cut = h->cwt.sub.len > sizeof(c->sub);
    c->sub_len = c->sub_cut ? sizeof(c->sub) : h->cwt.sub.len;
    memcpy(c->sub, h->cwt.sub.ptr, c->sub_len);
    bool envelope = (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
    c->dlen = 0;
    if (envelope && m.payload.len <= sizeof(c->digest)) {
        memcpy(c->digest, m.payload.ptr, m.payload.len);
        c->dlen = m.payload.len;
    } else if (!envelope && !m.detached) {
        scitt_sha256(m.payload.ptr, m.payload.len, c->digest);
        c->dlen = 32;
    }
    if (!*have_head || head->size <= index) {
        *have_head = scitt_ledger_head_covering(r, index, head) == SCITT_OK;
    }
    uint8_t id[SCITT_HASH_LEN];
    char idhex[65], dig[129] = "";
    scitt_sha256(entry.ptr, entry.len, id);
    scitt_entry_id_hex(id, idhex);
    if (c->dlen && scitt_hex_encode(scitt_span_make(c->digest, c->dlen), dig, sizeof(dig))) {
        dig[0] = 0;
    }
    const scitt_cose_uint_or_text *t = envelope ? &h->preimage_content_type : &h->content_type;
    char ctype[256] = "";
    if (t->present && t->is_text) {
        snprintf(ctype, sizeof(ctype), "%.*s", (int)(t->text.len < 255 ? t->text.len : 255),
                 (const char *)t->text.ptr);
    } else if (t->present) {
        snprintf(ctype, sizeof(ctype), "%llu", (unsigned long long)t->num);
    }
    scitt_dynbuf *b = &j->text;
    c->off = b->len;
    scitt_dynbuf_printf(b,
                        "id: %llu\nevent: entry\ndata: {\"index\":%llu,\"entry_id\":\"%s\","
                        "\"registered\":%lld,\"iss\":",
                        (unsigned long long)index, (unsigned long long)index, idhex,
                        (long long)(*have_head ? head->time_ms / 1000 : 0));
    scitt_json_put_string(b, scitt_span_make(c->iss, c->iss_len));
    scitt_dynbuf_str(b, ",\"sub\":");
    scitt_json_put_string(b, scitt_span_make(c->sub, c->sub_len));
    scitt_dynbuf_str(b, ",\"content_type\":");
    scitt_json_put_string(b, scitt_span_str(ctype));
    scitt_dynbuf_printf(b, ",\"digest\":\"%s\"}\n\n", dig);
    c->len = b->len - c->off;
}

static void job_work(uv_work_t *w)
{
    job *j = w->data;
    scitt_ledger_read *r;
    j->err = scitt_ledger_read_begin(scitt_service_ledger(j->ev->d->svc), &r);
    if (j->err != SCITT_OK) {
        return;
    }
    scitt_tree_head head;
    j->err = scitt_ledger_latest(r, &head);
    j->size = j->err == SCITT_OK ? head.size : 0;
    uint64_t end = j->size < j->to ? j->size : j->to;
    if (j->skip || j->from >= end) {
        j->to = j->skip ? j->size : j->from; /* skipping: everything up to now counts as given */
        scitt_ledger_read_end(r);
        return;
    }
    if (end - j->from > EVENTS_BATCH) {
        end = j->from + EVENTS_BATCH;
    }
    j->recs = scitt_calloc((size_t)(end - j->from), sizeof(rec));
    if (!j->recs) {
        j->err = SCITT_ERR_NOMEM;
        scitt_ledger_read_end(r);
        return;
    }
    bool have = false;
    for (uint64_t i = j->from; i < end; i++) {
        put_rec(j, r, i, &head, &have);
    }
    j->to = end;
    if (j->text.err != SCITT_OK) {
        j->err = j->text.err;
    }
    scitt_ledger_read_end(r);
}

/* ---- subscribers (loop thread) ---- */

static bool matches(const sub *s, const rec *c)
{
    const scittd_query *f = &s->f;
    if (f->has_iss && (c->iss_cut || !scitt_span_eq(scitt_span_make(c->iss, c->iss_len),
                                                    scitt_span_make(f->iss, f->iss_len)))) {
        return false;
    }
    if (f->has_sub && (c->sub_cut || !scitt_span_eq(scitt_span_make(c->sub, c->sub_len),
                                                    scitt_span_make(f->sub, f->sub_len)))) {
        return false;
    }
    return !f->has_digest || scitt_span_eq(scitt_span_make(c->digest, c->dlen),
                                           scitt_span_make(f->digest, f->digest_len));
}

static void sub_free(sub *s)
{
    scitt_free(s);
}

/* The HTTP layer released the stream: unlink now, free once no read refers to it. */
static void on_stream_closed(void *ctx)
{
    sub *s = ctx;
    scittd_events *ev = s->ev;
    s->closed = true;
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        ev->subs = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    ev->nsubs--;
    if (!s->busy) {
        sub_free(s);
    }
}

/* Queues @p text; a subscriber that cannot take it is dropped when @p drop, else false. */
static bool sub_write(sub *s, const char *text, size_t len, bool drop)
{
    if (s->closed) {
        return false;
    }
    scitt_err e = scitt_http_stream_write(s->req, scitt_span_make(text, len));
    if (e == SCITT_OK) {
        return true;
    }
    if (drop) {
        SCITT_LOG(SCITT_LOG_INFO, "events_drop", "req=%llu reason=slow_reader pending=%zu",
                  (unsigned long long)scitt_http_req_id(s->req), scitt_http_stream_pending(s->req));
        scitt_http_stream_end(s->req, false); /* may run on_stream_closed at once */
    }
    return false;
}

static void job_free(job *j)
{
    scitt_free(j->recs);
    scitt_dynbuf_clear(&j->text);
    scitt_free(j);
}

static void live_done(job *j)
{
    scittd_events *ev = j->ev;
    ev->live_busy = false;
    if (j->err != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_WARN, "events", "err=%s", scitt_err_str(j->err));
        return;
    }
    uint64_t from = ev->published == UNSET ? j->to : ev->published;
    if (ev->published == UNSET || j->skip) {
        ev->published = j->to;
        for (sub *s = ev->subs; s; s = s->next) {
            if (s->next_index == UNSET) {
                s->next_index = ev->published;
            }
        }
        return;
    }
    for (sub *s = ev->subs, *nx; s; s = nx) {
        nx = s->next;
        if (s->next_index != from) {
            continue; /* behind: it catches up on its own */
        }
        bool ok = true;
        for (size_t i = 0; i < j->n && ok; i++) {
            if (matches(s, &j->recs[i])) {
                ok = sub_write(s, (const char *)j->text.ptr + j->recs[i].off, j->recs[i].len, true);
            }
        }
        if (ok && j->to == j->size && j->to > from) {
            char cp[64];
            int n = snprintf(cp, sizeof(cp), "event: checkpoint\ndata: {\"size\":%llu}\n\n",
                             (unsigned long long)j->size);
            ok = sub_write(s, cp, (size_t)n, true);
        }
        if (ok) {
            s->next_index = j->to;
        }
    }
    ev->published = j->to;
}

static void catchup_done(job *j)
{
    sub *s = j->target;
    s->busy = false;
    if (s->closed) {
        sub_free(s);
        return;
    }
    if (j->err != SCITT_OK) {
        return; /* tried again at the next tick */
    }
    uint64_t next = j->to;
    for (size_t i = 0; i < j->n; i++) {
        if (matches(s, &j->recs[i]) &&
            !sub_write(s, (const char *)j->text.ptr + j->recs[i].off, j->recs[i].len, false)) {
            next = j->recs[i].index; /* buffer full: go on from here once it drains */
            break;
        }
    }
    if (!s->closed) {
        s->next_index = next;
    }
}

static void job_done(uv_work_t *w, int status)
{
    (void)status;
    job *j = w->data;
    if (j->target) {
        catchup_done(j);
    } else if (!j->ev->stopping) {
        live_done(j);
    } else {
        j->ev->live_busy = false;
    }
    job_free(j);
}

static bool start_job(scittd_events *ev, sub *target, uint64_t from, uint64_t to, bool skip)
{
    job *j = scitt_calloc(1, sizeof(*j));
    if (!j) {
        return false;
    }
    j->ev = ev;
    j->target = target;
    j->from = from;
    j->to = to;
    j->skip = skip;
    scitt_dynbuf_init(&j->text, 0);
    j->work.data = j;
    if (uv_queue_work(ev->d->loop, &j->work, job_work, job_done) != 0) {
        job_free(j);
        return false;
    }
    return true;
}

static void on_tick(uv_timer_t *t)
{
    scittd_events *ev = t->data;
    if (!ev->live_busy) {
        uint64_t from = ev->published == UNSET ? 0 : ev->published;
        ev->live_busy =
            start_job(ev, NULL, from, UINT64_MAX, ev->nsubs == 0 || ev->published == UNSET);
    }
    uint64_t now = uv_now(ev->d->loop);
    bool beat = now - ev->last_beat >= EVENTS_HEARTBEAT_MS;
    if (beat) {
        ev->last_beat = now;
    }
    for (sub *s = ev->subs, *nx; s; s = nx) {
        nx = s->next;
        if (beat && !sub_write(s, ":\n\n", 3, true)) {
            continue;
        }
        if (!s->busy && ev->published != UNSET && s->next_index < ev->published &&
            scitt_http_stream_pending(s->req) < EVENTS_BUFFER / 2) {
            s->busy = start_job(ev, s, s->next_index, ev->published, false);
        }
    }
}

scitt_err scittd_events_init(scittd *d)
{
    scittd_events *ev = scitt_calloc(1, sizeof(*ev));
    if (!ev) {
        return SCITT_ERR_NOMEM;
    }
    ev->d = d;
    ev->published = UNSET;
    if (uv_timer_init(d->loop, &ev->timer) != 0) {
        scitt_free(ev);
        return SCITT_ERR_IO;
    }
    ev->timer.data = ev;
    ev->last_beat = uv_now(d->loop);
    uv_timer_start(&ev->timer, on_tick, 0, EVENTS_TICK_MS);
    d->events = ev;
    return SCITT_OK;
}

static void on_timer_closed(uv_handle_t *h)
{
    (void)h;
}

void scittd_events_stop(scittd *d)
{
    scittd_events *ev = d->events;
    if (!ev || ev->stopping) {
        return;
    }
    ev->stopping = true;
    uv_timer_stop(&ev->timer);
    uv_close((uv_handle_t *)&ev->timer, on_timer_closed);
    for (sub *s = ev->subs, *nx; s; s = nx) {
        nx = s->next;
        scitt_http_stream_end(s->req, false);
    }
}

static scitt_err no_time(void *ctx, int64_t ms, uint64_t *size)
{
    (void)ctx;
    (void)ms;
    (void)size;
    return SCITT_ERR_INVALID_ARG;
}

void scittd_route_events(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scittd_events *ev = d->events;
    if (!ev || ev->stopping) {
        scittd_problem(req, 503, "Service Unavailable", "the event stream is not running");
        scitt_http_complete(req);
        return;
    }
    sub *s = scitt_calloc(1, sizeof(*s));
    if (!s) {
        scittd_problem(req, 503, "Service Unavailable", "out of memory");
        scitt_http_complete(req);
        return;
    }
    /* iss, sub, digest as in GET /query (a sha256: prefix on the digest is accepted) */
    scitt_span qs = scitt_http_req_query(req), dg;
    char qbuf[4096];
    if (scitt_http_req_query_param(req, "digest", &dg) && dg.len > 7 &&
        (memcmp(dg.ptr, "sha256:", 7) == 0 || memcmp(dg.ptr, "sha256%3A", 9) == 0) &&
        qs.len < sizeof(qbuf)) {
        /* drop the prefix by rewriting the query without it */
        size_t skip = memcmp(dg.ptr, "sha256:", 7) == 0 ? 7 : 9;
        size_t at = (size_t)(dg.ptr - qs.ptr);
        memcpy(qbuf, qs.ptr, at);
        memcpy(qbuf + at, dg.ptr + skip, qs.len - at - skip);
        qs = scitt_span_make(qbuf, qs.len - skip);
    }
    const char *bad = scittd_query_parse(qs, UINT64_MAX, no_time, NULL, &s->f);
    uint64_t last = 0, from = 0;
    scitt_span v;
    bool has_last = scitt_http_req_header(req, "Last-Event-ID", &v);
    if (!bad && has_last && !scittd_parse_u64(v, &last)) {
        bad = "Last-Event-ID must be the index of an entry";
    }
    bool has_from = !has_last && scitt_http_req_query_param(req, "from", &v);
    if (!bad && has_from && !scittd_parse_u64(v, &from)) {
        bad = "from must be an entry index";
    }
    if (bad) {
        scitt_free(s);
        scittd_problem(req, 400, "Malformed request", bad);
        scitt_http_complete(req);
        return;
    }
    if (ev->nsubs >= EVENTS_MAX_SUBSCRIBERS) {
        scitt_free(s);
        scittd_header(req, "Retry-After", "5");
        scittd_problem(req, 503, "Service Unavailable", "too many event subscribers");
        scitt_http_complete(req);
        return;
    }
    if (scitt_http_req_method(req) == SCITT_HTTP_HEAD) {
        scitt_free(s);
        scitt_http_res_status(req, 200);
        scittd_body(req, "text/event-stream", scitt_span_make("", 0));
        scitt_http_complete(req);
        return;
    }
    s->ev = ev;
    s->req = req;
    s->next_index = has_last ? last + 1 : has_from ? from : ev->published;
    if (s->next_index == UINT64_MAX) { /* Last-Event-ID: 18446744073709551615 */
        s->next_index = ev->published;
    }
    scitt_http_res_status(req, 200);
    scittd_header(req, "Cache-Control", "no-store");
    scittd_header(req, "X-Accel-Buffering", "no");
    s->next = ev->subs;
    if (ev->subs) {
        ev->subs->prev = s;
    }
    ev->subs = s;
    ev->nsubs++;
    if (scitt_http_stream_start(req, "text/event-stream", EVENTS_BUFFER, on_stream_closed, s) !=
        SCITT_OK) {
        return; /* answered, and on_stream_closed has run */
    }
    static const char hello[] = "retry: 2000\n\n";
    (void)sub_write(s, hello, sizeof(hello) - 1, true);
}
