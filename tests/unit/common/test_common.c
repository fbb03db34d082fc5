/* Errors, cursors, buffers, constant-time compare and the text encodings. */
#include "testutil.h"

#include "scitt/limits.h"

static void test_err_strings(void **state)
{
    (void)state;
    /* Every code of the list has its own name, a real text and a class that fits its range. */
    static const struct {
        scitt_err code;
        int number;
        const char *name;
    } list[] = {
#define ROW(name, number, cls, text) {name, number, #name},
        SCITT_ERROR_LIST(ROW)
#undef ROW
    };
    size_t n = sizeof(list) / sizeof(list[0]);
    assert_true(n > 50);
    for (size_t i = 0; i < n; i++) {
        scitt_err e = list[i].code;
        assert_int_equal((int)e, list[i].number);
        assert_string_equal(scitt_err_name(e), list[i].name);
        assert_string_not_equal(scitt_err_str(e), "unknown error");
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(list[j].number, list[i].number);
            assert_string_not_equal(scitt_err_str(list[j].code), scitt_err_str(e));
        }
        scitt_errclass c = scitt_err_class(e);
        if (e == SCITT_OK) {
            assert_int_equal(c, SCITT_ERRCLASS_NONE);
        } else if (list[i].number >= 100 && list[i].number < 300) {
            assert_int_equal(c, SCITT_ERRCLASS_INPUT); /* malformed, or does not verify */
        } else if (list[i].number >= 400) {
            assert_int_equal(c, SCITT_ERRCLASS_INTERNAL); /* our own state */
        } else {
            assert_int_not_equal(c, SCITT_ERRCLASS_NONE);
        }
    }
    /* What a service answers depends on these: out of memory and crypto failures are never the
     * client's fault. */
    assert_int_equal(scitt_err_class(SCITT_ERR_NOMEM), SCITT_ERRCLASS_RESOURCE);
    assert_int_equal(scitt_err_class(SCITT_ERR_CRYPTO), SCITT_ERRCLASS_INTERNAL);
    assert_int_equal(scitt_err_class(SCITT_ERR_IO), SCITT_ERRCLASS_RESOURCE);
    assert_int_equal(scitt_err_class(SCITT_ERR_INVALID_ARG), SCITT_ERRCLASS_MISUSE);
    assert_int_equal(scitt_err_class((scitt_err)9999), SCITT_ERRCLASS_INTERNAL);
    assert_string_equal(scitt_err_name(SCITT_ERR_MALFORMED), "SCITT_ERR_MALFORMED");
    assert_string_equal(scitt_err_str((scitt_err)9999), "unknown error");
    assert_string_equal(scitt_err_name((scitt_err)9999), "SCITT_ERR_UNKNOWN");
    /* the numbers are part of the ABI */
    assert_int_equal(SCITT_ERR_MALFORMED, 100);
    assert_int_equal(SCITT_ERR_SIGNATURE, 200);
    assert_int_equal(SCITT_ERR_IO, 300);
    assert_int_equal(SCITT_ERR_INTEGRITY, 400);
}

static void test_reader(void **state)
{
    (void)state;
    const uint8_t in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    scitt_reader r;
    scitt_reader_init(&r, scitt_span_make(in, sizeof(in)));
    assert_int_equal(scitt_reader_u8(&r), 1);
    assert_int_equal(scitt_reader_be16(&r), 0x0203);
    assert_int_equal(scitt_reader_le32(&r), 0x07060504);
    assert_int_equal(scitt_reader_left(&r), 4);
    assert_int_equal(scitt_reader_finish(&r), SCITT_ERR_TRAILING);
    assert_int_equal(scitt_reader_be64(&r), 0); /* past the end: sticky error */
    assert_int_equal(r.err, SCITT_ERR_TRUNCATED);
    assert_int_equal(scitt_reader_u8(&r), 0);
    assert_int_equal(scitt_reader_finish(&r), SCITT_ERR_TRUNCATED);
    scitt_reader_init(&r, scitt_span_make(in, 8));
    assert_int_equal(scitt_reader_be64(&r), 0x0102030405060708ull);
    assert_int_equal(scitt_reader_finish(&r), SCITT_OK);
}

