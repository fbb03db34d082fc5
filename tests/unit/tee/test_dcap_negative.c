/*
 * Every link of the DCAP chain attacked on every real sample: each mutation must be refused with
 * the error class and reason of the link it breaks (a check removed or moved shows up as another
 * reason or a pass). The baseline of each sample is verified first, so a mutation that is refused
 * is refused because of the mutation.
 *   quote:       body, header, signature, QE report, its signature, its binding, attestation key,
 *                every truncation, trailing bytes;
 *   PCK chain:   a foreign root in the quote, the impostor root (Intel's names, another key)
 *                pinned or presented, chains cut, swapped or mixed from another sample;
 *   collateral:  TCB info and QE identity bytes flipped, another FMSPC's or TEE's documents,
 *                the impostor root in an issuer chain, CRLs of the wrong issuer, a time outside
 *                every window (collateral, CRL, certificates), required files missing.
 */
#include "dcap_test.h"

#include "scitt/json.h"

typedef struct base {
    const dt_sample *s;
    uint8_t *quote;
    size_t len;
    scitt_dcap_collateral *c;
    scitt_dcap_verify_opts o;
    unsigned skip;  /* collateral items left out */
    scitt_err want; /* the baseline outcome */
    scitt_tee_reason want_why;
} base;

/* Each sample set up so that its baseline gets through every check but the TCB status it has. */
static void base_open(base *b, int which)
{
    memset(b, 0, sizeof(*b));
    b->s = &dt_samples[which];
    b->quote = dt_load(b->s->quote, &b->len);
    /* the mobilecoin PCK CRL is stale (test_dcap_vectors) */
    b->skip = which == DT_MOBILECOIN ? 1u << SCITT_DCAP_PCK_CRL : 0;
    b->c = dt_collateral(b->s->collateral, b->skip);
    scitt_dcap_verify_opts_init(&b->o, dt_time(b->s->now));
    b->o.accept = 0x7fu << 1; /* every status a list can hold */
    b->want = SCITT_OK;
    b->want_why = SCITT_TEE_OK;
    if (which == DT_SPR_E4) {
        b->o.allow_trailing = true;
        b->want = SCITT_ERR_EVIDENCE;
        b->want_why = SCITT_TEE_DCAP_TCB_NOT_SUPPORTED;
    }
    scitt_dcap_result r;
    DT_EXPECT(scitt_dcap_verify(scitt_span_make(b->quote, b->len), b->c, &b->o, &r), r, b->want,
              b->want_why);
}

static void base_close(base *b)
{
    scitt_dcap_collateral_free(b->c);
    free(b->quote);
}

static scitt_err verify(const base *b, scitt_span quote, const scitt_dcap_collateral *c,
                        const scitt_dcap_verify_opts *o, scitt_dcap_result *r)
{
    scitt_err err = scitt_dcap_verify(quote, c ? c : b->c, o ? o : &b->o, r);
    if (err != SCITT_OK) {
        /* a refusal before the TCB evaluation tells nothing else */
        if (!r->authentic) {
            assert_int_equal(r->tcb_status, SCITT_DCAP_TCB_UNKNOWN);
            assert_int_equal(r->n_advisory_ids, 0);
        }
        assert_int_not_equal(r->why, SCITT_TEE_OK);
    }
    return err;
}

/* ---- the quote ---- */

typedef struct flip {
    const char *what;
    size_t tdx, sgx; /* offsets */
    uint8_t x;       /* the bits flipped (0: 0x01) */
    scitt_err err;
    scitt_tee_reason why;
} flip;

