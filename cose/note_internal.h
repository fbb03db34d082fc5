/*
 * Internals shared by the signed-note files of the cose module. Not installed.
 */
#ifndef SCITT_COSE_NOTE_INTERNAL_H
#define SCITT_COSE_NOTE_INTERNAL_H

#include "scitt/note.h"

/** Signs @p msg with the Ed25519 @p seed (the OpenSSL adapter). */
scitt_err scitt__ed25519_sign(const uint8_t seed[32], scitt_span msg, uint8_t sig[64]);

/** Signs @p msg with a prepared key; its public key into @p pub. */
scitt_err scitt__ed25519_sign_key(const scitt_note_key *k, scitt_span msg, uint8_t sig[64],
                                  uint8_t pub[32]);

/** SCITT_OK when @p sig is a valid Ed25519 signature of @p msg by @p pub, else
 *  SCITT_ERR_SIGNATURE (or SCITT_ERR_NOMEM / SCITT_ERR_CRYPTO). */
scitt_err scitt__ed25519_verify(const uint8_t pub[32], scitt_span msg, const uint8_t sig[64]);

/** Checks note text: valid UTF-8 (SCITT_ERR_UTF8) without control characters but '\n'
 *  (SCITT_ERR_NOTE_MALFORMED). */
scitt_err scitt__note_text_check(scitt_span text);

#endif /* SCITT_COSE_NOTE_INTERNAL_H */
