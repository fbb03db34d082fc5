/*
 * The cache of validation results in the admission check (ledger/policy_check.c): a statement
 * whose x5chain validated under a rule once is admitted next time from the cache, and the cache
 * never admits what a fresh validation refuses. Each attack row warms a fresh cache with an
 * admitted statement, then tries a statement or policy that differs in one thing the validation
 * depends on (the roots, a CRL, another rule's EKUs, the iss binding, the iss, did:x509, whether
 * times are checked, an instant outside the window, one byte of the chain, another leaf with the
 * same subject, a padded chain): each is refused, with the error a check without a cache gives.
 * If the cache name left out any of these, the row would be admitted from the warm cache. The
 * name itself is checked component by component, and so is the rule digest it includes.
 */
#include "testutil.h"
#include "stmt_util.h"

#include <pthread.h>
#include <time.h>

#include "policy_int.h"
#include "scitt/policy.h"
#include "scitt/x509.h"

#define ISS       "https://x509.example/pipeline/7"
#define ISS_OTHER "https://x509.example/pipeline/8"
#define SAN       "URI:" ISS
#define EKU_TLS   "1.3.6.1.5.5.7.3.1"

typedef struct world {
    int64_t now;
    scitt_cose_key *leaf_key, *mallory_key;
    EVP_PKEY *ca_evp, *ca2_evp, *leaf_evp, *mallory_evp;
    X509 *ca, *ca2, *leaf, *expired, *twin;
    scitt_span ca_der, ca2_der, leaf_der, expired_der, twin_der, flipped_der, ca_flipped_der;
    char *ca_j, *ca2_j, *crl_revoking_j, *crl_short_j;
    char did[512], did_wrong[512];
    int64_t leaf_nb, leaf_na, crl_next;
} world;

static world W;

static char *escaped_pem(X509 *c)
{
    char *pem = su_pem(c), *j = su_json_escape(pem);
    free(pem);
    return j;
}

/* A copy of @p der with its last byte (inside the signature) changed. */
static scitt_span flip_last(scitt_span der)
{
    uint8_t *p = OPENSSL_malloc(der.len);
    memcpy(p, der.ptr, der.len);
    p[der.len - 1] ^= 0x01;
    return scitt_span_make(p, der.len);
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    W.now = (int64_t)time(NULL);
    scitt_cose_key *ca_key, *ca2_key;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &ca_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &ca2_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &W.leaf_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &W.mallory_key), SCITT_OK);
    W.ca_evp = su_evp(ca_key);
    W.ca2_evp = su_evp(ca2_key);
    W.leaf_evp = su_evp(W.leaf_key);
    W.mallory_evp = su_evp(W.mallory_key);
    scitt_cose_key_free(ca_key);
    scitt_cose_key_free(ca2_key);
    /* Two CAs with the same name; only the first is a policy's root. */
    W.ca =
        su_cert(W.ca_evp, "Release CA", NULL, NULL, true, W.now - 86400, W.now + 86400 * 30, NULL);
    W.ca2 =
        su_cert(W.ca2_evp, "Release CA", NULL, NULL, true, W.now - 86400, W.now + 86400 * 30, NULL);
    W.leaf_nb = W.now - 3600;
    W.leaf_na = W.now + 86400;
    const char *ds = "critical,digitalSignature";
    W.leaf = su_leaf(W.leaf_evp, "builder", W.ca_evp, W.ca, W.leaf_nb, W.leaf_na, ds, "codeSigning",
                     SAN);
    W.expired = su_leaf(W.leaf_evp, "builder", W.ca_evp, W.ca, W.now - 86400 * 10,
                        W.now - 86400 * 5, ds, "codeSigning", SAN);
    /* Mallory's leaf: the same subject, SAN and purpose, from the CA of the same name. */
    W.twin = su_leaf(W.mallory_evp, "builder", W.ca2_evp, W.ca2, W.leaf_nb, W.leaf_na, ds,
                     "codeSigning", SAN);
    W.ca_der = su_der(W.ca);
    W.ca2_der = su_der(W.ca2);
    W.leaf_der = su_der(W.leaf);
    W.expired_der = su_der(W.expired);
    W.twin_der = su_der(W.twin);
    W.flipped_der = flip_last(W.leaf_der);
    W.ca_flipped_der = flip_last(W.ca_der);
    W.ca_j = escaped_pem(W.ca);
    W.ca2_j = escaped_pem(W.ca2);
    W.crl_next = W.now + 600;
    char *crl = su_crl_pem(W.ca_evp, W.ca, &W.leaf, 1, W.now - 3600, W.now + 86400);
    W.crl_revoking_j = su_json_escape(crl);
    free(crl);
    crl = su_crl_pem(W.ca_evp, W.ca, NULL, 0, W.now - 3600, W.crl_next);
    W.crl_short_j = su_json_escape(crl);
    free(crl);
    uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
    size_t fl;
    char b64[128];
    assert_int_equal(scitt_x509_fingerprint(W.ca_der, SCITT_X509_SHA256, fp, &fl), SCITT_OK);
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)), SCITT_OK);
    snprintf(W.did, sizeof(W.did), "did:x509:0:sha256:%s::subject:CN:builder", b64);
    snprintf(W.did_wrong, sizeof(W.did_wrong), "did:x509:0:sha256:%s::subject:CN:someone", b64);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt_span *spans[] = {&W.ca_der,   &W.ca2_der,     &W.leaf_der,      &W.expired_der,
                           &W.twin_der, &W.flipped_der, &W.ca_flipped_der};
    for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
        OPENSSL_free((void *)spans[i]->ptr);
    }
    X509 *certs[] = {W.ca, W.ca2, W.leaf, W.expired, W.twin};
    for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
        X509_free(certs[i]);
    }
    EVP_PKEY *keys[] = {W.ca_evp, W.ca2_evp, W.leaf_evp, W.mallory_evp};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        EVP_PKEY_free(keys[i]);
    }
    scitt_cose_key_free(W.leaf_key);
    scitt_cose_key_free(W.mallory_key);
    free(W.ca_j);
    free(W.ca2_j);
    free(W.crl_revoking_j);
    free(W.crl_short_j);
    return 0;
}

