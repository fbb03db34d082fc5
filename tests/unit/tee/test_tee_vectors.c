/*
 * The real SEV-SNP samples: every report verifies with its chain at the pinned time, every parsed
 * field equals sev-snp/expected.json (read with scitt/json.h, every key accounted for), the VCEK
 * extensions equal the listed ones, and the real Turin VCEK (8-byte hwID, fmcSPL) parses and
 * chains to the pinned Turin root.
 */
#include "tee_test.h"

#include <inttypes.h>

#include "scitt/json.h"

static char *hexstr(const uint8_t *p, size_t n)
{
    static char buf[256];
    assert_true(n * 2 + 1 <= sizeof(buf));
    assert_int_equal(scitt_hex_encode(scitt_span_make(p, n), buf, sizeof(buf)), SCITT_OK);
    return buf;
}

/* Our value of report field @p key, in the notation expected.json uses; NULL if unknown key. */
static const char *report_field(const scitt_snp_report *r, const char *key)
{
    static char buf[256];
#define U(name)                                                                                    \
    if (strcmp(key, #name) == 0) {                                                                 \
        snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)r->name);                                 \
        return buf;                                                                                \
    }
#define X(name)                                                                                    \
    if (strcmp(key, #name) == 0) {                                                                 \
        snprintf(buf, sizeof(buf), "0x%" PRIx64, (uint64_t)r->name);                               \
        return buf;                                                                                \
    }
#define B(name)                                                                                    \
    if (strcmp(key, #name) == 0) {                                                                 \
        return hexstr(r->name, sizeof(r->name));                                                   \
    }
#define V(name)                                                                                    \
    if (strcmp(key, #name) == 0) {                                                                 \
        snprintf(buf, sizeof(buf), "%u.%u.%u", r->name.major, r->name.minor, r->name.build);       \
        return buf;                                                                                \
    }
    U(version)
    U(guest_svn)
    X(policy)
    B(family_id)
    B(image_id)
    U(vmpl)
    U(signature_algo)
    X(current_tcb)
    X(platform_info)
    X(signer_info)
    B(report_data)
    B(measurement)
    B(host_data)
    B(id_key_digest)
    B(author_key_digest)
    B(report_id)
    B(report_id_ma)
    X(reported_tcb)
    B(chip_id)
    X(committed_tcb)
    V(current_version)
    V(committed_version)
    X(launch_tcb)
#undef U
#undef X
#undef B
#undef V
    if (strcmp(key, "cpuid_fam_mod_step") == 0) {
        if (!r->has_cpuid) {
            return "null";
        }
        snprintf(buf, sizeof(buf), "%u.%u.%u", r->cpuid_fam_id, r->cpuid_mod_id, r->cpuid_step);
        return buf;
    }
    if (strcmp(key, "turin_like") == 0) {
        /* A chip id with only its first 8 bytes set is what a Turin part reports. */
        bool zero_tail = true;
        for (size_t i = 8; i < 64; i++) {
            zero_tail = zero_tail && r->chip_id[i] == 0;
        }
        return zero_tail ? "true" : "false";
    }
    return NULL;
}

/* The JSON value at @p tok as text: numbers raw, strings decoded, literals by name. */
static const char *json_text(const scitt_json *j, size_t tok)
{
    static char buf[512];
    size_t n;
    switch (scitt_json_type_of(j, tok)) {
    case SCITT_JSON_STRING:
        assert_int_equal(scitt_json_string(j, tok, buf, sizeof(buf), &n), SCITT_OK);
        return buf;
    case SCITT_JSON_NUMBER:
        n = j->toks[tok].end - j->toks[tok].start;
        assert_true(n < sizeof(buf));
        memcpy(buf, j->text.ptr + j->toks[tok].start, n);
        buf[n] = 0;
        return buf;
    case SCITT_JSON_NULL:
        return "null";
    case SCITT_JSON_TRUE:
        return "true";
    case SCITT_JSON_FALSE:
        return "false";
    default:
        fail_msg("unexpected JSON type at token %zu", tok);
    }
    return NULL;
}

static int64_t json_i64(const scitt_json *j, size_t obj, const char *key)
{
    long t = scitt_json_get(j, obj, key);
    assert_true(t > 0);
    int64_t v;
    assert_int_equal(scitt_json_int(j, (size_t)t, &v), SCITT_OK);
    return v;
}

/* The VCEK extension value named by expected.json's @p key, as text. */
static const char *vcek_field(const scitt_snp_vcek_info *v, const char *key)
{
    static char buf[256];
    static const struct {
        const char *name;
        int arc;
    } spl[] = {{"blSPL", 1},
               {"teeSPL", 2},
               {"snpSPL", 3},
               {"1.3.6.1.4.1.3704.1.3.4", 4},
               {"1.3.6.1.4.1.3704.1.3.5", 5},
               {"1.3.6.1.4.1.3704.1.3.6", 6},
               {"1.3.6.1.4.1.3704.1.3.7", 7},
               {"ucodeSPL", 8},
               {"fmcSPL", 9}};
    const uint8_t vals[10] = {
        0,           v->tcb.bootloader, v->tcb.tee,  v->tcb.snp,       v->tcb.spl4,
        v->tcb.spl5, v->tcb.spl6,       v->tcb.spl7, v->tcb.microcode, v->tcb.fmc};
    for (size_t i = 0; i < sizeof(spl) / sizeof(spl[0]); i++) {
        if (strcmp(key, spl[i].name) == 0) {
            if (!(v->spl_present & (1u << spl[i].arc))) {
                return "absent";
            }
            snprintf(buf, sizeof(buf), "%u", vals[spl[i].arc]);
            return buf;
        }
    }
    if (strcmp(key, "structVersion") == 0) {
        snprintf(buf, sizeof(buf), "%u", v->struct_version);
        return buf;
    }
    if (strcmp(key, "productName1") == 0) {
        return v->product_name;
    }
    if (strcmp(key, "hwID") == 0) {
        return hexstr(v->hwid, v->hwid_len);
    }
    return NULL;
}

static void check_sample(const scitt_json *j, const char *key, const tt_sample *s)
{
    long entry = scitt_json_get(j, 0, key);
    assert_true(entry > 0);
    size_t n;
    uint8_t *report = tt_load(s->report, &n);
    assert_int_equal(n, SCITT_SNP_REPORT_LEN);
    scitt_snp_certs certs;
    tt_certs(s, &certs);

    scitt_snp_verify_opts opts;
    scitt_snp_verify_opts_init(&opts, T_NOW);
    scitt_snp_verified v;
    scitt_tee_reason why = SCITT_TEE_REPORT_SIZE;
    TT_CHECK(scitt_snp_verify(scitt_span_make(report, n), &certs, &opts, &v, &why), why, SCITT_OK,
             SCITT_TEE_OK);
    assert_int_equal(v.product, SCITT_SNP_MILAN);

    /* Every field of the expected record, and every key must be one we know. */
    long fields = scitt_json_get(j, (size_t)entry, "fields");
    assert_true(fields > 0);
    size_t checked = 0;
    for (size_t i = 0; i < j->toks[fields].count; i++) {
        long k = scitt_json_member(j, (size_t)fields, i);
        char name[64];
        size_t nl;
        assert_int_equal(scitt_json_string(j, (size_t)k, name, sizeof(name), &nl), SCITT_OK);
        if (strcmp(name, "reported_tcb_parts") == 0) {
            size_t o = (size_t)k + 1;
            assert_int_equal(json_i64(j, o, "bootloader"), v.reported_tcb.bootloader);
            assert_int_equal(json_i64(j, o, "tee"), v.reported_tcb.tee);
            assert_int_equal(json_i64(j, o, "snp"), v.reported_tcb.snp);
            assert_int_equal(json_i64(j, o, "microcode"), v.reported_tcb.microcode);
            assert_int_equal(j->toks[o].count, 4);
            checked++;
            continue;
        }
        const char *ours = report_field(&v.report, name);
        if (!ours) {
            fail_msg("%s: expected.json field %s is not checked", key, name);
        }
        const char *want = json_text(j, (size_t)k + 1);
        if (strcmp(ours, want) != 0) {
            fail_msg("%s: field %s is %s, expected %s", key, name, ours, want);
        }
        checked++;
    }
    assert_int_equal(checked, 26); /* the whole record: a field added upstream must be added here */

    long exts = scitt_json_get(j, (size_t)entry, "vcek_extensions");
    assert_true(exts > 0);
    for (size_t i = 0; i < j->toks[exts].count; i++) {
        long k = scitt_json_member(j, (size_t)exts, i);
        char name[64];
        size_t nl;
        assert_int_equal(scitt_json_string(j, (size_t)k, name, sizeof(name), &nl), SCITT_OK);
        const char *ours = vcek_field(&v.leaf, name);
        if (!ours) {
            fail_msg("%s: VCEK extension %s is not checked", key, name);
        }
        const char *want = json_text(j, (size_t)k + 1);
        if (strcmp(ours, want) != 0) {
            fail_msg("%s: VCEK %s is %s, expected %s", key, name, ours, want);
        }
    }
    /* Every "expect" flag is true and each is a step a successful verify has passed. */
    long expect = scitt_json_get(j, (size_t)entry, "expect");
    assert_true(expect > 0);
    assert_int_equal(j->toks[expect].count, 6);
    for (size_t i = 0; i < j->toks[expect].count; i++) {
        long k = scitt_json_member(j, (size_t)expect, i);
        assert_int_equal(scitt_json_type_of(j, (size_t)k + 1), SCITT_JSON_TRUE);
    }
    /* The root the chain ended in is the one the sample names. */
    long subj = scitt_json_get(j, (size_t)entry, "ark_subject");
    char want_cn[64];
    snprintf(want_cn, sizeof(want_cn), "CN=ARK-%s,", scitt_snp_product_name(v.product));
    assert_non_null(strstr(json_text(j, (size_t)subj), want_cn));
    size_t npins;
    const scitt_snp_pin *pins = scitt_snp_builtin_pins(&npins);
    assert_memory_equal(v.ark_sha256, pins[0].ark_sha256, 32);
    assert_true(v.valid_from <= T_NOW && T_NOW <= v.valid_until);

    /* The raw parser agrees with what verify returned. */
    scitt_snp_report r;
    assert_int_equal(scitt_snp_report_parse(scitt_span_make(report, n), &r, NULL), SCITT_OK);
    assert_memory_equal(&r, &v.report, sizeof(r));
    scitt_snp_certs_clear(&certs);
    free(report);
}

static void test_expected_json(void **state)
{
    (void)state;
    size_t n;
    uint8_t *text = tt_load("tee/sev-snp/expected.json", &n);
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_make(text, n), &j), SCITT_OK);
    assert_int_equal(j.toks[0].count, 2); /* both samples, and only those, are listed */
    check_sample(&j, "sev-snp/virtee-milan/report_milan.hex", &tt_virtee);
    check_sample(&j, "sev-snp/go-sev-guest-milan/attestation.bin", &tt_gosev);
    scitt_json_clear(&j);
    free(text);
}

