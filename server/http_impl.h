/*
 * server/http_impl.h — what the layer's own files share: the arena, the rate limiter, request
 * and connection internals, and the seam between the protocol engine (http_engine.c, no
 * sockets) and its transports (http_server.c + tls.c over libuv, or memory for fuzzing and
 * tests). Not for endpoint code: that uses http.h only.
 */
#ifndef SCITT_SERVER_HTTP_IMPL_H
#define SCITT_SERVER_HTTP_IMPL_H

#include <stdatomic.h>

#include <llhttp.h>
#include <openssl/ssl.h>

#include "http.h"
#include "log.h"

/* ---- arena (arena.c) ---- */

typedef struct scitt__arena_chunk {
    struct scitt__arena_chunk *next;
} scitt__arena_chunk;

typedef struct scitt__arena {
    uint8_t *base; /* current block */
    size_t cap;
    size_t used;
    uint8_t *inline_base; /* the block inside the request object, never freed */
    size_t inline_cap;
    scitt__arena_chunk *chunks; /* heap spill, freed by reset */
    uint8_t *last;              /* most recent allocation, which may grow in place */
    size_t last_cap;
    size_t spilled; /* heap bytes held */
} scitt__arena;

void scitt__arena_init(scitt__arena *a, void *mem, size_t cap);
/** 16-byte aligned; NULL on allocation failure. */
void *scitt__arena_alloc(scitt__arena *a, size_t n);
/** Grows @p p (the arena's last allocation grows in place); copies otherwise. */
void *scitt__arena_grow(scitt__arena *a, void *p, size_t old_len, size_t new_len);
void scitt__arena_reset(scitt__arena *a);

/* ---- per-IP rate limiting (ratelimit.c) ---- */

typedef struct scitt__ratelimit scitt__ratelimit;
SCITT_MUST_USE scitt_err scitt__ratelimit_new(double rate_per_sec, double burst, size_t entries,
                                              scitt__ratelimit **out);
void scitt__ratelimit_free(scitt__ratelimit *rl);
/** Takes one token for @p key; false (and the wait in whole seconds) when the bucket is empty. */
bool scitt__ratelimit_take(scitt__ratelimit *rl, const uint8_t key[16], uint64_t now_ms,
                           uint32_t *retry_after_s);
/** The bucket key of a peer: IPv4 (as ::ffff:a.b.c.d) or the IPv6 address cut to a prefix. */
void scitt__ratelimit_key(const struct sockaddr_storage *sa, unsigned v6_prefix, uint8_t key[16]);

/* ---- open connections per client address (ratelimit.c) ---- */

typedef struct scitt__connlimit scitt__connlimit;
/** A table for up to @p max_keys addresses at once, each allowed @p per_key connections. */
SCITT_MUST_USE scitt_err scitt__connlimit_new(size_t max_keys, size_t per_key,
                                              scitt__connlimit **out);
void scitt__connlimit_free(scitt__connlimit *cl);
/** Counts one more connection of @p key; false (nothing counted) at the cap or table full. */
bool scitt__connlimit_add(scitt__connlimit *cl, const uint8_t key[16]);
/** Forgets one connection of @p key (counted by a successful add). */
void scitt__connlimit_remove(scitt__connlimit *cl, const uint8_t key[16]);
/** Connections counted for @p key now. */
size_t scitt__connlimit_count(const scitt__connlimit *cl, const uint8_t key[16]);

/* ---- counters: written by the loop thread only, read from anywhere ---- */

typedef _Atomic uint64_t scitt__ctr;
#define SCITT__CTR_ADD(c, n)                                                                       \
    atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + (n),            \
                          memory_order_relaxed)
#define SCITT__CTR_INC(c) SCITT__CTR_ADD(c, 1)
#define SCITT__CTR_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

/* ---- requests ---- */

/* PARSED: complete, waiting for room in the connection's buffer before its handler runs. */
enum { REQ_PARSING = 0, REQ_PARSED, REQ_DISPATCHED, REQ_READY };

