/*
 * SIGHUP on `scittd --platform tdx` (server/platform.c, scittd_platform_reload): the
 * --dcap-collateral directory is read again; collateral that parses replaces what every bundle
 * carries and the start bundle served at /attestation is made again with its quote and the new
 * collateral; a directory with a broken or missing file keeps the old collateral and bundle, and
 * the log says why. The quote is the real TDX sample (tests/data/dcap); no TDX is needed, since
 * the reload makes no new quote.
 *
 * The reader of secret key files (scittd_read_secret_file, for --keystore-key and --witness-key)
 * leaves no copy of the key in memory it gives back to the allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "scitt/attest.h"
#include "scittd.h"

static char logbuf[8192];
static size_t loglen;

static void sink(void *ctx, scitt_log_level lvl, const char *line, size_t len)
{
    (void)ctx;
    (void)lvl;
    if (len < sizeof(logbuf) - loglen - 1) {
        memcpy(logbuf + loglen, line, len);
        loglen += len;
        logbuf[loglen] = 0;
    }
}

static char *src_path(const char *rel)
{
    static char buf[4096];
    const char *src = getenv("SCITT_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/tests/data/dcap/%s", src ? src : ".", rel);
    return buf;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("cannot open %s", path);
    }
    uint8_t *b = malloc(1u << 20);
    assert_non_null(b);
    *n = fread(b, 1, 1u << 20, f);
    fclose(f);
    return b;
}

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Copies sample collateral directory @p rel into @p dir. */
static void copy_collateral(const char *rel, const char *dir)
{
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        const char *name = scitt_dcap_item_file((scitt_dcap_item)i);
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", rel, name);
        FILE *f = fopen(src_path(p), "rb");
        if (!f) {
            continue;
        }
        fclose(f);
        size_t n;
        uint8_t *b = slurp(src_path(p), &n);
        put(dir, name, b, n);
        free(b);
    }
}

/* The collateral map the start bundle carries. */
static scitt_span bundle_collateral(const scittd *d, scitt_attest_bundle *b)
{
    assert_int_equal(scitt_attest_bundle_parse(scitt_span_make(d->bundle.ptr, d->bundle.len), b),
                     SCITT_OK);
    return b->endorsements;
}

static bool span_is(scitt_span s, const scitt_dynbuf *b)
{
    return s.len == b->len && memcmp(s.ptr, b->ptr, s.len) == 0;
}

static void test_reload(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char dbuf[4096];
    snprintf(dbuf, sizeof(dbuf), "%s/scittd-collateral-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dbuf));
    copy_collateral("tdx-automata/collateral", dbuf);

    static scittd d;
    memset(&d, 0, sizeof(d));
    d.platform = "tdx";
    d.cfg.dcap_collateral = dbuf;
    scitt_log_set_sink(sink, NULL);

    /* what start leaves: the collateral of the directory, the bundle with the quote */
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_dynbuf_init(&d.dcap_collateral, 0);
    assert_int_equal(scitt_tee_dcap_collateral_read(dbuf, &d.dcap_collateral, &why), SCITT_OK);
    size_t qn;
    uint8_t *quote = slurp(src_path("tdx-automata/quote.bin"), &qn);
    static const char identity[] = "identity document";
    scitt_dynbuf_init(&d.bundle, 0);
    assert_int_equal(scitt_attest_bundle_encode(
                         "tdx", scitt_span_str(identity), scitt_span_make(quote, qn),
                         scitt_span_make(d.dcap_collateral.ptr, d.dcap_collateral.len), &d.bundle),
                     SCITT_OK);
    scitt_dynbuf start;
    scitt_dynbuf_init(&start, 0);
    scitt_dynbuf_put(&start, d.dcap_collateral.ptr, d.dcap_collateral.len);

    /* new collateral in the directory (another TCB info), then SIGHUP */
    size_t tn;
    uint8_t *tcb = slurp(src_path("tdx-spr-e4/collateral/tcb_info.json"), &tn);
    put(dbuf, "tcb_info.json", tcb, tn);
    loglen = 0;
    scittd_platform_reload(&d);
    assert_non_null(strstr(logbuf, "reload=1"));
    scitt_dynbuf want;
    scitt_dynbuf_init(&want, 0);
    assert_int_equal(scitt_tee_dcap_collateral_read(dbuf, &want, &why), SCITT_OK);
    assert_false(span_is(scitt_span_make(want.ptr, want.len), &start));
    assert_true(span_is(scitt_span_make(d.dcap_collateral.ptr, d.dcap_collateral.len), &want));
    scitt_attest_bundle b;
    assert_true(span_is(bundle_collateral(&d, &b), &want)); /* served at /attestation */
    assert_true(b.evidence.len == qn && memcmp(b.evidence.ptr, quote, qn) == 0);
    assert_true(scitt_span_eq_str(b.identity, identity));
    assert_true(scitt_span_eq_str(b.platform, "tdx"));
    /* the new TCB info is what a relying party loads from it */
    scitt_dcap_collateral *c = NULL;
    assert_int_equal(scitt_dcap_collateral_new(&c), SCITT_OK);
    assert_int_equal(scitt_attest_collateral_load(b.endorsements, c, &why), SCITT_OK);
    scitt_dcap_collateral_free(c);

    /* broken collateral: a TCB info that does not parse, then a required file missing; the
     * old collateral and bundle stay, and the log says why */
    scitt_dynbuf served;
    scitt_dynbuf_init(&served, 0);
    scitt_dynbuf_put(&served, d.bundle.ptr, d.bundle.len);
    put(dbuf, "tcb_info.json", (const uint8_t *)"{\"tcbInfo\": ", 12);
    loglen = 0;
    scittd_platform_reload(&d);
    assert_non_null(strstr(logbuf, "reload=0"));
    assert_non_null(strstr(logbuf, "old collateral kept"));
    assert_non_null(strstr(logbuf, "err=SCITT_ERR_EVIDENCE_MALFORMED"));
    assert_true(span_is(scitt_span_make(d.dcap_collateral.ptr, d.dcap_collateral.len), &want));
    assert_true(span_is(scitt_span_make(served.ptr, served.len), &d.bundle));

    put(dbuf, "tcb_info.json", tcb, tn);
    char p[4200];
    snprintf(p, sizeof(p), "%s/qe_identity.json", dbuf);
    assert_int_equal(unlink(p), 0);
    loglen = 0;
    scittd_platform_reload(&d);
    assert_non_null(strstr(logbuf, "reload=0"));
    assert_true(span_is(scitt_span_make(d.dcap_collateral.ptr, d.dcap_collateral.len), &want));
    assert_true(span_is(scitt_span_make(served.ptr, served.len), &d.bundle));

    /* other platforms: nothing is read */
    d.platform = "snp";
    loglen = 0;
    scittd_platform_reload(&d);
    assert_int_equal(loglen, 0);

    scitt_log_set_sink(NULL, NULL);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        snprintf(p, sizeof(p), "%s/%s", dbuf, scitt_dcap_item_file((scitt_dcap_item)i));
        (void)unlink(p);
    }
    rmdir(dbuf);
    free(quote);
    free(tcb);
    scitt_dynbuf_clear(&start);
    scitt_dynbuf_clear(&want);
    scitt_dynbuf_clear(&served);
    scitt_dynbuf_clear(&d.bundle);
    scitt_dynbuf_clear(&d.dcap_collateral);
}

