/*
 * X.509 path validation against configured roots, with chains made for each case: trust
 * anchors, ordering, validity windows, CA and path-length rules, critical extensions, malformed
 * DER, byte-flip sweeps, limits, concurrency; and the certificate helpers (fingerprints, SPKI,
 * subject CN, SANs, PEM bundles).
 */
#include "certgen.h"

#include <pthread.h>

#include <openssl/pem.h>

#include "scitt/limits.h"
#include "scitt/x509.h"

#define T_2024_06 1717200000 /* 2024-06-01 */
#define T_2023_06 1685577600 /* 2023-06-01 */
#define T_2026_06 1780272000 /* 2026-06-01 */

static scitt_x509_roots *roots_of(const cg_cert *c)
{
    scitt_x509_roots *r;
    assert_int_equal(scitt_x509_roots_new(&r), SCITT_OK);
    assert_int_equal(scitt_x509_roots_add_der(r, cg_span(c)), SCITT_OK);
    return r;
}

static scitt_err verify(const scitt_x509_roots *r, const cg_cert *const *certs, size_t n,
                        scitt_x509_time when)
{
    scitt_span spans[SCITT_LIMIT_X5CHAIN_CERTS + 2];
    for (size_t i = 0; i < n; i++) {
        spans[i] = cg_span(certs[i]);
    }
    const char *why = NULL;
    scitt_err e = scitt_x509_verify_chain(r, spans, n, &when, &why);
    if (e != SCITT_OK) {
        assert_non_null(why);
    }
    return e;
}

static void test_paths(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "leaf", .ku = "critical,digitalSignature"};
    cg_chain c;
    cg_chain_make(&c, &lo);
    cg_opts uo = {.cn = "Unrelated", .ca = true, .pathlen = -1};
    cg_cert unrelated;
    cg_make(&unrelated, &uo);
    scitt_x509_roots *r = roots_of(&c.root);
    assert_int_equal(scitt_x509_roots_count(r), 1);
    scitt_x509_time none = scitt_x509_time_none();

    const cg_cert *ok2[] = {&c.leaf, &c.inter};
    const cg_cert *ok3[] = {&c.leaf, &c.inter, &c.root};
    assert_int_equal(verify(r, ok2, 2, none), SCITT_OK);
    assert_int_equal(verify(r, ok3, 3, none), SCITT_OK);

    const cg_cert *only_leaf[] = {&c.leaf};
    const cg_cert *skip[] = {&c.leaf, &c.root};
    const cg_cert *extra[] = {&c.leaf, &c.inter, &unrelated};
    const cg_cert *reordered[] = {&c.inter, &c.leaf};
    const cg_cert *padded[] = {&c.leaf, &c.inter, &c.root, &c.root};
    assert_int_equal(verify(r, only_leaf, 1, none), SCITT_ERR_UNTRUSTED);
    assert_int_equal(verify(r, skip, 2, none), SCITT_ERR_UNTRUSTED);
    assert_int_equal(verify(r, extra, 3, none), SCITT_ERR_CERT_CHAIN);
    assert_int_equal(verify(r, reordered, 2, none), SCITT_ERR_CERT_CHAIN);
    assert_int_equal(verify(r, padded, 4, none), SCITT_ERR_CERT_CHAIN);

    /* A self-signed root that is not configured is untrusted even when carried in the chain. */
    scitt_x509_roots *other = roots_of(&unrelated);
    assert_int_equal(verify(other, ok3, 3, none), SCITT_ERR_UNTRUSTED);
    /* Any configured certificate is an anchor: the intermediate alone suffices. */
    scitt_x509_roots *mid = roots_of(&c.inter);
    assert_int_equal(verify(mid, only_leaf, 1, none), SCITT_OK);
    /* Several roots, one of them right; adding one twice counts once. */
    assert_int_equal(scitt_x509_roots_add_der(other, cg_span(&c.root)), SCITT_OK);
    assert_int_equal(scitt_x509_roots_add_der(other, cg_span(&c.root)), SCITT_OK);
    assert_int_equal(scitt_x509_roots_count(other), 2);
    assert_int_equal(verify(other, ok2, 2, none), SCITT_OK);

    scitt_x509_roots_free(r);
    scitt_x509_roots_free(other);
    scitt_x509_roots_free(mid);
    scitt_x509_roots_free(NULL);
    cg_free(&unrelated);
    cg_chain_free(&c);
}

static void test_time(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "leaf",
                  .not_before = 1704067200 /* 2024-01-01 */,
                  .not_after = 1735689600 /* 2025-01-01 */};
    cg_chain c;
    cg_chain_make(&c, &lo);
    scitt_x509_roots *r = roots_of(&c.root);
    const cg_cert *chain[] = {&c.leaf, &c.inter};
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(T_2024_06)), SCITT_OK);
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(T_2026_06)), SCITT_ERR_EXPIRED);
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(T_2023_06)), SCITT_ERR_EXPIRED);
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(1735689600 + 1)), SCITT_ERR_EXPIRED);
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_none()), SCITT_OK);
    /* The anchor's own window counts too. */
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(2208988800 + 10)), SCITT_ERR_EXPIRED);
    scitt_x509_roots_free(r);
    cg_chain_free(&c);
}

