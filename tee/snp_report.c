/*
 * The SEV-SNP ATTESTATION_REPORT (SEV-SNP ABI, versions 2..5): strict parsing, products, TCB
 * layouts. All integers in the report are little-endian.
 */
#include "scitt/tee.h"

#include <string.h>

#include "tee_internal.h"

/* Field offsets (SEV-SNP firmware ABI, Table "ATTESTATION_REPORT Structure"). */
enum {
    OFF_VERSION = 0x000,
    OFF_GUEST_SVN = 0x004,
    OFF_POLICY = 0x008,
    OFF_FAMILY_ID = 0x010,
    OFF_IMAGE_ID = 0x020,
    OFF_VMPL = 0x030,
    OFF_SIG_ALGO = 0x034,
    OFF_CURRENT_TCB = 0x038,
    OFF_PLATFORM_INFO = 0x040,
    OFF_SIGNER_INFO = 0x048,
    OFF_RSVD_04C = 0x04C,
    OFF_REPORT_DATA = 0x050,
    OFF_MEASUREMENT = 0x090,
    OFF_HOST_DATA = 0x0C0,
    OFF_ID_KEY_DIGEST = 0x0E0,
    OFF_AUTHOR_KEY_DIGEST = 0x110,
    OFF_REPORT_ID = 0x140,
    OFF_REPORT_ID_MA = 0x160,
    OFF_REPORTED_TCB = 0x180,
    OFF_CPUID = 0x188,
    OFF_RSVD_18B = 0x18B,
    OFF_CHIP_ID = 0x1A0,
    OFF_COMMITTED_TCB = 0x1E0,
    OFF_CURRENT_VERSION = 0x1E8,
    OFF_COMMITTED_VERSION = 0x1EC,
    OFF_LAUNCH_TCB = 0x1F0,
    OFF_LAUNCH_MIT = 0x1F8,
    OFF_CURRENT_MIT = 0x200,
    OFF_RSVD_208 = 0x208,
    OFF_SIG_R = 0x2A0,
    OFF_SIG_S = 0x2E8,
    OFF_SIG_RSVD = 0x330,
};

#define SIG_COMPONENT_LEN 72u /* r and s are stored as 72-byte little-endian integers */
#define SIG_SIGNIFICANT   48u /* of which only the low 48 bytes may be non-zero for P-384 */

