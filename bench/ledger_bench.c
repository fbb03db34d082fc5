/*
 * Ledger benchmark, in process: statements are pre-verified (synthetic ~1 KB entries with their
 * IDs and leaf hashes), so it measures the ledger alone — batching, tiles, indexes, one ES256
 * receipt signature and one Ed25519 checkpoint per batch, durable LMDB commits. Prints:
 *   lmdb_raw_append: n records/s      raw LMDB durable appends, same sizes, 1024 per transaction
 *   ledger_append: n entries/s        N entries through the sequencer, batches of 1024, durable
 *   proof: n /s                       receipts (proof from tiles + encoding) for random entries
 *   reopen: x ms                      closing and opening the service at N entries
 *   storage_overhead: n bytes/entry   (database size - statement bytes) / entries
 *   ratio ledger_append/lmdb_raw_append: x
 * and first "filesystem: TYPE DIR", where both write; a file system kept in memory (tmpfs) is
 * refused, since the figures are of durable commits.
 * Usage: ledger_bench [entries] [dir]   (default 1000000 entries in a fresh directory under TMPDIR)
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "scitt/service.h"

#define ENTRY_BASE   960
#define ENTRY_SPREAD 128

static size_t entry_len(uint64_t i)
{
    return ENTRY_BASE + (size_t)(i * 2654435761u % ENTRY_SPREAD);
}

static void entry_fill(uint8_t *buf, uint64_t i, size_t len)
{
    uint64_t s = i * 0x9e3779b97f4a7c15ull + 1;
    for (size_t k = 0; k < len; k += 8) {
        uint64_t v = bench_rand(&s);
        memcpy(buf + k, &v, len - k < 8 ? len - k : 8);
    }
    memcpy(buf, &i, sizeof(i));
}

/* Removes @p dir and everything under it (the ledger keeps its index in a subdirectory). */
static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            rm_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

static double lmdb_raw(const char *dir, uint64_t n)
{
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    if (mdb_env_create(&env) || mdb_env_set_mapsize(env, (size_t)64 << 30) ||
        mdb_env_open(env, dir, 0, 0600)) {
        fprintf(stderr, "ledger_bench: cannot open LMDB in %s\n", dir);
        exit(2);
    }
    uint8_t buf[ENTRY_BASE + ENTRY_SPREAD];
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        if (i % 1024 == 0) {
            if (txn && mdb_txn_commit(txn)) {
                exit(2);
            }
            if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, NULL, 0, &dbi)) {
                exit(2);
            }
        }
        uint8_t key[8];
        for (int k = 0; k < 8; k++) {
            key[k] = (uint8_t)(i >> (56 - 8 * k));
        }
        size_t len = entry_len(i);
        entry_fill(buf, i, len);
        MDB_val kv = {8, key}, vv = {len, buf};
        if (mdb_put(txn, dbi, &kv, &vv, MDB_APPEND)) {
            exit(2);
        }
    }
    if (mdb_txn_commit(txn)) {
        exit(2);
    }
    double rate = (double)n / (bench_now() - t0);
    mdb_env_close(env);
    return rate;
}

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

