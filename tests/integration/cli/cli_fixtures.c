/*
 * cli_fixtures OUT_DIR: writes the inputs the CLI tests cannot get from a running scittd, each
 * built from its profile's rules with keys made at test time:
 *   ccf/      a transparent statement with a CCF ledger receipt (vds 2) at 394, the service's
 *             trust store (a directory with one service-parameters JSON), its certificate PEM,
 *             and the same statement with one byte of the proof flipped;
 *   legacy/   a 2023-era transparent statement (CWT claims 13, receipts -333, vds -111, proofs
 *             -222) with its service key as PEM and the issuer's public key;
 *   tls/      a certificate and key for 127.0.0.1, to run scittd over HTTPS;
 *   verify/   transparent statements a scittd would refuse to register, each with an RFC 9942
 *             receipt from a one-entry log (service.pem), for the checks of scitt verify itself:
 *             forged.ts (a self-signed x5chain claiming https://release.example; forged.pub),
 *             x5t.ts (x5t of another certificate), expired.ts (CWT exp 2020-01-01),
 *             notyet.ts (CWT nbf 2100-01-01), detached.ts (detached payload, kid only;
 *             detached.pub, detached.payload), sha384.ts (a SHA-384 hash envelope; its digest in
 *             sha384.hex), unprot.ts (kid protected, the x5chain only unprotected; unprot.crt),
 *             did.ts and did-other-ca.ts (a did:x509 iss with its own chain, and with a chain of
 *             another CA; did.txt holds the DID, ca.crt the CA).
 * Exit 0 when everything was written.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ccf_util.h"
#include "certgen.h"
#include "scitt/json.h"
#include "scitt/receipt.h"
#include "scitt/x509.h"
#include "stmt_util.h"

static const char *out_dir;

static int save(const char *rel, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", out_dir, rel);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cli_fixtures: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static int save_pem_pub(const char *rel, const scitt_cose_key *k)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    int rc = scitt_cose_key_encode_pem(k, false, &b) == SCITT_OK ? save(rel, b.ptr, b.len) : 1;
    scitt_dynbuf_clear(&b);
    return rc;
}

/* An attached-payload statement signed by @p issuer (kid only), with CWT claims at @p cwt. */
static scitt_err statement(const scitt_cose_key *issuer, int64_t cwt, scitt_dynbuf *out)
{
    uint8_t claims[256];
    scitt_cbor_writer cw;
    scitt_cbor_writer_init(&cw, claims, sizeof(claims));
    scitt_cbor_put_map(&cw, 2);
    scitt_cbor_put_uint(&cw, 1);
    scitt_cbor_put_cstr(&cw, "https://issuer.example/cli-test");
    scitt_cbor_put_uint(&cw, 2);
    scitt_cbor_put_cstr(&cw, "cli-test-subject");
    scitt_span claims_item;
    scitt_err e = scitt_cbor_writer_finish(&cw, &claims_item);
    scitt_cose_label l = {false, cwt, {NULL, 0}};
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(issuer);
    spec.kid = scitt_cose_key_kid(issuer);
    spec.content_type.present = spec.content_type.is_text = true;
    spec.content_type.text = scitt_span_str("application/json");
    spec.extra_labels = &l;
    spec.extra_values = &claims_item;
    spec.nextra = 1;
    uint8_t prot[512];
    scitt_cbor_writer pw;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    scitt_span pmap;
    e = e ? e : scitt_cose_headers_encode(&spec, &pw);
    e = e ? e : scitt_cbor_writer_finish(&pw, &pmap);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    return e ? e
             : scitt_cose_sign1_sign(issuer, pmap, scitt_span_make(NULL, 0),
                                     scitt_span_str("{\"fixture\":\"cli\"}"),
                                     scitt_span_make(NULL, 0), 0, &w);
}

