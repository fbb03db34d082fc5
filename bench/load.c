/*
 * bench/load: registrations against running scittd daemons with durable commits, under a
 * production registration policy and under the development policy, in the same run.
 *
 * It pre-signs distinct ES256 statements of ~1 KB (1,000 issuer keys, each with a certificate
 * issued by one P-256 root CA, carried in x5chain, so the server's key cache holds them all, as it
 * would for a fleet of CI signers) and starts two scittd (virtual platform) side by side on a
 * data directory it makes (under TMPDIR; a file system kept in memory is refused):
 *   production    --policy with one issuer rule whose x5chain must validate to the root CA
 *                 (x509_roots: RFC 5280 path validation at every registration), ES256 only
 *   development   no --policy: any issuer, the x5chain leaf's key, no path validation
 * Every statement is sent once, to one of them. A response counts as a registration only when it
 * is a 201 whose receipt verifies for that statement against the receipt key the server serves
 * (every 201 by default: the signature of a tree head is verified once and memoised, the proof of
 * every receipt is checked; --verify-every N checks every N-th). Any other response, a receipt
 * that does not verify or a failed connection fails the benchmark (exit 1) and is printed with the
 * figures, on stdout. It prints:
 *   filesystem: TYPE DIR, policy_production: ..., receipts_verified: ...   how it was measured
 *   ceiling_ecdsa_p256_verify: n /s   OpenSSL P-256 verifies per second, one thread per core at
 *                                     once, before and after the closed loops (the mean)
 *   registrations_production: n /s    closed loop, verified 201s per second (mean of the rounds)
 *   registrations_development: n /s   the same, in rounds alternating with the production ones
 *   entries_per_batch_P: x            the mean batch the sequencer committed in P's closed loop
 *   server_cpu_per_registration_P: x us  that scittd's CPU (user + system, all threads) over its
 *                                     closed-loop rounds per entry it appended: its own cost,
 *                                     which other load on the cores does not change as it does
 *                                     the rates
 *   latency_P_p50 / p99 / p999: x ms  at a fixed offered rate (5,000/s by default), per policy;
 *                                     a request still unanswered at the end counts at its age
 *                                     then (unanswered_P says how many)
 *   ratio registrations_P/ceiling: x, ratio production/development: x
 *   database_*_postgresql (with --storage): the database's CPU per registration (the server the
 *                                     bench started: postmaster and all its processes), commits
 *                                     and WAL syncs per batch, rows written per registration
 *                                     (pg_stat_database, pg_stat_wal), over the closed loops
 * The load client runs on the same machine and shares its cores with the servers.
 * With --receipt-key URI both daemons run the development policy, and the second signs its
 * receipts with the key that PKCS#11 URI names (scittd --receipt-key): the figures are then
 * named file_key and pkcs11_key, and the last line is ratio pkcs11_key/file_key
 * (bench/pkcs11_load.sh makes a SoftHSM2 token for it).
 * With --storage URL both daemons run the development policy, the first with its log in LMDB,
 * the second in the PostgreSQL database URL names (scittd --storage; "new": a server the bench
 * starts with initdb under TMPDIR, default settings, so fsync and synchronous_commit on): the
 * figures are named lmdb and postgresql, and the last line is ratio postgresql/lmdb.
 * Usage: load [--scittd PATH] [--rate N] [--seconds S] [--connections C] [--keep DIR]
 *             [--verify-every N] [--statements N] [--receipt-key URI] [--storage URL|new]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bench.h"
#include "pg_server.h"
#include "scittd_run.h"

#define KEYS   1000
#define ROUNDS 2 /* closed-loop rounds per policy, alternating */
#define WARMUP 1.0
#define PROD   0
#define DEV    1

static const char *policy_name[2] = {"production", "development"};

/* The server's batch and entry counters (from /metrics), to report the mean batch size. */
static void metric(int port, double *batches, double *entries)
{
    static char body[1 << 16];
    if (hc_fetch("127.0.0.1", port, "/metrics", body, sizeof(body)) != 200) {
        return;
    }
    const char *b = strstr(body, "\nscittd_batches_total ");
    const char *e = strstr(body, "\nscittd_tree_size ");
    if (b && e) {
        *batches = atof(b + strlen("\nscittd_batches_total "));
        *entries = atof(e + strlen("\nscittd_tree_size "));
    }
}