/* ---- policies ---------------------------------------------------------------------------- */

enum {
    P_BASE,      /* x509_roots [CA] for https://x509.example/ issuers */
    P_ROOTS2,    /* ...with the other CA of the same name as the root */
    P_CRL,       /* ...with a CRL revoking the leaf */
    P_CRL_SHORT, /* ...with a CRL that revokes nothing and expires in 10 minutes */
    P_EKU,       /* ...requiring the TLS server EKU */
    P_BIND,      /* ...with bind_iss san_uri */
    P_OFF,       /* ...without time checks */
    P_IAT,       /* ...with times checked at iat */
    P_DIDROOTS,  /* did:x509 issuers under x509_roots [CA], as a plain prefix */
    P_DID,       /* did_x509 rule with x509_roots [CA] */
    NPOLICIES
};

static scitt_policy *policy(int which)
{
    char doc[32768];
    const char *time = which == P_OFF ? "off" : which == P_IAT ? "iat" : "registration";
    const char *root = which == P_ROOTS2 ? W.ca2_j : W.ca_j;
    char extra[8192] = "";
    if (which == P_CRL || which == P_CRL_SHORT) {
        snprintf(extra, sizeof(extra), ", \"crls\": [\"%s\"]",
                 which == P_CRL ? W.crl_revoking_j : W.crl_short_j);
    } else if (which == P_EKU) {
        snprintf(extra, sizeof(extra), ", \"eku\": [\"" EKU_TLS "\"]");
    } else if (which == P_BIND) {
        snprintf(extra, sizeof(extra), ", \"bind_iss\": \"san_uri\"");
    }
    const char *matcher = which == P_DID        ? "\"did_x509\": true"
                          : which == P_DIDROOTS ? "\"iss_prefix\": \"did:x509:\""
                                                : "\"iss_prefix\": \"https://x509.example/\"";
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"x509_time\": \"%s\", \"issuers\": [{%s, \"x509_roots\": "
             "[\"%s\"]%s}]}",
             time, matcher, root, extra);
    scitt_policy *p;
    char reason[256];
    if (scitt_policy_parse(scitt_span_str(doc), &p, reason, sizeof(reason)) != SCITT_OK) {
        fail_msg("policy %d: %s", which, reason);
    }
    return p;
}

/* ---- statements -------------------------------------------------------------------------- */