/* Chains that are well-formed but violate RFC 5280 rules. */
static void test_rules(void **state)
{
    (void)state;
    scitt_x509_time none = scitt_x509_time_none();
    cg_opts ro = {.cn = "Root", .ca = true, .pathlen = -1};
    cg_cert root;
    cg_make(&root, &ro);
    scitt_x509_roots *r = roots_of(&root);

    static const struct {
        cg_opts inter;
        const char *why;
    } bad_issuers[] = {
        {{.cn = "I", .ca = false}, "issuer with CA:FALSE"},
        {{.cn = "I", .no_bc = true, .ku = "critical,keyCertSign"},
         "issuer without basicConstraints"},
        {{.cn = "I", .ca = true, .pathlen = -1, .ku = "critical,digitalSignature"},
         "issuer without keyCertSign"},
        {{.cn = "I", .ca = true, .pathlen = -1, .unknown_critical = true},
         "unknown critical extension on the issuer"},
    };
    for (size_t i = 0; i < sizeof(bad_issuers) / sizeof(bad_issuers[0]); i++) {
        cg_opts io = bad_issuers[i].inter;
        io.issuer = &root;
        cg_cert inter, leaf;
        cg_make(&inter, &io);
        cg_opts lo = {.cn = "leaf", .issuer = &inter};
        cg_make(&leaf, &lo);
        const cg_cert *chain[] = {&leaf, &inter};
        scitt_err e = verify(r, chain, 2, none);
        if (e != SCITT_ERR_CERT_CHAIN) {
            fail_msg("%s: got %s", bad_issuers[i].why, scitt_err_name(e));
        }
        cg_free(&inter);
        cg_free(&leaf);
    }

    /* pathlen 0 on the first intermediate forbids a second one below it. */
    cg_opts i1o = {.cn = "I1", .ca = true, .pathlen = 0, .issuer = &root};
    cg_cert i1, i2, leaf;
    cg_make(&i1, &i1o);
    cg_opts i2o = {.cn = "I2", .ca = true, .pathlen = -1, .issuer = &i1};
    cg_make(&i2, &i2o);
    cg_opts lo = {.cn = "leaf", .issuer = &i2};
    cg_make(&leaf, &lo);
    const cg_cert *deep[] = {&leaf, &i2, &i1};
    assert_int_equal(verify(r, deep, 3, none), SCITT_ERR_CERT_CHAIN);
    cg_free(&leaf);

    /* An unknown critical extension on the leaf. */
    cg_opts uo = {.cn = "leaf", .issuer = &i1, .unknown_critical = true};
    cg_make(&leaf, &uo);
    const cg_cert *crit[] = {&leaf, &i1};
    assert_int_equal(verify(r, crit, 2, none), SCITT_ERR_CERT_CHAIN);
    cg_free(&leaf);

    /* Critical extensions we do understand are fine, and no purpose is imposed on the leaf. */
    cg_opts ko = {.cn = "leaf",
                  .issuer = &i1,
                  .ku = "critical,digitalSignature",
                  .eku = "critical,codeSigning",
                  .san = "critical,DNS:signer.example"};
    cg_make(&leaf, &ko);
    assert_int_equal(verify(r, crit, 2, none), SCITT_OK);
    cg_free(&leaf);

    cg_free(&i1);
    cg_free(&i2);
    cg_free(&root);
    scitt_x509_roots_free(r);
}

