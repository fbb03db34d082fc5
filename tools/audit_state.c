/*
 * The audit state directory: the pinned checkpoint key (vkey), the pinned service keys
 * (keys.cbor), the last audited checkpoint, and state.cbor with everything needed to resume: the
 * compact range of the audited tree (recomputed by us, never fetched), the policy in force, and
 * the right-edge tiles seen, so a later audit notices a rewritten "immutable" tile.
 */
#include "audit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scitt/cbor.h"

void audit_state_init(audit_state *s)
{
    memset(s, 0, sizeof(*s));
    scitt_merkle_compact_init(&s->compact);
    scitt_dynbuf_init(&s->policy_text, 0);
    for (size_t i = 0; i < AUDIT_EDGE_LEVELS; i++) {
        scitt_dynbuf_init(&s->edge[i], 0);
    }
}

void audit_state_clear(audit_state *s)
{
    scitt_dynbuf_clear(&s->policy_text);
    for (size_t i = 0; i < AUDIT_EDGE_LEVELS; i++) {
        scitt_dynbuf_clear(&s->edge[i]);
    }
}

static void path_of(const audit *a, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", a->state_dir, name);
}

/* state.cbor: a map of text keys (see audit_state_save). */
static scitt_err decode(audit_state *s, scitt_span in)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, in);
    size_t n;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    bool have_size = false, have_compact = false;
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_span k, v;
        e = scitt_cbor_read_text(&r, &k);
        if (e != SCITT_OK) {
            break;
        }
        if (scitt_span_eq_str(k, "version")) {
            uint64_t ver;
            e = scitt_cbor_read_uint(&r, &ver);
            e = e ? e : (ver == 1 ? SCITT_OK : SCITT_ERR_UNSUPPORTED);
        } else if (scitt_span_eq_str(k, "size")) {
            e = scitt_cbor_read_uint(&r, &s->size);
            have_size = e == SCITT_OK;
        } else if (scitt_span_eq_str(k, "root")) {
            e = scitt_cbor_read_bytes(&r, &v);
            e = e ? e : (v.len == SCITT_HASH_LEN ? SCITT_OK : SCITT_ERR_MALFORMED);
            if (e == SCITT_OK) {
                memcpy(s->root, v.ptr, SCITT_HASH_LEN);
            }
        } else if (scitt_span_eq_str(k, "compact")) {
            size_t m;
            e = scitt_cbor_read_array(&r, &m);
            e = e ? e : (m <= 64 ? SCITT_OK : SCITT_ERR_MALFORMED);
            for (size_t j = 0; j < m && e == SCITT_OK; j++) {
                e = scitt_cbor_read_bytes(&r, &v);
                e = e ? e : (v.len == SCITT_HASH_LEN ? SCITT_OK : SCITT_ERR_MALFORMED);
                if (e == SCITT_OK) {
                    memcpy(s->compact.nodes[j], v.ptr, SCITT_HASH_LEN);
                }
            }
            have_compact = true;
        } else if (scitt_span_eq_str(k, "time")) {
            e = scitt_cbor_read_int(&r, &s->time);
        } else if (scitt_span_eq_str(k, "live")) {
            scitt_cbor_item it;
            e = scitt_cbor_next(&r, &it);
            s->time_is_live = it.type == SCITT_CBOR_TRUE;
        } else if (scitt_span_eq_str(k, "policy_index")) {
            scitt_cbor_item it;
            e = scitt_cbor_peek(&r, &it);
            if (e == SCITT_OK && it.type == SCITT_CBOR_NULL) {
                e = scitt_cbor_read_null(&r);
            } else if (e == SCITT_OK) {
                e = scitt_cbor_read_uint(&r, &s->policy_index);
                s->have_policy = e == SCITT_OK;
            }
        } else if (scitt_span_eq_str(k, "policy")) {
            e = scitt_cbor_read_bytes(&r, &v);
            scitt_dynbuf_put(&s->policy_text, v.ptr, v.len);
        } else if (scitt_span_eq_str(k, "issuer")) {
            e = scitt_cbor_read_text(&r, &v);
            if (e == SCITT_OK) {
                snprintf(s->issuer, sizeof(s->issuer), "%.*s", (int)(v.len < 1000 ? v.len : 1000),
                         (const char *)v.ptr);
            }
        } else if (scitt_span_eq_str(k, "policies")) {
            e = scitt_cbor_read_uint(&r, &s->policies);
        } else if (scitt_span_eq_str(k, "entries")) {
            e = scitt_cbor_read_uint(&r, &s->entries);
        } else if (scitt_span_eq_str(k, "edge")) {
            size_t m;
            e = scitt_cbor_read_array(&r, &m);
            e = e ? e : (m <= AUDIT_EDGE_LEVELS ? SCITT_OK : SCITT_ERR_MALFORMED);
            for (size_t j = 0; j < m && e == SCITT_OK; j++) {
                size_t two;
                e = scitt_cbor_read_array(&r, &two);
                e = e ? e : (two == 2 ? SCITT_OK : SCITT_ERR_MALFORMED);
                e = e ? e : scitt_cbor_read_uint(&r, &s->edge_index[j]);
                e = e ? e : scitt_cbor_read_bytes(&r, &v);
                if (e == SCITT_OK && (v.len % SCITT_HASH_LEN || v.len > 256 * SCITT_HASH_LEN)) {
                    e = SCITT_ERR_MALFORMED;
                }
                if (e == SCITT_OK) {
                    scitt_dynbuf_put(&s->edge[j], v.ptr, v.len);
                    s->edge_width[j] = (unsigned)(v.len / SCITT_HASH_LEN);
                }
            }
        } else {
            e = scitt_cbor_skip(&r, NULL);
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK && (!have_size || !have_compact)) {
        e = SCITT_ERR_MALFORMED;
    }
    if (e == SCITT_OK) {
        s->compact.size = s->size;
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
            e = SCITT_ERR_CORRUPT; /* our own file does not add up */
        }
        s->have = true;
    }
    return e;
}

