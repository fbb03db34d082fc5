/*
 * C2SP signed notes: key names, key IDs, vkey strings, signing and verification.
 */
#include "scitt/note.h"

#include <stdio.h>
#include <string.h>

#include "note_internal.h"
#include "scitt/limits.h"

/* Base64 text decoded at a time when a signature line is checked (a multiple of 4). */
#define B64_PIECE 256u

/* "— " : U+2014 EM DASH in UTF-8, then a space. */
static const uint8_t sig_prefix[4] = {0xe2, 0x80, 0x94, ' '};

/* Decodes one code point of text already known to be valid UTF-8. */
static uint32_t next_cp(scitt_span s, size_t *i)
{
    uint8_t c = s.ptr[*i];
    size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t k = 1; k < n; k++) {
        cp = (cp << 6) | (s.ptr[*i + k] & 0x3fu);
    }
    *i += n;
    return cp;
}

scitt_err scitt__note_text_check(scitt_span text)
{
    if (!scitt_utf8_valid(text)) {
        return SCITT_ERR_UTF8;
    }
    for (size_t i = 0; i < text.len; i++) {
        uint8_t c = text.ptr[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f) {
            return SCITT_ERR_NOTE_MALFORMED;
        }
    }
    return SCITT_OK;
}

/* Unicode White_Space plus the C0 controls and DEL. */
static bool space_or_control(uint32_t cp)
{
    if (cp < 0x21 || cp == 0x7f || cp == 0x85 || cp == 0xa0 || cp == 0x1680 || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000) {
        return true;
    }
    return cp >= 0x2000 && cp <= 0x200a;
}

bool scitt_note_name_valid(scitt_span name)
{
    if (name.len == 0 || name.len > SCITT_NOTE_NAME_MAX || !scitt_utf8_valid(name)) {
        return false;
    }
    for (size_t i = 0; i < name.len;) {
        uint32_t cp = next_cp(name, &i);
        if (cp == '+' || space_or_control(cp)) {
            return false;
        }
    }
    return true;
}

