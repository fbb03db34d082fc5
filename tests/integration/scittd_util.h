/*
 * Helpers for the scittd integration tests: start the real daemon on 127.0.0.1 with a port it
 * picks itself (--listen 127.0.0.1:0 --print-ports) and a temporary data directory, talk to it
 * over HTTP (optionally TLS), make real Signed Statements, and check what it answers with the
 * library's verifiers. Every wait is bounded.
 *
 * A test binary includes this once; the daemon of the running case is the static `sd`.
 */
#ifndef SCITT_SCITTD_UTIL_H
#define SCITT_SCITTD_UTIL_H

#ifndef IT_BODY_MAX
#define IT_BODY_MAX (1 << 20)
#endif
#ifndef IT_CONN_BUF
#define IT_CONN_BUF (1 << 21)
#endif

#include "itest.h"
#include "stmt_util.h"

#include "scitt/cbor.h"
#include "scitt/merkle.h"
#include "scitt/note.h"
#include "scitt/receipt.h"

/* ---- the daemon ---- */

typedef struct sd_daemon {
    it_server srv;
    int port;
    char dir[128];  /* the test's scratch directory (removed at the end) */
    char data[160]; /* dir/data: the daemon's data directory */
    SSL_CTX *tls;   /* set when the daemon serves TLS: the client context trusting its cert */
} sd_daemon;

static inline const char *sd_bin(void)
{
    static char path[4096];
    const char *b = getenv("SCITT_BINARY_DIR");
    snprintf(path, sizeof(path), "%s/server/scittd", b ? b : ".");
    return path;
}

/* A fresh scratch directory with an empty data directory path in it. */
static inline void sd_init(sd_daemon *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/scittd-itest-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->data, sizeof(d->data), "%s/data", d->dir);
}

/* A path inside the scratch directory (static storage, one of four rotating slots). */
static inline const char *sd_path(const sd_daemon *d, const char *name)
{
    static char slots[4][256];
    static unsigned next;
    char *p = slots[next++ % 4];
    snprintf(p, 256, "%s/%s", d->dir, name);
    return p;
}

static inline void sd_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Copies a small file (under 64 KiB: a keystore, a policy) from @p from to @p to. */
static inline void sd_copy_file(const char *from, const char *to)
{
    static char buf[65536];
    FILE *f = fopen(from, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(buf));
    sd_write_file(to, buf, n);
}

static inline void sd_connect_conn(const sd_daemon *d, it_conn **out);

/* One GET on a fresh connection; 0 on a 200 within @p ms. */
static inline int sd_probe(const sd_daemon *d, const char *path, int ms);

/*
 * Starts scittd on the data directory with @p args (NULL-terminated) after the fixed ones, reads
 * its READY line and polls /healthz until it answers 200.
 */
static inline void sd_start(sd_daemon *d, const char *const *args)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = sd_bin();
    argv[n++] = "--data";
    argv[n++] = d->data;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--platform";
    argv[n++] = "virtual";
    argv[n++] = "--insecure-virtual";
    argv[n++] = "--print-ports";
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    for (size_t i = 0; args && args[i] && n < 62; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char line[128];
    it_spawn_ready(&d->srv, argv, line, sizeof(line));
    assert_int_equal(sscanf(line, "READY port=%d", &d->port), 1);
    double deadline = it_now() + 10;
    while (sd_probe(d, "/healthz", 2000) != 0) {
        if (it_now() > deadline) {
            fail_msg("scittd did not answer /healthz with 200");
        }
        it_sleep_ms(20);
    }
}

/* sd_start with "--policy <scratch>/policy.json" (as sd_write_policy wrote it) ahead of @p more. */
static inline void sd_start_policy(sd_daemon *d, const char *const *more)
{
    const char *args[48] = {"--policy", sd_path(d, "policy.json")};
    size_t n = 2;
    for (size_t i = 0; more && more[i] && n < 47; i++) {
        args[n++] = more[i];
    }
    args[n] = NULL;
    sd_start(d, args);
}

/* Runs scittd with @p args (NULL-terminated), stdout and stderr captured in @p out; its exit
 * status (-1: still running after 20 s, then killed). */