int audit_state_load(audit *a, bool from_scratch, char *pinned_vkey, size_t cap,
                     scitt_dynbuf *pinned_keys)
{
    char p[4200];
    if (cli_mkdirs(a->state_dir, 0700) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot create the state directory %s: %s", a->state_dir,
                        strerror(errno));
    }
    scitt_dynbuf b;
    pinned_vkey[0] = 0;
    path_of(a, "vkey", p, sizeof(p));
    scitt_err e = cli_read_file(p, SCITT_NOTE_VKEY_MAX + 2, &b);
    if (e == SCITT_OK) {
        size_t n = b.len;
        while (n && (b.ptr[n - 1] == '\n' || b.ptr[n - 1] == '\r')) {
            n--;
        }
        snprintf(pinned_vkey, cap, "%.*s", (int)n, (const char *)b.ptr);
    } else if (e != SCITT_ERR_NOT_FOUND) {
        scitt_dynbuf_clear(&b);
        return cli_fail(CLI_USAGE, "cannot read %s", p);
    }
    scitt_dynbuf_clear(&b);
    path_of(a, "keys.cbor", p, sizeof(p));
    e = cli_read_file(p, SCITT_LIMIT_KEY_TEXT, pinned_keys);
    if (e != SCITT_OK && e != SCITT_ERR_NOT_FOUND) {
        return cli_fail(CLI_USAGE, "cannot read %s", p);
    }
    if (from_scratch) {
        return CLI_OK;
    }
    path_of(a, "state.cbor", p, sizeof(p));
    e = cli_read_file(p, 1u << 20, &b);
    if (e == SCITT_OK) {
        e = decode(&a->st, scitt_span_make(b.ptr, b.len));
        if (e != SCITT_OK) {
            scitt_dynbuf_clear(&b);
            return cli_fail(CLI_USAGE, "%s is damaged (%s); rerun with --from-scratch", p,
                            scitt_err_str(e));
        }
    } else if (e != SCITT_ERR_NOT_FOUND) {
        scitt_dynbuf_clear(&b);
        return cli_fail(CLI_USAGE, "cannot read %s", p);
    }
    scitt_dynbuf_clear(&b);
    return CLI_OK;
}

