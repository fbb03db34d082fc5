/*
 * Test helpers that build CCF ledger receipts (vds 2) from the rules of
 * draft-ietf-scitt-receipts-ccf-profile-04, independently of cose/receipt_ccf.c: the tree hash is
 * the draft's recursive MTH (no prefixes), the path is its recursive PATH with a left/right bit per
 * element, the leaf digest is SHA-256(ith || SHA-256(evidence) || data_hash), and the receipt is
 * signed over ["Signature1", protected, h'', root] like Azure Code Transparency does (kid = ASCII
 * hex of SHA-256(SPKI DER), CWT {1: host, 2: "scitt.ccf.signature.v1", 6: iat}, "ccf.v1": {txid}).
 * Not part of any library.
 */
#ifndef SCITT_CCF_UTIL_H
#define SCITT_CCF_UTIL_H

#include <stdio.h>
#include <string.h>

#include "scitt/cbor.h"
#include "scitt/cose.h"

#define CCF_MAX_LEAVES 64

typedef struct ccf_tree {
    size_t n;
    uint8_t leaf[CCF_MAX_LEAVES][32]; /* leaf digests */
} ccf_tree;

/* The leaf digest of the -04 draft. */
static inline void ccf_leaf_digest(const uint8_t ith[32], const char *evidence,
                                   const uint8_t data_hash[32], uint8_t out[32])
{
    uint8_t eh[32];
    scitt_sha256(evidence, strlen(evidence), eh);
    uint8_t buf[96];
    memcpy(buf, ith, 32);
    memcpy(buf + 32, eh, 32);
    memcpy(buf + 64, data_hash, 32);
    scitt_sha256(buf, sizeof(buf), out);
}

static inline void ccf_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t buf[64];
    memcpy(buf, l, 32);
    memcpy(buf + 32, r, 32);
    scitt_sha256(buf, sizeof(buf), out);
}

static inline size_t ccf_split(size_t n)
{
    size_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    return k; /* the largest power of two smaller than n */
}

/* MTH(D[lo:hi]) by the draft's recursive definition. */
static inline void ccf_mth(const ccf_tree *t, size_t lo, size_t hi, uint8_t out[32])
{
    if (hi - lo == 1) {
        memcpy(out, t->leaf[lo], 32);
        return;
    }
    size_t k = ccf_split(hi - lo);
    uint8_t a[32], b[32];
    ccf_mth(t, lo, lo + k, a);
    ccf_mth(t, lo + k, hi, b);
    ccf_node(a, b, out);
}

/* PATH(m, D[lo:hi]) leaf first; left[i] says the element is the left sibling. Returns its length.
 */
static inline size_t ccf_path(const ccf_tree *t, size_t m, size_t lo, size_t hi, bool *left,
                              uint8_t (*hashes)[32])
{
    if (hi - lo == 1) {
        return 0;
    }
    size_t k = ccf_split(hi - lo), n;
    if (m < k) {
        n = ccf_path(t, m, lo, lo + k, left, hashes);
        ccf_mth(t, lo + k, hi, hashes[n]);
        left[n] = false;
    } else {
        n = ccf_path(t, m - k, lo + k, hi, left, hashes);
        ccf_mth(t, lo, lo + k, hashes[n]);
        left[n] = true;
    }
    return n + 1;
}

/* Writes the inclusion proof bstr contents {1: leaf, 2: path} for leaf @p m. */
static inline scitt_err ccf_proof(const ccf_tree *t, size_t m, const uint8_t ith[32],
                                  const char *evidence, const uint8_t data_hash[32],
                                  scitt_dynbuf *out)
{
    bool left[64];
    uint8_t hashes[64][32];
    size_t n = ccf_path(t, m, 0, t->n, left, hashes);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_array(&w, 3);
    scitt_cbor_put_bytes(&w, scitt_span_make(ith, 32));
    scitt_cbor_put_cstr(&w, evidence);
    scitt_cbor_put_bytes(&w, scitt_span_make(data_hash, 32));
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_array(&w, 2);
        scitt_cbor_put_bool(&w, left[i]);
        scitt_cbor_put_bytes(&w, scitt_span_make(hashes[i], 32));
    }
    return scitt_cbor_writer_finish(&w, NULL);
}