uint32_t scitt_note_key_id(scitt_span name, uint8_t sig_type, scitt_span key)
{
    uint8_t nl_type[2] = {'\n', sig_type};
    scitt_span parts[3] = {name, scitt_span_make(nl_type, 2), key};
    uint8_t h[SCITT_SHA256_LEN];
    scitt_sha256_v(parts, 3, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

scitt_err scitt_note_verifier_init(scitt_note_verifier *v, scitt_span name,
                                   const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN])
{
    if (v == NULL || pub == NULL || !scitt_note_name_valid(name)) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(v, 0, sizeof(*v));
    memcpy(v->name, name.ptr, name.len);
    v->name_len = name.len;
    memcpy(v->key, pub, SCITT_NOTE_ED25519_KEY_LEN);
    v->key_id = scitt_note_key_id(name, SCITT_NOTE_SIG_TYPE_ED25519,
                                  scitt_span_make(pub, SCITT_NOTE_ED25519_KEY_LEN));
    return SCITT_OK;
}

static bool find_byte(scitt_span s, uint8_t c, size_t *at)
{
    const uint8_t *p = s.len ? memchr(s.ptr, c, s.len) : NULL;
    if (p == NULL) {
        return false;
    }
    *at = (size_t)(p - s.ptr);
    return true;
}

scitt_err scitt_note_vkey_parse(scitt_span vkey, scitt_note_verifier *out)
{
    if (out == NULL || (vkey.ptr == NULL && vkey.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    size_t p1, p2;
    if (!find_byte(vkey, '+', &p1)) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    scitt_span name = scitt_span_make(vkey.ptr, p1);
    scitt_span rest = scitt_span_make(vkey.ptr + p1 + 1, vkey.len - p1 - 1);
    if (!find_byte(rest, '+', &p2) || p2 != 8 || !scitt_note_name_valid(name)) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    uint8_t id[4], key[64];
    size_t idlen, keylen;
    if (scitt_hex_decode(scitt_span_make(rest.ptr, 8), id, sizeof(id), &idlen) != SCITT_OK ||
        scitt_base64_decode(scitt_span_make(rest.ptr + 9, rest.len - 9), key, sizeof(key),
                            &keylen) != SCITT_OK ||
        keylen == 0) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    if (key[0] != SCITT_NOTE_SIG_TYPE_ED25519) {
        return SCITT_ERR_ALG;
    }
    if (keylen != 1 + SCITT_NOTE_ED25519_KEY_LEN) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    scitt_note_verifier v;
    scitt_err e = scitt_note_verifier_init(&v, name, key + 1);
    if (e != SCITT_OK) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    uint32_t want = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    if (want != v.key_id) {
        return SCITT_ERR_KEY_MISMATCH;
    }
    *out = v;
    return SCITT_OK;
}

scitt_err scitt_note_vkey_format(scitt_span name, const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN],
                                 char *out, size_t cap)
{
    scitt_note_verifier v;
    scitt_err e = scitt_note_verifier_init(&v, name, pub);
    if (e != SCITT_OK || out == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    uint8_t typed[1 + SCITT_NOTE_ED25519_KEY_LEN] = {SCITT_NOTE_SIG_TYPE_ED25519};
    memcpy(typed + 1, pub, SCITT_NOTE_ED25519_KEY_LEN);
    char b64[SCITT_BASE64_LEN(sizeof(typed))];
    e = scitt_base64_encode(scitt_span_make(typed, sizeof(typed)), b64, sizeof(b64));
    if (e != SCITT_OK) {
        return e;
    }
    int n = snprintf(out, cap, "%s+%08x+%s", v.name, (unsigned)v.key_id, b64);
    return n < 0 || (size_t)n >= cap ? SCITT_ERR_BUFFER_TOO_SMALL : SCITT_OK;
}

/* A note text must be non-empty, end in a newline and hold only allowed characters. */
static scitt_err text_ok(scitt_span text)
{
    if (text.len == 0 || text.ptr[text.len - 1] != '\n') {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    return scitt__note_text_check(text);
}

scitt_err scitt_note_sign(scitt_span text, const scitt_note_signer *signers, size_t n,
                          scitt_dynbuf *out)
{
    if (out == NULL || signers == NULL || n == 0 || (text.ptr == NULL && text.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (n > SCITT_LIMIT_NOTE_SIGS || text.len > SCITT_LIMIT_NOTE_BYTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_err e = text_ok(text);
    if (e != SCITT_OK) {
        return e;
    }
    size_t start = out->len;
    scitt_dynbuf_put(out, text.ptr, text.len);
    scitt_dynbuf_u8(out, '\n');
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        const scitt_note_signer *s = &signers[i];
        uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN];
        uint8_t blob[4 + SCITT_NOTE_ED25519_SIG_LEN];
        if ((s->seed == NULL && s->key == NULL) || !scitt_note_name_valid(s->name)) {
            e = SCITT_ERR_INVALID_ARG;
            break;
        }
        if (s->key != NULL) {
            e = scitt__ed25519_sign_key(s->key, text, blob + 4, pub);
        } else {
            e = scitt_note_ed25519_public(s->seed, pub);
            e = e ? e : scitt__ed25519_sign(s->seed, text, blob + 4);
        }
        if (e == SCITT_OK) {
            uint32_t id = scitt_note_key_id(s->name, SCITT_NOTE_SIG_TYPE_ED25519,
                                            scitt_span_make(pub, sizeof(pub)));
            blob[0] = (uint8_t)(id >> 24);
            blob[1] = (uint8_t)(id >> 16);
            blob[2] = (uint8_t)(id >> 8);
            blob[3] = (uint8_t)id;
        }
        if (e == SCITT_OK) {
            char b64[SCITT_BASE64_LEN(sizeof(blob))];
            e = scitt_base64_encode(scitt_span_make(blob, sizeof(blob)), b64, sizeof(b64));
            scitt_dynbuf_put(out, sig_prefix, sizeof(sig_prefix));
            scitt_dynbuf_put(out, s->name.ptr, s->name.len);
            scitt_dynbuf_u8(out, ' ');
            scitt_dynbuf_str(out, b64);
            scitt_dynbuf_u8(out, '\n');
        }
    }
    if (e == SCITT_OK) {
        e = out->err;
    }
    if (e == SCITT_OK && out->len - start > SCITT_LIMIT_NOTE_BYTES) {
        e = SCITT_ERR_TOO_LARGE;
    }
    if (e != SCITT_OK && out->err == SCITT_OK) {
        out->len = start;
    }
    return e;
}

static scitt_err parse_line(scitt_span line, scitt_note_sig *out)
{
    if (line.len < sizeof(sig_prefix) || memcmp(line.ptr, sig_prefix, sizeof(sig_prefix)) != 0) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    scitt_span rest = scitt_span_make(line.ptr + 4, line.len - 4);
    size_t sp;
    if (!find_byte(rest, ' ', &sp)) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    out->name = scitt_span_make(rest.ptr, sp);
    out->blob_b64 = scitt_span_make(rest.ptr + sp + 1, rest.len - sp - 1);
    if (!scitt_note_name_valid(out->name) || out->blob_b64.len == 0) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    /* Signatures of other types (timestamped cosignatures, ML-DSA) are longer: the whole blob is
     * decoded, in pieces of whole 4-character groups, to check its syntax; only its first bytes
     * (the key ID) are kept. */
    size_t body = out->blob_b64.len - (out->blob_b64.len < 2 ? out->blob_b64.len : 2);
    if (out->blob_b64.len % 4 != 0 || (body && memchr(out->blob_b64.ptr, '=', body) != NULL)) {
        return SCITT_ERR_NOTE_MALFORMED; /* padding only at the very end */
    }
    uint8_t head[4] = {0};
    size_t n = 0;
    for (size_t pos = 0; pos < out->blob_b64.len;) {
        size_t len = out->blob_b64.len - pos < B64_PIECE ? out->blob_b64.len - pos : B64_PIECE;
        uint8_t piece[B64_PIECE / 4 * 3];
        size_t got;
        if (scitt_base64_decode(scitt_span_make(out->blob_b64.ptr + pos, len), piece, sizeof(piece),
                                &got) != SCITT_OK) {
            return SCITT_ERR_NOTE_MALFORMED;
        }
        if (pos == 0) {
            memcpy(head, piece, got < sizeof(head) ? got : sizeof(head));
        }
        n += got;
        pos += len;
    }
    if (n < 5) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    out->key_id =
        (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    out->sig_len = n - 4;
    return SCITT_OK;
}

scitt_err scitt_note_parse(scitt_span note, scitt_note_parsed *out)
{
    if (out == NULL || (note.ptr == NULL && note.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (note.len > SCITT_LIMIT_NOTE_BYTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_err e = scitt__note_text_check(note);
    if (e != SCITT_OK) {
        return e;
    }
    /* The signature block starts after the last blank line; the text keeps its final newline. */
    size_t split = SIZE_MAX;
    for (size_t i = note.len; i >= 2; i--) {
        if (note.ptr[i - 2] == '\n' && note.ptr[i - 1] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == SIZE_MAX) {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    out->text = scitt_span_make(note.ptr, split + 1);
    out->n_sigs = 0;
    scitt_span sigs = scitt_span_make(note.ptr + split + 2, note.len - split - 2);
    if (sigs.len == 0 || sigs.ptr[sigs.len - 1] != '\n') {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    for (size_t pos = 0; pos < sigs.len;) {
        scitt_span rest = scitt_span_make(sigs.ptr + pos, sigs.len - pos);
        size_t nl = 0;
        if (!find_byte(rest, '\n', &nl)) {
            return SCITT_ERR_NOTE_MALFORMED; /* unreachable: the block ends in '\n' */
        }
        if (out->n_sigs == SCITT_LIMIT_NOTE_SIGS) {
            return SCITT_ERR_TOO_LARGE;
        }
        e = parse_line(scitt_span_make(rest.ptr, nl), &out->sigs[out->n_sigs]);
        if (e != SCITT_OK) {
            return e;
        }
        out->n_sigs++;
        pos += nl + 1;
    }
    return SCITT_OK;
}

scitt_err scitt_note_verify(scitt_span note, const scitt_note_verifier *keys, size_t n,
                            scitt_note_result *out)
{
    if ((keys == NULL && n != 0) || n > SCITT_NOTE_MAX_VERIFIERS) {
        return SCITT_ERR_INVALID_ARG;
    }
    /* Every line must parse before any signature is checked, so a malformed note is reported as
     * such whatever its signatures. */
    scitt_note_parsed p;
    scitt_err e = scitt_note_parse(note, &p);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_note_result res = {p.text, 0, p.n_sigs, 0};
    for (size_t i = 0; i < p.n_sigs; i++) {
        const scitt_note_sig *l = &p.sigs[i];
        size_t k = 0;
        while (k < n &&
               !(keys[k].key_id == l->key_id &&
                 scitt_span_eq(scitt_span_make(keys[k].name, keys[k].name_len), l->name))) {
            k++;
        }
        if (k == n) {
            res.unknown++;
            continue;
        }
        /* A known key whose line is not an Ed25519 signature has signed badly. */
        uint8_t blob[4 + SCITT_NOTE_ED25519_SIG_LEN];
        size_t blen;
        if (l->sig_len != SCITT_NOTE_ED25519_SIG_LEN ||
            scitt_base64_decode(l->blob_b64, blob, sizeof(blob), &blen) != SCITT_OK) {
            return SCITT_ERR_SIGNATURE;
        }
        e = scitt__ed25519_verify(keys[k].key, p.text, blob + 4);
        if (e != SCITT_OK) {
            return e;
        }
        res.verified |= 1u << k;
    }
    if (res.verified == 0) {
        return SCITT_ERR_UNTRUSTED;
    }
    if (out) {
        *out = res;
    }
    return SCITT_OK;
}
