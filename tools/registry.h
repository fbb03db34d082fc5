/*
 * tools/registry.h — OCI distribution (registry) client of the scitt tool: image references and
 * their normalisation, the parsers of what a registry answers (WWW-Authenticate challenges, token
 * responses, manifests, image indexes as returned by the referrers API or the referrers tag
 * schema, ~/.docker/config.json), and the client itself (tag to digest, blobs, manifests,
 * referrers with the tag-schema fallback, Bearer token and Basic authentication) over tools/http.
 * The parsers are pure functions over bytes (tools/oci_wire.c) so they can be fuzzed; the client
 * is tools/registry.c. Internal to tools/.
 */
#ifndef SCITT_TOOLS_REGISTRY_H
#define SCITT_TOOLS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "scitt/base.h"

/* ---- references ---------------------------------------------------------------------------- */

#define OCI_REGISTRY_MAX 256u /* host[:port] */
#define OCI_REPO_MAX     256u /* repository path (the distribution spec's limit for the name) */
#define OCI_TAG_MAX      128u
#define OCI_DIGEST_STR   72u /* "sha256:" + 64 hex + NUL */

/** The media types of the transparency artifacts (docs/oci.md). */
#define OCI_SCITT_ARTIFACT_TYPE "application/scitt-statement+cose"
#define OCI_MT_MANIFEST         "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX            "application/vnd.oci.image.index.v1+json"
#define OCI_MT_EMPTY            "application/vnd.oci.empty.v1+json"
#define OCI_EMPTY_DIGEST        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
/* Annotations of an attached transparent statement. */
#define OCI_ANN_ISSUER          "dev.scittd.statement.issuer"
#define OCI_ANN_SUBJECT         "dev.scittd.statement.subject"
#define OCI_ANN_SERVICE         "dev.scittd.receipt.service"
#define OCI_ANN_ENTRY           "dev.scittd.receipt.entry-id"
#define OCI_ANN_CREATED         "org.opencontainers.image.created"

/** A normalised image reference: registry, repository, and a tag and/or a digest. */
typedef struct oci_ref {
    char registry[OCI_REGISTRY_MAX]; /* "docker.io" for Docker Hub */
    char repo[OCI_REPO_MAX];         /* "library/nginx" */
    char tag[OCI_TAG_MAX + 1];       /* "" when none */
    char digest[OCI_DIGEST_STR];     /* "sha256:<hex>" or "" */
} oci_ref;

/**
 * Parses and normalises an image reference as docker and the distribution spec do: a first path
 * component with '.' or ':' or equal to "localhost" names the registry, otherwise the registry is
 * docker.io and a one-component name gains "library/". Repository components must be lowercase
 * ([a-z0-9] separated by '.', '_', "__" or '-'): an uppercase one is refused rather than folded,
 * so one image has one name. Tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; digests sha256 only.
 * Neither a tag nor a digest leaves both empty (the caller decides whether "latest" applies).
 */
scitt_err oci_ref_parse(const char *s, oci_ref *out, char *why, size_t cap);

/** "registry/repo" followed by ":tag" and/or "@digest" when set. */
void oci_ref_format(const oci_ref *r, char *out, size_t cap);

/* ---- what a registry answers --------------------------------------------------------------- */

#define OCI_CHALLENGE_MAX  4096u /* one WWW-Authenticate header */
#define OCI_TOKEN_MAX      8192u /* a bearer token */
#define OCI_TOKEN_BODY_MAX (64u << 10)
#define OCI_MANIFEST_MAX   (4u << 20) /* the distribution spec's suggested manifest limit */
#define OCI_REFERRERS_MAX  256u       /* descriptors read from one referrers index */

typedef enum oci_scheme { OCI_AUTH_NONE = 0, OCI_AUTH_BASIC, OCI_AUTH_BEARER } oci_scheme;

/** A parsed WWW-Authenticate challenge (RFC 9110 §11.6.1, distribution token auth). */
typedef struct oci_challenge {
    oci_scheme scheme;
    char realm[1024];
    char service[256];
    char scope[512];
} oci_challenge;

/** Parses one WWW-Authenticate value ("Bearer realm=\"...\",service=\"...\"" or "Basic ..."). */
scitt_err oci_challenge_parse(scitt_span value, oci_challenge *out);

/** The token of a token endpoint's JSON answer ("token", else "access_token"). */
scitt_err oci_token_parse(scitt_span body, char *out, size_t cap);

/** A descriptor (image-spec descriptor.md) with the fields this tool uses. */
typedef struct oci_descriptor {
    char media_type[128];
    char artifact_type[128];
    char digest[OCI_DIGEST_STR];
    uint64_t size;
    char issuer[256], service[256], entry_id[72]; /* from the annotations, when present */
} oci_descriptor;

