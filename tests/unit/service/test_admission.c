/*
 * Admission rests only on what the log keeps. The log stores a statement with its unprotected
 * header replaced by the empty map, and an auditor replays every decision on that; so no
 * unprotected parameter may change a registration decision. For every rule of the registration
 * policy, a table row gives a statement the rule rejects and the parameter (or CWT claim) whose
 * value would satisfy the rule. Each row is checked three ways through scitt_service_check (the
 * registration path): as is (rejected, with its error), with the parameter in the protected
 * header (admitted: the value is one the rule accepts, so the row is not vacuous), and with the
 * same parameter as an unprotected twin (still rejected; when the twin decodes at all, with the
 * same error and reason). A second table takes admitted statements and adds unprotected twins the
 * rule would refuse: they stay admitted, under the same entry ID.
 */
#include "testutil.h"
#include "stmt_util.h"
#include "unit/ledger/ledger_util.h"

#include <time.h>

#include "scitt/policy.h"
#include "scitt/receipt.h"
#include "scitt/service.h"
#include "scitt/x509.h"

typedef struct world {
    int64_t now;
    char *dir;
    char ks_path[4200];
    scitt_keystore ks;
    scitt_service *s;
    scitt_cose_key *ca_key, *leaf_key, *other_key, *es384_key, *builder_key;
    EVP_PKEY *ca_evp, *leaf_evp, *other_evp;
    X509 *ca, *leaf, *self, *other_self, *tls, *san, *revoked;
    scitt_span ca_der, leaf_der, self_der, other_self_der, tls_der, san_der, revoked_der;
    char *crl;                /* JSON-escaped PEM of a CRL of the CA revoking `revoked` */
    char ca_pem[8192];        /* JSON-escaped PEM of the CA */
    char leaf_jwk[1024];      /* the leaf key as a JWK */
    char builder_jwk[1024];   /* the endorsing builder's key */
    char receipt_jwk[1024];   /* the service's receipt key */
    char did[512];            /* did:x509 of the leaf under the CA */
    scitt_dynbuf endorsement; /* a transparent statement by the builder about MEAS */
} world;

static world W;

static const uint8_t MEAS[48] = {
    0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
    0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
    0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5};

/* ---- statements ------------------------------------------------------------------------- */

typedef struct claim {
    bool has;
    int64_t v;
} claim;

/* What goes into a statement; the protected header is written from it, the unprotected header
 * is spliced in after signing (so it may repeat protected labels, as an attacker's would). */
typedef struct spec {
    const scitt_cose_key *key;
    const char *iss, *sub;
    bool kid;
    scitt_span x5chain[4];
    size_t nx5chain;
    const char *ctype;
    int64_t hash_alg;
    const char *ptype;
    scitt_span payload;
    claim iat, nbf, exp;
    scitt_cose_label xl[4]; /* extra protected parameters */
    scitt_span xv[4];
    size_t nx;
    scitt_span unprot; /* an encoded map; empty: {} */
} spec;

static void put_claims(scitt_cbor_writer *w, const spec *s)
{
    size_t n = 2 + (size_t)s->exp.has + (size_t)s->nbf.has + (size_t)s->iat.has;
    scitt_cbor_put_map(w, n);
    scitt_cbor_put_uint(w, SCITT_CWT_ISS);
    scitt_cbor_put_text(w, scitt_span_str(s->iss));
    scitt_cbor_put_uint(w, SCITT_CWT_SUB);
    scitt_cbor_put_text(w, scitt_span_str(s->sub));
    if (s->exp.has) {
        scitt_cbor_put_uint(w, SCITT_CWT_EXP);
        scitt_cbor_put_int(w, s->exp.v);
    }
    if (s->nbf.has) {
        scitt_cbor_put_uint(w, SCITT_CWT_NBF);
        scitt_cbor_put_int(w, s->nbf.v);
    }
    if (s->iat.has) {
        scitt_cbor_put_uint(w, SCITT_CWT_IAT);
        scitt_cbor_put_int(w, s->iat.v);
    }
}

/* @p stmt with its unprotected header replaced by the encoded map @p unprot ({} when empty). */
static void splice(scitt_span stmt, scitt_span unprot, scitt_dynbuf *out)
{
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(stmt, 0, &m), SCITT_OK);
    scitt_dynbuf_init(out, 0);
    scitt_dynbuf_put(out, "\xd2\x84", 2);
    scitt_dynbuf_put(out, m.protected_item.ptr, m.protected_item.len);
    if (unprot.len) {
        scitt_dynbuf_put(out, unprot.ptr, unprot.len);
    } else {
        scitt_dynbuf_u8(out, 0xa0);
    }
    scitt_dynbuf_put(out, m.payload_item.ptr, m.payload_item.len);
    scitt_dynbuf_put(out, m.signature_item.ptr, m.signature_item.len);
    assert_int_equal(out->err, SCITT_OK);
}

/* Appends the signed statement @p s describes to @p out. */
static void build(const spec *s, scitt_dynbuf *out)
{
    uint8_t cwt[16384], prot[32768];
    scitt_cbor_writer cw, pw;
    scitt_cbor_writer_init(&cw, cwt, sizeof(cwt));
    put_claims(&cw, s);
    scitt_span cwt_v;
    assert_int_equal(scitt_cbor_writer_finish(&cw, &cwt_v), SCITT_OK);
    scitt_cose_header_spec h;
    memset(&h, 0, sizeof(h));
    h.alg = scitt_cose_key_alg(s->key);
    if (s->kid) {
        h.kid = scitt_cose_key_kid(s->key);
    }
    h.x5chain = s->x5chain;
    h.nx5chain = s->nx5chain;
    if (s->ctype) {
        h.content_type = (scitt_cose_uint_or_text){true, true, 0, scitt_span_str(s->ctype)};
    }
    h.payload_hash_alg = s->hash_alg;
    if (s->ptype) {
        h.preimage_content_type =
            (scitt_cose_uint_or_text){true, true, 0, scitt_span_str(s->ptype)};
    }
    scitt_cose_label labels[5];
    scitt_span values[5];
    labels[0] = (scitt_cose_label){false, SCITT_COSE_HDR_CWT_CLAIMS, {NULL, 0}};
    values[0] = cwt_v;
    for (size_t i = 0; i < s->nx; i++) {
        labels[1 + i] = s->xl[i];
        values[1 + i] = s->xv[i];
    }
    h.extra_labels = labels;
    h.extra_values = values;
    h.nextra = 1 + s->nx;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    assert_int_equal(scitt_cose_headers_encode(&h, &pw), SCITT_OK);
    scitt_span pmap;
    assert_int_equal(scitt_cbor_writer_finish(&pw, &pmap), SCITT_OK);
    scitt_dynbuf signed_;
    scitt_dynbuf_init(&signed_, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &signed_);
    assert_int_equal(scitt_cose_sign1_sign(s->key, pmap, scitt_span_make(NULL, 0), s->payload,
                                           scitt_span_make(NULL, 0), 0, &w),
                     SCITT_OK);
    splice(scitt_span_make(signed_.ptr, signed_.len), s->unprot, out);
    scitt_dynbuf_clear(&signed_);
}

