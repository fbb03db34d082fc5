/*
 * Helpers shared by the tee unit tests: the pinned test clock and loading the real SEV-SNP
 * samples from the repository's test data (tests/data/tee, see tests/data/PROVENANCE.md).
 */
#ifndef SCITT_TEE_TEST_H
#define SCITT_TEE_TEST_H

#include "testutil.h"

#include "scitt/tee.h"

/* 2025-07-01T00:00:00Z: inside the validity of every VCEK, ASK and ARK in the samples. */
#define T_NOW INT64_C(1751328000)

/* One real report with the endorsements it was issued with. */
typedef struct tt_sample {
    const char *report; /* path under tests/data; ".hex" files are decoded */
    const char *vcek;   /* DER */
    const char *chain;  /* PEM ASK then ARK */
} tt_sample;

static const tt_sample tt_virtee = {"tee/sev-snp/virtee-milan/report_milan.hex",
                                    "tee/sev-snp/virtee-milan/vcek_milan.der",
                                    "tee/sev-snp/virtee-milan/cert_chain_milan"};
static const tt_sample tt_gosev = {"tee/sev-snp/go-sev-guest-milan/attestation.bin",
                                   "tee/sev-snp/go-sev-guest-milan/vcek.testcer",
                                   "tee/sev-snp/go-sev-guest-milan/milan.testcer"};

static inline uint8_t *tt_load(const char *rel, size_t *len)
{
    uint8_t *b = tu_read_file(tu_shared(rel), len);
    size_t n = strlen(rel);
    if (n > 4 && strcmp(rel + n - 4, ".hex") == 0) {
        /* Hex text (possibly with a trailing newline) -> bytes. */
        while (*len && (b[*len - 1] == '\n' || b[*len - 1] == '\r')) {
            (*len)--;
        }
        b[*len] = 0;
        size_t out_len;
        uint8_t *raw = tu_hex((const char *)b, &out_len);
        free(b);
        *len = out_len;
        return raw;
    }
    return b;
}

/* Fills @p c with the sample's VCEK (DER) and chain (PEM). */
static inline void tt_certs(const tt_sample *s, scitt_snp_certs *c)
{
    size_t n;
    scitt_snp_certs_init(c);
    uint8_t *vcek = tt_load(s->vcek, &n);
    assert_int_equal(
        scitt_snp_certs_add_der(c, SCITT_SNP_CERT_VCEK, scitt_span_make(vcek, n), NULL), SCITT_OK);
    free(vcek);
    uint8_t *chain = tt_load(s->chain, &n);
    assert_int_equal(scitt_snp_certs_add_pem(c, scitt_span_make(chain, n), NULL), SCITT_OK);
    free(chain);
}

/* Fails the test unless (got, why) == (want, want_why), naming all four. */
static inline void tt_check(scitt_err got, scitt_tee_reason why, scitt_err want,
                            scitt_tee_reason want_why, const char *what, int line)
{
    if (got != want || why != want_why) {
        fail_msg("line %d, %s: got %s/%s, want %s/%s", line, what, scitt_err_name(got),
                 scitt_tee_reason_name(why), scitt_err_name(want), scitt_tee_reason_name(want_why));
    }
}
/* The call is evaluated before its reason is read (argument order is unspecified in C). */
#define TT_CHECK(got, why, want, want_why)                                                         \
    do {                                                                                           \
        scitt_err got_ = (got);                                                                    \
        tt_check(got_, (why), (want), (want_why), #got, __LINE__);                                 \
    } while (0)

/* A GHCB table: entries {GUID, offset, length}, a zero entry, then the certificates. */
typedef struct tt_tbl {
    uint8_t buf[16384];
    size_t len;
} tt_tbl;

static inline void tt_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline void tt_tbl_make(tt_tbl *t, const uint8_t *const guids[], const scitt_span *ders,
                               size_t n, size_t pad_to)
{
    memset(t, 0, sizeof(*t));
    size_t off = (n + 1) * 24;
    for (size_t i = 0; i < n; i++) {
        memcpy(t->buf + i * 24, guids[i], 16);
        tt_put_le32(t->buf + i * 24 + 16, (uint32_t)off);
        tt_put_le32(t->buf + i * 24 + 20, (uint32_t)ders[i].len);
        memcpy(t->buf + off, ders[i].ptr, ders[i].len);
        off += ders[i].len;
    }
    t->len = off > pad_to ? off : pad_to;
}

static const uint8_t tt_guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                         0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t tt_guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                        0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t tt_guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                        0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
static const uint8_t tt_guid_other[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                          0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};

#endif /* SCITT_TEE_TEST_H */
