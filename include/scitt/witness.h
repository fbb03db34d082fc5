/*
 * scitt/witness.h — C2SP witness cosignatures, the tlog-witness add-checkpoint check, and
 * tlog-policy quorums.
 *
 * cosignature/v1 (C2SP tlog-cosignature, signature type 0x04): an Ed25519 signature by a witness
 * over
 *     "cosignature/v1\n" "time <decimal seconds>\n" <checkpoint note text>
 * carried as a signed-note line "— <witness name> base64(key ID(4) || time u64 BE(8) || sig(64))".
 * The key ID is the first 4 bytes of SHA-256(name || 0x0A || 0x04 || public key). Witness vkeys
 * are "<name>+<8 hex key ID>+base64(0x04 || public key)". A cosignature asserts that, as of its
 * time, the checkpoint is the largest tree of that origin the witness has found consistent.
 *
 * add-checkpoint (C2SP tlog-witness): the request body is "old <size>\n", 0..63 base64 hash lines
 * (a consistency proof from the old size), an empty line, then the signed checkpoint note.
 *
 * Nothing here allocates except into a caller's scitt_dynbuf; spans point into caller input.
 */
#ifndef SCITT_WITNESS_H
#define SCITT_WITNESS_H

#include "scitt/base.h"
#include "scitt/limits.h"
#include "scitt/merkle.h"
#include "scitt/note.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCITT_NOTE_SIG_TYPE_COSIG 0x04
/** Decoded length of a cosignature/v1 blob: key ID, timestamp, Ed25519 signature. */
#define SCITT_COSIG_BLOB_LEN      (4 + 8 + SCITT_NOTE_ED25519_SIG_LEN)
/** Most consistency-proof lines an add-checkpoint request may carry (tlog-witness). */
#define SCITT_WITNESS_PROOF_MAX   63u
/** Largest add-checkpoint body accepted: the old line, 63 proof lines, the blank line, a note. */
#define SCITT_WITNESS_BODY_MAX    (32u + SCITT_WITNESS_PROOF_MAX * 45u + 1u + SCITT_LIMIT_NOTE_BYTES)

/** Fills @p v for a witness (cosigner) key: the key ID uses signature type 0x04. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosig_verifier_init(
    scitt_note_verifier *v, scitt_span name, const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN]);

/** Parses a witness vkey (type 0x04). Errors as scitt_note_vkey_parse (SCITT_ERR_ALG for a
 *  type other than 0x04). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosig_vkey_parse(scitt_span vkey,
                                                          scitt_note_verifier *out);

/** Writes the witness vkey of @p name and @p pub (SCITT_NOTE_VKEY_MAX suffices). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosig_vkey_format(
    scitt_span name, const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN], char *out, size_t cap);

/**
 * Appends one cosignature line "— <name> <base64 blob>\n" over checkpoint note text @p text
 * (valid note text) at @p time (seconds since the epoch, non-zero) to @p out, signed with @p key.
 * On error @p out is left as it was.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosig_sign(const scitt_note_key *key, scitt_span name,
                                                    scitt_span text, uint64_t time,
                                                    scitt_dynbuf *out);

/** What scitt_cosig_verify found. */
typedef struct scitt_cosig_result {
    scitt_span text;                         /**< the checkpoint text inside the note */
    uint32_t cosigned;                       /**< bit i: witnesses[i] cosigned and verified */
    uint64_t time[SCITT_NOTE_MAX_VERIFIERS]; /**< its timestamp, where the bit is set */
} scitt_cosig_result;

/**
 * Checks the cosignatures of witnesses @p w (at most SCITT_NOTE_MAX_VERIFIERS) in signed note
 * @p note. Lines of other (name, key ID) pairs are ignored (the log's own signature among them:
 * the caller checks it with scitt_checkpoint_open). A line of a known witness that is not a
 * 76-byte cosignature, has timestamp 0 or does not verify makes the whole call fail with
 * SCITT_ERR_SIGNATURE. Finding no cosignature is not an error (cosigned == 0). Syntax errors as
 * scitt_note_parse.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosig_verify(scitt_span note, const scitt_note_verifier *w,
                                                      size_t n, scitt_cosig_result *out);

/* ---- tlog-witness add-checkpoint --------------------------------------------------------- */

