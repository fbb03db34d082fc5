/*
 * Fuzz target: the auditor's state file (state.cbor) as `scitt audit` loads it. Invariants: what
 * is refused comes with a reason; what decodes is consistent (the compact range hashes to the
 * root, the policy index lies inside the audited size, the issuer fits its bound) and encodes to
 * bytes that decode to the same state and encode identically again.
 */
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const audit_state *a, const audit_state *b)
{
    if (a->size != b->size || memcmp(a->root, b->root, SCITT_HASH_LEN) != 0 || a->time != b->time ||
        a->time_is_live != b->time_is_live || a->have_policy != b->have_policy ||
        a->policy_index != b->policy_index || a->policy_text.len != b->policy_text.len ||
        strcmp(a->issuer, b->issuer) != 0 || a->policies != b->policies ||
        a->entries != b->entries || a->reported != b->reported || a->nreported != b->nreported) {
        return false;
    }
    if (a->policy_text.len && memcmp(a->policy_text.ptr, b->policy_text.ptr, a->policy_text.len)) {
        return false;
    }
    for (unsigned l = 0; l < AUDIT_EDGE_LEVELS; l++) {
        if (a->edge[l].len != b->edge[l].len ||
            (a->edge[l].len && (a->edge_index[l] != b->edge_index[l] ||
                                memcmp(a->edge[l].ptr, b->edge[l].ptr, a->edge[l].len) != 0))) {
            return false;
        }
    }
    return memcmp(a->reported_entries, b->reported_entries,
                  a->nreported * sizeof(a->reported_entries[0])) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    audit_state s, t;
    audit_state_init(&s);
    audit_state_init(&t);
    scitt_dynbuf b, c;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_init(&c, 0);
    char why[300] = "";
    scitt_err e = audit_state_decode(&s, scitt_span_make(data, size), why, sizeof(why));
    if (e != SCITT_OK) {
        if (!why[0] || memchr(why, 0, sizeof(why)) == NULL) {
            __builtin_trap();
        }
        goto out;
    }
    uint8_t root[SCITT_HASH_LEN];
    scitt_merkle_compact_root(&s.compact, root);
    if (!s.have || memcmp(root, s.root, SCITT_HASH_LEN) != 0 || s.compact.size != s.size ||
        (s.have_policy && s.policy_index >= s.size) || strlen(s.issuer) > AUDIT_ISSUER_MAX ||
        s.nreported > s.reported) {
        __builtin_trap();
    }
    if (audit_state_encode(&s, &b) != SCITT_OK ||
        audit_state_decode(&t, scitt_span_make(b.ptr, b.len), why, sizeof(why)) != SCITT_OK ||
        !same(&s, &t) || audit_state_encode(&t, &c) != SCITT_OK || c.len != b.len ||
        memcmp(c.ptr, b.ptr, b.len) != 0) {
        __builtin_trap();
    }
out:
    audit_state_clear(&s);
    audit_state_clear(&t);
    scitt_dynbuf_clear(&b);
    scitt_dynbuf_clear(&c);
    return 0;
}