enum {
    S_GOOD,        /* ISS, [leaf, CA], signed by the leaf's key */
    S_OTHER_ISS,   /* ISS_OTHER (not the leaf's SAN URI), [leaf, CA] */
    S_EXPIRED,     /* ISS, [expired leaf, CA] */
    S_FLIPPED,     /* ISS, [leaf with one byte changed, CA] */
    S_CA_FLIPPED,  /* ISS, [leaf, CA with one byte changed] */
    S_TWIN,        /* ISS, [Mallory's leaf of the same subject, the other CA], Mallory's key */
    S_PADDED,      /* ISS, [leaf, CA, the other CA] */
    S_DID,         /* the leaf's did:x509, [leaf, CA] */
    S_DID_WRONG,   /* a did:x509 whose predicate the leaf does not satisfy, [leaf, CA] */
    S_IAT_NOW,     /* ISS, iat now */
    S_IAT_LATE,    /* ISS, iat at the leaf's notAfter */
    S_IAT_EARLY,   /* ISS, iat a second before the leaf's notBefore */
    S_IAT_NOW_ALT, /* ISS, iat a minute later than S_IAT_NOW: the same chain, iss and rule */
    NSTATEMENTS
};

static void statement(int which, scitt_dynbuf *out)
{
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = ISS;
    o.sub = "pkg:cache";
    scitt_span chain[3] = {W.leaf_der, W.ca_der, W.ca2_der};
    o.x5chain = chain;
    o.nx5chain = 2;
    const scitt_cose_key *k = W.leaf_key;
    switch (which) {
    case S_OTHER_ISS:
        o.iss = ISS_OTHER;
        break;
    case S_EXPIRED:
        chain[0] = W.expired_der;
        break;
    case S_FLIPPED:
        chain[0] = W.flipped_der;
        break;
    case S_CA_FLIPPED:
        chain[1] = W.ca_flipped_der;
        break;
    case S_TWIN:
        chain[0] = W.twin_der;
        chain[1] = W.ca2_der;
        k = W.mallory_key;
        break;
    case S_PADDED:
        o.nx5chain = 3;
        break;
    case S_DID:
        o.iss = W.did;
        break;
    case S_DID_WRONG:
        o.iss = W.did_wrong;
        break;
    case S_IAT_NOW:
    case S_IAT_LATE:
    case S_IAT_EARLY:
    case S_IAT_NOW_ALT:
        o.has_iat = true;
        o.iat = which == S_IAT_NOW     ? W.now
                : which == S_IAT_LATE  ? W.leaf_na
                : which == S_IAT_EARLY ? W.leaf_nb - 1
                                       : W.now + 60;
        break;
    default:
        break;
    }
    scitt_dynbuf_init(out, 0);
    assert_int_equal(su_statement(k, &o, scitt_span_str("{\"cache\": true}"), out), SCITT_OK);
}

/* The admission check of statement @p s under policy @p p at @p now, through @p cache. */
static scitt_err check(const scitt_policy *p, int s, int64_t now, scitt_key_cache *cache,
                       char *reason)
{
    scitt_dynbuf b;
    statement(s, &b);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(b.ptr, b.len), 0, &m), SCITT_OK);
    scitt_policy_decision d;
    scitt_err e = scitt_policy_check(p, &m, now, cache, &d, reason, SCITT_POLICY_REASON_MAX);
    scitt_dynbuf_clear(&b);
    return e;
}

/* ---- tests ------------------------------------------------------------------------------- */

/* A second look-up is a hit, in each of the rule kinds, and a hit gives the same decision. */
static void test_hits(void **state)
{
    (void)state;
    static const struct {
        int policy, statement;
    } rows[] = {{P_BASE, S_GOOD},   {P_CRL_SHORT, S_GOOD}, {P_BIND, S_GOOD}, {P_OFF, S_EXPIRED},
                {P_IAT, S_IAT_NOW}, {P_DIDROOTS, S_DID},   {P_DID, S_DID}};
    char reason[SCITT_POLICY_REASON_MAX];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_policy *p = policy(rows[i].policy);
        scitt_key_cache *c;
        assert_int_equal(scitt_key_cache_new(64, &c), SCITT_OK);
        assert_int_equal(check(p, rows[i].statement, W.now, NULL, reason), SCITT_OK);
        assert_int_equal(check(p, rows[i].statement, W.now, c, reason), SCITT_OK);
        assert_int_equal(scitt__key_cache_hits(c), 0);
        for (uint64_t n = 1; n <= 3; n++) {
            assert_int_equal(check(p, rows[i].statement, W.now + (int64_t)n, c, reason), SCITT_OK);
            if (scitt__key_cache_hits(c) != n) {
                fail_msg("row %zu: %llu hits after %llu look-ups", i,
                         (unsigned long long)scitt__key_cache_hits(c), (unsigned long long)n);
            }
        }
        scitt_key_cache_free(c);
        scitt_policy_free(p);
    }
    /* Under iat, another statement with the same chain and iss whose iat is in the window is
     * the same entry. */
    scitt_policy *p = policy(P_IAT);
    scitt_key_cache *c;
    assert_int_equal(scitt_key_cache_new(64, &c), SCITT_OK);
    assert_int_equal(check(p, S_IAT_NOW, W.now, c, reason), SCITT_OK);
    assert_int_equal(check(p, S_IAT_NOW_ALT, W.now, c, reason), SCITT_OK);
    assert_int_equal(scitt__key_cache_hits(c), 1);
    scitt_key_cache_free(c);
    scitt_policy_free(p);
}

