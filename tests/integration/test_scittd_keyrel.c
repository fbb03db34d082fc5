/*
 * Attested key release between two real scittd processes on the virtual platform (docs/tee.md,
 * "Key release"):
 *   keyrel_join      a second instance started with --join obtains the first one's keys, signs
 *                    receipts that verify under the first one's published keys, and restarts
 *                    with them after the holder is gone (they were stored in its own keystore);
 *   keyrel_refused   a holder whose policy lists another measurement refuses the joiner (which
 *                    exits non-zero and leaves no data directory); a joiner whose policy the
 *                    holder does not meet refuses the holder;
 *   keyrel_attacks   crafted join bundles against the holder: a replayed bundle (a spent
 *                    challenge), a challenge never issued, evidence binding another key, another
 *                    measurement, another challenge in the evidence, another platform, a
 *                    challenge spent by a refused request, malformed and oversized bodies;
 *   keyrel_tampered  a proxy between joiner and holder flips a byte of the answer: the joiner
 *                    refuses it and stores nothing.
 */
#include "scittd_util.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "scitt/attest.h"
#include "scitt/keyrel.h"

static sd_daemon holder, joiner;
static sd_issuer alice;

static int setup(void **state)
{
    (void)state;
    sd_init(&holder);
    sd_init(&joiner);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://alice.example");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    int a = sd_teardown(&joiner);
    int b = sd_teardown(&holder);
    return a || b;
}

/* The virtual platform's measurement: SHA-384 of the scittd binary, in hex. */
static void binary_measurement(char hex[97])
{
    size_t n;
    uint8_t *bin = tu_read_file(sd_bin(), &n);
    uint8_t h[48];
    scitt_sha384(bin, n, h);
    free(bin);
    assert_int_equal(scitt_hex_encode(scitt_span_make(h, 48), hex, 97), SCITT_OK);
}

/* Writes a virtual key-release policy listing @p meas_hex into the scratch directory of @p d. */
static const char *write_policy(const sd_daemon *d, const char *name, const char *meas_hex)
{
    char text[512];
    int n = snprintf(text, sizeof(text),
                     "{\"platform\": \"virtual\", \"measurements\": [\"%s\"]}\n", meas_hex);
    const char *p = sd_path(d, name);
    sd_write_file(p, text, (size_t)n);
    return p;
}

static void holder_url(char *url, size_t cap, int port)
{
    snprintf(url, cap, "http://127.0.0.1:%d", port);
}

/* @p tmpl with "@" replaced by @p meas and "@64" by its first 64 digits. */
static void expand(const char *tmpl, const char *meas, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 100 < cap; p++) {
        if (*p != '@') {
            out[n++] = *p;
            continue;
        }
        size_t len = strncmp(p, "@64", 3) == 0 ? 64 : 96;
        p += len == 64 ? 2 : 0;
        memcpy(out + n, meas, len);
        n += len;
    }
    out[n] = 0;
}

/* Runs a joiner to completion (it must fail): its exit status, its output in @p out. */
static int run_joiner(const char *url, const char *policy, char *out, size_t cap)
{
    const char *args[] = {"--data",
                          joiner.data,
                          "--listen",
                          "127.0.0.1:0",
                          "--platform",
                          "virtual",
                          "--insecure-virtual",
                          "--join",
                          url,
                          "--key-release-policy",
                          policy,
                          NULL};
    return sd_run(args, out, cap);
}

static bool keysets_equal(const scitt_cose_keyset *a, const scitt_cose_keyset *b)
{
    if (scitt_cose_keyset_count(a) != scitt_cose_keyset_count(b)) {
        return false;
    }
    for (size_t i = 0; i < scitt_cose_keyset_count(a); i++) {
        scitt_span kid = scitt_cose_key_kid(scitt_cose_keyset_at(a, i));
        if (!scitt_cose_keyset_find(b, kid)) {
            return false;
        }
    }
    return true;
}

