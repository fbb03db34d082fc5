/*
 * The simulated power cut (tests/integration/powercut.c, an LD_PRELOAD library): what the test
 * side needs to use it. pc_image() assembles, from the shadow the library kept and the files as
 * the process left them, the directory a disk could hold after the power went:
 *  - the names each directory had at its last fsync (the worst case for names);
 *  - each file page by page, at random, either as it was at the file's last sync (the shadow) or
 *    as the process last wrote it: the kernel writes dirty pages back whenever it likes, so any
 *    unsynced write may or may not have reached the disk, independently of the others. A name
 *    whose file was never synced starts from nothing.
 */
#ifndef SCITT_POWERCUT_H
#define SCITT_POWERCUT_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PC_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static inline uint64_t pc_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define PC_PAGE 4096

/* The next offset at or after @p at where @p fd (or -1: none) has data below @p size; INT64_MAX
 * when there is none. */
static inline off_t pc_next_data(int fd, off_t at, off_t size)
{
    if (fd < 0 || at >= size) {
        return INT64_MAX;
    }
    off_t d = lseek(fd, at, SEEK_DATA);
    return d < 0 || d >= size ? INT64_MAX : d;
}

/*
 * Writes to @p to, page by page, the shadow @p durable (as of the last sync; NULL: none) or the
 * file as the process left it, @p last (NULL: gone), chosen at random. Pages that are zero stay
 * holes.
 */
static inline int pc_torn(const char *durable, const char *last, const char *to, uint64_t *rng)
{
    int d = durable ? open(durable, O_RDONLY | O_CLOEXEC) : -1;
    int l = last ? open(last, O_RDONLY | O_CLOEXEC) : -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct stat ds = {0}, ls = {0};
    if (out < 0 || (d >= 0 && fstat(d, &ds) != 0) || (l >= 0 && fstat(l, &ls) != 0)) {
        return -1;
    }
    off_t size = ds.st_size, end = ds.st_size > ls.st_size ? ds.st_size : ls.st_size;
    static uint8_t page[PC_PAGE];
    int rc = 0;
    for (off_t at = 0; rc == 0 && at < end;) {
        off_t nd = pc_next_data(d, at, ds.st_size), nl = pc_next_data(l, at, ls.st_size);
        off_t next = nd < nl ? nd : nl;
        if (next >= end) {
            break;
        }
        at = next - next % PC_PAGE;
        bool take_last = l >= 0 && (pc_rand(rng) & 1) != 0;
        int from = take_last ? l : d;
        off_t from_size = take_last ? ls.st_size : ds.st_size;
        if (from >= 0 && at < from_size) {
            size_t n = from_size - at < PC_PAGE ? (size_t)(from_size - at) : PC_PAGE;
            rc = pread(from, page, n, at) == (ssize_t)n ? 0 : -1;
            bool zero = true;
            for (size_t i = 0; zero && i < n; i++) {
                zero = page[i] == 0;
            }
            if (rc == 0 && !zero) {
                rc = pwrite(out, page, n, at) == (ssize_t)n ? 0 : -1;
            }
            if (take_last && at + (off_t)n > size) {
                size = at + (off_t)n;
            }
        }
        at += PC_PAGE;
    }
    if (rc == 0 && ftruncate(out, size) != 0) {
        rc = -1;
    }
    if (d >= 0) {
        close(d);
    }
    if (l >= 0) {
        close(l);
    }
    close(out);
    return rc;
}

/* Finds, under @p dir, the file with inode (dev, ino) into @p out; false when there is none. */
static inline bool pc_find(const char *dir, unsigned long long dev, unsigned long long ino,
                           char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    while (!found && d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (n < 0 || (size_t)n >= sizeof(path) || lstat(path, &st) != 0) {
            continue;
        }
        if (S_ISREG(st.st_mode) && st.st_dev == dev && st.st_ino == ino) {
            found = snprintf(out, cap, "%s", path) < (int)cap;
        } else if (S_ISDIR(st.st_mode)) {
            found = pc_find(path, dev, ino, out, cap);
        }
    }
    if (d) {
        closedir(d);
    }
    return found;
}

/* Builds directory @p out from the durable listing of (dev, ino) in @p state. */
static inline int pc_build(const char *state, const char *live, unsigned long long dev,
                           unsigned long long ino, const char *out, uint64_t *rng)
{
    if (mkdir(out, 0700) != 0) {
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/dir-%llu-%llu", state, dev, ino);
    FILE *f = fopen(path, "r");
    if (!f) {
        return 0; /* a directory whose names never were synced: empty */
    }
    char line[4096];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char kind;
        unsigned long long d, i;
        int at = 0;
        if (sscanf(line, "%c %llu %llu %n", &kind, &d, &i, &at) != 3 || at == 0) {
            rc = -1;
            break;
        }
        char *name = line + at;
        name[strcspn(name, "\n")] = 0;
        char to[8192];
        snprintf(to, sizeof(to), "%s/%s", out, name);
        if (kind == 'd') {
            rc = pc_build(state, live, d, i, to, rng);
            continue;
        }
        char from[4096], last[4096];
        snprintf(from, sizeof(from), "%s/ino-%llu-%llu", state, d, i);
        struct stat st;
        bool have_last = pc_find(live, d, i, last, sizeof(last));
        rc = pc_torn(stat(from, &st) == 0 ? from : NULL, have_last ? last : NULL, to, rng);
    }
    fclose(f);
    return rc;
}

/*
 * The disk image after a power cut now, into the new directory @p image, from the shadow in
 * @p state and the watched directory @p live as the killed process left it; @p rng picks the
 * pages. 0 or -1.
 */
static inline int pc_image(const char *state, const char *live, const char *image, uint64_t *rng)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/root", state);
    FILE *f = fopen(path, "r");
    unsigned long long dev, ino;
    int ok = f && fscanf(f, "%llu %llu", &dev, &ino) == 2;
    if (f) {
        fclose(f);
    }
    return ok ? pc_build(state, live, dev, ino, image, rng) : -1;
}

#endif
