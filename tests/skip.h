/*
 * Visible skips for cmocka test binaries. cmocka's skip() alone counts as a pass, so ctest would
 * report a skipped case as "Passed". tu_skip() prints "SKIP: <reason>" (make test lists these
 * lines at the end) and marks the run, and tu_result() turns a run without failures but with a
 * skip into exit status 77, which ctest reports as "Skipped" (SKIP_RETURN_CODE 77 is set on every
 * test target).
 *
 *     if (!have_ipv6) { tu_skip("no IPv6 loopback on this machine"); }
 *     ...
 *     return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
 */
#ifndef SCITT_TESTS_SKIP_H
#define SCITT_TESTS_SKIP_H

#include <stdio.h>

#define TU_SKIP_CODE 77

static int tu_skipped;

#define tu_skip(...)                                                                               \
    do {                                                                                           \
        printf("SKIP: ");                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
        tu_skipped++;                                                                              \
        skip();                                                                                    \
    } while (0)

/* The exit status of a test binary: failures first, then a skip, else 0. */
static inline int tu_result(int failed)
{
    return failed ? failed : (tu_skipped ? TU_SKIP_CODE : 0);
}

#endif /* SCITT_TESTS_SKIP_H */
