/*
 * attest_fixtures: service bundles no running scittd on this machine can give (it has no TEE).
 *
 *   attest_fixtures snp TEST_DATA OUT_DIR
 *     OUT_DIR/snp.bundle: the real virtee Milan report with its VCEK, ASK and ARK around a fresh
 *     identity document; OUT_DIR/snp-bare.bundle: the same without endorsements. The report's
 *     REPORT_DATA binds somebody else's document, so both verify up to the binding and fail there.
 *
 *   attest_fixtures rebind IN ISSUER OUT
 *     a virtual bundle for the same receipt key, checkpoint key and origin as IN under another
 *     issuer. Virtual evidence is unsigned, so anybody can make this one: it is why verifiers
 *     refuse virtual evidence by default, and it lets the tests check that receipts must name the
 *     issuer the bundle binds.
 *
 *   attest_fixtures dcap TEST_DATA OUT_DIR
 *     the real Intel samples of TEST_DATA/dcap around fresh identity documents, with their
 *     collateral as the endorsements: tdx.bundle (the TDX quote, OutOfDate), tdx-bare.bundle
 *     (without collateral), sgx.bundle (the SGX quote, SWHardeningNeeded), and the other
 *     platform's evidence: tdx-as-sgx.bundle, sgx-as-tdx.bundle. Their REPORTDATA binds somebody
 *     else's data, so they verify up to the binding and fail there.
 *
 * Exit 0 when everything was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scitt/attest.h"
#include "scitt/dcap.h"
#include "scitt/cbor.h"
#include "scitt/cose.h"

static uint8_t *slurp(const char *dir, const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] ? "/" : "", rel);
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(1u << 20);
    *len = f && buf ? fread(buf, 1, 1u << 20, f) : 0;
    if (f) {
        fclose(f);
    }
    if (!*len) {
        fprintf(stderr, "attest_fixtures: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    return buf;
}

static int save(const char *path, scitt_dynbuf *b)
{
    FILE *f = fopen(path, "wb");
    if (b->err || !f || fwrite(b->ptr, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "attest_fixtures: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* {1: receipt key, 2: vkey, 3: issuer, 4: origin}, as scittd writes it. */
static scitt_err identity(scitt_span key, scitt_span vkey, scitt_span iss, scitt_span origin,
                          scitt_dynbuf *out)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 4);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_raw(&w, key);
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_text(&w, vkey);
    scitt_cbor_put_uint(&w, 3);
    scitt_cbor_put_text(&w, iss);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_text(&w, origin);
    return scitt_cbor_writer_finish(&w, NULL);
}

/* DER to one PEM block. */
static void pem_block(scitt_span der, scitt_dynbuf *out)
{
    size_t cap = SCITT_BASE64_LEN(der.len);
    char *b64 = malloc(cap);
    if (!b64 || scitt_base64_encode(der, b64, cap) != SCITT_OK) {
        out->err = SCITT_ERR_NOMEM;
        free(b64);
        return;
    }
    scitt_dynbuf_str(out, "-----BEGIN CERTIFICATE-----\n");
    size_t n = strlen(b64);
    for (size_t i = 0; i < n; i += 64) {
        scitt_dynbuf_put(out, b64 + i, n - i < 64 ? n - i : 64);
        scitt_dynbuf_u8(out, '\n');
    }
    scitt_dynbuf_str(out, "-----END CERTIFICATE-----\n");
    free(b64);
}

static int snp(const char *data, const char *out_dir)
{
    size_t rl = 0, vl = 0, cl = 0;
    uint8_t *rep = slurp(data, "tee/sev-snp/virtee-milan/report_milan.bin", &rl);
    uint8_t *vcek = slurp(data, "tee/sev-snp/virtee-milan/vcek_milan.der", &vl);
    uint8_t *chain = slurp(data, "tee/sev-snp/virtee-milan/cert_chain_milan", &cl);
    scitt_cose_key *k = NULL;
    scitt_dynbuf key, id, pem, b1, b2;
    scitt_dynbuf_init(&key, 0);
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&pem, 0);
    scitt_dynbuf_init(&b1, 0);
    scitt_dynbuf_init(&b2, 0);
    int rc = 1;
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &key);
    if (rep && vcek && chain && scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k) == SCITT_OK &&
        scitt_cose_key_encode_cose(k, false, &w) == SCITT_OK &&
        scitt_cbor_writer_finish(&w, NULL) == SCITT_OK &&
        identity(scitt_span_make(key.ptr, key.len), scitt_span_str("snp.example+01020304+AQID"),
                 scitt_span_str("snp.example"), scitt_span_str("snp.example"), &id) == SCITT_OK) {
        pem_block(scitt_span_make(vcek, vl), &pem);
        scitt_dynbuf_put(&pem, chain, cl);
        scitt_span ids = scitt_span_make(id.ptr, id.len), r = scitt_span_make(rep, rl);
        char p1[4096], p2[4096];
        snprintf(p1, sizeof(p1), "%s/snp.bundle", out_dir);
        snprintf(p2, sizeof(p2), "%s/snp-bare.bundle", out_dir);
        rc = pem.err ||
             scitt_attest_bundle_encode("snp", ids, r, scitt_span_make(pem.ptr, pem.len), &b1) !=
                 SCITT_OK ||
             scitt_attest_bundle_encode("snp", ids, r, scitt_span_make(NULL, 0), &b2) != SCITT_OK ||
             save(p1, &b1) || save(p2, &b2);
    }
    scitt_cose_key_free(k);
    scitt_dynbuf_clear(&key);
    scitt_dynbuf_clear(&id);
    scitt_dynbuf_clear(&pem);
    scitt_dynbuf_clear(&b1);
    scitt_dynbuf_clear(&b2);
    free(rep);
    free(vcek);
    free(chain);
    return rc;
}

