/*
 * What makes a transparent statement verify (scitt/verify.h): every receipt (RFC 9942 vds 1 from
 * any log, CCF vds 2, 2023-era labels on request) against the trusted service keys, the issuer
 * signature over the attached payload, a detached payload or a hash envelope's digest (and its
 * preimage), the x5chain against issuer roots, the did:x509 issuer, a witness quorum, and what
 * the caller requires (digest, iss, sub). Each check is recorded with its result and detail; no
 * file is read and nothing is printed.
 */
#include "scitt/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "legacy.h"
#include "scitt/client.h"
#include "scitt/receipt.h"
#include "scitt/witness.h"

void scitt_verify_result_init(scitt_verify_result *r)
{
    memset(r, 0, sizeof(*r));
}

static void vnote(scitt_verify_result *r, const char *name, scitt_check_result res, const char *fmt,
                  va_list ap)
{
    if (r->nchecks == SCITT_VERIFY_CHECKS_MAX) {
        return;
    }
    scitt_check *c = &r->checks[r->nchecks++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->result = res;
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    if (res == SCITT_CHECK_FAILED && !r->failed++) {
        snprintf(r->first, sizeof(r->first), "%s: %s", c->name, c->detail);
    }
}

void scitt_verify_note(scitt_verify_result *r, const char *name, scitt_check_result res,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(r, name, res, fmt, ap);
    va_end(ap);
}

#define note    scitt_verify_note
#define OK      SCITT_CHECK_OK
#define FAILED  SCITT_CHECK_FAILED
#define SKIPPED SCITT_CHECK_SKIPPED

bool scitt_verify_digest_alg(const char *arg, int64_t *alg)
{
    static const struct {
        const char *prefix;
        int64_t alg;
    } names[] = {{"sha256:", SCITT_COSE_ALG_SHA256},
                 {"sha384:", SCITT_COSE_ALG_SHA384},
                 {"sha512:", SCITT_COSE_ALG_SHA512}};
    int64_t a = 0;
    if (strchr(arg, ':')) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !a; i++) {
            a = strncasecmp(arg, names[i].prefix, strlen(names[i].prefix)) == 0 ? names[i].alg : 0;
        }
        if (!a) {
            return false;
        }
    }
    if (alg) {
        *alg = a;
    }
    return true;
}

const char *scitt_verify_hash_name(int64_t alg)
{
    return alg == SCITT_COSE_ALG_SHA256   ? "sha256"
           : alg == SCITT_COSE_ALG_SHA384 ? "sha384"
           : alg == SCITT_COSE_ALG_SHA512 ? "sha512"
                                          : NULL;
}

/* Unix seconds as RFC 3339 UTC (the number itself when it has no calendar form). */
static void time_text(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "%lld", (long long)t);
    }
}

/* The key a receipt with kid @p kid is checked with (as the receipt verifiers pick it). */
static const scitt_cose_key *pick(const scitt_verify_opts *o, scitt_span kid)
{
    if (kid.len) {
        return scitt_cose_keyset_find(o->keys, kid);
    }
    return scitt_cose_keyset_count(o->keys) == 1 ? scitt_cose_keyset_at(o->keys, 0) : NULL;
}

/* Where a trusted key came from, for reports ("?" when the caller does not say). */
static const char *origin(const scitt_verify_opts *o, const scitt_cose_key *k, bool *attested)
{
    bool a = false;
    const char *s = k && o->origin ? o->origin(o->origin_ctx, k, &a) : NULL;
    if (attested) {
        *attested = a;
    }
    return s ? s : "?";
}

/* Does a receipt use the 2023 labels (vds at -111, no 395)? */
static bool is_legacy_receipt(scitt_span r)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    bool legacy = m && scitt_cose_sign1_decode(r, SCITT_SIGN1_LEGACY, m) == SCITT_OK &&
                  !(m->hdr.prot & SCITT_COSE_H_VDS) &&
                  scitt_cose_headers_find(&m->hdr, SCITT__LEGACY_HDR_VDS) != NULL;
    scitt_free(m);
    return legacy;
}

