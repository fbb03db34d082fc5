/*
 * C2SP tlog-policy: a line-based file of known logs, known witnesses, k-of-n witness groups and
 * one quorum; and the check of a cosigned checkpoint against it.
 */
#include <string.h>

#include "scitt/witness.h"

#define POLICY_MAX_FIELDS 72 /* "group NAME K" and up to 64 members, plus slack */
#define MEMBER_GROUP      ((int)SCITT_POLICY_MAX_WITNESSES)

typedef struct fields {
    size_t n;
    scitt_span f[POLICY_MAX_FIELDS];
} fields;

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static scitt_err split(scitt_span line, fields *out)
{
    out->n = 0;
    size_t i = 0;
    while (i < line.len) {
        while (i < line.len && is_ws(line.ptr[i])) {
            i++;
        }
        if (i == line.len) {
            break;
        }
        size_t s = i;
        while (i < line.len && !is_ws(line.ptr[i])) {
            i++;
        }
        if (out->n == POLICY_MAX_FIELDS) {
            return SCITT_ERR_TOO_LARGE;
        }
        out->f[out->n++] = scitt_span_make(line.ptr + s, i - s);
    }
    return SCITT_OK;
}

/* The index of a defined witness (< 32) or group (32 + g), or -1. */
static int lookup(const scitt_tlog_policy *p, scitt_span name)
{
    for (size_t i = 0; i < p->n_witnesses; i++) {
        if (scitt_span_eq_str(name, p->witness_names[i])) {
            return (int)i;
        }
    }
    for (size_t g = 0; g < p->n_groups; g++) {
        if (scitt_span_eq_str(name, p->groups[g].name)) {
            return MEMBER_GROUP + (int)g;
        }
    }
    return -1;
}

static bool copy_name(scitt_span name, char *out)
{
    if (name.len == 0 || name.len > SCITT_POLICY_NAME_MAX || memchr(name.ptr, 0, name.len)) {
        return false;
    }
    memcpy(out, name.ptr, name.len);
    out[name.len] = 0;
    return true;
}

static bool dup_key(const scitt_note_verifier *set, size_t n, const uint8_t key[32])
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(set[i].key, key, 32) == 0) {
            return true;
        }
    }
    return false;
}

static scitt_err fail(const char **why, const char *reason)
{
    if (why != NULL) {
        *why = reason;
    }
    return SCITT_ERR_POLICY;
}

static bool parse_k(scitt_span s, unsigned n, unsigned *k)
{
    if (scitt_span_eq_str(s, "all")) {
        *k = n;
        return true;
    }
    if (scitt_span_eq_str(s, "any")) {
        *k = 1;
        return true;
    }
    if (s.len == 0 || s.len > 3 || s.ptr[0] == '0') {
        return false;
    }
    unsigned v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(s.ptr[i] - '0');
    }
    *k = v;
    return v >= 1 && v <= n;
}