static void test_keyrel_join(void **state)
{
    (void)state;
    char meas[97], url[64];
    binary_measurement(meas);
    const char *pol = write_policy(&holder, "keyrel.json", meas);
    const char *hargs[] = {"--key-release-policy", pol, NULL};
    sd_start(&holder, hargs);
    holder_url(url, sizeof(url), holder.port);
    const sd_issuer *iss[] = {&alice};
    sd_write_policy(sd_path(&joiner, "policy.json"), iss, 1, NULL);
    const char *jargs[] = {"--join", url, "--key-release-policy", pol, NULL};
    sd_start_policy(&joiner, jargs);

    scitt_cose_keyset *hk = sd_keys(&holder), *jk = sd_keys(&joiner);
    assert_true(keysets_equal(hk, jk));
    sd_config hc, jc;
    sd_get_config(&holder, &hc);
    sd_get_config(&joiner, &jc);
    assert_string_equal(hc.vkey, jc.vkey); /* the checkpoint key too */

    /* the joiner signs receipts that verify under the holder's published keys */
    scitt_dynbuf stmt;
    sd_statement(&alice, "pkg:joined@1", "{\"n\": 1}", &stmt);
    sd_register(&joiner, hk, scitt_span_make(stmt.ptr, stmt.len), NULL, NULL);
    scitt_dynbuf_clear(&stmt);

    /* the keys are the joiner's own now: it restarts without the holder */
    sd_stop(&holder);
    sd_stop(&joiner);
    sd_start_policy(&joiner, jargs);
    scitt_cose_keyset *again = sd_keys(&joiner);
    assert_true(keysets_equal(hk, again));
    sd_statement(&alice, "pkg:joined@2", "{\"n\": 2}", &stmt);
    sd_register(&joiner, hk, scitt_span_make(stmt.ptr, stmt.len), NULL, NULL);
    scitt_dynbuf_clear(&stmt);
    scitt_cose_keyset_free(again);
    scitt_cose_keyset_free(hk);
    scitt_cose_keyset_free(jk);
}

static void test_keyrel_refused(void **state)
{
    (void)state;
    char meas[97], url[64], out[8192];
    binary_measurement(meas);
    char other[97];
    memcpy(other, meas, sizeof(other));
    other[0] = other[0] == 'a' ? 'b' : 'a';
    const char *good = write_policy(&holder, "good.json", meas);
    const char *bad = write_policy(&holder, "other.json", other);

    /* the holder accepts another measurement only */
    const char *hargs[] = {"--key-release-policy", bad, NULL};
    sd_start(&holder, hargs);
    holder_url(url, sizeof(url), holder.port);
    int st = run_joiner(url, bad, out, sizeof(out));
    /* the joiner's own policy (the same file) refuses the holder's evidence first */
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "the holder's evidence does not meet the key-release policy"));
    /* a joiner whose policy names another platform refuses the holder's (virtual) evidence */
    char snp_policy[300];
    snprintf(snp_policy, sizeof(snp_policy), "{\"platform\": \"snp\", \"measurements\": [\"%s\"]}",
             meas);
    const char *snp = sd_path(&holder, "snp.json");
    sd_write_file(snp, snp_policy, strlen(snp_policy));
    st = run_joiner(url, snp, out, sizeof(out));
    if (st != 1 || !strstr(out, "the holder's evidence is of platform \"virtual\", the "
                                "key-release policy requires \"snp\"")) {
        fail_msg("exit %d: %s", st, out);
    }
    /* with a policy the holder meets, the holder refuses the joiner's measurement */
    st = run_joiner(url, good, out, sizeof(out));
    if (st != 1 || !strstr(out, "Evidence refused") ||
        !strstr(out, "the launch measurement is not an allowed one")) {
        fail_msg("exit %d: %s", st, out);
    }
    assert_int_equal(access(joiner.data, F_OK), -1); /* nothing half-made is left */
    /* --join without a policy, and a policy that lists nothing, are usage errors */
    const char *noargs[] = {"--data", joiner.data, "--platform", "virtual", "--insecure-virtual",
                            "--join", url,         NULL};
    assert_int_equal(sd_run(noargs, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--join needs --key-release-policy"));
    const char *empty = sd_path(&holder, "empty.json");
    static const char none[] = "{\"platform\": \"virtual\", \"measurements\": []}";
    sd_write_file(empty, none, strlen(none));
    assert_int_equal(run_joiner(url, empty, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "at least one accepted measurement"));
    /* every other way a policy file is wrong: a usage error naming it, before anything runs */
    static const struct {
        const char *text, *says;
    } bad_policies[] = {
        {"[]", "not a JSON object"},
        {"{\"platform\": \"virtual\", \"measurements\": [\"@\"], \"extra\": 1}", "unknown member"},
        {"{\"measurements\": [\"@\"]}", "\"platform\" must be"},
        {"{\"platform\": \"sgx\", \"measurements\": [\"@\"]}", "\"platform\" must be"},
        {"{\"platform\": \"virtual\", \"measurements\": [\"abcd\"]}", "48 bytes in hex"},
        {"{\"platform\": \"virtual\", \"measurements\": \"@\"}", "must be an array"},
        {"{\"platform\": \"virtual\", \"measurements\": [\"@\"], \"host_data\": [\"@64\"]}",
         "\"host_data\" is for \"snp\" only"},
        {"{\"platform\": \"virtual\", \"measurements\": [\"@\"], \"accept_tcb\": \"UpToDate\"}",
         "\"tdx\" only"},
        {"{\"platform\": \"tdx\", \"measurements\": [\"@\"], \"accept_tcb\": \"Sometimes\"}",
         "list of TCB statuses"},
    };
    for (size_t i = 0; i < sizeof(bad_policies) / sizeof(bad_policies[0]); i++) {
        char text[1024];
        expand(bad_policies[i].text, meas, text, sizeof(text));
        const char *pf = sd_path(&holder, "bad.json");
        sd_write_file(pf, text, strlen(text));
        st = run_joiner(url, pf, out, sizeof(out));
        if (st != 2 || !strstr(out, bad_policies[i].says)) {
            fail_msg("policy %s: exit %d, %s", text, st, out);
        }
    }
}

/* ---- crafted requests against the holder ---- */

static void get_challenge(uint8_t ch[32])
{
    it_resp *r = sd_get(&holder, "/keys/join/challenge");
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 32);
    memcpy(ch, r->body, 32);
    free(r);
}

