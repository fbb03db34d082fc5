/*
 * Read endpoints: service keys, the transparency configuration, C2SP checkpoint and tiles,
 * consistency receipts, attestation and health. Anything that reads LMDB runs on the worker
 * pool in one read snapshot, so the loop never waits on the disk.
 */
#include "scittd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/attest.h"
#include "scitt/merkle.h"

void scittd_fail(scitt_http_req *req, scitt_err e, const char *detail)
{
    char msg[256];
    switch (e) {
    case SCITT_ERR_NOT_FOUND:
        scittd_problem(req, 404, "Not Found", detail);
        return;
    case SCITT_ERR_MAP_FULL:
    case SCITT_ERR_NO_SPACE:
    case SCITT_ERR_BUSY:
    case SCITT_ERR_CLOSED:
    case SCITT_ERR_INTEGRITY:
    case SCITT_ERR_STATE:
        snprintf(msg, sizeof(msg), "%s: %s", detail, scitt_err_str(e));
        scittd_header(req, "Retry-After", e == SCITT_ERR_INTEGRITY ? "3600" : "5");
        scittd_problem(req, 503, "Service Unavailable", msg);
        return;
    default:
        snprintf(msg, sizeof(msg), "%s: %s", detail, scitt_err_str(e));
        scittd_problem(req, 500, "Internal Server Error", msg);
        return;
    }
}

static void send_copy(scitt_http_req *req, int status, const char *type, scitt_dynbuf *b)
{
    if (b->err != SCITT_OK) {
        scittd_problem(req, 500, "Internal Server Error", "response too large");
    } else {
        scitt_http_res_status(req, status);
        if (scitt_http_res_body_copy(req, type, scitt_span_make(b->ptr, b->len)) != SCITT_OK) {
            scittd_problem(req, 500, "Internal Server Error", "out of memory");
        }
    }
    scitt_dynbuf_clear(b);
}

/* ---- work on the pool with one read snapshot ----------------------------------------------- */

typedef struct offload {
    scittd *d;
    scitt_http_req *req;
    scittd_read_fn fn;
    uv_work_t work;
} offload;

static void offload_work(uv_work_t *w)
{
    offload *o = w->data;
    scitt_ledger_read *r;
    scitt_err e = scitt_ledger_read_begin(scitt_service_ledger(o->d->svc), &r);
    if (e == SCITT_OK) {
        o->fn(o->d, o->req, r);
        scitt_ledger_read_end(r);
    } else {
        scittd_fail(o->req, e, "cannot read the ledger");
    }
    scitt_http_complete(o->req);
}

static void offload_done(uv_work_t *w, int status)
{
    (void)status;
    scitt_free(w->data);
}

void scittd_offload_read(scittd *d, scitt_http_req *req, scittd_read_fn fn)
{
    offload *o = scitt_calloc(1, sizeof(*o));
    if (!o) {
        scittd_problem(req, 503, "Service Unavailable", "out of memory");
        scitt_http_complete(req);
        return;
    }
    o->d = d;
    o->req = req;
    o->fn = fn;
    o->work.data = o;
    if (uv_queue_work(d->loop, &o->work, offload_work, offload_done) != 0) {
        scitt_free(o);
        scittd_problem(req, 503, "Service Unavailable", "cannot schedule the read");
        scitt_http_complete(req);
    }
}

/* ---- keys ---------------------------------------------------------------------------------- */

void scittd_route_keys(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    const scitt_cose_keyset *keys = scitt_service_keys(d->svc);
    scitt_span path = scitt_http_req_path(req);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    const char *base = "/.well-known/scitt-keys";
    size_t bl = strlen(base);
    if (path.len == bl) {
        if (scitt_cose_keyset_encode_cose(keys, &w) != SCITT_OK) {
            b.err = SCITT_ERR_NOMEM;
        }
        scittd_header(req, "Cache-Control", "max-age=300");
        send_copy(req, 200, "application/cbor", &b);
        scitt_http_complete(req);
        return;
    }
    /* /.well-known/scitt-keys/{kid}: the base64url (no padding) form of the kid */
    scitt_span enc = scitt_span_make(path.ptr + bl + 1, path.len - bl - 1);
    uint8_t kid[256];
    size_t kl;
    const scitt_cose_key *k = NULL;
    if (path.ptr[bl] == '/' && scitt_base64url_decode(enc, kid, sizeof(kid), &kl) == SCITT_OK) {
        k = scitt_cose_keyset_find(keys, scitt_span_make(kid, kl));
    }
    if (!k) {
        scitt_dynbuf_clear(&b);
        scittd_problem(req, 404, "No such key", "No key could be found for this kid value");
        scitt_http_complete(req);
        return;
    }
    if (scitt_cose_key_encode_cose(k, false, &w) != SCITT_OK) {
        b.err = SCITT_ERR_NOMEM;
    }
    scittd_header(req, "Cache-Control", "max-age=300");
    send_copy(req, 200, "application/cbor", &b);
    scitt_http_complete(req);
}