typedef struct scitt__hdr {
    scitt_span name;
    scitt_span value;
} scitt__hdr;

typedef struct scitt__http_conn scitt__http_conn;

struct scitt_http_req {
    scitt_http_req *next;      /* connection queue or free list */
    scitt_http_req *done_next; /* completions waiting for the loop thread */
    scitt__http_conn *conn;
    scitt_http_server *srv;
    uint64_t id;
    uint8_t state;
    uint8_t llmethod;
    unsigned method;
    int route; /* index into srv->routes, -1 none */
    bool keep_alive, is_head, tls, http10, cont, close_after, headers_done;
    /* request */
    char *url;
    size_t url_len;
    scitt_span path, query;
    scitt__hdr *hdrs;
    size_t nhdrs, hdr_cap, hdr_bytes;
    uint8_t *body;
    size_t body_len, body_cap, max_body;
    struct sockaddr_storage peer;
    /* response */
    int status;
    const char *ctype;
    char *xhdr;
    size_t xhdr_len;
    scitt_span out_body;
    void (*release)(void *ctx);
    void *release_ctx;
    char *head;
    size_t head_len;
    /* a streamed body: pieces produced into sbuf while the response goes out */
    bool stream, filling;
    uint64_t stream_total, stream_done; /* body bytes in all, and produced so far */
    uint8_t *sbuf;
    size_t slen, piece; /* bytes of the current piece; the size the producer handed back */
    scitt_http_pull pull;
    size_t charge; /* bytes counted against the connection's buffer */
    /* a pushed body (http_stream.c, server-sent events): pbuf holds the bytes queued and not yet
     * released; allocated once with pcap bytes and never reallocated, so segments offered to a
     * write in flight stay valid; counted in charge (scitt__http_req_bytes) */
    bool push, push_ended;
    uint8_t *pbuf;
    size_t plen, pcap;
    scitt_http_stream_closed_cb push_closed;
    void *push_ctx;
    scitt__arena arena;
    _Alignas(16) uint8_t mem[];
};

/* ---- connections and their transports ---- */

/* Timer kinds, one deadline per connection at a time. */
enum { TMR_NONE = 0, TMR_HEADER, TMR_BODY, TMR_IDLE, TMR_SEND, TMR_LINGER };

/* Input read and dropped after a connection stopped parsing, before it stops reading. */
#define SCITT__DISCARD_MAX (1u << 20)

typedef struct scitt__conn_ops {
    /* Send what scitt__http_out_collect offers; call scitt__http_out_sent as bytes go out. */
    void (*flush)(scitt__http_conn *c);
    /* Stop or restart reading (pipeline full, or room again). */
    void (*reading)(scitt__http_conn *c, bool on);
    /* Close: graceful after the last response (shutdown, linger), or at once. */
    void (*close)(scitt__http_conn *c, bool graceful);
    /* Arm the connection's one deadline (@p ms 0 = none). */
    void (*timer)(scitt__http_conn *c, int kind, uint64_t ms);
    /* Optional: a response was fully sent (the fuzzer checks the byte stream with it). */
    void (*sent)(scitt__http_conn *c, const scitt_http_req *req);
} scitt__conn_ops;