typedef struct scitt_witness_request {
    uint64_t old_size;
    size_t n_proof;
    uint8_t proof[SCITT_WITNESS_PROOF_MAX][SCITT_HASH_LEN];
    scitt_span note; /**< the signed checkpoint, pointing into the body */
} scitt_witness_request;

/**
 * Parses an add-checkpoint body strictly (bounded by SCITT_WITNESS_BODY_MAX: else
 * SCITT_ERR_TOO_LARGE): "old N" with no leading zeros, each proof line exactly one base64 32-byte
 * hash, at most 63 of them, an empty line, then a non-empty note (not checked here).
 * SCITT_ERR_MALFORMED for any deviation.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_witness_request_parse(scitt_span body,
                                                               scitt_witness_request *out);

/** Formats an add-checkpoint body into @p out. */
SCITT_API SCITT_MUST_USE scitt_err
scitt_witness_request_format(uint64_t old_size, const uint8_t proof[][SCITT_HASH_LEN],
                             size_t n_proof, scitt_span note, scitt_dynbuf *out);

/** What a witness remembers of one log: the latest checkpoint it cosigned (size 0: none). */
typedef struct scitt_witness_state {
    uint64_t size;
    uint8_t root[SCITT_HASH_LEN];
} scitt_witness_state;

/** One log a witness cosigns for: its origin and the verifier keys of its checkpoints. */
typedef struct scitt_witness_log {
    scitt_span origin;
    const scitt_note_verifier *keys;
    size_t n_keys;
} scitt_witness_log;

/** The answer to an add-checkpoint request (tlog-witness status codes). */
typedef enum scitt_witness_verdict {
    SCITT_WITNESS_COSIGN = 200,      /**< consistent: persist @p next, then cosign */
    SCITT_WITNESS_BAD_REQUEST = 400, /**< old size above the checkpoint size, bad checkpoint */
    SCITT_WITNESS_FORBIDDEN = 403,   /**< no trusted log signature verifies */
    SCITT_WITNESS_UNKNOWN_LOG = 404, /**< origin not configured */
    SCITT_WITNESS_CONFLICT = 409,    /**< old size is not ours, or same size with another root */
    SCITT_WITNESS_BAD_PROOF = 422,   /**< the consistency proof does not verify */
} scitt_witness_verdict;

/**
 * Decides an add-checkpoint request @p req against @p logs (the configured logs) and @p state
 * (the caller's durable state of each log, same order; size 0 = never cosigned). On
 * SCITT_WITNESS_COSIGN, @p *log_index names the log, @p next holds the state to persist before
 * cosigning, and @p cp_text the checkpoint text (in @p req->note) to cosign. On 409 the caller
 * answers with state[*log_index].size. @p why (optional) receives a short static reason.
 * Never returns COSIGN for a checkpoint whose size equals the stored size with another root,
 * whose size is below the stored size, or without a proof from the stored root.
 */
SCITT_API scitt_witness_verdict scitt_witness_check(const scitt_witness_log *logs,
                                                    const scitt_witness_state *state, size_t n_logs,
                                                    const scitt_witness_request *req,
                                                    size_t *log_index, scitt_witness_state *next,
                                                    scitt_span *cp_text, const char **why);

/* ---- tlog-policy --------------------------------------------------------------------------- */

#define SCITT_POLICY_MAX_LOGS      32u
#define SCITT_POLICY_MAX_WITNESSES 32u
#define SCITT_POLICY_MAX_GROUPS    32u
/** Largest policy file accepted (SCITT_ERR_TOO_LARGE). */
#define SCITT_POLICY_MAX_BYTES     65536u
#define SCITT_POLICY_NAME_MAX      64u

