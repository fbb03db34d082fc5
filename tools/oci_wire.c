/*
 * What an OCI registry answers, and image references: pure parsers over bytes (no I/O), every one
 * bounded by its input and its output buffers, fuzzed by tests/fuzz/tools_registry.c.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scitt/json.h"

bool oci_digest_valid(const char *s)
{
    if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71) {
        return false;
    }
    for (size_t i = 7; i < 71; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static void say(char *why, size_t cap, const char *msg, const char *arg)
{
    if (why && cap) {
        snprintf(why, cap, "%s%s", msg, arg ? arg : "");
    }
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One repository path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*; *upper set on A-Z. */
static bool component_ok(const char *p, size_t n, bool *upper)
{
    if (n == 0 || !is_lower_alnum(p[0]) || !is_lower_alnum(p[n - 1])) {
        for (size_t i = 0; i < n; i++) {
            *upper |= p[i] >= 'A' && p[i] <= 'Z';
        }
        return false;
    }
    for (size_t i = 0; i < n;) {
        if (is_lower_alnum(p[i])) {
            i++;
            continue;
        }
        *upper |= p[i] >= 'A' && p[i] <= 'Z';
        size_t s = i;
        if (p[i] == '.') {
            i++;
        } else if (p[i] == '_') {
            i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
        } else if (p[i] == '-') {
            while (i < n && p[i] == '-') {
                i++;
            }
        } else {
            return false;
        }
        if (i == s || i >= n || !is_lower_alnum(p[i])) {
            return false;
        }
    }
    return true;
}

static bool registry_ok(const char *p, size_t n)
{
    if (n == 0 || n >= OCI_REGISTRY_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!(is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == ':' ||
              c == '[' || c == ']')) {
            return false;
        }
    }
    return true;
}

scitt_err oci_ref_parse(const char *s, oci_ref *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(s);
    if (len == 0 || len > OCI_REGISTRY_MAX + OCI_REPO_MAX + OCI_TAG_MAX + OCI_DIGEST_STR) {
        say(why, cap, "an image reference is registry/repository[:tag][@sha256:digest]", NULL);
        return SCITT_ERR_MALFORMED;
    }
    const char *at = strchr(s, '@');
    size_t name_len = at ? (size_t)(at - s) : len;
    if (at) {
        if (!oci_digest_valid(at + 1)) {
            say(why, cap, "the digest must be sha256: with 64 lowercase hex digits", NULL);
            return SCITT_ERR_MALFORMED;
        }
        memcpy(out->digest, at + 1, 71);
    }
    /* a tag follows the last ':' after the last '/' */
    const char *slash = NULL;
    for (size_t i = 0; i < name_len; i++) {
        if (s[i] == '/') {
            slash = s + i;
        }
    }
    const char *colon = NULL;
    for (const char *p = slash ? slash : s; p < s + name_len; p++) {
        if (*p == ':') {
            colon = p;
        }
    }
    size_t repo_end = colon ? (size_t)(colon - s) : name_len;
    if (colon) {
        size_t tl = name_len - repo_end - 1;
        const char *t = colon + 1;
        bool ok = tl > 0 && tl <= OCI_TAG_MAX &&
                  (is_lower_alnum(t[0]) || (t[0] >= 'A' && t[0] <= 'Z') || t[0] == '_');
        for (size_t i = 1; ok && i < tl; i++) {
            char c = t[i];
            ok = is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-';
        }
        if (!ok) {
            say(why, cap, "a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", NULL);
            return SCITT_ERR_MALFORMED;
        }
        memcpy(out->tag, t, tl);
    }
    /* the registry: a first component with '.' or ':', or "localhost" */
    const char *first_end = memchr(s, '/', repo_end);
    const char *repo = s;
    if (first_end) {
        size_t fl = (size_t)(first_end - s);
        bool is_reg =
            memchr(s, '.', fl) || memchr(s, ':', fl) || (fl == 9 && !memcmp(s, "localhost", 9));
        if (is_reg) {
            if (!registry_ok(s, fl)) {
                say(why, cap, "the registry is not a host[:port]", NULL);
                return SCITT_ERR_MALFORMED;
            }
            memcpy(out->registry, s, fl);
            for (char *p = out->registry; *p; p++) {
                *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p; /* host names */
            }
            repo = first_end + 1;
        }
    }
    if (!out->registry[0]) {
        snprintf(out->registry, sizeof(out->registry), "docker.io");
    }
    if (!strcmp(out->registry, "index.docker.io") ||
        !strcmp(out->registry, "registry-1.docker.io")) {
        snprintf(out->registry, sizeof(out->registry), "docker.io");
    }
    size_t rl = (size_t)(s + repo_end - repo);
    bool hub_single = !strcmp(out->registry, "docker.io") && !memchr(repo, '/', rl);
    if (rl == 0 || rl + (hub_single ? 8 : 0) >= OCI_REPO_MAX) {
        say(why, cap, "the repository name is empty or too long", NULL);
        return SCITT_ERR_MALFORMED;
    }
    bool upper = false;
    for (const char *c = repo; c < repo + rl;) {
        const char *e = memchr(c, '/', (size_t)(repo + rl - c));
        size_t cl = e ? (size_t)(e - c) : (size_t)(repo + rl - c);
        if (!component_ok(c, cl, &upper)) {
            say(why, cap,
                upper ? "repository names are lowercase (the registry would treat another "
                        "spelling as another image)"
                      : "a repository path component is [a-z0-9] separated by '.', '_', '__' or "
                        "'-'",
                NULL);
            return SCITT_ERR_MALFORMED;
        }
        c += cl + (e ? 1 : 0);
        if (e && c == repo + rl) {
            say(why, cap, "the repository name ends with '/'", NULL);
            return SCITT_ERR_MALFORMED;
        }
    }
    snprintf(out->repo, sizeof(out->repo), "%s%.*s", hub_single ? "library/" : "", (int)rl, repo);
    return SCITT_OK;
}