static scitt_err entry_of(scitt_span stmt, scitt_dynbuf *entry)
{
    scitt_cose_sign1 m;
    scitt_err e = scitt_cose_sign1_decode(stmt, SCITT_SIGN1_LEGACY, &m);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, entry);
    return e ? e : scitt_receipt_entry(&m, &w);
}

/* A JWKS as Azure Code Transparency serves it at /jwks: the key's kid is the hex text. */
static int save_ccf_jwks(const char *rel, const scitt_cose_key *k, const char *kid)
{
    scitt_dynbuf jwk;
    scitt_dynbuf_init(&jwk, 0);
    scitt_json j;
    int rc = 1;
    if (scitt_cose_key_encode_jwk(k, false, &jwk) == SCITT_OK &&
        scitt_json_parse(scitt_span_make(jwk.ptr, jwk.len), &j) == SCITT_OK) {
        char *x = NULL, *y = NULL, *crv = NULL;
        if (scitt_json_strdup(&j, (size_t)scitt_json_get(&j, 0, "x"), &x) == SCITT_OK &&
            scitt_json_strdup(&j, (size_t)scitt_json_get(&j, 0, "y"), &y) == SCITT_OK &&
            scitt_json_strdup(&j, (size_t)scitt_json_get(&j, 0, "crv"), &crv) == SCITT_OK) {
            char out[1024];
            int n = snprintf(out, sizeof(out),
                             "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"%s\", \"x\": \"%s\", "
                             "\"y\": \"%s\", \"kid\": \"%s\"}]}\n",
                             crv, x, y, kid);
            rc = n > 0 && (size_t)n < sizeof(out) ? save(rel, out, (size_t)n) : 1;
        }
        scitt_free(x);
        scitt_free(y);
        scitt_free(crv);
        scitt_json_clear(&j);
    }
    scitt_dynbuf_clear(&jwk);
    return rc;
}

static int ccf(const scitt_cose_key *issuer)
{
    scitt_cose_key *svc = NULL;
    scitt_dynbuf stmt, entry, receipt, ts, der;
    scitt_dynbuf_init(&stmt, 0);
    scitt_dynbuf_init(&entry, 0);
    scitt_dynbuf_init(&receipt, 0);
    scitt_dynbuf_init(&ts, 0);
    scitt_dynbuf_init(&der, 0);
    int rc = 1;
    char kid[65];
    if (scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &svc) || statement(issuer, 15, &stmt) ||
        entry_of(scitt_span_make(stmt.ptr, stmt.len), &entry) ||
        ccf_receipt_for(svc, scitt_span_make(entry.ptr, entry.len), 11, 5, &receipt) ||
        ccf_kid(svc, kid)) {
        goto out;
    }
    scitt_span rs = scitt_span_make(receipt.ptr, receipt.len);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &ts);
    if (scitt_receipt_embed(scitt_span_make(stmt.ptr, stmt.len), &rs, 1, &w) != SCITT_OK) {
        goto out;
    }
    /* The service identity certificate, as CCF publishes it in its service parameters. */
    EVP_PKEY *pk = su_evp(svc);
    X509 *cert =
        pk ? su_cert(pk, "CCF Network", NULL, NULL, true, 1700000000, 2000000000, NULL) : NULL;
    scitt_span cd = cert ? su_der(cert) : scitt_span_make(NULL, 0);
    char *pem = cert ? su_pem(cert) : NULL;
    char b64[4096], json[8192];
    bool ok = cd.len && pem && scitt_base64_encode(cd, b64, sizeof(b64)) == SCITT_OK &&
              (size_t)snprintf(json, sizeof(json),
                               "{\"serviceId\": \"%s\", \"treeAlgorithm\": \"CCF\",\n"
                               " \"signatureAlgorithm\": \"ES384\",\n"
                               " \"serviceCertificate\": \"%s\"}\n",
                               kid, b64) < sizeof(json);
    if (ok) {
        rc = save("ccf/statement.cbor", stmt.ptr, stmt.len) ||
             save("ccf/receipt.cbor", receipt.ptr, receipt.len) ||
             save("ccf/transparent.cbor", ts.ptr, ts.len) ||
             save("ccf/store/service.json", json, strlen(json)) ||
             save("ccf/service-cert.pem", pem, strlen(pem)) ||
             save_ccf_jwks("ccf/jwks.json", svc, kid) || save_pem_pub("ccf/issuer.pem", issuer);
        /* Flip a byte of the first path hash inside the embedded proof: a different root. */
        const uint8_t *p = memmem(ts.ptr, ts.len, "\x82\xf4\x58\x20", 4);
        const uint8_t *q = memmem(ts.ptr, ts.len, "\x82\xf5\x58\x20", 4);
        const uint8_t *at = p && (!q || p < q) ? p : q;
        if (rc == 0 && at) {
            ts.ptr[at - ts.ptr + 4] ^= 0x01;
            rc = save("ccf/tampered.cbor", ts.ptr, ts.len);
        } else if (!at) {
            rc = 1;
        }
    }
    free(pem);
    OPENSSL_free((void *)cd.ptr);
    X509_free(cert);
    EVP_PKEY_free(pk);
