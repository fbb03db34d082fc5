/* What the benchmarks that drive a real scittd share (bench/scittd_run.h). */
#include "scittd_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "bench.h"
#include "stmt_util.h"

/* One thread's P-256 verifies per second: *arg is the seconds to run in, the rate out. */
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

double sr_ecdsa_ceiling(long threads)
{
    pthread_t th[64];
    double rate[64];
    long n = threads < 1 ? 1 : threads < 64 ? threads : 64;
    double sum = 0;
    for (long i = 0; i < n; i++) {
        rate[i] = 1.0;
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

pid_t sr_start(const char *bin, const char *dir, int *port, double *ready_s)
{
    int out[2];
    if (pipe(out) != 0) {
        return -1;
    }
    double t0 = bench_now();
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
    if (ready_s) {
        *ready_s = bench_now() - t0;
    }
    if (sscanf(line, "READY port=%d", port) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

void sr_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

struct sr_fleet {
    size_t n;
    scitt_cose_key **keys;
    scitt_span *certs;
};

sr_fleet *sr_fleet_new(size_t keys)
{
    sr_fleet *f = calloc(1, sizeof(*f));
    f->n = keys;
    f->keys = calloc(keys, sizeof(*f->keys));
    f->certs = calloc(keys, sizeof(*f->certs));
    int64_t now = (int64_t)time(NULL);
    for (size_t k = 0; k < keys; k++) {
        if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &f->keys[k]) != SCITT_OK) {
            abort();
        }
        EVP_PKEY *evp = su_evp(f->keys[k]);
        char cn[32];
        snprintf(cn, sizeof(cn), "builder-%zu", k);
        X509 *c = su_cert(evp, cn, NULL, NULL, false, now - 3600, now + 30 * 86400, NULL);
        f->certs[k] = su_der(c);
        X509_free(c);
        EVP_PKEY_free(evp);
    }
    return f;
}

void sr_fleet_free(sr_fleet *f)
{
    if (!f) {
        return;
    }
    for (size_t k = 0; k < f->n; k++) {
        scitt_cose_key_free(f->keys[k]);
        OPENSSL_free((void *)f->certs[k].ptr);
    }
    free(f->keys);
    free(f->certs);
    free(f);
}

int sr_statement(const sr_fleet *f, uint64_t series, uint64_t i, scitt_dynbuf *out)
{
    char payload[640];
    int pl = snprintf(payload, sizeof(payload), "{\"series\":%llu,\"build\":%llu,\"artifact\":\"",
                      (unsigned long long)series, (unsigned long long)i);
    while (pl < (int)sizeof(payload) - 3) {
        payload[pl] = (char)('a' + (i + (uint64_t)pl) % 26);
        pl++;
    }
    payload[pl++] = '"';
    payload[pl++] = '}';
    char sub[64];
    snprintf(sub, sizeof(sub), "pkg:oci/app-%llu", (unsigned long long)(i % 5000));
    su_opts o = {0};
    o.iss = "https://ci.example/pipelines";
    o.sub = sub;
    o.x5chain = &f->certs[i % f->n];
    o.nx5chain = 1;
    o.content_type = "application/json";
    return su_statement(f->keys[i % f->n], &o, scitt_span_make(payload, (size_t)pl), out) ==
                   SCITT_OK
               ? 0
               : -1;
}

hc_request *sr_post_requests(const sr_fleet *f, uint64_t series, uint64_t first, size_t count)
{
    hc_request *reqs = calloc(count, sizeof(*reqs));
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    for (size_t i = 0; i < count; i++) {
        st.len = 0;
        if (sr_statement(f, series, first + i, &st) != 0) {
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
    return reqs;
}

hc_request *sr_get_requests(const char *prefix, const uint8_t (*ids)[32], size_t count)
{
    hc_request *reqs = calloc(count, sizeof(*reqs));
    for (size_t i = 0; i < count; i++) {
        char hex[65];
        for (size_t k = 0; k < 32; k++) {
            snprintf(hex + 2 * k, 3, "%02x", ids[i][k]);
        }
        char *req = malloc(256 + strlen(prefix));
        int n = sprintf(req, "GET %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", prefix, hex);
        reqs[i].bytes = req;
        reqs[i].len = (size_t)n;
    }
    return reqs;
}

void sr_requests_free(hc_request *reqs, size_t count)
{
    for (size_t i = 0; reqs && i < count; i++) {
        free((void *)reqs[i].bytes);
    }
    free(reqs);
}

/* Walks @p dir: removes (rm) or adds up allocated bytes into *bytes. */
static int walk(const char *dir, bool rm, uint64_t *bytes)
{
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            rc |= walk(p, rm, bytes);
        } else if (rm) {
            rc |= unlink(p);
        } else {
            *bytes += (uint64_t)st.st_blocks * 512;
        }
    }
    closedir(d);
    return rm ? rc | rmdir(dir) : rc;
}

int sr_rm_tree(const char *dir)
{
    return walk(dir, true, NULL);
}

uint64_t sr_disk_bytes(const char *dir)
{
    uint64_t b = 0;
    walk(dir, false, &b);
    return b;
}
