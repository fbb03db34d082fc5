/* Concise problem details: exact bytes of the encoding and the UTF-8 check. */
#include "testutil.h"

#include "scitt/problem.h"

static void test_exact_bytes(void **state)
{
    (void)state;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_problem_encode("Not Found", "no entry", &b), SCITT_OK);
    /* {-1: "Not Found", -2: "no entry"} */
    static const uint8_t want[] = {0xa2, 0x20, 0x69, 'N', 'o', 't', ' ', 'F', 'o', 'u', 'n',
                                   'd',  0x21, 0x68, 'n', 'o', ' ', 'e', 'n', 't', 'r', 'y'};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    scitt_dynbuf_clear(&b);
    /* a 30-byte detail takes the one-byte length head 0x78 0x1e */
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_problem_encode("T", "012345678901234567890123456789", &b), SCITT_OK);
    assert_int_equal(b.ptr[5], 0x78);
    assert_int_equal(b.ptr[6], 30);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_problem_encode("T", "\xff", &b), SCITT_ERR_UTF8);
    assert_int_equal(b.len, 0);
    scitt_dynbuf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_exact_bytes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