/* A kid as text when it is printable ASCII (JWK-style kids), else as hex; cut to fit. */
static void kid_text(scitt_span kid, char *out, size_t cap)
{
    bool printable = kid.len > 0;
    for (size_t i = 0; i < kid.len; i++) {
        printable = printable && kid.ptr[i] > 0x20 && kid.ptr[i] < 0x7f;
    }
    out[0] = 0;
    if (printable) {
        snprintf(out, cap, "%.*s", (int)kid.len, (const char *)kid.ptr);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 0; i < 2 * kid.len && n + 1 < cap; i++) {
        uint8_t b = kid.ptr[i / 2];
        out[n++] = hex[i % 2 ? b & 15 : b >> 4];
    }
    out[n] = 0;
}

static void verify_one(const scitt_verify_opts *o, scitt_span receipt, scitt_span entry,
                       scitt_verify_receipt *ri)
{
    scitt_span kid = scitt_span_make(NULL, 0);
    bool have_kid = false;
    if (scitt_receipt_checkpoint(receipt, &ri->checkpoint) != SCITT_OK) {
        ri->checkpoint = scitt_span_make(NULL, 0);
    }
    if (o->legacy_labels && is_legacy_receipt(receipt)) {
        scitt__legacy_info li;
        ri->legacy = true;
        ri->vds = 1;
        ri->err = scitt__legacy_verify_receipt(receipt, entry, o->keys, &li);
        if (ri->err == SCITT_OK) {
            ri->alg = li.alg;
            ri->tree_size = li.tree_size;
            ri->leaf_index = li.leaf_index;
            kid = li.kid;
            have_kid = true;
            ri->from = origin(o, pick(o, li.kid), &ri->attested);
            scitt_client_printable(li.iss, ri->iss, sizeof(ri->iss));
        }
    } else {
        scitt_receipt_info info;
        ri->err = scitt_receipt_verify_inclusion(receipt, entry, o->keys, 0, &info);
        if (ri->err == SCITT_OK) {
            ri->vds = info.vds;
            ri->alg = info.alg;
            ri->tree_size = info.tree_size;
            ri->leaf_index = info.leaf_index;
            ri->size_signed = info.size_signed;
            memcpy(ri->root, info.root, SCITT_HASH_LEN);
            kid = info.kid;
            have_kid = true;
            ri->from = origin(o, pick(o, info.kid), &ri->attested);
            scitt_client_printable(info.iss, ri->iss, sizeof(ri->iss));
        }
    }
    if (have_kid) {
        kid_text(kid, ri->kid, sizeof(ri->kid));
    }
    if (ri->err != SCITT_OK) {
        /* Say which key would have been used, so a wrong trust file is easy to see. */
        scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
        if (m && scitt_cose_sign1_decode(receipt, SCITT_SIGN1_LEGACY, m) == SCITT_OK) {
            ri->vds = m->hdr.vds;
            kid_text(m->hdr.kid, ri->kid, sizeof(ri->kid));
            const scitt_cose_key *k = pick(o, m->hdr.kid);
            ri->from = k ? origin(o, k, NULL) : NULL;
        }
        scitt_free(m);
    }
}

static const char *vds_name(int64_t vds, bool legacy)
{
    if (legacy) {
        return "RFC 9162 SHA-256 (2023 labels)";
    }
    return vds == 1 ? "RFC 9162 SHA-256" : (vds == 2 ? "CCF ledger" : "unknown vds");
}

/* A witness policy: the cosigned checkpoint meets the quorum, and each verified RFC 9162 receipt
 * is of its tree (same root at the same size, or a prefix proven by the consistency receipt). */
