/*
 * COSE benchmark. Prints, one per line:
 *   ecdsa_p256_verify_raw: n /s     OpenSSL alone: one P-256 key, a precomputed SHA-256 digest,
 *                                   a DER signature, a reused EVP_PKEY_CTX (the ceiling)
 *   sign1_verify_es256: n /s        decode + Sig_structure + verify of a 1 KB ES256 statement with
 *                                   an already-parsed key of the same curve
 *   receipt_verify: n /s            an inclusion receipt at tree size 2^20 (20-hash path): decode,
 *                                   leaf hash of the entry, proof, kid lookup, signature
 *   ecdsa_p256_verify_raw_pair: n /s
 *                                   two raw verifications in a row, one with the issuer's key and
 *                                   one with the service's (each a reused context and digest):
 *                                   the ceiling of a cold transparent statement verification
 *   transparent_verify_cold: n /s   a transparent statement (1 KB ES256 statement + one inclusion
 *                                   receipt, 20-hash path in a 2^20-leaf log) as a relying party
 *                                   verifying one statement sees it: decode, issuer signature,
 *                                   receipt (proof, then signature); every one of the 1024
 *                                   statements has a receipt against a tree head of its own, and
 *                                   the key set has no memo, so two ECDSA verifications each
 *   ecdsa_p256_verify_raw_again: n /s   the single raw verification again (the cached ceiling)
 *   transparent_verify_cached: n /s the same statements' twins through a key set with a memo of
 *                                   verified receipt signatures (scitt_cose_keyset_memo), all 1024
 *                                   receipts against one signed tree head (2^20 leaves), as when a
 *                                   verifier checks what one service issued together: the receipt
 *                                   signature is verified once, the issuer signature and every
 *                                   proof each time; one ECDSA verification each
 *   ratio sign1_verify/ecdsa_raw: x
 *   ratio transparent_verify_cold/ecdsa_raw_pair: x       (the headline; target >= 0.85)
 *   ratio transparent_verify_cached/ecdsa_raw_again: x
 * Each figure and its baseline are measured in alternating rounds and the best round of each is
 * reported, so load from other processes on the machine hits both alike.
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
#define TS_LOG   20 /* receipts are for a log of 2^20 leaves: 20-hash paths */

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

static void random_hash(uint64_t *seed, uint8_t out[SCITT_HASH_LEN])
{
    for (size_t k = 0; k < SCITT_HASH_LEN; k += 8) {
        uint64_t v = bench_rand(seed);
        memcpy(out + k, &v, 8);
    }
}

/* Embeds the inclusion receipt of (@p index, @p path) under @p h into @p stmt, into @p out. */
static void ts_embed(const scitt_dynbuf *stmt, const scitt_receipt_head *h, uint64_t index,
                     const uint8_t path[][SCITT_HASH_LEN], scitt_dynbuf *out)
{
    uint8_t rbuf[2048];
    scitt_cbor_writer rw;
    scitt_cbor_writer_init(&rw, rbuf, sizeof(rbuf));
    need(scitt_receipt_encode_inclusion(h, index, path, TS_LOG, &rw) == SCITT_OK, "receipt");
    scitt_span receipt = scitt_span_make(rbuf, rw.len);
    scitt_dynbuf_init(out, 0);
    scitt_cbor_writer tw;
    scitt_cbor_writer_init_dynbuf(&tw, out);
    need(scitt_receipt_embed(scitt_span_make(stmt->ptr, stmt->len), &receipt, 1, &tw) == SCITT_OK &&
             scitt_cbor_writer_finish(&tw, NULL) == SCITT_OK,
         "embed");
}

/*
 * TS_COUNT statements by @p issuer with their receipts embedded, in a log of 2^TS_LOG leaves.
 * @p shared: all are leaves 0..TS_COUNT-1 (a complete subtree, whose path is completed by the
 * roots of the subtrees to its right, random here) under one signed tree head. Otherwise each is
 * at a random index of a log of its own (random siblings), so every receipt has its own head.
 */
