/*
 * The service: opening (ledger + identity + policy in force), the check stage of registration,
 * and the service settings kept with the log.
 */
#include "service_int.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

static char *dupstr(const char *s)
{
    size_t n = strlen(s);
    char *d = scitt_malloc(n + 1);
    if (d) {
        memcpy(d, s, n + 1);
    }
    return d;
}

/* The issuer and origin are fixed at the first start: checkpoints and receipts name them. */
static scitt_err check_setting(scitt_service *s, const char *name, const char *want, char *reason,
                               size_t cap)
{
    scitt_ledger_read *r;
    scitt_err e = scitt_ledger_read_begin(s->ledger, &r);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_span have;
    e = scitt_ledger_meta_get(r, name, &have);
    bool differs = e == SCITT_OK && !scitt_span_eq_str(have, want);
    char stored[256] = "";
    if (differs) {
        snprintf(stored, sizeof(stored), "%.*s", (int)(have.len < 200 ? have.len : 200),
                 (const char *)have.ptr);
    }
    scitt_ledger_read_end(r);
    if (differs) {
        snprintf(reason, cap, "this data directory's %s is \"%s\"; it cannot change to \"%s\"",
                 name, stored, want);
        return SCITT_ERR_STATE;
    }
    if (e == SCITT_ERR_NOT_FOUND && !s->cfg.read_only && scitt_ledger_leader(s->ledger)) {
        return scitt_ledger_meta_set(s->ledger, name, scitt_span_str(want));
    }
    if (e == SCITT_ERR_NOT_FOUND && !s->cfg.read_only) {
        return SCITT_OK; /* another instance sequences: it records the setting */
    }
    return e;
}

/* Signs a statement registering the policy text: iss = the service, sub = SCITT_POLICY_SUBJECT. */
static scitt_err policy_statement(scitt_service *s, scitt_dynbuf *out)
{
    uint8_t prot[1024];
    scitt_cbor_writer pw;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(s->current);
    spec.kid = scitt_cose_key_kid(s->current);
    spec.content_type.present = true;
    spec.content_type.is_text = true;
    spec.content_type.text = scitt_span_str(SCITT_POLICY_CONTENT_TYPE);
    spec.cwt = true;
    spec.cwt_iss = scitt_span_str(s->issuer);
    spec.cwt_sub = scitt_span_str(SCITT_POLICY_SUBJECT);
    spec.cwt_has_iat = true;
    spec.cwt_iat = (int64_t)time(NULL);
    scitt_err e = scitt_cose_headers_encode(&spec, &pw);
    scitt_span pmap;
    e = e ? e : scitt_cbor_writer_finish(&pw, &pmap);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    e = e ? e
          : scitt_cose_signer_sign1(&s->sign_with, pmap, scitt_span_make(NULL, 0),
                                    scitt_policy_text(s->policy), scitt_span_make(NULL, 0), 0, &w);
    return e;
}

/* Is entry @p index a policy statement signed by us with exactly the configured text? */
static bool is_current_policy(scitt_service *s, scitt_ledger_read *r, uint64_t index)
{
    scitt_span entry;
    scitt_cose_sign1 m;
    if (scitt_ledger_entry(r, index, &entry) != SCITT_OK ||
        scitt_cose_sign1_decode(entry, 0, &m) != SCITT_OK ||
        !scitt_span_eq_str(m.hdr.cwt.sub, SCITT_POLICY_SUBJECT) ||
        !scitt_span_eq_str(m.hdr.cwt.iss, s->issuer)) {
        return false;
    }
    const scitt_cose_key *k = scitt_cose_keyset_find(s->keys, m.hdr.kid);
    return k && scitt_cose_sign1_verify(&m, k, scitt_span_make(NULL, 0), NULL) == SCITT_OK &&
           scitt_span_eq(m.payload, scitt_policy_text(s->policy));
}