/*
 * The attacks: warm a fresh cache with (warm policy, warm statement) at now, then try (policy,
 * statement) at @p at: refused with what a check without the cache says, and no hit counted.
 */
static void test_warm_cache_refuses(void **state)
{
    (void)state;
    static const struct {
        const char *why;
        int warm_policy, warm_statement;
        int policy, statement;
        int64_t at; /* offset: 0 now; AT_NA the leaf's notAfter; AT_NB_1 before its notBefore;
                       AT_CRL the CRL's nextUpdate */
        scitt_err want;
    } rows[] = {
#define AT_NA   1
#define AT_NB_1 2
#define AT_CRL  3
        {"other roots (a CA of the same name)", P_BASE, S_GOOD, P_ROOTS2, S_GOOD, 0,
         SCITT_ERR_UNTRUSTED},
        {"a CRL revoking the leaf", P_BASE, S_GOOD, P_CRL, S_GOOD, 0, SCITT_ERR_CERT_CHAIN},
        {"another rule (EKU)", P_BASE, S_GOOD, P_EKU, S_GOOD, 0, SCITT_ERR_POLICY},
        {"the iss binding", P_BASE, S_OTHER_ISS, P_BIND, S_OTHER_ISS, 0, SCITT_ERR_POLICY},
        {"another iss under the binding", P_BIND, S_GOOD, P_BIND, S_OTHER_ISS, 0, SCITT_ERR_POLICY},
        {"did:x509 resolution", P_DIDROOTS, S_DID_WRONG, P_DID, S_DID_WRONG, 0,
         SCITT_ERR_DID_MISMATCH},
        {"another did:x509 for the same chain", P_DID, S_DID, P_DID, S_DID_WRONG, 0,
         SCITT_ERR_DID_MISMATCH},
        {"times checked after a policy that did not", P_OFF, S_EXPIRED, P_BASE, S_EXPIRED, 0,
         SCITT_ERR_EXPIRED},
        {"at the leaf's notAfter", P_BASE, S_GOOD, P_BASE, S_GOOD, AT_NA, SCITT_ERR_EXPIRED},
        {"before the leaf's notBefore", P_BASE, S_GOOD, P_BASE, S_GOOD, AT_NB_1, SCITT_ERR_EXPIRED},
        {"at the CRL's nextUpdate", P_CRL_SHORT, S_GOOD, P_CRL_SHORT, S_GOOD, AT_CRL,
         SCITT_ERR_EXPIRED},
        {"an iat at the leaf's notAfter", P_IAT, S_IAT_NOW, P_IAT, S_IAT_LATE, 0,
         SCITT_ERR_EXPIRED},
        {"an iat before the leaf's notBefore", P_IAT, S_IAT_NOW, P_IAT, S_IAT_EARLY, 0,
         SCITT_ERR_EXPIRED},
        {"one byte of the leaf changed", P_BASE, S_GOOD, P_BASE, S_FLIPPED, 0,
         SCITT_ERR_CERT_CHAIN},
        {"one byte of the CA changed", P_BASE, S_GOOD, P_BASE, S_CA_FLIPPED, 0,
         SCITT_ERR_CERT_CHAIN},
        {"another leaf with the same subject", P_BASE, S_GOOD, P_BASE, S_TWIN, 0,
         SCITT_ERR_UNTRUSTED},
        {"a padded chain", P_BASE, S_GOOD, P_BASE, S_PADDED, 0, SCITT_ERR_CERT_CHAIN},
    };
    scitt_policy *p[NPOLICIES];
    for (int i = 0; i < NPOLICIES; i++) {
        p[i] = policy(i);
    }
    char reason[SCITT_POLICY_REASON_MAX], fresh[SCITT_POLICY_REASON_MAX];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t at = rows[i].at == AT_NA     ? W.leaf_na
                     : rows[i].at == AT_NB_1 ? W.leaf_nb - 1
                     : rows[i].at == AT_CRL  ? W.crl_next
                                             : W.now;
        scitt_key_cache *c;
        assert_int_equal(scitt_key_cache_new(64, &c), SCITT_OK);
        /* warm: admitted, then admitted again from the cache */
        const scitt_policy *wp = p[rows[i].warm_policy];
        if (check(wp, rows[i].warm_statement, W.now, c, reason) != SCITT_OK ||
            check(wp, rows[i].warm_statement, W.now, c, reason) != SCITT_OK ||
            scitt__key_cache_hits(c) != 1) {
            fail_msg("row %zu (%s): the warm statement: %s", i, rows[i].why, reason);
        }
        scitt_err want = check(p[rows[i].policy], rows[i].statement, at, NULL, fresh);
        if (want != rows[i].want) {
            fail_msg("row %zu (%s): without a cache %s (%s), wanted %s", i, rows[i].why,
                     scitt_err_name(want), fresh, scitt_err_name(rows[i].want));
        }
        scitt_err got = check(p[rows[i].policy], rows[i].statement, at, c, reason);
        if (got != want || strcmp(reason, fresh) != 0) {
            fail_msg("row %zu (%s): with the warm cache %s (%s), without %s (%s)", i, rows[i].why,
                     scitt_err_name(got), reason, scitt_err_name(want), fresh);
        }
        assert_int_equal(scitt__key_cache_hits(c), 1);
        /* and the warm entry still serves what it was made for */
        assert_int_equal(check(wp, rows[i].warm_statement, W.now, c, reason), SCITT_OK);
        assert_int_equal(scitt__key_cache_hits(c), 2);
        scitt_key_cache_free(c);
    }
