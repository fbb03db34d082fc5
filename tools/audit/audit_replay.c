/*
 * The replay of `scitt audit`: fetch tiles and entry bundles, recompute every leaf and every
 * stored interior hash from the entries up, fold the new entries into the audited compact range
 * to reach the checkpoint's root, prove consistency with the previous checkpoint, and decide
 * every registration again with the policy that was in force (policy statements are entries
 * signed by the service with sub "scittd/registration-policy"; each is in force from its own
 * index until the next one).
 */
#include "audit.h"
#include "parsers.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scitt/receipt.h"

#define TILE_CACHE 24u
#define BUNDLE_MAX (256u * (65535u + 2u))

typedef struct cached {
    bool valid;
    unsigned level, width;
    uint64_t index;
    uint8_t hashes[SCITT_TILE_WIDTH][SCITT_HASH_LEN];
} cached;

static cached cache[TILE_CACHE];
static unsigned cache_next;
static bool edge_checked[AUDIT_EDGE_LEVELS];

static void record(audit *a, bool entry, bool has_index, uint64_t index, const char *fmt,
                   va_list ap)
{
    a->discrepancies++;
    a->tree_discrepancies += !entry;
    if (a->nbad == AUDIT_MAX_REPORTED) {
        return;
    }
    audit_item *it = &a->bad[a->nbad++];
    it->has_index = has_index;
    it->index = index;
    it->entry = entry;
    vsnprintf(it->what, sizeof(it->what), fmt, ap);
}

void audit_bad(audit *a, int64_t index, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(a, false, index >= 0, index >= 0 ? (uint64_t)index : 0, fmt, ap);
    va_end(ap);
}

void audit_bad_entry(audit *a, uint64_t index, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(a, true, true, index, fmt, ap);
    va_end(ap);
}

void audit_undecidable(audit *a, uint64_t index, const char *fmt, ...)
{
    a->undecidable++;
    if (a->nnotes == AUDIT_MAX_REPORTED) {
        return;
    }
    audit_item *it = &a->notes[a->nnotes++];
    it->has_index = true;
    it->index = index;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->what, sizeof(it->what), fmt, ap);
    va_end(ap);
}

void audit_cannot(audit *a, const char *fmt, ...)
{
    if (a->cannot) {
        return; /* the first reason is the one to act on */
    }
    a->cannot = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->cannot_why, sizeof(a->cannot_why), fmt, ap);
    va_end(ap);
}

int audit_fail(audit *a, const char *fmt, ...)
{
    if (!a->cannot) {
        a->cannot = true;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(a->cannot_why, sizeof(a->cannot_why), fmt, ap);
        va_end(ap);
    }
    cli_msg("%s", a->cannot_why);
    return CLI_USAGE;
}

/* Tile (level, index) at the width the new checkpoint implies, fetched once and cached. */
static scitt_err get_tile(audit *a, unsigned level, uint64_t index, const cached **out)
{
    unsigned width = scitt_tile_width(level, index, a->new_size);
    if (width == 0) {
        return SCITT_ERR_NOT_FOUND;
    }
    for (unsigned i = 0; i < TILE_CACHE; i++) {
        if (cache[i].valid && cache[i].level == level && cache[i].index == index &&
            cache[i].width == width) {
            *out = &cache[i];
            return SCITT_OK;
        }
    }
    if (a->cannot) {
        return SCITT_ERR_STATE; /* stop fetching: this audit will not complete */
    }
    char rel[SCITT_TILE_PATH_MAX], why[600];
    scitt_err e =
        scitt_tile_path(level, index, width == SCITT_TILE_WIDTH ? 0 : width, rel, sizeof(rel));
    scitt_dynbuf b;
    e = e ? e : source_get(&a->src, rel, SCITT_TILE_WIDTH * SCITT_HASH_LEN, &b, why, sizeof(why));
    if (e == SCITT_ERR_TOO_LARGE) {
        /* more bytes than the tile may have: what was served is wrong, not unavailable */
        audit_bad(a, -1, "%s: larger than a tile of %u hashes", rel, width);
    } else if (e != SCITT_OK) {
        audit_cannot(a, "%s: %s", rel, e == SCITT_ERR_NOT_FOUND ? "missing" : why);
    }
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        return e;
    }
    if (b.len != (size_t)width * SCITT_HASH_LEN) {
        audit_bad(a, -1, "%s: %zu bytes, a tile of %u hashes has %u", rel, b.len, width,
                  width * SCITT_HASH_LEN);
        scitt_dynbuf_clear(&b);
        return SCITT_ERR_MALFORMED;
    }
    cached *c = &cache[cache_next++ % TILE_CACHE];
    c->valid = true;
    c->level = level;
    c->index = index;
    c->width = width;
    memcpy(c->hashes, b.ptr, b.len);
    scitt_dynbuf_clear(&b);
    /* A tile seen at the last audit's right edge must still start with what was audited. */
    const audit_state *s = &a->st;
    if (s->have && level < AUDIT_EDGE_LEVELS && !edge_checked[level] && s->edge[level].len &&
        s->edge_index[level] == index) {
        edge_checked[level] = true;
        if (s->edge_width[level] > width ||
            memcmp(c->hashes, s->edge[level].ptr, s->edge[level].len) != 0) {
            audit_bad(a, -1, "%s: the hashes audited at size %llu changed (a tile was rewritten)",
                      rel, (unsigned long long)s->size);
        }
    }
    *out = c;
    return SCITT_OK;
}