static inline int sd_run(const char *const *args, char *out, size_t cap)
{
    const char *argv[40] = {"sh", "-c", "exec \"$0\" \"$@\" 2>&1", sd_bin()};
    size_t n = 4;
    for (size_t i = 0; args[i] && n < 39; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return it_run(argv, out, cap, 20000);
}

/* SIGTERM; the daemon must stop cleanly (exit status 0) within 10 s. */
static inline void sd_stop(sd_daemon *d)
{
    if (d->srv.pid > 0) {
        assert_int_equal(it_stop(&d->srv), 0);
    }
}

/* Stops the daemon if it still runs and removes the scratch directory. */
static inline int sd_teardown(sd_daemon *d)
{
    int st = 0;
    if (d->srv.pid > 0) {
        st = it_stop(&d->srv);
    }
    if (d->tls) {
        SSL_CTX_free(d->tls);
        d->tls = NULL;
    }
    if (d->dir[0]) {
        char out[64];
        const char *argv[] = {"rm", "-rf", d->dir, NULL};
        (void)it_run(argv, out, sizeof(out), 30000);
        d->dir[0] = 0;
    }
    return st;
}

/* ---- HTTP ---- */

static inline void sd_connect_conn(const sd_daemon *d, it_conn **out)
{
    it_conn *c = it_connect(d->port);
    if (d->tls) {
        c->ssl = SSL_new(d->tls);
        assert_non_null(c->ssl);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set1_host(c->ssl, "localhost");
        if (SSL_connect(c->ssl) != 1) {
            fail_msg("TLS handshake with scittd failed");
        }
    }
    *out = c;
}

static inline it_conn *sd_connect(const sd_daemon *d)
{
    it_conn *c;
    sd_connect_conn(d, &c);
    return c;
}

/* Writes one request; @p headers are complete header lines ("Name: value\r\n"), may be NULL. */
static inline void sd_send(it_conn *c, const char *method, const char *path, const char *headers,
                           scitt_span body)
{
    char head[4096];
    int n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                     headers ? headers : "");
    assert_true(n > 0 && (size_t)n < sizeof(head) - 64);
    if (body.len > 0 || strcmp(method, "POST") == 0) {
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n", body.len);
    }
    n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
    it_send(c, head, (size_t)n);
    if (body.len > 0) {
        it_send(c, body.ptr, body.len);
    }
}

/* Reads the next response within 20 s into a heap response (free with free()). */
static inline it_resp *sd_recv(it_conn *c)
{
    it_resp *r = malloc(sizeof(*r));
    assert_non_null(r);
    if (it_read(c, r, 20000, false) != 1) {
        fail_msg("no complete response from scittd within 20 s");
    }
    return r;
}

/* One request on a fresh connection. */
static inline it_resp *sd_call(const sd_daemon *d, const char *method, const char *path,
                               const char *headers, scitt_span body)
{
    it_conn *c = sd_connect(d);
    sd_send(c, method, path, headers, body);
    it_resp *r = sd_recv(c);
    it_close(c);
    return r;
}

static inline it_resp *sd_get(const sd_daemon *d, const char *path)
{
    return sd_call(d, "GET", path, NULL, scitt_span_make(NULL, 0));
}

static inline it_resp *sd_post(const sd_daemon *d, scitt_span stmt, const char *more_headers)
{
    char h[1024];
    snprintf(h, sizeof(h), "Content-Type: application/cose\r\n%s",
             more_headers ? more_headers : "");
    return sd_call(d, "POST", "/entries", h, stmt);
}

static inline int sd_probe(const sd_daemon *d, const char *path, int ms)
{
    it_conn *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->fd = it_connect_fd(d->port);
    if (c->fd < 0) {
        free(c);
        return -1;
    }
    if (d->tls) {
        c->ssl = SSL_new(d->tls);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set1_host(c->ssl, "localhost");
        if (SSL_connect(c->ssl) != 1) {
            it_close(c);
            return -1;
        }
    }
    sd_send(c, "GET", path, NULL, scitt_span_make(NULL, 0));
    it_resp *r = malloc(sizeof(*r));
    assert_non_null(r);
    int ok = it_read(c, r, ms, false) == 1 && r->status == 200 ? 0 : -1;
    free(r);
    it_close(c);
    return ok;
}

