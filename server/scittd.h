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

#define SCITTD_MAX_LISTEN       8
#define SCITTD_MAX_TOKENS       256
/* The largest entry a C2SP entry bundle carries (16-bit length): larger ones are refused. */
#define SCITTD_BUNDLE_ENTRY_MAX 65535u

typedef struct scittd_config {
    /* Every field is an option of the table in options.c (its defaults are there); strings are
     * owned by the config (scittd_config_free). */
    const char *data_dir;
    const char *listen[SCITTD_MAX_LISTEN];
    size_t nlisten;
    const char *tls_cert, *tls_key;
    const char *policy_file;
    const char *issuer, *origin; /* NULL = the service's defaults */
    unsigned batch_max, batch_delay_ms;
    size_t max_body;   /* 0 = the policy's statement limit */
    size_t rate_burst; /* 0 = 2 x the rate */
    /* The HTTP layer's limits, set by their options directly (rate_per_sec: --rate-limit). */
    scitt_http_config http;
    const char *auth_tokens_file;
    const char *platform; /* "auto", "snp", "tdx", "virtual" */
    bool insecure_virtual;
    const char *snp_endorsements; /* PEM of VCEK/ASK/ARK provided by the operator */
    const char *tee_configfs;     /* configfs-tsm report directory (default: the kernel's) */
    const char *sev_guest;        /* SEV guest device (default /dev/sev-guest) */
    const char *log_level;
    bool print_ports; /* print the bound ports on stdout once listening */
    uint64_t map_size, map_size_max;
    const char *receipt_alg; /* NULL = the service's default */
    bool rotate_key;
    const char *receipt_key; /* pkcs11: URI of a receipt key held in a token (receipt_key.h) */
    unsigned workers;        /* 0 = 2 x cores */
    unsigned read_workers, costly_read_workers; /* read_workers 0 = 2 x cores */
    const char *storage;                        /* postgresql://...; NULL = LMDB in data_dir */
    unsigned lease_ms;                          /* --lease-ms (several instances, docs/ha.md) */
    const char *cosigned_checkpoint;        /* GET /checkpoint serves it (scitt witness collect) */
    const char *witness[SCITTD_MAX_LISTEN]; /* --witness URL=VKEY (server/witness.c) */
    size_t nwitness;
    const char *witness_policy;                 /* --witness-policy FILE (tlog-policy) */
    const char *witness_key;                    /* --witness-key: scittd as a witness */
    const char *witness_log[SCITTD_MAX_LISTEN]; /* --witness-log ORIGIN=VKEY (witness_role.c) */
    size_t nwitness_log;
    bool receipts_wait_for_witnesses;     /* a 201 waits for a witnessed checkpoint */
    unsigned receipts_witness_timeout_ms; /* ... at most this long */
    unsigned witness_interval_ms;         /* the least time between two witness rounds */
    const char *dcap_collateral;          /* Intel DCAP collateral served with TDX evidence */
    const char *keystore_key;             /* --keystore-key FILE (platform.c) */
    const char *key_release_policy;       /* --key-release-policy FILE (keyrel.c) */
    const char *join_url;                 /* --join URL: obtain the keys at start (keyrel.c) */
    const char *public_url; /* --public-url: base of absolute discovery URLs (compat.c) */
    bool compat_operations; /* --compat-operations: the older SCRAPI operation flow */
    bool no_ui;             /* the explorer at /ui/ is off */
} scittd_config;

/* The read pool (reads.c): two lanes of threads with bounded queues. */
#define SCITTD_MAX_READ_WORKERS 128
#define SCITTD_READ_QUEUE       4096 /* reads waiting for a thread before 503 */
#define SCITTD_COSTLY_QUEUE     64   /* costly reads waiting for a thread before 503 */
enum { SCITTD_LANE_READ = 0, SCITTD_LANE_COSTLY = 1 };

