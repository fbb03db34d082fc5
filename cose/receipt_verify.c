/*
 * Verifying RFC 9942 receipts and RFC 9943 transparent statements.
 *
 * Order (RFC 9942): decode, check the headers, run every proof to its root, and only then verify
 * the signature over ["Signature1", protected, h'', root]. An attached payload is compared with
 * the computed root and never used in its place. The verifiable data structure is chosen through
 * a table keyed by vds, so another one (CCF, vds 2) is one more row with its own proof functions.
 */
#include "scitt/receipt.h"

#include <string.h>

#include "cose_internal.h"

/* What a proof is applied to: the entry's bytes in pieces, or only its RFC 9162 leaf hash. */
typedef struct {
    const scitt_span *parts; /* NULL when only the leaf is known */
    size_t nparts;
    uint8_t leaf[SCITT_HASH_LEN];
    /* consistency */
    uint64_t old_size;
    const uint8_t *old_root;
} proof_input;

typedef scitt_err (*proof_fn)(const proof_input *in, scitt_span proof, uint8_t root[SCITT_HASH_LEN],
                              scitt_receipt_info *info);

typedef struct {
    int64_t vds;
    proof_fn inclusion;
    proof_fn consistency; /* NULL: the structure has no consistency proofs we verify */
    bool detached_only;   /* the profile requires a nil payload */
} vds_row;

/* Reads [a, b, [+ bstr32]] filling path; PROOF_MALFORMED for any other shape. */
static scitt_err read_proof(scitt_span proof, uint64_t *a, uint64_t *b,
                            uint8_t path[][SCITT_HASH_LEN], size_t *n)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, proof);
    size_t len = 0, count = 0;
    scitt_err e = scitt_cbor_read_array(&r, &len);
    if (e == SCITT_OK && len != 3) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_read_uint(&r, a);
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_read_uint(&r, b);
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_read_array(&r, &count);
    }
    if (e == SCITT_OK && count > SCITT_LIMIT_PROOF_HASHES) {
        e = SCITT_ERR_PROOF_MALFORMED;
    }
    for (size_t i = 0; i < count && e == SCITT_OK; i++) {
        scitt_span h;
        e = scitt_cbor_read_bytes(&r, &h);
        if (e == SCITT_OK && h.len != SCITT_HASH_LEN) {
            e = SCITT_ERR_PROOF_MALFORMED; /* RFC 9162 hashes are exactly 32 bytes */
        }
        if (e == SCITT_OK) {
            memcpy(path[i], h.ptr, SCITT_HASH_LEN);
        }
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    *n = count;
    return (e == SCITT_ERR_BAD_TYPE || e == SCITT_ERR_BAD_TAG) ? SCITT_ERR_PROOF_MALFORMED : e;
}

static scitt_err rfc9162_inclusion(const proof_input *in, scitt_span proof,
                                   uint8_t root[SCITT_HASH_LEN], scitt_receipt_info *info)
{
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    size_t n;
    scitt_err e = read_proof(proof, &info->tree_size, &info->leaf_index, path, &n);
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t leaf[SCITT_HASH_LEN];
    if (in->parts) {
        static const uint8_t prefix[1] = {0x00};
        scitt_span p[8];
        p[0] = scitt_span_make(prefix, 1);
        memcpy(p + 1, in->parts, in->nparts * sizeof(scitt_span));
        scitt_sha256_v(p, in->nparts + 1, leaf);
    } else {
        memcpy(leaf, in->leaf, SCITT_HASH_LEN);
    }
    return scitt_merkle_inclusion_root(info->leaf_index, info->tree_size, leaf,
                                       (const uint8_t(*)[SCITT_HASH_LEN])path, n, root);
}

static scitt_err rfc9162_consistency(const proof_input *in, scitt_span proof,
                                     uint8_t root[SCITT_HASH_LEN], scitt_receipt_info *info)
{
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    size_t n;
    scitt_err e = read_proof(proof, &info->old_size, &info->tree_size, path, &n);
    if (e != SCITT_OK) {
        return e;
    }
    if (info->old_size != in->old_size) {
        return SCITT_ERR_PROOF_MISMATCH; /* it proves from a tree head we were not asked about */
    }
    if (n == 0) {
        return SCITT_ERR_PROOF_MALFORMED; /* [+ bstr] */
    }
    return scitt_merkle_consistency_root(info->old_size, info->tree_size, in->old_root,
                                         (const uint8_t(*)[SCITT_HASH_LEN])path, n, root);
}

