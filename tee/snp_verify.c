/*
 * Offline verification of an SEV-SNP report: pinned AMD root, RSASSA-PSS chain, VCEK extensions
 * against the report, ECDSA signature. The caller supplies the time; nothing here reads a clock,
 * a file or the network.
 */
#include "scitt/tee.h"

#include <stdio.h>
#include <string.h>

#include "tee_internal.h"

/*
 * SHA-256 of the DER of each product's AMD Root Key, as published by AMD (KDS cert_chain) and
 * re-checked against the certificates in the shared samples. These are the only trust anchors.
 */
static const scitt_snp_pin builtin_pins[] = {
    {SCITT_SNP_MILAN, {0x69, 0xd0, 0x63, 0xb4, 0x53, 0x44, 0xd2, 0x6a, 0x2e, 0x94, 0xe1,
                       0xf4, 0x21, 0x0d, 0xe4, 0x9e, 0xf5, 0x55, 0x30, 0x82, 0x87, 0xd4,
                       0xc1, 0x74, 0x44, 0x5c, 0x95, 0x63, 0x9a, 0x54, 0x0b, 0xcd}},
    {SCITT_SNP_GENOA, {0x4c, 0x65, 0x98, 0xd1, 0x9c, 0x18, 0x71, 0x9c, 0x5d, 0xfd, 0x4a,
                       0x7d, 0x33, 0x5f, 0x67, 0x4e, 0x5b, 0xfe, 0x1d, 0x8f, 0x80, 0x0c,
                       0xea, 0x2c, 0xf2, 0x70, 0xc1, 0x0d, 0x10, 0x3d, 0xb2, 0xf1}},
    {SCITT_SNP_TURIN, {0x1f, 0x08, 0x41, 0x61, 0xa4, 0x4b, 0xb6, 0xd9, 0x37, 0x78, 0xa9,
                       0x04, 0x87, 0x7d, 0x48, 0x19, 0xca, 0xfa, 0x5d, 0x05, 0xef, 0x41,
                       0x93, 0xb2, 0xde, 0xd9, 0xdd, 0x9c, 0x73, 0xdd, 0x3f, 0x6a}},
};

const scitt_snp_pin *scitt_snp_builtin_pins(size_t *n)
{
    if (n) {
        *n = sizeof(builtin_pins) / sizeof(builtin_pins[0]);
    }
    return builtin_pins;
}

void scitt_snp_verify_opts_init(scitt_snp_verify_opts *o, int64_t now)
{
    memset(o, 0, sizeof(*o));
    o->now = now;
}

/* The three certificates of one chain, parsed. */
typedef struct chain {
    scitt__x509 *leaf, *mid, *ark;
    scitt__x509_info leaf_i, mid_i, ark_i;
} chain;

static void chain_free(chain *c)
{
    scitt__x509_free(c->leaf);
    scitt__x509_free(c->mid);
    scitt__x509_free(c->ark);
}

static scitt_err load(scitt_span der, scitt__x509 **x, scitt__x509_info *info,
                      scitt_tee_reason *why)
{
    scitt_err err = scitt__tee_x509_parse(der, x);
    if (err == SCITT_OK) {
        err = scitt__x509_info_get(*x, info);
    }
    return err == SCITT_OK ? SCITT_OK : scitt__tee_fail(why, SCITT_TEE_CERT_PARSE, err);
}

/* Step 3: the ARK presented must hash to a pin for the product. */
static scitt_err check_pin(scitt_span ark_der, scitt_snp_product product,
                           const scitt_snp_verify_opts *o, uint8_t fp[32], scitt_tee_reason *why)
{
    size_t n = o->n_pins;
    const scitt_snp_pin *pins = o->pins;
    if (!pins) {
        pins = scitt_snp_builtin_pins(&n);
    }
    scitt_sha256(ark_der.ptr, ark_der.len, fp);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (pins[i].product != product) {
            continue;
        }
        any = true;
        if (memcmp(pins[i].ark_sha256, fp, 32) == 0) {
            return SCITT_OK;
        }
    }
    return scitt__tee_fail(why, any ? SCITT_TEE_ARK_NOT_PINNED : SCITT_TEE_NO_PIN,
                           SCITT_ERR_UNTRUSTED);
}

