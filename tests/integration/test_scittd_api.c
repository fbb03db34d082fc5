/*
 * scittd's SCRAPI and read API over real HTTP: synchronous and asynchronous registration,
 * receipts and transparent statements, the key set and single keys, the transparency
 * configuration, attestation, the C2SP checkpoint and tiles, and consistency receipts. Everything
 * the daemon answers is checked with the library's verifiers against the keys it publishes.
 *
 * Run as `test_scittd_api <case>`: each ctest entry runs one case with its own daemon.
 */
#include "scittd_util.h"

#include "scitt/attest.h"

#include "scitt/policy.h"

static sd_daemon sd;
static sd_issuer alice;

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

/* POST /entries, GET /entries/{id} and /entries/{id}/statement, unknown and malformed IDs. */
static void test_register_sync(void **state)
{
    (void)state;
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf stmt, entry;
    sd_statement(&alice, "pkg:demo@1.0", "{\"build\": 1}", &stmt);
    scitt_span s = scitt_span_make(stmt.ptr, stmt.len);
    char id[65], path[128];
    sd_entry(s, &entry, id);
    scitt_receipt_info info;
    uint64_t index = sd_register(&sd, keys, s, &info, NULL);
    assert_int_equal(index, 1); /* the policy is entry 0 */
    assert_int_equal(info.tree_size, 2);
    assert_true(info.size_signed);

    /* The same statement again: the same entry, the same Location. */
    scitt_receipt_info again;
    assert_int_equal(sd_register(&sd, keys, s, &again, NULL), index);

    /* GET /entries/{id}: 200, the receipt, Location echoed. */
    snprintf(path, sizeof(path), "/entries/%s", id);
    it_resp *r =
        sd_call(&sd, "GET", path, "Accept: application/cose\r\n", scitt_span_make(NULL, 0));
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/cose");
    sd_expect_header(r, "Location", path);
    sd_verify_receipt(sd_body(r), s, keys, &info);
    assert_int_equal(info.leaf_index, index);
    free(r);

    /* GET /entries/{id}/statement: a transparent statement whose receipt and issuer signature
     * both verify, and whose protected header and payload are the ones we signed. */
    snprintf(path, sizeof(path), "/entries/%s/statement", id);
    r = sd_get(&sd, path);
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/cose");
    scitt_ts_result tr;
    assert_int_equal(scitt_receipt_verify_transparent(sd_body(r), keys, SD_VERIFY_FLAGS, &tr),
                     SCITT_OK);
    assert_int_equal(tr.nreceipts, 1);
    assert_int_equal(tr.info[0].leaf_index, index);
    scitt_cose_sign1 ts, orig;
    assert_int_equal(scitt_cose_sign1_decode(sd_body(r), 0, &ts), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_decode(s, 0, &orig), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_verify(&ts, alice.key, scitt_span_make(NULL, 0), NULL),
                     SCITT_OK);
    assert_true(scitt_span_eq(ts.protected_item, orig.protected_item));
    assert_true(scitt_span_eq(ts.payload, orig.payload));
    free(r);

    /* Unknown but well-formed ID: 404 with the SCRAPI title and the ID in the detail. */
    char unknown[65];
    memcpy(unknown, id, sizeof(unknown));
    unknown[0] = unknown[0] == '0' ? '1' : '0';
    snprintf(path, sizeof(path), "/entries/%s", unknown);
    r = sd_get(&sd, path);
    sd_expect_problem(r, 404, "Not Found", unknown);
    free(r);
    snprintf(path, sizeof(path), "/entries/%s/statement", unknown);
    r = sd_get(&sd, path);
    sd_expect_problem(r, 404, "Not Found", unknown);
    free(r);

    /* Malformed IDs: 404 (the resource cannot exist), never a crash or a 500. */
    static const char *const bad[] = {
        "/entries/",              /* empty */
        "/entries/abc",           /* short */
        "/entries/../checkpoint", /* path games */
        "/entries/%30%30",        /* percent-encoded digits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = sd_get(&sd, bad[i]);
        sd_expect_problem(r, 404, "Not Found", NULL);
        free(r);
    }
    /* Upper case, one digit too many, a non-hex digit, a trailing segment. */
    char upper[65];
    for (size_t i = 0; i < 65; i++) {
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    }
    const char *variants[][2] = {{upper, ""}, {id, "0"}, {id, "/receipt"}, {id, "/statement/x"}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "/entries/%s%s", variants[i][0], variants[i][1]);
        if (i == 0 && strcmp(upper, id) == 0) {
            continue; /* an ID of digits only has no upper-case form */
        }
        r = sd_get(&sd, path);
        sd_expect_problem(r, 404, "Not Found", NULL);
        free(r);
    }
    snprintf(path, sizeof(path), "/entries/%.63sg", id);
    r = sd_get(&sd, path);
    sd_expect_problem(r, 404, "Not Found", NULL);
    free(r);

    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&stmt);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * Prefer: respond-async: 202 + Location + Retry-After at once, 204 (Retry-After, no-store) while
 * the batch waits (--batch-delay-ms makes the window wide), then 200 with the receipt. The
 * synchronous flow returns the same Location for the same statement.
 */
