/*
 * HTTP/1.1 response parsing (RFC 9112) for libscitt-client: strict status line and header
 * syntax, one framing (Transfer-Encoding: chunked, Content-Length, or the end of the connection),
 * bounded everywhere. Pure: no I/O, no state between calls.
 */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool span_ieq(scitt_span a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a.ptr[i], y = (uint8_t)b[i];
        if (x >= 'A' && x <= 'Z') {
            x = (uint8_t)(x + 32);
        }
        if (y >= 'A' && y <= 'Z') {
            y = (uint8_t)(y + 32);
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

bool scitt__http_header_get(const scitt__http_response *r, const char *name, scitt_span *value)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (span_ieq(r->headers[i].name, name)) {
            *value = r->headers[i].value;
            return true;
        }
    }
    return false;
}

/* The line starting at @p pos (without CRLF) and where the next one starts; false if no CRLF. */
static bool next_line(scitt_span in, size_t pos, size_t limit, scitt_span *line, size_t *next)
{
    for (size_t i = pos; i < in.len && i - pos < limit; i++) {
        if (in.ptr[i] == '\n') {
            if (i == pos || in.ptr[i - 1] != '\r') {
                return false; /* a bare LF: refused (caller sees MALFORMED via the flag) */
            }
            *line = scitt_span_make(in.ptr + pos, i - 1 - pos);
            *next = i + 1;
            return true;
        }
    }
    return false;
}

/* Did a bare LF (not preceded by CR) occur before the next CRLF or the end? */
static bool bare_lf(scitt_span in, size_t pos)
{
    for (size_t i = pos; i < in.len; i++) {
        if (in.ptr[i] == '\n') {
            return i == pos || in.ptr[i - 1] != '\r';
        }
    }
    return false;
}

static scitt_err parse_status(scitt_span line, scitt__http_response *r)
{
    /* "HTTP/1.x SSS[ reason]" */
    if (line.len < 12 || memcmp(line.ptr, "HTTP/1.", 7) != 0 ||
        (line.ptr[7] != '0' && line.ptr[7] != '1') || line.ptr[8] != ' ') {
        return SCITT_ERR_MALFORMED;
    }
    int s = 0;
    for (size_t i = 9; i < 12; i++) {
        if (line.ptr[i] < '0' || line.ptr[i] > '9') {
            return SCITT_ERR_MALFORMED;
        }
        s = s * 10 + (line.ptr[i] - '0');
    }
    if (s < 100 || s > 599 || (line.len > 12 && line.ptr[12] != ' ')) {
        return SCITT_ERR_MALFORMED;
    }
    for (size_t i = 12; i < line.len; i++) {
        uint8_t c = line.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return SCITT_ERR_MALFORMED;
        }
    }
    r->status = s;
    r->reason = line.len > 13 ? scitt_span_make(line.ptr + 13, line.len - 13)
                              : scitt_span_make(line.ptr + line.len, 0);
    return SCITT_OK;
}

static scitt_err parse_header(scitt_span line, scitt__http_response *r)
{
    size_t colon = 0;
    while (colon < line.len && line.ptr[colon] != ':') {
        if (!is_tchar(line.ptr[colon])) {
            return SCITT_ERR_MALFORMED; /* includes obs-fold (leading white space) */
        }
        colon++;
    }
    if (colon == 0 || colon == line.len) {
        return SCITT_ERR_MALFORMED;
    }
    size_t a = colon + 1, b = line.len;
    while (a < b && (line.ptr[a] == ' ' || line.ptr[a] == '\t')) {
        a++;
    }
    while (b > a && (line.ptr[b - 1] == ' ' || line.ptr[b - 1] == '\t')) {
        b--;
    }
    for (size_t i = a; i < b; i++) {
        uint8_t c = line.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return SCITT_ERR_MALFORMED;
        }
    }
    if (r->nheaders == SCITT__HTTP_HEADERS_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    r->headers[r->nheaders].name = scitt_span_make(line.ptr, colon);
    r->headers[r->nheaders].value = scitt_span_make(line.ptr + a, b - a);
    r->nheaders++;
    return SCITT_OK;
}