static void test_writer(void **state)
{
    (void)state;
    uint8_t buf[6];
    scitt_writer w;
    scitt_writer_init(&w, buf, sizeof(buf));
    scitt_writer_be16(&w, 0x0102);
    scitt_writer_be32(&w, 0x03040506);
    scitt_span out;
    assert_int_equal(scitt_writer_finish(&w, &out), SCITT_OK);
    assert_int_equal(out.len, 6);
    scitt_writer_u8(&w, 7);
    assert_int_equal(scitt_writer_finish(&w, &out), SCITT_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(w.need, 7);
    assert_int_equal(w.len, 6);
    /* measuring mode: no storage */
    scitt_writer_init(&w, NULL, 0);
    scitt_writer_be64(&w, 1);
    assert_int_equal(w.need, 8);
}

static void test_dynbuf(void **state)
{
    (void)state;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 1000);
    for (int i = 0; i < 100; i++) {
        scitt_dynbuf_printf(&b, "%03d", i);
    }
    assert_int_equal(b.err, SCITT_OK);
    assert_int_equal(b.len, 300);
    assert_memory_equal(b.ptr + 297, "099", 3);
    char big[800];
    memset(big, 'x', sizeof(big));
    scitt_dynbuf_put(&b, big, sizeof(big)); /* 1100 > ceiling */
    assert_int_equal(b.err, SCITT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 300);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_printf(&b, "%s-%0400d", "long", 7);
    assert_int_equal(b.len, 405);
    size_t n;
    uint8_t *p = scitt_dynbuf_steal(&b, &n);
    assert_int_equal(n, 405);
    assert_null(b.ptr);
    scitt_free(p);
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(scitt_ct_equal("abcd", "abcd", 4));
    assert_false(scitt_ct_equal("abcd", "abce", 4));
    assert_true(scitt_ct_equal("", "", 0));
    uint8_t secret[16] = {1, 2, 3};
    scitt_wipe(secret, sizeof(secret));
    for (size_t i = 0; i < sizeof(secret); i++) {
        assert_int_equal(secret[i], 0);
    }
}

static void test_hex(void **state)
{
    (void)state;
    char out[16];
    const uint8_t in[] = {0x00, 0xab, 0xff};
    assert_int_equal(scitt_hex_encode(scitt_span_make(in, 3), out, sizeof(out)), SCITT_OK);
    assert_string_equal(out, "00abff");
    assert_int_equal(scitt_hex_encode(scitt_span_make(in, 3), out, 6), SCITT_ERR_BUFFER_TOO_SMALL);
    uint8_t dec[8];
    size_t n;
    assert_int_equal(scitt_hex_decode(scitt_span_str("00ABff"), dec, sizeof(dec), &n), SCITT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(dec, in, 3);
    assert_int_equal(scitt_hex_decode(scitt_span_str("0"), dec, sizeof(dec), &n),
                     SCITT_ERR_MALFORMED);
    assert_int_equal(scitt_hex_decode(scitt_span_str("0g"), dec, sizeof(dec), &n),
                     SCITT_ERR_MALFORMED);
    assert_int_equal(scitt_hex_decode(scitt_span_str("0011"), dec, 1, &n),
                     SCITT_ERR_BUFFER_TOO_SMALL);
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 §10 test vectors */
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *b64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *b64u[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[32];
        uint8_t dec[32];
        size_t n;
        assert_int_equal(scitt_base64_encode(scitt_span_str(plain[i]), out, sizeof(out)), SCITT_OK);
        assert_string_equal(out, b64[i]);
        assert_int_equal(scitt_base64url_encode(scitt_span_str(plain[i]), out, sizeof(out)),
                         SCITT_OK);
        assert_string_equal(out, b64u[i]);
        assert_int_equal(scitt_base64_decode(scitt_span_str(b64[i]), dec, sizeof(dec), &n),
                         SCITT_OK);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(dec, plain[i], n);
        assert_int_equal(scitt_base64url_decode(scitt_span_str(b64u[i]), dec, sizeof(dec), &n),
                         SCITT_OK);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(dec, plain[i], n);
    }
    const uint8_t bin[] = {0xfb, 0xff, 0xfe};
    char out[8];
    assert_int_equal(scitt_base64_encode(scitt_span_make(bin, 3), out, sizeof(out)), SCITT_OK);
    assert_string_equal(out, "+//+");
    assert_int_equal(scitt_base64url_encode(scitt_span_make(bin, 3), out, sizeof(out)), SCITT_OK);
    assert_string_equal(out, "-__-");
    /* strictness */
    static const char *bad_std[] = {
        "Zg=", "Zg", "Z===", "Zh==", "Zm9v!", "-__-", "Zg==Zg==", "=Zg="};
    for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
        uint8_t dec[16];
        size_t n;
        if (scitt_base64_decode(scitt_span_str(bad_std[i]), dec, sizeof(dec), &n) == SCITT_OK) {
            fail_msg("base64 accepted %s", bad_std[i]);
        }
    }
    static const char *bad_url[] = {"Zg==", "Z", "Zh", "+//+", "Zm9v YmFy"};
    for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
        uint8_t dec[16];
        size_t n;
        if (scitt_base64url_decode(scitt_span_str(bad_url[i]), dec, sizeof(dec), &n) == SCITT_OK) {
            fail_msg("base64url accepted %s", bad_url[i]);
        }
    }
}

