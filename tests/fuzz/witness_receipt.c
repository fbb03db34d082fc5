/*
 * Fuzz target: the cosigned checkpoint a receipt carries (scitt_receipt_checkpoint) and adding
 * one (scitt_receipt_attach_checkpoint), on untrusted receipts. Invariants: what is found lies
 * inside the input and is at most SCITT_LIMIT_NOTE_BYTES; a receipt that takes a checkpoint gives
 * back exactly that text, refuses a second one, and keeps every other byte of the input (its
 * length grows by the label and the text only).
 */
#include <string.h>

#include "scitt/cbor.h"
#include "scitt/limits.h"
#include "scitt/witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size), note;
    scitt_err e = scitt_receipt_checkpoint(in, &note);
    if (e == SCITT_OK && (note.ptr < data || note.ptr + note.len > data + size ||
                          note.len > SCITT_LIMIT_NOTE_BYTES)) {
        __builtin_trap();
    }
    static const char text[] = "log.example\n2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n";
    scitt_dynbuf out, twice;
    scitt_dynbuf_init(&out, 0);
    scitt_dynbuf_init(&twice, 0);
    scitt_err a = scitt_receipt_attach_checkpoint(in, scitt_span_str(text), &out);
    if (a == SCITT_OK) {
        scitt_span got;
        if (e == SCITT_OK || scitt_receipt_checkpoint(scitt_span_make(out.ptr, out.len), &got) ||
            got.len != strlen(text) || memcmp(got.ptr, text, got.len) != 0 ||
            out.len < size + strlen(text) + 5 ||
            scitt_cbor_validate(scitt_span_make(out.ptr, out.len)) != SCITT_OK) {
            __builtin_trap();
        }
        if (scitt_receipt_attach_checkpoint(scitt_span_make(out.ptr, out.len), scitt_span_str(text),
                                            &twice) != SCITT_ERR_HEADER ||
            twice.len != 0) {
            __builtin_trap();
        }
    } else if (out.len != 0) {
        __builtin_trap();
    }
    scitt_dynbuf_clear(&out);
    scitt_dynbuf_clear(&twice);
    return 0;
}
