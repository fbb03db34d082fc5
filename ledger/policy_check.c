/*
 * The admission check of the registration policy, and the cache of keys parsed from
 * certificates. Checks run in the order of increasing cost: profile and header rules, issuer
 * match, key resolution, path validation, then the signature.
 */
#include "policy_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scitt/limits.h"

static void say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t cap, const char *fmt, ...)
{
    if (!out || !cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    /* A reason is one line of text even when it quotes a name from the input. */
    for (char *c = out; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
}

/* ------------------------------------------------------------------------------------------ */

typedef struct cache_slot {
    uint8_t hash[SCITT_SHA256_LEN];
    scitt_cose_key *key;
} cache_slot;

struct scitt_key_cache {
    pthread_mutex_t mu;
    size_t mask;
    cache_slot *slots;
};

scitt_err scitt_key_cache_new(size_t capacity, scitt_key_cache **out)
{
    *out = NULL;
    size_t n = 16;
    while (n < capacity && n < (1u << 20)) {
        n *= 2;
    }
    scitt_key_cache *c = scitt_calloc(1, sizeof(*c));
    cache_slot *slots = scitt_calloc(n, sizeof(*slots));
    if (!c || !slots) {
        scitt_free(c);
        scitt_free(slots);
        return SCITT_ERR_NOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->mask = n - 1;
    c->slots = slots;
    *out = c;
    return SCITT_OK;
}

void scitt_key_cache_free(scitt_key_cache *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i <= c->mask; i++) {
        scitt_cose_key_free(c->slots[i].key);
    }
    pthread_mutex_destroy(&c->mu);
    scitt_free(c->slots);
    scitt_free(c);
}

scitt_err scitt_key_cache_get(scitt_key_cache *c, scitt_span cert, scitt_cose_key **out)
{
    uint8_t h[SCITT_SHA256_LEN];
    scitt_sha256(cert.ptr, cert.len, h);
    uint64_t at = 0;
    memcpy(&at, h, sizeof(at));
    /* Direct-mapped: a miss replaces what was there. Parsing happens outside the lock. */
    cache_slot *s = &c->slots[at & c->mask];
    pthread_mutex_lock(&c->mu);
    if (s->key && memcmp(s->hash, h, sizeof(h)) == 0) {
        *out = scitt_cose_key_ref(s->key);
        pthread_mutex_unlock(&c->mu);
        return SCITT_OK;
    }
    pthread_mutex_unlock(&c->mu);
    scitt_cose_key *k;
    scitt_err e = scitt_cose_key_from_cert_der(cert, &k);
    if (e != SCITT_OK) {
        return e;
    }
    pthread_mutex_lock(&c->mu);
    scitt_cose_key *old = s->key;
    memcpy(s->hash, h, sizeof(h));
    s->key = scitt_cose_key_ref(k);
    pthread_mutex_unlock(&c->mu);
    scitt_cose_key_free(old);
    *out = k;
    return SCITT_OK;
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

/* The claims, algorithm, payload and content-type rules: everything but the key. */
static scitt_err check_rules(const scitt_policy *p, const scitt_cose_sign1 *m,
                             scitt_policy_decision *d, char *reason, size_t cap)
{
    const scitt_cose_headers *h = &m->hdr;
    bool alg_ok = false;
    for (size_t i = 0; i < p->nalgs; i++) {
        alg_ok = alg_ok || p->algs[i] == h->alg;
    }
    if (!alg_ok) {
        const char *name = scitt_cose_alg_name(h->alg);
        say(reason, cap, "algorithm %s (%lld) is not accepted by the registration policy",
            name ? name : "unknown", (long long)h->alg);
        return SCITT_ERR_ALG;
    }
    if ((p->need_iat && !h->cwt.has_iat) || (p->need_nbf && !h->cwt.has_nbf) ||
        (p->need_exp && !h->cwt.has_exp)) {
        say(reason, cap, "a CWT claim the registration policy requires (%s) is missing",
            p->need_iat && !h->cwt.has_iat ? "iat"
                                           : (p->need_nbf && !h->cwt.has_nbf ? "nbf" : "exp"));
        return SCITT_ERR_POLICY;
    }
    if (m->detached) {
        say(reason, cap,
            "the payload is detached: register an attached payload or a hash envelope");
        return SCITT_ERR_PAYLOAD_MISSING;
    }
    if (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) {
        size_t want = digest_len(h->payload_hash_alg);
        if (want == 0 || m->payload.len != want) {
            say(reason, cap,
                "hash envelope payload is %zu bytes, its hash algorithm %lld needs %zu",
                m->payload.len, (long long)h->payload_hash_alg, want);
            return SCITT_ERR_HEADER;
        }
        if (p->have_ptypes && !type_allowed(&h->preimage_content_type, p->ptypes, p->nptypes)) {
            say(reason, cap,
                "preimage content type (259) is not accepted by the registration policy");
            return SCITT_ERR_POLICY;
        }
        d->digest = m->payload;
    } else {
        if (p->have_ctypes && !type_allowed(&h->content_type, p->ctypes, p->nctypes)) {
            say(reason, cap, "content type (3) is not accepted by the registration policy");
            return SCITT_ERR_POLICY;
        }
        scitt_sha256(m->payload.ptr, m->payload.len, d->payload_sha256);
        d->digest = scitt_span_make(d->payload_sha256, SCITT_SHA256_LEN);
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
            say(reason, cap, "no key pinned for this issuer has the statement's kid");
            return SCITT_ERR_UNTRUSTED;
        }
        *key = scitt_cose_key_ref((scitt_cose_key *)k);
        return SCITT_OK;
    }
    if (!(h->prot & SCITT_COSE_H_X5CHAIN) || h->nx5chain == 0) {
        say(reason, cap, "this issuer's rule needs a protected x5chain (33)");
        return SCITT_ERR_UNTRUSTED;
    }
    scitt_x509_time when = scitt_x509_time_none();
    if (p->tmode == TIME_REGISTRATION) {
        when = scitt_x509_time_at(now);
    } else if (p->tmode == TIME_IAT) {
        if (!h->cwt.has_iat) {
            say(reason, cap, "the policy checks certificates at iat, and the statement has none");
            return SCITT_ERR_POLICY;
        }
        when = scitt_x509_time_at(h->cwt.iat);
    }
    const char *why = NULL;
    scitt_err e = SCITT_OK;
    if (r->did_x509) {
        e = scitt_didx509_resolve(h->cwt.iss, h->x5chain, h->nx5chain, &when, NULL, &why);
        if (e != SCITT_OK) {
            say(reason, cap, "did:x509 issuer does not resolve against the x5chain: %s",
                why ? why : scitt_err_str(e));
            return e;
        }
    }
    if (r->roots) {
        e = scitt_x509_verify_chain(r->roots, h->x5chain, h->nx5chain, &when, &why);
        if (e != SCITT_OK) {
            say(reason, cap, "x5chain does not validate to the policy's roots: %s",
                why ? why : scitt_err_str(e));
            return e;
        }
    }
    e = cache ? scitt_key_cache_get(cache, h->x5chain[0], key)
              : scitt_cose_key_from_cert_der(h->x5chain[0], key);
    if (e != SCITT_OK) {
        say(reason, cap, "the x5chain leaf certificate's key cannot be used: %s", scitt_err_str(e));
    }
    return e;
}

scitt_err scitt_policy_check(const scitt_policy *p, const scitt_cose_sign1 *m, int64_t now,
                             scitt_key_cache *cache, scitt_policy_decision *d, char *reason,
                             size_t cap)
{
    memset(d, 0, sizeof(*d));
    say(reason, cap, "ok");
    if (m->raw.len > p->max_bytes) {
        say(reason, cap, "the statement is %zu bytes, the registration policy allows %zu",
            m->raw.len, p->max_bytes);
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_err e = scitt_cose_check_statement(m);
    if (e != SCITT_OK) {
        say(reason, cap, "not a SCITT Signed Statement: %s", scitt_err_str(e));
        return e;
    }
    d->iss = m->hdr.cwt.iss;
    d->sub = m->hdr.cwt.sub;
    e = check_rules(p, m, d, reason, cap);
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
        say(reason, cap, "issuer is not accepted by the registration policy");
        return SCITT_ERR_POLICY;
    }
    scitt_cose_key *key = NULL;
    e = resolve_key(p, r, m, now, cache, &key, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    e = scitt_cose_sign1_verify(m, key, scitt_span_make(NULL, 0), NULL);
    scitt_cose_key_free(key);
    if (e != SCITT_OK) {
        say(reason, cap, "issuer signature: %s", scitt_err_str(e));
    }
    return e;
}
