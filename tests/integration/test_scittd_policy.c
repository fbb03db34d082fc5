/*
 * scittd's registration policy over real HTTP with X.509 issuers: the development policy
 * (self-signed x5chain leaves, flagged in the configuration), x509_roots rules with path
 * validation and validity times at registration, and did:x509 issuers resolved against their
 * x5chain. Certificates are made at test time; every accepted statement's receipt verifies and
 * every refusal is a 400 problem naming the check.
 *
 * Run as `test_scittd_policy <case>`: each ctest entry runs one case with its own daemon.
 */
#include "scittd_util.h"

#include <time.h>

#include "scitt/x509.h"

static sd_daemon sd;

typedef struct pki {
    scitt_cose_key *ca_key, *leaf_key, *other_ca_key;
    EVP_PKEY *ca, *leaf, *other_ca;
    X509 *ca_cert, *leaf_cert, *expired_cert, *self_cert, *other_ca_cert, *stranger_cert;
    scitt_span ca_der, leaf_der, expired_der, self_der, other_ca_der, stranger_der;
} pki;

static pki w;

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &w.ca_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &w.leaf_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &w.other_ca_key), SCITT_OK);
    w.ca = su_evp(w.ca_key);
    w.leaf = su_evp(w.leaf_key);
    w.other_ca = su_evp(w.other_ca_key);
    w.ca_cert =
        su_cert(w.ca, "Test Root CA", NULL, NULL, true, now - 86400 * 30, now + 86400 * 365, NULL);
    w.leaf_cert =
        su_cert(w.leaf, "builder", w.ca, w.ca_cert, false, now - 3600, now + 86400, "codeSigning");
    w.expired_cert = su_cert(w.leaf, "builder", w.ca, w.ca_cert, false, now - 86400 * 10,
                             now - 86400 * 5, "codeSigning");
    w.self_cert = su_cert(w.leaf, "builder", NULL, NULL, false, now - 3600, now + 86400, NULL);
    w.other_ca_cert = su_cert(w.other_ca, "Other Root CA", NULL, NULL, true, now - 86400 * 30,
                              now + 86400 * 365, NULL);
    w.stranger_cert = su_cert(w.leaf, "builder", w.other_ca, w.other_ca_cert, false, now - 3600,
                              now + 86400, "codeSigning");
    w.ca_der = su_der(w.ca_cert);
    w.leaf_der = su_der(w.leaf_cert);
    w.expired_der = su_der(w.expired_cert);
    w.self_der = su_der(w.self_cert);
    w.other_ca_der = su_der(w.other_ca_cert);
    w.stranger_der = su_der(w.stranger_cert);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt_cose_key_free(w.ca_key);
    scitt_cose_key_free(w.leaf_key);
    scitt_cose_key_free(w.other_ca_key);
    EVP_PKEY_free(w.ca);
    EVP_PKEY_free(w.leaf);
    EVP_PKEY_free(w.other_ca);
    X509 *certs[] = {w.ca_cert,   w.leaf_cert,     w.expired_cert,
                     w.self_cert, w.other_ca_cert, w.stranger_cert};
    scitt_span ders[] = {w.ca_der,   w.leaf_der,     w.expired_der,
                         w.self_der, w.other_ca_der, w.stranger_der};
    for (size_t i = 0; i < 6; i++) {
        X509_free(certs[i]);
        OPENSSL_free((void *)ders[i].ptr);
    }
    memset(&w, 0, sizeof(w));
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

/* A statement by @p key for @p iss carrying @p chain in its protected x5chain (n may be 0). */
static void x5_statement(const scitt_cose_key *key, const char *iss, const scitt_span *chain,
                         size_t n, bool kid, scitt_dynbuf *out)
{
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = iss;
    o.sub = "pkg:x509";
    o.x5chain = chain;
    o.nx5chain = n;
    o.with_kid = kid;
    o.content_type = "application/json";
    scitt_dynbuf_init(out, 0);
    assert_int_equal(su_statement(key, &o, scitt_span_str("{\"x509\": true}"), out), SCITT_OK);
}

static void expect_rejected(scitt_dynbuf *st, const char *title, const char *detail)
{
    it_resp *r = sd_post(&sd, scitt_span_make(st->ptr, st->len), NULL);
    sd_expect_problem(r, 400, title, detail);
    free(r);
    scitt_dynbuf_clear(st);
}

