/*
 * scitt/client.h — libscitt-client: the client side of a SCITT transparency service (SCRAPI as
 * scittd serves it, and its read API), for programs that register statements, fetch receipts and
 * keys, query the log or audit it. The `scitt` command-line tool is built on it; docs/client.md
 * has an example program.
 *
 * What it does:
 *  - registration: POST /entries, then the receipt, waiting for it with the polling rules below
 *    (scitt_client_register), or one step at a time (scitt_client_submit, scitt_client_poll);
 *  - receipts and transparent statements of entries, the service keys (COSE_Key_Set or JWKS),
 *    the transparency configuration, the attestation bundle;
 *  - GET /query page by page, with the rules that keep a client from following a service forever;
 *  - checkpoints, tiles, entry bundles and consistency receipts, as an auditor reads them.
 *
 * Transport: HTTP/1.1 over TCP or TLS 1.2+ (OpenSSL; the peer's certificate and host name are
 * verified against the system's CAs or a CA file), one request per connection, a deadline for
 * each request, responses framed by Content-Length, chunked coding or the end of the connection,
 * at most 64 KiB of head (100 headers) and a body no larger than the caller's buffer allows.
 * An optional bearer token is sent with registrations (POST /entries and its polls, to the
 * service's origin only). Redirects are followed by registrations only (scitt_client_submit).
 *
 * Linking: -lscitt-client -lscitt and OpenSSL (libssl, libcrypto). It does not pull LMDB, libuv
 * or libpq. Nothing is printed, logged or exited: every outcome is returned.
 *
 * Errors: every call returns a scitt_err and, when @p reason is not NULL, writes one line saying
 * what failed into it (at most @p cap bytes, NUL-terminated; "" on success). After a call that
 * reached the service, scitt_client_last() says what it answered (HTTP status, RFC 9290 problem
 * details, Retry-After). The codes:
 *  - SCITT_ERR_INVALID_ARG: a URL, entry ID, token or argument that cannot be used;
 *  - SCITT_ERR_IO: resolving, connecting, sending or receiving failed, or the service answered
 *    with an HTTP status the call does not expect;
 *  - SCITT_ERR_TIMEOUT: a request, or the wait of a registration, ran out of time;
 *  - SCITT_ERR_UNTRUSTED: the service's TLS certificate is not trusted;
 *  - SCITT_ERR_MALFORMED, SCITT_ERR_TRUNCATED, SCITT_ERR_TRAILING, SCITT_ERR_TOO_LARGE: the
 *    response is not valid HTTP/1.1, is over its cap, or its body is not what the call reads;
 *  - SCITT_ERR_POLICY: the service refused the statement (a 400 to POST /entries, or a
 *    registration that failed after 202);
 *  - SCITT_ERR_NOT_FOUND: 404 (an unknown entry, a tile the service does not have);
 *  - SCITT_ERR_BUSY: 429 or 503 (retry after scitt_client_last()->retry_after seconds), or an
 *    entry whose registration is still running (204);
 *  - SCITT_ERR_NOMEM.
 *
 * Threads: a scitt_client is used by one thread at a time; clients are independent of each other.
 */
#ifndef SCITT_CLIENT_H
#define SCITT_CLIENT_H

#include "scitt/base.h"
#include "scitt/cose.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCITT_CLIENT_TIMEOUT_MS   30000u      /**< default deadline of one request */
#define SCITT_CLIENT_RECEIPT_MAX  (16u << 20) /**< ceiling of a registration's receipt */
#define SCITT_CLIENT_TOKEN_MAX    4096u       /**< bytes of a bearer token */
#define SCITT_CLIENT_RETRY_MAX    3600u       /**< Retry-After values are capped at this */
#define SCITT_CLIENT_PAGE_MAX     1000u       /**< rows of one query page (scittd's limit) */
#define SCITT_CLIENT_ENTRY_ID_LEN 64u         /**< hex digits of an entry ID */

/** An open client: a service URL and the options of every request. */
typedef struct scitt_client scitt_client;