/* The Azure-style kid: ASCII lowercase hex of SHA-256(SubjectPublicKeyInfo DER). */
static inline scitt_err ccf_kid(const scitt_cose_key *k, char hex[65])
{
    scitt_dynbuf der;
    scitt_dynbuf_init(&der, 0);
    scitt_err e = scitt_cose_key_encode_der(k, false, &der);
    uint8_t h[32];
    if (e == SCITT_OK) {
        scitt_sha256(der.ptr, der.len, h);
        e = scitt_hex_encode(scitt_span_make(h, 32), hex, 65);
    }
    scitt_dynbuf_clear(&der);
    return e;
}

/*
 * Appends a tagged CCF receipt: @p proof (bstr contents) at 396/-1, signed with @p key over
 * @p root. @p attach writes the root as payload (which the profile forbids).
 */
static inline scitt_err ccf_receipt_vdp(const scitt_cose_key *key, int64_t label, scitt_span proof,
                                        const uint8_t root[32], bool attach, scitt_dynbuf *out)
{
    char kid[65];
    scitt_err e = ccf_kid(key, kid);
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t vds[1] = {0x02};
    uint8_t ccfv1[64];
    scitt_cbor_writer cw;
    scitt_cbor_writer_init(&cw, ccfv1, sizeof(ccfv1));
    scitt_cbor_put_map(&cw, 1);
    scitt_cbor_put_cstr(&cw, "txid");
    scitt_cbor_put_cstr(&cw, "2.17");
    scitt_span ccfv1_item;
    e = scitt_cbor_writer_finish(&cw, &ccfv1_item);
    scitt_cose_label labels[2] = {{false, 395, {NULL, 0}},
                                  {true, 0, {(const uint8_t *)"ccf.v1", 6}}};
    scitt_span values[2] = {scitt_span_make(vds, 1), ccfv1_item};
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(key);
    spec.kid = scitt_span_make(kid, 64);
    spec.cwt = true;
    spec.cwt_iss = scitt_span_str("ccf.test.example");
    spec.cwt_sub = scitt_span_str("scitt.ccf.signature.v1");
    spec.cwt_has_iat = true;
    spec.cwt_iat = 1767225600;
    spec.extra_labels = labels;
    spec.extra_values = values;
    spec.nextra = 2;
    uint8_t prot[512];
    scitt_cbor_writer pw;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    scitt_span pmap;
    e = e ? e : scitt_cose_headers_encode(&spec, &pw);
    e = e ? e : scitt_cbor_writer_finish(&pw, &pmap);
    uint8_t sig[SCITT_COSE_SIG_MAX];
    size_t sig_len = 0;
    e = e ? e
          : scitt_cose_signature_create(key, spec.alg, pmap, scitt_span_make(NULL, 0),
                                        scitt_span_make(root, 32), sig, sizeof(sig), &sig_len);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_tag(&w, 18);
    scitt_cbor_put_array(&w, 4);
    scitt_cbor_put_bytes(&w, pmap);
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_uint(&w, 396);
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_int(&w, label);
    scitt_cbor_put_array(&w, 1);
    scitt_cbor_put_bytes(&w, proof);
    if (attach) {
        scitt_cbor_put_bytes(&w, scitt_span_make(root, 32));
    } else {
        scitt_cbor_put_null(&w);
    }
    scitt_cbor_put_bytes(&w, scitt_span_make(sig, sig_len));
    return scitt_cbor_writer_finish(&w, NULL);
}

