/*
 * Fuzz target: OCI image layout JSON: the input as index.json (with and without a --ref), as a
 * manifest blob checked against a descriptor, as a docker manifest.json, and as an image
 * reference. Invariants: a picked descriptor has a known media type and a 64-digit digest.
 */
#include <stdlib.h>
#include <string.h>

#include "parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    oci_desc d;
    char why[256], out[512];
    for (int k = 0; k < 2; k++) {
        if (oci_pick(in, k ? "latest" : NULL, &d, why, sizeof(why)) == SCITT_OK) {
            if (strlen(d.digest_hex) != 64 || !d.media_type[0]) {
                __builtin_trap();
            }
            (void)oci_check_blob(in, &d, why, sizeof(why));
        }
    }
    (void)oci_docker_repotag(in, out, sizeof(out));
    if (size < 600) {
        char ref[601];
        memcpy(ref, data, size);
        ref[size] = 0;
        bool has;
        uint8_t digest[32];
        if (oci_split_ref(ref, out, sizeof(out), &has, digest) == SCITT_OK &&
            (!out[0] || strlen(out) > size)) {
            __builtin_trap();
        }
    }
    return 0;
}