out:
    scitt_cose_key_free(svc);
    scitt_dynbuf_clear(&stmt);
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&receipt);
    scitt_dynbuf_clear(&ts);
    scitt_dynbuf_clear(&der);
    return rc;
}

/* A 2023-era receipt: {1: alg, 4: kid, -111: 1}, {-222: {-1: [<<[size, index, path]>>]}}. */
static int legacy(const scitt_cose_key *issuer)
{
    scitt_cose_key *svc = NULL;
    scitt_dynbuf stmt, entry, out;
    scitt_dynbuf_init(&stmt, 0);
    scitt_dynbuf_init(&entry, 0);
    scitt_dynbuf_init(&out, 0);
    int rc = 1;
    if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &svc) || statement(issuer, 13, &stmt) ||
        entry_of(scitt_span_make(stmt.ptr, stmt.len), &entry)) {
        goto out;
    }
    /* A four-leaf tree with the statement at index 2. */
    uint8_t leaves[4][32], n01[32], n23[32], root[32];
    for (int i = 0; i < 4; i++) {
        uint8_t other[1] = {(uint8_t)i};
        scitt_merkle_leaf_hash(
            i == 2 ? scitt_span_make(entry.ptr, entry.len) : scitt_span_make(other, 1), leaves[i]);
    }
    scitt_merkle_node_hash(leaves[0], leaves[1], n01);
    scitt_merkle_node_hash(leaves[2], leaves[3], n23);
    scitt_merkle_node_hash(n01, n23, root);
    uint8_t proof[128], prot[128], sig[SCITT_COSE_SIG_MAX];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, proof, sizeof(proof));
    scitt_cbor_put_array(&w, 3);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_array(&w, 2);
    scitt_cbor_put_bytes(&w, scitt_span_make(leaves[3], 32));
    scitt_cbor_put_bytes(&w, scitt_span_make(n01, 32));
    scitt_span ps = {NULL, 0}, pm = {NULL, 0};
    scitt_err e = scitt_cbor_writer_finish(&w, &ps);
    scitt_cbor_writer_init(&w, prot, sizeof(prot));
    scitt_cbor_put_map(&w, 3);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_int(&w, SCITT_COSE_ALG_ES256);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_bytes(&w, scitt_cose_key_kid(svc));
    scitt_cbor_put_int(&w, -111);
    scitt_cbor_put_uint(&w, 1);
    e = e ? e : scitt_cbor_writer_finish(&w, &pm);
    size_t sl = 0;
    e = e ? e
          : scitt_cose_signature_create(svc, SCITT_COSE_ALG_ES256, pm, scitt_span_make(NULL, 0),
                                        scitt_span_make(root, 32), sig, sizeof(sig), &sl);
    /* The statement's own bytes, with its unprotected {} replaced by {-333: [bstr receipt]}. */
    scitt_dynbuf receipt;
    scitt_dynbuf_init(&receipt, 0);
    scitt_cbor_writer rw;
    scitt_cbor_writer_init_dynbuf(&rw, &receipt);
    scitt_cbor_put_tag(&rw, 18);
    scitt_cbor_put_array(&rw, 4);
    scitt_cbor_put_bytes(&rw, pm);
    scitt_cbor_put_map(&rw, 1);
    scitt_cbor_put_int(&rw, -222);
    scitt_cbor_put_map(&rw, 1);
    scitt_cbor_put_int(&rw, -1);
    scitt_cbor_put_array(&rw, 1);
    scitt_cbor_put_bytes(&rw, ps);
    scitt_cbor_put_null(&rw);
    scitt_cbor_put_bytes(&rw, scitt_span_make(sig, sl));
    scitt_cose_sign1 m;
    e = e ? e : rw.err;
    e = e ? e
          : scitt_cose_sign1_decode(scitt_span_make(stmt.ptr, stmt.len), SCITT_SIGN1_LEGACY, &m);
    if (e == SCITT_OK) {
        scitt_cbor_writer ow;
        scitt_cbor_writer_init_dynbuf(&ow, &out);
        scitt_cbor_put_tag(&ow, 18);
        scitt_cbor_put_array(&ow, 4);
        scitt_cbor_put_raw(&ow, m.protected_item);
        scitt_cbor_put_map(&ow, 1);
        scitt_cbor_put_int(&ow, -333);
        scitt_cbor_put_array(&ow, 1);
        scitt_cbor_put_bytes(&ow, scitt_span_make(receipt.ptr, receipt.len));
        scitt_cbor_put_raw(&ow, m.payload_item);
        scitt_cbor_put_raw(&ow, m.signature_item);
        e = ow.err;
    }
    if (e == SCITT_OK) {
        rc = save("legacy/transparent.cbor", out.ptr, out.len) ||
             save("legacy/statement.cbor", stmt.ptr, stmt.len) ||
             save("legacy/receipt.cbor", receipt.ptr, receipt.len) ||
             save_pem_pub("legacy/service.pem", svc) || save_pem_pub("legacy/issuer.pem", issuer);
    }
    scitt_dynbuf_clear(&receipt);