static void test_register_async(void **state)
{
    (void)state;
    const char *more[] = {"--batch-delay-ms", "1500", NULL};
    sd_start_policy(&sd, more);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf stmt, entry;
    sd_statement(&alice, "pkg:async@1", "{\"async\": true}", &stmt);
    scitt_span s = scitt_span_make(stmt.ptr, stmt.len);
    char id[65], loc[128];
    sd_entry(s, &entry, id);
    snprintf(loc, sizeof(loc), "/entries/%s", id);

    double t0 = it_now();
    it_resp *r = sd_post(&sd, s, "Prefer: respond-async\r\n");
    assert_int_equal(r->status, 202);
    assert_true(it_now() - t0 < 1.2); /* answered before the batch could commit */
    sd_expect_header(r, "Location", loc);
    char v[64];
    assert_non_null(it_header(r, "Retry-After", v, sizeof(v)));
    assert_true(atoi(v) >= 1);
    assert_int_equal(r->body_len, 0);
    free(r);

    r = sd_get(&sd, loc);
    assert_int_equal(r->status, 204);
    assert_non_null(it_header(r, "Retry-After", v, sizeof(v)));
    sd_expect_header(r, "Cache-Control", "no-store");
    assert_int_equal(r->body_len, 0);
    free(r);

    /* Poll (bounded) until the receipt is there. */
    int status = 204;
    for (int i = 0; i < 100 && status == 204; i++) {
        it_sleep_ms(100);
        r = sd_get(&sd, loc);
        status = r->status;
        if (status == 200) {
            sd_expect_header(r, "Location", loc);
            scitt_receipt_info info;
            sd_verify_receipt(sd_body(r), s, keys, &info);
            assert_int_equal(info.leaf_index, 1);
        }
        free(r);
    }
    assert_int_equal(status, 200);
    assert_true(it_now() - t0 >= 1.4); /* the batch delay was honoured */

    /* Sync registration of the same statement: the same Location (dedup). */
    assert_int_equal(sd_register(&sd, keys, s, NULL, NULL), 1);

    /* An async registration that the check stage rejects is answered at once with 400. */
    scitt_dynbuf bad;
    sd_statement(&alice, "pkg:async@2", "{}", &bad);
    bad.ptr[bad.len - 1] ^= 1; /* break the signature */
    r = sd_post(&sd, scitt_span_make(bad.ptr, bad.len), "Prefer: respond-async\r\n");
    sd_expect_problem(r, 400, "Bad Signature", "signature");
    free(r);
    scitt_dynbuf_clear(&bad);
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&stmt);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* /.well-known/scitt-keys, /.well-known/scitt-keys/{kid}, /jwks. */
static void test_keys(void **state)
{
    (void)state;
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    assert_int_equal(scitt_cose_keyset_count(keys), 1);
    const scitt_cose_key *k = scitt_cose_keyset_at(keys, 0);
    assert_int_equal(scitt_cose_key_alg(k), SCITT_COSE_ALG_ES256);
    /* The kid is the text of the RFC 9679 thumbprint (its base64url, the /jwks kid), and
     * receipts carry it: a client that reads the receipt kid as text finds the JWKS key. */
    uint8_t tp[32];
    scitt_cose_key_thumbprint(k, tp);
    char tptext[64];
    assert_int_equal(scitt_base64url_encode(scitt_span_make(tp, 32), tptext, sizeof(tptext)),
                     SCITT_OK);
    assert_true(scitt_span_eq_str(scitt_cose_key_kid(k), tptext));
    scitt_dynbuf stmt;
    sd_statement(&alice, "pkg:keys@1", "{}", &stmt);
    it_resp *r = sd_post(&sd, scitt_span_make(stmt.ptr, stmt.len), NULL);
    assert_int_equal(r->status, 201);
    scitt_receipt_info info;
    sd_verify_receipt(sd_body(r), scitt_span_make(stmt.ptr, stmt.len), keys, &info);
    assert_true(scitt_span_eq(info.kid, scitt_cose_key_kid(k)));
    free(r);

    /* The single key by its base64url kid: the same key. */
    char b64[128], path[256];
    assert_int_equal(scitt_base64url_encode(scitt_cose_key_kid(k), b64, sizeof(b64)), SCITT_OK);
    snprintf(path, sizeof(path), "/.well-known/scitt-keys/%s", b64);
    r = sd_call(&sd, "GET", path, "Accept: application/cbor\r\n", scitt_span_make(NULL, 0));
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/cbor");
    scitt_cose_key *one = NULL;
    assert_int_equal(scitt_cose_key_from_cose(sd_body(r), &one), SCITT_OK);
    assert_true(scitt_span_eq(scitt_cose_key_kid(one), scitt_cose_key_kid(k)));
    assert_false(scitt_cose_key_has_private(one));
    free(r);
    /* ... and by the kid's raw form (the text is URI-safe), which is also the base64url of the
     * thumbprint a receipt issued before carries */
    snprintf(path, sizeof(path), "/.well-known/scitt-keys/%s", tptext);
    r = sd_call(&sd, "GET", path, "Accept: application/cbor\r\n", scitt_span_make(NULL, 0));
    assert_int_equal(r->status, 200);
    uint8_t tp1[32];
    scitt_cose_key_thumbprint(one, tp1);
    assert_memory_equal(tp1, tp, 32);
    scitt_cose_key_free(one);
    free(r);

    /* Unknown kids, padded base64url and non-base64 text: "No such key". */
    b64[0] = b64[0] == 'A' ? 'B' : 'A';
    const char *missing[] = {b64, "AAAA", "not*base64", "Zm9v=", ""};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        snprintf(path, sizeof(path), "/.well-known/scitt-keys/%s", missing[i]);
        r = sd_get(&sd, path);
        sd_expect_problem(r, 404, "No such key", "kid");
        free(r);
    }

    /* /jwks: the same keys as a JWKS. */
    r = sd_get(&sd, "/jwks");
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/json");
    scitt_cose_keyset *jwks = NULL;
    assert_int_equal(scitt_cose_keyset_from_jwks(sd_body(r), &jwks), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_count(jwks), 1);
    assert_non_null(scitt_cose_keyset_find(jwks, scitt_cose_key_kid(k)));
    {
        char want[80];
        snprintf(want, sizeof(want), "\"kid\":\"%s\"", tptext);
        scitt_span jb = sd_body(r);
        bool found = false;
        for (size_t i = 0; !found && i + strlen(want) <= jb.len; i++) {
            found = memcmp(jb.ptr + i, want, strlen(want)) == 0;
        }
        assert_true(found); /* the JWKS kid string is the receipt kid's text */
    }
    scitt_cose_key_thumbprint(scitt_cose_keyset_at(jwks, 0), tp1);
    assert_memory_equal(tp1, tp, 32);
    free(r);
    scitt_cose_keyset_free(jwks);
    scitt_dynbuf_clear(&stmt);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* Reads entry @p index from its entry bundle (C2SP tlog-tiles). */
