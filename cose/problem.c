/* RFC 9290 concise problem details: {-1: title, -2: detail}, deterministic CBOR. */
#include "scitt/problem.h"

#include <string.h>

#include <cbor.h>

static void put_head(scitt_dynbuf *out, size_t (*enc)(uint64_t, unsigned char *, size_t),
                     uint64_t v)
{
    unsigned char head[9];
    size_t n = enc(v, head, sizeof(head));
    scitt_dynbuf_put(out, head, n);
}

static size_t enc_map(uint64_t v, unsigned char *b, size_t n)
{
    return cbor_encode_map_start((size_t)v, b, n);
}

static size_t enc_text(uint64_t v, unsigned char *b, size_t n)
{
    return cbor_encode_string_start((size_t)v, b, n);
}

scitt_err scitt_problem_encode(const char *title, const char *detail, scitt_dynbuf *out)
{
    scitt_span t = scitt_span_str(title), d = scitt_span_str(detail);
    if (!scitt_utf8_valid(t) || !scitt_utf8_valid(d)) {
        return SCITT_ERR_UTF8;
    }
    put_head(out, enc_map, 2);
    put_head(out, cbor_encode_negint, 0); /* -1: title */
    put_head(out, enc_text, t.len);
    scitt_dynbuf_put(out, t.ptr, t.len);
    put_head(out, cbor_encode_negint, 1); /* -2: detail */
    put_head(out, enc_text, d.len);
    scitt_dynbuf_put(out, d.ptr, d.len);
    return out->err;
}
