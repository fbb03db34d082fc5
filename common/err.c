/* Error names and texts. The table is the single source of both. */
#include "scitt/base.h"

typedef struct {
    scitt_err code;
    const char *name;
    const char *text;
} err_row;

#define ROW(c, t)                                                                                  \
    {                                                                                              \
        c, #c, t                                                                                   \
    }

static const err_row rows[] = {
    ROW(SCITT_OK, "success"),
    ROW(SCITT_ERR_INVALID_ARG, "invalid argument"),
    ROW(SCITT_ERR_BUFFER_TOO_SMALL, "output buffer too small"),
    ROW(SCITT_ERR_NOMEM, "out of memory"),
    ROW(SCITT_ERR_UNSUPPORTED, "not supported"),
    ROW(SCITT_ERR_STATE, "operation not allowed in the current state"),
    ROW(SCITT_ERR_MALFORMED, "malformed input"),
    ROW(SCITT_ERR_TRUNCATED, "input truncated"),
    ROW(SCITT_ERR_TRAILING, "trailing bytes after the item"),
    ROW(SCITT_ERR_NON_CANONICAL, "CBOR head not in shortest form"),
    ROW(SCITT_ERR_INDEFINITE, "indefinite-length CBOR item"),
    ROW(SCITT_ERR_DUPLICATE_KEY, "duplicate map key or header label"),
    ROW(SCITT_ERR_TOO_DEEP, "nesting too deep"),
    ROW(SCITT_ERR_TOO_LARGE, "size or count over its limit"),
    ROW(SCITT_ERR_BAD_TAG, "CBOR tag not allowed here"),
    ROW(SCITT_ERR_BAD_TYPE, "CBOR item of the wrong type"),
    ROW(SCITT_ERR_PROOF_MALFORMED, "proof has the wrong shape for its sizes"),
    ROW(SCITT_ERR_HEADER, "COSE header missing, misplaced or of the wrong type"),
    ROW(SCITT_ERR_ALG, "algorithm unknown, unsupported or not matching the key"),
    ROW(SCITT_ERR_CRIT, "critical header label not understood"),
    ROW(SCITT_ERR_KEY_MALFORMED, "key does not parse"),
    ROW(SCITT_ERR_UTF8, "text is not valid UTF-8"),
    ROW(SCITT_ERR_CERT_MALFORMED, "certificate does not parse"),
    ROW(SCITT_ERR_JSON, "JSON does not parse"),
    ROW(SCITT_ERR_RANGE, "number out of range"),
    ROW(SCITT_ERR_BAD_SIMPLE, "CBOR simple value or float not allowed here"),
    ROW(SCITT_ERR_PAYLOAD_MISSING, "detached payload not supplied"),
    ROW(SCITT_ERR_DID_MALFORMED, "did:x509 does not parse"),
    ROW(SCITT_ERR_NOTE_MALFORMED, "signed note does not parse"),
    ROW(SCITT_ERR_EVIDENCE_MALFORMED, "TEE evidence does not parse"),
    ROW(SCITT_ERR_SIGNATURE, "signature does not verify"),
    ROW(SCITT_ERR_PROOF_MISMATCH, "proof does not lead to the expected root"),
    ROW(SCITT_ERR_CONSISTENCY, "tree heads are not consistent"),
    ROW(SCITT_ERR_KEY_MISMATCH, "key does not match"),
    ROW(SCITT_ERR_CERT_CHAIN, "certificate path validation failed"),
    ROW(SCITT_ERR_UNTRUSTED, "no trusted key or root"),
    ROW(SCITT_ERR_POLICY, "rejected by policy"),
    ROW(SCITT_ERR_DID_MISMATCH, "did:x509 does not match the certificate chain"),
    ROW(SCITT_ERR_EXPIRED, "outside the validity period"),
    ROW(SCITT_ERR_EVIDENCE, "TEE evidence does not verify"),
    ROW(SCITT_ERR_INSECURE, "insecure virtual evidence not allowed"),
    ROW(SCITT_ERR_BINDING, "evidence does not bind the expected key"),
    ROW(SCITT_ERR_IO, "I/O error"),
    ROW(SCITT_ERR_NOT_FOUND, "not found"),
    ROW(SCITT_ERR_MAP_FULL, "storage map full"),
    ROW(SCITT_ERR_CRYPTO, "crypto library failure"),
    ROW(SCITT_ERR_BUSY, "busy, try again later"),
    ROW(SCITT_ERR_NO_SPACE, "no space left on device"),
    ROW(SCITT_ERR_TIMEOUT, "timed out"),
    ROW(SCITT_ERR_NO_TEE, "no TEE available"),
    ROW(SCITT_ERR_CLOSED, "shutting down"),
    ROW(SCITT_ERR_INTEGRITY, "stored state contradicts its signed tree head"),
    ROW(SCITT_ERR_CORRUPT, "stored value fails validation"),
};

static const err_row *find(scitt_err err)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].code == err) {
            return &rows[i];
        }
    }
    return NULL;
}

const char *scitt_err_str(scitt_err err)
{
    const err_row *r = find(err);
    return r ? r->text : "unknown error";
}

const char *scitt_err_name(scitt_err err)
{
    const err_row *r = find(err);
    return r ? r->name : "SCITT_ERR_UNKNOWN";
}