/* CCF hashes the entry itself (no 0x00 prefix) into its leaf, so a leaf hash alone is useless. */
static scitt_err ccf_inclusion(const proof_input *in, scitt_span proof,
                               uint8_t root[SCITT_HASH_LEN], scitt_receipt_info *info)
{
    (void)info; /* the proof names neither index nor size: both stay 0 */
    if (!in->parts) {
        return SCITT_ERR_UNSUPPORTED;
    }
    return scitt__ccf_inclusion_root(in->parts, in->nparts, proof, root, NULL);
}

/* draft -06 section 4.2: the proof must recompute the trusted older root; the newer root is what
 * the signature covers. Stricter than the draft's loop, which takes the first proof that matches:
 * here every proof of the receipt must match and lead to the same newer root (section 5). */
static scitt_err ccf_consistency(const proof_input *in, scitt_span proof,
                                 uint8_t root[SCITT_HASH_LEN], scitt_receipt_info *info)
{
    uint8_t older[SCITT_HASH_LEN];
    scitt_err e = scitt__ccf_consistency_roots(proof, in->old_size, older, root);
    if (e == SCITT_OK && memcmp(older, in->old_root, SCITT_HASH_LEN) != 0) {
        e = SCITT_ERR_PROOF_MISMATCH; /* proves nothing about the state the caller trusts */
    }
    info->old_size = in->old_size; /* the proof names no size: the caller's, tree_size stays 0 */
    return e;
}

static const vds_row vds_table[] = {
    {SCITT_VDS_RFC9162_SHA256, rfc9162_inclusion, rfc9162_consistency, false},
    /* draft-ietf-scitt-receipts-ccf-profile-04 inclusion, -06 consistency */
    {SCITT_VDS_CCF_LEDGER_SHA256, ccf_inclusion, ccf_consistency, true},
};

static const vds_row *find_vds(int64_t vds)
{
    for (size_t i = 0; i < sizeof(vds_table) / sizeof(vds_table[0]); i++) {
        if (vds_table[i].vds == vds) {
            return &vds_table[i];
        }
    }
    return NULL;
}

/* The bstr proofs under key @p want of the vdp map; only registered proof types may appear. */
static scitt_err read_vdp(scitt_span vdp, int64_t want, scitt_span *proofs, size_t *n)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, vdp);
    size_t pairs;
    bool found = false;
    *n = 0;
    scitt_err e = scitt_cbor_read_map(&r, &pairs);
    for (size_t i = 0; i < pairs && e == SCITT_OK; i++) {
        int64_t key;
        e = scitt_cbor_read_int(&r, &key);
        if (e != SCITT_OK) {
            break;
        }
        if (key != SCITT_VDP_INCLUSION && key != SCITT_VDP_CONSISTENCY) {
            return SCITT_ERR_UNSUPPORTED; /* RFC 9942: reject unregistered proof types */
        }
        if (key != want) {
            e = scitt_cbor_skip(&r, NULL);
            continue;
        }
        size_t count;
        e = scitt_cbor_read_array(&r, &count);
        if (e == SCITT_OK && (count == 0 || count > SCITT_LIMIT_VDP_PROOFS)) {
            e = count ? SCITT_ERR_TOO_LARGE : SCITT_ERR_PROOF_MALFORMED;
        }
        for (size_t k = 0; k < count && e == SCITT_OK; k++) {
            e = scitt_cbor_read_bytes(&r, &proofs[k]);
        }
        *n = count;
        found = true;
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    if (e == SCITT_OK && !found) {
        e = SCITT_ERR_HEADER;
    }
    return (e == SCITT_ERR_BAD_TYPE || e == SCITT_ERR_BAD_TAG) ? SCITT_ERR_HEADER : e;
}

scitt_err scitt__receipt_signed_size(const scitt_cose_headers *h, bool *present, uint64_t *size)
{
    const scitt_cose_param *p[2] = {
        scitt_cose_headers_find(h, SCITT_RECEIPT_HDR_TREE_SIZE),
        scitt_cose_headers_find_text(h, SCITT_RECEIPT_LABEL_TREE_SIZE),
    };
    *present = false;
    for (size_t i = 0; i < 2; i++) {
        if (!p[i]) {
            continue;
        }
        if (p[i]->bucket != SCITT_COSE_PROTECTED) {
            return SCITT_ERR_HEADER; /* an unsigned size means nothing */
        }
        scitt_cbor_reader r;
        uint64_t v;
        scitt_cbor_reader_init(&r, p[i]->value);
        if (scitt_cbor_read_uint(&r, &v) != SCITT_OK || (*present && v != *size)) {
            return SCITT_ERR_HEADER;
        }
        *present = true;
        *size = v;
    }
    return SCITT_OK;
}

