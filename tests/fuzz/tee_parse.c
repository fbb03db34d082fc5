/*
 * Fuzz target: the parsers of untrusted TEE bytes. The first input byte picks the parser, the
 * rest is its input: 0 SNP report, 1 GHCB certificate table, 2 PEM bundle, 3 THIM JSON,
 * 4 base64 security-context file, 5 VCEK DER. Whatever a parser accepts must survive a round
 * trip: certificates re-exported as PEM parse back to the same DER in the same roles.
 */
#include <string.h>

#include "scitt/tee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const scitt_snp_certs *c)
{
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    if (scitt_snp_certs_to_pem(c, &pem) != SCITT_OK) {
        __builtin_trap();
    }
    bool any = pem.len > 0;
    scitt_snp_certs back;
    scitt_snp_certs_init(&back);
    if (any &&
        scitt_snp_certs_add_pem(&back, scitt_span_make(pem.ptr, pem.len), NULL) != SCITT_OK) {
        __builtin_trap(); /* our own output must parse */
    }
    for (int r = 0; r < SCITT_SNP_CERT_ROLES; r++) {
        scitt_span a = scitt_snp_certs_get(c, (scitt_snp_cert_role)r);
        scitt_span b = scitt_snp_certs_get(&back, (scitt_snp_cert_role)r);
        if (!scitt_span_eq(a, b)) {
            __builtin_trap();
        }
    }
    scitt_snp_certs_clear(&back);
    scitt_dynbuf_clear(&pem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    scitt_span in = scitt_span_make(data + 1, size - 1);
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    scitt_err err = SCITT_OK;
    switch (data[0] % 6) {
    case 0: {
        scitt_snp_report r;
        err = scitt_snp_report_parse(in, &r, &why);
        if (err == SCITT_OK) {
            if (in.len != SCITT_SNP_REPORT_LEN || r.version < 2 || r.version > 5) {
                __builtin_trap();
            }
            scitt_snp_product p = scitt_snp_report_product(&r);
            scitt_snp_tcb t;
            uint64_t raw;
            if (p != SCITT_SNP_PRODUCT_UNKNOWN &&
                (scitt_snp_tcb_decode(p, r.reported_tcb, &t) != SCITT_OK ||
                 scitt_snp_tcb_encode(p, &t, &raw) != SCITT_OK || raw != r.reported_tcb)) {
                __builtin_trap();
            }
        }
        break;
    }
    case 1:
        err = scitt_snp_certs_add_table(&c, in, &why);
        break;
    case 2:
        err = scitt_snp_certs_add_pem(&c, in, &why);
        break;
    case 3: {
        uint64_t tcbm;
        bool has;
        err = scitt_snp_certs_add_thim(&c, in, &tcbm, &has, &why);
        break;
    }
    case 4: {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        err = scitt_tee_aci_decode(in, &b, &why);
        if (err == SCITT_OK && b.len > in.len) {
            __builtin_trap(); /* base64 never expands when decoded */
        }
        scitt_dynbuf_clear(&b);
        break;
    }
    case 5: {
        scitt_snp_vcek_info v;
        err = scitt_snp_vcek_parse(in, &v, &why);
        if (err == SCITT_OK && v.hwid_len != 0 && v.hwid_len != 8 && v.hwid_len != 64) {
            __builtin_trap();
        }
        break;
    }
    }
    /* A success never carries a failure reason, and a failure always has a name. */
    if (err == SCITT_OK && why != SCITT_TEE_OK) {
        __builtin_trap();
    }
    if (scitt_tee_reason_name(why) == NULL || scitt_tee_reason_str(why) == NULL) {
        __builtin_trap();
    }
    if (err == SCITT_OK) {
        round_trip(&c);
    } else {
        /* A refused input adds nothing. */
        for (int r = 0; r < SCITT_SNP_CERT_ROLES; r++) {
            if (scitt_snp_certs_get(&c, (scitt_snp_cert_role)r).len) {
                __builtin_trap();
            }
        }
    }
    scitt_snp_certs_clear(&c);
    return 0;
}
