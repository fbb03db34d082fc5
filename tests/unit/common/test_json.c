/* The strict JSON reader: accepted documents, navigation, and a table of rejected inputs. */
#include "testutil.h"

#include "scitt/json.h"
#include "scitt/limits.h"

static void test_navigate(void **state)
{
    (void)state;
    const char *doc = " {\"a\": [1, -2, 3.5e2, true, false, null], \"b\": {\"c\": \"x\\u00e9\\n\"},"
                      " \"\\u0064\": \"\\ud83d\\udd25\", \"e\": {}, \"f\": []} ";
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_str(doc), &j), SCITT_OK);
    assert_int_equal(j.toks[0].type, SCITT_JSON_OBJECT);
    assert_int_equal(j.toks[0].count, 5);
    long a = scitt_json_get(&j, 0, "a");
    assert_true(a > 0);
    assert_int_equal(j.toks[a].count, 6);
    int64_t v;
    assert_int_equal(scitt_json_int(&j, (size_t)scitt_json_at(&j, (size_t)a, 1), &v), SCITT_OK);
    assert_int_equal(v, -2);
    assert_int_equal(scitt_json_int(&j, (size_t)scitt_json_at(&j, (size_t)a, 2), &v),
                     SCITT_ERR_RANGE);
    assert_int_equal(scitt_json_type_of(&j, (size_t)scitt_json_at(&j, (size_t)a, 3)),
                     SCITT_JSON_TRUE);
    assert_int_equal(scitt_json_type_of(&j, (size_t)scitt_json_at(&j, (size_t)a, 5)),
                     SCITT_JSON_NULL);
    assert_int_equal(scitt_json_at(&j, (size_t)a, 6), -1);
    long b = scitt_json_get(&j, 0, "b");
    long c = scitt_json_get(&j, (size_t)b, "c");
    char s[32];
    size_t n;
    assert_int_equal(scitt_json_string(&j, (size_t)c, s, sizeof(s), &n), SCITT_OK);
    assert_string_equal(s, "x\xc3\xa9\n");
    /* escaped key matches its plain form; surrogate pair decodes to U+1F525 */
    long d = scitt_json_get(&j, 0, "d");
    assert_true(d > 0);
    assert_int_equal(scitt_json_string(&j, (size_t)d, s, sizeof(s), &n), SCITT_OK);
    assert_string_equal(s, "\xf0\x9f\x94\xa5");
    assert_int_equal(j.toks[scitt_json_get(&j, 0, "e")].count, 0);
    assert_int_equal(j.toks[scitt_json_get(&j, 0, "f")].count, 0);
    assert_int_equal(scitt_json_get(&j, 0, "missing"), -1);
    long m = scitt_json_member(&j, 0, 4);
    assert_true(scitt_json_str_eq(&j, (size_t)m, "f"));
    char *dup;
    assert_int_equal(scitt_json_strdup(&j, (size_t)c, &dup), SCITT_OK);
    assert_string_equal(dup, "x\xc3\xa9\n");
    scitt_free(dup);
    assert_int_equal(scitt_json_string(&j, (size_t)c, s, 3, &n), SCITT_ERR_BUFFER_TOO_SMALL);
    scitt_json_clear(&j);

    assert_int_equal(scitt_json_parse(scitt_span_str("-0"), &j), SCITT_OK);
    scitt_json_clear(&j);
    assert_int_equal(scitt_json_parse(scitt_span_str("\"\""), &j), SCITT_OK);
    scitt_json_clear(&j);
    assert_int_equal(scitt_json_parse(scitt_span_str("[[[]],{}]"), &j), SCITT_OK);
    assert_int_equal(j.toks[0].count, 2);
    assert_int_equal(j.toks[0].next, 4);
    scitt_json_clear(&j);
}

