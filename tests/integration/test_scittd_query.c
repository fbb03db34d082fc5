/*
 * scittd's auditor and operator endpoints over real HTTP: /query (by iss, sub, payload digest,
 * registration time, cursor pagination, CBOR and JSON answers, bad parameters) and /metrics
 * (Prometheus text that counts what the test did).
 *
 * Run as `test_scittd_query <case>`: each ctest entry runs one case with its own daemon.
 */
#include "scittd_util.h"

#include "scitt/json.h"

static sd_daemon sd;
static sd_issuer alice, bob;

static int setup(void **state)
{
    (void)state;
    sd_init(&sd);
    sd_issuer_init(&alice, SCITT_COSE_ALG_ES256, "https://ci.example/a b");
    sd_issuer_init(&bob, SCITT_COSE_ALG_EDDSA, "https://bob.example");
    const sd_issuer *list[] = {&alice, &bob};
    sd_write_policy(sd_path(&sd, "policy.json"), list, 2, NULL);
    sd_start_policy(&sd, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_issuer_clear(&alice);
    sd_issuer_clear(&bob);
    assert_int_equal(sd_teardown(&sd), 0);
    return 0;
}

/* One row of a /query answer. */
typedef struct row {
    char entry_id[65], iss[128], sub[128], digest[129], content_type[300];
    uint64_t index;
    int64_t registered;
} row;

typedef struct page {
    row rows[16];
    size_t n;
    bool has_next;
    uint64_t next;
} page;

static void cbor_text(scitt_cbor_reader *rd, char *out, size_t cap)
{
    scitt_span t;
    assert_int_equal(scitt_cbor_read_text(rd, &t), SCITT_OK);
    assert_true(t.len < cap);
    memcpy(out, t.ptr, t.len);
    out[t.len] = 0;
}

/* {"next": uint / null, "entries": [{iss, sub, index, digest, entry_id, registered,
 *  content_type}]} */
static void decode_cbor(const it_resp *r, page *p)
{
    scitt_cbor_reader rd;
    scitt_cbor_reader_init(&rd, sd_body(r));
    size_t n, m, k;
    scitt_span key;
    assert_int_equal(scitt_cbor_read_map(&rd, &n), SCITT_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(scitt_cbor_read_text(&rd, &key), SCITT_OK);
        if (scitt_span_eq_str(key, "next")) {
            scitt_cbor_item it;
            assert_int_equal(scitt_cbor_peek(&rd, &it), SCITT_OK);
            p->has_next = it.type == SCITT_CBOR_UINT;
            if (p->has_next) {
                assert_int_equal(scitt_cbor_read_uint(&rd, &p->next), SCITT_OK);
            } else {
                assert_int_equal(scitt_cbor_read_null(&rd), SCITT_OK);
            }
            continue;
        }
        assert_true(scitt_span_eq_str(key, "entries"));
        assert_int_equal(scitt_cbor_read_array(&rd, &m), SCITT_OK);
        assert_true(m <= 16);
        p->n = m;
        for (size_t j = 0; j < m; j++) {
            row *w = &p->rows[j];
            assert_int_equal(scitt_cbor_read_map(&rd, &k), SCITT_OK);
            assert_int_equal(k, 7);
            for (size_t f = 0; f < k; f++) {
                assert_int_equal(scitt_cbor_read_text(&rd, &key), SCITT_OK);
                if (scitt_span_eq_str(key, "iss")) {
                    cbor_text(&rd, w->iss, sizeof(w->iss));
                } else if (scitt_span_eq_str(key, "sub")) {
                    cbor_text(&rd, w->sub, sizeof(w->sub));
                } else if (scitt_span_eq_str(key, "digest")) {
                    cbor_text(&rd, w->digest, sizeof(w->digest));
                } else if (scitt_span_eq_str(key, "entry_id")) {
                    cbor_text(&rd, w->entry_id, sizeof(w->entry_id));
                } else if (scitt_span_eq_str(key, "content_type")) {
                    cbor_text(&rd, w->content_type, sizeof(w->content_type));
                } else if (scitt_span_eq_str(key, "index")) {
                    assert_int_equal(scitt_cbor_read_uint(&rd, &w->index), SCITT_OK);
                } else {
                    assert_true(scitt_span_eq_str(key, "registered"));
                    assert_int_equal(scitt_cbor_read_int(&rd, &w->registered), SCITT_OK);
                }
            }
        }
    }
    assert_int_equal(scitt_cbor_reader_finish(&rd), SCITT_OK);
}

static void json_text(const scitt_json *j, long obj, const char *key, char *out, size_t cap)
{
    long t = scitt_json_get(j, (size_t)obj, key);
    assert_true(t >= 0);
    size_t n;
    assert_int_equal(scitt_json_string(j, (size_t)t, out, cap, &n), SCITT_OK);
}

static void decode_json(const it_resp *r, page *p)
{
    scitt_json j;
    assert_int_equal(scitt_json_parse(sd_body(r), &j), SCITT_OK);
    long entries = scitt_json_get(&j, 0, "entries"), next = scitt_json_get(&j, 0, "next");
    assert_true(entries >= 0 && next >= 0);
    p->has_next = scitt_json_type_of(&j, (size_t)next) != SCITT_JSON_NULL;
    if (p->has_next) {
        assert_int_equal(scitt_json_u64(&j, (size_t)next, &p->next), SCITT_OK);
    }
    p->n = j.toks[entries].count;
    assert_true(p->n <= 16);
    for (size_t i = 0; i < p->n; i++) {
        long e = scitt_json_at(&j, (size_t)entries, i);
        row *w = &p->rows[i];
        json_text(&j, e, "entry_id", w->entry_id, sizeof(w->entry_id));
        json_text(&j, e, "iss", w->iss, sizeof(w->iss));
        json_text(&j, e, "sub", w->sub, sizeof(w->sub));
        json_text(&j, e, "digest", w->digest, sizeof(w->digest));
        json_text(&j, e, "content_type", w->content_type, sizeof(w->content_type));
        assert_int_equal(
            scitt_json_u64(&j, (size_t)scitt_json_get(&j, (size_t)e, "index"), &w->index),
            SCITT_OK);
        assert_int_equal(
            scitt_json_int(&j, (size_t)scitt_json_get(&j, (size_t)e, "registered"), &w->registered),
            SCITT_OK);
    }
    scitt_json_clear(&j);
}

/* Plain text a row may hold as is in JSON (no quote, backslash or control character). */
static const char *plain(const char *s)
{
    for (const char *c = s; *c; c++) {
        assert_true(*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20 && *c != 0x7f);
    }
    return s;
}

/*
 * The JSON page, byte for byte, as the CBOR page @p p says it must be: {"entries":[rows],"next":
 * cursor or null} and a newline, compact, each row's members in the documented order.
 */
static void expect_json_bytes(const it_resp *r, const page *p)
{
    scitt_dynbuf want;
    scitt_dynbuf_init(&want, 0);
    scitt_dynbuf_str(&want, "{\"entries\":[");
    for (size_t i = 0; i < p->n; i++) {
        const row *w = &p->rows[i];
        scitt_dynbuf_printf(&want,
                            "%s{\"entry_id\":\"%s\",\"index\":%llu,\"registered\":%lld,\"iss\":"
                            "\"%s\",\"sub\":\"%s\",\"content_type\":\"%s\",\"digest\":\"%s\"}",
                            i ? "," : "", w->entry_id, (unsigned long long)w->index,
                            (long long)w->registered, plain(w->iss), plain(w->sub),
                            plain(w->content_type), w->digest);
    }
    if (p->has_next) {
        scitt_dynbuf_printf(&want, "],\"next\":%llu}\n", (unsigned long long)p->next);
    } else {
        scitt_dynbuf_str(&want, "],\"next\":null}\n");
    }
    assert_int_equal(want.err, SCITT_OK);
    scitt_span body = sd_body(r);
    if (body.len != want.len || memcmp(body.ptr, want.ptr, want.len) != 0) {
        fail_msg("JSON page\n%.*s\nwanted\n%.*s", (int)body.len, (const char *)body.ptr,
                 (int)want.len, (const char *)want.ptr);
    }
    scitt_dynbuf_clear(&want);
}

/* GET /query?<q> as CBOR and as JSON; both answers must agree, the JSON one byte for byte. */
static void query(const char *q, page *p)
{
    char path[1024];
    snprintf(path, sizeof(path), "/query?%s", q);
    it_resp *r = sd_get(&sd, path);
    if (r->status != 200) {
        fail_msg("%s answered %d", path, r->status);
    }
    sd_expect_header(r, "Content-Type", "application/cbor");
    memset(p, 0, sizeof(*p));
    decode_cbor(r, p);
    free(r);
    r = sd_call(&sd, "GET", path, "Accept: application/json\r\n", scitt_span_make(NULL, 0));
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "application/json");
    page pj;
    memset(&pj, 0, sizeof(pj));
    decode_json(r, &pj);
    bool ascii = true;
    for (size_t i = 0; i < p->n; i++) {
        for (const char *c = p->rows[i].content_type; *c; c++) {
            ascii = ascii && (unsigned char)*c < 0x80;
        }
    }
    if (ascii) {
        expect_json_bytes(r, p);
    }
    free(r);
    assert_int_equal(pj.n, p->n);
    assert_int_equal(pj.has_next, p->has_next);
    assert_int_equal(pj.next, p->next);
    for (size_t i = 0; i < p->n; i++) {
        assert_memory_equal(&pj.rows[i], &p->rows[i], sizeof(row));
    }
}