/* The hex file and the derived binary are the same report. */
static void test_hex_equals_bin(void **state)
{
    (void)state;
    size_t a, b;
    uint8_t *hex = tt_load("tee/sev-snp/virtee-milan/report_milan.hex", &a);
    uint8_t *bin = tt_load("tee/sev-snp/virtee-milan/report_milan.bin", &b);
    assert_int_equal(a, b);
    assert_memory_equal(hex, bin, a);
    free(hex);
    free(bin);
}

/* go-sev-guest's report allows debugging: authentic, but the default policy must refuse it. */
static void test_debug_report_policy(void **state)
{
    (void)state;
    size_t n;
    uint8_t *report = tt_load(tt_gosev.report, &n);
    scitt_snp_certs certs;
    tt_certs(&tt_gosev, &certs);
    scitt_snp_verify_opts opts;
    scitt_snp_verify_opts_init(&opts, T_NOW);
    scitt_snp_verified v;
    scitt_tee_reason why;
    TT_CHECK(scitt_snp_verify(scitt_span_make(report, n), &certs, &opts, &v, &why), why, SCITT_OK,
             SCITT_TEE_OK);
    assert_true(v.report.policy & SCITT_SNP_POLICY_DEBUG);
    scitt_snp_policy pol;
    scitt_snp_policy_init(&pol);
    TT_CHECK(scitt_snp_check_policy(&v, &pol, &why), why, SCITT_ERR_POLICY, SCITT_TEE_POLICY_DEBUG);
    assert_string_equal(scitt_tee_reason_str(why), "the guest policy allows debugging");
    pol.allow_debug = true;
    TT_CHECK(scitt_snp_check_policy(&v, &pol, &why), why, SCITT_OK, SCITT_TEE_OK);
    /* The upstream check test: minimum firmware 1.49 passes, 1.50 fails. */
    pol.min_firmware = (scitt_snp_fw_version){1, 49, 0};
    TT_CHECK(scitt_snp_check_policy(&v, &pol, &why), why, SCITT_OK, SCITT_TEE_OK);
    pol.min_firmware = (scitt_snp_fw_version){1, 50, 0};
    TT_CHECK(scitt_snp_check_policy(&v, &pol, &why), why, SCITT_ERR_POLICY,
             SCITT_TEE_POLICY_FIRMWARE);
    /* The virtee report has debug off and passes the default policy. */
    uint8_t *r2 = tt_load(tt_virtee.report, &n);
    scitt_snp_certs c2;
    tt_certs(&tt_virtee, &c2);
    TT_CHECK(scitt_snp_verify(scitt_span_make(r2, n), &c2, &opts, &v, &why), why, SCITT_OK,
             SCITT_TEE_OK);
    scitt_snp_policy_init(&pol);
    TT_CHECK(scitt_snp_check_policy(&v, &pol, &why), why, SCITT_OK, SCITT_TEE_OK);
    scitt_snp_certs_clear(&c2);
    scitt_snp_certs_clear(&certs);
    free(r2);
    free(report);
}

