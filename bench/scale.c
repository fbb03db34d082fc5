/*
 * bench/scale: scittd at 10 million entries.
 *
 * Builds (once) a ledger of N real statements (ES256, ~1 KB, 1,000 issuer keys with x5chain) in a
 * directory, through the same check stage and sequencer scittd uses, without HTTP: threads sign,
 * check (scitt_service_check) and submit (scitt_service_submit) as fast as the cores allow. The
 * directory is kept and reused by later runs. Then, with scittd on that directory, it prints:
 *   fill: x s, fill_rate: n entries/s    how long building the ledger took (when it was built)
 *   disk: n bytes                         allocated on disk by the data directory when built
 *   storage_overhead: n bytes/entry       (disk - statement bytes) / entries, as built
 *   restart: x ms                         exec to READY (integrity checks included), median of 3
 *   http_ceiling: n /s                    GET /healthz, closed loop: the HTTP stack alone
 *   receipt_reads: n /s                   GET /entries/{id} for random entries, closed loop
 *   registrations_at_scale: n /s          POST /entries with the receipt, closed loop
 *   registrations_empty: n /s             the same on an empty ledger beside it, in this run
 *                                         (three alternating rounds each, the best of each)
 *   ratio receipt_reads/http_ceiling, ratio registrations_at_scale/registrations_empty
 * Usage: scale [--scittd PATH] [--entries N] [--dir DIR] [--seconds S] [--connections C]
 *        (defaults: build/server/scittd, 10000000, build/bench-scale, 5, 64)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "scitt/service.h"
#include "scittd_run.h"

#define KEYS        1000
#define SAMPLE      65536 /* entry IDs kept for random reads */
#define IN_FLIGHT   16384 /* submissions queued at most */
#define FILL_SERIES 0
#define ROUNDS      3 /* alternating registration rounds, at scale and empty */

typedef struct fill {
    scitt_service *svc;
    const sr_fleet *fleet;
    uint64_t total, stride;
    atomic_uint_fast64_t next;
    atomic_uint_fast64_t statement_bytes;
    atomic_uint_fast64_t failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t in_flight, done;
    uint8_t (*ids)[32];
} fill;

static void fill_done(void *ctx, const scitt_ledger_result *res)
{
    fill *f = ctx;
    if (res->err != SCITT_OK || res->duplicate) {
        atomic_fetch_add(&f->failed, 1);
    }
    pthread_mutex_lock(&f->mu);
    f->in_flight--;
    f->done++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void *fill_thread(void *arg)
{
    fill *f = arg;
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    char reason[256];
    for (;;) {
        uint64_t i = atomic_fetch_add(&f->next, 1);
        if (i >= f->total) {
            break;
        }
        st.len = 0;
        reason[0] = 0;
        scitt_prepared p;
        if (sr_statement(f->fleet, FILL_SERIES, i, &st) != 0 ||
            scitt_service_check(f->svc, scitt_span_make(st.ptr, st.len), &p, reason,
                                sizeof(reason)) != SCITT_OK) {
            fprintf(stderr, "scale: statement %llu refused: %s\n", (unsigned long long)i, reason);
            exit(2);
        }
        if (i % f->stride == 0 && i / f->stride < SAMPLE) {
            memcpy(f->ids[i / f->stride], p.sub.entry_id, 32);
        }
        atomic_fetch_add(&f->statement_bytes, p.sub.entry.len);
        pthread_mutex_lock(&f->mu);
        while (f->in_flight >= IN_FLIGHT) {
            pthread_cond_wait(&f->cv, &f->mu);
        }
        f->in_flight++;
        pthread_mutex_unlock(&f->mu);
        if (scitt_service_submit(f->svc, &p, fill_done, f) != SCITT_OK) {
            fprintf(stderr, "scale: submit failed at %llu\n", (unsigned long long)i);
            exit(2);
        }
        scitt_prepared_clear(&p);
    }
    scitt_dynbuf_clear(&st);
    return NULL;
}

/* What a built directory records about itself (scale.info, written last). */
typedef struct info {
    uint64_t entries, statement_bytes;
    double fill_s;
    uint64_t disk; /* bytes on disk right after the build, before any run added entries */
} info;

static bool info_read(const char *dir, info *in)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/scale.info", dir);
    FILE *f = fopen(p, "r");
    if (!f) {
        return false;
    }
    unsigned long long e, b, d = 0;
    int got = fscanf(f, "entries %llu statement_bytes %llu fill_s %lf disk %llu", &e, &b,
                     &in->fill_s, &d);
    fclose(f);
    in->entries = e;
    in->statement_bytes = b;
    in->disk = d;
    return got == 3 || got == 4;
}

