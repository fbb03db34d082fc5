/*
 * Per-IP token buckets in a fixed table: 4-way sets indexed by a keyed hash of the address, so
 * memory is bounded whatever the number of clients and nobody can aim collisions at a chosen
 * set without the secret seed. A full set evicts the entry seen least recently.
 */
#include "http_impl.h"

#include <math.h>
#include <netinet/in.h>
#include <string.h>

#include <openssl/rand.h>

#define WAYS 4u

typedef struct rl_entry {
    uint8_t key[16];
    uint64_t last_ms;
    double tokens;
} rl_entry;

struct scitt__ratelimit {
    double rate; /* tokens per millisecond */
    double burst;
    size_t nsets; /* a power of two */
    uint64_t seed[2];
    rl_entry *table; /* nsets * WAYS */
    uint8_t *used;   /* one flag per entry */
};

scitt_err scitt__ratelimit_new(double rate_per_sec, double burst, size_t entries,
                               scitt__ratelimit **out)
{
    *out = NULL;
    if (!(rate_per_sec > 0) || !(burst >= 1) || entries == 0 || entries > (1u << 24)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt__ratelimit *rl = scitt_calloc(1, sizeof(*rl));
    if (!rl) {
        return SCITT_ERR_NOMEM;
    }
    size_t nsets = 1;
    while (nsets * WAYS < entries) {
        nsets <<= 1;
    }
    rl->rate = rate_per_sec / 1000.0;
    rl->burst = burst;
    rl->nsets = nsets;
    rl->table = scitt_calloc(nsets * WAYS, sizeof(rl_entry));
    rl->used = scitt_calloc(nsets * WAYS, 1);
    if (!rl->table || !rl->used || RAND_bytes((unsigned char *)rl->seed, sizeof(rl->seed)) != 1) {
        scitt__ratelimit_free(rl);
        return rl->table && rl->used ? SCITT_ERR_CRYPTO : SCITT_ERR_NOMEM;
    }
    *out = rl;
    return SCITT_OK;
}

void scitt__ratelimit_free(scitt__ratelimit *rl)
{
    if (!rl) {
        return;
    }
    scitt_free(rl->table);
    scitt_free(rl->used);
    scitt_free(rl);
}

static uint64_t fmix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

static uint64_t hash_key(const scitt__ratelimit *rl, const uint8_t key[16])
{
    uint64_t lo, hi;
    memcpy(&lo, key, 8);
    memcpy(&hi, key + 8, 8);
    return fmix(fmix(lo ^ rl->seed[0]) + hi) ^ rl->seed[1];
}

bool scitt__ratelimit_take(scitt__ratelimit *rl, const uint8_t key[16], uint64_t now_ms,
                           uint32_t *retry_after_s)
{
    size_t set = (size_t)(hash_key(rl, key) & (rl->nsets - 1)) * WAYS;
    rl_entry *e = NULL;
    size_t victim = set;
    for (size_t i = set; i < set + WAYS; i++) {
        if (!rl->used[i]) {
            victim = i;
            continue;
        }
        if (memcmp(rl->table[i].key, key, 16) == 0) {
            e = &rl->table[i];
            break;
        }
        if (rl->used[victim] && rl->table[i].last_ms < rl->table[victim].last_ms) {
            victim = i;
        }
    }
    if (!e) {
        e = &rl->table[victim];
        rl->used[victim] = 1;
        memcpy(e->key, key, 16);
        e->tokens = rl->burst;
        e->last_ms = now_ms;
    } else if (now_ms > e->last_ms) {
        e->tokens += (double)(now_ms - e->last_ms) * rl->rate;
        if (e->tokens > rl->burst) {
            e->tokens = rl->burst;
        }
        e->last_ms = now_ms;
    }
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return true;
    }
    /* Seconds until one whole token is back, rounded up (Retry-After is a minimum). */
    double wait_s = (1.0 - e->tokens) / (rl->rate * 1000.0);
    double secs = ceil(wait_s);
    *retry_after_s = secs < 1 ? 1u : secs > 86400 ? 86400u : (uint32_t)secs;
    return false;
}

