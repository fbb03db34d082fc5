/*
 * Strict CBOR reader. libcbor's streaming decoder (cbor_stream_decode) decodes one item at a
 * time, zero-copy; this file wraps it in the checks libcbor does not make and works around the
 * two defects of the libcbor 0.8.0 that Debian 12 ships:
 *  - cbor_stream_decode (and so cbor_load) rejects every tag from 6 to 20 written in its one-byte
 *    form (0xc6..0xd4), COSE_Sign1's tag 18 included. Tag heads are therefore decoded here and
 *    never handed to libcbor.
 *  - cbor_load allocates (and zero-fills) a declared array or map size before reading a single
 *    element, so six hostile bytes cost gigabytes. cbor_load is never called; every declared
 *    length and count is checked against the bytes that remain before the item is accepted.
 * Each head is also parsed here to check that it is in its shortest form (libcbor accepts any
 * form) and the two results are cross-checked.
 */
#include "scitt/cbor.h"

#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "cose_internal.h"

/* What libcbor's callbacks report about the one item it decoded. */
typedef struct {
    scitt_cbor_type type;
    uint64_t value;
    const uint8_t *data;
    size_t data_len;
    double f;
    bool odd; /* an indefinite-length start or a break: never acceptable */
    int calls;
} lc_item;

static void cb_uint8(void *c, uint8_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_UINT, it->value = v, it->calls++;
}
static void cb_uint16(void *c, uint16_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_UINT, it->value = v, it->calls++;
}
static void cb_uint32(void *c, uint32_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_UINT, it->value = v, it->calls++;
}
static void cb_uint64(void *c, uint64_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_UINT, it->value = v, it->calls++;
}
static void cb_negint8(void *c, uint8_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_NEGINT, it->value = v, it->calls++;
}
static void cb_negint16(void *c, uint16_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_NEGINT, it->value = v, it->calls++;
}
static void cb_negint32(void *c, uint32_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_NEGINT, it->value = v, it->calls++;
}
static void cb_negint64(void *c, uint64_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_NEGINT, it->value = v, it->calls++;
}
static void cb_bytes(void *c, cbor_data d, size_t n)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_BYTES, it->data = d, it->data_len = n, it->value = n, it->calls++;
}
static void cb_text(void *c, cbor_data d, size_t n)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_TEXT, it->data = d, it->data_len = n, it->value = n, it->calls++;
}
static void cb_array(void *c, size_t n)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_ARRAY, it->value = n, it->calls++;
}
static void cb_map(void *c, size_t n)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_MAP, it->value = n, it->calls++;
}
static void cb_tag(void *c, uint64_t v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_TAG, it->value = v, it->calls++;
}
static void cb_float2(void *c, float v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_FLOAT, it->f = v, it->calls++;
}
static void cb_float4(void *c, float v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_FLOAT, it->f = v, it->calls++;
}
static void cb_float8(void *c, double v)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_FLOAT, it->f = v, it->calls++;
}
static void cb_undef(void *c)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_UNDEFINED, it->calls++;
}
static void cb_null(void *c)
{
    lc_item *it = c;
    it->type = SCITT_CBOR_NULL, it->calls++;
}
static void cb_bool(void *c, bool v)
{
    lc_item *it = c;
    it->type = v ? SCITT_CBOR_TRUE : SCITT_CBOR_FALSE, it->calls++;
}
static void cb_odd(void *c)
{
    lc_item *it = c;
    it->odd = true, it->calls++;
}

static const struct cbor_callbacks strict_callbacks = {
    .uint8 = cb_uint8,
    .uint16 = cb_uint16,
    .uint32 = cb_uint32,
    .uint64 = cb_uint64,
    .negint64 = cb_negint64,
    .negint32 = cb_negint32,
    .negint16 = cb_negint16,
    .negint8 = cb_negint8,
    .byte_string_start = cb_odd,
    .byte_string = cb_bytes,
    .string = cb_text,
    .string_start = cb_odd,
    .indef_array_start = cb_odd,
    .array_start = cb_array,
    .indef_map_start = cb_odd,
    .map_start = cb_map,
    .tag = cb_tag,
    .float2 = cb_float2,
    .float4 = cb_float4,
    .float8 = cb_float8,
    .undefined = cb_undef,
    .null = cb_null,
    .boolean = cb_bool,
    .indef_break = cb_odd,
};

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*
 * Parses one head at p[0..avail) and applies every rule that needs no context. Sets it->size to
 * the head length plus string contents and it->arg to the head's argument.
 */