static void bundle_entry(uint64_t size, uint64_t index, scitt_dynbuf *out)
{
    char path[SCITT_TILE_PATH_MAX + 1];
    unsigned w = scitt_tile_width(0, index / 256, size);
    path[0] = '/';
    assert_int_equal(scitt_tile_entries_path(index / 256, w, path + 1, sizeof(path) - 1), SCITT_OK);
    it_resp *r = sd_get(&sd, path);
    assert_int_equal(r->status, 200);
    size_t pos = 0;
    for (uint64_t i = 0; i <= index % 256; i++) {
        assert_true(r->body_len - pos >= 2);
        size_t n = (size_t)r->body[pos] << 8 | r->body[pos + 1];
        pos += 2;
        assert_true(r->body_len - pos >= n);
        if (i == index % 256) {
            scitt_dynbuf_init(out, 0);
            scitt_dynbuf_put(out, r->body + pos, n);
        }
        pos += n;
    }
    free(r);
}

/*
 * The configuration document (issuer, origin, checkpoint_vkey, platform, insecure,
 * policy_entry), the policy entry it names, /attestation's binding of the identity document,
 * and /healthz.
 */
static void test_configuration(void **state)
{
    (void)state;
    const char *more[] = {"--issuer", "ts.example", "--origin", "ts.example/log", NULL};
    sd_start_policy(&sd, more);
    sd_config c;
    sd_get_config(&sd, &c);
    assert_string_equal(c.issuer, "ts.example");
    assert_string_equal(c.origin, "ts.example/log");
    assert_string_equal(c.platform, "virtual");
    assert_true(c.insecure);
    assert_false(c.has_policy_warning); /* a policy file, not the development policy */
    assert_int_equal(c.policy_entry, 0);
    scitt_note_verifier v;
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(c.vkey), &v), SCITT_OK);
    assert_string_equal(v.name, "ts.example/log");

    /* The policy entry is a statement by the service about its policy, with the file's text. */
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf pe;
    bundle_entry(1, c.policy_entry, &pe);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(pe.ptr, pe.len), 0, &m), SCITT_OK);
    assert_true(scitt_span_eq_str(m.hdr.cwt.iss, "ts.example"));
    assert_true(scitt_span_eq_str(m.hdr.cwt.sub, SCITT_POLICY_SUBJECT));
    const scitt_cose_key *sk = scitt_cose_keyset_find(keys, m.hdr.kid);
    assert_non_null(sk);
    assert_int_equal(scitt_cose_sign1_verify(&m, sk, scitt_span_make(NULL, 0), NULL), SCITT_OK);
    FILE *f = fopen(sd_path(&sd, "policy.json"), "rb");
    assert_non_null(f);
    char text[8192];
    size_t tl = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_true(scitt_span_eq(m.payload, scitt_span_make(text, tl)));
    scitt_dynbuf_clear(&pe);

    /* /attestation: a service bundle with virtual evidence binding the identity document
     * (report_data[0:32] = SHA-256 of it); refused unless insecure evidence is allowed, and the
     * document names this service's keys, issuer and origin. */
    it_resp *r = sd_get(&sd, "/attestation");
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/cbor");
    scitt_attest_opts ao;
    memset(&ao, 0, sizeof(ao));
    ao.now = (int64_t)time(NULL);
    scitt_attest_result ar;
    assert_int_equal(scitt_attest_verify(sd_body(r), &ao, &ar), SCITT_ERR_INSECURE);
    ao.allow_insecure_virtual = true;
    assert_int_equal(scitt_attest_verify(sd_body(r), &ao, &ar), SCITT_OK);
    assert_true(ar.insecure);
    assert_string_equal(ar.platform, "virtual");
    scitt_cose_key *ik = NULL;
    assert_int_equal(scitt_cose_key_from_cose(ar.identity.receipt_key, &ik), SCITT_OK);
    assert_non_null(scitt_cose_keyset_find(keys, scitt_cose_key_kid(ik)));
    scitt_cose_key_free(ik);
    assert_true(scitt_span_eq_str(ar.identity.vkey, c.vkey));
    assert_true(scitt_span_eq_str(ar.identity.issuer, "ts.example"));
    assert_true(scitt_span_eq_str(ar.identity.origin, "ts.example/log"));
    /* the measurement of the virtual platform is the running binary's SHA-384 */
    uint8_t wrong[48] = {0};
    ao.measurements = wrong;
    ao.n_measurements = 1;
    assert_int_equal(scitt_attest_verify(sd_body(r), &ao, &ar), SCITT_ERR_POLICY);
    free(r);
    /* a nonce goes into report_data[32:64]; the bundle binds it */
    r = sd_get(&sd, "/attestation?nonce=00112233445566778899aabbccddeeff");
    assert_int_equal(r->status, 200);
    ao.measurements = NULL;
    ao.n_measurements = 0;
    assert_int_equal(scitt_attest_verify(sd_body(r), &ao, &ar), SCITT_ERR_BINDING);
    static const uint8_t nonce[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    ao.nonce = scitt_span_make(nonce, sizeof(nonce));
    assert_int_equal(scitt_attest_verify(sd_body(r), &ao, &ar), SCITT_OK);
    free(r);
    r = sd_get(&sd, "/attestation?nonce=zz");
    assert_int_equal(r->status, 400);
    free(r);

    /* Receipts name the same service: iss = the issuer, sub = the origin. */
    scitt_dynbuf st;
    sd_statement(&alice, "pkg:config", "{}", &st);
    r = sd_post(&sd, scitt_span_make(st.ptr, st.len), NULL);
    assert_int_equal(r->status, 201);
    scitt_receipt_info info;
    sd_verify_receipt(sd_body(r), scitt_span_make(st.ptr, st.len), keys, &info);
    assert_true(scitt_span_eq_str(info.iss, c.issuer));
    assert_true(scitt_span_eq_str(info.sub, c.origin));
    assert_true(info.has_iat);
    assert_true(info.iat >= (int64_t)time(NULL) - 60 && info.iat <= (int64_t)time(NULL) + 60);
    free(r);
    scitt_dynbuf_clear(&st);

    r = sd_get(&sd, "/healthz");
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 3);
    assert_memory_equal(r->body, "ok\n", 3);
    free(r);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* Makes @p n statements by @p is with distinct subjects. */
