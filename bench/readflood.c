/*
 * bench/readflood: registrations beside a flood of costly reads.
 *
 * It starts scittd (virtual platform, development policy) on a temporary data directory and
 * registers --prefill statements that all share one subject. A query for that subject and an
 * issuer nobody has reads and decodes every one of them and finds nothing: the costliest request
 * an unauthenticated client can make. Then, in the same run, registrations at a fixed offered
 * rate (the statements of bench/load: ES256, ~1 KB, x5chain) are measured twice:
 *   registration_p50_alone / _p99_alone: x ms          nothing else running
 *   registration_p50_query_flood / _p99_query_flood    beside --flood connections sending
 *                                                       that query in a closed loop
 *   ratio registration_p99 flood/alone: x
 *   queries_per_s: n /s, queries_refused: n             what the flood got (503 = told to retry)
 *   filesystem: TYPE DIR                               where the data directory was (a disk)
 * Latency runs from when a registration was due (no coordinated omission; one still unanswered
 * at the end counts at its age then), and only 201s whose receipt verifies for the statement
 * they answer count: any other answer to a registration fails the run.
 * Usage: readflood [--scittd PATH] [--rate N] [--seconds S] [--prefill N] [--flood C]
 *        (defaults: build/server/scittd, 2000/s, 10 s, 20000, 16)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "scittd_run.h"
#include "stmt_util.h"

#define KEYS 100

/* The prefill: one key with a self-signed certificate, every statement about "pkg:flood". */
static hc_request *flood_statements(size_t n)
{
    scitt_cose_key *key;
    if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &key) != SCITT_OK) {
        abort();
    }
    EVP_PKEY *evp = su_evp(key);
    int64_t now = (int64_t)time(NULL);
    X509 *cert = su_cert(evp, "flood", NULL, NULL, false, now - 3600, now + 86400, NULL);
    scitt_span der = su_der(cert);
    hc_request *reqs = calloc(n, sizeof(*reqs));
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    for (size_t i = 0; i < n; i++) {
        char payload[128];
        int pl =
            snprintf(payload, sizeof(payload), "{\"flood\": %zu, \"at\": %lld}", i, (long long)now);
        su_opts o = {0};
        o.iss = "https://flood.example";
        o.sub = "pkg:flood";
        o.x5chain = &der;
        o.nx5chain = 1;
        o.content_type = "application/json";
        st.len = 0;
        if (su_statement(key, &o, scitt_span_make(payload, (size_t)pl), &st) != SCITT_OK) {
            abort();
        }
        char head[256];
        int hl = snprintf(head, sizeof(head),
                          "POST /entries HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/cose\r\nContent-Length: %zu\r\n\r\n",
                          st.len);
        char *req = malloc((size_t)hl + st.len);
        memcpy(req, head, (size_t)hl);
        memcpy(req + hl, st.ptr, st.len);
        reqs[i].bytes = req;
        reqs[i].len = (size_t)hl + st.len;
    }
    scitt_dynbuf_clear(&st);
    OPENSSL_free((void *)der.ptr);
    X509_free(cert);
    EVP_PKEY_free(evp);
    scitt_cose_key_free(key);
    return reqs;
}

/* ---- the measured phases ------------------------------------------------------------------ */

typedef struct flood {
    hc_config cfg;
    hc_result res;
    int rc;
} flood;

static void *flood_main(void *arg)
{
    flood *f = arg;
    f->rc = hc_run(&f->cfg, &f->res);
    return NULL;
}

/*
 * Registrations at the offered rate for the configured time, every 201's receipt verified for
 * the statement it answers; false (after printing why) when any response was bad.
 */
