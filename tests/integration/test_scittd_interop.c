/*
 * What the running scittd serves, checked by independent implementations (the harness in
 * tests/interop, installed by the ctest fixture `interop`):
 *   - receipts and transparent statements through bin/verify-receipt (@transmute/cose; cose-kit
 *     for the EdDSA receipt key), consistency receipts in strict RFC 9162 mode;
 *   - /checkpoint, hash tiles, entry bundles, our inclusion and consistency proofs through
 *     bin/tlogcheck (Go x/mod sumdb tlog and note), on a tree past 256 entries;
 *   - statements signed by @transmute/cose (tests/data/interop/fixtures/js) registered under a
 *     policy that pins the fixture issuer's key, and their receipts verified by @transmute/cose.
 * A missing harness fails the test (the fixture interop.setup installs it).
 *
 * Run as `test_scittd_interop <case>`: each ctest entry runs one case with its own daemon.
 */
#include "scittd_util.h"

static sd_daemon sd;
static sd_issuer alice;
static char harness[1024];

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

static scitt_span span(const scitt_dynbuf *b)
{
    return scitt_span_make(b->ptr, b->len);
}

/*
 * Runs harness tool @p tool with @p args (NULL-terminated) and checks the outcome: @p want 0
 * needs exit 0 and a last line "RESULT: OK", 1 needs exit 1 and "RESULT: FAIL" (so a crash of
 * the harness never passes as a rejection). The output goes to the test log.
 */
