/*
 * GET /query: entries matching every given field (iss, sub, digest, registration time), in index
 * order, paginated by a cursor. One index is walked (digest, else sub, else iss, else the time
 * range) and each candidate entry is read and checked against all fields, so hash collisions in
 * the index never show. CBOR by default, JSON with Accept: application/json.
 */
#include "scittd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/json.h"

#define QUERY_MAX_SCAN 100000 /* candidates read per request, bounding the work */

typedef struct row {
    uint64_t index;
    uint8_t id[SCITT_HASH_LEN];
    int64_t time_ms;
} row;

typedef struct run {
    scittd *d;
    scitt_ledger_read *r;
    const scittd_query *q;
    row rows[SCITTD_QUERY_MAX_LIMIT];
    size_t nrows;
    size_t scanned;
    uint64_t next;        /* cursor for the next page, 0 when done */
    scitt_tree_head head; /* the head covering the last row, reused for its neighbours */
    bool have_head;
} run;

static scitt_err size_at_time(void *ctx, int64_t ms, uint64_t *size)
{
    return scitt_ledger_size_at_time(ctx, ms, size);
}

/* Reads entry @p index and checks every field; adds a row when it matches. */
static scitt_err visit(void *ctx, uint64_t index)
{
    run *u = ctx;
    if (index >= u->q->to) {
        return SCITT_ERR_STATE;
    }
    if (u->nrows == u->q->limit || ++u->scanned > QUERY_MAX_SCAN) {
        u->next = index;
        return SCITT_ERR_STATE;
    }
    scitt_span entry;
    scitt_err e = scitt_ledger_entry(u->r, index, &entry);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_cose_sign1 m;
    if (scitt_cose_sign1_decode(entry, 0, &m) != SCITT_OK) {
        return SCITT_OK;
    }
    const scitt_cose_headers *h = &m.hdr;
    if ((u->q->has_iss && !scitt_span_eq(h->cwt.iss, scitt_span_make(u->q->iss, u->q->iss_len))) ||
        (u->q->has_sub && !scitt_span_eq(h->cwt.sub, scitt_span_make(u->q->sub, u->q->sub_len)))) {
        return SCITT_OK;
    }
    if (u->q->has_digest) {
        uint8_t sha[32];
        scitt_span dig = m.payload;
        if (!(h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG)) {
            scitt_sha256(m.payload.ptr, m.payload.len, sha);
            dig = scitt_span_make(sha, 32);
        }
        if (!scitt_span_eq(dig, scitt_span_make(u->q->digest, u->q->digest_len))) {
            return SCITT_OK;
        }
    }
    row *rw = &u->rows[u->nrows++];
    rw->index = index;
    scitt_sha256(entry.ptr, entry.len, rw->id);
    if (!u->have_head || u->head.size <= index) {
        if (scitt_ledger_head_covering(u->r, index, &u->head) == SCITT_OK) {
            u->have_head = true;
        }
    }
    rw->time_ms = u->have_head ? u->head.time_ms : 0;
    return SCITT_OK;
}

