/*
 * Fuzz target: the Accept / Accept-Encoding reading of server/media.c and its gzip. Whatever the
 * input, a type is only accepted when the input names it (case aside), a range with q=0 never
 * selects it, and the gzip of the input inflates back to the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "scittd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL()                                                                                     \
    do {                                                                                           \
        fprintf(stderr, "media_headers fuzz: invariant at line %d broken\n", __LINE__);            \
        abort();                                                                                   \
    } while (0)

static bool contains_ci(const uint8_t *h, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        size_t k = 0;
        while (k < m) {
            uint8_t c = h[i + k];
            if (c >= 'A' && c <= 'Z') {
                c = (uint8_t)(c - 'A' + 'a');
            }
            if (c != (uint8_t)needle[k]) {
                break;
            }
            k++;
        }
        if (k == m) {
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) {
        return 0;
    }
    static const char *types[] = {SCITTD_TYPE_RECEIPT, SCITTD_TYPE_STATEMENT, "gzip"};
    scitt_span in = scitt_span_make(data, size);
    for (size_t i = 0; i < 3; i++) {
        if (scittd_accepts(in, types[i]) && !contains_ci(data, size, types[i])) {
            FAIL();
        }
    }
    /* The same value with ";q=0" after a lone type never selects it. */
    char buf[64];
    snprintf(buf, sizeof(buf), "%s;q=0", types[0]);
    if (scittd_accepts(scitt_span_str(buf), types[0])) {
        FAIL();
    }
    scitt_dynbuf z;
    scitt_dynbuf_init(&z, 0);
    if (scittd_gzip(in, &z) != SCITT_OK || z.err != SCITT_OK) {
        FAIL();
    }
    uint8_t *back = malloc(size + 1);
    uLongf n = (uLongf)(size + 1);
    z_stream s;
    memset(&s, 0, sizeof(s));
    if (!back || inflateInit2(&s, 15 + 16) != Z_OK) {
        FAIL();
    }
    s.next_in = z.ptr;
    s.avail_in = (uInt)z.len;
    s.next_out = back;
    s.avail_out = (uInt)n;
    if (inflate(&s, Z_FINISH) != Z_STREAM_END || s.total_out != size ||
        (size && memcmp(back, data, size) != 0)) {
        FAIL();
    }
    inflateEnd(&s);
    free(back);
    scitt_dynbuf_clear(&z);
    return 0;
}