static scitt_err witness_check(const scitt_verify_opts *o, scitt_verify_result *r)
{
    if (o->witness_policy.name == NULL) {
        return SCITT_OK;
    }
    const scitt_verify_receipt *ri = r->receipts;
    size_t nri = r->nreceipts;
    scitt_span cpn = o->checkpoint.data;
    for (size_t i = 0; o->checkpoint.name == NULL && i < nri && cpn.len == 0; i++) {
        if (ri[i].err == SCITT_OK && ri[i].checkpoint.len > 0) { /* a witnessed receipt's own */
            cpn = ri[i].checkpoint;
        }
    }
    if (o->checkpoint.name == NULL && cpn.len == 0) {
        note(r, "witnesses", FAILED,
             "--witness-policy needs --checkpoint or a receipt carrying its cosigned checkpoint "
             "(scitt get --witnessed)");
        return SCITT_OK;
    }
    if (o->witness_policy.err != SCITT_OK ||
        (o->checkpoint.name && o->checkpoint.err != SCITT_OK)) {
        note(r, "witnesses", FAILED, "cannot read %s or %s (or over their size limits)",
             o->witness_policy.name,
             o->checkpoint.name ? o->checkpoint.name : "the carried checkpoint");
        return SCITT_OK;
    }
    scitt_tlog_policy *p = scitt_malloc(sizeof(*p));
    if (p == NULL) {
        return SCITT_ERR_NOMEM;
    }
    const char *why = "";
    size_t line = 0;
    scitt_err e = scitt_tlog_policy_parse(o->witness_policy.data, p, &why, &line);
    if (e != SCITT_OK) {
        note(r, "witnesses", FAILED, "%s:%zu: %s", o->witness_policy.name, line,
             e == SCITT_ERR_POLICY ? why : scitt_err_str(e));
        goto out;
    }
    scitt_checkpoint cp;
    char missing[512];
    e = scitt_tlog_policy_check(p, cpn, NULL, 0, &cp, missing, sizeof(missing));
    if (e == SCITT_ERR_POLICY) {
        note(r, "witnesses", FAILED, "the checkpoint does not meet the witness quorum; missing: %s",
             missing);
        goto out;
    }
    if (e != SCITT_OK) {
        note(r, "witnesses", FAILED, "the checkpoint: %s", scitt_err_str(e));
        goto out;
    }
    note(r, "witnesses", OK, "checkpoint of size %llu cosigned per the policy's quorum",
         (unsigned long long)cp.size);
    for (size_t i = 0; i < nri; i++) {
        if (ri[i].err != SCITT_OK || ri[i].vds != 1 || ri[i].legacy) {
            continue;
        }
        if (ri[i].tree_size > cp.size) {
            note(r, "witnessed", FAILED,
                 "receipt %zu: tree size %llu is newer than the witnessed checkpoint (%llu)", i + 1,
                 (unsigned long long)ri[i].tree_size, (unsigned long long)cp.size);
        } else if (ri[i].tree_size == cp.size) {
            bool same = memcmp(ri[i].root, cp.root, SCITT_HASH_LEN) == 0;
            note(r, "witnessed", same ? OK : FAILED, "receipt %zu: %s", i + 1,
                 same ? "the same root as the witnessed checkpoint"
                      : "another root than the witnessed checkpoint at the same size (split view)");
        } else if (o->consistency.name == NULL) {
            note(r, "witnessed", FAILED,
                 "receipt %zu: tree size %llu is older than the witnessed checkpoint (%llu): give "
                 "--consistency (GET /proofs/consistency?from=%llu&to=%llu)",
                 i + 1, (unsigned long long)ri[i].tree_size, (unsigned long long)cp.size,
                 (unsigned long long)ri[i].tree_size, (unsigned long long)cp.size);
        } else if (o->consistency.err != SCITT_OK) {
            note(r, "witnessed", FAILED, "cannot read %s", o->consistency.name);
        } else {
            scitt_receipt_info ci;
            e = scitt_receipt_verify_consistency(o->consistency.data, ri[i].tree_size, ri[i].root,
                                                 o->keys, 0, &ci);
            bool ok = e == SCITT_OK && ci.tree_size == cp.size &&
                      memcmp(ci.root, cp.root, SCITT_HASH_LEN) == 0;
            note(r, "witnessed", ok ? OK : FAILED, "receipt %zu: %s", i + 1,
                 ok ? "its tree is a prefix of the witnessed checkpoint (consistency verified)"
                 : e != SCITT_OK ? scitt_err_str(e)
                                 : "the consistency receipt does not lead to the witnessed root");
        }
    }
out:
    scitt_free(p);
    return SCITT_OK;
}

