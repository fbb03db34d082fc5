/*
 * The admission check of the registration policy, and the cache of keys parsed from
 * certificates. Checks run in the order of increasing cost: profile and header rules, issuer
 * match, key resolution, path validation, then the signature.
 */
#include "policy_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "scitt/attest.h"
#include "scitt/dcap.h"
#include "scitt/limits.h"
#include "scitt/receipt.h"

/* ------------------------------------------------------------------------------------------ */

/*
 * One cache for two kinds of entries, told apart by how their 32-byte name is made:
 *  - keys parsed from a certificate, named by the certificate's SHA-256 (scitt_key_cache_get);
 *  - validation results, named by scitt__policy_cache_key: the leaf's key, stored after the
 *    chain was validated under a rule, with the instants [from, until) at which that validation
 *    holds (scitt_x509_time_window). A hit outside the window is a miss.
 * Only successes are stored: a refusal is always decided afresh.
 *
 * Set-associative: an entry can sit in any of WAYS slots of its set, and a miss evicts the least
 * recently used of them. (A direct-mapped table of 4,096 slots made about a fifth of a fleet of
 * 1,000 signers evict each other on every request.)
 */
#define WAYS 8

typedef struct cache_slot {
    uint8_t hash[SCITT_SHA256_LEN];
    uint64_t used; /* tick of the last hit; 0: empty */
    int64_t from, until;
    scitt_cose_key *key;
} cache_slot;

struct scitt_key_cache {
    pthread_mutex_t mu;
    size_t sets_mask;
    uint64_t tick;
    uint64_t hits;     /* look-ups that found an entry holding at their instant */
    cache_slot *slots; /* (sets_mask + 1) * WAYS */
};

scitt_err scitt_key_cache_new(size_t capacity, scitt_key_cache **out)
{
    *out = NULL;
    size_t sets = 4;
    while (sets * WAYS < capacity && sets < (1u << 18)) {
        sets *= 2;
    }
    scitt_key_cache *c = scitt_calloc(1, sizeof(*c));
    cache_slot *slots = scitt_calloc(sets * WAYS, sizeof(*slots));
    if (!c || !slots) {
        scitt_free(c);
        scitt_free(slots);
        return SCITT_ERR_NOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->sets_mask = sets - 1;
    c->slots = slots;
    *out = c;
    return SCITT_OK;
}

void scitt_key_cache_free(scitt_key_cache *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < (c->sets_mask + 1) * WAYS; i++) {
        scitt_cose_key_free(c->slots[i].key);
    }
    pthread_mutex_destroy(&c->mu);
    scitt_free(c->slots);
    scitt_free(c);
}

static cache_slot *set_of(scitt_key_cache *c, const uint8_t h[SCITT_SHA256_LEN])
{
    uint64_t at = 0;
    memcpy(&at, h, sizeof(at));
    return &c->slots[(at & c->sets_mask) * WAYS];
}

