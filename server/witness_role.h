/*
 * server/witness_role.h — scittd as a witness of other logs (server/witness_role.c;
 * docs/witness.md): --witness-key FILE and --witness-log ORIGIN=VKEY serve POST /add-checkpoint
 * (C2SP tlog-witness) and GET /witness/vkey.
 */
#ifndef SCITT_SCITTD_WITNESS_ROLE_H
#define SCITT_SCITTD_WITNESS_ROLE_H

#include "scittd.h"

/* Loads the witness key (sealed on SEV-SNP), opens and locks the state in DATA/witness-state
 * when --witness-key is given (nothing otherwise); after the platform is chosen. On error
 * @p reason says why (the daemon does not start). */
SCITT_MUST_USE scitt_err scittd_witness_role_start(scittd *d, char *reason, size_t cap);
/* Releases the state's lock and frees (after the read pool stopped). */
void scittd_witness_role_stop(scittd *d);
/* POST /add-checkpoint: decided and recorded on a read-pool thread. */
void scittd_route_add_checkpoint(scitt_http_req *req, void *ctx);
/* GET /witness/vkey: the witness's verifier key and a newline (text). */
void scittd_route_witness_vkey(scitt_http_req *req, void *ctx);
/* The role's metrics (Prometheus text), nothing without --witness-key. */
void scittd_witness_role_metrics(scittd *d, scitt_dynbuf *b);

#endif
