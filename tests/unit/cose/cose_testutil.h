/* Helpers shared by the COSE tests: signed statements made with our own encoder. */
#ifndef SCITT_COSE_TESTUTIL_H
#define SCITT_COSE_TESTUTIL_H

#include "testutil.h"

#include "scitt/cose.h"
#include "scitt/receipt.h"

/*
 * Appends a tagged Signed Statement to @p out: protected {1: alg, 3: content type, 4: kid,
 * 15: {1: iss, 2: sub, 6: iat}}, unprotected @p unprotected (NULL = {}), payload attached unless
 * @p detached. Returns the span of the statement inside @p out (valid until @p out changes).
 */
static inline scitt_span tc_statement(const scitt_cose_key *key, const char *payload,
                                      const char *iss, const char *sub, bool detached,
                                      const char *unprotected_hex, scitt_dynbuf *out)
{
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(key);
    spec.kid = scitt_cose_key_kid(key);
    spec.content_type.present = true;
    spec.content_type.is_text = true;
    spec.content_type.text = scitt_span_str("application/json");
    spec.cwt = true;
    spec.cwt_iss = scitt_span_str(iss);
    spec.cwt_sub = scitt_span_str(sub);
    spec.cwt_has_iat = true;
    spec.cwt_iat = 1767225600;
    uint8_t prot[1024];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, prot, sizeof(prot));
    assert_int_equal(scitt_cose_headers_encode(&spec, &w), SCITT_OK);
    scitt_span pm;
    assert_int_equal(scitt_cbor_writer_finish(&w, &pm), SCITT_OK);
    uint8_t *uh = NULL;
    size_t uh_len = 0;
    if (unprotected_hex) {
        uh = tu_hex(unprotected_hex, &uh_len);
    }
    size_t start = out->len;
    scitt_cbor_writer_init_dynbuf(&w, out);
    assert_int_equal(scitt_cose_sign1_sign(key, pm, scitt_span_make(uh, uh_len),
                                           scitt_span_str(payload), scitt_span_make(NULL, 0),
                                           detached ? SCITT_SIGN1_DETACHED : 0, &w),
                     SCITT_OK);
    free(uh);
    return scitt_span_make(out->ptr + start, out->len - start);
}

/* A fresh key set holding @p n keys (each gets another reference). */
static inline scitt_cose_keyset *tc_keyset(scitt_cose_key *const *keys, size_t n)
{
    scitt_cose_keyset *s = NULL;
    assert_int_equal(scitt_cose_keyset_new(&s), SCITT_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(scitt_cose_keyset_add(s, keys[i]), SCITT_OK);
    }
    return s;
}

/* Writes @p data to @p path; fails the test on error. */
static inline void tc_write_file(const char *path, scitt_span data)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fail_msg("cannot write %s", path);
    }
    assert_int_equal(fwrite(data.ptr, 1, data.len, f), data.len);
    fclose(f);
}

#endif /* SCITT_COSE_TESTUTIL_H */
