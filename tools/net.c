/* Service requests, problem details and log sources for the scitt tool. */
#include "net.h"
#include "parsers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "scitt/cbor.h"

int svc_init(svc *s, const char *url, const char *cacert, int timeout_ms)
{
    memset(s, 0, sizeof(*s));
    if (!url) {
        return cli_usage("--url is required");
    }
    if (http_url_parse(url, &s->url) != SCITT_OK) {
        return cli_usage("--url \"%s\" is not an http:// or https:// URL", url);
    }
    s->opts.cacert = cacert;
    s->opts.timeout_ms = timeout_ms;
    return CLI_OK;
}

scitt_err svc_get(const svc *s, const char *path, const char *accept, http_result *out, char *why,
                  size_t cap)
{
    char hdr[160];
    const char *headers[1] = {hdr};
    snprintf(hdr, sizeof(hdr), "Accept: %s", accept ? accept : "*/*");
    http_request req = {"GET", path, headers, 1, {NULL, 0}};
    return http_do(&s->url, &req, &s->opts, out, why, cap);
}

void svc_problem(const http_result *r, char *out, size_t cap)
{
    scitt_span title, detail;
    char t[200], d[400];
    if (wire_problem(scitt_span_make(r->body.ptr, r->body.len), &title, &detail)) {
        cli_printable(title, t, sizeof(t));
        cli_printable(detail, d, sizeof(d));
        snprintf(out, cap, "%d %s: %s", r->res.status, t, d);
        return;
    }
    cli_printable(r->res.reason, t, sizeof(t));
    snprintf(out, cap, "HTTP %d %s", r->res.status, t);
}

void svc_problem_title(const http_result *r, char *out, size_t cap)
{
    scitt_span title, detail;
    if (wire_problem(scitt_span_make(r->body.ptr, r->body.len), &title, &detail)) {
        cli_printable(title, out, cap);
    } else if (cap) {
        out[0] = 0;
    }
}

int svc_retry_after(const http_result *r, int dflt)
{
    scitt_span v;
    if (!http_header_get(&r->res, "retry-after", &v) || v.len == 0 || v.len > 6) {
        return dflt;
    }
    int s = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') {
            return dflt; /* an HTTP-date: not worth parsing for a client that polls */
        }
        s = s * 10 + (v.ptr[i] - '0');
    }
    return s > 3600 ? 3600 : s;
}

/* ---- sources ------------------------------------------------------------------------------- */

int source_open(source *s, const char *where, const char *cacert, int timeout_ms)
{
    memset(s, 0, sizeof(*s));
    if (!where) {
        return cli_usage("--url is required");
    }
    snprintf(s->label, sizeof(s->label), "%s", where);
    if (!strncmp(where, "http://", 7) || !strncmp(where, "https://", 8)) {
        s->is_http = true;
        return svc_init(&s->http, where, cacert, timeout_ms);
    }
    const char *path = where;
    if (!strncmp(where, "file://", 7)) {
        path = where + 7;
        if (path[0] != '/') {
            return cli_usage("\"%s\": file URLs must be file:///absolute/path", where);
        }
    }
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') {
        n--;
    }
    if (n == 0 || n >= sizeof(s->dir)) {
        return cli_usage("\"%s\" is not a usable directory", where);
    }
    memcpy(s->dir, path, n);
    struct stat st;
    if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return cli_fail(CLI_USAGE, "%s is not a directory of log files", s->dir);
    }
    return CLI_OK;
}

scitt_err source_get(const source *s, const char *rel, size_t max, scitt_dynbuf *out, char *why,
                     size_t cap)
{
    if (!s->is_http) {
        char path[4608];
        snprintf(path, sizeof(path), "%s/%s", s->dir, rel);
        errno = 0;
        scitt_err e = cli_read_file(path, max, out);
        if (e != SCITT_OK && e != SCITT_ERR_NOT_FOUND) {
            snprintf(why, cap, "cannot read %.400s: %s", path,
                     e == SCITT_ERR_TOO_LARGE ? "larger than allowed"
                                              : (errno ? strerror(errno) : scitt_err_str(e)));
        } else if (e == SCITT_ERR_NOT_FOUND) {
            snprintf(why, cap, "%s does not exist", path);
        }
        return e;
    }
    char path[1200];
    snprintf(path, sizeof(path), "/%s", rel);
    svc h = s->http;
    h.opts.max_body = max;
    http_result r;
    scitt_err e = svc_get(&h, path, "*/*", &r, why, cap);
    scitt_dynbuf_init(out, max);
    if (e != SCITT_OK) {
        return e;
    }
    if (r.res.status == 200) {
        /* hand the body over without copying */
        *out = r.body;
        scitt_dynbuf_init(&r.body, 0);
    } else {
        char p[512];
        svc_problem(&r, p, sizeof(p));
        snprintf(why, cap, "GET %s%s: %s", h.url.prefix, path, p);
        e = r.res.status == 404 ? SCITT_ERR_NOT_FOUND : SCITT_ERR_IO;
    }
    http_result_clear(&r);
    return e;
}