void oci_ref_format(const oci_ref *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s%s%s%s%s", r->registry, r->repo, r->tag[0] ? ":" : "", r->tag,
             r->digest[0] ? "@" : "", r->digest);
}

/* ---- WWW-Authenticate ---------------------------------------------------------------------- */

static bool tchar(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

scitt_err oci_challenge_parse(scitt_span value, oci_challenge *out)
{
    memset(out, 0, sizeof(*out));
    if (value.len > OCI_CHALLENGE_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    const char *p = (const char *)value.ptr, *end = p + value.len;
    const char *sch = p;
    while (p < end && tchar(*p)) {
        p++;
    }
    size_t sl = (size_t)(p - sch);
    if (sl == 6 && !strncasecmp(sch, "Bearer", 6)) {
        out->scheme = OCI_AUTH_BEARER;
    } else if (sl == 5 && !strncasecmp(sch, "Basic", 5)) {
        out->scheme = OCI_AUTH_BASIC;
    } else {
        return SCITT_ERR_UNSUPPORTED;
    }
    if (p < end && *p != ' ') {
        return SCITT_ERR_MALFORMED;
    }
    /* auth-params: name=token or name="quoted", separated by commas */
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }
        if (p == end) {
            break;
        }
        const char *n = p;
        while (p < end && tchar(*p)) {
            p++;
        }
        size_t nl = (size_t)(p - n);
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        if (nl == 0 || p == end || *p != '=') {
            return SCITT_ERR_MALFORMED;
        }
        p++;
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        char val[1024];
        size_t vl = 0;
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p == end) {
                    return SCITT_ERR_MALFORMED;
                }
                char c = *p++;
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (p == end) {
                        return SCITT_ERR_MALFORMED;
                    }
                    c = *p++;
                }
                if ((unsigned char)c < 0x20 || c == 0x7f) {
                    return SCITT_ERR_MALFORMED;
                }
                if (vl + 1 >= sizeof(val)) {
                    return SCITT_ERR_TOO_LARGE;
                }
                val[vl++] = c;
            }
        } else {
            while (p < end && tchar(*p)) {
                if (vl + 1 >= sizeof(val)) {
                    return SCITT_ERR_TOO_LARGE;
                }
                val[vl++] = *p++;
            }
            if (vl == 0) {
                return SCITT_ERR_MALFORMED;
            }
        }
        val[vl] = 0;
        char *dst = NULL;
        size_t dcap = 0;
        if (nl == 5 && !strncasecmp(n, "realm", 5)) {
            dst = out->realm, dcap = sizeof(out->realm);
        } else if (nl == 7 && !strncasecmp(n, "service", 7)) {
            dst = out->service, dcap = sizeof(out->service);
        } else if (nl == 5 && !strncasecmp(n, "scope", 5)) {
            dst = out->scope, dcap = sizeof(out->scope);
        }
        if (dst) {
            if (vl >= dcap) {
                return SCITT_ERR_TOO_LARGE;
            }
            memcpy(dst, val, vl + 1);
        }
    }
    if (out->scheme == OCI_AUTH_BEARER && !out->realm[0]) {
        return SCITT_ERR_MALFORMED;
    }
    return SCITT_OK;
}

