/*
 * tools/net.h — the scitt tool's side of libscitt-client (scitt/client.h): a client opened from
 * the command line, and the source an auditor reads the log from (a service or static copy over
 * HTTP(S), or a directory). Internal to tools/.
 */
#ifndef SCITT_TOOLS_NET_H
#define SCITT_TOOLS_NET_H

#include "cli.h"

#include "scitt/client.h"

/**
 * Opens a client for @p url (required) with the tool's options; prints a usage message and
 * returns CLI_USAGE when it cannot. @p token may be NULL or "". Free with scitt_client_free.
 */
int cli_client_open(const char *url, const char *cacert, uint32_t timeout_ms, const char *token,
                    scitt_client **out);

/**
 * Where an auditor reads the log: "http(s)://..." (the service or any static mirror),
 * "file:///path" or a plain directory path (what `scitt export-tiles` writes).
 */
typedef struct source {
    bool is_http;
    scitt_client *http;
    char dir[4096];
    char label[512]; /* for messages */
} source;

/** Prints a message and returns CLI_USAGE when @p where is not usable. Close with source_close. */
int source_open(source *s, const char *where, const char *cacert, uint32_t timeout_ms);
void source_close(source *s);

/**
 * Reads @p rel ("checkpoint", "tile/0/000", ".well-known/scitt-keys", ...) into @p out (whose
 * ceiling is @p max). SCITT_ERR_NOT_FOUND for a missing file or an HTTP 404; @p why explains any
 * other failure. @p out is initialised here; release it with scitt_dynbuf_clear.
 */
scitt_err source_get(source *s, const char *rel, size_t max, scitt_dynbuf *out, char *why,
                     size_t cap);

/** Shared option text for the network options. */
#define NET_OPTIONS_HELP                                                                           \
    "  --cacert FILE      trust these CA certificates (PEM) for https instead of the system's\n"

#endif
