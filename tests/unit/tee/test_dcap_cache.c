/*
 * The parse cache of a DCAP collateral set (tee/dcap_cache.c), over synthetic worlds
 * (dcap_synth.h): a quote verified again parses nothing again; what verification decides is not
 * remembered (a cached certificate is still held to the time, a new CRL, its signatures); the
 * cache never holds more than its bound, evicting the least recently used; and threads sharing one
 * set, evicting each other's entries, all get the answers a fresh set gives.
 */
#include "testutil.h"

#include <pthread.h>

#include "dcap_synth.h"
#include "scitt/dcap.h"
#include "tee_internal.h"

#define NOW INT64_C(1750000000)

static scitt_dcap_verify_opts opts_for(const ds_world *w, int64_t now)
{
    scitt_dcap_verify_opts o;
    scitt_dcap_verify_opts_init(&o, now);
    o.root_sha256 = w->root_sha256;
    return o;
}

static scitt_err verify_at(const ds_world *w, const scitt_dcap_collateral *c, int64_t now,
                           scitt_dcap_result *r)
{
    scitt_dcap_verify_opts o = opts_for(w, now);
    return scitt_dcap_verify(scitt_span_make(w->quote, w->quote_len), c, &o, r);
}

static scitt__dcap_cache_stats stats(const scitt_dcap_collateral *c)
{
    scitt__dcap_cache_stats st;
    scitt__dcap_cache_stats_get(c->cache, &st);
    return st;
}

static void test_hits(void **state)
{
    (void)state;
    ds_spec s;
    ds_spec_default(&s, SCITT_DCAP_TEE_TDX, NOW);
    ds_world w;
    ds_build(&s, &w);
    scitt_dcap_collateral *c = ds_collateral(&w);
    scitt_dcap_result r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(verify_at(&w, c, NOW, &r), SCITT_OK);
        scitt__dcap_cache_stats st = stats(c);
        /* three certificates and one key parsed once, then found */
        assert_int_equal(st.certs, 3);
        assert_int_equal(st.keys, 1);
        assert_int_equal(st.misses, 4);
        assert_int_equal(st.hits, 4 * (uint64_t)i);
    }
    scitt_dcap_collateral_free(c);
    ds_world_free(&w);
}

static void test_nothing_verified_is_remembered(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        ds_spec s;
        ds_spec_default(&s, t ? SCITT_DCAP_TEE_SGX : SCITT_DCAP_TEE_TDX, NOW);
        s.revoke_pck = true; /* its PCK CRL lists the PCK certificate */
        ds_world w;
        ds_build(&s, &w);
        /* the set without the PCK CRL: verifies, and the cache holds the chain */
        scitt_dcap_collateral *c = ds_collateral(&w);
        scitt_dcap_collateral *no_crl = NULL;
        assert_int_equal(scitt_dcap_collateral_new(&no_crl), SCITT_OK);
        for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
            if (i != SCITT_DCAP_PCK_CRL && w.file[i]) {
                assert_int_equal(
                    scitt_dcap_collateral_set(no_crl, (scitt_dcap_item)i,
                                              scitt_span_make(w.file[i], w.file_len[i]), NULL),
                    SCITT_OK);
            }
        }
        scitt_dcap_result r;
        assert_int_equal(verify_at(&w, no_crl, NOW, &r), SCITT_OK);
        /* the cached PCK certificate is held to its window at another time */
        assert_int_equal(verify_at(&w, no_crl, s.pck.not_after + 1, &r), SCITT_ERR_EXPIRED);
        assert_int_equal(r.why, SCITT_TEE_CERT_EXPIRED);
        /* the same quote with its QE report signature broken: the cached key is still asked */
        uint8_t *bad = malloc(w.quote_len);
        assert_non_null(bad);
        memcpy(bad, w.quote, w.quote_len);
        scitt_dcap_quote q;
        assert_int_equal(scitt_dcap_quote_parse(scitt_span_make(w.quote, w.quote_len), &q, NULL),
                         SCITT_OK);
        size_t qe_sig_at = (size_t)(q.qe_report.ptr - w.quote) + SCITT_DCAP_SGX_REPORT_LEN;
        bad[qe_sig_at] ^= 0x01;
        scitt_dcap_verify_opts o = opts_for(&w, NOW);
        assert_int_equal(scitt_dcap_verify(scitt_span_make(bad, w.quote_len), no_crl, &o, &r),
                         SCITT_ERR_SIGNATURE);
        assert_int_equal(r.why, SCITT_TEE_DCAP_QE_REPORT_SIG);
        /* and the quote signature, with the cached attestation key */
        memcpy(bad, w.quote, w.quote_len);
        bad[q.signed_part.len + 4] ^= 0x01;
        assert_int_equal(scitt_dcap_verify(scitt_span_make(bad, w.quote_len), no_crl, &o, &r),
                         SCITT_ERR_SIGNATURE);
        assert_int_equal(r.why, SCITT_TEE_DCAP_QUOTE_SIG);
        assert_true(stats(no_crl).hits > 0);
        /* the PCK CRL added to the same set: the cached certificate is now revoked */
        assert_int_equal(scitt_dcap_collateral_set(no_crl, SCITT_DCAP_PCK_CRL,
                                                   scitt_span_make(w.file[SCITT_DCAP_PCK_CRL],
                                                                   w.file_len[SCITT_DCAP_PCK_CRL]),
                                                   NULL),
                         SCITT_OK);
        assert_int_equal(verify_at(&w, no_crl, NOW, &r), SCITT_ERR_CERT_CHAIN);
        assert_int_equal(r.why, SCITT_TEE_DCAP_REVOKED);
        free(bad);
        scitt_dcap_collateral_free(no_crl);
        scitt_dcap_collateral_free(c);
        ds_world_free(&w);
    }
}