/* Step 4: key types, names, product names and the three RSASSA-PSS signatures. */
static scitt_err check_chain(const chain *c, scitt_snp_product product, bool vlek,
                             scitt_tee_reason *why)
{
    if (c->ark_i.key_type != SCITT__KEY_RSA || c->mid_i.key_type != SCITT__KEY_RSA ||
        c->leaf_i.key_type != SCITT__KEY_EC_P384) {
        return scitt__tee_fail(why, SCITT_TEE_CHAIN_KEY_TYPE, SCITT_ERR_CERT_CHAIN);
    }
    if (!c->ark_i.self_issued || !scitt__x509_issued_by_name(c->mid, c->ark) ||
        !scitt__x509_issued_by_name(c->leaf, c->mid)) {
        return scitt__tee_fail(why, SCITT_TEE_CHAIN_NAMES, SCITT_ERR_CERT_CHAIN);
    }
    /* AMD names the intermediates after the product line; a Genoa ASK under a Milan VCEK is a
     * mixed-up bundle even when each signature on its own is AMD's. */
    char want_ark[64], want_mid[64];
    const char *name = scitt_snp_product_name(product);
    snprintf(want_ark, sizeof(want_ark), "ARK-%s", name);
    snprintf(want_mid, sizeof(want_mid), vlek ? "SEV-VLEK-%s" : "SEV-%s", name);
    if (strcmp(c->ark_i.subject_cn, want_ark) != 0 || strcmp(c->mid_i.subject_cn, want_mid) != 0) {
        return scitt__tee_fail(why, SCITT_TEE_CHAIN_PRODUCT, SCITT_ERR_CERT_CHAIN);
    }
    scitt_err err = scitt__x509_check_pss_signed(c->ark, c->ark, SCITT_TEE_ARK_SELF_SIG, why);
    if (err == SCITT_OK) {
        err = scitt__x509_check_pss_signed(c->mid, c->ark, SCITT_TEE_ASK_SIG, why);
    }
    if (err == SCITT_OK) {
        err = scitt__x509_check_pss_signed(c->leaf, c->mid, SCITT_TEE_LEAF_SIG, why);
    }
    return err;
}

/* Step 5: every certificate valid at @p now; returns the common window. */
static scitt_err check_times(const chain *c, int64_t now, int64_t *from, int64_t *until,
                             scitt_tee_reason *why)
{
    const scitt__x509_info *all[3] = {&c->ark_i, &c->mid_i, &c->leaf_i};
    *from = INT64_MIN;
    *until = INT64_MAX;
    for (int i = 0; i < 3; i++) {
        if (now < all[i]->not_before) {
            return scitt__tee_fail(why, SCITT_TEE_CERT_NOT_YET_VALID, SCITT_ERR_EXPIRED);
        }
        if (now > all[i]->not_after) {
            return scitt__tee_fail(why, SCITT_TEE_CERT_EXPIRED, SCITT_ERR_EXPIRED);
        }
        *from = all[i]->not_before > *from ? all[i]->not_before : *from;
        *until = all[i]->not_after < *until ? all[i]->not_after : *until;
    }
    return SCITT_OK;
}

/* Step 6: the VCEK was issued for this chip at this TCB. */
static scitt_err check_leaf_vs_report(const scitt_snp_vcek_info *li, const scitt_snp_report *r,
                                      scitt_tee_reason *why)
{
    if (!li->is_vlek) {
        size_t want = li->product == SCITT_SNP_TURIN ? 8 : 64;
        if (li->hwid_len != want || memcmp(li->hwid, r->chip_id, want) != 0) {
            return scitt__tee_fail(why, SCITT_TEE_HWID_MISMATCH, SCITT_ERR_EVIDENCE);
        }
    }
    uint64_t tcb = 0;
    if (scitt_snp_vcek_tcb(li, &tcb) != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_VCEK_EXTENSION, SCITT_ERR_CERT_MALFORMED);
    }
    if (tcb != r->reported_tcb) {
        return scitt__tee_fail(why, SCITT_TEE_TCB_MISMATCH, SCITT_ERR_EVIDENCE);
    }
    return SCITT_OK;
}

