/*
 * state.cbor of `scitt audit`: the encoder and the strict decoder. The file is ours, but it lives
 * on disk between runs, so it is read like any untrusted input: every field's type is checked
 * before its value is used, no key may appear twice (the CBOR reader's rule), and the values must
 * agree with each other (the compact range hashes to the root, the right-edge tiles fit the size)
 * before the state is used. Pure functions over bytes (no files, no output): unit tested and
 * fuzzed.
 */
#include "audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scitt/cbor.h"

void audit_state_init(audit_state *s)
{
    memset(s, 0, sizeof(*s));
    scitt_merkle_compact_init(&s->compact);
    scitt_dynbuf_init(&s->policy_text, AUDIT_POLICY_MAX);
    for (size_t i = 0; i < AUDIT_EDGE_LEVELS; i++) {
        scitt_dynbuf_init(&s->edge[i], SCITT_TILE_WIDTH * SCITT_HASH_LEN);
    }
}

void audit_state_clear(audit_state *s)
{
    scitt_dynbuf_clear(&s->policy_text);
    for (size_t i = 0; i < AUDIT_EDGE_LEVELS; i++) {
        scitt_dynbuf_clear(&s->edge[i]);
    }
}

/* The fields of state.cbor, in the order they are written. */
enum {
    F_VERSION,
    F_SIZE,
    F_ROOT,
    F_COMPACT,
    F_TIME,
    F_LIVE,
    F_POLICY_INDEX,
    F_POLICY,
    F_ISSUER,
    F_POLICIES,
    F_ENTRIES,
    F_EDGE,
    F_REPORTED,
    F_REPORTED_ENTRIES,
    F_COUNT
};
static const char *const field_names[F_COUNT] = {
    "version", "size",   "root",     "compact", "time", "live",     "policy_index",
    "policy",  "issuer", "policies", "entries", "edge", "reported", "reported_entries"};

/* What each field must be, for messages. */
static const char *const field_kinds[F_COUNT] = {"the unsigned integer 1",
                                                 "an unsigned integer",
                                                 "a byte string of 32 bytes",
                                                 "an array of 32-byte hashes",
                                                 "an integer",
                                                 "true or false",
                                                 "null or an unsigned integer",
                                                 "a byte string",
                                                 "a text string",
                                                 "an unsigned integer",
                                                 "an unsigned integer",
                                                 "an array of [tile index, hashes] pairs",
                                                 "an unsigned integer",
                                                 "an array of unsigned integers"};

static unsigned popcount64(uint64_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1) {
        n++;
    }
    return n;
}

scitt_err audit_state_encode(const audit_state *s, scitt_dynbuf *out)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    size_t nedge = 0;
    while (nedge < AUDIT_EDGE_LEVELS && s->edge[nedge].len) {
        nedge++;
    }
    scitt_cbor_put_map(&w, F_COUNT);
    scitt_cbor_put_cstr(&w, field_names[F_VERSION]);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_cstr(&w, field_names[F_SIZE]);
    scitt_cbor_put_uint(&w, s->size);
    scitt_cbor_put_cstr(&w, field_names[F_ROOT]);
    scitt_cbor_put_bytes(&w, scitt_span_make(s->root, SCITT_HASH_LEN));
    /* The compact range: the node of each set bit of size, lowest level first. */
    scitt_cbor_put_cstr(&w, field_names[F_COMPACT]);
    scitt_cbor_put_array(&w, popcount64(s->size));
    for (unsigned l = 0; l < 64; l++) {
        if (s->size >> l & 1) {
            scitt_cbor_put_bytes(&w, scitt_span_make(s->compact.nodes[l], SCITT_HASH_LEN));
        }
    }
    scitt_cbor_put_cstr(&w, field_names[F_TIME]);
    scitt_cbor_put_int(&w, s->time);
    scitt_cbor_put_cstr(&w, field_names[F_LIVE]);
    scitt_cbor_put_bool(&w, s->time_is_live);
    scitt_cbor_put_cstr(&w, field_names[F_POLICY_INDEX]);
    if (s->have_policy) {
        scitt_cbor_put_uint(&w, s->policy_index);
    } else {
        scitt_cbor_put_null(&w);
    }
    scitt_cbor_put_cstr(&w, field_names[F_POLICY]);
    scitt_cbor_put_bytes(&w, scitt_span_make(s->policy_text.ptr, s->policy_text.len));
    scitt_cbor_put_cstr(&w, field_names[F_ISSUER]);
    scitt_cbor_put_cstr(&w, s->issuer);
    scitt_cbor_put_cstr(&w, field_names[F_POLICIES]);
    scitt_cbor_put_uint(&w, s->policies);
    scitt_cbor_put_cstr(&w, field_names[F_ENTRIES]);
    scitt_cbor_put_uint(&w, s->entries);
    scitt_cbor_put_cstr(&w, field_names[F_EDGE]);
    scitt_cbor_put_array(&w, nedge);
    for (size_t i = 0; i < nedge; i++) {
        scitt_cbor_put_array(&w, 2);
        scitt_cbor_put_uint(&w, s->edge_index[i]);
        scitt_cbor_put_bytes(&w, scitt_span_make(s->edge[i].ptr, s->edge[i].len));
    }
    scitt_cbor_put_cstr(&w, field_names[F_REPORTED]);
    scitt_cbor_put_uint(&w, s->reported);
    scitt_cbor_put_cstr(&w, field_names[F_REPORTED_ENTRIES]);
    scitt_cbor_put_array(&w, s->nreported);
    for (size_t i = 0; i < s->nreported; i++) {
        scitt_cbor_put_uint(&w, s->reported_entries[i]);
    }
    return w.err != SCITT_OK ? w.err : out->err;
}

