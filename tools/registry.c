/*
 * The scitt tool's OCI distribution client (distribution-spec v1.1 over tools/http): one request
 * per connection, each answer bounded, authentication by the registry's own challenge (Basic, or
 * a Bearer token from its realm, fetched per repository scope), blobs and manifests checked
 * against their digests, and the referrers tag schema when the registry has no referrers API.
 */
#include "cli.h"
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACCEPT_MANIFESTS                                                                           \
    "Accept: application/vnd.oci.image.manifest.v1+json, "                                         \
    "application/vnd.oci.image.index.v1+json, "                                                    \
    "application/vnd.docker.distribution.manifest.v2+json, "                                       \
    "application/vnd.docker.distribution.manifest.list.v2+json"

static bool host_is_loopback(const char *host)
{
    return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* Credentials: --registry-user with SCITT_REGISTRY_PASSWORD, else the docker config file. */
static int load_credentials(oci_client *c, const oci_client_opts *o)
{
    char user[256] = "", pass[512] = "";
    if (o->user) {
        const char *pw = getenv("SCITT_REGISTRY_PASSWORD");
        if (!pw) {
            return cli_fail(CLI_USAGE, "--registry-user needs the password in "
                                       "SCITT_REGISTRY_PASSWORD");
        }
        if (strlen(o->user) >= sizeof(user) || strlen(pw) >= sizeof(pass) || strchr(o->user, ':')) {
            return cli_fail(CLI_USAGE, "--registry-user or its password is not usable");
        }
        snprintf(user, sizeof(user), "%s", o->user);
        snprintf(pass, sizeof(pass), "%s", pw);
    } else {
        char path[4096];
        const char *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
        if (dc) {
            snprintf(path, sizeof(path), "%s/config.json", dc);
        } else if (home) {
            snprintf(path, sizeof(path), "%s/.docker/config.json", home);
        } else {
            return CLI_OK;
        }
        scitt_dynbuf f;
        if (cli_read_file(path, OCI_MANIFEST_MAX, &f) != SCITT_OK) {
            scitt_dynbuf_clear(&f);
            return CLI_OK; /* no config: anonymous */
        }
        scitt_err e = oci_docker_config_auth(scitt_span_make(f.ptr, f.len), c->registry, user,
                                             sizeof(user), pass, sizeof(pass));
        scitt_wipe(f.ptr, f.len);
        scitt_dynbuf_clear(&f);
        if (e == SCITT_ERR_NOT_FOUND) {
            return CLI_OK;
        }
        if (e != SCITT_OK) {
            return cli_fail(CLI_USAGE, "%s: the entry for %s is not usable", path, c->registry);
        }
    }
    char raw[800], b64[SCITT_BASE64_LEN(800)];
    int n = snprintf(raw, sizeof(raw), "%s:%s", user, pass);
    scitt_err e = scitt_base64_encode(scitt_span_make(raw, (size_t)n), b64, sizeof(b64));
    if (e == SCITT_OK) {
        snprintf(c->basic, sizeof(c->basic), "Authorization: Basic %s", b64);
    }
    scitt_wipe(raw, sizeof(raw));
    scitt_wipe(pass, sizeof(pass));
    scitt_wipe(b64, sizeof(b64));
    return e == SCITT_OK ? CLI_OK : cli_fail(CLI_USAGE, "registry credentials too long");
}

int oci_client_open(oci_client *c, const oci_ref *r, const oci_client_opts *o)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->registry, sizeof(c->registry), "%s", r->registry);
    snprintf(c->repo, sizeof(c->repo), "%s", r->repo);
    const char *api = !strcmp(r->registry, "docker.io") ? "registry-1.docker.io" : r->registry;
    char url[400];
    snprintf(url, sizeof(url), "https://%s", api);
    if (scitt__http_url_parse(url, &c->url) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "the registry \"%s\" is not a host[:port]", r->registry);
    }
    c->loopback = host_is_loopback(c->url.host);
    c->plain_allowed = o->plain_http;
    if (o->plain_http) {
        c->url.tls = false;
        if (!strchr(api, ':') || c->url.ipv6) {
            snprintf(c->url.port, sizeof(c->url.port), "80");
        }
    }
    c->hopts.cacert = o->cacert;
    c->hopts.timeout_ms = o->timeout_ms;
    return load_credentials(c, o);
}

