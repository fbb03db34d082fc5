/*
 * Hostile requests against the running daemon. Each row is one request built to break one rule
 * (malformed and non-canonical CBOR, wrong tags and array sizes, deep nesting, huge declared
 * lengths, duplicate labels, alg and crit abuse, missing or oversized or non-UTF-8 claims, bad
 * and DER-encoded signatures, x5chain garbage and mismatched keys, hash-envelope violations,
 * empty and 10 MB bodies, wrong media types, broken framing, slow-loris headers and bodies,
 * thousands of idle connections; and admission: parameters that only an unprotected header
 * carries, an x5t naming another certificate, expired and not yet valid statements, subjects
 * reserved for the service, x509_roots leaves for another purpose, another iss or revoked).
 * Statement rows are signed with the issuer's real key, so each is refused for the rule it breaks.
 * Every row must get its 4xx with valid concise problem details (or, for the connection-level rows,
 * a close in time), and after every row a valid registration must succeed at the next index: the
 * hostile requests never change the tree.
 *
 * Run as `test_scittd_hostile <case>`; each ctest entry runs one case with its own daemon.
 */
#include "certgen.h"
#include "hostile_cbor.h"

#include "scitt/policy.h"

static sd_daemon sd;
static sd_issuer alice, mallory;
static scitt_cose_keyset *keys;
static uint64_t tree_size; /* what the log must hold: policy entry + valid registrations */
static unsigned hostile_rows;

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    sd_issuer_init(&mallory, SCITT_COSE_ALG_ES256, "https://mallory.example");
    hostile_rows = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt_cose_keyset_free(keys);
    keys = NULL;
    sd_issuer_clear(&alice);
    sd_issuer_clear(&mallory);
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

/* Starts scittd with a policy pinning alice's key (with @p extra members, may be NULL) or the
 * development policy, and short timeouts for the connection-level rows. */
static void start_ex(bool development, const char *extra)
{
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, extra);
    const char *args[] = {"--header-timeout-ms",
                          "1000",
                          "--body-timeout-ms",
                          "1500",
                          development ? NULL : "--policy",
                          sd_path(&sd, "policy.json"),
                          NULL};
    sd_start(&sd, args);
    keys = sd_keys(&sd);
    tree_size = 1; /* the policy statement */
}

static void start(bool development)
{
    start_ex(development, NULL);
}

/* Starts scittd with the policy document @p doc. */
static void start_doc(const char *doc)
{
    sd_write_file(sd_path(&sd, "policy.json"), doc, strlen(doc));
    sd_start_policy(&sd, NULL);
    keys = sd_keys(&sd);
    tree_size = 1;
}

/* A valid registration between hostile rows: it must land at the next index. */
static void valid_between(const sd_issuer *is, const scitt_span *x5chain)
{
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"valid\": %llu}", (unsigned long long)tree_size);
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = is->iss;
    o.sub = "pkg:hostile";
    o.with_kid = x5chain == NULL;
    o.x5chain = x5chain;
    o.nx5chain = x5chain ? 1 : 0;
    o.content_type = "application/json";
    assert_int_equal(su_statement(is->key, &o, scitt_span_str(payload), &st), SCITT_OK);
    uint64_t idx = sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL);
    if (idx != tree_size) {
        fail_msg("a valid registration landed at %llu, wanted %llu: a hostile row changed the "
                 "tree",
                 (unsigned long long)idx, (unsigned long long)tree_size);
    }
    tree_size++;
    scitt_dynbuf_clear(&st);
}

/* The checkpoint says exactly the registrations this test made. */
static void expect_tree_size(void)
{
    sd_config c;
    sd_get_config(&sd, &c);
    sd_checkpoint cp;
    sd_get_checkpoint(&sd, &c, &cp);
    assert_int_equal(cp.cp.size, tree_size);
}

/* ---- statement rows ---- */

typedef struct hrow {
    const char *why;
    scitt_dynbuf body;
    const char *title; /* NULL: any title (the status is always checked) */
} hrow;

#define MAX_ROWS 48
static hrow rows[MAX_ROWS];
static size_t nrows;

static scitt_dynbuf *row(const char *why, const char *title)
{
    assert_true(nrows < MAX_ROWS);
    hrow *r = &rows[nrows++];
    r->why = why;
    r->title = title;
    scitt_dynbuf_init(&r->body, 0);
    return &r->body;
}

/* POSTs every row (400 with problem details each), a valid registration after each. */
static void run_rows(const sd_issuer *valid, const scitt_span *x5chain)
{
    for (size_t i = 0; i < nrows; i++) {
        hrow *h = &rows[i];
        assert_int_equal(h->body.err, SCITT_OK);
        it_resp *r = sd_post(&sd, scitt_span_make(h->body.ptr, h->body.len), NULL);
        char t[512], d[512];
        if (r->status != 400) {
            fail_msg("row %zu (%s): status %d", i, h->why, r->status);
        }
        it_problem(r, t, d, sizeof(t));
        print_message("row %zu (%s): %s: %s\n", i, h->why, t, d);
        if (h->title && strcmp(t, h->title) != 0) {
            fail_msg("row %zu (%s): title \"%s\", wanted \"%s\"", i, h->why, t, h->title);
        }
        free(r);
        scitt_dynbuf_clear(&h->body);
        hostile_rows++;
        valid_between(valid, x5chain);
    }
    nrows = 0;
}

/* The protected header of a well-formed row: {1: -7, 3: json, 4: kid, 15: {1: iss, 2: sub}}. */
static void std_prot(scitt_dynbuf *p, const sd_issuer *is, unsigned extra)
{
    scitt_dynbuf_init(p, 0);
    hc_head(p, 5, 4 + extra);
    hc_alg(p);
    hc_ctype(p);
    hc_kid(p, is);
    hc_cwt(p, is->iss, "pkg:hostile");
}

static scitt_span S(const scitt_dynbuf *b)
{
    return scitt_span_make(b->ptr, b->len);
}

#define M   "Malformed request"
/* The statement profile's rules on iss (RFC 9943), whatever signs the statement. */
#define ISS "Invalid Issuer"