static inline scitt_span sd_body(const it_resp *r)
{
    return scitt_span_make(r->body, r->body_len);
}

/* Asserts header @p name equals @p want. */
static inline void sd_expect_header(const it_resp *r, const char *name, const char *want)
{
    char v[512];
    if (!it_header(r, name, v, sizeof(v))) {
        fail_msg("response %d has no %s header", r->status, name);
    }
    if (strcmp(v, want) != 0) {
        fail_msg("%s is \"%s\", wanted \"%s\"", name, v, want);
    }
}

/*
 * Asserts an error response: @p status, a problem-details body whose title is @p title (NULL:
 * any) and whose detail contains @p detail_part (NULL: any non-empty detail).
 */
static inline void sd_expect_problem(const it_resp *r, int status, const char *title,
                                     const char *detail_part)
{
    char t[512], dt[512];
    if (r->status != status) {
        fail_msg("status %d, wanted %d (%.*s)", r->status, status, (int)r->body_len,
                 (const char *)r->body);
    }
    it_problem(r, t, dt, sizeof(t));
    if (title && strcmp(t, title) != 0) {
        fail_msg("title \"%s\", wanted \"%s\" (detail \"%s\")", t, title, dt);
    }
    if (detail_part && !strstr(dt, detail_part)) {
        fail_msg("detail \"%s\" does not mention \"%s\"", dt, detail_part);
    }
}

/* ---- statements ---- */

typedef struct sd_issuer {
    scitt_cose_key *key;
    char iss[128];
    char jwk[1024]; /* the public key as a JWK, for a policy's pinned keys */
} sd_issuer;

static inline void sd_issuer_init(sd_issuer *is, int64_t alg, const char *iss)
{
    memset(is, 0, sizeof(*is));
    assert_int_equal(scitt_cose_key_generate(alg, &is->key), SCITT_OK);
    snprintf(is->iss, sizeof(is->iss), "%s", iss);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_cose_key_encode_jwk(is->key, false, &b), SCITT_OK);
    assert_true(b.len < sizeof(is->jwk));
    memcpy(is->jwk, b.ptr, b.len);
    is->jwk[b.len] = 0;
    scitt_dynbuf_clear(&b);
}

static inline void sd_issuer_clear(sd_issuer *is)
{
    scitt_cose_key_free(is->key);
    is->key = NULL;
}

/* A Signed Statement by @p is about @p sub with a JSON payload; @p flags as su_opts.flags. */
static inline void sd_statement_ex(const sd_issuer *is, const char *sub, const char *payload,
                                   unsigned flags, scitt_dynbuf *out)
{
    scitt_dynbuf_init(out, 0);
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = is->iss;
    o.sub = sub;
    o.with_kid = true;
    o.content_type = "application/json";
    o.flags = flags;
    assert_int_equal(su_statement(is->key, &o, scitt_span_str(payload), out), SCITT_OK);
}

static inline void sd_statement(const sd_issuer *is, const char *sub, const char *payload,
                                scitt_dynbuf *out)
{
    sd_statement_ex(is, sub, payload, 0, out);
}

/*
 * Writes a policy pinning each issuer's key for its exact iss, with @p extra members (e.g.
 * "\"algorithms\": [\"ES256\"], ", may be NULL) before "issuers".
 */
static inline void sd_write_policy(const char *path, const sd_issuer *const *iss, size_t n,
                                   const char *extra)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_printf(&b, "{\"version\": 1, %s\"issuers\": [", extra ? extra : "");
    for (size_t i = 0; i < n; i++) {
        scitt_dynbuf_printf(&b, "%s{\"iss\": \"%s\", \"keys\": [%s]}", i ? ", " : "", iss[i]->iss,
                            iss[i]->jwk);
    }
    scitt_dynbuf_str(&b, "]}\n");
    assert_int_equal(b.err, SCITT_OK);
    sd_write_file(path, b.ptr, b.len);
    scitt_dynbuf_clear(&b);
}