void scittd_route_jwks(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    if (scitt_cose_keyset_encode_jwks(scitt_service_keys(d->svc), &b) != SCITT_OK) {
        b.err = SCITT_ERR_NOMEM;
    }
    send_copy(req, 200, "application/json", &b);
    scitt_http_complete(req);
}

/* ---- configuration and attestation --------------------------------------------------------- */

static void put_kv_text(scitt_cbor_writer *w, const char *k, const char *v)
{
    scitt_cbor_put_cstr(w, k);
    scitt_cbor_put_cstr(w, v);
}

void scittd_route_config(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    const scitt_policy *pol = scitt_service_policy(d->svc);
    bool dev = scitt_policy_is_development(pol);
    size_t n = 9u + (d->insecure ? 1u : 0u) + (dev ? 1u : 0u);
    /* deterministic CBOR: text keys sorted by length, then bytewise */
    scitt_cbor_put_map(&w, n);
    put_kv_text(&w, "issuer", scitt_service_issuer(d->svc));
    put_kv_text(&w, "origin", scitt_service_origin(d->svc));
    if (d->insecure) {
        scitt_cbor_put_cstr(&w, "insecure");
        scitt_cbor_put_bool(&w, true);
    }
    /* absolute for older clients (compat.c); relative only when no URL can be made */
    char jwks[SCITTD_PUBLIC_URL_MAX + 300];
    put_kv_text(&w, "jwks_uri",
                scittd_absolute_url(d, req, "/jwks", jwks, sizeof(jwks)) ? jwks : "/jwks");
    put_kv_text(&w, "platform", d->platform);
    put_kv_text(&w, "checkpoint", "/checkpoint");
    put_kv_text(&w, "attestation", "/attestation");
    scitt_cbor_put_cstr(&w, "policy_entry");
    scitt_cbor_put_uint(&w, scitt_service_policy_index(d->svc));
    if (dev) {
        put_kv_text(&w, "policy_warning",
                    "development policy: any issuer with an x5chain leaf is accepted");
    }
    put_kv_text(&w, "scitt_keys_uri", "/.well-known/scitt-keys");
    put_kv_text(&w, "checkpoint_vkey", scitt_service_vkey(d->svc));
    if (scitt_cbor_writer_finish(&w, NULL) != SCITT_OK) {
        b.err = SCITT_ERR_NOMEM;
    }
    send_copy(req, 200, "application/cbor", &b);
    scitt_http_complete(req);
}

typedef struct attest_job {
    scittd *d;
    scitt_http_req *req;
    uint8_t nonce[32];
    size_t nonce_len;
    uv_work_t work;
} attest_job;

/* Fresh evidence for a nonce: device I/O, so on the worker pool. */
static void attest_work(uv_work_t *w)
{
    attest_job *j = w->data;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_err e = scittd_platform_bundle(j->d, scitt_span_make(j->nonce, j->nonce_len), &b);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scittd_fail(j->req, e == SCITT_ERR_BUSY ? e : SCITT_ERR_IO,
                    "the platform gave no evidence");
    } else {
        scittd_header(j->req, "Cache-Control", "no-store");
        send_copy(j->req, 200, "application/cbor", &b);
    }
    scitt_http_complete(j->req);
}

static void attest_done(uv_work_t *w, int status)
{
    (void)status;
    scitt_free(w->data);
}

void scittd_route_attestation(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_span q;
    if (!scitt_http_req_query_param(req, "nonce", &q)) {
        /* the bundle made at start: same evidence for everyone */
        scitt_http_res_status(req, 200);
        scittd_header(req, "Cache-Control", "max-age=60");
        scittd_body(req, "application/cbor", scitt_span_make(d->bundle.ptr, d->bundle.len));
        scitt_http_complete(req);
        return;
    }
    /* ?nonce=<hex, up to 32 bytes>: fresh evidence bound to the verifier's nonce */
    attest_job *j = scitt_calloc(1, sizeof(*j));
    if (!j || scitt_hex_decode(q, j->nonce, sizeof(j->nonce), &j->nonce_len) != SCITT_OK) {
        scitt_free(j);
        scittd_problem(req, 400, "Malformed request", "nonce must be hex, at most 32 bytes");
        scitt_http_complete(req);
        return;
    }
    j->d = d;
    j->req = req;
    j->work.data = j;
    if (uv_queue_work(d->loop, &j->work, attest_work, attest_done) != 0) {
        scitt_free(j);
        scittd_problem(req, 503, "Service Unavailable", "cannot schedule the evidence request");
        scitt_http_complete(req);
    }
}