/* Malformed and non-canonical CBOR, wrong tags and arrays, nesting, lengths, duplicates. */
static void test_hostile_cbor(void **state)
{
    (void)state;
    start(false);
    scitt_dynbuf p, q, *b;
    std_prot(&p, &alice, 0);

    row("an empty body", M);
    hc_raw(row("a CBOR null", M), "f6");
    b = row("an indefinite-length array", M);
    hc_sign1(&alice, "d29f", S(&p), "a0", "{}", SIG_RAW, b);
    scitt_dynbuf_u8(b, 0xff);
    hc_sign1(&alice, "d81284", S(&p), "a0", "{}", SIG_RAW, row("tag 18 in a two-byte head", M));
    hc_sign1(&alice, "d29804", S(&p), "a0", "{}", SIG_RAW, row("array head not shortest", M));
    b = row("three elements", M);
    hc_raw(b, "d283");
    hc_bstr(b, S(&p));
    hc_raw(b, "a0");
    hc_bstr(b, scitt_span_str("{}"));
    b = row("five elements", M);
    hc_sign1(&alice, "d285", S(&p), "a0", "{}", SIG_RAW, b);
    scitt_dynbuf_u8(b, 0x00);
    hc_sign1(&alice, "d184", S(&p), "a0", "{}", SIG_RAW, row("tag 17 (COSE_Mac0)", M));
    hc_sign1(&alice, "d2d284", S(&p), "a0", "{}", SIG_RAW, row("tag 18 twice", M));
    b = row("the protected bstr's length not shortest", M);
    hc_raw(b, "d284");
    hc_raw(b, "5900");
    scitt_dynbuf_u8(b, (uint8_t)p.len);
    scitt_dynbuf_put(b, p.ptr, p.len);
    hc_raw(b, "a0");
    {
        scitt_span pl = scitt_span_str("{}");
        hc_bstr(b, pl);
        hc_signature(&alice, S(&p), &pl, SIG_RAW, b);
    }
    scitt_dynbuf_init(&q, 0); /* alg -7 written as 38 06 instead of 26 */
    hc_raw(&q, "a4013806");
    scitt_dynbuf_put(&q, p.ptr + 3, p.len - 3);
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("alg as a non-shortest integer", M));
    scitt_dynbuf_clear(&q);
    b = row("an indefinite-length payload", M);
    hc_raw(b, "d284");
    hc_bstr(b, S(&p));
    hc_raw(b, "a05f427b7dff");
    hc_signature(&alice, S(&p), &(scitt_span){(const uint8_t *)"{}", 2}, SIG_RAW, b);
    b = row("60,000 nested arrays in the unprotected header", M);
    hc_raw(b, "d284");
    hc_bstr(b, S(&p));
    hc_raw(b, "a11864");
    for (int i = 0; i < 60000; i++) {
        scitt_dynbuf_u8(b, 0x81);
    }
    hc_raw(b, "00427b7d");
    hc_signature(&alice, S(&p), &(scitt_span){(const uint8_t *)"{}", 2}, SIG_RAW, b);
    b = row("30,000 nested tags", M);
    for (int i = 0; i < 30000; i++) {
        scitt_dynbuf_u8(b, 0xc6);
    }
    scitt_dynbuf_u8(b, 0x00);
    std_prot(&q, &alice, 1); /* label 100: 20 nested arrays, past the depth limit of 16 */
    hc_raw(&q, "1864");
    for (int i = 0; i < 20; i++) {
        scitt_dynbuf_u8(&q, 0x81);
    }
    scitt_dynbuf_u8(&q, 0x00);
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW,
             row("nesting past the limit in the protected header", M));
    scitt_dynbuf_clear(&q);
    scitt_dynbuf_init(&q, 0);
    hc_raw(&q, "a11864");
    for (int i = 0; i < 40; i++) {
        scitt_dynbuf_u8(&q, 0x81);
    }
    scitt_dynbuf_u8(&q, 0x00);
    {
        char hex[256] = "";
        for (size_t i = 0; i < q.len; i++) {
            snprintf(hex + 2 * i, 3, "%02x", q.ptr[i]);
        }
        hc_sign1(&alice, "d284", S(&p), hex, "{}", SIG_RAW,
                 row("nesting past the limit in the unprotected header", M));
    }
    scitt_dynbuf_clear(&q);
    hc_raw(row("a bstr declaring 2^64-1 bytes", M), "d2845bffffffffffffffff");
    hc_raw(row("an array declaring 2^32 items", M), "d29b0000000100000000");
    b = row("an unprotected map declaring 2^63 pairs", M);
    hc_raw(b, "d284");
    hc_bstr(b, S(&p));
    hc_raw(b, "bb7fffffffffffffff");
    hc_raw(row("a protected bstr longer than the body", M), "d2845a00100000a10126");
    std_prot(&q, &alice, 1);
    hc_alg(&q);
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW,
             row("a duplicate label in the protected header", M));
    scitt_dynbuf_clear(&q);
    hc_sign1(&alice, "d284", S(&p), "a204400440", "{}", SIG_RAW,
             row("a duplicate label in the unprotected header", M));
    scitt_dynbuf_init(&q, 0);
    hc_head(&q, 5, 4);
    hc_alg(&q);
    hc_ctype(&q);
    hc_kid(&q, &alice);
    hc_raw(&q, "0fa3");
    hc_int(&q, 1);
    hc_text(&q, alice.iss);
    hc_int(&q, 1);
    hc_text(&q, alice.iss);
    hc_int(&q, 2);
    hc_text(&q, "pkg:hostile");
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("a duplicate CWT claim", M));
    scitt_dynbuf_clear(&q);
    hc_sign1(&alice, "d284", S(&p), "a10126", "{}", SIG_RAW, row("alg in both buckets", M));
    scitt_dynbuf_init(&q, 0);
    hc_raw(&q, "820126");
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("protected header an array", M));
    scitt_dynbuf_clear(&q);
    b = row("protected header a text string", M);
    hc_raw(b, "d284");
    hc_head(b, 3, p.len);
    scitt_dynbuf_put(b, p.ptr, p.len);
    hc_raw(b, "a0427b7d");
    hc_signature(&alice, S(&p), &(scitt_span){(const uint8_t *)"{}", 2}, SIG_RAW, b);
    scitt_dynbuf_init(&q, 0);
    scitt_dynbuf_put(&q, p.ptr, p.len);
    scitt_dynbuf_u8(&q, 0x00);
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW,
             row("a trailing byte inside the protected bstr", M));
    scitt_dynbuf_clear(&q);
    std_prot(&q, &alice, 1);
    hc_raw(&q, "410000");
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("a bstr header label", M));
    scitt_dynbuf_clear(&q);
    scitt_dynbuf_init(&q, 0);
    hc_raw(&q, "a401fb401c000000000000");
    scitt_dynbuf_put(&q, p.ptr + 3, p.len - 3);
    hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("alg as a float", NULL));
    scitt_dynbuf_clear(&q);
    b = row("true in place of the payload", M);
    hc_raw(b, "d284");
    hc_bstr(b, S(&p));
    hc_raw(b, "a0f5");
    hc_signature(&alice, S(&p), NULL, SIG_RAW, b);
    run_rows(&alice, NULL);
    scitt_dynbuf_clear(&p);
    expect_tree_size();
    print_message("hostile: %u CBOR rows refused, %llu valid registrations between them\n",
                  hostile_rows, (unsigned long long)tree_size - 1);
    assert_true(hostile_rows >= 28);
    sd_stop(&sd);
}

/* A protected header {1: -7, 3: json, 4: kid} plus @p cwt_hex (label 15 and its value) and
 * @p more_hex (further labels, sorted after 15), with @p n_more of them. */
static void prot_with(scitt_dynbuf *q, const char *alg_hex, const char *cwt_hex, size_t n_more,
                      const char *more_hex)
{
    scitt_dynbuf_init(q, 0);
    size_t n = 2 + (size_t)(alg_hex[0] != 0) + (size_t)(cwt_hex[0] != 0) + n_more;
    hc_head(q, 5, n);
    hc_raw(q, alg_hex);
    hc_ctype(q);
    hc_kid(q, &alice);
    hc_raw(q, cwt_hex);
    hc_raw(q, more_hex);
}