typedef struct scitt_client_options {
    /** "http://host[:port][/prefix]" or "https://..." (no user info, query or fragment). */
    const char *url;
    /** PEM file of the CAs trusted for https (NULL: the system's). Read at each connection. */
    const char *cacert;
    /** Bearer token sent with POST /entries (NULL: none). Copied; wiped when the client is freed.
     */
    const char *token;
    /** Deadline of each request in milliseconds (0: SCITT_CLIENT_TIMEOUT_MS). */
    uint32_t timeout_ms;
    /** User-Agent header (NULL: "scitt"). */
    const char *user_agent;
} scitt_client_options;

/** What the service answered to the last request of a client. */
typedef struct scitt_client_reply {
    int status; /**< HTTP status; 0 when no response arrived */
    /** The RFC 9290 title, printable ASCII (other bytes escaped); "" without problem details. */
    char title[200];
    /** For messages: "<status> <title>: <detail>", or "HTTP <status> <reason phrase>". */
    char problem[800];
    bool has_retry_after; /**< a Retry-After was sent (delta-seconds or an HTTP-date) */
    uint32_t retry_after; /**< its value, at most SCITT_CLIENT_RETRY_MAX */
} scitt_client_reply;

/**
 * Opens a client (nothing is sent yet). SCITT_ERR_INVALID_ARG for a URL that is not http(s), a
 * token over SCITT_CLIENT_TOKEN_MAX bytes or holding a line break. Free with scitt_client_free.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_new(const scitt_client_options *o,
                                                    scitt_client **out, char *reason, size_t cap);
/** Frees @p c and wipes its token; NULL is a no-op. */
SCITT_API void scitt_client_free(scitt_client *c);
/** Changes the deadline of each later request (0: SCITT_CLIENT_TIMEOUT_MS). */
SCITT_API void scitt_client_set_timeout(scitt_client *c, uint32_t timeout_ms);
/**
 * Sends "api-version=@p v" in the query of every later request to the service's origin, as
 * Microsoft's Code Transparency API wants it ("2025-01-31-preview", "2026-03-26"); NULL or ""
 * stops it. SCITT_ERR_INVALID_ARG unless @p v is 1..64 letters, digits, '.', '-' or '_'.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_set_api_version(scitt_client *c, const char *v);
/** The URL the client was opened with (as given). */
SCITT_API const char *scitt_client_url(const scitt_client *c);
/** What the service answered last; valid until the next call on @p c. */
SCITT_API const scitt_client_reply *scitt_client_last(const scitt_client *c);

/* ---- registration ---------------------------------------------------------------------------- */

/** Asks for 202 Accepted (Prefer: respond-async): the receipt is then polled for. */
#define SCITT_CLIENT_ASYNC 1u

/** Redirects (302, 303, 307) one registration follows at most. */
#define SCITT_CLIENT_REDIRECT_MAX 5u
/** Bytes of a Location the client follows (with its NUL). */
#define SCITT_CLIENT_LOCATION_MAX 2048u

/** How a pending registration is polled. */
enum {
    SCITT_CLIENT_POLL_NONE = 0,  /**< not pending (a poll then uses entry_id) */
    SCITT_CLIENT_POLL_ENTRY,     /**< GET /entries/{entry_id} under the URL (204 while running) */
    SCITT_CLIENT_POLL_OPERATION, /**< GET {poll} under the URL, "/operations/{id}" */
    SCITT_CLIENT_POLL_LOCATION,  /**< GET {poll}, an absolute URL a redirect named */
};

/** A registration, pending or done. */
typedef struct scitt_client_registration {
    /**
     * The entry ID from the Location header or the operation; "" when the service named none.
     * scittd's are 64 lowercase hex digits; other services' (CCF's "2.131") are 1..64 bytes of
     * URL-unreserved characters.
     */
    char entry_id[SCITT_CLIENT_ENTRY_ID_LEN + 1];
    bool done;            /**< receipt holds the service's receipt */
    uint32_t retry_after; /**< pending: seconds to wait before scitt_client_poll (at least 1) */
    scitt_dynbuf receipt; /**< owned (ceiling SCITT_CLIENT_RECEIPT_MAX) */
    /**
     * Pending: milliseconds to wait before the next poll: the service's Retry-After when it sent
     * one (delta-seconds or HTTP-date, at least 1 s), else an exponential backoff with jitter
     * (0.5..1 s, 1..2 s, 2..4 s, ... at most 16 s); 0 after a 303 or a finished operation, whose
     * next request is due at once.
     */
    uint32_t wait_ms;
    int poll_kind;                        /**< SCITT_CLIENT_POLL_* */
    char poll[SCITT_CLIENT_LOCATION_MAX]; /**< the operation path or the redirect's URL */
    unsigned redirects;                   /**< redirects followed so far */
    unsigned polls;                       /**< "still running" answers so far (the backoff) */
} scitt_client_registration;

