/*
 * 2023-era SCITT labels (draft-ietf-scitt-architecture-04, scitt-community examples): CWT claims at
 * 13, receipts at -333, vds at -111 and proofs at -222 ({-1: [+ bstr .cbor [size, index, path]]}),
 * with the RFC 9162 tree and the same registered form as today. Used only when `scitt verify` is
 * given --legacy-labels: the RFC 9942 verifier rejects these labels, as it must.
 */
#include "legacy.h"

#include <string.h>

#include "scitt/cbor.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"

static const scitt_cose_param *find(const scitt_cose_sign1 *m, int64_t label,
                                    scitt_cose_bucket bucket)
{
    const scitt_cose_param *p = scitt_cose_headers_find(&m->hdr, label);
    return p && p->bucket == bucket ? p : NULL;
}

scitt_err scitt__legacy_claims(const scitt_cose_sign1 *m, scitt_span *iss, scitt_span *sub)
{
    *iss = *sub = scitt_span_make(NULL, 0);
    const scitt_cose_param *p = find(m, SCITT__LEGACY_HDR_CWT, SCITT_COSE_PROTECTED);
    if (!p) {
        return SCITT_ERR_NOT_FOUND;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, p->value);
    size_t n;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_cbor_item k;
        e = scitt_cbor_next(&r, &k);
        if (e == SCITT_OK && k.type == SCITT_CBOR_UINT && (k.arg == 1 || k.arg == 2)) {
            e = scitt_cbor_read_text(&r, k.arg == 1 ? iss : sub);
        } else if (e == SCITT_OK) {
            e = scitt_cbor_skip(&r, NULL);
        }
    }
    return e == SCITT_OK ? scitt_cbor_reader_finish(&r) : e;
}

scitt_err scitt__legacy_receipts(const scitt_cose_sign1 *m, scitt_span *out, size_t cap, size_t *n)
{
    *n = 0;
    const scitt_cose_param *p = find(m, SCITT__LEGACY_HDR_RECEIPTS, SCITT_COSE_UNPROTECTED);
    if (!p) {
        return SCITT_OK;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, p->value);
    size_t count;
    scitt_err e = scitt_cbor_read_array(&r, &count);
    if (e == SCITT_OK && (count == 0 || count > cap)) {
        return count ? SCITT_ERR_TOO_LARGE : SCITT_ERR_HEADER;
    }
    for (size_t i = 0; i < count && e == SCITT_OK; i++) {
        /* Drafts of that time wrote receipts as bstr, and some as the COSE_Sign1 itself. */
        scitt_cbor_item it;
        e = scitt_cbor_peek(&r, &it);
        if (e == SCITT_OK && it.type == SCITT_CBOR_BYTES) {
            e = scitt_cbor_read_bytes(&r, &out[i]);
        } else if (e == SCITT_OK) {
            e = scitt_cbor_skip(&r, &out[i]);
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK) {
        *n = count;
    }
    return e;
}

/* [size, index, [+ bstr32]] run to its root for @p leaf. */
static scitt_err run_proof(scitt_span proof, const uint8_t leaf[SCITT_HASH_LEN], uint64_t *size,
                           uint64_t *index, uint8_t root[SCITT_HASH_LEN])
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, proof);
    size_t three = 0, n = 0;
    static uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    scitt_err e = scitt_cbor_read_array(&r, &three);
    if (e == SCITT_OK && three != 3) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_uint(&r, size);
    e = e ? e : scitt_cbor_read_uint(&r, index);
    e = e ? e : scitt_cbor_read_array(&r, &n);
    if (e == SCITT_OK && n > SCITT_LIMIT_PROOF_HASHES) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_span h;
        e = scitt_cbor_read_bytes(&r, &h);
        if (e == SCITT_OK && h.len != SCITT_HASH_LEN) {
            return SCITT_ERR_PROOF_MALFORMED;
        }
        if (e == SCITT_OK) {
            memcpy(path[i], h.ptr, SCITT_HASH_LEN);
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_ERR_BAD_TYPE || e == SCITT_ERR_BAD_TAG) {
        return SCITT_ERR_PROOF_MALFORMED;
    }
    return e ? e
             : scitt_merkle_inclusion_root(*index, *size, leaf,
                                           (const uint8_t(*)[SCITT_HASH_LEN])path, n, root);
}

