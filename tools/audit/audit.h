/*
 * tools/audit/audit.h — `scitt audit`: incremental replay of a log from its C2SP tiles and entry
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
    bool entry; /* about what one entry is (reported once), not about the tree */
    char what[400];
} audit_item;

typedef struct audit_policy {
    uint64_t index;
    uint8_t sha256[SCITT_SHA256_LEN];
    char kid[80];
    bool development;
    bool replaces;  /* a policy was in force before it: a policy change */
    bool same_text; /* ... with exactly the text of the one it replaces */
    uint64_t replaced_index;
    uint8_t replaced_sha256[SCITT_SHA256_LEN];
} audit_policy;

#define AUDIT_KEYS_LISTED 16u /* kids listed per kind of key churn (all are counted) */

/** A service key named in the summary: newly pinned (with its proof), unproven or withdrawn. */
typedef struct audit_key_item {
    char kid[80]; /* hex, cut to 64 digits */
    char how[160];
} audit_key_item;

/**
 * The keys an audit knows. Pinned keys (keys.cbor, and --keys) are trusted; keys the service
 * serves now are only candidates until the log proves them (they verified a policy statement or
 * the consistency receipt), so a service that serves junk keys cannot fill the pinned set.
 */
typedef struct audit_keys {
    scitt_cose_keyset *pinned;
    scitt_cose_key **served; /* parsed from .well-known/scitt-keys, bounded by its size */
    bool *served_proven;
    size_t nserved;
    bool served_known;    /* the source served a key set that parsed as a CBOR array */
    char served_why[300]; /* else why not */
    bool served_garbage;  /* the source served a key set that is no CBOR array */
    size_t served_bad;    /* elements that are no usable COSE_Key */
    audit_key_item added[AUDIT_KEYS_LISTED];
    size_t nadded; /* newly pinned (all listed up to the limit) */
    audit_key_item unproven[AUDIT_KEYS_LISTED];
    size_t nunproven; /* served, never proven by the log */
    audit_key_item withdrawn[AUDIT_KEYS_LISTED];
    size_t nwithdrawn; /* pinned, no longer served */
    size_t not_pinned; /* proven but the pinned set was full */
} audit_keys;

/** One run. */
typedef struct audit audit;
struct audit {
    source src;
    const char *state_dir;
    const char *stage_dir; /* scitt mirror: what the source serves is staged here (net.h) */
    scitt_note_verifier vkey;
    char vkey_text[SCITT_NOTE_VKEY_MAX + 1];
    audit_keys keys;
    bool issuer_too_long; /* the configuration's issuer is over AUDIT_ISSUER_MAX: not compared */
    audit_state st;
    uint64_t new_size;
    uint8_t new_root[SCITT_HASH_LEN];
    bool cp_verified; /* the checkpoint's signature verified with the pinned key */
    bool first;       /* no earlier audit in the state directory: keys are pinned on first use */
    bool saved;       /* the state (and so the pins) was saved */
    scitt_dynbuf checkpoint;
    int64_t now;
    scitt_policy *policy; /* in force while replaying */
    bool fail_on_policy_change;
    /* outcome */
    uint64_t discrepancies, tree_discrepancies, undecidable, replayed, policy_changes;
    audit_item bad[AUDIT_MAX_REPORTED];
    size_t nbad;
    audit_item notes[AUDIT_MAX_REPORTED];
    size_t nnotes;
    audit_policy pol[AUDIT_MAX_REPORTED];
    size_t npol;
    bool cannot; /* the audit could not be completed (exit 2 unless a discrepancy was found) */
    char cannot_why[600];
    bool progress;
    char consistency[300];
    /* scitt monitor: each replayed entry that decodes, and the moment the new tree verified
     * (before the state is saved); NULL for scitt audit */
    void (*on_entry)(struct audit *a, uint64_t index, const scitt_cose_sign1 *m, scitt_span entry);
    void (*on_verified)(struct audit *a);
    void *user;
};

/**
 * Records a discrepancy about the tree (@p index < 0: not about one entry): the checkpoint, a
 * proof, a tile or a hash. State is not saved after one, so every later audit finds it again
 * until the service serves a consistent log.
 */
void audit_bad(audit *a, int64_t index, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/**
 * Records a discrepancy about entry @p index of a tree that verified: it should never have been
 * admitted (a policy violation, a registrant's statement with the policy subject). Reported once:
 * the state moves past it, and later audits only count it.
 */
void audit_bad_entry(audit *a, uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Records an entry whose check cannot be decided from the log alone. */
void audit_undecidable(audit *a, uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/**
 * The audit cannot be completed (network, a missing file, the auditor's own state): records the
 * first reason, prints it as the command's one-line message and returns CLI_USAGE.
 */
int audit_fail(audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** audit_fail without the message (printed at the end): for failures in the middle of a replay. */
void audit_cannot(audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * One audit pass (cmd_audit.c): opens @p url, loads the state, pins the keys, verifies the
 * checkpoint, its consistency and the new entries, and saves the state when the tree verified.
 * The caller prints the outcome and clears @p a (policy, keys, checkpoint, state). CLI_OK or
 * CLI_USAGE; the outcome is in @p a.
 */
int audit_pass(audit *a, const char *url, const char *cacert, uint64_t timeout, bool scratch,
               const char *vkey, const char *keys, uint64_t *old_size, uint64_t *earlier);

/* audit_keys.c */
void audit_keys_clear(audit_keys *k);
/**
 * Pins: the keys of keys.cbor (@p pinned_cbor, from the state directory) and of @p keys_file
 * (--keys, trusted by the user), then reads what the source serves as candidates. CLI_OK or
 * CLI_USAGE (audit_fail).
 */
int audit_keys_load(audit *a, scitt_span pinned_cbor, const char *keys_file);
/** The pinned or served key with @p kid, or NULL. */
const scitt_cose_key *audit_key_find(const audit *a, scitt_span kid);
/** Pins @p k (a key that @p how says the log proved), unless it is pinned already. */
void audit_key_proven(audit *a, const scitt_cose_key *k, const char *how);
/** After the replay: served keys never proven, pinned keys no longer served. */
void audit_keys_churn(audit *a);
/** True when any key churn was found: served keys the log never proved, pinned keys no longer
 *  served, a served key set or elements of it that are no key, proven keys the full pinned set
 *  could not take. A
 *  newly pinned key (rotation) is reported but is not churn. */
bool audit_keys_churned(const audit *a);

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
/** Loads the state directory (missing files: a first audit). CLI_OK or CLI_USAGE (audit_fail). */
int audit_state_load(audit *a, bool from_scratch, char *pinned_vkey, size_t cap,
                     scitt_dynbuf *pinned_keys);
/** Saves vkey, keys, checkpoint and state after an audit whose tree verified. */
int audit_state_save(audit *a);

/* audit_replay.c */
/** Proves the new checkpoint consistent with the audited one (tiles and, if served, a receipt). */
void audit_consistency(audit *a);
/** Replays entries [st.size, new_size): hashes, tiles, registration policy. Sets a->cannot when
 *  the replay could not be completed. */
void audit_replay(audit *a);

#endif
