/*
 * The parse cache of a DCAP collateral set. Quotes of one platform carry the same three PCK
 * certificates (and, until the quoting enclave restarts, the same attestation key); parsing a
 * certificate costs about as much as verifying an ECDSA signature, so a verifier that sees many
 * quotes keeps the parsed objects, keyed by the SHA-256 of their bytes. Only parsing is saved:
 * every chain, signature, CRL and window is checked on every call against whatever the cache
 * returns, which is what parsing the same bytes again would return. Bounded: at most
 * SCITT__DCAP_CACHE_CERTS certificates and SCITT__DCAP_CACHE_KEYS keys, the least recently used
 * evicted, so a flood of new certificates costs a parse each and never memory. Thread-safe: one
 * lock (OpenSSL's, so libscitt needs no thread library of its own) held only to look up or
 * insert; parsing happens outside it, and callers get their own reference.
 */
#include "tee_internal.h"

#include <string.h>

#include <openssl/crypto.h>

typedef struct slot {
    uint8_t hash[32];
    uint64_t used; /* tick of the last use; 0: empty */
    scitt__x509 *cert;
    scitt__dcap_key *key;
} slot;

struct scitt__dcap_cache {
    CRYPTO_RWLOCK *lock;
    uint64_t tick, hits, misses;
    slot certs[SCITT__DCAP_CACHE_CERTS];
    slot keys[SCITT__DCAP_CACHE_KEYS];
};

scitt_err scitt__dcap_cache_new(scitt__dcap_cache **out)
{
    scitt__dcap_cache *c = scitt_calloc(1, sizeof(*c));
    if (!c || !(c->lock = CRYPTO_THREAD_lock_new())) {
        scitt_free(c);
        *out = NULL;
        return SCITT_ERR_NOMEM;
    }
    *out = c;
    return SCITT_OK;
}

static void slot_clear(slot *s)
{
    scitt__x509_free(s->cert);
    scitt__dcap_key_free(s->key);
    memset(s, 0, sizeof(*s));
}

void scitt__dcap_cache_free(scitt__dcap_cache *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < SCITT__DCAP_CACHE_CERTS; i++) {
        slot_clear(&c->certs[i]);
    }
    for (size_t i = 0; i < SCITT__DCAP_CACHE_KEYS; i++) {
        slot_clear(&c->keys[i]);
    }
    CRYPTO_THREAD_lock_free(c->lock);
    scitt_free(c);
}

/* Under the lock: the slot holding @p h, or NULL. */
static slot *find(slot *s, size_t n, const uint8_t h[32])
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].used && memcmp(s[i].hash, h, 32) == 0) {
            return &s[i];
        }
    }
    return NULL;
}

/* Under the lock: where to put @p h: its own slot if another thread put it there meanwhile, else
 * an empty one, else the least recently used. */
static slot *victim(slot *s, size_t n, const uint8_t h[32])
{
    slot *own = find(s, n, h);
    if (own) {
        return own;
    }
    slot *v = &s[0];
    for (size_t i = 1; i < n && v->used; i++) {
        if (s[i].used < v->used) {
            v = &s[i];
        }
    }
    return v;
}

/* Looks @p h up in @p slots; on a hit takes a reference into *cert or *key and returns true. */
static bool lookup(scitt__dcap_cache *c, slot *slots, size_t n, const uint8_t h[32],
                   scitt__x509 **cert, scitt__dcap_key **key, scitt_err *err)
{
    if (CRYPTO_THREAD_write_lock(c->lock) != 1) {
        return false; /* parse without the cache */
    }
    slot *s = find(slots, n, h);
    if (s) {
        s->used = ++c->tick;
        c->hits++;
        *err = cert ? scitt__dcap_cert_ref(s->cert, cert) : scitt__dcap_key_ref(s->key, key);
    } else {
        c->misses++;
    }
    CRYPTO_THREAD_unlock(c->lock);
    return s != NULL;
}

/* Stores references to @p cert or @p key under @p h (nothing when out of memory). */
static void store(scitt__dcap_cache *c, slot *slots, size_t n, const uint8_t h[32],
                  const scitt__x509 *cert, const scitt__dcap_key *key)
{
    scitt__x509 *cref = NULL;
    scitt__dcap_key *kref = NULL;
    if ((cert && scitt__dcap_cert_ref(cert, &cref) != SCITT_OK) ||
        (key && scitt__dcap_key_ref(key, &kref) != SCITT_OK)) {
        return;
    }
    if (CRYPTO_THREAD_write_lock(c->lock) != 1) {
        scitt__x509_free(cref);
        scitt__dcap_key_free(kref);
        return;
    }
    slot *s = victim(slots, n, h);
    slot old = *s;
    memcpy(s->hash, h, 32);
    s->used = ++c->tick;
    s->cert = cref;
    s->key = kref;
    CRYPTO_THREAD_unlock(c->lock);
    slot_clear(&old); /* outside the lock: it may free OpenSSL objects */
}

scitt_err scitt__dcap_cache_cert(scitt__dcap_cache *c, scitt_span der, scitt__x509 **out)
{
    *out = NULL;
    if (!c) {
        return scitt__tee_x509_parse(der, out);
    }
    uint8_t h[32];
    scitt_sha256(der.ptr, der.len, h);
    scitt_err err = SCITT_OK;
    if (lookup(c, c->certs, SCITT__DCAP_CACHE_CERTS, h, out, NULL, &err)) {
        return err;
    }
    err = scitt__tee_x509_parse(der, out);
    if (err == SCITT_OK) {
        store(c, c->certs, SCITT__DCAP_CACHE_CERTS, h, *out, NULL);
    }
    return err;
}

scitt_err scitt__dcap_cache_key(scitt__dcap_cache *c, const uint8_t key[64], scitt__dcap_key **out)
{
    *out = NULL;
    if (!c) {
        return scitt__dcap_key_import(key, out);
    }
    uint8_t h[32];
    scitt_sha256(key, 64, h);
    scitt_err err = SCITT_OK;
    if (lookup(c, c->keys, SCITT__DCAP_CACHE_KEYS, h, NULL, out, &err)) {
        return err;
    }
    err = scitt__dcap_key_import(key, out);
    if (err == SCITT_OK) {
        store(c, c->keys, SCITT__DCAP_CACHE_KEYS, h, NULL, *out);
    }
    return err;
}

void scitt__dcap_cache_stats_get(scitt__dcap_cache *c, scitt__dcap_cache_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!c || CRYPTO_THREAD_read_lock(c->lock) != 1) {
        return;
    }
    out->hits = c->hits;
    out->misses = c->misses;
    for (size_t i = 0; i < SCITT__DCAP_CACHE_CERTS; i++) {
        out->certs += c->certs[i].used != 0;
    }
    for (size_t i = 0; i < SCITT__DCAP_CACHE_KEYS; i++) {
        out->keys += c->keys[i].used != 0;
    }
    CRYPTO_THREAD_unlock(c->lock);
}
