/*
 * Responses: the setters a handler uses (on whatever thread owns the request), the layer's own
 * problem-details errors, and the serialisation of the status line and headers.
 */
#include "http_impl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scitt/problem.h"

const char *scitt_http_status_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

void scitt__http_date_refresh(scitt_http_server *srv)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if ((uint64_t)now == srv->date_sec && srv->date[0]) {
        return;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    /* IMF-fixdate (RFC 9110 §5.6.7), always 29 characters. */
    snprintf(srv->date, sizeof(srv->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
             days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    srv->date_sec = (uint64_t)now;
}

void scitt_http_res_status(scitt_http_req *req, int status)
{
    req->status = status;
}

static bool is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool name_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        if (x != *b) {
            return false;
        }
    }
    return *a == *b;
}

scitt_err scitt_http_res_header(scitt_http_req *req, const char *name, const char *value)
{
    static const char *const reserved[] = {"content-length", "content-type", "date", "connection",
                                           "transfer-encoding"};
    size_t nlen = strlen(name), vlen = strlen(value);
    if (nlen == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < nlen; i++) {
        if (!is_tchar((unsigned char)name[i])) {
            return SCITT_ERR_INVALID_ARG;
        }
    }
    /* A CR or LF here would let a value smuggle extra headers into the response. */
    for (size_t i = 0; i < vlen; i++) {
        unsigned char ch = (unsigned char)value[i];
        if (ch == '\r' || ch == '\n' || ch == 0 || (ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return SCITT_ERR_INVALID_ARG;
        }
    }
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (name_ieq(name, reserved[i])) {
            return SCITT_ERR_INVALID_ARG;
        }
    }
    size_t add = nlen + 2 + vlen + 2;
    char *x = scitt__arena_grow(&req->arena, req->xhdr, req->xhdr_len, req->xhdr_len + add);
    if (!x) {
        return SCITT_ERR_NOMEM;
    }
    char *p = x + req->xhdr_len;
    memcpy(p, name, nlen);
    p += nlen;
    *p++ = ':';
    *p++ = ' ';
    memcpy(p, value, vlen);
    p += vlen;
    *p++ = '\r';
    *p++ = '\n';
    req->xhdr = x;
    req->xhdr_len += add;
    return SCITT_OK;
}

static scitt_err set_ctype(scitt_http_req *req, const char *content_type)
{
    if (!content_type) {
        req->ctype = NULL;
        return SCITT_OK;
    }
    size_t n = strlen(content_type);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)content_type[i];
        if (ch < 0x20 || ch == 0x7f) {
            return SCITT_ERR_INVALID_ARG;
        }
    }
    char *c = scitt__arena_alloc(&req->arena, n + 1);
    if (!c) {
        return SCITT_ERR_NOMEM;
    }
    memcpy(c, content_type, n + 1);
    req->ctype = c;
    return SCITT_OK;
}

void scitt__http_res_drop_body(scitt_http_req *req)
{
    if (req->release) {
        void (*release)(void *) = req->release;
        req->release = NULL;
        release(req->release_ctx);
    }
}

size_t scitt__http_max_response(const scitt_http_req *req)
{
    const scitt_http_server *srv = req->srv;
    if (req->route >= 0 && srv->routes[req->route].max_response > 0) {
        return srv->routes[req->route].max_response;
    }
    return srv->cfg.max_response_bytes;
}

/* Forgets the body set so far (its release runs now). */
static void clear_body(scitt_http_req *req)
{
    scitt__http_res_drop_body(req);
    req->out_body = scitt_span_make(NULL, 0);
    req->stream = false;
    req->stream_total = req->stream_done = 0;
    req->slen = 0;
    req->pull = NULL;
}

scitt_err scitt_http_res_body_copy(scitt_http_req *req, const char *content_type, scitt_span body)
{
    clear_body(req);
    scitt_err err = set_ctype(req, content_type);
    if (err != SCITT_OK) {
        return err;
    }
    if (body.len > scitt__http_max_response(req)) {
        return SCITT_ERR_TOO_LARGE;
    }
    if (body.len == 0) {
        return SCITT_OK;
    }
    if (req->is_head) {
        /* The head says how long the body would be; the bytes are never needed. */
        req->out_body = scitt_span_make(NULL, body.len);
        return SCITT_OK;
    }
    uint8_t *b = scitt__arena_alloc(&req->arena, body.len);
    if (!b) {
        return SCITT_ERR_NOMEM;
    }
    memcpy(b, body.ptr, body.len);
    req->out_body = scitt_span_make(b, body.len);
    return SCITT_OK;
}

