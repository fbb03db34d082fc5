/*
 * client/legacy.h — receipts and claims under the 2023-era labels (draft-ietf-scitt-architecture
 * -04): what scitt_verify_statement accepts with legacy_labels. Internal to libscitt-client and
 * the scitt tool (inspect, the fuzz target); not installed.
 */
#ifndef SCITT_CLIENT_LEGACY_H
#define SCITT_CLIENT_LEGACY_H

#include "scitt/base.h"
#include "scitt/cose.h"

#define SCITT__LEGACY_HDR_CWT      13 /* CWT claims before RFC 9597's 15 */
#define SCITT__LEGACY_HDR_RECEIPTS (-333)
#define SCITT__LEGACY_HDR_VDS      (-111)
#define SCITT__LEGACY_HDR_VDP      (-222)

/** What a verified legacy receipt says. */
typedef struct scitt__legacy_info {
    uint64_t tree_size, leaf_index;
    int64_t alg;
    scitt_span kid;
    scitt_span iss, sub; /* from CWT claims at 13 or 15, when present */
} scitt__legacy_info;

/**
 * Verifies a receipt that uses the 2023 labels (vds at -111 protected, proofs at -222 unprotected:
 * {-1: [+ bstr .cbor [size, index, [+ bstr]]]}) for @p entry (the registered form; leaf =
 * SHA-256(0x00 || entry)), picking the key by kid from @p keys. Same order and errors as
 * scitt_receipt_verify_inclusion.
 */
scitt_err scitt__legacy_verify_receipt(scitt_span receipt, scitt_span entry,
                                       const scitt_cose_keyset *keys, scitt__legacy_info *info);

/** The receipts of a statement at -333 (each a bstr holding a receipt); *n = 0 when none. */
scitt_err scitt__legacy_receipts(const scitt_cose_sign1 *m, scitt_span *out, size_t cap, size_t *n);

/** iss and sub from CWT claims at 13 (legacy) when 15 is absent. */
scitt_err scitt__legacy_claims(const scitt_cose_sign1 *m, scitt_span *iss, scitt_span *sub);

#endif
