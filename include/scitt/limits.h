/*
 * scitt/limits.h — every hard limit in scittd, in one place. Each has the error it produces
 * when exceeded noted beside it. Raising one is a deliberate decision: each bounds memory or
 * work an attacker can cause.
 */
#ifndef SCITT_LIMITS_H
#define SCITT_LIMITS_H

/* CBOR reading (SCITT_ERR_TOO_DEEP / SCITT_ERR_TOO_LARGE). */
#define SCITT_LIMIT_CBOR_DEPTH    16u    /**< nesting of arrays, maps and tags */
#define SCITT_LIMIT_CBOR_ITEMS    4096u  /**< items in one array or map */
#define SCITT_LIMIT_CBOR_TOTAL    65536u /**< items in one decoded object */
#define SCITT_LIMIT_HEADER_LABELS 64u    /**< labels in one COSE header bucket */

/* Objects (SCITT_ERR_TOO_LARGE). */
#define SCITT_LIMIT_STATEMENT_DEFAULT 65535u      /**< default maximum registered statement */
#define SCITT_LIMIT_STATEMENT_MAX     (16u << 20) /**< absolute maximum, even when configured */
#define SCITT_LIMIT_X5CHAIN_CERTS     16u         /**< certificates in one x5chain */
#define SCITT_LIMIT_RECEIPTS          16u         /**< receipts in one transparent statement */
#define SCITT_LIMIT_ISS_CHARS         8192u       /**< RFC 9943: iss 1..8192 characters */
#define SCITT_LIMIT_DYNBUF_MAX        (64u << 20) /**< default ceiling of a growable buffer */

/* COSE headers, keys and receipts (SCITT_ERR_TOO_LARGE unless noted). */
#define SCITT_LIMIT_CRIT_LABELS  16u    /**< labels in one crit array */
#define SCITT_LIMIT_KEYS_STACK   64u    /**< map keys checked for duplicates without allocating */
#define SCITT_LIMIT_KEY_TEXT     65536u /**< bytes of one PEM, DER, JWK(S) or COSE_Key(_Set) */
#define SCITT_LIMIT_KEYSET_KEYS  64u    /**< keys in one COSE_Key_Set or JWKS */
#define SCITT_LIMIT_KID_BYTES    256u   /**< bytes of one kid */
#define SCITT_LIMIT_RSA_BITS_MIN 2048u  /**< smaller RSA keys are SCITT_ERR_UNSUPPORTED */
#define SCITT_LIMIT_RSA_BITS_MAX 8192u  /**< larger RSA keys are SCITT_ERR_UNSUPPORTED */
#define SCITT_LIMIT_RECEIPT_NAME 1024u  /**< bytes of iss / sub in a receipt we issue */
#define SCITT_LIMIT_VDP_PROOFS   8u     /**< proofs in one 396 -1 / -2 array */

/* Merkle proofs (SCITT_ERR_PROOF_MALFORMED). */
#define SCITT_LIMIT_PROOF_HASHES 64u /**< inclusion or consistency path length */

/* JSON (SCITT_ERR_TOO_DEEP / SCITT_ERR_TOO_LARGE). */
#define SCITT_LIMIT_JSON_DEPTH   32u
#define SCITT_LIMIT_JSON_TOKENS  65536u
#define SCITT_LIMIT_JSON_BYTES   (4u << 20)
#define SCITT_LIMIT_JSON_MEMBERS 1024u /**< members of one object (keys are checked pairwise) */

/* Signed notes (SCITT_ERR_TOO_LARGE): a checkpoint with its log signature and up to 127 witness
 * cosignatures (C2SP signed-note: verifiers accept at least 16; Go's x/mod/sumdb/note takes 100),
 * each line up to a 255-byte key name and a timestamped cosignature, fits in the byte limit. */
#define SCITT_LIMIT_NOTE_BYTES 65536u
#define SCITT_LIMIT_NOTE_SIGS  128u

/* TEE evidence (SCITT_ERR_TOO_LARGE / SCITT_ERR_EVIDENCE_MALFORMED). */
#define SCITT_LIMIT_TEE_BLOB  (64u << 10) /**< configfs outblob/auxblob, cert table, PEM bundle */
#define SCITT_LIMIT_TEE_CERT  (16u << 10) /**< one endorsement certificate (DER) */
#define SCITT_LIMIT_TEE_CERTS 16u         /**< entries in a cert table or PEM bundle */
#define SCITT_LIMIT_TEE_FILE  (4u << 20)  /**< one Confidential ACI security-context file */

#endif /* SCITT_LIMITS_H */