static void receipts_check(const scitt_verify_opts *o, const scitt_cose_sign1 *m, scitt_span entry,
                           scitt_verify_result *r)
{
    scitt_verify_receipt *ri = r->receipts;
    scitt_span list[SCITT_VERIFY_RECEIPTS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < m->hdr.nreceipts && n < SCITT_VERIFY_RECEIPTS_MAX; i++) {
        ri[n].source = "394";
        list[n++] = m->hdr.receipts[i];
    }
    size_t nl = 0;
    scitt_span legacy_list[SCITT_LIMIT_RECEIPTS];
    if (o->legacy_labels &&
        scitt__legacy_receipts(m, legacy_list, SCITT_LIMIT_RECEIPTS, &nl) == SCITT_OK) {
        for (size_t i = 0; i < nl && n < SCITT_VERIFY_RECEIPTS_MAX; i++) {
            ri[n].source = "-333";
            list[n++] = legacy_list[i];
        }
    }
    for (size_t i = 0;
         i < o->nreceipts && i < SCITT_LIMIT_RECEIPTS && n < SCITT_VERIFY_RECEIPTS_MAX; i++) {
        ri[n].source = o->receipts[i].name ? o->receipts[i].name : "";
        list[n++] = o->receipts[i].data;
    }
    r->nreceipts = n;
    if (n == 0) {
        note(r, "receipts", FAILED,
             "the statement carries no receipt%s (and no --receipt was given)",
             o->legacy_labels ? " at 394 or -333" : " at 394");
        return;
    }
    size_t good = 0;
    for (size_t i = 0; i < n; i++) {
        verify_one(o, list[i], entry, &ri[i]);
        char name[40];
        snprintf(name, sizeof(name), "receipt %zu", i + 1);
        char where[400];
        snprintf(where, sizeof(where), "kid %.64s%s (%s)", ri[i].kid,
                 strlen(ri[i].kid) > 64 ? "..." : "",
                 ri[i].from ? ri[i].from : "no trusted key has this kid");
        if (ri[i].err == SCITT_OK) {
            good++;
            if (ri[i].vds == 2) {
                note(r, name, OK, "%s inclusion verified, %s", vds_name(2, false), where);
            } else {
                note(r, name, OK, "%s inclusion verified: index %llu in a tree of %llu%s, %s",
                     vds_name(ri[i].vds, ri[i].legacy), (unsigned long long)ri[i].leaf_index,
                     (unsigned long long)ri[i].tree_size, ri[i].size_signed ? " (size signed)" : "",
                     where);
            }
        } else {
            note(r, name, o->any ? SKIPPED : FAILED, "%s: %s, %s", vds_name(ri[i].vds, false),
                 scitt_err_str(ri[i].err), where);
        }
    }
    if (o->any && good == 0) {
        note(r, "receipts", FAILED, "none of the %zu receipts verifies", n);
    }
}

/* A receipt checked with a service bundle's key must name the issuer the bundle binds. */
static void bundle_issuer_check(const scitt_verify_opts *o, scitt_verify_result *r)
{
    if (!o->bundle_issuer) {
        return;
    }
    const scitt_verify_receipt *ri = r->receipts;
    char label[40];
    for (size_t i = 0; i < r->nreceipts; i++) {
        if (ri[i].err == SCITT_OK && ri[i].from && ri[i].attested) {
            bool same = strcmp(ri[i].iss, o->bundle_issuer) == 0;
            snprintf(label, sizeof(label), "receipt %zu issuer", i + 1);
            note(r, label, same ? OK : FAILED, "the receipt names \"%s\"%s\"%s\"", ri[i].iss,
                 same ? ", the service bundle's issuer " : ", not the service bundle's issuer ",
                 o->bundle_issuer);
        }
    }
}

/* Hash of a preimage with the hash envelope's algorithm. */
static scitt_err hash_bytes(scitt_span b, int64_t alg, uint8_t *out, size_t *len)
{
    const EVP_MD *md = alg == SCITT_COSE_ALG_SHA256   ? EVP_sha256()
                       : alg == SCITT_COSE_ALG_SHA384 ? EVP_sha384()
                       : alg == SCITT_COSE_ALG_SHA512 ? EVP_sha512()
                                                      : NULL;
    *len = 0;
    if (!md) {
        return SCITT_ERR_UNSUPPORTED;
    }
    unsigned n = 0;
    if (EVP_Digest(b.ptr, b.len, out, &n, md, NULL) != 1) {
        return SCITT_ERR_CRYPTO;
    }
    *len = n;
    return SCITT_OK;
}