typedef struct scittd_read_job {
    struct scittd_read_job *next;
    void (*run)(struct scittd_read_job *j); /* on a pool thread */
} scittd_read_job;

typedef struct scittd_reads scittd_reads;

/* Registrations checked and submitted but not yet committed, in entry bytes, before 503. */
#define SCITTD_SUBMITTED_MAX_BYTES (64u << 20)

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
typedef struct scittd_witnesses scittd_witnesses;
struct scittd_witness_role;

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
    /* TDX: the DCAP collateral map every bundle carries, read from --dcap-collateral at start
     * and on SIGHUP (platform.c, which guards it with its own lock) */
    scitt_dynbuf dcap_collateral;
    uint8_t binary_sha384[48];
    /* bearer tokens as SHA-256 digests, compared in constant time */
    uint8_t tokens[SCITTD_MAX_TOKENS][32];
    size_t ntokens;
    scittd_pending *pending;
    scittd_receipter *receipter;
    scittd_reads *reads;
    _Atomic uint64_t submitted_bytes;         /* entry bytes submitted and not yet committed */
    scittd_events *events;                    /* GET /events, when started */
    scittd_witnesses *witnesses;              /* --witness: server/witness.c */
    struct scittd_witness_role *witness_role; /* --witness-key: server/witness_role.c */
    struct scittd_keyrel *keyrel;             /* --key-release-policy: server/keyrel.c */
    /* metrics */
    _Atomic uint64_t registrations; /* new entries acknowledged */
    _Atomic uint64_t duplicates;    /* registrations answered with an existing entry */
    _Atomic uint64_t rejections;    /* statements refused by the check stage */
    scittd_hist batch_size, batch_ms, commit_ms;
    /* several instances (lease.c): this instance's name in the lease, what was last logged */
    char holder[300];
    uv_timer_t lease_timer;
    bool lease_watching;
    int lease_role; /* -1 unknown, 0 follower, 1 sequencing */
    int lease_state;
} scittd;

/* lease.c: several instances on one PostgreSQL log: logs each change of role and of state
 * (a rollback of the database refused, with the head it fell behind). */
void scittd_lease_holder(scittd *d);
void scittd_lease_watch(scittd *d);
void scittd_lease_stop(scittd *d);

/* platform.c: SEV-SNP or the INSECURE virtual platform; the keystore; the service bundle. */
scitt_err scittd_platform_choose(scittd *d, char *reason, size_t cap);
scitt_err scittd_platform_bundle(scittd *d, scitt_span nonce, scitt_dynbuf *out);
/* The same for another document than the service identity (a key-release join request). */
scitt_err scittd_platform_bundle_for(scittd *d, scitt_span document, scitt_span nonce,
                                     scitt_dynbuf *out);

/* keyrel.c: attested key release (docs/tee.md). scittd_keyrel_load reads and checks
 * --key-release-policy (before the data directory is touched); scittd_keyrel_join obtains the
 * keystore from --join URL when this instance has none (after the platform is chosen, before
 * the service opens); scittd_keyrel_routes adds GET /keys/join/challenge and POST /keys/join
 * when a policy is given. */
scitt_err scittd_keyrel_load(scittd *d, char *reason, size_t cap);
scitt_err scittd_keyrel_join(scittd *d, char *reason, size_t cap);
scitt_err scittd_keyrel_routes(scittd *d);
void scittd_keyrel_free(scittd *d);

/* The bytes of a secret file (a key) named by @p option into @p b (its max is the bound:
 * SCITT_ERR_TOO_LARGE past it; allocated at once, so that no grown buffer leaves a copy of the
 * key behind: the caller wipes @p b before clearing it); refused (SCITT_ERR_KEY_MALFORMED) when
 * group or others may read it, with the reason in @p reason. */
scitt_err scittd_read_secret_file(const char *option, const char *path, scitt_dynbuf *b,
                                  char *reason, size_t cap);
