/*
 * The strict CBOR reader and the deterministic writer: a table of malformed inputs (one reason per
 * row), every 1- and 2-byte input against an independent recursive reference of the same rules,
 * exact writer bytes, limits, and the cursor contract (peek, skip, finish).
 */
#include "testutil.h"

#include "scitt/cbor.h"

/* ------------------------------------------------------------------------------------------ */
/* Malformed inputs                                                                            */

typedef struct {
    const char *hex;
    scitt_err want;
    const char *why;
} bad_row;

static const bad_row bad_rows[] = {
    /* heads not in their shortest form */
    {"1817", SCITT_ERR_NON_CANONICAL, "23 written with a one-byte argument"},
    {"190017", SCITT_ERR_NON_CANONICAL, "23 written with a two-byte argument"},
    {"1900ff", SCITT_ERR_NON_CANONICAL, "255 fits one byte"},
    {"1a0000ffff", SCITT_ERR_NON_CANONICAL, "65535 fits two bytes"},
    {"1b00000000ffffffff", SCITT_ERR_NON_CANONICAL, "2^32-1 fits four bytes"},
    {"3817", SCITT_ERR_NON_CANONICAL, "-24 written with a one-byte argument"},
    {"580100", SCITT_ERR_NON_CANONICAL, "bstr length 1 in a one-byte argument"},
    {"78016161", SCITT_ERR_NON_CANONICAL, "tstr length 1 in a one-byte argument"},
    {"980100", SCITT_ERR_NON_CANONICAL, "array count 1 in a one-byte argument"},
    {"b800", SCITT_ERR_NON_CANONICAL, "empty map with a one-byte count"},
    {"d81280", SCITT_ERR_NON_CANONICAL, "tag 18 in two bytes (must be d2)"},
    {"d9001280", SCITT_ERR_NON_CANONICAL, "tag 18 in three bytes"},
    /* indefinite lengths */
    {"5f4100ff", SCITT_ERR_INDEFINITE, "indefinite byte string"},
    {"7f6161ff", SCITT_ERR_INDEFINITE, "indefinite text string"},
    {"9f00ff", SCITT_ERR_INDEFINITE, "indefinite array"},
    {"bf0000ff", SCITT_ERR_INDEFINITE, "indefinite map"},
    {"819f00ff", SCITT_ERR_INDEFINITE, "indefinite array nested in a definite one"},
    /* reserved and meaningless heads */
    {"ff", SCITT_ERR_MALFORMED, "break outside an indefinite item"},
    {"1c", SCITT_ERR_MALFORMED, "reserved additional information 28"},
    {"3d", SCITT_ERR_MALFORMED, "reserved additional information 29"},
    {"5e", SCITT_ERR_MALFORMED, "reserved additional information 30"},
    {"1f", SCITT_ERR_MALFORMED, "uint with additional information 31"},
    {"3f", SCITT_ERR_MALFORMED, "negint with additional information 31"},
    {"df00", SCITT_ERR_MALFORMED, "tag with additional information 31"},
    {"f800", SCITT_ERR_MALFORMED, "two-byte simple value below 32"},
    {"f81f", SCITT_ERR_MALFORMED, "two-byte simple value 31"},
    /* simple values COSE never uses */
    {"e0", SCITT_ERR_BAD_SIMPLE, "simple value 0"},
    {"f3", SCITT_ERR_BAD_SIMPLE, "simple value 19"},
    {"f820", SCITT_ERR_BAD_SIMPLE, "simple value 32"},
    {"f8ff", SCITT_ERR_BAD_SIMPLE, "simple value 255"},
    /* duplicate and unusable map keys */
    {"a201010101", SCITT_ERR_DUPLICATE_KEY, "{1: 1, 1: 1}"},
    {"a201000102", SCITT_ERR_DUPLICATE_KEY, "{1: 0, 1: 2}: same key, different values"},
    {"a2616101616102", SCITT_ERR_DUPLICATE_KEY, "{\"a\": 1, \"a\": 2}"},
    {"a2410001410002", SCITT_ERR_DUPLICATE_KEY, "{h'00': 1, h'00': 2}"},
    {"a101a2020002f6", SCITT_ERR_DUPLICATE_KEY, "duplicate inside a nested map"},
    {"81a22000200f", SCITT_ERR_DUPLICATE_KEY, "duplicate -1 inside an array"},
    {"a18000", SCITT_ERR_BAD_TYPE, "array as a map key"},
    {"a1f600", SCITT_ERR_BAD_TYPE, "null as a map key"},
    {"a1c10000", SCITT_ERR_BAD_TYPE, "tagged map key"},
    /* text that is not UTF-8 */
    {"61ff", SCITT_ERR_UTF8, "0xff is never UTF-8"},
    {"62c328", SCITT_ERR_UTF8, "truncated two-byte sequence"},
    {"62c0af", SCITT_ERR_UTF8, "overlong '/'"},
    {"63eda080", SCITT_ERR_UTF8, "UTF-16 surrogate D800"},
    {"64f4908080", SCITT_ERR_UTF8, "code point above U+10FFFF"},
    {"a161ff00", SCITT_ERR_UTF8, "bad UTF-8 in a map key"},
    /* truncation */
    {"", SCITT_ERR_TRUNCATED, "empty input"},
    {"18", SCITT_ERR_TRUNCATED, "missing one-byte argument"},
    {"1901", SCITT_ERR_TRUNCATED, "half a two-byte argument"},
    {"1b000000", SCITT_ERR_TRUNCATED, "half an eight-byte argument"},
    {"430102", SCITT_ERR_TRUNCATED, "bstr of 3 with 2 bytes"},
    {"8201", SCITT_ERR_TRUNCATED, "array missing its second element"},
    {"a101", SCITT_ERR_TRUNCATED, "map missing a value"},
    {"d2", SCITT_ERR_TRUNCATED, "tag without its item"},
    {"c1c1", SCITT_ERR_TRUNCATED, "nested tags without an item"},
    {"f9", SCITT_ERR_TRUNCATED, "half float without bytes"},
    /* trailing bytes */
    {"0101", SCITT_ERR_TRAILING, "two items where one is expected"},
    {"a000", SCITT_ERR_TRAILING, "a byte after a complete map"},
    {"8100f6", SCITT_ERR_TRAILING, "a byte after a complete array"},
    /* huge declared lengths: rejected from the head, nothing allocated */
    {"5bffffffffffffffff", SCITT_ERR_TRUNCATED, "bstr declaring 2^64-1 bytes"},
    {"7a7fffffff", SCITT_ERR_TRUNCATED, "tstr declaring 2 GiB"},
    {"9a20c49ba600", SCITT_ERR_TRUNCATED, "array declaring 549 million items (libcbor: 4.4 GB)"},
    {"9b0000000100000000", SCITT_ERR_TRUNCATED, "array declaring 2^32 items"},
    {"bbffffffffffffffff", SCITT_ERR_TRUNCATED, "map declaring 2^64-1 pairs"},
    {"a3000000", SCITT_ERR_TRUNCATED, "map of 3 pairs in 3 bytes"},
};