/* ---- the field a row is about ----------------------------------------------------------- */

typedef enum { F_PARAM, F_TEXT_PARAM, F_CLAIM } field_kind;

typedef struct field {
    field_kind kind;
    int64_t label;      /* header label (F_PARAM) or claim key (F_CLAIM) */
    const char *tlabel; /* F_TEXT_PARAM */
    uint8_t enc[4096];  /* the value, encoded (F_PARAM, F_TEXT_PARAM) */
    size_t enc_len;
    const char *text; /* F_CLAIM iss/sub */
    int64_t num;      /* F_CLAIM iat/nbf/exp */
} field;

typedef enum { AS_IS, PROTECTED, UNPROTECTED } placement;

static void set_claim(spec *s, const field *f)
{
    switch (f->label) {
    case SCITT_CWT_ISS:
        s->iss = f->text;
        break;
    case SCITT_CWT_SUB:
        s->sub = f->text;
        break;
    case SCITT_CWT_IAT:
        s->iat = (claim){true, f->num};
        break;
    case SCITT_CWT_NBF:
        s->nbf = (claim){true, f->num};
        break;
    case SCITT_CWT_EXP:
        s->exp = (claim){true, f->num};
        break;
    default:
        fail_msg("no such claim %lld", (long long)f->label);
    }
}

/* The unprotected header {label: value} (for a claim: {15: the claims with it}) in @p ubuf. */
static scitt_span twin_map(const spec *base, const field *f, uint8_t *ubuf, size_t ucap)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, ubuf, ucap);
    scitt_cbor_put_map(&w, 1);
    if (f->kind == F_CLAIM) {
        spec twin = *base;
        set_claim(&twin, f);
        scitt_cbor_put_uint(&w, SCITT_COSE_HDR_CWT_CLAIMS);
        put_claims(&w, &twin);
    } else {
        if (f->kind == F_PARAM) {
            scitt_cbor_put_int(&w, f->label);
        } else {
            scitt_cbor_put_text(&w, scitt_span_str(f->tlabel));
        }
        scitt_cbor_put_raw(&w, scitt_span_make(f->enc, f->enc_len));
    }
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    return out;
}

/* The statement of @p base with the field placed as @p where says. */
static void place(const spec *base, const field *f, placement where,
                  const scitt_cose_key *protected_key, scitt_dynbuf *out, uint8_t *ubuf,
                  size_t ucap)
{
    spec s = *base;
    if (where == PROTECTED) {
        if (f->kind == F_CLAIM) {
            set_claim(&s, f);
        } else if (f->kind == F_PARAM && f->label == SCITT_COSE_HDR_ALG) {
            s.key = protected_key; /* alg follows the signing key */
        } else {
            /* the field replaces what the statement had under that label */
            if (f->kind == F_PARAM && f->label == SCITT_COSE_HDR_X5CHAIN) {
                s.nx5chain = 0;
            }
            if (f->kind == F_PARAM && f->label == SCITT_COSE_HDR_KID) {
                s.kid = false;
            }
            if (f->kind == F_PARAM && f->label == SCITT_COSE_HDR_CONTENT_TYPE) {
                s.ctype = NULL;
            }
            if (f->kind == F_PARAM && f->label == SCITT_COSE_HDR_PREIMAGE_CONTENT_TYPE) {
                s.ptype = NULL;
            }
            /* ...also an extra parameter of the base statement */
            for (size_t i = 0; i < s.nx; i++) {
                bool same = f->kind == F_PARAM
                                ? !s.xl[i].is_text && s.xl[i].num == f->label
                                : s.xl[i].is_text && scitt_span_eq_str(s.xl[i].text, f->tlabel);
                if (same) {
                    s.xl[i] = s.xl[s.nx - 1];
                    s.xv[i] = s.xv[s.nx - 1];
                    s.nx--;
                    break;
                }
            }
            s.xl[s.nx] = f->kind == F_PARAM
                             ? (scitt_cose_label){false, f->label, {NULL, 0}}
                             : (scitt_cose_label){true, 0, scitt_span_str(f->tlabel)};
            s.xv[s.nx++] = scitt_span_make(f->enc, f->enc_len);
        }
    } else if (where == UNPROTECTED) {
        s.unprot = twin_map(base, f, ubuf, ucap);
    }
    build(&s, out);
}

/* ---- fields ----------------------------------------------------------------------------- */

static field param(int64_t label)
{
    field f;
    memset(&f, 0, sizeof(f));
    f.kind = F_PARAM;
    f.label = label;
    return f;
}

static void enc_finish(field *f, scitt_cbor_writer *w)
{
    scitt_span v;
    assert_int_equal(scitt_cbor_writer_finish(w, &v), SCITT_OK);
    f->enc_len = v.len;
}

static field param_text(int64_t label, const char *text)
{
    field f = param(label);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, f.enc, sizeof(f.enc));
    scitt_cbor_put_text(&w, scitt_span_str(text));
    enc_finish(&f, &w);
    return f;
}

static field param_bytes(int64_t label, scitt_span b)
{
    field f = param(label);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, f.enc, sizeof(f.enc));
    scitt_cbor_put_bytes(&w, b);
    enc_finish(&f, &w);
    return f;
}

static field param_int(int64_t label, int64_t v)
{
    field f = param(label);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, f.enc, sizeof(f.enc));
    scitt_cbor_put_int(&w, v);
    enc_finish(&f, &w);
    return f;
}

static field param_chain(const scitt_span *certs, size_t n)
{
    field f = param(SCITT_COSE_HDR_X5CHAIN);
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, f.enc, sizeof(f.enc));
    if (n > 1) {
        scitt_cbor_put_array(&w, n);
    }
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_put_bytes(&w, certs[i]);
    }
    enc_finish(&f, &w);
    return f;
}

/* x5t [alg, hash of @p cert]. */
static field param_x5t(int64_t alg, scitt_span cert)
{
    field f = param(SCITT_COSE_HDR_X5T);
    uint8_t d[SCITT_SHA512_LEN];
    size_t n = alg == SCITT_COSE_ALG_SHA384   ? SCITT_SHA384_LEN
               : alg == SCITT_COSE_ALG_SHA512 ? SCITT_SHA512_LEN
                                              : SCITT_SHA256_LEN;
    if (alg == SCITT_COSE_ALG_SHA384) {
        scitt_sha384(cert.ptr, cert.len, d);
    } else if (alg == SCITT_COSE_ALG_SHA512) {
        scitt_sha512(cert.ptr, cert.len, d);
    } else {
        scitt_sha256(cert.ptr, cert.len, d);
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, f.enc, sizeof(f.enc));
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_int(&w, alg);
    scitt_cbor_put_bytes(&w, scitt_span_make(d, n));
    enc_finish(&f, &w);
    return f;
}