/* Whether this platform has a sealing key: SEV-SNP (the firmware's key derived for this
 * measurement), or the virtual platform given --keystore-key (the operator's key). */
bool scittd_platform_can_seal(const scittd *d);
/* Seals (@p seal) or unseals @p in under the platform's sealing key (above), bound to @p aad,
 * appending to @p out; SCITT_ERR_UNSUPPORTED on a platform without one. */
SCITT_MUST_USE scitt_err scittd_platform_seal(scittd *d, bool seal, const char *aad, scitt_span in,
                                              scitt_dynbuf *out);
/* SIGHUP (loop thread), TDX: reads the --dcap-collateral directory again; a set that parses
 * replaces the collateral of every bundle from now on, and the start bundle is made again with
 * its quote and the new collateral; anything wrong keeps the old collateral and bundle, and the
 * log says why. */
void scittd_platform_reload(scittd *d);

/* routes.c: adds every route of the daemon to d->http (POST /entries takes @p max_body). */
SCITT_MUST_USE scitt_err scittd_add_routes(scittd *d, size_t max_body);
/* The largest response body of route kind @p kind, and of any route, for @p max_body. */
size_t scittd_route_max_response(int kind, size_t max_body);
size_t scittd_largest_response(size_t max_body);

/* register.c: POST /entries, GET /entries/{id}[/statement], the async bookkeeping. */
scitt_err scittd_register_init(scittd *d);
void scittd_register_stop(scittd *d);
void scittd_register_free(scittd *d);
/* Answers a registration of @p id at @p index with 201 and its receipt (any thread; the request
 * is complete after it): with @p witnessed, against the newest witnessed checkpoint and carrying
 * it (it must cover the entry), else against the head of @p tree_size. */
void scittd_register_answer(scittd *d, scitt_ledger_read *r, scitt_http_req *req,
                            const uint8_t id[SCITT_HASH_LEN], uint64_t index, uint64_t tree_size,
                            bool witnessed);
void scittd_route_entries_post(scitt_http_req *req, void *ctx);
/* Admission of POST /entries when its headers are complete: bearer token, ledger state. */
bool scittd_entries_admit(scitt_http_req *req, void *ctx);
void scittd_route_entries_get(scitt_http_req *req, void *ctx);
/* Whether a check-stage error is the statement's fault (400, counted as a rejection); every
 * other class (resource, internal, misuse) is answered 5xx by scittd_fail. */
bool scittd_check_refuses(scitt_err e);
/** A decimal number of 1-19 digits, nothing else (query parameters, Last-Event-ID). */
bool scittd_parse_u64(scitt_span s, uint64_t *out);

/* media.c: RFC 9943 media types, chosen by Accept (application/cose when not asked for). */
#define SCITTD_TYPE_COSE      "application/cose"
#define SCITTD_TYPE_RECEIPT   "application/scitt-receipt+cose"
#define SCITTD_TYPE_STATEMENT "application/scitt-statement+cose"
/** Whether the Accept value @p accept names @p type (lowercase) with a non-zero q. */
bool scittd_accepts(scitt_span accept, const char *type);
/** Whether Accept-Encoding names gzip with a non-zero q. */
bool scittd_wants_gzip(const scitt_http_req *req);
/** Appends the gzip (RFC 1952) form of @p in to @p out. */
scitt_err scittd_gzip(scitt_span in, scitt_dynbuf *out);
/** @p specific when the request's Accept names it, else SCITTD_TYPE_COSE. */
const char *scittd_cose_type(const scitt_http_req *req, const char *specific);

/* compat.c: discovery URLs and the older SCRAPI operation flow (--compat-operations). */
#define SCITTD_PUBLIC_URL_MAX 512
#define SCITTD_RETRY_AFTER_S  "1"
bool scittd_public_url_valid(const char *url);
/** @p path made absolute: --public-url, else the request's Host; false when neither works. */
bool scittd_absolute_url(const scittd *d, const scitt_http_req *req, const char *path, char *out,
                         size_t cap);
