/*
 * scitt/service.h — the transparency service on top of the ledger: its identity (receipt keys
 * and checkpoint note key), the registration policy in force (itself registered in the log), the
 * check stage of registration, and receipts, transparent statements and consistency receipts.
 *
 * Threads: scitt_service_check and the read functions may run on any number of threads at once.
 */
#ifndef SCITT_SERVICE_H
#define SCITT_SERVICE_H

#include "scitt/base.h"
#include "scitt/cose.h"
#include "scitt/ledger.h"
#include "scitt/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Where the service keys live at rest. The virtual platform stores them in a 0600 file
 * (scitt_keystore_file); a TEE platform seals them. `load` appends the stored blob to @p out
 * (SCITT_ERR_NOT_FOUND when there is none); `store` replaces it atomically.
 */
typedef struct scitt_keystore {
    scitt_err (*load)(void *ctx, scitt_dynbuf *out);
    scitt_err (*store)(void *ctx, scitt_span blob);
    const char *description; /**< how keys are protected, for reports ("INSECURE ...") */
    void *ctx;
} scitt_keystore;

/**
 * The file keystore: the blob in "<dir>/<name>" (NULL name: "service-keys") with mode 0600,
 * written through a temporary file and rename. It protects nothing by itself: the virtual platform
 * uses it as is (INSECURE), a TEE platform stores a sealed blob through it. @p path_storage
 * (PATH_MAX bytes) holds the path for the keystore's lifetime.
 */
void scitt_keystore_file(const char *dir, const char *name, char *path_storage, size_t cap,
                         scitt_keystore *out);

typedef struct scitt_service_config {
    const char *data_dir; /**< the LMDB log, and the keystore of the virtual platform */
    /** A postgresql:// URL: the log lives in that database (scitt_ledger_config.storage). */
    const char *storage;
    const char *issuer; /**< iss of receipts and policy statements (default "scittd.local") */
    const char *origin; /**< checkpoint origin and receipt sub (default: the issuer) */
    /** The policy document. {NULL, 0} (none given): the development policy on a new log, the
     * policy in force on a log whose policy in force is the development policy; a log with
     * another policy in force refuses to open without one (SCITT_ERR_STATE). An empty
     * document given is a JSON error, never the development policy. */
    scitt_span policy_json;
    int64_t receipt_alg;     /**< for a newly generated receipt key (0: ES256) */
    bool rotate_receipt_key; /**< add a new receipt key at open; old ones stay published */
    uint64_t map_size, map_size_max;
    unsigned batch_max, batch_delay_ms;
    const scitt_keystore *keystore; /**< required unless read_only; borrowed until close */
    bool read_only;                 /**< for tools: no keys needed, no writes */
    /**
     * PostgreSQL, several instances (scitt_ledger_config.lease_ms; docs/ha.md): 0 takes the
     * writer's token at open. The newest signed head is kept in data_dir/signed-head.
     */
    unsigned lease_ms;
    const char *holder; /**< this instance's name in the lease row */
} scitt_service_config;

typedef struct scitt_service scitt_service;

/**
 * Opens the ledger, loads (or at first start generates and stores) the service keys, and makes
 * the configured policy the one in force, registering it as a service-signed statement when it
 * differs from the last one registered (only when a policy was given: see policy_json).
 * @p reason gets a one-line explanation on failure.
 */
SCITT_MUST_USE scitt_err scitt_service_open(const scitt_service_config *cfg, scitt_service **out,
                                            char *reason, size_t cap);
/** Drains the sequencer and closes everything. NULL is a no-op. */
void scitt_service_close(scitt_service *s);

scitt_ledger *scitt_service_ledger(scitt_service *s);
const scitt_policy *scitt_service_policy(const scitt_service *s);
/** Index of the policy entry in force (SCITT_LEDGER_NO_POLICY for a read-only opener). */
uint64_t scitt_service_policy_index(const scitt_service *s);
const char *scitt_service_issuer(const scitt_service *s);
const char *scitt_service_origin(const scitt_service *s);
/** The current receipt key (public part used; borrowed). */
const scitt_cose_key *scitt_service_receipt_key(const scitt_service *s);
/** All receipt keys, current last (borrowed). */
const scitt_cose_keyset *scitt_service_keys(const scitt_service *s);
/** The C2SP verifier key of the checkpoint note key. */
const char *scitt_service_vkey(const scitt_service *s);
/** The service identity document (CBOR; docs/tee.md): what TEE evidence binds. */
scitt_span scitt_service_identity(const scitt_service *s);
/** SHA-256 of the identity document. */
void scitt_service_identity_hash(const scitt_service *s, uint8_t out[SCITT_SHA256_LEN]);

/** A statement that passed the check stage, ready to submit. */
typedef struct scitt_prepared {
    scitt_submission sub; /**< spans point into `buf` */
    uint8_t *buf;         /**< owned: freed by scitt_prepared_clear */
    /** After a failed check that has a problem title of its own ("Reserved Subject", ...): that
     * title (static storage); NULL otherwise. */
    const char *title;
} scitt_prepared;

/**
 * The thread-safe check stage: strict decode, then on the registered form (the statement with
 * its unprotected header emptied, decoded again): the reserved subjects (a CWT sub starting with
 * SCITT_RESERVED_SUBJECT_PREFIX must verify under one of the service's receipt keys), the SCITT
 * profile, the registration policy (issuer, keys, X.509 / did:x509) and the issuer signature;
 * then its entry ID and leaf hash. On failure @p reason names the check that failed.
 */
SCITT_MUST_USE scitt_err scitt_service_check(scitt_service *s, scitt_span statement,
                                             scitt_prepared *out, char *reason, size_t cap);
void scitt_prepared_clear(scitt_prepared *p);
/** Queues a prepared statement (scitt_ledger_submit). */
SCITT_MUST_USE scitt_err scitt_service_submit(scitt_service *s, const scitt_prepared *p,
                                              scitt_ledger_done done, void *ctx);

/**
 * Appends the inclusion receipt of entry @p index against the signed tree head of size
 * @p tree_size (0: the newest) to @p out.
 */
SCITT_MUST_USE scitt_err scitt_service_receipt(scitt_service *s, scitt_ledger_read *r,
                                               uint64_t index, uint64_t tree_size,
                                               scitt_dynbuf *out);
/** Appends the transparent statement of entry @p index (the entry with its receipt at 394). */
SCITT_MUST_USE scitt_err scitt_service_transparent(scitt_service *s, scitt_ledger_read *r,
                                                   uint64_t index, uint64_t tree_size,
                                                   scitt_dynbuf *out);
/** Appends the consistency receipt between two signed tree heads. */
SCITT_MUST_USE scitt_err scitt_service_consistency(scitt_service *s, scitt_ledger_read *r,
                                                   uint64_t old_size, uint64_t new_size,
                                                   scitt_dynbuf *out);

/** Lowercase hex entry ID (65 bytes with the NUL). */
void scitt_entry_id_hex(const uint8_t id[SCITT_HASH_LEN], char out[2 * SCITT_HASH_LEN + 1]);
/** Parses a lowercase hex entry ID (SCITT_ERR_MALFORMED otherwise). */
SCITT_MUST_USE scitt_err scitt_entry_id_parse(scitt_span hex, uint8_t id[SCITT_HASH_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_SERVICE_H */