/* Adds @p f to the protected header of @p s (as an extra parameter; f must outlive s). */
static void add_protected(spec *s, const field *f)
{
    s->xl[s->nx] = f->kind == F_PARAM ? (scitt_cose_label){false, f->label, {NULL, 0}}
                                      : (scitt_cose_label){true, 0, scitt_span_str(f->tlabel)};
    s->xv[s->nx++] = scitt_span_make(f->enc, f->enc_len);
}

static field text_param_bytes(const char *label, scitt_span b)
{
    field f = param_bytes(0, b);
    f.kind = F_TEXT_PARAM;
    f.tlabel = label;
    return f;
}

static field claim_text(int64_t key, const char *text)
{
    field f;
    memset(&f, 0, sizeof(f));
    f.kind = F_CLAIM;
    f.label = key;
    f.text = text;
    return f;
}

static field claim_num(int64_t key, int64_t v)
{
    field f;
    memset(&f, 0, sizeof(f));
    f.kind = F_CLAIM;
    f.label = key;
    f.num = v;
    return f;
}

/* ---- the service ------------------------------------------------------------------------ */

static void open_with(const char *policy)
{
    scitt_service_close(W.s);
    W.s = NULL;
    scitt_service_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = W.dir;
    cfg.issuer = "https://ledger.example";
    cfg.origin = "ledger.example/log";
    cfg.keystore = &W.ks;
    cfg.map_size = 64u << 20;
    if (policy) {
        cfg.policy_json = scitt_span_str(policy);
    }
    char reason[512];
    scitt_err e = scitt_service_open(&cfg, &W.s, reason, sizeof(reason));
    if (e != SCITT_OK) {
        fail_msg("open: %s (%s)", reason, scitt_err_name(e));
    }
}

/* The check stage on @p stmt; @p id receives the entry ID on success. */
static scitt_err check(const scitt_dynbuf *stmt, char *reason, size_t cap,
                       uint8_t id[SCITT_HASH_LEN])
{
    scitt_prepared p;
    scitt_err e = scitt_service_check(W.s, scitt_span_make(stmt->ptr, stmt->len), &p, reason, cap);
    if (e == SCITT_OK) {
        if (id) {
            memcpy(id, p.sub.entry_id, SCITT_HASH_LEN);
        }
        scitt_prepared_clear(&p);
    }
    return e;
}

static void json_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *c = in; *c && o + 3 < cap; c++) {
        if (*c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *c;
        }
    }
    out[o] = 0;
}

static void jwk(const scitt_cose_key *k, char *out, size_t cap)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_cose_key_encode_jwk(k, false, &b), SCITT_OK);
    snprintf(out, cap, "%.*s", (int)b.len, (const char *)b.ptr);
    scitt_dynbuf_clear(&b);
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    W.now = (int64_t)time(NULL);
    W.dir = lu_tmpdir();
    scitt_keystore_file(W.dir, NULL, W.ks_path, sizeof(W.ks_path), &W.ks);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &W.ca_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &W.leaf_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &W.other_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &W.es384_key), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &W.builder_key), SCITT_OK);
    W.ca_evp = su_evp(W.ca_key);
    W.leaf_evp = su_evp(W.leaf_key);
    W.other_evp = su_evp(W.other_key);
    W.ca = su_cert(W.ca_evp, "Test Root CA", NULL, NULL, true, W.now - 86400 * 30,
                   W.now + 86400 * 365, NULL);
    W.leaf = su_cert(W.leaf_evp, "builder", W.ca_evp, W.ca, false, W.now - 3600, W.now + 86400,
                     "codeSigning");
    W.self = su_cert(W.leaf_evp, "builder", NULL, NULL, false, W.now - 3600, W.now + 86400, NULL);
    W.other_self =
        su_cert(W.other_evp, "other", NULL, NULL, false, W.now - 3600, W.now + 86400, NULL);
    const char *ds = "critical,digitalSignature";
    W.tls = su_leaf(W.leaf_evp, "builder", W.ca_evp, W.ca, W.now - 3600, W.now + 86400, ds,
                    "serverAuth", NULL);
    W.san = su_leaf(W.leaf_evp, "builder", W.ca_evp, W.ca, W.now - 3600, W.now + 86400, ds,
                    "codeSigning", "URI:https://ci.example/pipeline/7");
    W.revoked = su_leaf(W.leaf_evp, "builder", W.ca_evp, W.ca, W.now - 3600, W.now + 86400, ds,
                        "codeSigning", NULL);
    W.tls_der = su_der(W.tls);
    W.san_der = su_der(W.san);
    W.revoked_der = su_der(W.revoked);
    char *crl = su_crl_pem(W.ca_evp, W.ca, &W.revoked, 1, W.now - 3600, W.now + 86400);
    W.crl = su_json_escape(crl);
    free(crl);
    W.ca_der = su_der(W.ca);
    W.leaf_der = su_der(W.leaf);
    W.self_der = su_der(W.self);
    W.other_self_der = su_der(W.other_self);
    char *pem = su_pem(W.ca);
    json_escape(pem, W.ca_pem, sizeof(W.ca_pem));
    free(pem);
    jwk(W.leaf_key, W.leaf_jwk, sizeof(W.leaf_jwk));
    jwk(W.builder_key, W.builder_jwk, sizeof(W.builder_jwk));
    uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
    size_t fl;
    char b64[128];
    assert_int_equal(scitt_x509_fingerprint(W.ca_der, SCITT_X509_SHA256, fp, &fl), SCITT_OK);
    assert_int_equal(scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)), SCITT_OK);
    snprintf(W.did, sizeof(W.did), "did:x509:0:sha256:%s::subject:CN:builder", b64);

    /* An endorsement for the measurement rule: the builder's statement about MEAS, registered
     * here under a policy pinning the builder's key, with this service's receipt. */
    char pol[4096];
    snprintf(pol, sizeof(pol),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://builder.example\", "
             "\"keys\": [%s]}]}",
             W.builder_jwk);
    open_with(pol);
    jwk(scitt_service_receipt_key(W.s), W.receipt_jwk, sizeof(W.receipt_jwk));
    spec b = {.key = W.builder_key,
              .iss = "https://builder.example",
              .sub = "ledger",
              .kid = true,
              .hash_alg = SCITT_COSE_ALG_SHA384,
              .ptype = "application/octet-stream",
              .payload = scitt_span_make(MEAS, sizeof(MEAS))};
    scitt_dynbuf st;
    build(&b, &st);
    scitt_prepared p;
    char reason[SCITT_POLICY_REASON_MAX];
    scitt_err e =
        scitt_service_check(W.s, scitt_span_make(st.ptr, st.len), &p, reason, sizeof(reason));
    if (e != SCITT_OK) {
        fail_msg("endorsement: %s", reason);
    }
    scitt_ledger_result res;
    assert_int_equal(scitt_ledger_append(scitt_service_ledger(W.s), &p.sub, &res), SCITT_OK);
    scitt_prepared_clear(&p);
    scitt_dynbuf_clear(&st);
    scitt_ledger_read *rd;
    scitt_dynbuf_init(&W.endorsement, 0);
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(W.s), &rd), SCITT_OK);
    assert_int_equal(scitt_service_transparent(W.s, rd, res.index, 0, &W.endorsement), SCITT_OK);
    scitt_ledger_read_end(rd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt_service_close(W.s);
    scitt_cose_key *keys[] = {W.ca_key, W.leaf_key, W.other_key, W.es384_key, W.builder_key};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        scitt_cose_key_free(keys[i]);
    }
    EVP_PKEY_free(W.ca_evp);
    EVP_PKEY_free(W.leaf_evp);
    EVP_PKEY_free(W.other_evp);
    X509 *certs[] = {W.ca, W.leaf, W.self, W.other_self, W.tls, W.san, W.revoked};
    scitt_span ders[] = {W.ca_der,  W.leaf_der, W.self_der,   W.other_self_der,
                         W.tls_der, W.san_der,  W.revoked_der};
    free(W.crl);
    for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
        X509_free(certs[i]);
        OPENSSL_free((void *)ders[i].ptr);
    }
    scitt_dynbuf_clear(&W.endorsement);
    lu_rmdir(W.dir);
    return 0;
}

