/*
 * The header model: a table of header buckets with the rule each row breaks (or keeps), the
 * decoded values of the known parameters, the SCITT Signed Statement profile, and deterministic
 * header encoding.
 */
#include "cose_testutil.h"

#include "scitt/cbor.h"

/* Decodes d2 84 bstr(prot) unprot f6 40 (the signature is never looked at). */
static scitt_err decode_buckets(const char *prot_hex, const char *unprot_hex, unsigned flags,
                                scitt_cose_sign1 *m, uint8_t **keep)
{
    size_t pl, ul;
    uint8_t *p = tu_hex(prot_hex, &pl);
    uint8_t *u = tu_hex(unprot_hex, &ul);
    uint8_t *msg = malloc(pl + ul + 16);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, msg, pl + ul + 16);
    scitt_cbor_put_tag(&w, 18);
    scitt_cbor_put_array(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_span_make(p, pl));
    scitt_cbor_put_raw(&w, scitt_span_make(u, ul));
    scitt_cbor_put_null(&w);
    scitt_cbor_put_bytes(&w, scitt_span_make(NULL, 0));
    assert_int_equal(w.err, SCITT_OK);
    scitt_err e = scitt_cose_sign1_decode(scitt_span_make(msg, w.len), flags, m);
    free(p);
    free(u);
    *keep = msg;
    return e;
}

typedef struct {
    const char *prot, *unprot;
    scitt_err want;
    const char *why;
} hdr_row;

/* "a10126" = {1: -7}; every row has an alg unless it says otherwise. */
static const hdr_row hdr_rows[] = {
    {"a10126", "a0", SCITT_OK, "alg alone"},
    {"a1016545533235 36", "a0", SCITT_ERR_ALG, "alg as text"},
    {"a101f6", "a0", SCITT_ERR_HEADER, "alg null"},
    {"a2012604820102", "a0", SCITT_ERR_HEADER, "kid as an array"},
    {"a20126046131", "a0", SCITT_ERR_HEADER, "kid as text"},
    {"a10126", "a1044131", SCITT_OK, "kid unprotected"},
    {"a10126", "a10126", SCITT_ERR_DUPLICATE_KEY, "alg in both buckets"},
    {"a2012604 4131", "a1044132", SCITT_ERR_DUPLICATE_KEY, "kid in both buckets"},
    {"a2012663666f6f01", "a163666f6f02", SCITT_ERR_DUPLICATE_KEY, "text label in both"},
    /* crit */
    {"a30126028104044131", "a0", SCITT_OK, "crit [4], kid protected"},
    {"a2012602 81 04", "a1044131", SCITT_ERR_CRIT, "crit names kid, but kid is unprotected"},
    {"a20126 0280", "a0", SCITT_ERR_HEADER, "crit empty"},
    {"a30126028118631863 01", "a0", SCITT_ERR_CRIT, "crit names 99, which we do not know"},
    {"a3012602816361626363616263 01", "a0", SCITT_ERR_CRIT, "crit names a text label"},
    {"a10126", "a1028104", SCITT_ERR_HEADER, "crit unprotected"},
    {"a20126 02 04", "a0", SCITT_ERR_HEADER, "crit not an array"},
    /* content type / typ */
    {"a20126036a746578742f706c61696e", "a0", SCITT_OK, "content type text"},
    {"a20126031932", "a0", SCITT_ERR_TRUNCATED, "content type head cut (not even CBOR)"},
    {"a201260319ffff", "a0", SCITT_OK, "content type 65535"},
    {"a20126031a00010000", "a0", SCITT_ERR_HEADER, "content type 65536"},
    {"a2012610f6", "a0", SCITT_ERR_HEADER, "typ null"},
    /* CWT claims */
    {"a201260fa201636973730263737562", "a0", SCITT_OK, "iss and sub"},
    {"a201260fa1010a", "a0", SCITT_ERR_HEADER, "iss as an integer"},
    {"a201260fa106c11a6553f100", "a0", SCITT_OK, "iat wrapped in tag 1"},
    {"a201260fa106c21a6553f100", "a0", SCITT_ERR_HEADER, "iat wrapped in tag 2"},
    {"a201260fa106fb41d954fc4000000000", "a0", SCITT_ERR_HEADER, "iat as a float"},
    {"a201260fa20161610201", "a0", SCITT_ERR_HEADER, "sub as an integer"},
    {"a201260fa20161610161 62", "a0", SCITT_ERR_DUPLICATE_KEY, "iss twice"},
    {"a201260f80", "a0", SCITT_ERR_HEADER, "claims not a map"},
    /* x5chain / x5t */
    {"a201261821 4101", "a0", SCITT_OK, "x5chain: one certificate as a bstr"},
    {"a20126182182 4101 4102", "a0", SCITT_OK, "x5chain: two certificates as an array"},
    {"a20126182181 4101", "a0", SCITT_ERR_HEADER, "x5chain: [one] is not COSE_X509"},
    {"a20126182180", "a0", SCITT_ERR_HEADER, "x5chain: empty array"},
    {"a2012618218241016101", "a0", SCITT_ERR_HEADER, "x5chain: text in the array"},
    {"a201261822822f4101", "a0", SCITT_OK, "x5t [-16, h]"},
    {"a201261822812f", "a0", SCITT_ERR_HEADER, "x5t missing the hash"},
    /* hash envelope (RFC 9995) */
    {"a3012619010 22f19010378 186170706c69636174696f6e2f6f637465742d73747265616d", "a0", SCITT_OK,
     "258 and 259 protected"},
    {"a10126", "a11901022f", SCITT_ERR_HEADER, "258 unprotected"},
    {"a3012619010 22f0300", "a0", SCITT_ERR_HEADER, "258 with content type 3"},
    {"a20126190102 2f", "a10300", SCITT_ERR_HEADER, "258 with an unprotected content type 3"},
    {"a20126190103 00", "a0", SCITT_ERR_HEADER, "259 without 258"},
    {"a20126190102 2f", "a11901046161", SCITT_ERR_HEADER, "260 unprotected"},
    /* receipts (394) */
    {"a10126", "a119018a81 4100", SCITT_OK, "one receipt"},
    {"a10126", "a119018a80", SCITT_ERR_HEADER, "receipts empty"},
    {"a10126", "a119018a81 80", SCITT_ERR_HEADER, "a receipt not wrapped in a bstr"},
    {"a10126", "a119018a81 d8404100", SCITT_ERR_HEADER, "typed-array tag 64 around the bstr"},
    {"a3012619018a814100 0000", "a0", SCITT_ERR_HEADER, "receipts protected"},
    /* labels */
    {"a2012680 00", "a0", SCITT_ERR_HEADER, "an array as a label"},
    {"a20126f600", "a0", SCITT_ERR_HEADER, "null as a label"},
    {"a201263b7fffffffffffffff00", "a0", SCITT_OK, "the most negative int64 label"},
    {"a201263b800000000000000000", "a0", SCITT_ERR_HEADER, "a label below int64"},
    {"a2012669747265655f73697a6505", "a0", SCITT_OK, "text label"},
};