static void test_malformed_and_limits(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "leaf"};
    cg_chain c;
    cg_chain_make(&c, &lo);
    scitt_x509_roots *r = roots_of(&c.root);
    scitt_x509_time none = scitt_x509_time_none();
    scitt_span chain[SCITT_LIMIT_X5CHAIN_CERTS + 1];
    chain[1] = cg_span(&c.inter);

    uint8_t *buf = malloc(c.leaf.der_len + 1);
    memcpy(buf, c.leaf.der, c.leaf.der_len);
    buf[c.leaf.der_len] = 0;
    chain[0] = scitt_span_make(buf, c.leaf.der_len + 1); /* a trailing byte */
    assert_int_equal(scitt_x509_verify_chain(r, chain, 2, &none, NULL), SCITT_ERR_CERT_MALFORMED);
    chain[0] = scitt_span_make(buf, c.leaf.der_len - 1); /* truncated */
    assert_int_equal(scitt_x509_verify_chain(r, chain, 2, &none, NULL), SCITT_ERR_CERT_MALFORMED);
    chain[0] = scitt_span_make(buf, 0);
    assert_int_equal(scitt_x509_verify_chain(r, chain, 2, &none, NULL), SCITT_ERR_CERT_MALFORMED);
    /* The same certificate with a non-minimal outer length (0x82 form padded to 0x83). */
    uint8_t *ber = malloc(c.leaf.der_len + 1);
    assert_int_equal(c.leaf.der[1], 0x82);
    ber[0] = 0x30;
    ber[1] = 0x83;
    ber[2] = 0;
    memcpy(ber + 3, c.leaf.der + 2, c.leaf.der_len - 2);
    chain[0] = scitt_span_make(ber, c.leaf.der_len + 1);
    assert_int_equal(scitt_x509_verify_chain(r, chain, 2, &none, NULL), SCITT_ERR_CERT_MALFORMED);
    assert_int_equal(scitt_x509_check_der(chain[0]), SCITT_ERR_CERT_MALFORMED);
    free(ber);

    /* Every single-bit flip of the leaf: never accepted. */
    size_t parsed = 0;
    for (size_t i = 0; i < c.leaf.der_len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf[i] = (uint8_t)(c.leaf.der[i] ^ (1 << bit));
            chain[0] = scitt_span_make(buf, c.leaf.der_len);
            scitt_err e = scitt_x509_verify_chain(r, chain, 2, &none, NULL);
            if (e == SCITT_OK) {
                fail_msg("flip of bit %d at byte %zu accepted", bit, i);
            }
            parsed += e != SCITT_ERR_CERT_MALFORMED;
            buf[i] = c.leaf.der[i];
        }
    }
    assert_true(parsed > 0);
    free(buf);

    for (size_t i = 0; i <= SCITT_LIMIT_X5CHAIN_CERTS; i++) {
        chain[i] = cg_span(&c.inter);
    }
    chain[0] = cg_span(&c.leaf);
    assert_int_equal(scitt_x509_verify_chain(r, chain, SCITT_LIMIT_X5CHAIN_CERTS + 1, &none, NULL),
                     SCITT_ERR_TOO_LARGE);
    assert_int_equal(scitt_x509_verify_chain(r, chain, 0, &none, NULL), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_x509_verify_chain(r, chain, 2, NULL, NULL), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_x509_verify_chain(NULL, chain, 2, &none, NULL), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_x509_roots_add_der(r, scitt_span_make("junk", 4)),
                     SCITT_ERR_CERT_MALFORMED);
    scitt_x509_roots_free(r);
    cg_chain_free(&c);
}

static void test_helpers(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "Gr\xc3\xbc\xc3\x9f"
                        "e", /* "Grüße" */
                  .san = "DNS:a.example,email:x@y.example,URI:https://u.example/p,IP:192.0.2.1"};
    cg_chain c;
    cg_chain_make(&c, &lo);

    /* Fingerprints agree with OpenSSL's digest of the certificate. */
    const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512()};
    for (int a = 0; a < 3; a++) {
        uint8_t fp[SCITT_X509_FINGERPRINT_MAX], want[EVP_MAX_MD_SIZE];
        size_t n;
        unsigned wn;
        assert_int_equal(scitt_x509_fingerprint(cg_span(&c.leaf), (scitt_x509_hash)(a + 1), fp, &n),
                         SCITT_OK);
        assert_int_equal(X509_digest(c.leaf.x, mds[a], want, &wn), 1);
        assert_int_equal(n, wn);
        assert_memory_equal(fp, want, n);
    }

    /* The SPKI span is inside the certificate and equals OpenSSL's encoding of the key. */
    scitt_span spki;
    assert_int_equal(scitt_x509_spki(cg_span(&c.leaf), &spki), SCITT_OK);
    assert_true(spki.ptr > c.leaf.der && spki.ptr + spki.len <= c.leaf.der + c.leaf.der_len);
    unsigned char *enc = NULL;
    int en = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c.leaf.x), &enc);
    assert_int_equal(spki.len, (size_t)en);
    assert_memory_equal(spki.ptr, enc, spki.len);
    OPENSSL_free(enc);
    assert_int_equal(scitt_x509_spki(scitt_span_make(c.leaf.der, 10), &spki),
                     SCITT_ERR_CERT_MALFORMED);

    char buf[64];
    size_t len;
    assert_int_equal(scitt_x509_subject_cn(cg_span(&c.leaf), buf, sizeof(buf), &len), SCITT_OK);
    assert_string_equal(buf, "Gr\xc3\xbc\xc3\x9f"
                             "e");
    assert_int_equal(len, 7);
    assert_int_equal(scitt_x509_subject_cn(cg_span(&c.leaf), buf, 7, &len),
                     SCITT_ERR_BUFFER_TOO_SMALL);

    static const struct {
        scitt_x509_san_type type;
        const char *value;
    } sans[] = {{SCITT_X509_SAN_DNS, "a.example"},
                {SCITT_X509_SAN_EMAIL, "x@y.example"},
                {SCITT_X509_SAN_URI, "https://u.example/p"},
                {SCITT_X509_SAN_OTHER, ""}};
    for (size_t i = 0; i < 4; i++) {
        scitt_x509_san_type t;
        assert_int_equal(scitt_x509_san_get(cg_span(&c.leaf), i, &t, buf, sizeof(buf), NULL),
                         SCITT_OK);
        assert_int_equal(t, sans[i].type);
        assert_string_equal(buf, sans[i].value);
    }
    scitt_x509_san_type t;
    assert_int_equal(scitt_x509_san_get(cg_span(&c.leaf), 4, &t, buf, sizeof(buf), NULL),
                     SCITT_ERR_NOT_FOUND);
    assert_int_equal(scitt_x509_san_get(cg_span(&c.inter), 0, &t, buf, sizeof(buf), NULL),
                     SCITT_ERR_NOT_FOUND);

    cg_opts dup = {.cn = "a", .cn2 = "b"}, nocn = {.o = "Org only"};
    cg_cert d, n;
    cg_make(&d, &dup);
    cg_make(&n, &nocn);
    assert_int_equal(scitt_x509_subject_cn(cg_span(&d), buf, sizeof(buf), NULL),
                     SCITT_ERR_DUPLICATE_KEY);
    assert_int_equal(scitt_x509_subject_cn(cg_span(&n), buf, sizeof(buf), NULL),
                     SCITT_ERR_NOT_FOUND);
    cg_free(&d);
    cg_free(&n);
    cg_chain_free(&c);
}

