/*
 * bench/httpclient.h — a small HTTP/1.1 load generator on libuv (plain or TLS), for benchmarks.
 *
 * N keep-alive connections, each with up to `depth` requests pipelined in flight, either in a
 * closed loop (a new request as soon as a response arrives) or at a fixed offered rate. In the
 * fixed-rate mode latency is measured from the moment a request was due, not from when a
 * connection was free to send it, so a server that falls behind shows it in the percentiles
 * (no coordinated omission). Runs its own loop on the calling thread.
 */
#ifndef SCITT_BENCH_HTTPCLIENT_H
#define SCITT_BENCH_HTTPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
} hc_config;

typedef struct hc_result {
    uint64_t completed; /* responses recorded in the measured phase */
    uint64_t non2xx;    /* of which with a status outside 200..299 */
    uint64_t errors;    /* connections that failed (connect, TLS, parse, reset) */
    uint64_t dropped;   /* fixed rate: requests never sent (the backlog was full) */
    double elapsed_s;   /* length of the measured phase */
    double rps;         /* completed / elapsed_s */
    double p50_us, p99_us, p999_us, max_us;
} hc_result;

/** Runs the load described by @p cfg; 0 on success, -1 when nothing could be measured. */
int hc_run(const hc_config *cfg, hc_result *out);

/**
 * One request on a fresh plain connection, blocking, for side channels such as reading a
 * server's CPU counter. Copies up to @p cap - 1 body bytes into @p body (NUL-terminated);
 * returns the status or -1.
 */
int hc_fetch(const char *host, int port, const char *path, char *body, size_t cap);

#endif /* SCITT_BENCH_HTTPCLIENT_H */