SCITT_API void scitt_client_registration_init(scitt_client_registration *r);
SCITT_API void scitt_client_registration_clear(scitt_client_registration *r);

/**
 * One POST /entries of @p statement (a tagged COSE_Sign1, sent as application/cose). SCITT_OK
 * either with r->done (200 or 201: the receipt) or pending (r->poll_kind says what to poll):
 *  - 202 with Location .../entries/{id} (SCRAPI -11, scittd): poll GET /entries/{id};
 *  - 202 with Location .../operations/{id}, or an operation body naming it (drafts before -04,
 *    scitt-ccf-ledger, Microsoft's api-version 2025-01-31-preview): poll GET /operations/{id};
 *  - 303 See Other (or 302, 307) with a Location (drafts -04..-10, api-version 2026-03-26):
 *    GET that Location.
 * SCITT_ERR_BUSY for 429 and 503 (r->retry_after says when to try again), SCITT_ERR_POLICY when
 * the service refuses the statement (400), SCITT_ERR_MALFORMED for a 202 or redirect without a
 * usable Location, SCITT_ERR_UNTRUSTED for a redirect this client refuses to follow.
 *
 * Redirects: a Location is an absolute path (on the origin of the request it answers) or an
 * absolute http(s) URL; relative references are refused. At most SCITT_CLIENT_REDIRECT_MAX are
 * followed (a 302 to the URL just asked is "still running", not a redirect). A redirect to the
 * service's origin (scheme, host and port of the URL) is followed with the bearer token and
 * the api-version; one to another origin is followed without either, and never from https to
 * http.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_submit(scitt_client *c, scitt_span statement,
                                                       unsigned flags, scitt_client_registration *r,
                                                       char *reason, size_t cap);
/**
 * One poll of a pending registration, as r->poll_kind says (SCITT_CLIENT_POLL_NONE with an
 * entry_id polls GET /entries/{entry_id}). SCITT_OK with r->done (200 or 201: the receipt), or
 * still pending (204, 202, a 302 to the same URL, an operation "running"; r->wait_ms), or
 * moved on (a redirect followed; an operation that "succeeded" now polls its entry, r->wait_ms
 * 0). SCITT_ERR_POLICY when the registration failed (400, a 404 titled "Registration Failed",
 * an operation "failed"), SCITT_ERR_NOT_FOUND when the service does not know the entry or
 * operation, SCITT_ERR_BUSY for 429 and 503, SCITT_ERR_MALFORMED for an operation body that is
 * not one.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_poll(scitt_client *c, scitt_client_registration *r,
                                                     char *reason, size_t cap);
/**
 * Registers @p statement and waits at most @p wait_ms for its receipt, by these rules:
 *  - scitt_client_submit, then scitt_client_poll while the registration is pending, each poll
 *    after r->wait_ms (the service's Retry-After in either form, else exponential backoff with
 *    jitter);
 *  - 429 and 503 are retried (the same request) after Retry-After, else after the same backoff;
 *  - every request and every wait ends by the deadline: a request gets the time left (at most
 *    the client's timeout), and a wait never runs past it.
 * Errors as scitt_client_submit and scitt_client_poll, and SCITT_ERR_TIMEOUT at the deadline
 * ("no receipt within N s"). r->entry_id is kept whenever it became known.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_register(scitt_client *c, scitt_span statement,
                                                         unsigned flags, uint32_t wait_ms,
                                                         scitt_client_registration *r, char *reason,
                                                         size_t cap);

/* ---- entries, keys, configuration ------------------------------------------------------------ */

/*
 * Calls that fetch a document write its body into @p out, which the caller initialises
 * (scitt_dynbuf_init): its ceiling caps the body (SCITT_ERR_TOO_LARGE beyond it), and what it
 * held before is replaced. On failure @p out is left empty.
 */