out:
    scitt_cose_key_free(svc);
    scitt_dynbuf_clear(&stmt);
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&out);
    return rc;
}

/* ---- verify/: statements scitt verify must judge by itself ------------------------------ */

typedef struct vspec {
    const scitt_cose_key *key;
    const char *iss;
    bool kid;
    const scitt_span *x5chain;
    size_t nx5chain;
    int64_t exp, nbf; /* 0: absent */
    int64_t hash_alg;
    bool detached;
    scitt_span x5t_of; /* a certificate whose SHA-256 goes in a protected x5t */
    scitt_span unprot; /* an encoded unprotected map (empty: {}) */
    scitt_span payload;
} vspec;

/* The signed statement @p v describes (unprotected header spliced in after signing). */
static scitt_err vstatement(const vspec *v, scitt_dynbuf *out)
{
    uint8_t claims[1024], x5t[64];
    scitt_cbor_writer cw;
    scitt_cbor_writer_init(&cw, claims, sizeof(claims));
    scitt_cbor_put_map(&cw, 2u + (v->exp != 0 ? 1u : 0u) + (v->nbf != 0 ? 1u : 0u));
    scitt_cbor_put_uint(&cw, 1);
    scitt_cbor_put_cstr(&cw, v->iss);
    scitt_cbor_put_uint(&cw, 2);
    scitt_cbor_put_cstr(&cw, "verify-fixture");
    if (v->exp) {
        scitt_cbor_put_uint(&cw, 4);
        scitt_cbor_put_int(&cw, v->exp);
    }
    if (v->nbf) {
        scitt_cbor_put_uint(&cw, 5);
        scitt_cbor_put_int(&cw, v->nbf);
    }
    scitt_span claims_item;
    scitt_err e = scitt_cbor_writer_finish(&cw, &claims_item);
    scitt_cose_label l[2] = {{false, 15, {NULL, 0}}, {false, 34, {NULL, 0}}};
    scitt_span vals[2] = {claims_item, {NULL, 0}};
    if (v->x5t_of.len) {
        uint8_t h[32];
        scitt_sha256(v->x5t_of.ptr, v->x5t_of.len, h);
        scitt_cbor_writer tw;
        scitt_cbor_writer_init(&tw, x5t, sizeof(x5t));
        scitt_cbor_put_array(&tw, 2);
        scitt_cbor_put_int(&tw, SCITT_COSE_ALG_SHA256);
        scitt_cbor_put_bytes(&tw, scitt_span_make(h, 32));
        e = e ? e : scitt_cbor_writer_finish(&tw, &vals[1]);
    }
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(v->key);
    if (v->kid) {
        spec.kid = scitt_cose_key_kid(v->key);
    }
    spec.x5chain = v->x5chain;
    spec.nx5chain = v->nx5chain;
    spec.payload_hash_alg = v->hash_alg;
    if (!v->hash_alg) {
        spec.content_type.present = spec.content_type.is_text = true;
        spec.content_type.text = scitt_span_str("application/json");
    }
    spec.extra_labels = l;
    spec.extra_values = vals;
    spec.nextra = v->x5t_of.len ? 2 : 1;
    uint8_t prot[8192];
    scitt_cbor_writer pw;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    scitt_span pmap;
    e = e ? e : scitt_cose_headers_encode(&spec, &pw);
    e = e ? e : scitt_cbor_writer_finish(&pw, &pmap);
    scitt_dynbuf signed_;
    scitt_dynbuf_init(&signed_, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &signed_);
    e = e ? e
          : scitt_cose_sign1_sign(v->key, pmap, scitt_span_make(NULL, 0), v->payload,
                                  scitt_span_make(NULL, 0), v->detached ? SCITT_SIGN1_DETACHED : 0,
                                  &w);
    scitt_cose_sign1 m;
    e = e ? e : scitt_cose_sign1_decode(scitt_span_make(signed_.ptr, signed_.len), 0, &m);
    if (e == SCITT_OK) {
        scitt_dynbuf_put(out, "\xd2\x84", 2);
        scitt_dynbuf_put(out, m.protected_item.ptr, m.protected_item.len);
        if (v->unprot.len) {
            scitt_dynbuf_put(out, v->unprot.ptr, v->unprot.len);
        } else {
            scitt_dynbuf_u8(out, 0xa0);
        }
        scitt_dynbuf_put(out, m.payload_item.ptr, m.payload_item.len);
        scitt_dynbuf_put(out, m.signature_item.ptr, m.signature_item.len);
        e = out->err;
    }
    scitt_dynbuf_clear(&signed_);
    return e;
}