/* A join bundle: virtual evidence of @p meas binding @p bound_doc with @p nonce; the request
 * carried is @p doc. */
static void make_join(scitt_span doc, scitt_span bound_doc, scitt_span nonce, const uint8_t *meas,
                      const char *platform, scitt_dynbuf *out)
{
    uint8_t rd[64];
    assert_int_equal(scitt_attest_report_data(bound_doc, nonce, rd), SCITT_OK);
    scitt_dynbuf ev;
    scitt_dynbuf_init(&ev, 0);
    assert_int_equal(scitt_attest_virtual_evidence(meas, rd, &ev), SCITT_OK);
    assert_int_equal(scitt_attest_bundle_encode(platform, doc, scitt_span_make(ev.ptr, ev.len),
                                                scitt_span_make(NULL, 0), out),
                     SCITT_OK);
    scitt_dynbuf_clear(&ev);
}

static it_resp *post_join(scitt_span body)
{
    return sd_call(&holder, "POST", "/keys/join", "Content-Type: application/cbor\r\n", body);
}

static void request_doc(const uint8_t ch[32], scitt_keyrel_key *k, scitt_dynbuf *doc)
{
    uint8_t pub[SCITT_KEYREL_PUB_LEN];
    scitt_keyrel_key_public(k, pub);
    scitt_dynbuf_init(doc, 0);
    assert_int_equal(scitt_keyrel_request_encode(ch, pub, doc), SCITT_OK);
}