void scitt__ratelimit_key(const struct sockaddr_storage *sa, unsigned v6_prefix, uint8_t key[16])
{
    /* One address space: IPv4 peers are keyed by their IPv4-mapped IPv6 form (::ffff:a.b.c.d). */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(key, 0, 16);
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(key, mapped, 12);
        memcpy(key + 12, &in->sin_addr, 4);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        memcpy(key, a, 16);
        if (memcmp(a, mapped, 12) == 0) {
            return;
        }
        /* One client usually owns a whole /64, so that is the default unit. */
        unsigned bits = v6_prefix > 128 ? 128 : v6_prefix;
        for (unsigned b = bits; b < 128; b++) {
            key[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
        }
    }
}

/*
 * Open connections per address: linear probing over a power-of-two table at most half full,
 * keyed by the same seeded hash as the buckets, so its size is fixed by max_connections and
 * nobody can aim at a chosen run of slots. Entries leave by backward shifting, so lookups never
 * meet tombstones.
 */
typedef struct cl_entry {
    uint8_t key[16];
    uint32_t count; /* 0 = free */
} cl_entry;

struct scitt__connlimit {
    scitt__ratelimit hash; /* only its seed is used */
    size_t mask;
    size_t per_key;
    cl_entry *table;
};

scitt_err scitt__connlimit_new(size_t max_keys, size_t per_key, scitt__connlimit **out)
{
    *out = NULL;
    if (max_keys == 0 || max_keys > (1u << 24) || per_key == 0 || per_key > UINT32_MAX) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt__connlimit *cl = scitt_calloc(1, sizeof(*cl));
    if (!cl) {
        return SCITT_ERR_NOMEM;
    }
    size_t size = 16;
    while (size < 2 * max_keys) {
        size <<= 1;
    }
    cl->mask = size - 1;
    cl->per_key = per_key;
    cl->table = scitt_calloc(size, sizeof(cl_entry));
    if (!cl->table) {
        scitt_free(cl);
        return SCITT_ERR_NOMEM;
    }
    if (RAND_bytes((unsigned char *)cl->hash.seed, sizeof(cl->hash.seed)) != 1) {
        scitt__connlimit_free(cl);
        return SCITT_ERR_CRYPTO;
    }
    *out = cl;
    return SCITT_OK;
}

void scitt__connlimit_free(scitt__connlimit *cl)
{
    if (!cl) {
        return;
    }
    scitt_free(cl->table);
    scitt_free(cl);
}

/* The slot holding @p key, or the free slot where it would go. */
static size_t cl_find(const scitt__connlimit *cl, const uint8_t key[16])
{
    size_t i = (size_t)hash_key(&cl->hash, key) & cl->mask;
    while (cl->table[i].count != 0 && memcmp(cl->table[i].key, key, 16) != 0) {
        i = (i + 1) & cl->mask;
    }
    return i;
}

bool scitt__connlimit_add(scitt__connlimit *cl, const uint8_t key[16])
{
    size_t i = cl_find(cl, key);
    cl_entry *e = &cl->table[i];
    if (e->count == 0) {
        memcpy(e->key, key, 16);
    } else if (e->count >= cl->per_key) {
        return false;
    }
    e->count++;
    return true;
}

void scitt__connlimit_remove(scitt__connlimit *cl, const uint8_t key[16])
{
    size_t i = cl_find(cl, key);
    if (cl->table[i].count == 0 || --cl->table[i].count > 0) {
        return;
    }
    /* Shift back every later entry of the run that may sit here instead (Knuth 6.4, R). */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & cl->mask;
        if (cl->table[j].count == 0) {
            break;
        }
        size_t home = (size_t)hash_key(&cl->hash, cl->table[j].key) & cl->mask;
        /* j may move to the hole when its home is not cyclically within (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            cl->table[hole] = cl->table[j];
            hole = j;
        }
    }
    cl->table[hole].count = 0;
}

size_t scitt__connlimit_count(const scitt__connlimit *cl, const uint8_t key[16])
{
    return cl->table[cl_find(cl, key)].count;
}