/* ---- rows ------------------------------------------------------------------------------- */

typedef struct row {
    const char *rule;
    char policy[16384];
    spec base;                           /* rejected by the rule */
    field f;                             /* satisfies the rule when protected */
    scitt_err want;                      /* the rejection of the base statement */
    const scitt_cose_key *protected_key; /* for the alg row: the key whose alg the rule accepts */
} row;

#define ROWS_MAX 32

static const char *const self_signed_rule =
    "\"issuers\": [{\"iss_prefix\": \"\", \"self_signed\": true}]";

/* A statement under the development-style rule: self-signed x5chain leaf of the leaf key. */
static spec base_self(void)
{
    spec s;
    memset(&s, 0, sizeof(s));
    s.key = W.leaf_key;
    s.iss = "https://ci.example/app";
    s.sub = "pkg:app";
    s.x5chain[0] = W.self_der;
    s.nx5chain = 1;
    s.ctype = "application/json";
    s.payload = scitt_span_str("{\"app\": 1}");
    return s;
}

static size_t rejection_rows(row *r)
{
    size_t n = 0;
    row *x;

    x = &r[n++];
    x->rule = "algorithms";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, \"algorithms\": [\"ES384\"], %s}",
             self_signed_rule);
    x->base = base_self();
    x->f = param_int(SCITT_COSE_HDR_ALG, SCITT_COSE_ALG_ES384);
    x->protected_key = W.es384_key;
    x->want = SCITT_ERR_ALG;
    /* With an ES384 key the self-signed leaf must be that key's: use a kid-pinned rule. */
    {
        char j[1024];
        jwk(W.es384_key, j, sizeof(j));
        char lj[1024];
        jwk(W.leaf_key, lj, sizeof(lj));
        snprintf(x->policy, sizeof(x->policy),
                 "{\"version\": 1, \"algorithms\": [\"ES384\"], \"issuers\": [{\"iss\": "
                 "\"https://ci.example/app\", \"keys\": [%s, %s]}]}",
                 j, lj);
        x->base.nx5chain = 0;
        x->base.kid = true;
    }

    static const struct {
        const char *name;
        int64_t key;
        int64_t delta;
    } claims[] = {{"required_claims iat", SCITT_CWT_IAT, 0},
                  {"required_claims nbf", SCITT_CWT_NBF, -10},
                  {"required_claims exp", SCITT_CWT_EXP, 3600}};
    for (size_t i = 0; i < 3; i++) {
        x = &r[n++];
        x->rule = claims[i].name;
        snprintf(x->policy, sizeof(x->policy),
                 "{\"version\": 1, \"required_claims\": [\"%s\"], %s}", claims[i].name + 16,
                 self_signed_rule);
        x->base = base_self();
        x->f = claim_num(claims[i].key, W.now + claims[i].delta);
        x->want = SCITT_ERR_POLICY;
    }

    x = &r[n++];
    x->rule = "content_types";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"content_types\": [\"application/spdx+json\"], %s}",
             self_signed_rule);
    x->base = base_self();
    x->base.ctype = NULL;
    x->f = param_text(SCITT_COSE_HDR_CONTENT_TYPE, "application/spdx+json");
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "content_types (uint CoAP format)";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, \"content_types\": [\"50\"], %s}",
             self_signed_rule);
    x->base = base_self();
    x->base.ctype = NULL;
    x->f = param_int(SCITT_COSE_HDR_CONTENT_TYPE, 50);
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "preimage_content_types";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"preimage_content_types\": [\"application/vnd.oci.image.manifest."
             "v1+json\"], %s}",
             self_signed_rule);
    x->base = base_self();
    x->base.ctype = NULL;
    x->base.hash_alg = SCITT_COSE_ALG_SHA384;
    x->base.payload = scitt_span_make(MEAS, sizeof(MEAS));
    x->f = param_text(SCITT_COSE_HDR_PREIMAGE_CONTENT_TYPE,
                      "application/vnd.oci.image.manifest.v1+json");
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "issuers: iss";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ci.example/app\", "
             "\"self_signed\": true}]}");
    x->base = base_self();
    x->base.iss = "https://mallory.example/";
    x->f = claim_text(SCITT_CWT_ISS, "https://ci.example/app");
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "issuers: iss_prefix";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"self_signed\": true}]}");
    x->base = base_self();
    x->base.iss = "https://mallory.example/";
    x->f = claim_text(SCITT_CWT_ISS, "https://ci.example/app");
    x->want = SCITT_ERR_POLICY;

    /* A pinned key is selected by the protected kid; the statement carries a protected x5chain
     * (so it is a valid SCITT statement) but no protected kid. */
    x = &r[n++];
    x->rule = "issuers: keys (kid)";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ci.example/app\", \"keys\": "
             "[%s]}]}",
             W.leaf_jwk);
    x->base = base_self();
    x->f = param_bytes(SCITT_COSE_HDR_KID, scitt_cose_key_kid(W.leaf_key));
    x->want = SCITT_ERR_UNTRUSTED;

    scitt_span chain[2] = {W.leaf_der, W.ca_der};
    x = &r[n++];
    x->rule = "issuers: x509_roots (x5chain)";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"x509_roots\": [\"%s\"]}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.nx5chain = 0;
    x->base.kid = true;
    x->f = param_chain(chain, 2);
    x->want = SCITT_ERR_UNTRUSTED;

    x = &r[n++];
    x->rule = "issuers: self_signed (x5chain)";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, %s}", self_signed_rule);
    x->base = base_self();
    x->base.nx5chain = 0;
    x->base.kid = true;
    x->f = param_chain(&W.self_der, 1);
    x->want = SCITT_ERR_UNTRUSTED;

    x = &r[n++];
    x->rule = "issuers: did_x509 (x5chain)";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"did_x509\": true, \"x509_roots\": [\"%s\"]}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.iss = W.did;
    x->base.nx5chain = 0;
    x->base.kid = true;
    x->f = param_chain(chain, 2);
    x->want = SCITT_ERR_UNTRUSTED;

    x = &r[n++];
    x->rule = "issuers: did_x509 (iss)";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"did_x509\": true, \"x509_roots\": [\"%s\"]}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.iss = "did:x509:0:sha256:AAAA::subject:CN:builder";
    x->base.x5chain[0] = W.leaf_der;
    x->base.x5chain[1] = W.ca_der;
    x->base.nx5chain = 2;
    x->f = claim_text(SCITT_CWT_ISS, W.did);
    x->want = SCITT_ERR_DID_MALFORMED;

    /* x509_roots: the leaf's purpose, the iss binding and revocation */
    scitt_span tls_chain[2] = {W.tls_der, W.ca_der}, san_chain[2] = {W.san_der, W.ca_der},
               revoked_chain[2] = {W.revoked_der, W.ca_der};
    x = &r[n++];
    x->rule = "x509_roots: code-signing leaf";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"x509_roots\": [\"%s\"]}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.x5chain[0] = W.tls_der;
    x->base.x5chain[1] = W.ca_der;
    x->base.nx5chain = 2;
    x->f = param_chain(chain, 2);
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "x509_roots: eku named";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"x509_roots\": [\"%s\"], \"eku\": [\"1.3.6.1.5.5.7.3.1\"]}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.x5chain[0] = W.leaf_der;
    x->base.x5chain[1] = W.ca_der;
    x->base.nx5chain = 2;
    x->f = param_chain(tls_chain, 2);
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "x509_roots: bind_iss san_uri";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"x509_roots\": [\"%s\"], \"bind_iss\": \"san_uri\"}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.x5chain[0] = W.san_der;
    x->base.x5chain[1] = W.ca_der;
    x->base.nx5chain = 2;
    x->f = claim_text(SCITT_CWT_ISS, "https://ci.example/pipeline/7");
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "x509_roots: bind_iss san_uri (x5chain)";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"x509_roots\": [\"%s\"], \"bind_iss\": \"san_uri\"}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.iss = "https://ci.example/pipeline/7";
    x->base.x5chain[0] = W.leaf_der;
    x->base.x5chain[1] = W.ca_der;
    x->base.nx5chain = 2;
    x->f = param_chain(san_chain, 2);
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "x509_roots: bind_iss did_x509";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"did:x509:\", "
             "\"x509_roots\": [\"%s\"], \"bind_iss\": \"did_x509\"}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.iss = "did:x509:0:sha256:AAAA::subject:CN:builder";
    x->base.x5chain[0] = W.leaf_der;
    x->base.x5chain[1] = W.ca_der;
    x->base.nx5chain = 2;
    x->f = claim_text(SCITT_CWT_ISS, W.did);
    x->want = SCITT_ERR_DID_MALFORMED;

    x = &r[n++];
    x->rule = "x509_roots: crls";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"x509_roots\": [\"%s\"], \"crls\": [\"%s\"]}]}",
             W.ca_pem, W.crl);
    x->base = base_self();
    x->base.x5chain[0] = revoked_chain[0];
    x->base.x5chain[1] = revoked_chain[1];
    x->base.nx5chain = 2;
    x->f = param_chain(chain, 2);
    x->want = SCITT_ERR_CERT_CHAIN;

    x = &r[n++];
    x->rule = "x509_time iat";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"x509_time\": \"iat\", \"issuers\": [{\"iss_prefix\": "
             "\"https://ci.example/\", \"x509_roots\": [\"%s\"]}]}",
             W.ca_pem);
    x->base = base_self();
    x->base.x5chain[0] = W.leaf_der;
    x->base.x5chain[1] = W.ca_der;
    x->base.nx5chain = 2;
    x->f = claim_num(SCITT_CWT_IAT, W.now);
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "measurement_endorsement";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://deploy.example\", \"keys\": "
             "[%s], \"measurement_endorsement\": {\"issuers\": [\"https://builder.example\"], "
             "\"issuer_keys\": [%s], \"receipt_keys\": [%s]}}]}",
             W.leaf_jwk, W.builder_jwk, W.receipt_jwk);
    x->base = base_self();
    x->base.iss = "https://deploy.example";
    x->base.nx5chain = 0;
    x->base.kid = true;
    x->base.ctype = NULL;
    x->base.hash_alg = SCITT_COSE_ALG_SHA384;
    x->base.ptype = "application/octet-stream";
    x->base.payload = scitt_span_make(MEAS, sizeof(MEAS));
    x->f = text_param_bytes("measurement_endorsement",
                            scitt_span_make(W.endorsement.ptr, W.endorsement.len));
    x->want = SCITT_ERR_POLICY;

    x = &r[n++];
    x->rule = "CWT exp (expired)";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, %s}", self_signed_rule);
    x->base = base_self();
    x->base.exp = (claim){true, W.now - 3600};
    x->f = claim_num(SCITT_CWT_EXP, W.now + 3600);
    x->want = SCITT_ERR_EXPIRED;

    x = &r[n++];
    x->rule = "CWT nbf (not yet valid)";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, %s}", self_signed_rule);
    x->base = base_self();
    x->base.nbf = (claim){true, W.now + 3600};
    x->f = claim_num(SCITT_CWT_NBF, W.now - 3600);
    x->want = SCITT_ERR_EXPIRED;

    /* x5t must name the x5chain leaf; the base names another certificate. */
    static field wrong_x5t;
    wrong_x5t = param_x5t(SCITT_COSE_ALG_SHA256, W.other_self_der);
    x = &r[n++];
    x->rule = "x5t names the x5chain leaf";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, %s}", self_signed_rule);
    x->base = base_self();
    add_protected(&x->base, &wrong_x5t);
    x->f = param_x5t(SCITT_COSE_ALG_SHA256, W.self_der);
    x->want = SCITT_ERR_KEY_MISMATCH;

    x = &r[n++];
    x->rule = "reserved subjects (service)";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, %s}", self_signed_rule);
    x->base = base_self();
    x->base.sub = SCITT_POLICY_SUBJECT;
    x->f = claim_text(SCITT_CWT_SUB, "pkg:app");
    x->want = SCITT_ERR_POLICY;

    assert_true(n <= ROWS_MAX);
    return n;
}

