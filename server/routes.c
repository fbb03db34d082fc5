/*
 * The daemon's route table: every SCRAPI and read endpoint with its methods, body limit and
 * media types. Shared by the daemon and the fuzz target that drives the real routes.
 */
#include "scittd.h"

#include <string.h>

typedef struct route_row {
    const char *name;
    unsigned methods;
    const char *path;
    bool prefix;
    scitt_http_handler handler;
    bool body; /* takes a statement: the body limit, a length and application/cose */
} route_row;

static const route_row table[] = {
    {"entries_post", SCITT_HTTP_POST, "/entries", false, scittd_route_entries_post, true},
    {"entries_get", SCITT_HTTP_GET, "/entries/", true, scittd_route_entries_get, false},
    {"scitt_keys", SCITT_HTTP_GET, "/.well-known/scitt-keys", false, scittd_route_keys, false},
    {"scitt_key", SCITT_HTTP_GET, "/.well-known/scitt-keys/", true, scittd_route_keys, false},
    {"jwks", SCITT_HTTP_GET, "/jwks", false, scittd_route_jwks, false},
    {"configuration", SCITT_HTTP_GET, "/.well-known/transparency-configuration", false,
     scittd_route_config, false},
    {"checkpoint", SCITT_HTTP_GET, "/checkpoint", false, scittd_route_checkpoint, false},
    {"tile", SCITT_HTTP_GET, "/tile/", true, scittd_route_tile, false},
    {"consistency", SCITT_HTTP_GET, "/proofs/consistency", false, scittd_route_consistency, false},
    {"query", SCITT_HTTP_GET, "/query", false, scittd_route_query, false},
    {"attestation", SCITT_HTTP_GET, "/attestation", false, scittd_route_attestation, false},
    {"metrics", SCITT_HTTP_GET, "/metrics", false, scittd_route_metrics, false},
    {"healthz", SCITT_HTTP_GET, "/healthz", false, scittd_route_healthz, false},
    {"events", SCITT_HTTP_GET, "/events", false, scittd_route_events, false},
    {"ui", SCITT_HTTP_GET, "/ui", false, scittd_route_ui, false},
    {"ui_files", SCITT_HTTP_GET, "/ui/", true, scittd_route_ui, false},
};

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
        r.content_types = t->body ? "application/cose" : NULL;
        r.require_length = t->body;
        scitt_err e = scitt_http_server_route(d->http, &r);
        if (e != SCITT_OK) {
            return e;
        }
    }
    return SCITT_OK;
}
