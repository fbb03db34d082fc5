/*
 * scitt/verify.h: the checks that make a transparent statement verify, without the CLI. A good
 * statement passes every check; then each check is made to fail for its own reason (one broken
 * input per case), and the result must name that check as failed with that reason, and only it.
 */
#include "testutil.h"

#include "memtree.h"
#include "stmt_util.h"

#include "scitt/merkle.h"
#include "scitt/receipt.h"
#include "scitt/verify.h"

static scitt_cose_key *issuer, *other, *svc, *svc2;
static scitt_cose_keyset *trusted, *untrusted;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(scitt_cose_key_generate(0, &issuer), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(0, &other), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(0, &svc), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_EDDSA, &svc2), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_new(&trusted), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_add(trusted, svc), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_new(&untrusted), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_add(untrusted, svc2), SCITT_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt_cose_keyset_free(trusted);
    scitt_cose_keyset_free(untrusted);
    scitt_cose_key_free(issuer);
    scitt_cose_key_free(other);
    scitt_cose_key_free(svc);
    scitt_cose_key_free(svc2);
    return 0;
}

/* The inclusion receipt, by @p key, of @p stmt as leaf 1 of a three-leaf tree. */
static void receipt_for(const scitt_cose_key *key, scitt_span stmt, scitt_dynbuf *out)
{
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    assert_non_null(m);
    assert_int_equal(scitt_cose_sign1_decode(stmt, 0, m), SCITT_OK);
    uint8_t leaf[32], other_leaf[32] = {7}, root[32], path[SCITT_LIMIT_PROOF_HASHES][32];
    scitt_receipt_leaf_hash(m, leaf);
    free(m);
    memtree t;
    memtree_init(&t);
    assert_int_equal(memtree_append(&t, other_leaf), SCITT_OK);
    assert_int_equal(memtree_append(&t, leaf), SCITT_OK);
    assert_int_equal(memtree_append(&t, other_leaf), SCITT_OK);
    scitt_merkle_source src = memtree_source(&t);
    size_t n = 0;
    assert_int_equal(scitt_merkle_range_root(&src, 0, 3, root), SCITT_OK);
    assert_int_equal(scitt_merkle_inclusion_proof(&src, 1, 3, path, &n), SCITT_OK);
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(key, scitt_span_str("https://log.example"),
                                             scitt_span_str("log"), 1, 3, root, &h),
                     SCITT_OK);
    scitt_dynbuf_init(out, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    assert_int_equal(scitt_receipt_encode_inclusion(&h, 1, (const uint8_t(*)[32])path, n, &w),
                     SCITT_OK);
    memtree_free(&t);
}

typedef struct made {
    scitt_dynbuf stmt;    /* the signed statement, without receipts */
    scitt_dynbuf receipt; /* its receipt by svc */
    scitt_dynbuf ts;      /* the transparent statement */
} made;

/* A transparent statement signed by @p by (iss https://issuer.example, sub pkg:x) with the
 * payload "{}" (attached unless @p flags say), its receipt by @p service embedded. */
static void make(made *o, const scitt_cose_key *by, const scitt_cose_key *service, unsigned flags,
                 bool claims)
{
    su_opts so;
    memset(&so, 0, sizeof(so));
    so.iss = claims ? "https://issuer.example" : NULL;
    so.sub = claims ? "pkg:x" : NULL;
    so.content_type = "application/json";
    so.with_kid = true;
    so.flags = flags;
    scitt_dynbuf_init(&o->stmt, 0);
    assert_int_equal(su_statement(by, &so, scitt_span_str("{}"), &o->stmt), SCITT_OK);
    scitt_span st = scitt_span_make(o->stmt.ptr, o->stmt.len);
    receipt_for(service, st, &o->receipt);
    scitt_span r = scitt_span_make(o->receipt.ptr, o->receipt.len);
    scitt_dynbuf_init(&o->ts, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &o->ts);
    assert_int_equal(scitt_receipt_embed(st, &r, 1, &w), SCITT_OK);
}

