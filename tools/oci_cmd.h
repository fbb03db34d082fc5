/*
 * tools/oci_cmd.h — what the commands share about images in registries: the registry options
 * (--registry-cacert, --registry-user, --plain-http), resolving a reference to its manifest
 * digest, attaching a transparent statement, and collecting the transparent statements attached
 * to an image. Internal to tools/.
 */
#ifndef SCITT_TOOLS_OCI_CMD_H
#define SCITT_TOOLS_OCI_CMD_H

#include "cli.h"
#include "registry.h"

/* getopt_long rows and their codes (kept above every command's own codes). */
enum { OCI_O_CACERT = 0x4f00, OCI_O_USER, OCI_O_PLAIN };
#define OCI_LONG_OPTIONS                                                                           \
    {"registry-cacert", 1, 0, OCI_O_CACERT}, {"registry-user", 1, 0, OCI_O_USER},                  \
    {                                                                                              \
        "plain-http", 0, 0, OCI_O_PLAIN                                                            \
    }

/** Applies one of the registry options; false when @p c is not one. */
bool oci_option(oci_client_opts *o, int c, const char *arg);

/** A resolved image: its normalised reference, manifest digest, media type and size. */
typedef struct oci_image {
    oci_ref ref;
    char digest[OCI_DIGEST_STR];
    char media[128];
    uint64_t size;
} oci_image;

/**
 * Parses @p ref and resolves it to a manifest in the registry (a tag, "latest" when neither a tag
 * nor a digest is given, or the digest, which must exist). CLI exit codes; prints the message.
 */
int oci_resolve(const char *ref, const oci_client_opts *o, oci_image *out);

/**
 * Pushes @p transparent as an artifact whose subject is @p img (idempotent: the same statement
 * gives the same artifact, listed once). @p artifact receives the artifact manifest's digest.
 * Refuses a statement whose signed digest is not the image's. CLI exit codes.
 */
int oci_attach(const oci_image *img, const oci_client_opts *o, scitt_span transparent,
               char artifact[OCI_DIGEST_STR], bool *via_tag);

#define OCI_CANDIDATES_MAX 32u

/** One referrer that claims to be a transparent statement about the image. */
typedef struct oci_candidate {
    char artifact[OCI_DIGEST_STR];
    char reason[700]; /* why it was not fetched ("" when it was) */
    scitt_dynbuf statement;
} oci_candidate;

/**
 * Lists the referrers of @p img and fetches each artifact of the transparent-statement type: its
 * manifest (whose subject must be the image) and its statement layer. CLI exit codes.
 */
int oci_collect(const oci_image *img, const oci_client_opts *o, oci_candidate *out, size_t *n,
                bool *via_tag);
void oci_candidates_clear(oci_candidate *c, size_t n);

#endif
