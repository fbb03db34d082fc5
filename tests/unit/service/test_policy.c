/*
 * The registration policy: a table of rejected documents with reasons, then the admission check
 * against real statements: pinned keys, issuer prefixes, X.509 roots and validity times,
 * did:x509, algorithms, claims, content types and sizes.
 */
#include "testutil.h"
#include "stmt_util.h"

#include <time.h>

#include "scitt/policy.h"
#include "scitt/x509.h"

/* A throw-away root certificate as a JSON string, for documents that need a valid one. */
static char *root_json(void)
{
    scitt_cose_key *k;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k), SCITT_OK);
    EVP_PKEY *e = su_evp(k);
    int64_t now = (int64_t)time(NULL);
    X509 *c = su_cert(e, "Root", NULL, NULL, true, now - 60, now + 3600, NULL);
    char *pem = su_pem(c), *json = su_json_escape(pem);
    free(pem);
    X509_free(c);
    EVP_PKEY_free(e);
    scitt_cose_key_free(k);
    return json;
}

static void test_bad_documents(void **state)
{
    (void)state;
    char *root = root_json();
    static const struct {
        const char *doc;
        const char *mention;
    } rows[] = {
        {"", "JSON"},
        {"[]", "object"},
        {"{\"issuers\": [{\"iss\": \"a\", \"self_signed\": true}]}", "version"},
        {"{\"version\": 2, \"issuers\": []}", "version"},
        {"{\"version\": 1}", "issuers"},
        {"{\"version\": 1, \"issuers\": []}", "issuers"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\"}]}", "keys"},
        {"{\"version\": 1, \"issuers\": [{\"self_signed\": true}]}", "iss"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"iss_prefix\": \"b\", \"self_signed\": "
         "true}]}",
         "exactly one"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"self_signed\": true, \"keys\": []}]}",
         "keys"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"keys\": [\"not a key\"]}]}", "keys[0]"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"junk\"]}]}",
         "x509_roots[0]"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"self_signed\": true, \"colour\": 1}]}",
         "colour"},
        {"{\"version\": 1, \"algorithms\": [\"RS1\"], \"issuers\": [{\"iss\": \"a\", "
         "\"self_signed\": true}]}",
         "RS1"},
        {"{\"version\": 1, \"x509_time\": \"sometimes\", \"issuers\": [{\"iss\": \"a\", "
         "\"self_signed\": true}]}",
         "x509_time"},
        {"{\"version\": 1, \"required_claims\": [\"foo\"], \"issuers\": [{\"iss\": \"a\", "
         "\"self_signed\": true}]}",
         "foo"},
        {"{\"version\": 1, \"max_statement_bytes\": 1, \"issuers\": [{\"iss\": \"a\", "
         "\"self_signed\": true}]}",
         "max_statement_bytes"},
        {"{\"version\": 1, \"clock_skew_seconds\": -1, \"issuers\": [{\"iss\": \"a\", "
         "\"self_signed\": true}]}",
         "clock_skew_seconds"},
        {"{\"version\": 1, \"clock_skew_seconds\": 86401, \"issuers\": [{\"iss\": \"a\", "
         "\"self_signed\": true}]}",
         "clock_skew_seconds"},
        {"{\"version\": 1, \"clock_skew_seconds\": \"60\", \"issuers\": [{\"iss\": \"a\", "
         "\"self_signed\": true}]}",
         "clock_skew_seconds"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"self_signed\": true, \"eku\": "
         "[\"1.3.6.1.5.5.7.3.3\"]}]}",
         "x509_roots"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"self_signed\": true, \"crls\": "
         "[\"x\"]}]}",
         "x509_roots"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"self_signed\": true, "
         "\"bind_iss\": \"san_uri\"}]}",
         "x509_roots"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%ROOT%\"], "
         "\"eku\": [\"codeSigning\"]}]}",
         "dotted OID"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%ROOT%\"], "
         "\"eku\": [\"1.3.6.1.5.5.7.3.03\"]}]}",
         "dotted OID"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%ROOT%\"], "
         "\"eku\": [\"1.3.6.1.\"]}]}",
         "dotted OID"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%ROOT%\"], "
         "\"eku\": []}]}",
         "eku"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%ROOT%\"], "
         "\"bind_iss\": \"cn\"}]}",
         "bind_iss"},
        {"{\"version\": 1, \"issuers\": [{\"did_x509\": true, \"x509_roots\": [\"%ROOT%\"], "
         "\"bind_iss\": \"san_uri\"}]}",
         "bind_iss"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%ROOT%\"], "
         "\"crls\": [\"junk\"]}]}",
         "crls[0]"},
        {"{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%ROOT%\"], "
         "\"crls\": [\"%ROOT%\"]}]}",
         "crls[0]"},
        {"{\"version\": 1, \"verison\": 1, \"issuers\": [{\"iss\": \"a\", \"self_signed\": true}]}",
         "verison"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_policy *p = NULL;
        char reason[256];
        /* %ROOT% stands for a valid root certificate */
        scitt_dynbuf doc;
        scitt_dynbuf_init(&doc, 0);
        const char *d = rows[i].doc, *at;
        while ((at = strstr(d, "%ROOT%")) != NULL) {
            scitt_dynbuf_put(&doc, d, (size_t)(at - d));
            scitt_dynbuf_str(&doc, root);
            d = at + 6;
        }
        scitt_dynbuf_str(&doc, d);
        scitt_err e =
            scitt_policy_parse(scitt_span_make(doc.ptr, doc.len), &p, reason, sizeof(reason));
        if (e == SCITT_OK || !strstr(reason, rows[i].mention)) {
            fail_msg("row %zu: %s -> %s (%s)", i, rows[i].doc, scitt_err_name(e), reason);
        }
        assert_null(p);
        scitt_dynbuf_clear(&doc);
    }
    free(root);
}

typedef struct world {
    int64_t now;
    scitt_cose_key *ca_key, *leaf_key, *other_key;
    EVP_PKEY *ca_evp, *leaf_evp, *other_evp;
    X509 *ca, *leaf, *expired_leaf, *self_leaf;
    scitt_span ca_der, leaf_der, expired_der, self_der;
    char *ca_pem;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    w->now = (int64_t)time(NULL);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &w->ca_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &w->leaf_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ED25519, &w->other_key), SCITT_OK);
    w->ca_evp = su_evp(w->ca_key);
    w->leaf_evp = su_evp(w->leaf_key);
    w->other_evp = su_evp(w->other_key);
    w->ca = su_cert(w->ca_evp, "Test Root CA", NULL, NULL, true, w->now - 86400 * 30,
                    w->now + 86400 * 365, NULL);
    w->leaf = su_cert(w->leaf_evp, "builder", w->ca_evp, w->ca, false, w->now - 3600,
                      w->now + 86400, "codeSigning");
    w->expired_leaf = su_cert(w->leaf_evp, "builder", w->ca_evp, w->ca, false, w->now - 86400 * 10,
                              w->now - 86400 * 5, "codeSigning");
    w->self_leaf =
        su_cert(w->leaf_evp, "builder", NULL, NULL, false, w->now - 3600, w->now + 86400, NULL);
    w->ca_der = su_der(w->ca);
    w->leaf_der = su_der(w->leaf);
    w->expired_der = su_der(w->expired_leaf);
    w->self_der = su_der(w->self_leaf);
    w->ca_pem = su_pem(w->ca);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    scitt_cose_key_free(w->ca_key);
    scitt_cose_key_free(w->leaf_key);
    scitt_cose_key_free(w->other_key);
    EVP_PKEY_free(w->ca_evp);
    EVP_PKEY_free(w->leaf_evp);
    EVP_PKEY_free(w->other_evp);
    X509_free(w->ca);
    X509_free(w->leaf);
    X509_free(w->expired_leaf);
    X509_free(w->self_leaf);
    OPENSSL_free((void *)w->ca_der.ptr);
    OPENSSL_free((void *)w->leaf_der.ptr);
    OPENSSL_free((void *)w->expired_der.ptr);
    OPENSSL_free((void *)w->self_der.ptr);
    free(w->ca_pem);
    free(w);
    return 0;
}

