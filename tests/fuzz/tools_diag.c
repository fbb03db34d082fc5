/*
 * Fuzz target: `scitt inspect`'s CBOR diagnostic notation, cut and in full. Invariants: the output
 * of an accepted input ends with a newline and contains no NUL; both forms agree on the kind.
 */
#include <string.h>

#include "parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_dynbuf a, b;
    scitt_dynbuf_init(&a, 0);
    scitt_dynbuf_init(&b, 0);
    diag_kind ka = DIAG_CBOR, kb = DIAG_CBOR;
    scitt_err ea = diag_print(scitt_span_make(data, size), false, &a, &ka);
    scitt_err eb = diag_print(scitt_span_make(data, size), true, &b, &kb);
    if (ea != eb || (ea == SCITT_OK && (ka != kb || a.len == 0 || a.ptr[a.len - 1] != '\n' ||
                                        memchr(a.ptr, 0, a.len)))) {
        __builtin_trap();
    }
    scitt_dynbuf_clear(&a);
    scitt_dynbuf_clear(&b);
    return 0;
}