static void test_malformed_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        size_t n;
        uint8_t *in = tu_hex(bad_rows[i].hex, &n);
        scitt_err e = scitt_cbor_validate(scitt_span_make(in, n));
        if (e != bad_rows[i].want) {
            fail_msg("row %zu (%s: %s): got %s, want %s", i, bad_rows[i].hex, bad_rows[i].why,
                     scitt_err_name(e), scitt_err_name(bad_rows[i].want));
        }
        free(in);
    }
}

/* Limits that need longer inputs than a table row. */
static void test_limits(void **state)
{
    (void)state;
    /* 16 nested arrays are fine, 17 are one too deep. */
    uint8_t deep[32];
    for (size_t depth = 16; depth <= 17; depth++) {
        memset(deep, 0x81, depth);
        deep[depth] = 0x00;
        scitt_err want = depth == 16 ? SCITT_OK : SCITT_ERR_TOO_DEEP;
        assert_int_equal(scitt_cbor_validate(scitt_span_make(deep, depth + 1)), want);
    }
    /* Tags count towards depth too. */
    memset(deep, 0xc1, 17);
    deep[17] = 0x00;
    assert_int_equal(scitt_cbor_validate(scitt_span_make(deep, 18)), SCITT_ERR_TOO_DEEP);

    /* An array of 4097 items is over SCITT_LIMIT_CBOR_ITEMS even when the bytes are there. */
    size_t n = 3 + 4097;
    uint8_t *big = calloc(1, n);
    big[0] = 0x99, big[1] = 0x10, big[2] = 0x01;
    assert_int_equal(scitt_cbor_validate(scitt_span_make(big, n)), SCITT_ERR_TOO_LARGE);
    big[2] = 0x00; /* 4096 items: allowed */
    assert_int_equal(scitt_cbor_validate(scitt_span_make(big, n - 1)), SCITT_OK);
    free(big);

    /* 17 arrays of 4096 zeros: 69,649 items in one object, over SCITT_LIMIT_CBOR_TOTAL. */
    n = 1 + 17 * (3 + 4096);
    big = calloc(1, n);
    big[0] = 0x91; /* array of 17 */
    for (size_t i = 0; i < 17; i++) {
        uint8_t *a = big + 1 + i * (3 + 4096);
        a[0] = 0x99, a[1] = 0x10, a[2] = 0x00;
    }
    assert_int_equal(scitt_cbor_validate(scitt_span_make(big, n)), SCITT_ERR_TOO_LARGE);
    free(big);

    /* A map with more keys than fit the on-stack scratch (heap path), with a late duplicate. */
    size_t len = 2 + 3 * 200;
    big = calloc(1, len);
    big[0] = 0xb8, big[1] = 200;
    for (size_t i = 0; i < 200; i++) {
        big[2 + 3 * i] = 0x18, big[3 + 3 * i] = (uint8_t)(24 + i), big[4 + 3 * i] = 0xf6;
    }
    assert_int_equal(scitt_cbor_validate(scitt_span_make(big, len)), SCITT_OK);
    big[3 + 3 * 199] = 24; /* the last key repeats the first */
    assert_int_equal(scitt_cbor_validate(scitt_span_make(big, len)), SCITT_ERR_DUPLICATE_KEY);
    free(big);
}