static scitt_err parse_head(const uint8_t *p, size_t avail, scitt_cbor_item *it)
{
    if (avail == 0) {
        return SCITT_ERR_TRUNCATED;
    }
    unsigned major = p[0] >> 5, ai = p[0] & 31u;
    size_t hl;
    uint64_t arg;
    if (ai < 24) {
        hl = 1, arg = ai;
    } else if (ai <= 27) {
        hl = (size_t)1 + ((size_t)1 << (ai - 24));
        if (hl > avail) {
            return SCITT_ERR_TRUNCATED;
        }
        arg = be(p + 1, hl - 1);
        if (major == 7) {
            /* Two-byte simple values below 32 are not well-formed (RFC 8949 §3.3). */
            if (ai == 24 && arg < 32) {
                return SCITT_ERR_MALFORMED;
            }
        } else {
            static const uint64_t min[4] = {24, 0x100, 0x10000, 0x100000000ull};
            if (arg < min[ai - 24]) {
                return SCITT_ERR_NON_CANONICAL;
            }
        }
    } else if (ai == 31) {
        return (major >= 2 && major <= 5) ? SCITT_ERR_INDEFINITE : SCITT_ERR_MALFORMED;
    } else {
        return SCITT_ERR_MALFORMED; /* 28..30 are reserved */
    }
    it->arg = arg;
    it->size = hl;
    it->str.ptr = NULL;
    it->str.len = 0;
    it->f = 0;
    size_t rest = avail - hl;
    switch (major) {
    case 0:
        it->type = SCITT_CBOR_UINT;
        break;
    case 1:
        it->type = SCITT_CBOR_NEGINT;
        break;
    case 2:
    case 3:
        if (arg > rest) {
            return SCITT_ERR_TRUNCATED;
        }
        it->type = major == 2 ? SCITT_CBOR_BYTES : SCITT_CBOR_TEXT;
        it->str = scitt_span_make(p + hl, (size_t)arg);
        it->size += (size_t)arg;
        break;
    case 4:
        if (arg > rest) {
            return SCITT_ERR_TRUNCATED; /* every element takes at least one byte */
        }
        if (arg > SCITT_LIMIT_CBOR_ITEMS) {
            return SCITT_ERR_TOO_LARGE;
        }
        it->type = SCITT_CBOR_ARRAY;
        break;
    case 5:
        if (arg > rest / 2) {
            return SCITT_ERR_TRUNCATED; /* every pair takes at least two bytes */
        }
        if (arg > SCITT_LIMIT_CBOR_ITEMS) {
            return SCITT_ERR_TOO_LARGE;
        }
        it->type = SCITT_CBOR_MAP;
        break;
    case 6:
        if (rest == 0) {
            return SCITT_ERR_TRUNCATED;
        }
        it->type = SCITT_CBOR_TAG;
        break;
    default:
        if (ai == 20 || ai == 21) {
            it->type = ai == 20 ? SCITT_CBOR_FALSE : SCITT_CBOR_TRUE;
        } else if (ai == 22) {
            it->type = SCITT_CBOR_NULL;
        } else if (ai == 23) {
            it->type = SCITT_CBOR_UNDEFINED;
        } else if (ai >= 25) {
            it->type = SCITT_CBOR_FLOAT;
        } else {
            return SCITT_ERR_BAD_SIMPLE;
        }
        break;
    }
    return SCITT_OK;
}