static scitt_dynbuf *make_statements(const sd_issuer *is, const char *tag, size_t n)
{
    scitt_dynbuf *s = calloc(n, sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        char sub[64], payload[64];
        snprintf(sub, sizeof(sub), "pkg:%s/%zu", tag, i);
        snprintf(payload, sizeof(payload), "{\"n\": %zu}", i);
        sd_statement(is, sub, payload, &s[i]);
    }
    return s;
}

static void free_statements(scitt_dynbuf *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        scitt_dynbuf_clear(&s[i]);
    }
    free(s);
}

/*
 * /checkpoint verifies with the configured vkey and its root is the receipts' root at its size;
 * the level-0 and level-1 hash tiles and the entry bundles (full and partial) match the
 * statements registered, and fold to the checkpoint's root; bad tile paths are 404.
 */
static void test_checkpoint_tiles(void **state)
{
    (void)state;
    sd_start_policy(&sd, NULL);
    sd_config c;
    sd_get_config(&sd, &c);
    scitt_cose_keyset *keys = sd_keys(&sd);
    enum { N = 299 }; /* with the policy entry: 300 = one full tile and a partial one */
    scitt_dynbuf *st = make_statements(&alice, "tiles", N);
    static uint64_t at[N];
    static scitt_dynbuf *by_index[N + 1];
    sd_register_many(&sd, keys, st, N, at);
    for (size_t i = 0; i < N; i++) {
        assert_true(at[i] >= 1 && at[i] <= N && !by_index[at[i]]);
        by_index[at[i]] = &st[i];
    }
    sd_checkpoint cp;
    sd_get_checkpoint(&sd, &c, &cp);
    assert_int_equal(cp.cp.size, N + 1);

    /* A fresh receipt for the last entry is issued against that same tree head. */
    char id[65], path[160];
    scitt_dynbuf entry;
    sd_entry(scitt_span_make(st[N - 1].ptr, st[N - 1].len), &entry, id);
    snprintf(path, sizeof(path), "/entries/%s", id);
    it_resp *r = sd_get(&sd, path);
    assert_int_equal(r->status, 200);
    scitt_receipt_info info;
    sd_verify_receipt(sd_body(r), scitt_span_make(st[N - 1].ptr, st[N - 1].len), keys, &info);
    assert_int_equal(info.tree_size, cp.cp.size);
    assert_memory_equal(info.root, cp.cp.root, 32);
    free(r);
    scitt_dynbuf_clear(&entry);

    /* Level 0: a full tile of 256 hashes and a partial one of 44, each the leaf hash of the entry
     * in the bundle at the same position, and that entry is what we registered. */
    static uint8_t leaves[N + 1][32];
    struct {
        const char *hashes, *bundle;
        size_t first, count;
    } tiles[] = {{"/tile/0/000", "/tile/entries/000", 0, 256},
                 {"/tile/0/001.p/44", "/tile/entries/001.p/44", 256, 44}};
    for (size_t t = 0; t < 2; t++) {
        it_resp *th = sd_get(&sd, tiles[t].hashes), *tb = sd_get(&sd, tiles[t].bundle);
        assert_int_equal(th->status, 200);
        assert_int_equal(tb->status, 200);
        sd_expect_header(th, "Content-Type", "application/octet-stream");
        assert_int_equal(th->body_len, tiles[t].count * 32);
        size_t pos = 0;
        for (size_t i = 0; i < tiles[t].count; i++) {
            size_t idx = tiles[t].first + i;
            assert_true(tb->body_len - pos >= 2);
            size_t len = (size_t)tb->body[pos] << 8 | tb->body[pos + 1];
            pos += 2;
            assert_true(tb->body_len - pos >= len);
            scitt_span e = scitt_span_make(tb->body + pos, len);
            pos += len;
            scitt_merkle_leaf_hash(e, leaves[idx]);
            assert_memory_equal(th->body + 32 * i, leaves[idx], 32);
            if (idx > 0) { /* entry 0 is the policy */
                scitt_dynbuf want;
                sd_entry(scitt_span_make(by_index[idx]->ptr, by_index[idx]->len), &want, id);
                assert_true(scitt_span_eq(e, scitt_span_make(want.ptr, want.len)));
                scitt_dynbuf_clear(&want);
            }
        }
        assert_int_equal(pos, tb->body_len);
        free(th);
        free(tb);
    }
    /* Level 1: one hash so far, the root of the first 256 leaves. */
    r = sd_get(&sd, "/tile/1/000.p/1");
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 32);
    uint8_t sub[32];
    scitt_merkle_fold((const uint8_t(*)[32])leaves, 256, sub);
    assert_memory_equal(r->body, sub, 32);
    free(r);
    /* The leaves give the checkpoint's root. */
    scitt_merkle_compact cm;
    scitt_merkle_compact_init(&cm);
    for (size_t i = 0; i <= N; i++) {
        assert_int_equal(scitt_merkle_compact_append(&cm, leaves[i], NULL, NULL), SCITT_OK);
    }
    uint8_t root[32];
    scitt_merkle_compact_root(&cm, root);
    assert_memory_equal(root, cp.cp.root, 32);

    /* A narrower partial tile is served too (tiles are immutable prefixes), wider ones and
     * tiles beyond the tree are not, and non-canonical paths are refused. */
    r = sd_get(&sd, "/tile/0/001.p/3");
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 96);
    assert_memory_equal(r->body, leaves[256], 96);
    free(r);
    static const char *const missing[] = {
        "/tile/0/001",      "/tile/0/001.p/45",
        "/tile/0/002.p/1",  "/tile/1/000",
        "/tile/2/000.p/1",  "/tile/entries/002",
        "/tile/0/1",        "/tile/0/001.p/256",
        "/tile/0/001.p/0",  "/tile/0/x000/001",
        "/tile/0/000.p/01", "/tile/entries/001.p/45",
        "/tile/9/000.p/1",  "/tile/",
        "/tile/0/-01",      "/tile/0/001.p/",
    };
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        r = sd_get(&sd, missing[i]);
        if (r->status != 404) {
            fail_msg("%s answered %d", missing[i], r->status);
        }
        sd_expect_problem(r, 404, NULL, NULL);
        free(r);
    }
    free_statements(st, N);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * /proofs/consistency between two checkpoints verifies against the older root and leads to the
 * newer one (power-of-two and other old sizes); bad parameters are 400, unknown sizes 404.
 */