/* alg, crit, claims, UTF-8, signatures, hash envelopes, receipts in the wrong bucket. */
static void test_hostile_headers(void **state)
{
    (void)state;
    start(false);
    char iss[64], cwt[256], big_hex[2 * 8300];
    text_hex(iss, sizeof(iss), alice.iss);
    cwt_hex(cwt, sizeof(cwt), iss);
    scitt_dynbuf p, q;
    std_prot(&p, &alice, 0);
#define ROWQ(alg, cwt_, n, more, why, title)                                                       \
    do {                                                                                           \
        prot_with(&q, alg, cwt_, n, more);                                                         \
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row(why, title));                     \
        scitt_dynbuf_clear(&q);                                                                    \
    } while (0)
    ROWQ("", cwt, 0, "", "no alg", M);
    prot_with(&q, "", cwt, 0, "");
    hc_sign1(&alice, "d284", S(&q), "a10126", "{}", SIG_RAW, row("alg only unprotected", M));
    scitt_dynbuf_clear(&q);
    ROWQ("01654553323536", cwt, 0, "", "alg as text", NULL);
    ROWQ("0139fde7", cwt, 0, "", "an unknown alg", "Bad Signature Algorithm");
    ROWQ("0126028119270f", cwt, 2, "19270f00", "crit names an unknown label", M);
    ROWQ("012602"
         "80",
         cwt, 1, "", "crit empty", M);
    ROWQ("0126028119"
         "0103",
         cwt, 1, "", "crit names an absent label", M);
    prot_with(&q, "0126", cwt, 0, "");
    hc_sign1(&alice, "d284", S(&q), "a1028101", "{}", SIG_RAW, row("crit unprotected", M));
    scitt_dynbuf_clear(&q);
    ROWQ("0126", "0fa1026b706b673a686f7374696c65", 0, "", "no iss", M);
    ROWQ("0126", "", 0, "", "no CWT claims", M);
    {
        static char longiss[8194];
        memset(longiss, 'a', 8193);
        memcpy(longiss, "https://", 8);
        text_hex(big_hex, sizeof(big_hex), longiss);
        static char bigcwt[sizeof(big_hex) + 64];
        cwt_hex(bigcwt, sizeof(bigcwt), big_hex);
        ROWQ("0126", bigcwt, 0, "", "an iss of 8193 characters", ISS);
    }
    cwt_hex(cwt, sizeof(cwt), "60");
    ROWQ("0126", cwt, 0, "", "an empty iss", ISS);
    cwt_hex(cwt, sizeof(cwt), "6668747470fffe");
    ROWQ("0126", cwt, 0, "", "iss not UTF-8", M);
    cwt_hex(cwt, sizeof(cwt), iss);
    char badsub[128];
    snprintf(badsub, sizeof(badsub), "0fa201%s0263eda080", iss); /* a surrogate */
    ROWQ("0126", badsub, 0, "", "sub not UTF-8", M);
    cwt_hex(cwt, sizeof(cwt), "1864");
    ROWQ("0126", cwt, 0, "", "iss an integer", M);
    cwt_hex(cwt, sizeof(cwt), iss);
    ROWQ("0126", "0f820102", 0, "", "CWT claims an array", M);
    {
        /* content type with an invalid UTF-8 byte, in place of the standard one */
        scitt_dynbuf_init(&q, 0);
        hc_raw(&q, "a40126");
        hc_raw(&q, "0363c0af41");
        hc_kid(&q, &alice);
        hc_raw(&q, cwt);
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("content type not UTF-8", M));
        scitt_dynbuf_clear(&q);
        /* kid an integer */
        scitt_dynbuf_init(&q, 0);
        hc_raw(&q, "a40126");
        hc_ctype(&q);
        hc_raw(&q, "0405");
        hc_raw(&q, cwt);
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("kid an integer", M));
        scitt_dynbuf_clear(&q);
    }
    hc_sign1(&alice, "d284", S(&p), "a0", "{}", SIG_DER, row("a DER-encoded signature", NULL));
    hc_sign1(&alice, "d284", S(&p), "a0", "{}", SIG_SHORT, row("a 63-byte signature", NULL));
    hc_sign1(&alice, "d284", S(&p), "a0", "{}", SIG_ZERO,
             row("an all-zero signature", "Bad Signature"));
    hc_sign1(&alice, "d284", S(&p), "a0", "{}", SIG_EMPTY, row("an empty signature", NULL));
    hc_sign1(&alice, "d284", S(&p), "a0", "{}", SIG_TEXT, row("a text signature", M));
    hc_sign1(&mallory, "d284", S(&p), "a0", "{}", SIG_RAW,
             row("alice's headers signed by another key", "Bad Signature"));
    /* RFC 9995 hash envelopes: 258 protected with the right digest length, no 3, 259/260
     * protected only. Payloads here are 32 bytes unless the row is about the length. */
    static const char d32[] = "0123456789abcdef0123456789abcdef",
                      d31[] = "0123456789abcdef0123456789abcde";
    /* Each: the hex before the kid, the hex after the CWT claims, unprotected, payload. */
    struct {
        const char *pre, *post, *unprot, *payload, *why;
    } env[] = {
        {"a50126036141", "1901022f", "a0", d32, "hash envelope with a content type (3)"},
        {"a40126", "190103614a", "a0", d32, "preimage type (259) without 258"},
        {"a30126", "", "a11901022f", d32, "258 unprotected"},
        {"a40126", "1901022f", "a0", d31, "258 SHA-256 over 31 bytes"},
        {"a40126", "19010239fde7", "a0", d32, "258 an unknown hash algorithm"},
        {"a40126", "1901022f", "a11901046468747470", d32, "260 unprotected"},
        {"a40126", "19018a80", "a0", "{}", "receipts (394) protected"},
    };
    for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
        scitt_dynbuf_init(&q, 0);
        hc_raw(&q, env[i].pre);
        hc_kid(&q, &alice);
        hc_raw(&q, cwt);
        hc_raw(&q, env[i].post);
        hc_sign1(&alice, "d284", S(&q), env[i].unprot, env[i].payload, SIG_RAW,
                 row(env[i].why, NULL));
        scitt_dynbuf_clear(&q);
    }
#undef ROWQ
    run_rows(&alice, NULL);
    scitt_dynbuf_clear(&p);
    expect_tree_size();
    print_message("hostile: %u header rows refused\n", hostile_rows);
    assert_true(hostile_rows >= 30);
    sd_stop(&sd);
}

/* x5chain under the development policy (the leaf's key verifies): garbage, wrong types, empty,
 * truncated, too long, and a leaf whose key is not the signer's. */
