/*
 * Deterministic CBOR writer. Heads are encoded by libcbor's cbor_encode_* functions (which always
 * choose the shortest form) into a small stack buffer and then copied to the caller's storage, so
 * an overflow never leaves a partial head behind and `need` stays exact. Every item is counted
 * against the innermost open container (item() before its head, done() after it), and a
 * container is closed when it holds all it announced.
 */
#include "scitt/cbor.h"

#include <string.h>

#include <cbor.h>

void scitt_cbor_writer_init(scitt_cbor_writer *w, uint8_t *storage, size_t cap)
{
    w->ptr = storage;
    w->cap = storage ? cap : 0;
    w->len = 0;
    w->need = 0;
    w->err = SCITT_OK;
    w->dyn = NULL;
    w->dyn_start = 0;
    w->depth = 0;
}

#define WRAP UINT64_MAX /* a byte-string wrap: holds any number of items */

/* An item starts: it is one of the innermost container's. */
static void item(scitt_cbor_writer *w)
{
    if (w->depth && w->open[w->depth - 1].left != WRAP) {
        w->open[w->depth - 1].left--;
    }
}

/* An item is complete: close every container it filled. */
static void done(scitt_cbor_writer *w)
{
    while (w->depth && w->open[w->depth - 1].left == 0) {
        w->depth--;
    }
}

/* A container expecting @p left items (an empty one is complete at once). */
static void push(scitt_cbor_writer *w, uint64_t left)
{
    if (left == 0) {
        done(w);
        return;
    }
    if (w->depth == SCITT_CBOR_WRITE_DEPTH) {
        if (w->err == SCITT_OK || w->err == SCITT_ERR_BUFFER_TOO_SMALL) {
            w->err = SCITT_ERR_TOO_DEEP;
        }
        return;
    }
    w->open[w->depth].left = left;
    w->open[w->depth].at = w->need;
    w->depth++;
}

void scitt_cbor_writer_init_dynbuf(scitt_cbor_writer *w, scitt_dynbuf *b)
{
    scitt_cbor_writer_init(w, NULL, 0);
    w->dyn = b;
    w->dyn_start = b->len;
    w->err = b->err;
}

static void put(scitt_cbor_writer *w, const void *data, size_t n)
{
    if (w->err != SCITT_OK && w->err != SCITT_ERR_BUFFER_TOO_SMALL) {
        return;
    }
    if (n > SIZE_MAX - w->need) {
        w->err = SCITT_ERR_TOO_LARGE;
        return;
    }
    w->need += n;
    if (w->dyn) {
        scitt_dynbuf_put(w->dyn, data, n);
        w->err = w->dyn->err;
        return;
    }
    if (w->err != SCITT_OK || n > w->cap - w->len) {
        w->err = SCITT_ERR_BUFFER_TOO_SMALL;
        return;
    }
    if (n) {
        memcpy(w->ptr + w->len, data, n);
    }
    w->len += n;
}

/* Every head is at most 9 bytes; a libcbor encoder returns 0 only when its buffer is too small. */
static void put_head(scitt_cbor_writer *w, size_t n, const unsigned char *head)
{
    if (n == 0) {
        w->err = SCITT_ERR_INVALID_ARG;
        return;
    }
    put(w, head, n);
}

void scitt_cbor_put_uint(scitt_cbor_writer *w, uint64_t v)
{
    unsigned char h[9];
    item(w);
    put_head(w, cbor_encode_uint(v, h, sizeof(h)), h);
    done(w);
}

void scitt_cbor_put_int(scitt_cbor_writer *w, int64_t v)
{
    unsigned char h[9];
    item(w);
    if (v >= 0) {
        put_head(w, cbor_encode_uint((uint64_t)v, h, sizeof(h)), h);
    } else {
        /* -1 - v without overflow for INT64_MIN. */
        put_head(w, cbor_encode_negint((uint64_t)(-(v + 1)), h, sizeof(h)), h);
    }
    done(w);
}

void scitt_cbor_put_bytes_head(scitt_cbor_writer *w, size_t len)
{
    unsigned char h[9];
    item(w);
    put_head(w, cbor_encode_bytestring_start(len, h, sizeof(h)), h);
    done(w);
}

void scitt_cbor_put_bytes(scitt_cbor_writer *w, scitt_span v)
{
    unsigned char h[9];
    item(w);
    put_head(w, cbor_encode_bytestring_start(v.len, h, sizeof(h)), h);
    put(w, v.ptr, v.len);
    done(w);
}

void scitt_cbor_open_bytes(scitt_cbor_writer *w)
{
    item(w);
    push(w, WRAP);
}

/* Moves the @p n bytes at @p p (the wrap's contents) up by @p hl and writes the head there. */
static void insert_head(uint8_t *p, size_t n, const unsigned char *h, size_t hl)
{
    if (n) {
        memmove(p + hl, p, n);
    }
    memcpy(p, h, hl);
}

