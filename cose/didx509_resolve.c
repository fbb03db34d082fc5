/*
 * did:x509 resolution: path validation with the chain's last certificate as the trust anchor,
 * the CA fingerprint, the leaf's mapping to the did:x509 data model, the predicates and the key
 * usage rule. The OpenSSL side of did:x509.
 */
#include "scitt/x509.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "scitt/limits.h"
#include "x509_internal.h"

/* Bounds the pairwise duplicate check over a name's attributes. */
#define MAX_NAME_ATTRS    64
#define OID_TEXT_MAX      128
#define FULCIO_ISSUER_OID "1.3.6.1.4.1.57264.1.1"

typedef struct resolve_ctx {
    X509 *leaf;
    const char *why;
} resolve_ctx;

static scitt_err mismatch(resolve_ctx *c, const char *why)
{
    c->why = why;
    return SCITT_ERR_DID_MISMATCH;
}

/* Dotted text of an OID; false when it does not fit (such an OID cannot match a predicate). */
static bool oid_text(const ASN1_OBJECT *obj, char out[OID_TEXT_MAX])
{
    int n = OBJ_obj2txt(out, OID_TEXT_MAX, obj, 1);
    return n > 0 && n < OID_TEXT_MAX;
}

/* The data model represents a name as a map, so a name repeating an attribute type cannot be
 * represented and is refused outright (whether or not a predicate mentions that type). */
static scitt_err name_ok(resolve_ctx *c, const X509_NAME *name)
{
    int count = X509_NAME_entry_count(name);
    if (count > MAX_NAME_ATTRS) {
        return mismatch(c, "certificate name has too many attributes");
    }
    for (int i = 0; i < count; i++) {
        const ASN1_OBJECT *a = X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, i));
        for (int j = 0; j < i; j++) {
            if (OBJ_cmp(a, X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, j))) == 0) {
                return mismatch(c, "certificate name contains duplicate attributes");
            }
        }
    }
    return SCITT_OK;
}

/* Maps the leaf's SANs onto the data model: email, dns, uri and directory names only. */
static scitt_err sans_ok(resolve_ctx *c)
{
    int crit = 0;
    GENERAL_NAMES *sans = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, &crit, NULL);
    if (sans == NULL) {
        ERR_clear_error();
        return crit == -1 ? SCITT_OK : mismatch(c, "certificate SAN extension is not usable");
    }
    scitt_err e = SCITT_OK;
    for (int i = 0; e == SCITT_OK && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type == GEN_DIRNAME) {
            e = name_ok(c, gn->d.directoryName);
        } else if (gn->type != GEN_EMAIL && gn->type != GEN_DNS && gn->type != GEN_URI) {
            e = mismatch(c, "certificate contains an unsupported SAN type");
        }
    }
    GENERAL_NAMES_free(sans);
    return e;
}

static scitt_err decode_value(resolve_ctx *c, scitt_span enc, uint8_t *buf, size_t cap, size_t *len)
{
    if (scitt_didx509_pct_decode(enc, buf, cap, len) != SCITT_OK) {
        c->why = "predicate value is not correctly percent-encoded";
        return SCITT_ERR_DID_MALFORMED;
    }
    return SCITT_OK;
}