/* Decodes the item at p with libcbor and checks that it agrees with our own head parse. */
static scitt_err libcbor_decode(const uint8_t *p, size_t avail, scitt_cbor_item *it)
{
    lc_item lc;
    memset(&lc, 0, sizeof(lc));
    struct cbor_decoder_result res = cbor_stream_decode(p, avail, &strict_callbacks, &lc);
    if (res.status == CBOR_DECODER_NEDATA) {
        return SCITT_ERR_TRUNCATED;
    }
    if (res.status != CBOR_DECODER_FINISHED || lc.calls != 1 || lc.odd) {
        return SCITT_ERR_MALFORMED;
    }
    if (res.read != it->size || lc.type != it->type) {
        return SCITT_ERR_MALFORMED;
    }
    switch (it->type) {
    case SCITT_CBOR_FLOAT:
        it->f = lc.f;
        break;
    case SCITT_CBOR_BYTES:
    case SCITT_CBOR_TEXT:
        if (lc.data != it->str.ptr || lc.data_len != it->str.len) {
            return SCITT_ERR_MALFORMED;
        }
        break;
    case SCITT_CBOR_UINT:
    case SCITT_CBOR_NEGINT:
    case SCITT_CBOR_ARRAY:
    case SCITT_CBOR_MAP:
        if (lc.value != it->arg) {
            return SCITT_ERR_MALFORMED;
        }
        break;
    default:
        break;
    }
    return SCITT_OK;
}

/* One item at the reader's position, fully checked, without moving the reader. */
static scitt_err decode_at(const scitt_cbor_reader *r, scitt_cbor_item *it)
{
    const uint8_t *p = r->ptr + r->pos;
    size_t avail = r->len - r->pos;
    scitt_err e = parse_head(p, avail, it);
    if (e != SCITT_OK) {
        return e;
    }
    it->offset = r->pos;
    if (it->type != SCITT_CBOR_TAG) {
        e = libcbor_decode(p, avail, it);
        if (e != SCITT_OK) {
            return e;
        }
    }
    if (it->type == SCITT_CBOR_TEXT && !scitt_utf8_valid(it->str)) {
        return SCITT_ERR_UTF8;
    }
    return SCITT_OK;
}

void scitt_cbor_reader_init(scitt_cbor_reader *r, scitt_span in)
{
    /* An empty input may come as NULL; even NULL + 0 is undefined, so point at a real byte. */
    static const uint8_t none[1];
    r->ptr = in.ptr ? in.ptr : none;
    r->len = in.ptr ? in.len : 0;
    r->pos = 0;
    r->err = SCITT_OK;
    r->depth = 0;
    r->total = 0;
}

scitt_err scitt_cbor_next(scitt_cbor_reader *r, scitt_cbor_item *out)
{
    if (r->err != SCITT_OK) {
        return r->err;
    }
    scitt_cbor_item it;
    scitt_err e = decode_at(r, &it);
    if (e == SCITT_OK && r->total >= SCITT_LIMIT_CBOR_TOTAL) {
        e = SCITT_ERR_TOO_LARGE;
    }
    uint64_t children = 0;
    if (e == SCITT_OK) {
        children = it.type == SCITT_CBOR_ARRAY ? it.arg
                   : it.type == SCITT_CBOR_MAP ? 2 * it.arg
                   : it.type == SCITT_CBOR_TAG ? 1
                                               : 0;
        if (children > 0 && r->depth >= SCITT_LIMIT_CBOR_DEPTH) {
            e = SCITT_ERR_TOO_DEEP;
        }
    }
    if (e != SCITT_OK) {
        r->err = e;
        return e;
    }
    r->total++;
    r->pos += it.size;
    if (r->depth > 0) {
        r->left[r->depth - 1]--;
    }
    if (children > 0) {
        r->left[r->depth++] = children;
    } else {
        while (r->depth > 0 && r->left[r->depth - 1] == 0) {
            r->depth--;
        }
    }
    *out = it;
    return SCITT_OK;
}

scitt_err scitt_cbor_peek(const scitt_cbor_reader *r, scitt_cbor_item *out)
{
    if (r->err != SCITT_OK) {
        return r->err;
    }
    return decode_at(r, out);
}

/* Reads an item that must be of type @p want; a tag in its place is SCITT_ERR_BAD_TAG. */
static scitt_err read_typed(scitt_cbor_reader *r, scitt_cbor_type want, scitt_cbor_item *it)
{
    scitt_err e = scitt_cbor_peek(r, it);
    if (e == SCITT_OK && it->type != want) {
        e = it->type == SCITT_CBOR_TAG ? SCITT_ERR_BAD_TAG : SCITT_ERR_BAD_TYPE;
    }
    if (e != SCITT_OK) {
        r->err = e;
        return e;
    }
    return scitt_cbor_next(r, it);
}

scitt_err scitt_cbor_read_uint(scitt_cbor_reader *r, uint64_t *out)
{
    scitt_cbor_item it;
    scitt_err e = read_typed(r, SCITT_CBOR_UINT, &it);
    if (e == SCITT_OK) {
        *out = it.arg;
    }
    return e;
}

