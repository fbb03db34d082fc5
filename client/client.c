/*
 * libscitt-client: the SCRAPI calls and the read API of a transparency service over the HTTP
 * transport of http.c. Every response is recorded (status, problem details, Retry-After) so the
 * caller can say what the service answered; bodies go straight into the caller's buffer, whose
 * ceiling bounds them.
 */
#include "scitt/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "http.h"
#include "scitt/cbor.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"

#define BACKOFF_MAX_S                                                                              \
    16u /* the longest wait between retries of a 429 or 503 without Retry-After                    \
         */
#define AUTH_MAX (SCITT_CLIENT_TOKEN_MAX + 32u)

struct scitt_client {
    char *url_text;
    scitt__http_url url;
    char *cacert;
    char *user_agent;
    char auth[AUTH_MAX]; /* "Authorization: Bearer <token>", or "" */
    uint32_t timeout_ms;
    char api_version[65]; /* "" when not sent */
    scitt_client_reply last;
};

static void say(char *reason, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *reason, size_t cap, const char *fmt, ...)
{
    if (!reason || cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, cap, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = scitt_malloc(n + 1);
    if (d) {
        memcpy(d, s, n + 1);
    }
    return d;
}

/* An entry ID as scittd names entries: 64 lowercase hex digits. */
static bool entry_id_ok(scitt_span s)
{
    if (s.len != SCITT_CLIENT_ENTRY_ID_LEN) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

scitt_err scitt_client_new(const scitt_client_options *o, scitt_client **out, char *reason,
                           size_t cap)
{
    *out = NULL;
    say(reason, cap, "%s", "");
    if (!o || !o->url) {
        say(reason, cap, "no service URL");
        return SCITT_ERR_INVALID_ARG;
    }
    if (o->token && (strlen(o->token) > SCITT_CLIENT_TOKEN_MAX || strpbrk(o->token, "\r\n"))) {
        say(reason, cap, "the token holds a line break or is over %u bytes",
            SCITT_CLIENT_TOKEN_MAX);
        return SCITT_ERR_INVALID_ARG;
    }
    if (o->user_agent && strpbrk(o->user_agent, "\r\n")) {
        say(reason, cap, "the user agent holds a line break");
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_client *c = scitt_calloc(1, sizeof(*c));
    if (!c) {
        say(reason, cap, "out of memory");
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = SCITT_OK;
    if (scitt__http_url_parse(o->url, &c->url) != SCITT_OK) {
        say(reason, cap, "\"%s\" is not an http:// or https:// URL", o->url);
        e = SCITT_ERR_INVALID_ARG;
        goto out;
    }
    c->url_text = dup_str(o->url);
    c->cacert = o->cacert ? dup_str(o->cacert) : NULL;
    c->user_agent = o->user_agent ? dup_str(o->user_agent) : NULL;
    if (!c->url_text || (o->cacert && !c->cacert) || (o->user_agent && !c->user_agent)) {
        say(reason, cap, "out of memory");
        e = SCITT_ERR_NOMEM;
        goto out;
    }
    if (o->token && o->token[0]) {
        snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", o->token);
    }
    c->timeout_ms = o->timeout_ms;
out:
    if (e != SCITT_OK) {
        scitt_client_free(c);
        return e;
    }
    *out = c;
    return SCITT_OK;
}

void scitt_client_free(scitt_client *c)
{
    if (!c) {
        return;
    }
    scitt_wipe(c->auth, sizeof(c->auth));
    scitt_free(c->url_text);
    scitt_free(c->cacert);
    scitt_free(c->user_agent);
    scitt_free(c);
}

void scitt_client_set_timeout(scitt_client *c, uint32_t timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

scitt_err scitt_client_set_api_version(scitt_client *c, const char *v)
{
    if (!v || !v[0]) {
        c->api_version[0] = 0;
        return SCITT_OK;
    }
    size_t n = strlen(v);
    if (n >= sizeof(c->api_version) ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789.-_") != n) {
        return SCITT_ERR_INVALID_ARG;
    }
    memcpy(c->api_version, v, n + 1);
    return SCITT_OK;
}

const char *scitt_client_url(const scitt_client *c)
{
    return c->url_text;
}

const scitt_client_reply *scitt_client_last(const scitt_client *c)
{
    return &c->last;
}

/* ---- one exchange -------------------------------------------------------------------------- */

static uint32_t timeout_of(const scitt_client *c)
{
    return c->timeout_ms ? c->timeout_ms : SCITT_CLIENT_TIMEOUT_MS;
}

/* Retry-After in either form (delta-seconds or an HTTP-date against the wall clock). */
static bool retry_after(const scitt__http_response *r, uint32_t *out)
{
    scitt_span v;
    return scitt__http_header_get(r, "retry-after", &v) &&
           scitt__http_retry_after(v, (int64_t)time(NULL), SCITT_CLIENT_RETRY_MAX, out);
}

/* The wait before poll or retry number @p n (from 0) without Retry-After: exponential backoff
 * (1, 2, 4, 8, 16, 16, ... s) with jitter (a uniform draw from the upper half), so that clients
 * that started together do not keep asking together. */
static uint32_t backoff_ms(unsigned n)
{
    uint32_t base = (BACKOFF_MAX_S * 1000u) >> (n < 4 ? 4 - n : 0);
    uint32_t rnd = 0;
    if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1) {
        rnd = (uint32_t)now_ms(); /* any spread will do */
    }
    return base / 2 + rnd % (base / 2 + 1);
}

void scitt__http_reply_of(const scitt__http_result *r, scitt_client_reply *l)
{
    memset(l, 0, sizeof(*l));
    l->status = r->res.status;
    l->has_retry_after = retry_after(&r->res, &l->retry_after);
    scitt_span title, detail;
    if (scitt_client_problem_parse(scitt_span_make(r->body.ptr, r->body.len), &title, &detail)) {
        char d[400];
        scitt_client_printable(title, l->title, sizeof(l->title));
        scitt_client_printable(detail, d, sizeof(d));
        snprintf(l->problem, sizeof(l->problem), "%d %s: %s", l->status, l->title, d);
        return;
    }
    char t[200];
    scitt_client_printable(r->res.reason, t, sizeof(t));
    snprintf(l->problem, sizeof(l->problem), "HTTP %d %s", l->status, t);
}

static void record(scitt_client *c, const scitt__http_result *r)
{
    scitt__http_reply_of(r, &c->last);
}

typedef struct call {
    const char *method;
    const char *path; /* under the URL's prefix, with its query */
    const char *accept;
    const char *const *headers; /* more "Name: value" lines */
    size_t nheaders;
    scitt_span body;
    uint32_t timeout_ms;
    size_t max_body;
    const scitt__http_url *target; /* another origin or path base (NULL: the client's URL) */
} call;

/* The service's origin: where the token and the api-version may go. */
static bool to_service(const scitt_client *c, const call *k)
{
    return !k->target || scitt__http_same_origin(k->target, &c->url);
}

/* Sends @p k and records the answer; transport and framing failures are returned as they are. */
static scitt_err exchange(scitt_client *c, const call *k, scitt__http_result *res, char *reason,
                          size_t cap)
{
    memset(&c->last, 0, sizeof(c->last));
    const char *headers[6];
    char accept[160];
    size_t n = 0;
    snprintf(accept, sizeof(accept), "Accept: %s", k->accept ? k->accept : "*/*");
    headers[n++] = accept;
    for (size_t i = 0; i < k->nheaders && n < sizeof(headers) / sizeof(headers[0]); i++) {
        headers[n++] = k->headers[i];
    }
    char path[SCITT_CLIENT_LOCATION_MAX + 96];
    const char *p = k->path;
    if (c->api_version[0] && to_service(c, k) && !strstr(k->path, "api-version=")) {
        snprintf(path, sizeof(path), "%s%sapi-version=%s", k->path,
                 strchr(k->path, '?') ? "&" : "?", c->api_version);
        p = path;
    }
    scitt__http_request rq = {k->method, p, headers, n, k->body};
    scitt__http_opts o = {(int)(k->timeout_ms > 0x7fffffffu ? 0x7fffffffu : k->timeout_ms),
                          k->max_body, c->cacert, c->user_agent};
    char why[600];
    const scitt__http_url *u = k->target ? k->target : &c->url;
    scitt_err e = scitt__http_do(u, &rq, &o, res, why, sizeof(why));
    if (e != SCITT_OK) {
        say(reason, cap, "%s", why);
        return e;
    }
    record(c, res);
    return SCITT_OK;
}

/* "GET /prefix/path" for messages, without the query string. */
static void request_line(const scitt_client *c, const call *k, char *out, size_t cap)
{
    size_t n = strcspn(k->path, "?");
    const scitt__http_url *u = k->target ? k->target : &c->url;
    if (k->target && !scitt__http_same_origin(k->target, &c->url)) {
        snprintf(out, cap, "%s %s://%s%s%s:%s%.*s", k->method, u->tls ? "https" : "http",
                 u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "", u->port, (int)n, k->path);
        return;
    }
    snprintf(out, cap, "%s %s%.*s", k->method, u->prefix, (int)n, k->path);
}

/* The error for an answer the call did not want. */
static scitt_err answer_error(scitt_client *c, const call *k, char *reason, size_t cap)
{
    char line[1200];
    request_line(c, k, line, sizeof(line));
    say(reason, cap, "%s: %s", line, c->last.problem);
    int st = c->last.status;
    if (st == 404 && strcmp(c->last.title, "Registration Failed") == 0) {
        return SCITT_ERR_POLICY;
    }
    return st == 404 ? SCITT_ERR_NOT_FOUND : st == 429 || st == 503 ? SCITT_ERR_BUSY : SCITT_ERR_IO;
}

/* Hands the body of @p res over to @p out (no copy); its ceiling was out's. */
static void take_body(scitt__http_result *res, scitt_dynbuf *out)
{
    size_t max = out->max;
    scitt_dynbuf_clear(out);
    *out = res->body;
    out->max = max;
    scitt_dynbuf_init(&res->body, 0);
}

static size_t ceiling(const scitt_dynbuf *out)
{
    return out->max ? out->max : SCITT_LIMIT_DYNBUF_MAX;
}

/* A GET whose only good answer is 200, with the body into @p out. */
static scitt_err fetch(scitt_client *c, const char *path, const char *accept, scitt_dynbuf *out,
                       char *reason, size_t cap)
{
    say(reason, cap, "%s", "");
    out->len = 0;
    out->err = SCITT_OK;
    call k = {"GET", path, accept, NULL, 0, {NULL, 0}, timeout_of(c), ceiling(out), NULL};
    scitt__http_result res;
    scitt_err e = exchange(c, &k, &res, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    if (c->last.status == 200) {
        take_body(&res, out);
    } else {
        e = answer_error(c, &k, reason, cap);
    }
    scitt__http_result_clear(&res);
    return e;
}

scitt_err scitt_client_get(scitt_client *c, const char *path, const char *accept, scitt_dynbuf *out,
                           char *reason, size_t cap)
{
    if (!path || path[0] != '/' || strpbrk(path, " \t\r\n")) {
        say(reason, cap, "a path starts with '/' and holds no white space");
        return SCITT_ERR_INVALID_ARG;
    }
    return fetch(c, path, accept, out, reason, cap);
}

/* ---- registration -------------------------------------------------------------------------- */

void scitt_client_registration_init(scitt_client_registration *r)
{
    memset(r, 0, sizeof(*r));
    scitt_dynbuf_init(&r->receipt, SCITT_CLIENT_RECEIPT_MAX);
}

void scitt_client_registration_clear(scitt_client_registration *r)
{
    scitt_dynbuf_clear(&r->receipt);
    memset(r, 0, sizeof(*r));
}

/* The ID after @p seg ("/entries/", "/operations/") at the end of a Location's path: the last
 * segment, 1..64 URL-unreserved bytes (scittd's 64 hex digits, CCF's "2.131"). */
static bool location_id(scitt_span loc, const char *seg, char id[SCITT_CLIENT_ENTRY_ID_LEN + 1])
{
    size_t end = 0;
    while (end < loc.len && loc.ptr[end] != '?' && loc.ptr[end] != '#') {
        end++;
    }
    size_t sl = strlen(seg);
    const uint8_t *p = NULL, *q = loc.ptr;
    while ((q = memmem(q, end - (size_t)(q - loc.ptr), seg, sl)) != NULL) {
        p = q; /* the last occurrence */
        q += sl;
    }
    if (!p) {
        return false;
    }
    scitt_span v = scitt_span_make(p + sl, end - (size_t)(p + sl - loc.ptr));
    if (!scitt_client_id_ok(v)) {
        return false;
    }
    memcpy(id, v.ptr, v.len);
    id[v.len] = 0;
    return true;
}

static bool location_entry(const scitt__http_response *res, char id[SCITT_CLIENT_ENTRY_ID_LEN + 1])
{
    scitt_span loc;
    return scitt__http_header_get(res, "location", &loc) && location_id(loc, "/entries/", id);
}

/* How long a pending registration waits before its next request. */
static void set_wait(const scitt_client *c, scitt_client_registration *r, bool now)
{
    bool ra = c->last.has_retry_after;
    r->retry_after = ra && c->last.retry_after ? c->last.retry_after : 1;
    if (now && !ra) {
        r->wait_ms = 0;
    } else if (ra) {
        r->wait_ms = r->retry_after * 1000u;
    } else {
        r->wait_ms = backoff_ms(r->polls);
    }
}

static const char *origin_text(const scitt__http_url *u, char *out, size_t cap)
{
    snprintf(out, cap, "%s://%s%s%s:%s", u->tls ? "https" : "http", u->ipv6 ? "[" : "", u->host,
             u->ipv6 ? "]" : "", u->port);
    return out;
}

/* A 302, 303 or 307 to a pending registration: where to poll next, by the rules in client.h. */
static scitt_err follow(scitt_client *c, const call *k, const scitt__http_result *res,
                        scitt_client_registration *r, char *reason, size_t cap)
{
    const scitt__http_url *from = k->target ? k->target : &c->url;
    scitt_span loc;
    scitt__http_url to;
    char path[SCITT_CLIENT_LOCATION_MAX], line[1200], o1[300], o2[300];
    request_line(c, k, line, sizeof(line));
    if (!scitt__http_header_get(&res->res, "location", &loc) ||
        scitt__http_location(from, loc, &to, path, sizeof(path)) != SCITT_OK) {
        char v[200];
        scitt_client_printable(loc, v, sizeof(v));
        say(reason, cap, "%s: %d without a Location this client follows (\"%s\")", line,
            c->last.status, v);
        return SCITT_ERR_MALFORMED;
    }
    if (from->tls && !to.tls) {
        say(reason, cap, "%s: refused a redirect from https to %s", line,
            origin_text(&to, o1, sizeof(o1)));
        return SCITT_ERR_UNTRUSTED;
    }
    char url[SCITT_CLIENT_LOCATION_MAX + 300];
    int w = snprintf(url, sizeof(url), "%s%s", origin_text(&to, o2, sizeof(o2)), path);
    if (w <= 0 || (size_t)w >= SCITT_CLIENT_LOCATION_MAX) {
        say(reason, cap, "%s: the Location is too long", line);
        return SCITT_ERR_MALFORMED;
    }
    bool same = r->poll_kind == SCITT_CLIENT_POLL_LOCATION && strcmp(url, r->poll) == 0;
    if (!same && ++r->redirects > SCITT_CLIENT_REDIRECT_MAX) {
        say(reason, cap, "%s: more than %u redirects", line, SCITT_CLIENT_REDIRECT_MAX);
        return SCITT_ERR_MALFORMED;
    }
    if (same) {
        r->polls++; /* 302 to itself: still running */
    }
    memcpy(r->poll, url, (size_t)w + 1);
    r->poll_kind = SCITT_CLIENT_POLL_LOCATION;
    char id[SCITT_CLIENT_ENTRY_ID_LEN + 1];
    if (location_id(scitt_span_str(path), "/entries/", id)) {
        memcpy(r->entry_id, id, sizeof(id));
    }
    set_wait(c, r, c->last.status == 303);
    return SCITT_OK;
}

/* An operation body (200 to GET /operations/{id}, or a 202's body). */
static scitt_err operation_answer(scitt_client *c, const call *k, const scitt__http_result *res,
                                  scitt_client_registration *r, char *reason, size_t cap)
{
    scitt_client_operation op;
    char line[1200];
    request_line(c, k, line, sizeof(line));
    if (scitt_client_operation_parse(scitt_span_make(res->body.ptr, res->body.len), &op) !=
        SCITT_OK) {
        say(reason, cap, "%s: %d with a body that is not an operation", line, c->last.status);
        return SCITT_ERR_MALFORMED;
    }
    if (op.status == SCITT_CLIENT_OP_FAILED) {
        snprintf(c->last.problem, sizeof(c->last.problem), "the registration failed: %s",
                 op.error[0] ? op.error : "(no reason given)");
        say(reason, cap, "%s: %s", line, c->last.problem);
        return SCITT_ERR_POLICY;
    }
    if (op.status == SCITT_CLIENT_OP_SUCCEEDED) {
        memcpy(r->entry_id, op.entry_id, sizeof(op.entry_id));
        r->poll_kind = SCITT_CLIENT_POLL_ENTRY; /* the receipt, at once */
        r->poll[0] = 0;
        set_wait(c, r, true);
        return SCITT_OK;
    }
    r->polls++;
    set_wait(c, r, false);
    return SCITT_OK;
}

/* What an answer to POST /entries (@p posted false) or to a poll means for @p r. */
static scitt_err registration_answer(scitt_client *c, const call *k, scitt__http_result *res,
                                     bool posted, scitt_client_registration *r, char *reason,
                                     size_t cap)
{
    int st = c->last.status;
    set_wait(c, r, false);
    if (posted && r->poll_kind == SCITT_CLIENT_POLL_OPERATION && st == 200) {
        return operation_answer(c, k, res, r, reason, cap);
    }
    if (st == 200 || st == 201) {
        char id[SCITT_CLIENT_ENTRY_ID_LEN + 1];
        if (location_entry(&res->res, id)) {
            memcpy(r->entry_id, id, sizeof(id));
        } else if (!posted) {
            r->entry_id[0] = 0;
        }
        r->receipt.len = 0;
        r->receipt.err = SCITT_OK;
        scitt_dynbuf_put(&r->receipt, res->body.ptr, res->body.len);
        if (r->receipt.err != SCITT_OK) {
            r->receipt.len = 0;
            say(reason, cap, "the receipt is too large");
            return SCITT_ERR_TOO_LARGE;
        }
        r->done = true;
        r->poll_kind = SCITT_CLIENT_POLL_NONE;
        return SCITT_OK;
    }
    if (st == 302 || st == 303 || st == 307) {
        return follow(c, k, res, r, reason, cap);
    }
    if (st == 202 && !posted) {
        scitt_span loc;
        char id[SCITT_CLIENT_ENTRY_ID_LEN + 1];
        bool has_loc = scitt__http_header_get(&res->res, "location", &loc);
        if (has_loc && location_id(loc, "/entries/", id)) {
            memcpy(r->entry_id, id, sizeof(id));
            r->poll_kind = SCITT_CLIENT_POLL_ENTRY;
            return SCITT_OK;
        }
        scitt_client_operation op;
        if ((has_loc && location_id(loc, "/operations/", id)) ||
            (scitt_client_operation_parse(scitt_span_make(res->body.ptr, res->body.len), &op) ==
                 SCITT_OK &&
             op.operation_id[0] && memcpy(id, op.operation_id, sizeof(id)))) {
            snprintf(r->poll, sizeof(r->poll), "/operations/%s", id);
            r->poll_kind = SCITT_CLIENT_POLL_OPERATION;
            return SCITT_OK;
        }
        say(reason, cap, "202 Accepted without a usable Location header or operation");
        return SCITT_ERR_MALFORMED;
    }
    if ((st == 204 || st == 202) && posted) {
        r->polls++; /* still registering */
        set_wait(c, r, false);
        return SCITT_OK;
    }
    scitt_err e = answer_error(c, k, reason, cap);
    if (st == 400) {
        e = SCITT_ERR_POLICY; /* refused, whatever the title */
    }
    return e;
}

static scitt_err submit_within(scitt_client *c, scitt_span statement, unsigned flags,
                               uint32_t timeout_ms, scitt_client_registration *r, char *reason,
                               size_t cap)
{
    say(reason, cap, "%s", "");
    const char *hdrs[3] = {"Content-Type: application/cose", NULL, NULL};
    size_t nh = 1;
    if (flags & SCITT_CLIENT_ASYNC) {
        hdrs[nh++] = "Prefer: respond-async";
    }
    if (c->auth[0]) {
        hdrs[nh++] = c->auth;
    }
    call k = {"POST", "/entries", "application/cose", hdrs, nh, statement, timeout_ms, 0, NULL};
    scitt__http_result res;
    r->done = false;
    r->poll_kind = SCITT_CLIENT_POLL_NONE;
    r->poll[0] = 0;
    r->redirects = r->polls = 0;
    scitt_err e = exchange(c, &k, &res, reason, cap);
    if (e == SCITT_OK) {
        e = registration_answer(c, &k, &res, false, r, reason, cap);
    }
    scitt__http_result_clear(&res);
    return e;
}

static scitt_err poll_within(scitt_client *c, uint32_t timeout_ms, scitt_client_registration *r,
                             char *reason, size_t cap)
{
    say(reason, cap, "%s", "");
    char path[SCITT_CLIENT_LOCATION_MAX];
    scitt__http_url target;
    const scitt__http_url *t = NULL;
    const char *accept = "application/cose";
    size_t max_body = 0;
    if (r->poll_kind == SCITT_CLIENT_POLL_LOCATION) {
        if (scitt__http_location(&c->url, scitt_span_str(r->poll), &target, path, sizeof(path)) !=
            SCITT_OK) {
            say(reason, cap, "no URL to poll");
            return SCITT_ERR_INVALID_ARG;
        }
        t = &target;
    } else if (r->poll_kind == SCITT_CLIENT_POLL_OPERATION) {
        snprintf(path, sizeof(path), "%s", r->poll);
        accept = "application/cbor";
        max_body = 64u << 10;
    } else if (scitt_client_id_ok(scitt_span_str(r->entry_id))) {
        snprintf(path, sizeof(path), "/entries/%s", r->entry_id);
        r->poll_kind = SCITT_CLIENT_POLL_ENTRY;
    } else {
        say(reason, cap, "no entry to poll for");
        return SCITT_ERR_INVALID_ARG;
    }
    const char *hdrs[1] = {c->auth};
    call k = {"GET", path, accept, hdrs, 0, {NULL, 0}, timeout_ms, max_body, t};
    if (c->auth[0] && to_service(c, &k)) {
        k.nheaders = 1; /* the token never goes to another origin */
    }
    scitt__http_result res;
    r->done = false;
    scitt_err e = exchange(c, &k, &res, reason, cap);
    if (e == SCITT_OK) {
        e = registration_answer(c, &k, &res, true, r, reason, cap);
    }
    scitt__http_result_clear(&res);
    return e;
}

scitt_err scitt_client_submit(scitt_client *c, scitt_span statement, unsigned flags,
                              scitt_client_registration *r, char *reason, size_t cap)
{
    return submit_within(c, statement, flags, timeout_of(c), r, reason, cap);
}

scitt_err scitt_client_poll(scitt_client *c, scitt_client_registration *r, char *reason, size_t cap)
{
    return poll_within(c, timeout_of(c), r, reason, cap);
}

scitt_err scitt_client_register(scitt_client *c, scitt_span statement, unsigned flags,
                                uint32_t wait_ms, scitt_client_registration *r, char *reason,
                                size_t cap)
{
    int64_t deadline = now_ms() + wait_ms;
    unsigned busy = 0;
    r->entry_id[0] = 0;
    r->done = false;
    r->poll_kind = SCITT_CLIENT_POLL_NONE;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            say(reason, cap, "no receipt within %u s%s%s", wait_ms / 1000,
                r->entry_id[0] ? " for entry " : "", r->entry_id);
            return SCITT_ERR_TIMEOUT;
        }
        uint32_t t = timeout_of(c) < left ? timeout_of(c) : (uint32_t)left;
        scitt_err e = r->poll_kind != SCITT_CLIENT_POLL_NONE
                          ? poll_within(c, t, r, reason, cap)
                          : submit_within(c, statement, flags, t, r, reason, cap);
        if (e == SCITT_OK && r->done) {
            return SCITT_OK;
        }
        int64_t ms = r->wait_ms;
        if (e == SCITT_ERR_BUSY) {
            ms = c->last.has_retry_after
                     ? (int64_t)(c->last.retry_after ? c->last.retry_after : 1) * 1000
                     : backoff_ms(busy);
            busy++;
        } else if (e != SCITT_OK) {
            return e;
        }
        left = deadline - now_ms();
        sleep_ms(ms < left ? ms : (left > 0 ? left : 0));
    }
}

/* ---- entries, keys, configuration ---------------------------------------------------------- */

static scitt_err entry_get(scitt_client *c, const char *entry_id, bool statement, uint32_t wait_ms,
                           scitt_dynbuf *out, char *reason, size_t cap)
{
    say(reason, cap, "%s", "");
    out->len = 0;
    out->err = SCITT_OK;
    if (!entry_id || !entry_id_ok(scitt_span_str(entry_id))) {
        say(reason, cap, "an entry ID is 64 lowercase hex digits");
        return SCITT_ERR_INVALID_ARG;
    }
    char path[112];
    snprintf(path, sizeof(path), "/entries/%s%s", entry_id, statement ? "/statement" : "");
    int64_t deadline = now_ms() + wait_ms;
    for (;;) {
        call k = {"GET",     path,          "application/cose", NULL, 0,
                  {NULL, 0}, timeout_of(c), ceiling(out),       NULL};
        scitt__http_result res;
        scitt_err e = exchange(c, &k, &res, reason, cap);
        if (e != SCITT_OK) {
            return e;
        }
        int st = c->last.status;
        if (st == 200) {
            take_body(&res, out);
        } else if (st != 204) {
            e = answer_error(c, &k, reason, cap);
        }
        scitt__http_result_clear(&res);
        if (st != 204) {
            return e;
        }
        uint32_t wait = c->last.has_retry_after ? c->last.retry_after : 1;
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            say(reason, cap, "entry %s is still being registered (retry after %u s)", entry_id,
                wait);
            return SCITT_ERR_BUSY;
        }
        int64_t ms = (int64_t)(wait < 1 ? 1 : wait) * 1000;
        sleep_ms(ms < left ? ms : left);
    }
}

scitt_err scitt_client_receipt(scitt_client *c, const char *entry_id, uint32_t wait_ms,
                               scitt_dynbuf *out, char *reason, size_t cap)
{
    return entry_get(c, entry_id, false, wait_ms, out, reason, cap);
}

scitt_err scitt_client_statement(scitt_client *c, const char *entry_id, uint32_t wait_ms,
                                 scitt_dynbuf *out, char *reason, size_t cap)
{
    return entry_get(c, entry_id, true, wait_ms, out, reason, cap);
}

scitt_err scitt_client_keys(scitt_client *c, unsigned flags, scitt_dynbuf *raw,
                            scitt_cose_keyset **keys, char *reason, size_t cap)
{
    if (keys) {
        *keys = NULL;
    }
    bool jwks = (flags & SCITT_CLIENT_JWKS) != 0;
    const char *path = jwks ? "/jwks" : "/.well-known/scitt-keys";
    scitt_dynbuf local;
    scitt_dynbuf_init(&local, SCITT_LIMIT_KEY_TEXT);
    scitt_dynbuf *b = raw ? raw : &local;
    scitt_err e = fetch(c, path, jwks ? "application/json" : "application/cbor", b, reason, cap);
    scitt_cose_keyset *set = NULL;
    if (e == SCITT_OK) {
        scitt_span body = scitt_span_make(b->ptr, b->len);
        e = jwks ? scitt_cose_keyset_from_jwks(body, &set)
                 : scitt_cose_keyset_from_cose(body, &set);
        if (e != SCITT_OK) {
            say(reason, cap, "%s%s is not a %s: %s", c->url_text, path,
                jwks ? "JWKS" : "COSE_Key_Set", scitt_err_str(e));
            b->len = 0;
        }
    }
    if (keys && e == SCITT_OK) {
        *keys = set;
    } else {
        scitt_cose_keyset_free(set);
    }
    scitt_dynbuf_clear(&local);
    return e;
}

scitt_err scitt_client_configuration(scitt_client *c, scitt_dynbuf *out, char *reason, size_t cap)
{
    static const char path[] = "/.well-known/transparency-configuration";
    scitt_err e = fetch(c, path, "application/cbor", out, reason, cap);
    if (e == SCITT_OK) {
        e = scitt_cbor_validate(scitt_span_make(out->ptr, out->len));
        if (e != SCITT_OK) {
            say(reason, cap, "GET %s%s: the answer is not CBOR (%s)", c->url.prefix, path,
                scitt_err_str(e));
            out->len = 0;
        }
    }
    return e;
}

scitt_err scitt_client_attestation(scitt_client *c, const uint8_t *nonce, size_t nonce_len,
                                   scitt_dynbuf *out, char *reason, size_t cap)
{
    char hex[65] = "", path[96];
    if (nonce_len > 32 ||
        (nonce_len && scitt_hex_encode(scitt_span_make(nonce, nonce_len), hex, sizeof(hex)))) {
        say(reason, cap, "a nonce is at most 32 bytes");
        return SCITT_ERR_INVALID_ARG;
    }
    snprintf(path, sizeof(path), "/attestation%s%s", nonce_len ? "?nonce=" : "", hex);
    return fetch(c, path, "application/cbor", out, reason, cap);
}

/* ---- query --------------------------------------------------------------------------------- */

static void add_param(char *q, size_t cap, const char *name, const char *value)
{
    if (!value) {
        return;
    }
    char esc[3 * 1024 + 1];
    if (scitt__http_query_escape(value, esc, sizeof(esc)) != SCITT_OK) {
        esc[0] = 0;
    }
    size_t n = strlen(q);
    snprintf(q + n, cap - n, "%s%s=%s", strchr(q, '?') ? "&" : "?", name, esc);
}

scitt_err scitt_client_query_page(scitt_client *c, scitt_client_query *q, size_t limit,
                                  scitt_client_row *rows, size_t rows_cap, size_t *n, char *reason,
                                  size_t cap)
{
    *n = 0;
    say(reason, cap, "%s", "");
    const char *fields[] = {q->iss, q->sub, q->digest, q->after, q->before};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i] && strlen(fields[i]) > 1000) {
            say(reason, cap, "a query field is at most 1000 bytes");
            return SCITT_ERR_INVALID_ARG;
        }
    }
    if (limit == 0 || limit > SCITT_CLIENT_PAGE_MAX) {
        say(reason, cap, "a page holds 1 to %u entries", SCITT_CLIENT_PAGE_MAX);
        return SCITT_ERR_INVALID_ARG;
    }
    char path[8192] = "/query", num[24];
    add_param(path, sizeof(path), "iss", q->iss);
    add_param(path, sizeof(path), "sub", q->sub);
    add_param(path, sizeof(path), "digest", q->digest);
    add_param(path, sizeof(path), "after", q->after);
    add_param(path, sizeof(path), "before", q->before);
    snprintf(num, sizeof(num), "%zu", limit);
    add_param(path, sizeof(path), "limit", num);
    if (q->cursor) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)q->cursor);
        add_param(path, sizeof(path), "cursor", num);
    }
    scitt_dynbuf body;
    scitt_dynbuf_init(&body, 0);
    scitt_err e = fetch(c, path, "application/cbor", &body, reason, cap);
    uint64_t next = 0;
    if (e == SCITT_OK) {
        e = scitt_client_query_parse(scitt_span_make(body.ptr, body.len), rows, rows_cap, n, &next);
        if (e != SCITT_OK) {
            *n = 0;
            say(reason, cap, "the query result is not what scittd serves: %s", scitt_err_str(e));
        }
    }
    scitt_dynbuf_clear(&body);
    if (e != SCITT_OK) {
        return e;
    }
    q->next = next;
    q->done = next == 0;
    /* A page that claims more must carry some of it and move the cursor forward; anything else
     * would have the client ask forever. */
    q->stalled = !q->done && (*n == 0 || next <= q->cursor);
    if (!q->done && !q->stalled) {
        q->cursor = next;
    }
    return SCITT_OK;
}