struct scitt__http_conn {
    scitt_http_server *srv;
    const scitt__conn_ops *ops;
    scitt__http_conn *prev, *next; /* the server's list */
    llhttp_t parser;
    scitt_http_req *cur;           /* request being parsed (also the queue tail) */
    scitt_http_req *qhead, *qtail; /* every request not yet fully sent, in arrival order */
    unsigned nq;
    size_t out_off;   /* bytes of qhead's output already sent */
    uint8_t *pending; /* input received while paused */
    size_t pending_len;
    /* obs-fold detection: where the current llhttp_execute buffer and last value chunk end */
    const char *exec_start;
    const char *prev_exec_end;
    const char *val_end;
    bool last_was_value;
    uint32_t cl_count;
    bool te_seen, host_seen, host_dup;
    /* error noted by a parser callback, answered when llhttp_execute returns */
    int err_status;
    const char *err_title, *err_detail;
    bool paused, no_more, discarding, in_body, closing, tls, draining, dead, peer_eof;
    bool eof_pending; /* the peer closed while requests waited behind a full pipeline */
    bool abort;       /* a streamed body failed after its head went out: close at once */
    bool reset;       /* close abortively (RST): the peer stopped reading, drop what is queued */
    int busy;
    bool again;
    bool dirty; /* queued for a batched flush */
    scitt__http_conn *dirty_next;
    int tkind;
    uint32_t tphase, tphase_armed;
    uint64_t pdeadline;     /* the parse side's deadline for (tkind, tphase) */
    uint64_t send_id;       /* the response whose send deadline runs (request id), 0 none */
    uint64_t send_deadline; /* when it must be out */
    int armed_kind;
    uint64_t armed_at;
    uint64_t requests;
    size_t held; /* bytes of the queued requests and their responses (scitt_http_req.charge) */
    struct sockaddr_storage peer;
    uint8_t rate_key[16];
};

/* The libuv transport: a TCP handle, one deadline timer, one write in flight, optional TLS. */
typedef struct scitt__uv_conn {
    scitt__http_conn c;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    struct scitt__listener *lst;
    uv_buf_t wbufs[32];
    unsigned nwbufs;
    size_t wbytes;     /* plaintext bytes of the queue the write in flight covers */
    size_t wtotal;     /* socket bytes of the write in flight */
    uint64_t deadline; /* the engine's deadline, re-armed after a write */
    int close_pending; /* 1: a graceful close waits for the write in flight */
    uint8_t *wcopy;    /* ciphertext owned by the write in flight */
    bool writing;
    bool reading;
    bool lingering;
    bool shut;
    int handles; /* open uv handles left to close */
    size_t linger_bytes;
    SSL *ssl;
    BIO *rbio, *wbio;
    bool handshake_done;
    bool counted;     /* counted in the server's per-address table */
    size_t discarded; /* bytes dropped after the engine stopped parsing (SCITT__DISCARD_MAX) */
} scitt__uv_conn;

/* The memory transport (http_mem.c), for fuzzing and unit tests. */
typedef struct scitt__mem_sent {
    int status;
    bool cont, is_head;
    size_t head_len, body_len;
} scitt__mem_sent;

typedef struct scitt__mem_conn {
    scitt__http_conn c;
    scitt_dynbuf out;          /* every byte the engine sent */
    scitt__mem_sent sent[256]; /* the first responses sent, in order */
    size_t nsent;
    size_t max_write; /* 0 = unlimited; else bytes taken per flush round */
    bool stalled;     /* the peer reads only `allow` more bytes (then nothing) */
    size_t allow;
    bool closed, graceful, reading;
    int timer_kind;
    uint64_t deadline;
} scitt__mem_conn;

/** A server without loop or sockets; its clock is `fake_now` (milliseconds). */
SCITT_MUST_USE scitt_err scitt__http_server_new_detached(const scitt_http_config *cfg,
                                                         scitt_http_server **out);
void scitt__http_server_free_detached(scitt_http_server *srv);
scitt__mem_conn *scitt__http_mem_conn_new(scitt_http_server *srv, bool tls);
void scitt__http_mem_conn_free(scitt__mem_conn *m);

typedef struct scitt__listener {
    uv_tcp_t tcp;
    scitt_http_server *srv;
    SSL_CTX *ssl_ctx;
    char addr[64];
    int port;
} scitt__listener;

#define SCITT__MAX_LISTENERS     16
#define SCITT__STATUS_SLOTS      500 /* 100..599 */
#define SCITT__REQ_INLINE        4096
#define SCITT__RESPONSE_SLACK    (20u << 10) /* a response head and arena slack, reserved */
#define SCITT__REQ_POOL_MAX      1024
#define SCITT__IO_BUF            65536
#define SCITT__TLS_SESSION_CACHE 1024 /* TLS 1.2 sessions kept for resumption */

