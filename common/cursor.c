/* Reader and writer cursors and the bounded growable buffer. */
#include "scitt/base.h"
#include "scitt/limits.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void scitt_reader_init(scitt_reader *r, scitt_span in)
{
    r->ptr = in.ptr;
    r->len = in.len;
    r->pos = 0;
    r->err = SCITT_OK;
}

size_t scitt_reader_left(const scitt_reader *r)
{
    return r->len - r->pos;
}

scitt_span scitt_reader_take(scitt_reader *r, size_t n)
{
    scitt_span s = {NULL, 0};
    if (r->err != SCITT_OK) {
        return s;
    }
    if (n > r->len - r->pos) {
        r->err = SCITT_ERR_TRUNCATED;
        return s;
    }
    s.ptr = r->ptr + r->pos;
    s.len = n;
    r->pos += n;
    return s;
}

static uint64_t read_uint(scitt_reader *r, size_t n, bool big_endian)
{
    scitt_span s = scitt_reader_take(r, n);
    uint64_t v = 0;
    if (s.len != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = big_endian ? i : n - 1 - i;
        v = (v << 8) | s.ptr[at];
    }
    return v;
}

uint8_t scitt_reader_u8(scitt_reader *r)
{
    return (uint8_t)read_uint(r, 1, true);
}

uint16_t scitt_reader_be16(scitt_reader *r)
{
    return (uint16_t)read_uint(r, 2, true);
}

uint32_t scitt_reader_be32(scitt_reader *r)
{
    return (uint32_t)read_uint(r, 4, true);
}

uint64_t scitt_reader_be64(scitt_reader *r)
{
    return read_uint(r, 8, true);
}

uint16_t scitt_reader_le16(scitt_reader *r)
{
    return (uint16_t)read_uint(r, 2, false);
}

uint32_t scitt_reader_le32(scitt_reader *r)
{
    return (uint32_t)read_uint(r, 4, false);
}

uint64_t scitt_reader_le64(scitt_reader *r)
{
    return read_uint(r, 8, false);
}

scitt_err scitt_reader_finish(const scitt_reader *r)
{
    if (r->err != SCITT_OK) {
        return r->err;
    }
    return r->pos == r->len ? SCITT_OK : SCITT_ERR_TRAILING;
}

void scitt_writer_init(scitt_writer *w, uint8_t *storage, size_t cap)
{
    w->ptr = storage;
    w->cap = storage ? cap : 0;
    w->len = 0;
    w->need = 0;
    w->err = SCITT_OK;
}

void scitt_writer_put(scitt_writer *w, const void *data, size_t n)
{
    if (n > SIZE_MAX - w->need) {
        w->err = SCITT_ERR_TOO_LARGE;
        return;
    }
    w->need += n;
    if (w->err != SCITT_OK) {
        return;
    }
    if (n > w->cap - w->len) {
        w->err = SCITT_ERR_BUFFER_TOO_SMALL;
        return;
    }
    if (n) {
        memcpy(w->ptr + w->len, data, n);
    }
    w->len += n;
}

void scitt_writer_u8(scitt_writer *w, uint8_t v)
{
    scitt_writer_put(w, &v, 1);
}

void scitt_writer_be16(scitt_writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    scitt_writer_put(w, b, sizeof(b));
}

void scitt_writer_be32(scitt_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    scitt_writer_put(w, b, sizeof(b));
}

void scitt_writer_be64(scitt_writer *w, uint64_t v)
{
    scitt_writer_be32(w, (uint32_t)(v >> 32));
    scitt_writer_be32(w, (uint32_t)v);
}

void scitt_writer_str(scitt_writer *w, const char *s)
{
    scitt_writer_put(w, s, strlen(s));
}

scitt_err scitt_writer_finish(const scitt_writer *w, scitt_span *out)
{
    if (w->err != SCITT_OK) {
        return w->err;
    }
    if (out) {
        *out = scitt_span_make(w->ptr, w->len);
    }
    return SCITT_OK;
}

void scitt_dynbuf_init(scitt_dynbuf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SCITT_LIMIT_DYNBUF_MAX;
    b->err = SCITT_OK;
}

void scitt_dynbuf_clear(scitt_dynbuf *b)
{
    scitt_free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->err = SCITT_OK;
}

uint8_t *scitt_dynbuf_reserve(scitt_dynbuf *b, size_t n)
{
    if (b->err != SCITT_OK) {
        return NULL;
    }
    if (n > b->max - b->len) {
        b->err = SCITT_ERR_TOO_LARGE;
        return NULL;
    }
    size_t want = b->len + n;
    if (want > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < want) {
            cap = cap > b->max / 2 ? b->max : cap * 2;
        }
        uint8_t *p = scitt_realloc(b->ptr, cap);
        if (!p) {
            b->err = SCITT_ERR_NOMEM;
            return NULL;
        }
        b->ptr = p;
        b->cap = cap;
    }
    uint8_t *at = b->ptr + b->len;
    b->len = want;
    return at;
}

void scitt_dynbuf_put(scitt_dynbuf *b, const void *data, size_t n)
{
    uint8_t *at = scitt_dynbuf_reserve(b, n);
    if (at && n) {
        memcpy(at, data, n);
    }
}

void scitt_dynbuf_u8(scitt_dynbuf *b, uint8_t v)
{
    scitt_dynbuf_put(b, &v, 1);
}

void scitt_dynbuf_str(scitt_dynbuf *b, const char *s)
{
    scitt_dynbuf_put(b, s, strlen(s));
}

void scitt_dynbuf_printf(scitt_dynbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = SCITT_ERR_INVALID_ARG;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        scitt_dynbuf_put(b, small, (size_t)n);
        return;
    }
    uint8_t *at = scitt_dynbuf_reserve(b, (size_t)n + 1);
    if (!at) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf((char *)at, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len--; /* drop the NUL vsnprintf wrote */
}

uint8_t *scitt_dynbuf_steal(scitt_dynbuf *b, size_t *len)
{
    uint8_t *p = b->ptr;
    if (len) {
        *len = b->len;
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
