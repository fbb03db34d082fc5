/*
 * GET /ui/...: the explorer's static files from the binary, with a strict Content-Security-Policy
 * and the other headers that keep a page from being framed, sniffed or leaking its URL. The
 * pages verify what the service says in the browser (server/ui/verify.js); this file only serves
 * bytes. /ui (no slash) redirects to /ui/.
 */
#include "scittd.h"

#include <string.h>

#include "ui.h"

static void security_headers(scitt_http_req *req)
{
    scittd_header(req, "Content-Security-Policy", SCITTD_UI_CSP);
    scittd_header(req, "X-Content-Type-Options", "nosniff");
    scittd_header(req, "X-Frame-Options", "DENY");
    scittd_header(req, "Referrer-Policy", "no-referrer");
    scittd_header(req, "Cross-Origin-Opener-Policy", "same-origin");
    scittd_header(req, "Cache-Control", "no-cache");
}

void scittd_route_ui(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_span path = scitt_http_req_path(req);
    if (path.len == 3) { /* "/ui" */
        scitt_http_res_status(req, 301);
        scittd_header(req, "Location", "/ui/");
        security_headers(req);
        scitt_http_complete(req);
        return;
    }
    scitt_span name = scitt_span_make(path.ptr + 4, path.len - 4); /* after "/ui/" */
    if (name.len == 0) {
        name = scitt_span_str("index.html");
    }
    const scittd_ui_asset *a = scittd_ui_assets;
    while (a->name && !scitt_span_eq(name, scitt_span_str(a->name))) {
        a++;
    }
    security_headers(req);
    if (!a->name) {
        scittd_problem(req, 404, "Not Found", "no such file in the explorer");
    } else {
        scitt_http_res_status(req, 200);
        /* static storage: nothing to release */
        if (scitt_http_res_body_borrow(req, a->type, scitt_span_make(a->data, a->len), NULL,
                                       NULL) != SCITT_OK) {
            scittd_problem(req, 500, "Internal Server Error", "out of memory");
        }
    }
    scitt_http_complete(req);
}
