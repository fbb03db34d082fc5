/*
 * Writes what our code makes into a directory, for the independent verifier harness
 * (tests/interop) to check: signed statements for every algorithm cose-check knows, an
 * 11-entry log's inclusion receipts (ES256 and Ed25519 service keys), a transparent statement,
 * consistency receipts, and the public keys and roots the checks need.
 *
 *   cose_interop_gen OUTDIR
 *
 * Files: issuer-<ALG>.pem + statement-<ALG>.cbor; statement-detached.cbor + payload.bin;
 * service-es256.pem, service-ed25519.pem, services.jwks.json; statement.cbor (log entry 4, with
 * an unprotected header); receipt.cbor / receipt-ed25519.cbor (entry 4 at size 6);
 * transparent.cbor; consistency-6-11.cbor, consistency-4-11.cbor; root-4.hex, root-6.hex,
 * root-11.hex. Exit 0 on success, 2 on any failure (with a message).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "memtree.h"
#include "scitt/cose.h"
#include "scitt/limits.h"
#include "scitt/receipt.h"

static const char *dir;

static void die(const char *what, scitt_err e)
{
    fprintf(stderr, "cose_interop_gen: %s: %s\n", what, scitt_err_name(e));
    exit(2);
}

static void check(scitt_err e, const char *what)
{
    if (e != SCITT_OK) {
        die(what, e);
    }
}

static void put_file(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cose_interop_gen: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

static void put_hex(const char *name, const uint8_t h[32])
{
    char hex[SCITT_HEX_LEN(32)];
    check(scitt_hex_encode(scitt_span_make(h, 32), hex, sizeof(hex)), "hex");
    size_t n = strlen(hex);
    hex[n] = '\n';
    put_file(name, hex, n + 1);
}

static void put_pem(const char *name, const scitt_cose_key *k)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    check(scitt_cose_key_encode_pem(k, false, &b), name);
    put_file(name, b.ptr, b.len);
    scitt_dynbuf_clear(&b);
}

/* A Signed Statement with deterministic headers; @p unprot is an encoded map or empty. */
static void statement(const scitt_cose_key *k, const char *payload, const char *sub,
                      scitt_span unprot, unsigned flags, scitt_dynbuf *out)
{
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(k);
    spec.kid = scitt_cose_key_kid(k);
    spec.content_type.present = true;
    spec.content_type.is_text = true;
    spec.content_type.text = scitt_span_str("application/json");
    spec.cwt = true;
    spec.cwt_iss = scitt_span_str("https://issuer.example");
    spec.cwt_sub = scitt_span_str(sub);
    spec.cwt_has_iat = true;
    spec.cwt_iat = 1767225600;
    uint8_t prot[512];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, prot, sizeof(prot));
    check(scitt_cose_headers_encode(&spec, &w), "headers");
    scitt_cbor_writer ow;
    scitt_cbor_writer_init_dynbuf(&ow, out);
    check(scitt_cose_sign1_sign(k, scitt_span_make(prot, w.len), unprot, scitt_span_str(payload),
                                scitt_span_make(NULL, 0), flags, &ow),
          "sign");
}

