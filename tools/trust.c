/* Trust inputs of `scitt verify`: service keys from key sets, keys, certificates, trust stores. */
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "scitt/json.h"
#include "scitt/x509.h"

#define TRUST_DIR_FILES 256u

int trust_init(trust *t)
{
    memset(t, 0, sizeof(*t));
    if (scitt_cose_keyset_new(&t->keys) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    return CLI_OK;
}

void trust_clear(trust *t)
{
    scitt_cose_keyset_free(t->keys);
    for (size_t i = 0; i < t->n; i++) {
        scitt_free((void *)t->from[i]);
    }
    memset(t, 0, sizeof(*t));
}

const char *trust_origin(const trust *t, const scitt_cose_key *k)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->key[i] == k) {
            return t->from[i];
        }
    }
    return "?";
}

const scitt_cose_key *trust_pick(const trust *t, scitt_span kid)
{
    if (kid.len) {
        return scitt_cose_keyset_find(t->keys, kid);
    }
    return scitt_cose_keyset_count(t->keys) == 1 ? scitt_cose_keyset_at(t->keys, 0) : NULL;
}

static char *dup(const char *s)
{
    size_t n = strlen(s);
    char *d = scitt_malloc(n + 1);
    if (d) {
        memcpy(d, s, n + 1);
    }
    return d;
}

/* Adds one key (a new reference); the same key twice is fine, two keys under one kid are not. */
static int add(trust *t, scitt_cose_key *k, const char *from)
{
    const scitt_cose_key *have = scitt_cose_keyset_find(t->keys, scitt_cose_key_kid(k));
    if (have) {
        uint8_t a[SCITT_SHA256_LEN], b[SCITT_SHA256_LEN];
        scitt_cose_key_thumbprint(have, a);
        scitt_cose_key_thumbprint(k, b);
        if (memcmp(a, b, sizeof(a)) == 0) {
            return CLI_OK;
        }
        return cli_fail(CLI_USAGE,
                        "%s: a key with the same kid but another value is already "
                        "trusted (from %s)",
                        from, trust_origin(t, have));
    }
    if (t->n == SCITT_LIMIT_KEYSET_KEYS) {
        return cli_fail(CLI_USAGE, "more than %u trusted keys", SCITT_LIMIT_KEYSET_KEYS);
    }
    scitt_err e = scitt_cose_keyset_add(t->keys, k);
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s: cannot add a key: %s", from, scitt_err_str(e));
    }
    t->key[t->n] = k;
    t->from[t->n] = dup(from);
    t->n++;
    return CLI_OK;
}

int trust_add(trust *t, scitt_cose_key *k, const char *from)
{
    return add(t, k, from);
}

/* RFC 7638 JWK thumbprint (base64url): the kid JOSE-minded services such as @transmute/cose use. */
static scitt_err jwk_thumbprint(const scitt_cose_key *k, char out[SCITT_BASE64URL_LEN(32)])
{
    scitt_dynbuf jwk, canon;
    scitt_dynbuf_init(&jwk, 0);
    scitt_dynbuf_init(&canon, 0);
    scitt_json j;
    scitt_err e = scitt_cose_key_encode_jwk(k, false, &jwk);
    e = e ? e : scitt_json_parse(scitt_span_make(jwk.ptr, jwk.len), &j);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&jwk);
        return e;
    }
    /* The required members in lexicographic order, no white space. */
    static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
    static const char *const okp[] = {"crv", "kty", "x", NULL};
    static const char *const rsa[] = {"e", "kty", "n", NULL};
    scitt_cose_kty kty = scitt_cose_key_kty(k);
    const char *const *names = kty == SCITT_COSE_KTY_EC2   ? ec
                               : kty == SCITT_COSE_KTY_OKP ? okp
                                                           : rsa;
    scitt_dynbuf_u8(&canon, '{');
    for (size_t i = 0; names[i] && e == SCITT_OK; i++) {
        long v = scitt_json_get(&j, 0, names[i]);
        char *val = NULL;
        e = v < 0 ? SCITT_ERR_KEY_MALFORMED : scitt_json_strdup(&j, (size_t)v, &val);
        if (e == SCITT_OK) {
            scitt_dynbuf_printf(&canon, "%s\"%s\":\"%s\"", i ? "," : "", names[i], val);
        }
        scitt_free(val);
    }
    scitt_dynbuf_u8(&canon, '}');
    scitt_json_clear(&j);
    uint8_t h[SCITT_SHA256_LEN];
    if (e == SCITT_OK && canon.err == SCITT_OK) {
        scitt_sha256(canon.ptr, canon.len, h);
        e = scitt_base64url_encode(scitt_span_make(h, sizeof(h)), out, SCITT_BASE64URL_LEN(32));
    }
    scitt_dynbuf_clear(&jwk);
    scitt_dynbuf_clear(&canon);
    return e ? e : canon.err;
}

