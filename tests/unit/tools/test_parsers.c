/*
 * The scitt tool's other parsers of untrusted bytes: tar archives (ustar, PAX, GNU long names),
 * OCI index.json and manifests, image references, SNP report files (the real virtee report),
 * C2SP entry bundles, and CBOR diagnostic notation (kinds, names, every short input).
 */
#include "testutil.h"

#include "parsers.h"
#include "scitt/cbor.h"

/* ---- tar ----------------------------------------------------------------------------------- */

typedef struct mem {
    uint8_t *p;
    size_t n;
} mem;

static long mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
    mem *m = ctx;
    if (off >= m->n) {
        return 0;
    }
    size_t k = m->n - off < n ? m->n - (size_t)off : n;
    memcpy(buf, m->p + off, k);
    return (long)k;
}

/* Appends a ustar member; @p size_field overrides the octal size (NULL: the real one). */
static void tar_add(scitt_dynbuf *b, const char *name, char type, const void *data, size_t len,
                    const char *size_field)
{
    uint8_t h[512];
    memset(h, 0, sizeof(h));
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    if (size_field) {
        memcpy(h + 124, size_field, strlen(size_field));
    } else {
        snprintf((char *)h + 124, 12, "%011o", (unsigned)len);
    }
    memcpy(h + 136, "00000000000", 11);
    h[156] = (uint8_t)type;
    memcpy(h + 257,
           "ustar\0"
           "00",
           8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++) {
        sum += h[i];
    }
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
    scitt_dynbuf_put(b, h, 512);
    scitt_dynbuf_put(b, data, len);
    uint8_t pad[512] = {0};
    scitt_dynbuf_put(b, pad, (512 - len % 512) % 512);
}

static void tar_end(scitt_dynbuf *b)
{
    uint8_t z[1024] = {0};
    scitt_dynbuf_put(b, z, sizeof(z));
}

static scitt_err find(scitt_dynbuf *b, const char *name, tar_member *m)
{
    mem mm = {b->ptr, b->len};
    return tar_find(mem_read, &mm, name, m);
}