static int build(const char *dir, uint64_t n, const sr_fleet *fleet, uint8_t (*ids)[32], info *in)
{
    if (sr_rm_tree(dir) != 0 && errno != ENOENT) {
        fprintf(stderr, "scale: cannot clear %s\n", dir);
        return -1;
    }
    if (mkdir(dir, 0700) != 0) {
        fprintf(stderr, "scale: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    /* the layout scittd uses on the virtual platform: keys in <dir>/service-keys */
    char ks_path[4200];
    scitt_keystore ks;
    scitt_keystore_file(dir, NULL, ks_path, sizeof(ks_path), &ks);
    scitt_service_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.data_dir = dir;
    sc.keystore = &ks;
    sc.map_size = 1ull << 30;
    sc.map_size_max = 1ull << 40;
    char reason[512];
    fill f;
    memset(&f, 0, sizeof(f));
    if (scitt_service_open(&sc, &f.svc, reason, sizeof(reason)) != SCITT_OK) {
        fprintf(stderr, "scale: %s\n", reason);
        return -1;
    }
    f.fleet = fleet;
    f.total = n;
    f.stride = n / SAMPLE ? n / SAMPLE : 1;
    f.ids = ids;
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t th[64];
    long nth = cores < 64 ? cores : 64;
    double t0 = bench_now();
    for (long i = 0; i < nth; i++) {
        pthread_create(&th[i], NULL, fill_thread, &f);
    }
    uint64_t shown = 0;
    pthread_mutex_lock(&f.mu);
    while (f.done < n) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        pthread_cond_timedwait(&f.cv, &f.mu, &until);
        if (f.done >= shown + n / 20) {
            shown = f.done;
            fprintf(stderr, "scale: %llu of %llu entries, %.0f s\n", (unsigned long long)shown,
                    (unsigned long long)n, bench_now() - t0);
        }
    }
    pthread_mutex_unlock(&f.mu);
    for (long i = 0; i < nth; i++) {
        pthread_join(th[i], NULL);
    }
    scitt_service_close(f.svc);
    in->fill_s = bench_now() - t0;
    in->entries = n;
    in->statement_bytes = atomic_load(&f.statement_bytes);
    in->disk = sr_disk_bytes(dir);
    if (atomic_load(&f.failed)) {
        fprintf(stderr, "scale: %llu submissions failed\n",
                (unsigned long long)atomic_load(&f.failed));
        return -1;
    }
    char p[4200];
    snprintf(p, sizeof(p), "%s/scale.ids", dir);
    FILE *fi = fopen(p, "wb");
    size_t nids = n < SAMPLE ? n : SAMPLE;
    if (!fi || fwrite(ids, 32, nids, fi) != nids || fclose(fi) != 0) {
        return -1;
    }
    snprintf(p, sizeof(p), "%s/scale.info", dir);
    FILE *fo = fopen(p, "w");
    if (!fo) {
        return -1;
    }
    fprintf(fo, "entries %llu statement_bytes %llu fill_s %.1f disk %llu\n", (unsigned long long)n,
            (unsigned long long)in->statement_bytes, in->fill_s, (unsigned long long)in->disk);
    return fclose(fo) == 0 ? 0 : -1;
}

static size_t ids_read(const char *dir, uint8_t (*ids)[32])
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/scale.ids", dir);
    FILE *f = fopen(p, "rb");
    if (!f) {
        return 0;
    }
    size_t n = fread(ids, 32, SAMPLE, f);
    fclose(f);
    return n;
}

static double closed_loop(int port, const hc_request *reqs, size_t n, unsigned conns,
                          double seconds, const char *what)
{
    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.connections = conns;
    cfg.depth = 1;
    cfg.warmup_s = 1;
    cfg.duration_s = seconds;
    cfg.requests = reqs;
    cfg.nrequests = n;
    hc_result r;
    if (hc_run(&cfg, &r) != 0) {
        fprintf(stderr, "scale: %s: nothing measured\n", what);
        return 0;
    }
    if (r.non2xx || r.errors) {
        fprintf(stderr, "scale: %s: %llu responses not 2xx, %llu connection errors\n", what,
                (unsigned long long)r.non2xx, (unsigned long long)r.errors);
        return 0;
    }
    return r.rps;
}