/* The registered form of @p stmt (what the log holds) and its entry ID in lowercase hex. */
static inline void sd_entry(scitt_span stmt, scitt_dynbuf *entry, char id[65])
{
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(stmt, SCITT_SIGN1_UNTAGGED, &m), SCITT_OK);
    scitt_dynbuf_init(entry, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, entry);
    assert_int_equal(scitt_receipt_entry(&m, &w), SCITT_OK);
    assert_int_equal(scitt_cbor_writer_finish(&w, NULL), SCITT_OK);
    uint8_t h[32];
    scitt_sha256(entry->ptr, entry->len, h);
    assert_int_equal(scitt_hex_encode(scitt_span_make(h, 32), id, 65), SCITT_OK);
}

/* ---- what the service publishes ---- */

static inline scitt_cose_keyset *sd_keys(const sd_daemon *d)
{
    it_resp *r = sd_call(d, "GET", "/.well-known/scitt-keys", "Accept: application/cbor\r\n",
                         scitt_span_make(NULL, 0));
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/cbor");
    scitt_cose_keyset *ks = NULL;
    assert_int_equal(scitt_cose_keyset_from_cose(sd_body(r), &ks), SCITT_OK);
    assert_true(scitt_cose_keyset_count(ks) >= 1);
    free(r);
    return ks;
}

/* The transparency configuration document, decoded. */
typedef struct sd_config {
    char issuer[256], origin[256], vkey[512], platform[32];
    bool insecure;
    uint64_t policy_entry;
    bool has_policy_warning;
} sd_config;

static inline void sd_text_copy(scitt_cbor_reader *rd, char *out, size_t cap)
{
    scitt_span t;
    assert_int_equal(scitt_cbor_read_text(rd, &t), SCITT_OK);
    assert_true(t.len < cap);
    memcpy(out, t.ptr, t.len);
    out[t.len] = 0;
}

static inline void sd_get_config(const sd_daemon *d, sd_config *c)
{
    memset(c, 0, sizeof(*c));
    it_resp *r = sd_get(d, "/.well-known/transparency-configuration");
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/cbor");
    scitt_cbor_reader rd;
    scitt_cbor_reader_init(&rd, sd_body(r));
    size_t n;
    assert_int_equal(scitt_cbor_read_map(&rd, &n), SCITT_OK);
    c->policy_entry = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        scitt_span k;
        assert_int_equal(scitt_cbor_read_text(&rd, &k), SCITT_OK);
        if (scitt_span_eq_str(k, "issuer")) {
            sd_text_copy(&rd, c->issuer, sizeof(c->issuer));
        } else if (scitt_span_eq_str(k, "origin")) {
            sd_text_copy(&rd, c->origin, sizeof(c->origin));
        } else if (scitt_span_eq_str(k, "checkpoint_vkey")) {
            sd_text_copy(&rd, c->vkey, sizeof(c->vkey));
        } else if (scitt_span_eq_str(k, "platform")) {
            sd_text_copy(&rd, c->platform, sizeof(c->platform));
        } else if (scitt_span_eq_str(k, "insecure")) {
            scitt_cbor_item it;
            assert_int_equal(scitt_cbor_next(&rd, &it), SCITT_OK);
            assert_true(it.type == SCITT_CBOR_TRUE || it.type == SCITT_CBOR_FALSE);
            c->insecure = it.type == SCITT_CBOR_TRUE;
        } else if (scitt_span_eq_str(k, "policy_entry")) {
            assert_int_equal(scitt_cbor_read_uint(&rd, &c->policy_entry), SCITT_OK);
        } else {
            c->has_policy_warning |= scitt_span_eq_str(k, "policy_warning");
            assert_int_equal(scitt_cbor_skip(&rd, NULL), SCITT_OK);
        }
    }
    assert_int_equal(scitt_cbor_reader_finish(&rd), SCITT_OK);
    free(r);
}

/* A verified checkpoint: the note text is kept so the parsed spans stay valid. */
typedef struct sd_checkpoint {
    char text[1024];
    scitt_checkpoint cp;
} sd_checkpoint;

