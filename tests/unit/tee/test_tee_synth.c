/*
 * Synthetic evidence (real keys made for this run, pinned explicitly) for what the real samples
 * cannot show: Genoa and Turin reports with CPUID (v3), the Turin TCB layout and 8-byte hwID in a
 * full verification, VLEK chains, v5 reports, unsigned reports, and every malformed KDS extension
 * and chain signature algorithm. The real Turin VCEK is also run through a whole verification up
 * to the one step a synthetic report cannot pass (the signature).
 */
#include "tee_test.h"

#include "synth.h"

#define DAY INT64_C(86400)

static EVP_PKEY *ark_key, *ask_key, *leaf_key;
static const uint8_t chip[64] = {0x1e, 0x55, 0x0a, 0x8e, 0xe5, 0xcf, 0x9f, 0x4d, 0x11, 0x22,
                                 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc};

static int setup(void **state)
{
    (void)state;
    ark_key = synth_rsa(2048);
    ask_key = synth_rsa(2048);
    leaf_key = synth_p384();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ark_key);
    EVP_PKEY_free(ask_key);
    EVP_PKEY_free(leaf_key);
    return 0;
}

/* How to build one synthetic chain. */
typedef struct build {
    scitt_snp_product product;
    bool vlek;
    const synth_ext *ext;
    int ark_salt, ask_salt, leaf_salt; /* PSS salt of each signature; -1 = PKCS#1 v1.5 */
    EVP_PKEY *leaf_key;                /* NULL: the shared P-384 key */
    int64_t leaf_na;                   /* 0: a year after T_NOW */
    const char *ask_cn;                /* NULL: the product's name */
} build;

static void make(const build *b, scitt_snp_certs *certs, scitt_snp_pin *pin)
{
    char ark_cn[32], ask_cn[32];
    const char *name = scitt_snp_product_name(b->product);
    snprintf(ark_cn, sizeof(ark_cn), "ARK-%s", name);
    snprintf(ask_cn, sizeof(ask_cn), b->vlek ? "SEV-VLEK-%s" : "SEV-%s", name);
    int64_t nb = T_NOW - 365 * DAY, na = T_NOW + 365 * DAY;
    X509 *ark = synth_cert(ark_cn, ark_key, NULL, ark_key, b->ark_salt, nb, na, NULL);
    X509 *ask = synth_cert(b->ask_cn ? b->ask_cn : ask_cn, ask_key, ark, ark_key, b->ask_salt, nb,
                           na, NULL);
    X509 *leaf = synth_cert(b->vlek ? "SEV-VLEK" : "SEV-VCEK", b->leaf_key ? b->leaf_key : leaf_key,
                            ask, ask_key, b->leaf_salt, nb, b->leaf_na ? b->leaf_na : na, b->ext);
    X509 *all[3] = {leaf, ask, ark};
    scitt_snp_cert_role roles[3] = {b->vlek ? SCITT_SNP_CERT_VLEK : SCITT_SNP_CERT_VCEK,
                                    b->vlek ? SCITT_SNP_CERT_ASVK : SCITT_SNP_CERT_ASK,
                                    SCITT_SNP_CERT_ARK};
    scitt_snp_certs_init(certs);
    for (int i = 0; i < 3; i++) {
        size_t n;
        uint8_t *der = synth_der(all[i], &n);
        assert_int_equal(scitt_snp_certs_add_der(certs, roles[i], scitt_span_make(der, n), NULL),
                         SCITT_OK);
        if (i == 2) {
            pin->product = b->product;
            scitt_sha256(der, n, pin->ark_sha256);
        }
        free(der);
        X509_free(all[i]);
    }
}

static void default_build(build *b, scitt_snp_product p, const synth_ext *ext)
{
    memset(b, 0, sizeof(*b));
    b->product = p;
    b->ext = ext;
    b->ark_salt = b->ask_salt = b->leaf_salt = 48;
}

/* Builds the chain, signs @p r with the leaf key, verifies with the chain's ARK pinned. */
static scitt_err run(const build *b, const scitt_snp_report *r, bool allow_vlek,
                     scitt_snp_verified *v, scitt_tee_reason *why)
{
    scitt_snp_certs certs;
    scitt_snp_pin pin;
    make(b, &certs, &pin);
    uint8_t rep[SCITT_SNP_REPORT_LEN];
    synth_report(r, b->leaf_key ? b->leaf_key : leaf_key, rep);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    o.pins = &pin;
    o.n_pins = 1;
    o.allow_vlek = allow_vlek;
    *why = SCITT_TEE_OK;
    scitt_err err = scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, v, why);
    scitt_snp_certs_clear(&certs);
    return err;
}

