/*
 * SIGHUP on `scittd --platform tdx` (server/platform.c, scittd_platform_reload): the
 * --dcap-collateral directory is read again; collateral that parses replaces what every bundle
 * carries and the start bundle served at /attestation is made again with its quote and the new
 * collateral; a directory with a broken or missing file keeps the old collateral and bundle, and
 * the log says why. The quote is the real TDX sample (tests/data/dcap); no TDX is needed, since
 * the reload makes no new quote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