/*
 * A bare public key (PEM key, certificate, CCF service certificate) is trusted under the kids
 * services give it: its RFC 9679 thumbprint (scittd, SCRAPI), the ASCII hex of SHA-256 of its
 * SubjectPublicKeyInfo (CCF and Azure Code Transparency), and its RFC 7638 JWK thumbprint as
 * base64url text (JOSE-minded libraries such as @transmute/cose).
 */
static int add_bare(trust *t, scitt_cose_key *k, const char *from)
{
    scitt_dynbuf spki;
    scitt_dynbuf_init(&spki, 0);
    uint8_t h[SCITT_SHA256_LEN];
    char hex[SCITT_HEX_LEN(SCITT_SHA256_LEN)], b64[SCITT_BASE64URL_LEN(SCITT_SHA256_LEN)];
    scitt_cose_key *alias[2] = {NULL, NULL};
    scitt_err e = scitt_cose_key_encode_der(k, false, &spki);
    if (e == SCITT_OK) {
        scitt_sha256(spki.ptr, spki.len, h);
        e = scitt_hex_encode(scitt_span_make(h, sizeof(h)), hex, sizeof(hex));
    }
    e = e ? e : jwk_thumbprint(k, b64);
    for (int i = 0; i < 2 && e == SCITT_OK; i++) {
        e = scitt_cose_key_from_der(scitt_span_make(spki.ptr, spki.len), &alias[i]);
        e = e ? e
              : scitt_cose_key_set_kid(alias[i],
                                       i ? scitt_span_str(b64) : scitt_span_make(hex, 64));
    }
    scitt_dynbuf_clear(&spki);
    int rc =
        e == SCITT_OK ? add(t, k, from) : cli_fail(CLI_USAGE, "%s: %s", from, scitt_err_str(e));
    for (int i = 0; i < 2; i++) {
        if (rc == CLI_OK) {
            rc = add(t, alias[i], from);
        }
        scitt_cose_key_free(alias[i]);
    }
    return rc;
}

static int add_set(trust *t, scitt_cose_keyset *s, const char *from)
{
    int rc = CLI_OK;
    for (size_t i = 0; rc == CLI_OK && i < scitt_cose_keyset_count(s); i++) {
        rc = add(t, (scitt_cose_key *)scitt_cose_keyset_at(s, i), from);
    }
    return rc;
}

/* A CCF service certificate: PEM text or base64 DER (pyscitt's "serviceCertificate"). */
static int add_ccf_cert(trust *t, const scitt_json *j, long tok, const char *from)
{
    char *text = NULL;
    if (tok < 0 || scitt_json_strdup(j, (size_t)tok, &text) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s: serviceCertificate must be a string", from);
    }
    scitt_cose_key *k = NULL;
    scitt_err e;
    if (strstr(text, "-----BEGIN")) {
        e = scitt_cose_key_from_pem(scitt_span_str(text), &k);
    } else {
        size_t n = strlen(text), dl = 0;
        uint8_t *der = scitt_malloc(n + 1);
        e = der ? scitt_base64_decode(scitt_span_make(text, n), der, n + 1, &dl) : SCITT_ERR_NOMEM;
        e = e ? e : scitt_cose_key_from_cert_der(scitt_span_make(der, dl), &k);
        scitt_free(der);
    }
    scitt_free(text);
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s: the service certificate is not usable: %s", from,
                        scitt_err_str(e));
    }
    int rc = add_bare(t, k, from);
    scitt_cose_key_free(k);
    return rc;
}