static void test_consistency(void **state)
{
    (void)state;
    sd_start_policy(&sd, NULL);
    sd_config c;
    sd_get_config(&sd, &c);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf *st = make_statements(&alice, "cons", 12);
    static sd_checkpoint cps[3]; /* sizes 4, 7, 13 */
    size_t at = 0, ends[3] = {3, 6, 12};
    for (size_t k = 0; k < 3; k++) {
        sd_register_many(&sd, keys, st + at, ends[k] - at, NULL);
        at = ends[k];
        sd_get_checkpoint(&sd, &c, &cps[k]);
        assert_int_equal(cps[k].cp.size, ends[k] + 1);
    }
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = a + 1; b < 3; b++) {
            char path[128];
            snprintf(path, sizeof(path), "/proofs/consistency?from=%llu&to=%llu",
                     (unsigned long long)cps[a].cp.size, (unsigned long long)cps[b].cp.size);
            it_resp *r = sd_get(&sd, path);
            assert_int_equal(r->status, 200);
            sd_expect_header(r, "Content-Type", "application/cose");
            scitt_receipt_info info;
            assert_int_equal(scitt_receipt_verify_consistency(sd_body(r), cps[a].cp.size,
                                                              cps[a].cp.root, keys, SD_VERIFY_FLAGS,
                                                              &info),
                             SCITT_OK);
            assert_int_equal(info.old_size, cps[a].cp.size);
            assert_int_equal(info.tree_size, cps[b].cp.size);
            assert_memory_equal(info.root, cps[b].cp.root, 32);
            /* against a wrong old root it must fail */
            uint8_t wrong[32];
            memcpy(wrong, cps[a].cp.root, 32);
            wrong[0] ^= 1;
            assert_int_not_equal(scitt_receipt_verify_consistency(sd_body(r), cps[a].cp.size, wrong,
                                                                  keys, SD_VERIFY_FLAGS, NULL),
                                 SCITT_OK);
            free(r);
        }
    }
    static const char *const bad[] = {
        "/proofs/consistency",
        "/proofs/consistency?from=4",
        "/proofs/consistency?to=13",
        "/proofs/consistency?from=0&to=13",
        "/proofs/consistency?from=13&to=4",
        "/proofs/consistency?from=7&to=7",
        "/proofs/consistency?from=x&to=13",
        "/proofs/consistency?from=4&to=13x",
        "/proofs/consistency?from=-4&to=13",
        "/proofs/consistency?from=4&to=99999999999999999999",
        "/proofs/consistency?from=%34&to=13",
        "/proofs/consistency?from=&to=13",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        it_resp *r = sd_get(&sd, bad[i]);
        if (r->status != 400) {
            fail_msg("%s answered %d", bad[i], r->status);
        }
        sd_expect_problem(r, 400, "Malformed request", "from");
        free(r);
    }
    /* Well-formed sizes beyond the log: no signed tree head has them. */
    static const char *const unknown[] = {"/proofs/consistency?from=4&to=14",
                                          "/proofs/consistency?from=13&to=1000000"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        it_resp *r = sd_get(&sd, unknown[i]);
        sd_expect_problem(r, 404, "Not Found", "signed tree heads");
        free(r);
    }
    free_statements(st, 12);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* An EdDSA receipt key (--receipt-alg EdDSA): published as such, and receipts verify. */