static void signed_statements(void)
{
    static const struct {
        int64_t alg;
        const char *name;
    } algs[] = {{SCITT_COSE_ALG_ES256, "ES256"}, {SCITT_COSE_ALG_ES384, "ES384"},
                {SCITT_COSE_ALG_ES512, "ES512"}, {SCITT_COSE_ALG_EDDSA, "EdDSA"},
                {SCITT_COSE_ALG_ED448, "Ed448"}, {SCITT_COSE_ALG_PS256, "PS256"}};
    scitt_cose_key *rsa = NULL;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        scitt_cose_key *k = NULL;
        check(scitt_cose_key_generate(algs[i].alg, &k), "keygen");
        if (algs[i].alg == SCITT_COSE_ALG_ED448) {
            /* cose-check knows Ed448 under the polymorphic EdDSA identifier only */
            check(scitt_cose_key_set_alg(k, SCITT_COSE_ALG_EDDSA), "alg");
        }
        char name[64];
        snprintf(name, sizeof(name), "issuer-%s.pem", algs[i].name);
        put_pem(name, k);
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        statement(k, "{\"interop\": true}", "pkg:example/interop", scitt_span_make(NULL, 0), 0, &b);
        snprintf(name, sizeof(name), "statement-%s.cbor", algs[i].name);
        put_file(name, b.ptr, b.len);
        scitt_dynbuf_clear(&b);
        if (algs[i].alg == SCITT_COSE_ALG_PS256) {
            rsa = scitt_cose_key_ref(k);
        }
        scitt_cose_key_free(k);
    }
    /* PS384 and PS512 with the same RSA key (RSA key generation is slow). */
    static const struct {
        int64_t alg;
        const char *name;
    } ps[] = {{SCITT_COSE_ALG_PS384, "PS384"}, {SCITT_COSE_ALG_PS512, "PS512"}};
    for (size_t i = 0; i < 2; i++) {
        check(scitt_cose_key_set_alg(rsa, ps[i].alg), "alg");
        char name[64];
        snprintf(name, sizeof(name), "issuer-%s.pem", ps[i].name);
        put_pem(name, rsa);
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        statement(rsa, "{\"interop\": true}", "pkg:example/interop", scitt_span_make(NULL, 0), 0,
                  &b);
        snprintf(name, sizeof(name), "statement-%s.cbor", ps[i].name);
        put_file(name, b.ptr, b.len);
        scitt_dynbuf_clear(&b);
    }
    /* A detached payload. */
    check(scitt_cose_key_set_alg(rsa, SCITT_COSE_ALG_PS256), "alg");
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    const char *payload = "{\"detached\": \"yes\"}";
    statement(rsa, payload, "pkg:example/detached", scitt_span_make(NULL, 0), SCITT_SIGN1_DETACHED,
              &b);
    put_file("statement-detached.cbor", b.ptr, b.len);
    put_file("payload.bin", payload, strlen(payload));
    scitt_dynbuf_clear(&b);
    scitt_cose_key_free(rsa);
}

