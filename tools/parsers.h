/*
 * tools/parsers.h — the scitt tool's parsers of untrusted bytes, kept apart from the commands so
 * the fuzz targets (tests/fuzz/tools.cmake) can drive them: tar archives, OCI image layouts, SNP
 * report files, attestation inputs (service bundle or report, endorsement files, --min-tcb, --at),
 * C2SP entry bundles and CBOR diagnostic notation (2023-era receipts: client/legacy.h).
 * Every one is bounded and recurses only to a fixed depth. Internal to tools/.
 */
#ifndef SCITT_TOOLS_PARSERS_H
#define SCITT_TOOLS_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"
#include "scitt/cose.h"
#include "scitt/merkle.h"
#include "scitt/tee.h"

/* ---- tar (ustar, GNU long names, PAX path/size) -------------------------------------------- */

#define TAR_NAME_MAX    4096u       /* longest member name accepted */
#define TAR_PAX_MAX     (64u << 10) /* bytes of one PAX extended header */
#define TAR_MEMBERS_MAX 200000u     /* members walked before giving up */

/** Reads @p n bytes at @p off; returns the count read (short only at the end), or -1. */
typedef long (*tar_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t n);

typedef struct tar_member {
    char name[TAR_NAME_MAX + 1]; /* without a leading "./" */
    uint64_t size;
    uint64_t data_off; /* where its bytes start in the archive */
    char type;         /* '0' regular file, '5' directory, ... ('\0' reads as '0') */
} tar_member;

/**
 * Finds the regular file @p name in the archive read through @p rd. SCITT_ERR_NOT_FOUND when it
 * is not there; SCITT_ERR_MALFORMED (bad checksum, size field, PAX record, name) or
 * SCITT_ERR_TOO_LARGE (name, PAX header, member count) for a broken archive.
 */
scitt_err tar_find(tar_read_fn rd, void *ctx, const char *name, tar_member *out);

/** Parses one 512-byte ustar header (checksum, size, name with prefix). For tests and fuzzing. */
scitt_err tar_header(const uint8_t blk[512], tar_member *out);

/* ---- OCI image layout ---------------------------------------------------------------------- */

#define OCI_JSON_MAX  (4u << 20) /* index.json, manifests, docker manifest.json */
#define OCI_MEDIA_MAX 128u
#define OCI_NAME_MAX  512u

/** A manifest descriptor picked from an index.json. */
typedef struct oci_desc {
    char media_type[OCI_MEDIA_MAX];
    uint8_t digest[SCITT_SHA256_LEN];
    char digest_hex[2 * SCITT_SHA256_LEN + 1];
    uint64_t size;
    char name[OCI_NAME_MAX]; /* io.containerd.image.name or ref.name annotation, else "" */
    bool is_index;           /* an image index / manifest list, not a single manifest */
} oci_desc;

/**
 * Picks a manifest from an OCI index.json: the one whose "org.opencontainers.image.ref.name" or
 * "io.containerd.image.name" annotation equals @p ref (or ends with ":" @p ref), or, with @p ref
 * NULL, the only one. Only sha256 digests and manifest or index media types (OCI or Docker v2)
 * are accepted. @p why explains a failure in one line.
 */
scitt_err oci_pick(scitt_span index_json, const char *ref, oci_desc *out, char *why, size_t cap);

/**
 * Checks a manifest blob against its descriptor: SHA-256 and size equal, valid JSON, and its own
 * "mediaType" (when present) equal to the descriptor's.
 */
scitt_err oci_check_blob(scitt_span blob, const oci_desc *d, char *why, size_t cap);

/** The first RepoTags entry of a `docker save` manifest.json ("" when there is none). */
scitt_err oci_docker_repotag(scitt_span manifest_json, char *out, size_t cap);

/**
 * Splits an image reference "registry/repo[:tag][@sha256:hex]" into the repository (without tag
 * and digest) and the digest, if any. SCITT_ERR_MALFORMED for an empty repository or a digest
 * that is not sha256 with 64 hex digits.
 */
scitt_err oci_split_ref(const char *ref, char *repo, size_t cap, bool *has_digest,
                        uint8_t digest[SCITT_SHA256_LEN]);

/* ---- SEV-SNP report files ------------------------------------------------------------------ */

#define SNP_FILE_MAX (64u << 10)

/**
 * Decodes a report file: the raw 1184-byte ATTESTATION_REPORT, or its hex or base64 text (white
 * space ignored). The report is then parsed strictly (scitt_snp_report_parse).
 */
