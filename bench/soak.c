/*
 * scittd_soak — memory stability of the daemon under sustained registrations (`make soak`).
 *
 * Starts scittd on a scratch data directory, measures its capacity for new registrations
 * (closed loop, every request a new Signed Statement), then offers 70% of that rate for
 * SOAK_SECONDS (600) at a fixed rate while sampling the daemon's memory from /proc every 5 s.
 * The baseline is the first sample after a tenth of the run (pools, caches and the recent-ID
 * table have filled by then); the run fails when the anonymous memory (heap: what a leak grows)
 * ends or peaks more than 10% above it. Resident file pages (the LMDB maps, which grow with the
 * log and are page cache the kernel can drop) are reported beside it.
 *
 * Usage: scittd_soak PATH/TO/scittd. Environment: SOAK_SECONDS (600), SOAK_CAPACITY_SECONDS (10),
 * SOAK_LOAD (0.7).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "httpclient.h"
#include "stmt_util.h"

extern char **environ;

typedef struct gen {
    scitt_cose_key *key;
    char iss[64];
    char buf[4096];
    hc_request req;
    uint64_t failures;
} gen;

/* Every request a registration of a statement never sent before. */
static const hc_request *next_registration(void *ctx, uint64_t n)
{
    gen *g = ctx;
    static uint64_t serial;
    char payload[96];
    snprintf(payload, sizeof(payload), "{\"soak\": %llu, \"pid\": %d}",
             (unsigned long long)serial++, (int)getpid());
    (void)n;
    su_opts o;
    memset(&o, 0, sizeof(o));
    o.iss = g->iss;
    o.sub = "pkg:soak";
    o.with_kid = true;
    o.content_type = "application/json";
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    if (su_statement(g->key, &o, scitt_span_str(payload), &st) != SCITT_OK) {
        g->failures++;
    }
    int h = snprintf(g->buf, sizeof(g->buf),
                     "POST /entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/cose\r\nContent-Length: %zu\r\n\r\n",
                     st.len);
    if (h < 0 || st.len > sizeof(g->buf) - (size_t)h) {
        g->failures++;
        st.len = 0;
    }
    memcpy(g->buf + h, st.ptr, st.len);
    g->req.bytes = g->buf;
    g->req.len = (size_t)h + st.len;
    scitt_dynbuf_clear(&st);
    return &g->req;
}

/* ---- memory of the daemon ---- */

typedef struct mem {
    double t;
    long anon_kb, file_kb, rss_kb;
} mem;

#define MAX_SAMPLES 4096

static pid_t daemon_pid;
static mem samples[MAX_SAMPLES];
static size_t nsamples;
static volatile int sampling;

static bool read_mem(pid_t pid, mem *m)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        return false;
    }
    m->anon_kb = m->file_kb = m->rss_kb = -1;
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "VmRSS: %ld", &m->rss_kb);
        sscanf(line, "RssAnon: %ld", &m->anon_kb);
        sscanf(line, "RssFile: %ld", &m->file_kb);
    }
    fclose(f);
    return m->rss_kb >= 0 && m->anon_kb >= 0;
}

static void *sampler(void *arg)
{
    double t0 = *(double *)arg;
    while (sampling && nsamples < MAX_SAMPLES) {
        mem m;
        m.t = bench_now() - t0;
        if (read_mem(daemon_pid, &m)) {
            samples[nsamples++] = m;
        }
        for (int i = 0; i < 50 && sampling; i++) {
            usleep(100000);
        }
    }
    return NULL;
}

/* ---- the daemon ---- */

static int start_daemon(const char *bin, const char *dir)
{
    char data[300], policy[300];
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(policy, sizeof(policy), "%s/policy.json", dir);
    const char *argv[] = {bin,
                          "--data",
                          data,
                          "--listen",
                          "127.0.0.1:0",
                          "--platform",
                          "virtual",
                          "--insecure-virtual",
                          "--policy",
                          policy,
                          "--print-ports",
                          "--log-level",
                          "warn",
                          NULL};
    int pfd[2];
    if (pipe(pfd) != 0) {
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    int rc = posix_spawn(&daemon_pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return -1;
    }
    char line[128];
    FILE *f = fdopen(pfd[0], "r");
    int port = -1;
    if (f && fgets(line, sizeof(line), f) && sscanf(line, "READY port=%d", &port) == 1) {
        fclose(f);
        return port;
    }
    if (f) {
        fclose(f);
    }
    return -1;
}

static void write_policy(const char *dir, const gen *g)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/policy.json", dir);
    scitt_dynbuf jwk;
    scitt_dynbuf_init(&jwk, 0);
    if (scitt_cose_key_encode_jwk(g->key, false, &jwk) != SCITT_OK) {
        exit(2);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        exit(2);
    }
    fprintf(f, "{\"version\": 1, \"issuers\": [{\"iss\": \"%s\", \"keys\": [%.*s]}]}\n", g->iss,
            (int)jwk.len, (const char *)jwk.ptr);
    fclose(f);
    scitt_dynbuf_clear(&jwk);
}