static void expect_harness(int want, const char *tool, const char *const *args)
{
    const char *argv[40];
    char path[1100];
    snprintf(path, sizeof(path), "%s/bin/%s", harness, tool);
    size_t n = 0;
    argv[n++] = path;
    for (size_t i = 0; args[i] && n < 39; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    static char out[1 << 16];
    int rc = it_run(argv, out, sizeof(out), 120000);
    print_message("$ %s", tool);
    for (size_t i = 0; args[i]; i++) {
        print_message(" %s", args[i]);
    }
    print_message("\n%s", out);
    size_t len = strlen(out);
    while (len > 0 && out[len - 1] == '\n') {
        out[--len] = 0;
    }
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    const char *verdict = want == 0 ? "RESULT: OK" : "RESULT: FAIL";
    if (rc != want || strncmp(last, verdict, strlen(verdict)) != 0) {
        fail_msg("%s: wanted exit %d and \"%s\", got exit %d, last line \"%s\"", tool, want,
                 verdict, rc, last);
    }
}

static void put(const char *name, scitt_span data)
{
    sd_write_file(sd_path(&sd, name), data.ptr, data.len);
}

/* The receipt keys as PEM files service-<i>.pem; returns how many. */
static size_t put_service_keys(const scitt_cose_keyset *keys)
{
    size_t n = scitt_cose_keyset_count(keys);
    for (size_t i = 0; i < n; i++) {
        scitt_dynbuf pem;
        scitt_dynbuf_init(&pem, 0);
        assert_int_equal(scitt_cose_key_encode_pem(scitt_cose_keyset_at(keys, i), false, &pem),
                         SCITT_OK);
        char name[48];
        snprintf(name, sizeof(name), "service-%zu.pem", i);
        put(name, span(&pem));
        scitt_dynbuf_clear(&pem);
    }
    return n;
}

static void hex32(const uint8_t h[32], char out[65])
{
    assert_int_equal(scitt_hex_encode(scitt_span_make(h, 32), out, 65), SCITT_OK);
}

/*
 * The proof of a receipt: unprotected {396: {@p vdp: [bstr .cbor [a, b, [+ bstr32]]]}}, written
 * to @p file one hex hash per line (the order RFC 9162 and x/mod use).
 */
static void put_proof(scitt_span receipt, int64_t vdp, const char *file, uint64_t *a, uint64_t *b)
{
    scitt_cbor_reader rd;
    scitt_cbor_reader_init(&rd, receipt);
    uint64_t tag;
    size_t n, m;
    scitt_span skip;
    assert_int_equal(scitt_cbor_read_tag(&rd, &tag), SCITT_OK);
    assert_int_equal(tag, 18);
    assert_int_equal(scitt_cbor_read_array(&rd, &n), SCITT_OK);
    assert_int_equal(scitt_cbor_read_bytes(&rd, &skip), SCITT_OK);
    assert_int_equal(scitt_cbor_read_map(&rd, &n), SCITT_OK);
    scitt_span proof = {0};
    for (size_t i = 0; i < n; i++) {
        int64_t label;
        assert_int_equal(scitt_cbor_read_int(&rd, &label), SCITT_OK);
        if (label != SCITT_COSE_HDR_VDP) {
            assert_int_equal(scitt_cbor_skip(&rd, NULL), SCITT_OK);
            continue;
        }
        assert_int_equal(scitt_cbor_read_map(&rd, &m), SCITT_OK);
        assert_int_equal(m, 1);
        int64_t k;
        assert_int_equal(scitt_cbor_read_int(&rd, &k), SCITT_OK);
        assert_int_equal(k, vdp);
        assert_int_equal(scitt_cbor_read_array(&rd, &m), SCITT_OK);
        assert_int_equal(m, 1);
        assert_int_equal(scitt_cbor_read_bytes(&rd, &proof), SCITT_OK);
    }
    assert_non_null(proof.ptr);
    scitt_cbor_reader_init(&rd, proof);
    assert_int_equal(scitt_cbor_read_array(&rd, &n), SCITT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(scitt_cbor_read_uint(&rd, a), SCITT_OK);
    assert_int_equal(scitt_cbor_read_uint(&rd, b), SCITT_OK);
    assert_int_equal(scitt_cbor_read_array(&rd, &n), SCITT_OK);
    scitt_dynbuf text;
    scitt_dynbuf_init(&text, 0);
    for (size_t i = 0; i < n; i++) {
        scitt_span h;
        char hx[65];
        assert_int_equal(scitt_cbor_read_bytes(&rd, &h), SCITT_OK);
        assert_int_equal(h.len, 32);
        hex32(h.ptr, hx);
        scitt_dynbuf_printf(&text, "%s\n", hx);
    }
    assert_int_equal(scitt_cbor_reader_finish(&rd), SCITT_OK);
    put(file, span(&text));
    scitt_dynbuf_clear(&text);
}

/*
 * Registers statements, then has verify-receipt check the receipts (with the root, size and
 * index pinned to what the checkpoint says), the transparent statements with the issuer
 * signature, and refuse a tampered receipt and a wrong key.
 */
static void receipts_case(const char *alg)
{
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    const char *args[] = {"--policy", sd_path(&sd, "policy.json"), "--receipt-alg", alg, NULL};
    sd_start(&sd, args);
    scitt_cose_keyset *keys = sd_keys(&sd);
    put_service_keys(keys);
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    assert_int_equal(scitt_cose_key_encode_pem(alice.key, false, &pem), SCITT_OK);
    put("issuer.pem", span(&pem));
    scitt_dynbuf_clear(&pem);
    scitt_dynbuf st[5];
    for (int i = 0; i < 5; i++) {
        char sub[32];
        snprintf(sub, sizeof(sub), "pkg:interop/%d", i);
        sd_statement(&alice, sub, "{\"interop\": true}", &st[i]);
    }
    sd_register_many(&sd, keys, st, 5, NULL);
    sd_config c;
    sd_get_config(&sd, &c);
    sd_checkpoint cp;
    sd_get_checkpoint(&sd, &c, &cp);
    char root[65], size[24], index[24];
    hex32(cp.cp.root, root);
    snprintf(size, sizeof(size), "%llu", (unsigned long long)cp.cp.size);
    for (int i = 0; i < 5; i += 2) {
        char id[65], path[160];
        scitt_dynbuf e;
        sd_entry(span(&st[i]), &e, id);
        scitt_dynbuf_clear(&e);
        snprintf(path, sizeof(path), "/entries/%s", id);
        it_resp *r = sd_get(&sd, path);
        assert_int_equal(r->status, 200);
        scitt_receipt_info info;
        sd_verify_receipt(sd_body(r), span(&st[i]), keys, &info);
        snprintf(index, sizeof(index), "%llu", (unsigned long long)info.leaf_index);
        put("receipt.cbor", sd_body(r));
        put("statement.cbor", span(&st[i]));
        const char *ok[] = {"--key",
                            sd_path(&sd, "service-0.pem"),
                            "--statement",
                            sd_path(&sd, "statement.cbor"),
                            "--receipt",
                            sd_path(&sd, "receipt.cbor"),
                            "--issuer-key",
                            sd_path(&sd, "issuer.pem"),
                            "--expect-root",
                            root,
                            "--expect-size",
                            size,
                            "--expect-index",
                            index,
                            NULL};
        expect_harness(0, "verify-receipt", ok);
        /* a flipped bit in the last path hash must be refused */
        r->body[r->body_len - 68] ^= 0x01; /* before nil payload, sig head, 64-byte sig */
        put("tampered.cbor", sd_body(r));
        const char *tampered[] = {"--key",       sd_path(&sd, "service-0.pem"),
                                  "--statement", sd_path(&sd, "statement.cbor"),
                                  "--receipt",   sd_path(&sd, "tampered.cbor"),
                                  NULL};
        expect_harness(1, "verify-receipt", tampered);
        free(r);
        /* the transparent statement, with the issuer's own signature checked too */
        snprintf(path, sizeof(path), "/entries/%s/statement", id);
        r = sd_get(&sd, path);
        assert_int_equal(r->status, 200);
        put("transparent.cbor", sd_body(r));
        free(r);
        const char *ts[] = {"--key",
                            sd_path(&sd, "service-0.pem"),
                            "--transparent",
                            sd_path(&sd, "transparent.cbor"),
                            "--issuer-key",
                            sd_path(&sd, "issuer.pem"),
                            NULL};
        expect_harness(0, "verify-receipt", ts);
        /* under the issuer's key instead of the service's, it must not verify */
        const char *wrong[] = {"--key", sd_path(&sd, "issuer.pem"), "--transparent",
                               sd_path(&sd, "transparent.cbor"), NULL};
        expect_harness(1, "verify-receipt", wrong);
    }
    for (int i = 0; i < 5; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

static void test_interop_receipts_es256(void **state)
{
    (void)state;
    receipts_case("ES256");
}

static void test_interop_receipts_eddsa(void **state)
{
    (void)state;
    receipts_case("EdDSA");
}

/* Writes checkpoint @p cp as @p name. */
static void put_checkpoint(const sd_checkpoint *cp, const char *name)
{
    put(name, scitt_span_str(cp->text));
}

/*
 * Consistency receipts from /proofs/consistency between signed tree heads at sizes 4 (a power of
 * two: RFC 9162 leaves the old root out of the path), 7 and 13 verify with verify-receipt in
 * strict RFC 9162 mode, and fail against a wrong old root.
 */
static void test_interop_consistency(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    put_service_keys(keys);
    sd_config c;
    sd_get_config(&sd, &c);
    scitt_dynbuf st[12];
    for (int i = 0; i < 12; i++) {
        char sub[32];
        snprintf(sub, sizeof(sub), "pkg:cons/%d", i);
        sd_statement(&alice, sub, "{}", &st[i]);
    }
    static sd_checkpoint cps[3];
    size_t at = 0, ends[3] = {3, 6, 12};
    for (size_t k = 0; k < 3; k++) {
        sd_register_many(&sd, keys, st + at, ends[k] - at, NULL);
        at = ends[k];
        sd_get_checkpoint(&sd, &c, &cps[k]);
        assert_int_equal(cps[k].cp.size, ends[k] + 1);
    }
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = a + 1; b < 3; b++) {
            char path[128], old_root[65], new_root[65], bad_root[65];
            snprintf(path, sizeof(path), "/proofs/consistency?from=%llu&to=%llu",
                     (unsigned long long)cps[a].cp.size, (unsigned long long)cps[b].cp.size);
            it_resp *r = sd_get(&sd, path);
            assert_int_equal(r->status, 200);
            put("consistency.cbor", sd_body(r));
            free(r);
            hex32(cps[a].cp.root, old_root);
            hex32(cps[b].cp.root, new_root);
            const char *ok[] = {"--consistency",
                                sd_path(&sd, "consistency.cbor"),
                                "--key",
                                sd_path(&sd, "service-0.pem"),
                                "--old-root",
                                old_root,
                                "--new-root",
                                new_root,
                                "--proof-style",
                                "rfc9162",
                                NULL};
            expect_harness(0, "verify-receipt", ok);
            memcpy(bad_root, old_root, sizeof(bad_root));
            bad_root[0] = bad_root[0] == '0' ? '1' : '0';
            const char *bad[] = {"--consistency",
                                 sd_path(&sd, "consistency.cbor"),
                                 "--key",
                                 sd_path(&sd, "service-0.pem"),
                                 "--old-root",
                                 bad_root,
                                 "--new-root",
                                 new_root,
                                 "--proof-style",
                                 "rfc9162",
                                 NULL};
            expect_harness(1, "verify-receipt", bad);
        }
    }
    for (int i = 0; i < 12; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * x/mod on the C2SP API over HTTP: the checkpoint signature with the vkey from the configuration
 * document; the tree hash and inclusion of the first, last and partial-tile entries taken from
 * the entry bundles; our own inclusion and consistency proofs; consistency between a checkpoint
 * at 130 entries and one at 300 (one full tile and a partial one); a tampered checkpoint refused.
 */
static void test_interop_tlog(void **state)
{
    (void)state;
    const sd_issuer *list[] = {&alice};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 1, NULL);
    const char *args[] = {"--policy", sd_path(&sd, "policy.json"), "--origin",
                          "example.com/scittd-interop", NULL};
    sd_start(&sd, args);
    scitt_cose_keyset *keys = sd_keys(&sd);
    sd_config c;
    sd_get_config(&sd, &c);
    put("vkey.txt", scitt_span_str(c.vkey));
    char vkey[200], tiles[64], url[96];
    snprintf(vkey, sizeof(vkey), "@%s", sd_path(&sd, "vkey.txt"));
    snprintf(tiles, sizeof(tiles), "http://127.0.0.1:%d", sd.port);
    snprintf(url, sizeof(url), "%s/checkpoint", tiles);
    enum { N = 299 };
    scitt_dynbuf *st = calloc(N, sizeof(*st));
    assert_non_null(st);
    for (size_t i = 0; i < N; i++) {
        char sub[32];
        snprintf(sub, sizeof(sub), "pkg:tlog/%zu", i);
        sd_statement(&alice, sub, "{}", &st[i]);
    }
    static sd_checkpoint old_cp, new_cp;
    sd_register_many(&sd, keys, st, 129, NULL);
    sd_get_checkpoint(&sd, &c, &old_cp);
    assert_int_equal(old_cp.cp.size, 130);
    put_checkpoint(&old_cp, "old.checkpoint");
    static uint64_t index[N];
    sd_register_many(&sd, keys, st + 129, N - 129, index + 129);
    sd_get_checkpoint(&sd, &c, &new_cp);
    assert_int_equal(new_cp.cp.size, 300);
    put_checkpoint(&new_cp, "new.checkpoint");

    const char *cp[] = {"checkpoint", "-vkey", vkey, "-origin", c.origin, url, NULL};
    expect_harness(0, "tlogcheck", cp);
    for (int i = 0; i < 4; i++) {
        const char *idx[] = {"0", "255", "260", "299"};
        const char *incl[] = {"inclusion", "-vkey",   vkey,     "-tiles",       tiles, "-index",
                              idx[i],      "-origin", c.origin, "-from-bundle", NULL};
        expect_harness(0, "tlogcheck", incl);
    }
    /* An entry in the old tree, against the old checkpoint (the tiles are read at its size). */
    const char *old_incl[] = {"inclusion",
                              "-vkey",
                              vkey,
                              "-tiles",
                              tiles,
                              "-checkpoint",
                              sd_path(&sd, "old.checkpoint"),
                              "-index",
                              "129",
                              "-from-bundle",
                              NULL};
    expect_harness(0, "tlogcheck", old_incl);
    /* Our entry bytes and our receipt's inclusion proof, for a statement in the partial tile. */
    size_t pick = N - 1;
    for (size_t i = 129; i < N; i++) {
        if (index[i] >= 256) {
            pick = i;
            break;
        }
    }
    char id[65], path[160], idx[24];
    scitt_dynbuf e;
    sd_entry(span(&st[pick]), &e, id);
    put("entry.bin", span(&e));
    scitt_dynbuf_clear(&e);
    snprintf(path, sizeof(path), "/entries/%s", id);
    it_resp *r = sd_get(&sd, path);
    assert_int_equal(r->status, 200);
    uint64_t psize, pindex;
    put_proof(sd_body(r), SCITT_VDP_INCLUSION, "inclusion.proof", &psize, &pindex);
    free(r);
    assert_int_equal(psize, 300);
    assert_int_equal(pindex, index[pick]);
    snprintf(idx, sizeof(idx), "%llu", (unsigned long long)pindex);
    const char *ours[] = {"inclusion",
                          "-vkey",
                          vkey,
                          "-tiles",
                          tiles,
                          "-index",
                          idx,
                          "-entry",
                          sd_path(&sd, "entry.bin"),
                          "-proof",
                          sd_path(&sd, "inclusion.proof"),
                          NULL};
    expect_harness(0, "tlogcheck", ours);
    /* Consistency from x/mod's own proof over our tiles, and of our consistency receipt. */
    r = sd_get(&sd, "/proofs/consistency?from=130&to=300");
    assert_int_equal(r->status, 200);
    uint64_t from, to;
    put_proof(sd_body(r), SCITT_VDP_CONSISTENCY, "consistency.proof", &from, &to);
    free(r);
    assert_int_equal(from, 130);
    assert_int_equal(to, 300);
    const char *cons[] = {"consistency",
                          "-vkey",
                          vkey,
                          "-origin",
                          c.origin,
                          "-old",
                          sd_path(&sd, "old.checkpoint"),
                          "-new",
                          sd_path(&sd, "new.checkpoint"),
                          "-tiles",
                          tiles,
                          "-proof",
                          sd_path(&sd, "consistency.proof"),
                          NULL};
    expect_harness(0, "tlogcheck", cons);
    /* A checkpoint whose size was changed must be refused. */
    char tampered[sizeof(new_cp.text)];
    snprintf(tampered, sizeof(tampered), "%s", new_cp.text);
    char *nl = strchr(tampered, '\n');
    assert_non_null(nl);
    assert_int_equal(memcmp(nl + 1, "300\n", 4), 0);
    nl[3] = '1';
    put("tampered.checkpoint", scitt_span_str(tampered));
    const char *bad[] = {"checkpoint", "-vkey", vkey, sd_path(&sd, "tampered.checkpoint"), NULL};
    expect_harness(1, "tlogcheck", bad);
    for (size_t i = 0; i < N; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
    free(st);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * Statements signed by @transmute/cose (tests/data/interop/fixtures/js/entries, ES256, kid = the
 * JWK's kid as text) register under a policy pinning the fixture issuer's JWK; their receipts and
 * transparent statements verify with @transmute/cose, issuer signature included.
 */
static void test_interop_js_statements(void **state)
{
    (void)state;
    size_t jl;
    uint8_t *jwk = tu_read_file(tu_shared("interop/fixtures/js/issuer.jwk.json"), &jl);
    assert_non_null(jwk);
    scitt_dynbuf pol;
    scitt_dynbuf_init(&pol, 0);
    scitt_dynbuf_printf(&pol,
                        "{\"version\": 1, \"issuers\": [{\"iss\": \"https://issuer.example\", "
                        "\"keys\": [%.*s]}]}\n",
                        (int)jl, (const char *)jwk);
    put("policy.json", span(&pol));
    scitt_dynbuf_clear(&pol);
    free(jwk);
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    put_service_keys(keys);
    /* tu_shared returns one static buffer: keep copies of the paths */
    static char issuer_jwk[4096], stmt_path[4096];
    snprintf(issuer_jwk, sizeof(issuer_jwk), "%s",
             tu_shared("interop/fixtures/js/issuer.jwk.json"));
    for (int i = 0; i <= 10; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "interop/fixtures/js/entries/%04d.cbor", i);
        size_t sl;
        snprintf(stmt_path, sizeof(stmt_path), "%s", tu_shared(rel));
        uint8_t *s = tu_read_file(stmt_path, &sl);
        assert_non_null(s);
        scitt_span stmt = scitt_span_make(s, sl);
        scitt_receipt_info info;
        scitt_dynbuf receipt;
        assert_int_equal(sd_register(&sd, keys, stmt, &info, &receipt), (uint64_t)i + 1);
        put("receipt.cbor", span(&receipt));
        scitt_dynbuf_clear(&receipt);
        /* their unprotected header is already empty: the registered form is the file itself */
        char id[65], path[160], idx[24], size[24];
        scitt_dynbuf e;
        sd_entry(stmt, &e, id);
        assert_true(scitt_span_eq(span(&e), stmt));
        scitt_dynbuf_clear(&e);
        snprintf(idx, sizeof(idx), "%d", i + 1);
        snprintf(size, sizeof(size), "%llu", (unsigned long long)info.tree_size);
        const char *ok[] = {"--key",
                            sd_path(&sd, "service-0.pem"),
                            "--statement",
                            tu_shared(rel),
                            "--receipt",
                            sd_path(&sd, "receipt.cbor"),
                            "--issuer-key",
                            issuer_jwk,
                            "--expect-size",
                            size,
                            "--expect-index",
                            idx,
                            NULL};
        expect_harness(0, "verify-receipt", ok);
        snprintf(path, sizeof(path), "/entries/%s/statement", id);
        it_resp *r = sd_get(&sd, path);
        assert_int_equal(r->status, 200);
        put("transparent.cbor", sd_body(r));
        free(r);
        const char *ts[] = {"--key",
                            sd_path(&sd, "service-0.pem"),
                            "--transparent",
                            sd_path(&sd, "transparent.cbor"),
                            "--issuer-key",
                            issuer_jwk,
                            NULL};
        expect_harness(0, "verify-receipt", ts);
        free(s);
    }
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* True when the harness is installed at $SCITT_INTEROP_HOME. */
static bool harness_ready(char *why, size_t cap)
{
    const char *h = getenv("SCITT_INTEROP_HOME");
    if (!h || !*h) {
        snprintf(why, cap, "SCITT_INTEROP_HOME is not set");
        return false;
    }
    snprintf(harness, sizeof(harness), "%s", h);
    static const char *const need[] = {"bin/verify-receipt", "bin/tlogcheck", "go/bin/tlogcheck",
                                       "lib/env.sh"};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        char p[1200];
        snprintf(p, sizeof(p), "%s/%s", h, need[i]);
        if (access(p, R_OK) != 0) {
            snprintf(why, cap, "%s is missing (run the ctest fixture interop.setup)", p);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    char why[1400];
    if (!harness_ready(why, sizeof(why))) {
        fprintf(stderr,
                "FAIL: the interop harness is not installed (the interop.setup fixture "
                "installs it): %s\n",
                why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_interop_receipts_es256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interop_receipts_eddsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interop_consistency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interop_tlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interop_js_statements, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