static void test_unprotected_twin_never_admits(void **state)
{
    (void)state;
    row *rows = calloc(ROWS_MAX, sizeof(*rows));
    size_t n = rejection_rows(rows);
    size_t decoded_twins = 0;
    for (size_t i = 0; i < n; i++) {
        row *x = &rows[i];
        open_with(x->policy);
        char r0[SCITT_POLICY_REASON_MAX], r1[SCITT_POLICY_REASON_MAX], r2[SCITT_POLICY_REASON_MAX];
        uint8_t ubuf[8192];
        scitt_dynbuf st;
        place(&x->base, &x->f, AS_IS, x->protected_key, &st, ubuf, sizeof(ubuf));
        scitt_err e = check(&st, r0, sizeof(r0), NULL);
        scitt_dynbuf_clear(&st);
        if (e != x->want) {
            fail_msg("%s: the statement without the field: %s (%s), wanted %s", x->rule,
                     scitt_err_name(e), r0, scitt_err_name(x->want));
        }
        place(&x->base, &x->f, PROTECTED, x->protected_key, &st, ubuf, sizeof(ubuf));
        e = check(&st, r1, sizeof(r1), NULL);
        scitt_dynbuf_clear(&st);
        if (e != SCITT_OK) {
            fail_msg("%s: the field in the protected header: %s (%s)", x->rule, scitt_err_name(e),
                     r1);
        }
        place(&x->base, &x->f, UNPROTECTED, x->protected_key, &st, ubuf, sizeof(ubuf));
        e = check(&st, r2, sizeof(r2), NULL);
        scitt_cose_sign1 m;
        bool decodes = scitt_cose_sign1_decode(scitt_span_make(st.ptr, st.len), 0, &m) == SCITT_OK;
        scitt_dynbuf_clear(&st);
        if (e == SCITT_OK) {
            fail_msg("%s: the unprotected twin of the field admitted a statement the rule "
                     "rejects",
                     x->rule);
        }
        if (decodes) {
            decoded_twins++;
            if (e != x->want || strcmp(r0, r2) != 0) {
                fail_msg("%s: with the unprotected twin %s (%s), without it %s (%s)", x->rule,
                         scitt_err_name(e), r2, scitt_err_name(x->want), r0);
            }
        }
        print_message("%-36s rejected (%s), admitted with the field protected, unprotected twin "
                      "%s: %s\n",
                      x->rule, scitt_err_name(x->want),
                      decodes ? "decodes and is rejected the same" : "refused as malformed", r2);
    }
    /* The rows whose twin is not simply a structural error are the ones that test the policy. */
    assert_true(decoded_twins >= 6);
    free(rows);
}

