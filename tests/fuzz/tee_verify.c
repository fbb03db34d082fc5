/*
 * Fuzz target: full SNP verification with the real virtee and go-sev-guest chains (read from the
 * repository's samples in tests/data at start-up) and a mutated real report. Input: one byte
 * picking the sample (bit 0) and whether to cut the report (bit 1: the next two bytes give the
 * length), then (offset hi, offset lo, xor) triples applied to the report. Property: a report that
 * still verifies has exactly the signed bytes [0, 0x2A0) of the original.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/tee.h"

#ifndef SCITT_TEST_DATA_DEFAULT
#define SCITT_TEST_DATA_DEFAULT "tests/data"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T_NOW INT64_C(1751328000) /* 2025-07-01T00:00:00Z */

typedef struct sample {
    const char *report, *vcek, *chain;
    uint8_t bytes[SCITT_SNP_REPORT_LEN];
    scitt_snp_certs certs;
} sample;

static sample samples[2] = {
    {"tee/sev-snp/virtee-milan/report_milan.bin",
     "tee/sev-snp/virtee-milan/vcek_milan.der",
     "tee/sev-snp/virtee-milan/cert_chain_milan",
     {0},
     {{0}, {0}}},
    {"tee/sev-snp/go-sev-guest-milan/attestation.bin",
     "tee/sev-snp/go-sev-guest-milan/vcek.testcer",
     "tee/sev-snp/go-sev-guest-milan/milan.testcer",
     {0},
     {{0}, {0}}},
};

static size_t load(const char *rel, uint8_t *buf, size_t cap)
{
    const char *dir = getenv("SCITT_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : SCITT_TEST_DATA_DEFAULT, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tee_verify: cannot open %s (set SCITT_TEST_DATA)\n", path);
        abort();
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void init(void)
{
    static int done;
    if (done) {
        return;
    }
    static uint8_t buf[16384];
    for (int i = 0; i < 2; i++) {
        sample *s = &samples[i];
        if (load(s->report, s->bytes, sizeof(s->bytes)) != SCITT_SNP_REPORT_LEN) {
            abort();
        }
        scitt_snp_certs_init(&s->certs);
        size_t n = load(s->vcek, buf, sizeof(buf));
        if (scitt_snp_certs_add_der(&s->certs, SCITT_SNP_CERT_VCEK, scitt_span_make(buf, n),
                                    NULL) != SCITT_OK) {
            abort();
        }
        n = load(s->chain, buf, sizeof(buf));
        if (scitt_snp_certs_add_pem(&s->certs, scitt_span_make(buf, n), NULL) != SCITT_OK) {
            abort();
        }
    }
    done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size == 0) {
        return 0;
    }
    const sample *s = &samples[data[0] & 1];
    uint8_t rep[SCITT_SNP_REPORT_LEN];
    memcpy(rep, s->bytes, sizeof(rep));
    size_t len = sizeof(rep), pos = 1;
    if ((data[0] & 2) && size >= 3) {
        len = ((size_t)data[1] << 8 | data[2]) % (sizeof(rep) + 1);
        pos = 3;
    }
    for (; size - pos >= 3; pos += 3) {
        size_t off = ((size_t)data[pos] << 8 | data[pos + 1]) % sizeof(rep);
        rep[off] ^= data[pos + 2];
    }
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    o.allow_vlek = (data[0] & 4) != 0;
    scitt_snp_verified v;
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err err = scitt_snp_verify(scitt_span_make(rep, len), &s->certs, &o, &v, &why);
    if (err == SCITT_OK) {
        if (len != SCITT_SNP_REPORT_LEN || memcmp(rep, s->bytes, SCITT_SNP_SIGNED_LEN) != 0 ||
            why != SCITT_TEE_OK) {
            __builtin_trap(); /* accepted a report whose signed bytes changed */
        }
        scitt_snp_policy p;
        scitt_snp_policy_init(&p);
        why = SCITT_TEE_OK;
        if (scitt_snp_check_policy(&v, &p, &why) != SCITT_OK && why == SCITT_TEE_OK) {
            __builtin_trap(); /* a policy refusal names its check too */
        }
    } else if (why == SCITT_TEE_OK) {
        __builtin_trap(); /* every failure names its check */
    }
    return 0;
}