/* The fields of a row, re-read from its entry for the response. */
static void emit_row(run *u, const row *rw, scitt_cbor_writer *w, scitt_json_writer *js)
{
    scitt_span entry;
    scitt_cose_sign1 m;
    if (scitt_ledger_entry(u->r, rw->index, &entry) != SCITT_OK ||
        scitt_cose_sign1_decode(entry, 0, &m) != SCITT_OK) {
        return;
    }
    const scitt_cose_headers *h = &m.hdr;
    char id[65], dig[129] = "";
    scitt_entry_id_hex(rw->id, id);
    uint8_t sha[32];
    scitt_span d = m.payload;
    bool envelope = (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
    if (!envelope) {
        scitt_sha256(m.payload.ptr, m.payload.len, sha);
        d = scitt_span_make(sha, 32);
    }
    if ((!m.detached || envelope) && scitt_hex_encode(d, dig, sizeof(dig)) != SCITT_OK) {
        dig[0] = 0; /* a digest longer than SHA-512 is not reported */
    }
    const scitt_cose_uint_or_text *t = envelope ? &h->preimage_content_type : &h->content_type;
    char ctype[256] = "";
    if (t->present && t->is_text) {
        snprintf(ctype, sizeof(ctype), "%.*s", (int)(t->text.len < 255 ? t->text.len : 255),
                 (const char *)t->text.ptr);
    } else if (t->present) {
        snprintf(ctype, sizeof(ctype), "%llu", (unsigned long long)t->num);
    }
    if (js) {
        scitt_json_begin_object(js);
        scitt_json_put_key(js, "entry_id");
        scitt_json_put_cstr(js, id);
        scitt_json_put_key(js, "index");
        scitt_json_put_uint(js, rw->index);
        scitt_json_put_key(js, "registered");
        scitt_json_put_int(js, rw->time_ms / 1000);
        scitt_json_put_key(js, "iss");
        scitt_json_put_text(js, h->cwt.iss);
        scitt_json_put_key(js, "sub");
        scitt_json_put_text(js, h->cwt.sub);
        scitt_json_put_key(js, "content_type");
        scitt_json_put_cstr(js, ctype);
        scitt_json_put_key(js, "digest");
        scitt_json_put_cstr(js, dig);
        scitt_json_end_object(js);
        return;
    }
    /* keys in deterministic order: by length, then bytewise */
    scitt_cbor_put_map(w, 7);
    scitt_cbor_put_cstr(w, "iss");
    scitt_cbor_put_text(w, h->cwt.iss);
    scitt_cbor_put_cstr(w, "sub");
    scitt_cbor_put_text(w, h->cwt.sub);
    scitt_cbor_put_cstr(w, "index");
    scitt_cbor_put_uint(w, rw->index);
    scitt_cbor_put_cstr(w, "digest");
    scitt_cbor_put_cstr(w, dig);
    scitt_cbor_put_cstr(w, "entry_id");
    scitt_cbor_put_cstr(w, id);
    scitt_cbor_put_cstr(w, "registered");
    scitt_cbor_put_int(w, rw->time_ms / 1000);
    scitt_cbor_put_cstr(w, "content_type");
    scitt_cbor_put_cstr(w, ctype);
}

static void query_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    scittd_query q;
    scitt_tree_head h;
    uint64_t size = scitt_ledger_latest(r, &h) == SCITT_OK ? h.size : 0;
    const char *bad = scittd_query_parse(scitt_http_req_query(req), size, size_at_time, r, &q);
    if (bad) {
        scittd_problem(req, 400, "Malformed request", bad);
        return;
    }
    scitt_span accept;
    q.json = scitt_http_req_header(req, "Accept", &accept) &&
             memmem(accept.ptr, accept.len, "application/json", 16) != NULL;
    run *u = scitt_calloc(1, sizeof(*u));
    if (!u) {
        scittd_problem(req, 503, "Service Unavailable", "out of memory");
        return;
    }
    u->d = d;
    u->r = r;
    u->q = &q;
    scitt_err e = SCITT_OK;
    if (q.from < q.to) {
        if (q.has_digest) {
            e = scitt_ledger_postings(r, SCITT_INDEX_DIGEST,
                                      scitt_span_make(q.digest, q.digest_len), q.from, visit, u);
        } else if (q.has_sub) {
            e = scitt_ledger_postings(r, SCITT_INDEX_SUB, scitt_span_make(q.sub, q.sub_len), q.from,
                                      visit, u);
        } else if (q.has_iss) {
            e = scitt_ledger_postings(r, SCITT_INDEX_ISS, scitt_span_make(q.iss, q.iss_len), q.from,
                                      visit, u);
        } else {
            for (uint64_t i = q.from; i < q.to && e == SCITT_OK; i++) {
                e = visit(u, i);
            }
            e = e == SCITT_ERR_STATE ? SCITT_OK : e;
        }
    }
    if (e != SCITT_OK) {
        scittd_fail(req, e, "the query could not be answered");
        scitt_free(u);
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    if (q.json) {
        scitt_json_writer js;
        scitt_json_writer_init(&js, &b);
        scitt_json_begin_object(&js);
        scitt_json_put_key(&js, "entries");
        scitt_json_begin_array(&js);
        for (size_t i = 0; i < u->nrows; i++) {
            emit_row(u, &u->rows[i], NULL, &js);
        }
        scitt_json_end_array(&js);
        scitt_json_put_key(&js, "next");
        if (u->next) {
            scitt_json_put_uint(&js, u->next);
        } else {
            scitt_json_put_null(&js);
        }
        scitt_json_end_object(&js);
        if (scitt_json_writer_finish(&js) != SCITT_OK) {
            b.err = SCITT_ERR_NOMEM;
        }
        scitt_dynbuf_str(&b, "\n");
    } else {
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &b);
        scitt_cbor_put_map(&w, 2);
        scitt_cbor_put_cstr(&w, "next");
        if (u->next) {
            scitt_cbor_put_uint(&w, u->next);
        } else {
            scitt_cbor_put_null(&w);
        }
        scitt_cbor_put_cstr(&w, "entries");
        scitt_cbor_put_array(&w, u->nrows);
        for (size_t i = 0; i < u->nrows; i++) {
            emit_row(u, &u->rows[i], &w, NULL);
        }
        if (scitt_cbor_writer_finish(&w, NULL) != SCITT_OK) {
            b.err = SCITT_ERR_NOMEM;
        }
    }
    scitt_free(u);
    if (b.err != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scittd_problem(req, 500, "Internal Server Error", "response too large");
        return;
    }
    scitt_http_res_status(req, 200);
    scittd_body(req, q.json ? "application/json" : "application/cbor",
                scitt_span_make(b.ptr, b.len));
    scitt_dynbuf_clear(&b);
}

void scittd_route_query(scitt_http_req *req, void *ctx)
{
    scittd_offload_read(ctx, req, query_read);
}