static const flip flips[] = {
    {"body REPORTDATA[0]", 568, 368, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QUOTE_SIG},
    {"body first byte", 48, 48, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QUOTE_SIG},
    {"body last byte", 631, 431, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QUOTE_SIG},
    {"header user_data[0] (signed too)", 28, 28, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QUOTE_SIG},
    {"header QE vendor ID[0]", 12, 12, 0, SCITT_ERR_UNSUPPORTED, SCITT_TEE_DCAP_QE_VENDOR},
    {"quote signature r[0]", 636, 436, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QUOTE_SIG},
    {"quote signature s[31]", 699, 499, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QUOTE_SIG},
    {"attestation key X[0] (off the curve)", 700, 500, 0, SCITT_ERR_SIGNATURE,
     SCITT_TEE_DCAP_ATT_KEY},
    {"QE report signature r[0]", 1154, 948, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QE_REPORT_SIG},
    {"QE report CPUSVN[0]", 770, 564, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QE_REPORT_SIG},
    {"QE report REPORTDATA[0]", 1090, 884, 0, SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QE_REPORT_SIG},
    {"QE auth data[0] (only the binding covers it)", 1220, 1014, 0, SCITT_ERR_BINDING,
     SCITT_TEE_DCAP_QE_BINDING},
    {"attestation key type", 2, 2, 0, SCITT_ERR_UNSUPPORTED, SCITT_TEE_DCAP_KEY_TYPE},
    {"version", 0, 0, 0, SCITT_ERR_UNSUPPORTED, SCITT_TEE_DCAP_VERSION},
    {"signature data length (top byte)", 635, 435, 0, SCITT_ERR_EVIDENCE_MALFORMED,
     SCITT_TEE_DCAP_TRUNCATED},
    {"signature data length (64 bytes shorter)", 632, 432, 0x40, SCITT_ERR_EVIDENCE_MALFORMED,
     SCITT_TEE_DCAP_SIG_DATA},
    {"QE auth data length (beyond the limit)", 1219, 1013, 0x80, SCITT_ERR_EVIDENCE_MALFORMED,
     SCITT_TEE_DCAP_SIG_DATA},
    {"PCK certification data type", 1252, 1046, 0, SCITT_ERR_UNSUPPORTED, SCITT_TEE_DCAP_CERT_TYPE},
    {"PCK certification data size", 1254, 1048, 0, SCITT_ERR_EVIDENCE_MALFORMED,
     SCITT_TEE_DCAP_SIG_DATA},
    {"PCK chain: first BEGIN line", 1258, 1052, 0, SCITT_ERR_EVIDENCE_MALFORMED,
     SCITT_TEE_DCAP_PCK_CHAIN},
};

static void test_quote_flips(void **state)
{
    (void)state;
    for (int i = 0; i < DT_N; i++) {
        base b;
        base_open(&b, i);
        bool tdx = b.s->tee == SCITT_DCAP_TEE_TDX;
        for (size_t k = 0; k < sizeof(flips) / sizeof(flips[0]); k++) {
            const flip *f = &flips[k];
            uint8_t *m = malloc(b.len);
            assert_non_null(m);
            memcpy(m, b.quote, b.len);
            m[tdx ? f->tdx : f->sgx] ^= f->x ? f->x : 0x01;
            scitt_dcap_result r;
            scitt_err err = verify(&b, scitt_span_make(m, b.len), NULL, NULL, &r);
            if (err != f->err || r.why != f->why) {
                fail_msg("%s, %s: got %s/%s, want %s/%s", b.s->id, f->what, scitt_err_name(err),
                         scitt_tee_reason_name(r.why), scitt_err_name(f->err),
                         scitt_tee_reason_name(f->why));
            }
            free(m);
        }
        /* a base64 character inside the PCK certificate's signature (a few characters before
         * its END line), replaced by another base64 character */
        {
            scitt_dcap_quote q;
            assert_int_equal(scitt_dcap_quote_parse(scitt_span_make(b.quote, b.len), &q, NULL),
                             SCITT_OK);
            const char *pem = (const char *)q.cert_data.ptr;
            const char *endl = strstr(pem, "-----END CERTIFICATE-----");
            assert_non_null(endl);
            size_t at = (size_t)(endl - (const char *)b.quote) - 12;
            uint8_t *m = malloc(b.len);
            memcpy(m, b.quote, b.len);
            m[at] = m[at] == 'A' ? 'B' : 'A';
            scitt_dcap_result r;
            DT_EXPECT(verify(&b, scitt_span_make(m, b.len), NULL, NULL, &r), r,
                      SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CHAIN_SIG);
            free(m);
        }
        /* the TEE type: another TEE in a v4 quote is not handled; v3 keeps the field reserved */
        {
            uint8_t *m = malloc(b.len);
            memcpy(m, b.quote, b.len);
            m[4] ^= 0x01;
            scitt_dcap_result r;
            DT_EXPECT(verify(&b, scitt_span_make(m, b.len), NULL, NULL, &r), r,
                      tdx ? SCITT_ERR_UNSUPPORTED : SCITT_ERR_EVIDENCE_MALFORMED,
                      SCITT_TEE_DCAP_TEE_TYPE);
            free(m);
        }
        /* v4 only: the type-6 wrapper around the QE report */
        if (tdx) {
            uint8_t *m = malloc(b.len);
            memcpy(m, b.quote, b.len);
            m[764] ^= 0x01; /* type 6 -> 7 */
            scitt_dcap_result r;
            DT_EXPECT(verify(&b, scitt_span_make(m, b.len), NULL, NULL, &r), r,
                      SCITT_ERR_UNSUPPORTED, SCITT_TEE_DCAP_CERT_TYPE);
            memcpy(m, b.quote, b.len);
            m[766] ^= 0x01; /* its size */
            DT_EXPECT(verify(&b, scitt_span_make(m, b.len), NULL, NULL, &r), r,
                      SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_DCAP_SIG_DATA);
            free(m);
        }
        base_close(&b);
    }
}

