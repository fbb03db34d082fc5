/*
 * bench/witness_bench: what asking witnesses costs a log. Two scittd side by side in one run,
 * one without witnesses and one with three (`--witness` x3, three `scitt witness serve` on
 * loopback, every one required: the default policy), and:
 *   registrations_none / registrations_witnessed: n /s   closed loop, verified 201s per second,
 *                                   in rounds alternating between the two (and which goes first)
 *   ratio witnessed/none: x         the headline (registration must not wait for witnesses)
 *   witness_lag_idle_p50 / p99: x ms   from a 201 (its head signed and durable) to GET
 *                                   /checkpoint serving a witnessed checkpoint of at least that
 *                                   size (polled every 0.5 ms), for registrations made one at a
 *                                   time on an idle log (each after the round interval passed)
 *   witness_lag_busy_p50 / p99: x ms   the same for registrations made back to back (each as
 *                                   soon as the last one was witnessed: it waits for the round
 *                                   interval, --witness-interval-ms)
 *   witnessed_size, witness_rounds  from the witnessed scittd's /metrics, to show the witnesses
 *                                   were really asked during the closed loops
 * The witnesses, the load client and both servers share the machine's cores; the witnesses'
 * state lives on /dev/shm when it exists (witnesses run elsewhere: their fsyncs are not the log's).
 * Usage: witness_bench [--scittd PATH] [--scitt PATH] [--seconds S] [--connections C]
 *                      [--samples N] [--interval-ms T]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "scitt/cbor.h"
#include "scitt/client.h"
#include "scittd_run.h"

#define KEYS      100
#define ROUNDS    3
#define WARMUP    1.0
#define WITNESSES 3

/* The checkpoint_vkey of the transparency configuration (CBOR map) of the scittd on @p port. */
static int log_vkey(int port, char *out, size_t cap)
{
    static uint8_t body[1 << 16];
    size_t len = 0;
    if (hc_fetch_bin("127.0.0.1", port, "/.well-known/transparency-configuration", body,
                     sizeof(body), &len) != 200) {
        return -1;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, scitt_span_make(body, len));
    size_t n = 0;
    if (scitt_cbor_read_map(&r, &n) != SCITT_OK) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        scitt_span k, v;
        if (scitt_cbor_read_text(&r, &k) != SCITT_OK) {
            return -1;
        }
        if (k.len == 15 && memcmp(k.ptr, "checkpoint_vkey", 15) == 0 &&
            scitt_cbor_read_text(&r, &v) == SCITT_OK && v.len < cap) {
            memcpy(out, v.ptr, v.len);
            out[v.len] = 0;
            return 0;
        }
        if (scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            return -1;
        }
    }
    return -1;
}

