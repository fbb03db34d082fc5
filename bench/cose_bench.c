/*
 * COSE benchmark. Prints, one per line:
 *   ecdsa_p256_verify_raw: n /s     OpenSSL alone: one P-256 key, a precomputed SHA-256 digest,
 *                                   a DER signature, a reused EVP_PKEY_CTX (the ceiling)
 *   sign1_verify_es256: n /s        decode + Sig_structure + verify of a 1 KB ES256 statement with
 *                                   an already-parsed key of the same curve
 *   receipt_verify: n /s            an inclusion receipt at tree size 2^20 (20-hash path): decode,
 *                                   leaf hash of the entry, proof, kid lookup, signature
 *   transparent_verify_cold: n /s   a transparent statement (1 KB ES256 statement + one inclusion
 *                                   receipt from a 1024-leaf log): issuer signature and receipt,
 *                                   two ECDSA verifications
 *   transparent_verify: n /s        the same through a key set with a memo of verified signatures
 *                                   (scitt_cose_keyset_memo): 1024 statements whose receipts share
 *                                   one signed tree head, as when a verifier checks what one
 *                                   service issued together
 *   ratio sign1_verify/ecdsa_raw: x
 *   ratio transparent_verify/ecdsa_raw: x
 * The raw baseline and the Sign1 figure are measured in alternating rounds and the best round of
 * each is reported, so load from other processes on the machine hits both alike.
 * Usage: cose_bench [seconds per figure, default 1]
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bench.h"
#include "memtree.h"
#include "scitt/cose.h"
#include "scitt/limits.h"
#include "scitt/receipt.h"

static double seconds = 1.0;
#define ROUNDS 5

static void need(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "cose_bench: %s failed\n", what);
        exit(1);
    }
}

/* Runs fn in batches for @p secs; returns calls per second. */
static double rate_for(bool (*fn)(void *), void *ctx, double secs)
{
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        for (int i = 0; i < 64; i++) {
            need(fn(ctx), "a verification");
        }
        n += 64;
        t = bench_now();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

static double rate(bool (*fn)(void *), void *ctx)
{
    return rate_for(fn, ctx, seconds);
}

/* ---- OpenSSL alone ---- */

typedef struct {
    EVP_PKEY_CTX *ctx;
    uint8_t digest[32];
    uint8_t der[80];
    size_t der_len;
} raw_ctx;

static bool raw_once(void *arg)
{
    raw_ctx *r = arg;
    return EVP_PKEY_verify(r->ctx, r->der, r->der_len, r->digest, sizeof(r->digest)) == 1;
}

static void raw_setup(const scitt_cose_key *key, raw_ctx *out, EVP_PKEY **pkey)
{
    scitt_dynbuf pem;
    scitt_dynbuf_init(&pem, 0);
    need(scitt_cose_key_encode_pem(key, true, &pem) == SCITT_OK, "pem");
    BIO *bio = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    scitt_dynbuf_clear(&pem);
    need(pk != NULL, "PEM_read_bio_PrivateKey");
    raw_ctx r;
    memset(&r, 0, sizeof(r));
    memset(r.digest, 0x42, sizeof(r.digest));
    *pkey = pk;
    EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    r.der_len = sizeof(r.der);
    need(sctx && EVP_PKEY_sign_init(sctx) == 1 &&
             EVP_PKEY_sign(sctx, r.der, &r.der_len, r.digest, sizeof(r.digest)) == 1,
         "EVP_PKEY_sign");
    EVP_PKEY_CTX_free(sctx);
    r.ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    need(r.ctx && EVP_PKEY_verify_init(r.ctx) == 1, "EVP_PKEY_verify_init");
    *out = r;
}

/* ---- Sign1 ---- */

typedef struct {
    scitt_span msg;
    const scitt_cose_key *key;
    scitt_cose_sign1 *m;
} sign1_ctx;

static bool sign1_once(void *arg)
{
    sign1_ctx *s = arg;
    return scitt_cose_sign1_decode(s->msg, 0, s->m) == SCITT_OK &&
           scitt_cose_sign1_verify(s->m, s->key, scitt_span_make(NULL, 0), NULL) == SCITT_OK;
}

static void make_statement(const scitt_cose_key *key, size_t i, scitt_dynbuf *out)
{
    char payload[1024];
    memset(payload, 'x', sizeof(payload));
    snprintf(payload, 32, "\"%zu", i);
    payload[strlen(payload)] = 'x';
    payload[sizeof(payload) - 1] = '"';
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = SCITT_COSE_ALG_ES256;
    spec.kid = scitt_cose_key_kid(key);
    spec.content_type.present = true;
    spec.content_type.is_text = true;
    spec.content_type.text = scitt_span_str("application/json");
    spec.cwt = true;
    spec.cwt_iss = scitt_span_str("https://issuer.example");
    spec.cwt_sub = scitt_span_str("pkg:example/bench");
    spec.cwt_has_iat = true;
    spec.cwt_iat = 1767225600;
    uint8_t prot[256];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, prot, sizeof(prot));
    need(scitt_cose_headers_encode(&spec, &w) == SCITT_OK, "headers");
    scitt_cbor_writer ow;
    scitt_cbor_writer_init_dynbuf(&ow, out);
    need(scitt_cose_sign1_sign(key, scitt_span_make(prot, w.len), scitt_span_make(NULL, 0),
                               scitt_span_make(payload, sizeof(payload)), scitt_span_make(NULL, 0),
                               0, &ow) == SCITT_OK,
         "sign");
}