/* Saves @p rel: the statement @p v describes, with a receipt of a two-entry log by @p svc (its
 * entry first; RFC 9942 has no receipt for a one-leaf tree). */
static int save_ts(const char *rel, const vspec *v, const scitt_cose_key *svc)
{
    scitt_dynbuf st, rc, ts;
    scitt_dynbuf_init(&st, 0);
    scitt_dynbuf_init(&rc, 0);
    scitt_dynbuf_init(&ts, 0);
    scitt_cose_sign1 m;
    scitt_receipt_head head;
    uint8_t leaf[SCITT_HASH_LEN], path[1][SCITT_HASH_LEN], root[SCITT_HASH_LEN];
    scitt_err e = vstatement(v, &st);
    e = e ? e : scitt_cose_sign1_decode(scitt_span_make(st.ptr, st.len), 0, &m);
    if (e == SCITT_OK) {
        scitt_receipt_leaf_hash(&m, leaf);
        scitt_merkle_leaf_hash(scitt_span_str("the other entry"), path[0]);
        scitt_merkle_node_hash(leaf, path[0], root);
        e = scitt_receipt_head_sign(svc, scitt_span_str("verify.fixture"),
                                    scitt_span_str("verify.fixture/log"), 1767312000, 2, root,
                                    &head);
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &rc);
    e = e ? e
          : scitt_receipt_encode_inclusion(&head, 0, (const uint8_t(*)[SCITT_HASH_LEN])path, 1, &w);
    scitt_span receipt = scitt_span_make(rc.ptr, rc.len);
    scitt_cbor_writer_init_dynbuf(&w, &ts);
    e = e ? e : scitt_receipt_embed(scitt_span_make(st.ptr, st.len), &receipt, 1, &w);
    int r = e == SCITT_OK ? save(rel, ts.ptr, ts.len) : 1;
    if (e != SCITT_OK) {
        fprintf(stderr, "cli_fixtures: %s: %s\n", rel, scitt_err_str(e));
    }
    scitt_dynbuf_clear(&st);
    scitt_dynbuf_clear(&rc);
    scitt_dynbuf_clear(&ts);
    return r;
}

