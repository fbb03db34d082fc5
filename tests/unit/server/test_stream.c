/*
 * Streaming responses (server/http_stream.c) through the memory transport: the head has no
 * Content-Length and closes the connection, queued bytes go out in order across partial writes,
 * the one buffer is reused once drained (so a reader that keeps up is never refused) but never
 * grows (so a write that does not fit is refused), nothing behind a stream is answered, and the
 * closed callback runs exactly once however the stream ends. The buffer counts against the
 * connection's buffer bound.
 */
#include "testutil.h"

#include "http_impl.h"

static scitt_http_server *srv;
static scitt_http_req *held;
static int closed_calls;
static size_t buffer_bytes = 16;

static void on_closed(void *ctx)
{
    (void)ctx;
    closed_calls++;
}

static void h_stream(scitt_http_req *req, void *ctx)
{
    (void)ctx;
    scitt_http_res_status(req, 200);
    assert_int_equal(scitt_http_res_header(req, "Cache-Control", "no-store"), SCITT_OK);
    assert_int_equal(
        scitt_http_stream_start(req, "text/event-stream", buffer_bytes, on_closed, NULL), SCITT_OK);
    held = req;
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(scitt__http_server_new_detached(NULL, &srv), SCITT_OK);
    scitt_http_route r = {"s", SCITT_HTTP_GET, "/s",  false, h_stream, NULL,
                          0,   NULL,           false, 0,     NULL};
    assert_int_equal(scitt_http_server_route(srv, &r), SCITT_OK);
    held = NULL;
    closed_calls = 0;
    buffer_bytes = 16;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt__http_server_free_detached(srv);
    return 0;
}

static scitt__mem_conn *open_stream(size_t max_write)
{
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    m->max_write = max_write;
    const char req[] = "GET /s HTTP/1.1\r\nHost: e\r\n\r\n";
    scitt__http_conn_input(&m->c, (const uint8_t *)req, sizeof(req) - 1);
    assert_non_null(held);
    return m;
}

static const char *body(const scitt__mem_conn *m)
{
    const char *h = memmem(m->out.ptr, m->out.len, "\r\n\r\n", 4);
    assert_non_null(h);
    return h + 4;
}

static void test_head_and_order(void **state)
{
    (void)state;
    scitt__mem_conn *m = open_stream(3); /* partial writes of 3 bytes */
    const char *out = (const char *)m->out.ptr;
    assert_non_null(memmem(out, m->out.len, "HTTP/1.1 200 OK\r\n", 17));
    assert_non_null(memmem(out, m->out.len, "Content-Type: text/event-stream\r\n", 33));
    assert_non_null(memmem(out, m->out.len, "Connection: close\r\n", 19));
    assert_null(memmem(out, m->out.len, "Content-Length", 14));
    /* 10 x 10 bytes through a 16-byte buffer: accepted because each drains before the next */
    char want[101] = "";
    for (int i = 0; i < 10; i++) {
        char ev[11];
        snprintf(ev, sizeof(ev), "event %d\n\n", i);
        assert_int_equal(scitt_http_stream_write(held, scitt_span_str(ev)), SCITT_OK);
        strcat(want, ev);
        assert_int_equal(scitt_http_stream_pending(held), 0);
    }
    scitt_dynbuf_put(&m->out, "", 1);
    assert_string_equal(body(m), want);
    assert_false(m->closed);
    scitt__http_mem_conn_free(m);
    assert_int_equal(closed_calls, 1); /* the connection went away: released once */
}

static void test_bounded(void **state)
{
    (void)state;
    scitt__mem_conn *m = open_stream(0);
    /* one write larger than the buffer is refused, not buffered */
    assert_int_equal(scitt_http_stream_write(held, scitt_span_str("0123456789abcdefX")),
                     SCITT_ERR_TOO_LARGE);
    assert_int_equal(scitt_http_stream_write(held, scitt_span_str("0123456789abcdef")), SCITT_OK);
    scitt_http_stream_end(held, true);
    assert_true(m->closed);
    assert_int_equal(closed_calls, 1);
    scitt__http_mem_conn_free(m);
    assert_int_equal(closed_calls, 1);
}

static void test_nothing_behind_a_stream(void **state)
{
    (void)state;
    scitt__mem_conn *m = scitt__http_mem_conn_new(srv, false);
    const char req[] = "GET /s HTTP/1.1\r\nHost: e\r\n\r\nGET /s HTTP/1.1\r\nHost: e\r\n\r\n";
    scitt__http_conn_input(&m->c, (const uint8_t *)req, sizeof(req) - 1);
    scitt_http_req *first = held;
    assert_non_null(first);
    size_t n = 0;
    for (const char *p = (const char *)m->out.ptr;
         (p = memmem(p, m->out.len - (size_t)(p - (const char *)m->out.ptr), "HTTP/1.1 ", 9));
         p += 9) {
        n++;
    }
    assert_int_equal(n, 1);
    scitt_http_stream_end(first, false); /* a slow reader: closed at once */
    assert_true(m->closed);
    /* the second request, parsed from the same read, was dispatched but never answered; both
     * streams are released with the connection, each once */
    assert_int_equal(closed_calls, 2);
    scitt__http_mem_conn_free(m);
}

static void test_write_after_end(void **state)
{
    (void)state;
    scitt__mem_conn *m = open_stream(0);
    assert_int_equal(scitt_http_stream_write(held, scitt_span_str("x")), SCITT_OK);
    scitt_http_stream_end(held, true);
    assert_int_equal(closed_calls, 1);
    scitt__http_mem_conn_free(m);
}

/* The stream's buffer is counted, whole, in what its connection holds (its buffer bound). */
static void test_buffer_counted(void **state)
{
    (void)state;
    buffer_bytes = 1u << 20;
    scitt__mem_conn *m = open_stream(0);
    assert_true(m->c.held >= buffer_bytes);
    assert_true(held->charge >= buffer_bytes);
    scitt_http_stream_end(held, false);
    scitt__http_mem_conn_free(m);
    assert_int_equal(closed_calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_head_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_behind_a_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_after_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