/* The P-384 group order, big-endian: r and s must be in [1, n-1]. */
static const uint8_t p384_order[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* Converts a 72-byte little-endian component to 48 big-endian bytes; false when it does not fit
 * or is not in [1, n-1]. */
static bool sig_component(const uint8_t *le, uint8_t out[48])
{
    if (!all_zero(le + SIG_SIGNIFICANT, SIG_COMPONENT_LEN - SIG_SIGNIFICANT)) {
        return false;
    }
    for (size_t i = 0; i < SIG_SIGNIFICANT; i++) {
        out[i] = le[SIG_SIGNIFICANT - 1 - i];
    }
    if (all_zero(out, 48)) {
        return false;
    }
    return memcmp(out, p384_order, 48) < 0;
}

scitt_err scitt_snp_report_parse(scitt_span in, scitt_snp_report *out, scitt_tee_reason *why)
{
    if (!out || (!in.ptr && in.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    if (in.len != SCITT_SNP_REPORT_LEN) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_SIZE, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    const uint8_t *b = in.ptr;
    scitt_snp_report r;
    memset(&r, 0, sizeof(r));
    r.version = le32(b + OFF_VERSION);
    if (r.version < 2 || r.version > 5) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_VERSION, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    r.guest_svn = le32(b + OFF_GUEST_SVN);
    r.policy = le64(b + OFF_POLICY);
    memcpy(r.family_id, b + OFF_FAMILY_ID, 16);
    memcpy(r.image_id, b + OFF_IMAGE_ID, 16);
    r.vmpl = le32(b + OFF_VMPL);
    r.signature_algo = le32(b + OFF_SIG_ALGO);
    r.current_tcb = le64(b + OFF_CURRENT_TCB);
    r.platform_info = le64(b + OFF_PLATFORM_INFO);
    r.signer_info = le32(b + OFF_SIGNER_INFO);
    memcpy(r.report_data, b + OFF_REPORT_DATA, 64);
    memcpy(r.measurement, b + OFF_MEASUREMENT, 48);
    memcpy(r.host_data, b + OFF_HOST_DATA, 32);
    memcpy(r.id_key_digest, b + OFF_ID_KEY_DIGEST, 48);
    memcpy(r.author_key_digest, b + OFF_AUTHOR_KEY_DIGEST, 48);
    memcpy(r.report_id, b + OFF_REPORT_ID, 32);
    memcpy(r.report_id_ma, b + OFF_REPORT_ID_MA, 32);
    r.reported_tcb = le64(b + OFF_REPORTED_TCB);
    memcpy(r.chip_id, b + OFF_CHIP_ID, 64);
    r.committed_tcb = le64(b + OFF_COMMITTED_TCB);
    /* Versions are stored build, minor, major, then one reserved byte. */
    r.current_version.build = b[OFF_CURRENT_VERSION];
    r.current_version.minor = b[OFF_CURRENT_VERSION + 1];
    r.current_version.major = b[OFF_CURRENT_VERSION + 2];
    r.committed_version.build = b[OFF_COMMITTED_VERSION];
    r.committed_version.minor = b[OFF_COMMITTED_VERSION + 1];
    r.committed_version.major = b[OFF_COMMITTED_VERSION + 2];
    r.launch_tcb = le64(b + OFF_LAUNCH_TCB);

    /* Must-be-zero areas. Fields a later version defines are reserved (zero) in earlier ones. */
    bool mbz_ok = all_zero(b + OFF_RSVD_04C, 4) && (r.signer_info >> 5) == 0 &&
                  all_zero(b + OFF_RSVD_18B, OFF_CHIP_ID - OFF_RSVD_18B) &&
                  b[OFF_CURRENT_VERSION + 3] == 0 && b[OFF_COMMITTED_VERSION + 3] == 0 &&
                  all_zero(b + OFF_RSVD_208, OFF_SIG_R - OFF_RSVD_208) &&
                  all_zero(b + OFF_SIG_RSVD, SCITT_SNP_REPORT_LEN - OFF_SIG_RSVD);
    if (r.version >= 3) {
        r.has_cpuid = true;
        r.cpuid_fam_id = b[OFF_CPUID];
        r.cpuid_mod_id = b[OFF_CPUID + 1];
        r.cpuid_step = b[OFF_CPUID + 2];
    } else {
        mbz_ok = mbz_ok && all_zero(b + OFF_CPUID, 3);
    }
    if (r.version >= 5) {
        r.launch_mit_vector = le64(b + OFF_LAUNCH_MIT);
        r.current_mit_vector = le64(b + OFF_CURRENT_MIT);
    } else {
        mbz_ok = mbz_ok && all_zero(b + OFF_LAUNCH_MIT, OFF_RSVD_208 - OFF_LAUNCH_MIT);
    }
    if (!mbz_ok) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_RESERVED, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    /* Bit 17 is defined as always one; 26..63 are reserved and must be zero. */
    if (!(r.policy & SCITT_SNP_POLICY_RESERVED_ONE) || (r.policy >> 26) != 0) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_POLICY_BITS, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    uint32_t key = SCITT_SNP_SIGNING_KEY(r.signer_info);
    if (key != SCITT_SNP_KEY_VCEK && key != SCITT_SNP_KEY_VLEK && key != SCITT_SNP_KEY_NONE) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_SIGNER, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    if (r.signature_algo != 1) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_SIG_ALGO, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    /* An unsigned report (masked chip key, or no key) carries a zero signature: keep it parseable
     * so it can be inspected, and let verification reject it by name. */
    bool unsigned_report =
        key == SCITT_SNP_KEY_NONE || (r.signer_info & SCITT_SNP_SIGNER_MASK_CHIP_KEY);
    if (unsigned_report) {
        if (!all_zero(b + OFF_SIG_R, 2 * SIG_COMPONENT_LEN)) {
            return scitt__tee_fail(why, SCITT_TEE_REPORT_SIG_FORMAT, SCITT_ERR_EVIDENCE_MALFORMED);
        }
    } else if (!sig_component(b + OFF_SIG_R, r.sig_r) || !sig_component(b + OFF_SIG_S, r.sig_s)) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_SIG_FORMAT, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    *out = r;
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}

/* CPUID family and model of each product line (CPUID_1_EAX 0x00A00F10, 0x00A10F10, 0x00B00F20);
 * the stepping does not change the product. */
static const struct {
    uint8_t family, model;
    scitt_snp_product product;
} cpuid_products[] = {
    {0x19, 0x01, SCITT_SNP_MILAN},
    {0x19, 0x11, SCITT_SNP_GENOA},
    {0x1A, 0x02, SCITT_SNP_TURIN},
};

scitt_snp_product scitt_snp_report_product(const scitt_snp_report *r)
{
    if (!r || !r->has_cpuid) {
        return SCITT_SNP_PRODUCT_UNKNOWN;
    }
    for (size_t i = 0; i < sizeof(cpuid_products) / sizeof(cpuid_products[0]); i++) {
        if (cpuid_products[i].family == r->cpuid_fam_id &&
            cpuid_products[i].model == r->cpuid_mod_id) {
            return cpuid_products[i].product;
        }
    }
    return SCITT_SNP_PRODUCT_UNKNOWN;
}

const char *scitt_snp_product_name(scitt_snp_product p)
{
    switch (p) {
    case SCITT_SNP_MILAN:
        return "Milan";
    case SCITT_SNP_GENOA:
        return "Genoa";
    case SCITT_SNP_TURIN:
        return "Turin";
    case SCITT_SNP_PRODUCT_UNKNOWN:
        break;
    }
    return "unknown";
}

scitt_snp_product scitt_snp_product_from_name(scitt_span name)
{
    /* productName1 is "<Line>" or "<Line>-<stepping>" ("Milan-B0", "Genoa", "Turin"). */
    size_t n = 0;
    while (n < name.len && name.ptr[n] != '-') {
        n++;
    }
    if (n < name.len) {
        /* A stepping suffix must be one letter and digits, nothing else. */
        size_t rest = name.len - n - 1;
        if (rest < 2 || rest > 3 || name.ptr[n + 1] < 'A' || name.ptr[n + 1] > 'Z') {
            return SCITT_SNP_PRODUCT_UNKNOWN;
        }
        for (size_t i = n + 2; i < name.len; i++) {
            if (name.ptr[i] < '0' || name.ptr[i] > '9') {
                return SCITT_SNP_PRODUCT_UNKNOWN;
            }
        }
    }
    scitt_span line = scitt_span_make(name.ptr, n);
    for (int p = SCITT_SNP_MILAN; p <= SCITT_SNP_TURIN; p++) {
        if (scitt_span_eq_str(line, scitt_snp_product_name((scitt_snp_product)p))) {
            return (scitt_snp_product)p;
        }
    }
    return SCITT_SNP_PRODUCT_UNKNOWN;
}

scitt_err scitt_snp_tcb_decode(scitt_snp_product product, uint64_t raw, scitt_snp_tcb *out)
{
    if (!out) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(raw >> (8 * i));
    }
    switch (product) {
    case SCITT_SNP_MILAN:
    case SCITT_SNP_GENOA:
        out->bootloader = b[0];
        out->tee = b[1];
        out->spl4 = b[2];
        out->spl5 = b[3];
        out->spl6 = b[4];
        out->spl7 = b[5];
        out->snp = b[6];
        out->microcode = b[7];
        return SCITT_OK;
    case SCITT_SNP_TURIN:
        out->fmc = b[0];
        out->bootloader = b[1];
        out->tee = b[2];
        out->snp = b[3];
        out->spl5 = b[4];
        out->spl6 = b[5];
        out->spl7 = b[6];
        out->microcode = b[7];
        return SCITT_OK;
    case SCITT_SNP_PRODUCT_UNKNOWN:
        break;
    }
    return SCITT_ERR_INVALID_ARG;
}

scitt_err scitt_snp_tcb_encode(scitt_snp_product product, const scitt_snp_tcb *t, uint64_t *out)
{
    if (!t || !out) {
        return SCITT_ERR_INVALID_ARG;
    }
    uint8_t b[8];
    switch (product) {
    case SCITT_SNP_MILAN:
    case SCITT_SNP_GENOA:
        if (t->fmc != 0) {
            return SCITT_ERR_INVALID_ARG;
        }
        b[0] = t->bootloader;
        b[1] = t->tee;
        b[2] = t->spl4;
        b[3] = t->spl5;
        b[4] = t->spl6;
        b[5] = t->spl7;
        b[6] = t->snp;
        b[7] = t->microcode;
        break;
    case SCITT_SNP_TURIN:
        if (t->spl4 != 0) {
            return SCITT_ERR_INVALID_ARG;
        }
        b[0] = t->fmc;
        b[1] = t->bootloader;
        b[2] = t->tee;
        b[3] = t->snp;
        b[4] = t->spl5;
        b[5] = t->spl6;
        b[6] = t->spl7;
        b[7] = t->microcode;
        break;
    default:
        return SCITT_ERR_INVALID_ARG;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    *out = v;
    return SCITT_OK;
}

bool scitt_snp_tcb_ge(const scitt_snp_tcb *have, const scitt_snp_tcb *min)
{
    return have->fmc >= min->fmc && have->bootloader >= min->bootloader && have->tee >= min->tee &&
           have->snp >= min->snp && have->microcode >= min->microcode && have->spl4 >= min->spl4 &&
           have->spl5 >= min->spl5 && have->spl6 >= min->spl6 && have->spl7 >= min->spl7;
}