/* Checks one statement against a policy document; returns the error and the reason. */
static scitt_err run(const char *doc, const scitt_cose_key *k, const su_opts *o, scitt_span payload,
                     int64_t now, char *reason)
{
    scitt_policy *p;
    char why[256];
    scitt_err e = scitt_policy_parse(scitt_span_str(doc), &p, why, sizeof(why));
    if (e != SCITT_OK) {
        fail_msg("policy: %s", why);
    }
    scitt_dynbuf stmt;
    scitt_dynbuf_init(&stmt, 0);
    assert_int_equal(su_statement(k, o, payload, &stmt), SCITT_OK);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(stmt.ptr, stmt.len), 0, &m), SCITT_OK);
    scitt_policy_decision d;
    e = scitt_policy_check(p, &m, now, NULL, &d, reason, SCITT_POLICY_REASON_MAX);
    if (e == SCITT_OK) {
        assert_true(scitt_span_eq_str(d.iss, o->iss));
        assert_int_equal(d.digest.len, o->hash_alg ? payload.len : 32);
    }
    scitt_dynbuf_clear(&stmt);
    scitt_policy_free(p);
    return e;
}

static void test_pinned_keys(void **state)
{
    world *w = *state;
    scitt_dynbuf jwk;
    scitt_dynbuf_init(&jwk, 0);
    assert_int_equal(scitt_cose_key_encode_jwk(w->leaf_key, false, &jwk), SCITT_OK);
    char doc[4096];
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ci.example\", \"keys\": [%.*s]}]}",
             (int)jwk.len, (const char *)jwk.ptr);
    scitt_dynbuf_clear(&jwk);
    char reason[SCITT_POLICY_REASON_MAX];
    su_opts o = {0};
    o.iss = "https://ci.example";
    o.sub = "s";
    o.with_kid = true;
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason), SCITT_OK);
    /* another key with its own kid is not pinned */
    assert_int_equal(run(doc, w->other_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_UNTRUSTED);
    /* another issuer is not accepted at all */
    o.iss = "https://other.example";
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_POLICY);
    assert_non_null(strstr(reason, "issuer"));
}