static const scitt_cose_key *pick_key(const scitt_cose_keyset *keys, const scitt_cose_headers *h)
{
    if (h->prot & SCITT_COSE_H_KID || h->unprot & SCITT_COSE_H_KID) {
        return scitt_cose_keyset_find(keys, h->kid);
    }
    /* No kid: only an unambiguous single trusted key may be used. */
    return scitt_cose_keyset_count(keys) == 1 ? scitt_cose_keyset_at(keys, 0) : NULL;
}

/* Verifies one receipt; @p consistency selects the proof type. */
static scitt_err verify_receipt(scitt_span receipt, const proof_input *in, bool consistency,
                                const scitt_cose_keyset *keys, unsigned flags,
                                scitt_receipt_info *out)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        return SCITT_ERR_NOMEM;
    }
    scitt_receipt_info info;
    memset(&info, 0, sizeof(info));
    scitt_err e = scitt_cose_sign1_decode(receipt, 0, m); /* receipts MUST be tagged */
    const scitt_cose_headers *h = &m->hdr;
    if (e == SCITT_OK && (!(h->prot & SCITT_COSE_H_VDS) || !(h->unprot & SCITT_COSE_H_VDP))) {
        e = SCITT_ERR_HEADER; /* vds is signed, the proofs are not */
    }
    if (e == SCITT_OK && (flags & SCITT_RECEIPT_REQUIRE_SUB) &&
        (!(h->prot & SCITT_COSE_H_CWT) || !h->cwt.has_iss || !h->cwt.has_sub)) {
        e = SCITT_ERR_HEADER;
    }
    const vds_row *row = e == SCITT_OK ? find_vds(h->vds) : NULL;
    if (e == SCITT_OK && !row) {
        e = SCITT_ERR_UNSUPPORTED; /* RFC 9942: unknown vds values are rejected */
    }
    if (e == SCITT_OK && consistency && !row->consistency) {
        e = SCITT_ERR_UNSUPPORTED;
    }
    if (e == SCITT_OK && row->detached_only && !m->detached) {
        e = SCITT_ERR_PROOF_MALFORMED; /* CCF: the root MUST be detached, so it is recomputed */
    }
    scitt_span proofs[SCITT_LIMIT_VDP_PROOFS];
    size_t nproofs = 0;
    if (e == SCITT_OK) {
        e = read_vdp(h->vdp, consistency ? SCITT_VDP_CONSISTENCY : SCITT_VDP_INCLUSION, proofs,
                     &nproofs);
    }
    /* Proofs first: every one must lead to the same root of the same tree. */
    for (size_t i = 0; i < nproofs && e == SCITT_OK; i++) {
        scitt_receipt_info pi;
        uint8_t root[SCITT_HASH_LEN];
        memset(&pi, 0, sizeof(pi));
        e = (consistency ? row->consistency : row->inclusion)(in, proofs[i], root, &pi);
        if (e == SCITT_OK && i == 0) {
            info = pi;
            memcpy(info.root, root, SCITT_HASH_LEN);
        } else if (e == SCITT_OK &&
                   (pi.tree_size != info.tree_size || memcmp(root, info.root, SCITT_HASH_LEN))) {
            e = SCITT_ERR_PROOF_MISMATCH;
        }
    }
    /* The signed tree size, when present, must be the size the proof is for. */
    bool has_size = false;
    uint64_t signed_size = 0;
    e = e ? e : scitt__receipt_signed_size(h, &has_size, &signed_size);
    if (e == SCITT_OK && has_size) {
        if (signed_size != info.tree_size) {
            e = SCITT_ERR_PROOF_MISMATCH;
        }
        info.size_signed = e == SCITT_OK;
    } else if (e == SCITT_OK && (flags & SCITT_RECEIPT_REQUIRE_SIZE)) {
        e = SCITT_ERR_HEADER;
    }
    /* An attached root is compared, never trusted. */
    if (e == SCITT_OK && !m->detached &&
        (m->payload.len != SCITT_HASH_LEN || memcmp(m->payload.ptr, info.root, SCITT_HASH_LEN))) {
        e = SCITT_ERR_PROOF_MISMATCH;
    }
    const scitt_cose_key *key = e == SCITT_OK ? pick_key(keys, h) : NULL;
    if (e == SCITT_OK && !key) {
        e = SCITT_ERR_UNTRUSTED;
    }
    if (e == SCITT_OK) {
        /* receipts from one signed tree head share its signature: remembered when asked to */
        const scitt_span signed_parts[3] = {m->protected_map, scitt_span_make(NULL, 0),
                                            scitt_span_make(info.root, SCITT_HASH_LEN)};
        uint8_t d[SCITT_SHA256_LEN];
        bool memo = scitt__keyset_memo_digest(keys, key, h->alg, signed_parts, 3, m->signature, d);
        if (!memo || !scitt__keyset_memo_has(keys, d)) {
            e = scitt_cose_signature_verify(key, h->alg, signed_parts[0], signed_parts[1],
                                            signed_parts[2], m->signature);
            if (e == SCITT_OK && memo) {
                scitt__keyset_memo_add(keys, d);
            }
        }
    }
    if (e == SCITT_OK && out) {
        info.vds = h->vds;
        info.alg = h->alg;
        info.kid = h->kid;
        info.iss = h->cwt.iss;
        info.sub = h->cwt.sub;
        info.has_iat = h->cwt.has_iat;
        info.iat = h->cwt.iat;
        *out = info;
    }
    scitt_free(m);
    return e;
}