static void test_hostile_x5chain(void **state)
{
    (void)state;
    start(true);
    EVP_PKEY *ak = su_evp(alice.key), *mk = su_evp(mallory.key);
    int64_t now = (int64_t)time(NULL);
    X509 *ac = su_cert(ak, "alice", NULL, NULL, false, now - 3600, now + 86400, NULL);
    X509 *mc = su_cert(mk, "mallory", NULL, NULL, false, now - 3600, now + 86400, NULL);
    scitt_span a_der = su_der(ac), m_der = su_der(mc);
    char iss[64], cwt[256];
    text_hex(iss, sizeof(iss), alice.iss);
    cwt_hex(cwt, sizeof(cwt), iss);
    /* {1: -7, 3: json, 15: cwt, 33: <x5chain>} */
    scitt_dynbuf q;
#define X5(why, title, ...)                                                                        \
    do {                                                                                           \
        scitt_dynbuf_init(&q, 0);                                                                  \
        hc_raw(&q, "a40126");                                                                      \
        hc_ctype(&q);                                                                              \
        hc_raw(&q, cwt);                                                                           \
        hc_raw(&q, "1821");                                                                        \
        __VA_ARGS__;                                                                               \
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row(why, title));                     \
        scitt_dynbuf_clear(&q);                                                                    \
    } while (0)
    X5("x5chain of garbage bytes", NULL, hc_bstr(&q, scitt_span_str("not a certificate")));
    X5("x5chain an integer", M, hc_int(&q, 7));
    X5("x5chain an empty array", M, hc_raw(&q, "80"));
    X5("x5chain a truncated certificate", NULL,
       hc_bstr(&q, scitt_span_make(a_der.ptr, a_der.len - 10)));
    X5("x5chain of 17 certificates", NULL, {
        hc_head(&q, 4, 17);
        for (int i = 0; i < 17; i++) {
            hc_bstr(&q, a_der);
        }
    });
    X5("x5chain with a trailing byte after the certificate", NULL, {
        scitt_dynbuf t;
        scitt_dynbuf_init(&t, 0);
        scitt_dynbuf_put(&t, a_der.ptr, a_der.len);
        scitt_dynbuf_u8(&t, 0);
        hc_bstr(&q, S(&t));
        scitt_dynbuf_clear(&t);
    });
    X5("x5chain leaf of another key", "Bad Signature", hc_bstr(&q, m_der));
    X5("x5chain array with a text string", M, hc_raw(&q, "816161"));
#undef X5
    {
        /* With a certificate binding, iss must be a URI of at most 8192 characters. */
        static char longiss[8194];
        memset(longiss, 'a', 8193);
        memcpy(longiss, "https://", 8);
        scitt_dynbuf_init(&q, 0);
        hc_raw(&q, "a40126");
        hc_ctype(&q);
        hc_cwt(&q, longiss, "pkg:hostile");
        hc_raw(&q, "1821");
        hc_bstr(&q, a_der);
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("an iss of 8193 characters", ISS));
        scitt_dynbuf_clear(&q);
        scitt_dynbuf_init(&q, 0);
        hc_raw(&q, "a40126");
        hc_ctype(&q);
        hc_cwt(&q, "not a uri", "pkg:hostile");
        hc_raw(&q, "1821");
        hc_bstr(&q, a_der);
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW, row("an iss that is not a URI", ISS));
        scitt_dynbuf_clear(&q);
    }
    run_rows(&alice, &a_der);
    expect_tree_size();
    print_message("hostile: %u x5chain rows refused\n", hostile_rows);
    assert_true(hostile_rows >= 10);
    OPENSSL_free((void *)a_der.ptr);
    OPENSSL_free((void *)m_der.ptr);
    X509_free(ac);
    X509_free(mc);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(mk);
    sd_stop(&sd);
}

/* Lowercase hex of @p b into @p out (for hc_sign1's unprotected header). */
static const char *hexof(const scitt_dynbuf *b, char *out, size_t cap)
{
    assert_true(2 * b->len < cap);
    for (size_t i = 0; i < b->len; i++) {
        snprintf(out + 2 * i, 3, "%02x", b->ptr[i]);
    }
    out[2 * b->len] = 0;
    return out;
}

/*
 * Admission decided on what the log keeps: parameters only in the unprotected header (which the
 * log replaces by {}) never satisfy a rule; subjects under "scittd/" are the service's.
 */