scitt_err scitt_http_res_body_borrow(scitt_http_req *req, const char *content_type, scitt_span body,
                                     void (*release)(void *ctx), void *ctx)
{
    clear_body(req);
    scitt_err err = set_ctype(req, content_type);
    if (err == SCITT_OK && body.len > scitt__http_max_response(req)) {
        err = SCITT_ERR_TOO_LARGE;
    }
    if (err != SCITT_OK || req->is_head) {
        /* The caller's bytes are not ours to keep (or not needed): hand them back at once. */
        if (release) {
            release(ctx);
        }
        req->out_body = scitt_span_make(NULL, err == SCITT_OK ? body.len : 0);
        return err;
    }
    req->out_body = body;
    req->release = release;
    req->release_ctx = ctx;
    return SCITT_OK;
}

static void free_body(void *ptr)
{
    scitt_free(ptr);
}

scitt_err scitt_http_res_body_dynbuf(scitt_http_req *req, const char *content_type,
                                     scitt_dynbuf *body)
{
    if (body->err != SCITT_OK) {
        scitt_err err = body->err;
        scitt_dynbuf_clear(body);
        return err;
    }
    size_t len = 0;
    uint8_t *ptr = scitt_dynbuf_steal(body, &len);
    return scitt_http_res_body_borrow(req, content_type, scitt_span_make(ptr, len), free_body, ptr);
}

scitt_err scitt_http_res_body_stream(scitt_http_req *req, const char *content_type, uint64_t total,
                                     scitt_http_pull pull, void (*release)(void *ctx), void *ctx)
{
    clear_body(req);
    scitt_err err = set_ctype(req, content_type);
    if (err == SCITT_OK && (!pull || total > SIZE_MAX / 2)) {
        err = SCITT_ERR_INVALID_ARG;
    }
    if (err == SCITT_OK && SCITT_HTTP_PIECE_BYTES > scitt__http_max_response(req)) {
        err = SCITT_ERR_TOO_LARGE;
    }
    if (err == SCITT_OK && !req->is_head && total > 0) {
        req->sbuf = scitt__arena_alloc(&req->arena, SCITT_HTTP_PIECE_BYTES);
        if (!req->sbuf) {
            err = SCITT_ERR_NOMEM;
        }
    }
    if (err != SCITT_OK || req->is_head || total == 0) {
        if (release) {
            release(ctx);
        }
        req->out_body = scitt_span_make(NULL, err == SCITT_OK ? (size_t)total : 0);
        return err;
    }
    req->stream = true;
    req->stream_total = total;
    req->out_body = scitt_span_make(NULL, (size_t)total);
    req->pull = pull;
    req->release = release;
    req->release_ctx = ctx;
    return SCITT_OK;
}

size_t scitt_http_utf8_prefix(scitt_span text)
{
    const uint8_t *s = text.ptr;
    size_t n = text.len, i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len = c < 0x80                 ? 1
                     : c >= 0xc2 && c <= 0xdf ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (len == 0 || len > n - i) {
            return i;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return i;
            }
        }
        uint8_t c1 = len > 1 ? s[i + 1] : 0;
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
            (c == 0xf4 && c1 > 0x8f)) {
            return i;
        }
        i += len;
    }
    return n;
}

/* @p s itself when it is valid UTF-8, else its valid prefix copied into the arena. */
static const char *utf8_text(scitt_http_req *req, const char *s)
{
    size_t n = strlen(s), ok = scitt_http_utf8_prefix(scitt_span_make(s, n));
    if (ok == n) {
        return s;
    }
    char *c = scitt__arena_alloc(&req->arena, ok + 1);
    if (!c) {
        return "";
    }
    memcpy(c, s, ok);
    c[ok] = 0;
    return c;
}

scitt_err scitt_http_res_problem(scitt_http_req *req, int status, const char *title,
                                 const char *detail)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 4096);
    title = utf8_text(req, title);
    detail = utf8_text(req, detail);
    scitt_err err = scitt_problem_encode(title, detail, &b);
    if (err == SCITT_OK) {
        req->status = status;
        err =
            scitt_http_res_body_copy(req, SCITT_PROBLEM_MEDIA_TYPE, scitt_span_make(b.ptr, b.len));
    }
    scitt_dynbuf_clear(&b);
    return err;
}