/* ---- secret files (scittd_read_secret_file) ------------------------------------------------ */

/* An allocator that moves every block realloc grows and looks into every block it frees for the
 * secret a test read: a key's bytes must never reach the allocator's free lists (no realloc left
 * a copy behind; the reader's caller wipes the buffer before freeing it). */
#define SECRET_HEX "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2"
static int freed_with_secret;

static void *hdr_alloc(void *ctx, size_t n)
{
    (void)ctx;
    size_t *h = malloc(n + 16);
    if (h == NULL) {
        return NULL;
    }
    *h = n;
    return (uint8_t *)h + 16;
}

static void hdr_free(void *ctx, void *p)
{
    (void)ctx;
    if (p == NULL) {
        return;
    }
    size_t *h = (size_t *)((uint8_t *)p - 16);
    if (memmem(p, *h, SECRET_HEX, 16) != NULL) {
        freed_with_secret++;
    }
    free(h);
}

static void *hdr_realloc(void *ctx, void *p, size_t n)
{
    uint8_t *q = hdr_alloc(ctx, n);
    if (q != NULL && p != NULL) {
        size_t old = *(size_t *)((uint8_t *)p - 16);
        memcpy(q, p, old < n ? old : n);
        hdr_free(ctx, p);
    }
    return q;
}

static void test_secret_file_left_nowhere(void **state)
{
    (void)state;
    char dir[] = "/tmp/scitt-secret-XXXXXX", path[64], reason[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/k", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", SECRET_HEX);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    const scitt_allocator hooks = {hdr_alloc, hdr_realloc, hdr_free, NULL};
    /* the bounds of --keystore-key (512) and --witness-key (2048) */
    const size_t bounds[] = {512, 2048};
    for (size_t i = 0; i < 2; i++) {
        freed_with_secret = 0;
        scitt_set_allocator(&hooks);
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, bounds[i]);
        assert_int_equal(scittd_read_secret_file("--k", path, &b, reason, sizeof(reason)),
                         SCITT_OK);
        assert_int_equal(b.len, sizeof(SECRET_HEX));
        assert_memory_equal(b.ptr, SECRET_HEX, sizeof(SECRET_HEX) - 1);
        scitt_wipe(b.ptr, b.len);
        scitt_dynbuf_clear(&b);
        scitt_set_allocator(NULL);
        assert_int_equal(freed_with_secret, 0);
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_secret_file_left_nowhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