struct scitt_http_server {
    uv_loop_t *loop;
    uv_thread_t loop_thread;
    scitt_http_config cfg;
    scitt_http_route routes[SCITT_HTTP_MAX_ROUTES];
    size_t nroutes;
    scitt__ratelimit *rl;
    scitt__connlimit *cl;
    scitt_http_req *free_reqs;
    size_t nfree;
    uint64_t next_id;
    scitt__http_conn *conns;
    size_t nconns;     /* open (counted against max_connections) */
    size_t live_conns; /* allocated, including those whose handles are closing */
    scitt__listener *listeners[SCITT__MAX_LISTENERS];
    size_t nlisteners;
    size_t open_listeners;
    size_t closing_handles; /* server-owned handles whose close callback is pending */
    /* completions from other threads */
    uv_async_t async;
    uv_mutex_t done_mu;
    scitt_http_req *done_head, *done_tail;
    bool async_open;
    /* batched flushing */
    scitt__http_conn *dirty;
    bool batching;
    /* shutdown */
    bool shutting_down, shutdown_done, grace_open;
    uv_timer_t grace;
    scitt_http_shutdown_cb done_cb;
    void *done_ctx;
    /* the Date header, refreshed once per second */
    char date[40];
    uint64_t date_sec;
    uint64_t (*now_ms)(scitt_http_server *srv); /* clock (tests and fuzzing freeze it) */
    uint64_t fake_now;
    /* scratch shared by every connection: safe because the loop thread uses it synchronously */
    uint8_t *iobuf;   /* socket reads */
    uint8_t *tlsbuf;  /* TLS plaintext reads and ciphertext drains */
    uint8_t *staging; /* TLS plaintext coalescing */
    /* metrics */
    scitt__ctr conns_open, conns_total, conns_rejected, conns_rejected_ip, bytes_in, bytes_out,
        requests, timeouts, parse_errors, rate_limited, tls_failures, inflight;
    scitt__ctr (*route_counts)[SCITT__STATUS_SLOTS];
};

/* ---- engine (http_engine.c) ---- */

/** Sets up @p c (zeroed by the caller) for a new connection from @p peer. */
void scitt__http_conn_init(scitt__http_conn *c, scitt_http_server *srv, const scitt__conn_ops *ops,
                           const struct sockaddr_storage *peer, bool tls);
/** Feeds bytes read from the peer (plaintext). */
void scitt__http_conn_input(scitt__http_conn *c, const uint8_t *data, size_t len);
/** The peer closed its side (or TLS close_notify). */
void scitt__http_conn_eof(scitt__http_conn *c);
/** The deadline of kind @p kind passed. */
void scitt__http_conn_timeout(scitt__http_conn *c, int kind);
/** Flush, resume reading, close when done, re-arm the deadline. Reentrant-safe. */
void scitt__http_conn_pump(scitt__http_conn *c);
/** The transport is gone: drop queued requests (orphaning those held by handlers). */
void scitt__http_conn_release(scitt__http_conn *c);
/** Shutdown began: close when idle, mark the rest to close after their responses. */
void scitt__http_conn_drain(scitt__http_conn *c);

/**
 * Output seam: up to @p max segments of response bytes ready to send from the queue head on,
 * starting at the unsent offset; returns the count (0 = nothing ready). Segments point into the
 * requests and stay valid until scitt__http_out_sent covers them.
 */
size_t scitt__http_out_collect(scitt__http_conn *c, uv_buf_t *bufs, size_t max, size_t max_bytes);
/** @p n bytes offered by collect have been sent (or copied away): release finished responses. */
void scitt__http_out_sent(scitt__http_conn *c, size_t n);

/* request pool and completion (http_engine.c) */
scitt_http_req *scitt__http_req_get(scitt_http_server *srv);
void scitt__http_req_put(scitt_http_server *srv, scitt_http_req *req);
/** A completion (or a streamed piece) reached the loop thread: queue it, or drop an orphan. */
void scitt__http_complete_local(scitt_http_req *req);
/** The largest body the request's route lets its handler hold. */
size_t scitt__http_max_response(const scitt_http_req *req);
/** What @p req holds in memory now, as counted against its connection's buffer. */
size_t scitt__http_req_bytes(const scitt_http_req *req);
/** Body bytes of the queue head already sent. */
size_t scitt__http_body_sent(const scitt__http_conn *c);