/* The real Turin VCEK: 8-byte hwID, fmcSPL present, spl4 absent, structVersion 1. */
static void test_turin_vcek_extensions(void **state)
{
    (void)state;
    size_t n;
    uint8_t *der = tt_load("tee/sev-snp/virtee-milan/vcek_turin.der", &n);
    scitt_snp_vcek_info v;
    scitt_tee_reason why;
    TT_CHECK(scitt_snp_vcek_parse(scitt_span_make(der, n), &v, &why), why, SCITT_OK, SCITT_TEE_OK);
    assert_string_equal(v.product_name, "Turin");
    assert_int_equal(v.product, SCITT_SNP_TURIN);
    assert_int_equal(v.struct_version, 1);
    assert_false(v.is_vlek);
    assert_int_equal(v.hwid_len, 8);
    assert_string_equal(hexstr(v.hwid, v.hwid_len), "1e550a8ee5cf9f4d");
    assert_true(v.spl_present & (1u << 9));
    assert_false(v.spl_present & (1u << 4));
    assert_int_equal(v.tcb.microcode, 9);
    assert_int_equal(v.tcb.fmc, 0);
    assert_int_equal(v.tcb.bootloader, 0);
    assert_int_equal(v.tcb.tee, 0);
    assert_int_equal(v.tcb.snp, 0);
    /* Composed in the Turin layout, ucode is the top byte and fmc the bottom one. */
    uint64_t tcb;
    assert_int_equal(scitt_snp_vcek_tcb(&v, &tcb), SCITT_OK);
    assert_int_equal(tcb, UINT64_C(0x0900000000000000));
    /* Its chain: the pinned Turin ARK, and the KDS PEM splits into ASK and ARK. */
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    uint8_t *chain = tt_load("tee/sev-snp/virtee-milan/cert_chain_turin", &n);
    assert_int_equal(scitt_snp_certs_add_pem(&certs, scitt_span_make(chain, n), NULL), SCITT_OK);
    assert_true(scitt_snp_certs_get(&certs, SCITT_SNP_CERT_ASK).len > 0);
    scitt_span ark = scitt_snp_certs_get(&certs, SCITT_SNP_CERT_ARK);
    uint8_t fp[32];
    scitt_sha256(ark.ptr, ark.len, fp);
    size_t npins;
    const scitt_snp_pin *pins = scitt_snp_builtin_pins(&npins);
    assert_int_equal(npins, 3);
    assert_int_equal(pins[2].product, SCITT_SNP_TURIN);
    assert_memory_equal(fp, pins[2].ark_sha256, 32);
    scitt_snp_certs_clear(&certs);
    free(chain);
    free(der);
}