static int save_cert_pem(const char *rel, X509 *c)
{
    char *pem = su_pem(c);
    int r = save(rel, pem, strlen(pem));
    free(pem);
    return r;
}

static int verify_fixtures(void)
{
    int64_t now = (int64_t)time(NULL);
    scitt_cose_key *svc = NULL, *k = NULL, *ca_k = NULL, *other_ca_k = NULL;
    int rc = 1;
    if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &svc) ||
        scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k) ||
        scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &ca_k) ||
        scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &other_ca_k)) {
        return 1;
    }
    EVP_PKEY *ke = su_evp(k), *cae = su_evp(ca_k), *oce = su_evp(other_ca_k);
    X509 *self = su_cert(ke, "anyone", NULL, NULL, false, now - 3600, now + 86400 * 365, NULL);
    X509 *other = su_cert(ke, "someone else", NULL, NULL, false, now - 3600, now + 86400, NULL);
    X509 *ca = su_cert(cae, "Release CA", NULL, NULL, true, now - 86400, now + 86400 * 365, NULL);
    X509 *oca = su_cert(oce, "Release CA", NULL, NULL, true, now - 86400, now + 86400 * 365, NULL);
    X509 *leaf = su_cert(ke, "release-pipeline", cae, ca, false, now - 3600, now + 86400 * 365,
                         "codeSigning");
    X509 *oleaf = su_cert(ke, "release-pipeline", oce, oca, false, now - 3600, now + 86400 * 365,
                          "codeSigning");
    scitt_span self_der = su_der(self), other_der = su_der(other), ca_der = su_der(ca),
               oca_der = su_der(oca), leaf_der = su_der(leaf), oleaf_der = su_der(oleaf);
    uint8_t fp[SCITT_X509_FINGERPRINT_MAX], digest[48];
    size_t fl;
    char b64[128], did[256];
    memset(digest, 0x38, sizeof(digest));
    if (scitt_x509_fingerprint(ca_der, SCITT_X509_SHA256, fp, &fl) != SCITT_OK ||
        scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)) != SCITT_OK) {
        goto out;
    }
    snprintf(did, sizeof(did), "did:x509:0:sha256:%s::subject:CN:release-pipeline", b64);
    scitt_span chain[2] = {leaf_der, ca_der}, ochain[2] = {oleaf_der, oca_der};
    scitt_span json = scitt_span_str("{\"fixture\":\"verify\"}");
    /* {33: the self-signed certificate} for unprot.ts */
    uint8_t unprot[2048];
    scitt_cbor_writer uw;
    scitt_cbor_writer_init(&uw, unprot, sizeof(unprot));
    scitt_cbor_put_map(&uw, 1);
    scitt_cbor_put_uint(&uw, 33);
    scitt_cbor_put_bytes(&uw, self_der);
    scitt_span unprot_map;
    if (scitt_cbor_writer_finish(&uw, &unprot_map) != SCITT_OK) {
        goto out;
    }
    char hex[128];
    if (scitt_hex_encode(scitt_span_make(digest, sizeof(digest)), hex, sizeof(hex)) != SCITT_OK) {
        goto out;
    }
    const vspec base = {.key = k,
                        .iss = "https://release.example",
                        .x5chain = &self_der,
                        .nx5chain = 1,
                        .payload = json};
    vspec forged = base, x5t = base, expired = base, notyet = base, detached = base, sha384 = base,
          unp = base, d = base, dother = base;
    x5t.x5t_of = other_der;
    expired.exp = 1577836800; /* 2020-01-01 */
    notyet.nbf = 4102444800;  /* 2100-01-01 */
    detached.x5chain = NULL;
    detached.nx5chain = 0;
    detached.kid = true;
    detached.detached = true;
    sha384.hash_alg = SCITT_COSE_ALG_SHA384;
    sha384.payload = scitt_span_make(digest, sizeof(digest));
    unp.x5chain = NULL;
    unp.nx5chain = 0;
    unp.kid = true;
    unp.unprot = unprot_map;
    d.iss = did;
    d.x5chain = chain;
    d.nx5chain = 2;
    dother.iss = did;
    dother.x5chain = ochain;
    dother.nx5chain = 2;
    rc = save_ts("verify/forged.ts", &forged, svc) || save_ts("verify/x5t.ts", &x5t, svc) ||
         save_ts("verify/expired.ts", &expired, svc) || save_ts("verify/notyet.ts", &notyet, svc) ||
         save_ts("verify/detached.ts", &detached, svc) ||
         save_ts("verify/sha384.ts", &sha384, svc) || save_ts("verify/unprot.ts", &unp, svc) ||
         save_ts("verify/did.ts", &d, svc) || save_ts("verify/did-other-ca.ts", &dother, svc) ||
         save_pem_pub("verify/service.pem", svc) || save_pem_pub("verify/forged.pub", k) ||
         save_pem_pub("verify/detached.pub", k) ||
         save("verify/detached.payload", json.ptr, json.len) ||
         save("verify/sha384.hex", hex, strlen(hex)) || save_cert_pem("verify/unprot.crt", self) ||
         save("verify/did.txt", did, strlen(did)) || save_cert_pem("verify/ca.crt", ca);