static void made_clear(made *o)
{
    scitt_dynbuf_clear(&o->stmt);
    scitt_dynbuf_clear(&o->receipt);
    scitt_dynbuf_clear(&o->ts);
}

static void opts_init(scitt_verify_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->keys = trusted;
    o->at = 1700000000;
}

static scitt_verify_result *run(scitt_span ts, const scitt_verify_opts *o)
{
    scitt_verify_result *r = malloc(sizeof(*r));
    assert_non_null(r);
    scitt_verify_result_init(r);
    assert_int_equal(scitt_verify_statement(ts, o, r), SCITT_OK);
    return r;
}

static const scitt_check *find(const scitt_verify_result *r, const char *name)
{
    for (size_t i = 0; i < r->nchecks; i++) {
        if (strcmp(r->checks[i].name, name) == 0) {
            return &r->checks[i];
        }
    }
    return NULL;
}

/* Exactly one check failed: @p name, its detail holding @p why; r->first says so. */
static void expect_only_failure(const scitt_verify_result *r, const char *name, const char *why)
{
    const scitt_check *c = find(r, name);
    if (!c) {
        fail_msg("no check \"%s\" (first failure: %s)", name, r->first);
    }
    assert_int_equal(c->result, SCITT_CHECK_FAILED);
    if (!strstr(c->detail, why)) {
        fail_msg("%s: \"%s\" does not say \"%s\"", name, c->detail, why);
    }
    if (r->failed != 1) {
        fail_msg("%zu checks failed, wanted only %s (first: %s)", r->failed, name, r->first);
    }
    assert_int_equal(strncmp(r->first, name, strlen(name)), 0);
}

static scitt_span span_of(const scitt_dynbuf *b)
{
    return scitt_span_make(b->ptr, b->len);
}

/* Every check passes: the receipt with the trusted key, the signature with the pinned key, the
 * required iss, sub and digest. */
static void test_verifies(void **state)
{
    (void)state;
    made s;
    make(&s, issuer, svc, 0, true);
    scitt_verify_opts o;
    opts_init(&o);
    o.issuer_key_name = "issuer.pem";
    o.issuer_key = issuer;
    o.want_iss = "https://issuer.example";
    o.want_sub = "pkg:x";
    char dig[80];
    uint8_t h[32];
    scitt_sha256((const uint8_t *)"{}", 2, h);
    strcpy(dig, "sha256:");
    assert_int_equal(scitt_hex_encode(scitt_span_make(h, 32), dig + 7, sizeof(dig) - 7), SCITT_OK);
    o.want_digest = dig;
    scitt_verify_result *r = run(span_of(&s.ts), &o);
    if (r->failed) {
        fail_msg("%s", r->first);
    }
    assert_true(r->decoded);
    assert_non_null(find(r, "receipt 1"));
    assert_int_equal(find(r, "receipt 1")->result, SCITT_CHECK_OK);
    assert_int_equal(find(r, "issuer signature")->result, SCITT_CHECK_OK);
    assert_int_equal(find(r, "iss")->result, SCITT_CHECK_OK);
    assert_int_equal(find(r, "digest")->result, SCITT_CHECK_OK);
    assert_int_equal(find(r, "sub")->result, SCITT_CHECK_OK);
    assert_string_equal(r->established_by, "issuer-key");
    assert_int_equal(r->nreceipts, 1);
    assert_int_equal(r->receipts[0].tree_size, 3);
    assert_int_equal(r->receipts[0].leaf_index, 1);
    assert_string_equal(r->receipts[0].source, "394");
    assert_memory_equal(r->digest.ptr, h, 32);
    assert_true(scitt_span_eq_str(r->iss, "https://issuer.example"));
    assert_int_equal(strlen(r->entry_id), 64);
    free(r);
    /* Without keys there is nothing to check receipts against. */
    o.keys = NULL;
    scitt_verify_result rr;
    scitt_verify_result_init(&rr);
    assert_int_equal(scitt_verify_statement(span_of(&s.ts), &o, &rr), SCITT_ERR_INVALID_ARG);
    made_clear(&s);
}

