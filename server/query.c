/*
 * GET /query: entries matching every given field (iss, sub, digest, registration time), in index
 * order, paginated by a cursor. One index is walked (digest, else sub, else iss, else the time
 * range) and each candidate entry is read and checked against all fields, so hash collisions in
 * the index never show. CBOR by default, JSON with Accept: application/json. Each row is encoded
 * as its entry is read, so the entry is decoded once and the page's size is known as it grows.
 */
#include "scittd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/json.h"

#define QUERY_MAX_SCAN 100000 /* candidates read per request, bounding the work */

typedef struct run {
    scittd *d;
    scitt_ledger_read *r;
    const scittd_query *q;
    scitt_dynbuf rows;   /* the encoded rows of the page, in order (JSON: the page so far) */
    scitt_json_writer j; /* JSON: the whole page is written through it, into rows */
    size_t base;         /* JSON: bytes of the page before its first row */
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

/* @p s cut to its longest valid UTF-8 prefix: text in a page must never break its encoding. */
static scitt_span utf8(scitt_span s)
{
    s.len = scitt_http_utf8_prefix(s);
    return s;
}

/* Appends the row of entry @p index (decoded as @p m) to the page. */
static void emit_row(run *u, uint64_t index, scitt_span entry, const scitt_cose_sign1 *m,
                     int64_t time_ms)
{
    const scitt_cose_headers *h = &m->hdr;
    uint8_t idb[SCITT_HASH_LEN];
    scitt_sha256(entry.ptr, entry.len, idb);
    char id[65], dig[129] = "";
    scitt_entry_id_hex(idb, id);
    uint8_t sha[32];
    scitt_span d = m->payload;
    bool envelope = (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
    if (!envelope) {
        scitt_sha256(m->payload.ptr, m->payload.len, sha);
        d = scitt_span_make(sha, 32);
    }
    if ((!m->detached || envelope) && scitt_hex_encode(d, dig, sizeof(dig)) != SCITT_OK) {
        dig[0] = 0; /* a digest longer than SHA-512 is not reported */
    }
    const scitt_cose_uint_or_text *t = envelope ? &h->preimage_content_type : &h->content_type;
    char ctype[256] = "";
    if (t->present && t->is_text) {
        /* At most 255 bytes, cut before a character, never inside one. */
        size_t n = t->text.len < 255 ? t->text.len : 255;
        while (n > 0 && n < t->text.len && (t->text.ptr[n] & 0xc0) == 0x80) {
            n--;
        }
        n = scitt_http_utf8_prefix(scitt_span_make(t->text.ptr, n));
        memcpy(ctype, t->text.ptr, n);
        ctype[n] = 0;
    } else if (t->present) {
        snprintf(ctype, sizeof(ctype), "%llu", (unsigned long long)t->num);
    }
    scitt_span iss = utf8(h->cwt.iss), sub = utf8(h->cwt.sub);
    scitt_dynbuf *b = &u->rows;
    if (u->q->json) {
        scitt_json_writer *j = &u->j;
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "entry_id");
        scitt_json_put_cstr(j, id);
        scitt_json_put_key(j, "index");
        scitt_json_put_uint(j, index);
        scitt_json_put_key(j, "registered");
        scitt_json_put_int(j, time_ms / 1000);
        scitt_json_put_key(j, "iss");
        scitt_json_put_text(j, iss);
        scitt_json_put_key(j, "sub");
        scitt_json_put_text(j, sub);
        scitt_json_put_key(j, "content_type");
        scitt_json_put_cstr(j, ctype);
        scitt_json_put_key(j, "digest");
        scitt_json_put_cstr(j, dig);
        scitt_json_end_object(j);
        if (j->err != SCITT_OK && b->err == SCITT_OK) {
            b->err = j->err;
        }
        return;
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, b);
    /* keys in deterministic order: by length, then bytewise */
    scitt_cbor_put_map(&w, 7);
    scitt_cbor_put_cstr(&w, "iss");
    scitt_cbor_put_text(&w, iss);
    scitt_cbor_put_cstr(&w, "sub");
    scitt_cbor_put_text(&w, sub);
    scitt_cbor_put_cstr(&w, "index");
    scitt_cbor_put_uint(&w, index);
    scitt_cbor_put_cstr(&w, "digest");
    scitt_cbor_put_cstr(&w, dig);
    scitt_cbor_put_cstr(&w, "entry_id");
    scitt_cbor_put_cstr(&w, id);
    scitt_cbor_put_cstr(&w, "registered");
    scitt_cbor_put_int(&w, time_ms / 1000);
    scitt_cbor_put_cstr(&w, "content_type");
    scitt_cbor_put_cstr(&w, ctype);
    if (w.err != SCITT_OK && b->err == SCITT_OK) {
        b->err = w.err;
    }
}

/*
 * Reads entry @p index and checks every field; a match becomes a row of the page. The page ends
 * at the row limit, after SCITTD_QUERY_MAX_SCAN candidates, or when it would pass
 * SCITTD_QUERY_PAGE_BYTES (a page always holds at least one row); the cursor then points at the
 * first entry left out.
 */
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
    if (!u->have_head || u->head.size <= index) {
        if (scitt_ledger_head_covering(u->r, index, &u->head) == SCITT_OK) {
            u->have_head = true;
        }
    }
    size_t before = u->rows.len;
    scitt_json_writer saved = u->j; /* plain state: restored with the length to drop a row */
    emit_row(u, index, entry, &m, u->have_head ? u->head.time_ms : 0);
    if (u->rows.err != SCITT_OK) {
        return u->rows.err;
    }
    if (u->nrows > 0 && u->rows.len - u->base > SCITTD_QUERY_PAGE_BYTES) {
        u->rows.len = before; /* this row opens the next page */
        u->j = saved;
        u->next = index;
        return SCITT_ERR_STATE;
    }
    u->nrows++;
    return SCITT_OK;
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
    run u;
    memset(&u, 0, sizeof(u));
    u.d = d;
    u.r = r;
    u.q = &q;
    scitt_dynbuf_init(&u.rows, 0);
    if (q.json) {
        /* {"entries": [rows...], "next": cursor or null}, every byte through the writer */
        scitt_json_writer_init(&u.j, &u.rows);
        scitt_json_begin_object(&u.j);
        scitt_json_put_key(&u.j, "entries");
        scitt_json_begin_array(&u.j);
        u.base = u.rows.len;
    }
    scitt_err e = SCITT_OK;
    if (q.from < q.to) {
        if (q.has_digest) {
            e = scitt_ledger_postings(r, SCITT_INDEX_DIGEST,
                                      scitt_span_make(q.digest, q.digest_len), q.from, visit, &u);
        } else if (q.has_sub) {
            e = scitt_ledger_postings(r, SCITT_INDEX_SUB, scitt_span_make(q.sub, q.sub_len), q.from,
                                      visit, &u);
        } else if (q.has_iss) {
            e = scitt_ledger_postings(r, SCITT_INDEX_ISS, scitt_span_make(q.iss, q.iss_len), q.from,
                                      visit, &u);
        } else {
            for (uint64_t i = q.from; i < q.to && e == SCITT_OK; i++) {
                e = visit(&u, i);
            }
            e = e == SCITT_ERR_STATE ? SCITT_OK : e;
        }
    }
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&u.rows);
        scittd_fail(req, e, "the query could not be answered");
        return;
    }
    scitt_dynbuf b;
    if (q.json) {
        scitt_json_end_array(&u.j);
        scitt_json_put_key(&u.j, "next");
        if (u.next) {
            scitt_json_put_uint(&u.j, u.next);
        } else {
            scitt_json_put_null(&u.j);
        }
        scitt_json_end_object(&u.j);
        e = scitt_json_writer_finish(&u.j);
        scitt_dynbuf_u8(&u.rows, '\n');
        if (e != SCITT_OK) {
            scitt_dynbuf_clear(&u.rows);
            scittd_fail(req, e, "the query could not be answered");
            return;
        }
        b = u.rows; /* the page is the buffer the writer filled */
        scitt_dynbuf_init(&u.rows, 0);
    } else {
        scitt_dynbuf_init(&b, 0);
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &b);
        scitt_cbor_put_map(&w, 2);
        scitt_cbor_put_cstr(&w, "next");
        if (u.next) {
            scitt_cbor_put_uint(&w, u.next);
        } else {
            scitt_cbor_put_null(&w);
        }
        scitt_cbor_put_cstr(&w, "entries");
        scitt_cbor_put_array(&w, u.nrows);
        if (w.err != SCITT_OK) {
            b.err = w.err;
        }
        scitt_dynbuf_put(&b, u.rows.ptr, u.rows.len);
    }
    scitt_dynbuf_clear(&u.rows);
    scittd_send(req, 200, q.json ? "application/json" : "application/cbor", &b);
}

void scittd_route_query(scitt_http_req *req, void *ctx)
{
    /* Up to SCITTD_QUERY_MAX_SCAN entries read and decoded: the costly lane. */
    scittd_offload_costly(ctx, req, query_read);
}