typedef struct reg {
    const sd_issuer *is;
    const char *sub, *payload;
    char id[65];
    uint64_t index;
    int64_t time_s;
    char digest[65];
} reg;

/* The entry IDs of a page, in order, must be exactly @p want (indices into @p regs). */
static void expect_rows(const page *p, const reg *regs, const int *want, size_t n)
{
    if (p->n != n) {
        fail_msg("%zu rows, wanted %zu", p->n, n);
    }
    for (size_t i = 0; i < n; i++) {
        const reg *g = &regs[want[i]];
        assert_string_equal(p->rows[i].entry_id, g->id);
        assert_int_equal(p->rows[i].index, g->index);
        assert_string_equal(p->rows[i].iss, g->is->iss);
        assert_string_equal(p->rows[i].sub, g->sub);
        assert_string_equal(p->rows[i].digest, g->digest);
        assert_string_equal(p->rows[i].content_type, "application/json");
        assert_true(p->rows[i].registered >= g->time_s - 1 &&
                    p->rows[i].registered <= g->time_s + 1);
    }
}

static void test_query(void **state)
{
    (void)state;
    scitt_cose_keyset *keys = sd_keys(&sd);
    /* Two rounds more than a second apart, so the time filters separate them. */
    static reg regs[] = {
        {&alice, "pkg:x", "{\"v\": 1}", "", 0, 0, ""},
        {&bob, "pkg:x", "{\"v\": 2}", "", 0, 0, ""},
        {&alice, "pkg:y", "{\"v\": 3}", "", 0, 0, ""},
        {&alice, "pkg:x", "{\"v\": 4}", "", 0, 0, ""},
        {&bob, "pkg:z", "{\"v\": 1}", "", 0, 0, ""},
    };
    for (size_t i = 0; i < 5; i++) {
        if (i == 3) {
            it_sleep_ms(1100);
        }
        reg *g = &regs[i];
        scitt_dynbuf st, entry;
        sd_statement(g->is, g->sub, g->payload, &st);
        sd_entry(scitt_span_make(st.ptr, st.len), &entry, g->id);
        g->index = sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL);
        g->time_s = (int64_t)time(NULL);
        uint8_t h[32];
        scitt_sha256(g->payload, strlen(g->payload), h);
        assert_int_equal(scitt_hex_encode(scitt_span_make(h, 32), g->digest, 65), SCITT_OK);
        scitt_dynbuf_clear(&st);
        scitt_dynbuf_clear(&entry);
    }
    page p;
    /* By issuer (percent-encoded, with a space in it). */
    query("iss=https%3A%2F%2Fci.example%2Fa%20b", &p);
    expect_rows(&p, regs, (const int[]){0, 2, 3}, 3);
    assert_false(p.has_next);
    query("iss=https://bob.example", &p);
    expect_rows(&p, regs, (const int[]){1, 4}, 2);
    /* By subject, by subject and issuer. */
    query("sub=pkg:x", &p);
    expect_rows(&p, regs, (const int[]){0, 1, 3}, 3);
    query("sub=pkg:x&iss=https://bob.example", &p);
    expect_rows(&p, regs, (const int[]){1}, 1);
    /* By payload digest (two statements share a payload), and a digest nobody has. */
    char q[256];
    snprintf(q, sizeof(q), "digest=%s", regs[0].digest);
    query(q, &p);
    expect_rows(&p, regs, (const int[]){0, 4}, 2);
    snprintf(q, sizeof(q), "digest=%s&iss=https://bob.example", regs[0].digest);
    query(q, &p);
    expect_rows(&p, regs, (const int[]){4}, 1);
    query("digest=0000000000000000000000000000000000000000000000000000000000000000", &p);
    assert_int_equal(p.n, 0);
    query("sub=pkg:none", &p);
    assert_int_equal(p.n, 0);
    /* Cursor pagination: one row per page, the cursor leads to the next match. */
    query("sub=pkg:x&limit=1", &p);
    expect_rows(&p, regs, (const int[]){0}, 1);
    assert_true(p.has_next);
    for (int want = 1; want <= 3; want += 2) {
        snprintf(q, sizeof(q), "sub=pkg:x&limit=1&cursor=%llu", (unsigned long long)p.next);
        query(q, &p);
        expect_rows(&p, regs, (const int[]){want}, 1);
    }
    /* the page that ends exactly at the last match says so with a null cursor, or its cursor
     * leads to an empty page */
    if (p.has_next) {
        snprintf(q, sizeof(q), "sub=pkg:x&limit=1&cursor=%llu", (unsigned long long)p.next);
        query(q, &p);
        assert_int_equal(p.n, 0);
        assert_false(p.has_next);
    }
    /* Everything, two per page: the policy entry first, then our five in log order. */
    uint64_t cursor = 0;
    size_t seen = 0;
    for (int pages = 0; pages < 10; pages++) {
        snprintf(q, sizeof(q), "limit=2&cursor=%llu", (unsigned long long)cursor);
        query(q, &p);
        for (size_t i = 0; i < p.n; i++) {
            assert_int_equal(p.rows[i].index, seen);
            if (seen == 0) {
                assert_string_equal(p.rows[i].sub, "scittd/registration-policy");
            }
            seen++;
        }
        if (!p.has_next) {
            break;
        }
        cursor = p.next;
    }
    assert_int_equal(seen, 6);
    /* Registration time: after the second round began, and before it. */
    snprintf(q, sizeof(q), "sub=pkg:x&after=%lld", (long long)regs[3].time_s);
    query(q, &p);
    expect_rows(&p, regs, (const int[]){3}, 1);
    snprintf(q, sizeof(q), "sub=pkg:x&before=%lld", (long long)regs[3].time_s);
    query(q, &p);
    expect_rows(&p, regs, (const int[]){0, 1}, 2);
    char rfc[32];
    time_t t = (time_t)regs[3].time_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(rfc, sizeof(rfc), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(q, sizeof(q), "iss=https://bob.example&after=%s", rfc);
    query(q, &p);
    expect_rows(&p, regs, (const int[]){4}, 1);
    query("after=4102444800", &p); /* 2100: nothing yet */
    assert_int_equal(p.n, 0);
    query("before=1000000000", &p); /* 2001: nothing yet */
    assert_int_equal(p.n, 0);

    /* Bad parameters: 400 with the parameter named. */
    static const struct {
        const char *q, *names;
    } bad[] = {
        {"limit=0", "limit"},
        {"limit=1001", "limit"},
        {"limit=ten", "limit"},
        {"limit=", "limit"},
        {"digest=zz", "digest"},
        {"digest=abc", "digest"},
        {"after=yesterday", "after"},
        {"before=2026-13-01T00:00:00Z", "before"},
        {"cursor=abc", "cursor"},
        {"cursor=-1", "cursor"},
        {"iss=%ZZ", "iss"},
        {"sub=%00", "sub"},
        {"sub=%ff%fe", "sub"},
        {"iss=%4", "iss"},
        /* numbers are digits only: no sign, no spaces, no overflow to a huge value */
        {"cursor=%2B1", "cursor"},
        {"cursor=%201", "cursor"},
        {"cursor=18446744073709551616", "cursor"},
        {"limit=%2B5", "limit"},
        {"limit=-1", "limit"},
        {"after=-5", "after"},
        {"after=99999999999999999999", "after"},
        {"before=9223372036854776", "before"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "/query?%s", bad[i].q);
        it_resp *r = sd_get(&sd, path);
        if (r->status != 400) {
            fail_msg("%s answered %d", path, r->status);
        }
        sd_expect_problem(r, 400, "Malformed request", bad[i].names);
        free(r);
    }
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* The value of the sample line "<name> <value>" in Prometheus text, or -1 when it is absent. */
static double metric(const it_resp *r, const char *name)
{
    static char text[IT_BODY_MAX + 1];
    memcpy(text, r->body, r->body_len);
    text[r->body_len] = 0;
    size_t n = strlen(name);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, name, n) == 0 && line[n] == ' ') {
            return strtod(line + n + 1, NULL);
        }
    }
    return -1;
}

