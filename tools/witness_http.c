/* The request head parser of the witness's HTTP/1.1 server (its key file: scitt/cosigner.h). */
#include "witness.h"

#include <string.h>

#include "scitt/cbor.h"
#include "scitt/cose.h"
#include "scitt/witness.h"

static bool ieq(scitt_span a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = a.ptr[i];
        if (c >= 'A' && c <= 'Z') {
            c = (uint8_t)(c - 'A' + 'a');
        }
        if (c != (uint8_t)b[i]) {
            return false;
        }
    }
    return true;
}

static bool tchar(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static scitt_span trim(scitt_span s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) {
        s.len--;
    }
    return s;
}

static scitt_err request_line(scitt_span l, wh_request *out)
{
    const uint8_t *sp1 = memchr(l.ptr, ' ', l.len);
    if (sp1 == NULL || sp1 == l.ptr) {
        return SCITT_ERR_MALFORMED;
    }
    scitt_span m = scitt_span_make(l.ptr, (size_t)(sp1 - l.ptr));
    scitt_span rest = scitt_span_make(sp1 + 1, l.len - m.len - 1);
    const uint8_t *sp2 = memchr(rest.ptr, ' ', rest.len);
    if (sp2 == NULL || sp2 == rest.ptr) {
        return SCITT_ERR_MALFORMED;
    }
    out->path = scitt_span_make(rest.ptr, (size_t)(sp2 - rest.ptr));
    scitt_span ver = scitt_span_make(sp2 + 1, rest.len - out->path.len - 1);
    if (!scitt_span_eq_str(ver, "HTTP/1.1") && !scitt_span_eq_str(ver, "HTTP/1.0")) {
        return SCITT_ERR_MALFORMED;
    }
    if (out->path.ptr[0] != '/') {
        return SCITT_ERR_MALFORMED;
    }
    for (size_t i = 0; i < out->path.len; i++) {
        if (out->path.ptr[i] <= ' ' || out->path.ptr[i] >= 0x7f) {
            return SCITT_ERR_MALFORMED;
        }
    }
    for (size_t i = 0; i < m.len; i++) {
        if (!tchar(m.ptr[i])) {
            return SCITT_ERR_MALFORMED;
        }
    }
    out->method = scitt_span_eq_str(m, "GET")    ? WH_GET
                  : scitt_span_eq_str(m, "POST") ? WH_POST
                                                 : WH_OTHER;
    return SCITT_OK;
}

static scitt_err header_line(scitt_span l, wh_request *out)
{
    const uint8_t *colon = memchr(l.ptr, ':', l.len);
    if (colon == NULL || colon == l.ptr) {
        return SCITT_ERR_MALFORMED;
    }
    scitt_span name = scitt_span_make(l.ptr, (size_t)(colon - l.ptr));
    for (size_t i = 0; i < name.len; i++) {
        if (!tchar(name.ptr[i])) {
            return SCITT_ERR_MALFORMED; /* also refuses white space before the colon */
        }
    }
    scitt_span value = trim(scitt_span_make(colon + 1, l.len - name.len - 1));
    for (size_t i = 0; i < value.len; i++) {
        if ((value.ptr[i] < ' ' && value.ptr[i] != '\t') || value.ptr[i] == 0x7f) {
            return SCITT_ERR_MALFORMED;
        }
    }
    if (ieq(name, "transfer-encoding")) {
        return SCITT_ERR_MALFORMED;
    }
    if (ieq(name, "content-length")) {
        if (out->has_length || value.len == 0 || value.len > 19) {
            return SCITT_ERR_MALFORMED;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < value.len; i++) {
            if (value.ptr[i] < '0' || value.ptr[i] > '9') {
                return SCITT_ERR_MALFORMED;
            }
            v = v * 10 + (uint64_t)(value.ptr[i] - '0');
        }
        out->has_length = true;
        out->length = v;
    }
    return SCITT_OK;
}