static const scitt_snp_tcb milan_tcb = {0, 4, 0, 24, 219, 0, 0, 0, 0}; /* 0xdb18000000000004 */
static const scitt_snp_tcb turin_tcb = {3, 2, 1, 5, 9, 0, 0, 0, 0};

static void test_milan_genoa_full(void **state)
{
    (void)state;
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_MILAN, &milan_tcb, chip, NULL);
    build b;
    default_build(&b, SCITT_SNP_MILAN, &ext);
    scitt_snp_report r;
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_int_equal(v.reported_tcb.microcode, 219); /* two-byte DER INTEGER in the VCEK */
    assert_int_equal(v.reported_tcb.snp, 24);
    assert_int_equal(v.reported_tcb.bootloader, 4);
    assert_memory_equal(v.report.measurement, r.measurement, 48);

    /* Genoa, v3, with the CPUID the firmware writes. */
    synth_ext_for(&ext, SCITT_SNP_GENOA, &milan_tcb, chip, NULL);
    default_build(&b, SCITT_SNP_GENOA, &ext);
    r.version = 3;
    r.has_cpuid = true;
    r.cpuid_fam_id = 0x19;
    r.cpuid_mod_id = 0x11;
    r.cpuid_step = 1;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_int_equal(v.product, SCITT_SNP_GENOA);
    assert_int_equal(scitt_snp_report_product(&v.report), SCITT_SNP_GENOA);
    /* A Milan CPUID under a Genoa VCEK. */
    r.cpuid_mod_id = 0x01;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_EVIDENCE, SCITT_TEE_PRODUCT_MISMATCH);
    /* A CPUID we do not map is not evidence of anything: the certified name decides. */
    r.cpuid_fam_id = 0x17;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
}

static void test_turin_full(void **state)
{
    (void)state;
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_TURIN, &turin_tcb, chip, NULL);
    build b;
    default_build(&b, SCITT_SNP_TURIN, &ext);
    uint64_t raw;
    assert_int_equal(scitt_snp_tcb_encode(SCITT_SNP_TURIN, &turin_tcb, &raw), SCITT_OK);
    assert_int_equal(raw, UINT64_C(0x0900000005010203)); /* fmc bl tee snp .. .. .. ucode */
    scitt_snp_report r;
    synth_report_defaults(&r, raw, chip);
    r.version = 3;
    r.has_cpuid = true;
    r.cpuid_fam_id = 0x1A;
    r.cpuid_mod_id = 0x02;
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_int_equal(v.product, SCITT_SNP_TURIN);
    assert_int_equal(v.leaf.hwid_len, 8);
    assert_int_equal(v.reported_tcb.fmc, 3);
    assert_int_equal(v.reported_tcb.bootloader, 2);
    assert_int_equal(v.reported_tcb.tee, 1);
    assert_int_equal(v.reported_tcb.snp, 5);
    assert_int_equal(v.reported_tcb.microcode, 9);
    /* Only the first 8 bytes of CHIP_ID identify a Turin chip. */
    r.chip_id[20] ^= 1;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    r.chip_id[7] ^= 1;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_EVIDENCE, SCITT_TEE_HWID_MISMATCH);
    r.chip_id[7] ^= 1;
    /* The same SPLs in the Milan byte order are another TCB for a Turin VCEK. */
    scitt_snp_tcb as_milan = turin_tcb;
    as_milan.fmc = 0;
    assert_int_equal(scitt_snp_tcb_encode(SCITT_SNP_MILAN, &as_milan, &raw), SCITT_OK);
    r.reported_tcb = raw;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_EVIDENCE, SCITT_TEE_TCB_MISMATCH);
}

/* The real Turin VCEK and its real chain with a synthetic report naming that chip and TCB: every
 * check up to the signature passes (pin, PSS chain, validity, 8-byte hwID, Turin TCB layout); the
 * signature cannot, since AMD's chip key did not sign it. */