void scitt_cbor_close_bytes(scitt_cbor_writer *w)
{
    if (!w->depth || w->open[w->depth - 1].left != WRAP) {
        if (w->err == SCITT_OK || w->err == SCITT_ERR_BUFFER_TOO_SMALL) {
            w->err = SCITT_ERR_INVALID_ARG;
        }
        return;
    }
    size_t at = w->open[--w->depth].at;
    size_t n = w->need - at; /* the contents, as the output needs them */
    unsigned char h[9];
    size_t hl = cbor_encode_bytestring_start(n, h, sizeof(h));
    if (hl == 0) {
        w->err = SCITT_ERR_INVALID_ARG;
        return;
    }
    if (w->err == SCITT_OK && w->dyn) {
        /* Grow by the head, then shift the contents over it. */
        scitt_dynbuf_put(w->dyn, h, hl);
        w->err = w->dyn->err;
        if (w->err == SCITT_OK) {
            insert_head(w->dyn->ptr + w->dyn_start + at, n, h, hl);
            w->need += hl;
        }
    } else if (w->err == SCITT_OK && hl <= w->cap - w->len) {
        insert_head(w->ptr + at, n, h, hl);
        w->len += hl;
        w->need += hl;
    } else if (w->err == SCITT_OK || w->err == SCITT_ERR_BUFFER_TOO_SMALL) {
        w->err = SCITT_ERR_BUFFER_TOO_SMALL; /* keep counting what it would take */
        w->need += hl;
    }
    done(w);
}

void scitt_cbor_put_text(scitt_cbor_writer *w, scitt_span v)
{
    if (!scitt_utf8_valid(v)) {
        if (w->err == SCITT_OK || w->err == SCITT_ERR_BUFFER_TOO_SMALL) {
            w->err = SCITT_ERR_UTF8;
        }
        return;
    }
    unsigned char h[9];
    item(w);
    put_head(w, cbor_encode_string_start(v.len, h, sizeof(h)), h);
    put(w, v.ptr, v.len);
    done(w);
}

void scitt_cbor_put_cstr(scitt_cbor_writer *w, const char *s)
{
    scitt_cbor_put_text(w, scitt_span_str(s));
}

void scitt_cbor_put_array(scitt_cbor_writer *w, size_t n)
{
    unsigned char h[9];
    item(w);
    put_head(w, cbor_encode_array_start(n, h, sizeof(h)), h);
    push(w, n);
}

void scitt_cbor_put_map(scitt_cbor_writer *w, size_t n)
{
    unsigned char h[9];
    item(w);
    put_head(w, cbor_encode_map_start(n, h, sizeof(h)), h);
    if ((uint64_t)n > (WRAP - 1) / 2) {
        w->err = SCITT_ERR_TOO_LARGE;
        return;
    }
    push(w, 2 * (uint64_t)n);
}

void scitt_cbor_put_tag(scitt_cbor_writer *w, uint64_t tag)
{
    unsigned char h[9];
    item(w);
    put_head(w, cbor_encode_tag(tag, h, sizeof(h)), h);
    push(w, 1);
}

void scitt_cbor_put_bool(scitt_cbor_writer *w, bool v)
{
    unsigned char h[1];
    item(w);
    put_head(w, cbor_encode_bool(v, h, sizeof(h)), h);
    done(w);
}

void scitt_cbor_put_null(scitt_cbor_writer *w)
{
    unsigned char h[1];
    item(w);
    put_head(w, cbor_encode_null(h, sizeof(h)), h);
    done(w);
}

void scitt_cbor_put_raw(scitt_cbor_writer *w, scitt_span raw)
{
    item(w);
    put(w, raw.ptr, raw.len);
    done(w);
}

scitt_err scitt_cbor_writer_finish(const scitt_cbor_writer *w, scitt_span *out)
{
    if (w->err != SCITT_OK) {
        return w->err;
    }
    if (w->depth) {
        return SCITT_ERR_TRUNCATED; /* an array, map, tag or byte string is unfilled */
    }
    if (!out) {
        return SCITT_OK; /* the caller only wants to know that writing succeeded */
    }
    if (w->dyn) {
        size_t n = w->dyn->len - w->dyn_start;
        *out = scitt_span_make(n ? w->dyn->ptr + w->dyn_start : NULL, n);
    } else {
        *out = scitt_span_make(w->ptr, w->len);
    }
    return SCITT_OK;
}

size_t scitt_cbor_head_len(uint64_t arg)
{
    return arg < 24 ? 1 : arg <= 0xff ? 2 : arg <= 0xffff ? 3 : arg <= 0xffffffffu ? 5 : 9;
}
