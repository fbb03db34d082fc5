/*
 * COSE_Sign1 (RFC 9052 §4.2): strict decoding, the Sig_structure, signing and verification, and
 * the SCITT Signed Statement profile check.
 */
#include "scitt/cose.h"

#include <string.h>

#include "cose_internal.h"
#include "scitt/signer.h"

void scitt__tbs_init(scitt__tbs *t, scitt_span protected_map, scitt_span aad, scitt_span payload)
{
    static const uint8_t context[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1'};
    scitt_cbor_writer w;
    memcpy(t->prefix, context, sizeof(context));
    scitt_cbor_writer_init(&w, t->prefix + sizeof(context), sizeof(t->prefix) - sizeof(context));
    scitt_cbor_put_bytes_head(&w, protected_map.len);
    t->parts[0] = scitt_span_make(t->prefix, sizeof(context) + w.len);
    t->parts[1] = protected_map;
    scitt_cbor_writer_init(&w, t->aad_head, sizeof(t->aad_head));
    scitt_cbor_put_bytes_head(&w, aad.len);
    t->parts[2] = scitt_span_make(t->aad_head, w.len);
    t->parts[3] = aad;
    scitt_cbor_writer_init(&w, t->payload_head, sizeof(t->payload_head));
    scitt_cbor_put_bytes_head(&w, payload.len);
    t->parts[4] = scitt_span_make(t->payload_head, w.len);
    t->parts[5] = payload;
}

/* The raw bytes of the item the reader is about to read next, after reading it with @p read. */
static scitt_span item_span(const scitt_cbor_reader *r, size_t start)
{
    return scitt_span_make(r->ptr + start, r->pos - start);
}

scitt_err scitt_cose_sign1_decode(scitt_span in, unsigned flags, scitt_cose_sign1 *out)
{
    memset(out, 0, offsetof(scitt_cose_sign1, hdr));
    out->raw = in;
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, in);
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_peek(&r, &it);
    if (e == SCITT_OK && it.type == SCITT_CBOR_TAG) {
        uint64_t tag;
        e = scitt_cbor_read_tag(&r, &tag);
        if (e == SCITT_OK && tag != SCITT_COSE_TAG_SIGN1) {
            e = SCITT_ERR_BAD_TAG;
        }
        out->tagged = true;
    } else if (e == SCITT_OK && !(flags & SCITT_SIGN1_UNTAGGED)) {
        e = SCITT_ERR_BAD_TAG; /* SCITT objects are #6.18(COSE_Sign1) */
    }
    size_t n = 0;
    if (e == SCITT_OK) {
        e = scitt_cbor_read_array(&r, &n);
        if (e == SCITT_OK && n != 4) {
            e = SCITT_ERR_MALFORMED;
        }
    }
    size_t at = r.pos;
    scitt_span prot = {NULL, 0};
    if (e == SCITT_OK) {
        e = scitt_cbor_read_bytes(&r, &prot);
        out->protected_item = item_span(&r, at);
    }
    if (e == SCITT_OK) {
        /* RFC 9052: an empty protected header may arrive as h'a0'; it is signed as h''. */
        bool empty = prot.len == 0 || (prot.len == 1 && prot.ptr[0] == 0xa0);
        out->protected_map = empty ? scitt_span_make(NULL, 0) : prot;
        e = scitt_cbor_peek(&r, &it);
    }
    if (e == SCITT_OK) {
        bool legacy_undef = (flags & SCITT_SIGN1_LEGACY) && it.type == SCITT_CBOR_UNDEFINED;
        if (it.type != SCITT_CBOR_MAP && !legacy_undef) {
            e = it.type == SCITT_CBOR_TAG ? SCITT_ERR_BAD_TAG : SCITT_ERR_BAD_TYPE;
        } else {
            e = scitt_cbor_skip(&r, &out->unprotected_item);
        }
    }
    if (e == SCITT_OK) {
        at = r.pos;
        e = scitt_cbor_peek(&r, &it);
    }
    if (e == SCITT_OK && it.type == SCITT_CBOR_NULL) {
        out->detached = true;
        e = scitt_cbor_read_null(&r);
    } else if (e == SCITT_OK) {
        e = scitt_cbor_read_bytes(&r, &out->payload);
    }
    out->payload_item = item_span(&r, at);
    if (e == SCITT_OK) {
        at = r.pos;
        e = scitt_cbor_read_bytes(&r, &out->signature);
        out->signature_item = item_span(&r, at);
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    if (e == SCITT_OK) {
        e = scitt__headers_decode(out->protected_map, out->unprotected_item, flags, &out->hdr);
    }
    if (e == SCITT_OK && !(out->hdr.prot & SCITT_COSE_H_ALG)) {
        bool allowed =
            (flags & SCITT_SIGN1_UNPROTECTED_ALG) && (out->hdr.unprot & SCITT_COSE_H_ALG);
        e = allowed ? SCITT_OK : SCITT_ERR_HEADER;
    }
    return e;
}

scitt_err scitt_cose_signature_verify(const scitt_cose_key *key, int64_t alg,
                                      scitt_span protected_map, scitt_span aad, scitt_span payload,
                                      scitt_span sig)
{
    const scitt__alg *a = scitt__alg_find(alg);
    if (!a || !scitt_cose_key_allows(key, alg)) {
        return SCITT_ERR_ALG;
    }
    scitt__tbs t;
    scitt__tbs_init(&t, protected_map, aad, payload);
    return scitt__sig_verify(key, a, t.parts, 6, sig);
}

scitt_err scitt_cose_signature_create(const scitt_cose_key *key, int64_t alg,
                                      scitt_span protected_map, scitt_span aad, scitt_span payload,
                                      uint8_t *sig, size_t cap, size_t *sig_len)
{
    const scitt__alg *a = scitt__alg_find(alg);
    if (!a || !scitt_cose_key_allows(key, alg)) {
        return SCITT_ERR_ALG;
    }
    scitt__tbs t;
    scitt__tbs_init(&t, protected_map, aad, payload);
    return scitt__sig_sign(key, a, t.parts, 6, sig, cap, sig_len);
}

scitt_err scitt_cose_sign1_verify(const scitt_cose_sign1 *m, const scitt_cose_key *key,
                                  scitt_span aad, const scitt_span *detached_payload)
{
    scitt_span payload = m->payload;
    if (m->detached) {
        if (!detached_payload) {
            return SCITT_ERR_PAYLOAD_MISSING;
        }
        payload = *detached_payload;
    } else if (detached_payload) {
        return SCITT_ERR_INVALID_ARG; /* an attached payload is the one that was signed */
    }
    return scitt_cose_signature_verify(key, m->hdr.alg, m->protected_map, aad, payload,
                                       m->signature);
}

scitt_err scitt_cose_sign1_sign(const scitt_cose_key *key, scitt_span protected_map,
                                scitt_span unprotected_map, scitt_span payload, scitt_span aad,
                                unsigned flags, scitt_cbor_writer *out)
{
    scitt_cose_signer s;
    scitt_cose_signer_from_key(key, &s);
    return scitt_cose_signer_sign1(&s, protected_map, unprotected_map, payload, aad, flags, out);
}

/* RFC 3986 URI: a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )) followed by ':'. */
static bool looks_like_uri(scitt_span s)
{
    size_t i = 0;
    while (i < s.len && s.ptr[i] != ':') {
        uint8_t c = s.ptr[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool ok = alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
        if (!ok) {
            return false;
        }
        i++;
    }
    if (i == 0 || i == s.len) {
        return false;
    }
    for (size_t j = 0; j < s.len; j++) {
        if (s.ptr[j] <= 0x20 || s.ptr[j] == 0x7f) {
            return false; /* no spaces or controls in a URI */
        }
    }
    return true;
}

static size_t utf8_chars(scitt_span s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        n += (s.ptr[i] & 0xc0) != 0x80;
    }
    return n;
}

scitt_err scitt_cose_check_statement_why(const scitt_cose_sign1 *m, const char **why)
{
    const scitt_cose_headers *h = &m->hdr;
    const char *w = NULL;
    scitt_err e = SCITT_ERR_HEADER;
    if (!m->tagged) {
        w = "the COSE_Sign1 is not tagged (18)";
        e = SCITT_ERR_BAD_TAG;
    } else if (!(h->prot & SCITT_COSE_H_ALG)) {
        w = "alg (1) is not in the protected header";
    } else if (!(h->prot & SCITT_COSE_H_CWT) || !h->cwt.has_iss || !h->cwt.has_sub) {
        w = "the protected header has no CWT claims (15) with iss and sub";
    } else if (h->cwt.iss.len == 0) {
        w = "iss is empty";
    } else if (utf8_chars(h->cwt.iss) > SCITT_LIMIT_ISS_CHARS) {
        /* RFC 9943's bound on iss holds whatever binds the key: a kid-signed statement too. */
        w = "iss is longer than 8192 characters";
    } else if ((h->prot & (SCITT_COSE_H_X5T | SCITT_COSE_H_X5CHAIN)) &&
               !looks_like_uri(h->cwt.iss)) {
        w = "iss is not a URI (required with a protected x5t or x5chain)";
    } else if (!(h->prot & (SCITT_COSE_H_X5T | SCITT_COSE_H_X5CHAIN | SCITT_COSE_H_KID))) {
        /* Without a protected certificate binding the key must be named, and protected. */
        w = "the protected header names no key (kid, x5t or x5chain)";
    } else {
        e = SCITT_OK;
    }
    if (why) {
        *why = w;
    }
    return e;
}

scitt_err scitt_cose_check_statement(const scitt_cose_sign1 *m)
{
    return scitt_cose_check_statement_why(m, NULL);
}

scitt_err scitt_cose_check_x5t(const scitt_cose_sign1 *m)
{
    const scitt_cose_headers *h = &m->hdr;
    if (!(h->prot & SCITT_COSE_H_X5T)) {
        return SCITT_OK;
    }
    if (!(h->prot & SCITT_COSE_H_X5CHAIN) || h->nx5chain == 0) {
        return SCITT_ERR_HEADER;
    }
    uint8_t d[SCITT_SHA512_LEN];
    size_t n;
    scitt_span leaf = h->x5chain[0];
    switch (h->x5t_alg) {
    case SCITT_COSE_ALG_SHA256:
        scitt_sha256(leaf.ptr, leaf.len, d);
        n = SCITT_SHA256_LEN;
        break;
    case SCITT_COSE_ALG_SHA384:
        scitt_sha384(leaf.ptr, leaf.len, d);
        n = SCITT_SHA384_LEN;
        break;
    case SCITT_COSE_ALG_SHA512:
        scitt_sha512(leaf.ptr, leaf.len, d);
        n = SCITT_SHA512_LEN;
        break;
    default:
        return SCITT_ERR_ALG;
    }
    return scitt_span_eq(h->x5t_hash, scitt_span_make(d, n)) ? SCITT_OK : SCITT_ERR_KEY_MISMATCH;
}