static void test_real_turin_chain(void **state)
{
    (void)state;
    size_t n;
    uint8_t *der = tt_load("tee/sev-snp/virtee-milan/vcek_turin.der", &n);
    uint8_t *pem = NULL;
    scitt_snp_vcek_info vi;
    assert_int_equal(scitt_snp_vcek_parse(scitt_span_make(der, n), &vi, NULL), SCITT_OK);
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    assert_int_equal(
        scitt_snp_certs_add_der(&certs, SCITT_SNP_CERT_VCEK, scitt_span_make(der, n), NULL),
        SCITT_OK);
    size_t pn;
    pem = tt_load("tee/sev-snp/virtee-milan/cert_chain_turin", &pn);
    assert_int_equal(scitt_snp_certs_add_pem(&certs, scitt_span_make(pem, pn), NULL), SCITT_OK);
    uint8_t chip_id[64] = {0};
    memcpy(chip_id, vi.hwid, 8);
    uint64_t raw;
    assert_int_equal(scitt_snp_vcek_tcb(&vi, &raw), SCITT_OK);
    scitt_snp_report r;
    synth_report_defaults(&r, raw, chip_id);
    r.version = 3;
    r.has_cpuid = true;
    r.cpuid_fam_id = 0x1A;
    r.cpuid_mod_id = 0x02;
    uint8_t rep[SCITT_SNP_REPORT_LEN];
    synth_report(&r, leaf_key, rep);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, &v, &why), why,
             SCITT_ERR_SIGNATURE, SCITT_TEE_REPORT_SIGNATURE);
    /* Each earlier check, broken alone, is reported instead. */
    r.chip_id[0] ^= 1;
    synth_report(&r, leaf_key, rep);
    TT_CHECK(scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, &v, &why), why,
             SCITT_ERR_EVIDENCE, SCITT_TEE_HWID_MISMATCH);
    r.chip_id[0] ^= 1;
    r.reported_tcb ^= 1; /* fmc, the Turin-only byte */
    synth_report(&r, leaf_key, rep);
    TT_CHECK(scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, &v, &why), why,
             SCITT_ERR_EVIDENCE, SCITT_TEE_TCB_MISMATCH);
    r.reported_tcb ^= 1;
    r.cpuid_fam_id = 0x19;
    r.cpuid_mod_id = 0x11;
    synth_report(&r, leaf_key, rep);
    TT_CHECK(scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, &v, &why), why,
             SCITT_ERR_EVIDENCE, SCITT_TEE_PRODUCT_MISMATCH);
    scitt_snp_certs_clear(&certs);
    free(pem);
    free(der);
}

static void test_vlek(void **state)
{
    (void)state;
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_MILAN, &milan_tcb, NULL, "aws.example");
    build b;
    default_build(&b, SCITT_SNP_MILAN, &ext);
    b.vlek = true;
    scitt_snp_report r;
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    r.signer_info = SCITT_SNP_KEY_VLEK << 2;
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(run(&b, &r, true, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_true(v.leaf.is_vlek);
    assert_string_equal(v.leaf.csp_id, "aws.example");
    assert_int_equal(v.leaf.hwid_len, 0);
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_UNTRUSTED, SCITT_TEE_VLEK_NOT_ALLOWED);
    /* A VLEK under an intermediate named like a VCEK signer: the chain is not a VLEK chain. */
    b.ask_cn = "SEV-Milan";
    TT_CHECK(run(&b, &r, true, &v, &why), why, SCITT_ERR_CERT_CHAIN, SCITT_TEE_CHAIN_PRODUCT);
    b.ask_cn = NULL;
    /* A VCEK-signed report with only a VLEK endorsement. */
    r.signer_info = 0;
    TT_CHECK(run(&b, &r, true, &v, &why), why, SCITT_ERR_EVIDENCE, SCITT_TEE_SIGNER_MISMATCH);
}

/* The real ASVK (SEV-VLEK-Milan) chains to the pinned Milan ARK: a self-made VLEK under it fails
 * at its own signature, after the ASVK passed. */
