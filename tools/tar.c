/*
 * A bounded tar reader for `docker save` archives: walks ustar headers (with GNU 'L' long names and
 * PAX 'x' path/size records) through a read-at callback, so a multi-gigabyte archive is never held
 * in memory: only headers and the one member asked for are read.
 */
#include "parsers.h"

#include <stdio.h>
#include <string.h>

#define BLK 512u

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* An octal field (NUL/space padded) or, for size, GNU base-256 (high bit of the first byte). */
static bool field_num(const uint8_t *f, size_t n, uint64_t *out)
{
    if (f[0] & 0x80) {
        uint64_t v = f[0] & 0x7f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 55) {
                return false; /* beyond 2^63 */
            }
            v = (v << 8) | f[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < n && f[i] == ' ') {
        i++;
    }
    uint64_t v = 0;
    size_t digits = 0;
    while (i < n && f[i] >= '0' && f[i] <= '7') {
        if (v >> 60) {
            return false;
        }
        v = v * 8 + (uint64_t)(f[i++] - '0');
        digits++;
    }
    while (i < n && (f[i] == ' ' || f[i] == 0)) {
        i++;
    }
    if (digits == 0 || i != n) {
        return false;
    }
    *out = v;
    return true;
}

static void clean_name(char *name)
{
    while (name[0] == '.' && name[1] == '/') {
        memmove(name, name + 2, strlen(name + 2) + 1);
    }
}

scitt_err tar_header(const uint8_t blk[512], tar_member *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t sum_field;
    if (!field_num(blk + 148, 8, &sum_field)) {
        return SCITT_ERR_MALFORMED;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < BLK; i++) {
        sum += (i >= 148 && i < 156) ? ' ' : blk[i];
    }
    if (sum != sum_field || !field_num(blk + 124, 12, &out->size)) {
        return SCITT_ERR_MALFORMED;
    }
    out->type = blk[156] ? (char)blk[156] : '0';
    size_t nl = strnlen((const char *)blk, 100);
    bool ustar = memcmp(blk + 257, "ustar", 5) == 0;
    size_t pl =
        ustar && memcmp(blk + 257, "ustar\0", 6) == 0 ? strnlen((const char *)blk + 345, 155) : 0;
    if (pl) {
        memcpy(out->name, blk + 345, pl);
        out->name[pl] = '/';
        memcpy(out->name + pl + 1, blk, nl);
        out->name[pl + 1 + nl] = 0;
    } else {
        memcpy(out->name, blk, nl);
        out->name[nl] = 0;
    }
    clean_name(out->name);
    return SCITT_OK;
}

/* Reads exactly @p n bytes at @p off. */
static bool read_exact(tar_read_fn rd, void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
    return rd(ctx, off, buf, n) == (long)n;
}

/* Applies the "path" and "size" records of a PAX header ("<len> <key>=<value>\n" ...). */
static scitt_err pax_apply(const uint8_t *p, size_t n, char *path, bool *has_path, uint64_t *size,
                           bool *has_size)
{
    size_t pos = 0;
    while (pos < n) {
        size_t len = 0, i = pos;
        while (i < n && p[i] >= '0' && p[i] <= '9' && i - pos < 8) {
            len = len * 10 + (size_t)(p[i++] - '0');
        }
        if (i == pos || i >= n || p[i] != ' ' || len < 5 || len > n - pos ||
            p[pos + len - 1] != '\n') {
            return SCITT_ERR_MALFORMED;
        }
        const uint8_t *kv = p + i + 1, *end = p + pos + len - 1;
        const uint8_t *eq = memchr(kv, '=', (size_t)(end - kv));
        if (!eq) {
            return SCITT_ERR_MALFORMED;
        }
        size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
        if (kl == 4 && memcmp(kv, "path", 4) == 0) {
            if (vl == 0 || vl > TAR_NAME_MAX || memchr(eq + 1, 0, vl)) {
                return vl > TAR_NAME_MAX ? SCITT_ERR_TOO_LARGE : SCITT_ERR_MALFORMED;
            }
            memcpy(path, eq + 1, vl);
            path[vl] = 0;
            *has_path = true;
        } else if (kl == 4 && memcmp(kv, "size", 4) == 0) {
            uint64_t v = 0;
            if (vl == 0 || vl > 19) {
                return SCITT_ERR_MALFORMED;
            }
            for (size_t k = 0; k < vl; k++) {
                if (eq[1 + k] < '0' || eq[1 + k] > '9') {
                    return SCITT_ERR_MALFORMED;
                }
                v = v * 10 + (uint64_t)(eq[1 + k] - '0');
            }
            *size = v;
            *has_size = true;
        }
        pos += len;
    }
    return SCITT_OK;
}

static uint64_t padded(uint64_t size)
{
    return (size + BLK - 1) / BLK * BLK;
}

scitt_err tar_find(tar_read_fn rd, void *ctx, const char *name, tar_member *out)
{
    uint8_t blk[BLK];
    uint64_t off = 0;
    char next_name[TAR_NAME_MAX + 1];
    bool have_next_name = false, have_next_size = false;
    uint64_t next_size = 0;
    static uint8_t pax[TAR_PAX_MAX];
    for (unsigned count = 0; count < TAR_MEMBERS_MAX; count++) {
        if (!read_exact(rd, ctx, off, blk, BLK)) {
            return SCITT_ERR_MALFORMED; /* no end-of-archive blocks */
        }
        if (all_zero(blk, BLK)) {
            return SCITT_ERR_NOT_FOUND;
        }
        tar_member m;
        scitt_err e = tar_header(blk, &m);
        if (e != SCITT_OK) {
            return e;
        }
        uint64_t data = off + BLK;
        if (m.size > UINT64_MAX / 2 || data > UINT64_MAX - padded(m.size)) {
            return SCITT_ERR_MALFORMED;
        }
        if (m.type == 'x' || m.type == 'L') {
            /* Extended name or size for the next member. */
            size_t cap = m.type == 'L' ? TAR_NAME_MAX : TAR_PAX_MAX;
            if (m.size == 0 || m.size > cap) {
                return SCITT_ERR_TOO_LARGE;
            }
            if (!read_exact(rd, ctx, data, pax, (size_t)m.size)) {
                return SCITT_ERR_MALFORMED;
            }
            if (m.type == 'L') {
                size_t n = strnlen((const char *)pax, (size_t)m.size);
                memcpy(next_name, pax, n);
                next_name[n] = 0;
                have_next_name = n > 0;
            } else {
                e = pax_apply(pax, (size_t)m.size, next_name, &have_next_name, &next_size,
                              &have_next_size);
                if (e != SCITT_OK) {
                    return e;
                }
            }
            off = data + padded(m.size);
            continue;
        }
        if (have_next_name) {
            memcpy(m.name, next_name, strlen(next_name) + 1);
            clean_name(m.name);
        }
        if (have_next_size) {
            m.size = next_size;
            if (m.size > UINT64_MAX / 2 || data > UINT64_MAX - padded(m.size)) {
                return SCITT_ERR_MALFORMED;
            }
        }
        have_next_name = have_next_size = false;
        m.data_off = data;
        if (m.type != 'g' && (m.type == '0' || m.type == '7') && strcmp(m.name, name) == 0) {
            *out = m;
            return SCITT_OK;
        }
        off = data + (m.type == '5' || m.type == '1' || m.type == '2' ? 0 : padded(m.size));
    }
    return SCITT_ERR_TOO_LARGE;
}
