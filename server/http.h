/*
 * server/http.h — the HTTP/1.1 + TLS front end of scittd (internal to the daemon, not part of
 * libscitt). One libuv loop thread owns every socket; handlers run on that thread and may hand a
 * request to any other thread, which completes it later with scitt_http_complete().
 *
 * Lifetimes, once for the whole header:
 *  - A scitt_http_req belongs to the layer until its handler is called; from then on it belongs
 *    to the handler (on whichever thread it moved to) until scitt_http_complete(), after which
 *    it must not be touched. Every span a request accessor returns points into the request's
 *    arena and stays valid until scitt_http_complete().
 *  - The server must outlive every request it dispatched: free it only after every handler has
 *    completed (or will never run again) and the shutdown callback has fired.
 */
#ifndef SCITT_SERVER_HTTP_H
#define SCITT_SERVER_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "scitt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct scitt_http_server scitt_http_server;
typedef struct scitt_http_req scitt_http_req;

/** Methods as bits, so that one route can accept several. GET routes also answer HEAD. */
enum {
    SCITT_HTTP_GET = 1u << 0,
    SCITT_HTTP_HEAD = 1u << 1,
    SCITT_HTTP_POST = 1u << 2,
    SCITT_HTTP_PUT = 1u << 3,
    SCITT_HTTP_DELETE = 1u << 4,
    SCITT_HTTP_OPTIONS = 1u << 5,
    SCITT_HTTP_PATCH = 1u << 6,
    SCITT_HTTP_OTHER = 1u << 7, /**< any other method llhttp knows (never routable) */
};

/** Limits and timeouts. Start from scitt_http_config_defaults(); docs/deploy.md lists them. */
typedef struct scitt_http_config {
    size_t max_connections;    /**< open connections, all listeners together (10000) */
    size_t max_header_bytes;   /**< request line excluded: all field names+values (16384) → 431 */
    size_t max_headers;        /**< header fields per request (64) → 431 */
    size_t max_url_bytes;      /**< request target (8192) → 414 */
    size_t max_body_bytes;     /**< default body limit when a route sets none (1 MiB) → 413 */
    unsigned max_pipeline;     /**< requests in flight per connection before reading pauses (16) */
    size_t conn_buffer_bytes;  /**< request and response bytes one connection holds before it stops
                                    reading and dispatching; the request at the head of its queue
                                    always goes on (262144) */
    size_t max_response_bytes; /**< largest body a handler may hold in memory, for routes that
                                    set none; larger bodies must be streamed (1 MiB) */
    size_t max_conns_per_ip;   /**< open connections per client address, keyed like the rate
                                    limit; 0 = no cap (256) */
    uint64_t header_timeout_ms;    /**< first byte (or accept, TLS included) to end of headers */
    uint64_t body_timeout_ms;      /**< end of headers to end of body (30000) */
    uint64_t keepalive_timeout_ms; /**< idle between requests (60000) */
    uint64_t send_timeout_ms;      /**< total time to send one response, from when it is ready at
                                        the head of the queue; progress does not extend it (60000) */
    uint64_t linger_ms;            /**< reading and discarding after an error response (2000) */
    double rate_per_sec;           /**< per-IP token refill rate; 0 disables (0) */
    double rate_burst;             /**< per-IP bucket size (rate_per_sec * 2, at least 1) */
    size_t rate_table_entries;     /**< addresses tracked at once (16384, rounded to 4-way sets) */
    unsigned rate_ipv6_prefix;     /**< IPv6 addresses are keyed by this prefix length (64) */
} scitt_http_config;

void scitt_http_config_defaults(scitt_http_config *cfg);

/** A request handler. It must lead to exactly one scitt_http_complete(req), on any thread. */
typedef void (*scitt_http_handler)(scitt_http_req *req, void *ctx);

/**
 * An admission check run on the loop thread as soon as a request's headers are complete, before
 * a single body byte is read. Return true to go on; false refuses the request: the check has set
 * the answer (status, headers, problem body) with the response setters, the body is not read, and
 * the connection closes after the answer when a body was announced.
 */
