/*
 * server/scittd.h — the daemon's parts (internal): configuration, the shared state handed to
 * every route, and the functions each source file provides.
 */
#ifndef SCITT_SCITTD_H
#define SCITT_SCITTD_H

#include <pthread.h>

#include "http.h"
#include "log.h"
#include "scitt/service.h"
#include "scitt/tee.h"

#define SCITTD_MAX_LISTEN 8
#define SCITTD_MAX_TOKENS 256

typedef struct scittd_config {
    const char *data_dir;
    const char *listen[SCITTD_MAX_LISTEN];
    size_t nlisten;
    const char *tls_cert, *tls_key;
    const char *policy_file;
    const char *issuer, *origin;
    unsigned batch_max, batch_delay_ms;
    size_t max_body;
    double rate_limit;
    const char *auth_tokens_file;
    const char *platform; /* "auto", "snp", "virtual" */
    bool insecure_virtual;
    const char *snp_endorsements; /* PEM of VCEK/ASK/ARK provided by the operator */
    const char *tee_configfs;     /* configfs-tsm report directory (default: the kernel's) */
    const char *sev_guest;        /* SEV guest device (default /dev/sev-guest) */
    const char *log_level;
    bool print_ports; /* print the bound ports on stdout once listening */
    uint64_t map_size, map_size_max;
    const char *receipt_alg;
    bool rotate_key;
    unsigned workers;
    unsigned header_timeout_ms, body_timeout_ms; /* 0 = the HTTP layer's defaults */
    bool no_ui;                                  /* the explorer at /ui/ is off */
} scittd_config;

/* A histogram with fixed bucket bounds (Prometheus style, cumulative when printed). */
#define SCITTD_HIST_BUCKETS 14
typedef struct scittd_hist {
    const double *bounds; /* SCITTD_HIST_BUCKETS upper bounds */
    _Atomic uint64_t counts[SCITTD_HIST_BUCKETS + 1];
    _Atomic uint64_t total;
    _Atomic uint64_t sum_micro; /* sum in millionths of the unit */
} scittd_hist;

typedef struct scittd_pending scittd_pending;
typedef struct scittd_events scittd_events;
typedef struct scittd_receipter scittd_receipter;

typedef struct scittd {
    scittd_config cfg;
    uv_loop_t *loop;
    scitt_http_server *http;
    scitt_service *svc;
    const char *platform; /* what we run on, reported everywhere */
    bool insecure;
    scitt_tee_acquire_opts tee_opts;
    scitt_keystore keystore; /* where the service keys live */
    scitt_keystore file_ks;  /* the file under a sealed keystore */
    char ks_path[4200];
    scitt_dynbuf bundle; /* the service bundle without a nonce, made at start */
    uint8_t binary_sha384[48];
    /* bearer tokens as SHA-256 digests, compared in constant time */
    uint8_t tokens[SCITTD_MAX_TOKENS][32];
    size_t ntokens;
    scittd_pending *pending;
    scittd_receipter *receipter;
    scittd_events *events; /* GET /events, when started */
    /* metrics */
    _Atomic uint64_t registrations; /* new entries acknowledged */
    _Atomic uint64_t duplicates;    /* registrations answered with an existing entry */
    _Atomic uint64_t rejections;    /* statements refused by the check stage */
    scittd_hist batch_size, batch_ms, commit_ms;
} scittd;

/* platform.c: SEV-SNP or the INSECURE virtual platform; the keystore; the service bundle. */
scitt_err scittd_platform_choose(scittd *d, char *reason, size_t cap);
scitt_err scittd_platform_bundle(scittd *d, scitt_span nonce, scitt_dynbuf *out);

/* routes.c: adds every route of the daemon to d->http (POST /entries takes @p max_body). */
SCITT_MUST_USE scitt_err scittd_add_routes(scittd *d, size_t max_body);

/* register.c: POST /entries, GET /entries/{id}[/statement], the async bookkeeping. */
scitt_err scittd_register_init(scittd *d);
void scittd_register_stop(scittd *d);
void scittd_register_free(scittd *d);
void scittd_route_entries_post(scitt_http_req *req, void *ctx);
void scittd_route_entries_get(scitt_http_req *req, void *ctx);

