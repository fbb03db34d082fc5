/*
 * Fuzz target: libscitt-client's HTTP/1.1 response parser (client/http_parse.c), on the bytes as
 * they arrive (not at the end of the connection) and at the end, as a GET and as a HEAD.
 * Invariants: a complete response has a status in 100..599 and a body within the cap; a response
 * complete before the end of the connection is the same response at its end. The Retry-After and
 * Location of a complete response go through their readers too: a wait within the cap, and a
 * resolved path that starts with '/' and holds no control or space byte.
 */
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    for (int head = 0; head < 2; head++) {
        scitt__http_response a, b;
        scitt_dynbuf ba, bb;
        scitt_dynbuf_init(&ba, 4096);
        scitt_dynbuf_init(&bb, 4096);
        scitt_err ea = scitt__http_parse_response(in, false, head, &a, &ba);
        scitt_err eb = scitt__http_parse_response(in, true, head, &b, &bb);
        if (ea == SCITT_OK && (a.status < 100 || a.status > 599 || ba.len > 4096)) {
            __builtin_trap();
        }
        if (ea == SCITT_OK && (eb != SCITT_OK || a.status != b.status || ba.len != bb.len ||
                               (ba.len && memcmp(ba.ptr, bb.ptr, ba.len) != 0))) {
            __builtin_trap();
        }
        scitt_span v;
        if (eb == SCITT_OK && scitt__http_header_get(&b, "content-length", &v) && v.len > size) {
            __builtin_trap(); /* header spans point into the input */
        }
        uint32_t wait;
        if (eb == SCITT_OK && scitt__http_header_get(&b, "retry-after", &v) &&
            scitt__http_retry_after(v, 1800000000, 3600, &wait) && wait > 3600) {
            __builtin_trap();
        }
        scitt__http_url base, to;
        char path[SCITT__HTTP_LOCATION_MAX];
        if (eb == SCITT_OK && scitt__http_header_get(&b, "location", &v) &&
            scitt__http_url_parse("https://ts.example:8443/p", &base) == SCITT_OK &&
            scitt__http_location(&base, v, &to, path, sizeof(path)) == SCITT_OK) {
            if (path[0] != '/' || strpbrk(path, " \t\r\n") || to.prefix[0]) {
                __builtin_trap();
            }
        }
        scitt_dynbuf_clear(&ba);
        scitt_dynbuf_clear(&bb);
    }
    return 0;
}
