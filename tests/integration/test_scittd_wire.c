/*
 * scittd on the wire for clients of every generation: RFC 9943 media types chosen by Accept, no
 * receipt over a one-leaf tree (RFC 9942's [+ bstr]), the discovery document's absolute jwks_uri
 * and the /jwks kids older clients compare with the receipt kid, gzip of C2SP tiles and entry
 * bundles, and the older SCRAPI operation flow (202 + /operations/{id}) in compatibility mode.
 *
 * Run as `test_scittd_wire <case>`: each ctest entry runs one case with its own daemon.
 */
#include "scittd_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

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

static void expect_type(const it_resp *r, int status, const char *type)
{
    if (r->status != status) {
        fail_msg("status %d, wanted %d: %.*s", r->status, status, (int)r->body_len,
                 (const char *)r->body);
    }
    sd_expect_header(r, "Content-Type", type);
}

/*
 * RFC 9943 media types: POST /entries takes application/scitt-statement+cose as well as
 * application/cose (and nothing else); receipts and transparent statements are labelled
 * application/scitt-receipt+cose / application/scitt-statement+cose when Accept names them, and
 * application/cose otherwise (no Accept, any range, q=0, the other type).
 */
static void test_media_types(void **state)
{
    (void)state;
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf s1, s2, s3;
    sd_statement(&alice, "pkg:media@1", "{}", &s1);
    sd_statement(&alice, "pkg:media@2", "{}", &s2);
    sd_statement(&alice, "pkg:media@3", "{}", &s3);
    /* The RFC 9943 statement type is accepted, and the receipt labelled as asked. */
    it_resp *r = sd_call(&sd, "POST", "/entries",
                         "Content-Type: application/scitt-statement+cose\r\n"
                         "Accept: application/scitt-receipt+cose\r\n",
                         scitt_span_make(s1.ptr, s1.len));
    expect_type(r, 201, "application/scitt-receipt+cose");
    sd_verify_receipt(sd_body(r), scitt_span_make(s1.ptr, s1.len), keys, NULL);
    char loc[128];
    assert_non_null(it_header(r, "Location", loc, sizeof(loc)));
    free(r);
    /* Parameters and case do not matter; an Accept without the type gets application/cose. */
    r = sd_call(&sd, "POST", "/entries",
                "Content-Type: Application/SCITT-Statement+COSE; charset=binary\r\n"
                "Accept: application/cbor, */*;q=0.1\r\n",
                scitt_span_make(s2.ptr, s2.len));
    expect_type(r, 201, "application/cose");
    free(r);
    /* Other media types are still refused. */
    r = sd_call(&sd, "POST", "/entries", "Content-Type: application/scitt-receipt+cose\r\n",
                scitt_span_make(s3.ptr, s3.len));
    sd_expect_problem(r, 415, NULL, NULL);
    free(r);
    r = sd_call(&sd, "POST", "/entries", "Content-Type: application/cbor\r\n",
                scitt_span_make(s3.ptr, s3.len));
    sd_expect_problem(r, 415, NULL, NULL);
    free(r);

    static const struct {
        const char *accept;
        bool statement;
        const char *want;
    } cases[] = {
        {NULL, false, "application/cose"},
        {"Accept: application/scitt-receipt+cose\r\n", false, "application/scitt-receipt+cose"},
        {"Accept: text/html, APPLICATION/scitt-receipt+cose;q=0.5\r\n", false,
         "application/scitt-receipt+cose"},
        {"Accept: application/scitt-receipt+cose;q=0\r\n", false, "application/cose"},
        {"Accept: application/scitt-receipt+cose; q=0.000\r\n", false, "application/cose"},
        {"Accept: application/scitt-statement+cose\r\n", false, "application/cose"},
        {"Accept: */*\r\n", false, "application/cose"},
        {"Accept: application/scitt-statement+cose\r\n", true, "application/scitt-statement+cose"},
        {"Accept: application/scitt-receipt+cose\r\n", true, "application/cose"},
        {NULL, true, "application/cose"},
        {"Accept: application/scitt-statement+coseX\r\n", true, "application/cose"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s%s", loc, cases[i].statement ? "/statement" : "");
        r = sd_call(&sd, "GET", path, cases[i].accept, scitt_span_make(NULL, 0));
        expect_type(r, 200, cases[i].want);
        if (cases[i].statement) {
            assert_int_equal(
                scitt_receipt_verify_transparent(sd_body(r), keys, SD_VERIFY_FLAGS, NULL),
                SCITT_OK);
        } else {
            sd_verify_receipt(sd_body(r), scitt_span_make(s1.ptr, s1.len), keys, NULL);
        }
        free(r);
    }
    /* Consistency receipts are receipts too. */
    r = sd_call(&sd, "GET", "/proofs/consistency?from=1&to=3",
                "Accept: application/scitt-receipt+cose\r\n", scitt_span_make(NULL, 0));
    expect_type(r, 200, "application/scitt-receipt+cose");
    free(r);
    scitt_dynbuf_clear(&s1);
    scitt_dynbuf_clear(&s2);
    scitt_dynbuf_clear(&s3);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* The entry ID of leaf 0, and the entry, read from the first entry bundle. */
static void first_entry_id(char id[65], scitt_dynbuf *entry)
{
    it_resp *r = sd_get(&sd, "/tile/entries/000.p/1");
    assert_int_equal(r->status, 200);
    assert_true(r->body_len > 2);
    size_t len = ((size_t)r->body[0] << 8) | r->body[1];
    assert_int_equal(len + 2, r->body_len);
    uint8_t digest[32];
    unsigned dl = 0;
    assert_int_equal(EVP_Digest(r->body + 2, len, digest, &dl, EVP_sha256(), NULL), 1);
    assert_int_equal(scitt_hex_encode(scitt_span_make(digest, 32), id, 65), SCITT_OK);
    scitt_dynbuf_init(entry, 0);
    scitt_dynbuf_put(entry, r->body + 2, len);
    free(r);
}

/*
 * No receipt over a one-leaf tree: a new service logs its registration policy as entry 0, so
 * every statement it registers sits in a tree of two leaves or more; entry 0's own receipt is
 * refused (404, saying why) until a second entry exists, then issued with a non-empty path.
 */
static void test_one_leaf(void **state)
{
    (void)state;
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    sd_config c;
    sd_get_config(&sd, &c);
    assert_int_equal(c.policy_entry, 0);
    char id[65], path[160];
    scitt_dynbuf entry;
    first_entry_id(id, &entry);
    snprintf(path, sizeof(path), "/entries/%s", id);
    it_resp *r = sd_get(&sd, path);
    sd_expect_problem(r, 404, "Not Found", "one-leaf tree");
    free(r);
    snprintf(path, sizeof(path), "/entries/%s/statement", id);
    r = sd_get(&sd, path);
    sd_expect_problem(r, 404, "Not Found", "one-leaf tree");
    free(r);
    /* The first statement registered is leaf 1 of a tree of 2. */
    scitt_dynbuf s;
    sd_statement(&alice, "pkg:first@1", "{}", &s);
    scitt_receipt_info info;
    assert_int_equal(sd_register(&sd, keys, scitt_span_make(s.ptr, s.len), &info, NULL), 1);
    assert_int_equal(info.tree_size, 2);
    snprintf(path, sizeof(path), "/entries/%s", id);
    r = sd_get(&sd, path);
    assert_int_equal(r->status, 200);
    assert_int_equal(scitt_receipt_verify_inclusion(sd_body(r),
                                                    scitt_span_make(entry.ptr, entry.len), keys,
                                                    SD_VERIFY_FLAGS, &info),
                     SCITT_OK);
    assert_int_equal(info.leaf_index, 0);
    assert_int_equal(info.tree_size, 2);
    free(r);
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&s);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

static bool body_has(const it_resp *r, const char *s)
{
    return r->body_len >= strlen(s) && memmem(r->body, r->body_len, s, strlen(s)) != NULL;
}

/*
 * Discovery for older clients: jwks_uri is absolute, from --public-url (trailing slash or not),
 * else from the Host the client used; a Host that is not a plain authority leaves it relative.
 * A --public-url that is not an http(s) URL is refused at start.
 */
static void test_discovery(void **state)
{
    (void)state;
    const char *more[] = {"--public-url", "https://scitt.example.com/base/", NULL};
    sd_start_policy(&sd, more);
    it_resp *r = sd_get(&sd, "/.well-known/transparency-configuration");
    assert_int_equal(r->status, 200);
    assert_true(body_has(r, "https://scitt.example.com/base/jwks"));
    free(r);
    r = sd_get(&sd, "/jwks");
    assert_int_equal(r->status, 200);
    free(r);
    sd_stop(&sd);
    sd_start_policy(&sd, NULL);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1/jwks");
    r = sd_get(&sd, "/.well-known/transparency-configuration");
    assert_true(body_has(r, want));
    free(r);
    r = sd_call(&sd, "GET", "/.well-known/transparency-configuration", "Host: evil.example/x?y\r\n",
                scitt_span_make(NULL, 0));
    /* two Host headers or a bad one: never echoed into the document */
    assert_false(body_has(r, "evil.example"));
    free(r);
    sd_stop(&sd);
    static const char *bad[] = {"ftp://x.example",      "https://", "https:///x", "https://a b",
                                "https://x.example/?q", "x.example"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char cmd[10000];
        snprintf(cmd, sizeof(cmd), "'%s' --public-url '%s' --data '%s' >/dev/null 2>&1", sd_bin(),
                 bad[i], sd_path(&sd, "never"));
        int st = system(cmd);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 2);
    }
}

/* The operation ID of a 202 in the operation flow, from its Location. */
static void operation_location(const it_resp *r, char *loc, size_t cap)
{
    assert_int_equal(r->status, 202);
    assert_non_null(it_header(r, "Location", loc, cap));
    assert_int_equal(strncmp(loc, "/operations/", 12), 0);
    sd_expect_header(r, "Retry-After", "1");
    sd_expect_header(r, "Content-Type", "application/cbor");
}

/*
 * --compat-operations: POST /entries answers 202 + Location /operations/{id} + Retry-After and a
 * CBOR operation "running"; polling it gives "running" then "succeeded" with the entry ID, whose
 * receipt then verifies. Unknown operations are 404; without the mode there is no such route.
 */
/* The body is exactly {"Status": status, KEY: id} in deterministic order: the spelling of the
 * published API description (OperationID, EntryID, Status), which strict clients match by case. */
static void expect_operation(const it_resp *r, const char *status, const char *key, const char *id)
{
    uint8_t buf[256];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_cstr(&w, "Status");
    scitt_cbor_put_cstr(&w, status);
    scitt_cbor_put_cstr(&w, key);
    scitt_cbor_put_cstr(&w, id);
    scitt_span want;
    assert_int_equal(scitt_cbor_writer_finish(&w, &want), SCITT_OK);
    scitt_span got = sd_body(r);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.ptr, want.ptr, want.len);
}