static void test_decode_and_profile(void **state)
{
    (void)state;
    scitt_verify_opts o;
    opts_init(&o);
    scitt_verify_result *r = run(scitt_span_str("not cbor"), &o);
    expect_only_failure(r, "decode", "not a strict, tagged COSE_Sign1");
    assert_false(r->decoded);
    free(r);
    /* No CWT claims: not an RFC 9943 Signed Statement. */
    made s;
    make(&s, issuer, svc, 0, false);
    r = run(span_of(&s.ts), &o);
    const scitt_check *c = find(r, "profile");
    assert_non_null(c);
    assert_int_equal(c->result, SCITT_CHECK_FAILED);
    assert_int_equal(r->failed, 1);
    free(r);
    made_clear(&s);
}

static void test_receipts(void **state)
{
    (void)state;
    made s, t;
    make(&s, issuer, svc, 0, true);
    make(&t, issuer, svc, 0, true);
    scitt_verify_opts o;
    opts_init(&o);
    /* The statement alone: no receipt. */
    scitt_verify_result *r = run(span_of(&s.stmt), &o);
    expect_only_failure(r, "receipts", "carries no receipt");
    free(r);
    /* A receipt from a service that is not trusted. */
    o.keys = untrusted;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "receipt 1", scitt_err_str(SCITT_ERR_UNTRUSTED));
    assert_int_equal(r->receipts[0].err, SCITT_ERR_UNTRUSTED);
    free(r);
    /* --any: the bad receipt is skipped, and none verifying is the failure. */
    o.any = true;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "receipts", "none of the 1 receipts verifies");
    assert_int_equal(find(r, "receipt 1")->result, SCITT_CHECK_SKIPPED);
    free(r);
    /* A receipt given beside the statement, but for another statement: its proof leads to
     * another root, which the service did not sign. */
    o.any = false;
    o.keys = trusted;
    o.receipts[0].name = "other.receipt";
    o.receipts[0].data = span_of(&t.receipt);
    o.nreceipts = 1;
    r = run(span_of(&s.stmt), &o);
    expect_only_failure(r, "receipt 1", scitt_err_str(SCITT_ERR_SIGNATURE));
    assert_string_equal(r->receipts[0].source, "other.receipt");
    free(r);
    /* Its own receipt given beside it verifies. */
    o.receipts[0].data = span_of(&s.receipt);
    r = run(span_of(&s.stmt), &o);
    assert_int_equal(r->failed, 0);
    free(r);
    made_clear(&s);
    made_clear(&t);
}

static const char *attested_origin(void *ctx, const scitt_cose_key *k, bool *attested)
{
    (void)ctx;
    (void)k;
    *attested = true;
    return "service bundle b.cbor";
}

/* A receipt verified with an attested key must name the bundle's issuer. */
static void test_bundle_issuer(void **state)
{
    (void)state;
    made s;
    make(&s, issuer, svc, 0, true);
    scitt_verify_opts o;
    opts_init(&o);
    o.origin = attested_origin;
    o.bundle_issuer = "https://log.example";
    scitt_verify_result *r = run(span_of(&s.ts), &o);
    assert_int_equal(r->failed, 0);
    assert_int_equal(find(r, "receipt 1 issuer")->result, SCITT_CHECK_OK);
    assert_string_equal(r->receipts[0].from, "service bundle b.cbor");
    free(r);
    o.bundle_issuer = "https://another.example";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "receipt 1 issuer", "not the service bundle's issuer");
    free(r);
    made_clear(&s);
}