/* ------------------------------------------------------------------------------------------ */
/* Every 1- and 2-byte input against a recursive reference of the same rules                  */

static bool ref_utf8(const uint8_t *p, size_t n)
{
    return scitt_utf8_valid(scitt_span_make(p, n));
}

/* Returns bytes consumed by one valid item at p, or 0. Only for short inputs (recursion). */
static size_t ref_item(const uint8_t *p, size_t n, int depth, bool key)
{
    if (n == 0 || depth > 16) {
        return 0;
    }
    unsigned major = p[0] >> 5, ai = p[0] & 31;
    uint64_t arg;
    size_t hl;
    if (ai < 24) {
        arg = ai, hl = 1;
    } else if (ai <= 27) {
        hl = 1 + ((size_t)1 << (ai - 24));
        if (hl > n) {
            return 0;
        }
        arg = 0;
        for (size_t i = 1; i < hl; i++) {
            arg = arg << 8 | p[i];
        }
        if (major != 7) {
            uint64_t min = ai == 24 ? 24 : ai == 25 ? 256 : ai == 26 ? 65536 : 0x100000000ull;
            if (arg < min) {
                return 0;
            }
        } else if (ai == 24) {
            return 0; /* simple values other than 20..23 are rejected */
        }
    } else {
        return 0;
    }
    if (key && major > 3) {
        return 0;
    }
    switch (major) {
    case 0:
    case 1:
        return hl;
    case 2:
    case 3:
        if (arg > n - hl || (major == 3 && !ref_utf8(p + hl, (size_t)arg))) {
            return 0;
        }
        return hl + (size_t)arg;
    case 4:
    case 5: {
        if (major == 5 && arg > 64) {
            return 0; /* only short inputs come here */
        }
        size_t at = hl;
        size_t count = (size_t)arg * (major == 5 ? 2 : 1);
        if (arg > 4096 || depth + 1 > 16) {
            return arg == 0 ? hl : 0;
        }
        size_t keys[64];
        size_t key_len[64];
        for (size_t i = 0; i < count; i++) {
            bool is_key = major == 5 && i % 2 == 0;
            size_t m = ref_item(p + at, n - at, depth + 1, is_key);
            if (m == 0) {
                return 0;
            }
            if (is_key) {
                for (size_t k = 0; k < i / 2; k++) {
                    if (key_len[k] == m && memcmp(p + keys[k], p + at, m) == 0) {
                        return 0;
                    }
                }
                keys[i / 2] = at, key_len[i / 2] = m;
            }
            at += m;
        }
        return at;
    }
    case 6: {
        if (depth + 1 > 16) {
            return 0;
        }
        size_t m = ref_item(p + hl, n - hl, depth + 1, false);
        return m ? hl + m : 0;
    }
    default:
        if (ai >= 20 && ai <= 23) {
            return 1;
        }
        return ai >= 25 ? hl : 0;
    }
}

