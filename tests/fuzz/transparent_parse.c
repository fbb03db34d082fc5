/*
 * Fuzz target: transparent statements. Verifies the input as one against the fixed service key
 * set, extracts its receipts, and embeds a fixed receipt into it. Invariant: whatever embedding
 * produces decodes, holds exactly that receipt at 394 and has the registered form (and leaf) of the
 * input.
 */
#include <stdlib.h>
#include <string.h>

#include "cose_fuzz.h"
#include "scitt/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static scitt_cose_sign1 *m, *t;
    if (!m) {
        m = malloc(sizeof(*m));
        t = malloc(sizeof(*t));
    }
    scitt_span in = scitt_span_make(data, size);
    scitt_ts_result res;
    fuzz_ignore(scitt_receipt_verify_transparent(in, fuzz_service_keys(), 0, &res));
    fuzz_ignore(scitt_receipt_verify_transparent(in, fuzz_service_keys(), SCITT_TS_ANY, NULL));
    scitt_span got[SCITT_LIMIT_RECEIPTS];
    size_t ngot;
    if (scitt_receipt_extract(in, got, &ngot) == SCITT_OK) {
        for (size_t i = 0; i < ngot; i++) {
            if (got[i].ptr < data || got[i].ptr + got[i].len > data + size) {
                __builtin_trap(); /* extracted receipts point into the input */
            }
        }
    }

    /* A minimal tagged receipt-shaped message to embed. */
    static const uint8_t receipt[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0xf6, 0x40};
    scitt_span r = scitt_span_make(receipt, sizeof(receipt));
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &out);
    if (scitt_receipt_embed(in, &r, 1, &w) == SCITT_OK) {
        if (scitt_cose_sign1_decode(scitt_span_make(out.ptr, out.len), 0, t) != SCITT_OK ||
            t->hdr.nreceipts != 1 || !scitt_span_eq(t->hdr.receipts[0], r) ||
            scitt_cose_sign1_decode(in, 0, m) != SCITT_OK) {
            __builtin_trap();
        }
        uint8_t a[32], b[32];
        scitt_receipt_leaf_hash(m, a);
        scitt_receipt_leaf_hash(t, b);
        if (memcmp(a, b, 32) != 0) {
            __builtin_trap();
        }
    }
    scitt_dynbuf_clear(&out);
    return 0;
}