static scitt_x509_time when_of(const scitt_verify_opts *o, const scitt_cose_sign1 *m)
{
    if (o->x509_time == SCITT_VERIFY_X509_OFF) {
        return scitt_x509_time_none();
    }
    if (o->x509_time == SCITT_VERIFY_X509_IAT && m->hdr.cwt.has_iat) {
        return scitt_x509_time_at(m->hdr.cwt.iat);
    }
    return scitt_x509_time_at(o->at);
}

/* What the issuer checks established, for the issuer identity, the digest and the verdict. */
typedef struct issuer_view {
    bool sig_ok;      /* the issuer signature verified... */
    bool sig_by_leaf; /* ...with the protected x5chain leaf's key */
    bool sig_pinned;  /* ...with the pinned issuer key */
    bool chain_rooted;
    bool did_tried;
    bool did_ok;
} issuer_view;

/* CWT exp and nbf against the instant (RFC 8392: not accepted on or after exp, or before nbf). */
static void validity_check(const scitt_verify_opts *o, const scitt_cose_sign1 *m,
                           scitt_verify_result *r)
{
    const scitt_cose_cwt *c = &m->hdr.cwt;
    if (!c->has_exp && !c->has_nbf) {
        return;
    }
    char at[32], t[32];
    time_text(o->at, at);
    if (c->has_exp && c->exp <= o->at) {
        time_text(c->exp, t);
        note(r, "validity", FAILED, "the statement expired at %s (CWT exp), before %s", t, at);
    } else if (c->has_nbf && c->nbf > o->at) {
        time_text(c->nbf, t);
        note(r, "validity", FAILED, "the statement is not valid before %s (CWT nbf), after %s", t,
             at);
    } else {
        note(r, "validity", OK, "CWT %s%s%s %s at %s", c->has_nbf ? "nbf" : "",
             c->has_nbf && c->has_exp ? " and " : "", c->has_exp ? "exp" : "",
             c->has_nbf && c->has_exp ? "hold" : "holds", at);
    }
}

static bool is_did_x509(scitt_span iss)
{
    return iss.len > 9 && memcmp(iss.ptr, "did:x509:", 9) == 0;
}