/* ---- admitted statements stay admitted, with the same entry ------------------------------- */

typedef struct keep {
    const char *why;
    char policy[16384];
    spec s;
    field f; /* placed unprotected */
} keep;

static size_t keep_rows(keep *r)
{
    size_t n = 0;
    keep *x;
    scitt_span chain[2] = {W.leaf_der, W.ca_der};

    x = &r[n++];
    x->why = "x509_roots statement, unprotected kid of a pinned-elsewhere key";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss_prefix\": \"https://ci.example/\", "
             "\"x509_roots\": [\"%s\"]}]}",
             W.ca_pem);
    x->s = base_self();
    x->s.x5chain[0] = chain[0];
    x->s.x5chain[1] = chain[1];
    x->s.nx5chain = 2;
    x->f = param_bytes(SCITT_COSE_HDR_KID, scitt_cose_key_kid(W.other_key));

    x = &r[n++];
    x->why = "pinned-key statement, unprotected x5chain of another key";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ci.example/app\", \"keys\": "
             "[%s]}]}",
             W.leaf_jwk);
    x->s = base_self();
    x->s.nx5chain = 0;
    x->s.kid = true;
    x->f = param_chain(&W.other_self_der, 1);

    x = &r[n++];
    x->why = "an unprotected endorsement label, on a rule without endorsements";
    snprintf(x->policy, sizeof(x->policy),
             "{\"version\": 1, \"content_types\": [\"application/json\"], %s}", self_signed_rule);
    x->s = base_self();
    x->s.ctype = "application/json";
    x->f = text_param_bytes("measurement_endorsement", scitt_span_str("junk"));

    x = &r[n++];
    x->why = "unprotected receipts";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, %s}", self_signed_rule);
    x->s = base_self();
    {
        /* [h'a0'] */
        x->f = param(SCITT_COSE_HDR_RECEIPTS);
        static const uint8_t v[] = {0x81, 0x41, 0xa0};
        memcpy(x->f.enc, v, sizeof(v));
        x->f.enc_len = sizeof(v);
    }

    x = &r[n++];
    x->why = "x5chain statement, unprotected x5t of another certificate";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, %s}", self_signed_rule);
    x->s = base_self();
    x->f = param_x5t(SCITT_COSE_ALG_SHA256, W.other_self_der);

    x = &r[n++];
    x->why = "max_statement_bytes counts the registered form";
    snprintf(x->policy, sizeof(x->policy), "{\"version\": 1, \"max_statement_bytes\": 900, %s}",
             self_signed_rule);
    x->s = base_self();
    {
        static uint8_t pad[600];
        memset(pad, 'p', sizeof(pad));
        x->f = text_param_bytes("padding", scitt_span_make(pad, sizeof(pad)));
    }
    return n;
}

static void test_unprotected_twin_never_refuses(void **state)
{
    (void)state;
    keep *rows = calloc(8, sizeof(*rows));
    size_t n = keep_rows(rows);
    for (size_t i = 0; i < n; i++) {
        keep *x = &rows[i];
        open_with(x->policy);
        char r0[SCITT_POLICY_REASON_MAX], r1[SCITT_POLICY_REASON_MAX];
        uint8_t ubuf[8192], id0[SCITT_HASH_LEN], id1[SCITT_HASH_LEN];
        scitt_dynbuf st, twin;
        build(&x->s, &st);
        scitt_err e = check(&st, r0, sizeof(r0), id0);
        if (e != SCITT_OK) {
            fail_msg("%s: without the twin: %s (%s)", x->why, scitt_err_name(e), r0);
        }
        /* the same signed bytes, with the twin spliced in */
        splice(scitt_span_make(st.ptr, st.len), twin_map(&x->s, &x->f, ubuf, sizeof(ubuf)), &twin);
        size_t len = twin.len;
        e = check(&twin, r1, sizeof(r1), id1);
        scitt_dynbuf_clear(&st);
        scitt_dynbuf_clear(&twin);
        if (e != SCITT_OK) {
            fail_msg("%s: with the unprotected twin: %s (%s)", x->why, scitt_err_name(e), r1);
        }
        assert_memory_equal(id0, id1, SCITT_HASH_LEN);
        print_message("%-60s admitted both ways (%zu bytes with the twin), same entry\n", x->why,
                      len);
    }
    free(rows);
}