static void test_issuer_signature_and_payload(void **state)
{
    (void)state;
    made s, d;
    make(&s, issuer, svc, 0, true);
    make(&d, issuer, svc, SCITT_SIGN1_DETACHED, true);
    scitt_verify_opts o;
    opts_init(&o);
    /* Another key pinned. */
    o.issuer_key_name = "other.pem";
    o.issuer_key = other;
    scitt_verify_result *r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "issuer signature", scitt_err_str(SCITT_ERR_SIGNATURE));
    free(r);
    /* A pinned key that could not be loaded. */
    o.issuer_key = NULL;
    o.issuer_key_error = "other.pem: no key in it";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "issuer signature", "no key in it");
    free(r);
    /* The right key, but the payload given is not the one attached. */
    o.issuer_key_name = "issuer.pem";
    o.issuer_key = issuer;
    o.payload.name = "payload.json";
    o.payload.data = scitt_span_str("{\"x\":1}");
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "payload", "differs from the attached payload");
    free(r);
    /* An unreadable payload, and one over the bound. */
    o.payload.err = SCITT_ERR_IO;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "payload", "cannot read payload.json");
    free(r);
    o.payload.err = SCITT_OK;
    o.payload.data = scitt_span_str("{}");
    o.payload_max = 1;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "payload", "cannot read payload.json");
    free(r);
    o.payload_max = 0;
    r = run(span_of(&s.ts), &o);
    assert_int_equal(r->failed, 0);
    free(r);
    /* Detached: without the payload the signature cannot be checked... */
    o.payload.name = NULL;
    r = run(span_of(&d.ts), &o);
    expect_only_failure(r, "issuer signature", "the payload is detached");
    free(r);
    /* ...with another payload it does not verify, with its own it does. */
    o.payload.name = "payload.json";
    o.payload.data = scitt_span_str("{ }");
    r = run(span_of(&d.ts), &o);
    expect_only_failure(r, "issuer signature", scitt_err_str(SCITT_ERR_SIGNATURE));
    free(r);
    o.payload.data = scitt_span_str("{}");
    r = run(span_of(&d.ts), &o);
    assert_int_equal(r->failed, 0);
    assert_int_equal(find(r, "payload")->result, SCITT_CHECK_OK);
    free(r);
    made_clear(&s);
    made_clear(&d);
}

static void test_identity(void **state)
{
    (void)state;
    made s;
    make(&s, issuer, svc, 0, true);
    scitt_verify_opts o;
    opts_init(&o);
    /* Nothing establishes the issuer: reported, a failure only when an iss is required. */
    scitt_verify_result *r = run(span_of(&s.ts), &o);
    assert_int_equal(r->failed, 0);
    assert_int_equal(find(r, "issuer")->result, SCITT_CHECK_SKIPPED);
    assert_null(r->issuer_established);
    free(r);
    o.want_iss = "https://issuer.example";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "iss", "claimed but not established");
    free(r);
    /* Established by the pinned key, but another iss is required. */
    o.issuer_key_name = "issuer.pem";
    o.issuer_key = issuer;
    o.want_iss = "https://mallory.example";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "iss", "not the one required");
    free(r);
    /* Roots that could not be loaded, and roots with no x5chain to validate. */
    o.want_iss = NULL;
    o.issuer_roots_name = "roots.pem";
    o.issuer_roots_err = SCITT_ERR_IO;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "x5chain", "cannot load the roots");
    free(r);
    scitt_x509_roots *roots = NULL;
    assert_int_equal(scitt_x509_roots_new(&roots), SCITT_OK);
    o.issuer_roots = roots;
    o.issuer_roots_err = SCITT_OK;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "x5chain", "no protected x5chain");
    free(r);
    scitt_x509_roots_free(roots);
    /* A did:x509 required of an issuer that has no x5chain. */
    o.issuer_roots_name = NULL;
    o.issuer_roots = NULL;
    o.did_x509 = true;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "did:x509", "no protected x5chain to resolve against");
    free(r);
    made_clear(&s);
}

static void test_expectations(void **state)
{
    (void)state;
    made s;
    make(&s, issuer, svc, 0, true);
    scitt_verify_opts o;
    opts_init(&o);
    o.want_sub = "pkg:y";
    scitt_verify_result *r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "sub", "not the one required");
    free(r);
    o.want_sub = NULL;
    o.want_digest = "sha256:00112233";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "digest", "the signed digest is not");
    free(r);
    o.want_digest = "sha384:00112233";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "digest", "--digest names sha384");
    free(r);
    o.want_digest = "md5:00";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "digest", "algorithm prefix");
    free(r);
    o.want_digest = "zz";
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "digest", "is not hex");
    free(r);
    made_clear(&s);
}