scitt_err scitt__legacy_verify_receipt(scitt_span receipt, scitt_span entry,
                                       const scitt_cose_keyset *keys, scitt__legacy_info *info)
{
    memset(info, 0, sizeof(*info));
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt_cose_sign1_decode(receipt, SCITT_SIGN1_LEGACY, m);
    const scitt_cose_param *vds = e ? NULL : find(m, SCITT__LEGACY_HDR_VDS, SCITT_COSE_PROTECTED);
    const scitt_cose_param *vdp = e ? NULL : find(m, SCITT__LEGACY_HDR_VDP, SCITT_COSE_UNPROTECTED);
    if (e == SCITT_OK && (!vds || !vdp)) {
        e = SCITT_ERR_HEADER;
    }
    scitt_cbor_reader r;
    uint64_t v = 0;
    if (e == SCITT_OK) {
        scitt_cbor_reader_init(&r, vds->value);
        e = scitt_cbor_read_uint(&r, &v) == SCITT_OK && v == 1 ? SCITT_OK : SCITT_ERR_UNSUPPORTED;
    }
    uint8_t leaf[SCITT_HASH_LEN], root[SCITT_HASH_LEN];
    scitt_merkle_leaf_hash(entry, leaf);
    size_t pairs = 0;
    bool found = false;
    if (e == SCITT_OK) {
        scitt_cbor_reader_init(&r, vdp->value);
        e = scitt_cbor_read_map(&r, &pairs);
    }
    for (size_t i = 0; i < pairs && e == SCITT_OK; i++) {
        int64_t key;
        size_t count = 0;
        e = scitt_cbor_read_int(&r, &key);
        if (e == SCITT_OK && key != -1) {
            e = scitt_cbor_skip(&r, NULL); /* consistency proofs are not about this entry */
            continue;
        }
        e = e ? e : scitt_cbor_read_array(&r, &count);
        if (e == SCITT_OK && (count == 0 || count > SCITT_LIMIT_VDP_PROOFS)) {
            e = SCITT_ERR_PROOF_MALFORMED;
        }
        for (size_t k = 0; k < count && e == SCITT_OK; k++) {
            scitt_span proof;
            uint64_t size, index;
            uint8_t this_root[SCITT_HASH_LEN];
            e = scitt_cbor_read_bytes(&r, &proof);
            e = e ? e : run_proof(proof, leaf, &size, &index, this_root);
            if (e == SCITT_OK && found &&
                (size != info->tree_size || memcmp(this_root, root, SCITT_HASH_LEN) != 0)) {
                e = SCITT_ERR_PROOF_MISMATCH;
            }
            if (e == SCITT_OK && !found) {
                info->tree_size = size;
                info->leaf_index = index;
                memcpy(root, this_root, SCITT_HASH_LEN);
                found = true;
            }
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK && !found) {
        e = SCITT_ERR_HEADER;
    }
    if (e == SCITT_OK && !m->detached &&
        (m->payload.len != SCITT_HASH_LEN || memcmp(m->payload.ptr, root, SCITT_HASH_LEN) != 0)) {
        e = SCITT_ERR_PROOF_MISMATCH;
    }
    const scitt_cose_key *key = NULL;
    if (e == SCITT_OK) {
        key = m->hdr.kid.len
                  ? scitt_cose_keyset_find(keys, m->hdr.kid)
                  : (scitt_cose_keyset_count(keys) == 1 ? scitt_cose_keyset_at(keys, 0) : NULL);
        e = key ? SCITT_OK : SCITT_ERR_UNTRUSTED;
    }
    if (e == SCITT_OK) {
        e = scitt_cose_signature_verify(key, m->hdr.alg, m->protected_map, scitt_span_make(NULL, 0),
                                        scitt_span_make(root, SCITT_HASH_LEN), m->signature);
    }
    if (e == SCITT_OK) {
        info->alg = m->hdr.alg;
        info->kid = m->hdr.kid;
        info->iss = m->hdr.cwt.iss;
        info->sub = m->hdr.cwt.sub;
        if (!m->hdr.cwt.has_iss && scitt__legacy_claims(m, &info->iss, &info->sub) != SCITT_OK) {
            info->iss = info->sub = scitt_span_make(NULL, 0);
        }
    }
    scitt_free(m);
    return e;
}