static void test_tar(void **state)
{
    (void)state;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    tar_add(&b, "blobs/", '5', NULL, 0, NULL);
    tar_add(&b, "./oci-layout", '0', "{}", 2, NULL);
    tar_add(&b, "index.json", '0', "{\"schemaVersion\":2}", 19, NULL);
    /* A PAX header renames and resizes the next member. */
    const char pax[] = "30 path=blobs/sha256/long-one\n";
    tar_add(&b, "PaxHeaders/x", 'x', pax, strlen(pax), NULL);
    tar_add(&b, "short", '0', "0123456789", 10, NULL);
    /* A GNU long name. */
    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = 0;
    tar_add(&b, "././@LongLink", 'L', longname, 300, NULL);
    tar_add(&b, "truncated-name", '0', "L", 1, NULL);
    tar_end(&b);
    tar_member m;
    assert_int_equal(find(&b, "index.json", &m), SCITT_OK);
    assert_int_equal(m.size, 19);
    assert_memory_equal(b.ptr + m.data_off, "{\"schemaVersion\":2}", 19);
    assert_int_equal(find(&b, "oci-layout", &m), SCITT_OK); /* "./" dropped */
    assert_int_equal(find(&b, "blobs/sha256/long-one", &m), SCITT_OK);
    assert_int_equal(m.size, 10);
    assert_int_equal(find(&b, "short", &m), SCITT_ERR_NOT_FOUND); /* renamed by PAX */
    assert_int_equal(find(&b, longname, &m), SCITT_OK);
    assert_int_equal(find(&b, "missing", &m), SCITT_ERR_NOT_FOUND);
    assert_int_equal(find(&b, "blobs/", &m), SCITT_ERR_NOT_FOUND); /* directories are not files */

    /* Broken archives, each refused for its reason. */
    scitt_dynbuf c;
    scitt_dynbuf_init(&c, 0);
    scitt_dynbuf_put(&c, b.ptr, 512);
    c.ptr[0] ^= 1; /* checksum no longer matches */
    tar_end(&c);
    assert_int_equal(find(&c, "x", &m), SCITT_ERR_MALFORMED);
    scitt_dynbuf_clear(&c);
    scitt_dynbuf_init(&c, 0);
    tar_add(&c, "a", '0', "x", 1, "0000000000z"); /* size not octal */
    tar_end(&c);
    assert_int_equal(find(&c, "a", &m), SCITT_ERR_MALFORMED);
    scitt_dynbuf_clear(&c);
    scitt_dynbuf_init(&c, 0);
    tar_add(&c, "a", '0', "x", 1, NULL);
    assert_int_equal(find(&c, "b", &m), SCITT_ERR_MALFORMED); /* no end-of-archive blocks */
    scitt_dynbuf_clear(&c);
    scitt_dynbuf_init(&c, 0);
    tar_add(&c, "p", 'x', "99 path=x\n", 10, NULL); /* a record longer than the header */
    tar_add(&c, "a", '0', "x", 1, NULL);
    tar_end(&c);
    assert_int_equal(find(&c, "a", &m), SCITT_ERR_MALFORMED);
    scitt_dynbuf_clear(&c);
    scitt_dynbuf_init(&c, 0);
    uint8_t big[12] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
    tar_add(&c, "a", '0', "x", 1, NULL);
    memcpy(c.ptr + 124, big, 12); /* base-256 size: 2 GiB past the archive's end */
    unsigned sum = 0;
    memset(c.ptr + 148, ' ', 8);
    for (size_t i = 0; i < 512; i++) {
        sum += c.ptr[i];
    }
    snprintf((char *)c.ptr + 148, 8, "%06o", sum);
    c.ptr[155] = ' ';
    tar_end(&c);
    assert_int_equal(find(&c, "a", &m), SCITT_OK);
    assert_int_equal(m.size, 0x7fffffffu); /* found; reading it is the caller's bounded job */
    assert_int_equal(find(&c, "b", &m), SCITT_ERR_MALFORMED);
    scitt_dynbuf_clear(&c);
    scitt_dynbuf_clear(&b);
}

/* ---- OCI ----------------------------------------------------------------------------------- */

#define DIG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MT  "application/vnd.oci.image.manifest.v1+json"