/* Parses one head at @p pos; *end gets the offset after its blank line. */
static scitt_err parse_head(scitt_span raw, size_t pos, scitt__http_response *r, size_t *end)
{
    memset(r, 0, sizeof(*r));
    scitt_span line;
    size_t next;
    size_t limit = SCITT__HTTP_HEAD_MAX;
    if (!next_line(raw, pos, limit, &line, &next)) {
        if (bare_lf(raw, pos)) {
            return SCITT_ERR_MALFORMED;
        }
        return raw.len - pos >= SCITT__HTTP_HEAD_MAX ? SCITT_ERR_TOO_LARGE : SCITT_ERR_TRUNCATED;
    }
    scitt_err e = parse_status(line, r);
    if (e != SCITT_OK) {
        return e;
    }
    for (;;) {
        if (next - pos >= SCITT__HTTP_HEAD_MAX) {
            return SCITT_ERR_TOO_LARGE;
        }
        size_t at = next;
        if (!next_line(raw, at, SCITT__HTTP_HEAD_MAX - (at - pos), &line, &next)) {
            if (bare_lf(raw, at)) {
                return SCITT_ERR_MALFORMED;
            }
            return raw.len - pos >= SCITT__HTTP_HEAD_MAX ? SCITT_ERR_TOO_LARGE
                                                         : SCITT_ERR_TRUNCATED;
        }
        if (line.len == 0) {
            *end = next;
            return SCITT_OK;
        }
        e = parse_header(line, r);
        if (e != SCITT_OK) {
            return e;
        }
    }
}

/* Content-Length: 1*DIGIT, or a list of equal values (RFC 9110 §8.6); every header must agree. */
static scitt_err content_length(const scitt__http_response *r, bool *present, uint64_t *len)
{
    *present = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!span_ieq(r->headers[i].name, "content-length")) {
            continue;
        }
        scitt_span v = r->headers[i].value;
        size_t p = 0;
        while (p < v.len) {
            uint64_t n = 0;
            size_t digits = 0;
            while (p < v.len && v.ptr[p] >= '0' && v.ptr[p] <= '9') {
                if (++digits > 15) {
                    return SCITT_ERR_MALFORMED; /* far beyond any cap, and no overflow */
                }
                n = n * 10 + (uint64_t)(v.ptr[p++] - '0');
            }
            if (digits == 0 || (*present && n != *len)) {
                return SCITT_ERR_MALFORMED;
            }
            *present = true;
            *len = n;
            while (p < v.len && (v.ptr[p] == ' ' || v.ptr[p] == '\t')) {
                p++;
            }
            if (p < v.len) {
                if (v.ptr[p] != ',') {
                    return SCITT_ERR_MALFORMED;
                }
                p++;
                while (p < v.len && (v.ptr[p] == ' ' || v.ptr[p] == '\t')) {
                    p++;
                }
                if (p == v.len) {
                    return SCITT_ERR_MALFORMED;
                }
            }
        }
        if (v.len == 0) {
            return SCITT_ERR_MALFORMED;
        }
    }
    return SCITT_OK;
}

/* Transfer-Encoding: only "chunked" (alone, as the one coding) is understood. */
static scitt_err transfer_encoding(const scitt__http_response *r, bool *chunked)
{
    *chunked = false;
    bool seen = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!span_ieq(r->headers[i].name, "transfer-encoding")) {
            continue;
        }
        if (seen || !span_ieq(r->headers[i].value, "chunked")) {
            return SCITT_ERR_MALFORMED; /* gzip etc. were never asked for */
        }
        seen = true;
        *chunked = true;
    }
    return SCITT_OK;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* De-chunks from @p pos; TRUNCATED when the last chunk and trailers are not all here yet. */
