/*
 * libscitt-client's HTTP/1.1 response parser (client/http_parse.c): a table of valid and malformed
 * responses with the reason each is refused, every prefix of valid responses ("read more", never an
 * error), and the caps on head, header count and body.
 */
#include "testutil.h"

#include "http.h"

typedef struct row {
    const char *raw;
    bool eof;
    scitt_err want;
    int status;
    const char *body;
    const char *why;
} row;

static const row rows[] = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, SCITT_OK, 200, "hello",
     "a sized body"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, SCITT_ERR_TRUNCATED, 0, NULL,
     "a sized body still arriving"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", true, SCITT_ERR_TRUNCATED, 0, NULL,
     "a sized body cut short by the close"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello", false, SCITT_ERR_TRAILING, 0, NULL,
     "bytes after a sized body"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
     false, SCITT_OK, 200, "Wikipedia", "chunked"},
    {"HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
     false, SCITT_OK, 200, "abc", "chunk extensions and trailers, names case-insensitive"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", false,
     SCITT_ERR_MALFORMED, 0, NULL, "chunk data not followed by CRLF"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, SCITT_ERR_MALFORMED, 0,
     NULL, "chunk size not hex"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", false,
     SCITT_ERR_MALFORMED, 0, NULL, "chunk size of 16 hex digits"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", false, SCITT_ERR_TRAILING,
     0, NULL, "bytes after the last chunk"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", false,
     SCITT_ERR_MALFORMED, 0, NULL, "both framings (smuggling shape)"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", false,
     SCITT_ERR_MALFORMED, 0, NULL, "a coding we never asked for"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     false, SCITT_ERR_MALFORMED, 0, NULL, "chunked twice"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", false, SCITT_ERR_MALFORMED, 0, NULL,
     "conflicting lengths in one header"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", false,
     SCITT_ERR_MALFORMED, 0, NULL, "conflicting length headers"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", false, SCITT_OK, 200, "hello",
     "a list of equal lengths (RFC 9110)"},
    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "a negative length"},
    {"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "an empty length"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456\r\n\r\n", false, SCITT_ERR_MALFORMED, 0,
     NULL, "a length of 16 digits"},
    {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "bare LF line endings"},
    {"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "obs-fold continuation line"},
    {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "a header line without a colon"},
    {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "an empty header name"},
    {"HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "a control character in a value"},
    {"HTTP/2 200 OK\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL, "not HTTP/1.x"},
    {"HTTP/1.1 099 Low\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL, "status below 100"},
    {"HTTP/1.1 2000 OK\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL, "four-digit status"},
    {"HTTP/1.1 20x OK\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL, "status not digits"},
    {"HTTP/1.1 204\r\n\r\n", false, SCITT_OK, 204, "", "no reason phrase, no body"},
    {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", false,
     SCITT_OK, 201, "ok", "an interim 100 is skipped"},
    {"HTTP/1.1 101 Switching Protocols\r\n\r\n", false, SCITT_ERR_MALFORMED, 0, NULL,
     "an upgrade we never asked for"},
    {"HTTP/1.0 200 OK\r\n\r\nuntil close", true, SCITT_OK, 200, "until close",
     "a body delimited by the close"},
    {"HTTP/1.0 200 OK\r\n\r\nuntil close", false, SCITT_ERR_TRUNCATED, 0, NULL,
     "a close-delimited body before the close"},
    {"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, SCITT_OK, 304, "",
     "304 has no body whatever the length says"},
    {"", true, SCITT_ERR_TRUNCATED, 0, NULL, "nothing"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *r = &rows[i];
        scitt__http_response res;
        scitt_dynbuf body;
        scitt_dynbuf_init(&body, 1u << 20);
        scitt_err e =
            scitt__http_parse_response(scitt_span_str(r->raw), r->eof, false, &res, &body);
        if (e != r->want) {
            fail_msg("row %zu (%s): got %s, want %s", i, r->why, scitt_err_name(e),
                     scitt_err_name(r->want));
        }
        if (e == SCITT_OK) {
            assert_int_equal(res.status, r->status);
            assert_true(scitt_span_eq_str(scitt_span_make(body.ptr, body.len), r->body));
        }
        scitt_dynbuf_clear(&body);
    }
}

/* Every proper prefix of a valid response asks for more; the whole is complete. */
static void test_prefixes(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-B: b\r\n\r\nhello world",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n10\r\n0123456789abcdef\r\n"
        "0\r\nT: v\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nLocation: /entries/x\r\n"
        "Content-Length: 0\r\n\r\n",
    };
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(ok[k]);
        for (size_t len = 0; len <= n; len++) {
            scitt__http_response res;
            scitt_dynbuf body;
            scitt_dynbuf_init(&body, 0);
            scitt_err e =
                scitt__http_parse_response(scitt_span_make(ok[k], len), false, false, &res, &body);
            if (len < n && e != SCITT_ERR_TRUNCATED) {
                fail_msg("response %zu, prefix %zu: %s", k, len, scitt_err_name(e));
            }
            if (len == n) {
                assert_int_equal(e, SCITT_OK);
            }
            scitt_dynbuf_clear(&body);
        }
    }
}

static void test_limits(void **state)
{
    (void)state;
    scitt__http_response res;
    scitt_dynbuf body;
    /* The body cap: a sized body over it is refused before it arrives. */
    scitt_dynbuf_init(&body, 4);
    assert_int_equal(
        scitt__http_parse_response(scitt_span_str("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                                  "\r\n"),
                                   false, false, &res, &body),
        SCITT_ERR_TOO_LARGE);
    /* ... and so is a chunk that could never fit. */
    assert_int_equal(
        scitt__http_parse_response(scitt_span_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                                  "chunked\r\n\r\nffff\r\n"),
                                   false, false, &res, &body),
        SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&body);
    /* More headers than SCITT__HTTP_HEADERS_MAX. */
    scitt_dynbuf raw;
    scitt_dynbuf_init(&raw, 0);
    scitt_dynbuf_str(&raw, "HTTP/1.1 200 OK\r\n");
    for (unsigned i = 0; i <= SCITT__HTTP_HEADERS_MAX; i++) {
        scitt_dynbuf_printf(&raw, "X-%u: v\r\n", i);
    }
    scitt_dynbuf_str(&raw, "\r\n");
    scitt_dynbuf_init(&body, 0);
    assert_int_equal(
        scitt__http_parse_response(scitt_span_make(raw.ptr, raw.len), false, false, &res, &body),
        SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&raw);
    /* A head longer than SCITT__HTTP_HEAD_MAX without its blank line. */
    scitt_dynbuf_init(&raw, 0);
    scitt_dynbuf_str(&raw, "HTTP/1.1 200 OK\r\nX-Long: ");
    for (unsigned i = 0; i < SCITT__HTTP_HEAD_MAX; i++) {
        scitt_dynbuf_u8(&raw, 'a');
    }
    assert_int_equal(
        scitt__http_parse_response(scitt_span_make(raw.ptr, raw.len), false, false, &res, &body),
        SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&raw);
    scitt_dynbuf_clear(&body);
    /* HEAD: no body, whatever the framing says. */
    scitt_dynbuf_init(&body, 0);
    assert_int_equal(
        scitt__http_parse_response(scitt_span_str("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n"
                                                  "\r\n"),
                                   false, true, &res, &body),
        SCITT_OK);
    scitt_dynbuf_clear(&body);
}

static void test_headers_and_urls(void **state)
{
    (void)state;
    scitt__http_response res;
    scitt_dynbuf body;
    scitt_dynbuf_init(&body, 0);
    assert_int_equal(
        scitt__http_parse_response(scitt_span_str("HTTP/1.1 202 Accepted\r\nLocation:  "
                                                  "/entries/ab \t\r\nRetry-After: 3\r\n"
                                                  "Content-Length: 0\r\n\r\n"),
                                   false, false, &res, &body),
        SCITT_OK);
    scitt_span v;
    assert_true(scitt__http_header_get(&res, "LOCATION", &v));
    assert_true(scitt_span_eq_str(v, "/entries/ab")); /* white space trimmed */
    assert_false(scitt__http_header_get(&res, "Etag", &v));
    scitt_dynbuf_clear(&body);

    scitt__http_url u;
    assert_int_equal(scitt__http_url_parse("https://scitt.example:8443/prefix/", &u), SCITT_OK);
    assert_true(u.tls);
    assert_string_equal(u.host, "scitt.example");
    assert_string_equal(u.port, "8443");
    assert_string_equal(u.prefix, "/prefix");
    assert_int_equal(scitt__http_url_parse("http://[::1]:80", &u), SCITT_OK);
    assert_true(u.ipv6);
    assert_string_equal(u.host, "::1");
    assert_int_equal(scitt__http_url_parse("http://127.0.0.1", &u), SCITT_OK);
    assert_string_equal(u.port, "80");
    static const char *const bad[] = {
        "ftp://x",           /* scheme */
        "http://",           /* no host */
        "http://u@host/",    /* user info */
        "http://host:0/",    /* port 0 */
        "http://host:65536", /* port too big */
        "http://host:8x",    /* port not digits */
        "http://host/a?b",   /* query */
        "http://[::1/",      /* unclosed bracket */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (scitt__http_url_parse(bad[i], &u) == SCITT_OK) {
            fail_msg("%s was accepted", bad[i]);
        }
    }
    char q[64];
    assert_int_equal(scitt__http_query_escape("did:x509:0 a/b", q, sizeof(q)), SCITT_OK);
    assert_string_equal(q, "did%3Ax509%3A0%20a%2Fb");
    assert_int_equal(scitt__http_query_escape("abcdef", q, 4), SCITT_ERR_BUFFER_TOO_SMALL);
}

/* Retry-After in both forms, HTTP-dates in all three, and what is refused. */
static void test_retry_after(void **state)
{
    (void)state;
    int64_t t;
    /* RFC 9110's example instant, 784111777 (Sun, 06 Nov 1994 08:49:37 GMT), in each form */
    assert_true(scitt__http_date_parse(scitt_span_str("Sun, 06 Nov 1994 08:49:37 GMT"), &t));
    assert_int_equal(t, 784111777);
    assert_true(scitt__http_date_parse(scitt_span_str("Sunday, 06-Nov-94 08:49:37 GMT"), &t));
    assert_int_equal(t, 784111777);
    assert_true(scitt__http_date_parse(scitt_span_str("Sun Nov  6 08:49:37 1994"), &t));
    assert_int_equal(t, 784111777);
    assert_true(scitt__http_date_parse(scitt_span_str("Tue, 29 Feb 2028 23:59:59 GMT"), &t));
    assert_int_equal(t, 1835481599);
    static const char *const bad[] = {
        "Sun, 06 Nov 1994 08:49:37 UTC",  /* only GMT */
        "Sun, 06 Foo 1994 08:49:37 GMT",  /* month */
        "Sun, 06 Nov 1994 24:49:37 GMT",  /* hour */
        "Sun, 06 Nov 1994 08:49:37 GMT ", /* trailing */
        "Sun, 06 Nov 1994",               /* short */
        "1994-11-06T08:49:37Z",           /* not an HTTP-date */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (scitt__http_date_parse(scitt_span_str(bad[i]), &t)) {
            fail_msg("\"%s\" was read as a date", bad[i]);
        }
    }
    uint32_t s = 0;
    assert_true(scitt__http_retry_after(scitt_span_str("7"), 0, 3600, &s));
    assert_int_equal(s, 7);
    assert_true(scitt__http_retry_after(scitt_span_str("99999999999999999999"), 0, 3600, &s));
    assert_int_equal(s, 3600); /* capped, no overflow */
    assert_true(scitt__http_retry_after(scitt_span_str("Sun, 06 Nov 1994 08:49:37 GMT"),
                                        784111777 - 5, 3600, &s));
    assert_int_equal(s, 5);
    assert_true(scitt__http_retry_after(scitt_span_str("Sun, 06 Nov 1994 08:49:37 GMT"),
                                        784111777 + 100, 3600, &s));
    assert_int_equal(s, 0); /* past */
    assert_true(
        scitt__http_retry_after(scitt_span_str("Sun, 06 Nov 1994 08:49:37 GMT"), 0, 3600, &s));
    assert_int_equal(s, 3600);
    assert_false(scitt__http_retry_after(scitt_span_str("-1"), 0, 3600, &s));
    assert_false(scitt__http_retry_after(scitt_span_str("1.5"), 0, 3600, &s));
    assert_false(scitt__http_retry_after(scitt_span_str("soon"), 0, 3600, &s));
}

/* Location: absolute paths on the request's origin, absolute URLs, and nothing else. */
static void test_location(void **state)
{
    (void)state;
    scitt__http_url base, to;
    char path[256];
    assert_int_equal(scitt__http_url_parse("https://ts.example:8443/scitt", &base), SCITT_OK);
    assert_int_equal(scitt__http_location(&base, scitt_span_str("/entries/2.1?api-version=x#f"),
                                          &to, path, sizeof(path)),
                     SCITT_OK);
    assert_true(scitt__http_same_origin(&base, &to));
    assert_string_equal(to.prefix, ""); /* an absolute path replaces the prefix */
    assert_string_equal(path, "/entries/2.1?api-version=x");
    assert_int_equal(scitt__http_location(&base, scitt_span_str("HTTPS://TS.example:8443"), &to,
                                          path, sizeof(path)),
                     SCITT_ERR_MALFORMED); /* the scheme is matched as written */
    assert_int_equal(scitt__http_location(&base, scitt_span_str("https://TS.example:8443?q=1"), &to,
                                          path, sizeof(path)),
                     SCITT_OK);
    assert_true(scitt__http_same_origin(&base, &to)); /* host case does not matter */
    assert_string_equal(path, "/?q=1");
    assert_int_equal(scitt__http_location(&base, scitt_span_str("http://ts.example:8443/x"), &to,
                                          path, sizeof(path)),
                     SCITT_OK);
    assert_false(scitt__http_same_origin(&base, &to)); /* scheme */
    assert_int_equal(scitt__http_location(&base, scitt_span_str("https://ts.example/x"), &to, path,
                                          sizeof(path)),
                     SCITT_OK);
    assert_false(scitt__http_same_origin(&base, &to)); /* port 443 */
    assert_int_equal(scitt__http_location(&base, scitt_span_str("https://evil.example:8443/x"), &to,
                                          path, sizeof(path)),
                     SCITT_OK);
    assert_false(scitt__http_same_origin(&base, &to)); /* host */
    static const char *const bad[] = {
        "entries/1",              /* relative */
        "../entries/1",           /* relative */
        "//evil.example/x",       /* network-path reference */
        "ftp://ts.example/x",     /* scheme */
        "https://u@ts.example/x", /* user info */
        "/entries/1 2",           /* space */
        "/entries/\x01",          /* control */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (scitt__http_location(&base, scitt_span_str(bad[i]), &to, path, sizeof(path)) ==
            SCITT_OK) {
            fail_msg("\"%s\" was followed", bad[i]);
        }
    }
    char small[4];
    assert_int_equal(
        scitt__http_location(&base, scitt_span_str("/entries/1"), &to, small, sizeof(small)),
        SCITT_ERR_TOO_LARGE);
}

/* CBOR of a diagnostic-free kind: a few helpers for operation bodies. */
static size_t put_text(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)(0x60 | n); /* n < 24 */
    memcpy(p + 1, s, n);
    return n + 1;
}

/* Operation bodies as scittd and scitt-ccf-ledger spell them, and broken ones. */
static void test_operation(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = 0;
    scitt_client_operation op;
    b[n++] = 0xa2;
    n += put_text(b + n, "OperationID");
    n += put_text(b + n, "2.131");
    n += put_text(b + n, "Status");
    n += put_text(b + n, "running");
    assert_int_equal(scitt_client_operation_parse(scitt_span_make(b, n), &op), SCITT_OK);
    assert_int_equal(op.status, SCITT_CLIENT_OP_RUNNING);
    assert_string_equal(op.operation_id, "2.131");

    n = 0;
    b[n++] = 0xa2;
    n += put_text(b + n, "status");
    n += put_text(b + n, "succeeded");
    n += put_text(b + n, "entryId");
    n += put_text(b + n, "2.131");
    assert_int_equal(scitt_client_operation_parse(scitt_span_make(b, n), &op), SCITT_OK);
    assert_int_equal(op.status, SCITT_CLIENT_OP_SUCCEEDED);
    assert_string_equal(op.entry_id, "2.131");
    b[0] = 0xa1; /* succeeded without an entry ID */
    assert_int_equal(scitt_client_operation_parse(scitt_span_make(b, n - 14), &op),
                     SCITT_ERR_MALFORMED);

    n = 0;
    b[n++] = 0xa2;
    n += put_text(b + n, "Status");
    n += put_text(b + n, "failed");
    n += put_text(b + n, "Error");
    b[n++] = 0xa2;
    b[n++] = 0x20; /* -1 */
    n += put_text(b + n, "Bad Alg");
    b[n++] = 0x21; /* -2 */
    n += put_text(b + n, "not supported");
    assert_int_equal(scitt_client_operation_parse(scitt_span_make(b, n), &op), SCITT_OK);
    assert_int_equal(op.status, SCITT_CLIENT_OP_FAILED);
    assert_string_equal(op.error, "Bad Alg: not supported");

    n = 0;
    b[n++] = 0xa2;
    n += put_text(b + n, "Status");
    n += put_text(b + n, "succeeded");
    n += put_text(b + n, "EntryId");
    n += put_text(b + n, "../../x"); /* not an ID: it would change the path */
    assert_int_equal(scitt_client_operation_parse(scitt_span_make(b, n), &op), SCITT_ERR_MALFORMED);
    n = 0;
    b[n++] = 0xa1;
    n += put_text(b + n, "Status");
    n += put_text(b + n, "paused");
    assert_int_equal(scitt_client_operation_parse(scitt_span_make(b, n), &op), SCITT_ERR_MALFORMED);
    b[0] = 0xa0;
    assert_int_equal(scitt_client_operation_parse(scitt_span_make(b, 1), &op), SCITT_ERR_MALFORMED);
    assert_false(scitt_client_id_ok(scitt_span_str("")));
    assert_true(scitt_client_id_ok(scitt_span_str("2.131")));
    assert_false(scitt_client_id_ok(scitt_span_str("a/b")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),       cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_limits),      cmocka_unit_test(test_headers_and_urls),
        cmocka_unit_test(test_retry_after), cmocka_unit_test(test_location),
        cmocka_unit_test(test_operation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