static void test_oci_pick(void **state)
{
    (void)state;
    oci_desc d;
    char why[256];
    const char one[] = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT
                       "\",\"digest\":\"" DIG "\",\"size\":42,\"annotations\":{"
                       "\"io.containerd.image.name\":\"reg.example/app:1.0\","
                       "\"org.opencontainers.image.ref.name\":\"1.0\"}}]}";
    assert_int_equal(oci_pick(scitt_span_str(one), NULL, &d, why, sizeof(why)), SCITT_OK);
    assert_int_equal(d.size, 42);
    assert_false(d.is_index);
    assert_string_equal(d.name, "reg.example/app:1.0");
    assert_int_equal(d.digest[0], 0x01);
    assert_int_equal(oci_pick(scitt_span_str(one), "1.0", &d, why, sizeof(why)), SCITT_OK);
    assert_int_equal(oci_pick(scitt_span_str(one), "reg.example/app:1.0", &d, why, sizeof(why)),
                     SCITT_OK);
    assert_int_equal(oci_pick(scitt_span_str(one), "2.0", &d, why, sizeof(why)),
                     SCITT_ERR_NOT_FOUND);
    static const struct {
        const char *json;
        scitt_err want;
        const char *why;
    } bad[] = {
        {"{\"schemaVersion\":2,\"manifests\":[]}", SCITT_ERR_NOT_FOUND, "no manifest"},
        {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT "\",\"digest\":\"" DIG
         "\",\"size\":1},{\"mediaType\":\"" MT "\",\"digest\":\"" DIG "\",\"size\":1}]}",
         SCITT_ERR_NOT_FOUND, "two manifests and no --ref"},
        {"{\"schemaVersion\":1,\"manifests\":[]}", SCITT_ERR_MALFORMED, "schemaVersion 1"},
        {"{\"manifests\":[]}", SCITT_ERR_MALFORMED, "no schemaVersion"},
        {"[]", SCITT_ERR_MALFORMED, "not an object"},
        {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"text/plain\",\"digest\":\"" DIG
         "\",\"size\":1}]}",
         SCITT_ERR_UNSUPPORTED, "not a manifest media type"},
        {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT
         "\",\"digest\":\"sha512:00\",\"size\":1}]}",
         SCITT_ERR_MALFORMED, "not a sha256 digest"},
        {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT "\",\"digest\":\"sha256:"
         "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\","
         "\"size\":1}]}",
         SCITT_ERR_MALFORMED, "upper-case hex"},
        {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT "\",\"digest\":\"" DIG "\"}]}",
         SCITT_ERR_MALFORMED, "no size"},
        {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT "\",\"digest\":\"" DIG
         "\",\"size\":-1}]}",
         SCITT_ERR_MALFORMED, "a negative size"},
        {"{\"schemaVersion\":2,\"manifests\":[1]}", SCITT_ERR_MALFORMED,
         "a descriptor not an object"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scitt_err e = oci_pick(scitt_span_str(bad[i].json), NULL, &d, why, sizeof(why));
        if (e != bad[i].want) {
            fail_msg("row %zu (%s): got %s, want %s", i, bad[i].why, scitt_err_name(e),
                     scitt_err_name(bad[i].want));
        }
    }
    assert_int_not_equal(oci_pick(scitt_span_str("{not json"), NULL, &d, why, sizeof(why)),
                         SCITT_OK);
}

static void test_oci_blob_and_refs(void **state)
{
    (void)state;
    const char blob[] = "{\"schemaVersion\":2,\"mediaType\":\"" MT "\"}";
    oci_desc d;
    memset(&d, 0, sizeof(d));
    snprintf(d.media_type, sizeof(d.media_type), MT);
    scitt_sha256(blob, strlen(blob), d.digest);
    d.size = strlen(blob);
    char why[256];
    assert_int_equal(oci_check_blob(scitt_span_str(blob), &d, why, sizeof(why)), SCITT_OK);
    d.size++;
    assert_int_equal(oci_check_blob(scitt_span_str(blob), &d, why, sizeof(why)),
                     SCITT_ERR_MALFORMED);
    d.size--;
    d.digest[0] ^= 1;
    assert_int_equal(oci_check_blob(scitt_span_str(blob), &d, why, sizeof(why)),
                     SCITT_ERR_KEY_MISMATCH);
    d.digest[0] ^= 1;
    snprintf(d.media_type, sizeof(d.media_type), "application/vnd.oci.image.index.v1+json");
    assert_int_equal(oci_check_blob(scitt_span_str(blob), &d, why, sizeof(why)),
                     SCITT_ERR_MALFORMED);

    char repo[256], tag[256];
    bool has;
    uint8_t dg[32];
    assert_int_equal(oci_split_ref("registry:5000/team/app:1.2@" DIG, repo, sizeof(repo), &has, dg),
                     SCITT_OK);
    assert_string_equal(repo, "registry:5000/team/app");
    assert_true(has);
    assert_int_equal(oci_split_ref("app", repo, sizeof(repo), &has, dg), SCITT_OK);
    assert_string_equal(repo, "app");
    assert_false(has);
    assert_int_equal(oci_split_ref("@" DIG, repo, sizeof(repo), &has, dg), SCITT_ERR_MALFORMED);
    assert_int_equal(oci_split_ref("app@sha256:00", repo, sizeof(repo), &has, dg),
                     SCITT_ERR_MALFORMED);
    assert_int_equal(oci_split_ref("a pp:1", repo, sizeof(repo), &has, dg), SCITT_ERR_MALFORMED);
    assert_int_equal(oci_docker_repotag(scitt_span_str("[{\"Config\":\"c.json\",\"RepoTags\":"
                                                       "[\"reg/app:2\"],\"Layers\":[]}]"),
                                        tag, sizeof(tag)),
                     SCITT_OK);
    assert_string_equal(tag, "reg/app:2");
    assert_int_equal(oci_docker_repotag(scitt_span_str("[{\"RepoTags\":null}]"), tag, sizeof(tag)),
                     SCITT_OK);
    assert_string_equal(tag, "");
}

/* ---- SNP report files ---------------------------------------------------------------------- */

static void test_snp_file(void **state)
{
    (void)state;
    size_t n, hn;
    uint8_t *bin = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/report_milan.bin"), &n);
    uint8_t *hex = tu_read_file(tu_shared("tee/sev-snp/virtee-milan/report_milan.hex"), &hn);
    uint8_t out[1184];
    char why[256];
    assert_int_equal(snp_file_decode(scitt_span_make(bin, n), out, why, sizeof(why)), SCITT_OK);
    assert_memory_equal(out, bin, 1184);
    assert_int_equal(snp_file_decode(scitt_span_make(hex, hn), out, why, sizeof(why)), SCITT_OK);
    assert_memory_equal(out, bin, 1184);
    char b64[SCITT_BASE64_LEN(1184) + 2];
    assert_int_equal(scitt_base64_encode(scitt_span_make(bin, n), b64, sizeof(b64)), SCITT_OK);
    strcat(b64, "\n");
    assert_int_equal(snp_file_decode(scitt_span_str(b64), out, why, sizeof(why)), SCITT_OK);
    assert_memory_equal(out, bin, 1184);
    assert_int_equal(snp_file_decode(scitt_span_make(bin, n - 1), out, why, sizeof(why)),
                     SCITT_ERR_EVIDENCE_MALFORMED);
    hex[10] = 'g';
    assert_int_equal(snp_file_decode(scitt_span_make(hex, hn), out, why, sizeof(why)),
                     SCITT_ERR_EVIDENCE_MALFORMED);
    bin[0] = 0x09; /* version 9 */
    assert_int_equal(snp_file_decode(scitt_span_make(bin, n), out, why, sizeof(why)),
                     SCITT_ERR_EVIDENCE_MALFORMED);
    free(bin);
    free(hex);
}

/* ---- entry bundles ------------------------------------------------------------------------- */

static void test_bundles(void **state)
{
    (void)state;
    const uint8_t good[] = {0, 2, 'a', 'b', 0, 0, 0, 1, 'c'};
    scitt_span e[256];
    assert_int_equal(bundle_split(scitt_span_make(good, sizeof(good)), 3, e), SCITT_OK);
    assert_int_equal(e[0].len, 2);
    assert_int_equal(e[1].len, 0);
    assert_int_equal(e[2].ptr[0], 'c');
    assert_int_equal(bundle_split(scitt_span_make(good, sizeof(good)), 2, e), SCITT_ERR_MALFORMED);
    assert_int_equal(bundle_split(scitt_span_make(good, sizeof(good)), 4, e), SCITT_ERR_MALFORMED);
    assert_int_equal(bundle_split(scitt_span_make(good, sizeof(good) - 1), 3, e),
                     SCITT_ERR_MALFORMED);
    assert_int_equal(bundle_split(scitt_span_make(good, 5), 3, e), SCITT_ERR_MALFORMED);
    assert_int_equal(bundle_split(scitt_span_make(good, sizeof(good)), 0, e),
                     SCITT_ERR_INVALID_ARG);
}

/* ---- diagnostic notation ------------------------------------------------------------------- */

static void expect_diag(const char *hex, diag_kind want, const char *const *contains)
{
    size_t n;
    uint8_t *b = tu_hex(hex, &n);
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    diag_kind k;
    assert_int_equal(diag_print(scitt_span_make(b, n), false, &out, &k), SCITT_OK);
    scitt_dynbuf_u8(&out, 0);
    if (k != want) {
        fail_msg("%s: kind %s, want %s", hex, diag_kind_name(k), diag_kind_name(want));
    }
    for (size_t i = 0; contains && contains[i]; i++) {
        if (!strstr((char *)out.ptr, contains[i])) {
            fail_msg("%s: \"%s\" not in\n%s", hex, contains[i], (char *)out.ptr);
        }
    }
    scitt_dynbuf_clear(&out);
    free(b);
}

static void test_diag(void **state)
{
    (void)state;
    /* {1: 2, -1: 1, -2: h'01', -3: h'02'}: a COSE_Key (EC2, P-256) */
    static const char *const key[] = {"/ kty / 1: 2 / EC2 /", "/ crv / -1: 1 / P-256 /",
                                      "/ x / -2: h'01'", NULL};
    expect_diag("a401022001214101224102", DIAG_COSE_KEY, key);
    static const char *const set[] = {"/ COSE_Key_Set /", "/ kty / 1: 1 / OKP /", NULL};
    expect_diag("81a201012006", DIAG_COSE_KEY_SET, set);
    static const char *const prob[] = {"/ title / -1: \"Not Found\"", "/ detail / -2: \"x\"", NULL};
    expect_diag("a220694e6f7420466f756e64216178", DIAG_PROBLEM, prob);
    static const char *const cfg[] = {"\"issuer\": \"a\"", NULL};
    expect_diag("a1666973737565726161", DIAG_CONFIGURATION, cfg);
    /* 18([<<{1: -7, 395: 1}>>, {396: {-1: [<<[2, 1, [h'..32..']]>>]}}, nil, h'']) */
    static const char *const receipt[] = {"/ vds / 395: 1 / RFC9162_SHA256 /",
                                          "/ inclusion proofs / -1: [",
                                          "/ tree size / 2",
                                          "/ leaf index / 1",
                                          "/ payload / null",
                                          NULL};
    expect_diag("d28447a2012619018b01a119018ca1208158268302018158200000000000000000000000000000"
                "000000000000000000000000000000000000f640",
                DIAG_RECEIPT, receipt);
    /* Not well formed: indefinite length, trailing bytes. */
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    const uint8_t indef[] = {0x9f, 0x01, 0xff};
    assert_int_equal(diag_print(scitt_span_make(indef, 3), false, &out, NULL),
                     SCITT_ERR_INDEFINITE);
    const uint8_t trail[] = {0x01, 0x02};
    assert_int_equal(diag_print(scitt_span_make(trail, 2), false, &out, NULL), SCITT_ERR_TRAILING);
    scitt_dynbuf_clear(&out);
    /* Every 1- and 2-byte input: an answer, never a crash or an unterminated output. */
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 257; b++) {
            uint8_t in[2] = {(uint8_t)a, (uint8_t)b};
            scitt_dynbuf_init(&out, 0);
            scitt_err e = diag_print(scitt_span_make(in, b == 256 ? 1 : 2), false, &out, NULL);
            if (e == SCITT_OK) {
                assert_true(out.len > 0 && out.ptr[out.len - 1] == '\n');
            }
            scitt_dynbuf_clear(&out);
        }
    }
    /* Long byte strings are cut unless asked for in full. */
    uint8_t big[5003];
    big[0] = 0x59, big[1] = 0x13, big[2] = 0x88; /* bstr of 5000 */
    memset(big + 3, 0xab, 5000);
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(diag_print(scitt_span_make(big, sizeof(big)), false, &out, NULL), SCITT_OK);
    assert_true(out.len < 400);
    scitt_dynbuf_clear(&out);
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(diag_print(scitt_span_make(big, sizeof(big)), true, &out, NULL), SCITT_OK);
    assert_true(out.len > 10000);
    scitt_dynbuf_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tar),
        cmocka_unit_test(test_oci_pick),
        cmocka_unit_test(test_oci_blob_and_refs),
        cmocka_unit_test(test_snp_file),
        cmocka_unit_test(test_bundles),
        cmocka_unit_test(test_diag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
