/*
 * scitt/note.h — C2SP signed notes (Ed25519, signature type 0x01) and tlog-checkpoint bodies.
 *
 * A signed note is its text (valid UTF-8, no control characters but newline, ending in a
 * newline), one blank line, then one or more signature lines
 *     "— <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>\n"
 * where "—" is U+2014 and the signature covers the text including its final newline. The key ID
 * is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || 32-byte public key), big-endian.
 * Verifier keys travel as "vkey" strings: "<name>+<8 hex key ID>+<base64(0x01 || public key)>".
 *
 * Keys are raw Ed25519 bytes: the 32-byte private seed (RFC 8032) and the 32-byte public key.
 * Nothing here allocates except into a caller's scitt_dynbuf, and nothing keeps a pointer to its
 * inputs past the call; spans returned point into the caller's input.
 */
#ifndef SCITT_NOTE_H
#define SCITT_NOTE_H

#include "scitt/base.h"
#include "scitt/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCITT_NOTE_ED25519_KEY_LEN  32 /**< seed and public key */
#define SCITT_NOTE_ED25519_SIG_LEN  64
#define SCITT_NOTE_SIG_TYPE_ED25519 0x01
/** Longest key name accepted (bytes of UTF-8). */
#define SCITT_NOTE_NAME_MAX         255u
/** Most verifier keys one call takes (each gets one bit of scitt_note_result.verified). */
#define SCITT_NOTE_MAX_VERIFIERS    32u
/** Room for the longest vkey string with its NUL: name '+' 8 hex '+' base64(33 bytes). */
#define SCITT_NOTE_VKEY_MAX         (SCITT_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

/**
 * True when @p name is a valid key name: non-empty, at most SCITT_NOTE_NAME_MAX bytes, valid
 * UTF-8, no '+' and no Unicode white space or control character.
 */
SCITT_API bool scitt_note_name_valid(scitt_span name);

/** The C2SP key ID: first 4 bytes (big-endian) of SHA-256(name || 0x0A || type || key). */
SCITT_API uint32_t scitt_note_key_id(scitt_span name, uint8_t sig_type, scitt_span key);

/** Derives the Ed25519 public key from a 32-byte private seed. */
SCITT_API SCITT_MUST_USE scitt_err scitt_note_ed25519_public(
    const uint8_t seed[SCITT_NOTE_ED25519_KEY_LEN], uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN]);

/** A known verifier key (plain data: copy freely). */
typedef struct scitt_note_verifier {
    char name[SCITT_NOTE_NAME_MAX + 1]; /**< NUL-terminated */
    size_t name_len;
    uint32_t key_id;
    uint8_t key[SCITT_NOTE_ED25519_KEY_LEN];
} scitt_note_verifier;

/** Fills @p v for @p name and an Ed25519 public key (key ID computed). SCITT_ERR_INVALID_ARG for
 *  an invalid name. */
SCITT_API SCITT_MUST_USE scitt_err scitt_note_verifier_init(
    scitt_note_verifier *v, scitt_span name, const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN]);

/**
 * Parses a vkey string. SCITT_ERR_KEY_MALFORMED (syntax, name, base64, length),
 * SCITT_ERR_ALG (a signature type other than Ed25519), SCITT_ERR_KEY_MISMATCH (the key ID is
 * not the one the name and key give).
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_note_vkey_parse(scitt_span vkey, scitt_note_verifier *out);

/** Writes the vkey string of @p name and @p pub (NUL-terminated; SCITT_NOTE_VKEY_MAX suffices). */
SCITT_API SCITT_MUST_USE scitt_err scitt_note_vkey_format(
    scitt_span name, const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN], char *out, size_t cap);

/**
 * An Ed25519 signing key made ready once (its public key derived, the library's key object
 * built), for a signer that signs many notes. Free with scitt_note_key_free (NULL is a no-op).
 */
typedef struct scitt_note_key scitt_note_key;
SCITT_API SCITT_MUST_USE scitt_err
scitt_note_key_new(const uint8_t seed[SCITT_NOTE_ED25519_KEY_LEN], scitt_note_key **out);
SCITT_API void scitt_note_key_free(scitt_note_key *k);

/**
 * One signing key: a key name and either a 32-byte Ed25519 seed or a prepared key (used when
 * not NULL); both borrowed for the call only.
 */
typedef struct scitt_note_signer {
    scitt_span name;
    const uint8_t *seed;
    const scitt_note_key *key;
} scitt_note_signer;

