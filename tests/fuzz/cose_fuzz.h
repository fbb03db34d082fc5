/*
 * Fixed public keys and values shared by the COSE fuzz targets. The seed corpora were signed with
 * the private halves (not kept), so seeds verify and mutations start from valid messages.
 */
#ifndef SCITT_COSE_FUZZ_H
#define SCITT_COSE_FUZZ_H

#include <stdlib.h>

#include "scitt/cose.h"

/* ES256 service key (kid = RFC 9679 thumbprint) and the Ed25519 issuer key, as COSE_Keys. */
#define FUZZ_SERVICE_KEY                                                                           \
    "a6010202582080d08394be52a0b905598831dc0a77ef43b10bd84121b3d6ad6edb8dc9435f12032620012158"     \
    "2043fbbf06d6f2993437081d022b097459c0e4995f1664c38beb1a2d24a3eb85a7225820d47455da393fb483"     \
    "15664be83a6d7ede6e445945c5060efda6979c87c5557c48"
#define FUZZ_ISSUER_KEY                                                                            \
    "a50101025820da332be222d690cf4acaaf083a4f015d0dff6e27ffb6794bd60ea9b84e97986f0327200621582"    \
    "04e81269ecd6d817d869b99ccce7e004217688eeb67e6205572d61432f9976bbb"
/* Leaf 4 of the seeds' log and the root at size 4 (the consistency seed starts there). */
#define FUZZ_LEAF4 "6829fbea5aea89758a0adbc943b9868184ebb3a81255adb068989ab758d0c1aa"
#define FUZZ_ROOT4 "2ae4c9c398f5e5e1c11d41a6b0e912172061786145d165462c7e89153fe5e1af"

/* Results a target looks at only through its invariants (warn_unused_result ignores a cast). */
static inline void fuzz_ignore(scitt_err e)
{
    (void)e;
}

static inline void fuzz_hex(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
    if (scitt_hex_decode(scitt_span_str(hex), out, cap, n) != SCITT_OK) {
        abort();
    }
}

static inline scitt_cose_key *fuzz_key(const char *hex)
{
    uint8_t buf[256];
    size_t n;
    fuzz_hex(hex, buf, sizeof(buf), &n);
    scitt_cose_key *k = NULL;
    if (scitt_cose_key_from_cose(scitt_span_make(buf, n), &k) != SCITT_OK) {
        abort();
    }
    return k;
}

/* The service key set, made once per process. */
static inline const scitt_cose_keyset *fuzz_service_keys(void)
{
    static scitt_cose_keyset *set;
    if (!set) {
        scitt_cose_key *k = fuzz_key(FUZZ_SERVICE_KEY);
        if (scitt_cose_keyset_new(&set) != SCITT_OK || scitt_cose_keyset_add(set, k) != SCITT_OK) {
            abort();
        }
        scitt_cose_key_free(k);
    }
    return set;
}

#endif /* SCITT_COSE_FUZZ_H */
