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
 * GET @p path (application/cose) into @p body, again after Retry-After (1 s without one) while
 * the service answers 503 (e.g. an entry not witnessed yet), until @p timeout_s has passed.
 */
scitt_err cli_get_waiting(scitt_client *cl, const char *path, unsigned timeout_s,
                          scitt_dynbuf *body, char *why, size_t cap);

/**
 * Where an auditor reads the log: "http(s)://..." (the service or any static mirror),
 * "file:///path" or a plain directory path (what `scitt export-tiles` writes).
 */
typedef struct source {
    bool is_http;
    scitt_client *http;
    char dir[4096];
    char label[512];   /* for messages */
    const char *stage; /* scitt mirror: every file read is also written under this folder */
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

/*
 * The network options, one group for every command that talks to a service: --url, --cacert,
 * --timeout and --json (and --help). A command states what they mean for it, --timeout's
 * default and bounds and its help text as data in a net_spec, puts NET_OPTIONS in its getopt
 * table and NET_OPTIONS_HELP where its help lists them, and hands every code its own switch
 * does not take to net_option.
 */
enum { NET_O_URL = 0x1000, NET_O_CACERT, NET_O_TIMEOUT, NET_O_JSON, NET_O_HELP };
#define NET_OPTIONS                                                                                \
    {"url", 1, 0, NET_O_URL}, {"cacert", 1, 0, NET_O_CACERT}, {"timeout", 1, 0, NET_O_TIMEOUT},    \
        {"json", 0, 0, NET_O_JSON},                                                                \
    {                                                                                              \
        "help", 0, 0, NET_O_HELP                                                                   \
    }
/** Where a command's help lists the network options (net_help writes them there). */
#define NET_OPTIONS_HELP "@network-options@\n"

/** What the network options mean for one command. */
typedef struct net_spec {
    const char *help;         /**< the command's --help text, with NET_OPTIONS_HELP */
    const char *url;          /**< what --url names */
    const char *timeout;      /**< what --timeout S bounds */
    uint32_t timeout_default; /**< seconds */
    uint32_t timeout_min, timeout_max;
    const char *json; /**< what --json prints (continuation lines indented 21) */
} net_spec;

/** The network options as given (timeout in seconds). */
typedef struct net_opts {
    const char *url, *cacert;
    uint32_t timeout;
    bool json;
} net_opts;

/** net_option's result after --help: the help was printed, the command exits 0. */
#define NET_HELP_SHOWN (-1)

/** The command's defaults; also resets getopt for a new parse. */
void net_opts_init(net_opts *o, const net_spec *s);
/**
 * Takes one option code from getopt_long that the command's own switch did not: a network
 * option (CLI_OK, or a usage message), --help (prints it, NET_HELP_SHOWN), anything else (an
 * unknown option or a missing value: a usage message naming argv[optind - 1]).
 */
int net_option(net_opts *o, const net_spec *s, int code, char **argv);
/** Prints @p help with its NET_OPTIONS_HELP line replaced by the options as @p s states them. */
int net_help(const char *help, const net_spec *s);
/** cli_client_open with the options. */
int net_client_open(const net_opts *o, const char *token, scitt_client **out);

#endif