static void test_hostile_admission(void **state)
{
    (void)state;
    /* alice's pinned key with a content-type allow-list, and an x509_roots rule binding iss to
     * the leaf's SAN URI, with a CRL */
    int64_t now = (int64_t)time(NULL);
    sd_issuer builder;
    sd_issuer_init(&builder, SCITT_COSE_ALG_ES256, "https://x509.example/pipeline/7");
    scitt_cose_key *cak;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &cak), SCITT_OK);
    EVP_PKEY *ca = su_evp(cak), *bk = su_evp(builder.key);
    X509 *cac = su_cert(ca, "Release CA", NULL, NULL, true, now - 86400, now + 86400 * 30, NULL);
    const char *ds = "critical,digitalSignature", *uri = "URI:https://x509.example/pipeline/7";
    X509 *leaves[3] = {
        su_leaf(bk, "builder", ca, cac, now - 3600, now + 86400, ds, "serverAuth", uri),
        su_leaf(bk, "builder", ca, cac, now - 3600, now + 86400, ds, "codeSigning",
                "URI:https://x509.example/pipeline/8"),
        su_leaf(bk, "builder", ca, cac, now - 3600, now + 86400, ds, "codeSigning", uri),
    };
    char *crl = su_crl_pem(ca, cac, &leaves[2], 1, now - 3600, now + 86400);
    char *cap = su_pem(cac), *ca_j = su_json_escape(cap), *crl_j = su_json_escape(crl);
    static char doc[16384];
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"content_types\": [\"application/json\"], \"issuers\": ["
             "{\"iss\": \"%s\", \"keys\": [%s]}, {\"iss_prefix\": \"https://x509.example/\", "
             "\"x509_roots\": [\"%s\"], \"bind_iss\": \"san_uri\", \"crls\": [\"%s\"]}]}\n",
             alice.iss, alice.jwk, ca_j, crl_j);
    free(crl);
    free(cap);
    free(ca_j);
    free(crl_j);
    start_doc(doc);
    EVP_PKEY *ak = su_evp(alice.key);
    X509 *ac = su_cert(ak, "alice", NULL, NULL, false, now - 3600, now + 86400, NULL);
    scitt_span a_der = su_der(ac);
    scitt_dynbuf q, u;
    char uhex[1024];

    /* {1: -7, 4: kid, 15: cwt}, content type {3: json} only unprotected */
    scitt_dynbuf_init(&q, 0);
    hc_head(&q, 5, 3);
    hc_alg(&q);
    hc_kid(&q, &alice);
    hc_cwt(&q, alice.iss, "pkg:hostile");
    scitt_dynbuf_init(&u, 0);
    hc_head(&u, 5, 1);
    hc_ctype(&u);
    hc_sign1(&alice, "d284", S(&q), hexof(&u, uhex, sizeof(uhex)), "{}", SIG_RAW,
             row("the allowed content type only in the unprotected header", "Rejected"));
    scitt_dynbuf_clear(&q);
    scitt_dynbuf_clear(&u);

    /* {1: -7, 3: json, 15: cwt, 33: alice's certificate}, the pinned kid only unprotected */
    scitt_dynbuf_init(&q, 0);
    hc_head(&q, 5, 4);
    hc_alg(&q);
    hc_ctype(&q);
    hc_cwt(&q, alice.iss, "pkg:hostile");
    hc_raw(&q, "1821");
    hc_bstr(&q, a_der);
    scitt_dynbuf_init(&u, 0);
    hc_head(&u, 5, 1);
    hc_kid(&u, &alice);
    hc_sign1(&alice, "d284", S(&q), hexof(&u, uhex, sizeof(uhex)), "{}", SIG_RAW,
             row("the pinned kid only in the unprotected header", "Rejected"));
    scitt_dynbuf_clear(&q);
    scitt_dynbuf_clear(&u);

    /* x5t (34) naming another certificate than the x5chain leaf, and x5t without x5chain */
    X509 *oc = su_cert(ak, "someone else", NULL, NULL, false, now - 3600, now + 86400, NULL);
    scitt_span o_der = su_der(oc);
    uint8_t h[32];
    scitt_sha256(o_der.ptr, o_der.len, h);
    for (int with_chain = 1; with_chain >= 0; with_chain--) {
        scitt_dynbuf_init(&q, 0);
        hc_head(&q, 5, 5 + (unsigned)with_chain);
        hc_alg(&q);
        hc_ctype(&q);
        hc_kid(&q, &alice);
        hc_cwt(&q, alice.iss, "pkg:hostile");
        if (with_chain) {
            hc_raw(&q, "1821");
            hc_bstr(&q, a_der);
        }
        hc_raw(&q, "1822822f"); /* 34: [-16, h] */
        hc_bstr(&q, scitt_span_make(h, 32));
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW,
                 with_chain ? row("x5t names another certificate than the x5chain leaf",
                                  "Certificate Thumbprint Mismatch")
                            : row("x5t without an x5chain", "Unverifiable Certificate Thumbprint"));
        scitt_dynbuf_clear(&q);
    }
    OPENSSL_free((void *)o_der.ptr);
    X509_free(oc);

    /* CWT exp in 1970, CWT nbf in 2100 */
    for (int which = 0; which < 2; which++) {
        scitt_dynbuf_init(&q, 0);
        hc_head(&q, 5, 4);
        hc_alg(&q);
        hc_ctype(&q);
        hc_kid(&q, &alice);
        hc_int(&q, 15);
        hc_head(&q, 5, 3);
        hc_int(&q, 1);
        hc_text(&q, alice.iss);
        hc_int(&q, 2);
        hc_text(&q, "pkg:hostile");
        hc_int(&q, which == 0 ? 4 : 5);
        hc_int(&q, which == 0 ? 0 : 4102444800);
        hc_sign1(
            &alice, "d284", S(&q), "a0", "{}", SIG_RAW,
            which == 0
                ? row("a statement that expired in 1970 (CWT exp 0)", "Statement Expired")
                : row("a statement not valid before 2100 (CWT nbf)", "Statement Not Yet Valid"));
        scitt_dynbuf_clear(&q);
    }

    /* Reserved subjects: alice's own statement, and one naming the service's receipt kid. */
    static const char *const reserved[] = {SCITT_POLICY_SUBJECT, "scittd/anything"};
    for (size_t i = 0; i < 2; i++) {
        scitt_dynbuf_init(&q, 0);
        hc_head(&q, 5, 4);
        hc_alg(&q);
        hc_ctype(&q);
        hc_kid(&q, &alice);
        hc_cwt(&q, alice.iss, reserved[i]);
        hc_sign1(&alice, "d284", S(&q), "a0", "{}", SIG_RAW,
                 row("a reserved subject, signed by a registrant", "Reserved Subject"));
        scitt_dynbuf_clear(&q);
    }
    scitt_dynbuf_init(&q, 0);
    hc_head(&q, 5, 4);
    hc_alg(&q);
    hc_ctype(&q);
    hc_int(&q, 4);
    hc_bstr(&q, scitt_cose_key_kid(scitt_cose_keyset_at(keys, 0)));
    hc_cwt(&q, alice.iss, SCITT_POLICY_SUBJECT);
    hc_sign1(&alice, "d284", S(&q), "a0", "{\"version\": 1}", SIG_RAW,
             row("the policy subject under the service's receipt kid, signed by a registrant",
                 "Reserved Subject"));
    scitt_dynbuf_clear(&q);

    /* x509_roots: a TLS leaf, a leaf whose SAN URI is another iss, a revoked leaf */
    static const char *const why[3] = {
        "an x5chain leaf for TLS (serverAuth), not code signing",
        "an x5chain leaf whose SAN URI is not the iss (bind_iss)",
        "a revoked x5chain leaf (the policy's CRL)",
    };
    scitt_span lder[3];
    for (size_t i = 0; i < 3; i++) {
        lder[i] = su_der(leaves[i]);
        scitt_dynbuf_init(&q, 0);
        hc_head(&q, 5, 4);
        hc_alg(&q);
        hc_ctype(&q);
        hc_cwt(&q, builder.iss, "pkg:hostile");
        hc_raw(&q, "1821");
        hc_bstr(&q, lder[i]);
        hc_sign1(&builder, "d284", S(&q), "a0", "{}", SIG_RAW, row(why[i], "Rejected"));
        scitt_dynbuf_clear(&q);
    }

    run_rows(&alice, NULL);
    /* ...while a code-signing leaf with the iss as SAN URI, not revoked, is admitted */
    X509 *good = su_leaf(bk, "builder", ca, cac, now - 3600, now + 86400, ds, "codeSigning", uri);
    scitt_span gder[2] = {su_der(good), su_der(cac)};
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = builder.iss;
    o.sub = "pkg:hostile";
    o.x5chain = gder;
    o.nx5chain = 2;
    o.content_type = "application/json";
    scitt_dynbuf gs;
    scitt_dynbuf_init(&gs, 0);
    assert_int_equal(su_statement(builder.key, &o, scitt_span_str("{}"), &gs), SCITT_OK);
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(gs.ptr, gs.len), NULL, NULL),
                     tree_size++);
    scitt_dynbuf_clear(&gs);
    OPENSSL_free((void *)gder[0].ptr);
    OPENSSL_free((void *)gder[1].ptr);
    X509_free(good);
    expect_tree_size();
    print_message("hostile: %u admission rows refused\n", hostile_rows);
    assert_true(hostile_rows >= 12);
    for (size_t i = 0; i < 3; i++) {
        OPENSSL_free((void *)lder[i].ptr);
        X509_free(leaves[i]);
    }
    X509_free(cac);
    EVP_PKEY_free(ca);
    EVP_PKEY_free(bk);
    scitt_cose_key_free(cak);
    sd_issuer_clear(&builder);
    OPENSSL_free((void *)a_der.ptr);
    X509_free(ac);
    EVP_PKEY_free(ak);
    sd_stop(&sd);
}

/* ---- connection-level rows ---- */

/* Sends without failing the test when the server has stopped reading (it may close first). */
static void send_quiet(it_conn *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        b += w;
        n -= (size_t)w;
    }
}

/*
 * One raw request on a fresh connection: the answer must be @p status with problem details,
 * within 5 s, and with @p closes the connection must close within 3 s after it.
 */