/* ---- JSON answers -------------------------------------------------------------------------- */

static bool get_str(const scitt_json *j, size_t obj, const char *key, char *out, size_t cap)
{
    long t = scitt_json_get(j, obj, key);
    size_t n;
    return t >= 0 && scitt_json_type_of(j, (size_t)t) == SCITT_JSON_STRING &&
           scitt_json_string(j, (size_t)t, out, cap, &n) == SCITT_OK;
}

scitt_err oci_token_parse(scitt_span body, char *out, size_t cap)
{
    if (body.len > OCI_TOKEN_BODY_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_json j;
    scitt_err e = scitt_json_parse(body, &j);
    if (e != SCITT_OK) {
        return SCITT_ERR_MALFORMED;
    }
    e = SCITT_ERR_MALFORMED;
    if (scitt_json_type_of(&j, 0) == SCITT_JSON_OBJECT &&
        (get_str(&j, 0, "token", out, cap) || get_str(&j, 0, "access_token", out, cap)) && out[0]) {
        e = SCITT_OK;
        for (const char *p = out; *p; p++) {
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
                e = SCITT_ERR_MALFORMED; /* it goes into a header line */
            }
        }
    }
    scitt_json_clear(&j);
    return e;
}

static scitt_err descriptor(const scitt_json *j, size_t d, oci_descriptor *out)
{
    memset(out, 0, sizeof(*out));
    if (scitt_json_type_of(j, d) != SCITT_JSON_OBJECT ||
        !get_str(j, d, "mediaType", out->media_type, sizeof(out->media_type)) ||
        !get_str(j, d, "digest", out->digest, sizeof(out->digest)) ||
        !oci_digest_valid(out->digest)) {
        return SCITT_ERR_MALFORMED;
    }
    long sz = scitt_json_get(j, d, "size");
    if (sz < 0 || scitt_json_u64(j, (size_t)sz, &out->size) != SCITT_OK) {
        return SCITT_ERR_MALFORMED;
    }
    (void)get_str(j, d, "artifactType", out->artifact_type, sizeof(out->artifact_type));
    long ann = scitt_json_get(j, d, "annotations");
    if (ann >= 0 && scitt_json_type_of(j, (size_t)ann) == SCITT_JSON_OBJECT) {
        (void)get_str(j, (size_t)ann, OCI_ANN_ISSUER, out->issuer, sizeof(out->issuer));
        (void)get_str(j, (size_t)ann, OCI_ANN_SERVICE, out->service, sizeof(out->service));
        (void)get_str(j, (size_t)ann, OCI_ANN_ENTRY, out->entry_id, sizeof(out->entry_id));
    }
    return SCITT_OK;
}

