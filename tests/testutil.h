/*
 * Helpers shared by the unit tests: locating the test data (tests/data), reading files, hex. Tests
 * include this header only; it is not part of any library.
 */
#ifndef SCITT_TESTUTIL_H
#define SCITT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fnmatch.h>
#include <setjmp.h>
#include <cmocka.h>

#include "scitt/base.h"

/*
 * Keeps only the case named by argv[1] (ctest runs each case of a binary as its own test; cmocka's
 * pattern, * and ? allowed). A name that matches no case is an error: cmocka would run nothing
 * and report a pass. 0 to go on, else the exit status.
 */
#define TU_SELECT(tests, argc, argv)                                                               \
    tu__select((tests), sizeof(tests) / sizeof((tests)[0]), (argc), (argv))
static inline int tu__select(const struct CMUnitTest *t, size_t n, int argc, char **argv)
{
    if (argc < 2) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (fnmatch(argv[1], t[i].name, 0) == 0) {
            cmocka_set_test_filter(argv[1]);
            return 0;
        }
    }
    fprintf(stderr, "no test case matches \"%s\"\n", argv[1]);
    return 1;
}

/*
 * Path under the repository's test data, tests/data (SCITT_TEST_DATA, set by ctest; see
 * tests/data/PROVENANCE.md); static storage.
 */
static inline const char *tu_shared(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("SCITT_TEST_DATA");
    if (!base) {
        base = "tests/data";
    }
    snprintf(buf, sizeof(buf), "%s/%s", base, rel);
    return buf;
}

/* Reads a whole file into a heap buffer (free with free); fails the test when unreadable. */
static inline uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Decodes hex text into a fresh heap buffer (free with free). */
static inline uint8_t *tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    assert_int_equal(scitt_hex_decode(scitt_span_make(hex, n), out, n / 2 + 1, len), SCITT_OK);
    return out;
}

#endif /* SCITT_TESTUTIL_H */