/* The hex strings above contain spaces for readability. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s != ' ') {
            *o++ = *s;
        }
    }
    *o = 0;
    return out;
}

static void test_header_table(void **state)
{
    (void)state;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    for (size_t i = 0; i < sizeof(hdr_rows) / sizeof(hdr_rows[0]); i++) {
        char *p = squeeze(hdr_rows[i].prot), *u = squeeze(hdr_rows[i].unprot);
        uint8_t *keep;
        scitt_err e = decode_buckets(p, u, 0, m, &keep);
        if (e != hdr_rows[i].want) {
            fail_msg("row %zu (%s): got %s, want %s", i, hdr_rows[i].why, scitt_err_name(e),
                     scitt_err_name(hdr_rows[i].want));
        }
        free(keep);
        free(p);
        free(u);
    }
    free(m);
}

static void test_header_values(void **state)
{
    (void)state;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    uint8_t *keep;
    /* {1: -7, 2: [15], 3: 60, 4: h'31', 15: {1: "iss", 2: "sub", 6: 1(1700000000)}, 16: "t",
     *  33: [h'01', h'02'], 34: [-16, h'aa'], "x": 1} / {-65537: 0} */
    const char *prot = "a90126"
                       "02810f"
                       "03183c"
                       "044131"
                       "0fa3016369737302637375620 6c11a6553f100"
                       "106174"
                       "18218241014102"
                       "1822822f41aa"
                       "617801";
    char *p = squeeze(prot);
    assert_int_equal(decode_buckets(p, "a13a0001000000", 0, m, &keep), SCITT_OK);
    const scitt_cose_headers *h = &m->hdr;
    assert_int_equal(h->alg, -7);
    assert_int_equal(h->ncrit, 1);
    assert_int_equal(h->crit[0].num, 15);
    assert_false(h->content_type.is_text);
    assert_int_equal(h->content_type.num, 60);
    assert_true(scitt_span_eq_str(h->kid, "1"));
    assert_true(scitt_span_eq_str(h->cwt.iss, "iss"));
    assert_true(scitt_span_eq_str(h->cwt.sub, "sub"));
    assert_true(h->cwt.has_iat);
    assert_int_equal(h->cwt.iat, 1700000000);
    assert_true(h->typ.is_text);
    assert_int_equal(h->nx5chain, 2);
    assert_int_equal(h->x5chain[1].ptr[0], 2);
    assert_int_equal(h->x5t_alg, SCITT_COSE_ALG_SHA256);
    assert_int_equal(h->x5t_hash.ptr[0], 0xaa);
    uint32_t want = SCITT_COSE_H_ALG | SCITT_COSE_H_CRIT | SCITT_COSE_H_CONTENT_TYPE |
                    SCITT_COSE_H_KID | SCITT_COSE_H_CWT | SCITT_COSE_H_TYP | SCITT_COSE_H_X5CHAIN |
                    SCITT_COSE_H_X5T;
    assert_int_equal(h->prot, want);
    assert_int_equal(h->unprot, 0);
    assert_int_equal(h->nparams, 10);
    const scitt_cose_param *x = scitt_cose_headers_find_text(h, "x");
    assert_non_null(x);
    assert_int_equal(x->bucket, SCITT_COSE_PROTECTED);
    const scitt_cose_param *priv = scitt_cose_headers_find(h, -65537);
    assert_non_null(priv);
    assert_int_equal(priv->bucket, SCITT_COSE_UNPROTECTED);
    assert_null(scitt_cose_headers_find(h, 35));
    free(keep);
    free(p);
    free(m);
}