static int rebind(const char *in, const char *issuer, const char *out)
{
    size_t len = 0;
    uint8_t *buf = slurp("", in, &len);
    scitt_attest_bundle b;
    scitt_identity old;
    scitt_attest_virtual v;
    if (!buf || scitt_attest_bundle_parse(scitt_span_make(buf, len), &b) != SCITT_OK ||
        scitt_identity_parse(b.identity, &old) != SCITT_OK ||
        scitt_attest_virtual_parse(b.evidence, &v) != SCITT_OK) {
        fprintf(stderr, "attest_fixtures: %s is not a virtual service bundle\n", in);
        free(buf);
        return 1;
    }
    scitt_dynbuf id, ev, bundle;
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&ev, 0);
    scitt_dynbuf_init(&bundle, 0);
    uint8_t rd[SCITT_TEE_REPORT_DATA_LEN];
    int rc =
        identity(old.receipt_key, old.vkey, scitt_span_str(issuer), old.origin, &id) ||
        scitt_attest_report_data(scitt_span_make(id.ptr, id.len), scitt_span_make(NULL, 0), rd) ||
        scitt_attest_virtual_evidence(v.measurement, rd, &ev) ||
        scitt_attest_bundle_encode("virtual", scitt_span_make(id.ptr, id.len),
                                   scitt_span_make(ev.ptr, ev.len), scitt_span_make(NULL, 0),
                                   &bundle) ||
        save(out, &bundle);
    scitt_dynbuf_clear(&id);
    scitt_dynbuf_clear(&ev);
    scitt_dynbuf_clear(&bundle);
    free(buf);
    return rc;
}

/* A bundle of @p platform around a fresh identity: the quote of @p sample in TEST_DATA/dcap and its
 * collateral directory (of @p coll_sample), or no endorsements when @p bare. */
static int dcap_one(const char *data, const char *platform, const char *sample,
                    const char *coll_sample, bool bare, const char *out)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "dcap/%s/quote.bin", sample);
    size_t ql = 0;
    uint8_t *quote = slurp(data, rel, &ql);
    uint8_t *files[SCITT_DCAP_ITEMS] = {NULL};
    scitt_span spans[SCITT_DCAP_ITEMS];
    int rc = quote == NULL;
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        size_t n = 0;
        snprintf(rel, sizeof(rel), "dcap/%s/collateral/%s", coll_sample,
                 scitt_dcap_item_file((scitt_dcap_item)i));
        files[i] = bare ? NULL : slurp(data, rel, &n);
        rc |= !bare && !files[i];
        spans[i] = scitt_span_make(files[i], n);
    }
    scitt_cose_key *k = NULL;
    scitt_dynbuf key, id, coll, b;
    scitt_dynbuf_init(&key, 0);
    scitt_dynbuf_init(&id, 0);
    scitt_dynbuf_init(&coll, 0);
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &key);
    rc = rc || scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &k) != SCITT_OK ||
         scitt_cose_key_encode_cose(k, false, &w) != SCITT_OK ||
         scitt_cbor_writer_finish(&w, NULL) != SCITT_OK ||
         identity(scitt_span_make(key.ptr, key.len), scitt_span_str("tdx.example+01020304+AQID"),
                  scitt_span_str("tdx.example"), scitt_span_str("tdx.example"), &id) != SCITT_OK ||
         (!bare && scitt_attest_collateral_encode(spans, &coll) != SCITT_OK) ||
         scitt_attest_bundle_encode(platform, scitt_span_make(id.ptr, id.len),
                                    scitt_span_make(quote, ql), scitt_span_make(coll.ptr, coll.len),
                                    &b) != SCITT_OK ||
         save(out, &b);
    scitt_cose_key_free(k);
    scitt_dynbuf_clear(&key);
    scitt_dynbuf_clear(&id);
    scitt_dynbuf_clear(&coll);
    scitt_dynbuf_clear(&b);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        free(files[i]);
    }
    free(quote);
    return rc;
}

static int dcap(const char *data, const char *out_dir)
{
    static const struct {
        const char *platform, *sample, *coll, *name;
        bool bare;
    } b[] = {
        {"tdx", "tdx-automata", "tdx-automata", "tdx.bundle", false},
        {"tdx", "tdx-automata", "tdx-automata", "tdx-bare.bundle", true},
        {"sgx", "sgx-automata", "sgx-automata", "sgx.bundle", false},
        {"sgx", "tdx-automata", "tdx-automata", "tdx-as-sgx.bundle", false},
        {"tdx", "sgx-automata", "sgx-automata", "sgx-as-tdx.bundle", false},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", out_dir, b[i].name);
        rc |= dcap_one(data, b[i].platform, b[i].sample, b[i].coll, b[i].bare, path);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "dcap")) {
        return dcap(argv[2], argv[3]);
    }
    if (argc == 4 && !strcmp(argv[1], "snp")) {
        return snp(argv[2], argv[3]);
    }
    if (argc == 5 && !strcmp(argv[1], "rebind")) {
        return rebind(argv[2], argv[3], argv[4]);
    }
    fprintf(stderr, "usage: attest_fixtures snp TEST_DATA OUT_DIR\n"
                    "       attest_fixtures dcap TEST_DATA OUT_DIR\n"
                    "       attest_fixtures rebind IN ISSUER OUT\n");
    return 2;
}