/* Every prefix shorter than the signature data is refused by the parser. */
static void test_every_truncation(void **state)
{
    (void)state;
    for (int i = 0; i < DT_N; i++) {
        base b;
        base_open(&b, i);
        scitt_dcap_quote q, cut;
        assert_int_equal(scitt_dcap_quote_parse(scitt_span_make(b.quote, b.len), &q, NULL),
                         SCITT_OK);
        for (size_t n = 0; n < q.quote_len; n++) {
            scitt_tee_reason why = SCITT_TEE_OK;
            scitt_err err = scitt_dcap_quote_parse(scitt_span_make(b.quote, n), &cut, &why);
            if (err != SCITT_ERR_EVIDENCE_MALFORMED || why == SCITT_TEE_OK) {
                fail_msg("%s cut to %zu: %s/%s", b.s->id, n, scitt_err_name(err),
                         scitt_tee_reason_name(why));
            }
        }
        /* one byte short of the signature data: the README's variant */
        scitt_dcap_result r;
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, q.quote_len - 1), NULL, NULL, &r), r,
                  SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_DCAP_TRUNCATED);
        base_close(&b);
    }
}

/* Bytes after the signature data: zeros pass, anything else only when allowed. */
static void test_trailing_bytes(void **state)
{
    (void)state;
    base b;
    base_open(&b, DT_GCP);
    scitt_dcap_quote q;
    assert_int_equal(scitt_dcap_quote_parse(scitt_span_make(b.quote, b.len), &q, NULL), SCITT_OK);
    scitt_dcap_result r;
    /* exactly the quote, no padding */
    DT_EXPECT(verify(&b, scitt_span_make(b.quote, q.quote_len), NULL, NULL, &r), r, SCITT_OK,
              SCITT_TEE_OK);
    uint8_t *m = malloc(b.len);
    memcpy(m, b.quote, b.len);
    m[b.len - 1] = 'x';
    DT_EXPECT(verify(&b, scitt_span_make(m, b.len), NULL, NULL, &r), r,
              SCITT_ERR_EVIDENCE_MALFORMED, SCITT_TEE_DCAP_TRAILING);
    scitt_dcap_verify_opts o = b.o;
    o.allow_trailing = true;
    DT_EXPECT(verify(&b, scitt_span_make(m, b.len), NULL, &o, &r), r, SCITT_OK, SCITT_TEE_OK);
    free(m);
    base_close(&b);
}

/* ---- the PCK chain ---- */

static uint8_t *pem_of_chain(scitt_span quote, size_t *len)
{
    scitt_dcap_quote q;
    assert_int_equal(scitt_dcap_quote_parse(quote, &q, NULL), SCITT_OK);
    uint8_t *p = malloc(q.cert_data.len + 1);
    memcpy(p, q.cert_data.ptr, q.cert_data.len);
    *len = q.cert_data.len;
    while (*len && p[*len - 1] == 0) {
        (*len)--;
    }
    p[*len] = 0;
    return p;
}

/* The @p i-th PEM block of @p pem (0-based) as a new string ending in a newline. */
static char *pem_block(const char *pem, int i)
{
    static const char end[] = "-----END CERTIFICATE-----";
    const char *p = pem;
    for (int k = 0; k < i; k++) {
        p = strstr(p, end);
        assert_non_null(p);
        p += strlen(end);
        while (*p == '\r' || *p == '\n') {
            p++;
        }
    }
    const char *e = strstr(p, end);
    assert_non_null(e);
    e += strlen(end);
    size_t n = (size_t)(e - p);
    char *out = malloc(n + 2);
    assert_non_null(out);
    memcpy(out, p, n);
    out[n] = '\n';
    out[n + 1] = 0;
    return out;
}