static void test_int_range(void **state)
{
    (void)state;
    scitt_json j;
    int64_t v;
    assert_int_equal(scitt_json_parse(scitt_span_str("[9223372036854775807,-9223372036854775808,"
                                                     "9223372036854775808,1e3]"),
                                      &j),
                     SCITT_OK);
    assert_int_equal(scitt_json_int(&j, 1, &v), SCITT_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(scitt_json_int(&j, 2, &v), SCITT_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(scitt_json_int(&j, 3, &v), SCITT_ERR_RANGE);
    assert_int_equal(scitt_json_int(&j, 4, &v), SCITT_ERR_RANGE);
    uint64_t u;
    assert_int_equal(scitt_json_u64(&j, 3, &u), SCITT_OK);
    assert_true(u == 9223372036854775808ull);
    assert_int_equal(scitt_json_u64(&j, 2, &u), SCITT_ERR_RANGE);
    scitt_json_clear(&j);
}

static void test_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        scitt_err want;
        const char *why;
    } rows[] = {
        {"", SCITT_ERR_JSON, "empty input"},
        {"   ", SCITT_ERR_JSON, "only whitespace"},
        {"[1,]", SCITT_ERR_JSON, "trailing comma in array"},
        {"{\"a\":1,}", SCITT_ERR_JSON, "trailing comma in object"},
        {"[1 2]", SCITT_ERR_JSON, "missing comma"},
        {"{\"a\" 1}", SCITT_ERR_JSON, "missing colon"},
        {"{a:1}", SCITT_ERR_JSON, "unquoted key"},
        {"{\"a\":1,\"a\":2}", SCITT_ERR_DUPLICATE_KEY, "duplicate key"},
        {"{\"a\":1,\"\\u0061\":2}", SCITT_ERR_DUPLICATE_KEY, "duplicate key, escaped"},
        {"[1] x", SCITT_ERR_TRAILING, "trailing garbage"},
        {"[1]]", SCITT_ERR_TRAILING, "extra close"},
        {"[", SCITT_ERR_JSON, "unclosed array"},
        {"{\"a\":", SCITT_ERR_JSON, "unclosed object"},
        {"\"abc", SCITT_ERR_JSON, "unterminated string"},
        {"\"a\tb\"", SCITT_ERR_JSON, "raw control character in string"},
        {"\"\\x\"", SCITT_ERR_JSON, "unknown escape"},
        {"\"\\u12\"", SCITT_ERR_JSON, "short unicode escape"},
        {"\"\xc3\"", SCITT_ERR_UTF8, "invalid UTF-8"},
        {"01", SCITT_ERR_TRAILING, "leading zero"},
        {"1.", SCITT_ERR_JSON, "fraction without digits"},
        {".5", SCITT_ERR_JSON, "no integer part"},
        {"1e", SCITT_ERR_JSON, "exponent without digits"},
        {"+1", SCITT_ERR_JSON, "plus sign"},
        {"-", SCITT_ERR_JSON, "lone minus"},
        {"tru", SCITT_ERR_JSON, "truncated literal"},
        {"nul1", SCITT_ERR_JSON, "bad literal"},
        {"NaN", SCITT_ERR_JSON, "NaN is not JSON"},
        {"// c\n1", SCITT_ERR_JSON, "comments"},
        {"[1,,2]", SCITT_ERR_JSON, "empty element"},
        {"{,}", SCITT_ERR_JSON, "comma in empty object"},
        {"[,]", SCITT_ERR_JSON, "comma in empty array"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_json j;
        scitt_err e = scitt_json_parse(scitt_span_str(rows[i].text), &j);
        if (e != rows[i].want) {
            fail_msg("%s: got %s", rows[i].why, scitt_err_name(e));
        }
    }
    /* depth limit */
    char deep[SCITT_LIMIT_JSON_DEPTH * 2 + 4];
    size_t d = SCITT_LIMIT_JSON_DEPTH + 1;
    memset(deep, '[', d);
    memset(deep + d, ']', d);
    deep[2 * d] = 0;
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_str(deep), &j), SCITT_ERR_TOO_DEEP);
    d = SCITT_LIMIT_JSON_DEPTH;
    memset(deep, '[', d);
    memset(deep + d, ']', d);
    deep[2 * d] = 0;
    assert_int_equal(scitt_json_parse(scitt_span_str(deep), &j), SCITT_OK);
    scitt_json_clear(&j);
    /* strings with NUL escapes are refused when extracted */
    assert_int_equal(scitt_json_parse(scitt_span_str("\"a\\u0000b\""), &j), SCITT_OK);
    char s[8];
    size_t n;
    assert_int_equal(scitt_json_string(&j, 0, s, sizeof(s), &n), SCITT_ERR_MALFORMED);
    scitt_json_clear(&j);
    /* lone surrogates */
    assert_int_equal(scitt_json_parse(scitt_span_str("\"\\ud800\""), &j), SCITT_OK);
    assert_int_equal(scitt_json_string(&j, 0, s, sizeof(s), &n), SCITT_ERR_UTF8);
    scitt_json_clear(&j);
}

