/*
 * Compatibility with older SCITT clients:
 *
 * - discovery: the transparency configuration's jwks_uri is absolute, built from --public-url,
 *   or (without it) from the request's Host and the listener's scheme;
 * - --compat-operations: the SCRAPI operation flow of drafts before -04, as scitt-ccf-ledger
 *   serves it. POST /entries answers 202 with Location /operations/{id}, Retry-After and a CBOR
 *   operation {"OperationID": id, "Status": "running"}; GET /operations/{id} answers that map
 *   while it runs (with Retry-After), {"EntryID": id, "Status": "succeeded"} or {"Status":
 *   "failed", "Error": {-1: title, -2: detail}} (the spelling of the published API description,
 *   see send_operation), and 404 for an operation it does not know. The operation ID is the
 *   entry ID, so an operation outlives a restart once it succeeded.
 */
#include "scittd.h"

#include <stdio.h>
#include <string.h>

/* Bytes allowed in a public URL or a Host value: RFC 3986 unreserved, sub-delims, ':', '/',
 * '[', ']', '@' and '%' (no spaces, quotes, controls, '?' or '#'). */
static bool url_byte(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return strchr("-._~!$&'()*+,;=:/[]@%", c) != NULL && c != 0;
}

bool scittd_public_url_valid(const char *url)
{
    size_t n = strlen(url);
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (scheme == 0 || n <= scheme || n > SCITTD_PUBLIC_URL_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!url_byte((uint8_t)url[i])) {
            return false;
        }
    }
    return url[scheme] != '/';
}

bool scittd_absolute_url(const scittd *d, const scitt_http_req *req, const char *path, char *out,
                         size_t cap)
{
    if (d->cfg.public_url) {
        size_t n = strlen(d->cfg.public_url);
        while (n > 0 && d->cfg.public_url[n - 1] == '/') {
            n--;
        }
        int w = snprintf(out, cap, "%.*s%s", (int)n, d->cfg.public_url, path);
        return w > 0 && (size_t)w < cap;
    }
    /* No configured URL: the Host the client used, when it is a plain authority. */
    scitt_span host;
    if (!scitt_http_req_header(req, "Host", &host) || host.len == 0 || host.len > 255) {
        return false;
    }
    for (size_t i = 0; i < host.len; i++) {
        uint8_t c = host.ptr[i];
        if (!url_byte(c) || c == '/' || c == '@' || c == '%') {
            return false;
        }
    }
    int w = snprintf(out, cap, "%s://%.*s%s", d->cfg.tls_cert ? "https" : "http", (int)host.len,
                     (const char *)host.ptr, path);
    return w > 0 && (size_t)w < cap;
}

/* ---- the operation flow ------------------------------------------------------------------ */

static void put_text(scitt_cbor_writer *w, const char *k, const char *v)
{
    scitt_cbor_put_cstr(w, k);
    scitt_cbor_put_cstr(w, v);
}

/*
 * The operation as the published API description of the Code Transparency service spells it
 * (azure-rest-api-specs, specification/confidentialledger/Microsoft.CodeTransparency/main.tsp,
 * api-version 2025-01-31-preview, CreateEntryPending and OperationStatusComplete): running
 * {"OperationID": id, "Status": "running"}, succeeded {"EntryID": id, "Status": "succeeded"},
 * failed {"Status": "failed", "Error": {-1: title, -2: detail}}. Keys in deterministic order
 * (RFC 8949 4.2.1: shorter encodings first): "Error", "Status", "EntryID", "OperationID".
 */
static void send_operation(scitt_http_req *req, int http_status, const char *hex,
                           const char *status, const char *error_detail)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    bool done = strcmp(status, "succeeded") == 0;
    scitt_cbor_put_map(&w, 2);
    if (error_detail) {
        scitt_cbor_put_cstr(&w, "Error");
        scitt_cbor_put_map(&w, 2);
        scitt_cbor_put_int(&w, -1);
        scitt_cbor_put_cstr(&w, "Registration Failed");
        scitt_cbor_put_int(&w, -2);
        scitt_cbor_put_cstr(&w, error_detail);
    }
    put_text(&w, "Status", status);
    if (done) {
        put_text(&w, "EntryID", hex);
    } else if (!error_detail) {
        put_text(&w, "OperationID", hex);
    }
    if (scitt_cbor_writer_finish(&w, NULL) != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scittd_problem(req, 500, "Internal Server Error", "response too large");
        return;
    }
    scitt_http_res_status(req, http_status);
    scittd_header(req, "Cache-Control", "no-store");
    if (!done && !error_detail) {
        scittd_header(req, "Retry-After", SCITTD_RETRY_AFTER_S);
    }
    if (scitt_http_res_body_copy(req, "application/cbor", scitt_span_make(b.ptr, b.len)) !=
        SCITT_OK) {
        scittd_problem(req, 500, "Internal Server Error", "out of memory");
    }
    scitt_dynbuf_clear(&b);
}

void scittd_compat_accepted(scitt_http_req *req, const uint8_t id[SCITT_HASH_LEN])
{
    char hex[2 * SCITT_HASH_LEN + 1], loc[16 + sizeof(hex)];
    scitt_entry_id_hex(id, hex);
    snprintf(loc, sizeof(loc), "/operations/%s", hex);
    scittd_header(req, "Location", loc);
    send_operation(req, 202, hex, "running", NULL);
}

static bool operation_path(const scitt_http_req *req, uint8_t id[SCITT_HASH_LEN])
{
    scitt_span path = scitt_http_req_path(req);
    static const char prefix[] = "/operations/";
    size_t pl = sizeof(prefix) - 1;
    return path.len > pl &&
           scitt_entry_id_parse(scitt_span_make(path.ptr + pl, path.len - pl), id) == SCITT_OK;
}

static void operation_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    (void)d;
    uint8_t id[SCITT_HASH_LEN];
    char hex[2 * SCITT_HASH_LEN + 1];
    uint64_t index;
    scitt_err e = operation_path(req, id) ? scitt_ledger_find(r, id, &index) : SCITT_ERR_NOT_FOUND;
    scitt_entry_id_hex(id, hex);
    if (e == SCITT_OK) {
        send_operation(req, 200, hex, "succeeded", NULL);
    } else if (e == SCITT_ERR_NOT_FOUND) {
        scittd_problem(req, 404, "Operation Not Found", "no registration with this operation ID");
    } else {
        scittd_fail(req, e, "the operation could not be read");
    }
}

void scittd_route_operations(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    uint8_t id[SCITT_HASH_LEN];
    if (!operation_path(req, id)) {
        scittd_problem(req, 404, "Operation Not Found",
                       "operation IDs are 64 lowercase hexadecimal digits");
        scitt_http_complete(req);
        return;
    }
    char hex[2 * SCITT_HASH_LEN + 1], detail[128];
    scitt_entry_id_hex(id, hex);
    switch (scittd_registration_state(d, id, detail, sizeof(detail))) {
    case SCITTD_REG_PENDING:
        send_operation(req, 200, hex, "running", NULL);
        scitt_http_complete(req);
        return;
    case SCITTD_REG_FAILED:
        send_operation(req, 200, hex, "failed", detail);
        scitt_http_complete(req);
        return;
    default:
        scittd_offload_read(d, req, operation_read);
        return;
    }
}