static scitt_err with_chain_col(const base *b, const char *a, const char *m, const char *c,
                                const scitt_dcap_collateral *col, scitt_dcap_result *r)
{
    char chain[16384];
    snprintf(chain, sizeof(chain), "%s%s%s", a, m ? m : "", c ? c : "");
    size_t n;
    uint8_t *q = dt_with_cert_data(scitt_span_make(b->quote, b->len),
                                   scitt_span_make(chain, strlen(chain)), &n);
    scitt_err err = verify(b, scitt_span_make(q, n), col, NULL, r);
    free(q);
    return err;
}

static scitt_err with_chain(const base *b, const char *a, const char *m, const char *c,
                            scitt_dcap_result *r)
{
    return with_chain_col(b, a, m, c, NULL, r);
}

static void test_pck_chain(void **state)
{
    (void)state;
    size_t n;
    uint8_t *impostor = dt_load("negative/impostor_root_ca.pem", &n);
    base other;
    base_open(&other, DT_MOBILECOIN); /* a Processor CA chain of another platform */
    size_t olen;
    char *opem = (char *)pem_of_chain(scitt_span_make(other.quote, other.len), &olen);
    char *o_leaf = pem_block(opem, 0), *o_ca = pem_block(opem, 1);
    for (int i = 0; i < DT_N; i++) {
        base b;
        base_open(&b, i);
        size_t plen;
        char *pem = (char *)pem_of_chain(scitt_span_make(b.quote, b.len), &plen);
        char *leaf = pem_block(pem, 0), *ca = pem_block(pem, 1), *root = pem_block(pem, 2);
        scitt_dcap_result r;
        /* the chain rebuilt as it was verifies as before (the fix-ups are right) */
        DT_EXPECT(with_chain(&b, leaf, ca, root, &r), r, b.want, b.want_why);
        /* the impostor root (Intel's subject and serial, another key) in place of the root */
        DT_EXPECT(with_chain(&b, leaf, ca, (char *)impostor, &r), r, SCITT_ERR_UNTRUSTED,
                  SCITT_TEE_DCAP_ROOT_NOT_PINNED);
        /* two or four certificates */
        DT_EXPECT(with_chain(&b, leaf, ca, NULL, &r), r, SCITT_ERR_EVIDENCE_MALFORMED,
                  SCITT_TEE_DCAP_PCK_CHAIN);
        char four[12288];
        snprintf(four, sizeof(four), "%s%s", ca, root);
        DT_EXPECT(with_chain(&b, leaf, four, root, &r), r, SCITT_ERR_EVIDENCE_MALFORMED,
                  SCITT_TEE_DCAP_PCK_CHAIN);
        /* leaf and CA swapped: names no longer chain */
        DT_EXPECT(with_chain(&b, ca, leaf, root, &r), r, SCITT_ERR_CERT_CHAIN,
                  SCITT_TEE_DCAP_CHAIN_NAMES);
        /* the root as the CA: it is issued by itself, not a CA named like the leaf's issuer */
        DT_EXPECT(with_chain(&b, leaf, root, root, &r), r, SCITT_ERR_CERT_CHAIN,
                  SCITT_TEE_DCAP_CHAIN_NAMES);
        if (i != DT_MOBILECOIN) {
            /* a genuine Intel chain of another platform: chains to the root, but its key did not
             * sign this QE report */
            scitt_dcap_collateral *no_pck_crl = dt_collateral(
                b.s->collateral, 1u << SCITT_DCAP_PCK_CRL | 1u << SCITT_DCAP_PCK_CRL_CHAIN);
            DT_EXPECT(with_chain_col(&b, o_leaf, o_ca, root, no_pck_crl, &r), r,
                      SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_QE_REPORT_SIG);
            scitt_dcap_collateral_free(no_pck_crl);
            /* and this platform's PCK CRL does not come from that chain's CA */
            DT_EXPECT(with_chain(&b, o_leaf, o_ca, root, &r), r, SCITT_ERR_CERT_CHAIN,
                      SCITT_TEE_DCAP_CRL_ISSUER);
            /* this leaf under the Processor CA: issuer name differs */
            DT_EXPECT(with_chain(&b, leaf, o_ca, root, &r), r, SCITT_ERR_CERT_CHAIN,
                      SCITT_TEE_DCAP_CHAIN_NAMES);
        }
        /* the impostor pinned: the genuine root in the quote is not it */
        /* SHA-256 of the impostor's DER (PROVENANCE.md) */
        uint8_t fp[32];
        assert_int_equal(
            scitt_hex_decode(
                scitt_span_str("911f4222303a776d1000d52af7e1581472eb44cbb8e6eb8263d4715f2fd60745"),
                fp, 32, NULL),
            SCITT_OK);
        scitt_dcap_verify_opts o = b.o;
        o.root_sha256 = fp;
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), NULL, &o, &r), r, SCITT_ERR_UNTRUSTED,
                  SCITT_TEE_DCAP_ROOT_NOT_PINNED);
        /* the impostor pinned and presented: the genuine CA is not signed by it */
        o.root_sha256 = fp;
        size_t qn;
        char chain[16384];
        snprintf(chain, sizeof(chain), "%s%s%s", leaf, ca, (char *)impostor);
        uint8_t *q = dt_with_cert_data(scitt_span_make(b.quote, b.len),
                                       scitt_span_make(chain, strlen(chain)), &qn);
        DT_EXPECT(verify(&b, scitt_span_make(q, qn), NULL, &o, &r), r, SCITT_ERR_CERT_CHAIN,
                  SCITT_TEE_DCAP_CHAIN_SIG);
        free(q);
        free(leaf);
        free(ca);
        free(root);
        free(pem);
        base_close(&b);
    }
    free(o_leaf);
    free(o_ca);
    free(opem);
    base_close(&other);
    free(impostor);
}