/* Node hashes for proofs, from the tiles of the new tree. */
static scitt_err tile_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SCITT_HASH_LEN])
{
    audit *a = ctx;
    unsigned tl, first, count;
    uint64_t ti;
    scitt_tile_locate(level, index, &tl, &ti, &first, &count);
    const cached *c;
    scitt_err e = get_tile(a, tl, ti, &c);
    if (e != SCITT_OK) {
        return e;
    }
    if (first + count > c->width) {
        return SCITT_ERR_NOT_FOUND;
    }
    scitt_merkle_fold((const uint8_t(*)[SCITT_HASH_LEN])c->hashes[first], count, out);
    return SCITT_OK;
}

void audit_consistency(audit *a)
{
    uint64_t m = a->st.size, n = a->new_size;
    if (!a->st.have || m == 0) {
        snprintf(a->consistency, sizeof(a->consistency),
                 "first audit: the whole tree is recomputed from its entries");
        return;
    }
    if (m == n) {
        snprintf(a->consistency, sizeof(a->consistency), "no new entries since size %llu",
                 (unsigned long long)m);
        return;
    }
    scitt_merkle_source src = {tile_node, a};
    uint8_t path[SCITT_LIMIT_PROOF_HASHES + 1][SCITT_HASH_LEN];
    size_t len = 0;
    scitt_err e = scitt_merkle_consistency_proof(&src, m, n, path, &len);
    if (e == SCITT_OK) {
        e = scitt_merkle_consistency_verify(m, n, a->st.root, a->new_root,
                                            (const uint8_t(*)[SCITT_HASH_LEN])path, len);
        if (e != SCITT_OK) {
            audit_bad(a, -1,
                      "checkpoint %llu is not consistent with the audited checkpoint %llu: the "
                      "RFC 9162 proof built from the tiles fails (%s)",
                      (unsigned long long)n, (unsigned long long)m, scitt_err_str(e));
        }
    }
    int used = snprintf(a->consistency, sizeof(a->consistency),
                        "%llu -> %llu: RFC 9162 proof from the tiles %s", (unsigned long long)m,
                        (unsigned long long)n, e == SCITT_OK ? "verified" : "FAILED");
    if (!a->src.is_http) {
        return;
    }
    /* The service also signs consistency: check its receipt against the same two roots. */
    char why[600];
    scitt_dynbuf r;
    scitt_dynbuf_init(&r, 0);
    e = scitt_client_consistency(a->src.http, m, n, &r, why, sizeof(why));
    if (e != SCITT_OK) {
        const scitt_client_reply *l = scitt_client_last(a->src.http);
        snprintf(a->consistency + used, sizeof(a->consistency) - (size_t)used,
                 "; no consistency receipt (%.150s)", l->status ? l->problem : why);
        scitt_dynbuf_clear(&r);
        return;
    }
    /* The key named by the receipt's kid, pinned or only served: a served key that signs the
     * consistency of two checkpoints the auditor verified is proven to be the service's. */
    scitt_span body = scitt_span_make(r.ptr, r.len);
    scitt_cose_sign1 *rm = scitt_malloc(sizeof(*rm));
    const scitt_cose_key *key = NULL;
    if (rm && scitt_cose_sign1_decode(body, 0, rm) == SCITT_OK) {
        key = audit_key_find(a, rm->hdr.kid);
    }
    scitt_free(rm);
    scitt_cose_keyset *one = NULL;
    e = key ? scitt_cose_keyset_new(&one) : SCITT_ERR_UNTRUSTED;
    e = e ? e : scitt_cose_keyset_add(one, (scitt_cose_key *)key);
    scitt_receipt_info info;
    e = e ? e
          : scitt_receipt_verify_consistency(body, m, a->st.root, one, SCITT_RECEIPT_REQUIRE_SUB,
                                             &info);
    scitt_cose_keyset_free(one);
    if (e == SCITT_OK &&
        (info.tree_size != n || memcmp(info.root, a->new_root, SCITT_HASH_LEN) != 0)) {
        e = SCITT_ERR_CONSISTENCY;
    }
    if (e != SCITT_OK) {
        audit_bad(a, -1, "the service's consistency receipt %llu -> %llu does not verify: %s",
                  (unsigned long long)m, (unsigned long long)n,
                  key ? scitt_err_str(e) : "its kid names no key of the service");
    } else {
        char how[160];
        snprintf(how, sizeof(how), "signed the consistency receipt %llu -> %llu",
                 (unsigned long long)m, (unsigned long long)n);
        audit_key_proven(a, key, how);
    }
    snprintf(a->consistency + used, sizeof(a->consistency) - (size_t)used,
             "; consistency receipt %s", e == SCITT_OK ? "verified" : "FAILED");
    scitt_dynbuf_clear(&r);
}