/* ---- receipts ---- */

typedef struct {
    scitt_span receipt;
    scitt_span entry;
    const scitt_cose_keyset *keys;
} receipt_ctx;

static bool receipt_once(void *arg)
{
    receipt_ctx *r = arg;
    return scitt_receipt_verify_inclusion(r->receipt, r->entry, r->keys, 0, NULL) == SCITT_OK;
}

/* ---- transparent statements ---- */

#define TS_COUNT 1024

typedef struct {
    scitt_dynbuf ts[TS_COUNT];
    const scitt_cose_key *issuer;
    const scitt_cose_keyset *keys;
    scitt_cose_sign1 *m;
    size_t next;
} ts_ctx;

/* What a relying party does with a transparent statement: decode it once, check the issuer
 * signature, then the receipt against the service keys. */
static bool ts_once(void *arg)
{
    ts_ctx *t = arg;
    scitt_dynbuf *b = &t->ts[t->next++ % TS_COUNT];
    scitt_span ts = scitt_span_make(b->ptr, b->len);
    return scitt_cose_sign1_decode(ts, 0, t->m) == SCITT_OK &&
           scitt_cose_sign1_verify(t->m, t->issuer, scitt_span_make(NULL, 0), NULL) == SCITT_OK &&
           scitt_receipt_verify_transparent_msg(t->m, t->keys, 0, NULL) == SCITT_OK;
}