static scitt_err parse_line(scitt_tlog_policy *p, const fields *f, bool *quorum_seen,
                            const char **why)
{
    scitt_span kw = f->f[0];
    if (scitt_span_eq_str(kw, "log")) {
        scitt_note_verifier v;
        if (f->n < 2 || f->n > 3) {
            return fail(why, "log takes a vkey and an optional URL");
        }
        if (scitt_note_vkey_parse(f->f[1], &v) != SCITT_OK) {
            return fail(why, "bad log vkey (an Ed25519 signed-note key is expected)");
        }
        if (p->n_logs == SCITT_POLICY_MAX_LOGS) {
            return fail(why, "too many logs");
        }
        if (dup_key(p->logs, p->n_logs, v.key)) {
            return fail(why, "duplicate log key");
        }
        p->logs[p->n_logs++] = v;
        return SCITT_OK;
    }
    if (scitt_span_eq_str(kw, "witness")) {
        scitt_note_verifier v;
        if (f->n < 3 || f->n > 4) {
            return fail(why, "witness takes a name, a vkey and an optional URL");
        }
        if (scitt_cosig_vkey_parse(f->f[2], &v) != SCITT_OK) {
            return fail(why, "bad witness vkey (a cosignature/v1 key, type 0x04, is expected)");
        }
        if (p->n_witnesses == SCITT_POLICY_MAX_WITNESSES) {
            return fail(why, "too many witnesses");
        }
        if (scitt_span_eq_str(f->f[1], "none") || lookup(p, f->f[1]) >= 0 ||
            !copy_name(f->f[1], p->witness_names[p->n_witnesses])) {
            return fail(why, "bad or duplicate witness name");
        }
        if (dup_key(p->witnesses, p->n_witnesses, v.key)) {
            return fail(why, "duplicate witness key");
        }
        p->witnesses[p->n_witnesses++] = v;
        return SCITT_OK;
    }
    if (scitt_span_eq_str(kw, "group")) {
        if (f->n < 4) {
            return fail(why, "group takes a name, a threshold and at least one member");
        }
        if (p->n_groups == SCITT_POLICY_MAX_GROUPS) {
            return fail(why, "too many groups");
        }
        scitt_tlog_policy_group *g = &p->groups[p->n_groups];
        memset(g, 0, sizeof(*g));
        if (scitt_span_eq_str(f->f[1], "none") || lookup(p, f->f[1]) >= 0 ||
            !copy_name(f->f[1], g->name)) {
            return fail(why, "bad or duplicate group name");
        }
        g->n = (unsigned)(f->n - 3);
        if (g->n > sizeof(g->members)) {
            return fail(why, "too many group members");
        }
        if (!parse_k(f->f[2], g->n, &g->k)) {
            return fail(why, "the threshold must be all, any or 1..n");
        }
        for (unsigned i = 0; i < g->n; i++) {
            int m = lookup(p, f->f[3 + i]);
            if (m < 0) {
                return fail(why, "a group member is not defined on a preceding line");
            }
            for (unsigned j = 0; j < i; j++) {
                if (g->members[j] == (uint8_t)m) {
                    return fail(why, "a group lists a member twice");
                }
            }
            g->members[i] = (uint8_t)m;
        }
        p->n_groups++;
        return SCITT_OK;
    }
    if (scitt_span_eq_str(kw, "quorum")) {
        if (f->n != 2) {
            return fail(why, "quorum takes one name");
        }
        if (*quorum_seen) {
            return fail(why, "more than one quorum line");
        }
        *quorum_seen = true;
        if (scitt_span_eq_str(f->f[1], "none")) {
            p->quorum = -1;
            return SCITT_OK;
        }
        p->quorum = lookup(p, f->f[1]);
        if (p->quorum < 0) {
            return fail(why, "the quorum names nothing defined on a preceding line");
        }
        return SCITT_OK;
    }
    return fail(why, "unknown keyword (log, witness, group, quorum)");
}

