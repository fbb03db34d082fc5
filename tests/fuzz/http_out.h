/*
 * The output check shared by the fuzz targets that drive the HTTP server over its memory
 * transport: the bytes written are exactly the recorded responses, each an optional interim
 * 100 Continue, then a head llhttp accepts with the recorded status and a Content-Length that
 * matches its body (none for 1xx, 204 and 304).
 */
#ifndef SCITT_FUZZ_HTTP_OUT_H
#define SCITT_FUZZ_HTTP_OUT_H

#include <stdlib.h>
#include <string.h>

#include "http_impl.h"

static uint64_t fuzz_out_declared_len;
static bool fuzz_out_declared;

static int fuzz_out_on_head(llhttp_t *p)
{
    fuzz_out_declared = (p->flags & F_CONTENT_LENGTH) != 0;
    fuzz_out_declared_len = p->content_length;
    return 1; /* a lone head: no body follows in what is parsed */
}

/*
 * Checks the output of @p m (the first 256 responses, as recorded) and calls @p each, when not
 * NULL, with every response's head and body. Returns NULL when it holds, else what broke.
 */
static const char *fuzz_http_out_check(const scitt__mem_conn *m,
                                       const char *(*each)(const scitt__mem_sent *s,
                                                           scitt_span head, scitt_span body))
{
    static const char c100[] = "HTTP/1.1 100 Continue\r\n\r\n";
    const uint8_t *p = m->out.ptr;
    size_t left = m->out.len;
    size_t n = m->nsent < 256 ? m->nsent : 256;
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_headers_complete = fuzz_out_on_head;
    for (size_t i = 0; i < n; i++) {
        const scitt__mem_sent *s = &m->sent[i];
        if (s->cont) {
            if (left < 25 || memcmp(p, c100, 25) != 0) {
                return "a broken interim response";
            }
            p += 25;
            left -= 25;
        }
        if (s->head_len > left || s->head_len < 16 || memcmp(p, "HTTP/1.1 ", 9) != 0 ||
            atoi((const char *)p + 9) != s->status ||
            memcmp(p + s->head_len - 4, "\r\n\r\n", 4) != 0) {
            return "a response head is malformed";
        }
        llhttp_t parser;
        fuzz_out_declared = false;
        llhttp_init(&parser, HTTP_RESPONSE, &st);
        llhttp_errno_t e = llhttp_execute(&parser, (const char *)p, s->head_len);
        if (e != HPE_OK && e != HPE_PAUSED_UPGRADE) {
            return "llhttp does not accept a response head";
        }
        bool bodyless = s->status < 200 || s->status == 204 || s->status == 304;
        if (bodyless
                ? fuzz_out_declared
                : (!fuzz_out_declared || (!s->is_head && fuzz_out_declared_len != s->body_len))) {
            return "Content-Length does not match the body";
        }
        if (s->body_len > left - s->head_len) {
            return "a response is truncated";
        }
        const char *why = each ? each(s, scitt_span_make(p, s->head_len),
                                      scitt_span_make(p + s->head_len, s->body_len))
                               : NULL;
        if (why) {
            return why;
        }
        p += s->head_len + s->body_len;
        left -= s->head_len + s->body_len;
    }
    /* Beyond the recorded prefix there may be one interim 100 of a request still being read, a
     * stalled peer's part of a response, or a streamed response cut short by its producer. */
    bool partial = m->stalled || m->c.abort;
    if (m->nsent <= 256 && left != 0 && !(left == 25 && memcmp(p, "HTTP/1.1 100", 12) == 0) &&
        !(partial && memcmp(p, "HTTP/1.1 ", left < 9 ? left : 9) == 0)) {
        return "bytes out that no response accounts for";
    }
    return NULL;
}

#endif