static void test_receipt_eddsa(void **state)
{
    (void)state;
    const char *more[] = {"--receipt-alg", "EdDSA", NULL};
    sd_start_policy(&sd, more);
    scitt_cose_keyset *keys = sd_keys(&sd);
    assert_int_equal(scitt_cose_keyset_count(keys), 1);
    assert_int_equal(scitt_cose_key_kty(scitt_cose_keyset_at(keys, 0)), SCITT_COSE_KTY_OKP);
    scitt_dynbuf stmt;
    sd_statement(&alice, "pkg:ed@1", "{}", &stmt);
    scitt_receipt_info info;
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(stmt.ptr, stmt.len), &info, NULL), 1);
    assert_int_equal(info.alg, SCITT_COSE_ALG_ED25519); /* RFC 9864 */
    scitt_dynbuf_clear(&stmt);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * Entries over 65,535 bytes are refused at registration, whatever the policy admits: a C2SP
 * entry bundle (16-bit lengths) could never carry them. One of exactly 65,535 bytes registers,
 * and its entry bundle is served and carries it byte for byte.
 */
static void test_large_entry(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, "\"max_statement_bytes\": 100000, ");
    const char *more[] = {"--max-body", "200K", NULL};
    sd_start_policy(&sd, more);
    scitt_cose_keyset *keys = sd_keys(&sd);
    /* Find the payload size whose registered form is exactly 65,535 bytes. */
    static char payload[70001];
    size_t plen = 65000;
    scitt_dynbuf st, entry;
    char id[65];
    for (;;) {
        memset(payload, 'z', plen);
        payload[0] = '"';
        payload[plen - 1] = '"';
        payload[plen] = 0;
        sd_statement(&alice, "pkg:large", payload, &st);
        sd_entry(scitt_span_make(st.ptr, st.len), &entry, id);
        size_t n = entry.len;
        scitt_dynbuf_clear(&entry);
        if (n == 65535) {
            break;
        }
        scitt_dynbuf_clear(&st);
        assert_true(n < 65535 || plen > 1000);
        plen = n < 65535 ? plen + (65535 - n) : plen - (n - 65535);
    }
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL), 1);
    it_resp *r = sd_get(&sd, "/tile/entries/000.p/2");
    assert_int_equal(r->status, 200);
    sd_entry(scitt_span_make(st.ptr, st.len), &entry, id);
    assert_true(r->body_len > entry.len + 2);
    assert_memory_equal(r->body + r->body_len - entry.len, entry.ptr, entry.len);
    assert_int_equal(r->body[r->body_len - entry.len - 2], 0xff);
    assert_int_equal(r->body[r->body_len - entry.len - 1], 0xff);
    free(r);
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&st);
    /* One byte more: refused, saying why and what to do instead; the log is unchanged. */
    memset(payload, 'z', plen + 1);
    payload[0] = '"';
    payload[plen] = '"';
    payload[plen + 1] = 0;
    sd_statement(&alice, "pkg:large", payload, &st);
    sd_entry(scitt_span_make(st.ptr, st.len), &entry, id);
    assert_int_equal(entry.len, 65536);
    scitt_dynbuf_clear(&entry);
    r = sd_post(&sd, scitt_span_make(st.ptr, st.len), NULL);
    sd_expect_problem(r, 400, "Rejected", "65,535");
    free(r);
    r = sd_call(&sd, "POST", "/entries",
                "Content-Type: application/cose\r\nPrefer: respond-async\r\n",
                scitt_span_make(st.ptr, st.len));
    sd_expect_problem(r, 400, "Rejected", "hash envelope");
    free(r);
    r = sd_get(&sd, "/tile/entries/000.p/3");
    assert_int_equal(r->status, 404);
    free(r);
    scitt_dynbuf_clear(&st);
    /* Over the policy's limit: refused with the limit named. */
    static char huge[100001];
    memset(huge, 'z', sizeof(huge) - 1);
    huge[0] = '"';
    huge[sizeof(huge) - 2] = '"';
    scitt_dynbuf too;
    sd_statement(&alice, "pkg:huge", huge, &too);
    r = sd_post(&sd, scitt_span_make(too.ptr, too.len), NULL);
    sd_expect_problem(r, 400, "Rejected", "100000");
    free(r);
    scitt_dynbuf_clear(&too);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_async, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configuration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_tiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consistency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipt_eddsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_entry, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
