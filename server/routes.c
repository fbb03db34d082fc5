/*
 * The daemon's route table: every SCRAPI and read endpoint with its methods, body limit and
 * media types. Shared by the daemon and the fuzz target that drives the real routes.
 */
#include "scittd.h"
#include "witness.h"
#include "witness_role.h"

#include "scitt/witness.h"

#include <string.h>

typedef struct route_row {
    const char *name;
    unsigned methods;
    const char *path;
    bool prefix;
    scitt_http_handler handler;
    bool body;    /* takes a statement: the body limit, a length and a COSE media type */
    int response; /* the largest body the handler holds, by kind (below) */
    scitt_http_admit admit;
} route_row;

/*
 * Largest response bodies, which the HTTP layer reserves room for before a handler runs and
 * enforces (docs/deploy.md adds them up per connection).
 */
enum {
    R_SMALL,     /* receipts, problems, keys, checkpoints, proofs: 64 KiB */
    R_STATEMENT, /* a transparent statement: the statement limit + 16 KiB for its receipt */
    R_QUERY,     /* a page of /query rows, or one row alone (JSON may escape a byte as 6) */
    R_LARGE,     /* evidence bundles and metrics: 256 KiB */
};

static const route_row table[] = {
    {"entries_post", SCITT_HTTP_POST, "/entries", false, scittd_route_entries_post, true, R_SMALL,
     scittd_entries_admit},
    {"entries_get", SCITT_HTTP_GET, "/entries/", true, scittd_route_entries_get, false, R_STATEMENT,
     NULL},
    {"scitt_keys", SCITT_HTTP_GET, "/.well-known/scitt-keys", false, scittd_route_keys, false,
     R_SMALL, NULL},
    {"scitt_key", SCITT_HTTP_GET, "/.well-known/scitt-keys/", true, scittd_route_keys, false,
     R_SMALL, NULL},
    {"jwks", SCITT_HTTP_GET, "/jwks", false, scittd_route_jwks, false, R_SMALL, NULL},
    {"configuration", SCITT_HTTP_GET, "/.well-known/transparency-configuration", false,
     scittd_route_config, false, R_SMALL, NULL},
    {"checkpoint", SCITT_HTTP_GET, "/checkpoint", false, scittd_route_checkpoint, false, R_SMALL,
     NULL},
    {"checkpoint_latest", SCITT_HTTP_GET, "/checkpoint/latest", false,
     scittd_route_checkpoint_latest, false, R_SMALL, NULL},
    /* entry bundles stream in pieces of SCITT_HTTP_PIECE_BYTES */
    {"tile", SCITT_HTTP_GET, "/tile/", true, scittd_route_tile, false, R_SMALL, NULL},
    {"consistency", SCITT_HTTP_GET, "/proofs/consistency", false, scittd_route_consistency, false,
     R_SMALL, NULL},
    {"query", SCITT_HTTP_GET, "/query", false, scittd_route_query, false, R_QUERY, NULL},
    {"attestation", SCITT_HTTP_GET, "/attestation", false, scittd_route_attestation, false, R_LARGE,
     NULL},
    /* the policy file (at most 64 KiB) escaped in JSON, and up to 8 witnesses */
    {"witnesses", SCITT_HTTP_GET, "/witnesses", false, scittd_route_witnesses, false, R_LARGE,
     NULL},
    {"metrics", SCITT_HTTP_GET, "/metrics", false, scittd_route_metrics, false, R_LARGE, NULL},
    {"healthz", SCITT_HTTP_GET, "/healthz", false, scittd_route_healthz, false, R_SMALL, NULL},
    /* each subscriber's unsent events live in its own fixed buffer (events.c), not the body */
    {"events", SCITT_HTTP_GET, "/events", false, scittd_route_events, false, R_SMALL, NULL},
    /* embedded static files, the largest about 20 KiB */
    {"ui", SCITT_HTTP_GET, "/ui", false, scittd_route_ui, false, R_SMALL, NULL},
    {"ui_files", SCITT_HTTP_GET, "/ui/", true, scittd_route_ui, false, R_SMALL, NULL},
};

size_t scittd_route_max_response(int kind, size_t max_body)
{
    switch (kind) {
    case R_STATEMENT:
        return max_body + (16u << 10);
    case R_QUERY: {
        size_t row = 6 * max_body + (4u << 10);
        return (row > SCITTD_QUERY_PAGE_BYTES ? row : SCITTD_QUERY_PAGE_BYTES) + (1u << 10);
    }
    case R_LARGE:
        return 256u << 10;
    default:
        return 64u << 10;
    }
}

size_t scittd_largest_response(size_t max_body)
{
    size_t m = 0;
    for (int k = R_SMALL; k <= R_LARGE; k++) {
        size_t r = scittd_route_max_response(k, max_body);
        m = r > m ? r : m;
    }
    return m;
}

scitt_err scittd_add_routes(scittd *d, size_t max_body)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const route_row *t = &table[i];
        if (t->handler == scittd_route_ui && d->cfg.no_ui) {
            continue;
        }
        scitt_http_route r;
        memset(&r, 0, sizeof(r));
        r.name = t->name;
        r.methods = t->methods;
        r.path = t->path;
        r.prefix = t->prefix;
        r.handler = t->handler;
        r.ctx = d;
        r.max_body = t->body ? max_body : 0;
        /* RFC 9943's statement type, and application/cose as before */
        r.content_types = t->body ? SCITTD_TYPE_COSE "," SCITTD_TYPE_STATEMENT : NULL;
        r.require_length = t->body;
        r.max_response = scittd_route_max_response(t->response, max_body);
        r.admit = t->admit;
        scitt_err e = scitt_http_server_route(d->http, &r);
        if (e != SCITT_OK) {
            return e;
        }
    }
    if (d->witness_role != NULL) {
        /* scittd as a witness (witness_role.c): the add-checkpoint body is bounded by
         * tlog-witness (63 proof lines and a note) */
        static const struct {
            const char *name, *path;
            unsigned methods;
            scitt_http_handler handler;
            size_t max_body;
        } wr[] = {
            {"add_checkpoint", "/add-checkpoint", SCITT_HTTP_POST, scittd_route_add_checkpoint,
             SCITT_WITNESS_BODY_MAX},
            {"witness_vkey", "/witness/vkey", SCITT_HTTP_GET, scittd_route_witness_vkey, 0},
        };
        for (size_t i = 0; i < sizeof(wr) / sizeof(wr[0]); i++) {
            scitt_http_route r;
            memset(&r, 0, sizeof(r));
            r.name = wr[i].name;
            r.methods = wr[i].methods;
            r.path = wr[i].path;
            r.handler = wr[i].handler;
            r.ctx = d;
            r.max_body = wr[i].max_body;
            r.require_length = wr[i].max_body != 0;
            r.max_response = scittd_route_max_response(R_SMALL, max_body);
            scitt_err e = scitt_http_server_route(d->http, &r);
            if (e != SCITT_OK) {
                return e;
            }
        }
    }
    if (d->cfg.compat_operations) {
        /* the older SCRAPI operation flow (compat.c) */
        scitt_http_route r;
        memset(&r, 0, sizeof(r));
        r.name = "operations";
        r.methods = SCITT_HTTP_GET;
        r.path = "/operations/";
        r.prefix = true;
        r.handler = scittd_route_operations;
        r.ctx = d;
        r.max_response = scittd_route_max_response(R_SMALL, max_body);
        return scitt_http_server_route(d->http, &r);
    }
    return SCITT_OK;
}