typedef bool (*scitt_http_admit)(scitt_http_req *req, void *ctx);

/** One routing-table row; the layer copies it (the strings must stay valid: use literals). */
typedef struct scitt_http_route {
    const char *name; /**< label in metrics and logs, e.g. "entries_post" */
    unsigned methods; /**< SCITT_HTTP_* bits */
    const char *path; /**< "/entries" (exact) or "/entries/" (prefix) */
    bool prefix;      /**< match every path that starts with `path` */
    scitt_http_handler handler;
    void *ctx;                 /**< passed to the handler */
    size_t max_body;           /**< 0 = the server's max_body_bytes */
    const char *content_types; /**< NULL = any; else "a/b,c/d": other types get 415 */
    bool require_length;       /**< a POST/PUT without Content-Length or chunked body gets 411 */
    size_t max_response;       /**< largest body the handler may hold (streamed bodies: their
                                    piece buffer); 0 = the server's max_response_bytes */
    scitt_http_admit admit;    /**< NULL = none */
} scitt_http_route;

#define SCITT_HTTP_MAX_ROUTES 64

/** TLS for one listener: PEM files read once at listen time. */
typedef struct scitt_http_tls {
    const char *cert_file; /**< certificate chain, leaf first */
    const char *key_file;  /**< private key (never logged) */
} scitt_http_tls;

/**
 * Creates a server on @p loop. Call on the loop's thread: that thread becomes the loop thread.
 * @p cfg is copied (NULL = defaults). Free with scitt_http_server_free.
 */
SCITT_MUST_USE scitt_err scitt_http_server_new(uv_loop_t *loop, const scitt_http_config *cfg,
                                               scitt_http_server **out);

/**
 * Adds a route (before or after listen, loop thread only). Lookup: an exact path beats a
 * prefix, a longer prefix beats a shorter one; among routes with the same path the method
 * decides, and none matching gives 405 with Allow. Paths are matched raw (no percent-decoding,
 * no dot-segment removal), so handlers taking path parameters must validate them strictly.
 * SCITT_ERR_TOO_LARGE past SCITT_HTTP_MAX_ROUTES.
 */
SCITT_MUST_USE scitt_err scitt_http_server_route(scitt_http_server *srv,
                                                 const scitt_http_route *route);

/**
 * Listens on "HOST:PORT" ("127.0.0.1:8443", "[::1]:0", "0.0.0.0:80"); port 0 picks a free one,
 * returned in @p bound_port (may be NULL). @p tls NULL = plain HTTP; otherwise TLS 1.2+ with ALPN
 * http/1.1. SCITT_ERR_INVALID_ARG for a bad address, SCITT_ERR_BUSY when another socket has the
 * address already, SCITT_ERR_IO when binding fails otherwise,
 * SCITT_ERR_CRYPTO when the certificate or key cannot be loaded or do not match.
 */
SCITT_MUST_USE scitt_err scitt_http_server_listen(scitt_http_server *srv, const char *hostport,
                                                  const scitt_http_tls *tls, int *bound_port);

/**
 * Applies a reload (loop thread): a new certificate and key for every TLS listener (@p tls; NULL
 * when the listeners are plain) and a new per-address rate limit (@p rate_per_sec 0 = off,
 * @p rate_burst 0 = twice the rate). New connections get the new certificate; open connections
 * keep theirs, and the rate table starts afresh. All or nothing: SCITT_ERR_CRYPTO (the
 * certificate or key cannot be used), SCITT_ERR_STATE (TLS would be turned on or off: that takes
 * a restart) or SCITT_ERR_NOMEM, and then nothing has changed.
 */
SCITT_MUST_USE scitt_err scitt_http_server_reload(scitt_http_server *srv, const scitt_http_tls *tls,
                                                  double rate_per_sec, double rate_burst);

/** Sets the body limit of the routes that set none (loop thread); 0 keeps it. */
void scitt_http_server_set_max_body(scitt_http_server *srv, size_t max_body);