static void raw_row(const char *why, const void *req, size_t len, int status, bool closes)
{
    it_conn *c = sd_connect(&sd);
    send_quiet(c, req, len);
    it_resp *r = malloc(sizeof(*r));
    assert_non_null(r);
    if (it_read(c, r, 5000, false) != 1) {
        fail_msg("%s: no answer", why);
    }
    if (r->status != status) {
        fail_msg("%s: status %d, wanted %d", why, r->status, status);
    }
    char t[512], d[512];
    it_problem(r, t, d, sizeof(t));
    print_message("http row (%s): %d %s: %s\n", why, r->status, t, d);
    if (closes && !it_closed(c, 3000)) {
        fail_msg("%s: the connection stayed open", why);
    }
    free(r);
    it_close(c);
    hostile_rows++;
    valid_between(&alice, NULL);
}

static void raw_rows(void)
{
    static const struct {
        const char *why, *req;
        int status;
        bool closes;
    } t[] = {
        {"application/cbor instead of application/cose",
         "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cbor\r\n"
         "Content-Length: 2\r\n\r\n{}",
         415, false},
        {"no content type", "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}", 415,
         false},
        {"no length", "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n\r\n",
         411, false},
        {"Content-Length with Transfer-Encoding",
         "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
         "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400, true},
        {"two different Content-Lengths",
         "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
         "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
         400, true},
        {"Content-Length not a number",
         "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
         "Content-Length: 2x\r\n\r\n{}",
         400, true},
        {"a chunk size that is not hex",
         "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
         "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
         400, true},
        {"no Host", "GET /checkpoint HTTP/1.1\r\n\r\n", 400, true},
        {"obs-fold header", "GET /checkpoint HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400,
         true},
        {"dot segments are not resolved", "GET /entries/../checkpoint HTTP/1.1\r\nHost: t\r\n\r\n",
         404, false},
        {"an entry ID in upper case",
         "GET /entries/ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789 "
         "HTTP/1.1\r\nHost: t\r\n\r\n",
         404, false},
        {"a query value that is not percent-encoded UTF-8",
         "GET /query?iss=%ZZ HTTP/1.1\r\nHost: t\r\n\r\n", 400, false},
        {"a query limit of -1", "GET /query?limit=-1 HTTP/1.1\r\nHost: t\r\n\r\n", 400, false},
        {"a consistency proof backwards",
         "GET /proofs/consistency?from=5&to=2 HTTP/1.1\r\nHost: t\r\n\r\n", 400, false},
        {"a consistency proof past the end",
         "GET /proofs/consistency?from=1&to=99999999999999999999 HTTP/1.1\r\nHost: t\r\n\r\n", 400,
         false},
        {"a tile index with a sign", "GET /tile/0/-01 HTTP/1.1\r\nHost: t\r\n\r\n", 404, false},
        {"a method the route does not take",
         "PUT /entries HTTP/1.1\r\nHost: t\r\n"
         "Content-Length: 0\r\n\r\n",
         405, false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        raw_row(t[i].why, t[i].req, strlen(t[i].req), t[i].status, t[i].closes);
    }
    /* A NUL inside a header value, a 20 KB header, a 10 KB target. */
    static const char nul[] = "GET /checkpoint HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n";
    raw_row("a NUL in a header value", nul, sizeof(nul) - 1, 400, true);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_str(&b, "GET /checkpoint HTTP/1.1\r\nHost: t\r\nX-Big: ");
    for (int i = 0; i < 20000; i++) {
        scitt_dynbuf_u8(&b, 'a');
    }
    scitt_dynbuf_str(&b, "\r\n\r\n");
    raw_row("a 20 KB header", b.ptr, b.len, 431, true);
    b.len = 0;
    scitt_dynbuf_str(&b, "GET /");
    for (int i = 0; i < 10000; i++) {
        scitt_dynbuf_u8(&b, 'a');
    }
    scitt_dynbuf_str(&b, " HTTP/1.1\r\nHost: t\r\n\r\n");
    raw_row("a 10 KB target", b.ptr, b.len, 414, true);
    /* 10 MB bodies: refused from the headers (or the first chunk) before they are read. */
    b.len = 0;
    scitt_dynbuf_str(&b, "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
                         "Content-Length: 10485760\r\n\r\n");
    size_t head = b.len;
    for (size_t i = 0; i < (10u << 20); i++) {
        scitt_dynbuf_u8(&b, 0x5a);
    }
    raw_row("a 10 MB body", b.ptr, head, 413, true);
    {
        /* The whole body sent anyway: the answer still comes, then the close. */
        it_conn *c = sd_connect(&sd);
        send_quiet(c, b.ptr, b.len);
        it_resp *r = sd_recv(c);
        sd_expect_problem(r, 413, "Content Too Large", NULL);
        free(r);
        assert_true(it_closed(c, 5000));
        it_close(c);
        hostile_rows++;
    }
    b.len = 0;
    scitt_dynbuf_str(&b, "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
                         "Transfer-Encoding: chunked\r\n\r\na00000\r\n");
    raw_row("a 10 MB chunk", b.ptr, b.len, 413, true);
    scitt_dynbuf_clear(&b);
}

/* Slow-loris headers and bodies get 408 and a close in time; a silent connection is closed. */
static void slow_rows(void)
{
    static const char *const starts[2] = {
        "POST /entries HTTP/1.1\r\nHost: t\r\nX-Slow: ",
        "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
        "Content-Length: 1000\r\n\r\n",
    };
    for (int k = 0; k < 2; k++) {
        it_conn *c = sd_connect(&sd);
        it_sends(c, starts[k]);
        double t0 = it_now();
        it_resp *r = malloc(sizeof(*r));
        int got = -1;
        /* A byte every 100 ms: never enough to finish, always enough to look alive. */
        while (got != 1 && it_now() - t0 < 6) {
            send_quiet(c, "a", 1);
            got = it_read(c, r, 100, false);
        }
        double took = it_now() - t0;
        if (got != 1) {
            fail_msg("slow %s: no answer after %.1f s", k ? "body" : "headers", took);
        }
        sd_expect_problem(r, 408, "Request Timeout", NULL);
        print_message("http row (slow %s): 408 after %.2f s\n", k ? "body" : "headers", took);
        assert_true(took < (k ? 1.5 : 1.0) + 2.0);
        assert_true(it_closed(c, 3000));
        free(r);
        it_close(c);
        hostile_rows++;
        valid_between(&alice, NULL);
    }
    it_conn *c = sd_connect(&sd);
    double t0 = it_now();
    assert_true(it_closed(c, 4000));
    print_message("http row (silent connection): closed after %.2f s\n", it_now() - t0);
    it_close(c);
    hostile_rows++;
}

/*
 * A connection to the daemon from source address 127.1.0.@p host (Linux routes all of 127/8 to
 * loopback), so that a test can be many clients; -1 when it cannot connect.
 */
static int connect_from(unsigned host)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in src = {0};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f010000u | host);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)sd.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Thousands of idle connections (from 20 client addresses, each under the per-address cap):
 * registrations go on meanwhile, and every one is closed. */