/* Runs `scitt witness keygen` and `scitt witness serve` for log @p vkey; its vkey and port. */
static pid_t start_witness(const char *scitt, const char *dir, const char *state_dir, int i,
                           const char *vkey, char *wvkey, size_t cap, int *port)
{
    char key[4200], state[4300], log[4200], cmd[9000];
    snprintf(key, sizeof(key), "%s/w%d.key", dir, i);
    snprintf(state, sizeof(state), "%s/w%d.state", state_dir, i);
    snprintf(log, sizeof(log), "%s/w%d.log", dir, i);
    snprintf(cmd, sizeof(cmd), "'%s' witness keygen --name bench-w%d.test --out '%s'", scitt, i,
             key);
    FILE *f = popen(cmd, "r");
    if (!f || !fgets(wvkey, (int)cap, f)) {
        if (f) {
            pclose(f);
        }
        return -1;
    }
    pclose(f);
    wvkey[strcspn(wvkey, "\n")] = 0;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(scitt, scitt, "witness", "serve", "--key", key, "--state", state, "--log", vkey,
              "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    for (int t = 0; t < 400; t++) {
        char buf[4096] = "";
        FILE *lf = fopen(log, "r");
        size_t n = lf ? fread(buf, 1, sizeof(buf) - 1, lf) : 0;
        if (lf) {
            fclose(lf);
        }
        buf[n] = 0;
        const char *at = strstr(buf, "event=listening");
        at = at ? strstr(at, "port=") : NULL;
        if (at && sscanf(at, "port=%d", port) == 1) {
            return pid;
        }
        usleep(25000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* A value of the scittd's /metrics, or -1. */
static double metric(int port, const char *name)
{
    static char body[1 << 17];
    if (hc_fetch("127.0.0.1", port, "/metrics", body, sizeof(body)) != 200) {
        return -1;
    }
    char key[128];
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *at = strstr(body, key);
    return at ? atof(at + strlen(key)) : -1;
}

/* The sum of the scittd's /metrics lines starting with @p prefix (labelled series), or -1. */
static double metric_sum(int port, const char *prefix)
{
    static char body[1 << 17];
    if (hc_fetch("127.0.0.1", port, "/metrics", body, sizeof(body)) != 200) {
        return -1;
    }
    double sum = 0;
    for (const char *at = strstr(body, prefix); at; at = strstr(at + 1, prefix)) {
        const char *sp = strchr(at, ' ');
        sum += sp && (at == body || at[-1] == '\n') ? atof(sp + 1) : 0;
    }
    return sum;
}

/* The size in the checkpoint at @p path (0 when it is not served). */
static uint64_t served_size(scitt_client *c, const char *path)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 1u << 16);
    uint64_t size = 0;
    if (scitt_client_get(c, path, "text/plain", &b, NULL, 0) == SCITT_OK) {
        scitt_dynbuf_u8(&b, 0);
        const char *nl = b.ptr ? strchr((const char *)b.ptr, '\n') : NULL;
        size = nl ? strtoull(nl + 1, NULL, 10) : 0;
    }
    scitt_dynbuf_clear(&b);
    return size;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One registration, then the time until GET /checkpoint serves a witnessed checkpoint of at
 * least the size it was registered at (polled every 0.5 ms), into @p ms. */
static int lag_sample(scitt_client *cl, sr_fleet *fleet, uint64_t series, size_t i, double *ms)
{
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    scitt_client_registration reg;
    scitt_client_registration_init(&reg);
    int rc = 0;
    if (sr_statement(fleet, series, i, &st) != 0 ||
        scitt_client_submit(cl, scitt_span_make(st.ptr, st.len), 0, &reg, NULL, 0) != SCITT_OK ||
        !reg.done) {
        printf("error: registration %zu for the lag failed\n", i);
        rc = 1;
    }
    double t0 = bench_now();
    uint64_t want = rc == 0 ? served_size(cl, "/checkpoint/latest") : 0;
    while (rc == 0 && served_size(cl, "/checkpoint") < want) {
        if (bench_now() - t0 > 30) {
            printf("error: size %llu not witnessed within 30 s\n", (unsigned long long)want);
            rc = 1;
        }
        usleep(500);
    }
    *ms = (bench_now() - t0) * 1000;
    scitt_client_registration_clear(&reg);
    scitt_dynbuf_clear(&st);
    return rc;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: witness_bench [--scittd PATH] [--scitt PATH] [--seconds S] "
               "[--connections C] [--samples N] [--interval-ms T]\n"
               "  registrations/s of a scittd with three witnesses against one without (same "
               "run,\n  alternating rounds), and the time from a signed head to it being "
               "witnessed\n  (defaults: build/server/scittd, build/tools/scitt, 9 s, 64 "
               "connections, 100 samples\n  idle and 100 back to back, scittd's "
               "--witness-interval-ms 100)\n");
    const char *bin = "build/server/scittd", *scitt = "build/tools/scitt";
    double seconds = 9;
    unsigned conns = 64;
    size_t samples = 100;
    unsigned interval_ms = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--scittd")) {
            bin = argv[i + 1];
        } else if (!strcmp(argv[i], "--scitt")) {
            scitt = argv[i + 1];
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--connections")) {
            conns = (unsigned)atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--samples")) {
            samples = strtoull(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--interval-ms")) {
            interval_ms = (unsigned)atoi(argv[i + 1]);
        } else {
            fprintf(stderr, "witness_bench: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!(seconds > 0) || conns == 0 || samples == 0) {
        fprintf(stderr, "witness_bench: --seconds, --connections and --samples must be > 0\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/scitt-witness-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "witness_bench: cannot create a directory\n");
        return 2;
    }
    if (bench_fs_record("witness_bench", dir, true) != 0) {
        sr_rm_tree(dir);
        return 1;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double ceiling = sr_ecdsa_ceiling(cores);
    double closed_s = 2.0 * ROUNDS * (WARMUP + seconds / ROUNDS);
    size_t count = (size_t)(ceiling * closed_s * 1.1) + 1000;
    sr_fleet *fleet = sr_fleet_new(KEYS);
    uint8_t(*leaves)[32] = malloc(count * 32);
    uint64_t series = (uint64_t)time(NULL);
    hc_request *reqs = sr_post_requests(fleet, series, 0, count, leaves);

    enum { NONE = 0, WIT = 1 };
    static const char *const name[2] = {"none", "witnessed"};
    char data[2][4200], vkey[512], wvkey[WITNESSES][512], warg[WITNESSES][1200];
    pid_t pid[2] = {-1, -1}, wpid[WITNESSES] = {-1, -1, -1};
    int port[2] = {0, 0}, wport[WITNESSES];
    sr_receipts *check[2] = {NULL, NULL};
    scitt_client *cl = NULL;
    double *lag = calloc(samples, sizeof(double));
    int rc = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(data[k], sizeof(data[k]), "%s/%s", dir, name[k]);
        mkdir(data[k], 0700);
    }
    /* The witnesses' state on a memory file system when there is one: they stand for witnesses
     * on other machines, whose fsyncs do not queue behind (or in front of) the log's commits on
     * its disk. Their CPU is still this machine's. */
    char wstate[4200];
    snprintf(wstate, sizeof(wstate), "/dev/shm/scitt-witness-bench-XXXXXX");
    if (!mkdtemp(wstate)) {
        snprintf(wstate, sizeof(wstate), "%s", dir);
    }
    printf("witness_state: %s\n", wstate);
    /* the witnessed log's key first, which its witnesses are configured with */
    pid[WIT] = sr_start(bin, data[WIT], &port[WIT], NULL);
    if (pid[WIT] < 0 || log_vkey(port[WIT], vkey, sizeof(vkey)) != 0) {
        printf("error: cannot start %s or read its checkpoint key\n", bin);
        rc = 1;
        goto out;
    }
    sr_stop(pid[WIT]);
    char interval[16];
    snprintf(interval, sizeof(interval), "%u", interval_ms);
    const char *extra[2 * WITNESSES + 3] = {"--witness-interval-ms", interval};
    for (int i = 0; i < WITNESSES; i++) {
        wpid[i] = start_witness(scitt, dir, wstate, i, vkey, wvkey[i], sizeof(wvkey[i]), &wport[i]);
        if (wpid[i] < 0) {
            printf("error: cannot start witness %d (%s)\n", i, scitt);
            rc = 1;
            goto out;
        }
        snprintf(warg[i], sizeof(warg[i]), "http://127.0.0.1:%d=%s", wport[i], wvkey[i]);
        extra[2 + 2 * i] = "--witness";
        extra[2 + 2 * i + 1] = warg[i];
    }
    pid[NONE] = sr_start(bin, data[NONE], &port[NONE], NULL);
    pid[WIT] = sr_start_args(bin, data[WIT], NULL, extra, &port[WIT], NULL);
    for (int k = 0; k < 2; k++) {
        check[k] = pid[k] > 0
                       ? sr_receipts_new(port[k], reqs, (const uint8_t(*)[32])leaves, count, 1)
                       : NULL;
        if (!check[k]) {
            printf("error: %s: cannot start %s or read its receipt key\n", name[k], bin);
            rc = 1;
            goto out;
        }
    }
    printf("witnesses: %d scitt witness serve on loopback, all required (default policy)\n",
           WITNESSES);
    fflush(stdout);

    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.connections = conns;
    cfg.depth = 1;
    cfg.next = sr_pool_next;
    cfg.check = sr_receipt_check;
    sr_pool p = {reqs, count, 0, false};
    cfg.next_ctx = &p;
    uint64_t good[2] = {0, 0};
    double secs[2] = {0, 0};
    double rounds0 = metric(port[WIT], "scittd_witness_rounds_total");
    double cpu[2] = {0, 0}; /* scittd's CPU seconds during the closed loops */
    double wcpu = 0;        /* the witnesses' during the loops with witnesses */
    for (int r = 0; r < ROUNDS && rc == 0; r++) {
        for (int j = 0; j < 2 && rc == 0; j++) {
            int k = (r % 2) ? 1 - j : j; /* which goes first alternates too */
            char run[64];
            snprintf(run, sizeof(run), "closed_%s_round%d", name[k], r + 1);
            hc_result res;
            cfg.port = port[k];
            cfg.check_ctx = check[k];
            cfg.warmup_s = WARMUP;
            cfg.duration_s = seconds / ROUNDS;
            double cpu0 = sr_cpu_s(pid[k]), wcpu0 = 0;
            for (int i = 0; i < WITNESSES; i++) {
                wcpu0 += sr_cpu_s(wpid[i]);
            }
            int hr = hc_run(&cfg, &res);
            /* the warm-up's CPU is counted, its registrations estimated at the measured rate */
            cpu[k] += sr_cpu_s(pid[k]) - cpu0;
            for (int i = 0; i < WITNESSES && k == WIT; i++) {
                wcpu += sr_cpu_s(wpid[i]);
            }
            wcpu -= k == WIT ? wcpu0 : 0;
            if (hr != 0 || !sr_report_errors(run, &res) || p.exhausted) {
                printf("error: %s failed%s\n", run, p.exhausted ? " (statements ran out)" : "");
                rc = 1;
                break;
            }
            good[k] += res.good;
            secs[k] += res.elapsed_s;
            fprintf(stderr, "witness_bench: %s: %.0f /s\n", run, res.good_rps);
        }
    }
    if (rc != 0) {
        goto out;
    }
    double reg[2];
    for (int k = 0; k < 2; k++) {
        char n[64];
        reg[k] = (double)good[k] / secs[k];
        snprintf(n, sizeof(n), "registrations_%s", name[k]);
        bench_print(n, reg[k], "/s");
    }
    for (int k = 0; k < 2; k++) {
        char n[64];
        snprintf(n, sizeof(n), "scittd_cpu_us_per_registration_%s", name[k]);
        double regs = (double)good[k] * (1 + WARMUP / (seconds / ROUNDS));
        bench_print(n, regs > 0 ? cpu[k] * 1e6 / regs : 0, "us");
    }
    double wregs = (double)good[WIT] * (1 + WARMUP / (seconds / ROUNDS));
    bench_print("witness_daemons_cpu_us_per_registration", wregs > 0 ? wcpu * 1e6 / wregs : 0,
                "us");
    bench_print("witness_rounds_during_closed_loops",
                metric(port[WIT], "scittd_witness_rounds_total") - rounds0, "");

    /* head signed -> witnessed, one registration at a time */
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port[WIT]);
    scitt_client_options o = {url, NULL, NULL, 10000, NULL};
    if (scitt_client_new(&o, &cl, NULL, 0) != SCITT_OK) {
        rc = 1;
        goto out;
    }
    /* on an idle log (the round interval passed since the last round), then back to back */
    for (int phase = 0; phase < 2 && rc == 0; phase++) {
        size_t got = 0;
        for (size_t i = 0; i < samples && rc == 0; i++) {
            if (phase == 0) {
                usleep((interval_ms + 5) * 1000u);
            }
            if (lag_sample(cl, fleet, series + 1, (size_t)phase * samples + i, &lag[got]) != 0) {
                rc = 1;
            }
            got++;
        }
        if (rc == 0) {
            char n[64];
            qsort(lag, got, sizeof(double), cmp_double);
            snprintf(n, sizeof(n), "witness_lag_%s_p50", phase ? "busy" : "idle");
            bench_print(n, lag[got / 2], "ms");
            snprintf(n, sizeof(n), "witness_lag_%s_p99", phase ? "busy" : "idle");
            bench_print(n, lag[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1], "ms");
        }
    }
    if (rc == 0) {
        bench_print("witnessed_size", metric(port[WIT], "scittd_witnessed_size"), "");
        /* a round that missed the quorum waits the round back-off (1 s and more); a witness
         * that answers 429 (its rate limit) is paced instead */
        bench_print("witness_quorum_missed",
                    metric(port[WIT], "scittd_witness_quorum_missed_total"), "");
        bench_print("witness_rate_limited",
                    metric_sum(port[WIT], "scittd_witness_rate_limited_total{"), "");
        printf("ratio witnessed/none: %.3f\n", reg[WIT] / reg[NONE]);
    }
out:
    scitt_client_free(cl);
    for (int k = 0; k < 2; k++) {
        sr_stop(pid[k]);
        sr_receipts_free(check[k]);
    }
    for (int i = 0; i < WITNESSES; i++) {
        sr_stop(wpid[i]);
    }
    if (strcmp(wstate, dir) != 0) {
        sr_rm_tree(wstate);
    }
    sr_rm_tree(dir);
    sr_requests_free(reqs, count);
    free(leaves);
    free(lag);
    sr_fleet_free(fleet);
    fflush(stdout);
    return rc;
}