static void test_utc_time(void **state)
{
    (void)state;
    /* Days against values computed independently (timegm of the same dates). */
    assert_int_equal(scitt_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(scitt_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(scitt_days_from_civil(2000, 2, 29), 11016);
    assert_int_equal(scitt_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(scitt_days_from_civil(2100, 3, 1), 47541);
    assert_int_equal(scitt_days_from_civil(1600, 1, 1), -135140);
    int64_t t = 0;
    assert_int_equal(scitt_utc_parse(scitt_span_str("2025-07-15T12:34:56Z"), &t), SCITT_OK);
    assert_int_equal(t, 1752582896);
    assert_int_equal(scitt_utc_parse(scitt_span_str("1970-01-01T00:00:00Z"), &t), SCITT_OK);
    assert_int_equal(t, 0);
    assert_int_equal(scitt_utc_parse(scitt_span_str("1969-12-31T23:59:59Z"), &t), SCITT_OK);
    assert_int_equal(t, -1);
    assert_int_equal(scitt_utc_parse(scitt_span_str("2024-02-29T00:00:00Z"), &t), SCITT_OK);
    assert_int_equal(t, 1709164800);
    static const char *bad[] = {
        "2023-02-29T00:00:00Z",      /* not a leap year */
        "1900-02-29T00:00:00Z",      /* a century that is not a leap year */
        "2024-04-31T00:00:00Z",      /* April has 30 days */
        "2024-13-01T00:00:00Z",      /* month */
        "2024-00-01T00:00:00Z",      /* month */
        "2024-01-00T00:00:00Z",      /* day */
        "2024-01-01T24:00:00Z",      /* hour */
        "2024-01-01T00:60:00Z",      /* minute */
        "2024-01-01T00:00:60Z",      /* leap seconds are not taken */
        "2024-01-01T00:00:00",       /* no zone */
        "2024-01-01T00:00:00+00:00", /* only Z */
        "2024-01-01 00:00:00Z",      /* separator */
        "2024-01-01T00:00:00.5Z",    /* fractions */
        "2024-1-01T00:00:00Z",       /* short field */
        "+024-01-01T00:00:00Z",      /* sign */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 42;
        assert_int_equal(scitt_utc_parse(scitt_span_str(bad[i]), &t), SCITT_ERR_MALFORMED);
        assert_int_equal(t, 42);
    }
    assert_int_equal(scitt_utc_parse(scitt_span_make(NULL, 20), &t), SCITT_ERR_MALFORMED);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(scitt_utf8_valid(scitt_span_str("plain")));
    assert_true(scitt_utf8_valid(scitt_span_str("\xe2\x80\x94 \xf0\x9f\x94\xa5")));
    static const char *bad[] = {
        "\x80",             /* lone continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x80",         /* truncated */
        "\xff",             /* never valid */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(scitt_utf8_valid(scitt_span_str(bad[i])));
    }
}

static void test_sha(void **state)
{
    (void)state;
    uint8_t h[64];
    size_t n;
    scitt_sha256("abc", 3, h);
    uint8_t *w = tu_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &n);
    assert_memory_equal(h, w, 32);
    free(w);
    scitt_span parts[3] = {scitt_span_str("a"), scitt_span_str(""), scitt_span_str("bc")};
    scitt_sha256_v(parts, 3, h);
    w = tu_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &n);
    assert_memory_equal(h, w, 32);
    free(w);
    scitt_sha384("abc", 3, h);
    w = tu_hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358b"
               "aeca134c825a7",
               &n);
    assert_memory_equal(h, w, 48);
    free(w);
    scitt_sha512("abc", 3, h);
    w = tu_hex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836b"
               "a3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
               &n);
    assert_memory_equal(h, w, 64);
    free(w);
}

static int fail_after;
static void *failing_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return fail_after-- > 0 ? malloc(n) : NULL;
}
static void *failing_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return fail_after-- > 0 ? realloc(p, n) : NULL;
}
static void plain_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static void test_allocator_hooks(void **state)
{
    (void)state;
    scitt_allocator a = {failing_alloc, failing_realloc, plain_free, NULL};
    scitt_set_allocator(&a);
    fail_after = 0;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_put(&b, "x", 1);
    assert_int_equal(b.err, SCITT_ERR_NOMEM);
    scitt_dynbuf_clear(&b);
    assert_null(scitt_malloc(10));
    assert_null(scitt_calloc(SIZE_MAX, 2)); /* overflow is refused before allocating */
    scitt_set_allocator(NULL);
    void *p = scitt_malloc(10);
    assert_non_null(p);
    scitt_free(p);
    scitt_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_strings),     cmocka_unit_test(test_reader),
        cmocka_unit_test(test_writer),          cmocka_unit_test(test_dynbuf),
        cmocka_unit_test(test_ct_equal),        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_base64),          cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_utc_time),        cmocka_unit_test(test_sha),
        cmocka_unit_test(test_allocator_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