out:;
    scitt_span ders[] = {self_der, other_der, ca_der, oca_der, leaf_der, oleaf_der};
    for (size_t i = 0; i < sizeof(ders) / sizeof(ders[0]); i++) {
        OPENSSL_free((void *)ders[i].ptr);
    }
    X509 *xs[] = {self, other, ca, oca, leaf, oleaf};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        X509_free(xs[i]);
    }
    EVP_PKEY_free(ke);
    EVP_PKEY_free(cae);
    EVP_PKEY_free(oce);
    scitt_cose_key_free(svc);
    scitt_cose_key_free(k);
    scitt_cose_key_free(ca_k);
    scitt_cose_key_free(other_ca_k);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cli_fixtures OUT_DIR\n");
        return 2;
    }
    out_dir = argv[1];
    const char *dirs[] = {"", "/ccf", "/ccf/store", "/legacy", "/tls", "/verify"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s%s", out_dir, dirs[i]);
        mkdir(p, 0755);
    }
    scitt_cose_key *issuer = NULL;
    if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &issuer) != SCITT_OK) {
        return 1;
    }
    char crt[4096], key[4096];
    snprintf(crt, sizeof(crt), "%s/tls/cert.pem", out_dir);
    snprintf(key, sizeof(key), "%s/tls/key.pem", out_dir);
    int rc = ccf(issuer) || legacy(issuer) || !certgen_write(crt, key) || verify_fixtures();
    scitt_cose_key_free(issuer);
    if (rc) {
        fprintf(stderr, "cli_fixtures: failed\n");
    }
    return rc;
}