static bool registrations(const char *name, int port, double rate, double seconds,
                          const hc_request *reqs, const uint8_t (*leaves)[32], size_t n,
                          hc_result *out)
{
    sr_receipts *check = sr_receipts_new(port, reqs, leaves, n, 1);
    if (!check) {
        printf("error: %s: cannot fetch the receipt keys\n", name);
        return false;
    }
    hc_config c = {0};
    c.host = "127.0.0.1";
    c.port = port;
    c.connections = 64;
    c.depth = 1;
    c.rate = rate;
    c.warmup_s = 1;
    c.duration_s = seconds;
    c.requests = reqs;
    c.nrequests = n;
    c.check = sr_receipt_check;
    c.check_ctx = check;
    int rc = hc_run(&c, out);
    bool ok = sr_report_errors(name, out);
    if (rc != 0) {
        printf("error: %s: nothing was measured\n", name);
        ok = false;
    }
    sr_receipts_free(check);
    return ok;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: readflood [--scittd PATH] [--rate N] [--seconds S] [--prefill N] "
               "[--flood C]\n  registration latency at a fixed rate, alone and beside a flood of "
               "/query requests that\n  each read every entry of one subject (defaults: "
               "build/server/scittd, 2000/s, 10 s,\n  20000 entries, 16 flood connections)\n");
    const char *bin = "build/server/scittd";
    double rate = 2000, seconds = 10;
    size_t prefill = 20000;
    unsigned flood_conns = 16;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--scittd")) {
            bin = argv[i + 1];
        } else if (!strcmp(argv[i], "--rate")) {
            rate = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--prefill")) {
            prefill = (size_t)atol(argv[i + 1]);
        } else if (!strcmp(argv[i], "--flood")) {
            flood_conns = (unsigned)atoi(argv[i + 1]);
        } else {
            fprintf(stderr, "readflood: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    double t0 = bench_now();
    hc_request *fill = flood_statements(prefill);
    /* each measured phase registers distinct statements, a third more than it should need */
    size_t count = (size_t)(rate * (seconds + 1) * 1.3) + 100;
    sr_fleet *fleet = sr_fleet_new(KEYS);
    uint64_t series = (uint64_t)time(NULL);
    uint8_t(*leaves)[32] = calloc(2 * count, 32);
    hc_request *alone = sr_post_requests(fleet, series, 0, count, leaves);
    hc_request *beside = sr_post_requests(fleet, series, count, count, leaves + count);
    fprintf(stderr, "readflood: %zu + 2 x %zu statements signed in %.1f s\n", prefill, count,
            bench_now() - t0);
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/scitt-readflood-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        return 2;
    }
    /* latency with durable commits: a file system in memory would not say anything */
    if (bench_fs_record("readflood", dir, true) != 0) {
        sr_rm_tree(dir);
        return 1;
    }
    int port;
    pid_t pid = sr_start(bin, dir, &port, NULL);
    if (pid < 0) {
        fprintf(stderr, "readflood: cannot start %s\n", bin);
        return 2;
    }
    bool ok = true;
    /* the prefill: every statement once (a repeat would be a duplicate, not an entry) */
    hc_config pre = {0};
    pre.host = "127.0.0.1";
    pre.port = port;
    pre.connections = 32;
    pre.depth = 1;
    pre.duration_s = 600;
    pre.once = true;
    pre.requests = fill;
    pre.nrequests = prefill;
    hc_result r;
    t0 = bench_now();
    if (hc_run(&pre, &r) != 0 || r.good != prefill) {
        printf("error: prefill: %llu of %zu statements registered\n", (unsigned long long)r.good,
               prefill);
        ok = false;
    }
    fprintf(stderr, "readflood: %llu statements about one subject registered in %.1f s\n",
            (unsigned long long)r.good, bench_now() - t0);
    static const char query[] = "GET /query?sub=pkg:flood&iss=https%3A%2F%2Fnobody.example"
                                "&limit=1000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    hc_request q = {query, sizeof(query) - 1};
    hc_result a, b;
    flood f = {0};
    ok = ok && registrations("alone", port, rate, seconds, alone, (const uint8_t(*)[32])leaves,
                             count, &a);
    if (ok) {
        f.cfg.host = "127.0.0.1";
        f.cfg.port = port;
        f.cfg.connections = flood_conns;
        f.cfg.depth = 1;
        f.cfg.warmup_s = 0.5; /* the flood is on before registrations are measured */
        f.cfg.duration_s = seconds + 1;
        f.cfg.requests = &q;
        f.cfg.nrequests = 1;
        pthread_t t;
        pthread_create(&t, NULL, flood_main, &f);
        usleep(500000);
        ok = registrations("query_flood", port, rate, seconds, beside,
                           (const uint8_t(*)[32])(leaves + count), count, &b);
        pthread_join(t, NULL);
        /* The flood's answers are 200 or, when the costly queue is full, 503: both are right. */
        bench_print("offered_rate", rate, "/s");
        bench_print("registration_p50_alone", a.p50_us / 1000, "ms");
        bench_print("registration_p99_alone", a.p99_us / 1000, "ms");
        bench_print("registration_p50_query_flood", b.p50_us / 1000, "ms");
        bench_print("registration_p99_query_flood", b.p99_us / 1000, "ms");
        bench_print("ratio registration_p99 flood/alone", b.p99_us / a.p99_us, "");
        bench_print("unanswered_alone", (double)a.unanswered, "");
        bench_print("unanswered_query_flood", (double)b.unanswered, "");
        bench_print("queries_per_s", f.res.rps, "/s");
        bench_print("queries_refused", (double)f.res.non2xx, "");
        bench_print("entries_per_query", (double)prefill, "");
        if (f.rc != 0 || f.res.completed == 0) {
            printf("error: flood: no query was answered (%llu connection errors)\n",
                   (unsigned long long)f.res.errors);
            ok = false;
        }
    }
    sr_stop(pid);
    if (sr_rm_tree(dir) != 0) {
        fprintf(stderr, "readflood: could not remove %s\n", dir);
    }
    sr_requests_free(fill, prefill);
    sr_requests_free(alone, count);
    sr_requests_free(beside, count);
    sr_fleet_free(fleet);
    free(leaves);
    return ok ? 0 : 1;
}