static void test_witnesses(void **state)
{
    (void)state;
    made s;
    make(&s, issuer, svc, 0, true);
    scitt_verify_opts o;
    opts_init(&o);
    o.witness_policy.name = "policy.txt";
    scitt_verify_result *r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "witnesses", "needs --checkpoint");
    free(r);
    o.checkpoint.name = "checkpoint.txt";
    o.checkpoint.err = SCITT_ERR_TOO_LARGE;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "witnesses", "cannot read policy.txt or checkpoint.txt");
    free(r);
    o.checkpoint.err = SCITT_OK;
    o.witness_policy.data = scitt_span_str("quorum nobody\n");
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "witnesses", "policy.txt:");
    free(r);
    made_clear(&s);
}

/* A hash envelope: the preimage given must hash to the signed digest. */
static void test_preimage(void **state)
{
    (void)state;
    uint8_t d[32];
    scitt_sha256((const uint8_t *)"{}", 2, d);
    su_opts so;
    memset(&so, 0, sizeof(so));
    so.iss = "https://issuer.example";
    so.sub = "pkg:x";
    so.with_kid = true;
    so.hash_alg = SCITT_COSE_ALG_SHA256;
    so.preimage_type = "application/json";
    made s;
    scitt_dynbuf_init(&s.stmt, 0);
    assert_int_equal(su_statement(issuer, &so, scitt_span_make(d, 32), &s.stmt), SCITT_OK);
    receipt_for(svc, span_of(&s.stmt), &s.receipt);
    scitt_span rs = span_of(&s.receipt);
    scitt_dynbuf_init(&s.ts, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &s.ts);
    assert_int_equal(scitt_receipt_embed(span_of(&s.stmt), &rs, 1, &w), SCITT_OK);
    scitt_verify_opts o;
    opts_init(&o);
    o.payload.name = "app.json";
    o.payload.data = scitt_span_str("{}");
    scitt_verify_result *r = run(span_of(&s.ts), &o);
    assert_int_equal(r->failed, 0);
    assert_true(r->hash_envelope);
    assert_int_equal(find(r, "preimage")->result, SCITT_CHECK_OK);
    assert_true(scitt_span_eq(r->digest, scitt_span_make(d, 32)));
    free(r);
    o.payload.data = scitt_span_str("{ }");
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "preimage", "does not hash to the signed digest");
    free(r);
    o.payload.err = SCITT_ERR_IO;
    r = run(span_of(&s.ts), &o);
    expect_only_failure(r, "preimage", scitt_err_str(SCITT_ERR_IO));
    free(r);
    made_clear(&s);
}

/* The caller's own checks come first and count like the others. */
static void test_caller_checks(void **state)
{
    (void)state;
    made s;
    make(&s, issuer, svc, 0, true);
    scitt_verify_opts o;
    opts_init(&o);
    scitt_verify_result *r = malloc(sizeof(*r));
    assert_non_null(r);
    scitt_verify_result_init(r);
    scitt_verify_note(r, "service bundle", SCITT_CHECK_FAILED, "%s: %s", "b.cbor", "no evidence");
    assert_int_equal(scitt_verify_statement(span_of(&s.ts), &o, r), SCITT_OK);
    assert_int_equal(r->failed, 1);
    assert_string_equal(r->checks[0].name, "service bundle");
    assert_string_equal(r->first, "service bundle: b.cbor: no evidence");
    free(r);
    made_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verifies),
        cmocka_unit_test(test_decode_and_profile),
        cmocka_unit_test(test_receipts),
        cmocka_unit_test(test_bundle_issuer),
        cmocka_unit_test(test_issuer_signature_and_payload),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_expectations),
        cmocka_unit_test(test_witnesses),
        cmocka_unit_test(test_preimage),
        cmocka_unit_test(test_caller_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