#undef AT_NA
#undef AT_NB_1
#undef AT_CRL
    for (int i = 0; i < NPOLICIES; i++) {
        scitt_policy_free(p[i]);
    }
}

/* The window: a hit inside it, up to the last second; a fresh validation just outside. */
static void test_window_edges(void **state)
{
    (void)state;
    char reason[SCITT_POLICY_REASON_MAX];
    scitt_policy *p = policy(P_CRL_SHORT);
    scitt_key_cache *c;
    assert_int_equal(scitt_key_cache_new(64, &c), SCITT_OK);
    assert_int_equal(check(p, S_GOOD, W.now, c, reason), SCITT_OK);
    /* the window is [the CRL's thisUpdate, its nextUpdate) */
    assert_int_equal(check(p, S_GOOD, W.now - 3600, c, reason), SCITT_OK);
    assert_int_equal(check(p, S_GOOD, W.crl_next - 1, c, reason), SCITT_OK);
    assert_int_equal(scitt__key_cache_hits(c), 2);
    assert_int_equal(check(p, S_GOOD, W.crl_next, c, reason), SCITT_ERR_EXPIRED);
    assert_int_equal(check(p, S_GOOD, W.now - 3601, c, reason), SCITT_ERR_EXPIRED);
    assert_int_equal(scitt__key_cache_hits(c), 2);
    scitt_key_cache_free(c);
    scitt_policy_free(p);
}