/* Each pinned fingerprint is the SHA-256 of the AMD ARK of that product in the samples. */
static void test_pins_match_amd_roots(void **state)
{
    (void)state;
    static const char *files[] = {"tee/sev-snp/amd-certs/milan_ark.pem",
                                  "tee/sev-snp/amd-certs/genoa_ark.pem",
                                  "tee/sev-snp/amd-certs/turin_ark.pem"};
    size_t npins;
    const scitt_snp_pin *pins = scitt_snp_builtin_pins(&npins);
    for (size_t i = 0; i < 3; i++) {
        size_t n;
        uint8_t *pem = tt_load(files[i], &n);
        scitt_snp_certs c;
        scitt_snp_certs_init(&c);
        assert_int_equal(scitt_snp_certs_add_pem(&c, scitt_span_make(pem, n), NULL), SCITT_OK);
        scitt_span ark = scitt_snp_certs_get(&c, SCITT_SNP_CERT_ARK);
        uint8_t fp[32];
        scitt_sha256(ark.ptr, ark.len, fp);
        assert_int_equal(pins[i].product, (scitt_snp_product)(i + 1));
        assert_memory_equal(fp, pins[i].ark_sha256, 32);
        scitt_snp_certs_clear(&c);
        free(pem);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expected_json),        cmocka_unit_test(test_hex_equals_bin),
        cmocka_unit_test(test_debug_report_policy),  cmocka_unit_test(test_turin_vcek_extensions),
        cmocka_unit_test(test_pins_match_amd_roots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