/* The key of entry @p h when the entry holds at @p at: a new reference, else NULL. */
static scitt_cose_key *cache_find(scitt_key_cache *c, const uint8_t h[SCITT_SHA256_LEN], int64_t at)
{
    cache_slot *set = set_of(c, h);
    scitt_cose_key *k = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t w = 0; w < WAYS; w++) {
        if (set[w].key && memcmp(set[w].hash, h, SCITT_SHA256_LEN) == 0) {
            if (set[w].from <= at && at < set[w].until) {
                c->hits++;
                set[w].used = ++c->tick;
                k = scitt_cose_key_ref(set[w].key);
            }
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return k;
}

/* Stores (or replaces) entry @p h: @p key (a reference is taken) holds at [from, until). */
static void cache_put(scitt_key_cache *c, const uint8_t h[SCITT_SHA256_LEN], int64_t from,
                      int64_t until, scitt_cose_key *key)
{
    cache_slot *set = set_of(c, h);
    pthread_mutex_lock(&c->mu);
    cache_slot *victim = &set[0];
    for (size_t w = 0; w < WAYS; w++) {
        if (set[w].key && memcmp(set[w].hash, h, SCITT_SHA256_LEN) == 0) {
            victim = &set[w]; /* another thread stored it meanwhile, or its window ended */
            break;
        }
        if (set[w].used < victim->used) {
            victim = &set[w];
        }
    }
    scitt_cose_key *old = victim->key;
    memcpy(victim->hash, h, SCITT_SHA256_LEN);
    victim->used = ++c->tick;
    victim->from = from;
    victim->until = until;
    victim->key = scitt_cose_key_ref(key);
    pthread_mutex_unlock(&c->mu);
    scitt_cose_key_free(old);
}

scitt_err scitt_key_cache_get(scitt_key_cache *c, scitt_span cert, scitt_cose_key **out)
{
    uint8_t h[SCITT_SHA256_LEN];
    scitt_sha256(cert.ptr, cert.len, h);
    *out = cache_find(c, h, 0);
    if (*out) {
        return SCITT_OK;
    }
    /* Parsing happens outside the lock. */
    scitt_cose_key *k;
    scitt_err e = scitt_cose_key_from_cert_der(cert, &k);
    if (e != SCITT_OK) {
        return e;
    }
    cache_put(c, h, INT64_MIN, INT64_MAX, k);
    *out = k;
    return SCITT_OK;
}

uint64_t scitt__key_cache_hits(scitt_key_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t n = c->hits;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static void put_u64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

bool scitt__policy_cache_key(const uint8_t rule_digest[SCITT_SHA256_LEN], bool time_check,
                             scitt_span iss, const scitt_span *chain, size_t n,
                             uint8_t out[SCITT_SHA256_LEN])
{
    if (n > SCITT_LIMIT_X5CHAIN_CERTS) {
        return false;
    }
    /* Every variable-length part is preceded by its length, so that no two different inputs
     * read as the same byte string. */
    static const char tag[] = "scittd policy validation v1";
    scitt_span parts[6 + 2 * SCITT_LIMIT_X5CHAIN_CERTS];
    uint8_t lens[1 + SCITT_LIMIT_X5CHAIN_CERTS][8], counts[8], flag = time_check ? 1 : 0;
    size_t np = 0;
    parts[np++] = scitt_span_make(tag, sizeof(tag)); /* with its NUL */
    parts[np++] = scitt_span_make(rule_digest, SCITT_SHA256_LEN);
    parts[np++] = scitt_span_make(&flag, 1);
    put_u64(lens[0], iss.len);
    parts[np++] = scitt_span_make(lens[0], 8);
    parts[np++] = iss;
    put_u64(counts, n);
    parts[np++] = scitt_span_make(counts, 8);
    for (size_t i = 0; i < n; i++) {
        put_u64(lens[1 + i], chain[i].len);
        parts[np++] = scitt_span_make(lens[1 + i], 8);
        parts[np++] = chain[i];
    }
    scitt_sha256_v(parts, np, out);
    return true;
}

/* ------------------------------------------------------------------------------------------ */

static bool text_in(scitt_span s, char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (scitt_span_eq_str(s, list[i])) {
            return true;
        }
    }
    return false;
}

/* Content type (or preimage type) against an allow-list; uint CoAP formats compare as decimal. */
static bool type_allowed(const scitt_cose_uint_or_text *t, char *const *list, size_t n)
{
    if (!t->present) {
        return false;
    }
    if (t->is_text) {
        return text_in(t->text, list, n);
    }
    char dec[24];
    snprintf(dec, sizeof(dec), "%llu", (unsigned long long)t->num);
    return text_in(scitt_span_str(dec), list, n);
}

static bool rule_matches(const rule *r, scitt_span iss)
{
    if (r->iss) {
        return scitt_span_eq_str(iss, r->iss);
    }
    if (r->iss_prefix) {
        size_t n = strlen(r->iss_prefix);
        return iss.len >= n && memcmp(iss.ptr, r->iss_prefix, n) == 0;
    }
    return r->did_x509 && iss.len > 9 && memcmp(iss.ptr, "did:x509:", 9) == 0;
}

static size_t digest_len(int64_t alg)
{
    switch (alg) {
    case SCITT_COSE_ALG_SHA256:
        return 32;
    case SCITT_COSE_ALG_SHA384:
        return 48;
    case SCITT_COSE_ALG_SHA512:
        return 64;
    default:
        return 0;
    }
}

/* CWT exp and nbf (RFC 8392) at @p now, with the policy's clock skew either way. */
static scitt_err check_validity(const scitt_policy *p, const scitt_cose_cwt *c, int64_t now,
                                scitt_policy_decision *d, char *reason, size_t cap)
{
    if (c->has_exp && c->exp <= now - p->clock_skew) {
        d->title = "Statement Expired";
        scitt__policy_say(
            reason, cap,
            "the statement expired at %lld (CWT exp), %llu s before registration; the "
            "registration policy allows %lld s of clock skew",
            (long long)c->exp, (unsigned long long)((uint64_t)now - (uint64_t)c->exp),
            (long long)p->clock_skew);
        return SCITT_ERR_EXPIRED;
    }
    if (c->has_nbf && c->nbf > now + p->clock_skew) {
        d->title = "Statement Not Yet Valid";
        scitt__policy_say(
            reason, cap,
            "the statement is not valid before %lld (CWT nbf), %llu s after registration; the "
            "registration policy allows %lld s of clock skew",
            (long long)c->nbf, (unsigned long long)((uint64_t)c->nbf - (uint64_t)now),
            (long long)p->clock_skew);
        return SCITT_ERR_EXPIRED;
    }
    return SCITT_OK;
}

/* The claims, algorithm, payload and content-type rules: everything but the key. */
static scitt_err check_rules(const scitt_policy *p, const scitt_cose_sign1 *m, int64_t now,
                             scitt_policy_decision *d, char *reason, size_t cap)
{
    const scitt_cose_headers *h = &m->hdr;
    bool alg_ok = false;
    for (size_t i = 0; i < p->nalgs; i++) {
        alg_ok = alg_ok || p->algs[i] == h->alg;
    }
    if (!alg_ok) {
        const char *name = scitt_cose_alg_name(h->alg);
        scitt__policy_say(reason, cap,
                          "algorithm %s (%lld) is not accepted by the registration policy",
                          name ? name : "unknown", (long long)h->alg);
        return SCITT_ERR_ALG;
    }
    if ((p->need_iat && !h->cwt.has_iat) || (p->need_nbf && !h->cwt.has_nbf) ||
        (p->need_exp && !h->cwt.has_exp)) {
        scitt__policy_say(
            reason, cap, "a CWT claim the registration policy requires (%s) is missing",
            p->need_iat && !h->cwt.has_iat ? "iat"
                                           : (p->need_nbf && !h->cwt.has_nbf ? "nbf" : "exp"));
        return SCITT_ERR_POLICY;
    }
    scitt_err e = check_validity(p, &h->cwt, now, d, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    if (m->detached) {
        scitt__policy_say(
            reason, cap,
            "the payload is detached: register an attached payload or a hash envelope");
        return SCITT_ERR_PAYLOAD_MISSING;
    }
    if (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) {
        size_t want = digest_len(h->payload_hash_alg);
        if (want == 0 || m->payload.len != want) {
            scitt__policy_say(
                reason, cap,
                "hash envelope payload is %zu bytes, its hash algorithm %lld needs %zu",
                m->payload.len, (long long)h->payload_hash_alg, want);
            return SCITT_ERR_HEADER;
        }
        if (p->have_ptypes && !type_allowed(&h->preimage_content_type, p->ptypes, p->nptypes)) {
            scitt__policy_say(
                reason, cap,
                "preimage content type (259) is not accepted by the registration policy");
            return SCITT_ERR_POLICY;
        }
        d->digest = m->payload;
    } else {
        if (p->have_ctypes && !type_allowed(&h->content_type, p->ctypes, p->nctypes)) {
            scitt__policy_say(reason, cap,
                              "content type (3) is not accepted by the registration policy");
            return SCITT_ERR_POLICY;
        }
        scitt_sha256(m->payload.ptr, m->payload.len, d->payload_sha256);
        d->digest = scitt_span_make(d->payload_sha256, SCITT_SHA256_LEN);
    }
    return SCITT_OK;
}

/* bind_iss did_x509: the statement's iss is a did:x509 that resolves against the chain. */
static scitt_err bind_iss_did(const scitt_cose_headers *h, const scitt_x509_time *when,
                              char *reason, size_t cap)
{
    const char *why = NULL;
    scitt_err e = scitt_didx509_resolve(h->cwt.iss, h->x5chain, h->nx5chain, when, NULL, &why);
    if (e != SCITT_OK) {
        scitt__policy_say(reason, cap,
                          "iss must be a did:x509 of the x5chain (bind_iss), and is not: %s",
                          why ? why : scitt_err_str(e));
    }
    return e;
}

/* The x5chain under a did_x509 or x509_roots rule: did:x509 resolution, path validation to the
 * rule's roots, the leaf's purpose and the iss binding, at @p when. */
static scitt_err validate_chain(const rule *r, const scitt_cose_headers *h,
                                const scitt_x509_time *when, char *reason, size_t cap)
{
    const char *why = NULL;
    scitt_err e = SCITT_OK;
    if (r->did_x509) {
        e = scitt_didx509_resolve(h->cwt.iss, h->x5chain, h->nx5chain, when, NULL, &why);
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap,
                              "did:x509 issuer does not resolve against the x5chain: %s",
                              why ? why : scitt_err_str(e));
            return e;
        }
    }
    if (r->roots) {
        /* A certificate under the roots is not enough: it must be one for signing code (or for
         * what the rule names), and, when the rule says so, for this iss. The leaf rules run on
         * the certificate path validation parsed. */
        scitt_x509_leaf_rules leaf = {true, (const char *const *)r->ekus, r->nekus,
                                      r->bind == BIND_SAN_URI ? h->cwt.iss
                                                              : scitt_span_make(NULL, 0)};
        e = scitt_x509_verify_chain_leaf(r->roots, h->x5chain, h->nx5chain, when, &leaf, &why);
        if (e == SCITT_ERR_POLICY) {
            scitt__policy_say(reason, cap, "x5chain leaf: %s", why ? why : scitt_err_str(e));
            return e;
        }
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap, "x5chain does not validate to the policy's roots: %s",
                              why ? why : scitt_err_str(e));
            return e;
        }
        if (r->bind == BIND_DID_X509) {
            e = bind_iss_did(h, when, reason, cap);
        }
    }
    return e;
}