/* Makes the configured policy the one in force, registering it when it changed. */
static scitt_err establish_policy(scitt_service *s, char *reason, size_t cap)
{
    scitt_ledger_read *r;
    scitt_err e = scitt_ledger_read_begin(s->ledger, &r);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_tree_head h;
    uint64_t size = 0;
    bool current = false;
    e = scitt_ledger_latest(r, &h);
    if (e == SCITT_OK) {
        size = h.size;
        s->policy_index = h.policy_index;
        current =
            h.policy_index != SCITT_LEDGER_NO_POLICY && is_current_policy(s, r, h.policy_index);
    } else if (e == SCITT_ERR_NOT_FOUND) {
        e = SCITT_OK;
    }
    scitt_ledger_read_end(r);
    if (e != SCITT_OK || current || scitt_ledger_state(s->ledger) != SCITT_OK ||
        !scitt_ledger_leader(s->ledger)) {
        return e; /* (another instance sequences: the policy in force is the one it registered) */
    }
    /* The policy of a running log changes only when the operator names the new one: starting
     * without one must not quietly put the development policy in force over another. */
    if (s->policy_index != SCITT_LEDGER_NO_POLICY && !s->cfg.policy_json.ptr) {
        snprintf(reason, cap,
                 "the policy in force (entry %llu) is not the development policy and no policy "
                 "was given: name the policy to keep, or the new one (scittd --policy FILE)",
                 (unsigned long long)s->policy_index);
        return SCITT_ERR_STATE;
    }
    scitt_dynbuf stmt;
    scitt_dynbuf_init(&stmt, 0);
    e = policy_statement(s, &stmt);
    scitt_prepared p;
    memset(&p, 0, sizeof(p));
    if (e == SCITT_OK) {
        /* The check stage is skipped: the service vouches for its own policy. */
        scitt_cose_sign1 m;
        e = scitt_cose_sign1_decode(scitt_span_make(stmt.ptr, stmt.len), 0, &m);
        if (e == SCITT_OK) {
            p.sub.entry = m.raw; /* unprotected is already the empty map */
            scitt_receipt_entry_digest(&m, p.sub.entry_id);
            scitt_receipt_leaf_hash(&m, p.sub.leaf_hash);
            p.sub.iss = m.hdr.cwt.iss;
            p.sub.sub = m.hdr.cwt.sub;
            /* a policy entry admits itself: it is the policy in force from its own index */
            p.sub.policy_index = size;
        }
    }
    scitt_ledger_result res;
    e = e ? e : scitt_ledger_append(s->ledger, &p.sub, &res);
    if (e == SCITT_OK) {
        s->policy_index = res.index;
    } else {
        snprintf(reason, cap, "cannot register the registration policy: %s", scitt_err_str(e));
    }
    scitt_dynbuf_clear(&stmt);
    return e;
}

/*
 * A follower's view of the settings and policy the sequencing instance recorded: @p ready once the
 * issuer, the origin and a policy in force are in the log. What this instance was given must be
 * what is recorded (the same issuer, origin and policy text, and its keys must verify the newest
 * signed head): otherwise it refuses with @p reason, as it would with a data directory of its own.
 */