static void pem_append(scitt_dynbuf *b, const cg_cert *c)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509(bio, c->x), 1);
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    scitt_dynbuf_put(b, p, (size_t)n);
    BIO_free(bio);
}

static void test_pem(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "leaf"};
    cg_chain c;
    cg_chain_make(&c, &lo);
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    scitt_dynbuf_str(&pem, "subject=leaf (text outside blocks is ignored)\n");
    pem_append(&pem, &c.leaf);
    scitt_dynbuf_str(&pem, "\n# comment\n");
    pem_append(&pem, &c.inter);
    pem_append(&pem, &c.root);
    scitt_span text = scitt_span_make(pem.ptr, pem.len);

    scitt_dynbuf der;
    scitt_dynbuf_init(&der, 0);
    scitt_span certs[4];
    size_t n;
    assert_int_equal(scitt_x509_pem_decode(text, &der, certs, 4, &n), SCITT_OK);
    assert_int_equal(n, 3);
    assert_true(scitt_span_eq(certs[0], cg_span(&c.leaf)));
    assert_true(scitt_span_eq(certs[1], cg_span(&c.inter)));
    assert_true(scitt_span_eq(certs[2], cg_span(&c.root)));
    scitt_dynbuf_clear(&der);
    scitt_dynbuf_init(&der, 0);
    assert_int_equal(scitt_x509_pem_decode(text, &der, certs, 2, &n), SCITT_ERR_TOO_LARGE);
    assert_int_equal(der.len, 0);
    scitt_dynbuf_clear(&der);

    scitt_x509_roots *r;
    assert_int_equal(scitt_x509_roots_new(&r), SCITT_OK);
    size_t added;
    assert_int_equal(scitt_x509_roots_add_pem(r, text, &added), SCITT_OK);
    assert_int_equal(added, 3);
    assert_int_equal(scitt_x509_roots_count(r), 3);

    /* Bundles that must be refused as a whole. */
    static const char *bad[] = {
        "",
        "no blocks at all\n",
        "-----BEGIN CERTIFICATE-----\n!!!notbase64!!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scitt_dynbuf_init(&der, 0);
        assert_int_equal(scitt_x509_pem_decode(scitt_span_str(bad[i]), &der, certs, 4, &n),
                         SCITT_ERR_CERT_MALFORMED);
        scitt_dynbuf_clear(&der);
    }
    /* A private key block inside a bundle. */
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, c.leaf.key, NULL, NULL, 0, NULL, NULL), 1);
    char *p;
    long kn = BIO_get_mem_data(bio, &p);
    scitt_dynbuf_put(&pem, p, (size_t)kn);
    BIO_free(bio);
    scitt_x509_roots *r2;
    assert_int_equal(scitt_x509_roots_new(&r2), SCITT_OK);
    assert_int_equal(scitt_x509_roots_add_pem(r2, scitt_span_make(pem.ptr, pem.len), &added),
                     SCITT_ERR_CERT_MALFORMED);
    assert_int_equal(scitt_x509_roots_count(r2), 0);
    scitt_x509_roots_free(r2);
    scitt_x509_roots_free(r);
    scitt_dynbuf_clear(&pem);
    cg_chain_free(&c);
}