static void test_too_many_labels(void **state)
{
    (void)state;
    /* 65 labels in one bucket is over SCITT_LIMIT_HEADER_LABELS. */
    char hex[1024] = "b8410126";
    for (int i = 0; i < 64; i++) {
        /* label -(i + 33), value 0 */
        snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "38%02x00", i + 32);
    }
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    uint8_t *keep;
    assert_int_equal(decode_buckets(hex, "a0", 0, m, &keep), SCITT_ERR_TOO_LARGE);
    free(keep);
    hex[3] = '0'; /* b840: 64 labels, dropping the last pair */
    hex[strlen(hex) - 6] = 0;
    assert_int_equal(decode_buckets(hex, "a0", 0, m, &keep), SCITT_OK);
    free(keep);
    free(m);
}

typedef struct {
    const char *prot;
    scitt_err want;
    const char *why;
} profile_row;

static const profile_row profile_rows[] = {
    {"a301260441310fa2016361626302617b", SCITT_OK, "alg, kid, iss, sub"},
    {"a2012604413 1", SCITT_ERR_HEADER, "no CWT claims"},
    {"a301260441310fa1016361626 3", SCITT_ERR_HEADER, "no sub"},
    {"a301260441310fa102617b", SCITT_ERR_HEADER, "no iss"},
    {"a201260fa2016361626302617b", SCITT_ERR_HEADER, "no kid, no x5t, no x5chain"},
    {"a30126182141010fa2016361626302617b", SCITT_ERR_HEADER, "x5chain but iss not a URI"},
    {"a30126182141010fa2016a6469643a783530393a3002617b", SCITT_OK, "x5chain, iss did:x509:0"},
    {"a30126182141010fa20168313a6578616d706c02617b", SCITT_ERR_HEADER,
     "iss scheme starts with a digit"},
    {"a30126182141010fa201686874747073 3a2f2f02617b", SCITT_OK, "iss https://"},
    {"a301261822822f41aa0fa20164613a206202617b", SCITT_ERR_HEADER, "x5t, iss with a space"},
    {"a301260441310fa2016002617b", SCITT_ERR_HEADER, "iss: kid, iss empty"},
    {"a30126182141010fa2016002617b", SCITT_ERR_HEADER, "iss: x5chain, iss empty"},
};

static void test_statement_profile(void **state)
{
    (void)state;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    for (size_t i = 0; i < sizeof(profile_rows) / sizeof(profile_rows[0]); i++) {
        char *p = squeeze(profile_rows[i].prot);
        uint8_t *keep;
        assert_int_equal(decode_buckets(p, "a0", 0, m, &keep), SCITT_OK);
        scitt_err e = scitt_cose_check_statement(m);
        if (e != profile_rows[i].want) {
            fail_msg("row %zu (%s): got %s, want %s", i, profile_rows[i].why, scitt_err_name(e),
                     scitt_err_name(profile_rows[i].want));
        }
        /* The reason names the rule: rows about iss ("iss: ...") and only those say "iss ...". */
        const char *why = NULL;
        assert_int_equal(scitt_cose_check_statement_why(m, &why), e);
        bool iss_row = strncmp(profile_rows[i].why, "iss", 3) == 0 ||
                       strstr(profile_rows[i].why, "iss not a URI") != NULL ||
                       strstr(profile_rows[i].why, "iss with") != NULL ||
                       strstr(profile_rows[i].why, "iss scheme") != NULL;
        if (e == SCITT_OK ? why != NULL
                          : (why == NULL || (strncmp(why, "iss ", 4) == 0) != iss_row)) {
            fail_msg("row %zu (%s): reason \"%s\"", i, profile_rows[i].why, why ? why : "(none)");
        }
        free(keep);
        free(p);
    }
    /* kid only unprotected does not name the key in a signed way. */
    uint8_t *keep;
    assert_int_equal(decode_buckets("a201260fa2016361626302617b", "a1044131", 0, m, &keep),
                     SCITT_OK);
    assert_int_equal(scitt_cose_check_statement(m), SCITT_ERR_HEADER);
    free(keep);
    free(m);
}