/* The cache name changes with each of its components, and the rule digest with each of its. */
static void test_name_components(void **state)
{
    (void)state;
    uint8_t d[SCITT_SHA256_LEN], d2[SCITT_SHA256_LEN];
    memset(d, 7, sizeof(d));
    memcpy(d2, d, sizeof(d));
    d2[31] ^= 1;
    uint8_t a[4] = {1, 2, 3, 4}, a2[4] = {1, 2, 3, 5}, b[3] = {5, 6, 7},
            ab[7] = {1, 2, 3, 4, 5, 6, 7};
    scitt_span chain[] = {scitt_span_make(a, 4), scitt_span_make(b, 3)};
    scitt_span chain_a2[] = {scitt_span_make(a2, 4), scitt_span_make(b, 3)};
    scitt_span shifted[] = {scitt_span_make(ab, 5), scitt_span_make(ab + 5, 2)};
    scitt_span joined[] = {scitt_span_make(ab, 7)};
    scitt_span padded[] = {scitt_span_make(a, 4), scitt_span_make(b, 3), scitt_span_make(b, 3)};
    scitt_span iss = scitt_span_str(ISS), iss2 = scitt_span_str(ISS_OTHER);
    uint8_t base[SCITT_SHA256_LEN], v[9][SCITT_SHA256_LEN];
    assert_true(scitt__policy_cache_key(d, true, iss, chain, 2, base));
    assert_true(scitt__policy_cache_key(d2, true, iss, chain, 2, v[0]));   /* rule */
    assert_true(scitt__policy_cache_key(d, false, iss, chain, 2, v[1]));   /* times */
    assert_true(scitt__policy_cache_key(d, true, iss2, chain, 2, v[2]));   /* iss */
    assert_true(scitt__policy_cache_key(d, true, iss, chain_a2, 2, v[3])); /* a byte */
    assert_true(scitt__policy_cache_key(d, true, iss, shifted, 2, v[4]));  /* boundary */
    assert_true(scitt__policy_cache_key(d, true, iss, joined, 1, v[5]));   /* count */
    assert_true(scitt__policy_cache_key(d, true, iss, padded, 3, v[6]));   /* padding */
    assert_true(scitt__policy_cache_key(d, true, iss, chain, 1, v[7]));    /* leaf only */
    assert_true(scitt__policy_cache_key(d, true, scitt_span_make(ISS, sizeof(ISS) - 2), chain, 2,
                                        v[8])); /* iss one character shorter */
    for (size_t i = 0; i < 9; i++) {
        if (memcmp(base, v[i], sizeof(base)) == 0) {
            fail_msg("variant %zu has the base's name", i);
        }
        for (size_t j = 0; j < i; j++) {
            assert_memory_not_equal(v[i], v[j], sizeof(base));
        }
    }
    uint8_t again[SCITT_SHA256_LEN];
    assert_true(scitt__policy_cache_key(d, true, iss, chain, 2, again));
    assert_memory_equal(base, again, sizeof(base));
    scitt_span many[SCITT_LIMIT_X5CHAIN_CERTS + 1];
    for (size_t i = 0; i < SCITT_LIMIT_X5CHAIN_CERTS + 1; i++) {
        many[i] = chain[0];
    }
    assert_false(scitt__policy_cache_key(d, true, iss, many, SCITT_LIMIT_X5CHAIN_CERTS + 1, again));

    /* Rule digests: the roots, a CRL, the EKUs, the binding, did_x509 each change it; the same
     * document gives the same digest. */
    int distinct[] = {P_BASE, P_ROOTS2, P_CRL, P_CRL_SHORT, P_EKU, P_BIND, P_DID};
    uint8_t dg[7][SCITT_SHA256_LEN];
    for (size_t i = 0; i < 7; i++) {
        scitt_policy *p = policy(distinct[i]);
        memcpy(dg[i], p->rules[0].digest, SCITT_SHA256_LEN);
        scitt_policy_free(p);
        for (size_t j = 0; j < i; j++) {
            if (memcmp(dg[i], dg[j], SCITT_SHA256_LEN) == 0) {
                fail_msg("policies %d and %d have the same rule digest", distinct[i], distinct[j]);
            }
        }
    }
    scitt_policy *p = policy(P_BASE);
    assert_memory_equal(p->rules[0].digest, dg[0], SCITT_SHA256_LEN);
    scitt_policy_free(p);
    /* two EKU lists that differ in one OID, or in their number */
    const char *ekus[] = {"[\"1.2.3\"]", "[\"1.2.4\"]", "[\"1.2.3\", \"1.2.4\"]"};
    uint8_t de[3][SCITT_SHA256_LEN];
    for (size_t i = 0; i < 3; i++) {
        char doc[16384];
        snprintf(doc, sizeof(doc),
                 "{\"version\": 1, \"issuers\": [{\"iss\": \"a\", \"x509_roots\": [\"%s\"], "
                 "\"eku\": %s}]}",
                 W.ca_j, ekus[i]);
        char reason[256];
        assert_int_equal(scitt_policy_parse(scitt_span_str(doc), &p, reason, sizeof(reason)),
                         SCITT_OK);
        memcpy(de[i], p->rules[0].digest, SCITT_SHA256_LEN);
        scitt_policy_free(p);
    }
    assert_memory_not_equal(de[0], de[1], SCITT_SHA256_LEN);
    assert_memory_not_equal(de[0], de[2], SCITT_SHA256_LEN);
    assert_memory_not_equal(de[1], de[2], SCITT_SHA256_LEN);
}