/* Roots with the root certificate and the CRLs of @p pems (NULL-terminated). */
static scitt_x509_roots *roots_crls(const cg_cert *root, char *const *pems)
{
    scitt_x509_roots *r = roots_of(root);
    for (size_t i = 0; pems[i]; i++) {
        size_t n = 0;
        assert_int_equal(scitt_x509_roots_add_crl_pem(r, scitt_span_str(pems[i]), &n), SCITT_OK);
        assert_int_equal(n, 1);
    }
    return r;
}

/*
 * CRLs: once a store holds one, every certificate of the path must be checked against the CRL of
 * its issuer: a revoked leaf or intermediate fails, so does a path with a CA whose CRL is
 * missing, a CRL outside its validity at the instant checked (time-dependent: SCITT_ERR_EXPIRED)
 * or one signed by another key. Malformed CRL bundles add nothing.
 */
static void test_crls(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "leaf", .ku = "critical,digitalSignature", .eku = "codeSigning"};
    cg_chain c;
    cg_chain_make(&c, &lo);
    cg_opts oo = {.cn = "other leaf", .ku = "critical,digitalSignature", .issuer = &c.inter};
    cg_cert other;
    cg_make(&other, &oo);
    const cg_cert *leaf_only[] = {&c.leaf}, *inter_only[] = {&c.inter};
    int64_t t0 = T_2024_06 - 86400, t1 = T_2024_06 + 86400 * 30;
    char *root_empty = cg_crl_pem(&c.root, NULL, 0, t0, t1);
    char *inter_empty = cg_crl_pem(&c.inter, NULL, 0, t0, t1);
    char *inter_leaf = cg_crl_pem(&c.inter, leaf_only, 1, t0, t1);
    char *root_inter = cg_crl_pem(&c.root, inter_only, 1, t0, t1);
    char *inter_stale = cg_crl_pem(&c.inter, NULL, 0, t0 - 86400 * 60, t0 - 86400 * 30);
    char *inter_by_leaf = cg_crl_pem(&c.leaf, NULL, 0, t0, t1); /* wrong issuer name and key */
    const cg_cert *path[] = {&c.leaf, &c.inter};
    const cg_cert *opath[] = {&other, &c.inter};
    scitt_x509_time at = scitt_x509_time_at(T_2024_06);

    scitt_x509_roots *r = roots_crls(&c.root, (char *[]){root_empty, inter_empty, NULL});
    assert_int_equal(verify(r, path, 2, at), SCITT_OK);
    scitt_x509_roots_free(r);

    r = roots_crls(&c.root, (char *[]){root_empty, inter_leaf, NULL});
    assert_int_equal(verify(r, path, 2, at), SCITT_ERR_CERT_CHAIN);
    assert_int_equal(verify(r, opath, 2, at), SCITT_OK); /* another leaf of that CA is fine */
    scitt_x509_roots_free(r);

    r = roots_crls(&c.root, (char *[]){root_inter, inter_empty, NULL});
    assert_int_equal(verify(r, path, 2, at), SCITT_ERR_CERT_CHAIN);
    scitt_x509_roots_free(r);

    r = roots_crls(&c.root, (char *[]){inter_empty, NULL}); /* no CRL from the root */
    assert_int_equal(verify(r, path, 2, at), SCITT_ERR_CERT_CHAIN);
    scitt_x509_roots_free(r);

    r = roots_crls(&c.root, (char *[]){root_empty, NULL}); /* no CRL from the intermediate */
    assert_int_equal(verify(r, path, 2, at), SCITT_ERR_CERT_CHAIN);
    scitt_x509_roots_free(r);

    /* an intermediate as the trust anchor still needs the CRL of its own issuer */
    r = roots_crls(&c.inter, (char *[]){inter_empty, NULL});
    assert_int_equal(verify(r, path, 2, at), SCITT_ERR_CERT_CHAIN);
    scitt_x509_roots_free(r);
    /* a self-signed root is not checked against itself; the chain may include it */
    r = roots_crls(&c.root, (char *[]){inter_empty, root_empty, NULL});
    const cg_cert *full[] = {&c.leaf, &c.inter, &c.root};
    assert_int_equal(verify(r, full, 3, at), SCITT_OK);
    scitt_x509_roots_free(r);

    r = roots_crls(&c.root, (char *[]){root_empty, inter_stale, NULL});
    assert_int_equal(verify(r, path, 2, at), SCITT_ERR_EXPIRED);
    assert_int_equal(verify(r, path, 2, scitt_x509_time_none()), SCITT_OK);
    scitt_x509_roots_free(r);

    r = roots_crls(&c.root, (char *[]){root_empty, inter_by_leaf, NULL});
    assert_int_equal(verify(r, path, 2, at), SCITT_ERR_CERT_CHAIN);
    scitt_x509_roots_free(r);

    /* the same chain without any CRL in the store: no revocation checking at all */
    r = roots_of(&c.root);
    assert_int_equal(verify(r, path, 2, at), SCITT_OK);
    /* bundles: a certificate is not a CRL, garbage and empty input add nothing */
    char *cert_pem = NULL;
    {
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, c.leaf.x);
        char *d;
        long n = BIO_get_mem_data(b, &d);
        cert_pem = strndup(d, (size_t)n);
        BIO_free(b);
    }
    scitt_dynbuf both;
    scitt_dynbuf_init(&both, 0);
    scitt_dynbuf_str(&both, inter_leaf);
    scitt_dynbuf_str(&both, cert_pem);
    const char *bad[] = {cert_pem, "", "not a crl",
                         "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(scitt_x509_roots_add_crl_pem(r, scitt_span_str(bad[i]), NULL),
                         SCITT_ERR_CERT_MALFORMED);
    }
    assert_int_equal(scitt_x509_roots_add_crl_pem(r, scitt_span_make(both.ptr, both.len), NULL),
                     SCITT_ERR_CERT_MALFORMED);
    assert_int_equal(verify(r, path, 2, at), SCITT_OK); /* still no CRL: nothing was added */
    scitt_x509_roots_free(r);
    scitt_dynbuf_clear(&both);
    free(cert_pem);
    char *all[] = {root_empty, inter_empty, inter_leaf, root_inter, inter_stale, inter_by_leaf};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(all[i]);
    }
    cg_free(&other);
    cg_chain_free(&c);
}

