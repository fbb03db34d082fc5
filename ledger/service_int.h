/* Internal to ledger/: the service object shared by its source files. */
#ifndef SCITT_SERVICE_INT_H
#define SCITT_SERVICE_INT_H

#include "scitt/note.h"
#include "scitt/receipt.h"
#include "scitt/service.h"

struct scitt_service {
    scitt_service_config cfg;
    char *issuer;
    char *origin;
    scitt_ledger *ledger;
    scitt_policy *policy;
    uint64_t policy_index;
    scitt_key_cache *cache;
    scitt_cose_keyset *keys;       /* receipt keys, current last; private unless read-only */
    const scitt_cose_key *current; /* borrowed from keys */
    uint8_t note_seed[SCITT_NOTE_ED25519_KEY_LEN];
    bool have_note_seed;
    scitt_note_key *note_key; /* made from note_seed by note_keys() */
    scitt_note_verifier note_verifier;
    char vkey[SCITT_NOTE_VKEY_MAX];
    uint8_t *identity;
    size_t identity_len;
    scitt_ledger_signer signer;
    /* several instances: the key of queued rows (from the shared note seed), the head file */
    uint8_t queue_key[SCITT_HASH_LEN];
    char head_file[4096];
};

/* identity.c: loads or creates the keys (or, read-only, the public keys from the meta record). */
scitt_err scitt__identity_load(scitt_service *s, char *reason, size_t cap);
void scitt__identity_clear(scitt_service *s);
/* The tree-head signer the sequencer calls. */
void scitt__identity_signer(scitt_service *s, scitt_ledger_signer *out);

#endif
