/* RFC 9290 concise problem details: {-1: title, -2: detail}, deterministic CBOR. */
#include "scitt/problem.h"

#include "scitt/cbor.h"

scitt_err scitt_problem_encode(const char *title, const char *detail, scitt_dynbuf *out)
{
    scitt_span t = scitt_span_str(title), d = scitt_span_str(detail);
    if (!scitt_utf8_valid(t) || !scitt_utf8_valid(d)) {
        return SCITT_ERR_UTF8;
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_int(&w, -1); /* title */
    scitt_cbor_put_text(&w, t);
    scitt_cbor_put_int(&w, -2); /* detail */
    scitt_cbor_put_text(&w, d);
    return w.err;
}
