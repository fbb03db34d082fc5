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

static void path_of(const audit *a, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", a->state_dir, name);
}

int audit_state_load(audit *a, bool from_scratch, char *pinned_vkey, size_t cap,
                     scitt_dynbuf *pinned_keys)
{
    char p[4200];
    if (cli_mkdirs(a->state_dir, 0700) != SCITT_OK) {
        return audit_fail(a, "cannot create the state directory %s: %s", a->state_dir,
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
        return audit_fail(a, "cannot read %s", p);
    }
    scitt_dynbuf_clear(&b);
    path_of(a, "keys.cbor", p, sizeof(p));
    e = cli_read_file(p, SCITT_LIMIT_KEY_TEXT, pinned_keys);
    if (e != SCITT_OK && e != SCITT_ERR_NOT_FOUND) {
        return audit_fail(a, "cannot read %s", p);
    }
    if (from_scratch) {
        return CLI_OK;
    }
    path_of(a, "state.cbor", p, sizeof(p));
    e = cli_read_file(p, 1u << 20, &b);
    if (e == SCITT_OK) {
        char why[300];
        e = audit_state_decode(&a->st, scitt_span_make(b.ptr, b.len), why, sizeof(why));
        if (e != SCITT_OK) {
            scitt_dynbuf_clear(&b);
            return audit_fail(a, "%s is damaged: %s; rerun with --from-scratch", p, why);
        }
    } else if (e != SCITT_ERR_NOT_FOUND) {
        scitt_dynbuf_clear(&b);
        return audit_fail(a, "cannot read %s", p);
    }
    scitt_dynbuf_clear(&b);
    return CLI_OK;
}

int audit_state_save(audit *a)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_err e = audit_state_encode(&a->st, &b);
    scitt_dynbuf keys;
    scitt_dynbuf_init(&keys, 0);
    scitt_cbor_writer kw;
    scitt_cbor_writer_init_dynbuf(&kw, &keys);
    e = e ? e : scitt_cose_keyset_encode_cose(a->keys.pinned, &kw);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scitt_dynbuf_clear(&keys);
        return audit_fail(a, "cannot encode the audit state");
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