static void test_every_short_input(void **state)
{
    (void)state;
    uint8_t buf[2];
    size_t accepted = 0;
    for (unsigned len = 1; len <= 2; len++) {
        for (unsigned v = 0; v < (1u << (8 * len)); v++) {
            buf[0] = (uint8_t)(len == 1 ? v : v >> 8);
            buf[1] = (uint8_t)v;
            scitt_span in = scitt_span_make(buf, len);
            bool want = ref_item(buf, len, 0, false) == len;
            scitt_err e = scitt_cbor_validate(in);
            if ((e == SCITT_OK) != want) {
                fail_msg("input %02x%s%02x: reader %s, reference %s", buf[0], len > 1 ? "" : "",
                         len > 1 ? buf[1] : 0, scitt_err_name(e), want ? "valid" : "invalid");
            }
            accepted += e == SCITT_OK;
            /* The item-at-a-time API must agree and never run past the input. */
            scitt_cbor_reader r;
            scitt_cbor_reader_init(&r, in);
            scitt_cbor_item it;
            while (scitt_cbor_next(&r, &it) == SCITT_OK) {
                assert_true(r.pos <= len);
            }
            assert_true(r.pos <= len);
        }
    }
    /* 1-byte: 24 uints, 24 negints, "", "", [], {}, false, true, null, undefined = 56. */
    assert_true(accepted > 56);
}

/* ------------------------------------------------------------------------------------------ */
/* Writer                                                                                      */

static void expect_bytes(scitt_cbor_writer *w, const char *hex)
{
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(w, &out), SCITT_OK);
    char got[512];
    assert_int_equal(scitt_hex_encode(out, got, sizeof(got)), SCITT_OK);
    assert_string_equal(got, hex);
}

static void test_writer_exact(void **state)
{
    (void)state;
    uint8_t buf[256];
    scitt_cbor_writer w;
    static const struct {
        int64_t v;
        const char *hex;
    } ints[] = {{0, "00"},
                {23, "17"},
                {24, "1818"},
                {255, "18ff"},
                {256, "190100"},
                {65535, "19ffff"},
                {65536, "1a00010000"},
                {4294967295, "1affffffff"},
                {4294967296, "1b0000000100000000"},
                {INT64_MAX, "1b7fffffffffffffff"},
                {-1, "20"},
                {-24, "37"},
                {-25, "3818"},
                {-256, "38ff"},
                {-257, "390100"},
                {INT64_MIN, "3b7fffffffffffffff"}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        scitt_cbor_writer_init(&w, buf, sizeof(buf));
        scitt_cbor_put_int(&w, ints[i].v);
        expect_bytes(&w, ints[i].hex);
    }
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_uint(&w, UINT64_MAX);
    expect_bytes(&w, "1bffffffffffffffff");

    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_tag(&w, 18);
    scitt_cbor_put_array(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_span_make("\xa1\x01\x26", 3));
    scitt_cbor_put_map(&w, 0);
    scitt_cbor_put_null(&w);
    scitt_cbor_put_bytes(&w, scitt_span_make(NULL, 0));
    expect_bytes(&w, "d28443a10126a0f640");

    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_cstr(&w, "tree_size");
    scitt_cbor_put_bool(&w, true);
    scitt_cbor_put_bool(&w, false);
    scitt_cbor_put_tag(&w, 258);
    scitt_cbor_put_bytes_head(&w, 300);
    expect_bytes(&w, "69747265655f73697a65f5f4d9010259012c");

    /* Invalid UTF-8 text is refused and sticks. */
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_text(&w, scitt_span_make("\xc0\xaf", 2));
    scitt_cbor_put_uint(&w, 1);
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_UTF8);
}