/* Checks every interior hash a stored tile holds, as the append completes it. */
static void check_node(void *ctx, unsigned level, uint64_t index,
                       const uint8_t hash[SCITT_HASH_LEN])
{
    audit *a = ctx;
    if (level == 0 || level % SCITT_TILE_HEIGHT != 0) {
        return;
    }
    const cached *c;
    unsigned tl = level / SCITT_TILE_HEIGHT;
    uint64_t ti = index / SCITT_TILE_WIDTH;
    if (get_tile(a, tl, ti, &c) != SCITT_OK) {
        return;
    }
    if (memcmp(c->hashes[index % SCITT_TILE_WIDTH], hash, SCITT_HASH_LEN) != 0) {
        audit_bad(a, -1,
                  "tile %u/%llu: hash %llu differs from the hash of the %u-level subtree below it "
                  "(leaves %llu..%llu)",
                  tl, (unsigned long long)ti, (unsigned long long)(index % SCITT_TILE_WIDTH), level,
                  (unsigned long long)(index << level),
                  (unsigned long long)(((index + 1) << level) - 1));
    }
}

/*
 * An entry with CWT sub SCITT_POLICY_SUBJECT. Only the service registers policies, signed with
 * one of its keys under its own iss; scittd refuses the subject from anybody else. So the entry
 * is a policy change only when its kid names a service key (pinned or served), that key's
 * signature verifies and the iss is the service's (when the configuration names it). Anything
 * else with this subject is a statement the service should never have admitted: a discrepancy
 * about this one entry (reported once), and the policy in force does not change.
 */
static void policy_entry(audit *a, uint64_t i, const scitt_cose_sign1 *m)
{
    char kid[80], iss[160];
    char *h = cli_hex(m->hdr.kid);
    snprintf(kid, sizeof(kid), "%.64s", h && h[0] ? h : "(none)");
    scitt_free(h);
    scitt_client_printable(m->hdr.cwt.iss, iss, sizeof(iss));
    const scitt_cose_key *key = audit_key_find(a, m->hdr.kid);
    if (!key) {
        audit_bad_entry(a, i,
                        "a statement with the policy subject under kid %s, which is no key of the "
                        "service: not a policy change (the service should not have admitted it)",
                        kid);
        return;
    }
    if (scitt_cose_sign1_verify(m, key, scitt_span_make(NULL, 0), NULL) != SCITT_OK) {
        audit_bad_entry(a, i,
                        "a statement with the policy subject under the service key %s whose "
                        "signature does not verify: not a policy change (the service should not "
                        "have admitted it)",
                        kid);
        return;
    }
    if (a->st.issuer[0] && !scitt_span_eq_str(m->hdr.cwt.iss, a->st.issuer)) {
        audit_bad_entry(a, i,
                        "a statement with the policy subject signed by the service key %s but "
                        "with iss \"%s\", not the service's: not a policy change",
                        kid, iss);
        return;
    }
    char reason[SCITT_POLICY_REASON_MAX];
    scitt_policy *p = NULL;
    if (scitt_policy_parse(m->payload, &p, reason, sizeof(reason)) != SCITT_OK) {
        audit_bad_entry(a, i,
                        "a policy statement signed by the service that does not parse (%s): the "
                        "policy in force does not change",
                        reason);
        return;
    }
    char how[160];
    snprintf(how, sizeof(how), "signed the policy statement at entry %llu", (unsigned long long)i);
    audit_key_proven(a, key, how);
    audit_policy ap;
    memset(&ap, 0, sizeof(ap));
    ap.index = i;
    scitt_sha256(m->payload.ptr, m->payload.len, ap.sha256);
    snprintf(ap.kid, sizeof(ap.kid), "%s", kid);
    ap.development = scitt_policy_is_development(p);
    /* A policy in force before this one (from the state or an earlier entry): a change. */
    if (a->st.have_policy) {
        ap.replaces = true;
        ap.replaced_index = a->st.policy_index;
        scitt_sha256(a->st.policy_text.ptr, a->st.policy_text.len, ap.replaced_sha256);
        ap.same_text = memcmp(ap.replaced_sha256, ap.sha256, SCITT_SHA256_LEN) == 0;
        a->policy_changes += !ap.same_text;
    }
    if (a->npol < AUDIT_MAX_REPORTED) {
        a->pol[a->npol++] = ap;
    }
    scitt_policy_free(a->policy);
    a->policy = p;
    a->st.have_policy = true;
    a->st.policy_index = i;
    a->st.policy_text.len = 0;
    scitt_dynbuf_put(&a->st.policy_text, m->payload.ptr, m->payload.len);
    a->st.policies++;
}