typedef void (*scitt_http_shutdown_cb)(scitt_http_server *srv, void *ctx);

/**
 * Graceful shutdown (loop thread): stop accepting, close idle connections, finish reading the
 * request being received, answer the requests already received (with Connection: close; bytes
 * after them are not parsed), and after @p grace_ms close whatever is still open. @p done runs on
 * the loop thread once every connection and listener is closed; with @p done NULL the loop is
 * stopped (uv_stop) instead. Requests still held by handlers then are discarded when they complete.
 */
void scitt_http_server_shutdown(scitt_http_server *srv, uint64_t grace_ms,
                                scitt_http_shutdown_cb done, void *ctx);

/**
 * Frees the server (loop thread, not while uv_run is inside one of its callbacks). Closes what is
 * still open and runs the loop until those handles are closed. No handler may hold a request
 * any more. NULL is a no-op.
 */
void scitt_http_server_free(scitt_http_server *srv);

/* ---- requests (handler side) ---- */

/** The SCITT_HTTP_* bit of the method (HEAD requests routed to GET routes say HEAD). */
unsigned scitt_http_req_method(const scitt_http_req *req);
/** The method's name, e.g. "POST" (static storage). */
const char *scitt_http_req_method_name(const scitt_http_req *req);
/** The path as received, without query or fragment (percent-encoding kept). */
scitt_span scitt_http_req_path(const scitt_http_req *req);
/** The query string without the '?', empty when absent (percent-encoding kept). */
scitt_span scitt_http_req_query(const scitt_http_req *req);
/**
 * The raw value of query parameter @p name ("a=1&b=2"); true when present (a bare "b" gives an
 * empty value). The first occurrence wins.
 */
bool scitt_http_req_query_param(const scitt_http_req *req, const char *name, scitt_span *value);
/**
 * The same lookup in a query string @p query given on its own (without the '?'): what the
 * request accessor uses, exposed so that query parsing can be tested and fuzzed without a request.
 */
bool scitt_http_query_param(scitt_span query, const char *name, scitt_span *value);
/** First header named @p name (ASCII case-insensitive), OWS trimmed; false when absent. */
bool scitt_http_req_header(const scitt_http_req *req, const char *name, scitt_span *value);
/** Number of headers and the i-th name/value (for logging or forwarding). */
size_t scitt_http_req_header_count(const scitt_http_req *req);
void scitt_http_req_header_at(const scitt_http_req *req, size_t i, scitt_span *name,
                              scitt_span *value);
/** The request body (de-chunked), complete when the handler runs. */
scitt_span scitt_http_req_body(const scitt_http_req *req);
/** The peer's address (copied at accept). */
const struct sockaddr_storage *scitt_http_req_peer(const scitt_http_req *req);
/** True when the request arrived over TLS. */
bool scitt_http_req_tls(const scitt_http_req *req);
/** A number unique per server run, for correlating log lines. */
uint64_t scitt_http_req_id(const scitt_http_req *req);
/** The matched route's name (static storage). */
const char *scitt_http_req_route(const scitt_http_req *req);
/**
 * @p n bytes of scratch memory (16-byte aligned) from the request arena, freed with the request;
 * NULL when the allocation fails. Only the thread that owns the request may call it.
 */
void *scitt_http_req_alloc(scitt_http_req *req, size_t n);

/* ---- responses: the owning thread fills the response, then completes it ---- */

/** Sets the status, 200..599 (anything else, or never setting one, sends 500). */
void scitt_http_res_status(scitt_http_req *req, int status);
/**
 * Adds a header line (copied into the arena). The layer writes Content-Length, Content-Type,
 * Date and Connection itself. SCITT_ERR_INVALID_ARG for a name that is not a token, a value with
 * CR, LF or NUL, or one of the layer's own headers; SCITT_ERR_NOMEM.
 */
SCITT_MUST_USE scitt_err scitt_http_res_header(scitt_http_req *req, const char *name,
                                               const char *value);
