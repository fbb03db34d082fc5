/*
 * A simulated power cut for one process: an LD_PRELOAD library that keeps, beside the files the
 * process writes under a directory, what a disk would still hold if the power went now. Only
 * what the program made durable is in it:
 *
 *  - the content of a file as of its last fsync/fdatasync (writes in between are pending), or of
 *    a write through a descriptor opened O_DSYNC/O_SYNC, or of a range of a shared mapping
 *    msync'ed with MS_SYNC (MS_ASYNC makes nothing durable);
 *  - the names in a directory as of the directory's last fsync: a file created, renamed or
 *    removed is, for a power cut, not so until then (POSIX; what ext4 and XFS do without
 *    data=journal in the worst case).
 *
 * The shadow is updated after the real call and before the call returns to the program: a write
 * reaches the disk at some point while its sync runs, never after the program was told it did, so
 * killing the process at any moment (SIGKILL) leaves in the shadow a state a real power cut could
 * leave. The test then assembles the disk image from it (powercut.h) and starts the program again
 * on that image.
 *
 * Environment: SCITT_POWERCUT_ROOT (the directory watched; it and what it holds when the process
 * starts count as durable), SCITT_POWERCUT_STATE (an empty directory for the shadow: one file per
 * inode, "ino-<dev>-<ino>", one listing per directory, "dir-<dev>-<ino>", and "root"), and
 * optionally SCITT_POWERCUT_BOOT: the boot ID the process reads from
 * /proc/sys/kernel/random/boot_id (a power cut is followed by a boot with a new one).
 *
 * Every system call on the watched files is made with syscall(2), so nothing here calls back into
 * itself. The library is a test fixture, never part of scittd.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "powercut.h"

#define MAX_FDS     4096
#define MAX_MAPS    64
#define MAX_EXTENTS 4096

typedef struct extent {
    off_t off, end;
} extent;

/* A watched file with writes not yet durable. */
typedef struct pending {
    dev_t dev;
    ino_t ino;
    size_t n;
    bool overflow; /* too many extents: the next sync copies the whole file */
    extent x[MAX_EXTENTS];
} pending;

typedef struct fd_info {
    bool watched, dir, dsync;
    dev_t dev;
    ino_t ino;
    int rfd; /* a read-only descriptor of the same file, opened when first needed (-1) */
} fd_info;

typedef struct map_info {
    uintptr_t addr;
    size_t len;
    off_t off;
    dev_t dev;
    ino_t ino;
    int rfd;
} map_info;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool active;
static char root[PATH_MAX], state[PATH_MAX], boot[80];
static size_t root_len;
static fd_info fds[MAX_FDS];
static map_info maps[MAX_MAPS];
static pending *pend[256];
static size_t npend;

/* ---- real system calls ---- */

static int sys_open(const char *path, int flags, mode_t mode)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static ssize_t sys_pread(int fd, void *buf, size_t n, off_t off)
{
    return (ssize_t)syscall(SYS_pread64, fd, buf, n, off);
}

static ssize_t sys_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return (ssize_t)syscall(SYS_pwrite64, fd, buf, n, off);
}

static int sys_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

static void die(const char *what)
{
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "powercut: %s: %s\n", what, strerror(errno));
    if (n > 0) {
        (void)syscall(SYS_write, 2, msg, (size_t)n);
    }
    abort();
}

/* ---- the shadow ---- */

static void shadow_path(char *out, size_t cap, const char *kind, dev_t dev, ino_t ino)
{
    snprintf(out, cap, "%s/%s-%llu-%llu", state, kind, (unsigned long long)dev,
             (unsigned long long)ino);
}

/* Copies [off, end) of the file open as @p rfd into its shadow (holes stay holes), and gives the
 * shadow the file's size. */
static void shadow_copy(int rfd, dev_t dev, ino_t ino, off_t off, off_t end)
{
    char path[PATH_MAX + 64];
    shadow_path(path, sizeof(path), "ino", dev, ino);
    int out = sys_open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (out < 0) {
        die("shadow");
    }
    struct stat st;
    if (fstat(rfd, &st) != 0) {
        die("fstat");
    }
    if (end > st.st_size) {
        end = st.st_size;
    }
    static uint8_t buf[1 << 16];
    off_t at = off;
    while (at < end) {
        off_t data = (off_t)syscall(SYS_lseek, rfd, at, SEEK_DATA);
        if (data < 0 || data >= end) {
            break;
        }
        off_t hole = (off_t)syscall(SYS_lseek, rfd, data, SEEK_HOLE);
        if (hole < 0 || hole > end) {
            hole = end;
        }
        for (off_t p = data; p < hole;) {
            size_t want = (size_t)(hole - p) < sizeof(buf) ? (size_t)(hole - p) : sizeof(buf);
            ssize_t r = sys_pread(rfd, buf, want, p);
            if (r <= 0) {
                die("read for the shadow");
            }
            if (sys_pwrite(out, buf, (size_t)r, p) != r) {
                die("write the shadow");
            }
            p += r;
        }
        at = hole;
    }
    if (syscall(SYS_ftruncate, out, st.st_size) != 0) {
        die("size the shadow");
    }
    sys_close(out);
}

