/* C2SP tlog-tiles addressing: which tile holds a node, and the tile and entry-bundle paths. */
#include "scitt/merkle.h"

#include <stdio.h>
#include <string.h>

void scitt_tile_locate(unsigned level, uint64_t index, unsigned *tile_level, uint64_t *tile_index,
                       unsigned *first, unsigned *count)
{
    unsigned sub = level % SCITT_TILE_HEIGHT;
    /* The node covers 2^sub consecutive hashes of stored level tile_level * 8. */
    uint64_t start = index << sub;
    *tile_level = level / SCITT_TILE_HEIGHT;
    *tile_index = start / SCITT_TILE_WIDTH;
    *first = (unsigned)(start % SCITT_TILE_WIDTH);
    *count = 1u << sub;
}

void scitt_merkle_fold(const uint8_t hashes[][SCITT_HASH_LEN], unsigned count,
                       uint8_t out[SCITT_HASH_LEN])
{
    /* A stack of at most 8 partial subtree roots: fold pairs as they complete. */
    uint8_t stack[9][SCITT_HASH_LEN];
    unsigned depth = 0;
    for (unsigned i = 0; i < count; i++) {
        memcpy(stack[depth++], hashes[i], SCITT_HASH_LEN);
        for (unsigned k = i + 1; (k & 1) == 0 && depth > 1; k >>= 1) {
            scitt_merkle_node_hash(stack[depth - 2], stack[depth - 1], stack[depth - 2]);
            depth--;
        }
    }
    memcpy(out, stack[0], SCITT_HASH_LEN);
}

unsigned scitt_tile_width(unsigned tile_level, uint64_t tile_index, uint64_t size)
{
    unsigned shift = tile_level * SCITT_TILE_HEIGHT;
    if (shift >= 64) {
        return 0;
    }
    uint64_t nodes = size >> shift; /* complete nodes at stored level 8 * tile_level */
    uint64_t full_tiles = nodes / SCITT_TILE_WIDTH;
    if (tile_index < full_tiles) {
        return SCITT_TILE_WIDTH;
    }
    if (tile_index == full_tiles) {
        return (unsigned)(nodes % SCITT_TILE_WIDTH);
    }
    return 0;
}

/* Writes N as 3-digit groups, every group but the last prefixed with 'x'. */
static scitt_err put_index(scitt_writer *w, uint64_t n)
{
    unsigned groups[8];
    unsigned k = 0;
    do {
        groups[k++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n > 0);
    while (k-- > 0) {
        char g[16];
        snprintf(g, sizeof(g), k ? "x%03u/" : "%03u", groups[k]);
        scitt_writer_str(w, g);
    }
    return w->err;
}

static scitt_err finish_path(scitt_writer *w, unsigned width)
{
    if (width != 0 && width != SCITT_TILE_WIDTH) {
        char p[16];
        snprintf(p, sizeof(p), ".p/%u", width);
        scitt_writer_str(w, p);
    }
    scitt_writer_u8(w, 0);
    return w->err;
}

scitt_err scitt_tile_path(unsigned tile_level, uint64_t tile_index, unsigned width, char *out,
                          size_t cap)
{
    if (tile_level > 63 || width > SCITT_TILE_WIDTH) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_writer w;
    scitt_writer_init(&w, (uint8_t *)out, cap);
    char l[16];
    snprintf(l, sizeof(l), "tile/%u/", tile_level);
    scitt_writer_str(&w, l);
    put_index(&w, tile_index);
    return finish_path(&w, width);
}

scitt_err scitt_tile_entries_path(uint64_t tile_index, unsigned width, char *out, size_t cap)
{
    if (width > SCITT_TILE_WIDTH) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_writer w;
    scitt_writer_init(&w, (uint8_t *)out, cap);
    scitt_writer_str(&w, "tile/entries/");
    put_index(&w, tile_index);
    return finish_path(&w, width);
}

/* A canonical decimal (no sign, no leading zero unless it is "0"), at most 20 digits. */
static bool parse_dec(scitt_span s, uint64_t *out)
{
    if (s.len == 0 || s.len > 20 || (s.len > 1 && s.ptr[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(s.ptr[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

scitt_err scitt_tile_parse_path(scitt_span path, bool *entries, unsigned *tile_level,
                                uint64_t *tile_index, unsigned *width)
{
    scitt_reader r;
    scitt_reader_init(&r, path);
    scitt_span head = scitt_reader_take(&r, 5);
    if (!scitt_span_eq_str(head, "tile/")) {
        return SCITT_ERR_MALFORMED;
    }
    /* level segment or "entries" */
    size_t start = r.pos;
    while (r.pos < r.len && r.ptr[r.pos] != '/') {
        r.pos++;
    }
    if (r.pos >= r.len) {
        return SCITT_ERR_MALFORMED;
    }
    scitt_span seg = scitt_span_make(r.ptr + start, r.pos - start);
    r.pos++;
    uint64_t level = 0;
    if (scitt_span_eq_str(seg, "entries")) {
        *entries = true;
    } else if (parse_dec(seg, &level) && level <= 63) {
        *entries = false;
    } else {
        return SCITT_ERR_MALFORMED;
    }
    /* index: groups "xDDD/" then a final "DDD" */
    uint64_t index = 0;
    unsigned groups = 0;
    for (;;) {
        bool more = r.pos < r.len && r.ptr[r.pos] == 'x';
        if (more) {
            r.pos++;
        }
        if (r.len - r.pos < 3) {
            return SCITT_ERR_MALFORMED;
        }
        unsigned g = 0;
        for (int k = 0; k < 3; k++) {
            uint8_t c = r.ptr[r.pos++];
            if (c < '0' || c > '9') {
                return SCITT_ERR_MALFORMED;
            }
            g = g * 10 + (unsigned)(c - '0');
        }
        /* canonical: the first group of a multi-group index is not zero */
        if (groups == 0 && more && g == 0) {
            return SCITT_ERR_MALFORMED;
        }
        if (++groups > 7 || index > (UINT64_MAX - g) / 1000) {
            return SCITT_ERR_MALFORMED;
        }
        index = index * 1000 + g;
        if (!more) {
            break;
        }
        if (r.pos >= r.len || r.ptr[r.pos] != '/') {
            return SCITT_ERR_MALFORMED;
        }
        r.pos++;
    }
    uint64_t w = SCITT_TILE_WIDTH;
    if (r.pos < r.len) {
        scitt_span rest = scitt_span_make(r.ptr + r.pos, r.len - r.pos);
        if (rest.len < 4 || memcmp(rest.ptr, ".p/", 3) != 0 ||
            !parse_dec(scitt_span_make(rest.ptr + 3, rest.len - 3), &w) || w == 0 ||
            w >= SCITT_TILE_WIDTH) {
            return SCITT_ERR_MALFORMED;
        }
    }
    *tile_level = (unsigned)level;
    *tile_index = index;
    *width = (unsigned)w;
    return SCITT_OK;
}