/* A cache far smaller than the fleet: every statement still admitted with its own key, and a
 * revoked or foreign one still refused, while entries evict each other. */
static void test_small_cache(void **state)
{
    (void)state;
    enum { FLEET = 24 };
    char reason[SCITT_POLICY_REASON_MAX];
    scitt_policy *p = policy(P_BASE);
    scitt_cose_key *keys[FLEET];
    scitt_span ders[FLEET];
    X509 *certs[FLEET];
    for (size_t i = 0; i < FLEET; i++) {
        assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &keys[i]), SCITT_OK);
        EVP_PKEY *e = su_evp(keys[i]);
        certs[i] = su_leaf(e, "builder", W.ca_evp, W.ca, W.leaf_nb, W.leaf_na,
                           "critical,digitalSignature", "codeSigning", SAN);
        ders[i] = su_der(certs[i]);
        EVP_PKEY_free(e);
    }
    scitt_key_cache *c;
    assert_int_equal(scitt_key_cache_new(8, &c), SCITT_OK);
    for (size_t round = 0; round < 3; round++) {
        for (size_t i = 0; i < FLEET; i++) {
            size_t at = (i * 5 + round) % FLEET;
            su_opts o;
            memset(&o, 0, sizeof(o));
            o.iss = ISS;
            o.sub = "s";
            scitt_span chain[2] = {ders[at], W.ca_der};
            o.x5chain = chain;
            o.nx5chain = 2;
            for (int signer = 0; signer < 2; signer++) {
                /* the right key, then the next certificate's key: a bad signature */
                scitt_dynbuf b;
                scitt_dynbuf_init(&b, 0);
                assert_int_equal(
                    su_statement(keys[(at + (size_t)signer) % FLEET], &o, scitt_span_str("x"), &b),
                    SCITT_OK);
                scitt_cose_sign1 m;
                assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(b.ptr, b.len), 0, &m),
                                 SCITT_OK);
                scitt_policy_decision d;
                assert_int_equal(scitt_policy_check(p, &m, W.now, c, &d, reason, sizeof(reason)),
                                 signer ? SCITT_ERR_SIGNATURE : SCITT_OK);
                scitt_dynbuf_clear(&b);
            }
        }
        assert_int_equal(check(p, S_TWIN, W.now, c, reason), SCITT_ERR_UNTRUSTED);
    }
    assert_true(scitt__key_cache_hits(c) > 0);
    scitt_key_cache_free(c);
    for (size_t i = 0; i < FLEET; i++) {
        scitt_cose_key_free(keys[i]);
        OPENSSL_free((void *)ders[i].ptr);
        X509_free(certs[i]);
    }
    scitt_policy_free(p);
}

/* Threads sharing one small cache and two policies: the same answers as without it. */
typedef struct thread_arg {
    scitt_policy *base, *crl;
    scitt_key_cache *cache;
    int failures;
} thread_arg;

static void *worker(void *arg)
{
    thread_arg *t = arg;
    char reason[SCITT_POLICY_REASON_MAX];
    for (int i = 0; i < 60; i++) {
        t->failures += check(t->base, S_GOOD, W.now, t->cache, reason) != SCITT_OK;
        t->failures += check(t->crl, S_GOOD, W.now, t->cache, reason) != SCITT_ERR_CERT_CHAIN;
        t->failures += check(t->base, S_TWIN, W.now, t->cache, reason) != SCITT_ERR_UNTRUSTED;
        t->failures += check(t->base, S_GOOD, W.leaf_na, t->cache, reason) != SCITT_ERR_EXPIRED;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    scitt_key_cache *c;
    assert_int_equal(scitt_key_cache_new(8, &c), SCITT_OK);
    scitt_policy *base = policy(P_BASE), *crl = policy(P_CRL);
    pthread_t th[THREADS];
    thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (thread_arg){base, crl, c, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    assert_true(scitt__key_cache_hits(c) > 0);
    scitt_key_cache_free(c);
    scitt_policy_free(base);
    scitt_policy_free(crl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits),         cmocka_unit_test(test_warm_cache_refuses),
        cmocka_unit_test(test_window_edges), cmocka_unit_test(test_name_components),
        cmocka_unit_test(test_small_cache),  cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