/* TS_COUNT statements by @p issuer in a log of their own, each with its receipt embedded. */
static void ts_setup(ts_ctx *t, const scitt_cose_key *issuer, const scitt_cose_key *service)
{
    memtree tree;
    memtree_init(&tree);
    scitt_dynbuf *stmts = calloc(TS_COUNT, sizeof(*stmts));
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    need(stmts && m, "malloc");
    for (size_t i = 0; i < TS_COUNT; i++) {
        scitt_dynbuf_init(&stmts[i], 0);
        make_statement(issuer, i, &stmts[i]);
        uint8_t leaf[SCITT_HASH_LEN];
        need(scitt_cose_sign1_decode(scitt_span_make(stmts[i].ptr, stmts[i].len), 0, m) == SCITT_OK,
             "decode");
        scitt_receipt_leaf_hash(m, leaf);
        need(memtree_append(&tree, leaf) == SCITT_OK, "append");
    }
    scitt_merkle_source src = memtree_source(&tree);
    uint8_t root[SCITT_HASH_LEN];
    need(scitt_merkle_range_root(&src, 0, TS_COUNT, root) == SCITT_OK, "root");
    scitt_receipt_head h;
    need(scitt_receipt_head_sign(service, scitt_span_str("https://scitt.example"),
                                 scitt_span_str("scitt.example/log"), 1767225600, TS_COUNT, root,
                                 &h) == SCITT_OK,
         "head");
    for (size_t i = 0; i < TS_COUNT; i++) {
        uint8_t path[SCITT_LIMIT_PROOF_HASHES][SCITT_HASH_LEN], rbuf[2048];
        size_t n;
        scitt_cbor_writer rw;
        scitt_cbor_writer_init(&rw, rbuf, sizeof(rbuf));
        need(scitt_merkle_inclusion_proof(&src, i, TS_COUNT, path, &n) == SCITT_OK &&
                 scitt_receipt_encode_inclusion(&h, i, (const uint8_t(*)[32])path, n, &rw) ==
                     SCITT_OK,
             "receipt");
        scitt_span receipt = scitt_span_make(rbuf, rw.len);
        scitt_dynbuf_init(&t->ts[i], 0);
        scitt_cbor_writer tw;
        scitt_cbor_writer_init_dynbuf(&tw, &t->ts[i]);
        need(scitt_receipt_embed(scitt_span_make(stmts[i].ptr, stmts[i].len), &receipt, 1, &tw) ==
                 SCITT_OK,
             "embed");
        need(scitt_cbor_writer_finish(&tw, NULL) == SCITT_OK, "embed");
        scitt_dynbuf_clear(&stmts[i]);
    }
    free(stmts);
    free(m);
    memtree_free(&tree);
    t->issuer = issuer;
    t->m = malloc(sizeof(scitt_cose_sign1));
    t->next = 0;
    need(t->m != NULL, "malloc");
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: cose_bench [SECONDS]\n  COSE_Sign1, receipt and transparent-statement "
               "verification against raw ECDSA P-256\n  verify (default 1 s per figure)\n");
    if (argc > 1) {
        seconds = strtod(argv[1], NULL);
        if (!(seconds > 0)) {
            fprintf(stderr, "usage: cose_bench [seconds]\n");
            return 2;
        }
    }
    scitt_cose_key *issuer = NULL, *service = NULL;
    need(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &issuer) == SCITT_OK, "keygen");
    need(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &service) == SCITT_OK, "keygen");

    raw_ctx rc;
    EVP_PKEY *pk = NULL;
    raw_setup(issuer, &rc, &pk);
    scitt_dynbuf stmt;
    scitt_dynbuf_init(&stmt, 0);
    make_statement(issuer, 0, &stmt);
    sign1_ctx s = {scitt_span_make(stmt.ptr, stmt.len), issuer, malloc(sizeof(scitt_cose_sign1))};
    need(s.m != NULL, "malloc");
    double raw = 0, sign1 = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double a = rate_for(raw_once, &rc, seconds / ROUNDS);
        double b = rate_for(sign1_once, &s, seconds / ROUNDS);
        raw = a > raw ? a : raw;
        sign1 = b > sign1 ? b : sign1;
    }
    EVP_PKEY_CTX_free(rc.ctx);
    EVP_PKEY_free(pk);
    bench_print("ecdsa_p256_verify_raw", raw, "/s");
    bench_print("sign1_verify_es256", sign1, "/s");

    /* Entry = the registered form of the statement; a random 20-hash path for leaf 123456 of a
     * 2^20-leaf tree folds to the root the receipt head is signed over, exactly as a real log's. */
    uint8_t entry[2048];
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, entry, sizeof(entry));
    need(scitt_cose_sign1_decode(s.msg, 0, s.m) == SCITT_OK &&
             scitt_receipt_entry(s.m, &w) == SCITT_OK,
         "entry");
    uint8_t leaf[32], root[32], path[20][SCITT_HASH_LEN];
    scitt_receipt_leaf_hash(s.m, leaf);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < 20; i++) {
        for (size_t k = 0; k < 32; k += 8) {
            uint64_t v = bench_rand(&seed);
            memcpy(path[i] + k, &v, 8);
        }
    }
    uint64_t size = 1ull << 20, index = 123456;
    need(scitt_merkle_inclusion_len(index, size) == 20, "path length");
    need(scitt_merkle_inclusion_root(index, size, leaf, (const uint8_t(*)[32])path, 20, root) ==
             SCITT_OK,
         "root");
    scitt_receipt_head h;
    need(scitt_receipt_head_sign(service, scitt_span_str("https://scitt.example"),
                                 scitt_span_str("scitt.example/log"), 1767225600, size, root,
                                 &h) == SCITT_OK,
         "head");
    uint8_t rbuf[4096];
    scitt_cbor_writer rw;
    scitt_cbor_writer_init(&rw, rbuf, sizeof(rbuf));
    need(scitt_receipt_encode_inclusion(&h, index, (const uint8_t(*)[32])path, 20, &rw) == SCITT_OK,
         "receipt");
    scitt_cose_keyset *keys = NULL;
    need(scitt_cose_keyset_new(&keys) == SCITT_OK &&
             scitt_cose_keyset_add(keys, service) == SCITT_OK,
         "keyset");
    receipt_ctx r = {scitt_span_make(rbuf, rw.len), scitt_span_make(entry, w.len), keys};
    bench_print("receipt_verify", rate(receipt_once, &r), "/s");

    /* transparent statements, without and with the memo, in rounds alternating with raw ECDSA */
    ts_ctx *tc = calloc(1, sizeof(*tc));
    need(tc != NULL, "malloc");
    ts_setup(tc, issuer, service);
    scitt_cose_keyset *memo_keys = NULL;
    need(scitt_cose_keyset_new(&memo_keys) == SCITT_OK &&
             scitt_cose_keyset_add(memo_keys, service) == SCITT_OK &&
             scitt_cose_keyset_memo(memo_keys, 64) == SCITT_OK,
         "keyset");
    raw_setup(issuer, &rc, &pk);
    double raw2 = 0, cold = 0, warm = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double a = rate_for(raw_once, &rc, seconds / ROUNDS);
        tc->keys = keys;
        double b = rate_for(ts_once, tc, seconds / ROUNDS);
        tc->keys = memo_keys;
        double c = rate_for(ts_once, tc, seconds / ROUNDS);
        raw2 = a > raw2 ? a : raw2;
        cold = b > cold ? b : cold;
        warm = c > warm ? c : warm;
    }
    EVP_PKEY_CTX_free(rc.ctx);
    EVP_PKEY_free(pk);
    bench_print("ecdsa_p256_verify_raw_again", raw2, "/s");
    bench_print("transparent_verify_cold", cold, "/s");
    bench_print("transparent_verify", warm, "/s");
    for (size_t i = 0; i < TS_COUNT; i++) {
        scitt_dynbuf_clear(&tc->ts[i]);
    }
    free(tc->m);
    free(tc);
    scitt_cose_keyset_free(memo_keys);

    printf("ratio sign1_verify/ecdsa_raw: %.3f\n", sign1 / raw);
    printf("ratio transparent_verify/ecdsa_raw: %.3f\n", warm / raw2);
    scitt_cose_keyset_free(keys);
    free(s.m);
    scitt_dynbuf_clear(&stmt);
    scitt_cose_key_free(issuer);
    scitt_cose_key_free(service);
    return 0;
}