static void test_writer_overflow_and_dynbuf(void **state)
{
    (void)state;
    uint8_t small[4];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, small, sizeof(small));
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_uint(&w, 1000); /* 3 bytes: fits (4 total) */
    scitt_cbor_put_bytes(&w, scitt_span_make("abcdef", 6));
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(w.len, 4);
    assert_int_equal(w.need, 4 + 7); /* the caller learns the size to retry with */

    /* Measuring with no storage at all. */
    scitt_cbor_writer_init(&w, NULL, 0);
    scitt_cbor_put_text(&w, scitt_span_str("hello"));
    assert_int_equal(w.need, 6);

    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_put(&b, "xy", 2); /* the writer appends after what is there */
    scitt_cbor_writer_init_dynbuf(&w, &b);
    for (int i = 0; i < 1000; i++) {
        scitt_cbor_put_uint(&w, 1000);
    }
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    assert_int_equal(out.len, 3000);
    assert_int_equal(b.len, 3002);
    assert_ptr_equal(out.ptr, b.ptr + 2);
    scitt_dynbuf_clear(&b);

    /* A dynbuf ceiling becomes the writer's error. */
    scitt_dynbuf_init(&b, 8);
    scitt_cbor_writer_init_dynbuf(&w, &b);
    scitt_cbor_put_bytes(&w, scitt_span_make("0123456789", 10));
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&b);
}

/* ------------------------------------------------------------------------------------------ */
/* Reader API                                                                                  */

/* finish refuses an encoding whose array, map or tag is not filled: a wrong count never yields
 * bytes. */
static void test_writer_nesting(void **state)
{
    (void)state;
    uint8_t buf[256];
    scitt_cbor_writer w;
    scitt_span out;

    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_TRUNCATED);
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_ERR_TRUNCATED);
    scitt_cbor_put_uint(&w, 2);
    expect_bytes(&w, "820102");

    /* A map counts keys and values: one key alone leaves it unfilled. */
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_int(&w, -1);
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_TRUNCATED);
    scitt_cbor_put_cstr(&w, "x");
    expect_bytes(&w, "a1206178");

    /* A tag expects its item; nested containers close from the inside out. */
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_tag(&w, 18);
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_TRUNCATED);
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_array(&w, 1);
    scitt_cbor_put_map(&w, 0);
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_TRUNCATED);
    scitt_cbor_put_null(&w);
    expect_bytes(&w, "d28281a0f6");

    /* put_raw is one item; empty containers are complete at once; items after a filled
     * container are top-level again. */
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_raw(&w, scitt_span_make("\x82\x01\x02", 3));
    scitt_cbor_put_array(&w, 0);
    scitt_cbor_put_bool(&w, true);
    expect_bytes(&w, "82820102"
                     "80f5");

    /* Too deep: the sticky error, not a wrong encoding. */
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    for (unsigned i = 0; i <= SCITT_CBOR_WRITE_DEPTH; i++) {
        scitt_cbor_put_array(&w, 1);
    }
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_TOO_DEEP);
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    for (unsigned i = 0; i < SCITT_CBOR_WRITE_DEPTH; i++) {
        scitt_cbor_put_array(&w, 1);
    }
    scitt_cbor_put_uint(&w, 0);
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    assert_int_equal(out.len, SCITT_CBOR_WRITE_DEPTH + 1);
}

/* The contents of a byte-string wrap, written with the same calls into @p w. */
static void wrapped_proof(scitt_cbor_writer *w, size_t n)
{
    static const uint8_t h[32] = {1, 2, 3};
    scitt_cbor_put_array(w, 3);
    scitt_cbor_put_uint(w, 7);
    scitt_cbor_put_uint(w, 300);
    scitt_cbor_put_array(w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_bytes(w, scitt_span_make(h, sizeof(h)));
    }
}

/* open_bytes/close_bytes write exactly what put_bytes of the separately encoded contents does,
 * for every head length, into fixed storage, a dynbuf and a too small buffer. */
