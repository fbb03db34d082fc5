/*
 * Fuzz target: what a registry answers (tools/oci_wire.c): the input as a WWW-Authenticate value,
 * a token answer, a referrers index, a manifest, a docker config.json, and an image reference.
 * Invariants: parsed digests are valid sha256 digests, strings stay within their buffers, a
 * token has no byte that could end a header line, a normalised reference parses to itself.
 */
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    oci_challenge ch;
    if (oci_challenge_parse(in, &ch) == SCITT_OK &&
        (ch.scheme == OCI_AUTH_NONE || (ch.scheme == OCI_AUTH_BEARER && !ch.realm[0]))) {
        __builtin_trap();
    }
    char tok[256];
    if (oci_token_parse(in, tok, sizeof(tok)) == SCITT_OK &&
        (!tok[0] || strpbrk(tok, "\r\n ") != NULL)) {
        __builtin_trap();
    }
    static oci_descriptor ds[8];
    size_t n = 0;
    if (oci_index_parse(in, ds, 8, &n) == SCITT_OK) {
        for (size_t i = 0; i < n; i++) {
            if (!oci_digest_valid(ds[i].digest)) {
                __builtin_trap();
            }
        }
    }
    oci_manifest_info mi;
    if (oci_manifest_parse(in, &mi) == SCITT_OK && mi.has_subject &&
        !oci_digest_valid(mi.subject)) {
        __builtin_trap();
    }
    char u[64], p[64];
    (void)oci_docker_config_auth(in, "127.0.0.1:5000", u, sizeof(u), p, sizeof(p));
    if (size < 800) {
        char s[801], out[800], why[200];
        memcpy(s, data, size);
        s[size] = 0;
        oci_ref r, r2;
        if (oci_ref_parse(s, &r, why, sizeof(why)) == SCITT_OK) {
            oci_ref_format(&r, out, sizeof(out));
            if (oci_ref_parse(out, &r2, why, sizeof(why)) != SCITT_OK ||
                strcmp(r.registry, r2.registry) || strcmp(r.repo, r2.repo) ||
                strcmp(r.tag, r2.tag) || strcmp(r.digest, r2.digest)) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