/* [from, until) of scitt_x509_time_window, asserted. */
static void window_is(const scitt_x509_roots *r, const cg_cert *const *certs, size_t n, int64_t at,
                      int64_t from, int64_t until)
{
    scitt_span spans[SCITT_LIMIT_X5CHAIN_CERTS];
    for (size_t i = 0; i < n; i++) {
        spans[i] = cg_span(certs[i]);
    }
    int64_t f = 0, u = 0;
    assert_int_equal(scitt_x509_time_window(r, spans, n, at, &f, &u), SCITT_OK);
    assert_int_equal(f, from);
    assert_int_equal(u, until);
}

/*
 * The window in which a validation result holds: between the validity bounds of the chain's
 * certificates and the store's certificates and CRLs nearest to the instant. Validation decides
 * the same at every instant of it and differently just outside when the bound is the path's;
 * an unrelated root of the store narrows it too. The store's digest names what it was given.
 */
static void test_time_window(void **state)
{
    (void)state;
    const int64_t nb = 1704067200 /* 2024-01-01 */, na = 1735689600 /* 2025-01-01 */;
    const int64_t ca_nb = 1577836800, ca_na = 2208988800; /* certgen's defaults */
    cg_opts lo = {.cn = "leaf", .not_before = nb, .not_after = na};
    cg_chain c;
    cg_chain_make(&c, &lo);
    const cg_cert *chain[] = {&c.leaf, &c.inter};
    scitt_x509_roots *r = roots_of(&c.root);
    window_is(r, chain, 2, T_2024_06, nb, na);
    window_is(NULL, chain, 2, T_2024_06, nb, na);
    window_is(r, chain, 2, nb, nb, na);
    window_is(r, chain, 2, T_2023_06, ca_nb, nb);
    window_is(r, chain, 2, T_2026_06, na, ca_na);
    const cg_cert *root_only[] = {&c.root};
    window_is(NULL, root_only, 1, 0, INT64_MIN, ca_nb);
    window_is(NULL, NULL, 0, 0, INT64_MIN, INT64_MAX);
    /* OpenSSL's flip points are exactly the bounds: valid from notBefore, expired at notAfter. */
    int64_t inside[] = {nb, nb + 1, T_2024_06, na - 1};
    for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(inside[i])), SCITT_OK);
    }
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(nb - 1)), SCITT_ERR_EXPIRED);
    assert_int_equal(verify(r, chain, 2, scitt_x509_time_at(na)), SCITT_ERR_EXPIRED);

    /* A root of the store that becomes valid inside the leaf's validity ends the window there:
     * from then on OpenSSL has another candidate issuer to consider. */
    uint8_t d0[SCITT_SHA256_LEN], d1[SCITT_SHA256_LEN], d2[SCITT_SHA256_LEN];
    scitt_x509_roots_digest(r, d0);
    cg_opts later = {.cn = "Later Root",
                     .ca = true,
                     .pathlen = -1,
                     .not_before = T_2024_06 + 100,
                     .not_after = ca_na - 5};
    cg_cert lr;
    cg_make(&lr, &later);
    assert_int_equal(scitt_x509_roots_add_der(r, cg_span(&lr)), SCITT_OK);
    window_is(r, chain, 2, T_2024_06, nb, T_2024_06 + 100);
    window_is(r, chain, 2, T_2024_06 + 100, T_2024_06 + 100, na);
    scitt_x509_roots_digest(r, d1);
    assert_memory_not_equal(d0, d1, sizeof(d0));

    /* CRLs: from thisUpdate, expired at nextUpdate. */
    int64_t t0 = T_2024_06 - 86400, t1 = T_2024_06 + 86400 * 30;
    char *root_crl = cg_crl_pem(&c.root, NULL, 0, t0 - 7, t1 + 7);
    char *inter_crl = cg_crl_pem(&c.inter, NULL, 0, t0, t1);
    scitt_x509_roots *rc = roots_crls(&c.root, (char *[]){root_crl, inter_crl, NULL});
    window_is(rc, chain, 2, T_2024_06, t0, t1);
    assert_int_equal(verify(rc, chain, 2, scitt_x509_time_at(t0)), SCITT_OK);
    assert_int_equal(verify(rc, chain, 2, scitt_x509_time_at(t1 - 1)), SCITT_OK);
    assert_int_equal(verify(rc, chain, 2, scitt_x509_time_at(t0 - 1)), SCITT_ERR_EXPIRED);
    assert_int_equal(verify(rc, chain, 2, scitt_x509_time_at(t1)), SCITT_ERR_EXPIRED);

    /* Digests: the same bytes in the same order agree; a CRL, another root, NULL differ. */
    scitt_x509_roots *same = roots_of(&c.root);
    scitt_x509_roots_digest(same, d2);
    assert_memory_equal(d0, d2, sizeof(d0));
    scitt_x509_roots_digest(rc, d2);
    assert_memory_not_equal(d0, d2, sizeof(d0));
    scitt_x509_roots *other = roots_of(&c.inter);
    scitt_x509_roots_digest(other, d2);
    assert_memory_not_equal(d0, d2, sizeof(d0));
    scitt_x509_roots_digest(NULL, d2);
    static const uint8_t zeros[SCITT_SHA256_LEN];
    assert_memory_equal(d2, zeros, sizeof(zeros));
    assert_memory_not_equal(d0, zeros, sizeof(zeros));

    /* Bad input. */
    int64_t f, u;
    scitt_span bad[2] = {cg_span(&c.leaf), scitt_span_str("not a certificate")};
    assert_int_equal(scitt_x509_time_window(r, bad, 2, 0, &f, &u), SCITT_ERR_CERT_MALFORMED);
    assert_int_equal(scitt_x509_time_window(r, bad, SCITT_LIMIT_X5CHAIN_CERTS + 1, 0, &f, &u),
                     SCITT_ERR_TOO_LARGE);
    assert_int_equal(scitt_x509_time_window(r, bad, 1, 0, NULL, &u), SCITT_ERR_INVALID_ARG);
    free(root_crl);
    free(inter_crl);
    scitt_x509_roots_free(r);
    scitt_x509_roots_free(rc);
    scitt_x509_roots_free(same);
    scitt_x509_roots_free(other);
    cg_free(&lr);
    cg_chain_free(&c);
}