scitt_err scitt_cbor_read_int(scitt_cbor_reader *r, int64_t *out)
{
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_peek(r, &it);
    if (e == SCITT_OK && it.type != SCITT_CBOR_UINT && it.type != SCITT_CBOR_NEGINT) {
        e = it.type == SCITT_CBOR_TAG ? SCITT_ERR_BAD_TAG : SCITT_ERR_BAD_TYPE;
    }
    if (e == SCITT_OK && it.arg > (uint64_t)INT64_MAX) {
        e = SCITT_ERR_RANGE;
    }
    if (e != SCITT_OK) {
        r->err = e;
        return e;
    }
    e = scitt_cbor_next(r, &it);
    if (e == SCITT_OK) {
        *out = it.type == SCITT_CBOR_UINT ? (int64_t)it.arg : -1 - (int64_t)it.arg;
    }
    return e;
}

scitt_err scitt_cbor_read_bytes(scitt_cbor_reader *r, scitt_span *out)
{
    scitt_cbor_item it;
    scitt_err e = read_typed(r, SCITT_CBOR_BYTES, &it);
    if (e == SCITT_OK) {
        *out = it.str;
    }
    return e;
}

scitt_err scitt_cbor_read_text(scitt_cbor_reader *r, scitt_span *out)
{
    scitt_cbor_item it;
    scitt_err e = read_typed(r, SCITT_CBOR_TEXT, &it);
    if (e == SCITT_OK) {
        *out = it.str;
    }
    return e;
}

scitt_err scitt_cbor_read_array(scitt_cbor_reader *r, size_t *n)
{
    /* Zero on failure: callers loop `i < n && e == SCITT_OK`, which reads n first. */
    *n = 0;
    scitt_cbor_item it;
    scitt_err e = read_typed(r, SCITT_CBOR_ARRAY, &it);
    if (e == SCITT_OK) {
        *n = (size_t)it.arg;
    }
    return e;
}

scitt_err scitt_cbor_read_map(scitt_cbor_reader *r, size_t *n)
{
    *n = 0; /* as for arrays */
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_peek(r, &it);
    if (e == SCITT_OK && it.type != SCITT_CBOR_MAP) {
        e = it.type == SCITT_CBOR_TAG ? SCITT_ERR_BAD_TAG : SCITT_ERR_BAD_TYPE;
    }
    if (e == SCITT_OK) {
        /* Validate the whole map on a copy, so its pairs can be read without duplicate checks. */
        scitt_cbor_reader probe = *r;
        e = scitt_cbor_skip(&probe, NULL);
    }
    if (e != SCITT_OK) {
        r->err = e;
        return e;
    }
    e = scitt_cbor_next(r, &it);
    if (e == SCITT_OK) {
        *n = (size_t)it.arg;
    }
    return e;
}

scitt_err scitt_cbor_read_tag(scitt_cbor_reader *r, uint64_t *tag)
{
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_peek(r, &it);
    if (e == SCITT_OK && it.type != SCITT_CBOR_TAG) {
        e = SCITT_ERR_BAD_TAG;
    }
    if (e != SCITT_OK) {
        r->err = e;
        return e;
    }
    e = scitt_cbor_next(r, &it);
    if (e == SCITT_OK) {
        *tag = it.arg;
    }
    return e;
}

scitt_err scitt_cbor_read_null(scitt_cbor_reader *r)
{
    scitt_cbor_item it;
    return read_typed(r, SCITT_CBOR_NULL, &it);
}

uint64_t scitt_cbor_reader_left_in_container(const scitt_cbor_reader *r)
{
    return r->depth > 0 ? r->left[r->depth - 1] : 0;
}

scitt_err scitt_cbor_reader_finish(const scitt_cbor_reader *r)
{
    if (r->err != SCITT_OK) {
        return r->err;
    }
    if (r->depth > 0) {
        return SCITT_ERR_TRUNCATED;
    }
    return r->pos == r->len ? SCITT_OK : SCITT_ERR_TRAILING;
}

/* ------------------------------------------------------------------------------------------ */
/* Skipping with duplicate-key checks                                                          */