static void test_writer_escapes(void **state)
{
    (void)state;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_put_string(&b, scitt_span_str("a\"b\\c\n\x01\xc3\xa9"));
    assert_int_equal(b.err, SCITT_OK);
    scitt_dynbuf_u8(&b, 0);
    assert_string_equal((char *)b.ptr, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    /* round trip through the reader */
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_make(b.ptr, b.len - 1), &j), SCITT_OK);
    assert_true(scitt_json_str_eq(&j, 0, "a\"b\\c\n\x01\xc3\xa9"));
    scitt_json_clear(&j);
    scitt_dynbuf_clear(&b);
}

/* A document written through the writer reads back through the reader, commas and all. */
static void test_writer_document(void **state)
{
    (void)state;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer w;
    scitt_json_writer_init(&w, &b);
    scitt_json_begin_object(&w);
    scitt_json_put_key(&w, "a");
    scitt_json_put_int(&w, -5);
    scitt_json_put_key(&w, "b");
    scitt_json_begin_array(&w);
    scitt_json_put_uint(&w, UINT64_MAX);
    scitt_json_put_bool(&w, true);
    scitt_json_put_null(&w);
    scitt_json_begin_object(&w);
    scitt_json_end_object(&w);
    scitt_json_begin_array(&w);
    scitt_json_end_array(&w);
    scitt_json_end_array(&w);
    scitt_json_put_key(&w, "h");
    scitt_json_put_hex(&w, scitt_span_make("\x00\xab", 2));
    scitt_json_put_key(&w, "s");
    scitt_json_put_cstr(&w, NULL);
    scitt_json_put_key(&w, "t");
    scitt_json_put_text(&w, scitt_span_str("x\ty"));
    scitt_json_end_object(&w);
    assert_int_equal(scitt_json_writer_finish(&w), SCITT_OK);
    scitt_dynbuf_u8(&b, 0);
    assert_string_equal((char *)b.ptr, "{\"a\":-5,\"b\":[18446744073709551615,true,null,{},[]],"
                                       "\"h\":\"00ab\",\"s\":\"\",\"t\":\"x\\ty\"}");
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_make(b.ptr, b.len - 1), &j), SCITT_OK);
    long t = scitt_json_get(&j, 0, "b");
    assert_true(t > 0 && scitt_json_at(&j, (size_t)t, 4) > 0);
    scitt_json_clear(&j);
    scitt_dynbuf_clear(&b);
}