static void test_x509_roots_and_time(void **state)
{
    world *w = *state;
    char doc[8192];
    char *pem_json = malloc(strlen(w->ca_pem) * 2 + 1), *q = pem_json;
    for (const char *c = w->ca_pem; *c; c++) {
        if (*c == '\n') {
            *q++ = '\\';
            *q++ = 'n';
        } else {
            *q++ = *c;
        }
    }
    *q = 0;
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"x509_time\": \"registration\", \"issuers\": "
             "[{\"iss_prefix\": \"https://ci.example/\", \"x509_roots\": [\"%s\"]}]}",
             pem_json);
    char reason[SCITT_POLICY_REASON_MAX];
    su_opts o = {0};
    o.iss = "https://ci.example/pipeline/7";
    o.sub = "s";
    scitt_span chain[2] = {w->leaf_der, w->ca_der};
    o.x5chain = chain;
    o.nx5chain = 2;
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason), SCITT_OK);
    o.nx5chain = 1; /* the root may be omitted */
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason), SCITT_OK);
    /* a leaf signed by no configured root */
    scitt_span self = w->self_der;
    o.x5chain = &self;
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_UNTRUSTED);
    /* an expired leaf: rejected at registration time, accepted when checked at iat or off */
    scitt_span expired[2] = {w->expired_der, w->ca_der};
    o.x5chain = expired;
    o.nx5chain = 2;
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_EXPIRED);
    o.has_iat = true;
    o.iat = w->now - 86400 * 7;
    char *at = strstr(doc, "\"registration\"");
    memcpy(at, "\"iat\"         ", 14);
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason), SCITT_OK);
    o.has_iat = false;
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_POLICY);
    /* the signer must be the leaf's key */
    o.has_iat = true;
    o.iat = w->now;
    o.x5chain = chain;
    assert_int_equal(run(doc, w->ca_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_SIGNATURE);
    free(pem_json);
}

