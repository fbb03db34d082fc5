/*
 * The check stage alone, in process: scitt_service_check (strict decode, SCITT profile, the
 * registration policy, the x5chain key through the key cache, the issuer signature, the registered
 * form, entry ID and leaf hash) on distinct ~1 KB ES256 statements from 1,000 signers whose
 * certificates one P-256 root CA issued, against raw OpenSSL P-256 verification measured in
 * alternating rounds, under the development policy (the x5chain leaf's key) and under the
 * production policy bench/load uses (the x5chain validated to the root CA; the result is cached
 * with the window in which it holds, docs/policy.md, so a warm check hashes the chain and
 * compares the instant). Prints:
 *   ecdsa_p256_verify_raw: n /s              one key, a precomputed digest, a reused context
 *   service_check: n /s                      development policy, one thread
 *   service_check_production: n /s           production policy, one thread
 *   ratio service_check/ecdsa_raw: x
 *   ratio service_check_production/ecdsa_raw: x
 * and first "filesystem: TYPE DIR" for the service's data directory (opened, never appended to).
 * With --count N it makes instead exactly N warm checks under each policy, in the functions
 * counted_development and counted_production, for an instruction count that the machine's load
 * does not disturb:
 *   valgrind --tool=callgrind build/bench/check_bench --count 2000
 *   callgrind_annotate --inclusive=yes callgrind.out.PID | grep counted_
 * (inclusive instructions of each function / N = instructions per check).
 * Usage: check_bench [seconds, default 2] | check_bench --count N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Exactly @p n checks, each in a function of its own so that a profiler can tell them apart. */
static __attribute__((noinline)) void counted(scitt_service *svc, scitt_dynbuf *st, size_t *next,
                                              long n)
{
    char reason[256];
    for (long i = 0; i < n; i++) {
        scitt_dynbuf *b = &st[(*next)++ % STATEMENTS];
        scitt_prepared p;
        if (scitt_service_check(svc, scitt_span_make(b->ptr, b->len), &p, reason, sizeof(reason)) !=
            SCITT_OK) {
            fprintf(stderr, "check_bench: refused: %s\n", reason);
            exit(1);
        }
        scitt_prepared_clear(&p);
    }
}

static __attribute__((noinline)) void counted_development(scitt_service *svc, scitt_dynbuf *st,
                                                          size_t *next, long n)
{
    counted(svc, st, next, n);
}

static __attribute__((noinline)) void counted_production(scitt_service *svc, scitt_dynbuf *st,
                                                         size_t *next, long n)
{
    counted(svc, st, next, n);
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: check_bench [SECONDS] | check_bench --count N\n  the check stage "
               "(scitt_service_check) on one thread against raw ECDSA P-256 verify\n  (default 2 "
               "s per figure); --count N: exactly N warm checks per policy, for callgrind\n");
    long count = 0;
    double seconds = 2;
    if (argc > 2 && !strcmp(argv[1], "--count")) {
        count = atol(argv[2]);
    } else if (argc > 1) {
        seconds = atof(argv[1]);
    }
    if (!(seconds > 0) || count < 0 || (argc > 1 && !strcmp(argv[1], "--count") && count == 0)) {
        fprintf(stderr, "usage: check_bench [seconds] | check_bench --count N\n");
        return 2;
    }
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/scitt-check-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        return 2;
    }
    bench_fs_record("check_bench", dir, false);
    sr_fleet *fleet = sr_fleet_new_ca(KEYS);
    char *policy = sr_fleet_policy(fleet);
    scitt_service *svc[2] = {NULL, NULL}; /* development, production */
    for (int p = 0; p < 2; p++) {
        char sub[4200], ks_path[4200];
        snprintf(sub, sizeof(sub), "%s/%s", dir, p ? "production" : "development");
        scitt_keystore ks;
        scitt_keystore_file(sub, NULL, ks_path, sizeof(ks_path), &ks);
        scitt_service_config sc;
        memset(&sc, 0, sizeof(sc));
        sc.data_dir = sub;
        sc.keystore = &ks;
        if (p) {
            sc.policy_json = scitt_span_make(policy, policy ? strlen(policy) : 0);
        }
        char reason[512];
        if (!policy || mkdir(sub, 0700) != 0 ||
            scitt_service_open(&sc, &svc[p], reason, sizeof(reason)) != SCITT_OK) {
            fprintf(stderr, "check_bench: %s\n", policy ? reason : "no policy");
            return 1;
        }
    }
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
    /* warm the key caches: every signer's certificate seen once by each service */
    size_t next = 0, pnext = 0;
    while (next < KEYS) {
        check_for(svc[0], st, &next, 0.01);
    }
    while (pnext < KEYS) {
        check_for(svc[1], st, &pnext, 0.01);
    }
    double raw = 0, chk = 0, prod = 0;
    if (count > 0) {
        counted_development(svc[0], st, &next, count);
        counted_production(svc[1], st, &pnext, count);
        printf("counted: %ld checks per policy (counted_development, counted_production)\n", count);
    }
    for (int round = 0; round < ROUNDS && count == 0; round++) {
        double a = raw_for(&r, seconds / ROUNDS);
        double b = check_for(svc[0], st, &next, seconds / ROUNDS);
        double c = check_for(svc[1], st, &pnext, seconds / ROUNDS);
        raw = a > raw ? a : raw;
        chk = b > chk ? b : chk;
        prod = c > prod ? c : prod;
    }
    if (count == 0) {
        bench_print("ecdsa_p256_verify_raw", raw, "/s");
        bench_print("service_check", chk, "/s");
        bench_print("service_check_production", prod, "/s");
        printf("ratio service_check/ecdsa_raw: %.3f\n", chk / raw);
        printf("ratio service_check_production/ecdsa_raw: %.3f\n", prod / raw);
        printf("ratio service_check_production/service_check: %.3f\n", prod / chk);
    }
    EVP_PKEY_CTX_free(s);
    EVP_PKEY_CTX_free(r.v);
    EVP_PKEY_free(k);
    for (size_t i = 0; i < STATEMENTS; i++) {
        scitt_dynbuf_clear(&st[i]);
    }
    free(st);
    sr_fleet_free(fleet);
    free(policy);
    scitt_service_close(svc[0]);
    scitt_service_close(svc[1]);
    sr_rm_tree(dir);
    return 0;
}
