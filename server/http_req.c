/*
 * Requests as handlers see them: target splitting, header and query lookup, routing, and the
 * small text helpers the engine shares.
 */
#include "http_impl.h"

#include <string.h>

static unsigned char lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch;
}

static bool mem_ieq(const uint8_t *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lower(a[i]) != lower((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

bool scitt__span_ieq(scitt_span a, const char *s)
{
    size_t n = strlen(s);
    return a.len == n && mem_ieq(a.ptr, s, n);
}

bool scitt__http_token(scitt_span s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = s.ptr[i];
        bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= 'A' && ch <= 'Z') ||
                  (ch != 0 && memchr(extra, ch, sizeof(extra) - 1) != NULL);
        if (!ok) {
            return false;
        }
    }
    return true;
}

unsigned scitt__http_method_bit(uint8_t llmethod)
{
    switch (llmethod) {
    case HTTP_GET:
        return SCITT_HTTP_GET;
    case HTTP_HEAD:
        return SCITT_HTTP_HEAD;
    case HTTP_POST:
        return SCITT_HTTP_POST;
    case HTTP_PUT:
        return SCITT_HTTP_PUT;
    case HTTP_DELETE:
        return SCITT_HTTP_DELETE;
    case HTTP_OPTIONS:
        return SCITT_HTTP_OPTIONS;
    case HTTP_PATCH:
        return SCITT_HTTP_PATCH;
    default:
        return SCITT_HTTP_OTHER;
    }
}

/*
 * Origin-form "/path?query" (a fragment, which clients should not send, is dropped) or
 * absolute-form "http://host/path?query" (RFC 9112 §3.2.2: servers must accept it).
 */
bool scitt__http_split_target(scitt_http_req *req)
{
    const uint8_t *u = (const uint8_t *)req->url;
    size_t n = req->url_len, start = 0;
    if (n == 0) {
        return false;
    }
    if (u[0] != '/') {
        size_t i = 0;
        if (n >= 7 && mem_ieq(u, "http://", 7)) {
            i = 7;
        } else if (n >= 8 && mem_ieq(u, "https://", 8)) {
            i = 8;
        } else {
            return false;
        }
        while (i < n && u[i] != '/' && u[i] != '?' && u[i] != '#') {
            i++;
        }
        if (i == n || u[i] != '/') {
            return false;
        }
        start = i;
    }
    size_t end = start;
    while (end < n && u[end] != '?' && u[end] != '#') {
        end++;
    }
    req->path = scitt_span_make(u + start, end - start);
    req->query = scitt_span_make(u + end, 0);
    if (end < n && u[end] == '?') {
        size_t q = end + 1, qe = q;
        while (qe < n && u[qe] != '#') {
            qe++;
        }
        req->query = scitt_span_make(u + q, qe - q);
    }
    return true;
}

int scitt__http_route_lookup(scitt_http_server *srv, scitt_span path, unsigned method,
                             unsigned *allow)
{
    /* The best path match first: exact over prefix, then the longest prefix. */
    int best_rank = -1;
    for (size_t i = 0; i < srv->nroutes; i++) {
        const scitt_http_route *r = &srv->routes[i];
        size_t plen = strlen(r->path);
        int rank = -1;
        if (!r->prefix) {
            if (path.len == plen && memcmp(path.ptr, r->path, plen) == 0) {
                rank = 1 << 30;
            }
        } else if (path.len >= plen && memcmp(path.ptr, r->path, plen) == 0) {
            rank = (int)plen;
        }
        if (rank > best_rank) {
            best_rank = rank;
        }
    }
    *allow = 0;
    if (best_rank < 0) {
        return -1;
    }
    int found = -1;
    for (size_t i = 0; i < srv->nroutes; i++) {
        const scitt_http_route *r = &srv->routes[i];
        size_t plen = strlen(r->path);
        int rank =
            !r->prefix
                ? (path.len == plen && memcmp(path.ptr, r->path, plen) == 0 ? 1 << 30 : -1)
                : (path.len >= plen && memcmp(path.ptr, r->path, plen) == 0 ? (int)plen : -1);
        if (rank != best_rank) {
            continue;
        }
        unsigned m = r->methods;
        if (m & SCITT_HTTP_GET) {
            m |= SCITT_HTTP_HEAD;
        }
        *allow |= m;
        if (found < 0 && (m & method)) {
            found = (int)i;
        }
    }
    return found;
}

void scitt__http_allow_header(scitt_http_req *req, unsigned allow)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    char value[64];
    size_t len = 0;
    for (unsigned i = 0; i < 7; i++) {
        if (allow & (1u << i)) {
            size_t n = strlen(names[i]);
            if (len) {
                memcpy(value + len, ", ", 2);
                len += 2;
            }
            memcpy(value + len, names[i], n);
            len += n;
        }
    }
    value[len] = 0;
    if (scitt_http_res_header(req, "Allow", value) != SCITT_OK) {
        /* Out of memory: the 405 goes out without Allow. */
        return;
    }
}