/* An inclusion receipt (396/-1). */
static inline scitt_err ccf_receipt(const scitt_cose_key *key, scitt_span proof,
                                    const uint8_t root[32], bool attach, scitt_dynbuf *out)
{
    return ccf_receipt_vdp(key, -1, proof, root, attach, out);
}

/*
 * A whole CCF log around one entry: @p n leaves with deterministic filler transactions, the
 * entry's data_hash at leaf @p m. Appends the receipt for it to @p out.
 */
static inline scitt_err ccf_receipt_for(const scitt_cose_key *key, scitt_span entry, size_t n,
                                        size_t m, scitt_dynbuf *out)
{
    ccf_tree t;
    memset(&t, 0, sizeof(t));
    t.n = n;
    uint8_t ith[32], dh[32];
    char ev[80];
    for (size_t i = 0; i < n; i++) {
        uint8_t seed[2] = {(uint8_t)i, 0x5a};
        scitt_sha256(seed, 2, ith);
        snprintf(ev, sizeof(ev), "ce:2.%zu:%064zx", i + 10, i);
        if (i == m) {
            scitt_sha256(entry.ptr, entry.len, dh);
        } else {
            seed[1] = 0xa5;
            scitt_sha256(seed, 2, dh);
        }
        ccf_leaf_digest(ith, ev, dh, t.leaf[i]);
    }
    uint8_t seed[2] = {(uint8_t)m, 0x5a};
    scitt_sha256(seed, 2, ith);
    snprintf(ev, sizeof(ev), "ce:2.%zu:%064zx", m + 10, m);
    scitt_sha256(entry.ptr, entry.len, dh);
    scitt_dynbuf proof;
    scitt_dynbuf_init(&proof, 0);
    uint8_t root[32];
    ccf_mth(&t, 0, n, root);
    scitt_err e = ccf_proof(&t, m, ith, ev, dh, &proof);
    e = e ? e : ccf_receipt(key, scitt_span_make(proof.ptr, proof.len), root, false, out);
    scitt_dynbuf_clear(&proof);
    return e;
}

/*
 * draft-ietf-scitt-receipts-ccf-profile-06 section 4, from its definitions: the anchor of a proof
 * from m leaves is the root of the subtree [m - 2^t, m), 2^t the largest power of two dividing m
 * (an aligned complete subtree, so a node of every larger tree); the path is the sibling of each
 * node from the anchor up to the root of D[0:n], leaf-side first, tagged left or right.
 */
static inline size_t ccf_node_path(const ccf_tree *t, size_t a, size_t width, size_t lo, size_t hi,
                                   bool *left, uint8_t (*hashes)[32])
{
    if (lo == a && hi - lo == width) {
        return 0;
    }
    size_t k = ccf_split(hi - lo), n;
    if (a < lo + k) {
        n = ccf_node_path(t, a, width, lo, lo + k, left, hashes);
        ccf_mth(t, lo + k, hi, hashes[n]);
        left[n] = false;
    } else {
        n = ccf_node_path(t, a, width, lo + k, hi, left, hashes);
        ccf_mth(t, lo, lo + k, hashes[n]);
        left[n] = true;
    }
    return n + 1;
}

/* Writes the consistency proof bstr contents {1: anchor, 2: path} from @p m to t->n leaves. */
static inline scitt_err ccf_consistency_proof(const ccf_tree *t, size_t m, scitt_dynbuf *out)
{
    size_t width = m & (~m + 1); /* the largest power of two dividing m */
    uint8_t anchor[32];
    ccf_mth(t, m - width, m, anchor);
    bool left[64];
    uint8_t hashes[64][32];
    size_t n = ccf_node_path(t, m - width, width, 0, t->n, left, hashes);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_bytes(&w, scitt_span_make(anchor, 32));
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_array(&w, 2);
        scitt_cbor_put_bool(&w, left[i]);
        scitt_cbor_put_bytes(&w, scitt_span_make(hashes[i], 32));
    }
    return scitt_cbor_writer_finish(&w, NULL);
}

#endif