/** The 202 of a registration in the operation flow: Location /operations/{id} and the body. */
void scittd_compat_accepted(scitt_http_req *req, const uint8_t id[SCITT_HASH_LEN]);
void scittd_route_operations(scitt_http_req *req, void *ctx);
typedef enum { SCITTD_REG_UNKNOWN, SCITTD_REG_PENDING, SCITTD_REG_FAILED } scittd_reg_state;
/** register.c: whether @p id is being registered, or failed (@p detail says why). */
scittd_reg_state scittd_registration_state(scittd *d, const uint8_t id[SCITT_HASH_LEN],
                                           char *detail, size_t cap);

/* reads.c: keys, configuration, checkpoint, tiles, consistency, attestation, health. */
void scittd_route_keys(scitt_http_req *req, void *ctx);
void scittd_route_jwks(scitt_http_req *req, void *ctx);
void scittd_route_config(scitt_http_req *req, void *ctx);
void scittd_route_checkpoint(scitt_http_req *req, void *ctx);
void scittd_route_checkpoint_latest(scitt_http_req *req, void *ctx);
void scittd_route_tile(scitt_http_req *req, void *ctx);
void scittd_route_consistency(scitt_http_req *req, void *ctx);
void scittd_route_attestation(scitt_http_req *req, void *ctx);
void scittd_route_healthz(scitt_http_req *req, void *ctx);

/* query.c */
void scittd_route_query(scitt_http_req *req, void *ctx);

/* query_parse.c: the query string of GET /query, checked and decoded. */
#define SCITTD_QUERY_DEFAULT_LIMIT 100
#define SCITTD_QUERY_MAX_LIMIT     1000
#define SCITTD_QUERY_PAGE_BYTES    (64u << 10) /* rows of one page; a page holds at least one */

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
/* Appends @p h to @p b in the Prometheus text format, with its HELP and TYPE lines. */
void scittd_hist_put(scitt_dynbuf *b, const char *name, const char *help, scittd_hist *h);
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

/* The read pool: @p cheap_threads serve reads, @p costly_threads (at a lower priority) the
 * costly ones. Stop joins the threads after every queued job has run. */
scitt_err scittd_reads_start(scittd *d, unsigned cheap_threads, unsigned costly_threads);
void scittd_reads_stop(scittd *d);
void scittd_reads_free(scittd *d);
/* Queues @p j on lane @p which; false when that lane's queue is full (unless @p admitted: work
 * for a response already under way) or the pool stops. */
bool scittd_reads_submit(scittd *d, int which, scittd_read_job *j, bool admitted);
size_t scittd_reads_queued(scittd *d, int which);

/* Runs @p fn on the read pool inside one read snapshot, then completes @p req; the queue full
 * answers 503 with Retry-After. */
typedef void (*scittd_read_fn)(scittd *d, scitt_http_req *req, scitt_ledger_read *r);
void scittd_offload_read(scittd *d, scitt_http_req *req, scittd_read_fn fn);
/* The same on the costly lane. */
void scittd_offload_costly(scittd *d, scitt_http_req *req, scittd_read_fn fn);

/* Answers @p req with @p status and the bytes of @p b (moved into the response, not copied; @p b
 * is emptied); a buffer in error, or one over the route's limit, gives 500. */
void scittd_send(scitt_http_req *req, int status, const char *type, scitt_dynbuf *b);
/* Answers @p req with problem details for a scitt_err from the service or the ledger. */
void scittd_fail(scitt_http_req *req, scitt_err e, const char *detail);
/* The Retry-After value (seconds) scittd_fail gives a 503 for @p e. */
const char *scittd_retry_after(scitt_err e);
/* 503 with Retry-After: 1 and @p detail (a transient shortage: memory, a full queue). */
void scittd_busy(scitt_http_req *req, const char *detail);

#endif