/* A leaf may sign statements with keyUsage digitalSignature and code signing (or a named EKU). */
static void test_signing_purpose(void **state)
{
    (void)state;
    static const struct {
        const char *ku, *eku;
        const char *ekus[2];
        size_t n;
        scitt_err want;
    } rows[] = {
        {"critical,digitalSignature", "codeSigning", {NULL}, 0, SCITT_OK},
        {"digitalSignature,keyEncipherment", "serverAuth,codeSigning", {NULL}, 0, SCITT_OK},
        {"critical,digitalSignature", "serverAuth", {NULL}, 0, SCITT_ERR_POLICY},
        {"critical,digitalSignature", NULL, {NULL}, 0, SCITT_ERR_POLICY},
        {"critical,digitalSignature", "anyExtendedKeyUsage", {NULL}, 0, SCITT_ERR_POLICY},
        {"critical,digitalSignature", "anyExtendedKeyUsage", {"2.5.29.37.0"}, 1, SCITT_OK},
        {"critical,keyEncipherment", "codeSigning", {NULL}, 0, SCITT_ERR_POLICY},
        {"", "codeSigning", {NULL}, 0, SCITT_ERR_POLICY}, /* no keyUsage at all */
        {"critical,digitalSignature", "1.3.6.1.4.1.55555.7", {"1.3.6.1.4.1.55555.7"}, 1, SCITT_OK},
        {"critical,digitalSignature",
         "codeSigning",
         {"1.3.6.1.4.1.55555.7", "1.3.6.1.5.5.7.3.3"},
         2,
         SCITT_OK},
        {"critical,digitalSignature", "codeSigning", {"1.3.6.1.4.1.55555.7"}, 1, SCITT_ERR_POLICY},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cg_opts o = {.cn = "leaf", .ku = rows[i].ku, .eku = rows[i].eku};
        cg_cert c;
        cg_make(&c, &o);
        const char *why = NULL;
        scitt_err e = scitt_x509_check_signing_purpose(cg_span(&c), rows[i].n ? rows[i].ekus : NULL,
                                                       rows[i].n, &why);
        if (e != rows[i].want) {
            fail_msg("row %zu: %s (%s)", i, scitt_err_name(e), why ? why : "");
        }
        if (e != SCITT_OK) {
            assert_non_null(why);
        }
        cg_free(&c);
    }
    const char *why = NULL;
    assert_int_equal(scitt_x509_check_signing_purpose(scitt_span_str("junk"), NULL, 0, &why),
                     SCITT_ERR_CERT_MALFORMED);
}