static void test_header_encoding(void **state)
{
    (void)state;
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    scitt_span certs[2] = {scitt_span_make("\x01", 1), scitt_span_make("\x02", 1)};
    scitt_cose_label extra_l[2] = {{true, 0, scitt_span_str("svn")}, {false, -70000, {NULL, 0}}};
    scitt_span extra_v[2] = {scitt_span_make("\x18\x68", 2), scitt_span_make("\xf5", 1)};
    spec.extra_labels = extra_l;
    spec.extra_values = extra_v;
    spec.nextra = 2;
    spec.payload_hash_alg = SCITT_COSE_ALG_SHA384;
    spec.preimage_content_type.present = true;
    spec.preimage_content_type.is_text = true;
    spec.preimage_content_type.text = scitt_span_str("application/octet-stream");
    spec.x5chain = certs;
    spec.nx5chain = 2;
    spec.cwt = true;
    spec.cwt_iss = scitt_span_str("did:x509:0:sha256:abc::eku:1.2");
    spec.cwt_sub = scitt_span_str("ContainerPlat-AMD-UVM");
    spec.alg = SCITT_COSE_ALG_PS384;
    uint8_t buf[512];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(scitt_cose_headers_encode(&spec, &w), SCITT_OK);
    /* Keys in bytewise order of their encodings: 01, 0f, 18 21, 19 01 02, 19 01 03,
     * 3a 00 01 11 6f, 63 "svn". */
    static const uint8_t order[][6] = {{0x01},
                                       {0x0f},
                                       {0x18, 0x21},
                                       {0x19, 0x01, 0x02},
                                       {0x19, 0x01, 0x03},
                                       {0x3a, 0x00, 0x01, 0x11, 0x6f},
                                       {0x63, 's', 'v', 'n'}};
    static const size_t order_len[] = {1, 1, 2, 3, 3, 5, 4};
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, scitt_span_make(buf, w.len));
    size_t n;
    assert_int_equal(scitt_cbor_read_map(&r, &n), SCITT_OK);
    assert_int_equal(n, 7);
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_item it;
        assert_int_equal(scitt_cbor_next(&r, &it), SCITT_OK);
        assert_int_equal(it.size, order_len[i]);
        assert_memory_equal(buf + it.offset, order[i], order_len[i]);
        assert_int_equal(scitt_cbor_skip(&r, NULL), SCITT_OK);
    }
    assert_int_equal(scitt_cbor_reader_finish(&r), SCITT_OK);
    /* It decodes back under the same rules (a hash envelope without content type 3). */
    char hex[SCITT_HEX_LEN(512)];
    assert_int_equal(scitt_hex_encode(scitt_span_make(buf, w.len), hex, sizeof(hex)), SCITT_OK);
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    uint8_t *keep;
    assert_int_equal(decode_buckets(hex, "a0", 0, m, &keep), SCITT_OK);
    assert_int_equal(m->hdr.payload_hash_alg, SCITT_COSE_ALG_SHA384);
    assert_int_equal(m->hdr.nx5chain, 2);
    assert_int_equal(scitt_cose_check_statement(m), SCITT_OK);
    free(keep);
    free(m);
    /* A repeated label is refused. */
    extra_l[1] = (scitt_cose_label){false, 1, {NULL, 0}};
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(scitt_cose_headers_encode(&spec, &w), SCITT_ERR_DUPLICATE_KEY);
    /* So is an extra value that is not one CBOR item. */
    extra_l[1] = (scitt_cose_label){false, 99, {NULL, 0}};
    extra_v[1] = scitt_span_make("\x01\x02", 2);
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(scitt_cose_headers_encode(&spec, &w), SCITT_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_table),    cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_too_many_labels), cmocka_unit_test(test_statement_profile),
        cmocka_unit_test(test_header_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
