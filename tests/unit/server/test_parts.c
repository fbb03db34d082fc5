/*
 * The layer's small parts: the request arena, the per-IP token buckets, the per-address
 * connection counts, and the event log.
 */
#include "testutil.h"

#include <arpa/inet.h>

#include "http_impl.h"

static void test_arena(void **state)
{
    (void)state;
    static _Alignas(16) uint8_t block[256];
    scitt__arena a;
    scitt__arena_init(&a, block, sizeof(block));
    uint8_t *p = scitt__arena_alloc(&a, 3);
    uint8_t *q = scitt__arena_alloc(&a, 5);
    assert_non_null(p);
    assert_int_equal((uintptr_t)q % 16, 0);
    assert_ptr_equal(q, p + 16);
    /* The last allocation grows in place while the block has room. */
    uint8_t *g = scitt__arena_grow(&a, q, 5, 100);
    assert_ptr_equal(g, q);
    /* Growing past the block spills to the heap and keeps the bytes. */
    memset(g, 0x5a, 100);
    uint8_t *big = scitt__arena_grow(&a, g, 100, 5000);
    assert_ptr_not_equal(big, g);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(big[i], 0x5a);
    }
    assert_true(a.spilled >= 5000);
    /* An earlier allocation is copied, not grown. */
    uint8_t *p2 = scitt__arena_grow(&a, p, 3, 8);
    assert_ptr_not_equal(p2, p);
    scitt__arena_reset(&a);
    assert_int_equal(a.spilled, 0);
    assert_ptr_equal(scitt__arena_alloc(&a, 1), block);
    scitt__arena_reset(&a);
}

static void v4(struct sockaddr_storage *ss, const char *ip)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
}

static void v6(struct sockaddr_storage *ss, const char *ip)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in6 *in = (struct sockaddr_in6 *)ss;
    in->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, ip, &in->sin6_addr), 1);
}

static void test_ratelimit_keys(void **state)
{
    (void)state;
    struct sockaddr_storage a, b;
    uint8_t ka[16], kb[16];
    /* An IPv4 peer and its IPv4-mapped IPv6 form share one bucket. */
    v4(&a, "192.0.2.7");
    v6(&b, "::ffff:192.0.2.7");
    scitt__ratelimit_key(&a, 64, ka);
    scitt__ratelimit_key(&b, 64, kb);
    assert_memory_equal(ka, kb, 16);
    /* Two addresses of one /64 share a bucket; another /64 does not. */
    v6(&a, "2001:db8:1:2::1");
    v6(&b, "2001:db8:1:2:ffff::9");
    scitt__ratelimit_key(&a, 64, ka);
    scitt__ratelimit_key(&b, 64, kb);
    assert_memory_equal(ka, kb, 16);
    v6(&b, "2001:db8:1:3::1");
    scitt__ratelimit_key(&b, 64, kb);
    assert_memory_not_equal(ka, kb, 16);
    /* With /128 each address is its own client. */
    v6(&b, "2001:db8:1:2::2");
    scitt__ratelimit_key(&a, 128, ka);
    scitt__ratelimit_key(&b, 128, kb);
    assert_memory_not_equal(ka, kb, 16);
}

static void test_ratelimit_bucket(void **state)
{
    (void)state;
    scitt__ratelimit *rl;
    assert_int_equal(scitt__ratelimit_new(2, 4, 64, &rl), SCITT_OK);
    uint8_t k[16] = {1}, other[16] = {2};
    uint32_t retry = 0;
    uint64_t t = 1000;
    for (int i = 0; i < 4; i++) {
        assert_true(scitt__ratelimit_take(rl, k, t, &retry));
    }
    assert_false(scitt__ratelimit_take(rl, k, t, &retry));
    assert_int_equal(retry, 1); /* 2 tokens/s: one is back within a second */
    assert_true(scitt__ratelimit_take(rl, other, t, &retry));
    t += 499;
    assert_false(scitt__ratelimit_take(rl, k, t, &retry));
    t += 2;
    assert_true(scitt__ratelimit_take(rl, k, t, &retry));
    /* Long idle refills to the burst, not beyond. */
    t += 100000;
    for (int i = 0; i < 4; i++) {
        assert_true(scitt__ratelimit_take(rl, k, t, &retry));
    }
    assert_false(scitt__ratelimit_take(rl, k, t, &retry));
    scitt__ratelimit_free(rl);
    /* A slow rate gives a longer Retry-After. */
    assert_int_equal(scitt__ratelimit_new(0.1, 1, 64, &rl), SCITT_OK);
    assert_true(scitt__ratelimit_take(rl, k, 0, &retry));
    assert_false(scitt__ratelimit_take(rl, k, 0, &retry));
    assert_int_equal(retry, 10);
    scitt__ratelimit_free(rl);
    assert_int_equal(scitt__ratelimit_new(0, 1, 64, &rl), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt__ratelimit_new(1, 0.5, 64, &rl), SCITT_ERR_INVALID_ARG);
}

/* Many more clients than entries: memory stays bounded and new clients still get a bucket. */
static void test_ratelimit_bounded(void **state)
{
    (void)state;
    scitt__ratelimit *rl;
    assert_int_equal(scitt__ratelimit_new(1, 1, 16, &rl), SCITT_OK);
    uint32_t retry;
    for (uint32_t i = 0; i < 10000; i++) {
        uint8_t k[16] = {0};
        memcpy(k, &i, 4);
        assert_true(scitt__ratelimit_take(rl, k, i, &retry));
    }
    scitt__ratelimit_free(rl);
}

