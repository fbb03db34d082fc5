/* Small helpers shared by the benchmarks: a monotonic clock and figure printing. */
#ifndef SCITT_BENCH_H
#define SCITT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One figure per line, "name: value unit", so scripts can collect them. */
static inline void bench_print(const char *name, double value, const char *unit)
{
    if (value >= 100) {
        printf("%s: %.0f %s\n", name, value, unit);
    } else {
        printf("%s: %.3f %s\n", name, value, unit);
    }
    fflush(stdout);
}

/* With --help or -h anywhere among the arguments: prints @p usage and exits 0. */
static inline void bench_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            exit(0);
        }
    }
}

/* xorshift64*: a fast deterministic generator for picking random indices. */
static inline uint64_t bench_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

#endif