static scitt_err issuer_check(const scitt_verify_opts *o, const scitt_cose_sign1 *m,
                              scitt_verify_result *r, issuer_view *v)
{
    const scitt_cose_headers *h = &m->hdr;
    scitt_cose_key *own = NULL; /* the x5chain leaf's key */
    const scitt_cose_key *key = NULL;
    const char *key_desc = "none";
    /* Only a protected x5chain is covered by the issuer's signature (and kept by a log). */
    bool chain = (h->prot & SCITT_COSE_H_X5CHAIN) && h->nx5chain > 0;
    if (!chain && h->nx5chain > 0) {
        note(r, "x5chain", SKIPPED,
             "only in the unprotected header, which no signature covers: ignored");
    }
    if (h->prot & SCITT_COSE_H_X5T) {
        scitt_err e = scitt_cose_check_x5t(m);
        note(r, "x5t", e ? FAILED : OK, "%s",
             e == SCITT_OK                 ? "names the x5chain leaf"
             : e == SCITT_ERR_KEY_MISMATCH ? "names another certificate than the x5chain leaf"
             : e == SCITT_ERR_ALG          ? "its hash algorithm is not SHA-256, SHA-384 or SHA-512"
                                  : "there is no protected x5chain whose leaf it could name");
    }
    if (o->issuer_key_name) {
        /* A pinned key decides, whatever certificate the statement carries. */
        if (!o->issuer_key) {
            note(r, "issuer signature", FAILED, "%s",
                 o->issuer_key_error ? o->issuer_key_error : "the issuer key is not usable");
            return SCITT_OK;
        }
        key = o->issuer_key;
        key_desc = o->issuer_key_name;
    } else if (chain) {
        scitt_err e = scitt_cose_key_from_cert_der(h->x5chain[0], &own);
        if (e == SCITT_ERR_NOMEM) {
            return e;
        }
        if (e != SCITT_OK) {
            note(r, "issuer signature", FAILED, "the x5chain leaf's key cannot be used: %s",
                 scitt_err_str(e));
            return SCITT_OK;
        }
        key = own;
        key_desc = "x5chain leaf";
    }
    /* The payload the signature covers, and what the given payload is checked against. */
    const scitt_verify_input *pin = &o->payload;
    scitt_span pl = scitt_span_make(NULL, 0);
    bool envelope = (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
    if (pin->name && (!envelope || m->detached)) {
        if (pin->err != SCITT_OK || (o->payload_max && pin->data.len > o->payload_max)) {
            note(r, "payload", FAILED, "cannot read %s", pin->name);
            scitt_cose_key_free(own);
            return SCITT_OK;
        }
        pl = pin->data;
        if (!m->detached) {
            bool same = scitt_span_eq(m->payload, pl);
            note(r, "payload", same ? OK : FAILED, "%s %s the attached payload", pin->name,
                 same ? "equals" : "differs from");
        }
    }
    if (envelope && pin->name && !m->detached) {
        uint8_t d[64];
        size_t dl = 0;
        scitt_err e =
            pin->err != SCITT_OK ? pin->err : hash_bytes(pin->data, h->payload_hash_alg, d, &dl);
        bool same = e == SCITT_OK && scitt_span_eq(m->payload, scitt_span_make(d, dl));
        note(r, "preimage", same ? OK : FAILED, "%s: %s", pin->name,
             e != SCITT_OK
                 ? scitt_err_str(e)
                 : (same ? "hashes to the signed digest" : "does not hash to the signed digest"));
    }
    if (!key) {
        note(r, "issuer signature", SKIPPED, "not checked: no x5chain and no --issuer-key");
        if (m->detached && pin->name) {
            /* Only the issuer signature covers a detached payload. */
            note(r, "payload", FAILED,
                 "%s cannot be checked: the payload is detached and no issuer key is known "
                 "(give --issuer-key)",
                 pin->name);
        }
    } else if (m->detached && !pin->name) {
        note(r, "issuer signature", FAILED, "the payload is detached: give it with --payload");
    } else {
        scitt_span dp = pl;
        scitt_err e =
            scitt_cose_sign1_verify(m, key, scitt_span_make(NULL, 0), m->detached ? &dp : NULL);
        if (e == SCITT_ERR_NOMEM) {
            scitt_cose_key_free(own);
            return e;
        }
        const char *alg = scitt_cose_alg_name(h->alg);
        note(r, "issuer signature", e ? FAILED : OK, "%s with the %s%s%s",
             e ? scitt_err_str(e) : "verified", key_desc, alg ? ", " : "", alg ? alg : "");
        v->sig_ok = e == SCITT_OK;
        v->sig_pinned = v->sig_ok && o->issuer_key_name;
        v->sig_by_leaf = v->sig_ok && !o->issuer_key_name;
        if (v->sig_ok && m->detached && pin->name) {
            note(r, "payload", OK, "%s is the payload the issuer signed", pin->name);
        }
    }
    /* The signed digest. */
    scitt_span payload = m->detached ? (v->sig_ok ? pl : scitt_span_make(NULL, 0)) : m->payload;
    if (envelope) {
        r->digest = payload.len ? payload : scitt_span_make(NULL, 0);
        r->digest_alg = h->payload_hash_alg;
    } else if (!m->detached || v->sig_ok) {
        scitt_sha256(payload.ptr, payload.len, r->digest_buf);
        r->digest = scitt_span_make(r->digest_buf, SCITT_SHA256_LEN);
        r->digest_alg = SCITT_COSE_ALG_SHA256;
    }
    if (r->digest.len && r->digest.ptr == pl.ptr) {
        /* a detached envelope's digest: kept past the caller's payload, as the statement is */
        size_t n = r->digest.len < sizeof(r->digest_buf) ? r->digest.len : sizeof(r->digest_buf);
        memcpy(r->digest_buf, pl.ptr, n);
        r->digest = scitt_span_make(r->digest_buf, n);
    }

    scitt_x509_time when = when_of(o, m);
    if (o->issuer_roots_name) {
        const char *w = NULL;
        if (!o->issuer_roots) {
            note(r, "x5chain", FAILED, "%s: cannot load the roots: %s", o->issuer_roots_name,
                 scitt_err_str(o->issuer_roots_err ? o->issuer_roots_err : SCITT_ERR_INVALID_ARG));
        } else if (!chain) {
            note(r, "x5chain", FAILED,
                 "--issuer-roots given, but the statement has no protected x5chain");
        } else {
            scitt_err e =
                scitt_x509_verify_chain(o->issuer_roots, h->x5chain, h->nx5chain, &when, &w);
            note(r, "x5chain", e ? FAILED : OK, "%s (%zu certificates, roots %s)",
                 e ? (w ? w : scitt_err_str(e)) : "validates", h->nx5chain, o->issuer_roots_name);
            v->chain_rooted = e == SCITT_OK;
        }
    }
    /* A did:x509 iss is always resolved: it names the CA and the leaf, so it binds itself. */
    if (o->did_x509 || is_did_x509(r->iss)) {
        scitt_didx509_result res;
        const char *w = NULL;
        scitt_err e = chain
                          ? scitt_didx509_resolve(r->iss, h->x5chain, h->nx5chain, &when, &res, &w)
                          : SCITT_ERR_CERT_CHAIN;
        note(r, "did:x509", e ? FAILED : OK, "%s",
             e ? (w && chain ? w
                  : chain    ? scitt_err_str(e)
                             : "no protected x5chain to resolve against")
               : "iss resolves against the x5chain");
        v->did_tried = true;
        v->did_ok = e == SCITT_OK;
    }
    r->issuer_established = v->sig_pinned ? "the signature verifies with --issuer-key"
                            : v->sig_by_leaf && v->did_ok
                                ? "did:x509 resolves against the x5chain whose leaf signed"
                            : v->sig_by_leaf && v->chain_rooted
                                ? "the x5chain whose leaf signed validates to --issuer-roots"
                                : NULL;
    r->established_by = !r->issuer_established ? NULL
                        : v->sig_pinned        ? "issuer-key"
                        : v->did_ok            ? "did:x509"
                                               : "issuer-roots";
    scitt_cose_key_free(own);
    return SCITT_OK;
}

/*
 * The issuer's identity: "ok" only when something the user trusts establishes it (a pinned
 * key, the roots, or a did:x509 that binds itself); never for a self-asserted x5chain.
 */
static void identity_check(const scitt_verify_opts *o, const issuer_view *v, scitt_verify_result *r)
{
    char have[200];
    scitt_client_printable(r->iss, have, sizeof(have));
    const char *name = o->want_iss ? "iss" : "issuer";
    scitt_check_result missing = o->want_iss ? FAILED : SKIPPED;
    if (o->want_iss && !scitt_span_eq_str(r->iss, o->want_iss)) {
        note(r, "iss", FAILED, "iss is \"%s\", not the one required", have);
    } else if (r->issuer_established) {
        note(r, name, OK, "\"%s\", established: %s", have, r->issuer_established);
    } else if (v->did_tried && !v->did_ok) {
        note(r, name, missing,
             "\"%s\" is claimed but not established: the did:x509 does not resolve against the "
             "x5chain",
             have);
    } else {
        note(r, name, missing,
             "\"%s\" is claimed but not established: nothing you trust ties it to the signing "
             "key; give --issuer-roots PEM or --issuer-key FILE, or use a did:x509 issuer",
             have);
    }
}

/* The required digest and sub: what a deploy gate requires of the statement. */
static void expectations(const scitt_verify_opts *o, scitt_verify_result *r)
{
    if (o->want_digest) {
        int64_t named = 0;
        if (!scitt_verify_digest_alg(o->want_digest, &named)) {
            note(r, "digest", FAILED,
                 "--digest %s: the algorithm prefix must be sha256:, sha384: or sha512:",
                 o->want_digest);
            goto sub;
        }
        const char *colon = strchr(o->want_digest, ':');
        const char *hex = colon ? colon + 1 : o->want_digest;
        uint8_t want[64];
        size_t n = 0;
        const char *have_alg = scitt_verify_hash_name(r->digest_alg);
        if (scitt_hex_decode(scitt_span_str(hex), want, sizeof(want), &n) != SCITT_OK || n == 0) {
            note(r, "digest", FAILED, "--digest %s is not hex", o->want_digest);
        } else if (r->digest.len == 0) {
            note(r, "digest", FAILED,
                 "the payload is detached and was not checked, so there is no signed digest to "
                 "compare (give --payload and the issuer's key)");
        } else if (named && named != r->digest_alg) {
            note(r, "digest", FAILED, "--digest names %s, but the statement's digest is %s",
                 scitt_verify_hash_name(named), have_alg ? have_alg : "of another hash algorithm");
        } else {
            bool same = scitt_span_eq(r->digest, scitt_span_make(want, n));
            note(r, "digest", same ? OK : FAILED, "the signed digest is%s %s", same ? "" : " not",
                 o->want_digest);
        }
    }
sub:
    if (o->want_sub) {
        bool same = scitt_span_eq_str(r->sub, o->want_sub);
        char h[200];
        scitt_client_printable(r->sub, h, sizeof(h));
        note(r, "sub", same ? OK : FAILED, "sub is \"%s\"%s", h,
             same ? "" : ", not the one required");
    }
}

scitt_err scitt_verify_statement(scitt_span statement, const scitt_verify_opts *o,
                                 scitt_verify_result *r)
{
    if (!o || !r || !o->keys) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_dynbuf entry;
    scitt_dynbuf_init(&entry, 0);
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err rc = SCITT_OK;
    scitt_err e = scitt_cose_sign1_decode(statement, o->legacy_labels ? SCITT_SIGN1_LEGACY : 0, m);
    if (e != SCITT_OK && scitt_text_plain(statement)) {
        note(r, "decode", FAILED, "not a COSE statement: a text file, not CBOR");
        goto out;
    }
    if (e != SCITT_OK) {
        note(r, "decode", FAILED, "not a strict, tagged COSE_Sign1: %s", scitt_err_str(e));
        goto out;
    }
    r->decoded = true;
    r->iss = m->hdr.cwt.iss;
    r->sub = m->hdr.cwt.sub;
    if (o->legacy_labels && !m->hdr.cwt.has_iss &&
        scitt__legacy_claims(m, &r->iss, &r->sub) != SCITT_OK) {
        r->iss = r->sub = scitt_span_make(NULL, 0);
    }
    r->hash_envelope = (m->hdr.prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
    r->location = r->hash_envelope ? m->hdr.payload_location : scitt_span_make(NULL, 0);
    e = scitt_cose_check_statement(m);
    if (e != SCITT_OK && o->legacy_labels) {
        note(r, "profile", SKIPPED, "not an RFC 9943 Signed Statement (%s): 2023 labels accepted",
             scitt_err_str(e));
    } else {
        note(r, "profile", e ? FAILED : OK, "%s",
             e ? scitt_err_str(e) : "RFC 9943 Signed Statement");
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &entry);
    uint8_t id[SCITT_SHA256_LEN];
    scitt_receipt_entry_digest(m, id);
    if (scitt_receipt_entry(m, &w) != SCITT_OK ||
        scitt_hex_encode(scitt_span_make(id, sizeof(id)), r->entry_id, sizeof(r->entry_id))) {
        rc = SCITT_ERR_NOMEM;
        goto out;
    }
    receipts_check(o, m, scitt_span_make(entry.ptr, entry.len), r);
    bundle_issuer_check(o, r);
    rc = witness_check(o, r);
    if (rc != SCITT_OK) {
        goto out;
    }
    validity_check(o, m, r);
    issuer_view iv;
    memset(&iv, 0, sizeof(iv));
    rc = issuer_check(o, m, r, &iv);
    if (rc != SCITT_OK) {
        goto out;
    }
    identity_check(o, &iv, r);
    expectations(o, r);
out:
    scitt_free(m);
    scitt_dynbuf_clear(&entry);
    return rc;
}
