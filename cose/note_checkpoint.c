/* C2SP tlog-checkpoint bodies: a strict parser, the formatter and signed-checkpoint opening. */
#include <string.h>

#include "note_internal.h"
#include "scitt/limits.h"

/* Takes the next line (without its '\n'); false when no newline is left. */
static bool take_line(scitt_span *rest, scitt_span *line)
{
    const uint8_t *nl = rest->len ? memchr(rest->ptr, '\n', rest->len) : NULL;
    if (nl == NULL) {
        return false;
    }
    size_t n = (size_t)(nl - rest->ptr);
    *line = scitt_span_make(rest->ptr, n);
    *rest = scitt_span_make(rest->ptr + n + 1, rest->len - n - 1);
    return true;
}

/* Decimal without sign or leading zeros, within uint64. */
static bool parse_size(scitt_span s, uint64_t *out)
{
    if (s.len == 0 || s.len > 20 || (s.len > 1 && s.ptr[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c < '0' || c > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(c - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Zero or more complete, non-empty lines. */
static bool extensions_ok(scitt_span ext)
{
    scitt_span line;
    while (ext.len > 0) {
        if (!take_line(&ext, &line) || line.len == 0) {
            return false;
        }
    }
    return true;
}

scitt_err scitt_checkpoint_parse(scitt_span text, scitt_checkpoint *out)
{
    if (out == NULL || (text.ptr == NULL && text.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (text.len > SCITT_LIMIT_NOTE_BYTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_err e = scitt__note_text_check(text);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    scitt_span rest = text, size_line, root_line;
    if (!take_line(&rest, &cp.origin) || cp.origin.len == 0 || !take_line(&rest, &size_line) ||
        !parse_size(size_line, &cp.size) || !take_line(&rest, &root_line)) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    size_t n;
    if (root_line.len != 44 ||
        scitt_base64_decode(root_line, cp.root, sizeof(cp.root), &n) != SCITT_OK ||
        n != sizeof(cp.root)) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    if (!extensions_ok(rest)) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    cp.extensions = rest;
    *out = cp;
    return SCITT_OK;
}

scitt_err scitt_checkpoint_format(scitt_span origin, uint64_t size, const uint8_t root[32],
                                  scitt_span extensions, scitt_dynbuf *out)
{
    if (out == NULL || root == NULL || origin.len == 0 || origin.ptr == NULL ||
        memchr(origin.ptr, '\n', origin.len) != NULL ||
        scitt__note_text_check(origin) != SCITT_OK ||
        (extensions.len != 0 &&
         (scitt__note_text_check(extensions) != SCITT_OK || !extensions_ok(extensions)))) {
        return SCITT_ERR_INVALID_ARG;
    }
    char b64[SCITT_BASE64_LEN(32)];
    scitt_err e = scitt_base64_encode(scitt_span_make(root, 32), b64, sizeof(b64));
    if (e != SCITT_OK) {
        return e;
    }
    scitt_dynbuf_put(out, origin.ptr, origin.len);
    scitt_dynbuf_printf(out, "\n%llu\n%s\n", (unsigned long long)size, b64);
    if (extensions.len != 0) {
        scitt_dynbuf_put(out, extensions.ptr, extensions.len);
    }
    return out->err;
}

scitt_err scitt_checkpoint_open(scitt_span note, const scitt_note_verifier *keys, size_t n,
                                scitt_span origin, scitt_checkpoint *cp, scitt_note_result *res)
{
    scitt_note_result r;
    scitt_err e = scitt_note_verify(note, keys, n, &r);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_checkpoint c;
    e = scitt_checkpoint_parse(r.text, &c);
    if (e != SCITT_OK) {
        return e;
    }
    if (origin.len != 0 && !scitt_span_eq(origin, c.origin)) {
        return SCITT_ERR_UNTRUSTED;
    }
    if (cp) {
        *cp = c;
    }
    if (res) {
        *res = r;
    }
    return SCITT_OK;
}
