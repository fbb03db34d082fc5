/*
 * bench/httpclient.h — a small HTTP/1.1 load generator on libuv (plain or TLS), for benchmarks.
 *
 * N keep-alive connections, each with up to `depth` requests pipelined in flight, either in a
 * closed loop (a new request as soon as a response arrives) or at a fixed offered rate. In the
 * fixed-rate mode latency is measured from the moment a request was due, not from when a
 * connection was free to send it, so a server that falls behind shows it in the percentiles
 * (no coordinated omission), and a request still unanswered when the run ends counts at its age
 * then, so a server that stops answering shows in the percentiles instead of leaving them. Runs
 * its own loop on the calling thread.
 *
 * Every response can be checked (hc_config.check) against the request that asked for it, e.g. a
 * receipt verified against the entry it was requested for; only 2xx responses that pass count as
 * good. The first bad response of a run (status or check) is described in hc_result.first_error.
 */
#ifndef SCITT_BENCH_HTTPCLIENT_H
#define SCITT_BENCH_HTTPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Response bodies are kept up to this size for the check; a longer one is a bad response. */
#define HC_BODY_MAX (64u * 1024u)

typedef struct hc_request {
    const char *bytes; /* a complete request, e.g. "GET / HTTP/1.1\r\nHost: x\r\n\r\n" */
    size_t len;
} hc_request;

typedef struct hc_config {
    const char *host; /* IPv4 or IPv6 literal */
    int port;
    bool tls;            /* TLS 1.2+ with ALPN http/1.1 */
    const char *ca_file; /* verify the server against this PEM (NULL: no verification) */
    unsigned connections;
    unsigned depth;             /* requests in flight per connection (1 = no pipelining) */
    double rate;                /* requests per second offered, all connections; 0 = closed loop */
    double warmup_s;            /* run, but do not record, for this long first */
    double duration_s;          /* then record for this long */
    const hc_request *requests; /* sent round-robin */
    size_t nrequests;
    /*
     * Instead of the list (when set): the n-th request to send, e.g. each a new registration.
     * The bytes only need to stay valid until the next call; it runs on the client's thread.
     */
    const hc_request *(*next)(void *ctx, uint64_t n);
    void *next_ctx;
    /*
     * When set, called on the client's thread for every response (warm-up included) with the
     * request it answers (@p n: its sequence number in the run), its status and body. Returns
     * false when the response does not prove what it should, after writing why into @p why.
     */
    bool (*check)(void *ctx, const hc_request *req, uint64_t n, int status, const uint8_t *body,
                  size_t len, char *why, size_t why_cap);
    void *check_ctx;
    /*
     * Send each request of the list at most once: the run ends when all have been answered or
     * duration_s has passed (use with warmup_s = 0), e.g. to read entries that were not read
     * before. Not with `next`.
     */
    bool once;
} hc_config;

typedef struct hc_result {
    uint64_t completed;  /* responses recorded in the measured phase */
    uint64_t good;       /* of which 2xx and passing the check (all 2xx without one) */
    uint64_t unanswered; /* fixed rate: requests due in the measured phase without a response at
                            its end; they count in the percentiles at their age then */
    uint64_t sent;       /* requests sent in the whole run, warm-up included */
    uint64_t non2xx;     /* responses of the whole run, warm-up included, outside 200..299 */
    uint64_t rejected;   /* responses of the whole run, 2xx or not, the check refused */
    uint64_t errors;     /* connections that failed (connect, TLS, parse, reset) */
    uint64_t dropped;    /* fixed rate: requests never sent (the backlog was full) */
    double elapsed_s;    /* length of the measured phase (once: until the last response) */
    double rps;          /* completed / elapsed_s */
    double good_rps;     /* good / elapsed_s */
    double p50_us, p99_us, p999_us, max_us;
    char first_error[256]; /* the first bad response or connection error, one line; "" if none */
} hc_result;

/** Runs the load described by @p cfg; 0 on success, -1 when nothing could be measured. */
int hc_run(const hc_config *cfg, hc_result *out);

/**
 * One request on a fresh plain connection, blocking, for side channels such as reading a
 * server's CPU counter. Copies up to @p cap - 1 body bytes into @p body (NUL-terminated);
 * returns the status or -1.
 */
int hc_fetch(const char *host, int port, const char *path, char *body, size_t cap);

/**
 * As hc_fetch for binary bodies (CBOR, COSE): up to @p cap bytes into @p body, their number in
 * @p len; -1 when the body does not fit.
 */
int hc_fetch_bin(const char *host, int port, const char *path, uint8_t *body, size_t cap,
                 size_t *len);

#endif /* SCITT_BENCH_HTTPCLIENT_H */