/*
 * Subjects under "scittd/" belong to the service: refused ("Reserved Subject") from any other
 * signer, also one naming the service's receipt kid; admitted when the service key signed.
 */
static void test_reserved_subjects(void **state)
{
    (void)state;
    char pol[4096];
    snprintf(pol, sizeof(pol),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ledger.example\", \"keys\": "
             "[%s]}, {\"iss_prefix\": \"\", \"self_signed\": true}]}",
             W.receipt_jwk);
    open_with(pol);
    const scitt_cose_key *rk = scitt_service_receipt_key(W.s);
    static const struct {
        const char *sub;
        bool service_kid; /* the protected kid names the receipt key (not the signer) */
        bool reserved;
    } rows[] = {
        {SCITT_POLICY_SUBJECT, false, true},
        {SCITT_POLICY_SUBJECT, true, true},
        {"scittd/anything-later", false, true},
        {"scittd/", false, true},
        {"scittd", false, false},
        {"pkg:scittd/registration-policy", false, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        spec s = base_self();
        s.sub = rows[i].sub;
        if (rows[i].service_kid) {
            s.nx5chain = 0;
            s.xl[0] = (scitt_cose_label){false, SCITT_COSE_HDR_KID, {NULL, 0}};
            field f = param_bytes(SCITT_COSE_HDR_KID, scitt_cose_key_kid(rk));
            s.xv[0] = scitt_span_make(f.enc, f.enc_len);
            s.nx = 1;
            scitt_dynbuf st;
            build(&s, &st);
            scitt_prepared p;
            char reason[SCITT_POLICY_REASON_MAX];
            assert_int_equal(scitt_service_check(W.s, scitt_span_make(st.ptr, st.len), &p, reason,
                                                 sizeof(reason)),
                             SCITT_ERR_POLICY);
            assert_string_equal(p.title, "Reserved Subject");
            scitt_dynbuf_clear(&st);
            continue;
        }
        scitt_dynbuf st;
        build(&s, &st);
        scitt_prepared p;
        char reason[SCITT_POLICY_REASON_MAX];
        scitt_err e =
            scitt_service_check(W.s, scitt_span_make(st.ptr, st.len), &p, reason, sizeof(reason));
        scitt_dynbuf_clear(&st);
        if (rows[i].reserved) {
            if (e != SCITT_ERR_POLICY || !p.title || strcmp(p.title, "Reserved Subject") != 0 ||
                !strstr(reason, "reserved")) {
                fail_msg("sub %s: %s (%s)", rows[i].sub, scitt_err_name(e), reason);
            }
        } else {
            if (e != SCITT_OK) {
                fail_msg("sub %s: %s (%s)", rows[i].sub, scitt_err_name(e), reason);
            }
            scitt_prepared_clear(&p);
        }
    }
    /* The service key itself may use its subjects (through the policy like anyone). */
    spec s = base_self();
    s.key = rk;
    s.iss = "https://ledger.example";
    s.sub = SCITT_POLICY_SUBJECT;
    s.nx5chain = 0;
    s.kid = true;
    scitt_dynbuf st;
    build(&s, &st);
    scitt_prepared p;
    char reason[SCITT_POLICY_REASON_MAX];
    scitt_err e =
        scitt_service_check(W.s, scitt_span_make(st.ptr, st.len), &p, reason, sizeof(reason));
    if (e != SCITT_OK) {
        fail_msg("signed by the service: %s (%s)", scitt_err_name(e), reason);
    }
    scitt_prepared_clear(&p);
    scitt_dynbuf_clear(&st);
}

/*
 * RFC 9943: every identifier the service knows is checked. A protected x5t must be the hash of
 * the protected x5chain's leaf, with SHA-256, SHA-384 or SHA-512; without an x5chain it names a
 * certificate nobody can check, and is refused.
 */
static void test_x5t(void **state)
{
    (void)state;
    char pol[4096];
    snprintf(pol, sizeof(pol),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ci.example/app\", "
             "\"keys\": [%s]}, {\"iss_prefix\": \"\", \"self_signed\": true}]}",
             W.leaf_jwk);
    open_with(pol);
    static field fs[8];
    fs[0] = param_x5t(SCITT_COSE_ALG_SHA256, W.self_der);
    fs[1] = param_x5t(SCITT_COSE_ALG_SHA384, W.self_der);
    fs[2] = param_x5t(SCITT_COSE_ALG_SHA512, W.self_der);
    fs[3] = param_x5t(SCITT_COSE_ALG_SHA256, W.other_self_der);
    fs[4] = param_x5t(SCITT_COSE_ALG_SHA384, W.leaf_der);
    fs[5] = param_x5t(SCITT_COSE_ALG_SHA256, W.self_der);
    fs[5].enc[1] = 0x2e; /* alg -15 (SHA-256/64) instead of -16: not accepted */
    fs[6] = param_x5t(SCITT_COSE_ALG_SHA256, W.self_der);
    fs[6].enc[fs[6].enc_len - 1] ^= 1;
    static const struct {
        size_t field;
        bool x5chain;
        scitt_err want;
        const char *title;
    } rows[] = {
        {0, true, SCITT_OK, NULL},
        {1, true, SCITT_OK, NULL},
        {2, true, SCITT_OK, NULL},
        {3, true, SCITT_ERR_KEY_MISMATCH, "Certificate Thumbprint Mismatch"},
        {4, true, SCITT_ERR_KEY_MISMATCH, "Certificate Thumbprint Mismatch"},
        {5, true, SCITT_ERR_ALG, "Unverifiable Certificate Thumbprint"},
        {6, true, SCITT_ERR_KEY_MISMATCH, "Certificate Thumbprint Mismatch"},
        {0, false, SCITT_ERR_HEADER, "Unverifiable Certificate Thumbprint"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        spec s = base_self();
        s.iss = "https://self.example/app"; /* the self_signed rule */
        if (!rows[i].x5chain) {
            s.iss = "https://ci.example/app";
            s.nx5chain = 0;
            s.kid = true; /* a pinned key: admitted without the x5t */
        }
        add_protected(&s, &fs[rows[i].field]);
        scitt_dynbuf st;
        build(&s, &st);
        scitt_prepared p;
        char reason[SCITT_POLICY_REASON_MAX];
        scitt_err e =
            scitt_service_check(W.s, scitt_span_make(st.ptr, st.len), &p, reason, sizeof(reason));
        scitt_dynbuf_clear(&st);
        if (e != rows[i].want || (rows[i].title && (!p.title || strcmp(p.title, rows[i].title)))) {
            fail_msg("x5t row %zu: %s (%s), title %s", i, scitt_err_name(e), reason,
                     p.title ? p.title : "none");
        }
        if (e == SCITT_OK) {
            scitt_prepared_clear(&p);
        } else {
            assert_non_null(strstr(reason, "x5t"));
        }
    }
    /* the same pinned-key statement without the x5t is admitted */
    spec s = base_self();
    s.nx5chain = 0;
    s.kid = true;
    scitt_dynbuf st;
    build(&s, &st);
    char reason[SCITT_POLICY_REASON_MAX];
    assert_int_equal(check(&st, reason, sizeof(reason), NULL), SCITT_OK);
    scitt_dynbuf_clear(&st);
}

/*
 * CWT exp and nbf at registration, with the policy's clock skew (60 s unless the policy says
 * clock_skew_seconds): a statement that expired in 1970 is refused ("Statement Expired"), one not
 * valid for another hour too ("Statement Not Yet Valid"); within the skew both are admitted.
 */
static void test_exp_nbf(void **state)
{
    (void)state;
    static const struct {
        int64_t skew; /* -1: the default */
        bool has_exp, has_nbf;
        int64_t exp, nbf; /* relative to now, except exp 0 */
        bool absolute_exp;
        scitt_err want;
        const char *title;
    } rows[] = {
        {-1, true, false, 0, 0, true, SCITT_ERR_EXPIRED, "Statement Expired"},
        {-1, true, false, -3600, 0, false, SCITT_ERR_EXPIRED, "Statement Expired"},
        {-1, true, false, -61, 0, false, SCITT_ERR_EXPIRED, "Statement Expired"},
        {-1, true, false, -30, 0, false, SCITT_OK, NULL},
        {-1, true, false, 3600, 0, false, SCITT_OK, NULL},
        {-1, false, true, 0, 3600, false, SCITT_ERR_EXPIRED, "Statement Not Yet Valid"},
        {-1, false, true, 0, 61, false, SCITT_ERR_EXPIRED, "Statement Not Yet Valid"},
        {-1, false, true, 0, 30, false, SCITT_OK, NULL},
        {-1, false, true, 0, -3600, false, SCITT_OK, NULL},
        {-1, true, true, 3600, -3600, false, SCITT_OK, NULL},
        {0, true, false, -30, 0, false, SCITT_ERR_EXPIRED, "Statement Expired"},
        {0, false, true, 0, 30, false, SCITT_ERR_EXPIRED, "Statement Not Yet Valid"},
        {0, true, false, 30, 0, false, SCITT_OK, NULL},
        {7200, true, false, -3600, 0, false, SCITT_OK, NULL},
        {7200, false, true, 0, 3600, false, SCITT_OK, NULL},
        {-1, true, false, INT64_MIN, 0, true, SCITT_ERR_EXPIRED, "Statement Expired"},
        {-1, false, true, 0, INT64_MAX, true, SCITT_ERR_EXPIRED, "Statement Not Yet Valid"},
    };
    int64_t skew = -2;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].skew != skew) {
            skew = rows[i].skew;
            char pol[1024], sk[64] = "";
            if (skew >= 0) {
                snprintf(sk, sizeof(sk), "\"clock_skew_seconds\": %lld, ", (long long)skew);
            }
            snprintf(pol, sizeof(pol), "{\"version\": 1, %s%s}", sk, self_signed_rule);
            open_with(pol);
        }
        spec s = base_self();
        int64_t now = (int64_t)time(NULL);
        if (rows[i].has_exp) {
            s.exp = (claim){true, rows[i].absolute_exp ? rows[i].exp : now + rows[i].exp};
        }
        if (rows[i].has_nbf) {
            s.nbf = (claim){true, rows[i].absolute_exp ? rows[i].nbf : now + rows[i].nbf};
        }
        scitt_dynbuf st;
        build(&s, &st);
        scitt_prepared p;
        char reason[SCITT_POLICY_REASON_MAX];
        scitt_err e =
            scitt_service_check(W.s, scitt_span_make(st.ptr, st.len), &p, reason, sizeof(reason));
        scitt_dynbuf_clear(&st);
        if (e != rows[i].want || (rows[i].title && (!p.title || strcmp(p.title, rows[i].title)))) {
            fail_msg("exp/nbf row %zu: %s (%s), title %s", i, scitt_err_name(e), reason,
                     p.title ? p.title : "none");
        }
        if (e == SCITT_OK) {
            scitt_prepared_clear(&p);
        } else {
            assert_non_null(strstr(
                reason, strcmp(rows[i].title, "Statement Expired") == 0 ? "CWT exp" : "CWT nbf"));
            assert_non_null(strstr(reason, "clock skew"));
        }
    }
}

