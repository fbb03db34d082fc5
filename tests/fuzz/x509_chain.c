/*
 * Fuzz target: certificate chains from untrusted bytes. The first input byte picks the form:
 * even, the rest is a PEM bundle; odd, the rest is a sequence of DER certificates, each preceded
 * by a 2-byte big-endian length. The certificates are validated against the fixed root, run
 * through every helper (the signing-purpose check of x509_roots rules too), and resolved as a
 * did:x509 chain.
 */
#include <string.h>

#include "scitt/limits.h"
#include "scitt/x509.h"
#include "x509_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scitt_x509_roots *roots;

static void helpers(scitt_span cert)
{
    bool ok = scitt_x509_check_der(cert) == SCITT_OK;
    scitt_span spki;
    scitt_err e = scitt_x509_spki(cert, &spki);
    /* A certificate OpenSSL accepts always has a findable SPKI inside it, and vice versa. */
    if (ok != (e == SCITT_OK) ||
        (ok && (spki.ptr < cert.ptr || spki.ptr + spki.len > cert.ptr + cert.len))) {
        __builtin_trap();
    }
    /* The purpose check (x509_roots rules) parses extensions of untrusted leaves. */
    const char *why = NULL;
    scitt_err pe = scitt_x509_check_signing_purpose(cert, NULL, 0, &why);
    if ((pe == SCITT_OK && !ok) || (pe != SCITT_OK && (!why || !why[0]))) {
        __builtin_trap();
    }
    char buf[256];
    scitt_err cn = scitt_x509_subject_cn(cert, buf, sizeof(buf), NULL);
    if (cn == SCITT_OK && !ok) {
        __builtin_trap();
    }
    for (size_t i = 0; i < 64; i++) {
        scitt_x509_san_type t;
        if (scitt_x509_san_get(cert, i, &t, buf, sizeof(buf), NULL) == SCITT_ERR_NOT_FOUND) {
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (roots == NULL) {
        if (scitt_x509_roots_new(&roots) != SCITT_OK ||
            scitt_x509_roots_add_der(roots, scitt_span_make(fixture_root, sizeof(fixture_root))) !=
                SCITT_OK) {
            __builtin_trap();
        }
    }
    if (size == 0) {
        return 0;
    }
    scitt_span certs[SCITT_LIMIT_X5CHAIN_CERTS + 1];
    size_t n = 0;
    scitt_dynbuf der;
    scitt_dynbuf_init(&der, 0);
    if ((data[0] & 1) == 0) {
        scitt_err e = scitt_x509_pem_decode(scitt_span_make(data + 1, size - 1), &der, certs,
                                            SCITT_LIMIT_X5CHAIN_CERTS + 1, &n);
        if (e != SCITT_OK) {
            n = 0;
        }
    } else {
        for (size_t pos = 1; size - pos >= 2 && n < SCITT_LIMIT_X5CHAIN_CERTS + 1;) {
            size_t len = (size_t)data[pos] << 8 | data[pos + 1];
            pos += 2;
            if (len > size - pos) {
                len = size - pos;
            }
            certs[n++] = scitt_span_make(data + pos, len);
            pos += len;
        }
    }
    for (size_t i = 0; i < n; i++) {
        helpers(certs[i]);
    }
    if (n > 0) {
        scitt_x509_time none = scitt_x509_time_none();
        scitt_x509_time at = scitt_x509_time_at(1800000000);
        scitt_err v1 = scitt_x509_verify_chain(roots, certs, n, &none, NULL);
        scitt_err v2 = scitt_x509_verify_chain(roots, certs, n, &at, NULL);
        /* A chain valid at a given instant is valid with time checks off. */
        if (v2 == SCITT_OK && v1 != SCITT_OK) {
            __builtin_trap();
        }
        /* The leaf rules of x509_roots policies only ever refuse more. */
        scitt_x509_leaf_rules lr = {true, NULL, 0, scitt_span_str("https://fuzz.example/x")};
        scitt_err v3 = scitt_x509_verify_chain_leaf(roots, certs, n, &at, &lr, NULL);
        if (v3 == SCITT_OK && v2 != SCITT_OK) {
            __builtin_trap();
        }
        scitt_didx509_result res;
        scitt_err dr = scitt_didx509_resolve(
            scitt_span_str("did:x509:0:sha256:GHeM3UVoL2GxthyJ0bMG6GjC2VqEP6IksC1JX0XsplU"
                           "::subject:CN:fuzz.example::san:dns:fuzz.example"),
            certs, n, &none, &res, NULL);
        if (dr == SCITT_OK && n < 2) {
            __builtin_trap();
        }
    }
    scitt_dynbuf_clear(&der);
    return 0;
}