typedef struct {
    scitt_span small[SCITT_LIMIT_KEYS_STACK];
    scitt_span *keys;
    size_t n, cap;
    size_t start[SCITT_LIMIT_CBOR_DEPTH]; /* per level: first key of the map open there */
    bool is_map[SCITT_LIMIT_CBOR_DEPTH];
} key_stack;

static int span_cmp(const void *a, const void *b)
{
    const scitt_span *x = a, *y = b;
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return memcmp(x->ptr, y->ptr, x->len);
}

/* Checks keys[from..n) for a repeated key; the range is reordered. */
static scitt_err check_unique(scitt_span *keys, size_t from, size_t n)
{
    size_t count = n - from;
    scitt_span *k = keys + from;
    if (count <= 16) {
        for (size_t i = 1; i < count; i++) {
            for (size_t j = 0; j < i; j++) {
                if (span_cmp(&k[i], &k[j]) == 0) {
                    return SCITT_ERR_DUPLICATE_KEY;
                }
            }
        }
        return SCITT_OK;
    }
    qsort(k, count, sizeof(*k), span_cmp);
    for (size_t i = 1; i < count; i++) {
        if (span_cmp(&k[i], &k[i - 1]) == 0) {
            return SCITT_ERR_DUPLICATE_KEY;
        }
    }
    return SCITT_OK;
}

static scitt_err push_key(key_stack *ks, scitt_span key)
{
    if (ks->n == ks->cap) {
        size_t cap = ks->cap * 2;
        if (cap > SCITT_LIMIT_CBOR_TOTAL) {
            return SCITT_ERR_TOO_LARGE;
        }
        scitt_span *k = scitt_malloc(cap * sizeof(*k));
        if (!k) {
            return SCITT_ERR_NOMEM;
        }
        memcpy(k, ks->keys, ks->n * sizeof(*k));
        if (ks->keys != ks->small) {
            scitt_free(ks->keys);
        }
        ks->keys = k;
        ks->cap = cap;
    }
    ks->keys[ks->n++] = key;
    return SCITT_OK;
}

scitt_err scitt_cbor_skip(scitt_cbor_reader *r, scitt_span *raw)
{
    if (r->err != SCITT_OK) {
        return r->err;
    }
    key_stack ks;
    ks.keys = ks.small;
    ks.n = 0;
    ks.cap = SCITT_LIMIT_KEYS_STACK;
    size_t start = r->pos;
    unsigned base = r->depth;
    scitt_err e = SCITT_OK;
    bool first = true;
    while (e == SCITT_OK && (first || r->depth > base)) {
        unsigned d0 = r->depth;
        bool is_key = !first && ks.is_map[d0 - 1] && r->left[d0 - 1] % 2 == 0;
        scitt_cbor_item it;
        e = scitt_cbor_next(r, &it);
        if (e != SCITT_OK) {
            break;
        }
        if (is_key) {
            if (it.type != SCITT_CBOR_UINT && it.type != SCITT_CBOR_NEGINT &&
                it.type != SCITT_CBOR_TEXT && it.type != SCITT_CBOR_BYTES) {
                e = SCITT_ERR_BAD_TYPE;
                break;
            }
            e = push_key(&ks, scitt_span_make(r->ptr + it.offset, it.size));
            if (e != SCITT_OK) {
                break;
            }
        }
        if (r->depth > d0) {
            ks.is_map[d0] = it.type == SCITT_CBOR_MAP;
            ks.start[d0] = ks.n;
        } else {
            /* Levels [r->depth, d0) closed with this item; check the maps among ours. */
            for (unsigned l = d0; l-- > r->depth && l >= base;) {
                if (ks.is_map[l]) {
                    e = check_unique(ks.keys, ks.start[l], ks.n);
                    ks.n = ks.start[l];
                    if (e != SCITT_OK) {
                        break;
                    }
                }
            }
        }
        first = false;
    }
    if (ks.keys != ks.small) {
        scitt_free(ks.keys);
    }
    if (e != SCITT_OK) {
        r->err = e;
        return e;
    }
    if (raw) {
        *raw = scitt_span_make(r->ptr + start, r->pos - start);
    }
    return SCITT_OK;
}

scitt_err scitt_cbor_validate(scitt_span in)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, in);
    scitt_err e = scitt_cbor_skip(&r, NULL);
    return e != SCITT_OK ? e : scitt_cbor_reader_finish(&r);
}