typedef struct scitt_tlog_policy_group {
    char name[SCITT_POLICY_NAME_MAX + 1];
    unsigned k, n;
    /* members: index < 32 a witness, 32 + g the group g */
    uint8_t members[SCITT_POLICY_MAX_WITNESSES + SCITT_POLICY_MAX_GROUPS];
} scitt_tlog_policy_group;

typedef struct scitt_tlog_policy {
    size_t n_logs, n_witnesses, n_groups;
    scitt_note_verifier logs[SCITT_POLICY_MAX_LOGS];
    scitt_note_verifier witnesses[SCITT_POLICY_MAX_WITNESSES];
    char witness_names[SCITT_POLICY_MAX_WITNESSES][SCITT_POLICY_NAME_MAX + 1];
    scitt_tlog_policy_group groups[SCITT_POLICY_MAX_GROUPS];
    int quorum; /**< -1 none, < 32 a witness, 32 + g a group */
} scitt_tlog_policy;

/**
 * Parses a C2SP tlog-policy file (log, witness, group and quorum lines; comments, blank lines,
 * optional URLs). SCITT_ERR_POLICY for a syntax or semantic error (a name used before it is
 * defined, a duplicate key or name or member, k out of 1..n, no or two quorum lines), with a
 * short static reason in @p why (optional) and the 1-based line in @p line (optional).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_tlog_policy_parse(scitt_span text, scitt_tlog_policy *out,
                                                           const char **why, size_t *line);

/**
 * Checks a cosigned checkpoint @p note against @p p: signed by one of the policy's logs (whose key
 * name equals the origin; with no log line, @p log_keys / @p n_log_keys are used instead) and
 * cosigned per the quorum. On SCITT_ERR_POLICY (quorum not met), @p missing (optional) receives
 * the names of the policy's witnesses that did not cosign, comma-separated. @p cp (optional) is
 * filled on success. Other errors as scitt_checkpoint_open and scitt_cosig_verify.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_tlog_policy_check(const scitt_tlog_policy *p,
                                                           scitt_span note,
                                                           const scitt_note_verifier *log_keys,
                                                           size_t n_log_keys, scitt_checkpoint *cp,
                                                           char *missing, size_t missing_cap);

/**
 * Whether the witnesses in @p cosigned (bit i: the policy's witness i cosigned; the caller has
 * verified each cosignature) meet the quorum of @p p. When they do not, @p missing (optional)
 * receives the names of the policy's witnesses not in the set, comma-separated (as
 * scitt_tlog_policy_check). A policy without a quorum line is met by any set.
 */
SCITT_API bool scitt_tlog_policy_met(const scitt_tlog_policy *p, uint32_t cosigned, char *missing,
                                     size_t missing_cap);

/* ---- witnessed receipts ------------------------------------------------------------------ */

/** Unprotected header label of a receipt holding the cosigned checkpoint (signed note text) it
 *  was made against: COSE private use (RFC 9052 §11), beside -65537, the signed tree size. */
#define SCITT_RECEIPT_HDR_CHECKPOINT (-65538)

/**
 * Appends to @p out receipt @p receipt (a tagged COSE_Sign1) with cosigned checkpoint @p note
 * (1..SCITT_LIMIT_NOTE_BYTES bytes of UTF-8) added to its unprotected header under
 * SCITT_RECEIPT_HDR_CHECKPOINT, in deterministic key order; everything else is copied as it was,
 * so the receipt's signature and proofs are unchanged. SCITT_ERR_HEADER if the label is there
 * already; CBOR errors for a receipt that does not decode. On error @p out is left as it was.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_attach_checkpoint(scitt_span receipt,
                                                                   scitt_span note,
                                                                   scitt_dynbuf *out);

/**
 * The cosigned checkpoint note a receipt carries in its unprotected header (a span into
 * @p receipt; nothing is verified: check it with scitt_tlog_policy_check, then compare its size
 * and root with the receipt's). SCITT_ERR_NOT_FOUND without one, SCITT_ERR_HEADER when the label
 * holds anything but a text string of at most SCITT_LIMIT_NOTE_BYTES, CBOR errors otherwise.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_receipt_checkpoint(scitt_span receipt, scitt_span *note);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_WITNESS_H */
