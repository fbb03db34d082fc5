/*
 * The JSON writer: what the scitt tool prints with --json and what scittd answers to
 * GET /query with Accept: application/json. Output is compact (no white space), in the order the
 * caller writes it.
 */
#include "scitt/json.h"

#include <string.h>

void scitt_json_put_string(scitt_dynbuf *b, scitt_span s)
{
    static const char hex[] = "0123456789abcdef";
    scitt_dynbuf_u8(b, '"');
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c == '"' || c == '\\') {
            scitt_dynbuf_u8(b, '\\');
            scitt_dynbuf_u8(b, c);
        } else if (c == '\n') {
            scitt_dynbuf_str(b, "\\n");
        } else if (c == '\r') {
            scitt_dynbuf_str(b, "\\r");
        } else if (c == '\t') {
            scitt_dynbuf_str(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            scitt_dynbuf_str(b, esc);
        } else {
            scitt_dynbuf_u8(b, c);
        }
    }
    scitt_dynbuf_u8(b, '"');
}

void scitt_json_writer_init(scitt_json_writer *w, scitt_dynbuf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

scitt_err scitt_json_writer_finish(const scitt_json_writer *w)
{
    if (w->err != SCITT_OK) {
        return w->err;
    }
    if (w->out->err != SCITT_OK) {
        return w->out->err;
    }
    return w->depth == 0 && !w->after_key && w->roots == 1 ? SCITT_OK : SCITT_ERR_STATE;
}

static bool in_object(const scitt_json_writer *w)
{
    return w->depth > 0 && w->open[w->depth - 1] == '{';
}

/* Before a value: its comma, and the check that it has a key exactly when it is a member. */
static bool value_starts(scitt_json_writer *w)
{
    if (w->err != SCITT_OK) {
        return false;
    }
    if (w->after_key) {
        w->after_key = false;
        return true;
    }
    if (in_object(w) || (w->depth == 0 && w->roots > 0)) {
        w->err = SCITT_ERR_STATE; /* a member without a key, or a second document */
        return false;
    }
    if (w->comma[w->depth]) {
        scitt_dynbuf_u8(w->out, ',');
    }
    w->comma[w->depth] = true;
    w->roots += w->depth == 0;
    return true;
}

static void open_level(scitt_json_writer *w, char c)
{
    if (!value_starts(w)) {
        return;
    }
    if (w->depth == SCITT_LIMIT_JSON_DEPTH) {
        w->err = SCITT_ERR_TOO_DEEP;
        return;
    }
    scitt_dynbuf_u8(w->out, (uint8_t)c);
    w->open[w->depth++] = (uint8_t)c;
    w->comma[w->depth] = false;
}

static void close_level(scitt_json_writer *w, char open, char close)
{
    if (w->err != SCITT_OK) {
        return;
    }
    if (w->depth == 0 || w->open[w->depth - 1] != (uint8_t)open || w->after_key) {
        w->err = SCITT_ERR_STATE;
        return;
    }
    w->depth--;
    scitt_dynbuf_u8(w->out, (uint8_t)close);
}

void scitt_json_begin_object(scitt_json_writer *w)
{
    open_level(w, '{');
}

void scitt_json_end_object(scitt_json_writer *w)
{
    close_level(w, '{', '}');
}

void scitt_json_begin_array(scitt_json_writer *w)
{
    open_level(w, '[');
}

void scitt_json_end_array(scitt_json_writer *w)
{
    close_level(w, '[', ']');
}

void scitt_json_put_key(scitt_json_writer *w, const char *key)
{
    if (w->err != SCITT_OK) {
        return;
    }
    if (!in_object(w) || w->after_key) {
        w->err = SCITT_ERR_STATE;
        return;
    }
    if (w->comma[w->depth]) {
        scitt_dynbuf_u8(w->out, ',');
    }
    w->comma[w->depth] = true;
    scitt_json_put_string(w->out, scitt_span_str(key));
    scitt_dynbuf_u8(w->out, ':');
    w->after_key = true;
}

void scitt_json_put_cstr(scitt_json_writer *w, const char *s)
{
    scitt_json_put_text(w, scitt_span_str(s ? s : ""));
}

void scitt_json_put_text(scitt_json_writer *w, scitt_span s)
{
    if (!value_starts(w)) {
        return;
    }
    if (scitt_utf8_valid(s)) {
        scitt_json_put_string(w->out, s);
        return;
    }
    /* Text that is not UTF-8 (a claim as received, a file name): every byte outside ASCII is
     * replaced, so the output stays valid JSON and says that something was there. */
    scitt_dynbuf tmp;
    scitt_dynbuf_init(&tmp, 0);
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < 0x80) {
            scitt_dynbuf_u8(&tmp, s.ptr[i]);
        } else {
            scitt_dynbuf_put(&tmp, "\xef\xbf\xbd", 3);
        }
    }
    if (tmp.err != SCITT_OK) {
        w->err = tmp.err;
    } else {
        scitt_json_put_string(w->out, scitt_span_make(tmp.ptr, tmp.len));
    }
    scitt_dynbuf_clear(&tmp);
}

void scitt_json_put_hex(scitt_json_writer *w, scitt_span bytes)
{
    static const char hex[] = "0123456789abcdef";
    if (!value_starts(w)) {
        return;
    }
    scitt_dynbuf_u8(w->out, '"');
    for (size_t i = 0; i < bytes.len; i++) {
        char two[2] = {hex[bytes.ptr[i] >> 4], hex[bytes.ptr[i] & 15]};
        scitt_dynbuf_put(w->out, two, 2);
    }
    scitt_dynbuf_u8(w->out, '"');
}

void scitt_json_put_int(scitt_json_writer *w, int64_t v)
{
    if (value_starts(w)) {
        scitt_dynbuf_printf(w->out, "%lld", (long long)v);
    }
}

void scitt_json_put_uint(scitt_json_writer *w, uint64_t v)
{
    if (value_starts(w)) {
        scitt_dynbuf_printf(w->out, "%llu", (unsigned long long)v);
    }
}

void scitt_json_put_bool(scitt_json_writer *w, bool v)
{
    if (value_starts(w)) {
        scitt_dynbuf_str(w->out, v ? "true" : "false");
    }
}

void scitt_json_put_null(scitt_json_writer *w)
{
    if (value_starts(w)) {
        scitt_dynbuf_str(w->out, "null");
    }
}
