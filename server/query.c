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
#include <time.h>

#include "scitt/json.h"

#define QUERY_DEFAULT_LIMIT 100
#define QUERY_MAX_LIMIT     1000
#define QUERY_MAX_SCAN      100000 /* candidates read per request, bounding the work */

typedef struct query {
    char iss[1024], sub[1024];
    size_t iss_len, sub_len;
    bool has_iss, has_sub, has_digest;
    uint8_t digest[64];
    size_t digest_len;
    uint64_t from, to; /* index range [from, to) from cursor and times */
    size_t limit;
    bool json;
} query;

typedef struct row {
    uint64_t index;
    uint8_t id[SCITT_HASH_LEN];
    int64_t time_ms;
} row;

typedef struct run {
    scittd *d;
    scitt_ledger_read *r;
    const query *q;
    row rows[QUERY_MAX_LIMIT];
    size_t nrows;
    size_t scanned;
    uint64_t next;        /* cursor for the next page, 0 when done */
    scitt_tree_head head; /* the head covering the last row, reused for its neighbours */
    bool have_head;
} run;

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (uint8_t)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes a query value (and '+' as space) into a NUL-terminated string. */
static bool pct_decode(scitt_span in, char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (c == '%') {
            if (in.len - i < 3 || hexval(in.ptr[i + 1]) < 0 || hexval(in.ptr[i + 2]) < 0) {
                return false;
            }
            c = (uint8_t)(hexval(in.ptr[i + 1]) * 16 + hexval(in.ptr[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o + 1 >= cap || c == 0) {
            return false;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    *len = o;
    return scitt_utf8_valid(scitt_span_make(out, o));
}

/*
 * Digits only, at most @p max. strtoull would take a sign, leading spaces and saturate on
 * overflow, so "-1" would become a valid-looking huge cursor.
 */
static bool parse_dec(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (max - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Unix seconds, or RFC 3339 "YYYY-MM-DDTHH:MM:SSZ"; returns milliseconds. */
static bool parse_time(const char *s, int64_t *ms)
{
    uint64_t v;
    /* bounded so that the conversion to milliseconds cannot overflow */
    if (parse_dec(s, (uint64_t)INT64_MAX / 1000, &v)) {
        *ms = (int64_t)v * 1000;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!rest || *rest) {
        return false;
    }
    *ms = (int64_t)timegm(&tm) * 1000;
    return true;
}

static bool field_text(scitt_http_req *req, const char *name, char *out, size_t cap, size_t *len,
                       bool *has)
{
    scitt_span v;
    *has = scitt_http_req_query_param(req, name, &v);
    return !*has || pct_decode(v, out, cap, len);
}

static const char *parse_query(scitt_http_req *req, scitt_ledger_read *r, query *q)
{
    memset(q, 0, sizeof(*q));
    size_t n;
    bool has;
    char tmp[256];
    if (!field_text(req, "iss", q->iss, sizeof(q->iss), &q->iss_len, &q->has_iss)) {
        return "iss is not percent-encoded UTF-8";
    }
    if (!field_text(req, "sub", q->sub, sizeof(q->sub), &q->sub_len, &q->has_sub)) {
        return "sub is not percent-encoded UTF-8";
    }
    if (!field_text(req, "digest", tmp, sizeof(tmp), &n, &q->has_digest)) {
        return "digest is not valid";
    }
    if (q->has_digest &&
        scitt_hex_decode(scitt_span_make(tmp, n), q->digest, sizeof(q->digest), &q->digest_len)) {
        return "digest must be hexadecimal";
    }
    scitt_tree_head h;
    uint64_t size = scitt_ledger_latest(r, &h) == SCITT_OK ? h.size : 0;
    q->from = 0;
    q->to = size;
    int64_t ms;
    if (!field_text(req, "after", tmp, sizeof(tmp), &n, &has)) {
        return "after is not valid";
    }
    if (has) {
        if (!parse_time(tmp, &ms) || scitt_ledger_size_at_time(r, ms, &q->from) != SCITT_OK) {
            return "after must be Unix seconds or RFC 3339 UTC (2026-01-02T03:04:05Z)";
        }
    }
    if (!field_text(req, "before", tmp, sizeof(tmp), &n, &has)) {
        return "before is not valid";
    }
    if (has) {
        if (!parse_time(tmp, &ms) || scitt_ledger_size_at_time(r, ms, &q->to) != SCITT_OK) {
            return "before must be Unix seconds or RFC 3339 UTC (2026-01-02T03:04:05Z)";
        }
    }
    if (!field_text(req, "cursor", tmp, sizeof(tmp), &n, &has)) {
        return "cursor is not valid";
    }
    if (has) {
        uint64_t c;
        if (!parse_dec(tmp, UINT64_MAX, &c)) {
            return "cursor must be the number a previous page returned";
        }
        if (c > q->from) {
            q->from = c;
        }
    }
    q->limit = QUERY_DEFAULT_LIMIT;
    if (!field_text(req, "limit", tmp, sizeof(tmp), &n, &has)) {
        return "limit is not valid";
    }
    if (has) {
        uint64_t l;
        if (!parse_dec(tmp, QUERY_MAX_LIMIT, &l) || l == 0) {
            return "limit must be 1..1000";
        }
        q->limit = l;
    }
    scitt_span accept;
    q->json = scitt_http_req_header(req, "Accept", &accept) &&
              memmem(accept.ptr, accept.len, "application/json", 16) != NULL;
    return NULL;
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
static void emit_row(run *u, const row *rw, scitt_cbor_writer *w, scitt_dynbuf *js)
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
        scitt_dynbuf_printf(js,
                            "%s{\"entry_id\":\"%s\",\"index\":%llu,\"registered\":%lld,\"iss\":",
                            rw == u->rows ? "" : ",", id, (unsigned long long)rw->index,
                            (long long)(rw->time_ms / 1000));
        scitt_json_put_string(js, h->cwt.iss);
        scitt_dynbuf_str(js, ",\"sub\":");
        scitt_json_put_string(js, h->cwt.sub);
        scitt_dynbuf_str(js, ",\"content_type\":");
        scitt_json_put_string(js, scitt_span_str(ctype));
        scitt_dynbuf_printf(js, ",\"digest\":\"%s\"}", dig);
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
    query q;
    const char *bad = parse_query(req, r, &q);
    if (bad) {
        scittd_problem(req, 400, "Malformed request", bad);
        return;
    }
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
        scitt_dynbuf_str(&b, "{\"entries\":[");
        for (size_t i = 0; i < u->nrows; i++) {
            emit_row(u, &u->rows[i], NULL, &b);
        }
        if (u->next) {
            scitt_dynbuf_printf(&b, "],\"next\":%llu}\n", (unsigned long long)u->next);
        } else {
            scitt_dynbuf_str(&b, "],\"next\":null}\n");
        }
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