static void test_keyrel_attacks(void **state)
{
    (void)state;
    char meas_hex[97];
    binary_measurement(meas_hex);
    uint8_t meas[48], other[48];
    size_t n;
    assert_int_equal(scitt_hex_decode(scitt_span_str(meas_hex), meas, 48, &n), SCITT_OK);
    memcpy(other, meas, 48);
    other[0] ^= 1;
    const char *pol = write_policy(&holder, "keyrel.json", meas_hex);
    const char *hargs[] = {"--key-release-policy", pol, NULL};
    sd_start(&holder, hargs);
    scitt_keyrel_key *k, *k2;
    assert_int_equal(scitt_keyrel_key_new(&k), SCITT_OK);
    assert_int_equal(scitt_keyrel_key_new(&k2), SCITT_OK);
    uint8_t ch[32];
    scitt_dynbuf doc, doc2, b, blob;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_init(&blob, 0);

    /* a well-formed join: the keys, encrypted to our key (virtual evidence is forgeable: that is
     * what INSECURE means, and why a TEE holder refuses a "virtual" policy) */
    get_challenge(ch);
    request_doc(ch, k, &doc);
    scitt_span d = scitt_span_make(doc.ptr, doc.len);
    make_join(d, d, scitt_span_make(ch, 32), meas, "virtual", &b);
    it_resp *r = post_join(scitt_span_make(b.ptr, b.len));
    assert_int_equal(r->status, 200);
    uint8_t digest[32];
    scitt_sha256(doc.ptr, doc.len, digest);
    assert_int_equal(scitt_keyrel_unwrap(k, digest, sd_body(r), &blob), SCITT_OK);
    assert_true(blob.len > 0);
    /* another key cannot open what was sent */
    scitt_dynbuf_clear(&blob);
    scitt_dynbuf_init(&blob, 0);
    assert_int_equal(scitt_keyrel_unwrap(k2, digest, sd_body(r), &blob), SCITT_ERR_INTEGRITY);
    free(r);

    /* replay: the same bundle again (its challenge is spent) */
    r = post_join(scitt_span_make(b.ptr, b.len));
    sd_expect_problem(r, 403, "Unknown challenge", "was not issued here");
    free(r);

    /* a challenge the holder never issued */
    uint8_t forged[32];
    memset(forged, 0x77, sizeof(forged));
    scitt_dynbuf_clear(&doc);
    request_doc(forged, k, &doc);
    d = scitt_span_make(doc.ptr, doc.len);
    b.len = 0;
    make_join(d, d, scitt_span_make(forged, 32), meas, "virtual", &b);
    r = post_join(scitt_span_make(b.ptr, b.len));
    sd_expect_problem(r, 403, "Unknown challenge", NULL);
    free(r);

    /* evidence binding another key: the request names k, the evidence binds a request with k2 */
    get_challenge(ch);
    scitt_dynbuf_clear(&doc);
    request_doc(ch, k, &doc);
    request_doc(ch, k2, &doc2);
    d = scitt_span_make(doc.ptr, doc.len);
    b.len = 0;
    make_join(d, scitt_span_make(doc2.ptr, doc2.len), scitt_span_make(ch, 32), meas, "virtual", &b);
    r = post_join(scitt_span_make(b.ptr, b.len));
    sd_expect_problem(r, 403, "Evidence refused", "REPORT_DATA is not the expected value");
    free(r);
    /* ... and that challenge is spent by the refusal: the honest bundle for it comes too late */
    b.len = 0;
    make_join(d, d, scitt_span_make(ch, 32), meas, "virtual", &b);
    r = post_join(scitt_span_make(b.ptr, b.len));
    sd_expect_problem(r, 403, "Unknown challenge", NULL);
    free(r);

    /* evidence made for an older challenge (REPORT_DATA[32:64]) with a fresh request */
    uint8_t old[32];
    memcpy(old, ch, 32);
    get_challenge(ch);
    scitt_dynbuf_clear(&doc);
    request_doc(ch, k, &doc);
    d = scitt_span_make(doc.ptr, doc.len);
    b.len = 0;
    make_join(d, d, scitt_span_make(old, 32), meas, "virtual", &b);
    r = post_join(scitt_span_make(b.ptr, b.len));
    sd_expect_problem(r, 403, "Evidence refused", "REPORT_DATA is not the expected value");
    free(r);

    /* another measurement */
    get_challenge(ch);
    scitt_dynbuf_clear(&doc);
    request_doc(ch, k, &doc);
    d = scitt_span_make(doc.ptr, doc.len);
    b.len = 0;
    make_join(d, d, scitt_span_make(ch, 32), other, "virtual", &b);
    r = post_join(scitt_span_make(b.ptr, b.len));
    sd_expect_problem(r, 403, "Evidence refused", "the launch measurement is not an allowed one");
    free(r);

    /* another platform's name on the bundle */
    get_challenge(ch);
    scitt_dynbuf_clear(&doc);
    request_doc(ch, k, &doc);
    d = scitt_span_make(doc.ptr, doc.len);
    b.len = 0;
    make_join(d, d, scitt_span_make(ch, 32), meas, "snp", &b);
    r = post_join(scitt_span_make(b.ptr, b.len));
    sd_expect_problem(r, 403, "Evidence refused", "\"virtual\" is required");
    free(r);

    /* malformed, the wrong media type, oversized */
    r = post_join(scitt_span_str("\xa1\x01\x02"));
    sd_expect_problem(r, 400, "Malformed join request", NULL);
    free(r);
    r = sd_call(&holder, "POST", "/keys/join", "Content-Type: application/cose\r\n",
                scitt_span_make(b.ptr, b.len));
    assert_int_equal(r->status, 415);
    free(r);
    uint8_t *huge = calloc(1, SCITT_KEYREL_REQUEST_MAX + 1);
    r = post_join(scitt_span_make(huge, SCITT_KEYREL_REQUEST_MAX + 1));
    assert_int_equal(r->status, 413);
    free(r);
    free(huge);
    /* the holder still serves */
    assert_int_equal(sd_probe(&holder, "/healthz", 2000), 0);
    scitt_keyrel_key_free(k);
    scitt_keyrel_key_free(k2);
    scitt_dynbuf_clear(&doc);
    scitt_dynbuf_clear(&doc2);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&blob);
}