int main(int argc, char **argv)
{
    bench_help(
        argc, argv,
        "usage: scale [--scittd PATH] [--entries N] [--dir DIR] [--seconds S] [--connections C]\n  "
        "builds (once) and measures a large ledger: restart, reads, registrations against empty\n  "
        "(defaults: build/server/scittd, 10000000, build/bench-scale, 5 s, 64 connections)\n");
    const char *bin = "build/server/scittd", *dir = "build/bench-scale";
    uint64_t n = 10000000;
    double seconds = 5;
    unsigned conns = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--scittd")) {
            bin = argv[i + 1];
        } else if (!strcmp(argv[i], "--entries")) {
            n = strtoull(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--dir")) {
            dir = argv[i + 1];
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--connections")) {
            conns = (unsigned)atoi(argv[i + 1]);
        } else {
            fprintf(stderr, "scale: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (n == 0) {
        fprintf(stderr, "scale: --entries must be at least 1\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    sr_fleet *fleet = sr_fleet_new(KEYS);
    uint8_t(*ids)[32] = calloc(SAMPLE, 32);
    info in;
    size_t nids = 0;
    if (info_read(dir, &in) && in.entries == n && (nids = ids_read(dir, ids)) > 0) {
        fprintf(stderr, "scale: reusing the %llu-entry ledger in %s (built in %.0f s)\n",
                (unsigned long long)n, dir, in.fill_s);
    } else {
        fprintf(stderr, "scale: building a %llu-entry ledger in %s\n", (unsigned long long)n, dir);
        if (build(dir, n, fleet, ids, &in) != 0) {
            return 1;
        }
        nids = n < SAMPLE ? n : SAMPLE;
    }
    bench_print("entries", (double)n, "");
    bench_print("fill", in.fill_s, "s");
    bench_print("fill_rate", (double)n / in.fill_s, "entries/s");
    /* Storage as built: every later run adds the statements it registers at scale. */
    uint64_t disk = in.disk ? in.disk : sr_disk_bytes(dir);
    bench_print("disk", (double)disk, "bytes");
    bench_print("storage_overhead", ((double)disk - (double)in.statement_bytes) / (double)n,
                "bytes/entry");

    /* restart: exec to READY, median of three */
    double t[3];
    int port = 0;
    pid_t pid = -1;
    for (int k = 0; k < 3; k++) {
        pid = sr_start(bin, dir, &port, &t[k]);
        if (pid < 0) {
            fprintf(stderr, "scale: %s does not start on %s\n", bin, dir);
            return 1;
        }
        if (k < 2) {
            sr_stop(pid);
        }
    }
    double lo = t[0] < t[1] ? t[0] : t[1], hi = t[0] < t[1] ? t[1] : t[0];
    double med = t[2] < lo ? lo : t[2] > hi ? hi : t[2];
    bench_print("restart", med * 1000, "ms");

    /* reads against the 10M ledger; the HTTP stack alone as their ceiling */
    uint64_t seed = 0x5ca1ab1e;
    for (size_t i = nids - 1; i > 0; i--) {
        size_t j = (size_t)(bench_rand(&seed) % (i + 1));
        uint8_t tmp[32];
        memcpy(tmp, ids[i], 32);
        memcpy(ids[i], ids[j], 32);
        memcpy(ids[j], tmp, 32);
    }
    hc_request health = {"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 0};
    health.len = strlen(health.bytes);
    double ceiling = closed_loop(port, &health, 1, conns, seconds, "healthz");
    hc_request *gets = sr_get_requests("/entries/", (const uint8_t(*)[32])ids, nids);
    double reads = closed_loop(port, gets, nids, conns, seconds, "receipt reads");
    sr_requests_free(gets, nids);
    bench_print("http_ceiling", ceiling, "/s");
    bench_print("receipt_reads", reads, "/s");

    /* Registrations at scale and on an empty ledger (same file system), both daemons up, in
     * alternating rounds with fresh statements for each; the best round of each is reported, so
     * load from elsewhere on the machine hits both alike. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t count = (size_t)(sr_ecdsa_ceiling(cores) * (seconds + 1) * 1.3);
    uint64_t series = (uint64_t)time(NULL);
    hc_request *posts = sr_post_requests(fleet, series, 0, 2 * ROUNDS * count, NULL);
    char empty[4200];
    snprintf(empty, sizeof(empty), "%s-empty-XXXXXX", dir);
    double at_scale = 0, on_empty = 0;
    int eport = 0;
    pid_t epid = mkdtemp(empty) ? sr_start(bin, empty, &eport, NULL) : -1;
    for (size_t r = 0; epid > 0 && r < ROUNDS; r++) {
        double a = closed_loop(port, posts + 2 * r * count, count, conns, seconds,
                               "registrations at scale");
        double b = closed_loop(eport, posts + (2 * r + 1) * count, count, conns, seconds,
                               "registrations empty");
        fprintf(stderr, "scale: round %zu: %.0f /s at scale, %.0f /s empty\n", r + 1, a, b);
        at_scale = a > at_scale ? a : at_scale;
        on_empty = b > on_empty ? b : on_empty;
    }
    if (epid > 0) {
        sr_stop(epid);
    }
    sr_stop(pid);
    sr_rm_tree(empty);
    sr_requests_free(posts, 2 * ROUNDS * count);
    bench_print("registrations_at_scale", at_scale, "/s");
    bench_print("registrations_empty", on_empty, "/s");
    bench_print("ratio receipt_reads/http_ceiling", ceiling > 0 ? reads / ceiling : 0, "");
    bench_print("ratio registrations_at_scale/registrations_empty",
                on_empty > 0 ? at_scale / on_empty : 0, "");
    free(ids);
    sr_fleet_free(fleet);
    return reads > 0 && at_scale > 0 && on_empty > 0 ? 0 : 1;
}