static void test_compat_operations(void **state)
{
    (void)state;
    it_resp *r;
    sd_start_policy(&sd, NULL);
    r = sd_get(&sd, "/operations/0000000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(r->status, 404);
    free(r);
    sd_stop(&sd);

    const char *more[] = {"--compat-operations", NULL};
    sd_start_policy(&sd, more);
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf s;
    sd_statement(&alice, "pkg:compat@1", "{}", &s);
    r = sd_post(&sd, scitt_span_make(s.ptr, s.len), NULL);
    char loc[160];
    operation_location(r, loc, sizeof(loc));
    scitt_dynbuf entry;
    char id[65];
    sd_entry(scitt_span_make(s.ptr, s.len), &entry, id);
    assert_string_equal(loc + 12, id);
    expect_operation(r, "running", "OperationID", id);
    free(r);
    bool done = false;
    for (int i = 0; i < 200 && !done; i++) {
        r = sd_get(&sd, loc);
        assert_int_equal(r->status, 200);
        sd_expect_header(r, "Content-Type", "application/cbor");
        if (body_has(r, "succeeded")) {
            expect_operation(r, "succeeded", "EntryID", id);
            done = true;
        } else {
            expect_operation(r, "running", "OperationID", id);
            sd_expect_header(r, "Retry-After", "1");
            usleep(20000);
        }
        free(r);
    }
    assert_true(done);
    char path[160];
    snprintf(path, sizeof(path), "/entries/%s", id);
    r = sd_get(&sd, path);
    assert_int_equal(r->status, 200);
    sd_verify_receipt(sd_body(r), scitt_span_make(s.ptr, s.len), keys, NULL);
    free(r);
    /* The same statement again: a new operation for the same entry, which succeeds. */
    r = sd_post(&sd, scitt_span_make(s.ptr, s.len), NULL);
    operation_location(r, loc, sizeof(loc));
    free(r);
    r = sd_get(&sd, "/operations/1111111111111111111111111111111111111111111111111111111111111111");
    sd_expect_problem(r, 404, "Operation Not Found", NULL);
    free(r);
    r = sd_get(&sd, "/operations/xyz");
    sd_expect_problem(r, 404, "Operation Not Found", NULL);
    free(r);
    /* A statement the policy refuses is refused at once, as before (400, not an operation). */
    sd_issuer mallory;
    sd_issuer_init(&mallory, SCITT_COSE_ALG_ES256, "https://mallory.example");
    scitt_dynbuf bad;
    sd_statement(&mallory, "pkg:compat@2", "{}", &bad);
    r = sd_post(&sd, scitt_span_make(bad.ptr, bad.len), NULL);
    assert_int_equal(r->status, 400);
    free(r);
    scitt_dynbuf_clear(&bad);
    sd_issuer_clear(&mallory);
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&s);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* Inflates a gzip body (RFC 1952) into @p out. */
static void gunzip(const it_resp *r, scitt_dynbuf *out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    scitt_dynbuf_init(out, 0);
    uint8_t chunk[4096];
    z.next_in = (Bytef *)r->body;
    z.avail_in = (uInt)r->body_len;
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        rc = inflate(&z, Z_NO_FLUSH);
        assert_true(rc == Z_OK || rc == Z_STREAM_END);
        scitt_dynbuf_put(out, chunk, sizeof(chunk) - z.avail_out);
    } while (rc != Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* nothing after the gzip member */
    inflateEnd(&z);
}

/*
 * C2SP tiles and entry bundles are gzipped for a client that sends Accept-Encoding: gzip (and
 * only then: q=0 and identity get the plain bytes), with Vary: Accept-Encoding on both; the
 * inflated body is byte for byte the plain one.
 */
static void test_gzip(void **state)
{
    (void)state;
    sd_start_policy(&sd, NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    for (int i = 0; i < 5; i++) {
        char sub[32];
        snprintf(sub, sizeof(sub), "pkg:gzip@%d", i);
        scitt_dynbuf s;
        sd_statement(&alice, sub, "{\"same\": \"text, compresses well\"}", &s);
        sd_register(&sd, keys, scitt_span_make(s.ptr, s.len), NULL, NULL);
        scitt_dynbuf_clear(&s);
    }
    static const char *paths[] = {"/tile/0/000.p/6", "/tile/entries/000.p/6"};
    for (size_t i = 0; i < 2; i++) {
        it_resp *plain = sd_get(&sd, paths[i]);
        assert_int_equal(plain->status, 200);
        sd_expect_header(plain, "Vary", "Accept-Encoding");
        char v[64];
        assert_null(it_header(plain, "Content-Encoding", v, sizeof(v)));
        it_resp *gz = sd_call(&sd, "GET", paths[i], "Accept-Encoding: br, GZIP;q=0.8\r\n",
                              scitt_span_make(NULL, 0));
        assert_int_equal(gz->status, 200);
        sd_expect_header(gz, "Content-Encoding", "gzip");
        sd_expect_header(gz, "Vary", "Accept-Encoding");
        sd_expect_header(gz, "Content-Type", "application/octet-stream");
        assert_true(gz->body_len >= 18 && gz->body[0] == 0x1f && gz->body[1] == 0x8b);
        scitt_dynbuf back;
        gunzip(gz, &back);
        assert_int_equal(back.len, plain->body_len);
        assert_memory_equal(back.ptr, plain->body, back.len);
        scitt_dynbuf_clear(&back);
        free(gz);
        static const char *no[] = {"Accept-Encoding: gzip;q=0\r\n", "Accept-Encoding: identity\r\n",
                                   "Accept-Encoding: gzipx, x-gzip2\r\n"};
        for (size_t k = 0; k < 3; k++) {
            it_resp *n = sd_call(&sd, "GET", paths[i], no[k], scitt_span_make(NULL, 0));
            assert_int_equal(n->status, 200);
            assert_null(it_header(n, "Content-Encoding", v, sizeof(v)));
            assert_int_equal(n->body_len, plain->body_len);
            assert_memory_equal(n->body, plain->body, n->body_len);
            free(n);
        }
        free(plain);
    }
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_media_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_leaf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compat_operations, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