void oci_client_close(oci_client *c)
{
    if (c->bearer) {
        scitt_wipe(c->bearer, strlen(c->bearer));
        scitt_free(c->bearer);
    }
    scitt_wipe(c->basic, sizeof(c->basic));
    memset(c, 0, sizeof(*c));
}

/* A token from the challenge's realm for @p scope, kept in c->bearer. */
static scitt_err fetch_token(oci_client *c, const oci_challenge *ch, const char *scope, char *why,
                             size_t cap)
{
    scitt__http_url realm;
    if (scitt__http_url_parse(ch->realm, &realm) != SCITT_OK) {
        snprintf(why, cap, "the token realm \"%.200s\" is not an http(s) URL", ch->realm);
        return SCITT_ERR_MALFORMED;
    }
    if (!realm.tls && !host_is_loopback(realm.host) && !c->plain_allowed) {
        snprintf(why, cap, "the token realm %.200s is plain HTTP (give --plain-http to allow it)",
                 ch->realm);
        return SCITT_ERR_UNTRUSTED;
    }
    char q1[600], q2[1200], path[2000];
    if (scitt__http_query_escape(ch->service, q1, sizeof(q1)) != SCITT_OK ||
        scitt__http_query_escape(scope, q2, sizeof(q2)) != SCITT_OK) {
        snprintf(why, cap, "the token request is too long");
        return SCITT_ERR_TOO_LARGE;
    }
    snprintf(path, sizeof(path), "?service=%s&scope=%s", q1, q2);
    const char *hdr[1] = {c->basic};
    scitt__http_request req = {"GET", path, hdr, c->basic[0] ? 1 : 0, {NULL, 0}};
    scitt__http_opts ho = c->hopts;
    ho.max_body = OCI_TOKEN_BODY_MAX;
    scitt__http_result res;
    scitt_err e = scitt__http_do(&realm, &req, &ho, &res, why, cap);
    if (e == SCITT_OK && res.res.status != 200) {
        snprintf(why, cap, "the token service answered %d%s", res.res.status,
                 res.res.status == 401 ? " (wrong or missing registry credentials)" : "");
        e = res.res.status == 401 || res.res.status == 403 ? SCITT_ERR_UNTRUSTED : SCITT_ERR_IO;
    }
    char *tok = NULL;
    if (e == SCITT_OK) {
        tok = scitt_malloc(OCI_TOKEN_MAX + 32);
        char *t = tok ? scitt_malloc(OCI_TOKEN_MAX) : NULL;
        if (!t) {
            e = SCITT_ERR_NOMEM;
        } else if (oci_token_parse(scitt_span_make(res.body.ptr, res.body.len), t, OCI_TOKEN_MAX) !=
                   SCITT_OK) {
            snprintf(why, cap, "the token service's answer holds no usable token");
            e = SCITT_ERR_MALFORMED;
        } else {
            snprintf(tok, OCI_TOKEN_MAX + 32, "Authorization: Bearer %s", t);
        }
        if (t) {
            scitt_wipe(t, OCI_TOKEN_MAX);
            scitt_free(t);
        }
    }
    if (res.body.ptr) {
        scitt_wipe(res.body.ptr, res.body.len);
        scitt_wipe(res.raw.ptr, res.raw.len);
    }
    scitt__http_result_clear(&res);
    if (e != SCITT_OK) {
        scitt_free(tok);
        return e;
    }
    if (c->bearer) {
        scitt_wipe(c->bearer, strlen(c->bearer));
        scitt_free(c->bearer);
    }
    c->bearer = tok;
    snprintf(c->bearer_scope, sizeof(c->bearer_scope), "%s", scope);
    return SCITT_OK;
}