/*
 * x509_roots rules are about code signing: the leaf needs keyUsage digitalSignature and the
 * code-signing EKU (or one the rule names); with bind_iss the iss must be a SAN URI of the leaf
 * or the did:x509 of the chain; with crls a revoked leaf is refused, and so is a chain whose CA's
 * CRL is missing or stale.
 */
static void test_x509_purpose_binding_crls(void **state)
{
    world *w = *state;
    int64_t now = w->now;
    const char *ds = "critical,digitalSignature";
    X509 *tls = su_leaf(w->leaf_evp, "builder", w->ca_evp, w->ca, now - 3600, now + 86400, ds,
                        "serverAuth", NULL);
    X509 *noeku =
        su_leaf(w->leaf_evp, "builder", w->ca_evp, w->ca, now - 3600, now + 86400, ds, NULL, NULL);
    X509 *noku = su_leaf(w->leaf_evp, "builder", w->ca_evp, w->ca, now - 3600, now + 86400, NULL,
                         "codeSigning", NULL);
    X509 *enc = su_leaf(w->leaf_evp, "builder", w->ca_evp, w->ca, now - 3600, now + 86400,
                        "critical,keyEncipherment", "codeSigning", NULL);
    X509 *san = su_leaf(w->leaf_evp, "builder", w->ca_evp, w->ca, now - 3600, now + 86400, ds,
                        "codeSigning", "URI:https://ci.example/pipeline/7,DNS:ci.example");
    X509 *revoked = su_leaf(w->leaf_evp, "builder", w->ca_evp, w->ca, now - 3600, now + 86400, ds,
                            "codeSigning", NULL);
    X509 *certs[] = {tls, noeku, noku, enc, san, revoked};
    scitt_span der[6];
    for (size_t i = 0; i < 6; i++) {
        der[i] = su_der(certs[i]);
    }
    char *crl = su_crl_pem(w->ca_evp, w->ca, &revoked, 1, now - 3600, now + 86400);
    char *stale = su_crl_pem(w->ca_evp, w->ca, NULL, 0, now - 86400 * 10, now - 86400 * 5);
    char *root = su_json_escape(w->ca_pem), *crl_j = su_json_escape(crl),
         *stale_j = su_json_escape(stale);
    uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
    size_t fl;
    assert_int_equal(scitt_x509_fingerprint(w->ca_der, SCITT_X509_SHA256, fp, &fl), SCITT_OK);
    char b64[64], did[256], did_other[256];
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)), SCITT_OK);
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:builder", b64);
    snprintf(did_other, sizeof(did_other), "did:x509:0:sha256:%s::subject:CN:someone", b64);

    enum { PLAIN, TLS_EKU, SAN_BIND, DID_BIND, CRLS, STALE, NDOCS };
    static char docs[NDOCS][20000];
    const char *head = "{\"version\": 1, \"x509_time\": \"registration\", \"issuers\": [";
    snprintf(docs[PLAIN], sizeof(docs[0]), "%s{\"iss_prefix\": \"\", \"x509_roots\": [\"%s\"]}]}",
             head, root);
    snprintf(docs[TLS_EKU], sizeof(docs[0]),
             "%s{\"iss_prefix\": \"\", \"x509_roots\": [\"%s\"], \"eku\": "
             "[\"1.3.6.1.5.5.7.3.1\"]}]}",
             head, root);
    snprintf(docs[SAN_BIND], sizeof(docs[0]),
             "%s{\"iss_prefix\": \"\", \"x509_roots\": [\"%s\"], \"bind_iss\": \"san_uri\"}]}",
             head, root);
    snprintf(docs[DID_BIND], sizeof(docs[0]),
             "%s{\"iss_prefix\": \"did:x509:\", \"x509_roots\": [\"%s\"], \"bind_iss\": "
             "\"did_x509\"}]}",
             head, root);
    snprintf(docs[CRLS], sizeof(docs[0]),
             "%s{\"iss_prefix\": \"\", \"x509_roots\": [\"%s\"], \"crls\": [\"%s\"]}]}", head, root,
             crl_j);
    snprintf(docs[STALE], sizeof(docs[0]),
             "%s{\"iss_prefix\": \"\", \"x509_roots\": [\"%s\"], \"crls\": [\"%s\"]}]}", head, root,
             stale_j);
    enum { LEAF = 6 };
    static const struct {
        int doc;
        int cert; /* index into der, or LEAF: the world's code-signing leaf */
        const char *iss;
        scitt_err want;
        const char *mention;
    } rows[] = {
        {PLAIN, LEAF, "https://ci.example/pipeline/7", SCITT_OK, NULL},
        {PLAIN, 0, "https://ci.example/pipeline/7", SCITT_ERR_POLICY, "extendedKeyUsage"},
        {PLAIN, 1, "https://ci.example/pipeline/7", SCITT_ERR_POLICY, "no extendedKeyUsage"},
        {PLAIN, 2, "https://ci.example/pipeline/7", SCITT_ERR_POLICY, "no keyUsage"},
        {PLAIN, 3, "https://ci.example/pipeline/7", SCITT_ERR_POLICY, "digitalSignature"},
        {TLS_EKU, 0, "https://ci.example/pipeline/7", SCITT_OK, NULL},
        {TLS_EKU, LEAF, "https://ci.example/pipeline/7", SCITT_ERR_POLICY, "extendedKeyUsage"},
        {SAN_BIND, 4, "https://ci.example/pipeline/7", SCITT_OK, NULL},
        {SAN_BIND, 4, "https://ci.example/pipeline/8", SCITT_ERR_POLICY, "subjectAltName URI"},
        {SAN_BIND, 4, "https://ci.example", SCITT_ERR_POLICY, "subjectAltName URI"},
        {SAN_BIND, LEAF, "https://ci.example/pipeline/7", SCITT_ERR_POLICY, "subjectAltName URI"},
        {DID_BIND, LEAF, "DID", SCITT_OK, NULL},
        {DID_BIND, LEAF, "DID_OTHER", SCITT_ERR_DID_MISMATCH, "did:x509"},
        {CRLS, LEAF, "https://ci.example/pipeline/7", SCITT_OK, NULL},
        {CRLS, 5, "https://ci.example/pipeline/7", SCITT_ERR_CERT_CHAIN, "revoked"},
        {STALE, LEAF, "https://ci.example/pipeline/7", SCITT_ERR_EXPIRED, "CRL"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        su_opts o = {0};
        o.iss = !strcmp(rows[i].iss, "DID")         ? did
                : !strcmp(rows[i].iss, "DID_OTHER") ? did_other
                                                    : rows[i].iss;
        o.sub = "s";
        scitt_span chain[2] = {rows[i].cert == LEAF ? w->leaf_der : der[rows[i].cert], w->ca_der};
        o.x5chain = chain;
        o.nx5chain = 2;
        char reason[SCITT_POLICY_REASON_MAX];
        scitt_err e = run(docs[rows[i].doc], w->leaf_key, &o, scitt_span_str("p"), now, reason);
        if (e != rows[i].want || (rows[i].mention && !strstr(reason, rows[i].mention))) {
            fail_msg("row %zu: %s (%s)", i, scitt_err_name(e), reason);
        }
    }
    for (size_t i = 0; i < 6; i++) {
        X509_free(certs[i]);
        OPENSSL_free((void *)der[i].ptr);
    }
    free(crl);
    free(stale);
    free(root);
    free(crl_j);
    free(stale_j);
}