static void test_writer_bytes_wrap(void **state)
{
    (void)state;
    static uint8_t inner[16384], want[16400], got[16400];
    for (size_t n = 0; n < 300; n = n < 3 ? n + 1 : n * 2 + 1) {
        scitt_cbor_writer w;
        scitt_span in, ws, gs;
        scitt_cbor_writer_init(&w, inner, sizeof(inner));
        wrapped_proof(&w, n);
        assert_int_equal(scitt_cbor_writer_finish(&w, &in), SCITT_OK);
        scitt_cbor_writer_init(&w, want, sizeof(want));
        scitt_cbor_put_map(&w, 1);
        scitt_cbor_put_int(&w, -1);
        scitt_cbor_put_bytes(&w, in);
        assert_int_equal(scitt_cbor_writer_finish(&w, &ws), SCITT_OK);

        scitt_cbor_writer_init(&w, got, sizeof(got));
        scitt_cbor_put_map(&w, 1);
        scitt_cbor_put_int(&w, -1);
        scitt_cbor_open_bytes(&w);
        wrapped_proof(&w, n);
        assert_int_equal(scitt_cbor_writer_finish(&w, &gs), SCITT_ERR_TRUNCATED);
        scitt_cbor_close_bytes(&w);
        assert_int_equal(scitt_cbor_writer_finish(&w, &gs), SCITT_OK);
        assert_int_equal(gs.len, ws.len);
        assert_memory_equal(gs.ptr, ws.ptr, ws.len);

        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_dynbuf_put(&b, "x", 1); /* the writer appends after what is there */
        scitt_cbor_writer_init_dynbuf(&w, &b);
        scitt_cbor_put_map(&w, 1);
        scitt_cbor_put_int(&w, -1);
        scitt_cbor_open_bytes(&w);
        wrapped_proof(&w, n);
        scitt_cbor_close_bytes(&w);
        assert_int_equal(scitt_cbor_writer_finish(&w, &gs), SCITT_OK);
        assert_int_equal(gs.len, ws.len);
        assert_memory_equal(gs.ptr, ws.ptr, ws.len);
        assert_int_equal(b.ptr[0], 'x');
        scitt_dynbuf_clear(&b);

        /* Too small, and measuring: need is exact either way. */
        for (size_t cap = 0; cap < ws.len; cap += ws.len / 7 + 1) {
            scitt_cbor_writer_init(&w, cap ? got : NULL, cap);
            scitt_cbor_put_map(&w, 1);
            scitt_cbor_put_int(&w, -1);
            scitt_cbor_open_bytes(&w);
            wrapped_proof(&w, n);
            scitt_cbor_close_bytes(&w);
            assert_int_equal(scitt_cbor_writer_finish(&w, &gs), SCITT_ERR_BUFFER_TOO_SMALL);
            assert_int_equal(w.need, ws.len);
        }
    }

    /* Nested wraps, and an empty one. */
    uint8_t buf[64];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_open_bytes(&w);
    scitt_cbor_open_bytes(&w);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_close_bytes(&w);
    scitt_cbor_open_bytes(&w);
    scitt_cbor_close_bytes(&w);
    scitt_cbor_close_bytes(&w);
    expect_bytes(&w, "43"
                     "4101"
                     "40");

    /* Closing over an unfilled array, or with nothing open, is a misuse that sticks. */
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_open_bytes(&w);
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_close_bytes(&w);
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_INVALID_ARG);
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_close_bytes(&w);
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_INVALID_ARG);
    /* An open wrap is unfilled. */
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_open_bytes(&w);
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_ERR_TRUNCATED);
}