/*
 * Body setters refuse a body larger than the route's max_response with SCITT_ERR_TOO_LARGE: such
 * bodies must be streamed. For a HEAD request they keep only the length (nothing is copied).
 */

/** Copies @p body into the arena as the response body with media type @p content_type. */
SCITT_MUST_USE scitt_err scitt_http_res_body_copy(scitt_http_req *req, const char *content_type,
                                                  scitt_span body);
/**
 * Uses @p body without copying; @p release(@p ctx) runs exactly once (release may be NULL): on
 * the loop thread once the bytes are written or the response is dropped, or at once on the
 * calling thread when this call fails or a later body setter replaces the body.
 */
SCITT_MUST_USE scitt_err scitt_http_res_body_borrow(scitt_http_req *req, const char *content_type,
                                                    scitt_span body, void (*release)(void *ctx),
                                                    void *ctx);
/**
 * Moves the bytes of @p body into the response without copying them: @p body is reset (as by
 * scitt_dynbuf_steal) and its buffer freed once the bytes are written or the response is dropped.
 * A buffer whose sticky error is set gives that error (SCITT_ERR_TOO_LARGE, SCITT_ERR_NOMEM);
 * @p body is emptied either way.
 */
SCITT_MUST_USE scitt_err scitt_http_res_body_dynbuf(scitt_http_req *req, const char *content_type,
                                                    scitt_dynbuf *body);
/** Size of the buffer a streamed body's pieces are produced into. */
#define SCITT_HTTP_PIECE_BYTES 65536u

/**
 * Produces the next piece of a streamed body into @p buf (@p cap bytes, owned by the request) and
 * hands it back with scitt_http_res_piece(), on any thread. Called on the loop thread.
 */
typedef void (*scitt_http_pull)(scitt_http_req *req, void *ctx, uint8_t *buf, size_t cap);

/**
 * A body of exactly @p total bytes that is produced piece by piece while it is sent, so that a
 * large body never sits in memory whole. After scitt_http_complete() the layer calls @p pull
 * each time every byte produced so far has gone out; each pull leads to exactly one
 * scitt_http_res_piece(). @p release(@p ctx) runs exactly once (release may be NULL): on the
 * loop thread when the response is done or dropped (never while a piece is being produced), or
 * at once when this call fails or a later body setter replaces the body. HEAD requests get the
 * head only and are never pulled. SCITT_ERR_NOMEM (no piece buffer), SCITT_ERR_INVALID_ARG.
 */
SCITT_MUST_USE scitt_err scitt_http_res_body_stream(scitt_http_req *req, const char *content_type,
                                                    uint64_t total, scitt_http_pull pull,
                                                    void (*release)(void *ctx), void *ctx);
/**
 * Hands back the piece a pull asked for: @p n bytes written at the start of the buffer, 1..cap
 * and no more than the body has left. 0 (or a wrong size) means the producer failed: the head
 * has gone out already, so the connection is closed. Any thread, exactly once per pull.
 */
void scitt_http_res_piece(scitt_http_req *req, size_t n);

/**
 * An RFC 9290 concise problem details body (application/concise-problem-details+cbor) with
 * @p status, @p title and @p detail (UTF-8 text, not echoing untrusted bytes; text that is not
 * valid UTF-8 is cut before its first invalid sequence, so the body is always valid CBOR). A 503
 * answered without a Retry-After header gets "Retry-After: 1" from the layer.
 */
SCITT_MUST_USE scitt_err scitt_http_res_problem(scitt_http_req *req, int status, const char *title,
                                                const char *detail);

/**
 * Hands the response back to the layer; callable from any thread, exactly once per dispatched
 * request. On the loop thread the response is queued at once; from other threads it goes through
 * a locked list drained by one uv_async_t wake-up, so thousands of completions cost one wake-up
 * and one write per connection. Responses leave each connection in request order.
 */
void scitt_http_complete(scitt_http_req *req);