static void replay_entry(audit *a, uint64_t i, scitt_span entry)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        audit_cannot(a, "out of memory");
        return;
    }
    scitt_err e = scitt_cose_sign1_decode(entry, 0, m);
    if (e != SCITT_OK || m->unprotected_item.len != 1 || m->unprotected_item.ptr[0] != 0xa0) {
        audit_bad_entry(a, i, "not a registered statement: %s",
                        e ? scitt_err_str(e) : "its unprotected header is not the empty map");
        scitt_free(m);
        return;
    }
    if (a->on_entry) {
        a->on_entry(a, i, m, entry);
    }
    if (scitt_span_eq_str(m->hdr.cwt.sub, SCITT_POLICY_SUBJECT)) {
        policy_entry(a, i, m);
        scitt_free(m);
        return;
    }
    if (!a->policy) {
        audit_bad_entry(a, i, "registered while no registration policy was in force");
        scitt_free(m);
        return;
    }
    char reason[SCITT_POLICY_REASON_MAX];
    scitt_policy_decision d;
    /* Certificate validity checked at registration time is bracketed by what the auditor knows:
     * registered before this audit's checkpoint, after the last audit of the live service. */
    e = scitt_policy_check(a->policy, m, a->now, NULL, &d, reason, sizeof(reason));
    if (e == SCITT_ERR_EXPIRED) {
        bool lo = a->st.have && a->st.time_is_live && i >= a->st.size;
        scitt_err e2 =
            lo ? scitt_policy_check(a->policy, m, a->st.time, NULL, &d, reason, sizeof(reason))
               : SCITT_ERR_STATE;
        if (lo && e2 != SCITT_OK && e2 != SCITT_ERR_STATE) {
            audit_bad_entry(a, i, "the policy in force (entry %llu) rejects it: %s",
                            (unsigned long long)a->st.policy_index, reason);
        } else {
            audit_undecidable(a, i,
                              "a certificate is outside its validity now; whether it was valid at "
                              "registration cannot be decided from the log");
        }
    } else if (e != SCITT_OK) {
        audit_bad_entry(a, i, "the policy in force (entry %llu) rejects it: %s",
                        (unsigned long long)a->st.policy_index, reason);
    }
    scitt_free(m);
}

static void progress(audit *a, uint64_t done, uint64_t total, bool last)
{
    static struct timespec before;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - before.tv_sec) * 1000 + (now.tv_nsec - before.tv_nsec) / 1000000;
    if (!a->progress || (!last && ms < 200)) {
        return;
    }
    before = now;
    unsigned width = 40, fill = total ? (unsigned)(done * width / total) : width;
    char bar[41];
    for (unsigned i = 0; i < width; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %llu/%llu entries", bar, (unsigned long long)done,
            (unsigned long long)total);
    if (last) {
        fputc('\n', stderr);
    }
}

