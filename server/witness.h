/*
 * server/witness.h — scittd asks witnesses to cosign its checkpoints (server/witness.c;
 * docs/witness.md): --witness URL=VKEY and --witness-policy FILE.
 */
#ifndef SCITT_SCITTD_WITNESS_H
#define SCITT_SCITTD_WITNESS_H

#include "scittd.h"

/* Starts the witness threads when --witness is given (does nothing otherwise); checks the
 * configuration first. On error @p reason says why (the daemon does not start). */
SCITT_MUST_USE scitt_err scittd_witness_start(scittd *d, char *reason, size_t cap);
/* Sequencer thread: a head of @p size is signed and durable (two atomic stores and a signal when
 * the lock is free: it never waits). */
void scittd_witness_head(scittd *d, uint64_t size);
/* Stops and joins the threads (each waits at most for its request's timeout) and frees. */
void scittd_witness_stop(scittd *d);
/* Appends the newest cosigned checkpoint meeting the policy to @p out, its size in @p size:
 * SCITT_ERR_UNSUPPORTED without --witness, SCITT_ERR_NOT_FOUND before the first one. */
SCITT_MUST_USE scitt_err scittd_witnessed(scittd *d, scitt_dynbuf *out, uint64_t *size);
/* The receipt (or, with @p statement, the transparent statement) of entry @p index against the
 * newest witnessed checkpoint, carrying it (docs/receipts.md). SCITT_ERR_UNSUPPORTED without
 * --witness, SCITT_ERR_BUSY while no witnessed checkpoint covers the entry; @p detail says which.
 */
SCITT_MUST_USE scitt_err scittd_witnessed_entry(scittd *d, scitt_ledger_read *r, uint64_t index,
                                                bool statement, scitt_dynbuf *out, char *detail,
                                                size_t cap);
/* Receipt thread, with --receipts-wait-for-witnesses: takes over answering the registration of
 * @p id at @p index (201 once a witnessed checkpoint covers it, with the receipt carrying it; the
 * plain receipt of @p tree_size after --receipts-witness-timeout-ms or at stop). False when the
 * option is off (the caller answers). */
bool scittd_witness_wait(scittd *d, scitt_http_req *req, const uint8_t id[SCITT_HASH_LEN],
                         uint64_t index, uint64_t tree_size);
/* GET /checkpoint with --witness: the newest witnessed checkpoint, else 503. */
void scittd_witness_checkpoint(scittd *d, scitt_http_req *req);
/* GET /witnesses: the configured witnesses, the witness policy and the witnessed size (JSON). */
void scittd_route_witnesses(scitt_http_req *req, void *ctx);
/* The witness metrics (Prometheus text), nothing without --witness. */
void scittd_witness_metrics(scittd *d, scitt_dynbuf *b);

#endif