/* Writes @p n bytes of @p buf at @p off straight into the shadow (an O_DSYNC write). */
static void shadow_write(dev_t dev, ino_t ino, const void *buf, size_t n, off_t off)
{
    char path[PATH_MAX + 64];
    shadow_path(path, sizeof(path), "ino", dev, ino);
    int out = sys_open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (out < 0 || sys_pwrite(out, buf, n, off) != (ssize_t)n) {
        die("write the shadow");
    }
    sys_close(out);
}

/* The durable names of directory @p dfd: what it holds now (written atomically). */
static void shadow_list(int dfd, dev_t dev, ino_t ino)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
    shadow_path(path, sizeof(path), "dir", dev, ino);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int dup = (int)syscall(SYS_openat, dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
    FILE *f = fopen(tmp, "we");
    if (!d || !f) {
        die("list a directory");
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        char kind = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : 0;
        if (kind) {
            fprintf(f, "%c %llu %llu %s\n", kind, (unsigned long long)st.st_dev,
                    (unsigned long long)st.st_ino, e->d_name);
        }
    }
    closedir(d);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        die("save a listing");
    }
}

/* At start: the watched tree as it is counts as durable. */
static void snapshot(const char *dir)
{
    int dfd = sys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    struct stat st;
    if (dfd < 0 || fstat(dfd, &st) != 0) {
        die("open the watched directory");
    }
    shadow_list(dfd, st.st_dev, st.st_ino);
    DIR *d = fdopendir(dfd);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char path[PATH_MAX + 256];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat es;
        if (lstat(path, &es) != 0) {
            continue;
        }
        if (S_ISDIR(es.st_mode)) {
            snapshot(path);
        } else if (S_ISREG(es.st_mode)) {
            int rfd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
            if (rfd < 0) {
                die("read a watched file");
            }
            shadow_copy(rfd, es.st_dev, es.st_ino, 0, es.st_size);
            sys_close(rfd);
        }
    }
    if (d) {
        closedir(d);
    }
}