scitt_err scitt_receipt_verify_inclusion(scitt_span receipt, scitt_span entry,
                                         const scitt_cose_keyset *keys, unsigned flags,
                                         scitt_receipt_info *info)
{
    proof_input in;
    memset(&in, 0, sizeof(in));
    in.parts = &entry;
    in.nparts = 1;
    return verify_receipt(receipt, &in, false, keys, flags, info);
}

scitt_err scitt_receipt_verify_inclusion_leaf(scitt_span receipt,
                                              const uint8_t leaf[SCITT_HASH_LEN],
                                              const scitt_cose_keyset *keys, unsigned flags,
                                              scitt_receipt_info *info)
{
    proof_input in;
    memset(&in, 0, sizeof(in));
    memcpy(in.leaf, leaf, SCITT_HASH_LEN);
    return verify_receipt(receipt, &in, false, keys, flags, info);
}

scitt_err scitt_receipt_verify_consistency(scitt_span receipt, uint64_t old_size,
                                           const uint8_t old_root[SCITT_HASH_LEN],
                                           const scitt_cose_keyset *keys, unsigned flags,
                                           scitt_receipt_info *info)
{
    proof_input in;
    memset(&in, 0, sizeof(in));
    in.old_size = old_size;
    in.old_root = old_root;
    return verify_receipt(receipt, &in, true, keys, flags, info);
}

/* ------------------------------------------------------------------------------------------ */
/* Transparent statements                                                                      */

scitt_err scitt_receipt_verify_transparent_msg(const scitt_cose_sign1 *m,
                                               const scitt_cose_keyset *service_keys,
                                               unsigned flags, scitt_ts_result *res)
{
    if (res) {
        memset(res, 0, sizeof(*res));
    }
    if (!(m->hdr.unprot & SCITT_COSE_H_RECEIPTS)) {
        return SCITT_ERR_HEADER; /* a transparent statement carries at least one receipt */
    }
    /* The registered form: the statement with its unprotected header replaced by {}. */
    static const uint8_t head[2] = {0xd2, 0x84}, empty[1] = {0xa0};
    scitt_span parts[5] = {scitt_span_make(head, 2), m->protected_item, scitt_span_make(empty, 1),
                           m->payload_item, m->signature_item};
    proof_input in;
    memset(&in, 0, sizeof(in));
    in.parts = parts;
    in.nparts = 5;
    scitt_err first = SCITT_OK;
    size_t good = 0;
    for (size_t i = 0; i < m->hdr.nreceipts; i++) {
        scitt_receipt_info info;
        scitt_err r = verify_receipt(m->hdr.receipts[i], &in, false, service_keys,
                                     flags & ~(unsigned)SCITT_TS_ANY, &info);
        if (r == SCITT_OK) {
            good++;
        } else if (first == SCITT_OK) {
            first = r;
        }
        if (res) {
            res->err[i] = r;
            if (r == SCITT_OK) {
                res->info[i] = info;
            }
        }
    }
    if (res) {
        res->nreceipts = m->hdr.nreceipts;
        res->nverified = good;
    }
    bool ok = (flags & SCITT_TS_ANY) ? good > 0 : good == m->hdr.nreceipts;
    return ok ? SCITT_OK : first;
}

scitt_err scitt_receipt_verify_transparent(scitt_span ts, const scitt_cose_keyset *service_keys,
                                           unsigned flags, scitt_ts_result *res)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt_cose_sign1_decode(ts, 0, m);
    if (e == SCITT_OK) {
        e = scitt_receipt_verify_transparent_msg(m, service_keys, flags, res);
    } else if (res) {
        memset(res, 0, sizeof(*res));
    }
    scitt_free(m);
    return e;
}

