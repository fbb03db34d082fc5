/*
 * The service keys and the log belong together (ledger/identity.c):
 *  - a new keystore, and a rotated one, reach stable storage (file fsync, rename, fsync of the
 *    data directory) before the new key signs a tree head that is committed;
 *  - keys are never created when the log already holds signed heads, and a keystore older than
 *    the log (a rotation a crash undid) is refused: the service does not start, and says why;
 *  - rotation up to the published key set's ceiling (SCITT_LIMIT_KEYSET_KEYS): start-up at the
 *    ceiling works, rotating beyond it or a keystore beyond it is refused with a message that
 *    says so. No failure ever reports "ok".
 * fsync, fdatasync and rename are interposed here (this executable's definitions win over
 * libc's) to record their order; they then make the system call.
 */
#include "testutil.h"
#include "ledger_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "scitt/cbor.h"
#include "scitt/limits.h"
#include "scitt/service.h"

/* ---- recorded system calls ---- */

enum { EV_SYNC = 1, EV_RENAME };

typedef struct event {
    int kind;
    dev_t dev;
    ino_t ino;
} event;

static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static event events[4096];
static size_t nevents;

static void record(int kind, const struct stat *st)
{
    pthread_mutex_lock(&ev_mu);
    if (nevents < sizeof(events) / sizeof(events[0])) {
        events[nevents].kind = kind;
        events[nevents].dev = st->st_dev;
        events[nevents].ino = st->st_ino;
        nevents++;
    }
    pthread_mutex_unlock(&ev_mu);
}

static void record_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0) {
        record(EV_SYNC, &st);
    }
}

int fsync(int fd);
int fsync(int fd)
{
    int r = (int)syscall(SYS_fsync, fd);
    if (r == 0) {
        record_fd(fd);
    }
    return r;
}

int fdatasync(int fd);
int fdatasync(int fd)
{
    int r = (int)syscall(SYS_fdatasync, fd);
    if (r == 0) {
        record_fd(fd);
    }
    return r;
}

int rename(const char *from, const char *to);
int rename(const char *from, const char *to)
{
    struct stat st;
    bool known = stat(from, &st) == 0;
    int r = (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0);
    if (r == 0 && known) {
        record(EV_RENAME, &st);
    }
    return r;
}

/* The first event at or after @p from of @p kind on (dev, ino); SIZE_MAX when none. */
static size_t find_event(size_t from, int kind, const struct stat *st)
{
    for (size_t i = from; i < nevents; i++) {
        if (events[i].kind == kind && events[i].ino == st->st_ino && events[i].dev == st->st_dev) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* ---- fixture ---- */

typedef struct fx {
    char *dir;
    char ks_path[4200];
    scitt_keystore ks;
    scitt_service_config cfg;
    scitt_service *s;
    char reason[512];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->dir = lu_tmpdir();
    scitt_keystore_file(f->dir, NULL, f->ks_path, sizeof(f->ks_path), &f->ks);
    f->cfg.data_dir = f->dir;
    f->cfg.issuer = "https://ledger.example";
    f->cfg.origin = "ledger.example/log";
    f->cfg.keystore = &f->ks;
    f->cfg.map_size = 64u << 20;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    scitt_service_close(f->s);
    lu_rmdir(f->dir);
    free(f);
    return 0;
}

static scitt_err try_open(fx *f)
{
    scitt_service_close(f->s);
    f->s = NULL;
    scitt_err e = scitt_service_open(&f->cfg, &f->s, f->reason, sizeof(f->reason));
    if (e != SCITT_OK) {
        assert_null(f->s);
        assert_string_not_equal(f->reason, "ok");
        assert_true(f->reason[0] != 0);
    }
    return e;
}

static void open_ok(fx *f)
{
    scitt_err e = try_open(f);
    if (e != SCITT_OK) {
        fail_msg("open: %s (%s)", f->reason, scitt_err_name(e));
    }
}

static void expect_refusal(fx *f, scitt_err want, const char *words)
{
    scitt_err e = try_open(f);
    if (e != want || !strstr(f->reason, words)) {
        fail_msg("open gave %s \"%s\", wanted %s and \"%s\"", scitt_err_name(e), f->reason,
                 scitt_err_name(want), words);
    }
}

/* A synthetic entry appended straight to the log: its tree head is signed by the current key. */
static void append_entry(fx *f, uint64_t n)
{
    lu_entry e;
    lu_make(&e, n, 77);
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(scitt_service_ledger(f->s), &e.sub_, &res), SCITT_OK);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *b = malloc(1u << 20);
    *len = fread(b, 1, 1u << 20, fp);
    fclose(fp);
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, len, fp), len);
    fclose(fp);
}

