/*
 * Evidence acquisition without a TEE.
 *
 * configfs-tsm: a fake report entry in a temporary directory, with the attribute files configfs
 * would create at mkdir. `outblob` is a FIFO and a "fake kernel" thread sits on its write side:
 * when the code under test opens outblob for reading (after writing inblob, as the real flow
 * does), the thread reads inblob, bumps `generation` the way configfs does for every write, and
 * serves the *real* sample report whose REPORT_DATA equals inblob (or a fault, per test). The
 * reports are real and unmodified; nothing is signed by the test. The entry-creating outer call
 * (mkdir/rmdir under the root) is tested against plain directories, where it must fail cleanly
 * and leave nothing behind, since a plain directory cannot create attribute files at mkdir.
 *
 * /dev/sev-guest: a missing path, a regular file, a FIFO and /dev/null (a real character device
 * that is not an SEV guest) must each fail with a clear reason; the firmware response headers
 * are checked on buffers built around the real report.
 */
#include "tee_test.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acquire_internal.h"
#include "scitt/attest.h"
#include "scitt/dcap.h"
#include "scitt/json.h"

static char base[200];
static uint8_t *rep_a, *rep_b; /* virtee, go-sev-guest */
static size_t len_a, len_b;

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) {
        assert_int_equal(fwrite(data, 1, len, f), len);
    }
    assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static int setup(void **state)
{
    (void)state;
    /* The fake kernel may be cut off by a reader that stops early. */
    signal(SIGPIPE, SIG_IGN);
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof(base), "%s/scitt-tee-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(base));
    rep_a = tt_load(tt_virtee.report, &len_a);
    rep_b = tt_load(tt_gosev.report, &len_b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(base);
    free(rep_a);
    free(rep_b);
    return 0;
}

typedef enum fk_mode {
    FK_NORMAL,
    FK_RACE,      /* someone else wrote the entry meanwhile: generation moved one further */
    FK_WRONG,     /* serves the other sample, whose REPORT_DATA is not ours */
    FK_TRUNCATED, /* 1000 bytes of a report */
    FK_OVERSIZED, /* more than SCITT_LIMIT_TEE_BLOB */
} fk_mode;

typedef struct fake_kernel {
    char entry[512];
    fk_mode mode;
    pthread_t th;
    atomic_int stop;
    atomic_int served;
} fake_kernel;

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void *fk_main(void *arg)
{
    fake_kernel *fk = arg;
    char p[600];
    path_in(p, sizeof(p), fk->entry, "outblob");
    int fd = open(p, O_WRONLY);
    if (fd < 0 || atomic_load(&fk->stop)) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    uint8_t inblob[64] = {0};
    path_in(p, sizeof(p), fk->entry, "inblob");
    FILE *f = fopen(p, "rb");
    size_t got = f ? fread(inblob, 1, sizeof(inblob), f) : 0;
    if (f) {
        fclose(f);
    }
    /* configfs counts every write to inblob or privlevel. */
    unsigned writes = got == 64;
    path_in(p, sizeof(p), fk->entry, "privlevel");
    struct stat st;
    if (stat(p, &st) == 0 && st.st_size > 0) {
        writes++;
    }
    if (fk->mode == FK_RACE) {
        writes++;
    }
    char gen[32];
    int gl = snprintf(gen, sizeof(gen), "%u\n", writes);
    path_in(p, sizeof(p), fk->entry, "generation");
    f = fopen(p, "wb");
    if (f) {
        fwrite(gen, 1, (size_t)gl, f);
        fclose(f);
    }
    /* The sample whose REPORT_DATA is the inblob; FK_WRONG takes the other one. */
    bool is_a = memcmp(rep_a + 0x50, inblob, 64) == 0;
    if (fk->mode == FK_WRONG) {
        is_a = !is_a;
    }
    const uint8_t *rep = is_a ? rep_a : rep_b;
    size_t len = fk->mode == FK_TRUNCATED ? 1000 : SCITT_SNP_REPORT_LEN;
    size_t rounds = fk->mode == FK_OVERSIZED ? 60 : 1;
    for (size_t i = 0; i < rounds; i++) {
        if (write(fd, rep, len) != (ssize_t)len) {
            break; /* the reader stopped reading */
        }
    }
    atomic_store(&fk->served, 1);
    close(fd);
    return NULL;
}

/* A fresh entry as configfs creates it at mkdir, with @p provider and an auxblob. */
static void fk_start(fake_kernel *fk, const char *name, fk_mode mode, const char *provider,
                     scitt_span auxblob, bool with_generation)
{
    memset(fk, 0, sizeof(*fk));
    snprintf(fk->entry, sizeof(fk->entry), "%s/%s", base, name);
    assert_int_equal(mkdir(fk->entry, 0700), 0);
    char p[600];
    path_in(p, sizeof(p), fk->entry, "provider");
    write_file(p, provider, strlen(provider));
    if (with_generation) {
        path_in(p, sizeof(p), fk->entry, "generation");
        write_file(p, "0\n", 2);
    }
    path_in(p, sizeof(p), fk->entry, "inblob");
    write_file(p, "", 0);
    path_in(p, sizeof(p), fk->entry, "privlevel");
    write_file(p, "", 0);
    path_in(p, sizeof(p), fk->entry, "auxblob");
    write_file(p, auxblob.ptr, auxblob.len);
    path_in(p, sizeof(p), fk->entry, "outblob");
    assert_int_equal(mkfifo(p, 0600), 0);
    fk->mode = mode;
    assert_int_equal(pthread_create(&fk->th, NULL, fk_main, fk), 0);
}

/* Joins the thread; unblocks it first if the code under test never opened outblob. */
static bool fk_stop(fake_kernel *fk)
{
    atomic_store(&fk->stop, 1);
    char p[600];
    path_in(p, sizeof(p), fk->entry, "outblob");
    int fd = open(p, O_RDONLY | O_NONBLOCK);
    pthread_join(fk->th, NULL);
    if (fd >= 0) {
        close(fd);
    }
    rm_rf(fk->entry);
    return atomic_load(&fk->served) != 0;
}

/* The real certificates of the virtee sample in a GHCB table, as a host would put in auxblob. */
static uint8_t *table_for_virtee(size_t *len)
{
    scitt_snp_certs c;
    tt_certs(&tt_virtee, &c);
    const uint8_t *guids[] = {tt_guid_vcek, tt_guid_ask, tt_guid_ark};
    scitt_span ders[] = {scitt_snp_certs_get(&c, SCITT_SNP_CERT_VCEK),
                         scitt_snp_certs_get(&c, SCITT_SNP_CERT_ASK),
                         scitt_snp_certs_get(&c, SCITT_SNP_CERT_ARK)};
    static tt_tbl t;
    tt_tbl_make(&t, guids, ders, 3, 4096 * 4);
    scitt_snp_certs_clear(&c);
    uint8_t *out = malloc(t.len);
    memcpy(out, t.buf, t.len);
    *len = t.len;
    return out;
}

static void test_tsm_round_trip(void **state)
{
    (void)state;
    size_t tl;
    uint8_t *table = table_for_virtee(&tl);
    fake_kernel fk;
    fk_start(&fk, "e1", FK_NORMAL, "sev_guest\n", scitt_span_make(table, tl), true);
    scitt_tee_evidence ev;
    scitt_tee_evidence_init(&ev);
    scitt_tee_reason why;
    TT_CHECK(scitt__tsm_request(fk.entry, rep_a + 0x50, 0, &ev, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_true(fk_stop(&fk));
    assert_int_equal(ev.platform, SCITT_TEE_SEV_SNP);
    assert_int_equal(ev.source, SCITT_TEE_SRC_TSM);
    assert_string_equal(ev.provider, "sev_guest");
    assert_int_equal(ev.generation, 1);
    assert_int_equal(ev.report_len, len_a);
    assert_memory_equal(ev.report, rep_a, len_a);
    assert_int_equal(ev.certs_len, tl);
    /* Acquire -> verify, with the certificates from auxblob only. */
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    assert_int_equal(
        scitt_snp_certs_add_table(&certs, scitt_span_make(ev.certs, ev.certs_len), NULL), SCITT_OK);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    scitt_snp_verified v;
    TT_CHECK(scitt_snp_verify(scitt_span_make(ev.report, ev.report_len), &certs, &o, &v, &why), why,
             SCITT_OK, SCITT_TEE_OK);
    scitt_snp_certs_clear(&certs);
    scitt_tee_evidence_clear(&ev);

    /* The other sample, requested at privlevel 2: privlevel is written first, as a decimal. */
    fk_start(&fk, "e2", FK_NORMAL, "sev_guest\n", scitt_span_make(NULL, 0), true);
    TT_CHECK(scitt__tsm_request(fk.entry, rep_b + 0x50, 2, &ev, &why), why, SCITT_OK, SCITT_TEE_OK);
    char p[600];
    path_in(p, sizeof(p), fk.entry, "privlevel");
    size_t n;
    uint8_t *lvl = tu_read_file(p, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(lvl, "2\n", 2);
    free(lvl);
    assert_true(fk_stop(&fk));
    assert_int_equal(ev.generation, 2);
    assert_memory_equal(ev.report, rep_b, len_b);
    assert_int_equal(ev.certs_len, 0);
    scitt_tee_evidence_clear(&ev);
    free(table);
}

static void test_tsm_faults(void **state)
{
    (void)state;
    static const struct {
        fk_mode mode;
        const char *provider;
        bool generation;
        scitt_err err;
        scitt_tee_reason why;
        bool served;
        const char *because;
    } rows[] = {
        {FK_RACE, "sev_guest\n", true, SCITT_ERR_BUSY, SCITT_TEE_ACQ_TSM_RACE, true,
         "generation moved by another writer"},
        {FK_WRONG, "sev_guest\n", true, SCITT_ERR_BINDING, SCITT_TEE_ACQ_REPORT_DATA, true,
         "outblob is not the report for our inblob"},
        {FK_TRUNCATED, "sev_guest\n", true, SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_REPORT_SIZE,
         true, "a cut report"},
        {FK_OVERSIZED, "sev_guest\n", true, SCITT_ERR_TOO_LARGE, SCITT_TEE_ACQ_TOO_LARGE, true,
         "outblob beyond the limit"},
        {FK_NORMAL, "foo_guest\n", true, SCITT_ERR_UNSUPPORTED, SCITT_TEE_ACQ_TSM_PROVIDER, false,
         "a provider we do not know"},
        {FK_NORMAL, "sev_guest\n", false, SCITT_ERR_NO_TEE, SCITT_TEE_ACQ_TSM_ATTRIBUTE, false,
         "no generation attribute: not configfs-tsm"},
        {FK_NORMAL, "sev_guest_with_a_longer_name_than_fits\n", true, SCITT_ERR_UNSUPPORTED,
         SCITT_TEE_ACQ_TSM_PROVIDER, false, "a provider name longer than the evidence holds"},
        {FK_NORMAL,
         "a provider attribute of more than sixty-four bytes is not a configfs-tsm provider\n",
         true, SCITT_ERR_NO_TEE, SCITT_TEE_ACQ_TSM_ATTRIBUTE, false,
         "an attribute longer than any provider name"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        fake_kernel fk;
        char name[16];
        snprintf(name, sizeof(name), "f%zu", i);
        fk_start(&fk, name, rows[i].mode, rows[i].provider, scitt_span_make(NULL, 0),
                 rows[i].generation);
        scitt_tee_evidence ev;
        scitt_tee_evidence_init(&ev);
        scitt_tee_reason why = SCITT_TEE_OK;
        scitt_err got = scitt__tsm_request(fk.entry, rep_a + 0x50, 0, &ev, &why);
        bool served = fk_stop(&fk);
        if (got != rows[i].err || why != rows[i].why || served != rows[i].served) {
            fail_msg("%s: got %s/%s served=%d", rows[i].because, scitt_err_name(got),
                     scitt_tee_reason_name(why), served);
        }
        assert_null(ev.report);
        scitt_tee_evidence_clear(&ev);
    }
    /* TDX: the same exchange, but what comes back must be a TDX quote carrying the REPORTDATA
     * asked for (scitt__check_tdx_quote, below); an SNP report from a tdx_guest provider is
     * refused and leaves nothing. */
    fake_kernel fk;
    fk_start(&fk, "tdx", FK_NORMAL, "tdx_guest\n", scitt_span_make(NULL, 0), true);
    scitt_tee_evidence ev;
    scitt_tee_evidence_init(&ev);
    assert_int_equal(scitt__tsm_request(fk.entry, rep_a + 0x50, 0, &ev, NULL),
                     SCITT_ERR_EVIDENCE_MALFORMED);
    assert_true(fk_stop(&fk));
    assert_null(ev.report);
    scitt_tee_evidence_clear(&ev);
}

/* What a tdx_guest provider returns: the real TDX quotes (REPORTDATA zero, and the GCP one's),
 * bound to what was asked or refused; SGX quotes and SNP reports are not TDX quotes. */
static void test_tdx_quote_check(void **state)
{
    (void)state;
    size_t n;
    uint8_t *q = tu_read_file(tu_shared("dcap/tdx-automata/quote.bin"), &n);
    uint8_t rd[64] = {0};
    scitt_tee_reason why = SCITT_TEE_OK;
    assert_int_equal(scitt__check_tdx_quote(scitt_span_make(q, n), rd, &why), SCITT_OK);
    rd[63] = 1; /* another nonce */
    assert_int_equal(scitt__check_tdx_quote(scitt_span_make(q, n), rd, &why), SCITT_ERR_BINDING);
    assert_int_equal(why, SCITT_TEE_ACQ_REPORT_DATA);
    rd[63] = 0;
    rd[0] = 1; /* another identity */
    assert_int_equal(scitt__check_tdx_quote(scitt_span_make(q, n), rd, &why), SCITT_ERR_BINDING);
    assert_int_equal(scitt__check_tdx_quote(scitt_span_make(q, 600), rd, &why),
                     SCITT_ERR_EVIDENCE_MALFORMED);
    free(q);
    q = tu_read_file(tu_shared("dcap/sgx-automata/quote.bin"), &n);
    memset(rd, 0, sizeof(rd));
    assert_int_equal(scitt__check_tdx_quote(scitt_span_make(q, n), rd, &why),
                     SCITT_ERR_EVIDENCE_MALFORMED);
    assert_int_equal(why, SCITT_TEE_DCAP_TEE_TYPE);
    free(q);
    assert_int_equal(
        scitt__check_tdx_quote(scitt_span_make(rep_a, SCITT_SNP_REPORT_LEN), rep_a + 0x50, &why),
        SCITT_ERR_EVIDENCE_MALFORMED);
}

/* A collateral directory read into a bundle's endorsements: the real one round-trips; a missing
 * required file, one that does not parse, one too large are refused; optional files may be
 * absent. */
static void test_collateral_dir(void **state)
{
    (void)state;
    scitt_dynbuf m;
    scitt_dynbuf_init(&m, 0);
    scitt_tee_reason why = SCITT_TEE_OK;
    assert_int_equal(
        scitt_tee_dcap_collateral_read(tu_shared("dcap/tdx-automata/collateral"), &m, &why),
        SCITT_OK);
    scitt_dcap_collateral *c;
    assert_int_equal(scitt_dcap_collateral_new(&c), SCITT_OK);
    assert_int_equal(scitt_attest_collateral_load(scitt_span_make(m.ptr, m.len), c, &why),
                     SCITT_OK);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        assert_true(scitt_dcap_collateral_has(c, (scitt_dcap_item)i));
    }
    scitt_dcap_collateral_free(c);
    scitt_dynbuf_clear(&m);
    /* a copy with only the required files, then broken one way at a time */
    char dir[300], path[400];
    snprintf(dir, sizeof(dir), "%s/coll", base);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (!scitt_dcap_item_required((scitt_dcap_item)i)) {
            continue;
        }
        char rel[200];
        snprintf(rel, sizeof(rel), "dcap/tdx-automata/collateral/%s",
                 scitt_dcap_item_file((scitt_dcap_item)i));
        size_t n;
        uint8_t *b = tu_read_file(tu_shared(rel), &n);
        snprintf(path, sizeof(path), "%s/%s", dir, scitt_dcap_item_file((scitt_dcap_item)i));
        write_file(path, b, n);
        free(b);
    }
    scitt_dynbuf_init(&m, 0);
    assert_int_equal(scitt_tee_dcap_collateral_read(dir, &m, &why), SCITT_OK);
    scitt_dynbuf_clear(&m);
    snprintf(path, sizeof(path), "%s/root_ca_crl.der", dir);
    write_file(path, "not a CRL", 9);
    scitt_dynbuf_init(&m, 0);
    assert_int_equal(scitt_tee_dcap_collateral_read(dir, &m, &why), SCITT_ERR_EVIDENCE_MALFORMED);
    scitt_dynbuf_clear(&m);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/qe_identity.json", dir);
    assert_int_equal(unlink(path), 0);
    scitt_dynbuf_init(&m, 0);
    assert_int_equal(scitt_tee_dcap_collateral_read(dir, &m, &why), SCITT_ERR_NOT_FOUND);
    assert_int_equal(why, SCITT_TEE_DCAP_COLLATERAL_MISSING);
    scitt_dynbuf_clear(&m);
    uint8_t *big = calloc(1, SCITT_DCAP_COLLATERAL_FILE_MAX + 1);
    assert_non_null(big);
    write_file(path, big, SCITT_DCAP_COLLATERAL_FILE_MAX + 1);
    free(big);
    scitt_dynbuf_init(&m, 0);
    assert_int_equal(scitt_tee_dcap_collateral_read(dir, &m, &why), SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&m);
}

static bool dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL) {
        empty = empty && (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0);
    }
    closedir(d);
    return empty;
}

/* The entry-creating call on roots that are not configfs: clean failures, nothing left behind. */
static void test_tsm_roots(void **state)
{
    (void)state;
    uint8_t rd[64] = {0};
    scitt_tee_acquire_opts o;
    memset(&o, 0, sizeof(o));
    scitt_tee_evidence ev;
    scitt_tee_evidence_init(&ev);
    scitt_tee_reason why;
    char root[600];
    snprintf(root, sizeof(root), "%s/root", base);
    assert_int_equal(mkdir(root, 0700), 0);
    o.tsm_root = root;
    TT_CHECK(scitt_tee_acquire_tsm(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_TSM_ATTRIBUTE);
    assert_true(dir_is_empty(root));
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/no-such-root", base);
    o.tsm_root = missing;
    TT_CHECK(scitt_tee_acquire_tsm(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_NO_DEVICE);
    char file[600];
    snprintf(file, sizeof(file), "%s/plain-file", base);
    write_file(file, "x", 1);
    o.tsm_root = file;
    TT_CHECK(scitt_tee_acquire_tsm(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_NO_DEVICE);
    if (geteuid() != 0) {
        /* A root we may not create entries in (root bypasses the permission, so skip there). */
        assert_int_equal(chmod(root, 0500), 0);
        o.tsm_root = root;
        TT_CHECK(scitt_tee_acquire_tsm(&o, rd, &ev, &why), why, SCITT_ERR_IO,
                 SCITT_TEE_ACQ_TSM_ENTRY);
        assert_int_equal(chmod(root, 0700), 0);
    }
    o.privlevel = 4;
    assert_int_equal(scitt_tee_acquire_tsm(&o, rd, &ev, NULL), SCITT_ERR_INVALID_ARG);
    assert_null(ev.report);
}

static void test_sev_guest_not_a_device(void **state)
{
    (void)state;
    uint8_t rd[64] = {0};
    scitt_tee_acquire_opts o;
    memset(&o, 0, sizeof(o));
    scitt_tee_evidence ev;
    scitt_tee_evidence_init(&ev);
    scitt_tee_reason why;
    char p[600];
    snprintf(p, sizeof(p), "%s/no-sev-guest", base);
    o.sev_guest = p;
    TT_CHECK(scitt_tee_acquire_sev_guest(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_NO_DEVICE);
    snprintf(p, sizeof(p), "%s/regular-sev-guest", base);
    write_file(p, rep_a, len_a);
    TT_CHECK(scitt_tee_acquire_sev_guest(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_NOT_DEVICE);
    snprintf(p, sizeof(p), "%s/fifo-sev-guest", base);
    assert_int_equal(mkfifo(p, 0600), 0);
    TT_CHECK(scitt_tee_acquire_sev_guest(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_NOT_DEVICE);
    uint8_t key[32];
    scitt_snp_key_request kr;
    scitt_snp_key_request_init(&kr);
    assert_int_equal(kr.guest_field_select,
                     SCITT_SNP_KEY_FIELD_MEASUREMENT | SCITT_SNP_KEY_FIELD_POLICY);
    TT_CHECK(scitt_tee_snp_derive_key(&o, &kr, key, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_NOT_DEVICE);
    /* /dev/null is a character device, but not an SEV guest: the ioctl is refused. */
    struct stat st;
    if (stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode)) {
        o.sev_guest = "/dev/null";
        TT_CHECK(scitt_tee_acquire_sev_guest(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
                 SCITT_TEE_ACQ_IOCTL);
        o.want_certs = true;
        TT_CHECK(scitt_tee_acquire_sev_guest(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE,
                 SCITT_TEE_ACQ_IOCTL);
        TT_CHECK(scitt_tee_snp_derive_key(&o, &kr, key, &why), why, SCITT_ERR_NO_TEE,
                 SCITT_TEE_ACQ_IOCTL);
    }
    kr.guest_field_select = 1u << 6; /* no such field */
    assert_int_equal(scitt_tee_snp_derive_key(&o, &kr, key, NULL), SCITT_ERR_INVALID_ARG);
    assert_null(ev.report);

    /* The combined call: no configfs-tsm root, then the device; and neither. */
    snprintf(p, sizeof(p), "%s/no-tsm", base);
    o.tsm_root = p;
    o.sev_guest = "/dev/null";
    TT_CHECK(scitt_tee_acquire(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE, SCITT_TEE_ACQ_IOCTL);
    char p2[700];
    snprintf(p2, sizeof(p2), "%s/no-dev", base);
    o.sev_guest = p2;
    TT_CHECK(scitt_tee_acquire(&o, rd, &ev, &why), why, SCITT_ERR_NO_TEE, SCITT_TEE_ACQ_NO_DEVICE);
    scitt_tee_platform plat;
    scitt_tee_source src;
    TT_CHECK(scitt_tee_detect(&o, &plat, &src, &why), why, SCITT_ERR_NO_TEE,
             SCITT_TEE_ACQ_NO_DEVICE);
    assert_int_equal(plat, SCITT_TEE_NONE);
    assert_int_equal(src, SCITT_TEE_SRC_NONE);
}

static void le32_put(uint8_t *p, uint32_t v)
{
    tt_put_le32(p, v);
}

static void test_firmware_responses(void **state)
{
    (void)state;
    uint8_t resp[4000] = {0};
    le32_put(resp + 4, SCITT_SNP_REPORT_LEN);
    memcpy(resp + 0x20, rep_a, len_a);
    scitt_span rep;
    scitt_tee_reason why;
    TT_CHECK(scitt__sev_report_response(resp, sizeof(resp), &rep, &why), why, SCITT_OK,
             SCITT_TEE_OK);
    assert_ptr_equal(rep.ptr, resp + 0x20);
    assert_int_equal(rep.len, len_a);
    TT_CHECK(scitt__check_snp_report(rep, rep_a + 0x50, &why), why, SCITT_OK, SCITT_TEE_OK);
    TT_CHECK(scitt__check_snp_report(rep, rep_b + 0x50, &why), why, SCITT_ERR_BINDING,
             SCITT_TEE_ACQ_REPORT_DATA);
    /* Status 0x16 (invalid parameters) from the firmware. */
    le32_put(resp, 0x16);
    TT_CHECK(scitt__sev_report_response(resp, sizeof(resp), &rep, &why), why, SCITT_ERR_IO,
             SCITT_TEE_ACQ_FIRMWARE);
    le32_put(resp, 0);
    le32_put(resp + 4, SCITT_SNP_REPORT_LEN + 1);
    TT_CHECK(scitt__sev_report_response(resp, sizeof(resp), &rep, &why), why,
             SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_ACQ_RESPONSE);
    le32_put(resp + 4, SCITT_SNP_REPORT_LEN);
    TT_CHECK(scitt__sev_report_response(resp, 0x20 + SCITT_SNP_REPORT_LEN - 1, &rep, &why), why,
             SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_ACQ_RESPONSE);
    TT_CHECK(scitt__sev_report_response(resp, 0x1f, &rep, &why), why, SCITT_ERR_EVIDENCE_MALFORMED,
             SCITT_TEE_ACQ_RESPONSE);
    uint8_t kresp[64], key[32];
    memset(kresp, 0, sizeof(kresp));
    for (int i = 0; i < 32; i++) {
        kresp[32 + i] = (uint8_t)(i + 1);
    }
    TT_CHECK(scitt__sev_key_response(kresp, key, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_memory_equal(key, kresp + 32, 32);
    kresp[0] = 0x16;
    TT_CHECK(scitt__sev_key_response(kresp, key, &why), why, SCITT_ERR_IO, SCITT_TEE_ACQ_FIRMWARE);
}

static void test_aci_dir(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/security-context-1", base);
    assert_int_equal(mkdir(dir, 0700), 0);
    scitt_tee_aci aci;
    scitt_tee_reason why;
    TT_CHECK(scitt_tee_aci_read(dir, &aci, &why), why, SCITT_ERR_NOT_FOUND, SCITT_TEE_ACQ_ACI_FILE);

    /* host-amd-cert-base64: the THIM JSON around the real virtee certificates. */
    scitt_snp_certs c;
    tt_certs(&tt_virtee, &c);
    scitt_dynbuf chain;
    scitt_dynbuf_init(&chain, 0);
    scitt_snp_certs one;
    scitt_snp_certs_init(&one);
    assert_int_equal(scitt_snp_certs_add_der(&one, SCITT_SNP_CERT_VCEK,
                                             scitt_snp_certs_get(&c, SCITT_SNP_CERT_VCEK), NULL),
                     SCITT_OK);
    scitt_dynbuf vcek_pem;
    scitt_dynbuf_init(&vcek_pem, 0);
    assert_int_equal(scitt_snp_certs_to_pem(&one, &vcek_pem), SCITT_OK);
    scitt_snp_certs_clear(&one);
    scitt_snp_certs_init(&one);
    assert_int_equal(scitt_snp_certs_add_der(&one, SCITT_SNP_CERT_ASK,
                                             scitt_snp_certs_get(&c, SCITT_SNP_CERT_ASK), NULL),
                     SCITT_OK);
    assert_int_equal(scitt_snp_certs_add_der(&one, SCITT_SNP_CERT_ARK,
                                             scitt_snp_certs_get(&c, SCITT_SNP_CERT_ARK), NULL),
                     SCITT_OK);
    assert_int_equal(scitt_snp_certs_to_pem(&one, &chain), SCITT_OK);
    scitt_dynbuf json;
    scitt_dynbuf_init(&json, 0);
    scitt_dynbuf_str(&json, "{\"vcekCert\":");
    scitt_json_put_string(&json, scitt_span_make(vcek_pem.ptr, vcek_pem.len));
    scitt_dynbuf_str(&json, ",\"certificateChain\":");
    scitt_json_put_string(&json, scitt_span_make(chain.ptr, chain.len));
    scitt_dynbuf_str(&json, ",\"tcbm\":\"7308000000000003\",\"cacheControl\":\"86400\"}");
    static char b64[65536];
    assert_int_equal(scitt_base64_encode(scitt_span_make(json.ptr, json.len), b64, sizeof(b64)),
                     SCITT_OK);
    char p[700];
    snprintf(p, sizeof(p), "%s/host-amd-cert-base64", dir);
    write_file(p, b64, strlen(b64));
    const char *policy = "package policy\napi_version := \"0.10.0\"\n";
    assert_int_equal(scitt_base64_encode(scitt_span_str(policy), b64, sizeof(b64)), SCITT_OK);
    snprintf(p, sizeof(p), "%s/security-policy-base64", dir);
    write_file(p, b64, strlen(b64));

    /* Found through UVM_SECURITY_CONTEXT_DIR, as a Confidential ACI container sees it. */
    setenv("UVM_SECURITY_CONTEXT_DIR", dir, 1);
    TT_CHECK(scitt_tee_aci_read(NULL, &aci, &why), why, SCITT_OK, SCITT_TEE_OK);
    unsetenv("UVM_SECURITY_CONTEXT_DIR");
    assert_null(aci.reference_info);
    assert_int_equal(aci.security_policy_len, strlen(policy));
    assert_memory_equal(aci.security_policy, policy, aci.security_policy_len);
    scitt_snp_certs got;
    scitt_snp_certs_init(&got);
    uint64_t tcbm;
    bool has;
    assert_int_equal(
        scitt_snp_certs_add_thim(&got, scitt_span_make(aci.host_amd_cert, aci.host_amd_cert_len),
                                 &tcbm, &has, NULL),
        SCITT_OK);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    scitt_snp_verified v;
    assert_int_equal(scitt_snp_verify(scitt_span_make(rep_a, len_a), &got, &o, &v, NULL), SCITT_OK);
    /* HOST_DATA must be SHA-256(policy); the virtee guest had no policy (zeros), so a relying
     * party pinning this policy's digest rejects it. */
    uint8_t digest[32];
    scitt_sha256(aci.security_policy, aci.security_policy_len, digest);
    scitt_snp_policy pol;
    scitt_snp_policy_init(&pol);
    pol.host_data = digest;
    pol.n_host_data = 1;
    pol.has_endorsed_tcb = has;
    pol.endorsed_tcb = tcbm;
    TT_CHECK(scitt_snp_check_policy(&v, &pol, &why), why, SCITT_ERR_POLICY,
             SCITT_TEE_POLICY_HOST_DATA);
    scitt_tee_aci_clear(&aci);

    /* A security-context file that is not base64. */
    snprintf(p, sizeof(p), "%s/reference-info-base64", dir);
    write_file(p, "not*base64", 10);
    TT_CHECK(scitt_tee_aci_read(dir, &aci, &why), why, SCITT_ERR_EVIDENCE_MALFORMED,
             SCITT_TEE_BASE64);
    assert_null(aci.host_amd_cert);
    TT_CHECK(scitt_tee_aci_read(NULL, &aci, &why), why, SCITT_ERR_NOT_FOUND,
             SCITT_TEE_ACQ_ACI_FILE);
    scitt_snp_certs_clear(&got);
    scitt_snp_certs_clear(&one);
    scitt_snp_certs_clear(&c);
    scitt_dynbuf_clear(&json);
    scitt_dynbuf_clear(&chain);
    scitt_dynbuf_clear(&vcek_pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsm_round_trip),     cmocka_unit_test(test_tsm_faults),
        cmocka_unit_test(test_tsm_roots),          cmocka_unit_test(test_sev_guest_not_a_device),
        cmocka_unit_test(test_firmware_responses), cmocka_unit_test(test_aci_dir),
        cmocka_unit_test(test_tdx_quote_check),    cmocka_unit_test(test_collateral_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