static void test_reader_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[256];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_map(&w, 3);
    scitt_cbor_put_int(&w, 1);
    scitt_cbor_put_int(&w, -7);
    scitt_cbor_put_int(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_span_make("kid", 3));
    scitt_cbor_put_cstr(&w, "x");
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_tag(&w, 1);
    scitt_cbor_put_uint(&w, 1700000000);
    scitt_cbor_put_null(&w);
    scitt_span enc;
    assert_int_equal(scitt_cbor_writer_finish(&w, &enc), SCITT_OK);

    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, enc);
    size_t n;
    int64_t i64;
    uint64_t u;
    scitt_span s;
    scitt_cbor_item it;
    assert_int_equal(scitt_cbor_read_map(&r, &n), SCITT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(scitt_cbor_reader_left_in_container(&r), 6);
    assert_int_equal(scitt_cbor_read_int(&r, &i64), SCITT_OK);
    assert_int_equal(i64, 1);
    assert_int_equal(scitt_cbor_read_int(&r, &i64), SCITT_OK);
    assert_int_equal(i64, -7);
    assert_int_equal(scitt_cbor_read_uint(&r, &u), SCITT_OK);
    assert_int_equal(scitt_cbor_read_bytes(&r, &s), SCITT_OK);
    assert_true(scitt_span_eq_str(s, "kid"));
    assert_int_equal(scitt_cbor_read_text(&r, &s), SCITT_OK);
    /* peek leaves the reader where it is */
    assert_int_equal(scitt_cbor_peek(&r, &it), SCITT_OK);
    assert_int_equal(it.type, SCITT_CBOR_ARRAY);
    size_t before = r.pos;
    scitt_span raw;
    assert_int_equal(scitt_cbor_skip(&r, &raw), SCITT_OK);
    assert_int_equal(raw.ptr - enc.ptr, (long)before);
    assert_int_equal(raw.len, enc.len - before);
    assert_int_equal(r.depth, 0);
    assert_int_equal(scitt_cbor_reader_finish(&r), SCITT_OK);

    /* A typed read meeting a tag says so, and the error sticks. */
    scitt_cbor_reader_init(&r, scitt_span_make("\xc1\x01", 2));
    assert_int_equal(scitt_cbor_read_uint(&r, &u), SCITT_ERR_BAD_TAG);
    assert_int_equal(scitt_cbor_read_tag(&r, &u), SCITT_ERR_BAD_TAG);
    scitt_cbor_reader_init(&r, scitt_span_make("\xc1\x01", 2));
    assert_int_equal(scitt_cbor_read_tag(&r, &u), SCITT_OK);
    assert_int_equal(u, 1);
    assert_int_equal(scitt_cbor_read_uint(&r, &u), SCITT_OK);
    assert_int_equal(scitt_cbor_reader_finish(&r), SCITT_OK);

    /* Integers outside int64 are a range error, not a wrap. */
    scitt_cbor_reader_init(&r, scitt_span_make("\x3b\x80\x00\x00\x00\x00\x00\x00\x00", 9));
    assert_int_equal(scitt_cbor_read_int(&r, &i64), SCITT_ERR_RANGE);

    /* Finishing inside an open container is truncation, not success. */
    scitt_cbor_reader_init(&r, scitt_span_make("\x82\x01\x02", 3));
    assert_int_equal(scitt_cbor_read_array(&r, &n), SCITT_OK);
    assert_int_equal(scitt_cbor_read_uint(&r, &u), SCITT_OK);
    assert_int_equal(scitt_cbor_reader_finish(&r), SCITT_ERR_TRUNCATED);

    /* read_map validates the whole map before handing out its first key. */
    scitt_cbor_reader_init(&r, scitt_span_make("\xa2\x01\xa2\x02\x00\x02\x01\x03\x00", 9));
    assert_int_equal(scitt_cbor_read_map(&r, &n), SCITT_ERR_DUPLICATE_KEY);

    /* One-byte tags 6..20 (COSE's 16, 17, 18) are decoded here, not by libcbor. */
    for (uint8_t t = 6; t <= 20; t++) {
        uint8_t in[2] = {(uint8_t)(0xc0 | t), 0x80};
        scitt_cbor_reader_init(&r, scitt_span_make(in, 2));
        assert_int_equal(scitt_cbor_read_tag(&r, &u), SCITT_OK);
        assert_int_equal(u, t);
        assert_int_equal(scitt_cbor_read_array(&r, &n), SCITT_OK);
        assert_int_equal(scitt_cbor_reader_finish(&r), SCITT_OK);
    }

    /* Floats are read (CWT NumericDate may be one) with libcbor's conversion. */
    scitt_cbor_reader_init(&r, scitt_span_make("\xf9\x3c\x00", 3));
    assert_int_equal(scitt_cbor_next(&r, &it), SCITT_OK);
    assert_int_equal(it.type, SCITT_CBOR_FLOAT);
    assert_true(it.f == 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_every_short_input),
        cmocka_unit_test(test_writer_exact),
        cmocka_unit_test(test_writer_overflow_and_dynbuf),
        cmocka_unit_test(test_writer_nesting),
        cmocka_unit_test(test_writer_bytes_wrap),
        cmocka_unit_test(test_reader_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
