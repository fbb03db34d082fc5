/*
 * Helpers shared by the DCAP unit tests: the real samples in tests/data/dcap (PROVENANCE.md says
 * where each file comes from), their pinned verification times, loading a collateral directory,
 * and rebuilding a quote around other certification data.
 */
#ifndef SCITT_DCAP_TEST_H
#define SCITT_DCAP_TEST_H

#include "testutil.h"

#include "scitt/dcap.h"

/* One real quote: its directory under tests/data/dcap, where its collateral is, the pinned time. */
typedef struct dt_sample {
    const char *id;         /* the id in expected.json */
    const char *quote;      /* path under tests/data/dcap */
    const char *collateral; /* directory under tests/data/dcap */
    const char *now;        /* the pinned verification time */
    scitt_dcap_tee tee;
} dt_sample;

enum { DT_SPR_E4, DT_AUTOMATA_TDX, DT_GCP, DT_AUTOMATA_SGX, DT_MOBILECOIN, DT_N };

static const dt_sample dt_samples[DT_N] = {
    {"tdx-v4-gotdxguest-spr-e4", "tdx-spr-e4/quote.bin", "tdx-spr-e4/collateral",
     "2023-07-01T01:00:00Z", SCITT_DCAP_TEE_TDX},
    {"tdx-v4-automata-00806f050000", "tdx-automata/quote.bin", "tdx-automata/collateral",
     "2025-07-15T00:00:00Z", SCITT_DCAP_TEE_TDX},
    {"tdx-v4-gotdxguest-gcp-cos113", "tdx-gcp/quote.bin", "tdx-automata/collateral",
     "2025-07-15T00:00:00Z", SCITT_DCAP_TEE_TDX},
    {"sgx-v3-automata-00606a000000", "sgx-automata/quote.bin", "sgx-automata/collateral",
     "2025-08-20T00:00:00Z", SCITT_DCAP_TEE_SGX},
    {"sgx-v3-mobilecoin-00906ed50000", "sgx-mobilecoin/quote.bin", "sgx-mobilecoin/collateral",
     "2023-07-20T00:00:00Z", SCITT_DCAP_TEE_SGX},
};

/* Path under tests/data/dcap; static storage. */
static inline const char *dt_path(const char *rel)
{
    static char buf[4096];
    const char *src = getenv("SCITT_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/tests/data/dcap/%s", src ? src : ".", rel);
    return buf;
}

static inline uint8_t *dt_load(const char *rel, size_t *len)
{
    return tu_read_file(dt_path(rel), len);
}

static inline int64_t dt_time(const char *iso)
{
    int64_t t = 0;
    assert_int_equal(scitt_dcap_time_parse(scitt_span_str(iso), &t), SCITT_OK);
    return t;
}

/* Sets one collateral item from a file (relative to tests/data/dcap); fails the test on error. */
static inline void dt_set(scitt_dcap_collateral *c, scitt_dcap_item item, const char *rel)
{
    size_t n;
    uint8_t *b = dt_load(rel, &n);
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err err = scitt_dcap_collateral_set(c, item, scitt_span_make(b, n), &why);
    if (err != SCITT_OK) {
        fail_msg("%s: %s / %s", rel, scitt_err_name(err), scitt_tee_reason_name(why));
    }
    free(b);
}

/*
 * Loads the collateral directory @p dir the way a tool does: every file of the directory layout
 * that exists. @p skip_mask leaves items out (bit per scitt_dcap_item).
 */
static inline scitt_dcap_collateral *dt_collateral(const char *dir, unsigned skip_mask)
{
    scitt_dcap_collateral *c = NULL;
    assert_int_equal(scitt_dcap_collateral_new(&c), SCITT_OK);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (skip_mask & (1u << i)) {
            continue;
        }
        char rel[512];
        snprintf(rel, sizeof(rel), "%s/%s", dir, scitt_dcap_item_file((scitt_dcap_item)i));
        FILE *f = fopen(dt_path(rel), "rb");
        if (!f) {
            continue;
        }
        fclose(f);
        dt_set(c, (scitt_dcap_item)i, rel);
    }
    return c;
}

static inline void dt_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void dt_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/*
 * Rebuilds quote @p q (parsed from @p in) with @p cert_data as its PCK certification data, fixing
 * up every length that covers it. The result (heap, free with free) has no trailing bytes.
 */
static inline uint8_t *dt_with_cert_data(scitt_span in, scitt_span cert_data, size_t *out_len)
{
    scitt_dcap_quote q;
    assert_int_equal(scitt_dcap_quote_parse(in, &q, NULL), SCITT_OK);
    size_t head = (size_t)(q.cert_data.ptr - in.ptr); /* up to the chain's bytes */
    size_t len = head + cert_data.len;
    uint8_t *b = malloc(len);
    assert_non_null(b);
    memcpy(b, in.ptr, head);
    memcpy(b + head, cert_data.ptr, cert_data.len);
    size_t sig_at = q.signed_part.len; /* the u32 signature data length */
    dt_put_le32(b + sig_at, (uint32_t)(len - sig_at - 4));
    dt_put_le32(b + head - 4, (uint32_t)cert_data.len);
    if (q.version == 4) {
        /* the type-6 wrapper's size sits after the signature and the attestation key */
        size_t outer = sig_at + 4 + 128 + 2;
        dt_put_le32(b + outer, (uint32_t)(len - outer - 4));
    }
    *out_len = len;
    return b;
}

/* Checks (err, why) and names both on failure. */
#define DT_EXPECT(call, res, want, want_why)                                                       \
    do {                                                                                           \
        scitt_err got_ = (call);                                                                   \
        if (got_ != (want) || (res).why != (want_why)) {                                           \
            fail_msg("line %d: got %s/%s, want %s/%s", __LINE__, scitt_err_name(got_),             \
                     scitt_tee_reason_name((res).why), scitt_err_name(want),                       \
                     scitt_tee_reason_name(want_why));                                             \
        }                                                                                          \
    } while (0)

#endif /* SCITT_DCAP_TEST_H */
