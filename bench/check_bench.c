/*
 * The check stage alone, in process: scitt_service_check (strict decode, SCITT profile, the
 * registration policy, the x5chain key through the key cache, the issuer signature, the registered
 * form, entry ID and leaf hash) on distinct ~1 KB ES256 statements from 1,000 signers, against raw
 * OpenSSL P-256 verification measured in alternating rounds. Prints:
 *   ecdsa_p256_verify_raw: n /s    one key, a precomputed digest, a reused context (the ceiling)
 *   service_check: n /s            one thread
 *   ratio service_check/ecdsa_raw: x
 * and first "filesystem: TYPE DIR" for the service's data directory (opened, never appended to).
 * Usage: check_bench [seconds, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "bench.h"
#include "scitt/service.h"
#include "scittd_run.h"

#define KEYS       1000
#define STATEMENTS 8192
#define ROUNDS     5

typedef struct raw_ctx {
    EVP_PKEY_CTX *v;
    uint8_t dgst[32], sig[80];
    size_t siglen;
} raw_ctx;

static double raw_for(raw_ctx *r, double secs)
{
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        for (int i = 0; i < 64; i++) {
            if (EVP_PKEY_verify(r->v, r->sig, r->siglen, r->dgst, sizeof(r->dgst)) != 1) {
                abort();
            }
        }
        n += 64;
        t = bench_now();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

static double check_for(scitt_service *svc, scitt_dynbuf *st, size_t *next, double secs)
{
    uint64_t n = 0;
    double t0 = bench_now(), t;
    char reason[256];
    do {
        for (int i = 0; i < 64; i++) {
            scitt_dynbuf *b = &st[(*next)++ % STATEMENTS];
            scitt_prepared p;
            if (scitt_service_check(svc, scitt_span_make(b->ptr, b->len), &p, reason,
                                    sizeof(reason)) != SCITT_OK) {
                fprintf(stderr, "check_bench: refused: %s\n", reason);
                exit(1);
            }
            scitt_prepared_clear(&p);
        }
        n += 64;
        t = bench_now();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: check_bench [SECONDS]\n  the check stage (scitt_service_check) on one "
               "thread against raw ECDSA P-256 verify\n  (default 2 s per figure)\n");
    double seconds = argc > 1 ? atof(argv[1]) : 2;
    if (!(seconds > 0)) {
        fprintf(stderr, "usage: check_bench [seconds]\n");
        return 2;
    }
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/scitt-check-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        return 2;
    }
    bench_fs_record("check_bench", dir, false);
    char ks_path[4200];
    scitt_keystore ks;
    scitt_keystore_file(dir, NULL, ks_path, sizeof(ks_path), &ks);
    scitt_service_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.data_dir = dir;
    sc.keystore = &ks;
    scitt_service *svc;
    char reason[512];
    if (scitt_service_open(&sc, &svc, reason, sizeof(reason)) != SCITT_OK) {
        fprintf(stderr, "check_bench: %s\n", reason);
        return 1;
    }
    sr_fleet *fleet = sr_fleet_new(KEYS);
    scitt_dynbuf *st = calloc(STATEMENTS, sizeof(*st));
    for (size_t i = 0; i < STATEMENTS; i++) {
        scitt_dynbuf_init(&st[i], 0);
        if (sr_statement(fleet, 0, i, &st[i]) != 0) {
            return 1;
        }
    }
    raw_ctx r;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    memset(r.dgst, 1, sizeof(r.dgst));
    r.siglen = sizeof(r.sig);
    EVP_PKEY_CTX *s = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_sign_init(s);
    EVP_PKEY_sign(s, r.sig, &r.siglen, r.dgst, sizeof(r.dgst));
    r.v = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_verify_init(r.v);
    size_t next = 0;
    check_for(svc, st, &next, 0.3); /* warm the key cache */
    double raw = 0, chk = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double a = raw_for(&r, seconds / ROUNDS);
        double b = check_for(svc, st, &next, seconds / ROUNDS);
        raw = a > raw ? a : raw;
        chk = b > chk ? b : chk;
    }
    bench_print("ecdsa_p256_verify_raw", raw, "/s");
    bench_print("service_check", chk, "/s");
    printf("ratio service_check/ecdsa_raw: %.3f\n", chk / raw);
    EVP_PKEY_CTX_free(s);
    EVP_PKEY_CTX_free(r.v);
    EVP_PKEY_free(k);
    for (size_t i = 0; i < STATEMENTS; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
    free(st);
    sr_fleet_free(fleet);
    scitt_service_close(svc);
    sr_rm_tree(dir);
    return 0;
}