static scitt_err dechunk(scitt_span raw, size_t pos, scitt_dynbuf *body)
{
    for (;;) {
        scitt_span line;
        size_t next;
        if (!next_line(raw, pos, 16 + SCITT__HTTP_CHUNK_EXT_MAX, &line, &next)) {
            if (bare_lf(raw, pos) || raw.len - pos >= 16 + SCITT__HTTP_CHUNK_EXT_MAX) {
                return SCITT_ERR_MALFORMED;
            }
            return SCITT_ERR_TRUNCATED;
        }
        uint64_t size = 0;
        size_t i = 0;
        while (i < line.len && hexval(line.ptr[i]) >= 0) {
            if (i == 15) {
                return SCITT_ERR_MALFORMED;
            }
            size = size * 16 + (uint64_t)hexval(line.ptr[i]);
            i++;
        }
        if (i == 0 ||
            (i < line.len && line.ptr[i] != ';' && line.ptr[i] != ' ' && line.ptr[i] != '\t')) {
            return SCITT_ERR_MALFORMED;
        }
        pos = next;
        if (size == 0) {
            /* trailer section: header lines until an empty one (not kept) */
            for (size_t lines = 0;; lines++) {
                if (!next_line(raw, pos, SCITT__HTTP_HEAD_MAX, &line, &next)) {
                    if (bare_lf(raw, pos) || lines > SCITT__HTTP_HEADERS_MAX) {
                        return SCITT_ERR_MALFORMED;
                    }
                    return SCITT_ERR_TRUNCATED;
                }
                pos = next;
                if (line.len == 0) {
                    return pos == raw.len ? SCITT_OK : SCITT_ERR_TRAILING;
                }
                if (lines >= SCITT__HTTP_HEADERS_MAX) {
                    return SCITT_ERR_TOO_LARGE;
                }
            }
        }
        if (size > raw.len - pos || raw.len - pos - size < 2) {
            /* Refuse early what could never fit, so the buffer stops growing. */
            if (body->max && size > body->max - body->len) {
                return SCITT_ERR_TOO_LARGE;
            }
            return SCITT_ERR_TRUNCATED;
        }
        scitt_dynbuf_put(body, raw.ptr + pos, (size_t)size);
        if (body->err != SCITT_OK) {
            return SCITT_ERR_TOO_LARGE;
        }
        pos += (size_t)size;
        if (raw.ptr[pos] != '\r' || raw.ptr[pos + 1] != '\n') {
            return SCITT_ERR_MALFORMED;
        }
        pos += 2;
    }
}

scitt_err scitt__http_parse_response(scitt_span raw, bool eof, bool no_body,
                                     scitt__http_response *out, scitt_dynbuf *body)
{
    size_t pos = 0, end = 0;
    scitt_err e;
    /* Skip interim responses (1xx, except 101 which we never ask for). */
    for (unsigned interim = 0;; interim++) {
        e = parse_head(raw, pos, out, &end);
        if (e != SCITT_OK) {
            return e;
        }
        if (out->status >= 200 || out->status == 101) {
            break;
        }
        if (interim == 8) {
            return SCITT_ERR_MALFORMED;
        }
        pos = end;
    }
    out->head_len = end;
    if (out->status == 101) {
        return SCITT_ERR_MALFORMED;
    }
    body->len = 0;
    body->err = SCITT_OK;
    if (no_body || out->status == 204 || out->status == 304) {
        return SCITT_OK; /* bytes after such a response are ignored: the connection closes */
    }
    bool chunked, has_len;
    uint64_t len = 0;
    e = transfer_encoding(out, &chunked);
    e = e ? e : content_length(out, &has_len, &len);
    if (e != SCITT_OK) {
        return e;
    }
    if (chunked && has_len) {
        return SCITT_ERR_MALFORMED; /* ambiguous framing */
    }
    out->chunked = chunked;
    scitt_span rest = scitt_span_make(raw.ptr + end, raw.len - end);
    if (chunked) {
        e = dechunk(rest, 0, body);
    } else if (has_len) {
        if (body->max && len > body->max) {
            return SCITT_ERR_TOO_LARGE;
        }
        if (rest.len < len) {
            return SCITT_ERR_TRUNCATED;
        }
        if (rest.len > len) {
            return SCITT_ERR_TRAILING;
        }
        scitt_dynbuf_put(body, rest.ptr, rest.len);
        e = body->err == SCITT_OK ? SCITT_OK : SCITT_ERR_TOO_LARGE;
    } else {
        if (body->max && rest.len > body->max) {
            return SCITT_ERR_TOO_LARGE;
        }
        if (!eof) {
            return SCITT_ERR_TRUNCATED;
        }
        scitt_dynbuf_put(body, rest.ptr, rest.len);
        e = body->err == SCITT_OK ? SCITT_OK : SCITT_ERR_TOO_LARGE;
    }
    if (e != SCITT_OK) {
        body->len = 0;
    }
    return e;
}

/* ---- Retry-After and Location ------------------------------------------------------------ */

static int month_of(const char *s)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++) {
        if (strncmp(s, names + 3 * i, 3) == 0) {
            return i + 1;
        }
    }
    return 0;
}

