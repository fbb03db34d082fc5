/*
 * tools/http.h — a small, bounded HTTP/1.1 client for the scitt tool: plain TCP or TLS (OpenSSL),
 * one request per connection ("Connection: close"), an overall deadline per request, responses
 * framed by Content-Length, chunked transfer coding or the end of the connection, and hard caps
 * on the head and body sizes. Internal to tools/.
 *
 * The response parser (http_parse_response) is a pure function over bytes, so it can be fuzzed.
 */
#ifndef SCITT_TOOLS_HTTP_H
#define SCITT_TOOLS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"

#define HTTP_HEAD_MAX      (64u << 10) /* status line and headers */
#define HTTP_HEADERS_MAX   100u
#define HTTP_BODY_DEFAULT  (32u << 20) /* default response body cap */
#define HTTP_TIMEOUT_MS    30000
#define HTTP_CHUNK_EXT_MAX 1024u /* bytes of chunk extensions on one chunk line */

typedef struct http_header {
    scitt_span name;  /* token characters */
    scitt_span value; /* without leading and trailing white space */
} http_header;

/** A parsed response. Spans point into the raw bytes given to the parser (body: into `body`). */
typedef struct http_response {
    int status;
    scitt_span reason;
    http_header headers[HTTP_HEADERS_MAX];
    size_t nheaders;
    size_t head_len; /* bytes of the final response's head, interim 1xx responses included */
    bool chunked;
} http_response;

/**
 * Parses the bytes received so far. With @p eof false, SCITT_ERR_TRUNCATED means "read more";
 * with @p eof true an incomplete response is SCITT_ERR_TRUNCATED for good. Interim 1xx responses
 * are skipped. The body (de-chunked) is appended to @p body, whose ceiling caps it
 * (SCITT_ERR_TOO_LARGE). @p no_body: the request was HEAD. Errors: SCITT_ERR_MALFORMED (syntax,
 * conflicting or bad framing headers), SCITT_ERR_TOO_LARGE (head, header count, body),
 * SCITT_ERR_TRAILING (bytes after a delimited body).
 */
scitt_err http_parse_response(scitt_span raw, bool eof, bool no_body, http_response *out,
                              scitt_dynbuf *body);

/** The first header named @p name (case-insensitive), or false. */
bool http_header_get(const http_response *r, const char *name, scitt_span *value);

/** A base URL: scheme, host, port and a path prefix (no trailing '/'). */
typedef struct http_url {
    bool tls;
    char host[256]; /* without brackets for IPv6 */
    char port[8];
    char prefix[1024];
    bool ipv6;
} http_url;

/** Parses "http[s]://host[:port][/prefix]" (no user info, query or fragment). */
scitt_err http_url_parse(const char *url, http_url *out);

typedef struct http_opts {
    int timeout_ms;     /* for the whole request (0: HTTP_TIMEOUT_MS) */
    size_t max_body;    /* (0: HTTP_BODY_DEFAULT) */
    const char *cacert; /* PEM file of trusted CAs for https (NULL: the system's) */
} http_opts;

typedef struct http_request {
    const char *method;
    const char *path;           /* appended to the URL's prefix; starts with '/' */
    const char *const *headers; /* extra "Name: value" lines */
    size_t nheaders;
    scitt_span body;
} http_request;

/** A completed exchange. Owns its buffers: release with http_result_clear. */
typedef struct http_result {
    http_response res;
    scitt_dynbuf raw;
    scitt_dynbuf body;
} http_result;

void http_result_clear(http_result *r);

/**
 * Sends @p req to @p url and reads the whole response. On failure @p why (size @p cap) gets one
 * line saying what failed. Errors: SCITT_ERR_IO (resolve, connect, send, receive, TLS),
 * SCITT_ERR_TIMEOUT, SCITT_ERR_UNTRUSTED (TLS certificate), and the parser's errors.
 */
scitt_err http_do(const http_url *url, const http_request *req, const http_opts *o,
                  http_result *out, char *why, size_t cap);

/** Percent-encodes @p s for a query value into @p out (NUL-terminated). */
scitt_err http_query_escape(const char *s, char *out, size_t cap);

#endif
