/*
 * did:x509 (method version 0) syntax: a strict parser and the percent-encoding rules. Pure: no
 * OpenSSL here, so the grammar can be fuzzed and reviewed on its own.
 */
#include "scitt/x509.h"

#include <string.h>

#include "scitt/limits.h"
#include "x509_internal.h"

static bool is_alpha(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int hex_val(uint8_t c)
{
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The characters did:x509 leaves unencoded (and the DID Core idchar set without escapes). */
static bool is_plain(uint8_t c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

scitt_err scitt_didx509_pct_decode(scitt_span in, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (c == '%') {
            if (in.len - i < 3 || hex_val(in.ptr[i + 1]) < 0 || hex_val(in.ptr[i + 2]) < 0) {
                return SCITT_ERR_DID_MALFORMED;
            }
            c = (uint8_t)(hex_val(in.ptr[i + 1]) << 4 | hex_val(in.ptr[i + 2]));
            i += 2;
        } else if (!is_plain(c)) {
            return SCITT_ERR_DID_MALFORMED;
        }
        if (n == cap) {
            return SCITT_ERR_BUFFER_TOO_SMALL;
        }
        out[n++] = c;
    }
    *out_len = n;
    return SCITT_OK;
}

scitt_err scitt_didx509_pct_encode(scitt_span in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        size_t need = is_plain(c) ? 1 : 3;
        if (cap - n <= need) {
            return SCITT_ERR_BUFFER_TOO_SMALL;
        }
        if (need == 1) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    if (cap == n) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    out[n] = '\0';
    return SCITT_OK;
}

/* True when @p s is a non-empty idchar string whose escapes decode to UTF-8 without NUL. */
static bool value_ok(scitt_span s)
{
    uint8_t buf[SCITT_LIMIT_ISS_CHARS];
    size_t n;
    if (s.len == 0 || scitt_didx509_pct_decode(s, buf, sizeof(buf), &n) != SCITT_OK) {
        return false;
    }
    return memchr(buf, 0, n) == NULL && scitt_utf8_valid(scitt_span_make(buf, n));
}

/* oid = 1*DIGIT *("." 1*DIGIT) */
static bool oid_ok(scitt_span s)
{
    bool need_digit = true;
    for (size_t i = 0; i < s.len; i++) {
        if (is_digit(s.ptr[i])) {
            need_digit = false;
        } else if (s.ptr[i] == '.' && !need_digit) {
            need_digit = true;
        } else {
            return false;
        }
    }
    return !need_digit;
}

bool scitt__didx509_split(scitt_span s, const char *sep, scitt_span *head, scitt_span *tail)
{
    size_t k = strlen(sep);
    for (size_t i = 0; s.len >= k && i <= s.len - k; i++) {
        if (memcmp(s.ptr + i, sep, k) == 0) {
            *head = scitt_span_make(s.ptr, i);
            *tail = scitt_span_make(s.ptr + i + k, s.len - i - k);
            return true;
        }
    }
    return false;
}

static const char *const subject_labels[] = {"CN", "L", "ST", "O", "OU", "C", "STREET"};
static const char *const subject_label_oids[] = {"2.5.4.3",  "2.5.4.7", "2.5.4.8", "2.5.4.10",
                                                 "2.5.4.11", "2.5.4.6", "2.5.4.9"};

const char *scitt__didx509_label_oid(scitt_span label)
{
    for (size_t i = 0; i < sizeof(subject_labels) / sizeof(subject_labels[0]); i++) {
        if (scitt_span_eq_str(label, subject_labels[i])) {
            return subject_label_oids[i];
        }
    }
    return NULL;
}

/* Checks one subject predicate value: key:value pairs, known keys, no key twice. */
static scitt_err subject_ok(scitt_span v, const char **why)
{
    scitt_span keys[SCITT_DIDX509_MAX_SUBJECT];
    size_t nkeys = 0;
    while (v.len > 0 || nkeys == 0) {
        scitt_span key, val, rest = {NULL, 0};
        if (!scitt__didx509_split(v, ":", &key, &val)) {
            *why = "subject predicate requires key-value pairs";
            return SCITT_ERR_DID_MALFORMED;
        }
        if (scitt__didx509_split(val, ":", &val, &rest) && rest.len == 0) {
            *why = "empty subject value";
            return SCITT_ERR_DID_MALFORMED;
        }
        bool label = false;
        for (size_t i = 0; i < sizeof(subject_labels) / sizeof(subject_labels[0]); i++) {
            label = label || scitt_span_eq_str(key, subject_labels[i]);
            if (scitt_span_eq_str(key, subject_label_oids[i])) {
                /* The data model names these attributes by label only, so the OID form could
                 * never match; reject it rather than fail silently later. */
                *why = "subject key must use the attribute's label";
                return SCITT_ERR_DID_MALFORMED;
            }
        }
        if (!label && !oid_ok(key)) {
            *why = "subject predicate contains an unknown key";
            return SCITT_ERR_DID_MALFORMED;
        }
        if (!value_ok(val)) {
            *why = "subject value is not correctly percent-encoded UTF-8";
            return SCITT_ERR_DID_MALFORMED;
        }
        for (size_t i = 0; i < nkeys; i++) {
            if (scitt_span_eq(keys[i], key)) {
                *why = "subject predicate contains duplicate fields";
                return SCITT_ERR_DID_MALFORMED;
            }
        }
        if (nkeys == SCITT_DIDX509_MAX_SUBJECT) {
            *why = "too many subject fields";
            return SCITT_ERR_DID_MALFORMED;
        }
        keys[nkeys++] = key;
        v = rest;
    }
    return SCITT_OK;
}

static scitt_err predicate(scitt_span p, scitt_didx509_pred *out, const char **why)
{
    scitt_span name, value;
    if (!scitt__didx509_split(p, ":", &name, &value) || name.len == 0) {
        *why = "predicate needs a name and a value";
        return SCITT_ERR_DID_MALFORMED;
    }
    out->value = value;
    /* The one predicate name outside 1*ALPHA; matched as a whole word first. */
    if (scitt_span_eq_str(name, "fulcio-issuer")) {
        out->kind = SCITT_DIDX509_FULCIO_ISSUER;
        if (!value_ok(value)) {
            *why = "fulcio-issuer value is not correctly percent-encoded UTF-8";
            return SCITT_ERR_DID_MALFORMED;
        }
        return SCITT_OK;
    }
    for (size_t i = 0; i < name.len; i++) {
        if (!is_alpha(name.ptr[i])) {
            *why = "predicate name is not alphabetic";
            return SCITT_ERR_DID_MALFORMED;
        }
    }
    if (scitt_span_eq_str(name, "subject")) {
        out->kind = SCITT_DIDX509_SUBJECT;
        return subject_ok(value, why);
    }
    if (scitt_span_eq_str(name, "san")) {
        out->kind = SCITT_DIDX509_SAN;
        scitt_span type, v, extra;
        if (!scitt__didx509_split(value, ":", &type, &v) ||
            scitt__didx509_split(v, ":", &v, &extra)) {
            *why = "SAN predicate requires exactly one type and value";
            return SCITT_ERR_DID_MALFORMED;
        }
        if (!scitt_span_eq_str(type, "email") && !scitt_span_eq_str(type, "dns") &&
            !scitt_span_eq_str(type, "uri")) {
            *why = "SAN type must be email, dns or uri";
            return SCITT_ERR_DID_MALFORMED;
        }
        if (!value_ok(v)) {
            *why = "SAN value is not correctly percent-encoded UTF-8";
            return SCITT_ERR_DID_MALFORMED;
        }
        return SCITT_OK;
    }
    if (scitt_span_eq_str(name, "eku")) {
        out->kind = SCITT_DIDX509_EKU;
        if (!oid_ok(value)) {
            *why = "EKU predicate value is not a dotted OID";
            return SCITT_ERR_DID_MALFORMED;
        }
        return SCITT_OK;
    }
    *why = "DID contains an unknown predicate";
    return SCITT_ERR_DID_MALFORMED;
}

/* RFC 3986 fragment characters: pchar / "/" / "?". */
static bool fragment_ok(scitt_span f)
{
    static const char extra[] = "-._~!$&'()*+,;=:@/?";
    for (size_t i = 0; i < f.len; i++) {
        uint8_t c = f.ptr[i];
        if (c == '%') {
            if (f.len - i < 3 || hex_val(f.ptr[i + 1]) < 0 || hex_val(f.ptr[i + 2]) < 0) {
                return false;
            }
            i += 2;
        } else if (!is_alpha(c) && !is_digit(c) && (c == 0 || strchr(extra, c) == NULL)) {
            return false;
        }
    }
    return true;
}

static scitt_err parse(scitt_span did, scitt_didx509 *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (did.len > SCITT_LIMIT_ISS_CHARS) {
        *why = "DID too long";
        return SCITT_ERR_TOO_LARGE;
    }
    scitt_span id = did, frag;
    if (scitt__didx509_split(did, "#", &id, &frag) && !fragment_ok(frag)) {
        *why = "DID URL fragment has invalid characters";
        return SCITT_ERR_DID_MALFORMED;
    }
    out->id = id;
    static const char prefix[] = "did:x509:";
    if (id.len < sizeof(prefix) - 1 || memcmp(id.ptr, prefix, sizeof(prefix) - 1) != 0) {
        *why = "DID prefix is invalid";
        return SCITT_ERR_DID_MALFORMED;
    }
    for (size_t i = 0; i < id.len; i++) {
        if (id.ptr[i] == '/') {
            *why = "DID URL paths are not supported";
            return SCITT_ERR_DID_MALFORMED;
        }
        if (id.ptr[i] == '?') {
            *why = "DID URL queries are not supported";
            return SCITT_ERR_DID_MALFORMED;
        }
    }
    scitt_span rest = scitt_span_make(id.ptr + sizeof(prefix) - 1, id.len - (sizeof(prefix) - 1));
    scitt_span version, alg, fp, preds;
    if (!scitt__didx509_split(rest, ":", &version, &rest) || !scitt_span_eq_str(version, "0")) {
        *why = "unsupported did:x509 method version";
        return SCITT_ERR_DID_MALFORMED;
    }
    if (!scitt__didx509_split(rest, ":", &alg, &rest)) {
        *why = "missing fingerprint algorithm";
        return SCITT_ERR_DID_MALFORMED;
    }
    size_t fp_len;
    if (scitt_span_eq_str(alg, "sha256")) {
        out->alg = SCITT_X509_SHA256;
        fp_len = SCITT_SHA256_LEN;
    } else if (scitt_span_eq_str(alg, "sha384")) {
        out->alg = SCITT_X509_SHA384;
        fp_len = SCITT_SHA384_LEN;
    } else if (scitt_span_eq_str(alg, "sha512")) {
        out->alg = SCITT_X509_SHA512;
        fp_len = SCITT_SHA512_LEN;
    } else {
        *why = "fingerprint algorithm is not supported";
        return SCITT_ERR_DID_MALFORMED;
    }
    if (!scitt__didx509_split(rest, "::", &fp, &preds)) {
        *why = "DID must contain at least one predicate";
        return SCITT_ERR_DID_MALFORMED;
    }
    if (scitt_base64url_decode(fp, out->fingerprint, sizeof(out->fingerprint),
                               &out->fingerprint_len) != SCITT_OK ||
        out->fingerprint_len != fp_len) {
        *why = "CA fingerprint is not base64url of the algorithm's digest length";
        return SCITT_ERR_DID_MALFORMED;
    }
    for (;;) {
        scitt_span p = preds, next = {NULL, 0};
        bool more = scitt__didx509_split(preds, "::", &p, &next);
        if (out->n_preds == SCITT_DIDX509_MAX_PREDICATES) {
            *why = "too many predicates";
            return SCITT_ERR_DID_MALFORMED;
        }
        scitt_err e = predicate(p, &out->preds[out->n_preds], why);
        if (e != SCITT_OK) {
            return e;
        }
        out->n_preds++;
        if (!more) {
            break;
        }
        preds = next;
    }
    return SCITT_OK;
}

scitt_err scitt_didx509_parse(scitt_span did, scitt_didx509 *out, const char **why)
{
    const char *reason = NULL;
    if (out == NULL || (did.ptr == NULL && did.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_err e = parse(did, out, &reason);
    if (why && reason) {
        *why = reason;
    }
    return e;
}
