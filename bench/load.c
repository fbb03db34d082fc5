/*
 * bench/load: registrations against a running scittd with durable commits.
 *
 * It starts scittd (virtual platform) on a temporary data directory, pre-signs distinct ES256
 * statements of ~1 KB (1,000 issuer keys, each with a self-signed certificate in x5chain, so the
 * server's key cache holds them all, as it would for a fleet of CI signers), and measures:
 *   ceiling_ecdsa_p256_verify: n /s   OpenSSL P-256 verifies per second, one thread per core at
 *                                     once, before and after the closed loop (the mean)
 *   registrations: n /s               201 responses with the receipt, closed loop
 *   latency_p50 / p99 / p999: x ms    at a fixed offered rate (5,000/s by default)
 *   ratio registrations/ceiling: x
 * The load client runs on the same machine and shares its cores with the server.
 * Usage: load [--scittd PATH] [--rate N] [--seconds S] [--connections C] [--keep DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "bench.h"
#include "httpclient.h"
#include "stmt_util.h"

#define KEYS 1000

/* One thread's P-256 verifies per second over @p seconds. */
static void *ecdsa_thread(void *arg)
{
    double *rate = arg;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    uint8_t dgst[32] = {1}, sig[80];
    size_t siglen = sizeof(sig);
    EVP_PKEY_CTX *s = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_sign_init(s);
    EVP_PKEY_sign(s, sig, &siglen, dgst, sizeof(dgst));
    EVP_PKEY_CTX *v = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_verify_init(v);
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        for (int i = 0; i < 200; i++) {
            if (EVP_PKEY_verify(v, sig, siglen, dgst, sizeof(dgst)) != 1) {
                abort();
            }
        }
        n += 200;
        t = bench_now();
    } while (t - t0 < *rate);
    EVP_PKEY_CTX_free(s);
    EVP_PKEY_CTX_free(v);
    EVP_PKEY_free(k);
    *rate = (double)n / (t - t0);
    return NULL;
}

/*
 * The ceiling: P-256 verifies per second with one thread per core running at once, so that
 * whatever else the machine is doing lowers the ceiling as it lowers the server's share.
 */
static double ecdsa_ceiling(long cores)
{
    pthread_t th[64];
    double rate[64];
    long n = cores < 64 ? cores : 64;
    double sum = 0;
    for (long i = 0; i < n; i++) {
        rate[i] = 1.0; /* seconds in, verifies per second out */
        if (pthread_create(&th[i], NULL, ecdsa_thread, &rate[i]) != 0) {
            abort();
        }
    }
    for (long i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        sum += rate[i];
    }
    return sum;
}

/* Starts scittd; returns its pid and the port from its READY line. */
static pid_t start_scittd(const char *bin, const char *dir, int *port)
{
    int out[2];
    if (pipe(out) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(bin, bin, "--data", dir, "--listen", "127.0.0.1:0", "--print-ports", "--platform",
              "virtual", "--insecure-virtual", "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[256];
    size_t n = 0;
    while (n < sizeof(line) - 1) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n') {
            break;
        }
        n++;
    }
    line[n] = 0;
    close(out[0]);
    if (sscanf(line, "READY port=%d", port) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

typedef struct signer {
    scitt_cose_key *key;
    uint8_t *cert;
    size_t cert_len;
} signer;

/* count distinct registration requests: ~1 KB statements, each from one of KEYS issuers. */
static hc_request *make_requests(size_t count, signer *signers)
{
    hc_request *reqs = calloc(count, sizeof(*reqs));
    char payload[640];
    for (size_t i = 0; i < count; i++) {
        signer *sg = &signers[i % KEYS];
        int pl = snprintf(payload, sizeof(payload), "{\"build\":%zu,\"artifact\":\"", i);
        while (pl < (int)sizeof(payload) - 3) {
            payload[pl] = (char)('a' + (i + (size_t)pl) % 26);
            pl++;
        }
        payload[pl++] = '"';
        payload[pl++] = '}';
        char sub[64];
        snprintf(sub, sizeof(sub), "pkg:oci/app-%zu", i % 5000);
        scitt_span chain = scitt_span_make(sg->cert, sg->cert_len);
        su_opts o = {0};
        o.iss = "https://ci.example/pipelines";
        o.sub = sub;
        o.x5chain = &chain;
        o.nx5chain = 1;
        o.content_type = "application/json";
        scitt_dynbuf st;
        scitt_dynbuf_init(&st, 0);
        if (su_statement(sg->key, &o, scitt_span_make(payload, (size_t)pl), &st) != SCITT_OK) {
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
        scitt_dynbuf_clear(&st);
    }
    return reqs;
}

int main(int argc, char **argv)
{
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
    double ceiling = ecdsa_ceiling(cores);

    /* Enough distinct statements for both phases at the rates this machine can reach. */
    size_t count = (size_t)((ceiling + rate) * (seconds + 2) * 1.2);
    signer *signers = calloc(KEYS, sizeof(*signers));
    int64_t now = (int64_t)time(NULL);
    for (size_t k = 0; k < KEYS; k++) {
        if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &signers[k].key) != SCITT_OK) {
            return 2;
        }
        EVP_PKEY *evp = su_evp(signers[k].key);
        char cn[32];
        snprintf(cn, sizeof(cn), "builder-%zu", k);
        X509 *c = su_cert(evp, cn, NULL, NULL, false, now - 3600, now + 86400, NULL);
        scitt_span der = su_der(c);
        signers[k].cert = (uint8_t *)der.ptr;
        signers[k].cert_len = der.len;
        X509_free(c);
        EVP_PKEY_free(evp);
    }
    double t0 = bench_now();
    hc_request *reqs = make_requests(count, signers);
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
    pid_t pid = start_scittd(bin, dir, &port);
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
    int rc = hc_run(&cfg, &closed);
    if (rc == 0) {
        /* the ceiling again right after the closed loop: the figure is the mean of both */
        double after = ecdsa_ceiling(cores);
        bench_print("ceiling_before", ceiling, "/s");
        bench_print("ceiling_after", after, "/s");
        ceiling = (ceiling + after) / 2;
        bench_print("ceiling_ecdsa_p256_verify", ceiling, "/s");
        bench_print("registrations", closed.rps, "/s");
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
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "load: could not remove %s\n", dir);
        }
    }
    return rc;
}