/* ---- tests ---- */

/* New keys, and a rotated key, are durable before a head they sign is committed. */
static void test_keys_durable_before_use(void **state)
{
    fx *f = *state;
    for (int rotate = 0; rotate < 2; rotate++) {
        pthread_mutex_lock(&ev_mu);
        nevents = 0;
        pthread_mutex_unlock(&ev_mu);
        f->cfg.rotate_receipt_key = rotate;
        open_ok(f);
        append_entry(f, (uint64_t)rotate);
        struct stat ks, dir, log;
        assert_int_equal(stat(f->ks_path, &ks), 0);
        assert_int_equal(stat(f->dir, &dir), 0);
        char path[4300];
        snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
        assert_int_equal(stat(path, &log), 0);
        pthread_mutex_lock(&ev_mu);
        size_t file_sync = find_event(0, EV_SYNC, &ks);
        size_t moved = find_event(0, EV_RENAME, &ks);
        size_t dir_sync = moved == SIZE_MAX ? SIZE_MAX : find_event(moved, EV_SYNC, &dir);
        size_t commit = moved == SIZE_MAX ? SIZE_MAX : find_event(moved, EV_SYNC, &log);
        pthread_mutex_unlock(&ev_mu);
        assert_true(file_sync < moved);
        assert_true(moved != SIZE_MAX && dir_sync != SIZE_MAX && commit != SIZE_MAX);
        assert_true(dir_sync < commit);
    }
    assert_int_equal(scitt_cose_keyset_count(scitt_service_keys(f->s)), 2);
}

/* A new data directory and its log file are named durably: the directory and its parent are
 * synced when the log file is created (LMDB syncs files, never directories). */
static void test_new_log_named_durably(void **state)
{
    fx *f = *state;
    char sub[4096];
    snprintf(sub, sizeof(sub), "%s/new", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    char path[4200];
    scitt_keystore ks;
    scitt_keystore_file(sub, NULL, path, sizeof(path), &ks);
    f->cfg.data_dir = sub;
    f->cfg.keystore = &ks;
    pthread_mutex_lock(&ev_mu);
    nevents = 0;
    pthread_mutex_unlock(&ev_mu);
    open_ok(f);
    scitt_service_close(f->s);
    f->s = NULL;
    f->cfg.data_dir = f->dir;
    f->cfg.keystore = &f->ks;
    struct stat parent;
    assert_int_equal(stat(f->dir, &parent), 0);
    pthread_mutex_lock(&ev_mu);
    size_t synced = find_event(0, EV_SYNC, &parent);
    pthread_mutex_unlock(&ev_mu);
    assert_true(synced != SIZE_MAX);
}

/* The keystore is gone but the log holds signed heads: no new keys, a refusal that says why. */
static void test_missing_keys_not_regenerated(void **state)
{
    fx *f = *state;
    open_ok(f);
    append_entry(f, 1);
    scitt_service_close(f->s);
    f->s = NULL;
    size_t len;
    uint8_t *keep = slurp(f->ks_path, &len);
    assert_int_equal(unlink(f->ks_path), 0);
    expect_refusal(f, SCITT_ERR_STATE, "service keys are missing");
    assert_non_null(strstr(f->reason, "restore"));
    struct stat st;
    assert_int_not_equal(stat(f->ks_path, &st), 0); /* nothing was created */
    /* restored, it starts */
    spit(f->ks_path, keep, len);
    free(keep);
    open_ok(f);
}

/* A keystore older than the log (a rotation lost in a crash) is refused, not run read-only. */
static void test_old_keystore_refused(void **state)
{
    fx *f = *state;
    open_ok(f);
    scitt_service_close(f->s);
    f->s = NULL;
    size_t len;
    uint8_t *before = slurp(f->ks_path, &len);
    f->cfg.rotate_receipt_key = true;
    open_ok(f);
    append_entry(f, 2); /* signed by the new key */
    scitt_service_close(f->s);
    f->s = NULL;
    f->cfg.rotate_receipt_key = false;
    spit(f->ks_path, before, len);
    free(before);
    expect_refusal(f, SCITT_ERR_STATE, "signed by none of the 1 receipt keys");
    /* a keystore of another log altogether is refused the same way */
    assert_int_equal(unlink(f->ks_path), 0);
    char other[4096];
    snprintf(other, sizeof(other), "%s/other", f->dir);
    assert_int_equal(mkdir(other, 0700), 0);
    scitt_service_config oc = f->cfg;
    char opath[4200];
    scitt_keystore oks;
    scitt_keystore_file(other, NULL, opath, sizeof(opath), &oks);
    oc.data_dir = other;
    oc.keystore = &oks;
    scitt_service *os = NULL;
    assert_int_equal(scitt_service_open(&oc, &os, f->reason, sizeof(f->reason)), SCITT_OK);
    scitt_service_close(os);
    uint8_t *foreign = slurp(opath, &len);
    spit(f->ks_path, foreign, len);
    free(foreign);
    expect_refusal(f, SCITT_ERR_STATE, "signed by none of");
}

/* Writes a keystore blob of @p n fresh receipt keys. */
static void write_keystore(const char *path, size_t n)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        scitt_cose_key *k;
        assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k), SCITT_OK);
        assert_int_equal(scitt_cose_key_encode_cose(k, true, &w), SCITT_OK);
        scitt_cose_key_free(k);
    }
    uint8_t seed[32] = {1, 2, 3};
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_bytes(&w, scitt_span_make(seed, sizeof(seed)));
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
    spit(path, b.ptr, b.len);
    scitt_dynbuf_clear(&b);
}

