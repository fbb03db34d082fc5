/*
 * scitt/cosigner.h — the witness role (C2SP tlog-witness): the state machine both witnesses of
 * this project use, `scitt witness serve` and scittd --witness-key. It decides an add-checkpoint
 * request (scitt_witness_check: the log's signature, the consistency proof from the size it
 * cosigned before, conflicts), records the new latest checkpoint of that log durably (replaced
 * atomically and synced) BEFORE it signs, and then signs the cosignature/v1 line.
 *
 * The state of each configured log is one file in the state folder: "<hex SHA-256 of the
 * origin>.checkpoint" holding the text of the latest checkpoint cosigned. The folder is locked
 * (flock) against a second witness process for as long as the cosigner is open, and a state file
 * that cannot be read stops the open (starting from nothing would allow a rollback). So the
 * witness never cosigns two roots for one size, nor a smaller tree, across restarts and crashes.
 *
 * Threads: scitt_cosigner_add and scitt_cosigner_size may be called from any number of threads;
 * the check, the write and the update of one request run under one lock. Nothing here prints.
 */
#ifndef SCITT_COSIGNER_H
#define SCITT_COSIGNER_H

#include "scitt/base.h"
#include "scitt/note.h"
#include "scitt/witness.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Logs one cosigner witnesses, at most. */
#define SCITT_COSIGNER_MAX_LOGS     32u
/** The witness key file: "PRIVATE+KEY+<name>+<8 hex key ID>+base64(0x04 || 32-byte seed)\n". */
#define SCITT_COSIGNER_KEY_FILE_MAX 512u

/** One log to witness: its origin and its checkpoint verifier key (Ed25519). */
typedef struct scitt_cosigner_log {
    char origin[SCITT_NOTE_NAME_MAX + 1];
    scitt_note_verifier key;
} scitt_cosigner_log;

/**
 * Parses "[ORIGIN=]VKEY" (the first split at '=' whose right side is a vkey, else the whole as a
 * vkey whose name is the origin). SCITT_ERR_INVALID_ARG when it is neither.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosigner_log_parse(const char *arg,
                                                            scitt_cosigner_log *out);

/** Parses a witness key file into its name (NUL-terminated) and seed; SCITT_ERR_KEY_MALFORMED,
 *  SCITT_ERR_KEY_MISMATCH (the key ID is not the name and key's). */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosigner_key_parse(scitt_span text,
                                                            char name[SCITT_NOTE_NAME_MAX + 1],
                                                            uint8_t seed[32]);

/** Formats a witness key file for @p name and @p seed into @p out. */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosigner_key_format(const char *name,
                                                             const uint8_t seed[32],
                                                             scitt_dynbuf *out);

typedef struct scitt_cosigner_config {
    const char *state_dir; /**< created (0700) when missing; locked while open */
    const char *name;      /**< the witness key's name */
    const uint8_t *seed;   /**< its 32-byte Ed25519 seed (copied into the key) */
    const scitt_cosigner_log *logs;
    size_t n_logs; /**< 1..SCITT_COSIGNER_MAX_LOGS, distinct origins */
} scitt_cosigner_config;

typedef struct scitt_cosigner scitt_cosigner;

/**
 * Opens the state folder, locks it and reads the state of every log. SCITT_ERR_BUSY when another
 * process holds the folder, SCITT_ERR_INTEGRITY (or a read error) for a state file that cannot be
 * used, SCITT_ERR_INVALID_ARG for a bad configuration; @p reason says which in one line.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_cosigner_open(const scitt_cosigner_config *cfg,
                                                       scitt_cosigner **out, char *reason,
                                                       size_t cap);

/** Releases the lock and frees. NULL is a no-op. */
SCITT_API void scitt_cosigner_close(scitt_cosigner *c);

/** The witness's verifier key (cosignature type 0x04), NUL-terminated. */
SCITT_API const char *scitt_cosigner_vkey(const scitt_cosigner *c);

/** What an add-checkpoint request got. */
typedef struct scitt_cosigner_answer {
    /** 200 (cosigned), the tlog-witness refusals 400, 403, 404, 409 and 422, or 503 when the
     *  state could not be written or the signature not made (nothing was cosigned). */
    int status;
    /** 200: "text/plain; charset=utf-8" (the cosignature line); 409: "text/x.tlog.size" (the
     *  latest cosigned size and a newline); else NULL: answer problem details with @p why. */
    const char *content_type;
    const char *why;    /**< short static reason of a refusal ("" when cosigned) */
    const char *origin; /**< the log's configured origin, when the request named one we know */
    uint64_t old_size;  /**< the request's old size (0 for an unparsable body) */
    uint64_t prev_size; /**< the size cosigned before this request */
    uint64_t size;      /**< 200: the size cosigned now */
    int write_errno;    /**< 503 from the state write: its errno */
} scitt_cosigner_answer;

/**
 * Answers the add-checkpoint request body @p body (C2SP tlog-witness). For 200 and 409 the
 * response body is appended to @p out; for other statuses @p out is left as it was. A 200 means
 * the checkpoint was consistent with the log's state and that state now holds it durably: the
 * write (file replaced and synced) happens before the signature is made.
 */
SCITT_API void scitt_cosigner_add(scitt_cosigner *c, scitt_span body, scitt_dynbuf *out,
                                  scitt_cosigner_answer *ans);

/** The number of logs, and the origin and latest cosigned size of log @p i (false past them). */
SCITT_API size_t scitt_cosigner_logs(const scitt_cosigner *c);
SCITT_API bool scitt_cosigner_size(scitt_cosigner *c, size_t i, const char **origin,
                                   uint64_t *size);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_COSIGNER_H */