/*
 * The leaf's key once the chain validates under @p r at @p when. With a cache, a validation that
 * succeeded is remembered under everything it depended on (scitt__policy_cache_key) with the
 * instants at which it holds, so that the next statement with the same chain, iss and rule only
 * hashes them and compares the instant.
 */
static scitt_err validated_key(const rule *r, const scitt_cose_headers *h,
                               const scitt_x509_time *when, scitt_key_cache *cache,
                               scitt_cose_key **key, char *reason, size_t cap)
{
    uint8_t name[SCITT_SHA256_LEN];
    bool cached = cache && scitt__policy_cache_key(r->digest, when->check, h->cwt.iss, h->x5chain,
                                                   h->nx5chain, name);
    int64_t at = when->check ? when->at : 0;
    if (cached && (*key = cache_find(cache, name, at)) != NULL) {
        return SCITT_OK;
    }
    scitt_err e = validate_chain(r, h, when, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt_cose_key_from_cert_der(h->x5chain[0], key);
    if (e != SCITT_OK) {
        scitt__policy_say(reason, cap, "the x5chain leaf certificate's key cannot be used: %s",
                          scitt_err_str(e));
        return e;
    }
    int64_t from = INT64_MIN, until = INT64_MAX;
    if (cached && when->check &&
        scitt_x509_time_window(r->roots, h->x5chain, h->nx5chain, when->at, &from, &until) !=
            SCITT_OK) {
        cached = false; /* a bound that does not convert: decide afresh every time */
    }
    if (cached) {
        cache_put(cache, name, from, until, *key);
    }
    return SCITT_OK;
}

/* Picks the key that must have signed: pinned by kid, or the x5chain leaf (validated). */
static scitt_err resolve_key(const scitt_policy *p, const rule *r, const scitt_cose_sign1 *m,
                             int64_t now, scitt_key_cache *cache, scitt_cose_key **key,
                             char *reason, size_t cap)
{
    const scitt_cose_headers *h = &m->hdr;
    if (r->keys) {
        const scitt_cose_key *k = h->kid.len ? scitt_cose_keyset_find(r->keys, h->kid) : NULL;
        if (!k) {
            scitt__policy_say(reason, cap, "no key pinned for this issuer has the statement's kid");
            return SCITT_ERR_UNTRUSTED;
        }
        *key = scitt_cose_key_ref((scitt_cose_key *)k);
        return SCITT_OK;
    }
    if (!(h->prot & SCITT_COSE_H_X5CHAIN) || h->nx5chain == 0) {
        scitt__policy_say(reason, cap, "this issuer's rule needs a protected x5chain (33)");
        return SCITT_ERR_UNTRUSTED;
    }
    scitt_x509_time when = scitt_x509_time_none();
    if (p->tmode == TIME_REGISTRATION) {
        when = scitt_x509_time_at(now);
    } else if (p->tmode == TIME_IAT) {
        if (!h->cwt.has_iat) {
            scitt__policy_say(reason, cap,
                              "the policy checks certificates at iat, and the statement has none");
            return SCITT_ERR_POLICY;
        }
        when = scitt_x509_time_at(h->cwt.iat);
    }
    if (r->did_x509 || r->roots) {
        return validated_key(r, h, &when, cache, key, reason, cap);
    }
    /* self_signed: the leaf's key, no validation */
    scitt_err e = cache ? scitt_key_cache_get(cache, h->x5chain[0], key)
                        : scitt_cose_key_from_cert_der(h->x5chain[0], key);
    if (e != SCITT_OK) {
        scitt__policy_say(reason, cap, "the x5chain leaf certificate's key cannot be used: %s",
                          scitt_err_str(e));
    }
    return e;
}

/*
 * "Receipt instead of a hash": the statement's measurement (its hash-envelope payload) must be
 * endorsed by a transparent statement, carried in the protected header so the log keeps it for
 * replay, from a configured issuer, signed by one of its keys, about the same digest with the
 * same hash algorithm, with a receipt from a trusted transparency service.
 */
static scitt_err check_endorsement(const endorsement_rule *en, const scitt_cose_sign1 *m,
                                   char *reason, size_t cap)
{
    const scitt_cose_headers *h = &m->hdr;
    if (!(h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG)) {
        scitt__policy_say(reason, cap,
                          "this issuer's statements must be measurement hash envelopes");
        return SCITT_ERR_POLICY;
    }
    const scitt_cose_param *prm = scitt_cose_headers_find_text(h, ENDORSEMENT_LABEL);
    scitt_cbor_reader r;
    scitt_span ts = {NULL, 0};
    if (prm && prm->bucket == SCITT_COSE_PROTECTED) {
        scitt_cbor_reader_init(&r, prm->value);
        if (scitt_cbor_read_bytes(&r, &ts) != SCITT_OK) {
            ts.len = 0;
        }
    }
    if (ts.len == 0) {
        scitt__policy_say(
            reason, cap,
            "the measurement needs an endorsing transparent statement in the protected "
            "header (\"" ENDORSEMENT_LABEL "\")");
        return SCITT_ERR_POLICY;
    }
    scitt_cose_sign1 *es = scitt_malloc(sizeof(*es));
    if (!es) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt_cose_sign1_decode(ts, 0, es);
    bool issuer_ok = false;
    for (size_t i = 0; e == SCITT_OK && i < en->nissuers; i++) {
        issuer_ok = issuer_ok || scitt_span_eq_str(es->hdr.cwt.iss, en->issuers[i]);
    }
    if (e != SCITT_OK) {
        scitt__policy_say(reason, cap, "the endorsement is not a valid COSE_Sign1: %s",
                          scitt_err_str(e));
    } else if (!issuer_ok) {
        scitt__policy_say(reason, cap, "the endorsement's issuer is not one the policy trusts");
        e = SCITT_ERR_POLICY;
    } else if (!(es->hdr.prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) ||
               es->hdr.payload_hash_alg != h->payload_hash_alg || es->detached ||
               !scitt_span_eq(es->payload, m->payload)) {
        scitt__policy_say(reason, cap, "the endorsement is not about this measurement");
        e = SCITT_ERR_POLICY;
    }
    if (e == SCITT_OK) {
        const scitt_cose_key *k =
            es->hdr.kid.len ? scitt_cose_keyset_find(en->issuer_keys, es->hdr.kid) : NULL;
        e = k ? scitt_cose_sign1_verify(es, k, scitt_span_make(NULL, 0), NULL)
              : SCITT_ERR_UNTRUSTED;
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap, "the endorsement's signature: %s", scitt_err_str(e));
        }
    }
    if (e == SCITT_OK) {
        e = scitt_receipt_verify_transparent(ts, en->receipt_keys, SCITT_TS_ANY, NULL);
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap,
                              "the endorsement has no receipt from a trusted service: %s",
                              scitt_err_str(e));
        }
    }
    scitt_free(es);
    return e;
}

