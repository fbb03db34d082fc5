/* Small helpers shared by the benchmarks: a monotonic clock and figure printing. */
#ifndef SCITT_BENCH_H
#define SCITT_BENCH_H

#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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

/* @p path, or its nearest ancestor that exists (a directory not made yet is judged by where it
 * will be made), into @p out. */
static inline void bench_existing(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    struct stat st;
    while (stat(out, &st) != 0) {
        char *slash = strrchr(out, '/');
        if (!slash) {
            snprintf(out, cap, ".");
            return;
        }
        if (slash == out) {
            slash[1] = 0;
            return;
        }
        *slash = 0;
    }
}

/*
 * The file system holding @p path, as the kernel names it in /proc/self/mountinfo ("ext4",
 * "xfs", "tmpfs", ...): the mount whose mount point is the longest prefix of the resolved path
 * (the last such mount when several are stacked); a path not made yet is judged by its nearest
 * existing ancestor. Writes "unknown" when it cannot tell.
 */
static inline void bench_fs_type(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    char real[PATH_MAX], near[PATH_MAX];
    bench_existing(path, near, sizeof(near));
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!realpath(near, real) || !f) {
        if (f) {
            fclose(f);
        }
        return;
    }
    char line[4096];
    size_t best = 0;
    while (fgets(line, sizeof(line), f)) {
        /* "id parent major:minor root mount-point options [optional...] - fstype source ..." */
        char mnt[PATH_MAX], type[64];
        const char *dash = strstr(line, " - ");
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || !dash ||
            sscanf(dash + 3, "%63s", type) != 1) {
            continue;
        }
        size_t n = strlen(mnt);
        bool under =
            !strcmp(mnt, "/") || (!strncmp(real, mnt, n) && (real[n] == '/' || real[n] == 0));
        if (under && n >= best) {
            best = n;
            snprintf(out, cap, "%s", type);
        }
    }
    fclose(f);
}

/* True when @p path is on a file system kept in memory only (tmpfs, ramfs). */
static inline bool bench_fs_in_memory(const char *path)
{
    struct statfs s;
    char near[PATH_MAX];
    bench_existing(path, near, sizeof(near));
    if (statfs(near, &s) != 0) {
        return false;
    }
    unsigned long t = (unsigned long)s.f_type;
    return t == TMPFS_MAGIC || t == RAMFS_MAGIC;
}

/*
 * Prints "filesystem: TYPE PATH" among the figures (so the figures file records where the
 * benchmark wrote) and, when @p durable, refuses a file system that keeps data in memory only:
 * a figure that says durable must have reached a disk. Returns 0, or -1 after printing why
 * (on stdout, which the figures file keeps, and on stderr).
 */
static inline int bench_fs_record(const char *prog, const char *path, bool durable)
{
    char type[64];
    bench_fs_type(path, type, sizeof(type));
    printf("filesystem: %s %s\n", type, path);
    fflush(stdout);
    if (durable && bench_fs_in_memory(path)) {
        for (int k = 0; k < 2; k++) {
            fprintf(k ? stderr : stdout,
                    "%s: error: %s is on %s, which keeps data in memory only; a durable figure "
                    "needs a disk (set TMPDIR or the data directory elsewhere)\n",
                    prog, path, type);
        }
        fflush(stdout);
        return -1;
    }
    return 0;
}

#endif