static void test_did_x509(void **state)
{
    world *w = *state;
    uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
    size_t fl;
    assert_int_equal(scitt_x509_fingerprint(w->ca_der, SCITT_X509_SHA256, fp, &fl), SCITT_OK);
    char b64[64], did[256];
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)), SCITT_OK);
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:builder", b64);
    const char *doc =
        "{\"version\": 1, \"x509_time\": \"off\", \"issuers\": [{\"did_x509\": true}]}";
    char reason[SCITT_POLICY_REASON_MAX];
    su_opts o = {0};
    o.iss = did;
    o.sub = "s";
    scitt_span chain[2] = {w->leaf_der, w->ca_der};
    o.x5chain = chain;
    o.nx5chain = 2;
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason), SCITT_OK);
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:someone-else", b64);
    assert_int_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_DID_MISMATCH);
    /* the leaf is not a CA the DID may pin */
    assert_int_equal(scitt_x509_fingerprint(w->leaf_der, SCITT_X509_SHA256, fp, &fl), SCITT_OK);
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)), SCITT_OK);
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:builder", b64);
    assert_int_not_equal(run(doc, w->leaf_key, &o, scitt_span_str("p"), w->now, reason), SCITT_OK);
}

static void test_rules(void **state)
{
    world *w = *state;
    char reason[SCITT_POLICY_REASON_MAX];
    su_opts o = {0};
    o.iss = "https://ci.example";
    o.sub = "s";
    o.x5chain = &w->self_der;
    o.nx5chain = 1;
    const char *algs = "{\"version\": 1, \"algorithms\": [\"ES384\"], \"issuers\": "
                       "[{\"iss\": \"https://ci.example\", \"self_signed\": true}]}";
    assert_int_equal(run(algs, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_ALG);
    const char *claims = "{\"version\": 1, \"required_claims\": [\"iat\"], \"issuers\": "
                         "[{\"iss\": \"https://ci.example\", \"self_signed\": true}]}";
    assert_int_equal(run(claims, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_POLICY);
    assert_non_null(strstr(reason, "iat"));
    o.has_iat = true;
    o.iat = w->now;
    assert_int_equal(run(claims, w->leaf_key, &o, scitt_span_str("p"), w->now, reason), SCITT_OK);
    const char *types =
        "{\"version\": 1, \"content_types\": [\"application/spdx+json\"], "
        "\"preimage_content_types\": [\"application/vnd.oci.image.manifest.v1+json\"], "
        "\"issuers\": [{\"iss\": \"https://ci.example\", \"self_signed\": true}]}";
    o.content_type = "text/plain";
    assert_int_equal(run(types, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_POLICY);
    o.content_type = "application/spdx+json";
    assert_int_equal(run(types, w->leaf_key, &o, scitt_span_str("{}"), w->now, reason), SCITT_OK);
    /* a hash envelope: 259 checked instead of 3; the digest must fit its algorithm */
    o.content_type = NULL;
    o.hash_alg = SCITT_COSE_ALG_SHA256;
    o.preimage_type = "application/vnd.oci.image.manifest.v1+json";
    uint8_t digest[32] = {1, 2, 3};
    assert_int_equal(run(types, w->leaf_key, &o, scitt_span_make(digest, 32), w->now, reason),
                     SCITT_OK);
    assert_int_equal(run(types, w->leaf_key, &o, scitt_span_make(digest, 31), w->now, reason),
                     SCITT_ERR_HEADER);
    o.preimage_type = "application/octet-stream";
    assert_int_equal(run(types, w->leaf_key, &o, scitt_span_make(digest, 32), w->now, reason),
                     SCITT_ERR_POLICY);
    /* size */
    const char *small = "{\"version\": 1, \"max_statement_bytes\": 100, \"issuers\": "
                        "[{\"iss\": \"https://ci.example\", \"self_signed\": true}]}";
    o.hash_alg = 0;
    o.preimage_type = NULL;
    assert_int_equal(run(small, w->leaf_key, &o, scitt_span_str("p"), w->now, reason),
                     SCITT_ERR_TOO_LARGE);
}

/* The key cache: a fleet of 1,000 signers fits a 4,096-key cache (a second look-up is a hit,
 * returning the same key object; set conflicts may cost a handful, where a direct-mapped table
 * lost about a fifth), and a cache far smaller than the fleet still hands back
 * the key of the certificate asked for. */
static void test_key_cache(void **state)
{
    (void)state;
    enum { FLEET = 1000, SMALL = 40 };
    int64_t now = (int64_t)time(NULL);
    scitt_cose_key *signer;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &signer), SCITT_OK);
    EVP_PKEY *evp = su_evp(signer);
    scitt_span *certs = calloc(FLEET, sizeof(*certs));
    scitt_cose_key **first = calloc(FLEET, sizeof(*first));
    assert_non_null(certs);
    assert_non_null(first);
    for (size_t i = 0; i < FLEET; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "builder-%zu", i);
        X509 *c = su_cert(evp, cn, NULL, NULL, false, now - 60, now + 3600, NULL);
        certs[i] = su_der(c);
        X509_free(c);
    }
    scitt_key_cache *cache;
    assert_int_equal(scitt_key_cache_new(4096, &cache), SCITT_OK);
    for (size_t i = 0; i < FLEET; i++) {
        assert_int_equal(scitt_key_cache_get(cache, certs[i], &first[i]), SCITT_OK);
    }
    size_t misses = 0;
    for (size_t i = 0; i < FLEET; i++) {
        scitt_cose_key *k;
        assert_int_equal(scitt_key_cache_get(cache, certs[i], &k), SCITT_OK);
        misses += k != first[i];
        scitt_cose_key_free(k);
    }
    assert_true(misses <= FLEET / 100);
    scitt_key_cache_free(cache);
    for (size_t i = 0; i < FLEET; i++) {
        scitt_cose_key_free(first[i]);
        OPENSSL_free((void *)certs[i].ptr);
    }
    EVP_PKEY_free(evp);
    scitt_cose_key_free(signer);

    /* distinct keys through a 16-key cache, three rounds: always the right key */
    scitt_cose_key *keys[SMALL];
    uint8_t want[SMALL][SCITT_SHA256_LEN];
    for (size_t i = 0; i < SMALL; i++) {
        assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &keys[i]), SCITT_OK);
        scitt_cose_key_thumbprint(keys[i], want[i]);
        EVP_PKEY *e = su_evp(keys[i]);
        X509 *c = su_cert(e, "small", NULL, NULL, false, now - 60, now + 3600, NULL);
        certs[i] = su_der(c);
        X509_free(c);
        EVP_PKEY_free(e);
    }
    assert_int_equal(scitt_key_cache_new(16, &cache), SCITT_OK);
    for (size_t round = 0; round < 3; round++) {
        for (size_t i = 0; i < SMALL; i++) {
            size_t at = (i * 7 + round) % SMALL;
            scitt_cose_key *k;
            uint8_t got[SCITT_SHA256_LEN];
            assert_int_equal(scitt_key_cache_get(cache, certs[at], &k), SCITT_OK);
            scitt_cose_key_thumbprint(k, got);
            assert_memory_equal(got, want[at], sizeof(got));
            scitt_cose_key_free(k);
        }
    }
    scitt_key_cache_free(cache);
    for (size_t i = 0; i < SMALL; i++) {
        scitt_cose_key_free(keys[i]);
        OPENSSL_free((void *)certs[i].ptr);
    }
    free(certs);
    free(first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_pinned_keys),
        cmocka_unit_test(test_x509_roots_and_time),
        cmocka_unit_test(test_did_x509),
        cmocka_unit_test(test_x509_purpose_binding_crls),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_key_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
