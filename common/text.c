/* Hex, base64, base64url, UTF-8 validation and UTC timestamps. Decoders are strict. */
#include "scitt/base.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";
static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

scitt_err scitt_hex_encode(scitt_span in, char *out, size_t cap)
{
    if (in.len > (SIZE_MAX - 1) / 2 || cap < in.len * 2 + 1) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    for (size_t i = 0; i < in.len; i++) {
        out[2 * i] = hex_digits[in.ptr[i] >> 4];
        out[2 * i + 1] = hex_digits[in.ptr[i] & 15];
    }
    out[in.len * 2] = '\0';
    return SCITT_OK;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

scitt_err scitt_hex_decode(scitt_span text, uint8_t *out, size_t cap, size_t *out_len)
{
    if (text.len % 2) {
        return SCITT_ERR_MALFORMED;
    }
    if (text.len / 2 > cap) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    for (size_t i = 0; i < text.len / 2; i++) {
        int hi = hex_value(text.ptr[2 * i]);
        int lo = hex_value(text.ptr[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return SCITT_ERR_MALFORMED;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len) {
        *out_len = text.len / 2;
    }
    return SCITT_OK;
}

static scitt_err b64_encode(scitt_span in, char *out, size_t cap, const char *alpha, bool pad)
{
    size_t full = in.len / 3, rest = in.len % 3;
    size_t need = full * 4 + (rest ? (pad ? 4 : rest + 1) : 0) + 1;
    if (in.len > SIZE_MAX / 2 || cap < need) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    size_t o = 0;
    for (size_t i = 0; i < full; i++) {
        uint32_t v =
            (uint32_t)in.ptr[3 * i] << 16 | (uint32_t)in.ptr[3 * i + 1] << 8 | in.ptr[3 * i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (rest) {
        uint32_t v = (uint32_t)in.ptr[3 * full] << 16;
        if (rest == 2) {
            v |= (uint32_t)in.ptr[3 * full + 1] << 8;
        }
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (rest == 2) {
            out[o++] = alpha[(v >> 6) & 63];
        } else if (pad) {
            out[o++] = '=';
        }
        if (pad) {
            out[o++] = '=';
        }
    }
    out[o] = '\0';
    return SCITT_OK;
}

static int b64_value(uint8_t c, const char *alpha)
{
    const char *p = c ? memchr(alpha, c, 64) : NULL;
    return p ? (int)(p - alpha) : -1;
}

static scitt_err b64_decode(scitt_span text, uint8_t *out, size_t cap, size_t *out_len,
                            const char *alpha, bool pad)
{
    size_t n = text.len;
    if (pad) {
        if (n % 4) {
            return SCITT_ERR_MALFORMED;
        }
        if (n >= 1 && text.ptr[n - 1] == '=') {
            n--;
            if (n >= 1 && text.ptr[n - 1] == '=') {
                n--;
            }
        }
    }
    if (n % 4 == 1) {
        return SCITT_ERR_MALFORMED;
    }
    size_t bytes = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (bytes > cap) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(text.ptr[i], alpha);
        if (v < 0) {
            return SCITT_ERR_MALFORMED;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {
        return SCITT_ERR_MALFORMED; /* non-zero trailing bits: not the canonical encoding */
    }
    if (out_len) {
        *out_len = o;
    }
    return SCITT_OK;
}

scitt_err scitt_base64_encode(scitt_span in, char *out, size_t cap)
{
    return b64_encode(in, out, cap, b64_std, true);
}

scitt_err scitt_base64_decode(scitt_span text, uint8_t *out, size_t cap, size_t *out_len)
{
    return b64_decode(text, out, cap, out_len, b64_std, true);
}

scitt_err scitt_base64url_encode(scitt_span in, char *out, size_t cap)
{
    return b64_encode(in, out, cap, b64_url, false);
}

scitt_err scitt_base64url_decode(scitt_span text, uint8_t *out, size_t cap, size_t *out_len)
{
    return b64_decode(text, out, cap, out_len, b64_url, false);
}

bool scitt_utf8_valid(scitt_span s)
{
    size_t i = 0;
    while (i < s.len) {
        uint8_t c = s.ptr[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n > s.len - i - 1) {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            uint8_t cc = s.ptr[i + k];
            if ((cc & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

bool scitt_text_plain(scitt_span s)
{
    if (s.len == 0 || !scitt_utf8_valid(s)) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return false;
        }
    }
    return true;
}

/* ---- civil dates ----------------------------------------------------------------------- */

int64_t scitt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Years start in March, so that the leap day is the last day of a year. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                           /* 0..399 */
    int64_t doy = (153 * ((int64_t)m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                   /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static bool dec_digits(const uint8_t *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

scitt_err scitt_utc_parse(scitt_span t, int64_t *out)
{
    unsigned y, mo, d, h, mi, s;
    const uint8_t *p = t.ptr;
    if (t.len != 20 || !p || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
        p[16] != ':' || p[19] != 'Z' || !dec_digits(p, 4, &y) || !dec_digits(p + 5, 2, &mo) ||
        !dec_digits(p + 8, 2, &d) || !dec_digits(p + 11, 2, &h) || !dec_digits(p + 14, 2, &mi) ||
        !dec_digits(p + 17, 2, &s)) {
        return SCITT_ERR_MALFORMED;
    }
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || s > 59) {
        return SCITT_ERR_MALFORMED;
    }
    *out = scitt_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s;
    return SCITT_OK;
}
