/*
 * client/http.h — the transport of libscitt-client (internal): a small, bounded HTTP/1.1 client,
 * plain TCP or TLS (OpenSSL), one request per connection ("Connection: close"), an overall
 * deadline per request, responses framed by Content-Length, chunked transfer coding or the end
 * of the connection, and hard caps on the head and body sizes.
 *
 * The response parser (scitt__http_parse_response) is a pure function over bytes, so it can be
 * fuzzed (tests/fuzz/client_http_response.c) and unit-tested (tests/unit/client).
 */
#ifndef SCITT_CLIENT_HTTP_H
#define SCITT_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"
#include "scitt/client.h"

#define SCITT__HTTP_HEAD_MAX      (64u << 10) /* status line and headers */
#define SCITT__HTTP_HEADERS_MAX   100u
#define SCITT__HTTP_BODY_DEFAULT  (32u << 20) /* default response body cap */
#define SCITT__HTTP_TIMEOUT_MS    30000
#define SCITT__HTTP_CHUNK_EXT_MAX 1024u /* bytes of chunk extensions on one chunk line */

typedef struct scitt__http_header {
    scitt_span name;  /* token characters */
    scitt_span value; /* without leading and trailing white space */
} scitt__http_header;

/** A parsed response. Spans point into the raw bytes given to the parser (body: into `body`). */
typedef struct scitt__http_response {
    int status;
    scitt_span reason;
    scitt__http_header headers[SCITT__HTTP_HEADERS_MAX];
    size_t nheaders;
    size_t head_len; /* bytes of the final response's head, interim 1xx responses included */
    bool chunked;
} scitt__http_response;

/**
 * Parses the bytes received so far. With @p eof false, SCITT_ERR_TRUNCATED means "read more";
 * with @p eof true an incomplete response is SCITT_ERR_TRUNCATED for good. Interim 1xx responses
 * are skipped. The body (de-chunked) is appended to @p body, whose ceiling caps it
 * (SCITT_ERR_TOO_LARGE). @p no_body: the request was HEAD. Errors: SCITT_ERR_MALFORMED (syntax,
 * conflicting or bad framing headers), SCITT_ERR_TOO_LARGE (head, header count, body),
 * SCITT_ERR_TRAILING (bytes after a delimited body).
 */
scitt_err scitt__http_parse_response(scitt_span raw, bool eof, bool no_body,
                                     scitt__http_response *out, scitt_dynbuf *body);

/** The first header named @p name (case-insensitive), or false. */
bool scitt__http_header_get(const scitt__http_response *r, const char *name, scitt_span *value);

/** A base URL: scheme, host, port and a path prefix (no trailing '/'). */
typedef struct scitt__http_url {
    bool tls;
    char host[256]; /* without brackets for IPv6 */
    char port[8];
    char prefix[1024];
    bool ipv6;
} scitt__http_url;

/** Parses "http[s]://host[:port][/prefix]" (no user info, query or fragment). */
scitt_err scitt__http_url_parse(const char *url, scitt__http_url *out);

typedef struct scitt__http_opts {
    int timeout_ms;         /* for the whole request (0: SCITT__HTTP_TIMEOUT_MS) */
    size_t max_body;        /* (0: SCITT__HTTP_BODY_DEFAULT) */
    const char *cacert;     /* PEM file of trusted CAs for https (NULL: the system's) */
    const char *user_agent; /* (NULL: "scitt") */
} scitt__http_opts;

typedef struct scitt__http_request {
    const char *method;
    const char *path;           /* appended to the URL's prefix; starts with '/' */
    const char *const *headers; /* extra "Name: value" lines */
    size_t nheaders;
    scitt_span body;
} scitt__http_request;

/** A completed exchange. Owns its buffers: release with scitt__http_result_clear. */
typedef struct scitt__http_result {
    scitt__http_response res;
    scitt_dynbuf raw;
    scitt_dynbuf body;
} scitt__http_result;

void scitt__http_result_clear(scitt__http_result *r);

/**
 * What @p r answered, as scitt_client_last() reports it (status, RFC 9290 title, the one-line
 * problem, Retry-After), for callers that use the transport directly (client.c).
 */
void scitt__http_reply_of(const scitt__http_result *r, scitt_client_reply *out);

/**
 * Sends @p req to @p url and reads the whole response. On failure @p why (size @p cap) gets one
 * line saying what failed. Errors: SCITT_ERR_IO (resolve, connect, send, receive, TLS),
 * SCITT_ERR_TIMEOUT, SCITT_ERR_UNTRUSTED (TLS certificate), and the parser's errors.
 */
scitt_err scitt__http_do(const scitt__http_url *url, const scitt__http_request *req,
                         const scitt__http_opts *o, scitt__http_result *out, char *why, size_t cap);

/** Bytes of a Location header the client follows (longer ones are refused). */
#define SCITT__HTTP_LOCATION_MAX 2048u

/**
 * An HTTP-date (RFC 9110, 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms, all
 * GMT) as Unix seconds. False for anything else.
 */
bool scitt__http_date_parse(scitt_span v, int64_t *out);

/**
 * A Retry-After value (RFC 9110, 10.2.3): delta-seconds, or an HTTP-date read against @p now
 * (Unix seconds; a date in the past is 0), capped at @p cap_s. False when it is neither.
 */
bool scitt__http_retry_after(scitt_span v, int64_t now, uint32_t cap_s, uint32_t *out);

/** Same scheme, host (ASCII case-insensitive) and port. */
bool scitt__http_same_origin(const scitt__http_url *a, const scitt__http_url *b);

/**
 * Resolves a Location header against the URL the request went to: an absolute path ("/x?y",
 * on @p base's origin) or an absolute http(s) URL. @p target gets the origin (its prefix empty),
 * @p path the path and query (a fragment is dropped). Relative references ("x", "../x"), other
 * schemes, controls, spaces and values of SCITT__HTTP_LOCATION_MAX bytes or more are
 * SCITT_ERR_MALFORMED; a path over @p cap is SCITT_ERR_TOO_LARGE.
 */
scitt_err scitt__http_location(const scitt__http_url *base, scitt_span loc, scitt__http_url *target,
                               char *path, size_t cap);

/** Percent-encodes @p s for a query value into @p out (NUL-terminated). */
scitt_err scitt__http_query_escape(const char *s, char *out, size_t cap);

#endif