static void test_metrics(void **state)
{
    (void)state;
    scitt_cose_keyset *keys = sd_keys(&sd);
    scitt_dynbuf st[4];
    for (int i = 0; i < 4; i++) {
        char sub[32];
        snprintf(sub, sizeof(sub), "pkg:m/%d", i);
        sd_statement(&alice, sub, "{}", &st[i]);
    }
    sd_register_many(&sd, keys, st, 4, NULL);
    sd_register(&sd, keys, scitt_span_make(st[0].ptr, st[0].len), NULL, NULL); /* duplicate */
    st[1].ptr[st[1].len - 1] ^= 1;
    it_resp *r = sd_post(&sd, scitt_span_make(st[1].ptr, st[1].len), NULL);
    assert_int_equal(r->status, 400);
    free(r);

    r = sd_get(&sd, "/metrics");
    assert_int_equal(r->status, 200);
    sd_expect_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    static char copy[IT_BODY_MAX + 1];
    memcpy(copy, r->body, r->body_len);
    copy[r->body_len] = 0;
    assert_non_null(strstr(copy, "scittd_info{platform=\"virtual\",insecure=\"true\"} 1\n"));
    assert_true(metric(r, "scittd_insecure") == 1);
    assert_true(metric(r, "scittd_registrations_total") == 4);
    assert_true(metric(r, "scittd_registrations_duplicate_total") == 1);
    assert_true(metric(r, "scittd_registrations_rejected_total") == 1);
    assert_true(metric(r, "scittd_tree_size") == 5);
    /* Every batch of submissions is in the histograms: at least one, at most one per
     * submission. The ledger's batch counter also has the policy registration made at open. */
    double batches = metric(r, "scittd_batch_entries_count");
    assert_true(batches >= 1 && batches <= 5);
    assert_true(metric(r, "scittd_batches_total") == batches + 1);
    assert_true(metric(r, "scittd_batch_entries_sum") == 5);
    assert_true(metric(r, "scittd_batch_milliseconds_count") == batches);
    assert_true(metric(r, "scittd_commit_milliseconds_count") == batches);
    assert_non_null(strstr(copy, "# TYPE scittd_batch_entries histogram\n"));
    char inf[128];
    snprintf(inf, sizeof(inf), "scittd_batch_entries_bucket{le=\"+Inf\"} %.0f\n", batches);
    assert_non_null(strstr(copy, inf));
    assert_non_null(strstr(copy, "scittd_http_requests_total{route=\"entries_post\",status="
                                 "\"201\"} 5\n"));
    assert_non_null(strstr(copy, "scittd_http_requests_total{route=\"entries_post\",status="
                                 "\"400\"} 1\n"));
    assert_true(metric(r, "scittd_lmdb_bytes") > 0);
    assert_true(metric(r, "scittd_lmdb_map_bytes") >= metric(r, "scittd_lmdb_bytes"));
    free(r);
    for (int i = 0; i < 4; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/*
 * A COSE hash envelope (RFC 9995: 258 hash algorithm, 259 preimage content type): registered like
 * any statement, found by the digest it carries (not a hash of it), reported with the preimage's
 * content type; a digest of the wrong length for its algorithm is refused.
 */
static void test_hash_envelope(void **state)
{
    (void)state;
    scitt_cose_keyset *keys = sd_keys(&sd);
    uint8_t digest[48];
    scitt_sha384("the artifact", 12, digest);
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = alice.iss;
    o.sub = "pkg:envelope";
    o.with_kid = true;
    o.hash_alg = SCITT_COSE_ALG_SHA384;
    o.preimage_type = "application/spdx+json";
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    assert_int_equal(su_statement(alice.key, &o, scitt_span_make(digest, 48), &st), SCITT_OK);
    uint64_t index = sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL);
    char hex[97], q[160];
    assert_int_equal(scitt_hex_encode(scitt_span_make(digest, 48), hex, sizeof(hex)), SCITT_OK);
    snprintf(q, sizeof(q), "digest=%s", hex);
    page p;
    query(q, &p);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.rows[0].index, index);
    assert_string_equal(p.rows[0].digest, hex);
    assert_string_equal(p.rows[0].content_type, "application/spdx+json");
    assert_string_equal(p.rows[0].sub, "pkg:envelope");
    /* the SHA-256 of the digest bytes is not what the index holds */
    uint8_t h[32];
    scitt_sha256(digest, 48, h);
    assert_int_equal(scitt_hex_encode(scitt_span_make(h, 32), hex, sizeof(hex)), SCITT_OK);
    snprintf(q, sizeof(q), "digest=%s", hex);
    query(q, &p);
    assert_int_equal(p.n, 0);
    scitt_dynbuf_clear(&st);
    /* 32 bytes under SHA-384 */
    scitt_dynbuf_init(&st, 0);
    assert_int_equal(su_statement(alice.key, &o, scitt_span_make(digest, 32), &st), SCITT_OK);
    it_resp *r = sd_post(&sd, scitt_span_make(st.ptr, st.len), NULL);
    sd_expect_problem(r, 400, "Malformed request", "hash envelope");
    free(r);
    scitt_dynbuf_clear(&st);
    scitt_cose_keyset_free(keys);
    sd_stop(&sd);
}

