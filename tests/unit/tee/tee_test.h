/*
 * Helpers shared by the tee unit tests: the pinned test clock and loading the real SEV-SNP
 * samples from the shared directory (never copied into the repository).
 */
#ifndef SCITT_TEE_TEST_H
#define SCITT_TEE_TEST_H

#include "testutil.h"

#include "scitt/tee.h"

/* 2025-07-01T00:00:00Z: inside the validity of every VCEK, ASK and ARK in the samples. */
#define T_NOW INT64_C(1751328000)

/* One real report with the endorsements it was issued with. */
typedef struct tt_sample {
    const char *report; /* path under SCITT_SHARED_DIR; ".hex" files are decoded */
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

#endif /* SCITT_TEE_TEST_H */
