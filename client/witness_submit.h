/*
 * client/witness_submit.h — the log's side of C2SP tlog-witness (internal to libscitt-client):
 * one add-checkpoint exchange with a witness, learning the witness's size from its 409 answer,
 * and keeping only a cosignature line that verifies. One piece for both callers: the external
 * collector (`scitt witness collect`, tools/cmd_witness.c), which reads consistency proofs from
 * the log over HTTP, and scittd's own collection (server/witness.c), which reads them from its
 * ledger. The caller supplies the proofs through a callback.
 */
#ifndef SCITT_CLIENT_WITNESS_SUBMIT_H
#define SCITT_CLIENT_WITNESS_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"
#include "scitt/note.h"
#include "scitt/witness.h"

/** Fills @p path / @p n with the log's RFC 9162 consistency proof from @p old_size to
 *  @p new_size (0 < old_size < new_size; at most SCITT_WITNESS_PROOF_MAX hashes); on failure
 *  @p why says what failed. */
typedef scitt_err (*scitt__witness_proof_fn)(void *ctx, uint64_t old_size, uint64_t new_size,
                                             uint8_t path[][SCITT_HASH_LEN], size_t *n, char *why,
                                             size_t cap);

/** What one submission came to. */
typedef struct scitt__witness_outcome {
    int status;      /**< the witness's last HTTP status (0: no answer) */
    bool learnt;     /**< a 409 told the witness's size (then *known was updated) */
    uint64_t latest; /**< that size */
    long ms;         /**< time taken, milliseconds */
} scitt__witness_outcome;

/**
 * Submits signed checkpoint @p note (the log's signature lines, no cosignatures) of tree size
 * @p size to the witness at base URL @p url whose cosigning key is @p w, with the consistency
 * proof from *known (the size the witness is believed to have cosigned last; 0: none or unknown).
 * A 409 answer carrying a size not above @p size sets *known to it and the request is made once
 * more. On success the witness's cosignature line ("— name base64\n"), verified against @p w over
 * this checkpoint, is appended to @p line, *known becomes @p size and SCITT_OK is returned.
 * Otherwise SCITT_ERR_IO / SCITT_ERR_TIMEOUT (no answer), SCITT_ERR_POLICY (the witness refused:
 * out->status says how), SCITT_ERR_BUSY (429 or 5xx: it did not decide), SCITT_ERR_SIGNATURE
 * (its answer holds no valid cosignature), or the
 * proof callback's error; @p why gets one line saying why.
 */
scitt_err scitt__witness_submit(const char *url, const scitt_note_verifier *w, scitt_span note,
                                uint64_t size, uint64_t *known, scitt__witness_proof_fn proof,
                                void *proof_ctx, int timeout_ms, scitt_dynbuf *line,
                                scitt__witness_outcome *out, char *why, size_t cap);

/** Appends the lines of signed note @p note signed by @p keys (name and key ID) to @p out, in
 *  note order: how a cosigned checkpoint is assembled from the log's own lines. */
scitt_err scitt__note_lines_of(scitt_span note, const scitt_note_verifier *keys, size_t n_keys,
                               scitt_dynbuf *out);

#endif