/*
 * One request to the registry with its authentication: the request is sent with what is known,
 * and a 401 is answered once with the challenge's scheme. @p push asks for a push scope.
 */
static scitt_err request(oci_client *c, const char *method, const char *path, const char *accept,
                         const char *ctype, scitt_span body, size_t max, bool push,
                         scitt__http_result *out, char *why, size_t cap)
{
    char scope[600];
    snprintf(scope, sizeof(scope), "repository:%s:%s", c->repo, push ? "pull,push" : "pull");
    for (int attempt = 0;; attempt++) {
        const char *hdr[3];
        size_t nh = 0;
        bool bearer_fits = c->bearer && (!push || strstr(c->bearer_scope, "push"));
        if (bearer_fits) {
            hdr[nh++] = c->bearer;
        } else if (c->basic[0] && attempt > 0) {
            hdr[nh++] = c->basic; /* only once the registry asked for Basic */
        }
        if (accept) {
            hdr[nh++] = accept;
        }
        char ct[200];
        if (ctype) {
            snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
            hdr[nh++] = ct;
        }
        scitt__http_request req = {method, path, hdr, nh, body};
        scitt__http_opts ho = c->hopts;
        ho.max_body = max;
        scitt_err e = scitt__http_do(&c->url, &req, &ho, out, why, cap);
        if (e == SCITT_ERR_IO && c->url.tls && c->loopback && !c->tried_plain) {
            /* a registry on loopback may speak plain HTTP (as docker and crane allow) */
            scitt__http_result_clear(out);
            c->tried_plain = true;
            c->url.tls = false;
            char whyp[256];
            e = scitt__http_do(&c->url, &req, &ho, out, whyp, sizeof(whyp));
            if (e != SCITT_OK) {
                c->url.tls = true;
                scitt__http_result_clear(out);
                e = scitt__http_do(&c->url, &req, &ho, out, why, cap);
            }
        }
        if (e != SCITT_OK || out->res.status != 401 || attempt > 0) {
            return e;
        }
        scitt_span v;
        oci_challenge ch;
        if (!scitt__http_header_get(&out->res, "WWW-Authenticate", &v) ||
            oci_challenge_parse(v, &ch) != SCITT_OK) {
            return SCITT_OK; /* the caller reports the 401 */
        }
        scitt__http_result_clear(out);
        if (ch.scheme == OCI_AUTH_BASIC) {
            if (!c->basic[0]) {
                snprintf(why, cap,
                         "the registry %s needs credentials (--registry-user, or "
                         "docker login)",
                         c->registry);
                return SCITT_ERR_UNTRUSTED;
            }
            continue;
        }
        e = fetch_token(c, &ch, scope, why, cap);
        if (e != SCITT_OK) {
            return e;
        }
    }
}

static scitt_err status_error(const scitt__http_result *r, const char *what, char *why, size_t cap)
{
    int s = r->res.status;
    snprintf(why, cap, "%s: the registry answered %d%s", what, s,
             s == 401   ? " (credentials missing or refused)"
             : s == 403 ? " (not allowed)"
                        : "");
    return s == 404               ? SCITT_ERR_NOT_FOUND
           : s == 401 || s == 403 ? SCITT_ERR_UNTRUSTED
                                  : SCITT_ERR_IO;
}

static void digest_of(scitt_span data, char out[OCI_DIGEST_STR])
{
    uint8_t d[SCITT_SHA256_LEN];
    scitt_sha256(data.ptr, data.len, d);
    memcpy(out, "sha256:", 7);
    if (scitt_hex_encode(scitt_span_make(d, sizeof(d)), out + 7, OCI_DIGEST_STR - 7) != SCITT_OK) {
        out[0] = 0;
    }
}

static bool reference_ok(const char *ref)
{
    if (oci_digest_valid(ref)) {
        return true;
    }
    size_t n = strlen(ref);
    if (n == 0 || n > OCI_TAG_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = ref[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || (i > 0 && (ch == '.' || ch == '-')))) {
            return false;
        }
    }
    return true;
}

