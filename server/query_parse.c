/*
 * The query string of GET /query: iss, sub and digest (percent-encoded), after and before (Unix
 * seconds or RFC 3339 UTC, turned into tree sizes by the caller's function), cursor and limit.
 * Kept apart from the route so that it can be fuzzed without a ledger.
 */
#include "scittd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (uint8_t)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes a query value (and '+' as space) into a NUL-terminated string. */
static bool pct_decode(scitt_span in, char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (c == '%') {
            if (in.len - i < 3 || hexval(in.ptr[i + 1]) < 0 || hexval(in.ptr[i + 2]) < 0) {
                return false;
            }
            c = (uint8_t)(hexval(in.ptr[i + 1]) * 16 + hexval(in.ptr[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o + 1 >= cap || c == 0) {
            return false;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    *len = o;
    return scitt_utf8_valid(scitt_span_make(out, o));
}

/*
 * Digits only, at most @p max. strtoull would take a sign, leading spaces and saturate on
 * overflow, so "-1" would become a valid-looking huge cursor.
 */
static bool parse_dec(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (max - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Unix seconds, or RFC 3339 "YYYY-MM-DDTHH:MM:SSZ"; returns milliseconds. */
static bool parse_time(const char *s, int64_t *ms)
{
    uint64_t v;
    /* bounded so that the conversion to milliseconds cannot overflow */
    if (parse_dec(s, (uint64_t)INT64_MAX / 1000, &v)) {
        *ms = (int64_t)v * 1000;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!rest || *rest) {
        return false;
    }
    *ms = (int64_t)timegm(&tm) * 1000;
    return true;
}

static bool field_text(scitt_span qs, const char *name, char *out, size_t cap, size_t *len,
                       bool *has)
{
    scitt_span v;
    *has = scitt_http_query_param(qs, name, &v);
    return !*has || pct_decode(v, out, cap, len);
}

const char *scittd_query_parse(scitt_span qs, uint64_t size, scittd_size_at_fn size_at, void *ctx,
                               scittd_query *q)
{
    memset(q, 0, sizeof(*q));
    size_t n;
    bool has;
    char tmp[256];
    if (!field_text(qs, "iss", q->iss, sizeof(q->iss), &q->iss_len, &q->has_iss)) {
        return "iss is not percent-encoded UTF-8";
    }
    if (!field_text(qs, "sub", q->sub, sizeof(q->sub), &q->sub_len, &q->has_sub)) {
        return "sub is not percent-encoded UTF-8";
    }
    if (!field_text(qs, "digest", tmp, sizeof(tmp), &n, &q->has_digest)) {
        return "digest is not valid";
    }
    if (q->has_digest &&
        scitt_hex_decode(scitt_span_make(tmp, n), q->digest, sizeof(q->digest), &q->digest_len)) {
        return "digest must be hexadecimal";
    }
    q->from = 0;
    q->to = size;
    int64_t ms;
    if (!field_text(qs, "after", tmp, sizeof(tmp), &n, &has)) {
        return "after is not valid";
    }
    if (has) {
        if (!parse_time(tmp, &ms) || size_at(ctx, ms, &q->from) != SCITT_OK) {
            return "after must be Unix seconds or RFC 3339 UTC (2026-01-02T03:04:05Z)";
        }
    }
    if (!field_text(qs, "before", tmp, sizeof(tmp), &n, &has)) {
        return "before is not valid";
    }
    if (has) {
        if (!parse_time(tmp, &ms) || size_at(ctx, ms, &q->to) != SCITT_OK) {
            return "before must be Unix seconds or RFC 3339 UTC (2026-01-02T03:04:05Z)";
        }
    }
    if (!field_text(qs, "cursor", tmp, sizeof(tmp), &n, &has)) {
        return "cursor is not valid";
    }
    if (has) {
        uint64_t c;
        if (!parse_dec(tmp, UINT64_MAX, &c)) {
            return "cursor must be the number a previous page returned";
        }
        if (c > q->from) {
            q->from = c;
        }
    }
    q->limit = SCITTD_QUERY_DEFAULT_LIMIT;
    if (!field_text(qs, "limit", tmp, sizeof(tmp), &n, &has)) {
        return "limit is not valid";
    }
    if (has) {
        uint64_t l;
        if (!parse_dec(tmp, SCITTD_QUERY_MAX_LIMIT, &l) || l == 0) {
            return "limit must be 1..1000";
        }
        q->limit = l;
    }
    return NULL;
}