static void test_real_asvk(void **state)
{
    (void)state;
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    size_t n;
    uint8_t *pem = tt_load("tee/sev-snp/go-sev-guest-milan/milanvlek.testcer", &n);
    assert_int_equal(scitt_snp_certs_add_pem(&certs, scitt_span_make(pem, n), NULL), SCITT_OK);
    scitt_span asvk = scitt_snp_certs_get(&certs, SCITT_SNP_CERT_ASVK);
    assert_true(asvk.len > 0);
    assert_int_equal(scitt_snp_certs_get(&certs, SCITT_SNP_CERT_ASK).len, 0);
    const unsigned char *p = asvk.ptr;
    X509 *asvk_x = d2i_X509(NULL, &p, (long)asvk.len);
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_MILAN, &milan_tcb, NULL, "csp.example");
    X509 *vlek =
        synth_cert("SEV-VLEK", leaf_key, asvk_x, ask_key, 48, T_NOW - DAY, T_NOW + DAY, &ext);
    size_t dn;
    uint8_t *der = synth_der(vlek, &dn);
    assert_int_equal(
        scitt_snp_certs_add_der(&certs, SCITT_SNP_CERT_VLEK, scitt_span_make(der, dn), NULL),
        SCITT_OK);
    scitt_snp_report r;
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    r.signer_info = SCITT_SNP_KEY_VLEK << 2;
    uint8_t rep[SCITT_SNP_REPORT_LEN];
    synth_report(&r, leaf_key, rep);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    o.allow_vlek = true;
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, &v, &why), why,
             SCITT_ERR_CERT_CHAIN, SCITT_TEE_LEAF_SIG);
    free(der);
    X509_free(vlek);
    X509_free(asvk_x);
    free(pem);
    scitt_snp_certs_clear(&certs);
}

static void test_chain_algorithms_and_keys(void **state)
{
    (void)state;
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_MILAN, &milan_tcb, chip, NULL);
    scitt_snp_report r;
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    scitt_snp_verified v;
    scitt_tee_reason why;
    build b;
    static const struct {
        int ark, ask, leaf;
    } salts[] = {{20, 48, 48}, {48, -1, 48}, {48, 48, 32}, {48, 48, -1}};
    for (size_t i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
        default_build(&b, SCITT_SNP_MILAN, &ext);
        b.ark_salt = salts[i].ark;
        b.ask_salt = salts[i].ask;
        b.leaf_salt = salts[i].leaf;
        TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_CERT_CHAIN, SCITT_TEE_CHAIN_SIG_ALG);
    }
    /* A VCEK on P-256 is not an AMD chip key. */
    default_build(&b, SCITT_SNP_MILAN, &ext);
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    b.leaf_key = p256;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_CERT_CHAIN, SCITT_TEE_CHAIN_KEY_TYPE);
    EVP_PKEY_free(p256);
    /* An expired VCEK. */
    default_build(&b, SCITT_SNP_MILAN, &ext);
    b.leaf_na = T_NOW - 1;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_EXPIRED, SCITT_TEE_CERT_EXPIRED);
}

static void test_bad_extensions(void **state)
{
    (void)state;
    scitt_snp_report r;
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    scitt_snp_verified v;
    scitt_tee_reason why;
    build b;
    synth_ext ext;
    static const uint8_t hwid_short[32] = {1};
    /* One broken extension per row, each with why it must be refused. */
    for (int row = 0; row < 8; row++) {
        synth_ext_for(&ext, SCITT_SNP_MILAN, &milan_tcb, chip, NULL);
        scitt_err want = SCITT_ERR_CERT_MALFORMED;
        scitt_tee_reason want_why = SCITT_TEE_VCEK_EXTENSION;
        switch (row) {
        case 0: /* no productName1: the product (and so the root) is unknowable */
            ext.product_name = NULL;
            break;
        case 1: /* no blSPL: the TCB cannot be compared */
            ext.spl[1] = -1;
            break;
        case 2: /* a 32-byte hwID is neither a Milan/Genoa nor a Turin chip id */
            ext.hwid = hwid_short;
            ext.hwid_len = sizeof(hwid_short);
            break;
        case 3: /* both a chip and a cloud-provider identity */
            ext.csp_id = "both";
            break;
        case 4: /* no structVersion */
            ext.struct_version = -1;
            break;
        case 5: /* an fmcSPL on a Milan part, which has no byte for it */
            ext.spl[9] = 1;
            break;
        case 6: /* no identity at all */
            ext.hwid = NULL;
            break;
        case 7: /* a product with no pinned root */
            ext.product_name = "Venice";
            want = SCITT_ERR_UNTRUSTED;
            want_why = SCITT_TEE_PRODUCT_UNKNOWN;
            break;
        }
        default_build(&b, SCITT_SNP_MILAN, &ext);
        TT_CHECK(run(&b, &r, false, &v, &why), why, want, want_why);
    }
    /* A Turin VCEK without fmcSPL. */
    synth_ext_for(&ext, SCITT_SNP_TURIN, &turin_tcb, chip, NULL);
    ext.spl[9] = -1;
    default_build(&b, SCITT_SNP_TURIN, &ext);
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_CERT_MALFORMED, SCITT_TEE_VCEK_EXTENSION);
}