static scitt_err follow_settings(scitt_service *s, bool *ready, char *reason, size_t cap)
{
    *ready = false;
    scitt_ledger_read *r;
    scitt_err e = scitt_ledger_read_begin(s->ledger, &r);
    if (e != SCITT_OK) {
        return e;
    }
    const char *names[2] = {"issuer", "origin"};
    const char *want[2] = {s->issuer, s->origin};
    bool recorded = true;
    for (int i = 0; e == SCITT_OK && i < 2; i++) {
        scitt_span have;
        scitt_err g = scitt_ledger_meta_get(r, names[i], &have);
        if (g == SCITT_ERR_NOT_FOUND) {
            recorded = false;
        } else if (g != SCITT_OK) {
            e = g;
        } else if (!scitt_span_eq_str(have, want[i])) {
            snprintf(reason, cap,
                     "the log's %s is \"%.*s\" (recorded by the sequencing instance); this "
                     "instance was given \"%s\": every instance must run the same settings",
                     names[i], (int)(have.len < 200 ? have.len : 200), (const char *)have.ptr,
                     want[i]);
            e = SCITT_ERR_STATE;
        }
    }
    scitt_tree_head h;
    scitt_err g = e == SCITT_OK && recorded ? scitt_ledger_latest(r, &h) : SCITT_ERR_NOT_FOUND;
    if (e == SCITT_OK && g != SCITT_OK && g != SCITT_ERR_NOT_FOUND) {
        e = g;
    }
    if (e == SCITT_OK && g == SCITT_OK && h.policy_index != SCITT_LEDGER_NO_POLICY) {
        if (s->signer.verify && s->signer.verify(s->signer.ctx, &h) != SCITT_OK) {
            snprintf(reason, cap,
                     "the log's newest tree head (size %llu) does not verify under this "
                     "instance's service keys: every instance must hold the same keystore (copy "
                     "service-keys from the instance that made it)",
                     (unsigned long long)h.size);
            e = SCITT_ERR_STATE;
        } else if (!is_current_policy(s, r, h.policy_index)) {
            snprintf(reason, cap,
                     "the policy in force (entry %llu) is not this instance's policy: every "
                     "instance must run the same policy (--policy)",
                     (unsigned long long)h.policy_index);
            e = SCITT_ERR_STATE;
        } else {
            s->policy_index = h.policy_index;
            *ready = true;
        }
    }
    scitt_ledger_read_end(r);
    return e;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * Several instances on one database (docs/ha.md): the instance holding the lease records the
 * settings and registers the policy; the others wait until they are in the log and adopt them, or
 * refuse (follow_settings). Instances started together on an empty database thus end with one
 * issuer, one origin and one policy entry, whichever took the lease. One that takes the lease
 * while it waits (the first holder died before recording them) records them itself; a holder that
 * loses the lease while recording (its write fenced) waits like the others. Bounded: five leases,
 * at least 10 s.
 */
static scitt_err settle_shared(scitt_service *s, char *reason, size_t cap)
{
    double wait_s = 5.0 * s->cfg.lease_ms / 1000.0;
    double until = mono_s() + (wait_s > 10 ? wait_s : 10);
    for (;;) {
        scitt_err e;
        if (scitt_ledger_leader(s->ledger)) {
            reason[0] = 0;
            e = check_setting(s, "issuer", s->issuer, reason, cap);
            e = e ? e : check_setting(s, "origin", s->origin, reason, cap);
            e = e ? e : establish_policy(s, reason, cap);
            bool settled = e == SCITT_OK && s->policy_index != SCITT_LEDGER_NO_POLICY;
            if (settled || scitt_ledger_state(s->ledger) != SCITT_OK ||
                (e != SCITT_OK && scitt_ledger_leader(s->ledger))) {
                return e;
            }
            /* deposed while writing them: follow (a refusal of the settings recurs there) */
        }
        bool ready = false;
        reason[0] = 0;
        e = follow_settings(s, &ready, reason, cap);
        if (e != SCITT_OK || ready) {
            return e;
        }
        if (scitt_ledger_state(s->ledger) != SCITT_OK) {
            return SCITT_OK; /* refusing writes already (a rollback): served read-only, logged */
        }
        if (mono_s() > until) {
            snprintf(reason, cap,
                     "no instance recorded the log's settings and policy in the database within "
                     "%.0f s (is another instance holding the lease but unable to write?)",
                     wait_s > 10 ? wait_s : 10);
            return SCITT_ERR_BUSY;
        }
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

/* The auditor index values of a stored statement, for rebuilding the index from the log. */
static scitt_err entry_index_values(void *ctx, scitt_span entry, scitt_span *iss, scitt_span *sub,
                                    scitt_span *digest, uint8_t storage[64])
{
    (void)ctx;
    scitt_cose_sign1 m;
    scitt_err e = scitt_cose_sign1_decode(entry, 0, &m);
    if (e != SCITT_OK) {
        return e;
    }
    *iss = m.hdr.cwt.iss;
    *sub = m.hdr.cwt.sub;
    if (m.hdr.prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) {
        *digest = m.payload;
    } else if (!m.detached) {
        scitt_sha256(m.payload.ptr, m.payload.len, storage);
        *digest = scitt_span_make(storage, SCITT_SHA256_LEN);
    }
    return SCITT_OK;
}

scitt_err scitt_service_open(const scitt_service_config *cfg, scitt_service **out, char *reason,
                             size_t cap)
{
    *out = NULL;
    snprintf(reason, cap, "%s", "");
    if (!cfg->data_dir || (!cfg->read_only && !cfg->keystore)) {
        snprintf(reason, cap, "a data directory and a keystore are required");
        return SCITT_ERR_INVALID_ARG;
    }
    if (!cfg->read_only && mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(reason, cap, "cannot create %s: %s", cfg->data_dir, strerror(errno));
        return SCITT_ERR_IO;
    }
    scitt_service *s = scitt_calloc(1, sizeof(*s));
    if (!s) {
        snprintf(reason, cap, "out of memory");
        return SCITT_ERR_NOMEM;
    }
    s->cfg = *cfg;
    s->policy_index = SCITT_LEDGER_NO_POLICY;
    s->issuer = dupstr(cfg->issuer ? cfg->issuer : "scittd.local");
    s->origin = dupstr(cfg->origin ? cfg->origin : (cfg->issuer ? cfg->issuer : "scittd.local"));
    scitt_err e = s->issuer && s->origin ? SCITT_OK : SCITT_ERR_NOMEM;
    if (e == SCITT_OK && (!scitt_note_name_valid(scitt_span_str(s->origin)) ||
                          !scitt_utf8_valid(scitt_span_str(s->issuer)) || !s->issuer[0])) {
        snprintf(reason, cap,
                 "the origin must be a valid checkpoint key name (no spaces or '+')"
                 " and the issuer non-empty UTF-8");
        e = SCITT_ERR_INVALID_ARG;
    }
    if (e == SCITT_OK && !cfg->read_only) {
        if (cfg->policy_json.ptr) {
            e = scitt_policy_parse(cfg->policy_json, &s->policy, reason, cap);
        } else {
            e = scitt_policy_development(&s->policy);
        }
        e = e ? e : scitt_key_cache_new(4096, &s->cache);
        e = e ? e : scitt__identity_load(s, reason, cap);
    }
    if (e == SCITT_OK) {
        scitt__identity_signer(s, &s->signer);
        scitt_ledger_config lc;
        memset(&lc, 0, sizeof(lc));
        lc.dir = cfg->data_dir;
        lc.storage = cfg->storage;
        lc.map_size = cfg->map_size;
        lc.map_size_max = cfg->map_size_max;
        lc.batch_max = cfg->batch_max;
        lc.batch_delay_ms = cfg->batch_delay_ms;
        lc.max_entry = s->policy ? scitt_policy_max_bytes(s->policy) : 0;
        lc.read_only = cfg->read_only;
        lc.signer = cfg->read_only ? NULL : &s->signer;
        lc.index_values = entry_index_values;
        if (cfg->storage && cfg->lease_ms > 0 && !cfg->read_only) {
            /* the instances share the note seed with the service keys: the queue's MAC key is
             * derived from it, so the database cannot queue entries of its own */
            uint8_t in[32 + SCITT_NOTE_ED25519_KEY_LEN];
            memset(in, 0, 32);
            memcpy(in, "scitt queue key v1", 18);
            memcpy(in + 32, s->note_seed, sizeof(s->note_seed));
            scitt_sha256(in, sizeof(in), s->queue_key);
            scitt_wipe(in, sizeof(in));
            snprintf(s->head_file, sizeof(s->head_file), "%s/signed-head", cfg->data_dir);
            lc.lease_ms = cfg->lease_ms;
            lc.holder = cfg->holder;
            lc.queue_key = s->queue_key;
            lc.head_file = s->head_file;
        }
        e = scitt_ledger_open(&lc, &s->ledger);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "cannot open the ledger in %s: %s",
                     cfg->storage ? "the PostgreSQL database" : cfg->data_dir, scitt_err_str(e));
        }
    }
    if (e == SCITT_OK && cfg->storage && cfg->lease_ms > 0 && !cfg->read_only) {
        e = settle_shared(s, reason, cap);
    } else {
        e = e ? e : check_setting(s, "issuer", s->issuer, reason, cap);
        e = e ? e : check_setting(s, "origin", s->origin, reason, cap);
        if (e == SCITT_OK && !cfg->read_only) {
            e = establish_policy(s, reason, cap);
        }
    }
    if (e != SCITT_OK) {
        /* every failure says what failed, never "ok" (a step that left no reason of its own) */
        if (!reason[0] || strcmp(reason, "ok") == 0) {
            snprintf(reason, cap, "cannot open the service in %s: %s", cfg->data_dir,
                     scitt_err_str(e));
        }
        scitt_service_close(s);
        return e;
    }
    snprintf(reason, cap, "ok");
    *out = s;
    return SCITT_OK;
}

void scitt_service_close(scitt_service *s)
{
    if (!s) {
        return;
    }
    scitt_ledger_close(s->ledger);
    scitt_policy_free(s->policy);
    scitt_key_cache_free(s->cache);
    scitt__identity_clear(s);
    scitt_wipe(s->queue_key, sizeof(s->queue_key));
    scitt_free(s->issuer);
    scitt_free(s->origin);
    scitt_free(s);
}

scitt_ledger *scitt_service_ledger(scitt_service *s)
{
    return s->ledger;
}

const scitt_policy *scitt_service_policy(const scitt_service *s)
{
    return s->policy;
}

uint64_t scitt_service_policy_index(const scitt_service *s)
{
    return s->policy_index;
}

const char *scitt_service_issuer(const scitt_service *s)
{
    return s->issuer;
}

const char *scitt_service_origin(const scitt_service *s)
{
    return s->origin;
}

const scitt_cose_key *scitt_service_receipt_key(const scitt_service *s)
{
    return s->current;
}

const scitt_cose_keyset *scitt_service_keys(const scitt_service *s)
{
    return s->keys;
}

const char *scitt_service_vkey(const scitt_service *s)
{
    return s->vkey;
}

scitt_span scitt_service_identity(const scitt_service *s)
{
    return scitt_span_make(s->identity, s->identity_len);
}

void scitt_service_identity_hash(const scitt_service *s, uint8_t out[SCITT_SHA256_LEN])
{
    scitt_sha256(s->identity, s->identity_len, out);
}

/*
 * The service's own subjects (the policy statements, and any it adds) belong to the service: an
 * auditor treats an entry under one as the service's word, so a registrant must not be able to
 * log one, whatever kid it names. Only a statement that verifies under a service key passes.
 */
static scitt_err check_reserved(scitt_service *s, const scitt_cose_sign1 *m, char *reason,
                                size_t cap)
{
    static const char prefix[] = SCITT_RESERVED_SUBJECT_PREFIX;
    scitt_span sub = m->hdr.cwt.sub;
    if (sub.len < sizeof(prefix) - 1 || memcmp(sub.ptr, prefix, sizeof(prefix) - 1) != 0) {
        return SCITT_OK;
    }
    const scitt_cose_key *k = m->hdr.kid.len ? scitt_cose_keyset_find(s->keys, m->hdr.kid) : NULL;
    if (k && scitt_cose_sign1_verify(m, k, scitt_span_make(NULL, 0), NULL) == SCITT_OK) {
        return SCITT_OK;
    }
    snprintf(reason, cap,
             "CWT sub \"%.*s\" is reserved: subjects starting with \"%s\" are for statements "
             "signed by this service's receipt key",
             (int)(sub.len < 64 ? sub.len : 64), (const char *)sub.ptr, prefix);
    for (char *c = reason; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
    return SCITT_ERR_POLICY;
}

scitt_err scitt_service_check(scitt_service *s, scitt_span statement, scitt_prepared *out,
                              char *reason, size_t cap)
{
    memset(out, 0, sizeof(*out));
    if (!s->policy) {
        snprintf(reason, cap, "the service is read-only");
        return SCITT_ERR_STATE;
    }
    scitt_cose_sign1 m;
    scitt_err e = scitt_cose_sign1_decode(statement, 0, &m);
    if (e != SCITT_OK) {
        snprintf(reason, cap, "not a valid COSE_Sign1: %s", scitt_err_str(e));
        return e;
    }
    /* The registered form first: the decision is taken on exactly the bytes the log will keep
     * (the unprotected header emptied), decoded again, so no rule can see a parameter that the
     * log, and an auditor replaying the decision, never will. */
    size_t elen = scitt_receipt_entry_len(&m);
    out->buf = scitt_malloc(elen + SCITT_SHA256_LEN);
    if (!out->buf) {
        return SCITT_ERR_NOMEM;
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, out->buf, elen);
    e = scitt_receipt_entry(&m, &w);
    scitt_span entry = scitt_span_make(out->buf, elen);
    e = e ? e : scitt_cose_sign1_decode(entry, 0, &m);
    if (e != SCITT_OK) {
        snprintf(reason, cap, "the registered form does not decode: %s", scitt_err_str(e));
        scitt_prepared_clear(out);
        return e;
    }
    e = check_reserved(s, &m, reason, cap);
    if (e != SCITT_OK) {
        scitt_prepared_clear(out);
        out->title = "Reserved Subject";
        return e;
    }
    scitt_policy_decision d;
    e = scitt_policy_check(s->policy, &m, (int64_t)time(NULL), s->cache, &d, reason, cap);
    if (e != SCITT_OK) {
        scitt_prepared_clear(out);
        out->title = d.title;
        return e;
    }
    /* iss, sub and an envelope's digest point into the entry; a payload's SHA-256 is copied. */
    out->sub.entry = entry;
    out->sub.iss = d.iss;
    out->sub.sub = d.sub;
    out->sub.digest = d.digest;
    if (d.digest.ptr == d.payload_sha256) {
        memcpy(out->buf + elen, d.payload_sha256, SCITT_SHA256_LEN);
        out->sub.digest = scitt_span_make(out->buf + elen, SCITT_SHA256_LEN);
    }
    scitt_receipt_entry_digest(&m, out->sub.entry_id);
    scitt_receipt_leaf_hash(&m, out->sub.leaf_hash);
    out->sub.policy_index = s->policy_index;
    return SCITT_OK;
}

void scitt_prepared_clear(scitt_prepared *p)
{
    scitt_free(p->buf);
    memset(p, 0, sizeof(*p));
}

scitt_err scitt_service_submit(scitt_service *s, const scitt_prepared *p, scitt_ledger_done done,
                               void *ctx)
{
    return scitt_ledger_submit(s->ledger, &p->sub, done, ctx);
}

void scitt_entry_id_hex(const uint8_t id[SCITT_HASH_LEN], char out[2 * SCITT_HASH_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < SCITT_HASH_LEN; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[2 * SCITT_HASH_LEN] = '\0';
}

scitt_err scitt_entry_id_parse(scitt_span hex, uint8_t id[SCITT_HASH_LEN])
{
    if (hex.len != 2 * SCITT_HASH_LEN) {
        return SCITT_ERR_MALFORMED;
    }
    for (size_t i = 0; i < hex.len; i++) {
        uint8_t c = hex.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return SCITT_ERR_MALFORMED;
        }
    }
    size_t n;
    return scitt_hex_decode(hex, id, SCITT_HASH_LEN, &n);
}