/* ---- the log ------------------------------------------------------------------------------- */

scitt_err scitt_client_checkpoint(scitt_client *c, scitt_dynbuf *out, char *reason, size_t cap)
{
    return fetch(c, "/checkpoint", NULL, out, reason, cap);
}

scitt_err scitt_client_tile(scitt_client *c, unsigned level, uint64_t index, unsigned width,
                            scitt_dynbuf *out, char *reason, size_t cap)
{
    char path[SCITT_TILE_PATH_MAX + 1] = "/";
    if (width == 0 || width > SCITT_TILE_WIDTH ||
        scitt_tile_path(level, index, width == SCITT_TILE_WIDTH ? 0 : width, path + 1,
                        sizeof(path) - 1) != SCITT_OK) {
        say(reason, cap, "no such tile");
        return SCITT_ERR_INVALID_ARG;
    }
    return fetch(c, path, NULL, out, reason, cap);
}

scitt_err scitt_client_entry_bundle(scitt_client *c, uint64_t index, unsigned width,
                                    scitt_dynbuf *out, char *reason, size_t cap)
{
    char path[SCITT_TILE_PATH_MAX + 1] = "/";
    if (width == 0 || width > SCITT_TILE_WIDTH ||
        scitt_tile_entries_path(index, width == SCITT_TILE_WIDTH ? 0 : width, path + 1,
                                sizeof(path) - 1) != SCITT_OK) {
        say(reason, cap, "no such entry bundle");
        return SCITT_ERR_INVALID_ARG;
    }
    return fetch(c, path, NULL, out, reason, cap);
}

scitt_err scitt_client_consistency(scitt_client *c, uint64_t from, uint64_t to, scitt_dynbuf *out,
                                   char *reason, size_t cap)
{
    char path[96];
    snprintf(path, sizeof(path), "/proofs/consistency?from=%llu&to=%llu", (unsigned long long)from,
             (unsigned long long)to);
    return fetch(c, path, "application/cose", out, reason, cap);
}