static char captured[4096];
static size_t ncaptured;

static void sink(void *ctx, scitt_log_level lvl, const char *line, size_t len)
{
    (void)ctx;
    (void)lvl;
    if (len < sizeof(captured) - ncaptured) {
        memcpy(captured + ncaptured, line, len);
        ncaptured += len;
        captured[ncaptured] = 0;
    }
}

static int evaluated;

static int side_effect(void)
{
    return ++evaluated;
}

static void key_of(uint32_t n, uint8_t key[16])
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(0x0a000000u + n);
    scitt__ratelimit_key(&ss, 64, key);
}

/* The cap per address holds, other addresses are not affected, and a close frees a place. */
static void test_connlimit_cap(void **state)
{
    (void)state;
    scitt__connlimit *cl;
    assert_int_equal(scitt__connlimit_new(100, 3, &cl), SCITT_OK);
    uint8_t a[16], b[16];
    key_of(1, a);
    key_of(2, b);
    for (int i = 0; i < 3; i++) {
        assert_true(scitt__connlimit_add(cl, a));
    }
    assert_false(scitt__connlimit_add(cl, a));
    assert_int_equal(scitt__connlimit_count(cl, a), 3);
    assert_true(scitt__connlimit_add(cl, b));
    scitt__connlimit_remove(cl, a);
    assert_int_equal(scitt__connlimit_count(cl, a), 2);
    assert_true(scitt__connlimit_add(cl, a));
    assert_false(scitt__connlimit_add(cl, a));
    for (int i = 0; i < 3; i++) {
        scitt__connlimit_remove(cl, a);
    }
    assert_int_equal(scitt__connlimit_count(cl, a), 0);
    assert_int_equal(scitt__connlimit_count(cl, b), 1);
    scitt__connlimit *bad = NULL;
    assert_int_equal(scitt__connlimit_new(0, 3, &bad), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt__connlimit_new(10, 0, &bad), SCITT_ERR_INVALID_ARG);
    assert_null(bad);
    scitt__connlimit_free(cl);
}

/*
 * Random adds and removes over many addresses, checked against plain counters: removing from the
 * middle of a probe run (backward shifting) never loses or merges another address's count.
 */
static void test_connlimit_model(void **state)
{
    (void)state;
    enum { KEYS = 600, CAP = 5 };
    scitt__connlimit *cl;
    assert_int_equal(scitt__connlimit_new(KEYS * CAP, CAP, &cl), SCITT_OK);
    static unsigned model[KEYS];
    memset(model, 0, sizeof(model));
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t k = (uint32_t)(x % KEYS);
        uint8_t key[16];
        key_of(k, key);
        if ((x >> 32) % 3 != 0) {
            bool ok = scitt__connlimit_add(cl, key);
            assert_int_equal(ok, model[k] < CAP);
            model[k] += ok ? 1 : 0;
        } else if (model[k] > 0) {
            scitt__connlimit_remove(cl, key);
            model[k]--;
        }
        if (step % 997 == 0) {
            for (uint32_t i = 0; i < KEYS; i++) {
                key_of(i, key);
                assert_int_equal(scitt__connlimit_count(cl, key), model[i]);
            }
        }
    }
    scitt__connlimit_free(cl);
}

static void test_log(void **state)
{
    (void)state;
    scitt_log_set_sink(sink, NULL);
    scitt_log_set_level(SCITT_LOG_INFO);
    SCITT_LOG(SCITT_LOG_INFO, "conn_open", "peer=%s n=%d", "127.0.0.1", 3);
    assert_non_null(strstr(captured, " level=info event=conn_open peer=127.0.0.1 n=3\n"));
    assert_memory_equal(captured, "ts=", 3);
    /* A disabled level does not even evaluate its arguments. */
    ncaptured = 0;
    captured[0] = 0;
    SCITT_LOG(SCITT_LOG_DEBUG, "detail", "v=%d", side_effect());
    assert_int_equal(evaluated, 0);
    assert_int_equal(ncaptured, 0);
    scitt_log_set_level(SCITT_LOG_DEBUG);
    SCITT_LOG(SCITT_LOG_DEBUG, "detail", "v=%d", side_effect());
    assert_int_equal(evaluated, 1);
    char hex[SCITT_LOG_HEX_MAX];
    static const uint8_t raw[] = {0xd2, 0x84, 0x58, 0xa0, 0xa1, 0x01, 0x26, 0x03, 0xff, 0xee};
    assert_string_equal(scitt_log_hex(scitt_span_make(raw, sizeof(raw)), hex),
                        "10:d28458a0a1012603");
    assert_string_equal(scitt_log_hex(scitt_span_make(raw, 0), hex), "0:");
    scitt_log_level lvl;
    assert_true(scitt_log_parse_level("warn", &lvl));
    assert_int_equal(lvl, SCITT_LOG_WARN);
    assert_false(scitt_log_parse_level("loud", &lvl));
    scitt_log_set_sink(NULL, NULL);
    scitt_log_set_level(SCITT_LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_ratelimit_keys),
        cmocka_unit_test(test_ratelimit_bucket),
        cmocka_unit_test(test_ratelimit_bounded),
        cmocka_unit_test(test_connlimit_cap),
        cmocka_unit_test(test_connlimit_model),
        cmocka_unit_test(test_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