static void test_report_versions_and_signers(void **state)
{
    (void)state;
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_MILAN, &milan_tcb, chip, NULL);
    build b;
    default_build(&b, SCITT_SNP_MILAN, &ext);
    scitt_snp_report r;
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    scitt_snp_verified v;
    scitt_tee_reason why;
    /* Version 5 carries the mitigation vectors. */
    r.version = 5;
    r.has_cpuid = true;
    r.cpuid_fam_id = 0x19;
    r.cpuid_mod_id = 0x01;
    r.launch_mit_vector = 0x11;
    r.current_mit_vector = 0x13;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_int_equal(v.report.launch_mit_vector, 0x11);
    assert_int_equal(v.report.current_mit_vector, 0x13);
    /* In version 4 the same bytes are reserved. */
    r.version = 4;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_EVIDENCE_MALFORMED,
             SCITT_TEE_REPORT_RESERVED);
    r.version = 6;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_ERR_EVIDENCE_MALFORMED,
             SCITT_TEE_REPORT_VERSION);
    r.version = 2;
    r.has_cpuid = false;
    r.launch_mit_vector = r.current_mit_vector = 0;

    /* Unsigned reports parse (their zero signature is checked) but never verify. */
    uint8_t rep[SCITT_SNP_REPORT_LEN];
    scitt_snp_report parsed;
    r.signer_info = SCITT_SNP_SIGNER_MASK_CHIP_KEY;
    synth_report(&r, NULL, rep);
    TT_CHECK(scitt_snp_report_parse(scitt_span_make(rep, sizeof(rep)), &parsed, &why), why,
             SCITT_OK, SCITT_TEE_OK);
    scitt_snp_certs certs;
    scitt_snp_pin pin;
    make(&b, &certs, &pin);
    scitt_snp_verify_opts o;
    scitt_snp_verify_opts_init(&o, T_NOW);
    o.pins = &pin;
    o.n_pins = 1;
    TT_CHECK(scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, &v, &why), why,
             SCITT_ERR_EVIDENCE, SCITT_TEE_REPORT_UNSIGNED);
    r.signer_info = SCITT_SNP_KEY_NONE << 2;
    synth_report(&r, NULL, rep);
    TT_CHECK(scitt_snp_verify(scitt_span_make(rep, sizeof(rep)), &certs, &o, &v, &why), why,
             SCITT_ERR_EVIDENCE, SCITT_TEE_REPORT_UNSIGNED);
    /* Signing key 2 is not defined. */
    r.signer_info = 2u << 2;
    synth_report(&r, leaf_key, rep);
    TT_CHECK(scitt_snp_report_parse(scitt_span_make(rep, sizeof(rep)), &parsed, &why), why,
             SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_REPORT_SIGNER);
    /* r equal to the group order is out of range. */
    r.signer_info = 0;
    synth_report(&r, leaf_key, rep);
    static const uint8_t order[48] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37,
                                      0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a,
                                      0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};
    for (int i = 0; i < 48; i++) {
        rep[0x2A0 + i] = order[47 - i];
    }
    TT_CHECK(scitt_snp_report_parse(scitt_span_make(rep, sizeof(rep)), &parsed, &why), why,
             SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_REPORT_SIG_FORMAT);
    /* Guest policy bit 17 is always one. */
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    r.policy = 0x10000;
    synth_report(&r, leaf_key, rep);
    TT_CHECK(scitt_snp_report_parse(scitt_span_make(rep, sizeof(rep)), &parsed, &why), why,
             SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_REPORT_POLICY_BITS);
    scitt_snp_certs_clear(&certs);
}