/* No --policy: the development policy, flagged; self-signed x5chain leaves are accepted. */
static void test_development_policy(void **state)
{
    (void)state;
    sd_start(&sd, NULL);
    sd_config c;
    sd_get_config(&sd, &c);
    assert_true(c.has_policy_warning);
    assert_int_equal(c.policy_entry, 0);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf st;
    x5_statement(w.leaf_key, "https://anyone.example", &w.self_der, 1, false, &st);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&st);
    /* without an x5chain there is no key to check the signature with */
    x5_statement(w.leaf_key, "https://anyone.example", NULL, 0, true, &st);
    expect_rejected(&st, "Rejected", "x5chain");
    /* a leaf whose key did not sign the statement */
    x5_statement(w.ca_key, "https://anyone.example", &w.self_der, 1, false, &st);
    expect_rejected(&st, "Bad Signature", "signature");
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* The CA certificate as a JSON string (PEM with its newlines escaped). */
static void ca_json(char *out, size_t cap)
{
    char *pem = su_pem(w.ca_cert);
    size_t o = 0;
    for (const char *c = pem; *c && o + 3 < cap; c++) {
        if (*c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *c;
        }
    }
    out[o] = 0;
    free(pem);
}

/*
 * x509_roots for an issuer prefix and a did:x509 rule under the same root: chains that validate
 * at registration time are accepted; an expired leaf, a leaf of another CA, a missing x5chain, a
 * did:x509 naming another subject or another CA are refused with the check named.
 */
static void test_x509_policy(void **state)
{
    (void)state;
    static char pem[8192], doc[20000];
    ca_json(pem, sizeof(pem));
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"x509_time\": \"registration\", \"issuers\": ["
             "{\"iss_prefix\": \"https://ci.example/\", \"x509_roots\": [\"%s\"]}, "
             "{\"did_x509\": true, \"x509_roots\": [\"%s\"]}]}\n",
             pem, pem);
    sd_write_file(sd_path(&sd, "policy.json"), doc, strlen(doc));
    sd_start_policy(&sd, NULL);
    sd_config c;
    sd_get_config(&sd, &c);
    assert_false(c.has_policy_warning);
    scitt_cose_keyset *keys = sd_keys(&sd);

    scitt_span good[2] = {w.leaf_der, w.ca_der};
    scitt_dynbuf st;
    x5_statement(w.leaf_key, "https://ci.example/pipeline/7", good, 2, false, &st);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&st);

    scitt_span expired[2] = {w.expired_der, w.ca_der};
    x5_statement(w.leaf_key, "https://ci.example/pipeline/7", expired, 2, false, &st);
    expect_rejected(&st, "Rejected", "x5chain does not validate");
    scitt_span stranger[2] = {w.stranger_der, w.other_ca_der};
    x5_statement(w.leaf_key, "https://ci.example/pipeline/7", stranger, 2, false, &st);
    expect_rejected(&st, "Rejected", "x5chain does not validate");
    x5_statement(w.leaf_key, "https://ci.example/pipeline/7", &w.self_der, 1, false, &st);
    expect_rejected(&st, "Rejected", "x5chain does not validate");
    x5_statement(w.leaf_key, "https://ci.example/pipeline/7", NULL, 0, true, &st);
    expect_rejected(&st, "Rejected", "x5chain");
    x5_statement(w.leaf_key, "https://elsewhere.example/", good, 2, false, &st);
    expect_rejected(&st, "Rejected", "issuer");

    /* did:x509 pinning the CA by its SHA-256 fingerprint and the leaf by its CN. */
    uint8_t fp[64];
    size_t fl;
    assert_int_equal(scitt_x509_fingerprint(w.ca_der, SCITT_X509_SHA256, fp, &fl), SCITT_OK);
    char b64[96], did[256];
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)), SCITT_OK);
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:builder", b64);
    x5_statement(w.leaf_key, did, good, 2, false, &st);
    scitt_receipt_info info;
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), &info, NULL), 2);
    scitt_dynbuf_clear(&st);
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:someone-else", b64);
    x5_statement(w.leaf_key, did, good, 2, false, &st);
    expect_rejected(&st, "Rejected", "did:x509");
    assert_int_equal(scitt_x509_fingerprint(w.other_ca_der, SCITT_X509_SHA256, fp, &fl), SCITT_OK);
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)), SCITT_OK);
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:builder", b64);
    x5_statement(w.leaf_key, did, stranger, 2, false, &st);
    expect_rejected(&st, "Rejected", "x5chain does not validate");

    /* Only the two accepted statements (and the policy) are in the log. */
    sd_checkpoint cp;
    sd_get_checkpoint(&sd, &c, &cp);
    assert_int_equal(cp.cp.size, 3);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* Runs scittd on the test's data directory with @p extra args, stderr captured; its exit status
 * (-1: still running after 10 s, then killed). */