/**
 * GET /entries/{entry_id}: a receipt for the entry. While its registration is pending (204) it
 * polls for up to @p wait_ms (0: not at all) after each Retry-After (at least 1 s); still pending
 * then, SCITT_ERR_BUSY. SCITT_ERR_POLICY when the registration failed, SCITT_ERR_NOT_FOUND for
 * an entry the service does not know, SCITT_ERR_INVALID_ARG for an entry ID that is not 64
 * lowercase hex digits.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_receipt(scitt_client *c, const char *entry_id,
                                                        uint32_t wait_ms, scitt_dynbuf *out,
                                                        char *reason, size_t cap);
/** GET /entries/{entry_id}/statement: the transparent statement; as scitt_client_receipt. */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_statement(scitt_client *c, const char *entry_id,
                                                          uint32_t wait_ms, scitt_dynbuf *out,
                                                          char *reason, size_t cap);

/** Fetch the key set as a JWKS (GET /jwks) instead of a COSE_Key_Set. */
#define SCITT_CLIENT_JWKS 1u

/**
 * GET /.well-known/scitt-keys (or, with SCITT_CLIENT_JWKS, /jwks): the service's receipt keys.
 * @p raw (may be NULL) receives the document as served; @p keys (may be NULL) the parsed set
 * (free with scitt_cose_keyset_free). A document that does not parse is the parser's error.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_keys(scitt_client *c, unsigned flags,
                                                     scitt_dynbuf *raw, scitt_cose_keyset **keys,
                                                     char *reason, size_t cap);
/**
 * GET /.well-known/transparency-configuration: a CBOR map (checked to be well-formed CBOR).
 * Read its text members with scitt_client_config_text.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_configuration(scitt_client *c, scitt_dynbuf *out,
                                                              char *reason, size_t cap);
/**
 * GET /attestation[?nonce=HEX]: the service bundle (its identity document and the TEE evidence
 * binding it), unverified: scitt/attest.h checks it. @p nonce_len is 0..32.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_attestation(scitt_client *c, const uint8_t *nonce,
                                                            size_t nonce_len, scitt_dynbuf *out,
                                                            char *reason, size_t cap);

/* ---- query ----------------------------------------------------------------------------------- */

/** One entry of a query page; texts made printable (scitt_client_printable) and cut to fit. */
typedef struct scitt_client_row {
    char entry_id[SCITT_CLIENT_ENTRY_ID_LEN + 1];
    uint64_t index;
    int64_t registered; /**< Unix seconds of the tree head that first covered it */
    char iss[512], sub[512], content_type[256];
    char digest[130]; /**< hex: a hash envelope's payload, else SHA-256 of the payload */
} scitt_client_row;

/**
 * A query and where it stands. The caller sets the filters (NULL: not constrained; after and
 * before are Unix seconds or RFC 3339 UTC) and cursor (0: from the first entry); each page moves
 * it on.
 */
typedef struct scitt_client_query {
    const char *iss, *sub, *digest, *after, *before;
    uint64_t cursor; /**< where the next page starts */
    uint64_t next;   /**< the next cursor the last page named (0: none) */
    bool done;       /**< the last page named no next cursor: the result is complete */
    /**
     * The last page named a next cursor but carried no entry or did not move the cursor forward:
     * following it could go on forever, so the query must stop here (cursor is not moved).
     */
    bool stalled;
} scitt_client_query;

/**
 * One GET /query page of at most @p limit entries (1..SCITT_CLIENT_PAGE_MAX) into @p rows (room
 * for @p rows_cap), *n of them. On success q->next, q->done and q->stalled describe the page,
 * and q->cursor moves to q->next unless the page is the last or stalled.
 * SCITT_ERR_TOO_LARGE when the page holds more than @p rows_cap entries.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_query_page(scitt_client *c, scitt_client_query *q,
                                                           size_t limit, scitt_client_row *rows,
                                                           size_t rows_cap, size_t *n, char *reason,
                                                           size_t cap);

/* ---- the log, as an auditor reads it ------------------------------------------------------- */