void audit_replay(audit *a)
{
    uint64_t m = a->st.size, n = a->new_size;
    if (a->st.have_policy && a->st.policy_text.len) {
        char reason[SCITT_POLICY_REASON_MAX];
        if (scitt_policy_parse(scitt_span_make(a->st.policy_text.ptr, a->st.policy_text.len),
                               &a->policy, reason, sizeof(reason)) != SCITT_OK) {
            audit_cannot(a,
                         "the policy saved in %s/state.cbor does not parse (%s); rerun with "
                         "--from-scratch",
                         a->state_dir, reason);
            return;
        }
    }
    scitt_span *entries = scitt_calloc(SCITT_TILE_WIDTH, sizeof(scitt_span));
    if (!entries) {
        audit_cannot(a, "out of memory");
        return;
    }
    scitt_merkle_compact c = a->st.compact;
    bool stopped = false;
    for (uint64_t t = m / SCITT_TILE_WIDTH;
         m < n && t <= (n - 1) / SCITT_TILE_WIDTH && !stopped && !a->cannot; t++) {
        unsigned w = scitt_tile_width(0, t, n);
        const cached *tile;
        if (get_tile(a, 0, t, &tile) != SCITT_OK) {
            stopped = true;
            break;
        }
        char rel[SCITT_TILE_PATH_MAX], why[600];
        scitt_dynbuf b;
        scitt_err e = scitt_tile_entries_path(t, w == SCITT_TILE_WIDTH ? 0 : w, rel, sizeof(rel));
        e = e ? e : source_get(&a->src, rel, BUNDLE_MAX, &b, why, sizeof(why));
        if (e == SCITT_OK) {
            e = bundle_split(scitt_span_make(b.ptr, b.len), w, entries);
            if (e != SCITT_OK) {
                snprintf(why, sizeof(why), "does not frame %u entries", w);
            }
        }
        if (e == SCITT_ERR_NOT_FOUND || e == SCITT_ERR_IO || e == SCITT_ERR_TIMEOUT ||
            e == SCITT_ERR_UNTRUSTED || e == SCITT_ERR_BUSY) {
            /* not served (now): the audit cannot go on, but nothing wrong was shown */
            audit_cannot(a, "%s: %s", rel, e == SCITT_ERR_NOT_FOUND ? "missing" : why);
        } else if (e != SCITT_OK) {
            audit_bad(a, (int64_t)(t * SCITT_TILE_WIDTH), "%s: %s; the replay stops here", rel,
                      e == SCITT_ERR_TOO_LARGE ? "larger than any entry bundle" : why);
        }
        if (e != SCITT_OK) {
            scitt_dynbuf_clear(&b);
            stopped = true;
            break;
        }
        uint64_t base = t * SCITT_TILE_WIDTH;
        for (uint64_t i = base > m ? base : m; i < base + w && !a->cannot; i++) {
            uint8_t leaf[SCITT_HASH_LEN];
            scitt_merkle_leaf_hash(entries[i - base], leaf);
            if (memcmp(leaf, tile->hashes[i - base], SCITT_HASH_LEN) != 0) {
                char tp[SCITT_TILE_PATH_MAX];
                if (scitt_tile_path(0, t, w == SCITT_TILE_WIDTH ? 0 : w, tp, sizeof(tp))) {
                    tp[0] = 0;
                }
                audit_bad(a, (int64_t)i, "its leaf hash differs from hash %llu of %s",
                          (unsigned long long)(i - base), tp);
            }
            if (scitt_merkle_compact_append(&c, leaf, check_node, a) != SCITT_OK) {
                audit_cannot(a, "the tree is full");
                stopped = true;
                break;
            }
            replay_entry(a, i, entries[i - base]);
            a->replayed++;
            progress(a, i + 1 - m, n - m, false);
        }
        scitt_dynbuf_clear(&b);
    }
    scitt_free(entries);
    if (m < n) {
        progress(a, a->replayed, n - m, true);
    }
    if (!stopped && !a->cannot) {
        uint8_t root[SCITT_HASH_LEN];
        scitt_merkle_compact_root(&c, root);
        if (memcmp(root, a->new_root, SCITT_HASH_LEN) != 0) {
            audit_bad(a, -1, "the %llu entries do not hash to the checkpoint's root",
                      (unsigned long long)n);
        }
    }
    /* What the next audit resumes from (saved only when the tree verified). */
    a->st.compact = c;
    a->st.size = c.size;
    memcpy(a->st.root, a->new_root, SCITT_HASH_LEN);
    a->st.entries += a->replayed;
    for (unsigned level = 0; level < AUDIT_EDGE_LEVELS; level++) {
        a->st.edge[level].len = 0;
        uint64_t per = (uint64_t)1 << (SCITT_TILE_HEIGHT * level);
        uint64_t count = level < 8 ? n / per : 0; /* hashes at this tile level */
        const cached *tile;
        if (count == 0 || get_tile(a, level, (count - 1) / SCITT_TILE_WIDTH, &tile) != SCITT_OK) {
            break;
        }
        a->st.edge_index[level] = (count - 1) / SCITT_TILE_WIDTH;
        a->st.edge_width[level] = tile->width;
        scitt_dynbuf_put(&a->st.edge[level], tile->hashes, (size_t)tile->width * SCITT_HASH_LEN);
    }
}