/* ---- time ---- */

static void expect_at(const base *b, const char *iso, scitt_err want, scitt_tee_reason want_why)
{
    scitt_dcap_verify_opts o = b->o;
    o.now = dt_time(iso);
    scitt_dcap_result r;
    scitt_err err = verify(b, scitt_span_make(b->quote, b->len), NULL, &o, &r);
    if (err != want || r.why != want_why) {
        fail_msg("%s at %s: got %s/%s, want %s/%s", b->s->id, iso, scitt_err_name(err),
                 scitt_tee_reason_name(r.why), scitt_err_name(want),
                 scitt_tee_reason_name(want_why));
    }
}

static void test_times(void **state)
{
    (void)state;
    /* {sample, the earliest end of any window + 1 s, the PCK leaf's notBefore and notAfter} */
    static const struct {
        int sample;
        const char *after_end, *last_ok, *before_start, *first_ok;
        const char *leaf_from, *leaf_to;
    } t[] = {
        {DT_SPR_E4, "2023-07-08T07:25:00Z", "2023-07-08T07:24:59Z", "2023-06-18T08:42:57Z",
         "2023-06-18T08:42:58Z", "2022-09-20T13:20:31Z", "2029-09-20T13:20:31Z"},
        {DT_AUTOMATA_TDX, "2025-08-06T09:06:44Z", "2025-08-06T09:06:43Z", "2025-07-07T09:20:25Z",
         "2025-07-07T09:20:26Z", "2024-02-14T12:05:18Z", "2031-02-14T12:05:18Z"},
        {DT_GCP, "2025-08-06T09:06:44Z", "2025-08-06T09:06:43Z", "2025-07-07T09:20:25Z",
         "2025-07-07T09:20:26Z", "2024-07-02T12:07:37Z", "2031-07-02T12:07:37Z"},
        {DT_AUTOMATA_SGX, "2025-09-14T04:36:47Z", "2025-09-14T04:36:46Z", NULL, NULL,
         "2024-03-07T15:01:04Z", "2031-03-07T15:01:04Z"},
        {DT_MOBILECOIN, "2023-08-11T19:56:45Z", "2023-08-11T19:56:44Z", "2023-07-12T20:48:24Z",
         "2023-07-12T20:48:25Z", "2023-06-08T19:32:54Z", "2030-06-08T19:32:54Z"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        base b;
        base_open(&b, t[i].sample);
        expect_at(&b, t[i].last_ok, b.want, b.want_why);
        expect_at(&b, t[i].after_end, SCITT_ERR_EXPIRED, SCITT_TEE_DCAP_COLLATERAL_EXPIRED);
        if (t[i].first_ok) {
            expect_at(&b, t[i].first_ok, b.want, b.want_why);
            expect_at(&b, t[i].before_start, SCITT_ERR_EXPIRED, SCITT_TEE_DCAP_COLLATERAL_EXPIRED);
        }
        /* outside the PCK certificate's validity (a day either side) */
        int64_t from = dt_time(t[i].leaf_from) - 86400, to = dt_time(t[i].leaf_to) + 86400;
        scitt_dcap_verify_opts o = b.o;
        scitt_dcap_result r;
        o.now = from;
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), NULL, &o, &r), r, SCITT_ERR_EXPIRED,
                  SCITT_TEE_CERT_NOT_YET_VALID);
        o.now = to;
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), NULL, &o, &r), r, SCITT_ERR_EXPIRED,
                  SCITT_TEE_CERT_EXPIRED);
        base_close(&b);
    }
    /* the SGX automata PCK CRL opens at 05:41:26 on the day the QE identity was issued */
    base b;
    base_open(&b, DT_AUTOMATA_SGX);
    expect_at(&b, "2025-08-15T05:41:25Z", SCITT_ERR_EXPIRED, SCITT_TEE_DCAP_CRL_EXPIRED);
    expect_at(&b, "2025-08-15T05:41:26Z", b.want, b.want_why);
    base_close(&b);
}