static void idle_thousands(void)
{
    size_t lim = it_raise_nofile();
    size_t n = lim > 2200 ? 2000 : lim - 200;
    assert_true(n >= 500);
    int *fds = calloc(n, sizeof(int));
    for (size_t i = 0; i < n; i++) {
        fds[i] = connect_from(1 + (unsigned)(i % 20));
        assert_true(fds[i] >= 0);
    }
    /* Half of them start a request and never finish its headers. */
    for (size_t i = 0; i < n; i += 2) {
        (void)!send(fds[i], "GET /checkpoint HTTP/1.1\r\n", 26, MSG_NOSIGNAL);
    }
    double t0 = it_now();
    valid_between(&alice, NULL);
    double reg = it_now() - t0;
    size_t open = n;
    while (open > 0 && it_now() - t0 < 8) {
        for (size_t i = 0; i < n; i++) {
            if (fds[i] < 0) {
                continue;
            }
            struct pollfd p = {fds[i], POLLIN, 0};
            if (poll(&p, 1, 0) == 1) {
                char buf[4096];
                ssize_t r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
                if (r <= 0) {
                    close(fds[i]);
                    fds[i] = -1;
                    open--;
                }
            }
        }
        it_sleep_ms(20);
    }
    print_message("http row (%zu idle connections): a registration took %.2f s meanwhile, %zu "
                  "still open after %.1f s\n",
                  n, reg, open, it_now() - t0);
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    free(fds);
    assert_true(reg < 5);
    assert_int_equal(open, 0);
    hostile_rows++;
}

static void test_hostile_http(void **state)
{
    (void)state;
    it_raise_nofile(); /* before the start, so that the daemon inherits the limit too */
    start(false);
    raw_rows();
    slow_rows();
    idle_thousands();
    expect_tree_size();
    print_message("hostile: %u connection-level rows answered or closed\n", hostile_rows);
    assert_true(hostile_rows >= 26);
    sd_stop(&sd);
}

/* ---- what one client can take: memory, time, threads (a TLS daemon with bearer tokens) ---- */

static const char limits_token[] = "Authorization: Bearer hostile-token-0123456789\r\n";

/* A field of /proc/<pid>/status in KiB. */
static long status_kb(const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)sd.srv.pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long v = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':') {
            v = atol(line + strlen(field) + 1);
        }
    }
    fclose(f);
    assert_true(v >= 0);
    return v;
}

/* A valid registration (with the token) between rows: it must land at the next index. */
static void valid_with_token(void)
{
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"valid\": %llu}", (unsigned long long)tree_size);
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:hostile", payload, &st);
    it_resp *r = sd_post(&sd, scitt_span_make(st.ptr, st.len), limits_token);
    if (r->status != 201) {
        fail_msg("a valid registration answered %d", r->status);
    }
    scitt_receipt_info info;
    sd_verify_receipt(sd_body(r), scitt_span_make(st.ptr, st.len), keys, &info);
    assert_int_equal(info.leaf_index, tree_size);
    tree_size++;
    free(r);
    scitt_dynbuf_clear(&st);
    hostile_rows++;
}

/* A TLS client with a 4 KB receive buffer, non-blocking once connected. */
static it_conn *slow_tls_conn(unsigned host)
{
    it_conn *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in src = {0};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f010000u | host);
    assert_int_equal(bind(c->fd, (struct sockaddr *)&src, sizeof(src)), 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)sd.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    c->ssl = SSL_new(sd.tls);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    assert_int_equal(SSL_connect(c->ssl), 1);
    return c;
}

/*
 * 16 pipelined GETs of the first entry bundle (the policy entry and 16 statements of 60 KB: 1 MB
 * each, 16 MB in all, more than the kernel's socket buffers take), the last with Connection:
 * close when @p close_last.
 */
static void ask_bundles(it_conn *c, bool close_last)
{
    char path[64], req[8192] = "";
    assert_int_equal(scitt_tile_entries_path(0, 17, path, sizeof(path)), SCITT_OK);
    for (int i = 0; i < 16; i++) {
        size_t l = strlen(req);
        snprintf(req + l, sizeof(req) - l, "GET /%s HTTP/1.1\r\nHost: t\r\n%s\r\n", path,
                 close_last && i == 15 ? "Connection: close\r\n" : "");
    }
    it_sends(c, req);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

/* 8: after a request that closes the connection, a TLS client that reads none of its answers
 * sends 24 MB more: dropped undecrypted, not buffered (it all used to pile up in OpenSSL's read
 * BIO until the connection closed). */
static void row_tls_flood(void)
{
    long before = status_kb("RssAnon"), peak = before;
    it_conn *c = slow_tls_conn(20);
    ask_bundles(c, true);
    static char garbage[65536];
    memset(garbage, 'G', sizeof(garbage));
    uint64_t sent = 0;
    double t0 = it_now(), progress = t0;
    while (sent < (24u << 20) && it_now() - progress < 1 && it_now() - t0 < 6) {
        int w = SSL_write(c->ssl, garbage, sizeof(garbage));
        if (w > 0) {
            sent += (uint64_t)w;
            progress = it_now();
        } else {
            ERR_clear_error();
            it_sleep_ms(5);
        }
        long rss = status_kb("RssAnon");
        peak = rss > peak ? rss : peak;
    }
    print_message("limits row (TLS flood after Connection: close): %llu bytes sent, anonymous RSS "
                  "%ld -> peak %ld KiB\n",
                  (unsigned long long)sent, before, peak);
    /* One connection's share: its buffer, one request, one response, its TLS buffers. */
    assert_true(peak - before < 4096);
    it_close(c);
    valid_with_token();
}

/* 9: a reader taking 200 bytes every 100 ms cannot hold its answers past the send deadline
 * (1.5 s here), however steadily it reads; HEAD gives the length of a GET and no body. */
static void row_trickle(char ids[16][65])
{
    it_conn *c = slow_tls_conn(21);
    ask_bundles(c, false);
    double t0 = it_now();
    bool closed = false;
    size_t got = 0;
    while (!closed && it_now() - t0 < 10) {
        char buf[200];
        int r = SSL_read(c->ssl, buf, sizeof(buf));
        if (r > 0) {
            got += (size_t)r;
        } else {
            int e = SSL_get_error(c->ssl, r);
            ERR_clear_error();
            closed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
        }
        /* OpenSSL may still hold a whole record to hand out: ask the socket itself. */
        struct pollfd p = {c->fd, POLLRDHUP, 0};
        closed = closed || (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLRDHUP)));
        it_sleep_ms(100);
    }
    double took = it_now() - t0;
    print_message("limits row (trickle reader): closed after %.1f s and %zu bytes\n", took, got);
    assert_true(closed);
    assert_true(got > 0);
    assert_true(took < 5);
    it_close(c);
    char path[128] = "/entries/";
    memcpy(path + 9, ids[0], 64);
    memcpy(path + 73, "/statement", 11);
    it_resp *r = sd_get(&sd, path);
    size_t len = r->body_len;
    free(r);
    c = sd_connect(&sd);
    sd_send(c, "HEAD", path, NULL, scitt_span_make(NULL, 0));
    r = malloc(sizeof(*r));
    assert_int_equal(it_read(c, r, 5000, true), 1);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->content_length, len);
    free(r);
    it_close(c);
    valid_with_token();
}

/* 9: one address opening 300 connections keeps 256; the rest are closed at once, and other
 * clients are served meanwhile. */