/**
 * An image index (referrers API answer or referrers tag): its "manifests" descriptors, at most
 * @p cap of them (more is SCITT_ERR_TOO_LARGE). Descriptors without a sha256 digest are refused.
 */
scitt_err oci_index_parse(scitt_span body, oci_descriptor *out, size_t cap, size_t *n);

/** What this tool reads from a manifest. */
typedef struct oci_manifest_info {
    char media_type[128];
    char artifact_type[128]; /* artifactType, else the config's media type */
    bool has_subject;
    char subject[OCI_DIGEST_STR];
    size_t nlayers;
    oci_descriptor layer0; /* the first layer */
    bool is_index;
} oci_manifest_info;

/** Parses an image manifest or index (OCI or Docker v2 schema 2). */
scitt_err oci_manifest_parse(scitt_span body, oci_manifest_info *out);

/**
 * The credentials for @p registry in a docker config.json ("auths": {host: {"auth": base64
 * "user:password"}} or "username"/"password"); SCITT_ERR_NOT_FOUND when it has none.
 */
scitt_err oci_docker_config_auth(scitt_span json, const char *registry, char *user, size_t ucap,
                                 char *pass, size_t pcap);

/** "sha256:<64 lowercase hex>"? */
bool oci_digest_valid(const char *s);

/* ---- the client ---------------------------------------------------------------------------- */

/** Options shared by every command that talks to a registry. */
typedef struct oci_client_opts {
    const char *cacert; /* PEM CA file for the registry's TLS (NULL: the system's) */
    bool plain_http;    /* allow plain HTTP to a registry that is not on loopback */
    const char *user;   /* Basic credentials (password from SCITT_REGISTRY_PASSWORD) */
    int timeout_ms;
} oci_client_opts;

#define OCI_OPTIONS_HELP                                                                           \
    "Registry options (the image's registry):\n"                                                   \
    "  --registry-cacert FILE  trust these CAs (PEM) for the registry's TLS\n"                     \
    "  --registry-user USER    Basic credentials: USER and $SCITT_REGISTRY_PASSWORD (default:\n"   \
    "                          the registry's entry in $DOCKER_CONFIG or ~/.docker/config.json)\n" \
    "  --plain-http            allow plain HTTP to a registry that is not on loopback (one on\n"   \
    "                          localhost or 127.0.0.0/8 is tried with HTTPS, then HTTP)\n"

typedef struct oci_client {
    scitt__http_url url;
    scitt__http_opts hopts;
    bool loopback, plain_allowed, tried_plain;
    char registry[OCI_REGISTRY_MAX];
    char repo[OCI_REPO_MAX];
    char basic[1200]; /* "Basic <b64>" or "" */
    char *bearer;     /* "Bearer <token>" (heap) or NULL */
    char bearer_scope[600];
} oci_client;

/** Prepares a client for the repository of @p r; CLI exit codes, a message printed on failure. */
int oci_client_open(oci_client *c, const oci_ref *r, const oci_client_opts *o);
void oci_client_close(oci_client *c);

/**
 * The manifest @p reference (a tag or a digest) names: its digest, media type and (with @p body
 * non-NULL) bytes, checked against the digest when @p reference is one. SCITT_ERR_NOT_FOUND when
 * the registry has no such manifest.
 */
scitt_err oci_get_manifest(oci_client *c, const char *reference, char digest[OCI_DIGEST_STR],
                           char *media, size_t mcap, scitt_dynbuf *body, char *why, size_t cap);

/** A blob, its SHA-256 checked, at most @p max bytes. */
scitt_err oci_get_blob(oci_client *c, const char *digest, size_t max, scitt_dynbuf *out, char *why,
                       size_t cap);

/** Uploads @p data as a blob (skipped when the registry has it); @p digest receives its digest. */
scitt_err oci_push_blob(oci_client *c, scitt_span data, char digest[OCI_DIGEST_STR], char *why,
                        size_t cap);

/**
 * Puts a manifest under @p reference (a tag, or its own digest). @p subject_ack is set when the
 * registry answered with OCI-Subject (it maintains the referrers itself).
 */
scitt_err oci_put_manifest(oci_client *c, const char *reference, const char *media, scitt_span body,
                           bool *subject_ack, char *why, size_t cap);

/**
 * The referrers of @p digest as an image index: through the referrers API, else (404) from the
 * referrers tag "sha256-<hex>" (*via_tag set); an image with none gives an empty list.
 */
scitt_err oci_referrers(oci_client *c, const char *digest, oci_descriptor *out, size_t cap,
                        size_t *n, bool *via_tag, char *why, size_t cap_why);

#endif
