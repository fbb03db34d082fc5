/*
 * The AMD KDS extensions of a VCEK or VLEK certificate (OID arc 1.3.6.1.4.1.3704.1):
 *   .1 structVersion INTEGER, .2 productName1 IA5String, .3.1-.3.9 SPLs INTEGER (bl, tee, snp,
 *   spl4-7, ucode, fmc), .4 hwID raw bytes (not wrapped), .5 cspID IA5String (VLEK).
 * The values are decoded here, strictly, from the bytes the adapter hands over.
 */
#include "scitt/tee.h"

#include <string.h>

#include "tee_internal.h"

/* A DER INTEGER in 0..255: 02 01 vv (vv < 0x80) or 02 02 00 vv (vv >= 0x80), nothing after. */
static bool der_u8(scitt_span v, uint8_t *out)
{
    if (v.len == 3 && v.ptr[0] == 0x02 && v.ptr[1] == 0x01 && v.ptr[2] < 0x80) {
        *out = v.ptr[2];
        return true;
    }
    if (v.len == 4 && v.ptr[0] == 0x02 && v.ptr[1] == 0x02 && v.ptr[2] == 0x00 &&
        v.ptr[3] >= 0x80) {
        *out = v.ptr[3];
        return true;
    }
    return false;
}

/* A DER IA5String of printable ASCII with a short-form length, copied with a NUL. */
static bool der_ia5(scitt_span v, char *out, size_t cap)
{
    if (v.len < 2 || v.ptr[0] != 0x16 || v.ptr[1] >= 0x80 || v.ptr[1] != v.len - 2 ||
        v.len - 2 >= cap || v.len == 2) {
        return false;
    }
    for (size_t i = 2; i < v.len; i++) {
        if (v.ptr[i] < 0x20 || v.ptr[i] > 0x7e) {
            return false;
        }
    }
    memcpy(out, v.ptr + 2, v.len - 2);
    out[v.len - 2] = 0;
    return true;
}

/* The hwID is the raw chip id; accept also an OCTET STRING around it, should KDS ever add one. */
static bool hwid_value(scitt_span v, size_t want, uint8_t *out, size_t *len)
{
    if (v.len == want) {
        memcpy(out, v.ptr, want);
        *len = want;
        return true;
    }
    if (v.len == want + 2 && v.ptr[0] == 0x04 && v.ptr[1] == want) {
        memcpy(out, v.ptr + 2, want);
        *len = want;
        return true;
    }
    return false;
}

/* Bit positions in the `seen` mask. */
enum { SEEN_STRUCT = 0, SEEN_NAME = 1, SEEN_HWID = 2, SEEN_CSPID = 3, SEEN_SPL = 4 };