/* ---- collateral ---- */

/* A copy of collateral directory @p dir with @p item replaced by @p bytes. */
static scitt_dcap_collateral *swap(const base *b, scitt_dcap_item item, scitt_span bytes,
                                   scitt_err *set_err)
{
    scitt_dcap_collateral *c = dt_collateral(b->s->collateral, b->skip | 1u << item);
    scitt_tee_reason why;
    *set_err = scitt_dcap_collateral_set(c, item, bytes, &why);
    return c;
}

static void expect_with(const base *b, scitt_dcap_item item, const char *file, size_t flip_at,
                        scitt_err want, scitt_tee_reason want_why, int line)
{
    size_t n;
    uint8_t *bytes = dt_load(file, &n);
    if (flip_at != SIZE_MAX) {
        assert_true(flip_at < n);
        /* one bit flipped, but a hex letter becomes '0' so that the file still parses */
        uint8_t ch = bytes[flip_at];
        bool hex_letter = (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
        bytes[flip_at] = hex_letter ? '0' : (uint8_t)(ch ^ 0x01);
    }
    scitt_err set_err;
    scitt_dcap_collateral *c = swap(b, item, scitt_span_make(bytes, n), &set_err);
    assert_int_equal(set_err, SCITT_OK);
    scitt_dcap_result r;
    scitt_err err = verify(b, scitt_span_make(b->quote, b->len), c, NULL, &r);
    if (err != want || r.why != want_why) {
        fail_msg("line %d, %s with %s: got %s/%s, want %s/%s", line, b->s->id, file,
                 scitt_err_name(err), scitt_tee_reason_name(r.why), scitt_err_name(want),
                 scitt_tee_reason_name(want_why));
    }
    scitt_dcap_collateral_free(c);
    free(bytes);
}
#define EXPECT_WITH(b, item, file, at, want, why)                                                  \
    expect_with(b, item, file, at, want, why, __LINE__)

static void test_collateral(void **state)
{
    (void)state;
    for (int i = 0; i < DT_N; i++) {
        base b;
        base_open(&b, i);
        char f[256];
        bool tdx = b.s->tee == SCITT_DCAP_TEE_TDX;
        /* one bit of tcbEvaluationDataNumber (offset 183 in every TCB info here) */
        snprintf(f, sizeof(f), "%s/tcb_info.json", b.s->collateral);
        EXPECT_WITH(&b, SCITT_DCAP_TCB_INFO, f, 183, SCITT_ERR_SIGNATURE,
                    SCITT_TEE_DCAP_TCB_INFO_SIG);
        /* the signature itself */
        size_t n;
        uint8_t *ti = dt_load(f, &n);
        const char *sig = strstr((char *)ti, "\"signature\":\"");
        assert_non_null(sig);
        EXPECT_WITH(&b, SCITT_DCAP_TCB_INFO, f, (size_t)(sig - (char *)ti) + 13,
                    SCITT_ERR_SIGNATURE, SCITT_TEE_DCAP_TCB_INFO_SIG);
        free(ti);
        /* the isvprodid digit of the QE identity */
        snprintf(f, sizeof(f), "%s/qe_identity.json", b.s->collateral);
        EXPECT_WITH(&b, SCITT_DCAP_QE_IDENTITY, f, tdx ? 387 : 384, SCITT_ERR_SIGNATURE,
                    SCITT_TEE_DCAP_QE_IDENTITY_SIG);
        /* the QE identity of the other TEE's QE (signed by the same key) */
        EXPECT_WITH(&b, SCITT_DCAP_QE_IDENTITY,
                    tdx ? "sgx-automata/collateral/qe_identity.json"
                        : "tdx-automata/collateral/qe_identity.json",
                    SIZE_MAX, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_QE_IDENTITY_TEE);
        /* the TCB info of another platform */
        if (tdx) {
            EXPECT_WITH(&b, SCITT_DCAP_TCB_INFO,
                        i == DT_SPR_E4 ? "tdx-automata/collateral/tcb_info.json"
                                       : "tdx-spr-e4/collateral/tcb_info.json",
                        SIZE_MAX, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_FMSPC);
            EXPECT_WITH(&b, SCITT_DCAP_TCB_INFO, "sgx-automata/collateral/tcb_info.json", SIZE_MAX,
                        SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TCB_INFO_TEE);
        } else {
            EXPECT_WITH(&b, SCITT_DCAP_TCB_INFO,
                        i == DT_MOBILECOIN ? "sgx-automata/collateral/tcb_info.json"
                                           : "sgx-mobilecoin/collateral/tcb_info.json",
                        SIZE_MAX, SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_FMSPC);
            EXPECT_WITH(&b, SCITT_DCAP_TCB_INFO, "tdx-automata/collateral/tcb_info.json", SIZE_MAX,
                        SCITT_ERR_EVIDENCE, SCITT_TEE_DCAP_TCB_INFO_TEE);
        }
        /* issuer chains: the impostor as root; the chain's signer replaced by the root alone */
        char chain[8192];
        snprintf(f, sizeof(f), "%s/tcb_info_issuer_chain.pem", b.s->collateral);
        uint8_t *real = dt_load(f, &n);
        char *signer = pem_block((char *)real, 0);
        uint8_t *imp = dt_load("negative/impostor_root_ca.pem", &n);
        snprintf(chain, sizeof(chain), "%s%s", signer, (char *)imp);
        scitt_err set_err;
        scitt_dcap_collateral *c =
            swap(&b, SCITT_DCAP_TCB_INFO_CHAIN, scitt_span_str(chain), &set_err);
        assert_int_equal(set_err, SCITT_OK);
        scitt_dcap_result r;
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), c, NULL, &r), r, SCITT_ERR_UNTRUSTED,
                  SCITT_TEE_DCAP_ROOT_NOT_PINNED);
        scitt_dcap_collateral_free(c);
        c = swap(&b, SCITT_DCAP_QE_IDENTITY_CHAIN, scitt_span_str(chain), &set_err);
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), c, NULL, &r), r, SCITT_ERR_UNTRUSTED,
                  SCITT_TEE_DCAP_ROOT_NOT_PINNED);
        scitt_dcap_collateral_free(c);
        /* the signer alone (the quote's pinned root is its parent) verifies as before */
        c = swap(&b, SCITT_DCAP_TCB_INFO_CHAIN, scitt_span_str(signer), &set_err);
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), c, NULL, &r), r, b.want, b.want_why);
        scitt_dcap_collateral_free(c);
        /* the root in place of the TCB Signing certificate: a CA, not a signer of documents (and
         * it did not sign the TCB info) */
        char *root = pem_block((char *)real, 1);
        snprintf(chain, sizeof(chain), "%s%s", root, root);
        c = swap(&b, SCITT_DCAP_TCB_INFO_CHAIN, scitt_span_str(chain), &set_err);
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), c, NULL, &r), r, SCITT_ERR_CERT_CHAIN,
                  SCITT_TEE_DCAP_LEAF_USAGE);
        scitt_dcap_collateral_free(c);
        free(root);
        free(signer);
        free(imp);
        free(real);
        base_close(&b);
    }
}