/* ---- streaming responses (server-sent events): loop thread only ---- */

/** Runs once when a stream's request is gone (ended, peer closed, dropped, server freed). */
typedef void (*scitt_http_stream_closed_cb)(void *ctx);

/**
 * Instead of scitt_http_complete(): sends the status and headers set so far with no
 * Content-Length and Connection: close, then whatever scitt_http_stream_write() adds, until
 * scitt_http_stream_end() or the connection closes. At most @p max_buffered bytes may wait
 * unsent (one buffer allocated now, never grown, so the bound is what a slow reader can cost;
 * it is counted, whole, in the bytes the connection holds against conn_buffer_bytes).
 * @p closed(@p ctx) runs exactly once on the loop thread when the request is released; after it
 * the request must not be touched. No further request is read from the connection. On failure
 * (SCITT_ERR_NOMEM, or a request whose connection is already gone) the request has been completed
 * as a 503 or dropped, and @p closed has run. Loop thread only.
 */
SCITT_MUST_USE scitt_err scitt_http_stream_start(scitt_http_req *req, const char *content_type,
                                                 size_t max_buffered,
                                                 scitt_http_stream_closed_cb closed, void *ctx);
/**
 * Queues @p data on a started stream. SCITT_ERR_TOO_LARGE when it does not fit in what is left
 * of the buffer (the reader is too slow: the caller ends the stream). Loop thread only.
 */
SCITT_MUST_USE scitt_err scitt_http_stream_write(scitt_http_req *req, scitt_span data);
/** Bytes queued on the stream and not yet sent. */
size_t scitt_http_stream_pending(const scitt_http_req *req);
/**
 * Ends the stream: with @p flush, after the queued bytes are sent; without, the connection is
 * closed at once (a slow reader). The closed callback follows. Loop thread only.
 */
void scitt_http_stream_end(scitt_http_req *req, bool flush);

/* ---- metrics: cheap counters readable from any thread ---- */

typedef struct scitt_http_metrics {
    uint64_t conns_open;        /**< connections open now */
    uint64_t conns_total;       /**< connections accepted since start */
    uint64_t conns_rejected;    /**< closed at once because max_connections was reached */
    uint64_t conns_rejected_ip; /**< closed at once because their address had max_conns_per_ip */
    uint64_t bytes_in;          /**< bytes read from sockets (ciphertext for TLS) */
    uint64_t bytes_out;         /**< bytes written to sockets */
    uint64_t requests;          /**< responses sent or dropped, all routes */
    uint64_t timeouts;          /**< connections closed or answered 408 by a timeout */
    uint64_t parse_errors;      /**< requests rejected as malformed (400) */
    uint64_t rate_limited;      /**< requests answered 429 */
    uint64_t tls_failures;      /**< TLS handshakes or records that failed */
    uint64_t inflight;          /**< requests held by handlers now */
} scitt_http_metrics;

/** A consistent-enough snapshot (each counter read atomically). */
void scitt_http_server_metrics(const scitt_http_server *srv, scitt_http_metrics *out);

/**
 * Requests with status @p status (100..599) on route @p route: 0 is "(none)" (no route: 404,
 * malformed requests, timeouts), 1..n the routes in the order they were added.
 */
uint64_t scitt_http_server_route_count(const scitt_http_server *srv, size_t route, int status);
/** Number of metric rows (routes + 1) and the name of row @p route ("(none)" for row 0). */
size_t scitt_http_server_route_rows(const scitt_http_server *srv);
const char *scitt_http_server_route_name(const scitt_http_server *srv, size_t route);

/**
 * The length of the longest prefix of @p text that is valid UTF-8 (RFC 3629: shortest forms, no
 * surrogates, nothing above U+10FFFF): where to cut text before it goes into a response.
 */
size_t scitt_http_utf8_prefix(scitt_span text);

/** The reason phrase of @p status ("Not Found"); "Unknown" for unlisted codes. */
const char *scitt_http_status_reason(int status);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_SERVER_HTTP_H */