scitt_err oci_get_manifest(oci_client *c, const char *reference, char digest[OCI_DIGEST_STR],
                           char *media, size_t mcap, scitt_dynbuf *body, char *why, size_t cap)
{
    if (!reference_ok(reference)) {
        snprintf(why, cap, "\"%.140s\" is neither a tag nor a sha256 digest", reference);
        return SCITT_ERR_MALFORMED;
    }
    char path[OCI_REPO_MAX + OCI_TAG_MAX + 40];
    snprintf(path, sizeof(path), "/v2/%s/manifests/%s", c->repo, reference);
    scitt__http_result r;
    /* GET, not HEAD: the digest is computed here from the bytes rather than taken on trust */
    scitt_err e = request(c, "GET", path, ACCEPT_MANIFESTS, NULL, scitt_span_make(NULL, 0),
                          OCI_MANIFEST_MAX, false, &r, why, cap);
    if (e == SCITT_OK && r.res.status != 200) {
        e = status_error(&r, reference, why, cap);
    }
    if (e == SCITT_OK) {
        scitt_span b = scitt_span_make(r.body.ptr, r.body.len);
        digest_of(b, digest);
        scitt_span ctv;
        if (oci_digest_valid(reference) && strcmp(reference, digest) != 0) {
            snprintf(why, cap, "the registry's manifest for %.80s has digest %s", reference,
                     digest);
            e = SCITT_ERR_KEY_MISMATCH;
        } else if (media && mcap) {
            media[0] = 0;
            if (scitt__http_header_get(&r.res, "Content-Type", &ctv) && ctv.len < mcap) {
                memcpy(media, ctv.ptr, ctv.len);
                media[ctv.len] = 0;
                char *semi = strchr(media, ';');
                if (semi) {
                    *semi = 0;
                }
            }
        }
        if (e == SCITT_OK && body) {
            scitt_dynbuf_put(body, b.ptr, b.len);
            e = body->err;
        }
    }
    scitt__http_result_clear(&r);
    return e;
}

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/*
 * An absolute redirect Location split into a base URL and a path with its query; https only
 * (plain http for loopback, or with --plain-http). A relative one stays on the registry.
 */
static bool redirect_target(const oci_client *c, scitt_span loc, scitt__http_url *u, char *path,
                            size_t cap)
{
    char l[2048];
    if (loc.len == 0 || loc.len >= sizeof(l) || loc.len >= cap) {
        return false;
    }
    memcpy(l, loc.ptr, loc.len);
    l[loc.len] = 0;
    if (strpbrk(l, " \t\r\n")) {
        return false;
    }
    if (l[0] == '/') {
        *u = c->url;
        u->prefix[0] = 0;
        snprintf(path, cap, "%s", l);
        return true;
    }
    const char *s = strstr(l, "://");
    const char *slash = s ? strchr(s + 3, '/') : NULL;
    if (!s || !slash) {
        return false;
    }
    snprintf(path, cap, "%s", slash);
    l[slash - l] = 0;
    if (scitt__http_url_parse(l, u) != SCITT_OK) {
        return false;
    }
    return u->tls || host_is_loopback(u->host) || c->plain_allowed;
}