/*
 * The CPU seconds (user + system) of the PostgreSQL server the bench started: the postmaster
 * with the children it reaped, and every process it has now (the backends serving scittd, the
 * WAL writer, the checkpointer...). -1 when there is none.
 */
static double pg_cpu_s(const pg_server *pg)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/postmaster.pid", pg->data);
    FILE *f = pg->running ? fopen(path, "r") : NULL;
    long pm = 0;
    if (!f || fscanf(f, "%ld", &pm) != 1) {
        pm = 0;
    }
    if (f) {
        fclose(f);
    }
    if (pm <= 0) {
        return -1;
    }
    double ticks = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        long pid = atol(e->d_name);
        if (pid <= 0) {
            continue;
        }
        char buf[1024];
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        FILE *s = fopen(path, "r");
        size_t n = s ? fread(buf, 1, sizeof(buf) - 1, s) : 0;
        if (s) {
            fclose(s);
        }
        buf[n] = 0;
        const char *p = strrchr(buf, ')');
        long ppid;
        unsigned long long ut, st, cut, cst;
        if (!p || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
                         &ppid, &ut, &st, &cut, &cst) != 5) {
            continue;
        }
        if (pid == pm) {
            ticks += (double)(ut + st + cut + cst);
        } else if (ppid == pm) {
            ticks += (double)(ut + st);
        }
    }
    if (d) {
        closedir(d);
    }
    return ticks / (double)sysconf(_SC_CLK_TCK);
}

/* The database's counters: [0] commits (pg_stat_database), [1] WAL syncs (pg_stat_wal),
 * [2] rows written (inserted + updated + deleted); PostgreSQL publishes them within a second. */
static void pg_counters(const char *url, double out[3])
{
    out[0] = out[1] = out[2] = 0;
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQstatus(c) == CONNECTION_OK
                      ? PQexec(c, "SELECT xact_commit, (SELECT wal_sync FROM pg_stat_wal), "
                                  "tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
                                  "WHERE datname = current_database()")
                      : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        for (int i = 0; i < 3; i++) {
            out[i] = atof(PQgetvalue(r, 0, i));
        }
    }
    PQclear(r);
    PQfinish(c);
}

typedef struct server {
    pid_t pid;
    int port;
    sr_receipts *check;
} server;

/* CPU seconds (user + system) this process has used. */
static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static double client_cpu, client_requests; /* the load client's CPU over the closed loops */

