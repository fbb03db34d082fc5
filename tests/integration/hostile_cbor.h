/*
 * Hand-made COSE_Sign1 bytes for the hostile-input tests: a tiny CBOR writer that can also write
 * what a correct encoder never would (non-shortest heads, indefinite lengths, duplicate labels),
 * and signing over arbitrary protected-header bytes with the issuer's real key, so that each
 * malformed statement is refused for the one thing it gets wrong and not for a bad signature.
 */
#ifndef SCITT_HOSTILE_CBOR_H
#define SCITT_HOSTILE_CBOR_H

#include <openssl/ec.h>

#include "scittd_util.h"

/* A CBOR head in shortest form. */
static inline void hc_head(scitt_dynbuf *b, unsigned major, uint64_t v)
{
    uint8_t m = (uint8_t)(major << 5);
    if (v < 24) {
        scitt_dynbuf_u8(b, (uint8_t)(m | v));
    } else if (v <= 0xff) {
        scitt_dynbuf_u8(b, m | 24);
        scitt_dynbuf_u8(b, (uint8_t)v);
    } else if (v <= 0xffff) {
        scitt_dynbuf_u8(b, m | 25);
        scitt_dynbuf_u8(b, (uint8_t)(v >> 8));
        scitt_dynbuf_u8(b, (uint8_t)v);
    } else if (v <= 0xffffffffu) {
        scitt_dynbuf_u8(b, m | 26);
        for (int s = 24; s >= 0; s -= 8) {
            scitt_dynbuf_u8(b, (uint8_t)(v >> s));
        }
    } else {
        scitt_dynbuf_u8(b, m | 27);
        for (int s = 56; s >= 0; s -= 8) {
            scitt_dynbuf_u8(b, (uint8_t)(v >> s));
        }
    }
}

static inline void hc_int(scitt_dynbuf *b, int64_t v)
{
    if (v >= 0) {
        hc_head(b, 0, (uint64_t)v);
    } else {
        hc_head(b, 1, (uint64_t)(-(v + 1)));
    }
}

static inline void hc_bstr(scitt_dynbuf *b, scitt_span s)
{
    hc_head(b, 2, s.len);
    scitt_dynbuf_put(b, s.ptr, s.len);
}

static inline void hc_text(scitt_dynbuf *b, const char *s)
{
    hc_head(b, 3, strlen(s));
    scitt_dynbuf_str(b, s);
}

static inline void hc_raw(scitt_dynbuf *b, const char *hex)
{
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        scitt_dynbuf_u8(b, (uint8_t)v);
    }
}

/* The parameters every well-formed row starts from, each one label and value. */
static inline void hc_alg(scitt_dynbuf *b)
{
    hc_raw(b, "0126"); /* 1: -7 (ES256) */
}

static inline void hc_ctype(scitt_dynbuf *b)
{
    hc_int(b, 3);
    hc_text(b, "application/json");
}

static inline void hc_kid(scitt_dynbuf *b, const sd_issuer *is)
{
    hc_int(b, 4);
    hc_bstr(b, scitt_cose_key_kid(is->key));
}

static inline void hc_cwt(scitt_dynbuf *b, const char *iss, const char *sub)
{
    hc_int(b, 15);
    hc_head(b, 5, (uint64_t)(iss != NULL) + (uint64_t)(sub != NULL));
    if (iss) {
        hc_int(b, 1);
        hc_text(b, iss);
    }
    if (sub) {
        hc_int(b, 2);
        hc_text(b, sub);
    }
}

/* How the signature of a row is written. */
enum { SIG_RAW, SIG_DER, SIG_SHORT, SIG_ZERO, SIG_EMPTY, SIG_TEXT };

/*
 * ES256 over Sig_structure ["Signature1", protected, h'', payload] with @p is's key, written as
 * @p mode says. @p payload NULL signs an empty payload and writes nil (detached).
 */
static inline void hc_signature(const sd_issuer *is, scitt_span prot, const scitt_span *payload,
                                int mode, scitt_dynbuf *out)
{
    scitt_dynbuf tbs;
    scitt_dynbuf_init(&tbs, 0);
    hc_head(&tbs, 4, 4);
    hc_text(&tbs, "Signature1");
    hc_bstr(&tbs, prot);
    hc_bstr(&tbs, scitt_span_make(NULL, 0));
    hc_bstr(&tbs, payload ? *payload : scitt_span_make(NULL, 0));
    EVP_PKEY *pk = su_evp(is->key);
    assert_non_null(pk);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[128];
    size_t dlen = sizeof(der);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk), 1);
    assert_int_equal(EVP_DigestSign(md, der, &dlen, tbs.ptr, tbs.len), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    scitt_dynbuf_clear(&tbs);
    uint8_t raw[64] = {0};
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    assert_non_null(sig);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32), 32);
    ECDSA_SIG_free(sig);
    static const uint8_t zero[64];
    switch (mode) {
    case SIG_RAW:
        hc_bstr(out, scitt_span_make(raw, 64));
        break;
    case SIG_DER:
        hc_bstr(out, scitt_span_make(der, dlen));
        break;
    case SIG_SHORT:
        hc_bstr(out, scitt_span_make(raw, 63));
        break;
    case SIG_ZERO:
        hc_bstr(out, scitt_span_make(zero, 64));
        break;
    case SIG_EMPTY:
        hc_bstr(out, scitt_span_make(NULL, 0));
        break;
    default:
        hc_head(out, 3, 64);
        for (int i = 0; i < 64; i++) {
            scitt_dynbuf_u8(out, 'A');
        }
        break;
    }
}

/*
 * A whole statement: @p prefix (hex: the tag and array head, "d284" normally), the protected
 * bytes as a bstr, @p unprot (hex of the unprotected map), the payload and a signature.
 */
static inline void hc_sign1(const sd_issuer *is, const char *prefix, scitt_span prot,
                            const char *unprot, const char *payload, int sig, scitt_dynbuf *out)
{
    scitt_dynbuf_init(out, 0);
    hc_raw(out, prefix);
    hc_bstr(out, prot);
    hc_raw(out, unprot);
    scitt_span pl = scitt_span_str(payload ? payload : "");
    if (payload) {
        hc_bstr(out, pl);
    } else {
        scitt_dynbuf_u8(out, 0xf6);
    }
    hc_signature(is, prot, payload ? &pl : NULL, sig, out);
}

/* The CWT claims {1: iss, 2: "pkg:hostile"} in hex, with @p iss written by the caller. */
static inline void cwt_hex(char *out, size_t cap, const char *iss_item_hex)
{
    snprintf(out, cap, "0fa201%s026b706b673a686f7374696c65", iss_item_hex);
}

static inline void text_hex(char *out, size_t cap, const char *s)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    hc_text(&b, s);
    assert_true(2 * b.len < cap);
    for (size_t i = 0; i < b.len; i++) {
        snprintf(out + 2 * i, 3, "%02x", b.ptr[i]);
    }
    scitt_dynbuf_clear(&b);
}

#endif /* SCITT_HOSTILE_CBOR_H */