/**
 * Signs @p text with each of @p signers (1..SCITT_LIMIT_NOTE_SIGS) and appends the signed note to
 * @p out. @p text must be a valid note text (non-empty, UTF-8, no control characters but '\n',
 * ending in '\n': else SCITT_ERR_NOTE_MALFORMED / SCITT_ERR_UTF8); the whole note must fit in
 * SCITT_LIMIT_NOTE_BYTES (SCITT_ERR_TOO_LARGE). On error @p out is left as it was.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_note_sign(scitt_span text,
                                                   const scitt_note_signer *signers, size_t n,
                                                   scitt_dynbuf *out);

/** One signature line of a note; spans point into the note. */
typedef struct scitt_note_sig {
    scitt_span name;     /**< the key name */
    uint32_t key_id;     /**< the first 4 decoded bytes, big-endian */
    size_t sig_len;      /**< decoded bytes after the key ID (64 for Ed25519) */
    scitt_span blob_b64; /**< the base64 text of key ID || signature */
} scitt_note_sig;

/** A note split into its text and signature lines, nothing verified. */
typedef struct scitt_note_parsed {
    scitt_span text; /**< including its final newline */
    size_t n_sigs;
    scitt_note_sig sigs[SCITT_LIMIT_NOTE_SIGS];
} scitt_note_parsed;

/**
 * Splits a signed note into text and signature lines and checks their syntax (the same checks
 * and errors as scitt_note_verify short of signatures), for callers that need to see every line,
 * such as a witness looking for its own cosignature.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_note_parse(scitt_span note, scitt_note_parsed *out);

/** What verification found. */
typedef struct scitt_note_result {
    scitt_span text;   /**< the signed text inside the note, including its final newline */
    uint32_t verified; /**< bit i set: keys[i] signed the note and its signature verified */
    size_t sigs;       /**< signature lines in the note */
    size_t unknown;    /**< lines whose (name, key ID) matches none of the keys (ignored) */
} scitt_note_result;

/**
 * Verifies a signed note against known keys (at most SCITT_NOTE_MAX_VERIFIERS). Signature lines
 * from unknown (name, key ID) pairs are ignored (a checkpoint may carry the cosignatures of many
 * witnesses: up to SCITT_LIMIT_NOTE_SIGS lines, at least the 100 other implementations accept); a
 * line from a known key that does not verify rejects the note; at least one known key must
 * verify. Every line's base64 is checked whatever its length (other signature types are longer).
 *
 * @param out optional; filled on SCITT_OK.
 * @return SCITT_OK; SCITT_ERR_TOO_LARGE (over SCITT_LIMIT_NOTE_BYTES bytes or
 *         SCITT_LIMIT_NOTE_SIGS signature lines); SCITT_ERR_UTF8; SCITT_ERR_NOTE_MALFORMED (a
 *         control character, no blank line before the signatures, a bad signature line);
 *         SCITT_ERR_SIGNATURE (a known key's signature is wrong); SCITT_ERR_UNTRUSTED (no known
 *         key signed); SCITT_ERR_INVALID_ARG.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_note_verify(scitt_span note,
                                                     const scitt_note_verifier *keys, size_t n,
                                                     scitt_note_result *out);

/* --------------------------------------------------------------------------------------------
 * C2SP tlog-checkpoint: "<origin>\n<size>\n<base64 root>\n" then zero or more extension lines.
 */

typedef struct scitt_checkpoint {
    scitt_span origin;     /**< non-empty, without its newline */
    uint64_t size;         /**< decimal in the text, no leading zeros */
    uint8_t root[32];      /**< standard base64 in the text, exactly 32 bytes */
    scitt_span extensions; /**< zero or more non-empty lines, each with its '\n' */
} scitt_checkpoint;

/**
 * Parses a checkpoint body (the note text) strictly. Spans point into @p text.
 * SCITT_ERR_NOTE_MALFORMED for any deviation, SCITT_ERR_UTF8, SCITT_ERR_TOO_LARGE.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_checkpoint_parse(scitt_span text, scitt_checkpoint *out);

/**
 * Appends the body for @p origin, @p size and @p root, then @p extensions (empty, or complete
 * non-empty lines), to @p out. SCITT_ERR_INVALID_ARG for an empty or multi-line origin or badly
 * formed extensions.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_checkpoint_format(scitt_span origin, uint64_t size,
                                                           const uint8_t root[32],
                                                           scitt_span extensions,
                                                           scitt_dynbuf *out);

/**
 * Verifies a signed checkpoint note (scitt_note_verify) and parses its body. With a non-empty
 * @p origin the checkpoint's origin must equal it (else SCITT_ERR_UNTRUSTED). @p cp and @p res
 * (optional) are filled on SCITT_OK; their spans point into @p note.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_checkpoint_open(scitt_span note,
                                                         const scitt_note_verifier *keys, size_t n,
                                                         scitt_span origin, scitt_checkpoint *cp,
                                                         scitt_note_result *res);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_NOTE_H */
