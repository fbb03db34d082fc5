/*
 * scitt_file_replace: the content is replaced whole, a failure leaves the old file and no
 * temporary behind, and the order of the syncs is the one that makes the new file durable: the
 * temporary file is fsynced before the rename, and the directory holding it after the rename.
 * fsync and rename are interposed here (this executable's definitions win over libc's) to record
 * that order; they then do the real system call.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scitt/file.h"

enum { EV_FSYNC_FILE = 1, EV_FSYNC_DIR, EV_RENAME };

typedef struct event {
    int kind;
    ino_t ino; /* what was synced, or the renamed file */
} event;

static event events[64];
static size_t nevents;

static void record(int kind, ino_t ino)
{
    if (nevents < sizeof(events) / sizeof(events[0])) {
        events[nevents].kind = kind;
        events[nevents].ino = ino;
        nevents++;
    }
}

int fsync(int fd);
int fsync(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0) {
        record(S_ISDIR(st.st_mode) ? EV_FSYNC_DIR : EV_FSYNC_FILE, st.st_ino);
    }
    return (int)syscall(SYS_fsync, fd);
}

int rename(const char *from, const char *to);
int rename(const char *from, const char *to)
{
    struct stat st;
    if (stat(from, &st) == 0) {
        record(EV_RENAME, st.st_ino);
    }
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0);
}

static char dir[256];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/scitt-file-XXXXXX", base ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
    nevents = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.') {
            if (unlink(p) != 0) {
                rmdir(p);
            }
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(dir);
    return 0;
}

static size_t entries(void)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void read_back(const char *path, const char *want)
{
    char buf[256] = "";
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    assert_string_equal(buf, want);
}

static void test_replace_order(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/state", dir);
    assert_int_equal(scitt_file_replace(path, scitt_span_str("one"), 0600, 0), SCITT_OK);
    read_back(path, "one");
    struct stat fst, dst;
    assert_int_equal(stat(path, &fst), 0);
    assert_int_equal(stat(dir, &dst), 0);
    assert_int_equal(fst.st_mode & 0777, 0600);
    /* the file is synced, then renamed, then its directory is synced */
    size_t file_sync = SIZE_MAX, moved = SIZE_MAX, dir_sync = SIZE_MAX;
    for (size_t i = 0; i < nevents; i++) {
        if (events[i].kind == EV_FSYNC_FILE && events[i].ino == fst.st_ino) {
            file_sync = i;
        } else if (events[i].kind == EV_RENAME && events[i].ino == fst.st_ino) {
            moved = i;
        } else if (events[i].kind == EV_FSYNC_DIR && events[i].ino == dst.st_ino) {
            dir_sync = i;
        }
    }
    assert_true(file_sync < moved);
    assert_true(moved != SIZE_MAX && dir_sync != SIZE_MAX && moved < dir_sync);

    /* a second write replaces the whole content and leaves no temporary file */
    assert_int_equal(scitt_file_replace(path, scitt_span_str("two, longer"), 0600, 0), SCITT_OK);
    read_back(path, "two, longer");
    assert_int_equal(scitt_file_replace(path, scitt_span_str("3"), 0600, 0), SCITT_OK);
    read_back(path, "3");
    assert_int_equal(entries(), 1);
}

static void test_replace_no_sync(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/tile", dir);
    assert_int_equal(scitt_file_replace(path, scitt_span_str("t"), 0644, SCITT_FILE_NO_SYNC),
                     SCITT_OK);
    read_back(path, "t");
    for (size_t i = 0; i < nevents; i++) {
        assert_true(events[i].kind == EV_RENAME);
    }
    /* the caller's later sync of the directory */
    assert_int_equal(scitt_dir_sync_parent(path), SCITT_OK);
    assert_int_equal(events[nevents - 1].kind, EV_FSYNC_DIR);
}

static void test_replace_fails_cleanly(void **state)
{
    (void)state;
    char path[300];
    /* a directory that does not exist: nothing is created */
    snprintf(path, sizeof(path), "%s/missing/state", dir);
    errno = 0;
    assert_int_equal(scitt_file_replace(path, scitt_span_str("x"), 0600, 0), SCITT_ERR_IO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(entries(), 0);
    /* the target is a directory: the rename fails, the temporary file is removed, the
     * directory is untouched */
    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char inner[320];
    snprintf(inner, sizeof(inner), "%s/keep", path);
    assert_int_equal(scitt_file_replace(inner, scitt_span_str("kept"), 0600, 0), SCITT_OK);
    assert_int_not_equal(scitt_file_replace(path, scitt_span_str("x"), 0600, 0), SCITT_OK);
    assert_int_equal(errno, EISDIR);
    assert_int_equal(entries(), 1);
    read_back(inner, "kept");
    unlink(inner);
    assert_int_equal(scitt_dir_sync("/nonexistent-scitt-dir"), SCITT_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_no_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_fails_cleanly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
