/*
 * The load generator's registration check (sr_receipt_check, bench/scittd_run.c): a response
 * counts as a registration only when it is a 201 whose receipt verifies, against the service's
 * receipt key, for the statement the request carried. Each case tries to get a response past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "memtree.h"
#include "scitt/receipt.h"
#include "scittd_run.h"

#define N 5

typedef struct fixture {
    scitt_cose_key *service, *other;
    hc_request reqs[N];
    uint8_t leaves[N][32];
    uint8_t receipt[N][2048];
    size_t receipt_len[N];
} fixture;

/* N leaves in a tree, a signed head at size N, and the inclusion receipt of each. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &f->service), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &f->other), SCITT_OK);
    memtree t;
    memtree_init(&t);
    for (size_t i = 0; i < N; i++) {
        memset(f->leaves[i], (int)(0x10 + i), 32);
        assert_int_equal(memtree_append(&t, f->leaves[i]), SCITT_OK);
        f->reqs[i].bytes = "POST /entries HTTP/1.1\r\n\r\n";
        f->reqs[i].len = strlen(f->reqs[i].bytes);
    }
    scitt_merkle_source src = memtree_source(&t);
    uint8_t root[32];
    assert_int_equal(scitt_merkle_range_root(&src, 0, N, root), SCITT_OK);
    scitt_receipt_head h;
    assert_int_equal(scitt_receipt_head_sign(f->service, scitt_span_str("https://scitt.example"),
                                             scitt_span_str("scitt.example/log"), 1767225600, N,
                                             root, &h),
                     SCITT_OK);
    for (size_t i = 0; i < N; i++) {
        uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
        size_t n;
        assert_int_equal(scitt_merkle_inclusion_proof(&src, i, N, path, &n), SCITT_OK);
        scitt_cbor_writer w;
        scitt_cbor_writer_init(&w, f->receipt[i], sizeof(f->receipt[i]));
        assert_int_equal(scitt_receipt_encode_inclusion(&h, i, (const uint8_t(*)[32])path, n, &w),
                         SCITT_OK);
        f->receipt_len[i] = w.len;
    }
    memtree_free(&t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    scitt_cose_key_free(f->service);
    scitt_cose_key_free(f->other);
    free(f);
    return 0;
}

/* A checker over the fixture's requests trusting @p key, verifying every @p every-th 201. */
static sr_receipts *checker(fixture *f, scitt_cose_key *key, unsigned every)
{
    scitt_cose_keyset *ks = NULL;
    assert_int_equal(scitt_cose_keyset_new(&ks), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_add(ks, key), SCITT_OK);
    sr_receipts *v = sr_receipts_new_keys(ks, f->reqs, (const uint8_t(*)[32])f->leaves, N, every);
    assert_non_null(v);
    return v;
}

static bool check(sr_receipts *v, fixture *f, size_t req, int status, size_t receipt, char *why)
{
    why[0] = 0;
    return sr_receipt_check(v, &f->reqs[req], 0, status, f->receipt[receipt],
                            f->receipt_len[receipt], why, 200);
}

static void test_good_receipts_count(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->service, 1);
    char why[200];
    for (size_t i = 0; i < N; i++) {
        assert_true(check(v, f, i, 201, i, why));
    }
    uint64_t seen, verified;
    sr_receipts_counts(v, &seen, &verified, NULL);
    assert_int_equal(seen, N);
    assert_int_equal(verified, N);
    sr_receipts_free(v);
}

/* A valid receipt, but for another statement than the one the request registered. */
static void test_receipt_for_another_statement(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->service, 1);
    char why[200];
    /* first a good one, so the head's signature is in the memo: the proof must still fail */
    assert_true(check(v, f, 0, 201, 0, why));
    assert_false(check(v, f, 1, 201, 0, why));
    assert_non_null(strstr(why, "does not verify"));
    sr_receipts_free(v);
}

static void test_receipt_from_another_key(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->other, 1);
    char why[200];
    assert_false(check(v, f, 2, 201, 2, why));
    assert_non_null(strstr(why, "does not verify"));
    sr_receipts_free(v);
}

static void test_tampered_receipt(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->service, 1);
    char why[200];
    assert_true(check(v, f, 3, 201, 3, why));
    f->receipt[3][f->receipt_len[3] - 1] ^= 1; /* the last byte of the signature */
    bool ok = check(v, f, 3, 201, 3, why);
    f->receipt[3][f->receipt_len[3] - 1] ^= 1;
    assert_false(ok);
    /* a truncated body */
    assert_false(sr_receipt_check(v, &f->reqs[3], 0, 201, f->receipt[3], f->receipt_len[3] - 1, why,
                                  sizeof(why)));
    sr_receipts_free(v);
}

/* Only a 201 is a registration: not a 200 or 202 with the same bytes, not an error. */
static void test_other_statuses(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->service, 1);
    char why[200];
    assert_false(check(v, f, 0, 200, 0, why));
    assert_false(check(v, f, 0, 202, 0, why));
    static const uint8_t problem[] = "\xa2\x20\x6ePayload Missing\x21\x6cno payload!!";
    assert_false(
        sr_receipt_check(v, &f->reqs[0], 0, 400, problem, sizeof(problem) - 1, why, sizeof(why)));
    assert_non_null(strstr(why, "Payload Missing"));
    uint64_t seen, verified;
    sr_receipts_counts(v, &seen, &verified, NULL);
    assert_int_equal(seen, 0);
    sr_receipts_free(v);
}

static void test_unknown_request(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->service, 1);
    char why[200];
    hc_request stray = f->reqs[0];
    assert_false(
        sr_receipt_check(v, &stray, 0, 201, f->receipt[0], f->receipt_len[0], why, sizeof(why)));
    sr_receipts_free(v);
}

/* With sampling, every N-th 201 is verified, starting with the first, and counted as such. */
static void test_sampling(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->service, 2);
    char why[200];
    assert_false(check(v, f, 1, 201, 0, why)); /* 1st: verified, wrong */
    assert_true(check(v, f, 1, 201, 1, why));  /* 2nd: not verified */
    assert_true(check(v, f, 2, 201, 2, why));  /* 3rd: verified */
    uint64_t seen, verified;
    sr_receipts_counts(v, &seen, &verified, NULL);
    assert_int_equal(seen, 3);
    assert_int_equal(verified, 1);
    sr_receipts_free(v);
}

/* Receipt reads: a 200 is what is due, and a 201 is not. */
static void test_reads_expect_200(void **state)
{
    fixture *f = *state;
    sr_receipts *v = checker(f, f->service, 1);
    sr_receipts_expect(v, 200);
    char why[200];
    assert_true(check(v, f, 4, 200, 4, why));
    assert_false(check(v, f, 4, 201, 4, why));
    assert_false(check(v, f, 3, 200, 4, why));
    assert_non_null(strstr(why, "does not verify"));
    sr_receipts_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_receipts_count),
        cmocka_unit_test(test_receipt_for_another_statement),
        cmocka_unit_test(test_receipt_from_another_key),
        cmocka_unit_test(test_tampered_receipt),
        cmocka_unit_test(test_other_statuses),
        cmocka_unit_test(test_unknown_request),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_reads_expect_200),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