scitt_err oci_get_blob(oci_client *c, const char *digest, size_t max, scitt_dynbuf *out, char *why,
                       size_t cap)
{
    if (!oci_digest_valid(digest)) {
        snprintf(why, cap, "not a sha256 digest");
        return SCITT_ERR_MALFORMED;
    }
    char path[OCI_REPO_MAX + 120];
    snprintf(path, sizeof(path), "/v2/%s/blobs/%s", c->repo, digest);
    scitt__http_result r;
    scitt_err e =
        request(c, "GET", path, NULL, NULL, scitt_span_make(NULL, 0), max, false, &r, why, cap);
    /* Registries send blobs from storage elsewhere (307 to a signed URL): followed without the
     * registry's credentials, at most three times; the digest check below is what counts. */
    for (int hop = 0; e == SCITT_OK && hop < 3 && is_redirect(r.res.status); hop++) {
        scitt_span loc;
        scitt__http_url u;
        char rpath[2048];
        if (!scitt__http_header_get(&r.res, "Location", &loc) ||
            !redirect_target(c, loc, &u, rpath, sizeof(rpath))) {
            snprintf(why, cap, "%.80s: a redirect without a usable https Location", digest);
            e = SCITT_ERR_MALFORMED;
            break;
        }
        scitt__http_result_clear(&r);
        scitt__http_request req = {"GET", rpath, NULL, 0, {NULL, 0}};
        scitt__http_opts ho = c->hopts;
        ho.max_body = max;
        e = scitt__http_do(&u, &req, &ho, &r, why, cap);
    }
    if (e == SCITT_OK && r.res.status != 200) {
        e = status_error(&r, digest, why, cap);
    }
    if (e == SCITT_OK) {
        char got[OCI_DIGEST_STR];
        digest_of(scitt_span_make(r.body.ptr, r.body.len), got);
        if (strcmp(got, digest) != 0) {
            snprintf(why, cap, "the blob %.20s... the registry sent has another digest", digest);
            e = SCITT_ERR_KEY_MISMATCH;
        } else {
            scitt_dynbuf_put(out, r.body.ptr, r.body.len);
            e = out->err;
        }
    }
    scitt__http_result_clear(&r);
    return e;
}

/* The path (and query) of an upload Location: relative, or absolute on the registry itself. */
static bool upload_path(const oci_client *c, scitt_span loc, char *out, size_t cap)
{
    if (loc.len == 0 || loc.len >= cap) {
        return false;
    }
    char l[1200];
    if (loc.len >= sizeof(l)) {
        return false;
    }
    memcpy(l, loc.ptr, loc.len);
    l[loc.len] = 0;
    const char *p = l;
    if (l[0] != '/') {
        const char *s = strstr(l, "://");
        if (!s) {
            return false;
        }
        const char *host = s + 3, *slash = strchr(host, '/');
        if (!slash) {
            return false;
        }
        char hp[300];
        bool dflt = !strcmp(c->url.port, c->url.tls ? "443" : "80");
        snprintf(hp, sizeof(hp), "%s%s%s", c->url.host, dflt ? "" : ":", dflt ? "" : c->url.port);
        if ((size_t)(slash - host) != strlen(hp) || strncasecmp(host, hp, strlen(hp)) != 0) {
            return false; /* never send the upload (or a token) elsewhere */
        }
        p = slash;
    }
    if (strpbrk(p, " \t\r\n")) {
        return false;
    }
    snprintf(out, cap, "%s", p);
    return true;
}

scitt_err oci_push_blob(oci_client *c, scitt_span data, char digest[OCI_DIGEST_STR], char *why,
                        size_t cap)
{
    digest_of(data, digest);
    char path[1400];
    snprintf(path, sizeof(path), "/v2/%s/blobs/%s", c->repo, digest);
    scitt__http_result r;
    scitt_err e =
        request(c, "HEAD", path, NULL, NULL, scitt_span_make(NULL, 0), 1, true, &r, why, cap);
    bool have = e == SCITT_OK && r.res.status == 200;
    scitt__http_result_clear(&r);
    if (have) {
        return SCITT_OK;
    }
    snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", c->repo);
    e = request(c, "POST", path, NULL, NULL, scitt_span_make(NULL, 0), 64 << 10, true, &r, why,
                cap);
    scitt_span loc;
    if (e == SCITT_OK && r.res.status != 202) {
        e = status_error(&r, "starting a blob upload", why, cap);
    } else if (e == SCITT_OK && (!scitt__http_header_get(&r.res, "Location", &loc) ||
                                 !upload_path(c, loc, path, sizeof(path) - 90))) {
        snprintf(why, cap, "the registry's upload location is missing or on another host");
        e = SCITT_ERR_MALFORMED;
    }
    scitt__http_result_clear(&r);
    if (e != SCITT_OK) {
        return e;
    }
    size_t pl = strlen(path);
    snprintf(path + pl, sizeof(path) - pl, "%sdigest=%s", strchr(path, '?') ? "&" : "?", digest);
    e = request(c, "PUT", path, NULL, "application/octet-stream", data, 64 << 10, true, &r, why,
                cap);
    if (e == SCITT_OK && r.res.status != 201) {
        e = status_error(&r, "uploading a blob", why, cap);
    }
    scitt__http_result_clear(&r);
    return e;
}

