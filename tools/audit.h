/*
 * tools/audit.h — `scitt audit`: incremental replay of a log from its C2SP tiles and entry
 * bundles (served by scittd, or a static copy made by export-tiles), with the state kept between
 * runs in a directory. docs/audit.md describes what is checked. Internal to tools/.
 */
#ifndef SCITT_TOOLS_AUDIT_H
#define SCITT_TOOLS_AUDIT_H

#include "net.h"

#include "scitt/limits.h"
#include "scitt/merkle.h"
#include "scitt/note.h"
#include "scitt/policy.h"

#define AUDIT_MAX_REPORTED 100u /* discrepancies and notes listed (all are counted) */
#define AUDIT_EDGE_LEVELS  8u   /* right-edge tiles remembered (levels 0..7: 2^64 entries) */
/* The service's issuer is kept whole or not at all: at most the length of the iss scittd puts in
 * its receipts (a cut one would no longer equal the iss of its policy statements). */
#define AUDIT_ISSUER_MAX   SCITT_LIMIT_RECEIPT_NAME
/* A policy text is an entry, and an entry bundle frames entries of at most 65,535 bytes. */
#define AUDIT_POLICY_MAX   65535u

/** What an audit remembers between runs (state.cbor in the state directory). */
typedef struct audit_state {
    bool have;     /* a previous audit completed */
    uint64_t size; /* tree size audited */
    uint8_t root[SCITT_HASH_LEN];
    scitt_merkle_compact compact; /* over [0, size): recomputed, never fetched */
    int64_t time;                 /* Unix time the audited checkpoint was fetched */
    bool time_is_live;            /* it came from the service itself (not a static copy) */
    bool have_policy;
    uint64_t policy_index; /* the policy entry in force at size */
    scitt_dynbuf policy_text;
    char issuer[AUDIT_ISSUER_MAX + 1];    /* the service's iss, when known */
    uint64_t policies, entries;           /* totals over every audit */
    scitt_dynbuf edge[AUDIT_EDGE_LEVELS]; /* the last tile of each level at size */
    unsigned edge_width[AUDIT_EDGE_LEVELS];
    uint64_t edge_index[AUDIT_EDGE_LEVELS];
    /* Entries found wrong by earlier audits (each reported once): the count and the first ones. */
    uint64_t reported;
    size_t nreported;
    uint64_t reported_entries[AUDIT_MAX_REPORTED];
} audit_state;

typedef struct audit_item {
    bool has_index;
    uint64_t index;
    char what[400];
} audit_item;

typedef struct audit_policy {
    uint64_t index;
    uint8_t sha256[SCITT_SHA256_LEN];
    char kid[80];
    bool development;
} audit_policy;

/** One run. */
typedef struct audit {
    source src;
    const char *state_dir;
    scitt_note_verifier vkey;
    char vkey_text[SCITT_NOTE_VKEY_MAX + 1];
    scitt_cose_keyset *keys; /* the service's receipt keys, pinned and merged */
    audit_state st;
    uint64_t new_size;
    uint8_t new_root[SCITT_HASH_LEN];
    scitt_dynbuf checkpoint;
    int64_t now;
    scitt_policy *policy; /* in force while replaying */
    /* outcome */
    uint64_t discrepancies, undecidable, replayed;
    audit_item bad[AUDIT_MAX_REPORTED];
    size_t nbad;
    audit_item notes[AUDIT_MAX_REPORTED];
    size_t nnotes;
    audit_policy pol[AUDIT_MAX_REPORTED];
    size_t npol;
    bool progress;
    char consistency[300];
} audit;

/** Records a discrepancy (@p index < 0: not about one entry). */
void audit_bad(audit *a, int64_t index, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Records an entry whose check cannot be decided from the log alone. */
void audit_undecidable(audit *a, uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* audit_codec.c (pure: no files, no output) */
void audit_state_init(audit_state *s);
void audit_state_clear(audit_state *s);
/** state.cbor for @p s (appended to @p out). */
scitt_err audit_state_encode(const audit_state *s, scitt_dynbuf *out);
/**
 * Decodes state.cbor into @p s (fresh from audit_state_init). Every field's type is checked before
 * use, no field may repeat, and the values must agree (compact range and root, policy index and
 * text, right-edge tiles and size). On error @p why (size @p cap) names what is wrong; @p s is then
 * to be cleared, not used.
 */
scitt_err audit_state_decode(audit_state *s, scitt_span in, char *why, size_t cap);

/* audit_state.c */
/** Loads the state directory (missing files: a first audit). CLI_OK or CLI_USAGE. */
int audit_state_load(audit *a, bool from_scratch, char *pinned_vkey, size_t cap,
                     scitt_dynbuf *pinned_keys);
/** Saves vkey, keys, checkpoint and state after a clean audit. */
int audit_state_save(audit *a);

/* audit_replay.c */
/** Proves the new checkpoint consistent with the audited one (tiles and, if served, a receipt). */
void audit_consistency(audit *a);
/** Replays entries [st.size, new_size): hashes, tiles, registration policy. CLI_OK or CLI_USAGE. */
int audit_replay(audit *a);

#endif