scitt_err scitt__snp_vcek_from_x509(const scitt__x509 *x, scitt_snp_vcek_info *out,
                                    scitt_tee_reason *why)
{
    memset(out, 0, sizeof(*out));
    scitt__x509_info info;
    if (scitt__x509_info_get(x, &info) != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_CERT_PARSE, SCITT_ERR_CERT_MALFORMED);
    }
    scitt__amd_ext exts[SCITT__AMD_EXT_MAX];
    size_t n = 0;
    if (scitt__x509_amd_exts(x, exts, &n) != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
    }
    uint32_t seen = 0;
    scitt_span hwid = {NULL, 0};
    uint8_t spl[10] = {0};
    for (size_t i = 0; i < n; i++) {
        const scitt__amd_ext *e = &exts[i];
        uint32_t bit;
        bool ok = true;
        if (e->n_arcs == 1 && e->arcs[0] == 1) {
            bit = SEEN_STRUCT;
            ok = der_u8(e->value, &out->struct_version);
        } else if (e->n_arcs == 1 && e->arcs[0] == 2) {
            bit = SEEN_NAME;
            ok = der_ia5(e->value, out->product_name, sizeof(out->product_name));
        } else if (e->n_arcs == 2 && e->arcs[0] == 3 && e->arcs[1] >= 1 && e->arcs[1] <= 9) {
            bit = SEEN_SPL + e->arcs[1];
            ok = der_u8(e->value, &spl[e->arcs[1]]);
        } else if (e->n_arcs == 1 && e->arcs[0] == 4) {
            bit = SEEN_HWID;
            hwid = e->value;
        } else if (e->n_arcs == 1 && e->arcs[0] == 5) {
            bit = SEEN_CSPID;
            ok = der_ia5(e->value, out->csp_id, sizeof(out->csp_id));
        } else {
            continue; /* a KDS extension this verifier does not use */
        }
        if (!ok || (seen & (1u << bit))) {
            return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
        }
        seen |= 1u << bit;
    }
    if (!(seen & (1u << SEEN_STRUCT)) || !(seen & (1u << SEEN_NAME))) {
        return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
    }
    out->product = scitt_snp_product_from_name(scitt_span_str(out->product_name));
    bool turin = out->product == SCITT_SNP_TURIN;
    /* Required SPLs: bl, tee, snp, spl5-7, ucode on every product; spl4 off Turin; fmc on Turin. */
    static const uint8_t required[] = {1, 2, 3, 5, 6, 7, 8};
    for (size_t i = 0; i < sizeof(required); i++) {
        if (!(seen & (1u << (SEEN_SPL + required[i])))) {
            return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
        }
    }
    bool has4 = (seen & (1u << (SEEN_SPL + 4))) != 0;
    bool has9 = (seen & (1u << (SEEN_SPL + 9))) != 0;
    if ((turin && (!has9 || spl[4] != 0)) || (!turin && (!has4 || spl[9] != 0))) {
        return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
    }
    out->spl_present = (uint16_t)((seen >> SEEN_SPL) & 0x3ffu);
    out->tcb.bootloader = spl[1];
    out->tcb.tee = spl[2];
    out->tcb.snp = spl[3];
    out->tcb.spl4 = spl[4];
    out->tcb.spl5 = spl[5];
    out->tcb.spl6 = spl[6];
    out->tcb.spl7 = spl[7];
    out->tcb.microcode = spl[8];
    out->tcb.fmc = spl[9];
    /* Exactly one identity: a chip (VCEK) or a cloud provider (VLEK). */
    bool has_hwid = (seen & (1u << SEEN_HWID)) != 0;
    bool has_csp = (seen & (1u << SEEN_CSPID)) != 0;
    if (has_hwid == has_csp) {
        return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
    }
    out->is_vlek = has_csp;
    if (has_hwid) {
        bool ok;
        if (out->product == SCITT_SNP_PRODUCT_UNKNOWN) {
            ok = hwid_value(hwid, 64, out->hwid, &out->hwid_len) ||
                 hwid_value(hwid, 8, out->hwid, &out->hwid_len);
        } else {
            ok = hwid_value(hwid, turin ? 8 : 64, out->hwid, &out->hwid_len);
        }
        if (!ok) {
            return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
        }
    }
    out->not_before = info.not_before;
    out->not_after = info.not_after;
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}

scitt_err scitt_snp_vcek_parse(scitt_span der, scitt_snp_vcek_info *out, scitt_tee_reason *why)
{
    if (!out || (!der.ptr && der.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    scitt__x509 *x = NULL;
    scitt_err err = scitt__tee_x509_parse(der, &x);
    if (err != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_CERT_PARSE, err);
    }
    err = scitt__snp_vcek_from_x509(x, out, why);
    scitt__x509_free(x);
    return err;
}

scitt_err scitt_snp_vcek_tcb(const scitt_snp_vcek_info *v, uint64_t *out)
{
    if (!v || !out) {
        return SCITT_ERR_INVALID_ARG;
    }
    return scitt_snp_tcb_encode(v->product, &v->tcb, out);
}