scitt_err scitt_snp_verify(scitt_span report, const scitt_snp_certs *certs,
                           const scitt_snp_verify_opts *opts, scitt_snp_verified *out,
                           scitt_tee_reason *why)
{
    if (!certs || !opts || !out || (!report.ptr && report.len) || (opts->n_pins && !opts->pins)) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    scitt_snp_report r;
    scitt_err err = scitt_snp_report_parse(report, &r, why);
    if (err != SCITT_OK) {
        return err;
    }
    uint32_t key = SCITT_SNP_SIGNING_KEY(r.signer_info);
    if (key == SCITT_SNP_KEY_NONE || (r.signer_info & SCITT_SNP_SIGNER_MASK_CHIP_KEY)) {
        return scitt__tee_fail(why, SCITT_TEE_REPORT_UNSIGNED, SCITT_ERR_EVIDENCE);
    }
    bool vlek = key == SCITT_SNP_KEY_VLEK;
    if (vlek && !opts->allow_vlek) {
        return scitt__tee_fail(why, SCITT_TEE_VLEK_NOT_ALLOWED, SCITT_ERR_UNTRUSTED);
    }
    scitt_span leaf_der =
        scitt_snp_certs_get(certs, vlek ? SCITT_SNP_CERT_VLEK : SCITT_SNP_CERT_VCEK);
    scitt_span mid_der =
        scitt_snp_certs_get(certs, vlek ? SCITT_SNP_CERT_ASVK : SCITT_SNP_CERT_ASK);
    scitt_span ark_der = scitt_snp_certs_get(certs, SCITT_SNP_CERT_ARK);
    if (!leaf_der.len) {
        bool other =
            scitt_snp_certs_get(certs, vlek ? SCITT_SNP_CERT_VCEK : SCITT_SNP_CERT_VLEK).len;
        return other ? scitt__tee_fail(why, SCITT_TEE_SIGNER_MISMATCH, SCITT_ERR_EVIDENCE)
                     : scitt__tee_fail(why, SCITT_TEE_MISSING_LEAF, SCITT_ERR_CERT_CHAIN);
    }
    if (!mid_der.len) {
        return scitt__tee_fail(why, SCITT_TEE_MISSING_ASK, SCITT_ERR_CERT_CHAIN);
    }
    if (!ark_der.len) {
        return scitt__tee_fail(why, SCITT_TEE_MISSING_ARK, SCITT_ERR_CERT_CHAIN);
    }
    chain c;
    memset(&c, 0, sizeof(c));
    scitt_snp_vcek_info li;
    uint8_t fp[32];
    int64_t from = 0, until = 0;
    err = load(leaf_der, &c.leaf, &c.leaf_i, why);
    if (err == SCITT_OK) {
        err = load(mid_der, &c.mid, &c.mid_i, why);
    }
    if (err == SCITT_OK) {
        err = load(ark_der, &c.ark, &c.ark_i, why);
    }
    if (err == SCITT_OK) {
        err = scitt__snp_vcek_from_x509(c.leaf, &li, why);
    }
    if (err != SCITT_OK) {
        goto out;
    }
    if (li.is_vlek != vlek) {
        err = scitt__tee_fail(why, SCITT_TEE_SIGNER_MISMATCH, SCITT_ERR_EVIDENCE);
        goto out;
    }
    /* Step 2: the product comes from the certified productName1; a v3+ report must agree. */
    if (li.product == SCITT_SNP_PRODUCT_UNKNOWN) {
        err = scitt__tee_fail(why, SCITT_TEE_PRODUCT_UNKNOWN, SCITT_ERR_UNTRUSTED);
        goto out;
    }
    scitt_snp_product cpuid = scitt_snp_report_product(&r);
    if (cpuid != SCITT_SNP_PRODUCT_UNKNOWN && cpuid != li.product) {
        err = scitt__tee_fail(why, SCITT_TEE_PRODUCT_MISMATCH, SCITT_ERR_EVIDENCE);
        goto out;
    }
    err = check_pin(ark_der, li.product, opts, fp, why);
    if (err == SCITT_OK) {
        err = check_chain(&c, li.product, vlek, why);
    }
    if (err == SCITT_OK) {
        err = check_times(&c, opts->now, &from, &until, why);
    }
    if (err == SCITT_OK) {
        err = check_leaf_vs_report(&li, &r, why);
    }
    if (err != SCITT_OK) {
        goto out;
    }
    /* Step 7: the signature over the first 0x2A0 bytes. */
    err = scitt__x509_ecdsa_p384_verify(c.leaf, scitt_span_make(report.ptr, SCITT_SNP_SIGNED_LEN),
                                        r.sig_r, r.sig_s);
    if (err != SCITT_OK) {
        err = scitt__tee_fail(why, SCITT_TEE_REPORT_SIGNATURE, err);
        goto out;
    }
    out->report = r;
    out->product = li.product;
    out->leaf = li;
    err = scitt_snp_tcb_decode(li.product, r.reported_tcb, &out->reported_tcb);
    memcpy(out->ark_sha256, fp, 32);
    out->valid_from = from;
    out->valid_until = until;
    if (err == SCITT_OK) {
        (void)scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
    }
out:
    chain_free(&c);
    if (err != SCITT_OK) {
        memset(out, 0, sizeof(*out));
    }
    return err;
}