void scitt__http_res_error(scitt_http_req *req, int status, const char *title, const char *detail,
                           uint32_t retry_after_s)
{
    if (scitt_http_res_problem(req, status, title, detail) != SCITT_OK) {
        /* Our own titles are ASCII, so only memory can fail: send the status alone. */
        req->status = status;
        req->out_body = scitt_span_make(NULL, 0);
    }
    if (retry_after_s > 0) {
        char v[16];
        snprintf(v, sizeof(v), "%u", retry_after_s);
        if (scitt_http_res_header(req, "Retry-After", v) != SCITT_OK) {
            /* Out of memory: the status still tells the client to back off. */
            req->close_after = true;
        }
    }
    req->state = REQ_READY;
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        *p++ = tmp[--n];
    }
    return p;
}

/* True when the handler's own header lines @p x already hold @p name (lower case). */
static bool has_header(const char *x, size_t len, const char *name)
{
    size_t n = strlen(name), at = 0;
    while (at < len) {
        const char *line = x + at;
        const char *end = memchr(line, '\n', len - at);
        size_t ll = end ? (size_t)(end - line) + 1 : len - at;
        if (ll > n && line[n] == ':') {
            char low[32];
            for (size_t i = 0; i < n && i < sizeof(low); i++) {
                low[i] = (line[i] >= 'A' && line[i] <= 'Z') ? (char)(line[i] + 32) : line[i];
            }
            if (n <= sizeof(low) && memcmp(low, name, n) == 0) {
                return true;
            }
        }
        at += ll;
    }
    return false;
}

bool scitt__http_res_build_head(scitt_http_req *req, bool close)
{
    static const char oom[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
    scitt_http_server *srv = req->srv;
    int status = req->status;
    const char *reason = scitt_http_status_reason(status);
    bool bodyless = status < 200 || status == 204 || status == 304;
    size_t rlen = strlen(reason), clen = req->ctype ? strlen(req->ctype) : 0;
    /* RFC 9110 §10.2.3 lets a 503 say when to come back; ours always do. */
    bool retry = status == 503 && !has_header(req->xhdr, req->xhdr_len, "retry-after");
    size_t size =
        16 + rlen + 2 + 6 + 40 + 2 + 16 + clen + 2 + 18 + 20 + 2 + 24 + 2 + req->xhdr_len + 16 + 2;
    char *h = scitt__arena_alloc(&req->arena, size);
    if (!h) {
        req->head = (char *)(uintptr_t)oom;
        req->head_len = sizeof(oom) - 1;
        req->close_after = true;
        req->is_head = true; /* no body either */
        return false;
    }
    scitt__http_date_refresh(srv);
    char *p = put(h, "HTTP/1.1 ", 9);
    p = put_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = put(p, reason, rlen);
    p = put(p, "\r\nDate: ", 8);
    p = put(p, srv->date, strlen(srv->date));
    p = put(p, "\r\n", 2);
    if (req->ctype && !bodyless) {
        p = put(p, "Content-Type: ", 14);
        p = put(p, req->ctype, clen);
        p = put(p, "\r\n", 2);
    }
    if (req->push) {
        /* a pushed stream's body ends when the connection closes (RFC 9112 6.3, item 8) */
        close = true;
    } else if (!bodyless) {
        p = put(p, "Content-Length: ", 16);
        p = put_u64(p, req->out_body.len);
        p = put(p, "\r\n", 2);
    } else {
        req->out_body.len = 0;
        req->stream = false; /* a bodyless status sends none, streamed or not */
    }
    if (close) {
        p = put(p, "Connection: close\r\n", 19);
        req->close_after = true;
    } else if (req->http10) {
        p = put(p, "Connection: keep-alive\r\n", 24);
    }
    if (req->xhdr_len) {
        p = put(p, req->xhdr, req->xhdr_len);
    }
    if (retry) {
        p = put(p, "Retry-After: 1\r\n", 16);
    }
    p = put(p, "\r\n", 2);
    req->head = h;
    req->head_len = (size_t)(p - h);
    return true;
}