static void row_one_address(void)
{
    enum { N = 300 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = connect_from(22);
        assert_true(fds[i] >= 0);
    }
    size_t closed = 0;
    double t0 = it_now();
    /* until the 44 are closed (a loaded machine accepts slowly; at most 10 s), then 0.5 s more
     * in which no kept connection may close */
    double settle = 0;
    while (it_now() - t0 < 10 && (settle == 0 || it_now() < settle)) {
        if (settle == 0 && closed >= N - 256) {
            settle = it_now() + 0.5;
        }
        for (int i = 0; i < N; i++) {
            struct pollfd p = {fds[i], POLLIN, 0};
            char b[16];
            if (fds[i] >= 0 && poll(&p, 1, 0) == 1 && recv(fds[i], b, sizeof(b), 0) <= 0) {
                close(fds[i]);
                fds[i] = -1;
                closed++;
            }
        }
        it_sleep_ms(50);
    }
    print_message("limits row (300 connections from one address): %zu closed at once\n", closed);
    assert_int_equal(closed, N - 256);
    valid_with_token();
    for (int i = 0; i < N; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
}

/* 10: a wrong token is refused when the headers end: no body is read, the connection closes. */
static void row_token_first(void)
{
    it_conn *c = sd_connect(&sd);
    it_sends(c, "POST /entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/cose\r\n"
                "Authorization: Bearer not-the-token-0123\r\nContent-Length: 60000\r\n\r\n");
    it_resp *r = malloc(sizeof(*r));
    assert_int_equal(it_read(c, r, 3000, false), 1);
    sd_expect_problem(r, 401, "Unauthorized", NULL);
    assert_true(it_closed(c, 3000));
    print_message("limits row (wrong token, body not sent): 401 at once, closed\n");
    free(r);
    it_close(c);
    valid_with_token();
}

/* 11 and 13: 120 /query requests at once against one costly-read thread: each is answered, 200
 * or 503 with Retry-After, and a registration made meanwhile goes through. */
static void row_query_flood(void)
{
    enum { N = 120 };
    static it_conn *cs[N];
    for (int i = 0; i < N; i++) {
        cs[i] = sd_connect(&sd);
    }
    for (int i = 0; i < N; i++) {
        sd_send(cs[i], "GET", "/query?sub=pkg:hostile&iss=nobody&limit=1000", NULL,
                scitt_span_make(NULL, 0));
    }
    double t0 = it_now();
    valid_with_token();
    double reg = it_now() - t0;
    int ok = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        it_resp *r = sd_recv(cs[i]);
        if (r->status == 503) {
            sd_expect_problem(r, 503, "Service Unavailable", NULL);
            char v[16];
            assert_non_null(it_header(r, "Retry-After", v, sizeof(v)));
            busy++;
        } else {
            assert_int_equal(r->status, 200);
            ok++;
        }
        free(r);
        it_close(cs[i]);
    }
    print_message("limits row (%d queries at once): %d answered, %d told to retry; a registration "
                  "took %.0f ms meanwhile\n",
                  N, ok, busy, reg * 1000);
    assert_int_equal(ok + busy, N);
}

/* 12: a content type cut at 255 bytes inside a character does not break /query pages. */
static void row_query_utf8(void)
{
    char ctype[300];
    memset(ctype, 'a', 254);
    memcpy(ctype + 254, "\xc3\xa9", 3);
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = alice.iss;
    o.sub = "pkg:hostile";
    o.with_kid = true;
    o.content_type = ctype;
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    assert_int_equal(su_statement(alice.key, &o, scitt_span_str("{\"utf8\": 1}"), &st), SCITT_OK);
    it_resp *r = sd_post(&sd, scitt_span_make(st.ptr, st.len), limits_token);
    assert_int_equal(r->status, 201);
    free(r);
    tree_size++;
    scitt_dynbuf_clear(&st);
    r = sd_get(&sd, "/query?limit=1000");
    assert_int_equal(r->status, 200);
    scitt_cbor_reader rd;
    scitt_cbor_reader_init(&rd, sd_body(r));
    assert_int_equal(scitt_cbor_skip(&rd, NULL), SCITT_OK); /* strict: text must be UTF-8 */
    assert_int_equal(scitt_cbor_reader_finish(&rd), SCITT_OK);
    free(r);
    print_message("limits row (content type cut inside a character): /query still answers\n");
    hostile_rows++;
    valid_with_token();
}

static void test_hostile_limits(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* TLS writes to a connection the daemon cut off */
    it_raise_nofile();
    char cert[256], key[256], tok[256], pol[256];
    snprintf(cert, sizeof(cert), "%s", sd_path(&sd, "cert.pem"));
    snprintf(key, sizeof(key), "%s", sd_path(&sd, "key.pem"));
    snprintf(tok, sizeof(tok), "%s", sd_path(&sd, "tokens"));
    snprintf(pol, sizeof(pol), "%s", sd_path(&sd, "policy.json"));
    assert_true(certgen_write(cert, key));
    sd.tls = SSL_CTX_new(TLS_client_method());
    assert_int_equal(SSL_CTX_load_verify_locations(sd.tls, cert, NULL), 1);
    SSL_CTX_set_verify(sd.tls, SSL_VERIFY_PEER, NULL);
    const char tokens[] = "  hostile-token-0123456789\n"; /* 13: an indented line */
    sd_write_file(tok, tokens, strlen(tokens));
    const sd_issuer *list[] = {&alice};
    sd_write_policy(pol, list, 1, NULL);
    const char *args[] = {"--policy",
                          pol,
                          "--auth-tokens",
                          tok,
                          "--tls-cert",
                          cert,
                          "--tls-key",
                          key,
                          "--send-timeout-ms",
                          "1500",
                          "--costly-read-workers",
                          "1",
                          NULL};
    sd_start(&sd, args);
    keys = sd_keys(&sd);
    tree_size = 1;
    /* 16 statements of about 60 KB: the first entry bundle the rows ask for is 1 MB. */
    char ids[16][65];
    static char payload[60000];
    for (int i = 0; i < 16; i++) {
        snprintf(payload, sizeof(payload), "{\"n\": %d, \"pad\": \"", i);
        size_t l = strlen(payload);
        memset(payload + l, 'p', sizeof(payload) - l - 3);
        memcpy(payload + sizeof(payload) - 3, "\"}", 3);
        scitt_dynbuf st, entry;
        sd_statement(&alice, "pkg:hostile/big", payload, &st);
        sd_entry(scitt_span_make(st.ptr, st.len), &entry, ids[i]);
        it_resp *r = sd_post(&sd, scitt_span_make(st.ptr, st.len), limits_token);
        assert_int_equal(r->status, 201);
        free(r);
        tree_size++;
        scitt_dynbuf_clear(&st);
        scitt_dynbuf_clear(&entry);
    }
    row_tls_flood();
    row_trickle(ids);
    row_one_address();
    row_token_first();
    row_query_flood();
    row_query_utf8();
    expect_tree_size();
    print_message("hostile: %u limit rows held\n", hostile_rows);
    assert_true(hostile_rows >= 6);
    sd_stop(&sd);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hostile_cbor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_x5chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_admission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_limits, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