/* CCF service parameters: {"serviceCertificate": ...} or {"parameters": [{...}, ...]}. */
static int load_ccf_json(trust *t, scitt_span text, const char *from)
{
    scitt_json j;
    if (scitt_json_parse(text, &j) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s is not valid JSON", from);
    }
    int rc = CLI_OK;
    if (scitt_json_type_of(&j, 0) != SCITT_JSON_OBJECT) {
        scitt_json_clear(&j);
        return cli_fail(CLI_USAGE, "%s: service parameters must be a JSON object", from);
    }
    long params = scitt_json_get(&j, 0, "parameters");
    if (params >= 0 && scitt_json_type_of(&j, (size_t)params) == SCITT_JSON_ARRAY) {
        for (size_t i = 0; rc == CLI_OK && i < j.toks[params].count; i++) {
            long p = scitt_json_at(&j, (size_t)params, i);
            rc =
                scitt_json_type_of(&j, (size_t)p) == SCITT_JSON_OBJECT
                    ? add_ccf_cert(t, &j, scitt_json_get(&j, (size_t)p, "serviceCertificate"), from)
                    : cli_fail(CLI_USAGE, "%s: parameters[%zu] is not an object", from, i);
        }
    } else {
        rc = add_ccf_cert(t, &j, scitt_json_get(&j, 0, "serviceCertificate"), from);
    }
    scitt_json_clear(&j);
    return rc;
}

static int load_dir(trust *t, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return cli_fail(CLI_USAGE, "cannot read %s: %s", dir, strerror(errno));
    }
    int rc = CLI_OK;
    size_t files = 0;
    struct dirent *de;
    while (rc == CLI_OK && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0) {
            continue;
        }
        if (++files > TRUST_DIR_FILES) {
            rc = cli_fail(CLI_USAGE, "%s holds more than %u trust files", dir, TRUST_DIR_FILES);
            break;
        }
        char path[4352];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        scitt_dynbuf b;
        rc = cli_slurp(path, SCITT_LIMIT_KEY_TEXT, &b);
        if (rc == CLI_OK) {
            rc = load_ccf_json(t, scitt_span_make(b.ptr, b.len), path);
        }
        scitt_dynbuf_clear(&b);
    }
    closedir(d);
    if (rc == CLI_OK && files == 0) {
        rc = cli_fail(CLI_USAGE, "%s holds no .json service parameters", dir);
    }
    return rc;
}

int trust_load(trust *t, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return load_dir(t, path);
    }
    scitt_dynbuf b;
    int rc = cli_slurp(path, SCITT_LIMIT_KEY_TEXT, &b);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_span s = scitt_span_make(b.ptr, b.len);
    scitt_cose_keyset *set = NULL;
    scitt_cose_key *k = NULL;
    scitt_err e;
    size_t lead = 0;
    while (lead < s.len && (s.ptr[lead] == ' ' || s.ptr[lead] == '\n' || s.ptr[lead] == '\r' ||
                            s.ptr[lead] == '\t')) {
        lead++;
    }
    if (s.len && memmem(s.ptr, s.len, "-----BEGIN", 10)) {
        e = scitt_cose_key_from_pem(s, &k);
        rc = e ? cli_fail(CLI_USAGE, "%s: not a PEM public key or certificate: %s", path,
                          scitt_err_str(e))
               : add_bare(t, k, path);
    } else if (lead < s.len && s.ptr[lead] == '{') {
        if (memmem(s.ptr, s.len, "\"keys\"", 6) &&
            scitt_cose_keyset_from_jwks(s, &set) == SCITT_OK) {
            rc = add_set(t, set, path);
        } else if (memmem(s.ptr, s.len, "serviceCertificate", 18)) {
            rc = load_ccf_json(t, s, path);
        } else if ((e = scitt_cose_key_from_jwk(s, &k)) == SCITT_OK) {
            rc = add(t, k, path);
        } else {
            rc = cli_fail(CLI_USAGE, "%s: not a JWKS, JWK or CCF service parameters: %s", path,
                          scitt_err_str(e));
        }
    } else if (s.len && (s.ptr[0] & 0xe0) == 0x80) {
        e = scitt_cose_keyset_from_cose(s, &set);
        rc = e ? cli_fail(CLI_USAGE, "%s: not a COSE_Key_Set: %s", path, scitt_err_str(e))
               : add_set(t, set, path);
    } else if (s.len && (s.ptr[0] & 0xe0) == 0xa0) {
        e = scitt_cose_key_from_cose(s, &k);
        rc = e ? cli_fail(CLI_USAGE, "%s: not a COSE_Key: %s", path, scitt_err_str(e))
               : add(t, k, path);
    } else {
        rc = cli_fail(CLI_USAGE, "%s is not a key set, key, certificate or trust store", path);
    }
    scitt_cose_keyset_free(set);
    scitt_cose_key_free(k);
    scitt_dynbuf_clear(&b);
    return rc;
}