static inline void sd_get_checkpoint(const sd_daemon *d, const sd_config *c, sd_checkpoint *out)
{
    it_resp *r = sd_get(d, "/checkpoint");
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "text/plain; charset=utf-8");
    assert_true(r->body_len < sizeof(out->text));
    memcpy(out->text, r->body, r->body_len);
    out->text[r->body_len] = 0;
    scitt_note_verifier v;
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(c->vkey), &v), SCITT_OK);
    assert_int_equal(scitt_checkpoint_open(scitt_span_make(out->text, r->body_len), &v, 1,
                                           scitt_span_str(c->origin), &out->cp, NULL),
                     SCITT_OK);
    free(r);
}

#define SD_VERIFY_FLAGS (SCITT_RECEIPT_REQUIRE_SUB | SCITT_RECEIPT_REQUIRE_SIZE)

/* Verifies an inclusion receipt for statement @p stmt with the library's verifier. */
static inline void sd_verify_receipt(scitt_span receipt, scitt_span stmt,
                                     const scitt_cose_keyset *keys, scitt_receipt_info *info)
{
    scitt_dynbuf entry;
    char id[65];
    sd_entry(stmt, &entry, id);
    scitt_err e = scitt_receipt_verify_inclusion(receipt, scitt_span_make(entry.ptr, entry.len),
                                                 keys, SD_VERIFY_FLAGS, info);
    scitt_dynbuf_clear(&entry);
    if (e != SCITT_OK) {
        fail_msg("receipt does not verify: %s", scitt_err_name(e));
    }
}

/*
 * Registers @p stmt synchronously: 201, application/cose, Location /entries/<entry id>, and a
 * receipt that verifies against @p keys. Returns the receipt's leaf index; @p info (may be NULL)
 * gets what the receipt says, @p receipt (may be NULL) a copy of it.
 */
static inline uint64_t sd_register(const sd_daemon *d, const scitt_cose_keyset *keys,
                                   scitt_span stmt, scitt_receipt_info *info, scitt_dynbuf *receipt)
{
    it_resp *r = sd_post(d, stmt, NULL);
    if (r->status != 201) {
        fail_msg("registration answered %d: %.*s", r->status, (int)r->body_len,
                 (const char *)r->body);
    }
    sd_expect_header(r, "Content-Type", "application/cose");
    scitt_dynbuf entry;
    char id[65], loc[80];
    sd_entry(stmt, &entry, id);
    scitt_dynbuf_clear(&entry);
    snprintf(loc, sizeof(loc), "/entries/%s", id);
    sd_expect_header(r, "Location", loc);
    scitt_receipt_info in;
    sd_verify_receipt(sd_body(r), stmt, keys, &in);
    if (info) {
        *info = in;
        /* the spans of @p info point into the response, which goes away: keep numbers only */
        info->kid = info->iss = info->sub = scitt_span_make(NULL, 0);
    }
    if (receipt) {
        scitt_dynbuf_init(receipt, 0);
        scitt_dynbuf_put(receipt, r->body, r->body_len);
    }
    free(r);
    return in.leaf_index;
}

/*
 * Registers @p n statements over one connection, pipelined in rounds of 16, each answered 201
 * in order with a receipt that verifies for its own statement. The check stage runs in parallel,
 * so the log order within a round need not be the request order: @p index (may be NULL) gets
 * each statement's leaf index.
 */
static inline void sd_register_many(const sd_daemon *d, const scitt_cose_keyset *keys,
                                    const scitt_dynbuf *stmts, size_t n, uint64_t *index)
{
    it_conn *c = sd_connect(d);
    for (size_t at = 0; at < n; at += 16) {
        size_t k = n - at < 16 ? n - at : 16;
        for (size_t i = 0; i < k; i++) {
            sd_send(c, "POST", "/entries", "Content-Type: application/cose\r\n",
                    scitt_span_make(stmts[at + i].ptr, stmts[at + i].len));
        }
        for (size_t i = 0; i < k; i++) {
            it_resp *r = sd_recv(c);
            assert_int_equal(r->status, 201);
            scitt_receipt_info info;
            sd_verify_receipt(sd_body(r), scitt_span_make(stmts[at + i].ptr, stmts[at + i].len),
                              keys, &info);
            if (index) {
                index[at + i] = info.leaf_index;
            }
            free(r);
        }
    }
    it_close(c);
}

