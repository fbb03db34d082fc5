/*
 * tools/trust.h — the service keys a relying party trusts, loaded from files: a COSE_Key_Set (as
 * /.well-known/scitt-keys serves it), a single COSE_Key, a JWKS or JWK, a PEM public key or
 * certificate, or a CCF service trust store (a directory of service-parameter JSON files, or one
 * such file). Every key remembers the file it came from, for reports. Internal to tools/.
 */
#ifndef SCITT_TOOLS_TRUST_H
#define SCITT_TOOLS_TRUST_H

#include "cli.h"

#define TRUST_FILES_MAX 32u

typedef struct trust {
    scitt_cose_keyset *keys;
    const scitt_cose_key *key[SCITT_LIMIT_KEYSET_KEYS];
    const char *from[SCITT_LIMIT_KEYSET_KEYS];
    size_t n;
} trust;

/** Creates an empty trust set. */
int trust_init(trust *t);
/** Adds every key in @p path; prints a message and returns CLI_USAGE when it cannot. */
int trust_load(trust *t, const char *path);
/**
 * Trusts one key (a new reference is taken) under the label @p from, e.g. a service bundle's
 * attested receipt key. The same key twice is fine; another key under a trusted kid is a usage
 * error (message printed).
 */
int trust_add(trust *t, scitt_cose_key *k, const char *from);
/** Releases everything. */
void trust_clear(trust *t);
/** The file @p k came from (or "?"). */
const char *trust_origin(const trust *t, const scitt_cose_key *k);
/** The key a receipt with kid @p kid would be checked with (as the verifiers pick it), or NULL. */
const scitt_cose_key *trust_pick(const trust *t, scitt_span kid);

#endif
