/*
 * tools/net.h — talking to a scittd service (or a static copy of its read API): base URLs, GET and
 * POST with the tool's timeouts, RFC 9290 problem details for messages, Retry-After, and a source
 * of log files that is either HTTP(S) or a local directory. Internal to tools/.
 */
#ifndef SCITT_TOOLS_NET_H
#define SCITT_TOOLS_NET_H

#include "cli.h"
#include "http.h"

/** A service base URL with the request options every call uses. */
typedef struct svc {
    http_url url;
    http_opts opts;
} svc;

/** Parses @p url for requests; prints a message and returns CLI_USAGE when it is not valid. */
int svc_init(svc *s, const char *url, const char *cacert, int timeout_ms);

/** GET @p path (with its query) with an Accept header; see http_do for errors. */
scitt_err svc_get(const svc *s, const char *path, const char *accept, http_result *out, char *why,
                  size_t cap);

/**
 * Describes a non-2xx response in one line: "<status> <title>: <detail>" from the RFC 9290
 * problem details body when there is one, else the status line.
 */
void svc_problem(const http_result *r, char *out, size_t cap);

/** The problem details title (text) of @p r, or an empty string. */
void svc_problem_title(const http_result *r, char *out, size_t cap);

/** Seconds from a Retry-After header (delta-seconds only), else @p dflt; clamped to 0..3600. */
int svc_retry_after(const http_result *r, int dflt);

/**
 * Where an auditor reads the log: "http(s)://..." (the service or any static mirror),
 * "file:///path" or a plain directory path (what `scitt export-tiles` writes).
 */
typedef struct source {
    bool is_http;
    svc http;
    char dir[4096];
    char label[512]; /* for messages */
} source;

/** Prints a message and returns CLI_USAGE when @p where is not usable. */
int source_open(source *s, const char *where, const char *cacert, int timeout_ms);

/**
 * Reads @p rel ("checkpoint", "tile/0/000", ".well-known/scitt-keys", ...) into @p out (whose
 * ceiling is @p max). SCITT_ERR_NOT_FOUND for a missing file or an HTTP 404; @p why explains any
 * other failure. @p out is initialised here; release it with scitt_dynbuf_clear.
 */
scitt_err source_get(const source *s, const char *rel, size_t max, scitt_dynbuf *out, char *why,
                     size_t cap);

/** Shared option text for the network options. */
#define NET_OPTIONS_HELP                                                                           \
    "  --cacert FILE      trust these CA certificates (PEM) for https instead of the system's\n"

#endif