scitt_err oci_index_parse(scitt_span body, oci_descriptor *out, size_t cap, size_t *n)
{
    *n = 0;
    if (body.len > OCI_MANIFEST_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_json j;
    if (scitt_json_parse(body, &j) != SCITT_OK) {
        return SCITT_ERR_MALFORMED;
    }
    scitt_err e = SCITT_ERR_MALFORMED;
    long m =
        scitt_json_type_of(&j, 0) == SCITT_JSON_OBJECT ? scitt_json_get(&j, 0, "manifests") : -1;
    if (m < 0 || scitt_json_type_of(&j, (size_t)m) != SCITT_JSON_ARRAY) {
        goto out;
    }
    for (size_t i = 0;; i++) {
        long d = scitt_json_at(&j, (size_t)m, i);
        if (d < 0) {
            break;
        }
        if (*n == cap) {
            e = SCITT_ERR_TOO_LARGE;
            goto out;
        }
        if (descriptor(&j, (size_t)d, &out[*n]) != SCITT_OK) {
            goto out;
        }
        (*n)++;
    }
    e = SCITT_OK;
out:
    scitt_json_clear(&j);
    return e;
}

scitt_err oci_manifest_parse(scitt_span body, oci_manifest_info *out)
{
    memset(out, 0, sizeof(*out));
    if (body.len > OCI_MANIFEST_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_json j;
    if (scitt_json_parse(body, &j) != SCITT_OK) {
        return SCITT_ERR_MALFORMED;
    }
    scitt_err e = SCITT_ERR_MALFORMED;
    if (scitt_json_type_of(&j, 0) != SCITT_JSON_OBJECT) {
        goto out;
    }
    long sv = scitt_json_get(&j, 0, "schemaVersion");
    int64_t v = 0;
    if (sv < 0 || scitt_json_int(&j, (size_t)sv, &v) != SCITT_OK || v != 2) {
        goto out;
    }
    (void)get_str(&j, 0, "mediaType", out->media_type, sizeof(out->media_type));
    (void)get_str(&j, 0, "artifactType", out->artifact_type, sizeof(out->artifact_type));
    long mf = scitt_json_get(&j, 0, "manifests");
    out->is_index = mf >= 0 || strstr(out->media_type, "index") || strstr(out->media_type, "list");
    long sub = scitt_json_get(&j, 0, "subject");
    if (sub >= 0) {
        oci_descriptor d;
        if (descriptor(&j, (size_t)sub, &d) != SCITT_OK) {
            goto out;
        }
        out->has_subject = true;
        memcpy(out->subject, d.digest, sizeof(out->subject));
    }
    if (!out->is_index) {
        long cfg = scitt_json_get(&j, 0, "config");
        oci_descriptor c;
        if (cfg < 0 || descriptor(&j, (size_t)cfg, &c) != SCITT_OK) {
            goto out;
        }
        if (!out->artifact_type[0]) {
            memcpy(out->artifact_type, c.media_type, sizeof(out->artifact_type));
        }
        long ls = scitt_json_get(&j, 0, "layers");
        if (ls < 0 || scitt_json_type_of(&j, (size_t)ls) != SCITT_JSON_ARRAY) {
            goto out;
        }
        for (size_t i = 0;; i++) {
            long d = scitt_json_at(&j, (size_t)ls, i);
            if (d < 0) {
                break;
            }
            oci_descriptor tmp;
            if (descriptor(&j, (size_t)d, i ? &tmp : &out->layer0) != SCITT_OK) {
                goto out;
            }
            out->nlayers++;
        }
    }
    e = SCITT_OK;
out:
    scitt_json_clear(&j);
    return e;
}

scitt_err oci_docker_config_auth(scitt_span json, const char *registry, char *user, size_t ucap,
                                 char *pass, size_t pcap)
{
    if (json.len > OCI_MANIFEST_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_json j;
    if (scitt_json_parse(json, &j) != SCITT_OK) {
        return SCITT_ERR_MALFORMED;
    }
    scitt_err e = SCITT_ERR_NOT_FOUND;
    long auths =
        scitt_json_type_of(&j, 0) == SCITT_JSON_OBJECT ? scitt_json_get(&j, 0, "auths") : -1;
    if (auths < 0 || scitt_json_type_of(&j, (size_t)auths) != SCITT_JSON_OBJECT) {
        goto out;
    }
    /* Docker Hub's entry is keyed by its legacy URL */
    const char *keys[2] = {registry,
                           !strcmp(registry, "docker.io") ? "https://index.docker.io/v1/" : NULL};
    long ent = -1;
    for (size_t k = 0; k < 2 && ent < 0 && keys[k]; k++) {
        ent = scitt_json_get(&j, (size_t)auths, keys[k]);
    }
    if (ent < 0 || scitt_json_type_of(&j, (size_t)ent) != SCITT_JSON_OBJECT) {
        goto out;
    }
    char b64[1024];
    if (get_str(&j, (size_t)ent, "auth", b64, sizeof(b64)) && b64[0]) {
        uint8_t raw[800];
        size_t rn = 0;
        e = SCITT_ERR_MALFORMED;
        if (scitt_base64_decode(scitt_span_str(b64), raw, sizeof(raw) - 1, &rn) != SCITT_OK) {
            goto out;
        }
        raw[rn] = 0;
        const char *colon = memchr(raw, ':', rn);
        if (!colon || memchr(raw, 0, rn) || (size_t)(colon - (char *)raw) >= ucap ||
            rn - (size_t)(colon - (char *)raw) > pcap) {
            goto out;
        }
        snprintf(user, ucap, "%.*s", (int)(colon - (char *)raw), (char *)raw);
        snprintf(pass, pcap, "%s", colon + 1);
        e = SCITT_OK;
    } else if (get_str(&j, (size_t)ent, "username", user, ucap) &&
               get_str(&j, (size_t)ent, "password", pass, pcap)) {
        e = SCITT_OK;
    }
out:
    scitt_json_clear(&j);
    return e;
}