static bool bytes_eq(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static scitt_err subject_holds(resolve_ctx *c, scitt_span v)
{
    const X509_NAME *name = X509_get_subject_name(c->leaf);
    uint8_t want[SCITT_LIMIT_ISS_CHARS];
    while (v.len > 0) {
        scitt_span key, val, rest = {NULL, 0};
        if (!scitt__didx509_split(v, ":", &key, &val)) {
            return mismatch(c, "subject predicate requires key-value pairs");
        }
        (void)scitt__didx509_split(val, ":", &val, &rest);
        size_t wlen;
        scitt_err e = decode_value(c, val, want, sizeof(want), &wlen);
        if (e != SCITT_OK) {
            return e;
        }
        const char *oid = scitt__didx509_label_oid(key);
        char keytext[OID_TEXT_MAX];
        if (oid == NULL) {
            if (key.len >= sizeof(keytext)) {
                return mismatch(c, "subject predicate contains an unknown key");
            }
            memcpy(keytext, key.ptr, key.len);
            keytext[key.len] = '\0';
            oid = keytext;
        }
        bool found = false;
        for (int i = 0; i < X509_NAME_entry_count(name) && !found; i++) {
            const X509_NAME_ENTRY *ent = X509_NAME_get_entry(name, i);
            char have[OID_TEXT_MAX];
            if (!oid_text(X509_NAME_ENTRY_get_object(ent), have) || strcmp(have, oid) != 0) {
                continue;
            }
            found = true;
            unsigned char *utf8;
            size_t ulen;
            e = scitt__x509_utf8(X509_NAME_ENTRY_get_data(ent), &utf8, &ulen);
            if (e != SCITT_OK) {
                return mismatch(c, "subject attribute is not representable as UTF-8");
            }
            bool same = bytes_eq(utf8, ulen, want, wlen);
            OPENSSL_free(utf8);
            if (!same) {
                return mismatch(c, "subject predicate does not match the certificate");
            }
        }
        if (!found) {
            return mismatch(c, "subject predicate names an attribute the certificate lacks");
        }
        v = rest;
    }
    return SCITT_OK;
}

static scitt_err san_holds(resolve_ctx *c, scitt_span v)
{
    scitt_span type, val;
    if (!scitt__didx509_split(v, ":", &type, &val)) {
        return mismatch(c, "SAN predicate requires exactly one type and value");
    }
    int want_type = scitt_span_eq_str(type, "email") ? GEN_EMAIL
                    : scitt_span_eq_str(type, "dns") ? GEN_DNS
                                                     : GEN_URI;
    uint8_t want[SCITT_LIMIT_ISS_CHARS];
    size_t wlen;
    scitt_err e = decode_value(c, val, want, sizeof(want), &wlen);
    if (e != SCITT_OK) {
        return e;
    }
    int crit = 0;
    GENERAL_NAMES *sans = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, &crit, NULL);
    bool found = false;
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !found; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type != want_type) {
            continue;
        }
        /* rfc822Name, dNSName and URI share the IA5String representation. */
        const ASN1_STRING *s = gn->d.ia5;
        found = bytes_eq(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), want, wlen);
    }
    GENERAL_NAMES_free(sans);
    ERR_clear_error();
    return found ? SCITT_OK : mismatch(c, "SAN predicate does not match the certificate");
}

static scitt_err eku_holds(resolve_ctx *c, scitt_span v)
{
    int crit = 0;
    EXTENDED_KEY_USAGE *ekus = X509_get_ext_d2i(c->leaf, NID_ext_key_usage, &crit, NULL);
    if (ekus == NULL) {
        ERR_clear_error();
        return mismatch(c, crit == -1 ? "certificate does not contain an EKU extension"
                                      : "certificate EKU extension is not usable");
    }
    bool found = false;
    for (int i = 0; i < sk_ASN1_OBJECT_num(ekus) && !found; i++) {
        char have[OID_TEXT_MAX];
        found = oid_text(sk_ASN1_OBJECT_value(ekus, i), have) &&
                bytes_eq(have, strlen(have), v.ptr, v.len);
    }
    EXTENDED_KEY_USAGE_free(ekus);
    return found ? SCITT_OK : mismatch(c, "EKU predicate does not match the certificate");
}

static scitt_err fulcio_holds(resolve_ctx *c, scitt_span v)
{
    static const char scheme[] = "https://";
    uint8_t want[SCITT_LIMIT_ISS_CHARS + sizeof(scheme)];
    memcpy(want, scheme, sizeof(scheme) - 1);
    size_t wlen;
    scitt_err e = decode_value(c, v, want + sizeof(scheme) - 1, SCITT_LIMIT_ISS_CHARS, &wlen);
    if (e != SCITT_OK) {
        return e;
    }
    wlen += sizeof(scheme) - 1;
    ASN1_OBJECT *oid = OBJ_txt2obj(FULCIO_ISSUER_OID, 1);
    if (oid == NULL) {
        ERR_clear_error();
        return SCITT_ERR_NOMEM;
    }
    int at = X509_get_ext_by_OBJ(c->leaf, oid, -1);
    int again = at < 0 ? -1 : X509_get_ext_by_OBJ(c->leaf, oid, at);
    ASN1_OBJECT_free(oid);
    if (at < 0) {
        return mismatch(c, "certificate does not contain a Fulcio issuer extension");
    }
    if (again >= 0) {
        return mismatch(c, "certificate repeats the Fulcio issuer extension");
    }
    /* The legacy Fulcio issuer extension holds the URL as raw UTF-8, not as a DER string. */
    const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(c->leaf, at));
    bool same = bytes_eq(ASN1_STRING_get0_data(data), (size_t)ASN1_STRING_length(data), want, wlen);
    return same ? SCITT_OK : mismatch(c, "Fulcio issuer predicate does not match the certificate");
}