/* One run against @p d; false (after printing why) when any response was bad. */
static bool run(const char *name, server *d, sr_pool *p, const hc_config *base, double rate,
                double warmup, double seconds, hc_result *res)
{
    double c0 = cpu_s();
    hc_config cfg = *base;
    cfg.port = d->port;
    cfg.rate = rate;
    cfg.warmup_s = warmup;
    cfg.duration_s = seconds;
    cfg.next = sr_pool_next;
    cfg.next_ctx = p;
    cfg.check = sr_receipt_check;
    cfg.check_ctx = d->check;
    int rc = hc_run(&cfg, res);
    if (rate == 0) {
        client_cpu += cpu_s() - c0;
        client_requests += (double)res->sent;
    }
    bool ok = sr_report_errors(name, res);
    if (rc != 0) {
        printf("error: %s: nothing was measured\n", name);
        ok = false;
    }
    if (p->exhausted) {
        printf("error: %s: the %zu pre-signed statements ran out, so some were sent twice "
               "(raise --statements)\n",
               name, p->count);
        ok = false;
    }
    if (res->dropped) {
        printf("error: %s: %llu requests were never sent (the client fell behind)\n", name,
               (unsigned long long)res->dropped);
        ok = false;
    }
    return ok;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: load [--scittd PATH] [--rate N] [--seconds S] [--connections C] [--keep "
               "DIR]\n            [--verify-every N] [--statements N] [--receipt-key URI] "
               "[--storage URL|new]\n"
               "  closed-loop registrations and latency at a fixed rate against two scittd it "
               "starts,\n  one with a production policy (x5chain validated to a root CA), one "
               "with the\n  development policy; every 201's receipt is verified (or every N-th)\n"
               "  (defaults: build/server/scittd, 5000/s, 10 s, 64 connections, every 201)\n"
               "  --receipt-key URI: instead, both with the development policy, the second\n"
               "  signing receipts with that PKCS#11 key (file_key vs pkcs11_key)\n"
               "  --storage URL|new: instead, both with the development policy, the second\n"
               "  with its log in that PostgreSQL database (new: a server started here under\n"
               "  TMPDIR) (lmdb vs postgresql)\n");
    const char *bin = "build/server/scittd", *keep = NULL, *receipt_key = NULL, *storage = NULL;
    double rate = 5000, seconds = 10;
    unsigned conns = 64, every = 1;
    size_t statements = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--scittd")) {
            bin = argv[i + 1];
        } else if (!strcmp(argv[i], "--rate")) {
            rate = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--connections")) {
            conns = (unsigned)atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--keep")) {
            keep = argv[i + 1];
        } else if (!strcmp(argv[i], "--verify-every")) {
            every = (unsigned)atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--receipt-key")) {
            receipt_key = argv[i + 1];
        } else if (!strcmp(argv[i], "--storage")) {
            storage = argv[i + 1];
        } else if (!strcmp(argv[i], "--statements")) {
            statements = strtoull(argv[i + 1], NULL, 10);
        } else {
            fprintf(stderr, "load: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!(seconds > 0) || !(rate > 0) || conns == 0 || every == 0) {
        fprintf(stderr, "load: --seconds, --rate, --connections and --verify-every must be > 0\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    char dir[4096];
    if (keep) {
        snprintf(dir, sizeof(dir), "%s", keep);
        if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
            fprintf(stderr, "load: cannot use %s\n", dir);
            return 2;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/scitt-load-XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "load: cannot create a directory under %s\n", tmp ? tmp : "/tmp");
            return 2;
        }
    }
    if (bench_fs_record("load", dir, true) != 0) {
        if (!keep) {
            sr_rm_tree(dir);
        }
        return 1;
    }
    pg_server pg;
    memset(&pg, 0, sizeof(pg));
    if (storage && !strcmp(storage, "new")) {
        pg.parent = getenv("TMPDIR");
        if (!pg_server_start(&pg)) {
            fprintf(stderr, "load: cannot start PostgreSQL under %s\n",
                    pg.parent ? pg.parent : "/tmp");
            pg_server_destroy(&pg);
            if (!keep) {
                sr_rm_tree(dir);
            }
            return 1;
        }
        storage = pg.url;
        printf("storage_postgresql: a server started by the bench (PostgreSQL's defaults: fsync "
               "on, synchronous_commit on) in %s\n",
               pg.dir);
    }
    if (storage) {
        receipt_key = NULL;
        policy_name[0] = "lmdb", policy_name[1] = "postgresql";
        printf("storage: lmdb = the log in LMDB in its --data, postgresql = in PostgreSQL "
               "(--storage); both the development policy\n");
    } else if (receipt_key) {
        policy_name[0] = "file_key", policy_name[1] = "pkcs11_key";
        printf("receipt_keys: file_key = ES256 in the keystore, pkcs11_key = --receipt-key in a "
               "PKCS#11 token; both the development policy\n");
    } else {
        printf("policy_production: x509_roots, x5chain [leaf] issued by a P-256 root CA, "
               "validated at every registration\n");
        printf("policy_development: self_signed, the x5chain leaf's key, no path validation\n");
    }
    if (every == 1) {
        printf("receipts_verified: every 201 (signature memoised per signed tree head, proof of "
               "each receipt checked)\n");
    } else {
        printf("receipts_verified: every %u-th 201 (signature memoised per signed tree head)\n",
               every);
    }
    printf("verify_every: %u\n", every);
    fflush(stdout);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double ceiling = sr_ecdsa_ceiling(cores);
    /*
     * Distinct statements for every run: no closed loop registers more than half the ECDSA
     * ceiling on a machine it shares with its client (a development registration costs one
     * verification, a production one two), the fixed-rate runs need the rate. A run that
     * exhausts them reports it as an error.
     */
    double closed_s = 2.0 * ROUNDS * (WARMUP + seconds / ROUNDS);
    double fixed_s = 2.0 * (2 + seconds);
    size_t count =
        statements ? statements : (size_t)((0.5 * ceiling * closed_s + rate * fixed_s) * 1.1);
    sr_fleet *fleet = sr_fleet_new_ca(KEYS);
    double t0 = bench_now();
    uint8_t(*leaves)[32] = malloc(count * 32);
    /* a series of its own per run, so a kept directory never sees a duplicate */
    hc_request *reqs = sr_post_requests(fleet, (uint64_t)time(NULL), 0, count, leaves);
    fprintf(stderr, "load: %zu statements of ~%zu bytes signed in %.1f s\n", count, reqs[0].len,
            bench_now() - t0);

    char policy[4200], data[2][4200];
    snprintf(policy, sizeof(policy), "%s/policy.json", dir);
    server d[2] = {{-1, 0, NULL}, {-1, 0, NULL}};
    int rc = 0;
    if (sr_fleet_write_policy(fleet, policy) != 0) {
        printf("error: cannot write %s\n", policy);
        rc = 1;
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        snprintf(data[k], sizeof(data[k]), "%s/%s", dir, policy_name[k]);
        mkdir(data[k], 0700);
        const char *extra[] = {storage ? "--storage" : "--receipt-key",
                               storage ? storage : receipt_key, NULL};
        d[k].pid =
            receipt_key || storage
                ? sr_start_args(bin, data[k], NULL, k == DEV ? extra : NULL, &d[k].port, NULL)
                : sr_start_policy(bin, data[k], k == PROD ? policy : NULL, &d[k].port, NULL);
        d[k].check = d[k].pid > 0 ? sr_receipts_new(d[k].port, reqs, (const uint8_t(*)[32])leaves,
                                                    count, every)
                                  : NULL;
        if (!d[k].check) {
            printf("error: %s: cannot start %s on %s or read its receipt key\n", policy_name[k],
                   bin, data[k]);
            rc = 1;
            goto out;
        }
    }

    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.connections = conns;
    cfg.depth = 1;
    sr_pool p = {reqs, count, 0, false};
    /* closed loop, rounds alternating between the policies so other load hits both alike */
    uint64_t good[2] = {0, 0};
    double secs[2] = {0, 0}, b0[2] = {0, 0}, e0[2] = {0, 0}, b1[2] = {0, 0}, e1[2] = {0, 0};
    double batches[2] = {0, 0}, entries[2] = {0, 0}, server_cpu[2] = {0, 0};
    double db_cpu = 0, db_n0[3], db_n1[3], db_delta[3] = {0, 0, 0};
    bool db_ours = pg.running;
    for (int r = 0; r < ROUNDS && rc == 0; r++) {
        for (int k = 0; k < 2 && rc == 0; k++) {
            char name[64];
            snprintf(name, sizeof(name), "closed_%s_round%d", policy_name[k], r + 1);
            hc_result res;
            metric(d[k].port, &b0[k], &e0[k]);
            double cpu0 = sr_cpu_s(d[k].pid);
            double dcpu0 = storage && k == DEV ? pg_cpu_s(&pg) : 0;
            if (storage && k == DEV) {
                pg_counters(storage, db_n0);
            }
            rc = run(name, &d[k], &p, &cfg, 0, WARMUP, seconds / ROUNDS, &res) ? 0 : 1;
            server_cpu[k] += sr_cpu_s(d[k].pid) - cpu0;
            if (storage && k == DEV) {
                db_cpu += db_ours ? pg_cpu_s(&pg) - dcpu0 : 0;
                usleep(1100 * 1000); /* the counters are published within a second */
                pg_counters(storage, db_n1);
                for (int i = 0; i < 3; i++) {
                    db_delta[i] += db_n1[i] - db_n0[i];
                }
            }
            metric(d[k].port, &b1[k], &e1[k]);
            good[k] += res.good;
            secs[k] += res.elapsed_s;
            batches[k] += b1[k] - b0[k];
            entries[k] += e1[k] - e0[k];
            fprintf(stderr, "load: %s: %.0f /s\n", name, res.good_rps);
        }
    }
    if (rc != 0) {
        goto out;
    }
    /* the ceiling again right after the closed loops: the figure is the mean of both */
    double after = sr_ecdsa_ceiling(cores);
    bench_print("ceiling_before", ceiling, "/s");
    bench_print("ceiling_after", after, "/s");
    ceiling = (ceiling + after) / 2;
    bench_print("ceiling_ecdsa_p256_verify", ceiling, "/s");
    double reg[2];
    for (int k = 0; k < 2; k++) {
        char name[64];
        reg[k] = (double)good[k] / secs[k];
        snprintf(name, sizeof(name), "registrations_%s", policy_name[k]);
        bench_print(name, reg[k], "/s");
        if (batches[k] > 0) {
            snprintf(name, sizeof(name), "entries_per_batch_%s", policy_name[k]);
            bench_print(name, entries[k] / batches[k], "");
        }
        if (entries[k] > 0) {
            /* the server's own cost, whatever else shares the cores (warm-up included in both) */
            snprintf(name, sizeof(name), "server_cpu_per_registration_%s", policy_name[k]);
            bench_print(name, server_cpu[k] / entries[k] * 1e6, "us");
        }
    }
    if (storage && entries[DEV] > 0 && batches[DEV] > 0) {
        /* where a registration's time goes in the database, over the same closed loops */
        if (db_ours) {
            bench_print("database_cpu_per_registration_postgresql", db_cpu / entries[DEV] * 1e6,
                        "us");
        }
        bench_print("database_commits_per_batch_postgresql", db_delta[0] / batches[DEV], "");
        bench_print("database_wal_syncs_per_batch_postgresql", db_delta[1] / batches[DEV], "");
        bench_print("database_rows_written_per_registration_postgresql", db_delta[2] / entries[DEV],
                    "");
    }

    /* fixed rate, each policy in turn, with statements not sent before */
    bench_print("offered_rate", rate, "/s");
    for (int k = 0; k < 2 && rc == 0; k++) {
        char name[64];
        snprintf(name, sizeof(name), "fixed_%s", policy_name[k]);
        hc_result res;
        rc = run(name, &d[k], &p, &cfg, rate, 2, seconds, &res) ? 0 : 1;
        if (rc != 0) {
            break;
        }
        snprintf(name, sizeof(name), "achieved_rate_%s", policy_name[k]);
        bench_print(name, res.good_rps, "/s");
        /* requests due in the measured phase still unanswered at its end: in the percentiles
         * at their age then (a lower bound) */
        printf("unanswered_%s: %llu\n", policy_name[k], (unsigned long long)res.unanswered);
        snprintf(name, sizeof(name), "latency_%s_p50", policy_name[k]);
        bench_print(name, res.p50_us / 1000, "ms");
        snprintf(name, sizeof(name), "latency_%s_p99", policy_name[k]);
        bench_print(name, res.p99_us / 1000, "ms");
        snprintf(name, sizeof(name), "latency_%s_p999", policy_name[k]);
        bench_print(name, res.p999_us / 1000, "ms");
    }
    if (rc == 0) {
        uint64_t seen = 0, verified = 0;
        double check = 0;
        for (int k = 0; k < 2; k++) {
            uint64_t s1, v1;
            double c1;
            sr_receipts_counts(d[k].check, &s1, &v1, &c1);
            seen += s1;
            verified += v1;
            check += c1;
        }
        printf("receipts: %llu 201s, %llu receipts verified, %zu of %zu statements sent\n",
               (unsigned long long)seen, (unsigned long long)verified, p.next, p.count);
        bench_print("receipt_check_time", verified ? check / (double)verified * 1e6 : 0,
                    "us CPU per verified receipt");
        bench_print("client_cpu_per_request", client_cpu / client_requests * 1e6,
                    "us (closed loops, receipt checks included)");
        if (storage) {
            printf("ratio postgresql/lmdb: %.3f\n", reg[DEV] / reg[PROD]);
        } else if (receipt_key) {
            printf("ratio pkcs11_key/file_key: %.3f\n", reg[DEV] / reg[PROD]);
        } else {
            printf("ratio registrations_production/ceiling: %.3f\n", reg[PROD] / ceiling);
            printf("ratio registrations_development/ceiling: %.3f\n", reg[DEV] / ceiling);
            printf("ratio production/development: %.3f\n", reg[PROD] / reg[DEV]);
        }
    }
out:
    for (int k = 0; k < 2; k++) {
        sr_stop(d[k].pid);
        sr_receipts_free(d[k].check);
    }
    pg_server_destroy(&pg);
    if (!keep && sr_rm_tree(dir) != 0) {
        fprintf(stderr, "load: could not remove %s\n", dir);
    }
    sr_requests_free(reqs, count);
    free(leaves);
    sr_fleet_free(fleet);
    fflush(stdout);
    return rc;
}