scitt_err scitt_tlog_policy_parse(scitt_span text, scitt_tlog_policy *out, const char **why,
                                  size_t *line_no)
{
    if (out == NULL || (text.ptr == NULL && text.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (text.len > SCITT_POLICY_MAX_BYTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    memset(out, 0, sizeof(*out));
    out->quorum = -1;
    bool quorum_seen = false;
    size_t ln = 0;
    scitt_err e = SCITT_OK;
    fields *f = scitt_malloc(sizeof(*f));
    if (f == NULL) {
        return SCITT_ERR_NOMEM;
    }
    for (size_t pos = 0; pos < text.len && e == SCITT_OK;) {
        ln++;
        const uint8_t *nl = memchr(text.ptr + pos, '\n', text.len - pos);
        size_t end = nl ? (size_t)(nl - text.ptr) : text.len;
        scitt_span line = scitt_span_make(text.ptr + pos, end - pos);
        pos = nl ? end + 1 : end;
        for (size_t i = 0; i < line.len; i++) {
            uint8_t c = line.ptr[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                e = fail(why, "a control character");
                break;
            }
        }
        if (e == SCITT_OK && split(line, f) != SCITT_OK) {
            e = fail(why, "too many fields on a line");
        }
        if (e != SCITT_OK || f->n == 0 || f->f[0].ptr[0] == '#') {
            continue;
        }
        e = parse_line(out, f, &quorum_seen, why);
    }
    scitt_free(f);
    if (e == SCITT_OK && !quorum_seen) {
        e = fail(why, "no quorum line");
    }
    if (line_no != NULL) {
        *line_no = e == SCITT_OK ? 0 : ln;
    }
    return e;
}

/* Whether member @p m (witness or group) is satisfied by the set @p cosigned. */
static bool satisfied(const scitt_tlog_policy *p, int m, uint32_t cosigned, unsigned depth)
{
    if (m < MEMBER_GROUP) {
        return (cosigned >> m) & 1u;
    }
    /* groups only reference earlier groups, so depth is bounded by the group count */
    if (depth > SCITT_POLICY_MAX_GROUPS) {
        return false;
    }
    const scitt_tlog_policy_group *g = &p->groups[m - MEMBER_GROUP];
    unsigned have = 0;
    for (unsigned i = 0; i < g->n; i++) {
        have += satisfied(p, g->members[i], cosigned, depth + 1);
    }
    return have >= g->k;
}

bool scitt_tlog_policy_met(const scitt_tlog_policy *p, uint32_t cosigned, char *missing,
                           size_t missing_cap)
{
    if (missing != NULL && missing_cap > 0) {
        missing[0] = 0;
    }
    if (p->quorum < 0 || satisfied(p, p->quorum, cosigned, 0)) {
        return true;
    }
    size_t used = 0;
    for (size_t i = 0; missing != NULL && i < p->n_witnesses; i++) {
        if ((cosigned >> i) & 1u) {
            continue;
        }
        size_t len = strlen(p->witness_names[i]);
        size_t need = len + (used ? 2 : 0);
        if (missing_cap == 0 || need >= missing_cap - used) {
            break;
        }
        if (used) {
            memcpy(missing + used, ", ", 2);
            used += 2;
        }
        memcpy(missing + used, p->witness_names[i], len);
        used += len;
        missing[used] = 0;
    }
    return false;
}

scitt_err scitt_tlog_policy_check(const scitt_tlog_policy *p, scitt_span note,
                                  const scitt_note_verifier *log_keys, size_t n_log_keys,
                                  scitt_checkpoint *cp_out, char *missing, size_t missing_cap)
{
    if (p == NULL || (log_keys == NULL && n_log_keys != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (missing != NULL && missing_cap > 0) {
        missing[0] = 0;
    }
    const scitt_note_verifier *keys = p->n_logs ? p->logs : log_keys;
    size_t nk = p->n_logs ? p->n_logs : n_log_keys;
    if (nk == 0) {
        return SCITT_ERR_UNTRUSTED;
    }
    scitt_checkpoint cp;
    scitt_note_result nr;
    scitt_err e = scitt_checkpoint_open(note, keys, nk, scitt_span_make(NULL, 0), &cp, &nr);
    if (e != SCITT_OK) {
        return e;
    }
    /* The log key that signed must be named after the checkpoint's origin. */
    bool named = false;
    for (size_t i = 0; i < nk; i++) {
        if (((nr.verified >> i) & 1u) &&
            scitt_span_eq(scitt_span_make(keys[i].name, keys[i].name_len), cp.origin)) {
            named = true;
        }
    }
    if (!named) {
        return SCITT_ERR_UNTRUSTED;
    }
    scitt_cosig_result cr;
    e = scitt_cosig_verify(note, p->witnesses, p->n_witnesses, &cr);
    if (e != SCITT_OK) {
        return e;
    }
    if (!scitt_tlog_policy_met(p, cr.cosigned, missing, missing_cap)) {
        return SCITT_ERR_POLICY;
    }
    if (cp_out != NULL) {
        *cp_out = cp;
    }
    return SCITT_OK;
}