static scitt_service *open_service(const char *dir, scitt_keystore *ks, char *ks_path, double *ms)
{
    scitt_keystore_file(dir, NULL, ks_path, 4200, ks);
    scitt_service_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = dir;
    cfg.issuer = "bench.example";
    cfg.origin = "bench.example/log";
    cfg.keystore = ks;
    cfg.batch_max = 1024;
    cfg.map_size = (uint64_t)64 << 30;
    char reason[256];
    scitt_service *s;
    double t0 = bench_now();
    if (scitt_service_open(&cfg, &s, reason, sizeof(reason)) != SCITT_OK) {
        fprintf(stderr, "ledger_bench: %s\n", reason);
        exit(2);
    }
    if (ms) {
        *ms = (bench_now() - t0) * 1000;
    }
    return s;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: ledger_bench [ENTRIES] [DIR]\n  durable ledger appends against raw LMDB "
               "appends, proofs, reopen and storage overhead\n  (default 1000000 entries in a "
               "fresh directory under TMPDIR)\n");
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    char base[4096];
    if (argc > 2) {
        snprintf(base, sizeof(base), "%s", argv[2]);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof(base), "%s/scitt-ledger-bench-XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(base)) {
            fprintf(stderr, "ledger_bench: cannot create a directory under %s\n",
                    tmp ? tmp : "/tmp");
            return 2;
        }
    }
    if (bench_fs_record("ledger_bench", base, true) != 0) {
        if (argc <= 2) {
            rmdir(base);
        }
        return 1;
    }
    char raw_dir[4200], led_dir[4200], ks_path[4200];
    snprintf(raw_dir, sizeof(raw_dir), "%s/raw", base);
    snprintf(led_dir, sizeof(led_dir), "%s/ledger", base);
    if (mkdir(raw_dir, 0700) != 0 && errno != EEXIST) {
        return 2;
    }
    double raw = lmdb_raw(raw_dir, n);
    bench_print("lmdb_raw_append", raw, "records/s");
    rm_tree(raw_dir);

    scitt_keystore ks;
    scitt_service *s = open_service(led_dir, &ks, ks_path, NULL);
    scitt_ledger *l = scitt_service_ledger(s);
    /*
     * The check stage's work (making the entry, its ID and leaf hash, the index values) is done
     * before the clock starts: in the server it runs on other threads. Entries are made in
     * chunks so memory stays bounded.
     */
    enum { CHUNK = 65536 };
    typedef struct prepared {
        scitt_submission sub;
        char iss[32], subj[32];
    } prepared;
    prepared *subs = calloc(CHUNK, sizeof(*subs));
    uint8_t *bufs = malloc((size_t)CHUNK * (ENTRY_BASE + ENTRY_SPREAD));
    if (!subs || !bufs) {
        fprintf(stderr, "ledger_bench: out of memory\n");
        return 2;
    }
    window w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    uint64_t bytes = 0;
    double timed = 0;
    for (uint64_t base_i = 0; base_i < n; base_i += CHUNK) {
        uint64_t m = n - base_i < CHUNK ? n - base_i : CHUNK;
        for (uint64_t j = 0; j < m; j++) {
            uint64_t i = base_i + j;
            prepared *p = &subs[j];
            uint8_t *buf = bufs + j * (ENTRY_BASE + ENTRY_SPREAD);
            size_t len = entry_len(i);
            entry_fill(buf, i, len);
            bytes += len;
            memset(&p->sub, 0, sizeof(p->sub));
            p->sub.entry = scitt_span_make(buf, len);
            scitt_sha256(buf, len, p->sub.entry_id);
            scitt_merkle_leaf_hash(p->sub.entry, p->sub.leaf_hash);
            snprintf(p->iss, sizeof(p->iss), "https://ci%llu.example",
                     (unsigned long long)(i % 50));
            snprintf(p->subj, sizeof(p->subj), "artifact-%llu", (unsigned long long)i);
            p->sub.iss = scitt_span_str(p->iss);
            p->sub.sub = scitt_span_str(p->subj);
            p->sub.digest = scitt_span_make(p->sub.entry_id, 32);
            p->sub.policy_index = scitt_service_policy_index(s);
        }
        double t0 = bench_now();
        for (uint64_t j = 0; j < m; j++) {
            pthread_mutex_lock(&w.mu);
            while (w.in_flight >= 8192) {
                pthread_cond_wait(&w.cv, &w.mu);
            }
            w.in_flight++;
            pthread_mutex_unlock(&w.mu);
            if (scitt_ledger_submit(l, &subs[j].sub, done, &w) != SCITT_OK) {
                fprintf(stderr, "ledger_bench: submit failed\n");
                return 1;
            }
        }
        /* the chunk's buffers are reused: wait until the ledger has copied them all */
        pthread_mutex_lock(&w.mu);
        while (w.in_flight > 0) {
            pthread_cond_wait(&w.cv, &w.mu);
        }
        pthread_mutex_unlock(&w.mu);
        timed += bench_now() - t0;
    }
    free(subs);
    free(bufs);
    double append = (double)n / timed;
    if (w.failed) {
        fprintf(stderr, "ledger_bench: %llu submissions failed\n", (unsigned long long)w.failed);
        return 1;
    }
    bench_print("ledger_append", append, "entries/s");

    /* receipts for random entries */
    uint64_t seed = 12345, count = 0;
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    double t0 = bench_now();
    double now;
    do {
        scitt_ledger_read *r;
        if (scitt_ledger_read_begin(l, &r) != SCITT_OK) {
            return 1;
        }
        for (int k = 0; k < 256; k++) {
            out.len = 0;
            if (scitt_service_receipt(s, r, bench_rand(&seed) % n, 0, &out) != SCITT_OK) {
                return 1;
            }
        }
        scitt_ledger_read_end(r);
        count += 256;
        now = bench_now();
    } while (now - t0 < 2.0);
    scitt_dynbuf_clear(&out);
    bench_print("proof", (double)count / (now - t0), "/s");

    scitt_ledger_stats st;
    scitt_ledger_get_stats(l, &st);
    scitt_service_close(s);
    double reopen_ms;
    s = open_service(led_dir, &ks, ks_path, &reopen_ms);
    bench_print("reopen", reopen_ms, "ms");
    scitt_service_close(s);
    bench_print("storage_overhead", ((double)st.db_bytes - (double)bytes) / (double)n,
                "bytes/entry");
    bench_print("ratio ledger_append/lmdb_raw_append", append / raw, "");
    if (argc <= 2) {
        rm_tree(led_dir);
        rmdir(base);
    }
    return 0;
}