static scitt_err check_leaf(resolve_ctx *c, const scitt_didx509 *d, scitt_didx509_result *res)
{
    scitt_err e = name_ok(c, X509_get_subject_name(c->leaf));
    if (e == SCITT_OK) {
        e = sans_ok(c);
    }
    for (size_t i = 0; e == SCITT_OK && i < d->n_preds; i++) {
        const scitt_didx509_pred *p = &d->preds[i];
        switch (p->kind) {
        case SCITT_DIDX509_SUBJECT:
            e = subject_holds(c, p->value);
            break;
        case SCITT_DIDX509_SAN:
            e = san_holds(c, p->value);
            break;
        case SCITT_DIDX509_EKU:
            e = eku_holds(c, p->value);
            break;
        case SCITT_DIDX509_FULCIO_ISSUER:
            e = fulcio_holds(c, p->value);
            break;
        }
    }
    if (e != SCITT_OK) {
        return e;
    }
    /* X509_get_key_usage reports every bit set when the extension is absent, which is exactly
     * the rule: no keyUsage extension allows both relationships. */
    uint32_t ku = X509_get_key_usage(c->leaf);
    res->assertion = (ku & KU_DIGITAL_SIGNATURE) != 0;
    res->key_agreement = (ku & KU_KEY_AGREEMENT) != 0;
    if (!res->assertion && !res->key_agreement) {
        return mismatch(c, "leaf certificate key usage does not support DID operations");
    }
    return SCITT_OK;
}

static scitt_err resolve(const scitt_didx509 *d, const scitt_span *chain, size_t n,
                         const scitt_x509_time *when, scitt_didx509_result *res, const char **why)
{
    if (n < 2) {
        *why = "certificate chain must contain at least two certificates";
        return SCITT_ERR_CERT_CHAIN;
    }
    if (n > SCITT_LIMIT_X5CHAIN_CERTS) {
        *why = "too many certificates in the chain";
        return SCITT_ERR_TOO_LARGE;
    }
    X509 *certs[SCITT_LIMIT_X5CHAIN_CERTS];
    scitt_err e = scitt__x509_parse_chain(chain, n, certs, why);
    if (e != SCITT_OK) {
        return e;
    }
    X509_STORE *store = X509_STORE_new();
    if (store == NULL || !X509_STORE_add_cert(store, certs[n - 1])) {
        e = SCITT_ERR_NOMEM;
        goto out;
    }
    e = scitt__x509_path_verify(store, certs, n, when, true, false, why);
    if (e == SCITT_ERR_UNTRUSTED) {
        /* The anchor is the chain's own last certificate, so "no path to an anchor" means the
         * supplied certificates do not link up: a chain error, not a trust decision. */
        e = SCITT_ERR_CERT_CHAIN;
    }
    if (e != SCITT_OK) {
        goto out;
    }
    /* The pinned CA must be an intermediate or the root: a DID pinning the leaf itself would
     * name one certificate, not an issuing authority. */
    e = SCITT_ERR_DID_MISMATCH;
    *why = "CA fingerprint does not match the certificate chain";
    for (size_t i = 1; i < n; i++) {
        uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
        size_t fplen;
        if (scitt_x509_fingerprint(chain[i], d->alg, fp, &fplen) == SCITT_OK &&
            bytes_eq(fp, fplen, d->fingerprint, d->fingerprint_len)) {
            res->ca_index = i;
            e = SCITT_OK;
            break;
        }
    }
    if (e != SCITT_OK) {
        goto out;
    }
    resolve_ctx c = {certs[0], NULL};
    e = check_leaf(&c, d, res);
    if (e != SCITT_OK) {
        *why = c.why;
        goto out;
    }
    e = scitt__x509_find_spki(chain[0], &res->leaf_spki);
    res->id = d->id;
out:
    ERR_clear_error();
    X509_STORE_free(store);
    scitt__x509_free_chain(certs, n);
    return e;
}

scitt_err scitt_didx509_resolve(scitt_span did, const scitt_span *chain, size_t n,
                                const scitt_x509_time *when, scitt_didx509_result *out,
                                const char **why)
{
    const char *reason = NULL;
    if ((chain == NULL && n != 0) || when == NULL || (did.ptr == NULL && did.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_didx509 d;
    scitt_err e = scitt_didx509_parse(did, &d, &reason);
    scitt_didx509_result res;
    memset(&res, 0, sizeof(res));
    if (e == SCITT_OK) {
        e = resolve(&d, chain, n, when, &res, &reason);
    }
    if (e == SCITT_OK && out) {
        *out = res;
    }
    if (e != SCITT_OK && why) {
        *why = reason ? reason : scitt_err_str(e);
    }
    return e;
}
