/*
 * OCI image layouts (image-spec v1.1 "image-layout") and `docker save` metadata: picking the
 * manifest whose digest a statement is about, and checking the manifest blob against it. Only
 * JSON is parsed here; reading the files (directory or tar) is the caller's.
 */
#include "parsers.h"

#include <stdio.h>
#include <string.h>

#include "scitt/json.h"

static const char *const media_manifest[] = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
};
static const char *const media_index[] = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
};

static int media_kind(const char *mt)
{
    for (size_t i = 0; i < 2; i++) {
        if (!strcmp(mt, media_manifest[i])) {
            return 1;
        }
        if (!strcmp(mt, media_index[i])) {
            return 2;
        }
    }
    return 0;
}

/* "sha256:<64 lowercase hex>" into 32 bytes. */
static bool parse_digest(const char *s, uint8_t out[SCITT_SHA256_LEN], char hex[65])
{
    if (strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 64) {
        return false;
    }
    for (size_t i = 7; i < 71; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    size_t n;
    memcpy(hex, s + 7, 65);
    return scitt_hex_decode(scitt_span_make(s + 7, 64), out, SCITT_SHA256_LEN, &n) == SCITT_OK;
}

/* The string member @p key of object @p obj into @p out; false when absent or not a string. */
static bool get_str(const scitt_json *j, size_t obj, const char *key, char *out, size_t cap)
{
    long t = scitt_json_get(j, obj, key);
    size_t n;
    return t >= 0 && scitt_json_type_of(j, (size_t)t) == SCITT_JSON_STRING &&
           scitt_json_string(j, (size_t)t, out, cap, &n) == SCITT_OK;
}

/* Does descriptor @p d's annotation name @p ref (exactly, or as its tag after ':')? */
static bool names_ref(const scitt_json *j, size_t d, const char *ref, char *name, size_t cap)
{
    long ann = scitt_json_get(j, d, "annotations");
    if (ann < 0 || scitt_json_type_of(j, (size_t)ann) != SCITT_JSON_OBJECT) {
        return false;
    }
    static const char *const keys[] = {"io.containerd.image.name",
                                       "org.opencontainers.image.ref.name"};
    bool hit = false;
    for (size_t k = 0; k < 2; k++) {
        char v[OCI_NAME_MAX];
        if (!get_str(j, (size_t)ann, keys[k], v, sizeof(v))) {
            continue;
        }
        if (k == 0 || !name[0]) {
            snprintf(name, cap, "%s", v);
        }
        size_t vl = strlen(v), rl = ref ? strlen(ref) : 0;
        if (ref &&
            (!strcmp(v, ref) || (vl > rl && v[vl - rl - 1] == ':' && !strcmp(v + vl - rl, ref)))) {
            hit = true;
        }
    }
    return hit;
}

scitt_err oci_pick(scitt_span index_json, const char *ref, oci_desc *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    if (index_json.len > OCI_JSON_MAX) {
        snprintf(why, cap, "index.json is larger than %u bytes", OCI_JSON_MAX);
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_json j;
    scitt_err e = scitt_json_parse(index_json, &j);
    if (e != SCITT_OK) {
        snprintf(why, cap, "index.json is not valid JSON: %s", scitt_err_str(e));
        return e;
    }
    long ms =
        scitt_json_type_of(&j, 0) == SCITT_JSON_OBJECT ? scitt_json_get(&j, 0, "manifests") : -1;
    long sv = scitt_json_type_of(&j, 0) == SCITT_JSON_OBJECT
                  ? scitt_json_get(&j, 0, "schemaVersion")
                  : -1;
    int64_t version = 0;
    if (ms < 0 || scitt_json_type_of(&j, (size_t)ms) != SCITT_JSON_ARRAY || sv < 0 ||
        scitt_json_int(&j, (size_t)sv, &version) != SCITT_OK || version != 2) {
        snprintf(why, cap, "index.json is not an OCI image index (schemaVersion 2, manifests)");
        scitt_json_clear(&j);
        return SCITT_ERR_MALFORMED;
    }
    size_t count = j.toks[ms].count, matches = 0;
    long chosen = -1;
    char chosen_name[OCI_NAME_MAX] = "";
    for (size_t i = 0; i < count; i++) {
        long d = scitt_json_at(&j, (size_t)ms, i);
        if (d < 0 || scitt_json_type_of(&j, (size_t)d) != SCITT_JSON_OBJECT) {
            snprintf(why, cap, "index.json: manifests[%zu] is not an object", i);
            scitt_json_clear(&j);
            return SCITT_ERR_MALFORMED;
        }
        char name[OCI_NAME_MAX] = "";
        bool hit = names_ref(&j, (size_t)d, ref, name, sizeof(name));
        if (!ref || hit) {
            matches++;
            chosen = d;
            snprintf(chosen_name, sizeof(chosen_name), "%s", name);
        }
    }
    if (matches != 1) {
        if (ref) {
            snprintf(why, cap, "index.json has %s manifest named \"%s\"",
                     matches ? "more than one" : "no", ref);
        } else {
            snprintf(why, cap, "index.json lists %zu manifests: choose one with --ref NAME", count);
        }
        scitt_json_clear(&j);
        return SCITT_ERR_NOT_FOUND;
    }
    char digest[80];
    long sz = scitt_json_get(&j, (size_t)chosen, "size");
    int64_t size = -1;
    if (!get_str(&j, (size_t)chosen, "mediaType", out->media_type, sizeof(out->media_type)) ||
        !get_str(&j, (size_t)chosen, "digest", digest, sizeof(digest)) || sz < 0 ||
        scitt_json_int(&j, (size_t)sz, &size) != SCITT_OK || size < 0) {
        snprintf(why, cap, "index.json: the manifest descriptor needs mediaType, digest and size");
        scitt_json_clear(&j);
        return SCITT_ERR_MALFORMED;
    }
    scitt_json_clear(&j);
    int kind = media_kind(out->media_type);
    if (kind == 0) {
        snprintf(why, cap, "index.json: media type \"%.*s\" is not an image manifest or index", 80,
                 out->media_type);
        return SCITT_ERR_UNSUPPORTED;
    }
    if (!parse_digest(digest, out->digest, out->digest_hex)) {
        snprintf(why, cap, "index.json: digest \"%.*s\" is not sha256:<64 hex digits>", 80, digest);
        return SCITT_ERR_MALFORMED;
    }
    out->size = (uint64_t)size;
    out->is_index = kind == 2;
    snprintf(out->name, sizeof(out->name), "%s", chosen_name);
    return SCITT_OK;
}

scitt_err oci_check_blob(scitt_span blob, const oci_desc *d, char *why, size_t cap)
{
    uint8_t h[SCITT_SHA256_LEN];
    scitt_sha256(blob.ptr, blob.len, h);
    if (memcmp(h, d->digest, sizeof(h)) != 0) {
        snprintf(why, cap, "blob sha256:%s does not hash to its name", d->digest_hex);
        return SCITT_ERR_KEY_MISMATCH;
    }
    if (blob.len != d->size) {
        snprintf(why, cap, "blob sha256:%s is %zu bytes, its descriptor says %llu", d->digest_hex,
                 blob.len, (unsigned long long)d->size);
        return SCITT_ERR_MALFORMED;
    }
    scitt_json j;
    scitt_err e = scitt_json_parse(blob, &j);
    if (e != SCITT_OK || scitt_json_type_of(&j, 0) != SCITT_JSON_OBJECT) {
        snprintf(why, cap, "the manifest sha256:%s is not a JSON object", d->digest_hex);
        if (e == SCITT_OK) {
            scitt_json_clear(&j);
        }
        return SCITT_ERR_MALFORMED;
    }
    char mt[OCI_MEDIA_MAX];
    long t = scitt_json_get(&j, 0, "mediaType");
    bool mismatch =
        t >= 0 && (!get_str(&j, 0, "mediaType", mt, sizeof(mt)) || strcmp(mt, d->media_type) != 0);
    scitt_json_clear(&j);
    if (mismatch) {
        snprintf(why, cap, "the manifest's own mediaType differs from its descriptor's (%s)",
                 d->media_type);
        return SCITT_ERR_MALFORMED;
    }
    return SCITT_OK;
}

scitt_err oci_docker_repotag(scitt_span manifest_json, char *out, size_t cap)
{
    out[0] = 0;
    scitt_json j;
    scitt_err e = scitt_json_parse(manifest_json, &j);
    if (e != SCITT_OK) {
        return e;
    }
    long first = scitt_json_type_of(&j, 0) == SCITT_JSON_ARRAY ? scitt_json_at(&j, 0, 0) : -1;
    long tags = first >= 0 && scitt_json_type_of(&j, (size_t)first) == SCITT_JSON_OBJECT
                    ? scitt_json_get(&j, (size_t)first, "RepoTags")
                    : -1;
    long tag = tags >= 0 && scitt_json_type_of(&j, (size_t)tags) == SCITT_JSON_ARRAY
                   ? scitt_json_at(&j, (size_t)tags, 0)
                   : -1;
    size_t n;
    if (tag >= 0 && scitt_json_type_of(&j, (size_t)tag) == SCITT_JSON_STRING) {
        e = scitt_json_string(&j, (size_t)tag, out, cap, &n);
    } else if (first < 0) {
        e = SCITT_ERR_MALFORMED;
    }
    scitt_json_clear(&j);
    return e;
}

scitt_err oci_split_ref(const char *ref, char *repo, size_t cap, bool *has_digest,
                        uint8_t digest[SCITT_SHA256_LEN])
{
    *has_digest = false;
    const char *at = strchr(ref, '@');
    size_t n = at ? (size_t)(at - ref) : strlen(ref);
    if (at) {
        char hex[65];
        if (!parse_digest(at + 1, digest, hex)) {
            return SCITT_ERR_MALFORMED;
        }
        *has_digest = true;
    }
    /* A tag is a ':' after the last '/' (a ':' before it is a registry port). */
    const char *slash = NULL;
    for (const char *p = ref; p < ref + n; p++) {
        if (*p == '/') {
            slash = p;
        }
    }
    for (const char *p = slash ? slash : ref; p < ref + n; p++) {
        if (*p == ':') {
            n = (size_t)(p - ref);
            break;
        }
    }
    if (n == 0 || n >= cap) {
        return SCITT_ERR_MALFORMED;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)ref[i] <= ' ' || ref[i] == 0x7f) {
            return SCITT_ERR_MALFORMED;
        }
    }
    memcpy(repo, ref, n);
    repo[n] = 0;
    return SCITT_OK;
}