static int run_scittd(const char *const *extra, char *out, size_t cap)
{
    const char *argv[40] = {"sh",
                            "-c",
                            "exec \"$0\" \"$@\" 2>&1",
                            sd_bin(),
                            "--data",
                            sd.data,
                            "--listen",
                            "127.0.0.1:0",
                            "--platform",
                            "virtual",
                            "--insecure-virtual",
                            "--log-level",
                            "warn"}; /* the listener opens first: no info line before the error */
    size_t n = 13;
    for (size_t i = 0; extra && extra[i] && n < 39; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    return it_run(argv, out, cap, 10000);
}

/*
 * A policy change is the operator's explicit act: scittd started without --policy on a log whose
 * policy in force is not the development policy refuses to start (exit 2, one line saying how)
 * and writes nothing; with the policy in force it starts as before; naming a new policy changes
 * it at the next index.
 */
static void test_policy_restart(void **state)
{
    (void)state;
    static char doc[1024], doc2[1024];
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"self_signed\": true}]}\n");
    snprintf(doc2, sizeof(doc2),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"self_signed\": true}], \"algorithms\": [\"ES256\"]}\n");
    static char p1[256], p2[256];
    snprintf(p1, sizeof(p1), "%s", sd_path(&sd, "policy.json"));
    snprintf(p2, sizeof(p2), "%s", sd_path(&sd, "policy2.json"));
    sd_write_file(p1, doc, strlen(doc));
    sd_write_file(p2, doc2, strlen(doc2));
    const char *with_p1[] = {"--policy", p1, NULL};
    sd_start(&sd, with_p1);
    sd_config c;
    sd_get_config(&sd, &c);
    assert_int_equal(c.policy_entry, 0);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf st;
    x5_statement(w.leaf_key, "https://ci.example/a", &w.self_der, 1, false, &st);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL), 1);
    scitt_dynbuf_clear(&st);
    sd_stop(&sd);

    /* no --policy: refused, one line naming the way out; an empty --policy file is no policy */
    static char out[8192];
    int rc = run_scittd(NULL, out, sizeof(out));
    if (rc != 2 || !strstr(out, "policy in force (entry 0)") || !strstr(out, "--policy FILE") ||
        strchr(out, '\n') != out + strlen(out) - 1) {
        fail_msg("restart without --policy: exit %d, output: %s", rc, out);
    }
    static char empty[256];
    snprintf(empty, sizeof(empty), "%s", sd_path(&sd, "empty.json"));
    sd_write_file(empty, "", 0);
    const char *with_empty[] = {"--policy", empty, NULL};
    rc = run_scittd(with_empty, out, sizeof(out));
    if (rc != 2 || !strstr(out, "JSON")) {
        fail_msg("restart with an empty --policy file: exit %d, output: %s", rc, out);
    }

    /* the policy in force, named: same entry, nothing new in the log */
    sd_start(&sd, with_p1);
    sd_get_config(&sd, &c);
    assert_int_equal(c.policy_entry, 0);
    sd_checkpoint cp;
    sd_get_checkpoint(&sd, &c, &cp);
    assert_int_equal(cp.cp.size, 2);
    sd_stop(&sd);

    /* a new policy, named: registered at the next index */
    const char *with_p2[] = {"--policy", p2, NULL};
    sd_start(&sd, with_p2);
    sd_get_config(&sd, &c);
    assert_int_equal(c.policy_entry, 2);
    sd_get_checkpoint(&sd, &c, &cp);
    assert_int_equal(cp.cp.size, 3);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_development_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x509_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_restart, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