static scitt_err why_err(scitt_err e, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static scitt_err why_err(scitt_err e, char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return e;
}

/* A hash: a byte string of exactly SCITT_HASH_LEN bytes. */
static scitt_err read_hash(scitt_cbor_reader *r, uint8_t out[SCITT_HASH_LEN])
{
    scitt_span v;
    scitt_err e = scitt_cbor_read_bytes(r, &v);
    if (e == SCITT_OK && v.len != SCITT_HASH_LEN) {
        e = SCITT_ERR_MALFORMED;
    }
    if (e == SCITT_OK) {
        memcpy(out, v.ptr, SCITT_HASH_LEN);
    }
    return e;
}

/* One field's value; on error @p why says what is wrong with it. */
static scitt_err read_field(audit_state *s, unsigned f, scitt_cbor_reader *r, size_t *ncompact,
                            size_t *nedge, char *why, size_t cap)
{
    const char *name = field_names[f];
    scitt_cbor_item it;
    scitt_span v;
    scitt_err e = SCITT_OK;
    uint64_t u = 0;
    switch (f) {
    case F_VERSION:
        e = scitt_cbor_read_uint(r, &u);
        if (e == SCITT_OK && u != 1) {
            return why_err(SCITT_ERR_UNSUPPORTED, why, cap, "\"version\" is %llu, not 1",
                           (unsigned long long)u);
        }
        break;
    case F_SIZE:
        e = scitt_cbor_read_uint(r, &s->size);
        if (e == SCITT_OK && s->size > (uint64_t)1 << 63) {
            e = SCITT_ERR_RANGE;
        }
        break;
    case F_ROOT:
        e = read_hash(r, s->root);
        break;
    case F_COMPACT:
        e = scitt_cbor_read_array(r, ncompact);
        if (e == SCITT_OK && *ncompact > 64) {
            return why_err(SCITT_ERR_MALFORMED, why, cap,
                           "\"compact\" holds %zu hashes (at most 64)", *ncompact);
        }
        /* Kept in the order read; placed at their levels once the size is known. */
        for (size_t j = 0; j < *ncompact && e == SCITT_OK; j++) {
            e = read_hash(r, s->compact.nodes[j]);
        }
        break;
    case F_TIME:
        e = scitt_cbor_read_int(r, &s->time);
        break;
    case F_LIVE:
        e = scitt_cbor_peek(r, &it);
        if (e == SCITT_OK && it.type != SCITT_CBOR_TRUE && it.type != SCITT_CBOR_FALSE) {
            e = SCITT_ERR_BAD_TYPE;
        }
        e = e ? e : scitt_cbor_next(r, &it);
        s->time_is_live = e == SCITT_OK && it.type == SCITT_CBOR_TRUE;
        break;
    case F_POLICY_INDEX:
        e = scitt_cbor_peek(r, &it);
        if (e == SCITT_OK && it.type == SCITT_CBOR_NULL) {
            e = scitt_cbor_read_null(r);
            s->have_policy = false;
        } else if (e == SCITT_OK) {
            e = scitt_cbor_read_uint(r, &s->policy_index);
            s->have_policy = e == SCITT_OK;
        }
        break;
    case F_POLICY:
        e = scitt_cbor_read_bytes(r, &v);
        if (e == SCITT_OK && v.len > AUDIT_POLICY_MAX) {
            return why_err(SCITT_ERR_TOO_LARGE, why, cap, "\"policy\" is over %u bytes",
                           AUDIT_POLICY_MAX);
        }
        if (e == SCITT_OK) {
            s->policy_text.len = 0;
            scitt_dynbuf_put(&s->policy_text, v.ptr, v.len);
            e = s->policy_text.err;
        }
        break;
    case F_ISSUER:
        e = scitt_cbor_read_text(r, &v);
        if (e == SCITT_OK && v.len > AUDIT_ISSUER_MAX) {
            return why_err(SCITT_ERR_TOO_LARGE, why, cap, "\"issuer\" is over %u bytes",
                           AUDIT_ISSUER_MAX);
        }
        if (e == SCITT_OK && memchr(v.ptr, 0, v.len) != NULL) {
            e = SCITT_ERR_MALFORMED; /* kept as a C string */
        }
        if (e == SCITT_OK) {
            memcpy(s->issuer, v.ptr, v.len);
            s->issuer[v.len] = 0;
        }
        break;
    case F_POLICIES:
        e = scitt_cbor_read_uint(r, &s->policies);
        break;
    case F_ENTRIES:
        e = scitt_cbor_read_uint(r, &s->entries);
        break;
    case F_EDGE:
        e = scitt_cbor_read_array(r, nedge);
        if (e == SCITT_OK && *nedge > AUDIT_EDGE_LEVELS) {
            return why_err(SCITT_ERR_MALFORMED, why, cap, "\"edge\" has %zu levels (at most %u)",
                           *nedge, AUDIT_EDGE_LEVELS);
        }
        for (size_t j = 0; j < *nedge && e == SCITT_OK; j++) {
            size_t two = 0;
            e = scitt_cbor_read_array(r, &two);
            e = e ? e : (two == 2 ? SCITT_OK : SCITT_ERR_MALFORMED);
            e = e ? e : scitt_cbor_read_uint(r, &s->edge_index[j]);
            e = e ? e : scitt_cbor_read_bytes(r, &v);
            if (e == SCITT_OK && (v.len == 0 || v.len % SCITT_HASH_LEN != 0 ||
                                  v.len > SCITT_TILE_WIDTH * SCITT_HASH_LEN)) {
                e = SCITT_ERR_MALFORMED;
            }
            if (e == SCITT_OK) {
                s->edge[j].len = 0;
                scitt_dynbuf_put(&s->edge[j], v.ptr, v.len);
                s->edge_width[j] = (unsigned)(v.len / SCITT_HASH_LEN);
                e = s->edge[j].err;
            }
        }
        break;
    case F_REPORTED:
        e = scitt_cbor_read_uint(r, &s->reported);
        break;
    case F_REPORTED_ENTRIES:
        e = scitt_cbor_read_array(r, &s->nreported);
        if (e == SCITT_OK && s->nreported > AUDIT_MAX_REPORTED) {
            s->nreported = 0;
            return why_err(SCITT_ERR_MALFORMED, why, cap,
                           "\"reported_entries\" lists more than %u entries", AUDIT_MAX_REPORTED);
        }
        for (size_t j = 0; j < s->nreported && e == SCITT_OK; j++) {
            e = scitt_cbor_read_uint(r, &s->reported_entries[j]);
        }
        break;
    default:
        e = SCITT_ERR_INVALID_ARG;
        break;
    }
    if (e != SCITT_OK) {
        snprintf(why, cap, "\"%s\" is not %s (%s)", name, field_kinds[f], scitt_err_str(e));
    }
    return e;
}

/* The values must agree with each other before anything uses them. */
static scitt_err cross_check(audit_state *s, size_t ncompact, size_t nedge, char *why, size_t cap)
{
    if (ncompact != popcount64(s->size)) {
        return why_err(SCITT_ERR_MALFORMED, why, cap,
                       "\"compact\" holds %zu hashes where size %llu needs %u", ncompact,
                       (unsigned long long)s->size, popcount64(s->size));
    }
    /* The saved nodes are in order of the set bits of size, lowest first. */
    scitt_merkle_compact c;
    scitt_merkle_compact_init(&c);
    c.size = s->size;
    size_t j = 0;
    for (unsigned l = 0; l < 64; l++) {
        if (s->size >> l & 1) {
            memcpy(c.nodes[l], s->compact.nodes[j++], SCITT_HASH_LEN);
        }
    }
    s->compact = c;
    uint8_t root[SCITT_HASH_LEN];
    scitt_merkle_compact_root(&s->compact, root);
    if (memcmp(root, s->root, SCITT_HASH_LEN) != 0) {
        return why_err(SCITT_ERR_CORRUPT, why, cap, "the compact range does not hash to \"root\"");
    }
    if (s->have_policy != (s->policy_text.len != 0) ||
        (s->have_policy && s->policy_index >= s->size)) {
        return why_err(SCITT_ERR_MALFORMED, why, cap,
                       "\"policy_index\" and \"policy\" do not agree with each other or the size");
    }
    for (unsigned level = 0; level < nedge; level++) {
        uint64_t count = s->size >> (SCITT_TILE_HEIGHT * level); /* hashes at this level */
        uint64_t index = count ? (count - 1) / SCITT_TILE_WIDTH : 0;
        if (count == 0 || s->edge_index[level] != index ||
            s->edge_width[level] != scitt_tile_width(level, index, s->size)) {
            return why_err(SCITT_ERR_MALFORMED, why, cap,
                           "\"edge\" level %u is not the right-edge tile of size %llu", level,
                           (unsigned long long)s->size);
        }
    }
    if (s->nreported > s->reported) {
        return why_err(SCITT_ERR_MALFORMED, why, cap,
                       "\"reported_entries\" lists more entries than \"reported\" counts");
    }
    for (size_t i = 0; i < s->nreported; i++) {
        if (s->reported_entries[i] >= s->size) {
            return why_err(SCITT_ERR_MALFORMED, why, cap,
                           "\"reported_entries\" names an entry beyond the audited size");
        }
    }
    return SCITT_OK;
}

scitt_err audit_state_decode(audit_state *s, scitt_span in, char *why, size_t cap)
{
    static const bool required[F_COUNT] = {
        [F_VERSION] = true, [F_SIZE] = true, [F_ROOT] = true, [F_COMPACT] = true};
    bool seen[F_COUNT] = {false};
    size_t ncompact = 0, nedge = 0;
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, in);
    size_t n = 0;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    if (e != SCITT_OK) {
        return why_err(e, why, cap, "not a well-formed CBOR map (%s)", scitt_err_str(e));
    }
    for (size_t i = 0; i < n; i++) {
        scitt_span k;
        e = scitt_cbor_read_text(&r, &k);
        if (e != SCITT_OK) {
            return why_err(e, why, cap, "key %zu is not a text string (%s)", i, scitt_err_str(e));
        }
        unsigned f = 0;
        while (f < F_COUNT && !scitt_span_eq_str(k, field_names[f])) {
            f++;
        }
        if (f == F_COUNT) {
            e = scitt_cbor_skip(&r, NULL); /* written by a later version: ignored */
            if (e != SCITT_OK) {
                return why_err(e, why, cap, "an unknown field does not parse (%s)",
                               scitt_err_str(e));
            }
            continue;
        }
        seen[f] = true; /* the reader refuses a map with a repeated key */
        e = read_field(s, f, &r, &ncompact, &nedge, why, cap);
        if (e != SCITT_OK) {
            return e;
        }
    }
    e = scitt_cbor_reader_finish(&r);
    if (e != SCITT_OK) {
        return why_err(e, why, cap, "bytes after the map (%s)", scitt_err_str(e));
    }
    for (unsigned f = 0; f < F_COUNT; f++) {
        if (required[f] && !seen[f]) {
            return why_err(SCITT_ERR_MALFORMED, why, cap, "\"%s\" is missing", field_names[f]);
        }
    }
    e = cross_check(s, ncompact, nedge, why, cap);
    if (e == SCITT_OK) {
        s->have = true;
    }
    return e;
}