/* Registers a statement by alice about @p sub with content type @p ctype; its index. */
static uint64_t register_typed(const scitt_cose_keyset *keys, const char *sub, const char *ctype,
                               const char *payload)
{
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = alice.iss;
    o.sub = sub;
    o.with_kid = true;
    o.content_type = ctype;
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    assert_int_equal(su_statement(alice.key, &o, scitt_span_str(payload), &st), SCITT_OK);
    uint64_t idx = sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, NULL);
    scitt_dynbuf_clear(&st);
    return idx;
}

/* Rows and cursor of a CBOR page, without copying the rows. */
static void page_shape(const char *q, size_t *n, bool *has_next, uint64_t *next, size_t *bytes)
{
    char path[1024];
    snprintf(path, sizeof(path), "/query?%s", q);
    it_resp *r = sd_get(&sd, path);
    if (r->status != 200) {
        fail_msg("%s answered %d", path, r->status);
    }
    *bytes = r->body_len;
    scitt_cbor_reader rd;
    scitt_cbor_reader_init(&rd, sd_body(r));
    size_t m;
    assert_int_equal(scitt_cbor_read_map(&rd, &m), SCITT_OK);
    assert_int_equal(m, 2);
    *has_next = false;
    for (size_t i = 0; i < m; i++) {
        scitt_span key;
        assert_int_equal(scitt_cbor_read_text(&rd, &key), SCITT_OK);
        if (scitt_span_eq_str(key, "next")) {
            scitt_cbor_item it;
            assert_int_equal(scitt_cbor_next(&rd, &it), SCITT_OK);
            *has_next = it.type == SCITT_CBOR_UINT;
            *next = *has_next ? it.arg : 0;
        } else {
            assert_int_equal(scitt_cbor_read_array(&rd, n), SCITT_OK);
            for (size_t k = 0; k < *n; k++) {
                assert_int_equal(scitt_cbor_skip(&rd, NULL), SCITT_OK);
            }
        }
    }
    assert_int_equal(scitt_cbor_reader_finish(&rd), SCITT_OK);
    free(r);
}