scitt_err wh_parse_head(scitt_span in, wh_request *out)
{
    if (out == NULL || (in.ptr == NULL && in.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    size_t lim = in.len < WITNESS_HEAD_MAX ? in.len : WITNESS_HEAD_MAX;
    size_t end = 0;
    bool found = false;
    for (size_t i = 3; i < lim; i++) {
        if (memcmp(in.ptr + i - 3, "\r\n\r\n", 4) == 0) {
            end = i + 1;
            found = true;
            break;
        }
    }
    if (!found) {
        return in.len >= WITNESS_HEAD_MAX ? SCITT_ERR_TOO_LARGE : SCITT_ERR_TRUNCATED;
    }
    out->head_len = end;
    bool first = true;
    for (size_t pos = 0; pos + 2 < end;) {
        const uint8_t *cr = memchr(in.ptr + pos, '\r', end - pos);
        size_t stop = (size_t)(cr - in.ptr); /* found: the head ends in CRLF CRLF */
        if (in.ptr[stop + 1] != '\n') {
            return SCITT_ERR_MALFORMED;
        }
        scitt_span line = scitt_span_make(in.ptr + pos, stop - pos);
        if (memchr(line.ptr, '\n', line.len) != NULL || line.len == 0) {
            return SCITT_ERR_MALFORMED;
        }
        scitt_err e = first ? request_line(line, out) : header_line(line, out);
        if (e != SCITT_OK) {
            return e;
        }
        first = false;
        pos = stop + 2;
    }
    return first ? SCITT_ERR_MALFORMED : SCITT_OK;
}

/* ---- consistency receipts ------------------------------------------------------------------ */

static scitt_err proof_body(scitt_span b, uint64_t old_size, uint64_t new_size, uint8_t path[][32],
                            size_t *n)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, b);
    size_t len, k;
    uint64_t m, s;
    scitt_err e = scitt_cbor_read_array(&r, &len);
    if (e == SCITT_OK && len != 3) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_uint(&r, &m);
    e = e ? e : scitt_cbor_read_uint(&r, &s);
    e = e ? e : scitt_cbor_read_array(&r, &k);
    if (e == SCITT_OK && (m != old_size || s != new_size || k > SCITT_WITNESS_PROOF_MAX)) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    for (size_t i = 0; e == SCITT_OK && i < k; i++) {
        scitt_span h;
        e = scitt_cbor_read_bytes(&r, &h);
        if (e == SCITT_OK && h.len != 32) {
            e = SCITT_ERR_PROOF_MALFORMED;
        }
        if (e == SCITT_OK) {
            memcpy(path[i], h.ptr, 32);
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK) {
        *n = k;
    }
    return e;
}

scitt_err witness_receipt_proof(scitt_span receipt, uint64_t old_size, uint64_t new_size,
                                uint8_t path[][32], size_t *n)
{
    scitt_cose_sign1 m;
    scitt_err e = scitt_cose_sign1_decode(receipt, 0, &m);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, m.unprotected_item);
    size_t pairs;
    e = scitt_cbor_read_map(&r, &pairs);
    for (size_t i = 0; e == SCITT_OK && i < pairs; i++) {
        int64_t key;
        e = scitt_cbor_read_int(&r, &key);
        if (e == SCITT_OK && key != 396) {
            e = scitt_cbor_skip(&r, NULL);
            continue;
        }
        size_t inner;
        e = e ? e : scitt_cbor_read_map(&r, &inner);
        for (size_t j = 0; e == SCITT_OK && j < inner; j++) {
            int64_t k2;
            e = scitt_cbor_read_int(&r, &k2);
            if (e == SCITT_OK && k2 != -2) {
                e = scitt_cbor_skip(&r, NULL);
                continue;
            }
            size_t np;
            scitt_span body;
            e = e ? e : scitt_cbor_read_array(&r, &np);
            if (e == SCITT_OK && np != 1) {
                return SCITT_ERR_PROOF_MALFORMED;
            }
            e = e ? e : scitt_cbor_read_bytes(&r, &body);
            return e ? e : proof_body(body, old_size, new_size, path, n);
        }
    }
    return e ? e : SCITT_ERR_PROOF_MALFORMED;
}