/* ---- the whole log ---- */

/*
 * Every entry of a log of @p n entries, read back over @p c through the entry bundles: bytes,
 * entry IDs, and in id[n] the root the entries hash to (compare it with a checkpoint's).
 */
typedef struct sd_log {
    scitt_dynbuf bytes;
    size_t *off, *len;
    uint8_t (*id)[32];
    uint64_t n;
} sd_log;

static inline void sd_read_log(it_conn *c, uint64_t n, sd_log *lc)
{
    memset(lc, 0, sizeof(*lc));
    scitt_dynbuf_init(&lc->bytes, 0);
    lc->off = calloc(n + 1, sizeof(size_t));
    lc->len = calloc(n + 1, sizeof(size_t));
    lc->id = calloc(n + 1, 32);
    lc->n = n;
    assert_true(lc->off && lc->len && lc->id);
    scitt_merkle_compact mc;
    scitt_merkle_compact_init(&mc);
    for (uint64_t b = 0; b * 256 < n; b++) {
        unsigned width = n - b * 256 >= 256 ? 256 : (unsigned)(n - b * 256);
        char path[80];
        path[0] = '/';
        assert_int_equal(scitt_tile_entries_path(b, width, path + 1, sizeof(path) - 1), SCITT_OK);
        sd_send(c, "GET", path, NULL, scitt_span_make(NULL, 0));
        it_resp *r = sd_recv(c);
        if (r->status != 200) {
            fail_msg("%s answered %d", path, r->status);
        }
        size_t pos = 0;
        for (unsigned i = 0; i < width; i++) {
            assert_true(r->body_len - pos >= 2);
            size_t len = (size_t)r->body[pos] << 8 | r->body[pos + 1];
            pos += 2;
            assert_true(len <= r->body_len - pos);
            uint64_t idx = b * 256 + i;
            lc->off[idx] = lc->bytes.len;
            lc->len[idx] = len;
            scitt_dynbuf_put(&lc->bytes, r->body + pos, len);
            scitt_sha256(r->body + pos, len, lc->id[idx]);
            uint8_t leaf[32];
            scitt_merkle_leaf_hash(scitt_span_make(r->body + pos, len), leaf);
            assert_int_equal(scitt_merkle_compact_append(&mc, leaf, NULL, NULL), SCITT_OK);
            pos += len;
        }
        assert_int_equal(pos, r->body_len);
        free(r);
    }
    assert_int_equal(lc->bytes.err, SCITT_OK);
    scitt_merkle_compact_root(&mc, lc->id[n]); /* the root goes in the spare slot */
}

static inline void sd_log_free(sd_log *lc)
{
    scitt_dynbuf_clear(&lc->bytes);
    free(lc->off);
    free(lc->len);
    free(lc->id);
}

static inline int sd_cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/*
 * Nothing is corrupted: the signed checkpoint verifies, the entries read back through the
 * bundles hash to its root, and no entry occurs twice. @p out gets the checkpoint.
 */
static inline void sd_expect_intact(const sd_daemon *d, sd_checkpoint *out)
{
    sd_config c;
    sd_get_config(d, &c);
    sd_get_checkpoint(d, &c, out);
    uint64_t n = out->cp.size;
    it_conn *conn = sd_connect(d);
    sd_log lc;
    sd_read_log(conn, n, &lc);
    it_close(conn);
    assert_memory_equal(lc.id[n], out->cp.root, 32);
    qsort(lc.id, n, 32, sd_cmp_id);
    for (uint64_t i = 1; i < n; i++) {
        if (memcmp(lc.id[i - 1], lc.id[i], 32) == 0) {
            fail_msg("an entry occurs twice in a log of %llu", (unsigned long long)n);
        }
    }
    sd_log_free(&lc);
}

#endif /* SCITT_SCITTD_UTIL_H */