/** GET /checkpoint: the C2SP signed checkpoint note (unverified: scitt/note.h checks it). */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_checkpoint(scitt_client *c, scitt_dynbuf *out,
                                                           char *reason, size_t cap);
/**
 * GET /tile/<level>/<index>[.p/<width>]: a tlog-tiles hash tile; @p width 1..256, 256 for a full
 * tile. Unverified: an auditor recomputes its hashes.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_tile(scitt_client *c, unsigned level,
                                                     uint64_t index, unsigned width,
                                                     scitt_dynbuf *out, char *reason, size_t cap);
/** GET /tile/entries/<index>[.p/<width>]: an entry bundle (split it with the entries' lengths). */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_entry_bundle(scitt_client *c, uint64_t index,
                                                             unsigned width, scitt_dynbuf *out,
                                                             char *reason, size_t cap);
/**
 * GET /proofs/consistency?from=&to=: the service's consistency receipt between two tree sizes
 * (scitt_receipt_verify_consistency checks it).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_consistency(scitt_client *c, uint64_t from,
                                                            uint64_t to, scitt_dynbuf *out,
                                                            char *reason, size_t cap);
/**
 * GET of any @p path under the URL ("/checkpoint", "/tile/0/000", ...; it starts with '/') with
 * @p accept (NULL: any). Only 200 succeeds; 404 is SCITT_ERR_NOT_FOUND.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_get(scitt_client *c, const char *path,
                                                    const char *accept, scitt_dynbuf *out,
                                                    char *reason, size_t cap);

/* ---- what the service answers, parsed (pure functions, for any response source) ------------ */

/**
 * RFC 9290 problem details: title (-1) and detail (-2), each a text or tag 38 [lang, text].
 * The spans point into @p body. False when @p body is not a CBOR map or carries neither.
 */
SCITT_API bool scitt_client_problem_parse(scitt_span body, scitt_span *title, scitt_span *detail);
/** The text member @p key of the transparency configuration (a CBOR map with text keys). */
SCITT_API bool scitt_client_config_text(scitt_span config, const char *key, char *out, size_t cap);
/**
 * A GET /query page as scittd serves it ({"next": uint / null, "entries": [...]}, CBOR): at most
 * @p cap rows into @p rows (*n of them), *next = 0 on the last page. Fields added later are
 * skipped; SCITT_ERR_TOO_LARGE for more than @p cap entries.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_query_parse(scitt_span body, scitt_client_row *rows,
                                                            size_t cap, size_t *n, uint64_t *next);
/** What a registration operation reports (SCRAPI drafts before -04, scitt-ccf-ledger). */
enum { SCITT_CLIENT_OP_RUNNING = 1, SCITT_CLIENT_OP_SUCCEEDED, SCITT_CLIENT_OP_FAILED };

typedef struct scitt_client_operation {
    int status;                                       /**< SCITT_CLIENT_OP_* */
    char operation_id[SCITT_CLIENT_ENTRY_ID_LEN + 1]; /**< "" when the body names none */
    char entry_id[SCITT_CLIENT_ENTRY_ID_LEN + 1];     /**< set when it succeeded */
    char error[600]; /**< failed: "title: detail", printable (may be "") */
} scitt_client_operation;

/**
 * An operation body (CBOR map): "status" ("running", "succeeded" or "failed"), "operationId",
 * "entryId", "error" (a map keyed -1/-2 as RFC 9290, "title"/"detail" or "code"/"message").
 * Keys are matched without regard to case, as the deployed services spell them differently
 * ("OperationId", "OperationID", "operationId"); other keys are skipped. IDs are 1..64 bytes of
 * URL-unreserved characters (scittd's 64 hex digits, CCF's "2.131"). SCITT_ERR_MALFORMED for no
 * status, an unknown one, a success without entry ID, or an ID of other bytes.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_client_operation_parse(scitt_span body,
                                                                scitt_client_operation *op);
/** An identifier a service may name: 1..64 bytes of RFC 3986 unreserved characters. */
SCITT_API bool scitt_client_id_ok(scitt_span s);
/** @p s for a message: printable ASCII kept, other bytes as \xNN, cut to fit @p cap. */
SCITT_API void scitt_client_printable(scitt_span s, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_CLIENT_H */