bool scitt__http_ctype_allowed(const char *list, scitt_span ct)
{
    /* Compare the media type only: parameters after ';' and surrounding spaces do not count. */
    size_t n = 0;
    while (n < ct.len && ct.ptr[n] != ';') {
        n++;
    }
    while (n > 0 && (ct.ptr[n - 1] == ' ' || ct.ptr[n - 1] == '\t')) {
        n--;
    }
    if (n == 0) {
        return false;
    }
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && mem_ieq(ct.ptr, p, n)) {
            return true;
        }
        if (!e) {
            break;
        }
        p = e + 1;
    }
    return false;
}

/* ---- accessors ---- */

unsigned scitt_http_req_method(const scitt_http_req *req)
{
    return req->method;
}

const char *scitt_http_req_method_name(const scitt_http_req *req)
{
    return llhttp_method_name((llhttp_method_t)req->llmethod);
}

scitt_span scitt_http_req_path(const scitt_http_req *req)
{
    return req->path;
}

scitt_span scitt_http_req_query(const scitt_http_req *req)
{
    return req->query;
}

bool scitt_http_req_query_param(const scitt_http_req *req, const char *name, scitt_span *value)
{
    return scitt_http_query_param(req->query, name, value);
}

bool scitt_http_query_param(scitt_span query, const char *name, scitt_span *value)
{
    size_t nlen = strlen(name);
    const uint8_t *q = query.ptr;
    size_t n = query.len, i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && q[e] != '&') {
            e++;
        }
        size_t k = i;
        while (k < e && q[k] != '=') {
            k++;
        }
        if (k - i == nlen && memcmp(q + i, name, nlen) == 0) {
            *value = k < e ? scitt_span_make(q + k + 1, e - k - 1) : scitt_span_make(q + k, 0);
            return true;
        }
        i = e + 1;
    }
    return false;
}

bool scitt_http_req_header(const scitt_http_req *req, const char *name, scitt_span *value)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nhdrs; i++) {
        const scitt__hdr *h = &req->hdrs[i];
        if (h->name.len == n && mem_ieq(h->name.ptr, name, n)) {
            *value = h->value;
            return true;
        }
    }
    return false;
}

size_t scitt_http_req_header_count(const scitt_http_req *req)
{
    return req->nhdrs;
}

void scitt_http_req_header_at(const scitt_http_req *req, size_t i, scitt_span *name,
                              scitt_span *value)
{
    if (i >= req->nhdrs) {
        *name = *value = scitt_span_make(NULL, 0);
        return;
    }
    *name = req->hdrs[i].name;
    *value = req->hdrs[i].value;
}

scitt_span scitt_http_req_body(const scitt_http_req *req)
{
    return scitt_span_make(req->body, req->body_len);
}

const struct sockaddr_storage *scitt_http_req_peer(const scitt_http_req *req)
{
    return &req->peer;
}

bool scitt_http_req_tls(const scitt_http_req *req)
{
    return req->tls;
}

uint64_t scitt_http_req_id(const scitt_http_req *req)
{
    return req->id;
}

const char *scitt_http_req_route(const scitt_http_req *req)
{
    return req->route >= 0 ? req->srv->routes[req->route].name : "(none)";
}

void *scitt_http_req_alloc(scitt_http_req *req, size_t n)
{
    return scitt__arena_alloc(&req->arena, n);
}