static void test_policy_on_synthetic(void **state)
{
    (void)state;
    synth_ext ext;
    synth_ext_for(&ext, SCITT_SNP_MILAN, &milan_tcb, chip, NULL);
    build b;
    default_build(&b, SCITT_SNP_MILAN, &ext);
    scitt_snp_report r;
    synth_report_defaults(&r, UINT64_C(0xdb18000000000004), chip);
    r.policy |= SCITT_SNP_POLICY_MIGRATE_MA;
    r.vmpl = 2;
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(run(&b, &r, false, &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    scitt_snp_policy p;
    scitt_snp_policy_init(&p);
    TT_CHECK(scitt_snp_check_policy(&v, &p, &why), why, SCITT_ERR_POLICY,
             SCITT_TEE_POLICY_MIGRATE_MA);
    p.allow_migrate_ma = true;
    TT_CHECK(scitt_snp_check_policy(&v, &p, &why), why, SCITT_ERR_POLICY, SCITT_TEE_POLICY_VMPL);
    p.vmpl = 2;
    TT_CHECK(scitt_snp_check_policy(&v, &p, &why), why, SCITT_OK, SCITT_TEE_OK);
}

static void test_tcb_layouts(void **state)
{
    (void)state;
    scitt_snp_tcb t;
    assert_int_equal(scitt_snp_tcb_decode(SCITT_SNP_MILAN, UINT64_C(0xdb18000000000004), &t),
                     SCITT_OK);
    assert_int_equal(t.microcode, 219);
    assert_int_equal(t.snp, 24);
    assert_int_equal(t.bootloader, 4);
    assert_int_equal(scitt_snp_tcb_decode(SCITT_SNP_PRODUCT_UNKNOWN, 1, &t), SCITT_ERR_INVALID_ARG);
    uint64_t raw;
    scitt_snp_tcb fmc = {1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(scitt_snp_tcb_encode(SCITT_SNP_GENOA, &fmc, &raw), SCITT_ERR_INVALID_ARG);
    scitt_snp_tcb spl4 = {0, 0, 0, 0, 0, 1, 0, 0, 0};
    assert_int_equal(scitt_snp_tcb_encode(SCITT_SNP_TURIN, &spl4, &raw), SCITT_ERR_INVALID_ARG);
    /* Round trips in both layouts for every byte position. */
    for (int i = 0; i < 8; i++) {
        uint64_t v = UINT64_C(0x5a) << (8 * i);
        for (int p = SCITT_SNP_MILAN; p <= SCITT_SNP_TURIN; p++) {
            assert_int_equal(scitt_snp_tcb_decode((scitt_snp_product)p, v, &t), SCITT_OK);
            assert_int_equal(scitt_snp_tcb_encode((scitt_snp_product)p, &t, &raw), SCITT_OK);
            assert_int_equal(raw, v);
        }
    }
    static const struct {
        const char *name;
        scitt_snp_product p;
    } names[] = {{"Milan-B0", SCITT_SNP_MILAN},
                 {"Milan-B1", SCITT_SNP_MILAN},
                 {"Genoa", SCITT_SNP_GENOA},
                 {"Genoa-B2", SCITT_SNP_GENOA},
                 {"Turin", SCITT_SNP_TURIN},
                 {"Turin-B0", SCITT_SNP_TURIN},
                 {"Milan-", SCITT_SNP_PRODUCT_UNKNOWN},
                 {"Milan-b0", SCITT_SNP_PRODUCT_UNKNOWN},
                 {"Milan-B0x", SCITT_SNP_PRODUCT_UNKNOWN},
                 {"milan", SCITT_SNP_PRODUCT_UNKNOWN},
                 {"Venice", SCITT_SNP_PRODUCT_UNKNOWN},
                 {"", SCITT_SNP_PRODUCT_UNKNOWN}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(scitt_snp_product_from_name(scitt_span_str(names[i].name)), names[i].p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_milan_genoa_full),
        cmocka_unit_test(test_turin_full),
        cmocka_unit_test(test_real_turin_chain),
        cmocka_unit_test(test_vlek),
        cmocka_unit_test(test_real_asvk),
        cmocka_unit_test(test_chain_algorithms_and_keys),
        cmocka_unit_test(test_bad_extensions),
        cmocka_unit_test(test_report_versions_and_signers),
        cmocka_unit_test(test_policy_on_synthetic),
        cmocka_unit_test(test_tcb_layouts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
