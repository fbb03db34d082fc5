/*
 * Issuing RFC 9942 receipts (vds 1, RFC9162_SHA256) and the registered form of a statement.
 *
 * The receipt signature covers ["Signature1", protected, h'', root]: nothing specific to an entry.
 * So a tree head is signed once (scitt_receipt_head_sign) and every receipt for that tree head
 * is stamped out from it by writing bytes (scitt_receipt_encode_inclusion): no crypto, no
 * allocation, one pass into the caller's buffer.
 */
#include "scitt/receipt.h"

#include <string.h>

#include "cose_internal.h"
#include "scitt/signer.h"

/* ------------------------------------------------------------------------------------------ */
/* Registered form                                                                             */

static const uint8_t sign1_head[2] = {0xd2, 0x84}; /* tag 18, array of 4 */
static const uint8_t empty_map[1] = {0xa0};

/* The registered form as five pieces, each as received except the two fixed ones. */
static void entry_parts(const scitt_cose_sign1 *m, scitt_span parts[5])
{
    parts[0] = scitt_span_make(sign1_head, sizeof(sign1_head));
    parts[1] = m->protected_item;
    parts[2] = scitt_span_make(empty_map, sizeof(empty_map));
    parts[3] = m->payload_item;
    parts[4] = m->signature_item;
}

size_t scitt_receipt_entry_len(const scitt_cose_sign1 *m)
{
    return sizeof(sign1_head) + m->protected_item.len + sizeof(empty_map) + m->payload_item.len +
           m->signature_item.len;
}

scitt_err scitt_receipt_entry(const scitt_cose_sign1 *m, scitt_cbor_writer *out)
{
    scitt_span parts[5];
    entry_parts(m, parts);
    for (size_t i = 0; i < 5; i++) {
        scitt_cbor_put_raw(out, parts[i]);
    }
    return out->err;
}

void scitt_receipt_leaf_hash(const scitt_cose_sign1 *m, uint8_t out[SCITT_HASH_LEN])
{
    static const uint8_t leaf_prefix[1] = {0x00};
    scitt_span parts[6];
    parts[0] = scitt_span_make(leaf_prefix, 1);
    entry_parts(m, parts + 1);
    scitt_sha256_v(parts, 6, out);
}

void scitt_receipt_entry_digest(const scitt_cose_sign1 *m, uint8_t out[SCITT_SHA256_LEN])
{
    scitt_span parts[5];
    entry_parts(m, parts);
    scitt_sha256_v(parts, 5, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Tree heads                                                                                  */

static scitt_err write_protected(const scitt_cose_key *key, scitt_span iss, scitt_span sub,
                                 int64_t iat, uint64_t tree_size, scitt_receipt_head *out)
{
    /* {1: alg, 4: kid, 15: {1: iss, 2: sub, 6: iat}, 395: 1, -65537: size}: the keys are
     * written in deterministic order (01, 04, 0f, 19 01 8b, 3a 00 01 00 00). */
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, out->protected_map, sizeof(out->protected_map));
    scitt_cbor_put_map(&w, 5);
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_ALG);
    scitt_cbor_put_int(&w, out->alg);
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_KID);
    scitt_cbor_put_bytes(&w, scitt_cose_key_kid(key));
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_CWT_CLAIMS);
    scitt_cbor_put_map(&w, 3);
    scitt_cbor_put_uint(&w, SCITT_CWT_ISS);
    scitt_cbor_put_text(&w, iss);
    scitt_cbor_put_uint(&w, SCITT_CWT_SUB);
    scitt_cbor_put_text(&w, sub);
    scitt_cbor_put_uint(&w, SCITT_CWT_IAT);
    scitt_cbor_put_int(&w, iat);
    scitt_cbor_put_uint(&w, SCITT_COSE_HDR_VDS);
    scitt_cbor_put_uint(&w, SCITT_VDS_RFC9162_SHA256);
    scitt_cbor_put_int(&w, SCITT_RECEIPT_HDR_TREE_SIZE);
    scitt_cbor_put_uint(&w, tree_size);
    scitt_span enc;
    scitt_err e = scitt_cbor_writer_finish(&w, &enc);
    out->protected_len = enc.len;
    return e;
}

/* RFC 9864: an Ed25519 key signs receipts under the fully specified -19, not the polymorphic -8
 * (verifiers here accept both: cose_key.c treats them as one for an Ed25519 key). */
static int64_t receipt_alg(const scitt_cose_key *key)
{
    int64_t alg = scitt_cose_key_alg(key);
    if (alg == SCITT_COSE_ALG_EDDSA && scitt__key_pub(key)->crv == SCITT_COSE_CRV_ED25519) {
        return SCITT_COSE_ALG_ED25519;
    }
    return alg;
}

scitt_err scitt_receipt_head_sign(const scitt_cose_key *key, scitt_span iss, scitt_span sub,
                                  int64_t iat, uint64_t tree_size,
                                  const uint8_t root[SCITT_HASH_LEN], scitt_receipt_head *out)
{
    scitt_cose_signer s;
    scitt_cose_signer_from_key(key, &s);
    return scitt_cose_signer_receipt_head(&s, iss, sub, iat, tree_size, root, out);
}