int audit_state_save(audit *a)
{
    const audit_state *s = &a->st;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    size_t nedge = 0;
    while (nedge < AUDIT_EDGE_LEVELS && s->edge[nedge].len) {
        nedge++;
    }
    scitt_cbor_put_map(&w, 12);
    scitt_cbor_put_cstr(&w, "version");
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_cstr(&w, "size");
    scitt_cbor_put_uint(&w, s->size);
    scitt_cbor_put_cstr(&w, "root");
    scitt_cbor_put_bytes(&w, scitt_span_make(s->root, SCITT_HASH_LEN));
    scitt_cbor_put_cstr(&w, "compact");
    size_t bits = 0;
    for (unsigned l = 0; l < 64; l++) {
        bits += s->size >> l & 1;
    }
    scitt_cbor_put_array(&w, bits);
    for (unsigned l = 0; l < 64; l++) {
        if (s->size >> l & 1) {
            scitt_cbor_put_bytes(&w, scitt_span_make(s->compact.nodes[l], SCITT_HASH_LEN));
        }
    }
    scitt_cbor_put_cstr(&w, "time");
    scitt_cbor_put_int(&w, s->time);
    scitt_cbor_put_cstr(&w, "live");
    scitt_cbor_put_bool(&w, s->time_is_live);
    scitt_cbor_put_cstr(&w, "policy_index");
    if (s->have_policy) {
        scitt_cbor_put_uint(&w, s->policy_index);
    } else {
        scitt_cbor_put_null(&w);
    }
    scitt_cbor_put_cstr(&w, "policy");
    scitt_cbor_put_bytes(&w, scitt_span_make(s->policy_text.ptr, s->policy_text.len));
    scitt_cbor_put_cstr(&w, "issuer");
    scitt_cbor_put_cstr(&w, s->issuer);
    scitt_cbor_put_cstr(&w, "policies");
    scitt_cbor_put_uint(&w, s->policies);
    scitt_cbor_put_cstr(&w, "entries");
    scitt_cbor_put_uint(&w, s->entries);
    scitt_cbor_put_cstr(&w, "edge");
    scitt_cbor_put_array(&w, nedge);
    for (size_t i = 0; i < nedge; i++) {
        scitt_cbor_put_array(&w, 2);
        scitt_cbor_put_uint(&w, s->edge_index[i]);
        scitt_cbor_put_bytes(&w, scitt_span_make(s->edge[i].ptr, s->edge[i].len));
    }
    scitt_dynbuf keys;
    scitt_dynbuf_init(&keys, 0);
    scitt_cbor_writer kw;
    scitt_cbor_writer_init_dynbuf(&kw, &keys);
    scitt_err e = scitt_cose_keyset_encode_cose(a->keys, &kw);
    if (w.err != SCITT_OK || e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scitt_dynbuf_clear(&keys);
        return cli_fail(CLI_USAGE, "cannot encode the audit state");
    }
    char p[4200], vk[SCITT_NOTE_VKEY_MAX + 2];
    snprintf(vk, sizeof(vk), "%s\n", a->vkey_text);
    path_of(a, "vkey", p, sizeof(p));
    int rc = cli_save(p, scitt_span_str(vk), 0600);
    path_of(a, "keys.cbor", p, sizeof(p));
    rc = rc ? rc : cli_save(p, scitt_span_make(keys.ptr, keys.len), 0600);
    path_of(a, "checkpoint", p, sizeof(p));
    rc = rc ? rc : cli_save(p, scitt_span_make(a->checkpoint.ptr, a->checkpoint.len), 0600);
    /* state.cbor last: it is what the next audit resumes from. */
    path_of(a, "state.cbor", p, sizeof(p));
    rc = rc ? rc : cli_save(p, scitt_span_make(b.ptr, b.len), 0600);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&keys);
    return rc;
}