/* ---- TDX / SGX measurement statements ------------------------------------------------------ */

/* The encoded value of the text-keyed claim @p key in the protected CWT claims; empty if none. */
static scitt_span cwt_claim(const scitt_cose_headers *h, const char *key)
{
    scitt_span none = {NULL, 0};
    if (!(h->prot & SCITT_COSE_H_CWT) || h->cwt.raw.len == 0) {
        return none;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, h->cwt.raw);
    size_t n = 0;
    if (scitt_cbor_read_map(&r, &n) != SCITT_OK) {
        return none;
    }
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_item it;
        scitt_span k = {NULL, 0}, v;
        if (scitt_cbor_peek(&r, &it) != SCITT_OK) {
            return none;
        }
        bool text = it.type == SCITT_CBOR_TEXT;
        if ((text ? scitt_cbor_read_text(&r, &k) : scitt_cbor_skip(&r, NULL)) != SCITT_OK ||
            scitt_cbor_skip(&r, &v) != SCITT_OK) {
            return none;
        }
        if (text && scitt_span_eq_str(k, key)) {
            return v;
        }
    }
    return none;
}

/* One encoded item @p v as a byte string of exactly @p want bytes. */
static bool item_bytes(scitt_span v, size_t want, scitt_span *out)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, v);
    return v.len && scitt_cbor_read_bytes(&r, out) == SCITT_OK &&
           scitt_cbor_reader_finish(&r) == SCITT_OK && out->len == want;
}