void scittd_route_healthz(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_err st = scitt_ledger_state(scitt_service_ledger(d->svc));
    char body[128];
    snprintf(body, sizeof(body), "%s\n", st == SCITT_OK ? "ok" : scitt_err_str(st));
    scitt_http_res_status(req, st == SCITT_OK ? 200 : 503);
    scittd_body(req, "text/plain; charset=utf-8", scitt_span_str(body));
    scitt_http_complete(req);
}

/* ---- checkpoint and tiles ------------------------------------------------------------------ */

static void checkpoint_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    (void)d;
    scitt_tree_head h;
    scitt_err e = scitt_ledger_latest(r, &h);
    if (e != SCITT_OK) {
        scittd_fail(req, e, "no checkpoint has been signed yet");
        return;
    }
    scitt_http_res_status(req, 200);
    scittd_header(req, "Cache-Control", "no-cache");
    if (scitt_http_res_body_copy(req, "text/plain; charset=utf-8", h.checkpoint) != SCITT_OK) {
        scittd_problem(req, 500, "Internal Server Error", "out of memory");
    }
}

void scittd_route_checkpoint(scitt_http_req *req, void *ctx)
{
    scittd_offload_read(ctx, req, checkpoint_read);
}

/* A tile or entry bundle, gzipped (RFC 9110 content coding) when the client accepts gzip. The
 * answer varies with Accept-Encoding either way, so caches keep the two apart. */
static void send_tile(scitt_http_req *req, scitt_dynbuf *b)
{
    scittd_header(req, "Vary", "Accept-Encoding");
    if (b->err == SCITT_OK && scittd_wants_gzip(req)) {
        scitt_dynbuf z;
        scitt_dynbuf_init(&z, 0);
        if (scittd_gzip(scitt_span_make(b->ptr, b->len), &z) == SCITT_OK && z.err == SCITT_OK) {
            scitt_dynbuf_clear(b);
            scittd_header(req, "Content-Encoding", "gzip");
            send_copy(req, 200, "application/octet-stream", &z);
            return;
        }
        scitt_dynbuf_clear(&z); /* could not compress: send it as it is */
    }
    send_copy(req, 200, "application/octet-stream", b);
}

static void tile_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    (void)d;
    scitt_span path = scitt_http_req_path(req);
    bool entries;
    unsigned level, width;
    uint64_t index;
    if (scitt_tile_parse_path(scitt_span_make(path.ptr + 1, path.len - 1), &entries, &level, &index,
                              &width) != SCITT_OK) {
        scittd_problem(req, 404, "Not Found", "not a canonical C2SP tile path");
        return;
    }
    scitt_err e;
    if (entries) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        e = scitt_ledger_entry_bundle(r, index, width, &b);
        if (e == SCITT_OK) {
            scittd_header(req, "Cache-Control", "public, max-age=31536000, immutable");
            send_tile(req, &b);
            return;
        }
        scitt_dynbuf_clear(&b);
        if (e == SCITT_ERR_UNSUPPORTED) {
            scittd_problem(req, 404, "Not Found",
                           "this bundle holds an entry over 65,535 bytes; entry "
                           "bundles are not served for it");
            return;
        }
    } else {
        scitt_span tile;
        e = scitt_ledger_tile(r, level, index, width, &tile);
        if (e == SCITT_OK) {
            scittd_header(req, "Cache-Control", "public, max-age=31536000, immutable");
            scitt_dynbuf b;
            scitt_dynbuf_init(&b, 0);
            scitt_dynbuf_put(&b, tile.ptr, tile.len);
            send_tile(req, &b);
            return;
        }
    }
    scittd_fail(req, e, "no such tile in the tree");
}

void scittd_route_tile(scitt_http_req *req, void *ctx)
{
    scittd_offload_read(ctx, req, tile_read);
}

/* ---- consistency receipts ------------------------------------------------------------------ */

static bool parse_u64(scitt_span s, uint64_t *out)
{
    if (s.len == 0 || s.len > 19) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    *out = v;
    return true;
}

static void consistency_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    scitt_span from, to;
    uint64_t m, n;
    if (!scitt_http_req_query_param(req, "from", &from) ||
        !scitt_http_req_query_param(req, "to", &to) || !parse_u64(from, &m) || !parse_u64(to, &n) ||
        m == 0 || m >= n) {
        scittd_problem(req, 400, "Malformed request",
                       "from and to must be tree sizes with 0 < from < to");
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_err e = scitt_service_consistency(d->svc, r, m, n, &b);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scittd_fail(req, e, "both sizes must be signed tree heads of this log");
        return;
    }
    scittd_header(req, "Cache-Control", "public, max-age=31536000, immutable");
    send_copy(req, 200, scittd_cose_type(req, SCITTD_TYPE_RECEIPT), &b);
}

void scittd_route_consistency(scitt_http_req *req, void *ctx)
{
    scittd_offload_read(ctx, req, consistency_read);
}
