/*
 * Fuzz target: the strict CBOR reader. Invariants: the item-at-a-time reader never runs past the
 * input; an input that validates is exactly one item whose skip span is the whole input, and its
 * typed re-encoding of scalar items reproduces the input bytes (shortest form is the only form).
 */
#include <string.h>

#include "scitt/cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, in);
    scitt_cbor_item it;
    uint8_t out[16];
    while (scitt_cbor_next(&r, &it) == SCITT_OK) {
        if (r.pos > size || it.offset + it.size > size) {
            __builtin_trap();
        }
        /* Every head we accept is the one the writer produces for that value. */
        scitt_cbor_writer w;
        scitt_cbor_writer_init(&w, out, sizeof(out));
        switch (it.type) {
        case SCITT_CBOR_UINT:
            scitt_cbor_put_uint(&w, it.arg);
            break;
        case SCITT_CBOR_NEGINT:
            if (it.arg <= (uint64_t)INT64_MAX) {
                scitt_cbor_put_int(&w, -1 - (int64_t)it.arg);
            }
            break;
        case SCITT_CBOR_ARRAY:
            scitt_cbor_put_array(&w, (size_t)it.arg);
            break;
        case SCITT_CBOR_MAP:
            scitt_cbor_put_map(&w, (size_t)it.arg);
            break;
        case SCITT_CBOR_TAG:
            scitt_cbor_put_tag(&w, it.arg);
            break;
        case SCITT_CBOR_BYTES:
            scitt_cbor_put_bytes_head(&w, it.str.len);
            break;
        default:
            break;
        }
        if (w.len && memcmp(out, data + it.offset, w.len) != 0) {
            __builtin_trap();
        }
    }
    if (scitt_cbor_validate(in) == SCITT_OK) {
        scitt_cbor_reader_init(&r, in);
        scitt_span raw;
        if (scitt_cbor_skip(&r, &raw) != SCITT_OK || raw.ptr != data || raw.len != size) {
            __builtin_trap();
        }
    }
    return 0;
}