/* Worlds whose quotes are verified against the collateral of world 0: each parses its own three
 * certificates and key (their roots pinned), then is refused at world 0's TCB Signing chain. */
#define N_WORLDS 24

typedef struct worlds {
    ds_world w[N_WORLDS];
    scitt_dcap_collateral *c; /* world 0's required items only: the quote's chain is all parsed */
} worlds;

static void worlds_make(worlds *x)
{
    for (int i = 0; i < N_WORLDS; i++) {
        ds_spec s;
        ds_spec_default(&s, i % 2 ? SCITT_DCAP_TEE_SGX : SCITT_DCAP_TEE_TDX, NOW);
        ds_build(&s, &x->w[i]);
    }
    assert_int_equal(scitt_dcap_collateral_new(&x->c), SCITT_OK);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (scitt_dcap_item_required((scitt_dcap_item)i)) {
            assert_int_equal(scitt_dcap_collateral_set(
                                 x->c, (scitt_dcap_item)i,
                                 scitt_span_make(x->w[0].file[i], x->w[0].file_len[i]), NULL),
                             SCITT_OK);
        }
    }
}

static void worlds_free(worlds *x)
{
    scitt_dcap_collateral_free(x->c);
    for (int i = 0; i < N_WORLDS; i++) {
        ds_world_free(&x->w[i]);
    }
}

/* World @p i against the shared set: world 0 verifies; the others pass the quote's chain and
 * signatures under their own root, then stop at world 0's TCB Signing chain. */
static bool world_ok(const worlds *x, int i)
{
    scitt_dcap_result r;
    scitt_err err = verify_at(&x->w[i], x->c, NOW, &r);
    if (i == 0) {
        return err == SCITT_OK;
    }
    return err == SCITT_ERR_UNTRUSTED && r.why == SCITT_TEE_DCAP_ROOT_NOT_PINNED;
}

static void expect_world(const worlds *x, int i)
{
    if (!world_ok(x, i)) {
        fail_msg("world %d: not the expected outcome", i);
    }
}

static void test_bounded(void **state)
{
    (void)state;
    worlds x;
    worlds_make(&x);
    for (int i = 0; i < N_WORLDS; i++) {
        expect_world(&x, i);
        scitt__dcap_cache_stats st = stats(x.c);
        /* 3 new certificates and 1 key a world, up to the bound */
        size_t want_certs = 3 * (size_t)(i + 1), want_keys = (size_t)i + 1;
        assert_int_equal(st.certs, want_certs < SCITT__DCAP_CACHE_CERTS ? want_certs
                                                                        : SCITT__DCAP_CACHE_CERTS);
        assert_int_equal(st.keys,
                         want_keys < SCITT__DCAP_CACHE_KEYS ? want_keys : SCITT__DCAP_CACHE_KEYS);
        assert_int_equal(st.hits, 0);
    }
    /* held now: the last 32 certificates (2 of world 13, worlds 14 to 23), the last 16 keys
     * (worlds 8 to 23); world 0 was evicted, and comes back in place of the oldest */
    scitt__dcap_cache_stats before = stats(x.c);
    expect_world(&x, 0);
    scitt__dcap_cache_stats after = stats(x.c);
    assert_int_equal(after.misses - before.misses, 4);
    /* the least recently used goes first, not the first stored: world 15, stored before world
     * 16 but used again now, outlives it while three more worlds come in */
    before = after;
    expect_world(&x, 15);
    after = stats(x.c);
    assert_int_equal(after.hits - before.hits, 4);
    for (int i = 1; i <= 3; i++) {
        expect_world(&x, i);
    }
    before = stats(x.c);
    expect_world(&x, 15);
    after = stats(x.c);
    assert_int_equal(after.hits - before.hits, 4);
    expect_world(&x, 16);
    assert_int_equal(stats(x.c).misses - after.misses, 3); /* its certificates; its key stayed */
    worlds_free(&x);
}

typedef struct job {
    const worlds *x;
    int seed;
    int rounds;
    int failures; /* counted here: cmocka's asserts belong to the main thread */
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    unsigned v = (unsigned)j->seed;
    for (int k = 0; k < j->rounds; k++) {
        v = v * 1103515245u + 12345u;
        /* world 0 one time in four, else any other */
        int i = (v >> 16) % 4 == 0 ? 0 : 1 + (int)((v >> 8) % (N_WORLDS - 1));
        if (!world_ok(j->x, i)) {
            j->failures++;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    worlds x;
    worlds_make(&x);
    enum { THREADS = 4 };
    pthread_t th[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){&x, i + 1, 40, 0};
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    scitt__dcap_cache_stats st = stats(x.c);
    assert_int_equal(st.hits + st.misses, (uint64_t)THREADS * 40 * 4);
    assert_true(st.certs <= SCITT__DCAP_CACHE_CERTS && st.keys <= SCITT__DCAP_CACHE_KEYS);
    worlds_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits),
        cmocka_unit_test(test_nothing_verified_is_remembered),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