/* reads.c: keys, configuration, checkpoint, tiles, consistency, attestation, health. */
void scittd_route_keys(scitt_http_req *req, void *ctx);
void scittd_route_jwks(scitt_http_req *req, void *ctx);
void scittd_route_config(scitt_http_req *req, void *ctx);
void scittd_route_checkpoint(scitt_http_req *req, void *ctx);
void scittd_route_tile(scitt_http_req *req, void *ctx);
void scittd_route_consistency(scitt_http_req *req, void *ctx);
void scittd_route_attestation(scitt_http_req *req, void *ctx);
void scittd_route_healthz(scitt_http_req *req, void *ctx);

/* query.c */
void scittd_route_query(scitt_http_req *req, void *ctx);

/* query_parse.c: the query string of GET /query, checked and decoded. */
#define SCITTD_QUERY_DEFAULT_LIMIT 100
#define SCITTD_QUERY_MAX_LIMIT     1000

typedef struct scittd_query {
    char iss[1024], sub[1024]; /* NUL-terminated, valid UTF-8 */
    size_t iss_len, sub_len;
    bool has_iss, has_sub, has_digest;
    uint8_t digest[64];
    size_t digest_len;
    uint64_t from, to; /* index range [from, to) from cursor and times */
    size_t limit;      /* 1..SCITTD_QUERY_MAX_LIMIT */
    bool json;         /* set by the route from Accept, not by the parser */
} scittd_query;

/** Turns a registration time (ms) into the tree size at that time. */
typedef scitt_err (*scittd_size_at_fn)(void *ctx, int64_t ms, uint64_t *size);

/**
 * Parses query string @p qs (without '?') for a log of @p size entries into @p q. Returns NULL,
 * or the reason the request is malformed (static text for a 400 answer).
 */
const char *scittd_query_parse(scitt_span qs, uint64_t size, scittd_size_at_fn size_at, void *ctx,
                               scittd_query *q);

/* ui.c: the explorer's static files under /ui/ (and /ui, redirected). */
void scittd_route_ui(scitt_http_req *req, void *ctx);

/* events.c: GET /events (server-sent events); init after the loop exists, stop at shutdown. */
SCITT_MUST_USE scitt_err scittd_events_init(scittd *d);
void scittd_events_stop(scittd *d);
void scittd_route_events(scitt_http_req *req, void *ctx);

/* metrics.c */
void scittd_metrics_init(scittd *d);
void scittd_hist_observe(scittd_hist *h, double v);
void scittd_route_metrics(scitt_http_req *req, void *ctx);

/*
 * Response helpers for values that cannot fail in practice (our own header names, small
 * bodies): a failure (out of arena memory) turns the answer into a bare 500 and is logged.
 */
static inline void scittd_header(scitt_http_req *req, const char *name, const char *value)
{
    if (scitt_http_res_header(req, name, value) != SCITT_OK) {
        scitt_http_res_status(req, 500);
        SCITT_LOG(SCITT_LOG_ERROR, "response", "header=%s err=nomem", name);
    }
}

static inline void scittd_problem(scitt_http_req *req, int status, const char *title,
                                  const char *detail)
{
    if (scitt_http_res_problem(req, status, title, detail) != SCITT_OK) {
        scitt_http_res_status(req, 500);
        SCITT_LOG(SCITT_LOG_ERROR, "response", "status=%d err=nomem", status);
    }
}

static inline void scittd_body(scitt_http_req *req, const char *type, scitt_span body)
{
    if (scitt_http_res_body_copy(req, type, body) != SCITT_OK) {
        scittd_problem(req, 500, "Internal Server Error", "out of memory");
    }
}

/* Runs @p fn on the worker pool inside one read snapshot, then completes @p req. */
typedef void (*scittd_read_fn)(scittd *d, scitt_http_req *req, scitt_ledger_read *r);
void scittd_offload_read(scittd *d, scitt_http_req *req, scittd_read_fn fn);

/* Answers @p req with problem details for a scitt_err from the service or the ledger. */
void scittd_fail(scitt_http_req *req, scitt_err e, const char *detail);

#endif