static void ts_setup(ts_ctx *t, const scitt_cose_key *issuer, const scitt_cose_key *service,
                     bool shared)
{
    memtree tree;
    memtree_init(&tree);
    scitt_dynbuf *stmts = calloc(TS_COUNT, sizeof(*stmts));
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    uint8_t(*leaves)[SCITT_HASH_LEN] = calloc(TS_COUNT, SCITT_HASH_LEN);
    need(stmts && m && leaves, "malloc");
    for (size_t i = 0; i < TS_COUNT; i++) {
        scitt_dynbuf_init(&stmts[i], 0);
        make_statement(issuer, i, &stmts[i]);
        need(scitt_cose_sign1_decode(scitt_span_make(stmts[i].ptr, stmts[i].len), 0, m) == SCITT_OK,
             "decode");
        scitt_receipt_leaf_hash(m, leaves[i]);
        need(memtree_append(&tree, leaves[i]) == SCITT_OK, "append");
    }
    const uint64_t size = 1ull << TS_LOG;
    uint64_t seed = shared ? 0x243f6a8885a308d3ull : 0x13198a2e03707344ull;
    uint8_t path[TS_LOG][SCITT_HASH_LEN], root[SCITT_HASH_LEN];
    scitt_receipt_head h;
    scitt_merkle_source src = memtree_source(&tree);
    size_t inner = 0;
    if (shared) {
        /* the subtree [0, TS_COUNT) is a left child at every level above it */
        need(scitt_merkle_inclusion_proof(&src, 0, TS_COUNT, path, &inner) == SCITT_OK, "proof");
        for (size_t k = inner; k < TS_LOG; k++) {
            random_hash(&seed, path[k]);
        }
        need(scitt_merkle_inclusion_root(0, size, leaves[0], (const uint8_t(*)[32])path, TS_LOG,
                                         root) == SCITT_OK &&
                 scitt_receipt_head_sign(service, scitt_span_str("https://scitt.example"),
                                         scitt_span_str("scitt.example/log"), 1767225600, size,
                                         root, &h) == SCITT_OK,
             "head");
    }
    for (size_t i = 0; i < TS_COUNT; i++) {
        uint64_t index = i;
        if (shared) {
            size_t n;
            need(scitt_merkle_inclusion_proof(&src, i, TS_COUNT, path, &n) == SCITT_OK &&
                     n == inner,
                 "proof");
            uint8_t again[SCITT_HASH_LEN];
            need(scitt_merkle_inclusion_root(i, size, leaves[i], (const uint8_t(*)[32])path, TS_LOG,
                                             again) == SCITT_OK &&
                     memcmp(again, root, SCITT_HASH_LEN) == 0,
                 "shared root");
        } else {
            index = bench_rand(&seed) % size;
            for (size_t k = 0; k < TS_LOG; k++) {
                random_hash(&seed, path[k]);
            }
            need(scitt_merkle_inclusion_root(index, size, leaves[i], (const uint8_t(*)[32])path,
                                             TS_LOG, root) == SCITT_OK &&
                     scitt_receipt_head_sign(service, scitt_span_str("https://scitt.example"),
                                             scitt_span_str("scitt.example/log"),
                                             1767225600 + (int64_t)i, size, root, &h) == SCITT_OK,
                 "head");
        }
        ts_embed(&stmts[i], &h, index, (const uint8_t(*)[32])path, &t->ts[i]);
        scitt_dynbuf_clear(&stmts[i]);
    }
    free(stmts);
    free(leaves);
    free(m);
    memtree_free(&tree);
    t->issuer = issuer;
    t->m = malloc(sizeof(scitt_cose_sign1));
    t->next = 0;
    need(t->m != NULL, "malloc");
}

static void ts_free(ts_ctx *t)
{
    for (size_t i = 0; i < TS_COUNT; i++) {
        scitt_dynbuf_clear(&t->ts[i]);
    }
    free(t->m);
    free(t);
}

/* Two raw verifications: the issuer's signature and the service's, each with its own key. */
typedef struct {
    raw_ctx a, b;
} raw_pair_ctx;

static bool raw_pair_once(void *arg)
{
    raw_pair_ctx *p = arg;
    return raw_once(&p->a) && raw_once(&p->b);
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

    /*
     * Transparent statements: cold (every receipt its own tree head, no memo) against two raw
     * verifications, cached (one tree head, a memo) against one, in alternating rounds.
     */
    ts_ctx *cold_ts = calloc(1, sizeof(*cold_ts)), *cached_ts = calloc(1, sizeof(*cached_ts));
    need(cold_ts && cached_ts, "malloc");
    ts_setup(cold_ts, issuer, service, false);
    ts_setup(cached_ts, issuer, service, true);
    cold_ts->keys = keys;
    scitt_cose_keyset *memo_keys = NULL;
    need(scitt_cose_keyset_new(&memo_keys) == SCITT_OK &&
             scitt_cose_keyset_add(memo_keys, service) == SCITT_OK &&
             scitt_cose_keyset_memo(memo_keys, 64) == SCITT_OK,
         "keyset");
    cached_ts->keys = memo_keys;
    EVP_PKEY *spk = NULL;
    raw_pair_ctx pair;
    raw_setup(issuer, &pair.a, &pk);
    raw_setup(service, &pair.b, &spk);
    double pair_rate = 0, raw2 = 0, cold = 0, cached = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double a = rate_for(raw_pair_once, &pair, seconds / ROUNDS);
        double b = rate_for(ts_once, cold_ts, seconds / ROUNDS);
        double c = rate_for(raw_once, &pair.a, seconds / ROUNDS);
        double d = rate_for(ts_once, cached_ts, seconds / ROUNDS);
        pair_rate = a > pair_rate ? a : pair_rate;
        cold = b > cold ? b : cold;
        raw2 = c > raw2 ? c : raw2;
        cached = d > cached ? d : cached;
    }
    EVP_PKEY_CTX_free(pair.a.ctx);
    EVP_PKEY_CTX_free(pair.b.ctx);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(spk);
    bench_print("ecdsa_p256_verify_raw_pair", pair_rate, "/s");
    bench_print("transparent_verify_cold", cold, "/s");
    bench_print("ecdsa_p256_verify_raw_again", raw2, "/s");
    bench_print("transparent_verify_cached", cached, "/s");
    ts_free(cold_ts);
    ts_free(cached_ts);
    scitt_cose_keyset_free(memo_keys);

    printf("ratio sign1_verify/ecdsa_raw: %.3f\n", sign1 / raw);
    printf("ratio transparent_verify_cold/ecdsa_raw_pair: %.3f\n", cold / pair_rate);
    printf("ratio transparent_verify_cached/ecdsa_raw_again: %.3f\n", cached / raw2);
    scitt_cose_keyset_free(keys);
    free(s.m);
    scitt_dynbuf_clear(&stmt);
    scitt_cose_key_free(issuer);
    scitt_cose_key_free(service);
    return 0;
}