__attribute__((constructor)) static void powercut_init(void)
{
    const char *r = getenv("SCITT_POWERCUT_ROOT"), *s = getenv("SCITT_POWERCUT_STATE");
    const char *b = getenv("SCITT_POWERCUT_BOOT");
    if (!r || !s || !realpath(r, root) || strlen(s) >= sizeof(state)) {
        return;
    }
    snprintf(state, sizeof(state), "%s", s);
    snprintf(boot, sizeof(boot), "%s\n", b ? b : "");
    root_len = strlen(root);
    for (int i = 0; i < MAX_FDS; i++) {
        fds[i].rfd = -1;
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/root", state);
    struct stat st;
    if (stat(path, &st) != 0) {
        snapshot(root);
        if (stat(root, &st) != 0) {
            die("stat the watched directory");
        }
        FILE *f = fopen(path, "we");
        if (!f) {
            die("write the root");
        }
        fprintf(f, "%llu %llu\n", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        fclose(f);
    }
    active = true;
}

/* ---- pending writes ---- */

static pending *pending_of(dev_t dev, ino_t ino, bool create)
{
    for (size_t i = 0; i < npend; i++) {
        if (pend[i]->dev == dev && pend[i]->ino == ino) {
            return pend[i];
        }
    }
    if (!create || npend == sizeof(pend) / sizeof(pend[0])) {
        if (create) {
            die("too many watched files");
        }
        return NULL;
    }
    pending *p = calloc(1, sizeof(*p));
    if (!p) {
        die("calloc");
    }
    p->dev = dev;
    p->ino = ino;
    pend[npend++] = p;
    return p;
}

static void add_extent(pending *p, off_t off, off_t end)
{
    for (size_t i = 0; i < p->n; i++) {
        if (off <= p->x[i].end && end >= p->x[i].off) {
            p->x[i].off = off < p->x[i].off ? off : p->x[i].off;
            p->x[i].end = end > p->x[i].end ? end : p->x[i].end;
            return;
        }
    }
    if (p->n == MAX_EXTENTS) {
        p->overflow = true;
        return;
    }
    p->x[p->n].off = off;
    p->x[p->n].end = end;
    p->n++;
}

static int read_fd(int fd)
{
    if (fds[fd].rfd < 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        fds[fd].rfd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
        if (fds[fd].rfd < 0) {
            die("reopen a watched file");
        }
    }
    return fds[fd].rfd;
}

static bool watched_fd(int fd)
{
    return active && fd >= 0 && fd < MAX_FDS && fds[fd].watched;
}

/* Before a write of @p n bytes at @p off through @p fd returns. */
static void wrote(int fd, const void *buf, ssize_t n, off_t off)
{
    if (n <= 0) {
        return;
    }
    if (fds[fd].dsync) {
        /* synchronous: durable once the call returns */
        shadow_write(fds[fd].dev, fds[fd].ino, buf, (size_t)n, off);
        return;
    }
    add_extent(pending_of(fds[fd].dev, fds[fd].ino, true), off, off + n);
}

/* fsync/fdatasync of a watched descriptor: its pending writes (or its names) become durable. */
static void sync_fd(int fd)
{
    if (fds[fd].dir) {
        shadow_list(fd, fds[fd].dev, fds[fd].ino);
        return;
    }
    pending *p = pending_of(fds[fd].dev, fds[fd].ino, true);
    int rfd = read_fd(fd);
    if (p->overflow) {
        shadow_copy(rfd, p->dev, p->ino, 0, (off_t)1 << 62);
    } else {
        for (size_t i = 0; i < p->n; i++) {
            shadow_copy(rfd, p->dev, p->ino, p->x[i].off, p->x[i].end);
        }
        if (p->n == 0) {
            shadow_copy(rfd, p->dev, p->ino, 0, 0); /* the size, at least */
        }
    }
    p->n = 0;
    p->overflow = false;
}

/* ---- the interposed calls ---- */

static bool under_root(int dirfd, const char *path)
{
    if (!active || !path) {
        return false;
    }
    if (path[0] == '/') {
        return strncmp(path, root, root_len) == 0 && (path[root_len] == '/' || !path[root_len]);
    }
    if (dirfd != AT_FDCWD) {
        return dirfd >= 0 && dirfd < MAX_FDS && fds[dirfd].watched;
    }
    char cwd[PATH_MAX];
    return getcwd(cwd, sizeof(cwd)) && strncmp(cwd, root, root_len) == 0;
}

static void opened(int fd, int dirfd, const char *path, int flags)
{
    if (fd < 0 || fd >= MAX_FDS || !under_root(dirfd, path)) {
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
        return;
    }
    pthread_mutex_lock(&mu);
    if (fds[fd].rfd >= 0) {
        sys_close(fds[fd].rfd);
    }
    fds[fd].watched = true;
    fds[fd].dir = S_ISDIR(st.st_mode);
    fds[fd].dsync = (flags & (O_DSYNC | O_SYNC)) != 0;
    fds[fd].dev = st.st_dev;
    fds[fd].ino = st.st_ino;
    fds[fd].rfd = -1;
    pthread_mutex_unlock(&mu);
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd = (int)syscall(SYS_openat, dirfd, path, flags, mode);
    int saved = errno;
    opened(fd, dirfd, path, flags);
    errno = saved;
    return fd;
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return open_common(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return open_common(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return open_common(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return open_common(dirfd, path, flags, mode);
}

int close(int fd);
int close(int fd)
{
    if (fd >= 0 && fd < MAX_FDS && active) {
        pthread_mutex_lock(&mu);
        if (fds[fd].rfd >= 0) {
            sys_close(fds[fd].rfd);
        }
        fds[fd].watched = false;
        fds[fd].rfd = -1;
        pthread_mutex_unlock(&mu);
    }
    return sys_close(fd);
}

ssize_t write(int fd, const void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n)
{
    if (!watched_fd(fd)) {
        return (ssize_t)syscall(SYS_write, fd, buf, n);
    }
    pthread_mutex_lock(&mu);
    off_t off = (off_t)syscall(SYS_lseek, fd, 0, SEEK_CUR);
    ssize_t r = (ssize_t)syscall(SYS_write, fd, buf, n);
    int saved = errno;
    wrote(fd, buf, r, off);
    pthread_mutex_unlock(&mu);
    errno = saved;
    return r;
}

static ssize_t pwrite_common(int fd, const void *buf, size_t n, off_t off)
{
    if (!watched_fd(fd)) {
        return sys_pwrite(fd, buf, n, off);
    }
    pthread_mutex_lock(&mu);
    ssize_t r = sys_pwrite(fd, buf, n, off);
    int saved = errno;
    wrote(fd, buf, r, off);
    pthread_mutex_unlock(&mu);
    errno = saved;
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite_common(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite_common(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt);
ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    if (!watched_fd(fd)) {
        return (ssize_t)syscall(SYS_writev, fd, iov, cnt);
    }
    pthread_mutex_lock(&mu);
    off_t off = (off_t)syscall(SYS_lseek, fd, 0, SEEK_CUR);
    ssize_t r = (ssize_t)syscall(SYS_writev, fd, iov, cnt);
    int saved = errno;
    if (r > 0) {
        if (fds[fd].dsync) {
            shadow_copy(read_fd(fd), fds[fd].dev, fds[fd].ino, off, off + r);
        } else {
            add_extent(pending_of(fds[fd].dev, fds[fd].ino, true), off, off + r);
        }
    }
    pthread_mutex_unlock(&mu);
    errno = saved;
    return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    if (!watched_fd(fd)) {
        return (ssize_t)syscall(SYS_pwritev, fd, iov, cnt, off, 0);
    }
    pthread_mutex_lock(&mu);
    ssize_t r = (ssize_t)syscall(SYS_pwritev, fd, iov, cnt, off, 0);
    int saved = errno;
    if (r > 0) {
        if (fds[fd].dsync) {
            shadow_copy(read_fd(fd), fds[fd].dev, fds[fd].ino, off, off + r);
        } else {
            add_extent(pending_of(fds[fd].dev, fds[fd].ino, true), off, off + r);
        }
    }
    pthread_mutex_unlock(&mu);
    errno = saved;
    return r;
}

int ftruncate(int fd, off_t len);
int ftruncate(int fd, off_t len)
{
    /* a size change is metadata: durable with the next sync of the file (sync_fd sizes) */
    return (int)syscall(SYS_ftruncate, fd, len);
}

int ftruncate64(int fd, off_t len);
int ftruncate64(int fd, off_t len)
{
    return (int)syscall(SYS_ftruncate, fd, len);
}

static int sync_common(int fd, long nr)
{
    int r = (int)syscall(nr, fd);
    int saved = errno;
    if (r == 0 && watched_fd(fd)) {
        pthread_mutex_lock(&mu);
        sync_fd(fd);
        pthread_mutex_unlock(&mu);
    }
    errno = saved;
    return r;
}

int fsync(int fd);
int fsync(int fd)
{
    return sync_common(fd, SYS_fsync);
}

int fdatasync(int fd);
int fdatasync(int fd)
{
    return sync_common(fd, SYS_fdatasync);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && watched_fd(fd) && (flags & MAP_SHARED) && (prot & PROT_WRITE)) {
        pthread_mutex_lock(&mu);
        for (int i = 0; i < MAX_MAPS; i++) {
            if (maps[i].len == 0) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                maps[i].addr = (uintptr_t)p;
                maps[i].len = len;
                maps[i].off = off;
                maps[i].dev = fds[fd].dev;
                maps[i].ino = fds[fd].ino;
                maps[i].rfd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
                break;
            }
        }
        pthread_mutex_unlock(&mu);
    }
    return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len);
int munmap(void *addr, size_t len)
{
    if (active) {
        pthread_mutex_lock(&mu);
        for (int i = 0; i < MAX_MAPS; i++) {
            if (maps[i].len && maps[i].addr == (uintptr_t)addr) {
                sys_close(maps[i].rfd);
                maps[i].len = 0;
            }
        }
        pthread_mutex_unlock(&mu);
    }
    return (int)syscall(SYS_munmap, addr, len);
}

int msync(void *addr, size_t len, int flags);
int msync(void *addr, size_t len, int flags)
{
    int r = (int)syscall(SYS_msync, addr, len, flags);
    int saved = errno;
    if (r == 0 && active && (flags & MS_SYNC)) {
        uintptr_t a = (uintptr_t)addr, e = a + len;
        pthread_mutex_lock(&mu);
        for (int i = 0; i < MAX_MAPS; i++) {
            map_info *m = &maps[i];
            if (m->len == 0 || e <= m->addr || a >= m->addr + m->len) {
                continue;
            }
            uintptr_t from = a > m->addr ? a : m->addr;
            uintptr_t to = e < m->addr + m->len ? e : m->addr + m->len;
            shadow_copy(m->rfd, m->dev, m->ino, m->off + (off_t)(from - m->addr),
                        m->off + (off_t)(to - m->addr));
        }
        pthread_mutex_unlock(&mu);
    }
    errno = saved;
    return r;
}

/* The boot ID, as the next boot would show it. */
FILE *fopen(const char *path, const char *mode);
FILE *fopen(const char *path, const char *mode)
{
    if (active && boot[0] != '\n' && strcmp(path, PC_BOOT_ID_PATH) == 0) {
        return fmemopen(boot, strlen(boot), "r");
    }
    static FILE *(*real)(const char *, const char *);
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "fopen");
        memcpy(&real, &sym, sizeof(real)); /* POSIX: a data pointer that holds a function's */
    }
    return real(path, mode);
}

FILE *fopen64(const char *path, const char *mode);
FILE *fopen64(const char *path, const char *mode)
{
    return fopen(path, mode);
}
