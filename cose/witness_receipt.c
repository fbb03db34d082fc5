/*
 * A receipt carrying the cosigned checkpoint it was made against (docs/receipts.md, "Witnessed
 * receipts"): the signed note text under the private-use label -65538 of the receipt's
 * unprotected header. The note authenticates itself (the log's and the witnesses' signatures),
 * so it needs no protection by the receipt's signature, and RFC 9942 verifiers, which ignore
 * labels they do not know, verify the same bytes as before.
 */
#include <string.h>

#include "scitt/cbor.h"
#include "scitt/limits.h"
#include "scitt/witness.h"

/* The encoded key -65538 (major type 1, argument 65537). */
static const uint8_t KEY[] = {0x3a, 0x00, 0x01, 0x00, 0x01};

/* Deterministic order (RFC 8949 §4.2.1): bytewise lexicographic order of the encoded keys. */
static int key_cmp(scitt_span a, scitt_span b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = memcmp(a.ptr, b.ptr, n);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* The items of a tagged COSE_Sign1, as encoded. */
typedef struct parts {
    scitt_span prot;  /* the protected bstr */
    size_t n;         /* pairs of the unprotected map */
    scitt_span pairs; /* their bytes */
    scitt_span payload, sig;
} parts;

static scitt_err split(scitt_span receipt, parts *p)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, receipt);
    uint64_t tag = 0;
    size_t n = 0;
    scitt_err e = scitt_cbor_read_tag(&r, &tag);
    if (e == SCITT_OK && tag != 18) {
        e = SCITT_ERR_BAD_TAG;
    }
    e = e ? e : scitt_cbor_read_array(&r, &n);
    if (e == SCITT_OK && n != 4) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_skip(&r, &p->prot);
    e = e ? e : scitt_cbor_read_map(&r, &p->n);
    size_t at = r.pos;
    for (size_t i = 0; e == SCITT_OK && i < 2 * p->n; i++) {
        e = scitt_cbor_skip(&r, NULL);
    }
    p->pairs = scitt_span_make(receipt.ptr + at, r.pos - at);
    e = e ? e : scitt_cbor_skip(&r, &p->payload);
    e = e ? e : scitt_cbor_skip(&r, &p->sig);
    return e ? e : scitt_cbor_reader_finish(&r);
}

scitt_err scitt_receipt_checkpoint(scitt_span receipt, scitt_span *note)
{
    parts p;
    scitt_err e = split(receipt, &p);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, p.pairs);
    for (size_t i = 0; i < p.n; i++) {
        scitt_span key;
        e = scitt_cbor_skip(&r, &key);
        if (e == SCITT_OK && key.len == sizeof(KEY) && memcmp(key.ptr, KEY, sizeof(KEY)) == 0) {
            e = scitt_cbor_read_text(&r, note);
            if (e == SCITT_OK && note->len > SCITT_LIMIT_NOTE_BYTES) {
                e = SCITT_ERR_TOO_LARGE;
            }
            return e == SCITT_OK ? SCITT_OK : SCITT_ERR_HEADER;
        }
        e = e ? e : scitt_cbor_skip(&r, NULL);
        if (e != SCITT_OK) {
            return e;
        }
    }
    return SCITT_ERR_NOT_FOUND;
}

scitt_err scitt_receipt_attach_checkpoint(scitt_span receipt, scitt_span note, scitt_dynbuf *out)
{
    if (note.len == 0 || note.len > SCITT_LIMIT_NOTE_BYTES) {
        return SCITT_ERR_INVALID_ARG;
    }
    parts p;
    scitt_err e = split(receipt, &p);
    if (e != SCITT_OK) {
        return e;
    }
    size_t mark = out->len;
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_tag(&w, 18);
    scitt_cbor_put_array(&w, 4);
    scitt_cbor_put_raw(&w, p.prot);
    scitt_cbor_put_map(&w, p.n + 1);
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, p.pairs);
    bool placed = false;
    for (size_t i = 0; e == SCITT_OK && i < p.n; i++) {
        scitt_span key = {NULL, 0}, val = {NULL, 0};
        e = scitt_cbor_skip(&r, &key);
        e = e ? e : scitt_cbor_skip(&r, &val);
        if (e == SCITT_OK && key_cmp(key, scitt_span_make(KEY, sizeof(KEY))) == 0) {
            e = SCITT_ERR_HEADER; /* one already: never two */
        }
        if (e != SCITT_OK) {
            break;
        }
        if (!placed && key_cmp(key, scitt_span_make(KEY, sizeof(KEY))) > 0) {
            scitt_cbor_put_raw(&w, scitt_span_make(KEY, sizeof(KEY)));
            scitt_cbor_put_text(&w, note);
            placed = true;
        }
        scitt_cbor_put_raw(&w, key);
        scitt_cbor_put_raw(&w, val);
    }
    if (e == SCITT_OK && !placed) {
        scitt_cbor_put_raw(&w, scitt_span_make(KEY, sizeof(KEY)));
        scitt_cbor_put_text(&w, note);
    }
    scitt_cbor_put_raw(&w, p.payload);
    scitt_cbor_put_raw(&w, p.sig);
    e = e ? e : scitt_cbor_writer_finish(&w, NULL);
    e = e ? e : out->err;
    if (e != SCITT_OK) {
        out->len = mark;
    }
    return e;
}
