/*
 * Content negotiation for SCRAPI answers (RFC 9943 media types). A client that names
 * application/scitt-receipt+cose or application/scitt-statement+cose in Accept (with a non-zero
 * q) gets that label; every other client gets application/cose, today's default. The body is
 * the same either way.
 */
#include "scittd.h"

#include <string.h>

#include <zlib.h>

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static scitt_span trim(scitt_span s)
{
    while (s.len && is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && is_space(s.ptr[s.len - 1])) {
        s.len--;
    }
    return s;
}

static bool ieq(scitt_span a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a.ptr[i], y = (uint8_t)b[i];
        if (x >= 'A' && x <= 'Z') {
            x = (uint8_t)(x - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

/* q=0 (with any number of zero decimals) refuses a media range (RFC 9110 §12.4.2). */
static bool q_zero(scitt_span params)
{
    while (params.len) {
        size_t n = 0;
        while (n < params.len && params.ptr[n] != ';') {
            n++;
        }
        scitt_span p = trim(scitt_span_make(params.ptr, n));
        if (p.len >= 2 && (p.ptr[0] == 'q' || p.ptr[0] == 'Q') && p.ptr[1] == '=') {
            bool zero = p.len >= 3 && p.ptr[2] == '0';
            for (size_t i = 3; zero && i < p.len; i++) {
                zero = p.ptr[i] == '.' || p.ptr[i] == '0';
            }
            return zero;
        }
        params.ptr += n < params.len ? n + 1 : n;
        params.len -= n < params.len ? n + 1 : n;
    }
    return false;
}

bool scittd_accepts(scitt_span accept, const char *type)
{
    /* One pass over the header, each element examined once: linear in its (bounded) length. */
    while (accept.len) {
        size_t n = 0;
        while (n < accept.len && accept.ptr[n] != ',') {
            n++;
        }
        scitt_span elem = scitt_span_make(accept.ptr, n);
        size_t m = 0;
        while (m < elem.len && elem.ptr[m] != ';') {
            m++;
        }
        scitt_span range = trim(scitt_span_make(elem.ptr, m));
        scitt_span params = scitt_span_make(elem.ptr + m, elem.len - m);
        if (ieq(range, type) && !q_zero(params)) {
            return true;
        }
        accept.ptr += n < accept.len ? n + 1 : n;
        accept.len -= n < accept.len ? n + 1 : n;
    }
    return false;
}

const char *scittd_cose_type(const scitt_http_req *req, const char *specific)
{
    scitt_span accept;
    if (scitt_http_req_header(req, "Accept", &accept) && scittd_accepts(accept, specific)) {
        return specific;
    }
    return SCITTD_TYPE_COSE;
}

bool scittd_wants_gzip(const scitt_http_req *req)
{
    scitt_span ae;
    return scitt_http_req_header(req, "Accept-Encoding", &ae) && scittd_accepts(ae, "gzip");
}

scitt_err scittd_gzip(scitt_span in, scitt_dynbuf *out)
{
    /* One deflate call into a buffer of deflateBound's size: gzip wrapper (window bits 15 + 16),
     * level 6. The input is at most an entry bundle (256 entries of at most 65,535 bytes). */
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = SCITT_OK;
    uLong bound = deflateBound(&z, (uLong)in.len);
    size_t at = out->len;
    uint8_t *dst = in.len <= UINT32_MAX ? scitt_dynbuf_reserve(out, (size_t)bound) : NULL;
    if (!dst) {
        e = SCITT_ERR_NOMEM;
    }
    if (e == SCITT_OK) {
        z.next_in = (Bytef *)(uintptr_t)in.ptr;
        z.avail_in = (uInt)in.len;
        z.next_out = dst;
        z.avail_out = (uInt)bound;
        e = deflate(&z, Z_FINISH) == Z_STREAM_END ? SCITT_OK : SCITT_ERR_NOMEM;
        if (e == SCITT_OK) {
            out->len = at + z.total_out;
        }
    }
    deflateEnd(&z);
    return e;
}