/* parsing helpers (http_req.c) */
int scitt__http_route_lookup(scitt_http_server *srv, scitt_span path, unsigned method,
                             unsigned *allow);
bool scitt__http_split_target(scitt_http_req *req);
unsigned scitt__http_method_bit(uint8_t llmethod);
bool scitt__http_ctype_allowed(const char *list, scitt_span ctype);
bool scitt__span_ieq(scitt_span a, const char *s);
/** True when @p s is a non-empty RFC 9110 token. */
bool scitt__http_token(scitt_span s);
void scitt__http_allow_header(scitt_http_req *req, unsigned allow);

/* responses (http_response.c) */
/** Builds the status line and headers into the arena; false on allocation failure. */
bool scitt__http_res_build_head(scitt_http_req *req, bool close);
/** The layer's own error answer: problem body, optional Retry-After, close or not. */
void scitt__http_res_error(scitt_http_req *req, int status, const char *title, const char *detail,
                           uint32_t retry_after_s);
/** Runs the borrowed-body release callback, if any, exactly once. */
void scitt__http_res_drop_body(scitt_http_req *req);
/** Refreshes the cached Date value when the second changed. */
void scitt__http_date_refresh(scitt_http_server *srv);

/* streaming (http_stream.c) */
/**
 * The first @p body_off bytes of stream @p req's buffer were sent. Once all of it is, the buffer
 * is emptied (true): only then, because a transport may still hold segments of unsent bytes.
 */
bool scitt__http_stream_sent(scitt_http_req *req, size_t body_off);
/** The stream's request is released: frees the buffer, runs the closed callback. */
void scitt__http_stream_release(scitt_http_req *req);

/* server internals (http_server.c) */
bool scitt__http_on_loop_thread(const scitt_http_server *srv);
void scitt__http_count(scitt_http_server *srv, int route, int status);
/** Connection closed and freed: may finish a shutdown. */
void scitt__http_server_conn_gone(scitt_http_server *srv);
/** Initialises what the engine needs of a server without sockets (fuzzing and unit tests). */
SCITT_MUST_USE scitt_err scitt__http_server_init_common(scitt_http_server *srv,
                                                        const scitt_http_config *cfg);
void scitt__http_server_clear_common(scitt_http_server *srv);

/* TLS (tls.c) */
SCITT_MUST_USE scitt_err scitt__tls_ctx_new(const scitt_http_tls *tls, SSL_CTX **out);
SCITT_MUST_USE scitt_err scitt__tls_conn_start(scitt__uv_conn *u, SSL_CTX *ctx);
/** Ciphertext arrived: decrypt and feed the engine; false when the connection must close. */
bool scitt__tls_input(scitt__uv_conn *u, const uint8_t *data, size_t len);
/** Feed plaintext still buffered inside OpenSSL (after a pause ends). */
bool scitt__tls_resume(scitt__uv_conn *u);
/** Encrypt what the queue offers and write the ciphertext (one write in flight at a time). */
void scitt__tls_flush(scitt__uv_conn *u);
/** Queue close_notify before a graceful close. */
void scitt__tls_close_notify(scitt__uv_conn *u);
void scitt__tls_conn_free(scitt__uv_conn *u);
/** Write pending ciphertext (handshake, alerts, records); false when the write failed. */
bool scitt__tls_send_pending(scitt__uv_conn *u);
void scitt__uv_hard_close(scitt__uv_conn *u);
void scitt__http_on_connection(uv_stream_t *ls, int status);
/** Transport helper shared with tls.c: write bufs, try first, then queue the rest. */
bool scitt__uv_write(scitt__uv_conn *u, uv_buf_t *bufs, unsigned n, size_t covered, bool copy);

#endif /* SCITT_SERVER_HTTP_IMPL_H */