bool scitt__http_date_parse(scitt_span v, int64_t *out)
{
    char s[64], wd[16], mon[4], zone[4];
    int d, y, hh, mm, ss, end = 0;
    if (v.len == 0 || v.len >= sizeof(s)) {
        return false;
    }
    memcpy(s, v.ptr, v.len);
    s[v.len] = 0;
    mon[0] = zone[0] = 0;
    /* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
     * asctime "Sun Nov  6 08:49:37 1994" (RFC 9110, 5.6.7: recipients accept all three). */
    bool imf = sscanf(s, "%15[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wd, &d, mon, &y,
                      &hh, &mm, &ss, zone, &end) == 8 &&
               strlen(wd) == 3;
    if (!imf && sscanf(s, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%n", wd, &d, mon, &y,
                       &hh, &mm, &ss, zone, &end) == 8) {
        y += y < 70 ? 2000 : 1900; /* two-digit years, as RFC 9110 says to read them */
    } else if (!imf && sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd, mon, &d, &hh,
                              &mm, &ss, &y, &end) == 7) {
        snprintf(zone, sizeof(zone), "GMT");
    } else if (!imf) {
        return false;
    }
    int m = month_of(mon);
    if ((size_t)end != v.len || strcmp(zone, "GMT") != 0 || m == 0 || d < 1 || d > 31 || y < 1970 ||
        y > 9999 || hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0) {
        return false;
    }
    *out = scitt_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60 + ss;
    return true;
}

bool scitt__http_retry_after(scitt_span v, int64_t now, uint32_t cap_s, uint32_t *out)
{
    if (v.len == 0) {
        return false;
    }
    if (v.ptr[0] >= '0' && v.ptr[0] <= '9') {
        uint64_t s = 0;
        for (size_t i = 0; i < v.len; i++) {
            if (v.ptr[i] < '0' || v.ptr[i] > '9') {
                return false;
            }
            s = s * 10 + (uint64_t)(v.ptr[i] - '0');
            if (s > cap_s) {
                s = cap_s; /* and keep checking the digits */
            }
        }
        *out = (uint32_t)s;
        return true;
    }
    int64_t at;
    if (!scitt__http_date_parse(v, &at)) {
        return false;
    }
    int64_t d = at - now;
    *out = d <= 0 ? 0 : d > (int64_t)cap_s ? cap_s : (uint32_t)d;
    return true;
}

bool scitt__http_same_origin(const scitt__http_url *a, const scitt__http_url *b)
{
    return a->tls == b->tls && strcasecmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0;
}

scitt_err scitt__http_location(const scitt__http_url *base, scitt_span loc, scitt__http_url *target,
                               char *path, size_t cap)
{
    char s[SCITT__HTTP_LOCATION_MAX];
    if (loc.len == 0 || loc.len >= sizeof(s) || cap == 0) {
        return SCITT_ERR_MALFORMED;
    }
    for (size_t i = 0; i < loc.len; i++) {
        if (loc.ptr[i] <= 0x20 || loc.ptr[i] >= 0x7f) {
            return SCITT_ERR_MALFORMED;
        }
    }
    memcpy(s, loc.ptr, loc.len);
    s[loc.len] = 0;
    s[strcspn(s, "#")] = 0; /* a fragment is not sent */
    const char *p;
    if (s[0] == '/' && s[1] != '/') {
        *target = *base;
        p = s;
    } else if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) {
        char *slash = strchr(s + (s[4] == 's' ? 8 : 7), '/');
        char *q = strchr(s + (s[4] == 's' ? 8 : 7), '?');
        size_t auth_end = slash ? (size_t)(slash - s) : strlen(s);
        if (q && (size_t)(q - s) < auth_end) {
            auth_end = (size_t)(q - s);
        }
        char origin[SCITT__HTTP_LOCATION_MAX];
        memcpy(origin, s, auth_end);
        origin[auth_end] = 0;
        if (scitt__http_url_parse(origin, target) != SCITT_OK) {
            return SCITT_ERR_MALFORMED;
        }
        p = s + auth_end;
    } else {
        return SCITT_ERR_MALFORMED; /* relative references are not followed */
    }
    target->prefix[0] = 0;
    int w = snprintf(path, cap, "%s%s", p[0] == '/' ? "" : "/", p);
    return w > 0 && (size_t)w < cap ? SCITT_OK : SCITT_ERR_TOO_LARGE;
}
