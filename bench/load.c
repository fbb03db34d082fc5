/*
 * bench/load: registrations against a running scittd with durable commits.
 *
 * It starts scittd (virtual platform) on a temporary data directory, pre-signs distinct ES256
 * statements of ~1 KB (1,000 issuer keys, each with a self-signed certificate in x5chain, so the
 * server's key cache holds them all, as it would for a fleet of CI signers), and measures:
 *   ceiling_ecdsa_p256_verify: n /s   OpenSSL P-256 verifies per second, one thread per core at
 *                                     once, before and after the closed loop (the mean)
 *   registrations: n /s               201 responses with the receipt, closed loop
 *   entries_per_batch: x              the mean batch the sequencer committed in the closed loop
 *   latency_p50 / p99 / p999: x ms    at a fixed offered rate (5,000/s by default)
 *   ratio registrations/ceiling: x
 * The load client runs on the same machine and shares its cores with the server.
 * Usage: load [--scittd PATH] [--rate N] [--seconds S] [--connections C] [--keep DIR]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "scittd_run.h"

#define KEYS 1000

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

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: load [--scittd PATH] [--rate N] [--seconds S] [--connections C] [--keep "
               "DIR]\n  closed-loop registrations and latency at a fixed rate against a scittd it "
               "starts\n  (defaults: build/server/scittd, 5000/s, 10 s, 64 connections)\n");
    const char *bin = "build/server/scittd", *keep = NULL;
    double rate = 5000, seconds = 10;
    unsigned conns = 64;
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
        } else {
            fprintf(stderr, "load: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double ceiling = sr_ecdsa_ceiling(cores);

    /* Enough distinct statements for both phases at the rates this machine can reach. */
    size_t count = (size_t)((ceiling + rate) * (seconds + 2) * 1.2);
    sr_fleet *fleet = sr_fleet_new(KEYS);
    double t0 = bench_now();
    /* a series of its own per run, so a kept directory never sees a duplicate */
    hc_request *reqs = sr_post_requests(fleet, (uint64_t)time(NULL), 0, count);
    fprintf(stderr, "load: %zu statements of ~%zu bytes signed in %.1f s\n", count, reqs[0].len,
            bench_now() - t0);

    char dir[4096];
    if (keep) {
        snprintf(dir, sizeof(dir), "%s", keep);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/scitt-load-XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            return 2;
        }
    }
    int port;
    pid_t pid = sr_start(bin, dir, &port, NULL);
    if (pid < 0) {
        fprintf(stderr, "load: cannot start %s\n", bin);
        return 2;
    }
    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.connections = conns;
    cfg.depth = 1;
    cfg.warmup_s = 2;
    cfg.duration_s = seconds;
    /* closed loop: the first half of the statements */
    cfg.requests = reqs;
    cfg.nrequests = count / 2;
    hc_result closed;
    double b0 = 0, e0 = 0, b1 = 0, e1 = 0;
    metric(port, &b0, &e0);
    int rc = hc_run(&cfg, &closed);
    metric(port, &b1, &e1);
    if (rc == 0) {
        /* the ceiling again right after the closed loop: the figure is the mean of both */
        double after = sr_ecdsa_ceiling(cores);
        bench_print("ceiling_before", ceiling, "/s");
        bench_print("ceiling_after", after, "/s");
        ceiling = (ceiling + after) / 2;
        bench_print("ceiling_ecdsa_p256_verify", ceiling, "/s");
        bench_print("registrations", closed.rps, "/s");
        if (b1 > b0) {
            bench_print("entries_per_batch", (e1 - e0) / (b1 - b0), "");
        }
        if (closed.non2xx || closed.errors) {
            fprintf(stderr, "load: %llu responses were not 2xx, %llu connection errors\n",
                    (unsigned long long)closed.non2xx, (unsigned long long)closed.errors);
        }
    }
    /* fixed rate: the other half, so nothing is a duplicate */
    cfg.requests = reqs + count / 2;
    cfg.nrequests = count - count / 2;
    cfg.rate = rate;
    hc_result fixed;
    if (rc == 0 && hc_run(&cfg, &fixed) == 0) {
        char name[64];
        snprintf(name, sizeof(name), "offered_rate");
        bench_print(name, rate, "/s");
        bench_print("achieved_rate", fixed.rps, "/s");
        bench_print("latency_p50", fixed.p50_us / 1000, "ms");
        bench_print("latency_p99", fixed.p99_us / 1000, "ms");
        bench_print("latency_p999", fixed.p999_us / 1000, "ms");
        if (fixed.non2xx || fixed.errors || fixed.dropped) {
            fprintf(stderr, "load: fixed rate: %llu not 2xx, %llu errors, %llu dropped\n",
                    (unsigned long long)fixed.non2xx, (unsigned long long)fixed.errors,
                    (unsigned long long)fixed.dropped);
        }
        bench_print("ratio registrations/ceiling", closed.rps / ceiling, "");
    } else {
        rc = 1;
    }
    sr_stop(pid);
    if (!keep && sr_rm_tree(dir) != 0) {
        fprintf(stderr, "load: could not remove %s\n", dir);
    }
    sr_requests_free(reqs, count);
    sr_fleet_free(fleet);
    return rc;
}