/* The leaf rules run after path validation, on the certificate it parsed. */
static void test_leaf_rules(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "leaf",
                  .ku = "critical,digitalSignature",
                  .eku = "codeSigning",
                  .san = "URI:https://ci.example/a,DNS:ci.example,URI:https://ci.example/b"};
    cg_chain c;
    cg_chain_make(&c, &lo);
    cg_opts tls_o = {.cn = "tls",
                     .ku = "critical,digitalSignature",
                     .eku = "serverAuth",
                     .san = "URI:https://ci.example/a",
                     .issuer = &c.inter};
    cg_cert tls;
    cg_make(&tls, &tls_o);
    scitt_x509_roots *r = roots_of(&c.root);
    scitt_x509_time at = scitt_x509_time_at(T_2024_06);
    scitt_span chain[2] = {cg_span(&c.leaf), cg_span(&c.inter)};
    scitt_span tchain[2] = {cg_span(&tls), cg_span(&c.inter)};
    static const char *const tls_eku[] = {"1.3.6.1.5.5.7.3.1"};
    static const struct {
        bool tls, signing, named;
        const char *uri;
        scitt_err want;
    } rows[] = {
        {false, true, false, NULL, SCITT_OK},
        {false, true, false, "https://ci.example/a", SCITT_OK},
        {false, true, false, "https://ci.example/b", SCITT_OK},
        {false, false, false, "https://ci.example/c", SCITT_ERR_POLICY},
        {false, false, false, "https://ci.example/", SCITT_ERR_POLICY},
        {false, false, false, "ci.example", SCITT_ERR_POLICY}, /* a DNS name is not a URI */
        {true, true, false, NULL, SCITT_ERR_POLICY},
        {true, true, true, "https://ci.example/a", SCITT_OK},
        {true, false, false, "https://ci.example/a", SCITT_OK},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_x509_leaf_rules lr = {
            rows[i].signing, rows[i].named ? tls_eku : NULL, rows[i].named ? 1u : 0u,
            rows[i].uri ? scitt_span_str(rows[i].uri) : scitt_span_make(NULL, 0)};
        const char *why = NULL;
        scitt_err e =
            scitt_x509_verify_chain_leaf(r, rows[i].tls ? tchain : chain, 2, &at, &lr, &why);
        if (e != rows[i].want) {
            fail_msg("row %zu: %s (%s)", i, scitt_err_name(e), why ? why : "");
        }
    }
    /* a path that does not validate fails as such, whatever the leaf */
    scitt_x509_leaf_rules lr = {true, NULL, 0, scitt_span_str("https://nowhere.example")};
    scitt_x509_time late = scitt_x509_time_at(2300000000);
    assert_int_equal(scitt_x509_verify_chain_leaf(r, tchain, 2, &late, &lr, NULL),
                     SCITT_ERR_EXPIRED);
    scitt_x509_roots_free(r);
    cg_free(&tls);
    cg_chain_free(&c);
}

typedef struct thread_arg {
    const scitt_x509_roots *roots;
    scitt_span chain[2];
    int failures;
} thread_arg;

static void *verify_many(void *p)
{
    thread_arg *a = p;
    scitt_x509_time when = scitt_x509_time_at(T_2024_06);
    for (int i = 0; i < 300; i++) {
        /* Alternate good and broken (leaf only: no path) to exercise both outcomes. */
        scitt_err want = i % 2 ? SCITT_OK : SCITT_ERR_UNTRUSTED;
        if (scitt_x509_verify_chain(a->roots, a->chain, i % 2 ? 2 : 1, &when, NULL) != want) {
            a->failures++;
        }
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    cg_opts lo = {.cn = "leaf"};
    cg_chain c;
    cg_chain_make(&c, &lo);
    scitt_x509_roots *r = roots_of(&c.root);
    enum { N = 4 };
    pthread_t th[N];
    thread_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (thread_arg){r, {cg_span(&c.leaf), cg_span(&c.inter)}, 0};
        assert_int_equal(pthread_create(&th[i], NULL, verify_many, &args[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    scitt_x509_roots_free(r);
    cg_chain_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),           cmocka_unit_test(test_time),
        cmocka_unit_test(test_rules),           cmocka_unit_test(test_malformed_and_limits),
        cmocka_unit_test(test_helpers),         cmocka_unit_test(test_pem),
        cmocka_unit_test(test_concurrent),      cmocka_unit_test(test_crls),
        cmocka_unit_test(test_signing_purpose), cmocka_unit_test(test_leaf_rules),
        cmocka_unit_test(test_time_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