static bool meas_allowed(const meas_list *l, const uint8_t *v, size_t len)
{
    for (size_t i = 0; i < l->n; i++) {
        if (memcmp(l->v[i], v, len) == 0) {
            return true;
        }
    }
    return false;
}

/* The protected bstr under text label @p label; empty when absent or of another type. */
static scitt_span protected_bytes(const scitt_cose_headers *h, const char *label)
{
    scitt_span b = {NULL, 0};
    const scitt_cose_param *prm = scitt_cose_headers_find_text(h, label);
    if (prm && prm->bucket == SCITT_COSE_PROTECTED) {
        scitt_cbor_reader r;
        scitt_cbor_reader_init(&r, prm->value);
        if (scitt_cbor_read_bytes(&r, &b) != SCITT_OK) {
            b.len = 0;
        }
    }
    return b;
}

/* The protected "dcap_collateral" map {file name: bstr} into a collateral set. */
static scitt_err read_collateral(const scitt_cose_headers *h, scitt_dcap_collateral *c,
                                 char *reason, size_t cap)
{
    const scitt_cose_param *prm = scitt_cose_headers_find_text(h, TEE_COLLATERAL_LABEL);
    if (!prm || prm->bucket != SCITT_COSE_PROTECTED) {
        scitt__policy_say(reason, cap,
                          "the statement needs the DCAP collateral in the protected header "
                          "(\"" TEE_COLLATERAL_LABEL "\")");
        return SCITT_ERR_POLICY;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, prm->value);
    size_t n = 0;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    for (size_t i = 0; e == SCITT_OK && i < n; i++) {
        scitt_span k, v;
        e = scitt_cbor_read_text(&r, &k);
        if (e == SCITT_OK) {
            e = scitt_cbor_read_bytes(&r, &v);
        }
        size_t item = SCITT_DCAP_ITEMS;
        for (size_t x = 0; e == SCITT_OK && x < SCITT_DCAP_ITEMS; x++) {
            if (scitt_span_eq_str(k, scitt_dcap_item_file((scitt_dcap_item)x))) {
                item = x;
            }
        }
        if (e == SCITT_OK && item == SCITT_DCAP_ITEMS) {
            e = SCITT_ERR_HEADER;
        }
        scitt_tee_reason why = SCITT_TEE_OK;
        if (e == SCITT_OK &&
            scitt_dcap_collateral_set(c, (scitt_dcap_item)item, v, &why) != SCITT_OK) {
            scitt__policy_say(reason, cap, "the DCAP collateral's %s: %s",
                              scitt_dcap_item_file((scitt_dcap_item)item),
                              scitt_tee_reason_str(why));
            return SCITT_ERR_POLICY;
        }
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    if (e != SCITT_OK) {
        scitt__policy_say(reason, cap,
                          "\"" TEE_COLLATERAL_LABEL
                          "\" must map collateral file names (tcb_info.json, ...) to "
                          "byte strings");
        return SCITT_ERR_POLICY;
    }
    return SCITT_OK;
}

/*
 * The evidence: the protected quote verified with the protected collateral at the statement's
 * iat (signed and logged, so a replay decides at the same instant), under the Intel root (or the
 * rule's), with both CRLs checked and the rule's TCB statuses; then the quote must be of the
 * rule's platform, not DEBUG, and say what the statement claims. Fills @p res.
 */
static scitt_err check_evidence(const scitt_policy *p, const tee_rule *t, const scitt_cose_sign1 *m,
                                int64_t now, scitt_dcap_result *res, char *reason, size_t cap)
{
    const scitt_cose_headers *h = &m->hdr;
    if (!(h->prot & SCITT_COSE_H_CWT) || !h->cwt.has_iat) {
        scitt__policy_say(reason, cap,
                          "the evidence is judged at the statement's iat, and it has none");
        return SCITT_ERR_POLICY;
    }
    if (h->cwt.iat > now + p->clock_skew) {
        scitt__policy_say(reason, cap, "the statement's iat (%lld) is in the future",
                          (long long)h->cwt.iat);
        return SCITT_ERR_POLICY;
    }
    scitt_span quote = protected_bytes(h, TEE_QUOTE_LABEL);
    if (quote.len == 0) {
        scitt__policy_say(
            reason, cap,
            "the statement needs its DCAP quote in the protected header (\"" TEE_QUOTE_LABEL "\")");
        return SCITT_ERR_POLICY;
    }
    scitt_dcap_collateral *c = NULL;
    scitt_err e = scitt_dcap_collateral_new(&c);
    if (e != SCITT_OK) {
        return e;
    }
    e = read_collateral(h, c, reason, cap);
    if (e == SCITT_OK) {
        scitt_dcap_verify_opts o;
        scitt_dcap_verify_opts_init(&o, h->cwt.iat);
        o.root_sha256 = t->has_root ? t->root : NULL;
        o.accept = t->accept;
        e = scitt_dcap_verify(quote, c, &o, res);
        if (e != SCITT_OK) {
            /* Every refusal is the policy's, also one of a window (SCITT_ERR_EXPIRED): the
             * instant is the iat, so a replay reaches it again and must call it a discrepancy. */
            scitt__policy_say(reason, cap, "the %s evidence at iat %lld: %s",
                              t->platform == SCITT_DCAP_TEE_TDX ? "TDX" : "SGX",
                              (long long)h->cwt.iat, scitt_tee_reason_str(res->why));
            e = SCITT_ERR_POLICY;
        } else if (!res->pck_crl_checked || !res->root_crl_checked) {
            scitt__policy_say(reason, cap,
                              "the DCAP collateral must hold the PCK CRL and the root CA CRL, "
                              "current at the statement's iat");
            e = SCITT_ERR_POLICY;
        } else if ((int)res->tee != t->platform) {
            scitt__policy_say(reason, cap, "the quote is %s evidence, the rule wants %s",
                              scitt_dcap_tee_name(res->tee),
                              scitt_dcap_tee_name((scitt_dcap_tee)t->platform));
            e = SCITT_ERR_POLICY;
        } else if (t->platform == SCITT_DCAP_TEE_TDX
                       ? (res->td.td_attributes[0] & SCITT_ATTEST_TD_DEBUG) != 0
                       : (res->enclave.attributes[0] & SCITT_ATTEST_SGX_DEBUG) != 0) {
            scitt__policy_say(reason, cap,
                              "the quote's %s has DEBUG set: its memory is open to the host",
                              t->platform == SCITT_DCAP_TEE_TDX ? "TD" : "enclave");
            e = SCITT_ERR_POLICY;
        }
    }
    scitt_dcap_collateral_free(c);
    return e;
}

/* An integer claim @p key, when present, must be @p want. */
static bool int_claim_agrees(const scitt_cose_headers *h, const char *key, int64_t want)
{
    scitt_span v = cwt_claim(h, key);
    if (v.len == 0) {
        return true;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, v);
    int64_t got;
    return scitt_cbor_read_int(&r, &got) == SCITT_OK && scitt_cbor_reader_finish(&r) == SCITT_OK &&
           got == want;
}

/*
 * "attested_issuer": whatever the statement is about, the key that signed it is one a TD or an
 * enclave published: the verified quote's REPORTDATA[0:32] is the key's RFC 9679 thumbprint. The
 * lists judge the quote's measurements.
 */
static scitt_err check_attested_issuer(const scitt_policy *p, const tee_rule *t,
                                       const scitt_cose_sign1 *m, const scitt_cose_key *key,
                                       int64_t now, char *reason, size_t cap)
{
    bool tdx = t->platform == SCITT_DCAP_TEE_TDX;
    scitt_dcap_result *res = scitt_malloc(sizeof(*res));
    if (!res) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = check_evidence(p, t, m, now, res, reason, cap);
    uint8_t tp[SCITT_SHA256_LEN];
    scitt_cose_key_thumbprint(key, tp);
    const uint8_t *rd = tdx ? res->td.report_data : res->enclave.report_data;
    if (e == SCITT_OK && memcmp(rd, tp, sizeof(tp)) != 0) {
        scitt__policy_say(
            reason, cap,
            "the quote's REPORTDATA does not bind the key that signed the statement (its first "
            "32 bytes must be the key's RFC 9679 thumbprint)");
        e = SCITT_ERR_POLICY;
    }
    const uint8_t *meas = tdx ? res->td.mrtd : res->enclave.mrenclave;
    if (e == SCITT_OK && t->payload.set && !meas_allowed(&t->payload, meas, tdx ? 48 : 32)) {
        scitt__policy_say(reason, cap, "the quote's %s is not one the registration policy lists",
                          tdx ? "MRTD" : "MRENCLAVE");
        e = SCITT_ERR_POLICY;
    }
    for (size_t i = 0; e == SCITT_OK && i < (tdx ? 4u : 1u); i++) {
        const meas_list *l = tdx ? &t->rtmr[i] : &t->mrsigner;
        const uint8_t *v = tdx ? res->td.rtmr[i] : res->enclave.mrsigner;
        if (l->set && !meas_allowed(l, v, tdx ? 48 : 32)) {
            scitt__policy_say(reason, cap,
                              "the quote's %s is not one the registration policy lists",
                              tdx ? "RTMR" : "MRSIGNER");
            e = SCITT_ERR_POLICY;
        }
    }
    scitt_free(res);
    return e;
}

/*
 * "tee": a measurement statement of the rule's platform whose measurements the rule lists; with
 * "evidence", the measurements are the verified quote's, and the statement's claims must agree
 * with them.
 */
static scitt_err check_tee(const scitt_policy *p, const tee_rule *t, const scitt_cose_sign1 *m,
                           const scitt_cose_key *key, int64_t now, char *reason, size_t cap)
{
    const scitt_cose_headers *h = &m->hdr;
    bool tdx = t->platform == SCITT_DCAP_TEE_TDX;
    const char *name = tdx ? "tdx" : "sgx";
    size_t mlen = tdx ? 48 : 32;
    int64_t alg = tdx ? SCITT_COSE_ALG_SHA384 : SCITT_COSE_ALG_SHA256;
    scitt_span tee_v = cwt_claim(h, "tee"), tee_name = {NULL, 0};
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, tee_v);
    if (t->attested_issuer) {
        return check_attested_issuer(p, t, m, key, now, reason, cap);
    }
    if (!(h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) || h->payload_hash_alg != alg ||
        m->payload.len != mlen || tee_v.len == 0 ||
        scitt_cbor_read_text(&r, &tee_name) != SCITT_OK || !scitt_span_eq_str(tee_name, name)) {
        scitt__policy_say(
            reason, cap,
            "this issuer's statements must be %s measurement statements (hash envelope with %s, "
            "CWT claim \"tee\": \"%s\")",
            name, tdx ? "SHA-384 and the MRTD" : "SHA-256 and the MRENCLAVE", name);
        return SCITT_ERR_POLICY;
    }
    /* The values claimed: the payload, and the rtmrN / mrsigner claims when present. */
    static const char *const rn[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    scitt_span claimed[4] = {{NULL, 0}};
    bool has[4] = {false};
    size_t nclaims = tdx ? 4 : 1;
    for (size_t i = 0; i < nclaims; i++) {
        const char *cname = tdx ? rn[i] : "mrsigner";
        scitt_span v = cwt_claim(h, cname);
        if (v.len && !item_bytes(v, tdx ? 48 : 32, &claimed[i])) {
            scitt__policy_say(reason, cap, "the CWT claim \"%s\" must be a byte string of %d bytes",
                              cname, tdx ? 48 : 32);
            return SCITT_ERR_POLICY;
        }
        has[i] = v.len != 0;
    }
    const uint8_t *meas = m->payload.ptr, *values[4] = {NULL};
    for (size_t i = 0; i < nclaims; i++) {
        values[i] = has[i] ? claimed[i].ptr : NULL;
    }
    scitt_dcap_result *res = NULL;
    scitt_err e = SCITT_OK;
    if (t->evidence) {
        res = scitt_malloc(sizeof(*res));
        if (!res) {
            return SCITT_ERR_NOMEM;
        }
        e = check_evidence(p, t, m, now, res, reason, cap);
        const uint8_t *q_meas = tdx ? res->td.mrtd : res->enclave.mrenclave;
        if (e == SCITT_OK && memcmp(q_meas, meas, mlen) != 0) {
            scitt__policy_say(reason, cap, "the statement's %s is not the quote's",
                              tdx ? "MRTD" : "MRENCLAVE");
            e = SCITT_ERR_POLICY;
        }
        for (size_t i = 0; e == SCITT_OK && i < nclaims; i++) {
            const uint8_t *q = tdx ? res->td.rtmr[i] : res->enclave.mrsigner;
            if (has[i] && memcmp(q, claimed[i].ptr, tdx ? 48 : 32) != 0) {
                scitt__policy_say(reason, cap, "the statement's \"%s\" is not the quote's",
                                  tdx ? rn[i] : "mrsigner");
                e = SCITT_ERR_POLICY;
            }
            values[i] = q; /* the lists judge what the quote measured */
        }
        if (e == SCITT_OK && !tdx &&
            (!int_claim_agrees(h, "isv_prod_id", res->enclave.isv_prod_id) ||
             !int_claim_agrees(h, "svn", res->enclave.isv_svn))) {
            scitt__policy_say(reason, cap,
                              "the statement's \"isv_prod_id\" or \"svn\" is not the quote's");
            e = SCITT_ERR_POLICY;
        }
    }
    if (e == SCITT_OK && t->payload.set && !meas_allowed(&t->payload, meas, mlen)) {
        scitt__policy_say(reason, cap, "the %s is not one the registration policy lists",
                          tdx ? "MRTD" : "MRENCLAVE");
        e = SCITT_ERR_POLICY;
    }
    for (size_t i = 0; e == SCITT_OK && i < nclaims; i++) {
        const meas_list *l = tdx ? &t->rtmr[i] : &t->mrsigner;
        if (!l->set) {
            continue;
        }
        if (!values[i]) {
            scitt__policy_say(reason, cap,
                              "the registration policy lists the %s values, and the statement "
                              "has no protected CWT claim \"%s\"",
                              tdx ? rn[i] : "mrsigner", tdx ? rn[i] : "mrsigner");
            e = SCITT_ERR_POLICY;
        } else if (!meas_allowed(l, values[i], tdx ? 48 : 32)) {
            scitt__policy_say(reason, cap, "the %s is not one the registration policy lists",
                              tdx ? rn[i] : "mrsigner");
            e = SCITT_ERR_POLICY;
        }
    }
    scitt_free(res);
    return e;
}

scitt_err scitt_policy_check(const scitt_policy *p, const scitt_cose_sign1 *m, int64_t now,
                             scitt_key_cache *cache, scitt_policy_decision *d, char *reason,
                             size_t cap)
{
    memset(d, 0, sizeof(*d));
    scitt__policy_say(reason, cap, "ok");
    /* The log keeps the statement with its unprotected header emptied, and an auditor replays
     * this check on that: a rule that could see an unprotected parameter would admit what the
     * replay rejects. So the check runs on the registered form only, where there is none. */
    if (m->unprotected_item.len != 1 || m->unprotected_item.ptr[0] != 0xa0 || m->hdr.unprot != 0) {
        scitt__policy_say(reason, cap,
                          "the policy decides on the registered form only (unprotected header {})");
        return SCITT_ERR_INVALID_ARG;
    }
    if (m->raw.len > p->max_bytes) {
        scitt__policy_say(reason, cap,
                          "the statement is %zu bytes, the registration policy allows %zu",
                          m->raw.len, p->max_bytes);
        return SCITT_ERR_TOO_LARGE;
    }
    const char *why = NULL;
    scitt_err e = scitt_cose_check_statement_why(m, &why);
    if (e != SCITT_OK) {
        if (why && strncmp(why, "iss ", 4) == 0) {
            d->title = "Invalid Issuer";
        }
        scitt__policy_say(reason, cap, "not a SCITT Signed Statement: %s",
                          why ? why : scitt_err_str(e));
        return e;
    }
    e = scitt_cose_check_x5t(m);
    if (e != SCITT_OK) {
        d->title = e == SCITT_ERR_KEY_MISMATCH ? "Certificate Thumbprint Mismatch"
                                               : "Unverifiable Certificate Thumbprint";
        scitt__policy_say(
            reason, cap, "%s",
            e == SCITT_ERR_KEY_MISMATCH
                ? "the protected x5t (34) names another certificate than the x5chain (33) leaf"
            : e == SCITT_ERR_ALG
                ? "the x5t (34) hash algorithm is not SHA-256, SHA-384 or SHA-512"
                : "x5t (34) without a protected x5chain (33): which certificate it names cannot be "
                  "checked; add the x5chain");
        return e;
    }
    d->iss = m->hdr.cwt.iss;
    d->sub = m->hdr.cwt.sub;
    e = check_rules(p, m, now, d, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    const rule *r = NULL;
    for (size_t i = 0; i < p->nrules && !r; i++) {
        if (rule_matches(&p->rules[i], d->iss)) {
            r = &p->rules[i];
            d->rule = i;
        }
    }
    if (!r) {
        scitt__policy_say(reason, cap, "issuer is not accepted by the registration policy");
        return SCITT_ERR_POLICY;
    }
    scitt_cose_key *key = NULL;
    e = resolve_key(p, r, m, now, cache, &key, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt_cose_sign1_verify(m, key, scitt_span_make(NULL, 0), NULL);
    if (e != SCITT_OK) {
        scitt__policy_say(reason, cap, "issuer signature: %s", scitt_err_str(e));
    }
    if (e == SCITT_OK && r->endorse.required) {
        e = check_endorsement(&r->endorse, m, reason, cap);
    }
    if (e == SCITT_OK && r->tee.required) {
        e = check_tee(p, &r->tee, m, key, now, reason, cap);
    }
    scitt_cose_key_free(key);
    return e;
}