/* Rotation up to the ceiling of a published key set, start-up at it, and beyond it. */
static void test_rotation_ceiling(void **state)
{
    fx *f = *state;
    open_ok(f);
    for (unsigned i = 1; i < SCITT_LIMIT_KEYSET_KEYS; i++) {
        f->cfg.rotate_receipt_key = true;
        open_ok(f);
        if (i % 16 == 0) {
            append_entry(f, i); /* heads signed by keys along the way */
        }
    }
    assert_int_equal(scitt_cose_keyset_count(scitt_service_keys(f->s)), SCITT_LIMIT_KEYSET_KEYS);
    append_entry(f, 1000);
    /* at the ceiling: starts and serves every key */
    f->cfg.rotate_receipt_key = false;
    open_ok(f);
    assert_int_equal(scitt_cose_keyset_count(scitt_service_keys(f->s)), SCITT_LIMIT_KEYSET_KEYS);
    scitt_service_close(f->s);
    f->s = NULL;
    /* one more rotation is refused, says why, and leaves the keystore as it was */
    size_t len, len2;
    uint8_t *before = slurp(f->ks_path, &len);
    f->cfg.rotate_receipt_key = true;
    expect_refusal(f, SCITT_ERR_TOO_LARGE, "cannot rotate the receipt key");
    assert_non_null(strstr(f->reason, "64 receipt keys"));
    assert_non_null(strstr(f->reason, "start without rotating"));
    uint8_t *after = slurp(f->ks_path, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(before, after, len);
    free(before);
    free(after);
    /* and without rotating it still starts */
    f->cfg.rotate_receipt_key = false;
    open_ok(f);
}

/* A keystore beyond the ceiling (written by hand, or by another version) is refused clearly. */
static void test_keystore_beyond_ceiling(void **state)
{
    fx *f = *state;
    write_keystore(f->ks_path, SCITT_LIMIT_KEYSET_KEYS + 1);
    expect_refusal(f, SCITT_ERR_TOO_LARGE, "more than 64 receipt keys");
    write_keystore(f->ks_path, SCITT_LIMIT_KEYSET_KEYS);
    open_ok(f);
    assert_int_equal(scitt_cose_keyset_count(scitt_service_keys(f->s)), SCITT_LIMIT_KEYSET_KEYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_durable_before_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_log_named_durably, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_keys_not_regenerated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_keystore_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_ceiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore_beyond_ceiling, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