/* Rows and cursor of the JSON page for @p q. */
static void page_shape_json(const char *q, size_t *n, bool *has_next, uint64_t *next)
{
    char path[1024];
    snprintf(path, sizeof(path), "/query?%s", q);
    it_resp *r =
        sd_call(&sd, "GET", path, "Accept: application/json\r\n", scitt_span_make(NULL, 0));
    assert_int_equal(r->status, 200);
    scitt_span body = sd_body(r);
    assert_true(body.len > 13 && memcmp(body.ptr, "{\"entries\":[", 12) == 0 &&
                body.ptr[body.len - 1] == '\n');
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_make(body.ptr, body.len - 1), &j), SCITT_OK);
    long entries = scitt_json_get(&j, 0, "entries"), nx = scitt_json_get(&j, 0, "next");
    assert_true(entries >= 0 && nx >= 0);
    *n = j.toks[entries].count;
    *has_next = scitt_json_type_of(&j, (size_t)nx) != SCITT_JSON_NULL;
    *next = 0;
    if (*has_next) {
        assert_int_equal(scitt_json_u64(&j, (size_t)nx, next), SCITT_OK);
    }
    scitt_json_clear(&j);
    free(r);
}

/*
 * /query never emits invalid UTF-8: a content type longer than the 255 bytes a row reports, whose
 * 255th byte falls inside a character, is cut before that character (it used to be cut inside it,
 * and every CBOR page holding the entry failed with 500, unfiltered queries included). Pages stop
 * growing at SCITTD_QUERY_PAGE_BYTES (64 KiB) and the cursor leads to the rest. HEAD answers
 * the length of the GET.
 */