/* Text that is not UTF-8 is written with U+FFFD for each byte outside ASCII: still JSON. */
static void test_writer_bad_utf8(void **state)
{
    (void)state;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer w;
    scitt_json_writer_init(&w, &b);
    scitt_json_put_text(&w, scitt_span_make("a\xff\xc3\xa9", 4));
    assert_int_equal(scitt_json_writer_finish(&w), SCITT_OK);
    scitt_dynbuf_u8(&b, 0);
    assert_string_equal((char *)b.ptr, "\"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    scitt_dynbuf_clear(&b);
}

typedef enum { W_OBJ, W_END_OBJ, W_ARR, W_END_ARR, W_KEY, W_NUM } wstep;

/* Each sequence is wrong in one way; finish must say so (and not SCITT_OK). */
static void test_writer_misuse(void **state)
{
    (void)state;
    static const struct {
        const char *why;
        wstep steps[8];
        size_t n;
        scitt_err want;
    } cases[] = {
        {"an unclosed object", {W_OBJ}, 1, SCITT_ERR_STATE},
        {"an unclosed array", {W_ARR, W_NUM}, 2, SCITT_ERR_STATE},
        {"a key without its value", {W_OBJ, W_KEY, W_END_OBJ}, 3, SCITT_ERR_STATE},
        {"a dangling key at the end", {W_OBJ, W_KEY}, 2, SCITT_ERR_STATE},
        {"a member without a key", {W_OBJ, W_NUM, W_END_OBJ}, 3, SCITT_ERR_STATE},
        {"a key inside an array", {W_ARR, W_KEY, W_NUM, W_END_ARR}, 4, SCITT_ERR_STATE},
        {"two keys in a row", {W_OBJ, W_KEY, W_KEY, W_NUM, W_END_OBJ}, 5, SCITT_ERR_STATE},
        {"an array closed as an object", {W_ARR, W_END_OBJ}, 2, SCITT_ERR_STATE},
        {"an object closed as an array", {W_OBJ, W_END_ARR}, 2, SCITT_ERR_STATE},
        {"a close without an open", {W_NUM, W_END_ARR}, 2, SCITT_ERR_STATE},
        {"two top-level values", {W_NUM, W_NUM}, 2, SCITT_ERR_STATE},
        {"nothing written", {W_NUM}, 0, SCITT_ERR_STATE},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_json_writer w;
        scitt_json_writer_init(&w, &b);
        for (size_t i = 0; i < cases[c].n; i++) {
            switch (cases[c].steps[i]) {
            case W_OBJ:
                scitt_json_begin_object(&w);
                break;
            case W_END_OBJ:
                scitt_json_end_object(&w);
                break;
            case W_ARR:
                scitt_json_begin_array(&w);
                break;
            case W_END_ARR:
                scitt_json_end_array(&w);
                break;
            case W_KEY:
                scitt_json_put_key(&w, "k");
                break;
            case W_NUM:
                scitt_json_put_int(&w, 1);
                break;
            }
        }
        if (scitt_json_writer_finish(&w) != cases[c].want) {
            fail_msg("%s: finish gave %s", cases[c].why,
                     scitt_err_name(scitt_json_writer_finish(&w)));
        }
        scitt_dynbuf_clear(&b);
    }
}

/* Nesting is bounded like the reader's; the output buffer's ceiling is reported too. */
static void test_writer_limits(void **state)
{
    (void)state;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer w;
    scitt_json_writer_init(&w, &b);
    for (unsigned i = 0; i < SCITT_LIMIT_JSON_DEPTH; i++) {
        scitt_json_begin_array(&w);
    }
    assert_int_equal(scitt_json_writer_finish(&w), SCITT_ERR_STATE);
    scitt_json_begin_array(&w);
    assert_int_equal(scitt_json_writer_finish(&w), SCITT_ERR_TOO_DEEP);
    scitt_dynbuf_clear(&b);

    scitt_dynbuf_init(&b, 8);
    scitt_json_writer_init(&w, &b);
    scitt_json_put_cstr(&w, "longer than eight bytes");
    assert_int_equal(scitt_json_writer_finish(&w), SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_navigate),        cmocka_unit_test(test_int_range),
        cmocka_unit_test(test_rejects),         cmocka_unit_test(test_writer_escapes),
        cmocka_unit_test(test_writer_document), cmocka_unit_test(test_writer_bad_utf8),
        cmocka_unit_test(test_writer_misuse),   cmocka_unit_test(test_writer_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