static void test_crls(void **state)
{
    (void)state;
    base b;
    base_open(&b, DT_GCP);
    /* the root CRL given as the PCK CRL, and the PCK CRL as the root CRL */
    EXPECT_WITH(&b, SCITT_DCAP_PCK_CRL, "tdx-automata/collateral/root_ca_crl.der", SIZE_MAX,
                SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_ISSUER);
    EXPECT_WITH(&b, SCITT_DCAP_ROOT_CRL, "tdx-automata/collateral/pck_crl.der", SIZE_MAX,
                SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_ISSUER);
    /* the Processor CA's CRL for a Platform CA certificate */
    EXPECT_WITH(&b, SCITT_DCAP_PCK_CRL, "sgx-mobilecoin/collateral/pck_crl.der", SIZE_MAX,
                SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_ISSUER);
    /* a byte of the CRL's signature (the last bytes of the DER) */
    size_t n;
    uint8_t *crl = dt_load("tdx-automata/collateral/pck_crl.der", &n);
    free(crl);
    EXPECT_WITH(&b, SCITT_DCAP_PCK_CRL, "tdx-automata/collateral/pck_crl.der", n - 3,
                SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_SIG);
    crl = dt_load("tdx-automata/collateral/root_ca_crl.der", &n);
    free(crl);
    EXPECT_WITH(&b, SCITT_DCAP_ROOT_CRL, "tdx-automata/collateral/root_ca_crl.der", n - 3,
                SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_CRL_SIG);
    /* the PCK CRL issuer chain of the Processor CA for a Platform CA quote */
    EXPECT_WITH(&b, SCITT_DCAP_PCK_CRL_CHAIN, "sgx-mobilecoin/collateral/pck_crl_issuer_chain.pem",
                SIZE_MAX, SCITT_ERR_CERT_CHAIN, SCITT_TEE_DCAP_PCK_CRL_CHAIN);
    /* and the right CA with the impostor as its root */
    {
        uint8_t *real = dt_load("tdx-automata/collateral/pck_crl_issuer_chain.pem", &n);
        size_t in;
        uint8_t *imp = dt_load("negative/impostor_root_ca.pem", &in);
        char *ca = pem_block((char *)real, 0);
        char chain[8192];
        snprintf(chain, sizeof(chain), "%s%s", ca, (char *)imp);
        scitt_err set_err;
        scitt_dcap_collateral *c =
            swap(&b, SCITT_DCAP_PCK_CRL_CHAIN, scitt_span_str(chain), &set_err);
        assert_int_equal(set_err, SCITT_OK);
        scitt_dcap_result r;
        DT_EXPECT(verify(&b, scitt_span_make(b.quote, b.len), c, NULL, &r), r, SCITT_ERR_CERT_CHAIN,
                  SCITT_TEE_DCAP_PCK_CRL_CHAIN);
        scitt_dcap_collateral_free(c);
        free(ca);
        free(imp);
        free(real);
    }
    /* an older root CRL (2023-2024) is not current in 2025 */
    EXPECT_WITH(&b, SCITT_DCAP_ROOT_CRL, "tdx-spr-e4/collateral/root_ca_crl.der", SIZE_MAX,
                SCITT_ERR_EXPIRED, SCITT_TEE_DCAP_CRL_EXPIRED);
    base_close(&b);
}

static void test_missing_items(void **state)
{
    (void)state;
    base b;
    base_open(&b, DT_GCP);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        scitt_dcap_collateral *c = dt_collateral(b.s->collateral, 1u << i);
        scitt_dcap_result r;
        scitt_err err = verify(&b, scitt_span_make(b.quote, b.len), c, NULL, &r);
        if (scitt_dcap_item_required((scitt_dcap_item)i)) {
            DT_EXPECT(err, r, SCITT_ERR_NOT_FOUND, SCITT_TEE_DCAP_COLLATERAL_MISSING);
        } else {
            /* optional: verifies, and says which revocation was not checked */
            DT_EXPECT(err, r, SCITT_OK, SCITT_TEE_OK);
            assert_int_equal(r.pck_crl_checked, i != SCITT_DCAP_PCK_CRL);
            assert_int_equal(r.root_crl_checked, i != SCITT_DCAP_ROOT_CRL);
        }
        scitt_dcap_collateral_free(c);
    }
    base_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_flips),    cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_trailing_bytes), cmocka_unit_test(test_pck_chain),
        cmocka_unit_test(test_times),          cmocka_unit_test(test_collateral),
        cmocka_unit_test(test_crls),           cmocka_unit_test(test_missing_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
