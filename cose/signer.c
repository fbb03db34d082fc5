/*
 * Signers (scitt/signer.h): the in-memory key, and the glue that lets any other holder of a
 * private key (a PKCS#11 token) produce COSE_Sign1 messages and receipt tree heads.
 */
#include "scitt/signer.h"

#include <string.h>

#include "cose_internal.h"

static scitt_err key_sign(void *ctx, int64_t alg, scitt_span tbs, uint8_t *sig, size_t cap,
                          size_t *sig_len)
{
    const scitt__alg *a = scitt__alg_find(alg);
    if (!a || !scitt_cose_key_allows(ctx, alg)) {
        return SCITT_ERR_ALG;
    }
    return scitt__sig_sign(ctx, a, &tbs, 1, sig, cap, sig_len);
}

void scitt_cose_signer_from_key(const scitt_cose_key *key, scitt_cose_signer *out)
{
    out->sign = key_sign;
    out->ctx = (void *)key;
    out->pub = key;
}

bool scitt_cose_signer_is_key(const scitt_cose_signer *s)
{
    return s->sign == key_sign;
}

scitt_err scitt_cose_signer_signature(const scitt_cose_signer *s, int64_t alg,
                                      scitt_span protected_map, scitt_span aad, scitt_span payload,
                                      uint8_t *sig, size_t cap, size_t *sig_len)
{
    if (!s || !s->sign || !s->pub) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (scitt_cose_signer_is_key(s)) {
        /* the key signs the Sig_structure's pieces without gathering them first */
        return scitt_cose_signature_create(s->pub, alg, protected_map, aad, payload, sig, cap,
                                           sig_len);
    }
    if (!scitt__alg_find(alg) || !scitt_cose_key_allows(s->pub, alg)) {
        return SCITT_ERR_ALG;
    }
    scitt__tbs t;
    scitt__tbs_init(&t, protected_map, aad, payload);
    scitt_dynbuf tbs;
    scitt_dynbuf_init(&tbs, 0);
    for (size_t i = 0; i < 6; i++) {
        scitt_dynbuf_put(&tbs, t.parts[i].ptr, t.parts[i].len);
    }
    scitt_err e = tbs.err;
    *sig_len = 0;
    e = e ? e : s->sign(s->ctx, alg, scitt_span_make(tbs.ptr, tbs.len), sig, cap, sig_len);
    scitt_dynbuf_clear(&tbs);
    if (e == SCITT_OK && (*sig_len == 0 || *sig_len > cap)) {
        e = SCITT_ERR_SIGNATURE;
    }
    /* An outside signer is checked before anybody relies on what it made. */
    if (e == SCITT_OK && scitt_cose_signature_verify(s->pub, alg, protected_map, aad, payload,
                                                     scitt_span_make(sig, *sig_len)) != SCITT_OK) {
        e = SCITT_ERR_SIGNATURE;
    }
    return e;
}

scitt_err scitt_cose_signer_sign1(const scitt_cose_signer *s, scitt_span protected_map,
                                  scitt_span unprotected_map, scitt_span payload, scitt_span aad,
                                  unsigned flags, scitt_cbor_writer *out)
{
    /* The headers must decode under the same rules a verifier applies. */
    scitt_cose_headers *h = scitt_malloc(sizeof(*h));
    if (!h) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt__headers_decode(protected_map, unprotected_map, 0, h);
    int64_t alg = h->alg;
    if (e == SCITT_OK && !(h->prot & SCITT_COSE_H_ALG)) {
        e = SCITT_ERR_HEADER;
    }
    scitt_free(h);
    uint8_t sig[SCITT_COSE_SIG_MAX];
    size_t sig_len = 0;
    if (e == SCITT_OK) {
        e = scitt_cose_signer_signature(s, alg, protected_map, aad, payload, sig, sizeof(sig),
                                        &sig_len);
    }
    if (e != SCITT_OK) {
        return e;
    }
    if (!(flags & SCITT_SIGN1_NO_TAG_OUT)) {
        scitt_cbor_put_tag(out, SCITT_COSE_TAG_SIGN1);
    }
    scitt_cbor_put_array(out, 4);
    scitt_cbor_put_bytes(out, protected_map);
    if (unprotected_map.len) {
        scitt_cbor_put_raw(out, unprotected_map);
    } else {
        scitt_cbor_put_map(out, 0);
    }
    if (flags & SCITT_SIGN1_DETACHED) {
        scitt_cbor_put_null(out);
    } else {
        scitt_cbor_put_bytes(out, payload);
    }
    scitt_cbor_put_bytes(out, scitt_span_make(sig, sig_len));
    return out->err;
}