static double env_num(const char *name, double def)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : def;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: scittd_soak PATH/TO/scittd\n  scittd at 70% of its measured capacity for "
               "SOAK_SECONDS (600) with its memory sampled\n");
    if (argc != 2) {
        fprintf(stderr, "usage: scittd_soak PATH/TO/scittd\n");
        return 2;
    }
    double seconds = env_num("SOAK_SECONDS", 600), cap_s = env_num("SOAK_CAPACITY_SECONDS", 10);
    double load = env_num("SOAK_LOAD", 0.7);
    char dir[] = "/tmp/scittd-soak-XXXXXX";
    if (!mkdtemp(dir)) {
        return 2;
    }
    static gen g;
    snprintf(g.iss, sizeof(g.iss), "https://soak.example");
    if (scitt_cose_key_generate(SCITT_COSE_ALG_EDDSA, &g.key) != SCITT_OK) {
        return 2;
    }
    write_policy(dir, &g);
    int port = start_daemon(argv[1], dir);
    int status = 1;
    if (port < 0) {
        fprintf(stderr, "soak: scittd did not start\n");
        goto out;
    }

    hc_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.connections = 16;
    cfg.depth = 4;
    cfg.warmup_s = 2;
    cfg.duration_s = cap_s;
    cfg.next = next_registration;
    cfg.next_ctx = &g;
    hc_result cap;
    if (hc_run(&cfg, &cap) != 0 || cap.rps <= 0 || cap.non2xx > 0) {
        fprintf(stderr, "soak: capacity run failed (%llu non-2xx, %llu errors)\n",
                (unsigned long long)cap.non2xx, (unsigned long long)cap.errors);
        goto out;
    }
    bench_print("soak_capacity", cap.rps, "registrations/s");

    cfg.rate = cap.rps * load;
    cfg.warmup_s = 0;
    cfg.duration_s = seconds;
    double t0 = bench_now();
    sampling = 1;
    pthread_t th;
    pthread_create(&th, NULL, sampler, &t0);
    hc_result run;
    int rc = hc_run(&cfg, &run);
    sampling = 0;
    pthread_join(th, NULL);
    bench_print("soak_offered", cfg.rate, "registrations/s");
    bench_print("soak_completed", run.rps, "registrations/s");
    bench_print("soak_registrations", (double)run.completed, "entries");
    bench_print("soak_non2xx", (double)run.non2xx, "responses");
    bench_print("soak_p99", run.p99_us / 1000, "ms");
    if (rc != 0 || nsamples < 3 || g.failures) {
        fprintf(stderr, "soak: the run failed (%zu samples)\n", nsamples);
        goto out;
    }
    size_t base = 0;
    while (base + 1 < nsamples && samples[base].t < seconds / 10) {
        base++;
    }
    long peak_anon = samples[base].anon_kb, peak_rss = samples[base].rss_kb;
    for (size_t i = base; i < nsamples; i++) {
        peak_anon = samples[i].anon_kb > peak_anon ? samples[i].anon_kb : peak_anon;
        peak_rss = samples[i].rss_kb > peak_rss ? samples[i].rss_kb : peak_rss;
    }
    const mem *b = &samples[base], *e = &samples[nsamples - 1];
    bench_print("soak_anon_baseline", (double)b->anon_kb / 1024, "MiB");
    bench_print("soak_anon_peak", (double)peak_anon / 1024, "MiB");
    bench_print("soak_anon_end", (double)e->anon_kb / 1024, "MiB");
    bench_print("soak_rss_baseline", (double)b->rss_kb / 1024, "MiB");
    bench_print("soak_rss_peak", (double)peak_rss / 1024, "MiB");
    bench_print("soak_rss_end", (double)e->rss_kb / 1024, "MiB");
    bench_print("soak_file_end", (double)e->file_kb / 1024, "MiB");
    double growth = (double)(peak_anon - b->anon_kb) / (double)b->anon_kb;
    bench_print("soak_anon_growth", growth * 100, "%");
    status = growth <= 0.10 && run.non2xx == 0 ? 0 : 1;
    printf("soak: %s (anonymous memory peak %.1f%% over the baseline at %.0f s; limit 10%%)\n",
           status ? "FAILED" : "stable", growth * 100, b->t);
out:
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, NULL, 0);
    }
    scitt_cose_key_free(g.key);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "soak: could not remove %s\n", dir);
    }
    return status;
}
