/* Issuing receipts, transparent statements and consistency receipts from stored tree heads. */
#include "service_int.h"

#include "scitt/limits.h"

/* The signed tree head of @p size (0: the newest), rebuilt for receipt encoding (no crypto). */
static scitt_err load_head(scitt_ledger_read *r, uint64_t size, scitt_receipt_head *rh)
{
    scitt_tree_head h;
    scitt_err e = size ? scitt_ledger_head(r, size, &h) : scitt_ledger_latest(r, &h);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt_receipt_head_load(h.receipt_protected, h.receipt_signature, h.root, NULL, rh);
    return e == SCITT_OK ? SCITT_OK : SCITT_ERR_CORRUPT;
}

scitt_err scitt_service_receipt(scitt_service *s, scitt_ledger_read *r, uint64_t index,
                                uint64_t tree_size, scitt_dynbuf *out)
{
    (void)s;
    scitt_receipt_head rh;
    scitt_err e = load_head(r, tree_size, &rh);
    if (e != SCITT_OK) {
        return e;
    }
    if (index >= rh.tree_size) {
        return SCITT_ERR_NOT_FOUND;
    }
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    size_t n;
    e = scitt_ledger_inclusion_proof(r, index, rh.tree_size, path, &n);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    return scitt_receipt_encode_inclusion(&rh, index, (const uint8_t(*)[SCITT_HASH_LEN])path, n,
                                          &w);
}

scitt_err scitt_service_transparent(scitt_service *s, scitt_ledger_read *r, uint64_t index,
                                    uint64_t tree_size, scitt_dynbuf *out)
{
    scitt_dynbuf receipt;
    scitt_dynbuf_init(&receipt, 0);
    scitt_err e = scitt_service_receipt(s, r, index, tree_size, &receipt);
    scitt_span entry;
    e = e ? e : scitt_ledger_entry(r, index, &entry);
    if (e == SCITT_OK) {
        scitt_span rs = scitt_span_make(receipt.ptr, receipt.len);
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, out);
        e = scitt_receipt_embed(entry, &rs, 1, &w);
    }
    scitt_dynbuf_clear(&receipt);
    return e;
}

scitt_err scitt_service_consistency(scitt_service *s, scitt_ledger_read *r, uint64_t old_size,
                                    uint64_t new_size, scitt_dynbuf *out)
{
    (void)s;
    scitt_tree_head old;
    scitt_err e = scitt_ledger_head(r, old_size, &old);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_receipt_head rh;
    e = load_head(r, new_size, &rh);
    if (e != SCITT_OK) {
        return e;
    }
    if (old_size > rh.tree_size) {
        return SCITT_ERR_NOT_FOUND;
    }
    uint8_t path[SCITT_LIMIT_PROOF_HASHES + 1][SCITT_HASH_LEN];
    size_t n = 0;
    if (old_size < rh.tree_size) {
        e = scitt_ledger_consistency_proof(r, old_size, rh.tree_size, path, &n);
        if (e != SCITT_OK) {
            return e;
        }
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    return scitt_receipt_encode_consistency(&rh, old_size, (const uint8_t(*)[SCITT_HASH_LEN])path,
                                            n, &w);
}
