/*
 * scitt tool benchmark. Prints, one per line:
 *   es384_signature_verify: n /s   the signature step alone over ["Signature1", protected, h'',
 *                                  root] with a P-384 key (the baseline of the next figure)
 *   ccf_receipt_verify: n /s       a whole CCF (vds 2) receipt for leaf 700000 of a 10^6-leaf tree
 *                                  (20-element path): decode, data hash, leaf digest, left/right
 *                                  fold, kid lookup, signature
 *   ratio ccf_receipt/signature: x
 *   memcpy_tile_response: n MB/s   copying a scittd tile response (8 KiB body) (the baseline)
 *   http_parse_tile_response: n MB/s  libscitt-client's HTTP/1.1 parser on the same bytes, body
 *                                  copied
 *   ratio http_parse/memcpy: x
 * Rounds alternate between each figure and its baseline; the best round of each is kept.
 * Usage: tools_bench [seconds per round, default 0.5]
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ccf_util.h"
#include "http.h"
#include "scitt/receipt.h"

#define ROUNDS 5
static double seconds = 0.5;

static void need(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "tools_bench: %s failed\n", what);
        exit(1);
    }
}

static double rate(bool (*fn)(void *), void *ctx)
{
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        for (int i = 0; i < 32; i++) {
            need(fn(ctx), "an operation");
        }
        n += 32;
        t = bench_now();
    } while (t - t0 < seconds);
    return (double)n / (t - t0);
}

typedef struct ccf_ctx {
    scitt_cose_key *key;
    scitt_cose_keyset *keys;
    scitt_span entry, receipt;
    scitt_cose_sign1 m;
    uint8_t root[32];
} ccf_ctx;

static bool do_receipt(void *p)
{
    ccf_ctx *c = p;
    return scitt_receipt_verify_inclusion(c->receipt, c->entry, c->keys, 0, NULL) == SCITT_OK;
}

static bool do_signature(void *p)
{
    ccf_ctx *c = p;
    return scitt_cose_signature_verify(c->key, c->m.hdr.alg, c->m.protected_map,
                                       scitt_span_make(NULL, 0), scitt_span_make(c->root, 32),
                                       c->m.signature) == SCITT_OK;
}

typedef struct http_ctx {
    scitt_span raw;
    scitt_dynbuf body;
    uint8_t *copy;
} http_ctx;

static bool do_parse(void *p)
{
    http_ctx *h = p;
    scitt__http_response r;
    return scitt__http_parse_response(h->raw, false, false, &r, &h->body) == SCITT_OK &&
           r.status == 200;
}

static bool do_memcpy(void *p)
{
    http_ctx *h = p;
    memcpy(h->copy, h->raw.ptr, h->raw.len);
    return h->copy[0] == 'H';
}

/* Best of ROUNDS alternating rounds of @p a and its baseline @p b. */
static void pair(bool (*a)(void *), bool (*b)(void *), void *ctx, double *ra, double *rb)
{
    *ra = *rb = 0;
    for (int i = 0; i < ROUNDS; i++) {
        double x = rate(b, ctx), y = rate(a, ctx);
        *rb = x > *rb ? x : *rb;
        *ra = y > *ra ? y : *ra;
    }
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: tools_bench [SECONDS]\n  CCF receipt verification and HTTP response parsing "
               "against their baselines\n  (default 0.5 s per round)\n");
    if (argc > 1) {
        seconds = atof(argv[1]);
        need(seconds > 0, "the argument");
    }
    /* A CCF receipt for leaf 700000 of a 2^20-leaf tree: only the path's length matters for the
     * cost, so its 20 siblings are made up and the root is folded from them the profile's way. */
    ccf_ctx c;
    memset(&c, 0, sizeof(c));
    need(scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &c.key) == SCITT_OK, "keygen");
    char kid[65];
    need(ccf_kid(c.key, kid) == SCITT_OK, "kid");
    need(scitt_cose_key_set_kid(c.key, scitt_span_make(kid, 64)) == SCITT_OK, "set kid");
    need(scitt_cose_keyset_new(&c.keys) == SCITT_OK && scitt_cose_keyset_add(c.keys, c.key) == 0,
         "keyset");
    static const uint8_t entry[] =
        "d2 84 a statement of about a hundred bytes, standing in for the "
        "registered form of a real one.";
    c.entry = scitt_span_make(entry, sizeof(entry) - 1);
    uint8_t ith[32], dh[32], h[32];
    memset(ith, 7, 32);
    scitt_sha256(entry, sizeof(entry) - 1, dh);
    ccf_leaf_digest(ith, "ce:2.700000:ab", dh, h);
    scitt_dynbuf proof, rb;
    scitt_dynbuf_init(&proof, 0);
    scitt_dynbuf_init(&rb, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &proof);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    scitt_cbor_put_array(&w, 3);
    scitt_cbor_put_bytes(&w, scitt_span_make(ith, 32));
    scitt_cbor_put_cstr(&w, "ce:2.700000:ab");
    scitt_cbor_put_bytes(&w, scitt_span_make(dh, 32));
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_array(&w, 20);
    for (unsigned i = 0; i < 20; i++) {
        uint8_t sib[32];
        memset(sib, (int)i, 32);
        bool left = (700000u >> i) & 1;
        scitt_cbor_put_array(&w, 2);
        scitt_cbor_put_bool(&w, left);
        scitt_cbor_put_bytes(&w, scitt_span_make(sib, 32));
        if (left) {
            ccf_node(sib, h, h);
        } else {
            ccf_node(h, sib, h);
        }
    }
    memcpy(c.root, h, 32);
    need(w.err == SCITT_OK, "proof");
    need(ccf_receipt(c.key, scitt_span_make(proof.ptr, proof.len), c.root, false, &rb) == SCITT_OK,
         "receipt");
    c.receipt = scitt_span_make(rb.ptr, rb.len);
    need(scitt_cose_sign1_decode(c.receipt, 0, &c.m) == SCITT_OK, "decode");
    need(do_receipt(&c) && do_signature(&c), "the receipt");
    double r_receipt, r_sig;
    pair(do_receipt, do_signature, &c, &r_receipt, &r_sig);
    bench_print("es384_signature_verify", r_sig, "/s");
    bench_print("ccf_receipt_verify", r_receipt, "/s");
    bench_print("ratio ccf_receipt/signature", r_receipt / r_sig, "x");

    /* A tile response as scittd sends it. */
    http_ctx hc;
    scitt_dynbuf raw;
    scitt_dynbuf_init(&raw, 0);
    scitt_dynbuf_str(&raw, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                           "Cache-Control: public, max-age=31536000, immutable\r\n"
                           "Content-Length: 8192\r\nConnection: close\r\n\r\n");
    uint8_t *body = scitt_dynbuf_reserve(&raw, 8192);
    need(body != NULL, "buffer");
    memset(body, 0x5a, 8192);
    hc.raw = scitt_span_make(raw.ptr, raw.len);
    scitt_dynbuf_init(&hc.body, 1u << 20);
    hc.copy = malloc(raw.len);
    double r_parse, r_copy;
    pair(do_parse, do_memcpy, &hc, &r_parse, &r_copy);
    double mb = (double)raw.len / 1e6;
    bench_print("memcpy_tile_response", r_copy * mb, "MB/s");
    bench_print("http_parse_tile_response", r_parse * mb, "MB/s");
    bench_print("ratio http_parse/memcpy", r_parse / r_copy, "x");
    free(hc.copy);
    scitt_dynbuf_clear(&hc.body);
    scitt_dynbuf_clear(&raw);
    scitt_dynbuf_clear(&proof);
    scitt_dynbuf_clear(&rb);
    scitt_cose_keyset_free(c.keys);
    scitt_cose_key_free(c.key);
    return 0;
}