static void write_receipt(const char *name, const scitt_receipt_head *h, scitt_merkle_source *src,
                          uint64_t index, uint64_t old_size)
{
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN];
    size_t n;
    uint8_t buf[8192];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, sizeof(buf));
    if (old_size == 0) {
        check(scitt_merkle_inclusion_proof(src, index, h->tree_size, path, &n), "proof");
        check(scitt_receipt_encode_inclusion(h, index, (const uint8_t(*)[32])path, n, &w), name);
    } else {
        check(scitt_merkle_consistency_proof(src, old_size, h->tree_size, path, &n), "proof");
        check(scitt_receipt_encode_consistency(h, old_size, (const uint8_t(*)[32])path, n, &w),
              name);
    }
    put_file(name, buf, w.len);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cose_interop_gen OUTDIR\n");
        return 2;
    }
    dir = argv[1];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cose_interop_gen: cannot create %s: %s\n", dir, strerror(errno));
        return 2;
    }
    signed_statements();

    scitt_cose_key *issuer = NULL, *es = NULL, *ed = NULL;
    check(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &issuer), "keygen");
    check(scitt_cose_key_generate(0, &es), "keygen");
    check(scitt_cose_key_generate(SCITT_COSE_ALG_EDDSA, &ed), "keygen");
    put_pem("issuer.pem", issuer);
    put_pem("service-es256.pem", es);
    put_pem("service-ed25519.pem", ed);
    scitt_cose_keyset *set = NULL;
    check(scitt_cose_keyset_new(&set), "keyset");
    check(scitt_cose_keyset_add(set, es), "keyset");
    check(scitt_cose_keyset_add(set, ed), "keyset");
    scitt_dynbuf jwks;
    scitt_dynbuf_init(&jwks, 0);
    check(scitt_cose_keyset_encode_jwks(set, &jwks), "jwks");
    put_file("services.jwks.json", jwks.ptr, jwks.len);
    scitt_dynbuf_clear(&jwks);

    /* The log: 11 statements; entry 4 carries an unprotected header the log drops. */
    memtree t;
    memtree_init(&t);
    scitt_dynbuf stmt4;
    scitt_dynbuf_init(&stmt4, 0);
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    for (int i = 0; i < 11; i++) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        char payload[64], sub[64];
        snprintf(payload, sizeof(payload), "{\"entry\": %d}", i);
        snprintf(sub, sizeof(sub), "urn:example:subject:%d", i);
        static const uint8_t unprot[] = {0xa1, 0x3a, 0x00, 0x01, 0x11, 0x6f, 0x62, 'h', 'i'};
        statement(issuer, payload, sub,
                  i == 4 ? scitt_span_make(unprot, sizeof(unprot)) : scitt_span_make(NULL, 0), 0,
                  &b);
        check(scitt_cose_sign1_decode(scitt_span_make(b.ptr, b.len), 0, m), "decode");
        uint8_t leaf[32];
        scitt_receipt_leaf_hash(m, leaf);
        check(memtree_append(&t, leaf), "append");
        if (i == 4) {
            scitt_dynbuf_put(&stmt4, b.ptr, b.len);
        }
        scitt_dynbuf_clear(&b);
    }
    free(m);
    put_file("statement.cbor", stmt4.ptr, stmt4.len);
    scitt_merkle_source src = memtree_source(&t);
    uint8_t root4[32], root6[32], root11[32];
    check(scitt_merkle_range_root(&src, 0, 4, root4), "root");
    check(scitt_merkle_range_root(&src, 0, 6, root6), "root");
    check(scitt_merkle_range_root(&src, 0, 11, root11), "root");
    put_hex("root-4.hex", root4);
    put_hex("root-6.hex", root6);
    put_hex("root-11.hex", root11);

    scitt_span iss = scitt_span_str("https://scitt.example"),
               sub = scitt_span_str("scitt.example/log");
    scitt_receipt_head h6es, h6ed, h11;
    check(scitt_receipt_head_sign(es, iss, sub, 1767225600, 6, root6, &h6es), "head");
    check(scitt_receipt_head_sign(ed, iss, sub, 1767225600, 6, root6, &h6ed), "head");
    check(scitt_receipt_head_sign(es, iss, sub, 1767225700, 11, root11, &h11), "head");
    write_receipt("receipt.cbor", &h6es, &src, 4, 0);
    write_receipt("receipt-ed25519.cbor", &h6ed, &src, 4, 0);
    write_receipt("consistency-6-11.cbor", &h11, &src, 0, 6);
    write_receipt("consistency-4-11.cbor", &h11, &src, 0, 4);

    /* The transparent statement: entry 4 with both receipts at 394. */
    size_t rl1, rl2;
    char path[4096];
    uint8_t r1[8192], r2[8192];
    snprintf(path, sizeof(path), "%s/receipt.cbor", dir);
    FILE *f = fopen(path, "rb");
    rl1 = f ? fread(r1, 1, sizeof(r1), f) : 0;
    if (f) {
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/receipt-ed25519.cbor", dir);
    f = fopen(path, "rb");
    rl2 = f ? fread(r2, 1, sizeof(r2), f) : 0;
    if (f) {
        fclose(f);
    }
    scitt_span receipts[2] = {scitt_span_make(r1, rl1), scitt_span_make(r2, rl2)};
    scitt_dynbuf ts;
    scitt_dynbuf_init(&ts, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &ts);
    check(scitt_receipt_embed(scitt_span_make(stmt4.ptr, stmt4.len), receipts, 2, &w), "embed");
    put_file("transparent.cbor", ts.ptr, ts.len);
    /* Our own verifier agrees before anyone else looks. */
    check(scitt_receipt_verify_transparent(scitt_span_make(ts.ptr, ts.len), set,
                                           SCITT_RECEIPT_REQUIRE_SUB | SCITT_RECEIPT_REQUIRE_SIZE,
                                           NULL),
          "self-check");
    scitt_dynbuf_clear(&ts);
    scitt_dynbuf_clear(&stmt4);
    memtree_free(&t);
    scitt_cose_keyset_free(set);
    scitt_cose_key_free(issuer);
    scitt_cose_key_free(es);
    scitt_cose_key_free(ed);
    printf("cose_interop_gen: wrote the interop files to %s\n", dir);
    return 0;
}