/* The policy check itself refuses anything but the registered form. */
static void test_policy_needs_registered_form(void **state)
{
    (void)state;
    scitt_policy *p;
    assert_int_equal(scitt_policy_development(&p), SCITT_OK);
    spec s = base_self();
    field f = param_text(SCITT_COSE_HDR_CONTENT_TYPE, "text/plain");
    s.ctype = NULL;
    uint8_t ubuf[256];
    scitt_dynbuf st;
    place(&s, &f, UNPROTECTED, NULL, &st, ubuf, sizeof(ubuf));
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(st.ptr, st.len), 0, &m), SCITT_OK);
    scitt_policy_decision d;
    char reason[SCITT_POLICY_REASON_MAX];
    assert_int_equal(scitt_policy_check(p, &m, W.now, NULL, &d, reason, sizeof(reason)),
                     SCITT_ERR_INVALID_ARG);
    assert_non_null(strstr(reason, "registered form"));
    /* its registered form decides */
    scitt_dynbuf entry;
    scitt_dynbuf_init(&entry, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &entry);
    assert_int_equal(scitt_receipt_entry(&m, &w), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(entry.ptr, entry.len), 0, &m),
                     SCITT_OK);
    assert_int_equal(scitt_policy_check(p, &m, W.now, NULL, &d, reason, sizeof(reason)), SCITT_OK);
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&st);
    scitt_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unprotected_twin_never_admits),
        cmocka_unit_test(test_unprotected_twin_never_refuses),
        cmocka_unit_test(test_policy_needs_registered_form),
        cmocka_unit_test(test_reserved_subjects),
        cmocka_unit_test(test_x5t),
        cmocka_unit_test(test_exp_nbf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
