/*
 * The two storage backends side by side in one run: durable ledger appends (the sequencer with
 * its batching, signatures and indexes, in process) and receipts for random entries, on LMDB in
 * a temporary directory and on a PostgreSQL server the bench starts on loopback
 * (tests/pg_server.h). The headline is the ratio PostgreSQL / LMDB of appends per second.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_server.h"
#include "scitt/ledger.h"
#include "scitt/merkle.h"
#include "scitt/service.h"

typedef struct window {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t in_flight;
    uint64_t failed;
} window;

static void done(void *ctx, const scitt_ledger_result *res)
{
    window *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->in_flight--;
    if (res->err != SCITT_OK) {
        w->failed++;
    }
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

typedef struct run {
    double append;   /* entries/s */
    double receipts; /* /s */
} run;

/* Appends @p n entries of 400..600 bytes (in flight at most 8192), then reads receipts for 2 s. */
static int measure(const char *dir, const char *storage, uint64_t n, run *out)
{
    scitt_keystore ks;
    char ks_path[4200];
    scitt_keystore_file(dir, NULL, ks_path, sizeof(ks_path), &ks);
    scitt_service_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = dir;
    cfg.storage = storage;
    cfg.issuer = "bench.example";
    cfg.keystore = &ks;
    cfg.map_size = (uint64_t)4 << 30;
    char reason[256];
    scitt_service *s;
    if (scitt_service_open(&cfg, &s, reason, sizeof(reason)) != SCITT_OK) {
        fprintf(stderr, "storage_bench: %s\n", reason);
        return 1;
    }
    scitt_ledger *l = scitt_service_ledger(s);
    uint8_t *bufs = malloc((size_t)n * 600);
    scitt_submission *subs = calloc((size_t)n, sizeof(*subs));
    if (!bufs || !subs) {
        return 1;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *b = bufs + i * 600;
        size_t len = 400 + (size_t)(i * 7919 % 200);
        for (size_t k = 0; k < len; k++) {
            b[k] = (uint8_t)(i * 31 + k * 17);
        }
        memcpy(b, &i, sizeof(i));
        subs[i].entry = scitt_span_make(b, len);
        scitt_sha256(b, len, subs[i].entry_id);
        scitt_merkle_leaf_hash(subs[i].entry, subs[i].leaf_hash);
        subs[i].digest = scitt_span_make(subs[i].entry_id, 32);
        subs[i].policy_index = scitt_service_policy_index(s);
    }
    window w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        pthread_mutex_lock(&w.mu);
        while (w.in_flight >= 8192) {
            pthread_cond_wait(&w.cv, &w.mu);
        }
        w.in_flight++;
        pthread_mutex_unlock(&w.mu);
        if (scitt_ledger_submit(l, &subs[i], done, &w) != SCITT_OK) {
            fprintf(stderr, "storage_bench: submit failed\n");
            return 1;
        }
    }
    pthread_mutex_lock(&w.mu);
    while (w.in_flight > 0) {
        pthread_cond_wait(&w.cv, &w.mu);
    }
    pthread_mutex_unlock(&w.mu);
    out->append = (double)n / (bench_now() - t0);
    free(bufs);
    free(subs);
    if (w.failed) {
        fprintf(stderr, "storage_bench: %llu submissions failed\n", (unsigned long long)w.failed);
        return 1;
    }
    uint64_t seed = 12345, count = 0;
    scitt_dynbuf rec;
    scitt_dynbuf_init(&rec, 0);
    double now;
    t0 = bench_now();
    do {
        scitt_ledger_read *r;
        if (scitt_ledger_read_begin(l, &r) != SCITT_OK) {
            return 1;
        }
        for (int k = 0; k < 64; k++) {
            rec.len = 0;
            if (scitt_service_receipt(s, r, 1 + bench_rand(&seed) % n, 0, &rec) != SCITT_OK) {
                fprintf(stderr, "storage_bench: receipt failed\n");
                return 1;
            }
        }
        scitt_ledger_read_end(r);
        count += 64;
        now = bench_now();
    } while (now - t0 < 2.0);
    scitt_dynbuf_clear(&rec);
    out->receipts = (double)count / (now - t0);
    scitt_service_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: storage_bench [ENTRIES]\n  durable ledger appends and receipt reads on "
               "LMDB and on PostgreSQL (a server\n  started on loopback), in one run (default "
               "20000 entries)\n");
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
    const char *tmp = getenv("TMPDIR");
    char base[4096], lmdb_dir[4200], pg_keys[4200], cmd[4300];
    snprintf(base, sizeof(base), "%s/scitt-storage-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) {
        fprintf(stderr, "storage_bench: cannot create a directory\n");
        return 2;
    }
    if (bench_fs_record("storage_bench", base, true) != 0) {
        return 1;
    }
    snprintf(lmdb_dir, sizeof(lmdb_dir), "%s/lmdb", base);
    snprintf(pg_keys, sizeof(pg_keys), "%s/pg-keys", base);
    pg_server pg;
    memset(&pg, 0, sizeof(pg));
    if (!pg_server_start(&pg)) {
        fprintf(stderr, "storage_bench: cannot start PostgreSQL\n");
        pg_server_destroy(&pg);
        return 2;
    }
    printf("postgresql: %s/postgres, a local server on loopback, default settings "
           "(fsync on, synchronous_commit on)\n",
           SCITT_PG_BIN);
    run lm, pq;
    int rc = measure(lmdb_dir, NULL, n, &lm);
    rc = rc ? rc : measure(pg_keys, pg.url, n, &pq);
    pg_server_destroy(&pg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0) {
        fprintf(stderr, "storage_bench: cannot remove %s\n", base);
    }
    if (rc) {
        return rc;
    }
    bench_print("lmdb_append", lm.append, "entries/s");
    bench_print("postgresql_append", pq.append, "entries/s");
    bench_print("lmdb_receipts", lm.receipts, "/s");
    bench_print("postgresql_receipts", pq.receipts, "/s");
    bench_print("ratio postgresql_append/lmdb_append", pq.append / lm.append, "");
    bench_print("ratio postgresql_receipts/lmdb_receipts", pq.receipts / lm.receipts, "");
    return 0;
}