/* ---- a tampering proxy ---- */

typedef struct proxy {
    int lfd, port, upstream;
    pthread_t th;
    volatile int stop;
    int tampered;
} proxy;

static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    for (;;) {
        ssize_t got = recv(fd, buf + have, cap - have - 1, 0);
        if (got <= 0) {
            return have;
        }
        have += (size_t)got;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            size_t want = (size_t)(end + 4 - buf);
            char *cl = strcasestr(buf, "Content-Length:");
            if (cl && cl < end) {
                want += (size_t)strtoul(cl + 15, NULL, 10);
            }
            if (have >= want) {
                return have;
            }
        }
        if (have + 1 >= cap) {
            return have;
        }
    }
}

static void *proxy_main(void *arg)
{
    proxy *p = arg;
    size_t cap = 2u << 20;
    char *buf = malloc(cap), *resp = malloc(cap);
    while (!p->stop) {
        int c = accept(p->lfd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        size_t n = read_request(c, buf, cap);
        int u = it_connect_fd(p->upstream);
        size_t m = 0;
        if (u >= 0) {
            (void)!send(u, buf, n, MSG_NOSIGNAL);
            ssize_t got;
            while (m < cap && (got = recv(u, resp + m, cap - m, 0)) > 0) {
                m += (size_t)got;
            }
            close(u);
        }
        if (n > 16 && strncmp(buf, "POST /keys/join ", 16) == 0 && m > 0) {
            resp[m - 1] ^= 1; /* the last byte of the answer: the GCM tag */
            p->tampered++;
        }
        (void)!send(c, resp, m, MSG_NOSIGNAL);
        close(c);
    }
    free(buf);
    free(resp);
    return NULL;
}

static void test_keyrel_tampered(void **state)
{
    (void)state;
    char meas[97], url[64], out[8192];
    binary_measurement(meas);
    const char *pol = write_policy(&holder, "keyrel.json", meas);
    const char *hargs[] = {"--key-release-policy", pol, NULL};
    sd_start(&holder, hargs);
    proxy p;
    memset(&p, 0, sizeof(p));
    p.upstream = holder.port;
    p.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p.lfd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(p.lfd, 8), 0);
    socklen_t al = sizeof(a);
    assert_int_equal(getsockname(p.lfd, (struct sockaddr *)&a, &al), 0);
    p.port = ntohs(a.sin_port);
    struct timeval tv = {0, 200000};
    setsockopt(p.lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&p.th, NULL, proxy_main, &p), 0);
    holder_url(url, sizeof(url), p.port);
    int st = run_joiner(url, pol, out, sizeof(out));
    p.stop = 1;
    pthread_join(p.th, NULL);
    close(p.lfd);
    assert_int_equal(p.tampered, 1);
    if (st != 1 || !strstr(out, "the holder's answer does not open with the join key")) {
        fail_msg("exit %d: %s", st, out);
    }
    assert_int_equal(access(joiner.data, F_OK), -1); /* no keys stored, nothing left */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keyrel_join, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyrel_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyrel_attacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyrel_tampered, setup, teardown),
    };
    int st = TU_SELECT(tests, argc, argv);
    return st ? st : cmocka_run_group_tests(tests, NULL, NULL);
}