scitt_err scitt_cose_signer_receipt_head(const scitt_cose_signer *s, scitt_span iss, scitt_span sub,
                                         int64_t iat, uint64_t tree_size,
                                         const uint8_t root[SCITT_HASH_LEN],
                                         scitt_receipt_head *out)
{
    if (iss.len == 0 || sub.len == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (iss.len > SCITT_LIMIT_RECEIPT_NAME || sub.len > SCITT_LIMIT_RECEIPT_NAME) {
        return SCITT_ERR_TOO_LARGE;
    }
    out->alg = receipt_alg(s->pub);
    out->tree_size = tree_size;
    out->iat = iat;
    memcpy(out->root, root, SCITT_HASH_LEN);
    scitt_err e = write_protected(s->pub, iss, sub, iat, tree_size, out);
    if (e != SCITT_OK) {
        return e;
    }
    return scitt_cose_signer_signature(
        s, out->alg, scitt_span_make(out->protected_map, out->protected_len),
        scitt_span_make(NULL, 0), scitt_span_make(root, SCITT_HASH_LEN), out->signature,
        sizeof(out->signature), &out->signature_len);
}

scitt_err scitt_receipt_head_load(scitt_span protected_map, scitt_span signature,
                                  const uint8_t root[SCITT_HASH_LEN], const scitt_cose_key *key,
                                  scitt_receipt_head *out)
{
    if (protected_map.len > sizeof(out->protected_map) || signature.len > sizeof(out->signature) ||
        signature.len == 0) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_cose_headers *h = scitt_malloc(sizeof(*h));
    if (!h) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt__headers_decode(protected_map, scitt_span_make(NULL, 0), 0, h);
    bool has_size = false;
    e = e ? e : scitt__receipt_signed_size(h, &has_size, &out->tree_size);
    if (e == SCITT_OK && (!(h->prot & SCITT_COSE_H_ALG) || !(h->prot & SCITT_COSE_H_VDS) ||
                          h->vds != SCITT_VDS_RFC9162_SHA256 || !has_size || !h->cwt.has_iat)) {
        e = SCITT_ERR_HEADER;
    }
    if (e == SCITT_OK) {
        out->alg = h->alg;
        out->iat = h->cwt.iat;
    }
    scitt_free(h);
    if (e != SCITT_OK) {
        return e == SCITT_ERR_BAD_TYPE ? SCITT_ERR_HEADER : e;
    }
    memcpy(out->protected_map, protected_map.ptr, protected_map.len);
    out->protected_len = protected_map.len;
    memcpy(out->signature, signature.ptr, signature.len);
    out->signature_len = signature.len;
    memcpy(out->root, root, SCITT_HASH_LEN);
    if (key) {
        e = scitt_cose_signature_verify(key, out->alg, protected_map, scitt_span_make(NULL, 0),
                                        scitt_span_make(root, SCITT_HASH_LEN), signature);
    }
    return e;
}

/* ------------------------------------------------------------------------------------------ */
/* Receipts                                                                                    */

/* d2 84 bstr(protected) {396: {<vdp>: [bstr .cbor [a, b, path]]}} nil bstr(signature) */
static scitt_err write_receipt(const scitt_receipt_head *head, int64_t vdp, uint64_t a, uint64_t b,
                               const uint8_t path[][SCITT_HASH_LEN], size_t n, scitt_cbor_writer *w)
{
    scitt_cbor_put_tag(w, SCITT_COSE_TAG_SIGN1);
    scitt_cbor_put_array(w, 4);
    scitt_cbor_put_bytes(w, scitt_span_make(head->protected_map, head->protected_len));
    scitt_cbor_put_map(w, 1);
    scitt_cbor_put_uint(w, SCITT_COSE_HDR_VDP);
    scitt_cbor_put_map(w, 1);
    scitt_cbor_put_int(w, vdp);
    scitt_cbor_put_array(w, 1);
    scitt_cbor_open_bytes(w);
    scitt_cbor_put_array(w, 3);
    scitt_cbor_put_uint(w, a);
    scitt_cbor_put_uint(w, b);
    scitt_cbor_put_array(w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_bytes(w, scitt_span_make(path[i], SCITT_HASH_LEN));
    }
    scitt_cbor_close_bytes(w);
    scitt_cbor_put_null(w);
    scitt_cbor_put_bytes(w, scitt_span_make(head->signature, head->signature_len));
    return w->err;
}

scitt_err scitt_receipt_encode_inclusion(const scitt_receipt_head *head, uint64_t index,
                                         const uint8_t path[][SCITT_HASH_LEN], size_t n,
                                         scitt_cbor_writer *out)
{
    if (index >= head->tree_size || n != scitt_merkle_inclusion_len(index, head->tree_size)) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    /* RFC 9942 proofs carry [+ bstr]: the one-leaf tree's empty path has no receipt. */
    if (n == 0) {
        return SCITT_ERR_NOT_FOUND;
    }
    return write_receipt(head, SCITT_VDP_INCLUSION, head->tree_size, index, path, n, out);
}

scitt_err scitt_receipt_encode_consistency(const scitt_receipt_head *head, uint64_t old_size,
                                           const uint8_t path[][SCITT_HASH_LEN], size_t n,
                                           scitt_cbor_writer *out)
{
    /* RFC 9942 proofs carry [+ bstr]: there is no consistency receipt for 0 or equal sizes. */
    if (old_size == 0 || old_size >= head->tree_size ||
        n != scitt_merkle_consistency_len(old_size, head->tree_size)) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    return write_receipt(head, SCITT_VDP_CONSISTENCY, old_size, head->tree_size, path, n, out);
}