static void test_query_utf8(void **state)
{
    (void)state;
    scitt_cose_keyset *keys = sd_keys(&sd);
    char two[300], three[300];
    memset(two, 'a', 254);
    memcpy(two + 254, "\xc3\xa9", 3); /* 254 x a + U+00E9: byte 255 is the é's second */
    memset(three, 'b', 253);
    memcpy(three + 253, "\xe2\x82\xac", 4); /* 253 x b + U+20AC: byte 255 is inside the € */
    register_typed(keys, "pkg:utf8", two, "{}");
    register_typed(keys, "pkg:utf8", three, "{\"b\": 1}");
    register_typed(keys, "pkg:utf8", "text/plain; charset=\xc3\xa9t\xc3\xa9", "{\"c\": 1}");
    page p;
    query("sub=pkg:utf8", &p); /* CBOR and JSON, which must agree */
    assert_int_equal(p.n, 3);
    assert_int_equal(strlen(p.rows[0].content_type), 254);
    assert_int_equal(strspn(p.rows[0].content_type, "a"), 254);
    assert_int_equal(strlen(p.rows[1].content_type), 253);
    assert_int_equal(strspn(p.rows[1].content_type, "b"), 253);
    assert_string_equal(p.rows[2].content_type, "text/plain; charset=\xc3\xa9t\xc3\xa9");
    query("", &p); /* everything, the policy entry first */
    assert_int_equal(p.n, 4);
    /* Pages of rows of 15 KB subjects stop at 64 KiB: 4 of them, then the cursor. */
    static char sub[15001];
    for (int i = 0; i < 6; i++) {
        memset(sub, 'a' + i, sizeof(sub) - 1);
        register_typed(keys, sub, "application/json", "{}");
    }
    size_t n = 0, bytes = 0, total = 0, pages = 0;
    bool more = true;
    uint64_t next = 0;
    char q[128] = "after=0&limit=1000";
    while (more) {
        page_shape(q, &n, &more, &next, &bytes);
        assert_true(bytes <= (64u << 10) + 1024);
        /* the JSON page is cut at the same row, its cursor the same */
        size_t jn = 0;
        bool jmore = false;
        uint64_t jnext = 0;
        page_shape_json(q, &jn, &jmore, &jnext);
        assert_int_equal(jn, n);
        assert_int_equal(jmore, more);
        assert_int_equal(jnext, next);
        assert_true(n >= 1);
        total += n;
        pages++;
        snprintf(q, sizeof(q), "limit=1000&cursor=%llu", (unsigned long long)next);
    }
    assert_int_equal(total, 10);
    assert_true(pages >= 2);
    /* HEAD: the GET's length, no body. */
    it_resp *r = sd_get(&sd, "/query?sub=pkg:utf8");
    size_t want = r->body_len;
    free(r);
    it_conn *c = sd_connect(&sd);
    sd_send(c, "HEAD", "/query?sub=pkg:utf8", NULL, scitt_span_make(NULL, 0));
    r = malloc(sizeof(*r));
    assert_non_null(r);
    assert_int_equal(it_read(c, r, 5000, true), 1);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->content_length, want);
    free(r);
    it_close(c);
    scitt_cose_keyset_free(keys);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_utf8, setup, teardown),
    };
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