scitt_err oci_put_manifest(oci_client *c, const char *reference, const char *media, scitt_span body,
                           bool *subject_ack, char *why, size_t cap)
{
    *subject_ack = false;
    if (!reference_ok(reference)) {
        snprintf(why, cap, "\"%.140s\" is neither a tag nor a sha256 digest", reference);
        return SCITT_ERR_MALFORMED;
    }
    char path[OCI_REPO_MAX + OCI_TAG_MAX + 40];
    snprintf(path, sizeof(path), "/v2/%s/manifests/%s", c->repo, reference);
    scitt__http_result r;
    scitt_err e = request(c, "PUT", path, NULL, media, body, 64 << 10, true, &r, why, cap);
    if (e == SCITT_OK && r.res.status != 201) {
        e = status_error(&r, "pushing a manifest", why, cap);
    }
    scitt_span v;
    if (e == SCITT_OK && scitt__http_header_get(&r.res, "OCI-Subject", &v)) {
        *subject_ack = true;
    }
    scitt__http_result_clear(&r);
    return e;
}

scitt_err oci_referrers(oci_client *c, const char *digest, oci_descriptor *out, size_t cap,
                        size_t *n, bool *via_tag, char *why, size_t cap_why)
{
    *n = 0;
    *via_tag = false;
    if (!oci_digest_valid(digest)) {
        snprintf(why, cap_why, "not a sha256 digest");
        return SCITT_ERR_MALFORMED;
    }
    char path[OCI_REPO_MAX + 120];
    snprintf(path, sizeof(path), "/v2/%s/referrers/%s", c->repo, digest);
    scitt__http_result r;
    scitt_err e = request(c, "GET", path, "Accept: " OCI_MT_INDEX, NULL, scitt_span_make(NULL, 0),
                          OCI_MANIFEST_MAX, false, &r, why, cap_why);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_dynbuf body;
    scitt_dynbuf_init(&body, OCI_MANIFEST_MAX);
    scitt_span ct;
    /* a registry without the API answers 404 (or an error that is not an image index) */
    bool api = r.res.status == 200 && scitt__http_header_get(&r.res, "Content-Type", &ct) &&
               ct.len >= strlen(OCI_MT_INDEX) &&
               !memcmp(ct.ptr, OCI_MT_INDEX, strlen(OCI_MT_INDEX));
    if (api) {
        scitt_dynbuf_put(&body, r.body.ptr, r.body.len);
    } else if (r.res.status != 404) {
        e = status_error(&r, "listing referrers", why, cap_why);
    }
    scitt__http_result_clear(&r);
    if (e == SCITT_OK && !api) {
        *via_tag = true;
        char tag[80], got[OCI_DIGEST_STR];
        snprintf(tag, sizeof(tag), "sha256-%s", digest + 7);
        e = oci_get_manifest(c, tag, got, NULL, 0, &body, why, cap_why);
        if (e == SCITT_ERR_NOT_FOUND) {
            scitt_dynbuf_clear(&body);
            return SCITT_OK; /* no referrers */
        }
    }
    if (e == SCITT_OK &&
        oci_index_parse(scitt_span_make(body.ptr, body.len), out, cap, n) != SCITT_OK) {
        snprintf(why, cap_why, "the referrers of %.20s... are not a valid image index", digest);
        e = SCITT_ERR_MALFORMED;
    }
    scitt_dynbuf_clear(&body);
    return e;
}