scitt_err scitt_receipt_extract(scitt_span ts, scitt_span out[SCITT_LIMIT_RECEIPTS], size_t *n)
{
    *n = 0;
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt_cose_sign1_decode(ts, 0, m);
    if (e == SCITT_OK) {
        for (size_t i = 0; i < m->hdr.nreceipts; i++) {
            out[i] = m->hdr.receipts[i];
        }
        *n = m->hdr.nreceipts;
    }
    scitt_free(m);
    return e;
}

/* Encoded form of a header label, for ordering the rewritten unprotected map. */
static scitt_err label_bytes(const scitt_cose_label *l, scitt_dynbuf *b, size_t *start, size_t *len)
{
    scitt_cbor_writer w;
    *start = b->len;
    scitt_cbor_writer_init_dynbuf(&w, b);
    if (l->is_text) {
        scitt_cbor_put_text(&w, l->text);
    } else {
        scitt_cbor_put_int(&w, l->num);
    }
    *len = b->len - *start;
    return w.err;
}

scitt_err scitt_receipt_embed(scitt_span statement, const scitt_span *receipts, size_t n,
                              scitt_cbor_writer *out)
{
    if (n == 0 || n > SCITT_LIMIT_RECEIPTS) {
        return n ? SCITT_ERR_TOO_LARGE : SCITT_ERR_INVALID_ARG;
    }
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt_cose_sign1_decode(statement, 0, m);
    /* Each receipt must itself be a well-formed tagged COSE_Sign1. */
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_cose_sign1 *r = scitt_malloc(sizeof(*r));
        e = r ? scitt_cose_sign1_decode(receipts[i], 0, r) : SCITT_ERR_NOMEM;
        scitt_free(r);
    }
    /* Keep the other unprotected parameters; write all keys in deterministic order. */
    typedef struct {
        size_t key_at, key_len;
        scitt_span value;
    } ent;
    ent ents[SCITT_LIMIT_HEADER_LABELS + 1];
    size_t nents = 0;
    scitt_dynbuf keys;
    scitt_dynbuf_init(&keys, 0);
    for (size_t i = 0; i < m->hdr.nparams && e == SCITT_OK; i++) {
        const scitt_cose_param *p = &m->hdr.params[i];
        if (p->bucket != SCITT_COSE_UNPROTECTED ||
            (!p->label.is_text && p->label.num == SCITT_COSE_HDR_RECEIPTS)) {
            continue;
        }
        e = label_bytes(&p->label, &keys, &ents[nents].key_at, &ents[nents].key_len);
        ents[nents++].value = p->value;
    }
    scitt_cose_label rl = {false, SCITT_COSE_HDR_RECEIPTS, {NULL, 0}};
    if (e == SCITT_OK) {
        e = label_bytes(&rl, &keys, &ents[nents].key_at, &ents[nents].key_len);
        ents[nents++].value = scitt_span_make(NULL, 0); /* written below */
    }
    for (size_t i = 1; i < nents && e == SCITT_OK; i++) {
        ent t = ents[i];
        size_t j = i;
        while (j > 0) {
            const ent *p = &ents[j - 1];
            size_t l = p->key_len < t.key_len ? p->key_len : t.key_len;
            int c = memcmp(keys.ptr + p->key_at, keys.ptr + t.key_at, l);
            if (c < 0 || (c == 0 && p->key_len <= t.key_len)) {
                break;
            }
            ents[j] = ents[j - 1];
            j--;
        }
        ents[j] = t;
    }
    if (e == SCITT_OK) {
        scitt_cbor_put_tag(out, SCITT_COSE_TAG_SIGN1);
        scitt_cbor_put_array(out, 4);
        scitt_cbor_put_raw(out, m->protected_item);
        scitt_cbor_put_map(out, nents);
        for (size_t i = 0; i < nents; i++) {
            scitt_cbor_put_raw(out, scitt_span_make(keys.ptr + ents[i].key_at, ents[i].key_len));
            if (ents[i].value.ptr) {
                scitt_cbor_put_raw(out, ents[i].value);
                continue;
            }
            scitt_cbor_put_array(out, n);
            for (size_t k = 0; k < n; k++) {
                scitt_cbor_put_bytes(out, receipts[k]);
            }
        }
        scitt_cbor_put_raw(out, m->payload_item);
        scitt_cbor_put_raw(out, m->signature_item);
        e = out->err;
    }
    scitt_dynbuf_clear(&keys);
    scitt_free(m);
    return e;
}