scitt_err snp_file_decode(scitt_span file, uint8_t report[1184], char *why, size_t cap);

/* ---- attestation inputs -------------------------------------------------------------------- */

#define SNP_CERTS_FILE_MAX (256u << 10) /* one endorsement file (PEM, DER, JSON or table) */

typedef enum attest_kind {
    ATTEST_NONE = 0,   /* neither; @p why says what it was expected to be */
    ATTEST_BUNDLE,     /* a service bundle (its structure parses; nothing verified) */
    ATTEST_SNP_REPORT, /* an SNP report file: raw, hex or base64 (snp_file_decode) */
    ATTEST_DCAP_QUOTE, /* an Intel DCAP quote (TDX v4, SGX v3), raw bytes */
} attest_kind;

/**
 * What a file given to `scitt attest verify` is. For ATTEST_SNP_REPORT @p report receives the
 * 1184 bytes. A file that starts with a CBOR map head is only ever tried as a bundle.
 */
attest_kind attest_input_kind(scitt_span file, uint8_t report[SCITT_SNP_REPORT_LEN], char *why,
                              size_t cap);

/**
 * Adds the SEV-SNP endorsement certificates in one file to @p c, whatever form the platform gave
 * them in: a PEM bundle (KDS cert_chain, an operator's file, what /attestation carries), one DER
 * certificate (KDS /vcek), Confidential ACI's THIM JSON or its base64 (host-amd-cert-base64), or a
 * GHCB certificate table (configfs-tsm auxblob). Roles come from the certificates themselves. On
 * failure @p why says which form was tried and what is wrong; @p c is unchanged.
 */
scitt_err attest_certs_add(scitt_snp_certs *c, scitt_span file, char *why, size_t cap);

/**
 * Parses a --min-tcb value: "PRODUCT:bl=N,tee=N,snp=N,ucode=N[,fmc=N]" (components 0..255, each
 * at most once, the ones left out are 0; fmc on Turin only) or "PRODUCT:0xHEX", a TCB_VERSION in
 * the product's layout as reports show it. PRODUCT is milan, genoa or turin (any case).
 */
scitt_err attest_parse_min_tcb(const char *arg, scitt_snp_min_tcb *out, char *why, size_t cap);

/** Unix seconds (up to 11 digits) or RFC 3339 UTC with whole seconds (2025-07-01T00:00:00Z). */
bool attest_parse_time(const char *s, int64_t *out);

/* ---- C2SP entry bundles -------------------------------------------------------------------- */

/**
 * Splits an entry bundle (uint16 big-endian length || entry, repeated) into exactly @p want entries
 * (1..256). SCITT_ERR_MALFORMED when it frames differently (fewer, more, or a torn length).
 */
scitt_err bundle_split(scitt_span bundle, size_t want, scitt_span *entries);

/* ---- diagnostic notation ------------------------------------------------------------------- */

/** What an object of this domain is, by its shape. */
typedef enum diag_kind {
    DIAG_CBOR = 0,      /* some other CBOR item */
    DIAG_STATEMENT,     /* COSE_Sign1 without receipts */
    DIAG_TRANSPARENT,   /* COSE_Sign1 with receipts at 394 (or -333) */
    DIAG_RECEIPT,       /* COSE_Sign1 with vds (395 or -111) */
    DIAG_COSE_KEY,      /* a map with kty (1) */
    DIAG_COSE_KEY_SET,  /* an array of COSE_Key maps */
    DIAG_PROBLEM,       /* RFC 9290: a map with -1 and/or -2 text */
    DIAG_CONFIGURATION, /* a map with text keys such as "issuer" (transparency configuration) */
} diag_kind;

const char *diag_kind_name(diag_kind k);

/**
 * Appends @p cbor in CBOR diagnostic notation (RFC 8949 §8) to @p out, one item per line with
 * indentation, naming the labels of this domain in comments (COSE headers, CWT claims, COSE_Key
 * parameters, receipt proofs decoded from their bstr, problem details). Byte strings that hold
 * CBOR of this domain (protected headers, receipts, proofs) are shown decoded as <<...>>. Byte
 * strings over 4096 bytes are cut to their first 32 unless @p full.
 * @p kind (may be NULL) gets the object's kind. Errors are the strict reader's.
 */
scitt_err diag_print(scitt_span cbor, bool full, scitt_dynbuf *out, diag_kind *kind);

/* ---- legacy-label receipts (2023 drafts): client/legacy.h (libscitt-client) --------- */

#include "legacy.h"

#endif
